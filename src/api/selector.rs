//! Kubernetes label selectors: the `metav1.LabelSelector` wire type, its compilation into a
//! matcher with `metav1.LabelSelectorAsSelector` semantics, and the label validation rules of
//! `k8s.io/apimachinery`, with error messages reproduced byte for byte.
//!
//! # nil versus `{}`
//!
//! Kubernetes gives an *absent* selector and an *empty* one opposite meanings:
//!
//! | wire form                          | Rust                         | selects    |
//! |------------------------------------|------------------------------|------------|
//! | field absent or `null`             | `None`                       | nothing    |
//! | `{}`                               | `Some(LabelSelector::default())` | everything |
//! | `{"matchLabels": {}}`, `{"matchExpressions": []}` | `Some(..)` with empty collections | everything |
//!
//! [`compile`] takes an `Option<&LabelSelector>` so that the distinction cannot be lost; use
//! [`LabelSelector::to_selector`] when the selector is known to be present.
//!
//! # Errors
//!
//! [`SelectorError`]'s `Display` is the `error.Error()` string `metav1.LabelSelectorAsSelector`
//! returns, so it can be embedded in a KubeFleet condition message unchanged. The messages are
//! those of `k8s.io/apimachinery` v0.34, the version KubeFleet builds with. Other versions differ
//! in two places:
//!
//! * up to v0.33 a rejected values list is printed in Go syntax (`[]string(nil)`,
//!   `[]string{"a"}`) where v0.34 prints JSON (`null`, `["a"]`);
//! * from v0.35 label *keys* are checked by `content.IsLabelKey`, which says
//!   `must be no more than 63 bytes` instead of `… characters` and `a valid label key …` instead
//!   of `a qualified name …` (label values are unchanged).
//!
//! When several `matchLabels` entries are invalid, Kubernetes reports whichever one Go's
//! randomised map iteration reaches first; this module reports the first in key order.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Wire types
// ---------------------------------------------------------------------------------------------

/// `metav1.LabelSelector`: a label query over a set of objects (here, member clusters).
///
/// The requirements of `match_labels` and `match_expressions` are ANDed. A selector whose
/// `match_labels` and `match_expressions` are both absent or empty selects **everything**; an
/// absent selector (`None` where an `Option<LabelSelector>` is expected) selects **nothing** —
/// see [`compile`].
///
/// Fields this crate does not model are kept in [`extra`](Self::extra), so a selector parsed and
/// serialized again loses nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// `matchLabels`: each `key: value` entry is the requirement `key=value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    /// `matchExpressions`: set-based requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
    /// Fields this crate does not model, kept verbatim and in their original order.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `metav1.LabelSelectorRequirement`: one entry of `matchExpressions`, relating a label key to a
/// set of values through an operator.
///
/// The operator is kept as the raw string so that an unknown operator surfaces as a
/// [`SelectorError::UnknownOperator`] when the selector is compiled rather than as a parse
/// failure; [`operator`](Self::operator) interprets it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelSelectorRequirement {
    /// `key`: the label key the requirement applies to. Absent or `null` reads as `""`, as in Go.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub key: String,
    /// `operator`: `In`, `NotIn`, `Exists` or `DoesNotExist` (case-sensitive), kept as written.
    /// Absent or `null` reads as `""`, as in Go.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub operator: String,
    /// `values`: must be non-empty for `In`/`NotIn` and empty for `Exists`/`DoesNotExist`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    /// Fields this crate does not model, kept verbatim and in their original order.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Go decodes JSON `null` into a string as the empty string.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// The operator of a [`LabelSelectorRequirement`] (`metav1.LabelSelectorOperator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SelectorOperator {
    /// `In`: the label is present and its value is one of `values`.
    In,
    /// `NotIn`: the label is absent, or its value is none of `values`.
    NotIn,
    /// `Exists`: the label is present, whatever its value.
    Exists,
    /// `DoesNotExist`: the label is absent.
    DoesNotExist,
}

impl SelectorOperator {
    /// The wire form: `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SelectorOperator::In => "In",
            SelectorOperator::NotIn => "NotIn",
            SelectorOperator::Exists => "Exists",
            SelectorOperator::DoesNotExist => "DoesNotExist",
        }
    }
}

impl fmt::Display for SelectorOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SelectorOperator {
    type Err = SelectorError;

    /// Parses the exact, case-sensitive wire form; anything else is
    /// [`SelectorError::UnknownOperator`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "In" => Ok(SelectorOperator::In),
            "NotIn" => Ok(SelectorOperator::NotIn),
            "Exists" => Ok(SelectorOperator::Exists),
            "DoesNotExist" => Ok(SelectorOperator::DoesNotExist),
            other => Err(SelectorError::UnknownOperator { operator: other.to_owned() }),
        }
    }
}

impl LabelSelectorRequirement {
    /// A requirement with the given key, operator and values and no unknown fields.
    pub fn new<I, S>(key: impl Into<String>, operator: SelectorOperator, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        LabelSelectorRequirement {
            key: key.into(),
            operator: operator.as_str().to_owned(),
            values: if values.is_empty() { None } else { Some(values) },
            extra: serde_json::Map::new(),
        }
    }

    /// The operator, or [`SelectorError::UnknownOperator`] when it is not exactly `In`, `NotIn`,
    /// `Exists` or `DoesNotExist`.
    pub fn operator(&self) -> Result<SelectorOperator, SelectorError> {
        self.operator.parse()
    }
}

impl LabelSelector {
    /// Whether both `matchLabels` and `matchExpressions` are absent or empty — such a selector
    /// (`{}`) selects everything.
    pub fn is_empty(&self) -> bool {
        self.match_labels.as_ref().is_none_or(BTreeMap::is_empty)
            && self.match_expressions.as_ref().is_none_or(Vec::is_empty)
    }

    /// Validates and compiles this (present) selector: `compile(Some(self))`.
    ///
    /// An empty selector (`{}`) compiles to [`Selector::everything`].
    pub fn to_selector(&self) -> Result<Selector, SelectorError> {
        let labels = self.match_labels.as_ref();
        let exprs = self.match_expressions.as_deref().unwrap_or(&[]);
        let count = labels.map_or(0, BTreeMap::len) + exprs.len();
        if count == 0 {
            return Ok(Selector::everything());
        }
        let mut requirements = Vec::with_capacity(count);
        for (key, value) in labels.into_iter().flatten() {
            requirements.push(Requirement::new(key, RequirementOperator::Equals, std::slice::from_ref(value))?);
        }
        for expr in exprs {
            let op = expr.operator()?;
            let values = expr.values.as_deref().unwrap_or(&[]);
            requirements.push(Requirement::new(&expr.key, op.into(), values)?);
        }
        // Kubernetes sorts requirements by key (`labels.ByKey`); a stable sort keeps equal keys
        // in input order.
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Selector { inner: Inner::Requirements(requirements.into_boxed_slice()) })
    }
}

/// Validates and compiles a selector with `metav1.LabelSelectorAsSelector` semantics.
///
/// * `None` (a nil selector: the field is absent or `null`) selects **nothing**.
/// * `Some` of an empty selector (`{}`, or empty `matchLabels`/`matchExpressions`) selects
///   **everything**.
/// * Otherwise each `matchLabels` entry becomes `key=value` and each `matchExpressions` entry its
///   set-based requirement; all must hold.
///
/// The first invalid requirement is reported (`matchLabels` in key order, then
/// `matchExpressions` in order), exactly as Kubernetes words it.
///
/// ```
/// use std::collections::BTreeMap;
/// use staged_rollout::api::{LabelSelector, LabelSelectorRequirement, SelectorOperator, compile};
///
/// let cluster: BTreeMap<String, String> = [("environment".to_owned(), "canary".to_owned())].into();
///
/// // nil selects nothing, `{}` selects everything.
/// assert!(!compile(None).unwrap().matches(&cluster));
/// assert!(compile(Some(&LabelSelector::default())).unwrap().matches(&cluster));
///
/// let selector = LabelSelector {
///     match_labels: Some([("environment".to_owned(), "canary".to_owned())].into()),
///     match_expressions: Some(vec![LabelSelectorRequirement::new("order", SelectorOperator::NotIn, ["2"])]),
///     ..LabelSelector::default()
/// };
/// let compiled = compile(Some(&selector)).unwrap();
/// assert!(compiled.matches(&cluster));
/// assert_eq!(compiled.to_string(), "environment=canary,order notin (2)");
///
/// let invalid = LabelSelector {
///     match_expressions: Some(vec![LabelSelectorRequirement::new("order", SelectorOperator::In, [""; 0])]),
///     ..LabelSelector::default()
/// };
/// assert_eq!(
///     compile(Some(&invalid)).unwrap_err().to_string(),
///     "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty",
/// );
/// ```
pub fn compile(selector: Option<&LabelSelector>) -> Result<Selector, SelectorError> {
    match selector {
        None => Ok(Selector::nothing()),
        Some(selector) => selector.to_selector(),
    }
}

// ---------------------------------------------------------------------------------------------
// Compiled selectors
// ---------------------------------------------------------------------------------------------

/// A validated, compiled label selector (`labels.Selector`).
///
/// Build one with [`compile`] or [`LabelSelector::to_selector`]. Matching allocates nothing.
/// `Display` renders Kubernetes' `Selector.String()`: requirements sorted by key, joined with
/// `,` (e.g. `environment=canary,order in (1,2)`); both [`Selector::everything`] and
/// [`Selector::nothing`] render as the empty string, as in Kubernetes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    inner: Inner,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Inner {
    /// `labels.Nothing()`.
    Nothing,
    /// AND of the requirements, sorted by key; empty is `labels.Everything()`.
    Requirements(Box<[Requirement]>),
}

impl Selector {
    /// The selector that matches every label set (what `{}` compiles to).
    pub fn everything() -> Self {
        Selector { inner: Inner::Requirements(Box::new([])) }
    }

    /// The selector that matches no label set (what a nil selector compiles to).
    pub fn nothing() -> Self {
        Selector { inner: Inner::Nothing }
    }

    /// Whether the labels satisfy every requirement (`Selector.Matches`).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_with(|key| labels.get(key).map(String::as_str))
    }

    /// [`matches`](Self::matches) for any label container: `lookup` returns the value of a label
    /// key, or `None` when the label is absent.
    pub fn matches_with<'a, F>(&self, mut lookup: F) -> bool
    where
        F: FnMut(&str) -> Option<&'a str>,
    {
        match &self.inner {
            Inner::Nothing => false,
            Inner::Requirements(reqs) => reqs.iter().all(|r| r.matches_value(lookup(&r.key))),
        }
    }

    /// Whether this selector places no restriction and matches everything (`Selector.Empty`).
    /// False for [`Selector::nothing`].
    pub fn is_empty(&self) -> bool {
        matches!(&self.inner, Inner::Requirements(reqs) if reqs.is_empty())
    }

    /// Whether this is the selector of a nil `LabelSelector`, which matches nothing
    /// (`labels.MatchesNothing`).
    pub fn matches_nothing(&self) -> bool {
        matches!(self.inner, Inner::Nothing)
    }

    /// The requirements, sorted by key, or `None` for [`Selector::nothing`]
    /// (`Selector.Requirements` with `selectable == false`).
    pub fn requirements(&self) -> Option<&[Requirement]> {
        match &self.inner {
            Inner::Nothing => None,
            Inner::Requirements(reqs) => Some(reqs),
        }
    }

    /// If the first requirement on `label` is `label=value` or `label in (value)`, that single
    /// value (`Selector.RequiresExactMatch`).
    pub fn requires_exact_match(&self, label: &str) -> Option<&str> {
        let req = self.requirements()?.iter().find(|r| r.key == label)?;
        match (req.operator, &*req.values) {
            (RequirementOperator::Equals | RequirementOperator::In, [value]) => Some(value),
            _ => None,
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, req) in self.requirements().unwrap_or(&[]).iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            fmt::Display::fmt(req, f)?;
        }
        Ok(())
    }
}

/// The operator of a compiled [`Requirement`]: the four [`SelectorOperator`]s plus `Equals`,
/// which `matchLabels` entries compile to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequirementOperator {
    /// `key=value`, from `matchLabels`; matches like `In` with one value.
    Equals,
    /// `key in (v1,v2)`.
    In,
    /// `key notin (v1,v2)`.
    NotIn,
    /// `key`.
    Exists,
    /// `!key`.
    DoesNotExist,
}

impl From<SelectorOperator> for RequirementOperator {
    fn from(op: SelectorOperator) -> Self {
        match op {
            SelectorOperator::In => RequirementOperator::In,
            SelectorOperator::NotIn => RequirementOperator::NotIn,
            SelectorOperator::Exists => RequirementOperator::Exists,
            SelectorOperator::DoesNotExist => RequirementOperator::DoesNotExist,
        }
    }
}

/// One validated requirement of a compiled [`Selector`] (`labels.Requirement`).
///
/// `Display` renders Kubernetes' `Requirement.String()`: `key=value`, `key in (a,b)`,
/// `key notin (a,b)`, `key` or `!key`, with values sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: RequirementOperator,
    /// Sorted (duplicates kept, as Kubernetes prints them).
    values: Box<[String]>,
}

/// Up to this many values are scanned linearly; longer sets are binary-searched.
const LINEAR_SCAN_MAX: usize = 8;

impl Requirement {
    /// `labels.NewRequirement` restricted to the operators a `LabelSelector` can produce.
    fn new(key: &str, operator: RequirementOperator, values: &[String]) -> Result<Self, SelectorError> {
        let mut errors = Vec::new();
        if let Err(reasons) = validate_label_key(key) {
            errors.push(SelectorError::InvalidKey { key: key.to_owned(), reasons });
        }
        match operator {
            RequirementOperator::In | RequirementOperator::NotIn if values.is_empty() => {
                errors.push(SelectorError::MissingValues {
                    key: key.to_owned(),
                    operator: if operator == RequirementOperator::In {
                        SelectorOperator::In
                    } else {
                        SelectorOperator::NotIn
                    },
                });
            }
            RequirementOperator::Exists | RequirementOperator::DoesNotExist if !values.is_empty() => {
                errors.push(SelectorError::UnexpectedValues {
                    key: key.to_owned(),
                    operator: if operator == RequirementOperator::Exists {
                        SelectorOperator::Exists
                    } else {
                        SelectorOperator::DoesNotExist
                    },
                    values: values.to_vec(),
                });
            }
            // `Equals` only comes from a `matchLabels` entry, which has exactly one value.
            _ => {}
        }
        for (index, value) in values.iter().enumerate() {
            if let Err(reasons) = validate_label_value(value) {
                errors.push(SelectorError::InvalidValue { key: key.to_owned(), index, value: value.clone(), reasons });
            }
        }
        if let Some(error) = SelectorError::aggregate(errors) {
            return Err(error);
        }
        let mut values = values.to_vec();
        values.sort_unstable();
        Ok(Requirement { key: key.to_owned(), operator, values: values.into_boxed_slice() })
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> RequirementOperator {
        self.operator
    }

    /// The values, sorted (empty for `Exists` and `DoesNotExist`).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether a label set in which this requirement's key has `value` (`None`: the label is
    /// absent) satisfies the requirement.
    pub fn matches_value(&self, value: Option<&str>) -> bool {
        match self.operator {
            RequirementOperator::Equals | RequirementOperator::In => value.is_some_and(|v| self.has_value(v)),
            RequirementOperator::NotIn => value.is_none_or(|v| !self.has_value(v)),
            RequirementOperator::Exists => value.is_some(),
            RequirementOperator::DoesNotExist => value.is_none(),
        }
    }

    fn has_value(&self, value: &str) -> bool {
        if self.values.len() <= LINEAR_SCAN_MAX {
            self.values.iter().any(|v| v == value)
        } else {
            self.values.binary_search_by(|v| v.as_str().cmp(value)).is_ok()
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == RequirementOperator::DoesNotExist {
            f.write_char('!')?;
        }
        f.write_str(&self.key)?;
        let (open, close) = match self.operator {
            RequirementOperator::Equals => ("=", ""),
            RequirementOperator::In => (" in (", ")"),
            RequirementOperator::NotIn => (" notin (", ")"),
            RequirementOperator::Exists | RequirementOperator::DoesNotExist => return Ok(()),
        };
        f.write_str(open)?;
        for (i, value) in self.values.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            f.write_str(value)?;
        }
        f.write_str(close)
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a [`LabelSelector`] is invalid.
///
/// `Display` is byte-for-byte the `error.Error()` string of `metav1.LabelSelectorAsSelector`:
/// an unknown operator is reported alone; otherwise the `field.Error`s `labels.NewRequirement`
/// collects for the first invalid requirement are reported — one as is, several as
/// [`SelectorError::Aggregate`] (`[first, second]`). Bad values are quoted as Go's `%q` does and
/// value lists rendered as Go's `encoding/json` does.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectorError {
    /// The operator of a `matchExpressions` entry is not exactly `In`, `NotIn`, `Exists` or
    /// `DoesNotExist`: `"Foo" is not a valid label selector operator`.
    #[error("{} is not a valid label selector operator", GoQuoted(.operator))]
    UnknownOperator {
        /// The operator as written.
        operator: String,
    },

    /// `In` or `NotIn` with no values:
    /// `values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty`.
    #[error("values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty")]
    MissingValues {
        /// The requirement's key.
        key: String,
        /// `In` or `NotIn`.
        operator: SelectorOperator,
    },

    /// `Exists` or `DoesNotExist` with values:
    /// `values: Invalid value: ["a"]: values set must be empty for exists and does not exist`.
    #[error(
        "values: Invalid value: {}: values set must be empty for exists and does not exist",
        GoJsonStrings(.values)
    )]
    UnexpectedValues {
        /// The requirement's key.
        key: String,
        /// `Exists` or `DoesNotExist`.
        operator: SelectorOperator,
        /// The values given.
        values: Vec<String>,
    },

    /// The key is not a qualified name: `key: Invalid value: "<key>": <reasons joined by "; ">`.
    #[error("key: Invalid value: {}: {}", GoQuoted(.key), Joined(.reasons, "; "))]
    InvalidKey {
        /// The key.
        key: String,
        /// The messages of `validate_label_key` (Kubernetes' `IsQualifiedName`).
        reasons: Vec<String>,
    },

    /// A value is not a valid label value:
    /// `values[<index>][<key>]: Invalid value: "<value>": <reasons joined by "; ">`.
    /// A `matchLabels` entry is one requirement with its value at index 0.
    #[error(
        "values[{index}][{key}]: Invalid value: {}: {}",
        GoQuoted(.value),
        Joined(.reasons, "; ")
    )]
    InvalidValue {
        /// The requirement's key.
        key: String,
        /// The position of the value in `values`.
        index: usize,
        /// The value.
        value: String,
        /// The messages of `validate_label_value` (Kubernetes' `IsValidLabelValue`).
        reasons: Vec<String>,
    },

    /// Several problems with the same requirement, in Kubernetes' order (key, value count, each
    /// value), displayed as Kubernetes' `utilerrors.Aggregate`: `[first, second, …]`.
    #[error("{}", AggregateDisplay(.0))]
    Aggregate(Vec<SelectorError>),
}

impl SelectorError {
    /// The individual problems: the members of an [`Aggregate`](Self::Aggregate), or `self`.
    pub fn causes(&self) -> &[SelectorError] {
        match self {
            SelectorError::Aggregate(errors) => errors,
            other => std::slice::from_ref(other),
        }
    }

    /// `field.ErrorList.ToAggregate`: drops errors whose message repeats an earlier one; `None`
    /// for no errors, the error itself for one.
    fn aggregate(mut errors: Vec<SelectorError>) -> Option<SelectorError> {
        if errors.len() > 1 {
            let mut seen: Vec<String> = Vec::with_capacity(errors.len());
            errors.retain(|e| {
                let message = e.to_string();
                if seen.contains(&message) {
                    false
                } else {
                    seen.push(message);
                    true
                }
            });
        }
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(SelectorError::Aggregate(errors)),
        }
    }
}

/// `utilerrors.aggregate.Error()`.
struct AggregateDisplay<'a>(&'a [SelectorError]);

impl fmt::Display for AggregateDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn visit(errors: &[SelectorError], out: &mut Vec<String>) {
            for error in errors {
                match error {
                    SelectorError::Aggregate(inner) => visit(inner, out),
                    leaf => {
                        let message = leaf.to_string();
                        if !out.contains(&message) {
                            out.push(message);
                        }
                    }
                }
            }
        }
        match self.0 {
            [] => Ok(()),
            [only] => fmt::Display::fmt(only, f),
            errors => {
                let mut messages = Vec::new();
                visit(errors, &mut messages);
                if messages.len() == 1 { f.write_str(&messages[0]) } else { write!(f, "[{}]", Joined(&messages, ", ")) }
            }
        }
    }
}

/// Strings joined by a separator.
struct Joined<'a>(&'a [String], &'static str);

impl fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(self.1)?;
            }
            f.write_str(s)?;
        }
        Ok(())
    }
}

/// A string as Go's `strconv.Quote` (the `%q` verb) writes it.
struct GoQuoted<'a>(&'a str);

impl fmt::Display for GoQuoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                ' '..='~' => f.write_char(c)?,
                '\x07' => f.write_str("\\a")?,
                '\x08' => f.write_str("\\b")?,
                '\x0c' => f.write_str("\\f")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '\x0b' => f.write_str("\\v")?,
                '\0'..='\x1f' | '\x7f' => write!(f, "\\x{:02x}", u32::from(c))?,
                c if go_is_print(c) => f.write_char(c)?,
                c if u32::from(c) < 0x10000 => write!(f, "\\u{:04x}", u32::from(c))?,
                c => write!(f, "\\U{:08x}", u32::from(c))?,
            }
        }
        f.write_char('"')
    }
}

/// Go's `strconv.IsPrint` for a non-ASCII character: letters, marks, numbers, punctuation and
/// symbols are printable; separators, controls, format, private-use and unassigned code points
/// are not. Rust's `Debug` escaping draws the same line (from its own Unicode version), so a
/// character is printable when `str::escape_debug` leaves it alone after a leading character
/// (which keeps combining marks from being escaped as string-initial).
fn go_is_print(c: char) -> bool {
    let mut buf = [0u8; 5];
    buf[0] = b'x';
    let len = 1 + c.encode_utf8(&mut buf[1..]).len();
    std::str::from_utf8(&buf[..len]).is_ok_and(|s| s.escape_debug().nth(1) == Some(c))
}

/// A list of strings as Go's `json.Marshal` writes a `[]string` (HTML-safe escaping).
struct GoJsonStrings<'a>(&'a [String]);

impl fmt::Display for GoJsonStrings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('[')?;
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            f.write_char('"')?;
            for c in s.chars() {
                match c {
                    '"' => f.write_str("\\\"")?,
                    '\\' => f.write_str("\\\\")?,
                    '\x08' => f.write_str("\\b")?,
                    '\x0c' => f.write_str("\\f")?,
                    '\n' => f.write_str("\\n")?,
                    '\r' => f.write_str("\\r")?,
                    '\t' => f.write_str("\\t")?,
                    '\0'..='\x1f' | '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                        write!(f, "\\u{:04x}", u32::from(c))?;
                    }
                    c => f.write_char(c)?,
                }
            }
            f.write_char('"')?;
        }
        f.write_char(']')
    }
}

// ---------------------------------------------------------------------------------------------
// Validation helpers (k8s.io/apimachinery/pkg/util/validation)
// ---------------------------------------------------------------------------------------------

const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', \
     and must start and end with an alphanumeric character";
const QUALIFIED_NAME_MAX_LENGTH: usize = 63;
const QUALIFIED_NAME_EXAMPLES: &[&str] = &["MyName", "my.name", "123-abc"];

const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR_MSG: &str = "a valid label must be an empty string or consist of \
     alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric \
     character";
const LABEL_VALUE_MAX_LENGTH: usize = 63;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR_MSG: &str = "a lowercase RFC 1123 label must consist of lower case \
     alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_LABEL_MAX_LENGTH: usize = 63;

const DNS1123_SUBDOMAIN_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower \
     case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric \
     character";
const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;

/// `validation.MaxLenError`.
fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// `validation.EmptyError`.
const EMPTY_ERROR: &str = "must be non-empty";

/// `validation.RegexError`. Note Kubernetes' doubled space: `(e.g. 'a',  or 'b', regex …)`.
fn regex_error(msg: &str, regex: &str, examples: &[&str]) -> String {
    let mut out = String::from(msg);
    if examples.is_empty() {
        let _ = write!(out, " (regex used for validation is '{regex}')");
        return out;
    }
    out.push_str(" (e.g. ");
    for (i, example) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        let _ = write!(out, "'{example}', ");
    }
    let _ = write!(out, "regex used for validation is '{regex}')");
    out
}

/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`.
fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, without the length limit.
fn matches_dns1123_label(s: &str) -> bool {
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => alnum(first) && alnum(last) && b.iter().all(|c| alnum(c) || *c == b'-'),
        _ => false,
    }
}

/// `^<dns1123 label>(\.<dns1123 label>)*$`, without the length limit.
fn matches_dns1123_subdomain(s: &str) -> bool {
    s.split('.').all(matches_dns1123_label)
}

/// Validates a label key (`validation.IsQualifiedName`): an optional DNS-1123 subdomain prefix
/// (at most 253 characters) and `/`, then a name of at most 63 characters of alphanumerics,
/// `-`, `_` and `.` that starts and ends with an alphanumeric.
///
/// On failure returns every Kubernetes message, in Kubernetes' order (a selector joins them
/// with `"; "`), e.g. `name part must be no more than 63 characters`.
pub fn validate_label_key(key: &str) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let name = match key.split_once('/') {
        None => key,
        Some((prefix, name)) if !name.contains('/') => {
            if prefix.is_empty() {
                errors.push(format!("prefix part {EMPTY_ERROR}"));
            } else if let Err(messages) = validate_dns1123_subdomain(prefix) {
                errors.extend(messages.into_iter().map(|m| format!("prefix part {m}")));
            }
            name
        }
        Some(_) => {
            return Err(vec![format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. \
                 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_ERR_MSG, QUALIFIED_NAME_FMT, QUALIFIED_NAME_EXAMPLES)
            )]);
        }
    };
    if name.is_empty() {
        errors.push(format!("name part {EMPTY_ERROR}"));
    } else if name.len() > QUALIFIED_NAME_MAX_LENGTH {
        errors.push(format!("name part {}", max_len_error(QUALIFIED_NAME_MAX_LENGTH)));
    }
    if !is_qualified_name_part(name) {
        errors.push(format!(
            "name part {}",
            regex_error(QUALIFIED_NAME_ERR_MSG, QUALIFIED_NAME_FMT, QUALIFIED_NAME_EXAMPLES)
        ));
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Validates a label value (`validation.IsValidLabelValue`): empty, or at most 63 characters of
/// alphanumerics, `-`, `_` and `.` that start and end with an alphanumeric.
///
/// On failure returns every Kubernetes message, in Kubernetes' order.
pub fn validate_label_value(value: &str) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errors.push(max_len_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !value.is_empty() && !is_qualified_name_part(value) {
        errors.push(regex_error(LABEL_VALUE_ERR_MSG, LABEL_VALUE_FMT, &["MyValue", "my_value", "12345"]));
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Validates a DNS-1123 label (`validation.IsDNS1123Label`): at most 63 characters of lowercase
/// alphanumerics and `-`, starting and ending with an alphanumeric.
///
/// On failure returns every Kubernetes message, in Kubernetes' order.
pub fn validate_dns1123_label(value: &str) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errors.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1123_label(value) {
        if matches_dns1123_subdomain(value) {
            errors.push("must not contain dots".to_owned());
        } else {
            errors.push(regex_error(DNS1123_LABEL_ERR_MSG, DNS1123_LABEL_FMT, &["my-name", "123-abc"]));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Validates a DNS-1123 subdomain (`validation.IsDNS1123Subdomain`): at most 253 characters of
/// dot-separated DNS-1123 labels.
///
/// On failure returns every Kubernetes message, in Kubernetes' order.
pub fn validate_dns1123_subdomain(value: &str) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errors.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !matches_dns1123_subdomain(value) {
        errors.push(regex_error(DNS1123_SUBDOMAIN_ERR_MSG, DNS1123_SUBDOMAIN_FMT, &["example.com"]));
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Whether `s` is a DNS-1123 label: 1–63 characters of lowercase alphanumerics and `-`,
/// starting and ending with an alphanumeric (`my-name`, `123-abc`).
pub fn is_dns1123_label(s: &str) -> bool {
    // Allocates nothing for a valid label.
    validate_dns1123_label(s).is_ok()
}

/// Whether `s` is a DNS-1123 subdomain: at most 253 characters of dot-separated DNS-1123
/// labels (`example.com`).
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= DNS1123_SUBDOMAIN_MAX_LENGTH && matches_dns1123_subdomain(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    // The messages below are spelled out literally (not built with this module's helpers) from
    // k8s.io/apimachinery v0.34.1; note Kubernetes' doubled space in "'MyName',  or".
    const NAME_REGEX: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const MULTI_SLASH: &str = "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
    const PREFIX_REGEX: &str = r"prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const VALUE_REGEX: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    const SUBDOMAIN_REGEX: &str = r"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const DNS_LABEL_REGEX: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const MISSING_VALUES: &str = "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty";

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn expr(key: &str, operator: &str, values: Option<&[&str]>) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.to_owned(),
            operator: operator.to_owned(),
            values: values.map(|vs| vs.iter().map(|v| (*v).to_owned()).collect()),
            extra: serde_json::Map::new(),
        }
    }

    fn with_exprs(exprs: Vec<LabelSelectorRequirement>) -> LabelSelector {
        LabelSelector { match_expressions: Some(exprs), ..LabelSelector::default() }
    }

    fn with_labels(pairs: &[(&str, &str)]) -> LabelSelector {
        LabelSelector { match_labels: Some(labels(pairs)), ..LabelSelector::default() }
    }

    fn compile_err(selector: &LabelSelector) -> SelectorError {
        match compile(Some(selector)) {
            Ok(s) => panic!("expected an error, compiled to {s:?}"),
            Err(e) => e,
        }
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    // ----- matching -----

    #[test]
    fn operators_match_like_kubernetes() {
        type Case<'a> = (&'a str, &'a str, Option<&'a [&'a str]>, &'a [(&'a str, &'a str)], bool);
        let cases: &[Case<'_>] = &[
            ("In: value in set", "In", Some(&["a", "b"]), &[("k", "b")], true),
            ("In: value not in set", "In", Some(&["a", "b"]), &[("k", "c")], false),
            ("In: key missing", "In", Some(&["a", "b"]), &[("other", "a")], false),
            ("In: empty value allowed", "In", Some(&[""]), &[("k", "")], true),
            ("In: case-sensitive", "In", Some(&["a"]), &[("k", "A")], false),
            ("NotIn: value in set", "NotIn", Some(&["a", "b"]), &[("k", "a")], false),
            ("NotIn: value not in set", "NotIn", Some(&["a", "b"]), &[("k", "c")], true),
            ("NotIn: key missing", "NotIn", Some(&["a", "b"]), &[], true),
            ("Exists: present", "Exists", None, &[("k", "")], true),
            ("Exists: present, empty values list", "Exists", Some(&[]), &[("k", "v")], true),
            ("Exists: missing", "Exists", None, &[("K", "v")], false),
            ("DoesNotExist: missing", "DoesNotExist", None, &[("other", "v")], true),
            ("DoesNotExist: present", "DoesNotExist", None, &[("k", "v")], false),
        ];
        for (name, op, values, lbls, want) in cases {
            let selector =
                compile(Some(&with_exprs(vec![expr("k", op, *values)]))).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(selector.matches(&labels(lbls)), *want, "{name}");
        }
    }

    #[test]
    fn match_labels_are_equality_requirements() {
        let selector = compile(Some(&with_labels(&[("env", "canary")]))).unwrap();
        assert!(selector.matches(&labels(&[("env", "canary")])));
        assert!(selector.matches(&labels(&[("env", "canary"), ("region", "west")])));
        assert!(!selector.matches(&labels(&[("env", "prod")])));
        assert!(!selector.matches(&labels(&[("region", "west")])));
        assert!(!selector.matches(&BTreeMap::new()));

        let empty_value = compile(Some(&with_labels(&[("env", "")]))).unwrap();
        assert!(empty_value.matches(&labels(&[("env", "")])));
        assert!(!empty_value.matches(&BTreeMap::new()));
    }

    #[test]
    fn large_value_sets_use_binary_search_correctly() {
        let values: Vec<String> = (0..20).rev().map(|i| format!("v{i:02}")).collect();
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        for op in ["In", "NotIn"] {
            let selector = compile(Some(&with_exprs(vec![expr("k", op, Some(&refs))]))).unwrap();
            let is_in = op == "In";
            for v in &values {
                assert_eq!(selector.matches(&labels(&[("k", v)])), is_in, "{op} {v}");
            }
            for v in ["v20", "v0", "", "v19 "] {
                assert_eq!(selector.matches(&labels(&[("k", v)])), !is_in, "{op} {v}");
            }
        }
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let selector = LabelSelector {
            match_labels: Some(labels(&[("env", "canary"), ("tier", "web")])),
            match_expressions: Some(vec![
                expr("order", "In", Some(&["1", "2"])),
                expr("region", "NotIn", Some(&["east"])),
                expr("gpu", "Exists", None),
                expr("deprecated", "DoesNotExist", None),
            ]),
            extra: serde_json::Map::new(),
        };
        let selector = compile(Some(&selector)).unwrap();
        let good = [("env", "canary"), ("tier", "web"), ("order", "2"), ("gpu", "")];
        assert!(selector.matches(&labels(&good)));
        assert!(selector.matches(&labels(&[good.as_slice(), &[("region", "west")]].concat())));
        // Each requirement failing on its own makes the whole selector fail.
        let breakers: &[&[(&str, &str)]] = &[
            &[("env", "prod"), ("tier", "web"), ("order", "2"), ("gpu", "")],
            &[("tier", "web"), ("order", "2"), ("gpu", "")],
            &[("env", "canary"), ("tier", "web"), ("order", "3"), ("gpu", "")],
            &[("env", "canary"), ("tier", "web"), ("order", "2"), ("gpu", ""), ("region", "east")],
            &[("env", "canary"), ("tier", "web"), ("order", "2")],
            &[("env", "canary"), ("tier", "web"), ("order", "2"), ("gpu", ""), ("deprecated", "")],
        ];
        for lbls in breakers {
            assert!(!selector.matches(&labels(lbls)), "{lbls:?}");
        }
    }

    #[test]
    fn nil_selects_nothing_and_empty_selects_everything() {
        let any = labels(&[("env", "canary")]);
        let none = BTreeMap::new();

        let nothing = compile(None).unwrap();
        assert!(!nothing.matches(&any));
        assert!(!nothing.matches(&none));
        assert!(nothing.matches_nothing());
        assert!(!nothing.is_empty());
        assert_eq!(nothing.requirements(), None);
        assert_eq!(nothing, Selector::nothing());
        assert_eq!(nothing.to_string(), "");

        let empties = [
            LabelSelector::default(),
            LabelSelector { match_labels: Some(BTreeMap::new()), ..LabelSelector::default() },
            LabelSelector { match_expressions: Some(vec![]), ..LabelSelector::default() },
            LabelSelector {
                match_labels: Some(BTreeMap::new()),
                match_expressions: Some(vec![]),
                extra: serde_json::Map::from_iter([("x".to_owned(), json!(1))]),
            },
        ];
        for empty in &empties {
            assert!(empty.is_empty());
            let everything = compile(Some(empty)).unwrap();
            assert_eq!(everything, empty.to_selector().unwrap());
            assert!(everything.matches(&any));
            assert!(everything.matches(&none));
            assert!(everything.is_empty());
            assert!(!everything.matches_nothing());
            assert_eq!(everything.requirements(), Some(&[][..]));
            assert_eq!(everything, Selector::everything());
            assert_eq!(everything.to_string(), "");
        }
    }

    #[test]
    fn matches_with_accepts_any_label_container() {
        let selector = compile(Some(&with_exprs(vec![expr("k", "In", Some(&["a"]))]))).unwrap();
        let pairs = [("k", "a")];
        assert!(selector.matches_with(|key| pairs.iter().find(|(k, _)| *k == key).map(|p| p.1)));
        assert!(!selector.matches_with(|_| None));
        assert!(!Selector::nothing().matches_with(|_| Some("x")));
        assert!(Selector::everything().matches_with(|_| None));
    }

    // ----- Display and introspection -----

    #[test]
    fn display_matches_kubernetes_string() {
        let selector = LabelSelector {
            match_labels: Some(labels(&[("environment", "canary")])),
            match_expressions: Some(vec![expr("order", "In", Some(&["2", "1"]))]),
            extra: serde_json::Map::new(),
        };
        assert_eq!(compile(Some(&selector)).unwrap().to_string(), "environment=canary,order in (1,2)");

        let selector = with_exprs(vec![
            expr("z", "Exists", None),
            expr("m", "NotIn", Some(&["y", "x", "x"])),
            expr("a", "DoesNotExist", None),
            expr("b", "In", Some(&["only"])),
        ]);
        assert_eq!(compile(Some(&selector)).unwrap().to_string(), "!a,b in (only),m notin (x,x,y),z");

        // Requirements on the same key keep their input order.
        let selector = LabelSelector {
            match_labels: Some(labels(&[("k", "v")])),
            match_expressions: Some(vec![expr("k", "Exists", None), expr("a", "Exists", None)]),
            extra: serde_json::Map::new(),
        };
        assert_eq!(compile(Some(&selector)).unwrap().to_string(), "a,k=v,k");
    }

    #[test]
    fn requirements_are_sorted_and_introspectable() {
        let selector = LabelSelector {
            match_labels: Some(labels(&[("zone", "1")])),
            match_expressions: Some(vec![
                expr("app", "In", Some(&["web", "api"])),
                expr("tier", "In", Some(&["gold"])),
            ]),
            extra: serde_json::Map::new(),
        };
        let selector = compile(Some(&selector)).unwrap();
        let reqs = selector.requirements().unwrap();
        let keys: Vec<&str> = reqs.iter().map(Requirement::key).collect();
        assert_eq!(keys, ["app", "tier", "zone"]);
        assert_eq!(reqs[0].operator(), RequirementOperator::In);
        assert_eq!(reqs[0].values(), ["api", "web"]);
        assert_eq!(reqs[2].operator(), RequirementOperator::Equals);
        assert_eq!(reqs[2].to_string(), "zone=1");
        assert!(reqs[0].matches_value(Some("api")));
        assert!(!reqs[0].matches_value(None));

        assert_eq!(selector.requires_exact_match("zone"), Some("1"));
        assert_eq!(selector.requires_exact_match("tier"), Some("gold"));
        assert_eq!(selector.requires_exact_match("app"), None);
        assert_eq!(selector.requires_exact_match("missing"), None);
        assert_eq!(Selector::nothing().requires_exact_match("zone"), None);
    }

    #[test]
    fn selector_operator_round_trips() {
        for op in
            [SelectorOperator::In, SelectorOperator::NotIn, SelectorOperator::Exists, SelectorOperator::DoesNotExist]
        {
            assert_eq!(op.as_str().parse::<SelectorOperator>(), Ok(op));
            assert_eq!(op.to_string(), op.as_str());
            let req = LabelSelectorRequirement::new("k", op, ["v"]);
            assert_eq!(req.operator(), Ok(op));
        }
        assert_eq!(LabelSelectorRequirement::new("k", SelectorOperator::Exists, [""; 0]).values, None);
        for bad in ["in", "IN", "notin", "Equals", "=", "", " In"] {
            assert_eq!(
                bad.parse::<SelectorOperator>(),
                Err(SelectorError::UnknownOperator { operator: bad.to_owned() })
            );
        }
    }

    // ----- errors -----

    #[test]
    fn unknown_operator() {
        for (op, want) in [
            ("Foo", r#""Foo" is not a valid label selector operator"#),
            ("in", r#""in" is not a valid label selector operator"#),
            ("", r#""" is not a valid label selector operator"#),
            ("Gt", r#""Gt" is not a valid label selector operator"#),
            ("a\"b\\c\n", r#""a\"b\\c\n" is not a valid label selector operator"#),
        ] {
            let err = compile_err(&with_exprs(vec![expr("k", op, Some(&["v"]))]));
            assert_eq!(err, SelectorError::UnknownOperator { operator: op.to_owned() });
            assert_eq!(err.to_string(), want);
        }
        // The operator is checked before the key and values, so only it is reported.
        let err = compile_err(&with_exprs(vec![expr("bad key", "Foo", Some(&["bad value"]))]));
        assert_eq!(err.to_string(), r#""Foo" is not a valid label selector operator"#);
    }

    #[test]
    fn in_and_not_in_need_values() {
        for (op, sop) in [("In", SelectorOperator::In), ("NotIn", SelectorOperator::NotIn)] {
            for values in [None, Some(&[][..])] {
                let err = compile_err(&with_exprs(vec![expr("k", op, values)]));
                assert_eq!(err, SelectorError::MissingValues { key: "k".to_owned(), operator: sop });
                assert_eq!(err.to_string(), MISSING_VALUES);
            }
        }
    }

    #[test]
    fn exists_and_does_not_exist_forbid_values() {
        for (op, sop) in [("Exists", SelectorOperator::Exists), ("DoesNotExist", SelectorOperator::DoesNotExist)] {
            let err = compile_err(&with_exprs(vec![expr("k", op, Some(&["a"]))]));
            assert_eq!(
                err,
                SelectorError::UnexpectedValues { key: "k".to_owned(), operator: sop, values: strings(&["a"]) }
            );
            assert_eq!(
                err.to_string(),
                r#"values: Invalid value: ["a"]: values set must be empty for exists and does not exist"#
            );
            let err = compile_err(&with_exprs(vec![expr("k", op, Some(&["b", "a", ""]))]));
            assert_eq!(
                err.to_string(),
                r#"values: Invalid value: ["b","a",""]: values set must be empty for exists and does not exist"#
            );
        }
    }

    #[test]
    fn invalid_keys() {
        let long_name = "a".repeat(64);
        let long_prefix = format!("{}/name", "a".repeat(254));
        let long_bad_prefix = format!("{}-/name", "a".repeat(253));
        let max_ok = format!("{}/{}", "a".repeat(253), "b".repeat(63));
        let cases: Vec<(&str, Vec<String>)> = vec![
            ("", vec!["name part must be non-empty".into(), NAME_REGEX.into()]),
            ("a/b/c", vec![MULTI_SLASH.into()]),
            ("//", vec![MULTI_SLASH.into()]),
            ("/name", vec!["prefix part must be non-empty".into()]),
            (
                "/",
                vec!["prefix part must be non-empty".into(), "name part must be non-empty".into(), NAME_REGEX.into()],
            ),
            ("Example.com/name", vec![PREFIX_REGEX.into()]),
            ("example..com/name", vec![PREFIX_REGEX.into()]),
            ("example.com_/name", vec![PREFIX_REGEX.into()]),
            (&long_prefix, vec!["prefix part must be no more than 253 characters".into()]),
            (&long_bad_prefix, vec!["prefix part must be no more than 253 characters".into(), PREFIX_REGEX.into()]),
            ("example.com/", vec!["name part must be non-empty".into(), NAME_REGEX.into()]),
            (&long_name, vec!["name part must be no more than 63 characters".into()]),
            ("-bad", vec![NAME_REGEX.into()]),
            ("bad.", vec![NAME_REGEX.into()]),
            ("bad key", vec![NAME_REGEX.into()]),
            ("naïve", vec![NAME_REGEX.into()]),
        ];
        for (key, reasons) in cases {
            assert_eq!(validate_label_key(key), Err(reasons.clone()), "{key}");
            let err = compile_err(&with_exprs(vec![expr(key, "Exists", None)]));
            let want = format!("key: Invalid value: \"{key}\": {}", reasons.join("; "));
            assert_eq!(err, SelectorError::InvalidKey { key: key.to_owned(), reasons }, "{key}");
            assert_eq!(err.to_string(), want, "{key}");
        }
        for key in ["a", "A", "a.b_c-D9", "example.com/MyName", "a-b.c/x", &"a".repeat(63), &max_ok] {
            assert_eq!(validate_label_key(key), Ok(()), "{key}");
        }
    }

    #[test]
    fn invalid_values() {
        let long = "a".repeat(64);
        let long_bad = format!("{}-", "a".repeat(63));
        let cases: Vec<(&str, Vec<String>)> = vec![
            (&long, vec!["must be no more than 63 characters".into()]),
            ("a b", vec![VALUE_REGEX.into()]),
            ("-a", vec![VALUE_REGEX.into()]),
            ("a/b", vec![VALUE_REGEX.into()]),
            ("bar=", vec![VALUE_REGEX.into()]),
            (&long_bad, vec!["must be no more than 63 characters".into(), VALUE_REGEX.into()]),
        ];
        for (value, reasons) in cases {
            assert_eq!(validate_label_value(value), Err(reasons.clone()), "{value}");
            let err = compile_err(&with_exprs(vec![expr("env", "In", Some(&["ok", value]))]));
            let want = format!("values[1][env]: Invalid value: \"{value}\": {}", reasons.join("; "));
            assert_eq!(
                err,
                SelectorError::InvalidValue { key: "env".to_owned(), index: 1, value: value.to_owned(), reasons },
                "{value}"
            );
            assert_eq!(err.to_string(), want, "{value}");
        }
        for value in ["", "a", "MyValue", "my_value", "12345", "a.b-c_d", &"a".repeat(63)] {
            assert_eq!(validate_label_value(value), Ok(()), "{value}");
        }
        // A Kubernetes-produced message, verbatim.
        let err = compile_err(&with_exprs(vec![expr("foo", "NotIn", Some(&["-rego"]))]));
        assert_eq!(
            err.to_string(),
            "values[0][foo]: Invalid value: \"-rego\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        );
    }

    #[test]
    fn invalid_match_labels() {
        let err = compile_err(&with_labels(&[("env", "bad value")]));
        assert_eq!(
            err,
            SelectorError::InvalidValue {
                key: "env".to_owned(),
                index: 0,
                value: "bad value".to_owned(),
                reasons: vec![VALUE_REGEX.to_owned()],
            }
        );
        assert_eq!(err.to_string(), format!("values[0][env]: Invalid value: \"bad value\": {VALUE_REGEX}"));

        let err = compile_err(&with_labels(&[("bad key", "v")]));
        assert_eq!(err.to_string(), format!("key: Invalid value: \"bad key\": {NAME_REGEX}"));

        // Both the key and the value of one entry are reported together.
        let err = compile_err(&with_labels(&[("bad key", "bad value")]));
        assert_eq!(err.causes().len(), 2);
        assert_eq!(
            err.to_string(),
            format!(
                "[key: Invalid value: \"bad key\": {NAME_REGEX}, values[0][bad key]: Invalid value: \"bad value\": {VALUE_REGEX}]"
            )
        );
    }

    #[test]
    fn several_problems_in_one_requirement_aggregate() {
        let err = compile_err(&with_exprs(vec![expr("bad key", "Exists", Some(&["x y", "ok"]))]));
        let SelectorError::Aggregate(errors) = &err else { panic!("{err:?}") };
        assert!(matches!(errors[0], SelectorError::InvalidKey { .. }));
        assert!(matches!(errors[1], SelectorError::UnexpectedValues { .. }));
        assert!(matches!(errors[2], SelectorError::InvalidValue { index: 0, .. }));
        assert_eq!(errors.len(), 3);
        assert_eq!(
            err.to_string(),
            format!(
                "[key: Invalid value: \"bad key\": {NAME_REGEX}, values: Invalid value: [\"x y\",\"ok\"]: values set must be empty for exists and does not exist, values[0][bad key]: Invalid value: \"x y\": {VALUE_REGEX}]"
            )
        );

        let err = compile_err(&with_exprs(vec![expr("", "In", None)]));
        assert_eq!(
            err,
            SelectorError::Aggregate(vec![
                SelectorError::InvalidKey {
                    key: String::new(),
                    reasons: vec!["name part must be non-empty".into(), NAME_REGEX.into()],
                },
                SelectorError::MissingValues { key: String::new(), operator: SelectorOperator::In },
            ])
        );
        assert_eq!(
            err.to_string(),
            format!("[key: Invalid value: \"\": name part must be non-empty; {NAME_REGEX}, {MISSING_VALUES}]")
        );
    }

    #[test]
    fn first_invalid_requirement_wins() {
        // matchLabels (in key order) before matchExpressions (in order).
        let selector = LabelSelector {
            match_labels: Some(labels(&[("b", "bad b"), ("a", "bad a")])),
            match_expressions: Some(vec![expr("k", "Foo", None)]),
            extra: serde_json::Map::new(),
        };
        assert_eq!(
            compile_err(&selector).to_string(),
            format!("values[0][a]: Invalid value: \"bad a\": {VALUE_REGEX}")
        );
        let selector = with_exprs(vec![expr("ok", "Exists", None), expr("k", "In", None), expr("k", "Foo", None)]);
        assert_eq!(compile_err(&selector).to_string(), MISSING_VALUES);
    }

    #[test]
    fn bad_values_are_quoted_like_go() {
        let key = "é\t\u{a0}\u{1F600}\u{e0001}\x7f\0\u{301}\\\"";
        let err = compile_err(&with_exprs(vec![expr(key, "Exists", None)]));
        assert_eq!(
            err.to_string(),
            format!("key: Invalid value: \"é\\t\\u00a0\u{1F600}\\U000e0001\\x7f\\x00\u{301}\\\\\\\"\": {NAME_REGEX}")
        );
        let err = compile_err(&with_exprs(vec![expr(
            "k",
            "Exists",
            Some(&["<a&b>", "q\"\\", "\u{8}\u{c}\n\r\t\u{1}", "\u{2028}\u{2029}", "é\x7f"]),
        )]));
        let SelectorError::Aggregate(errors) = &err else { panic!("{err:?}") };
        assert_eq!(
            errors[0].to_string(),
            "values: Invalid value: [\"\\u003ca\\u0026b\\u003e\",\"q\\\"\\\\\",\"\\b\\f\\n\\r\\t\\u0001\",\"\\u2028\\u2029\",\"é\x7f\"]: values set must be empty for exists and does not exist"
        );
        assert_eq!(
            errors[3].to_string(),
            format!("values[2][k]: Invalid value: \"\\b\\f\\n\\r\\t\\x01\": {VALUE_REGEX}")
        );
    }

    #[test]
    fn go_printability() {
        for c in ['é', '日', '\u{301}', '\u{1F600}', '\u{fffd}', '\u{ff9e}'] {
            assert!(go_is_print(c), "{c:?}");
        }
        for c in [
            '\u{a0}',
            '\u{ad}',
            '\u{200b}',
            '\u{200c}',
            '\u{2028}',
            '\u{3000}',
            '\u{e000}',
            '\u{feff}',
            '\u{e0061}',
            '\u{85}',
        ] {
            assert!(!go_is_print(c), "{c:?}");
        }
        assert_eq!(GoQuoted("\u{85}\u{10ffff}").to_string(), "\"\\u0085\\U0010ffff\"");
    }

    #[test]
    fn aggregate_display_follows_kubernetes() {
        let a = SelectorError::UnknownOperator { operator: "A".into() };
        let b = SelectorError::UnknownOperator { operator: "B".into() };
        assert_eq!(SelectorError::Aggregate(vec![]).to_string(), "");
        assert_eq!(SelectorError::Aggregate(vec![a.clone()]).to_string(), a.to_string());
        assert_eq!(SelectorError::Aggregate(vec![a.clone(), a.clone()]).to_string(), a.to_string());
        assert_eq!(
            SelectorError::Aggregate(vec![a.clone(), SelectorError::Aggregate(vec![b.clone(), a.clone()])]).to_string(),
            format!("[{a}, {b}]")
        );
        assert_eq!(SelectorError::aggregate(vec![]), None);
        assert_eq!(SelectorError::aggregate(vec![a.clone(), a.clone()]), Some(a.clone()));
        assert_eq!(
            SelectorError::aggregate(vec![a.clone(), b.clone(), a.clone()]),
            Some(SelectorError::Aggregate(vec![a.clone(), b.clone()]))
        );
        assert_eq!(a.causes(), std::slice::from_ref(&a));
    }

    // ----- validation helpers -----

    #[test]
    fn dns1123_helpers() {
        for s in ["a", "0", "my-name", "123-abc", &"a".repeat(63)] {
            assert!(is_dns1123_label(s), "{s}");
            assert!(is_dns1123_subdomain(s), "{s}");
            assert_eq!(validate_dns1123_label(s), Ok(()));
        }
        for s in ["", "-a", "a-", "A", "a_b", "a.b", "é", &"a".repeat(64)] {
            assert!(!is_dns1123_label(s), "{s}");
        }
        for s in ["example.com", "a.b.c", "a-1.b-2", &format!("{}.{}", "a".repeat(63), "b".repeat(189))] {
            assert!(is_dns1123_subdomain(s), "{s}");
        }
        for s in ["", ".", "a.", ".a", "a..b", "A.com", "a_b.com", "-a.com", &"a".repeat(254)] {
            assert!(!is_dns1123_subdomain(s), "{s}");
        }
        assert_eq!(validate_dns1123_label("a.b"), Err(vec!["must not contain dots".to_owned()]));
        assert_eq!(validate_dns1123_label("A"), Err(vec![DNS_LABEL_REGEX.to_owned()]));
        assert_eq!(validate_dns1123_label(""), Err(vec![DNS_LABEL_REGEX.to_owned()]));
        assert_eq!(
            validate_dns1123_label(&format!("{}.b", "a".repeat(62))),
            Err(vec!["must be no more than 63 characters".to_owned(), "must not contain dots".to_owned()])
        );
        assert_eq!(validate_dns1123_subdomain("example.com"), Ok(()));
        assert_eq!(validate_dns1123_subdomain("-a"), Err(vec![SUBDOMAIN_REGEX.to_owned()]));
        assert_eq!(
            validate_dns1123_subdomain(&"a".repeat(254)),
            Err(vec!["must be no more than 253 characters".to_owned()])
        );
    }

    // ----- serde -----

    #[test]
    fn serde_round_trip_keeps_unknown_fields() {
        let text = r#"{"matchLabels":{"a":"b","c":"d"},"matchExpressions":[{"key":"k","operator":"In","values":["v"],"futureField":{"x":1}},{"key":"e","operator":"Exists"}],"zeta":[1,2],"alpha":null}"#;
        let selector: LabelSelector = serde_json::from_str(text).unwrap();
        assert_eq!(selector.extra.keys().collect::<Vec<_>>(), ["zeta", "alpha"]);
        let exprs = selector.match_expressions.as_ref().unwrap();
        assert_eq!(exprs[0].extra["futureField"], json!({"x": 1}));
        assert_eq!(exprs[1].values, None);
        assert_eq!(serde_json::to_string(&selector).unwrap(), text);
        let again: LabelSelector = serde_json::from_str(&serde_json::to_string(&selector).unwrap()).unwrap();
        assert_eq!(again, selector);
    }

    #[test]
    fn serde_keeps_unknown_operators_for_validation() {
        let selector: LabelSelector =
            serde_json::from_value(json!({"matchExpressions": [{"key": "k", "operator": "Seriously"}]})).unwrap();
        assert_eq!(
            compile(Some(&selector)).unwrap_err().to_string(),
            r#""Seriously" is not a valid label selector operator"#
        );
        // Go reads a missing or null key/operator as "".
        let selector: LabelSelector = serde_json::from_value(json!({"matchExpressions": [{"key": null}, {}]})).unwrap();
        let exprs = selector.match_expressions.as_ref().unwrap();
        assert_eq!((exprs[0].key.as_str(), exprs[0].operator.as_str()), ("", ""));
        assert_eq!(exprs[1], LabelSelectorRequirement::default());
        assert_eq!(compile(Some(&selector)).unwrap_err().to_string(), r#""" is not a valid label selector operator"#);
        // `values: []` is kept as written.
        let req: LabelSelectorRequirement =
            serde_json::from_value(json!({"key": "k", "operator": "In", "values": []})).unwrap();
        assert_eq!(req.values, Some(vec![]));
        assert_eq!(serde_json::to_value(&req).unwrap(), json!({"key": "k", "operator": "In", "values": []}));
    }

    #[test]
    fn absent_versus_empty_selector_on_the_wire() {
        #[derive(Debug, Deserialize, Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Stage {
            #[serde(default, skip_serializing_if = "Option::is_none")]
            label_selector: Option<LabelSelector>,
        }
        let any = labels(&[("env", "canary")]);
        for text in [r#"{}"#, r#"{"labelSelector":null}"#] {
            let stage: Stage = serde_json::from_str(text).unwrap();
            assert_eq!(stage.label_selector, None, "{text}");
            assert!(!compile(stage.label_selector.as_ref()).unwrap().matches(&any));
        }
        for text in [r#"{"labelSelector":{}}"#, r#"{"labelSelector":{"matchLabels":{}}}"#] {
            let stage: Stage = serde_json::from_str(text).unwrap();
            assert!(stage.label_selector.is_some(), "{text}");
            assert!(compile(stage.label_selector.as_ref()).unwrap().matches(&any));
            assert_eq!(serde_json::to_string(&stage).unwrap(), text);
        }
        assert_eq!(serde_json::to_string(&LabelSelector::default()).unwrap(), "{}");
    }

    // ----- properties -----

    fn any_key() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "[a-z]{1,3}", "[a-z.]{0,4}/[A-Za-z0-9._-]{0,70}", "[a-z/]{0,6}", "\\PC{0,300}",]
    }

    fn any_value() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "[a-c]{0,2}", "[A-Za-z0-9._ -]{0,70}"]
    }

    fn any_selector() -> impl Strategy<Value = LabelSelector> {
        let operator = prop_oneof![
            Just("In".to_owned()),
            Just("NotIn".to_owned()),
            Just("Exists".to_owned()),
            Just("DoesNotExist".to_owned()),
            any::<String>(),
        ];
        let requirement = (any_key(), operator, proptest::option::of(proptest::collection::vec(any_value(), 0..4)))
            .prop_map(|(key, operator, values)| LabelSelectorRequirement {
                key,
                operator,
                values,
                extra: serde_json::Map::new(),
            });
        (
            proptest::option::of(proptest::collection::btree_map(any_key(), any_value(), 0..4)),
            proptest::option::of(proptest::collection::vec(requirement, 0..4)),
        )
            .prop_map(|(match_labels, match_expressions)| LabelSelector {
                match_labels,
                match_expressions,
                extra: serde_json::Map::new(),
            })
    }

    fn valid_key() -> impl Strategy<Value = String> {
        "(([a-z0-9]([-a-z0-9]{0,6}[a-z0-9])?\\.){0,2}[a-z0-9]{1,4}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,12}[A-Za-z0-9])?"
    }

    fn valid_value() -> impl Strategy<Value = String> {
        "([A-Za-z0-9]([-A-Za-z0-9_.]{0,12}[A-Za-z0-9])?)?"
    }

    fn valid_labels() -> impl Strategy<Value = BTreeMap<String, String>> {
        proptest::collection::btree_map(valid_key(), valid_value(), 0..6)
    }

    fn naive_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
        let labels_ok = selector.match_labels.iter().flatten().all(|(k, v)| labels.get(k) == Some(v));
        let exprs_ok = selector.match_expressions.iter().flatten().all(|e| {
            let values = e.values.as_deref().unwrap_or(&[]);
            let got = labels.get(&e.key);
            match e.operator.as_str() {
                "In" => got.is_some_and(|v| values.contains(v)),
                "NotIn" => got.is_none_or(|v| !values.contains(v)),
                "Exists" => got.is_some(),
                "DoesNotExist" => got.is_none(),
                _ => unreachable!(),
            }
        });
        labels_ok && exprs_ok
    }

    proptest! {
        #[test]
        fn compile_never_panics(selector in any_selector(), lbls in proptest::collection::btree_map(any_key(), any_value(), 0..4)) {
            match compile(Some(&selector)) {
                Ok(compiled) => {
                    let _ = compiled.matches(&lbls);
                    let _ = compiled.to_string();
                }
                Err(err) => {
                    prop_assert!(!err.to_string().is_empty());
                    prop_assert!(!err.causes().is_empty());
                }
            }
            let _ = serde_json::to_string(&selector);
        }

        #[test]
        fn validity_agrees_with_the_helpers(selector in any_selector()) {
            let keys_values_ok = selector.match_labels.iter().flatten().all(|(k, v)| {
                validate_label_key(k).is_ok() && validate_label_value(v).is_ok()
            });
            let exprs_ok = selector.match_expressions.iter().flatten().all(|e| {
                let values = e.values.as_deref().unwrap_or(&[]);
                validate_label_key(&e.key).is_ok()
                    && values.iter().all(|v| validate_label_value(v).is_ok())
                    && match e.operator() {
                        Ok(SelectorOperator::In | SelectorOperator::NotIn) => !values.is_empty(),
                        Ok(SelectorOperator::Exists | SelectorOperator::DoesNotExist) => values.is_empty(),
                        Err(_) => false,
                    }
            });
            prop_assert_eq!(compile(Some(&selector)).is_ok(), keys_values_ok && exprs_ok);
        }

        #[test]
        fn match_labels_selector_matches_its_labels(lbls in valid_labels(), more in valid_labels()) {
            let selector = LabelSelector { match_labels: Some(lbls.clone()), ..LabelSelector::default() };
            let compiled = compile(Some(&selector)).unwrap();
            prop_assert!(compiled.matches(&lbls));
            let mut superset = more;
            superset.extend(lbls.clone());
            prop_assert!(compiled.matches(&superset));
            prop_assert_eq!(compiled.is_empty(), lbls.is_empty());
        }

        #[test]
        fn matching_agrees_with_a_naive_model(
            match_labels in proptest::option::of(proptest::collection::btree_map("[a-d]", "[a-c]{0,1}", 0..3)),
            exprs in proptest::collection::vec(
                ("[a-d]", 0..4usize, proptest::collection::vec("[a-c]{0,1}", 1..12)),
                0..4,
            ),
            lbls in proptest::collection::btree_map("[a-d]", "[a-c]{0,1}", 0..4),
        ) {
            let ops = ["In", "NotIn", "Exists", "DoesNotExist"];
            let match_expressions = exprs
                .into_iter()
                .map(|(key, op, values)| LabelSelectorRequirement {
                    key,
                    operator: ops[op].to_owned(),
                    values: if op < 2 { Some(values) } else { None },
                    extra: serde_json::Map::new(),
                })
                .collect();
            let selector = LabelSelector {
                match_labels,
                match_expressions: Some(match_expressions),
                extra: serde_json::Map::new(),
            };
            let compiled = compile(Some(&selector)).unwrap();
            prop_assert_eq!(compiled.matches(&lbls), naive_matches(&selector, &lbls));
            let rendered = compiled.to_string();
            let keys: Vec<&str> = compiled.requirements().unwrap().iter().map(Requirement::key).collect();
            prop_assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{}", rendered);
        }

        #[test]
        fn serde_round_trip(selector in any_selector()) {
            let text = serde_json::to_string(&selector).unwrap();
            let back: LabelSelector = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back, selector);
        }

        #[test]
        fn go_quote_is_plain_for_printable_ascii(s in "[ -~]{0,40}") {
            let quoted = GoQuoted(&s).to_string();
            let expected = format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
            prop_assert_eq!(quoted, expected);
        }
    }
}
