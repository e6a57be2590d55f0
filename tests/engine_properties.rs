//! Properties of `reconcile` as a whole: determinism, idempotency and crash safety along the
//! seed walkthrough, and no panic on arbitrary and corrupted statuses and worlds.

mod common;

use std::sync::Arc;

use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use staged_rollout::ObjectRef;

/// Members report 15 s after their rollout starts; approvals are granted 30 s after creation.
/// Returns every (run, world, now) the engine was called with, and the final status.
fn seed_walk(
    fault: Option<(usize, usize)>,
) -> (Vec<(ClusterStagedUpdateRun, World, Time)>, UpdateRunStatus, Vec<Action>) {
    let mut hub = Hub::new("", SEED_CLUSTERS, 2);
    hub.world.strategy = Some(seed_strategy());
    let mut d = Driver { hub, run: cluster_run(Some("1"), None), config: Config::seed_compatible() };
    let mut inputs = Vec::new();
    let mut applied_log = Vec::new();
    let mut pending: Vec<(Time, Option<String>, Option<String>)> = Vec::new();
    let mut now = t(0);
    for step in 0..100 {
        inputs.push((d.run.clone(), d.hub.world.clone(), now));
        let outcome = reconcile(&d.run, &d.hub.world, now, &d.config).unwrap();
        let mut outcome = outcome;
        if let Some((at_step, keep)) = fault
            && at_step == step
            && keep < outcome.actions.len()
        {
            // A crash after applying `keep` actions: the status is not persisted, the rest of
            // the actions are lost, and the controller reconciles again at once.
            let applied: Vec<Action> = outcome.actions[..keep].to_vec();
            d.hub.apply(&applied, d.run.metadata_mut());
            applied_log.extend(applied.iter().cloned());
            let again = reconcile(&d.run, &d.hub.world, now, &d.config).unwrap();
            assert_no_conflicting_action(&applied, &outcome.actions[keep..], &again.actions);
            outcome = again;
        }
        d.hub.apply(&outcome.actions, d.run.metadata_mut());
        applied_log.extend(outcome.actions.iter().cloned());
        if outcome.status_changed {
            d.run.status = Some(outcome.status.clone());
        }
        for a in &outcome.actions {
            match a {
                Action::MarkBindingRolloutStarted { cluster, .. } => {
                    pending.push((now.add_ceil(Duration::from_secs(15)), Some(cluster.clone()), None))
                }
                Action::CreateApprovalRequest { request } => {
                    pending.push((now.add_ceil(Duration::from_secs(30)), None, Some(request.name().to_owned())))
                }
                _ => {}
            }
        }
        if outcome.wake.is_idle() {
            return (inputs, d.status().clone(), applied_log);
        }
        let next = pending.iter().map(|p| p.0).min();
        now = match (outcome.wake.at, next) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap(),
        };
        pending.retain(|(at, cluster, approval)| {
            if *at > now {
                return true;
            }
            if let Some(c) = cluster {
                d.hub.available(c);
            }
            if let Some(a) = approval {
                d.hub.approve(a);
            }
            false
        });
    }
    panic!("did not finish");
}

/// The object an action writes (approval creations included).
fn object(a: &Action) -> Option<ObjectRef> {
    match a {
        Action::CreateApprovalRequest { request } => Some(request.object_ref()),
        other => other.target().cloned(),
    }
}

/// After a crash that applied `applied`, a fresh reconcile may only emit, for an object already
/// acted on, actions that were still to come — never a repeat or a different write.
fn assert_no_conflicting_action(applied: &[Action], remaining: &[Action], again: &[Action]) {
    for a in again {
        let Some(target) = object(a) else { continue };
        if applied.iter().any(|x| object(x).as_ref() == Some(&target)) {
            assert!(
                remaining.contains(a),
                "after applying {applied:?}, the engine asked again for {a:?} (still to come: {remaining:?})"
            );
        }
    }
}

#[test]
fn the_same_input_gives_the_same_output_byte_for_byte() {
    let (inputs, _, _) = seed_walk(None);
    assert!(inputs.len() > 5);
    for (run, world, now) in &inputs {
        let a = reconcile(run, world, *now, &Config::seed_compatible()).unwrap();
        let b = reconcile(run, world, *now, &Config::seed_compatible()).unwrap();
        assert_eq!(a, b);
        assert_eq!(serde_json::to_vec(&a.status).unwrap(), serde_json::to_vec(&b.status).unwrap());
    }
}

#[test]
fn reconciling_again_before_applying_anything_asks_for_the_same_actions() {
    let (inputs, _, _) = seed_walk(None);
    for (run, world, now) in &inputs {
        let first = reconcile(run, world, *now, &Config::seed_compatible()).unwrap();
        // The status was not persisted either: a second reconcile starts from the same run.
        let second = reconcile(run, world, *now, &Config::seed_compatible()).unwrap();
        assert_eq!(first.actions, second.actions);
    }
}

#[test]
fn a_persisted_status_is_a_fixed_point() {
    let (inputs, _, _) = seed_walk(None);
    for (run, world, now) in &inputs {
        let outcome = reconcile(run, world, *now, &Config::seed_compatible()).unwrap();
        if !outcome.actions.is_empty() || outcome.wake.at == Some(*now) {
            // Work to be applied, or progress due at once (a stage just completed).
            continue;
        }
        // The engine waits on the hub or the clock: persisting its status and reconciling again
        // at the same instant changes nothing.
        let mut run = run.clone();
        run.status = Some(outcome.status.clone());
        let again = reconcile(&run, world, *now, &Config::seed_compatible()).unwrap();
        assert_eq!(again.status, outcome.status, "not a fixed point at {now}");
        assert!(again.actions.is_empty());
    }
}

#[test]
fn a_crash_between_actions_and_status_converges_to_the_same_end() {
    let (inputs, undisturbed, undisturbed_actions) = seed_walk(None);
    let mut crashes = 0;
    for (step, (run, world, now)) in inputs.iter().enumerate() {
        let n = reconcile(run, world, *now, &Config::seed_compatible()).unwrap().actions.len();
        for keep in 0..n {
            let (_, status, actions) = seed_walk(Some((step, keep)));
            assert_eq!(status, undisturbed, "crash at step {step} after {keep} actions");
            // No binding write and no approval request happened twice.
            let writes = |log: &[Action]| {
                log.iter()
                    .filter(|a| matches!(a, Action::UpdateBinding { .. } | Action::CreateApprovalRequest { .. }))
                    .count()
            };
            assert_eq!(writes(&actions), writes(&undisturbed_actions), "crash at step {step} after {keep} actions");
            crashes += 1;
        }
    }
    assert!(crashes >= 8, "only {crashes} crash points exercised");
}

// ---------- no panic on corrupted input ----------

/// A JSON-level corruption of the run's status.
#[derive(Clone, Debug)]
enum Corruption {
    Delete(usize),
    Replace(usize, Value),
    DuplicateElement(usize),
    SwapElements(usize, usize),
}

fn interesting_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!("")),
        Just(json!("True")),
        Just(json!("False")),
        Just(json!("Unknown")),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(1)),
        Just(json!(2)),
        Just(json!(1_000_000_000_000i64)),
        Just(json!([])),
        Just(json!({})),
        Just(json!("2025-03-12T10:00:00Z")),
        Just(json!("Approval")),
        Just(json!("TimedWait")),
        Just(json!("0s")),
        Just(json!("-5m")),
        Just(json!("50")),
        Just(json!("0%")),
        Just(json!("member1")),
        Just(json!("canary")),
        "[a-zA-Z0-9%-]{0,8}".prop_map(Value::String),
    ]
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        any::<usize>().prop_map(Corruption::Delete),
        (any::<usize>(), interesting_value()).prop_map(|(i, v)| Corruption::Replace(i, v)),
        any::<usize>().prop_map(Corruption::DuplicateElement),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Corruption::SwapElements(i, j)),
    ]
}

/// Every node of a JSON tree, as (parent path, key or index) pairs, in document order.
fn paths(v: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(json!(k));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(json!(i));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn parent_mut<'a>(root: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    let mut cur = root;
    for step in path {
        cur = match step {
            Value::String(k) => cur.get_mut(k)?,
            Value::Number(i) => cur.get_mut(i.as_u64()? as usize)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn corrupt(root: &mut Value, c: &Corruption) {
    let mut all = Vec::new();
    paths(root, &mut Vec::new(), &mut all);
    if all.is_empty() {
        return;
    }
    let pick = |i: usize| all[i % all.len()].clone();
    match c {
        Corruption::Delete(i) | Corruption::Replace(i, _) | Corruption::DuplicateElement(i) => {
            let path = pick(*i);
            let (last, parent_path) = path.split_last().unwrap();
            let Some(parent) = parent_mut(root, parent_path) else { return };
            match (c, parent, last) {
                (Corruption::Delete(_), Value::Object(m), Value::String(k)) => {
                    m.remove(k);
                }
                (Corruption::Delete(_), Value::Array(a), Value::Number(n)) => {
                    a.remove(n.as_u64().unwrap() as usize);
                }
                (Corruption::Replace(_, v), Value::Object(m), Value::String(k)) => {
                    m.insert(k.clone(), v.clone());
                }
                (Corruption::Replace(_, v), Value::Array(a), Value::Number(n)) => {
                    a[n.as_u64().unwrap() as usize] = v.clone();
                }
                (Corruption::DuplicateElement(_), Value::Array(a), Value::Number(n)) => {
                    let e = a[n.as_u64().unwrap() as usize].clone();
                    a.push(e);
                }
                _ => {}
            }
        }
        Corruption::SwapElements(i, j) => {
            let path = pick(*i);
            let (_, parent_path) = path.split_last().unwrap();
            if let Some(Value::Array(a)) = parent_mut(root, parent_path)
                && !a.is_empty()
            {
                let (x, y) = (*i % a.len(), *j % a.len());
                a.swap(x, y);
            }
        }
    }
}

/// A corruption of what the hub shows.
#[derive(Clone, Debug)]
enum WorldChange {
    DropBinding(usize),
    BindingState(usize, &'static str),
    BindingSnapshot(usize, &'static str),
    BindingGeneration(usize, i64),
    BindingFailed(usize, &'static str),
    DropPlacement,
    RollingUpdate,
    DropPolicyIndex,
    SecondLatestPolicy,
    Relabel(usize, &'static str, &'static str),
    DropCluster(usize),
    ApprovalTarget(usize, &'static str),
    RevokeApproval(usize),
    DropStrategy,
    RunGeneration(i64),
    RunState(Option<&'static str>),
    RunIndex(&'static str),
    Deleting,
    Now(i64),
}

fn world_change() -> impl Strategy<Value = WorldChange> {
    let idx = 0usize..4;
    prop_oneof![
        idx.clone().prop_map(WorldChange::DropBinding),
        (idx.clone(), prop_oneof![Just("Scheduled"), Just("Bound"), Just("Unscheduled"), Just("Weird")])
            .prop_map(|(i, s)| WorldChange::BindingState(i, s)),
        (idx.clone(), prop_oneof![Just(""), Just("example-placement-0-snapshot"), Just("other")])
            .prop_map(|(i, s)| WorldChange::BindingSnapshot(i, s)),
        (idx.clone(), -2i64..5).prop_map(|(i, g)| WorldChange::BindingGeneration(i, g)),
        (idx.clone(), prop_oneof![Just("Applied"), Just("Available"), Just("DiffReported"), Just("Overridden")])
            .prop_map(|(i, t)| WorldChange::BindingFailed(i, t)),
        Just(WorldChange::DropPlacement),
        Just(WorldChange::RollingUpdate),
        Just(WorldChange::DropPolicyIndex),
        Just(WorldChange::SecondLatestPolicy),
        (
            idx.clone(),
            prop_oneof![Just("environment"), Just("order")],
            prop_oneof![Just("canary"), Just("staging"), Just("x"), Just("-3")]
        )
            .prop_map(|(i, k, v)| WorldChange::Relabel(i, k, v)),
        idx.clone().prop_map(WorldChange::DropCluster),
        (idx.clone(), prop_oneof![Just("canary"), Just("staging"), Just("")])
            .prop_map(|(i, s)| WorldChange::ApprovalTarget(i, s)),
        idx.prop_map(WorldChange::RevokeApproval),
        Just(WorldChange::DropStrategy),
        (-1i64..4).prop_map(WorldChange::RunGeneration),
        prop_oneof![Just(None), Just(Some("Run")), Just(Some("Stop")), Just(Some("Initialize")), Just(Some("Pause"))]
            .prop_map(WorldChange::RunState),
        prop_oneof![Just(""), Just("0"), Just("00"), Just("-1"), Just("abc"), Just("99999999999999999999")]
            .prop_map(WorldChange::RunIndex),
        Just(WorldChange::Deleting),
        (-100_000i64..100_000).prop_map(WorldChange::Now),
    ]
}

fn change_world(run: &mut ClusterStagedUpdateRun, world: &mut World, now: &mut Time, c: &WorldChange) {
    let n = world.bindings.len().max(1);
    match c {
        WorldChange::DropBinding(i) => {
            if !world.bindings.is_empty() {
                world.bindings.remove(i % n);
            }
        }
        WorldChange::BindingState(i, s) => {
            if let Some(b) = world.bindings.get_mut(i % n).map(Arc::make_mut) {
                b.spec.state = s.parse().unwrap();
            }
        }
        WorldChange::BindingSnapshot(i, s) => {
            if let Some(b) = world.bindings.get_mut(i % n).map(Arc::make_mut) {
                b.spec.resource_snapshot_name = s.to_string();
            }
        }
        WorldChange::BindingGeneration(i, g) => {
            if let Some(b) = world.bindings.get_mut(i % n).map(Arc::make_mut) {
                b.metadata.generation = Some(*g);
            }
        }
        WorldChange::BindingFailed(i, t) => {
            if let Some(b) = world.bindings.get_mut(i % n).map(Arc::make_mut) {
                let g = b.metadata.generation();
                let conds = &mut b.status.get_or_insert_with(Default::default).conditions;
                set_condition(conds, Condition::new(*t, ConditionStatus::False, g, "Broken", "broken"), *now);
            }
        }
        WorldChange::DropPlacement => world.placement = None,
        WorldChange::RollingUpdate => {
            if let Some(p) = world.placement.as_mut() {
                p.spec.strategy.type_ = Some("RollingUpdate".into());
            }
        }
        WorldChange::DropPolicyIndex => {
            for p in &mut world.policy_snapshots {
                p.metadata.labels.as_mut().map(|l| l.remove("kubernetes-fleet.io/policy-index"));
            }
        }
        WorldChange::SecondLatestPolicy => {
            if let Some(p) = world.policy_snapshots.first().cloned() {
                let mut p = p;
                p.metadata.name = Some("example-placement-1".into());
                world.policy_snapshots.push(p);
            }
        }
        WorldChange::Relabel(i, k, v) => {
            let m = world.member_clusters.len().max(1);
            if let Some(c) = world.member_clusters.get_mut(i % m).map(Arc::make_mut) {
                c.metadata.set_label(*k, *v);
            }
        }
        WorldChange::DropCluster(i) => {
            if !world.member_clusters.is_empty() {
                let m = world.member_clusters.len();
                world.member_clusters.remove(i % m);
            }
        }
        WorldChange::ApprovalTarget(i, s) => {
            let m = world.approval_requests.len().max(1);
            if let Some(a) = world.approval_requests.get_mut(i % m) {
                a.spec.target_stage = s.to_string();
            }
        }
        WorldChange::RevokeApproval(i) => {
            let m = world.approval_requests.len().max(1);
            if let Some(a) = world.approval_requests.get_mut(i % m) {
                a.conditions.clear();
            }
        }
        WorldChange::DropStrategy => world.strategy = None,
        WorldChange::RunGeneration(g) => run.metadata.generation = Some(*g),
        WorldChange::RunState(s) => run.spec.state = s.map(|s| s.parse().unwrap()),
        WorldChange::RunIndex(i) => run.spec.resource_snapshot_index = Some(i.to_string()),
        WorldChange::Deleting => run.metadata.deletion_timestamp = Some(*now),
        WorldChange::Now(d) => *now = Time::from_unix_seconds(now.unix_seconds() + d),
    }
}

fn configs() -> impl Strategy<Value = Config> {
    prop_oneof![Just(Config::default()), Just(Config::seed_compatible())]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    /// Any corruption of any status along the walkthrough, and of the world around it, yields a
    /// typed error or an outcome — never a panic — and the outcome is deterministic.
    #[test]
    fn reconcile_never_panics_on_corrupted_input(
        base in 0usize..64,
        corruptions in prop::collection::vec(corruption(), 0..6),
        changes in prop::collection::vec(world_change(), 0..4),
        config in configs(),
    ) {
        let (inputs, _, _) = SEED_INPUTS.with(|i| i.clone());
        let (mut run, mut world, mut now) = inputs[base % inputs.len()].clone();
        if let Some(status) = run.status.as_ref() {
            let mut json = serde_json::to_value(status).unwrap();
            for c in &corruptions {
                corrupt(&mut json, c);
            }
            match serde_json::from_value::<UpdateRunStatus>(json) {
                Ok(s) => run.status = Some(s),
                Err(_) => return Ok(()),
            }
        }
        for c in &changes {
            change_world(&mut run, &mut world, &mut now, c);
        }
        let first = reconcile(&run, &world, now, &config);
        let second = reconcile(&run, &world, now, &config);
        prop_assert_eq!(&first, &second);
        if let Ok(Outcome { status, .. }) = first {
            // Whatever the engine writes survives a round trip through JSON.
            let back: UpdateRunStatus = serde_json::from_slice(&serde_json::to_vec(&status).unwrap()).unwrap();
            prop_assert_eq!(back, status);
        }
    }
}

type Inputs = (Vec<(ClusterStagedUpdateRun, World, Time)>, UpdateRunStatus, Vec<Action>);

thread_local! {
    static SEED_INPUTS: Inputs = seed_walk(None);
}
