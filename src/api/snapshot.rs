//! Scheduling policy snapshots, resource snapshots and override snapshot references.

use serde::{Deserialize, Serialize};

use super::meta::Condition;
use super::placement::PlacementPolicy;
use super::well_known;
use super::{Extra, ObjectMeta};

/// A reference to a namespaced object, as KubeFleet's `NamespacedName` (used for resource
/// override snapshots).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NamespacedName {
    /// The name.
    pub name: String,
    /// The namespace.
    #[serde(default)]
    pub namespace: String,
}

impl NamespacedName {
    /// A reference to `namespace/name`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        NamespacedName { name: name.into(), namespace: namespace.into() }
    }
}

/// A `ClusterSchedulingPolicySnapshot` or `SchedulingPolicySnapshot`: the scheduler's view of one
/// version of a placement's policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicySnapshot {
    /// `apiVersion`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// `ClusterSchedulingPolicySnapshot` or `SchedulingPolicySnapshot`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `metadata`; the engine reads the `parent-CRP`, `is-latest-snapshot` and `policy-index`
    /// labels and the `number-of-clusters` annotation.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec.policy` (other spec fields are kept in `extra` of the spec map).
    #[serde(default)]
    pub spec: PolicySnapshotSpec,
    /// `status`; the engine reads the `Scheduled` condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PolicySnapshotStatus>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The spec of a policy snapshot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicySnapshotSpec {
    /// The placement policy at the time of the snapshot; `None` is PickAll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PlacementPolicy>,
    /// Fields this crate does not model (`policyHash`), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The status of a policy snapshot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicySnapshotStatus {
    /// The conditions (`Scheduled`).
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub conditions: Vec<Condition>,
    /// Fields this crate does not model (`targetClusters`, …), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl PolicySnapshot {
    /// The conditions (empty when there is no status).
    pub fn conditions(&self) -> &[Condition] {
        self.status.as_ref().map(|s| s.conditions.as_slice()).unwrap_or(&[])
    }

    /// Whether this is the latest snapshot of `placement`.
    pub fn is_latest_of(&self, placement: &str) -> bool {
        self.metadata.label(well_known::PLACEMENT_TRACKING_LABEL) == Some(placement)
            && self.metadata.label(well_known::IS_LATEST_SNAPSHOT_LABEL) == Some("true")
    }
}

/// A `ClusterResourceSnapshot` or `ResourceSnapshot`: one immutable version of the resources a
/// placement selected. An index may span several snapshot objects; the master one carries the
/// `resource-hash` annotation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSnapshot {
    /// `apiVersion`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// `ClusterResourceSnapshot` or `ResourceSnapshot`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `metadata`; the engine reads the `parent-CRP` and `resource-index` labels and the
    /// `resource-hash` annotation.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec`.
    #[serde(default)]
    pub spec: ResourceSnapshotSpec,
    /// Fields this crate does not model (including `status`), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The spec of a resource snapshot: the selected resources, as Kubernetes objects.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSnapshotSpec {
    /// The resources (each a full Kubernetes object).
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub selected_resources: Vec<serde_json::Value>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ResourceSnapshot {
    /// Whether this is the master snapshot of its index (a non-empty `resource-hash`).
    pub fn is_master(&self) -> bool {
        self.metadata.annotation(well_known::RESOURCE_HASH_ANNOTATION).is_some_and(|h| !h.is_empty())
    }

    /// The `resource-index` label.
    pub fn index_label(&self) -> Option<&str> {
        self.metadata.label(well_known::RESOURCE_INDEX_LABEL)
    }
}
