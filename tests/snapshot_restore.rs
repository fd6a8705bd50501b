//! `kill -9`, then restart: detector state comes back from the last
//! snapshot, so a rolling window continues instead of starting empty.

use std::path::Path;
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::input::append;
use foghorn_tests::wait;

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
  # Scores and alerts in one file: one sink writes them in the order the
  # processor sent them, so once a later score is there, so is every
  # earlier alert.
  out:
    type: file
    inputs: [outliers, outliers.alerts]
    path: {out}
"#,
            data = data_dir.display(),
            input = dir.join("input.log").display(),
            out = dir.join("out.ndjson").display(),
        ),
    )
    .unwrap();
    config
}

fn scored(out: &Path) -> usize {
    wait::read(out)
        .lines()
        .filter(|l| l.contains("\"fields\""))
        .count()
}

/// Whether an alert for the outlier reading (95) is in `out`.
fn outlier_alerted(out: &Path) -> bool {
    wait::read(out)
        .lines()
        .any(|l| l.contains("\"type\":\"zscore\"") && l.contains("\"value\":95.0"))
}

/// Send the outlier, then a normal reading, and wait until the normal one is
/// scored: by then the outlier's alert, if any, is written.
fn send_outlier(input: &Path, out: &Path, scored_before: usize) {
    append(input, &["T:95.0".to_owned(), "T:20.1".to_owned()]);
    wait::until(
        "the outlier and the reading after it scored",
        Duration::from_secs(60),
        || (scored(out) == scored_before + 2).then_some(()),
    );
}

/// Runs the agent on `data_dir`: fills the window with `warmup` readings,
/// kills it with SIGKILL once a snapshot covers them, (optionally wipes the
/// state store,) restarts it and sends one outlier. Returns whether the
/// outlier raised an alert.
fn outlier_alerts_after_restart(
    dir: &Path,
    data_dir: &Path,
    warmup: usize,
    wipe_state: bool,
) -> bool {
    let input = dir.join("input.log");
    std::fs::write(&input, "").unwrap();
    let config = write_config(dir, data_dir);
    let out = dir.join("out.ndjson");

    let mut agent = Agent::start(dir, &config, &[]);
    agent.wait_for_log("connected", Duration::from_secs(60));
    let readings: Vec<String> = (0..warmup)
        .map(|i| format!("T:{}", 20.0 + f64::from(u8::try_from(i % 5).unwrap()) * 0.1))
        .collect();
    append(&input, &readings);
    wait::until(
        "every warm-up reading scored",
        Duration::from_secs(60),
        || (scored(&out) == warmup).then_some(()),
    );
    let saved = agent.logs().matches("snapshot saved").count();
    wait::until(
        "a snapshot taken after the warm-up",
        Duration::from_secs(30),
        || (agent.logs().matches("snapshot saved").count() > saved).then_some(()),
    );
    agent.kill9();
    if wipe_state {
        std::fs::remove_file(data_dir.join("state.redb")).unwrap();
    }

    let agent = Agent::start(dir, &config, &[]);
    agent.wait_for_log("connected", Duration::from_secs(60));
    send_outlier(&input, &out, warmup);
    drop(agent);
    outlier_alerted(&out)
}

#[test]
fn kill_9_then_restart_continues_the_rolling_window() {
    let restored = tempfile::tempdir().unwrap();
    assert!(
        outlier_alerts_after_restart(restored.path(), &restored.path().join("data"), 45, false),
        "with its window restored, the detector flags the outlier at once"
    );
}

#[test]
fn without_the_snapshot_the_window_starts_empty() {
    // The control for the test above: the same run with the state store
    // wiped before the restart flags nothing, since the window is too short.
    let wiped = tempfile::tempdir().unwrap();
    assert!(
        !outlier_alerts_after_restart(wiped.path(), &wiped.path().join("data"), 45, true),
        "a fresh window is too short to flag anything"
    );
}
