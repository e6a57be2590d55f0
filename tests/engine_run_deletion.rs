//! Deleting a run, the finalizer, and the bookkeeping every reconcile does (REFERENCE.md
//! "Reconcile model" steps 1–4, "Deleting the run", item 19).

#[macro_use]
mod common;

use common::*;

const MEMBERS: Members<'static> = &[("c1", &[("group", "s")]), ("c2", &[("group", "t")])];

fn gated_strategy() -> UpdateStrategySpec {
    let mut s = stage("s");
    s.before_stage_tasks = vec![StageTask::approval()];
    s.after_stage_tasks = vec![StageTask::timed_wait(Duration::from_minutes(1))];
    strategy(vec![s, stage("t")])
}

fn delete(run: &mut impl TestRun) {
    run.metadata_mut().deletion_timestamp = Some(t(1000));
}

// ----- deletion -----

#[test]
fn deleting_a_run_deletes_its_approval_requests_and_removes_the_finalizer() {
    let mut d = cluster_driver(MEMBERS, gated_strategy(), Some(State::Run));
    d.step(t(0));
    // Another run's request on the same hub.
    d.hub.world.approval_requests.push(ObservedApproval {
        metadata: {
            let mut m = ObjectMeta::named("other-before-s");
            m.set_label(well_known::TARGET_UPDATE_RUN_LABEL, "other");
            m
        },
        spec: ApprovalRequestSpec { target_update_run: "other".into(), target_stage: "s".into(), ..Default::default() },
        conditions: vec![],
    });
    let status = d.status().clone();
    let bindings = d.hub.world.bindings.clone();

    delete(&mut d.run);
    let out = d.step(t(1000));
    assert_eq!(
        out.actions,
        [
            Action::DeleteApprovalRequests {
                kind: "ClusterApprovalRequest".into(),
                namespace: String::new(),
                labels: [("kubernetes-fleet.io/targetUpdateRun".to_owned(), "run".to_owned())].into(),
            },
            Action::RemoveFinalizer {
                run: ObjectRef::new("ClusterStagedUpdateRun", "", "run"),
                resource_version: None
            },
        ]
    );
    assert!(!out.status_changed);
    assert_eq!(out.status, status);
    assert_eq!(out.wake.reason, WakeReason::Deleted);
    assert!(out.wake.is_idle());
    assert!(d.hub.approval("run-before-s").is_none());
    assert!(d.hub.approval("other-before-s").is_some());
    assert!(!d.run.metadata.has_finalizer(well_known::UPDATE_RUN_FINALIZER));
    // Bindings are left as they are.
    assert_eq!(d.hub.world.bindings, bindings);
}

#[test]
fn deleting_a_namespaced_run() {
    let mut d = namespaced_driver(MEMBERS, gated_strategy(), Some(State::Run));
    d.step(t(0));
    delete(&mut d.run);
    let out = d.step(t(1000));
    assert_eq!(
        out.actions,
        [
            Action::DeleteApprovalRequests {
                kind: "ApprovalRequest".into(),
                namespace: "team".into(),
                labels: [("kubernetes-fleet.io/targetUpdateRun".to_owned(), "run".to_owned())].into(),
            },
            Action::RemoveFinalizer { run: ObjectRef::new("StagedUpdateRun", "team", "run"), resource_version: None },
        ]
    );
}

#[test]
fn deleting_a_failed_run_leaves_its_status() {
    let mut d = cluster_driver(MEMBERS, gated_strategy(), Some(State::Run));
    d.hub.world.strategy = None;
    d.step(t(0));
    let status = d.status().clone();
    delete(&mut d.run);
    d.bump_generation();
    let out = d.step(t(1000));
    assert_eq!(action_log(&out.actions), ["delete-approval-requests", "remove-finalizer run"]);
    assert_eq!(out.status, status, "not even the generation rewrite is written");
}

// ----- the finalizer -----

#[test]
fn the_finalizer_is_added_on_the_first_reconcile() {
    let mut d = cluster_driver(MEMBERS, gated_strategy(), Some(State::Initialize));
    let out = d.step(t(0));
    assert_eq!(
        out.actions[0],
        Action::AddFinalizer { run: ObjectRef::new("ClusterStagedUpdateRun", "", "run"), resource_version: None }
    );
    assert_eq!(
        d.run.metadata.finalizers.as_deref(),
        Some(&["kubernetes-fleet.io/stagedupdaterun-finalizer".to_owned()][..])
    );
    let out = d.step(t(1));
    assert!(out.actions.is_empty());

    let mut d = namespaced_driver(MEMBERS, gated_strategy(), Some(State::Initialize));
    let out = d.step(t(0));
    assert_eq!(
        out.actions[0],
        Action::AddFinalizer { run: ObjectRef::new("StagedUpdateRun", "team", "run"), resource_version: None }
    );
}

#[test]
fn the_finalizer_is_added_even_to_a_failed_run() {
    let mut d = cluster_driver(MEMBERS, gated_strategy(), Some(State::Run));
    d.hub.world.strategy = None;
    d.step(t(0));
    d.run.metadata.finalizers = None;
    let out = d.step(t(1));
    assert_eq!(action_log(&out.actions), ["add-finalizer run"]);
    assert!(!out.status_changed);
}

// ----- bookkeeping -----

/// Every `observedGeneration` in the status: run, stages, tasks, clusters, deletion stage.
fn observed_generations(status: &UpdateRunStatus) -> Vec<i64> {
    let stage = |s: &StageUpdatingStatus| -> Vec<i64> {
        s.conditions
            .iter()
            .chain(s.before_stage_task_status.iter().chain(&s.after_stage_task_status).flat_map(|t| &t.conditions))
            .chain(s.clusters.iter().flat_map(|c| &c.conditions))
            .map(|c| c.observed_generation)
            .collect()
    };
    let mut all: Vec<i64> = status.conditions.iter().map(|c| c.observed_generation).collect();
    for s in status.stages_status.iter().chain(&status.deletion_stage_status) {
        all.extend(stage(s));
    }
    all
}

#[test]
fn every_reconcile_rewrites_every_observed_generation() {
    let mut d = cluster_driver(MEMBERS, gated_strategy(), Some(State::Run));
    d.hub.add_member("gone", &[]);
    d.hub.add_binding("gone", "crp-0", BindingState::Unscheduled);
    d.hub.hold_binding_deletion = true;
    d.step(t(0));
    d.hub.approve("run-before-s");
    d.step(t(10));
    d.hub.available("c1");
    d.step(t(20)); // s waits for its TimedWait
    d.step(t(80)); // s succeeds
    d.step(t(80)); // t starts c2
    d.hub.available("c2");
    d.step(t(90)); // t succeeds
    d.step(t(90)); // deletion stage starts
    let status = d.status();
    assert!(!status.deletion_stage_status.as_ref().unwrap().conditions.is_empty());
    let before = observed_generations(status);
    assert_eq!(before, [1; 15], "run 2, stage s 7, stage t 4, deletion stage 2");

    d.bump_generation();
    d.bump_generation();
    let out = d.step(t(100));
    assert!(out.status_changed);
    let after = observed_generations(d.status());
    assert_eq!(after.len(), before.len());
    assert!(after.iter().all(|g| *g == 3), "{after:?}");
}

/// `status_modified` tells a caller whether its in-memory copy is still the run it read: false on
/// a reconcile that touched nothing, true when KubeFleet's normalizations rewrote the status on a
/// path that writes nothing.
#[test]
fn status_modified_tells_an_untouched_run_from_a_normalized_one() {
    let mut d = cluster_driver(MEMBERS, strategy(vec![stage("s"), stage("t")]), Some(State::Run));
    let mut now = 0;
    while !d.run.status().is_some_and(|s| is_condition_true(&s.conditions, ct::SUCCEEDED, 1)) {
        d.step(t(now));
        d.hub.available("c1");
        d.hub.available("c2");
        now += 10;
        assert!(now < 1000, "the run never succeeded");
    }
    let in_place = |d: &Driver<ClusterStagedUpdateRun>| {
        let mut run = d.run.clone();
        let out = staged_rollout::reconcile_in_place(&mut run, &d.hub.world, t(now), &d.config).expect("reconcile");
        (out, run)
    };

    let (out, run) = in_place(&d);
    assert!(!out.status_changed && !out.status_modified);
    assert_eq!(run, d.run);

    d.bump_generation();
    let (out, run) = in_place(&d);
    assert!(!out.status_changed, "a succeeded run is not written");
    assert!(out.status_modified, "its conditions now observe generation 2 in memory");
    assert_eq!(run.status().unwrap().conditions.iter().map(|c| c.observed_generation).max(), Some(2));
    assert_eq!(d.status().conditions.iter().map(|c| c.observed_generation).max(), Some(1));

    let mut run = d.run.clone();
    run.metadata_mut().deletion_timestamp = Some(t(now));
    let out = staged_rollout::reconcile_in_place(&mut run, &d.hub.world, t(now), &d.config).expect("reconcile");
    assert!(!out.status_modified, "a deleting run's status is left alone");

    let mut run = cluster_run(Some("0"), Some(State::Run));
    run.metadata_mut().deletion_timestamp = Some(t(now));
    assert!(run.status().is_none());
    let out = staged_rollout::reconcile_in_place(&mut run, &d.hub.world, t(now), &d.config).expect("reconcile");
    assert!(!out.status_changed);
    assert!(out.status_modified, "a run read without a status has an empty one in memory");
}

#[test]
fn a_new_generation_does_not_reinitialize() {
    let mut d = cluster_driver(MEMBERS, gated_strategy(), Some(State::Run));
    d.step(t(0));
    let initialized = d.status().conditions[0].clone();
    d.hub.world.strategy = None; // would fail a second initialization
    d.bump_generation();
    d.step(t(50));
    let now = &d.status().conditions[0];
    assert_eq!(now.last_transition_time, initialized.last_transition_time);
    assert_eq!(now.observed_generation, 2);
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_waiting("before-stage", "s")]);
}

#[test]
fn transition_times_move_only_on_status_changes() {
    let mut d = cluster_driver(MEMBERS, gated_strategy(), Some(State::Run));
    d.step(t(0));
    d.hub.approve("run-before-s");
    d.step(t(10));
    let c1 = |d: &Driver<ClusterStagedUpdateRun>| d.cluster("s", "c1").conditions.clone();
    let started = c1(&d)[0].last_transition_time;
    assert_eq!(started, Some(t(10)));
    let initialized = d.status().conditions[0].last_transition_time;
    for now in [t(20), t(30)] {
        d.step(now);
        assert_eq!(c1(&d)[0].last_transition_time, started);
        assert_eq!(d.status().conditions[0].last_transition_time, initialized);
        assert_eq!(d.stage("s").conditions[0].last_transition_time, Some(t(10)));
    }
    // The request was created at t(0) and approved at t(10).
    let task = &d.stage("s").before_stage_task_status[0].conditions;
    assert_eq!(task[0].last_transition_time, Some(t(0)));
    assert_eq!(task[1].last_transition_time, Some(t(10)));
}

#[test]
fn start_and_end_times_are_set_once() {
    let mut d = cluster_driver(MEMBERS, gated_strategy(), Some(State::Run));
    d.step(t(0));
    // Waiting for the before-stage approval is not a start.
    assert_eq!(d.stage("s").start_time, None);
    d.hub.approve("run-before-s");
    d.step(t(10));
    assert_eq!(d.stage("s").start_time, Some(t(10)));
    d.hub.available("c1");
    d.step(t(20));
    assert_eq!(d.stage("s").start_time, Some(t(10)));
    assert_eq!(d.stage("s").end_time, None);
    d.step(t(80));
    assert_eq!(d.stage("s").end_time, Some(t(80)));
    d.step(t(90));
    d.step(t(100));
    assert_eq!((d.stage("s").start_time, d.stage("s").end_time), (Some(t(10)), Some(t(80))));
    assert_eq!(d.stage("t").start_time, Some(t(90)));
}

#[test]
fn every_status_written_survives_a_json_round_trip() {
    // A controller persists the status as JSON and reads it back before the next reconcile.
    let mut d = cluster_driver(MEMBERS, gated_strategy(), Some(State::Run));
    d.hub.add_member("gone", &[]);
    d.hub.add_binding("gone", "crp-0", BindingState::Unscheduled);
    let mut now = 0;
    for _ in 0..12 {
        d.step(t(now));
        let status = d.status().clone();
        let json = serde_json::to_string(&status).unwrap();
        let back: UpdateRunStatus = serde_json::from_str(&json).unwrap();
        assert_eq!(back, status, "{json}");
        d.run.set_status(back);
        if d.hub.approval("run-before-s").is_some_and(|a| a.conditions.is_empty()) {
            d.hub.approve("run-before-s");
        }
        for c in ["c1", "c2"] {
            if d.hub.binding(c).spec.state == BindingState::Bound {
                d.hub.available(c);
            }
        }
        now += 30;
    }
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_succeeded()]);
}
