//! The seed how-to's cluster-scoped part, simulated: `example-run` rolls `test-cm: value2` out
//! through staging and canary, `example-run-2` rolls back to `value1`.

mod sim_support;

use staged_rollout::api::Time;
use staged_rollout::sim::{EventKind, RunPhase, Scenario, Simulation, Wakeups};

const SCENARIO: &str = include_str!("../examples/scenarios/seed-cluster.yaml");

fn at(s: &str) -> Time {
    s.parse().unwrap()
}

#[test]
fn the_seed_rollout_and_rollback_succeed() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    insta::assert_yaml_snapshot!(sim_support::readable(&sim.transcript()));
}

#[test]
fn staging_updates_before_canary_and_canary_waits_out_the_timed_wait() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    let t = sim.transcript();
    let updates: Vec<_> = t.events_of("example-run").filter(|e| e.event == EventKind::BindingUpdated).collect();
    let order: Vec<_> = updates.iter().map(|e| (e.stage.as_deref().unwrap(), e.cluster.as_deref().unwrap())).collect();
    assert_eq!(order, [("staging", "member2"), ("canary", "member3"), ("canary", "member1")]);

    // member2 finished at 10:10:15; the 1m TimedWait ends at 10:11:15, and canary starts then.
    let staging_done = t.events_of("example-run").find(|e| e.event == EventKind::ClusterSucceeded).unwrap();
    assert_eq!(staging_done.at, at("2025-03-12T10:10:15Z"));
    let canary = t
        .events_of("example-run")
        .find(|e| e.event == EventKind::StageStarted && e.stage.as_deref() == Some("canary"))
        .unwrap();
    assert_eq!(canary.at, at("2025-03-12T10:11:15Z"));
    assert!(updates[1].at >= canary.at);

    // The approval requests carry the seed's names.
    let requests: Vec<_> = t
        .events
        .iter()
        .filter(|e| e.event == EventKind::ApprovalRequested)
        .map(|e| e.approval_request.as_deref().unwrap())
        .collect();
    assert_eq!(requests, ["example-run-canary", "example-run-2-canary"]);
}

#[test]
fn every_member_holds_value2_after_the_rollout_and_value1_after_the_rollback() {
    let scenario = sim_support::scenario(SCENARIO);
    let mut sim = Simulation::from_scenario(&scenario).unwrap();
    sim.run_until_event(|e| e.event == EventKind::RunSucceeded).unwrap().expect("example-run succeeds");
    for member in ["member1", "member2", "member3"] {
        let objects = sim.member_objects(member);
        let cm = objects.iter().find(|o| o["kind"] == "ConfigMap").expect("test-cm");
        assert_eq!(cm["data"]["key"], "value2", "{member}");
    }
    sim.run().unwrap();
    assert_eq!(sim.run_phase("example-run-2"), RunPhase::Succeeded);
    for member in ["member1", "member2", "member3"] {
        let objects = sim.member_objects(member);
        let cm = objects.iter().find(|o| o["kind"] == "ConfigMap").expect("test-cm");
        assert_eq!(cm["data"]["key"], "value1", "{member}");
        assert_eq!(objects[0]["kind"], "Namespace", "the Namespace comes with its contents");
    }
}

#[test]
fn the_written_statuses_match_the_seed_where_the_seed_and_today_agree() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    let run = sim.update_run("example-run-2").unwrap();
    let status = run.status().unwrap();
    assert_eq!(status.policy_observed_cluster_count, 3);
    assert_eq!(status.policy_snapshot_index_used, "0");
    assert_eq!(status.resource_snapshot_index_used, "0");
    let stages: Vec<_> = status
        .stages_status
        .iter()
        .map(|s| (s.stage_name.as_str(), s.clusters.iter().map(|c| c.cluster_name.as_str()).collect::<Vec<_>>()))
        .collect();
    assert_eq!(stages, [("staging", vec!["member2"]), ("canary", vec!["member3", "member1"])]);
    assert_eq!(status.stages_status[1].after_stage_task_status[0].approval_request_name, "example-run-2-canary");
    assert!(status.deletion_stage_status.as_ref().unwrap().clusters.is_empty());
}

#[test]
fn polling_like_kubefleet_reaches_the_same_end_later() {
    let mut scenario: Scenario = sim_support::scenario(SCENARIO);
    scenario.settings.wakeups = Wakeups::Polling;
    let polled = sim_support::run(&scenario);
    let exact = sim_support::run(&sim_support::scenario(SCENARIO));
    assert_eq!(polled.transcript().members, exact.transcript().members);
    assert_eq!(sim_support::binding_updates(&polled.transcript()), sim_support::binding_updates(&exact.transcript()));
    let done = |sim: &Simulation| {
        sim.events()
            .iter()
            .find(|e| e.event == EventKind::RunSucceeded && e.run.as_deref() == Some("example-run"))
            .unwrap()
            .at
    };
    // Polling notices each finished cluster up to 15s late.
    assert!(done(&polled) > done(&exact), "{} vs {}", done(&polled), done(&exact));
}

#[test]
fn kubectl_tables_show_what_the_seed_shows() {
    let scenario = sim_support::scenario(SCENARIO);
    let mut sim = Simulation::from_scenario(&scenario).unwrap();
    sim.run_until(at("2025-03-12T10:00:08Z")).unwrap();
    assert_eq!(
        sim.kubectl().get_placements(None, Some("example-placement")).to_string(),
        "NAME                GEN   SCHEDULED   SCHEDULED-GEN   AVAILABLE   AVAILABLE-GEN   AGE\n\
         example-placement   1     True        1                                           8s\n"
    );
    sim.run_until(at("2025-03-12T10:10:44Z")).unwrap();
    insta::assert_snapshot!(sim.kubectl().get_resource_snapshots(None, true).to_string(), @r"
    NAME                           GEN   AGE     LABELS
    example-placement-0-snapshot   1     10m     kubernetes-fleet.io/is-latest-snapshot=false,kubernetes-fleet.io/parent-CRP=example-placement,kubernetes-fleet.io/resource-index=0
    example-placement-1-snapshot   1     4m44s   kubernetes-fleet.io/is-latest-snapshot=true,kubernetes-fleet.io/parent-CRP=example-placement,kubernetes-fleet.io/resource-index=1
    ");
    assert_eq!(
        sim.kubectl().get_update_runs(None, Some("example-run")).to_string(),
        "NAME          PLACEMENT           RESOURCE-SNAPSHOT   POLICY-SNAPSHOT   INITIALIZED   SUCCEEDED   AGE\n\
         example-run   example-placement   1                   0                 True                      44s\n"
    );
}
