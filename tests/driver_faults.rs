//! Faults at the `Fleet` boundary: a failed action, a failed or conflicting status write, a
//! crash between applying the actions and writing the status, a stale observation. After each,
//! fresh reconciles reach the same final state as an undisturbed run — same run outcomes, same
//! member contents, same statuses (times aside) — with no binding updated twice, no approval
//! request created twice, and no recorded progress lost (no cluster succeeds twice).

mod sim_support;

use std::collections::BTreeMap;
use std::future::Future;

use serde_json::Value;
use staged_rollout::api::well_known::condition_types as ct;
use staged_rollout::api::{BindingState, Condition, ConditionStatus, Duration};
use staged_rollout::sim::{EventKind, Fault, FaultPlan, FaultWhen, Scenario, Simulation, Transcript};
use staged_rollout::{
    Action, Applied, Driver, DriverError, Fleet, FleetError, ObjectRef, Observation, UpdateRun, block_on_ready,
};

const SEED: &str = include_str!("../examples/scenarios/seed-cluster.yaml");
const NAMESPACED: &str = include_str!("../examples/scenarios/seed-namespaced.yaml");

/// Everything that must come out the same, with times removed.
fn final_state(sim: &Simulation) -> Value {
    fn strip_times(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for key in ["lastTransitionTime", "startTime", "endTime", "resourceVersion", "creationTimestamp"] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip_times);
            }
            Value::Array(items) => items.iter_mut().for_each(strip_times),
            _ => {}
        }
    }
    let runs: BTreeMap<String, Value> = sim
        .hub()
        .runs()
        .map(|r| {
            let mut status = serde_json::to_value(r.status()).unwrap();
            strip_times(&mut status);
            (r.metadata().name().to_owned(), status)
        })
        .collect();
    serde_json::json!({"runs": runs, "members": sim.transcript().members})
}

fn count(t: &Transcript, kind: EventKind) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in t.events.iter().filter(|e| e.event == kind) {
        let key = format!(
            "{}/{}/{}/{}",
            e.run.as_deref().unwrap_or(""),
            e.stage.as_deref().unwrap_or(""),
            e.cluster.as_deref().unwrap_or(""),
            e.approval_request.as_deref().unwrap_or("")
        );
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

/// Runs `scenario` with `plan` armed and checks it against the undisturbed run.
fn converges(scenario: &Scenario, plan: FaultPlan) -> Transcript {
    let undisturbed = sim_support::run(scenario);
    let mut sim = Simulation::from_scenario(scenario).unwrap();
    sim.inject(plan.clone());
    sim.run().unwrap();
    let failures = scenario.expect.check(&sim);
    assert!(failures.is_empty(), "{plan:?}: {}", failures.join("\n"));
    let t = sim.transcript();
    assert!(
        t.events.iter().any(|e| e.event == EventKind::FaultInjected),
        "{plan:?} never fired: pick a trigger the scenario reaches"
    );
    assert_eq!(final_state(&sim), final_state(&undisturbed), "{plan:?}: a different end");
    let base = undisturbed.transcript();
    assert_eq!(sim_support::binding_updates(&t), sim_support::binding_updates(&base), "{plan:?}: binding updates");
    for kind in [EventKind::ApprovalRequested, EventKind::ClusterSucceeded, EventKind::StageSucceeded] {
        assert_eq!(count(&t, kind), count(&base, kind), "{plan:?}: {kind} events");
    }
    t
}

fn plan(run: &str, when: FaultWhen, fault: Fault) -> FaultPlan {
    FaultPlan { run: run.to_owned(), when, fault }
}

fn on(action: &str) -> FaultWhen {
    FaultWhen::Action(action.to_owned())
}

fn errors(t: &Transcript) -> Vec<String> {
    t.events.iter().filter(|e| e.event == EventKind::ReconcileError).map(|e| e.detail.clone().unwrap()).collect()
}

#[test]
fn a_failed_action_is_retried_and_not_duplicated() {
    let s = sim_support::scenario(SEED);
    for action in ["add-finalizer", "update-binding", "create-approval-request", "accept-approval-request"] {
        let t = converges(&s, plan("example-run", on(action), Fault::FailAction));
        let errors = errors(&t);
        assert_eq!(errors.len(), 1, "{action}: {errors:?}");
        assert!(errors[0].contains(&format!("({action}) failed")), "{}", errors[0]);
    }
    let t = converges(&s, plan("example-run-2", on("update-binding"), Fault::FailAction));
    let lines: Vec<String> = t.events_of("example-run-2").take(8).map(ToString::to_string).collect();
    insta::assert_yaml_snapshot!(lines, @r#"
    - "2025-03-12T10:20:00Z  example-run-2                run-created"
    - "2025-03-12T10:20:00Z  example-run-2                fault-injected (an action failed)"
    - "2025-03-12T10:20:00Z  example-run-2                reconcile-error (ClusterStagedUpdateRun example-run-2: action 1 (update-binding) failed: injected fault: update-binding failed)"
    - "2025-03-12T10:20:01Z  example-run-2                run-initialized snapshot=example-placement-0-snapshot"
    - "2025-03-12T10:20:01Z  example-run-2                stage-started stage=staging"
    - "2025-03-12T10:20:01Z  example-run-2                binding-updated stage=staging cluster=member2 snapshot=example-placement-0-snapshot"
    - "2025-03-12T10:20:16Z  example-run-2                member-applied cluster=member2 snapshot=example-placement-0-snapshot (Namespace test-namespace, ConfigMap test-namespace/test-cm key=value1)"
    - "2025-03-12T10:20:16Z  example-run-2                cluster-succeeded stage=staging cluster=member2"
    "#);
}

#[test]
fn a_failed_or_conflicting_status_write_is_retried() {
    let s = sim_support::scenario(SEED);
    for fault in [Fault::FailStatusWrite, Fault::ConflictStatusWrite] {
        for action in ["update-binding", "create-approval-request", "accept-approval-request"] {
            let t = converges(&s, plan("example-run", on(action), fault.clone()));
            assert_eq!(errors(&t).len(), 1, "{fault:?} on {action}");
        }
        converges(&s, plan("example-run", FaultWhen::Reconcile(1), fault.clone()));
    }
}

#[test]
fn a_crash_between_the_actions_and_the_status_write_loses_nothing() {
    let s = sim_support::scenario(SEED);
    for action in ["update-binding", "create-approval-request", "accept-approval-request"] {
        let t = converges(&s, plan("example-run", on(action), Fault::CrashBeforeStatusWrite));
        assert!(errors(&t)[0].contains("controller crashed"));
    }
    // Namespaced runs, the crash right at initialization.
    converges(
        &sim_support::scenario(NAMESPACED),
        plan("web-app-rollout-v1-21", FaultWhen::Reconcile(1), Fault::CrashBeforeStatusWrite),
    );
}

#[test]
fn a_stale_observation_conflicts_instead_of_repeating_work() {
    let s = sim_support::scenario(SEED);
    for action in ["update-binding", "create-approval-request", "accept-approval-request"] {
        let t = converges(&s, plan("example-run", on(action), Fault::StaleObservation));
        let errors = errors(&t);
        assert_eq!(errors.len(), 1, "{action}: {errors:?}");
        assert!(errors[0].contains("conflict"), "{action}: {}", errors[0]);
    }
    converges(
        &sim_support::scenario(NAMESPACED),
        plan("web-app-rollback-v1-20", on("update-binding"), Fault::StaleObservation),
    );
}

/// A fleet that fails the n-th call of each kind, wrapped around the simulated hub: the driver's
/// contract seen from the caller's side.
struct Flaky<'a, F> {
    inner: &'a mut F,
    fail_action: Option<usize>,
    fail_write: bool,
    applied: Vec<String>,
    written: usize,
}

impl<F: Fleet + Send> Fleet for Flaky<'_, F> {
    fn observe(&mut self, run: &ObjectRef) -> impl Future<Output = Result<Observation, FleetError>> + Send {
        self.inner.observe(run)
    }

    fn apply(&mut self, action: &Action) -> impl Future<Output = Result<Applied, FleetError>> + Send {
        let n = self.applied.len();
        self.applied.push(action.name().to_owned());
        let fail = self.fail_action == Some(n);
        let inner = &mut *self.inner;
        async move { if fail { Err(FleetError::Other("network".into())) } else { inner.apply(action).await } }
    }

    fn write_status(&mut self, run: &UpdateRun) -> impl Future<Output = Result<Applied, FleetError>> + Send {
        self.written += 1;
        let fail = self.fail_write;
        let inner = &mut *self.inner;
        async move { if fail { Err(FleetError::Other("etcd timeout".into())) } else { inner.write_status(run).await } }
    }
}

#[test]
fn the_driver_stops_at_the_first_failed_action_and_writes_no_status() {
    let mut sim = Simulation::from_scenario(&sim_support::scenario(SEED)).unwrap();
    sim.run_until("2025-03-12T10:09:59Z".parse().unwrap()).unwrap();
    sim.execute(
        &serde_saphyr::from_str(
            "apply: {apiVersion: placement.kubernetes-fleet.io/v1beta1, kind: ClusterStagedUpdateRun, \
         metadata: {name: by-hand}, spec: {placementName: example-placement, resourceSnapshotIndex: \"1\", \
         stagedRolloutStrategyName: example-strategy}}",
        )
        .unwrap(),
    )
    .unwrap();
    let run = ObjectRef::new("ClusterStagedUpdateRun", "", "by-hand");
    let now = sim.now();
    let driver = Driver::new(sim.config().clone());

    // add-finalizer goes through, update-binding fails, mark-binding-rollout-started is never tried.
    let mut flaky = Flaky { inner: sim.fleet(), fail_action: Some(1), fail_write: false, applied: vec![], written: 0 };
    let err = block_on_ready(driver.step(&mut flaky, &run, now)).unwrap_err();
    assert!(matches!(&err, DriverError::Action { index: 1, source: FleetError::Other(_), .. }), "{err}");
    assert_eq!(flaky.applied, ["add-finalizer", "update-binding"]);
    assert_eq!(flaky.written, 0);
    let stored = sim.hub().run("", "by-hand").unwrap();
    assert!(stored.status().is_none(), "no status claims progress the hub does not show");

    // The status write fails: every action applied, the error surfaced.
    let mut flaky = Flaky { inner: sim.fleet(), fail_action: None, fail_write: true, applied: vec![], written: 0 };
    let err = block_on_ready(driver.step(&mut flaky, &run, now)).unwrap_err();
    assert!(matches!(&err, DriverError::Status { .. }), "{err}");
    assert_eq!(flaky.applied, ["update-binding", "mark-binding-rollout-started"], "the finalizer is already there");

    // A clean step now re-derives nothing that already happened.
    let step = block_on_ready(driver.step(sim.fleet(), &run, now)).unwrap();
    assert!(step.outcome.actions.is_empty(), "{:?}", step.outcome.actions);
    assert!(step.status_written);
    let stored = sim.hub().run("", "by-hand").unwrap();
    assert_eq!(stored.status().unwrap().stages_status[0].clusters[0].conditions[0].type_, "Started");
}

/// A clock for [`Driver::drive`] that only records how long it was asked to sleep.
struct Recorded {
    now: staged_rollout::api::Time,
    sleeps: Vec<i64>,
}

impl staged_rollout::Clock for Recorded {
    fn now(&mut self) -> staged_rollout::api::Time {
        self.now
    }

    fn sleep_until(&mut self, deadline: staged_rollout::api::Time) -> impl Future<Output = ()> + Send {
        self.sleeps.push(deadline.unix_seconds() - self.now.unix_seconds());
        self.now = deadline;
        std::future::ready(())
    }
}

#[test]
fn the_drive_loop_polls_like_kubefleet_and_reports_a_run_that_never_settles() {
    let mut sim = Simulation::from_scenario(&sim_support::scenario(SEED)).unwrap();
    sim.run_until("2025-03-12T10:09:59Z".parse().unwrap()).unwrap();
    sim.apply(&serde_json::json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateRun",
        "metadata": {"name": "driven"},
        "spec": {"placementName": "example-placement", "resourceSnapshotIndex": "1",
                 "stagedRolloutStrategyName": "example-strategy"}
    }))
    .unwrap();
    let run = ObjectRef::new("ClusterStagedUpdateRun", "", "driven");
    let driver = Driver::new(sim.config().clone());
    let mut clock = Recorded { now: sim.now(), sleeps: Vec::new() };
    // Nobody steps the simulation, so no member agent ever applies: member2 stays in flight.
    let err = block_on_ready(driver.drive(sim.fleet(), &mut clock, &run, 5)).unwrap_err();
    assert!(matches!(err, DriverError::StepLimit { steps: 5, .. }), "{err}");
    assert_eq!(clock.sleeps, [15, 15, 15, 15, 15], "KubeFleet's clusterUpdatingWaitTime");
    let binding_updates = sim.hub().bindings().filter(|b| b.metadata.generation() > 1).count();
    assert_eq!(binding_updates, 1, "member2 was bound once, not once per loop");
}

/// A binding bound by hand through `Simulation::fleet` (as a controller driven by hand would)
/// is applied by its member agent when the simulation next runs, even though nothing else was
/// due.
#[test]
fn a_change_made_through_fleet_is_picked_up_by_run_until() {
    let mut sim = Simulation::from_scenario(&sim_support::scenario(
        "name: by-hand
settings: {resourceSnapshots: on-change}
fleet:
  - {name: member1}
memberDefaults:
  delay: 15s
manifests:
  - {apiVersion: v1, kind: Namespace, metadata: {name: app}}
  - apiVersion: placement.kubernetes-fleet.io/v1beta1
    kind: ClusterResourcePlacement
    metadata: {name: web}
    spec:
      resourceSelectors: [{group: \"\", kind: Namespace, name: app, version: v1}]
      policy: {placementType: PickAll}
      strategy: {type: External}
",
    ))
    .unwrap();
    sim.run().unwrap();
    let binding = sim.hub().bindings().next().unwrap().clone();
    let snapshot = sim.hub().resource_snapshots().next().unwrap().metadata.name().to_owned();
    let mut spec = binding.spec.clone();
    spec.state = BindingState::Bound;
    spec.resource_snapshot_name = snapshot;
    let bind = Action::UpdateBinding {
        binding: ObjectRef::new("ClusterResourceBinding", "", binding.metadata.name()),
        cluster: "member1".into(),
        resource_version: None,
        spec,
    };
    let started = Action::MarkBindingRolloutStarted {
        binding: ObjectRef::new("ClusterResourceBinding", "", binding.metadata.name()),
        cluster: "member1".into(),
        condition: Condition::new(
            ct::ROLLOUT_STARTED,
            ConditionStatus::True,
            binding.metadata.generation() + 1,
            "RolloutStarted",
            "by hand",
        ),
    };
    for action in [bind, started] {
        block_on_ready(sim.fleet().apply(&action)).unwrap();
    }
    let start = sim.now();
    sim.run_until(start.add_ceil(Duration::from_secs(60))).unwrap();
    let applied: Vec<_> = sim.events().iter().filter(|e| e.event == EventKind::MemberApplied).map(|e| e.at).collect();
    assert_eq!(applied, [start.add_ceil(Duration::from_secs(15))]);
}
