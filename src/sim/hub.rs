//! The simulated hub: every object a staged run touches, stored as an API server would store it
//! (generations bump on spec writes, every write gets a new `resourceVersion`), and the [`Fleet`]
//! implementation through which the driver reads and writes it.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use serde_json::Value;

use crate::action::{Action, ObjectRef};
use crate::api::well_known::{self, condition_types as ct};
use crate::api::{
    ApprovalRequestSpec, Binding, Condition, ConditionStatus, MemberCluster, ObjectMeta, Placement, PolicySnapshot,
    ResourceSnapshot, Scope, State, Time, UpdateStrategySpec, remove_condition, set_condition,
};
use crate::driver::{Applied, Fleet, FleetError, Observation, UpdateRun};
use crate::world::{ObservedApproval, World};

use super::SimError;
use super::resources::{self, ObjectKey};
use super::scheduler;
use super::transcript::{Event, EventKind, status_events};

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects.
pub(crate) type Key = (String, String);

pub(crate) fn key_of(meta: &ObjectMeta) -> Key {
    (meta.namespace().to_owned(), meta.name().to_owned())
}

fn key_ref(r: &ObjectRef) -> Key {
    (r.namespace.clone(), r.name.clone())
}

/// When the hub takes resource snapshots of a placement's selected resources (REFERENCE.md,
/// "The seed how-to was written against an older KubeFleet", item 7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotMode {
    /// Whenever the selected resources change, `External` placements included: the older
    /// KubeFleet of the seed how-to (index 0 at creation, index 1 after `test-cm` changes).
    OnChange,
    /// Only when a run asks for one ([`Action::CreateResourceSnapshot`]): today's KubeFleet for
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

/// The run currently reconciling: the driver observes it first, then applies its actions.
#[derive(Clone, Debug)]
struct Actor {
    run: Key,
    /// Where this reconcile's events start in the transcript.
    mark: usize,
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
    pub(crate) clusters: BTreeMap<String, MemberCluster>,
    pub(crate) placements: BTreeMap<Key, Placement>,
    pub(crate) strategies: BTreeMap<Key, UpdateStrategySpec>,
    pub(crate) runs: BTreeMap<Key, UpdateRun>,
    pub(crate) policy_snapshots: BTreeMap<Key, PolicySnapshot>,
    pub(crate) resource_snapshots: BTreeMap<Key, ResourceSnapshot>,
    pub(crate) bindings: BTreeMap<Key, Binding>,
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
    actor: Option<Actor>,
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
            bindings: BTreeMap::new(),
            approvals: BTreeMap::new(),
            resources: BTreeMap::new(),
            deleted_by: BTreeMap::new(),
            transcript: Vec::new(),
            touched: Touched::default(),
            created_approvals: Vec::new(),
            left_clusters: Vec::new(),
            actor: None,
        }
    }

    // ----- read access -----

    /// The current simulated time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// The member clusters of the fleet, by name.
    pub fn member_clusters(&self) -> impl Iterator<Item = &MemberCluster> {
        self.clusters.values()
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
        self.bindings.values()
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
        let run = self.runs.get(&key_ref(run))?.clone();
        let world = self.world_for(&run);
        Some(Observation { run, world })
    }

    fn world_for(&self, run: &UpdateRun) -> World {
        let ns = run.metadata().namespace();
        let spec = run.spec();
        let placement_name = spec.placement_name.as_str();
        let owned = |meta: &ObjectMeta| {
            meta.namespace() == ns && meta.label(well_known::PLACEMENT_TRACKING_LABEL) == Some(placement_name)
        };
        let placement = self.placements.get(&(ns.to_owned(), placement_name.to_owned())).cloned();
        let current_resource_hash = placement.as_ref().map(|p| resources::resource_hash(&self.selected(p)));
        World {
            placement,
            strategy: self.strategies.get(&(ns.to_owned(), spec.staged_update_strategy_name.clone())).cloned(),
            policy_snapshots: self.policy_snapshots.values().filter(|s| owned(&s.metadata)).cloned().collect(),
            resource_snapshots: self.resource_snapshots.values().filter(|s| owned(&s.metadata)).cloned().collect(),
            member_clusters: self.clusters.values().cloned().collect(),
            bindings: self.bindings.values().filter(|b| owned(&b.metadata)).cloned().collect(),
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
    fn record_for_actor(&mut self, event: Event) {
        let event = match &self.actor {
            Some(a) => event.run(&a.run.0, &a.run.1),
            None => event,
        };
        self.record(event);
    }

    pub(crate) fn touch_placement(&mut self, namespace: &str, name: &str) {
        self.touched.placements.insert((namespace.to_owned(), name.to_owned()));
    }

    pub(crate) fn touch_placement_of(&mut self, meta: &ObjectMeta) {
        if let Some(p) = meta.label(well_known::PLACEMENT_TRACKING_LABEL) {
            let p = p.to_owned();
            self.touch_placement(meta.namespace(), &p);
        }
    }

    // ----- resource snapshots -----

    /// The latest master resource snapshot of a placement.
    pub(crate) fn latest_resource_snapshot(&self, placement: &Key) -> Option<&ResourceSnapshot> {
        self.resource_snapshots.values().find(|s| {
            s.metadata.namespace() == placement.0
                && s.metadata.label(well_known::PLACEMENT_TRACKING_LABEL) == Some(placement.1.as_str())
                && s.metadata.label(well_known::IS_LATEST_SNAPSHOT_LABEL) == Some("true")
                && s.is_master()
        })
    }

    fn next_resource_index(&self, placement: &Key) -> i64 {
        self.resource_snapshots
            .values()
            .filter(|s| {
                s.metadata.namespace() == placement.0
                    && s.metadata.label(well_known::PLACEMENT_TRACKING_LABEL) == Some(placement.1.as_str())
            })
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
        let name = well_known::resource_snapshot_name(&placement.1, index);
        let key = (placement.0.clone(), name.clone());
        if self.resource_snapshots.contains_key(&key) {
            return Err(FleetError::Conflict(format!("resource snapshot {name} already exists")));
        }
        let selected = self.selected(&p);
        let hash = resources::resource_hash(&selected);
        let previous: Vec<Key> = self
            .resource_snapshots
            .iter()
            .filter(|(_, s)| {
                s.metadata.namespace() == placement.0
                    && s.metadata.label(well_known::PLACEMENT_TRACKING_LABEL) == Some(placement.1.as_str())
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
        self.touch_placement(&placement.0.clone(), &placement.1.clone());
        Ok(name)
    }

    /// In [`SnapshotMode::OnChange`], snapshots the placement when its selected resources differ
    /// from the latest snapshot.
    pub(crate) fn snapshot_if_changed(&mut self, placement: &Key) {
        if self.snapshot_mode != SnapshotMode::OnChange {
            return;
        }
        let Some(p) = self.placements.get(placement) else { return };
        let hash = resources::resource_hash(&self.selected(p));
        let latest = self
            .latest_resource_snapshot(placement)
            .and_then(|s| s.metadata.annotation(well_known::RESOURCE_HASH_ANNOTATION).map(str::to_owned));
        if latest.as_deref() != Some(hash.as_str()) {
            let index = self.next_resource_index(placement);
            // The index is fresh, so creation cannot conflict.
            let _ = self.create_resource_snapshot(placement, index);
        }
    }

    fn snapshot_all_changed(&mut self) {
        let keys: Vec<Key> = self.placements.keys().cloned().collect();
        for k in keys {
            self.snapshot_if_changed(&k);
        }
    }

    fn reschedule_all(&mut self) {
        let keys: Vec<Key> = self.placements.keys().cloned().collect();
        for k in keys {
            scheduler::schedule(self, &k);
        }
    }

    // ----- the fleet -----

    /// A cluster joins, or an existing one gets `labels`.
    pub(crate) fn join_cluster(&mut self, name: &str, labels: BTreeMap<String, String>) {
        match self.clusters.get_mut(name) {
            Some(c) if c.metadata.labels() == &labels => return,
            Some(_) => return self.relabel_cluster(name, labels),
            None => {}
        }
        let mut cluster = MemberCluster::new(name, labels.clone());
        self.stamp_new(&mut cluster.metadata);
        self.clusters.insert(name.to_owned(), cluster);
        self.record(Event::new(self.now, EventKind::ClusterJoined).cluster(name).detail(format_labels(&labels)));
        self.touched.clusters = true;
        self.reschedule_all();
    }

    pub(crate) fn relabel_cluster(&mut self, name: &str, labels: BTreeMap<String, String>) {
        let rv = self.next_rv();
        let Some(c) = self.clusters.get_mut(name) else { return };
        if c.metadata.labels() == &labels {
            return;
        }
        c.metadata.labels = Some(labels.clone());
        c.metadata.resource_version = Some(rv);
        self.record(Event::new(self.now, EventKind::ClusterRelabelled).cluster(name).detail(format_labels(&labels)));
        self.touched.clusters = true;
        self.reschedule_all();
    }

    pub(crate) fn remove_cluster(&mut self, name: &str) -> bool {
        if self.clusters.remove(name).is_none() {
            return false;
        }
        self.record(Event::new(self.now, EventKind::ClusterLeft).cluster(name));
        self.left_clusters.push(name.to_owned());
        self.touched.clusters = true;
        self.reschedule_all();
        true
    }

    // ----- manifests -----

    /// Creates or updates the object a manifest describes, as `kubectl apply` would.
    pub(crate) fn apply_manifest(&mut self, manifest: &Value) -> Result<(), SimError> {
        let kind = manifest.get("kind").and_then(Value::as_str).unwrap_or("");
        let api_version = manifest.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let bad = |e: serde_json::Error| SimError::Manifest { kind: kind.to_owned(), message: e.to_string() };
        match kind {
            "MemberCluster" => {
                let c: MemberCluster = serde_json::from_value(manifest.clone()).map_err(bad)?;
                self.join_cluster(c.name(), c.metadata.labels().clone());
            }
            Placement::CLUSTER_KIND | Placement::NAMESPACED_KIND => {
                let p: Placement = serde_json::from_value(manifest.clone()).map_err(bad)?;
                self.apply_placement(p)?;
            }
            "ClusterStagedUpdateStrategy" | "StagedUpdateStrategy" => {
                #[derive(serde::Deserialize)]
                struct Strategy {
                    #[serde(default)]
                    metadata: ObjectMeta,
                    spec: UpdateStrategySpec,
                }
                let s: Strategy = serde_json::from_value(manifest.clone()).map_err(bad)?;
                let key = key_of(&s.metadata);
                self.check_scope(kind, &key, kind == "StagedUpdateStrategy")?;
                self.strategies.insert(key.clone(), s.spec);
                self.record(Event::new(self.now, EventKind::StrategyApplied).namespace(&key.0).detail(key.1));
            }
            "ClusterStagedUpdateRun" | "StagedUpdateRun" => {
                let run: UpdateRun = serde_json::from_value(manifest.clone()).map_err(bad)?;
                self.apply_run(run)?;
            }
            "ClusterApprovalRequest" | "ApprovalRequest" => {
                #[derive(serde::Deserialize)]
                struct Request {
                    #[serde(default)]
                    metadata: ObjectMeta,
                    spec: ApprovalRequestSpec,
                    #[serde(default)]
                    status: Option<crate::api::ApprovalRequestStatus>,
                }
                let r: Request = serde_json::from_value(manifest.clone()).map_err(bad)?;
                let key = key_of(&r.metadata);
                self.check_scope(kind, &key, kind == "ApprovalRequest")?;
                let conditions = r.status.map(|s| s.conditions).unwrap_or_default();
                self.put_approval(key, r.metadata, r.spec, conditions);
            }
            _ if api_version.starts_with(crate::api::GROUP) => {
                return Err(SimError::Manifest {
                    kind: kind.to_owned(),
                    message: "the simulated hub creates this kind itself; it cannot be applied".to_owned(),
                });
            }
            _ => self.apply_resource(manifest)?,
        }
        Ok(())
    }

    fn check_scope(&self, kind: &str, key: &Key, namespaced: bool) -> Result<(), SimError> {
        if key.1.is_empty() || key.0.is_empty() == namespaced {
            let want = if namespaced { "a namespace" } else { "no namespace" };
            return Err(SimError::Manifest {
                kind: kind.to_owned(),
                message: format!("`{}` needs a name and {want}", key.1),
            });
        }
        Ok(())
    }

    fn apply_placement(&mut self, mut p: Placement) -> Result<(), SimError> {
        let key = key_of(&p.metadata);
        self.check_scope(&p.kind.clone(), &key, p.kind == Placement::NAMESPACED_KIND)?;
        match self.placements.get(&key) {
            Some(existing) if existing.spec == p.spec => return Ok(()),
            Some(existing) => {
                let mut meta = existing.metadata.clone();
                meta.generation = Some(meta.generation() + 1);
                meta.resource_version = Some(self.next_rv());
                p.metadata = meta;
                self.placements.insert(key.clone(), p);
                self.record(Event::new(self.now, EventKind::PlacementUpdated).namespace(&key.0).detail(&key.1));
            }
            None => {
                self.stamp_new(&mut p.metadata);
                self.placements.insert(key.clone(), p);
                self.record(Event::new(self.now, EventKind::PlacementCreated).namespace(&key.0).detail(&key.1));
            }
        }
        scheduler::schedule(self, &key);
        self.snapshot_if_changed(&key);
        Ok(())
    }

    fn apply_run(&mut self, mut run: UpdateRun) -> Result<(), SimError> {
        let key = key_of(run.metadata());
        self.check_scope(run.kind(), &key, run.scope() == Scope::Namespaced)?;
        let now = self.now;
        match self.runs.get(&key) {
            Some(existing) if existing.spec() == run.spec() => return Ok(()),
            Some(existing) => {
                let mut updated = existing.clone();
                *updated.spec_mut() = run.spec().clone();
                let meta = updated.metadata_mut();
                meta.generation = Some(meta.generation() + 1);
                let rv = self.next_rv();
                updated.metadata_mut().resource_version = Some(rv);
                let state = updated.spec().state.as_ref().map_or("unset".to_owned(), State::to_string);
                self.runs.insert(key.clone(), updated);
                self.record(
                    Event::new(now, EventKind::RunUpdated).run(&key.0, &key.1).detail(format!("state {state}")),
                );
            }
            None => {
                let mut meta = run.metadata().clone();
                self.stamp_new(&mut meta);
                *run.metadata_mut() = meta;
                self.runs.insert(key.clone(), run);
                self.record(Event::new(now, EventKind::RunCreated).run(&key.0, &key.1));
            }
        }
        self.touched.runs.insert(key);
        Ok(())
    }

    /// Sets `spec.state` of a run (a spec write: the generation bumps).
    pub(crate) fn set_run_state(&mut self, key: &Key, state: State) -> Result<(), SimError> {
        let Some(run) = self.runs.get(key) else {
            return Err(SimError::Script(format!("run {}/{} does not exist", key.0, key.1)));
        };
        let mut run = run.clone();
        run.spec_mut().state = Some(state);
        self.apply_run(run)
    }

    /// Deletes a run: marks it deleting while the finalizer is on, removes it otherwise.
    pub(crate) fn delete_run(&mut self, key: &Key) -> bool {
        let now = self.now;
        let rv = self.next_rv();
        let Some(run) = self.runs.get_mut(key) else { return false };
        if run.metadata().finalizers.as_ref().is_some_and(|f| !f.is_empty()) {
            if run.metadata().deletion_timestamp.is_none() {
                run.metadata_mut().deletion_timestamp = Some(now);
                run.metadata_mut().resource_version = Some(rv);
                self.record(Event::new(now, EventKind::RunDeleting).run(&key.0, &key.1));
                self.touched.runs.insert(key.clone());
            }
        } else {
            self.runs.remove(key);
            self.record(Event::new(now, EventKind::RunDeleted).run(&key.0, &key.1));
        }
        true
    }

    fn apply_resource(&mut self, manifest: &Value) -> Result<(), SimError> {
        let Some(key) = ObjectKey::of(manifest) else {
            return Err(SimError::Manifest {
                kind: manifest.get("kind").and_then(Value::as_str).unwrap_or("").to_owned(),
                message: "a resource needs apiVersion, kind and metadata.name".to_owned(),
            });
        };
        let ns = key.namespace.clone();
        let kind = match self.resources.get(&key) {
            Some(existing) if resources::same_content(existing, manifest) => return Ok(()),
            Some(_) => EventKind::ResourceUpdated,
            None => EventKind::ResourceCreated,
        };
        self.resources.insert(key.clone(), resources::clean(manifest));
        self.record(Event::new(self.now, kind).namespace(&ns).detail(key.describe()));
        self.snapshot_all_changed();
        Ok(())
    }

    /// Deletes a hub resource by kind, namespace and name.
    pub(crate) fn delete_resource(&mut self, kind: &str, namespace: &str, name: &str) -> bool {
        let Some(key) =
            self.resources.keys().find(|k| k.kind == kind && k.namespace == namespace && k.name == name).cloned()
        else {
            return false;
        };
        self.resources.remove(&key);
        self.record(Event::new(self.now, EventKind::ResourceDeleted).namespace(namespace).detail(key.describe()));
        self.snapshot_all_changed();
        true
    }

    // ----- approvals -----

    fn put_approval(
        &mut self,
        key: Key,
        mut metadata: ObjectMeta,
        spec: ApprovalRequestSpec,
        conditions: Vec<Condition>,
    ) {
        match self.approvals.get_mut(&key) {
            Some(existing) => {
                existing.conditions = conditions;
            }
            None => {
                self.stamp_new(&mut metadata);
                let uid = metadata.uid.clone().unwrap_or_default();
                self.approvals.insert(key.clone(), ObservedApproval { metadata, spec, conditions });
                self.created_approvals.push((key.clone(), uid));
            }
        }
        let rv = self.next_rv();
        if let Some(a) = self.approvals.get_mut(&key) {
            a.metadata.resource_version = Some(rv);
            let run = (key.0.clone(), a.spec.target_update_run.clone());
            self.touched.approvals_of.insert(run);
        }
    }

    /// Approves a request: an `Approved=True` condition, with `observedGeneration` and
    /// `lastTransitionTime` when `observed_generation`, without either otherwise (the seed's
    /// status patch). Returns false when the request does not exist.
    pub(crate) fn approve(&mut self, key: &Key, observed_generation: bool, reason: &str, by: &str) -> bool {
        let now = self.now;
        let rv = self.next_rv();
        let Some(a) = self.approvals.get_mut(key) else { return false };
        let mut c = Condition::new(
            ct::APPROVED,
            ConditionStatus::True,
            if observed_generation { a.metadata.generation() } else { 0 },
            reason,
            reason,
        );
        if observed_generation {
            c.last_transition_time = Some(now);
        }
        match a.conditions.iter_mut().find(|x| x.type_ == ct::APPROVED) {
            Some(existing) => *existing = c,
            None => a.conditions.push(c),
        }
        a.metadata.resource_version = Some(rv);
        let run = a.spec.target_update_run.clone();
        let stage = a.spec.target_stage.clone();
        self.record(
            Event::new(now, EventKind::ApprovalGranted).run(&key.0, &run).stage(stage).approval(&key.1).detail(by),
        );
        self.touched.approvals_of.insert((key.0.clone(), run));
        true
    }

    /// Deletes an approval request; returns false when it does not exist.
    pub(crate) fn delete_approval(&mut self, key: &Key) -> bool {
        let Some(a) = self.approvals.remove(key) else { return false };
        let run = a.spec.target_update_run.clone();
        self.record(
            Event::new(self.now, EventKind::ApprovalDeleted)
                .run(&key.0, &run)
                .stage(a.spec.target_stage.clone())
                .approval(&key.1),
        );
        self.touched.approvals_of.insert((key.0.clone(), run));
        true
    }

    // ----- the Fleet implementation -----

    fn observe_now(&mut self, run: &ObjectRef) -> Result<Observation, FleetError> {
        let observation = self.observation(run).ok_or_else(|| FleetError::NotFound(run.to_string()))?;
        self.begin_reconcile(run);
        Ok(observation)
    }

    /// Marks the start of a reconcile of `run` (events recorded from now on belong to it).
    pub(crate) fn begin_reconcile(&mut self, run: &ObjectRef) {
        self.actor = Some(Actor { run: key_ref(run), mark: self.transcript.len() });
    }

    /// Marks the end of a reconcile.
    pub(crate) fn end_reconcile(&mut self) {
        self.actor = None;
    }

    pub(crate) fn apply_action(&mut self, action: &Action) -> Result<Applied, FleetError> {
        let now = self.now;
        match action {
            Action::AddFinalizer { run } | Action::RemoveFinalizer { run } => {
                let key = key_ref(run);
                let rv = self.next_rv();
                let stored = self.runs.get_mut(&key).ok_or_else(|| FleetError::NotFound(run.to_string()))?;
                let meta = stored.metadata_mut();
                let finalizers = meta.finalizers.get_or_insert_with(Vec::new);
                finalizers.retain(|f| f != well_known::UPDATE_RUN_FINALIZER);
                if matches!(action, Action::AddFinalizer { .. }) {
                    finalizers.push(well_known::UPDATE_RUN_FINALIZER.to_owned());
                }
                let gone = finalizers.is_empty();
                meta.resource_version = Some(rv.clone());
                if meta.is_deleting() && gone {
                    self.runs.remove(&key);
                    self.record(Event::new(now, EventKind::RunDeleted).run(&key.0, &key.1));
                }
                Ok(Applied::with_resource_version(rv))
            }
            Action::DeleteApprovalRequests { namespace, labels, .. } => {
                let doomed: Vec<Key> = self
                    .approvals
                    .iter()
                    .filter(|(k, a)| {
                        k.0 == *namespace && labels.iter().all(|(l, v)| a.metadata.label(l) == Some(v.as_str()))
                    })
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in doomed {
                    self.delete_approval(&k);
                }
                Ok(Applied::done())
            }
            Action::CreateResourceSnapshot { placement, index, .. } => {
                self.create_resource_snapshot(&key_ref(placement), *index)?;
                Ok(Applied::done())
            }
            Action::UpdateBinding { binding, resource_version, spec, .. } => {
                let key = key_ref(binding);
                let rv = self.next_rv();
                let stored = self.bindings.get_mut(&key).ok_or_else(|| FleetError::NotFound(binding.to_string()))?;
                if let Some(expected) = resource_version
                    && stored.metadata.resource_version.as_ref() != Some(expected)
                {
                    return Err(FleetError::Conflict(format!(
                        "{binding}: the object has been modified (resourceVersion {expected} is stale)"
                    )));
                }
                if stored.spec == *spec {
                    return Ok(Applied::done());
                }
                stored.spec = spec.clone();
                stored.metadata.generation = Some(stored.metadata.generation() + 1);
                stored.metadata.resource_version = Some(rv.clone());
                let meta = stored.metadata.clone();
                let event = Event::new(now, EventKind::BindingUpdated)
                    .cluster(spec.target_cluster.clone())
                    .snapshot(spec.resource_snapshot_name.clone());
                self.record_for_actor(event);
                self.touch_placement_of(&meta);
                Ok(Applied::with_resource_version(rv))
            }
            Action::MarkBindingRolloutStarted { binding, condition, .. } => {
                let key = key_ref(binding);
                let rv = self.next_rv();
                let stored = self.bindings.get_mut(&key).ok_or_else(|| FleetError::NotFound(binding.to_string()))?;
                let mut c = condition.clone();
                c.observed_generation = stored.metadata.generation();
                let conditions = &mut stored.status.get_or_insert_with(Default::default).conditions;
                remove_condition(conditions, ct::ROLLOUT_STARTED);
                conditions.push(c);
                stored.metadata.resource_version = Some(rv.clone());
                let meta = stored.metadata.clone();
                let (cluster, snapshot) =
                    (stored.spec.target_cluster.clone(), stored.spec.resource_snapshot_name.clone());
                let mark = self.actor.as_ref().map_or(self.transcript.len(), |a| a.mark);
                let updated_now = self.transcript[mark.min(self.transcript.len())..]
                    .iter()
                    .any(|e| e.event == EventKind::BindingUpdated && e.cluster.as_ref() == Some(&cluster));
                if !updated_now {
                    self.record_for_actor(
                        Event::new(now, EventKind::RolloutStarted).cluster(cluster).snapshot(snapshot),
                    );
                }
                self.touch_placement_of(&meta);
                Ok(Applied::with_resource_version(rv))
            }
            Action::CreateApprovalRequest { request } => {
                let key = (request.metadata.namespace().to_owned(), request.name().to_owned());
                if self.approvals.contains_key(&key) {
                    return Err(FleetError::Conflict(format!("{} already exists", request.object_ref())));
                }
                let mut metadata = request.metadata.clone();
                self.stamp_new(&mut metadata);
                let uid = metadata.uid.clone().unwrap_or_default();
                self.approvals.insert(
                    key.clone(),
                    ObservedApproval { metadata, spec: request.spec.clone(), conditions: Vec::new() },
                );
                self.created_approvals.push((key.clone(), uid));
                self.record_for_actor(
                    Event::new(now, EventKind::ApprovalRequested)
                        .stage(request.spec.target_stage.clone())
                        .approval(request.name()),
                );
                Ok(Applied::done())
            }
            Action::AcceptApprovalRequest { request, condition } => {
                let key = key_ref(request);
                let rv = self.next_rv();
                let stored = self.approvals.get_mut(&key).ok_or_else(|| FleetError::NotFound(request.to_string()))?;
                set_condition(&mut stored.conditions, condition.clone(), now);
                stored.metadata.resource_version = Some(rv.clone());
                let stage = stored.spec.target_stage.clone();
                self.record_for_actor(
                    Event::new(now, EventKind::ApprovalAccepted).stage(stage).approval(request.name.clone()),
                );
                Ok(Applied::with_resource_version(rv))
            }
            Action::DeleteBinding { binding, .. } => {
                let key = key_ref(binding);
                let rv = self.next_rv();
                // Deleting what is gone, or already going, succeeds (KubeFleet ignores NotFound).
                let Some(stored) = self.bindings.get_mut(&key) else { return Ok(Applied::done()) };
                if stored.metadata.deletion_timestamp.is_some() {
                    return Ok(Applied::done());
                }
                stored.metadata.deletion_timestamp = Some(now);
                stored.metadata.resource_version = Some(rv);
                let meta = stored.metadata.clone();
                if let Some(a) = &self.actor {
                    self.deleted_by.insert(key, a.run.clone());
                }
                self.touch_placement_of(&meta);
                Ok(Applied::done())
            }
        }
    }

    /// Gives this reconcile's binding events the stage `status` puts their cluster in. Called on
    /// every status write attempt, so the events of a reconcile whose write failed read as well.
    pub(crate) fn label_stages(&mut self, status: &crate::api::UpdateRunStatus) {
        let Some(mark) = self.actor.as_ref().map(|a| a.mark.min(self.transcript.len())) else { return };
        for e in &mut self.transcript[mark..] {
            if matches!(e.event, EventKind::BindingUpdated | EventKind::RolloutStarted) && e.stage.is_none() {
                e.stage = status
                    .stages_status
                    .iter()
                    .find(|s| s.clusters.iter().any(|c| Some(&c.cluster_name) == e.cluster.as_ref()))
                    .map(|s| s.stage_name.clone());
            }
        }
    }

    pub(crate) fn write_run_status(&mut self, run: &UpdateRun) -> Result<(), FleetError> {
        let key = key_of(run.metadata());
        let rv = self.next_rv();
        let now = self.now;
        let stored = self.runs.get_mut(&key).ok_or_else(|| FleetError::NotFound(run.object_ref().to_string()))?;
        if stored.metadata().resource_version != run.metadata().resource_version {
            if let Some(status) = run.status() {
                self.label_stages(status);
            }
            return Err(FleetError::Conflict(format!(
                "{}: the object has been modified (resourceVersion {} is stale)",
                run.object_ref(),
                run.metadata().resource_version.as_deref().unwrap_or("")
            )));
        }
        let new = run.status().cloned().unwrap_or_default();
        let events = status_events(stored.status(), &new, now, &stored.spec().placement_name);
        stored.set_status(new.clone());
        stored.metadata_mut().resource_version = Some(rv);
        let mark = match &self.actor {
            Some(a) if a.run == key => a.mark.min(self.transcript.len()),
            _ => self.transcript.len(),
        };
        self.label_stages(&new);
        // The engine's decisions read before the writes that carried them out — except accepted
        // approvals, which come first: they are what let the stage finish.
        let (accepted, rest): (Vec<Event>, Vec<Event>) =
            self.transcript.drain(mark..).partition(|e| e.event == EventKind::ApprovalAccepted);
        self.transcript.extend(accepted);
        self.transcript.extend(events.into_iter().map(|e| e.run(&key.0, &key.1)));
        self.transcript.extend(rest);
        Ok(())
    }
}

impl Fleet for Hub {
    fn observe(&mut self, run: &ObjectRef) -> impl Future<Output = Result<Observation, FleetError>> + Send {
        std::future::ready(self.observe_now(run))
    }

    fn apply(&mut self, action: &Action) -> impl Future<Output = Result<Applied, FleetError>> + Send {
        std::future::ready(self.apply_action(action))
    }

    fn write_status(&mut self, run: &UpdateRun) -> impl Future<Output = Result<(), FleetError>> + Send {
        std::future::ready(self.write_run_status(run))
    }
}

/// `k=v,k=v`, as `kubectl --show-labels` prints labels.
pub(crate) fn format_labels(labels: &BTreeMap<String, String>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}
