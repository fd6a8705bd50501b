//! OTLP/HTTP metrics (`POST /v1/metrics`, protobuf or JSON) to points, so an
//! OpenTelemetry SDK or Collector can send to foghorn unchanged.
//!
//! Each data point becomes one point of the series named as the metric,
//! tagged with the resource's attributes and then its own (its own win).
//! Gauges and sums give a `value` field; histograms and exponential
//! histograms `count`, `sum`, `min`, `max` (those they have); summaries
//! `count`, `sum` and one `p<quantile × 100>` per quantile (`p50`, `p99`,
//! `p99.9`). A point without a timestamp takes the time it was received.
//! Attributes that are not a string, number or boolean are left out.
//! What a client sends is untrusted: a point with more than
//! [`MAX_TAGS`] attributes, an over-long key or value, or a non-finite
//! value is rejected with its reason, and the others are kept.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use prost::Message as _;

use super::items::{Decoded, Reject};
use crate::event::{PointsBuilder, Series, Value};

/// Most tags a point may carry (resource and point attributes together).
pub(crate) const MAX_TAGS: usize = 64;
/// Longest tag key or value, and metric name, in bytes.
pub(crate) const MAX_TAG_LENGTH: usize = 1024;

/// Decode an `ExportMetricsServiceRequest` sent as `content_type` into
/// `out`'s points.
pub(crate) fn decode(body: &[u8], content_type: &str, received: i64, out: &mut Decoded) {
    let request = if is_json(content_type) {
        serde_json::from_slice::<ExportMetricsServiceRequest>(body).map_err(|e| e.to_string())
    } else {
        ExportMetricsServiceRequest::decode(body).map_err(|e| e.to_string())
    };
    let request = match request {
        Ok(request) => request,
        Err(error) => {
            out.rejects.push(Reject::new("invalid_otlp", error, body));
            return;
        }
    };
    let mut points = PointsBuilder::new();
    for resource_metrics in &request.resource_metrics {
        let resource: &[KeyValue] = resource_metrics
            .resource
            .as_ref()
            .map_or(&[], |r| &r.attributes);
        for scope in &resource_metrics.scope_metrics {
            for metric in &scope.metrics {
                let Some(data) = &metric.data else { continue };
                let mut emit = |attributes: &[KeyValue], time: u64, fields: Vec<(String, f64)>| {
                    let timestamp = i64::try_from(time)
                        .ok()
                        .filter(|t| *t > 0)
                        .unwrap_or(received);
                    match series(&metric.name, resource, attributes)
                        .and_then(|series| finite(fields).map(|fields| (series, fields)))
                    {
                        Ok((series, fields)) => {
                            let mut point = points.point(timestamp, &series);
                            for (name, value) in &fields {
                                point = point.field(name, Value::Float(*value));
                            }
                        }
                        Err(reject) => out.rejects.push(reject),
                    }
                };
                match data {
                    metric::Data::Gauge(gauge) => {
                        for p in &gauge.data_points {
                            emit(&p.attributes, p.time_unix_nano, number(p.value));
                        }
                    }
                    metric::Data::Sum(sum) => {
                        for p in &sum.data_points {
                            emit(&p.attributes, p.time_unix_nano, number(p.value));
                        }
                    }
                    metric::Data::Histogram(histogram) => {
                        for p in &histogram.data_points {
                            let fields = distribution(p.count, p.sum, p.min, p.max);
                            emit(&p.attributes, p.time_unix_nano, fields);
                        }
                    }
                    metric::Data::ExponentialHistogram(histogram) => {
                        for p in &histogram.data_points {
                            let fields = distribution(p.count, p.sum, p.min, p.max);
                            emit(&p.attributes, p.time_unix_nano, fields);
                        }
                    }
                    metric::Data::Summary(summary) => {
                        for p in &summary.data_points {
                            let mut fields = distribution(p.count, Some(p.sum), None, None);
                            for q in &p.quantile_values {
                                fields.push((quantile_name(q.quantile), q.value));
                            }
                            emit(&p.attributes, p.time_unix_nano, fields);
                        }
                    }
                }
            }
        }
    }
    out.points = points.finish();
}

fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

#[allow(clippy::cast_precision_loss, reason = "metrics are f64 by nature")]
fn number(value: Option<number_data_point::Value>) -> Vec<(String, f64)> {
    match value {
        Some(number_data_point::Value::AsDouble(v)) => vec![("value".to_owned(), v)],
        Some(number_data_point::Value::AsInt(v)) => vec![("value".to_owned(), v as f64)],
        None => Vec::new(),
    }
}

#[allow(clippy::cast_precision_loss, reason = "metrics are f64 by nature")]
fn distribution(
    count: u64,
    sum: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
) -> Vec<(String, f64)> {
    let mut fields = vec![("count".to_owned(), count as f64)];
    for (name, value) in [("sum", sum), ("min", min), ("max", max)] {
        if let Some(value) = value {
            fields.push((name.to_owned(), value));
        }
    }
    fields
}

/// `p50` for 0.5, `p99.9` for 0.999.
fn quantile_name(quantile: f64) -> String {
    let percent = (quantile * 100.0 * 1000.0).round() / 1000.0;
    format!("p{percent}")
}

fn finite(fields: Vec<(String, f64)>) -> Result<Vec<(String, f64)>, Reject> {
    if fields.is_empty() {
        return Err(Reject {
            reason: "invalid_otlp",
            detail: "a data point without a value".to_owned(),
            item: String::new(),
        });
    }
    if let Some((name, value)) = fields.iter().find(|(_, v)| !v.is_finite()) {
        return Err(Reject {
            reason: "non_finite",
            detail: format!("{name} is {value}"),
            item: String::new(),
        });
    }
    Ok(fields)
}

/// The series of metric `name` with the resource's and the point's
/// attributes as tags.
fn series(name: &str, resource: &[KeyValue], attributes: &[KeyValue]) -> Result<Series, Reject> {
    let reject = |detail: String| Reject {
        reason: "invalid_otlp",
        detail,
        item: name.chars().take(Reject::SAMPLE).collect(),
    };
    if name.is_empty() || name.len() > MAX_TAG_LENGTH {
        return Err(reject(format!("a metric name of {} bytes", name.len())));
    }
    if resource.len() + attributes.len() > MAX_TAGS {
        return Err(reject(format!(
            "{} attributes, more than {MAX_TAGS}",
            resource.len() + attributes.len()
        )));
    }
    let mut series = Series::new(name);
    for attribute in resource.iter().chain(attributes) {
        let Some(value) = attribute
            .value
            .as_ref()
            .and_then(|v| v.value.as_ref())
            .and_then(scalar)
        else {
            continue;
        };
        if attribute.key.len() > MAX_TAG_LENGTH || value.len() > MAX_TAG_LENGTH {
            return Err(reject(format!(
                "attribute `{}` longer than {MAX_TAG_LENGTH} bytes",
                attribute.key.chars().take(64).collect::<String>()
            )));
        }
        series.set_tag(attribute.key.clone(), value);
    }
    Ok(series)
}

fn scalar(value: &any_value::Value) -> Option<String> {
    match value {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::DoubleValue(d) => Some(d.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::AnyValue;
    use opentelemetry_proto::tonic::metrics::v1::{
        Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Summary, SummaryDataPoint,
        summary_data_point::ValueAtQuantile,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;

    use super::*;

    fn text(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.into())),
            }),
            ..KeyValue::default()
        }
    }

    fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: vec![text("service.name", "edge"), text("region", "eu")],
                    ..Resource::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    metrics,
                    ..ScopeMetrics::default()
                }],
                ..ResourceMetrics::default()
            }],
        }
    }

    fn gauge(name: &str, points: Vec<NumberDataPoint>) -> Metric {
        Metric {
            name: name.into(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: points,
            })),
            ..Metric::default()
        }
    }

    fn number_point(value: f64, time: u64, attributes: Vec<KeyValue>) -> NumberDataPoint {
        NumberDataPoint {
            attributes,
            time_unix_nano: time,
            value: Some(number_data_point::Value::AsDouble(value)),
            ..NumberDataPoint::default()
        }
    }

    #[test]
    fn gauges_and_summaries_become_points_with_resource_and_point_tags() {
        let summary = Metric {
            name: "latency".into(),
            data: Some(metric::Data::Summary(Summary {
                data_points: vec![SummaryDataPoint {
                    count: 10,
                    sum: 55.0,
                    quantile_values: vec![
                        ValueAtQuantile {
                            quantile: 0.5,
                            value: 5.0,
                        },
                        ValueAtQuantile {
                            quantile: 0.999,
                            value: 9.9,
                        },
                    ],
                    ..SummaryDataPoint::default()
                }],
            })),
            ..Metric::default()
        };
        let body = request(vec![
            gauge(
                "cpu",
                vec![number_point(
                    0.75,
                    1_700_000_000_000_000_000,
                    vec![text("device", "d1"), text("region", "us")],
                )],
            ),
            summary,
        ])
        .encode_to_vec();
        let mut out = Decoded::default();
        decode(&body, "application/x-protobuf", 42, &mut out);
        assert!(out.rejects.is_empty(), "{:?}", out.rejects);
        let cpu = out.points.get(0).unwrap();
        assert_eq!(cpu.series().name, "cpu");
        assert_eq!(cpu.series().tag("device"), Some("d1"));
        assert_eq!(
            cpu.series().tag("region"),
            Some("us"),
            "the point's own wins"
        );
        assert_eq!(cpu.series().tag("service.name"), Some("edge"));
        assert_eq!(cpu.timestamp(), 1_700_000_000_000_000_000);
        assert_eq!(cpu.field("value"), Some(Value::Float(0.75)));
        let latency = out.points.get(1).unwrap();
        assert_eq!(latency.timestamp(), 42, "no time: when it was received");
        assert_eq!(latency.field("count"), Some(Value::Float(10.0)));
        assert_eq!(latency.field("p50"), Some(Value::Float(5.0)));
        assert_eq!(latency.field("p99.9"), Some(Value::Float(9.9)));
    }

    #[test]
    fn otlp_json_is_read_too() {
        // As the OTLP/JSON spec writes it: camelCase, 64-bit integers as strings.
        let body = br#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"edge"}}]},
            "scopeMetrics":[{"metrics":[{"name":"packet_loss","gauge":{"dataPoints":[
              {"asDouble":0.25,"timeUnixNano":"1700000000000000000","attributes":[{"key":"device","value":{"stringValue":"r1"}}]},
              {"asInt":"3","timeUnixNano":"1700000001000000000"}]}}]}]}]}"#;
        let mut out = Decoded::default();
        decode(body, "application/json", 0, &mut out);
        assert!(out.rejects.is_empty(), "{:?}", out.rejects);
        assert_eq!(out.points.len(), 2);
        let first = out.points.get(0).unwrap();
        assert_eq!(first.series().tag("device"), Some("r1"));
        assert_eq!(first.field("value"), Some(Value::Float(0.25)));
        assert_eq!(
            out.points.get(1).unwrap().field("value"),
            Some(Value::Float(3.0))
        );
    }

    #[test]
    fn hostile_points_are_rejected_one_by_one() {
        let many: Vec<KeyValue> = (0..MAX_TAGS).map(|i| text(&format!("k{i}"), "v")).collect();
        let long = "x".repeat(MAX_TAG_LENGTH + 1);
        let body = request(vec![gauge(
            "cpu",
            vec![
                number_point(1.0, 1, vec![]),
                number_point(2.0, 2, many),
                number_point(3.0, 3, vec![text("device", &long)]),
                number_point(f64::NAN, 4, vec![]),
                number_point(5.0, 5, vec![]),
            ],
        )])
        .encode_to_vec();
        let mut out = Decoded::default();
        decode(&body, "application/x-protobuf", 0, &mut out);
        let reasons: Vec<&str> = out.rejects.iter().map(|r| r.reason).collect();
        assert_eq!(reasons, ["invalid_otlp", "invalid_otlp", "non_finite"]);
        assert_eq!(out.points.len(), 2);
        let mut garbage = Decoded::default();
        decode(
            b"\xff\xff\xff\xff garbage",
            "application/x-protobuf",
            0,
            &mut garbage,
        );
        assert_eq!(garbage.rejects[0].reason, "invalid_otlp");
        assert_eq!(garbage.points.len(), 0);
    }
}
