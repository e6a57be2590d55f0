//! `Binding` (`ClusterResourceBinding` / `ResourceBinding`): JSON and YAML parsing, round trip,
//! and what a run reads from it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use staged_rollout::api::{Binding, find_condition, well_known::condition_types};
use staged_rollout_fuzz::{check_apply_strategy, parse};

fuzz_target!(|data: &[u8]| {
    for binding in parse::<Binding>(data) {
        let _ = find_condition(binding.conditions(), condition_types::AVAILABLE);
        check_apply_strategy(binding.spec.apply_strategy.as_ref());
    }
});
