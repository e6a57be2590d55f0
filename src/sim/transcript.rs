//! Transcripts: what happened in a simulation, as timestamped data.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::action::{Action, ObjectRef};
use crate::api::well_known::{condition_types as ct, reasons};
use crate::api::{
    ClusterUpdatingStatus, Condition, ConditionStatus, StageUpdatingStatus, State, Time, UpdateRunStatus,
    find_condition,
};
use crate::engine::FastMap;
use crate::world::ObservedApproval;

use super::faults::Fault;

/// Defines [`EventKind`] with its kebab-case wire names in one place.
macro_rules! event_kinds {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+ }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum $name { $( $(#[$vmeta])* $variant, )+ }

        impl $name {
            /// The kebab-case name, as in JSON.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $wire, )+ }
            }

            /// The kind named `name` (kebab-case).
            pub fn from_name(name: &str) -> Option<$name> {
                match name { $( $wire => Some($name::$variant), )+ _ => None }
            }
        }
    };
}

event_kinds! {
/// What happened. Serialized in kebab-case (`binding-updated`).
pub enum EventKind {
    // ----- the fleet -----
    /// A member cluster joined the fleet (`detail`: its labels).
    ClusterJoined = "cluster-joined",
    /// A member cluster left the fleet; its agent removed what it held.
    ClusterLeft = "cluster-left",
    /// A member cluster's labels changed (`detail`: the new labels).
    ClusterRelabelled = "cluster-relabelled",
    /// A member cluster's agent started failing (`detail`: the condition and reason it reports).
    ClusterFailing = "cluster-failing",
    /// A member cluster's agent recovered.
    ClusterHealed = "cluster-healed",
    // ----- hub objects -----
    /// A hub resource (Namespace, ConfigMap, Deployment, …) was created (`detail`: kind and name).
    ResourceCreated = "resource-created",
    /// A hub resource changed.
    ResourceUpdated = "resource-updated",
    /// A hub resource was deleted.
    ResourceDeleted = "resource-deleted",
    /// A placement was created.
    PlacementCreated = "placement-created",
    /// A placement's spec changed.
    PlacementUpdated = "placement-updated",
    /// A strategy was created or changed.
    StrategyApplied = "strategy-applied",
    /// The scheduler took a new scheduling policy snapshot (`detail`: its name).
    PolicySnapshotCreated = "policy-snapshot-created",
    /// A master resource snapshot was created (`snapshot`; `detail`: what it holds).
    SnapshotCreated = "snapshot-created",
    /// The scheduler created a binding, or re-selected an unscheduled one.
    BindingScheduled = "binding-scheduled",
    /// The scheduler marked a binding `Unscheduled`.
    BindingUnscheduled = "binding-unscheduled",
    // ----- runs: what the hub saw -----
    /// A run was created.
    RunCreated = "run-created",
    /// A run's spec changed (`detail`: its `state`).
    RunUpdated = "run-updated",
    /// A run's deletion was requested.
    RunDeleting = "run-deleting",
    /// A run is gone.
    RunDeleted = "run-deleted",
    /// A run's action wrote a binding's spec (`cluster`, `snapshot`, `stage`).
    BindingUpdated = "binding-updated",
    /// A run re-started the rollout of a binding whose spec was already right (its generation
    /// had moved on, say because the scheduler re-pointed it): `RolloutStarted` only (`cluster`,
    /// `snapshot`).
    RolloutStarted = "rollout-started",
    /// A binding was deleted and its cluster cleaned up (`cluster`).
    BindingDeleted = "binding-deleted",
    /// A run created an approval request (`approvalRequest`, `stage`).
    ApprovalRequested = "approval-requested",
    /// Someone approved a request (`approvalRequest`; `detail` says who).
    ApprovalGranted = "approval-granted",
    /// A run accepted an approval (`approvalRequest`).
    ApprovalAccepted = "approval-accepted",
    /// An approval request was deleted (`approvalRequest`).
    ApprovalDeleted = "approval-deleted",
    /// A member agent applied a snapshot and reported Applied and Available (`cluster`,
    /// `snapshot`; `detail`: what the cluster now holds from the placement).
    MemberApplied = "member-applied",
    /// A member agent reported a failure (`cluster`; `detail`: condition and reason).
    MemberFailed = "member-failed",
    /// A member agent under ReportDiff reported its diff (`cluster`, `snapshot`).
    MemberDiffReported = "member-diff-reported",
    // ----- runs: what the engine wrote into the status -----
    /// The run initialized (`snapshot`: the resource snapshot it rolls out).
    RunInitialized = "run-initialized",
    /// A stage started updating (`stage`).
    StageStarted = "stage-started",
    /// A stage's TimedWait elapsed (`stage`).
    WaitElapsed = "wait-elapsed",
    /// A cluster of a stage finished updating (`stage`, `cluster`).
    ClusterSucceeded = "cluster-succeeded",
    /// A cluster of a stage failed (`stage`, `cluster`, `detail`).
    ClusterUpdateFailed = "cluster-update-failed",
    /// A stage succeeded (`stage`).
    StageSucceeded = "stage-succeeded",
    /// A stage was skipped: it has no clusters (`stage`).
    StageSkipped = "stage-skipped",
    /// A stage failed (`stage`, `detail`).
    StageFailed = "stage-failed",
    /// A stage stopped (`stage`).
    StageStopped = "stage-stopped",
    /// The run is stuck (`detail`: the engine's message).
    RunStuck = "run-stuck",
    /// The run is stopping.
    RunStopping = "run-stopping",
    /// The run stopped.
    RunStopped = "run-stopped",
    /// The run is making progress again after being stopped or stuck.
    RunResumed = "run-resumed",
    /// The run succeeded.
    RunSucceeded = "run-succeeded",
    /// The run failed, at initialization or later (`detail`: the engine's message).
    RunFailed = "run-failed",
    // ----- the controller -----
    /// A reconcile ended with an error (`detail`); the run is retried.
    ReconcileError = "reconcile-error",
    /// A scripted fault was injected (`detail`).
    FaultInjected = "fault-injected",
}
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        EventKind::from_name(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown event kind `{s}`")))
    }
}

/// One thing that happened, at a simulated instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// When (simulated time, RFC 3339).
    pub at: Time,
    /// The run it concerns, if any (its name; see `namespace` for namespaced runs).
    pub run: Option<String>,
    /// What happened.
    pub event: EventKind,
    /// The namespace of the run or object, for namespaced ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The member cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// The approval request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_request: Option<String>,
    /// The resource snapshot (`<placement>-<index>-snapshot`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// Anything else worth knowing: a message, labels, a state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Event {
    /// An event of `kind` at `at`, about nothing in particular yet.
    pub fn new(at: Time, kind: EventKind) -> Event {
        Event {
            at,
            run: None,
            event: kind,
            namespace: None,
            stage: None,
            cluster: None,
            approval_request: None,
            snapshot: None,
            detail: None,
        }
    }

    pub(crate) fn run(mut self, namespace: &str, name: &str) -> Event {
        self.run = Some(name.to_owned());
        self.namespace = (!namespace.is_empty()).then(|| namespace.to_owned());
        self
    }

    pub(crate) fn namespace(mut self, namespace: &str) -> Event {
        self.namespace = (!namespace.is_empty()).then(|| namespace.to_owned());
        self
    }

    pub(crate) fn stage(mut self, stage: impl Into<String>) -> Event {
        self.stage = Some(stage.into());
        self
    }

    pub(crate) fn cluster(mut self, cluster: impl Into<String>) -> Event {
        self.cluster = Some(cluster.into());
        self
    }

    pub(crate) fn approval(mut self, name: impl Into<String>) -> Event {
        self.approval_request = Some(name.into());
        self
    }

    pub(crate) fn snapshot(mut self, name: impl Into<String>) -> Event {
        self.snapshot = Some(name.into());
        self
    }

    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Event {
        self.detail = Some(detail.into());
        self
    }
}

impl fmt::Display for Event {
    /// One line: `2025-03-12T10:10:00Z  example-run  stage-started  stage=staging`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let run = match (&self.namespace, &self.run) {
            (Some(ns), Some(r)) => format!("{ns}/{r}"),
            (_, Some(r)) => r.clone(),
            (_, None) => "-".to_owned(),
        };
        write!(f, "{}  {:<28} {:<22}", self.at, run, self.event)?;
        let fields = [
            ("stage", &self.stage),
            ("cluster", &self.cluster),
            ("approvalRequest", &self.approval_request),
            ("snapshot", &self.snapshot),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                write!(f, " {k}={v}")?;
            }
        }
        if let Some(d) = &self.detail {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

/// Everything a simulation produced: the events in order, and what each member cluster holds at
/// the end. Serializes as `{"events": [...], "members": {...}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// The events, in the order they happened.
    pub events: Vec<Event>,
    /// Each member cluster of the fleet, in name order, with the objects it holds (Kubernetes
    /// objects: `apiVersion`, `kind`, `metadata`, and `data` or `spec`).
    pub members: BTreeMap<String, Vec<serde_json::Value>>,
    /// Every reconcile, in order, when the simulation recorded them
    /// ([`Simulation::record_reconciles`](super::Simulation::record_reconciles)). Not serialized:
    /// it is for checkers in the same process, such as `staged_rollout::testing`.
    #[serde(skip)]
    pub reconciles: Vec<ReconcileRecord>,
}

/// One reconcile of one run by the simulated controller: what the engine saw, what it decided,
/// and what became of it. Recorded only when asked
/// ([`Simulation::record_reconciles`](super::Simulation::record_reconciles)).
#[derive(Clone, Debug, PartialEq)]
pub struct ReconcileRecord {
    /// The `now` the engine was given (the hub's clock plus any injected jitter).
    pub at: Time,
    /// The run.
    pub run: ObjectRef,
    /// The placement the run names.
    pub placement: String,
    /// The run's `metadata.generation` as observed.
    pub generation: i64,
    /// The run's `spec.state` as observed (`None`: unset).
    pub state: Option<State>,
    /// Whether the observed run was being deleted.
    pub deleting: bool,
    /// The status the engine started from (as observed, possibly stale).
    pub observed: Option<UpdateRunStatus>,
    /// The status the engine computed.
    pub status: UpdateRunStatus,
    /// Whether the engine asked for the status to be written.
    pub status_changed: bool,
    /// Every action the engine asked for, in order.
    pub actions: Vec<Action>,
    /// How many of them the fleet reported as carried out (the rest failed or were not tried).
    pub applied: usize,
    /// Whether the computed status was persisted.
    pub persisted: bool,
    /// The approval requests of the observed world.
    pub approvals: Vec<ObservedApproval>,
    /// The faults injected into this reconcile.
    pub faults: Vec<Fault>,
}

impl Transcript {
    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The events of one run, in order.
    pub fn events_of<'a>(&'a self, run: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
        self.events.iter().filter(move |e| e.run.as_deref() == Some(run))
    }
}

/// `(status, reason)` of a condition, for spotting transitions.
fn state(c: Option<&Condition>) -> Option<(ConditionStatus, &str)> {
    c.map(|c| (c.status, c.reason.as_str()))
}

/// Whether condition `type_` moved into a different `(status, reason)` between `old` and `new`;
/// returns the new condition if so.
fn entered<'a>(old: &[Condition], new: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    let n = find_condition(new, type_)?;
    (state(find_condition(old, type_)) != state(Some(n))).then_some(n)
}

/// The events a status write means: the transitions from `old` to `new`, in reading order (the
/// run's initialization, then each stage's, then the run's outcome).
pub(crate) fn status_events(
    old: Option<&UpdateRunStatus>,
    new: &UpdateRunStatus,
    at: Time,
    placement: &str,
) -> Vec<Event> {
    let empty = UpdateRunStatus::default();
    let old = old.unwrap_or(&empty);
    let mut out = Vec::new();
    if let Some(c) = entered(&old.conditions, &new.conditions, ct::INITIALIZED) {
        match c.status {
            ConditionStatus::True => {
                let mut e = Event::new(at, EventKind::RunInitialized);
                if let Ok(i) = new.resource_snapshot_index_used.parse::<i64>() {
                    e = e.snapshot(crate::api::well_known::resource_snapshot_name(placement, i));
                }
                out.push(e);
            }
            _ => out.push(Event::new(at, EventKind::RunFailed).detail(c.message.clone())),
        }
    }
    let stages = new.stages_status.iter().chain(new.deletion_stage_status.as_ref());
    for stage in stages {
        let before = old
            .stages_status
            .iter()
            .chain(old.deletion_stage_status.as_ref())
            .find(|s| s.stage_name == stage.stage_name);
        stage_events(before, stage, at, &mut out);
    }
    if let Some(c) = entered(&old.conditions, &new.conditions, ct::PROGRESSING) {
        let was = find_condition(&old.conditions, ct::PROGRESSING).map(|c| c.reason.as_str());
        match c.reason.as_str() {
            reasons::UPDATE_RUN_STUCK => out.push(Event::new(at, EventKind::RunStuck).detail(c.message.clone())),
            reasons::UPDATE_RUN_STOPPING => out.push(Event::new(at, EventKind::RunStopping)),
            reasons::UPDATE_RUN_STOPPED => out.push(Event::new(at, EventKind::RunStopped)),
            reasons::UPDATE_RUN_PROGRESSING | reasons::UPDATE_RUN_WAITING
                if matches!(
                    was,
                    Some(reasons::UPDATE_RUN_STUCK | reasons::UPDATE_RUN_STOPPING | reasons::UPDATE_RUN_STOPPED)
                ) =>
            {
                out.push(Event::new(at, EventKind::RunResumed))
            }
            _ => {}
        }
    }
    if let Some(c) = entered(&old.conditions, &new.conditions, ct::SUCCEEDED) {
        match c.status {
            ConditionStatus::True => out.push(Event::new(at, EventKind::RunSucceeded)),
            _ => out.push(Event::new(at, EventKind::RunFailed).detail(c.message.clone())),
        }
    }
    out
}

fn stage_events(old: Option<&StageUpdatingStatus>, new: &StageUpdatingStatus, at: Time, out: &mut Vec<Event>) {
    let name = new.stage_name.as_str();
    let no_conditions: &[Condition] = &[];
    let old_conds = old.map_or(no_conditions, |s| s.conditions.as_slice());
    // A stage starts before its clusters do, and stops after they finish.
    let mut stopped = None;
    if let Some(c) = entered(old_conds, &new.conditions, ct::PROGRESSING) {
        match (c.status, c.reason.as_str()) {
            (ConditionStatus::True, reasons::STAGE_UPDATING_STARTED) => {
                out.push(Event::new(at, EventKind::StageStarted).stage(name))
            }
            (ConditionStatus::False, reasons::STAGE_UPDATING_STOPPED) => {
                stopped = Some(Event::new(at, EventKind::StageStopped).stage(name))
            }
            _ => {}
        }
    }
    // Each new cluster entry is compared with its own old entry: the old entry of the same name
    // and the same occurrence (the second `member-1` with the second `member-1`; only a status the
    // engine rejects lists a name twice). When both list the same names in the same order — a
    // run's plan rarely changes — that is the entry at the same position; otherwise the entries
    // are found through a map built once (a stage may hold thousands of clusters).
    let old_list = old.map_or(&[][..], |s| s.clusters.as_slice());
    let same_order = old_list.len() == new.clusters.len()
        && old_list.iter().zip(&new.clusters).all(|(o, n)| o.cluster_name == n.cluster_name);
    // Each name's old entries, last first: a new entry takes the next one of its name.
    let mut old_by_name: FastMap<&str, Vec<&ClusterUpdatingStatus>> = FastMap::default();
    if !same_order {
        for c in old_list.iter().rev() {
            old_by_name.entry(c.cluster_name.as_str()).or_default().push(c);
        }
    }
    for (i, cluster) in new.clusters.iter().enumerate() {
        let before = if same_order {
            old_list.get(i)
        } else {
            old_by_name.get_mut(cluster.cluster_name.as_str()).and_then(Vec::pop)
        };
        let old_conds = before.map_or(no_conditions, |c| c.conditions.as_slice());
        if let Some(c) = entered(old_conds, &cluster.conditions, ct::SUCCEEDED) {
            let e = match c.status {
                ConditionStatus::True => Event::new(at, EventKind::ClusterSucceeded),
                _ => Event::new(at, EventKind::ClusterUpdateFailed).detail(c.message.clone()),
            };
            out.push(e.stage(name).cluster(cluster.cluster_name.clone()));
        }
    }
    out.extend(stopped);
    for (i, task) in new.after_stage_task_status.iter().enumerate() {
        let old_conds = old.and_then(|s| s.after_stage_task_status.get(i)).map_or(no_conditions, |t| &t.conditions);
        if entered(old_conds, &task.conditions, ct::WAIT_TIME_ELAPSED).is_some() {
            out.push(Event::new(at, EventKind::WaitElapsed).stage(name));
        }
    }
    if let Some(c) = entered(old_conds, &new.conditions, ct::SUCCEEDED) {
        let kind = match (c.status, c.reason.as_str()) {
            (ConditionStatus::True, reasons::STAGE_UPDATING_SKIPPED_NO_CLUSTERS) => EventKind::StageSkipped,
            (ConditionStatus::True, _) => EventKind::StageSucceeded,
            _ => EventKind::StageFailed,
        };
        let mut e = Event::new(at, kind).stage(name);
        if kind == EventKind::StageFailed {
            e = e.detail(c.message.clone());
        }
        out.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(name: &str, succeeded: bool) -> ClusterUpdatingStatus {
        let mut c = ClusterUpdatingStatus::new(name);
        if succeeded {
            c.conditions.push(Condition::new(ct::SUCCEEDED, ConditionStatus::True, 1, "ClusterUpdatingSucceeded", ""));
        }
        c
    }

    fn cluster_events(old: &[ClusterUpdatingStatus], new: &[ClusterUpdatingStatus]) -> Vec<(EventKind, String)> {
        let stage = |clusters: &[ClusterUpdatingStatus]| StageUpdatingStatus {
            stage_name: "staging".into(),
            clusters: clusters.to_vec(),
            ..Default::default()
        };
        let mut out = Vec::new();
        stage_events(Some(&stage(old)), &stage(new), Time::from_unix_seconds(0), &mut out);
        out.into_iter().map(|e| (e.event, e.cluster.unwrap_or_default())).collect()
    }

    /// A cluster entry is compared with its own previous entry, also when a (rejected) status
    /// lists a name twice: an unchanged stage reports nothing, whether the names line up or not.
    #[test]
    fn each_cluster_entry_is_compared_with_its_own_old_entry() {
        let old = [cluster("member-1", false), cluster("member-1", true)];
        assert_eq!(cluster_events(&old, &old), []);
        let grown = [cluster("member-1", false), cluster("member-1", true), cluster("member-2", false)];
        assert_eq!(cluster_events(&old, &grown), []);
        let reordered = [cluster("member-2", true), cluster("member-1", false), cluster("member-1", true)];
        assert_eq!(cluster_events(&old, &reordered), [(EventKind::ClusterSucceeded, "member-2".to_owned())]);
        let second_done = [cluster("member-1", false), cluster("member-1", true)];
        let first_done = [cluster("member-1", true), cluster("member-1", true)];
        assert_eq!(cluster_events(&second_done, &first_done), [(EventKind::ClusterSucceeded, "member-1".to_owned())]);
    }

    #[test]
    fn kinds_are_kebab_case() {
        assert_eq!(EventKind::BindingUpdated.to_string(), "binding-updated");
        assert_eq!(EventKind::RunSucceeded.as_str(), "run-succeeded");
        let e = Event::new(Time::from_unix_seconds(0), EventKind::StageStarted).stage("canary");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"at": "1970-01-01T00:00:00Z", "run": null, "event": "stage-started", "stage": "canary"})
        );
    }
}
