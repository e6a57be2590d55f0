//! When the engine wants to be called again, and why.

use std::fmt;

use crate::api::{Duration, Time};

/// When to reconcile again.
///
/// * `at` is an **exact** instant the engine knows about: a `TimedWait` ends, an
///   in-flight cluster crosses the stuck threshold, or "now" after a stage completes. Calling
///   earlier is harmless; calling later only delays the rollout.
/// * `on_change` says a change on the hub — a binding's status, an approval, the run's
///   spec — can unblock progress before then. A controller that watches those objects needs
///   nothing else.
/// * `poll` is KubeFleet's fixed requeue interval for the situation (15 s while clusters
///   update, 60 s while waiting for approval), for a controller without such watches.
///
/// With kube-rs: `wake.requeue_after(now).map_or_else(Action::await_change, Action::requeue)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wake {
    /// The exact instant to call again, if one is known.
    pub at: Option<Time>,
    /// Whether a change on the hub can unblock progress sooner.
    pub on_change: bool,
    /// KubeFleet's polling interval for this situation, if it would requeue.
    pub poll: Option<Duration>,
    /// Why.
    pub reason: WakeReason,
}

impl Wake {
    pub(crate) fn never(reason: WakeReason) -> Wake {
        Wake { at: None, on_change: false, poll: None, reason }
    }

    pub(crate) fn now(now: Time, reason: WakeReason) -> Wake {
        Wake { at: Some(now), on_change: false, poll: None, reason }
    }

    pub(crate) fn on_change(poll: Option<Duration>, reason: WakeReason) -> Wake {
        Wake { at: None, on_change: true, poll, reason }
    }

    pub(crate) fn with_deadline(mut self, at: Option<Time>) -> Wake {
        self.at = match (self.at, at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self
    }

    /// The instant a controller without watches should call again: the exact deadline or `now +
    /// poll`, whichever is earlier. `None` means: only a change to the run itself can matter.
    pub fn next_call(&self, now: Time) -> Option<Time> {
        let polled = self.poll.map(|p| now.add_ceil(p));
        match (self.at, polled) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// [`Wake::next_call`] as a delay from `now` (zero when due), the shape of kube-rs's
    /// `Action::requeue`.
    pub fn requeue_after(&self, now: Time) -> Option<std::time::Duration> {
        self.next_call(now).map(|t| t.since(now).to_std().unwrap_or_default())
    }

    /// Whether nothing more will ever happen for this run without a change to its spec or
    /// metadata (finished, failed, stopped, or waiting in `Initialize`).
    pub fn is_idle(&self) -> bool {
        self.at.is_none() && !self.on_change && self.poll.is_none()
    }
}

/// Why the engine wants to be called again (or not).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WakeReason {
    /// The run was initialized and waits for `spec.state: Run`.
    AwaitingRunState,
    /// A stage succeeded or was skipped; the next one starts on the next reconcile.
    StageCompleted {
        /// The stage.
        stage: String,
    },
    /// Clusters of a stage are updating.
    ClustersUpdating {
        /// The stage.
        stage: String,
        /// The clusters in flight, in update order.
        clusters: Vec<String>,
    },
    /// After-stage tasks are pending.
    AfterStageTasks {
        /// The stage.
        stage: String,
        /// When the TimedWait ends, if one is pending.
        wait_until: Option<Time>,
        /// The approval request awaited, if one is pending.
        approval_request: Option<String>,
    },
    /// A before-stage approval is pending.
    BeforeStageApproval {
        /// The stage.
        stage: String,
        /// The approval request.
        approval_request: String,
    },
    /// The deletion stage waits for bindings to disappear.
    Deleting {
        /// The clusters whose bindings are being deleted.
        clusters: Vec<String>,
    },
    /// The run is stopping and waits for in-flight clusters.
    Stopping {
        /// The stage.
        stage: String,
        /// The clusters still in flight.
        clusters: Vec<String>,
    },
    /// The run is stopped.
    Stopped,
    /// The run succeeded.
    Succeeded,
    /// The run failed (initialization or execution).
    Failed,
    /// The engine asked for a new resource snapshot.
    SnapshotRequested,
    /// A transient problem; call again with backoff.
    Retry {
        /// What went wrong, as KubeFleet's error says it.
        error: String,
    },
    /// The run is being deleted and its cleanup was requested.
    Deleted,
}

impl fmt::Display for WakeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WakeReason::AwaitingRunState => f.write_str("initialized; waiting for spec.state Run"),
            WakeReason::StageCompleted { stage } => write!(f, "stage {stage} completed; next stage starts now"),
            WakeReason::ClustersUpdating { stage, clusters } => {
                write!(f, "stage {stage}: waiting for {} to finish updating", clusters.join(", "))
            }
            WakeReason::AfterStageTasks { stage, wait_until, approval_request } => {
                write!(f, "stage {stage}: waiting for after-stage tasks")?;
                if let Some(t) = wait_until {
                    write!(f, "; TimedWait ends at {t}")?;
                }
                if let Some(r) = approval_request {
                    write!(f, "; approval request {r}")?;
                }
                Ok(())
            }
            WakeReason::BeforeStageApproval { stage, approval_request } => {
                write!(f, "stage {stage}: waiting for approval request {approval_request}")
            }
            WakeReason::Deleting { clusters } => {
                write!(f, "deletion stage: waiting for the bindings of {} to go", clusters.join(", "))
            }
            WakeReason::Stopping { stage, clusters } => {
                write!(f, "stopping in stage {stage}: waiting for {}", clusters.join(", "))
            }
            WakeReason::Stopped => f.write_str("stopped"),
            WakeReason::Succeeded => f.write_str("succeeded"),
            WakeReason::Failed => f.write_str("failed"),
            WakeReason::SnapshotRequested => f.write_str("waiting for the requested resource snapshot"),
            WakeReason::Retry { error } => write!(f, "retrying after an error: {error}"),
            WakeReason::Deleted => f.write_str("deleted"),
        }
    }
}
