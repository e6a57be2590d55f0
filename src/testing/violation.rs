//! What the invariant checker reports: which promise broke, for which run, where and when.

use std::fmt;

use crate::api::Time;

/// The nine promises the checker holds a rollout to (see the [module docs](super)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Invariant {
    /// 1. A stage's clusters start only after every earlier stage succeeded with its after-stage
    ///    tasks completed, and after the stage's own before-stage approval.
    StageOrder,
    /// 2. Never more than `maxConcurrency` clusters in flight in a stage.
    MaxConcurrency,
    /// 3. A `TimedWait` is never cut short.
    TimedWait,
    /// 4. No cluster is bound to a snapshot other than the run's.
    Snapshot,
    /// 5. Deletion happens only after all stages succeeded, and only to clusters that are no
    ///    longer selected.
    Deletion,
    /// 6. Nothing recorded regresses.
    NoRegression,
    /// 7. While stopped, no cluster starts and no approval is accepted.
    Stop,
    /// 8. With healthy members and every approval granted, the run terminates within its
    ///    [`StepBound`](super::StepBound).
    Termination,
    /// 9. A run never acts outside its namespace and never counts an approval request of another
    ///    namespace or another run.
    Isolation,
}

impl Invariant {
    /// Every invariant, in number order.
    pub const ALL: [Invariant; 9] = [
        Invariant::StageOrder,
        Invariant::MaxConcurrency,
        Invariant::TimedWait,
        Invariant::Snapshot,
        Invariant::Deletion,
        Invariant::NoRegression,
        Invariant::Stop,
        Invariant::Termination,
        Invariant::Isolation,
    ];

    /// Its number, 1 to 9, as the module docs list them.
    pub fn number(self) -> u8 {
        Invariant::ALL.iter().position(|i| *i == self).map_or(0, |p| p as u8 + 1)
    }

    /// A short name (`max-concurrency`).
    pub fn name(self) -> &'static str {
        match self {
            Invariant::StageOrder => "stage-order",
            Invariant::MaxConcurrency => "max-concurrency",
            Invariant::TimedWait => "timed-wait",
            Invariant::Snapshot => "snapshot",
            Invariant::Deletion => "deletion",
            Invariant::NoRegression => "no-regression",
            Invariant::Stop => "stop",
            Invariant::Termination => "termination",
            Invariant::Isolation => "isolation",
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invariant {} ({})", self.number(), self.name())
    }
}

/// Where a violation happened: the run (`name` or `namespace/name`), the stage and cluster when
/// it concerns one, and the time of the reconcile (or status) that showed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// `name` for a cluster-scoped run, `namespace/name` for a namespaced one.
    pub run: String,
    /// The stage, when the violation concerns one.
    pub stage: Option<String>,
    /// The member cluster, when the violation concerns one.
    pub cluster: Option<String>,
    /// The reconcile's `now` (or the status's time).
    pub at: Time,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run {}", self.run)?;
        if let Some(s) = &self.stage {
            write!(f, ", stage {s}")?;
        }
        if let Some(c) = &self.cluster {
            write!(f, ", cluster {c}")?;
        }
        write!(f, ", at {}", self.at)
    }
}

/// A broken promise. Each variant names its [`Invariant`]; [`Violation::site`] says where.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// Invariant 1: a cluster started (or its binding was written) before its stage's gate
    /// opened.
    StartedEarly {
        /// Where.
        site: Site,
        /// What was still missing.
        missing: String,
    },
    /// Invariant 2: more clusters in flight in a stage than its `maxConcurrency`.
    TooManyInFlight {
        /// Where (the stage).
        site: Site,
        /// Clusters in flight.
        in_flight: usize,
        /// The stage's `maxConcurrency`, scaled to its size.
        max: i64,
    },
    /// Invariant 3: a `TimedWait` was marked elapsed too early.
    WaitCutShort {
        /// Where (the stage).
        site: Site,
        /// The wait, in seconds.
        wait_secs: i64,
        /// How long had passed since the wait's clock started, in seconds.
        waited_secs: i64,
    },
    /// Invariant 4: a binding written with a snapshot other than the run's.
    WrongSnapshot {
        /// Where (the cluster).
        site: Site,
        /// The snapshot the binding was given.
        found: String,
        /// The run's snapshot.
        expected: String,
    },
    /// Invariant 5: a binding deleted too early, or one that is still selected.
    EarlyDeletion {
        /// Where (the cluster).
        site: Site,
        /// Why it was wrong.
        reason: String,
    },
    /// Invariant 6: something recorded was lost or changed.
    Regressed {
        /// Where.
        site: Site,
        /// What regressed.
        what: String,
    },
    /// Invariant 7: progress while the run was stopped.
    ActedWhileStopped {
        /// Where.
        site: Site,
        /// What happened.
        what: String,
    },
    /// Invariant 8: the run did not terminate within its step bound.
    NotTerminated {
        /// Where (the last reconcile seen).
        site: Site,
        /// Reconciles made (until termination, or in all when it never terminated).
        steps: usize,
        /// The bound.
        bound: usize,
        /// How it ended, if it did (`succeeded`, `failed: …`).
        ended: Option<String>,
    },
    /// Invariant 9: an action outside the run's namespace, or an approval of another namespace
    /// or run counted.
    Trespassed {
        /// Where.
        site: Site,
        /// What crossed the line.
        what: String,
    },
}

impl Violation {
    /// The invariant broken.
    pub fn invariant(&self) -> Invariant {
        match self {
            Violation::StartedEarly { .. } => Invariant::StageOrder,
            Violation::TooManyInFlight { .. } => Invariant::MaxConcurrency,
            Violation::WaitCutShort { .. } => Invariant::TimedWait,
            Violation::WrongSnapshot { .. } => Invariant::Snapshot,
            Violation::EarlyDeletion { .. } => Invariant::Deletion,
            Violation::Regressed { .. } => Invariant::NoRegression,
            Violation::ActedWhileStopped { .. } => Invariant::Stop,
            Violation::NotTerminated { .. } => Invariant::Termination,
            Violation::Trespassed { .. } => Invariant::Isolation,
        }
    }

    /// Where it happened.
    pub fn site(&self) -> &Site {
        match self {
            Violation::StartedEarly { site, .. }
            | Violation::TooManyInFlight { site, .. }
            | Violation::WaitCutShort { site, .. }
            | Violation::WrongSnapshot { site, .. }
            | Violation::EarlyDeletion { site, .. }
            | Violation::Regressed { site, .. }
            | Violation::ActedWhileStopped { site, .. }
            | Violation::NotTerminated { site, .. }
            | Violation::Trespassed { site, .. } => site,
        }
    }
}

impl fmt::Display for Violation {
    /// `invariant 2 (max-concurrency): run r, stage s1, at 2025-…: 3 clusters in flight, maxConcurrency 2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: ", self.invariant(), self.site())?;
        match self {
            Violation::StartedEarly { missing, .. } => write!(f, "started before {missing}"),
            Violation::TooManyInFlight { in_flight, max, .. } => {
                write!(f, "{in_flight} clusters in flight, maxConcurrency {max}")
            }
            Violation::WaitCutShort { wait_secs, waited_secs, .. } => {
                write!(f, "TimedWait of {wait_secs}s marked elapsed after {waited_secs}s")
            }
            Violation::WrongSnapshot { found, expected, .. } => {
                write!(f, "bound to {found}, the run rolls out {expected}")
            }
            Violation::EarlyDeletion { reason, .. } => write!(f, "binding deleted {reason}"),
            Violation::Regressed { what, .. } => write!(f, "{what}"),
            Violation::ActedWhileStopped { what, .. } => write!(f, "while stopped: {what}"),
            Violation::NotTerminated { steps, bound, ended, .. } => match ended {
                Some(how) if steps > bound => {
                    write!(f, "{how} after {steps} reconciles, more than the bound {bound}")
                }
                Some(how) => write!(f, "{how} after {steps} reconciles (bound {bound}); it had to succeed"),
                None => write!(f, "not terminated after {steps} reconciles (bound {bound})"),
            },
            Violation::Trespassed { what, .. } => write!(f, "{what}"),
        }
    }
}
