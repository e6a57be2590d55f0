//! Stop and resume: a stop during a TimedWait restarts it; a stop with a cluster in flight waits
//! for it and starts no other.

mod sim_support;

use staged_rollout::sim::{EventKind, RunPhase, Simulation};

const SCENARIO: &str = include_str!("../examples/scenarios/stop-resume.yaml");

#[test]
fn stop_and_resume_twice() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    insta::assert_yaml_snapshot!(sim_support::readable(&sim.transcript()));
}

#[test]
fn while_stopped_nothing_starts() {
    let mut sim = Simulation::from_scenario(&sim_support::scenario(SCENARIO)).unwrap();
    sim.run_until("2025-03-12T10:07:59Z".parse().unwrap()).unwrap();
    assert_eq!(sim.run_phase("release-1"), RunPhase::Stopped);
    let updates = sim_support::binding_updates(&sim.transcript());
    assert_eq!(updates.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>(), ["member2", "member1"]);
    assert!(sim.member_objects("member3").is_empty());
    let stopped: Vec<_> = sim.events().iter().filter(|e| e.event == EventKind::StageStopped).map(|e| e.at).collect();
    assert_eq!(stopped.len(), 2);
}
