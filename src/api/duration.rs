//! TEMPORARY STUB — replaced by the full Go duration implementation.
#![allow(missing_docs)]
use serde::{Deserialize, Deserializer, Serialize, Serializer};
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(i64);
impl Duration {
    pub const ZERO: Duration = Duration(0);
    pub const fn from_nanos(n: i64) -> Self {
        Duration(n)
    }
    pub const fn from_secs(s: i64) -> Self {
        Duration(s.saturating_mul(1_000_000_000))
    }
    pub const fn from_millis(s: i64) -> Self {
        Duration(s.saturating_mul(1_000_000))
    }
    pub const fn from_minutes(s: i64) -> Self {
        Duration::from_secs(s.saturating_mul(60))
    }
    pub const fn as_nanos(self) -> i64 {
        self.0
    }
    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.0).ok().map(std::time::Duration::from_nanos)
    }
    pub fn as_secs_ceil(self) -> i64 {
        self.0.div_euclid(1_000_000_000) + i64::from(self.0.rem_euclid(1_000_000_000) > 0)
    }
}
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("time: invalid duration {0:?}")]
pub struct DurationParseError(String);
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DurationParseErrorKind {
    Invalid,
}
impl std::str::FromStr for Duration {
    type Err = DurationParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (num, mul) = if let Some(n) = s.strip_suffix("ms") {
            (n, 1_000_000)
        } else if let Some(n) = s.strip_suffix('s') {
            (n, 1_000_000_000)
        } else if let Some(n) = s.strip_suffix('m') {
            (n, 60_000_000_000)
        } else if let Some(n) = s.strip_suffix('h') {
            (n, 3_600_000_000_000)
        } else {
            return Err(DurationParseError(s.into()));
        };
        let n = num.split('m').next_back().unwrap_or(num);
        let base: i64 = if num.contains('m') {
            num.split('m').next().unwrap_or("0").parse::<i64>().map_err(|_| DurationParseError(s.into()))?
                * 60_000_000_000
        } else {
            0
        };
        n.parse::<i64>().map(|v| Duration(base + v * mul)).map_err(|_| DurationParseError(s.into()))
    }
}
impl std::fmt::Display for Duration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0 / 1_000_000_000;
        if s >= 60 { write!(f, "{}m{}s", s / 60, s % 60) } else { write!(f, "{s}s") }
    }
}
impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}
