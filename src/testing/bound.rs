//! The step bound of invariant 8: how many reconciles a run may take to terminate, derived from
//! its strategy and fleet.

use crate::api::{StageTaskType, UpdateRunStatus, UpdateStrategySpec, max_concurrency};

/// What one stage costs in reconciles (see [`StepBound`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageCost {
    /// `n`: the clusters of the stage.
    pub clusters: usize,
    /// `m`: its `maxConcurrency`, scaled to `n` (at least 1).
    pub max_concurrency: usize,
    /// `b`: whether it has a before-stage `Approval`.
    pub before_approval: bool,
    /// `a`: whether it has an after-stage `Approval`.
    pub after_approval: bool,
    /// `t`: whether it has an after-stage `TimedWait`.
    pub timed_wait: bool,
}

impl StageCost {
    /// `1` for an empty stage (it is skipped, and the next one starts on the next reconcile);
    /// otherwise `2 + ⌈n/m⌉ + n + 2b + 2a + 2t`.
    pub fn steps(&self) -> usize {
        if self.clusters == 0 {
            return 1;
        }
        let batches = self.clusters.div_ceil(self.max_concurrency.max(1));
        2 + batches
            + self.clusters
            + 2 * usize::from(self.before_approval)
            + 2 * usize::from(self.after_approval)
            + 2 * usize::from(self.timed_wait)
    }
}

/// The most reconciles a run may need to terminate (invariant 8), derived from its strategy and
/// fleet, in the simulator's watch-driven mode ([`Wakeups::Exact`](crate::sim::Wakeups::Exact))
/// with healthy member agents (each finishes before the stuck threshold) and every approval
/// granted:
///
/// ```text
/// steps = 4 + s + e + 3f + (D > 0 ? D + 2 : 0) + Σ over stages of cost(stage)
/// cost(stage) = 1                                   when n = 0 (skipped)
///             = 2 + ⌈n/m⌉ + n + 2b + 2a + 2t         otherwise
/// ```
///
/// with `n` the stage's clusters, `m` its scaled `maxConcurrency`, `b`, `a`, `t` one when it has
/// a before-stage approval, an after-stage approval, a `TimedWait`; `D` the clusters of the
/// deletion stage; `s` the changes of `spec.state`; `e` other events a watch delivers to the
/// run (member clusters joining, leaving or relabelled, new resource snapshots, approval
/// requests deleted); `f` the faults injected.
///
/// Why: every reconcile of a run has a cause, and each cause yields at most one reconcile (the
/// simulator, like a controller's work queue, collapses the watch events that arrive while one
/// is pending, and a new engine wake-up replaces the previous timer):
///
/// * 4 — the run's creation; the finalizer and initialization; a requested resource snapshot
///   appearing; the terminal write.
/// * per stage — its start (the previous stage's "completed, wake now" timer); one watch event
///   after each batch of at most `m` bindings the run writes itself (`⌈n/m⌉`); one per member
///   agent reporting back (`n`); per approval the grant and the acceptance; per `TimedWait` its
///   timer and the re-check it supersedes.
/// * the deletion stage — the deletes, one watch event per binding going away (`D`), its end.
/// * `s`, `e` — one watch event each; `f` — a failed reconcile and its retry, plus the resync of
///   a restarted controller (3 per fault).
///
/// The constants are deliberately generous (factors of 2 where a cause may need a second look);
/// the property tests check the bound on thousands of generated rollouts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepBound {
    /// The stages, in order.
    pub stages: Vec<StageCost>,
    /// `D`: clusters of the deletion stage.
    pub deletions: usize,
    /// `s`: changes of `spec.state`.
    pub state_changes: usize,
    /// `e`: other watch events that reach the run.
    pub external_events: usize,
    /// `f`: injected faults.
    pub faults: usize,
}

impl StepBound {
    /// The bound for `strategy` over stages of `stage_sizes` clusters (missing sizes count as
    /// empty stages) and `deletions` clusters to delete.
    pub fn new(strategy: &UpdateStrategySpec, stage_sizes: &[usize], deletions: usize) -> StepBound {
        let stages = strategy
            .stages
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let clusters = stage_sizes.get(i).copied().unwrap_or(0);
                let m = max_concurrency(stage.max_concurrency.as_ref(), clusters).unwrap_or(1).max(1);
                let has = |tasks: &[crate::api::StageTask], t: StageTaskType| tasks.iter().any(|x| x.type_ == t);
                StageCost {
                    clusters,
                    max_concurrency: usize::try_from(m).unwrap_or(usize::MAX),
                    before_approval: has(&stage.before_stage_tasks, StageTaskType::Approval),
                    after_approval: has(&stage.after_stage_tasks, StageTaskType::Approval),
                    timed_wait: has(&stage.after_stage_tasks, StageTaskType::TimedWait),
                }
            })
            .collect();
        StepBound { stages, deletions, state_changes: 0, external_events: 0, faults: 0 }
    }

    /// The bound for the run whose (initialized) status this is: its strategy snapshot, its
    /// stages' clusters and its deletion stage. `None` before initialization.
    pub fn of_status(status: &UpdateRunStatus) -> Option<StepBound> {
        let strategy = status.update_strategy_snapshot.as_ref()?;
        let sizes: Vec<usize> = status.stages_status.iter().map(|s| s.clusters.len()).collect();
        let deletions = status.deletion_stage_status.as_ref().map_or(0, |d| d.clusters.len());
        Some(StepBound::new(strategy, &sizes, deletions))
    }

    /// With `s` changes of `spec.state`.
    pub fn with_state_changes(mut self, s: usize) -> StepBound {
        self.state_changes = s;
        self
    }

    /// With `e` other watch events reaching the run.
    pub fn with_external_events(mut self, e: usize) -> StepBound {
        self.external_events = e;
        self
    }

    /// With `f` injected faults.
    pub fn with_faults(mut self, f: usize) -> StepBound {
        self.faults = f;
        self
    }

    /// The bound, in reconciles of the run.
    pub fn steps(&self) -> usize {
        let deletion = if self.deletions > 0 { self.deletions + 2 } else { 0 };
        4 + self.state_changes
            + self.external_events
            + 3 * self.faults
            + deletion
            + self.stages.iter().map(StageCost::steps).sum::<usize>()
    }
}
