//! Execution (state `Run`) and stopping (state `Stop`) of the current stage, approvals, and the
//! deletion stage.

use std::collections::BTreeMap;

use crate::action::{Action, NewApprovalRequest, ObjectRef};
use crate::api::well_known::{self, condition_types as ct, reasons};
use crate::api::{
    Binding, BindingSpec, BindingState, ClusterUpdatingStatus, Condition, ConditionStatus, ObjectMeta, StageTaskStatus,
    StageTaskType, StageUpdatingStatus, State, Time, UpdateRunStatus, find_condition, is_condition_false,
    is_condition_true, max_concurrency,
};
use crate::config::Config;
use crate::gocompat;
use crate::wake::{Wake, WakeReason};

use super::failure::{ABORT, Failure, UNEXP, USER};
use super::hub::{Hub, RunRef, kobj};
use super::marks::Marker;
use super::plan::{Plan, PlannedStage};

/// The most actions a pass reserves room for at once (1.6 MiB of them): a pass that starts
/// thousands of clusters then grows its list once or a few times instead of a dozen, and one
/// whose clusters turn out to be in sync already reserves no more than this.
const RESERVED_ACTIONS: usize = 2048;

/// Everything one execution step reads, and the actions it emits.
pub(crate) struct Ctx<'a, 'w> {
    pub(crate) run: &'a RunRef<'a>,
    pub(crate) hub: &'a Hub<'w>,
    pub(crate) config: &'a Config,
    pub(crate) mark: &'a Marker,
    pub(crate) state: &'a State,
    pub(crate) actions: Vec<Action>,
    /// A retriable error of this step: the status is still written, then the caller retries.
    pub(crate) retry: Option<String>,
    /// The message of every `RolloutStarted` condition this step sets (the same for all of
    /// them), formatted when the first is.
    pub(crate) rollout_started_message: Option<String>,
}

/// How a step ended.
pub(crate) enum StepEnd {
    /// Everything is done: the run succeeded (Run) or stopped (Stop).
    Finished,
    /// Not done: persist the status and wake as said (a retriable error is the wake's reason).
    Continue { wake: Wake },
    /// An abort: the current stage was marked failed; the run fails with this message.
    Abort(String),
}

impl<'a, 'w> Ctx<'a, 'w> {
    fn now(&self) -> Time {
        self.mark.now
    }

    fn generation(&self) -> i64 {
        self.run.generation
    }

    /// `execute`.
    pub(crate) fn execute(&mut self, status: &mut UpdateRunStatus, stage_index: usize, plan: &Plan<'w>) -> StepEnd {
        self.mark.run_progressing_unless_waiting_or_stuck(status);
        let result = if stage_index < status.stages_status.len() {
            self.execute_stage(status, stage_index, plan)
        } else {
            self.execute_delete_stage(status, &plan.to_delete).map(|finished| {
                if finished {
                    None
                } else {
                    Some(Wake::on_change(
                        Some(self.config.cluster_updating_interval),
                        WakeReason::Deleting { clusters: deleting_clusters(status, self.generation()) },
                    ))
                }
            })
        };
        self.end_step(status, stage_index, result)
    }

    /// `stop`.
    pub(crate) fn stop(&mut self, status: &mut UpdateRunStatus, stage_index: usize, plan: &Plan<'w>) -> StepEnd {
        self.mark.run_stopping(status);
        let result = if stage_index < status.stages_status.len() {
            self.stop_stage(status, stage_index, plan)
        } else {
            self.stop_delete_stage(status, &plan.to_delete).map(|finished| {
                if finished {
                    None
                } else {
                    Some(Wake::on_change(
                        Some(self.config.cluster_updating_interval),
                        WakeReason::Stopping {
                            stage: well_known::DELETE_STAGE_NAME.to_owned(),
                            clusters: deleting_clusters(status, self.generation()),
                        },
                    ))
                }
            })
        };
        self.end_step(status, stage_index, result)
    }

    /// `checkIfErrorStagedUpdateAborted` and the error handling of the reconcile loop.
    fn end_step(
        &mut self,
        status: &mut UpdateRunStatus,
        stage_index: usize,
        result: Result<Option<Wake>, Failure>,
    ) -> StepEnd {
        match result {
            Ok(None) => StepEnd::Finished,
            Ok(Some(wake)) => match self.retry.take() {
                None => StepEnd::Continue { wake },
                Some(error) => StepEnd::Continue {
                    wake: Wake {
                        at: wake.at,
                        on_change: true,
                        poll: Some(self.config.cluster_updating_interval),
                        reason: WakeReason::Retry { error },
                    },
                },
            },
            Err(Failure::Abort(msg)) => {
                let stage = if stage_index < status.stages_status.len() {
                    &mut status.stages_status[stage_index]
                } else {
                    status.deletion_stage_status.get_or_insert_with(StageUpdatingStatus::default)
                };
                self.mark.stage_failed(stage, &msg);
                StepEnd::Abort(msg)
            }
            Err(Failure::Retry(error)) => StepEnd::Continue {
                wake: Wake::on_change(Some(self.config.cluster_updating_interval), WakeReason::Retry { error }),
            },
        }
    }

    /// Routes the aggregated errors of a cluster loop: an abort ends the step; a retriable error
    /// is remembered and the step goes on to write its status.
    fn aggregate(&mut self, errors: Vec<Failure>) -> Result<(), Failure> {
        match Failure::aggregate(errors) {
            None => Ok(()),
            Some(abort @ Failure::Abort(_)) => Err(abort),
            Some(Failure::Retry(error)) => {
                self.retry = Some(error);
                Ok(())
            }
        }
    }

    fn execute_stage(
        &mut self,
        status: &mut UpdateRunStatus,
        index: usize,
        plan: &Plan<'w>,
    ) -> Result<Option<Wake>, Failure> {
        let now = self.now();
        let stage_name = status.stages_status[index].stage_name.clone();
        if status.stages_status[index].clusters.is_empty() {
            self.mark.stage_skipped(&mut status.stages_status[index]);
            return Ok(Some(Wake::now(now, WakeReason::StageCompleted { stage: stage_name })));
        }
        let approved = self.before_stage_tasks(status, index)?;
        if let Some(request) = approved {
            self.mark.stage_waiting(
                &mut status.stages_status[index],
                "Not all before-stage tasks are completed, waiting for approval",
            );
            self.mark.run_waiting(status, "before-stage", &stage_name);
            return Ok(Some(Wake::on_change(
                Some(self.config.stage_waiting_interval),
                WakeReason::BeforeStageApproval { stage: stage_name, approval_request: request },
            )));
        }
        let strategy_stage = status.update_strategy_snapshot.as_ref().and_then(|s| s.stages.get(index));
        let concurrency = max_concurrency(
            strategy_stage.and_then(|s| s.max_concurrency.as_ref()),
            status.stages_status[index].clusters.len(),
        )
        .map_err(|e| Failure::abort(format!("{ABORT}{e}")))?;
        self.execute_updating_stage(status, index, plan, concurrency)
    }

    /// `checkBeforeStageTasksStatus`: `Ok(None)` when the stage may start, `Ok(Some(request))`
    /// while its approval is pending.
    fn before_stage_tasks(&mut self, status: &mut UpdateRunStatus, index: usize) -> Result<Option<String>, Failure> {
        let tasks: Vec<StageTaskType> = status
            .update_strategy_snapshot
            .as_ref()
            .and_then(|s| s.stages.get(index))
            .map(|s| s.before_stage_tasks.iter().map(|t| t.type_.clone()).collect())
            .unwrap_or_default();
        let stage = &mut status.stages_status[index];
        if let Some(first) = tasks.first() {
            if *first != StageTaskType::Approval {
                return Err(Failure::abort(format!(
                    "{ABORT}{UNEXP}found unsupported task type in before stage tasks: {first}"
                )));
            }
            let stage_name = stage.stage_name.clone();
            let task = task_status(&mut stage.before_stage_task_status, 0, &stage_name, "before")?;
            if !self.approval(task, &stage_name, well_known::BEFORE_STAGE_TASK_LABEL_VALUE)? {
                return Ok(Some(task.approval_request_name.clone()));
            }
        }
        Ok(None)
    }

    /// `executeUpdatingStage`.
    fn execute_updating_stage(
        &mut self,
        status: &mut UpdateRunStatus,
        index: usize,
        plan: &Plan<'w>,
        concurrency: i64,
    ) -> Result<Option<Wake>, Failure> {
        let generation = self.generation();
        let now = self.now();
        let threshold = self.config.stuck_threshold;
        // The parse error is ignored, as KubeFleet ignores it: initialization validated the index.
        let resource_index = gocompat::atoi(&status.resource_snapshot_index_used).unwrap_or(0);
        let snapshot_name = well_known::resource_snapshot_name(self.run.placement_name, resource_index);
        let planned = plan.stages.get(index).map_or(&[][..], PlannedStage::clusters);
        let applied = status.apply_strategy.clone();
        let stage = &mut status.stages_status[index];
        let stage_name = stage.stage_name.clone();

        let mut finished = 0usize;
        let mut updating = 0i64;
        let mut stuck: Vec<String> = Vec::new();
        let mut in_flight: Vec<String> = Vec::new();
        let mut deadline: Option<Time> = None;
        let mut errors: Vec<Failure> = Vec::new();
        let mut up_to_date = false;
        let mut i = 0;
        let listed = stage.clusters.len();
        while i < stage.clusters.len() && updating < concurrency {
            let cluster = &mut stage.clusters[i];
            i += 1;
            if is_condition_true(&cluster.conditions, ct::SUCCEEDED, generation) {
                finished += 1;
                continue;
            }
            updating += 1;
            let name = cluster.cluster_name.clone();
            if is_condition_false(&cluster.conditions, ct::SUCCEEDED, generation) {
                errors
                    .push(Failure::abort(format!("{ABORT}the cluster `{name}` in the stage {stage_name} has failed")));
                continue;
            }
            let Some(binding) = planned_binding(planned, i - 1, &name) else {
                errors.push(Failure::abort(format!(
                    "{ABORT}{UNEXP}the binding for cluster `{name}` in stage `{stage_name}` is not found in the toBeUpdatedBindings map"
                )));
                continue;
            };
            // When it started, if it did (the time only: the cluster is written below).
            let started = find_condition(&cluster.conditions, ct::STARTED)
                .filter(|c| c.is_true_at(generation))
                .map(|c| c.last_transition_time);
            let Some(started_at) = started else {
                // Not started: bring the binding in sync, then mark the cluster started. This and
                // every cluster after it that can start write at most two actions each: room for
                // them at once (an action is large, and a pass may start thousands), up to
                // `RESERVED_ACTIONS` (clusters already in sync write none).
                let can_start = usize::try_from(concurrency - updating + 1).unwrap_or(usize::MAX).min(listed + 1 - i);
                self.actions.reserve(can_start.saturating_mul(2).min(RESERVED_ACTIONS));
                if !in_sync(&snapshot_name, applied.as_ref(), binding, cluster) {
                    // Built from its parts: cloning the old spec would clone what is replaced.
                    let BindingSpec {
                        state: _,
                        resource_snapshot_name: _,
                        resource_override_snapshots: _,
                        cluster_resource_override_snapshots: _,
                        scheduling_policy_snapshot_name,
                        target_cluster,
                        apply_strategy: _,
                        cluster_decision,
                        extra,
                    } = &binding.spec;
                    let spec = BindingSpec {
                        state: BindingState::Bound,
                        resource_snapshot_name: snapshot_name.clone(),
                        resource_override_snapshots: cluster.resource_override_snapshots.clone(),
                        cluster_resource_override_snapshots: cluster.cluster_resource_override_snapshots.clone(),
                        scheduling_policy_snapshot_name: scheduling_policy_snapshot_name.clone(),
                        target_cluster: target_cluster.clone(),
                        apply_strategy: applied.clone(),
                        cluster_decision: cluster_decision.clone(),
                        extra: extra.clone(),
                    };
                    self.update_binding(binding, spec);
                } else if binding.spec.state != BindingState::Bound {
                    let mut spec = binding.spec.clone();
                    spec.state = BindingState::Bound;
                    self.update_binding(binding, spec);
                } else if !is_condition_true(binding.conditions(), ct::ROLLOUT_STARTED, binding.metadata.generation()) {
                    self.rollout_started(binding, binding.metadata.generation());
                } else {
                    let (done, err) = self.check_cluster_result(binding, cluster, &stage_name);
                    if let Some(err) = err {
                        errors.push(err);
                        continue;
                    }
                    // Already up to date: it succeeded but took this pass's slot (as in
                    // KubeFleet), so the next cluster can start at once.
                    up_to_date |= done;
                }
                self.mark.cluster_started(cluster);
                if !is_condition_true(&cluster.conditions, ct::SUCCEEDED, generation) {
                    let started_at =
                        find_condition(&cluster.conditions, ct::STARTED).and_then(|c| c.last_transition_time);
                    if let Some(t) = stuck_deadline(started_at, threshold, now) {
                        deadline = Some(deadline.map_or(t, |d| d.min(t)));
                    }
                    in_flight.push(name);
                }
                self.mark.stage_started(stage);
                continue;
            };
            // Started: the binding must still be what this run made it.
            let synced = in_sync(&snapshot_name, applied.as_ref(), binding, cluster)
                && is_condition_true(binding.conditions(), ct::ROLLOUT_STARTED, binding.metadata.generation())
                && binding.spec.state == BindingState::Bound;
            if !synced {
                let msg = format!(
                    "{USER}the binding of the updating cluster `{name}` in the stage `{stage_name}` is not up-to-date with the desired status, please check the status of binding `{}` and see if there is a concurrent updateRun referencing the same placement and updating the same cluster",
                    kobj(binding.metadata.namespace(), binding.metadata.name())
                );
                self.mark.cluster_failed(cluster, &msg);
                errors.push(Failure::abort(format!("{ABORT}{msg}")));
                continue;
            }
            let (done, err) = self.check_cluster_result(binding, cluster, &stage_name);
            errors.extend(err);
            if done {
                finished += 1;
                updating -= 1;
            } else {
                in_flight.push(name.clone());
                match stuck_deadline(started_at, threshold, now) {
                    None => stuck.push(name),
                    Some(t) => deadline = Some(deadline.map_or(t, |d| d.min(t))),
                }
            }
        }
        let all_finished = finished == stage.clusters.len();
        if up_to_date && !all_finished {
            deadline = Some(now);
        }
        self.aggregate_run_status(status, &stage_name, &stuck);
        let wake = Wake::on_change(
            Some(self.config.cluster_updating_interval),
            WakeReason::ClustersUpdating { stage: stage_name, clusters: in_flight },
        )
        .with_deadline(deadline);
        self.aggregate(errors)?;
        if all_finished && self.retry.is_none() {
            return self.stage_completion(status, index).map(Some);
        }
        Ok(Some(wake))
    }

    /// `handleStageCompletion`.
    fn stage_completion(&mut self, status: &mut UpdateRunStatus, index: usize) -> Result<Wake, Failure> {
        let now = self.now();
        let stage_name = status.stages_status[index].stage_name.clone();
        self.mark.run_waiting(status, "after-stage", &stage_name);
        self.mark.stage_waiting(
            &mut status.stages_status[index],
            "All clusters in the stage are updated, waiting for after-stage tasks to complete",
        );
        let pending = self.after_stage_tasks(status, index)?;
        if pending.wait_until.is_none() && pending.approval_request.is_none() {
            self.mark.run_progressing(status);
            self.mark.stage_succeeded(&mut status.stages_status[index]);
            return Ok(Wake::now(now, WakeReason::StageCompleted { stage: stage_name }));
        }
        let reason = WakeReason::AfterStageTasks {
            stage: stage_name,
            wait_until: pending.wait_until,
            approval_request: pending.approval_request.clone(),
        };
        Ok(match pending.wait_until {
            // KubeFleet requeues after the remaining wait, approval pending or not.
            Some(until) => Wake {
                at: Some(until),
                on_change: pending.approval_request.is_some(),
                poll: Some(until.since(now)),
                reason,
            },
            None => Wake::on_change(Some(self.config.stage_waiting_interval), reason),
        })
    }

    /// `checkAfterStageTasksStatus`: TimedWait and Approval run in parallel.
    fn after_stage_tasks(&mut self, status: &mut UpdateRunStatus, index: usize) -> Result<PendingTasks, Failure> {
        let tasks: Vec<(StageTaskType, Option<crate::api::Duration>)> = status
            .update_strategy_snapshot
            .as_ref()
            .and_then(|s| s.stages.get(index))
            .map(|s| s.after_stage_tasks.iter().map(|t| (t.type_.clone(), t.wait_time)).collect())
            .unwrap_or_default();
        let now = self.now();
        let stage = &mut status.stages_status[index];
        let stage_name = stage.stage_name.clone();
        let wait_start = find_condition(&stage.conditions, ct::PROGRESSING).and_then(|c| c.last_transition_time);
        let mut pending = PendingTasks::default();
        for (i, (type_, wait)) in tasks.iter().enumerate() {
            match type_ {
                StageTaskType::TimedWait => {
                    let Some(wait) = wait else {
                        return Err(Failure::abort(format!(
                            "{ABORT}{UNEXP}task {i} of type TimedWait in stage {stage_name} has no wait duration"
                        )));
                    };
                    let start = wait_start.unwrap_or(now);
                    if wait_elapsed(start, *wait, now) {
                        let task = task_status(&mut stage.after_stage_task_status, i, &stage_name, "after")?;
                        self.mark.task_wait_elapsed(task);
                    } else {
                        pending.wait_until = Some(start.add_ceil(*wait));
                    }
                }
                StageTaskType::Approval => {
                    let task = task_status(&mut stage.after_stage_task_status, i, &stage_name, "after")?;
                    if !self.approval(task, &stage_name, well_known::AFTER_STAGE_TASK_LABEL_VALUE)? {
                        pending.approval_request = Some(task.approval_request_name.clone());
                    }
                }
                // KubeFleet's switch has no default here: an unknown type is passed over.
                StageTaskType::Unknown(_) => {}
            }
        }
        Ok(pending)
    }

    /// `handleStageApprovalTask`: whether the task is approved.
    fn approval(&mut self, task: &mut StageTaskStatus, stage_name: &str, task_type: &str) -> Result<bool, Failure> {
        let generation = self.generation();
        if is_condition_true(&task.conditions, ct::APPROVAL_REQUEST_APPROVED, generation) {
            return Ok(true);
        }
        let name = task.approval_request_name.clone();
        let kind = match self.run.scope {
            crate::api::Scope::Cluster => crate::api::ClusterApprovalRequest::KIND,
            crate::api::Scope::Namespaced => crate::api::ApprovalRequest::KIND,
        };
        if name.is_empty() {
            // What the API server answers to a create without a name.
            return Err(Failure::retry(format!(
                "{kind}.placement.kubernetes-fleet.io \"\" is invalid: metadata.name: Required value: name or generateName is required"
            )));
        }
        let Some(request) = self.hub.approval_request(&name) else {
            let mut metadata = ObjectMeta::named(&name);
            if !self.run.namespace.is_empty() {
                metadata.namespace = Some(self.run.namespace.to_owned());
            }
            metadata.set_label(well_known::TARGET_UPDATING_STAGE_LABEL, stage_name);
            metadata.set_label(well_known::TARGET_UPDATE_RUN_LABEL, self.run.name);
            metadata.set_label(well_known::TASK_TYPE_LABEL, task_type);
            metadata.set_label(well_known::IS_LATEST_UPDATE_RUN_APPROVAL_LABEL, "true");
            self.actions.push(Action::CreateApprovalRequest {
                request: NewApprovalRequest {
                    scope: self.run.scope,
                    metadata,
                    spec: crate::api::ApprovalRequestSpec {
                        target_update_run: self.run.name.to_owned(),
                        target_stage: stage_name.to_owned(),
                        extra: Default::default(),
                    },
                },
            });
            self.mark.task_request_created(task);
            return Ok(false);
        };
        self.mark.task_request_created(task);
        let ns = request.metadata.namespace();
        if request.spec.target_stage != stage_name || request.spec.target_update_run != self.run.name {
            // The missing backtick after the wanted run is KubeFleet's.
            return Err(Failure::abort(format!(
                "{ABORT}{UNEXP}the approval request task `{ns}/{name}` is targeting update run `{ns}/{}` and stage `{}`, want target update run `{ns}/{} and stage `{stage_name}`",
                request.spec.target_update_run, request.spec.target_stage, self.run.name
            )));
        }
        let request_generation = request.metadata.generation();
        let accepted = is_condition_true(&request.conditions, ct::APPROVAL_ACCEPTED, request_generation);
        let approved = find_condition(&request.conditions, ct::APPROVED).is_some_and(|c| {
            c.status == ConditionStatus::True
                && (c.observed_generation == request_generation
                    || (self.config.accept_approval_without_observed_generation && c.observed_generation == 0))
        });
        if !accepted && !approved {
            return Ok(false);
        }
        if approved && !accepted {
            let mut condition = Condition::new(
                ct::APPROVAL_ACCEPTED,
                ConditionStatus::True,
                request_generation,
                reasons::APPROVAL_REQUEST_APPROVAL_ACCEPTED,
                "The approval request has been approved and cannot be reverted",
            );
            condition.last_transition_time = Some(self.now());
            self.actions.push(Action::AcceptApprovalRequest { request: ObjectRef::new(kind, ns, &name), condition });
        }
        self.mark.task_request_approved(task);
        Ok(true)
    }

    /// `checkClusterUpdateResult`: whether the cluster finished (marked Succeeded), and the
    /// retriable error of a failed binding.
    fn check_cluster_result(
        &self,
        binding: &Binding,
        cluster: &mut ClusterUpdatingStatus,
        stage_name: &str,
    ) -> (bool, Option<Failure>) {
        let generation = binding.metadata.generation();
        let conditions = binding.conditions();
        if is_condition_true(conditions, ct::AVAILABLE, generation)
            || is_condition_true(conditions, ct::DIFF_REPORTED, generation)
        {
            self.mark.cluster_succeeded(cluster);
            return (true, None);
        }
        if binding_failed(binding) || is_condition_false(conditions, ct::DIFF_REPORTED, generation) {
            return (
                false,
                Some(Failure::retry(format!(
                    "the cluster updating encountered an error at stage `{stage_name}`, updateRun := `{}`",
                    self.run.name
                ))),
            );
        }
        (false, None)
    }

    fn binding_ref(binding: &Binding) -> ObjectRef {
        ObjectRef::new(binding.kind.clone(), binding.metadata.namespace(), binding.metadata.name())
    }

    /// A spec write followed by `RolloutStarted` at the bumped generation.
    fn update_binding(&mut self, binding: &Binding, spec: BindingSpec) {
        self.actions.push(Action::UpdateBinding {
            binding: Self::binding_ref(binding),
            cluster: binding.spec.target_cluster.clone(),
            resource_version: binding.metadata.resource_version.clone(),
            spec,
        });
        self.rollout_started(binding, binding.metadata.generation() + 1);
    }

    /// `updateBindingRolloutStarted`.
    fn rollout_started(&mut self, binding: &Binding, expected_generation: i64) {
        let message = self.rollout_started_message.get_or_insert_with(|| {
            format!(
                "Detected the new changes on the resources and started the rollout process, resourceSnapshotIndex: {}, updateRun: {}",
                self.run.resource_snapshot_index, self.run.name
            )
        });
        let mut condition = Condition::new(
            ct::ROLLOUT_STARTED,
            ConditionStatus::True,
            expected_generation,
            reasons::ROLLOUT_STARTED,
            message.as_str(),
        );
        condition.last_transition_time = Some(self.now());
        self.actions.push(Action::MarkBindingRolloutStarted {
            binding: Self::binding_ref(binding),
            cluster: binding.spec.target_cluster.clone(),
            condition,
        });
    }

    /// `aggregateUpdateRunStatus`.
    fn aggregate_run_status(&self, status: &mut UpdateRunStatus, stage_name: &str, stuck: &[String]) {
        if !stuck.is_empty() {
            let names: Vec<&str> = stuck.iter().map(String::as_str).collect();
            self.mark.run_stuck(status, stage_name, &names);
        } else if *self.state == State::Run {
            self.mark.run_progressing(status);
        }
    }

    /// `executeDeleteStage`: whether the deletion stage is finished.
    fn execute_delete_stage(
        &mut self,
        status: &mut UpdateRunStatus,
        to_delete: &[&'w Binding],
    ) -> Result<bool, Failure> {
        let generation = self.generation();
        let stage = status.deletion_stage_status.get_or_insert_with(StageUpdatingStatus::default);
        self.mark.stage_started(stage);
        let mut remaining: BTreeMap<String, usize> =
            stage.clusters.iter().enumerate().map(|(i, c)| (c.cluster_name.clone(), i)).collect();
        for binding in to_delete {
            let target = binding.spec.target_cluster.as_str();
            let Some(i) = remaining.remove(target) else {
                return Err(Failure::abort(format!(
                    "{ABORT}{UNEXP}the to be deleted cluster `{target}` is not in the deleting stage during execution"
                )));
            };
            let cluster = &mut stage.clusters[i];
            check_deleting_cluster(cluster, binding, generation)?;
            if is_condition_true(&cluster.conditions, ct::STARTED, generation) {
                continue;
            }
            self.actions
                .push(Action::DeleteBinding { binding: Self::binding_ref(binding), cluster: target.to_owned() });
            self.mark.cluster_started(cluster);
        }
        self.mark_deleted(stage, remaining);
        if to_delete.is_empty() {
            self.mark.stage_succeeded(stage);
        }
        Ok(to_delete.is_empty())
    }

    /// Clusters of the deletion stage whose bindings are gone are deleted.
    fn mark_deleted(&self, stage: &mut StageUpdatingStatus, gone: BTreeMap<String, usize>) {
        let mut gone: Vec<usize> = gone.into_values().collect();
        gone.sort_unstable();
        for i in gone {
            let cluster = &mut stage.clusters[i];
            if !is_condition_true(&cluster.conditions, ct::STARTED, self.generation()) {
                self.mark.cluster_started(cluster);
            }
            self.mark.cluster_succeeded(cluster);
        }
    }

    /// `stopUpdatingStage`.
    fn stop_stage(
        &mut self,
        status: &mut UpdateRunStatus,
        index: usize,
        plan: &Plan<'w>,
    ) -> Result<Option<Wake>, Failure> {
        let generation = self.generation();
        let now = self.now();
        let planned = plan.stages.get(index).map_or(&[][..], PlannedStage::clusters);
        let stage = &mut status.stages_status[index];
        let stage_name = stage.stage_name.clone();
        self.mark.stage_stopping(stage);
        let mut updating = Vec::new();
        let mut stuck = Vec::new();
        let mut deadline: Option<Time> = None;
        let mut errors = Vec::new();
        for (i, cluster) in stage.clusters.iter_mut().enumerate() {
            let Some(started_at) = find_condition(&cluster.conditions, ct::STARTED)
                .filter(|c| c.is_true_at(generation))
                .map(|c| c.last_transition_time)
            else {
                continue;
            };
            if is_condition_true(&cluster.conditions, ct::SUCCEEDED, generation)
                || is_condition_false(&cluster.conditions, ct::SUCCEEDED, generation)
            {
                continue;
            }
            let name = cluster.cluster_name.clone();
            let Some(binding) = planned_binding(planned, i, &name) else {
                updating.push(name.clone());
                errors.push(Failure::abort(format!(
                    "{ABORT}{UNEXP}the binding for cluster `{name}` in stage `{stage_name}` is not found in the toBeUpdatedBindings map during stopping"
                )));
                continue;
            };
            let (done, err) = self.check_cluster_result(binding, cluster, &stage_name);
            errors.extend(err);
            if !done {
                updating.push(name.clone());
                match stuck_deadline(started_at, self.config.stuck_threshold, now) {
                    None => stuck.push(name),
                    Some(t) => deadline = Some(deadline.map_or(t, |d| d.min(t))),
                }
            }
        }
        self.aggregate_run_status(status, &stage_name, &stuck);
        let wake = Wake::on_change(
            Some(self.config.cluster_updating_interval),
            WakeReason::Stopping { stage: stage_name, clusters: updating.clone() },
        )
        .with_deadline(deadline);
        self.aggregate(errors)?;
        if updating.is_empty() && self.retry.is_none() {
            self.mark.stage_stopped(&mut status.stages_status[index]);
            return Ok(None);
        }
        Ok(Some(wake))
    }

    /// `stopDeleteStage`: issues no deletes; the run is stopped once no binding is left to delete.
    fn stop_delete_stage(&mut self, status: &mut UpdateRunStatus, to_delete: &[&'w Binding]) -> Result<bool, Failure> {
        let generation = self.generation();
        let stage = status.deletion_stage_status.get_or_insert_with(StageUpdatingStatus::default);
        self.mark.stage_stopping(stage);
        let mut remaining: BTreeMap<String, usize> =
            stage.clusters.iter().enumerate().map(|(i, c)| (c.cluster_name.clone(), i)).collect();
        for binding in to_delete {
            let target = binding.spec.target_cluster.as_str();
            let Some(i) = remaining.remove(target) else {
                return Err(Failure::abort(format!(
                    "{ABORT}{UNEXP}the to be deleted cluster `{target}` is not in the deleting stage during stopping"
                )));
            };
            check_deleting_cluster(&stage.clusters[i], binding, generation)?;
        }
        self.mark_deleted(stage, remaining);
        let all_deleted = stage.clusters.iter().all(|c| {
            !is_condition_true(&c.conditions, ct::STARTED, generation)
                || is_condition_true(&c.conditions, ct::SUCCEEDED, generation)
        });
        if all_deleted {
            self.mark.stage_stopped(stage);
        }
        Ok(to_delete.is_empty())
    }
}

/// The consistency checks of a to-be-deleted cluster whose binding still exists.
fn check_deleting_cluster(cluster: &ClusterUpdatingStatus, binding: &Binding, generation: i64) -> Result<(), Failure> {
    let name = &cluster.cluster_name;
    if is_condition_true(&cluster.conditions, ct::SUCCEEDED, generation) {
        return Err(Failure::abort(format!(
            "{ABORT}{UNEXP}the deleted cluster `{name}` in the deleting stage still has a binding"
        )));
    }
    if is_condition_true(&cluster.conditions, ct::STARTED, generation) && !binding.metadata.is_deleting() {
        return Err(Failure::abort(format!(
            "{ABORT}{UNEXP}the cluster `{name}` in the deleting stage is marked as deleting but its corresponding binding is not deleting"
        )));
    }
    Ok(())
}

/// Pending after-stage tasks.
#[derive(Default)]
struct PendingTasks {
    wait_until: Option<Time>,
    approval_request: Option<String>,
}

/// The task status entry `i`, or an abort when the recorded status lacks it.
fn task_status<'s>(
    tasks: &'s mut [StageTaskStatus],
    i: usize,
    stage: &str,
    which: &str,
) -> Result<&'s mut StageTaskStatus, Failure> {
    tasks.get_mut(i).ok_or_else(|| {
        Failure::abort(format!(
            "{ABORT}{UNEXP}the {which}-stage task status {i} of stage {stage} is missing from the updateRun status"
        ))
    })
}

/// The binding of the `i`th cluster of a stage. Validation (or initialization) made the stage's
/// recorded clusters equal to the planned ones, so the planned cluster at `i` is this one.
fn planned_binding<'w>(planned: &[(&str, &'w Binding)], i: usize, name: &str) -> Option<&'w Binding> {
    planned.get(i).filter(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// `isBindingSyncedWithClusterStatus`.
fn in_sync(
    snapshot_name: &str,
    applied: Option<&crate::api::ApplyStrategy>,
    binding: &Binding,
    cluster: &ClusterUpdatingStatus,
) -> bool {
    binding.spec.resource_snapshot_name == snapshot_name
        && binding.spec.resource_override_snapshots == cluster.resource_override_snapshots
        && binding.spec.cluster_resource_override_snapshots == cluster.cluster_resource_override_snapshots
        && binding.spec.apply_strategy.as_ref() == applied
}

/// `bindingutils.HasBindingFailed`: a False Overridden, WorkSynchronized, Applied or Available
/// condition (at the binding's generation) whose reason is not one of the in-progress ones.
fn binding_failed(binding: &Binding) -> bool {
    let generation = binding.metadata.generation();
    [ct::OVERRIDDEN, ct::WORK_SYNCHRONIZED, ct::APPLIED, ct::AVAILABLE].iter().any(|t| {
        find_condition(binding.conditions(), t).is_some_and(|c| {
            c.is_false_at(generation)
                && !matches!(
                    c.reason.as_str(),
                    reasons::OVERRIDDEN_PENDING
                        | reasons::WORK_NOT_SYNCHRONIZED_YET
                        | reasons::APPLY_PENDING
                        | reasons::NOT_AVAILABLE_YET
                )
        })
    })
}

/// When an in-flight cluster started at `started` becomes stuck: the first whole second at which
/// more than `threshold` has passed. `None` when it already is (a missing time counts as long ago,
/// as Go's zero time does).
fn stuck_deadline(started: Option<Time>, threshold: crate::api::Duration, now: Time) -> Option<Time> {
    let started = started?;
    let nanos = i128::from(now.unix_seconds() - started.unix_seconds()) * 1_000_000_000;
    if nanos > i128::from(threshold.as_nanos()) {
        return None;
    }
    let t = started.add_ceil(threshold);
    // Strictly greater: at exactly `started + threshold` the cluster is not stuck yet.
    Some(if t.since(started) == threshold { Time::from_unix_seconds(t.unix_seconds() + 1) } else { t })
}

/// Whether a wait of `wait` that started at `start` has elapsed at `now` (`time.Until(...) <= 0`).
fn wait_elapsed(start: Time, wait: crate::api::Duration, now: Time) -> bool {
    let end = i128::from(start.unix_seconds()) * 1_000_000_000 + i128::from(wait.as_nanos());
    i128::from(now.unix_seconds()) * 1_000_000_000 >= end
}

/// Clusters of the deletion stage whose deletion was issued and is not confirmed.
fn deleting_clusters(status: &UpdateRunStatus, generation: i64) -> Vec<String> {
    status
        .deletion_stage_status
        .iter()
        .flat_map(|s| &s.clusters)
        .filter(|c| {
            is_condition_true(&c.conditions, ct::STARTED, generation)
                && !is_condition_true(&c.conditions, ct::SUCCEEDED, generation)
        })
        .map(|c| c.cluster_name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Duration;

    #[test]
    fn stuck_is_strictly_after_the_threshold() {
        let start = Time::from_unix_seconds(1000);
        let five = Duration::from_minutes(5);
        assert_eq!(stuck_deadline(Some(start), five, start), Some(Time::from_unix_seconds(1301)));
        assert_eq!(
            stuck_deadline(Some(start), five, Time::from_unix_seconds(1300)),
            Some(Time::from_unix_seconds(1301))
        );
        assert_eq!(stuck_deadline(Some(start), five, Time::from_unix_seconds(1301)), None);
        assert_eq!(stuck_deadline(None, five, start), None);
        // A fractional threshold: stuck at the first whole second past it.
        assert_eq!(
            stuck_deadline(Some(start), Duration::from_millis(1500), start),
            Some(Time::from_unix_seconds(1002))
        );
    }

    #[test]
    fn a_wait_ends_exactly_on_time() {
        let start = Time::from_unix_seconds(0);
        let minute = Duration::from_minutes(1);
        assert!(!wait_elapsed(start, minute, Time::from_unix_seconds(59)));
        assert!(wait_elapsed(start, minute, Time::from_unix_seconds(60)));
        assert!(!wait_elapsed(start, Duration::from_millis(500), start));
        assert!(wait_elapsed(start, Duration::from_millis(500), Time::from_unix_seconds(1)));
    }
}
