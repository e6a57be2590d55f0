//! Approval requests (REFERENCE.md "Labels, names, finalizer", items 1, 27, 33 and the seed
//! preset): what the engine creates, how it accepts, and what it ignores.

#[macro_use]
mod common;

use common::*;

/// One stage `s` (cluster `c1`) gated by an approval before and after.
fn gated_strategy() -> UpdateStrategySpec {
    let mut s = stage("s");
    s.before_stage_tasks = vec![StageTask::approval()];
    s.after_stage_tasks = vec![StageTask::approval()];
    strategy(vec![s])
}

const MEMBERS: Members<'static> = &[("c1", &[("group", "s")])];

fn gated() -> Driver<ClusterStagedUpdateRun> {
    cluster_driver(MEMBERS, gated_strategy(), Some(State::Run))
}

/// The approval requests created by `out`.
fn created(out: &Outcome) -> Vec<&NewApprovalRequest> {
    out.actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateApprovalRequest { request } => Some(request),
            _ => None,
        })
        .collect()
}

fn before_task(d: &Driver<ClusterStagedUpdateRun>) -> Vec<C> {
    got(&d.stage("s").before_stage_task_status[0].conditions)
}

/// Drives `d` past the before-stage approval until the after-stage request exists.
fn to_after_stage(d: &mut Driver<ClusterStagedUpdateRun>) -> Outcome {
    d.step(t(0));
    d.hub.approve("run-before-s");
    d.step(t(10));
    d.hub.available("c1");
    d.step(t(20))
}

// ----- what is created -----

#[test]
fn cluster_scoped_requests() {
    let mut d = gated();
    let out = d.step(t(0));
    let [before] = created(&out)[..] else { panic!("{:?}", out.actions) };
    assert_eq!(before.kind(), "ClusterApprovalRequest");
    assert_eq!(before.object_ref(), ObjectRef::new("ClusterApprovalRequest", "", "run-before-s"));
    assert_eq!(
        serde_json::to_value(before.to_cluster_approval_request()).unwrap(),
        serde_json::json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
            "kind": "ClusterApprovalRequest",
            "metadata": {"name": "run-before-s", "labels": {
                "kubernetes-fleet.io/isLatestUpdateRunApproval": "true",
                "kubernetes-fleet.io/targetUpdateRun": "run",
                "kubernetes-fleet.io/targetUpdatingStage": "s",
                "kubernetes-fleet.io/taskType": "beforeStage"}},
            "spec": {"parentStageRollout": "run", "targetStage": "s"},
        })
    );
    assert_eq!(before_task(&d), conds![want::task_created()]);

    d.hub.approve("run-before-s");
    d.step(t(10));
    d.hub.available("c1");
    let out = d.step(t(20));
    let [after] = created(&out)[..] else { panic!("{:?}", out.actions) };
    assert_eq!(after.name(), "run-after-s");
    assert_eq!(after.task_type(), Some("afterStage"));
    assert_eq!(after.metadata.label(well_known::TARGET_UPDATE_RUN_LABEL), Some("run"));
    assert_eq!(after.metadata.label(well_known::TARGET_UPDATING_STAGE_LABEL), Some("s"));
    assert_eq!(after.metadata.label(well_known::IS_LATEST_UPDATE_RUN_APPROVAL_LABEL), Some("true"));
    assert_eq!(after.spec.target_update_run, "run");
    assert_eq!(after.spec.target_stage, "s");
    assert_eq!(after.metadata.namespace, None);
}

#[test]
fn namespaced_requests() {
    let mut d = namespaced_driver(MEMBERS, gated_strategy(), Some(State::Run));
    let out = d.step(t(0));
    let [before] = created(&out)[..] else { panic!("{:?}", out.actions) };
    assert_eq!(before.object_ref(), ObjectRef::new("ApprovalRequest", "team", "run-before-s"));
    assert_eq!(
        serde_json::to_value(before.to_approval_request()).unwrap(),
        serde_json::json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
            "kind": "ApprovalRequest",
            "metadata": {"name": "run-before-s", "namespace": "team", "labels": {
                "kubernetes-fleet.io/isLatestUpdateRunApproval": "true",
                "kubernetes-fleet.io/targetUpdateRun": "run",
                "kubernetes-fleet.io/targetUpdatingStage": "s",
                "kubernetes-fleet.io/taskType": "beforeStage"}},
            "spec": {"parentStageRollout": "run", "targetStage": "s"},
        })
    );

    // Acceptance names the namespaced kind.
    d.hub.approve("run-before-s");
    let out = d.step(t(10));
    let Action::AcceptApprovalRequest { request, .. } = &out.actions[0] else { panic!("{:?}", out.actions) };
    assert_eq!(*request, ObjectRef::new("ApprovalRequest", "team", "run-before-s"));
}

#[test]
fn seed_config_names_after_stage_requests_run_dash_stage() {
    let mut d = gated();
    d.config = Config::seed_compatible();
    d.step(t(0));
    assert_eq!(d.stage("s").before_stage_task_status[0].approval_request_name, "run-before-s");
    assert_eq!(d.stage("s").after_stage_task_status[0].approval_request_name, "run-s");
    let out = to_after_stage(&mut d);
    assert_eq!(action_log(&out.actions), ["create-approval-request run-s"]);
    assert_eq!(d.hub.approval("run-s").unwrap().metadata.label(well_known::TASK_TYPE_LABEL), Some("afterStage"));
}

#[test]
fn default_config_names_after_stage_requests_run_after_stage() {
    let mut d = gated();
    let out = to_after_stage(&mut d);
    assert_eq!(action_log(&out.actions), ["create-approval-request run-after-s"]);
}

// ----- acceptance -----

#[test]
fn acceptance_action_content() {
    let mut d = gated();
    d.step(t(0));
    // The request's spec was edited once (generation 2) and approved at that generation.
    d.hub.approval_mut("run-before-s").metadata.generation = Some(2);
    d.hub.approve("run-before-s");
    let out = d.step(t(42));
    let Action::AcceptApprovalRequest { request, condition } = &out.actions[0] else { panic!("{:?}", out.actions) };
    assert_eq!(*request, ObjectRef::new("ClusterApprovalRequest", "", "run-before-s"));
    assert_eq!(c(&condition.type_, condition.status, &condition.reason, &condition.message), want::approval_accepted());
    assert_eq!(condition.observed_generation, 2);
    assert_eq!(condition.last_transition_time, Some(t(42)));
    assert_eq!(before_task(&d), conds![want::task_created(), want::task_approved()]);
}

#[test]
fn a_pending_request_deleted_is_recreated() {
    let mut d = gated();
    d.step(t(0));
    d.hub.delete_approval("run-before-s");
    let out = d.step(t(10));
    assert_eq!(action_log(&out.actions), ["create-approval-request run-before-s"]);
    assert_eq!(before_task(&d), conds![want::task_created()]);
    assert!(d.hub.approval("run-before-s").is_some());
}

#[test]
fn an_approved_request_deleted_is_not_recreated() {
    let mut d = gated();
    d.step(t(0));
    d.hub.approve("run-before-s");
    d.step(t(10));
    d.hub.delete_approval("run-before-s");
    let out = d.step(t(20));
    assert!(created(&out).is_empty());
    assert_eq!(before_task(&d), conds![want::task_created(), want::task_approved()]);
}

#[test]
fn acceptance_is_sticky() {
    let mut d = gated();
    d.step(t(0));
    d.hub.approve("run-before-s");
    d.step(t(10));
    d.hub.revoke("run-before-s");
    let out = d.step(t(20));
    assert!(out.actions.is_empty());
    assert_eq!(before_task(&d), conds![want::task_created(), want::task_approved()]);
    assert_eq!(got(&d.stage("s").conditions), conds![want::stage_started()]);
}

#[test]
fn an_accepted_request_counts_although_approved_was_revoked() {
    // The acceptance was written but the run's status was not (a crash in between).
    let mut d = gated();
    d.step(t(0));
    d.hub.approve("run-before-s");
    let out = d.reconcile(t(10));
    d.hub.apply(&out.actions[..1], d.run.metadata_mut());
    assert_eq!(got(&d.hub.approval("run-before-s").unwrap().conditions)[1], want::approval_accepted());
    d.hub.revoke("run-before-s");

    let out = d.step(t(20));
    assert_eq!(action_log(&out.actions), ["update-binding crp-c1", "mark-binding-rollout-started crp-c1"]);
    assert_eq!(before_task(&d), conds![want::task_created(), want::task_approved()]);
}

#[test]
fn a_request_for_another_run_aborts() {
    let mut d = gated();
    d.hub.world.approval_requests.push(ObservedApproval {
        metadata: ObjectMeta { generation: Some(1), ..ObjectMeta::named("run-before-s") },
        spec: ApprovalRequestSpec { target_update_run: "other".into(), target_stage: "s".into(), ..Default::default() },
        conditions: vec![],
    });
    let out = d.step(t(0));
    // The backtick after the wanted run is missing, as in KubeFleet.
    let msg = format!(
        "{ABORT}{UNEXP}the approval request task `/run-before-s` is targeting update run `/other` and stage `s`, want target update run `/run and stage `s`"
    );
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_failed(&msg)]);
    assert_eq!(got(&d.stage("s").conditions), conds![want::stage_failed(&msg)]);
    assert_eq!(before_task(&d), conds![want::task_created()]);
    assert_eq!(action_log(&out.actions), ["add-finalizer run"]);
}

#[test]
fn a_request_for_another_stage_aborts_namespaced() {
    let mut d = namespaced_driver(MEMBERS, gated_strategy(), Some(State::Run));
    d.hub.world.approval_requests.push(ObservedApproval {
        metadata: ObjectMeta { generation: Some(1), ..ObjectMeta::namespaced(NS, "run-before-s") },
        spec: ApprovalRequestSpec { target_update_run: "run".into(), target_stage: "t".into(), ..Default::default() },
        conditions: vec![],
    });
    d.step(t(0));
    let msg = format!(
        "{ABORT}{UNEXP}the approval request task `team/run-before-s` is targeting update run `team/run` and stage `t`, want target update run `team/run and stage `s`"
    );
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_failed(&msg)]);
}

// ----- which approvals count -----

#[test]
fn an_approval_of_an_older_generation_is_ignored() {
    for config in [Config::default(), Config::seed_compatible()] {
        let mut d = gated();
        d.config = config;
        d.step(t(0));
        d.hub.approval_mut("run-before-s").metadata.generation = Some(2);
        d.hub.approve_at("run-before-s", 1);
        let out = d.step(t(10));
        assert!(out.actions.is_empty());
        assert_eq!(before_task(&d), conds![want::task_created()]);
        assert_eq!(got(&d.stage("s").conditions), conds![want::stage_waiting_before()]);
    }
}

#[test]
fn an_approval_without_observed_generation_counts_only_with_the_seed_config() {
    let mut d = gated();
    d.step(t(0));
    d.hub.approve_at("run-before-s", 0);
    let out = d.step(t(10));
    assert!(out.actions.is_empty());
    assert_eq!(before_task(&d), conds![want::task_created()]);

    let mut d = gated();
    d.config = Config::seed_compatible();
    d.step(t(0));
    d.hub.approve_at("run-before-s", 0);
    let out = d.step(t(10));
    let Action::AcceptApprovalRequest { condition, .. } = &out.actions[0] else { panic!("{:?}", out.actions) };
    // Accepted at the request's generation.
    assert_eq!(condition.observed_generation, 1);
    assert_eq!(before_task(&d), conds![want::task_created(), want::task_approved()]);
}

#[test]
fn an_acceptance_of_an_older_generation_does_not_count() {
    // Accepted at generation 1 (the run's status was lost), then the request was edited.
    let mut d = gated();
    d.step(t(0));
    d.hub.approve("run-before-s");
    let out = d.reconcile(t(10));
    d.hub.apply(&out.actions[..1], d.run.metadata_mut());
    d.hub.approval_mut("run-before-s").metadata.generation = Some(2);
    let out = d.step(t(20));
    assert!(out.actions.is_empty());
    assert_eq!(before_task(&d), conds![want::task_created()]);
}

#[test]
fn a_false_approval_is_not_an_approval() {
    let mut d = gated();
    d.step(t(0));
    d.hub.revoke("run-before-s");
    let out = d.step(t(10));
    assert!(out.actions.is_empty());
    assert_eq!(before_task(&d), conds![want::task_created()]);
}
