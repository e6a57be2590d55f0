//! `ClusterStagedUpdateRun`: JSON and YAML parsing, round trip, validation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use staged_rollout::api::ClusterStagedUpdateRun;
use staged_rollout_fuzz::{check_run, parse};

fuzz_target!(|data: &[u8]| {
    for object in parse::<ClusterStagedUpdateRun>(data) {
        check_run(&object);
    }
});
