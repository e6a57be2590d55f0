//! Invariant 8 under fault injection: with healthy member agents (every apply succeeds, before
//! the stuck threshold) and every approval granted, each run terminates — and succeeds — within
//! its `StepBound`, despite Stops and Runs (a final Run resumes a stopped run) and every fault a
//! contract-keeping fleet can show (`Fault::HONEST`: failed actions, lost answers, duplicated
//! deliveries, failed and conflicting status writes, crashes, stale observations, restarts) and
//! clock jitter. 1,000 cases; `PROPTEST_CASES=N` for more.

mod invariants_support;

use proptest::prelude::*;
use staged_rollout::testing::{Invariant, RolloutParams, Termination, rollouts};

use invariants_support::{config, of, violations};

proptest! {
    #![proptest_config(config("proptest-regressions/invariants_termination.txt"))]

    #[test]
    fn invariant_8_termination(rollout in rollouts(RolloutParams { fault_per_mille: 150, ..RolloutParams::healthy() })) {
        let termination = Termination { external_events: rollout.external_events(), must_succeed: true };
        let (all, text) = violations(&rollout, Some(termination));
        prop_assert!(of(&all, Invariant::Termination).is_empty(), "invariant 8 violated:\n{text}");
        prop_assert!(all.is_empty(), "{text}");
    }
}
