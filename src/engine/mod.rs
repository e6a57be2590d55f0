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
mod init;
mod marks;
mod plan;
mod validation;

use crate::action::{Action, ObjectRef};
use crate::api::well_known::{self, condition_types as ct};
use crate::api::{
    StageUpdatingStatus, State, Time, UpdateRunObject, UpdateRunStatus, is_condition_false, is_condition_true,
};
use crate::config::Config;
use crate::wake::{Wake, WakeReason};
use crate::world::World;

use execute::{Ctx, StepEnd};
use failure::{Failure, UNEXP};
use hub::{Hub, RunRef};
use init::InitStop;
use marks::Marker;
use validation::Position;

/// The result of one reconcile.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The status to persist: what KubeFleet's controller would have written, or the input
    /// status unchanged when it would have written nothing.
    pub status: UpdateRunStatus,
    /// Whether `status` differs from the input status (skip the write when it does not).
    pub status_changed: bool,
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
/// still needed.
pub fn reconcile<R: UpdateRunObject + ?Sized>(
    run: &R,
    world: &World,
    now: Time,
    config: &Config,
) -> Result<Outcome, EngineError> {
    let meta = run.metadata();
    let spec = run.spec();
    let run_ref = RunRef {
        name: meta.name(),
        namespace: meta.namespace(),
        generation: meta.generation(),
        placement_name: &spec.placement_name,
        strategy_name: &spec.staged_update_strategy_name,
        resource_snapshot_index: spec.resource_snapshot_index(),
        scope: R::SCOPE,
    };
    let hub = Hub::new(world, &run_ref)?;
    let original = run.status().cloned().unwrap_or_default();
    let run_object = ObjectRef::new(R::KIND, run_ref.namespace, run_ref.name);
    let mut actions = Vec::new();

    if meta.is_deleting() {
        actions.push(Action::DeleteApprovalRequests {
            kind: approval_kind(&run_ref).to_owned(),
            namespace: run_ref.namespace.to_owned(),
            labels: [(well_known::TARGET_UPDATE_RUN_LABEL.to_owned(), run_ref.name.to_owned())].into(),
        });
        if meta.has_finalizer(well_known::UPDATE_RUN_FINALIZER) {
            actions.push(Action::RemoveFinalizer { run: run_object });
        }
        return Ok(finish(&original, None, actions, Wake::never(WakeReason::Deleted)));
    }
    if !meta.has_finalizer(well_known::UPDATE_RUN_FINALIZER) {
        actions.push(Action::AddFinalizer { run: run_object });
    }

    let mut status = original.clone();
    rewrite_generations(&mut status, run_ref.generation);
    if let Some(snapshot) = status.update_strategy_snapshot.as_mut() {
        plan::strip_approval_wait_times(snapshot);
    }
    let mark = Marker { now, generation: run_ref.generation };
    let state = spec.state.clone().unwrap_or_else(|| config.missing_state.clone());
    let generation = run_ref.generation;

    // Initialize or validate: where does the run stand?
    let (position, scheduled, mut written) = if !is_condition_true(&status.conditions, ct::INITIALIZED, generation) {
        if is_condition_false(&status.conditions, ct::INITIALIZED, generation) {
            return Ok(finish(&original, None, actions, Wake::never(WakeReason::Failed)));
        }
        match init::initialize(&run_ref, &hub, config, &mut status) {
            Ok(scheduled) => {
                mark.run_initialized(&mut status);
                let written = status.clone();
                (Position::Stage(0), scheduled, Some(written))
            }
            Err(InitStop::Failure(Failure::Abort(msg))) => {
                mark.run_initialize_failed(&mut status, &msg);
                return Ok(finish(&original, Some(status), actions, Wake::never(WakeReason::Failed)));
            }
            Err(InitStop::Failure(Failure::Retry(error))) => {
                return Ok(finish(&original, None, actions, retry_wake(config, error)));
            }
            Err(InitStop::NeedSnapshot(action)) => {
                actions.push(*action);
                let wake = Wake::on_change(Some(config.cluster_updating_interval), WakeReason::SnapshotRequested);
                return Ok(finish(&original, None, actions, wake));
            }
        }
    } else {
        if is_condition_true(&status.conditions, ct::SUCCEEDED, generation) {
            return Ok(finish(&original, None, actions, Wake::never(WakeReason::Succeeded)));
        }
        if is_condition_false(&status.conditions, ct::SUCCEEDED, generation) {
            return Ok(finish(&original, None, actions, Wake::never(WakeReason::Failed)));
        }
        match validation::validate(&run_ref, &hub, &status) {
            Ok((position, scheduled)) => (position, scheduled, None),
            Err(Failure::Abort(msg)) => {
                mark.run_failed(&mut status, &msg);
                return Ok(finish(&original, Some(status), actions, Wake::never(WakeReason::Failed)));
            }
            Err(Failure::Retry(error)) => {
                return Ok(finish(&original, None, actions, retry_wake(config, error)));
            }
        }
    };

    let stage_index = match position {
        Position::Finished => {
            mark.run_succeeded(&mut status);
            return Ok(finish(&original, Some(status), actions, Wake::never(WakeReason::Succeeded)));
        }
        Position::Stage(i) => i,
    };

    let mut ctx = Ctx { run: &run_ref, hub: &hub, config, mark, state: &state, actions, retry: None };
    let end = match &state {
        State::Initialize => {
            let wake = Wake::never(WakeReason::AwaitingRunState);
            return Ok(finish(&original, written, ctx.actions, wake));
        }
        State::Run => ctx.execute(&mut status, stage_index, &scheduled),
        State::Stop => ctx.stop(&mut status, stage_index, &scheduled),
        State::Unknown(other) => {
            let msg = format!("{UNEXP}found unsupported updateRun state: {other}");
            mark.run_failed(&mut status, &msg);
            return Ok(finish(&original, Some(status), ctx.actions, Wake::never(WakeReason::Failed)));
        }
    };
    let actions = ctx.actions;
    let wake = match end {
        StepEnd::Finished if state == State::Stop => {
            mark.run_stopped(&mut status);
            Wake::never(WakeReason::Stopped)
        }
        StepEnd::Finished => {
            mark.run_succeeded(&mut status);
            Wake::never(WakeReason::Succeeded)
        }
        StepEnd::Abort(msg) => {
            mark.run_failed(&mut status, &msg);
            Wake::never(WakeReason::Failed)
        }
        StepEnd::Continue { wake } => wake,
    };
    written = Some(status);
    Ok(finish(&original, written, actions, wake))
}

fn approval_kind(run: &RunRef<'_>) -> &'static str {
    match run.scope {
        crate::api::Scope::Cluster => crate::api::ClusterApprovalRequest::KIND,
        crate::api::Scope::Namespaced => crate::api::ApprovalRequest::KIND,
    }
}

fn retry_wake(config: &Config, error: String) -> Wake {
    Wake::on_change(Some(config.cluster_updating_interval), WakeReason::Retry { error })
}

fn finish(original: &UpdateRunStatus, written: Option<UpdateRunStatus>, actions: Vec<Action>, wake: Wake) -> Outcome {
    let status = written.unwrap_or_else(|| original.clone());
    Outcome { status_changed: status != *original, status, actions, wake }
}

/// `updateAllStatusConditionsGeneration`.
fn rewrite_generations(status: &mut UpdateRunStatus, generation: i64) {
    fn stage(s: &mut StageUpdatingStatus, generation: i64) {
        let tasks = s.before_stage_task_status.iter_mut().chain(s.after_stage_task_status.iter_mut());
        let conditions = s
            .conditions
            .iter_mut()
            .chain(tasks.flat_map(|t| t.conditions.iter_mut()))
            .chain(s.clusters.iter_mut().flat_map(|c| c.conditions.iter_mut()));
        for c in conditions {
            c.observed_generation = generation;
        }
    }
    for c in &mut status.conditions {
        c.observed_generation = generation;
    }
    for s in &mut status.stages_status {
        stage(s, generation);
    }
    if let Some(s) = status.deletion_stage_status.as_mut() {
        stage(s, generation);
    }
}
