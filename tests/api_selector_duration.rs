//! Label selectors and Go durations as they arrive in real manifests: written in YAML, parsed
//! through a strategy, checked by `validate_strategy` and applied to the seed's member clusters.
//!
//! The Kubernetes and Go tables themselves (every operator, every error text, Go's parse and
//! format tables, round-trip properties) live next to the code in `src/api/selector.rs` and
//! `src/api/duration.rs`; this file checks that the same behaviour reaches the public API.

use staged_rollout::api::{
    ClusterStagedUpdateStrategy, Duration, DurationParseErrorKind, MemberCluster, SelectorError, SelectorOperator,
    ValidationErrorKind, ValidationOptions, compile, validate_strategy,
};

const MEMBERS: &str = include_str!("fixtures/seed/member-clusters.yaml");

fn members() -> Vec<MemberCluster> {
    serde_saphyr::from_multiple(MEMBERS).expect("the seed's member clusters parse")
}

/// A one-stage strategy whose stage has `stage_body` (YAML, indented for the stage's mapping).
fn strategy(stage_body: &str) -> ClusterStagedUpdateStrategy {
    let yaml = format!(
        "apiVersion: placement.kubernetes-fleet.io/v1beta1\n\
         kind: ClusterStagedUpdateStrategy\n\
         metadata:\n  name: s\n\
         spec:\n  stages:\n    - name: one\n{stage_body}"
    );
    serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{yaml}\n{e}"))
}

/// The seed members the strategy's only stage selects, in the order listed.
fn selected(stage_body: &str) -> Vec<String> {
    let strategy = strategy(stage_body);
    validate_strategy(&strategy, ValidationOptions::default()).expect("a valid strategy");
    let selector = compile(strategy.spec.stages[0].label_selector.as_ref()).expect("compiles");
    members().iter().filter(|m| selector.matches(m.metadata.labels())).map(|m| m.name().to_owned()).collect()
}

#[test]
fn absent_or_null_selects_no_cluster_and_empty_selects_all() {
    for nothing in ["", "      labelSelector: null\n", "      labelSelector: ~\n", "      labelSelector:\n"] {
        assert!(strategy(nothing).spec.stages[0].label_selector.is_none(), "{nothing:?}");
        assert_eq!(selected(nothing), Vec::<String>::new(), "{nothing:?}");
    }
    for everything in [
        "      labelSelector: {}\n",
        "      labelSelector:\n        matchLabels: {}\n",
        "      labelSelector:\n        matchExpressions: []\n",
    ] {
        assert!(strategy(everything).spec.stages[0].label_selector.is_some(), "{everything:?}");
        assert_eq!(selected(everything), ["member1", "member2", "member3"], "{everything:?}");
    }
}

#[test]
fn every_operator_selects_seed_members_like_kubernetes() {
    let expr = |key: &str, op: &str, values: &str| {
        format!(
            "      labelSelector:\n        matchExpressions:\n          - key: {key}\n            operator: {op}\n{values}"
        )
    };
    let values = |vs: &[&str]| {
        let mut s = "            values:\n".to_owned();
        for v in vs {
            s.push_str(&format!("              - \"{v}\"\n"));
        }
        s
    };
    let cases: &[(String, &[&str])] = &[
        (expr("environment", "In", &values(&["canary"])), &["member1", "member3"]),
        (expr("environment", "In", &values(&["staging", "canary"])), &["member1", "member2", "member3"]),
        (expr("environment", "NotIn", &values(&["canary"])), &["member2"]),
        // NotIn also selects clusters without the label.
        (expr("order", "NotIn", &values(&["1"])), &["member1", "member2"]),
        (expr("order", "Exists", ""), &["member1", "member3"]),
        (expr("order", "DoesNotExist", ""), &["member2"]),
        (expr("region", "In", &values(&["east"])), &[]),
    ];
    for (body, want) in cases {
        assert_eq!(selected(body), *want, "{body}");
    }

    // matchLabels and matchExpressions are ANDed.
    let both = "      labelSelector:\n        matchLabels:\n          environment: canary\n        matchExpressions:\n          - key: order\n            operator: In\n            values: [\"2\"]\n";
    assert_eq!(selected(both), ["member1"]);
}

#[test]
fn invalid_selectors_fail_validation_with_typed_errors() {
    let invalid = |body: &str| -> SelectorError {
        let strategy = strategy(body);
        let errors = validate_strategy(&strategy, ValidationOptions::default()).expect_err("an invalid selector");
        let [error] = errors.errors() else { panic!("one error expected: {errors}") };
        assert_eq!(error.field, "spec.stages[0].labelSelector");
        let ValidationErrorKind::InvalidLabelSelector(e) = &error.kind else { panic!("{error:?}") };
        // The selector error is the same one compiling the selector directly reports.
        assert_eq!(compile(strategy.spec.stages[0].label_selector.as_ref()).unwrap_err(), *e);
        assert_eq!(
            error.to_string(),
            format!(r#"ClusterStagedUpdateStrategy "s": {}: Invalid value: {e}"#, error.field)
        );
        e.clone()
    };
    let head = "      labelSelector:\n        matchExpressions:\n          - key: ";

    assert_eq!(
        invalid(&format!("{head}order\n            operator: Gt\n            values: [\"1\"]\n")),
        SelectorError::UnknownOperator { operator: "Gt".into() }
    );
    assert_eq!(
        invalid(&format!("{head}order\n            operator: In\n")),
        SelectorError::MissingValues { key: "order".into(), operator: SelectorOperator::In }
    );
    assert_eq!(
        invalid(&format!("{head}order\n            operator: Exists\n            values: [\"1\"]\n")),
        SelectorError::UnexpectedValues {
            key: "order".into(),
            operator: SelectorOperator::Exists,
            values: vec!["1".into()]
        }
    );
    assert!(matches!(
        invalid(&format!("{head}\"bad key\"\n            operator: Exists\n")),
        SelectorError::InvalidKey { key, .. } if key == "bad key"
    ));
    assert!(matches!(
        invalid("      labelSelector:\n        matchLabels:\n          environment: \"not valid\"\n"),
        SelectorError::InvalidValue { key, index: 0, value, .. } if key == "environment" && value == "not valid"
    ));
    // Several problems with one requirement are aggregated, in Kubernetes' order.
    let e = invalid(&format!("{head}\"bad key\"\n            operator: NotIn\n"));
    assert!(matches!(&e, SelectorError::Aggregate(causes) if causes.len() == 2), "{e:?}");
    assert!(e.to_string().starts_with('['), "{e}");
}

#[test]
fn wait_times_are_go_durations() {
    let wait = |w: &str| -> Duration {
        let s = strategy(&format!("      afterStageTasks:\n        - type: TimedWait\n          waitTime: {w}\n"));
        s.spec.stages[0].after_stage_tasks[0].wait_time.expect("a wait time")
    };
    for (written, secs, go) in [
        ("1m", 60, "1m0s"),
        ("1m0s", 60, "1m0s"),
        ("90s", 90, "1m30s"),
        ("1.5h", 5400, "1h30m0s"),
        ("1h30m", 5400, "1h30m0s"),
        ("\"30s\"", 30, "30s"),
    ] {
        let d = wait(written);
        assert_eq!(d, Duration::from_secs(secs), "{written}");
        assert_eq!(d.to_string(), go, "{written}");
    }
    assert_eq!(wait("300ms"), Duration::from_millis(300));

    // What KubeFleet writes back is Go's format.
    let s = strategy("      afterStageTasks:\n        - type: TimedWait\n          waitTime: 0.5h\n");
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["spec"]["stages"][0]["afterStageTasks"][0]["waitTime"], "30m0s");
}

#[test]
fn invalid_wait_times_fail_to_parse_with_go_messages() {
    for (written, kind, message) in [
        ("1d", DurationParseErrorKind::UnknownUnit, r#"time: unknown unit "d" in duration "1d""#),
        ("1h30", DurationParseErrorKind::MissingUnit, r#"time: missing unit in duration "1h30""#),
        ("soon", DurationParseErrorKind::Invalid, r#"time: invalid duration "soon""#),
    ] {
        let err = written.parse::<Duration>().unwrap_err();
        assert_eq!(err.kind(), kind);
        assert_eq!(err.to_string(), message);

        let yaml = format!(
            "apiVersion: placement.kubernetes-fleet.io/v1beta1\nkind: ClusterStagedUpdateStrategy\nmetadata:\n  name: s\n\
             spec:\n  stages:\n    - name: one\n      afterStageTasks:\n        - type: TimedWait\n          waitTime: {written}\n"
        );
        let yaml_err = serde_saphyr::from_str::<ClusterStagedUpdateStrategy>(&yaml).unwrap_err().to_string();
        assert!(yaml_err.contains(message), "{yaml_err}");
        let json = serde_json::to_string(&serde_saphyr::from_str::<serde_json::Value>(&yaml).unwrap()).unwrap();
        let json_err = serde_json::from_str::<ClusterStagedUpdateStrategy>(&json).unwrap_err().to_string();
        assert!(json_err.contains(message), "{json_err}");
    }
}
