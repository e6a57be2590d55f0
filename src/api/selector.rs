//! TEMPORARY STUB — replaced by the full label selector implementation.
#![allow(missing_docs)]
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectorError {
    #[error("{0:?} is not a valid label selector operator")]
    UnknownOperator(String),
}
#[derive(Clone, Debug)]
pub struct Selector {
    nothing: bool,
    labels: BTreeMap<String, String>,
}
impl Selector {
    pub fn matches(&self, l: &BTreeMap<String, String>) -> bool {
        !self.nothing && self.labels.iter().all(|(k, v)| l.get(k) == Some(v))
    }
}
impl LabelSelector {
    pub fn to_selector(&self) -> Result<Selector, SelectorError> {
        Ok(Selector { nothing: false, labels: self.match_labels.clone().unwrap_or_default() })
    }
}
pub fn compile(s: Option<&LabelSelector>) -> Result<Selector, SelectorError> {
    match s {
        None => Ok(Selector { nothing: true, labels: BTreeMap::new() }),
        Some(s) => s.to_selector(),
    }
}
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty() && s.len() <= 63
}
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253
}
