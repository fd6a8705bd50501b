//! The report sink: the anomaly report, a JSON array of alerts.
//!
//! Every alert received becomes one [`Alert::to_json`](crate::event::Alert::to_json)
//! object. The array is kept sorted by (timestamp, type, series, state), ties
//! broken by the whole object, so alerts arriving from concurrent processors
//! in any order give the same file (equal alerts in the order they came). The
//! file is replaced atomically (a temp file in the
//! same directory, written, synced, renamed over the report) every `interval`
//! when something changed, and at shutdown, so a reader never sees a
//! half-written report. On build an existing report is loaded and continued,
//! so a restart does not lose it; one that is not a JSON array of objects is
//! moved aside to `<path>.corrupt-<unix seconds>` with a warning.
//!
//! # Bounds
//!
//! The report holds at most `max_alerts` entries (default 10,000): when a new
//! one would exceed it, the oldest entry goes, except an entry that is the
//! latest word of a still-firing alert, which stays until its alert resolves
//! (if firing alerts alone fill the window, the oldest of them goes too, and
//! `foghorn_component_errors_total{reason="report_evicted_firing"}` counts
//! it). Memory and the file are therefore bounded by `max_alerts` times the
//! size of one alert's JSON (a few hundred bytes: about 4 MiB at the
//! default), whatever the alert rate. Entries are kept sorted as they arrive
//! (a B-tree), so a write only concatenates them; nothing is sorted again.
//! Evictions are counted in `foghorn_report_evicted_alerts_total`.
//!
//! # Shape
//!
//! `fields` keeps only some keys of each entry, in the given order, and
//! `severity_case: upper` writes `CRITICAL` for `critical`, for consumers
//! of another tool's report; `states: [firing]` leaves resolutions out. The
//! order of entries stays the same.
//!
//! # Acknowledgement
//!
//! A batch is acknowledged once the report holding its alerts is on disk
//! (after the next periodic or final write), not when it arrives.

pub(super) mod config;

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::Receiver;

use self::config::{ReportConfig, ReportField, SeverityCase};
use super::{SinkContext, SinkError, absolute, banner, create_parent};
use crate::delivery::Delivery;
use crate::event::SharedBatch;
use crate::internal::events::{EventsDelivered, EventsReceived, ReportEvicted, SinkRetrying};

/// Collects alerts and writes the report.
#[derive(Debug)]
pub struct ReportSink {
    name: Arc<str>,
    path: PathBuf,
    interval: Duration,
    shape: Shape,
    window: Window,
    /// Handles of the batches received since the last write, and how many
    /// alerts they held: acknowledged once the report is written.
    unwritten: Vec<Delivery>,
    unwritten_alerts: usize,
}

/// What each entry holds.
#[derive(Debug, Clone)]
struct Shape {
    /// The keys kept, in order; `None`: all of them, as the alert writes
    /// them.
    fields: Option<Vec<ReportField>>,
    states: Vec<crate::event::AlertState>,
    severity_case: SeverityCase,
}

impl Shape {
    fn of(config: &ReportConfig) -> Self {
        Self {
            fields: config.fields.clone(),
            states: config.states.clone(),
            severity_case: config.severity_case,
        }
    }

    /// `alert` as JSON in this shape.
    fn write(&self, alert: &crate::event::Alert, out: &mut String) {
        if self.fields.is_none() && self.severity_case == SeverityCase::Lower {
            alert.write_json(out);
            return;
        }
        let serde_json::Value::Object(mut all) = alert.to_json() else {
            return;
        };
        if self.severity_case == SeverityCase::Upper {
            all.insert(
                "severity".to_owned(),
                alert.severity.as_str().to_uppercase().into(),
            );
        }
        let object: serde_json::Map<String, serde_json::Value> = match &self.fields {
            None => all,
            Some(fields) => fields
                .iter()
                .filter_map(|field| Some((field.key().to_owned(), all.remove(field.key())?)))
                .collect(),
        };
        out.push_str(&serde_json::Value::Object(object).to_string());
    }
}

/// One alert of the report: its sort key and its JSON text, in one
/// allocation (a storm inserts and evicts millions of them; many small
/// allocations per entry fragment the heap).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    /// `timestamp \0 type \0 series \0 state \0 json`: RFC 3339 UTC with a
    /// fixed number of digits sorts as text, so this sorts by (timestamp,
    /// type, series, state), ties broken by the whole object.
    text: Box<str>,
    /// Arrival order: equal alerts are all kept, in the order they came,
    /// except a repeat of the latest firing entry of an alert.
    seq: u64,
    /// The alert's fingerprint (inside `text` too, so it never decides order).
    fingerprint: u64,
}

/// The entries of the report, sorted, at most `max` of them.
#[derive(Debug)]
struct Window {
    max: usize,
    entries: BTreeSet<Arc<Entry>>,
    /// For each alert (by fingerprint) whose latest entry says firing, that
    /// entry: it is not evicted while the alert fires.
    firing: HashMap<u64, Arc<Entry>>,
    next_seq: u64,
}

impl Entry {
    /// `None` when `value` is not an object.
    fn new(value: &serde_json::Value) -> Option<Self> {
        let object = value.as_object()?;
        let text = |key: &str| {
            object
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let mut line = String::with_capacity(512);
        for key in ["timestamp", "type", "series", "state"] {
            line.push_str(&text(key).replace('\0', ""));
            line.push('\0');
        }
        line.push_str(&value.to_string());
        Some(Self {
            text: line.into_boxed_str(),
            seq: 0,
            fingerprint: u64::from_str_radix(&text("fingerprint"), 16).unwrap_or(0),
        })
    }

    /// The entry of `alert` in `shape` (in full, without an intermediate
    /// JSON value).
    fn of_alert(alert: &crate::event::Alert, shape: &Shape) -> Self {
        let mut line = String::with_capacity(512);
        let timestamp = crate::event::format_timestamp(alert.timestamp);
        for part in [
            &*timestamp,
            &alert.kind,
            &alert.series.name,
            alert.state.as_str(),
        ] {
            line.extend(part.chars().filter(|c| *c != '\0'));
            line.push('\0');
        }
        shape.write(alert, &mut line);
        Self {
            text: line.into_boxed_str(),
            seq: 0,
            fingerprint: alert.fingerprint(),
        }
    }

    /// The alert's JSON.
    fn json(&self) -> &str {
        self.text.rsplit('\0').next().unwrap_or_default()
    }

    /// Whether the alert fires.
    fn is_firing(&self) -> bool {
        self.text.split('\0').nth(3) == Some("firing")
    }
}

impl Window {
    fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            entries: BTreeSet::new(),
            firing: HashMap::new(),
            next_seq: 0,
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    /// Add an entry; returns false when it was there already. Evicts down to
    /// `max`; `evicted` counts what went, and firing entries among them.
    fn insert(&mut self, mut entry: Entry, evicted: &mut (usize, usize)) -> bool {
        // The same firing again, word for word (an alert stage announcing
        // after a restart what still fires): the report holds it already.
        if entry.fingerprint != 0
            && entry.is_firing()
            && self
                .firing
                .get(&entry.fingerprint)
                .is_some_and(|firing| firing.text == entry.text)
        {
            return false;
        }
        entry.seq = self.next_seq;
        self.next_seq += 1;
        let entry = Arc::new(entry);
        if !self.entries.insert(Arc::clone(&entry)) {
            return false;
        }
        if entry.fingerprint != 0 {
            if entry.is_firing() {
                self.firing.insert(entry.fingerprint, Arc::clone(&entry));
            } else {
                self.firing.remove(&entry.fingerprint);
            }
        }
        while self.entries.len() > self.max {
            let protected = |e: &Arc<Entry>| {
                self.firing
                    .get(&e.fingerprint)
                    .is_some_and(|firing| Arc::ptr_eq(firing, e))
            };
            let victim = self
                .entries
                .iter()
                .find(|e| !protected(e))
                .or_else(|| self.entries.first())
                .map(Arc::clone);
            let Some(victim) = victim else { break };
            if protected(&victim) {
                evicted.1 += 1;
            }
            self.entries.remove(&victim);
            if self
                .firing
                .get(&victim.fingerprint)
                .is_some_and(|firing| Arc::ptr_eq(firing, &victim))
            {
                self.firing.remove(&victim.fingerprint);
            }
            evicted.0 += 1;
        }
        true
    }
}

impl ReportSink {
    /// Create the parent directories, load an existing report (or move an
    /// unreadable one aside), and write the report once, which proves the
    /// directory is writable.
    ///
    /// # Errors
    /// When the directory cannot be created, the existing report cannot be
    /// read or moved aside, or the report cannot be written.
    async fn build(config: &ReportConfig, ctx: SinkContext) -> Result<Self, SinkError> {
        let path = absolute(&config.path);
        create_parent(&path).await?;
        let mut window = Window::new(config.max_alerts);
        let mut evicted = (0, 0);
        for entry in load(&path).await? {
            window.insert(entry, &mut evicted);
        }
        let mut sink = Self {
            name: ctx.name,
            path,
            interval: config.interval,
            shape: Shape::of(config),
            window,
            unwritten: Vec::new(),
            unwritten_alerts: 0,
        };
        sink.write().await?;
        Ok(sink)
    }

    /// `report   /abs/path/anomaly_report.json`.
    fn describe(&self) -> String {
        banner("report", self.path.display())
    }

    /// Collect alerts until `input` closes, writing the report every
    /// `interval` when it changed; write it a last time before returning.
    ///
    /// # Errors
    /// When the final write fails. A failed periodic write is reported and
    /// retried at the next interval; its batches stay unacknowledged.
    async fn run(mut self, mut input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        let start = tokio::time::Instant::now() + self.interval;
        let mut ticker =
            tokio::time::interval_at(start, self.interval.max(Duration::from_millis(1)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut changed = false;
        loop {
            tokio::select! {
                batch = input.recv() => {
                    let Some(batch) = batch else { break };
                    EventsReceived { component: &self.name, count: batch.len(), bytes: 0 }.emit();
                    changed |= self.add(&batch);
                }
                _ = ticker.tick(), if changed || !self.unwritten.is_empty() => {
                    match self.write().await {
                        Ok(()) => changed = false,
                        Err(error) => {
                            // Retried at the next tick; degraded in /health meanwhile.
                            let error = super::chain(&error);
                            SinkRetrying { component: &self.name, error: &error, backoff: self.interval }.emit();
                        }
                    }
                }
            }
        }
        if let Err(error) = self.write().await {
            for delivery in self.unwritten.drain(..) {
                delivery.fail();
            }
            return Err(error);
        }
        Ok(())
    }

    /// Take the alerts of `batch` into the window; whether it changed.
    fn add(&mut self, batch: &SharedBatch) -> bool {
        let mut changed = false;
        let mut evicted = (0, 0);
        for alert in &batch.alerts {
            if self.shape.states.contains(&alert.state) {
                let entry = Entry::of_alert(alert, &self.shape);
                changed |= self.window.insert(entry, &mut evicted);
            }
        }
        if evicted.0 > 0 {
            ReportEvicted {
                component: &self.name,
                count: evicted.0,
                firing: evicted.1,
                max: self.window.max,
            }
            .emit();
        }
        if batch.delivery.is_tracked() {
            self.unwritten.push(batch.delivery.clone());
        }
        self.unwritten_alerts += batch.alerts.len();
        changed
    }

    /// Replace the report with the window's entries; then acknowledge what
    /// it holds.
    async fn write(&mut self) -> Result<(), SinkError> {
        let contents = render(
            self.window.entries.iter().map(|e| e.json()),
            self.window.len(),
        );
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&path, contents.as_bytes()))
            .await?
            .map_err(|source| SinkError::Write {
                path: self.path.clone(),
                source,
            })?;
        EventsDelivered {
            component: &self.name,
            count: std::mem::take(&mut self.unwritten_alerts),
        }
        .emit();
        self.unwritten.clear();
        Ok(())
    }
}

/// The report a fresh report sink would write after `batch`: for tests that
/// feed sinks arbitrary batches.
impl super::Sink for ReportConfig {
    type Running = ReportSink;

    async fn build(&self, ctx: SinkContext) -> Result<ReportSink, SinkError> {
        ReportSink::build(self, ctx).await
    }
}

impl super::RunningSink for ReportSink {
    fn describe(&self) -> String {
        ReportSink::describe(self)
    }

    async fn run(self, input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        ReportSink::run(self, input).await
    }
}

#[cfg(test)]
pub(crate) fn render_alerts(batch: &crate::event::Batch) -> String {
    let shape = Shape {
        fields: None,
        states: Vec::new(),
        severity_case: SeverityCase::Lower,
    };
    let entries: Vec<Entry> = batch
        .alerts
        .iter()
        .map(|alert| Entry::of_alert(alert, &shape))
        .collect();
    render(entries.iter().map(Entry::json), entries.len())
}

/// The report text: one object per line, so a diff shows the alerts that
/// changed.
fn render<'a>(entries: impl Iterator<Item = &'a str>, count: usize) -> String {
    if count == 0 {
        return "[]\n".to_owned();
    }
    let mut out = String::with_capacity(count * 256 + 4);
    out.push_str("[\n");
    for (i, json) in entries.enumerate() {
        out.push_str("  ");
        out.push_str(json);
        out.push_str(if i + 1 < count { ",\n" } else { "\n" });
    }
    out.push_str("]\n");
    out
}

/// The entries of an existing report; none when there is no report yet or it
/// was unreadable and moved aside.
async fn load(path: &Path) -> Result<Vec<Entry>, SinkError> {
    let bytes = match tokio::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(SinkError::Open {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let parsed = serde_json::from_slice::<Vec<serde_json::Value>>(&bytes)
        .map_err(|error| error.to_string())
        .and_then(|values| {
            values
                .iter()
                .map(|value| {
                    Entry::new(value).ok_or_else(|| "an element is not an object".to_owned())
                })
                .collect::<Result<Vec<_>, _>>()
        });
    match parsed {
        Ok(entries) => Ok(entries),
        Err(reason) => {
            let aside = {
                let path = path.to_path_buf();
                tokio::task::spawn_blocking(move || crate::state::move_aside(&path)).await?
            }
            .map_err(|source| SinkError::Open {
                path: path.to_path_buf(),
                source,
            })?;
            tracing::warn!(
                report = %path.display(),
                moved_to = %aside.display(),
                "the existing report is not a JSON array of alerts ({reason}); starting a new one"
            );
            Ok(Vec::new())
        }
    }
}

/// Replace `path` with `contents` so that readers see the old file or the new
/// one, never a part: write a temp file next to it, sync it, rename it over.
pub(crate) fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(path.file_name().unwrap_or_default());
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = dir.join(temp_name);
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        // Make the rename itself durable; not every platform can sync a directory.
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::*;
    use crate::event::{Alert, AlertState, Batch, Series, Severity};

    fn alert(seconds: i64, kind: &str, series: &str, state: AlertState) -> Alert {
        Alert {
            raised: foghorn_model::Alert {
                timestamp: seconds * 1_000_000_000,
                kind: kind.into(),
                severity: Severity::Warning,
                state,
                series: Series::new(series),
                labels: Vec::new(),
                value: None,
                score: None,
                description: format!("{kind} on {series}"),
            },
            component: "detect".into(),
            plugin: "builtin:threshold".into(),
        }
    }

    fn alerts(alerts: Vec<Alert>) -> SharedBatch {
        Arc::new(Batch {
            component: "detect".into(),
            alerts,
            ..Batch::default()
        })
    }

    async fn build(path: &Path, interval: Duration) -> ReportSink {
        build_with(path, interval, "{}").await
    }

    /// A report at `path` with the shape settings of `shape` (JSON).
    async fn build_with(path: &Path, interval: Duration, shape: &str) -> ReportSink {
        let mut config: serde_json::Value = serde_json::from_str(shape).unwrap();
        config["path"] = path.to_str().unwrap().into();
        config["interval"] = format!("{}ms", interval.as_millis()).into();
        let config: ReportConfig = serde_json::from_value(config).unwrap();
        let ctx = SinkContext {
            name: "report-test".into(),
            data_dir: path.to_path_buf(),
            shutdown: tokio_util::sync::CancellationToken::new(),
        };
        ReportSink::build(&config, ctx).await.unwrap()
    }

    async fn run(sink: ReportSink, batches: Vec<SharedBatch>) {
        let (tx, rx) = mpsc::channel(16);
        let running = tokio::spawn(sink.run(rx));
        for batch in batches {
            tx.send(batch).await.unwrap();
        }
        drop(tx);
        running.await.unwrap().unwrap();
    }

    fn read(path: &Path) -> Vec<serde_json::Value> {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    fn summary(report: &[serde_json::Value]) -> Vec<String> {
        report
            .iter()
            .map(|a| {
                format!(
                    "{} {} {} {}",
                    a["timestamp"], a["type"], a["series"], a["state"]
                )
            })
            .map(|s| s.replace('"', ""))
            .collect()
    }

    #[tokio::test]
    async fn a_shaped_report_keeps_the_fields_states_and_case_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anomaly_report.json");
        let shape = r#"{ "fields": ["timestamp", "type", "severity", "description"],
                         "states": ["firing"], "severity_case": "upper" }"#;
        let sink = build_with(&path, Duration::from_secs(3600), shape).await;
        run(
            sink,
            vec![alerts(vec![
                alert(2, "HEARTBEAT_LOSS", "dev", AlertState::Firing),
                alert(1, "THRESHOLD_BREACH_TEMP", "dev", AlertState::Firing),
                alert(3, "THRESHOLD_BREACH_TEMP", "dev", AlertState::Resolved),
            ])],
        )
        .await;
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        assert_eq!(
            lines,
            [
                "[",
                r#"{"timestamp":"1970-01-01T00:00:01.000Z","type":"THRESHOLD_BREACH_TEMP","severity":"WARNING","description":"THRESHOLD_BREACH_TEMP on dev"},"#,
                r#"{"timestamp":"1970-01-01T00:00:02.000Z","type":"HEARTBEAT_LOSS","severity":"WARNING","description":"HEARTBEAT_LOSS on dev"}"#,
                "]"
            ],
            "only firing alerts, four keys in order, upper-case severity"
        );
        // A restart continues the shaped report.
        let sink = build_with(&path, Duration::from_secs(3600), shape).await;
        run(
            sink,
            vec![alerts(vec![alert(4, "X", "dev", AlertState::Firing)])],
        )
        .await;
        let report = read(&path);
        assert_eq!(report.len(), 3);
        assert_eq!(report[2]["type"], "X");
        assert_eq!(report[0].as_object().unwrap().len(), 4);
    }

    #[tokio::test]
    async fn alerts_are_sorted_whatever_the_arrival_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reports/nested/anomaly_report.json");
        let sink = build(&path, Duration::from_secs(3600)).await;
        assert_eq!(
            read(&path),
            Vec::<serde_json::Value>::new(),
            "written empty at build"
        );
        assert!(sink.describe().starts_with("report   /"));
        // Two processors whose batches interleave.
        let batches = vec![
            alerts(vec![alert(3, "zscore", "a", AlertState::Firing)]),
            alerts(vec![
                alert(2, "threshold", "b", AlertState::Resolved),
                alert(2, "threshold", "b", AlertState::Firing),
            ]),
            alerts(vec![alert(2, "rate_of_change", "b", AlertState::Firing)]),
            alerts(vec![alert(1, "threshold", "z", AlertState::Firing)]),
            alerts(vec![alert(2, "threshold", "a", AlertState::Firing)]),
        ];
        run(sink, batches).await;
        assert_eq!(
            summary(&read(&path)),
            [
                "1970-01-01T00:00:01.000Z threshold z firing",
                "1970-01-01T00:00:02.000Z rate_of_change b firing",
                "1970-01-01T00:00:02.000Z threshold a firing",
                "1970-01-01T00:00:02.000Z threshold b firing",
                "1970-01-01T00:00:02.000Z threshold b resolved",
                "1970-01-01T00:00:03.000Z zscore a firing",
            ]
        );
    }

    #[tokio::test]
    async fn writes_periodically_and_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anomaly_report.json");
        let sink = build(&path, Duration::from_millis(20)).await;
        let (tx, rx) = mpsc::channel(16);
        let running = tokio::spawn(sink.run(rx));
        tx.send(alerts(vec![alert(1, "threshold", "a", AlertState::Firing)]))
            .await
            .unwrap();
        let mut written = Vec::new();
        for _ in 0..200 {
            written = read(&path);
            if !written.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(written.len(), 1, "written before shutdown");
        assert_eq!(written[0]["description"], "threshold on a");
        drop(tx);
        running.await.unwrap().unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            ["anomaly_report.json"],
            "no temp file is left behind"
        );
    }

    #[test]
    fn readers_never_see_a_partial_report() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anomaly_report.json");
        let versions = [vec![b'a'; 4 << 20], vec![b'b'; 4 << 20]];
        write_atomically(&path, &versions[0]).unwrap();
        std::thread::scope(|scope| {
            let writer = scope.spawn(|| {
                for i in 0..8 {
                    write_atomically(&path, &versions[i % 2]).unwrap();
                }
            });
            while !writer.is_finished() {
                let seen = std::fs::read(&path).unwrap();
                assert!(
                    seen == versions[0] || seen == versions[1],
                    "read {} bytes",
                    seen.len()
                );
            }
        });
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["anomaly_report.json"]);
    }

    #[tokio::test]
    async fn a_restart_continues_the_report() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anomaly_report.json");
        let first = build(&path, Duration::from_secs(3600)).await;
        run(
            first,
            vec![alerts(vec![alert(5, "threshold", "a", AlertState::Firing)])],
        )
        .await;
        let second = build(&path, Duration::from_secs(3600)).await;
        assert_eq!(read(&path).len(), 1, "building again keeps the report");
        run(
            second,
            vec![alerts(vec![alert(4, "zscore", "a", AlertState::Firing)])],
        )
        .await;
        assert_eq!(
            summary(&read(&path)),
            [
                "1970-01-01T00:00:04.000Z zscore a firing",
                "1970-01-01T00:00:05.000Z threshold a firing"
            ]
        );
    }

    #[tokio::test]
    async fn a_firing_alert_announced_again_after_a_restart_is_one_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anomaly_report.json");
        let firing = || alert(5, "threshold", "a", AlertState::Firing);
        let first = build(&path, Duration::from_secs(3600)).await;
        run(first, vec![alerts(vec![firing()])]).await;
        let second = build(&path, Duration::from_secs(3600)).await;
        run(
            second,
            vec![alerts(vec![
                firing(),
                alert(6, "threshold", "a", AlertState::Resolved),
            ])],
        )
        .await;
        assert_eq!(
            summary(&read(&path)),
            [
                "1970-01-01T00:00:05.000Z threshold a firing",
                "1970-01-01T00:00:06.000Z threshold a resolved"
            ]
        );
        // Once resolved, the same firing again is news.
        let third = build(&path, Duration::from_secs(3600)).await;
        run(third, vec![alerts(vec![firing()])]).await;
        assert_eq!(read(&path).len(), 3);
    }

    #[tokio::test]
    async fn an_unreadable_report_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anomaly_report.json");
        std::fs::write(&path, "{\"not\": \"an array\"").unwrap();
        let sink = build(&path, Duration::from_secs(3600)).await;
        run(
            sink,
            vec![alerts(vec![alert(1, "threshold", "a", AlertState::Firing)])],
        )
        .await;
        assert_eq!(read(&path).len(), 1);
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("anomaly_report.json.corrupt-"))
            .collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(
            std::fs::read_to_string(&aside[0]).unwrap(),
            "{\"not\": \"an array\""
        );
    }

    #[tokio::test]
    async fn the_window_keeps_the_newest_and_every_firing_alert() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anomaly_report.json");
        let mut sink = build(&path, Duration::from_secs(3600)).await;
        sink.window = Window::new(3);
        // `a` fires first and never resolves; a storm of `b` follows.
        let mut batches = vec![alerts(vec![alert(1, "threshold", "a", AlertState::Firing)])];
        for second in 2..1000 {
            let state = if second % 2 == 0 {
                AlertState::Firing
            } else {
                AlertState::Resolved
            };
            batches.push(alerts(vec![alert(second, "threshold", "b", state)]));
        }
        run(sink, batches).await;
        assert_eq!(
            summary(&read(&path)),
            [
                "1970-01-01T00:00:01.000Z threshold a firing",
                "1970-01-01T00:16:38.000Z threshold b firing",
                "1970-01-01T00:16:39.000Z threshold b resolved",
            ],
            "the firing `a` outlives 997 newer entries"
        );
    }

    #[tokio::test]
    async fn a_batch_is_acknowledged_only_once_the_report_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anomaly_report.json");
        let sink = build(&path, Duration::from_secs(3600)).await;
        let mut acks = crate::delivery::Acks::new();
        let (tx, rx) = mpsc::channel(16);
        let running = tokio::spawn(sink.run(rx));
        let mut batch = Batch {
            component: "detect".into(),
            alerts: vec![alert(1, "threshold", "a", AlertState::Firing)],
            ..Batch::default()
        };
        batch.delivery = acks.track(crate::delivery::Mark {
            stream: 0,
            offset: 7,
        });
        tx.send(Arc::new(batch)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            acks.collect(),
            None,
            "received, not yet written (interval 1h)"
        );
        assert!(read(&path).is_empty());
        drop(tx);
        running.await.unwrap().unwrap();
        assert_eq!(read(&path).len(), 1);
        assert_eq!(acks.settle().await.map(|m| m.offset), Some(7));
    }
}
