//! Structured (status, world, event) sequences into `reconcile`: a generated fleet and strategy
//! (any stage tasks, concurrency, selectors, sorting — valid or not), then an arbitrary sequence
//! of events — reconciles, reconciles against a stale world, member agents reporting success or
//! failure, approvals granted and deleted, Stop and Run, clusters relabelled, leaving, joining
//! and unscheduled, the clock moving, the persisted status corrupted. Nothing may panic, every
//! reconcile before the first corruption keeps the rollout invariants, and every reconcile gives
//! the same through one `PlanCache` kept across the sequence — told the `resourceVersion` of
//! every status written, as the driver tells it, while every write of the run moves the version
//! on — as without it.
#![no_main]

use std::collections::BTreeMap;
use std::sync::Arc;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use staged_rollout::{Action, Config, PlanCache, UpdateRun, World};
use staged_rollout::api::{
    BindingState, ConditionStatus, Duration, IntOrString, LabelSelector, StageConfig, StageTask, State, Time,
    UpdateStrategySpec,
};
use staged_rollout::testing::{Checker, ModelHub};

#[derive(Arbitrary, Debug)]
struct Stage {
    selector: u8,
    sorted: bool,
    max_concurrency: i8,
    percent: bool,
    before: u8,
    after: u8,
    wait: u8,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Reconcile,
    StaleReconcile,
    Advance(u16),
    Complete(u8),
    Fail(u8),
    Approve(u8),
    DeleteApproval(u8),
    Stop,
    Run,
    Relabel(u8, u8),
    Leave(u8),
    Join(u8),
    Unschedule(u8),
    Corrupt(u8, u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    namespaced: bool,
    seed_compatible: bool,
    state: u8,
    clusters: Vec<(u8, u8)>,
    stages: Vec<Stage>,
    ops: Vec<Op>,
}

fn labels(group: u8, order: u8) -> BTreeMap<String, String> {
    let mut l = BTreeMap::from([("group".to_owned(), format!("g{}", group % 4))]);
    if order % 8 != 7 {
        l.insert("order".to_owned(), (order % 8).to_string());
    }
    l
}

fn stage(i: usize, s: &Stage) -> StageConfig {
    let selector = match s.selector % 8 {
        0 => None,
        1 => Some(LabelSelector::default()),
        n => Some(LabelSelector {
            match_labels: Some(BTreeMap::from([("group".to_owned(), format!("g{}", (n as usize + i) % 4))])),
            ..Default::default()
        }),
    };
    let task = |t: u8, wait: u8| match t % 4 {
        0 => StageTask::approval(),
        1 => StageTask::timed_wait(Duration::from_secs(i64::from(wait % 120))),
        2 => {
            let mut w = StageTask::timed_wait(Duration::from_secs(1));
            w.wait_time = None;
            w
        }
        _ => StageTask::timed_wait(Duration::from_secs(i64::from(wait % 90) + 1)),
    };
    let before = match s.before % 6 {
        0 => vec![StageTask::approval()],
        1 => vec![task(s.before / 6, s.wait)],
        2 => vec![StageTask::approval(), StageTask::approval()],
        _ => vec![],
    };
    let after = match s.after % 6 {
        0 => vec![],
        1 => vec![StageTask::approval()],
        2 => vec![task(s.after / 6, s.wait)],
        3 => vec![task(s.after / 6, s.wait), StageTask::approval()],
        4 => vec![StageTask::approval(), task(s.after / 6, s.wait)],
        _ => vec![task(s.after / 6, s.wait), task(s.after / 36, s.wait)],
    };
    let mc = if s.percent {
        IntOrString::String(format!("{}%", s.max_concurrency.unsigned_abs() % 101))
    } else {
        IntOrString::Int(i32::from(s.max_concurrency % 5))
    };
    StageConfig {
        name: format!("s{i}"),
        label_selector: selector,
        sorting_label_key: s.sorted.then(|| "order".to_owned()),
        max_concurrency: (s.max_concurrency != 0).then_some(mc),
        before_stage_tasks: before,
        after_stage_tasks: after,
        ..Default::default()
    }
}

fn cluster_name(i: u8) -> String {
    format!("c{}", i % 6)
}

/// Reconciles `hub.run` against `world` through `cache` and without it, on copies: both must
/// give the same outcome and the same status (or the same error). Returns whether the status
/// changed.
fn same_with_cache(hub: &ModelHub, world: &World, cache: &mut PlanCache) -> bool {
    let (mut cached, mut plain): (UpdateRun, UpdateRun) = (hub.run.clone(), hub.run.clone());
    let with = cached.reconcile_cached(cache, world, hub.now, &hub.config);
    let without = plain.reconcile_in_place(world, hub.now, &hub.config);
    assert_eq!(with, without, "the outcome through the plan cache differs");
    assert_eq!(cached.status(), plain.status(), "the status through the plan cache differs");
    with.is_ok_and(|o| o.status_changed)
}

/// A write of the run, as an API server answers it: a new `resourceVersion`, returned.
fn write(run: &mut UpdateRun) -> String {
    let meta = run.metadata_mut();
    let version = meta.resource_version.as_deref().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + 1;
    meta.resource_version = Some(version.to_string());
    version.to_string()
}

/// What the hub's last reconcile wrote, as a driver sees it: the run (a finalizer) and the
/// status, whose new version the cache is told.
fn written(hub: &mut ModelHub, cache: &mut PlanCache, status_changed: bool) {
    let record = hub.records.last().expect("just reconciled");
    if record.actions.iter().any(|a| matches!(a, Action::AddFinalizer { .. } | Action::RemoveFinalizer { .. })) {
        write(&mut hub.run);
    }
    if status_changed {
        cache.persisted(&write(&mut hub.run));
    }
}

fuzz_target!(|input: Input| {
    let clusters: Vec<(String, BTreeMap<String, String>)> =
        input.clusters.iter().take(5).enumerate().map(|(i, (g, o))| (format!("c{i}"), labels(*g, *o))).collect();
    let stages = input.stages.iter().take(4).enumerate().map(|(i, s)| stage(i, s)).collect();
    let strategy = UpdateStrategySpec { stages, extra: Default::default() };
    let state = match input.state % 5 {
        0 => None,
        1 => Some(State::Initialize),
        2 => Some(State::Stop),
        _ => Some(State::Run),
    };
    let mut hub = ModelHub::new(
        input.namespaced.then_some("team"),
        strategy,
        &clusters,
        state,
        Time::from_unix_seconds(1_741_773_600),
    );
    if input.seed_compatible {
        hub.config = Config::seed_compatible();
    }
    let mut stale = hub.world.clone();
    let mut cache = PlanCache::new();
    let mut checked = 0;
    let mut corrupted = false;
    for op in input.ops.iter().take(64) {
        match op {
            Op::Reconcile => {
                let changed = same_with_cache(&hub, &hub.world, &mut cache);
                let before = hub.world.clone();
                if hub.reconcile().is_err() {
                    return;
                }
                written(&mut hub, &mut cache, changed);
                stale = before;
            }
            Op::StaleReconcile => {
                let changed = same_with_cache(&hub, &stale, &mut cache);
                if hub.reconcile_observing(&stale).is_err() {
                    return;
                }
                written(&mut hub, &mut cache, changed);
            }
            Op::Advance(s) => hub.advance(Duration::from_secs(i64::from(*s % 600))),
            Op::Complete(i) => {
                if let Some(c) = hub.in_flight().get(usize::from(*i) % 6).cloned() {
                    hub.complete(&c, false);
                }
            }
            Op::Fail(i) => {
                if let Some(c) = hub.in_flight().get(usize::from(*i) % 6).cloned() {
                    hub.complete(&c, true);
                }
            }
            Op::Approve(i) => {
                let pending = hub.pending_approvals();
                if let Some(r) = pending.get(usize::from(*i) % pending.len().max(1)).cloned() {
                    hub.approve(&r);
                }
            }
            Op::DeleteApproval(i) => {
                let names: Vec<String> =
                    hub.world.approval_requests.iter().map(|a| a.metadata.name().to_owned()).collect();
                if let Some(r) = names.get(usize::from(*i) % names.len().max(1)) {
                    hub.delete_approval(r);
                }
            }
            Op::Stop => {
                hub.set_state(State::Stop);
                write(&mut hub.run);
            }
            Op::Run => {
                hub.set_state(State::Run);
                write(&mut hub.run);
            }
            Op::Relabel(i, g) => {
                let name = cluster_name(*i);
                if let Some(c) = hub.world.member_clusters.iter_mut().find(|c| c.name() == name).map(Arc::make_mut) {
                    c.metadata.labels = Some(labels(*g, *i));
                }
            }
            Op::Leave(i) => {
                let name = cluster_name(*i);
                hub.world.member_clusters.retain(|c| c.name() != name);
            }
            Op::Join(g) => hub.join(&cluster_name(*g), labels(*g, g / 4)),
            Op::Unschedule(i) => {
                let name = cluster_name(*i);
                if let Some(b) =
                    hub.world.bindings.iter_mut().find(|b| b.spec.target_cluster == name).map(Arc::make_mut)
                {
                    b.spec.state = BindingState::Unscheduled;
                    b.metadata.generation = Some(b.metadata.generation() + 1);
                }
            }
            Op::Corrupt(what, which) => {
                if !corrupted {
                    checked = hub.records.len();
                    corrupted = true;
                }
                if let Some(mut status) = hub.run.status().cloned() {
                    let n = usize::from(*which);
                    match what % 6 {
                        0 => {
                            if let Some(s) = status.stages_status.get_mut(n % 4) {
                                s.conditions.clear();
                            }
                        }
                        1 => {
                            if let Some(s) = status.stages_status.get_mut(n % 4) {
                                s.clusters.truncate(n % 3);
                            }
                        }
                        2 => {
                            if let Some(c) =
                                status.stages_status.iter_mut().flat_map(|s| s.clusters.iter_mut()).nth(n % 6)
                            {
                                for cond in &mut c.conditions {
                                    cond.status = ConditionStatus::False;
                                }
                            }
                        }
                        3 => status.update_strategy_snapshot = None,
                        4 => status.deletion_stage_status = None,
                        _ => {
                            if let Some(s) = status.stages_status.get_mut(n % 4) {
                                s.start_time = None;
                                s.after_stage_task_status.clear();
                            }
                        }
                    }
                    hub.run.set_status(status);
                    write(&mut hub.run);
                }
            }
        }
    }
    let records = if corrupted { &hub.records[..checked] } else { &hub.records[..] };
    let violations = Checker::new().check_records(records);
    assert!(violations.is_empty(), "{violations:#?}");
});
