//! Property-based testing of rollouts: generators for fleets, strategies, runs, member
//! behaviours and event schedules, and a checker that says whether a rollout broke a promise.
//! Enabled by the `proptest` feature.
//!
//! # Testing your strategy
//!
//! A strategy is a promise about how a release reaches your fleet: staging before production,
//! at most two clusters at a time, a person approves before production, production waits an
//! hour after staging. This module lets you test that promise — and the engine's handling of
//! it — against every fleet, schedule and fault proptest can think of:
//!
//! 1. **Generate** rollouts around your strategy with [`rollouts`] (or build a [`Rollout`] by
//!    hand): a fleet ([`fleet`]), member agents that are slow, fail or heal
//!    ([`member_behaviour`]), approvals granted or withheld, an event [`schedule`] (Stop and Run,
//!    clusters relabelled, joining and leaving, new resource snapshots, approval requests
//!    deleted) and seeded faults at the controller's boundary ([`RandomFaults`](crate::sim::RandomFaults)).
//! 2. **Play** it in the simulator: [`Rollout::simulate`] records every reconcile.
//! 3. **Check** the transcript with [`check_transcript`] (or a [`Checker`], which also checks
//!    termination): every broken promise comes back as a [`Violation`] that names the
//!    [`Invariant`], the run, the stage, the cluster and the time.
//!
//! ```
//! # #[cfg(feature = "proptest")] {
//! use proptest::prelude::*;
//! use staged_rollout::api::{IntOrString, StageTask};
//! use staged_rollout::testing::{Checker, RolloutParams, Termination, rollouts};
//!
//! let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(8));
//! // Healthy members, every approval granted, honest faults: the run must succeed in time.
//! let params = RolloutParams { max_clusters: 3, max_stages: 2, ..RolloutParams::healthy() };
//! runner
//!     .run(&rollouts(params), |mut rollout| {
//!         // Your strategy: canary one cluster at a time, then an approval before production.
//!         let stages = &mut rollout.strategy.stages;
//!         stages[0].max_concurrency = Some(IntOrString::Int(1));
//!         if let Some(prod) = stages.get_mut(1) {
//!             prod.before_stage_tasks = vec![StageTask::approval()];
//!         }
//!         let termination = Termination { external_events: rollout.external_events(), must_succeed: true };
//!         let (transcript, violations) = rollout.check(Some(termination));
//!         prop_assert!(violations.is_empty(), "{violations:#?}\n{}", transcript.to_json());
//!         Ok(())
//!     })
//!     .unwrap();
//! # }
//! ```
//!
//! In a test file, the same reads as a `proptest!` block:
//!
//! ```text
//! proptest! {
//!     #[test]
//!     fn my_strategy_keeps_its_promises(rollout in rollouts(RolloutParams::default())) {
//!         let (_, violations) = rollout.check(None);
//!         prop_assert!(violations.is_empty(), "{violations:#?}");
//!     }
//! }
//! ```
//!
//! Without the simulator, log what your controller does and check it: a sequence of
//! `(Time, UpdateRunStatus, Vec<Action>)` — each status your controller persisted, the time it
//! computed it and the actions it performed — goes into [`check_statuses`].
//!
//! # The invariants
//!
//! 1. **Stage order** — a stage's clusters start only after every earlier stage succeeded and
//!    its after-stage tasks completed (a skipped, empty stage has none), and after the stage's
//!    own before-stage approval. A binding is written only for a cluster of a stage whose gate
//!    is open, and that cluster is recorded `Started`.
//! 2. **Max concurrency** — a stage never has more clusters `Started` without `Succeeded` than
//!    its `maxConcurrency` scaled to its size.
//! 3. **TimedWait** — `WaitTimeElapsed` is set no earlier than `waitTime` after both the last
//!    cluster of the stage succeeded and the stage's `Progressing` transition the engine
//!    started from (the wait's clock, which a Stop restarts).
//! 4. **Snapshot** — every binding written names `<placement>-<resourceSnapshotIndexUsed>-snapshot`
//!    and its own cluster.
//! 5. **Deletion** — a binding is deleted only when every stage succeeded, and only for a
//!    cluster of the deletion stage that is in no update stage.
//! 6. **No regression** — between the status the engine started from and the one it computed,
//!    and between consecutive persisted statuses: `Initialized` and the run's `Succeeded` stay;
//!    `resourceSnapshotIndexUsed` never changes once set; no stage or cluster disappears; stage
//!    `startTime`/`endTime` never change once set; a succeeded stage stays succeeded; a
//!    cluster's `Started`/`Succeeded` stay; a completed task (approval accepted, wait elapsed)
//!    stays completed.
//! 7. **Stop** — a reconcile that observed `spec.state: Stop` (or computed a stopping or
//!    stopped run) writes no binding, deletes none, accepts no approval, starts no cluster and
//!    records no approval.
//! 8. **Termination** — with healthy members and every approval granted, a run reaches a
//!    terminal status within its [`StepBound`] reconciles (and succeeds, unless told otherwise):
//!    `4 + s + e + 3f + (D > 0 ? D + 2 : 0) + Σ cost(stage)`, `cost = 1` for an empty stage and
//!    `2 + ⌈n/m⌉ + n + 2b + 2a + 2t` otherwise; see [`StepBound`] for the symbols and the
//!    derivation.
//! 9. **Isolation** — every action stays in the run's namespace and scope (bindings, approval
//!    requests, snapshots, the run's own finalizer), approval requests are created for this run,
//!    cleanup deletes only this run's requests, and an approval is counted only when an
//!    approved request of this run and stage, in its namespace, backs it.
//!
//! Invariants 1–7 and 9 are checked on every reconcile; 8 on the whole run when asked
//! ([`Checker::expect_termination`]). From events alone (a transcript read back from JSON) the
//! checker sees 4, 6 and 7 as far as events show them.
//!
//! # Faults
//!
//! [`RandomFaults`](crate::sim::RandomFaults) in the simulator's settings inject, per reconcile
//! and seeded: failed, lost, duplicated and reordered actions, failed and conflicting status
//! writes, crashes before the status write, stale observations, controller restarts that
//! resume from the persisted status alone, and clock jitter that never goes backwards.
//! Two runs on one placement come from [`RolloutParams::two_runs`].

mod bound;
mod generators;
mod invariants;
mod model;
mod rollout;
mod schedule;
mod violation;

pub use bound::{StageCost, StepBound};
pub use generators::{
    EventMix, GROUP_LABEL, ORDER_LABEL, RolloutParams, StrategyDefect, after_stage_tasks, cluster_labels, cluster_name,
    fleet, max_concurrency, member_behaviour, member_failure, near_valid_strategy, rollouts, schedule, stage_name,
    valid_strategy,
};
pub use invariants::{Checker, Termination, check_records, check_statuses, check_transcript};
pub use model::ModelHub;
pub use rollout::{NAMESPACE, PLACEMENT, Rollout, RunPlan, STRATEGY};
pub use schedule::{ApprovalTask, Schedule, ScheduledEvent, SnapshotSource};
pub use violation::{Invariant, Site, Violation};
