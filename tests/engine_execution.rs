//! Execution in state Run (REFERENCE.md "Execution"): concurrency, binding writes, cluster
//! results, stuck clusters, preemption, empty stages, before- and after-stage tasks.

#[macro_use]
mod common;

use common::*;

/// A run in state Run over one stage `s` of `n` clusters `c1..cn`, with `max_concurrency`.
fn stage_of(n: usize, max_concurrency: Option<IntOrString>) -> Driver<ClusterStagedUpdateRun> {
    let mut s = stage("s");
    s.max_concurrency = max_concurrency;
    let mut d = cluster_driver(&[], strategy(vec![s]), Some(State::Run));
    for i in 1..=n {
        d.hub.join(&format!("c{i}"), &[("group", "s")]);
    }
    d
}

/// The clusters the wake says are updating.
fn updating(out: &Outcome) -> Vec<String> {
    match &out.wake.reason {
        WakeReason::ClustersUpdating { clusters, .. } => clusters.clone(),
        WakeReason::Retry { .. } => panic!("retry: {:?}", out.wake),
        other => panic!("not updating: {other:?}"),
    }
}

fn started_now(out: &Outcome) -> Vec<&str> {
    binding_writes(&out.actions).into_iter().map(|(c, _)| c).collect()
}

fn stage_conds(d: &Driver<ClusterStagedUpdateRun>, stage: &str) -> Vec<C> {
    got(&d.stage(stage).conditions)
}

fn cluster_conds(d: &Driver<ClusterStagedUpdateRun>, cluster: &str) -> Vec<C> {
    let stage = d.status().stages_status.iter().find(|s| s.clusters.iter().any(|c| c.cluster_name == cluster));
    got(&stage.expect("cluster in a stage").clusters.iter().find(|c| c.cluster_name == cluster).unwrap().conditions)
}

// ----- maxConcurrency -----

#[test]
fn max_concurrency_integer() {
    let mut d = stage_of(5, Some(IntOrString::Int(2)));
    let out = d.step(t(0));
    assert_eq!(started_now(&out), ["c1", "c2"]);
    assert_eq!(updating(&out), ["c1", "c2"]);
    assert_eq!(out.wake.poll, Some(Duration::from_secs(15)));
    assert!(out.wake.on_change);
}

#[test]
fn max_concurrency_percent_rounds_down_to_at_least_one() {
    for (percent, n) in [("50%", 2), ("10%", 1), ("100%", 5), ("99%", 4)] {
        let mut d = stage_of(5, Some(IntOrString::String(percent.into())));
        let out = d.step(t(0));
        assert_eq!(started_now(&out).len(), n, "{percent}");
    }
}

#[test]
fn max_concurrency_is_not_capped() {
    let mut d = stage_of(3, Some(IntOrString::Int(10)));
    let out = d.step(t(0));
    assert_eq!(started_now(&out), ["c1", "c2", "c3"]);
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_progressing()]);
}

#[test]
fn max_concurrency_defaults_to_one() {
    let mut d = stage_of(3, None);
    assert_eq!(started_now(&d.step(t(0))), ["c1"]);
}

#[test]
fn a_finished_cluster_frees_its_slot_in_the_same_pass() {
    let mut d = stage_of(3, Some(IntOrString::Int(1)));
    d.step(t(0));
    d.hub.available("c1");
    let out = d.step(t(5));
    assert_eq!(cluster_conds(&d, "c1"), conds![want::cluster_done()]);
    assert_eq!(started_now(&out), ["c2"]);
    assert_eq!(updating(&out), ["c2"]);
}

#[test]
fn succeeded_clusters_take_no_slot() {
    let mut d = stage_of(4, Some(IntOrString::Int(2)));
    d.step(t(0));
    d.hub.available("c1");
    let out = d.step(t(5));
    assert_eq!(started_now(&out), ["c3"]);
    assert_eq!(updating(&out), ["c2", "c3"]);
    // c1 is skipped: c4 is not reached while c2 and c3 are in flight.
    let out = d.step(t(10));
    assert!(out.actions.is_empty());
    d.hub.available("c2");
    let out = d.step(t(15));
    assert_eq!(started_now(&out), ["c4"]);
}

// ----- bringing a binding in sync -----

#[test]
fn binding_sync_writes_the_runs_spec() {
    let mut d = stage_of(2, None);
    d.run.spec.resource_snapshot_index = Some("1".into());
    d.hub.add_resource_snapshot(1, "hash-1");
    // The name is computed from the index, not read from the snapshot object.
    d.hub.world.resource_snapshots[1].metadata.name = Some("renamed".into());
    d.hub.world.overrides.insert(
        "c1".into(),
        ClusterOverrides {
            cluster_resource_override_snapshots: vec!["cro-1".into()],
            resource_override_snapshots: vec![NamespacedName::new("ns", "ro-1")],
        },
    );
    d.hub.binding_mut("c1").metadata.resource_version = Some("42".into());
    let before = d.hub.binding("c1").spec.clone();
    let out = d.step(t(0));

    let Action::UpdateBinding { binding, cluster, resource_version, spec } = &out.actions[1] else {
        panic!("{:?}", out.actions)
    };
    assert_eq!(*binding, ObjectRef::new("ClusterResourceBinding", "", "crp-c1"));
    assert_eq!(cluster, "c1");
    assert_eq!(resource_version.as_deref(), Some("42"));
    let mut expected = before;
    expected.state = BindingState::Bound;
    expected.resource_snapshot_name = "crp-1-snapshot".into();
    expected.cluster_resource_override_snapshots = vec!["cro-1".into()];
    expected.resource_override_snapshots = vec![NamespacedName::new("ns", "ro-1")];
    expected.apply_strategy = Some(ApplyStrategy::defaulted(None));
    assert_eq!(*spec, expected);

    let Action::MarkBindingRolloutStarted { binding, condition, .. } = &out.actions[2] else {
        panic!("{:?}", out.actions)
    };
    assert_eq!(binding.name, "crp-c1");
    assert_eq!(
        c(&condition.type_, condition.status, &condition.reason, &condition.message),
        c(
            ct::ROLLOUT_STARTED,
            ConditionStatus::True,
            reasons::ROLLOUT_STARTED,
            "Detected the new changes on the resources and started the rollout process, resourceSnapshotIndex: 1, updateRun: run"
        )
    );
    assert_eq!(condition.last_transition_time, Some(t(0)));
    // Applied after the spec write: RolloutStarted is at the bumped generation.
    assert_eq!(d.hub.binding("c1").metadata.generation(), 2);
    assert_eq!(d.hub.binding_condition("c1", ct::ROLLOUT_STARTED).unwrap().observed_generation, 2);

    assert_eq!(cluster_conds(&d, "c1"), conds![want::cluster_started()]);
    assert_eq!(stage_conds(&d, "s"), conds![want::stage_started()]);
    assert_eq!(d.stage("s").start_time, Some(t(0)));
    assert_eq!(out.wake.at, Some(t(301)), "c1 is stuck after 5 minutes");
}

#[test]
fn rollout_started_message_with_an_omitted_index_is_empty() {
    let mut d = stage_of(1, None);
    d.run.spec.resource_snapshot_index = None;
    let out = d.step(t(0));
    let Some(Action::MarkBindingRolloutStarted { condition, .. }) = out.actions.get(2) else {
        panic!("{:?}", out.actions)
    };
    assert_eq!(
        condition.message,
        "Detected the new changes on the resources and started the rollout process, resourceSnapshotIndex: , updateRun: run"
    );
    assert_eq!(d.hub.binding("c1").spec.resource_snapshot_name, "crp-0-snapshot");
}

/// The binding of `cluster` already carries what the run would write.
fn pre_sync(d: &mut Driver<ClusterStagedUpdateRun>, cluster: &str, state: BindingState) {
    d.hub.write_binding_spec(cluster, |s| {
        s.state = state;
        s.resource_snapshot_name = "crp-0-snapshot".into();
        s.apply_strategy = Some(ApplyStrategy::defaulted(None));
    });
}

fn rollout_started(d: &mut Driver<ClusterStagedUpdateRun>, cluster: &str) {
    d.hub.report(cluster, ct::ROLLOUT_STARTED, ConditionStatus::True, reasons::ROLLOUT_STARTED);
}

#[test]
fn a_synced_binding_that_is_not_bound_gets_a_state_only_write() {
    let mut d = stage_of(1, None);
    pre_sync(&mut d, "c1", BindingState::Scheduled);
    let before = d.hub.binding("c1").spec.clone();
    let out = d.step(t(0));
    let (_, spec) = binding_writes(&out.actions)[0];
    assert_eq!(*spec, BindingSpec { state: BindingState::Bound, ..before });
    assert_eq!(action_log(&out.actions)[2], "mark-binding-rollout-started crp-c1");
    assert_eq!(cluster_conds(&d, "c1"), conds![want::cluster_started()]);
}

#[test]
fn a_synced_bound_binding_without_rollout_started_only_gets_the_condition() {
    let mut d = stage_of(1, None);
    pre_sync(&mut d, "c1", BindingState::Bound);
    let out = d.step(t(0));
    assert_eq!(action_log(&out.actions), ["add-finalizer run", "mark-binding-rollout-started crp-c1"]);
    assert_eq!(cluster_conds(&d, "c1"), conds![want::cluster_started()]);
}

#[test]
fn an_up_to_date_binding_succeeds_and_starts_in_one_pass_and_takes_a_slot() {
    let mut d = stage_of(2, Some(IntOrString::Int(1)));
    for c in ["c1", "c2"] {
        pre_sync(&mut d, c, BindingState::Bound);
        rollout_started(&mut d, c);
        d.hub.available(c);
    }
    let out = d.step(t(0));
    assert_eq!(action_log(&out.actions), ["add-finalizer run"]);
    // Succeeded is appended before Started.
    assert_eq!(cluster_conds(&d, "c1"), conds![want::cluster_succeeded(), want::cluster_started()]);
    // It took the only slot: c2 waits for the next pass, and the stage is not complete yet.
    assert!(cluster_conds(&d, "c2").is_empty());
    assert_eq!(stage_conds(&d, "s"), conds![want::stage_started()]);
    assert_eq!(updating(&out), Vec::<String>::new());
    // Nothing on the hub will change, but c2 can start now: the wake says so (KubeFleet would
    // find out at its next 15 s poll).
    assert_eq!(out.wake.at, Some(t(0)));

    d.step(t(15));
    assert_eq!(cluster_conds(&d, "c2"), conds![want::cluster_succeeded(), want::cluster_started()]);
    assert_eq!(stage_conds(&d, "s"), conds![want::stage_started()]);

    let out = d.step(t(30));
    assert_eq!(stage_conds(&d, "s"), conds![want::stage_succeeded()]);
    assert_eq!(out.wake.at, Some(t(30)));
}

#[test]
fn a_stale_available_is_ignored() {
    let mut d = stage_of(1, None);
    d.hub.available("c1"); // at generation 1; the run's write makes it 2
    d.step(t(0));
    let out = d.step(t(5));
    assert_eq!(cluster_conds(&d, "c1"), conds![want::cluster_started()]);
    assert_eq!(updating(&out), ["c1"]);
    d.hub.available("c1");
    d.step(t(10));
    assert_eq!(cluster_conds(&d, "c1"), conds![want::cluster_done()]);
}

#[test]
fn diff_reported_counts_as_success() {
    let mut d = stage_of(1, None);
    d.step(t(0));
    d.hub.report("c1", ct::DIFF_REPORTED, ConditionStatus::True, "AllWorkHaveDiffReported");
    d.step(t(5));
    assert_eq!(cluster_conds(&d, "c1"), conds![want::cluster_done()]);
}

// ----- binding failures -----

const RETRY: &str = "the cluster updating encountered an error at stage `s`, updateRun := `run`";

#[test]
fn terminal_binding_failures_are_retried_and_the_run_keeps_going() {
    for (type_, reason) in [
        (ct::OVERRIDDEN, "OverriddenFailed"),
        (ct::WORK_SYNCHRONIZED, "SyncWorkFailed"),
        (ct::APPLIED, "ApplyFailed"),
        (ct::AVAILABLE, "NotAllWorkAreAvailable"),
        (ct::DIFF_REPORTED, "DiffReportingIncompleteOrFailed"),
    ] {
        let mut d = stage_of(3, Some(IntOrString::Int(2)));
        d.step(t(0));
        d.hub.report("c1", type_, ConditionStatus::False, reason);
        d.hub.available("c2");
        let out = d.step(t(5));
        assert_eq!(retry_error(&out.wake), Some(RETRY), "{type_} {reason}");
        assert!(out.wake.on_change);
        assert_eq!(out.wake.at, Some(t(301)), "{type_}: c1 becomes stuck then");
        // The pass's progress is persisted: c2 succeeded, c3 started.
        assert!(out.status_changed);
        assert_eq!(cluster_conds(&d, "c1"), conds![want::cluster_started()]);
        assert_eq!(cluster_conds(&d, "c2"), conds![want::cluster_done()]);
        assert_eq!(cluster_conds(&d, "c3"), conds![want::cluster_started()]);
        assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_progressing()]);

        // The member recovers.
        d.hub.available("c1");
        d.step(t(10));
        assert_eq!(cluster_conds(&d, "c1"), conds![want::cluster_done()], "{type_}");
    }
}

#[test]
fn in_progress_binding_reasons_are_quiet_waits() {
    for (type_, reason) in [
        (ct::OVERRIDDEN, "OverriddenPending"),
        (ct::WORK_SYNCHRONIZED, "WorkNotSynchronizedYet"),
        (ct::APPLIED, "ApplyPending"),
        (ct::AVAILABLE, "ResourceNotAvailableYet"),
    ] {
        let mut d = stage_of(1, None);
        d.step(t(0));
        d.hub.report("c1", type_, ConditionStatus::False, reason);
        let out = d.step(t(5));
        assert_eq!(updating(&out), ["c1"], "{reason}");
        assert!(!out.status_changed, "{reason}");
    }
}

#[test]
fn a_failure_reported_for_an_older_binding_generation_is_ignored() {
    let mut d = stage_of(1, None);
    d.hub.report("c1", ct::APPLIED, ConditionStatus::False, "ApplyFailed"); // generation 1
    d.step(t(0)); // the run's write makes it 2
    let out = d.step(t(5));
    assert_eq!(updating(&out), ["c1"]);
}

#[test]
fn the_same_retriable_error_of_two_clusters_is_reported_once() {
    let mut d = stage_of(2, Some(IntOrString::Int(2)));
    d.step(t(0));
    d.hub.report("c1", ct::APPLIED, ConditionStatus::False, "ApplyFailed");
    d.hub.report("c2", ct::APPLIED, ConditionStatus::False, "ApplyFailed");
    assert_eq!(retry_error(&d.step(t(5)).wake), Some(RETRY));
}

// ----- stuck -----

#[test]
fn stuck_strictly_after_the_threshold() {
    let mut d = stage_of(1, None);
    d.step(t(0));
    let out = d.step(t(300));
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_progressing()]);
    assert_eq!(out.wake.at, Some(t(301)));

    let out = d.step(t(301));
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_stuck("c1", "s")]);
    assert_eq!(out.wake.at, None);
    assert_eq!(out.wake.poll, Some(Duration::from_secs(15)));
    assert_eq!(updating(&out), ["c1"]);

    // Still stuck: nothing moves.
    let out = d.step(t(400));
    assert!(!out.status_changed);

    d.hub.available("c1");
    d.step(t(500));
    assert_eq!(got(&d.status().conditions)[1], want::run_progressing());
}

#[test]
fn stuck_message_lists_three_clusters_then_dots() {
    let mut d = stage_of(4, Some(IntOrString::Int(4)));
    d.step(t(0));
    d.step(t(301));
    assert_eq!(got(&d.status().conditions)[1], want::run_stuck("c1, c2, c3...", "s"));

    let mut d = stage_of(3, Some(IntOrString::Int(3)));
    d.step(t(0));
    d.step(t(301));
    assert_eq!(got(&d.status().conditions)[1], want::run_stuck("c1, c2, c3", "s"));
}

#[test]
fn the_wake_is_the_earliest_stuck_instant() {
    let mut d = stage_of(2, Some(IntOrString::Int(2)));
    d.hub.report("c2", ct::AVAILABLE, ConditionStatus::True, "x"); // stale after the write
    d.step(t(0));
    d.hub.available("c1");
    d.step(t(100)); // c1 done; c2 still in flight since t(0)
    let out = d.step(t(200));
    assert_eq!(out.wake.at, Some(t(301)));
}

// ----- preemption -----

fn preempted(cluster: &str, binding: &str) -> String {
    format!(
        "{USER}the binding of the updating cluster `{cluster}` in the stage `s` is not up-to-date with the desired status, please check the status of binding `{binding}` and see if there is a concurrent updateRun referencing the same placement and updating the same cluster"
    )
}

#[test]
fn preemption_of_a_started_cluster_aborts() {
    for how in ["snapshot", "state", "rollout-started"] {
        let mut d = stage_of(2, None);
        d.step(t(0));
        match how {
            "snapshot" => d.hub.write_binding_spec("c1", |s| s.resource_snapshot_name = "crp-9-snapshot".into()),
            "state" => d.hub.write_binding_spec("c1", |s| s.state = BindingState::Scheduled),
            _ => {
                let conds = &mut d.hub.binding_mut("c1").status.as_mut().unwrap().conditions;
                remove_condition(conds, ct::ROLLOUT_STARTED);
            }
        }
        let out = d.step(t(10));
        let msg = preempted("c1", "crp-c1");
        let abort = format!("{ABORT}{msg}");
        assert_eq!(cluster_conds(&d, "c1"), conds![want::cluster_started(), want::cluster_failed(&msg)], "{how}");
        assert_eq!(stage_conds(&d, "s"), conds![want::stage_failed(&abort)]);
        assert_eq!(d.stage("s").end_time, Some(t(10)));
        assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_failed(&abort)]);
        assert!(out.actions.is_empty());
        assert_eq!(out.wake.reason, WakeReason::Failed);
        assert!(out.wake.is_idle());
    }
}

#[test]
fn preemption_message_names_a_namespaced_binding_with_its_namespace() {
    let mut d = namespaced_driver(&[("c1", &[("group", "s")])], strategy(vec![stage("s")]), Some(State::Run));
    d.step(t(0));
    d.hub.write_binding_spec("c1", |s| s.resource_snapshot_name = "crp-9-snapshot".into());
    d.step(t(10));
    let msg = preempted("c1", "team/crp-c1");
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_failed(&format!("{ABORT}{msg}"))]);
}

#[test]
fn a_not_yet_started_clusters_binding_is_silently_overwritten() {
    let mut d = stage_of(2, None);
    d.hub.write_binding_spec("c2", |s| {
        s.state = BindingState::Bound;
        s.resource_snapshot_name = "crp-9-snapshot".into();
    });
    rollout_started(&mut d, "c2");
    d.step(t(0));
    d.hub.available("c1");
    let out = d.step(t(5));
    assert_eq!(started_now(&out), ["c2"]);
    assert_eq!(d.hub.binding("c2").spec.resource_snapshot_name, "crp-0-snapshot");
    assert_eq!(cluster_conds(&d, "c2"), conds![want::cluster_started()]);
}

#[test]
fn errors_of_one_pass_are_aggregated() {
    let mut d = stage_of(3, Some(IntOrString::Int(3)));
    d.step(t(0));
    d.hub.write_binding_spec("c1", |s| s.resource_snapshot_name = "other".into());
    d.hub.report("c2", ct::APPLIED, ConditionStatus::False, "ApplyFailed");
    d.hub.write_binding_spec("c3", |s| s.resource_snapshot_name = "other".into());
    d.step(t(10));
    let all = format!("[{ABORT}{}, {RETRY}, {ABORT}{}]", preempted("c1", "crp-c1"), preempted("c3", "crp-c3"));
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_failed(&all)]);
    assert_eq!(stage_conds(&d, "s"), conds![want::stage_failed(&all)]);
    assert_eq!(cluster_conds(&d, "c2"), conds![want::cluster_started()]);
    assert_eq!(
        cluster_conds(&d, "c3"),
        conds![want::cluster_started(), want::cluster_failed(&preempted("c3", "crp-c3"))]
    );
}

// ----- empty stages -----

#[test]
fn an_empty_stage_is_skipped_with_an_immediate_wake() {
    let mut empty = stage("empty");
    empty.before_stage_tasks = vec![StageTask::approval()];
    empty.after_stage_tasks = vec![StageTask::approval()];
    let mut d = cluster_driver(&[("c1", &[("group", "s")])], strategy(vec![empty, stage("s")]), Some(State::Run));
    let out = d.step(t(0));
    assert_eq!(stage_conds(&d, "empty"), conds![want::stage_skipped()]);
    assert_eq!(d.stage("empty").start_time, Some(t(0)));
    assert_eq!(d.stage("empty").end_time, Some(t(0)));
    // Its tasks do not run.
    assert!(d.stage("empty").before_stage_task_status[0].conditions.is_empty());
    assert!(d.stage("empty").after_stage_task_status[0].conditions.is_empty());
    assert!(d.hub.world.approval_requests.is_empty());
    assert_eq!(action_log(&out.actions), ["add-finalizer run"]);
    assert_eq!(out.wake.at, Some(t(0)));
    assert_eq!(out.wake.reason, WakeReason::StageCompleted { stage: "empty".into() });
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_progressing()]);

    let out = d.step(t(0));
    assert_eq!(started_now(&out), ["c1"]);
}

// ----- before-stage approval -----

fn gated() -> Driver<ClusterStagedUpdateRun> {
    let mut s = stage("s");
    s.before_stage_tasks = vec![StageTask::approval()];
    let mut d = cluster_driver(&[("c1", &[("group", "s")])], strategy(vec![s]), Some(State::Run));
    d.step(t(0));
    d
}

#[test]
fn before_stage_approval_waits_then_starts_the_stage_in_the_same_reconcile() {
    let mut d = gated();
    let task = |d: &Driver<ClusterStagedUpdateRun>| got(&d.stage("s").before_stage_task_status[0].conditions);
    assert!(d.hub.approval("run-before-s").is_some());
    assert_eq!(stage_conds(&d, "s"), conds![want::stage_waiting_before()]);
    assert_eq!(task(&d), conds![want::task_created()]);
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_waiting("before-stage", "s")]);
    assert_eq!(d.stage("s").start_time, None);

    let out = d.step(t(30));
    assert!(out.actions.is_empty() && !out.status_changed);
    assert_eq!(
        out.wake,
        Wake {
            at: None,
            on_change: true,
            poll: Some(Duration::from_secs(60)),
            reason: WakeReason::BeforeStageApproval { stage: "s".into(), approval_request: "run-before-s".into() },
        }
    );

    d.hub.approve("run-before-s");
    let out = d.step(t(60));
    assert_eq!(
        action_log(&out.actions),
        ["accept-approval-request run-before-s", "update-binding crp-c1", "mark-binding-rollout-started crp-c1"]
    );
    assert_eq!(task(&d), conds![want::task_created(), want::task_approved()]);
    assert_eq!(stage_conds(&d, "s"), conds![want::stage_started()]);
    assert_eq!(d.stage("s").start_time, Some(t(60)));
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_progressing()]);
}

// ----- after-stage tasks -----

fn after_tasks(tasks: Vec<StageTask>) -> Driver<ClusterStagedUpdateRun> {
    let mut s = stage("s");
    s.after_stage_tasks = tasks;
    let mut d = cluster_driver(
        &[("c1", &[("group", "s")]), ("n1", &[("group", "next")])],
        strategy(vec![s, stage("next")]),
        Some(State::Run),
    );
    d.step(t(0));
    d.hub.available("c1");
    d
}

fn minute() -> StageTask {
    StageTask::timed_wait(Duration::from_minutes(1))
}

#[test]
fn after_stage_timed_wait_and_approval_run_in_parallel() {
    let mut d = after_tasks(vec![minute(), StageTask::approval()]);
    let out = d.step(t(10));
    assert_eq!(action_log(&out.actions), ["create-approval-request run-after-s"]);
    assert_eq!(stage_conds(&d, "s"), conds![want::stage_waiting_after()]);
    assert_eq!(got(&d.status().conditions)[1], want::run_waiting("after-stage", "s"));
    let tasks = &d.stage("s").after_stage_task_status;
    assert!(tasks[0].conditions.is_empty());
    assert_eq!(got(&tasks[1].conditions), conds![want::task_created()]);
    assert_eq!(
        out.wake,
        Wake {
            at: Some(t(70)),
            on_change: true,
            poll: Some(Duration::from_secs(60)),
            reason: WakeReason::AfterStageTasks {
                stage: "s".into(),
                wait_until: Some(t(70)),
                approval_request: Some("run-after-s".into()),
            },
        }
    );

    // Approved before the wait ends: accepted now, the wait still holds.
    d.hub.approve("run-after-s");
    let out = d.step(t(20));
    assert_eq!(action_log(&out.actions), ["accept-approval-request run-after-s"]);
    assert_eq!(
        got(&d.stage("s").after_stage_task_status[1].conditions),
        conds![want::task_created(), want::task_approved()]
    );
    assert_eq!(out.wake.at, Some(t(70)));
    assert!(!out.wake.on_change);

    // To the second.
    let out = d.step(t(69));
    assert_eq!(stage_conds(&d, "s"), conds![want::stage_waiting_after()]);
    assert_eq!(out.wake.at, Some(t(70)));
    assert_eq!(out.wake.poll, Some(Duration::from_secs(1)));

    let out = d.step(t(70));
    assert_eq!(got(&d.stage("s").after_stage_task_status[0].conditions), conds![want::task_wait_elapsed()]);
    assert_eq!(stage_conds(&d, "s"), conds![want::stage_succeeded()]);
    assert_eq!(d.stage("s").end_time, Some(t(70)));
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_progressing()]);
    assert_eq!(out.wake.at, Some(t(70)));
    assert_eq!(out.wake.reason, WakeReason::StageCompleted { stage: "s".into() });
    // The next stage begins on the next reconcile, not in this one.
    assert!(d.stage("next").conditions.is_empty());
    assert!(out.actions.is_empty());
    let out = d.step(t(70));
    assert_eq!(started_now(&out), ["n1"]);
}

#[test]
fn a_pending_approval_alone_polls_every_minute() {
    let mut d = after_tasks(vec![minute(), StageTask::approval()]);
    d.step(t(10));
    let out = d.step(t(100));
    assert_eq!(got(&d.stage("s").after_stage_task_status[0].conditions), conds![want::task_wait_elapsed()]);
    assert_eq!(out.wake.at, None);
    assert!(out.wake.on_change);
    assert_eq!(out.wake.poll, Some(Duration::from_secs(60)));

    d.hub.approve("run-after-s");
    d.step(t(110));
    assert_eq!(stage_conds(&d, "s"), conds![want::stage_succeeded()]);
}

#[test]
fn the_run_flips_progressing_on_every_recheck_while_after_stage_tasks_pend() {
    let mut d = after_tasks(vec![StageTask::timed_wait(Duration::from_minutes(10))]);
    d.step(t(10));
    let run_progressing = |d: &Driver<ClusterStagedUpdateRun>| d.status().conditions[1].last_transition_time;
    let stage_progressing = |d: &Driver<ClusterStagedUpdateRun>| d.stage("s").conditions[0].last_transition_time;
    assert_eq!(run_progressing(&d), Some(t(10)));
    assert_eq!(stage_progressing(&d), Some(t(10)));
    for now in [t(100), t(200)] {
        let out = d.step(now);
        // True then back to False within the pass: the time moves although the status did not.
        assert!(out.status_changed);
        assert_eq!(got(&d.status().conditions)[1], want::run_waiting("after-stage", "s"));
        assert_eq!(run_progressing(&d), Some(now));
        // The stage's Progressing is the TimedWait clock and stays put.
        assert_eq!(stage_progressing(&d), Some(t(10)));
        assert_eq!(out.wake.at, Some(t(610)));
    }
}

#[test]
fn a_stage_without_tasks_succeeds_once_its_clusters_do() {
    let mut d = after_tasks(vec![]);
    let out = d.step(t(10));
    assert_eq!(stage_conds(&d, "s"), conds![want::stage_succeeded()]);
    assert_eq!(out.wake.at, Some(t(10)));
    assert_eq!(got(&d.status().conditions)[1], want::run_progressing());
}

#[test]
fn the_whole_run_succeeds() {
    let mut d = after_tasks(vec![]);
    d.step(t(10));
    d.step(t(10)); // next starts n1
    d.hub.available("n1");
    d.step(t(20)); // next succeeds
    let out = d.step(t(20)); // deletion stage: nothing to delete
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_succeeded()]);
    assert_eq!(got(&d.deletion_stage().conditions), conds![want::stage_succeeded()]);
    assert_eq!(out.wake.reason, WakeReason::Succeeded);
    assert!(out.wake.is_idle());
    let out = d.step(t(30));
    assert!(!out.status_changed && out.actions.is_empty() && out.wake.is_idle());
}

// ----- more edges -----

#[test]
fn override_lists_are_compared_in_order() {
    let mut d = stage_of(1, None);
    d.hub.world.overrides.insert(
        "c1".into(),
        ClusterOverrides { cluster_resource_override_snapshots: vec!["a".into(), "b".into()], ..Default::default() },
    );
    d.step(t(0));
    assert_eq!(d.hub.binding("c1").spec.cluster_resource_override_snapshots, ["a", "b"]);
    // Another writer stores the same overrides in another order: no longer in sync.
    d.hub.write_binding_spec("c1", |s| s.cluster_resource_override_snapshots.reverse());
    d.step(t(10));
    let msg = format!("{ABORT}{}", preempted("c1", "crp-c1"));
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_failed(&msg)]);
}

#[test]
fn half_applied_actions_converge() {
    let mut d = stage_of(1, None);
    // The caller applied the binding write, then crashed before the rest and the status.
    let out = d.reconcile(t(0));
    d.hub.apply(&out.actions[..2], d.run.metadata_mut());
    let out = d.step(t(5));
    assert_eq!(action_log(&out.actions), ["mark-binding-rollout-started crp-c1"]);
    assert_eq!(cluster_conds(&d, "c1"), conds![want::cluster_started()]);

    // Everything applied, status lost again: the run only records what happened.
    let mut d = stage_of(1, None);
    let out = d.reconcile(t(0));
    d.hub.apply(&out.actions, d.run.metadata_mut());
    let out = d.step(t(5));
    assert!(out.actions.is_empty());
    assert_eq!(cluster_conds(&d, "c1"), conds![want::cluster_started()]);
    assert_eq!(d.stage("s").start_time, Some(t(5)));
}

#[test]
fn a_sub_second_timed_wait_ends_on_the_next_whole_second() {
    let mut s = stage("s");
    s.after_stage_tasks = vec![StageTask::timed_wait(Duration::from_millis(1500))];
    let mut d = cluster_driver(&[("c1", &[("group", "s")])], strategy(vec![s]), Some(State::Run));
    d.step(t(0));
    d.hub.available("c1");
    let out = d.step(t(10));
    assert_eq!(out.wake.at, Some(t(12)));
    d.step(t(11));
    assert_eq!(stage_conds(&d, "s"), conds![want::stage_waiting_after()]);
    d.step(t(12));
    assert_eq!(stage_conds(&d, "s"), conds![want::stage_succeeded()]);
}

fn with_concurrency(first: Option<&str>, second: Option<&str>, state: State) -> Driver<ClusterStagedUpdateRun> {
    let mut one = stage("one");
    one.max_concurrency = first.map(|v| IntOrString::String(v.into()));
    let mut two = stage("two");
    two.max_concurrency = second.map(|v| IntOrString::String(v.into()));
    let members: Members<'_> = &[("c1", &[("group", "one")]), ("c2", &[("group", "two")])];
    cluster_driver(members, strategy(vec![one, two]), Some(state))
}

#[test]
fn an_invalid_max_concurrency_aborts_the_stage_at_execution() {
    // The CRD would reject "50"; KubeFleet only notices when it computes the concurrency.
    let mut d = with_concurrency(Some("50"), None, State::Run);
    let out = d.step(t(0));
    let msg = format!("{ABORT}invalid value for IntOrString: invalid type: string is not a percentage");
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_failed(&msg)]);
    assert_eq!(stage_conds(&d, "one"), conds![want::stage_failed(&msg)]);
    assert_eq!(action_log(&out.actions), ["add-finalizer run"]);
}

#[test]
fn an_invalid_max_concurrency_of_a_later_stage_fails_validation() {
    let mut d = with_concurrency(None, Some("x%"), State::Run);
    d.step(t(0));
    assert_eq!(cluster_conds(&d, "c1"), conds![want::cluster_started()]);
    let before = d.status().stages_status.clone();
    d.step(t(10));
    let msg = format!(
        r#"{ABORT}invalid value for IntOrString: invalid value "x%": strconv.Atoi: parsing "x": invalid syntax"#
    );
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_failed(&msg)]);
    assert_eq!(d.status().stages_status, before);
}
