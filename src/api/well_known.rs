//! Names, labels, annotations, reasons and condition types KubeFleet defines. The engine writes
//! exactly these strings, so a status or object it produces is indistinguishable from one written
//! by KubeFleet's controller.

/// The prefix of every KubeFleet label, annotation and finalizer.
pub const FLEET_PREFIX: &str = "kubernetes-fleet.io/";

/// The finalizer on both run kinds. (KubeFleet's published troubleshooting page shows
/// `clusterstagedupdaterun-finalizer`, which its code never writes.)
pub const UPDATE_RUN_FINALIZER: &str = "kubernetes-fleet.io/stagedupdaterun-finalizer";
/// The name of the deletion stage, the stage after the last one that removes bindings.
pub const DELETE_STAGE_NAME: &str = "kubernetes-fleet.io/deleteStage";

/// Approval request label: the stage it gates.
pub const TARGET_UPDATING_STAGE_LABEL: &str = "kubernetes-fleet.io/targetUpdatingStage";
/// Approval request label: the run it belongs to. Run deletion selects requests by this key.
pub const TARGET_UPDATE_RUN_LABEL: &str = "kubernetes-fleet.io/targetUpdateRun";
/// Approval request label: `beforeStage` or `afterStage`.
pub const TASK_TYPE_LABEL: &str = "kubernetes-fleet.io/taskType";
/// Approval request label: always `"true"` on requests the engine creates.
pub const IS_LATEST_UPDATE_RUN_APPROVAL_LABEL: &str = "kubernetes-fleet.io/isLatestUpdateRunApproval";
/// Value of [`TASK_TYPE_LABEL`] for before-stage approvals.
pub const BEFORE_STAGE_TASK_LABEL_VALUE: &str = "beforeStage";
/// Value of [`TASK_TYPE_LABEL`] for after-stage approvals.
pub const AFTER_STAGE_TASK_LABEL_VALUE: &str = "afterStage";

/// Label on bindings and snapshots naming their placement.
pub const PLACEMENT_TRACKING_LABEL: &str = "kubernetes-fleet.io/parent-CRP";
/// Label marking the latest policy or resource snapshot (`"true"`).
pub const IS_LATEST_SNAPSHOT_LABEL: &str = "kubernetes-fleet.io/is-latest-snapshot";
/// Label carrying a policy snapshot's index.
pub const POLICY_INDEX_LABEL: &str = "kubernetes-fleet.io/policy-index";
/// Label carrying a resource snapshot's index.
pub const RESOURCE_INDEX_LABEL: &str = "kubernetes-fleet.io/resource-index";
/// Annotation on a PickN policy snapshot: how many clusters the scheduler should pick.
pub const NUMBER_OF_CLUSTERS_ANNOTATION: &str = "kubernetes-fleet.io/number-of-clusters";
/// Annotation present (non-empty) only on the master resource snapshot of an index.
pub const RESOURCE_HASH_ANNOTATION: &str = "kubernetes-fleet.io/resource-hash";

/// Resource snapshot names: `<placement>-<index>-snapshot`.
pub fn resource_snapshot_name(placement: &str, index: i64) -> String {
    format!("{placement}-{index}-snapshot")
}

/// Policy snapshot names: `<placement>-<index>`.
pub fn policy_snapshot_name(placement: &str, index: i64) -> String {
    format!("{placement}-{index}")
}

/// Condition types on runs, stages, clusters, tasks, approval requests, bindings and policy
/// snapshots.
pub mod condition_types {
    /// Run: initialization finished (True) or failed (False).
    pub const INITIALIZED: &str = "Initialized";
    /// Run and stage: making progress (True), waiting/stopped/finished (False), stopping (Unknown).
    pub const PROGRESSING: &str = "Progressing";
    /// Run, stage and cluster: finished successfully (True) or failed (False).
    pub const SUCCEEDED: &str = "Succeeded";
    /// Cluster: its binding was brought up to date.
    pub const STARTED: &str = "Started";
    /// Stage task: the approval request exists.
    pub const APPROVAL_REQUEST_CREATED: &str = "ApprovalRequestCreated";
    /// Stage task: the approval request was approved and accepted.
    pub const APPROVAL_REQUEST_APPROVED: &str = "ApprovalRequestApproved";
    /// Stage task: the TimedWait has elapsed.
    pub const WAIT_TIME_ELAPSED: &str = "WaitTimeElapsed";
    /// Approval request: set by a person (or a tool) to approve.
    pub const APPROVED: &str = "Approved";
    /// Approval request: set by the engine once it has acted on the approval.
    pub const APPROVAL_ACCEPTED: &str = "ApprovalAccepted";
    /// Binding: overrides were applied.
    pub const OVERRIDDEN: &str = "Overridden";
    /// Binding: works were synchronized.
    pub const WORK_SYNCHRONIZED: &str = "WorkSynchronized";
    /// Binding: resources were applied on the member.
    pub const APPLIED: &str = "Applied";
    /// Binding: resources are available on the member.
    pub const AVAILABLE: &str = "Available";
    /// Binding: under ReportDiff, the diff was reported.
    pub const DIFF_REPORTED: &str = "DiffReported";
    /// Binding: written by the engine when it starts rolling the binding out.
    pub const ROLLOUT_STARTED: &str = "RolloutStarted";
    /// Policy snapshot: the scheduler finished scheduling it.
    pub const SCHEDULED: &str = "Scheduled";
}

/// Condition reasons the engine writes, and the binding reasons it treats as still in progress.
pub mod reasons {
    /// Run Initialized=True.
    pub const UPDATE_RUN_INITIALIZE_SUCCEEDED: &str = "UpdateRunInitializedSuccessfully";
    /// Run Initialized=False.
    pub const UPDATE_RUN_INITIALIZE_FAILED: &str = "UpdateRunInitializedFailed";
    /// Run Progressing=True.
    pub const UPDATE_RUN_PROGRESSING: &str = "UpdateRunProgressing";
    /// Run Progressing=False while waiting on stage tasks.
    pub const UPDATE_RUN_WAITING: &str = "UpdateRunWaiting";
    /// Run Progressing=False when clusters take longer than the stuck threshold.
    pub const UPDATE_RUN_STUCK: &str = "UpdateRunStuck";
    /// Run Progressing=Unknown while stopping.
    pub const UPDATE_RUN_STOPPING: &str = "UpdateRunStopping";
    /// Run Progressing=False once stopped.
    pub const UPDATE_RUN_STOPPED: &str = "UpdateRunStopped";
    /// Run Progressing=False and Succeeded=True at the end.
    pub const UPDATE_RUN_SUCCEEDED: &str = "UpdateRunSucceeded";
    /// Run Progressing=False and Succeeded=False on abort.
    pub const UPDATE_RUN_FAILED: &str = "UpdateRunFailed";
    /// Stage Progressing=True.
    pub const STAGE_UPDATING_STARTED: &str = "StageUpdatingStarted";
    /// Stage Progressing=False while waiting on tasks.
    pub const STAGE_UPDATING_WAITING: &str = "StageUpdatingWaiting";
    /// Stage finished.
    pub const STAGE_UPDATING_SUCCEEDED: &str = "StageUpdatingSucceeded";
    /// Stage failed.
    pub const STAGE_UPDATING_FAILED: &str = "StageUpdatingFailed";
    /// Stage skipped for having no clusters.
    pub const STAGE_UPDATING_SKIPPED_NO_CLUSTERS: &str = "StageUpdatingSkippedNoClusters";
    /// Stage Progressing=Unknown while stopping.
    pub const STAGE_UPDATING_STOPPING: &str = "StageUpdatingStopping";
    /// Stage Progressing=False once stopped.
    pub const STAGE_UPDATING_STOPPED: &str = "StageUpdatingStopped";
    /// Cluster Started=True.
    pub const CLUSTER_UPDATING_STARTED: &str = "ClusterUpdatingStarted";
    /// Cluster Succeeded=True.
    pub const CLUSTER_UPDATING_SUCCEEDED: &str = "ClusterUpdatingSucceeded";
    /// Cluster Succeeded=False.
    pub const CLUSTER_UPDATING_FAILED: &str = "ClusterUpdatingFailed";
    /// Task ApprovalRequestCreated=True.
    pub const STAGE_TASK_APPROVAL_REQUEST_CREATED: &str = "StageTaskApprovalRequestCreated";
    /// Task ApprovalRequestApproved=True.
    pub const STAGE_TASK_APPROVAL_REQUEST_APPROVED: &str = "StageTaskApprovalRequestApproved";
    /// Task WaitTimeElapsed=True.
    pub const AFTER_STAGE_TASK_WAIT_TIME_ELAPSED: &str = "AfterStageTaskWaitTimeElapsed";
    /// Approval request ApprovalAccepted=True.
    pub const APPROVAL_REQUEST_APPROVAL_ACCEPTED: &str = "ApprovalRequestApprovalAccepted";
    /// Binding RolloutStarted=True.
    pub const ROLLOUT_STARTED: &str = "RolloutStarted";

    /// Binding reason: overrides not applied yet (not a failure).
    pub const OVERRIDDEN_PENDING: &str = "OverriddenPending";
    /// Binding reason: works not synchronized yet (not a failure).
    pub const WORK_NOT_SYNCHRONIZED_YET: &str = "WorkNotSynchronizedYet";
    /// Binding reason: apply pending (not a failure).
    pub const APPLY_PENDING: &str = "ApplyPending";
    /// Binding reason: resources not available yet (not a failure).
    pub const NOT_AVAILABLE_YET: &str = "ResourceNotAvailableYet";
}
