//! Validation: every reconcile of an initialized, unfinished run re-checks that the hub still
//! matches what initialization recorded, and finds the stage to work on. A failure here marks
//! only the run failed; stages are left as they are.

use std::collections::BTreeSet;

use crate::api::well_known::condition_types as ct;
use crate::api::{
    ApplyStrategy, UpdateRunStatus, find_condition, is_condition_false, is_condition_true, max_concurrency,
};

use super::failure::{ABORT, Failure, UNEXP, USER};
use super::hub::{Hub, RunRef};
use super::marks::Marker;
use super::memo::PlanCache;
use super::plan::{self, Plan, PlannedStage};
use super::rewrite_stage_generations;

/// Where the run stands: the stage to work on, or done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Position {
    /// A stage index; `stages.len()` is the deletion stage.
    Stage(usize),
    /// Every stage and the deletion stage succeeded.
    Finished,
}

fn unexpected(msg: String) -> Failure {
    Failure::abort(format!("{ABORT}{UNEXP}{msg}"))
}

/// `validate`: returns where the run stands and the plan.
pub(crate) fn validate<'w>(
    run: &RunRef<'_>,
    hub: &Hub<'w>,
    status: &mut UpdateRunStatus,
    mark: &Marker,
    mut cache: Option<&mut PlanCache>,
) -> Result<(Position, Plan<'w>), Failure> {
    let latest_apply = plan::check_placement(hub)?;
    if status.apply_strategy.as_ref() != Some(&latest_apply) {
        return Err(Failure::abort(format!(
            "{ABORT}{USER}the applyStrategy in the updateRun is outdated, latest: {}, recorded: {}",
            ApplyStrategy::go_debug(Some(&latest_apply)),
            ApplyStrategy::go_debug(status.apply_strategy.as_ref())
        )));
    }
    let policy = plan::determine_policy_snapshot(hub, run);
    let latest_policy = policy.result?;
    let latest_index = policy.index.unwrap_or_default();
    if status.policy_snapshot_index_used != latest_index {
        return Err(Failure::abort(format!(
            "{ABORT}the policy snapshot index used in the updateRun is outdated, latest: {latest_index}, recorded: {}",
            status.policy_snapshot_index_used
        )));
    }
    let count = policy.count.unwrap_or(-1);
    if count != -1 && status.policy_observed_cluster_count != count {
        return Err(Failure::abort(format!(
            "{ABORT}the cluster count initialized in the updateRun is outdated, latest: {count}, recorded: {}",
            status.policy_observed_cluster_count
        )));
    }
    let remembered = status
        .update_strategy_snapshot
        .as_ref()
        .and_then(|strategy| cache.as_deref_mut()?.plan(hub.world, latest_policy, strategy));
    let (plan, checked) = match remembered {
        // The remembered plan, and whether the status was read at a version the cache knows
        // passed the per-cluster checks against it.
        Some(plan) => (plan, cache.as_deref_mut().is_some_and(|c| c.has_checked(run))),
        None => {
            let (scheduled, _) = plan::collect_scheduled(hub, latest_policy, count)?;
            let Some(strategy) = status.update_strategy_snapshot.as_ref() else {
                return Err(unexpected("the updateRun has nil updateStrategySnapshot".to_owned()));
            };
            let plan = plan::plan_stages(hub, &run.strategy_key(), strategy, scheduled).map_err(|(f, _)| f)?;
            if let Some(cache) = cache.as_deref_mut() {
                cache.remember_plan(hub.world, latest_policy, strategy, &plan);
            }
            (plan, false)
        }
    };
    let checks = if checked { Checks::StageLevel } else { Checks::All };
    let (position, plan, rewrote) = validate_stages(run, status, plan, mark, checks)?;
    if let Some(cache) = cache {
        cache.validated(rewrote);
    }
    Ok((position, plan))
}

/// How much of the recorded status validation re-checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Checks {
    /// Everything: each stage, and each cluster in it (names against the plan, generations
    /// rewritten, finished stages' clusters succeeded, the updating stage's clusters in flight
    /// within maxConcurrency).
    All,
    /// Each stage only: the status is one the cache knows passed the per-cluster checks against
    /// this very plan, at this generation, and needed no rewrite (see `PlanCache::has_checked`);
    /// checking its clusters again would find nothing and change nothing.
    StageLevel,
}

/// `validateStagesStatus`, with the stages planned from today's world. Also returns whether a
/// stage's generations had to be rewritten.
fn validate_stages<'w>(
    run: &RunRef<'_>,
    status: &mut UpdateRunStatus,
    plan: Plan<'w>,
    mark: &Marker,
    checks: Checks,
) -> Result<(Position, Plan<'w>, bool), Failure> {
    // An empty list is stored as absent, which KubeFleet reads back as nil.
    if status.stages_status.is_empty() {
        return Err(unexpected("the updateRun has nil stagesStatus".to_owned()));
    }
    let (updating, last_finished, mut rewrote) = validate_update_stages(run, status, &plan.stages, mark, checks)?;
    if let Some(delete_stage) = status.deletion_stage_status.as_mut()
        && checks == Checks::All
    {
        let changed = rewrite_stage_generations(delete_stage, run.generation);
        mark.changed(changed);
        rewrote |= changed;
    }
    let position = validate_delete_stage(run, status, updating, last_finished, &plan)?;
    Ok((position, plan, rewrote))
}

/// `validateUpdateStagesStatus` and `validateClusterUpdatingStatus`: recorded stages match
/// today's, finished stages are contiguous from the start, at most one stage is updating. Also
/// returns whether a stage's generations had to be rewritten.
fn validate_update_stages(
    run: &RunRef<'_>,
    status: &mut UpdateRunStatus,
    planned: &[PlannedStage<'_>],
    mark: &Marker,
    checks: Checks,
) -> Result<(Option<usize>, Option<usize>, bool), Failure> {
    let UpdateRunStatus { stages_status: existing, update_strategy_snapshot, .. } = status;
    if existing.len() != planned.len() {
        return Err(Failure::abort(format!(
            "{ABORT}the number of stages in the updateRun has changed, new: {}, existing: {}",
            planned.len(),
            existing.len()
        )));
    }
    let strategy_stages = update_strategy_snapshot.as_ref().map_or(&[][..], |s| s.stages.as_slice());
    let generation = run.generation;
    let mut updating: Option<usize> = None;
    let mut last_finished: Option<usize> = None;
    let mut rewrote = false;
    let each_cluster = checks == Checks::All;
    for (i, (stage, new)) in existing.iter_mut().zip(planned).enumerate() {
        // Each cluster is visited once per reconcile: its generations are rewritten here.
        if each_cluster {
            let changed = rewrite_stage_generations(stage, generation);
            mark.changed(changed);
            rewrote |= changed;
        }
        let stage = &*stage;
        let new_name = strategy_stages.get(i).map_or("", |s| s.name.as_str());
        if stage.stage_name != new_name {
            return Err(Failure::abort(format!(
                "{ABORT}index `{i}` stage name in the updateRun has changed, new: {new_name}, existing: {}",
                stage.stage_name
            )));
        }
        if stage.clusters.len() != new.len() {
            return Err(Failure::abort(format!(
                "{ABORT}the number of clusters in index `{i}` stage has changed, new: {}, existing: {}",
                new.len(),
                stage.clusters.len()
            )));
        }
        if each_cluster
            && let Some((j, (c, (n, _)))) =
                stage.clusters.iter().zip(new.clusters()).enumerate().find(|(_, (c, (n, _)))| c.cluster_name != *n)
        {
            return Err(Failure::abort(format!(
                "{ABORT}the `{j}` cluster in the `{i}` stage has changed, new: {n}, existing: {}",
                c.cluster_name
            )));
        }
        let concurrency = max_concurrency(strategy_stages.get(i).and_then(|s| s.max_concurrency.as_ref()), new.len())
            .map_err(|e| Failure::abort(format!("{ABORT}{e}")))?;

        let next = last_finished.map_or(0, |f| f + 1);
        if is_condition_true(&stage.conditions, ct::SUCCEEDED, generation) {
            if let Some(u) = updating
                && i > u
            {
                return Err(unexpected(format!("the finished stage `{i}` is after the updating stage `{u}`")));
            }
            if each_cluster
                && let Some(c) =
                    stage.clusters.iter().find(|c| !is_condition_true(&c.conditions, ct::SUCCEEDED, generation))
            {
                return Err(unexpected(format!(
                    "cluster `{}` in the finished stage `{}` has not succeeded",
                    c.cluster_name, stage.stage_name
                )));
            }
            if i != next {
                return Err(unexpected(format!(
                    "the finished stage `{}` is not right after the last finished stage with index `{}`",
                    stage.stage_name,
                    go_index(last_finished)
                )));
            }
            last_finished = Some(i);
        } else if is_condition_false(&stage.conditions, ct::SUCCEEDED, generation) {
            let msg = find_condition(&stage.conditions, ct::SUCCEEDED).map_or("", |c| c.message.as_str());
            return Err(Failure::abort(format!("{ABORT}the stage `{}` has failed, err: {msg}", stage.stage_name)));
        } else if find_condition(&stage.conditions, ct::PROGRESSING).is_some() {
            if let Some(u) = updating {
                return Err(unexpected(format!(
                    "the stage `{}` is updating, but there is already a stage with index `{u}` updating",
                    stage.stage_name
                )));
            }
            if i != next {
                return Err(unexpected(format!(
                    "the updating stage `{}` is not right after the last finished stage with index `{}`",
                    stage.stage_name,
                    go_index(last_finished)
                )));
            }
            updating = Some(i);
            if each_cluster {
                let in_flight = stage
                    .clusters
                    .iter()
                    .filter(|c| {
                        is_condition_true(&c.conditions, ct::STARTED, generation)
                            && !is_condition_true(&c.conditions, ct::SUCCEEDED, generation)
                    })
                    .count() as i64;
                if in_flight > concurrency {
                    return Err(unexpected(format!(
                        "the number of updating clusters `{in_flight}` in the updating stage `{}` exceeds maxConcurrency `{concurrency}`",
                        stage.stage_name
                    )));
                }
            }
        }
    }
    Ok((updating, last_finished, rewrote))
}

/// Go's `-1` for "none".
fn go_index(i: Option<usize>) -> i64 {
    i.map_or(-1, |i| i as i64)
}

/// `validateDeleteStageStatus`.
fn validate_delete_stage(
    run: &RunRef<'_>,
    status: &UpdateRunStatus,
    updating: Option<usize>,
    last_finished: Option<usize>,
    plan: &Plan<'_>,
) -> Result<Position, Failure> {
    let Some(delete_stage) = status.deletion_stage_status.as_ref() else {
        return Err(unexpected("the updateRun has nil deletionStageStatus".to_owned()));
    };
    let recorded: BTreeSet<&str> = delete_stage.clusters.iter().map(|c| c.cluster_name.as_str()).collect();
    if let Some(b) = plan.to_delete.iter().find(|b| !recorded.contains(b.spec.target_cluster.as_str())) {
        return Err(unexpected(format!(
            "the cluster `{}` to be deleted is not in the delete stage",
            b.spec.target_cluster
        )));
    }
    let generation = run.generation;
    let total = status.stages_status.len();
    let stages_done = updating.is_none() && last_finished.is_some_and(|f| f + 1 >= total);
    let finished = is_condition_true(&delete_stage.conditions, ct::SUCCEEDED, generation);
    let failed = is_condition_false(&delete_stage.conditions, ct::SUCCEEDED, generation);
    if !stages_done {
        if finished || failed || is_condition_true(&delete_stage.conditions, ct::PROGRESSING, generation) {
            return Err(unexpected(format!(
                "the delete stage is active, but there are still stages updating, updatingStageIndex: {}, lastFinishedStageIndex: {}",
                go_index(updating),
                go_index(last_finished)
            )));
        }
        return Ok(Position::Stage(updating.unwrap_or_else(|| last_finished.map_or(0, |f| f + 1))));
    }
    if finished {
        return Ok(Position::Finished);
    }
    if failed {
        let msg = find_condition(&delete_stage.conditions, ct::SUCCEEDED).map_or("", |c| c.message.as_str());
        return Err(Failure::abort(format!("{ABORT}the delete stage has failed, err: {msg}")));
    }
    Ok(Position::Stage(total))
}
