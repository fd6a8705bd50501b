//! From a request body to items: raw records for the text decodings, points
//! for OTLP, and every item that could not be taken with its reason.
//!
//! A bad item never spoils the rest of the body: a broken JSON line in an
//! NDJSON body, a CSV row with the wrong number of cells, a line that is not
//! UTF-8 or too long is rejected on its own and the others are kept.

use serde::de::IgnoredAny;

use super::config::{CsvConfig, Decoding};
use super::items::{Decoded, Reject};

/// How the decoder reads bodies.
#[derive(Debug)]
pub(crate) struct Decoder {
    pub decoding: Decoding,
    pub csv: CsvConfig,
    pub max_line_length: usize,
}

impl Decoder {
    /// Decode `body`, received at `timestamp` (ns since the Unix epoch),
    /// sent as `content_type`.
    pub fn decode(&self, body: &[u8], content_type: &str, timestamp: i64) -> Decoded {
        let mut out = Decoded::default();
        match self.decoding {
            Decoding::Lines => self.lines(body, timestamp, &mut out, |_| Ok(())),
            Decoding::Ndjson => self.lines(body, timestamp, &mut out, |line| {
                serde_json::from_slice::<IgnoredAny>(line)
                    .map(drop)
                    .map_err(|error| ("invalid_json", error.to_string()))
            }),
            Decoding::Json => json(body, timestamp, &mut out),
            Decoding::Csv => self.csv(body, timestamp, &mut out),
            Decoding::Otlp => super::otlp::decode(body, content_type, timestamp, &mut out),
        }
        out
    }

    /// Each non-blank line that is UTF-8, short enough and passes `check`.
    fn lines(
        &self,
        body: &[u8],
        timestamp: i64,
        out: &mut Decoded,
        check: impl Fn(&[u8]) -> Result<(), (&'static str, String)>,
    ) {
        for line in body.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if let Err(reject) = self.line_ok(line).and_then(|()| {
                check(line).map_err(|(reason, detail)| Reject::new(reason, detail, line))
            }) {
                out.rejects.push(reject);
                continue;
            }
            out.records.push(timestamp, line);
        }
    }

    fn line_ok(&self, line: &[u8]) -> Result<(), Reject> {
        if line.len() > self.max_line_length {
            return Err(Reject::new(
                "too_long",
                format!(
                    "{} bytes, more than max_line_length {}",
                    line.len(),
                    self.max_line_length
                ),
                line,
            ));
        }
        if let Err(error) = std::str::from_utf8(line) {
            return Err(Reject::new("invalid_utf8", error.to_string(), line));
        }
        Ok(())
    }

    /// Each CSV row with the expected number of cells, as it was written.
    fn csv(&self, body: &[u8], timestamp: i64, out: &mut Decoded) {
        let delimiter = u8::try_from(self.csv.delimiter).unwrap_or(b',');
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(body);
        let mut expected = self.csv.columns;
        let mut header = self.csv.header;
        let mut row = csv::ByteRecord::new();
        loop {
            let start = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
            let more = match reader.read_byte_record(&mut row) {
                Ok(more) => more,
                Err(error) => {
                    // The csv reader is lenient; what it refuses ends the body.
                    let rest = body.get(start..).unwrap_or_default();
                    out.rejects
                        .push(Reject::new("invalid_csv", error.to_string(), rest));
                    break;
                }
            };
            if !more {
                break;
            }
            let end = usize::try_from(reader.position().byte()).unwrap_or(body.len());
            let text = body.get(start..end.min(body.len())).unwrap_or_default();
            let text = text.trim_ascii();
            let cells = row.len();
            if header {
                header = false;
                expected.get_or_insert(cells);
                continue;
            }
            let wanted = *expected.get_or_insert(cells);
            if cells != wanted {
                out.rejects.push(Reject::new(
                    "csv_cells",
                    format!("{cells} cells, the header has {wanted}"),
                    text,
                ));
                continue;
            }
            if let Err(reject) = self.line_ok(text) {
                out.rejects.push(reject);
                continue;
            }
            out.records.push(timestamp, text);
        }
    }
}

/// One JSON value: an array's elements, or the value itself.
fn json(body: &[u8], timestamp: i64, out: &mut Decoded) {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(items)) => {
            for item in items {
                let bytes = serde_json::to_vec(&item).expect("a JSON value serializes");
                out.records.push(timestamp, &bytes);
            }
        }
        Ok(value) => {
            let bytes = serde_json::to_vec(&value).expect("a JSON value serializes");
            out.records.push(timestamp, &bytes);
        }
        Err(error) => out
            .rejects
            .push(Reject::new("invalid_json", error.to_string(), body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoder(decoding: Decoding) -> Decoder {
        Decoder {
            decoding,
            csv: CsvConfig::default(),
            max_line_length: 64,
        }
    }

    fn texts(decoded: &Decoded) -> Vec<String> {
        decoded
            .records
            .iter()
            .map(|r| r.text().into_owned())
            .collect()
    }

    fn reasons(decoded: &Decoded) -> Vec<&'static str> {
        decoded.rejects.iter().map(|r| r.reason).collect()
    }

    #[test]
    fn lines_skip_blanks_and_reject_bad_ones_alone() {
        let mut body = b"T:1\r\n\n  \nT:2\n".to_vec();
        body.extend_from_slice(b"\xff\xfe garbage\n");
        body.extend_from_slice(&[b'x'; 65]);
        body.extend_from_slice(b"\nT:3");
        let decoded = decoder(Decoding::Lines).decode(&body, "text/plain", 7);
        assert_eq!(texts(&decoded), ["T:1", "T:2", "T:3"]);
        assert_eq!(reasons(&decoded), ["invalid_utf8", "too_long"]);
        assert!(decoded.records.iter().all(|r| r.timestamp == 7));
    }

    #[test]
    fn ndjson_keeps_every_json_line_and_rejects_the_rest() {
        let body = b"{\"t\":1}\n{\"t\":\n[1,2]\n\"s\"\nnot json\n";
        let decoded = decoder(Decoding::Ndjson).decode(body, "application/x-ndjson", 0);
        assert_eq!(texts(&decoded), ["{\"t\":1}", "[1,2]", "\"s\""]);
        assert_eq!(reasons(&decoded), ["invalid_json", "invalid_json"]);
        assert_eq!(decoded.rejects[0].item, "{\"t\":");
    }

    #[test]
    fn json_arrays_give_one_record_per_element() {
        let decoded =
            decoder(Decoding::Json).decode(br#"[{"t": 1}, {"t": 2}]"#, "application/json", 0);
        assert_eq!(texts(&decoded), [r#"{"t":1}"#, r#"{"t":2}"#]);
        let decoded = decoder(Decoding::Json).decode(br#" {"t": 1} "#, "application/json", 0);
        assert_eq!(texts(&decoded), [r#"{"t":1}"#]);
        let decoded = decoder(Decoding::Json).decode(b"[1,", "application/json", 0);
        assert_eq!(reasons(&decoded), ["invalid_json"]);
        assert_eq!(decoded.accepted(), 0);
    }

    #[test]
    fn csv_rows_pass_as_written_and_short_rows_are_rejected() {
        let body =
            b"device,temp,cpu\r\nd1,85.5,12\nd2,\"4,5\",3\nd3,1\n\nd4,2,3,4\nd5,\xff,1\nd6,7,8";
        let decoded = decoder(Decoding::Csv).decode(body, "text/csv", 0);
        assert_eq!(texts(&decoded), ["d1,85.5,12", "d2,\"4,5\",3", "d6,7,8"]);
        assert_eq!(
            reasons(&decoded),
            ["csv_cells", "csv_cells", "invalid_utf8"]
        );
        assert_eq!(decoded.rejects[0].item, "d3,1");
        assert_eq!(decoded.rejects[0].detail, "2 cells, the header has 3");
    }

    #[test]
    fn csv_without_a_header_counts_the_first_row_or_the_configured_columns() {
        let mut with = decoder(Decoding::Csv);
        with.csv.header = false;
        let decoded = with.decode(b"a;b\n", "text/csv", 0);
        assert_eq!(texts(&decoded), ["a;b"]);
        with.csv.delimiter = ';';
        with.csv.columns = Some(2);
        let decoded = with.decode(b"a;b\nc\nd;e\n", "text/csv", 0);
        assert_eq!(texts(&decoded), ["a;b", "d;e"]);
        assert_eq!(reasons(&decoded), ["csv_cells"]);
    }

    #[test]
    fn a_rejected_item_keeps_a_bounded_sample() {
        let mut long = decoder(Decoding::Lines);
        long.max_line_length = 16;
        let body = vec![b'y'; 5000];
        let decoded = long.decode(&body, "text/plain", 0);
        assert_eq!(decoded.rejects[0].item.len(), Reject::SAMPLE);
    }
}
