//! Engine configuration: KubeFleet's constants, and the documented ways this crate may differ.

use crate::api::{Duration, StageNameRule, State};

/// How the engine behaves where KubeFleet versions differ or where KubeFleet hard-codes a value.
///
/// [`Config::default`] is today's KubeFleet. [`Config::seed_compatible`] is the older KubeFleet
/// the seed how-to was written against. Every field documents the KubeFleet behaviour it models.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// A cluster is *stuck* when more than this has passed since its `Started` condition's
    /// `lastTransitionTime` (`updateRunStuckThreshold`, 5 minutes).
    pub stuck_threshold: Duration,
    /// KubeFleet's requeue interval while clusters update, the deletion stage deletes, or a stop
    /// waits for in-flight clusters (`clusterUpdatingWaitTime`, 15 s). The engine reports it as
    /// the polling fallback for callers without watches.
    pub cluster_updating_interval: Duration,
    /// KubeFleet's requeue interval while waiting on an approval (`stageUpdatingWaitTime`, 60 s).
    pub stage_waiting_interval: Duration,
    /// What a run without `spec.state` means: [`State::Initialize`] for today's CRD default,
    /// [`State::Run`] for older KubeFleet, whose runs started on creation.
    pub missing_state: State,
    /// How after-stage approval requests are named.
    pub after_stage_approval_names: ApprovalNaming,
    /// Whether an `Approved=True` condition without `observedGeneration` (0) counts. Today's
    /// KubeFleet ignores an `Approved` condition whose `observedGeneration` differs from the
    /// request's generation; the seed approves namespaced requests with a patch that sets none.
    pub accept_approval_without_observed_generation: bool,
    /// Which stage names a strategy may use. KubeFleet's engine never checks names (the API
    /// server does); this engine rejects, at initialization, a strategy the API server would not
    /// have stored under this rule.
    pub stage_names: StageNameRule,
}

/// How after-stage approval requests are named.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ApprovalNaming {
    /// `<run>-after-<stage>` (today).
    #[default]
    AfterStage,
    /// `<run>-<stage>` (older KubeFleet, `example-run-canary` in the seed).
    RunDashStage,
}

impl Default for Config {
    fn default() -> Self {
        Config::kubefleet()
    }
}

impl Config {
    /// Today's KubeFleet.
    pub fn kubefleet() -> Config {
        Config {
            stuck_threshold: Duration::from_minutes(5),
            cluster_updating_interval: Duration::from_secs(15),
            stage_waiting_interval: Duration::from_secs(60),
            missing_state: State::Initialize,
            after_stage_approval_names: ApprovalNaming::AfterStage,
            accept_approval_without_observed_generation: false,
            stage_names: StageNameRule::Alphanumeric,
        }
    }

    /// The older KubeFleet the seed how-to was written against: runs without `state` start at
    /// once, after-stage approvals are named `<run>-<stage>`, an approval without
    /// `observedGeneration` counts, and stage names may be DNS-1123 labels (`dev-clusters`).
    /// Everything else — reasons, messages, timing — is today's KubeFleet.
    pub fn seed_compatible() -> Config {
        Config {
            missing_state: State::Run,
            after_stage_approval_names: ApprovalNaming::RunDashStage,
            accept_approval_without_observed_generation: true,
            stage_names: StageNameRule::Dns1123Label,
            ..Config::kubefleet()
        }
    }

    /// Sets the stuck threshold.
    pub fn with_stuck_threshold(mut self, threshold: Duration) -> Config {
        self.stuck_threshold = threshold;
        self
    }

    /// Sets KubeFleet's two requeue intervals (clusters updating, stage waiting).
    pub fn with_intervals(mut self, cluster_updating: Duration, stage_waiting: Duration) -> Config {
        self.cluster_updating_interval = cluster_updating;
        self.stage_waiting_interval = stage_waiting;
        self
    }

    /// The name of an after-stage approval request.
    pub fn after_stage_approval_name(&self, run: &str, stage: &str) -> String {
        match self.after_stage_approval_names {
            ApprovalNaming::AfterStage => format!("{run}-after-{stage}"),
            ApprovalNaming::RunDashStage => format!("{run}-{stage}"),
        }
    }

    /// The name of a before-stage approval request, `<run>-before-<stage>` in every mode.
    pub fn before_stage_approval_name(&self, run: &str, stage: &str) -> String {
        format!("{run}-before-{stage}")
    }
}
