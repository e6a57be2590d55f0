//! KubeFleet's scheduler, reduced to what staged runs observe: policy snapshots that change when
//! the policy changes, and bindings created, kept, re-pointed and unscheduled the way the
//! scheduler framework does it (`pkg/scheduler/framework`).
//!
//! * Bindings being deleted are ignored; `Unscheduled` ones are remembered (a cluster picked
//!   again gets its old binding back, in its previous state); `Scheduled`/`Bound` bindings of a
//!   cluster that left are *dangling* and get unscheduled; those of an older policy snapshot are
//!   *obsolete*: re-pointed to the latest snapshot when their cluster is picked again,
//!   unscheduled otherwise.
//! * PickAll picks every joined cluster passing the required cluster affinity; clusters already
//!   selected under the latest policy are left alone, so a cluster relabelled out of the affinity
//!   keeps its binding (`IgnoredDuringExecution`).
//! * PickN fills up to N from eligible clusters in name order (this simulator scores every
//!   cluster alike), or unschedules the surplus (`Scheduled` before `Bound`, last names first).
//! * PickFixed picks the named clusters that are joined.
//!
//! Not modelled: preferred affinity and topology spread scores, taints and tolerations, property
//! selectors.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;

use crate::api::well_known::{self, condition_types as ct};
use crate::api::{
    Binding, BindingSpec, BindingState, ClusterDecision, Condition, ConditionStatus, LabelSelector, ObjectMeta,
    Placement, PlacementPolicy, PolicySnapshot, Selector, compile, set_condition,
};

use super::hub::{Hub, Key, KeyRef};
use super::resources::{content_hash, fnv1a};
use super::transcript::{Event, EventKind};

/// The annotation recording a binding's state before it was unscheduled.
const PREVIOUS_STATE_ANNOTATION: &str = "kubernetes-fleet.io/previous-binding-state";

/// Runs one scheduling cycle for the placement `key`.
pub(crate) fn schedule(hub: &mut Hub, key: &Key) {
    let Some(placement) = hub.placements.get(key).cloned() else { return };
    let latest = ensure_policy_snapshot(hub, &placement);
    let policy = placement.spec.policy.clone().unwrap_or_default();

    let mut unscheduled = Vec::new();
    let mut obsolete = Vec::new();
    let mut selected: BTreeMap<String, Key> = BTreeMap::new();
    let mut dangling = Vec::new();
    for (k, b) in owned_bindings(hub, key) {
        if b.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let target = b.spec.target_cluster.clone();
        if b.spec.state == BindingState::Unscheduled {
            unscheduled.push((k, target));
        } else if !hub.clusters.contains_key(&target) {
            dangling.push(k);
        } else if b.spec.scheduling_policy_snapshot_name != latest {
            obsolete.push((k, target));
        } else {
            selected.insert(target, k);
        }
    }
    for k in dangling {
        unschedule(hub, &k);
    }

    let affinity = RequiredAffinity::of(&policy);
    let eligible: Vec<String> = hub
        .clusters
        .values()
        .filter(|c| affinity.passes(c.metadata.labels()))
        .map(|c| c.name().to_owned())
        .filter(|c| !selected.contains_key(c))
        .collect();
    let picked: Vec<String> = match policy.placement_type() {
        PlacementPolicy::PICK_N => {
            let want = usize::try_from(policy.number_of_clusters.unwrap_or(0)).unwrap_or(0);
            if selected.len() > want {
                downscale(hub, &selected, selected.len() - want);
                Vec::new()
            } else {
                eligible.into_iter().take(want - selected.len()).collect()
            }
        }
        PlacementPolicy::PICK_FIXED => {
            let mut names: Vec<String> = policy
                .cluster_names
                .iter()
                .filter(|n| hub.clusters.contains_key(*n) && !selected.contains_key(*n))
                .cloned()
                .collect();
            names.sort();
            names.dedup();
            names
        }
        _ => eligible,
    };
    let mut to_create: BTreeSet<String> = picked.iter().cloned().collect();
    for (k, target) in obsolete {
        if to_create.remove(&target) {
            repoint(hub, &k, &latest, None);
        } else {
            unschedule(hub, &k);
        }
    }
    for (k, target) in unscheduled {
        if to_create.remove(&target) {
            let previous = hub
                .bindings
                .get(&k)
                .and_then(|b| b.metadata.annotation(PREVIOUS_STATE_ANNOTATION))
                .and_then(|s| s.parse::<BindingState>().ok())
                .unwrap_or(BindingState::Scheduled);
            repoint(hub, &k, &latest, Some(previous));
        }
    }
    for cluster in to_create {
        create_binding(hub, &placement, &latest, &cluster);
    }

    let scheduled = match policy.placement_type() {
        PlacementPolicy::PICK_N => {
            let now_selected = owned_bindings(hub, key)
                .into_iter()
                .filter(|(_, b)| b.metadata.deletion_timestamp.is_none() && b.spec.state != BindingState::Unscheduled)
                .count();
            now_selected >= usize::try_from(policy.number_of_clusters.unwrap_or(0)).unwrap_or(0)
        }
        PlacementPolicy::PICK_FIXED => policy.cluster_names.iter().all(|n| hub.clusters.contains_key(n)),
        _ => true,
    };
    set_scheduled(hub, &(key.0.clone(), latest), scheduled);
}

fn owned_bindings(hub: &Hub, placement: &Key) -> Vec<(Key, Arc<Binding>)> {
    hub.bindings
        .iter()
        .filter(|(_, b)| b.metadata.belongs_to_placement(&placement.0, &placement.1))
        .map(|(k, b)| (k.clone(), b.clone()))
        .collect()
}

/// The required cluster affinity, parsed once per scheduling pass: a cluster passes when any
/// term matches it, or when there are no terms.
struct RequiredAffinity(Vec<Term>);

/// One cluster selector term.
enum Term {
    /// No label selector: every cluster.
    Any,
    /// A label selector.
    Labels(Selector),
    /// A label selector that does not parse or compile: no cluster.
    Invalid,
}

impl RequiredAffinity {
    fn of(policy: &PlacementPolicy) -> RequiredAffinity {
        let terms = policy
            .extra
            .get("affinity")
            .and_then(|a| {
                a.pointer("/clusterAffinity/requiredDuringSchedulingIgnoredDuringExecution/clusterSelectorTerms")
            })
            .and_then(Value::as_array);
        let term = |term: &Value| match term.get("labelSelector") {
            None => Term::Any,
            Some(s) => serde_json::from_value::<LabelSelector>(s.clone())
                .ok()
                .and_then(|s| compile(Some(&s)).ok())
                .map_or(Term::Invalid, Term::Labels),
        };
        RequiredAffinity(terms.map(|t| t.iter().map(term).collect()).unwrap_or_default())
    }

    fn passes(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.is_empty()
            || self.0.iter().any(|term| match term {
                Term::Any => true,
                Term::Labels(s) => s.matches(labels),
                Term::Invalid => false,
            })
    }
}

/// The policy without `numberOfClusters`, hashed: KubeFleet takes a new policy snapshot when this
/// changes, and only updates the count annotation of the latest one when the count changes.
fn policy_hash(policy: Option<&PlacementPolicy>) -> String {
    let mut value = serde_json::to_value(policy).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.remove("numberOfClusters");
    }
    content_hash(&value)
}

/// Makes sure the latest policy snapshot matches the placement's policy; returns its name.
fn ensure_policy_snapshot(hub: &mut Hub, placement: &Placement) -> String {
    let ns = placement.metadata.namespace().to_owned();
    let name = placement.metadata.name().to_owned();
    let policy = placement.spec.policy.as_ref();
    let hash = policy_hash(policy);
    let count = policy
        .filter(|p| p.placement_type() == PlacementPolicy::PICK_N)
        .map(|p| p.number_of_clusters.unwrap_or(0).to_string());
    let owned: Vec<Key> = hub
        .policy_snapshots
        .iter()
        .filter(|(_, s)| s.metadata.belongs_to_placement(&ns, &name))
        .map(|(k, _)| k.clone())
        .collect();
    let latest = owned
        .iter()
        .find(|k| hub.policy_snapshots[*k].metadata.label(well_known::IS_LATEST_SNAPSHOT_LABEL) == Some("true"));
    if let Some(k) = latest.cloned() {
        let s = &hub.policy_snapshots[&k];
        if s.spec.extra.get("policyHash").and_then(Value::as_str) == Some(hash.as_str()) {
            let current = s.metadata.annotation(well_known::NUMBER_OF_CLUSTERS_ANNOTATION).map(str::to_owned);
            if count.is_some() && current != count {
                let rv = hub.next_rv();
                let s = hub.policy_snapshots.get_mut(&k).expect("listed above");
                let annotations = s.metadata.annotations.get_or_insert_with(BTreeMap::new);
                annotations.insert(well_known::NUMBER_OF_CLUSTERS_ANNOTATION.to_owned(), count.unwrap_or_default());
                s.metadata.resource_version = Some(rv);
            }
            return k.1;
        }
        let rv = hub.next_rv();
        let s = hub.policy_snapshots.get_mut(&k).expect("listed above");
        s.metadata.set_label(well_known::IS_LATEST_SNAPSHOT_LABEL, "false");
        s.metadata.resource_version = Some(rv);
    }
    let index = owned.len() as i64;
    let snapshot_name = well_known::policy_snapshot_name(&name, index);
    let mut meta = ObjectMeta::named(&snapshot_name);
    if !ns.is_empty() {
        meta.namespace = Some(ns.clone());
    }
    meta.set_label(well_known::IS_LATEST_SNAPSHOT_LABEL, "true");
    meta.set_label(well_known::PLACEMENT_TRACKING_LABEL, &name);
    meta.set_label(well_known::POLICY_INDEX_LABEL, index.to_string());
    if let Some(count) = count {
        meta.annotations = Some(BTreeMap::from([(well_known::NUMBER_OF_CLUSTERS_ANNOTATION.to_owned(), count)]));
    }
    hub.stamp_new(&mut meta);
    let kind = if ns.is_empty() { "ClusterSchedulingPolicySnapshot" } else { "SchedulingPolicySnapshot" };
    let mut snapshot = PolicySnapshot {
        api_version: crate::api::API_VERSION.to_owned(),
        kind: kind.to_owned(),
        metadata: meta,
        spec: Default::default(),
        status: None,
        extra: Default::default(),
    };
    snapshot.spec.policy = placement.spec.policy.clone();
    snapshot.spec.extra.insert("policyHash".to_owned(), Value::String(hash));
    hub.policy_snapshots.insert((ns.clone(), snapshot_name.clone()), snapshot);
    let event = Event::new(hub.now, EventKind::PolicySnapshotCreated).namespace(&ns).detail(&snapshot_name);
    hub.record(event);
    hub.touched.placement(&ns, &name);
    snapshot_name
}

fn set_scheduled(hub: &mut Hub, snapshot: &Key, scheduled: bool) {
    let now = hub.now;
    let rv = hub.next_rv();
    let Some(s) = hub.policy_snapshots.get_mut(snapshot) else { return };
    let generation = s.metadata.generation();
    let (status, reason, message) = if scheduled {
        (
            ConditionStatus::True,
            "SchedulingPolicyFulfilled",
            "found all cluster needed as specified by the scheduling policy",
        )
    } else {
        (
            ConditionStatus::False,
            "SchedulingPolicyUnfulfilled",
            "could not find all the clusters needed as specified by the scheduling policy",
        )
    };
    let conditions = &mut s.status.get_or_insert_with(Default::default).conditions;
    if set_condition(conditions, Condition::new(ct::SCHEDULED, status, generation, reason, message), now) {
        s.metadata.resource_version = Some(rv);
        hub.touched.labelled(&s.metadata);
    }
}

fn create_binding(hub: &mut Hub, placement: &Placement, policy_snapshot: &str, cluster: &str) {
    let ns = placement.metadata.namespace().to_owned();
    let name = placement.metadata.name().to_owned();
    let mut meta = ObjectMeta::named("");
    hub.stamp_new(&mut meta);
    let suffix = fnv1a(format!("{ns}/{name}/{cluster}/{}", meta.uid.as_deref().unwrap_or("")).as_bytes()) as u32;
    meta.name = Some(format!("{name}-{cluster}-{suffix:08x}"));
    if !ns.is_empty() {
        meta.namespace = Some(ns.clone());
    }
    meta.set_label(well_known::PLACEMENT_TRACKING_LABEL, &name);
    let binding = Binding {
        api_version: crate::api::API_VERSION.to_owned(),
        kind: if ns.is_empty() { Binding::CLUSTER_KIND } else { Binding::NAMESPACED_KIND }.to_owned(),
        metadata: meta,
        spec: BindingSpec {
            state: BindingState::Scheduled,
            resource_snapshot_name: String::new(),
            resource_override_snapshots: Vec::new(),
            cluster_resource_override_snapshots: Vec::new(),
            scheduling_policy_snapshot_name: policy_snapshot.to_owned(),
            target_cluster: cluster.to_owned(),
            apply_strategy: None,
            cluster_decision: Some(ClusterDecision {
                cluster_name: cluster.to_owned(),
                selected: true,
                reason: "picked by scheduling policy".to_owned(),
                ..ClusterDecision::default()
            }),
            extra: crate::api::Extra::new(),
        },
        status: None,
        extra: Default::default(),
    };
    let key = (ns.clone(), binding.metadata.name().to_owned());
    hub.binding_writes.binding_written(KeyRef::from(&key), &binding.metadata, &mut hub.touched);
    hub.bindings.insert(key, Arc::new(binding));
    hub.record(Event::new(hub.now, EventKind::BindingScheduled).namespace(&ns).cluster(cluster).detail(&name));
}

/// A spec write by the scheduler: re-point the binding to the latest policy snapshot, and
/// restore `state` when re-selecting an unscheduled binding.
fn repoint(hub: &mut Hub, key: &Key, policy_snapshot: &str, state: Option<BindingState>) {
    let reselected = state.is_some();
    let written = write_spec(hub, key, |b| {
        b.spec.scheduling_policy_snapshot_name = policy_snapshot.to_owned();
        if let Some(state) = state {
            b.spec.state = state;
            if let Some(a) = b.metadata.annotations.as_mut() {
                a.remove(PREVIOUS_STATE_ANNOTATION);
            }
        }
    });
    if let Some(((namespace, placement), cluster)) = written.filter(|_| reselected) {
        hub.record(
            Event::new(hub.now, EventKind::BindingScheduled)
                .namespace(&namespace)
                .cluster(cluster)
                .detail(format!("{placement} (re-selected)")),
        );
    }
}

fn unschedule(hub: &mut Hub, key: &Key) {
    let written = write_spec(hub, key, |b| {
        let previous = b.spec.state.to_string();
        b.metadata.annotations.get_or_insert_with(BTreeMap::new).insert(PREVIOUS_STATE_ANNOTATION.to_owned(), previous);
        b.spec.state = BindingState::Unscheduled;
    });
    if let Some(((namespace, placement), cluster)) = written {
        let event = Event::new(hub.now, EventKind::BindingUnscheduled).namespace(&namespace);
        hub.record(event.cluster(cluster).detail(placement));
    }
}

/// A spec write by the scheduler: `edit`, then a new generation and `resourceVersion`. Returns
/// the binding's placement and cluster, or `None` when the binding is gone.
fn write_spec(hub: &mut Hub, key: &Key, edit: impl FnOnce(&mut Binding)) -> Option<(Key, String)> {
    let rv = hub.next_rv();
    let b = Arc::make_mut(hub.bindings.get_mut(key)?);
    edit(b);
    b.metadata.generation = Some(b.metadata.generation() + 1);
    b.metadata.resource_version = Some(rv);
    hub.binding_writes.binding_written(KeyRef::from(key), &b.metadata, &mut hub.touched);
    Some((Hub::placement_of(&b.metadata), b.spec.target_cluster.clone()))
}

/// Unschedules `surplus` of the selected bindings: `Scheduled` ones before `Bound` ones, and
/// within each, the last cluster names first.
fn downscale(hub: &mut Hub, selected: &BTreeMap<String, Key>, surplus: usize) {
    let mut order: Vec<(bool, String, Key)> = selected
        .iter()
        .map(|(cluster, k)| {
            let bound = hub.bindings.get(k).is_some_and(|b| b.spec.state == BindingState::Bound);
            (bound, cluster.clone(), k.clone())
        })
        .collect();
    order.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    for (_, _, k) in order.into_iter().take(surplus) {
        unschedule(hub, &k);
    }
}
