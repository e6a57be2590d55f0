//! One engine step in the middle of a rollout, against parsing the run's status JSON.
//!
//! For every fleet (100, 1,000, 10,000, 100,000 clusters) × strategy (3 or 31 stages) ×
//! `maxConcurrency` (1 or 25 %), on the fixture of `benches/common` (half the stages done, the
//! current stage's second batch in flight, its first cluster just finished):
//!
//! * `in_place` — `reconcile_in_place` on a fresh clone of the run (the clone is made
//!   outside the timing, and the run is dropped outside it);
//! * `cached` — `PlanCache::reconcile_in_place` likewise, through the plan cache the fixture's
//!   own earlier reconciles warmed (cloned outside the timing), as a controller's next reconcile
//!   runs: the bindings changed since are compared, the stages are not planned again;
//! * `copy` — `reconcile`, which copies the status (the outcome is dropped outside the
//!   timing);
//! * `parse_status` — `serde_json::from_str::<UpdateRunStatus>` of that run's status JSON, the
//!   baseline: what merely reading the run costs.
//!
//! Each fixture is built once and dropped before the next one, so the 100,000-cluster cases
//! cost one build each. `cargo bench --bench step`; see `benches/README.md`.

mod common;

use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use staged_rollout::api::UpdateRunStatus;
use staged_rollout::{reconcile, reconcile_in_place};

use common::Concurrency;

const FLEETS: [usize; 4] = [100, 1_000, 10_000, 100_000];
const STAGES: [usize; 2] = [3, 31];
const CONCURRENCY: [Concurrency; 2] = [Concurrency::One, Concurrency::Percent(25)];

fn steps(c: &mut Criterion) {
    // `cargo bench` passes `--bench`; `cargo test --benches` (criterion's one-iteration test
    // mode, often an unoptimized build) checks the two small fleets only.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let fleets = if benchmarking { &FLEETS[..] } else { &FLEETS[..2] };
    let mut facts = Vec::new();
    for &clusters in fleets {
        for stages in STAGES {
            for concurrency in CONCURRENCY {
                let f = common::mid_rollout(clusters, stages, concurrency);
                let json = f.status_json();
                // The fixture is what it claims to be: the step marks one cluster succeeded and
                // starts the next one.
                let mut probe = f.run.clone();
                let outcome = reconcile_in_place(&mut probe, &f.world, f.now, &f.config).expect("consistent");
                assert!(outcome.status_changed, "{}: the measured step writes the status", f.id());
                assert_eq!(outcome.actions.len(), 2, "{}: {:?}", f.id(), outcome.actions);
                drop(probe);
                facts.push(serde_json::json!({
                    "clusters": clusters, "stages": stages, "concurrency": concurrency.label(),
                    "status_json_bytes": json.len(),
                    "in_flight": concurrency.of(clusters / stages),
                }));

                let shape = format!("{stages}st_{}", concurrency.label());
                let mut g = c.benchmark_group("step");
                if clusters >= 100_000 {
                    g.sample_size(10).sampling_mode(SamplingMode::Flat);
                    g.warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(3));
                } else {
                    g.sample_size(20);
                    g.warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_millis(1500));
                }
                g.bench_with_input(BenchmarkId::new(format!("in_place/{shape}"), clusters), &f, |b, f| {
                    b.iter_batched(
                        || f.run.clone(),
                        |mut run| {
                            let outcome = reconcile_in_place(&mut run, &f.world, f.now, &f.config);
                            (run, outcome)
                        },
                        BatchSize::LargeInput,
                    )
                });
                g.bench_with_input(BenchmarkId::new(format!("cached/{shape}"), clusters), &f, |b, f| {
                    b.iter_batched(
                        || (f.run.clone(), f.cache.clone()),
                        |(mut run, mut cache)| {
                            let outcome = cache.reconcile_in_place(&mut run, &f.world, f.now, &f.config);
                            (run, cache, outcome)
                        },
                        BatchSize::LargeInput,
                    )
                });
                g.bench_with_input(BenchmarkId::new(format!("copy/{shape}"), clusters), &f, |b, f| {
                    b.iter_with_large_drop(|| reconcile(&f.run, &f.world, f.now, &f.config))
                });
                g.bench_with_input(BenchmarkId::new(format!("parse_status/{shape}"), clusters), &json, |b, json| {
                    b.iter_with_large_drop(|| serde_json::from_str::<UpdateRunStatus>(json).expect("parses"))
                });
                g.finish();
            }
        }
    }
    if benchmarking {
        common::write_facts("step-fixtures", &serde_json::Value::Array(facts));
    }
}

criterion_group!(benches, steps);
criterion_main!(benches);
