//! SIGTERM drains the pipeline and flushes every sink before the agent exits.

use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::wait;

#[test]
fn sigterm_flushes_sinks_before_exit() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.log");
    std::fs::write(&input, "T:20.0,V:5.0,S:OK\nT:95.0,V:5.0,S:WARNING_TEMP\n").unwrap();
    let report = dir.path().join("report.json");
    let config = dir.path().join("pipeline.yaml");
    // The report is written every hour: only the shutdown flush can write it
    // during this test.
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
sources:
  bench:
    type: file
    path: {input}
processors:
  parse:
    inputs: [bench]
    plugin: builtin:kv-parser
    config: {{ fields: {{ T: temperature, V: voltage, S: status }} }}
  limits:
    inputs: [parse]
    plugin: builtin:threshold
    config:
      rules: [{{ field: temperature, max: 80, severity: critical, description: "too hot: {{value}}" }}]
sinks:
  report:
    type: report
    inputs: [limits.alerts]
    path: {report}
    interval: 1h
"#,
            data = dir.path().join("data").display(),
            input = input.display(),
            report = report.display()
        ),
    )
    .unwrap();
    let mut agent = Agent::start(dir.path(), &config, &[]);
    agent.wait_for_log("too hot: 95", Duration::from_secs(60));
    assert!(
        !wait::read(&report).contains("too hot"),
        "the alert must not be in the report before shutdown"
    );

    let status = agent.terminate();
    assert!(
        status.success(),
        "exit status {status:?}:\n{}",
        agent.logs()
    );
    let written: serde_json::Value =
        serde_json::from_str(&wait::read(&report)).expect("report written at shutdown");
    assert_eq!(written[0]["description"], "too hot: 95");
    assert_eq!(written[0]["severity"], "critical");
    assert!(agent.logs().contains("SIGTERM"));
}

/// A SIGTERM while the pipeline is still being built (its plugins
/// compiling, the API already answering) is the agent's to handle: it
/// finishes starting and stops cleanly, rather than dying by the signal's
/// default action.
#[test]
fn sigterm_during_start_up_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = foghorn_tests::receiver::free_port();
    let config = dir.path().join("pipeline.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
api: {{ listen: "127.0.0.1:{port}" }}
sources:
  gen:
    type: generator
    interval: 100ms
processors:
  parse:
    inputs: [gen]
    plugin: builtin:kv-parser
  forest:
    inputs: [parse]
    plugin: builtin:isolation-forest
    config: {{ fields: [T] }}
sinks:
  out:
    type: blackhole
    inputs: [forest]
"#,
            data = dir.path().join("data").display(),
        ),
    )
    .unwrap();
    // A cache of its own: the plugins compile while the API already runs.
    let cache = dir.path().join("cache");
    let mut agent = Agent::start(
        dir.path(),
        &config,
        &[("FOGHORN_CACHE_DIR", cache.to_str().unwrap())],
    );
    wait::until("the API to listen", Duration::from_secs(60), || {
        let logs = agent.logs();
        assert!(!logs.contains("error"), "agent refused to start:\n{logs}");
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    let status = agent.terminate();
    assert!(status.success(), "{status}: {}", agent.logs());
    assert!(agent.logs().contains("shutting down"), "{}", agent.logs());
}
