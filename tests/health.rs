//! The agent API: `/health` and `/ready` tell the truth, independent of the
//! sinks; a sink that cannot write (a full disk, here `/dev/full`) retries,
//! shows as degraded, and its source commits nothing it did not write.

use std::path::Path;
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::http::{get, sample};
use foghorn_tests::wait;

fn config(dir: &Path, out: &str) -> std::path::PathBuf {
    let config = dir.join("pipeline.yaml");
    std::fs::write(dir.join("in.log"), "T:1\nT:2\nT:3\n").unwrap();
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
api: {{ listen: "127.0.0.1:0" }}
sources:
  input: {{ type: file, path: {input}, poll_interval: 20ms }}
processors:
  parse: {{ inputs: [input], plugin: "builtin:kv-parser" }}
sinks:
  out: {{ type: file, inputs: [parse], path: {out}, encoding: ndjson }}
"#,
            data = dir.join("data").display(),
            input = dir.join("in.log").display(),
        ),
    )
    .unwrap();
    config
}

#[test]
fn health_and_ready_answer_on_the_agent_api() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ndjson");
    let config = config(dir.path(), &out.display().to_string());
    let mut agent = Agent::start(dir.path(), &config, &[]);
    let addr = agent.api_addr();
    let ready = wait::until("/ready to answer 200", Duration::from_secs(30), || {
        get(addr, "/ready").filter(|(status, _)| *status == 200)
    });
    assert!(ready.1.contains("\"input\""), "{}", ready.1);
    let (status, body) = get(addr, "/health").unwrap();
    assert_eq!(status, 200, "{body}");
    wait::until("the lines in the output", Duration::from_secs(30), || {
        (wait::read(&out).lines().count() == 3).then_some(())
    });
    let (_, metrics) = get(addr, "/metrics").unwrap();
    assert_eq!(
        sample(
            &metrics,
            "foghorn_sink_delivered_events_total",
            &[("component", "out")]
        ),
        Some(3.0)
    );
    assert!(agent.terminate().success());
}

#[test]
fn a_sink_that_cannot_write_is_degraded_and_nothing_is_committed() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "/dev/full");
    let mut agent = Agent::start(dir.path(), &config, &[]);
    let addr = agent.api_addr();
    let body = wait::until("/health to answer 503", Duration::from_secs(30), || {
        get(addr, "/health").filter(|(status, _)| *status == 503)
    })
    .1;
    assert!(body.contains("degraded"), "{body}");
    assert!(body.contains("No space left"), "{body}");
    let (_, metrics) = get(addr, "/metrics").unwrap();
    assert!(
        sample(
            &metrics,
            "foghorn_sink_retries_total",
            &[("component", "out")]
        )
        .unwrap()
            >= 1.0
    );
    assert_eq!(
        sample(
            &metrics,
            "foghorn_source_checkpoints_total",
            &[("component", "input")]
        ),
        None,
        "nothing was written, so nothing is committed"
    );
    // At shutdown it gives up on what it could not write (left for the next
    // run) and says so.
    let stopped = agent.terminate();
    let logs = agent.logs();
    assert!(logs.contains("giving up at shutdown"), "{logs}");
    assert!(!stopped.success(), "undelivered data is a failed exit");
    // Once the disk has room, the next run delivers every line.
    let out = dir.path().join("out.ndjson");
    let config = self::config(dir.path(), &out.display().to_string());
    std::fs::write(dir.path().join("in.log"), "T:1\nT:2\nT:3\n").unwrap();
    let mut agent = Agent::start(dir.path(), &config, &[]);
    wait::until("every line in the output", Duration::from_secs(30), || {
        (wait::read(&out).lines().count() == 3).then_some(())
    });
    assert!(agent.terminate().success());
}
