//! Member clusters join, change labels and leave around and during runs.

mod sim_support;

use staged_rollout::sim::{EventKind, RunPhase, Simulation};

const SCENARIO: &str = include_str!("../examples/scenarios/fleet-churn.yaml");

#[test]
fn runs_follow_the_fleet_as_it_changes() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    insta::assert_yaml_snapshot!(sim_support::readable(&sim.transcript()));
}

#[test]
fn a_cluster_joining_mid_run_abandons_the_run_and_the_next_run_includes_it() {
    let mut sim = Simulation::from_scenario(&sim_support::scenario(SCENARIO)).unwrap();
    let failed = sim.run_until_event(|e| e.event == EventKind::RunFailed).unwrap().unwrap();
    assert_eq!(failed.run.as_deref(), Some("release-1"));
    assert_eq!(failed.at, "2025-03-12T10:02:00Z".parse().unwrap(), "the join is noticed at once");
    sim.run().unwrap();
    let release_2 = sim.update_run("release-2").unwrap().status().unwrap();
    let canary: Vec<_> = release_2.stages_status[1].clusters.iter().map(|c| c.cluster_name.as_str()).collect();
    assert_eq!(canary, ["member1", "member3", "member4"]);
}

#[test]
fn a_cluster_that_left_is_deleted_by_the_next_run_and_holds_nothing() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    assert_eq!(sim.run_phase("release-3"), RunPhase::Succeeded);
    let release_3 = sim.update_run("release-3").unwrap().status().unwrap();
    let deleted: Vec<_> =
        release_3.deletion_stage_status.as_ref().unwrap().clusters.iter().map(|c| c.cluster_name.as_str()).collect();
    assert_eq!(deleted, ["member3"]);
    assert!(!sim.transcript().members.contains_key("member3"), "member3 is no longer in the fleet");
    assert!(sim.hub().bindings().all(|b| b.spec.target_cluster != "member3"));
}
