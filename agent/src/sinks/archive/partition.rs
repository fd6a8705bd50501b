//! Which directory an item's time goes to: the `partition` pattern
//! formatted for that time, remembered for as long as the pattern cannot
//! change (a pattern down to the hour names the same directory for every
//! time in one UTC hour), so a run of items in one partition formats it
//! once.

use std::path::{Path, PathBuf};

use time::error::InvalidFormatDescription;
use time::format_description::OwnedFormatItem;

/// The partition directories of one archive.
#[derive(Debug)]
pub(super) struct Partitions {
    root: PathBuf,
    format: OwnedFormatItem,
    /// The span, in nanoseconds, of the pattern's finest unit (0: unknown,
    /// nothing is remembered).
    step: i64,
    /// The last time's span number and its directory.
    last: Option<(i64, PathBuf)>,
}

impl Partitions {
    /// The partitions of `pattern` (strftime, UTC) under `root`.
    pub(super) fn new(root: &Path, pattern: &str) -> Result<Self, InvalidFormatDescription> {
        Ok(Self {
            root: root.to_path_buf(),
            format: time::format_description::parse_strftime_owned(pattern)?,
            step: step_of(pattern),
            last: None,
        })
    }

    /// The directory of time `nanos`.
    pub(super) fn dir(&mut self, nanos: i64) -> PathBuf {
        let span = (self.step > 0).then(|| nanos.div_euclid(self.step));
        if let (Some(span), Some((last, dir))) = (span, &self.last)
            && span == *last
        {
            return dir.clone();
        }
        let text = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
            .ok()
            .and_then(|t| t.format(&self.format).ok())
            .unwrap_or_else(|| "unknown".to_owned());
        // The format is checked relative; a value never climbs out.
        let dir = self.root.join(text.replace("..", "_"));
        if let Some(span) = span {
            self.last = Some((span, dir.clone()));
        }
        dir
    }
}

/// The span of the finest unit `pattern` writes, in nanoseconds: a second,
/// a minute, an hour or a day (dates, weeks, months and years are constant
/// within a UTC day); 0 if it has a directive not known here.
fn step_of(pattern: &str) -> i64 {
    const SECOND: i64 = 1_000_000_000;
    let mut step = 86_400 * SECOND;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        let mut directive = chars.next();
        if matches!(directive, Some('-' | '_' | '0')) {
            directive = chars.next();
        }
        let span = match directive {
            Some('S' | 's' | 'T' | 'X' | 'c' | 'r') => SECOND,
            Some('M' | 'R') => 60 * SECOND,
            Some('H' | 'I' | 'k' | 'l' | 'p' | 'P') => 3600 * SECOND,
            Some(
                'Y' | 'y' | 'C' | 'G' | 'g' | 'm' | 'b' | 'B' | 'h' | 'd' | 'e' | 'j' | 'F' | 'D'
                | 'x' | 'a' | 'A' | 'u' | 'w' | 'U' | 'W' | 'V' | 'z' | 'Z' | '%' | 'n' | 't',
            ) => continue,
            _ => return 0,
        };
        step = step.min(span);
    }
    step
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_is_the_finest_unit_written() {
        assert_eq!(
            step_of("year=%Y/month=%m/day=%d/hour=%H"),
            3_600_000_000_000
        );
        assert_eq!(step_of("%Y/%m/%d"), 86_400_000_000_000);
        assert_eq!(step_of("%F/%-H-%M"), 60_000_000_000);
        assert_eq!(step_of("%s"), 1_000_000_000);
        assert_eq!(step_of("%Y/%q"), 0, "unknown: nothing remembered");
    }

    #[test]
    fn remembered_directories_are_the_formatted_ones() {
        let root = Path::new("/lake");
        for pattern in ["year=%Y/month=%m/day=%d/hour=%H", "%F/%H-%M", "%Y/%j", "%s"] {
            let mut cached = Partitions::new(root, pattern).unwrap();
            let mut state = 0x9e37_79b9_7f4a_7c15_u64;
            let mut nanos: i64 = -90_000_000_000_000;
            for _ in 0..50_000 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Mostly forward, by up to about 20 minutes; sometimes back.
                let jump = i64::try_from(state % 1_200_000_000_000).unwrap();
                nanos += if state.is_multiple_of(17) {
                    -jump
                } else {
                    jump
                };
                let mut fresh = Partitions::new(root, pattern).unwrap();
                assert_eq!(cached.dir(nanos), fresh.dir(nanos), "{pattern} at {nanos}");
            }
        }
    }
}
