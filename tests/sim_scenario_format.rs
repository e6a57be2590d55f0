//! The scenario format as `examples/scenarios/README.md` documents it: every complete YAML
//! example there parses, and the forms it describes mean what it says.

mod sim_support;

use staged_rollout::api::Duration;
use staged_rollout::sim::{Delay, EventKind, RunPhase, Scenario, ScriptAction, Simulation};

const README: &str = include_str!("../examples/scenarios/README.md");

/// The README's YAML blocks, except the outline (it elides with `...`).
fn yaml_blocks() -> Vec<&'static str> {
    README.split("```yaml\n").skip(1).filter_map(|b| b.split("```").next()).filter(|b| !b.contains("...")).collect()
}

#[test]
fn every_documented_example_parses() {
    let blocks = yaml_blocks();
    assert_eq!(blocks.len(), 4, "settings-free blocks: fleet, approvals, script, expect");
    for block in blocks {
        let mut value: serde_json::Value = serde_saphyr::from_str(block).expect("YAML");
        value["name"] = "doc".into();
        let scenario: Result<Scenario, _> = serde_json::from_value(value);
        assert!(scenario.is_ok(), "{block}\n{:?}", scenario.err());
    }
}

#[test]
fn delays_come_in_three_forms() {
    let fleet = yaml_blocks()[0];
    let mut value: serde_json::Value = serde_saphyr::from_str(fleet).unwrap();
    value["name"] = "doc".into();
    let scenario: Scenario = serde_json::from_value(value).unwrap();
    let delays: Vec<_> = scenario.fleet.iter().map(|m| m.delay.clone().unwrap()).collect();
    assert_eq!(delays[0], Delay::Fixed(Duration::from_secs(15)));
    assert_eq!(
        delays[1],
        Delay::Sequence(vec![Duration::from_secs(5), Duration::from_minutes(1), Duration::from_secs(10)])
    );
    assert!(matches!(delays[2], Delay::Seeded { seed: 7, .. }));
    assert_eq!(scenario.fleet[2].failure.as_ref().unwrap().reason, "NotAllWorkHaveBeenApplied");
}

#[test]
fn sequenced_and_seeded_delays_drive_the_agents() {
    let scenario = sim_support::scenario(
        r#"
name: delays
fleet:
  - {name: a, labels: {env: x}, delay: [5s, 40s]}
  - {name: b, labels: {env: x}, delay: {min: 10s, max: 20s, seed: 3}}
manifests:
  - {apiVersion: v1, kind: Namespace, metadata: {name: ns1}}
  - apiVersion: placement.kubernetes-fleet.io/v1beta1
    kind: ClusterResourcePlacement
    metadata: {name: p}
    spec: {resourceSelectors: [{group: "", version: v1, kind: Namespace, name: ns1}], strategy: {type: External}}
  - apiVersion: placement.kubernetes-fleet.io/v1beta1
    kind: ClusterStagedUpdateStrategy
    metadata: {name: s}
    spec: {stages: [{name: all, labelSelector: {}, maxConcurrency: 2}]}
script:
  - at: 1m
    apply: {apiVersion: placement.kubernetes-fleet.io/v1beta1, kind: ClusterStagedUpdateRun, metadata: {name: r1},
            spec: {placementName: p, stagedRolloutStrategyName: s, state: Run}}
  - at: 2m
    apply: {apiVersion: v1, kind: Namespace, metadata: {name: ns1, labels: {v: "2"}}}
  - at: 3m
    apply: {apiVersion: placement.kubernetes-fleet.io/v1beta1, kind: ClusterStagedUpdateRun, metadata: {name: r2},
            spec: {placementName: p, stagedRolloutStrategyName: s, state: Run}}
expect:
  runs: {r1: succeeded, r2: succeeded}
"#,
    );
    let sim = sim_support::run(&scenario);
    let applied = |cluster: &str| -> Vec<i64> {
        sim.events()
            .iter()
            .filter(|e| e.event == EventKind::MemberApplied && e.cluster.as_deref() == Some(cluster))
            .map(|e| e.at.unix_seconds() % 3600)
            .collect()
    };
    // r1 binds both at 10:01:00, r2 at 10:03:00.
    assert_eq!(applied("a"), [65, 220], "5s, then 40s");
    let b = applied("b");
    assert!((70..=80).contains(&b[0]) && (190..=200).contains(&b[1]), "{b:?}");
    // The same seed, the same delays.
    assert_eq!(sim_support::run(&scenario).events(), sim.events());
}

#[test]
fn a_script_step_naming_nothing_stops_the_simulation() {
    let mut sim = Simulation::from_scenario(&sim_support::scenario("name: empty")).unwrap();
    let step: ScriptAction = serde_saphyr::from_str("approve: {request: nobody}").unwrap();
    let err = sim.execute(&step).unwrap_err();
    assert_eq!(err.to_string(), "script: approval request /nobody does not exist");
    assert_eq!(sim.run_phase("nothing"), RunPhase::Deleted);
}

#[test]
fn a_livelock_is_reported_with_the_step_bound() {
    let mut scenario = sim_support::scenario(include_str!("../examples/scenarios/seed-cluster.yaml"));
    scenario.settings.max_steps = Some(20);
    let mut sim = Simulation::from_scenario(&scenario).unwrap();
    let err = sim.run().unwrap_err();
    assert!(err.to_string().starts_with("livelock: 20 steps without settling"), "{err}");
}
