//! [`PlanCache`]: the stage plan of one run, remembered between reconciles.
//!
//! Every reconcile of an initialized run re-plans its stages from the world — that is how
//! KubeFleet notices a relabelled cluster or a rescheduled binding — and at fleet scale that is
//! nearly all of a step's work: sorting and checking the member clusters and bindings, grouping
//! the clusters by label. The plan is a function of few inputs: each member cluster's name and
//! labels, each binding's name, namespace, placement label, target, policy snapshot and whether
//! it is unscheduled, the latest policy snapshot and the run's strategy snapshot. A rollout
//! changes none of them from one reconcile to the next (it changes bindings' states, resources
//! and conditions), so the plan made last time is still the plan.
//!
//! The cache holds the world's lists as it last saw them. The objects are shared `Arc`s. Of a
//! member cluster it holds a reference, which keeps the object unchanged (`Arc::make_mut`
//! copies a shared object). Of a binding — the objects a rollout writes, thousands per stage —
//! it holds a weak reference and a copy of what planning reads: a weak reference keeps the
//! object's address from being reused and stops anyone from changing the object in place
//! (`Arc::get_mut` refuses, `Arc::make_mut` moves it to a new address, without copying it),
//! yet lets its owner write it without a copy once the world is dropped. (Of a binding dropped
//! or moved since, the reference keeps only the allocation, `size_of::<Binding>()` bytes, not
//! the binding's strings and maps, until the next reconcile replaces it.) Either way the same
//! pointer at the same position means the same object; a different pointer is compared on the
//! plan's inputs only. When anything differs, or on any other path than a validated
//! reconcile, the engine plans from scratch, exactly as without the cache.
//!
//! Validation then checks the recorded status against the plan, stage by stage and cluster by
//! cluster. The cluster-by-cluster half cannot fail, and rewrites nothing, on a status the
//! engine itself produced from the same plan at the run's generation. The cache knows such a
//! status by the run's name and the `resourceVersion` it was stored at (`Known`): the version
//! its write was answered with ([`PlanCache::persisted`]), or one at which a reconcile found
//! the status passing every check unchanged. A status changed in memory since it was read is
//! never vouched for at the version it was read at.

use std::cell::OnceCell;
use std::sync::{Arc, Weak};

use crate::InPlaceOutcome;
use crate::api::Time;
use crate::api::well_known::PLACEMENT_TRACKING_LABEL;
use crate::api::{Binding, BindingState, MemberCluster, PolicySnapshot, UpdateRunObject, UpdateStrategySpec};
use crate::config::Config;
use crate::world::World;

use super::EngineError;
use super::hub::{Hub, RunRef};
use super::index::FastMap;
use super::plan::{Plan, PlannedStage};

/// Remembers one run's stage plan between reconciles, so that a reconcile whose world changed
/// only in what cannot move a cluster between stages skips re-planning.
///
/// Use one cache per run, for as long as a controller reconciles it, and call
/// [`PlanCache::reconcile_in_place`] instead of [`reconcile_in_place`](crate::reconcile_in_place);
/// after writing a status it produced, tell it the run's new `resourceVersion`
/// ([`PlanCache::persisted`]). The outcome is the same, byte for byte, with a cold cache, a
/// warm one, or none; only the cost differs: mid-rollout at 10,000 clusters in 31 stages, a
/// warm step runs 0.19–0.31 M instructions where a cold one runs 8.7–8.8 M (the crate's
/// `benches/README.md`).
///
/// A warm cache is reused when the world's member clusters and bindings are the same objects
/// in the same order (the same `Arc`s: build each [`World`] from your informers' `Arc`s, as it
/// asks) or differ only in fields the plan does not read: binding states other than
/// `Unscheduled`, resource snapshots, overrides, apply strategies and conditions; cluster
/// status. Adding, removing or reordering objects, relabelling a cluster, retargeting or
/// rescheduling a binding, a new policy snapshot or a changed strategy snapshot makes the next
/// reconcile plan from scratch and remember the new plan.
///
/// With the plan reused, the status is still checked against it on every reconcile, cluster by
/// cluster — unless the run was read at the `resourceVersion` its last write was stored at (or
/// at one whose status a reconcile through the cache already checked in full and left as it
/// was): the engine wrote that status from the same plan, so the cluster-by-cluster checks
/// could find nothing, and only the stages are checked. A status anyone else wrote since has
/// another version and is checked in full, and so is a copy the cache itself changed in memory
/// and sees again unwritten.
///
/// The cache keeps the member clusters it last saw alive (one reference each) until the next
/// reconcile replaces them. Of the bindings it keeps a weak reference each and a copy of what
/// planning reads (their names, placement label, target and policy snapshot), so a controller
/// or a fleet that writes a binding through [`Arc::make_mut`] after the reconcile moves it
/// instead of copying it; of a binding dropped or moved since, a weak reference keeps only its
/// allocation (`size_of::<Binding>()` bytes) until the next reconcile. Drop the cache when the
/// run is finished or deleted.
///
/// ```no_run
/// # use staged_rollout::api::{ClusterStagedUpdateRun, Time};
/// # use staged_rollout::{Config, EngineError, PlanCache, World};
/// # fn observe() -> (ClusterStagedUpdateRun, World, Time) { unimplemented!() }
/// # fn write_status(run: &ClusterStagedUpdateRun) -> String { unimplemented!() }
/// let config = Config::default();
/// let mut cache = PlanCache::new(); // one per run, kept between its reconciles
/// loop {
///     let (mut run, world, now) = observe(); // the run as stored, the hub around it
///     let outcome = cache.reconcile_in_place(&mut run, &world, now, &config)?;
///     // Apply `outcome.actions` and wait for `outcome.wake` — exactly as with
///     // `reconcile_in_place`. Write `run.status` when `outcome.status_changed`, and tell the
///     // cache the `resourceVersion` the API server answered with.
///     if outcome.status_changed {
///         cache.persisted(&write_status(&run));
///     }
///     if outcome.wake.is_idle() {
///         break; // and drop the cache
///     }
/// }
/// # Ok::<(), EngineError>(())
/// ```
#[derive(Clone, Default)]
pub struct PlanCache {
    memo: Option<Memo>,
    reused: u64,
    checks_skipped: u64,
    /// Whether the reconcile under way validated the run's status and, if so, whether it
    /// rewrote no generation (set by validation, taken by [`PlanCache::reconcile_in_place`]).
    validation: Option<Validation>,
    /// The last status a reconcile through this cache changed in memory: run name and the
    /// version it was read at. A status read at that version may be that changed copy rather
    /// than what is stored, so it is never taken as checked.
    diverged: Option<(String, String)>,
}

/// What validation found, against the remembered plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Validation {
    /// It passed and rewrote no generation: the status it checked is the one it was given.
    Unchanged,
    /// It passed and rewrote generations in memory.
    Rewritten,
}

/// The world's member clusters and bindings as the last reconcile saw them, the placement's
/// lists in name order, and the plan made from them, all by position in the world's lists.
#[derive(Clone)]
pub(crate) struct Memo {
    namespace: String,
    placement: String,
    members: Vec<Arc<MemberCluster>>,
    bindings: SeenBindings,
    /// The lists' name orders, shared with each reconcile's `Hub` (no copy per reconcile).
    orders: Arc<Orders>,
    plan: Option<PlanMemo>,
}

/// The world's bindings as the last reconcile saw them, without keeping them alive: a weak
/// reference to each (its address, which nothing else can take while the reference lasts, and
/// which the object keeps for as long as it is unchanged) and what planning reads of it.
#[derive(Clone, Default)]
struct SeenBindings {
    refs: Vec<Weak<Binding>>,
    /// The address of each, in one array: compared with the world's, in a loop that reads
    /// nothing else.
    addrs: Vec<usize>,
    /// The planning inputs of `refs[i]`: its fields' texts at `bounds[FIELDS * i ..][..=FIELDS]`
    /// in `text`, and its `flags[i]`.
    text: String,
    bounds: Vec<u32>,
    flags: Vec<u8>,
}

/// How many of a binding's planning inputs are texts ([`SeenBindings::fields`]).
const FIELDS: usize = 5;
/// [`SeenBindings::flags`]: the binding is unscheduled.
const UNSCHEDULED: u8 = 1;
/// [`SeenBindings::flags`]: the binding has a placement label (possibly empty).
const LABELLED: u8 = 2;

impl SeenBindings {
    /// `bindings`, remembered; `None` if their texts do not fit `u32` offsets.
    fn of(bindings: &[Arc<Binding>]) -> Option<SeenBindings> {
        let mut seen = SeenBindings {
            refs: bindings.iter().map(Arc::downgrade).collect(),
            addrs: bindings.iter().map(|b| Arc::as_ptr(b).addr()).collect(),
            text: String::new(),
            bounds: Vec::with_capacity(FIELDS * bindings.len() + 1),
            flags: Vec::with_capacity(bindings.len()),
        };
        seen.bounds.push(0);
        for b in bindings {
            let label = b.metadata.label(PLACEMENT_TRACKING_LABEL);
            seen.flags.push(Self::flags_of(b, label));
            for field in Self::fields(b, label) {
                seen.text.push_str(field);
                seen.bounds.push(u32::try_from(seen.text.len()).ok()?);
            }
        }
        Some(seen)
    }

    /// The texts planning reads of a binding labelled with placement `label`: its name, its
    /// namespace, that placement (empty when unlabelled: its flags tell), its target and its
    /// policy snapshot. With [`SeenBindings::flags_of`], that is all planning reads of it.
    fn fields<'b>(b: &'b Binding, label: Option<&'b str>) -> [&'b str; FIELDS] {
        [
            b.metadata.name(),
            b.metadata.namespace(),
            label.unwrap_or_default(),
            &b.spec.target_cluster,
            &b.spec.scheduling_policy_snapshot_name,
        ]
    }

    fn flags_of(b: &Binding, label: Option<&str>) -> u8 {
        let unscheduled = if b.spec.state == BindingState::Unscheduled { UNSCHEDULED } else { 0 };
        let labelled = if label.is_some() { LABELLED } else { 0 };
        unscheduled | labelled
    }

    /// Whether `b` has the planning inputs of the `i`th binding seen.
    fn same_inputs(&self, i: usize, b: &Binding) -> bool {
        let label = b.metadata.label(PLACEMENT_TRACKING_LABEL);
        let bounds = &self.bounds[FIELDS * i..=FIELDS * (i + 1)];
        let text = self.text.as_bytes();
        self.flags[i] == Self::flags_of(b, label)
            && Self::fields(b, label)
                .iter()
                .zip(bounds.windows(2))
                .all(|(field, w)| text.get(w[0] as usize..w[1] as usize) == Some(field.as_bytes()))
    }

    /// Whether `now` holds the bindings seen, in order, up to what planning reads; takes the
    /// new references of those that differ by pointer only.
    fn same_as(&mut self, now: &[Arc<Binding>]) -> bool {
        if self.refs.len() != now.len() {
            return false;
        }
        let mut i = 0;
        loop {
            // The unchanged ones: at the address seen, which nothing else can have taken.
            let unchanged = self.addrs[i..].iter().zip(&now[i..]);
            i += unchanged.take_while(|&(&old, new)| old == Arc::as_ptr(new).addr()).count();
            let Some(new) = now.get(i) else { return true };
            if !self.same_inputs(i, new) {
                return false;
            }
            self.refs[i] = Arc::downgrade(new);
            self.addrs[i] = Arc::as_ptr(new).addr();
            i += 1;
        }
    }
}

/// The positions, in the world's lists, of the member clusters and of the placement's bindings
/// in name order.
pub(crate) struct Orders {
    pub(crate) members: Vec<u32>,
    pub(crate) bindings: Vec<u32>,
}

/// A plan and the snapshots it was made with.
#[derive(Clone)]
struct PlanMemo {
    policy_snapshot: PolicySnapshot,
    strategy: UpdateStrategySpec,
    /// Per stage, the positions of its clusters' bindings in update order (shared with each
    /// reconcile's plan, which looks up only the stages it reads).
    stages: Arc<[Box<[u32]>]>,
    to_delete: Vec<u32>,
    /// What is known of the run's stored status against this plan.
    known: Known,
}

/// What a cache knows of the run's status as stored, against its remembered plan. A stored
/// object's `resourceVersion` changes with every write, so a status read at a version the
/// cache knows is the status it knows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Known {
    /// Nothing: the next validation checks every cluster.
    #[default]
    Nothing,
    /// The status of run `run` stored at `version`, with the run at `generation`, passed every
    /// per-cluster check against the plan and needed no generation rewritten.
    Checked { run: String, version: String, generation: i64 },
    /// The last reconcile validated the status of run `run` and changed it: the new status has
    /// every generation rewritten and keeps the engine's invariants, so it passes the checks as
    /// soon as it is stored ([`PlanCache::persisted`] says at which version).
    Produced { run: String, generation: i64 },
}

/// A summary: the remembered objects are the world's, and there may be a hundred thousand.
impl std::fmt::Debug for PlanCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("PlanCache");
        if let Some(m) = &self.memo {
            d.field("member_clusters", &m.members.len()).field("bindings", &m.bindings.refs.len());
            d.field("stages", &m.plan.as_ref().map(|p| p.stages.len()));
        }
        d.field("reused", &self.reused).field("checks_skipped", &self.checks_skipped).finish_non_exhaustive()
    }
}

impl PlanCache {
    /// An empty cache: the first reconcile plans from scratch.
    pub fn new() -> PlanCache {
        PlanCache::default()
    }

    /// [`reconcile_in_place`](crate::reconcile_in_place), reusing the plan of the previous call
    /// when the world allows it, and remembering this call's plan for the next.
    pub fn reconcile_in_place<R: UpdateRunObject + ?Sized>(
        &mut self,
        run: &mut R,
        world: &World,
        now: Time,
        config: &Config,
    ) -> Result<InPlaceOutcome, EngineError> {
        let read_at = run.metadata().resource_version.clone();
        self.validation = None;
        let outcome = super::reconcile_run(run, world, now, config, Some(self));
        let validation = self.validation.take();
        let (name, generation) = (run.metadata().name(), run.metadata().generation());
        let status_changed = outcome.as_ref().is_ok_and(|o| o.status_changed);
        if status_changed || validation == Some(Validation::Rewritten) {
            self.diverged = read_at.clone().map(|version| (name.to_owned(), version));
        }
        let diverged = self.diverged.as_ref().map(|(run, version)| (run.as_str(), version.as_str()));
        let known = match (validation, read_at) {
            (Some(_), _) if status_changed => Known::Produced { run: name.to_owned(), generation },
            (Some(Validation::Unchanged), Some(version)) if diverged != Some((name, version.as_str())) => {
                Known::Checked { run: name.to_owned(), version, generation }
            }
            _ => Known::Nothing,
        };
        if let Some(plan) = self.memo.as_mut().and_then(|m| m.plan.as_mut()) {
            plan.known = known;
        }
        outcome
    }

    /// Tells the cache that the status the last [`PlanCache::reconcile_in_place`] changed is
    /// now stored, and the run's `resourceVersion` is `resource_version` (what the API server
    /// answered to the write).
    ///
    /// The next reconcile of the run read at that version — unchanged since you wrote it —
    /// then checks the status stage by stage only, not cluster by cluster: the engine wrote
    /// it from the same plan, so the per-cluster checks could find nothing (at 10,000
    /// clusters they are most of a warm step). Without the call, or when the run was written
    /// since, the next reconcile checks everything; the outcome is the same either way.
    ///
    /// Pass only a version the API server returned for this write: the shortcut relies on a
    /// stored object's `resourceVersion` changing with every write, as Kubernetes guarantees.
    pub fn persisted(&mut self, resource_version: &str) {
        if let Some(plan) = self.memo.as_mut().and_then(|m| m.plan.as_mut())
            && let Known::Produced { run, generation } = &mut plan.known
        {
            let (run, generation) = (std::mem::take(run), *generation);
            plan.known = Known::Checked { run, version: resource_version.to_owned(), generation };
        }
    }

    /// Forgets what was remembered.
    pub fn clear(&mut self) {
        self.memo = None;
    }

    /// Whether a plan is remembered.
    pub fn is_warm(&self) -> bool {
        self.memo.as_ref().is_some_and(|m| m.plan.is_some())
    }

    /// How many reconciles through this cache reused a remembered plan instead of planning (a
    /// hit count for a controller's metrics).
    pub fn reused(&self) -> u64 {
        self.reused
    }

    /// How many reconciles through this cache found the run's status at the version
    /// [`PlanCache::persisted`] named, or at one a reconcile before had found checked, and so
    /// checked it stage by stage only (a second hit count for a controller's metrics).
    pub fn checks_skipped(&self) -> u64 {
        self.checks_skipped
    }

    /// What was remembered, if `world` still holds the same member clusters and bindings for
    /// the run (up to what planning reads); otherwise forgets it. Objects that changed without
    /// changing the plan replace the remembered ones, so each is compared once.
    pub(crate) fn refresh(&mut self, world: &World, run: &RunRef<'_>) -> Option<&Memo> {
        let memo = self.memo.as_mut()?;
        let holds = memo.namespace == run.namespace
            && memo.placement == run.placement_name
            && same_members(&mut memo.members, &world.member_clusters)
            && memo.bindings.same_as(&world.bindings);
        if !holds {
            self.memo = None;
        }
        self.memo.as_ref()
    }

    /// Remembers the lists of `hub`, just built and checked from scratch.
    pub(crate) fn remember_lists(&mut self, hub: &Hub<'_>, run: &RunRef<'_>) {
        let world = hub.world;
        let positions = binding_positions(world);
        let bindings: Option<Vec<u32>> = hub.bindings().iter().map(|&b| position(&positions, b)).collect();
        let members: Option<Vec<u32>> = hub.member_clusters().iter().map(|m| u32::try_from(m.2).ok()).collect();
        // Every listed object is one of the world's, at a position that fits in a `u32`, and
        // the bindings' planning inputs fit `u32` offsets; were one not, remembering nothing is
        // always correct.
        self.memo = match (members, bindings, SeenBindings::of(&world.bindings)) {
            (Some(members), Some(bindings), Some(seen)) => Some(Memo {
                namespace: run.namespace.to_owned(),
                placement: run.placement_name.to_owned(),
                members: world.member_clusters.clone(),
                bindings: seen,
                orders: Arc::new(Orders { members, bindings }),
                plan: None,
            }),
            _ => None,
        };
    }

    /// The remembered plan, if it was made with these snapshots (and, as [`PlanCache::refresh`]
    /// checked, from the same clusters and bindings).
    pub(crate) fn plan<'w>(
        &mut self,
        world: &'w World,
        policy_snapshot: &PolicySnapshot,
        strategy: &UpdateStrategySpec,
    ) -> Option<Plan<'w>> {
        let remembered = self.memo.as_ref()?;
        let memo = remembered.plan.as_ref()?;
        // Every position was taken in a list of the remembered length, so in a world of that
        // length (as `PlanCache::refresh` found it) every index below holds.
        if remembered.bindings.refs.len() != world.bindings.len()
            || memo.policy_snapshot != *policy_snapshot
            || memo.strategy != *strategy
        {
            return None;
        }
        let stages = (0..memo.stages.len())
            .map(|stage| PlannedStage::Remembered {
                bindings: &world.bindings,
                positions: Arc::clone(&memo.stages),
                stage,
                resolved: OnceCell::new(),
            })
            .collect();
        let to_delete = memo.to_delete.iter().map(|&b| &*world.bindings[b as usize]).collect();
        let plan = Plan { stages, to_delete };
        self.reused += 1;
        Some(plan)
    }

    /// Whether the run's status, read at its `resourceVersion`, is one the remembered plan
    /// knows passed every per-cluster check (see [`Known`]).
    pub(crate) fn has_checked(&mut self, run: &RunRef<'_>) -> bool {
        let known = self.memo.as_ref().and_then(|m| m.plan.as_ref()).map(|p| &p.known);
        let checked = matches!(known, Some(Known::Checked { run: name, version, generation })
            if name == run.name && run.resource_version == Some(version.as_str()) && *generation == run.generation);
        self.checks_skipped += u64::from(checked);
        checked
    }

    /// Notes that validation passed, against the remembered plan; `rewrote`: it rewrote
    /// generations in memory.
    pub(crate) fn validated(&mut self, rewrote: bool) {
        self.validation = Some(if rewrote { Validation::Rewritten } else { Validation::Unchanged });
    }

    /// Remembers `plan`, made with these snapshots from the lists remembered last.
    pub(crate) fn remember_plan(
        &mut self,
        world: &World,
        policy_snapshot: &PolicySnapshot,
        strategy: &UpdateStrategySpec,
        plan: &Plan<'_>,
    ) {
        let Some(memo) = self.memo.as_mut() else { return };
        let positions = binding_positions(world);
        let at = |b: &Binding| position(&positions, b);
        let stages: Option<Arc<[Box<[u32]>]>> =
            plan.stages.iter().map(|s| s.clusters().iter().map(|&(_, b)| at(b)).collect()).collect();
        let to_delete = plan.to_delete.iter().map(|&b| at(b)).collect();
        // Every planned binding is one of the world's, at a position that fits in a `u32`; were
        // one not, remembering no plan is always correct.
        memo.plan = match (stages, to_delete) {
            (Some(stages), Some(to_delete)) => Some(PlanMemo {
                policy_snapshot: policy_snapshot.clone(),
                strategy: strategy.clone(),
                stages,
                to_delete,
                known: Known::Nothing,
            }),
            _ => None,
        };
    }
}

impl Memo {
    /// The lists' name orders — `None` unless `world`'s lists have the remembered lengths,
    /// which every position fits.
    pub(crate) fn orders(&self, world: &World) -> Option<Arc<Orders>> {
        let fits =
            self.members.len() == world.member_clusters.len() && self.bindings.refs.len() == world.bindings.len();
        fits.then(|| Arc::clone(&self.orders))
    }
}

/// Each binding's position in `world.bindings`, by address (only looked up, never iterated).
fn binding_positions(world: &World) -> FastMap<*const Binding, usize> {
    world.bindings.iter().enumerate().map(|(i, b)| (Arc::as_ptr(b), i)).collect()
}

/// `binding`'s position in `positions`, if it has one that fits in a `u32`.
fn position(positions: &FastMap<*const Binding, usize>, binding: &Binding) -> Option<u32> {
    positions.get(&std::ptr::from_ref(binding)).and_then(|&i| u32::try_from(i).ok())
}

/// Whether `now` holds the remembered member clusters, in order, up to what planning reads;
/// replaces the remembered ones that differ by pointer only.
fn same_members(remembered: &mut [Arc<MemberCluster>], now: &[Arc<MemberCluster>]) -> bool {
    remembered.len() == now.len()
        && remembered.iter_mut().zip(now).all(|(old, new)| {
            if Arc::ptr_eq(old, new) {
                return true;
            }
            let same = same_member(old, new);
            if same {
                *old = Arc::clone(new);
            }
            same
        })
}

/// What planning reads of a member cluster: its name and labels.
fn same_member(a: &MemberCluster, b: &MemberCluster) -> bool {
    a.metadata.name == b.metadata.name && a.metadata.labels() == b.metadata.labels()
}
