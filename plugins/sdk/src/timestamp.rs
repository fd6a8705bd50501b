//! Timestamps read from data (a CSV column, a JSON path, a regex capture):
//! one `timestamp_format` grammar for every parser.
//!
//! - `rfc3339`: `2026-11-28T07:10:00Z`, `2026-11-28T07:10:00.5+01:00`
//!   (a space instead of the `T` is accepted);
//! - `unix`, `unix_ms`, `unix_us`, `unix_ns`: a number of seconds (with a
//!   fraction), milliseconds, microseconds or nanoseconds since the epoch;
//! - anything else is a `strftime` pattern (`%Y-%m-%d %H:%M:%S`,
//!   `%d/%b/%Y:%H:%M:%S %z`, …; jiff's `strtime`): a time without an
//!   offset (`%z`) is taken as UTC.
//!
//! ```
//! use foghorn_plugin::timestamp::TimeFormat;
//!
//! let format: TimeFormat = serde_json::from_str(r#""%Y-%m-%d %H:%M:%S""#).unwrap();
//! assert_eq!(format.parse("1970-01-01 00:00:01"), Ok(1_000_000_000));
//! let format: TimeFormat = serde_json::from_str(r#""unix_ms""#).unwrap();
//! assert_eq!(format.parse("1500"), Ok(1_500_000_000));
//! assert!(format.parse("soon").unwrap_err().contains("soon"));
//! ```

mod fast;

use serde::{Deserialize, Deserializer};

/// How a timestamp is written in the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeFormat {
    /// RFC 3339 / ISO 8601 with an offset.
    Rfc3339,
    /// Seconds since the epoch, with an optional fraction.
    Unix,
    /// Milliseconds since the epoch.
    UnixMs,
    /// Microseconds since the epoch.
    UnixUs,
    /// Nanoseconds since the epoch.
    UnixNs,
    /// A `strftime` pattern; UTC unless it has an offset.
    Strftime(String),
}

impl TimeFormat {
    /// The format named `text` (see the module documentation).
    ///
    /// # Errors
    /// An empty pattern, or one with no `%` directive.
    pub fn new(text: &str) -> Result<Self, String> {
        Ok(match text {
            "rfc3339" => Self::Rfc3339,
            "unix" => Self::Unix,
            "unix_ms" => Self::UnixMs,
            "unix_us" => Self::UnixUs,
            "unix_ns" => Self::UnixNs,
            pattern if pattern.contains('%') => Self::Strftime(pattern.to_owned()),
            other => {
                return Err(format!(
                    "timestamp format {other:?} is not rfc3339, unix, unix_ms, unix_us, unix_ns or a strftime pattern such as \"%Y-%m-%d %H:%M:%S\""
                ));
            }
        })
    }

    /// `text` as nanoseconds since the epoch. The common shapes (plain
    /// integers, RFC 3339 with `Z` or `±HH:MM`) are read in straight code,
    /// the rest by the general parser, with the same result.
    ///
    /// # Errors
    /// Why `text` is not a timestamp in this format, quoting it.
    #[inline]
    pub fn parse(&self, text: &str) -> Result<i64, String> {
        match fast::parse(self, text) {
            Some(nanos) => Ok(nanos),
            None => self.parse_general(text),
        }
    }

    /// The nanoseconds of `value` in a `unix*` format, if in range; `None`
    /// for the other formats, which read text.
    #[inline]
    #[must_use]
    pub fn from_integer(&self, value: i64) -> Option<i64> {
        match self {
            Self::Unix => fast::scale::<1_000_000_000>(value),
            Self::UnixMs => fast::scale::<1_000_000>(value),
            Self::UnixUs => fast::scale::<1_000>(value),
            Self::UnixNs => Some(value),
            Self::Rfc3339 | Self::Strftime(_) => None,
        }
    }

    /// [`TimeFormat::parse`] by the general parser alone.
    fn parse_general(&self, text: &str) -> Result<i64, String> {
        let text = text.trim();
        let parsed = match self {
            Self::Rfc3339 => text
                .parse::<jiff::Timestamp>()
                .map_err(|e| e.to_string())
                .and_then(|t| nanos(t.as_nanosecond())),
            Self::Unix => decimal_seconds(text).map_or_else(|| scaled(text, 1e9), Ok),
            Self::UnixMs => integer_or_scaled(text, 1_000_000),
            Self::UnixUs => integer_or_scaled(text, 1_000),
            Self::UnixNs => text.parse::<i64>().map_err(|e| e.to_string()),
            Self::Strftime(pattern) => strftime(pattern, text),
        };
        parsed.map_err(|reason| format!("timestamp {text:?} is not {}: {reason}", self.name()))
    }

    /// The format as written in the config.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::Rfc3339 => "rfc3339",
            Self::Unix => "unix",
            Self::UnixMs => "unix_ms",
            Self::UnixUs => "unix_us",
            Self::UnixNs => "unix_ns",
            Self::Strftime(pattern) => pattern,
        }
    }
}

impl<'de> Deserialize<'de> for TimeFormat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

/// `nanos` since the epoch as seconds since the epoch, the whole seconds
/// exact (a float of the nanoseconds divided by 1e9 is not, past 2^53 ns):
/// the value of pandas' `Timestamp.timestamp()` and, for whole seconds, of
/// `astype("int64") // 10**9`.
///
/// ```
/// use foghorn_plugin::timestamp::epoch_seconds;
///
/// assert_eq!(epoch_seconds(1_709_427_720_000_000_000), 1_709_427_720.0);
/// assert_eq!(epoch_seconds(-1_500_000_000), -1.5);
/// ```
#[must_use]
#[allow(
    clippy::cast_precision_loss,
    reason = "whole seconds of an i64 of nanoseconds fit a float's 53 bits"
)]
pub fn epoch_seconds(nanos: i64) -> f64 {
    let seconds = nanos.div_euclid(1_000_000_000);
    let fraction = nanos.rem_euclid(1_000_000_000);
    seconds as f64 + fraction as f64 / 1e9
}

fn nanos(value: i128) -> Result<i64, String> {
    i64::try_from(value).map_err(|_| "out of range (years 1678 to 2262)".to_owned())
}

#[allow(
    clippy::cast_possible_truncation,
    reason = "range checked before the cast"
)]
fn scaled(text: &str, scale: f64) -> Result<i64, String> {
    let value = crate::number::parse_f64(text).ok_or("not a number")?;
    let nanos = (value * scale).round();
    if !nanos.is_finite() || nanos.abs() >= 9.2e18 {
        return Err("out of range (years 1678 to 2262)".to_owned());
    }
    Ok(nanos as i64)
}

/// `[-]seconds[.fraction]` exactly (no float rounding), when written so.
fn decimal_seconds(text: &str) -> Option<i64> {
    let (negative, digits) = text
        .strip_prefix('-')
        .map_or((false, text), |rest| (true, rest));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > 9 {
        return None;
    }
    let fraction: i64 = format!("{fraction:0<9}").parse().ok()?;
    let nanos = whole
        .parse::<i64>()
        .ok()?
        .checked_mul(1_000_000_000)?
        .checked_add(fraction)?;
    Some(if negative { -nanos } else { nanos })
}

fn integer_or_scaled(text: &str, scale: i64) -> Result<i64, String> {
    match text.parse::<i64>() {
        Ok(value) => value
            .checked_mul(scale)
            .ok_or_else(|| "out of range (years 1678 to 2262)".to_owned()),
        #[allow(clippy::cast_precision_loss, reason = "a power of ten")]
        Err(_) => scaled(text, scale as f64),
    }
}

fn strftime(pattern: &str, text: &str) -> Result<i64, String> {
    let broken = jiff::fmt::strtime::parse(pattern, text).map_err(|e| e.to_string())?;
    let timestamp = match broken.to_timestamp() {
        Ok(timestamp) => timestamp,
        // No offset in the pattern: the civil time is UTC.
        Err(_) => broken
            .to_datetime()
            .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC))
            .map_err(|e| e.to_string())?
            .timestamp(),
    };
    nanos(timestamp.as_nanosecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(format: &str, text: &str) -> Result<i64, String> {
        TimeFormat::new(format).unwrap().parse(text)
    }

    #[test]
    fn each_format_reads_the_same_instant() {
        let want = 1_764_313_800_250_000_000; // 2025-11-28T07:10:00.25Z
        assert_eq!(parse("rfc3339", "2025-11-28T07:10:00.25Z"), Ok(want));
        assert_eq!(parse("rfc3339", "2025-11-28 08:10:00.25+01:00"), Ok(want));
        assert_eq!(parse("unix", "1764313800.25"), Ok(want));
        assert_eq!(parse("unix_ms", "1764313800250"), Ok(want));
        assert_eq!(parse("unix_us", "1764313800250000"), Ok(want));
        assert_eq!(parse("unix_ns", "1764313800250000000"), Ok(want));
        assert_eq!(
            parse("%Y-%m-%d %H:%M:%S%.f", "2025-11-28 07:10:00.25"),
            Ok(want)
        );
        assert_eq!(
            parse("%d/%b/%Y:%H:%M:%S %z", "28/Nov/2025:08:10:00 +0100"),
            Ok(want - 250_000_000)
        );
    }

    #[test]
    fn a_bad_timestamp_says_what_and_which_format() {
        let error = parse("%Y-%m-%d", "2025-13-01").unwrap_err();
        assert!(
            error.starts_with("timestamp \"2025-13-01\" is not %Y-%m-%d: "),
            "{error}"
        );
        assert!(parse("unix", "9e30").unwrap_err().contains("out of range"));
        assert!(parse("unix_ms", "x").is_err());
        assert!(TimeFormat::new("iso").unwrap_err().contains("strftime"));
    }
}
