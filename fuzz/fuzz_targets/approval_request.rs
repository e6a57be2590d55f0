//! `ApprovalRequest`: JSON and YAML parsing, round trip, validation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use staged_rollout::api::ApprovalRequest;
use staged_rollout_fuzz::{check_approval_request, parse};

fuzz_target!(|data: &[u8]| {
    for object in parse::<ApprovalRequest>(data) {
        check_approval_request(&object);
    }
});
