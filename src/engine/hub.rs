//! The part of the [`World`] one run reads, selected as KubeFleet's controller lists it.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::api::well_known::{IS_LATEST_SNAPSHOT_LABEL, RESOURCE_INDEX_LABEL};
use crate::api::{Binding, ObjectMeta, Placement, PolicySnapshot, ResourceSnapshot, Scope};
use crate::world::{ObservedApproval, World};

use super::EngineError;
use super::memo::{Memo, Orders};

/// The run being reconciled.
pub(crate) struct RunRef<'a> {
    pub(crate) name: &'a str,
    pub(crate) namespace: &'a str,
    pub(crate) generation: i64,
    /// The `resourceVersion` the run was read at, if the caller knows it.
    pub(crate) resource_version: Option<&'a str>,
    pub(crate) placement_name: &'a str,
    pub(crate) strategy_name: &'a str,
    pub(crate) resource_snapshot_index: &'a str,
    pub(crate) scope: Scope,
}

impl RunRef<'_> {
    /// The placement as a Go `types.NamespacedName` prints (`/name` when cluster-scoped).
    pub(crate) fn placement_key(&self) -> String {
        format!("{}/{}", self.namespace, self.placement_name)
    }

    /// The strategy as a Go `types.NamespacedName` prints.
    pub(crate) fn strategy_key(&self) -> String {
        format!("{}/{}", self.namespace, self.strategy_name)
    }
}

/// `klog.KObj`: `name` for cluster-scoped objects, `namespace/name` otherwise.
pub(crate) fn kobj(namespace: &str, name: &str) -> String {
    if namespace.is_empty() { name.to_owned() } else { format!("{namespace}/{name}") }
}

/// What one run sees of the hub: built once per reconcile, with the member clusters and the
/// placement's bindings sorted by name (each list is sorted at most once; lists already in name
/// order, as API servers return them, cost one pass).
pub(crate) struct Hub<'w> {
    pub(crate) world: &'w World,
    namespace: &'w str,
    placement_name: &'w str,
    /// The two lists planning reads: built by [`Hub::new`]; after [`Hub::remembered`], built
    /// from `orders` when first asked for (a reused plan never asks).
    members: OnceCell<Vec<Member<'w>>>,
    bindings: OnceCell<Vec<&'w Binding>>,
    orders: Option<Arc<Orders>>,
}

/// A member cluster: its name, its labels and its position in `World::member_clusters`.
pub(crate) type Member<'w> = (&'w str, &'w BTreeMap<String, String>, usize);

/// Sorts by name, in one pass when already sorted (as API servers list objects); returns a
/// duplicated name, if any.
fn sort_unique_by_name<'w, T>(items: &mut [T], name: impl Fn(&T) -> &'w str) -> Option<&'w str> {
    if items.windows(2).all(|w| name(&w[0]) < name(&w[1])) {
        return None;
    }
    items.sort_unstable_by(|a, b| name(a).cmp(name(b)));
    items.windows(2).find(|w| name(&w[0]) == name(&w[1])).map(|w| name(&w[0]))
}

impl<'w> Hub<'w> {
    /// Checks the world for inconsistencies no API server could produce.
    pub(crate) fn new(world: &'w World, run: &RunRef<'w>) -> Result<Hub<'w>, EngineError> {
        check_placement(world, run)?;
        let mut members: Vec<Member<'w>> =
            world.member_clusters.iter().enumerate().map(|(i, c)| (c.name(), c.metadata.labels(), i)).collect();
        if let Some(name) = sort_unique_by_name(&mut members, |m| m.0) {
            return Err(EngineError::DuplicateObject { kind: "MemberCluster", name: name.to_owned() });
        }
        let mut bindings: Vec<&Binding> = Vec::with_capacity(world.bindings.len());
        bindings.extend(
            world
                .bindings
                .iter()
                .map(|b| &**b)
                .filter(|b| b.metadata.belongs_to_placement(run.namespace, run.placement_name)),
        );
        if let Some(name) = sort_unique_by_name(&mut bindings, |b| b.metadata.name()) {
            return Err(EngineError::DuplicateObject { kind: "binding", name: format!("{}/{name}", run.namespace) });
        }
        check_approvals(world)?;
        Ok(Hub {
            world,
            namespace: run.namespace,
            placement_name: run.placement_name,
            members: OnceCell::from(members),
            bindings: OnceCell::from(bindings),
            orders: None,
        })
    }

    /// [`Hub::new`] for a world that a [`PlanCache`](super::PlanCache) found equal, on everything
    /// this reads, to one that passed [`Hub::new`]: the lists come in the remembered order
    /// without being sorted or checked again, and only if planning asks for them.
    pub(crate) fn remembered(world: &'w World, run: &RunRef<'w>, memo: &Memo) -> Result<Hub<'w>, EngineError> {
        check_placement(world, run)?;
        check_approvals(world)?;
        let Some(orders) = memo.orders(world) else {
            return Hub::new(world, run);
        };
        Ok(Hub {
            world,
            namespace: run.namespace,
            placement_name: run.placement_name,
            members: OnceCell::new(),
            bindings: OnceCell::new(),
            orders: Some(orders),
        })
    }

    pub(crate) fn placement(&self) -> Option<&'w Placement> {
        self.world.placement.as_ref()
    }

    /// Whether an object belongs to the placement and is labelled `label=value`.
    fn owns(&self, meta: &ObjectMeta, label: &str, value: &str) -> bool {
        meta.belongs_to_placement(self.namespace, self.placement_name) && meta.label(label) == Some(value)
    }

    /// Policy snapshots labelled latest for the placement.
    pub(crate) fn latest_policy_snapshots(&self) -> Vec<&'w PolicySnapshot> {
        self.world
            .policy_snapshots
            .iter()
            .filter(|s| self.owns(&s.metadata, IS_LATEST_SNAPSHOT_LABEL, "true"))
            .collect()
    }

    /// The placement's bindings, sorted by name as `ListBindingsFromKey` sorts them.
    pub(crate) fn bindings(&self) -> &[&'w Binding] {
        self.bindings.get_or_init(|| {
            // Positions that fit the world (`Memo::orders`).
            let order = self.orders.as_ref().map_or(&[][..], |o| &o.bindings);
            order.iter().map(|&i| &*self.world.bindings[i as usize]).collect()
        })
    }

    /// Resource snapshots whose index label is exactly `index`.
    pub(crate) fn resource_snapshots_with_index(&self, index: &str) -> Vec<&'w ResourceSnapshot> {
        self.world.resource_snapshots.iter().filter(|s| self.owns(&s.metadata, RESOURCE_INDEX_LABEL, index)).collect()
    }

    /// The latest master resource snapshot of the placement, and its index.
    pub(crate) fn latest_master_resource_snapshot(&self) -> Option<(&'w ResourceSnapshot, i64)> {
        self.world
            .resource_snapshots
            .iter()
            .filter(|s| self.owns(&s.metadata, IS_LATEST_SNAPSHOT_LABEL, "true") && s.is_master())
            .filter_map(|s| Some((s, s.index_label()?.parse::<i64>().ok()?)))
            .max_by_key(|(_, i)| *i)
    }

    /// The highest resource snapshot index the placement has.
    pub(crate) fn highest_resource_index(&self) -> Option<i64> {
        self.world
            .resource_snapshots
            .iter()
            .filter(|s| s.metadata.belongs_to_placement(self.namespace, self.placement_name))
            .filter_map(|s| s.index_label()?.parse::<i64>().ok())
            .max()
    }

    /// The approval request `name` in the run's namespace.
    pub(crate) fn approval_request(&self, name: &str) -> Option<&'w ObservedApproval> {
        self.world
            .approval_requests
            .iter()
            .find(|a| a.metadata.name() == name && a.metadata.namespace() == self.namespace)
    }

    /// Member clusters and their labels, in name order.
    pub(crate) fn member_clusters(&self) -> &[Member<'w>] {
        self.members.get_or_init(|| {
            // Positions that fit the world (`Memo::orders`).
            let order = self.orders.as_ref().map_or(&[][..], |o| &o.members);
            order
                .iter()
                .map(|&i| {
                    let c = &self.world.member_clusters[i as usize];
                    (c.name(), c.metadata.labels(), i as usize)
                })
                .collect()
        })
    }
}

/// `World::placement` is the run's, if any.
fn check_placement(world: &World, run: &RunRef<'_>) -> Result<(), EngineError> {
    match &world.placement {
        Some(p) if p.metadata.name() != run.placement_name || p.metadata.namespace() != run.namespace => {
            Err(EngineError::PlacementMismatch { expected: run.placement_key(), found: p.metadata.namespaced_name() })
        }
        _ => Ok(()),
    }
}

/// No two approval requests share a name.
fn check_approvals(world: &World) -> Result<(), EngineError> {
    let mut names = BTreeSet::new();
    match world.approval_requests.iter().find(|a| !names.insert((a.metadata.namespace(), a.metadata.name()))) {
        Some(a) => Err(EngineError::DuplicateObject { kind: "approval request", name: a.metadata.namespaced_name() }),
        None => Ok(()),
    }
}
