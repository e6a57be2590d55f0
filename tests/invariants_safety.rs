//! Invariants 1–7 and 9 under fault injection: generated fleets, strategies, runs, member
//! behaviours, event schedules and seeded faults — every fault kind, including the
//! contract-breaking ones (lost and reordered actions) — played in the simulator, every
//! reconcile checked. Each suite stresses one invariant and checks them all.
//!
//! 1,000 cases per suite; `PROPTEST_CASES=N` for more. Failures are minimised by proptest and
//! persisted under `proptest-regressions/` (replayed first on the next run).

mod invariants_support;

use proptest::prelude::*;
use staged_rollout::api::{Duration, StageTask, StageTaskType};
use staged_rollout::sim::Fault;
use staged_rollout::testing::{EventMix, Invariant, Rollout, RolloutParams, rollouts};

use invariants_support::{config, of, violations};

/// Every fault kind, often, and everything else left to the generator.
fn chaos() -> RolloutParams {
    RolloutParams {
        faults: Fault::ALL.to_vec(),
        fault_per_mille: 150,
        max_faults: Some(10),
        ..RolloutParams::default()
    }
}

fn assert_clean(rollout: &Rollout, focus: Invariant) -> Result<(), TestCaseError> {
    let (all, text) = violations(rollout, None);
    prop_assert!(of(&all, focus).is_empty(), "{focus} violated:\n{text}");
    prop_assert!(all.is_empty(), "while testing {focus}:\n{text}");
    Ok(())
}

proptest! {
    #![proptest_config(config("proptest-regressions/invariants_safety.txt"))]

    /// 1. Stage order: approvals before and after stages granted by the schedule only (or
    ///    late, or never), up to three stages, Stop and Run in between.
    #[test]
    fn invariant_1_stage_order(rollout in rollouts(RolloutParams {
        max_stages: 3,
        events: EventMix { approvals: true, stop_resume: true, deleted_approvals: true, ..EventMix::none() },
        max_events: 8,
        ..chaos()
    })) {
        assert_clean(&rollout, Invariant::StageOrder)?;
    }

    /// 2. Max concurrency: up to five clusters in one or two stages, varied agent delays,
    ///    failing and healing members, Stop and Run.
    #[test]
    fn invariant_2_max_concurrency(rollout in rollouts(RolloutParams {
        max_clusters: 5,
        max_stages: 2,
        events: EventMix { failures: true, stop_resume: true, approvals: true, ..EventMix::none() },
        ..chaos()
    })) {
        assert_clean(&rollout, Invariant::MaxConcurrency)?;
    }

    /// 3. TimedWait: every stage waits after its clusters; Stop and Run during the wait, clock
    ///    jitter.
    #[test]
    fn invariant_3_timed_wait(rollout in rollouts(RolloutParams {
        events: EventMix { stop_resume: true, approvals: true, ..EventMix::none() },
        max_events: 8,
        ..chaos()
    }).prop_map(|mut r| {
        for (i, stage) in r.strategy.stages.iter_mut().enumerate() {
            if !stage.after_stage_tasks.iter().any(|t| t.type_ == StageTaskType::TimedWait) {
                stage.after_stage_tasks.push(StageTask::timed_wait(Duration::from_secs(30 + 40 * i as i64)));
            }
        }
        r
    })) {
        assert_clean(&rollout, Invariant::TimedWait)?;
    }

    /// 4. Snapshot: new resource snapshots mid-run, runs pinned to an index or not, two runs on
    ///    one placement.
    #[test]
    fn invariant_4_snapshot(rollout in rollouts(RolloutParams {
        events: EventMix { new_snapshots: true, approvals: true, ..EventMix::none() },
        ..chaos()
    })) {
        assert_clean(&rollout, Invariant::Snapshot)?;
    }

    /// 5. Deletion: clusters join, leave and are relabelled (unscheduled bindings make the
    ///    deletion stage).
    #[test]
    fn invariant_5_deletion(rollout in rollouts(RolloutParams {
        events: EventMix { joins_leaves: true, relabels: true, approvals: true, ..EventMix::none() },
        ..chaos()
    })) {
        assert_clean(&rollout, Invariant::Deletion)?;
    }

    /// 6. No regression: every event kind and every fault, today's KubeFleet or the
    ///    seed-compatible preset, watch-driven or polling.
    #[test]
    fn invariant_6_no_regression(rollout in rollouts(RolloutParams { max_events: 8, vary_engine: true, ..chaos() })) {
        assert_clean(&rollout, Invariant::NoRegression)?;
    }

    /// 7. Stop: many Stops and Runs, runs created stopped or initializing, approvals granted
    ///    while stopped.
    #[test]
    fn invariant_7_stop(rollout in rollouts(RolloutParams {
        events: EventMix { stop_resume: true, approvals: true, ..EventMix::none() },
        max_events: 10,
        vary_engine: true,
        ..chaos()
    })) {
        assert_clean(&rollout, Invariant::Stop)?;
    }

    /// 9. Isolation: approved decoy requests named like the runs' own in another namespace, the
    ///    other scope and for another run; two runs; requests deleted.
    #[test]
    fn invariant_9_isolation(rollout in rollouts(RolloutParams {
        decoy_approvals: true,
        events: EventMix { approvals: true, deleted_approvals: true, stop_resume: true, ..EventMix::none() },
        ..chaos()
    })) {
        assert_clean(&rollout, Invariant::Isolation)?;
    }
}
