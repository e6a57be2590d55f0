//! Shared by the `invariants_*` suites: the case count (1,000 unless `PROPTEST_CASES` says
//! otherwise), failure persistence in `proptest-regressions/`, and the assertion.
#![allow(dead_code)]

use proptest::test_runner::{Config, FileFailurePersistence};
use staged_rollout::sim::Transcript;
use staged_rollout::testing::{Invariant, Rollout, Termination, Violation};

/// 1,000 cases, or `PROPTEST_CASES`; failures persisted in `file` (relative to the crate root,
/// where `cargo test` runs: `proptest-regressions/<suite>.txt`) and replayed first next time.
pub fn config(file: &'static str) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1000);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

/// Plays `rollout` and returns what broke (all invariants, 8 when `termination` is given),
/// rendered for a failing case.
pub fn violations(rollout: &Rollout, termination: Option<Termination>) -> (Vec<Violation>, String) {
    let (transcript, violations) = rollout.check(termination);
    (violations.clone(), render(rollout, &transcript, &violations))
}

pub fn render(rollout: &Rollout, transcript: &Transcript, violations: &[Violation]) -> String {
    let events: Vec<String> = transcript.events.iter().map(ToString::to_string).collect();
    let v: Vec<String> = violations.iter().map(ToString::to_string).collect();
    format!("{}\n\nrollout: {rollout:#?}\n\ntranscript:\n{}", v.join("\n"), events.join("\n"))
}

/// Only the violations of `invariant`.
pub fn of(violations: &[Violation], invariant: Invariant) -> Vec<Violation> {
    violations.iter().filter(|v| v.invariant() == invariant).cloned().collect()
}
