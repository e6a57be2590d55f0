//! The hub's real objects (Namespaces, ConfigMaps, Deployments, …), what a placement selects from
//! them, and the hash a resource snapshot carries.

use serde_json::Value;

use crate::api::{LabelSelector, Placement, compile};

/// The identity of a Kubernetes object: `apiVersion`, `kind`, namespace, name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ObjectKey {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) namespace: String,
    pub(crate) name: String,
}

impl ObjectKey {
    pub(crate) fn of(object: &Value) -> Option<ObjectKey> {
        let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
        let meta = object.get("metadata");
        let key = ObjectKey {
            api_version: s(object.get("apiVersion")),
            kind: s(object.get("kind")),
            namespace: s(meta.and_then(|m| m.get("namespace"))),
            name: s(meta.and_then(|m| m.get("name"))),
        };
        (!key.kind.is_empty() && !key.name.is_empty()).then_some(key)
    }

    /// `Kind namespace/name` or `Kind name`.
    pub(crate) fn describe(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// The fields the API server adds, which a resource snapshot does not keep.
const SERVER_METADATA: &[&str] =
    &["creationTimestamp", "deletionTimestamp", "generation", "managedFields", "resourceVersion", "selfLink", "uid"];

/// The object as a resource snapshot keeps it: without `status` and server-set metadata.
pub(crate) fn clean(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(Value::Object(meta)) = map.get_mut("metadata") {
            for field in SERVER_METADATA {
                meta.remove(*field);
            }
        }
    }
    object
}

/// One entry of a placement's `spec.resourceSelectors`.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSelector {
    #[serde(default)]
    group: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    label_selector: Option<LabelSelector>,
}

impl ResourceSelector {
    fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    fn matches(&self, key: &ObjectKey, object: &Value) -> bool {
        if key.api_version != self.api_version() || key.kind != self.kind {
            return false;
        }
        if !self.name.is_empty() {
            return key.name == self.name;
        }
        let labels =
            object.pointer("/metadata/labels").and_then(|l| serde_json::from_value(l.clone()).ok()).unwrap_or_default();
        // A selector without name or label selector selects every object of the kind.
        match &self.label_selector {
            None => true,
            Some(s) => compile(Some(s)).is_ok_and(|s| s.matches(&labels)),
        }
    }
}

/// The order KubeFleet's resource selector sorts selected resources in (the order a member
/// applies them): namespaces and cluster-wide prerequisites first, workloads later, unknown kinds
/// last.
const APPLY_ORDER: &[&str] = &[
    "Namespace",
    "CustomResourceDefinition",
    "ResourceQuota",
    "LimitRange",
    "PriorityClass",
    "StorageClass",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Ingress",
];

fn order_key(key: &ObjectKey) -> (usize, &str, &str, &str, &str) {
    let rank = APPLY_ORDER.iter().position(|k| *k == key.kind).unwrap_or(APPLY_ORDER.len());
    (rank, &key.api_version, &key.kind, &key.namespace, &key.name)
}

/// The resources `placement` selects from `objects`, cleaned and in apply order. A cluster-scoped
/// placement selects cluster-scoped objects, and a selected Namespace brings every object in it
/// along, as KubeFleet's resource selector does; a namespaced placement selects objects of its
/// own namespace.
pub(crate) fn select(placement: &Placement, objects: &[Value]) -> Vec<Value> {
    let selectors: Vec<ResourceSelector> = placement
        .spec
        .extra
        .get("resourceSelectors")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let placement_ns = placement.metadata.namespace();
    let mut picked: Vec<(ObjectKey, Value)> = Vec::new();
    let add = |key: ObjectKey, object: &Value, picked: &mut Vec<(ObjectKey, Value)>| {
        if !picked.iter().any(|(k, _)| *k == key) {
            picked.push((key, clean(object)));
        }
    };
    for object in objects {
        let Some(key) = ObjectKey::of(object) else { continue };
        if key.namespace != placement_ns || !selectors.iter().any(|s| s.matches(&key, object)) {
            continue;
        }
        add(key.clone(), object, &mut picked);
        if placement_ns.is_empty() && key.kind == "Namespace" && key.api_version == "v1" {
            for inner in objects {
                if let Some(k) = ObjectKey::of(inner).filter(|k| k.namespace == key.name) {
                    add(k, inner, &mut picked);
                }
            }
        }
    }
    picked.sort_by(|(a, _), (b, _)| order_key(a).cmp(&order_key(b)));
    picked.into_iter().map(|(_, v)| v).collect()
}

/// A one-line summary of resources for transcripts: `Kind namespace/name`, with a ConfigMap's data
/// and a workload's container images (`ConfigMap test-namespace/test-cm key=value2`).
pub(crate) fn summarize(resources: &[Value]) -> String {
    let one = |o: &Value| {
        let key = ObjectKey::of(o).map(|k| k.describe()).unwrap_or_else(|| "?".to_owned());
        let mut extra = Vec::new();
        if let Some(Value::Object(data)) = o.get("data") {
            for (k, v) in data {
                extra.push(format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), str::to_owned)));
            }
        }
        if let Some(Value::Array(containers)) = o.pointer("/spec/template/spec/containers") {
            for c in containers {
                if let Some(image) = c.get("image").and_then(Value::as_str) {
                    extra.push(format!("image={image}"));
                }
            }
        }
        if extra.is_empty() { key } else { format!("{key} {}", extra.join(" ")) }
    };
    resources.iter().map(one).collect::<Vec<_>>().join(", ")
}

/// Writes `value` as JSON with object keys sorted at every level, so equal content always
/// hashes equally.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => write_canonical_items(items, out),
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Writes `items` as a canonical JSON array.
fn write_canonical_items(items: &[Value], out: &mut String) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_canonical(item, out);
    }
    out.push(']');
}

/// 64-bit FNV-1a.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// FNV-1a of a value's canonical JSON, in hex: equal content, equal hash.
pub(crate) fn content_hash(value: &Value) -> String {
    let mut json = String::new();
    write_canonical(value, &mut json);
    format!("{:016x}", fnv1a(json.as_bytes()))
}

/// The `resource-hash` of a list of selected resources: FNV-1a of their canonical JSON, in hex.
/// (KubeFleet uses SHA-256; any stable content hash serves the engine, which only compares.)
pub(crate) fn resource_hash(resources: &[Value]) -> String {
    // The same hash as `content_hash` of the array, without copying the resources into one.
    let mut json = String::new();
    write_canonical_items(resources, &mut json);
    format!("{:016x}", fnv1a(json.as_bytes()))
}

/// Two objects are the same resource content (ignoring server-set fields).
pub(crate) fn same_content(a: &Value, b: &Value) -> bool {
    clean(a) == clean(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn placement(ns: &str, selectors: Value) -> Placement {
        let mut p: Placement = serde_json::from_value(json!({
            "kind": "ClusterResourcePlacement", "metadata": {"name": "p"},
            "spec": {"resourceSelectors": selectors}
        }))
        .unwrap();
        if !ns.is_empty() {
            p.metadata.namespace = Some(ns.into());
        }
        p
    }

    #[test]
    fn a_namespace_selector_brings_the_namespace_contents() {
        let objects = vec![
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ns", "uid": "x"}, "data": {"k": "v"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "namespace": "elsewhere"}}),
        ];
        let p = placement("", json!([{"group": "", "version": "v1", "kind": "Namespace", "name": "ns"}]));
        let picked = select(&p, &objects);
        let kinds: Vec<_> = picked.iter().map(|o| o["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["Namespace", "ConfigMap"]);
        assert!(picked[1]["metadata"].get("uid").is_none(), "server fields are dropped");
    }

    #[test]
    fn a_namespaced_placement_selects_by_group_version_kind_and_name() {
        let objects = vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "app"}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "app"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "other"}}),
        ];
        let p = placement(
            "app",
            json!([{"group": "apps", "version": "v1", "kind": "Deployment", "name": "web"},
                   {"group": "", "version": "v1", "kind": "Service", "name": "web"}]),
        );
        let picked = select(&p, &objects);
        let kinds: Vec<_> = picked.iter().map(|o| o["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["Service", "Deployment"]);
    }

    #[test]
    fn the_hash_ignores_key_order_but_not_values() {
        let a = vec![json!({"a": 1, "b": {"c": 2, "d": 3}})];
        let b = vec![json!({"b": {"d": 3, "c": 2}, "a": 1})];
        let c = vec![json!({"a": 1, "b": {"c": 2, "d": 4}})];
        assert_eq!(resource_hash(&a), resource_hash(&b));
        assert_ne!(resource_hash(&a), resource_hash(&c));
        assert_eq!(resource_hash(&a).len(), 16);
        assert_eq!(resource_hash(&a), content_hash(&Value::Array(a.clone())));
    }
}
