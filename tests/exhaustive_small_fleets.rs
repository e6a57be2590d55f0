//! Exhaustive check: every fleet of up to 3 clusters over up to 2 stages, every combination of
//! stage tasks (before-stage approval or not; after-stage nothing, Approval, TimedWait, both) and
//! every effective maxConcurrency (1 up to the stage's size), and from each initial hub every
//! interleaving of reconciles, member agents reporting, approvals, one Stop and one Run, and the
//! clock jumping to the engine's next deadline. Every reconcile on the way is checked against
//! invariants 1–7 and 9; no reachable state may be a dead end (a running, non-terminal run that
//! nothing can move) or a failed run; and with a prompt environment every run succeeds within its
//! step bound (invariant 8). The test prints how many states it explored.
//!
//! States are deduplicated on (run, bindings, approval requests, clock, Stop/Run used), so the
//! search is a breadth-first walk of a finite graph: time only moves to a deadline the engine
//! announced, and Stop and Run are each used at most once.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use staged_rollout::WakeReason;
use staged_rollout::api::well_known::condition_types as ct;
use staged_rollout::api::{
    Condition, ConditionStatus, Duration, IntOrString, LabelSelector, StageConfig, StageTask, StageUpdatingStatus,
    State, Time, UpdateStrategySpec, find_condition,
};
use staged_rollout::testing::{Checker, ModelHub, StepBound, Violation};

/// The after-stage task combinations.
fn after_tasks(i: usize) -> Vec<StageTask> {
    let wait = StageTask::timed_wait(Duration::from_secs(60));
    match i {
        0 => vec![],
        1 => vec![StageTask::approval()],
        2 => vec![wait],
        _ => vec![wait, StageTask::approval()],
    }
}

#[derive(Clone, Debug)]
struct Config {
    sizes: Vec<usize>,
    /// (before approval, after tasks index, maxConcurrency) per stage.
    stages: Vec<(bool, usize, i32)>,
}

fn configs() -> Vec<Config> {
    let mut size_sets: Vec<Vec<usize>> = Vec::new();
    for n in 1..=3 {
        size_sets.push(vec![n]);
    }
    for a in 0..=3 {
        for b in 0..=3 {
            if (1..=3).contains(&(a + b)) {
                size_sets.push(vec![a, b]);
            }
        }
    }
    let mut out = Vec::new();
    for sizes in size_sets {
        let per_stage: Vec<Vec<(bool, usize, i32)>> = sizes
            .iter()
            .map(|&n| {
                let mut v = Vec::new();
                for before in [false, true] {
                    for after in 0..4 {
                        for mc in 1..=n.max(1) as i32 {
                            v.push((before, after, mc));
                        }
                    }
                }
                v
            })
            .collect();
        let mut combos: Vec<Vec<(bool, usize, i32)>> = vec![vec![]];
        for options in &per_stage {
            combos = combos
                .into_iter()
                .flat_map(|prefix| {
                    options.iter().map(move |o| {
                        let mut p = prefix.clone();
                        p.push(*o);
                        p
                    })
                })
                .collect();
        }
        out.extend(combos.into_iter().map(|stages| Config { sizes: sizes.clone(), stages }));
    }
    out
}

fn hub(config: &Config) -> ModelHub {
    let stages = config
        .stages
        .iter()
        .enumerate()
        .map(|(i, (before, after, mc))| StageConfig {
            name: format!("s{i}"),
            label_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([("group".to_owned(), format!("g{i}"))])),
                ..Default::default()
            }),
            max_concurrency: Some(IntOrString::Int(*mc)),
            before_stage_tasks: if *before { vec![StageTask::approval()] } else { vec![] },
            after_stage_tasks: after_tasks(*after),
            ..Default::default()
        })
        .collect();
    let mut clusters = Vec::new();
    for (i, n) in config.sizes.iter().enumerate() {
        for _ in 0..*n {
            let name = format!("c{}", clusters.len() + 1);
            clusters.push((name, BTreeMap::from([("group".to_owned(), format!("g{i}"))])));
        }
    }
    let strategy = UpdateStrategySpec { stages, extra: Default::default() };
    ModelHub::new(None, strategy, &clusters, Some(State::Run), Time::from_unix_seconds(1_700_000_000))
}

/// A node of the search: the hub, and whether Stop and Run were used.
#[derive(Clone)]
struct Node {
    hub: ModelHub,
    stopped: bool,
    resumed: bool,
}

fn hash_conditions(conditions: &[Condition], h: &mut DefaultHasher) {
    for c in conditions {
        (&c.type_, c.status.to_string(), &c.reason, c.observed_generation, c.last_transition_time).hash(h);
    }
    0xffu8.hash(h);
}

fn hash_stage(s: &StageUpdatingStatus, h: &mut DefaultHasher) {
    (&s.stage_name, s.start_time, s.end_time).hash(h);
    hash_conditions(&s.conditions, h);
    for c in &s.clusters {
        c.cluster_name.hash(h);
        hash_conditions(&c.conditions, h);
    }
    for t in s.before_stage_task_status.iter().chain(&s.after_stage_task_status) {
        hash_conditions(&t.conditions, h);
    }
}

/// What distinguishes one state from another: the run (spec state, generation, finalizers,
/// status), the bindings, the approval requests, the clock and the Stop/Run budget. The strategy
/// snapshot and everything else constant per hub are left out.
fn key(n: &Node) -> u64 {
    let mut h = DefaultHasher::new();
    let run = &n.hub.run;
    (run.spec().state.as_ref().map(ToString::to_string), run.metadata().generation(), &run.metadata().finalizers)
        .hash(&mut h);
    if let Some(status) = run.status() {
        (&status.resource_snapshot_index_used, status.update_strategy_snapshot.is_some()).hash(&mut h);
        hash_conditions(&status.conditions, &mut h);
        for s in status.stages_status.iter().chain(&status.deletion_stage_status) {
            hash_stage(s, &mut h);
        }
    }
    for b in &n.hub.world.bindings {
        (b.metadata.generation(), b.spec.state.to_string(), &b.spec.resource_snapshot_name).hash(&mut h);
        hash_conditions(b.conditions(), &mut h);
    }
    for a in &n.hub.world.approval_requests {
        a.metadata.name().hash(&mut h);
        hash_conditions(&a.conditions, &mut h);
    }
    let deadline = match n.hub.wake.as_ref().map(|w| &w.reason) {
        Some(WakeReason::AfterStageTasks { wait_until, .. }) => *wait_until,
        _ => None,
    };
    (n.hub.now, deadline, n.stopped, n.resumed).hash(&mut h);
    h.finish()
}

/// Explores every interleaving from `config`'s initial hub; returns the states seen and the
/// violations found.
fn explore(config: &Config) -> (usize, Vec<String>) {
    let checker = Checker::new();
    let mut problems = Vec::new();
    let start = Node { hub: hub(config), stopped: false, resumed: false };
    let mut seen = HashSet::new();
    seen.insert(key(&start));
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        let mut successors = Vec::new();
        // A reconcile, checked.
        let mut next = node.clone();
        next.hub.records.clear();
        match next.hub.reconcile() {
            Ok(_) => {
                let violations: Vec<Violation> = checker.check_records(&next.hub.records);
                problems.extend(violations.iter().map(|v| format!("{config:?}: {v}")));
                next.hub.records.clear();
                successors.push(next);
            }
            Err(e) => problems.push(format!("{config:?}: engine error {e}")),
        }
        if node.hub.is_terminal() {
            let status = node.hub.run.status().unwrap();
            let succeeded =
                find_condition(&status.conditions, ct::SUCCEEDED).is_some_and(|c| c.status == ConditionStatus::True);
            if !succeeded {
                problems.push(format!("{config:?}: a run failed: {:?}", status.conditions));
            }
            continue;
        }
        for cluster in node.hub.in_flight() {
            let mut next = node.clone();
            next.hub.complete(&cluster, false);
            successors.push(next);
        }
        for request in node.hub.pending_approvals() {
            let mut next = node.clone();
            next.hub.approve(&request);
            successors.push(next);
        }
        let mut toggles = Vec::new();
        if !node.stopped {
            let mut next = node.clone();
            next.hub.set_state(State::Stop);
            next.stopped = true;
            toggles.push(next);
        }
        if node.stopped && !node.resumed {
            let mut next = node.clone();
            next.hub.set_state(State::Run);
            next.resumed = true;
            toggles.push(next);
        }
        // The clock jumps to a TimedWait's end (not to the stuck threshold: the members here
        // always report, and Stuck only changes the run's Progressing reason).
        if let Some(WakeReason::AfterStageTasks { wait_until: Some(at), .. }) =
            node.hub.wake.as_ref().map(|w| &w.reason)
            && *at > node.hub.now
        {
            let mut next = node.clone();
            next.hub.now = *at;
            successors.push(next);
        }
        // A dead end: nothing but Stop or Run changes the state of a running run.
        let here = key(&node);
        let mut moved = false;
        for s in successors {
            let k = key(&s);
            moved |= k != here;
            if seen.insert(k) {
                queue.push_back(s);
            }
        }
        for s in toggles {
            if seen.insert(key(&s)) {
                queue.push_back(s);
            }
        }
        let running = node.stopped == node.resumed;
        if !moved && running {
            problems.push(format!("{config:?}: a dead end at {}: {:?}", node.hub.now, node.hub.run.status()));
        }
    }
    (seen.len(), problems)
}

/// The prompt environment: after every reconcile every member reports and every request is
/// approved; the clock jumps to the engine's deadline. Returns (reconciles, bound).
fn prompt(config: &Config) -> Result<(usize, usize), String> {
    let mut hub = hub(config);
    for steps in 1..=500 {
        hub.reconcile().map_err(|e| e.to_string())?;
        if hub.is_terminal() {
            let status = hub.run.status().unwrap();
            let bound = StepBound::of_status(status).map(|b| b.steps()).unwrap_or(0);
            return Ok((steps, bound));
        }
        for c in hub.in_flight() {
            hub.complete(&c, false);
        }
        for r in hub.pending_approvals() {
            hub.approve(&r);
        }
        if let Some(at) = hub.wake.as_ref().and_then(|w| w.at)
            && at > hub.now
        {
            hub.now = at;
        }
    }
    Err("no termination in 500 reconciles".into())
}

#[test]
fn every_small_fleet_and_interleaving_keeps_the_invariants() {
    let started = std::time::Instant::now();
    let mut configs = configs();
    if let Some(skip) = std::env::var("EXHAUSTIVE_SKIP").ok().and_then(|l| l.parse::<usize>().ok()) {
        configs.drain(..skip);
    }
    if let Some(limit) = std::env::var("EXHAUSTIVE_LIMIT").ok().and_then(|l| l.parse().ok()) {
        configs.truncate(limit);
    }
    // The hubs are independent: split them over the cores.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    let results: Vec<(usize, Vec<String>, (usize, usize))> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let configs = &configs;
                scope.spawn(move || {
                    let mut states = 0;
                    let mut problems = Vec::new();
                    let mut worst = (0usize, 1usize);
                    for config in configs.iter().skip(t).step_by(threads) {
                        let (n, p) = explore(config);
                        states += n;
                        problems.extend(p);
                        match prompt(config) {
                            Ok((steps, bound)) => {
                                if steps > bound {
                                    problems.push(format!("{config:?}: {steps} reconciles, bound {bound}"));
                                }
                                if worst.0 == 0 || steps * worst.1 > worst.0 * bound.max(1) {
                                    worst = (steps, bound);
                                }
                            }
                            Err(e) => problems.push(format!("{config:?}: {e}")),
                        }
                        if problems.len() > 20 {
                            break;
                        }
                    }
                    (states, problems, worst)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("an exploring thread")).collect()
    });
    let states: usize = results.iter().map(|r| r.0).sum();
    let problems: Vec<String> = results.iter().flat_map(|r| r.1.clone()).collect();
    let worst = results.iter().map(|r| r.2).max_by(|a, b| (a.0 * b.1).cmp(&(b.0 * a.1))).unwrap_or((0, 1));
    println!(
        "exhaustive: {} hubs, {states} states explored in {:.1?}; prompt runs at most {}/{} of their step bound",
        configs.len(),
        started.elapsed(),
        worst.0,
        worst.1
    );
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
