//! Instruction counts under callgrind, for the ratios the targets are about: on a machine
//! shared with other work, wall-clock ratios move by tens of percent; instruction counts do not.
//!
//! Each measured operation runs once inside an `#[inline(never)]` function named `measured_*`;
//! `benches/callgrind.sh` runs this binary under
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=*measured_*`, so only those
//! functions are counted, and reads each one's inclusive count.
//!
//! ```text
//! instructions step CLUSTERS STAGES 1|25   # measured_step_in_place, measured_step_cached, measured_step_copy, measured_parse
//! instructions rollout CLUSTERS 1|25       # measured_rollout (3 stages, 30 s applies)
//! ```
//!
//! Without arguments (as `cargo bench` and `cargo test --benches` run it) it does nothing.

mod common;

use std::hint::black_box;

use staged_rollout::api::{ClusterStagedUpdateRun, IntOrString, Time, UpdateRunStatus};
use staged_rollout::sim::{Simulation, Wakeups};
use staged_rollout::{Config, InPlaceOutcome, Outcome, PlanCache, World, reconcile, reconcile_in_place};

use common::Concurrency;

#[inline(never)]
fn measured_step_in_place(
    run: &mut ClusterStagedUpdateRun,
    world: &World,
    now: Time,
    config: &Config,
) -> InPlaceOutcome {
    reconcile_in_place(run, world, now, config).expect("consistent")
}

#[inline(never)]
fn measured_step_cached(
    cache: &mut PlanCache,
    run: &mut ClusterStagedUpdateRun,
    world: &World,
    now: Time,
    config: &Config,
) -> InPlaceOutcome {
    cache.reconcile_in_place(run, world, now, config).expect("consistent")
}

#[inline(never)]
fn measured_step_copy(run: &ClusterStagedUpdateRun, world: &World, now: Time, config: &Config) -> Outcome {
    reconcile(run, world, now, config).expect("consistent")
}

#[inline(never)]
fn measured_parse(json: &str) -> UpdateRunStatus {
    serde_json::from_str(json).expect("parses")
}

#[inline(never)]
fn measured_rollout(sim: &mut Simulation) {
    sim.run().expect("runs");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["step", clusters, stages, concurrency] => {
            let concurrency = match *concurrency {
                "1" => Concurrency::One,
                p => Concurrency::Percent(p.parse().expect("a percentage")),
            };
            let f = common::mid_rollout(
                clusters.parse().expect("a cluster count"),
                stages.parse().expect("a stage count"),
                concurrency,
            );
            let json = f.status_json();
            let mut run = f.run.clone();
            let outcome = measured_step_in_place(&mut run, &f.world, f.now, &f.config);
            assert_eq!(outcome.actions.len(), 2);
            drop(black_box((run, outcome)));
            let (mut run, mut cache) = (f.run.clone(), f.cache.clone());
            let outcome = measured_step_cached(&mut cache, &mut run, &f.world, f.now, &f.config);
            assert_eq!(outcome.actions.len(), 2);
            drop(black_box((run, outcome, cache)));
            drop(black_box(measured_step_copy(&f.run, &f.world, f.now, &f.config)));
            drop(black_box(measured_parse(&json)));
            println!("{} status_json_bytes={}", f.id(), json.len());
        }
        ["rollout", clusters, concurrency] => {
            let which = format!("{clusters}x3_{concurrency}");
            let clusters: usize = clusters.parse().expect("a cluster count");
            let concurrency = match *concurrency {
                "1" => IntOrString::Int(1),
                p => IntOrString::String(format!("{p}%")),
            };
            let scenario =
                common::rollout_scenario(&common::even_stages(clusters, 3), concurrency, "30s", Wakeups::Exact);
            let mut sim = Simulation::from_scenario(&scenario).expect("loads");
            measured_rollout(&mut sim);
            let summary = common::summarize(&sim);
            println!("rollout {which} {}", serde_json::to_string(&summary).expect("serializes"));
        }
        [] => {}
        other => {
            panic!("usage: instructions step CLUSTERS STAGES 1|PERCENT | rollout CLUSTERS 1|PERCENT (got {other:?})")
        }
    }
}
