//! Hot reload under load: a generator through kv-parser and threshold to
//! file sinks, reloaded 20 times (threshold changes, a sink added and
//! removed, one invalid config, one SIGHUP with nothing changed). Every
//! generated record reaches the sink that existed for its whole life exactly
//! once, and a threshold change applies to every record received after the
//! reload.

use std::path::Path;
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::wait;

/// More than the test lasts: the generator is still running when it stops
/// the agent.
const COUNT: u64 = 100_000;

fn pipeline(dir: &Path, max: f64, extra: bool, invalid: bool) -> String {
    pipeline_at(dir, "1ms", max, extra, invalid)
}

fn pipeline_at(dir: &Path, interval: &str, max: f64, extra: bool, invalid: bool) -> String {
    let extra = if extra {
        format!(
            "  extra: {{ type: file, inputs: [parse], path: {}, encoding: ndjson }}\n",
            dir.join("extra.ndjson").display()
        )
    } else {
        String::new()
    };
    let invalid = if invalid { "    no_such_key: 1\n" } else { "" };
    format!(
        r#"
data_dir: {data}
sources:
  gen:
    type: generator
    interval: {interval}
    count: {COUNT}
    faults: {{ spike_probability: 0.0, voltage_fault_probability: 0.0, malformed_probability: 0.0 }}
processors:
  parse:
    inputs: [gen]
    plugin: builtin:kv-parser
    config: {{ measurement: bench, fields: {{ T: temperature, V: voltage, S: status }} }}
  limits:
    inputs: [parse]
{invalid}    plugin: builtin:threshold
    config:
      rules: [{{ field: temperature, max: {max}, severity: warning, description: "max {{max}}", resolved_description: "max {{max}}" }}]
sinks:
  all: {{ type: file, inputs: [parse], path: {all}, encoding: ndjson }}
  alerts: {{ type: file, inputs: [limits.alerts], path: {alerts}, encoding: ndjson }}
{extra}"#,
        data = dir.join("data").display(),
        all = dir.join("all.ndjson").display(),
        alerts = dir.join("alerts.ndjson").display(),
    )
}

fn fields(path: &Path) -> Vec<String> {
    wait::read(path)
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value["fields"].to_string()
        })
        .collect()
}

fn reloads(agent: &Agent) -> usize {
    agent.logs().matches("config reloaded").count()
        + agent.logs().matches("config not reloaded").count()
}

/// When each alert in the file was raised, in ns since the Unix epoch, less
/// a millisecond: timestamps have millisecond precision, so this is the
/// earliest the record could have been received.
fn alert_times(path: &Path) -> Vec<i64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|alert| {
            let at = time::OffsetDateTime::parse(
                alert["timestamp"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap();
            i64::try_from(at.unix_timestamp_nanos()).unwrap() - 1_000_000
        })
        .collect()
}

/// Now, in ns since the Unix epoch.
fn now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_nanos()).unwrap()
}

#[test]
fn twenty_reloads_under_load_lose_and_repeat_nothing() {
    // Reference: the same generator, no reloads.
    let reference = tempfile::tempdir().unwrap();
    let config = reference.path().join("pipeline.yaml");
    // Seeded, so pacing does not change the lines: run it flat out.
    std::fs::write(
        &config,
        pipeline_at(reference.path(), "0s", 25.0, false, false),
    )
    .unwrap();
    let mut agent = Agent::start(reference.path(), &config, &[]);
    assert!(agent.wait_exit(Duration::from_secs(120)).success());
    let expected = fields(&reference.path().join("all.ndjson"));
    assert_eq!(expected.len() as u64, COUNT);

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeline.yaml");
    std::fs::write(&config, pipeline(dir.path(), 25.0, false, false)).unwrap();
    let mut agent = Agent::start(dir.path(), &config, &[]);
    agent.wait_for_log("running", Duration::from_secs(60));
    // (written at, applied by, threshold in force after): each threshold is
    // unique, so an alert names the config that raised it.
    let mut rounds: Vec<(i64, i64, f64)> = Vec::new();
    let mut max = 25.0;
    let mut extra = false;
    for round in 1..=20_u8 {
        let before = reloads(&agent);
        let invalid = round == 13;
        let written = now();
        if round == 17 {
            // Nothing changed: a SIGHUP reloads the same file.
            agent.hangup();
        } else {
            if !invalid {
                max = f64::from(2490 + u16::from(round)) / 100.0;
                if round % 5 == 0 {
                    extra = !extra;
                }
            }
            std::fs::write(&config, pipeline(dir.path(), max, extra, invalid)).unwrap();
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while reloads(&agent) <= before {
            let logs = agent.logs();
            let tail: Vec<&str> = logs.lines().rev().take(30).collect();
            assert!(
                std::time::Instant::now() < deadline,
                "round {round}: no reload in 30s; the agent's last lines:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        rounds.push((written, now(), max));
    }
    // Let alerts from records after the reloads arrive before stopping (on a
    // loaded machine the rounds can take less time than a crossing needs).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while alert_times(&dir.path().join("alerts.ndjson"))
        .iter()
        .filter(|at| **at > rounds[0].1)
        .count()
        < 3
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no alerts after the reloads in 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGTERM drains: what was generated is delivered.
    assert!(agent.terminate().success(), "{}", agent.logs());
    let logs = agent.logs();
    assert_eq!(
        logs.matches("config not reloaded").count(),
        1,
        "the invalid one"
    );
    assert!(logs.contains("no_such_key"), "its error is reported");

    // The sink that lived through every reload got every record generated
    // until the stop, once, in order: the reference run's first records.
    let all = fields(&dir.path().join("all.ndjson"));
    assert!(all.len() > 1000, "{} records", all.len());
    assert!(
        all.len() < expected.len(),
        "the generator was still running"
    );
    assert!(
        all == expected[..all.len()],
        "lost, repeated or reordered records"
    );
    // The sink that came and went got some, never more.
    let extra = fields(&dir.path().join("extra.ndjson"));
    assert!(!extra.is_empty());
    assert!(extra.len() < all.len());

    // An alert from a record received after a reload was applied carries
    // that reload's threshold, or a later one's written before the record.
    let alerts = wait::read(&dir.path().join("alerts.ndjson"));
    let mut checked = 0;
    for (line, at) in alerts
        .lines()
        .zip(alert_times(&dir.path().join("alerts.ndjson")))
    {
        let alert: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(applied) = rounds.iter().rposition(|(_, applied, _)| *applied < at) else {
            continue;
        };
        let allowed: Vec<String> = rounds[applied..]
            .iter()
            .filter(|(written, _, _)| *written < at + 1_000_000)
            .map(|(_, _, max)| format!("max {max}"))
            .collect();
        let description = alert["description"].as_str().unwrap();
        assert!(
            allowed.iter().any(|a| a == description),
            "{line}: allowed {allowed:?}"
        );
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} alerts after a change");
}
