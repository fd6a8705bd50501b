//! A serial device that disappears and comes back: the source reconnects
//! with backoff and resumes reading.

use std::io::Write;
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::pty::PtyPair;
use foghorn_tests::wait;

fn send(pty: &PtyPair, line: &str) {
    let mut host = std::fs::OpenOptions::new()
        .write(true)
        .open(&pty.host)
        .unwrap();
    writeln!(host, "{line}").unwrap();
}

#[test]
fn serial_source_reconnects_when_the_device_returns() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw.log");
    let mut pty = PtyPair::start(dir.path());
    let config = dir.path().join("pipeline.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
sources:
  bench:
    type: serial
    port: {port}
    audit_log: {raw}
    reconnect: {{ initial_backoff: 50ms, max_backoff: 200ms }}
    batch: {{ max_records: 1, linger: 1ms }}
sinks:
  out:
    type: console
    inputs: [bench]
"#,
            data = dir.path().join("data").display(),
            port = pty.device.display(),
            raw = raw.display()
        ),
    )
    .unwrap();
    let agent = Agent::start(dir.path(), &config, &[]);
    agent.wait_for_log("connected", Duration::from_secs(60));
    send(&pty, "T:1.0,V:5.0,S:OK");
    wait::until(
        "the first line in the audit log",
        Duration::from_secs(30),
        || wait::read(&raw).contains("T:1.0").then_some(()),
    );

    pty.stop();
    agent.wait_for_log("retrying", Duration::from_secs(30));
    let connects = agent.logs().matches("connected").count();
    let pty = PtyPair::start(dir.path());
    wait::until("a reconnect", Duration::from_secs(30), || {
        (agent.logs().matches("connected").count() > connects).then_some(())
    });
    send(&pty, "T:2.0,V:5.0,S:OK");
    wait::until(
        "the line after the reconnect",
        Duration::from_secs(30),
        || wait::read(&raw).contains("T:2.0").then_some(()),
    );
    assert!(agent.logs().contains("retrying"));
}
