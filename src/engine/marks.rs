//! The status transitions KubeFleet's controller writes, one function each, with its exact
//! types, reasons and messages.

use std::cell::Cell;

use crate::api::well_known::{condition_types as ct, reasons};
use crate::api::{
    ClusterUpdatingStatus, Condition, ConditionStatus, StageTaskStatus, StageUpdatingStatus, Time, UpdateRunStatus,
    set_condition,
};

/// Sets conditions stamped with one `now` and one run generation, and remembers whether any
/// write changed the status (so an unchanged status is not written back).
pub(crate) struct Marker {
    pub(crate) now: Time,
    pub(crate) generation: i64,
    changed: Cell<bool>,
}

impl Marker {
    pub(crate) fn new(now: Time, generation: i64) -> Marker {
        Marker { now, generation, changed: Cell::new(false) }
    }

    /// Whether anything was changed through this marker (or reported with [`Marker::changed`]).
    pub(crate) fn has_changed(&self) -> bool {
        self.changed.get()
    }

    /// Records a change made outside the marker.
    pub(crate) fn changed(&self, changed: bool) {
        if changed {
            self.changed.set(true);
        }
    }

    fn set(&self, conds: &mut Vec<Condition>, type_: &str, status: ConditionStatus, reason: &str, message: &str) {
        let changed = set_condition(conds, Condition::new(type_, status, self.generation, reason, message), self.now);
        self.changed(changed);
    }

    fn set_time(&self, field: &mut Option<Time>) {
        if field.is_none() {
            *field = Some(self.now);
            self.changed.set(true);
        }
    }

    // ----- run -----

    pub(crate) fn run_initialized(&self, run: &mut UpdateRunStatus) {
        self.set(
            &mut run.conditions,
            ct::INITIALIZED,
            ConditionStatus::True,
            reasons::UPDATE_RUN_INITIALIZE_SUCCEEDED,
            "The UpdateRun initialized successfully",
        );
    }

    pub(crate) fn run_initialize_failed(&self, run: &mut UpdateRunStatus, message: &str) {
        self.set(
            &mut run.conditions,
            ct::INITIALIZED,
            ConditionStatus::False,
            reasons::UPDATE_RUN_INITIALIZE_FAILED,
            message,
        );
    }

    pub(crate) fn run_progressing(&self, run: &mut UpdateRunStatus) {
        self.set(
            &mut run.conditions,
            ct::PROGRESSING,
            ConditionStatus::True,
            reasons::UPDATE_RUN_PROGRESSING,
            "The update run is making progress",
        );
    }

    /// `markUpdateRunProgressingIfNotWaitingOrStuck`.
    pub(crate) fn run_progressing_unless_waiting_or_stuck(&self, run: &mut UpdateRunStatus) {
        let waiting_or_stuck = crate::api::find_condition(&run.conditions, ct::PROGRESSING).is_some_and(|c| {
            c.is_false_at(self.generation)
                && (c.reason == reasons::UPDATE_RUN_WAITING || c.reason == reasons::UPDATE_RUN_STUCK)
        });
        if !waiting_or_stuck {
            self.run_progressing(run);
        }
    }

    pub(crate) fn run_waiting(&self, run: &mut UpdateRunStatus, task_kind: &str, stage: &str) {
        let message = format!("The updateRun is waiting for {task_kind} tasks in stage {stage} to complete");
        self.set(&mut run.conditions, ct::PROGRESSING, ConditionStatus::False, reasons::UPDATE_RUN_WAITING, &message);
    }

    pub(crate) fn run_stuck(&self, run: &mut UpdateRunStatus, stage: &str, stuck: &[&str]) {
        let mut names = stuck.iter().take(3).copied().collect::<Vec<_>>().join(", ");
        if stuck.len() > 3 {
            names.push_str("...");
        }
        let message = format!(
            "The updateRun is stuck waiting for {names} cluster(s) in stage {stage} to finish updating, please check placement status for potential errors"
        );
        self.set(&mut run.conditions, ct::PROGRESSING, ConditionStatus::False, reasons::UPDATE_RUN_STUCK, &message);
    }

    pub(crate) fn run_stopping(&self, run: &mut UpdateRunStatus) {
        self.set(
            &mut run.conditions,
            ct::PROGRESSING,
            ConditionStatus::Unknown,
            reasons::UPDATE_RUN_STOPPING,
            "The update run is the process of stopping, waiting for all the updating/deleting clusters to finish updating before completing the stop process",
        );
    }

    pub(crate) fn run_stopped(&self, run: &mut UpdateRunStatus) {
        self.set(
            &mut run.conditions,
            ct::PROGRESSING,
            ConditionStatus::False,
            reasons::UPDATE_RUN_STOPPED,
            "The update run has been stopped",
        );
    }

    pub(crate) fn run_succeeded(&self, run: &mut UpdateRunStatus) {
        self.set(
            &mut run.conditions,
            ct::PROGRESSING,
            ConditionStatus::False,
            reasons::UPDATE_RUN_SUCCEEDED,
            "All stages are completed",
        );
        self.set(
            &mut run.conditions,
            ct::SUCCEEDED,
            ConditionStatus::True,
            reasons::UPDATE_RUN_SUCCEEDED,
            "All stages are completed successfully",
        );
    }

    pub(crate) fn run_failed(&self, run: &mut UpdateRunStatus, message: &str) {
        self.set(
            &mut run.conditions,
            ct::PROGRESSING,
            ConditionStatus::False,
            reasons::UPDATE_RUN_FAILED,
            "The stages are aborted due to a non-recoverable error",
        );
        self.set(&mut run.conditions, ct::SUCCEEDED, ConditionStatus::False, reasons::UPDATE_RUN_FAILED, message);
    }

    // ----- stage -----

    pub(crate) fn stage_started(&self, stage: &mut StageUpdatingStatus) {
        self.set_time(&mut stage.start_time);
        self.set(
            &mut stage.conditions,
            ct::PROGRESSING,
            ConditionStatus::True,
            reasons::STAGE_UPDATING_STARTED,
            "Clusters in the stage started updating",
        );
    }

    pub(crate) fn stage_waiting(&self, stage: &mut StageUpdatingStatus, message: &str) {
        self.set(
            &mut stage.conditions,
            ct::PROGRESSING,
            ConditionStatus::False,
            reasons::STAGE_UPDATING_WAITING,
            message,
        );
    }

    pub(crate) fn stage_succeeded(&self, stage: &mut StageUpdatingStatus) {
        self.set_time(&mut stage.end_time);
        self.set(
            &mut stage.conditions,
            ct::PROGRESSING,
            ConditionStatus::False,
            reasons::STAGE_UPDATING_SUCCEEDED,
            "All clusters in the stage are updated and after-stage tasks are completed",
        );
        self.set(
            &mut stage.conditions,
            ct::SUCCEEDED,
            ConditionStatus::True,
            reasons::STAGE_UPDATING_SUCCEEDED,
            "Stage update completed successfully",
        );
    }

    pub(crate) fn stage_skipped(&self, stage: &mut StageUpdatingStatus) {
        self.set_time(&mut stage.start_time);
        self.set_time(&mut stage.end_time);
        let message = "Stage skipped because it has no clusters";
        let reason = reasons::STAGE_UPDATING_SKIPPED_NO_CLUSTERS;
        self.set(&mut stage.conditions, ct::PROGRESSING, ConditionStatus::False, reason, message);
        self.set(&mut stage.conditions, ct::SUCCEEDED, ConditionStatus::True, reason, message);
    }

    pub(crate) fn stage_failed(&self, stage: &mut StageUpdatingStatus, message: &str) {
        self.set_time(&mut stage.end_time);
        self.set(
            &mut stage.conditions,
            ct::PROGRESSING,
            ConditionStatus::False,
            reasons::STAGE_UPDATING_FAILED,
            "Stage update aborted due to a non-recoverable error",
        );
        self.set(&mut stage.conditions, ct::SUCCEEDED, ConditionStatus::False, reasons::STAGE_UPDATING_FAILED, message);
    }

    pub(crate) fn stage_stopping(&self, stage: &mut StageUpdatingStatus) {
        self.set(
            &mut stage.conditions,
            ct::PROGRESSING,
            ConditionStatus::Unknown,
            reasons::STAGE_UPDATING_STOPPING,
            "Waiting for all the updating clusters to finish updating before completing the stop process",
        );
    }

    pub(crate) fn stage_stopped(&self, stage: &mut StageUpdatingStatus) {
        self.set(
            &mut stage.conditions,
            ct::PROGRESSING,
            ConditionStatus::False,
            reasons::STAGE_UPDATING_STOPPED,
            "All the updating clusters have finished updating, the stage is now stopped, waiting to be resumed",
        );
    }

    // ----- cluster -----

    pub(crate) fn cluster_started(&self, cluster: &mut ClusterUpdatingStatus) {
        self.set(
            &mut cluster.conditions,
            ct::STARTED,
            ConditionStatus::True,
            reasons::CLUSTER_UPDATING_STARTED,
            "Cluster update started",
        );
    }

    pub(crate) fn cluster_succeeded(&self, cluster: &mut ClusterUpdatingStatus) {
        self.set(
            &mut cluster.conditions,
            ct::SUCCEEDED,
            ConditionStatus::True,
            reasons::CLUSTER_UPDATING_SUCCEEDED,
            "Cluster update completed successfully",
        );
    }

    pub(crate) fn cluster_failed(&self, cluster: &mut ClusterUpdatingStatus, message: &str) {
        self.set(
            &mut cluster.conditions,
            ct::SUCCEEDED,
            ConditionStatus::False,
            reasons::CLUSTER_UPDATING_FAILED,
            message,
        );
    }

    // ----- tasks -----

    pub(crate) fn task_request_created(&self, task: &mut StageTaskStatus) {
        self.set(
            &mut task.conditions,
            ct::APPROVAL_REQUEST_CREATED,
            ConditionStatus::True,
            reasons::STAGE_TASK_APPROVAL_REQUEST_CREATED,
            "ApprovalRequest object is created",
        );
    }

    pub(crate) fn task_request_approved(&self, task: &mut StageTaskStatus) {
        self.set(
            &mut task.conditions,
            ct::APPROVAL_REQUEST_APPROVED,
            ConditionStatus::True,
            reasons::STAGE_TASK_APPROVAL_REQUEST_APPROVED,
            "ApprovalRequest object is approved",
        );
    }

    pub(crate) fn task_wait_elapsed(&self, task: &mut StageTaskStatus) {
        self.set(
            &mut task.conditions,
            ct::WAIT_TIME_ELAPSED,
            ConditionStatus::True,
            reasons::AFTER_STAGE_TASK_WAIT_TIME_ELAPSED,
            "Wait time elapsed",
        );
    }
}
