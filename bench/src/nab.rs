//! The Numenta Anomaly Benchmark: the `conformal` detector run as a plugin
//! in the agent (the NAB files through a file source, the `csv` parser and
//! `conformal`, to an NDJSON file), its scores written as NAB result files,
//! one per series, and scored by `tools/nab_score.py` with NAB's rules
//! (standard, reward_low_FP_rate and reward_low_FN_rate profiles; one
//! threshold per profile optimised over the subset, as NAB does over its
//! corpus). The bar is ARTime's 76.09, the best published standard score on
//! the subset (`datasets/nab/BASELINES.md`).
//!
//! One parameter set (the plugin's defaults) for every file, no look-ahead:
//! each score uses only the points before it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// ARTime's standard score on the subset, the best published one.
const BAR: f64 = 76.09;

/// The default NAB directory: `../shared/datasets/nab` from the repository.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/nab")
}

pub fn run(nab: &Path) -> anyhow::Result<String> {
    let nab = std::path::absolute(nab)?;
    let scorer = nab.join("../../tools/nab_score.py");
    anyhow::ensure!(
        nab.join("labels/combined_windows.json").exists() && scorer.exists(),
        "no NAB subset at {} (with tools/nab_score.py two levels up); pass --nab-dir",
        nab.display()
    );
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("out/nab");
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::create_dir_all(&out)?;
    let config = out.join("pipeline.yaml");
    std::fs::write(&config, pipeline(&nab, &out))?;
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("out/cache");
    let (wall, cpu) = crate::agent::run_to_end(&config, &cache)?;

    let results = out.join("conformal");
    let rows = write_results(&out.join("scores.ndjson"), &nab.join("data"), &results)?;
    let json = out.join("nab.json");
    let status = Command::new("python3")
        .arg(&scorer)
        .arg(&results)
        .arg("--nab-root")
        .arg(&nab)
        .arg("--json")
        .arg(&json)
        .stdout(std::process::Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "nab_score.py failed");
    let scores: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
    let profiles = &scores["detectors"]["conformal"]["profiles"];
    let total = |profile: &str| {
        profiles[profile]["normalised_total"]
            .as_f64()
            .unwrap_or(f64::NAN)
    };
    let standard = &profiles["standard"];
    let windows: u64 = per_file(standard, "windows_detected");
    let labelled: u64 = per_file(standard, "label_windows");
    let false_rows: u64 = per_file(standard, "fp");
    let threshold = standard["per_file"][0]["threshold"]
        .as_f64()
        .unwrap_or(f64::NAN);

    let mut report = String::new();
    writeln!(
        report,
        "### nab: {} files, {rows} rows: file source → csv → conformal (defaults) → NDJSON; scored by nab_score.py\n",
        labelled_files(standard)
    )?;
    writeln!(
        report,
        "| profile | conformal | ARTime (best published) |\n|---|---:|---:|"
    )?;
    for (profile, artime) in [
        ("standard", BAR),
        ("reward_low_FP_rate", 66.68),
        ("reward_low_FN_rate", 82.73),
    ] {
        writeln!(
            report,
            "| {profile} | {:.2} | {artime:.2} |",
            total(profile)
        )?;
    }
    writeln!(
        report,
        "\nStandard profile: {windows} of {labelled} windows detected, {false_rows} false-positive rows, threshold {threshold:.3}. \
         Bar (standard > {BAR}): {}. The agent took {wall:.1} s wall, {cpu:.1} s CPU.",
        if total("standard") > BAR {
            "met"
        } else {
            "not met"
        }
    )?;
    Ok(report)
}

fn per_file(profile: &serde_json::Value, key: &str) -> u64 {
    profile["per_file"].as_array().map_or(0, |files| {
        files.iter().filter_map(|f| f[key].as_u64()).sum()
    })
}

fn labelled_files(profile: &serde_json::Value) -> usize {
    profile["per_file"].as_array().map_or(0, Vec::len)
}

fn pipeline(nab: &Path, out: &Path) -> String {
    format!(
        r#"data_dir: {data}
sources:
  nab:
    type: file
    include: ["{nab}/data/*/*.csv"]
    read_from: beginning
    follow: false
    path_tag: file
processors:
  parse:
    inputs: [nab]
    plugin: builtin:csv
    config:
      header: true
      measurement: nab
      timestamp: {{ column: timestamp, format: "%Y-%m-%d %H:%M:%S" }}
      types: {{ value: float }}
  detect:
    inputs: [parse]
    plugin: builtin:conformal
sinks:
  scores: {{ type: file, inputs: [detect], path: {scores}, encoding: ndjson }}
"#,
        data = out.join("data").display(),
        nab = nab.display(),
        scores = out.join("scores.ndjson").display(),
    )
}

/// Split the agent's points by their `file` tag into NAB result files
/// (`<results>/<category>/conformal_<file>.csv`: timestamp, value,
/// anomaly_score); rows written in all.
fn write_results(scores: &Path, data: &Path, results: &Path) -> anyhow::Result<usize> {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut rows = 0;
    for line in std::fs::read_to_string(scores)?.lines() {
        let point: serde_json::Value = serde_json::from_str(line)?;
        let Some(file) = point["tags"]["file"].as_str() else {
            continue;
        };
        let csv = files
            .entry(file.to_owned())
            .or_insert_with(|| String::from("timestamp,value,anomaly_score\n"));
        let timestamp = point["timestamp"].as_str().unwrap_or_default();
        let fields = &point["fields"];
        writeln!(
            csv,
            "{},{},{}",
            timestamp.trim_end_matches('Z').replace('T', " "),
            fields["value"],
            fields["value_anomaly_score"].as_f64().unwrap_or(0.0)
        )?;
        rows += 1;
    }
    for (file, csv) in files {
        let relative = Path::new(&file).strip_prefix(data)?;
        let category = relative.parent().unwrap_or(Path::new(""));
        let name = relative.file_name().unwrap_or_default().to_string_lossy();
        let dir = results.join(category);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("conformal_{name}")), csv)?;
    }
    Ok(rows)
}
