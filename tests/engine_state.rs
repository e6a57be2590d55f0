//! `spec.state` (REFERENCE.md "Reconcile model" step 7, item 18): Initialize computes and waits,
//! Run executes, Stop stops, and anything else fails the run.

#[macro_use]
mod common;

use common::*;

const MEMBERS: Members<'static> = &[("a", &[("group", "canary")]), ("b", &[("group", "prod")])];

fn driver(state: Option<State>) -> Driver<ClusterStagedUpdateRun> {
    cluster_driver(MEMBERS, strategy(vec![stage("canary"), stage("prod")]), state)
}

fn started(d: &Driver<ClusterStagedUpdateRun>, cluster: &str) -> bool {
    d.status()
        .stages_status
        .iter()
        .flat_map(|s| &s.clusters)
        .any(|c| c.cluster_name == cluster && is_condition_true(&c.conditions, ct::STARTED, d.generation()))
}

#[test]
fn initialize_then_run() {
    let mut d = driver(Some(State::Initialize));
    let out = d.step(t(0));
    assert_eq!(out.wake.reason, WakeReason::AwaitingRunState);
    assert!(!started(&d, "a"));

    d.set_state(State::Run);
    let out = d.step(t(10));
    assert_eq!(action_log(&out.actions), ["update-binding crp-a", "mark-binding-rollout-started crp-a"]);
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_progressing()]);
    assert_eq!(got(&d.stage("canary").conditions), conds![want::stage_started()]);
    assert!(started(&d, "a"));
    // The state edit bumped the generation; every condition is at the new one.
    assert_eq!(d.generation(), 2);
    assert!(d.status().conditions.iter().all(|c| c.observed_generation == 2));
}

#[test]
fn run_stop_and_resume() {
    let mut d = driver(Some(State::Run));
    d.step(t(0));

    d.set_state(State::Stop);
    let out = d.step(t(10));
    assert!(out.actions.is_empty());
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_stopping()]);
    assert_eq!(got(&d.stage("canary").conditions), conds![want::stage_stopping()]);
    assert_eq!(out.wake.reason, WakeReason::Stopping { stage: "canary".into(), clusters: vec!["a".into()] });
    assert_eq!(out.wake.poll, Some(Duration::from_secs(15)));

    d.hub.available("a");
    let out = d.step(t(20));
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_stopped()]);
    assert_eq!(got(&d.stage("canary").conditions), conds![want::stage_stopped()]);
    assert_eq!(got(&d.cluster("canary", "a").conditions), conds![want::cluster_done()]);
    assert_eq!(out.wake.reason, WakeReason::Stopped);
    assert!(out.wake.is_idle());

    // Resume: the stage completes (a finished while stopping), the next one starts after.
    d.set_state(State::Run);
    let out = d.step(t(30));
    assert_eq!(got(&d.stage("canary").conditions), conds![want::stage_succeeded()]);
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_progressing()]);
    assert_eq!(out.wake.at, Some(t(30)));
    d.step(t(30));
    assert!(started(&d, "b"));
}

#[test]
fn run_created_in_stop() {
    let mut d = driver(Some(State::Stop));
    let out = d.step(t(0));
    assert_eq!(action_log(&out.actions), ["add-finalizer run"]);
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_stopped()]);
    assert_eq!(got(&d.stage("canary").conditions), conds![want::stage_stopped()]);
    assert!(d.stage("prod").conditions.is_empty());
    assert_eq!(out.wake.reason, WakeReason::Stopped);

    // A stopped stage counts as the updating stage; Run starts it.
    d.set_state(State::Run);
    let out = d.step(t(10));
    assert_eq!(action_log(&out.actions), ["update-binding crp-a", "mark-binding-rollout-started crp-a"]);
    assert_eq!(got(&d.stage("canary").conditions), conds![want::stage_started()]);
    assert_eq!(d.stage("canary").start_time, Some(t(10)));
}

#[test]
fn unknown_state_fails_without_the_abort_prefix() {
    let mut d = driver(Some("Pause".parse().unwrap()));
    let out = d.step(t(0));
    assert_eq!(
        got(&d.status().conditions),
        conds![want::initialized(), want::run_failed(&format!("{UNEXP}found unsupported updateRun state: Pause"))]
    );
    // Only the run is failed.
    assert!(d.status().stages_status.iter().all(|s| s.conditions.is_empty()));
    assert_eq!(out.wake.reason, WakeReason::Failed);
    assert!(out.wake.is_idle());
    assert_eq!(action_log(&out.actions), ["add-finalizer run"]);
}

#[test]
fn unknown_state_after_initialization() {
    let mut d = driver(Some(State::Initialize));
    d.step(t(0));
    d.set_state("Paused".parse().unwrap());
    d.step(t(10));
    assert_eq!(
        got(&d.status().conditions),
        conds![want::initialized(), want::run_failed(&format!("{UNEXP}found unsupported updateRun state: Paused"))]
    );
}

#[test]
fn missing_state_is_initialize_by_default() {
    let mut d = driver(None);
    let out = d.step(t(0));
    assert_eq!(out.wake.reason, WakeReason::AwaitingRunState);
    assert_eq!(got(&d.status().conditions), conds![want::initialized()]);
    assert!(!started(&d, "a"));
}

#[test]
fn missing_state_is_run_with_the_seed_config() {
    let mut d = driver(None);
    d.config = Config::seed_compatible();
    let out = d.step(t(0));
    assert_eq!(
        action_log(&out.actions),
        ["add-finalizer run", "update-binding crp-a", "mark-binding-rollout-started crp-a"]
    );
    assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_progressing()]);
    assert!(started(&d, "a"));
}

#[test]
fn a_finished_deletion_stage_marks_the_run_succeeded_in_any_state() {
    // The deletion stage succeeded but the run's own success was never written.
    for state in [State::Run, State::Stop, State::Initialize] {
        let mut d = cluster_driver(&[("a", &[("group", "canary")])], strategy(vec![stage("canary")]), Some(State::Run));
        d.step(t(0));
        d.hub.available("a");
        d.step(t(10));
        d.step(t(10));
        assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_succeeded()]);
        d.edit_status(|s| {
            s.conditions.truncate(1);
        });
        d.set_state(state.clone());
        let out = d.step(t(20));
        assert_eq!(got(&d.status().conditions), conds![want::initialized(), want::run_succeeded()], "{state}");
        assert!(out.actions.is_empty());
        assert_eq!(out.wake.reason, WakeReason::Succeeded);
    }
}
