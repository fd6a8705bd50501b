//! The Prometheus sink: `GET /metrics` and `GET /health` over HTTP.
//!
//! The listener is bound in [`PrometheusSink::build`], so a taken port fails
//! start-up; [`PrometheusSink::run`] serves until its input closes, then shuts
//! the server down gracefully. `run` folds every batch into an in-memory
//! state: the last value of every numeric point field as a gauge
//! `<series>_<field>{<tags>}`, a counter `foghorn_alerts_total{type, severity,
//! state}` and a gauge `foghorn_alert_firing{type, series, component}` plus
//! the alert's own labels (1 while an alert fires, 0 once resolved). A custom
//! [`Collector`] turns that state into metric families at scrape time, and the
//! exposition merges them with the agent's own registry
//! ([`crate::internal::metrics`]).
//!
//! # Memory bound
//!
//! Data and alerts have separate budgets from [`PrometheusConfig`], so noisy
//! data can neither evict nor block an alert series:
//!
//! - at most `max_series` data gauges (default 10000);
//! - at most `max_alert_series` firing gauges (default 1000), and as many
//!   `foghorn_alerts_total` counters (a few per alert type in practice).
//!
//! So the state holds at most `max_series + 2 * max_alert_series` entries.
//! Measured with short labels, a data gauge with two tags takes about 300
//! bytes, a firing gauge about 600 bytes and a counter about 100 bytes; long
//! label values add their length. The defaults come to about 3.6 MB. A new
//! series past its budget is dropped and counted as [`ItemsRejected`] in
//! `foghorn_component_errors_total{reason}`: `cardinality_limit` for data,
//! `alert_cardinality_limit` for alerts. Series already held keep updating.
//!
//! # Expiry
//!
//! Every 30 seconds and at each scrape, a data gauge or the firing
//! gauge of a resolved alert not updated for [`STALENESS`] is dropped. The
//! firing gauge of an alert that still fires stays while the alert keeps
//! arriving, and is dropped once it has not been received for
//! `firing_max_age` (default 24h), counted as [`ItemsRejected`] with
//! `reason="alert_expired"`, so an alert that is never resolved does not hold
//! its slot forever. Counters never expire.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

pub(super) mod config;

use ::prometheus::core::{Collector, Desc};
use ::prometheus::proto::{Counter, Gauge, LabelPair, Metric, MetricFamily, MetricType};
use ::prometheus::{Encoder, Registry, TextEncoder};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::mpsc::Receiver;
use tokio_util::sync::CancellationToken;

use self::config::PrometheusConfig;
use super::{SinkContext, SinkError, banner};
use crate::event::{Alert, AlertState, Batch, Points, SharedBatch};
use crate::internal::events::{ComponentError, EventsReceived, ItemsRejected};
use crate::internal::metrics::metrics;

/// A data gauge or resolved alert not updated for this long is no longer
/// exported.
pub const STALENESS: Duration = Duration::from_secs(10 * 60);

/// How often stale gauges are swept when nobody scrapes.
const SWEEP_INTERVAL: Duration = Duration::from_secs(30);

/// How long in-flight scrapes may take once the sink shuts down.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

const ALERTS_TOTAL: &str = "foghorn_alerts_total";
const ALERT_FIRING: &str = "foghorn_alert_firing";

/// `reason` of a new data gauge dropped past `max_series`.
const DATA_LIMIT: &str = "cardinality_limit";
/// `reason` of a new alert series dropped past `max_alert_series`.
const ALERT_LIMIT: &str = "alert_cardinality_limit";
/// `reason` of a firing gauge dropped after `firing_max_age`.
const ALERT_EXPIRED: &str = "alert_expired";

/// A bound `/metrics` endpoint and the state it exports.
#[derive(Debug)]
pub struct PrometheusSink {
    name: Arc<str>,
    listener: TcpListener,
    local_addr: SocketAddr,
    state: Arc<Mutex<ExportState>>,
    registry: Registry,
}

impl PrometheusSink {
    /// Bind the listener and set up the sink's registry.
    ///
    /// # Errors
    /// When the address cannot be bound.
    async fn build(config: &PrometheusConfig, ctx: SinkContext) -> Result<Self, SinkError> {
        let addr = config.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SinkError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| SinkError::Bind { addr, source })?;
        let state = Arc::new(Mutex::new(ExportState::new(config)));
        let registry = Registry::new();
        registry
            .register(Box::new(SinkCollector::new(
                ctx.name.clone(),
                state.clone(),
            )))
            .expect("a fresh registry accepts the sink collector");
        Ok(Self {
            name: ctx.name,
            listener,
            local_addr,
            state,
            registry,
        })
    }

    /// The address actually bound (the real port when configured with 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `metrics  http://127.0.0.1:9598/metrics`.
    fn describe(&self) -> String {
        banner(
            "metrics",
            format_args!("http://{}/metrics", self.local_addr),
        )
    }

    /// Serve and fold batches into the exported state until `input` closes,
    /// then stop the server, letting in-flight scrapes finish.
    ///
    /// # Errors
    /// When the server fails or its task panics.
    async fn run(self, mut input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        let shutdown = CancellationToken::new();
        let app = router(self.registry.clone());
        let stop = shutdown.clone();
        let mut server = tokio::spawn(async move {
            axum::serve(self.listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
        });

        let mut sweep = tokio::time::interval(SWEEP_INTERVAL);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                batch = input.recv() => {
                    let Some(batch) = batch else { break };
                    EventsReceived { component: &self.name, count: batch.len(), bytes: 0 }.emit();
                    let dropped = lock(&self.state).observe(&batch, Instant::now());
                    dropped.data.emit(&self.name, DATA_LIMIT);
                    dropped.alerts.emit(&self.name, ALERT_LIMIT);
                }
                _ = sweep.tick() => {
                    let expired = lock(&self.state).expire(Instant::now());
                    expired.emit(&self.name, ALERT_EXPIRED);
                }
            }
        }

        shutdown.cancel();
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
            Ok(joined) => joined?.map_err(SinkError::Serve),
            Err(_) => {
                server.abort();
                let error = "in-flight scrapes did not finish in time; closed them";
                ComponentError {
                    component: &self.name,
                    reason: "shutdown_timeout",
                    error: &error,
                }
                .emit();
                Ok(())
            }
        }
    }
}

fn lock(state: &Mutex<ExportState>) -> std::sync::MutexGuard<'_, ExportState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn router(registry: Registry) -> Router {
    Router::new()
        .route("/metrics", get(serve_metrics))
        .route("/health", get(crate::internal::api::serve_health))
        .with_state(registry)
}

async fn serve_metrics(State(registry): State<Registry>) -> Response {
    let families = merge(metrics().registry.gather(), registry.gather());
    let encoder = TextEncoder::new();
    let mut body = Vec::new();
    match encoder.encode(&families, &mut body) {
        Ok(()) => (
            [(header::CONTENT_TYPE, encoder.format_type().to_owned())],
            body,
        )
            .into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// The agent's families and the sink's, sorted by name; on a name clash the
/// agent's family wins and the sink's is left out.
fn merge(mut internal: Vec<MetricFamily>, own: Vec<MetricFamily>) -> Vec<MetricFamily> {
    let taken: HashSet<String> = internal.iter().map(|f| f.name().to_owned()).collect();
    internal.extend(own.into_iter().filter(|f| !taken.contains(f.name())));
    internal.sort_by(|a, b| a.name().cmp(b.name()));
    internal
}

/// Replace every character outside `[a-zA-Z0-9_:]` with `_`, and prefix `_`
/// when the name starts with a digit, so it matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn sanitize_metric_name(name: &str) -> String {
    sanitize(name, true)
}

/// As [`sanitize_metric_name`], without `:`, which label names may not use.
pub fn sanitize_label_name(name: &str) -> String {
    sanitize(name, false)
}

fn sanitize(name: &str, colon: bool) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.extend(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':') {
            c
        } else {
            '_'
        }
    }));
    out
}

/// Sorted, sanitized label pairs; when two keys sanitize to the same name
/// the first one is kept, and names Prometheus reserves (`__*`) are left
/// out, so a scrape never sees a label twice.
type Labels = Vec<(String, String)>;

fn labels_of(tags: &[(String, String)]) -> Labels {
    let mut labels: Labels = tags
        .iter()
        .map(|(k, v)| (sanitize_label_name(k), v.clone()))
        .filter(|(k, _)| !k.starts_with("__"))
        .collect();
    labels.sort_by(|a, b| a.0.cmp(&b.0));
    labels.dedup_by(|later, earlier| later.0 == earlier.0);
    labels
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    value: f64,
    updated: Instant,
}

#[derive(Debug)]
struct FiringAlert {
    kind: String,
    series: String,
    component: String,
    /// The alert's own labels (`field=temperature`), names sanitized.
    labels: Vec<(String, String)>,
    firing: bool,
    updated: Instant,
}

impl FiringAlert {
    fn new(alert: &Alert, now: Instant) -> Self {
        Self {
            kind: alert.kind.clone(),
            series: alert.series.to_string(),
            component: alert.component.to_string(),
            labels: labels_of(&alert.labels)
                .into_iter()
                .filter(|(k, _)| !matches!(k.as_str(), "type" | "series" | "component"))
                .collect(),
            firing: alert.state == AlertState::Firing,
            updated: now,
        }
    }

    /// `foghorn_alert_firing{type=threshold,series=...,component=detect}`,
    /// for logs.
    fn describe(&self) -> String {
        format!(
            "{ALERT_FIRING}{{type={},series={},component={}}}",
            self.kind, self.series, self.component
        )
    }
}

/// New series dropped for a budget, or firing gauges dropped for their age.
#[derive(Debug, Default)]
struct Rejected {
    count: usize,
    example: Option<String>,
}

impl Rejected {
    fn add(&mut self, what: impl FnOnce() -> String) {
        self.count += 1;
        if self.example.is_none() {
            self.example = Some(what());
        }
    }

    /// Count and log them as [`ItemsRejected`], if there are any.
    fn emit(&self, component: &str, reason: &str) {
        if let Some(example) = &self.example {
            ItemsRejected {
                component,
                reason,
                count: self.count,
                example,
            }
            .emit();
        }
    }
}

/// What [`ExportState::observe`] dropped, by budget.
#[derive(Debug, Default)]
struct Dropped {
    /// New data gauges past `max_series`.
    data: Rejected,
    /// New firing gauges and alert counters past `max_alert_series`.
    alerts: Rejected,
}

/// The bounds [`ExportState`] keeps, from [`PrometheusConfig`].
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_series: usize,
    max_alert_series: usize,
    firing_max_age: Duration,
}

/// What the sink exports, updated by `run` and read at scrape time.
#[derive(Debug)]
struct ExportState {
    limits: Limits,
    /// Gauge family name → label set → last value.
    gauges: HashMap<String, HashMap<Labels, Sample>>,
    /// Data gauges held: every label set in `gauges`, at most `max_series`.
    data_series: usize,
    /// (type, severity, state) → alerts received; at most `max_alert_series`
    /// keys.
    alerts_total: BTreeMap<(String, &'static str, &'static str), u64>,
    /// Alert fingerprint → its firing gauge; at most `max_alert_series`.
    firing: HashMap<u64, FiringAlert>,
}

impl ExportState {
    fn new(config: &PrometheusConfig) -> Self {
        Self {
            limits: Limits {
                max_series: config.max_series,
                max_alert_series: config.max_alert_series,
                firing_max_age: config.firing_max_age,
            },
            gauges: HashMap::new(),
            data_series: 0,
            alerts_total: BTreeMap::new(),
            firing: HashMap::new(),
        }
    }

    /// Fold a batch in; new series past their budget are dropped and
    /// returned, data and alerts apart.
    fn observe(&mut self, batch: &Batch, now: Instant) -> Dropped {
        let mut dropped = Dropped::default();
        self.observe_points(&batch.points, now, &mut dropped.data);
        for alert in &batch.alerts {
            self.count_alert(alert, &mut dropped.alerts);
            self.observe_alert(alert, now, &mut dropped.alerts);
        }
        dropped
    }

    fn observe_points(&mut self, points: &Points, now: Instant, rejected: &mut Rejected) {
        let mut labels_by_series: Vec<Option<Labels>> = vec![None; points.series.len()];
        for point in points.iter() {
            let series = point.series();
            let labels = labels_by_series[point.series_index()]
                .get_or_insert_with(|| labels_of(&series.tags));
            for (field, value) in point.fields() {
                let Some(value) = value.as_f64() else {
                    continue;
                };
                let name = sanitize_metric_name(&format!("{}_{field}", series.name));
                let sample = Sample {
                    value,
                    updated: now,
                };
                if let Some(existing) = self
                    .gauges
                    .get_mut(&name)
                    .and_then(|family| family.get_mut(labels.as_slice()))
                {
                    *existing = sample;
                } else if self.data_series < self.limits.max_series {
                    self.gauges
                        .entry(name)
                        .or_default()
                        .insert(labels.clone(), sample);
                    self.data_series += 1;
                } else {
                    rejected.add(|| name);
                }
            }
        }
    }

    /// Count the alert in `foghorn_alerts_total`.
    fn count_alert(&mut self, alert: &Alert, rejected: &mut Rejected) {
        let key = (
            alert.kind.clone(),
            alert.severity.as_str(),
            alert.state.as_str(),
        );
        if let Some(count) = self.alerts_total.get_mut(&key) {
            *count += 1;
        } else if self.alerts_total.len() < self.limits.max_alert_series {
            self.alerts_total.insert(key, 1);
        } else {
            rejected.add(|| {
                format!(
                    "{ALERTS_TOTAL}{{type={},severity={},state={}}}",
                    key.0, key.1, key.2
                )
            });
        }
    }

    /// Set the alert's firing gauge, 1 while it fires and 0 once resolved.
    fn observe_alert(&mut self, alert: &Alert, now: Instant, rejected: &mut Rejected) {
        let fingerprint = alert.fingerprint();
        if let Some(existing) = self.firing.get_mut(&fingerprint) {
            existing.firing = alert.state == AlertState::Firing;
            existing.updated = now;
        } else if self.firing.len() < self.limits.max_alert_series {
            self.firing
                .insert(fingerprint, FiringAlert::new(alert, now));
        } else {
            rejected.add(|| FiringAlert::new(alert, now).describe());
        }
    }

    /// Drop data gauges and resolved alerts not updated for [`STALENESS`],
    /// and the firing gauges of alerts not received for `firing_max_age`;
    /// returns the firing gauges dropped.
    fn expire(&mut self, now: Instant) -> Rejected {
        self.expire_data(now);
        self.expire_alerts(now)
    }

    fn expire_data(&mut self, now: Instant) {
        for family in self.gauges.values_mut() {
            family.retain(|_, sample| now.saturating_duration_since(sample.updated) < STALENESS);
        }
        self.gauges.retain(|_, family| !family.is_empty());
        self.data_series = self.gauges.values().map(HashMap::len).sum();
    }

    fn expire_alerts(&mut self, now: Instant) -> Rejected {
        let mut expired = Rejected::default();
        let firing_max_age = self.limits.firing_max_age;
        self.firing.retain(|_, alert| {
            let age = now.saturating_duration_since(alert.updated);
            if !alert.firing {
                return age < STALENESS;
            }
            let keep = age < firing_max_age;
            if !keep {
                expired.add(|| alert.describe());
            }
            keep
        });
        expired
    }

    fn families(&self, alerts_help: &str, firing_help: &str) -> Vec<MetricFamily> {
        let mut families = Vec::with_capacity(self.gauges.len() + 2);
        let totals = self
            .alerts_total
            .iter()
            .map(|((kind, severity, state), count)| {
                #[allow(
                    clippy::cast_precision_loss,
                    reason = "counters are f64 in the exposition"
                )]
                let value = *count as f64;
                let mut counter = Counter::default();
                counter.set_value(value);
                let mut metric =
                    metric(&[("type", kind), ("severity", severity), ("state", state)]);
                metric.set_counter(counter);
                metric
            });
        families.push(family(
            ALERTS_TOTAL,
            alerts_help,
            MetricType::COUNTER,
            totals.collect(),
        ));
        let firing = self.firing.values().map(|alert| {
            let mut labels = vec![
                ("type", &*alert.kind),
                ("series", &*alert.series),
                ("component", &*alert.component),
            ];
            labels.extend(alert.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            gauge(metric(&labels), if alert.firing { 1.0 } else { 0.0 })
        });
        families.push(family(
            ALERT_FIRING,
            firing_help,
            MetricType::GAUGE,
            firing.collect(),
        ));
        for (name, samples) in &self.gauges {
            if name == ALERTS_TOTAL || name == ALERT_FIRING {
                continue;
            }
            let samples = samples.iter().map(|(labels, sample)| {
                let labels: Vec<(&str, &str)> = labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                gauge(metric(&labels), sample.value)
            });
            let help = "Last value of a numeric point field.";
            families.push(family(name, help, MetricType::GAUGE, samples.collect()));
        }
        families
    }
}

/// The exposition a scrape would get after `batch`: for tests that feed
/// sinks arbitrary batches.
impl super::Sink for PrometheusConfig {
    type Running = PrometheusSink;

    async fn build(&self, ctx: SinkContext) -> Result<PrometheusSink, SinkError> {
        PrometheusSink::build(self, ctx).await
    }

    fn listen(&self) -> Option<std::net::SocketAddr> {
        Some(self.listen)
    }
}

impl super::RunningSink for PrometheusSink {
    fn describe(&self) -> String {
        PrometheusSink::describe(self)
    }

    async fn run(self, input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        PrometheusSink::run(self, input).await
    }
}

#[cfg(test)]
pub(crate) fn expose(batch: &Batch) -> String {
    let mut state = ExportState::new(&PrometheusConfig::default());
    state.observe(batch, Instant::now());
    // As a registry gathers them: families without samples are left out.
    let mut families = state.families("alerts", "firing");
    families.retain(|family| !family.get_metric().is_empty());
    let mut body = Vec::new();
    TextEncoder::new()
        .encode(&families, &mut body)
        .expect("a valid exposition");
    String::from_utf8(body).expect("UTF-8")
}

fn family(name: &str, help: &str, kind: MetricType, metrics: Vec<Metric>) -> MetricFamily {
    let mut family = MetricFamily::default();
    family.set_name(name.to_owned());
    family.set_help(help.to_owned());
    family.set_field_type(kind);
    family.set_metric(metrics);
    family
}

fn metric(labels: &[(&str, &str)]) -> Metric {
    let pairs = labels
        .iter()
        .map(|(name, value)| {
            let mut pair = LabelPair::default();
            pair.set_name((*name).to_owned());
            pair.set_value((*value).to_owned());
            pair
        })
        .collect();
    let mut metric = Metric::default();
    metric.set_label(pairs);
    metric
}

fn gauge(mut metric: Metric, value: f64) -> Metric {
    let mut gauge = Gauge::default();
    gauge.set_value(value);
    metric.set_gauge(gauge);
    metric
}

/// Turns the sink's [`ExportState`] into metric families at scrape time.
struct SinkCollector {
    /// The sink's name, for the firing gauges expired at scrape time.
    name: Arc<str>,
    state: Arc<Mutex<ExportState>>,
    /// The fixed families; gauge families come and go with the points.
    descs: [Desc; 2],
}

impl SinkCollector {
    fn new(name: Arc<str>, state: Arc<Mutex<ExportState>>) -> Self {
        let desc = |name: &str, help: &str, labels: &[&str]| {
            let labels = labels.iter().map(|l| (*l).to_owned()).collect();
            Desc::new(name.to_owned(), help.to_owned(), labels, HashMap::new())
                .expect("valid metric description")
        };
        let descs = [
            desc(
                ALERTS_TOTAL,
                "Alerts received by this sink.",
                &["type", "severity", "state"],
            ),
            desc(
                ALERT_FIRING,
                "1 while an alert fires, 0 once it is resolved.",
                &["type", "series", "component"],
            ),
        ];
        Self { name, state, descs }
    }
}

impl Collector for SinkCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let mut state = lock(&self.state);
        let expired = state.expire(Instant::now());
        let families = state.families(&self.descs[0].help, &self.descs[1].help);
        drop(state);
        expired.emit(&self.name, ALERT_EXPIRED);
        families
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::mpsc;

    use super::*;
    use crate::event::{Alert, AlertState, PointsBuilder, Series, Severity};

    fn alert(kind: &str, state: AlertState) -> Alert {
        Alert {
            raised: foghorn_model::Alert {
                timestamp: 1_700_000_000_000_000_000,
                kind: kind.into(),
                severity: Severity::Critical,
                state,
                series: Series::new("bench_device").with_tag("device", "bench-1"),
                labels: Vec::new(),
                value: Some(95.5),
                score: None,
                description: "hot".into(),
            },
            component: "detect".into(),
            plugin: "builtin:threshold".into(),
        }
    }

    fn batch() -> Batch {
        let mut points = PointsBuilder::new();
        let series = Series::new("bench.device").with_tag("device-id", "bench-1");
        points
            .point(1, &series)
            .field("temperature", 21.0)
            .field("status", "OK");
        points
            .point(2, &series)
            .field("temperature", 95.5)
            .field("ok", true)
            .field("count", 7_i64);
        Batch {
            component: "parse".into(),
            points: points.finish(),
            alerts: vec![alert("threshold", AlertState::Firing)],
            ..Batch::default()
        }
    }

    /// A hand-written HTTP/1.0 GET: the status code and the body.
    async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head.to_owned(), body.to_owned())
    }

    #[tokio::test]
    async fn serves_point_gauges_alert_metrics_and_health() {
        let ctx = SinkContext {
            name: "prom-test".into(),
            data_dir: std::env::temp_dir(),
            shutdown: tokio_util::sync::CancellationToken::new(),
        };
        let config = PrometheusConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..PrometheusConfig::default()
        };
        let sink = crate::sinks::SinkKind::Prometheus(config)
            .build(ctx)
            .await
            .unwrap();
        let crate::sinks::BuiltSink::Prometheus(inner) = &sink else {
            unreachable!()
        };
        let addr = inner.local_addr();
        assert_ne!(addr.port(), 0);
        assert_eq!(sink.describe(), format!("metrics  http://{addr}/metrics"));

        let (tx, rx) = mpsc::channel(4);
        let running = tokio::spawn(sink.run(rx));
        tx.send(Arc::new(batch())).await.unwrap();

        let expected = r#"bench_device_temperature{device_id="bench-1"} 95.5"#;
        let mut body = String::new();
        for _ in 0..100 {
            let (status, head, text) = get(addr, "/metrics").await;
            assert_eq!(status, 200);
            assert!(
                head.to_lowercase()
                    .contains("content-type: text/plain; version=0.0.4"),
                "{head}"
            );
            body = text;
            if body.contains(expected) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(body.contains(expected), "{body}");
        assert!(
            body.contains(r#"bench_device_ok{device_id="bench-1"} 1"#),
            "{body}"
        );
        assert!(
            body.contains(r#"bench_device_count{device_id="bench-1"} 7"#),
            "{body}"
        );
        assert!(
            !body.contains("bench_device_status"),
            "text fields are not exported: {body}"
        );
        assert!(
            body.contains("# TYPE foghorn_alerts_total counter"),
            "{body}"
        );
        assert!(
            body.contains(
                r#"foghorn_alerts_total{type="threshold",severity="critical",state="firing"} 1"#
            ),
            "{body}"
        );
        assert!(
            body.contains(
                r#"foghorn_alert_firing{type="threshold",series="bench_device{device=bench-1}",component="detect"} 1"#
            ),
            "{body}"
        );
        // The agent's own metrics are served next to the sink's, each family once.
        assert!(
            body.contains(r#"foghorn_component_received_events_total{component="prom-test"} 3"#),
            "{body}"
        );
        let types: Vec<&str> = body.lines().filter(|l| l.starts_with("# TYPE ")).collect();
        let unique: HashSet<&str> = types.iter().copied().collect();
        assert_eq!(types.len(), unique.len(), "{body}");

        let (status, _, health) = get(addr, "/health").await;
        let health: serde_json::Value = serde_json::from_str(&health).unwrap();
        assert_eq!((status, &health["status"]), (200, &serde_json::json!("ok")));

        drop(tx);
        tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "the server stopped with the input"
        );
    }

    #[tokio::test]
    async fn a_taken_port_fails_the_build() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = PrometheusConfig {
            listen: taken.local_addr().unwrap(),
            ..PrometheusConfig::default()
        };
        let ctx = SinkContext {
            name: "prom-taken".into(),
            data_dir: std::env::temp_dir(),
            shutdown: tokio_util::sync::CancellationToken::new(),
        };
        let error = PrometheusSink::build(&config, ctx).await.unwrap_err();
        assert!(matches!(error, SinkError::Bind { .. }), "{error:?}");
    }

    #[test]
    fn names_are_sanitized() {
        assert_eq!(
            sanitize_metric_name("bench.device_temp-C"),
            "bench_device_temp_C"
        );
        assert_eq!(sanitize_metric_name("ns:rate"), "ns:rate");
        assert_eq!(sanitize_metric_name("1wire_t"), "_1wire_t");
        assert_eq!(sanitize_label_name("ns:key"), "ns_key");
        assert_eq!(sanitize_label_name(""), "_");
    }

    #[test]
    fn last_value_wins_and_alerts_follow_firing_and_resolved() {
        let mut state = ExportState::new(&PrometheusConfig::default());
        let now = Instant::now();
        state.observe(&batch(), now);
        let samples = &state.gauges["bench_device_temperature"];
        assert_eq!(samples.len(), 1);
        assert_eq!(samples.values().next().unwrap().value, 95.5);
        let resolved = Batch {
            alerts: vec![alert("threshold", AlertState::Resolved)],
            ..Batch::default()
        };
        state.observe(&resolved, now);
        assert!(!state.firing.values().next().unwrap().firing);
        assert_eq!(state.alerts_total.values().sum::<u64>(), 2);
    }

    #[test]
    fn new_series_beyond_the_limit_are_rejected() {
        let config = PrometheusConfig::default();
        let mut state = ExportState::new(&config);
        let batch = flood(config.max_series + 1);
        let dropped = state.observe(&batch, Instant::now());
        assert_eq!(dropped.data.count, 1);
        assert_eq!(dropped.data.example.as_deref(), Some("s_v"));
        assert_eq!(dropped.alerts.count, 0);
        assert_eq!(state.data_series, config.max_series);
        // Known series still update at the limit.
        let dropped = state.observe(&batch, Instant::now());
        assert_eq!(
            (dropped.data.count, state.data_series),
            (1, config.max_series)
        );
    }

    #[test]
    fn stale_series_expire_but_firing_alerts_stay() {
        let mut state = ExportState::new(&PrometheusConfig::default());
        let then = Instant::now();
        state.observe(&batch(), then);
        let resolved = Batch {
            alerts: vec![
                alert("zscore", AlertState::Firing),
                alert("zscore", AlertState::Resolved),
            ],
            ..Batch::default()
        };
        state.observe(&resolved, then);
        assert_eq!(held(&state), (3, 2));
        state.expire(then + STALENESS / 2);
        assert_eq!(held(&state), (3, 2));
        let expired = state.expire(then + STALENESS + Duration::from_secs(1));
        assert!(state.gauges.is_empty());
        assert_eq!(
            held(&state),
            (0, 1),
            "the firing threshold alert stays, the resolved one goes"
        );
        assert_eq!(expired.count, 0, "a resolved alert is not counted");
        assert_eq!(
            state.alerts_total.values().sum::<u64>(),
            3,
            "counters never expire"
        );
    }

    /// A config with these budgets and the default `firing_max_age`.
    fn budgets(max_series: usize, max_alert_series: usize) -> PrometheusConfig {
        PrometheusConfig {
            max_series,
            max_alert_series,
            ..PrometheusConfig::default()
        }
    }

    /// `n` distinct data series `s_v{i="0"}` … `s_v{i="n-1"}`.
    fn flood(n: usize) -> Batch {
        let mut points = PointsBuilder::new();
        for i in 0..n {
            points
                .point(1, &Series::new("s").with_tag("i", i.to_string()))
                .field("v", 1.0);
        }
        Batch {
            points: points.finish(),
            ..Batch::default()
        }
    }

    /// A firing `threshold` alert on `field`: same kind, distinct alerts.
    fn firing_on(field: &str) -> Alert {
        let mut alert = alert("threshold", AlertState::Firing);
        alert.labels = vec![("field".into(), field.into())];
        alert
    }

    fn alerts(alerts: Vec<Alert>) -> Batch {
        Batch {
            alerts,
            ..Batch::default()
        }
    }

    /// (data gauges, firing gauges) held.
    fn held(state: &ExportState) -> (usize, usize) {
        (state.data_series, state.firing.len())
    }

    /// The exported `foghorn_alert_firing` values, by `field` label.
    fn firing_values(state: &ExportState) -> BTreeMap<String, f64> {
        let families = state.families("alerts", "firing");
        let family = families
            .iter()
            .find(|family| family.name() == ALERT_FIRING)
            .unwrap();
        family
            .get_metric()
            .iter()
            .map(|metric| {
                let field = metric
                    .get_label()
                    .iter()
                    .find(|label| label.name() == "field")
                    .map_or_else(String::new, |label| label.value().to_owned());
                (field, metric.get_gauge().get_value())
            })
            .collect()
    }

    #[test]
    fn a_data_flood_does_not_block_a_new_alert() {
        let mut state = ExportState::new(&budgets(2, 1000));
        let now = Instant::now();
        let dropped = state.observe(&flood(100), now);
        assert_eq!((dropped.data.count, dropped.alerts.count), (98, 0));
        assert_eq!(held(&state), (2, 0));

        let dropped = state.observe(&alerts(vec![firing_on("temperature")]), now);
        assert_eq!((dropped.data.count, dropped.alerts.count), (0, 0));
        assert_eq!(held(&state), (2, 1));
        assert_eq!(
            firing_values(&state),
            BTreeMap::from([("temperature".to_owned(), 1.0)])
        );
        // More data still cannot take the alert's place.
        let dropped = state.observe(&flood(200), now);
        assert_eq!(dropped.data.count, 198);
        assert_eq!(held(&state), (2, 1));
    }

    #[test]
    fn alerts_past_their_budget_are_dropped_and_counted() {
        let mut state = ExportState::new(&budgets(10_000, 2));
        let now = Instant::now();
        let batch = alerts(vec![
            firing_on("temperature"),
            firing_on("voltage"),
            firing_on("current"),
        ]);
        let dropped = state.observe(&batch, now);
        assert_eq!((dropped.alerts.count, dropped.data.count), (1, 0));
        assert_eq!(
            dropped.alerts.example.as_deref(),
            Some(
                "foghorn_alert_firing{type=threshold,series=bench_device{device=bench-1},component=detect}"
            )
        );
        assert_eq!(held(&state), (0, 2));
        assert_eq!(
            firing_values(&state),
            BTreeMap::from([("temperature".to_owned(), 1.0), ("voltage".to_owned(), 1.0)])
        );
        // Alerts already held still update at the limit; data has its own room.
        let mut resolved = firing_on("voltage");
        resolved.state = AlertState::Resolved;
        let dropped = state.observe(&alerts(vec![resolved]), now);
        assert_eq!(dropped.alerts.count, 0);
        assert_eq!(firing_values(&state)["voltage"], 0.0);
        assert_eq!(state.observe(&flood(5), now).data.count, 0);
        assert_eq!(held(&state), (5, 2));

        // The counters have a budget of the same size.
        let kinds = alerts(vec![alert("zscore", AlertState::Firing)]);
        assert_eq!(state.observe(&kinds, now).alerts.count, 2);
        assert_eq!(state.alerts_total.len(), 2);
    }

    #[test]
    fn firing_alerts_expire_after_firing_max_age() {
        let config = PrometheusConfig {
            firing_max_age: Duration::from_hours(1),
            ..PrometheusConfig::default()
        };
        let mut state = ExportState::new(&config);
        let then = Instant::now();
        state.observe(
            &alerts(vec![firing_on("temperature"), firing_on("voltage")]),
            then,
        );
        // Voltage keeps firing; temperature is never heard of again.
        let later = then + Duration::from_mins(30);
        state.observe(&alerts(vec![firing_on("voltage")]), later);

        let expired = state.expire(then + Duration::from_mins(59));
        assert_eq!((expired.count, held(&state)), (0, (0, 2)));
        let expired = state.expire(then + Duration::from_hours(1));
        assert_eq!(expired.count, 1);
        assert!(
            expired
                .example
                .as_deref()
                .unwrap()
                .starts_with(ALERT_FIRING),
            "{expired:?}"
        );
        assert_eq!(
            firing_values(&state),
            BTreeMap::from([("voltage".to_owned(), 1.0)]),
            "the fresher alert stays"
        );
        let expired = state.expire(later + Duration::from_hours(1));
        assert_eq!((expired.count, held(&state)), (1, (0, 0)));

        // An expired alert that fires again gets its gauge back.
        state.observe(&alerts(vec![firing_on("temperature")]), later);
        assert_eq!(held(&state), (0, 1));
    }

    #[tokio::test]
    async fn run_counts_drops_by_reason() {
        let name = "prom-budgets";
        let ctx = SinkContext {
            name: name.into(),
            data_dir: std::env::temp_dir(),
            shutdown: tokio_util::sync::CancellationToken::new(),
        };
        let config = PrometheusConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..budgets(2, 1)
        };
        let sink = PrometheusSink::build(&config, ctx).await.unwrap();
        let (tx, rx) = mpsc::channel(4);
        let running = tokio::spawn(sink.run(rx));
        let mut batch = batch();
        batch.alerts.push(firing_on("voltage"));
        tx.send(Arc::new(batch)).await.unwrap();
        drop(tx);
        running.await.unwrap().unwrap();

        let errors = |reason: &str| metrics().errors.with_label_values(&[name, reason]).get();
        assert_eq!(errors(DATA_LIMIT), 1, "3 gauges for a budget of 2");
        assert_eq!(errors(ALERT_LIMIT), 1, "2 alerts for a budget of 1");
        assert_eq!(errors(ALERT_EXPIRED), 0);
    }
}
