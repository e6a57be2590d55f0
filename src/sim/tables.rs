//! `kubectl get`-style tables of the simulated hub, with the columns KubeFleet's CRDs print.

use std::fmt;

use crate::api::well_known::condition_types as ct;
use crate::api::{BindingState, ConditionStatus, Duration, Placement, Time, find_condition, is_condition_true};

use super::hub::{Hub, format_labels};

/// A table as `kubectl get` prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The column headers.
    pub headers: Vec<String>,
    /// The rows, one cell per header.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    fn new(headers: &[&str]) -> Table {
        Table { headers: headers.iter().map(|h| (*h).to_owned()).collect(), rows: Vec::new() }
    }
}

impl fmt::Display for Table {
    /// Columns padded as kubectl's tab writer pads them (three spaces of padding); `No resources
    /// found` when there are no rows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rows.is_empty() {
            return writeln!(f, "No resources found");
        }
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|i| {
                let cells = std::iter::once(&self.headers[i]).chain(self.rows.iter().filter_map(|r| r.get(i)));
                cells.map(|c| c.chars().count()).max().unwrap_or(0)
            })
            .collect();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}", w = widths[i] + 3));
                }
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// `kubectl` against the simulated hub. `namespace: None` lists the cluster-scoped kinds
/// (`crp`, `csur`, `clusterresourcesnapshots`, `clusterapprovalrequest`); `Some(ns)` their
/// namespaced twins in `ns` (`rp`, `sur`, `resourcesnapshots`, `approvalrequests`).
#[derive(Clone, Copy, Debug)]
pub struct Kubectl<'a> {
    hub: &'a Hub,
}

/// Kubernetes' `duration.HumanDuration`, as the AGE column prints it (`44s`, `7m31s`, `134m`).
pub(crate) fn human_duration(d: Duration) -> String {
    let secs = d.as_nanos() / 1_000_000_000;
    if secs < -1 {
        return "<invalid>".to_owned();
    }
    if secs < 0 {
        return "0s".to_owned();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    format!("{}y", hours / 24 / 365)
}

fn status_str(s: Option<ConditionStatus>) -> String {
    s.map(|s| s.as_str().to_owned()).unwrap_or_default()
}

impl<'a> Kubectl<'a> {
    pub(crate) fn new(hub: &'a Hub) -> Kubectl<'a> {
        Kubectl { hub }
    }

    fn age(&self, created: Option<Time>) -> String {
        created.map(|t| human_duration(self.hub.now.since(t))).unwrap_or_else(|| "<unknown>".to_owned())
    }

    fn ns_matches(namespace: Option<&str>, object_ns: &str) -> bool {
        namespace.unwrap_or("") == object_ns
    }

    /// `kubectl get crp [name]` / `kubectl get rp -n ns [name]`: `NAME GEN SCHEDULED
    /// SCHEDULED-GEN AVAILABLE AVAILABLE-GEN AGE`. A placement is scheduled when its latest
    /// policy snapshot is, and available when every selected binding is bound on one snapshot and
    /// reports `Available` (or `DiffReported`) at its generation.
    pub fn get_placements(&self, namespace: Option<&str>, name: Option<&str>) -> Table {
        let mut t = Table::new(&["NAME", "GEN", "SCHEDULED", "SCHEDULED-GEN", "AVAILABLE", "AVAILABLE-GEN", "AGE"]);
        for p in self.hub.placements() {
            if !Self::ns_matches(namespace, p.metadata.namespace()) || name.is_some_and(|n| n != p.metadata.name()) {
                continue;
            }
            let generation = p.metadata.generation().to_string();
            let scheduled = self.scheduled(p);
            let available = self.available(p);
            t.rows.push(vec![
                p.metadata.name().to_owned(),
                generation.clone(),
                status_str(scheduled),
                if scheduled.is_some() { generation.clone() } else { String::new() },
                status_str(available),
                if available.is_some() { generation } else { String::new() },
                self.age(p.metadata.creation_timestamp),
            ]);
        }
        t
    }

    fn scheduled(&self, p: &Placement) -> Option<ConditionStatus> {
        let snapshot = self
            .hub
            .policy_snapshots()
            .find(|s| s.metadata.namespace() == p.metadata.namespace() && s.is_latest_of(p.metadata.name()))?;
        find_condition(snapshot.conditions(), ct::SCHEDULED).map(|c| c.status)
    }

    fn available(&self, p: &Placement) -> Option<ConditionStatus> {
        let bindings: Vec<_> = self
            .hub
            .bindings()
            .filter(|b| {
                b.metadata.belongs_to_placement(p.metadata.namespace(), p.metadata.name())
                    && b.spec.state != BindingState::Unscheduled
            })
            .collect();
        if bindings.is_empty() || bindings.iter().any(|b| b.spec.state != BindingState::Bound) {
            return None;
        }
        let one_snapshot =
            bindings.iter().all(|b| b.spec.resource_snapshot_name == bindings[0].spec.resource_snapshot_name);
        let all_available = bindings.iter().all(|b| {
            let g = b.metadata.generation();
            is_condition_true(b.conditions(), ct::AVAILABLE, g)
                || is_condition_true(b.conditions(), ct::DIFF_REPORTED, g)
        });
        if one_snapshot && all_available {
            Some(ConditionStatus::True)
        } else if bindings.iter().any(|b| b.conditions().iter().any(|c| c.is_false_at(b.metadata.generation()))) {
            Some(ConditionStatus::False)
        } else {
            None
        }
    }

    /// `kubectl get clusterresourcesnapshots [--show-labels]` / `kubectl get resourcesnapshots
    /// -n ns [--show-labels]`: `NAME GEN AGE [LABELS]`.
    pub fn get_resource_snapshots(&self, namespace: Option<&str>, show_labels: bool) -> Table {
        let headers: &[&str] = if show_labels { &["NAME", "GEN", "AGE", "LABELS"] } else { &["NAME", "GEN", "AGE"] };
        let mut t = Table::new(headers);
        let mut snapshots: Vec<_> =
            self.hub.resource_snapshots().filter(|s| Self::ns_matches(namespace, s.metadata.namespace())).collect();
        snapshots.sort_by(|a, b| a.metadata.name().cmp(b.metadata.name()));
        for s in snapshots {
            let mut row = vec![
                s.metadata.name().to_owned(),
                s.metadata.generation().to_string(),
                self.age(s.metadata.creation_timestamp),
            ];
            if show_labels {
                row.push(format_labels(s.metadata.labels()));
            }
            t.rows.push(row);
        }
        t
    }

    /// `kubectl get csur [name]` / `kubectl get sur -n ns [name]`: `NAME PLACEMENT
    /// RESOURCE-SNAPSHOT POLICY-SNAPSHOT INITIALIZED SUCCEEDED AGE`, the columns of the seed's
    /// KubeFleet (the resource snapshot is the index the run names, or the one it used when it
    /// names none).
    pub fn get_update_runs(&self, namespace: Option<&str>, name: Option<&str>) -> Table {
        let mut t = Table::new(&[
            "NAME",
            "PLACEMENT",
            "RESOURCE-SNAPSHOT",
            "POLICY-SNAPSHOT",
            "INITIALIZED",
            "SUCCEEDED",
            "AGE",
        ]);
        for r in self.hub.runs() {
            let meta = r.metadata();
            if !Self::ns_matches(namespace, meta.namespace()) || name.is_some_and(|n| n != meta.name()) {
                continue;
            }
            let status = r.status();
            let conditions = status.map(|s| s.conditions.as_slice()).unwrap_or(&[]);
            let index = match r.spec().resource_snapshot_index() {
                "" => status.map(|s| s.resource_snapshot_index_used.clone()).unwrap_or_default(),
                i => i.to_owned(),
            };
            t.rows.push(vec![
                meta.name().to_owned(),
                r.spec().placement_name.clone(),
                index,
                status.map(|s| s.policy_snapshot_index_used.clone()).unwrap_or_default(),
                status_str(find_condition(conditions, ct::INITIALIZED).map(|c| c.status)),
                status_str(find_condition(conditions, ct::SUCCEEDED).map(|c| c.status)),
                self.age(meta.creation_timestamp),
            ]);
        }
        t
    }

    /// `kubectl get clusterapprovalrequest` / `kubectl get approvalrequests -n ns`: `NAME
    /// UPDATE-RUN STAGE APPROVED APPROVALACCEPTED AGE`.
    pub fn get_approval_requests(&self, namespace: Option<&str>) -> Table {
        let mut t = Table::new(&["NAME", "UPDATE-RUN", "STAGE", "APPROVED", "APPROVALACCEPTED", "AGE"]);
        for a in self.hub.approval_requests() {
            if !Self::ns_matches(namespace, a.metadata.namespace()) {
                continue;
            }
            t.rows.push(vec![
                a.metadata.name().to_owned(),
                a.spec.target_update_run.clone(),
                a.spec.target_stage.clone(),
                status_str(find_condition(&a.conditions, ct::APPROVED).map(|c| c.status)),
                status_str(find_condition(&a.conditions, ct::APPROVAL_ACCEPTED).map(|c| c.status)),
                self.age(a.metadata.creation_timestamp),
            ]);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_print_as_kubectl_prints_them() {
        let d = Duration::from_secs;
        assert_eq!(human_duration(d(8)), "8s");
        assert_eq!(human_duration(d(119)), "119s");
        assert_eq!(human_duration(d(122)), "2m2s");
        assert_eq!(human_duration(d(451)), "7m31s");
        assert_eq!(human_duration(d(17 * 60 + 5)), "17m");
        assert_eq!(human_duration(d(134 * 60)), "134m");
        assert_eq!(human_duration(d(5 * 3600)), "5h");
        assert_eq!(human_duration(d(3 * 86400)), "3d");
    }

    #[test]
    fn columns_are_padded_like_kubectl() {
        let mut t = Table::new(&["NAME", "GEN", "AGE"]);
        t.rows.push(vec!["example-placement-0-snapshot".into(), "1".into(), "7m31s".into()]);
        assert_eq!(
            t.to_string(),
            "NAME                           GEN   AGE\nexample-placement-0-snapshot   1     7m31s\n"
        );
    }
}
