//! `intstr.IntOrString`, and the percent scaling KubeFleet applies to `maxConcurrency`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::gocompat;

/// An integer or a string, as Kubernetes' `intstr.IntOrString` (`5` or `"25%"`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    /// An integer value, `maxConcurrency: 5`.
    Int(i32),
    /// A string value; for `maxConcurrency` it must be a percentage such as `"25%"`.
    String(String),
}

/// Why an [`IntOrString`] could not be scaled, with the message Kubernetes' `intstr` package gives.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScaleError {
    /// The value was absent (`nil` in Go).
    #[error("nil value for IntOrString")]
    Nil,
    /// A string without a trailing `%`.
    #[error("invalid value for IntOrString: invalid type: string is not a percentage")]
    NotAPercentage {
        /// The string as given.
        value: String,
    },
    /// A negative integer. The CRD rejects it; KubeFleet's controller would silently never
    /// start a cluster, so this crate reports it instead.
    #[error("invalid value for IntOrString: maxConcurrency must be at least 1, got {value}")]
    Negative {
        /// The value as given.
        value: i64,
    },
    /// A string ending in `%` whose number does not parse.
    #[error("invalid value for IntOrString: invalid value {quoted}: {atoi}", quoted = gocompat::quote(.value))]
    InvalidPercentage {
        /// The string as given.
        value: String,
        /// Go's `strconv.Atoi` error text.
        atoi: String,
    },
}

impl IntOrString {
    /// Resolves the value against `total` the way KubeFleet computes a stage's concurrency:
    /// integers as they are, percentages of `total` rounded **down**
    /// (`intstr.GetScaledValueFromIntOrPercent(v, total, false)`).
    ///
    /// This does not apply KubeFleet's "at least 1" rule; [`max_concurrency`] does.
    pub fn scaled_value(&self, total: usize) -> Result<i64, ScaleError> {
        match self {
            IntOrString::Int(v) => Ok(i64::from(*v)),
            IntOrString::String(s) => {
                let Some(number) = s.strip_suffix('%') else {
                    return Err(ScaleError::NotAPercentage { value: s.clone() });
                };
                let percent = gocompat::atoi(number)
                    .map_err(|e| ScaleError::InvalidPercentage { value: s.clone(), atoi: e.to_string() })?;
                let total = i64::try_from(total).unwrap_or(i64::MAX);
                Ok(percent.saturating_mul(total).div_euclid(100))
            }
        }
    }
}

/// KubeFleet's per-stage concurrency: the scaled value, and 1 when scaling yields 0.
///
/// `None` (the field omitted) means 1, the CRD's default. KubeFleet's own controller would fail
/// on a missing value, which the API server never lets through; this crate follows the
/// documented default instead.
pub fn max_concurrency(value: Option<&IntOrString>, stage_clusters: usize) -> Result<i64, ScaleError> {
    let Some(value) = value else { return Ok(1) };
    match value.scaled_value(stage_clusters)? {
        0 => Ok(1),
        n if n < 0 => Err(ScaleError::Negative { value: n }),
        n => Ok(n),
    }
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(v) => write!(f, "{v}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

impl From<i32> for IntOrString {
    fn from(v: i32) -> Self {
        IntOrString::Int(v)
    }
}

impl From<&str> for IntOrString {
    fn from(v: &str) -> Self {
        IntOrString::String(v.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_scales_down_with_a_minimum_of_one() {
        let p = IntOrString::from("25%");
        assert_eq!(p.scaled_value(10), Ok(2));
        assert_eq!(max_concurrency(Some(&p), 10), Ok(2));
        assert_eq!(max_concurrency(Some(&p), 3), Ok(1));
        assert_eq!(max_concurrency(Some(&"100%".into()), 7), Ok(7));
        assert_eq!(max_concurrency(Some(&"1%".into()), 0), Ok(1));
    }

    #[test]
    fn integers_are_not_capped() {
        assert_eq!(max_concurrency(Some(&IntOrString::Int(50)), 3), Ok(50));
        assert_eq!(max_concurrency(None, 3), Ok(1));
    }

    #[test]
    fn zero_means_one_and_negatives_are_rejected() {
        assert_eq!(max_concurrency(Some(&IntOrString::Int(0)), 3), Ok(1));
        assert_eq!(
            max_concurrency(Some(&IntOrString::Int(-2)), 3).unwrap_err().to_string(),
            "invalid value for IntOrString: maxConcurrency must be at least 1, got -2"
        );
    }

    #[test]
    fn bad_strings_give_kubernetes_messages() {
        assert_eq!(
            max_concurrency(Some(&"50".into()), 3).unwrap_err().to_string(),
            "invalid value for IntOrString: invalid type: string is not a percentage"
        );
        assert_eq!(
            max_concurrency(Some(&"x%".into()), 3).unwrap_err().to_string(),
            r#"invalid value for IntOrString: invalid value "x%": strconv.Atoi: parsing "x": invalid syntax"#
        );
    }

    #[test]
    fn serde_is_untagged() {
        assert_eq!(serde_json::from_str::<IntOrString>("3").unwrap(), IntOrString::Int(3));
        assert_eq!(serde_json::from_str::<IntOrString>("\"25%\"").unwrap(), IntOrString::from("25%"));
        assert_eq!(serde_json::to_string(&IntOrString::from("25%")).unwrap(), "\"25%\"");
        assert!(serde_json::from_str::<IntOrString>("1.5").is_err());
    }
}
