//! The checks every fuzz target runs, shared so each target is a few lines.
//!
//! A target hands arbitrary bytes to [`parse`], which tries them as JSON and as YAML. Every
//! object that parses must survive a round trip — serialized as JSON and parsed again, and
//! serialized as YAML and parsed again, it must compare equal to itself — and is then given to
//! the target's validation checks. Nothing may panic.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use staged_rollout::api::{
    ApplyStrategy, ApprovalRequestObject, LabelSelector, StageNameRule, UpdateRunObject, UpdateStrategyObject,
    ValidationOptions, compile, max_concurrency, validate_approval_request, validate_run, validate_run_update,
    validate_strategy,
};

/// Every object `data` parses into, as JSON and as YAML, each checked by [`assert_round_trip`].
pub fn parse<T>(data: &[u8]) -> Vec<T>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let mut parsed = Vec::with_capacity(2);
    if let Ok(x) = serde_json::from_slice::<T>(data) {
        assert_round_trip(&x);
        parsed.push(x);
    }
    if let Ok(x) = serde_saphyr::from_slice::<T>(data) {
        assert_round_trip(&x);
        parsed.push(x);
    }
    parsed
}

/// `parse(serialize(x)) == x`, through JSON and through YAML.
pub fn assert_round_trip<T>(x: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = serde_json::to_string(x).expect("a parsed object serializes to JSON");
    let again: T = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}\ndoes not parse again: {e}"));
    assert_eq!(&again, x, "JSON round trip through {json}");

    let yaml = serde_saphyr::to_string(x).expect("a parsed object serializes to YAML");
    let again: T = serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{yaml}\ndoes not parse again: {e}"));
    assert_eq!(&again, x, "YAML round trip through\n{yaml}");
}

const SEED: ValidationOptions = ValidationOptions { stage_names: StageNameRule::Dns1123Label };

/// Validates a strategy under both stage-name rules and exercises what the engine derives from
/// its stages: compiled selectors and concurrency.
pub fn check_strategy<S: UpdateStrategyObject>(strategy: &S) {
    let today = validate_strategy(strategy, ValidationOptions::default());
    let seed = validate_strategy(strategy, SEED);
    if let Err(e) = &today {
        let _ = e.to_string();
    }
    // `^[a-z0-9]+$` names are DNS-1123 labels, so today's rule is the stricter one.
    if today.is_ok() {
        assert!(seed.is_ok(), "valid today but not under the seed rule: {seed:?}");
    }
    for stage in &strategy.spec().stages {
        check_selector(stage.label_selector.as_ref());
        for clusters in [0, 1, 7, 100, usize::MAX] {
            let scaled = max_concurrency(stage.max_concurrency.as_ref(), clusters);
            if seed.is_ok() {
                // Validation guarantees a usable concurrency for any stage size.
                let n = scaled.unwrap_or_else(|e| panic!("a valid stage fails to scale: {e}"));
                assert!(n >= 1, "a valid stage scales to {n}");
            } else if let Err(e) = scaled {
                let _ = e.to_string();
            }
        }
    }
}

/// Compiles a selector and matches it against a fixed label set.
pub fn check_selector(selector: Option<&LabelSelector>) {
    let labels = [("environment".to_owned(), "canary".to_owned()), ("order".to_owned(), "2".to_owned())].into();
    match compile(selector) {
        Ok(compiled) => {
            let _ = compiled.matches(&labels);
            let _ = compiled.to_string();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// Validates a run on creation, and as an update of itself: the update of an unchanged run
/// reports exactly what creation reports.
pub fn check_run<R: UpdateRunObject>(run: &R) {
    let created = validate_run(run);
    let updated = validate_run_update(run, run);
    assert_eq!(created, updated, "an unchanged update differs from creation");
    if let Err(e) = created {
        let _ = e.to_string();
    }
    if let Some(status) = run.status()
        && let Some(snapshot) = &status.update_strategy_snapshot
    {
        for stage in &snapshot.stages {
            check_selector(stage.label_selector.as_ref());
        }
    }
}

/// Validates an approval request, and as an update of itself (the spec did not change).
pub fn check_approval_request<A: ApprovalRequestObject>(request: &A) {
    let created = validate_approval_request(request, None);
    let updated = validate_approval_request(request, Some(request));
    assert_eq!(created, updated, "an unchanged update differs from creation");
    if let Err(e) = created {
        let _ = e.to_string();
    }
    let _ = request.conditions();
}

/// KubeFleet's apply-strategy defaulting is idempotent and always printable.
pub fn check_apply_strategy(strategy: Option<&ApplyStrategy>) {
    let defaulted = ApplyStrategy::defaulted(strategy);
    assert_eq!(ApplyStrategy::defaulted(Some(&defaulted)), defaulted, "defaulting is not idempotent");
    let _ = ApplyStrategy::go_debug(strategy);
    let _ = ApplyStrategy::go_debug(Some(&defaulted));
}
