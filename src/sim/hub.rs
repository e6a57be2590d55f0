//! The simulated hub: every object a staged run touches, stored as an API server would store it
//! (generations bump on spec writes, every write gets a new `resourceVersion`), and the [`Fleet`]
//! implementation through which the driver reads and writes it.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde_json::Value;

use crate::action::ObjectRef;
use crate::api::well_known;
use crate::api::{
    Binding, MemberCluster, ObjectMeta, Placement, PolicySnapshot, ResourceSnapshot, Time, UpdateStrategySpec,
};
use crate::driver::{FleetError, Observation, UpdateRun};
use crate::engine::{FastMap, FastSet};
use crate::world::{ObservedApproval, World};

use super::resources::{self, ObjectKey};
use super::scheduler;
use super::transcript::{Event, EventKind};

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects.
pub(crate) type Key = (String, String);

pub(crate) fn key_of(meta: &ObjectMeta) -> Key {
    (meta.namespace().to_owned(), meta.name().to_owned())
}

pub(crate) fn key_ref(r: &ObjectRef) -> Key {
    (r.namespace.clone(), r.name.clone())
}

/// A borrowed [`Key`]: maps keyed by `Key` are looked up with [`KeyRef::key`] without
/// allocating one.
#[derive(Clone, Copy)]
pub(crate) struct KeyRef<'a>(pub(crate) &'a str, pub(crate) &'a str);

impl<'a> KeyRef<'a> {
    /// The key of the object `r` names.
    pub(crate) fn of(r: &'a ObjectRef) -> KeyRef<'a> {
        KeyRef(&r.namespace, &r.name)
    }

    /// What a map keyed by [`Key`] is looked up with.
    pub(crate) fn key(&self) -> &(dyn AsKey + 'a) {
        self
    }
}

impl<'a> From<&'a Key> for KeyRef<'a> {
    fn from(key: &'a Key) -> KeyRef<'a> {
        KeyRef(&key.0, &key.1)
    }
}

/// A `(namespace, name)` pair, owned ([`Key`]) or borrowed ([`KeyRef`]), ordered as `Key` is.
pub(crate) trait AsKey {
    /// The namespace and the name.
    fn pair(&self) -> (&str, &str);
}

impl AsKey for Key {
    fn pair(&self) -> (&str, &str) {
        (&self.0, &self.1)
    }
}

impl AsKey for KeyRef<'_> {
    fn pair(&self) -> (&str, &str) {
        (self.0, self.1)
    }
}

impl<'a> Borrow<dyn AsKey + 'a> for Key {
    fn borrow(&self) -> &(dyn AsKey + 'a) {
        self
    }
}

impl PartialEq for dyn AsKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.pair() == other.pair()
    }
}

impl Eq for dyn AsKey + '_ {}

impl PartialOrd for dyn AsKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn AsKey + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        self.pair().cmp(&other.pair())
    }
}

/// Hashed as [`Key`] is: a tuple hashes its fields in order, and a `String` as its `str`.
impl Hash for dyn AsKey + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.pair().hash(state);
    }
}

/// The hub's bindings: found by key through a hash map (the simulated fleet writes thousands,
/// one lookup each), listed in key order as the API server lists them.
#[derive(Clone, Default)]
pub(crate) struct Bindings {
    /// Each binding's slot.
    slot_of: FastMap<Key, usize>,
    /// The same, in key order.
    order: BTreeMap<Key, usize>,
    /// The bindings; `None` where one was removed and no binding has taken its slot since.
    slots: Vec<Option<Arc<Binding>>>,
    /// The empty slots.
    free: Vec<usize>,
}

impl Bindings {
    /// The binding stored under `key`.
    pub(crate) fn get(&self, key: &(dyn AsKey + '_)) -> Option<&Arc<Binding>> {
        let &slot = self.slot_of.get(key)?;
        self.slots[slot].as_ref()
    }

    /// The binding stored under `key`, to write (through [`Arc::make_mut`]).
    pub(crate) fn get_mut(&mut self, key: &(dyn AsKey + '_)) -> Option<&mut Arc<Binding>> {
        let &slot = self.slot_of.get(key)?;
        self.slots[slot].as_mut()
    }

    /// Stores `binding` under `key`, replacing the one stored there.
    pub(crate) fn insert(&mut self, key: Key, binding: Arc<Binding>) {
        if let Some(stored) = self.get_mut(&key) {
            *stored = binding;
            return;
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(binding);
                slot
            }
            None => {
                self.slots.push(Some(binding));
                self.slots.len() - 1
            }
        };
        self.order.insert(key.clone(), slot);
        self.slot_of.insert(key, slot);
    }

    /// Removes the binding stored under `key`, and returns it.
    pub(crate) fn remove(&mut self, key: &(dyn AsKey + '_)) -> Option<Arc<Binding>> {
        let slot = self.slot_of.remove(key)?;
        self.order.remove(key);
        self.free.push(slot);
        self.slots[slot].take()
    }

    /// The bindings in key order, with their keys.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Key, &Arc<Binding>)> {
        self.order.iter().filter_map(|(key, &slot)| Some((key, self.slots[slot].as_ref()?)))
    }

    /// The keys in order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &Key> {
        self.order.keys()
    }

    /// The bindings in key order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Arc<Binding>> {
        self.iter().map(|(_, b)| b)
    }
}

/// A map from key to binding, in key order.
impl std::fmt::Debug for Bindings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// A run its holder is done with (the run of the last driver step), handed to the next
/// observation so that it does not allocate a copy of the stored run anew.
#[derive(Clone, Debug)]
pub(crate) struct SpareRun {
    pub(crate) run: UpdateRun,
    /// `run` is the hub's run as of its `resourceVersion`: its step, served a fresh observation
    /// and hit by no fault, wrote the status (and took the version that write answered) or left
    /// it untouched ([`InPlaceOutcome::status_modified`](crate::InPlaceOutcome::status_modified)).
    /// Otherwise it is only a buffer: a step that wrote nothing may hold normalizations the hub
    /// never stored, and after a lost or reordered action the driver's copy may believe in a
    /// finalizer the hub does not have. `Simulation::fleet` clears it: what is done to the hub
    /// by hand, even replacing it, need not keep to one `resourceVersion` per write.
    pub(crate) as_stored: bool,
}

impl SpareRun {
    /// Whether the spare is `stored` as it is. Every write to the hub takes a new
    /// `resourceVersion` from one counter, so a copy of the same run at the stored version, as
    /// stored, is that version.
    fn is_stored(&self, stored: &UpdateRun) -> bool {
        let (spare, stored) = (self.run.metadata(), stored.metadata());
        self.as_stored
            && spare.resource_version.is_some()
            && spare.resource_version == stored.resource_version
            && spare.name() == stored.name()
            && spare.namespace() == stored.namespace()
    }
}

/// When the hub takes resource snapshots of a placement's selected resources (REFERENCE.md,
/// "The seed how-to was written against an older KubeFleet", item 7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotMode {
    /// Whenever the selected resources change, `External` placements included: the older
    /// KubeFleet of the seed how-to (index 0 at creation, index 1 after `test-cm` changes).
    OnChange,
    /// Only when a run asks for one ([`Action::CreateResourceSnapshot`](crate::Action::CreateResourceSnapshot)): today's KubeFleet for
    /// `External` placements.
    #[default]
    OnRequest,
}

/// What changed on the hub since the simulation last looked: the watches a controller would have.
#[derive(Clone, Debug, Default)]
pub(crate) struct Touched {
    /// Placements whose bindings or snapshots changed.
    pub(crate) placements: BTreeSet<Key>,
    /// Runs whose spec or metadata changed (or that were created).
    pub(crate) runs: BTreeSet<Key>,
    /// Runs one of whose approval requests was approved or deleted.
    pub(crate) approvals_of: BTreeSet<Key>,
    /// Member clusters joined, left or changed labels.
    pub(crate) clusters: bool,
}

impl Touched {
    /// Nothing changed.
    pub(crate) fn is_empty(&self) -> bool {
        self.placements.is_empty() && self.runs.is_empty() && self.approvals_of.is_empty() && !self.clusters
    }

    /// Something of placement `namespace/name` changed: its runs are woken (as their watches
    /// would be).
    pub(crate) fn placement(&mut self, namespace: &str, name: &str) {
        if !self.placements.contains(KeyRef(namespace, name).key()) {
            self.placements.insert((namespace.to_owned(), name.to_owned()));
        }
    }

    /// An object labelled with a placement (`parent-CRP`) was written: that placement's runs are
    /// woken.
    pub(crate) fn labelled(&mut self, meta: &ObjectMeta) {
        if let Some(placement) = meta.label(well_known::PLACEMENT_TRACKING_LABEL) {
            self.placement(meta.namespace(), placement);
        }
    }
}

/// Which bindings were written since the member agents last looked, and when cluster
/// membership last changed: what the member agents need to look at again, so that they visit
/// only what changed instead of every binding on every event.
#[derive(Clone, Debug, Default)]
pub(crate) struct BindingWrites {
    /// The bindings written since the last [`BindingWrites::take`], in write order, with repeats.
    written: Vec<Key>,
    /// Bumped whenever a cluster joins or leaves: any binding may have become ready or not.
    pub(crate) cluster_epoch: u64,
}

impl BindingWrites {
    /// Records a write (creation, change or removal) of the binding `key`.
    pub(crate) fn record(&mut self, key: KeyRef<'_>) {
        self.written.push((key.0.to_owned(), key.1.to_owned()));
    }

    /// The binding `key`, with metadata `meta`, was created, changed or deleted: the member
    /// agents look at it again, and the runs of the placement it is labelled with are woken
    /// (`touched`). Takes the hub's two ledgers rather than the hub, so that it is called while
    /// the binding stored in the hub is borrowed.
    pub(crate) fn binding_written(&mut self, key: KeyRef<'_>, meta: &ObjectMeta, touched: &mut Touched) {
        self.record(key);
        touched.labelled(meta);
    }

    /// The bindings written since the last call, each once, in key order.
    pub(crate) fn take(&mut self) -> Vec<Key> {
        let mut written = std::mem::take(&mut self.written);
        written.sort_unstable();
        written.dedup();
        written
    }
}

/// The run currently reconciling: the driver observes it first, then applies its actions.
#[derive(Clone, Debug)]
pub(crate) struct Actor {
    pub(crate) run: Key,
    /// Where this reconcile's events start in the transcript.
    pub(crate) mark: usize,
    /// The clusters whose bindings this reconcile updated (only looked up, never iterated).
    pub(crate) updated: FastSet<String>,
}

/// The simulated hub cluster.
///
/// Read it through the accessors; change it through a [`Simulation`](super::Simulation), which
/// keeps the watches, member agents and transcript in step.
#[derive(Clone, Debug)]
pub struct Hub {
    pub(crate) now: Time,
    resource_version: u64,
    uids: u64,
    pub(crate) snapshot_mode: SnapshotMode,
    /// Shared with the observations handed out; written through [`Arc::make_mut`].
    pub(crate) clusters: BTreeMap<String, Arc<MemberCluster>>,
    pub(crate) placements: BTreeMap<Key, Placement>,
    pub(crate) strategies: BTreeMap<Key, UpdateStrategySpec>,
    pub(crate) runs: BTreeMap<Key, UpdateRun>,
    pub(crate) policy_snapshots: BTreeMap<Key, PolicySnapshot>,
    pub(crate) resource_snapshots: BTreeMap<Key, ResourceSnapshot>,
    /// Shared with the observations handed out; written through [`Arc::make_mut`].
    pub(crate) bindings: Bindings,
    pub(crate) approvals: BTreeMap<Key, ObservedApproval>,
    pub(crate) resources: BTreeMap<ObjectKey, Value>,
    /// Who asked for a binding's deletion, for the transcript.
    pub(crate) deleted_by: BTreeMap<Key, Key>,
    pub(crate) transcript: Vec<Event>,
    pub(crate) touched: Touched,
    /// Approval requests created since the simulation last looked (key, uid).
    pub(crate) created_approvals: Vec<(Key, String)>,
    /// Clusters that left since the simulation last looked.
    pub(crate) left_clusters: Vec<String>,
    pub(crate) actor: Option<Actor>,
    /// Binding writes and cluster membership changes, for the member agents.
    pub(crate) binding_writes: BindingWrites,
    /// Reconciles started on this hub (observations taken by the controller).
    pub(crate) reconciles: u64,
}

impl Hub {
    pub(crate) fn new(now: Time, snapshot_mode: SnapshotMode) -> Hub {
        Hub {
            now,
            resource_version: 0,
            uids: 0,
            snapshot_mode,
            clusters: BTreeMap::new(),
            placements: BTreeMap::new(),
            strategies: BTreeMap::new(),
            runs: BTreeMap::new(),
            policy_snapshots: BTreeMap::new(),
            resource_snapshots: BTreeMap::new(),
            bindings: Bindings::default(),
            approvals: BTreeMap::new(),
            resources: BTreeMap::new(),
            deleted_by: BTreeMap::new(),
            transcript: Vec::new(),
            touched: Touched::default(),
            created_approvals: Vec::new(),
            left_clusters: Vec::new(),
            actor: None,
            binding_writes: BindingWrites::default(),
            reconciles: 0,
        }
    }

    // ----- read access -----

    /// The current simulated time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// How many reconciles the controller has started on this hub: each observes the hub once,
    /// whether or not it then writes anything.
    pub fn reconciles(&self) -> u64 {
        self.reconciles
    }

    /// The member clusters of the fleet, by name.
    pub fn member_clusters(&self) -> impl Iterator<Item = &MemberCluster> {
        self.clusters.values().map(|c| &**c)
    }

    /// The placements, cluster-scoped first, then by namespace and name.
    pub fn placements(&self) -> impl Iterator<Item = &Placement> {
        self.placements.values()
    }

    /// The staged update runs of both scopes.
    pub fn runs(&self) -> impl Iterator<Item = &UpdateRun> {
        self.runs.values()
    }

    /// The run `namespace/name` (`namespace` empty for a `ClusterStagedUpdateRun`).
    pub fn run(&self, namespace: &str, name: &str) -> Option<&UpdateRun> {
        self.runs.get(&(namespace.to_owned(), name.to_owned()))
    }

    /// Scheduling policy snapshots.
    pub fn policy_snapshots(&self) -> impl Iterator<Item = &PolicySnapshot> {
        self.policy_snapshots.values()
    }

    /// Resource snapshots.
    pub fn resource_snapshots(&self) -> impl Iterator<Item = &ResourceSnapshot> {
        self.resource_snapshots.values()
    }

    /// Bindings of both scopes.
    pub fn bindings(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.values().map(|b| &**b)
    }

    /// Approval requests of both scopes (cluster-scoped ones have no namespace).
    pub fn approval_requests(&self) -> impl Iterator<Item = &ObservedApproval> {
        self.approvals.values()
    }

    /// The hub's own resources (Namespaces, ConfigMaps, Deployments, …) as they stand.
    pub fn resources(&self) -> impl Iterator<Item = &Value> {
        self.resources.values()
    }

    /// What the driver observes for `run`: the run and the world around it.
    pub fn observation(&self, run: &ObjectRef) -> Option<Observation> {
        self.observation_over(run, None)
    }

    /// [`observation`](Hub::observation), reusing `spare` (a run its caller is done with): when it
    /// is the stored run at the stored `resourceVersion` it is served as it is, otherwise the
    /// stored run is copied over it, reusing its buffers.
    pub(crate) fn observation_over(&self, run: &ObjectRef, spare: Option<SpareRun>) -> Option<Observation> {
        let stored = self.runs.get(KeyRef::of(run).key())?;
        let run = match spare {
            Some(spare) if spare.is_stored(stored) => {
                debug_assert!(
                    spare.run == *stored,
                    "a run kept as stored differs from the stored run at its resourceVersion"
                );
                spare.run
            }
            Some(SpareRun { run: mut spare, .. }) => {
                spare.clone_from(stored);
                spare
            }
            None => stored.clone(),
        };
        let world = self.world_for(&run);
        Some(Observation { run, world })
    }

    fn world_for(&self, run: &UpdateRun) -> World {
        let ns = run.metadata().namespace();
        let spec = run.spec();
        let placement_name = spec.placement_name.as_str();
        let owned = |meta: &ObjectMeta| meta.belongs_to_placement(ns, placement_name);
        let placement = self.placements.get(&(ns.to_owned(), placement_name.to_owned())).cloned();
        let current_resource_hash = placement.as_ref().map(|p| resources::resource_hash(&self.selected(p)));
        World {
            placement,
            strategy: self.strategies.get(&(ns.to_owned(), spec.staged_update_strategy_name.clone())).cloned(),
            policy_snapshots: self.policy_snapshots.values().filter(|s| owned(&s.metadata)).cloned().collect(),
            resource_snapshots: self.resource_snapshots.values().filter(|s| owned(&s.metadata)).cloned().collect(),
            member_clusters: self.clusters.values().map(Arc::clone).collect(),
            bindings: self.bindings.values().filter(|b| owned(&b.metadata)).map(Arc::clone).collect(),
            approval_requests: self.approvals.values().filter(|a| a.metadata.namespace() == ns).cloned().collect(),
            overrides: BTreeMap::new(),
            current_resource_hash,
        }
    }

    /// The resources `placement` selects right now.
    pub(crate) fn selected(&self, placement: &Placement) -> Vec<Value> {
        let objects: Vec<Value> = self.resources.values().cloned().collect();
        resources::select(placement, &objects)
    }

    // ----- bookkeeping -----

    pub(crate) fn next_rv(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    pub(crate) fn next_uid(&mut self) -> String {
        self.uids += 1;
        format!("00000000-0000-4000-8000-{:012}", self.uids)
    }

    /// Metadata for a new object: generation 1, a resourceVersion, a uid, the creation time.
    pub(crate) fn stamp_new(&mut self, meta: &mut ObjectMeta) {
        meta.generation = Some(1);
        meta.resource_version = Some(self.next_rv());
        meta.uid = Some(self.next_uid());
        meta.creation_timestamp = Some(self.now);
    }

    pub(crate) fn record(&mut self, event: Event) {
        self.transcript.push(event);
    }

    /// An event attributed to the reconciling run.
    pub(crate) fn record_for_actor(&mut self, event: Event) {
        let event = match &self.actor {
            Some(a) => event.run(&a.run.0, &a.run.1),
            None => event,
        };
        self.record(event);
    }

    /// The placement an object belongs to by its namespace and `parent-CRP` label (an empty
    /// name when unlabelled).
    pub(crate) fn placement_of(meta: &ObjectMeta) -> Key {
        let placement = meta.label(well_known::PLACEMENT_TRACKING_LABEL).unwrap_or_default();
        (meta.namespace().to_owned(), placement.to_owned())
    }

    // ----- resource snapshots -----

    /// The latest master resource snapshot of a placement.
    pub(crate) fn latest_resource_snapshot(&self, placement: &Key) -> Option<&ResourceSnapshot> {
        self.resource_snapshots.values().find(|s| {
            s.metadata.belongs_to_placement(&placement.0, &placement.1)
                && s.metadata.label(well_known::IS_LATEST_SNAPSHOT_LABEL) == Some("true")
                && s.is_master()
        })
    }

    fn next_resource_index(&self, placement: &Key) -> i64 {
        self.resource_snapshots
            .values()
            .filter(|s| s.metadata.belongs_to_placement(&placement.0, &placement.1))
            .filter_map(|s| s.index_label()?.parse::<i64>().ok())
            .max()
            .map_or(0, |i| i + 1)
    }

    /// Creates the master snapshot `index` of the placement's current resources and makes it the
    /// latest. Errors when that index exists.
    pub(crate) fn create_resource_snapshot(&mut self, placement: &Key, index: i64) -> Result<String, FleetError> {
        let Some(p) = self.placements.get(placement).cloned() else {
            return Err(FleetError::NotFound(format!("placement {}/{}", placement.0, placement.1)));
        };
        let selected = self.selected(&p);
        let hash = resources::resource_hash(&selected);
        self.store_resource_snapshot(placement, index, selected, hash)
    }

    /// Stores the placement's resource snapshot `index` of `selected` (whose hash is `hash`) as
    /// the latest.
    fn store_resource_snapshot(
        &mut self,
        placement: &Key,
        index: i64,
        selected: Vec<serde_json::Value>,
        hash: String,
    ) -> Result<String, FleetError> {
        let name = well_known::resource_snapshot_name(&placement.1, index);
        let key = (placement.0.clone(), name.clone());
        if self.resource_snapshots.contains_key(&key) {
            return Err(FleetError::Conflict(format!("resource snapshot {name} already exists")));
        }
        let previous: Vec<Key> = self
            .resource_snapshots
            .iter()
            .filter(|(_, s)| {
                s.metadata.belongs_to_placement(&placement.0, &placement.1)
                    && s.metadata.label(well_known::IS_LATEST_SNAPSHOT_LABEL) == Some("true")
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in previous {
            let rv = self.next_rv();
            if let Some(s) = self.resource_snapshots.get_mut(&k) {
                s.metadata.set_label(well_known::IS_LATEST_SNAPSHOT_LABEL, "false");
                s.metadata.resource_version = Some(rv);
            }
        }
        let mut meta = ObjectMeta::named(&name);
        if !placement.0.is_empty() {
            meta.namespace = Some(placement.0.clone());
        }
        meta.set_label(well_known::IS_LATEST_SNAPSHOT_LABEL, "true");
        meta.set_label(well_known::PLACEMENT_TRACKING_LABEL, &placement.1);
        meta.set_label(well_known::RESOURCE_INDEX_LABEL, index.to_string());
        meta.annotations = Some(BTreeMap::from([
            (well_known::RESOURCE_HASH_ANNOTATION.to_owned(), hash),
            ("kubernetes-fleet.io/number-of-resource-snapshots".to_owned(), "1".to_owned()),
        ]));
        self.stamp_new(&mut meta);
        let kind = if placement.0.is_empty() { "ClusterResourceSnapshot" } else { "ResourceSnapshot" };
        let mut snapshot = ResourceSnapshot {
            api_version: crate::api::API_VERSION.to_owned(),
            kind: kind.to_owned(),
            metadata: meta,
            spec: Default::default(),
            extra: Default::default(),
        };
        let summary = resources::summarize(&selected);
        snapshot.spec.selected_resources = selected;
        self.resource_snapshots.insert(key, snapshot);
        let event = Event::new(self.now, EventKind::SnapshotCreated).namespace(&placement.0).snapshot(&name);
        self.record_for_actor(event.detail(summary));
        self.touched.placement(&placement.0, &placement.1);
        Ok(name)
    }

    /// In [`SnapshotMode::OnChange`], snapshots the placement when its selected resources differ
    /// from the latest snapshot.
    pub(crate) fn snapshot_if_changed(&mut self, placement: &Key) {
        if self.snapshot_mode != SnapshotMode::OnChange {
            return;
        }
        let Some(p) = self.placements.get(placement) else { return };
        let selected = self.selected(p);
        let hash = resources::resource_hash(&selected);
        let latest = self
            .latest_resource_snapshot(placement)
            .and_then(|s| s.metadata.annotation(well_known::RESOURCE_HASH_ANNOTATION));
        if latest != Some(hash.as_str()) {
            let index = self.next_resource_index(placement);
            // The index is fresh, so storing cannot conflict.
            let _ = self.store_resource_snapshot(placement, index, selected, hash);
        }
    }

    pub(crate) fn snapshot_all_changed(&mut self) {
        let keys: Vec<Key> = self.placements.keys().cloned().collect();
        for k in keys {
            self.snapshot_if_changed(&k);
        }
    }

    pub(crate) fn reschedule_all(&mut self) {
        let keys: Vec<Key> = self.placements.keys().cloned().collect();
        for k in keys {
            scheduler::schedule(self, &k);
        }
    }
}

/// `k=v,k=v`, as `kubectl --show-labels` prints labels.
pub(crate) fn format_labels(labels: &BTreeMap<String, String>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_writes_are_taken_once_each_in_key_order() {
        let key = |n: &str| (String::new(), n.to_owned());
        let mut w = BindingWrites::default();
        w.record(KeyRef("", "b"));
        w.record(KeyRef("", "a"));
        assert_eq!(w.take(), [key("a"), key("b")]);
        w.record(KeyRef("", "c"));
        w.record(KeyRef("", "a"));
        w.record(KeyRef("", "c"));
        assert_eq!(w.take(), [key("a"), key("c")]);
        assert_eq!(w.take(), Vec::<Key>::new());
    }

    #[test]
    fn a_borrowed_key_finds_what_its_owned_key_finds() {
        let pairs = [("", "a"), ("", "ab"), ("", "b"), ("a", ""), ("a", "a"), ("b", "a"), ("ns", "x")];
        let owned = |(ns, n): (&str, &str)| (ns.to_owned(), n.to_owned());
        let map: BTreeMap<Key, usize> = pairs.iter().enumerate().map(|(i, &p)| (owned(p), i)).collect();
        let hashed: FastMap<Key, usize> = map.clone().into_iter().collect();
        for (i, &(ns, n)) in pairs.iter().enumerate() {
            assert_eq!(map.get(KeyRef(ns, n).key()), Some(&i), "{ns}/{n}");
            assert_eq!(hashed.get(KeyRef(ns, n).key()), Some(&i), "{ns}/{n}");
        }
        for (ns, n) in [("", ""), ("", "aa"), ("a", "b"), ("ns", "a"), ("nsx", "")] {
            assert_eq!(map.get(KeyRef(ns, n).key()), None, "{ns}/{n}");
            assert_eq!(hashed.get(KeyRef(ns, n).key()), None, "{ns}/{n}");
        }
    }

    #[test]
    fn bindings_are_found_by_key_and_listed_in_key_order() {
        let binding = |name: &str| {
            let mut b: Binding = serde_json::from_value(serde_json::json!({
                "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
                "kind": "ClusterResourceBinding",
                "metadata": {"name": name},
                "spec": {"state": "Scheduled", "targetCluster": name}
            }))
            .expect("a binding");
            b.metadata.generation = Some(1);
            Arc::new(b)
        };
        let key = |n: &str| (String::new(), n.to_owned());
        let names = |b: &Bindings| b.values().map(|b| b.metadata.name().to_owned()).collect::<Vec<_>>();
        let mut bindings = Bindings::default();
        for n in ["m2", "m1", "m3"] {
            bindings.insert(key(n), binding(n));
        }
        assert_eq!(names(&bindings), ["m1", "m2", "m3"]);
        assert_eq!(bindings.keys().map(|k| k.1.as_str()).collect::<Vec<_>>(), ["m1", "m2", "m3"]);
        // Removed, then a new binding takes its slot; a replaced one keeps its place.
        assert_eq!(bindings.remove(&key("m2")).map(|b| b.metadata.name().to_owned()), Some("m2".to_owned()));
        assert!(bindings.remove(&key("m2")).is_none());
        assert!(bindings.get(KeyRef("", "m2").key()).is_none());
        bindings.insert(key("m0"), binding("m0"));
        bindings.insert(key("m3"), binding("m3-again"));
        assert_eq!(names(&bindings), ["m0", "m1", "m3-again"]);
        assert_eq!(bindings.slots.len(), 3, "the removed binding's slot is reused");
        Arc::make_mut(bindings.get_mut(KeyRef("", "m1").key()).expect("m1")).metadata.generation = Some(2);
        assert_eq!(bindings.get(&key("m1")).map(|b| b.metadata.generation()), Some(2));
        assert_eq!(
            format!("{bindings:?}"),
            format!("{:?}", bindings.iter().collect::<BTreeMap<_, _>>()),
            "printed as the map it was"
        );
    }
}
