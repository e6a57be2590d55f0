//! Initialization: runs once per run, records what the run will do, and fails for good on any
//! inconsistency. Fields computed before a failure stay in the status, as KubeFleet persists them.

use crate::action::{Action, ObjectRef};
use crate::api::{
    ClusterUpdatingStatus, Placement, ResourceSnapshot, Scope, StageTaskStatus, StageTaskType, StageUpdatingStatus,
    UpdateRunStatus, UpdateStrategySpec, validate_stage_list, well_known,
};
use crate::config::Config;
use crate::gocompat;

use super::failure::{Failure, UNEXP, USER};
use super::hub::{Hub, RunRef};
use super::plan::{self, Plan, PlannedStage, Scheduled};

/// Why initialization stopped before completing.
pub(crate) enum InitStop {
    /// A failure: `Abort` fails the run's initialization for good, `Retry` writes nothing.
    Failure(Failure),
    /// The run names no snapshot and the latest is stale: ask for one, write nothing.
    NeedSnapshot(Box<Action>),
}

impl From<Failure> for InitStop {
    fn from(f: Failure) -> Self {
        InitStop::Failure(f)
    }
}

/// `initialize`: fills `status` and returns the plan: the stages' bindings and those to delete.
pub(crate) fn initialize<'w>(
    run: &RunRef<'_>,
    hub: &Hub<'w>,
    config: &Config,
    status: &mut UpdateRunStatus,
) -> Result<Plan<'w>, InitStop> {
    status.apply_strategy = Some(plan::check_placement(hub)?);

    let policy = plan::determine_policy_snapshot(hub, run);
    if let Some(index) = policy.index {
        status.policy_snapshot_index_used = index;
    }
    if let Some(count) = policy.count {
        status.policy_observed_cluster_count = count;
    }
    let latest_policy = policy.result?;
    let (scheduled, count) = plan::collect_scheduled(hub, latest_policy, status.policy_observed_cluster_count)?;
    status.policy_observed_cluster_count = count;

    let plan = generate_stages(run, hub, config, scheduled, status)?;
    record_resource_snapshot(run, hub, status)?;
    record_override_snapshots(hub, status);
    Ok(plan)
}

/// `generateStagesByStrategy`: snapshot the strategy, compute the stages and the deletion stage.
fn generate_stages<'w>(
    run: &RunRef<'_>,
    hub: &Hub<'w>,
    config: &Config,
    scheduled: Scheduled<'w>,
    status: &mut UpdateRunStatus,
) -> Result<Plan<'w>, Failure> {
    let strategy_key = run.strategy_key();
    let Some(strategy) = hub.world.strategy.as_ref() else {
        return Err(Failure::valfail(format!("{USER}referenced updateStrategy not found: `{strategy_key}`")));
    };
    let mut snapshot = strategy.clone();
    plan::strip_approval_wait_times(&mut snapshot);
    let planned = {
        let object = format!("updateStrategy `{strategy_key}`");
        if let Err(errors) = validate_stage_list(&object, &snapshot, config.stage_names) {
            status.update_strategy_snapshot = Some(snapshot);
            return Err(Failure::valfail(format!("{USER}{errors}")));
        }
        match plan::plan_stages(hub, &strategy_key, &snapshot, scheduled) {
            Ok(plan) => Ok((stage_statuses(run, config, &snapshot, &plan.stages), plan)),
            Err((failure, Some(stages))) => Err((failure, Some(stage_statuses(run, config, &snapshot, &stages)))),
            Err((failure, None)) => Err((failure, None)),
        }
    };
    status.update_strategy_snapshot = Some(snapshot);
    let plan = match planned {
        Ok((stages, plan)) => {
            status.stages_status = stages;
            plan
        }
        Err((failure, stages)) => {
            if let Some(stages) = stages {
                status.stages_status = stages;
            }
            return Err(failure);
        }
    };
    let mut deleting: Vec<&str> = plan.to_delete.iter().map(|b| b.spec.target_cluster.as_str()).collect();
    deleting.sort_unstable();
    status.deletion_stage_status = Some(StageUpdatingStatus {
        stage_name: well_known::DELETE_STAGE_NAME.to_owned(),
        clusters: deleting.into_iter().map(ClusterUpdatingStatus::new).collect(),
        ..StageUpdatingStatus::default()
    });
    Ok(plan)
}

fn stage_statuses(
    run: &RunRef<'_>,
    config: &Config,
    strategy: &UpdateStrategySpec,
    planned: &[PlannedStage<'_>],
) -> Vec<StageUpdatingStatus> {
    planned
        .iter()
        .zip(&strategy.stages)
        .map(|(p, stage)| {
            let task = |type_: &StageTaskType, name: String| StageTaskStatus {
                type_: type_.clone(),
                approval_request_name: if *type_ == StageTaskType::Approval { name } else { String::new() },
                conditions: Vec::new(),
                extra: Default::default(),
            };
            StageUpdatingStatus {
                stage_name: stage.name.clone(),
                clusters: p.clusters().iter().map(|c| ClusterUpdatingStatus::new(c.0)).collect(),
                before_stage_task_status: stage
                    .before_stage_tasks
                    .iter()
                    .map(|t| task(&t.type_, config.before_stage_approval_name(run.name, &stage.name)))
                    .collect(),
                after_stage_task_status: stage
                    .after_stage_tasks
                    .iter()
                    .map(|t| task(&t.type_, config.after_stage_approval_name(run.name, &stage.name)))
                    .collect(),
                ..StageUpdatingStatus::default()
            }
        })
        .collect()
}

/// The resource snapshot half of `recordOverrideSnapshots`: find the master snapshot of the
/// requested index (or of the latest resources) and record its index.
fn record_resource_snapshot(run: &RunRef<'_>, hub: &Hub<'_>, status: &mut UpdateRunStatus) -> Result<(), InitStop> {
    let placement_key = run.placement_key();
    let requested = status_index(run, hub)?;
    let master = match requested {
        Requested::Index(index, snapshots) => {
            if snapshots.is_empty() {
                return Err(Failure::valfail(format!(
                    "{USER}no resourceSnapshots with index `{index}` found for placement `{placement_key}`"
                ))
                .into());
            }
            // Only the master of an index carries the hash annotation.
            let mut masters: Vec<&ResourceSnapshot> = snapshots.into_iter().filter(|s| s.is_master()).collect();
            masters.sort_by(|a, b| a.metadata.name().cmp(b.metadata.name()));
            match masters.first() {
                Some(m) => *m,
                None => {
                    return Err(Failure::valfail(format!(
                        "{UNEXP}no master resourceSnapshot found for placement {placement_key}"
                    ))
                    .into());
                }
            }
        }
        Requested::Latest(master) => master,
    };
    status.resource_snapshot_index_used = master.index_label().unwrap_or("").to_owned();
    Ok(())
}

enum Requested<'w> {
    Index(i64, Vec<&'w ResourceSnapshot>),
    Latest(&'w ResourceSnapshot),
}

fn status_index<'w>(run: &RunRef<'_>, hub: &Hub<'w>) -> Result<Requested<'w>, InitStop> {
    let given = run.resource_snapshot_index;
    if !given.is_empty() {
        return match gocompat::atoi(given) {
            // Looked up by the exact label string, as KubeFleet does: "00" parses but finds nothing.
            Ok(index) if index >= 0 => Ok(Requested::Index(index, hub.resource_snapshots_with_index(given))),
            _ => Err(Failure::valfail(format!(
                "{USER}invalid resource snapshot index `{given}` provided, expected an integer >= 0"
            ))
            .into()),
        };
    }
    let latest = hub.latest_master_resource_snapshot();
    let current = hub.world.current_resource_hash.as_deref();
    match (latest, current) {
        (Some((snapshot, _)), None) => Ok(Requested::Latest(snapshot)),
        (Some((snapshot, _)), Some(hash))
            if snapshot.metadata.annotation(well_known::RESOURCE_HASH_ANNOTATION) == Some(hash) =>
        {
            Ok(Requested::Latest(snapshot))
        }
        (_, Some(hash)) => {
            let index = hub.highest_resource_index().map_or(0, |i| i.saturating_add(1));
            let placement_kind = match run.scope {
                Scope::Cluster => Placement::CLUSTER_KIND,
                Scope::Namespaced => Placement::NAMESPACED_KIND,
            };
            Err(InitStop::NeedSnapshot(Box::new(Action::CreateResourceSnapshot {
                placement: ObjectRef::new(placement_kind, run.namespace, run.placement_name),
                index,
                resource_hash: hash.to_owned(),
            })))
        }
        (None, None) => Err(Failure::retry(format!(
            "no resource snapshot exists yet for placement `{}` and the current resource hash is unknown",
            run.placement_key()
        ))
        .into()),
    }
}

/// The override half of `recordOverrideSnapshots`: each cluster's override snapshots, cluster
/// ones sorted by name, namespaced ones by namespace then name.
fn record_override_snapshots(hub: &Hub<'_>, status: &mut UpdateRunStatus) {
    if hub.world.overrides.is_empty() {
        return;
    }
    for stage in &mut status.stages_status {
        for cluster in &mut stage.clusters {
            if let Some(o) = hub.world.overrides.get(&cluster.cluster_name) {
                let mut cro = o.cluster_resource_override_snapshots.clone();
                cro.sort();
                let mut ro = o.resource_override_snapshots.clone();
                ro.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
                cluster.cluster_resource_override_snapshots = cro;
                cluster.resource_override_snapshots = ro;
            }
        }
    }
}
