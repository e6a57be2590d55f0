//! The checks and computations initialization and validation share: the placement, the policy
//! snapshot, the bindings, and the stages computed from a strategy against today's clusters.

use std::cell::OnceCell;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::api::well_known::{NUMBER_OF_CLUSTERS_ANNOTATION, POLICY_INDEX_LABEL, condition_types as ct};
use crate::api::{
    ApplyStrategy, Binding, BindingState, PlacementPolicy, PolicySnapshot, RolloutStrategy, StageConfig, StageTask,
    StageTaskType, UpdateStrategySpec, compile, is_condition_true,
};
use crate::gocompat;

use super::failure::{Failure, UNEXP, USER, VALFAIL};
use super::hub::{Hub, RunRef};
use super::index::{Candidate, ClusterIndex};

/// `validatePlacement`: the placement exists and rolls out externally; returns its apply
/// strategy after defaulting.
pub(crate) fn check_placement(hub: &Hub<'_>) -> Result<ApplyStrategy, Failure> {
    let Some(placement) = hub.placement() else {
        return Err(Failure::valfail(format!("{USER}parent placement not found")));
    };
    let strategy = placement.spec.strategy.type_or_default();
    if strategy != RolloutStrategy::EXTERNAL {
        return Err(Failure::valfail(format!(
            "{USER}parent placement does not have an external rollout strategy, current strategy: {strategy}"
        )));
    }
    Ok(ApplyStrategy::defaulted(placement.spec.strategy.apply_strategy.as_ref()))
}

/// What `determinePolicySnapshot` records, including the fields it writes before failing.
pub(crate) struct PolicyOutcome<'w> {
    /// `policySnapshotIndexUsed`, once known.
    pub(crate) index: Option<String>,
    /// `policyObservedClusterCount` (−1 for PickAll), once known.
    pub(crate) count: Option<i64>,
    pub(crate) result: Result<&'w PolicySnapshot, Failure>,
}

/// `determinePolicySnapshot`: the single latest policy snapshot, its index and cluster count.
pub(crate) fn determine_policy_snapshot<'w>(hub: &Hub<'w>, run: &RunRef<'_>) -> PolicyOutcome<'w> {
    let fail = |f| PolicyOutcome { index: None, count: None, result: Err(f) };
    let latest = hub.latest_policy_snapshots();
    let snapshot = match latest.as_slice() {
        [] => {
            return fail(Failure::valfail(format!(
                "no latest policy snapshot found for placement {}",
                run.placement_key()
            )));
        }
        [one] => *one,
        many => {
            return fail(Failure::valfail(format!(
                "{UNEXP}multiple active policy snapshots found for placement {}: got {}, want 1",
                run.placement_key(),
                many.len()
            )));
        }
    };
    let nn = snapshot.metadata.namespaced_name();
    let index = match snapshot.metadata.label(POLICY_INDEX_LABEL) {
        Some(i) if !i.is_empty() => i.to_owned(),
        _ => {
            return fail(Failure::valfail(format!("{UNEXP}policy snapshot `{nn}` does not have a policy index label")));
        }
    };
    let policy = snapshot.spec.policy.as_ref();
    let count = match policy.map(PlacementPolicy::placement_type) {
        Some(PlacementPolicy::PICK_N) => match pick_n_count(snapshot) {
            Ok(n) => n,
            Err(e) => {
                // Note the comma after "the updateRun": KubeFleet wraps this one with "%w, %s".
                let msg = format!(
                    "cannot continue the updateRun: failed to validate the updateRun, {UNEXP}{e}: the policy snapshot `{nn}` doesn't have valid cluster count annotation"
                );
                return PolicyOutcome { index: Some(index), count: None, result: Err(Failure::Abort(msg)) };
            }
        },
        Some(PlacementPolicy::PICK_FIXED) => policy.map_or(0, |p| p.cluster_names.len() as i64),
        _ => -1,
    };
    let result = if is_condition_true(snapshot.conditions(), ct::SCHEDULED, snapshot.metadata.generation()) {
        Ok(snapshot)
    } else {
        Err(Failure::valfail(format!("policy snapshot `{}` not fully scheduled yet", snapshot.metadata.name())))
    };
    PolicyOutcome { index: Some(index), count: Some(count), result }
}

/// `annotations.ExtractNumOfClustersFromPolicySnapshot`.
fn pick_n_count(snapshot: &PolicySnapshot) -> Result<i64, String> {
    let Some(value) = snapshot.metadata.annotation(NUMBER_OF_CLUSTERS_ANNOTATION) else {
        return Err(format!("cannot find annotation {NUMBER_OF_CLUSTERS_ANNOTATION}"));
    };
    match gocompat::atoi(value) {
        Ok(n) if n >= 0 => Ok(n),
        // Go formats a nil wrapped error as `%!w(<nil>)`.
        Ok(_) => {
            Err(format!("invalid annotation {NUMBER_OF_CLUSTERS_ANNOTATION}: {value} is not a valid count: %!w(<nil>)"))
        }
        Err(e) => Err(format!("invalid annotation {NUMBER_OF_CLUSTERS_ANNOTATION}: {value} is not a valid count: {e}")),
    }
}

/// The placement's bindings split as `collectScheduledClusters` splits them.
pub(crate) struct Scheduled<'w> {
    /// On the latest policy snapshot and not Unscheduled, in binding-name order.
    pub(crate) selected: Vec<&'w Binding>,
    /// Unscheduled, in binding-name order.
    pub(crate) to_delete: Vec<&'w Binding>,
}

/// `collectScheduledClusters`. `observed_count` is the count `determinePolicySnapshot` recorded
/// (−1 for PickAll); returns the bindings and the count to record.
pub(crate) fn collect_scheduled<'w>(
    hub: &Hub<'w>,
    latest: &PolicySnapshot,
    observed_count: i64,
) -> Result<(Scheduled<'w>, i64), Failure> {
    let latest_name = latest.metadata.name();
    let mut scheduled = Scheduled { selected: Vec::with_capacity(hub.bindings().len()), to_delete: Vec::new() };
    for &binding in hub.bindings() {
        let unscheduled = binding.spec.state == BindingState::Unscheduled;
        if binding.spec.scheduling_policy_snapshot_name == latest_name {
            if unscheduled { scheduled.to_delete.push(binding) } else { scheduled.selected.push(binding) }
        } else if unscheduled {
            scheduled.to_delete.push(binding);
        } else {
            let ns = binding.metadata.namespace();
            return Err(Failure::retry(format!(
                "binding `{ns}/{}` with old policy snapshot `{ns}/{}` has state {}, we might observe a transient state, need retry",
                binding.metadata.name(),
                binding.spec.scheduling_policy_snapshot_name,
                binding.spec.state
            )));
        }
    }
    if scheduled.selected.is_empty() && scheduled.to_delete.is_empty() {
        return Err(Failure::valfail(format!(
            "no scheduled or to-be-deleted bindings found for the latest policy snapshot {}",
            latest.metadata.namespaced_name()
        )));
    }
    let selected = scheduled.selected.len() as i64;
    if observed_count == -1 {
        Ok((scheduled, selected))
    } else if observed_count != selected {
        Err(Failure::valfail(format!(
            "{UNEXP}the number of selected bindings {selected} is not equal to the observed cluster count {observed_count}"
        )))
    } else {
        Ok((scheduled, observed_count))
    }
}

/// One stage's clusters in update order, each with its binding (the stage's name is the
/// strategy's stage name at the same index).
///
/// A stage planned from scratch holds them; a stage of a remembered plan holds only where its
/// bindings are in the world, and looks them up the first time they are asked for — a warm
/// reconcile reads the clusters of the stage it works on, and of the others only their number.
pub(crate) enum PlannedStage<'a> {
    /// Planned from scratch.
    Planned(Vec<(&'a str, &'a Binding)>),
    /// Stage `stage` of a remembered plan: its bindings are at `positions[stage]` in
    /// `bindings` (every position in range), looked up into `resolved` when first asked for.
    Remembered {
        bindings: &'a [Arc<Binding>],
        /// Every stage's positions, shared with the cache.
        positions: Arc<[Box<[u32]>]>,
        stage: usize,
        resolved: OnceCell<Vec<(&'a str, &'a Binding)>>,
    },
}

impl<'a> PlannedStage<'a> {
    /// How many clusters the stage has.
    pub(crate) fn len(&self) -> usize {
        match self {
            PlannedStage::Planned(clusters) => clusters.len(),
            PlannedStage::Remembered { positions, stage, .. } => positions[*stage].len(),
        }
    }

    /// The stage's clusters in update order, each with its binding.
    pub(crate) fn clusters(&self) -> &[(&'a str, &'a Binding)] {
        match self {
            PlannedStage::Planned(clusters) => clusters,
            PlannedStage::Remembered { bindings, positions, stage, resolved } => resolved.get_or_init(|| {
                positions[*stage]
                    .iter()
                    .map(|&i| &*bindings[i as usize])
                    .map(|b| (b.spec.target_cluster.as_str(), b))
                    .collect()
            }),
        }
    }
}

/// The stages planned for the run, and the bindings to delete after them.
pub(crate) struct Plan<'w> {
    pub(crate) stages: Vec<PlannedStage<'w>>,
    pub(crate) to_delete: Vec<&'w Binding>,
}

/// `computeRunStageStatus`: groups the selected clusters into the strategy's stages, in update
/// order. `strategy_key` is the strategy's `namespace/name` for messages. On the "not placed"
/// failure the computed stages come back too: KubeFleet persists them.
pub(crate) fn plan_stages<'a>(
    hub: &Hub<'a>,
    strategy_key: &str,
    strategy: &UpdateStrategySpec,
    scheduled: Scheduled<'a>,
) -> Result<Plan<'a>, (Failure, Option<Vec<PlannedStage<'a>>>)> {
    // The selected bindings by target cluster; with two for one cluster the last by name wins,
    // as in KubeFleet's map. Bindings are usually named after their cluster, so the list is
    // usually in target order already, without two for one cluster, and this costs one pass.
    let mut by_target = scheduled.selected;
    let target = |b: &&'a Binding| b.spec.target_cluster.as_str();
    if !by_target.windows(2).all(|w| target(&w[0]) < target(&w[1])) {
        by_target.sort_by(|a, b| target(a).cmp(target(b)));
        by_target.dedup_by(|later, kept| {
            let same = target(later) == target(kept);
            if same {
                *kept = *later;
            }
            same
        });
    }
    // Only member clusters the placement selected can join a stage, in name order: a merge of
    // the two name-ordered lists.
    let members = hub.member_clusters();
    let mut candidates: Vec<Candidate<'a>> = Vec::with_capacity(by_target.len());
    let (mut m, mut b) = (0, 0);
    while let (Some(&(name, labels, _)), Some(&binding)) = (members.get(m), by_target.get(b)) {
        match name.cmp(target(&binding)) {
            Ordering::Less => m += 1,
            Ordering::Greater => b += 1,
            Ordering::Equal => {
                candidates.push(Candidate { name, labels, binding });
                m += 1;
                b += 1;
            }
        }
    }
    let mut index = ClusterIndex::new(candidates);
    let mut placed = vec![false; index.candidates.len()];
    let mut placed_count = 0usize;
    let mut stages = Vec::with_capacity(strategy.stages.len());
    for stage in &strategy.stages {
        check_tasks(strategy_key, stage).map_err(|f| (f, None))?;
        let selector = compile(stage.label_selector.as_ref()).map_err(|e| {
            let msg = format!(
                "{USER}the stage label selector is invalid, updateStrategy: `{strategy_key}`, stage: {}, err: {e}",
                stage.name
            );
            (Failure::valfail(msg), None)
        })?;
        let matching = index.matching(selector.requirements());
        let mut clusters = Vec::with_capacity(matching.len());
        // The sorting label of each cluster, when the stage has one.
        let mut orders = Vec::with_capacity(if stage.sorting_label_key.is_some() { matching.len() } else { 0 });
        for i in matching {
            let c = &index.candidates[i as usize];
            if placed[i as usize] {
                let msg = format!("{USER}cluster `{}` appears in more than one stages", c.name);
                return Err((Failure::valfail(msg), None));
            }
            if let Some(key) = &stage.sorting_label_key {
                let value = c.labels.get(key).map_or("", String::as_str);
                let order = gocompat::atoi(value).map_err(|e| {
                    let msg =
                        format!("{USER}the sorting label `{key}:{value}` on cluster `{}` is not valid: {e}", c.name);
                    (Failure::valfail(msg), None)
                })?;
                orders.push(order);
            }
            clusters.push((c.name, c.binding));
            placed[i as usize] = true;
            placed_count += 1;
        }
        // KubeFleet sorts by (label as an integer, name). The candidates arrive in name order, so a
        // stable sort on the integer alone gives the same order without comparing names.
        if !orders.is_empty() {
            let mut keyed: Vec<(i64, (&'a str, &'a Binding))> = orders.into_iter().zip(clusters).collect();
            keyed.sort_by_key(|m| m.0);
            clusters = keyed.into_iter().map(|(_, c)| c).collect();
        }
        stages.push(PlannedStage::Planned(clusters));
    }
    if placed_count != by_target.len() {
        let placed_names: BTreeSet<&str> = stages.iter().flat_map(|s| s.clusters().iter().map(|c| c.0)).collect();
        let selected_names: BTreeSet<&str> = by_target.iter().map(target).collect();
        let missing: Vec<&str> = selected_names.difference(&placed_names).copied().collect();
        let msg = format!(
            "{VALFAIL}{USER}some clusters are not placed in any stage, total {}, showing up to 10: {}",
            missing.len(),
            missing.iter().take(10).copied().collect::<Vec<_>>().join(", ")
        );
        return Err((Failure::Abort(msg), Some(stages)));
    }
    Ok(Plan { stages, to_delete: scheduled.to_delete })
}

fn check_tasks(strategy_key: &str, stage: &StageConfig) -> Result<(), Failure> {
    let wrap = |which: &str, err: String| {
        Failure::valfail(format!(
            "{USER}the {which} stage tasks are invalid, updateStrategy: `{strategy_key}`, stage: {}, err: {err}",
            stage.name
        ))
    };
    validate_before_stage_tasks(&stage.before_stage_tasks).map_err(|e| wrap("before", e))?;
    validate_after_stage_tasks(&stage.after_stage_tasks).map_err(|e| wrap("after", e))
}

/// `validateBeforeStageTask`.
fn validate_before_stage_tasks(tasks: &[StageTask]) -> Result<(), String> {
    if tasks.len() > 1 {
        return Err("beforeStageTasks can have at most one task".to_owned());
    }
    for (i, task) in tasks.iter().enumerate() {
        if task.type_ != StageTaskType::Approval {
            return Err(format!(
                "task {i} of type {} is not allowed in beforeStageTasks, allowed type: Approval",
                task.type_
            ));
        }
        if task.wait_time.is_some() {
            return Err(format!("task {i} of type Approval cannot have wait duration set"));
        }
    }
    Ok(())
}

/// `validateAfterStageTask`.
fn validate_after_stage_tasks(tasks: &[StageTask]) -> Result<(), String> {
    if let [a, b] = tasks
        && a.type_ == b.type_
    {
        return Err(format!("afterStageTasks cannot have two tasks of the same type: {}", a.type_));
    }
    for (i, task) in tasks.iter().enumerate() {
        if task.type_ == StageTaskType::TimedWait {
            match task.wait_time {
                None => return Err(format!("task {i} of type TimedWait has wait duration set to nil")),
                Some(d) if d.as_nanos() <= 0 => {
                    return Err(format!("task {i} of type TimedWait has wait duration <= 0"));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// `removeWaitTimeFromUpdateRunStatus` on a spec: Approval tasks carry no wait time. Returns
/// whether any was removed.
pub(crate) fn strip_approval_wait_times(spec: &mut UpdateStrategySpec) -> bool {
    let mut changed = false;
    for stage in &mut spec.stages {
        for task in stage.before_stage_tasks.iter_mut().chain(stage.after_stage_tasks.iter_mut()) {
            if task.type_ == StageTaskType::Approval && task.wait_time.is_some() {
                task.wait_time = None;
                changed = true;
            }
        }
    }
    changed
}
