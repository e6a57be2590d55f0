//! An approval request deleted while pending is recreated; one deleted after acceptance is not.

mod sim_support;

use staged_rollout::sim::EventKind;

const SCENARIO: &str = include_str!("../examples/scenarios/approval-deleted.yaml");

#[test]
fn a_deleted_pending_approval_is_recreated() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    insta::assert_yaml_snapshot!(sim_support::readable(&sim.transcript()));
}

#[test]
fn the_accepted_request_stays_deleted() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    let requested = sim.events().iter().filter(|e| e.event == EventKind::ApprovalRequested).count();
    assert_eq!(requested, 2);
    assert_eq!(sim.hub().approval_requests().count(), 0);
    let status = sim.update_run("example-run").unwrap().status().unwrap();
    let task = &status.stages_status[1].after_stage_task_status[0];
    let types: Vec<_> = task.conditions.iter().map(|c| c.type_.as_str()).collect();
    assert_eq!(types, ["ApprovalRequestCreated", "ApprovalRequestApproved"]);
}
