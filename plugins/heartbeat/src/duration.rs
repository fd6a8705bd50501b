//! Durations in the plugin config: `"4s"`, `"500ms"`, `"1.5s"`, `"2m"`,
//! `"1h"`, or a bare number of milliseconds; and the short form they are
//! printed in, in alert descriptions (`4s`, `6.2s`).

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

/// Parse a duration written as a number followed by `ms`, `s`, `m` or `h`.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = (&text[..split], text[split..].trim_start());
    let seconds_per_unit = match unit {
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(invalid(text)),
    };
    let number: f64 = number.parse().map_err(|_| invalid(text))?;
    Duration::try_from_secs_f64(number * seconds_per_unit).map_err(|_| invalid(text))
}

fn invalid(text: &str) -> String {
    format!(
        "invalid duration {text:?}: write a number followed by ms, s, m or h (\"4s\", \"500ms\")"
    )
}

/// `duration` in seconds with at most one decimal: `4s`, `6.2s`, `0.5s`.
pub(crate) fn format_seconds(duration: Duration) -> String {
    let tenths = (duration.as_secs_f64() * 10.0).round() / 10.0;
    format!("{tenths}s")
}

/// Deserialize a duration from a string (see [`parse`]) or a number of
/// milliseconds.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    deserializer.deserialize_any(DurationVisitor)
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as \"4s\" or \"500ms\", or a number of milliseconds")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        parse(text).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, millis: u64) -> Result<Duration, E> {
        Ok(Duration::from_millis(millis))
    }

    fn visit_i64<E: de::Error>(self, millis: i64) -> Result<Duration, E> {
        u64::try_from(millis)
            .map(Duration::from_millis)
            .map_err(|_| E::custom(format!("invalid duration {millis}: it is negative")))
    }

    fn visit_f64<E: de::Error>(self, millis: f64) -> Result<Duration, E> {
        Duration::try_from_secs_f64(millis / 1000.0).map_err(|_| {
            E::custom(format!(
                "invalid duration {millis}: not a number of milliseconds"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit_and_fractions() {
        assert_eq!(parse("4s"), Ok(Duration::from_secs(4)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse(" 1.5s "), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("10 s"), Ok(Duration::from_secs(10)));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for text in ["4", "4 seconds", "s", "", "-1s", "1..5s", "4d"] {
            let err = parse(text).unwrap_err();
            assert!(
                err.starts_with(&format!("invalid duration {text:?}")),
                "{err}"
            );
        }
    }

    #[test]
    fn deserializes_strings_and_milliseconds() {
        let de = |json: &str| deserialize(&mut serde_json::Deserializer::from_str(json));
        assert_eq!(de("\"4s\"").unwrap(), Duration::from_secs(4));
        assert_eq!(de("250").unwrap(), Duration::from_millis(250));
        assert_eq!(de("2.5").unwrap(), Duration::from_micros(2500));
        assert!(de("-5").unwrap_err().to_string().contains("negative"));
        assert!(
            de("true")
                .unwrap_err()
                .to_string()
                .contains("a duration such as")
        );
    }

    #[test]
    fn formats_seconds_with_at_most_one_decimal() {
        assert_eq!(format_seconds(Duration::from_secs(4)), "4s");
        assert_eq!(format_seconds(Duration::from_millis(6_240)), "6.2s");
        assert_eq!(format_seconds(Duration::from_millis(500)), "0.5s");
        assert_eq!(format_seconds(Duration::from_secs(120)), "120s");
    }
}
