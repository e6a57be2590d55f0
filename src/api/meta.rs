//! The `metav1` pieces the KubeFleet objects use: [`ObjectMeta`], [`Condition`] and the
//! condition rules of `k8s.io/apimachinery/pkg/api/meta`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Extra;
use super::time::Time;

/// The standard object metadata, reduced to the fields controllers use. Every other field
/// (`ownerReferences`, `managedFields`, …) is kept in [`ObjectMeta::extra`] so that an object
/// read, modified and written back loses nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// `metadata.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `metadata.namespace`; absent or empty for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.uid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// `metadata.resourceVersion`, the optimistic-concurrency token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// `metadata.generation`: bumped by the API server on every spec change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// `metadata.creationTimestamp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Time>,
    /// `metadata.deletionTimestamp`: set once the object is being deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<Time>,
    /// `metadata.labels`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// `metadata.annotations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// `metadata.finalizers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalizers: Option<Vec<String>>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

static EMPTY_MAP: BTreeMap<String, String> = BTreeMap::new();

impl ObjectMeta {
    /// Metadata with just a name (cluster-scoped).
    pub fn named(name: impl Into<String>) -> Self {
        ObjectMeta { name: Some(name.into()), ..ObjectMeta::default() }
    }

    /// Metadata with a namespace and a name.
    pub fn namespaced(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ObjectMeta { name: Some(name.into()), namespace: Some(namespace.into()), ..ObjectMeta::default() }
    }

    /// The name, or `""` when absent.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// The namespace, or `""` for cluster-scoped objects (Go's `GetNamespace()`).
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }

    /// The generation, or 0 when absent (Go's `GetGeneration()`).
    pub fn generation(&self) -> i64 {
        self.generation.unwrap_or(0)
    }

    /// The labels (empty when absent).
    pub fn labels(&self) -> &BTreeMap<String, String> {
        self.labels.as_ref().unwrap_or(&EMPTY_MAP)
    }

    /// One label's value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels().get(key).map(String::as_str)
    }

    /// Whether the object belongs to placement `placement` in `namespace` as KubeFleet lists a
    /// placement's snapshots and bindings: in the placement's namespace (none for cluster-scoped
    /// placements) and labelled `kubernetes-fleet.io/parent-CRP=<placement>`.
    #[inline]
    pub fn belongs_to_placement(&self, namespace: &str, placement: &str) -> bool {
        self.namespace() == namespace && self.label(super::well_known::PLACEMENT_TRACKING_LABEL) == Some(placement)
    }

    /// One annotation's value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref().and_then(|a| a.get(key)).map(String::as_str)
    }

    /// Sets a label, creating the map when needed.
    pub fn set_label(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.labels.get_or_insert_with(BTreeMap::new).insert(key.into(), value.into());
    }

    /// Whether `finalizer` is present.
    pub fn has_finalizer(&self, finalizer: &str) -> bool {
        self.finalizers.as_ref().is_some_and(|f| f.iter().any(|x| x == finalizer))
    }

    /// Whether the object is being deleted.
    pub fn is_deleting(&self) -> bool {
        self.deletion_timestamp.is_some()
    }

    /// `namespace/name` as Go's `types.NamespacedName` prints it: `/name` for cluster-scoped
    /// objects.
    pub fn namespaced_name(&self) -> String {
        format!("{}/{}", self.namespace(), self.name())
    }
}

/// A condition's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConditionStatus {
    /// `"True"`.
    True,
    /// `"False"`.
    False,
    /// `"Unknown"`: KubeFleet uses it for Stopping.
    Unknown,
}

impl ConditionStatus {
    /// The wire form, `"True"`, `"False"` or `"Unknown"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

impl std::fmt::Display for ConditionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `metav1.Condition`.
///
/// `lastTransitionTime` is optional here because real inputs lack it (the seed approves a request
/// with a patch that sets neither `lastTransitionTime` nor `observedGeneration`); every condition
/// the engine writes has one.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// The condition type, such as `Progressing`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: ConditionStatus,
    /// The generation of the owning object this condition was computed for (0 when unset).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub observed_generation: i64,
    /// When `status` last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    /// A CamelCase machine-readable reason.
    #[serde(default)]
    pub reason: String,
    /// A human-readable message.
    #[serde(default)]
    pub message: String,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

super::clone_in_place!(Condition { type_, status, observed_generation, last_transition_time, reason, message });

fn is_zero(v: &i64) -> bool {
    *v == 0
}

impl Condition {
    /// A condition with no transition time yet; [`set_condition`] stamps it.
    pub fn new(
        type_: impl Into<String>,
        status: ConditionStatus,
        observed_generation: i64,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Condition {
        Condition {
            type_: type_.into(),
            status,
            observed_generation,
            last_transition_time: None,
            reason: reason.into(),
            message: message.into(),
            extra: Extra::new(),
        }
    }

    /// Whether this is `True` for `generation` (KubeFleet's `IsConditionStatusTrue`).
    pub fn is_true_at(&self, generation: i64) -> bool {
        self.status == ConditionStatus::True && self.observed_generation == generation
    }

    /// Whether this is `False` for `generation` (KubeFleet's `IsConditionStatusFalse`).
    pub fn is_false_at(&self, generation: i64) -> bool {
        self.status == ConditionStatus::False && self.observed_generation == generation
    }
}

/// Finds the condition of `type_` (`meta.FindStatusCondition`).
pub fn find_condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether the condition of `type_` exists and is `True` at `generation`.
pub fn is_condition_true(conditions: &[Condition], type_: &str, generation: i64) -> bool {
    find_condition(conditions, type_).is_some_and(|c| c.is_true_at(generation))
}

/// Whether the condition of `type_` exists and is `False` at `generation`.
pub fn is_condition_false(conditions: &[Condition], type_: &str, generation: i64) -> bool {
    find_condition(conditions, type_).is_some_and(|c| c.is_false_at(generation))
}

/// Sets a condition with Kubernetes' rule (`meta.SetStatusCondition`): a new type is appended;
/// an existing one is updated in place and its `lastTransitionTime` moves only when `status`
/// changes. A missing `lastTransitionTime` is stamped with `now`. Returns whether anything changed.
pub fn set_condition(conditions: &mut Vec<Condition>, new: Condition, now: Time) -> bool {
    let Some(existing) = conditions.iter_mut().find(|c| c.type_ == new.type_) else {
        let mut new = new;
        new.last_transition_time.get_or_insert(now);
        conditions.push(new);
        return true;
    };
    let mut changed = false;
    if existing.status != new.status {
        existing.status = new.status;
        existing.last_transition_time = Some(new.last_transition_time.unwrap_or(now));
        changed = true;
    }
    if existing.reason != new.reason {
        existing.reason = new.reason;
        changed = true;
    }
    if existing.message != new.message {
        existing.message = new.message;
        changed = true;
    }
    if existing.observed_generation != new.observed_generation {
        existing.observed_generation = new.observed_generation;
        changed = true;
    }
    changed
}

/// Removes the condition of `type_` (`meta.RemoveStatusCondition`); returns whether it existed.
pub fn remove_condition(conditions: &mut Vec<Condition>, type_: &str) -> bool {
    let before = conditions.len();
    conditions.retain(|c| c.type_ != type_);
    conditions.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Time {
        Time::from_unix_seconds(s)
    }

    #[test]
    fn set_condition_moves_transition_time_only_on_status_change() {
        let mut c = Vec::new();
        let first = Condition::new("Progressing", ConditionStatus::True, 1, "A", "a");
        assert!(set_condition(&mut c, first, t(10)));
        assert_eq!(c[0].last_transition_time, Some(t(10)));

        // Same status, new reason: changed, but the time stays.
        let same = Condition::new("Progressing", ConditionStatus::True, 1, "B", "b");
        assert!(set_condition(&mut c, same.clone(), t(20)));
        assert_eq!(c[0].last_transition_time, Some(t(10)));
        assert_eq!(c[0].reason, "B");

        // Identical: nothing changes.
        assert!(!set_condition(&mut c, same, t(30)));

        // New status: the time moves.
        let flip = Condition::new("Progressing", ConditionStatus::False, 1, "B", "b");
        assert!(set_condition(&mut c, flip, t(40)));
        assert_eq!(c[0].last_transition_time, Some(t(40)));
    }

    #[test]
    fn new_types_are_appended_in_order() {
        let mut c = Vec::new();
        set_condition(&mut c, Condition::new("Initialized", ConditionStatus::True, 1, "r", ""), t(1));
        set_condition(&mut c, Condition::new("Progressing", ConditionStatus::True, 1, "r", ""), t(1));
        set_condition(&mut c, Condition::new("Initialized", ConditionStatus::True, 2, "r", ""), t(1));
        let types: Vec<_> = c.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, ["Initialized", "Progressing"]);
        assert!(remove_condition(&mut c, "Initialized"));
        assert!(!remove_condition(&mut c, "Initialized"));
    }

    #[test]
    fn truth_checks_require_the_generation() {
        let c = vec![Condition::new("Approved", ConditionStatus::True, 2, "", "")];
        assert!(is_condition_true(&c, "Approved", 2));
        assert!(!is_condition_true(&c, "Approved", 1));
        assert!(!is_condition_false(&c, "Approved", 2));
        assert!(!is_condition_true(&c, "Missing", 2));
    }

    #[test]
    fn condition_round_trips_and_keeps_unknown_fields() {
        let json = r#"{"type":"Approved","status":"True","reason":"lgtm","message":"lgtm","future":1}"#;
        let c: Condition = serde_json::from_str(json).unwrap();
        assert_eq!(c.observed_generation, 0);
        assert_eq!(c.last_transition_time, None);
        let back: serde_json::Value = serde_json::to_value(&c).unwrap();
        assert_eq!(back, serde_json::from_str::<serde_json::Value>(json).unwrap());
    }

    #[test]
    fn cluster_scoped_names_print_with_a_leading_slash() {
        assert_eq!(ObjectMeta::named("crp").namespaced_name(), "/crp");
        assert_eq!(ObjectMeta::namespaced("ns", "rp").namespaced_name(), "ns/rp");
    }
}
