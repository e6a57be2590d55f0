//! A hub kept in memory for driving [`reconcile`](crate::reconcile) step by step, without the
//! simulator's clock and queues: the caller decides what happens next — a reconcile, a member
//! agent reporting, an approval, a Stop — which is what exhaustive exploration and fuzzing need.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use crate::action::{Action, ObjectRef};
use crate::api::well_known::{self, condition_types as ct};
use crate::api::{
    Binding, BindingState, Condition, ConditionStatus, Duration, MemberCluster, ObjectMeta, State, Time,
    UpdateStrategySpec, remove_condition, set_condition,
};
use crate::config::Config;
use crate::driver::UpdateRun;
use crate::engine::EngineError;
use crate::sim::ReconcileRecord;
use crate::wake::Wake;
use crate::world::{ObservedApproval, World};

use super::rollout::{PLACEMENT, STRATEGY};

/// Builds an API object from JSON this module wrote.
fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("a well-formed object")
}

/// A run, the world around it and a clock, changed only through the methods below. Actions are
/// applied as an API server would (a spec write bumps a binding's generation; a deleted binding
/// disappears at once; a created request starts at generation 1), and every reconcile is
/// recorded as a [`ReconcileRecord`] for the [`Checker`](super::Checker).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelHub {
    /// The run.
    pub run: UpdateRun,
    /// The hub around it.
    pub world: World,
    /// The current time.
    pub now: Time,
    /// The engine configuration.
    pub config: Config,
    /// The wake of the last reconcile.
    pub wake: Option<Wake>,
    /// Every reconcile so far.
    pub records: Vec<ReconcileRecord>,
}

impl ModelHub {
    /// A hub with a `PickAll` placement [`PLACEMENT`] (namespaced in `namespace` when given),
    /// its scheduled policy snapshot, resource snapshot 0, `strategy`, the member `clusters`
    /// (name and labels) each with a `Scheduled` binding, and a run `run` of snapshot 0 in
    /// `state`, at `start`.
    pub fn new(
        namespace: Option<&str>,
        strategy: UpdateStrategySpec,
        clusters: &[(String, BTreeMap<String, String>)],
        state: Option<State>,
        start: Time,
    ) -> ModelHub {
        let ns = namespace.unwrap_or("");
        let meta = |name: &str| {
            let mut m = json!({"name": name, "generation": 1,
                "labels": {well_known::PLACEMENT_TRACKING_LABEL: PLACEMENT}});
            if !ns.is_empty() {
                m["namespace"] = json!(ns);
            }
            m
        };
        let scoped =
            |cluster: &str, namespaced: &str| if ns.is_empty() { cluster.to_owned() } else { namespaced.to_owned() };
        let mut placement_meta = json!({"name": PLACEMENT, "generation": 1});
        if !ns.is_empty() {
            placement_meta["namespace"] = json!(ns);
        }
        let mut policy_meta = meta(&well_known::policy_snapshot_name(PLACEMENT, 0));
        policy_meta["labels"][well_known::IS_LATEST_SNAPSHOT_LABEL] = json!("true");
        policy_meta["labels"][well_known::POLICY_INDEX_LABEL] = json!("0");
        let mut snapshot_meta = meta(&well_known::resource_snapshot_name(PLACEMENT, 0));
        snapshot_meta["labels"][well_known::IS_LATEST_SNAPSHOT_LABEL] = json!("true");
        snapshot_meta["labels"][well_known::RESOURCE_INDEX_LABEL] = json!("0");
        snapshot_meta["annotations"] = json!({well_known::RESOURCE_HASH_ANNOTATION: "hash-0"});
        let mut world = World {
            placement: Some(from(json!({
                "apiVersion": crate::api::API_VERSION,
                "kind": scoped("ClusterResourcePlacement", "ResourcePlacement"),
                "metadata": placement_meta,
                "spec": {"policy": {"placementType": "PickAll"}, "strategy": {"type": "External"}}
            }))),
            strategy: Some(strategy),
            policy_snapshots: vec![from(json!({
                "apiVersion": crate::api::API_VERSION,
                "kind": scoped("ClusterSchedulingPolicySnapshot", "SchedulingPolicySnapshot"),
                "metadata": policy_meta,
                "status": {"conditions": [{"type": "Scheduled", "status": "True", "observedGeneration": 1,
                    "lastTransitionTime": start, "reason": "Scheduled", "message": ""}]}
            }))],
            resource_snapshots: vec![from(json!({
                "apiVersion": crate::api::API_VERSION,
                "kind": scoped("ClusterResourceSnapshot", "ResourceSnapshot"),
                "metadata": snapshot_meta,
            }))],
            ..World::default()
        };
        let mut run_meta = ObjectMeta::named("run");
        run_meta.generation = Some(1);
        let mut spec = crate::api::UpdateRunSpec::new(PLACEMENT, Some("0"), STRATEGY);
        spec.state = state;
        let run = if ns.is_empty() {
            UpdateRun::Cluster(crate::api::ClusterStagedUpdateRun::new(run_meta, spec))
        } else {
            run_meta.namespace = Some(ns.to_owned());
            UpdateRun::Namespaced(crate::api::StagedUpdateRun::new(run_meta, spec))
        };
        for (name, labels) in clusters {
            world.member_clusters.push(Arc::new(MemberCluster::new(name, labels.clone())));
            world.bindings.push(Arc::new(scheduled_binding(ns, name)));
        }
        ModelHub { run, world, now: start, config: Config::default(), wake: None, records: Vec::new() }
    }

    /// A member cluster joins with `labels` and the scheduler picks it (a `Scheduled` binding on
    /// the policy snapshot). Nothing happens for a cluster that is already a member, and a
    /// cluster that already has a binding gets no second one.
    pub fn join(&mut self, name: &str, labels: BTreeMap<String, String>) {
        if self.world.member_clusters.iter().any(|c| c.name() == name) {
            return;
        }
        self.world.member_clusters.push(Arc::new(MemberCluster::new(name, labels)));
        if self.binding_of(name).is_none() {
            let binding = scheduled_binding(self.run.metadata().namespace(), name);
            self.world.bindings.push(Arc::new(binding));
        }
    }

    /// The run's reference.
    pub fn run_ref(&self) -> ObjectRef {
        self.run.object_ref()
    }

    /// Reconciles once at [`ModelHub::now`]: applies every action, persists the status when it
    /// changed, records the reconcile and returns it.
    pub fn reconcile(&mut self) -> Result<&ReconcileRecord, EngineError> {
        let outcome = self.run.reconcile(&self.world, self.now, &self.config)?;
        let approvals = self.world.approval_requests.clone();
        Ok(self.carry_out(outcome, approvals))
    }

    /// Reconciles once against `observed` instead of this hub — a stale world, as a lagging
    /// informer cache serves it — and carries the outcome out on this hub, as
    /// [`ModelHub::reconcile`] does.
    pub fn reconcile_observing(&mut self, observed: &World) -> Result<&ReconcileRecord, EngineError> {
        let outcome = self.run.reconcile(observed, self.now, &self.config)?;
        Ok(self.carry_out(outcome, observed.approval_requests.clone()))
    }

    /// Applies every action, persists the status when it changed, and records the reconcile
    /// (`approvals`: the approval requests the engine saw).
    fn carry_out(&mut self, outcome: crate::Outcome, approvals: Vec<ObservedApproval>) -> &ReconcileRecord {
        let record = ReconcileRecord {
            at: self.now,
            run: self.run.object_ref(),
            placement: self.run.spec().placement_name.clone(),
            generation: self.run.metadata().generation(),
            state: self.run.spec().state.clone(),
            deleting: self.run.metadata().is_deleting(),
            observed: self.run.status().cloned(),
            status: outcome.status.clone(),
            status_changed: outcome.status_changed,
            actions: outcome.actions.clone(),
            applied: outcome.actions.len(),
            persisted: outcome.status_changed,
            approvals,
            faults: Vec::new(),
        };
        for action in &outcome.actions {
            self.apply(action);
        }
        if outcome.status_changed {
            self.run.set_status(outcome.status);
        }
        self.wake = Some(outcome.wake);
        self.records.push(record);
        self.records.last().expect("just pushed")
    }

    /// Carries out one action as an API server would.
    pub fn apply(&mut self, action: &Action) {
        let now = self.now;
        match action {
            Action::AddFinalizer { .. } => {
                let f = self.run.metadata_mut().finalizers.get_or_insert_with(Vec::new);
                if !f.iter().any(|x| x == well_known::UPDATE_RUN_FINALIZER) {
                    f.push(well_known::UPDATE_RUN_FINALIZER.into());
                }
            }
            Action::RemoveFinalizer { .. } => {
                if let Some(f) = self.run.metadata_mut().finalizers.as_mut() {
                    f.retain(|x| x != well_known::UPDATE_RUN_FINALIZER);
                }
            }
            Action::UpdateBinding { binding, spec, .. } => {
                if let Some(b) = self.binding_mut(&binding.name)
                    && b.spec != *spec
                {
                    b.spec = spec.clone();
                    b.metadata.generation = Some(b.metadata.generation() + 1);
                }
            }
            Action::MarkBindingRolloutStarted { binding, condition, .. } => {
                if let Some(b) = self.binding_mut(&binding.name) {
                    let mut c = condition.clone();
                    c.observed_generation = b.metadata.generation();
                    let conds = &mut b.status.get_or_insert_with(Default::default).conditions;
                    remove_condition(conds, ct::ROLLOUT_STARTED);
                    conds.push(c);
                }
            }
            Action::CreateApprovalRequest { request } if self.approval(request.name()).is_none() => {
                let mut metadata = request.metadata.clone();
                metadata.generation = Some(1);
                self.world.approval_requests.push(ObservedApproval {
                    metadata,
                    spec: request.spec.clone(),
                    conditions: Vec::new(),
                });
            }
            Action::AcceptApprovalRequest { request, condition } => {
                if let Some(a) = self.world.approval_requests.iter_mut().find(|a| a.metadata.name() == request.name) {
                    set_condition(&mut a.conditions, condition.clone(), now);
                }
            }
            Action::DeleteBinding { binding, .. } => self.world.bindings.retain(|b| b.metadata.name() != binding.name),
            Action::DeleteApprovalRequests { labels, .. } => self
                .world
                .approval_requests
                .retain(|a| !labels.iter().all(|(k, v)| a.metadata.label(k) == Some(v.as_str()))),
            // The model hub has every snapshot a run names; nothing else is asked for.
            _ => {}
        }
    }

    fn binding_mut(&mut self, name: &str) -> Option<&mut Binding> {
        self.world.bindings.iter_mut().find(|b| b.metadata.name() == name).map(Arc::make_mut)
    }

    fn binding_of(&self, cluster: &str) -> Option<&Binding> {
        self.world.bindings.iter().find(|b| b.spec.target_cluster == cluster).map(|b| &**b)
    }

    /// The approval request `name`.
    pub fn approval(&self, name: &str) -> Option<&ObservedApproval> {
        self.world.approval_requests.iter().find(|a| a.metadata.name() == name)
    }

    /// Clusters whose binding is bound with `RolloutStarted` at its generation and not yet
    /// reported: the member agents with work to finish.
    pub fn in_flight(&self) -> Vec<String> {
        self.world
            .bindings
            .iter()
            .filter(|b| {
                let g = b.metadata.generation();
                b.spec.state == BindingState::Bound
                    && crate::api::is_condition_true(b.conditions(), ct::ROLLOUT_STARTED, g)
                    && !b.conditions().iter().any(|c| c.type_ == ct::AVAILABLE && c.observed_generation == g)
            })
            .map(|b| b.spec.target_cluster.clone())
            .collect()
    }

    /// Requests not approved yet.
    pub fn pending_approvals(&self) -> Vec<String> {
        self.world
            .approval_requests
            .iter()
            .filter(|a| !a.conditions.iter().any(|c| c.type_ == ct::APPROVED && c.status == ConditionStatus::True))
            .map(|a| a.metadata.name().to_owned())
            .collect()
    }

    /// The member agent of `cluster` reports: `Available=True` at the binding's generation, or
    /// `Applied=False` with a terminal reason when `fail`. False when it has nothing to report.
    pub fn complete(&mut self, cluster: &str, fail: bool) -> bool {
        if !self.in_flight().iter().any(|c| c == cluster) {
            return false;
        }
        let now = self.now;
        let Some(name) = self.binding_of(cluster).map(|b| b.metadata.name().to_owned()) else { return false };
        let Some(b) = self.binding_mut(&name) else { return false };
        let g = b.metadata.generation();
        let conds = &mut b.status.get_or_insert_with(Default::default).conditions;
        let (t, s, r) = if fail {
            (ct::APPLIED, ConditionStatus::False, "NotAllWorkHaveBeenApplied")
        } else {
            (ct::AVAILABLE, ConditionStatus::True, "AllWorkAreAvailable")
        };
        set_condition(conds, Condition::new(t, s, g, r, ""), now);
        true
    }

    /// Somebody approves request `name` at its generation. False when there is no such pending
    /// request.
    pub fn approve(&mut self, name: &str) -> bool {
        let now = self.now;
        let Some(a) = self.world.approval_requests.iter_mut().find(|a| a.metadata.name() == name) else {
            return false;
        };
        let c = Condition::new(ct::APPROVED, ConditionStatus::True, a.metadata.generation(), "lgtm", "lgtm");
        set_condition(&mut a.conditions, c, now)
    }

    /// Somebody deletes request `name`.
    pub fn delete_approval(&mut self, name: &str) -> bool {
        let before = self.world.approval_requests.len();
        self.world.approval_requests.retain(|a| a.metadata.name() != name);
        before != self.world.approval_requests.len()
    }

    /// Sets `spec.state` (a spec write: the generation bumps). False when it already is.
    pub fn set_state(&mut self, state: State) -> bool {
        if self.run.spec().state.as_ref() == Some(&state) {
            return false;
        }
        self.run.spec_mut().state = Some(state);
        let meta = self.run.metadata_mut();
        meta.generation = Some(meta.generation() + 1);
        true
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&mut self, d: Duration) {
        self.now = self.now.add_ceil(d);
    }

    /// Whether the run reached a terminal status (initialization failed, succeeded or failed).
    pub fn is_terminal(&self) -> bool {
        self.run.status().is_some_and(|s| super::invariants::is_terminal(s).is_some())
    }
}

/// The binding KubeFleet's scheduler creates for `cluster`: `Scheduled` on the policy snapshot.
fn scheduled_binding(namespace: &str, cluster: &str) -> Binding {
    let mut metadata = json!({"name": format!("{PLACEMENT}-{cluster}"), "generation": 1,
        "labels": {well_known::PLACEMENT_TRACKING_LABEL: PLACEMENT}});
    if !namespace.is_empty() {
        metadata["namespace"] = json!(namespace);
    }
    from(json!({
        "apiVersion": crate::api::API_VERSION,
        "kind": if namespace.is_empty() { Binding::CLUSTER_KIND } else { Binding::NAMESPACED_KIND },
        "metadata": metadata,
        "spec": {"state": "Scheduled", "schedulingPolicySnapshotName": well_known::policy_snapshot_name(PLACEMENT, 0),
            "targetCluster": cluster}
    }))
}
