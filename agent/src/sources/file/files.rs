//! Many files: every file matching the `include` globs and no `exclude`
//! glob, each with a checkpoint of its own.
//!
//! The globs are expanded at start and every `glob_interval`. A file is
//! known by its device and inode while the agent runs, so a file renamed to
//! another matching path keeps its place, and a rename rotation (a new file
//! at the old path) makes the old file "gone": it is read to its end through
//! the handle still open, then forgotten, and the new one is read from its
//! start. A file that shrinks or whose first bytes change (truncated, or
//! rewritten in place) is read again from its start.
//!
//! At most `max_open_files` are open at once. Every round reads one chunk
//! from each open file, so a busy file cannot starve the others; when more
//! files have data than there are places, files at their end give up their
//! place first, then the ones open longest, and the waiting files are opened
//! in the order they last had a turn. A closed file's new data is noticed at
//! the next expansion of the globs.
//!
//! Batches hold the lines of one file (the batcher is flushed when the
//! reader moves on to another file), so each carries the file's own mark
//! (its stream number and the offset after its last line) and its
//! `path_tag`. Marks come back from [`crate::delivery::Acks`] in order as
//! batches become durable; each file's newest one is committed under the key
//! `file:<source>:<path>` with the file's inode and a fingerprint of its
//! first bytes. A restart resumes a file at its checkpoint only when both
//! still match (and finds a file renamed while the agent was down by them);
//! otherwise it reads the file from its start, so a file is never skipped.
//! A partial last line is re-read whole when a file is reopened.
//!
//! The checkpoint of a file that no longer matches is kept for
//! `checkpoint_retention`, then removed. Memory: a few hundred bytes per
//! matched file and per retained checkpoint, plus one line buffer (at most
//! `max_line_length`) per open file and one read buffer of 256 KiB.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::IsTerminal;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use tokio::task::block_in_place;
use tokio::time::Instant;

use super::checkpoint::{FINGERPRINT_BYTES, fingerprint, read_head};
use super::config::{FileSourceConfig, ReadFrom};
use super::discover::{Found, Patterns};
use super::watch::Watch;
use super::{CHUNK_BYTES, COMMIT_INTERVAL, MIN_POLL_INTERVAL};
use crate::delivery::Mark;
use crate::event::{RecordTags, now_nanos};
use crate::internal::events::{CheckpointCommitted, ComponentError, SourceConnected};
use crate::internal::metrics::metrics;
use crate::sources::lines::LineFramer;
use crate::sources::{SourceContext, SourceError};

/// Read every matching file until the end (a replay) or shutdown.
pub(super) async fn run(
    config: &FileSourceConfig,
    mut ctx: SourceContext,
) -> Result<(), SourceError> {
    ctx.batcher.track_deliveries();
    let mut files = Files::new(config, &ctx);
    files.load(&ctx).await;
    let result = files.read(&mut ctx).await;
    ctx.batcher.flush().await;
    // Let the pipeline drain, then commit what it acknowledged.
    ctx.batcher.close();
    files.settle(&mut ctx).await;
    files.forget_metrics(&ctx);
    result
}

/// A checkpoint as stored: where to resume one file, and how to recognise it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    /// Hex SHA-256 of the file's first `fingerprint_len` bytes.
    fingerprint: String,
    fingerprint_len: usize,
    /// Just after the last acknowledged line.
    offset: u64,
    dev: u64,
    ino: u64,
    /// When the file stopped matching (Unix seconds), for the retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gone_since: Option<u64>,
}

/// One file the source knows: matched by the globs, or being finished.
#[derive(Debug)]
struct Tracked {
    path: PathBuf,
    identity: (u64, u64),
    /// Fingerprint of the first bytes and how many it covers, once read.
    fingerprint: Option<(String, usize)>,
    /// The next byte to read.
    position: u64,
    /// Just after the last complete line sent: where a reopened file resumes.
    line_end: u64,
    /// The size last seen.
    size: u64,
    reader: Option<Reader>,
    /// At its end in the last round.
    idle: bool,
    /// Its path no longer leads to it: read to the end, then forgotten.
    gone: bool,
    /// Nothing more to read from it (a replay at its end, or gone).
    finished: bool,
    /// The newest acknowledged offset, not yet committed.
    acked: Option<u64>,
    /// The offset in its saved checkpoint.
    committed: Option<u64>,
    /// Tags for the points parsed from its lines.
    tags: RecordTags,
    /// The round it was last opened in: waiting files take turns by it.
    opened_round: u64,
}

/// An open file and the line it may be in the middle of.
#[derive(Debug)]
struct Reader {
    file: std::fs::File,
    framer: LineFramer,
}

impl Tracked {
    /// Whether it has data to read and no place to read it from.
    fn waiting(&self, follow: bool) -> bool {
        self.reader.is_none()
            && !self.finished
            && !self.gone
            && (self.size > self.position || !follow)
    }
}

/// The reading state of a file source over globs.
#[derive(Debug)]
struct Files<'a> {
    config: &'a FileSourceConfig,
    component: Arc<str>,
    /// Checkpoint keys are this and the path.
    prefix: String,
    patterns: Arc<Patterns>,
    tracked: BTreeMap<u64, Tracked>,
    by_identity: HashMap<(u64, u64), u64>,
    next_id: u64,
    /// Checkpoints of files not tracked now, by path, and whether they must
    /// be written again (their `gone_since` was set).
    stored: HashMap<PathBuf, (Stored, bool)>,
    /// Checkpoint keys to remove at the next commit.
    removals: Vec<String>,
    open: usize,
    round: u64,
    /// The stream whose lines the batcher holds.
    current: Option<u64>,
    expanded_once: bool,
    next_expansion: Instant,
    last_commit: Instant,
    watch: Option<Watch>,
    buf: Vec<u8>,
    progress: ProgressBar,
}

impl<'a> Files<'a> {
    fn new(config: &'a FileSourceConfig, ctx: &SourceContext) -> Self {
        let patterns = Arc::new(Patterns::new(&config.include, &config.exclude));
        let watch = config
            .follow
            .then(|| Watch::directories(&ctx.name, &patterns.roots()));
        Self {
            config,
            component: Arc::clone(&ctx.name),
            prefix: format!("file:{}:", ctx.name),
            patterns,
            tracked: BTreeMap::new(),
            by_identity: HashMap::new(),
            next_id: 0,
            stored: HashMap::new(),
            removals: Vec::new(),
            open: 0,
            round: 0,
            current: None,
            expanded_once: false,
            next_expansion: Instant::now(),
            last_commit: Instant::now(),
            watch,
            buf: vec![0; CHUNK_BYTES],
            progress: ProgressBar::hidden(),
        }
    }

    fn key(&self, path: &Path) -> String {
        checkpoint_key(&self.prefix, path)
    }

    /// Load the checkpoints of earlier runs.
    async fn load(&mut self, ctx: &SourceContext) {
        if self.config.read_from != ReadFrom::Checkpoint {
            return;
        }
        let state = Arc::clone(&ctx.state);
        let prefix = self.prefix.clone();
        let loaded = tokio::task::spawn_blocking(move || state.load_checkpoints(&prefix)).await;
        let entries = match loaded {
            Ok(Ok(entries)) => entries,
            Ok(Err(error)) => return self.checkpoint_failed(&error),
            Err(error) => return self.checkpoint_failed(&error),
        };
        for (key, value) in entries {
            let path = PathBuf::from(&key[self.prefix.len()..]);
            if let Ok(stored) = serde_json::from_slice::<Stored>(&value) {
                self.stored.insert(path, (stored, false));
            }
        }
    }

    fn checkpoint_failed(&self, error: &dyn std::fmt::Display) {
        let error = error.to_string();
        ComponentError {
            component: &self.component,
            reason: "checkpoint_failed",
            error: &error,
        }
        .emit();
    }

    async fn read(&mut self, ctx: &mut SourceContext) -> Result<(), SourceError> {
        self.expand(ctx).await;
        let target = format!(
            "{} files matching {}",
            self.tracked.len(),
            self.config.include.join(", ")
        );
        SourceConnected {
            component: &ctx.name,
            target: &target,
        }
        .emit();
        self.progress = self.replay_progress();
        loop {
            if ctx.shutdown.is_cancelled() {
                return Ok(());
            }
            if self.config.follow && Instant::now() >= self.next_expansion {
                self.expand(ctx).await;
            }
            self.take_turns();
            let read = self.read_round(ctx).await;
            self.forget_finished();
            if read > 0 {
                continue;
            }
            if !self.config.follow {
                if self.tracked.values().all(|file| file.finished) {
                    self.progress.finish();
                    return Ok(());
                }
                continue;
            }
            if !self.wait(ctx).await {
                return Ok(());
            }
        }
    }

    /// Expand the globs: track new files, follow renames, let go of files
    /// that no longer match, and forget checkpoints past their retention.
    async fn expand(&mut self, ctx: &SourceContext) {
        let patterns = Arc::clone(&self.patterns);
        let (found, errors) = tokio::task::spawn_blocking(move || patterns.expand())
            .await
            .unwrap_or_default();
        self.next_expansion = Instant::now() + self.config.glob_interval;
        if let Some(error) = errors.first() {
            ComponentError {
                component: &ctx.name,
                reason: "glob_failed",
                error,
            }
            .emit();
        }
        let first = !self.expanded_once;
        self.expanded_once = true;
        let mut seen = HashSet::with_capacity(found.len());
        for found in found {
            let id = match self.by_identity.get(&found.identity) {
                Some(&id) => id,
                None => self.track(found.clone(), first),
            };
            seen.insert(id);
            self.update(id, found);
        }
        let now = unix_seconds();
        for (id, file) in &mut self.tracked {
            if seen.contains(id) || file.gone {
                continue;
            }
            file.gone = true;
            if file.reader.is_none() {
                file.finished = true;
                if file.size > file.line_end {
                    tracing::warn!(component = &*self.component, path = %file.path.display(), unread = file.size - file.line_end, "file removed before it was read to its end");
                }
            }
        }
        // Checkpoints of files no longer here: kept for the retention.
        let retention = self.config.checkpoint_retention.as_secs();
        let mut expired = Vec::new();
        for (path, (stored, dirty)) in &mut self.stored {
            match stored.gone_since {
                None => {
                    stored.gone_since = Some(now);
                    *dirty = true;
                }
                Some(since) if now.saturating_sub(since) >= retention => {
                    expired.push(path.clone());
                }
                Some(_) => {}
            }
        }
        for path in expired {
            self.stored.remove(&path);
            self.removals.push(self.key(&path));
        }
        self.report_files();
    }

    /// Start tracking a file found by the globs: from its checkpoint when
    /// it has one that still matches, else from its start (or, for files
    /// there at start with `read_from: end`, from its end).
    fn track(&mut self, found: Found, first: bool) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let mut position = match self.config.read_from {
            ReadFrom::End if first => found.size,
            ReadFrom::Checkpoint | ReadFrom::Beginning | ReadFrom::End => 0,
        };
        let mut fingerprint = None;
        let mut committed = None;
        if let Some((stored, renamed_from)) = self.claim_checkpoint(&found) {
            if renamed_from != found.path {
                tracing::info!(component = &*self.component, path = %found.path.display(), from = %renamed_from.display(), "file renamed while stopped; resuming it");
                self.removals.push(self.key(&renamed_from));
            }
            match resume_at(&found, &stored) {
                Some(offset) => {
                    position = offset;
                    committed = (renamed_from == found.path).then_some(offset);
                    fingerprint = Some((stored.fingerprint, stored.fingerprint_len));
                }
                None => {
                    tracing::info!(component = &*self.component, path = %found.path.display(), "file changed since its checkpoint; reading it from its start");
                }
            }
        }
        let tags = path_tags(self.config, &found.path);
        self.by_identity.insert(found.identity, id);
        self.tracked.insert(
            id,
            Tracked {
                path: found.path,
                identity: found.identity,
                fingerprint,
                position,
                line_end: position,
                size: found.size,
                reader: None,
                idle: false,
                gone: false,
                finished: false,
                // A resumed file renamed while stopped is saved under its
                // new path at the first commit.
                acked: (committed.is_none() && position > 0).then_some(position),
                committed,
                tags,
                opened_round: 0,
            },
        );
        id
    }

    /// The checkpoint for a newly found file, and the path it was saved
    /// under: its own path's if the inode matches, else one of a path no
    /// longer matched with the same inode (renamed while stopped).
    fn claim_checkpoint(&mut self, found: &Found) -> Option<(Stored, PathBuf)> {
        let same_inode = |stored: &Stored| (stored.dev, stored.ino) == found.identity;
        if let Some((stored, _)) = self.stored.get(&found.path)
            && same_inode(stored)
        {
            let (stored, _) = self.stored.remove(&found.path)?;
            return Some((stored, found.path.clone()));
        }
        let from = self
            .stored
            .iter()
            .find(|(path, (stored, _))| same_inode(stored) && !path.exists())
            .map(|(path, _)| path.clone())?;
        let (stored, _) = self.stored.remove(&from)?;
        Some((stored, from))
    }

    /// What the globs found at a tracked file's identity now.
    fn update(&mut self, id: u64, found: Found) {
        let Some(file) = self.tracked.get_mut(&id) else {
            return;
        };
        file.size = found.size;
        if file.gone {
            // Matched again (renamed back): it is no longer on its way out.
            file.gone = false;
            if self.config.follow {
                file.finished = false;
            }
        }
        if file.path != found.path {
            tracing::info!(component = &*self.component, from = %file.path.display(), to = %found.path.display(), "file renamed; reading on");
            let old = std::mem::replace(&mut file.path, found.path);
            if file.committed.take().is_some() {
                // Saved again under the new path at the next commit.
                file.acked = file.acked.or(Some(file.line_end));
                self.removals.push(checkpoint_key(&self.prefix, &old));
            }
            file.tags = path_tags(self.config, &file.path);
        }
        // A checkpoint under its path that is not its own is stale.
        if self.stored.remove(&file.path).is_some() {
            self.removals.push(checkpoint_key(&self.prefix, &file.path));
        }
    }

    /// Open and close files so that those with data to read take turns
    /// within `max_open_files`.
    fn take_turns(&mut self) {
        let follow = self.config.follow;
        let mut waiting: Vec<(u64, u64)> = self
            .tracked
            .iter()
            .filter(|(_, file)| file.waiting(follow))
            .map(|(id, file)| (file.opened_round, *id))
            .collect();
        if waiting.is_empty() {
            return;
        }
        waiting.sort_unstable();
        let cap = self.config.max_open_files.max(1);
        let mut free = cap.saturating_sub(self.open);
        if free < waiting.len() {
            // Files at their end first, then those open longest; never a
            // file being finished (it cannot be opened again) or one in the
            // middle of a cut line.
            let mut yielding: Vec<(bool, u64, u64)> = self
                .tracked
                .iter()
                .filter(|(_, file)| {
                    file.reader
                        .as_ref()
                        .is_some_and(|reader| !reader.framer.is_discarding())
                        && !file.gone
                        && file.opened_round < self.round
                })
                .map(|(id, file)| (!file.idle, file.opened_round, *id))
                .collect();
            yielding.sort_unstable();
            for (_, _, id) in yielding.into_iter().take(waiting.len() - free) {
                self.close(id);
                free += 1;
            }
        }
        for (_, id) in waiting.into_iter().take(free) {
            self.open_file(id);
        }
        self.report_files();
    }

    /// Close a file that may be opened again later, at its last full line.
    fn close(&mut self, id: u64) {
        let Some(file) = self.tracked.get_mut(&id) else {
            return;
        };
        if file.reader.take().is_some() {
            self.open -= 1;
            file.position = file.line_end;
        }
    }

    fn open_file(&mut self, id: u64) {
        let round = self.round;
        let Some(file) = self.tracked.get_mut(&id) else {
            return;
        };
        let opened = block_in_place(|| {
            let handle = std::fs::File::open(&file.path)?;
            let metadata = handle.metadata()?;
            let head = read_head(&handle)?;
            Ok::<_, std::io::Error>((handle, metadata, head))
        });
        let (handle, metadata, head) = match opened {
            Ok(opened) => opened,
            Err(error) => {
                if error.kind() != std::io::ErrorKind::NotFound {
                    let error = format!("cannot open {}: {error}", file.path.display());
                    ComponentError {
                        component: &self.component,
                        reason: "open_failed",
                        error: &error,
                    }
                    .emit();
                }
                // Tried again when the globs next see it grow; a replay
                // moves on.
                file.size = file.position;
                file.finished = !self.config.follow;
                return;
            }
        };
        if (metadata.dev(), metadata.ino()) != file.identity {
            // Another file at its path since the globs looked: the next
            // expansion tracks it, and this one is gone.
            file.size = file.position;
            file.finished = !self.config.follow;
            return;
        }
        let changed =
            metadata.len() < file.position || !head_matches(file.fingerprint.as_ref(), &head);
        file.fingerprint = Some((fingerprint(&head), head.len()));
        file.size = metadata.len();
        file.reader = Some(Reader {
            file: handle,
            framer: LineFramer::new(Arc::clone(&self.component), self.config.max_line_length),
        });
        file.idle = false;
        file.opened_round = round;
        self.open += 1;
        if changed {
            self.restart(id);
        }
    }

    /// Read open file `id` again from its first byte (it was truncated or
    /// rewritten), under a new stream number: acknowledgements of its old
    /// content, still in flight, must not move its new checkpoint. Returns
    /// the new number.
    fn restart(&mut self, id: u64) -> u64 {
        let Some(mut file) = self.tracked.remove(&id) else {
            return id;
        };
        tracing::info!(component = &*self.component, path = %file.path.display(), "file truncated or rewritten; reading it again from its start");
        let renumbered = self.next_id;
        self.next_id += 1;
        file.position = 0;
        file.line_end = 0;
        file.acked = None;
        file.committed = None;
        if let Some(reader) = &mut file.reader {
            let _ = reader.framer.finish();
            file.fingerprint = read_head(&reader.file)
                .ok()
                .map(|head| (fingerprint(&head), head.len()));
        }
        self.by_identity.insert(file.identity, renumbered);
        self.tracked.insert(renumbered, file);
        renumbered
    }

    /// One chunk from every open file; the bytes read.
    async fn read_round(&mut self, ctx: &mut SourceContext) -> u64 {
        self.round += 1;
        let ids: Vec<u64> = self
            .tracked
            .iter()
            .filter(|(_, file)| file.reader.is_some())
            .map(|(id, _)| *id)
            .collect();
        let mut total = 0;
        for id in ids {
            if ctx.shutdown.is_cancelled() {
                break;
            }
            total += self.read_one(ctx, id).await;
            if ctx.batcher.is_due() {
                ctx.batcher.flush().await;
            }
            self.collect(ctx).await;
        }
        total
    }

    /// Read the next chunk of file `id` and send its lines; the bytes read.
    async fn read_one(&mut self, ctx: &mut SourceContext, id: u64) -> u64 {
        let follow = self.config.follow;
        let Some(file) = self.tracked.get(&id) else {
            return 0;
        };
        let id = if follow && file.idle && !file.gone && changed_under(file) {
            self.restart(id)
        } else {
            id
        };
        let Some(file) = self.tracked.get_mut(&id) else {
            return 0;
        };
        let Some(reader) = file.reader.as_mut() else {
            return 0;
        };
        let buf = &mut self.buf;
        let read = block_in_place(|| reader.file.read_at(buf, file.position));
        let read = match read {
            Ok(read) => read,
            Err(error) => {
                let error = format!("cannot read {}: {error}", file.path.display());
                ComponentError {
                    component: &self.component,
                    reason: "read_failed",
                    error: &error,
                }
                .emit();
                // Closed, and opened again when the globs next see it; a
                // replay moves on.
                file.reader = None;
                file.position = file.line_end;
                file.size = file.position;
                file.finished = !follow;
                self.open -= 1;
                return 0;
            }
        };
        if read == 0 {
            self.at_end(ctx, id).await;
            return 0;
        }
        file.idle = false;
        if self.current != Some(id) {
            ctx.batcher.flush().await;
            ctx.batcher.set_tags(file.tags.clone());
            self.current = Some(id);
        }
        let start = file.position;
        file.position += read as u64;
        file.size = file.size.max(file.position);
        self.progress.inc(read as u64);
        let timestamp = now_nanos();
        let mut lines = reader.framer.lines(&self.buf[..read]);
        while let Some(line) = lines.next_line() {
            let full = ctx.batcher.push(timestamp, line);
            file.line_end = start + lines.consumed() as u64;
            ctx.batcher.set_mark(Mark {
                stream: id,
                offset: file.line_end,
            });
            if full {
                ctx.batcher.flush().await;
            }
        }
        // A file first fingerprinted while shorter than the fingerprint
        // covers: take in the bytes since, so its checkpoint knows it well.
        if file
            .fingerprint
            .as_ref()
            .is_some_and(|(_, len)| *len < FINGERPRINT_BYTES && (*len as u64) < file.position)
            && let Some(reader) = &file.reader
            && let Ok(head) = read_head(&reader.file)
            && head_matches(file.fingerprint.as_ref(), &head)
        {
            file.fingerprint = Some((fingerprint(&head), head.len()));
        }
        // A replay that read short, up to the size seen at open, is at the
        // end: finished without one more read to be told so.
        if !follow && read < self.buf.len() && file.position >= file.size {
            self.at_end(ctx, id).await;
        }
        read as u64
    }

    /// File `id` has nothing more for now: finish it if it is gone or this
    /// is a replay, else note that it is idle.
    async fn at_end(&mut self, ctx: &mut SourceContext, id: u64) {
        let follow = self.config.follow;
        let Some(file) = self.tracked.get_mut(&id) else {
            return;
        };
        if follow && !file.gone {
            file.idle = true;
            return;
        }
        let Some(mut reader) = file.reader.take() else {
            return;
        };
        self.open -= 1;
        file.finished = true;
        if let Some(line) = reader.framer.finish() {
            if self.current != Some(id) {
                ctx.batcher.flush().await;
                ctx.batcher.set_tags(file.tags.clone());
                self.current = Some(id);
            }
            ctx.batcher.push(now_nanos(), line);
            file.line_end = file.position;
            ctx.batcher.set_mark(Mark {
                stream: id,
                offset: file.position,
            });
        }
    }

    /// Forget files that are gone, read to their end and committed: their
    /// checkpoint stays for the retention.
    fn forget_finished(&mut self) {
        let done: Vec<u64> = self
            .tracked
            .iter()
            .filter(|(_, file)| {
                file.gone
                    && file.finished
                    && file.acked.is_none()
                    && file.committed.unwrap_or(0) >= file.line_end
            })
            .map(|(id, _)| *id)
            .collect();
        let now = unix_seconds();
        for id in done {
            let Some(file) = self.tracked.remove(&id) else {
                continue;
            };
            self.by_identity.remove(&file.identity);
            // A file renamed away whose path another file has taken: the
            // key is that file's now.
            let path_taken = self.tracked.values().any(|other| other.path == file.path);
            if let (false, Some(offset), Some((fingerprint, fingerprint_len))) =
                (path_taken, file.committed, file.fingerprint)
            {
                let stored = Stored {
                    fingerprint,
                    fingerprint_len,
                    offset,
                    dev: file.identity.0,
                    ino: file.identity.1,
                    gone_since: Some(now),
                };
                self.stored.insert(file.path, (stored, true));
            }
        }
    }

    /// Wait for something to do: shutdown (false), the batch's linger time,
    /// acknowledgements, a file event, the poll interval or the next
    /// expansion of the globs (true).
    async fn wait(&mut self, ctx: &mut SourceContext) -> bool {
        let poll = Instant::now() + self.config.poll_interval.max(MIN_POLL_INTERVAL);
        let wake = poll.min(self.next_expansion);
        loop {
            let linger = ctx.batcher.deadline();
            let uncommitted = self.tracked.values().any(|file| file.acked.is_some())
                || !self.removals.is_empty()
                || self.stored.values().any(|(_, dirty)| *dirty);
            let commit_due = uncommitted.then_some(self.last_commit + COMMIT_INTERVAL);
            let changed = async {
                match &self.watch {
                    Some(watch) => watch.changed().await,
                    None => std::future::pending().await,
                }
            };
            let tracked = &mut self.tracked;
            let acked = async {
                match ctx.batcher.acks() {
                    Some(acks) => acks.next_each(|mark| acknowledge(tracked, mark)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = ctx.shutdown.cancelled() => return false,
                () = tokio::time::sleep_until(linger.unwrap_or(wake)), if linger.is_some() => {
                    ctx.batcher.flush().await;
                }
                () = acked => {
                    self.commit(ctx, false).await;
                }
                () = tokio::time::sleep_until(commit_due.unwrap_or(wake)), if commit_due.is_some() => {
                    self.commit(ctx, true).await;
                }
                () = changed => return true,
                () = tokio::time::sleep_until(wake) => return true,
            }
        }
    }

    /// Take the acknowledgements that have arrived and commit if it is time.
    async fn collect(&mut self, ctx: &mut SourceContext) {
        let tracked = &mut self.tracked;
        if let Some(acks) = ctx.batcher.acks() {
            acks.collect_each(|mark| acknowledge(tracked, mark));
        }
        self.commit(ctx, false).await;
    }

    /// Write every acknowledged offset not yet saved (and the removals), in
    /// one transaction, unless one was written less than
    /// [`COMMIT_INTERVAL`] ago and `now` is false.
    async fn commit(&mut self, ctx: &mut SourceContext, now: bool) {
        if !now && self.last_commit.elapsed() < COMMIT_INTERVAL {
            return;
        }
        let mut save = Vec::new();
        let mut saved = Vec::new();
        for (id, file) in &self.tracked {
            let (Some(offset), Some((fingerprint, fingerprint_len))) =
                (file.acked, file.fingerprint.as_ref())
            else {
                continue;
            };
            let stored = Stored {
                fingerprint: fingerprint.clone(),
                fingerprint_len: *fingerprint_len,
                offset,
                dev: file.identity.0,
                ino: file.identity.1,
                gone_since: None,
            };
            save.push((self.key(&file.path), to_json(&stored)));
            saved.push((*id, offset));
        }
        for (path, (stored, dirty)) in &self.stored {
            if *dirty {
                save.push((self.key(path), to_json(stored)));
            }
        }
        // Never remove the key of a file that is read and committed under
        // it now (a path taken over by a new file after a rotation).
        if !self.removals.is_empty() {
            let live: HashSet<String> = self
                .tracked
                .values()
                .filter(|file| !file.gone && file.committed.is_some())
                .map(|file| self.key(&file.path))
                .collect();
            self.removals.retain(|key| !live.contains(key));
        }
        // Even with nothing to write (an acknowledged file not yet
        // fingerprinted), so a due commit cannot wake the source in a loop.
        self.last_commit = Instant::now();
        if save.is_empty() && self.removals.is_empty() {
            return;
        }
        ctx.batcher.report_acknowledged();
        let removals = std::mem::take(&mut self.removals);
        let state = Arc::clone(&ctx.state);
        let written = tokio::task::spawn_blocking(move || {
            let result = state.commit_checkpoints(&save, &removals);
            (result, removals)
        })
        .await;
        match written {
            Ok((Ok(()), _)) => {
                for (id, offset) in saved {
                    if let Some(file) = self.tracked.get_mut(&id) {
                        file.committed = Some(offset);
                        if file.acked == Some(offset) {
                            file.acked = None;
                        }
                    }
                }
                for (_, dirty) in self.stored.values_mut() {
                    *dirty = false;
                }
                CheckpointCommitted {
                    component: &ctx.name,
                }
                .emit();
            }
            Ok((Err(error), removals)) => {
                // Kept, and written with the next commit.
                self.removals.extend(removals);
                self.checkpoint_failed(&error);
            }
            Err(error) => self.checkpoint_failed(&error),
        }
        self.forget_finished();
    }

    /// After the source has stopped sending: wait until everything it sent
    /// is acknowledged, then commit the last checkpoints.
    async fn settle(&mut self, ctx: &mut SourceContext) {
        let tracked = &mut self.tracked;
        if let Some(acks) = ctx.batcher.acks() {
            acks.settle_each(|mark| acknowledge(tracked, mark)).await;
        }
        self.commit(ctx, true).await;
    }

    /// A progress bar for a replay (`follow: false`) when standard error is
    /// a terminal; hidden otherwise.
    fn replay_progress(&self) -> ProgressBar {
        if self.config.follow || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let total: u64 = self
            .tracked
            .values()
            .map(|file| file.size.saturating_sub(file.position))
            .sum();
        let bar = ProgressBar::new(total).with_message(format!("{} files", self.tracked.len()));
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    }

    fn report_files(&self) {
        let gauge = &metrics().file_source_files;
        let matched = self.tracked.values().filter(|file| !file.gone).count();
        gauge
            .with_label_values(&[&*self.component, "matched"])
            .set(i64::try_from(matched).unwrap_or(i64::MAX));
        gauge
            .with_label_values(&[&*self.component, "open"])
            .set(i64::try_from(self.open).unwrap_or(i64::MAX));
    }

    fn forget_metrics(&self, ctx: &SourceContext) {
        for state in ["matched", "open"] {
            let _ = metrics()
                .file_source_files
                .remove_label_values(&[&*ctx.name, state]);
        }
    }
}

/// The state store key of the checkpoint of `path`.
fn checkpoint_key(prefix: &str, path: &Path) -> String {
    format!("{prefix}{}", path.display())
}

/// The record tags of the lines of `path`: its path under `path_tag`.
fn path_tags(config: &FileSourceConfig, path: &Path) -> RecordTags {
    config
        .path_tag
        .as_ref()
        .map(|tag| Arc::from([(tag.clone(), path.display().to_string())]))
}

/// Note an acknowledged mark: its file may commit up to it.
fn acknowledge(tracked: &mut BTreeMap<u64, Tracked>, mark: Mark) {
    if let Some(file) = tracked.get_mut(&mark.stream) {
        file.acked = Some(mark.offset);
    }
}

/// Where a found file resumes from its checkpoint: only when its first bytes
/// are still those checkpointed and it is not shorter than the offset.
fn resume_at(found: &Found, stored: &Stored) -> Option<u64> {
    if stored.offset > found.size {
        return None;
    }
    let handle = std::fs::File::open(&found.path).ok()?;
    let head = read_head(&handle).ok()?;
    let known = Some((stored.fingerprint.clone(), stored.fingerprint_len));
    head_matches(known.as_ref(), &head).then_some(stored.offset)
}

/// Whether `head` (a file's first bytes now) starts with the bytes `known`
/// fingerprints; true when nothing is known yet.
fn head_matches(known: Option<&(String, usize)>, head: &[u8]) -> bool {
    match known {
        None => true,
        Some((print, len)) => head.len() >= *len && fingerprint(&head[..*len]) == *print,
    }
}

/// Whether an open file at its end was truncated or rewritten under us.
fn changed_under(file: &Tracked) -> bool {
    let Some(reader) = &file.reader else {
        return false;
    };
    let Ok(metadata) = reader.file.metadata() else {
        return false;
    };
    if metadata.len() < file.position {
        return true;
    }
    if metadata.len() == file.position {
        return false;
    }
    read_head(&reader.file).is_ok_and(|head| !head_matches(file.fingerprint.as_ref(), &head))
}

fn to_json(stored: &Stored) -> Vec<u8> {
    serde_json::to_vec(stored).unwrap_or_default()
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;

    use super::super::testing::{Running, append, config, state, truncate};
    use super::*;

    /// A source over `dir/*.log`.
    fn globs(dir: &Path, read_from: ReadFrom, follow: bool) -> FileSourceConfig {
        FileSourceConfig {
            path: None,
            include: vec![format!("{}/*.log", dir.display())],
            exclude: vec!["*/skip*".to_owned()],
            path_tag: Some("file".to_owned()),
            max_open_files: 3,
            ..config(Path::new("unused"), read_from, follow)
        }
    }

    /// `count` lines naming their file.
    fn lines(name: &str, range: std::ops::Range<usize>) -> String {
        range.map(|i| format!("{name} {i}\n")).collect()
    }

    /// The lines received, by file name, in the order received.
    fn by_file(lines: &[String]) -> BTreeMap<String, Vec<usize>> {
        let mut files: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for line in lines {
            let (name, number) = line.split_once(' ').expect("a numbered line");
            files
                .entry(name.to_owned())
                .or_default()
                .push(number.parse().unwrap());
        }
        files
    }

    fn all(names: &[String], range: std::ops::Range<usize>) -> BTreeMap<String, Vec<usize>> {
        names
            .iter()
            .map(|name| (name.clone(), range.clone().collect()))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_replay_reads_every_file_in_turns_with_its_path_as_tag() {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..40).map(|i| format!("dev{i:02}")).collect();
        for name in &names {
            append(
                &dir.path().join(format!("{name}.log")),
                &lines(name, 0..500),
            );
        }
        append(&dir.path().join("skipped.log"), "never\n");
        append(&dir.path().join("other.txt"), "never\n");
        // No newline at the end: the last line still counts.
        append(&dir.path().join("tail.log"), "tail 0\ntail 1");
        let running = Running::start(globs(dir.path(), ReadFrom::Beginning, false), &state());
        let mut tags = Vec::new();
        let got = {
            let mut running = running;
            let lines = running.until(40 * 500 + 2).await.to_vec();
            tags.append(&mut running.tags);
            let rest = running.end().await;
            assert_eq!(rest.len(), lines.len(), "nothing more after the replay");
            lines
        };
        let mut expected = all(&names, 0..500);
        expected.insert("tail".to_owned(), vec![0, 1]);
        assert_eq!(
            by_file(&got),
            expected,
            "every line of every file, in order"
        );
        for (tags, first) in &tags {
            let name = first.split_once(' ').unwrap().0;
            let path = dir.path().join(format!("{name}.log"));
            let expected: Arc<[(String, String)]> =
                Arc::from([("file".to_owned(), path.display().to_string())]);
            assert_eq!(
                tags.as_ref(),
                Some(&expected),
                "a batch holds one file's lines"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn files_created_and_growing_while_following_are_all_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = state();
        let first: Vec<String> = (0..5).map(|i| format!("old{i}")).collect();
        for name in &first {
            append(
                &dir.path().join(format!("{name}.log")),
                &lines(name, 0..100),
            );
        }
        let mut running = Running::start(globs(dir.path(), ReadFrom::Checkpoint, true), &store);
        running.until(500).await;
        // More busy files than places: they take turns.
        let later: Vec<String> = (0..8).map(|i| format!("new{i}")).collect();
        for round in 0..5 {
            for name in first.iter().chain(&later) {
                let range = round * 100..(round + 1) * 100;
                let range = if name.starts_with("old") {
                    range.start + 100..range.end + 100
                } else {
                    range
                };
                append(&dir.path().join(format!("{name}.log")), &lines(name, range));
            }
        }
        let got = running.until(500 + 5 * 500 + 8 * 500).await.to_vec();
        let mut expected = all(&first, 0..600);
        expected.extend(all(&later, 0..500));
        assert_eq!(by_file(&got), expected);
        assert_eq!(running.stop().await.len(), got.len());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn each_file_resumes_at_its_own_checkpoint_even_renamed() {
        let dir = tempfile::tempdir().unwrap();
        let store = state();
        let names: Vec<String> = (0..6).map(|i| format!("f{i}")).collect();
        for name in &names {
            append(&dir.path().join(format!("{name}.log")), &lines(name, 0..50));
        }
        let mut running = Running::start(globs(dir.path(), ReadFrom::Checkpoint, true), &store);
        running.until(300).await;
        running.stop().await;
        // While stopped: more lines, a file renamed, one removed, one new.
        for name in &names {
            append(
                &dir.path().join(format!("{name}.log")),
                &lines(name, 50..60),
            );
        }
        std::fs::rename(dir.path().join("f1.log"), dir.path().join("f1-renamed.log")).unwrap();
        std::fs::remove_file(dir.path().join("f2.log")).unwrap();
        append(&dir.path().join("f9.log"), &lines("f9", 0..5));
        let again = Running::start(globs(dir.path(), ReadFrom::Checkpoint, false), &store);
        let got = again.end().await;
        let mut expected = all(&["f0", "f1", "f3", "f4", "f5"].map(String::from), 50..60);
        expected.insert("f9".to_owned(), (0..5).collect());
        assert_eq!(by_file(&got), expected, "only what is new, once");
        let keys: Vec<String> = store
            .load_checkpoints("file:test:")
            .unwrap()
            .into_iter()
            .map(|(key, _)| key.rsplit('/').next().unwrap().to_owned())
            .collect();
        assert!(keys.contains(&"f1-renamed.log".to_owned()), "{keys:?}");
        assert!(!keys.contains(&"f1.log".to_owned()), "{keys:?}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn rotation_and_truncation_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        append(&path, &lines("app", 0..10));
        append(&dir.path().join("cut.log"), &lines("cut", 0..10));
        let mut running = Running::start(globs(dir.path(), ReadFrom::Checkpoint, true), &state());
        running.until(20).await;
        // Rename rotation out of the glob: the old file's last lines are
        // read through its handle, the new file from its start.
        append(&path, &lines("app", 10..15));
        std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
        append(&path, &lines("app", 15..20));
        // Truncation: read again from the start.
        truncate(&dir.path().join("cut.log"));
        append(&dir.path().join("cut.log"), &lines("cut", 100..103));
        let got = running.until(33).await.to_vec();
        let files = by_file(&got);
        assert_eq!(files["app"], (0..20).collect::<Vec<_>>());
        assert_eq!(
            files["cut"],
            [(0..10).collect::<Vec<_>>(), vec![100, 101, 102]].concat()
        );
        running.stop().await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_file_truncated_while_its_lines_are_in_flight_is_checkpointed_at_its_new_end() {
        let dir = tempfile::tempdir().unwrap();
        let store = state();
        let path = dir.path().join("a.log");
        append(&path, &lines("a", 0..100));
        let (mut ctx, mut rx) = crate::sources::testing::context(1000, Duration::from_millis(5));
        ctx.state = Arc::clone(&store);
        let shutdown = ctx.shutdown.clone();
        let task = tokio::spawn(super::super::run(
            globs(dir.path(), ReadFrom::Checkpoint, true),
            ctx,
        ));
        // The old lines stay in flight (held, not acknowledged) while the
        // file is truncated and written again, shorter.
        let old = rx.recv().await.unwrap();
        assert_eq!(old.records.len(), 100);
        truncate(&path);
        append(&path, &lines("b", 0..3));
        let new = rx.recv().await.unwrap();
        let got: Vec<String> = new.records.iter().map(|r| r.text().into_owned()).collect();
        assert_eq!(got, ["b 0", "b 1", "b 2"]);
        drop(new);
        drop(old);
        shutdown.cancel();
        task.await.unwrap().unwrap();
        let saved = store.load_checkpoints("file:test:").unwrap();
        let stored: Stored = serde_json::from_slice(&saved[0].1).unwrap();
        assert_eq!(
            stored.offset, 12,
            "the new content's end, not the old one's"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn marks_of_a_restarted_files_old_content_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        append(&dir.path().join("a.log"), &lines("a", 0..10));
        let (ctx, _rx) = crate::sources::testing::context(1000, Duration::from_millis(5));
        let config = globs(dir.path(), ReadFrom::Beginning, true);
        let mut files = Files::new(&config, &ctx);
        files.expand(&ctx).await;
        files.take_turns();
        let old = *files.tracked.keys().next().unwrap();
        assert!(files.tracked[&old].reader.is_some(), "opened");
        let new = files.restart(old);
        assert_ne!(new, old, "a new stream number");
        // The old content's batch is acknowledged after the restart: with
        // its offset (60) the new content's checkpoint would skip bytes.
        acknowledge(
            &mut files.tracked,
            Mark {
                stream: old,
                offset: 60,
            },
        );
        let file = &files.tracked[&new];
        assert_eq!((file.acked, file.position, file.committed), (None, 0, None));
        assert_eq!(files.by_identity[&file.identity], new);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn checkpoints_of_files_gone_past_the_retention_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = state();
        let key = |name: &str| format!("file:test:{}", dir.path().join(name).display());
        let stored = |gone_since: Option<u64>| Stored {
            fingerprint: fingerprint(b"x"),
            fingerprint_len: 1,
            offset: 2,
            dev: 1,
            ino: 1,
            gone_since,
        };
        let now = unix_seconds();
        store
            .commit_checkpoints(
                &[
                    (key("old.log"), to_json(&stored(Some(now - 7200)))),
                    (key("recent.log"), to_json(&stored(Some(now - 60)))),
                    (key("unseen.log"), to_json(&stored(None))),
                ],
                &[],
            )
            .unwrap();
        append(&dir.path().join("live.log"), "live 0\n");
        let running = Running::start(globs(dir.path(), ReadFrom::Checkpoint, false), &store);
        assert_eq!(running.end().await, ["live 0"]);
        let saved: BTreeMap<String, Stored> = store
            .load_checkpoints("file:test:")
            .unwrap()
            .into_iter()
            .map(|(key, value)| {
                let name = key.rsplit('/').next().unwrap().to_owned();
                (name, serde_json::from_slice(&value).unwrap())
            })
            .collect();
        let names: Vec<&str> = saved.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["live.log", "recent.log", "unseen.log"],
            "past 1h: removed"
        );
        assert_eq!(saved["live.log"].offset, 7);
        assert_eq!(saved["recent.log"].gone_since, Some(now - 60));
        let since = saved["unseen.log"].gone_since.expect("noticed gone now");
        assert!(
            since >= now,
            "the retention starts when the agent sees it gone"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn another_file_at_a_checkpointed_path_is_read_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = state();
        let path = dir.path().join("a.log");
        append(&path, &lines("a", 0..3));
        let running = Running::start(globs(dir.path(), ReadFrom::Checkpoint, false), &store);
        assert_eq!(running.end().await.len(), 3);
        // A new file at the path, with the same first bytes; the old one is
        // kept (out of the glob), so the new one has another inode.
        std::fs::rename(&path, dir.path().join("a.old")).unwrap();
        append(&path, &lines("a", 0..5));
        let running = Running::start(globs(dir.path(), ReadFrom::Checkpoint, false), &store);
        let got = running.end().await;
        assert_eq!(by_file(&got)["a"], (0..5).collect::<Vec<_>>());
    }
}
