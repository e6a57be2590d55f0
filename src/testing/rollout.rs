//! A generated rollout: a fleet, a strategy, runs, member behaviours, an event schedule and
//! faults — turned into a simulator [`Scenario`] and played.

use serde_json::{Value, json};

use crate::action::ObjectRef;
use crate::api::{Duration, State, UpdateStrategySpec, well_known};
use crate::sim::{
    ApprovalPolicy, EnginePreset, FleetMember, MemberBehaviour, RandomFaults, Scenario, ScriptAction, ScriptStep,
    Settings, SimError, Simulation, SnapshotMode, Transcript, Wakeups,
};

use super::invariants::{Checker, Termination};
use super::schedule::{ApprovalTask, Schedule, SnapshotSource};
use super::violation::Violation;

/// The namespaced rollouts' namespace.
pub const NAMESPACE: &str = "team";
/// The placement every generated run names.
pub const PLACEMENT: &str = "web";
/// The strategy every generated run names.
pub const STRATEGY: &str = "strategy";

/// One run of a generated rollout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunPlan {
    /// Its name.
    pub name: String,
    /// Its `spec.state` at creation (`None`: unset, which today's KubeFleet reads as
    /// `Initialize`).
    pub state: Option<State>,
    /// Its `spec.resourceSnapshotIndex` (`None`: the latest resources).
    pub resource_snapshot_index: Option<String>,
    /// When it is created, after the start.
    pub created_after: Duration,
}

/// Everything about one generated rollout. [`Rollout::simulate`] plays it.
#[derive(Clone, Debug, PartialEq)]
pub struct Rollout {
    /// `Some(namespace)` for `StagedUpdateRun`s of a `ResourcePlacement`, `None` for
    /// `ClusterStagedUpdateRun`s of a `ClusterResourcePlacement`.
    pub namespace: Option<String>,
    /// The member clusters at the start, with their labels and agents' behaviour.
    pub fleet: Vec<FleetMember>,
    /// The behaviour of agents that do not say otherwise.
    pub member_defaults: MemberBehaviour,
    /// The strategy (valid, or near-valid).
    pub strategy: UpdateStrategySpec,
    /// The runs, all on the one placement.
    pub runs: Vec<RunPlan>,
    /// Who approves, and when.
    pub approvals: ApprovalPolicy,
    /// What happens meanwhile.
    pub schedule: Schedule,
    /// When resource snapshots are taken.
    pub snapshots: SnapshotMode,
    /// Approved approval requests of other namespaces, scopes and runs, named like the runs'
    /// own, which no run may count (invariant 9).
    pub decoy_approvals: bool,
    /// Seeded random faults.
    pub faults: Option<RandomFaults>,
    /// The engine's behaviour: today's KubeFleet or the seed-compatible preset.
    pub engine: EnginePreset,
    /// When the simulator reconciles: watch-driven, or polling as KubeFleet's controller.
    pub wakeups: Wakeups,
}

impl Rollout {
    /// The run's namespace (`""` when cluster-scoped).
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }

    /// A reference to the run `plan`.
    pub fn run_ref(&self, plan: &RunPlan) -> ObjectRef {
        let kind = if self.namespace.is_some() { "StagedUpdateRun" } else { "ClusterStagedUpdateRun" };
        ObjectRef::new(kind, self.namespace(), &plan.name)
    }

    /// The resource the placement selects.
    pub fn snapshot_source(&self) -> SnapshotSource {
        SnapshotSource { namespace: self.namespace.clone().unwrap_or_else(|| "app".to_owned()), name: "config".into() }
    }

    /// The simulator scenario: settings, fleet, approvals, manifests and the runs' creation.
    /// The schedule is not in it (see [`Rollout::simulate`]: its events may name things that do
    /// not exist yet, which a scenario script would reject).
    pub fn scenario(&self) -> Scenario {
        let settings = Settings {
            resource_snapshots: Some(self.snapshots),
            faults: self.faults.clone(),
            engine: self.engine,
            wakeups: self.wakeups,
            // Polling goes on while a run is stuck: stop an hour in (everything a schedule does
            // happens within its first half hour).
            until: Some(Duration::from_secs(if self.wakeups == Wakeups::Polling { 3600 } else { 6 * 3600 })),
            max_steps: Some(20_000),
            ..Settings::default()
        };
        let ns = self.namespace();
        let source = self.snapshot_source();
        let mut manifests = Vec::new();
        let api = crate::api::API_VERSION;
        manifests.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": source.namespace}}));
        manifests.push(source.version(1));
        let selector = if self.namespace.is_some() {
            json!({"group": "", "version": "v1", "kind": "ConfigMap", "name": source.name})
        } else {
            json!({"group": "", "version": "v1", "kind": "Namespace", "name": source.namespace})
        };
        let mut placement = json!({
            "apiVersion": api,
            "kind": if self.namespace.is_some() { "ResourcePlacement" } else { "ClusterResourcePlacement" },
            "metadata": {"name": PLACEMENT},
            "spec": {"resourceSelectors": [selector], "policy": {"placementType": "PickAll"}, "strategy": {"type": "External"}}
        });
        let mut strategy = json!({
            "apiVersion": api,
            "kind": if self.namespace.is_some() { "StagedUpdateStrategy" } else { "ClusterStagedUpdateStrategy" },
            "metadata": {"name": STRATEGY},
            "spec": self.strategy,
        });
        if let Some(ns) = &self.namespace {
            placement["metadata"]["namespace"] = json!(ns);
            strategy["metadata"]["namespace"] = json!(ns);
        }
        manifests.push(placement);
        manifests.push(strategy);
        if self.decoy_approvals {
            manifests.extend(self.decoys());
        }
        let script = self
            .runs
            .iter()
            .map(|plan| {
                let mut spec = json!({"placementName": PLACEMENT, "stagedRolloutStrategyName": STRATEGY});
                if let Some(s) = &plan.state {
                    spec["state"] = json!(s.to_string());
                }
                if let Some(i) = &plan.resource_snapshot_index {
                    spec["resourceSnapshotIndex"] = json!(i);
                }
                let mut run = json!({
                    "apiVersion": api,
                    "kind": self.run_ref(plan).kind,
                    "metadata": {"name": plan.name},
                    "spec": spec,
                });
                if !ns.is_empty() {
                    run["metadata"]["namespace"] = json!(ns);
                }
                ScriptStep { at: plan.created_after, action: ScriptAction::Apply(run) }
            })
            .collect();
        Scenario {
            name: "generated rollout".to_owned(),
            settings,
            fleet: self.fleet.clone(),
            member_defaults: self.member_defaults.clone(),
            approvals: self.approvals.clone(),
            manifests,
            script,
            ..Scenario::default()
        }
    }

    /// Approved requests named like every run's own, for every stage, in the other scope, in
    /// another namespace, and for a run that does not exist in the runs' namespace.
    fn decoys(&self) -> Vec<Value> {
        let api = crate::api::API_VERSION;
        let mut out = Vec::new();
        let approved = json!({"conditions": [{"type": "Approved", "status": "True", "observedGeneration": 1,
            "lastTransitionTime": "2025-01-01T00:00:00Z", "reason": "decoy", "message": "decoy"}]});
        let ghost =
            RunPlan { name: "ghost".into(), state: None, resource_snapshot_index: None, created_after: Duration::ZERO };
        let config = self.engine.config();
        for plan in self.runs.iter().chain([&ghost]) {
            for stage in &self.strategy.stages {
                for task in [ApprovalTask::Before, ApprovalTask::After] {
                    let name = task.request_name(&config, &plan.name, &stage.name);
                    let labels = json!({
                        well_known::TARGET_UPDATE_RUN_LABEL: plan.name,
                        well_known::TARGET_UPDATING_STAGE_LABEL: stage.name,
                    });
                    let spec = json!({"parentStageRollout": plan.name, "targetStage": stage.name});
                    let mut places: Vec<Option<&str>> = Vec::new();
                    if plan.name == "ghost" {
                        places.push(self.namespace.as_deref());
                    } else {
                        places.push(Some("elsewhere"));
                        if self.namespace.is_some() {
                            places.push(None);
                        } else {
                            places.push(Some(NAMESPACE));
                        }
                    }
                    for place in places {
                        let mut r = json!({"apiVersion": api, "kind": "ClusterApprovalRequest",
                            "metadata": {"name": name, "labels": labels}, "spec": spec, "status": approved});
                        if let Some(ns) = place {
                            r["kind"] = json!("ApprovalRequest");
                            r["metadata"]["namespace"] = json!(ns);
                        }
                        out.push(r);
                    }
                }
            }
        }
        out
    }

    /// Plays the rollout: builds the simulation with every reconcile recorded, plays the
    /// schedule and runs it to the end. The simulation is returned even when it stopped with an
    /// error, so its transcript can be checked.
    pub fn simulate(&self) -> (Simulation, Result<(), SimError>) {
        let scenario = self.scenario();
        let mut sim = Simulation::new(&scenario.settings);
        sim.record_reconciles(true);
        if let Err(e) = sim.load(&scenario) {
            return (sim, Err(e));
        }
        let start = scenario.settings.start;
        let result = self.schedule.play(&mut sim, start, self.namespace(), &self.snapshot_source());
        (sim, result)
    }

    /// Watch events the schedule delivers to each run besides its own progress (the `e` of
    /// [`StepBound`](super::StepBound)).
    pub fn external_events(&self) -> usize {
        self.schedule.events.iter().filter(|(_, e)| e.is_external()).count()
    }

    /// Plays the rollout and checks every invariant on its transcript — invariant 8 too when
    /// `termination` is given. A simulator error (a livelock) is reported as a violation of
    /// invariant 8.
    pub fn check(&self, termination: Option<Termination>) -> (Transcript, Vec<Violation>) {
        let (sim, result) = self.simulate();
        let transcript = sim.transcript();
        let mut checker = Checker::new();
        if let Some(t) = termination {
            checker = checker.expect_termination(t);
        }
        let mut violations = checker.check_transcript(&transcript);
        if let Err(e) = result {
            violations.push(Violation::NotTerminated {
                site: super::violation::Site { run: "-".into(), stage: None, cluster: None, at: sim.now() },
                steps: sim.steps(),
                bound: 0,
                ended: Some(format!("the simulation stopped: {e}")),
            });
        }
        (transcript, violations)
    }
}
