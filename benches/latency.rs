//! Rollout latency in simulated time: exact wake-ups against KubeFleet's fixed polling.
//!
//! 100 clusters in 3 stages of 20, 30 and 50 at `maxConcurrency: 50%`, member agents taking a
//! fixed time to apply (30 s, the case of the issue; 40 s and 1 s show how polling's cost depends
//! on the apply time), driven by the simulator in both modes:
//!
//! * `exact` — the run is reconciled whenever a watch would see a change and at the engine's
//!   exact `Wake::at`;
//! * `polling` — as KubeFleet's controller: requeued after 15 s while clusters update and 60 s
//!   while a stage waits on an approval (this strategy has none), woken early only by changes to
//!   the run and approvals.
//!
//! The ideal lower bound: a stage of `n` clusters at concurrency `c` keeps at most `c` clusters
//! updating, each for the apply time `d`, so it needs at least `ceil(n / c) · d`; stages run one
//! after another, so the rollout needs at least the sum over stages (here 2 + 2 + 2 batches of
//! `d`). Completion is measured from the run's creation to its `run-succeeded` event.
//!
//! Simulated time is deterministic: there is nothing to sample, so this is a plain program.
//! `cargo bench --bench latency`; the numbers go to `bench-facts/latency.json`.

mod common;

use staged_rollout::api::IntOrString;
use staged_rollout::sim::{Simulation, Wakeups};

const STAGES: [usize; 3] = [20, 30, 50];
const PERCENT: usize = 50;

/// The ideal completion for a fixed apply time of `delay` seconds.
fn ideal(delay: i64) -> i64 {
    STAGES
        .iter()
        .map(|&n| {
            let c = (n * PERCENT / 100).max(1);
            n.div_ceil(c) as i64 * delay
        })
        .sum()
}

fn completion(delay: i64, wakeups: Wakeups) -> common::RolloutSummary {
    let scenario =
        common::rollout_scenario(&STAGES, IntOrString::String(format!("{PERCENT}%")), &format!("{delay}s"), wakeups);
    let mut sim = Simulation::from_scenario(&scenario).expect("the scenario loads");
    sim.run().expect("the rollout runs to its end");
    let failures = scenario.expect.check(&sim);
    assert!(failures.is_empty(), "{failures:?}");
    common::summarize(&sim)
}

fn main() {
    let mut rows = Vec::new();
    for delay in [30, 40, 1] {
        let bound = ideal(delay);
        let exact = completion(delay, Wakeups::Exact);
        let polling = completion(delay, Wakeups::Polling);
        eprintln!(
            "apply {delay:>2} s: ideal {bound} s, exact {} s ({:+.2} %), polling {} s ({:+.2} %); reconciles {} / {}",
            exact.completion_secs,
            100.0 * (exact.completion_secs - bound) as f64 / bound as f64,
            polling.completion_secs,
            100.0 * (polling.completion_secs - bound) as f64 / bound as f64,
            exact.reconciles,
            polling.reconciles,
        );
        rows.push(serde_json::json!({
            "apply_secs": delay, "ideal_secs": bound, "exact": exact, "polling": polling,
        }));
    }
    common::write_facts("latency", &serde_json::Value::Array(rows));
}
