//! A minimal hub for driving `reconcile` step by step in tests: it applies the engine's actions
//! the way an API server would (generations bump on spec writes) and lets a test play the member
//! agents and the approvers by hand.
#![allow(dead_code)]

use std::collections::BTreeMap;

use staged_rollout::api::well_known::{self, condition_types as ct};
use staged_rollout::api::*;
use staged_rollout::{Action, Config, ObservedApproval, Outcome, World, reconcile};

pub fn t(secs: i64) -> Time {
    Time::from_unix_seconds(1_700_000_000 + secs)
}

pub fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub fn selector(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector { match_labels: Some(labels(pairs)), ..Default::default() }
}

pub fn cond(type_: &str, status: ConditionStatus, generation: i64, reason: &str) -> Condition {
    let mut c = Condition::new(type_, status, generation, reason, "");
    c.last_transition_time = Some(t(0));
    c
}

/// The hub of one placement.
pub struct Hub {
    pub world: World,
    pub namespace: String,
    pub placement: String,
    pub approvals: Vec<ObservedApproval>,
    pub deleted_bindings: Vec<String>,
}

impl Hub {
    /// A placement `placement` (External, PickAll) in `namespace` ("" = cluster-scoped) over
    /// `clusters`, scheduled on policy snapshot index 0, with resource snapshots 0..snapshots.
    pub fn new(namespace: &str, placement: &str, clusters: &[(&str, &[(&str, &str)])], snapshots: i64) -> Hub {
        let scope = if namespace.is_empty() { Scope::Cluster } else { Scope::Namespaced };
        let meta = |name: &str| {
            if namespace.is_empty() { ObjectMeta::named(name) } else { ObjectMeta::namespaced(namespace, name) }
        };
        let mut spec = PlacementSpec::default();
        spec.strategy.type_ = Some("External".into());
        let placement_obj = Placement::new(scope, meta(placement), spec);

        let policy_name = format!("{placement}-0");
        let mut pmeta = meta(&policy_name);
        pmeta.generation = Some(1);
        pmeta.set_label(well_known::PLACEMENT_TRACKING_LABEL, placement);
        pmeta.set_label(well_known::IS_LATEST_SNAPSHOT_LABEL, "true");
        pmeta.set_label(well_known::POLICY_INDEX_LABEL, "0");
        let policy = PolicySnapshot {
            api_version: API_VERSION.into(),
            kind: if namespace.is_empty() { "ClusterSchedulingPolicySnapshot" } else { "SchedulingPolicySnapshot" }
                .into(),
            metadata: pmeta,
            spec: Default::default(),
            status: Some(serde_json::from_value(serde_json::json!({
                "conditions": [{"type": "Scheduled", "status": "True", "observedGeneration": 1,
                                "lastTransitionTime": "2023-11-14T22:13:20Z", "reason": "Scheduled", "message": ""}]
            })).unwrap()),
            extra: Default::default(),
        };

        let resource_snapshots = (0..snapshots)
            .map(|i| {
                let mut m = meta(&well_known::resource_snapshot_name(placement, i));
                m.set_label(well_known::PLACEMENT_TRACKING_LABEL, placement);
                m.set_label(well_known::RESOURCE_INDEX_LABEL, i.to_string());
                m.set_label(well_known::IS_LATEST_SNAPSHOT_LABEL, (i == snapshots - 1).to_string());
                m.annotations = Some(labels(&[(well_known::RESOURCE_HASH_ANNOTATION, &format!("hash-{i}"))]));
                ResourceSnapshot {
                    api_version: API_VERSION.into(),
                    kind: if namespace.is_empty() { "ClusterResourceSnapshot" } else { "ResourceSnapshot" }.into(),
                    metadata: m,
                    spec: Default::default(),
                    extra: Default::default(),
                }
            })
            .collect();

        let mut hub = Hub {
            world: World {
                placement: Some(placement_obj),
                policy_snapshots: vec![policy],
                resource_snapshots,
                member_clusters: clusters.iter().map(|(n, l)| MemberCluster::new(*n, l.iter().copied())).collect(),
                ..World::default()
            },
            namespace: namespace.into(),
            placement: placement.into(),
            approvals: Vec::new(),
            deleted_bindings: Vec::new(),
        };
        for (name, _) in clusters {
            hub.schedule(name);
        }
        hub
    }

    pub fn binding_name(&self, cluster: &str) -> String {
        format!("{}-{cluster}", self.placement)
    }

    /// The scheduler picks `cluster`: a Scheduled binding on the latest policy snapshot.
    pub fn schedule(&mut self, cluster: &str) {
        let mut m = if self.namespace.is_empty() {
            ObjectMeta::named(self.binding_name(cluster))
        } else {
            ObjectMeta::namespaced(&self.namespace, self.binding_name(cluster))
        };
        m.generation = Some(1);
        m.set_label(well_known::PLACEMENT_TRACKING_LABEL, &self.placement);
        let spec: BindingSpec = serde_json::from_value(serde_json::json!({
            "state": "Scheduled",
            "resourceSnapshotName": "",
            "schedulingPolicySnapshotName": format!("{}-0", self.placement),
            "targetCluster": cluster,
            "clusterDecision": {"clusterName": cluster, "selected": true, "reason": "picked"},
        }))
        .unwrap();
        self.world.bindings.push(Binding {
            api_version: API_VERSION.into(),
            kind: if self.namespace.is_empty() { Binding::CLUSTER_KIND } else { Binding::NAMESPACED_KIND }.into(),
            metadata: m,
            spec,
            status: None,
            extra: Default::default(),
        });
    }

    pub fn binding(&self, cluster: &str) -> &Binding {
        self.world.bindings.iter().find(|b| b.spec.target_cluster == cluster).expect("binding")
    }

    pub fn binding_mut(&mut self, cluster: &str) -> &mut Binding {
        self.world.bindings.iter_mut().find(|b| b.spec.target_cluster == cluster).expect("binding")
    }

    /// The member agent reports the binding's current generation Available (or failed).
    pub fn report(&mut self, cluster: &str, type_: &str, status: ConditionStatus, reason: &str) {
        let b = self.binding_mut(cluster);
        let generation = b.metadata.generation();
        let conds = &mut b.status.get_or_insert_with(Default::default).conditions;
        set_condition(conds, Condition::new(type_, status, generation, reason, ""), t(0));
    }

    pub fn available(&mut self, cluster: &str) {
        self.report(cluster, ct::AVAILABLE, ConditionStatus::True, "AllWorkAreAvailable");
    }

    /// Somebody approves the request `name` (at its generation).
    pub fn approve(&mut self, name: &str) {
        let a = self.world.approval_requests.iter_mut().find(|a| a.metadata.name() == name).expect("approval request");
        let generation = a.metadata.generation();
        set_condition(&mut a.conditions, Condition::new(ct::APPROVED, ConditionStatus::True, generation, "lgtm", "lgtm"), t(0));
    }

    pub fn approval(&self, name: &str) -> Option<&ObservedApproval> {
        self.world.approval_requests.iter().find(|a| a.metadata.name() == name)
    }

    /// Applies actions as an API server would.
    pub fn apply(&mut self, actions: &[Action], run_meta: &mut ObjectMeta) {
        for action in actions {
            match action {
                Action::AddFinalizer { .. } => {
                    run_meta.finalizers.get_or_insert_with(Vec::new).push(well_known::UPDATE_RUN_FINALIZER.into())
                }
                Action::RemoveFinalizer { .. } => {
                    run_meta.finalizers.get_or_insert_with(Vec::new).retain(|f| f != well_known::UPDATE_RUN_FINALIZER)
                }
                Action::UpdateBinding { binding, spec, .. } => {
                    let b = self.world.bindings.iter_mut().find(|b| b.metadata.name() == binding.name).unwrap();
                    if b.spec != *spec {
                        b.spec = spec.clone();
                        b.metadata.generation = Some(b.metadata.generation() + 1);
                    }
                }
                Action::MarkBindingRolloutStarted { binding, condition, .. } => {
                    let b = self.world.bindings.iter_mut().find(|b| b.metadata.name() == binding.name).unwrap();
                    let mut c = condition.clone();
                    c.observed_generation = b.metadata.generation();
                    let conds = &mut b.status.get_or_insert_with(Default::default).conditions;
                    remove_condition(conds, ct::ROLLOUT_STARTED);
                    conds.push(c);
                }
                Action::CreateApprovalRequest { request } => {
                    assert!(self.approval(request.name()).is_none(), "duplicate approval request {}", request.name());
                    let mut metadata = request.metadata.clone();
                    metadata.generation = Some(1);
                    self.world.approval_requests.push(ObservedApproval {
                        metadata,
                        spec: request.spec.clone(),
                        conditions: Vec::new(),
                    });
                }
                Action::AcceptApprovalRequest { request, condition } => {
                    let a = self.world.approval_requests.iter_mut().find(|a| a.metadata.name() == request.name).unwrap();
                    set_condition(&mut a.conditions, condition.clone(), t(0));
                }
                Action::DeleteBinding { binding, .. } => {
                    self.world.bindings.retain(|b| b.metadata.name() != binding.name);
                    self.deleted_bindings.push(binding.name.clone());
                }
                Action::DeleteApprovalRequests { labels, .. } => {
                    self.world.approval_requests.retain(|a| {
                        !labels.iter().all(|(k, v)| a.metadata.label(k) == Some(v.as_str()))
                    });
                }
                other => panic!("unexpected action {other:?}"),
            }
        }
    }
}

/// A run under test plus its hub.
pub struct Driver<R: UpdateRunObject> {
    pub hub: Hub,
    pub run: R,
    pub config: Config,
    pub log: Vec<String>,
}

impl<R: UpdateRunObject> Driver<R> {
    /// One reconcile at `now`: apply the actions, persist the status.
    pub fn step(&mut self, now: Time) -> Outcome {
        let outcome = reconcile(&self.run, &self.hub.world, now, &self.config).expect("reconcile");
        self.hub.apply(&outcome.actions, self.run.metadata_mut());
        if outcome.status_changed {
            self.run.set_status(outcome.status.clone());
        }
        for a in &outcome.actions {
            self.log.push(format!("{} {}", a.name(), a.target().map(|t| t.name.clone()).unwrap_or_default()));
        }
        outcome
    }

    pub fn status(&self) -> &UpdateRunStatus {
        self.run.status().expect("status")
    }

    pub fn stage(&self, name: &str) -> &StageUpdatingStatus {
        self.status().stages_status.iter().find(|s| s.stage_name == name).expect("stage")
    }
}

/// `(type, status, reason)` of each condition, for compact assertions.
pub fn conds(c: &[Condition]) -> Vec<(String, String, String)> {
    c.iter().map(|c| (c.type_.clone(), c.status.to_string(), c.reason.clone())).collect()
}

pub fn cluster_names(stage: &StageUpdatingStatus) -> Vec<&str> {
    stage.clusters.iter().map(|c| c.cluster_name.as_str()).collect()
}

/// The seed's cluster-scoped strategy.
pub fn seed_strategy() -> UpdateStrategySpec {
    let mut staging = StageConfig::new("staging", selector(&[("environment", "staging")]));
    staging.after_stage_tasks = vec![StageTask::timed_wait(Duration::from_minutes(1))];
    let mut canary = StageConfig::new("canary", selector(&[("environment", "canary")]));
    canary.sorting_label_key = Some("order".into());
    canary.after_stage_tasks = vec![StageTask::approval()];
    UpdateStrategySpec { stages: vec![staging, canary], extra: Default::default() }
}

pub const SEED_CLUSTERS: &[(&str, &[(&str, &str)])] = &[
    ("member1", &[("environment", "canary"), ("order", "2")]),
    ("member2", &[("environment", "staging")]),
    ("member3", &[("environment", "canary"), ("order", "1")]),
];

pub fn cluster_run(name: &str, index: Option<&str>, state: Option<State>) -> ClusterStagedUpdateRun {
    let mut meta = ObjectMeta::named(name);
    meta.generation = Some(1);
    let mut spec = UpdateRunSpec::new("example-placement", index, "example-strategy");
    spec.state = state;
    ClusterStagedUpdateRun::new(meta, spec)
}

pub fn seed_driver(run: &str, index: &str, config: Config) -> Driver<ClusterStagedUpdateRun> {
    let mut hub = Hub::new("", "example-placement", SEED_CLUSTERS, 2);
    hub.world.strategy = Some(seed_strategy());
    Driver { hub, run: cluster_run(run, Some(index), None), config, log: Vec::new() }
}
