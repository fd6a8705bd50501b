//! The agent's own metrics, registered once in a process-wide registry.
//!
//! Names follow Prometheus conventions, prefixed `foghorn_`, next to the
//! standard process metrics (`process_resident_memory_bytes`,
//! `process_cpu_seconds_total`, open file descriptors). Prometheus sinks
//! serve these next to the pipeline's own series.

use std::sync::LazyLock;

use prometheus::{
    GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    exponential_buckets,
};

/// Every internal metric.
#[derive(Debug)]
pub struct Metrics {
    /// The registry they are registered in.
    pub registry: Registry,
    /// `foghorn_component_received_events_total{component}`.
    pub received_events: IntCounterVec,
    /// `foghorn_component_received_bytes_total{component}`.
    pub received_bytes: IntCounterVec,
    /// `foghorn_component_sent_events_total{component, output}`.
    pub sent_events: IntCounterVec,
    /// `foghorn_component_errors_total{component, reason}`.
    pub errors: IntCounterVec,
    /// `foghorn_component_batch_duration_seconds{component}`.
    pub batch_duration: HistogramVec,
    /// `foghorn_plugin_call_duration_seconds{component, call}`.
    pub plugin_call_duration: HistogramVec,
    /// `foghorn_plugin_failures_total{component, kind}`: traps, timeouts, memory.
    pub plugin_failures: IntCounterVec,
    /// `foghorn_plugin_restarts_total{component}`.
    pub plugin_restarts: IntCounterVec,
    /// `foghorn_plugin_snapshots_total{component}`.
    pub plugin_snapshots: IntCounterVec,
    /// `foghorn_plugin_counter{component, name}`: counters written by plugins.
    pub plugin_counter: IntCounterVec,
    /// `foghorn_plugin_gauge{component, name}`: gauges written by plugins.
    pub plugin_gauge: GaugeVec,
    /// `foghorn_dead_lettered_events_total{component}`.
    pub dead_lettered: IntCounterVec,
    /// `foghorn_source_reconnects_total{component}`.
    pub reconnects: IntCounterVec,
    /// `foghorn_processor_alerts_total{component, type, severity, state}`: alerts raised.
    pub alerts: IntCounterVec,
    /// `foghorn_buffer_dropped_events_total{component}`: dropped by a full
    /// `drop_newest` sink buffer.
    pub buffer_dropped: IntCounterVec,
    /// `foghorn_component_discarded_events_total{component, reason}`: left
    /// out on purpose by a component (a filter's matchers), not an error.
    pub discarded: IntCounterVec,
    /// `foghorn_sink_delivered_events_total{component}`: made durable by a sink.
    pub delivered: IntCounterVec,
    /// `foghorn_sink_retries_total{component}`: writes retried after a failure.
    pub sink_retries: IntCounterVec,
    /// `foghorn_source_overflow_total{component}`: records a source that must
    /// not stall could not pass on (kept in its audit log).
    pub source_overflow: IntCounterVec,
    /// `foghorn_source_acknowledged_batches_total{component, status}`.
    pub acknowledged: IntCounterVec,
    /// `foghorn_source_checkpoints_total{component}`: checkpoints committed.
    pub checkpoints: IntCounterVec,
    /// `foghorn_report_evicted_alerts_total{component}`.
    pub report_evicted: IntCounterVec,
    /// `foghorn_config_reloads_total{result}`: `ok`, `rejected` (invalid),
    /// `failed` (a component could not be built).
    pub config_reloads: IntCounterVec,
    /// `foghorn_plugin_limited_total{component, limit}`: metric values, log
    /// lines and restarts a plugin's limits held back (`metric_names`,
    /// `log_rate`, `log_length`).
    pub plugin_limited: IntCounterVec,
    /// `foghorn_component_up{component}`: 1 while a component works, 0 when
    /// it failed or is degraded (as `/health` says).
    pub component_up: IntGaugeVec,
    /// `foghorn_alert_notifications_pending{component}`: notifications an
    /// alert stage holds in its outbox until their sinks acknowledge them.
    pub notifications_pending: IntGaugeVec,
    /// `foghorn_kafka_consumer_lag{component, topic, partition}`: messages
    /// between a Kafka source's position and the partition's end, as
    /// librdkafka last reported (every 5 s), for the partitions it holds.
    pub kafka_lag: IntGaugeVec,
    /// `foghorn_file_source_files{component, state}`: files a `file` source
    /// with `include` globs knows (`matched`) and holds open (`open`).
    pub file_source_files: IntGaugeVec,
    /// `foghorn_analysis_statistic{component, section, group, statistic}`:
    /// the statistics of the group sections an analysis sink exports, as of
    /// its last report.
    pub analysis: GaugeVec,
    /// `foghorn_component_input_fill{component}`: how full a component's
    /// input channel was (0 to 1, batches queued over its capacity) when a
    /// producer last sent to it; near 1, the component cannot keep up and
    /// holds its producers back.
    pub input_fill: GaugeVec,
    /// `foghorn_alert_silences{state}`: silences kept, by state (`active`,
    /// `pending`, `expired`), as an alert stage last counted them.
    pub silences: IntGaugeVec,
    /// `foghorn_alert_muted{component, by}`: firing alerts an alert stage
    /// left out of its last notifications, muted by a `silence` or an
    /// `inhibition` rule.
    pub alerts_muted: IntGaugeVec,
    /// `foghorn_start_time_seconds`.
    pub start_time: IntGauge,
}

/// The process-wide metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    registry
        .register(Box::new(metric.clone()))
        .expect("metric registered once");
    metric
}

fn histogram(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    let buckets = exponential_buckets(1e-6, 4.0, 12).expect("valid buckets");
    let metric = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
        .expect("valid metric");
    registry
        .register(Box::new(metric.clone()))
        .expect("metric registered once");
    metric
}

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("the process collector registered once");
        let plugin_gauge = GaugeVec::new(
            Opts::new("foghorn_plugin_gauge", "Gauges set by plugins."),
            &["component", "name"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(plugin_gauge.clone()))
            .expect("metric registered once");
        let start_time = IntGauge::new(
            "foghorn_start_time_seconds",
            "When the agent started, Unix seconds.",
        )
        .expect("valid metric");
        registry
            .register(Box::new(start_time.clone()))
            .expect("metric registered once");
        let component_up = IntGaugeVec::new(
            Opts::new(
                "foghorn_component_up",
                "1 while a component works, 0 when it failed or is degraded.",
            ),
            &["component"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(component_up.clone()))
            .expect("metric registered once");
        let notifications_pending = IntGaugeVec::new(
            Opts::new(
                "foghorn_alert_notifications_pending",
                "Notifications an alert stage holds until their sinks acknowledge them.",
            ),
            &["component"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(notifications_pending.clone()))
            .expect("metric registered once");
        let kafka_lag = IntGaugeVec::new(
            Opts::new(
                "foghorn_kafka_consumer_lag",
                "Messages between a Kafka source's position and the partition's end.",
            ),
            &["component", "topic", "partition"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(kafka_lag.clone()))
            .expect("metric registered once");
        let file_source_files = IntGaugeVec::new(
            Opts::new(
                "foghorn_file_source_files",
                "Files a file source with include globs knows (matched) and holds open (open).",
            ),
            &["component", "state"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(file_source_files.clone()))
            .expect("metric registered once");
        let analysis = GaugeVec::new(
            Opts::new(
                "foghorn_analysis_statistic",
                "A statistic of a group of an analysis sink's report, as of its last report.",
            ),
            &["component", "section", "group", "statistic"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(analysis.clone()))
            .expect("metric registered once");
        let input_fill = GaugeVec::new(
            Opts::new(
                "foghorn_component_input_fill",
                "How full a component's input channel was (0 to 1) when a producer last sent to it.",
            ),
            &["component"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(input_fill.clone()))
            .expect("metric registered once");
        let silences = IntGaugeVec::new(
            Opts::new(
                "foghorn_alert_silences",
                "Silences kept, by state (active, pending, expired).",
            ),
            &["state"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(silences.clone()))
            .expect("metric registered once");
        let alerts_muted = IntGaugeVec::new(
            Opts::new(
                "foghorn_alert_muted",
                "Firing alerts an alert stage left out of its last notifications, by what muted them.",
            ),
            &["component", "by"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(alerts_muted.clone()))
            .expect("metric registered once");
        Self {
            analysis,
            file_source_files,
            input_fill,
            silences,
            alerts_muted,
            plugin_limited: counter(
                &registry,
                "foghorn_plugin_limited_total",
                "What a plugin's limits held back: metric_names, log_rate, log_length.",
                &["component", "limit"],
            ),
            component_up,
            notifications_pending,
            kafka_lag,
            received_events: counter(
                &registry,
                "foghorn_component_received_events_total",
                "Records, points and alerts received by a component.",
                &["component"],
            ),
            received_bytes: counter(
                &registry,
                "foghorn_component_received_bytes_total",
                "Raw bytes received by a source.",
                &["component"],
            ),
            sent_events: counter(
                &registry,
                "foghorn_component_sent_events_total",
                "Records, points and alerts sent downstream by a component.",
                &["component", "output"],
            ),
            errors: counter(
                &registry,
                "foghorn_component_errors_total",
                "Items a component rejected or failed on, by reason.",
                &["component", "reason"],
            ),
            batch_duration: histogram(
                &registry,
                "foghorn_component_batch_duration_seconds",
                "Time a component spent on one batch.",
                &["component"],
            ),
            plugin_call_duration: histogram(
                &registry,
                "foghorn_plugin_call_duration_seconds",
                "Time spent inside a plugin call.",
                &["component", "call"],
            ),
            plugin_failures: counter(
                &registry,
                "foghorn_plugin_failures_total",
                "Plugin calls that trapped, timed out or ran out of memory.",
                &["component", "kind"],
            ),
            plugin_restarts: counter(
                &registry,
                "foghorn_plugin_restarts_total",
                "Plugin re-instantiations after a failure.",
                &["component"],
            ),
            plugin_snapshots: counter(
                &registry,
                "foghorn_plugin_snapshots_total",
                "Plugin state snapshots saved.",
                &["component"],
            ),
            plugin_counter: counter(
                &registry,
                "foghorn_plugin_counter",
                "Counters written by plugins.",
                &["component", "name"],
            ),
            plugin_gauge,
            dead_lettered: counter(
                &registry,
                "foghorn_dead_lettered_events_total",
                "Records and points written to a dead-letter file.",
                &["component"],
            ),
            reconnects: counter(
                &registry,
                "foghorn_source_reconnects_total",
                "Times a source reconnected to its device or peer.",
                &["component"],
            ),
            alerts: counter(
                &registry,
                "foghorn_processor_alerts_total",
                "Alerts raised by processors.",
                &["component", "type", "severity", "state"],
            ),
            buffer_dropped: counter(
                &registry,
                "foghorn_buffer_dropped_events_total",
                "Events a full `drop_newest` sink buffer dropped.",
                &["component"],
            ),
            discarded: counter(
                &registry,
                "foghorn_component_discarded_events_total",
                "Events a component left out on purpose, by reason.",
                &["component", "reason"],
            ),
            delivered: counter(
                &registry,
                "foghorn_sink_delivered_events_total",
                "Events a sink made durable (written and flushed, observed, accepted).",
                &["component"],
            ),
            sink_retries: counter(
                &registry,
                "foghorn_sink_retries_total",
                "Writes a sink retried after a failure.",
                &["component"],
            ),
            source_overflow: counter(
                &registry,
                "foghorn_source_overflow_total",
                "Records a source that must not stall could not pass on (kept in its audit log).",
                &["component"],
            ),
            acknowledged: counter(
                &registry,
                "foghorn_source_acknowledged_batches_total",
                "Batches a source learned the fate of, by status.",
                &["component", "status"],
            ),
            checkpoints: counter(
                &registry,
                "foghorn_source_checkpoints_total",
                "Checkpoints a source committed to the state store.",
                &["component"],
            ),
            report_evicted: counter(
                &registry,
                "foghorn_report_evicted_alerts_total",
                "Report entries evicted to keep the report within max_alerts.",
                &["component"],
            ),
            config_reloads: counter(
                &registry,
                "foghorn_config_reloads_total",
                "Config reloads, by result: ok, rejected (invalid) or failed (not built).",
                &["result"],
            ),
            start_time,
            registry,
        }
    }
}
