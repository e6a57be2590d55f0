//! A member agent fails: the run waits, reports Stuck after the threshold, and resumes once the
//! cluster is healed.

mod sim_support;

use staged_rollout::api::well_known::condition_types as ct;
use staged_rollout::api::{ConditionStatus, Time};
use staged_rollout::sim::{RunPhase, Simulation};

const SCENARIO: &str = include_str!("../examples/scenarios/member-failure.yaml");

fn at(s: &str) -> Time {
    s.parse().unwrap()
}

#[test]
fn a_failed_cluster_makes_the_run_stuck_until_it_is_healed() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    insta::assert_yaml_snapshot!(sim_support::readable(&sim.transcript()));
}

#[test]
fn stuck_is_strictly_after_five_minutes_and_only_the_failed_cluster_is_in_flight() {
    let mut sim = Simulation::from_scenario(&sim_support::scenario(SCENARIO)).unwrap();
    // member1 started at 10:02:15; stuck means more than 5m later.
    sim.run_until(at("2025-03-12T10:07:15Z")).unwrap();
    assert_eq!(sim.run_phase("release-1"), RunPhase::Progressing);
    sim.run_until(at("2025-03-12T10:07:16Z")).unwrap();
    assert_eq!(sim.run_phase("release-1"), RunPhase::Stuck);
    let status = sim.update_run("release-1").unwrap().status().unwrap().clone();
    let canary = &status.stages_status[1];
    assert_eq!(canary.clusters[0].cluster_name, "member1");
    assert!(canary.clusters[1].conditions.is_empty(), "member3 has not started: one at a time");
    let binding = sim.hub().bindings().find(|b| b.spec.target_cluster == "member1").unwrap();
    let applied = binding.conditions().iter().find(|c| c.type_ == ct::APPLIED).unwrap();
    assert_eq!((applied.status, applied.reason.as_str()), (ConditionStatus::False, "NotAllWorkHaveBeenApplied"));
    assert_eq!(applied.observed_generation, binding.metadata.generation(), "reported at the binding's generation");
    assert!(sim.member_objects("member1").is_empty(), "nothing was applied");
}
