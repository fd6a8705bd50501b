//! How durations are printed in alert descriptions: seconds with at most
//! one decimal (`4s`, `6.2s`). Durations in the config are parsed by the
//! SDK, in the agent's grammar ([`foghorn_plugin::duration`]).

use std::time::Duration;

/// `duration` in seconds with at most one decimal: `4s`, `6.2s`, `0.5s`.
pub(crate) fn format_seconds(duration: Duration) -> String {
    let tenths = (duration.as_secs_f64() * 10.0).round() / 10.0;
    format!("{tenths}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_seconds_with_at_most_one_decimal() {
        assert_eq!(format_seconds(Duration::from_secs(4)), "4s");
        assert_eq!(format_seconds(Duration::from_millis(6_240)), "6.2s");
        assert_eq!(format_seconds(Duration::from_millis(500)), "0.5s");
        assert_eq!(format_seconds(Duration::from_secs(120)), "120s");
    }
}
