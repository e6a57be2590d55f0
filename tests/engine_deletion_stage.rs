//! The deletion stage (REFERENCE.md "Execution", last paragraph): after the last stage, the
//! bindings of clusters the placement no longer selects are deleted, all at once.

#[macro_use]
mod common;

use common::*;

/// Stage `s` with `c1`; `x`, `y`, `z` are Unscheduled (`z` on an older policy snapshot).
fn driver(hold: bool) -> Driver<ClusterStagedUpdateRun> {
    let members: Members<'_> = &[("c1", &[("group", "s")]), ("y", &[]), ("x", &[])];
    let mut d = cluster_driver(members, strategy(vec![stage("s")]), Some(State::Run));
    d.hub.hold_binding_deletion = hold;
    d.hub.unschedule("y");
    d.hub.unschedule("x");
    d.hub.add_member("z", &[]);
    d.hub.add_binding("z", "crp-old", BindingState::Unscheduled);
    d
}

/// Runs stage `s` to success; the next reconcile enters the deletion stage.
fn finish_stages(d: &mut Driver<ClusterStagedUpdateRun>) {
    d.step(t(0));
    d.hub.available("c1");
    let out = d.step(t(10));
    assert_eq!(out.wake.reason, WakeReason::StageCompleted { stage: "s".into() });
    assert!(d.deletion_stage().conditions.is_empty(), "not before the next reconcile");
    assert!(d.hub.deleted_bindings.is_empty());
}

fn deletion_cluster(d: &Driver<ClusterStagedUpdateRun>, cluster: &str) -> Vec<C> {
    got(&d.deletion_stage().clusters.iter().find(|c| c.cluster_name == cluster).unwrap().conditions)
}

#[test]
fn to_be_deleted_bindings_are_deleted_at_once() {
    let mut d = driver(true);
    finish_stages(&mut d);
    assert_eq!(cluster_names(d.deletion_stage()), ["x", "y", "z"]);

    let out = d.step(t(20));
    assert_eq!(action_log(&out.actions), ["delete-binding crp-x", "delete-binding crp-y", "delete-binding crp-z"]);
    let Action::DeleteBinding { binding, cluster } = &out.actions[0] else { panic!() };
    assert_eq!(*binding, ObjectRef::new("ClusterResourceBinding", "", "crp-x"));
    assert_eq!(cluster, "x");
    assert_eq!(got(&d.deletion_stage().conditions), conds![want::stage_started()]);
    assert_eq!(d.deletion_stage().start_time, Some(t(20)));
    for c in ["x", "y", "z"] {
        assert_eq!(deletion_cluster(&d, c), conds![want::cluster_started()]);
    }
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_progressing()]);
    assert_eq!(out.wake.reason, WakeReason::Deleting { clusters: vec!["x".into(), "y".into(), "z".into()] });
    assert_eq!(out.wake.poll, Some(Duration::from_secs(15)));
    assert!(out.wake.on_change);

    // Deleting: nothing is issued twice.
    let out = d.step(t(35));
    assert!(out.actions.is_empty());
    assert_eq!(d.deletion_stage().start_time, Some(t(20)));

    d.hub.finish_binding_deletions();
    let out = d.step(t(50));
    for c in ["x", "y", "z"] {
        assert_eq!(deletion_cluster(&d, c), conds![want::cluster_done()]);
    }
    assert_eq!(got(&d.deletion_stage().conditions), conds![want::stage_succeeded()]);
    assert_eq!(d.deletion_stage().end_time, Some(t(50)));
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_succeeded()]);
    assert_eq!(out.wake.reason, WakeReason::Succeeded);
    assert!(out.wake.is_idle());
    // Selected bindings are never deleted.
    assert_eq!(d.hub.deleted_bindings, ["crp-x", "crp-y", "crp-z"]);
    assert!(d.hub.try_binding("c1").is_some());
}

#[test]
fn bindings_gone_at_once_succeed_on_the_next_reconcile() {
    let mut d = driver(false);
    finish_stages(&mut d);
    d.step(t(20));
    assert_eq!(deletion_cluster(&d, "x"), conds![want::cluster_started()]);
    d.step(t(21));
    assert_eq!(deletion_cluster(&d, "x"), conds![want::cluster_done()]);
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_succeeded()]);
}

#[test]
fn a_binding_deleted_by_someone_else_is_started_and_succeeded_in_one_pass() {
    let mut d = driver(true);
    finish_stages(&mut d);
    d.hub.world.bindings.retain(|b| b.spec.target_cluster != "y");
    let out = d.step(t(20));
    assert_eq!(action_log(&out.actions), ["delete-binding crp-x", "delete-binding crp-z"]);
    assert_eq!(deletion_cluster(&d, "y"), conds![want::cluster_done()]);
    assert_eq!(deletion_cluster(&d, "x"), conds![want::cluster_started()]);
}

#[test]
fn a_run_with_only_bindings_to_delete_fails_once_they_are_gone() {
    // KubeFleet re-collects the bindings on every reconcile; with none left at all, validation
    // fails the run before the deletion stage can record its success.
    let mut d = driver(false);
    d.hub.unschedule("c1");
    let out = d.step(t(0));
    assert_eq!(got(&d.stage("s").conditions), conds![want::stage_skipped()]);
    assert!(out.actions.iter().all(|a| !matches!(a, Action::DeleteBinding { .. })));
    let out = d.step(t(0));
    assert_eq!(
        action_log(&out.actions),
        ["delete-binding crp-c1", "delete-binding crp-x", "delete-binding crp-y", "delete-binding crp-z"]
    );
    d.step(t(1));
    let msg = format!("{VALFAIL}no scheduled or to-be-deleted bindings found for the latest policy snapshot /crp-0");
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_failed(&msg)]);
    assert_eq!(got(&d.deletion_stage().conditions), conds![want::stage_started()]);
}

// ----- consistency -----

#[test]
fn a_deleted_cluster_whose_binding_remains_aborts() {
    let mut d = driver(true);
    finish_stages(&mut d);
    mark(&mut d, "x", &[ct::STARTED, ct::SUCCEEDED]);
    let out = d.step(t(20));
    let msg = format!("{ABORT}{UNEXP}the deleted cluster `x` in the deleting stage still has a binding");
    assert_eq!(got(&d.deletion_stage().conditions), conds![want::stage_failed(&msg)]);
    assert_eq!(d.deletion_stage().end_time, Some(t(20)));
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_failed(&msg)]);
    assert!(out.actions.is_empty());
    assert_eq!(out.wake.reason, WakeReason::Failed);
}

#[test]
fn a_deleting_cluster_whose_binding_is_not_deleting_aborts() {
    let mut d = driver(true);
    finish_stages(&mut d);
    mark(&mut d, "y", &[ct::STARTED]);
    let out = d.step(t(20));
    let msg = format!(
        "{ABORT}{UNEXP}the cluster `y` in the deleting stage is marked as deleting but its corresponding binding is not deleting"
    );
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_failed(&msg)]);
    assert_eq!(got(&d.deletion_stage().conditions), conds![want::stage_failed(&msg)]);
    // x was deleted before the pass reached y, as KubeFleet's loop does.
    assert_eq!(action_log(&out.actions), ["delete-binding crp-x"]);
    assert_eq!(deletion_cluster(&d, "x"), conds![want::cluster_started()]);
}

/// Writes True conditions of `types` on a deletion-stage cluster (a corrupted status).
fn mark(d: &mut Driver<ClusterStagedUpdateRun>, cluster: &str, types: &[&str]) {
    d.edit_status(|s| {
        let deletion = s.deletion_stage_status.as_mut().unwrap();
        let c = deletion.clusters.iter_mut().find(|c| c.cluster_name == cluster).unwrap();
        for type_ in types {
            set_condition(&mut c.conditions, Condition::new(*type_, ConditionStatus::True, 1, "x", "x"), t(0));
        }
    });
}
