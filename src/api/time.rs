//! `metav1.Time`: an instant with second precision, written as RFC 3339 in UTC (`2025-03-12T10:00:00Z`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::duration::Duration;

/// An instant as Kubernetes stores it: whole seconds since the Unix epoch, UTC.
///
/// Kubernetes truncates `metav1.Time` to seconds when it serializes it, so every time the engine
/// writes into a status is a whole second. Keeping that precision in memory too means a status
/// that goes through JSON and back compares equal to the one the engine produced — which is
/// what makes reconcile idempotent across a persist/reload cycle.
///
/// `Time` is the crate's own type so the public API is not tied to one time crate; conversions
/// from and to [`chrono::DateTime<Utc>`] and [`std::time::SystemTime`] are provided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time {
    secs: i64,
}

/// The error returned when a string is not an RFC 3339 timestamp.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid RFC 3339 time {input:?}: {reason}")]
pub struct TimeParseError {
    input: String,
    reason: String,
}

impl Time {
    /// The Unix epoch, `1970-01-01T00:00:00Z`.
    pub const UNIX_EPOCH: Time = Time { secs: 0 };

    /// The instant `secs` seconds after the Unix epoch.
    pub const fn from_unix_seconds(secs: i64) -> Time {
        Time { secs }
    }

    /// Seconds since the Unix epoch.
    pub const fn unix_seconds(self) -> i64 {
        self.secs
    }

    /// Converts a [`std::time::SystemTime`], truncating to whole seconds.
    ///
    /// The engine never reads the clock itself; a controller calls this once per reconcile to
    /// produce the `now` argument.
    pub fn from_system_time(t: std::time::SystemTime) -> Time {
        match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => Time { secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX) },
            Err(e) => {
                let d = e.duration();
                let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                // Truncation toward negative infinity, as Kubernetes' Unix() does.
                let secs = if d.subsec_nanos() > 0 { whole.saturating_add(1) } else { whole };
                Time { secs: -secs }
            }
        }
    }

    /// Converts to a `chrono` UTC date-time (`None` when out of chrono's range).
    pub fn to_chrono(self) -> Option<DateTime<Utc>> {
        Utc.timestamp_opt(self.secs, 0).single()
    }

    /// Converts from a `chrono` UTC date-time, truncating to whole seconds.
    pub fn from_chrono(t: DateTime<Utc>) -> Time {
        Time { secs: t.timestamp() }
    }

    /// `self + d`, rounded **up** to the next whole second when `d` has a fractional part.
    ///
    /// Rounding up is the safe direction for deadlines: a `TimedWait` of `0.5s` that started at
    /// `10:00:00` ends at `10:00:01`, never at `10:00:00`, so a wait is never cut short.
    pub fn add_ceil(self, d: Duration) -> Time {
        let nanos = d.as_nanos();
        let secs = nanos.div_euclid(1_000_000_000);
        let rem = nanos.rem_euclid(1_000_000_000);
        let secs = if rem > 0 { secs + 1 } else { secs };
        Time { secs: self.secs.saturating_add(secs) }
    }

    /// The signed duration from `earlier` to `self` (`self - earlier`), saturating.
    pub fn since(self, earlier: Time) -> Duration {
        Duration::from_secs(self.secs.saturating_sub(earlier.secs))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_chrono() {
            Some(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            None => write!(f, "@{}", self.secs),
        }
    }
}

impl FromStr for Time {
    type Err = TimeParseError;

    /// Parses RFC 3339 as Go's `time.RFC3339` layout does: any offset, optional fractional
    /// seconds (dropped, as `metav1.Time` drops them).
    ///
    /// The instant must fall in the years 0000–9999 in UTC, the range RFC 3339 can write back:
    /// `0000-01-01T00:00:00+01:00` is rejected because it is year −1 in UTC. (Go accepts it and
    /// then writes `-0001-12-31T23:00:00Z`, which it cannot read again; this crate keeps every
    /// time it reads writable, so a parsed object always survives a round trip.)
    fn from_str(s: &str) -> Result<Time, TimeParseError> {
        let t = DateTime::parse_from_rfc3339(s)
            .map_err(|e| TimeParseError { input: s.to_owned(), reason: e.to_string() })?;
        if !(0..=9999).contains(&t.with_timezone(&Utc).year()) {
            return Err(TimeParseError {
                input: s.to_owned(),
                reason: "year outside of range [0,9999] in UTC".to_owned(),
            });
        }
        Ok(Time { secs: t.timestamp() })
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Time, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl From<DateTime<Utc>> for Time {
    fn from(t: DateTime<Utc>) -> Time {
        Time::from_chrono(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_second_precision_and_z() {
        let t: Time = "2025-03-12T10:00:00Z".parse().unwrap();
        assert_eq!(t.to_string(), "2025-03-12T10:00:00Z");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"2025-03-12T10:00:00Z\"");
    }

    #[test]
    fn parses_offsets_and_drops_fractions() {
        let t: Time = "2025-03-12T11:00:00.999+01:00".parse().unwrap();
        assert_eq!(t.to_string(), "2025-03-12T10:00:00Z");
    }

    #[test]
    fn rejects_garbage_with_a_typed_error() {
        let err = "yesterday".parse::<Time>().unwrap_err();
        assert!(err.to_string().starts_with("invalid RFC 3339 time \"yesterday\""));
        assert!(serde_json::from_str::<Time>("\"12:00\"").is_err());
    }

    #[test]
    fn only_times_that_can_be_written_back_parse() {
        for edge in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00-01:00"] {
            let t: Time = edge.parse().unwrap();
            assert_eq!(t.to_string().parse::<Time>(), Ok(t), "{edge}");
        }
        for outside in ["0000-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"] {
            let err = outside.parse::<Time>().unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("invalid RFC 3339 time {outside:?}: year outside of range [0,9999] in UTC")
            );
        }
    }

    #[test]
    fn add_ceil_never_cuts_a_wait_short() {
        let t = Time::from_unix_seconds(100);
        assert_eq!(t.add_ceil(Duration::from_millis(500)), Time::from_unix_seconds(101));
        assert_eq!(t.add_ceil(Duration::from_secs(60)), Time::from_unix_seconds(160));
        assert_eq!(t.add_ceil(Duration::from_millis(-500)), Time::from_unix_seconds(100));
    }

    #[test]
    fn system_time_truncates() {
        let st = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_500);
        assert_eq!(Time::from_system_time(st), Time::from_unix_seconds(1));
        let before = std::time::UNIX_EPOCH - std::time::Duration::from_millis(1_500);
        assert_eq!(Time::from_system_time(before), Time::from_unix_seconds(-2));
    }
}
