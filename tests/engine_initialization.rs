//! Initialization (REFERENCE.md "Initialization"): every check, its message verbatim, what is
//! persisted on failure, and how the stages, deletion stage, overrides and resource index are
//! computed.

#[macro_use]
mod common;

use common::*;

/// canary: `a`; prod: `b`, `c` sorted by `order`.
const MEMBERS: Members<'static> = &[
    ("a", &[("group", "canary")]),
    ("b", &[("group", "prod"), ("order", "2")]),
    ("c", &[("group", "prod"), ("order", "1")]),
];

fn two_stages() -> UpdateStrategySpec {
    let mut prod = stage("prod");
    prod.sorting_label_key = Some("order".into());
    strategy(vec![stage("canary"), prod])
}

fn driver() -> Driver<ClusterStagedUpdateRun> {
    cluster_driver(MEMBERS, two_stages(), Some(State::Initialize))
}

/// One reconcile fails initialization with `message`: `Initialized=False` is the only
/// condition, nothing but the finalizer is written, and nothing will ever happen again.
fn assert_init_fails<R: TestRun>(d: &mut Driver<R>, message: &str) -> Outcome {
    let out = d.step(t(0));
    assert!(out.status_changed);
    assert_eq!(got(&d.status().conditions), vec![want::init_failed(message)]);
    assert_eq!(action_log(&out.actions), ["add-finalizer run"]);
    assert_eq!(out.wake.reason, WakeReason::Failed);
    assert!(out.wake.is_idle(), "{:?}", out.wake);
    out
}

fn user(msg: &str) -> String {
    format!("{VALFAIL}{USER}{msg}")
}

fn unexpected(msg: &str) -> String {
    format!("{VALFAIL}{UNEXP}{msg}")
}

// ----- 1. placement -----

#[test]
fn placement_missing() {
    let mut d = driver();
    d.hub.world.placement = None;
    assert_init_fails(&mut d, &user("parent placement not found"));
    assert_eq!(d.status().apply_strategy, None);
    assert!(d.status().stages_status.is_empty());
}

#[test]
fn placement_without_strategy_type_is_rolling_update() {
    let mut d = driver();
    d.hub.placement_mut().spec.strategy.type_ = None;
    assert_init_fails(
        &mut d,
        &user("parent placement does not have an external rollout strategy, current strategy: RollingUpdate"),
    );
}

#[test]
fn placement_with_another_strategy_type() {
    let mut d = driver();
    d.hub.placement_mut().spec.strategy.type_ = Some("RollingUpdate".into());
    assert_init_fails(
        &mut d,
        &user("parent placement does not have an external rollout strategy, current strategy: RollingUpdate"),
    );
}

#[test]
fn applied_strategy_is_the_defaulted_one() {
    let mut d = driver();
    d.step(t(0));
    let recorded = serde_json::to_value(d.status().apply_strategy.as_ref().unwrap()).unwrap();
    assert_eq!(
        recorded,
        serde_json::json!({"comparisonOption": "PartialComparison", "whenToApply": "Always",
                           "type": "ClientSideApply", "whenToTakeOver": "Always"})
    );

    // A partly spelled-out strategy is completed the same way.
    let mut d = driver();
    d.hub.placement_mut().spec.strategy.apply_strategy =
        Some(ApplyStrategy { type_: Some("ServerSideApply".into()), ..Default::default() });
    d.step(t(0));
    let recorded = serde_json::to_value(d.status().apply_strategy.as_ref().unwrap()).unwrap();
    assert_eq!(
        recorded,
        serde_json::json!({"comparisonOption": "PartialComparison", "whenToApply": "Always",
                           "type": "ServerSideApply", "serverSideApplyConfig": {"force": false},
                           "whenToTakeOver": "Always"})
    );
}

// ----- 2. policy snapshot -----

#[test]
fn no_latest_policy_snapshot() {
    let mut d = driver();
    d.hub.policy_snapshot_mut().metadata.set_label(well_known::IS_LATEST_SNAPSHOT_LABEL, "false");
    assert_init_fails(&mut d, &format!("{VALFAIL}no latest policy snapshot found for placement /crp"));
}

#[test]
fn no_latest_policy_snapshot_namespaced() {
    let mut d = namespaced_driver(MEMBERS, two_stages(), Some(State::Initialize));
    d.hub.world.policy_snapshots.clear();
    assert_init_fails(&mut d, &format!("{VALFAIL}no latest policy snapshot found for placement team/crp"));
}

#[test]
fn multiple_latest_policy_snapshots() {
    let mut d = driver();
    let mut second = d.hub.world.policy_snapshots[0].clone();
    second.metadata.name = Some("crp-1".into());
    d.hub.world.policy_snapshots.push(second);
    assert_init_fails(&mut d, &unexpected("multiple active policy snapshots found for placement /crp: got 2, want 1"));
}

#[test]
fn policy_snapshot_without_index_label() {
    for value in [None, Some("")] {
        let mut d = driver();
        let labels = d.hub.policy_snapshot_mut().metadata.labels.as_mut().unwrap();
        match value {
            None => labels.remove(well_known::POLICY_INDEX_LABEL),
            Some(v) => labels.insert(well_known::POLICY_INDEX_LABEL.into(), v.into()),
        };
        assert_init_fails(&mut d, &unexpected("policy snapshot `/crp-0` does not have a policy index label"));
        assert_eq!(d.status().policy_snapshot_index_used, "");
    }
}

/// The PickN annotation error is wrapped with `%w, %s`: a comma where every other message has a
/// colon.
fn pick_n_message(err: &str, snapshot: &str) -> String {
    format!(
        "cannot continue the updateRun: failed to validate the updateRun, {UNEXP}{err}: the policy snapshot `{snapshot}` doesn't have valid cluster count annotation"
    )
}

#[test]
fn pick_n_annotation_missing() {
    let mut d = driver();
    d.hub.pick_n(None);
    assert_init_fails(
        &mut d,
        &pick_n_message("cannot find annotation kubernetes-fleet.io/number-of-clusters", "/crp-0"),
    );
    // The index was recorded before the count failed.
    assert_eq!(d.status().policy_snapshot_index_used, "0");
}

#[test]
fn pick_n_annotation_invalid() {
    let mut d = driver();
    d.hub.pick_n(Some("three"));
    assert_init_fails(
        &mut d,
        &pick_n_message(
            r#"invalid annotation kubernetes-fleet.io/number-of-clusters: three is not a valid count: strconv.Atoi: parsing "three": invalid syntax"#,
            "/crp-0",
        ),
    );
}

#[test]
fn pick_n_annotation_negative() {
    // Go wraps a nil error with %w: `%!w(<nil>)`.
    let mut d = namespaced_driver(MEMBERS, two_stages(), Some(State::Initialize));
    d.hub.pick_n(Some("-1"));
    assert_init_fails(
        &mut d,
        &pick_n_message(
            "invalid annotation kubernetes-fleet.io/number-of-clusters: -1 is not a valid count: %!w(<nil>)",
            "team/crp-0",
        ),
    );
}

#[test]
fn pick_n_count_mismatch() {
    let mut d = driver();
    d.hub.pick_n(Some("5"));
    assert_init_fails(
        &mut d,
        &unexpected("the number of selected bindings 3 is not equal to the observed cluster count 5"),
    );
    assert_eq!(d.status().policy_observed_cluster_count, 5);
}

#[test]
fn pick_n_count_recorded() {
    let mut d = driver();
    d.hub.pick_n(Some("3"));
    d.step(t(0));
    assert_eq!(got(&d.status().conditions), vec![want::initialized()]);
    assert_eq!(d.status().policy_observed_cluster_count, 3);
}

#[test]
fn pick_fixed_count_mismatch() {
    // A named cluster without a binding (not joined, say) makes the count differ.
    let mut d = driver();
    d.hub.pick_fixed(&["a", "b", "c", "gone"]);
    assert_init_fails(
        &mut d,
        &unexpected("the number of selected bindings 3 is not equal to the observed cluster count 4"),
    );
    assert_eq!(d.status().policy_observed_cluster_count, 4);
}

#[test]
fn policy_snapshot_not_scheduled() {
    let mut d = driver();
    set_scheduled(d.hub.policy_snapshot_mut(), ConditionStatus::False);
    // The bare snapshot name, not namespace/name.
    assert_init_fails(&mut d, &format!("{VALFAIL}policy snapshot `crp-0` not fully scheduled yet"));
    assert_eq!(d.status().policy_snapshot_index_used, "0");
    assert_eq!(d.status().policy_observed_cluster_count, -1);
}

#[test]
fn policy_snapshot_scheduled_at_an_older_generation_is_not_scheduled() {
    let mut d = namespaced_driver(MEMBERS, two_stages(), Some(State::Initialize));
    d.hub.policy_snapshot_mut().metadata.generation = Some(2);
    assert_init_fails(&mut d, &format!("{VALFAIL}policy snapshot `crp-0` not fully scheduled yet"));
}

// ----- 3. bindings -----

/// The scheduler moved to policy snapshot 1; `moved` bindings follow it, the rest stay on 0.
fn new_policy(d: &mut Driver<ClusterStagedUpdateRun>, moved: &[&str]) {
    d.hub.add_policy_snapshot(1);
    for c in moved {
        d.hub.binding_mut(c).spec.scheduling_policy_snapshot_name = "crp-1".into();
    }
}

#[test]
fn binding_on_an_old_policy_snapshot_is_transient_and_writes_nothing() {
    let mut d = driver();
    new_policy(&mut d, &["a", "b"]);
    let out = d.step(t(0));
    assert!(!out.status_changed);
    assert!(d.run.status.is_none());
    assert_eq!(action_log(&out.actions), ["add-finalizer run"]);
    assert_eq!(
        retry_error(&out.wake),
        Some(
            "binding `/crp-c` with old policy snapshot `/crp-0` has state Scheduled, we might observe a transient state, need retry"
        )
    );

    // Once the scheduler settles, the run initializes; the old Unscheduled binding is deleted
    // at the end.
    d.hub.unschedule("c");
    d.step(t(1));
    assert_eq!(got(&d.status().conditions), vec![want::initialized()]);
    assert_eq!(cluster_names(d.deletion_stage()), ["c"]);
    assert_eq!(d.status().policy_snapshot_index_used, "1");
}

#[test]
fn unscheduled_bindings_on_the_latest_snapshot_are_to_be_deleted() {
    let mut d = driver();
    d.hub.unschedule("b");
    d.step(t(0));
    assert_eq!(got(&d.status().conditions), vec![want::initialized()]);
    assert_eq!(cluster_names(&d.status().stages_status[1]), ["c"]);
    assert_eq!(cluster_names(d.deletion_stage()), ["b"]);
    assert_eq!(d.status().policy_observed_cluster_count, 2);
}

#[test]
fn no_bindings_persists_the_pick_all_count_of_minus_one() {
    let mut d = driver();
    d.hub.world.bindings.clear();
    assert_init_fails(
        &mut d,
        &format!("{VALFAIL}no scheduled or to-be-deleted bindings found for the latest policy snapshot /crp-0"),
    );
    assert_eq!(d.status().policy_observed_cluster_count, -1);
    assert_eq!(d.status().policy_snapshot_index_used, "0");
    let json = serde_json::to_value(d.status()).unwrap();
    assert_eq!(json["policyObservedClusterCount"], -1);
}

#[test]
fn only_to_be_deleted_bindings_initialize() {
    let mut d = driver();
    for c in ["a", "b", "c"] {
        d.hub.unschedule(c);
    }
    d.step(t(0));
    assert_eq!(got(&d.status().conditions), vec![want::initialized()]);
    assert!(d.status().stages_status.iter().all(|s| s.clusters.is_empty()));
    assert_eq!(cluster_names(d.deletion_stage()), ["a", "b", "c"]);
}

// ----- 4. strategy -----

#[test]
fn strategy_missing() {
    let mut d = driver();
    d.hub.world.strategy = None;
    assert_init_fails(&mut d, &user("referenced updateStrategy not found: `/strategy`"));
    // Counted before the strategy was looked up.
    assert_eq!(d.status().policy_observed_cluster_count, 3);
    assert_eq!(d.status().update_strategy_snapshot, None);
}

#[test]
fn strategy_missing_namespaced() {
    let mut d = namespaced_driver(MEMBERS, two_stages(), Some(State::Initialize));
    d.hub.world.strategy = None;
    assert_init_fails(&mut d, &user("referenced updateStrategy not found: `team/strategy`"));
}

// ----- 5. stages: task validation -----

fn tasks_fail(before: Vec<StageTask>, after: Vec<StageTask>, which: &str, err: &str) {
    let mut s = two_stages();
    s.stages[1].before_stage_tasks = before;
    s.stages[1].after_stage_tasks = after;
    let mut d = cluster_driver(MEMBERS, s, Some(State::Initialize));
    let message =
        user(&format!("the {which} stage tasks are invalid, updateStrategy: `/strategy`, stage: prod, err: {err}"));
    assert_init_fails(&mut d, &message);
    // The strategy snapshot is persisted; the stages are not.
    assert!(d.status().update_strategy_snapshot.is_some());
    assert!(d.status().stages_status.is_empty());
    assert_eq!(d.status().deletion_stage_status, None);
}

fn timed_wait(secs: i64) -> StageTask {
    StageTask::timed_wait(Duration::from_secs(secs))
}

fn approval_with_wait(secs: i64) -> StageTask {
    StageTask { wait_time: Some(Duration::from_secs(secs)), ..StageTask::approval() }
}

#[test]
fn before_stage_tasks_at_most_one() {
    tasks_fail(
        vec![StageTask::approval(), StageTask::approval()],
        vec![],
        "before",
        "beforeStageTasks can have at most one task",
    );
}

#[test]
fn before_stage_tasks_approval_only() {
    tasks_fail(
        vec![timed_wait(60)],
        vec![],
        "before",
        "task 0 of type TimedWait is not allowed in beforeStageTasks, allowed type: Approval",
    );
}

#[test]
fn after_stage_tasks_not_twice_the_same_type() {
    tasks_fail(
        vec![],
        vec![timed_wait(1), timed_wait(2)],
        "after",
        "afterStageTasks cannot have two tasks of the same type: TimedWait",
    );
    tasks_fail(
        vec![],
        vec![StageTask::approval(), StageTask::approval()],
        "after",
        "afterStageTasks cannot have two tasks of the same type: Approval",
    );
}

#[test]
fn timed_wait_without_wait_time() {
    let nil = StageTask { wait_time: None, ..timed_wait(1) };
    tasks_fail(
        vec![],
        vec![StageTask::approval(), nil],
        "after",
        "task 1 of type TimedWait has wait duration set to nil",
    );
}

#[test]
fn timed_wait_of_zero_or_less() {
    tasks_fail(vec![], vec![timed_wait(0)], "after", "task 0 of type TimedWait has wait duration <= 0");
    tasks_fail(vec![], vec![timed_wait(-5)], "after", "task 0 of type TimedWait has wait duration <= 0");
}

#[test]
fn approval_wait_times_are_stripped_before_validation() {
    // Go validates `task i of type Approval cannot have wait duration set`, but strips the wait
    // times first, so such a strategy initializes.
    let mut s = two_stages();
    s.stages[0].before_stage_tasks = vec![approval_with_wait(30)];
    s.stages[1].after_stage_tasks = vec![approval_with_wait(30), timed_wait(60)];
    let mut d = cluster_driver(MEMBERS, s, Some(State::Initialize));
    d.step(t(0));
    assert_eq!(got(&d.status().conditions), vec![want::initialized()]);
    let snapshot = d.status().update_strategy_snapshot.as_ref().unwrap();
    assert_eq!(snapshot.stages[0].before_stage_tasks, vec![StageTask::approval()]);
    assert_eq!(snapshot.stages[1].after_stage_tasks, vec![StageTask::approval(), timed_wait(60)]);
}

#[test]
fn approval_wait_times_in_a_persisted_snapshot_are_stripped() {
    let mut d = cluster_driver(MEMBERS, two_stages(), Some(State::Run));
    d.step(t(0));
    d.edit_status(|s| {
        s.update_strategy_snapshot.as_mut().unwrap().stages[1].after_stage_tasks = vec![approval_with_wait(30)];
    });
    let out = d.step(t(1));
    let snapshot = out.status.update_strategy_snapshot.as_ref().unwrap();
    assert_eq!(snapshot.stages[1].after_stage_tasks, vec![StageTask::approval()]);
}

// ----- 5. stages: selection -----

#[test]
fn invalid_label_selector() {
    let mut s = two_stages();
    s.stages[1].label_selector = Some(LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: "group".into(),
            operator: "Near".into(),
            values: Some(vec!["prod".into()]),
            extra: Default::default(),
        }]),
        ..Default::default()
    });
    let mut d = cluster_driver(MEMBERS, s, Some(State::Initialize));
    assert_init_fails(
        &mut d,
        &user(
            r#"the stage label selector is invalid, updateStrategy: `/strategy`, stage: prod, err: "Near" is not a valid label selector operator"#,
        ),
    );
    assert!(d.status().stages_status.is_empty());
}

#[test]
fn a_cluster_in_two_stages() {
    let mut s = two_stages();
    s.stages[1].label_selector = Some(LabelSelector::default());
    let mut d = cluster_driver(MEMBERS, s, Some(State::Initialize));
    assert_init_fails(&mut d, &user("cluster `a` appears in more than one stages"));
    assert!(d.status().stages_status.is_empty());
}

#[test]
fn sorting_label_not_an_integer() {
    let mut d = driver();
    d.hub.relabel("b", &[("group", "prod"), ("order", "2nd")]);
    assert_init_fails(
        &mut d,
        &user(
            r#"the sorting label `order:2nd` on cluster `b` is not valid: strconv.Atoi: parsing "2nd": invalid syntax"#,
        ),
    );
}

#[test]
fn sorting_label_missing_is_an_empty_string() {
    let mut d = driver();
    d.hub.relabel("c", &[("group", "prod")]);
    assert_init_fails(
        &mut d,
        &user(r#"the sorting label `order:` on cluster `c` is not valid: strconv.Atoi: parsing "": invalid syntax"#),
    );
}

#[test]
fn clusters_not_placed_show_ten_sorted_and_the_stages_are_persisted() {
    // Twelve clusters no stage selects, created in reverse order.
    let mut d = driver();
    for i in (0..12).rev() {
        let name = format!("z{i:02}");
        d.hub.add_member(&name, &[("group", "none")]);
        d.hub.schedule(&name);
    }
    let mut s = two_stages();
    s.stages[1].after_stage_tasks = vec![StageTask::approval()];
    d.hub.world.strategy = Some(s);
    assert_init_fails(
        &mut d,
        &user(
            "some clusters are not placed in any stage, total 12, showing up to 10: z00, z01, z02, z03, z04, z05, z06, z07, z08, z09",
        ),
    );
    // The stages computed before the failure are persisted; what comes later is not.
    let status = d.status();
    assert_eq!(status.stages_status.len(), 2);
    assert_eq!(cluster_names(&status.stages_status[0]), ["a"]);
    assert_eq!(cluster_names(&status.stages_status[1]), ["c", "b"]);
    assert_eq!(status.stages_status[1].after_stage_task_status[0].approval_request_name, "run-after-prod");
    assert_eq!(status.deletion_stage_status, None);
    assert_eq!(status.resource_snapshot_index_used, "");
    assert_eq!(status.policy_observed_cluster_count, 15);
}

#[test]
fn nil_selector_selects_none_and_empty_selector_selects_all() {
    let mut s = strategy(vec![stage("everyone"), stage("nobody")]);
    s.stages[0].label_selector = Some(LabelSelector::default());
    s.stages[1].label_selector = None;
    let mut d = cluster_driver(MEMBERS, s, Some(State::Initialize));
    d.step(t(0));
    assert_eq!(cluster_names(d.stage("everyone")), ["a", "b", "c"]);
    assert!(d.stage("nobody").clusters.is_empty());
}

#[test]
fn stage_members_are_selected_clusters_sorted_by_integer_label_then_name() {
    let members: Members<'_> = &[
        ("m-ten", &[("group", "prod"), ("order", "10")]),
        ("m-nine-b", &[("group", "prod"), ("order", "9")]),
        ("m-nine-a", &[("group", "prod"), ("order", "9")]),
        ("m-minus", &[("group", "prod"), ("order", "-1")]),
        ("m-plus", &[("group", "prod"), ("order", "+3")]),
    ];
    let mut prod = stage("prod");
    prod.sorting_label_key = Some("order".into());
    let mut d = cluster_driver(members, strategy(vec![prod]), Some(State::Initialize));
    // A matching member cluster the placement did not pick is not a stage member.
    d.hub.add_member("unpicked", &[("group", "prod"), ("order", "0")]);
    d.step(t(0));
    assert_eq!(cluster_names(d.stage("prod")), ["m-minus", "m-plus", "m-nine-a", "m-nine-b", "m-ten"]);
}

#[test]
fn without_sorting_label_stage_members_are_sorted_by_name() {
    let members: Members<'_> = &[("b2", &[("group", "x")]), ("a1", &[("group", "x")]), ("c3", &[("group", "x")])];
    let mut d = cluster_driver(members, strategy(vec![stage("x")]), Some(State::Initialize));
    d.step(t(0));
    assert_eq!(cluster_names(d.stage("x")), ["a1", "b2", "c3"]);
}

#[test]
fn deletion_stage_is_sorted_by_name() {
    let mut d = driver();
    d.hub.add_policy_snapshot(1);
    for c in ["a", "b", "c"] {
        d.hub.binding_mut(c).spec.scheduling_policy_snapshot_name = "crp-1".into();
    }
    // Unscheduled on the old snapshot and on the latest one.
    for (c, policy) in [("zz", "crp-0"), ("mm", "crp-1"), ("aa", "crp-0")] {
        d.hub.add_member(c, &[]);
        d.hub.add_binding(c, policy, BindingState::Unscheduled);
    }
    d.step(t(0));
    let deletion = d.deletion_stage();
    assert_eq!(deletion.stage_name, "kubernetes-fleet.io/deleteStage");
    assert_eq!(cluster_names(deletion), ["aa", "mm", "zz"]);
    assert!(deletion.conditions.is_empty());
}

#[test]
fn the_initialized_status_in_full() {
    let mut s = two_stages();
    s.stages[0].before_stage_tasks = vec![StageTask::approval()];
    s.stages[1].after_stage_tasks = vec![timed_wait(60), StageTask::approval()];
    let mut d = cluster_driver(MEMBERS, s, Some(State::Initialize));
    d.hub.world.resource_snapshots.clear();
    for i in 0..3 {
        d.hub.add_resource_snapshot(i, &format!("hash-{i}"));
    }
    d.edit_spec(|s| s.resource_snapshot_index = Some("1".into()));
    d.step(t(0));
    let json = serde_json::to_value(d.status()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "policySnapshotIndexUsed": "0",
            "policyObservedClusterCount": 3,
            "resourceSnapshotIndexUsed": "1",
            "appliedStrategy": {"comparisonOption": "PartialComparison", "whenToApply": "Always",
                                "type": "ClientSideApply", "whenToTakeOver": "Always"},
            "stagedUpdateStrategySnapshot": {"stages": [
                {"name": "canary", "labelSelector": {"matchLabels": {"group": "canary"}},
                 "beforeStageTasks": [{"type": "Approval"}]},
                {"name": "prod", "labelSelector": {"matchLabels": {"group": "prod"}}, "sortingLabelKey": "order",
                 "afterStageTasks": [{"type": "TimedWait", "waitTime": "1m0s"}, {"type": "Approval"}]},
            ]},
            "stagesStatus": [
                {"stageName": "canary", "clusters": [{"clusterName": "a"}],
                 "beforeStageTaskStatus": [{"type": "Approval", "approvalRequestName": "run-before-canary"}]},
                {"stageName": "prod", "clusters": [{"clusterName": "c"}, {"clusterName": "b"}],
                 "afterStageTaskStatus": [{"type": "TimedWait"},
                                          {"type": "Approval", "approvalRequestName": "run-after-prod"}]},
            ],
            "deletionStageStatus": {"stageName": "kubernetes-fleet.io/deleteStage", "clusters": []},
            "conditions": [{"type": "Initialized", "status": "True", "observedGeneration": 2,
                            "lastTransitionTime": "2023-11-14T22:13:20Z",
                            "reason": "UpdateRunInitializedSuccessfully",
                            "message": "The UpdateRun initialized successfully"}],
        })
    );
}

// ----- 7. override snapshots -----

#[test]
fn override_snapshots_are_recorded_per_cluster_sorted() {
    let mut d = driver();
    d.hub.world.overrides.insert(
        "b".into(),
        ClusterOverrides {
            cluster_resource_override_snapshots: vec!["cro-z".into(), "cro-a".into()],
            resource_override_snapshots: vec![
                NamespacedName::new("ns2", "ro-a"),
                NamespacedName::new("ns1", "ro-z"),
                NamespacedName::new("ns1", "ro-b"),
            ],
        },
    );
    d.step(t(0));
    let b = d.cluster("prod", "b");
    assert_eq!(b.cluster_resource_override_snapshots, ["cro-a", "cro-z"]);
    assert_eq!(
        b.resource_override_snapshots,
        [NamespacedName::new("ns1", "ro-b"), NamespacedName::new("ns1", "ro-z"), NamespacedName::new("ns2", "ro-a")]
    );
    let a = d.cluster("canary", "a");
    assert!(a.cluster_resource_override_snapshots.is_empty() && a.resource_override_snapshots.is_empty());
}

// ----- 6. resource snapshot -----

fn with_index(index: &str) -> Driver<ClusterStagedUpdateRun> {
    let mut d = driver();
    d.run.spec.resource_snapshot_index = Some(index.into());
    d
}

#[test]
fn resource_index_not_an_integer() {
    for index in ["one", "-1", " 1", "1.0"] {
        let mut d = with_index(index);
        assert_init_fails(
            &mut d,
            &user(&format!("invalid resource snapshot index `{index}` provided, expected an integer >= 0")),
        );
        // Everything before the resource snapshot is persisted.
        assert_eq!(d.status().stages_status.len(), 2);
        assert!(d.status().deletion_stage_status.is_some());
        assert_eq!(d.status().resource_snapshot_index_used, "");
    }
}

#[test]
fn resource_index_is_looked_up_by_its_exact_label() {
    // "00" parses as 0 but no snapshot is labelled "00"; the message prints the parsed integer.
    let mut d = with_index("00");
    assert_init_fails(&mut d, &user("no resourceSnapshots with index `0` found for placement `/crp`"));
}

#[test]
fn resource_index_not_found() {
    let mut d = with_index("7");
    assert_init_fails(&mut d, &user("no resourceSnapshots with index `7` found for placement `/crp`"));

    let mut d = namespaced_driver(MEMBERS, two_stages(), Some(State::Initialize));
    d.run.spec.resource_snapshot_index = Some("7".into());
    assert_init_fails(&mut d, &user("no resourceSnapshots with index `7` found for placement `team/crp`"));
}

#[test]
fn resource_index_without_master_snapshot() {
    let mut d = with_index("0");
    d.hub.world.resource_snapshots[0].metadata.annotations = None;
    assert_init_fails(&mut d, &unexpected("no master resourceSnapshot found for placement /crp"));
}

#[test]
fn resource_index_given_is_recorded() {
    let mut d = with_index("1");
    d.hub.add_resource_snapshot(1, "hash-1");
    d.hub.add_resource_snapshot(2, "hash-2");
    d.step(t(0));
    assert_eq!(d.status().resource_snapshot_index_used, "1");
}

#[test]
fn omitted_index_uses_the_latest_snapshot_when_its_hash_matches() {
    let mut d = driver();
    d.run.spec.resource_snapshot_index = None;
    d.hub.add_resource_snapshot(1, "hash-1");
    d.hub.world.current_resource_hash = Some("hash-1".into());
    let out = d.step(t(0));
    assert_eq!(action_log(&out.actions), ["add-finalizer run"]);
    assert_eq!(d.status().resource_snapshot_index_used, "1");
    assert_eq!(got(&d.status().conditions), vec![want::initialized()]);
}

#[test]
fn omitted_index_asks_for_a_new_snapshot_then_converges() {
    let mut d = driver();
    d.run.spec.resource_snapshot_index = None;
    d.hub.add_resource_snapshot(1, "hash-1");
    d.hub.world.current_resource_hash = Some("hash-2".into());
    let out = d.step(t(0));
    assert!(!out.status_changed);
    assert!(d.run.status.is_none());
    assert_eq!(out.wake.reason, WakeReason::SnapshotRequested);
    assert_eq!(
        out.actions[1],
        Action::CreateResourceSnapshot {
            placement: ObjectRef::new("ClusterResourcePlacement", "", "crp"),
            index: 2,
            resource_hash: "hash-2".into(),
        }
    );

    // The caller created it: the run initializes on it.
    let out = d.step(t(1));
    assert!(out.actions.is_empty());
    assert_eq!(d.status().resource_snapshot_index_used, "2");
    assert_eq!(got(&d.status().conditions), vec![want::initialized()]);
}

#[test]
fn omitted_index_without_any_snapshot_asks_for_index_zero() {
    let mut d = namespaced_driver(MEMBERS, two_stages(), Some(State::Initialize));
    d.run.spec.resource_snapshot_index = None;
    d.hub.world.resource_snapshots.clear();
    d.hub.world.current_resource_hash = Some("h".into());
    let out = d.step(t(0));
    assert_eq!(
        out.actions[1],
        Action::CreateResourceSnapshot {
            placement: ObjectRef::new("ResourcePlacement", "team", "crp"),
            index: 0,
            resource_hash: "h".into(),
        }
    );
    d.step(t(1));
    assert_eq!(d.status().resource_snapshot_index_used, "0");
}

// ----- terminal failure, Initialize state -----

#[test]
fn init_failure_is_terminal() {
    let mut d = driver();
    d.hub.world.strategy = None;
    assert_init_fails(&mut d, &user("referenced updateStrategy not found: `/strategy`"));
    let failed = d.status().clone();

    // Fixing the hub changes nothing, and neither does a new generation of the run.
    d.hub.world.strategy = Some(two_stages());
    for now in [t(10), t(3600)] {
        let out = d.step(now);
        assert!(!out.status_changed);
        assert!(out.actions.is_empty());
        assert!(out.wake.is_idle());
        assert_eq!(out.wake.reason, WakeReason::Failed);
    }
    d.set_state(State::Run);
    let out = d.step(t(4000));
    assert!(out.actions.is_empty() && out.wake.is_idle());
    assert_eq!(got(&d.status().conditions), got(&failed.conditions));
}

#[test]
fn initialize_state_computes_but_does_not_execute() {
    let mut d = driver();
    let out = d.step(t(0));
    assert_eq!(action_log(&out.actions), ["add-finalizer run"]);
    assert_eq!(out.wake.reason, WakeReason::AwaitingRunState);
    assert!(out.wake.is_idle());
    assert_eq!(got(&d.status().conditions), vec![want::initialized()]);
    assert!(d.status().stages_status.iter().all(|s| s.conditions.is_empty() && s.start_time.is_none()));
    assert_eq!(d.hub.binding("a").spec.state, BindingState::Scheduled);

    // Waiting in Initialize writes nothing.
    let out = d.step(t(60));
    assert!(!out.status_changed && out.actions.is_empty());
    assert_eq!(out.wake.reason, WakeReason::AwaitingRunState);
}

// ----- stage names (this crate's documented check) -----

#[test]
fn hyphenated_stage_names_need_the_seed_config() {
    let s = || strategy(vec![StageConfig::new("dev-clusters", LabelSelector::default())]);
    let mut d = cluster_driver(MEMBERS, s(), Some(State::Initialize));
    assert_init_fails(
        &mut d,
        &user(
            r#"updateStrategy `/strategy`: spec.stages[0].name: "dev-clusters": Invalid value: must match '^[a-z0-9]+$' (lowercase letters and digits only)"#,
        ),
    );

    let mut d = cluster_driver(MEMBERS, s(), Some(State::Initialize));
    d.config = Config::seed_compatible();
    d.step(t(0));
    assert_eq!(got(&d.status().conditions), vec![want::initialized()]);
    assert_eq!(cluster_names(d.stage("dev-clusters")), ["a", "b", "c"]);
}

// ----- one World for a whole hub -----

#[test]
fn objects_of_other_placements_and_namespaces_are_ignored() {
    // Policy snapshots (labelled latest), resource snapshots and bindings (one Unscheduled) of:
    // the same placement name in another namespace, another placement in the run's namespace,
    // and a cluster-scoped placement of the same name.
    let mut d = namespaced_driver(MEMBERS, two_stages(), Some(State::Initialize));
    let others = [
        (Hub::new("elsewhere", MEMBERS, 1), "a"),
        (Hub::with_placement(NS, "other", &[("a", &[]), ("zz", &[])], 1), "zz"),
        (Hub::new("", &[("q", &[])], 1), "q"),
    ];
    for (mut hub, unscheduled) in others {
        hub.unschedule(unscheduled);
        let w = &mut d.hub.world;
        w.policy_snapshots.append(&mut hub.world.policy_snapshots);
        w.resource_snapshots.append(&mut hub.world.resource_snapshots);
        w.bindings.append(&mut hub.world.bindings);
    }
    d.step(t(0));
    assert_eq!(got(&d.status().conditions), vec![want::initialized()]);
    assert_eq!(cluster_names(d.stage("prod")), ["c", "b"]);
    assert!(d.deletion_stage().clusters.is_empty());
    assert_eq!(d.status().policy_observed_cluster_count, 3);
}

#[test]
fn inputs_no_hub_could_produce_are_caller_errors() {
    let d = driver();
    let mut world = d.hub.world.clone();
    world.placement.as_mut().unwrap().metadata.name = Some("other".into());
    assert_eq!(
        reconcile(&d.run, &world, t(0), &d.config),
        Err(EngineError::PlacementMismatch { expected: "/crp".into(), found: "/other".into() })
    );

    let mut world = d.hub.world.clone();
    world.member_clusters.push(world.member_clusters[0].clone());
    assert_eq!(
        reconcile(&d.run, &world, t(0), &d.config),
        Err(EngineError::DuplicateObject { kind: "MemberCluster", name: "a".into() })
    );
}

#[test]
fn bindings_pair_with_clusters_by_target_whatever_their_names() {
    // Bindings named against their clusters' order, and two bindings for `a`.
    let mut d = cluster_driver(MEMBERS, two_stages(), Some(State::Run));
    for (cluster, name) in [("a", "z-1"), ("b", "y"), ("c", "x")] {
        d.hub.binding_mut(cluster).metadata.name = Some(name.into());
    }
    let mut second = d.hub.binding("a").clone();
    second.metadata.name = Some("z-2".into());
    d.hub.world.bindings.insert(0, second.into());
    let out = d.step(t(0));
    let status = d.status();
    assert_eq!(cluster_names(&status.stages_status[0]), ["a"]);
    assert_eq!(cluster_names(&status.stages_status[1]), ["c", "b"]);
    // For `a`, the binding last by name wins, as in KubeFleet's map of bindings by cluster.
    assert_eq!(
        action_log(&out.actions),
        ["add-finalizer run", "update-binding z-2", "mark-binding-rollout-started z-2"]
    );
}

#[test]
fn a_binding_for_a_cluster_that_is_not_a_member_is_not_placed() {
    let mut d = driver();
    d.hub.schedule("ghost");
    assert_init_fails(&mut d, &user("some clusters are not placed in any stage, total 1, showing up to 10: ghost"));
}
