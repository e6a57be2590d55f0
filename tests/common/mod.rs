//! A tiny hub for driving `reconcile` step by step in integration tests.
//!
//! * [`Hub`] holds one placement's world. It applies the engine's actions the way an API server
//!   would (a spec write bumps a binding's generation, a created request starts at generation 1,
//!   a deleted binding with a finalizer lingers with a `deletionTimestamp`), and lets a test play
//!   the scheduler, the member agents and the approvers by hand.
//! * [`Driver`] is a run plus its hub: [`Driver::step`] reconciles once at a given instant,
//!   applies the actions and persists the status when it changed, as KubeFleet's controller would.
//! * [`C`] and the [`want`] module express conditions as `(type, status, reason, message)` so a
//!   test compares whole condition lists — order, reasons and messages verbatim — in one
//!   `assert_eq!`.
#![allow(dead_code, unused_imports, unused_macros)]

use std::collections::BTreeMap;
use std::sync::Arc;

pub use staged_rollout::api::well_known::{self, condition_types as ct, reasons};
pub use staged_rollout::api::*;
pub use staged_rollout::{
    Action, ClusterOverrides, Config, EngineError, NewApprovalRequest, ObjectRef, ObservedApproval, Outcome, Wake,
    WakeReason, World, reconcile,
};

// ----- KubeFleet's error prefixes (REFERENCE.md "Message prefixes") -----

/// `errStagedUpdatedAborted`.
pub const ABORT: &str = "cannot continue the updateRun: ";
/// `errValidationFailed`.
pub const VALFAIL: &str = "cannot continue the updateRun: failed to validate the updateRun: ";
/// `controller.ErrUserError`.
pub const USER: &str = "failed to process the request due to a client error: ";
/// `controller.ErrUnexpectedBehavior`.
pub const UNEXP: &str = "unexpected behavior which cannot be handled by the controller: ";

/// The placement every hub hosts, unless a test names another.
pub const PLACEMENT: &str = "crp";
/// The strategy every run names.
pub const STRATEGY: &str = "strategy";
/// The run's name.
pub const RUN: &str = "run";
/// The namespace of namespaced hubs.
pub const NS: &str = "team";

/// A fixed instant plus `secs` seconds. Tests speak in offsets from it.
pub fn t(secs: i64) -> Time {
    Time::from_unix_seconds(1_700_000_000 + secs)
}

pub fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A `matchLabels` selector.
pub fn selector(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector { match_labels: Some(labels(pairs)), ..Default::default() }
}

/// A stage selecting `group=<name>`, no tasks.
pub fn stage(name: &str) -> StageConfig {
    StageConfig::new(name, selector(&[("group", name)]))
}

/// A strategy of these stages.
pub fn strategy(stages: Vec<StageConfig>) -> UpdateStrategySpec {
    UpdateStrategySpec { stages, extra: Default::default() }
}

/// `(name, labels)` of member clusters, for [`Hub::new`].
pub type Members<'a> = &'a [(&'a str, &'a [(&'a str, &'a str)])];

// ----- the hub -----

/// The hub of one placement.
pub struct Hub {
    pub world: World,
    /// `""` for a cluster-scoped placement.
    pub namespace: String,
    pub placement: String,
    /// When set, a deleted binding keeps existing with a `deletionTimestamp` (a finalizer holds
    /// it) until [`Hub::finish_binding_deletions`].
    pub hold_binding_deletion: bool,
    /// Names of the bindings deleted so far, in order.
    pub deleted_bindings: Vec<String>,
}

impl Hub {
    /// A placement [`PLACEMENT`] (External, PickAll) in `namespace` (`""` = cluster-scoped) over
    /// `members`, all scheduled on policy snapshot index 0, with resource snapshots
    /// `0..snapshots` (hash `hash-<i>`, the last one latest).
    pub fn new(namespace: &str, members: Members<'_>, snapshots: i64) -> Hub {
        Hub::with_placement(namespace, PLACEMENT, members, snapshots)
    }

    pub fn with_placement(namespace: &str, placement: &str, members: Members<'_>, snapshots: i64) -> Hub {
        let mut hub = Hub {
            world: World::default(),
            namespace: namespace.into(),
            placement: placement.into(),
            hold_binding_deletion: false,
            deleted_bindings: Vec::new(),
        };
        let mut spec = PlacementSpec::default();
        spec.strategy.type_ = Some(RolloutStrategy::EXTERNAL.into());
        hub.world.placement = Some(Placement::new(hub.scope(), hub.meta(placement), spec));
        hub.add_policy_snapshot(0);
        for i in 0..snapshots {
            hub.add_resource_snapshot(i, &format!("hash-{i}"));
        }
        for (name, l) in members {
            hub.world.member_clusters.push(MemberCluster::new(*name, l.iter().copied()).into());
            hub.schedule(name);
        }
        hub
    }

    pub fn scope(&self) -> Scope {
        if self.namespace.is_empty() { Scope::Cluster } else { Scope::Namespaced }
    }

    /// Metadata of an object named `name` in the hub's namespace.
    pub fn meta(&self, name: &str) -> ObjectMeta {
        if self.namespace.is_empty() { ObjectMeta::named(name) } else { ObjectMeta::namespaced(&self.namespace, name) }
    }

    // ----- placement and policy -----

    pub fn placement_mut(&mut self) -> &mut Placement {
        self.world.placement.as_mut().expect("placement")
    }

    /// The name of the policy snapshot of `index`.
    pub fn policy_snapshot_name(&self, index: i64) -> String {
        well_known::policy_snapshot_name(&self.placement, index)
    }

    /// The scheduler takes a new policy snapshot `index` (scheduled, PickAll) and marks it the
    /// latest; existing bindings stay on the old one.
    pub fn add_policy_snapshot(&mut self, index: i64) {
        for s in &mut self.world.policy_snapshots {
            s.metadata.set_label(well_known::IS_LATEST_SNAPSHOT_LABEL, "false");
        }
        let mut m = self.meta(&self.policy_snapshot_name(index));
        m.generation = Some(1);
        m.set_label(well_known::PLACEMENT_TRACKING_LABEL, &self.placement);
        m.set_label(well_known::IS_LATEST_SNAPSHOT_LABEL, "true");
        m.set_label(well_known::POLICY_INDEX_LABEL, index.to_string());
        let kind = match self.scope() {
            Scope::Cluster => "ClusterSchedulingPolicySnapshot",
            Scope::Namespaced => "SchedulingPolicySnapshot",
        };
        let mut snapshot = PolicySnapshot {
            api_version: API_VERSION.into(),
            kind: kind.into(),
            metadata: m,
            spec: Default::default(),
            status: None,
            extra: Default::default(),
        };
        set_scheduled(&mut snapshot, ConditionStatus::True);
        self.world.policy_snapshots.push(snapshot);
    }

    /// The latest policy snapshot (the last one added).
    pub fn policy_snapshot_mut(&mut self) -> &mut PolicySnapshot {
        self.world.policy_snapshots.last_mut().expect("policy snapshot")
    }

    /// Sets the latest policy snapshot's policy to PickN with the `number-of-clusters`
    /// annotation (`None`: no annotation).
    pub fn pick_n(&mut self, annotation: Option<&str>) {
        let s = self.policy_snapshot_mut();
        s.spec.policy = Some(PlacementPolicy { placement_type: Some("PickN".into()), ..Default::default() });
        let annotations = s.metadata.annotations.get_or_insert_with(BTreeMap::new);
        annotations.remove(well_known::NUMBER_OF_CLUSTERS_ANNOTATION);
        if let Some(a) = annotation {
            annotations.insert(well_known::NUMBER_OF_CLUSTERS_ANNOTATION.into(), a.into());
        }
    }

    /// Sets the latest policy snapshot's policy to PickFixed over `names`.
    pub fn pick_fixed(&mut self, names: &[&str]) {
        self.policy_snapshot_mut().spec.policy = Some(PlacementPolicy {
            placement_type: Some("PickFixed".into()),
            cluster_names: names.iter().map(|n| n.to_string()).collect(),
            ..Default::default()
        });
    }

    // ----- resource snapshots -----

    /// A master resource snapshot of `index` carrying `hash`, now the latest.
    pub fn add_resource_snapshot(&mut self, index: i64, hash: &str) {
        for s in &mut self.world.resource_snapshots {
            s.metadata.set_label(well_known::IS_LATEST_SNAPSHOT_LABEL, "false");
        }
        let mut m = self.meta(&well_known::resource_snapshot_name(&self.placement, index));
        m.set_label(well_known::PLACEMENT_TRACKING_LABEL, &self.placement);
        m.set_label(well_known::RESOURCE_INDEX_LABEL, index.to_string());
        m.set_label(well_known::IS_LATEST_SNAPSHOT_LABEL, "true");
        m.annotations = Some(labels(&[(well_known::RESOURCE_HASH_ANNOTATION, hash)]));
        let kind = match self.scope() {
            Scope::Cluster => "ClusterResourceSnapshot",
            Scope::Namespaced => "ResourceSnapshot",
        };
        self.world.resource_snapshots.push(ResourceSnapshot {
            api_version: API_VERSION.into(),
            kind: kind.into(),
            metadata: m,
            spec: Default::default(),
            extra: Default::default(),
        });
    }

    // ----- member clusters -----

    pub fn add_member(&mut self, name: &str, l: &[(&str, &str)]) {
        self.world.member_clusters.push(MemberCluster::new(name, l.iter().copied()).into());
    }

    /// A member cluster joins with `l` and the scheduler picks it.
    pub fn join(&mut self, name: &str, l: &[(&str, &str)]) {
        self.add_member(name, l);
        self.schedule(name);
    }

    /// Replaces a member cluster's labels.
    pub fn relabel(&mut self, cluster: &str, l: &[(&str, &str)]) {
        let m = self
            .world
            .member_clusters
            .iter_mut()
            .find(|m| m.name() == cluster)
            .map(Arc::make_mut)
            .expect("member cluster");
        m.metadata.labels = Some(labels(l));
    }

    // ----- bindings -----

    pub fn binding_name(&self, cluster: &str) -> String {
        format!("{}-{cluster}", self.placement)
    }

    /// The scheduler picks `cluster`: a Scheduled binding on the latest policy snapshot.
    pub fn schedule(&mut self, cluster: &str) {
        let policy = self.world.policy_snapshots.last().expect("policy snapshot").metadata.name().to_owned();
        self.add_binding(cluster, &policy, BindingState::Scheduled);
    }

    /// A binding for `cluster` on policy snapshot `policy` in `state`.
    pub fn add_binding(&mut self, cluster: &str, policy: &str, state: BindingState) {
        let mut m = self.meta(&self.binding_name(cluster));
        m.generation = Some(1);
        m.set_label(well_known::PLACEMENT_TRACKING_LABEL, &self.placement);
        let spec: BindingSpec = serde_json::from_value(serde_json::json!({
            "state": state.as_str(),
            "resourceSnapshotName": "",
            "schedulingPolicySnapshotName": policy,
            "targetCluster": cluster,
            "clusterDecision": {"clusterName": cluster, "selected": true, "reason": "picked"},
        }))
        .unwrap();
        let kind = match self.scope() {
            Scope::Cluster => Binding::CLUSTER_KIND,
            Scope::Namespaced => Binding::NAMESPACED_KIND,
        };
        self.world.bindings.push(Arc::new(Binding {
            api_version: API_VERSION.into(),
            kind: kind.into(),
            metadata: m,
            spec,
            status: None,
            extra: Default::default(),
        }));
    }

    /// The scheduler drops `cluster`: its binding becomes Unscheduled (a spec write).
    pub fn unschedule(&mut self, cluster: &str) {
        self.write_binding_spec(cluster, |s| s.state = BindingState::Unscheduled);
    }

    /// Somebody else writes the binding's spec (the API server bumps its generation).
    pub fn write_binding_spec(&mut self, cluster: &str, edit: impl FnOnce(&mut BindingSpec)) {
        let b = self.binding_mut(cluster);
        edit(&mut b.spec);
        b.metadata.generation = Some(b.metadata.generation() + 1);
    }

    pub fn binding(&self, cluster: &str) -> &Binding {
        self.try_binding(cluster).unwrap_or_else(|| panic!("no binding for {cluster}"))
    }

    pub fn try_binding(&self, cluster: &str) -> Option<&Binding> {
        self.world.bindings.iter().find(|b| b.spec.target_cluster == cluster).map(|b| &**b)
    }

    /// The binding named `name`, to edit (copied first if an observation still shares it).
    fn binding_named_mut(&mut self, name: &str) -> &mut Binding {
        self.world.bindings.iter_mut().find(|b| b.metadata.name() == name).map(Arc::make_mut).expect("binding")
    }

    pub fn binding_mut(&mut self, cluster: &str) -> &mut Binding {
        self.world.bindings.iter_mut().find(|b| b.spec.target_cluster == cluster).map(Arc::make_mut).expect("binding")
    }

    /// A binding's condition of `type_`, if any.
    pub fn binding_condition(&self, cluster: &str, type_: &str) -> Option<&Condition> {
        find_condition(self.binding(cluster).conditions(), type_)
    }

    /// The member agent reports `type_` on the binding's current generation.
    pub fn report(&mut self, cluster: &str, type_: &str, status: ConditionStatus, reason: &str) {
        let b = self.binding_mut(cluster);
        let generation = b.metadata.generation();
        let conds = &mut b.status.get_or_insert_with(Default::default).conditions;
        set_condition(conds, Condition::new(type_, status, generation, reason, ""), t(0));
    }

    /// The member agent reports the binding's current generation Available.
    pub fn available(&mut self, cluster: &str) {
        self.report(cluster, ct::AVAILABLE, ConditionStatus::True, "AllWorkAreAvailable");
    }

    /// Bindings held by a finalizer finish deleting.
    pub fn finish_binding_deletions(&mut self) {
        self.world.bindings.retain(|b| !b.metadata.is_deleting());
    }

    // ----- approval requests -----

    pub fn approval(&self, name: &str) -> Option<&ObservedApproval> {
        self.world.approval_requests.iter().find(|a| a.metadata.name() == name)
    }

    pub fn approval_mut(&mut self, name: &str) -> &mut ObservedApproval {
        self.world.approval_requests.iter_mut().find(|a| a.metadata.name() == name).expect("approval request")
    }

    /// Somebody approves `name` at the request's generation.
    pub fn approve(&mut self, name: &str) {
        let generation = self.approval_mut(name).metadata.generation();
        self.approve_at(name, generation);
    }

    /// Somebody approves `name` with `observedGeneration` set to `observed` (0: unset).
    pub fn approve_at(&mut self, name: &str, observed: i64) {
        let a = self.approval_mut(name);
        let c = Condition::new(ct::APPROVED, ConditionStatus::True, observed, "lgtm", "lgtm");
        set_condition(&mut a.conditions, c, t(0));
    }

    /// Somebody flips `Approved` back to False.
    pub fn revoke(&mut self, name: &str) {
        let a = self.approval_mut(name);
        let generation = a.metadata.generation();
        let c = Condition::new(ct::APPROVED, ConditionStatus::False, generation, "changed my mind", "");
        set_condition(&mut a.conditions, c, t(0));
    }

    pub fn delete_approval(&mut self, name: &str) {
        self.world.approval_requests.retain(|a| a.metadata.name() != name);
    }

    // ----- the API server -----

    /// Applies actions as an API server would.
    pub fn apply(&mut self, actions: &[Action], run_meta: &mut ObjectMeta) {
        for action in actions {
            self.apply_one(action, run_meta);
        }
    }

    fn apply_one(&mut self, action: &Action, run_meta: &mut ObjectMeta) {
        match action {
            Action::AddFinalizer { .. } => {
                run_meta.finalizers.get_or_insert_with(Vec::new).push(well_known::UPDATE_RUN_FINALIZER.into())
            }
            Action::RemoveFinalizer { .. } => {
                run_meta.finalizers.get_or_insert_with(Vec::new).retain(|f| f != well_known::UPDATE_RUN_FINALIZER)
            }
            Action::UpdateBinding { binding, spec, .. } => {
                let b = self.binding_named_mut(&binding.name);
                if b.spec != *spec {
                    b.spec = spec.clone();
                    b.metadata.generation = Some(b.metadata.generation() + 1);
                }
            }
            Action::MarkBindingRolloutStarted { binding, condition, .. } => {
                let b = self.binding_named_mut(&binding.name);
                let mut c = condition.clone();
                c.observed_generation = b.metadata.generation();
                let conds = &mut b.status.get_or_insert_with(Default::default).conditions;
                remove_condition(conds, ct::ROLLOUT_STARTED);
                conds.push(c);
            }
            Action::CreateApprovalRequest { request } => {
                assert!(self.approval(request.name()).is_none(), "approval request {} exists", request.name());
                let mut metadata = request.metadata.clone();
                metadata.generation = Some(1);
                self.world.approval_requests.push(ObservedApproval {
                    metadata,
                    spec: request.spec.clone(),
                    conditions: Vec::new(),
                });
            }
            Action::AcceptApprovalRequest { request, condition } => {
                let a = self.approval_mut(&request.name);
                set_condition(&mut a.conditions, condition.clone(), t(0));
            }
            Action::DeleteBinding { binding, .. } => {
                self.deleted_bindings.push(binding.name.clone());
                if self.hold_binding_deletion {
                    let b = self.binding_named_mut(&binding.name);
                    b.metadata.deletion_timestamp.get_or_insert(t(0));
                } else {
                    self.world.bindings.retain(|b| b.metadata.name() != binding.name);
                }
            }
            Action::DeleteApprovalRequests { labels, .. } => {
                self.world
                    .approval_requests
                    .retain(|a| !labels.iter().all(|(k, v)| a.metadata.label(k) == Some(v.as_str())));
            }
            Action::CreateResourceSnapshot { index, resource_hash, .. } => {
                self.add_resource_snapshot(*index, resource_hash);
            }
            other => panic!("unexpected action {other:?}"),
        }
    }
}

/// Sets the `Scheduled` condition of a policy snapshot at its generation.
pub fn set_scheduled(snapshot: &mut PolicySnapshot, status: ConditionStatus) {
    let generation = snapshot.metadata.generation();
    let conds = &mut snapshot.status.get_or_insert_with(Default::default).conditions;
    set_condition(conds, Condition::new(ct::SCHEDULED, status, generation, "Scheduled", ""), t(0));
}

// ----- runs -----

/// What both run kinds offer a test beyond [`UpdateRunObject`].
pub trait TestRun: UpdateRunObject {
    fn spec_mut(&mut self) -> &mut UpdateRunSpec;
}

impl TestRun for ClusterStagedUpdateRun {
    fn spec_mut(&mut self) -> &mut UpdateRunSpec {
        &mut self.spec
    }
}

impl TestRun for StagedUpdateRun {
    fn spec_mut(&mut self) -> &mut UpdateRunSpec {
        &mut self.spec
    }
}

fn run_spec(index: Option<&str>, state: Option<State>) -> UpdateRunSpec {
    let mut spec = UpdateRunSpec::new(PLACEMENT, index, STRATEGY);
    spec.state = state;
    spec
}

/// A cluster-scoped run [`RUN`] of [`PLACEMENT`] at `index` following [`STRATEGY`], generation 1.
pub fn cluster_run(index: Option<&str>, state: Option<State>) -> ClusterStagedUpdateRun {
    let mut meta = ObjectMeta::named(RUN);
    meta.generation = Some(1);
    ClusterStagedUpdateRun::new(meta, run_spec(index, state))
}

/// A namespaced run [`RUN`] in [`NS`].
pub fn namespaced_run(index: Option<&str>, state: Option<State>) -> StagedUpdateRun {
    let mut meta = ObjectMeta::namespaced(NS, RUN);
    meta.generation = Some(1);
    StagedUpdateRun::new(meta, run_spec(index, state))
}

/// A run under test plus its hub.
pub struct Driver<R: TestRun> {
    pub hub: Hub,
    pub run: R,
    pub config: Config,
}

/// A cluster-scoped run at resource index `"0"` over `members` split by `strategy`.
pub fn cluster_driver(
    members: Members<'_>,
    strategy: UpdateStrategySpec,
    state: Option<State>,
) -> Driver<ClusterStagedUpdateRun> {
    let mut hub = Hub::new("", members, 1);
    hub.world.strategy = Some(strategy);
    Driver { hub, run: cluster_run(Some("0"), state), config: Config::default() }
}

/// A namespaced run in [`NS`] at resource index `"0"`.
pub fn namespaced_driver(
    members: Members<'_>,
    strategy: UpdateStrategySpec,
    state: Option<State>,
) -> Driver<StagedUpdateRun> {
    let mut hub = Hub::new(NS, members, 1);
    hub.world.strategy = Some(strategy);
    Driver { hub, run: namespaced_run(Some("0"), state), config: Config::default() }
}

impl<R: TestRun> Driver<R> {
    /// Reconciles without applying anything.
    pub fn reconcile(&self, now: Time) -> Outcome {
        reconcile(&self.run, &self.hub.world, now, &self.config).expect("reconcile")
    }

    /// One reconcile at `now`: apply the actions, persist the status when it changed.
    pub fn step(&mut self, now: Time) -> Outcome {
        let outcome = self.reconcile(now);
        self.hub.apply(&outcome.actions, self.run.metadata_mut());
        if outcome.status_changed {
            self.run.set_status(outcome.status.clone());
        }
        outcome
    }

    pub fn status(&self) -> &UpdateRunStatus {
        self.run.status().expect("status")
    }

    /// Edits the persisted status (a corrupted status, a status written by someone else).
    pub fn edit_status(&mut self, edit: impl FnOnce(&mut UpdateRunStatus)) {
        let mut s = self.run.status().cloned().unwrap_or_default();
        edit(&mut s);
        self.run.set_status(s);
    }

    pub fn stage(&self, name: &str) -> &StageUpdatingStatus {
        self.status().stages_status.iter().find(|s| s.stage_name == name).expect("stage")
    }

    pub fn deletion_stage(&self) -> &StageUpdatingStatus {
        self.status().deletion_stage_status.as_ref().expect("deletion stage")
    }

    pub fn cluster(&self, stage: &str, cluster: &str) -> &ClusterUpdatingStatus {
        self.stage(stage).clusters.iter().find(|c| c.cluster_name == cluster).expect("cluster")
    }

    /// The user edits the run's spec (the API server bumps its generation).
    pub fn edit_spec(&mut self, edit: impl FnOnce(&mut UpdateRunSpec)) {
        edit(self.run.spec_mut());
        self.bump_generation();
    }

    pub fn set_state(&mut self, state: State) {
        self.edit_spec(|s| s.state = Some(state));
    }

    pub fn bump_generation(&mut self) {
        let m = self.run.metadata_mut();
        m.generation = Some(m.generation() + 1);
    }

    pub fn generation(&self) -> i64 {
        self.run.metadata().generation()
    }
}

/// The names of a stage's clusters, in update order.
pub fn cluster_names(stage: &StageUpdatingStatus) -> Vec<&str> {
    stage.clusters.iter().map(|c| c.cluster_name.as_str()).collect()
}

// ----- conditions as data -----

/// A condition as tests compare it: type, status, reason and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C {
    pub type_: String,
    pub status: ConditionStatus,
    pub reason: String,
    pub message: String,
}

pub fn c(type_: &str, status: ConditionStatus, reason: &str, message: &str) -> C {
    C { type_: type_.into(), status, reason: reason.into(), message: message.into() }
}

/// The conditions as [`C`]s, in order.
pub fn got(conditions: &[Condition]) -> Vec<C> {
    conditions.iter().map(|x| c(&x.type_, x.status, &x.reason, &x.message)).collect()
}

/// Every condition KubeFleet writes, with its reason and message verbatim (REFERENCE.md table).
pub mod want {
    use super::{C, c, ct, reasons as r};
    use staged_rollout::api::ConditionStatus::{False, True, Unknown};

    pub fn initialized() -> C {
        c(ct::INITIALIZED, True, r::UPDATE_RUN_INITIALIZE_SUCCEEDED, "The UpdateRun initialized successfully")
    }
    pub fn init_failed(message: &str) -> C {
        c(ct::INITIALIZED, False, r::UPDATE_RUN_INITIALIZE_FAILED, message)
    }
    pub fn run_progressing() -> C {
        c(ct::PROGRESSING, True, r::UPDATE_RUN_PROGRESSING, "The update run is making progress")
    }
    /// `kind` is `before-stage` or `after-stage`.
    pub fn run_waiting(kind: &str, stage: &str) -> C {
        let m = format!("The updateRun is waiting for {kind} tasks in stage {stage} to complete");
        c(ct::PROGRESSING, False, r::UPDATE_RUN_WAITING, &m)
    }
    /// `clusters` as the message lists them (`a, b, c...`).
    pub fn run_stuck(clusters: &str, stage: &str) -> C {
        let m = format!(
            "The updateRun is stuck waiting for {clusters} cluster(s) in stage {stage} to finish updating, please check placement status for potential errors"
        );
        c(ct::PROGRESSING, False, r::UPDATE_RUN_STUCK, &m)
    }
    pub fn run_stopping() -> C {
        c(
            ct::PROGRESSING,
            Unknown,
            r::UPDATE_RUN_STOPPING,
            "The update run is the process of stopping, waiting for all the updating/deleting clusters to finish updating before completing the stop process",
        )
    }
    pub fn run_stopped() -> C {
        c(ct::PROGRESSING, False, r::UPDATE_RUN_STOPPED, "The update run has been stopped")
    }
    /// `Progressing` then `Succeeded`.
    pub fn run_succeeded() -> [C; 2] {
        [
            c(ct::PROGRESSING, False, r::UPDATE_RUN_SUCCEEDED, "All stages are completed"),
            c(ct::SUCCEEDED, True, r::UPDATE_RUN_SUCCEEDED, "All stages are completed successfully"),
        ]
    }
    /// `Progressing` then `Succeeded`.
    pub fn run_failed(message: &str) -> [C; 2] {
        [
            c(ct::PROGRESSING, False, r::UPDATE_RUN_FAILED, "The stages are aborted due to a non-recoverable error"),
            c(ct::SUCCEEDED, False, r::UPDATE_RUN_FAILED, message),
        ]
    }

    pub fn stage_started() -> C {
        c(ct::PROGRESSING, True, r::STAGE_UPDATING_STARTED, "Clusters in the stage started updating")
    }
    pub fn stage_waiting_before() -> C {
        c(
            ct::PROGRESSING,
            False,
            r::STAGE_UPDATING_WAITING,
            "Not all before-stage tasks are completed, waiting for approval",
        )
    }
    pub fn stage_waiting_after() -> C {
        c(
            ct::PROGRESSING,
            False,
            r::STAGE_UPDATING_WAITING,
            "All clusters in the stage are updated, waiting for after-stage tasks to complete",
        )
    }
    /// `Progressing` then `Succeeded`.
    pub fn stage_succeeded() -> [C; 2] {
        [
            c(
                ct::PROGRESSING,
                False,
                r::STAGE_UPDATING_SUCCEEDED,
                "All clusters in the stage are updated and after-stage tasks are completed",
            ),
            c(ct::SUCCEEDED, True, r::STAGE_UPDATING_SUCCEEDED, "Stage update completed successfully"),
        ]
    }
    pub fn stage_skipped() -> [C; 2] {
        let m = "Stage skipped because it has no clusters";
        [
            c(ct::PROGRESSING, False, r::STAGE_UPDATING_SKIPPED_NO_CLUSTERS, m),
            c(ct::SUCCEEDED, True, r::STAGE_UPDATING_SKIPPED_NO_CLUSTERS, m),
        ]
    }
    pub fn stage_failed(message: &str) -> [C; 2] {
        [
            c(ct::PROGRESSING, False, r::STAGE_UPDATING_FAILED, "Stage update aborted due to a non-recoverable error"),
            c(ct::SUCCEEDED, False, r::STAGE_UPDATING_FAILED, message),
        ]
    }
    pub fn stage_stopping() -> C {
        c(
            ct::PROGRESSING,
            Unknown,
            r::STAGE_UPDATING_STOPPING,
            "Waiting for all the updating clusters to finish updating before completing the stop process",
        )
    }
    pub fn stage_stopped() -> C {
        c(
            ct::PROGRESSING,
            False,
            r::STAGE_UPDATING_STOPPED,
            "All the updating clusters have finished updating, the stage is now stopped, waiting to be resumed",
        )
    }

    pub fn cluster_started() -> C {
        c(ct::STARTED, True, r::CLUSTER_UPDATING_STARTED, "Cluster update started")
    }
    pub fn cluster_succeeded() -> C {
        c(ct::SUCCEEDED, True, r::CLUSTER_UPDATING_SUCCEEDED, "Cluster update completed successfully")
    }
    pub fn cluster_failed(message: &str) -> C {
        c(ct::SUCCEEDED, False, r::CLUSTER_UPDATING_FAILED, message)
    }
    /// `Started` then `Succeeded`.
    pub fn cluster_done() -> [C; 2] {
        [cluster_started(), cluster_succeeded()]
    }

    pub fn task_created() -> C {
        c(
            ct::APPROVAL_REQUEST_CREATED,
            True,
            r::STAGE_TASK_APPROVAL_REQUEST_CREATED,
            "ApprovalRequest object is created",
        )
    }
    pub fn task_approved() -> C {
        c(
            ct::APPROVAL_REQUEST_APPROVED,
            True,
            r::STAGE_TASK_APPROVAL_REQUEST_APPROVED,
            "ApprovalRequest object is approved",
        )
    }
    pub fn task_wait_elapsed() -> C {
        c(ct::WAIT_TIME_ELAPSED, True, r::AFTER_STAGE_TASK_WAIT_TIME_ELAPSED, "Wait time elapsed")
    }
    pub fn approval_accepted() -> C {
        c(
            ct::APPROVAL_ACCEPTED,
            True,
            r::APPROVAL_REQUEST_APPROVAL_ACCEPTED,
            "The approval request has been approved and cannot be reverted",
        )
    }
}

/// Concatenates condition groups: `conds![want::initialized(), want::run_succeeded()]`.
macro_rules! conds {
    ($($x:expr),* $(,)?) => {{
        let mut v: Vec<$crate::common::C> = Vec::new();
        $( $crate::common::Extend::extend_into($x, &mut v); )*
        v
    }};
}

/// What [`conds!`] accepts: one condition or a fixed group of them.
pub trait Extend {
    fn extend_into(self, v: &mut Vec<C>);
}

impl Extend for C {
    fn extend_into(self, v: &mut Vec<C>) {
        v.push(self);
    }
}

impl<const N: usize> Extend for [C; N] {
    fn extend_into(self, v: &mut Vec<C>) {
        v.extend(self);
    }
}

// ----- actions -----

/// The kebab-case names of the actions, with their targets: `update-binding crp-a`.
pub fn action_log(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a.target() {
            Some(t) => format!("{} {}", a.name(), t.name),
            None => match a {
                Action::CreateApprovalRequest { request } => format!("{} {}", a.name(), request.name()),
                _ => a.name().to_owned(),
            },
        })
        .collect()
}

/// The binding specs the actions write, by cluster.
pub fn binding_writes(actions: &[Action]) -> Vec<(&str, &BindingSpec)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::UpdateBinding { cluster, spec, .. } => Some((cluster.as_str(), spec)),
            _ => None,
        })
        .collect()
}

/// Whether the wake is the "retry with backoff" kind, and its error.
pub fn retry_error(wake: &Wake) -> Option<&str> {
    match &wake.reason {
        WakeReason::Retry { error } => Some(error),
        _ => None,
    }
}

// ----- the seed how-to's fleet -----

/// The seed's cluster-scoped strategy: `staging` (TimedWait 1m) then `canary` (sorted by
/// `order`, Approval after).
pub fn seed_strategy() -> UpdateStrategySpec {
    let mut staging = StageConfig::new("staging", selector(&[("environment", "staging")]));
    staging.after_stage_tasks = vec![StageTask::timed_wait(Duration::from_minutes(1))];
    let mut canary = StageConfig::new("canary", selector(&[("environment", "canary")]));
    canary.sorting_label_key = Some("order".into());
    canary.after_stage_tasks = vec![StageTask::approval()];
    strategy(vec![staging, canary])
}

pub const SEED_CLUSTERS: Members<'static> = &[
    ("member1", &[("environment", "canary"), ("order", "2")]),
    ("member2", &[("environment", "staging")]),
    ("member3", &[("environment", "canary"), ("order", "1")]),
];
