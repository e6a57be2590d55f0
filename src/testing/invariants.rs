//! The invariant checker: reads what a rollout did — reconcile records, persisted statuses, or a
//! simulator transcript — and reports every broken promise as a [`Violation`].

use std::collections::{BTreeMap, BTreeSet};

use crate::action::{Action, ObjectRef};
use crate::api::well_known::{self, condition_types as ct, reasons};
use crate::api::{
    ConditionStatus, Scope, StageTaskType, StageUpdatingStatus, State, Time, UpdateRunStatus, find_condition,
    max_concurrency,
};
use crate::sim::{EventKind, Fault, ReconcileRecord, Transcript};
use crate::world::ObservedApproval;

use super::bound::StepBound;
use super::violation::{Site, Violation};

/// What invariant 8 expects of a run: that it terminates — and, when `must_succeed`, succeeds —
/// within its [`StepBound`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Termination {
    /// Watch events the run receives besides its own progress (`e` in [`StepBound`]).
    pub external_events: usize,
    /// Whether the run must end `Succeeded` (healthy members, every approval granted, no
    /// contract-breaking fault).
    pub must_succeed: bool,
}

/// Checks rollouts against the invariants. [`Checker::default`] checks invariants 1–7 and 9;
/// [`Checker::expect_termination`] adds invariant 8.
#[derive(Clone, Debug, Default)]
pub struct Checker {
    termination: Option<Termination>,
}

impl Checker {
    /// A checker of invariants 1–7 and 9.
    pub fn new() -> Checker {
        Checker::default()
    }

    /// Also checks invariant 8: every run terminates within its [`StepBound`].
    pub fn expect_termination(mut self, termination: Termination) -> Checker {
        self.termination = Some(termination);
        self
    }

    /// Checks a simulator transcript: its [`reconciles`](Transcript::reconciles) when it has them
    /// (every invariant), and its events (invariants 4, 6 and 7 as far as events show them).
    pub fn check_transcript(&self, transcript: &Transcript) -> Vec<Violation> {
        let mut out = self.check_records(&transcript.reconciles);
        out.extend(check_events(transcript));
        out
    }

    /// Checks reconcile records of any number of runs, each run's in order.
    pub fn check_records(&self, records: &[ReconcileRecord]) -> Vec<Violation> {
        let mut by_run: BTreeMap<&ObjectRef, Vec<&ReconcileRecord>> = BTreeMap::new();
        for r in records {
            by_run.entry(&r.run).or_default().push(r);
        }
        let mut out = Vec::new();
        for (run, records) in by_run {
            let mut state = RunCheck::new(run, Some(records[0].placement.as_str()));
            for r in &records {
                let view = View {
                    at: r.at,
                    state: r.state.clone(),
                    deleting: r.deleting,
                    observed: r.observed.as_ref(),
                    status: &r.status,
                    actions: &r.actions,
                    persisted: r.persisted,
                    approvals: Some(&r.approvals),
                };
                state.check(&view, &mut out);
            }
            if let Some(t) = &self.termination {
                state.check_termination(&records, t, &mut out);
            }
        }
        dedup(out)
    }

    /// Checks the statuses a run went through, each with the time it was computed and the
    /// actions performed with it, in order — what a controller can log. `placement` (the run's
    /// `spec.placementName`) makes invariant 4 exact; without it only the snapshot index is
    /// compared. Invariant 9's approval counting and invariant 8 need
    /// [`ReconcileRecord`]s and are not checked here.
    pub fn check_statuses<I>(&self, run: &ObjectRef, placement: Option<&str>, statuses: I) -> Vec<Violation>
    where
        I: IntoIterator<Item = (Time, UpdateRunStatus, Vec<Action>)>,
    {
        let mut state = RunCheck::new(run, placement);
        let mut out = Vec::new();
        let mut previous: Option<UpdateRunStatus> = None;
        for (at, status, actions) in statuses {
            let view = View {
                at,
                state: None,
                deleting: false,
                observed: previous.as_ref(),
                status: &status,
                actions: &actions,
                persisted: true,
                approvals: None,
            };
            state.check(&view, &mut out);
            previous = Some(status);
        }
        dedup(out)
    }
}

/// [`Checker::check_transcript`] with invariants 1–7 and 9.
pub fn check_transcript(transcript: &Transcript) -> Vec<Violation> {
    Checker::new().check_transcript(transcript)
}

/// [`Checker::check_records`] with invariants 1–7 and 9.
pub fn check_records(records: &[ReconcileRecord]) -> Vec<Violation> {
    Checker::new().check_records(records)
}

/// [`Checker::check_statuses`] with invariants 1–7 and 9.
pub fn check_statuses<I>(run: &ObjectRef, placement: Option<&str>, statuses: I) -> Vec<Violation>
where
    I: IntoIterator<Item = (Time, UpdateRunStatus, Vec<Action>)>,
{
    Checker::new().check_statuses(run, placement, statuses)
}

fn dedup(violations: Vec<Violation>) -> Vec<Violation> {
    let mut seen = BTreeSet::new();
    violations.into_iter().filter(|v| seen.insert(v.to_string())).collect()
}

/// One reconcile (or status) as the checks read it.
struct View<'a> {
    at: Time,
    state: Option<State>,
    deleting: bool,
    observed: Option<&'a UpdateRunStatus>,
    status: &'a UpdateRunStatus,
    actions: &'a [Action],
    persisted: bool,
    approvals: Option<&'a [ObservedApproval]>,
}

fn is_true(conditions: &[crate::api::Condition], type_: &str) -> bool {
    find_condition(conditions, type_).is_some_and(|c| c.status == ConditionStatus::True)
}

fn is_false(conditions: &[crate::api::Condition], type_: &str) -> bool {
    find_condition(conditions, type_).is_some_and(|c| c.status == ConditionStatus::False)
}

fn task_done(task: &crate::api::StageTaskStatus) -> bool {
    match task.type_ {
        StageTaskType::Approval => is_true(&task.conditions, ct::APPROVAL_REQUEST_APPROVED),
        StageTaskType::TimedWait => is_true(&task.conditions, ct::WAIT_TIME_ELAPSED),
        _ => false,
    }
}

fn stages(status: &UpdateRunStatus) -> impl Iterator<Item = &StageUpdatingStatus> {
    status.stages_status.iter().chain(status.deletion_stage_status.as_ref())
}

fn stage_named<'a>(status: &'a UpdateRunStatus, name: &str) -> Option<&'a StageUpdatingStatus> {
    stages(status).find(|s| s.stage_name == name)
}

/// How the run ended, when it has: failed to initialize, succeeded or failed.
pub(crate) fn is_terminal(status: &UpdateRunStatus) -> Option<String> {
    if is_false(&status.conditions, ct::INITIALIZED) {
        return Some(format!("failed to initialize: {}", message(status, ct::INITIALIZED)));
    }
    match find_condition(&status.conditions, ct::SUCCEEDED).map(|c| c.status) {
        Some(ConditionStatus::True) => Some("succeeded".to_owned()),
        Some(ConditionStatus::False) => Some(format!("failed: {}", message(status, ct::SUCCEEDED))),
        _ => None,
    }
}

fn message(status: &UpdateRunStatus, type_: &str) -> String {
    find_condition(&status.conditions, type_).map(|c| c.message.clone()).unwrap_or_default()
}

/// The checks of one run, and what they remember between reconciles.
struct RunCheck {
    run: ObjectRef,
    label: String,
    placement: Option<String>,
    /// The last persisted status.
    persisted: Option<UpdateRunStatus>,
}

impl RunCheck {
    fn new(run: &ObjectRef, placement: Option<&str>) -> RunCheck {
        let label = if run.namespace.is_empty() { run.name.clone() } else { format!("{}/{}", run.namespace, run.name) };
        RunCheck {
            run: run.clone(),
            label,
            placement: placement.filter(|p| !p.is_empty()).map(str::to_owned),
            persisted: None,
        }
    }

    fn site(&self, at: Time, stage: Option<&str>, cluster: Option<&str>) -> Site {
        Site { run: self.label.clone(), stage: stage.map(str::to_owned), cluster: cluster.map(str::to_owned), at }
    }

    fn check(&mut self, v: &View<'_>, out: &mut Vec<Violation>) {
        self.stage_order(v, out);
        self.concurrency(v, out);
        self.timed_waits(v, out);
        self.snapshot(v, out);
        self.deletion(v, out);
        if let Some(old) = v.observed {
            self.regressions(v.at, old, v.status, "the engine's status", out);
        }
        if v.persisted {
            if let Some(old) = self.persisted.take() {
                self.regressions(v.at, &old, v.status, "the persisted status", out);
            }
            self.persisted = Some(v.status.clone());
        }
        self.stop(v, out);
        self.isolation(v, out);
    }

    // ----- invariant 1 -----

    /// What is still missing before the clusters of stage `k` may start, if anything.
    fn gate(status: &UpdateRunStatus, k: usize) -> Option<String> {
        for earlier in &status.stages_status[..k] {
            if !is_true(&earlier.conditions, ct::SUCCEEDED) {
                return Some(format!("stage {} succeeded", earlier.stage_name));
            }
            let skipped = find_condition(&earlier.conditions, ct::SUCCEEDED)
                .is_some_and(|c| c.reason == reasons::STAGE_UPDATING_SKIPPED_NO_CLUSTERS);
            if !skipped && let Some(t) = earlier.after_stage_task_status.iter().find(|t| !task_done(t)) {
                return Some(format!("the after-stage {} task of stage {} completed", t.type_, earlier.stage_name));
            }
        }
        let stage = &status.stages_status[k];
        if let Some(t) = stage.before_stage_task_status.iter().find(|t| !task_done(t)) {
            return Some(format!("the before-stage {} task of stage {} completed", t.type_, stage.stage_name));
        }
        None
    }

    fn stage_order(&self, v: &View<'_>, out: &mut Vec<Violation>) {
        let s = v.status;
        for (k, stage) in s.stages_status.iter().enumerate() {
            for c in &stage.clusters {
                if !is_true(&c.conditions, ct::STARTED) {
                    continue;
                }
                let was_started = v.observed.and_then(|o| stage_named(o, &stage.stage_name)).is_some_and(|o| {
                    o.clusters.iter().any(|x| x.cluster_name == c.cluster_name && is_true(&x.conditions, ct::STARTED))
                });
                if was_started {
                    continue;
                }
                if let Some(missing) = Self::gate(s, k) {
                    let site = self.site(v.at, Some(&stage.stage_name), Some(&c.cluster_name));
                    out.push(Violation::StartedEarly { site, missing });
                }
            }
        }
        for action in v.actions {
            let cluster = match action {
                Action::UpdateBinding { cluster, .. } | Action::MarkBindingRolloutStarted { cluster, .. } => cluster,
                _ => continue,
            };
            let found = s
                .stages_status
                .iter()
                .enumerate()
                .find(|(_, st)| st.clusters.iter().any(|c| c.cluster_name == *cluster));
            let Some((k, stage)) = found else {
                let site = self.site(v.at, None, Some(cluster));
                out.push(Violation::StartedEarly {
                    site,
                    missing: format!("{} of a cluster placed in a stage of the run", action.name()),
                });
                continue;
            };
            let site = self.site(v.at, Some(&stage.stage_name), Some(cluster));
            if let Some(missing) = Self::gate(s, k) {
                out.push(Violation::StartedEarly { site, missing });
            } else if !stage.clusters.iter().any(|c| c.cluster_name == *cluster && is_true(&c.conditions, ct::STARTED))
            {
                out.push(Violation::StartedEarly {
                    site,
                    missing: format!("the run recorded the cluster as started ({} without Started)", action.name()),
                });
            }
        }
    }

    // ----- invariant 2 -----

    fn concurrency(&self, v: &View<'_>, out: &mut Vec<Violation>) {
        let Some(snapshot) = &v.status.update_strategy_snapshot else { return };
        for (stage, config) in v.status.stages_status.iter().zip(&snapshot.stages) {
            let in_flight = stage
                .clusters
                .iter()
                .filter(|c| {
                    is_true(&c.conditions, ct::STARTED) && find_condition(&c.conditions, ct::SUCCEEDED).is_none()
                })
                .count();
            let Ok(max) = max_concurrency(config.max_concurrency.as_ref(), stage.clusters.len()) else { continue };
            if in_flight as i64 > max.max(1) {
                let site = self.site(v.at, Some(&stage.stage_name), None);
                out.push(Violation::TooManyInFlight { site, in_flight, max });
            }
        }
    }

    // ----- invariant 3 -----

    fn timed_waits(&self, v: &View<'_>, out: &mut Vec<Violation>) {
        let Some(snapshot) = &v.status.update_strategy_snapshot else { return };
        for (stage, config) in v.status.stages_status.iter().zip(&snapshot.stages) {
            let old = v.observed.and_then(|o| stage_named(o, &stage.stage_name));
            for (i, task) in stage.after_stage_task_status.iter().enumerate() {
                if task.type_ != StageTaskType::TimedWait || !is_true(&task.conditions, ct::WAIT_TIME_ELAPSED) {
                    continue;
                }
                if old
                    .and_then(|o| o.after_stage_task_status.get(i))
                    .is_some_and(|t| is_true(&t.conditions, ct::WAIT_TIME_ELAPSED))
                {
                    continue;
                }
                let Some(wait) = config.after_stage_tasks.get(i).and_then(|t| t.wait_time) else { continue };
                // The wait's clock starts no earlier than the last cluster's success, and is the
                // stage's Progressing transition in the status the engine started from.
                let mut start = stage
                    .clusters
                    .iter()
                    .filter_map(|c| find_condition(&c.conditions, ct::SUCCEEDED).and_then(|c| c.last_transition_time))
                    .max();
                if let Some(p) = old
                    .and_then(|o| find_condition(&o.conditions, ct::PROGRESSING))
                    .and_then(|c| c.last_transition_time)
                {
                    start = start.max(Some(p));
                }
                let Some(start) = start else { continue };
                let elapsed_at = find_condition(&task.conditions, ct::WAIT_TIME_ELAPSED)
                    .and_then(|c| c.last_transition_time)
                    .map_or(v.at, |t| t.min(v.at));
                if elapsed_at < start.add_ceil(wait) {
                    let site = self.site(v.at, Some(&stage.stage_name), None);
                    out.push(Violation::WaitCutShort {
                        site,
                        wait_secs: wait.as_secs_ceil(),
                        waited_secs: elapsed_at.since(start).as_secs_ceil(),
                    });
                }
            }
        }
    }

    // ----- invariant 4 -----

    fn snapshot(&self, v: &View<'_>, out: &mut Vec<Violation>) {
        // The snapshot the run binds, the same for every action of the step.
        let index = v.status.resource_snapshot_index_used.parse::<i64>().ok();
        let expected = match (&self.placement, index) {
            (Some(p), Some(i)) => Some(well_known::resource_snapshot_name(p, i)),
            _ => None,
        };
        for action in v.actions {
            let Action::UpdateBinding { cluster, spec, .. } = action else { continue };
            let ok = match (&expected, index) {
                (Some(e), _) => spec.resource_snapshot_name == *e,
                (None, Some(i)) => spec.resource_snapshot_name.ends_with(&format!("-{i}-snapshot")),
                (None, None) => false,
            };
            if !ok || spec.target_cluster != *cluster {
                let stage = v
                    .status
                    .stages_status
                    .iter()
                    .find(|s| s.clusters.iter().any(|c| c.cluster_name == *cluster))
                    .map(|s| s.stage_name.as_str());
                out.push(Violation::WrongSnapshot {
                    site: self.site(v.at, stage, Some(cluster)),
                    found: format!("{} (target {})", spec.resource_snapshot_name, spec.target_cluster),
                    expected: expected
                        .clone()
                        .unwrap_or_else(|| format!("snapshot index `{}`", v.status.resource_snapshot_index_used)),
                });
            }
        }
    }

    // ----- invariant 5 -----

    fn deletion(&self, v: &View<'_>, out: &mut Vec<Violation>) {
        for action in v.actions {
            let Action::DeleteBinding { cluster, .. } = action else { continue };
            let site = self.site(v.at, Some(well_known::DELETE_STAGE_NAME), Some(cluster));
            let reason = if let Some(s) = v.status.stages_status.iter().find(|s| !is_true(&s.conditions, ct::SUCCEEDED))
            {
                Some(format!("before stage {} succeeded", s.stage_name))
            } else if v.status.stages_status.iter().any(|s| s.clusters.iter().any(|c| c.cluster_name == *cluster)) {
                Some("although the cluster is still selected (it is in a stage)".to_owned())
            } else if !v
                .status
                .deletion_stage_status
                .as_ref()
                .is_some_and(|d| d.clusters.iter().any(|c| c.cluster_name == *cluster))
            {
                Some("although the cluster is not in the deletion stage".to_owned())
            } else {
                None
            };
            if let Some(reason) = reason {
                out.push(Violation::EarlyDeletion { site, reason });
            }
        }
    }

    // ----- invariant 6 -----

    fn regressions(
        &self,
        at: Time,
        old: &UpdateRunStatus,
        new: &UpdateRunStatus,
        whose: &str,
        out: &mut Vec<Violation>,
    ) {
        let mut push = |stage: Option<&str>, cluster: Option<&str>, what: String| {
            out.push(Violation::Regressed { site: self.site(at, stage, cluster), what: format!("{whose}: {what}") });
        };
        for type_ in [ct::INITIALIZED, ct::SUCCEEDED] {
            if let Some(c) = find_condition(&old.conditions, type_)
                && c.status != ConditionStatus::Unknown
                && find_condition(&new.conditions, type_).map(|n| n.status) != Some(c.status)
            {
                push(None, None, format!("the run's {type_}={} was lost", c.status));
            }
        }
        if !old.resource_snapshot_index_used.is_empty()
            && old.resource_snapshot_index_used != new.resource_snapshot_index_used
        {
            push(
                None,
                None,
                format!(
                    "resourceSnapshotIndexUsed changed from `{}` to `{}`",
                    old.resource_snapshot_index_used, new.resource_snapshot_index_used
                ),
            );
        }
        for o in stages(old) {
            let name = o.stage_name.as_str();
            let Some(n) = stage_named(new, name) else {
                push(Some(name), None, "the stage disappeared".to_owned());
                continue;
            };
            if o.start_time.is_some() && o.start_time != n.start_time {
                push(Some(name), None, format!("startTime changed from {:?} to {:?}", o.start_time, n.start_time));
            }
            if o.end_time.is_some() && o.end_time != n.end_time {
                push(Some(name), None, format!("endTime changed from {:?} to {:?}", o.end_time, n.end_time));
            }
            if is_true(&o.conditions, ct::SUCCEEDED) && !is_true(&n.conditions, ct::SUCCEEDED) {
                push(Some(name), None, "the stage is no longer Succeeded".to_owned());
            }
            for oc in &o.clusters {
                let cluster = Some(oc.cluster_name.as_str());
                let Some(nc) = n.clusters.iter().find(|c| c.cluster_name == oc.cluster_name) else {
                    push(Some(name), cluster, "the cluster disappeared from its stage".to_owned());
                    continue;
                };
                for type_ in [ct::STARTED, ct::SUCCEEDED] {
                    if let Some(c) = find_condition(&oc.conditions, type_)
                        && c.status != ConditionStatus::Unknown
                        && find_condition(&nc.conditions, type_).map(|x| x.status) != Some(c.status)
                    {
                        push(Some(name), cluster, format!("the cluster's {type_}={} was lost", c.status));
                    }
                }
            }
            for (which, olds, news) in [
                ("before", &o.before_stage_task_status, &n.before_stage_task_status),
                ("after", &o.after_stage_task_status, &n.after_stage_task_status),
            ] {
                for (i, ot) in olds.iter().enumerate() {
                    if task_done(ot) && !news.get(i).is_some_and(task_done) {
                        push(Some(name), None, format!("the {which}-stage {} task is no longer completed", ot.type_));
                    }
                }
            }
        }
    }

    // ----- invariant 7 -----

    fn stop(&self, v: &View<'_>, out: &mut Vec<Violation>) {
        if v.deleting {
            return;
        }
        let stopping = find_condition(&v.status.conditions, ct::PROGRESSING)
            .is_some_and(|c| c.reason == reasons::UPDATE_RUN_STOPPING || c.reason == reasons::UPDATE_RUN_STOPPED);
        if v.state != Some(State::Stop) && !stopping {
            return;
        }
        for action in v.actions {
            let (what, cluster) = match action {
                Action::UpdateBinding { cluster, .. } | Action::MarkBindingRolloutStarted { cluster, .. } => {
                    (action.name(), Some(cluster.as_str()))
                }
                Action::DeleteBinding { cluster, .. } => (action.name(), Some(cluster.as_str())),
                Action::AcceptApprovalRequest { request, .. } => {
                    out.push(Violation::ActedWhileStopped {
                        site: self.site(v.at, None, None),
                        what: format!("accept-approval-request {}", request.name),
                    });
                    continue;
                }
                _ => continue,
            };
            out.push(Violation::ActedWhileStopped { site: self.site(v.at, None, cluster), what: what.to_owned() });
        }
        let Some(old) = v.observed else { return };
        for stage in stages(v.status) {
            let o = stage_named(old, &stage.stage_name);
            for c in &stage.clusters {
                let was = o.is_some_and(|o| {
                    o.clusters.iter().any(|x| x.cluster_name == c.cluster_name && is_true(&x.conditions, ct::STARTED))
                });
                if is_true(&c.conditions, ct::STARTED) && !was {
                    out.push(Violation::ActedWhileStopped {
                        site: self.site(v.at, Some(&stage.stage_name), Some(&c.cluster_name)),
                        what: "the cluster started".to_owned(),
                    });
                }
            }
            for (which, tasks, old_tasks) in [
                ("before", &stage.before_stage_task_status, o.map(|o| &o.before_stage_task_status)),
                ("after", &stage.after_stage_task_status, o.map(|o| &o.after_stage_task_status)),
            ] {
                for (i, t) in tasks.iter().enumerate() {
                    let approved =
                        t.type_ == StageTaskType::Approval && is_true(&t.conditions, ct::APPROVAL_REQUEST_APPROVED);
                    let was = old_tasks
                        .and_then(|ts| ts.get(i))
                        .is_some_and(|t| is_true(&t.conditions, ct::APPROVAL_REQUEST_APPROVED));
                    if approved && !was {
                        out.push(Violation::ActedWhileStopped {
                            site: self.site(v.at, Some(&stage.stage_name), None),
                            what: format!("the {which}-stage approval {} was accepted", t.approval_request_name),
                        });
                    }
                }
            }
        }
    }

    // ----- invariant 9 -----

    fn isolation(&self, v: &View<'_>, out: &mut Vec<Violation>) {
        let ns = self.run.namespace.as_str();
        let scope = if ns.is_empty() { Scope::Cluster } else { Scope::Namespaced };
        let (binding_kind, approval_kind) = match scope {
            Scope::Cluster => ("ClusterResourceBinding", "ClusterApprovalRequest"),
            Scope::Namespaced => ("ResourceBinding", "ApprovalRequest"),
        };
        let mut trespass = |what: String| {
            out.push(Violation::Trespassed { site: self.site(v.at, None, None), what });
        };
        let own_requests: BTreeSet<&str> = stages(v.status)
            .flat_map(|s| s.before_stage_task_status.iter().chain(&s.after_stage_task_status))
            .map(|t| t.approval_request_name.as_str())
            .filter(|n| !n.is_empty())
            .collect();
        for action in v.actions {
            match action {
                Action::AddFinalizer { run, .. } | Action::RemoveFinalizer { run, .. } if *run != self.run => {
                    trespass(format!("{} on another run, {run}", action.name()))
                }
                Action::UpdateBinding { binding, .. }
                | Action::MarkBindingRolloutStarted { binding, .. }
                | Action::DeleteBinding { binding, .. }
                    if binding.namespace != ns || binding.kind != binding_kind =>
                {
                    trespass(format!("{} on {binding}", action.name()))
                }
                Action::AcceptApprovalRequest { request, .. } => {
                    if request.namespace != ns || request.kind != approval_kind {
                        trespass(format!("accepted {request}"));
                    } else if !own_requests.contains(request.name.as_str()) {
                        trespass(format!("accepted {request}, which none of its stage tasks names"));
                    }
                }
                Action::CreateApprovalRequest { request } => {
                    let r = request.object_ref();
                    if r.namespace != ns || r.kind != approval_kind || request.spec.target_update_run != self.run.name {
                        trespass(format!("created {r} for run {}", request.spec.target_update_run));
                    }
                }
                Action::DeleteApprovalRequests { kind, namespace, labels } => {
                    let target = labels.get(well_known::TARGET_UPDATE_RUN_LABEL).map(String::as_str);
                    if namespace != ns || kind != approval_kind || target != Some(self.run.name.as_str()) {
                        trespass(format!("deleted {kind}s in `{namespace}` labelled {labels:?}"));
                    }
                }
                Action::CreateResourceSnapshot { placement, .. } if placement.namespace != ns => {
                    trespass(format!("snapshotted {placement}"))
                }
                _ => {}
            }
        }
        // An approval counted must be this run's request for that stage, in its namespace.
        let Some(approvals) = v.approvals else { return };
        for stage in &v.status.stages_status {
            let old = v.observed.and_then(|o| stage_named(o, &stage.stage_name));
            for (tasks, old_tasks) in [
                (&stage.before_stage_task_status, old.map(|o| &o.before_stage_task_status)),
                (&stage.after_stage_task_status, old.map(|o| &o.after_stage_task_status)),
            ] {
                for (i, t) in tasks.iter().enumerate() {
                    if t.type_ != StageTaskType::Approval || !is_true(&t.conditions, ct::APPROVAL_REQUEST_APPROVED) {
                        continue;
                    }
                    if old_tasks
                        .and_then(|ts| ts.get(i))
                        .is_some_and(|t| is_true(&t.conditions, ct::APPROVAL_REQUEST_APPROVED))
                    {
                        continue;
                    }
                    let backed = approvals.iter().any(|a| {
                        a.metadata.namespace() == ns
                            && a.metadata.name() == t.approval_request_name
                            && a.spec.target_update_run == self.run.name
                            && a.spec.target_stage == stage.stage_name
                            && (is_true(&a.conditions, ct::APPROVED) || is_true(&a.conditions, ct::APPROVAL_ACCEPTED))
                    });
                    if !backed {
                        out.push(Violation::Trespassed {
                            site: self.site(v.at, Some(&stage.stage_name), None),
                            what: format!(
                                "counted approval request {} without an approved request of this run and stage in its namespace",
                                t.approval_request_name
                            ),
                        });
                    }
                }
            }
        }
    }

    // ----- invariant 8 -----

    fn check_termination(&self, records: &[&ReconcileRecord], t: &Termination, out: &mut Vec<Violation>) {
        let Some(last) = records.last() else { return };
        let mut state_changes = 0;
        let mut faults = 0;
        let mut ended = None;
        let mut bound = None;
        for (i, r) in records.iter().enumerate() {
            if i > 0 && records[i - 1].state != r.state {
                state_changes += 1;
            }
            faults += r.faults.len();
            if bound.is_none() {
                bound = StepBound::of_status(&r.status);
            }
            if r.persisted
                && let Some(how) = is_terminal(&r.status)
            {
                ended = Some((i + 1, how, r.at));
                break;
            }
        }
        let bound = bound
            .unwrap_or_else(|| StepBound::new(&Default::default(), &[], 0))
            .with_state_changes(state_changes)
            .with_external_events(t.external_events)
            .with_faults(faults)
            .steps();
        match ended {
            Some((steps, how, at)) => {
                let failed = t.must_succeed && how != "succeeded";
                if steps > bound || failed {
                    out.push(Violation::NotTerminated {
                        site: self.site(at, None, None),
                        steps,
                        bound,
                        ended: Some(how),
                    });
                }
            }
            None => out.push(Violation::NotTerminated {
                site: self.site(last.at, None, None),
                steps: records.len(),
                bound,
                ended: None,
            }),
        }
    }
}

// ----- events only -----

fn run_label(namespace: Option<&str>, run: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{run}"),
        None => run.to_owned(),
    }
}

/// The invariants a transcript's events show on their own: no cluster, stage or run succeeds
/// twice (6: these events come from persisted status transitions); every binding a run writes names the snapshot it
/// initialized with (4); no binding is written, no approval accepted and no binding deleted by a
/// run between its `state Stop` and `state Run` updates (7), unless a stale observation was
/// injected meanwhile.
fn check_events(transcript: &Transcript) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut seen: BTreeSet<(String, EventKind, String, String, String)> = BTreeSet::new();
    let mut snapshot: BTreeMap<String, String> = BTreeMap::new();
    let mut stopped: BTreeMap<String, bool> = BTreeMap::new();
    let mut stale: BTreeMap<String, bool> = BTreeMap::new();
    let mut pending: BTreeMap<String, Vec<Violation>> = BTreeMap::new();
    // Runs whose fleet broke its contract (an action acknowledged but lost, or reordered): a
    // `rollout-started` there may show a binding whose spec write never happened.
    let lied_to: BTreeSet<String> = transcript
        .events
        .iter()
        .filter(|e| e.event == EventKind::FaultInjected)
        .filter(|e| {
            let d = e.detail.as_deref();
            d == Some(Fault::LoseAction.describe()) || d == Some(Fault::ReorderActions.describe())
        })
        .filter_map(|e| e.run.as_ref().map(|r| run_label(e.namespace.as_deref(), r)))
        .collect();
    for e in &transcript.events {
        let Some(run) = &e.run else { continue };
        let label = run_label(e.namespace.as_deref(), run);
        let site = Site { run: label.clone(), stage: e.stage.clone(), cluster: e.cluster.clone(), at: e.at };
        let key = (
            label.clone(),
            e.event,
            e.stage.clone().unwrap_or_default(),
            e.cluster.clone().unwrap_or_default(),
            e.approval_request.clone().unwrap_or_default(),
        );
        match e.event {
            EventKind::ClusterSucceeded | EventKind::StageSucceeded | EventKind::RunSucceeded
                if !seen.insert(key.clone()) =>
            {
                out.push(Violation::Regressed { site: site.clone(), what: format!("`{}` recorded twice", e.event) });
            }
            EventKind::RunInitialized => {
                if let Some(s) = &e.snapshot {
                    snapshot.insert(label.clone(), s.clone());
                }
            }
            EventKind::RunUpdated => {
                let detail = e.detail.as_deref().unwrap_or("");
                if detail == "state Stop" {
                    stopped.insert(label.clone(), true);
                    stale.insert(label.clone(), false);
                } else if detail.starts_with("state ") {
                    stopped.insert(label.clone(), false);
                    if !stale.get(&label).copied().unwrap_or(false) {
                        out.extend(pending.remove(&label).unwrap_or_default());
                    }
                    pending.remove(&label);
                }
            }
            EventKind::FaultInjected if e.detail.as_deref().is_some_and(|d| d.starts_with("stale observation")) => {
                stale.insert(label.clone(), true);
            }
            _ => {}
        }
        let spec_written = e.event == EventKind::BindingUpdated;
        if spec_written || (e.event == EventKind::RolloutStarted && !lied_to.contains(&label)) {
            // An empty name is no snapshot at all: nothing was bound (an action reordered by a
            // fault marked the rollout started before the spec was written).
            if let (Some(want), Some(got)) = (snapshot.get(&label), &e.snapshot)
                && !got.is_empty()
                && want != got
            {
                out.push(Violation::WrongSnapshot { site: site.clone(), found: got.clone(), expected: want.clone() });
            }
        }
        let acting = matches!(
            e.event,
            EventKind::BindingUpdated
                | EventKind::RolloutStarted
                | EventKind::ApprovalAccepted
                | EventKind::StageStarted
        );
        if acting && stopped.get(&label).copied().unwrap_or(false) {
            pending
                .entry(label.clone())
                .or_default()
                .push(Violation::ActedWhileStopped { site, what: format!("`{}`", e.event) });
        }
    }
    for (label, v) in pending {
        if !stale.get(&label).copied().unwrap_or(false) {
            out.extend(v);
        }
    }
    out
}
