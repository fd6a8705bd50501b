//! `type: otlp`: points as OTLP metrics and alerts as OTLP log records, to
//! an OpenTelemetry Collector or any OTLP receiver, over gRPC or
//! HTTP/protobuf.
//!
//! Each batch that arrives is one export request (the pipeline batches
//! already): its points as gauges named `<series>.<field>` with the series'
//! tags as attributes (numbers and booleans; text fields are left out), its
//! alerts as log records (body: the description; severity ERROR, WARN or
//! INFO; attributes: `alert.kind`, `alert.severity`, `alert.state`,
//! `alert.fingerprint`, `series`, the series' tags and the alert's labels,
//! `value`, `score`, `component`). The resource carries `service.name`.
//!
//! A batch is acknowledged when the receiver accepted it. gRPC
//! `UNAVAILABLE`, `RESOURCE_EXHAUSTED`, `DEADLINE_EXCEEDED`, `ABORTED` and
//! `CANCELLED`, and HTTP 408, 429 and 5xx, are retried with backoff (retries
//! are those of [`super::http_post`]); anything else is counted and dropped.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde::Deserialize;
use tokio::sync::mpsc::Receiver;
use tokio_util::sync::CancellationToken;

use super::http_post::{Failure, Poster, Retry, check_url, origin, retrying};
use super::{SinkContext, SinkError, banner};
use crate::event::{Alert, AlertState, Batch, Severity, SharedBatch, Value};
use crate::internal::events::{EventsDelivered, EventsReceived};
use crate::settings::{Problems, Settings};

/// How the sink talks to the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtlpProtocol {
    /// gRPC (port 4317 by convention).
    #[default]
    Grpc,
    /// HTTP/protobuf: `POST <endpoint>/v1/metrics` and `/v1/logs` (4318).
    Http,
}

/// `type: otlp`: where OTLP goes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// `endpoint`: `http://host:4317` for gRPC, `http://host:4318` for HTTP
    /// (`https://` for TLS). Required.
    pub endpoint: String,
    /// `protocol`: `grpc` (default) or `http`.
    #[serde(default)]
    pub protocol: OtlpProtocol,
    /// `service_name`: the resource's `service.name`. Default `foghorn`.
    #[serde(default = "OtlpConfig::default_service_name")]
    pub service_name: String,
    /// `retry`: `timeout`, `backoff`, `max_backoff`; see [`Retry`].
    #[serde(default)]
    pub retry: Retry,
}

impl OtlpConfig {
    fn default_service_name() -> String {
        "foghorn".to_owned()
    }
}

impl Settings for OtlpConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        check_url(&self.endpoint, &format!("{key}.endpoint"), problems);
        self.retry.check(&format!("{key}.retry"), problems);
    }
}

/// A built OTLP sink.
#[derive(Debug)]
pub struct OtlpSink {
    name: Arc<str>,
    settings: OtlpConfig,
    transport: Transport,
    shutdown: CancellationToken,
}

/// The gRPC clients, on one channel.
#[derive(Debug)]
struct GrpcClients {
    metrics: MetricsServiceClient<tonic::transport::Channel>,
    logs: LogsServiceClient<tonic::transport::Channel>,
}

/// The two ways of exporting.
#[derive(Debug)]
enum Transport {
    Grpc(Box<GrpcClients>),
    Http(Poster),
}

impl super::Sink for OtlpConfig {
    type Running = OtlpSink;

    async fn build(&self, ctx: SinkContext) -> Result<OtlpSink, SinkError> {
        let transport = match self.protocol {
            OtlpProtocol::Grpc => {
                let channel = tonic::transport::Endpoint::from_shared(self.endpoint.clone())
                    .map_err(|error| SinkError::Client(error.to_string()))?
                    .timeout(self.retry.timeout)
                    .connect_timeout(self.retry.timeout)
                    .connect_lazy();
                Transport::Grpc(Box::new(GrpcClients {
                    metrics: MetricsServiceClient::new(channel.clone()),
                    logs: LogsServiceClient::new(channel),
                }))
            }
            OtlpProtocol::Http => Transport::Http(Poster::new(
                Arc::clone(&ctx.name),
                self.retry,
                ctx.shutdown.clone(),
            )?),
        };
        Ok(OtlpSink {
            name: ctx.name,
            settings: self.clone(),
            transport,
            shutdown: ctx.shutdown,
        })
    }
}

impl super::RunningSink for OtlpSink {
    fn describe(&self) -> String {
        let protocol = match self.settings.protocol {
            OtlpProtocol::Grpc => "gRPC",
            OtlpProtocol::Http => "HTTP",
        };
        banner(
            "otlp",
            format!(
                "{} ({protocol}, {})",
                origin(&self.settings.endpoint),
                self.name
            ),
        )
    }

    async fn run(self, mut input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        while let Some(batch) = input.recv().await {
            let count = batch.points.len() + batch.alerts.len();
            if count == 0 {
                continue;
            }
            EventsReceived {
                component: &self.name,
                count,
                bytes: 0,
            }
            .emit();
            let mut sent = Ok(());
            if let Some(request) = metrics(&batch, &self.settings.service_name) {
                sent = self.export_metrics(request).await;
            }
            if sent.is_ok()
                && let Some(request) = logs(&batch, &self.settings.service_name)
            {
                sent = self.export_logs(request).await;
            }
            match sent {
                Ok(()) => EventsDelivered {
                    component: &self.name,
                    count,
                }
                .emit(),
                Err(status) => batch.delivery.report(status),
            }
        }
        Ok(())
    }
}

/// Whether a gRPC status may pass on another try.
fn retryable(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::Unavailable
            | tonic::Code::ResourceExhausted
            | tonic::Code::DeadlineExceeded
            | tonic::Code::Aborted
            | tonic::Code::Cancelled
    )
}

fn grpc_failure(status: &tonic::Status) -> Failure {
    Failure {
        message: format!(
            "the receiver answered {:?}: {}",
            status.code(),
            status.message()
        ),
        retry: retryable(status.code()),
        retry_after: None,
    }
}

impl OtlpSink {
    async fn export_metrics(
        &self,
        request: ExportMetricsServiceRequest,
    ) -> Result<(), crate::delivery::DeliveryStatus> {
        self.export(request, "/v1/metrics", |clients, request| {
            let mut client = clients.metrics.clone();
            async move { client.export(request).await.map(drop) }
        })
        .await
    }

    async fn export_logs(
        &self,
        request: ExportLogsServiceRequest,
    ) -> Result<(), crate::delivery::DeliveryStatus> {
        self.export(request, "/v1/logs", |clients, request| {
            let mut client = clients.logs.clone();
            async move { client.export(request).await.map(drop) }
        })
        .await
    }

    /// Export `request` until the receiver accepts it: through `grpc` on
    /// the gRPC clients, or POSTed as protobuf to `<endpoint><path>`.
    async fn export<R, F>(
        &self,
        request: R,
        path: &str,
        grpc: impl Fn(&GrpcClients, R) -> F,
    ) -> Result<(), crate::delivery::DeliveryStatus>
    where
        R: prost::Message + Clone,
        F: Future<Output = Result<(), tonic::Status>>,
    {
        match &self.transport {
            Transport::Grpc(clients) => {
                retrying(&self.name, &self.settings.retry, &self.shutdown, || {
                    let sent = grpc(clients, request.clone());
                    async move { sent.await.map_err(|status| grpc_failure(&status)) }
                })
                .await
            }
            Transport::Http(poster) => {
                let url = format!("{}{path}", self.settings.endpoint.trim_end_matches('/'));
                let body = request.encode_to_vec();
                poster.deliver(|client| protobuf(client, &url, &body)).await
            }
        }
    }
}

fn protobuf(client: &reqwest::Client, url: &str, body: &[u8]) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/x-protobuf")
        .body(body.to_vec())
}

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

fn resource(service: &str) -> Resource {
    Resource {
        attributes: vec![text("service.name", service)],
        ..Resource::default()
    }
}

fn scope() -> opentelemetry_proto::tonic::common::v1::InstrumentationScope {
    opentelemetry_proto::tonic::common::v1::InstrumentationScope {
        name: "foghorn".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..Default::default()
    }
}

/// The points of `batch` as gauges, one metric per `<series>.<field>`.
pub(crate) fn metrics(batch: &Batch, service: &str) -> Option<ExportMetricsServiceRequest> {
    if batch.points.is_empty() {
        return None;
    }
    let mut by_name: std::collections::BTreeMap<String, Vec<NumberDataPoint>> =
        std::collections::BTreeMap::new();
    for point in batch.points.iter() {
        let series = point.series();
        let attributes: Vec<KeyValue> = series.tags.iter().map(|(k, v)| text(k, v)).collect();
        let time = u64::try_from(point.timestamp()).unwrap_or(0);
        for (field, value) in point.fields() {
            let value = match value {
                Value::Float(v) if v.is_finite() => number_data_point::Value::AsDouble(v),
                Value::Int(v) => number_data_point::Value::AsInt(v),
                Value::Bool(v) => number_data_point::Value::AsInt(i64::from(v)),
                Value::Float(_) | Value::Text(_) => continue,
            };
            by_name
                .entry(format!("{}.{field}", series.name))
                .or_default()
                .push(NumberDataPoint {
                    attributes: attributes.clone(),
                    time_unix_nano: time,
                    value: Some(value),
                    ..NumberDataPoint::default()
                });
        }
    }
    if by_name.is_empty() {
        return None;
    }
    let metrics = by_name
        .into_iter()
        .map(|(name, data_points)| Metric {
            name,
            data: Some(metric::Data::Gauge(Gauge { data_points })),
            ..Metric::default()
        })
        .collect();
    Some(ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource(service)),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope()),
                metrics,
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    })
}

fn log_record(alert: &Alert) -> LogRecord {
    let (number, severity) = match alert.severity {
        Severity::Critical => (17, "CRITICAL"),
        Severity::Warning => (13, "WARNING"),
        Severity::Info => (9, "INFO"),
    };
    let mut attributes = vec![
        text("alert.kind", &alert.kind),
        text("alert.severity", alert.severity.as_str()),
        text(
            "alert.state",
            match alert.state {
                AlertState::Firing => "firing",
                AlertState::Resolved => "resolved",
            },
        ),
        text(
            "alert.fingerprint",
            &format!("{:016x}", alert.fingerprint()),
        ),
        text("series", &alert.series.name),
        text("component", &alert.component),
    ];
    attributes.extend(
        alert
            .series
            .tags
            .iter()
            .chain(&alert.labels)
            .map(|(k, v)| text(k, v)),
    );
    for (key, value) in [("value", alert.value), ("score", alert.score)] {
        if let Some(value) = value.filter(|v| v.is_finite()) {
            attributes.push(KeyValue {
                key: key.to_owned(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::DoubleValue(value)),
                }),
                ..KeyValue::default()
            });
        }
    }
    let time = u64::try_from(alert.timestamp).unwrap_or(0);
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: u64::try_from(crate::event::now_nanos()).unwrap_or(0),
        severity_number: number,
        severity_text: severity.to_owned(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(alert.description.clone())),
        }),
        attributes,
        event_name: "foghorn.alert".to_owned(),
        ..LogRecord::default()
    }
}

/// The alerts of `batch` as log records.
pub(crate) fn logs(batch: &Batch, service: &str) -> Option<ExportLogsServiceRequest> {
    if batch.alerts.is_empty() {
        return None;
    }
    Some(ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource(service)),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope()),
                log_records: batch.alerts.iter().map(log_record).collect(),
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    })
}
