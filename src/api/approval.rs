//! `ClusterApprovalRequest` and `ApprovalRequest`: the gates of Approval stage tasks.

use serde::{Deserialize, Serialize};

use super::meta::Condition;
use super::{Extra, ObjectMeta, kube_kind};

/// The spec of both approval kinds: which run and stage the request gates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequestSpec {
    /// The run (JSON name `parentStageRollout`, Go name `TargetUpdateRun`).
    #[serde(default, rename = "parentStageRollout")]
    pub target_update_run: String,
    /// The stage.
    #[serde(default)]
    pub target_stage: String,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The status of an approval request: `Approved` (set by a person) and `ApprovalAccepted` (set by
/// the engine once it acted on the approval; from then on the approval cannot be revoked).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequestStatus {
    /// The conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub conditions: Vec<Condition>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

kube_kind! {
    /// `ClusterApprovalRequest` (short name `careq`), cluster-scoped; gates a
    /// `ClusterStagedUpdateRun`.
    ClusterApprovalRequest, kind = "ClusterApprovalRequest", scope = Cluster,
    spec = ApprovalRequestSpec, status = ApprovalRequestStatus
}

kube_kind! {
    /// `ApprovalRequest` (short name `areq`), in the namespace of the `StagedUpdateRun` it gates.
    ApprovalRequest, kind = "ApprovalRequest", scope = Namespaced,
    spec = ApprovalRequestSpec, status = ApprovalRequestStatus
}

/// What both approval kinds have in common.
pub trait ApprovalRequestObject: super::Kind {
    /// The metadata.
    fn metadata(&self) -> &ObjectMeta;
    /// The spec.
    fn spec(&self) -> &ApprovalRequestSpec;
    /// The status, if any was written.
    fn status(&self) -> Option<&ApprovalRequestStatus>;
    /// The status, created empty when absent.
    fn status_mut(&mut self) -> &mut ApprovalRequestStatus;
    /// The conditions (empty when there is no status).
    fn conditions(&self) -> &[Condition] {
        self.status().map(|s| s.conditions.as_slice()).unwrap_or(&[])
    }
}

macro_rules! impl_approval_object {
    ($($t:ty),*) => {$(
        impl ApprovalRequestObject for $t {
            fn metadata(&self) -> &ObjectMeta { &self.metadata }
            fn spec(&self) -> &ApprovalRequestSpec { &self.spec }
            fn status(&self) -> Option<&ApprovalRequestStatus> { self.status.as_ref() }
            fn status_mut(&mut self) -> &mut ApprovalRequestStatus {
                self.status.get_or_insert_with(ApprovalRequestStatus::default)
            }
        }
    )*};
}
impl_approval_object!(ClusterApprovalRequest, ApprovalRequest);
