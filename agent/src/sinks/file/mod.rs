//! The file sink: records, points and alerts appended to one file.
//!
//! Three encodings. `raw`: a record's payload as one line, a point as
//! `series field=value,...`, an alert as its JSON. `ndjson`: one JSON object
//! per line (the shapes shared with the console, and
//! [`Alert::to_json`](crate::event::Alert::to_json)). `csv`: one table per
//! file, whose header is fixed by the first batch written: `timestamp,message`
//! for records; `timestamp,series,<tag keys...>,<field names...>` for points,
//! where a missing tag or field is an empty cell and a later field the header
//! lacks is dropped and counted; `timestamp,type,severity,state,series,value,
//! description` for alerts; with `columns`, points under exactly those
//! columns (`timestamp`, `series`, tags and fields by name; the other
//! fields are left out, as asked). Items of another kind than the table's are
//! rejected and counted. A file that already has content keeps its header
//! (read back from its first line) and gets none written again. The sink runs
//! on a blocking thread; it flushes to the OS after every batch, so `kill -9`
//! loses at most the batch in flight, and syncs to disk when its input closes.

pub(super) mod config;

use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::Receiver;
use tokio_util::sync::CancellationToken;

use self::config::{FileEncoding, FileSinkConfig};
use super::appender::Appender;
use super::escape::csv_cell;
use super::point_lines::PointLines;
use super::{SinkContext, SinkError, absolute, banner, chain, create_parent, record_json};
use crate::event::{Batch, Points, SharedBatch, Value, format_timestamp};
use crate::internal::events::{
    ComponentError, EventsDelivered, EventsReceived, ItemsRejected, SinkRetrying,
};

const RECORDS_HEADER: [&str; 2] = ["timestamp", "message"];
const ALERTS_HEADER: [&str; 7] = [
    "timestamp",
    "type",
    "severity",
    "state",
    "series",
    "value",
    "description",
];

/// An open file and how batches are encoded into it.
#[derive(Debug)]
pub struct FileSink {
    name: Arc<str>,
    path: PathBuf,
    file: Appender,
    encoder: Encoder,
    shutdown: CancellationToken,
}

/// Turns batches into the bytes of whole lines.
#[derive(Debug)]
enum Encoder {
    Raw,
    Ndjson,
    Csv(Box<CsvTable>),
}

/// What a CSV file holds; every row has the header's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CsvShape {
    Records,
    Alerts,
    /// Points; the columns after `timestamp,series`: tag keys, then fields.
    Points(Vec<String>),
    /// Points under the configured columns, `timestamp` and `series`
    /// included where named.
    Chosen(Vec<String>),
    /// A file whose existing header is none of the above: rows of the first
    /// kind written are appended under it.
    Unknown,
}

#[derive(Debug)]
struct CsvTable {
    /// `None` until the first batch (or the existing header) fixes it.
    shape: Option<CsvShape>,
    /// Whether the file has content, so its header must not be written again.
    has_content: bool,
}

/// Items a batch could not write, by reason.
#[derive(Debug, Default)]
struct Dropped {
    unknown_fields: usize,
    unknown_field_example: Option<String>,
    other_kind: usize,
}

/// The first wait after a failed write; it doubles up to [`MAX_BACKOFF`].
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between tries of a failing write.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

impl FileSink {
    /// Create the parent directories and open the file for appending, cutting
    /// back a torn last line; for CSV, read back the header of a file that
    /// already has content.
    ///
    /// # Errors
    /// When the directory cannot be created or the file cannot be opened.
    async fn build(config: &FileSinkConfig, ctx: SinkContext) -> Result<Self, SinkError> {
        let path = absolute(&config.path);
        create_parent(&path).await?;
        let open_error = |source| SinkError::Open {
            path: path.clone(),
            source,
        };
        let (file, cut) = tokio::task::spawn_blocking({
            let path = path.clone();
            move || Appender::open(&path)
        })
        .await?
        .map_err(open_error)?;
        if cut > 0 {
            let error = format!(
                "{}: cut {cut} bytes of a torn last line (its records were not acknowledged and are sent again)",
                path.display()
            );
            ComponentError {
                component: &ctx.name,
                reason: "torn_record_repaired",
                error: &error,
            }
            .emit();
        }
        let encoder = match &config.encoding {
            FileEncoding::Raw => Encoder::Raw,
            FileEncoding::Ndjson => Encoder::Ndjson,
            FileEncoding::Csv => {
                let has_content = file.len() > 0;
                let shape = if has_content {
                    let header = tokio::task::spawn_blocking({
                        let path = path.clone();
                        move || existing_header(&path)
                    })
                    .await?
                    .map_err(open_error)?;
                    Some(CsvShape::of_header(&header))
                } else {
                    None
                };
                let shape = match &config.columns {
                    Some(columns) => Some(CsvShape::Chosen(columns.clone())),
                    None => shape,
                };
                Encoder::Csv(Box::new(CsvTable { shape, has_content }))
            }
        };
        Ok(Self {
            name: ctx.name,
            path,
            file,
            encoder,
            shutdown: ctx.shutdown,
        })
    }

    /// `file     /abs/path/out.csv (csv)`.
    fn describe(&self) -> String {
        let encoding = match self.encoder {
            Encoder::Raw => "raw",
            Encoder::Ndjson => "ndjson",
            Encoder::Csv(_) => "csv",
        };
        banner("file", format_args!("{} ({encoding})", self.path.display()))
    }

    /// Append every batch until `input` closes, then sync the file.
    ///
    /// # Errors
    /// When the final sync fails. A batch that fails to write is retried
    /// with backoff, and stays unacknowledged until it is written.
    async fn run(self, input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        tokio::task::spawn_blocking(move || self.run_blocking(input)).await?
    }

    fn run_blocking(mut self, mut input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        let mut bytes = Vec::with_capacity(64 * 1024);
        let mut undelivered = 0;
        while let Some(batch) = input.blocking_recv() {
            EventsReceived {
                component: &self.name,
                count: batch.len(),
                bytes: 0,
            }
            .emit();
            let mut dropped = Dropped::default();
            bytes.clear();
            if let Err(error) = self.encoder.encode(&batch, &mut dropped, &mut bytes) {
                // Encoding into memory fails only on a csv bug; nothing was written.
                batch.delivery.fail();
                let error = SinkError::Write {
                    path: self.path.clone(),
                    source: error,
                };
                ComponentError {
                    component: &self.name,
                    reason: "encode_failed",
                    error: &error,
                }
                .emit();
                continue;
            }
            if self.append(&bytes) {
                EventsDelivered {
                    component: &self.name,
                    count: batch.len(),
                }
                .emit();
            } else {
                batch.delivery.fail();
                undelivered += batch.len();
            }
            self.report(&dropped);
            // Dropping the batch here acknowledges it: it is in the file.
        }
        if undelivered > 0 {
            return Err(SinkError::Undelivered {
                path: self.path.clone(),
                count: undelivered,
            });
        }
        self.file.sync().map_err(|source| SinkError::Write {
            path: self.path.clone(),
            source,
        })
    }

    /// Write `bytes`, retrying with backoff while it fails; gives up only
    /// once the pipeline is shutting down. Returns whether it was written.
    fn append(&mut self, bytes: &[u8]) -> bool {
        let mut backoff = INITIAL_BACKOFF;
        loop {
            let source = match self.file.append(bytes) {
                Ok(()) => return true,
                Err(source) => source,
            };
            let error = SinkError::Write {
                path: self.path.clone(),
                source,
            };
            if self.shutdown.is_cancelled() {
                let error = format!("{}; giving up at shutdown", chain(&error));
                ComponentError {
                    component: &self.name,
                    reason: "write_failed",
                    error: &error,
                }
                .emit();
                return false;
            }
            SinkRetrying {
                component: &self.name,
                error: &chain(&error),
                backoff,
            }
            .emit();
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn report(&self, dropped: &Dropped) {
        if let Some(example) = &dropped.unknown_field_example {
            ItemsRejected {
                component: &self.name,
                reason: "csv_unknown_field",
                count: dropped.unknown_fields,
                example,
            }
            .emit();
        }
        if dropped.other_kind > 0 {
            ItemsRejected {
                component: &self.name,
                reason: "csv_other_kind",
                count: dropped.other_kind,
                example: "a CSV file holds one kind: records, points or alerts",
            }
            .emit();
        }
    }
}

impl Encoder {
    /// Append the lines of `batch` to `out`.
    fn encode(
        &mut self,
        batch: &Batch,
        dropped: &mut Dropped,
        out: &mut Vec<u8>,
    ) -> std::io::Result<()> {
        match self {
            Encoder::Raw => {
                for record in batch.records.iter() {
                    out.extend_from_slice(record.bytes);
                    out.push(b'\n');
                }
                for point in batch.points.iter() {
                    write!(out, "{}", point.series())?;
                    for (i, (name, value)) in point.fields().enumerate() {
                        write!(out, "{}{name}={value}", if i == 0 { ' ' } else { ',' })?;
                    }
                    out.push(b'\n');
                }
                for alert in &batch.alerts {
                    writeln!(out, "{}", alert.to_json())?;
                }
                Ok(())
            }
            Encoder::Ndjson => {
                for record in batch.records.iter() {
                    writeln!(out, "{}", record_json(&batch.component, &record))?;
                }
                let mut writer = PointLines::new(&batch.points);
                for point in batch.points.iter() {
                    writer.write(out, &point);
                    out.push(b'\n');
                }
                for alert in &batch.alerts {
                    writeln!(out, "{}", alert.to_json())?;
                }
                Ok(())
            }
            Encoder::Csv(table) => {
                let mut writer = csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(&mut *out);
                table.write_batch(&mut writer, batch, dropped)
            }
        }
    }
}

/// Every encoding of `batch`, as a fresh file would get it: for tests that
/// feed sinks arbitrary batches.
impl super::Sink for FileSinkConfig {
    type Running = FileSink;

    async fn build(&self, ctx: SinkContext) -> Result<FileSink, SinkError> {
        FileSink::build(self, ctx).await
    }
}

impl super::RunningSink for FileSink {
    fn describe(&self) -> String {
        FileSink::describe(self)
    }

    async fn run(self, input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        FileSink::run(self, input).await
    }
}

#[cfg(test)]
pub(crate) fn encode_every_way(batch: &Batch) -> Vec<u8> {
    let mut out = Vec::new();
    let table = CsvTable {
        shape: None,
        has_content: false,
    };
    for mut encoder in [Encoder::Raw, Encoder::Ndjson, Encoder::Csv(Box::new(table))] {
        encoder
            .encode(batch, &mut Dropped::default(), &mut out)
            .expect("writing to memory");
    }
    out
}

impl CsvShape {
    fn of_header(header: &[String]) -> Self {
        if header == RECORDS_HEADER {
            CsvShape::Records
        } else if header == ALERTS_HEADER {
            CsvShape::Alerts
        } else if header.len() >= 2 && header[0] == "timestamp" && header[1] == "series" {
            CsvShape::Points(header[2..].to_vec())
        } else {
            CsvShape::Unknown
        }
    }

    /// The points header for `points`: tag keys (sorted), then field names
    /// in column order; a name that is both keeps one column, for the tag.
    fn of_points(points: &Points) -> Self {
        let tags: BTreeSet<&str> = points
            .series
            .iter()
            .flat_map(|s| s.tags.iter().map(|(k, _)| k.as_str()))
            .collect();
        let mut columns: Vec<String> = tags.iter().map(|&k| k.to_owned()).collect();
        let mut seen: HashSet<&str> = tags.into_iter().collect();
        for column in &points.columns {
            if seen.insert(&column.name) {
                columns.push(column.name.clone());
            }
        }
        CsvShape::Points(columns)
    }

    fn header(&self) -> Vec<&str> {
        match self {
            CsvShape::Records => RECORDS_HEADER.to_vec(),
            CsvShape::Alerts => ALERTS_HEADER.to_vec(),
            CsvShape::Points(columns) => ["timestamp", "series"]
                .into_iter()
                .chain(columns.iter().map(String::as_str))
                .collect(),
            CsvShape::Chosen(columns) => columns.iter().map(String::as_str).collect(),
            CsvShape::Unknown => Vec::new(),
        }
    }
}

impl CsvTable {
    fn write_batch(
        &mut self,
        writer: &mut csv::Writer<&mut Vec<u8>>,
        batch: &Batch,
        dropped: &mut Dropped,
    ) -> std::io::Result<()> {
        if self.shape.is_none() || self.shape == Some(CsvShape::Unknown) {
            let shape = if !batch.records.is_empty() {
                Some(CsvShape::Records)
            } else if !batch.points.is_empty() {
                Some(CsvShape::of_points(&batch.points))
            } else if !batch.alerts.is_empty() {
                Some(CsvShape::Alerts)
            } else {
                None
            };
            if shape.is_some() {
                self.shape = shape;
            }
        }
        // A new file gets the header of its shape, once known.
        if let Some(shape) = &self.shape
            && !self.has_content
        {
            writer.write_record(
                shape
                    .header()
                    .into_iter()
                    .map(|name| csv_cell(name).into_owned()),
            )?;
            self.has_content = true;
        }
        let Some(shape) = &self.shape else {
            return Ok(());
        };
        match shape {
            CsvShape::Records => {
                for record in batch.records.iter() {
                    let text = record.text();
                    writer.write_record([
                        format_timestamp(record.timestamp).as_str(),
                        &csv_cell(&text),
                    ])?;
                }
                dropped.other_kind += batch.points.len() + batch.alerts.len();
            }
            CsvShape::Points(columns) => {
                let known: HashSet<&str> = columns.iter().map(String::as_str).collect();
                let mut row: Vec<String> = Vec::with_capacity(columns.len() + 2);
                for point in batch.points.iter() {
                    let series = point.series();
                    row.clear();
                    row.push(format_timestamp(point.timestamp()));
                    row.push(csv_cell(&series.name).into_owned());
                    for column in columns {
                        // Numbers as they are (`-5` is a number, not a
                        // formula); text from data escaped.
                        let cell = match (series.tag(column), point.field(column)) {
                            (Some(tag), _) | (None, Some(Value::Text(tag))) => {
                                csv_cell(tag).into_owned()
                            }
                            (None, Some(value)) => value.to_string(),
                            (None, None) => String::new(),
                        };
                        row.push(cell);
                    }
                    for (name, _) in point.fields().filter(|(name, _)| !known.contains(name)) {
                        dropped.unknown_fields += 1;
                        dropped
                            .unknown_field_example
                            .get_or_insert_with(|| name.to_owned());
                    }
                    writer.write_record(&row)?;
                }
                dropped.other_kind += batch.records.len() + batch.alerts.len();
            }
            CsvShape::Chosen(columns) => {
                let mut row: Vec<String> = Vec::with_capacity(columns.len());
                for point in batch.points.iter() {
                    let series = point.series();
                    row.clear();
                    for column in columns {
                        let cell = match (column.as_str(), series.tag(column), point.field(column))
                        {
                            ("timestamp", ..) => format_timestamp(point.timestamp()),
                            ("series", ..) => csv_cell(&series.name).into_owned(),
                            (_, Some(tag), _) | (_, None, Some(Value::Text(tag))) => {
                                csv_cell(tag).into_owned()
                            }
                            (_, None, Some(value)) => value.to_string(),
                            (_, None, None) => String::new(),
                        };
                        row.push(cell);
                    }
                    writer.write_record(&row)?;
                }
                dropped.other_kind += batch.records.len() + batch.alerts.len();
            }
            CsvShape::Alerts => {
                for alert in &batch.alerts {
                    writer.write_record([
                        format_timestamp(alert.timestamp).as_str(),
                        &csv_cell(&alert.kind),
                        alert.severity.as_str(),
                        alert.state.as_str(),
                        &csv_cell(&alert.series.to_string()),
                        &alert.value.map(|v| v.to_string()).unwrap_or_default(),
                        &csv_cell(&alert.description),
                    ])?;
                }
                dropped.other_kind += batch.records.len() + batch.points.len();
            }
            CsvShape::Unknown => {}
        }
        writer.flush()
    }
}

/// The first CSV record of the file at `path`.
fn existing_header(path: &Path) -> std::io::Result<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)?;
    match reader.byte_records().next() {
        Some(record) => Ok(record?
            .iter()
            .map(|cell| String::from_utf8_lossy(cell).into_owned())
            .collect()),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::*;
    use crate::event::{Alert, AlertState, PointsBuilder, Records, Series, Severity};

    const T0: i64 = 1_700_000_000_000_000_000;

    fn alert() -> Alert {
        Alert {
            raised: foghorn_model::Alert {
                timestamp: T0,
                kind: "threshold".into(),
                severity: Severity::Critical,
                state: AlertState::Firing,
                series: Series::new("bench").with_tag("device", "b1"),
                labels: Vec::new(),
                value: Some(95.5),
                score: None,
                description: "temperature 95.5, above 80".into(),
            },
            component: "detect".into(),
            plugin: "builtin:threshold".into(),
        }
    }

    fn records(lines: &[&str]) -> Batch {
        let mut records = Records::default();
        for line in lines {
            records.push(T0, line.as_bytes());
        }
        Batch {
            component: "bench".into(),
            records,
            ..Batch::default()
        }
    }

    fn points(build: impl FnOnce(&mut PointsBuilder)) -> Batch {
        let mut points = PointsBuilder::new();
        build(&mut points);
        Batch {
            component: "parse".into(),
            points: points.finish(),
            ..Batch::default()
        }
    }

    fn alerts() -> Batch {
        Batch {
            component: "detect".into(),
            alerts: vec![alert()],
            ..Batch::default()
        }
    }

    async fn write(path: &Path, encoding: FileEncoding, batches: Vec<Batch>) -> String {
        write_columns(path, encoding, None, batches).await
    }

    async fn write_columns(
        path: &Path,
        encoding: FileEncoding,
        columns: Option<&[&str]>,
        batches: Vec<Batch>,
    ) -> String {
        let config = FileSinkConfig {
            path: path.to_path_buf(),
            encoding,
            columns: columns.map(|c| c.iter().map(|s| (*s).to_owned()).collect()),
        };
        let ctx = SinkContext {
            name: "file-test".into(),
            data_dir: path.to_path_buf(),
            shutdown: tokio_util::sync::CancellationToken::new(),
        };
        let sink = FileSink::build(&config, ctx).await.unwrap();
        let (tx, rx) = mpsc::channel(16);
        for batch in batches {
            tx.send(Arc::new(batch)).await.unwrap();
        }
        drop(tx);
        sink.run(rx).await.unwrap();
        std::fs::read_to_string(path).unwrap()
    }

    #[tokio::test]
    async fn csv_columns_fix_the_table_of_points() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("structured.csv");
        let series = Series::new("bench").with_tag("device", "b1");
        let batch = || {
            points(|p| {
                p.point(T0, &series)
                    .field("voltage", 5.0)
                    .field("temperature", 21.5)
                    .field("status_code", "OK,\"quoted\"");
                p.point(T0 + 1, &series).field("temperature", 22.0);
            })
        };
        let columns = ["timestamp", "temperature", "voltage", "status_code"];
        let text = write_columns(&path, FileEncoding::Csv, Some(&columns), vec![batch()]).await;
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("timestamp,temperature,voltage,status_code")
        );
        let rest = |line: Option<&str>| line.map(|l| l.split_once(',').unwrap().1.to_owned());
        assert_eq!(
            rest(lines.next()).as_deref(),
            Some(r#"21.5,5,"OK,""quoted""""#)
        );
        assert_eq!(rest(lines.next()).as_deref(), Some("22,,"));
        // Appending keeps one header.
        let text = write_columns(&path, FileEncoding::Csv, Some(&columns), vec![batch()]).await;
        assert_eq!(
            text.lines().filter(|l| l.starts_with("timestamp")).count(),
            1
        );
        assert_eq!(text.lines().count(), 5);
    }

    #[tokio::test]
    async fn raw_writes_payloads_points_and_alert_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/raw.log");
        let series = Series::new("bench").with_tag("device", "b1");
        let batches = vec![
            records(&["T:21.5,V:5.0", "garbage"]),
            points(|p| {
                p.point(T0, &series)
                    .field("temperature", 21.5)
                    .field("status", "OK");
            }),
            alerts(),
        ];
        let text = write(&path, FileEncoding::Raw, batches).await;
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..3],
            [
                "T:21.5,V:5.0",
                "garbage",
                "bench{device=b1} temperature=21.5,status=OK"
            ]
        );
        let written: serde_json::Value = serde_json::from_str(lines[3]).unwrap();
        assert_eq!(written, alert().to_json());
        // Append mode: a second run keeps what was there.
        let text = write(&path, FileEncoding::Raw, vec![records(&["again"])]).await;
        assert_eq!(text.lines().count(), 5);
        assert!(text.ends_with("again\n"));
    }

    #[tokio::test]
    async fn every_batch_reaches_the_file_before_the_next_arrives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.log");
        let config = FileSinkConfig {
            path: path.clone(),
            encoding: FileEncoding::Raw,
            columns: None,
        };
        let ctx = SinkContext {
            name: "file-live".into(),
            data_dir: dir.path().to_path_buf(),
            shutdown: tokio_util::sync::CancellationToken::new(),
        };
        let sink = FileSink::build(&config, ctx).await.unwrap();
        assert!(path.exists(), "the file is created at build");
        let (tx, rx) = mpsc::channel(16);
        let running = tokio::spawn(sink.run(rx));
        tx.send(Arc::new(records(&["first"]))).await.unwrap();
        let mut text = String::new();
        for _ in 0..200 {
            text = std::fs::read_to_string(&path).unwrap();
            if !text.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(text, "first\n", "flushed while the sink still runs");
        drop(tx);
        running.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn ndjson_writes_one_object_per_item() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ndjson");
        let series = Series::new("bench").with_tag("device", "b1");
        let batches = vec![
            records(&["T:21.5"]),
            points(|p| {
                p.point(T0, &series)
                    .field("temperature", 21.5)
                    .field("count", 3_i64)
                    .field("ok", true);
            }),
            alerts(),
        ];
        let text = write(&path, FileEncoding::Ndjson, batches).await;
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            serde_json::json!({"timestamp": "2023-11-14T22:13:20.000Z", "component": "bench", "message": "T:21.5"})
        );
        assert_eq!(
            lines[1],
            serde_json::json!({
                "timestamp": "2023-11-14T22:13:20.000Z",
                "series": "bench",
                "tags": {"device": "b1"},
                "fields": {"temperature": 21.5, "count": 3, "ok": true},
            })
        );
        assert_eq!(lines[2], alert().to_json());
    }

    #[tokio::test]
    async fn csv_points_fix_the_header_and_leave_missing_cells_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("structured.csv");
        let b1 = Series::new("bench").with_tag("device", "b1");
        let b2 = Series::new("bench")
            .with_tag("device", "b2")
            .with_tag("site", "lab, 2");
        let first = points(|p| {
            p.point(T0, &b1)
                .field("temperature", 21.5)
                .field("status", "OK");
            p.point(T0, &b2).field("status", "needs \"care\"");
        });
        let second = points(|p| {
            p.point(T0, &b1)
                .field("temperature", 22.0)
                .field("humidity", 40_i64);
        });
        let text = write(&path, FileEncoding::Csv, vec![first, second]).await;
        assert_eq!(
            text,
            "timestamp,series,device,site,temperature,status\n\
             2023-11-14T22:13:20.000Z,bench,b1,,21.5,OK\n\
             2023-11-14T22:13:20.000Z,bench,b2,\"lab, 2\",,\"needs \"\"care\"\"\"\n\
             2023-11-14T22:13:20.000Z,bench,b1,,22,\n"
        );
        // A restart reads the header back: no second header, same columns.
        let third = points(|p| {
            p.point(T0, &b1)
                .field("status", "HOT")
                .field("temperature", 95.5);
        });
        let text = write(&path, FileEncoding::Csv, vec![third]).await;
        assert_eq!(text.matches("timestamp,series").count(), 1);
        assert!(
            text.ends_with("\n2023-11-14T22:13:20.000Z,bench,b1,,95.5,HOT\n"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn csv_records_and_alerts_have_their_own_tables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.csv");
        let text = write(
            &path,
            FileEncoding::Csv,
            vec![records(&["T:1,V:2"]), alerts()],
        )
        .await;
        assert_eq!(
            text,
            "timestamp,message\n2023-11-14T22:13:20.000Z,\"T:1,V:2\"\n"
        );

        let path = dir.path().join("alerts.csv");
        let text = write(&path, FileEncoding::Csv, vec![alerts()]).await;
        assert_eq!(
            text,
            "timestamp,type,severity,state,series,value,description\n\
             2023-11-14T22:13:20.000Z,threshold,critical,firing,bench{device=b1},95.5,\"temperature 95.5, above 80\"\n"
        );
    }

    #[tokio::test]
    async fn csv_cells_from_data_cannot_run_formulas_or_break_lines() {
        let dir = tempfile::tempdir().unwrap();
        let records = write(
            &dir.path().join("raw.csv"),
            FileEncoding::Csv,
            vec![records(&[
                "=HYPERLINK(\"http://evil\")",
                "ok\r\nforged,line",
            ])],
        )
        .await;
        let rows: Vec<&str> = records.lines().collect();
        assert_eq!(rows.len(), 3, "{records}");
        assert!(
            rows[1].ends_with(",\"'=HYPERLINK(\"\"http://evil\"\")\""),
            "{records}"
        );
        assert!(rows[2].ends_with(",\"ok\\r\\nforged,line\""), "{records}");

        let points = write(
            &dir.path().join("points.csv"),
            FileEncoding::Csv,
            vec![points(|p| {
                p.point(T0, &Series::new("dev").with_tag("port", "@cmd"))
                    .field("t", -5.0)
                    .field("status", "+1");
            })],
        )
        .await;
        let row = points.lines().nth(1).unwrap();
        assert!(
            row.ends_with(",dev,'@cmd,-5,'+1"),
            "numbers stay numbers: {points}"
        );
    }
}
