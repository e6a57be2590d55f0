//! `MemberCluster`: JSON and YAML parsing, round trip, and selection by its labels.
#![no_main]

use libfuzzer_sys::fuzz_target;
use staged_rollout::api::{LabelSelector, MemberCluster, compile};
use staged_rollout_fuzz::parse;

fuzz_target!(|data: &[u8]| {
    for cluster in parse::<MemberCluster>(data) {
        let _ = cluster.name();
        // `{}` selects every cluster, a missing selector none.
        assert!(compile(Some(&LabelSelector::default())).unwrap().matches(cluster.metadata.labels()));
        assert!(!compile(None).unwrap().matches(cluster.metadata.labels()));
    }
});
