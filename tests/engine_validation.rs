//! Validation (REFERENCE.md "Validation"): every later reconcile of an initialized, unfinished
//! run re-checks the hub against what initialization recorded. A failure marks only the run
//! failed; the stages are left as they are.

#[macro_use]
mod common;

use common::*;

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

/// A run that initialized and started `a`, the only canary cluster.
fn running() -> Driver<ClusterStagedUpdateRun> {
    let mut d = cluster_driver(MEMBERS, two_stages(), Some(State::Run));
    d.step(t(0));
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_progressing()]);
    assert_eq!(got(&d.cluster("canary", "a").conditions), conds![want::cluster_started()]);
    d
}

/// One reconcile at `t(10)` fails the run with `message` and leaves every stage as it was.
fn assert_validation_fails<R: TestRun>(d: &mut Driver<R>, message: &str) {
    let before = d.status().clone();
    let out = d.step(t(10));
    assert!(out.status_changed);
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_failed(message)]);
    assert_eq!(d.status().stages_status, before.stages_status, "stages must be untouched");
    assert_eq!(d.status().deletion_stage_status, before.deletion_stage_status);
    assert!(out.actions.is_empty(), "{:?}", out.actions);
    assert_eq!(out.wake.reason, WakeReason::Failed);
    assert!(out.wake.is_idle());

    // Terminal from now on.
    let out = d.step(t(20));
    assert!(!out.status_changed && out.actions.is_empty() && out.wake.is_idle());
}

fn aborted(msg: &str) -> String {
    format!("{ABORT}{msg}")
}

fn unexpected(msg: &str) -> String {
    format!("{ABORT}{UNEXP}{msg}")
}

// ----- the placement -----

#[test]
fn placement_removed() {
    let mut d = running();
    d.hub.world.placement = None;
    assert_validation_fails(&mut d, &format!("{VALFAIL}{USER}parent placement not found"));
}

#[test]
fn placement_strategy_type_changed() {
    let mut d = running();
    d.hub.placement_mut().spec.strategy.type_ = Some("RollingUpdate".into());
    assert_validation_fails(
        &mut d,
        &format!(
            "{VALFAIL}{USER}parent placement does not have an external rollout strategy, current strategy: RollingUpdate"
        ),
    );
}

#[test]
fn apply_strategy_changed_prints_both_with_go_formatting() {
    let mut d = running();
    d.hub.placement_mut().spec.strategy.apply_strategy =
        Some(ApplyStrategy { type_: Some("ReportDiff".into()), ..Default::default() });
    assert_validation_fails(
        &mut d,
        &format!(
            "{ABORT}{USER}the applyStrategy in the updateRun is outdated, latest: &{{PartialComparison Always ReportDiff false <nil> Always}}, recorded: &{{PartialComparison Always ClientSideApply false <nil> Always}}"
        ),
    );
}

#[test]
fn apply_strategy_spelled_out_defaults_equal_none() {
    let mut d = running();
    d.hub.placement_mut().spec.strategy.apply_strategy = Some(
        serde_json::from_value(serde_json::json!({"type": "ClientSideApply", "comparisonOption": "PartialComparison",
                                                  "whenToApply": "Always", "whenToTakeOver": "Always"}))
        .unwrap(),
    );
    d.step(t(10));
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_progressing()]);
}

// ----- the policy snapshot -----

#[test]
fn policy_snapshot_index_changed() {
    let mut d = running();
    d.hub.add_policy_snapshot(1);
    for c in ["a", "b", "c"] {
        d.hub.binding_mut(c).spec.scheduling_policy_snapshot_name = "crp-1".into();
    }
    assert_validation_fails(
        &mut d,
        &aborted("the policy snapshot index used in the updateRun is outdated, latest: 1, recorded: 0"),
    );
}

#[test]
fn policy_snapshot_gone() {
    let mut d = running();
    d.hub.world.policy_snapshots.clear();
    assert_validation_fails(&mut d, &format!("{VALFAIL}no latest policy snapshot found for placement /crp"));
}

fn running_pick_n() -> Driver<ClusterStagedUpdateRun> {
    let mut d = cluster_driver(MEMBERS, two_stages(), Some(State::Run));
    d.hub.pick_n(Some("3"));
    d.step(t(0));
    assert_eq!(d.status().policy_observed_cluster_count, 3);
    d
}

#[test]
fn pick_n_count_changed() {
    let mut d = running_pick_n();
    d.hub.pick_n(Some("4"));
    assert_validation_fails(
        &mut d,
        &aborted("the cluster count initialized in the updateRun is outdated, latest: 4, recorded: 3"),
    );
}

#[test]
fn pick_fixed_count_changed() {
    let mut d = cluster_driver(MEMBERS, two_stages(), Some(State::Run));
    d.hub.pick_fixed(&["a", "b", "c"]);
    d.step(t(0));
    d.hub.pick_fixed(&["a", "b"]);
    assert_validation_fails(
        &mut d,
        &aborted("the cluster count initialized in the updateRun is outdated, latest: 2, recorded: 3"),
    );
}

#[test]
fn pick_n_bindings_no_longer_match_the_count() {
    // The count itself is unchanged; the bindings are checked with the init helper's message.
    let mut d = running_pick_n();
    d.hub.world.bindings.retain(|b| b.spec.target_cluster != "b");
    assert_validation_fails(
        &mut d,
        &format!("{VALFAIL}{UNEXP}the number of selected bindings 2 is not equal to the observed cluster count 3"),
    );
}

#[test]
fn pick_all_count_is_never_compared() {
    let mut d = running();
    d.edit_status(|s| s.policy_observed_cluster_count = 99);
    d.step(t(10));
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_progressing()]);
}

// ----- the stages, recomputed against today's clusters -----

#[test]
fn number_of_stages_changed() {
    let mut d = running();
    d.edit_status(|s| {
        s.update_strategy_snapshot
            .as_mut()
            .unwrap()
            .stages
            .push(StageConfig::new("late", selector(&[("group", "none")])))
    });
    assert_validation_fails(&mut d, &aborted("the number of stages in the updateRun has changed, new: 3, existing: 2"));
}

#[test]
fn stage_name_changed() {
    let mut d = running();
    d.edit_status(|s| s.update_strategy_snapshot.as_mut().unwrap().stages[0].name = "first".into());
    assert_validation_fails(
        &mut d,
        &aborted("index `0` stage name in the updateRun has changed, new: first, existing: canary"),
    );
}

#[test]
fn cluster_relabelled_into_another_stage() {
    let mut d = running();
    d.hub.relabel("c", &[("group", "canary")]);
    assert_validation_fails(
        &mut d,
        &aborted("the number of clusters in index `0` stage has changed, new: 2, existing: 1"),
    );
}

#[test]
fn cluster_relabelled_so_the_order_changes() {
    let mut d = running();
    d.hub.relabel("b", &[("group", "prod"), ("order", "0")]);
    assert_validation_fails(&mut d, &aborted("the `0` cluster in the `1` stage has changed, new: b, existing: c"));
}

#[test]
fn cluster_relabelled_out_of_every_stage() {
    let mut d = running();
    d.hub.relabel("b", &[("group", "gone")]);
    assert_validation_fails(
        &mut d,
        &format!("{VALFAIL}{USER}some clusters are not placed in any stage, total 1, showing up to 10: b"),
    );
}

// ----- corrupted statuses -----

#[test]
fn nil_strategy_snapshot() {
    let mut d = running();
    d.edit_status(|s| s.update_strategy_snapshot = None);
    assert_validation_fails(&mut d, &unexpected("the updateRun has nil updateStrategySnapshot"));
    assert_eq!(d.status().update_strategy_snapshot, None);
}

#[test]
fn nil_stages() {
    let mut d = running();
    d.edit_status(|s| s.stages_status.clear());
    assert_validation_fails(&mut d, &unexpected("the updateRun has nil stagesStatus"));
}

#[test]
fn nil_deletion_stage() {
    let mut d = running();
    d.edit_status(|s| s.deletion_stage_status = None);
    assert_validation_fails(&mut d, &unexpected("the updateRun has nil deletionStageStatus"));
    assert_eq!(d.status().deletion_stage_status, None);
}

// ----- stage progress consistency -----

fn set(conditions: &mut Vec<Condition>, type_: &str, status: ConditionStatus, reason: &str) {
    set_condition(conditions, Condition::new(type_, status, 1, reason, "m"), t(0));
}

fn mark_stage_done(s: &mut StageUpdatingStatus) {
    for c in &mut s.clusters {
        set(&mut c.conditions, ct::STARTED, ConditionStatus::True, reasons::CLUSTER_UPDATING_STARTED);
        set(&mut c.conditions, ct::SUCCEEDED, ConditionStatus::True, reasons::CLUSTER_UPDATING_SUCCEEDED);
    }
    set(&mut s.conditions, ct::PROGRESSING, ConditionStatus::False, reasons::STAGE_UPDATING_SUCCEEDED);
    set(&mut s.conditions, ct::SUCCEEDED, ConditionStatus::True, reasons::STAGE_UPDATING_SUCCEEDED);
}

fn three_stage_run() -> Driver<ClusterStagedUpdateRun> {
    let members: Members<'_> = &[("a", &[("group", "one")]), ("b", &[("group", "two")]), ("c", &[("group", "three")])];
    let mut d = cluster_driver(members, strategy(vec![stage("one"), stage("two"), stage("three")]), Some(State::Run));
    d.step(t(0));
    d
}

#[test]
fn finished_stage_after_the_updating_stage() {
    let mut d = three_stage_run();
    d.edit_status(|s| {
        mark_stage_done(&mut s.stages_status[0]);
        set(&mut s.stages_status[1].conditions, ct::PROGRESSING, ConditionStatus::True, "x");
        mark_stage_done(&mut s.stages_status[2]);
    });
    assert_validation_fails(&mut d, &unexpected("the finished stage `2` is after the updating stage `1`"));
}

#[test]
fn finished_stage_with_a_cluster_not_succeeded() {
    let mut d = three_stage_run();
    d.edit_status(|s| {
        mark_stage_done(&mut s.stages_status[0]);
        s.stages_status[0].clusters[0].conditions.pop();
    });
    assert_validation_fails(&mut d, &unexpected("cluster `a` in the finished stage `one` has not succeeded"));
}

#[test]
fn finished_stage_not_right_after_the_last_finished_one() {
    let mut d = three_stage_run();
    d.edit_status(|s| {
        s.stages_status[0].conditions.clear();
        s.stages_status[0].clusters[0].conditions.clear();
        mark_stage_done(&mut s.stages_status[1]);
    });
    assert_validation_fails(
        &mut d,
        &unexpected("the finished stage `two` is not right after the last finished stage with index `-1`"),
    );
}

#[test]
fn two_updating_stages() {
    // A stage waiting for its before-stage approval counts as updating (Progressing=False).
    let mut d = three_stage_run();
    d.edit_status(|s| {
        s.stages_status[0].conditions.clear();
        s.stages_status[0].clusters[0].conditions.clear();
        set(&mut s.stages_status[0].conditions, ct::PROGRESSING, ConditionStatus::False, "StageUpdatingWaiting");
        set(&mut s.stages_status[1].conditions, ct::PROGRESSING, ConditionStatus::Unknown, "StageUpdatingStopping");
    });
    assert_validation_fails(
        &mut d,
        &unexpected("the stage `two` is updating, but there is already a stage with index `0` updating"),
    );
}

#[test]
fn updating_stage_not_right_after_the_last_finished_one() {
    let mut d = three_stage_run();
    d.edit_status(|s| {
        mark_stage_done(&mut s.stages_status[0]);
        set(&mut s.stages_status[2].conditions, ct::PROGRESSING, ConditionStatus::True, "x");
    });
    assert_validation_fails(
        &mut d,
        &unexpected("the updating stage `three` is not right after the last finished stage with index `0`"),
    );
}

#[test]
fn more_clusters_updating_than_max_concurrency() {
    let mut d = running();
    d.step(t(1));
    d.hub.available("a");
    d.step(t(2));
    d.step(t(3)); // prod starts c
    d.edit_status(|s| {
        let b = &mut s.stages_status[1].clusters[1];
        set(&mut b.conditions, ct::STARTED, ConditionStatus::True, reasons::CLUSTER_UPDATING_STARTED);
    });
    assert_validation_fails(
        &mut d,
        &unexpected("the number of updating clusters `2` in the updating stage `prod` exceeds maxConcurrency `1`"),
    );
}

#[test]
fn deletion_stage_active_while_stages_update() {
    let mut d = running();
    d.edit_status(|s| {
        let deletion = s.deletion_stage_status.as_mut().unwrap();
        set(&mut deletion.conditions, ct::PROGRESSING, ConditionStatus::True, reasons::STAGE_UPDATING_STARTED);
    });
    assert_validation_fails(
        &mut d,
        &unexpected(
            "the delete stage is active, but there are still stages updating, updatingStageIndex: 0, lastFinishedStageIndex: -1",
        ),
    );
}

#[test]
fn new_cluster_to_be_deleted_not_in_the_deletion_stage() {
    let mut d = running();
    d.hub.add_member("x", &[("group", "none")]);
    d.hub.add_binding("x", "crp-0", BindingState::Unscheduled);
    assert_validation_fails(&mut d, &unexpected("the cluster `x` to be deleted is not in the delete stage"));
}

// ----- failed stages -----

#[test]
fn failed_stage() {
    let mut d = running();
    d.edit_status(|s| {
        let c = &mut s.stages_status[0].conditions;
        set_condition(c, Condition::new(ct::SUCCEEDED, ConditionStatus::False, 1, "StageUpdatingFailed", "boom"), t(0));
    });
    assert_validation_fails(&mut d, &aborted("the stage `canary` has failed, err: boom"));
}

#[test]
fn failed_deletion_stage() {
    let mut d = running();
    d.edit_status(|s| {
        mark_stage_done(&mut s.stages_status[0]);
        mark_stage_done(&mut s.stages_status[1]);
        let c = &mut s.deletion_stage_status.as_mut().unwrap().conditions;
        set_condition(c, Condition::new(ct::SUCCEEDED, ConditionStatus::False, 1, "StageUpdatingFailed", "gone"), t(0));
    });
    assert_validation_fails(&mut d, &aborted("the delete stage has failed, err: gone"));
}

#[test]
fn validation_fails_in_initialize_state_too() {
    let mut d = cluster_driver(MEMBERS, two_stages(), Some(State::Initialize));
    d.step(t(0));
    d.hub.world.placement = None;
    let out = d.step(t(10));
    assert_eq!(
        got(&d.status().conditions),
        conds![want::initialized(), want::run_failed(&format!("{VALFAIL}{USER}parent placement not found"))]
    );
    assert!(out.wake.is_idle());
}

#[test]
fn namespaced_validation_messages_name_the_namespace() {
    let mut d = namespaced_driver(MEMBERS, two_stages(), Some(State::Run));
    d.step(t(0));
    d.hub.world.policy_snapshots.clear();
    assert_validation_fails(&mut d, &format!("{VALFAIL}no latest policy snapshot found for placement team/crp"));
}

#[test]
fn a_transient_binding_during_validation_is_retried_and_writes_nothing() {
    let mut d = running();
    d.hub.add_member("x", &[("group", "prod"), ("order", "9")]);
    d.hub.add_binding("x", "crp-old", BindingState::Bound);
    let out = d.step(t(10));
    assert!(!out.status_changed);
    assert!(out.actions.is_empty());
    assert_eq!(
        retry_error(&out.wake),
        Some(
            "binding `/crp-x` with old policy snapshot `/crp-old` has state Bound, we might observe a transient state, need retry"
        )
    );
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_progressing()]);
}
