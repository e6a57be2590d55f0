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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// Fields this crate does not model (`clusterDecision`), kept verbatim.
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
