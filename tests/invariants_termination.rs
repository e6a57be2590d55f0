//! Invariant 8 under fault injection: with healthy member agents (every apply succeeds, before
//! the stuck threshold) and every approval granted, each run terminates — and succeeds — within
//! its `StepBound`, despite Stops and Runs (a final Run resumes a stopped run) and every fault a
//! contract-keeping fleet can show (`Fault::HONEST`: failed actions, lost answers, duplicated
//! deliveries, failed and conflicting status writes, crashes, stale observations, restarts) and
//! clock jitter. 1,000 cases; `PROPTEST_CASES=N` for more.

mod invariants_support;

use proptest::prelude::*;
use staged_rollout::testing::{Invariant, RolloutParams, Termination, rollouts};

use invariants_support::{config, of, violations};

proptest! {
    #![proptest_config(config("proptest-regressions/invariants_termination.txt"))]

    #[test]
    fn invariant_8_termination(rollout in rollouts(RolloutParams { fault_per_mille: 150, ..RolloutParams::healthy() })) {
        let termination = Termination { external_events: rollout.external_events(), must_succeed: true };
        let (all, text) = violations(&rollout, Some(termination));
        prop_assert!(of(&all, Invariant::Termination).is_empty(), "invariant 8 violated:\n{text}");
        prop_assert!(all.is_empty(), "{text}");
    }
}

/// A schedule's approval names the request the engine created: `<run>-after-<stage>` today,
/// `<run>-<stage>` under the seed-compatible preset. Nobody else approves, so the run succeeds
/// only if the scheduled approvals reach the right requests; and the run sees each approval when
/// it is given (the approval wakes it), not at the schedule's next event.
#[test]
fn scheduled_approvals_name_the_requests_of_each_engine_preset() {
    use std::collections::BTreeMap;

    use staged_rollout::api::{Duration, LabelSelector, StageConfig, StageTask, State, Time, UpdateStrategySpec};
    use staged_rollout::sim::{
        ApprovalPolicy, EnginePreset, EventKind, FleetMember, MemberBehaviour, RunPhase, SnapshotMode,
    };
    use staged_rollout::testing::{ApprovalTask, Rollout, RunPlan, Schedule, ScheduledEvent};

    let mut stage = StageConfig::new("canary", LabelSelector::default());
    stage.before_stage_tasks = vec![StageTask::approval()];
    stage.after_stage_tasks = vec![StageTask::approval()];
    let approve = |task| ScheduledEvent::Approve { run: "run".into(), stage: "canary".into(), task };
    for engine in [EnginePreset::Kubefleet, EnginePreset::SeedCompatible] {
        let rollout = Rollout {
            namespace: None,
            fleet: vec![FleetMember { name: "c1".into(), labels: BTreeMap::new(), delay: None, failure: None }],
            member_defaults: MemberBehaviour::default(),
            strategy: UpdateStrategySpec { stages: vec![stage.clone()], extra: Default::default() },
            runs: vec![RunPlan {
                name: "run".into(),
                state: Some(State::Run),
                resource_snapshot_index: None,
                created_after: Duration::ZERO,
            }],
            approvals: ApprovalPolicy { after: None, ..ApprovalPolicy::default() },
            schedule: Schedule {
                events: vec![
                    (Duration::from_secs(60), approve(ApprovalTask::Before)),
                    (Duration::from_secs(600), approve(ApprovalTask::After)),
                ],
            },
            snapshots: SnapshotMode::OnChange,
            decoy_approvals: true,
            faults: None,
            engine,
            wakeups: Default::default(),
        };
        let (sim, result) = rollout.simulate();
        result.unwrap();
        assert_eq!(sim.run_phase("run"), RunPhase::Succeeded, "{engine:?}");
        let accepted: Vec<(Time, String)> = sim
            .transcript()
            .events
            .into_iter()
            .filter(|e| e.event == EventKind::ApprovalAccepted)
            .map(|e| (e.at, e.approval_request.unwrap_or_default()))
            .collect();
        let after = if engine == EnginePreset::Kubefleet { "run-after-canary" } else { "run-canary" };
        let start = rollout.scenario().settings.start;
        assert_eq!(
            accepted,
            [
                (start.add_ceil(Duration::from_secs(60)), "run-before-canary".to_owned()),
                (start.add_ceil(Duration::from_secs(600)), after.to_owned())
            ],
            "{engine:?}"
        );
        let (_, violations) = rollout.check(None);
        assert!(violations.is_empty(), "{engine:?}: {violations:?}");
    }
}
