//! `ClusterStagedUpdateRun` and `StagedUpdateRun`: one release executed through a strategy's
//! stages, and the status the engine writes.

use serde::{Deserialize, Serialize};

use super::meta::Condition;
use super::placement::ApplyStrategy;
use super::snapshot::NamespacedName;
use super::strategy::{StageTaskType, UpdateStrategySpec};
use super::time::Time;
use super::{Extra, ObjectMeta, kube_kind, string_enum};

/// The spec of both run kinds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRunSpec {
    /// The placement to roll out (immutable).
    #[serde(default)]
    pub placement_name: String,
    /// The resource snapshot index to roll out, as a string (`"1"`); absent or empty means
    /// "the latest resources" (immutable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_snapshot_index: Option<String>,
    /// The strategy to follow (JSON name `stagedRolloutStrategyName`; immutable).
    #[serde(default, rename = "stagedRolloutStrategyName")]
    pub staged_update_strategy_name: String,
    /// `Initialize`, `Run` or `Stop`. Absent is `Initialize` for today's KubeFleet (the CRD
    /// default) and `Run` for the older KubeFleet the seed how-to was written against; see
    /// [`Config::missing_state`](crate::Config::missing_state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl UpdateRunSpec {
    /// A spec for `placement` at `resource_snapshot_index` following `strategy`, state unset.
    pub fn new(
        placement: impl Into<String>,
        resource_snapshot_index: Option<&str>,
        strategy: impl Into<String>,
    ) -> Self {
        UpdateRunSpec {
            placement_name: placement.into(),
            resource_snapshot_index: resource_snapshot_index.map(str::to_owned),
            staged_update_strategy_name: strategy.into(),
            state: None,
            extra: Extra::new(),
        }
    }

    /// The index as KubeFleet reads it: `""` when absent.
    pub fn resource_snapshot_index(&self) -> &str {
        self.resource_snapshot_index.as_deref().unwrap_or("")
    }
}

string_enum! {
    /// The desired state of a run.
    pub enum State {
        /// Compute the stages, then wait (the CRD default today).
        Initialize = "Initialize",
        /// Execute, or resume.
        Run = "Run",
        /// Let in-flight clusters finish, start nothing new.
        Stop = "Stop",
    }
}

/// The status KubeFleet's controller writes on a run, field for field.
///
/// [`Clone::clone_from`] copies one status over another field by field, reusing the target's
/// strings and vectors (as do the run kinds' and [`Condition`]'s): a store that overwrites the
/// status it keeps, or a loop that copies each observation over the previous one, allocates
/// nothing per stage, cluster or condition when the shapes match; only the recorded apply
/// strategy and strategy snapshot are cloned whole.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRunStatus {
    /// The index label of the policy snapshot the run was initialized with.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub policy_snapshot_index_used: String,
    /// How many clusters the policy selected (−1 while unknown for PickAll).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub policy_observed_cluster_count: i64,
    /// The resource snapshot index actually rolled out.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_snapshot_index_used: String,
    /// The placement's apply strategy, defaulted, as recorded at initialization.
    #[serde(default, rename = "appliedStrategy", skip_serializing_if = "Option::is_none")]
    pub apply_strategy: Option<ApplyStrategy>,
    /// The strategy spec copied at initialization, with `waitTime` stripped from Approval tasks.
    #[serde(default, rename = "stagedUpdateStrategySnapshot", skip_serializing_if = "Option::is_none")]
    pub update_strategy_snapshot: Option<UpdateStrategySpec>,
    /// One entry per stage, computed at initialization.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub stages_status: Vec<StageUpdatingStatus>,
    /// The deletion stage: clusters whose bindings are removed after the last stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_stage_status: Option<StageUpdatingStatus>,
    /// `Initialized`, `Progressing`, `Succeeded`.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub conditions: Vec<Condition>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

super::clone_in_place!(UpdateRunStatus {
    policy_snapshot_index_used,
    policy_observed_cluster_count,
    resource_snapshot_index_used,
    apply_strategy,
    update_strategy_snapshot,
    stages_status,
    deletion_stage_status,
    conditions
});

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// The status of one stage (or of the deletion stage).
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageUpdatingStatus {
    /// The stage name.
    #[serde(default)]
    pub stage_name: String,
    /// The stage's clusters in update order. Always written, `[]` when empty.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub clusters: Vec<ClusterUpdatingStatus>,
    /// One entry per after-stage task of the strategy, present from initialization on.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub after_stage_task_status: Vec<StageTaskStatus>,
    /// One entry per before-stage task.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub before_stage_task_status: Vec<StageTaskStatus>,
    /// When the stage started (set once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the stage finished, failed or was skipped (set once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Time>,
    /// `Progressing`, `Succeeded`.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub conditions: Vec<Condition>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

super::clone_in_place!(StageUpdatingStatus {
    stage_name,
    clusters,
    after_stage_task_status,
    before_stage_task_status,
    start_time,
    end_time,
    conditions
});

/// The status of one cluster within a stage.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterUpdatingStatus {
    /// The member cluster.
    #[serde(default)]
    pub cluster_name: String,
    /// Namespaced override snapshots applying to this cluster, sorted by namespace then name.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub resource_override_snapshots: Vec<NamespacedName>,
    /// Cluster-scoped override snapshots applying to this cluster, sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub cluster_resource_override_snapshots: Vec<String>,
    /// `Started`, `Succeeded`.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub conditions: Vec<Condition>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

super::clone_in_place!(ClusterUpdatingStatus {
    cluster_name,
    resource_override_snapshots,
    cluster_resource_override_snapshots,
    conditions
});

impl ClusterUpdatingStatus {
    /// A cluster entry with no conditions.
    pub fn new(cluster_name: impl Into<String>) -> Self {
        ClusterUpdatingStatus { cluster_name: cluster_name.into(), ..Default::default() }
    }
}

/// The status of one before- or after-stage task.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageTaskStatus {
    /// The task type.
    #[serde(rename = "type")]
    pub type_: StageTaskType,
    /// For Approval tasks, the name of the approval request.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub approval_request_name: String,
    /// `ApprovalRequestCreated`, `ApprovalRequestApproved` or `WaitTimeElapsed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub conditions: Vec<Condition>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

super::clone_in_place!(StageTaskStatus { type_, approval_request_name, conditions });

kube_kind! {
    /// `ClusterStagedUpdateRun` (short name `csur`), cluster-scoped; rolls out a
    /// `ClusterResourcePlacement`.
    ClusterStagedUpdateRun, kind = "ClusterStagedUpdateRun", scope = Cluster,
    spec = UpdateRunSpec, status = UpdateRunStatus
}

kube_kind! {
    /// `StagedUpdateRun` (short name `sur`), in a namespace; rolls out a `ResourcePlacement` of
    /// the same namespace.
    StagedUpdateRun, kind = "StagedUpdateRun", scope = Namespaced,
    spec = UpdateRunSpec, status = UpdateRunStatus
}

/// What both run kinds have in common: the engine's input is any `UpdateRunObject`, so one code
/// path serves both scopes.
pub trait UpdateRunObject: super::Kind {
    /// The metadata.
    fn metadata(&self) -> &ObjectMeta;
    /// The metadata, mutably.
    fn metadata_mut(&mut self) -> &mut ObjectMeta;
    /// The spec.
    fn spec(&self) -> &UpdateRunSpec;
    /// The status, if any was written.
    fn status(&self) -> Option<&UpdateRunStatus>;
    /// Replaces the status.
    fn set_status(&mut self, status: UpdateRunStatus);
    /// The metadata and spec, with the status mutably: what the engine updates in place.
    fn parts_mut(&mut self) -> (&ObjectMeta, &UpdateRunSpec, &mut Option<UpdateRunStatus>);
}

macro_rules! impl_run_object {
    ($($t:ty),*) => {$(
        impl UpdateRunObject for $t {
            fn metadata(&self) -> &ObjectMeta { &self.metadata }
            fn metadata_mut(&mut self) -> &mut ObjectMeta { &mut self.metadata }
            fn spec(&self) -> &UpdateRunSpec { &self.spec }
            fn status(&self) -> Option<&UpdateRunStatus> { self.status.as_ref() }
            fn set_status(&mut self, status: UpdateRunStatus) { self.status = Some(status); }
            fn parts_mut(&mut self) -> (&ObjectMeta, &UpdateRunSpec, &mut Option<UpdateRunStatus>) {
                (&self.metadata, &self.spec, &mut self.status)
            }
        }
    )*};
}
impl_run_object!(ClusterStagedUpdateRun, StagedUpdateRun);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ConditionStatus, NamespacedName};

    fn conditions(n: usize, tag: &str) -> Vec<Condition> {
        (0..n)
            .map(|i| {
                let mut c =
                    Condition::new(format!("Type{i}"), ConditionStatus::True, i as i64, format!("{tag}Reason{i}"), "");
                c.message = tag.repeat(i);
                if i % 2 == 1 {
                    c.last_transition_time = Some(Time::from_unix_seconds(i as i64));
                    c.extra.insert(format!("x{tag}"), serde_json::json!([i]));
                }
                c
            })
            .collect()
    }

    /// A status with `stages[i]` clusters in stage `i`, each with `depth` conditions; `tag`
    /// makes every string differ between two statuses of the same shape.
    fn status(stages: &[usize], depth: usize, tag: &str) -> UpdateRunStatus {
        let stage = |s: usize, clusters: usize| StageUpdatingStatus {
            stage_name: format!("{tag}stage-{s}"),
            clusters: (0..clusters)
                .map(|c| ClusterUpdatingStatus {
                    cluster_name: format!("{tag}member-{s}-{c}"),
                    resource_override_snapshots: (0..c % 2)
                        .map(|i| NamespacedName { namespace: tag.to_owned(), name: format!("ro-{i}") })
                        .collect(),
                    cluster_resource_override_snapshots: (0..c % 3).map(|i| format!("{tag}cro-{i}")).collect(),
                    conditions: conditions((c + depth) % (depth + 1), tag),
                    extra: Extra::new(),
                })
                .collect(),
            after_stage_task_status: (0..s % 2)
                .map(|_| StageTaskStatus {
                    type_: StageTaskType::Approval,
                    approval_request_name: format!("{tag}approval"),
                    conditions: conditions(depth, tag),
                    extra: Extra::new(),
                })
                .collect(),
            before_stage_task_status: Vec::new(),
            start_time: s.is_multiple_of(2).then(|| Time::from_unix_seconds(s as i64)),
            end_time: None,
            conditions: conditions(depth.min(2), tag),
            extra: Extra::new(),
        };
        UpdateRunStatus {
            policy_snapshot_index_used: format!("{tag}0"),
            policy_observed_cluster_count: stages.iter().sum::<usize>() as i64,
            resource_snapshot_index_used: tag.to_owned(),
            apply_strategy: None,
            update_strategy_snapshot: None,
            stages_status: stages.iter().enumerate().map(|(s, &n)| stage(s, n)).collect(),
            deletion_stage_status: (depth % 2 == 1).then(|| stage(9, depth)),
            conditions: conditions(depth, tag),
            extra: Extra::new(),
        }
    }

    /// `clone_from` reuses buffers, and must still leave an exact copy whatever the two shapes:
    /// fewer or more stages, clusters and conditions, strings shorter or longer, options set or
    /// unset on either side.
    #[test]
    fn clone_from_copies_exactly_whatever_it_overwrites() {
        let shapes = [
            status(&[], 0, ""),
            status(&[3], 1, "a"),
            status(&[3], 1, "bbbbbbbbbbbbbbbb"),
            status(&[1, 4, 2], 2, "c"),
            status(&[5, 0, 2, 7], 3, "dd"),
            UpdateRunStatus::default(),
        ];
        for from in &shapes {
            for to in &shapes {
                let mut copy = to.clone();
                copy.clone_from(from);
                assert_eq!(&copy, from);

                let mut run = StagedUpdateRun::new(ObjectMeta::named("to"), UpdateRunSpec::default());
                run.status = Some(to.clone());
                let mut source = StagedUpdateRun::new(ObjectMeta::named("from"), UpdateRunSpec::default());
                source.status = Some(from.clone());
                run.clone_from(&source);
                assert_eq!(run, source);
            }
        }
    }
}
