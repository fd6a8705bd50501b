//! `foghorn replay`: a recorded audit log of the serial bench device through
//! the example's own pipeline, as fast as it goes, in the time it was
//! recorded: the same report as the live run, including the heartbeat loss
//! that only the recorded six-second silence can cause.

use std::process::Command;

use foghorn_tests::agent::{binary, shared_cache_dir};
use foghorn_tests::example::{Example, report_summary};
use serde_json::Value;

const EXAMPLE: Example = Example("serial-bench");

#[test]
fn the_recorded_file_is_what_the_emulator_records() {
    let dir = tempfile::tempdir().unwrap();
    let recorded = dir.path().join("recorded.log");
    EXAMPLE.run(
        "emulator.py",
        &["--record", recorded.to_str().unwrap(), "unused"],
    );
    assert_eq!(
        std::fs::read_to_string(&recorded).unwrap(),
        EXAMPLE.read("recorded.log")
    );
}

#[test]
fn a_replay_of_the_recorded_device_reproduces_the_serial_bench_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = Command::new(binary())
        .current_dir(dir.path())
        .args(["replay", "-c"])
        .arg(EXAMPLE.path("pipeline.yaml"))
        .arg(EXAMPLE.path("recorded.log"))
        .env("OUT_DIR", &out)
        .env("FOGHORN_CACHE_DIR", shared_cache_dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // Nothing leaves the machine: the webhook, Prometheus and the alert
    // stage that only fed the webhook are left out, and said so.
    assert!(
        stderr.contains("left out (use --all-sinks to keep them): hook (webhook), metrics (prometheus), notify (alerts)"),
        "{stderr}"
    );

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("anomaly_report.json")).unwrap())
            .unwrap();
    let expected: Value =
        serde_json::from_str(&EXAMPLE.read("expected_anomaly_report.json")).unwrap();
    assert_eq!(
        report_summary(&report),
        report_summary(&expected),
        "{report:#}"
    );

    // Alerts carry the recorded times, and the heartbeat fired on the first
    // 200 ms tick more than 4 s into the recorded silence (the last line
    // before it was at 00:00:02.600), though the replay took no such time.
    let times: Vec<&str> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["timestamp"].as_str().unwrap())
        .collect();
    assert_eq!(times[0], "2026-01-01T00:00:00.600Z");
    let lost = report
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "heartbeat_lost" && a["state"] == "firing")
        .unwrap();
    assert_eq!(lost["timestamp"], "2026-01-01T00:00:06.800Z");
    let resumed = report
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "heartbeat_lost" && a["state"] == "resolved")
        .unwrap();
    assert_eq!(resumed["timestamp"], "2026-01-01T00:00:08.800Z");

    // The other outputs as live: every rejected line with its reason, and a
    // CSV row (with its recorded time) for every valid one.
    let errors = std::fs::read_to_string(out.join("parser_errors.log")).unwrap();
    let rejected: Vec<&str> = errors
        .lines()
        .map(|l| l.rsplit('\t').next().unwrap())
        .collect();
    let expected_errors = EXAMPLE.read("expected_parser_errors.txt");
    assert_eq!(rejected, expected_errors.lines().collect::<Vec<_>>());
    let csv = std::fs::read_to_string(out.join("structured.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 10, "{csv}");
    assert!(rows[0].starts_with("2026-01-01T00:00:00"), "{csv}");
}

#[test]
fn a_pipeline_with_several_sources_asks_which_one_is_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = dir.path().join("pipeline.yaml");
    std::fs::write(
        &pipeline,
        "sources:\n  a: { type: stdin }\n  b: { type: stdin }\nsinks:\n  out: { type: console, inputs: [a, b] }\n",
    )
    .unwrap();
    let output = Command::new(binary())
        .current_dir(dir.path())
        .args(["replay", "-c"])
        .arg(&pipeline)
        .arg(EXAMPLE.path("recorded.log"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("several sources (`a`, `b`): say which one the files replace with --source"),
        "{stderr}"
    );
}
