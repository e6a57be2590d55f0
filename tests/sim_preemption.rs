//! Two runs on one placement: the later run rewrites a binding the earlier one had started, and
//! the earlier one is abandoned.

mod sim_support;

use staged_rollout::sim::{EventKind, RunPhase};

const SCENARIO: &str = include_str!("../examples/scenarios/preemption.yaml");

#[test]
fn the_later_run_preempts_the_earlier_one() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    insta::assert_yaml_snapshot!(sim_support::readable(&sim.transcript()));
}

#[test]
fn only_the_started_cluster_of_the_preempted_run_fails() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    assert_eq!(sim.run_phase("rollout"), RunPhase::Failed);
    let status = sim.update_run("rollout").unwrap().status().unwrap();
    let staging = &status.stages_status[0];
    let failed = staging.clusters[0].conditions.iter().find(|c| c.type_ == "Succeeded").unwrap();
    assert!(failed.message.contains("concurrent updateRun"), "{}", failed.message);
    assert!(status.stages_status[1].clusters.iter().all(|c| c.conditions.is_empty()), "canary never started");
    // The rollout's apply of snapshot 1 was overtaken before the member finished it.
    assert!(
        !sim.events()
            .iter()
            .any(|e| e.event == EventKind::MemberApplied
                && e.snapshot.as_deref() == Some("example-placement-1-snapshot"))
    );
}
