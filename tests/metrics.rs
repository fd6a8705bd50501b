//! `/metrics` scraped over HTTP from a running agent, by the test and by a
//! real Prometheus server, with values asserted.

use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::prometheus::Prometheus;
use foghorn_tests::{http, wait};

/// The pipeline of these tests: four lines (one malformed, one too hot)
/// through kv-parser and threshold to a Prometheus sink. Returns the agent.
fn start_agent(dir: &std::path::Path) -> Agent {
    let input = dir.join("input.log");
    std::fs::write(
        &input,
        "T:42.5,V:5.0,S:OK\nT:43.0,V:5.1,S:OK\nnot a reading\nT:91.0,V:5.2,S:WARNING_TEMP\n",
    )
    .unwrap();
    let config = dir.join("pipeline.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
sources:
  bench:
    type: file
    path: {input}
    follow: true
processors:
  parse:
    inputs: [bench]
    plugin: builtin:kv-parser
    config:
      measurement: bench_device
      tags: {{ device: bench-1 }}
      fields: {{ T: temperature, V: voltage, S: status }}
  limits:
    inputs: [parse]
    plugin: builtin:threshold
    config:
      rules: [{{ field: temperature, max: 80, severity: critical }}]
sinks:
  metrics:
    type: prometheus
    inputs: [parse, limits.alerts]
    listen: 127.0.0.1:0
"#,
            data = dir.join("data").display(),
            input = input.display()
        ),
    )
    .unwrap();
    Agent::start(dir, &config, &[])
}

#[test]
fn metrics_endpoint_exports_series_alerts_and_agent_counters() {
    let dir = tempfile::tempdir().unwrap();
    let agent = start_agent(dir.path());
    let addr = agent.metrics_addr();

    let exposition = wait::until(
        "all four lines to be counted",
        Duration::from_secs(60),
        || {
            let (_, body) = http::get(addr, "/metrics")?;
            (http::sample(
                &body,
                "foghorn_component_received_events_total",
                &[("component", "bench")],
            ) == Some(4.0)
                && http::sample(&body, "foghorn_alerts_total", &[("type", "threshold")]).is_some())
            .then_some(body)
        },
    );
    let value = |name: &str, labels: &[(&str, &str)]| http::sample(&exposition, name, labels);
    assert_eq!(
        value("bench_device_temperature", &[("device", "bench-1")]),
        Some(91.0)
    );
    assert_eq!(
        value("bench_device_voltage", &[("device", "bench-1")]),
        Some(5.2)
    );
    assert_eq!(
        value(
            "foghorn_component_received_events_total",
            &[("component", "parse")]
        ),
        Some(4.0)
    );
    assert_eq!(
        value(
            "foghorn_component_errors_total",
            &[("component", "parse"), ("reason", "plugin_rejected")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            "foghorn_alerts_total",
            &[
                ("type", "threshold"),
                ("severity", "critical"),
                ("state", "firing")
            ]
        ),
        Some(1.0)
    );
    assert!(
        exposition.contains("foghorn_plugin_call_duration_seconds")
            || exposition.contains("foghorn_component_batch_duration_seconds_bucket")
    );

    let (status, body) = http::get(addr, "/health").expect("/health answers");
    assert_eq!(status, 200);
    assert!(body.contains("ok"));
}

#[test]
fn a_real_prometheus_server_scrapes_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let agent = start_agent(dir.path());
    let prometheus = Prometheus::start(dir.path(), agent.metrics_addr());

    wait::until(
        "Prometheus to have scraped the last reading",
        Duration::from_secs(60),
        || {
            (prometheus.query(r#"bench_device_temperature{device="bench-1"}"#) == Some(91.0))
                .then_some(())
        },
    );
    assert_eq!(prometheus.query(r#"up{job="foghorn"}"#), Some(1.0));
    assert_eq!(
        prometheus.query(r#"bench_device_voltage{device="bench-1"}"#),
        Some(5.2)
    );
    assert_eq!(
        prometheus
            .query(r#"foghorn_alerts_total{type="threshold",severity="critical",state="firing"}"#),
        Some(1.0)
    );
    assert_eq!(
        prometheus.query(r#"foghorn_component_received_events_total{component="bench"}"#),
        Some(4.0)
    );
}
