//! PickFixed: a changed cluster list takes a new policy snapshot; the dropped cluster is
//! unscheduled and cleaned up by the next run's deletion stage.

mod sim_support;

use staged_rollout::api::BindingState;
use staged_rollout::sim::EventKind;

const SCENARIO: &str = include_str!("../examples/scenarios/pick-fixed.yaml");

#[test]
fn pick_fixed_follows_the_named_clusters() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    insta::assert_yaml_snapshot!(sim_support::readable(&sim.transcript()));
}

#[test]
fn the_dropped_cluster_is_emptied_and_its_binding_gone() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    assert!(sim.member_objects("member3").is_empty());
    let bindings: Vec<_> = sim.hub().bindings().map(|b| (b.spec.target_cluster.as_str(), &b.spec.state)).collect();
    assert_eq!(bindings.len(), 2);
    assert!(bindings.iter().all(|(c, s)| *c != "member3" && **s == BindingState::Bound));
    let latest: Vec<_> = sim.hub().policy_snapshots().filter(|s| s.is_latest_of("api")).collect();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].metadata.name(), "api-1");
}

#[test]
fn half_of_two_clusters_update_one_at_a_time() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    let t = sim.transcript();
    let release_1: Vec<_> = t.events_of("release-1").map(|e| e.event).collect();
    let updated = release_1.iter().position(|k| *k == EventKind::BindingUpdated).unwrap();
    assert_eq!(
        release_1[updated..updated + 4],
        [EventKind::BindingUpdated, EventKind::MemberApplied, EventKind::ClusterSucceeded, EventKind::BindingUpdated],
        "maxConcurrency 50% of 2 is 1"
    );
}
