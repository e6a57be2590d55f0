//! Event schedules: what happens to the fleet, the approvals and the runs while a generated
//! rollout is under way, and how a schedule is played into a [`Simulation`].

use std::collections::BTreeMap;

use crate::Config;
use crate::api::{Duration, State, Time};
use crate::sim::{
    Approve, ClusterLabels, ClusterName, FailCluster, MemberFailure, RequestName, ScriptAction, SetState, SimError,
    Simulation,
};

/// Which approval task of a stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApprovalTask {
    /// The before-stage approval (`<run>-before-<stage>`).
    Before,
    /// The after-stage approval (`<run>-after-<stage>`, or `<run>-<stage>` under
    /// [`Config::seed_compatible`]).
    After,
}

impl ApprovalTask {
    /// The name the engine configured by `config` gives this task's approval request.
    pub fn request_name(self, config: &Config, run: &str, stage: &str) -> String {
        match self {
            ApprovalTask::Before => config.before_stage_approval_name(run, stage),
            ApprovalTask::After => config.after_stage_approval_name(run, stage),
        }
    }
}

/// One thing that happens during a rollout.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScheduledEvent {
    /// Someone approves a stage's approval request (nothing happens if it does not exist yet).
    Approve {
        /// The run.
        run: String,
        /// The stage.
        stage: String,
        /// Before or after the stage.
        task: ApprovalTask,
    },
    /// Someone deletes a stage's approval request.
    DeleteApprovalRequest {
        /// The run.
        run: String,
        /// The stage.
        stage: String,
        /// Before or after the stage.
        task: ApprovalTask,
    },
    /// `spec.state: Stop`.
    Stop {
        /// The run.
        run: String,
    },
    /// `spec.state: Run`.
    Resume {
        /// The run.
        run: String,
    },
    /// A member cluster's labels are replaced.
    Relabel {
        /// The cluster.
        cluster: String,
        /// Its new labels.
        labels: BTreeMap<String, String>,
    },
    /// A member cluster joins (or, if it is a member, is relabelled).
    Join {
        /// The cluster.
        cluster: String,
        /// Its labels.
        labels: BTreeMap<String, String>,
    },
    /// A member cluster leaves.
    Leave {
        /// The cluster.
        cluster: String,
    },
    /// A member agent starts failing.
    Fail {
        /// The cluster.
        cluster: String,
        /// What it reports.
        failure: MemberFailure,
    },
    /// A member agent recovers.
    Heal {
        /// The cluster.
        cluster: String,
    },
    /// The placement's selected resources change: a new resource snapshot follows (at once in
    /// `on-change` snapshot mode, when a run asks for one in `on-request` mode).
    NewSnapshot,
}

impl ScheduledEvent {
    /// Whether the event reaches runs as a watch event besides their own progress (the `e` of
    /// [`StepBound`](super::StepBound)).
    pub fn is_external(&self) -> bool {
        !matches!(self, ScheduledEvent::Approve { .. } | ScheduledEvent::Stop { .. } | ScheduledEvent::Resume { .. })
    }
}

impl ScheduledEvent {
    /// The run this event concerns, if any.
    pub fn run(&self) -> Option<&str> {
        match self {
            ScheduledEvent::Approve { run, .. }
            | ScheduledEvent::DeleteApprovalRequest { run, .. }
            | ScheduledEvent::Stop { run }
            | ScheduledEvent::Resume { run } => Some(run),
            _ => None,
        }
    }
}

/// Events at offsets from the start of a rollout.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    /// `(offset, event)`, in any order; played in offset order (ties in list order).
    pub events: Vec<(Duration, ScheduledEvent)>,
}

impl Schedule {
    /// The events in the order they are played.
    pub fn sorted(&self) -> Vec<(Duration, ScheduledEvent)> {
        let mut events = self.events.clone();
        events.sort_by_key(|(at, _)| at.as_secs_ceil());
        events
    }

    /// Plays the schedule into `sim` from `start` (runs of namespace `namespace`, `""` for
    /// cluster-scoped ones, and the placement's resources in `resources`): runs the simulation
    /// up to each event, carries it out, and finally runs it to the end. Events naming something
    /// that does not exist (an approval request not created yet, a cluster that left) do
    /// nothing.
    pub fn play(
        &self,
        sim: &mut Simulation,
        start: Time,
        namespace: &str,
        resources: &SnapshotSource,
    ) -> Result<(), SimError> {
        let mut version = 1;
        for (at, event) in self.sorted() {
            sim.run_until(start.add_ceil(at))?;
            let action = match event {
                ScheduledEvent::Approve { run, stage, task } => ScriptAction::Approve(Approve {
                    request: task.request_name(sim.config(), &run, &stage),
                    namespace: namespace.to_owned(),
                    observed_generation: None,
                }),
                ScheduledEvent::DeleteApprovalRequest { run, stage, task } => {
                    ScriptAction::DeleteApprovalRequest(RequestName {
                        name: task.request_name(sim.config(), &run, &stage),
                        namespace: namespace.to_owned(),
                    })
                }
                ScheduledEvent::Stop { run } => {
                    ScriptAction::SetState(SetState { run, namespace: namespace.to_owned(), state: State::Stop })
                }
                ScheduledEvent::Resume { run } => {
                    ScriptAction::SetState(SetState { run, namespace: namespace.to_owned(), state: State::Run })
                }
                ScheduledEvent::Relabel { cluster, labels } => {
                    ScriptAction::Relabel(ClusterLabels { name: cluster, labels })
                }
                ScheduledEvent::Join { cluster, labels } => {
                    if sim.hub().member_clusters().any(|c| c.name() == cluster) {
                        ScriptAction::Relabel(ClusterLabels { name: cluster, labels })
                    } else {
                        ScriptAction::AddCluster(ClusterLabels { name: cluster, labels })
                    }
                }
                ScheduledEvent::Leave { cluster } => ScriptAction::RemoveCluster(ClusterName { name: cluster }),
                ScheduledEvent::Fail { cluster, failure } => {
                    ScriptAction::FailCluster(FailCluster { name: cluster, failure })
                }
                ScheduledEvent::Heal { cluster } => ScriptAction::HealCluster(ClusterName { name: cluster }),
                ScheduledEvent::NewSnapshot => {
                    version += 1;
                    ScriptAction::Apply(resources.version(version))
                }
            };
            match sim.execute(&action) {
                Ok(()) | Err(SimError::Script(_)) => {}
                Err(e) => return Err(e),
            }
        }
        sim.run()
    }
}

/// The hub resource a generated placement selects, whose change makes a new snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotSource {
    /// The ConfigMap's namespace.
    pub namespace: String,
    /// The ConfigMap's name.
    pub name: String,
}

impl SnapshotSource {
    /// The ConfigMap at `version`.
    pub fn version(&self, version: u32) -> serde_json::Value {
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "data": {"version": version.to_string()}
        })
    }
}
