//! The console sink: batches on standard output, for people and demos.
//!
//! `text` prints one line per item: `<ts> <component> <line>` for a record,
//! `<ts> <series> k=v ...` for a point, `<ts> <SEVERITY> <type> <series>
//! <description>` for an alert (with ` [resolved]` when it ends). `json`
//! prints the same JSON objects as the NDJSON file encoding. Standard output
//! is locked once per batch, so the lines of a batch are never interleaved
//! with other output, and written from a blocking thread.

use std::io::{BufWriter, Write};
use std::sync::Arc;

use serde::Deserialize;
use tokio::sync::mpsc::Receiver;

use super::escape::control;
use super::{SinkContext, SinkError, banner, point_json, record_json};
use crate::event::{AlertState, Batch, SharedBatch, format_timestamp};
use crate::internal::events::{ComponentError, EventsReceived};
use crate::settings::Settings;

/// `type: console`: prints to standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// `format`: `text` (human-readable) or `json`. Default `text`.
    pub format: ConsoleFormat,
}

/// How the console sink prints items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsoleFormat {
    /// One human-readable line per item.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl Settings for ConsoleConfig {}

/// Prints batches on standard output.
#[derive(Debug)]
pub struct ConsoleSink {
    name: Arc<str>,
    json: bool,
}

impl ConsoleSink {
    /// The console needs no I/O to start.
    fn build(config: &ConsoleConfig, ctx: SinkContext) -> Self {
        let json = matches!(config.format, ConsoleFormat::Json);
        Self {
            name: ctx.name,
            json,
        }
    }

    /// `console  stdout (text)`.
    fn describe(&self) -> String {
        banner(
            "console",
            if self.json {
                "stdout (json)"
            } else {
                "stdout (text)"
            },
        )
    }

    /// Print every batch until `input` closes.
    ///
    /// # Errors
    /// When the thread printing panics or the final flush fails. A batch that
    /// cannot be printed (a closed pipe) is reported and the sink carries on.
    async fn run(self, input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        self.run_to(input, || std::io::stdout().lock()).await
    }

    /// [`Self::run`], printing to what `lock` returns, once per batch.
    async fn run_to<W: Write>(
        self,
        mut input: Receiver<SharedBatch>,
        lock: impl Fn() -> W + Send + 'static,
    ) -> Result<(), SinkError> {
        tokio::task::spawn_blocking(move || {
            while let Some(batch) = input.blocking_recv() {
                EventsReceived {
                    component: &self.name,
                    count: batch.len(),
                    bytes: 0,
                }
                .emit();
                let mut out = BufWriter::new(lock());
                let written = write_batch(&mut out, &batch, self.json).and_then(|()| out.flush());
                if let Err(error) = written {
                    ComponentError {
                        component: &self.name,
                        reason: "write_failed",
                        error: &error,
                    }
                    .emit();
                }
            }
            lock().flush().map_err(|source| SinkError::Write {
                path: "<stdout>".into(),
                source,
            })
        })
        .await?
    }
}

/// Write `batch` to `out`: records, then points, then alerts.
pub(crate) fn write_batch(out: &mut impl Write, batch: &Batch, json: bool) -> std::io::Result<()> {
    if json {
        for record in batch.records.iter() {
            writeln!(out, "{}", record_json(&batch.component, &record))?;
        }
        for point in batch.points.iter() {
            writeln!(out, "{}", point_json(&point))?;
        }
        for alert in &batch.alerts {
            writeln!(out, "{}", alert.to_json())?;
        }
        return Ok(());
    }
    // Text from devices and plugins is escaped: no terminal escapes, no
    // forged lines.
    for record in batch.records.iter() {
        let ts = format_timestamp(record.timestamp);
        let text = record.text();
        writeln!(out, "{ts} {} {}", batch.component, control(&text))?;
    }
    for point in batch.points.iter() {
        let series = point.series().to_string();
        write!(
            out,
            "{} {}",
            format_timestamp(point.timestamp()),
            control(&series)
        )?;
        for (name, value) in point.fields() {
            let value = value.to_string();
            write!(out, " {}={}", control(name), control(&value))?;
        }
        writeln!(out)?;
    }
    for alert in &batch.alerts {
        let severity = alert.severity.as_str().to_uppercase();
        let ts = format_timestamp(alert.timestamp);
        let series = alert.series.to_string();
        write!(
            out,
            "{ts} {severity} {} {} {}",
            control(&alert.kind),
            control(&series),
            control(&alert.description)
        )?;
        let suffix = if alert.state == AlertState::Resolved {
            " [resolved]"
        } else {
            ""
        };
        writeln!(out, "{suffix}")?;
    }
    Ok(())
}

impl super::Sink for ConsoleConfig {
    type Running = ConsoleSink;

    async fn build(&self, ctx: SinkContext) -> Result<ConsoleSink, SinkError> {
        Ok(ConsoleSink::build(self, ctx))
    }
}

impl super::RunningSink for ConsoleSink {
    fn describe(&self) -> String {
        ConsoleSink::describe(self)
    }

    async fn run(self, input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        ConsoleSink::run(self, input).await
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::*;
    use crate::event::{Alert, PointsBuilder, Records, Series, Severity};

    const T0: i64 = 1_700_000_000_000_000_000;

    fn alert(state: AlertState) -> Alert {
        Alert {
            raised: foghorn_model::Alert {
                timestamp: T0,
                kind: "heartbeat_lost".into(),
                severity: Severity::Critical,
                state,
                series: Series::new("bench").with_tag("device", "b1"),
                labels: Vec::new(),
                value: None,
                score: None,
                description: "no data for 4s".into(),
            },
            component: "detect".into(),
            plugin: "builtin:heartbeat".into(),
        }
    }

    fn batch() -> Batch {
        let mut records = Records::default();
        records.push(T0, b"T:21.5,V:5.0");
        let mut points = PointsBuilder::new();
        let series = Series::new("bench").with_tag("device", "b1");
        points
            .point(T0, &series)
            .field("temperature", 21.5)
            .field("status", "OK");
        Batch {
            component: "bench".into(),
            records,
            points: points.finish(),
            alerts: vec![alert(AlertState::Firing), alert(AlertState::Resolved)],
            ..Batch::default()
        }
    }

    fn print(json: bool) -> String {
        let mut out = Vec::new();
        write_batch(&mut out, &batch(), json).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_is_one_readable_line_per_item() {
        assert_eq!(
            print(false),
            "2023-11-14T22:13:20.000Z bench T:21.5,V:5.0\n\
             2023-11-14T22:13:20.000Z bench{device=b1} temperature=21.5 status=OK\n\
             2023-11-14T22:13:20.000Z CRITICAL heartbeat_lost bench{device=b1} no data for 4s\n\
             2023-11-14T22:13:20.000Z CRITICAL heartbeat_lost bench{device=b1} no data for 4s [resolved]\n"
        );
    }

    #[test]
    fn json_is_one_object_per_line() {
        let text = print(true);
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["message"], "T:21.5,V:5.0");
        assert_eq!(lines[0]["component"], "bench");
        assert_eq!(
            lines[1]["fields"],
            serde_json::json!({"temperature": 21.5, "status": "OK"})
        );
        assert_eq!(lines[1]["tags"]["device"], "b1");
        assert_eq!(lines[3], alert(AlertState::Resolved).to_json());
    }

    /// A writer appending to a buffer the test keeps.
    #[derive(Clone, Default)]
    struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().write(buf)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn run_prints_every_batch_and_returns_when_the_input_closes() {
        let config = ConsoleConfig {
            format: ConsoleFormat::Json,
        };
        let ctx = SinkContext {
            name: "console-test".into(),
            data_dir: ".".into(),
            shutdown: tokio_util::sync::CancellationToken::new(),
        };
        let sink = ConsoleSink::build(&config, ctx);
        assert_eq!(sink.describe(), "console  stdout (json)");
        let (tx, rx) = mpsc::channel(4);
        tx.send(Arc::new(batch())).await.unwrap();
        tx.send(Arc::new(batch())).await.unwrap();
        drop(tx);
        let out = Shared::default();
        let printed = out.clone();
        sink.run_to(rx, move || printed.clone()).await.unwrap();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text, print(true).repeat(2));
        let received = crate::internal::metrics::metrics()
            .received_events
            .with_label_values(&["console-test"])
            .get();
        assert_eq!(received, 8);
    }

    #[test]
    fn device_text_cannot_drive_the_terminal_or_forge_lines() {
        let mut records = crate::event::Records::default();
        records.push(0, b"T:1\x1b[2J\rALL CLEAR\nFAKE");
        let batch = Batch {
            component: "serial".into(),
            records,
            ..Batch::default()
        };
        let mut out = Vec::new();
        write_batch(&mut out, &batch, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.ends_with("T:1\\x1b[2J\\rALL CLEAR\\nFAKE\n"), "{text}");
    }
}
