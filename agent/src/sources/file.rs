//! The `file` source: the lines of one file, replayed or followed.
//!
//! The file is read in large chunks from its beginning or its end and cut
//! into lines by the shared [`LineFramer`]; lines go to the batcher straight
//! from the read buffer, so the only per-line copy is the batcher's own. With
//! `follow: false` the source is a finite replay (with a progress bar when
//! standard error is a terminal): at end of file it returns
//! the unterminated last line, flushes and ends. With `follow: true` it waits
//! for the file to appear if it does not exist yet, then polls every
//! `poll_interval` for appended data; a file that shrinks (truncated in
//! place) is read again from its start. Globs, rotation and checkpoints are
//! not handled here yet.

use std::io::{IsTerminal, SeekFrom};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::time::Instant;

use super::lines::{LineFramer, push_last_line, push_lines};
use super::{SourceContext, SourceError, idle_until};
use crate::config::{FileSourceConfig, ReadFrom};
use crate::event::now_nanos;
use crate::internal::events::SourceConnected;

/// Bytes asked for per read: large, for throughput on replays.
const CHUNK_BYTES: usize = 256 * 1024;
/// The shortest wait between polls, so a zero interval cannot spin.
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(1);

pub(super) async fn run(
    config: FileSourceConfig,
    mut ctx: SourceContext,
) -> Result<(), SourceError> {
    let mut framer = LineFramer::new(ctx.name.clone(), config.max_line_length);
    let result = read(&config, &mut ctx, &mut framer).await;
    push_last_line(&mut framer, now_nanos(), &mut ctx.batcher);
    ctx.batcher.flush().await;
    result
}

pub(super) fn describe(config: &FileSourceConfig) -> String {
    let from = match config.read_from {
        ReadFrom::Beginning => "beginning",
        ReadFrom::End => "end",
    };
    let path = config.path.display();
    if config.follow {
        let poll = humantime::format_duration(config.poll_interval);
        format!("file {path} from the {from}, following every {poll}")
    } else {
        format!("file {path} from the {from}, until its end")
    }
}

async fn read(
    config: &FileSourceConfig,
    ctx: &mut SourceContext,
    framer: &mut LineFramer,
) -> Result<(), SourceError> {
    let Some((mut file, mut position)) = open(config, ctx).await? else {
        return Ok(());
    };
    let read_error = |source| SourceError::Read {
        path: config.path.clone(),
        source,
    };
    let progress = replay_progress(config, &file, position).await;
    let mut buf = vec![0; CHUNK_BYTES];
    loop {
        let read = tokio::select! {
            biased;
            () = ctx.shutdown.cancelled() => return Ok(()),
            read = file.read(&mut buf) => read.map_err(read_error)?,
        };
        if read > 0 {
            position += read as u64;
            progress.set_position(position);
            push_lines(framer, &buf[..read], now_nanos(), &mut ctx.batcher).await;
            if ctx.batcher.is_due() {
                ctx.batcher.flush().await;
            }
            continue;
        }
        if !config.follow {
            progress.finish();
            return Ok(());
        }
        if !idle_until(
            ctx,
            Instant::now() + config.poll_interval.max(MIN_POLL_INTERVAL),
        )
        .await
        {
            return Ok(());
        }
        let len = file.metadata().await.map_err(read_error)?.len();
        if len < position {
            // Truncated in place: what is there now is new.
            push_last_line(framer, now_nanos(), &mut ctx.batcher);
            position = file.seek(SeekFrom::Start(0)).await.map_err(read_error)?;
        }
    }
}

/// A progress bar for a replay (`follow: false`) when standard error is a
/// terminal; hidden otherwise, and while following.
async fn replay_progress(config: &FileSourceConfig, file: &File, position: u64) -> ProgressBar {
    let len = match file.metadata().await {
        Ok(metadata) if !config.follow && std::io::stderr().is_terminal() => metadata.len(),
        _ => return ProgressBar::hidden(),
    };
    let bar = ProgressBar::new(len)
        .with_position(position)
        .with_message(config.path.display().to_string());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Open the file at its starting position, waiting for it to appear when
/// following. `None` when shutdown came first.
async fn open(
    config: &FileSourceConfig,
    ctx: &mut SourceContext,
) -> Result<Option<(File, u64)>, SourceError> {
    let open_error = |source| SourceError::Open {
        path: config.path.clone(),
        source,
    };
    let mut waited = false;
    let mut file = loop {
        match File::open(&config.path).await {
            Ok(file) => break file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && config.follow => {
                if !waited {
                    tracing::info!(component = &*ctx.name, path = %config.path.display(), "waiting for the file to appear");
                    waited = true;
                }
                if !idle_until(
                    ctx,
                    Instant::now() + config.poll_interval.max(MIN_POLL_INTERVAL),
                )
                .await
                {
                    return Ok(None);
                }
            }
            Err(error) => return Err(open_error(error)),
        }
    };
    file.set_max_buf_size(CHUNK_BYTES);
    // A file that appeared while we waited is new: all of it is unread.
    let position = if config.read_from == ReadFrom::End && !waited {
        file.seek(SeekFrom::End(0)).await.map_err(open_error)?
    } else {
        0
    };
    SourceConnected {
        component: &ctx.name,
        target: &config.path.to_string_lossy(),
    }
    .emit();
    Ok(Some((file, position)))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::Path;

    use super::*;
    use crate::sources::testing::{context, texts};

    fn config(path: &Path, read_from: ReadFrom, follow: bool) -> FileSourceConfig {
        FileSourceConfig {
            path: path.to_owned(),
            read_from,
            follow,
            poll_interval: Duration::from_millis(20),
            max_line_length: 1024,
        }
    }

    fn append(path: &Path, text: &str) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    #[tokio::test]
    async fn a_replay_reads_every_line_and_the_unterminated_last_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.log");
        let lines: Vec<String> = (0..20_000).map(|i| format!("T:{i},V:5.0,S:OK")).collect();
        append(&path, &(lines.join("\r\n") + "\r\nlast"));
        let (ctx, mut rx) = context(1000, Duration::from_secs(60));
        run(config(&path, ReadFrom::Beginning, false), ctx)
            .await
            .unwrap();
        let got = texts(&mut rx);
        assert_eq!(got.len(), 20_001);
        assert_eq!(got[..20_000], lines[..]);
        assert_eq!(got[20_000], "last");
    }

    #[tokio::test]
    async fn a_missing_file_without_follow_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (ctx, _rx) = context(10, Duration::from_millis(10));
        let error = run(
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
        let (ctx, mut rx) = context(100, Duration::from_millis(10));
        let shutdown = ctx.shutdown.clone();
        let task = tokio::spawn(run(config(&path, ReadFrom::End, true), ctx));
        tokio::time::sleep(Duration::from_millis(100)).await;
        append(&path, "new 1\nnew");
        tokio::time::sleep(Duration::from_millis(100)).await;
        append(&path, " 2\n");
        let mut got = Vec::new();
        while got.len() < 2 {
            let batch = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .unwrap()
                .unwrap();
            got.extend(batch.records.iter().map(|r| r.text().into_owned()));
        }
        assert_eq!(got, ["new 1", "new 2"]);
        let stopped = Instant::now();
        shutdown.cancel();
        task.await.unwrap().unwrap();
        assert!(stopped.elapsed() < Duration::from_millis(200));
    }

    #[tokio::test]
    async fn follow_waits_for_the_file_and_reads_it_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("later.log");
        let (ctx, mut rx) = context(100, Duration::from_millis(10));
        let shutdown = ctx.shutdown.clone();
        let task = tokio::spawn(run(config(&path, ReadFrom::End, true), ctx));
        tokio::time::sleep(Duration::from_millis(100)).await;
        append(&path, "first\n");
        let batch = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(batch.records.get(0).unwrap().text(), "first");
        shutdown.cancel();
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn shutdown_while_following_sends_the_pending_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.log");
        append(&path, "a\nb\n");
        let (ctx, mut rx) = context(100, Duration::from_secs(3600));
        let shutdown = ctx.shutdown.clone();
        let task = tokio::spawn(run(config(&path, ReadFrom::Beginning, true), ctx));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(texts(&mut rx).is_empty(), "linger is an hour");
        shutdown.cancel();
        task.await.unwrap().unwrap();
        assert_eq!(texts(&mut rx), ["a", "b"]);
    }
}
