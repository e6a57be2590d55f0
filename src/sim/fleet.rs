//! The controller's side of the hub: the [`Fleet`] implementation through which the driver
//! observes a run, carries out the engine's actions and writes the status — as an API server
//! would, with generations, resourceVersions and conflicts.

use std::future::Future;
use std::sync::Arc;

use crate::action::{Action, ObjectRef};
use crate::api::well_known::{self, condition_types as ct};
use crate::api::{Binding, UpdateRunStatus, remove_condition, set_condition};
use crate::driver::{Applied, Fleet, FleetError, Observation, UpdateRun};
use crate::engine::{FastMap, FastSet};
use crate::world::ObservedApproval;

use super::hub::{Actor, Hub, Key, KeyRef, key_of, key_ref};
use super::transcript::{Event, EventKind, status_events};

impl Hub {
    // ----- the Fleet implementation -----

    fn observe_now(&mut self, run: &ObjectRef) -> Result<Observation, FleetError> {
        let observation = self.observation(run).ok_or_else(|| FleetError::NotFound(run.to_string()))?;
        self.begin_reconcile(run);
        Ok(observation)
    }

    /// Marks the start of a reconcile of `run` (events recorded from now on belong to it).
    pub(crate) fn begin_reconcile(&mut self, run: &ObjectRef) {
        self.reconciles += 1;
        self.actor = Some(Actor { run: key_ref(run), mark: self.transcript.len(), updated: FastSet::default() });
    }

    /// Marks the end of a reconcile.
    pub(crate) fn end_reconcile(&mut self) {
        self.actor = None;
    }

    pub(crate) fn apply_action(&mut self, action: &Action) -> Result<Applied, FleetError> {
        let now = self.now;
        match action {
            Action::AddFinalizer { run, resource_version } | Action::RemoveFinalizer { run, resource_version } => {
                let key = key_ref(run);
                let stored = self.runs.get(&key).ok_or_else(|| FleetError::NotFound(run.to_string()))?;
                // An update of the run as observed: it conflicts when the run changed since.
                if resource_version.is_some() && stored.metadata().resource_version != *resource_version {
                    return Err(FleetError::Conflict(format!(
                        "{run}: the object has been modified (resourceVersion {} is stale)",
                        resource_version.as_deref().unwrap_or("")
                    )));
                }
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
                let rv = self.next_rv();
                let stored = self
                    .bindings
                    .get_mut(KeyRef::of(binding).key())
                    .ok_or_else(|| FleetError::NotFound(binding.to_string()))?;
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
                // Copied only now, when it is written (an observation may still share it), and
                // then without the spec this write replaces. Held by nothing else than weak
                // references (a plan cache's), it is moved, not copied.
                match Arc::strong_count(stored) {
                    1 => Arc::make_mut(stored).spec.clone_from(spec),
                    _ => {
                        let Binding { api_version, kind, metadata, spec: _, status, extra } = &**stored;
                        *stored = Arc::new(Binding {
                            api_version: api_version.clone(),
                            kind: kind.clone(),
                            metadata: metadata.clone(),
                            spec: spec.clone(),
                            status: status.clone(),
                            extra: extra.clone(),
                        });
                    }
                }
                let stored = Arc::make_mut(stored); // unshared by now: no copy
                stored.metadata.generation = Some(stored.metadata.generation() + 1);
                stored.metadata.resource_version = Some(rv.clone());
                self.binding_writes.binding_written(KeyRef::of(binding), &stored.metadata, &mut self.touched);
                if let Some(actor) = self.actor.as_mut() {
                    actor.updated.insert(spec.target_cluster.clone());
                }
                let event = Event::new(now, EventKind::BindingUpdated)
                    .cluster(spec.target_cluster.clone())
                    .snapshot(spec.resource_snapshot_name.clone());
                self.record_for_actor(event);
                Ok(Applied::with_resource_version(rv))
            }
            Action::MarkBindingRolloutStarted { binding, condition, .. } => {
                let rv = self.next_rv();
                let stored = self
                    .bindings
                    .get_mut(KeyRef::of(binding).key())
                    .map(Arc::make_mut)
                    .ok_or_else(|| FleetError::NotFound(binding.to_string()))?;
                let mut c = condition.clone();
                c.observed_generation = stored.metadata.generation();
                let conditions = &mut stored.status.get_or_insert_with(Default::default).conditions;
                remove_condition(conditions, ct::ROLLOUT_STARTED);
                conditions.push(c);
                stored.metadata.resource_version = Some(rv.clone());
                self.binding_writes.binding_written(KeyRef::of(binding), &stored.metadata, &mut self.touched);
                let (cluster, snapshot) =
                    (stored.spec.target_cluster.clone(), stored.spec.resource_snapshot_name.clone());
                // A binding this reconcile updated already has its `binding-updated` event.
                if !self.actor.as_ref().is_some_and(|a| a.updated.contains(&cluster)) {
                    self.record_for_actor(
                        Event::new(now, EventKind::RolloutStarted).cluster(cluster).snapshot(snapshot),
                    );
                }
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
                let stored = Arc::make_mut(stored);
                stored.metadata.deletion_timestamp = Some(now);
                stored.metadata.resource_version = Some(rv);
                self.binding_writes.binding_written(KeyRef::from(&key), &stored.metadata, &mut self.touched);
                if let Some(a) = &self.actor {
                    self.deleted_by.insert(key, a.run.clone());
                }
                Ok(Applied::done())
            }
        }
    }

    /// Gives this reconcile's binding events the stage `status` puts their cluster in. Called on
    /// every status write attempt, so the events of a reconcile whose write failed read as well.
    pub(crate) fn label_stages(&mut self, status: &crate::api::UpdateRunStatus) {
        let Some(mark) = self.actor.as_ref().map(|a| a.mark.min(self.transcript.len())) else { return };
        // Each cluster's first stage, built once for all of this reconcile's events (a pass may
        // start thousands of clusters).
        let mut stage_of: Option<FastMap<&str, &str>> = None;
        for e in &mut self.transcript[mark..] {
            if matches!(e.event, EventKind::BindingUpdated | EventKind::RolloutStarted) && e.stage.is_none() {
                let stage_of = stage_of.get_or_insert_with(|| {
                    let clusters = status.stages_status.iter().map(|s| s.clusters.len()).sum();
                    let mut map = FastMap::with_capacity_and_hasher(clusters, Default::default());
                    for s in &status.stages_status {
                        for c in &s.clusters {
                            map.entry(c.cluster_name.as_str()).or_insert(s.stage_name.as_str());
                        }
                    }
                    map
                });
                e.stage = e.cluster.as_deref().and_then(|c| stage_of.get(c)).map(|s| (*s).to_owned());
            }
        }
    }

    pub(crate) fn write_run_status(&mut self, run: &UpdateRun) -> Result<Applied, FleetError> {
        let key = key_of(run.metadata());
        let rv = self.next_rv();
        let now = self.now;
        // This reconcile's binding events get their stages from the status it wrote, whether or
        // not the write goes through.
        if let Some(status) = run.status() {
            self.label_stages(status);
        }
        let stored = self.runs.get_mut(&key).ok_or_else(|| FleetError::NotFound(run.object_ref().to_string()))?;
        if stored.metadata().resource_version != run.metadata().resource_version {
            return Err(FleetError::Conflict(format!(
                "{}: the object has been modified (resourceVersion {} is stale)",
                run.object_ref(),
                run.metadata().resource_version.as_deref().unwrap_or("")
            )));
        }
        let empty = UpdateRunStatus::default();
        let new = run.status().unwrap_or(&empty);
        let events = status_events(stored.status(), new, now, &stored.spec().placement_name);
        stored.metadata_mut().resource_version = Some(rv.clone());
        let mark = match &self.actor {
            Some(a) if a.run == key => a.mark.min(self.transcript.len()),
            _ => self.transcript.len(),
        };
        stored.copy_status_from(new);
        // The engine's decisions read before the writes that carried them out — except accepted
        // approvals, which come first: they are what let the stage finish.
        let (accepted, rest): (Vec<Event>, Vec<Event>) =
            self.transcript.drain(mark..).partition(|e| e.event == EventKind::ApprovalAccepted);
        self.transcript.extend(accepted);
        self.transcript.extend(events.into_iter().map(|e| e.run(&key.0, &key.1)));
        self.transcript.extend(rest);
        Ok(Applied::with_resource_version(rv))
    }
}

impl Fleet for Hub {
    fn observe(&mut self, run: &ObjectRef) -> impl Future<Output = Result<Observation, FleetError>> + Send {
        std::future::ready(self.observe_now(run))
    }

    fn apply(&mut self, action: &Action) -> impl Future<Output = Result<Applied, FleetError>> + Send {
        std::future::ready(self.apply_action(action))
    }

    fn write_status(&mut self, run: &UpdateRun) -> impl Future<Output = Result<Applied, FleetError>> + Send {
        std::future::ready(self.write_run_status(run))
    }
}
