//! A plugin is untrusted: whatever it returns is checked at the boundary.
//! The hostile fixture returns each kind of malformed output on command; each
//! one is a plugin failure (the input dead-lettered with the reason, counted
//! as `invalid_output`, the plugin restarted), never a host panic. Floods of
//! metric names and log lines are cut at the plugin's limits. A plugin that
//! fails too often is reported failed in `/health` until it works again, and
//! the rest of the pipeline never stops.

use std::net::SocketAddr;
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::input::append;
use foghorn_tests::{http, wait};

/// A metric's value, 0 until it exists.
fn metric(addr: SocketAddr, name: &str, labels: &[(&str, &str)]) -> f64 {
    http::metric(addr, name, labels).unwrap_or(0.0)
}

/// Each malformed output the fixture can return, and what the reason says.
const MALFORMED: [(&str, &str); 14] = [
    ("short-series-index", "1 series indexes for 2 timestamps"),
    ("series-out-of-range", "refers to series 7"),
    ("short-column", "0 values for 1 points"),
    ("bad-present", "bitmap of 3 bytes"),
    ("text-past-end", "past the 3 bytes"),
    ("text-backwards", "before its start"),
    ("text-not-utf8", "not UTF-8"),
    ("text-split-char", "inside a UTF-8 character"),
    (
        "error-out-of-range",
        "record 1000000, but the input has 1 records",
    ),
    ("empty-kind", "empty kind"),
    ("too-many-labels", "1000 labels"),
    ("repeated-label", "label `field` is repeated"),
    ("unsorted-tags", "sorted by key"),
    ("empty-series-name", "empty series name"),
];

#[test]
fn malformed_output_and_floods_are_contained() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.log");
    std::fs::write(&input, "").unwrap();
    let points = dir.path().join("points.ndjson");
    let raw = dir.path().join("raw.log");
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
  hostile:
    inputs: [lines]
    plugin: {wasm}
    tick_interval: 50ms
    snapshot_interval: 200ms
    limits:
      snapshot: 1MiB
      metric_names: 100
      logs_per_second: 10
      restart: {{ backoff: 1ms, max_backoff: 1ms, max_failures: 3, window: 10m }}
sinks:
  out:
    type: file
    inputs: [hostile]
    path: {points}
    encoding: ndjson
  audit:
    type: file
    inputs: [lines]
    path: {raw}
  metrics:
    type: prometheus
    inputs: [hostile]
    listen: 127.0.0.1:0
"#,
            data = dir.path().join("data").display(),
            input = input.display(),
            points = points.display(),
            raw = raw.display(),
            wasm = env!("FIXTURE_HOSTILE_WASM"),
        ),
    )
    .unwrap();
    let agent = Agent::start(dir.path(), &config, &[]);
    let addr = agent.metrics_addr();
    let invalid = || {
        metric(
            addr,
            "foghorn_plugin_failures_total",
            &[("component", "hostile"), ("kind", "invalid_output")],
        )
    };
    let restarts = || {
        metric(
            addr,
            "foghorn_plugin_restarts_total",
            &[("component", "hostile")],
        )
    };
    let health = || http::get(addr, "/health");

    append(&input, &["ok"]);
    wait::until("the first point", Duration::from_secs(60), || {
        (wait::read(&points).lines().count() == 1).then_some(())
    });
    assert_eq!(health().unwrap().0, 200);

    // Every malformed output fails the call, one after the other.
    for (n, (command, _)) in (1..).zip(MALFORMED) {
        append(&input, &[command]);
        wait::until(
            &format!("`{command}` to fail and the plugin to restart"),
            Duration::from_secs(60),
            || (invalid() >= f64::from(n) && restarts() >= f64::from(n)).then_some(()),
        );
    }
    assert_eq!(invalid(), 14.0, "one failure per malformed output");

    // Failing over and over within the window: reported failed.
    let (status, body) = health().unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("hostile") && body.contains("invalid_output"),
        "{body}"
    );
    assert_eq!(
        metric(addr, "foghorn_component_up", &[("component", "hostile")]),
        0.0
    );

    // Each one is in the dead letter with its reason, nothing else is.
    let dead: Vec<serde_json::Value> =
        wait::read(&dir.path().join("data/dead_letter/hostile.ndjson"))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    assert_eq!(dead.len(), MALFORMED.len());
    for (entry, (command, reason)) in dead.iter().zip(MALFORMED) {
        assert_eq!(entry["record"], command);
        let got = entry["reason"].as_str().unwrap();
        assert!(
            got.starts_with("invalid_output in process") && got.contains(reason),
            "{command}: `{got}` should contain `{reason}`"
        );
    }

    // A call that works again: the plugin is healthy, and its state (the
    // records it has seen) was restored from its snapshot each time.
    append(&input, &["ok"]);
    wait::until(
        "the point after the failures",
        Duration::from_secs(60),
        || (wait::read(&points).lines().count() == 2).then_some(()),
    );
    assert_eq!(health().unwrap().0, 200);
    assert_eq!(
        metric(addr, "foghorn_component_up", &[("component", "hostile")]),
        1.0
    );

    // Floods: metric names past the limit and log lines past the rate are
    // dropped and counted, and the calls still succeed.
    append(&input, &["metric-flood"]);
    append(&input, &["log-flood"]);
    wait::until("the flood points", Duration::from_secs(60), || {
        (wait::read(&points).lines().count() == 4).then_some(())
    });
    let limited = |limit: &str| {
        metric(
            addr,
            "foghorn_plugin_limited_total",
            &[("component", "hostile"), ("limit", limit)],
        )
    };
    assert_eq!(limited("metric_names"), 900.0);
    let (_, body) = http::get(addr, "/metrics").unwrap();
    let names = body
        .lines()
        .filter(|l| l.starts_with("foghorn_plugin_counter{") && l.contains("component=\"hostile\""))
        .count();
    assert_eq!(names, 100);
    assert!(limited("log_rate") >= 980.0, "{}", limited("log_rate"));
    assert!(limited("log_length") <= 20.0);
    let longest = agent.logs().lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 5000, "a log line of {longest} bytes got through");

    // Bad `tick` output and an oversized snapshot are failures too.
    let before = invalid();
    append(&input, &["bad-tick"]);
    wait::until("a bad tick to fail", Duration::from_secs(60), || {
        (invalid() > before).then_some(())
    });
    let before = invalid();
    append(&input, &["huge-snapshot"]);
    wait::until("a huge snapshot to fail", Duration::from_secs(60), || {
        (invalid() > before).then_some(())
    });
    assert!(agent.logs().contains("more than limits.snapshot"));

    // The rest of the pipeline never stopped: every line reached the audit
    // file, and the agent still serves.
    // 21: `ok`, the 14 malformed, `ok`, the two floods, `bad-tick`,
    // `huge-snapshot` and this `ok`. (Waiting for 20 used to pass only by
    // catching the file before its last line, and hung when it missed.)
    append(&input, &["ok"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let audited = wait::read(&raw);
        let count = audited.lines().count();
        if count == 1 + MALFORMED.len() + 6 {
            break;
        }
        assert!(
            count < 1 + MALFORMED.len() + 6 && std::time::Instant::now() < deadline,
            "the audit file should hold the 21 lines written, once each; it has {count}:\n{audited}\nagent logs:\n{}",
            agent.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(health().is_some());
}
