//! Scenario files: a fleet, KubeFleet manifests, member behaviour, a script and expectations, as
//! plain serde data (the examples read them from YAML with `serde-saphyr`; JSON works as well).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::well_known::{condition_types as ct, reasons};
use crate::api::{ConditionStatus, Duration, Time, find_condition};
use crate::config::Config;
use crate::driver::UpdateRun;

use super::Simulation;
use super::faults::RandomFaults;
use super::hub::SnapshotMode;
use super::member::{Delay, MemberBehaviour, MemberFailure};
use super::script::ScriptStep;

/// A scenario: everything needed to replay a rollout and check its outcome.
///
/// ```yaml
/// name: two-stage rollout
/// settings: {engine: seed-compatible}
/// fleet:
///   - {name: member1, labels: {environment: canary}}
///   - {name: member2, labels: {environment: staging}, delay: 30s}
/// approvals: {after: 2m}
/// manifests:
///   - apiVersion: placement.kubernetes-fleet.io/v1beta1
///     kind: ClusterResourcePlacement
///     ...
/// script:
///   - at: 10m
///     apply: {...a ClusterStagedUpdateRun...}
/// expect:
///   runs: {example-run: succeeded}
///   members:
///     member1: [{kind: ConfigMap, metadata: {name: test-cm}, data: {key: value2}}]
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// A short name.
    pub name: String,
    /// What the scenario shows.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// How the simulation runs.
    #[serde(default)]
    pub settings: Settings,
    /// The member clusters at the start, with their agents' behaviour.
    #[serde(default)]
    pub fleet: Vec<FleetMember>,
    /// The behaviour of agents that do not say otherwise.
    #[serde(default)]
    pub member_defaults: MemberBehaviour,
    /// Who approves approval requests, and how.
    #[serde(default)]
    pub approvals: ApprovalPolicy,
    /// Manifests applied at the start, in order, verbatim KubeFleet (and Kubernetes) objects.
    #[serde(default)]
    pub manifests: Vec<Value>,
    /// What happens later.
    #[serde(default)]
    pub script: Vec<ScriptStep>,
    /// What must hold at the end.
    #[serde(default)]
    pub expect: Expectations,
}

/// How a simulation runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// The simulated time at the start.
    #[serde(default = "default_start")]
    pub start: Time,
    /// The engine's behaviour: today's KubeFleet or the seed-compatibility preset.
    #[serde(default)]
    pub engine: EnginePreset,
    /// When runs are reconciled.
    #[serde(default)]
    pub wakeups: Wakeups,
    /// When resource snapshots are taken; default: `on-change` for `seed-compatible`,
    /// `on-request` for `kubefleet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_snapshots: Option<SnapshotMode>,
    /// Overrides the stuck threshold (5m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stuck_threshold: Option<Duration>,
    /// The step bound: more events than this is reported as a livelock (default 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<usize>,
    /// Stop this long after the start, even if something is still due (needed with `polling`,
    /// where a stuck run polls forever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Duration>,
    /// How long after a failed reconcile it is retried (default 1s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<Duration>,
    /// Seeded random faults at the controller's boundary (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<RandomFaults>,
}

fn default_start() -> Time {
    // 2025-03-12T10:00:00Z, the day of the seed fixtures' timeline.
    Time::from_unix_seconds(1_741_773_600)
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            start: default_start(),
            engine: EnginePreset::default(),
            wakeups: Wakeups::default(),
            resource_snapshots: None,
            stuck_threshold: None,
            max_steps: None,
            until: None,
            retry_after: None,
            faults: None,
        }
    }
}

impl Settings {
    /// The engine configuration these settings describe.
    pub fn config(&self) -> Config {
        let config = self.engine.config();
        match self.stuck_threshold {
            Some(t) => config.with_stuck_threshold(t),
            None => config,
        }
    }

    /// The snapshot mode, defaulted by the engine preset.
    pub fn snapshot_mode(&self) -> SnapshotMode {
        self.resource_snapshots.unwrap_or(match self.engine {
            EnginePreset::Kubefleet => SnapshotMode::OnRequest,
            EnginePreset::SeedCompatible => SnapshotMode::OnChange,
        })
    }
}

/// Which engine [`Config`] a scenario uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnginePreset {
    /// [`Config::kubefleet`]: today's KubeFleet.
    #[default]
    Kubefleet,
    /// [`Config::seed_compatible`]: the older KubeFleet of the seed how-to.
    SeedCompatible,
}

impl EnginePreset {
    /// The preset's configuration.
    pub fn config(self) -> Config {
        match self {
            EnginePreset::Kubefleet => Config::kubefleet(),
            EnginePreset::SeedCompatible => Config::seed_compatible(),
        }
    }
}

/// When the simulation reconciles runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Wakeups {
    /// At the engine's exact [`Wake::at`](crate::Wake::at), and whenever a watch would notice a
    /// change that can unblock a run (a binding, an approval, a snapshot, a member cluster, the
    /// run's spec).
    #[default]
    Exact,
    /// As KubeFleet's controller: at [`Wake::next_call`](crate::Wake::next_call) (its fixed
    /// requeue intervals), woken early only by what its watches see — run spec changes,
    /// approvals being approved or deleted.
    Polling,
}

/// A member cluster at the start of a scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FleetMember {
    /// The cluster name.
    pub name: String,
    /// Its labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// How long its agent takes to apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Delay>,
    /// Its agent fails from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<MemberFailure>,
}

/// Who approves approval requests, and how the approval is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalPolicy {
    /// Approve every request this long after it is created. Without it, only the script
    /// approves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Duration>,
    /// Auto-approve only these requests (by name); empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only: Vec<String>,
    /// Whether the `Approved` condition carries `observedGeneration` and `lastTransitionTime`
    /// (the seed's cluster-scoped patch does; its namespaced one does not).
    #[serde(default = "yes")]
    pub observed_generation: bool,
    /// The condition's reason and message.
    #[serde(default = "lgtm")]
    pub reason: String,
}

fn yes() -> bool {
    true
}

fn lgtm() -> String {
    "lgtm".to_owned()
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        ApprovalPolicy { after: None, only: Vec::new(), observed_generation: true, reason: lgtm() }
    }
}

/// Where a run stands, read from its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunPhase {
    /// Not initialized yet.
    Pending,
    /// Initialized, waiting for `spec.state: Run`.
    Initialized,
    /// Making progress.
    Progressing,
    /// Waiting for stage tasks (an approval, a TimedWait).
    Waiting,
    /// Stuck: a cluster takes longer than the threshold.
    Stuck,
    /// Stopping.
    Stopping,
    /// Stopped.
    Stopped,
    /// Succeeded.
    Succeeded,
    /// Failed (at initialization or later).
    Failed,
    /// Being deleted.
    Deleting,
    /// Gone.
    Deleted,
}

impl RunPhase {
    /// The phase of `run` (`None`: deleted).
    pub fn of(run: Option<&UpdateRun>) -> RunPhase {
        let Some(run) = run else { return RunPhase::Deleted };
        if run.metadata().is_deleting() {
            return RunPhase::Deleting;
        }
        let Some(status) = run.status() else { return RunPhase::Pending };
        let c = &status.conditions;
        match find_condition(c, ct::INITIALIZED).map(|c| c.status) {
            None | Some(ConditionStatus::Unknown) => return RunPhase::Pending,
            Some(ConditionStatus::False) => return RunPhase::Failed,
            Some(ConditionStatus::True) => {}
        }
        match find_condition(c, ct::SUCCEEDED).map(|c| c.status) {
            Some(ConditionStatus::True) => return RunPhase::Succeeded,
            Some(ConditionStatus::False) => return RunPhase::Failed,
            _ => {}
        }
        match find_condition(c, ct::PROGRESSING) {
            None => RunPhase::Initialized,
            Some(p) => match (p.status, p.reason.as_str()) {
                (ConditionStatus::True, _) => RunPhase::Progressing,
                (ConditionStatus::Unknown, _) => RunPhase::Stopping,
                (_, reasons::UPDATE_RUN_STUCK) => RunPhase::Stuck,
                (_, reasons::UPDATE_RUN_STOPPED) => RunPhase::Stopped,
                _ => RunPhase::Waiting,
            },
        }
    }
}

/// What must hold at the end of a scenario.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expectations {
    /// The final phase of runs, by name.
    #[serde(default)]
    pub runs: BTreeMap<String, RunPhase>,
    /// Per member cluster, patterns each of which some object it holds must match (a pattern
    /// matches when every field it names has the value it gives, recursively).
    #[serde(default)]
    pub members: BTreeMap<String, Vec<Value>>,
    /// Event patterns that must occur in this order (other events may come in between).
    #[serde(default)]
    pub events: Vec<Value>,
    /// Event patterns no event may match.
    #[serde(default)]
    pub absent_events: Vec<Value>,
}

/// Whether `actual` has every field of `pattern` with the same value (arrays: same length,
/// element by element).
pub fn matches_pattern(actual: &Value, pattern: &Value) -> bool {
    match (actual, pattern) {
        (Value::Object(a), Value::Object(p)) => {
            p.iter().all(|(k, pv)| a.get(k).is_some_and(|av| matches_pattern(av, pv)))
        }
        (Value::Array(a), Value::Array(p)) => {
            a.len() == p.len() && a.iter().zip(p).all(|(av, pv)| matches_pattern(av, pv))
        }
        (a, p) => a == p,
    }
}

impl Expectations {
    /// Checks the expectations against a simulation; returns what does not hold.
    pub fn check(&self, sim: &Simulation) -> Vec<String> {
        let mut failures = Vec::new();
        for (name, want) in &self.runs {
            let got = sim.run_phase(name);
            if got != *want {
                failures.push(format!("run {name}: expected {want:?}, found {got:?}"));
            }
        }
        let members = sim.members.objects(&sim.hub);
        for (cluster, patterns) in &self.members {
            let held = members.get(cluster).map(Vec::as_slice).unwrap_or(&[]);
            for p in patterns {
                if !held.iter().any(|o| matches_pattern(o, p)) {
                    failures.push(format!("member {cluster}: no object matches {p}"));
                }
            }
        }
        let events: Vec<Value> = sim.events().iter().map(|e| serde_json::to_value(e).unwrap_or(Value::Null)).collect();
        let mut from = 0;
        for p in &self.events {
            match events[from..].iter().position(|e| matches_pattern(e, p)) {
                Some(i) => from += i + 1,
                None => failures.push(format!("no event matching {p} after event #{from}")),
            }
        }
        for p in &self.absent_events {
            if let Some(e) = events.iter().find(|e| matches_pattern(e, p)) {
                failures.push(format!("unexpected event {e} (matches {p})"));
            }
        }
        failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns_match_subsets() {
        let object = json!({"kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ns"}, "data": {"key": "v"}});
        assert!(matches_pattern(&object, &json!({"kind": "ConfigMap", "data": {"key": "v"}})));
        assert!(!matches_pattern(&object, &json!({"data": {"key": "w"}})));
        assert!(!matches_pattern(&object, &json!({"spec": {}})));
        assert!(matches_pattern(&json!([{"a": 1, "b": 2}]), &json!([{"a": 1}])));
        assert!(!matches_pattern(&json!([{"a": 1}, {"a": 2}]), &json!([{"a": 1}])));
    }
}
