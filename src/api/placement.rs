//! `ClusterResourcePlacement` and `ResourcePlacement`, reduced to what a staged run reads: the
//! rollout strategy type, the apply strategy and the scheduling policy.

use serde::{Deserialize, Serialize};

use super::{Extra, ObjectMeta, Scope};

/// A `ClusterResourcePlacement` (`kind` says so, cluster-scoped) or a `ResourcePlacement`
/// (namespaced). Resource selectors and status are kept in `extra`/`spec.extra` verbatim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    /// `apiVersion`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// `ClusterResourcePlacement` or `ResourcePlacement`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec`.
    #[serde(default)]
    pub spec: PlacementSpec,
    /// Fields this crate does not model (including `status`), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Placement {
    /// `kind` of a cluster-scoped placement.
    pub const CLUSTER_KIND: &'static str = "ClusterResourcePlacement";
    /// `kind` of a namespaced placement.
    pub const NAMESPACED_KIND: &'static str = "ResourcePlacement";

    /// A placement of the given scope.
    pub fn new(scope: Scope, metadata: ObjectMeta, spec: PlacementSpec) -> Placement {
        let kind = match scope {
            Scope::Cluster => Self::CLUSTER_KIND,
            Scope::Namespaced => Self::NAMESPACED_KIND,
        };
        Placement {
            api_version: super::API_VERSION.to_owned(),
            kind: kind.to_owned(),
            metadata,
            spec,
            extra: Extra::new(),
        }
    }
}

/// The fields of a placement spec a staged run depends on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlacementSpec {
    /// What to place and where; `None` is PickAll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PlacementPolicy>,
    /// How to roll out; must be `External` for staged runs.
    #[serde(default)]
    pub strategy: RolloutStrategy,
    /// Fields this crate does not model (`resourceSelectors`, `revisionHistoryLimit`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The scheduling policy of a placement (and of its policy snapshots).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlacementPolicy {
    /// `PickAll` (default), `PickN` or `PickFixed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement_type: Option<String>,
    /// PickFixed: the clusters by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::null_as_default")]
    pub cluster_names: Vec<String>,
    /// PickN: how many clusters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_clusters: Option<i32>,
    /// Fields this crate does not model (affinity, topology spread, tolerations).
    #[serde(flatten)]
    pub extra: Extra,
}

impl PlacementPolicy {
    /// `PickAll`.
    pub const PICK_ALL: &'static str = "PickAll";
    /// `PickN`.
    pub const PICK_N: &'static str = "PickN";
    /// `PickFixed`.
    pub const PICK_FIXED: &'static str = "PickFixed";

    /// The placement type, `PickAll` when unset.
    pub fn placement_type(&self) -> &str {
        match self.placement_type.as_deref() {
            None | Some("") => Self::PICK_ALL,
            Some(t) => t,
        }
    }
}

/// `spec.strategy` of a placement.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStrategy {
    /// `RollingUpdate` (default) or `External`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// How member agents apply resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_strategy: Option<ApplyStrategy>,
    /// Fields this crate does not model (`rollingUpdate`, `deleteStrategy`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

impl RolloutStrategy {
    /// `External`: rollouts are driven by staged update runs.
    pub const EXTERNAL: &'static str = "External";
    /// `RollingUpdate`: the default.
    pub const ROLLING_UPDATE: &'static str = "RollingUpdate";

    /// The type after KubeFleet's defaulting.
    pub fn type_or_default(&self) -> &str {
        match self.type_.as_deref() {
            None | Some("") => Self::ROLLING_UPDATE,
            Some(t) => t,
        }
    }
}

/// How member agents apply resources. Runs record the placement's apply strategy **after**
/// defaulting, and write it into every binding they update.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyStrategy {
    /// `PartialComparison` (default) or `FullComparison`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison_option: Option<String>,
    /// `Always` (default) or `IfNotDrifted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_to_apply: Option<String>,
    /// `ClientSideApply` (default), `ServerSideApply` or `ReportDiff`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Whether resources already owned by others may be co-owned.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_co_ownership: bool,
    /// Server-side apply options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_apply_config: Option<ServerSideApplyConfig>,
    /// `Always` (default), `IfNoDiff` or `Never`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_to_take_over: Option<String>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

super::clone_in_place!(ApplyStrategy {
    comparison_option,
    when_to_apply,
    type_,
    allow_co_ownership,
    server_side_apply_config,
    when_to_take_over,
});

/// Server-side apply options.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerSideApplyConfig {
    /// Force conflicts.
    #[serde(default, rename = "force")]
    pub force_conflicts: bool,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn empty_to_default(v: &mut Option<String>, default: &str) {
    if v.as_deref().is_none_or(str::is_empty) {
        *v = Some(default.to_owned());
    }
}

impl ApplyStrategy {
    /// `ReportDiff`: members only report differences.
    pub const REPORT_DIFF: &'static str = "ReportDiff";

    /// KubeFleet's defaulting (`SetDefaultsApplyStrategy`); `None` defaults to all defaults.
    pub fn defaulted(strategy: Option<&ApplyStrategy>) -> ApplyStrategy {
        let mut s = strategy.cloned().unwrap_or_default();
        empty_to_default(&mut s.type_, "ClientSideApply");
        if s.type_.as_deref() == Some("ServerSideApply") && s.server_side_apply_config.is_none() {
            s.server_side_apply_config = Some(ServerSideApplyConfig::default());
        }
        empty_to_default(&mut s.comparison_option, "PartialComparison");
        empty_to_default(&mut s.when_to_apply, "Always");
        empty_to_default(&mut s.when_to_take_over, "Always");
        s
    }

    /// The strategy as Go's `%v` prints a `*ApplyStrategy` (`&{PartialComparison Always
    /// ClientSideApply false <nil> Always}`), as KubeFleet's "applyStrategy … is outdated" message
    /// shows it. A non-nil server-side config prints as `&{<force>}` where Go prints an address.
    pub fn go_debug(strategy: Option<&ApplyStrategy>) -> String {
        let Some(s) = strategy else { return "<nil>".to_owned() };
        let ssa = match &s.server_side_apply_config {
            None => "<nil>".to_owned(),
            Some(c) => format!("&{{{}}}", c.force_conflicts),
        };
        format!(
            "&{{{} {} {} {} {} {}}}",
            s.comparison_option.as_deref().unwrap_or(""),
            s.when_to_apply.as_deref().unwrap_or(""),
            s.type_.as_deref().unwrap_or(""),
            s.allow_co_ownership,
            ssa,
            s.when_to_take_over.as_deref().unwrap_or(""),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nil_and_spelled_out_defaults_are_equal() {
        let spelled: ApplyStrategy = serde_json::from_str(
            r#"{"type":"ClientSideApply","comparisonOption":"PartialComparison","whenToApply":"Always","whenToTakeOver":"Always"}"#,
        )
        .unwrap();
        assert_eq!(ApplyStrategy::defaulted(None), ApplyStrategy::defaulted(Some(&spelled)));
        assert_eq!(
            ApplyStrategy::go_debug(Some(&ApplyStrategy::defaulted(None))),
            "&{PartialComparison Always ClientSideApply false <nil> Always}"
        );
    }

    #[test]
    fn server_side_apply_gets_a_config() {
        let ssa = ApplyStrategy { type_: Some("ServerSideApply".into()), ..Default::default() };
        assert_eq!(
            ApplyStrategy::defaulted(Some(&ssa)).server_side_apply_config,
            Some(ServerSideApplyConfig::default())
        );
    }

    #[test]
    fn strategy_type_defaults_to_rolling_update() {
        assert_eq!(RolloutStrategy::default().type_or_default(), "RollingUpdate");
        assert_eq!(PlacementPolicy::default().placement_type(), "PickAll");
    }
}
