//! The closed set of side effects the engine asks the caller to perform.

use std::collections::BTreeMap;

use crate::api::{
    ApprovalRequest, ApprovalRequestSpec, BindingSpec, ClusterApprovalRequest, Condition, ObjectMeta, Scope, well_known,
};

/// A reference to one object on the hub.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    /// The object's kind (`ClusterResourceBinding`, `ApprovalRequest`, …).
    pub kind: String,
    /// The namespace; empty for cluster-scoped objects.
    pub namespace: String,
    /// The name.
    pub name: String,
}

impl ObjectRef {
    /// A reference to `kind` `namespace/name` (`namespace` empty for cluster-scoped objects).
    pub fn new(kind: impl Into<String>, namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ObjectRef { kind: kind.into(), namespace: namespace.into(), name: name.into() }
    }
}

impl std::fmt::Display for ObjectRef {
    /// `Kind name` or `Kind namespace/name`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// One instruction for the caller. Each carries everything needed to carry it out.
///
/// Apply them in order and stop at the first failure; persist the returned status only when all
/// succeeded. Every action is safe to repeat: reconciling again after a partial apply re-derives
/// only the actions still needed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
// `UpdateBinding` is the largest variant and, with `MarkBindingRolloutStarted`, the most common
// one (one of each per cluster a rollout starts): boxing its spec would add an allocation per
// action and, since the spec would then live on the heap, save only part of a pair's bytes.
#[allow(clippy::large_enum_variant)]
pub enum Action {
    /// Add [`UPDATE_RUN_FINALIZER`](well_known::UPDATE_RUN_FINALIZER) to the run: an update of
    /// the run object guarded by `resource_version`, as KubeFleet's `client.Update` is. (A blind
    /// patch would hand the caller a new `resourceVersion` under which a status computed from a
    /// stale observation could overwrite newer progress.)
    AddFinalizer {
        /// The run.
        run: ObjectRef,
        /// The run's `resourceVersion` as observed; the update must conflict when it changed.
        resource_version: Option<String>,
    },
    /// Remove the finalizer from the run so the API server can delete it (an update guarded by
    /// `resource_version`, like [`Action::AddFinalizer`]).
    RemoveFinalizer {
        /// The run.
        run: ObjectRef,
        /// The run's `resourceVersion` as observed.
        resource_version: Option<String>,
    },
    /// Delete every approval request labelled `kubernetes-fleet.io/targetUpdateRun=<run>`
    /// (`ClusterApprovalRequest`s for a cluster-scoped run; `ApprovalRequest`s in the run's
    /// namespace otherwise).
    DeleteApprovalRequests {
        /// `ClusterApprovalRequest` or `ApprovalRequest`.
        kind: String,
        /// The namespace to delete in; empty for cluster-scoped runs.
        namespace: String,
        /// The label selector, `{targetUpdateRun: <run>}`.
        labels: BTreeMap<String, String>,
    },
    /// The run names no resource snapshot and the latest one is stale (or missing): create the
    /// master resource snapshot `<placement>-<index>-snapshot` of the placement's current
    /// resources, labelled `parent-CRP`, `resource-index=<index>` and `is-latest-snapshot=true`,
    /// annotated `resource-hash=<hash>`, and clear `is-latest-snapshot` on the previous one.
    CreateResourceSnapshot {
        /// The placement.
        placement: ObjectRef,
        /// The index of the new snapshot (one more than the latest, 0 when there is none).
        index: i64,
        /// The hash the snapshot must carry (the world's `current_resource_hash`).
        resource_hash: String,
    },
    /// Write `spec` to the binding (a spec update; the API server bumps its generation).
    UpdateBinding {
        /// The binding.
        binding: ObjectRef,
        /// The cluster it targets.
        cluster: String,
        /// The `resourceVersion` observed, for an optimistic-concurrency write.
        resource_version: Option<String>,
        /// The complete new spec.
        spec: BindingSpec,
    },
    /// Set the binding's `RolloutStarted` condition (a status update). `observedGeneration` must
    /// be the binding's generation **at the time of the write** — after a preceding
    /// [`Action::UpdateBinding`], the bumped one. The engine fills in the generation it expects
    /// (the observed one, plus one after its own spec write); a caller that knows the generation
    /// the API server returned writes that one instead. `lastTransitionTime` is set; KubeFleet
    /// removes the old condition first, so the time always moves.
    MarkBindingRolloutStarted {
        /// The binding.
        binding: ObjectRef,
        /// The cluster it targets.
        cluster: String,
        /// The condition to set.
        condition: Condition,
    },
    /// Create an approval request.
    CreateApprovalRequest {
        /// The request to create.
        request: NewApprovalRequest,
    },
    /// Set `ApprovalAccepted=True` on an approved request (a status update): from now on the
    /// approval cannot be revoked.
    AcceptApprovalRequest {
        /// The request.
        request: ObjectRef,
        /// The condition to set (its `observedGeneration` is the request's observed generation).
        condition: Condition,
    },
    /// Delete the binding of a cluster the placement no longer selects.
    DeleteBinding {
        /// The binding.
        binding: ObjectRef,
        /// The cluster it targets.
        cluster: String,
    },
}

impl Action {
    /// The object the action writes, when it writes one object.
    pub fn target(&self) -> Option<&ObjectRef> {
        match self {
            Action::AddFinalizer { run, .. } | Action::RemoveFinalizer { run, .. } => Some(run),
            Action::UpdateBinding { binding, .. }
            | Action::MarkBindingRolloutStarted { binding, .. }
            | Action::DeleteBinding { binding, .. } => Some(binding),
            Action::AcceptApprovalRequest { request, .. } => Some(request),
            Action::CreateResourceSnapshot { placement, .. } => Some(placement),
            Action::CreateApprovalRequest { .. } | Action::DeleteApprovalRequests { .. } => None,
        }
    }

    /// A short kebab-case name (`update-binding`), for logs and transcripts.
    pub fn name(&self) -> &'static str {
        match self {
            Action::AddFinalizer { .. } => "add-finalizer",
            Action::RemoveFinalizer { .. } => "remove-finalizer",
            Action::DeleteApprovalRequests { .. } => "delete-approval-requests",
            Action::CreateResourceSnapshot { .. } => "create-resource-snapshot",
            Action::UpdateBinding { .. } => "update-binding",
            Action::MarkBindingRolloutStarted { .. } => "mark-binding-rollout-started",
            Action::CreateApprovalRequest { .. } => "create-approval-request",
            Action::AcceptApprovalRequest { .. } => "accept-approval-request",
            Action::DeleteBinding { .. } => "delete-binding",
        }
    }
}

/// An approval request the engine wants created, with KubeFleet's labels and spec.
#[derive(Clone, Debug, PartialEq)]
pub struct NewApprovalRequest {
    /// Cluster-scoped (`ClusterApprovalRequest`) or namespaced (`ApprovalRequest`).
    pub scope: Scope,
    /// Name, namespace (namespaced only) and labels.
    pub metadata: ObjectMeta,
    /// The run and stage it gates.
    pub spec: ApprovalRequestSpec,
}

impl NewApprovalRequest {
    /// The request's name.
    pub fn name(&self) -> &str {
        self.metadata.name()
    }

    /// The `kind` to create.
    pub fn kind(&self) -> &'static str {
        match self.scope {
            Scope::Cluster => ClusterApprovalRequest::KIND,
            Scope::Namespaced => ApprovalRequest::KIND,
        }
    }

    /// A reference to the request.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::new(self.kind(), self.metadata.namespace(), self.metadata.name())
    }

    /// The object to create for a cluster-scoped run.
    pub fn to_cluster_approval_request(&self) -> ClusterApprovalRequest {
        ClusterApprovalRequest::new(self.metadata.clone(), self.spec.clone())
    }

    /// The object to create for a namespaced run.
    pub fn to_approval_request(&self) -> ApprovalRequest {
        ApprovalRequest::new(self.metadata.clone(), self.spec.clone())
    }

    /// The `taskType` label: `beforeStage` or `afterStage`.
    pub fn task_type(&self) -> Option<&str> {
        self.metadata.label(well_known::TASK_TYPE_LABEL)
    }
}
