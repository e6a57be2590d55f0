//! `MemberCluster`: a cluster of the fleet, reduced to its name and labels.

use serde::{Deserialize, Serialize};

use super::{Extra, ObjectMeta};

/// A `cluster.kubernetes-fleet.io/v1beta1` `MemberCluster`. Stages select member clusters by
/// their labels; `spec` and `status` are kept in `extra` verbatim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberCluster {
    /// `apiVersion`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// `MemberCluster`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `metadata`: the name and labels.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Fields this crate does not model (`spec`, `status`), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl MemberCluster {
    /// The `apiVersion` of member clusters.
    pub const API_VERSION: &'static str = "cluster.kubernetes-fleet.io/v1beta1";

    /// A member cluster with `labels`.
    pub fn new<K: Into<String>, V: Into<String>>(
        name: impl Into<String>,
        labels: impl IntoIterator<Item = (K, V)>,
    ) -> MemberCluster {
        let mut metadata = ObjectMeta::named(name);
        metadata.labels = Some(labels.into_iter().map(|(k, v)| (k.into(), v.into())).collect());
        MemberCluster {
            api_version: Self::API_VERSION.to_owned(),
            kind: "MemberCluster".to_owned(),
            metadata,
            extra: Extra::new(),
        }
    }

    /// The cluster name.
    pub fn name(&self) -> &str {
        self.metadata.name()
    }
}
