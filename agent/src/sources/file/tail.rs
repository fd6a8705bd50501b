//! One file, followed through rotations, resumed from a checkpoint (`path`).
//!
//! The file is read in large chunks and cut into lines by the shared
//! [`LineFramer`]; lines go to the batcher straight from the read buffer, so
//! the only per-line copy is the batcher's own. Every batch is registered
//! with the batcher's [`Acks`](crate::delivery::Acks) and marked with the
//! offset just after its last line; when every sink has made a batch and all
//! before it durable, that offset is committed as the source's
//! [`Checkpoint`] (at most every [`COMMIT_INTERVAL`], and at shutdown after
//! everything in flight is acknowledged). A restart with `read_from:
//! checkpoint` resumes there, so a `kill -9` replays only what was in flight.
//!
//! With `follow: false` the source is a finite replay (with a progress bar
//! when standard error is a terminal): at end of file it sends the
//! unterminated last line and ends. With `follow: true` it waits for the file
//! to appear, then wakes on `notify` events for its directory or every
//! `poll_interval`, and handles rotation:
//!
//! - **rename** (logrotate's default): a new file at the path; the old one is
//!   read to its end through the handle still open, then the new one from its
//!   start;
//! - **copytruncate**: the file shrank or its first bytes changed; the rest
//!   of the old content is read from the copy (a sibling such as `app.log.1`
//!   whose fingerprint matches) when there is one, then the file from its
//!   start;
//! - a restart finds the unread rest of a file rotated while the agent was
//!   down the same way, by fingerprint among the siblings.
//!
//! A half-written last line is never sent while following: it waits for its
//! newline (or `max_line_length`), and at shutdown it stays unread, covered by
//! no checkpoint, so the next run reads it whole.

use std::collections::{BTreeMap, VecDeque};
use std::io::IsTerminal;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::time::Instant;

use super::checkpoint::{
    self, Checkpoint, FINGERPRINT_BYTES, find_rotated, fingerprint, read_head, rotated_since,
};
use super::config::{FileSourceConfig, ReadFrom};
use super::watch::Watch;
use super::{CHUNK_BYTES, COMMIT_INTERVAL, MIN_POLL_INTERVAL};
use crate::delivery::Mark;
use crate::event::now_nanos;
use crate::internal::events::{CheckpointCommitted, ComponentError, SourceConnected};
use crate::sources::lines::{LineFramer, push_last_line};
use crate::sources::{SourceContext, SourceError};

/// Read the file at `path` until its end (a replay) or shutdown.
pub(super) async fn run(
    config: &FileSourceConfig,
    path: PathBuf,
    mut ctx: SourceContext,
) -> Result<(), SourceError> {
    ctx.batcher.track_deliveries();
    let mut tail = Tail::new(config, path, &ctx);
    let result = tail.read(&mut ctx).await;
    ctx.batcher.flush().await;
    // Let the pipeline drain, then commit what it acknowledged.
    ctx.batcher.close();
    tail.settle(&mut ctx).await;
    result
}

#[derive(Debug)]
struct Stream {
    id: u64,
    path: PathBuf,
    file: tokio::fs::File,
    /// The same open file, for reading its head and metadata.
    std: std::fs::File,
    /// The next byte to read.
    position: u64,
    /// Device and inode, to notice a new file at the path.
    identity: (u64, u64),
    /// A rotated file: read it to its end, then move on.
    finite: bool,
}

/// What happened to the file at the path while we were at its end.
#[derive(Debug)]
enum Change {
    /// Nothing: wait for more.
    None,
    /// The path is gone (mid-rotation): wait for the new file.
    Gone,
    /// Another file is at the path (rename rotation).
    Renamed,
    /// The file was truncated or rewritten in place (copytruncate).
    Truncated,
}

/// The reading state of one file source.
#[derive(Debug)]
pub(super) struct Tail<'a> {
    config: &'a FileSourceConfig,
    /// The file followed.
    path: PathBuf,
    key: String,
    framer: LineFramer,
    watch: Option<Watch>,
    next_stream: u64,
    /// The first bytes of every stream marks may still refer to.
    heads: BTreeMap<u64, Vec<u8>>,
    /// Acknowledged, not yet written to the state store.
    uncommitted: Option<Mark>,
    last_commit: Instant,
}

impl<'a> Tail<'a> {
    fn new(config: &'a FileSourceConfig, path: PathBuf, ctx: &SourceContext) -> Self {
        Self {
            config,
            watch: config.follow.then(|| Watch::new(&ctx.name, &path)),
            path,
            key: format!("file:{}", ctx.name),
            framer: LineFramer::new(ctx.name.clone(), config.max_line_length),
            next_stream: 0,
            heads: BTreeMap::new(),
            uncommitted: None,
            last_commit: Instant::now(),
        }
    }

    fn open_error(&self, source: std::io::Error) -> SourceError {
        SourceError::Open {
            path: self.path.clone(),
            source,
        }
    }

    /// Open `path` as a new stream at `position`.
    async fn open_stream(
        &mut self,
        path: PathBuf,
        std: std::fs::File,
        position: u64,
        finite: bool,
    ) -> std::io::Result<Stream> {
        let metadata = std.metadata()?;
        let head = read_head(&std)?;
        let mut file = tokio::fs::File::from_std(std.try_clone()?);
        file.set_max_buf_size(CHUNK_BYTES);
        file.seek(std::io::SeekFrom::Start(position)).await?;
        let id = self.next_stream;
        self.next_stream += 1;
        self.heads.insert(id, head);
        Ok(Stream {
            id,
            path,
            file,
            std,
            position,
            identity: (metadata.dev(), metadata.ino()),
            finite,
        })
    }

    /// The streams to read first: the rest of a file rotated away while the
    /// agent was down, if any, then the file at the path. Empty when
    /// shutdown came while waiting for the file to appear.
    async fn start(&mut self, ctx: &mut SourceContext) -> Result<VecDeque<Stream>, SourceError> {
        let checkpoint = self.load_checkpoint(ctx).await;
        let mut waited = false;
        let file = loop {
            match std::fs::File::open(&self.path) {
                Ok(file) => break file,
                Err(error)
                    if error.kind() == std::io::ErrorKind::NotFound && self.config.follow =>
                {
                    if !waited {
                        tracing::info!(component = &*ctx.name, path = %self.path.display(), "waiting for the file to appear");
                        waited = true;
                    }
                    if !self.wait(ctx).await {
                        return Ok(VecDeque::new());
                    }
                }
                Err(error) => return Err(self.open_error(error)),
            }
        };
        let len = file.metadata().map_err(|e| self.open_error(e))?.len();
        let head = read_head(&file).map_err(|e| self.open_error(e))?;
        let mut streams = VecDeque::new();
        let position = match (self.config.read_from, &checkpoint) {
            // A file that appeared while we waited is new: all of it is unread.
            _ if waited => 0,
            (ReadFrom::End, _) => len,
            (ReadFrom::Beginning, _) | (ReadFrom::Checkpoint, None) => 0,
            (ReadFrom::Checkpoint, Some(checkpoint)) if checkpoint.matches(&head) => {
                if checkpoint.offset <= len {
                    checkpoint.offset
                } else {
                    0
                }
            }
            (ReadFrom::Checkpoint, Some(checkpoint)) => {
                if let Some((sibling, rotated, modified)) = find_rotated(&self.path, checkpoint) {
                    tracing::info!(component = &*ctx.name, rotated = %sibling.display(), offset = checkpoint.offset, "reading the rest of a file rotated while stopped");
                    // Files rotated after it were never read at all.
                    let newer = rotated_since(&self.path, modified, &sibling);
                    let stream = self
                        .open_stream(sibling, rotated, checkpoint.offset, true)
                        .await
                        .map_err(|e| self.open_error(e))?;
                    streams.push_back(stream);
                    for (later, file, _) in newer {
                        tracing::info!(component = &*ctx.name, rotated = %later.display(), "reading a file rotated while stopped");
                        let stream = self
                            .open_stream(later, file, 0, true)
                            .await
                            .map_err(|e| self.open_error(e))?;
                        streams.push_back(stream);
                    }
                }
                0
            }
        };
        let stream = self
            .open_stream(self.path.clone(), file, position, false)
            .await
            .map_err(|e| self.open_error(e))?;
        streams.push_back(stream);
        SourceConnected {
            component: &ctx.name,
            target: &self.path.to_string_lossy(),
        }
        .emit();
        Ok(streams)
    }

    async fn load_checkpoint(&self, ctx: &SourceContext) -> Option<Checkpoint> {
        if self.config.read_from != ReadFrom::Checkpoint {
            return None;
        }
        let state = std::sync::Arc::clone(&ctx.state);
        let key = self.key.clone();
        let loaded = tokio::task::spawn_blocking(move || state.load_checkpoint(&key))
            .await
            .ok()?;
        let bytes = match loaded {
            Ok(bytes) => bytes?,
            Err(error) => {
                let error =
                    format!("cannot read the checkpoint: {error}; reading from the beginning");
                ComponentError {
                    component: &ctx.name,
                    reason: "checkpoint_failed",
                    error: &error,
                }
                .emit();
                return None;
            }
        };
        let checkpoint: Checkpoint = serde_json::from_slice(&bytes).ok()?;
        (checkpoint.path == self.path).then_some(checkpoint)
    }

    async fn read(&mut self, ctx: &mut SourceContext) -> Result<(), SourceError> {
        let mut streams = self.start(ctx).await?;
        let Some(first) = streams.back() else {
            return Ok(());
        };
        let progress = replay_progress(self.config, &self.path, first).await;
        let mut buf = vec![0; CHUNK_BYTES];
        loop {
            let Some(stream) = streams.front_mut() else {
                return Ok(());
            };
            let read = tokio::select! {
                biased;
                () = ctx.shutdown.cancelled() => return Ok(()),
                read = stream.file.read(&mut buf) => read.map_err(|e| SourceError::Read { path: stream.path.clone(), source: e })?,
            };
            if read > 0 {
                // While following, a file truncated and written again under
                // us would hand us the new content at the old offset: check
                // that it is still the file we were reading before using it.
                if self.config.follow && !stream.finite && !self.head_intact(stream) {
                    self.on_truncated(ctx, &mut streams).await?;
                    continue;
                }
                let start = stream.position;
                stream.position += read as u64;
                let id = stream.id;
                if !stream.finite {
                    progress.set_position(stream.position);
                }
                self.take_chunk(ctx, id, start, &buf[..read]).await;
                continue;
            }
            // At the end of the stream.
            if stream.finite {
                let (id, position) = (stream.id, stream.position);
                self.finish_line(ctx, id, position);
                streams.pop_front();
                continue;
            }
            if !self.config.follow {
                let (id, position) = (stream.id, stream.position);
                self.finish_line(ctx, id, position);
                progress.finish();
                return Ok(());
            }
            // Wait first, then look: a rotation that happened while we
            // waited is seen before the next read, not after it.
            if !self.wait(ctx).await {
                return Ok(());
            }
            let Some(stream) = streams.front_mut() else {
                return Ok(());
            };
            match self.change(stream) {
                Change::None | Change::Gone => {}
                Change::Renamed => {
                    // Finish the old file through the open handle (writes may
                    // have landed since we saw its end), then the new one.
                    if let Ok(file) = std::fs::File::open(&self.path) {
                        stream.finite = true;
                        let next = self
                            .open_stream(self.path.clone(), file, 0, false)
                            .await
                            .map_err(|e| self.open_error(e))?;
                        tracing::info!(component = &*ctx.name, path = %self.path.display(), "file rotated (renamed); finishing the old one, then following the new one");
                        streams.push_back(next);
                    }
                    continue;
                }
                Change::Truncated => {
                    self.on_truncated(ctx, &mut streams).await?;
                    continue;
                }
            }
        }
    }

    /// The file at the path was truncated or rewritten in place: read the
    /// rest of the old content from its copy if there is one, then the file
    /// from its start.
    async fn on_truncated(
        &mut self,
        ctx: &SourceContext,
        streams: &mut VecDeque<Stream>,
    ) -> Result<(), SourceError> {
        let Some(stream) = streams.front() else {
            return Ok(());
        };
        let (id, position) = (stream.id, stream.position);
        let rotated = self.rotated_copy(id, position);
        streams.clear();
        match rotated {
            Some((sibling, file, _)) => {
                tracing::info!(component = &*ctx.name, copy = %sibling.display(), "file truncated (copytruncate); reading the rest from its copy");
                let copy = self
                    .open_stream(sibling, file, position, true)
                    .await
                    .map_err(|e| self.open_error(e))?;
                streams.push_back(copy);
            }
            None => {
                tracing::info!(component = &*ctx.name, path = %self.path.display(), "file truncated; reading it again from its start");
                // The unterminated rest of the old content is gone.
                let _ = self.framer.finish();
            }
        }
        let file = std::fs::File::open(&self.path).map_err(|e| self.open_error(e))?;
        let fresh = self
            .open_stream(self.path.clone(), file, 0, false)
            .await
            .map_err(|e| self.open_error(e))?;
        streams.push_back(fresh);
        Ok(())
    }

    /// Cut a chunk read at `start` of stream `id` into lines for the batcher,
    /// each marking where the stream may resume after it.
    async fn take_chunk(&mut self, ctx: &mut SourceContext, id: u64, start: u64, chunk: &[u8]) {
        if let Some(head) = self.heads.get_mut(&id) {
            let have = head.len() as u64;
            if have < FINGERPRINT_BYTES as u64 && start <= have && start + chunk.len() as u64 > have
            {
                let from = usize::try_from(have - start).unwrap_or(0);
                let upto = chunk.len().min(FINGERPRINT_BYTES - head.len() + from);
                head.extend_from_slice(&chunk[from..upto]);
            }
        }
        let timestamp = now_nanos();
        let mut lines = self.framer.lines(chunk);
        while let Some(line) = lines.next_line() {
            let full = ctx.batcher.push(timestamp, line);
            ctx.batcher.set_mark(Mark {
                stream: id,
                offset: start + lines.consumed() as u64,
            });
            if full {
                ctx.batcher.flush().await;
            }
        }
        if ctx.batcher.is_due() {
            ctx.batcher.flush().await;
        }
        self.collect(ctx).await;
    }

    /// Send the unterminated last line of a stream read to its end.
    fn finish_line(&mut self, ctx: &mut SourceContext, id: u64, position: u64) {
        push_last_line(&mut self.framer, now_nanos(), &mut ctx.batcher);
        ctx.batcher.set_mark(Mark {
            stream: id,
            offset: position,
        });
    }

    /// Whether the file at the path is still the one `stream` reads.
    fn change(&self, stream: &Stream) -> Change {
        let metadata = match std::fs::metadata(&self.path) {
            Ok(metadata) => metadata,
            Err(_) => return Change::Gone,
        };
        if (metadata.dev(), metadata.ino()) != stream.identity {
            return Change::Renamed;
        }
        if metadata.len() < stream.position {
            return Change::Truncated;
        }
        if self.head_intact(stream) {
            Change::None
        } else {
            // Rewritten in place past our position: its first bytes changed.
            Change::Truncated
        }
    }

    /// Whether the file `stream` reads still starts with the bytes it did.
    fn head_intact(&self, stream: &Stream) -> bool {
        let Some(known) = self.heads.get(&stream.id) else {
            return true;
        };
        match read_head(&stream.std) {
            Ok(now) => now.len() >= known.len() && now[..known.len()] == known[..],
            Err(_) => true,
        }
    }

    /// The copy of stream `id` made before a truncation, with more than
    /// `position` bytes.
    fn rotated_copy(&self, id: u64, position: u64) -> Option<checkpoint::Rotated> {
        let head = self.heads.get(&id)?;
        let len = head
            .len()
            .min(usize::try_from(position).unwrap_or(usize::MAX));
        let probe = Checkpoint {
            path: self.path.clone(),
            fingerprint: fingerprint(&head[..len]),
            fingerprint_len: len,
            offset: position,
        };
        find_rotated(&self.path, &probe)
    }

    /// Wait for something to do: shutdown (false), the batch's linger time,
    /// acknowledgements, a file event or the poll interval (true).
    async fn wait(&mut self, ctx: &mut SourceContext) -> bool {
        let poll = Instant::now() + self.config.poll_interval.max(MIN_POLL_INTERVAL);
        loop {
            let linger = ctx.batcher.deadline();
            let commit_due = self.uncommitted.map(|_| self.last_commit + COMMIT_INTERVAL);
            let changed = async {
                match &self.watch {
                    Some(watch) => watch.changed().await,
                    None => std::future::pending().await,
                }
            };
            let acked = async {
                match ctx.batcher.acks() {
                    Some(acks) => acks.next().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = ctx.shutdown.cancelled() => return false,
                () = tokio::time::sleep_until(linger.unwrap_or(poll)), if linger.is_some() => {
                    ctx.batcher.flush().await;
                }
                mark = acked => {
                    if let Some(mark) = mark {
                        self.uncommitted = Some(mark);
                    }
                    self.commit(ctx, false).await;
                }
                () = tokio::time::sleep_until(commit_due.unwrap_or(poll)), if commit_due.is_some() => {
                    self.commit(ctx, true).await;
                }
                () = changed => return true,
                () = tokio::time::sleep_until(poll) => return true,
            }
        }
    }

    /// Take the acknowledgements that have arrived and commit if it is time.
    async fn collect(&mut self, ctx: &mut SourceContext) {
        if let Some(mark) = ctx.batcher.acks().and_then(|acks| acks.collect()) {
            self.uncommitted = Some(mark);
        }
        self.commit(ctx, false).await;
    }

    /// Write the newest acknowledged mark as the checkpoint, unless one was
    /// written less than [`COMMIT_INTERVAL`] ago and `now` is false.
    async fn commit(&mut self, ctx: &mut SourceContext, now: bool) {
        let Some(mark) = self.uncommitted else {
            return;
        };
        if !now && self.last_commit.elapsed() < COMMIT_INTERVAL {
            return;
        }
        self.uncommitted = None;
        self.last_commit = Instant::now();
        ctx.batcher.report_acknowledged();
        // Heads of streams before this one are no longer needed.
        self.heads.retain(|id, _| *id >= mark.stream);
        let Some(head) = self.heads.get(&mark.stream) else {
            return;
        };
        let len = head
            .len()
            .min(usize::try_from(mark.offset).unwrap_or(usize::MAX));
        let checkpoint = Checkpoint {
            path: self.path.clone(),
            fingerprint: fingerprint(&head[..len]),
            fingerprint_len: len,
            offset: mark.offset,
        };
        let bytes = serde_json::to_vec(&checkpoint).unwrap_or_default();
        let state = std::sync::Arc::clone(&ctx.state);
        let key = self.key.clone();
        let saved = tokio::task::spawn_blocking(move || state.save_checkpoint(&key, &bytes)).await;
        match saved {
            Ok(Ok(())) => CheckpointCommitted {
                component: &ctx.name,
            }
            .emit(),
            Ok(Err(error)) => {
                ComponentError {
                    component: &ctx.name,
                    reason: "checkpoint_failed",
                    error: &error,
                }
                .emit();
            }
            Err(error) => {
                ComponentError {
                    component: &ctx.name,
                    reason: "checkpoint_failed",
                    error: &error,
                }
                .emit();
            }
        }
    }

    /// After the source has stopped sending: wait until everything it sent
    /// is acknowledged, then commit the last checkpoint.
    async fn settle(&mut self, ctx: &mut SourceContext) {
        if let Some(settled) = ctx.batcher.acks().map(|acks| acks.settle())
            && let Some(mark) = settled.await
        {
            self.uncommitted = Some(mark);
        }
        self.commit(ctx, true).await;
    }
}

/// A progress bar for a replay (`follow: false`) when standard error is a
/// terminal; hidden otherwise, and while following.
async fn replay_progress(config: &FileSourceConfig, path: &Path, stream: &Stream) -> ProgressBar {
    let len = match stream.std.metadata() {
        Ok(metadata) if !config.follow && std::io::stderr().is_terminal() => metadata.len(),
        _ => return ProgressBar::hidden(),
    };
    let bar = ProgressBar::new(len)
        .with_position(stream.position)
        .with_message(path.display().to_string());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::super::testing::{Running, append, config, expect, numbered, state, truncate};
    use super::*;
    use crate::sources::testing::context;

    #[tokio::test]
    async fn a_replay_reads_every_line_and_the_unterminated_last_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.log");
        let lines: Vec<String> = (0..20_000).map(|i| format!("T:{i},V:5.0,S:OK")).collect();
        append(&path, &(lines.join("\r\n") + "\r\nlast"));
        let running = Running::start(config(&path, ReadFrom::Beginning, false), &state());
        let got = running.end().await;
        assert_eq!(got.len(), 20_001);
        assert_eq!(got[..20_000], lines[..]);
        assert_eq!(got[20_000], "last");
    }

    #[tokio::test]
    async fn a_missing_file_without_follow_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (ctx, _rx) = context(10, Duration::from_millis(10));
        let error = super::super::run(
            config(&dir.path().join("nope"), ReadFrom::Beginning, false),
            ctx,
        )
        .await;
        assert!(matches!(error, Err(SourceError::Open { .. })), "{error:?}");
    }

    #[tokio::test]
    async fn follow_from_the_end_picks_up_appended_lines_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.log");
        append(&path, "old\n");
        let mut running = Running::start(config(&path, ReadFrom::End, true), &state());
        tokio::time::sleep(Duration::from_millis(100)).await;
        append(&path, "new 1\nnew");
        tokio::time::sleep(Duration::from_millis(100)).await;
        append(&path, " 2\n");
        assert_eq!(running.until(2).await, ["new 1", "new 2"]);
        let stopped = Instant::now();
        assert_eq!(running.stop().await, ["new 1", "new 2"]);
        assert!(stopped.elapsed() < Duration::from_millis(500));
    }

    #[tokio::test]
    async fn follow_waits_for_the_file_and_reads_it_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("later.log");
        let mut running = Running::start(config(&path, ReadFrom::End, true), &state());
        tokio::time::sleep(Duration::from_millis(100)).await;
        append(&path, "first\n");
        assert_eq!(running.until(1).await, ["first"]);
        running.stop().await;
    }

    #[tokio::test]
    async fn shutdown_sends_the_pending_batch_but_not_a_half_written_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.log");
        append(&path, "a\nb\nhal");
        let (mut ctx, mut rx) = context(100, Duration::from_secs(3600));
        let shutdown = ctx.shutdown.clone();
        let store = state();
        ctx.state = Arc::clone(&store);
        let task = tokio::spawn(super::super::run(
            config(&path, ReadFrom::Checkpoint, true),
            ctx,
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(rx.try_recv().is_err(), "linger is an hour");
        shutdown.cancel();
        let batch = rx.recv().await.unwrap();
        let got: Vec<_> = batch
            .records
            .iter()
            .map(|r| r.text().into_owned())
            .collect();
        assert_eq!(got, ["a", "b"]);
        drop(batch);
        assert!(rx.recv().await.is_none());
        task.await.unwrap().unwrap();
        // The next run reads the half line once it is whole.
        append(&path, "f\nc\n");
        let mut running = Running::start(config(&path, ReadFrom::Checkpoint, true), &store);
        assert_eq!(running.until(2).await, ["half", "c"]);
        assert_eq!(running.stop().await, ["half", "c"]);
    }

    #[tokio::test]
    async fn a_restart_resumes_after_the_last_acknowledged_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.log");
        let store = state();
        append(&path, &numbered(0..1000));
        let mut first = Running::start(config(&path, ReadFrom::Checkpoint, true), &store);
        first.until(1000).await;
        assert_eq!(first.stop().await, expect(0..1000));
        append(&path, &numbered(1000..1500));
        let second = Running::start(config(&path, ReadFrom::Checkpoint, false), &store);
        assert_eq!(second.end().await, expect(1000..1500), "nothing read twice");
        // `beginning` ignores the checkpoint.
        let replay = Running::start(config(&path, ReadFrom::Beginning, false), &store);
        assert_eq!(replay.end().await, expect(0..1500));
    }

    #[tokio::test]
    async fn an_unacknowledged_batch_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.log");
        let store = state();
        append(&path, &numbered(0..10));
        let (mut ctx, mut rx) = context(5, Duration::from_millis(10));
        ctx.state = Arc::clone(&store);
        let shutdown = ctx.shutdown.clone();
        let task = tokio::spawn(super::super::run(
            config(&path, ReadFrom::Checkpoint, true),
            ctx,
        ));
        let delivered = rx.recv().await.unwrap();
        let failed = rx.recv().await.unwrap();
        failed.delivery.fail();
        drop((delivered, failed));
        shutdown.cancel();
        while rx.recv().await.is_some() {}
        task.await.unwrap().unwrap();
        let again = Running::start(config(&path, ReadFrom::Checkpoint, false), &store);
        assert_eq!(again.end().await, expect(5..10));
    }

    #[tokio::test]
    async fn a_rename_rotation_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let rotated = dir.path().join("app.log.1");
        append(&path, &numbered(0..100));
        let mut running = Running::start(config(&path, ReadFrom::Checkpoint, true), &state());
        running.until(100).await;
        std::fs::rename(&path, &rotated).unwrap();
        // The writer still has the old file open for a moment.
        append(&rotated, &numbered(100..200));
        append(&path, &numbered(200..300));
        running.until(300).await;
        assert_eq!(running.stop().await, expect(0..300));
    }

    #[tokio::test]
    async fn a_copytruncate_rotation_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        append(&path, &numbered(0..100));
        let mut running = Running::start(config(&path, ReadFrom::Checkpoint, true), &state());
        running.until(100).await;
        append(&path, &numbered(100..200));
        std::fs::copy(&path, dir.path().join("app.log.1")).unwrap();
        truncate(&path);
        append(&path, &numbered(200..300));
        running.until(300).await;
        assert_eq!(running.stop().await, expect(0..300));
    }

    #[tokio::test]
    async fn rotations_while_stopped_are_followed_by_fingerprint() {
        for copytruncate in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("app.log");
            let rotated = dir.path().join("app.log.1");
            let store = state();
            append(&path, &numbered(0..100));
            let mut first = Running::start(config(&path, ReadFrom::Checkpoint, true), &store);
            first.until(100).await;
            first.stop().await;
            append(&path, &numbered(100..200));
            if copytruncate {
                std::fs::copy(&path, &rotated).unwrap();
                truncate(&path);
            } else {
                std::fs::rename(&path, &rotated).unwrap();
            }
            append(&path, &numbered(200..300));
            let second = Running::start(config(&path, ReadFrom::Checkpoint, false), &store);
            assert_eq!(
                second.end().await,
                expect(100..300),
                "copytruncate: {copytruncate}"
            );
        }
    }

    #[tokio::test]
    async fn every_generation_rotated_while_stopped_is_read_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let store = state();
        append(&path, &numbered(0..100));
        let mut first = Running::start(config(&path, ReadFrom::Checkpoint, true), &store);
        first.until(100).await;
        first.stop().await;
        append(&path, &numbered(100..200));
        std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
        // An older, long-rotated file is not read again.
        let older = dir.path().join("app.log.9");
        append(&older, &numbered(900..901));
        let long_ago = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1);
        let file = std::fs::File::options().write(true).open(&older).unwrap();
        file.set_modified(long_ago).unwrap();
        append(&path, &numbered(200..300));
        std::fs::copy(&path, dir.path().join("app.log.2")).unwrap();
        truncate(&path);
        append(&path, &numbered(300..400));
        let second = Running::start(config(&path, ReadFrom::Checkpoint, false), &store);
        assert_eq!(second.end().await, expect(100..400));
    }
}
