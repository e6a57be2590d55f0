//! `metav1.Duration`: Go's `time.Duration`, parsed and formatted exactly as Go does it.
//!
//! KubeFleet's API is Go. Every duration in it (a stage's `afterStageTasks[].waitTime`, for
//! example) is a `metav1.Duration`: a `time.Duration` — a signed 64-bit count of nanoseconds —
//! that travels in JSON and YAML as the string `Duration.String()` produces and is read back
//! with `time.ParseDuration`. This module ports both functions rather than approximating them,
//! for two reasons:
//!
//! - **Same inputs, same verdict.** A string KubeFleet's Go code accepts when it decodes an
//!   object (`metav1.Duration`'s `UnmarshalJSON` calls `time.ParseDuration`) is accepted here
//!   with the same nanosecond value; a string it rejects is rejected here with the same error
//!   text, so error messages can be compared verbatim.
//! - **Same output, byte for byte.** Go formats durations instead of echoing what the user
//!   wrote, so KubeFleet writes `waitTime: 1m` back as `1m0s` in a run's status, `90s` as
//!   `1m30s` and `0.5h` as `30m0s`. A status produced by this crate has to carry the same
//!   strings to compare equal to (and not fight with) the one KubeFleet writes.
//!
//! # Go behaviour reproduced on purpose
//!
//! These are not bugs in this port; each is what Go's `time` package does today, and each is
//! covered by a test:
//!
//! - **Fractions go through `float64` and are truncated.** `"0.3333333333333333333h"` is
//!   exactly `20m0s` (the float rounding absorbs the repeating digits) and `"1.9ns"` is `1ns`.
//!   Fraction digits beyond what fits in 2⁶³ (about 19 significant digits) are read but
//!   ignored.
//! - **The sign applies to the whole string** and only appears once, in front: `"-1h30m"` is
//!   minus ninety minutes, `"1h-30m"` is an error.
//! - **A unit is everything up to the next digit or `.`**, and units are case-sensitive, so
//!   `"1h 30m"` fails with `unknown unit "h "` and `"1H"` with `unknown unit "H"`.
//! - **`"0"` is the only number allowed without a unit** (also as `"-0"` / `"+0"`); `"00"`,
//!   `"1"` and `"0.0"` are `missing unit` errors. The empty string is an `invalid duration`.
//! - **The full `i64` range round-trips**, including `-2562047h47m16.854775808s` (`i64::MIN`).
//! - **Overflow wraps once in Go's accumulator.** Go sums the terms' magnitudes in a `uint64`
//!   and only checks that the running sum stays at or below 2⁶³. Two terms that are each exactly
//!   2⁶³ ns (`"9223372036854775808ns9223372036854775808ns"`) wrap that sum to 0 and Go accepts
//!   the string as `0s` (or as whatever the following terms add up to). This is the only way
//!   Go's parser can wrap; it is replicated so both sides agree on every input.
//! - **Error messages quote the input with the `time` package's own `quote`**, not
//!   `strconv.Quote`: ASCII control characters and every byte of a non-ASCII character are
//!   written as `\xNN`, so `"1µ"` fails with `unknown unit "\xc2\xb5" in duration "1\xc2\xb5"`.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NANOS_PER_MILLI: i64 = 1_000_000;
const NANOS_PER_SEC: i64 = 1_000_000_000;
const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SEC;

// The same units as magnitudes, for formatting.
const MICRO: u64 = 1_000;
const MILLI: u64 = 1_000_000;
const SEC: u64 = 1_000_000_000;

/// 2⁶³, the largest magnitude Go's parser accumulates (the magnitude of `i64::MIN`).
const MAGNITUDE_LIMIT: u64 = 1 << 63;

/// A Go `time.Duration` (the value inside a `metav1.Duration`): a signed number of nanoseconds.
///
/// The range is the full `i64` range, about ±292 years. Text conversion is Go's: [`Display`]
/// is `Duration.String()` and [`FromStr`] is `time.ParseDuration`, and serde uses the same
/// string form, which is how `metav1.Duration` appears in JSON and YAML.
///
/// ```text
/// "1m"      parses to 60_000_000_000 ns, which displays as "1m0s"
/// "1.5h"    parses to 5_400_000_000_000 ns, which displays as "1h30m0s"
/// "300ms"   parses to 300_000_000 ns, which displays as "300ms"
/// ```
///
/// The ordering is the numeric one, so `Duration::MIN < Duration::ZERO < Duration::MAX`.
///
/// [`Display`]: fmt::Display
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    nanos: i64,
}

impl Duration {
    /// The zero duration, which Go writes as `0s`.
    pub const ZERO: Duration = Duration { nanos: 0 };

    /// The shortest representable duration, `-2562047h47m16.854775808s` (`i64::MIN` ns).
    pub const MIN: Duration = Duration { nanos: i64::MIN };

    /// The longest representable duration, `2562047h47m16.854775807s` (`i64::MAX` ns).
    pub const MAX: Duration = Duration { nanos: i64::MAX };

    /// A duration of `nanos` nanoseconds — the same as Go's `time.Duration(nanos)`.
    pub const fn from_nanos(nanos: i64) -> Duration {
        Duration { nanos }
    }

    /// A duration of `millis` milliseconds, saturating at [`Duration::MIN`] / [`Duration::MAX`].
    pub const fn from_millis(millis: i64) -> Duration {
        Duration { nanos: millis.saturating_mul(NANOS_PER_MILLI) }
    }

    /// A duration of `secs` seconds, saturating at [`Duration::MIN`] / [`Duration::MAX`].
    ///
    /// Saturating rather than wrapping or panicking because the inputs are usually differences
    /// between timestamps taken from objects, which this crate does not control.
    pub const fn from_secs(secs: i64) -> Duration {
        Duration { nanos: secs.saturating_mul(NANOS_PER_SEC) }
    }

    /// A duration of `minutes` minutes, saturating at [`Duration::MIN`] / [`Duration::MAX`].
    pub const fn from_minutes(minutes: i64) -> Duration {
        Duration { nanos: minutes.saturating_mul(NANOS_PER_MINUTE) }
    }

    /// The number of nanoseconds — Go's `d.Nanoseconds()` / `int64(d)`.
    pub const fn as_nanos(self) -> i64 {
        self.nanos
    }

    /// Whether this is the zero duration.
    pub const fn is_zero(self) -> bool {
        self.nanos == 0
    }

    /// Whether this duration is strictly below zero.
    pub const fn is_negative(self) -> bool {
        self.nanos < 0
    }

    /// `self + rhs`, or `None` if the sum leaves the `i64` nanosecond range.
    pub const fn checked_add(self, rhs: Duration) -> Option<Duration> {
        match self.nanos.checked_add(rhs.nanos) {
            Some(nanos) => Some(Duration { nanos }),
            None => None,
        }
    }

    /// `self - rhs`, or `None` if the difference leaves the `i64` nanosecond range.
    pub const fn checked_sub(self, rhs: Duration) -> Option<Duration> {
        match self.nanos.checked_sub(rhs.nanos) {
            Some(nanos) => Some(Duration { nanos }),
            None => None,
        }
    }

    /// `self + rhs`, clamped to [`Duration::MIN`] / [`Duration::MAX`].
    pub const fn saturating_add(self, rhs: Duration) -> Duration {
        Duration { nanos: self.nanos.saturating_add(rhs.nanos) }
    }

    /// Converts to a [`std::time::Duration`]; `None` when `self` is negative, because the
    /// standard library's duration is unsigned. Zero converts to zero.
    pub const fn to_std(self) -> Option<std::time::Duration> {
        if self.nanos < 0 { None } else { Some(std::time::Duration::from_nanos(self.nanos.unsigned_abs())) }
    }

    /// Converts from a [`std::time::Duration`]; `None` when it is longer than
    /// [`Duration::MAX`] (about 292 years), which Go cannot represent either.
    pub fn from_std(d: std::time::Duration) -> Option<Duration> {
        i64::try_from(d.as_nanos()).ok().map(Duration::from_nanos)
    }

    /// The duration in whole seconds, rounded **up** (towards positive infinity).
    ///
    /// This is the mathematical ceiling, so it suits wake-ups: sleeping the returned number of
    /// seconds never wakes a waiter before the duration has elapsed (`1ns` → `1`, `1s` → `1`,
    /// `1.5s` → `2`). Negative durations follow the same rule — `-1.5s` → `-1`, `-0.5s` → `0`,
    /// `-2s` → `-2` — i.e. a deadline that has already passed stays "now or earlier"; callers
    /// that need a non-negative delay clamp with `.max(0)`. Never overflows: the result's
    /// magnitude is at most about 9.2 × 10⁹.
    pub const fn as_secs_ceil(self) -> i64 {
        let whole = self.nanos / NANOS_PER_SEC;
        if self.nanos % NANOS_PER_SEC > 0 { whole + 1 } else { whole }
    }
}

impl fmt::Display for Duration {
    /// Go's `Duration.String()`: `72h3m0.5s`, `1m0s`, `1.5s`, `100ms`, `1.5µs`, `1ns`, `0s`.
    ///
    /// Durations of a second or more are written as hours, minutes and (possibly fractional)
    /// seconds, leading zero units omitted but inner zero units kept (`1h0m0s`). Shorter
    /// durations use the largest of `ms`, `µs` (U+00B5) and `ns` that keeps the leading digit
    /// non-zero. Fractions print without trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.nanos;
        if nanos == 0 {
            return f.write_str("0s");
        }
        if nanos < 0 {
            f.write_str("-")?;
        }
        // `unsigned_abs` also covers i64::MIN, whose magnitude does not fit in an i64.
        let u = nanos.unsigned_abs();

        if u < SEC {
            let (scale, digits, unit) = if u < MICRO {
                (1, 0, "ns")
            } else if u < MILLI {
                (MICRO, 3, "µs")
            } else {
                (MILLI, 6, "ms")
            };
            write!(f, "{}", u / scale)?;
            write_fraction(f, u % scale, digits)?;
            return f.write_str(unit);
        }

        let secs = u / SEC;
        let minutes = secs / 60;
        let hours = minutes / 60;
        if hours > 0 {
            write!(f, "{hours}h")?;
        }
        if minutes > 0 {
            write!(f, "{}m", minutes % 60)?;
        }
        write!(f, "{}", secs % 60)?;
        write_fraction(f, u % SEC, 9)?;
        f.write_str("s")
    }
}

/// Writes `.ddd` for `frac / 10^digits` with trailing zeros removed, or nothing when `frac`
/// is zero (Go's `fmtFrac`).
fn write_fraction(f: &mut fmt::Formatter<'_>, frac: u64, digits: usize) -> fmt::Result {
    if frac == 0 {
        return Ok(());
    }
    let mut frac = frac;
    let mut width = digits;
    while frac.is_multiple_of(10) {
        frac /= 10;
        width = width.saturating_sub(1);
    }
    write!(f, ".{frac:0width$}")
}

/// What kind of input [`Duration::from_str`] rejected; see [`DurationParseError::kind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DurationParseErrorKind {
    /// Not a duration at all, or out of range: `time: invalid duration "…"`. Covers the empty
    /// string, a lone sign, a term without digits (`".s"`), characters other than a sign, digit
    /// or `.` where a number must start, and every overflow.
    Invalid,
    /// A number with nothing after it: `time: missing unit in duration "…"` (`"3"`, `"1h30"`).
    MissingUnit,
    /// A number followed by something other than `ns`, `us`, `µs`, `μs`, `ms`, `s`, `m` or `h`:
    /// `time: unknown unit "…" in duration "…"` (`"1d"`, `"1 s"` → unit `" s"`).
    UnknownUnit,
}

/// The error returned when a string is not a Go duration.
///
/// Its `Display` is exactly the text of the error Go's `time.ParseDuration` returns for the same
/// input — for example `time: unknown unit "h-" in duration "1h-5m"` — so messages match what
/// KubeFleet's Go code reports. The input is kept (see [`DurationParseError::input`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_error(*.kind, .input, .unit.as_deref()))]
pub struct DurationParseError {
    kind: DurationParseErrorKind,
    input: String,
    unit: Option<String>,
}

impl DurationParseError {
    fn new(kind: DurationParseErrorKind, input: &str) -> DurationParseError {
        DurationParseError { kind, input: input.to_owned(), unit: None }
    }

    /// Which of Go's three error messages this is.
    pub fn kind(&self) -> DurationParseErrorKind {
        self.kind
    }

    /// The complete string that failed to parse, unquoted.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// For [`DurationParseErrorKind::UnknownUnit`], the unrecognised unit (unquoted); `None` for
    /// the other kinds.
    pub fn unit(&self) -> Option<&str> {
        self.unit.as_deref()
    }
}

fn render_error(kind: DurationParseErrorKind, input: &str, unit: Option<&str>) -> String {
    match kind {
        DurationParseErrorKind::MissingUnit => {
            format!("time: missing unit in duration {}", go_quote(input))
        }
        DurationParseErrorKind::UnknownUnit => {
            format!("time: unknown unit {} in duration {}", go_quote(unit.unwrap_or_default()), go_quote(input))
        }
        DurationParseErrorKind::Invalid => format!("time: invalid duration {}", go_quote(input)),
    }
}

/// The `time` package's private `quote` (not `strconv.Quote`): wraps `s` in double quotes,
/// backslash-escapes `"` and `\`, and writes every byte of an ASCII control character or of a
/// non-ASCII character as `\xNN` (lower-case hex). DEL (0x7f) is written as is, as Go does.
fn go_quote(s: &str) -> String {
    use fmt::Write as _;

    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if !c.is_ascii() || c < ' ' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\x{b:02x}");
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Nanoseconds per unit, as in Go's `unitMap`. Both micro signs are accepted: U+00B5 (what
/// Go prints) and U+03BC (Greek mu).
fn unit_nanos(unit: &[u8]) -> Option<u64> {
    Some(match unit {
        b"ns" => 1,
        // "µs" (U+00B5, micro sign) and "μs" (U+03BC, Greek mu) in UTF-8.
        b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
        b"ms" => 1_000_000,
        b"s" => 1_000_000_000,
        b"m" => 60_000_000_000,
        b"h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Go's `leadingInt`: consumes `[0-9]*` and returns its value, or `None` if the value exceeds
/// 2⁶³ (Go then reports `invalid duration`).
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let len = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let (digits, rest) = s.split_at_checked(len)?;
    let mut x: u64 = 0;
    for &c in digits {
        if x > MAGNITUDE_LIMIT / 10 {
            return None;
        }
        x = x.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
        if x > MAGNITUDE_LIMIT {
            return None;
        }
    }
    Some((x, rest))
}

/// Go's `leadingFraction`: consumes `[0-9]*` after a `.` and returns `(digits, 10^n, rest)` so
/// that the fraction is `digits / scale`. Once another digit would push the value past 2⁶³ it
/// stops accumulating (and stops growing `scale`) but still consumes the remaining digits.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let len = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let (digits, rest) = s.split_at_checked(len).unwrap_or((s, &[]));
    let mut x: u64 = 0;
    let mut scale = 1.0_f64;
    let mut overflow = false;
    for &c in digits {
        if overflow {
            continue;
        }
        if x > (MAGNITUDE_LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        match x.checked_mul(10).and_then(|y| y.checked_add(u64::from(c - b'0'))) {
            Some(y) if y <= MAGNITUDE_LIMIT => {
                x = y;
                scale *= 10.0;
            }
            _ => overflow = true,
        }
    }
    (x, scale, rest)
}

/// Go's `time.ParseDuration`, step for step, on the UTF-8 bytes of `orig`.
fn parse_go_duration(orig: &str) -> Result<Duration, DurationParseError> {
    use DurationParseErrorKind::{Invalid, MissingUnit, UnknownUnit};
    let invalid = || DurationParseError::new(Invalid, orig);

    let mut s = orig.as_bytes();
    let mut neg = false;
    // [-+]?
    if let Some((&c, rest)) = s.split_first()
        && (c == b'-' || c == b'+')
    {
        neg = c == b'-';
        s = rest;
    }
    // Special case: a lone "0" needs no unit.
    if s == b"0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(invalid());
    }

    // The magnitude, accumulated in u64 as Go does (it may reach 2⁶³ for i64::MIN).
    let mut d: u64 = 0;
    while let Some(&first) = s.first() {
        // The next character must be [0-9.].
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }
        // [0-9]*
        let before = s.len();
        let (mut v, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = before != s.len();

        // (\.[0-9]*)?
        let mut f: u64 = 0;
        let mut scale = 1.0_f64;
        let mut post = false;
        if let Some((b'.', rest)) = s.split_first() {
            let before = rest.len();
            (f, scale, s) = leading_fraction(rest);
            post = before != s.len();
        }
        if !pre && !post {
            // No digits at all, e.g. ".s" or "-.s".
            return Err(invalid());
        }

        // The unit runs up to the next digit or '.' (both ASCII, so the split stays on a
        // UTF-8 boundary of `orig`).
        let unit_len = s.iter().take_while(|&&c| !(c == b'.' || c.is_ascii_digit())).count();
        if unit_len == 0 {
            return Err(DurationParseError::new(MissingUnit, orig));
        }
        let (u, rest) = s.split_at_checked(unit_len).ok_or_else(invalid)?;
        s = rest;
        let Some(unit) = unit_nanos(u) else {
            return Err(DurationParseError {
                kind: UnknownUnit,
                input: orig.to_owned(),
                unit: Some(String::from_utf8_lossy(u).into_owned()),
            });
        };

        if v > MAGNITUDE_LIMIT / unit {
            return Err(invalid());
        }
        v = v.checked_mul(unit).ok_or_else(invalid)?;
        if f > 0 {
            // Go: v += uint64(float64(f) * (float64(unit) / scale)). The product is below
            // `unit` (f < scale), so the float-to-int conversion truncates exactly like Go's.
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
            #[allow(clippy::cast_sign_loss)]
            let frac_nanos = (f as f64 * (unit as f64 / scale)) as u64;
            v = v.checked_add(frac_nanos).ok_or_else(invalid)?;
            if v > MAGNITUDE_LIMIT {
                return Err(invalid());
            }
        }
        // Go adds in uint64 without an overflow check; both operands are at most 2⁶³, so the
        // sum can only wrap when both are exactly 2⁶³, and then it wraps to 0 (see the module
        // docs). Replicated so that we accept exactly what Go accepts.
        d = d.wrapping_add(v);
        if d > MAGNITUDE_LIMIT {
            return Err(invalid());
        }
    }

    if neg {
        // Go: -Duration(d). For d = 2⁶³ that is i64::MIN; d never exceeds 2⁶³ here.
        return Ok(Duration::from_nanos(0_i64.wrapping_sub_unsigned(d)));
    }
    i64::try_from(d).map(Duration::from_nanos).map_err(|_| invalid())
}

impl FromStr for Duration {
    type Err = DurationParseError;

    /// Go's `time.ParseDuration`: an optional sign, then one or more decimal numbers (each with
    /// an optional fraction) with a unit — `ns`, `us`, `µs`, `μs`, `ms`, `s`, `m` or `h` — such
    /// as `"300ms"`, `"-1.5h"` or `"2h45m"`. `"0"` alone needs no unit. No whitespace.
    fn from_str(s: &str) -> Result<Duration, DurationParseError> {
        parse_go_duration(s)
    }
}

impl Serialize for Duration {
    /// Serializes as the Go string (`"1m0s"`), which is `metav1.Duration`'s JSON form.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    /// Deserializes from a string via [`FromStr`]; numbers are rejected, as `metav1.Duration`
    /// rejects them. The error message is the Go parse error.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        struct GoDurationVisitor;

        impl Visitor<'_> for GoDurationVisitor {
            type Value = Duration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Go duration string such as \"1m30s\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                v.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(GoDurationVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NS: i64 = 1;
    const US: i64 = 1_000;
    const MS: i64 = 1_000_000;
    const S: i64 = 1_000_000_000;
    const M: i64 = 60 * S;
    const H: i64 = 60 * M;

    fn parse(s: &str) -> Result<Duration, DurationParseError> {
        s.parse()
    }

    fn fmt_nanos(nanos: i64) -> String {
        Duration::from_nanos(nanos).to_string()
    }

    /// Go's `parseDurationTests` (`src/time/time_test.go`).
    const GO_PARSE_CASES: &[(&str, i64)] = &[
        // simple
        ("0", 0),
        ("5s", 5 * S),
        ("30s", 30 * S),
        ("1478s", 1478 * S),
        // sign
        ("-5s", -5 * S),
        ("+5s", 5 * S),
        ("-0", 0),
        ("+0", 0),
        // decimal
        ("5.0s", 5 * S),
        ("5.6s", 5 * S + 600 * MS),
        ("5.s", 5 * S),
        (".5s", 500 * MS),
        ("1.0s", S),
        ("1.00s", S),
        ("1.004s", S + 4 * MS),
        ("1.0040s", S + 4 * MS),
        ("100.00100s", 100 * S + MS),
        // different units
        ("10ns", 10 * NS),
        ("11us", 11 * US),
        ("12µs", 12 * US), // U+00B5
        ("12μs", 12 * US), // U+03BC
        ("13ms", 13 * MS),
        ("14s", 14 * S),
        ("15m", 15 * M),
        ("16h", 16 * H),
        // composite durations
        ("3h30m", 3 * H + 30 * M),
        ("10.5s4m", 4 * M + 10 * S + 500 * MS),
        ("-2m3.4s", -(2 * M + 3 * S + 400 * MS)),
        ("1h2m3s4ms5us6ns", H + 2 * M + 3 * S + 4 * MS + 5 * US + 6 * NS),
        ("39h9m14.425s", 39 * H + 9 * M + 14 * S + 425 * MS),
        // large value
        ("52763797000ns", 52_763_797_000),
        // more than 9 digits after the decimal point (golang.org/issue/6617)
        ("0.3333333333333333333h", 20 * M),
        // 2^53 + 1 cannot be stored exactly in a float64
        ("9007199254740993ns", (1 << 53) + 1),
        // largest duration that can be represented by int64 in nanoseconds
        ("9223372036854775807ns", i64::MAX),
        ("9223372036854775.807us", i64::MAX),
        ("9223372036s854ms775us807ns", i64::MAX),
        ("-9223372036854775808ns", i64::MIN),
        ("-9223372036854775.808us", i64::MIN),
        ("-9223372036s854ms775us808ns", i64::MIN),
        // largest negative value
        ("-9223372036854775808ns", i64::MIN),
        // largest negative round-trip value (golang.org/issue/48629)
        ("-2562047h47m16.854775808s", i64::MIN),
        // huge string (golang.org/issue/15011)
        ("0.100000000000000000000h", 6 * M),
        // the first overflow check in leadingFraction
        ("0.830103483285477580700h", 49 * M + 48 * S + 372_539_827 * NS),
    ];

    /// Go's `parseDurationErrorTests` (`src/time/time_test.go`), with the exact message and kind
    /// Go's code yields. Go's cases built from invalid UTF-8 (`"\x85\x85"`, `"\xffff"`, …)
    /// cannot be expressed as `&str` and are left out.
    const GO_ERROR_CASES: &[(&str, DurationParseErrorKind, &str)] = &[
        // invalid
        ("", DurationParseErrorKind::Invalid, r#"time: invalid duration """#),
        ("3", DurationParseErrorKind::MissingUnit, r#"time: missing unit in duration "3""#),
        ("-", DurationParseErrorKind::Invalid, r#"time: invalid duration "-""#),
        ("s", DurationParseErrorKind::Invalid, r#"time: invalid duration "s""#),
        (".", DurationParseErrorKind::Invalid, r#"time: invalid duration ".""#),
        ("-.", DurationParseErrorKind::Invalid, r#"time: invalid duration "-.""#),
        (".s", DurationParseErrorKind::Invalid, r#"time: invalid duration ".s""#),
        ("+.s", DurationParseErrorKind::Invalid, r#"time: invalid duration "+.s""#),
        ("1d", DurationParseErrorKind::UnknownUnit, r#"time: unknown unit "d" in duration "1d""#),
        ("\u{FFFD}", DurationParseErrorKind::Invalid, r#"time: invalid duration "\xef\xbf\xbd""#),
        (
            "\u{FFFD} hello \u{FFFD} world",
            DurationParseErrorKind::Invalid,
            r#"time: invalid duration "\xef\xbf\xbd hello \xef\xbf\xbd world""#,
        ),
        // overflow
        ("9223372036854775810ns", DurationParseErrorKind::Invalid, r#"time: invalid duration "9223372036854775810ns""#),
        ("9223372036854775808ns", DurationParseErrorKind::Invalid, r#"time: invalid duration "9223372036854775808ns""#),
        (
            "-9223372036854775809ns",
            DurationParseErrorKind::Invalid,
            r#"time: invalid duration "-9223372036854775809ns""#,
        ),
        ("9223372036854776us", DurationParseErrorKind::Invalid, r#"time: invalid duration "9223372036854776us""#),
        ("3000000h", DurationParseErrorKind::Invalid, r#"time: invalid duration "3000000h""#),
        (
            "9223372036854775.808us",
            DurationParseErrorKind::Invalid,
            r#"time: invalid duration "9223372036854775.808us""#,
        ),
        (
            "9223372036854ms775us808ns",
            DurationParseErrorKind::Invalid,
            r#"time: invalid duration "9223372036854ms775us808ns""#,
        ),
    ];

    /// Go's `durationTests` for `Duration.String()` (`src/time/time_test.go`).
    const GO_STRING_CASES: &[(&str, i64)] = &[
        ("0s", 0),
        ("1ns", NS),
        ("1.1µs", 1100 * NS),
        ("2.2ms", 2200 * US),
        ("3.3s", 3300 * MS),
        ("4m5s", 4 * M + 5 * S),
        ("4m5.001s", 4 * M + 5001 * MS),
        ("5h6m7.001s", 5 * H + 6 * M + 7001 * MS),
        ("8m0.000000001s", 8 * M + NS),
        ("2562047h47m16.854775807s", i64::MAX),
        ("-2562047h47m16.854775808s", i64::MIN),
    ];

    #[test]
    fn go_parse_duration_table() {
        for &(input, want) in GO_PARSE_CASES {
            assert_eq!(parse(input), Ok(Duration::from_nanos(want)), "parsing {input:?}");
        }
    }

    #[test]
    fn go_parse_duration_error_table() {
        for &(input, kind, message) in GO_ERROR_CASES {
            let err = parse(input).expect_err(input);
            assert_eq!(err.kind(), kind, "kind for {input:?}");
            assert_eq!(err.to_string(), message, "message for {input:?}");
            assert_eq!(err.input(), input);
        }
    }

    #[test]
    fn go_duration_string_table() {
        for &(want, nanos) in GO_STRING_CASES {
            assert_eq!(fmt_nanos(nanos), want, "formatting {nanos}");
            // As Go's test does: a positive duration negated prints with a leading '-'.
            if nanos > 0 {
                assert_eq!(fmt_nanos(-nanos), format!("-{want}"), "formatting {}", -nanos);
            }
        }
    }

    #[test]
    fn string_examples() {
        let cases: &[(i64, &str)] = &[
            (1_500 * MS, "1.5s"),
            (M, "1m0s"),
            (H + 30 * M, "1h30m0s"),
            (H + 500 * MS, "1h0m0.5s"),
            (100 * MS, "100ms"),
            (1_500, "1.5µs"),
            (1, "1ns"),
            (-M, "-1m0s"),
            (999, "999ns"),
            (1_000, "1µs"),
            (999_999, "999.999µs"),
            (1_000_001, "1.000001ms"),
            (999_999_999, "999.999999ms"),
            (S, "1s"),
            (S + 1, "1.000000001s"),
            (59 * S, "59s"),
            (H, "1h0m0s"),
            (100 * H + 10 * MS, "100h0m0.01s"),
            (-1, "-1ns"),
            (-1_500, "-1.5µs"),
        ];
        for &(nanos, want) in cases {
            assert_eq!(fmt_nanos(nanos), want);
        }
        assert_eq!(Duration::MIN.to_string(), "-2562047h47m16.854775808s");
        assert_eq!(Duration::MAX.to_string(), "2562047h47m16.854775807s");
        assert_eq!(Duration::ZERO.to_string(), "0s");
        assert!(fmt_nanos(1_500).contains('\u{00B5}'), "Go prints the micro sign U+00B5");
    }

    #[test]
    fn kubefleet_normalises_user_input() {
        // What a user writes vs. what KubeFleet writes back into a status.
        let cases = [
            ("1m", "1m0s"),
            ("90s", "1m30s"),
            ("0.5h", "30m0s"),
            ("1h", "1h0m0s"),
            ("1.5h", "1h30m0s"),
            ("1d", ""),
            ("300ms", "300ms"),
            ("1000ms", "1s"),
            ("0", "0s"),
            ("-0", "0s"),
            ("12μs", "12µs"),
            ("1h-0m", ""),
        ];
        for (input, want) in cases {
            match parse(input) {
                Ok(d) => assert_eq!(d.to_string(), want, "{input:?}"),
                Err(_) => assert!(want.is_empty(), "{input:?} should parse"),
            }
        }
    }

    #[test]
    fn more_go_parse_behaviour() {
        let ok: &[(&str, i64)] = &[
            ("1.9ns", 1),         // fractions truncate
            ("0.0000000001s", 0), // below a nanosecond
            ("1.0000000009s", S), // truncated, not rounded
            ("0.5h", 30 * M),
            ("-1h30m", -(H + 30 * M)), // the sign covers every term
            ("1ns1ns", 2),             // units may repeat
            ("1s1h", H + S),           // in any order
            ("00001s", S),             // leading zeros
            ("-0s", 0),
            ("+0.0s", 0),
            ("2562047h47m16.854775807s", i64::MAX),
            ("2562047.7880152155h", 9_223_372_036_854_775_800), // fraction of the largest unit
            ("0.000000000000000000000000000001h", 0),           // many fraction digits
            ("1.00000000000000000000000000000000000000000000001s", S),
        ];
        for &(input, want) in ok {
            assert_eq!(parse(input), Ok(Duration::from_nanos(want)), "parsing {input:?}");
        }

        let err: &[(&str, DurationParseErrorKind, &str)] = &[
            ("00", DurationParseErrorKind::MissingUnit, r#"time: missing unit in duration "00""#),
            ("1", DurationParseErrorKind::MissingUnit, r#"time: missing unit in duration "1""#),
            ("0.0", DurationParseErrorKind::MissingUnit, r#"time: missing unit in duration "0.0""#),
            ("1h30", DurationParseErrorKind::MissingUnit, r#"time: missing unit in duration "1h30""#),
            ("1.2.3s", DurationParseErrorKind::MissingUnit, r#"time: missing unit in duration "1.2.3s""#),
            ("+", DurationParseErrorKind::Invalid, r#"time: invalid duration "+""#),
            ("--1s", DurationParseErrorKind::Invalid, r#"time: invalid duration "--1s""#),
            ("+-1s", DurationParseErrorKind::Invalid, r#"time: invalid duration "+-1s""#),
            (" 1s", DurationParseErrorKind::Invalid, r#"time: invalid duration " 1s""#),
            ("1s.", DurationParseErrorKind::Invalid, r#"time: invalid duration "1s.""#),
            (
                "2562047h47m16.854775808s",
                DurationParseErrorKind::Invalid,
                r#"time: invalid duration "2562047h47m16.854775808s""#,
            ),
            (
                "-9223372036854775808ns1ns",
                DurationParseErrorKind::Invalid,
                r#"time: invalid duration "-9223372036854775808ns1ns""#,
            ),
            (
                "18446744073709551616ns",
                DurationParseErrorKind::Invalid,
                r#"time: invalid duration "18446744073709551616ns""#,
            ),
            ("1h-5m", DurationParseErrorKind::UnknownUnit, r#"time: unknown unit "h-" in duration "1h-5m""#),
            ("1h 30m", DurationParseErrorKind::UnknownUnit, r#"time: unknown unit "h " in duration "1h 30m""#),
            ("1s ", DurationParseErrorKind::UnknownUnit, r#"time: unknown unit "s " in duration "1s ""#),
            ("1H", DurationParseErrorKind::UnknownUnit, r#"time: unknown unit "H" in duration "1H""#),
            ("1ss", DurationParseErrorKind::UnknownUnit, r#"time: unknown unit "ss" in duration "1ss""#),
            ("1e3s", DurationParseErrorKind::UnknownUnit, r#"time: unknown unit "e" in duration "1e3s""#),
            ("1µ", DurationParseErrorKind::UnknownUnit, r#"time: unknown unit "\xc2\xb5" in duration "1\xc2\xb5""#),
            (
                // A Cyrillic "с" that looks like the Latin "s".
                "5\u{441}",
                DurationParseErrorKind::UnknownUnit,
                r#"time: unknown unit "\xd1\x81" in duration "5\xd1\x81""#,
            ),
            ("1\"", DurationParseErrorKind::UnknownUnit, r#"time: unknown unit "\"" in duration "1\"""#),
            ("1\\", DurationParseErrorKind::UnknownUnit, r#"time: unknown unit "\\" in duration "1\\""#),
            (
                "1\t\n\u{7f}",
                DurationParseErrorKind::UnknownUnit,
                "time: unknown unit \"\\x09\\x0a\u{7f}\" in duration \"1\\x09\\x0a\u{7f}\"",
            ),
        ];
        for &(input, kind, message) in err {
            let e = parse(input).expect_err(input);
            assert_eq!((e.kind(), e.to_string().as_str()), (kind, message), "for {input:?}");
        }
        assert_eq!(parse("1h-5m").unwrap_err().unit(), Some("h-"));
        assert_eq!(parse("1h").err(), None);
        assert_eq!(parse("3").unwrap_err().unit(), None);
    }

    #[test]
    fn go_magnitude_wraparound_is_replicated() {
        // Go's uint64 accumulator wraps when two terms are each exactly 2^63 ns; Go then
        // returns the wrapped sum without error. See the module docs.
        let two_pow_63 = "9223372036854775808ns";
        assert_eq!(parse(&format!("{two_pow_63}{two_pow_63}")), Ok(Duration::ZERO));
        assert_eq!(parse(&format!("-{two_pow_63}{two_pow_63}")), Ok(Duration::ZERO));
        assert_eq!(parse(&format!("{two_pow_63}{two_pow_63}1m")), Ok(Duration::from_minutes(1)));
        assert_eq!(parse("9223372036.854775808s9223372036854775.808us"), Ok(Duration::ZERO));
        // One nanosecond short of the wrap is a plain overflow.
        assert_eq!(
            parse(&format!("{two_pow_63}9223372036854775807ns")).map_err(|e| e.kind()),
            Err(DurationParseErrorKind::Invalid)
        );
    }

    #[test]
    fn constructors_and_getters() {
        assert_eq!(Duration::default(), Duration::ZERO);
        assert_eq!(Duration::from_secs(2).as_nanos(), 2 * S);
        assert_eq!(Duration::from_millis(-3).as_nanos(), -3 * MS);
        assert_eq!(Duration::from_minutes(5).as_nanos(), 5 * M);
        assert_eq!(Duration::from_secs(i64::MAX), Duration::MAX);
        assert_eq!(Duration::from_secs(i64::MIN), Duration::MIN);
        assert_eq!(Duration::from_millis(i64::MAX), Duration::MAX);
        assert_eq!(Duration::from_minutes(i64::MIN), Duration::MIN);
        assert_eq!(Duration::from_secs(9_223_372_036).as_nanos(), 9_223_372_036 * S);
        assert_eq!(Duration::from_secs(9_223_372_037), Duration::MAX);
        assert!(Duration::ZERO.is_zero() && !Duration::ZERO.is_negative());
        assert!(Duration::from_nanos(-1).is_negative() && !Duration::from_nanos(1).is_negative());
        assert!(Duration::MIN < Duration::ZERO && Duration::ZERO < Duration::MAX);
    }

    #[test]
    fn arithmetic_never_overflows() {
        let one = Duration::from_nanos(1);
        assert_eq!(Duration::MAX.checked_add(one), None);
        assert_eq!(Duration::MIN.checked_sub(one), None);
        assert_eq!(Duration::MAX.checked_sub(one), Some(Duration::from_nanos(i64::MAX - 1)));
        assert_eq!(one.checked_add(one), Some(Duration::from_nanos(2)));
        assert_eq!(Duration::MAX.saturating_add(one), Duration::MAX);
        assert_eq!(Duration::MIN.saturating_add(Duration::from_nanos(-1)), Duration::MIN);
        assert_eq!(one.saturating_add(one), Duration::from_nanos(2));
    }

    #[test]
    fn std_conversions() {
        assert_eq!(Duration::from_millis(1_500).to_std(), Some(std::time::Duration::from_millis(1_500)));
        assert_eq!(Duration::ZERO.to_std(), Some(std::time::Duration::ZERO));
        assert_eq!(Duration::from_nanos(-1).to_std(), None);
        assert_eq!(Duration::MAX.to_std(), Some(std::time::Duration::from_nanos(i64::MAX as u64)));
        assert_eq!(Duration::from_std(std::time::Duration::from_secs(60)), Some(Duration::from_minutes(1)));
        let max_std = std::time::Duration::from_nanos(i64::MAX as u64);
        assert_eq!(Duration::from_std(max_std), Some(Duration::MAX));
        assert_eq!(Duration::from_std(max_std + std::time::Duration::from_nanos(1)), None);
        assert_eq!(Duration::from_std(std::time::Duration::MAX), None);
    }

    #[test]
    fn secs_ceil() {
        let cases: &[(i64, i64)] = &[
            (0, 0),
            (1, 1),
            (S - 1, 1),
            (S, 1),
            (S + 1, 2),
            (1_500 * MS, 2),
            (M, 60),
            (-1, 0),
            (-500 * MS, 0),
            (-S, -1),
            (-1_500 * MS, -1),
            (-2 * S, -2),
            (i64::MAX, 9_223_372_037),
            (i64::MIN, -9_223_372_036),
        ];
        for &(nanos, want) in cases {
            assert_eq!(Duration::from_nanos(nanos).as_secs_ceil(), want, "ceil of {nanos}ns");
        }
    }

    #[test]
    fn serde_json_round_trip() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Task {
            wait_time: Duration,
        }

        assert_eq!(serde_json::to_string(&Duration::from_minutes(1)).unwrap(), r#""1m0s""#);
        assert_eq!(serde_json::to_string(&Duration::from_nanos(1_500)).unwrap(), "\"1.5µs\"");
        assert_eq!(serde_json::to_string(&Duration::MIN).unwrap(), r#""-2562047h47m16.854775808s""#);

        // A user's `waitTime: 1m` comes back as `1m0s`.
        let task: Task = serde_json::from_str(r#"{"waitTime":"1m"}"#).unwrap();
        assert_eq!(task, Task { wait_time: Duration::from_minutes(1) });
        assert_eq!(serde_json::to_string(&task).unwrap(), r#"{"waitTime":"1m0s"}"#);

        for nanos in [0, 1, -1, 1_500, 90 * S, H + 500 * MS, i64::MAX, i64::MIN] {
            let d = Duration::from_nanos(nanos);
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(serde_json::from_str::<Duration>(&json).unwrap(), d, "{json}");
            let value = serde_json::to_value(d).unwrap();
            assert_eq!(serde_json::from_value::<Duration>(value).unwrap(), d);
        }
        // Escaped JSON strings are decoded before parsing.
        assert_eq!(serde_json::from_str::<Duration>(r#""1\u00b5s""#).unwrap(), Duration::from_nanos(1_000));
    }

    #[test]
    fn serde_json_errors() {
        let err = serde_json::from_str::<Duration>(r#""1d""#).unwrap_err().to_string();
        assert!(err.starts_with(r#"time: unknown unit "d" in duration "1d""#), "{err}");
        let err = serde_json::from_str::<Duration>(r#""""#).unwrap_err().to_string();
        assert!(err.starts_with(r#"time: invalid duration """#), "{err}");
        assert!(serde_json::from_str::<Duration>("60").is_err(), "numbers are not durations");
        assert!(serde_json::from_str::<Duration>("null").is_err());
    }

    #[test]
    fn error_is_a_std_error_and_cloneable() {
        let err = parse("x").unwrap_err();
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err.clone());
        assert_eq!(boxed.to_string(), r#"time: invalid duration "x""#);
        assert_eq!(err, parse("x").unwrap_err());
        assert_ne!(err, parse("y").unwrap_err());
    }

    /// A term of a duration string whose exact value is known without floating point: the
    /// fraction has at most as many digits as the unit has trailing decimal zeros.
    #[derive(Debug, Clone)]
    struct ExactTerm {
        int_digits: String,
        frac_digits: Option<String>,
        unit: &'static str,
        unit_nanos: u64,
    }

    impl ExactTerm {
        fn text(&self) -> String {
            match &self.frac_digits {
                Some(frac) => format!("{}.{}{}", self.int_digits, frac, self.unit),
                None => format!("{}{}", self.int_digits, self.unit),
            }
        }

        /// The magnitude in nanoseconds, exactly, or `None` if the integer part alone is
        /// beyond what Go's `leadingInt` accepts (more than 2⁶³).
        fn exact_nanos(&self) -> Option<u128> {
            let int: u128 = if self.int_digits.is_empty() { 0 } else { self.int_digits.parse().ok()? };
            if int > u128::from(MAGNITUDE_LIMIT) {
                return None;
            }
            let mut total = int * u128::from(self.unit_nanos);
            if let Some(frac) = &self.frac_digits
                && !frac.is_empty()
            {
                let f: u128 = frac.parse().ok()?;
                let scale = 10u128.pow(u32::try_from(frac.len()).ok()?);
                total += f * u128::from(self.unit_nanos) / scale;
            }
            Some(total)
        }
    }

    fn exact_term() -> impl Strategy<Value = ExactTerm> {
        // (unit, nanos, fraction digits that keep unit/10^k an integer)
        let units: &[(&'static str, u64, usize)] = &[
            ("ns", 1, 0),
            ("us", 1_000, 3),
            ("µs", 1_000, 3),
            ("μs", 1_000, 3),
            ("ms", 1_000_000, 6),
            ("s", 1_000_000_000, 9),
            ("m", 60_000_000_000, 10),
            ("h", 3_600_000_000_000, 11),
        ];
        let units = units.to_vec();
        (proptest::sample::select(units), any::<u64>(), 0u32..21, any::<bool>(), any::<bool>()).prop_flat_map(
            |((unit, unit_nanos, max_frac), raw, magnitude, fractional, leading_zero)| {
                let int = if magnitude == 20 { raw } else { raw % 10u64.pow(magnitude) };
                let int_digits = if leading_zero { format!("0{int}") } else { int.to_string() };
                let frac = if fractional {
                    proptest::string::string_regex(&format!("[0-9]{{0,{max_frac}}}"))
                        .expect("valid regex")
                        .prop_map(Some)
                        .boxed()
                } else {
                    Just(None).boxed()
                };
                frac.prop_map(move |frac_digits| ExactTerm {
                    int_digits: int_digits.clone(),
                    frac_digits,
                    unit,
                    unit_nanos,
                })
            },
        )
    }

    /// Strings over the characters that matter to the parser.
    fn duration_alphabet() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::string::string_regex("[-+0-9.nsuµμmhd \u{FFFD}\"\\\\]{0,40}").expect("valid regex"),
            proptest::string::string_regex("[-+]?(([0-9]{0,22}(\\.[0-9]{0,25})?)(ns|us|µs|μs|ms|s|m|h|d|)){1,5}")
                .expect("valid regex"),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        #[test]
        fn display_round_trips_every_i64(nanos in any::<i64>()) {
            let d = Duration::from_nanos(nanos);
            prop_assert_eq!(d.to_string().parse::<Duration>(), Ok(d));
        }

        #[test]
        fn display_round_trips_near_unit_boundaries(
            base in proptest::sample::select(vec![0, US, MS, S, M, H, i64::MAX, i64::MIN]),
            delta in -1_000i64..1_000,
        ) {
            let d = Duration::from_nanos(base.saturating_add(delta));
            prop_assert_eq!(d.to_string().parse::<Duration>(), Ok(d));
        }

        #[test]
        fn serde_round_trips_every_i64(nanos in any::<i64>()) {
            let d = Duration::from_nanos(nanos);
            let json = serde_json::to_string(&d).unwrap();
            prop_assert_eq!(serde_json::from_str::<Duration>(&json).unwrap(), d);
        }

        #[test]
        fn parse_never_panics_on_any_string(s in ".*") {
            let _ = s.parse::<Duration>();
        }

        #[test]
        fn parse_never_panics_on_duration_like_strings(s in duration_alphabet()) {
            match s.parse::<Duration>() {
                // Whatever parses formats to a canonical string that parses back to itself.
                Ok(d) => prop_assert_eq!(d.to_string().parse::<Duration>(), Ok(d)),
                Err(e) => {
                    prop_assert_eq!(e.input(), s.as_str());
                    prop_assert!(e.to_string().starts_with("time: "));
                }
            }
        }

        #[test]
        fn parse_matches_exact_arithmetic(
            sign in proptest::sample::select(vec!["", "+", "-"]),
            terms in proptest::collection::vec(exact_term(), 1..5),
        ) {
            let text = format!("{sign}{}", terms.iter().map(ExactTerm::text).collect::<String>());
            let negative = sign == "-";

            // Terms without any digit (".s") are Go syntax errors; they are not this test's
            // subject.
            let all_have_digits = terms.iter().all(|t| {
                !t.int_digits.is_empty() || t.frac_digits.as_ref().is_some_and(|f| !f.is_empty())
            });
            prop_assume!(all_have_digits);

            let limit = u128::from(MAGNITUDE_LIMIT);
            let mut expected: Option<u128> = Some(0);
            for term in &terms {
                expected = match (expected, term.exact_nanos()) {
                    (Some(acc), Some(t)) if t <= limit => {
                        // The one place Go wraps instead of failing (see module docs).
                        prop_assume!(!(acc == limit && t == limit));
                        Some(acc + t).filter(|&sum| sum <= limit)
                    }
                    _ => None,
                };
            }
            let expected = expected.and_then(|m| {
                let magnitude = i128::try_from(m).ok()?;
                i64::try_from(if negative { -magnitude } else { magnitude }).ok()
            });
            match expected {
                Some(nanos) => prop_assert_eq!(
                    text.parse::<Duration>(),
                    Ok(Duration::from_nanos(nanos)),
                    "{}", text
                ),
                None => prop_assert_eq!(
                    text.parse::<Duration>().map_err(|e| e.kind()),
                    Err(DurationParseErrorKind::Invalid),
                    "{}", text
                ),
            }
        }
    }
}
