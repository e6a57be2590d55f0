//! The seed how-to's namespace-scoped part, simulated: `web-app-rollout-v1-21` moves `web-app`
//! to `nginx:1.21` through dev-clusters and prod-clusters, `web-app-rollback-v1-20` moves it back.

mod sim_support;

use staged_rollout::api::Time;
use staged_rollout::api::well_known::condition_types as ct;
use staged_rollout::sim::{EventKind, RunPhase, Simulation};

const SCENARIO: &str = include_str!("../examples/scenarios/seed-namespaced.yaml");

fn image(sim: &Simulation, member: &str) -> String {
    let objects = sim.member_objects(member);
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").expect("web-app");
    deployment["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap().to_owned()
}

#[test]
fn the_seed_namespaced_rollout_and_rollback_succeed() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    insta::assert_yaml_snapshot!(sim_support::readable(&sim.transcript()));
}

#[test]
fn web_app_runs_1_21_everywhere_after_the_rollout_and_1_20_after_the_rollback() {
    let mut sim = Simulation::from_scenario(&sim_support::scenario(SCENARIO)).unwrap();
    let done = sim.run_until_event(|e| e.event == EventKind::RunSucceeded).unwrap().unwrap();
    assert_eq!(done.run.as_deref(), Some("web-app-rollout-v1-21"));
    assert_eq!(done.namespace.as_deref(), Some("my-app-namespace"));
    for member in ["member1", "member2", "member3"] {
        assert_eq!(image(&sim, member), "nginx:1.21", "{member}");
    }
    sim.run().unwrap();
    assert_eq!(sim.run_phase("web-app-rollback-v1-20"), RunPhase::Succeeded);
    for member in ["member1", "member2", "member3"] {
        assert_eq!(image(&sim, member), "nginx:1.20", "{member}");
        let kinds: Vec<_> = sim.member_objects(member).iter().map(|o| o["kind"].as_str().unwrap().to_owned()).collect();
        assert_eq!(kinds, ["Service", "Deployment"], "the ResourcePlacement selects exactly these");
    }
}

#[test]
fn prod_clusters_wait_out_the_30s_timed_wait() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    let t = sim.transcript();
    let of = |kind: EventKind, stage: &str| {
        t.events_of("web-app-rollout-v1-21").find(|e| e.event == kind && e.stage.as_deref() == Some(stage)).unwrap().at
    };
    let dev_done: Time = of(EventKind::ClusterSucceeded, "dev-clusters");
    assert_eq!(of(EventKind::StageStarted, "prod-clusters").unix_seconds() - dev_done.unix_seconds(), 30);
}

#[test]
fn the_approval_without_observed_generation_counts_under_the_seed_preset() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    let request = sim
        .hub()
        .approval_requests()
        .find(|a| a.metadata.name() == "web-app-rollout-v1-21-prod-clusters")
        .expect("the request stays after the run");
    let approved = request.conditions.iter().find(|c| c.type_ == ct::APPROVED).unwrap();
    assert_eq!(approved.observed_generation, 0, "the seed's patch sets no observedGeneration");
    assert_eq!(approved.last_transition_time, None, "nor a lastTransitionTime");
    assert!(request.conditions.iter().any(|c| c.type_ == ct::APPROVAL_ACCEPTED));
}

#[test]
fn both_halves_on_one_fleet_keep_each_placements_objects() {
    let cluster = sim_support::scenario(include_str!("../examples/scenarios/seed-cluster.yaml"));
    let mut sim = Simulation::from_scenario(&cluster).unwrap();
    sim.run().unwrap();
    sim.load(&sim_support::scenario(SCENARIO)).unwrap();
    sim.run().unwrap();
    for member in ["member1", "member2", "member3"] {
        let held: Vec<_> = sim
            .member_objects(member)
            .iter()
            .map(|o| format!("{} {}", o["kind"].as_str().unwrap(), o["metadata"]["name"].as_str().unwrap()))
            .collect();
        assert_eq!(
            held,
            ["Namespace test-namespace", "ConfigMap test-cm", "Service web-app", "Deployment web-app"],
            "{member}"
        );
        assert_eq!(image(&sim, member), "nginx:1.20");
    }
}
