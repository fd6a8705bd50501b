//! Durations (`50ms`, `4s`, `1h 30m`) and byte sizes (`64MiB`, `512KB`) as
//! they are written in the YAML.
//!
//! Typed configuration holds `std::time::Duration` and [`ByteSize`]; the
//! `duration`/`option_duration` helper modules plug the string parsing into
//! `#[serde(with = ...)]`. The YAML loader hands every scalar over as text, so
//! the parsers here only ever see strings.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// Parses a human duration such as `50ms`, `4s`, `5m`, `1h 30m` or `0s`:
/// the grammar plugins use too ([`foghorn_model::duration`]).
///
/// # Errors
/// A message naming the text and the expected shape.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    foghorn_model::duration::parse(text)
}

/// Formats a duration the way the YAML accepts it back (`1s 500ms`).
#[must_use]
pub fn format_duration(duration: Duration) -> String {
    foghorn_model::duration::format(duration)
}

/// A number of bytes, written in the YAML as `1024`, `512B`, `64KiB`, `64MiB`,
/// `4GiB` (powers of 1024) or `64KB`, `64MB`, `1GB` (powers of 1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// `n` kibibytes.
    #[must_use]
    pub const fn kib(n: u64) -> Self {
        Self(n * 1024)
    }

    /// `n` mebibytes.
    #[must_use]
    pub const fn mib(n: u64) -> Self {
        Self(n * 1024 * 1024)
    }

    /// `n` gibibytes.
    #[must_use]
    pub const fn gib(n: u64) -> Self {
        Self(n * 1024 * 1024 * 1024)
    }

    /// The size in bytes.
    #[must_use]
    pub const fn bytes(self) -> u64 {
        self.0
    }
}

/// Unit suffixes, matched case-insensitively, with their multipliers.
const UNITS: &[(&str, u64)] = &[
    ("b", 1),
    ("kib", 1 << 10),
    ("mib", 1 << 20),
    ("gib", 1 << 30),
    ("tib", 1 << 40),
    ("kb", 1_000),
    ("mb", 1_000_000),
    ("gb", 1_000_000_000),
    ("tb", 1_000_000_000_000),
];

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            format!(
                "invalid size `{text}`; write a whole number and a unit, e.g. 64MiB, 512KiB, 1GiB"
            )
        };
        let trimmed = text.trim();
        let digits_end = trimmed
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(digits_end);
        let number: u64 = number.parse().map_err(|_| invalid())?;
        let unit = unit.trim().to_ascii_lowercase();
        let multiplier = if unit.is_empty() {
            1
        } else {
            UNITS
                .iter()
                .find(|(name, _)| *name == unit)
                .map(|(_, multiplier)| *multiplier)
                .ok_or_else(invalid)?
        };
        number
            .checked_mul(multiplier)
            .map(Self)
            .ok_or_else(|| format!("size `{text}` is too large"))
    }
}

impl fmt::Display for ByteSize {
    /// The largest binary unit that divides the size exactly: `64MiB`, `1500B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, multiplier) in [
            ("TiB", 1 << 40),
            ("GiB", 1 << 30),
            ("MiB", 1 << 20),
            ("KiB", 1 << 10),
        ] {
            if self.0 >= multiplier && self.0.is_multiple_of(multiplier) {
                return write!(f, "{}{name}", self.0 / multiplier);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;
        impl Visitor<'_> for SizeVisitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size such as 64MiB")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<ByteSize, E> {
                text.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, bytes: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(bytes))
            }
        }
        deserializer.deserialize_str(SizeVisitor)
    }
}

/// `#[serde(with = "units::duration")]` for `std::time::Duration` fields.
pub(crate) mod duration {
    use super::{Deserializer, Duration, Visitor, de, fmt, parse_duration};

    struct DurationVisitor;

    impl Visitor<'_> for DurationVisitor {
        type Value = Duration;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration such as 50ms or 4s")
        }
        fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
            parse_duration(text).map_err(E::custom)
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        deserializer.deserialize_str(DurationVisitor)
    }
}

/// `#[serde(default, with = "units::option_duration")]` for `Option<Duration>`.
pub(crate) mod option_duration {
    use super::{Deserialize, Deserializer, Duration};

    struct Wrapped(Duration);

    impl<'de> Deserialize<'de> for Wrapped {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::duration::deserialize(deserializer).map(Wrapped)
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|wrapped| wrapped.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes_in_binary_and_decimal_units() {
        assert_eq!("64MiB".parse(), Ok(ByteSize::mib(64)));
        assert_eq!("64mib".parse(), Ok(ByteSize::mib(64)));
        assert_eq!("4 GiB".parse(), Ok(ByteSize::gib(4)));
        assert_eq!("512KB".parse(), Ok(ByteSize(512_000)));
        assert_eq!("0B".parse(), Ok(ByteSize(0)));
        assert_eq!("1024".parse(), Ok(ByteSize(1024)));
        assert!("64 MiBs".parse::<ByteSize>().is_err());
        assert!("MiB".parse::<ByteSize>().is_err());
        assert!("-1MiB".parse::<ByteSize>().is_err());
        assert!(
            "99999999999TiB"
                .parse::<ByteSize>()
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn displays_sizes_in_the_largest_exact_unit() {
        assert_eq!(ByteSize::mib(64).to_string(), "64MiB");
        assert_eq!(ByteSize(1500).to_string(), "1500B");
        assert_eq!(ByteSize(0).to_string(), "0B");
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("50ms"), Ok(Duration::from_millis(50)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_mins(90)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert!(
            parse_duration("50")
                .unwrap_err()
                .contains("invalid duration `50`")
        );
        assert!(parse_duration("fast").is_err());
    }
}
