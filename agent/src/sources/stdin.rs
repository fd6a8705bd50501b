//! The `stdin` source: the lines of standard input, until end of file.
//!
//! Input is read in chunks and cut into lines by the shared [`LineFramer`],
//! like a file replay; at end of file the unterminated last line is sent too,
//! the pending batch is flushed and the source ends, so `cat data | foghorn
//! run` processes the data and exits. Tokio reads standard input on a
//! blocking thread that cannot be interrupted: the source itself returns at
//! once on shutdown, but the runtime may wait for that read when it is
//! dropped (the binary should shut its runtime down with a timeout).

use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::lines::{LineFramer, check_max_line_length, push_last_line, push_lines};
use super::{SourceContext, SourceError};
use crate::event::now_nanos;
use crate::settings::{Problems, Settings};

/// Bytes asked for per read.
const CHUNK_BYTES: usize = 64 * 1024;

/// `type: stdin`: reads lines from standard input until it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StdinConfig {
    /// `max_line_length`: longest line in bytes. Default 65536, from 16 to
    /// 1048576.
    pub max_line_length: usize,
}

impl Default for StdinConfig {
    fn default() -> Self {
        Self {
            max_line_length: 65_536,
        }
    }
}

impl Settings for StdinConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        check_max_line_length(key, self.max_line_length, problems);
    }
}

impl super::Source for StdinConfig {
    fn describe(&self) -> String {
        format!("stdin, lines up to {} bytes", self.max_line_length)
    }

    async fn run(self, ctx: SourceContext) -> Result<(), SourceError> {
        read_lines(tokio::io::stdin(), self.max_line_length, ctx).await
    }
}

/// What happened while the source waited.
enum Wake {
    Shutdown,
    Linger,
    Read(std::io::Result<usize>),
}

/// Read `reader` to its end, line by line.
async fn read_lines<R: AsyncRead + Unpin>(
    mut reader: R,
    max_line_length: usize,
    mut ctx: SourceContext,
) -> Result<(), SourceError> {
    let mut framer = LineFramer::new(ctx.name.clone(), max_line_length);
    let mut buf = vec![0; CHUNK_BYTES];
    let result = loop {
        let linger = ctx.batcher.deadline();
        let wake = tokio::select! {
            biased;
            () = ctx.shutdown.cancelled() => Wake::Shutdown,
            () = tokio::time::sleep_until(linger.unwrap_or_else(tokio::time::Instant::now)), if linger.is_some() => Wake::Linger,
            read = reader.read(&mut buf) => Wake::Read(read),
        };
        match wake {
            Wake::Shutdown | Wake::Read(Ok(0)) => break Ok(()),
            Wake::Linger => ctx.batcher.flush().await,
            Wake::Read(Ok(read)) => {
                push_lines(&mut framer, &buf[..read], now_nanos(), &mut ctx.batcher).await;
                if ctx.batcher.is_due() {
                    ctx.batcher.flush().await;
                }
            }
            Wake::Read(Err(error)) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Wake::Read(Err(error)) => break Err(SourceError::Stdin(error)),
        }
    };
    push_last_line(&mut framer, now_nanos(), &mut ctx.batcher);
    ctx.batcher.flush().await;
    result
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncWriteExt;

    use super::*;
    use crate::sources::testing::{context, drain, texts};

    #[tokio::test]
    async fn reads_to_the_end_including_the_unterminated_last_line() {
        let (ctx, mut rx) = context(2, Duration::from_secs(60));
        let input: &[u8] = b"one\r\ntwo\nthree\nfour";
        read_lines(input, 1024, ctx).await.unwrap();
        let got = drain(&mut rx);
        assert_eq!(
            got.iter()
                .map(|(_, text)| text.as_str())
                .collect::<Vec<_>>(),
            ["one", "two", "three", "four"]
        );
        assert!(got.iter().all(|(ts, _)| *ts > 1_600_000_000_000_000_000));
    }

    #[tokio::test]
    async fn a_quiet_input_still_sends_its_lines_after_the_linger_time() {
        let (ctx, mut rx) = context(100, Duration::from_millis(20));
        let shutdown = ctx.shutdown.clone();
        let (mut writer, reader) = tokio::io::duplex(1024);
        let task = tokio::spawn(read_lines(reader, 1024, ctx));
        writer.write_all(b"a\nb").await.unwrap();
        let batch = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(batch.records.len(), 1);
        assert_eq!(batch.records.get(0).unwrap().text(), "a");
        let stopped = tokio::time::Instant::now();
        shutdown.cancel();
        task.await.unwrap().unwrap();
        assert!(stopped.elapsed() < Duration::from_millis(200));
        // The half line is not lost on shutdown.
        assert_eq!(texts(&mut rx), ["b"]);
    }
}
