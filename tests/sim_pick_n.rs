//! PickN with today's KubeFleet: the scheduler picks N clusters, a run in Initialize waits for
//! `Run`, runs that name no snapshot get one on request, and a change of N abandons a run.

mod sim_support;

use staged_rollout::api::well_known;
use staged_rollout::sim::{EventKind, RunPhase, Scenario, Simulation};

const SCENARIO: &str = include_str!("../examples/scenarios/pick-n.yaml");

#[test]
fn pick_n_rollouts_follow_the_scheduler() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    insta::assert_yaml_snapshot!(sim_support::readable(&sim.transcript()));
}

#[test]
fn a_change_of_n_updates_the_policy_snapshot_annotation_not_its_index() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    let snapshots: Vec<_> = sim.hub().policy_snapshots().collect();
    assert_eq!(snapshots.len(), 1, "numberOfClusters is not part of the policy hash");
    assert_eq!(snapshots[0].metadata.annotation(well_known::NUMBER_OF_CLUSTERS_ANNOTATION), Some("4"));
    let picked: Vec<_> = sim
        .events()
        .iter()
        .filter(|e| e.event == EventKind::BindingScheduled)
        .map(|e| e.cluster.clone().unwrap())
        .collect();
    assert_eq!(picked, ["east1", "east2", "west1", "west2"], "picked in name order as N grows");
}

#[test]
fn a_run_in_initialize_waits_for_run() {
    let mut sim = Simulation::from_scenario(&sim_support::scenario(SCENARIO)).unwrap();
    sim.run_until("2025-03-12T10:01:59Z".parse().unwrap()).unwrap();
    assert_eq!(sim.run_phase("run-1"), RunPhase::Initialized);
    assert!(sim.events().iter().all(|e| e.event != EventKind::BindingUpdated));
}

/// An already up-to-date cluster (bound to the run's snapshot and available) is marked Succeeded
/// in the pass that finds it, but that pass does not complete the stage, and its wake has no
/// `at` — only `on_change` and KubeFleet's 15s poll. Nothing on the hub will change, so a
/// controller that relies on its watches (as `Wake::on_change` invites it to) never comes back:
/// the run hangs in `Progressing`. The next pass, on the same world, would finish the stage.
#[test]
fn a_run_over_clusters_already_on_its_snapshot_finishes_without_polling() {
    let scenario: Scenario = sim_support::scenario(
        r#"
name: rerun
settings: {engine: kubefleet}
fleet: [{name: member1, labels: {env: prod}}]
manifests:
  - {apiVersion: v1, kind: Namespace, metadata: {name: app}}
  - apiVersion: placement.kubernetes-fleet.io/v1beta1
    kind: ClusterResourcePlacement
    metadata: {name: app}
    spec:
      resourceSelectors: [{group: "", version: v1, kind: Namespace, name: app}]
      strategy: {type: External}
  - apiVersion: placement.kubernetes-fleet.io/v1beta1
    kind: ClusterStagedUpdateStrategy
    metadata: {name: one}
    spec: {stages: [{name: prod, labelSelector: {}}]}
script:
  - at: 1m
    apply:
      apiVersion: placement.kubernetes-fleet.io/v1beta1
      kind: ClusterStagedUpdateRun
      metadata: {name: first}
      spec: {placementName: app, stagedRolloutStrategyName: one, state: Run}
  - at: 5m
    apply:
      apiVersion: placement.kubernetes-fleet.io/v1beta1
      kind: ClusterStagedUpdateRun
      metadata: {name: again}
      spec: {placementName: app, stagedRolloutStrategyName: one, state: Run}
expect:
  runs: {first: succeeded, again: succeeded}
"#,
    );
    sim_support::run(&scenario);
}
