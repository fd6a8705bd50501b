//! The OTLP sink against a receiver built on the official OpenTelemetry
//! protobuf definitions: points arrive as gauges and alerts as log records,
//! over gRPC and over HTTP/protobuf, through a refusal.

use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::receiver::OtlpReceiver;
use foghorn_tests::{input, wait};

fn run_through(protocol: &str) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let receiver = OtlpReceiver::start(dir.path(), &["--fail-first", "1"]);
    let port = if protocol == "grpc" {
        receiver.grpc_port
    } else {
        receiver.http_port
    };
    let input_path = dir.path().join("input.log");
    std::fs::write(&input_path, "").unwrap();
    let config = dir.path().join("pipeline.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
sources:
  bench: {{ type: file, path: {input} }}
processors:
  parse:
    inputs: [bench]
    plugin: builtin:kv-parser
    config: {{ measurement: bench_device, tags: {{ device: bench-1 }}, fields: {{ T: temperature, V: voltage, S: status }} }}
  limits:
    inputs: [parse]
    plugin: builtin:threshold
    config: {{ rules: [{{ field: temperature, max: 80, severity: critical, description: "hot: {{value}}" }}] }}
sinks:
  otlp:
    type: otlp
    inputs: [parse, limits.alerts]
    endpoint: http://127.0.0.1:{port}
    protocol: {protocol}
    service_name: bench-lab
    retry: {{ backoff: 100ms }}
"#,
            data = dir.path().join("data").display(),
            input = input_path.display(),
        ),
    )
    .unwrap();
    let _agent = Agent::start(dir.path(), &config, &[]);
    input::append(&input_path, &["T:95.5,V:5.0,S:HOT"]);
    wait::until(
        "metrics and logs at the receiver",
        Duration::from_secs(60),
        || {
            let exports = receiver.exports();
            let signals: Vec<&str> = exports
                .iter()
                .filter_map(|e| e["signal"].as_str())
                .collect();
            (signals.contains(&"metrics") && signals.contains(&"logs")).then_some(exports)
        },
    )
}

fn check(exports: &[serde_json::Value], via: &str) {
    assert!(exports.iter().all(|e| e["via"] == via));
    let metrics = exports.iter().find(|e| e["signal"] == "metrics").unwrap();
    let resource = &metrics["request"]["resourceMetrics"][0];
    assert_eq!(
        resource["resource"]["attributes"][0],
        serde_json::json!({ "key": "service.name", "value": { "stringValue": "bench-lab" } })
    );
    let gauges = resource["scopeMetrics"][0]["metrics"].as_array().unwrap();
    let temperature = gauges
        .iter()
        .find(|m| m["name"] == "bench_device.temperature")
        .expect("a temperature gauge");
    let point = &temperature["gauge"]["dataPoints"][0];
    assert_eq!(point["asDouble"], 95.5);
    assert_eq!(
        point["attributes"][0],
        serde_json::json!({ "key": "device", "value": { "stringValue": "bench-1" } })
    );
    assert!(
        !gauges.iter().any(|m| m["name"] == "bench_device.status"),
        "text fields are left out"
    );
    let logs = exports.iter().find(|e| e["signal"] == "logs").unwrap();
    let record = &logs["request"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
    assert_eq!(record["body"]["stringValue"], "hot: 95.5");
    assert_eq!(record["severityText"], "CRITICAL");
    assert_eq!(record["severityNumber"], "SEVERITY_NUMBER_ERROR");
    let attributes: Vec<(&str, &serde_json::Value)> = record["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["key"].as_str().unwrap(), &a["value"]))
        .collect();
    assert!(attributes.contains(&(
        "alert.kind",
        &serde_json::json!({ "stringValue": "threshold" })
    )));
    assert!(attributes.contains(&(
        "alert.state",
        &serde_json::json!({ "stringValue": "firing" })
    )));
    assert!(attributes.contains(&("value", &serde_json::json!({ "doubleValue": 95.5 }))));
}

#[test]
fn points_and_alerts_reach_an_otlp_receiver_over_grpc() {
    let exports = run_through("grpc");
    check(&exports, "grpc");
}

#[test]
fn points_and_alerts_reach_an_otlp_receiver_over_http() {
    let exports = run_through("http");
    check(&exports, "http");
}
