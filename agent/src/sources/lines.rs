//! Line framing shared by the byte-stream sources (serial, file, stdin).
//!
//! A [`LineFramer`] is fed the chunks a source reads and hands back complete
//! lines: split on `\n`, one trailing `\r` stripped. A line that lies wholly
//! inside one chunk is returned as a slice of that chunk (no copy); only the
//! unterminated tail of a chunk is kept, in a buffer of at most
//! `max_line_length + 1` bytes, until its newline arrives. A longer line is
//! cut: its first `max_line_length` bytes are returned, so nothing disappears
//! without a trace, the rest up to the newline is discarded, and the cut is
//! counted as an [`ItemsRejected`] with reason `line_too_long`.

use std::sync::Arc;

use super::RecordBatcher;
use crate::internal::events::ItemsRejected;
use crate::settings::Problems;

/// How much of a cut line is shown in the log.
const EXAMPLE_BYTES: usize = 64;

/// The range every line source accepts for `max_line_length`.
const MAX_LINE_LENGTH: (usize, usize) = (16, 1_048_576);

/// Reports `{key}.max_line_length` unless it is in [`MAX_LINE_LENGTH`].
pub(super) fn check_max_line_length(key: &str, value: usize, problems: &mut Problems<'_>) {
    let (min, max) = MAX_LINE_LENGTH;
    problems.range(&format!("{key}.max_line_length"), value, min, max);
}

/// Cuts a byte stream into lines.
#[derive(Debug)]
pub struct LineFramer {
    component: Arc<str>,
    max_line_length: usize,
    /// The start of a line whose newline has not arrived yet.
    partial: Vec<u8>,
    /// A line was cut and its remainder is being skipped up to the newline.
    discarding: bool,
    /// `partial` holds the line returned last; it is cleared on the next call.
    returned: bool,
}

impl LineFramer {
    /// A framer for `component` with lines of at most `max_line_length` bytes
    /// (at least one).
    pub fn new(component: Arc<str>, max_line_length: usize) -> Self {
        let max_line_length = max_line_length.max(1);
        Self {
            component,
            max_line_length,
            partial: Vec::with_capacity(max_line_length.min(4096) + 1),
            discarding: false,
            returned: false,
        }
    }

    /// The lines completed by `chunk`, to be read with [`Lines::next_line`]
    /// until it returns `None` (an undrained rest of the chunk is lost).
    pub fn lines<'a>(&'a mut self, chunk: &'a [u8]) -> Lines<'a> {
        self.reuse();
        Lines {
            framer: self,
            len: chunk.len(),
            rest: chunk,
        }
    }

    /// Whether the framer is skipping the rest of a line it cut: the
    /// stream is mid-line, past what was returned.
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }

    /// The unterminated last line at the end of the input, if there is one.
    /// The framer is empty afterwards and can be fed again.
    pub fn finish(&mut self) -> Option<&[u8]> {
        self.reuse();
        if std::mem::take(&mut self.discarding) {
            // Its first bytes were already returned when it was cut.
            self.partial.clear();
            return None;
        }
        self.returned = true;
        let line = strip_cr(&self.partial);
        if line.is_empty() {
            return None;
        }
        Some(cut(&self.component, self.max_line_length, line))
    }

    fn reuse(&mut self) {
        if std::mem::take(&mut self.returned) {
            self.partial.clear();
        }
    }
}

/// The lines a chunk completes; see [`LineFramer::lines`].
#[derive(Debug)]
pub struct Lines<'a> {
    framer: &'a mut LineFramer,
    len: usize,
    rest: &'a [u8],
}

impl Lines<'_> {
    /// Bytes of the chunk used so far: after a line is returned, the offset
    /// in the chunk just past its newline (where a reader may resume).
    pub fn consumed(&self) -> usize {
        self.len - self.rest.len()
    }

    /// The next complete line, or `None` when the chunk is used up (its
    /// unterminated tail is kept for the next chunk).
    pub fn next_line(&mut self) -> Option<&[u8]> {
        let framer = &mut *self.framer;
        framer.reuse();
        loop {
            let rest = self.rest;
            if rest.is_empty() {
                return None;
            }
            let (piece, complete) = match rest.iter().position(|&byte| byte == b'\n') {
                Some(newline) => {
                    self.rest = &rest[newline + 1..];
                    (&rest[..newline], true)
                }
                None => {
                    self.rest = &[];
                    (rest, false)
                }
            };
            if framer.discarding {
                framer.discarding = !complete;
                continue;
            }
            if complete && framer.partial.is_empty() {
                let line = strip_cr(piece);
                return Some(cut(&framer.component, framer.max_line_length, line));
            }
            // One byte more than the limit is kept: it may be the `\r` of a
            // line of exactly `max_line_length` bytes.
            let room = (framer.max_line_length + 1).saturating_sub(framer.partial.len());
            let overflow = piece.len() > room;
            framer
                .partial
                .extend_from_slice(&piece[..piece.len().min(room)]);
            if overflow {
                // Too long whatever follows: return its start now and skip
                // the rest up to the newline.
                framer.discarding = !complete;
                framer.returned = true;
                let line = &framer.partial[..framer.max_line_length];
                reject(&framer.component, line);
                return Some(line);
            }
            if !complete {
                return None;
            }
            framer.returned = true;
            let line = strip_cr(&framer.partial);
            return Some(cut(&framer.component, framer.max_line_length, line));
        }
    }
}

/// Frame `chunk` into lines received at `timestamp` and push them, sending
/// every batch that fills up.
pub async fn push_lines(
    framer: &mut LineFramer,
    chunk: &[u8],
    timestamp: i64,
    batcher: &mut RecordBatcher,
) {
    let mut lines = framer.lines(chunk);
    while let Some(line) = lines.next_line() {
        if batcher.push(timestamp, line) {
            batcher.flush().await;
        }
    }
}

/// Push the unterminated last line, if any, at the end of the input.
pub fn push_last_line(framer: &mut LineFramer, timestamp: i64, batcher: &mut RecordBatcher) {
    if let Some(line) = framer.finish() {
        batcher.push(timestamp, line);
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `line`, cut to `max` bytes (and counted) when it is longer.
fn cut<'a>(component: &str, max: usize, line: &'a [u8]) -> &'a [u8] {
    if line.len() <= max {
        return line;
    }
    let line = &line[..max];
    reject(component, line);
    line
}

fn reject(component: &str, kept: &[u8]) {
    let example = String::from_utf8_lossy(&kept[..kept.len().min(EXAMPLE_BYTES)]);
    ItemsRejected {
        component,
        reason: "line_too_long",
        count: 1,
        example: &example,
    }
    .emit();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framer(max: usize) -> LineFramer {
        LineFramer::new("test".into(), max)
    }

    fn feed(framer: &mut LineFramer, chunk: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        let mut lines = framer.lines(chunk);
        while let Some(line) = lines.next_line() {
            out.push(String::from_utf8(line.to_vec()).unwrap());
        }
        out
    }

    #[test]
    fn splits_on_newline_and_strips_one_carriage_return() {
        let mut f = framer(100);
        assert_eq!(feed(&mut f, b"a\r\nb\n\nc\r\r\n"), ["a", "b", "", "c\r"]);
        assert_eq!(f.finish(), None);
    }

    #[test]
    fn whole_lines_are_borrowed_from_the_chunk() {
        let mut f = framer(100);
        let chunk = b"T:1\nT:2\n".to_vec();
        let mut lines = f.lines(&chunk);
        let first = lines.next_line().unwrap();
        assert_eq!(first.as_ptr(), chunk.as_ptr());
    }

    #[test]
    fn a_partial_line_waits_for_its_newline() {
        let mut f = framer(100);
        assert_eq!(feed(&mut f, b"T:25.3,V:"), Vec::<String>::new());
        assert_eq!(feed(&mut f, b"5.01"), Vec::<String>::new());
        assert_eq!(feed(&mut f, b",S:OK\r"), Vec::<String>::new());
        assert_eq!(feed(&mut f, b"\nnext\nta"), ["T:25.3,V:5.01,S:OK", "next"]);
        assert_eq!(f.finish(), Some(&b"ta"[..]));
        assert_eq!(f.finish(), None);
        assert_eq!(feed(&mut f, b"x\n"), ["x"]);
    }

    #[test]
    fn long_lines_are_cut_and_the_rest_is_skipped() {
        let mut f = framer(4);
        // Whole in one chunk.
        assert_eq!(feed(&mut f, b"abcdefgh\nok\n"), ["abcd", "ok"]);
        // Across chunks: returned as soon as it is known to be too long.
        assert_eq!(feed(&mut f, b"12"), Vec::<String>::new());
        assert_eq!(feed(&mut f, b"3456"), ["1234"]);
        assert_eq!(feed(&mut f, b"789"), Vec::<String>::new());
        assert_eq!(feed(&mut f, b"0\nnext\n"), ["next"]);
        // Cut at end of input: nothing more to return.
        assert_eq!(feed(&mut f, b"uvwxyz"), ["uvwx"]);
        assert_eq!(f.finish(), None);
    }

    #[test]
    fn every_cut_line_is_counted_as_rejected() {
        let rejected = || {
            crate::internal::metrics::metrics()
                .errors
                .with_label_values(&["lines-cut", "line_too_long"])
                .get()
        };
        let before = rejected();
        let mut f = LineFramer::new("lines-cut".into(), 3);
        assert_eq!(
            feed(
                &mut f,
                b"abcdef
abc
ab"
            ),
            ["abc", "abc"]
        );
        assert_eq!(
            feed(
                &mut f, b"cdef
"
            ),
            ["abc"]
        );
        assert_eq!(rejected() - before, 2);
    }

    #[test]
    fn a_line_of_exactly_the_limit_keeps_its_crlf_across_chunks() {
        let mut f = framer(4);
        assert_eq!(feed(&mut f, b"ab"), Vec::<String>::new());
        assert_eq!(feed(&mut f, b"cd\r"), Vec::<String>::new());
        assert_eq!(feed(&mut f, b"\nef\n"), ["abcd", "ef"]);
        assert_eq!(feed(&mut f, b"abcd\r\n"), ["abcd"]);
        // Five bytes split before the newline: cut at the newline.
        assert_eq!(feed(&mut f, b"abcde"), Vec::<String>::new());
        assert_eq!(feed(&mut f, b"\n"), ["abcd"]);
    }
}
