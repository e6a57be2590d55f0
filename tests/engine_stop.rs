//! Stopping (REFERENCE.md "Stop", items 20–25): in-flight clusters finish, nothing new starts,
//! no approval is accepted, no binding is deleted.

#[macro_use]
mod common;

use common::*;

/// One stage `s` of `c1..c3` with maxConcurrency 2; `gone` (Unscheduled) is in the deletion
/// stage.
fn driver() -> Driver<ClusterStagedUpdateRun> {
    let mut s = stage("s");
    s.max_concurrency = Some(IntOrString::Int(2));
    let members: Members<'_> =
        &[("c1", &[("group", "s")]), ("c2", &[("group", "s")]), ("c3", &[("group", "s")]), ("gone", &[])];
    let mut d = cluster_driver(members, strategy(vec![s]), Some(State::Run));
    d.hub.unschedule("gone");
    d
}

fn run_conds<R: TestRun>(d: &Driver<R>) -> Vec<C> {
    got(&d.status().conditions)
}

fn stage_conds(d: &Driver<ClusterStagedUpdateRun>) -> Vec<C> {
    got(&d.stage("s").conditions)
}

fn stopping_clusters(out: &Outcome) -> Vec<String> {
    match &out.wake.reason {
        WakeReason::Stopping { clusters, .. } => clusters.clone(),
        other => panic!("not stopping: {other:?}"),
    }
}

#[test]
fn stopping_waits_for_in_flight_clusters_then_stops() {
    let mut d = driver();
    d.step(t(0)); // c1 and c2 start
    d.set_state(State::Stop);

    let out = d.step(t(10));
    assert!(out.actions.is_empty());
    assert_eq!(run_conds(&d), conds![want::initialized(), want::run_stopping()]);
    assert_eq!(stage_conds(&d), conds![want::stage_stopping()]);
    assert_eq!(stopping_clusters(&out), ["c1", "c2"]);
    assert_eq!(out.wake.poll, Some(Duration::from_secs(15)));
    assert_eq!(out.wake.at, Some(t(301)));

    // c1 finishes: its slot is not reused, c3 does not start.
    d.hub.available("c1");
    let out = d.step(t(20));
    assert!(out.actions.is_empty());
    assert_eq!(stopping_clusters(&out), ["c2"]);
    assert_eq!(got(&d.cluster("s", "c1").conditions), conds![want::cluster_done()]);
    assert!(d.cluster("s", "c3").conditions.is_empty());
    assert_eq!(run_conds(&d), conds![want::initialized(), want::run_stopping()]);

    d.hub.available("c2");
    let out = d.step(t(30));
    assert_eq!(run_conds(&d), conds![want::initialized(), want::run_stopped()]);
    assert_eq!(stage_conds(&d), conds![want::stage_stopped()]);
    assert!(d.cluster("s", "c3").conditions.is_empty());
    assert_eq!(d.hub.binding("c3").spec.state, BindingState::Scheduled);
    assert_eq!(out.wake.reason, WakeReason::Stopped);
    assert!(out.wake.is_idle());
    assert!(d.hub.deleted_bindings.is_empty());

    // Run resumes where it stopped.
    d.set_state(State::Run);
    let out = d.step(t(40));
    assert_eq!(action_log(&out.actions), ["update-binding crp-c3", "mark-binding-rollout-started crp-c3"]);
    assert_eq!(stage_conds(&d), conds![want::stage_started()]);
    assert_eq!(run_conds(&d), conds![want::initialized(), want::run_progressing()]);
}

#[test]
fn stuck_overrides_stopping() {
    let mut d = driver();
    d.step(t(0));
    d.set_state(State::Stop);
    let out = d.step(t(301));
    assert_eq!(run_conds(&d), conds![want::initialized(), want::run_stuck("c1, c2", "s")]);
    assert_eq!(stage_conds(&d), conds![want::stage_stopping()]);
    assert_eq!(stopping_clusters(&out), ["c1", "c2"]);
    assert_eq!(out.wake.at, None);
}

#[test]
fn a_binding_failure_while_stopping_is_retried() {
    let mut d = driver();
    d.step(t(0));
    d.set_state(State::Stop);
    d.hub.report("c1", ct::APPLIED, ConditionStatus::False, "ApplyFailed");
    let out = d.step(t(10));
    assert_eq!(
        retry_error(&out.wake),
        Some("the cluster updating encountered an error at stage `s`, updateRun := `run`")
    );
    assert_eq!(run_conds(&d), conds![want::initialized(), want::run_stopping()]);
    assert_eq!(stage_conds(&d), conds![want::stage_stopping()]);
}

fn fail_cluster(d: &mut Driver<ClusterStagedUpdateRun>, cluster: &str) {
    d.edit_status(|s| {
        let c = s.stages_status[0].clusters.iter_mut().find(|c| c.cluster_name == cluster).unwrap();
        let failed = Condition::new(ct::SUCCEEDED, ConditionStatus::False, 1, reasons::CLUSTER_UPDATING_FAILED, "x");
        set_condition(&mut c.conditions, failed, t(0));
    });
}

#[test]
fn failed_clusters_count_as_done_when_stopping() {
    let mut s = stage("s");
    s.max_concurrency = Some(IntOrString::Int(2));
    let members: Members<'_> = &[("c1", &[("group", "s")]), ("c2", &[("group", "s")])];
    let mut d = cluster_driver(members, strategy(vec![s]), Some(State::Run));
    d.step(t(0));
    d.hub.available("c2");
    d.step(t(5));
    fail_cluster(&mut d, "c1");
    d.set_state(State::Stop);
    d.step(t(10));
    assert_eq!(run_conds(&d), conds![want::initialized(), want::run_stopped()]);
    assert_eq!(stage_conds(&d), conds![want::stage_stopped()]);
}

#[test]
fn the_same_failed_cluster_aborts_when_running() {
    let mut d = driver();
    d.step(t(0));
    fail_cluster(&mut d, "c1");
    d.step(t(10));
    let msg = format!("{ABORT}the cluster `c1` in the stage s has failed");
    assert_eq!(run_conds(&d), conds![want::initialized(), want::run_failed(&msg)]);
    assert_eq!(stage_conds(&d), conds![want::stage_failed(&msg)]);
}

#[test]
fn no_approval_is_accepted_while_stopped() {
    let mut s = stage("s");
    s.before_stage_tasks = vec![StageTask::approval()];
    let mut d = cluster_driver(&[("c1", &[("group", "s")])], strategy(vec![s]), Some(State::Run));
    d.step(t(0));
    d.set_state(State::Stop);
    let out = d.step(t(10));
    assert_eq!(run_conds(&d), conds![want::initialized(), want::run_stopped()]);
    assert_eq!(got(&d.stage("s").conditions), conds![want::stage_stopped()]);
    assert_eq!(out.wake.reason, WakeReason::Stopped);

    d.hub.approve("run-before-s");
    let out = d.step(t(20));
    assert!(out.actions.is_empty());
    assert_eq!(got(&d.stage("s").before_stage_task_status[0].conditions), conds![want::task_created()]);
    assert_eq!(d.hub.approval("run-before-s").unwrap().conditions.len(), 1);

    d.set_state(State::Run);
    let out = d.step(t(30));
    assert_eq!(
        action_log(&out.actions),
        ["accept-approval-request run-before-s", "update-binding crp-c1", "mark-binding-rollout-started crp-c1"]
    );
    assert_eq!(got(&d.stage("s").conditions), conds![want::stage_started()]);
}

#[test]
fn no_after_stage_approval_is_accepted_while_stopped() {
    let mut s = stage("s");
    s.after_stage_tasks = vec![StageTask::approval()];
    let mut d = cluster_driver(&[("c1", &[("group", "s")])], strategy(vec![s]), Some(State::Run));
    d.step(t(0));
    d.hub.available("c1");
    d.step(t(10));
    d.set_state(State::Stop);
    d.step(t(20));
    assert_eq!(got(&d.stage("s").conditions), conds![want::stage_stopped()]);
    d.hub.approve("run-after-s");
    let out = d.step(t(30));
    assert!(out.actions.is_empty());
    assert_eq!(got(&d.stage("s").after_stage_task_status[0].conditions), conds![want::task_created()]);
    assert!(d.status().deletion_stage_status.as_ref().unwrap().conditions.is_empty());
}

#[test]
fn a_stop_run_cycle_while_after_stage_tasks_pend_restarts_the_timed_wait() {
    let mut s = stage("s");
    s.after_stage_tasks = vec![StageTask::timed_wait(Duration::from_minutes(10))];
    let mut d = cluster_driver(&[("c1", &[("group", "s")])], strategy(vec![s]), Some(State::Run));
    d.step(t(0));
    d.hub.available("c1");
    let out = d.step(t(10));
    assert_eq!(out.wake.at, Some(t(610)));

    d.set_state(State::Stop);
    d.step(t(100));
    assert_eq!(got(&d.stage("s").conditions), conds![want::stage_stopped()]);
    // Unknown (Stopping) then False (Stopped) within the pass: both clocks moved to the stop,
    // although the run was Progressing=False (waiting) and is Progressing=False (stopped).
    assert_eq!(d.stage("s").conditions[0].last_transition_time, Some(t(100)));
    assert_eq!(run_conds(&d), conds![want::initialized(), want::run_stopped()]);
    assert_eq!(d.status().conditions[1].last_transition_time, Some(t(100)));

    d.set_state(State::Run);
    let out = d.step(t(200));
    assert_eq!(got(&d.stage("s").conditions), conds![want::stage_waiting_after()]);
    assert_eq!(out.wake.at, Some(t(700)));
    d.step(t(610));
    assert_eq!(got(&d.stage("s").conditions), conds![want::stage_waiting_after()]);
    d.step(t(700));
    assert_eq!(got(&d.stage("s").conditions), conds![want::stage_succeeded()]);
}

// ----- the deletion stage -----

/// `driver()` with every cluster done and the stage succeeded: the next reconcile enters the
/// deletion stage.
fn before_deletion_stage(hold: bool) -> Driver<ClusterStagedUpdateRun> {
    let mut d = driver();
    d.hub.hold_binding_deletion = hold;
    d.step(t(0));
    d.hub.available("c1");
    d.hub.available("c2");
    d.step(t(10));
    d.hub.available("c3");
    let out = d.step(t(20));
    assert_eq!(got(&d.stage("s").conditions), conds![want::stage_succeeded()]);
    assert_eq!(out.wake.at, Some(t(20)));
    d
}

#[test]
fn stopping_before_any_deletion_stops_the_stage_but_not_the_run() {
    let mut d = before_deletion_stage(false);
    d.set_state(State::Stop);
    for now in [t(30), t(60), t(3600)] {
        let out = d.step(now);
        // Stop never deletes: the binding stays, so the run keeps stopping.
        assert!(out.actions.is_empty());
        assert!(d.hub.try_binding("gone").is_some());
        assert_eq!(got(&d.deletion_stage().conditions), conds![want::stage_stopped()]);
        assert!(d.deletion_stage().clusters[0].conditions.is_empty());
        assert_eq!(run_conds(&d), conds![want::initialized(), want::run_stopping()]);
        assert_eq!(
            out.wake.reason,
            WakeReason::Stopping { stage: well_known::DELETE_STAGE_NAME.into(), clusters: vec![] }
        );
        assert_eq!(out.wake.poll, Some(Duration::from_secs(15)));
    }
}

#[test]
fn a_stopping_deletion_stage_that_empties_ends_stopped_not_succeeded() {
    let mut d = before_deletion_stage(true);
    let out = d.step(t(30));
    assert_eq!(action_log(&out.actions), ["delete-binding crp-gone"]);
    assert_eq!(got(&d.deletion_stage().conditions), conds![want::stage_started()]);

    d.set_state(State::Stop);
    let out = d.step(t(40));
    assert!(out.actions.is_empty());
    assert_eq!(got(&d.deletion_stage().conditions), conds![want::stage_stopping()]);
    assert_eq!(run_conds(&d), conds![want::initialized(), want::run_stopping()]);
    assert_eq!(
        out.wake.reason,
        WakeReason::Stopping { stage: well_known::DELETE_STAGE_NAME.into(), clusters: vec!["gone".into()] }
    );

    d.hub.finish_binding_deletions();
    let out = d.step(t(50));
    assert_eq!(got(&d.deletion_stage().clusters[0].conditions), conds![want::cluster_done()]);
    assert_eq!(got(&d.deletion_stage().conditions), conds![want::stage_stopped()]);
    assert_eq!(run_conds(&d), conds![want::initialized(), want::run_stopped()]);
    assert_eq!(out.wake.reason, WakeReason::Stopped);

    // Success is recorded only once the run is set back to Run.
    d.set_state(State::Run);
    let out = d.step(t(60));
    assert_eq!(got(&d.deletion_stage().conditions), conds![want::stage_succeeded()]);
    assert_eq!(run_conds(&d), conds![want::initialized(), want::run_succeeded()]);
    assert_eq!(out.wake.reason, WakeReason::Succeeded);
}
