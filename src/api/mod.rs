//! KubeFleet's wire format: the objects the engine reads and writes, with serde names and
//! omission rules that match `placement.kubernetes-fleet.io/v1beta1` (and `v1`, which shares the
//! schema).
//!
//! Every struct keeps the fields it does not model in an `extra` map, so an object parsed from
//! YAML or JSON and serialized again loses nothing a newer KubeFleet added.
//!
//! The six kinds of staged updates are distinct types — [`ClusterStagedUpdateRun`],
//! [`StagedUpdateRun`], [`ClusterStagedUpdateStrategy`], [`StagedUpdateStrategy`],
//! [`ClusterApprovalRequest`], [`ApprovalRequest`] — sharing their spec and status types, as the
//! Go types do. The hub objects the engine only reads ([`Placement`], [`PolicySnapshot`],
//! [`ResourceSnapshot`], [`Binding`]) are one type for both scopes; their `kind` says which.

mod approval;
mod binding;
mod cluster;
mod duration;
mod intstr;
mod meta;
mod placement;
mod run;
mod selector;
mod snapshot;
mod strategy;
mod time;
mod validate;
pub mod well_known;

pub use approval::{
    ApprovalRequest, ApprovalRequestObject, ApprovalRequestSpec, ApprovalRequestStatus, ClusterApprovalRequest,
};
pub use binding::{Binding, BindingSpec, BindingState, BindingStatus, ClusterDecision, ClusterScore};
pub use cluster::MemberCluster;
pub use duration::{Duration, DurationParseError, DurationParseErrorKind};
pub use intstr::{IntOrString, ScaleError, max_concurrency};
pub use meta::{
    Condition, ConditionStatus, ObjectMeta, find_condition, is_condition_false, is_condition_true, remove_condition,
    set_condition,
};
pub use placement::{ApplyStrategy, Placement, PlacementPolicy, PlacementSpec, RolloutStrategy, ServerSideApplyConfig};
pub use run::{
    ClusterStagedUpdateRun, ClusterUpdatingStatus, StageTaskStatus, StageUpdatingStatus, StagedUpdateRun, State,
    UpdateRunObject, UpdateRunSpec, UpdateRunStatus,
};
pub use selector::{
    LabelSelector, LabelSelectorRequirement, Requirement, RequirementOperator, Selector, SelectorError,
    SelectorOperator, compile, is_dns1123_label, is_dns1123_subdomain, validate_label_key, validate_label_value,
};
pub use snapshot::{
    NamespacedName, PolicySnapshot, PolicySnapshotSpec, PolicySnapshotStatus, ResourceSnapshot, ResourceSnapshotSpec,
};
pub use strategy::{
    ClusterStagedUpdateStrategy, StageConfig, StageTask, StageTaskType, StagedUpdateStrategy, UpdateStrategyObject,
    UpdateStrategySpec,
};
pub use time::{Time, TimeParseError};
pub(crate) use validate::validate_stage_list;
pub use validate::{
    StageNameRule, ValidationError, ValidationErrorKind, ValidationErrors, ValidationOptions,
    validate_approval_request, validate_run, validate_run_update, validate_strategy,
};

/// Fields an object carries that this crate does not model, in their original order.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// The API group of every placement kind.
pub const GROUP: &str = "placement.kubernetes-fleet.io";
/// The `apiVersion` this crate writes (`v1` shares the schema and is read as well).
pub const API_VERSION: &str = "placement.kubernetes-fleet.io/v1beta1";

/// Whether an object is cluster-scoped or lives in a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `ClusterStagedUpdateRun`, `ClusterResourcePlacement`, …
    Cluster,
    /// `StagedUpdateRun`, `ResourcePlacement`, …
    Namespaced,
}

/// Implements `Clone` field by field, with a `clone_from` that recurses into the fields so that
/// copying one status over another reuses the target's strings and vectors instead of allocating
/// new ones and freeing the old (the derived `clone_from` clones, then drops). A store that
/// overwrites a stored status, or a loop that copies each observation over the previous one,
/// copies a 10,000-cluster status without allocating for its stages, clusters or conditions when
/// the shapes match (the few fleet-independent fields, such as the recorded strategy, are cloned
/// whole). Every type it is used on
/// has an `extra` map, copied by [`copy_extra`]; the other fields are listed, and both methods
/// destructure `Self` without `..`, so adding a field and forgetting it here does not compile.
macro_rules! clone_in_place {
    ($name:ident { $($field:ident),+ $(,)? }) => {
        impl Clone for $name {
            #[inline]
            fn clone(&self) -> Self {
                let $name { $($field,)+ extra } = self;
                $name { $($field: Clone::clone($field),)+ extra: extra.clone() }
            }

            #[inline]
            fn clone_from(&mut self, source: &Self) {
                let $name { $($field,)+ extra } = self;
                $( Clone::clone_from($field, &source.$field); )+
                $crate::api::copy_extra(extra, &source.extra);
            }
        }
    };
}
pub(crate) use clone_in_place;

/// Copies unknown fields over unknown fields. Almost always both sides are empty, and then there
/// is nothing to do (an empty map's `clone_from` still walks its index table and entries).
#[inline]
pub(crate) fn copy_extra(to: &mut Extra, from: &Extra) {
    if !(to.is_empty() && from.is_empty()) {
        to.clone_from(from);
    }
}

/// Defines a string-valued enum whose unknown values are kept rather than rejected, so that a
/// value written by a newer KubeFleet (or typed by a user) reaches validation and produces a
/// clear error instead of a parse failure.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know, kept as written.
            Unknown(String),
        }

        impl $name {
            /// The wire form.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Unknown(s) => s.as_str(),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(match s {
                    $( $wire => $name::$variant, )+
                    other => $name::Unknown(other.to_owned()),
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok(s.parse().unwrap_or_else(|never: std::convert::Infallible| match never {}))
            }
        }
    };
}
pub(crate) use string_enum;

/// Defines one Kubernetes kind: `apiVersion`, `kind`, `metadata`, `spec`, an optional `status`
/// (for kinds that have one) and the unknown fields.
macro_rules! kube_kind {
    (
        $(#[$meta:meta])*
        $name:ident, kind = $kind:literal, scope = $scope:ident, spec = $spec:ty $(, status = $status:ty)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// `apiVersion`, `placement.kubernetes-fleet.io/v1beta1` or `/v1` (empty when absent).
            #[serde(default, skip_serializing_if = "String::is_empty")]
            pub api_version: String,
            /// `kind` (empty when absent).
            #[serde(default, skip_serializing_if = "String::is_empty")]
            pub kind: String,
            /// `metadata`.
            #[serde(default)]
            pub metadata: $crate::api::ObjectMeta,
            /// `spec`.
            pub spec: $spec,
            $(
            /// `status`; absent until a controller writes it.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub status: Option<$status>,
            )?
            /// Fields this crate does not model, kept verbatim.
            #[serde(flatten)]
            pub extra: $crate::api::Extra,
        }

        // `clone` names every field, so a field added to the struct fails to compile here, next
        // to `clone_from`, which must copy it too.
        impl Clone for $name {
            #[inline]
            fn clone(&self) -> Self {
                $name {
                    api_version: self.api_version.clone(),
                    kind: self.kind.clone(),
                    metadata: self.metadata.clone(),
                    spec: self.spec.clone(),
                    $( status: <Option<$status> as Clone>::clone(&self.status), )?
                    extra: self.extra.clone(),
                }
            }

            /// Copies `source` over `self` field by field; a run's status reuses its buffers.
            #[inline]
            fn clone_from(&mut self, source: &Self) {
                self.api_version.clone_from(&source.api_version);
                self.kind.clone_from(&source.kind);
                self.metadata.clone_from(&source.metadata);
                self.spec.clone_from(&source.spec);
                $( <Option<$status> as Clone>::clone_from(&mut self.status, &source.status); )?
                $crate::api::copy_extra(&mut self.extra, &source.extra);
            }
        }

        impl $crate::api::Kind for $name {
            const KIND: &'static str = $kind;
            const SCOPE: $crate::api::Scope = $crate::api::Scope::$scope;
            fn type_meta(&self) -> (&str, &str) {
                (&self.api_version, &self.kind)
            }
        }

        impl $name {
            /// The object's `kind`.
            pub const KIND: &'static str = $kind;

            /// A new object with the given metadata and spec.
            pub fn new(metadata: $crate::api::ObjectMeta, spec: $spec) -> Self {
                $name {
                    api_version: $crate::api::API_VERSION.to_owned(),
                    kind: $kind.to_owned(),
                    metadata,
                    spec,
                    $( status: None::<$status>, )?
                    extra: $crate::api::Extra::new(),
                }
            }
        }
    };
}
pub(crate) use kube_kind;

/// A kind with a fixed name and scope (implemented by the six staged-update kinds).
pub trait Kind {
    /// The `kind` string.
    const KIND: &'static str;
    /// Cluster-scoped or namespaced.
    const SCOPE: Scope;
    /// The object's `apiVersion` and `kind` as written (validation checks them).
    fn type_meta(&self) -> (&str, &str);
}

/// `null` in JSON becomes the type's default (Go writes a nil slice as `null`).
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    use serde::Deserialize as _;
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
