//! `ClusterStagedUpdateStrategy`: JSON and YAML parsing, round trip, validation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use staged_rollout::api::ClusterStagedUpdateStrategy;
use staged_rollout_fuzz::{check_strategy, parse};

fuzz_target!(|data: &[u8]| {
    for object in parse::<ClusterStagedUpdateStrategy>(data) {
        check_strategy(&object);
    }
});
