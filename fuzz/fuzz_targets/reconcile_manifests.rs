//! Arbitrary manifests into `reconcile`: the input is a stream of YAML or JSON documents
//! (separated by `---` lines) — a run with any status, a strategy, a placement, policy and
//! resource snapshots, bindings, member clusters, approval requests. Whatever parses becomes the
//! run and its world, and the run is reconciled for a few steps, the world answering as a hub
//! would (actions applied, members reporting, requests approved, the clock moving). Nothing may
//! panic, and from the engine's first output on, every reconcile keeps the rollout invariants.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use staged_rollout::api::{
    ApprovalRequest, Binding, ClusterApprovalRequest, ClusterStagedUpdateRun, MemberCluster, ObjectMeta, Time,
    UpdateRunSpec, UpdateStrategySpec,
};
use staged_rollout::testing::{Checker, ModelHub};
use staged_rollout::{Config, ObservedApproval, UpdateRun, World};

fn value(doc: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_slice(doc).ok().or_else(|| serde_saphyr::from_slice(doc).ok())
}

fn load(data: &[u8]) -> (Option<UpdateRun>, World) {
    let mut run = None;
    let mut world = World::default();
    let text = String::from_utf8_lossy(data);
    for doc in text.split("\n---") {
        let Some(v) = value(doc.as_bytes()) else { continue };
        let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or("").to_owned();
        let v2 = v.clone();
        match kind.as_str() {
            "ClusterStagedUpdateRun" | "StagedUpdateRun" => run = serde_json::from_value(v).ok(),
            "ClusterStagedUpdateStrategy" | "StagedUpdateStrategy" => {
                world.strategy =
                    v.get("spec").and_then(|s| serde_json::from_value::<UpdateStrategySpec>(s.clone()).ok())
            }
            "ClusterResourcePlacement" | "ResourcePlacement" => world.placement = serde_json::from_value(v).ok(),
            "ClusterSchedulingPolicySnapshot" | "SchedulingPolicySnapshot" => {
                world.policy_snapshots.extend(serde_json::from_value(v).ok())
            }
            "ClusterResourceSnapshot" | "ResourceSnapshot" => {
                world.resource_snapshots.extend(serde_json::from_value(v).ok())
            }
            "ClusterResourceBinding" | "ResourceBinding" => {
                world.bindings.extend(serde_json::from_value::<Binding>(v).ok().map(Arc::new))
            }
            "MemberCluster" => {
                world.member_clusters.extend(serde_json::from_value::<MemberCluster>(v).ok().map(Arc::new))
            }
            "ClusterApprovalRequest" => world
                .approval_requests
                .extend(serde_json::from_value::<ClusterApprovalRequest>(v).ok().map(|a| ObservedApproval::from(&a))),
            "ApprovalRequest" => world
                .approval_requests
                .extend(serde_json::from_value::<ApprovalRequest>(v2).ok().map(|a| ObservedApproval::from(&a))),
            _ => {}
        }
    }
    (run, world)
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let (run, world) = load(rest);
    let run = run.unwrap_or_else(|| {
        let placement = world.placement.as_ref().map(|p| p.metadata.name().to_owned()).unwrap_or_default();
        let mut meta = ObjectMeta::named("run");
        meta.generation = Some(1);
        let mut spec = UpdateRunSpec::new(placement, None, "strategy");
        spec.state = Some(staged_rollout::api::State::Run);
        UpdateRun::Cluster(ClusterStagedUpdateRun::new(meta, spec))
    });
    let config = if flags & 1 == 0 { Config::default() } else { Config::seed_compatible() };
    let mut hub =
        ModelHub { run, world, now: Time::from_unix_seconds(1_741_773_600), config, wake: None, records: Vec::new() };
    for _ in 0..6 {
        if hub.reconcile().is_err() {
            // An inconsistent world (duplicate names, another placement): refused, not a panic.
            break;
        }
        if hub.is_terminal() {
            break;
        }
        for c in hub.in_flight() {
            hub.complete(&c, flags & 2 != 0 && c.len() % 2 == 0);
        }
        if flags & 4 == 0 {
            for r in hub.pending_approvals() {
                hub.approve(&r);
            }
        }
        let next = hub.wake.as_ref().and_then(|w| w.at).filter(|t| *t > hub.now);
        hub.now = next.unwrap_or(hub.now).max(hub.now.add_ceil(staged_rollout::api::Duration::from_secs(15)));
    }
    // The fuzzed status is the engine's input, not its output: judge from its first output on.
    if hub.records.len() > 1 {
        let violations = Checker::new().check_records(&hub.records[1..]);
        assert!(violations.is_empty(), "{violations:#?}");
    }
});
