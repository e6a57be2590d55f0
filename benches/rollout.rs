//! Whole rollouts in the simulator: does a rollout cost its reconciles times the cost of one
//! step, or does the simulator hide work that grows faster?
//!
//! * `rollout/10000x3_mc25pct` (criterion): 10,000 clusters in 3 stages at `maxConcurrency: 25%`,
//!   member agents taking 30 s, exact wake-ups — from loading the scenario (untimed) to the run's
//!   success (timed).
//! * `1000x3_mc1`: 1,000 clusters in 3 stages one at a time. A run makes about two reconciles
//!   per cluster (2,004) and takes seconds, so it is timed once per `cargo bench` instead of
//!   criterion's eleven runs at least.
//!
//! Each run's reconcile count, simulator event count and simulated completion time go to
//! `bench-facts/rollout.json` for `benches/plot.py`, which sets the timings against the
//! per-step cost measured by `benches/step.rs`.

mod common;

use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, SamplingMode};
use staged_rollout::api::IntOrString;
use staged_rollout::sim::{Scenario, Simulation, Wakeups};

fn scenario_at_25_percent(clusters: usize) -> Scenario {
    common::rollout_scenario(
        &common::even_stages(clusters, 3),
        IntOrString::String("25%".into()),
        "30s",
        Wakeups::Exact,
    )
}

fn scenario_1k_one_at_a_time() -> Scenario {
    common::rollout_scenario(&common::even_stages(1_000, 3), IntOrString::Int(1), "30s", Wakeups::Exact)
}

/// Loads and runs a scenario to the end; returns the simulation and the time `run` took.
fn run_once(scenario: &Scenario) -> (Simulation, Duration) {
    let mut sim = Simulation::from_scenario(scenario).expect("the scenario loads");
    let start = Instant::now();
    sim.run().expect("the rollout runs to its end");
    let elapsed = start.elapsed();
    let failures = scenario.expect.check(&sim);
    assert!(failures.is_empty(), "{failures:?}");
    (sim, elapsed)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and gets criterion's
    // one-iteration test mode on 1,000 clusters, without the single-shot run.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let mut criterion = Criterion::default().configure_from_args();

    let single = benchmarking.then(|| {
        let (sim, elapsed) = run_once(&scenario_1k_one_at_a_time());
        let summary = common::summarize(&sim);
        eprintln!("rollout/1000x3_mc1 (single run): {elapsed:?}, {summary:?}");
        (summary, elapsed)
    });

    let big = scenario_at_25_percent(if benchmarking { 10_000 } else { 1_000 });
    let mut big_summary = None;
    let mut g = criterion.benchmark_group("rollout");
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_millis(100)).measurement_time(Duration::from_secs(60));
    g.bench_function(if benchmarking { "10000x3_mc25pct" } else { "1000x3_mc25pct" }, |b| {
        b.iter_batched(
            || Simulation::from_scenario(&big).expect("loads"),
            |mut sim| {
                sim.run().expect("runs");
                if big_summary.is_none() {
                    let failures = big.expect.check(&sim);
                    assert!(failures.is_empty(), "{failures:?}");
                    big_summary = Some(common::summarize(&sim));
                }
                sim
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();

    if let (Some((one, elapsed)), Some(big)) = (single, big_summary) {
        common::write_facts(
            "rollout",
            &serde_json::json!({
                "10000x3_mc25pct": big,
                "1000x3_mc1": one,
                "1000x3_mc1_seconds": elapsed.as_secs_f64(),
            }),
        );
    }
    criterion.final_summary();
}
