//! The seed how-to, replayed through `reconcile` alone (no simulator): the cluster-scoped rollout
//! and rollback, the namespaced rollout and rollback, under the seed-compatibility preset; and
//! the same walkthrough under today's defaults, where it behaves as today's KubeFleet would.
//!
//! The seed prints two statuses (example-run mid-rollout, example-run-2 at the end). They come
//! from an older KubeFleet, so `seed_view` translates the few reasons that controller wrote
//! differently, each named below, before comparing stages, clusters, tasks and conditions.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::{Value, json};

/// The how-to's timeline starts when `example-run` is created.
fn at(secs: i64) -> Time {
    "2025-03-12T10:10:00Z".parse::<Time>().unwrap().add_ceil(Duration::from_secs(secs))
}

/// How the simulated people and member agents behave in these replays.
struct Behaviour {
    /// A member reports Available this long after its binding's rollout started.
    apply_delay: i64,
    /// A person approves a request this long after it is created (`None`: never).
    approve_after: Option<i64>,
    /// Approve like the seed's namespaced patch: no observedGeneration.
    approve_without_generation: bool,
}

const SEED_BEHAVIOUR: Behaviour =
    Behaviour { apply_delay: 15, approve_after: Some(144), approve_without_generation: false };

enum Event {
    Available(String),
    Approve(String),
}

/// Drives one run to the end: the engine is called when its wake says so and whenever a watch
/// would fire (a member reported, an approval was granted). `observe` sees every outcome.
fn drive<R: TestRun>(
    d: &mut Driver<R>,
    start: Time,
    behaviour: &Behaviour,
    mut observe: impl FnMut(&Driver<R>, &Outcome),
) -> Time {
    let mut now = start;
    let mut pending: BTreeMap<(Time, usize), Event> = BTreeMap::new();
    let mut seq = 0;
    for _ in 0..200 {
        let outcome = d.step(now);
        observe(d, &outcome);
        for action in &outcome.actions {
            seq += 1;
            match action {
                Action::MarkBindingRolloutStarted { cluster, .. } => {
                    pending.insert(
                        (now.add_ceil(Duration::from_secs(behaviour.apply_delay)), seq),
                        Event::Available(cluster.clone()),
                    );
                }
                Action::CreateApprovalRequest { request } => {
                    if let Some(after) = behaviour.approve_after {
                        pending.insert(
                            (now.add_ceil(Duration::from_secs(after)), seq),
                            Event::Approve(request.name().to_owned()),
                        );
                    }
                }
                _ => {}
            }
        }
        if outcome.wake.is_idle() {
            return now;
        }
        let next_event = pending.keys().next().map(|(t, _)| *t);
        now = match (outcome.wake.at, next_event) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).expect("a run waiting on nothing"),
        };
        while let Some(entry) = pending.first_entry() {
            if entry.key().0 > now {
                break;
            }
            match entry.remove() {
                Event::Available(cluster) => d.hub.available(&cluster),
                Event::Approve(name) if behaviour.approve_without_generation => {
                    let a = d.hub.world.approval_requests.iter_mut().find(|a| a.metadata.name() == name).unwrap();
                    a.conditions.push(Condition::new("Approved", ConditionStatus::True, 0, "approved", "approved"));
                }
                Event::Approve(name) => d.hub.approve(&name),
            }
        }
    }
    panic!("the run did not finish within 200 reconciles");
}

/// Stages, clusters, tasks and conditions (type, status, reason) of a status: what the seed's
/// printed statuses are compared on. Times, messages and observedGeneration are left out, as
/// KubeFleet's own integration tests leave them out.
fn structure(status: &UpdateRunStatus) -> Value {
    fn conditions(c: &[Condition]) -> Value {
        c.iter().map(|c| json!([c.type_, c.status.as_str(), c.reason])).collect()
    }
    fn stage(s: &StageUpdatingStatus) -> Value {
        json!({
            "stage": s.stage_name,
            "clusters": s.clusters.iter().map(|c| json!({"cluster": c.cluster_name, "conditions": conditions(&c.conditions)})).collect::<Vec<_>>(),
            "afterStageTasks": s.after_stage_task_status.iter().map(|t| json!({"type": t.type_.as_str(), "approvalRequest": t.approval_request_name, "conditions": conditions(&t.conditions)})).collect::<Vec<_>>(),
            "conditions": conditions(&s.conditions),
        })
    }
    json!({
        "conditions": conditions(&status.conditions),
        "stages": status.stages_status.iter().map(stage).collect::<Vec<_>>(),
        "deletionStage": status.deletion_stage_status.as_ref().map(stage),
        "policySnapshotIndexUsed": status.policy_snapshot_index_used,
        "policyObservedClusterCount": status.policy_observed_cluster_count,
        "strategy": status.update_strategy_snapshot.as_ref().map(|s| s.stages.iter().map(|st| json!({
            "name": st.name,
            "afterStageTasks": st.after_stage_tasks.iter().map(|t| json!([t.type_.as_str(), t.wait_time.map(|w| w.to_string())])).collect::<Vec<_>>(),
        })).collect::<Vec<_>>()),
    })
}

/// The seed's printed status, with each reason the older controller wrote replaced by today's.
fn seed_view(fixture: &str, run_finished: bool) -> Value {
    let run: ClusterStagedUpdateRun = serde_saphyr::from_str(fixture).expect("seed fixture parses");
    let mut view = structure(run.status.as_ref().expect("the seed prints a status"));
    let old_to_new = |triple: &mut Value, old: [&str; 3], new: [&str; 3]| {
        if *triple == json!(old) {
            *triple = json!(new);
        }
    };
    // 1. The run's Progressing: the older controller left `True UpdateRunStarted` for the whole
    //    run; today it is `True UpdateRunProgressing`, and `False UpdateRunSucceeded` at the end.
    for c in view["conditions"].as_array_mut().unwrap() {
        let new = if run_finished {
            ["Progressing", "False", "UpdateRunSucceeded"]
        } else {
            ["Progressing", "True", "UpdateRunProgressing"]
        };
        old_to_new(c, ["Progressing", "True", "UpdateRunStarted"], new);
    }
    let stages = view["stages"].as_array_mut().unwrap();
    for s in stages.iter_mut() {
        let finished = s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| *c == json!(["Succeeded", "True", "StageUpdatingSucceeded"]));
        for c in s["conditions"].as_array_mut().unwrap() {
            // 2. A finished stage: the older controller left `Progressing=False
            //    StageUpdatingWaiting`; today it is `StageUpdatingSucceeded`.
            if finished {
                old_to_new(
                    c,
                    ["Progressing", "False", "StageUpdatingWaiting"],
                    ["Progressing", "False", "StageUpdatingSucceeded"],
                );
            }
        }
        for task in s["afterStageTasks"].as_array_mut().unwrap() {
            for c in task["conditions"].as_array_mut().unwrap() {
                // 3. Approval task reasons: the older controller prefixed them with `AfterStage`
                //    (its conditions were after-stage only); today's are `StageTask…`.
                old_to_new(
                    c,
                    ["ApprovalRequestCreated", "True", "AfterStageTaskApprovalRequestCreated"],
                    ["ApprovalRequestCreated", "True", "StageTaskApprovalRequestCreated"],
                );
                old_to_new(
                    c,
                    ["ApprovalRequestApproved", "True", "AfterStageTaskApprovalRequestApproved"],
                    ["ApprovalRequestApproved", "True", "StageTaskApprovalRequestApproved"],
                );
            }
        }
    }
    // 4. The finished deletion stage: the older controller left `Progressing=True
    //    StageUpdatingStarted`; today it is `False StageUpdatingSucceeded`.
    for c in view["deletionStage"]["conditions"].as_array_mut().into_iter().flatten() {
        old_to_new(
            c,
            ["Progressing", "True", "StageUpdatingStarted"],
            ["Progressing", "False", "StageUpdatingSucceeded"],
        );
    }
    view
}

fn seed_cluster_driver(run: &str, index: &str, hub: Hub, config: Config) -> Driver<ClusterStagedUpdateRun> {
    let mut meta = ObjectMeta::named(run);
    meta.generation = Some(1);
    let spec = UpdateRunSpec::new("example-placement", Some(index), "example-strategy");
    Driver { hub, run: ClusterStagedUpdateRun::new(meta, spec), config }
}

fn cluster_names(stage: &StageUpdatingStatus) -> Vec<&str> {
    stage.clusters.iter().map(|c| c.cluster_name.as_str()).collect()
}

fn seed_cluster_hub() -> Hub {
    let mut hub = Hub::with_placement("", "example-placement", SEED_CLUSTERS, 2);
    hub.world.strategy = Some(seed_strategy());
    hub
}

#[test]
fn cluster_scoped_rollout_and_rollback_match_the_seed() {
    let mut d = seed_cluster_driver("example-run", "1", seed_cluster_hub(), Config::seed_compatible());
    let mut events: Vec<String> = Vec::new();
    let mut mid_rollout: Option<UpdateRunStatus> = None;
    let end = drive(&mut d, at(0), &SEED_BEHAVIOUR, |d, o| {
        for a in &o.actions {
            if let Action::UpdateBinding { cluster, spec, .. } = a {
                events.push(format!("bind {cluster} -> {}", spec.resource_snapshot_name));
            }
            if let Action::CreateApprovalRequest { request } = a {
                events.push(format!("request {}", request.name()));
            }
        }
        // The seed's first status: canary executing, member3 done, member1 started.
        let s = d.run.status().unwrap();
        if let Some(canary) = s.stages_status.get(1) {
            let started = |c: &ClusterUpdatingStatus, t: &str| c.conditions.iter().any(|x| x.type_ == t);
            if canary.clusters.len() == 2
                && started(&canary.clusters[0], "Succeeded")
                && started(&canary.clusters[1], "Started")
                && !started(&canary.clusters[1], "Succeeded")
            {
                mid_rollout.get_or_insert_with(|| s.clone());
            }
        }
    });
    assert_eq!(
        events,
        [
            "bind member2 -> example-placement-1-snapshot",
            "bind member3 -> example-placement-1-snapshot",
            "bind member1 -> example-placement-1-snapshot",
            "request example-run-canary"
        ]
    );
    let status = d.status();
    assert_eq!(cluster_names(&status.stages_status[0]), ["member2"]);
    assert_eq!(cluster_names(&status.stages_status[1]), ["member3", "member1"]);

    // The 1m TimedWait holds to the second: staging's clusters finished at +15s, canary's
    // first cluster started at +75s.
    let staging = &status.stages_status[0];
    let waiting_since = find_condition(&staging.conditions, "Progressing").unwrap().last_transition_time.unwrap();
    assert_eq!(waiting_since, at(15));
    let canary_start = status.stages_status[1].start_time.unwrap();
    assert_eq!(canary_start, at(75));

    // The approval request exists only after canary's clusters succeeded.
    let requested_at =
        find_condition(&status.stages_status[1].after_stage_task_status[0].conditions, "ApprovalRequestCreated")
            .unwrap()
            .last_transition_time
            .unwrap();
    let last_cluster_done = find_condition(&status.stages_status[1].clusters[1].conditions, "Succeeded")
        .unwrap()
        .last_transition_time
        .unwrap();
    assert_eq!(requested_at, last_cluster_done);
    assert_eq!(
        d.hub.approval("example-run-canary").unwrap().metadata.label("kubernetes-fleet.io/taskType"),
        Some("afterStage")
    );

    // Compared with the seed's printed status, mid-rollout.
    let mid = mid_rollout.expect("a moment like the seed's first status");
    assert_eq!(
        structure(&mid),
        seed_view(include_str!("fixtures/seed/cluster-staged-update-run-example-run-status.yaml"), false)
    );
    insta::assert_json_snapshot!("example_run_final_status", d.status());
    assert!(end > at(0));

    // Rollback: a second run on snapshot 0 over the same hub rolls every member back.
    let hub = std::mem::replace(&mut d.hub, Hub::new("", &[], 0));
    let mut d2 = seed_cluster_driver("example-run-2", "0", hub, Config::seed_compatible());
    let mut rebinds = Vec::new();
    drive(&mut d2, at(600), &SEED_BEHAVIOUR, |_, o| {
        for a in &o.actions {
            if let Action::UpdateBinding { cluster, spec, .. } = a {
                rebinds.push((cluster.clone(), spec.resource_snapshot_name.clone()));
            }
        }
    });
    assert_eq!(
        rebinds,
        [
            ("member2".to_owned(), "example-placement-0-snapshot".to_owned()),
            ("member3".to_owned(), "example-placement-0-snapshot".to_owned()),
            ("member1".to_owned(), "example-placement-0-snapshot".to_owned()),
        ]
    );
    for cluster in ["member1", "member2", "member3"] {
        assert_eq!(d2.hub.binding(cluster).spec.resource_snapshot_name, "example-placement-0-snapshot");
    }
    assert_eq!(
        structure(d2.status()),
        seed_view(include_str!("fixtures/seed/cluster-staged-update-run-example-run-2-status.yaml"), true)
    );
    insta::assert_json_snapshot!("example_run_2_final_status", d2.status());
}

fn namespaced_strategy() -> UpdateStrategySpec {
    let mut dev = StageConfig::new("dev-clusters", selector(&[("environment", "staging")]));
    dev.after_stage_tasks = vec![StageTask::timed_wait(Duration::from_secs(30))];
    let mut prod = StageConfig::new("prod-clusters", selector(&[("environment", "canary")]));
    prod.sorting_label_key = Some("order".into());
    prod.after_stage_tasks = vec![StageTask::approval()];
    UpdateStrategySpec { stages: vec![dev, prod], extra: Default::default() }
}

fn namespaced_run(name: &str, index: &str) -> StagedUpdateRun {
    let mut meta = ObjectMeta::namespaced("my-app-namespace", name);
    meta.generation = Some(1);
    StagedUpdateRun::new(meta, UpdateRunSpec::new("web-app-placement", Some(index), "app-rollout-strategy"))
}

fn namespaced_hub() -> Hub {
    let mut hub = Hub::with_placement("my-app-namespace", "web-app-placement", SEED_CLUSTERS, 2);
    hub.world.strategy = Some(namespaced_strategy());
    hub
}

#[test]
fn namespaced_rollout_and_rollback_with_the_seeds_approval_patch() {
    let behaviour = Behaviour { approve_without_generation: true, ..SEED_BEHAVIOUR };
    let mut d = Driver {
        hub: namespaced_hub(),
        run: namespaced_run("web-app-rollout-v1-21", "1"),
        config: Config::seed_compatible(),
    };
    let mut requests = Vec::new();
    drive(&mut d, at(0), &behaviour, |_, o| {
        for a in &o.actions {
            if let Action::CreateApprovalRequest { request } = a {
                requests.push((request.kind(), request.metadata.namespaced_name()));
            }
        }
    });
    assert_eq!(requests, [("ApprovalRequest", "my-app-namespace/web-app-rollout-v1-21-prod-clusters".to_owned())]);
    let status = d.status();
    assert_eq!(cluster_names(&status.stages_status[0]), ["member2"]);
    assert_eq!(cluster_names(&status.stages_status[1]), ["member3", "member1"]);
    // The 30s TimedWait: dev-clusters finished at +15s, prod-clusters started at +45s.
    assert_eq!(status.stages_status[1].start_time, Some(at(45)));
    assert!(is_condition_true(&status.conditions, "Succeeded", 1));
    insta::assert_json_snapshot!("web_app_rollout_final_status", status);

    let hub = std::mem::replace(&mut d.hub, Hub::new("", &[], 0));
    let mut d2 = Driver { hub, run: namespaced_run("web-app-rollback-v1-20", "0"), config: Config::seed_compatible() };
    drive(&mut d2, at(600), &behaviour, |_, _| {});
    for cluster in ["member1", "member2", "member3"] {
        assert_eq!(d2.hub.binding(cluster).spec.resource_snapshot_name, "web-app-placement-0-snapshot");
    }
    assert!(is_condition_true(&d2.status().conditions, "Succeeded", 1));
    insta::assert_json_snapshot!("web_app_rollback_final_status", d2.status());
}

#[test]
fn under_todays_defaults_runs_without_state_wait_in_initialize() {
    let mut d = seed_cluster_driver("example-run", "1", seed_cluster_hub(), Config::default());
    let outcome = d.step(at(0));
    assert_eq!(outcome.wake.reason, WakeReason::AwaitingRunState);
    assert!(outcome.wake.is_idle());
    assert!(is_condition_true(&d.status().conditions, "Initialized", 1));
    assert_eq!(cluster_names(&d.status().stages_status[1]), ["member3", "member1"]);
    assert!(!outcome.actions.iter().any(|a| matches!(a, Action::UpdateBinding { .. })), "{:?}", outcome.actions);
    // Nothing happens until the state is set to Run.
    let again = d.step(at(3600));
    assert!(again.actions.is_empty() && !again.status_changed);
    d.run.spec.state = Some(State::Run);
    d.run.metadata.generation = Some(2);
    let run = d.step(at(3601));
    assert!(run.actions.iter().any(|a| matches!(a, Action::UpdateBinding { cluster, .. } if cluster == "member2")));
}

#[test]
fn under_todays_defaults_after_stage_approvals_are_named_run_after_stage() {
    let mut d = seed_cluster_driver("example-run", "1", seed_cluster_hub(), Config::default());
    d.run.spec.state = Some(State::Run);
    let behaviour = Behaviour { approve_after: Some(10), ..SEED_BEHAVIOUR };
    let mut names = Vec::new();
    drive(&mut d, at(0), &behaviour, |_, o| {
        for a in &o.actions {
            if let Action::CreateApprovalRequest { request } = a {
                names.push(request.name().to_owned());
            }
        }
    });
    assert_eq!(names, ["example-run-after-canary"]);
    assert!(is_condition_true(&d.status().conditions, "Succeeded", 1));
}

#[test]
fn under_todays_defaults_the_namespaced_strategys_stage_names_are_rejected() {
    let mut d =
        Driver { hub: namespaced_hub(), run: namespaced_run("web-app-rollout-v1-21", "1"), config: Config::default() };
    d.run.spec.state = Some(State::Run);
    let outcome = d.step(at(0));
    let init = find_condition(&d.status().conditions, "Initialized").unwrap();
    assert_eq!(init.status, ConditionStatus::False);
    assert_eq!(init.reason, "UpdateRunInitializedFailed");
    assert_eq!(
        init.message,
        "cannot continue the updateRun: failed to validate the updateRun: failed to process the request due to a client error: \
         updateStrategy `my-app-namespace/app-rollout-strategy`: spec.stages[0].name: \"dev-clusters\": Invalid value: must match '^[a-z0-9]+$' (lowercase letters and digits only); \
         updateStrategy `my-app-namespace/app-rollout-strategy`: spec.stages[1].name: \"prod-clusters\": Invalid value: must match '^[a-z0-9]+$' (lowercase letters and digits only)"
    );
    assert_eq!(outcome.wake.reason, WakeReason::Failed);
    assert!(!outcome.actions.iter().any(|a| matches!(a, Action::UpdateBinding { .. })));
}
