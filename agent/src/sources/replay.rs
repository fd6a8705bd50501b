//! The `replay` source: recorded files, read once, one after another, as
//! fast as the pipeline takes them, each record stamped with the time it
//! was recorded.
//!
//! A serial source's `audit_log` writes each line as `<RFC 3339 time>\t<line>`:
//! with `timestamps: auto` (the default) such a line is replayed as `<line>`
//! received at that time, and a line without the prefix (a CSV or NDJSON
//! file, whose parser reads the time from the data) takes the time of the
//! line before it, or the replay's start for the first. With the pipeline's
//! `clock: event` (what `foghorn replay` sets) processors tick in that time,
//! so windows and heartbeats see the recording as they saw it live; and
//! batches are cut as the live source cut them, in that time: a batch is sent
//! when it is full or when the next record comes a `linger` or more after
//! its first (a silence in the data always falls between two batches, where
//! the processors' ticks see it). A progress bar over the files' bytes shows
//! on a terminal.

use std::io::IsTerminal;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use tokio::io::AsyncReadExt;

use super::lines::{LineFramer, check_max_line_length};
use super::{SourceContext, SourceError};
use crate::event::now_nanos;
use crate::settings::{Problems, Settings};

/// Bytes read at a time.
const CHUNK_BYTES: usize = 256 * 1024;

/// `type: replay`: recorded files, read once, in order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayConfig {
    /// `paths`: the files, read one after the other. Required.
    pub paths: Vec<PathBuf>,
    /// `timestamps`: where each record's time comes from; see
    /// [`ReplayTimestamps`]. Default `auto`.
    #[serde(default)]
    pub timestamps: ReplayTimestamps,
    /// `max_line_length`: longest line in bytes (longer ones are cut and
    /// counted). Default 65536, from 16 to 1048576.
    #[serde(default = "ReplayConfig::default_max_line_length")]
    pub max_line_length: usize,
}

/// `timestamps`: where a replayed record's time comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplayTimestamps {
    /// A line starting with an RFC 3339 time and a tab (an audit log) is
    /// stamped with it and replayed without it; any other line takes the
    /// time of the line before it.
    #[default]
    Auto,
    /// Every line must start with the time and a tab; a line that does not
    /// is replayed whole, stamped with the time of the line before it, and
    /// counted in `foghorn_component_errors_total{reason="no_timestamp"}`.
    Prefix,
    /// The time the line is read: the parser takes the time from the data.
    Read,
}

impl ReplayConfig {
    const fn default_max_line_length() -> usize {
        65_536
    }
}

impl Settings for ReplayConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        check_max_line_length(key, self.max_line_length, problems);
        if self.paths.is_empty() {
            problems.push(&format!("{key}.paths"), "give at least one file to replay");
        }
    }
}

impl super::Source for ReplayConfig {
    fn describe(&self) -> String {
        let files: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        format!("replay of {}", files.join(", "))
    }

    async fn run(self, mut ctx: SourceContext) -> Result<(), SourceError> {
        let total = total_bytes(&self.paths).await;
        let bar = progress(total);
        let mut clock = Stamper::new(self.timestamps, ctx.name.clone());
        let mut cut = EventLinger::new(ctx.batcher.linger());
        let mut buf = vec![0; CHUNK_BYTES];
        for path in &self.paths {
            let mut file =
                tokio::fs::File::open(path)
                    .await
                    .map_err(|source| SourceError::Open {
                        path: path.clone(),
                        source,
                    })?;
            let mut framer = LineFramer::new(ctx.name.clone(), self.max_line_length);
            loop {
                if ctx.shutdown.is_cancelled() {
                    ctx.batcher.flush().await;
                    bar.abandon();
                    return Ok(());
                }
                let read = match file.read(&mut buf).await {
                    Ok(0) => break,
                    Ok(read) => read,
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(source) => {
                        return Err(SourceError::Read {
                            path: path.clone(),
                            source,
                        });
                    }
                };
                bar.inc(read as u64);
                let mut lines = framer.lines(&buf[..read]);
                while let Some(line) = lines.next_line() {
                    let (at, line) = clock.stamp(line);
                    if cut.before(at, ctx.batcher.pending()) {
                        ctx.batcher.flush().await;
                    }
                    if ctx.batcher.push(at, line) {
                        ctx.batcher.flush().await;
                    }
                }
            }
            if let Some(line) = framer.finish() {
                let (at, line) = clock.stamp(line);
                if cut.before(at, ctx.batcher.pending()) {
                    ctx.batcher.flush().await;
                }
                ctx.batcher.push(at, line);
            }
        }
        ctx.batcher.flush().await;
        bar.finish();
        Ok(())
    }
}

async fn total_bytes(paths: &[PathBuf]) -> u64 {
    let mut total = 0;
    for path in paths {
        total += tokio::fs::metadata(path).await.map_or(0, |m| m.len());
    }
    total
}

/// A progress bar on a terminal, hidden otherwise.
fn progress(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total).with_message("replay");
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Where batches are cut in the time of the data: before a record that
/// comes `linger` or more after the first record of the pending batch.
struct EventLinger {
    linger: i64,
    first: i64,
}

impl EventLinger {
    fn new(linger: std::time::Duration) -> Self {
        Self {
            linger: i64::try_from(linger.as_nanos()).unwrap_or(i64::MAX),
            first: 0,
        }
    }

    /// Whether the pending batch (of `pending` records) must be sent before
    /// a record at `at` joins it.
    fn before(&mut self, at: i64, pending: usize) -> bool {
        if pending == 0 {
            self.first = at;
            return false;
        }
        if at.saturating_sub(self.first) >= self.linger {
            self.first = at;
            return true;
        }
        false
    }
}

/// Stamps replayed lines with their time.
struct Stamper {
    mode: ReplayTimestamps,
    component: std::sync::Arc<str>,
    last: i64,
}

impl Stamper {
    fn new(mode: ReplayTimestamps, component: std::sync::Arc<str>) -> Self {
        Self {
            mode,
            component,
            last: now_nanos(),
        }
    }

    /// The time of `line` and the line to replay.
    fn stamp<'a>(&mut self, line: &'a [u8]) -> (i64, &'a [u8]) {
        match self.mode {
            ReplayTimestamps::Read => (now_nanos(), line),
            ReplayTimestamps::Auto | ReplayTimestamps::Prefix => match split_prefix(line) {
                Some((at, rest)) => {
                    self.last = at;
                    (at, rest)
                }
                None => {
                    if self.mode == ReplayTimestamps::Prefix {
                        crate::internal::events::ComponentError {
                            component: &self.component,
                            reason: "no_timestamp",
                            error: &"a replayed line has no leading time and tab",
                        }
                        .emit();
                    }
                    (self.last, line)
                }
            },
        }
    }
}

/// `(time, rest)` of a line that starts with an RFC 3339 time and a tab.
fn split_prefix(line: &[u8]) -> Option<(i64, &[u8])> {
    // The shortest RFC 3339 time is 20 bytes (`2026-01-01T00:00:00Z`).
    let tab = memchr_tab(line)?;
    if !(20..=40).contains(&tab) {
        return None;
    }
    let text = std::str::from_utf8(&line[..tab]).ok()?;
    let at =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    let at = i64::try_from(at.unix_timestamp_nanos()).ok()?;
    Some((at, &line[tab + 1..]))
}

fn memchr_tab(line: &[u8]) -> Option<usize> {
    line.iter().take(41).position(|&b| b == b'\t')
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::sources::Source as _;
    use crate::sources::testing::{context, drain};

    #[test]
    fn an_audit_log_line_is_replayed_at_its_time_without_it() {
        let (at, rest) = split_prefix(b"2026-11-28T10:00:01.250000Z\tT:85.5,V:5.0,S:OK").unwrap();
        assert_eq!(at, 1_795_860_001_250_000_000);
        assert_eq!(rest, b"T:85.5,V:5.0,S:OK");
        assert_eq!(split_prefix(b"T:85.5\tV"), None);
        assert_eq!(split_prefix(b"2026-13-28T10:00:01Z\tx"), None);
        assert_eq!(split_prefix(b"timestamp,temperature"), None);
    }

    #[tokio::test]
    async fn files_are_read_in_order_and_unstamped_lines_take_the_last_time() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.log");
        let second = dir.path().join("b.log");
        std::fs::write(
            &first,
            "2026-01-01T00:00:00Z\tone\n2026-01-01T00:00:05Z\ttwo\nplain\n",
        )
        .unwrap();
        std::fs::write(&second, "2026-01-01T00:00:09Z\tthree").unwrap();
        let config = ReplayConfig {
            paths: vec![first, second],
            timestamps: ReplayTimestamps::Auto,
            max_line_length: 1024,
        };
        let (ctx, mut rx) = context(100, Duration::from_secs(3));
        config.run(ctx).await.unwrap();
        let s = 1_000_000_000;
        let start = 1_767_225_600 * s;
        // Cut where the data's time passed the 3 s linger, not by size.
        let mut batches = Vec::new();
        while let Ok(batch) = rx.try_recv() {
            batches.push(batch.records.len());
        }
        assert_eq!(batches, [1, 2, 1]);
        let config = ReplayConfig {
            paths: vec![dir.path().join("a.log"), dir.path().join("b.log")],
            timestamps: ReplayTimestamps::Auto,
            max_line_length: 1024,
        };
        let (ctx, mut rx) = context(2, Duration::from_secs(60));
        config.run(ctx).await.unwrap();
        let got = drain(&mut rx);
        assert_eq!(
            got,
            [
                (start, "one".to_owned()),
                (start + 5 * s, "two".to_owned()),
                (start + 5 * s, "plain".to_owned()),
                (start + 9 * s, "three".to_owned()),
            ]
        );
    }
}
