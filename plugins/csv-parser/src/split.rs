//! Splitting a line into cells with csv-core (quotes, doubled quotes), into
//! buffers reused from line to line.

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};

/// A reusable splitter.
#[derive(Debug)]
pub(crate) struct Splitter {
    reader: Reader,
    delimiter: u8,
    quote: u8,
    /// The cells' bytes, unquoted, one after another.
    pub bytes: Vec<u8>,
    /// Where each cell ends in `bytes`.
    pub ends: Vec<usize>,
}

impl Splitter {
    pub(crate) fn new(delimiter: u8, quote: u8) -> Self {
        Self {
            reader: ReaderBuilder::new()
                .delimiter(delimiter)
                .quote(quote)
                .build(),
            delimiter,
            quote,
            bytes: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// Split `line` (one record, no newline); the number of cells, or
    /// `Err` for a quoted cell that never closes.
    pub(crate) fn split(&mut self, line: &[u8]) -> Result<usize, &'static str> {
        if self.unterminated(line) {
            return Err("unterminated quote");
        }
        // Unquoting only shrinks: a line's cells fit in its length, and it
        // has at most one cell more than bytes.
        if self.bytes.len() < line.len() {
            self.bytes.resize(line.len(), 0);
        }
        if self.ends.len() < line.len() + 1 {
            self.ends.resize(line.len() + 1, 0);
        }
        self.reader.reset();
        let (result, _, out, n) = self
            .reader
            .read_record(line, &mut self.bytes, &mut self.ends);
        if matches!(result, ReadRecordResult::Record) {
            return Ok(n);
        }
        // The end of the input ends the record.
        let (result, _, _, more) =
            self.reader
                .read_record(&[], &mut self.bytes[out..], &mut self.ends[n..]);
        match result {
            ReadRecordResult::Record => Ok(n + more),
            _ => Ok(n),
        }
    }

    /// Cell `index` of the last line split.
    pub(crate) fn cell(&self, index: usize) -> &[u8] {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.bytes[start..self.ends[index]]
    }

    /// Whether a cell opening with a quote runs to the end of the line.
    fn unterminated(&self, line: &[u8]) -> bool {
        let (mut at_start, mut quoted, mut i) = (true, false, 0);
        while i < line.len() {
            let b = line[i];
            if quoted {
                if b == self.quote {
                    if line.get(i + 1) == Some(&self.quote) {
                        i += 2;
                        continue;
                    }
                    quoted = false;
                }
            } else if b == self.delimiter {
                at_start = true;
                i += 1;
                continue;
            } else if b == self.quote && at_start {
                quoted = true;
            }
            at_start = false;
            i += 1;
        }
        quoted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(line: &str) -> Result<Vec<String>, &'static str> {
        let mut s = Splitter::new(b',', b'"');
        let n = s.split(line.as_bytes())?;
        Ok((0..n)
            .map(|i| String::from_utf8(s.cell(i).to_vec()).unwrap())
            .collect())
    }

    #[test]
    fn quotes_and_doubled_quotes_are_undone() {
        assert_eq!(cells("a,b,c").unwrap(), ["a", "b", "c"]);
        assert_eq!(
            cells(r#""x, y","say ""hi""",3"#).unwrap(),
            ["x, y", r#"say "hi""#, "3"]
        );
        assert_eq!(cells(",,").unwrap(), ["", "", ""]);
        assert_eq!(cells("").unwrap(), [""; 0]);
        assert_eq!(cells(r#"a,"open"#), Err("unterminated quote"));
        assert_eq!(
            cells(r#"5",6"#).unwrap(),
            [r#"5""#, "6"],
            "a quote inside an unquoted cell is data"
        );
    }
}
