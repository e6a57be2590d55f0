//! What people and tools do to the hub: `kubectl apply` and `delete` of manifests, member
//! clusters joining, leaving and being relabelled, approvals granted and requests deleted.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::api::well_known::condition_types as ct;
use crate::api::{
    ApprovalRequest, ApprovalRequestSpec, ClusterApprovalRequest, ClusterStagedUpdateStrategy, Condition,
    ConditionStatus, MemberCluster, ObjectMeta, Placement, Scope, StagedUpdateStrategy, State,
};
use crate::driver::UpdateRun;
use crate::world::ObservedApproval;

use super::SimError;
use super::hub::{Hub, Key, format_labels, key_of};
use super::resources::{self, ObjectKey};
use super::scheduler;
use super::transcript::{Event, EventKind};

impl Hub {
    // ----- the fleet -----

    /// A cluster joins, or an existing one gets `labels`.
    pub(crate) fn join_cluster(&mut self, name: &str, labels: BTreeMap<String, String>) {
        match self.clusters.get(name) {
            Some(c) if c.metadata.labels() == &labels => return,
            Some(_) => return self.relabel_cluster(name, labels),
            None => {}
        }
        let mut cluster = MemberCluster::new(name, labels.clone());
        self.stamp_new(&mut cluster.metadata);
        self.clusters.insert(name.to_owned(), Arc::new(cluster));
        self.binding_writes.cluster_epoch += 1;
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
        let c = Arc::make_mut(c);
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
        self.binding_writes.cluster_epoch += 1;
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
            // Each pair of kinds shares one shape (parsed as the cluster-scoped kind); the scope
            // is checked against the manifest's kind.
            ClusterStagedUpdateStrategy::KIND | StagedUpdateStrategy::KIND => {
                let s: ClusterStagedUpdateStrategy = serde_json::from_value(manifest.clone()).map_err(bad)?;
                let key = key_of(&s.metadata);
                self.check_scope(kind, &key, kind == StagedUpdateStrategy::KIND)?;
                self.strategies.insert(key.clone(), s.spec);
                self.record(Event::new(self.now, EventKind::StrategyApplied).namespace(&key.0).detail(key.1));
            }
            "ClusterStagedUpdateRun" | "StagedUpdateRun" => {
                let run: UpdateRun = serde_json::from_value(manifest.clone()).map_err(bad)?;
                self.apply_run(run)?;
            }
            ClusterApprovalRequest::KIND | ApprovalRequest::KIND => {
                let r: ClusterApprovalRequest = serde_json::from_value(manifest.clone()).map_err(bad)?;
                let key = key_of(&r.metadata);
                self.check_scope(kind, &key, kind == ApprovalRequest::KIND)?;
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
}
