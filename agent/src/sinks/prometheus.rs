//! The Prometheus sink: `GET /metrics` and `GET /health` over HTTP.
//!
//! The listener is bound in [`PrometheusSink::build`], so a taken port fails
//! start-up; [`PrometheusSink::run`] serves until its input closes, then shuts
//! the server down gracefully. `run` folds every batch into an in-memory
//! state: the last value of every numeric point field as a gauge
//! `<series>_<field>{<tags>}`, a counter `foghorn_alerts_total{type, severity,
//! state}` and a gauge `foghorn_alert_firing{type, series, component}` and the alert's own labels (1 while
//! an alert fires, 0 once resolved). A custom [`Collector`] turns that state
//! into metric families at scrape time, and the exposition merges them with the
//! agent's own registry ([`crate::internal::metrics`]). The gauges are capped at
//! [`MAX_SERIES`]; a gauge not updated for [`STALENESS`] is dropped, except the
//! firing gauge of an alert that still fires.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

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

use super::{SinkContext, SinkError, banner};
use crate::config::PrometheusConfig;
use crate::event::{Batch, SharedBatch};
use crate::internal::events::{ComponentError, EventsReceived, ItemsRejected};
use crate::internal::metrics::metrics;

/// The most gauge series one sink exports; new series beyond it are dropped
/// and counted (`reason="cardinality_limit"`).
pub const MAX_SERIES: usize = 10_000;

/// A gauge not updated for this long is no longer exported.
pub const STALENESS: Duration = Duration::from_secs(10 * 60);

/// How often stale gauges are swept when nobody scrapes.
const SWEEP_INTERVAL: Duration = Duration::from_secs(30);

/// How long in-flight scrapes may take once the sink shuts down.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

const ALERTS_TOTAL: &str = "foghorn_alerts_total";
const ALERT_FIRING: &str = "foghorn_alert_firing";

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
    pub async fn build(config: &PrometheusConfig, ctx: SinkContext) -> Result<Self, SinkError> {
        let addr = config.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SinkError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| SinkError::Bind { addr, source })?;
        let state = Arc::new(Mutex::new(ExportState::default()));
        let registry = Registry::new();
        registry
            .register(Box::new(SinkCollector::new(state.clone())))
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
    pub fn describe(&self) -> String {
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
    pub async fn run(self, mut input: Receiver<SharedBatch>) -> Result<(), SinkError> {
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
                    let rejected = lock(&self.state).observe(&batch, Instant::now());
                    if let Some(example) = rejected.example {
                        ItemsRejected {
                            component: &self.name,
                            reason: "cardinality_limit",
                            count: rejected.count,
                            example: &example,
                        }
                        .emit();
                    }
                }
                _ = sweep.tick() => lock(&self.state).expire(Instant::now()),
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
        .route("/health", get(serve_health))
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

async fn serve_health() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
        .into_response()
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
/// the first one is kept.
type Labels = Vec<(String, String)>;

fn labels_of(tags: &[(String, String)]) -> Labels {
    let mut labels: Labels = tags
        .iter()
        .map(|(k, v)| (sanitize_label_name(k), v.clone()))
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

/// New series dropped by [`ExportState::observe`] for the cardinality limit.
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
}

/// What the sink exports, updated by `run` and read at scrape time.
#[derive(Debug, Default)]
struct ExportState {
    /// Gauge family name → label set → last value.
    gauges: HashMap<String, HashMap<Labels, Sample>>,
    /// (type, severity, state) → alerts received.
    alerts_total: BTreeMap<(String, &'static str, &'static str), u64>,
    /// Alert fingerprint → its firing gauge.
    firing: HashMap<u64, FiringAlert>,
    /// Gauge series held: every label set in `gauges` plus every `firing`.
    series: usize,
}

impl ExportState {
    fn observe(&mut self, batch: &Batch, now: Instant) -> Rejected {
        let mut rejected = Rejected::default();
        let points = &batch.points;
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
                } else if self.series < MAX_SERIES {
                    self.gauges
                        .entry(name)
                        .or_default()
                        .insert(labels.clone(), sample);
                    self.series += 1;
                } else {
                    rejected.add(|| name);
                }
            }
        }
        for alert in &batch.alerts {
            *self
                .alerts_total
                .entry((
                    alert.kind.clone(),
                    alert.severity.as_str(),
                    alert.state.as_str(),
                ))
                .or_default() += 1;
            let firing = alert.state == crate::event::AlertState::Firing;
            if let Some(existing) = self.firing.get_mut(&alert.fingerprint()) {
                existing.firing = firing;
                existing.updated = now;
            } else if self.series < MAX_SERIES {
                let gauge = FiringAlert {
                    kind: alert.kind.clone(),
                    series: alert.series.to_string(),
                    component: alert.component.to_string(),
                    labels: alert
                        .labels
                        .iter()
                        .filter(|(k, _)| !matches!(k.as_str(), "type" | "series" | "component"))
                        .map(|(k, v)| (sanitize_label_name(k), v.clone()))
                        .collect(),
                    firing,
                    updated: now,
                };
                self.firing.insert(alert.fingerprint(), gauge);
                self.series += 1;
            } else {
                rejected.add(|| format!("{ALERT_FIRING}{{type={}}}", alert.kind));
            }
        }
        rejected
    }

    /// Drop gauges not updated for [`STALENESS`]; a firing alert stays.
    fn expire(&mut self, now: Instant) {
        let fresh = |updated: Instant| now.saturating_duration_since(updated) < STALENESS;
        for family in self.gauges.values_mut() {
            family.retain(|_, sample| fresh(sample.updated));
        }
        self.gauges.retain(|_, family| !family.is_empty());
        self.firing
            .retain(|_, alert| alert.firing || fresh(alert.updated));
        self.series = self.gauges.values().map(HashMap::len).sum::<usize>() + self.firing.len();
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
    state: Arc<Mutex<ExportState>>,
    /// The fixed families; gauge families come and go with the points.
    descs: [Desc; 2],
}

impl SinkCollector {
    fn new(state: Arc<Mutex<ExportState>>) -> Self {
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
        Self { state, descs }
    }
}

impl Collector for SinkCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let mut state = lock(&self.state);
        state.expire(Instant::now());
        state.families(&self.descs[0].help, &self.descs[1].help)
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
            timestamp: 1_700_000_000_000_000_000,
            kind: kind.into(),
            severity: Severity::Critical,
            state,
            series: Series::new("bench_device").with_tag("device", "bench-1"),
            labels: Vec::new(),
            value: Some(95.5),
            score: None,
            description: "hot".into(),
            component: "detect".into(),
            plugin: "builtin:threshold".into(),
        }
    }

    fn batch() -> Batch {
        let mut points = PointsBuilder::new();
        let series = Series::new("bench.device").with_tag("device-id", "bench-1");
        let _ = points
            .point(1, &series)
            .field("temperature", 21.0)
            .field("status", "OK");
        let _ = points
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
        };
        let sink = super::super::Sink::build(&crate::config::SinkKind::Prometheus(config), ctx)
            .await
            .unwrap();
        let super::super::Sink::Prometheus(inner) = &sink else {
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
        assert_eq!((status, health.as_str()), (200, r#"{"status":"ok"}"#));

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
        let mut state = ExportState::default();
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
        let mut state = ExportState::default();
        let mut points = PointsBuilder::new();
        for i in 0..=MAX_SERIES {
            let _ = points
                .point(1, &Series::new("s").with_tag("i", i.to_string()))
                .field("v", 1.0);
        }
        let batch = Batch {
            points: points.finish(),
            ..Batch::default()
        };
        let rejected = state.observe(&batch, Instant::now());
        assert_eq!(rejected.count, 1);
        assert_eq!(rejected.example.as_deref(), Some("s_v"));
        assert_eq!(state.series, MAX_SERIES);
        // Known series still update at the limit.
        let rejected = state.observe(&batch, Instant::now());
        assert_eq!((rejected.count, state.series), (1, MAX_SERIES));
    }

    #[test]
    fn stale_series_expire_but_firing_alerts_stay() {
        let mut state = ExportState::default();
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
        assert_eq!(state.series, 3 + 2);
        state.expire(then + STALENESS / 2);
        assert_eq!(state.series, 5);
        state.expire(then + STALENESS + Duration::from_secs(1));
        assert!(state.gauges.is_empty());
        assert_eq!(
            state.firing.len(),
            1,
            "the firing threshold alert stays, the resolved one goes"
        );
        assert_eq!(state.series, 1);
        assert_eq!(
            state.alerts_total.values().sum::<u64>(),
            3,
            "counters never expire"
        );
    }
}
