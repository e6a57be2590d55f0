//! Every rule of `api::validate`: the typed error (kind, field, value) and its text, plus the
//! values on either side of each limit that must pass.

use staged_rollout::api::{
    ApprovalRequest, ApprovalRequestObject, ApprovalRequestSpec, ClusterApprovalRequest, ClusterStagedUpdateRun,
    ClusterStagedUpdateStrategy, Condition, ConditionStatus, Duration, IntOrString, LabelSelector,
    LabelSelectorRequirement, ObjectMeta, SelectorError, StageConfig, StageNameRule, StageTask, StageTaskType,
    StagedUpdateRun, StagedUpdateStrategy, State, UpdateRunSpec, UpdateStrategySpec, ValidationError,
    ValidationErrorKind, ValidationErrors, ValidationOptions, validate_approval_request, validate_run,
    validate_run_update, validate_strategy,
};

const STRATEGY: &str = r#"ClusterStagedUpdateStrategy "s""#;
const RUN: &str = r#"ClusterStagedUpdateRun "run""#;

const TODAY: ValidationOptions = ValidationOptions { stage_names: StageNameRule::Alphanumeric };
const SEED: ValidationOptions = ValidationOptions { stage_names: StageNameRule::Dns1123Label };

// ----- helpers -----

fn strategy(stages: Vec<StageConfig>) -> ClusterStagedUpdateStrategy {
    ClusterStagedUpdateStrategy::new(ObjectMeta::named("s"), UpdateStrategySpec { stages, ..Default::default() })
}

/// A stage selecting every cluster.
fn stage(name: &str) -> StageConfig {
    StageConfig::new(name, LabelSelector::default())
}

fn stage_with(after: Vec<StageTask>, before: Vec<StageTask>) -> StageConfig {
    StageConfig { after_stage_tasks: after, before_stage_tasks: before, ..stage("one") }
}

fn task(type_: StageTaskType, wait: Option<Duration>) -> StageTask {
    StageTask { type_, wait_time: wait, extra: Default::default() }
}

fn unknown(t: &str) -> StageTaskType {
    StageTaskType::Unknown(t.to_owned())
}

fn run() -> ClusterStagedUpdateRun {
    ClusterStagedUpdateRun::new(ObjectMeta::named("run"), UpdateRunSpec::new("crp", Some("1"), "strategy"))
}

fn run_in(state: Option<State>) -> ClusterStagedUpdateRun {
    let mut r = run();
    r.spec.state = state;
    r
}

fn approval() -> ClusterApprovalRequest {
    ClusterApprovalRequest::new(
        ObjectMeta::named("run-after-canary"),
        ApprovalRequestSpec { target_update_run: "run".into(), target_stage: "canary".into(), ..Default::default() },
    )
}

fn errors(result: Result<(), ValidationErrors>) -> Vec<ValidationError> {
    result.expect_err("validation should fail").0
}

/// The one error of `result`.
fn single(result: Result<(), ValidationErrors>) -> ValidationError {
    let mut errors = errors(result);
    assert_eq!(errors.len(), 1, "expected exactly one error, got {errors:#?}");
    errors.remove(0)
}

/// Asserts an error's field, value, kind and full text.
#[track_caller]
fn check(error: &ValidationError, field: &str, value: &str, kind: ValidationErrorKind, text: &str) {
    assert_eq!(error.field, field);
    assert_eq!(error.value, value);
    assert_eq!(error.kind, kind);
    assert_eq!(error.to_string(), text);
}

// ----- strategies: stage list -----

#[test]
fn at_most_31_stages() {
    let stages = |n: usize| (0..n).map(|i| stage(&format!("s{i}"))).collect::<Vec<_>>();
    validate_strategy(&strategy(stages(31)), TODAY).expect("31 stages are allowed");

    let e = single(validate_strategy(&strategy(stages(32)), TODAY));
    check(
        &e,
        "spec.stages",
        "",
        ValidationErrorKind::TooMany { count: 32, max: 31 },
        &format!("{STRATEGY}: spec.stages: Too many: 32: must have at most 31 items"),
    );
    assert_eq!(e.object, STRATEGY);
}

#[test]
fn stage_names_are_lowercase_alphanumerics_today() {
    for ok in ["a", "canary", "stage1", "0"] {
        validate_strategy(&strategy(vec![stage(ok)]), TODAY).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
    }
    for bad in ["Canary", "dev-clusters", "dev_1", "a.b", "a b", "é"] {
        let e = single(validate_strategy(&strategy(vec![stage(bad)]), TODAY));
        check(
            &e,
            "spec.stages[0].name",
            bad,
            ValidationErrorKind::InvalidStageName { rule: StageNameRule::Alphanumeric },
            &format!(
                "{STRATEGY}: spec.stages[0].name: {bad:?}: Invalid value: must match '^[a-z0-9]+$' (lowercase letters and digits only)"
            ),
        );
    }
}

#[test]
fn stage_names_may_be_dns_labels_under_the_seed_rule() {
    for ok in ["dev-clusters", "a-1", "canary", "a--b"] {
        validate_strategy(&strategy(vec![stage(ok)]), SEED).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
    }
    for bad in ["-dev", "dev-", "Dev", "dev_1", "a.b"] {
        let e = single(validate_strategy(&strategy(vec![stage(bad)]), SEED));
        check(
            &e,
            "spec.stages[0].name",
            bad,
            ValidationErrorKind::InvalidStageName { rule: StageNameRule::Dns1123Label },
            &format!(
                "{STRATEGY}: spec.stages[0].name: {bad:?}: Invalid value: must be a DNS-1123 label: lowercase alphanumerics or '-', starting and ending with an alphanumeric"
            ),
        );
    }
}

#[test]
fn stage_names_are_at_most_63_characters() {
    let max = "a".repeat(63);
    let long = "a".repeat(64);
    for options in [TODAY, SEED] {
        validate_strategy(&strategy(vec![stage(&max)]), options).expect("63 characters are allowed");
        // Only the length is reported: the characters themselves are fine under both rules.
        let e = single(validate_strategy(&strategy(vec![stage(&long)]), options));
        check(
            &e,
            "spec.stages[0].name",
            &long,
            ValidationErrorKind::TooLong { max: 63 },
            &format!("{STRATEGY}: spec.stages[0].name: {long:?}: Too long: may not be more than 63 bytes"),
        );
    }
    // Too long and with bad characters: both are reported.
    let both = format!("{}-", "a".repeat(63));
    let kinds: Vec<_> =
        errors(validate_strategy(&strategy(vec![stage(&both)]), SEED)).into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            ValidationErrorKind::TooLong { max: 63 },
            ValidationErrorKind::InvalidStageName { rule: StageNameRule::Dns1123Label }
        ]
    );
}

#[test]
fn stage_names_are_required() {
    let e = single(validate_strategy(&strategy(vec![stage("")]), TODAY));
    check(
        &e,
        "spec.stages[0].name",
        "",
        ValidationErrorKind::Required,
        &format!("{STRATEGY}: spec.stages[0].name: Required value"),
    );
}

#[test]
fn stage_names_are_unique() {
    let e = single(validate_strategy(&strategy(vec![stage("a"), stage("b"), stage("a")]), TODAY));
    check(
        &e,
        "spec.stages[2].name",
        "a",
        ValidationErrorKind::DuplicateStageName,
        &format!(
            "{STRATEGY}: spec.stages[2].name: \"a\": Duplicate value: stage names must be unique within a strategy"
        ),
    );
}

// ----- strategies: tasks -----

#[test]
fn at_most_two_after_stage_tasks() {
    let two = vec![task(StageTaskType::TimedWait, Some(Duration::from_secs(1))), task(StageTaskType::Approval, None)];
    validate_strategy(&strategy(vec![stage_with(two.clone(), vec![])]), TODAY).expect("two tasks are allowed");

    let mut three = two;
    three.push(task(unknown("Notify"), None));
    let all = errors(validate_strategy(&strategy(vec![stage_with(three, vec![])]), TODAY));
    check(
        &all[0],
        "spec.stages[0].afterStageTasks",
        "",
        ValidationErrorKind::TooMany { count: 3, max: 2 },
        &format!("{STRATEGY}: spec.stages[0].afterStageTasks: Too many: 3: must have at most 2 items"),
    );
    // The third task's own problem is reported as well.
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].kind, ValidationErrorKind::UnknownTaskType);
}

#[test]
fn no_two_after_stage_tasks_of_one_type() {
    let approvals = vec![task(StageTaskType::Approval, None), task(StageTaskType::Approval, None)];
    let e = single(validate_strategy(&strategy(vec![stage_with(approvals, vec![])]), TODAY));
    check(
        &e,
        "spec.stages[0].afterStageTasks[1].type",
        "Approval",
        ValidationErrorKind::DuplicateTaskType,
        &format!(
            "{STRATEGY}: spec.stages[0].afterStageTasks[1].type: \"Approval\": Duplicate value: afterStageTasks cannot have two tasks of the same type"
        ),
    );

    let waits = vec![
        task(StageTaskType::TimedWait, Some(Duration::from_secs(1))),
        task(StageTaskType::TimedWait, Some(Duration::from_secs(2))),
    ];
    let e = single(validate_strategy(&strategy(vec![stage_with(waits, vec![])]), TODAY));
    assert_eq!((e.field.as_str(), e.value.as_str()), ("spec.stages[0].afterStageTasks[1].type", "TimedWait"));
    assert_eq!(e.kind, ValidationErrorKind::DuplicateTaskType);
}

#[test]
fn timed_wait_requires_a_wait_time() {
    let e = single(validate_strategy(
        &strategy(vec![stage_with(vec![task(StageTaskType::TimedWait, None)], vec![])]),
        TODAY,
    ));
    check(
        &e,
        "spec.stages[0].afterStageTasks[0].waitTime",
        "",
        ValidationErrorKind::TimedWaitWithoutWaitTime,
        &format!(
            "{STRATEGY}: spec.stages[0].afterStageTasks[0].waitTime: Required value: AfterStageTaskType is TimedWait, waitTime is required"
        ),
    );
}

#[test]
fn timed_wait_must_be_positive() {
    for (wait, written) in [(Duration::from_secs(0), "0s"), (Duration::from_secs(-1), "-1s")] {
        let e = single(validate_strategy(
            &strategy(vec![stage_with(vec![task(StageTaskType::TimedWait, Some(wait))], vec![])]),
            TODAY,
        ));
        check(
            &e,
            "spec.stages[0].afterStageTasks[0].waitTime",
            written,
            ValidationErrorKind::NonPositiveWaitTime,
            &format!(
                "{STRATEGY}: spec.stages[0].afterStageTasks[0].waitTime: {written:?}: Invalid value: a TimedWait must wait longer than 0s"
            ),
        );
    }
    let one_ns =
        strategy(vec![stage_with(vec![task(StageTaskType::TimedWait, Some(Duration::from_nanos(1)))], vec![])]);
    validate_strategy(&one_ns, TODAY).expect("any positive wait is allowed");
}

#[test]
fn approval_must_not_have_a_wait_time() {
    let wait = Some(Duration::from_minutes(1));
    for (after, before, field) in [
        (vec![task(StageTaskType::Approval, wait)], vec![], "spec.stages[0].afterStageTasks[0].waitTime"),
        (vec![], vec![task(StageTaskType::Approval, wait)], "spec.stages[0].beforeStageTasks[0].waitTime"),
    ] {
        let e = single(validate_strategy(&strategy(vec![stage_with(after, before)]), TODAY));
        check(
            &e,
            field,
            "1m0s",
            ValidationErrorKind::ApprovalWithWaitTime,
            &format!(
                "{STRATEGY}: {field}: \"1m0s\": Forbidden: AfterStageTaskType is Approval, waitTime is not allowed"
            ),
        );
    }
}

#[test]
fn at_most_one_before_stage_task() {
    let one = vec![task(StageTaskType::Approval, None)];
    validate_strategy(&strategy(vec![stage_with(vec![], one)]), TODAY).expect("one before-stage approval is allowed");

    let two = vec![task(StageTaskType::Approval, None), task(StageTaskType::Approval, None)];
    let e = single(validate_strategy(&strategy(vec![stage_with(vec![], two)]), TODAY));
    check(
        &e,
        "spec.stages[0].beforeStageTasks",
        "",
        ValidationErrorKind::TooMany { count: 2, max: 1 },
        &format!("{STRATEGY}: spec.stages[0].beforeStageTasks: Too many: 2: must have at most 1 items"),
    );
}

#[test]
fn no_timed_wait_before_a_stage() {
    let before = vec![task(StageTaskType::TimedWait, Some(Duration::from_secs(5)))];
    let e = single(validate_strategy(&strategy(vec![stage_with(vec![], before)]), TODAY));
    check(
        &e,
        "spec.stages[0].beforeStageTasks[0].type",
        "TimedWait",
        ValidationErrorKind::TimedWaitBeforeStage,
        &format!(
            "{STRATEGY}: spec.stages[0].beforeStageTasks[0].type: \"TimedWait\": Invalid value: BeforeStageTaskType cannot be TimedWait"
        ),
    );
}

#[test]
fn unknown_task_types_are_rejected() {
    for (after, before, field) in [
        (vec![task(unknown("Notify"), None)], vec![], "spec.stages[0].afterStageTasks[0].type"),
        (vec![], vec![task(unknown("Notify"), None)], "spec.stages[0].beforeStageTasks[0].type"),
        // Task types are case-sensitive.
        (vec![task(unknown("approval"), None)], vec![], "spec.stages[0].afterStageTasks[0].type"),
    ] {
        let written = after.iter().chain(&before).next().unwrap().type_.to_string();
        let e = single(validate_strategy(&strategy(vec![stage_with(after, before)]), TODAY));
        check(
            &e,
            field,
            &written,
            ValidationErrorKind::UnknownTaskType,
            &format!(
                "{STRATEGY}: {field}: {written:?}: Unsupported value: supported values: \"TimedWait\", \"Approval\""
            ),
        );
    }
    // An unknown type survives parsing, so it reaches validation.
    let parsed: StageTask = serde_json::from_str(r#"{"type":"Notify"}"#).unwrap();
    assert_eq!(parsed.type_, unknown("Notify"));
}

// ----- strategies: maxConcurrency and selectors -----

fn with_max_concurrency(value: IntOrString) -> ClusterStagedUpdateStrategy {
    strategy(vec![StageConfig { max_concurrency: Some(value), ..stage("one") }])
}

#[test]
fn max_concurrency_accepts_positive_integers_and_1_to_100_percent() {
    for ok in [
        IntOrString::Int(1),
        IntOrString::Int(5),
        IntOrString::Int(1000),
        "1%".into(),
        "9%".into(),
        "10%".into(),
        "99%".into(),
        "100%".into(),
    ] {
        validate_strategy(&with_max_concurrency(ok.clone()), TODAY).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    validate_strategy(&strategy(vec![stage("one")]), TODAY).expect("absent means 1");
}

#[test]
fn max_concurrency_rejects_everything_else() {
    for bad in [
        IntOrString::Int(0),
        IntOrString::Int(-1),
        "0%".into(),
        "101%".into(),
        "50".into(),
        "05%".into(),
        "1.5%".into(),
        "%".into(),
        "".into(),
        "-5%".into(),
        "1000%".into(),
    ] {
        let written = bad.to_string();
        let e = single(validate_strategy(&with_max_concurrency(bad), TODAY));
        check(
            &e,
            "spec.stages[0].maxConcurrency",
            &written,
            ValidationErrorKind::InvalidMaxConcurrency,
            &format!(
                "{STRATEGY}: spec.stages[0].maxConcurrency: {}Invalid value: maxConcurrency must be an integer >= 1 or a percentage from 1% to 100% (pattern '^(100|[1-9][0-9]?)%$')",
                if written.is_empty() { String::new() } else { format!("{written:?}: ") }
            ),
        );
    }
}

#[test]
fn max_concurrency_wire_forms() {
    // YAML/JSON integers and strings land in the right variant, so "50" is not read as 50.
    let s: StageConfig = serde_saphyr::from_str("name: a\nmaxConcurrency: \"50\"\n").unwrap();
    assert_eq!(s.max_concurrency, Some(IntOrString::String("50".into())));
    let s: StageConfig = serde_saphyr::from_str("name: a\nmaxConcurrency: 5\n").unwrap();
    assert_eq!(s.max_concurrency, Some(IntOrString::Int(5)));
    let s: StageConfig = serde_saphyr::from_str("name: a\nmaxConcurrency: 25%\n").unwrap();
    assert_eq!(s.max_concurrency, Some(IntOrString::String("25%".into())));
}

#[test]
fn label_selectors_must_be_valid() {
    let selector = LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: "environment".into(),
            operator: "Equals".into(),
            values: Some(vec!["canary".into()]),
            extra: Default::default(),
        }]),
        ..LabelSelector::default()
    };
    let e = single(validate_strategy(&strategy(vec![StageConfig::new("one", selector)]), TODAY));
    check(
        &e,
        "spec.stages[0].labelSelector",
        "",
        ValidationErrorKind::InvalidLabelSelector(SelectorError::UnknownOperator { operator: "Equals".into() }),
        &format!(
            "{STRATEGY}: spec.stages[0].labelSelector: Invalid value: \"Equals\" is not a valid label selector operator"
        ),
    );

    // Any selector error is carried: here an invalid label value in matchLabels.
    let bad_value = LabelSelector { match_labels: Some([("env".into(), "a b".into())].into()), ..Default::default() };
    let e = single(validate_strategy(&strategy(vec![StageConfig::new("one", bad_value)]), TODAY));
    assert!(matches!(e.kind, ValidationErrorKind::InvalidLabelSelector(SelectorError::InvalidValue { .. })), "{e:?}");

    // An absent selector (selects no cluster) and `{}` (selects all) are both valid.
    validate_strategy(&strategy(vec![StageConfig { label_selector: None, ..stage("one") }]), TODAY).unwrap();
    validate_strategy(&strategy(vec![stage("one")]), TODAY).unwrap();
}

#[test]
fn every_problem_is_reported_in_field_order() {
    let stages = vec![
        StageConfig { max_concurrency: Some(IntOrString::Int(0)), ..stage("A") },
        stage_with(vec![task(StageTaskType::TimedWait, None)], vec![task(StageTaskType::TimedWait, None)]),
    ];
    let errors = validate_strategy(&strategy(stages), TODAY).unwrap_err();
    let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.stages[0].name",
            "spec.stages[0].maxConcurrency",
            "spec.stages[1].afterStageTasks[0].waitTime",
            "spec.stages[1].beforeStageTasks[0].type",
        ]
    );
    // The list's text joins the errors with "; ".
    let text = errors.to_string();
    assert_eq!(text.matches("; ").count(), 3);
    assert!(text.starts_with(&format!("{STRATEGY}: spec.stages[0].name: \"A\": Invalid value")));
}

#[test]
fn namespaced_objects_are_named_with_their_namespace() {
    let mut s = StagedUpdateStrategy::new(
        ObjectMeta::namespaced("ns", "s"),
        UpdateStrategySpec { stages: vec![stage("Bad")], ..Default::default() },
    );
    let e = single(validate_strategy(&s, TODAY));
    assert_eq!(e.object, r#"StagedUpdateStrategy "ns/s""#);
    assert!(e.to_string().starts_with(r#"StagedUpdateStrategy "ns/s": spec.stages[0].name: "Bad": "#));
    s.spec.stages[0].name = "good".into();
    validate_strategy(&s, TODAY).unwrap();
}

// ----- type meta -----

#[test]
fn kind_must_match_the_type() {
    let mut r = run();
    r.kind = "StagedUpdateRun".into();
    let e = single(validate_run(&r));
    check(
        &e,
        "kind",
        "StagedUpdateRun",
        ValidationErrorKind::WrongKind { expected: "ClusterStagedUpdateRun" },
        &format!("{RUN}: kind: \"StagedUpdateRun\": Invalid value: expected kind ClusterStagedUpdateRun"),
    );

    let mut s = strategy(vec![stage("a")]);
    s.kind.clear();
    let e = single(validate_strategy(&s, TODAY));
    check(
        &e,
        "kind",
        "",
        ValidationErrorKind::WrongKind { expected: "ClusterStagedUpdateStrategy" },
        &format!("{STRATEGY}: kind: Invalid value: expected kind ClusterStagedUpdateStrategy"),
    );

    let mut a = approval();
    a.kind = "ApprovalRequest".into();
    let e = single(validate_approval_request(&a, None));
    assert_eq!(e.kind, ValidationErrorKind::WrongKind { expected: "ClusterApprovalRequest" });
}

#[test]
fn api_version_must_be_v1beta1_or_v1() {
    for ok in ["placement.kubernetes-fleet.io/v1beta1", "placement.kubernetes-fleet.io/v1"] {
        let mut r = run();
        r.api_version = ok.into();
        validate_run(&r).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in ["placement.kubernetes-fleet.io/v1alpha1", "apps/v1", "v1", "", "placement.kubernetes-fleet.io"] {
        let mut r = run();
        r.api_version = bad.into();
        let e = single(validate_run(&r));
        check(
            &e,
            "apiVersion",
            bad,
            ValidationErrorKind::UnsupportedApiVersion,
            &format!(
                "{RUN}: apiVersion: {}Unsupported value: supported values: \"placement.kubernetes-fleet.io/v1beta1\", \"placement.kubernetes-fleet.io/v1\"",
                if bad.is_empty() { String::new() } else { format!("{bad:?}: ") }
            ),
        );
    }
}

// ----- runs -----

#[test]
fn run_names_are_at_most_63_characters() {
    let mut r = run();
    r.metadata.name = Some("r".repeat(63));
    validate_run(&r).expect("63 characters are allowed");

    let long = "r".repeat(64);
    r.metadata.name = Some(long.clone());
    let e = single(validate_run(&r));
    check(
        &e,
        "metadata.name",
        &long,
        ValidationErrorKind::TooLong { max: 63 },
        &format!("ClusterStagedUpdateRun {long:?}: metadata.name: {long:?}: Too long: may not be more than 63 bytes"),
    );

    r.metadata.name = None;
    let e = single(validate_run(&r));
    check(
        &e,
        "metadata.name",
        "",
        ValidationErrorKind::Required,
        "ClusterStagedUpdateRun \"\": metadata.name: Required value",
    );
}

#[test]
fn placement_name_is_required_and_at_most_255_characters() {
    let mut r = run();
    r.spec.placement_name.clear();
    let e = single(validate_run(&r));
    check(
        &e,
        "spec.placementName",
        "",
        ValidationErrorKind::Required,
        &format!("{RUN}: spec.placementName: Required value"),
    );

    r.spec.placement_name = "p".repeat(255);
    validate_run(&r).expect("255 characters are allowed");
    let long = "p".repeat(256);
    r.spec.placement_name = long.clone();
    let e = single(validate_run(&r));
    check(
        &e,
        "spec.placementName",
        &long,
        ValidationErrorKind::TooLong { max: 255 },
        &format!("{RUN}: spec.placementName: {long:?}: Too long: may not be more than 255 bytes"),
    );
}

#[test]
fn strategy_name_is_required() {
    let mut r = run();
    r.spec.staged_update_strategy_name.clear();
    let e = single(validate_run(&r));
    check(
        &e,
        "spec.stagedRolloutStrategyName",
        "",
        ValidationErrorKind::Required,
        &format!("{RUN}: spec.stagedRolloutStrategyName: Required value"),
    );
    // A missing field parses as empty and fails the same way.
    let parsed: ClusterStagedUpdateRun = serde_json::from_str(
        r#"{"apiVersion":"placement.kubernetes-fleet.io/v1","kind":"ClusterStagedUpdateRun","metadata":{"name":"run"},"spec":{}}"#,
    )
    .unwrap();
    let fields: Vec<_> = errors(validate_run(&parsed)).into_iter().map(|e| (e.field, e.kind)).collect();
    assert_eq!(
        fields,
        [
            ("spec.placementName".to_owned(), ValidationErrorKind::Required),
            ("spec.stagedRolloutStrategyName".to_owned(), ValidationErrorKind::Required),
        ]
    );
}

#[test]
fn resource_snapshot_index_is_optional() {
    let mut r = run();
    r.spec.resource_snapshot_index = None;
    validate_run(&r).expect("no index means the latest resources");
}

#[test]
fn state_must_be_known() {
    for ok in [None, Some(State::Initialize), Some(State::Run), Some(State::Stop)] {
        validate_run(&run_in(ok.clone())).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
    }
    // Values of the interim API and wrong case are rejected.
    for bad in ["Execute", "Pause", "Abandon", "run", ""] {
        let r = run_in(Some(bad.parse().unwrap()));
        let e = single(validate_run(&r));
        check(
            &e,
            "spec.state",
            bad,
            ValidationErrorKind::UnknownState,
            &format!(
                "{RUN}: spec.state: {}Unsupported value: supported values: \"Initialize\", \"Run\", \"Stop\"",
                if bad.is_empty() { String::new() } else { format!("{bad:?}: ") }
            ),
        );
    }
}

#[test]
fn forbidden_state_transitions() {
    for (from, to) in [("Initialize", "Stop"), ("Run", "Initialize"), ("Stop", "Initialize")] {
        let old = run_in(Some(from.parse().unwrap()));
        let new = run_in(Some(to.parse().unwrap()));
        let e = single(validate_run_update(&old, &new));
        check(
            &e,
            "spec.state",
            to,
            ValidationErrorKind::ForbiddenStateTransition { from, to },
            &format!(
                "{RUN}: spec.state: {to:?}: Invalid value: invalid state transition: cannot transition from {from} to {to}"
            ),
        );
    }
}

#[test]
fn allowed_state_transitions() {
    use State::{Initialize, Run, Stop};
    for (from, to) in [
        (Some(Initialize), Some(Run)),
        (Some(Run), Some(Stop)),
        (Some(Stop), Some(Run)),
        (Some(Initialize), Some(Initialize)),
        (Some(Run), Some(Run)),
        (Some(Stop), Some(Stop)),
        // An absent state is the CRD default, Initialize.
        (Some(Initialize), None),
        (None, Some(Initialize)),
        (None, Some(Run)),
        (None, None),
    ] {
        validate_run_update(&run_in(from.clone()), &run_in(to.clone()))
            .unwrap_or_else(|e| panic!("{from:?} -> {to:?}: {e}"));
    }
    // A run may be created directly in Stop.
    validate_run(&run_in(Some(Stop))).expect("creating a stopped run is allowed");
}

#[test]
fn an_absent_state_is_the_default_initialize() {
    // The API server defaults an absent state to Initialize, on the stored object and on the
    // update, before its rules run: a run stored without a state cannot go to Stop…
    let e = single(validate_run_update(&run_in(None), &run_in(Some(State::Stop))));
    assert_eq!((e.field.as_str(), e.value.as_str()), ("spec.state", "Stop"));
    assert_eq!(e.kind, ValidationErrorKind::ForbiddenStateTransition { from: "Initialize", to: "Stop" });

    // …and removing the state of a started or stopped run goes back to Initialize.
    for from in [State::Run, State::Stop] {
        let e = single(validate_run_update(&run_in(Some(from.clone())), &run_in(None)));
        assert_eq!(e.field, "spec.state");
        assert_eq!(e.value, "", "the state is absent from the object as written");
        assert_eq!(
            e.kind,
            ValidationErrorKind::ForbiddenStateTransition {
                from: if from == State::Run { "Run" } else { "Stop" },
                to: "Initialize"
            }
        );
        assert_eq!(
            e.to_string(),
            format!(
                "{RUN}: spec.state: Invalid value: invalid state transition: cannot transition from {from} to Initialize"
            )
        );
    }
}

#[test]
fn spec_fields_are_immutable() {
    let old = run();

    let mut new = run();
    new.spec.placement_name = "other".into();
    let e = single(validate_run_update(&old, &new));
    check(
        &e,
        "spec.placementName",
        "other",
        ValidationErrorKind::Immutable { field_name: "placementName" },
        &format!("{RUN}: spec.placementName: \"other\": Invalid value: placementName is immutable"),
    );

    let mut new = run();
    new.spec.resource_snapshot_index = Some("2".into());
    let e = single(validate_run_update(&old, &new));
    check(
        &e,
        "spec.resourceSnapshotIndex",
        "2",
        ValidationErrorKind::Immutable { field_name: "resourceSnapshotIndex" },
        &format!("{RUN}: spec.resourceSnapshotIndex: \"2\": Invalid value: resourceSnapshotIndex is immutable"),
    );

    let mut new = run();
    new.spec.staged_update_strategy_name = "other".into();
    let e = single(validate_run_update(&old, &new));
    check(
        &e,
        "spec.stagedRolloutStrategyName",
        "other",
        ValidationErrorKind::Immutable { field_name: "stagedRolloutStrategyName" },
        &format!(
            "{RUN}: spec.stagedRolloutStrategyName: \"other\": Invalid value: stagedRolloutStrategyName is immutable"
        ),
    );

    // Unchanged specs, and changes elsewhere, are fine.
    let mut new = run();
    new.metadata.set_label("team", "a");
    new.spec.state = Some(State::Run);
    validate_run_update(&old, &new).expect("only the state changed");
}

#[test]
fn resource_snapshot_index_immutability_follows_the_crd() {
    // The CRD rule `self == oldSelf` is a transition rule on an optional field: the API server
    // evaluates it only when both the old and the new object have the field. A Go client always
    // writes the field (`resourceSnapshotIndex: ""`), so a controller updating a run created by
    // kubectl without the field adds it; that update must be accepted.
    let mut without = run();
    without.spec.resource_snapshot_index = None;
    let mut empty = run();
    empty.spec.resource_snapshot_index = Some(String::new());
    validate_run_update(&without, &empty).expect("absent -> \"\" is accepted");
    validate_run_update(&empty, &without).expect("\"\" -> absent is accepted");
    let mut one = run();
    one.spec.resource_snapshot_index = Some("1".into());
    validate_run_update(&without, &one).expect("the API server does not compare with an absent field");

    let e = single(validate_run_update(&empty, &one));
    assert_eq!(e.kind, ValidationErrorKind::Immutable { field_name: "resourceSnapshotIndex" });
    assert_eq!(e.value, "1");
    let e = single(validate_run_update(&one, &empty));
    assert_eq!(e.kind, ValidationErrorKind::Immutable { field_name: "resourceSnapshotIndex" });
    assert_eq!(e.value, "");
}

#[test]
fn updates_are_also_validated_as_creations() {
    let old = run();
    let mut new = run();
    new.spec.state = Some("Pause".parse().unwrap());
    new.metadata.name = Some("r".repeat(64));
    let kinds: Vec<_> = errors(validate_run_update(&old, &new)).into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [ValidationErrorKind::TooLong { max: 63 }, ValidationErrorKind::UnknownState]);
}

#[test]
fn namespaced_runs_validate_the_same_way() {
    let mut r = StagedUpdateRun::new(ObjectMeta::namespaced("ns", "run"), UpdateRunSpec::new("rp", None, "strategy"));
    validate_run(&r).unwrap();
    r.spec.placement_name.clear();
    let e = single(validate_run(&r));
    assert_eq!(e.to_string(), r#"StagedUpdateRun "ns/run": spec.placementName: Required value"#);
}

// ----- approval requests -----

#[test]
fn approval_request_needs_its_run_and_stage() {
    validate_approval_request(&approval(), None).unwrap();

    let mut a = approval();
    a.spec.target_update_run.clear();
    a.spec.target_stage.clear();
    let all = errors(validate_approval_request(&a, None));
    let object = r#"ClusterApprovalRequest "run-after-canary""#;
    check(
        &all[0],
        "spec.parentStageRollout",
        "",
        ValidationErrorKind::Required,
        &format!("{object}: spec.parentStageRollout: Required value"),
    );
    check(
        &all[1],
        "spec.targetStage",
        "",
        ValidationErrorKind::Required,
        &format!("{object}: spec.targetStage: Required value"),
    );
    assert_eq!(all.len(), 2);
}

#[test]
fn approval_request_spec_is_immutable() {
    let old = approval();
    for change in [
        |a: &mut ClusterApprovalRequest| a.spec.target_stage = "prod".into(),
        |a: &mut ClusterApprovalRequest| a.spec.target_update_run = "other".into(),
        |a: &mut ClusterApprovalRequest| {
            a.spec.extra.insert("future".into(), serde_json::json!(1));
        },
    ] {
        let mut new = approval();
        change(&mut new);
        let e = single(validate_approval_request(&new, Some(&old)));
        check(
            &e,
            "spec",
            "",
            ValidationErrorKind::Immutable { field_name: "The spec field" },
            r#"ClusterApprovalRequest "run-after-canary": spec: Invalid value: The spec field is immutable"#,
        );
    }

    // Status and metadata may change.
    let mut new = approval();
    new.metadata.set_label("x", "y");
    new.status_mut().conditions.push(Condition::new("Approved", ConditionStatus::True, 1, "lgtm", "lgtm"));
    validate_approval_request(&new, Some(&old)).unwrap();

    // Namespaced requests follow the same rule.
    let ns = |stage: &str| {
        ApprovalRequest::new(
            ObjectMeta::namespaced("ns", "req"),
            ApprovalRequestSpec { target_update_run: "run".into(), target_stage: stage.into(), ..Default::default() },
        )
    };
    let e = single(validate_approval_request(&ns("b"), Some(&ns("a"))));
    assert_eq!(e.to_string(), r#"ApprovalRequest "ns/req": spec: Invalid value: The spec field is immutable"#);
}
