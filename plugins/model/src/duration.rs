//! The one duration grammar of foghorn: what the agent's YAML and every
//! plugin's `config` accept (`50ms`, `4s`, `5m`, `1h 30m`, `0s`), and the
//! form durations are written back in (`1s 500ms`).
//!
//! Built on `humantime`: a unit is required (a bare `4` is refused: is it
//! seconds or milliseconds?), units may be spelled out (`4 sec`, `2 hours`).

use std::time::Duration;

/// Parse a duration such as `50ms`, `4s`, `5m`, `1h 30m` or `0s`.
///
/// # Errors
/// A message naming the text and the expected shape.
pub fn parse(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|error| {
        let error = error.to_string();
        if error.contains("for example") {
            format!("invalid duration `{text}`: {error}")
        } else {
            format!(
                "invalid duration `{text}`: {error}; write a number and a unit, e.g. 50ms, 4s, 5m"
            )
        }
    })
}

/// `duration` the way [`parse`] accepts it back (`1s 500ms`).
pub fn format(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_bare_numbers_and_fractions() {
        for (text, duration) in [
            ("50ms", Duration::from_millis(50)),
            (" 4s ", Duration::from_secs(4)),
            ("1h 30m", Duration::from_secs(5400)),
            ("0s", Duration::ZERO),
        ] {
            assert_eq!(parse(text), Ok(duration));
            assert_eq!(parse(&format(duration)), Ok(duration));
        }
        assert_eq!(parse("4 sec"), Ok(Duration::from_secs(4)));
        for text in ["4", "4 parsecs", "-1s", ""] {
            assert!(
                parse(text).unwrap_err().starts_with("invalid duration"),
                "{text}"
            );
        }
    }
}
