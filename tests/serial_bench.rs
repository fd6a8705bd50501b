//! The serial bench-device example, end to end: the emulator writes its
//! forced-failure sequence into a socat pseudo-terminal, the agent reads the
//! other end with the example's own pipeline, and every output is checked.

use std::path::Path;
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::example::{Example, report_summary};
use foghorn_tests::pty::PtyPair;
use foghorn_tests::{http, wait};
use serde_json::Value;

const EXAMPLE: Example = Example("serial-bench");

/// Run the device emulator; what it printed.
fn emulator(args: &[&str]) -> Vec<u8> {
    EXAMPLE.run("emulator.py", args)
}

/// Stop the agent (it must exit cleanly on SIGTERM) and the device, then
/// read the report the agent left.
fn stop_and_read(agent: &mut Agent, pty: &mut PtyPair, report: &Path) -> Value {
    assert!(
        agent.terminate().success(),
        "clean exit on SIGTERM:\n{}",
        agent.logs()
    );
    pty.stop();
    serde_json::from_str(&wait::read(report)).unwrap()
}

#[test]
fn serial_bench_example_produces_the_expected_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut pty = PtyPair::start(dir.path());
    let receiver = foghorn_tests::receiver::Receiver::start(dir.path(), 0, &[]);
    let mut agent = Agent::start(
        dir.path(),
        &EXAMPLE.path("pipeline.yaml"),
        &[
            ("SERIAL_PORT", pty.device.to_str().unwrap()),
            ("OUT_DIR", out.to_str().unwrap()),
            ("METRICS_LISTEN", "127.0.0.1:0"),
            ("WEBHOOK_URL", &receiver.url()),
        ],
    );
    let metrics = agent.metrics_addr();
    agent.wait_for_log("connected", Duration::from_secs(30));

    emulator(&[pty.host.to_str().unwrap(), "--gap", "0.1", "--silence", "6"]);
    let sent: Vec<String> = String::from_utf8(emulator(&["--list", "unused"]))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();

    let expected: Value =
        serde_json::from_str(&EXAMPLE.read("expected_anomaly_report.json")).unwrap();
    let expected = report_summary(&expected);
    let report_path = out.join("anomaly_report.json");
    wait::until(
        "the heartbeat to resolve in the report",
        Duration::from_secs(30),
        || {
            let report: Value = serde_json::from_str(&wait::read(&report_path)).ok()?;
            (report_summary(&report).len() >= expected.len()).then_some(())
        },
    );

    // Prometheus, while the agent runs: the last reading and the alert counters.
    let (status, exposition) = http::get(metrics, "/metrics").expect("/metrics answers");
    assert_eq!(status, 200);
    assert_eq!(
        http::sample(
            &exposition,
            "bench_device_temperature",
            &[("device", "bench-1")]
        ),
        Some(26.5)
    );
    assert_eq!(
        http::sample(
            &exposition,
            "bench_device_voltage",
            &[("device", "bench-1")]
        ),
        Some(5.01)
    );
    assert_eq!(
        http::sample(
            &exposition,
            "foghorn_alerts_total",
            &[
                ("type", "threshold"),
                ("severity", "critical"),
                ("state", "firing")
            ]
        ),
        Some(2.0)
    );

    // The webhook heard of the same alerts, each as it fired.
    let notified = wait::until(
        "the heartbeat's resolution at the webhook",
        Duration::from_secs(30),
        || {
            let calls = receiver.accepted();
            let resolved_heartbeat = calls.iter().any(|call| {
                call["body"]["alerts"].as_array().is_some_and(|alerts| {
                    alerts.iter().any(|a| {
                        a["labels"]["alertname"] == "heartbeat_lost" && a["status"] == "resolved"
                    })
                })
            });
            resolved_heartbeat.then_some(calls)
        },
    );
    let mut kinds = std::collections::BTreeSet::new();
    for call in &notified {
        for alert in call["body"]["alerts"].as_array().unwrap() {
            assert_eq!(alert["labels"]["device"], "bench-1");
            kinds.insert(alert["labels"]["alertname"].as_str().unwrap().to_owned());
        }
    }
    let reported: std::collections::BTreeSet<String> =
        expected.iter().map(|(kind, ..)| kind.clone()).collect();
    assert_eq!(
        kinds, reported,
        "every kind of alert in the report was notified"
    );

    let report = stop_and_read(&mut agent, &mut pty, &report_path);
    assert_eq!(
        report_summary(&report),
        expected,
        "anomaly_report.json differs from the example's expected report"
    );

    // Every raw line, in order, in the audit log, each with its receive time.
    let raw = wait::read(&out.join("raw.log"));
    let audited: Vec<&str> = raw
        .lines()
        .map(|l| l.split_once('\t').expect("<timestamp>\\t<line>").1)
        .collect();
    assert_eq!(
        audited, sent,
        "raw.log must hold every line the device sent"
    );

    // Every malformed line, with a reason, in the parser error log.
    let rejected: Vec<String> = EXAMPLE
        .read("expected_parser_errors.txt")
        .lines()
        .map(str::to_owned)
        .collect();
    let errors = wait::read(&out.join("parser_errors.log"));
    let logged: Vec<(&str, &str)> = errors
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 4, "timestamp, component, reason, line: {l:?}");
            (cols[2], cols[3])
        })
        .collect();
    assert_eq!(
        logged
            .iter()
            .map(|(_, line)| line.to_string())
            .collect::<Vec<_>>(),
        rejected
    );
    assert!(logged.iter().all(|(reason, _)| !reason.is_empty()));

    // Parsed rows in the CSV: one per valid line.
    let csv = wait::read(&out.join("structured.csv"));
    let mut rows = csv.lines();
    let header = rows.next().expect("a header");
    for column in ["timestamp", "temperature", "voltage", "status"] {
        assert!(
            header.contains(column),
            "CSV header {header:?} lacks {column}"
        );
    }
    assert_eq!(rows.count(), sent.len() - rejected.len());
}

/// The second pipeline writes the original logger's formats: its report
/// entries, wording and CSV columns.
#[test]
fn serial_bench_original_formats() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut pty = PtyPair::start(dir.path());
    let mut agent = Agent::start(
        dir.path(),
        &EXAMPLE.path("pipeline-original.yaml"),
        &[
            ("SERIAL_PORT", pty.device.to_str().unwrap()),
            ("OUT_DIR", out.to_str().unwrap()),
        ],
    );
    agent.wait_for_log("connected", Duration::from_secs(30));
    emulator(&[pty.host.to_str().unwrap(), "--gap", "0.1", "--silence", "6"]);

    let expected: Value =
        serde_json::from_str(&EXAMPLE.read("expected_anomaly_report_original.json")).unwrap();
    let expected = expected.as_array().unwrap().clone();
    let report_path = out.join("anomaly_report.json");
    wait::until(
        "the heartbeat loss in the report",
        Duration::from_secs(30),
        || {
            let report: Value = serde_json::from_str(&wait::read(&report_path)).ok()?;
            (report.as_array()?.len() >= expected.len()).then_some(())
        },
    );
    let report = stop_and_read(&mut agent, &mut pty, &report_path);
    let report = report.as_array().unwrap();
    assert_eq!(report.len(), expected.len(), "{report:#?}");
    for (got, want) in report.iter().zip(&expected) {
        let keys: Vec<&String> = got.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["timestamp", "type", "severity", "description"]);
        assert!(got["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(got["type"], want["type"]);
        assert_eq!(got["severity"], want["severity"]);
        if got["type"] == "HEARTBEAT_LOSS" {
            // The gap is the 6 s silence plus a line's 0.1 s, as timed here.
            let text = got["description"].as_str().unwrap();
            let seconds: f64 = text
                .strip_prefix("No data received for ")
                .and_then(|rest| rest.strip_suffix(" seconds. Device may be offline."))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{text}"));
            assert!((6.0..7.5).contains(&seconds), "{text}");
            assert_eq!(
                text,
                format!("No data received for {seconds:.1} seconds. Device may be offline.")
            );
        } else {
            assert_eq!(got["description"], want["description"]);
        }
    }

    let csv = wait::read(&out.join("structured.csv"));
    let mut rows = csv.lines();
    assert_eq!(
        rows.next(),
        Some("timestamp,temperature,voltage,status_code")
    );
    let first = rows.next().unwrap();
    assert!(first.ends_with(",24.8,5.01,OK"), "{first}");
    assert_eq!(rows.count() + 1, 10, "one row per valid line");
}
