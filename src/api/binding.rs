//! `ClusterResourceBinding` and `ResourceBinding`: one placement's decision for one cluster.

use serde::{Deserialize, Serialize};

use super::meta::Condition;
use super::placement::ApplyStrategy;
use super::snapshot::NamespacedName;
use super::{Extra, ObjectMeta, string_enum};

/// A `ClusterResourceBinding` or `ResourceBinding` (`kind` says which). The scheduler creates one
/// per selected cluster; a staged run moves it to `Bound` on the run's snapshot, then watches its
/// conditions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    /// `apiVersion`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// `ClusterResourceBinding` or `ResourceBinding`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `metadata`; the API server bumps `generation` on every spec write.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: BindingSpec,
    /// `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<BindingStatus>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Binding {
    /// `kind` of a cluster-scoped binding.
    pub const CLUSTER_KIND: &'static str = "ClusterResourceBinding";
    /// `kind` of a namespaced binding.
    pub const NAMESPACED_KIND: &'static str = "ResourceBinding";

    /// The conditions (empty when there is no status).
    pub fn conditions(&self) -> &[Condition] {
        self.status.as_ref().map(|s| s.conditions.as_slice()).unwrap_or(&[])
    }
}

string_enum! {
    /// The state of a binding.
    pub enum BindingState {
        /// Scheduled but not rolled out.
        Scheduled = "Scheduled",
        /// Rolled out (or being rolled out) to the cluster.
        Bound = "Bound",
        /// The cluster is no longer selected; the binding is to be deleted.
        Unscheduled = "Unscheduled",
    }
}

/// The spec of a binding.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingSpec {
    /// `Scheduled`, `Bound` or `Unscheduled`.
    pub state: BindingState,
    /// The master resource snapshot to apply, `<placement>-<index>-snapshot`.
    #[serde(default)]
    pub resource_snapshot_name: String,
    /// Namespaced override snapshots to apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub resource_override_snapshots: Vec<NamespacedName>,
    /// Cluster-scoped override snapshots to apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub cluster_resource_override_snapshots: Vec<String>,
    /// The policy snapshot that produced this binding.
    #[serde(default)]
    pub scheduling_policy_snapshot_name: String,
    /// The member cluster.
    #[serde(default)]
    pub target_cluster: String,
    /// The apply strategy to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_strategy: Option<ApplyStrategy>,
    /// Why the scheduler picked the cluster. KubeFleet always writes it; a binding read without
    /// one is written back without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_decision: Option<ClusterDecision>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

super::clone_in_place!(BindingSpec {
    state,
    resource_snapshot_name,
    resource_override_snapshots,
    cluster_resource_override_snapshots,
    scheduling_policy_snapshot_name,
    target_cluster,
    apply_strategy,
    cluster_decision,
});

/// `spec.clusterDecision`: the scheduler's decision about one cluster. The engine never reads
/// it; it is typed so that copying a binding copies two strings rather than a JSON map.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterDecision {
    /// The member cluster the decision is about.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub cluster_name: String,
    /// Whether the scheduler selected the cluster.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub selected: bool,
    /// The cluster's scores, when the policy scored it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_score: Option<ClusterScore>,
    /// Why the cluster was, or was not, selected.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub reason: String,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

super::clone_in_place!(ClusterDecision { cluster_name, selected, cluster_score, reason });

/// `spec.clusterDecision.clusterScore`: the scores the scheduler gave a cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterScore {
    /// From the policy's preferred cluster affinity (absent when the cluster does not meet the
    /// required affinity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity_score: Option<i32>,
    /// From the policy's topology spread constraints (`priorityScore` on the wire).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_score: Option<i32>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The status of a binding.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingStatus {
    /// `RolloutStarted`, `Overridden`, `WorkSynchronized`, `Applied`, `Available`, `DiffReported`.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub conditions: Vec<Condition>,
    /// Fields this crate does not model (failed/drifted/diffed placements), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(decision: Option<serde_json::Value>) -> serde_json::Value {
        let mut spec = json!({
            "state": "Bound",
            "resourceSnapshotName": "web-1-snapshot",
            "schedulingPolicySnapshotName": "web-0",
            "targetCluster": "member-1",
        });
        if let Some(d) = decision {
            spec["clusterDecision"] = d;
        }
        spec
    }

    #[test]
    fn cluster_decision_is_typed_and_round_trips_with_unknown_fields() {
        let wire = spec(Some(json!({
            "clusterName": "member-1",
            "selected": true,
            "clusterScore": {"affinityScore": 20, "priorityScore": -3, "futureScore": 1},
            "reason": "picked by scheduling policy",
            "futureField": {"kept": ["verbatim"]},
        })));
        let parsed: BindingSpec = serde_json::from_value(wire.clone()).unwrap();
        let decision = parsed.cluster_decision.as_ref().unwrap();
        assert_eq!(decision.cluster_name, "member-1");
        assert!(decision.selected);
        assert_eq!(decision.reason, "picked by scheduling policy");
        let score = decision.cluster_score.as_ref().unwrap();
        assert_eq!((score.affinity_score, score.priority_score), (Some(20), Some(-3)));
        assert_eq!(score.extra["futureScore"], json!(1));
        assert_eq!(decision.extra["futureField"], json!({"kept": ["verbatim"]}));
        assert!(parsed.extra.is_empty(), "clusterDecision is no longer an unknown field");
        assert_eq!(serde_json::to_value(&parsed).unwrap(), wire);
    }

    #[test]
    fn a_binding_without_a_cluster_decision_is_written_back_without_one() {
        let wire = spec(None);
        let parsed: BindingSpec = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(parsed.cluster_decision, None);
        assert_eq!(serde_json::to_value(&parsed).unwrap(), wire);
    }

    #[test]
    fn a_decision_missing_required_fields_gets_go_zero_values_and_writes_them() {
        // KubeFleet's Go types write `clusterName`, `selected` and `reason` even when empty.
        let parsed: BindingSpec = serde_json::from_value(spec(Some(json!({})))).unwrap();
        assert_eq!(parsed.cluster_decision, Some(ClusterDecision::default()));
        let written = serde_json::to_value(&parsed).unwrap();
        assert_eq!(written["clusterDecision"], json!({"clusterName": "", "selected": false, "reason": ""}));
    }

    #[test]
    fn null_decision_fields_read_as_go_zero_values() {
        // An empty `reason:` in YAML is null; Go's decoder leaves such fields at their zero value.
        let wire = spec(Some(json!({"clusterName": null, "selected": null, "clusterScore": null, "reason": null})));
        let parsed: BindingSpec = serde_json::from_value(wire).unwrap();
        assert_eq!(parsed.cluster_decision, Some(ClusterDecision::default()));
        let yaml = "state: Bound\ntargetCluster: member-1\nclusterDecision:\n  clusterName: member-1\n  reason:\n";
        let parsed: BindingSpec = serde_saphyr::from_str(yaml).unwrap();
        let decision = parsed.cluster_decision.unwrap();
        assert_eq!((decision.cluster_name.as_str(), decision.reason.as_str()), ("member-1", ""));
    }

    #[test]
    fn a_mistyped_decision_is_an_error_not_a_panic() {
        let err = serde_json::from_value::<BindingSpec>(spec(Some(json!({"selected": "yes"})))).unwrap_err();
        assert!(err.to_string().contains("expected a boolean"), "{err}");
    }
}
