//! The seed how-to's manifests (`tests/fixtures/seed/`) parse into the crate's types and
//! serialize back to the same document: nothing added, nothing dropped, nothing reordered within
//! lists. One test per manifest file, each also checking a few typed values the engine relies on.
//!
//! The only normalization is [`normalize_go_durations`]: KubeFleet writes `waitTime` back in Go's
//! `time.Duration` format (`1m` comes back as `1m0s`), and so does this crate.

use std::path::Path;
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use staged_rollout::api::well_known::{self, condition_types};
use staged_rollout::api::{
    ApprovalRequest, ApprovalRequestObject, ClusterApprovalRequest, ClusterStagedUpdateRun,
    ClusterStagedUpdateStrategy, ConditionStatus, Duration, IntOrString, MemberCluster, Placement, ResourceSnapshot,
    StageNameRule, StageTaskType, StagedUpdateRun, StagedUpdateStrategy, State, Time, UpdateRunStatus,
    UpdateStrategySpec, ValidationErrorKind, ValidationOptions, compile, find_condition, is_condition_true,
    validate_approval_request, validate_run, validate_strategy,
};

macro_rules! seed {
    ($file:literal) => {
        include_str!(concat!("fixtures/seed/", $file))
    };
}

/// Every manifest in `tests/fixtures/seed/`, each with its own test below.
const MANIFESTS: &[&str] = &[
    "approval-request-web-app-rollout-v1-21-prod-clusters.yaml",
    "cluster-approval-request-example-run-canary.yaml",
    "cluster-resource-snapshot-example-placement-1.yaml",
    "cluster-staged-update-run-example-run-2-status.yaml",
    "cluster-staged-update-run-example-run-2.yaml",
    "cluster-staged-update-run-example-run-status.yaml",
    "cluster-staged-update-run-example-run.yaml",
    "cluster-staged-update-strategy-example-strategy.yaml",
    "crp-example-placement.yaml",
    "hub-resources-cluster.yaml",
    "hub-resources-namespaced.yaml",
    "member-clusters.yaml",
    "rp-web-app-placement.yaml",
    "staged-update-run-web-app-rollback-v1-20.yaml",
    "staged-update-run-web-app-rollout-v1-21.yaml",
    "staged-update-strategy-app-rollout-strategy.yaml",
];

/// Rewrites every string under a `waitTime` key to Go's canonical `time.Duration` format, so that
/// two documents compare by the durations' values (`1m` == `1m0s` == `60s`).
///
/// This is the one normalization the round trip allows: KubeFleet parses `waitTime` into a Go
/// `metav1.Duration` and writes it back with `Duration.String()`, so `1m` never survives a round
/// trip through the API server either. A string that is not a Go duration is left as it is (and
/// then has to match exactly).
fn normalize_go_durations(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "waitTime"
                    && let Value::String(s) = v
                    && let Ok(d) = Duration::from_str(s)
                {
                    *s = d.to_string();
                } else {
                    normalize_go_durations(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_go_durations),
        _ => {}
    }
}

/// Parses one YAML document into `T`, checks that `T` serializes back to the same JSON document
/// (up to [`normalize_go_durations`]) and that the JSON parses back into an equal `T`.
fn round_trip<T>(yaml: &str) -> T
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let typed: T = serde_saphyr::from_str(yaml).expect("the manifest parses into its type");
    let mut expected: Value = serde_saphyr::from_str(yaml).expect("the manifest parses as a JSON value");
    let mut actual = serde_json::to_value(&typed).expect("serializes");
    normalize_go_durations(&mut expected);
    normalize_go_durations(&mut actual);
    assert_eq!(actual, expected, "serialized form differs from the manifest");

    let json = serde_json::to_string(&typed).expect("serializes");
    let again: T = serde_json::from_str(&json).expect("the serialized form parses again");
    assert_eq!(again, typed, "JSON round trip is not stable");
    typed
}

/// [`round_trip`] for every document of a multi-document YAML stream.
fn round_trip_all<T>(yaml: &str) -> Vec<T>
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let typed: Vec<T> = serde_saphyr::from_multiple(yaml).expect("every document parses into its type");
    let expected: Vec<Value> = serde_saphyr::from_multiple(yaml).expect("every document parses as a JSON value");
    assert_eq!(typed.len(), expected.len());
    for (t, mut e) in typed.iter().zip(expected) {
        let mut actual = serde_json::to_value(t).expect("serializes");
        normalize_go_durations(&mut e);
        normalize_go_durations(&mut actual);
        assert_eq!(actual, e, "serialized form differs from the manifest");
        let again: T = serde_json::from_str(&serde_json::to_string(t).unwrap()).unwrap();
        assert_eq!(&again, t, "JSON round trip is not stable");
    }
    typed
}

fn time(s: &str) -> Time {
    s.parse().expect("a valid RFC 3339 time")
}

fn stage_clusters(status: &UpdateRunStatus) -> Vec<(&str, Vec<&str>)> {
    status
        .stages_status
        .iter()
        .map(|s| (s.stage_name.as_str(), s.clusters.iter().map(|c| c.cluster_name.as_str()).collect()))
        .collect()
}

/// The strategy `example-strategy`, as both the strategy object and the runs' status snapshots
/// carry it.
fn assert_example_strategy_spec(spec: &UpdateStrategySpec) {
    let names: Vec<_> = spec.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["staging", "canary"]);

    let staging = &spec.stages[0];
    let selector = staging.label_selector.as_ref().expect("staging has a selector");
    assert_eq!(selector.match_labels.as_ref().unwrap()["environment"], "staging");
    assert_eq!(staging.sorting_label_key, None);
    assert_eq!(staging.after_stage_tasks.len(), 1);
    assert_eq!(staging.after_stage_tasks[0].type_, StageTaskType::TimedWait);
    assert_eq!(staging.after_stage_tasks[0].wait_time, Some(Duration::from_secs(60)));

    let canary = &spec.stages[1];
    assert_eq!(canary.sorting_label_key.as_deref(), Some("order"));
    assert_eq!(canary.after_stage_tasks.len(), 1);
    assert_eq!(canary.after_stage_tasks[0].type_, StageTaskType::Approval);
    assert_eq!(canary.after_stage_tasks[0].wait_time, None);
    assert!(canary.before_stage_tasks.is_empty());
    assert_eq!(canary.max_concurrency, None::<IntOrString>);
}

#[test]
fn every_manifest_has_a_test() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("the fixture directory exists")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, MANIFESTS, "add a test for each new manifest, and list it in MANIFESTS");
}

#[test]
fn the_duration_normalization_compares_by_value() {
    let mut a = serde_json::json!({"stages": [{"afterStageTasks": [{"type": "TimedWait", "waitTime": "1m"}]}]});
    let mut b = serde_json::json!({"stages": [{"afterStageTasks": [{"type": "TimedWait", "waitTime": "60s"}]}]});
    let mut c = serde_json::json!({"stages": [{"afterStageTasks": [{"type": "TimedWait", "waitTime": "61s"}]}]});
    let mut not_a_duration = serde_json::json!({"waitTime": "soon", "other": "1m"});
    normalize_go_durations(&mut a);
    normalize_go_durations(&mut b);
    normalize_go_durations(&mut c);
    normalize_go_durations(&mut not_a_duration);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a["stages"][0]["afterStageTasks"][0]["waitTime"], "1m0s");
    // Only `waitTime` is touched, and only when it parses.
    assert_eq!(not_a_duration, serde_json::json!({"waitTime": "soon", "other": "1m"}));
}

#[test]
fn approval_request_web_app_rollout_v1_21_prod_clusters() {
    let request: ApprovalRequest = round_trip(seed!("approval-request-web-app-rollout-v1-21-prod-clusters.yaml"));
    assert_eq!(request.kind, ApprovalRequest::KIND);
    assert_eq!(request.metadata.namespace(), "my-app-namespace");
    assert_eq!(request.metadata.name(), "web-app-rollout-v1-21-prod-clusters");
    assert_eq!(request.metadata.generation(), 1);
    assert_eq!(request.metadata.label(well_known::TARGET_UPDATE_RUN_LABEL), Some("web-app-rollout-v1-21"));
    assert_eq!(request.metadata.label(well_known::TASK_TYPE_LABEL), None);
    assert_eq!(request.spec.target_update_run, "web-app-rollout-v1-21");
    assert_eq!(request.spec.target_stage, "prod-clusters");

    // The seed's patch: no observedGeneration, no lastTransitionTime — both stay absent.
    let conditions = request.conditions();
    assert_eq!(conditions.len(), 1);
    let approved = find_condition(conditions, condition_types::APPROVED).expect("Approved is set");
    assert_eq!(approved.status, ConditionStatus::True);
    assert_eq!(approved.observed_generation, 0);
    assert_eq!(approved.last_transition_time, None);
    assert_eq!((approved.reason.as_str(), approved.message.as_str()), ("approved", "approved"));
    // Today's rule (observedGeneration must equal the generation) does not see it as approved.
    assert!(!is_condition_true(conditions, condition_types::APPROVED, request.metadata.generation()));
    assert!(find_condition(conditions, condition_types::APPROVAL_ACCEPTED).is_none());

    validate_approval_request(&request, Some(&request)).expect("a valid approval request");
}

#[test]
fn cluster_approval_request_example_run_canary() {
    let request: ClusterApprovalRequest = round_trip(seed!("cluster-approval-request-example-run-canary.yaml"));
    assert_eq!(request.kind, ClusterApprovalRequest::KIND);
    assert_eq!(request.metadata.namespace, None);
    assert_eq!(request.metadata.name(), "example-run-canary");
    assert_eq!(request.metadata.creation_timestamp, Some(time("2025-03-12T10:11:46Z")));
    assert_eq!(request.spec.target_update_run, "example-run");
    assert_eq!(request.spec.target_stage, "canary");

    let conditions = request.conditions();
    let types: Vec<_> = conditions.iter().map(|c| c.type_.as_str()).collect();
    assert_eq!(types, [condition_types::APPROVED, condition_types::APPROVAL_ACCEPTED]);
    assert!(is_condition_true(conditions, condition_types::APPROVED, 1));
    assert!(is_condition_true(conditions, condition_types::APPROVAL_ACCEPTED, 1));
    assert_eq!(conditions[0].last_transition_time, Some(time("2025-03-12T10:14:10Z")));
    assert_eq!(conditions[1].last_transition_time, Some(time("2025-03-12T10:14:11Z")));
    assert_eq!(conditions[1].reason, "ApprovalRequestApprovalAccepted");

    validate_approval_request(&request, None).expect("a valid approval request");
}

#[test]
fn cluster_resource_snapshot_example_placement_1() {
    let snapshot: ResourceSnapshot = round_trip(seed!("cluster-resource-snapshot-example-placement-1.yaml"));
    // Printed with apiVersion v1, as the seed shows it.
    assert_eq!(snapshot.api_version, "placement.kubernetes-fleet.io/v1");
    assert_eq!(snapshot.kind, "ClusterResourceSnapshot");
    assert_eq!(snapshot.metadata.name(), well_known::resource_snapshot_name("example-placement", 1));
    assert!(snapshot.is_master());
    assert_eq!(snapshot.index_label(), Some("1"));
    assert_eq!(snapshot.metadata.label(well_known::PLACEMENT_TRACKING_LABEL), Some("example-placement"));
    assert_eq!(snapshot.metadata.label(well_known::IS_LATEST_SNAPSHOT_LABEL), Some("true"));
    // ownerReferences is not modelled and is kept verbatim.
    let owners = snapshot.metadata.extra["ownerReferences"].as_array().expect("ownerReferences is kept");
    assert_eq!(owners[0]["kind"], "ClusterResourcePlacement");
    assert_eq!(owners[0]["controller"], true);

    let resources = &snapshot.spec.selected_resources;
    let kinds: Vec<_> = resources.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Namespace", "ConfigMap"]);
    assert_eq!(resources[1]["data"]["key"], "value2");
}

#[test]
fn cluster_staged_update_run_example_run_2_status() {
    let run: ClusterStagedUpdateRun = round_trip(seed!("cluster-staged-update-run-example-run-2-status.yaml"));
    assert_eq!(run.metadata.name(), "example-run-2");
    assert!(run.metadata.has_finalizer(well_known::UPDATE_RUN_FINALIZER));
    assert_eq!(run.spec.resource_snapshot_index(), "0");
    assert_eq!(run.spec.state, None);

    let status = run.status.as_ref().expect("the run has a status");
    assert_eq!(status.policy_snapshot_index_used, "0");
    assert_eq!(status.policy_observed_cluster_count, 3);
    assert_eq!(status.resource_snapshot_index_used, "", "the seed prints no resourceSnapshotIndexUsed");
    assert_eq!(status.apply_strategy, None);
    assert_example_strategy_spec(status.update_strategy_snapshot.as_ref().expect("a strategy snapshot"));

    let types: Vec<_> = status.conditions.iter().map(|c| c.type_.as_str()).collect();
    assert_eq!(types, ["Initialized", "Progressing", "Succeeded"]);
    assert!(is_condition_true(&status.conditions, condition_types::SUCCEEDED, 1));
    assert_eq!(status.conditions[2].reason, "UpdateRunSucceeded");

    assert_eq!(stage_clusters(status), [("staging", vec!["member2"]), ("canary", vec!["member3", "member1"])]);
    let canary = &status.stages_status[1];
    assert_eq!(canary.after_stage_task_status[0].approval_request_name, "example-run-2-canary");
    assert_eq!(canary.start_time, Some(time("2025-03-12T10:21:16Z")));
    assert_eq!(canary.end_time, Some(time("2025-03-12T10:23:00Z")));

    let deletion = status.deletion_stage_status.as_ref().expect("a deletion stage");
    assert_eq!(deletion.stage_name, well_known::DELETE_STAGE_NAME);
    assert!(deletion.clusters.is_empty());
    assert!(is_condition_true(&deletion.conditions, condition_types::SUCCEEDED, 1));
    assert_eq!(deletion.end_time, Some(time("2025-03-12T10:23:01Z")));

    validate_run(&run).expect("a valid run");
}

#[test]
fn cluster_staged_update_run_example_run_2() {
    let run: ClusterStagedUpdateRun = round_trip(seed!("cluster-staged-update-run-example-run-2.yaml"));
    assert_eq!(run.kind, ClusterStagedUpdateRun::KIND);
    assert_eq!(run.metadata.name(), "example-run-2");
    assert_eq!(run.spec.placement_name, "example-placement");
    assert_eq!(run.spec.resource_snapshot_index.as_deref(), Some("0"));
    assert_eq!(run.spec.staged_update_strategy_name, "example-strategy");
    assert_eq!(run.spec.state, None);
    assert_eq!(run.status, None);
    validate_run(&run).expect("a valid run");
}

#[test]
fn cluster_staged_update_run_example_run_status() {
    let run: ClusterStagedUpdateRun = round_trip(seed!("cluster-staged-update-run-example-run-status.yaml"));
    assert_eq!(run.metadata.name(), "example-run");
    assert_eq!(run.metadata.generation(), 1);
    assert_eq!(run.spec.resource_snapshot_index(), "1");

    let status = run.status.as_ref().expect("the run has a status");
    assert_eq!(status.policy_observed_cluster_count, 3);
    assert_example_strategy_spec(status.update_strategy_snapshot.as_ref().expect("a strategy snapshot"));
    let types: Vec<_> = status.conditions.iter().map(|c| c.type_.as_str()).collect();
    assert_eq!(types, ["Initialized", "Progressing"]);
    assert_eq!(status.conditions[1].reason, "UpdateRunStarted");
    assert_eq!(status.conditions[1].message, "");

    assert_eq!(stage_clusters(status), [("staging", vec!["member2"]), ("canary", vec!["member3", "member1"])]);

    let staging = &status.stages_status[0];
    assert_eq!(staging.after_stage_task_status[0].type_, StageTaskType::TimedWait);
    assert!(is_condition_true(&staging.after_stage_task_status[0].conditions, condition_types::WAIT_TIME_ELAPSED, 1));
    assert_eq!(staging.end_time, Some(time("2025-03-12T10:11:15Z")));

    let canary = &status.stages_status[1];
    assert_eq!(canary.start_time, Some(time("2025-03-12T10:11:16Z")));
    assert_eq!(canary.end_time, None);
    assert!(is_condition_true(&canary.conditions, condition_types::PROGRESSING, 1));
    let task = &canary.after_stage_task_status[0];
    assert_eq!(task.type_, StageTaskType::Approval);
    assert_eq!(task.approval_request_name, "example-run-canary");
    assert!(task.conditions.is_empty());
    // member1 has started and not finished.
    let member1 = &canary.clusters[1].conditions;
    assert!(is_condition_true(member1, condition_types::STARTED, 1));
    assert!(find_condition(member1, condition_types::SUCCEEDED).is_none());

    // `clusters: []` is written back (the round trip checks it), start/end times stay absent.
    let deletion = status.deletion_stage_status.as_ref().expect("a deletion stage");
    assert_eq!(deletion.stage_name, well_known::DELETE_STAGE_NAME);
    assert!(deletion.clusters.is_empty() && deletion.conditions.is_empty());
    assert_eq!((deletion.start_time, deletion.end_time), (None, None));
    let json = serde_json::to_value(&run).unwrap();
    assert_eq!(json["status"]["deletionStageStatus"]["clusters"], serde_json::json!([]));

    validate_run(&run).expect("a valid run");
}

#[test]
fn cluster_staged_update_run_example_run() {
    let run: ClusterStagedUpdateRun = round_trip(seed!("cluster-staged-update-run-example-run.yaml"));
    assert_eq!(run.api_version, staged_rollout::api::API_VERSION);
    assert_eq!(run.metadata.name(), "example-run");
    assert_eq!(run.spec.placement_name, "example-placement");
    assert_eq!(run.spec.resource_snapshot_index(), "1");
    assert_eq!(run.spec.staged_update_strategy_name, "example-strategy");
    // No spec.state: the seed's older controller started such a run at once.
    assert_eq!(run.spec.state, None::<State>);
    validate_run(&run).expect("a valid run");
}

#[test]
fn cluster_staged_update_strategy_example_strategy() {
    let strategy: ClusterStagedUpdateStrategy =
        round_trip(seed!("cluster-staged-update-strategy-example-strategy.yaml"));
    assert_eq!(strategy.kind, ClusterStagedUpdateStrategy::KIND);
    assert_eq!(strategy.metadata.name(), "example-strategy");
    assert_example_strategy_spec(&strategy.spec);
    // `1m` is written back in Go's format.
    let json = serde_json::to_value(&strategy).unwrap();
    assert_eq!(json["spec"]["stages"][0]["afterStageTasks"][0]["waitTime"], "1m0s");

    validate_strategy(&strategy, ValidationOptions::default()).expect("valid under today's rules");
    validate_strategy(&strategy, ValidationOptions { stage_names: StageNameRule::Dns1123Label })
        .expect("valid under the seed's rules");
}

#[test]
fn crp_example_placement() {
    let placement: Placement = round_trip(seed!("crp-example-placement.yaml"));
    assert_eq!(placement.kind, Placement::CLUSTER_KIND);
    assert_eq!(placement.metadata.name(), "example-placement");
    assert_eq!(placement.spec.strategy.type_or_default(), "External");
    assert_eq!(placement.spec.strategy.apply_strategy, None);
    assert_eq!(placement.spec.policy.as_ref().expect("a policy").placement_type(), "PickAll");
    let selectors = placement.spec.extra["resourceSelectors"].as_array().expect("resourceSelectors is kept");
    assert_eq!(selectors.len(), 1);
    assert_eq!(selectors[0]["group"], "");
    assert_eq!(selectors[0]["name"], "test-namespace");
}

#[test]
fn hub_resources_cluster() {
    let objects: Vec<Value> = round_trip_all(seed!("hub-resources-cluster.yaml"));
    let kinds: Vec<_> = objects.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Namespace", "ConfigMap"]);
    assert_eq!(objects[0]["spec"]["finalizers"], serde_json::json!(["kubernetes"]));
    assert_eq!(objects[1]["data"]["key"], "value1");
}

#[test]
fn hub_resources_namespaced() {
    let objects: Vec<Value> = round_trip_all(seed!("hub-resources-namespaced.yaml"));
    let kinds: Vec<_> = objects.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Namespace", "Deployment", "Service"]);
    assert_eq!(objects[1]["spec"]["replicas"], 1);
    assert_eq!(objects[1]["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.20");
    assert_eq!(objects[2]["spec"]["ports"][0]["targetPort"], 80);
}

#[test]
fn member_clusters() {
    let clusters: Vec<MemberCluster> = round_trip_all(seed!("member-clusters.yaml"));
    let names: Vec<_> = clusters.iter().map(MemberCluster::name).collect();
    assert_eq!(names, ["member1", "member2", "member3"]);
    assert_eq!(clusters[0].api_version, MemberCluster::API_VERSION);
    assert_eq!(clusters[0].metadata.label("environment"), Some("canary"));
    assert_eq!(clusters[0].metadata.label("order"), Some("2"));
    assert_eq!(clusters[1].metadata.label("order"), None);
    assert_eq!(clusters[2].metadata.label("order"), Some("1"));
    // spec is not modelled and is kept verbatim.
    assert_eq!(clusters[1].extra["spec"]["heartbeatPeriodSeconds"], 60);

    // The example strategy's selectors pick the stages the seed shows.
    let strategy: ClusterStagedUpdateStrategy =
        serde_saphyr::from_str(seed!("cluster-staged-update-strategy-example-strategy.yaml")).unwrap();
    let picked: Vec<Vec<&str>> = strategy
        .spec
        .stages
        .iter()
        .map(|stage| {
            let selector = compile(stage.label_selector.as_ref()).unwrap();
            clusters.iter().filter(|c| selector.matches(c.metadata.labels())).map(MemberCluster::name).collect()
        })
        .collect();
    assert_eq!(picked, [vec!["member2"], vec!["member1", "member3"]]);
}

#[test]
fn rp_web_app_placement() {
    let placement: Placement = round_trip(seed!("rp-web-app-placement.yaml"));
    assert_eq!(placement.kind, Placement::NAMESPACED_KIND);
    assert_eq!(placement.metadata.namespace(), "my-app-namespace");
    assert_eq!(placement.metadata.name(), "web-app-placement");
    assert_eq!(placement.spec.strategy.type_.as_deref(), Some("External"));
    assert_eq!(placement.spec.policy.as_ref().expect("a policy").placement_type.as_deref(), Some("PickAll"));
    let selectors = placement.spec.extra["resourceSelectors"].as_array().expect("resourceSelectors is kept");
    let kinds: Vec<_> = selectors.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Deployment", "Service"]);
}

#[test]
fn staged_update_run_web_app_rollback_v1_20() {
    let run: StagedUpdateRun = round_trip(seed!("staged-update-run-web-app-rollback-v1-20.yaml"));
    assert_eq!(run.kind, StagedUpdateRun::KIND);
    assert_eq!(run.metadata.namespace(), "my-app-namespace");
    assert_eq!(run.metadata.name(), "web-app-rollback-v1-20");
    assert_eq!(run.spec.placement_name, "web-app-placement");
    assert_eq!(run.spec.resource_snapshot_index(), "0");
    assert_eq!(run.spec.staged_update_strategy_name, "app-rollout-strategy");
    assert_eq!(run.spec.state, None);
    validate_run(&run).expect("a valid run");
}

#[test]
fn staged_update_run_web_app_rollout_v1_21() {
    let run: StagedUpdateRun = round_trip(seed!("staged-update-run-web-app-rollout-v1-21.yaml"));
    assert_eq!(run.kind, StagedUpdateRun::KIND);
    assert_eq!(run.metadata.namespace(), "my-app-namespace");
    assert_eq!(run.metadata.name(), "web-app-rollout-v1-21");
    assert_eq!(run.spec.placement_name, "web-app-placement");
    assert_eq!(run.spec.resource_snapshot_index(), "1");
    assert_eq!(run.spec.staged_update_strategy_name, "app-rollout-strategy");
    validate_run(&run).expect("a valid run");
}

#[test]
fn staged_update_strategy_app_rollout_strategy() {
    let strategy: StagedUpdateStrategy = round_trip(seed!("staged-update-strategy-app-rollout-strategy.yaml"));
    assert_eq!(strategy.kind, StagedUpdateStrategy::KIND);
    assert_eq!(strategy.metadata.namespace(), "my-app-namespace");
    let stages = &strategy.spec.stages;
    let names: Vec<_> = stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["dev-clusters", "prod-clusters"]);
    assert_eq!(stages[0].after_stage_tasks[0].wait_time, Some(Duration::from_secs(30)));
    assert_eq!(stages[1].sorting_label_key.as_deref(), Some("order"));
    assert_eq!(stages[1].after_stage_tasks[0].type_, StageTaskType::Approval);

    // Today's CRD rejects the hyphenated stage names (both of them), the seed's older one
    // accepted them.
    let errors = validate_strategy(&strategy, ValidationOptions::default()).expect_err("today's rule rejects '-'");
    let first = &errors.errors()[0];
    assert_eq!(first.kind, ValidationErrorKind::InvalidStageName { rule: StageNameRule::Alphanumeric });
    assert_eq!(first.field, "spec.stages[0].name");
    assert_eq!(first.value, "dev-clusters");
    assert_eq!(first.object, r#"StagedUpdateStrategy "my-app-namespace/app-rollout-strategy""#);
    let fields: Vec<_> = errors.errors().iter().map(|e| (e.field.as_str(), e.value.as_str())).collect();
    assert_eq!(fields, [("spec.stages[0].name", "dev-clusters"), ("spec.stages[1].name", "prod-clusters")]);

    validate_strategy(&strategy, ValidationOptions { stage_names: StageNameRule::Dns1123Label })
        .expect("the seed's stage-name rule accepts DNS-1123 labels");
}
