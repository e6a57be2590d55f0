//! What the caller observed on the hub for one run: the engine's input besides the run itself.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::api::{
    ApprovalRequest, ApprovalRequestObject, ApprovalRequestSpec, Binding, ClusterApprovalRequest, Condition,
    MemberCluster, NamespacedName, ObjectMeta, Placement, PolicySnapshot, ResourceSnapshot, UpdateStrategySpec,
};

/// A snapshot of the hub as one reconcile sees it.
///
/// Lists may hold more than this run needs — the engine selects what it reads exactly as
/// KubeFleet's controller lists it: policy and resource snapshots and bindings by the
/// `kubernetes-fleet.io/parent-CRP=<placement>` label in the run's namespace (none for
/// cluster-scoped runs), approval requests by name in the run's namespace. So one `World` built
/// from a whole hub serves every run on it.
///
/// Member clusters and bindings — the lists that grow with the fleet — are shared (`Arc`), as a
/// kube-rs reflector store hands them out (`Store::state()` is a `Vec<Arc<K>>`): building a
/// `World` for a reconcile copies pointers, not ten thousand objects. To edit one in a test,
/// use [`Arc::make_mut`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct World {
    /// The placement named by the run, if it exists.
    pub placement: Option<Placement>,
    /// The strategy named by the run's `spec.stagedRolloutStrategyName` in the run's namespace,
    /// if it exists. Read only while the run initializes; afterwards the run uses its snapshot.
    pub strategy: Option<UpdateStrategySpec>,
    /// Scheduling policy snapshots.
    pub policy_snapshots: Vec<PolicySnapshot>,
    /// Resource snapshots.
    pub resource_snapshots: Vec<ResourceSnapshot>,
    /// The member clusters of the fleet, with their labels.
    pub member_clusters: Vec<Arc<MemberCluster>>,
    /// Cluster resource bindings (for cluster-scoped runs) or resource bindings (namespaced).
    pub bindings: Vec<Arc<Binding>>,
    /// Approval requests, cluster-scoped or namespaced, as observed.
    pub approval_requests: Vec<ObservedApproval>,
    /// The override snapshots that apply to each member cluster, keyed by cluster name. The
    /// engine records them per cluster at initialization (sorted as KubeFleet sorts them) and
    /// writes them into the bindings it updates.
    pub overrides: BTreeMap<String, ClusterOverrides>,
    /// The hash of the resources the placement selects right now, for runs that omit
    /// `resourceSnapshotIndex`: when it differs from the latest snapshot's `resource-hash`, the
    /// engine asks for a new snapshot. `None` means "use the latest snapshot as it is".
    pub current_resource_hash: Option<String>,
}

/// The override snapshots that apply to one cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterOverrides {
    /// `ClusterResourceOverrideSnapshot` names.
    pub cluster_resource_override_snapshots: Vec<String>,
    /// `ResourceOverrideSnapshot` references.
    pub resource_override_snapshots: Vec<NamespacedName>,
}

/// An approval request as the engine reads it, whichever its scope.
#[derive(Clone, Debug, PartialEq)]
pub struct ObservedApproval {
    /// Its metadata (name, namespace, generation).
    pub metadata: ObjectMeta,
    /// Its spec: the run and stage it targets.
    pub spec: ApprovalRequestSpec,
    /// Its conditions (`Approved`, `ApprovalAccepted`).
    pub conditions: Vec<Condition>,
}

impl ObservedApproval {
    fn from_object<A: ApprovalRequestObject>(a: &A) -> Self {
        ObservedApproval { metadata: a.metadata().clone(), spec: a.spec().clone(), conditions: a.conditions().to_vec() }
    }
}

impl From<&ClusterApprovalRequest> for ObservedApproval {
    fn from(a: &ClusterApprovalRequest) -> Self {
        ObservedApproval::from_object(a)
    }
}

impl From<&ApprovalRequest> for ObservedApproval {
    fn from(a: &ApprovalRequest) -> Self {
        ObservedApproval::from_object(a)
    }
}
