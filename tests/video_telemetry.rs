//! The video-telemetry example, end to end: seeded client events produced to
//! a real Kafka broker (tansu) keyed by customer, the agent storing them as
//! gzip NDJSON under event-time hour partitions through a `kill -9`, and
//! the analytics team's DuckDB queries over the stored files giving what
//! they give over the events as produced.

use std::path::Path;
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::example::Example;
use foghorn_tests::kafka::Broker;
use foghorn_tests::{http, wait};
use serde_json::Value;

const EVENTS: usize = 20_000;
const TOPIC: &str = "acme-telemetry";
const EXAMPLE: Example = Example("video-telemetry");

/// What the example's `script` prints for `args`.
fn python(script: &str, args: &[&str]) -> String {
    String::from_utf8(EXAMPLE.run(script, args)).unwrap()
}

/// The queries' results over `source` (the lake or the events file).
fn queries(source: &Path) -> Value {
    serde_json::from_str(&python("queries.py", &[source.to_str().unwrap()])).unwrap()
}

/// Finished files in the lake (not the hidden ones being written).
fn finished(lake: &Path) -> usize {
    let mut count = 0;
    let mut dirs = vec![lake.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() {
                dirs.push(entry.path());
            } else if name.ends_with(".ndjson.gz") && !name.starts_with('.') {
                count += 1;
            }
        }
    }
    count
}

/// Numbers equal to 1e-9 relative (averages summed in another order may
/// part in the last bits), everything else exactly.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn video_events_land_once_in_hourly_gzip_partitions_across_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.ndjson");
    std::fs::write(
        &events,
        python("generate.py", &["--events", &EVENTS.to_string()]),
    )
    .unwrap();
    let broker = Broker::start(dir.path());
    broker.create_topic(TOPIC, 3);
    let produce = |first: usize, count: usize| {
        python(
            "produce.py",
            &[
                &broker.address,
                TOPIC,
                events.to_str().unwrap(),
                &first.to_string(),
                &count.to_string(),
            ],
        );
    };
    produce(0, EVENTS / 2);

    let out = dir.path().join("out");
    let lake = out.join("lake");
    let env = [
        ("KAFKA_BROKERS", broker.address.as_str()),
        ("OUT_DIR", out.to_str().unwrap()),
        ("ARCHIVE_AGE", "1s"),
        ("LIVE_INTERVAL", "1s"),
        ("METRICS_LISTEN", "127.0.0.1:0"),
    ];
    let config = EXAMPLE.path("pipeline.yaml");
    let mut agent = Agent::start(dir.path(), &config, &env);
    wait::until(
        "files finalized in the lake",
        Duration::from_secs(90),
        || (finished(&lake) >= 3).then_some(()),
    );
    agent.kill9();

    produce(EVENTS / 2, EVENTS - EVENTS / 2);
    let mut agent = Agent::start(dir.path(), &config, &env);
    let metrics = agent.metrics_addr();
    // Read to the end of every partition (the lag librdkafka reports every
    // 5 s); the shutdown below finalizes what is still open.
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let body = http::get(metrics, "/metrics")
            .map(|(_, body)| body)
            .unwrap_or_default();
        let lags: Vec<&str> = body
            .lines()
            .filter(|l| l.starts_with("foghorn_kafka_consumer_lag{"))
            .collect();
        if lags.len() == 3 && lags.iter().all(|l| l.ends_with(" 0")) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the topic not read to its end: {lags:?}, {} files\n{}",
            finished(&lake),
            agent.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // Live aggregates per hour, quality and device type.
    let served = wait::until(
        "hourly bandwidth percentiles",
        Duration::from_secs(30),
        || {
            http::metric(
                metrics,
                "video_bandwidth_mbps_p50",
                &[("quality", "HD"), ("device_type", "tv")],
            )
        },
    );
    assert!(served > 0.0);
    // The queries' other aggregates, live from the analysis sink, once it
    // has every event (each once, replays after the kill included).
    let produced = queries(&events);
    let statistic = |section: &str, group: &str, name: &str| {
        http::metric(
            metrics,
            "foghorn_analysis_statistic",
            &[("section", section), ("group", group), ("statistic", name)],
        )
    };
    wait::until(
        "the live report over every event",
        Duration::from_secs(60),
        || {
            let devices = produced["devices"].as_array()?;
            let total: f64 = devices
                .iter()
                .map(|d| statistic("devices", d["device_type"].as_str().unwrap(), "event_id"))
                .sum::<Option<f64>>()?;
            (total == EVENTS as f64).then_some(())
        },
    );
    let close =
        |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() <= 1e-9 * b.abs().max(1.0));
    for device in produced["devices"].as_array().unwrap() {
        let group = device["device_type"].as_str().unwrap();
        assert_eq!(
            statistic("devices", group, "event_id"),
            device["events"].as_f64()
        );
        assert_eq!(
            statistic("devices", group, "customer_id"),
            device["unique_users"].as_f64(),
            "{group}: unique viewers"
        );
        assert!(close(
            statistic("devices", group, "bandwidth_mbps"),
            device["avg_bandwidth"].as_f64().unwrap()
        ));
        assert!(close(
            statistic("devices", group, "completion_percentage"),
            device["avg_completion"].as_f64().unwrap()
        ));
    }
    for row in produced["errors"].as_array().unwrap() {
        let group = format!(
            "{}/{}",
            row["device_type"].as_str().unwrap(),
            row["category"].as_str().unwrap()
        );
        assert_eq!(
            statistic("errors", &group, "event_id"),
            row["events"].as_f64(),
            "errors {group}"
        );
    }
    for row in produced["buffering"].as_array().unwrap() {
        let group = row["category"].as_str().unwrap();
        assert_eq!(
            statistic("buffering", group, "event_id"),
            row["events"].as_f64(),
            "buffering {group}"
        );
        assert!(close(
            statistic("buffering", group, "buffering_duration_seconds"),
            row["avg_buffering_seconds"].as_f64().unwrap()
        ));
    }
    let last_hour = produced["hourly"].as_array().unwrap().last().unwrap();
    let hour = last_hour["hour"]
        .as_str()
        .unwrap()
        .replace('T', " ")
        .replace('Z', "");
    assert_eq!(
        statistic("hourly", &hour, "customer_id"),
        last_hour["unique_viewers"].as_f64(),
        "unique viewers of {hour}"
    );
    assert_eq!(
        statistic("hourly", &hour, "event_id"),
        last_hour["events"].as_f64()
    );
    assert!(close(
        statistic("hourly", &hour, "watch_duration_seconds"),
        last_hour["avg_watch_minutes"].as_f64().unwrap() * 60.0
    ));
    assert!(agent.terminate().success(), "{}", agent.logs());

    let stored = queries(&lake);
    assert_eq!(
        stored["distinct"],
        EVENTS,
        "every event in the lake ({} files):\n{}",
        finished(&lake),
        agent.logs()
    );
    let produced = queries(&events);
    assert_eq!(stored["misplaced"], 0, "every event under its own hour");
    let duplicates = stored["stored"].as_u64().unwrap() - EVENTS as u64;
    assert!(
        duplicates < (EVENTS / 2) as u64,
        "at least once: only a commit window comes twice, not {duplicates}"
    );
    for query in ["hourly", "bandwidth", "errors", "buffering", "devices"] {
        assert!(
            same(&stored[query], &produced[query]),
            "{query}: {:#} vs {:#}",
            stored[query],
            produced[query]
        );
    }
    assert_eq!(
        stored["hourly"].as_array().unwrap().len(),
        produced["hourly"].as_array().unwrap().len()
    );
    // No unfinished file is left, and none is plain text.
    let mut dirs = vec![lake];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() {
                assert!(name.contains('='), "hive-style partitions: {name}");
                dirs.push(entry.path());
            } else {
                assert!(
                    name.starts_with("events-") && name.ends_with(".ndjson.gz"),
                    "{name}"
                );
            }
        }
    }
    eprintln!("{duplicates} events stored twice across the kill");
}
