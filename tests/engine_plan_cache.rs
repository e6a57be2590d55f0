//! `PlanCache`: a reconcile through the cache gives exactly what a reconcile without it gives;
//! the remembered plan is reused only while the world still gives it, and the status is checked
//! stage by stage only while it is read at the version the cache knows was checked.

mod common;

use std::sync::Arc;

use common::*;
use staged_rollout::api::well_known::PLACEMENT_TRACKING_LABEL;
use staged_rollout::api::{
    Binding, ClusterStagedUpdateRun, Condition, ConditionStatus, StageConfig, State, Time, UpdateRunObject,
    UpdateRunSpec, UpdateRunStatus, UpdateStrategySpec, is_condition_true,
};
use staged_rollout::{Action, InPlaceOutcome, PlanCache, WakeReason, reconcile_in_place};

const MEMBERS: Members<'static> = &[
    ("a1", &[("env", "canary")]),
    ("a2", &[("env", "canary")]),
    ("b1", &[("env", "prod")]),
    ("b2", &[("env", "prod")]),
    ("b3", &[("env", "prod")]),
];

fn two_stages() -> UpdateStrategySpec {
    strategy(vec![
        StageConfig::new("canary", selector(&[("env", "canary")])),
        StageConfig::new("prod", selector(&[("env", "prod")])),
    ])
}

fn driver() -> Driver<ClusterStagedUpdateRun> {
    cluster_driver(MEMBERS, two_stages(), Some(State::Run))
}

/// One reconcile at `now` through `cache` and one without it, on copies of the run: both must
/// give the same outcome and the same status. The outcome is then carried out as a controller
/// does, the status written at a new `resourceVersion` that the cache is told. Returns the
/// outcome, whether the cache reused its plan, and whether it checked the status stage by stage
/// only.
fn step(d: &mut Driver<ClusterStagedUpdateRun>, cache: &mut PlanCache, now: Time) -> (InPlaceOutcome, bool, bool) {
    let (reused_before, skipped_before) = (cache.reused(), cache.checks_skipped());
    let mut cached = d.run.clone();
    let with = cache.reconcile_in_place(&mut cached, &d.hub.world, now, &d.config).expect("consistent");
    let mut plain = d.run.clone();
    let without = reconcile_in_place(&mut plain, &d.hub.world, now, &d.config).expect("consistent");
    assert_eq!(with, without, "the outcome with the cache differs");
    assert_eq!(cached.status, plain.status, "the status with the cache differs");
    d.hub.apply(&with.actions, d.run.metadata_mut());
    if with.actions.iter().any(|a| matches!(a, Action::AddFinalizer { .. } | Action::RemoveFinalizer { .. })) {
        write(&mut d.run);
    }
    if with.status_changed {
        d.run.status = cached.status;
        cache.persisted(&write(&mut d.run));
    }
    (with, cache.reused() > reused_before, cache.checks_skipped() > skipped_before)
}

/// A write of the run, as an API server answers it: a new `resourceVersion`, returned.
fn write(run: &mut ClusterStagedUpdateRun) -> String {
    let version = run.metadata.resource_version.as_deref().map_or(0, |v| v.parse::<u64>().expect("a number")) + 1;
    run.metadata.resource_version = Some(version.to_string());
    version.to_string()
}

/// A run over [`MEMBERS`] reconciled until it is validated and planned once through its cache;
/// the time of that reconcile.
fn warmed() -> (Driver<ClusterStagedUpdateRun>, PlanCache, i64) {
    let (mut d, mut cache, mut now) = (driver(), PlanCache::new(), 0);
    while !cache.is_warm() {
        now += 1;
        assert!(now < 10, "the cache never became warm");
        step(&mut d, &mut cache, t(now));
    }
    (d, cache, now)
}

#[test]
fn a_rollout_reuses_its_plan_while_only_bindings_progress() {
    let (mut d, mut cache, mut now) = warmed();
    let (mut reconciles, mut reused, mut skipped) = (0, 0, 0);
    loop {
        now += 1;
        let (outcome, hit, stage_level) = step(&mut d, &mut cache, t(now));
        reconciles += 1;
        reused += usize::from(hit);
        skipped += usize::from(stage_level);
        if outcome.wake.is_idle() {
            break;
        }
        // Every started cluster reports available: spec, state and conditions of its binding
        // change, none of what the plan reads.
        report_started(&mut d);
        assert!(reconciles < 50, "the rollout does not end");
    }
    assert_eq!(d.run.status.as_ref().map(|s| s.stages_status.len()), Some(2));
    assert!(is_succeeded(&d.run), "{:#?}", d.run.status);
    // Every reconcile after the warm-up reused the plan, the one that finished the run too, and
    // read the status at the version written last, so checked it stage by stage only.
    assert_eq!(reused, reconciles);
    assert_eq!(skipped, reconciles);
    assert!(reconciles >= 5, "{reconciles}");
}

/// Every cluster whose rollout started reports its binding available.
fn report_started(d: &mut Driver<ClusterStagedUpdateRun>) {
    for cluster in ["a1", "a2", "b1", "b2", "b3"] {
        if d.hub.binding_condition(cluster, "RolloutStarted").is_some() {
            d.hub.available(cluster);
        }
    }
}

fn is_succeeded(run: &ClusterStagedUpdateRun) -> bool {
    run.status.as_ref().is_some_and(|s| is_condition_true(&s.conditions, "Succeeded", run.metadata().generation()))
}

#[test]
fn objects_fetched_again_unchanged_reuse_the_plan() {
    let (mut d, mut cache, now) = warmed();
    // A re-list: every object is a new allocation with the same content.
    for c in &mut d.hub.world.member_clusters {
        *c = Arc::new((**c).clone());
    }
    for b in &mut d.hub.world.bindings {
        *b = Arc::new((**b).clone());
    }
    assert!(step(&mut d, &mut cache, t(now + 1)).1);
    assert!(step(&mut d, &mut cache, t(now + 2)).1);
}

#[test]
fn a_relabelled_cluster_is_planned_again_and_fails_the_run_as_without_the_cache() {
    let (mut d, mut cache, now) = warmed();
    d.hub.relabel("b1", &[("env", "canary")]);
    let (outcome, hit, _) = step(&mut d, &mut cache, t(now + 1));
    assert!(!hit);
    assert_eq!(outcome.wake.reason, WakeReason::Failed);
}

#[test]
fn a_label_the_stages_do_not_select_on_still_plans_again() {
    // Conservative: any label change re-plans (the plan would be the same here).
    let (mut d, mut cache, now) = warmed();
    d.hub.relabel("b1", &[("env", "prod"), ("zone", "z1")]);
    assert!(!step(&mut d, &mut cache, t(now + 1)).1);
    assert!(step(&mut d, &mut cache, t(now + 2)).1, "the new plan is remembered");
}

#[test]
fn an_unscheduled_or_retargeted_binding_is_planned_again() {
    let (mut d, mut cache, now) = warmed();
    d.hub.unschedule("b3");
    assert!(!step(&mut d, &mut cache, t(now + 1)).1);

    let (mut d, mut cache, now) = warmed();
    d.hub.write_binding_spec("b3", |s| s.target_cluster = "a1".into());
    assert!(!step(&mut d, &mut cache, t(now + 1)).1);
}

#[test]
fn reordered_added_or_removed_objects_are_planned_again() {
    type Edit = fn(&mut Driver<ClusterStagedUpdateRun>);
    let edits: [(&str, Edit); 4] = [
        ("members reversed", |d| d.hub.world.member_clusters.reverse()),
        ("bindings reversed", |d| d.hub.world.bindings.reverse()),
        ("a member joins", |d| d.hub.join("b4", &[("env", "prod")])),
        ("a member leaves", |d| d.hub.world.member_clusters.retain(|c| c.name() != "b2")),
    ];
    for (what, edit) in edits {
        let (mut d, mut cache, now) = warmed();
        edit(&mut d);
        assert!(!step(&mut d, &mut cache, t(now + 1)).1, "{what}");
    }
}

#[test]
fn a_new_policy_snapshot_is_planned_again() {
    let (mut d, mut cache, now) = warmed();
    d.hub.add_policy_snapshot(1);
    let (outcome, hit, _) = step(&mut d, &mut cache, t(now + 1));
    assert!(!hit);
    assert_eq!(outcome.wake.reason, WakeReason::Failed);
}

#[test]
fn one_cache_shared_by_two_runs_plans_each_from_scratch() {
    let (mut d, mut cache, mut now) = warmed();
    // Another placement's run over the same objects: before each reconcile both runs see one hub
    // holding both placements' bindings (the same `Arc`s, in the same order), each with its own
    // placement — only the run's placement tells the two apart.
    let mut other = driver();
    other.hub = Hub::with_placement("", "other-crp", MEMBERS, 1);
    other.hub.world.strategy = Some(two_stages());
    other.run = ClusterStagedUpdateRun::new(
        d.hub.meta("other-run"),
        UpdateRunSpec { state: Some(State::Run), ..UpdateRunSpec::new("other-crp", Some("0"), STRATEGY) },
    );
    other.hub.world.member_clusters = d.hub.world.member_clusters.clone();
    let own = |h: &Hub| -> Vec<Arc<Binding>> {
        let placement = Some(h.placement.as_str());
        h.world.bindings.iter().filter(|b| b.metadata.label(PLACEMENT_TRACKING_LABEL) == placement).cloned().collect()
    };
    for _ in 0..3 {
        now += 1;
        other.hub.world.bindings = own(&d.hub).into_iter().chain(own(&other.hub)).collect();
        assert!(!step(&mut other, &mut cache, t(now)).1);
        d.hub.world.bindings = own(&d.hub).into_iter().chain(own(&other.hub)).collect();
        assert!(!step(&mut d, &mut cache, t(now)).1);
    }
}

#[test]
fn a_binding_moved_to_another_policy_snapshot_namespace_or_placement_is_planned_again() {
    type Edit = fn(&mut Binding);
    let edits: [(&str, Edit); 6] = [
        ("policy snapshot", |b| b.spec.scheduling_policy_snapshot_name = "crp-7".into()),
        ("namespace", |b| b.metadata.namespace = Some("elsewhere".into())),
        ("placement label", |b| b.metadata.set_label(PLACEMENT_TRACKING_LABEL, "other-crp")),
        ("placement label removed", |b| {
            b.metadata.labels.as_mut().map(|l| l.remove(PLACEMENT_TRACKING_LABEL));
        }),
        ("name", |b| b.metadata.name = Some("renamed".into())),
        // Its texts moved between fields, all the same when concatenated.
        ("texts shifted", |b| {
            let name = b.metadata.name().to_owned();
            b.metadata.name = Some(name[..name.len() - 1].to_owned());
            b.metadata.namespace = Some(format!("{}{}", &name[name.len() - 1..], b.metadata.namespace()));
        }),
    ];
    for (what, edit) in edits {
        let (mut d, mut cache, now) = warmed();
        edit(d.hub.binding_mut("b2"));
        assert!(!step(&mut d, &mut cache, t(now + 1)).1, "{what}");
    }
}

#[test]
fn the_cache_holds_bindings_weakly_so_a_write_after_the_reconcile_moves_them() {
    let (mut d, mut cache, now) = warmed();
    // The world is the only owner of its bindings; the cache keeps a weak reference to each.
    for b in &d.hub.world.bindings {
        assert_eq!((Arc::strong_count(b), Arc::weak_count(b)), (1, 1), "{}", b.metadata.name());
    }
    // A status write through `Arc::make_mut` moves the binding instead of copying it: it gets
    // a new address and the cache's reference no longer reaches it.
    let before = Arc::as_ptr(&d.hub.world.bindings[0]);
    Arc::make_mut(&mut d.hub.world.bindings[0]).status.get_or_insert_with(Default::default);
    assert_ne!(Arc::as_ptr(&d.hub.world.bindings[0]), before);
    assert_eq!(Arc::weak_count(&d.hub.world.bindings[0]), 0);
    // It is compared on what planning reads, finds the plan unchanged, and is held weakly again.
    assert!(step(&mut d, &mut cache, t(now + 1)).1);
    assert_eq!(Arc::weak_count(&d.hub.world.bindings[0]), 1);
    // Dropped by the world, a binding is freed, whatever the cache remembers of it.
    let last = d.hub.world.bindings.pop().expect("a binding");
    let gone = Arc::downgrade(&last);
    drop(last);
    assert!(gone.upgrade().is_none());
    assert!(!step(&mut d, &mut cache, t(now + 2)).1);
}

#[test]
fn an_impossible_world_is_the_same_error_with_a_warm_cache() {
    let (mut d, mut cache, now) = warmed();
    d.hub.add_member("b2", &[("env", "prod")]);
    let mut cached = d.run.clone();
    let with = cache.reconcile_in_place(&mut cached, &d.hub.world, t(now + 1), &d.config);
    let without = reconcile_in_place(&mut d.run.clone(), &d.hub.world, t(now + 1), &d.config);
    assert_eq!(with, without);
    assert!(with.is_err(), "{with:?}");
}

#[test]
fn a_changed_strategy_snapshot_is_planned_again() {
    let (mut d, mut cache, now) = warmed();
    let status = d.run.status.as_mut().expect("status");
    status.update_strategy_snapshot.as_mut().expect("snapshot").stages[1].sorting_label_key = Some("env".into());
    write(&mut d.run);
    let (outcome, hit, _) = step(&mut d, &mut cache, t(now + 1));
    assert!(!hit);
    // The label is not an integer: planning fails exactly as without the cache.
    assert_eq!(outcome.wake.reason, WakeReason::Failed);
}

#[test]
fn clearing_forgets_the_plan() {
    let (mut d, mut cache, now) = warmed();
    cache.clear();
    assert!(!cache.is_warm());
    assert!(!step(&mut d, &mut cache, t(now + 1)).1);
    assert!(cache.is_warm());
}

/// The warmed run one reconcile on: its status written, the cache told the version.
fn written() -> (Driver<ClusterStagedUpdateRun>, PlanCache, i64) {
    let (mut d, mut cache, now) = warmed();
    report_started(&mut d);
    let (outcome, _, _) = step(&mut d, &mut cache, t(now + 1));
    assert!(outcome.status_changed);
    (d, cache, now + 1)
}

#[test]
fn a_status_edited_since_it_was_written_is_checked_cluster_by_cluster() {
    type Edit = fn(&mut UpdateRunStatus);
    let edits: [(&str, Edit, Option<WakeReason>); 3] = [
        ("a cluster renamed", |s| s.stages_status[1].clusters[0].cluster_name = "zz".into(), Some(WakeReason::Failed)),
        (
            "a finished cluster not succeeded",
            |s| {
                let canary = &mut s.stages_status[0];
                canary.conditions.push(Condition::new(
                    "Succeeded",
                    ConditionStatus::True,
                    1,
                    "StageUpdatingSucceeded",
                    "",
                ));
                canary.clusters[0].conditions.clear();
            },
            Some(WakeReason::Failed),
        ),
        (
            "an old generation",
            |s| {
                s.stages_status[1].clusters[2].conditions.push(Condition::new(
                    "Started",
                    ConditionStatus::True,
                    0,
                    "ClusterUpdatingStarted",
                    "",
                ))
            },
            None,
        ),
    ];
    for (what, edit, fails) in edits {
        let (mut d, mut cache, now) = written();
        edit(d.run.status.as_mut().expect("status"));
        write(&mut d.run);
        // The plan still holds, the status is checked in full: as without the cache (which
        // `step` compares), the edit found and written over.
        let (outcome, hit, stage_level) = step(&mut d, &mut cache, t(now + 1));
        assert!(hit && !stage_level, "{what}");
        assert!(outcome.status_changed, "{what}");
        if let Some(reason) = fails {
            assert_eq!(outcome.wake.reason, reason, "{what}");
        }
    }
}

#[test]
fn a_run_read_at_another_version_or_generation_is_checked_cluster_by_cluster() {
    // A lagging read: the run as it was before the last write.
    let (mut d, mut cache, now) = warmed();
    let before = d.run.clone();
    report_started(&mut d);
    assert!(step(&mut d, &mut cache, t(now + 1)).0.status_changed);
    d.run = before;
    assert!(!step(&mut d, &mut cache, t(now + 2)).2);
    // A spec write: a new generation, every condition rewritten.
    let (mut d, mut cache, now) = written();
    d.set_state(State::Stop);
    write(&mut d.run);
    assert!(!step(&mut d, &mut cache, t(now + 1)).2);
    // A new generation at the same version (no API server does that): checked in full too.
    let (mut d, mut cache, now) = written();
    d.bump_generation();
    assert!(!step(&mut d, &mut cache, t(now + 1)).2);
}

#[test]
fn a_copy_changed_in_memory_and_reconciled_again_does_not_vouch_for_the_stored_status() {
    // The run as stored after a spec write: a new generation and version, and every condition of
    // its status still at the old generation. A reconcile rewrites them in memory; its status is
    // not written (the write fails, or KubeFleet writes nothing while the run is `Initialize`d),
    // and the changed copy is reconciled again: it is at the version read, but it is not the
    // status stored at that version, which the next reconcile reads.
    type Edit = fn(&mut Driver<ClusterStagedUpdateRun>);
    let edits: [(&str, Edit); 2] =
        [("the status write fails", |d| d.bump_generation()), ("initialize", |d| d.set_state(State::Initialize))];
    for (what, edit) in edits {
        let (mut d, mut cache, now) = written();
        edit(&mut d);
        write(&mut d.run);
        let mut copy = d.run.clone();
        cache.reconcile_in_place(&mut copy, &d.hub.world, t(now + 1), &d.config).expect("consistent");
        cache.reconcile_in_place(&mut copy, &d.hub.world, t(now + 2), &d.config).expect("consistent");
        // The stored status is checked in full, as without the cache (which `step` compares).
        assert!(!step(&mut d, &mut cache, t(now + 3)).2, "{what}");
    }
}

#[test]
fn two_runs_of_one_placement_sharing_a_cache_are_each_checked_in_full() {
    // Against the advice of one cache per run, and with versions counted per run (so the two
    // runs' versions coincide): the status the cache knows for one run says nothing of the
    // other's.
    let (mut a, mut cache, mut now) = warmed();
    let mut b = driver();
    b.run.metadata.name = Some("other-run".into());
    for _ in 0..6 {
        now += 1;
        report_started(&mut a);
        report_started(&mut b);
        assert!(!step(&mut b, &mut cache, t(now)).2);
        assert!(!step(&mut a, &mut cache, t(now)).2);
    }
}

#[test]
fn without_the_version_of_its_write_a_changed_status_is_checked_cluster_by_cluster() {
    let (mut d, mut cache, now) = warmed();
    report_started(&mut d);
    let mut cached = d.run.clone();
    let outcome = cache.reconcile_in_place(&mut cached, &d.hub.world, t(now + 1), &d.config).expect("consistent");
    assert!(outcome.status_changed);
    d.hub.apply(&outcome.actions, d.run.metadata_mut());
    d.run.status = cached.status;
    write(&mut d.run); // and `cache.persisted` is not told
    let (_, hit, stage_level) = step(&mut d, &mut cache, t(now + 2));
    assert!(hit && !stage_level);
}
