//! The archive sink: items in compressed files under time partitions,
//! `<path>/<partition>/<prefix>-<opened, unix ms>-<n>.ndjson.gz`, each
//! finalized atomically.
//!
//! A record is written as it came, one line (an NDJSON event stays the same
//! JSON object); a point as its JSON (`{"timestamp", "series", "tags",
//! "fields"}`); an alert as its JSON. Its partition is the directory its
//! time gives (`time`: arrival, or a JSON record's own field). One file per
//! partition is open at a time, written as `.<name>.part` beside its final
//! name; a file is finalized (compression finished, synced, renamed to its
//! final name, the directory synced) once it holds `max_file_size` bytes,
//! `max_file_age` after it was opened, when `max_open_files` would be
//! exceeded (the oldest goes), and at shutdown. A reader listing the
//! partitions never sees a file being written (names starting with `.`).
//!
//! # Delivery
//!
//! A batch is acknowledged once every file holding its items is finalized,
//! so a source that replays (Kafka, a file) commits past it only then. At
//! start, `.part` files left by a process that was killed are deleted: what
//! they held was never acknowledged and comes again. Nothing is lost across
//! `kill -9`; an item is written twice only when the agent dies after its
//! file was finalized and before its source committed (Kafka commits every
//! `commit_interval`): at least once, duplicates within one commit window.
//!
//! # Bounds
//!
//! Memory: `max_open_files` compressors (about 256 KiB each for gzip) and
//! write buffers (64 KiB each), and the delivery handles of the batches in
//! open files. Disk: what is written, nothing else (no retention: the files
//! are the output).

pub mod config;
mod partition;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use tokio::sync::mpsc::Receiver;

use self::config::{ArchiveConfig, Compression, PartitionTime};
use self::partition::Partitions;
use super::point_lines::PointLines;
use super::{SinkContext, SinkError, absolute, banner, chain};
use crate::delivery::Delivery;
use crate::event::{Record, SharedBatch};
use crate::internal::events::{ComponentError, EventsDelivered, EventsReceived, SinkRetrying};

/// The built archive sink.
#[derive(Debug)]
pub struct ArchiveSink {
    name: Arc<str>,
    root: PathBuf,
    config: ArchiveConfig,
    partitions: Partitions,
    open: HashMap<PathBuf, OpenFile>,
    /// Files opened so far, to tell apart two opened in the same millisecond.
    opened: u64,
}

/// A file being written.
struct OpenFile {
    part: PathBuf,
    name: PathBuf,
    writer: Writer,
    bytes: u64,
    items: usize,
    since: Instant,
    deliveries: Vec<Delivery>,
}

impl std::fmt::Debug for OpenFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenFile")
            .field("name", &self.name)
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

enum Writer {
    Gzip(Box<GzEncoder<BufWriter<File>>>),
    Plain(BufWriter<File>),
}

impl Writer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Self::Gzip(w) => w.write_all(bytes),
            Self::Plain(w) => w.write_all(bytes),
        }
    }

    /// Finish the stream and sync the file.
    fn finish(self) -> std::io::Result<()> {
        let buffered = match self {
            Self::Gzip(w) => w.finish()?,
            Self::Plain(w) => w,
        };
        let file = buffered.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

impl ArchiveSink {
    async fn build(config: &ArchiveConfig, ctx: SinkContext) -> Result<Self, SinkError> {
        let root = absolute(&config.path);
        tokio::fs::create_dir_all(&root)
            .await
            .map_err(|source| SinkError::Open {
                path: root.clone(),
                source,
            })?;
        let partitions =
            Partitions::new(&root, &config.partition).map_err(|error| SinkError::Open {
                path: root.clone(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, error),
            })?;
        let stale = remove_parts(&root, &config.prefix);
        if stale > 0 {
            ComponentError {
                component: &ctx.name,
                reason: "archive_part_removed",
                error: &format!(
                    "removed {stale} unfinished file(s) of an earlier run under {}: their items were not acknowledged and come again",
                    root.display()
                ),
            }
            .emit();
        }
        Ok(Self {
            name: ctx.name,
            root,
            config: config.clone(),
            partitions,
            open: HashMap::new(),
            opened: 0,
        })
    }

    fn describe(&self) -> String {
        banner(
            "archive",
            format!(
                "{}/{}/{}-*{} (rotated at {} or {})",
                self.root.display(),
                self.config.partition,
                self.config.prefix,
                self.extension(),
                self.config.max_file_size,
                crate::settings::format_duration(self.config.max_file_age),
            ),
        )
    }

    fn extension(&self) -> &'static str {
        match self.config.compression {
            Compression::Gzip => ".ndjson.gz",
            Compression::None => ".ndjson",
        }
    }

    async fn run(mut self, mut input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                batch = input.recv() => {
                    let Some(batch) = batch else { break };
                    EventsReceived { component: &self.name, count: batch.len(), bytes: 0 }.emit();
                    self.write(&batch);
                }
                _ = tick.tick() => {
                    let max_age = self.config.max_file_age;
                    let old: Vec<PathBuf> = self
                        .open
                        .iter()
                        .filter(|(_, file)| file.since.elapsed() >= max_age)
                        .map(|(dir, _)| dir.clone())
                        .collect();
                    for dir in old {
                        self.finalize(&dir);
                    }
                }
            }
        }
        let dirs: Vec<PathBuf> = self.open.keys().cloned().collect();
        for dir in dirs {
            self.finalize(&dir);
        }
        Ok(())
    }

    /// Write `batch`'s items into their partitions' files.
    fn write(&mut self, batch: &SharedBatch) {
        let mut lines: Vec<(i64, Vec<u8>)> = Vec::with_capacity(batch.len());
        for record in batch.records.iter() {
            lines.push((self.record_time(&record), line(record.bytes)));
        }
        let mut writer = PointLines::new(&batch.points);
        for point in batch.points.iter() {
            let mut text = Vec::with_capacity(512);
            writer.write(&mut text, &point);
            text.push(b'\n');
            lines.push((point.timestamp(), text));
        }
        for alert in &batch.alerts {
            let mut text = alert.to_json().to_string().into_bytes();
            text.push(b'\n');
            lines.push((alert.timestamp, text));
        }
        let mut touched: Vec<PathBuf> = Vec::new();
        for (time, text) in lines {
            let dir = self.partitions.dir(time);
            if !self.open.contains_key(&dir)
                && let Err(error) = self.open_file(&dir)
            {
                self.failed(&dir, &error);
                batch.delivery.fail();
                continue;
            }
            let Some(file) = self.open.get_mut(&dir) else {
                continue;
            };
            if let Err(error) = file.writer.write(&text) {
                // The file is broken: none of it counts.
                self.failed(&dir, &error);
                batch.delivery.fail();
                self.discard(&dir);
                touched.retain(|d| *d != dir);
                continue;
            }
            file.bytes += text.len() as u64;
            file.items += 1;
            if !touched.contains(&dir) {
                file.deliveries.push(batch.delivery.clone());
                touched.push(dir.clone());
            }
            if file.bytes >= self.config.max_file_size.0 {
                self.finalize(&dir);
                touched.retain(|d| *d != dir);
            }
        }
    }

    /// A record's partition time: its field's, or its arrival.
    fn record_time(&self, record: &Record<'_>) -> i64 {
        let PartitionTime::Field(field) = &self.config.time else {
            return record.timestamp;
        };
        let parsed = serde_json::from_slice::<serde_json::Value>(record.bytes)
            .ok()
            .and_then(|value| {
                let text = value.get(field)?.as_str()?.to_owned();
                time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .and_then(|t| i64::try_from(t.unix_timestamp_nanos()).ok());
        parsed.unwrap_or_else(|| {
            ComponentError {
                component: &self.name,
                reason: "archive_time_unreadable",
                error: &format!("a record without an RFC 3339 `{field}`: partitioned by arrival"),
            }
            .emit();
            record.timestamp
        })
    }

    fn open_file(&mut self, dir: &Path) -> std::io::Result<()> {
        if self.open.len() >= self.config.max_open_files
            && let Some(oldest) = self
                .open
                .iter()
                .min_by_key(|(_, file)| file.since)
                .map(|(dir, _)| dir.clone())
        {
            self.finalize(&oldest);
        }
        std::fs::create_dir_all(dir)?;
        self.opened += 1;
        let millis = crate::event::now_nanos() / 1_000_000;
        let name = format!(
            "{}-{millis}-{}{}",
            self.config.prefix,
            self.opened,
            self.extension()
        );
        let part = dir.join(format!(".{name}.part"));
        let file = BufWriter::with_capacity(64 * 1024, File::create(&part)?);
        let writer = match self.config.compression {
            Compression::Gzip => Writer::Gzip(Box::new(GzEncoder::new(
                file,
                flate2::Compression::new(self.config.compression_level),
            ))),
            Compression::None => Writer::Plain(file),
        };
        self.open.insert(
            dir.to_path_buf(),
            OpenFile {
                part,
                name: dir.join(name),
                writer,
                bytes: 0,
                items: 0,
                since: Instant::now(),
                deliveries: Vec::new(),
            },
        );
        Ok(())
    }

    /// Finish, sync and rename the file of `dir`; then acknowledge what it
    /// held. On failure its batches fail (their sources read them again) and
    /// the unfinished file is removed.
    fn finalize(&mut self, dir: &Path) {
        let Some(file) = self.open.remove(dir) else {
            return;
        };
        let result = file
            .writer
            .finish()
            .and_then(|()| std::fs::rename(&file.part, &file.name))
            .and_then(|()| File::open(dir)?.sync_all());
        match result {
            Ok(()) => EventsDelivered {
                component: &self.name,
                count: file.items,
            }
            .emit(),
            Err(error) => {
                let _ = std::fs::remove_file(&file.part);
                self.failed(dir, &error);
                for delivery in &file.deliveries {
                    delivery.fail();
                }
            }
        }
    }

    /// Drop the file of `dir` unfinished: its batches fail.
    fn discard(&mut self, dir: &Path) {
        if let Some(file) = self.open.remove(dir) {
            drop(file.writer);
            let _ = std::fs::remove_file(&file.part);
            for delivery in &file.deliveries {
                delivery.fail();
            }
        }
    }

    fn failed(&self, dir: &Path, error: &std::io::Error) {
        let error = SinkError::Write {
            path: dir.to_path_buf(),
            source: std::io::Error::new(error.kind(), error.to_string()),
        };
        SinkRetrying {
            component: &self.name,
            error: &chain(&error),
            backoff: Duration::ZERO,
        }
        .emit();
    }
}

/// `bytes` as one line.
fn line(bytes: &[u8]) -> Vec<u8> {
    let mut text = Vec::with_capacity(bytes.len() + 1);
    text.extend_from_slice(bytes.strip_suffix(b"\n").unwrap_or(bytes));
    text.push(b'\n');
    text
}

/// Remove `.<prefix>-….part` files under `root`; how many went.
fn remove_parts(root: &Path, prefix: &str) -> usize {
    let mut removed = 0;
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => dirs.push(path),
                Ok(kind)
                    if kind.is_file()
                        && name.starts_with(&format!(".{prefix}-"))
                        && name.ends_with(".part")
                        && std::fs::remove_file(&path).is_ok() =>
                {
                    removed += 1;
                }
                _ => {}
            }
        }
    }
    removed
}

impl super::Sink for ArchiveConfig {
    type Running = ArchiveSink;

    async fn build(&self, ctx: SinkContext) -> Result<ArchiveSink, SinkError> {
        ArchiveSink::build(self, ctx).await
    }
}

impl super::RunningSink for ArchiveSink {
    fn describe(&self) -> String {
        ArchiveSink::describe(self)
    }

    async fn run(self, input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        ArchiveSink::run(self, input).await
    }
}

#[cfg(test)]
mod tests;
