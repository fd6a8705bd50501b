//! `kill -9`, then restart: detector state comes back from the last
//! snapshot, so a rolling window continues instead of starting empty.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::wait;

fn append(path: &Path, lines: &[String]) {
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
}

fn write_config(dir: &Path, data_dir: &Path) -> std::path::PathBuf {
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
    read_from: end
    poll_interval: 20ms
processors:
  parse:
    inputs: [bench]
    plugin: builtin:kv-parser
    config: {{ fields: {{ T: temperature }} }}
  outliers:
    inputs: [parse]
    plugin: builtin:zscore
    snapshot_interval: 100ms
    config: {{ fields: [temperature], window: 50, min_samples: 40, threshold: 4.0, emit_scores: true }}
sinks:
  scores:
    type: file
    inputs: [outliers]
    path: {scores}
  alerts:
    type: file
    inputs: [outliers.alerts]
    path: {alerts}
"#,
            data = data_dir.display(),
            input = dir.join("input.log").display(),
            scores = dir.join("scores.ndjson").display(),
            alerts = dir.join("alerts.ndjson").display(),
        ),
    )
    .unwrap();
    config
}

/// Runs the agent on `data_dir`: fills the window with `warmup` readings,
/// kills it with SIGKILL once a snapshot covers them, restarts it and sends
/// one outlier. Returns whether the outlier raised an alert.
fn outlier_alerts_after_restart(dir: &Path, data_dir: &Path, warmup: usize) -> bool {
    let input = dir.join("input.log");
    std::fs::write(&input, "").unwrap();
    let config = write_config(dir, data_dir);
    let scores = dir.join("scores.ndjson");

    let mut agent = Agent::start(dir, &config, &[]);
    agent.wait_for_log("connected", Duration::from_secs(60));
    let readings: Vec<String> = (0..warmup)
        .map(|i| format!("T:{}", 20.0 + f64::from(u8::try_from(i % 5).unwrap()) * 0.1))
        .collect();
    append(&input, &readings);
    wait::until(
        "every warm-up reading scored",
        Duration::from_secs(60),
        || (wait::read(&scores).lines().count() == warmup).then_some(()),
    );
    let saved = agent.logs().matches("snapshot saved").count();
    wait::until(
        "a snapshot taken after the warm-up",
        Duration::from_secs(30),
        || (agent.logs().matches("snapshot saved").count() > saved).then_some(()),
    );
    agent.kill9();

    let agent = Agent::start(dir, &config, &[]);
    agent.wait_for_log("connected", Duration::from_secs(60));
    append(&input, &["T:95.0".to_owned()]);
    wait::until("the outlier scored", Duration::from_secs(60), || {
        (wait::read(&scores).lines().count() == warmup + 1).then_some(())
    });
    drop(agent);
    wait::read(&dir.join("alerts.ndjson")).contains("zscore")
}

#[test]
fn kill_9_then_restart_continues_the_rolling_window() {
    let restored = tempfile::tempdir().unwrap();
    assert!(
        outlier_alerts_after_restart(restored.path(), &restored.path().join("data"), 45),
        "with its window restored, the detector flags the outlier at once"
    );
}

#[test]
fn without_a_snapshot_the_window_starts_empty() {
    // The control for the test above: a data_dir whose snapshot is wiped
    // before the restart detects nothing, since the window is too short.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.log");
    std::fs::write(&input, "").unwrap();
    let config = write_config(dir.path(), &dir.path().join("data"));
    let agent = Agent::start(dir.path(), &config, &[]);
    agent.wait_for_log("connected", Duration::from_secs(60));
    append(&input, &["T:20.0".to_owned(), "T:95.0".to_owned()]);
    wait::until("both readings scored", Duration::from_secs(60), || {
        (wait::read(&dir.path().join("scores.ndjson"))
            .lines()
            .count()
            == 2)
            .then_some(())
    });
    drop(agent);
    assert!(!wait::read(&dir.path().join("alerts.ndjson")).contains("zscore"));
}
