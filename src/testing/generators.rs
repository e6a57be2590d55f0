//! proptest strategies for fleets, stage strategies (valid and near-valid), runs, member
//! behaviours, event schedules and whole rollouts.

use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;

use crate::api::{Duration, IntOrString, LabelSelector, StageConfig, StageTask, State, UpdateStrategySpec};
use crate::sim::{
    ApprovalPolicy, Delay, EnginePreset, Fault, FleetMember, MemberBehaviour, MemberFailure, RandomFaults,
    SnapshotMode, Wakeups,
};

use super::rollout::{Rollout, RunPlan};
use super::schedule::{ApprovalTask, Schedule, ScheduledEvent};

/// The label that assigns a generated cluster to a stage: `group=g<i>` puts it in stage `s<i>`.
pub const GROUP_LABEL: &str = "group";
/// The sorting label of generated clusters (an integer).
pub const ORDER_LABEL: &str = "order";

/// `s<i>`: the name of generated stage `i`.
pub fn stage_name(i: usize) -> String {
    format!("s{i}")
}

/// `m<i>`: the name of generated cluster `i`.
pub fn cluster_name(i: usize) -> String {
    format!("m{i}")
}

/// Labels putting a cluster in stage `group` with sorting value `order`.
pub fn cluster_labels(group: usize, order: Option<u8>) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([(GROUP_LABEL.to_owned(), format!("g{group}"))]);
    if let Some(o) = order {
        labels.insert(ORDER_LABEL.to_owned(), o.to_string());
    }
    labels
}

/// How member agents behave: `healthy` ones always succeed, within `1s..=max_delay` seconds
/// (keep it below the stuck threshold, 5m); others may fail from the start with any reportable
/// condition.
pub fn member_behaviour(healthy: bool, max_delay: i64) -> impl Strategy<Value = MemberBehaviour> {
    let max_delay = max_delay.max(1);
    let delay = prop_oneof![
        (1..=max_delay).prop_map(|s| Delay::Fixed(Duration::from_secs(s))),
        vec(1..=max_delay, 1..4).prop_map(|v| Delay::Sequence(v.into_iter().map(Duration::from_secs).collect())),
        (1..=max_delay, any::<u64>()).prop_map(move |(min, seed)| Delay::Seeded {
            min: Duration::from_secs(min),
            max: Duration::from_secs(max_delay),
            seed
        }),
    ];
    let failure = if healthy { Just(None).boxed() } else { proptest::option::weighted(0.3, member_failure()).boxed() };
    (delay, failure).prop_map(|(delay, failure)| MemberBehaviour { delay: Some(delay), failure })
}

/// A failure a member agent reports: a binding condition False with a terminal or an
/// in-progress reason.
pub fn member_failure() -> impl Strategy<Value = MemberFailure> {
    prop_oneof![
        Just(("Applied", "NotAllWorkHaveBeenApplied")),
        Just(("Applied", "ApplyPending")),
        Just(("Available", "NotAllWorkAreAvailable")),
        Just(("WorkSynchronized", "WorkNotSynchronizedYet")),
        Just(("Overridden", "OverriddenFailed")),
        Just(("DiffReported", "DiffReportedStatusFalse")),
    ]
    .prop_map(|(c, r)| MemberFailure { condition: c.to_owned(), reason: r.to_owned() })
}

/// A fleet of `1..=max_clusters` clusters spread over `stages` stages (`group` label), each with
/// an integer `order` sorting label, and agents behaving as [`member_behaviour`] says.
pub fn fleet(max_clusters: usize, stages: usize, healthy: bool) -> impl Strategy<Value = Vec<FleetMember>> {
    let member = (0..stages.max(1), 0u8..10, member_behaviour(healthy, 120));
    vec(member, 1..=max_clusters.max(1)).prop_map(|members| {
        members
            .into_iter()
            .enumerate()
            .map(|(i, (group, order, b))| FleetMember {
                name: cluster_name(i + 1),
                labels: cluster_labels(group, Some(order)),
                delay: b.delay,
                failure: b.failure,
            })
            .collect()
    })
}

/// A `maxConcurrency`: absent, an integer from 1 to 3, or a percentage.
pub fn max_concurrency() -> impl Strategy<Value = Option<IntOrString>> {
    prop_oneof![
        Just(None),
        (1i32..=3).prop_map(|n| Some(IntOrString::Int(n))),
        prop_oneof![Just("1%"), Just("34%"), Just("50%"), Just("100%")]
            .prop_map(|p| Some(IntOrString::String(p.into()))),
    ]
}

/// After-stage tasks: none, an Approval, a TimedWait of `1s..=max_wait` seconds, or both (in
/// either order).
pub fn after_stage_tasks(max_wait: i64) -> impl Strategy<Value = Vec<StageTask>> {
    let wait = (1..=max_wait.max(1)).prop_map(|s| StageTask::timed_wait(Duration::from_secs(s)));
    prop_oneof![
        Just(Vec::new()),
        Just(vec![StageTask::approval()]),
        wait.clone().prop_map(|w| vec![w]),
        (wait, any::<bool>()).prop_map(|(w, first)| if first {
            vec![w, StageTask::approval()]
        } else {
            vec![StageTask::approval(), w]
        }),
    ]
}

/// A valid strategy of `stages` stages: stage `s<i>` selects `group=g<i>`, optionally sorted by
/// `order`, with any `maxConcurrency`, before-stage approval and after-stage tasks.
pub fn valid_strategy(stages: usize) -> impl Strategy<Value = UpdateStrategySpec> {
    let stage = (any::<bool>(), max_concurrency(), any::<bool>(), after_stage_tasks(180));
    vec(stage, stages.max(1)).prop_map(|configs| UpdateStrategySpec {
        stages: configs
            .into_iter()
            .enumerate()
            .map(|(i, (sorted, mc, before, after))| StageConfig {
                name: stage_name(i),
                label_selector: Some(LabelSelector {
                    match_labels: Some(BTreeMap::from([(GROUP_LABEL.to_owned(), format!("g{i}"))])),
                    ..Default::default()
                }),
                sorting_label_key: sorted.then(|| ORDER_LABEL.to_owned()),
                max_concurrency: mc,
                before_stage_tasks: if before { vec![StageTask::approval()] } else { Vec::new() },
                after_stage_tasks: after,
                ..Default::default()
            })
            .collect(),
        extra: Default::default(),
    })
}

/// One way to make a valid strategy invalid; between them they hit every validation error the
/// engine reports when a run initializes (and the runtime `maxConcurrency` abort).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StrategyDefect {
    /// Two before-stage tasks.
    TwoBeforeStageTasks,
    /// A TimedWait before a stage.
    TimedWaitBeforeStage,
    /// Two after-stage Approvals.
    DuplicateAfterStageTask,
    /// A TimedWait without `waitTime`.
    TimedWaitWithoutDuration,
    /// A TimedWait of `0s`.
    NonPositiveWait,
    /// A label selector Kubernetes rejects.
    InvalidSelector,
    /// An extra stage selecting every cluster (`{}`), so clusters are in two stages.
    ClusterInTwoStages,
    /// Sorting by a label whose values are not integers.
    BadSortingLabel,
    /// Every stage selector missing (`nil` selects no cluster), so clusters are unplaced.
    UnplacedClusters,
    /// 32 stages (at most 31 are allowed).
    TooManyStages,
    /// Two stages of one name.
    DuplicateStageName,
    /// A stage name outside `^[a-z0-9]+$`.
    InvalidStageName,
    /// A negative integer `maxConcurrency`.
    NegativeMaxConcurrency,
}

impl StrategyDefect {
    /// Every defect.
    pub const ALL: [StrategyDefect; 13] = [
        StrategyDefect::TwoBeforeStageTasks,
        StrategyDefect::TimedWaitBeforeStage,
        StrategyDefect::DuplicateAfterStageTask,
        StrategyDefect::TimedWaitWithoutDuration,
        StrategyDefect::NonPositiveWait,
        StrategyDefect::InvalidSelector,
        StrategyDefect::ClusterInTwoStages,
        StrategyDefect::BadSortingLabel,
        StrategyDefect::UnplacedClusters,
        StrategyDefect::TooManyStages,
        StrategyDefect::DuplicateStageName,
        StrategyDefect::InvalidStageName,
        StrategyDefect::NegativeMaxConcurrency,
    ];

    /// A fragment of the message the run fails with.
    pub fn message_fragment(self) -> &'static str {
        match self {
            StrategyDefect::TwoBeforeStageTasks => "beforeStageTasks can have at most one task",
            StrategyDefect::TimedWaitBeforeStage => "is not allowed in beforeStageTasks",
            StrategyDefect::DuplicateAfterStageTask => "afterStageTasks cannot have two tasks of the same type",
            StrategyDefect::TimedWaitWithoutDuration => "has wait duration set to nil",
            StrategyDefect::NonPositiveWait => "has wait duration <= 0",
            StrategyDefect::InvalidSelector => "the stage label selector is invalid",
            StrategyDefect::ClusterInTwoStages => "appears in more than one stages",
            StrategyDefect::BadSortingLabel => "is not valid",
            StrategyDefect::UnplacedClusters => "some clusters are not placed in any stage",
            StrategyDefect::TooManyStages => "31",
            StrategyDefect::DuplicateStageName => "unique",
            StrategyDefect::InvalidStageName => "stages[",
            StrategyDefect::NegativeMaxConcurrency => "maxConcurrency",
        }
    }

    /// Makes `strategy` (a [`valid_strategy`] over a [`fleet`]) invalid in this one way.
    pub fn apply(self, strategy: &mut UpdateStrategySpec) {
        let first = &mut strategy.stages[0];
        match self {
            StrategyDefect::TwoBeforeStageTasks => first.before_stage_tasks = vec![StageTask::approval(); 2],
            StrategyDefect::TimedWaitBeforeStage => {
                first.before_stage_tasks = vec![StageTask::timed_wait(Duration::from_secs(60))]
            }
            StrategyDefect::DuplicateAfterStageTask => first.after_stage_tasks = vec![StageTask::approval(); 2],
            StrategyDefect::TimedWaitWithoutDuration => {
                let mut t = StageTask::timed_wait(Duration::from_secs(1));
                t.wait_time = None;
                first.after_stage_tasks = vec![t];
            }
            StrategyDefect::NonPositiveWait => first.after_stage_tasks = vec![StageTask::timed_wait(Duration::ZERO)],
            StrategyDefect::InvalidSelector => {
                first.label_selector = serde_json::from_value(serde_json::json!({
                    "matchExpressions": [{"key": "bad key!", "operator": "In", "values": ["x"]}]
                }))
                .ok()
            }
            StrategyDefect::ClusterInTwoStages => {
                let mut all = StageConfig::new("all", LabelSelector::default());
                all.name = "everyone".into();
                strategy.stages.push(all);
            }
            StrategyDefect::BadSortingLabel => {
                for s in &mut strategy.stages {
                    s.sorting_label_key = Some(GROUP_LABEL.to_owned());
                }
            }
            StrategyDefect::UnplacedClusters => {
                for s in &mut strategy.stages {
                    s.label_selector = None;
                }
            }
            StrategyDefect::TooManyStages => {
                while strategy.stages.len() < 32 {
                    let i = strategy.stages.len();
                    strategy.stages.push(StageConfig::new(
                        format!("extra{i}"),
                        LabelSelector {
                            match_labels: Some(BTreeMap::from([(GROUP_LABEL.to_owned(), "none".to_owned())])),
                            ..Default::default()
                        },
                    ));
                }
            }
            StrategyDefect::DuplicateStageName => {
                let mut copy = strategy.stages[0].clone();
                copy.label_selector = None;
                strategy.stages.push(copy);
            }
            StrategyDefect::InvalidStageName => first.name = "Stage_One".into(),
            StrategyDefect::NegativeMaxConcurrency => first.max_concurrency = Some(IntOrString::Int(-1)),
        }
    }
}

/// A near-valid strategy: a [`valid_strategy`] of `stages` stages with one [`StrategyDefect`].
pub fn near_valid_strategy(stages: usize) -> impl Strategy<Value = (UpdateStrategySpec, StrategyDefect)> {
    (valid_strategy(stages), proptest::sample::select(StrategyDefect::ALL.to_vec())).prop_map(|(mut s, d)| {
        d.apply(&mut s);
        (s, d)
    })
}

/// Which kinds of events a generated schedule may hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventMix {
    /// Approvals granted by the schedule.
    pub approvals: bool,
    /// `Stop` and `Run`.
    pub stop_resume: bool,
    /// Member clusters relabelled.
    pub relabels: bool,
    /// Member clusters joining and leaving.
    pub joins_leaves: bool,
    /// Member agents failing and healing.
    pub failures: bool,
    /// New resource snapshots.
    pub new_snapshots: bool,
    /// Approval requests deleted.
    pub deleted_approvals: bool,
}

impl EventMix {
    /// Every kind.
    pub fn all() -> EventMix {
        EventMix {
            approvals: true,
            stop_resume: true,
            relabels: true,
            joins_leaves: true,
            failures: true,
            new_snapshots: true,
            deleted_approvals: true,
        }
    }

    /// None: the schedule is empty.
    pub fn none() -> EventMix {
        EventMix {
            approvals: false,
            stop_resume: false,
            relabels: false,
            joins_leaves: false,
            failures: false,
            new_snapshots: false,
            deleted_approvals: false,
        }
    }
}

/// A schedule of up to `max_events` events of the kinds `mix` allows, within `horizon` seconds,
/// for runs `runs` over stages `s0..s<stages>` and clusters `m1..m<clusters>` (joins add
/// `m<clusters+1>`, `m<clusters+2>`).
pub fn schedule(
    mix: EventMix,
    runs: Vec<String>,
    stages: usize,
    clusters: usize,
    max_events: usize,
    horizon: i64,
) -> impl Strategy<Value = Schedule> {
    let runs = if runs.is_empty() { vec!["run".to_owned()] } else { runs };
    let stage = (0..stages.max(1)).prop_map(stage_name);
    let cluster = (1..=clusters.max(1) + 2).prop_map(cluster_name);
    let run = proptest::sample::select(runs);
    let task = prop_oneof![Just(ApprovalTask::Before), Just(ApprovalTask::After)];
    let labels = (0..stages.max(1), 0u8..10).prop_map(|(g, o)| cluster_labels(g, Some(o)));
    let mut kinds: Vec<BoxedStrategy<ScheduledEvent>> = Vec::new();
    if mix.approvals {
        kinds.push(
            (run.clone(), stage.clone(), task.clone())
                .prop_map(|(run, stage, task)| ScheduledEvent::Approve { run, stage, task })
                .boxed(),
        );
    }
    if mix.deleted_approvals {
        kinds.push(
            (run.clone(), stage, task)
                .prop_map(|(run, stage, task)| ScheduledEvent::DeleteApprovalRequest { run, stage, task })
                .boxed(),
        );
    }
    if mix.stop_resume {
        kinds.push(run.clone().prop_map(|run| ScheduledEvent::Stop { run }).boxed());
        kinds.push(run.prop_map(|run| ScheduledEvent::Resume { run }).boxed());
    }
    if mix.relabels {
        kinds.push(
            (cluster.clone(), labels.clone())
                .prop_map(|(cluster, labels)| ScheduledEvent::Relabel { cluster, labels })
                .boxed(),
        );
    }
    if mix.joins_leaves {
        kinds.push(
            (cluster.clone(), labels).prop_map(|(cluster, labels)| ScheduledEvent::Join { cluster, labels }).boxed(),
        );
        kinds.push(cluster.clone().prop_map(|cluster| ScheduledEvent::Leave { cluster }).boxed());
    }
    if mix.failures {
        kinds.push(
            (cluster.clone(), member_failure())
                .prop_map(|(cluster, failure)| ScheduledEvent::Fail { cluster, failure })
                .boxed(),
        );
        kinds.push(cluster.prop_map(|cluster| ScheduledEvent::Heal { cluster }).boxed());
    }
    if mix.new_snapshots {
        kinds.push(Just(ScheduledEvent::NewSnapshot).boxed());
    }
    if kinds.is_empty() {
        return Just(Schedule::default()).boxed();
    }
    let event = proptest::strategy::Union::new(kinds);
    vec((0..=horizon.max(0), event), 0..=max_events)
        .prop_map(|events| Schedule {
            events: events.into_iter().map(|(at, e)| (Duration::from_secs(at), e)).collect(),
        })
        .boxed()
}

/// Knobs for [`rollouts`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolloutParams {
    /// At most this many member clusters (at least one).
    pub max_clusters: usize,
    /// At most this many stages (at least one).
    pub max_stages: usize,
    /// `Some(true)`: namespaced runs only; `Some(false)`: cluster-scoped only; `None`: either.
    pub namespaced: Option<bool>,
    /// Whether a second run on the same placement may be generated.
    pub two_runs: bool,
    /// Member agents always succeed, before the stuck threshold.
    pub healthy: bool,
    /// Every approval request is approved automatically (within two minutes).
    pub auto_approve: bool,
    /// Runs are created with `state: Run` (otherwise also unset, `Initialize` or `Stop`).
    pub start_running: bool,
    /// The schedule's event kinds.
    pub events: EventMix,
    /// At most this many scheduled events.
    pub max_events: usize,
    /// The faults to inject (empty: none), at `fault_per_mille`, at most `max_faults`.
    pub faults: Vec<Fault>,
    /// The chance of a fault per reconcile, in thousandths.
    pub fault_per_mille: u16,
    /// At most this many faults per rollout.
    pub max_faults: Option<u32>,
    /// Whether the engine's clock may run ahead of the hub's (never backwards).
    pub clock_jitter: bool,
    /// Whether decoy approval requests are planted (invariant 9).
    pub decoy_approvals: bool,
    /// Whether the strategy gets a [`StrategyDefect`].
    pub near_valid: bool,
    /// Whether runs may name a resource snapshot index (`"0"` or `"1"`, which may not exist);
    /// otherwise they roll out the latest resources.
    pub pinned_snapshots: bool,
    /// Whether the schedule ends by setting every run to `Run` (so a stopped run resumes).
    pub resume_at_end: bool,
    /// Whether the engine preset (today's KubeFleet or the seed-compatible one) and the
    /// simulator's wake-ups (watch-driven or polling, as KubeFleet's controller) vary;
    /// otherwise today's KubeFleet, watch-driven (the setting of [`StepBound`](super::StepBound)).
    pub vary_engine: bool,
}

impl Default for RolloutParams {
    /// Up to 4 clusters and 3 stages, either scope, one or two runs, any member behaviour, any
    /// events, honest faults at 10 %, jitter, decoys, valid strategies, today's KubeFleet,
    /// watch-driven.
    fn default() -> Self {
        RolloutParams {
            max_clusters: 4,
            max_stages: 3,
            namespaced: None,
            two_runs: true,
            healthy: false,
            auto_approve: false,
            start_running: false,
            events: EventMix::all(),
            max_events: 6,
            faults: Fault::HONEST.to_vec(),
            fault_per_mille: 100,
            max_faults: Some(8),
            clock_jitter: true,
            decoy_approvals: true,
            near_valid: false,
            pinned_snapshots: true,
            resume_at_end: false,
            vary_engine: false,
        }
    }
}

impl RolloutParams {
    /// Healthy members, every approval granted, runs started at once, no scheduled events
    /// except Stop/Run: the setting of invariant 8 (faults as configured).
    pub fn healthy() -> RolloutParams {
        RolloutParams {
            healthy: true,
            auto_approve: true,
            start_running: true,
            two_runs: false,
            events: EventMix { stop_resume: true, approvals: true, ..EventMix::none() },
            decoy_approvals: false,
            pinned_snapshots: false,
            resume_at_end: true,
            vary_engine: false,
            ..RolloutParams::default()
        }
    }
}

/// Whole rollouts: a fleet, a strategy over it, one or two runs, member behaviours, approvals,
/// a schedule, decoys and seeded faults, as `params` allow.
pub fn rollouts(params: RolloutParams) -> impl Strategy<Value = Rollout> {
    let p = params.clone();
    (1..=params.max_stages.max(1), 1..=params.max_clusters.max(1)).prop_flat_map(move |(stages, clusters)| {
        let p = p.clone();
        let two = if p.two_runs { any::<bool>().boxed() } else { Just(false).boxed() };
        let namespaced = match p.namespaced {
            Some(n) => Just(n).boxed(),
            None => any::<bool>().boxed(),
        };
        let strategy = if p.near_valid {
            near_valid_strategy(stages).prop_map(|(s, _)| s).boxed()
        } else {
            valid_strategy(stages).boxed()
        };
        let state = if p.start_running {
            Just(Some(State::Run)).boxed()
        } else {
            prop_oneof![
                6 => Just(Some(State::Run)),
                1 => Just(None),
                1 => Just(Some(State::Initialize)),
                1 => Just(Some(State::Stop)),
            ]
            .boxed()
        };
        let index = if p.pinned_snapshots {
            prop_oneof![3 => Just(None), 1 => Just(Some("0".to_owned())), 1 => Just(Some("1".to_owned()))].boxed()
        } else {
            Just(None).boxed()
        };
        let plan = (state, index, 0i64..=120);
        let runs = (two, plan.clone(), plan).prop_map(|(two, a, b)| {
            let mk = |name: &str, (state, index, after): (Option<State>, Option<String>, i64)| RunPlan {
                name: name.to_owned(),
                state,
                resource_snapshot_index: index,
                created_after: Duration::from_secs(after),
            };
            let mut runs = vec![mk("run-a", a)];
            if two {
                runs.push(mk("run-b", b));
            }
            runs
        });
        let approvals = if p.auto_approve {
            (0i64..=120).prop_map(|s| Some(Duration::from_secs(s))).boxed()
        } else {
            proptest::option::of((0i64..=120).prop_map(Duration::from_secs)).boxed()
        };
        let run_names = vec!["run-a".to_owned(), "run-b".to_owned()];
        let resume = p.resume_at_end;
        let sched = schedule(p.events.clone(), run_names.clone(), stages, clusters, p.max_events, 1800).prop_map(
            move |mut s| {
                if resume {
                    for run in &run_names {
                        s.events.push((Duration::from_secs(1801), ScheduledEvent::Resume { run: run.clone() }));
                    }
                }
                s
            },
        );
        let faults = if p.faults.is_empty() {
            Just(None).boxed()
        } else {
            let kinds = p.faults.clone();
            let (rate, max, jitter) = (p.fault_per_mille, p.max_faults, p.clock_jitter);
            (any::<u64>(), 0i64..=5)
                .prop_map(move |(seed, j)| {
                    Some(RandomFaults {
                        seed,
                        per_mille: rate,
                        kinds: kinds.clone(),
                        max,
                        clock_jitter: (jitter && j > 0).then(|| Duration::from_secs(j)),
                    })
                })
                .boxed()
        };
        let snapshots = prop_oneof![Just(SnapshotMode::OnChange), Just(SnapshotMode::OnRequest)];
        let decoys = p.decoy_approvals;
        let engine = if p.vary_engine {
            prop_oneof![
                4 => Just((EnginePreset::Kubefleet, Wakeups::Exact)),
                1 => Just((EnginePreset::Kubefleet, Wakeups::Polling)),
                2 => Just((EnginePreset::SeedCompatible, Wakeups::Exact)),
                1 => Just((EnginePreset::SeedCompatible, Wakeups::Polling)),
            ]
            .boxed()
        } else {
            Just((EnginePreset::Kubefleet, Wakeups::Exact)).boxed()
        };
        let parts =
            (fleet(clusters, stages, p.healthy), strategy, runs, namespaced, approvals, sched, faults, snapshots);
        (parts, engine).prop_map(
            move |((fleet, strategy, runs, namespaced, after, schedule, faults, snapshots), (engine, wakeups))| {
                Rollout {
                    namespace: namespaced.then(|| super::rollout::NAMESPACE.to_owned()),
                    fleet,
                    member_defaults: MemberBehaviour::default(),
                    strategy,
                    runs,
                    approvals: ApprovalPolicy { after, ..ApprovalPolicy::default() },
                    schedule,
                    snapshots,
                    decoy_approvals: decoys,
                    faults,
                    engine,
                    wakeups,
                }
            },
        )
    })
}
