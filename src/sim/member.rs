//! Member agents: each member cluster applies the snapshot its binding names after a delay and
//! reports back on the binding, at the binding's generation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::well_known::condition_types as ct;
use crate::api::{
    ApplyStrategy, Binding, BindingState, Condition, ConditionStatus, Duration, ResourceSnapshot, find_condition,
    is_condition_true, set_condition,
};
use crate::engine::FastMap;

use super::clock::SplitMix64;
use super::hub::{Hub, Key, KeyRef};
use super::scheduler;
use super::transcript::{Event, EventKind};

/// How long a member agent takes to apply a snapshot (and to clean up after a deleted binding).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Delay {
    /// Always the same (`15s`).
    Fixed(Duration),
    /// The n-th apply takes the n-th delay; the last one repeats (`[5s, 1m, 10s]`).
    Sequence(Vec<Duration>),
    /// Drawn uniformly from `min..=max` (whole seconds) by a generator seeded with `seed`: varied
    /// but reproducible.
    Seeded {
        /// The shortest delay.
        min: Duration,
        /// The longest delay.
        max: Duration,
        /// The seed.
        seed: u64,
    },
}

impl Default for Delay {
    fn default() -> Self {
        Delay::Fixed(Duration::from_secs(15))
    }
}

/// What a failing member agent reports instead of success.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemberFailure {
    /// The binding condition reported `False`: `Overridden`, `WorkSynchronized`, `Applied`
    /// (default), `Available` or `DiffReported`. The conditions before it in that order are
    /// reported `True`.
    #[serde(default = "default_failed_condition")]
    pub condition: String,
    /// Its reason. A terminal one (such as the default `NotAllWorkHaveBeenApplied`) makes the
    /// engine retry with an error; an in-progress one (`ApplyPending`) makes it wait quietly.
    /// Either way the run reports Stuck once the stuck threshold passes.
    #[serde(default = "default_failed_reason")]
    pub reason: String,
}

fn default_failed_condition() -> String {
    ct::APPLIED.to_owned()
}

fn default_failed_reason() -> String {
    "NotAllWorkHaveBeenApplied".to_owned()
}

impl Default for MemberFailure {
    fn default() -> Self {
        MemberFailure { condition: default_failed_condition(), reason: default_failed_reason() }
    }
}

/// A member agent's behaviour.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemberBehaviour {
    /// How long applies and cleanups take (default: the simulation's default, 15s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Delay>,
    /// Fail from the start (until healed by the script).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<MemberFailure>,
}

/// Work a member agent finishes later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MemberWork {
    /// Apply the snapshot of `binding` as it stood at `generation`.
    Apply { cluster: String, binding: Key, uid: String, generation: i64 },
    /// Remove what `binding` placed, then let the binding go.
    Cleanup { cluster: String, binding: Key, uid: String },
}

/// What a binding needs from its member agent.
enum Due {
    Apply,
    Cleanup,
}

#[derive(Clone, Debug)]
struct Agent {
    delay: Delay,
    failure: Option<MemberFailure>,
    /// What each placement (by key) put on the cluster.
    objects: BTreeMap<Key, Arc<[Value]>>,
    applies: usize,
    /// Draws the delays of [`Delay::Seeded`] (unused by the other delays).
    rng: SplitMix64,
}

impl Agent {
    fn new(behaviour: &MemberBehaviour, defaults: &MemberBehaviour) -> Agent {
        let delay = behaviour.delay.clone().or_else(|| defaults.delay.clone()).unwrap_or_default();
        let rng = SplitMix64::new(match &delay {
            Delay::Seeded { seed, .. } => *seed,
            _ => 0,
        });
        Agent {
            delay,
            failure: behaviour.failure.clone().or_else(|| defaults.failure.clone()),
            objects: BTreeMap::new(),
            applies: 0,
            rng,
        }
    }

    fn next_delay(&mut self) -> Duration {
        let n = self.applies;
        self.applies += 1;
        match &self.delay {
            Delay::Fixed(d) => *d,
            Delay::Sequence(list) => list.get(n).or(list.last()).copied().unwrap_or(Duration::ZERO),
            Delay::Seeded { min, max, .. } => {
                let (lo, hi) = (min.as_secs_ceil(), max.as_secs_ceil());
                Duration::from_secs(self.rng.in_range(lo, hi))
            }
        }
    }
}

/// Every member cluster's agent.
#[derive(Clone, Debug, Default)]
pub(crate) struct Members {
    pub(crate) defaults: MemberBehaviour,
    /// Each cluster's configured behaviour. This map and the three below are only looked up by
    /// key, never iterated, so they are hashed.
    configured: FastMap<String, MemberBehaviour>,
    /// Each cluster's agent.
    agents: FastMap<String, Agent>,
    /// The (uid, generation) of each binding an apply was scheduled for.
    handled: FastMap<Key, (String, i64)>,
    /// Bindings whose cleanup was scheduled.
    cleaning: FastMap<Key, String>,
    /// The hub's cluster epoch at the last [`Members::scan`] (`None`: never scanned, so look at
    /// every binding).
    seen_epoch: Option<u64>,
    /// Bindings to look at again although they were not written (`heal` forgot their apply).
    recheck: BTreeSet<Key>,
    /// The resource snapshot applied last: applies come in waves of the same snapshot.
    last_snapshot: Option<AppliedSnapshot>,
}

/// A resource snapshot's resources as every cluster that applies it holds them (one shared copy),
/// and their summary for the transcript.
#[derive(Clone, Debug)]
struct AppliedSnapshot {
    /// The snapshot's uid: a snapshot deleted and created again under its name is another one
    /// (the hub stamps every snapshot with one; a snapshot without one is never taken as known).
    uid: Option<String>,
    resources: Arc<[Value]>,
    summary: String,
}

impl AppliedSnapshot {
    /// The memo for `snapshot`, computed when `memo` holds another snapshot.
    fn of<'m>(memo: &'m mut Option<AppliedSnapshot>, snapshot: &ResourceSnapshot) -> &'m AppliedSnapshot {
        if memo.as_ref().is_none_or(|m| m.uid.is_none() || m.uid != snapshot.metadata.uid) {
            *memo = None;
        }
        memo.get_or_insert_with(|| {
            let resources = &snapshot.spec.selected_resources;
            AppliedSnapshot {
                uid: snapshot.metadata.uid.clone(),
                resources: resources.as_slice().into(),
                summary: super::resources::summarize(resources),
            }
        })
    }
}

impl Members {
    /// Sets a cluster's agent behaviour. An agent already running keeps what it holds and how
    /// many applies it made.
    pub(crate) fn configure(&mut self, cluster: &str, behaviour: MemberBehaviour) {
        self.configured.insert(cluster.to_owned(), behaviour.clone());
        if let Some(agent) = self.agents.get_mut(cluster) {
            let fresh = Agent::new(&behaviour, &self.defaults);
            agent.delay = fresh.delay;
            agent.rng = fresh.rng;
            agent.failure = fresh.failure;
        }
    }

    fn agent(&mut self, cluster: &str) -> &mut Agent {
        let Members { configured, defaults, agents, .. } = self;
        if !agents.contains_key(cluster) {
            let agent = match configured.get(cluster) {
                Some(behaviour) => Agent::new(behaviour, defaults),
                None => Agent::new(&MemberBehaviour::default(), defaults),
            };
            agents.insert(cluster.to_owned(), agent);
        }
        agents.get_mut(cluster).expect("inserted above")
    }

    /// A cluster left: its agent removed everything it held.
    pub(crate) fn forget(&mut self, cluster: &str) {
        if let Some(agent) = self.agents.get_mut(cluster) {
            agent.objects.clear();
        }
    }

    /// The agent starts failing.
    pub(crate) fn fail(&mut self, cluster: &str, failure: MemberFailure) {
        self.agent(cluster).failure = Some(failure);
    }

    /// The agent recovers and re-applies every binding it reported a failure on.
    pub(crate) fn heal(&mut self, hub: &Hub, cluster: &str) {
        self.agent(cluster).failure = None;
        let failed: Vec<Key> = hub
            .bindings
            .iter()
            .filter(|(_, b)| b.spec.target_cluster == cluster)
            .filter(|(_, b)| {
                let g = b.metadata.generation();
                b.conditions().iter().any(|c| c.is_false_at(g))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in failed {
            self.handled.remove(&k);
            self.recheck.insert(k);
        }
    }

    /// Returns the work the agents start now, with its delay, in binding order. Only the
    /// bindings `written` since the last scan (taken from the hub's [`BindingWrites`]) can have
    /// new work (or every binding, after a cluster joined or left), so a scan costs what
    /// changed, not the size of the fleet; debug builds check that against a scan of every
    /// binding.
    ///
    /// [`BindingWrites`]: super::hub::BindingWrites
    pub(crate) fn scan(&mut self, hub: &Hub, mut written: Vec<Key>) -> Vec<(Duration, MemberWork)> {
        let epoch = hub.binding_writes.cluster_epoch;
        // Sorted either way: the work comes out in binding order.
        let keys = if self.seen_epoch == Some(epoch) {
            if !self.recheck.is_empty() {
                written.extend(std::mem::take(&mut self.recheck));
                written.sort_unstable();
                written.dedup();
            }
            written
        } else {
            self.recheck.clear();
            hub.bindings.keys().cloned().collect()
        };
        self.seen_epoch = Some(epoch);
        #[cfg(debug_assertions)]
        for (key, b) in hub.bindings.iter() {
            debug_assert!(
                keys.binary_search(key).is_ok() || self.due(hub, key, b).is_none(),
                "binding {key:?} has member work but was not recorded as written"
            );
        }
        let mut work = Vec::new();
        for key in keys {
            let Some(b) = hub.bindings.get(&key) else { continue };
            let Some(due) = self.due(hub, &key, b) else { continue };
            let cluster = b.spec.target_cluster.clone();
            let uid = b.metadata.uid.clone().unwrap_or_default();
            match due {
                Due::Cleanup => {
                    self.cleaning.insert(key.clone(), uid.clone());
                    let joined = hub.clusters.contains_key(&cluster);
                    let delay = if joined { self.agent(&cluster).next_delay() } else { Duration::ZERO };
                    work.push((delay, MemberWork::Cleanup { cluster, binding: key, uid }));
                }
                Due::Apply => {
                    let generation = b.metadata.generation();
                    self.handled.insert(key.clone(), (uid.clone(), generation));
                    let delay = self.agent(&cluster).next_delay();
                    work.push((delay, MemberWork::Apply { cluster, binding: key, uid, generation }));
                }
            }
        }
        work
    }

    /// The work binding `key` needs that has not been started: a cleanup once it is being
    /// deleted, an apply once it is bound with its rollout started at its generation.
    fn due(&self, hub: &Hub, key: &Key, b: &Binding) -> Option<Due> {
        let uid = b.metadata.uid.as_deref().unwrap_or("");
        if b.metadata.deletion_timestamp.is_some() {
            return (self.cleaning.get(key).map(String::as_str) != Some(uid)).then_some(Due::Cleanup);
        }
        let generation = b.metadata.generation();
        let ready = b.spec.state == BindingState::Bound
            && !b.spec.resource_snapshot_name.is_empty()
            && is_condition_true(b.conditions(), ct::ROLLOUT_STARTED, generation)
            && hub.clusters.contains_key(&b.spec.target_cluster);
        let handled = self.handled.get(key).is_some_and(|(u, g)| u == uid && *g == generation);
        (ready && !handled).then_some(Due::Apply)
    }

    /// Finishes a piece of work, if it still applies to the hub as it is now.
    pub(crate) fn complete(&mut self, hub: &mut Hub, work: MemberWork) {
        match work {
            MemberWork::Apply { cluster, binding, uid, generation } => {
                self.apply(hub, &cluster, &binding, &uid, generation)
            }
            MemberWork::Cleanup { cluster, binding, uid } => self.cleanup(hub, &cluster, &binding, &uid),
        }
    }

    fn apply(&mut self, hub: &mut Hub, cluster: &str, key: &Key, uid: &str, generation: i64) {
        let now = hub.now;
        let Some(b) = hub.bindings.get(key) else { return };
        let current = b.metadata.uid.as_deref() == Some(uid)
            && b.metadata.generation() == generation
            && b.metadata.deletion_timestamp.is_none()
            && b.spec.state == BindingState::Bound
            && hub.clusters.contains_key(cluster);
        if !current {
            return;
        }
        let snapshot_name = b.spec.resource_snapshot_name.clone();
        let run = find_condition(b.conditions(), ct::ROLLOUT_STARTED)
            .and_then(|c| c.message.rsplit_once("updateRun: ").map(|(_, r)| r.to_owned()));
        let report_diff =
            b.spec.apply_strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some(ApplyStrategy::REPORT_DIFF);
        let placement = Hub::placement_of(&b.metadata);
        let ns = placement.0.clone();
        // The snapshot's resources and their summary: all a member needs of it.
        let snapshot = hub.resource_snapshots.get(KeyRef(&ns, &snapshot_name).key()).map(|s| {
            let applied = AppliedSnapshot::of(&mut self.last_snapshot, s);
            (Arc::clone(&applied.resources), applied.summary.clone())
        });
        let failure = self.agent(cluster).failure.clone();

        // (type, status, reason), borrowed: the conditions are built once, when they are set.
        let mut conditions: Vec<(&str, ConditionStatus, &str)> = Vec::with_capacity(4);
        let order = [ct::OVERRIDDEN, ct::WORK_SYNCHRONIZED, ct::APPLIED, ct::AVAILABLE];
        let ok_reasons = ["NoOverrideSpecified", "AllWorkSynced", "AllWorkHaveBeenApplied", "AllWorkAreAvailable"];
        let event = match (&failure, snapshot) {
            (Some(f), snapshot) => {
                for (t, r) in order.into_iter().zip(ok_reasons) {
                    if t == f.condition {
                        break;
                    }
                    conditions.push((t, ConditionStatus::True, r));
                }
                conditions.push((&f.condition, ConditionStatus::False, &f.reason));
                // Unavailable is applied but not ready: the resources are on the cluster.
                if f.condition == ct::AVAILABLE
                    && let Some((resources, _)) = snapshot
                {
                    self.agent(cluster).objects.insert(placement.clone(), resources);
                }
                Event::new(now, EventKind::MemberFailed)
                    .snapshot(&snapshot_name)
                    .detail(format!("{} False: {}", f.condition, f.reason))
            }
            (None, None) => {
                conditions.push((ct::WORK_SYNCHRONIZED, ConditionStatus::False, "ResourceSnapshotNotFound"));
                Event::new(now, EventKind::MemberFailed)
                    .snapshot(&snapshot_name)
                    .detail("WorkSynchronized False: ResourceSnapshotNotFound")
            }
            (None, Some(_)) if report_diff => {
                conditions.push((ct::OVERRIDDEN, ConditionStatus::True, ok_reasons[0]));
                conditions.push((ct::WORK_SYNCHRONIZED, ConditionStatus::True, ok_reasons[1]));
                conditions.push((ct::DIFF_REPORTED, ConditionStatus::True, "DiffReportedStatusTrue"));
                Event::new(now, EventKind::MemberDiffReported).snapshot(&snapshot_name)
            }
            (None, Some((resources, summary))) => {
                for (t, r) in order.into_iter().zip(ok_reasons) {
                    conditions.push((t, ConditionStatus::True, r));
                }
                self.agent(cluster).objects.insert(placement.clone(), resources);
                Event::new(now, EventKind::MemberApplied).snapshot(&snapshot_name).detail(summary)
            }
        };

        let rv = hub.next_rv();
        let Some(b) = hub.bindings.get_mut(key).map(Arc::make_mut) else { return };
        let status = b.status.get_or_insert_with(Default::default);
        // Conditions after the failing one are not reported at this generation.
        status.conditions.retain(|c| {
            let t = c.type_.as_str();
            conditions.iter().any(|(r, _, _)| *r == t) || (!order.contains(&t) && t != ct::DIFF_REPORTED)
        });
        for &(t, s, r) in &conditions {
            set_condition(&mut status.conditions, Condition::new(t, s, generation, r, ""), now);
        }
        b.metadata.resource_version = Some(rv);
        hub.binding_writes.binding_written(KeyRef::from(key), &b.metadata, &mut hub.touched);
        let event = match run {
            Some(r) => event.run(&ns, &r),
            None => event.namespace(&ns),
        };
        hub.record(event.cluster(cluster));
    }

    fn cleanup(&mut self, hub: &mut Hub, cluster: &str, key: &Key, uid: &str) {
        let Some(b) = hub.bindings.get(key) else { return };
        if b.metadata.uid.as_deref() != Some(uid) {
            return;
        }
        let placement = Hub::placement_of(&b.metadata);
        hub.binding_writes.binding_written(KeyRef::from(key), &b.metadata, &mut hub.touched);
        if let Some(agent) = self.agents.get_mut(cluster) {
            agent.objects.remove(&placement);
        }
        hub.bindings.remove(key);
        self.handled.remove(key);
        self.cleaning.remove(key);
        let by = hub.deleted_by.remove(key);
        let event = Event::new(hub.now, EventKind::BindingDeleted).cluster(cluster);
        let event = match by {
            Some((ns, run)) => event.run(&ns, &run),
            None => event.namespace(&placement.0),
        };
        hub.record(event);
        scheduler::schedule(hub, &placement);
    }

    /// What each member cluster of the fleet holds, by cluster name.
    pub(crate) fn objects(&self, hub: &Hub) -> BTreeMap<String, Vec<Value>> {
        hub.clusters
            .keys()
            .map(|c| {
                let objects = self
                    .agents
                    .get(c)
                    .map(|a| a.objects.values().flat_map(|o| o.iter()).cloned().collect())
                    .unwrap_or_default();
                (c.clone(), objects)
            })
            .collect()
    }
}
