//! The checker itself: a clean rollout passes; each invariant's violation, planted in an
//! otherwise clean history, is reported as that invariant with its run, stage, cluster and time;
//! the `(Time, UpdateRunStatus, Vec<Action>)` form and event-only transcripts work; every
//! near-valid strategy fails its run with the expected message and breaks no invariant.

mod invariants_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use staged_rollout::api::well_known::condition_types as ct;
use staged_rollout::api::{
    BindingSpec, BindingState, ConditionStatus, Duration, IntOrString, LabelSelector, StageConfig, StageTask, State,
    Time, UpdateStrategySpec, find_condition,
};
use staged_rollout::sim::{ReconcileRecord, Transcript};
use staged_rollout::testing::{
    Checker, Invariant, ModelHub, RolloutParams, StepBound, StrategyDefect, Termination, Violation, check_records,
    check_statuses, check_transcript, near_valid_strategy, rollouts,
};
use staged_rollout::{Action, ObjectRef};

fn labels(group: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("group".to_owned(), group.to_owned())])
}

fn selecting(name: &str, group: &str) -> StageConfig {
    StageConfig::new(name, LabelSelector { match_labels: Some(labels(group)), ..Default::default() })
}

/// `canary` (c1, c2, one at a time, then a 60 s wait) and `prod` (c3, behind an approval); c4's
/// binding is unscheduled, so the deletion stage removes it.
fn hub() -> ModelHub {
    let mut canary = selecting("canary", "canary");
    canary.max_concurrency = Some(IntOrString::Int(1));
    canary.after_stage_tasks = vec![StageTask::timed_wait(Duration::from_secs(60))];
    let mut prod = selecting("prod", "prod");
    prod.before_stage_tasks = vec![StageTask::approval()];
    let strategy = UpdateStrategySpec { stages: vec![canary, prod], extra: Default::default() };
    let clusters: Vec<(String, BTreeMap<String, String>)> =
        [("c1", "canary"), ("c2", "canary"), ("c3", "prod"), ("c4", "prod")]
            .iter()
            .map(|(c, g)| (c.to_string(), labels(g)))
            .collect();
    let mut hub = ModelHub::new(None, strategy, &clusters, Some(State::Run), Time::from_unix_seconds(1_700_000_000));
    let c4 = hub.world.bindings.iter_mut().find(|b| b.spec.target_cluster == "c4").map(Arc::make_mut).unwrap();
    c4.spec.state = BindingState::Unscheduled;
    hub
}

/// The prompt environment to the end: a clean history.
fn clean() -> ModelHub {
    let mut hub = hub();
    for _ in 0..100 {
        hub.reconcile().unwrap();
        if hub.is_terminal() {
            return hub;
        }
        for c in hub.in_flight() {
            hub.complete(&c, false);
        }
        for r in hub.pending_approvals() {
            hub.approve(&r);
        }
        match hub.wake.as_ref().and_then(|w| w.at) {
            Some(at) if at > hub.now => hub.now = at,
            _ => hub.advance(Duration::from_secs(5)),
        }
    }
    panic!("no termination");
}

fn only(violations: &[Violation], invariant: Invariant) -> &Violation {
    assert!(!violations.is_empty(), "expected a violation of {invariant}");
    assert!(violations.iter().all(|v| v.invariant() == invariant), "{violations:#?}");
    &violations[0]
}

fn first_with(records: &[ReconcileRecord], pred: impl Fn(&ReconcileRecord) -> bool) -> usize {
    records.iter().position(pred).expect("such a reconcile")
}

/// The first reconcile that writes a binding's spec.
fn first_binding_write(records: &[ReconcileRecord]) -> usize {
    first_with(records, |r| r.actions.iter().any(|a| matches!(a, Action::UpdateBinding { .. })))
}

/// Edits every binding spec write of `record`: the binding written and its new spec.
fn edit_binding_writes(record: &mut ReconcileRecord, mut edit: impl FnMut(&mut ObjectRef, &mut BindingSpec)) {
    for a in &mut record.actions {
        if let Action::UpdateBinding { binding, spec, .. } = a {
            edit(binding, spec);
        }
    }
}

#[test]
fn a_clean_rollout_passes_every_invariant_within_its_bound() {
    let hub = clean();
    let status = hub.run.status().unwrap();
    assert!(find_condition(&status.conditions, ct::SUCCEEDED).is_some_and(|c| c.status == ConditionStatus::True));
    let checker = Checker::new().expect_termination(Termination { external_events: 0, must_succeed: true });
    assert_eq!(checker.check_records(&hub.records), vec![]);
    let bound = StepBound::of_status(status).unwrap();
    // 4 + canary (2 + 2 batches + 2 clusters + a wait 2) + prod (2 + 1 + 1 + approval 2) + deletion (1 + 2)
    assert_eq!(bound.steps(), 4 + 8 + 6 + 3);
    assert!(hub.records.len() <= bound.steps(), "{} reconciles", hub.records.len());
}

#[test]
fn invariant_1_a_cluster_started_before_its_stage_opened() {
    let mut records = clean().records;
    // Mark prod's c3 started while canary still runs.
    let i = first_with(&records, |r| {
        r.actions.iter().any(|a| matches!(a, Action::UpdateBinding { cluster, .. } if cluster == "c1"))
    });
    let mut c3 = records[i].status.stages_status[1].clusters[0].clone();
    c3.conditions = records[i].status.stages_status[0].clusters[0].conditions.clone();
    records[i].status.stages_status[1].clusters[0] = c3;
    let v = check_records(&records[..=i]);
    let v = only(&v, Invariant::StageOrder);
    assert_eq!(v.site().stage.as_deref(), Some("prod"));
    assert_eq!(v.site().cluster.as_deref(), Some("c3"));
    assert!(v.to_string().starts_with("invariant 1 (stage-order): run run, stage prod, cluster c3, at "), "{v}");
}

#[test]
fn invariant_2_two_clusters_in_flight_with_max_concurrency_1() {
    let mut records = clean().records;
    let i = first_with(&records, |r| {
        r.actions.iter().any(|a| matches!(a, Action::UpdateBinding { cluster, .. } if cluster == "c1"))
    });
    let started = records[i].status.stages_status[0].clusters[0].clone();
    records[i].status.stages_status[0].clusters[1].conditions = started.conditions.clone();
    let v = check_records(&records[..=i]);
    assert!(v.iter().any(|v| matches!(v, Violation::TooManyInFlight { in_flight: 2, max: 1, .. })), "{v:#?}");
}

#[test]
fn invariant_3_a_wait_marked_elapsed_early() {
    let mut records = clean().records;
    let i = first_with(&records, |r| {
        r.status.stages_status[0].after_stage_task_status[0].conditions.iter().any(|c| c.type_ == ct::WAIT_TIME_ELAPSED)
    });
    let early = records[i].at.since(Time::from_unix_seconds(0)).as_secs_ceil() - 30;
    let at = Time::from_unix_seconds(early);
    records[i].at = at;
    for c in &mut records[i].status.stages_status[0].after_stage_task_status[0].conditions {
        c.last_transition_time = Some(at);
    }
    let v = check_records(&records[..=i]);
    let v = only(&v, Invariant::TimedWait);
    assert!(matches!(v, Violation::WaitCutShort { wait_secs: 60, waited_secs: 30, .. }), "{v:#?}");
}

#[test]
fn invariant_4_a_binding_written_with_another_snapshot() {
    let mut records = clean().records;
    let i = first_binding_write(&records);
    edit_binding_writes(&mut records[i], |_, spec| spec.resource_snapshot_name = "web-7-snapshot".into());
    let v = check_records(&records);
    let v = only(&v, Invariant::Snapshot);
    assert!(v.to_string().contains("bound to web-7-snapshot (target c1), the run rolls out web-0-snapshot"), "{v}");
}

#[test]
fn invariant_5_a_deletion_before_the_last_stage_or_of_a_selected_cluster() {
    let records = clean().records;
    let i = first_with(&records, |r| r.actions.iter().any(|a| matches!(a, Action::DeleteBinding { .. })));
    let delete = records[i].actions.iter().find(|a| matches!(a, Action::DeleteBinding { .. })).unwrap().clone();
    // The same delete, early.
    let mut early = records.clone();
    early[1].actions.push(delete.clone());
    only(&check_records(&early), Invariant::Deletion);
    // A delete of a selected cluster, at the right time.
    let mut selected = records.clone();
    if let Action::DeleteBinding { binding, .. } = &delete {
        let mut binding = binding.clone();
        binding.name = "web-c3".into();
        selected[i].actions.push(Action::DeleteBinding { binding, cluster: "c3".into() });
    }
    let v = check_records(&selected);
    assert!(only(&v, Invariant::Deletion).to_string().contains("still selected"), "{v:#?}");
}

#[test]
fn invariant_6_a_succeeded_cluster_that_is_no_longer_succeeded() {
    let mut records = clean().records;
    let last = records.len() - 1;
    records[last].status.stages_status[0].clusters[1].conditions.retain(|c| c.type_ != ct::SUCCEEDED);
    records[last].status.stages_status[0].start_time = Some(Time::from_unix_seconds(0));
    let v = check_records(&records);
    assert!(v.iter().all(|v| v.invariant() == Invariant::NoRegression), "{v:#?}");
    let text: Vec<String> = v.iter().map(ToString::to_string).collect();
    assert!(text.iter().any(|t| t.contains("cluster c2") && t.contains("Succeeded=True was lost")), "{text:#?}");
    assert!(text.iter().any(|t| t.contains("startTime changed")), "{text:#?}");
}

#[test]
fn invariant_7_progress_while_stopped() {
    let mut records = clean().records;
    let i = first_binding_write(&records);
    records[i].state = Some(State::Stop);
    let v = check_records(&records);
    let v = only(&v, Invariant::Stop);
    assert!(v.to_string().contains("while stopped"), "{v}");
}

#[test]
fn invariant_8_a_run_cut_off_before_its_end() {
    let records = clean().records;
    let checker = Checker::new().expect_termination(Termination::default());
    let v = checker.check_records(&records[..records.len() - 1]);
    assert!(matches!(only(&v, Invariant::Termination), Violation::NotTerminated { ended: None, .. }), "{v:#?}");
}

#[test]
fn invariant_9_another_namespace_and_an_approval_of_another_run() {
    let mut records = clean().records;
    let i = first_binding_write(&records);
    edit_binding_writes(&mut records[i], |binding, _| binding.namespace = "elsewhere".into());
    let v = check_records(&records);
    assert!(only(&v, Invariant::Isolation).to_string().contains("elsewhere"), "{v:#?}");
    // The prod approval counted, but the only approved request targets another run.
    let mut records = clean().records;
    let i = first_with(&records, |r| {
        r.status.stages_status[1].before_stage_task_status[0]
            .conditions
            .iter()
            .any(|c| c.type_ == ct::APPROVAL_REQUEST_APPROVED)
    });
    for a in &mut records[i].approvals {
        a.spec.target_update_run = "another-run".into();
    }
    let v = check_records(&records);
    assert!(only(&v, Invariant::Isolation).to_string().contains("counted approval request run-before-prod"), "{v:#?}");
}

#[test]
fn statuses_with_times_and_actions_are_enough_for_most_invariants() {
    let hub = clean();
    let history: Vec<(Time, _, Vec<Action>)> =
        hub.records.iter().filter(|r| r.persisted).map(|r| (r.at, r.status.clone(), r.actions.clone())).collect();
    assert_eq!(check_statuses(&hub.run_ref(), Some("web"), history.clone()), vec![]);
    let mut broken = history;
    let last = broken.len() - 1;
    broken[last].1.stages_status[1].clusters[0].conditions.clear();
    let v = check_statuses(&hub.run_ref(), None, broken);
    only(&v, Invariant::NoRegression);
}

#[test]
fn a_transcript_read_back_from_json_is_checked_by_its_events() {
    let rollout = {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        use proptest::strategy::ValueTree;
        rollouts(RolloutParams::healthy()).new_tree(&mut runner).unwrap().current()
    };
    let (sim, result) = rollout.simulate();
    result.unwrap();
    let transcript = sim.transcript();
    assert!(!transcript.reconciles.is_empty());
    let read: Transcript = serde_json::from_str(&transcript.to_json()).unwrap();
    assert!(read.reconciles.is_empty(), "reconcile records are not serialized");
    assert_eq!(check_transcript(&read), vec![]);
    assert_eq!(check_transcript(&transcript), vec![]);
    // A cluster that succeeds twice means its success was lost in between.
    let mut doubled = read.clone();
    let twice = doubled.events.iter().find(|e| e.event.as_str() == "cluster-succeeded").cloned();
    if let Some(e) = twice {
        doubled.events.push(e);
        only(&check_transcript(&doubled), Invariant::NoRegression);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..invariants_support::config("proptest-regressions/invariants_checker.txt") })]

    /// Every near-valid strategy fails the run at initialization with its message, and breaks
    /// no invariant on the way.
    #[test]
    fn near_valid_strategies_fail_the_run_with_their_message(
        rollout in rollouts(RolloutParams { near_valid: false, faults: vec![], decoy_approvals: false, ..RolloutParams::healthy() }),
        (strategy, defect) in (1usize..=3).prop_flat_map(near_valid_strategy),
    ) {
        let mut rollout = rollout;
        // Every cluster in stage s0, which every strategy has.
        for m in &mut rollout.fleet {
            m.labels.insert("group".into(), "g0".into());
        }
        rollout.strategy = strategy;
        rollout.schedule.events.clear();
        let (sim, result) = rollout.simulate();
        prop_assert!(result.is_ok(), "{result:?}");
        let transcript = sim.transcript();
        prop_assert_eq!(check_transcript(&transcript), vec![]);
        let failed: Vec<String> = transcript
            .events
            .iter()
            .filter(|e| e.event.as_str() == "run-failed")
            .filter_map(|e| e.detail.clone())
            .collect();
        prop_assert!(
            failed.iter().any(|m| m.contains(defect.message_fragment())),
            "{defect:?}: expected a failure containing `{}`, got {failed:#?}", defect.message_fragment()
        );
    }
}

#[test]
fn every_defect_is_generated() {
    assert_eq!(StrategyDefect::ALL.len(), 13);
}
