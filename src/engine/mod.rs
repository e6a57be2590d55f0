//! The engine: one pure function, [`reconcile`], from (run, world, now, config) to [`Outcome`].
//!
//! It follows KubeFleet's reconcile loop step by step (see `REFERENCE.md` in the project and
//! KubeFleet's `pkg/controllers/updaterun`): rewrite condition generations, strip Approval wait
//! times, handle deletion, ensure the finalizer, initialize or validate, then execute, stop or
//! wait according to `spec.state`. Where KubeFleet would write the status, the outcome carries
//! the status it would have written; where it would not (a retriable error, a terminal run), the
//! outcome carries the status unchanged.

mod execute;
mod failure;
mod hub;
mod index;
mod init;
mod marks;
mod memo;
mod plan;
mod validation;

use crate::action::{Action, ObjectRef};
use crate::api::well_known::{self, condition_types as ct};
use crate::api::{
    ObjectMeta, Scope, StageUpdatingStatus, State, Time, UpdateRunObject, UpdateRunSpec, UpdateRunStatus,
    is_condition_false, is_condition_true,
};
use crate::config::Config;
use crate::wake::{Wake, WakeReason};
use crate::world::World;

use execute::{Ctx, StepEnd};
use failure::{Failure, UNEXP};
use hub::{Hub, RunRef};
pub(crate) use index::{FastMap, FastSet};
use init::InitStop;
use marks::Marker;
pub use memo::PlanCache;
use validation::Position;

/// The result of one [`reconcile`].
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The status after this reconcile: what KubeFleet's controller would have written, or the
    /// input status unchanged when it would have written nothing.
    pub status: UpdateRunStatus,
    /// Whether `status` must be written (it changed, and KubeFleet would write it).
    pub status_changed: bool,
    /// The side effects to perform, in order, before persisting the status.
    pub actions: Vec<Action>,
    /// When to call again, and why.
    pub wake: Wake,
}

/// The result of one [`reconcile_in_place`]: an [`Outcome`] whose status is in the run.
#[derive(Clone, Debug, PartialEq)]
pub struct InPlaceOutcome {
    /// Whether the run's status must be written (it changed, and KubeFleet would write it).
    pub status_changed: bool,
    /// Whether the run's status in memory differs from the one passed in at all: it changed, or
    /// KubeFleet's normalizations rewrote it on a path where KubeFleet writes nothing (see
    /// [`reconcile_in_place`]). When false, the run is still exactly the one read, so a caller
    /// that keeps it may keep treating it as the stored object at its `resourceVersion`.
    pub status_modified: bool,
    /// The side effects to perform, in order, before persisting the status.
    pub actions: Vec<Action>,
    /// When to call again, and why.
    pub wake: Wake,
}

/// Input that no API server could have produced. A rollout problem is never an `EngineError`:
/// it is written into the status as KubeFleet writes it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// `World::placement` is not the placement the run names.
    #[error("the world's placement is {found}, but the run names {expected}")]
    PlacementMismatch {
        /// `namespace/name` the run names (`/name` when cluster-scoped).
        expected: String,
        /// `namespace/name` of the world's placement.
        found: String,
    },
    /// Two objects of one kind share a name.
    #[error("the world holds two {kind} objects named {name}")]
    DuplicateObject {
        /// What kind of object.
        kind: &'static str,
        /// The duplicated name.
        name: String,
    },
}

/// Reconciles one run: returns the next status, the actions to perform and when to call again.
///
/// * `run` — a [`ClusterStagedUpdateRun`](crate::api::ClusterStagedUpdateRun) or
///   [`StagedUpdateRun`](crate::api::StagedUpdateRun), as last persisted.
/// * `world` — what the caller observed on the hub (see [`World`]).
/// * `now` — the current time. It must not go backwards between calls for one run: the engine
///   measures waits and stuck clusters from times it wrote earlier.
/// * `config` — [`Config::default`] behaves as today's KubeFleet.
///
/// Pure: no clock, no randomness, no I/O; the same input gives the same output, byte for byte.
/// Idempotent: calling again with the same world yields the same status and only the actions
/// still needed. This copies the run's status; [`reconcile_in_place`] is the same without the
/// copy, for large fleets.
pub fn reconcile<R: UpdateRunObject + ?Sized>(
    run: &R,
    world: &World,
    now: Time,
    config: &Config,
) -> Result<Outcome, EngineError> {
    let mut status = run.status().cloned().unwrap_or_default();
    let step = reconcile_status(run.metadata(), run.spec(), R::SCOPE, R::KIND, &mut status, world, now, config, None)?;
    let status = if step.status_changed { status } else { run.status().cloned().unwrap_or_default() };
    Ok(Outcome { status, status_changed: step.status_changed, actions: step.actions, wake: step.wake })
}

/// [`reconcile`] without copying the status: the run's status is updated in place.
///
/// When [`InPlaceOutcome::status_changed`] is false there is nothing to write; the in-memory status may
/// still carry the normalizations KubeFleet applies on every reconcile (condition generations
/// rewritten to the run's, Approval wait times stripped), which the next write persists anyway.
/// If applying an action fails, do not persist the status; read the run again.
///
/// Reconciling one run again and again over a large fleet? [`PlanCache::reconcile_in_place`] is
/// this, reusing the stage plan between calls.
pub fn reconcile_in_place<R: UpdateRunObject + ?Sized>(
    run: &mut R,
    world: &World,
    now: Time,
    config: &Config,
) -> Result<InPlaceOutcome, EngineError> {
    reconcile_run(run, world, now, config, None)
}

/// [`reconcile_in_place`], through `cache` when there is one.
fn reconcile_run<R: UpdateRunObject + ?Sized>(
    run: &mut R,
    world: &World,
    now: Time,
    config: &Config,
    cache: Option<&mut PlanCache>,
) -> Result<InPlaceOutcome, EngineError> {
    let (metadata, spec, status) = run.parts_mut();
    let created = status.is_none();
    let status = status.get_or_insert_with(UpdateRunStatus::default);
    let mut outcome = reconcile_status(metadata, spec, R::SCOPE, R::KIND, status, world, now, config, cache)?;
    // A run read without a status now has an empty one.
    outcome.status_modified |= created;
    Ok(outcome)
}

/// The engine proper: KubeFleet's `Reconcile` on a borrowed status. With a cache, the member
/// clusters' and bindings' lists and the stage plan are reused when the world still gives them.
#[allow(clippy::too_many_arguments)]
fn reconcile_status(
    meta: &ObjectMeta,
    spec: &UpdateRunSpec,
    scope: Scope,
    kind: &'static str,
    status: &mut UpdateRunStatus,
    world: &World,
    now: Time,
    config: &Config,
    mut cache: Option<&mut PlanCache>,
) -> Result<InPlaceOutcome, EngineError> {
    let run_ref = RunRef {
        name: meta.name(),
        namespace: meta.namespace(),
        generation: meta.generation(),
        resource_version: meta.resource_version.as_deref(),
        placement_name: &spec.placement_name,
        strategy_name: &spec.staged_update_strategy_name,
        resource_snapshot_index: spec.resource_snapshot_index(),
        scope,
    };
    let hub = match cache.as_deref_mut().and_then(|c| c.refresh(world, &run_ref)) {
        Some(memo) => Hub::remembered(world, &run_ref, memo)?,
        None => {
            let hub = Hub::new(world, &run_ref)?;
            if let Some(c) = cache.as_deref_mut() {
                c.remember_lists(&hub, &run_ref);
            }
            hub
        }
    };
    let run_object = ObjectRef::new(kind, run_ref.namespace, run_ref.name);
    let mut actions = Vec::new();
    let mark = Marker::new(now, run_ref.generation);
    // What to return when KubeFleet would not write the status.
    let unwritten = |actions, wake| {
        Ok(InPlaceOutcome { status_changed: false, status_modified: mark.has_changed(), actions, wake })
    };
    // What to return when it would.
    let written = |actions, wake| {
        let changed = mark.has_changed();
        Ok(InPlaceOutcome { status_changed: changed, status_modified: changed, actions, wake })
    };

    if meta.is_deleting() {
        actions.push(Action::DeleteApprovalRequests {
            kind: approval_kind(scope).to_owned(),
            namespace: run_ref.namespace.to_owned(),
            labels: [(well_known::TARGET_UPDATE_RUN_LABEL.to_owned(), run_ref.name.to_owned())].into(),
        });
        if meta.has_finalizer(well_known::UPDATE_RUN_FINALIZER) {
            actions.push(Action::RemoveFinalizer { run: run_object, resource_version: meta.resource_version.clone() });
        }
        return unwritten(actions, Wake::never(WakeReason::Deleted));
    }
    if !meta.has_finalizer(well_known::UPDATE_RUN_FINALIZER) {
        actions.push(Action::AddFinalizer { run: run_object, resource_version: meta.resource_version.clone() });
    }

    // KubeFleet rewrites every condition's observedGeneration first. The run's own conditions
    // decide the path; a stage's conditions are rewritten when validation reaches the stage (each
    // cluster is visited once per reconcile), and everything is rewritten on any other path that
    // writes the status.
    mark.changed(rewrite_run_generations(status, run_ref.generation));
    if let Some(snapshot) = status.update_strategy_snapshot.as_mut() {
        mark.changed(plan::strip_approval_wait_times(snapshot));
    }
    let state = spec.state.clone().unwrap_or_else(|| config.missing_state.clone());
    let generation = run_ref.generation;

    // Initialize or validate: where does the run stand?
    let (position, plan, initialized) = if !is_condition_true(&status.conditions, ct::INITIALIZED, generation) {
        if is_condition_false(&status.conditions, ct::INITIALIZED, generation) {
            return unwritten(actions, Wake::never(WakeReason::Failed));
        }
        mark.changed(rewrite_generations(status, generation));
        // Initialization runs once, on a small status: work on a copy so that a retriable
        // failure leaves nothing behind, as KubeFleet's discarded in-memory object does.
        let mut fresh = status.clone();
        match init::initialize(&run_ref, &hub, config, &mut fresh) {
            Ok(plan) => {
                mark.run_initialized(&mut fresh);
                mark.changed(true);
                *status = fresh;
                (Position::Stage(0), plan, true)
            }
            Err(InitStop::Failure(Failure::Abort(msg))) => {
                mark.run_initialize_failed(&mut fresh, &msg);
                mark.changed(true);
                *status = fresh;
                return written(actions, Wake::never(WakeReason::Failed));
            }
            Err(InitStop::Failure(Failure::Retry(error))) => {
                return unwritten(actions, retry_wake(config, error));
            }
            Err(InitStop::NeedSnapshot(action)) => {
                actions.push(*action);
                let wake = Wake::on_change(Some(config.cluster_updating_interval), WakeReason::SnapshotRequested);
                return unwritten(actions, wake);
            }
        }
    } else {
        if is_condition_true(&status.conditions, ct::SUCCEEDED, generation) {
            return unwritten(actions, Wake::never(WakeReason::Succeeded));
        }
        if is_condition_false(&status.conditions, ct::SUCCEEDED, generation) {
            return unwritten(actions, Wake::never(WakeReason::Failed));
        }
        match validation::validate(&run_ref, &hub, status, &mark, cache) {
            Ok((position, plan)) => (position, plan, false),
            Err(Failure::Abort(msg)) => {
                mark.changed(rewrite_generations(status, generation));
                mark.run_failed(status, &msg);
                return written(actions, Wake::never(WakeReason::Failed));
            }
            Err(Failure::Retry(error)) => {
                return unwritten(actions, retry_wake(config, error));
            }
        }
    };

    let stage_index = match position {
        Position::Finished => {
            mark.run_succeeded(status);
            return written(actions, Wake::never(WakeReason::Succeeded));
        }
        Position::Stage(i) => i,
    };

    let mut ctx = Ctx {
        run: &run_ref,
        hub: &hub,
        config,
        mark: &mark,
        state: &state,
        actions,
        retry: None,
        rollout_started_message: None,
    };
    let end = match &state {
        State::Initialize => {
            // Initialization wrote the status; a run merely waiting writes nothing.
            let wake = Wake::never(WakeReason::AwaitingRunState);
            return if initialized { written(ctx.actions, wake) } else { unwritten(ctx.actions, wake) };
        }
        State::Run => ctx.execute(status, stage_index, &plan),
        State::Stop => ctx.stop(status, stage_index, &plan),
        State::Unknown(other) => {
            let msg = format!("{UNEXP}found unsupported updateRun state: {other}");
            mark.run_failed(status, &msg);
            return written(ctx.actions, Wake::never(WakeReason::Failed));
        }
    };
    let actions = ctx.actions;
    let wake = match end {
        StepEnd::Finished if state == State::Stop => {
            mark.run_stopped(status);
            Wake::never(WakeReason::Stopped)
        }
        StepEnd::Finished => {
            mark.run_succeeded(status);
            Wake::never(WakeReason::Succeeded)
        }
        StepEnd::Abort(msg) => {
            mark.run_failed(status, &msg);
            Wake::never(WakeReason::Failed)
        }
        StepEnd::Continue { wake } => wake,
    };
    written(actions, wake)
}

fn approval_kind(scope: Scope) -> &'static str {
    match scope {
        crate::api::Scope::Cluster => crate::api::ClusterApprovalRequest::KIND,
        crate::api::Scope::Namespaced => crate::api::ApprovalRequest::KIND,
    }
}

fn retry_wake(config: &Config, error: String) -> Wake {
    Wake::on_change(Some(config.cluster_updating_interval), WakeReason::Retry { error })
}

/// `updateAllStatusConditionsGeneration`; returns whether any generation changed.
fn rewrite_generations(status: &mut UpdateRunStatus, generation: i64) -> bool {
    let mut changed = rewrite_run_generations(status, generation);
    for s in status.stages_status.iter_mut().chain(status.deletion_stage_status.as_mut()) {
        changed |= rewrite_stage_generations(s, generation);
    }
    changed
}

/// The run-level half of [`rewrite_generations`].
fn rewrite_run_generations(status: &mut UpdateRunStatus, generation: i64) -> bool {
    rewrite_conditions(status.conditions.iter_mut(), generation)
}

/// The stage-level half of [`rewrite_generations`]: the stage's, its tasks' and its clusters'
/// conditions.
pub(crate) fn rewrite_stage_generations(stage: &mut StageUpdatingStatus, generation: i64) -> bool {
    let tasks = stage.before_stage_task_status.iter_mut().chain(stage.after_stage_task_status.iter_mut());
    let conditions = stage
        .conditions
        .iter_mut()
        .chain(tasks.flat_map(|t| t.conditions.iter_mut()))
        .chain(stage.clusters.iter_mut().flat_map(|c| c.conditions.iter_mut()));
    rewrite_conditions(conditions, generation)
}

fn rewrite_conditions<'a>(conditions: impl Iterator<Item = &'a mut crate::api::Condition>, generation: i64) -> bool {
    let mut changed = false;
    for c in conditions {
        changed |= c.observed_generation != generation;
        c.observed_generation = generation;
    }
    changed
}
