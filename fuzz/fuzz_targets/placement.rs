//! `Placement` (`ClusterResourcePlacement` / `ResourcePlacement`): JSON and YAML parsing, round
//! trip, and the defaults a run reads from it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use staged_rollout::api::Placement;
use staged_rollout_fuzz::{check_apply_strategy, parse};

fuzz_target!(|data: &[u8]| {
    for placement in parse::<Placement>(data) {
        let _ = placement.spec.strategy.type_or_default();
        if let Some(policy) = &placement.spec.policy {
            let _ = policy.placement_type();
        }
        check_apply_strategy(placement.spec.strategy.apply_strategy.as_ref());
    }
});
