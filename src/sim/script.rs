//! Scripted events: what happens to the fleet, the hub and the runs at given times.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{Duration, State};

use super::member::MemberFailure;
use super::transcript::{Event, EventKind};
use super::{SimError, Simulation};

/// One scripted event: `at` (an offset from the scenario's start, in Go's duration format) and
/// one action key.
///
/// ```yaml
/// - at: 6m
///   apply: {apiVersion: v1, kind: ConfigMap, metadata: {name: test-cm, namespace: test-namespace}, data: {key: value2}}
/// - at: 12m
///   setState: {run: example-run, state: Stop}
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScriptStep {
    /// When, after the scenario's start.
    pub at: Duration,
    /// What.
    #[serde(flatten)]
    pub action: ScriptAction,
}

/// A scripted action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ScriptAction {
    /// Create or update an object from its manifest, as `kubectl apply` does: a placement, a
    /// strategy, a run, a `MemberCluster` (joins, or is relabelled) or any hub resource (a change
    /// to a selected resource is what makes a new resource snapshot in `on-change` mode).
    Apply(Value),
    /// Delete an object: a run (its finalizer is honoured), a `MemberCluster` (it leaves), an
    /// approval request, a strategy, or a hub resource.
    Delete(ObjectName),
    /// Approve an approval request, as the seed's `kubectl patch … --subresource=status` does.
    Approve(Approve),
    /// Set a run's `spec.state` (`Initialize`, `Run`, `Stop`).
    SetState(SetState),
    /// A member cluster joins the fleet.
    AddCluster(ClusterLabels),
    /// A member cluster leaves the fleet.
    RemoveCluster(ClusterName),
    /// Replace a member cluster's labels.
    Relabel(ClusterLabels),
    /// A member agent starts reporting a failure on every apply.
    FailCluster(FailCluster),
    /// A member agent recovers and re-applies what it failed.
    HealCluster(ClusterName),
    /// Delete an approval request (a pending one is recreated by its run; an accepted one is not).
    DeleteApprovalRequest(RequestName),
}

/// An object to delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectName {
    /// Its kind.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its namespace (empty for cluster-scoped objects).
    #[serde(default)]
    pub namespace: String,
}

/// An approval to grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Approve {
    /// The approval request.
    pub request: String,
    /// Its namespace (empty for a `ClusterApprovalRequest`).
    #[serde(default)]
    pub namespace: String,
    /// Whether the `Approved` condition carries `observedGeneration` (and `lastTransitionTime`).
    /// Default: the scenario's [`ApprovalPolicy`](super::ApprovalPolicy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<bool>,
}

/// A run's new state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetState {
    /// The run.
    pub run: String,
    /// Its namespace (empty for a `ClusterStagedUpdateRun`).
    #[serde(default)]
    pub namespace: String,
    /// The state.
    pub state: State,
}

/// A member cluster and its labels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterLabels {
    /// The cluster.
    pub name: String,
    /// Its labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// A member cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterName {
    /// The cluster.
    pub name: String,
}

/// A member agent's failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FailCluster {
    /// The cluster.
    pub name: String,
    /// The failure it reports (default: `Applied` False, `NotAllWorkHaveBeenApplied`).
    #[serde(default)]
    pub failure: MemberFailure,
}

/// An approval request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestName {
    /// Its name.
    pub name: String,
    /// Its namespace (empty for a `ClusterApprovalRequest`).
    #[serde(default)]
    pub namespace: String,
}

fn key(namespace: &str, name: &str) -> (String, String) {
    (namespace.to_owned(), name.to_owned())
}

impl Simulation {
    /// Carries out a scripted action now, and schedules what it triggers (the reconciles its
    /// change wakes, member work, auto-approvals), as [`Simulation::apply`] does.
    pub fn execute(&mut self, action: &ScriptAction) -> Result<(), SimError> {
        let result = self.carry_out(action);
        self.settle();
        result
    }

    fn carry_out(&mut self, action: &ScriptAction) -> Result<(), SimError> {
        let missing = |what: String| Err(SimError::Script(format!("{what} does not exist")));
        match action {
            ScriptAction::Apply(manifest) => self.hub.apply_manifest(manifest)?,
            ScriptAction::Delete(o) => {
                let found = match o.kind.as_str() {
                    "MemberCluster" => self.hub.remove_cluster(&o.name),
                    "ClusterStagedUpdateRun" | "StagedUpdateRun" => self.hub.delete_run(&key(&o.namespace, &o.name)),
                    "ClusterApprovalRequest" | "ApprovalRequest" => {
                        self.hub.delete_approval(&key(&o.namespace, &o.name))
                    }
                    "ClusterStagedUpdateStrategy" | "StagedUpdateStrategy" => {
                        self.hub.strategies.remove(&key(&o.namespace, &o.name)).is_some()
                    }
                    kind => self.hub.delete_resource(kind, &o.namespace, &o.name),
                };
                if !found {
                    return missing(format!("{} {}/{}", o.kind, o.namespace, o.name));
                }
            }
            ScriptAction::Approve(a) => {
                let observed = a.observed_generation.unwrap_or(self.approvals.observed_generation);
                let reason = self.approvals.reason.clone();
                if !self.hub.approve(&key(&a.namespace, &a.request), observed, &reason, "script") {
                    return missing(format!("approval request {}/{}", a.namespace, a.request));
                }
            }
            ScriptAction::SetState(s) => self.hub.set_run_state(&key(&s.namespace, &s.run), s.state.clone())?,
            ScriptAction::AddCluster(c) => {
                if self.hub.clusters.contains_key(&c.name) {
                    return Err(SimError::Script(format!("cluster {} is already a member", c.name)));
                }
                self.hub.join_cluster(&c.name, c.labels.clone());
            }
            ScriptAction::RemoveCluster(c) => {
                if !self.hub.remove_cluster(&c.name) {
                    return missing(format!("cluster {}", c.name));
                }
            }
            ScriptAction::Relabel(c) => {
                if !self.hub.clusters.contains_key(&c.name) {
                    return missing(format!("cluster {}", c.name));
                }
                self.hub.relabel_cluster(&c.name, c.labels.clone());
            }
            ScriptAction::FailCluster(f) => {
                self.members.fail(&f.name, f.failure.clone());
                let detail = format!("{} False: {}", f.failure.condition, f.failure.reason);
                self.hub.record(Event::new(self.hub.now, EventKind::ClusterFailing).cluster(&f.name).detail(detail));
            }
            ScriptAction::HealCluster(c) => {
                self.members.heal(&self.hub, &c.name);
                self.hub.record(Event::new(self.hub.now, EventKind::ClusterHealed).cluster(&c.name));
            }
            ScriptAction::DeleteApprovalRequest(r) => {
                if !self.hub.delete_approval(&key(&r.namespace, &r.name)) {
                    return missing(format!("approval request {}/{}", r.namespace, r.name));
                }
            }
        }
        Ok(())
    }
}
