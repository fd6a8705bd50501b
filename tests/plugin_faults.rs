//! A plugin that traps, loops forever or allocates without bound is
//! contained: its batch is dead-lettered with the reason, the failure is
//! counted, the plugin is re-instantiated and the agent keeps running.

use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::input::append;
use foghorn_tests::{http, wait};
use sha2::{Digest, Sha256};

#[test]
fn trapping_looping_and_memory_hungry_plugins_are_contained() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.log");
    std::fs::write(&input, "").unwrap();
    let points = dir.path().join("points.ndjson");
    let wasm = env!("FIXTURE_CHAOS_WASM");
    let sha = hex::encode(Sha256::digest(std::fs::read(wasm).unwrap()));
    let config = dir.path().join("pipeline.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
sources:
  lines:
    type: file
    path: {input}
    poll_interval: 20ms
    batch: {{ max_records: 1, linger: 1ms }}
processors:
  chaos:
    inputs: [lines]
    plugin: {wasm}
    sha256: {sha}
    limits: {{ memory: 32MiB, time_per_call: 300ms }}
sinks:
  out:
    type: file
    inputs: [chaos]
    path: {points}
    encoding: ndjson
  metrics:
    type: prometheus
    inputs: [chaos]
    listen: 127.0.0.1:0
"#,
            data = dir.path().join("data").display(),
            input = input.display(),
            points = points.display(),
        ),
    )
    .unwrap();
    let agent = Agent::start(dir.path(), &config, &[]);
    let addr = agent.metrics_addr();

    let failures = |kind: &str| {
        http::metric(
            addr,
            "foghorn_plugin_failures_total",
            &[("component", "chaos"), ("kind", kind)],
        )
    };
    let cases = [
        ("first", "TRAP", "trap"),
        ("second", "SPIN", "timeout"),
        ("third", "OOM", "memory"),
    ];
    for (expected_points, (good, bad, kind)) in (1..).zip(cases) {
        append(&input, &[good]);
        wait::until(
            &format!("point for {good:?}"),
            Duration::from_secs(60),
            || (wait::read(&points).lines().count() == expected_points).then_some(()),
        );
        append(&input, &[bad]);
        wait::until(
            &format!("a {kind} failure to be counted"),
            Duration::from_secs(60),
            || (failures(kind) == Some(1.0)).then_some(()),
        );
    }
    // Still alive and processing after all three.
    append(&input, &["fourth"]);
    wait::until(
        "the point after the failures",
        Duration::from_secs(60),
        || (wait::read(&points).lines().count() == 4).then_some(()),
    );

    let dead = wait::read(&dir.path().join("data/dead_letter/chaos.ndjson"));
    let dead: Vec<serde_json::Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records: Vec<&str> = dead.iter().map(|d| d["record"].as_str().unwrap()).collect();
    assert_eq!(records, ["TRAP", "SPIN", "OOM"]);
    let reasons: Vec<&str> = dead.iter().map(|d| d["reason"].as_str().unwrap()).collect();
    assert!(
        reasons[0].starts_with("trap") && reasons[0].contains("chaos: trap requested"),
        "{}",
        reasons[0]
    );
    assert!(reasons[1].starts_with("timeout"), "{}", reasons[1]);
    assert!(reasons[2].starts_with("memory"), "{}", reasons[2]);

    let (_, body) = http::get(addr, "/metrics").unwrap();
    assert_eq!(
        http::sample(
            &body,
            "foghorn_plugin_restarts_total",
            &[("component", "chaos")]
        ),
        Some(3.0)
    );
    assert_eq!(
        http::sample(
            &body,
            "foghorn_dead_lettered_events_total",
            &[("component", "chaos")]
        ),
        Some(3.0)
    );
}
