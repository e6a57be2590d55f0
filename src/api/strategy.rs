//! `ClusterStagedUpdateStrategy` and `StagedUpdateStrategy`: how clusters are grouped into stages.

use serde::{Deserialize, Serialize};

use super::duration::Duration;
use super::intstr::IntOrString;
use super::selector::LabelSelector;
use super::{Extra, ObjectMeta, kube_kind, string_enum};

/// The spec of both strategy kinds: an ordered list of stages (at most 31).
///
/// A run copies this spec into `status.stagedUpdateStrategySnapshot` when it initializes, so a
/// later change to the strategy never affects a run already under way.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStrategySpec {
    /// The stages, in rollout order.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub stages: Vec<StageConfig>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One stage of a strategy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageConfig {
    /// The stage name, unique within the strategy (`^[a-z0-9]+$`, at most 63 characters).
    pub name: String,
    /// Which member clusters belong to the stage. `None` selects **no** cluster; an empty
    /// selector (`{}`) selects every cluster the placement picked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    /// A label whose integer value orders the clusters of the stage (ties by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sorting_label_key: Option<String>,
    /// How many clusters may update at once: an integer ≥ 1 or `"1%"`–`"100%"` (rounded down,
    /// at least 1). Absent means 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<IntOrString>,
    /// Tasks that run, in parallel, after every cluster of the stage succeeded (at most two,
    /// not two of one type).
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub after_stage_tasks: Vec<StageTask>,
    /// Tasks that must complete before the stage starts (at most one, `Approval` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub before_stage_tasks: Vec<StageTask>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl StageConfig {
    /// A stage selecting clusters by `selector`, with no tasks.
    pub fn new(name: impl Into<String>, selector: LabelSelector) -> StageConfig {
        StageConfig { name: name.into(), label_selector: Some(selector), ..StageConfig::default() }
    }
}

/// A before- or after-stage task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageTask {
    /// `TimedWait` or `Approval`.
    #[serde(rename = "type")]
    pub type_: StageTaskType,
    /// How long a `TimedWait` waits; must be absent for `Approval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_time: Option<Duration>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl StageTask {
    /// An `Approval` task.
    pub fn approval() -> StageTask {
        StageTask { type_: StageTaskType::Approval, wait_time: None, extra: Extra::new() }
    }

    /// A `TimedWait` task of `wait`.
    pub fn timed_wait(wait: Duration) -> StageTask {
        StageTask { type_: StageTaskType::TimedWait, wait_time: Some(wait), extra: Extra::new() }
    }
}

string_enum! {
    /// The type of a stage task.
    pub enum StageTaskType {
        /// Wait a fixed time after the stage's clusters finished.
        TimedWait = "TimedWait",
        /// Wait for a person to approve an approval request.
        Approval = "Approval",
    }
}

kube_kind! {
    /// `ClusterStagedUpdateStrategy` (short name `csus`), cluster-scoped.
    ClusterStagedUpdateStrategy, kind = "ClusterStagedUpdateStrategy", scope = Cluster,
    spec = UpdateStrategySpec
}

kube_kind! {
    /// `StagedUpdateStrategy` (short name `sus`), in a namespace.
    StagedUpdateStrategy, kind = "StagedUpdateStrategy", scope = Namespaced,
    spec = UpdateStrategySpec
}

/// What both strategy kinds have in common.
pub trait UpdateStrategyObject: super::Kind {
    /// The metadata.
    fn metadata(&self) -> &ObjectMeta;
    /// The spec.
    fn spec(&self) -> &UpdateStrategySpec;
}

macro_rules! impl_strategy_object {
    ($($t:ty),*) => {$(
        impl UpdateStrategyObject for $t {
            fn metadata(&self) -> &ObjectMeta { &self.metadata }
            fn spec(&self) -> &UpdateStrategySpec { &self.spec }
        }
    )*};
}
impl_strategy_object!(ClusterStagedUpdateStrategy, StagedUpdateStrategy);
