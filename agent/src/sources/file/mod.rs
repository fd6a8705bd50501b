//! The `file` source: the lines of one file followed through rotations
//! (`path`, in [`tail`]), or of every file matching globs (`include`, in
//! [`files`]); either way resumed from checkpoints committed only for lines
//! durable in every sink.

mod checkpoint;
pub(super) mod config;
mod discover;
mod files;
mod tail;
mod watch;

use std::time::Duration;

use self::config::{FileSourceConfig, ReadFrom};
use super::{SourceContext, SourceError};

/// Bytes asked for per read: large, for throughput on replays.
const CHUNK_BYTES: usize = 256 * 1024;
/// The shortest wait between polls, so a zero interval cannot spin.
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(1);
/// The most often a checkpoint is written: a crash replays at most what was
/// in flight plus what was acknowledged in this long.
pub const COMMIT_INTERVAL: Duration = Duration::from_millis(100);

async fn run(config: FileSourceConfig, ctx: SourceContext) -> Result<(), SourceError> {
    match config.single_path() {
        Some(path) => tail::run(&config, path.to_owned(), ctx).await,
        None => files::run(&config, ctx).await,
    }
}

fn describe(config: &FileSourceConfig) -> String {
    let from = match config.read_from {
        ReadFrom::Checkpoint => "its checkpoint",
        ReadFrom::Beginning => "the beginning",
        ReadFrom::End => "the end",
    };
    let what = match config.single_path() {
        Some(path) => format!("file {}", path.display()),
        None if config.exclude.is_empty() => format!("files {}", config.include.join(", ")),
        None => format!(
            "files {} except {}",
            config.include.join(", "),
            config.exclude.join(", ")
        ),
    };
    if config.follow {
        let poll = humantime::format_duration(config.poll_interval);
        format!("{what} from {from}, following (events, polling every {poll})")
    } else {
        format!("{what} from {from}, until the end")
    }
}

impl super::Source for FileSourceConfig {
    const OPENS_INPUT: bool = true;

    fn describe(&self) -> String {
        describe(self)
    }

    async fn run(self, ctx: SourceContext) -> Result<(), SourceError> {
        run(self, ctx).await
    }
}

#[cfg(test)]
mod testing {
    use std::io::Write;
    use std::path::Path;
    use std::sync::Arc;

    use tokio::sync::mpsc;

    use super::config::{FileSourceConfig, ReadFrom};
    use super::*;
    use crate::event::SharedBatch;
    use crate::sources::testing::context;
    use crate::state::StateStore;

    pub(super) fn config(path: &Path, read_from: ReadFrom, follow: bool) -> FileSourceConfig {
        FileSourceConfig {
            read_from,
            follow,
            poll_interval: Duration::from_millis(20),
            max_line_length: 1024,
            glob_interval: Duration::from_millis(20),
            ..FileSourceConfig::new(path)
        }
    }

    pub(super) fn append(path: &Path, text: &str) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    /// A running source and the lines it sent so far; batches are dropped
    /// (acknowledged) as they are read.
    pub(super) struct Running {
        rx: mpsc::Receiver<SharedBatch>,
        shutdown: tokio_util::sync::CancellationToken,
        task: tokio::task::JoinHandle<Result<(), SourceError>>,
        lines: Vec<String>,
        /// The record tags of each batch, with its first line.
        pub(super) tags: Vec<(crate::event::RecordTags, String)>,
    }

    impl Running {
        pub(super) fn start(config: FileSourceConfig, state: &Arc<StateStore>) -> Self {
            let (mut ctx, rx) = context(100, Duration::from_millis(10));
            ctx.state = Arc::clone(state);
            let shutdown = ctx.shutdown.clone();
            let task = tokio::spawn(run(config, ctx));
            Self {
                rx,
                shutdown,
                task,
                lines: Vec::new(),
                tags: Vec::new(),
            }
        }

        /// Wait until `count` lines have arrived in all.
        pub(super) async fn until(&mut self, count: usize) -> &[String] {
            while self.lines.len() < count {
                let batch = tokio::time::timeout(Duration::from_secs(10), self.rx.recv())
                    .await
                    .expect("lines arrive in time")
                    .expect("the source is running");
                self.take(&batch);
            }
            &self.lines
        }

        fn take(&mut self, batch: &SharedBatch) {
            let first = batch.records.iter().next().map(|r| r.text().into_owned());
            self.tags
                .push((batch.record_tags.clone(), first.unwrap_or_default()));
            self.lines
                .extend(batch.records.iter().map(|r| r.text().into_owned()));
        }

        /// Stop it, reading to the end; every line it sent.
        pub(super) async fn stop(self) -> Vec<String> {
            self.shutdown.cancel();
            self.end().await
        }

        /// Let it end by itself (a replay); every line it sent.
        pub(super) async fn end(mut self) -> Vec<String> {
            while let Some(batch) = self.rx.recv().await {
                self.take(&batch);
            }
            self.task.await.unwrap().unwrap();
            self.lines
        }
    }

    /// Truncate `path` in place, as logrotate's copytruncate does.
    pub(super) fn truncate(path: &Path) {
        let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        file.set_len(0).unwrap();
    }

    pub(super) fn state() -> Arc<StateStore> {
        crate::sources::testing::state()
    }

    pub(super) fn numbered(range: std::ops::Range<usize>) -> String {
        range.map(|i| format!("line {i}\n")).collect()
    }

    pub(super) fn expect(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("line {i}")).collect()
    }
}
