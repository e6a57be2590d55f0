//! Seeded random faults: the same seed gives the same faults and the same transcript; honest
//! faults leave every scenario's outcome as it was; every fault kind keeps the invariants.

mod sim_support;

use staged_rollout::api::Duration;
use staged_rollout::sim::{EventKind, Fault, RandomFaults, Scenario, Simulation};
use staged_rollout::testing::check_transcript;

const STOP_RESUME: &str = include_str!("../examples/scenarios/stop-resume.yaml");
const SEED: &str = include_str!("../examples/scenarios/seed-cluster.yaml");
const NAMESPACED: &str = include_str!("../examples/scenarios/seed-namespaced.yaml");

fn with_faults(yaml: &str, faults: RandomFaults) -> Scenario {
    let mut s = sim_support::scenario(yaml);
    s.settings.faults = Some(faults);
    s
}

fn play(s: &Scenario) -> Simulation {
    let mut sim = Simulation::from_scenario(s).unwrap();
    sim.record_reconciles(true);
    sim.run().unwrap();
    sim
}

#[test]
fn the_same_seed_gives_the_same_transcript() {
    let faults = RandomFaults { clock_jitter: Some(Duration::from_secs(3)), ..RandomFaults::new(7, 300) };
    let a = play(&with_faults(STOP_RESUME, faults.clone()));
    let b = play(&with_faults(STOP_RESUME, faults));
    assert_eq!(a.transcript(), b.transcript());
    assert!(a.random_faults_fired() > 0);
    let c = play(&with_faults(STOP_RESUME, RandomFaults::new(8, 300)));
    assert_ne!(a.transcript().events, c.transcript().events);
}

#[test]
fn honest_faults_change_nothing_that_matters() {
    for yaml in [STOP_RESUME, SEED, NAMESPACED] {
        for seed in 0..8 {
            let faults = RandomFaults {
                max: Some(6),
                clock_jitter: Some(Duration::from_secs(2)),
                ..RandomFaults::new(seed, 250)
            };
            let s = with_faults(yaml, faults);
            let sim = play(&s);
            // Runs end as the scenario says (event times aside: faults delay things).
            let want: Vec<_> = s.expect.runs.iter().collect();
            for (run, phase) in want {
                assert_eq!(sim.run_phase(run), *phase, "{} seed {seed}: {run}", s.name);
            }
            let t = sim.transcript();
            assert!(t.events.iter().any(|e| e.event == EventKind::FaultInjected) || sim.random_faults_fired() == 0);
            assert_eq!(check_transcript(&t), vec![], "{} seed {seed}", s.name);
        }
    }
}

#[test]
fn every_fault_kind_keeps_the_invariants() {
    for kind in Fault::ALL {
        for seed in 0..4 {
            let faults = RandomFaults { kinds: vec![kind.clone()], ..RandomFaults::new(seed, 400) };
            let sim = play(&with_faults(SEED, faults));
            assert_eq!(check_transcript(&sim.transcript()), vec![], "{kind:?} seed {seed}");
        }
    }
}

#[test]
fn faults_parse_from_a_scenario_file() {
    let yaml = STOP_RESUME.replace(
        "settings:\n  engine: kubefleet\n",
        "settings:\n  engine: kubefleet\n  faults: {seed: 42, perMille: 200, kinds: [fail-action, restart, stale-observation], max: 3, clockJitter: 2s}\n",
    );
    let s = sim_support::scenario(&yaml);
    let f = s.settings.faults.clone().expect("faults");
    assert_eq!(f.kinds, [Fault::FailAction, Fault::Restart, Fault::StaleObservation]);
    assert_eq!(f.max, Some(3));
    let sim = play(&s);
    assert!(sim.random_faults_fired() <= 3);
}

/// Found by the invariant suites: the run's second reconcile served the first one's observation
/// (a run without finalizer or status). Adding the finalizer is an update of the observed run;
/// were it a blind patch, the driver would carry the new resourceVersion into the status write
/// and the status initialized from the stale run would overwrite the persisted one (stage
/// times moved: invariant 6). It conflicts instead.
#[test]
fn a_stale_observation_from_before_the_finalizer_cannot_overwrite_the_status() {
    use staged_rollout::sim::{FaultPlan, FaultWhen};
    let s = sim_support::scenario(STOP_RESUME);
    let mut sim = Simulation::from_scenario(&s).unwrap();
    sim.record_reconciles(true);
    sim.inject(FaultPlan { run: "release-1".into(), when: FaultWhen::Reconcile(2), fault: Fault::StaleObservation });
    sim.run().unwrap();
    let t = sim.transcript();
    assert_eq!(check_transcript(&t), vec![]);
    let stale = t.reconciles.iter().find(|r| r.faults.contains(&Fault::StaleObservation)).expect("the stale reconcile");
    assert!(stale.observed.is_none(), "it saw the run before its first status");
    assert!(!stale.persisted, "its status must not be written");
    assert!(t.events.iter().any(|e| e.event == EventKind::ReconcileError
        && e.detail.as_deref().is_some_and(|d| d.contains("add-finalizer") && d.contains("conflict"))));
}
