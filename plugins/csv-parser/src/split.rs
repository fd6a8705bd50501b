//! Splitting a line into cells, into buffers reused from line to line.
//!
//! A line without a quote (or a line break) is cut at its delimiters in
//! place: that is all csv-core would do with it, since outside quotes only
//! the delimiter and the record terminator mean anything. Any other line
//! goes through csv-core, which undoes quoting, doubled quotes and escapes
//! into a buffer. The record terminator is `\n` alone, so a `\r` inside a
//! line is data, as any other byte.

use csv_core::{ReadRecordResult, Reader, ReaderBuilder, Terminator};
use foghorn_plugin::bytes::{ONES, word, zero_bytes};

/// Why a line does not split into one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SplitError {
    /// A quoted cell runs to the end of the line.
    Unterminated,
    /// A line break outside quotes, at this byte: two records in one line.
    LineBreak(usize),
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SplitError::Unterminated => f.write_str("unterminated quote"),
            SplitError::LineBreak(at) => write!(
                f,
                "line break outside quotes at byte {at}: a line holds one row"
            ),
        }
    }
}

/// A reusable splitter.
#[derive(Debug)]
pub(crate) struct Splitter {
    reader: Reader,
    /// The delimiter, the quote and `\n` in every byte of a word.
    delimiters: u64,
    quotes: u64,
    breaks: u64,
    /// Whether the in-place split is tried (always, but for tests).
    pub(crate) in_place: bool,
    /// csv-core's output: the cells unquoted, one after another.
    buffer: Vec<u8>,
    /// csv-core's output: where each cell ends in `buffer`.
    ends: Vec<usize>,
    /// Where each cell of the last line starts and ends, in the line or in
    /// `buffer`.
    spans: Vec<(usize, usize)>,
}

/// The cells of one line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cells<'a> {
    /// The text the cells are spans of: the line, or the unquoted buffer.
    pub text: &'a str,
    pub spans: &'a [(usize, usize)],
}

impl<'a> Cells<'a> {
    /// The number of cells.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// The text of `span`.
    #[inline]
    pub(crate) fn text_of(&self, (start, end): (usize, usize)) -> &'a str {
        self.text.get(start..end).unwrap_or_default()
    }

    /// Cell `index`, or `""` past the last.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> &'a str {
        self.spans
            .get(index)
            .and_then(|&(start, end)| self.text.get(start..end))
            .unwrap_or_default()
    }
}

impl Splitter {
    pub(crate) fn new(delimiter: u8, quote: u8, escape: Option<u8>, double_quote: bool) -> Self {
        Self {
            reader: ReaderBuilder::new()
                .delimiter(delimiter)
                .quote(quote)
                .escape(escape)
                .double_quote(double_quote)
                .terminator(Terminator::Any(b'\n'))
                .build(),
            delimiters: ONES * u64::from(delimiter),
            quotes: ONES * u64::from(quote),
            breaks: ONES * u64::from(b'\n'),
            in_place: true,
            buffer: Vec::new(),
            ends: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// The cells of `line` (one record, not empty).
    #[inline]
    pub(crate) fn split<'a>(&'a mut self, line: &'a str) -> Result<Cells<'a>, SplitError> {
        self.spans.clear();
        if self.in_place && self.split_in_place(line.as_bytes()) {
            return Ok(Cells {
                text: line,
                spans: &self.spans,
            });
        }
        self.spans.clear();
        self.unquote(line)
    }

    /// Cut `bytes` at its delimiters into `spans`, eight bytes at a time;
    /// false if it has a quote or a line break.
    #[inline]
    fn split_in_place(&mut self, bytes: &[u8]) -> bool {
        let mut start = 0;
        let mut at = 0;
        while at < bytes.len() {
            // The next eight bytes; the last few of a line are the end of
            // its last eight bytes, shifted down past the ones already seen.
            let (word, valid) = match bytes.get(at..at + 8) {
                Some(chunk) => (word(chunk), 8),
                None if bytes.len() >= 8 => {
                    let shift = 8 * (at + 8 - bytes.len());
                    (word(&bytes[bytes.len() - 8..]) >> shift, bytes.len() - at)
                }
                None => {
                    let mut padded = [0; 8];
                    for (slot, &byte) in padded.iter_mut().zip(&bytes[at..]) {
                        *slot = byte;
                    }
                    (u64::from_le_bytes(padded), bytes.len() - at)
                }
            };
            // Only the valid bytes count: past them the word holds zeros.
            let mask = u64::MAX >> (64 - 8 * valid);
            if (zero_bytes(word ^ self.quotes) | zero_bytes(word ^ self.breaks)) & mask != 0 {
                return false;
            }
            let mut delimiters = zero_bytes(word ^ self.delimiters) & mask;
            while delimiters != 0 {
                let cut = at + delimiters.trailing_zeros() as usize / 8;
                self.spans.push((start, cut));
                start = cut + 1;
                delimiters &= delimiters - 1;
            }
            at += valid;
        }
        self.spans.push((start, bytes.len()));
        true
    }

    /// Split `line` with csv-core.
    fn unquote<'a>(&'a mut self, line: &'a str) -> Result<Cells<'a>, SplitError> {
        let input = line.as_bytes();
        // Unquoting only shrinks, and a line has at most one cell more than
        // bytes; one more byte for the `\n` that ends the record.
        if self.buffer.len() < input.len() + 1 {
            self.buffer.resize(input.len() + 1, 0);
        }
        if self.ends.len() < input.len() + 2 {
            self.ends.resize(input.len() + 2, 0);
        }
        self.reader.reset();
        let (result, read, written, count) =
            self.reader
                .read_record(input, &mut self.buffer, &mut self.ends);
        if result != ReadRecordResult::InputEmpty {
            // The record ended before the line did, at a line break.
            return Err(SplitError::LineBreak(read.saturating_sub(1)));
        }
        // A line break ends the record, unless a quoted cell is still open:
        // then it is data, and the record goes on.
        let (result, _, more, last) =
            self.reader
                .read_record(b"\n", &mut self.buffer[written..], &mut self.ends[count..]);
        if result != ReadRecordResult::Record || more != 0 {
            return Err(SplitError::Unterminated);
        }
        let ends = &self.ends[..count + last];
        let mut start = 0;
        for &end in ends {
            self.spans.push((start, end));
            start = end;
        }
        // The cells are the line's text less ASCII quotes and escapes, so
        // still UTF-8, cut where the line had delimiters.
        let text = std::str::from_utf8(&self.buffer[..written]).unwrap_or_default();
        Ok(Cells {
            text,
            spans: &self.spans,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(splitter: &mut Splitter, line: &str) -> Result<Vec<String>, SplitError> {
        let cells = splitter.split(line)?;
        Ok((0..cells.len()).map(|i| cells.get(i).to_owned()).collect())
    }

    #[test]
    fn quotes_and_doubled_quotes_are_undone() {
        let mut s = Splitter::new(b',', b'"', None, true);
        assert_eq!(cells(&mut s, "a,b,c").unwrap(), ["a", "b", "c"]);
        assert_eq!(
            cells(&mut s, r#""x, y","say ""hi""",3"#).unwrap(),
            ["x, y", r#"say "hi""#, "3"]
        );
        assert_eq!(cells(&mut s, ",,").unwrap(), ["", "", ""]);
        assert_eq!(cells(&mut s, r#"a,"open"#), Err(SplitError::Unterminated));
        assert_eq!(
            cells(&mut s, r#"a,"open """#),
            Err(SplitError::Unterminated),
            "a doubled quote does not close"
        );
        assert_eq!(
            cells(&mut s, r#"5",6"#).unwrap(),
            [r#"5""#, "6"],
            "a quote inside an unquoted cell is data"
        );
        assert_eq!(cells(&mut s, "\"a\nb\",c").unwrap(), ["a\nb", "c"]);
        assert_eq!(cells(&mut s, "a\r,b").unwrap(), ["a\r", "b"]);
        assert_eq!(
            cells(&mut s, "a,b\nc,d"),
            Err(SplitError::LineBreak(3)),
            "two rows in one line"
        );
        assert_eq!(cells(&mut s, "\"é\",ü").unwrap(), ["é", "ü"]);
    }

    #[test]
    fn escapes_and_other_bytes_are_configurable() {
        let mut s = Splitter::new(b';', b'\'', Some(b'\\'), false);
        assert_eq!(
            cells(&mut s, r"'it\'s';'a;b';c").unwrap(),
            ["it's", "a;b", "c"]
        );
        assert_eq!(
            cells(&mut s, r"'a\\';b").unwrap(),
            [r"a\", "b"],
            "an escaped escape"
        );
        assert_eq!(cells(&mut s, r"'a\';b"), Err(SplitError::Unterminated));
        assert_eq!(
            cells(&mut s, "'a'';b").unwrap(),
            ["a'", "b"],
            "without double_quote, a second quote after the closing one is data"
        );
    }
}
