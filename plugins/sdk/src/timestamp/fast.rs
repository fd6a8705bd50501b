//! The common shapes of timestamp read without the general parser:
//! integers for the `unix*` formats (eight digits at a time) and RFC 3339
//! as `2026-11-28T07:10:00.123Z` or with a `±HH:MM` offset (in straight
//! code). Anything else, and anything out of the ordinary (a leap second, a
//! sign, spaces, an hour of 24, a date that does not exist, a time out of
//! range), goes to the general parser, so the result is always the one it
//! gives: a test checks the two agree on many generated timestamps.

use crate::number::short_integer;

use super::TimeFormat;

/// `text` as nanoseconds since the epoch in `format` when it has a common
/// shape; `None` for the general parser to read.
#[inline]
pub(super) fn parse(format: &TimeFormat, text: &str) -> Option<i64> {
    match format {
        TimeFormat::Rfc3339 => rfc3339(text.as_bytes()),
        TimeFormat::Strftime(_) => None,
        _ => format.from_integer(short_integer(text.as_bytes())?),
    }
}

/// `value * FACTOR`, if it fits: compared with a constant rather than
/// checked, which WebAssembly does with a call to a 128-bit multiply.
#[inline(always)]
pub(super) fn scale<const FACTOR: i64>(value: i64) -> Option<i64> {
    (value.unsigned_abs() <= (i64::MAX / FACTOR).unsigned_abs()).then(|| value * FACTOR)
}

/// `YYYY-MM-DD(T|t| )HH:MM:SS[.f…](Z|z|±HH:MM)`, a valid date and time
/// within the range of nanoseconds in an `i64`; `None` for anything else.
#[inline]
fn rfc3339(b: &[u8]) -> Option<i64> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let two = |at: usize| two_digits(b, at);
    let year = two(0)? * 100 + two(2)?;
    let (month, day) = (two(5)?, two(8)?);
    let (hour, minute, second) = (two(11)?, two(14)?, two(17)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut at = 19;
    let mut nanos = 0;
    if b[at] == b'.' {
        at += 1;
        let start = at;
        while at < b.len() && b[at].is_ascii_digit() {
            at += 1;
        }
        let count = at - start;
        if count == 0 || count > 9 {
            return None;
        }
        for &byte in &b[start..at] {
            nanos = nanos * 10 + i64::from(byte - b'0');
        }
        nanos *= [
            1,
            100_000_000,
            10_000_000,
            1_000_000,
            100_000,
            10_000,
            1_000,
            100,
            10,
            1,
        ][count];
    }
    let offset = match &b[at..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2].map(|c| c.wrapping_sub(b'0'));
            if digits.iter().any(|d| *d > 9) {
                return None;
            }
            let [h1, h2, m1, m2] = digits.map(i64::from);
            let (hours, minutes) = (h1 * 10 + h2, m1 * 10 + m2);
            if hours > 23 || minutes > 59 || (*sign == b'-' && hours == 0 && minutes == 0) {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'-' { -offset } else { offset }
        }
        _ => return None,
    };
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    scale::<1_000_000_000>(seconds)?.checked_add(nanos)
}

/// The two digits at `at` as a number.
#[inline(always)]
fn two_digits(b: &[u8], at: usize) -> Option<i64> {
    let (tens, ones) = (b[at].wrapping_sub(b'0'), b[at + 1].wrapping_sub(b'0'));
    (tens <= 9 && ones <= 9).then(|| i64::from(tens) * 10 + i64::from(ones))
}

#[inline]
fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

#[inline]
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (Howard Hinnant's `days_from_civil`), for years 0 to 9999.
#[inline]
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// The fast paths give what `TimeFormat::parse` gives, to the
    /// nanosecond and to the error, on generated timestamps of every
    /// shape, valid or not.
    #[test]
    fn the_fast_paths_agree_with_the_general_parser() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut fast = 0;
        for _ in 0..40_000 {
            let year = [
                1600, 1677, 1678, 1900, 1969, 1970, 2000, 2024, 2100, 2262, 2263, 9999,
            ][rng.below(12) as usize]
                + rng.below(3) as i64
                - 1;
            let month = rng.below(14);
            let day = rng.below(33);
            let (hour, minute, second) = (rng.below(26), rng.below(62), rng.below(62));
            let separator = ["T", "t", " ", "_"][rng.below(4) as usize];
            let fraction = match rng.below(4) {
                0 => String::new(),
                1 => ".".to_owned(),
                _ => format!(
                    ".{}",
                    "123456789012"[..1 + rng.below(11) as usize].to_owned()
                ),
            };
            let offset = match rng.below(7) {
                0 => "Z".to_owned(),
                1 => "z".to_owned(),
                2 => String::new(),
                3 => "+0100".to_owned(),
                _ => format!(
                    "{}{:02}:{:02}",
                    ["+", "-"][rng.below(2) as usize],
                    rng.below(26),
                    [0, 30, 45, 60][rng.below(4) as usize]
                ),
            };
            let text = format!(
                "{year:04}-{month:02}-{day:02}{separator}{hour:02}:{minute:02}:{second:02}{fraction}{offset}"
            );
            let want = TimeFormat::Rfc3339.parse_general(&text);
            assert_eq!(TimeFormat::Rfc3339.parse(&text), want, "{text}");
            fast += usize::from(rfc3339(text.as_bytes()).is_some());
        }
        assert!(fast > 2_000, "the fast path is taken: {fast}");

        let formats = [
            TimeFormat::Unix,
            TimeFormat::UnixMs,
            TimeFormat::UnixUs,
            TimeFormat::UnixNs,
        ];
        for _ in 0..40_000 {
            let digits = 1 + rng.below(21) as usize;
            let mut text: String = (0..digits)
                .map(|_| char::from(b'0' + rng.below(10) as u8))
                .collect();
            match rng.below(12) {
                0 => text.insert(0, '-'),
                1 => text.insert(0, '+'),
                2 => text.push('.'),
                3 => text.insert(rng.below(digits as u64) as usize, 'x'),
                4 => text.push(' '),
                5 => text.insert(
                    rng.below(digits as u64) as usize,
                    char::from(b'/' + 11 * rng.below(2) as u8),
                ),
                _ => {}
            }
            for format in &formats {
                assert_eq!(
                    format.parse(&text),
                    format.parse_general(&text),
                    "{format:?} {text}"
                );
            }
        }
        for text in [
            "",
            "-",
            "0",
            "-0",
            "9223372036854775807",
            "99999999999999999",
            "1764313800250",
        ] {
            for format in &formats {
                assert_eq!(
                    format.parse(text),
                    format.parse_general(text),
                    "{format:?} {text}"
                );
            }
        }
        assert_eq!(
            parse(&TimeFormat::UnixMs, "1764313800250"),
            Some(1_764_313_800_250_000_000)
        );
        assert_eq!(
            parse(&TimeFormat::Unix, "9300000000000"),
            None,
            "out of range: the general parser says why"
        );
        assert_eq!(
            rfc3339(b"2025-11-28T07:10:00.25Z"),
            Some(1_764_313_800_250_000_000)
        );
    }
}
