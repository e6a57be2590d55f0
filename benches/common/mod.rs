//! Fixtures shared by the benches: a hub of N member clusters with one placement, and a run
//! driven by the engine itself to the middle of its rollout.
//!
//! "Mid-rollout" means: the first `stages / 2` stages succeeded (every cluster in them carries
//! its `Started` and `Succeeded` conditions, every binding is `Bound` with the five conditions a
//! member agent reports), the current stage has run one batch of `maxConcurrency` clusters to
//! success and has the next batch in flight, and the first cluster of that batch has just
//! become available. The step measured is therefore a productive one: it marks that cluster
//! succeeded and starts the next one (an `UpdateBinding` and a `MarkBindingRolloutStarted`).
//!
//! The fixture is built by the engine, not by hand, so the status is exactly what the engine
//! writes (sizes included). To keep 100,000 clusters cheap, the finished stages are driven with
//! `maxConcurrency: 100%` and the strategy snapshot in the status is then set to the measured
//! `maxConcurrency` before the current stage starts; a finished stage's status does not depend
//! on its concurrency, so the result is the status a run of the measured strategy would have.
#![allow(dead_code)] // each bench binary uses a part of this module

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;
use staged_rollout::api::well_known::condition_types as ct;
use staged_rollout::api::{
    Binding, BindingStatus, ClusterStagedUpdateRun, Condition, ConditionStatus, IntOrString, MemberCluster, ObjectMeta,
    Placement, PlacementSpec, Scope, State, Time, UpdateRunSpec, UpdateRunStatus, UpdateStrategySpec,
    is_condition_true,
};
use staged_rollout::sim::{Scenario, Simulation, Wakeups};
use staged_rollout::{Action, Config, PlanCache, World, reconcile_in_place};

/// The placement every fixture rolls out.
pub const PLACEMENT: &str = "app";
/// The run's name.
pub const RUN: &str = "release-2";
/// When the fixture's rollout starts.
pub const START: i64 = 1_741_773_600; // 2025-03-12T10:00:00Z

/// A stage's `maxConcurrency`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Concurrency {
    /// `maxConcurrency: 1`: one cluster at a time.
    One,
    /// `maxConcurrency: "<n>%"`.
    Percent(u32),
}

impl Concurrency {
    pub fn value(self) -> IntOrString {
        match self {
            Concurrency::One => IntOrString::Int(1),
            Concurrency::Percent(p) => IntOrString::String(format!("{p}%")),
        }
    }

    /// A short label for bench ids: `mc1`, `mc25pct`.
    pub fn label(self) -> String {
        match self {
            Concurrency::One => "mc1".to_owned(),
            Concurrency::Percent(p) => format!("mc{p}pct"),
        }
    }

    /// The number of clusters in flight for a stage of `n` clusters, as the engine scales it.
    pub fn of(self, n: usize) -> usize {
        let scaled = staged_rollout::api::max_concurrency(Some(&self.value()), n).expect("a valid maxConcurrency");
        usize::try_from(scaled).expect("at least 1")
    }
}

/// The name of member cluster `i` (zero-padded, so name order is index order).
pub fn cluster_name(i: usize) -> String {
    format!("member-{i:06}")
}

/// The stage cluster `i` belongs to when `clusters` are spread round-robin over `stages`.
pub fn stage_of(i: usize, stages: usize) -> usize {
    i % stages
}

/// A hub of `clusters` member clusters, spread over `stages` stages by a `stage` label (plus a
/// `region` and an `environment` label, as a real fleet has), one `External` PickAll placement
/// with its snapshots, one `Scheduled` binding per cluster, and a strategy of `stages` stages
/// selecting by the `stage` label with the given `maxConcurrency`.
pub fn hub_world(clusters: usize, stages: usize, concurrency: IntOrString) -> World {
    let mut world = World::default();
    let mut spec = PlacementSpec::default();
    spec.strategy.type_ = Some("External".into());
    world.placement = Some(Placement::new(Scope::Cluster, ObjectMeta::named(PLACEMENT), spec));
    world.policy_snapshots.push(
        serde_json::from_value(json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
            "kind": "ClusterSchedulingPolicySnapshot",
            "metadata": {"name": format!("{PLACEMENT}-0"), "generation": 1, "labels": {
                "kubernetes-fleet.io/parent-CRP": PLACEMENT,
                "kubernetes-fleet.io/is-latest-snapshot": "true",
                "kubernetes-fleet.io/policy-index": "0"}},
            "spec": {"policy": {"placementType": "PickAll"}, "policyHash": "00ff"},
            "status": {"conditions": [{"type": "Scheduled", "status": "True", "observedGeneration": 1,
                "lastTransitionTime": "2025-03-12T09:00:00Z", "reason": "Scheduled", "message": "all clusters are scheduled"}]}
        }))
        .expect("policy snapshot"),
    );
    world.resource_snapshots.push(
        serde_json::from_value(json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
            "kind": "ClusterResourceSnapshot",
            "metadata": {"name": format!("{PLACEMENT}-1-snapshot"), "generation": 1, "labels": {
                "kubernetes-fleet.io/parent-CRP": PLACEMENT,
                "kubernetes-fleet.io/resource-index": "1",
                "kubernetes-fleet.io/is-latest-snapshot": "true"},
                "annotations": {"kubernetes-fleet.io/resource-hash": "8d5b2c0f",
                    "kubernetes-fleet.io/number-of-resource-snapshots": "1"}},
            "spec": {"selectedResources": []}
        }))
        .expect("resource snapshot"),
    );
    let template: Binding = serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
        "kind": "ClusterResourceBinding",
        "metadata": {"name": "", "generation": 1, "resourceVersion": "1",
            "labels": {"kubernetes-fleet.io/parent-CRP": PLACEMENT}},
        "spec": {"state": "Scheduled", "schedulingPolicySnapshotName": format!("{PLACEMENT}-0"), "targetCluster": "",
            "clusterDecision": {"clusterName": "", "selected": true, "reason": "picked by scheduling policy"}}
    }))
    .expect("binding");
    world.member_clusters.reserve(clusters);
    world.bindings.reserve(clusters);
    for i in 0..clusters {
        let name = cluster_name(i);
        let labels = [
            ("stage", format!("s{}", stage_of(i, stages))),
            ("region", ["eastus", "westeurope", "southeastasia", "westus2"][i % 4].to_owned()),
            ("environment", "production".to_owned()),
        ];
        world.member_clusters.push(MemberCluster::new(&name, labels).into());
        let mut b = template.clone();
        b.metadata.name = Some(format!("{PLACEMENT}-{name}"));
        if let Some(decision) = &mut b.spec.cluster_decision {
            decision.cluster_name.clone_from(&name);
        }
        b.spec.target_cluster = name;
        world.bindings.push(b.into());
    }
    world.strategy = Some(strategy(stages, concurrency));
    world
}

/// `stages` stages `s0`…, each selecting `stage=s<i>`.
pub fn strategy(stages: usize, concurrency: IntOrString) -> UpdateStrategySpec {
    let stages: Vec<_> = (0..stages)
        .map(|s| json!({"name": format!("s{s}"), "labelSelector": {"matchLabels": {"stage": format!("s{s}")}}}))
        .collect();
    let mut spec: UpdateStrategySpec = serde_json::from_value(json!({ "stages": stages })).expect("strategy");
    for s in &mut spec.stages {
        s.max_concurrency = Some(concurrency.clone());
    }
    spec
}

/// A run of snapshot 1 of the placement, in state `Run`, with its finalizer.
pub fn new_run() -> ClusterStagedUpdateRun {
    ClusterStagedUpdateRun::new(
        ObjectMeta {
            generation: Some(1),
            resource_version: Some("1".into()),
            finalizers: Some(vec!["kubernetes-fleet.io/stagedupdaterun-finalizer".into()]),
            ..ObjectMeta::named(RUN)
        },
        UpdateRunSpec { state: Some(State::Run), ..UpdateRunSpec::new(PLACEMENT, Some("1"), "by-stage") },
    )
}

/// Carries out the engine's actions on a [`World`] as an API server and the member agents would:
/// spec writes bump the binding's generation; a binding whose rollout started is reported
/// available (on the next [`Applier::report`]) with the conditions a member agent writes.
pub struct Applier {
    index: HashMap<String, usize>,
    /// Bindings whose rollout started and whose member has not reported yet.
    pub in_flight: Vec<usize>,
}

impl Applier {
    pub fn new(world: &World) -> Applier {
        let index = world.bindings.iter().enumerate().map(|(i, b)| (b.metadata.name().to_owned(), i)).collect();
        Applier { index, in_flight: Vec::new() }
    }

    pub fn apply(&mut self, world: &mut World, actions: &[Action]) {
        for action in actions {
            match action {
                Action::UpdateBinding { binding, spec, .. } => {
                    let b = Arc::make_mut(&mut world.bindings[self.index[&binding.name]]);
                    b.spec = spec.clone();
                    b.metadata.generation = Some(b.metadata.generation() + 1);
                }
                Action::MarkBindingRolloutStarted { binding, condition, .. } => {
                    let i = self.index[&binding.name];
                    let b = Arc::make_mut(&mut world.bindings[i]);
                    let mut c = condition.clone();
                    c.observed_generation = b.metadata.generation();
                    let status = b.status.get_or_insert_with(BindingStatus::default);
                    status.conditions.retain(|x| x.type_ != ct::ROLLOUT_STARTED);
                    status.conditions.push(c);
                    self.in_flight.push(i);
                }
                Action::AddFinalizer { .. } => {}
                other => panic!("unexpected action in the fixture: {other:?}"),
            }
        }
    }

    /// The member agents of the first `n` in-flight bindings report them applied and available.
    pub fn report(&mut self, world: &mut World, n: usize, now: Time) {
        let n = n.min(self.in_flight.len());
        for i in self.in_flight.drain(..n) {
            report_available(Arc::make_mut(&mut world.bindings[i]), now);
        }
    }
}

/// What a member agent writes on a binding it applied: `Overridden`, `WorkSynchronized`,
/// `Applied`, `Available`, all True at the binding's generation.
pub fn report_available(b: &mut Binding, now: Time) {
    let g = b.metadata.generation();
    let status = b.status.get_or_insert_with(BindingStatus::default);
    for (t, r) in [
        (ct::OVERRIDDEN, "NoOverrideSpecified"),
        (ct::WORK_SYNCHRONIZED, "AllWorkSynced"),
        (ct::APPLIED, "AllWorkHaveBeenApplied"),
        (ct::AVAILABLE, "AllWorkAreAvailable"),
    ] {
        status.conditions.retain(|c| c.type_ != t);
        let mut c = Condition::new(t, ConditionStatus::True, g, r, "");
        c.last_transition_time = Some(now);
        status.conditions.push(c);
    }
}

/// A run in the middle of its rollout, the world it sees, and the time of the measured step.
pub struct Fixture {
    pub clusters: usize,
    pub stages: usize,
    pub concurrency: Concurrency,
    pub run: ClusterStagedUpdateRun,
    pub world: World,
    pub now: Time,
    pub config: Config,
    /// The plan cache of the run's previous reconciles, warm.
    pub cache: PlanCache,
}

impl Fixture {
    /// The run's status.
    pub fn status(&self) -> &UpdateRunStatus {
        self.run.status.as_ref().expect("an initialized run has a status")
    }

    /// The run's status as the API server stores it (JSON).
    pub fn status_json(&self) -> String {
        serde_json::to_string(self.status()).expect("a status serializes")
    }

    /// `"10000x31/mc25pct"`.
    pub fn id(&self) -> String {
        format!("{}x{}/{}", self.clusters, self.stages, self.concurrency.label())
    }
}

fn succeeded_stages(status: &UpdateRunStatus) -> usize {
    status.stages_status.iter().filter(|s| is_condition_true(&s.conditions, ct::SUCCEEDED, 1)).count()
}

/// Builds the mid-rollout fixture described in the module docs.
pub fn mid_rollout(clusters: usize, stages: usize, concurrency: Concurrency) -> Fixture {
    let config = Config::default();
    let mut world = hub_world(clusters, stages, IntOrString::String("100%".into()));
    let mut applier = Applier::new(&world);
    let mut run = new_run();
    let mut now = Time::from_unix_seconds(START);
    // One plan cache for the whole run, as a controller keeps one: after the last step it holds
    // that step's plan and knows the version its status was written at, and the measured step
    // finds the bindings changed only by the actions and reports since.
    let mut cache = PlanCache::new();
    let mut step = |run: &mut ClusterStagedUpdateRun, world: &mut World, applier: &mut Applier, now: Time| {
        let outcome = cache.reconcile_in_place(run, world, now, &config).expect("the fixture's world is consistent");
        applier.apply(world, &outcome.actions);
        if outcome.status_changed {
            cache.persisted(&write(run));
        }
        assert!(!outcome.wake.is_idle(), "the fixture's run ended early: {:?}", outcome.wake.reason);
    };
    let half = stages / 2;
    // The finished stages, at 100 %: start every cluster of a stage, report them all, repeat.
    while succeeded_stages(run.status.as_ref().unwrap_or(&UpdateRunStatus::default())) < half {
        step(&mut run, &mut world, &mut applier, now);
        now = Time::from_unix_seconds(now.unix_seconds() + 1);
        let n = applier.in_flight.len();
        applier.report(&mut world, n, now);
    }
    // The strategy as measured, before the current stage starts.
    let status = run.status.as_mut().expect("initialized");
    for s in &mut status.update_strategy_snapshot.as_mut().expect("initialized").stages {
        s.max_concurrency = Some(concurrency.value());
    }
    world.strategy = Some(strategy(stages, concurrency.value()));
    write(&mut run);
    // The current stage: the first batch starts, succeeds; the second batch starts.
    step(&mut run, &mut world, &mut applier, now); // starts the stage's first batch
    now = Time::from_unix_seconds(now.unix_seconds() + 30);
    let n = applier.in_flight.len();
    applier.report(&mut world, n, now);
    step(&mut run, &mut world, &mut applier, now); // marks it succeeded, starts the second
    // The first cluster of the second batch has just become available.
    now = Time::from_unix_seconds(now.unix_seconds() + 30);
    applier.report(&mut world, 1, now);
    now = Time::from_unix_seconds(now.unix_seconds() + 1);
    Fixture { clusters, stages, concurrency, run, world, now, config, cache }
}

/// A write of the run, as an API server answers it: a new `resourceVersion`, returned.
fn write(run: &mut ClusterStagedUpdateRun) -> String {
    let version = run.metadata.resource_version.as_deref().map_or(0, |v| v.parse::<u64>().expect("a number")) + 1;
    run.metadata.resource_version = Some(version.to_string());
    version.to_string()
}

/// Drives a fixture's run to its end at 100 % concurrency (the largest status the run ever
/// has: every cluster with `Started` and `Succeeded`).
pub fn finished_status(clusters: usize, stages: usize) -> UpdateRunStatus {
    let config = Config::default();
    let mut world = hub_world(clusters, stages, IntOrString::String("100%".into()));
    let mut applier = Applier::new(&world);
    let mut run = new_run();
    let mut now = Time::from_unix_seconds(START);
    for _ in 0..10 * stages + 10 {
        let outcome = reconcile_in_place(&mut run, &world, now, &config).expect("consistent");
        applier.apply(&mut world, &outcome.actions);
        if outcome.wake.is_idle() {
            break;
        }
        now = Time::from_unix_seconds(now.unix_seconds() + 1);
        let n = applier.in_flight.len();
        applier.report(&mut world, n, now);
    }
    let status = run.status.expect("a status");
    assert!(is_condition_true(&status.conditions, ct::SUCCEEDED, 1), "the run did not finish");
    status
}

/// A simulator scenario: one PickAll placement over `sum(stage_sizes)` clusters, a strategy with
/// one stage per entry of `stage_sizes` (selecting by a `stage` label) at `concurrency`, member
/// agents that take `delay` to apply, and a run of snapshot 0 created at the start in state
/// `Run`. Snapshots are taken on change, so snapshot 0 exists before the run does and both
/// wake-up modes start alike.
pub fn rollout_scenario(stage_sizes: &[usize], concurrency: IntOrString, delay: &str, wakeups: Wakeups) -> Scenario {
    let total: usize = stage_sizes.iter().sum();
    let mut fleet = Vec::with_capacity(total);
    let mut i = 0;
    for (s, &n) in stage_sizes.iter().enumerate() {
        for _ in 0..n {
            fleet.push(json!({"name": cluster_name(i), "labels": {"stage": format!("s{s}")}}));
            i += 1;
        }
    }
    let stages: Vec<_> = (0..stage_sizes.len())
        .map(|s| {
            json!({"name": format!("s{s}"), "labelSelector": {"matchLabels": {"stage": format!("s{s}")}},
                   "maxConcurrency": concurrency})
        })
        .collect();
    let wakeups = match wakeups {
        Wakeups::Exact => "exact",
        Wakeups::Polling => "polling",
    };
    serde_json::from_value(json!({
        "name": format!("rollout-{total}"),
        "settings": {"engine": "kubefleet", "wakeups": wakeups, "resourceSnapshots": "on-change",
                     "maxSteps": 50 * total + 10_000},
        "fleet": fleet,
        "memberDefaults": {"delay": delay},
        "manifests": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "app"},
             "data": {"color": "blue"}},
            {"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
             "metadata": {"name": PLACEMENT},
             "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "app"}],
                      "policy": {"placementType": "PickAll"}, "strategy": {"type": "External"}}},
            {"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateStrategy",
             "metadata": {"name": "by-stage"}, "spec": {"stages": stages}},
            {"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateRun",
             "metadata": {"name": RUN},
             "spec": {"placementName": PLACEMENT, "resourceSnapshotIndex": "0",
                      "stagedRolloutStrategyName": "by-stage", "state": "Run"}}
        ],
        "expect": {"runs": {RUN: "succeeded"}}
    }))
    .expect("a valid scenario")
}

/// `clusters` spread over `stages` stages as evenly as possible (the first stages get one more).
pub fn even_stages(clusters: usize, stages: usize) -> Vec<usize> {
    (0..stages).map(|s| clusters / stages + usize::from(s < clusters % stages)).collect()
}

/// What a finished simulated rollout did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RolloutSummary {
    /// Reconciles the simulated controller made (engine steps).
    pub reconciles: u64,
    /// Events the simulator processed (reconciles, member agents finishing, …).
    pub sim_steps: usize,
    /// Simulated seconds from the run's creation to `run-succeeded`.
    pub completion_secs: i64,
}

/// Summarizes a simulation whose run must have succeeded.
pub fn summarize(sim: &Simulation) -> RolloutSummary {
    let at = |kind: &str| {
        sim.events()
            .iter()
            .find(|e| e.event.as_str() == kind && e.run.as_deref() == Some(RUN))
            .map(|e| e.at)
            .unwrap_or_else(|| panic!("no {kind} event for {RUN}"))
    };
    RolloutSummary {
        reconciles: sim.hub().reconciles(),
        sim_steps: sim.steps(),
        completion_secs: at("run-succeeded").since(at("run-created")).as_secs_ceil(),
    }
}

/// Where the benches leave the numbers criterion does not keep (sizes, bytes, simulated
/// seconds), as JSON for `benches/plot.py`: `$CARGO_TARGET_DIR/bench-facts/<name>.json`.
pub fn write_facts(name: &str, facts: &serde_json::Value) {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_owned());
    let dir = std::path::Path::new(&target).join("bench-facts");
    std::fs::create_dir_all(&dir).expect("create the bench-facts directory");
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(facts).expect("facts serialize")).expect("write facts");
    eprintln!("wrote {}", path.display());
}
