//! Small pieces of Go's standard library whose exact output ends up in KubeFleet's messages.
//!
//! KubeFleet's condition messages embed Go error strings (`strconv.Atoi: parsing "x": invalid
//! syntax`) and Go-quoted values. Reproducing them byte for byte is what lets a status written by
//! this crate be compared with one written by KubeFleet's controller.

use std::fmt::Write as _;

/// Go's `strconv.Quote`: a double-quoted string with Go escape sequences.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `strconv.IsPrint` that is exact for ASCII and for the letters,
/// digits and symbols that appear in Kubernetes names and labels.
fn is_go_printable(c: char) -> bool {
    !c.is_control() && !matches!(c, '\u{00ad}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// The error of [`atoi`], formatted as Go's `*strconv.NumError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AtoiError {
    input: String,
    out_of_range: bool,
}

impl std::fmt::Display for AtoiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.out_of_range { "value out of range" } else { "invalid syntax" };
        write!(f, "strconv.Atoi: parsing {}: {what}", quote(&self.input))
    }
}

/// Go's `strconv.Atoi` on a 64-bit platform: an optional sign and decimal digits, nothing else.
pub(crate) fn atoi(s: &str) -> Result<i64, AtoiError> {
    let syntax = || AtoiError { input: s.to_owned(), out_of_range: false };
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax());
    }
    let mut value: i64 = 0;
    for b in digits.bytes() {
        let d = i64::from(b - b'0');
        value = match value.checked_mul(10).and_then(|v| if negative { v.checked_sub(d) } else { v.checked_add(d) }) {
            Some(v) => v,
            None => return Err(AtoiError { input: s.to_owned(), out_of_range: true }),
        };
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_matches_go() {
        assert_eq!(atoi("12"), Ok(12));
        assert_eq!(atoi("-7"), Ok(-7));
        assert_eq!(atoi("+7"), Ok(7));
        assert_eq!(atoi("007"), Ok(7));
        assert_eq!(atoi("").unwrap_err().to_string(), r#"strconv.Atoi: parsing "": invalid syntax"#);
        assert_eq!(atoi("1.5").unwrap_err().to_string(), r#"strconv.Atoi: parsing "1.5": invalid syntax"#);
        assert_eq!(atoi(" 1").unwrap_err().to_string(), r#"strconv.Atoi: parsing " 1": invalid syntax"#);
        assert_eq!(
            atoi("9223372036854775808").unwrap_err().to_string(),
            r#"strconv.Atoi: parsing "9223372036854775808": value out of range"#
        );
        assert_eq!(atoi("-9223372036854775808"), Ok(i64::MIN));
    }

    #[test]
    fn quote_matches_go() {
        assert_eq!(quote("abc"), r#""abc""#);
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("\n\t\u{1}"), r#""\n\t\x01""#);
        assert_eq!(quote("µs"), "\"µs\"");
    }
}
