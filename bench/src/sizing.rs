//! Sizing: what a series and a plugin cost in memory, for
//! `docs/operations.md`.
//!
//! The release agent as a process over a generated NDJSON file:
//! - series: 1,000, 10,000 and 100,000 devices (20 readings each, taking
//!   turns) through json → zscore (window 100) + threshold → blackhole; the
//!   peak RSS of each, and the slope between the first and the last, in
//!   bytes per series (the detectors' state, the parser's series table);
//! - plugins: 1, 4 and 16 zscore processors side by side over the 1,000
//!   devices; the slope in peak RSS per plugin instance (its linear memory,
//!   its instance, its channel and task).
//!
//! Throughput per core is the `e2e` benchmark's.

use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use crate::agent;
use crate::measure::{median, mib};

const READINGS_PER_DEVICE: u64 = 20;

fn generate(path: &Path, devices: u64) -> anyhow::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    for reading in 0..READINGS_PER_DEVICE {
        for device in 0..devices {
            let t = 50.0 + ((device * 31 + reading * 7) % 100) as f64 / 10.0;
            writeln!(out, r#"{{"device":"dev-{device}","t":{t:.1}}}"#)?;
        }
    }
    out.flush()?;
    Ok(())
}

fn pipeline(dir: &Path, input: &Path, detectors: usize) -> anyhow::Result<PathBuf> {
    let config = dir.join(format!("sizing-{detectors}.yaml"));
    let mut yaml = format!(
        r#"
data_dir: {data}
sources:
  lines:
    type: file
    path: {input}
    follow: false
processors:
  parse:
    inputs: [lines]
    plugin: builtin:json
    config:
      measurement: device
      tag_paths: {{ device: device }}
      fields: {{ t: temperature }}
  limits:
    inputs: [parse]
    plugin: builtin:threshold
    config:
      rules: [{{ field: temperature, max: 80 }}]
    limits: {{ memory: 1GiB }}
"#,
        data = dir.join("data").display(),
        input = input.display(),
    );
    let mut inputs = vec!["limits.alerts".to_owned()];
    for n in 0..detectors {
        write!(
            yaml,
            r#"  zscore_{n}:
    inputs: [parse]
    plugin: builtin:zscore
    config: {{ fields: [temperature], window: 100 }}
    limits: {{ memory: 1GiB }}
"#
        )?;
        inputs.push(format!("zscore_{n}.alerts"));
    }
    write!(
        yaml,
        "sinks:\n  sink:\n    type: blackhole\n    inputs: [{}]\n",
        inputs.join(", ")
    )?;
    std::fs::write(&config, yaml)?;
    Ok(config)
}

/// The median peak RSS in KiB over `repeat` runs of `config`.
fn peak(config: &Path, dir: &Path, repeat: usize) -> anyhow::Result<f64> {
    let cache = dir.join("cache");
    let mut peaks = Vec::new();
    for _ in 0..repeat {
        let _ = std::fs::remove_dir_all(dir.join("data"));
        let run = agent::run_to_peak(config, &cache, &[])?;
        peaks.push(run.peak_kib as f64);
    }
    Ok(median(&mut peaks))
}

/// Run the benchmark; returns the markdown report.
pub fn run(repeat: usize) -> anyhow::Result<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("out")
        .join("sizing");
    std::fs::create_dir_all(&dir)?;
    let mut report = String::new();
    writeln!(
        report,
        "### sizing: peak RSS by series and by plugin (release agent, median of {repeat})\n"
    )?;
    writeln!(
        report,
        "json → threshold + zscore (window 100) → blackhole, {READINGS_PER_DEVICE} readings per device\n"
    )?;
    writeln!(report, "| devices (series) | peak RSS |")?;
    writeln!(report, "| --- | --- |")?;
    let mut by_series = Vec::new();
    for devices in [1_000_u64, 10_000, 100_000] {
        let input = dir.join(format!("devices-{devices}.ndjson"));
        generate(&input, devices)?;
        let config = pipeline(&dir, &input, 1)?;
        let kib = peak(&config, &dir, repeat)?;
        writeln!(report, "| {devices} | {:.1} MiB |", mib(kib as u64))?;
        by_series.push((devices, kib));
    }
    let (first, last) = (by_series[0], by_series[by_series.len() - 1]);
    let per_series = (last.1 - first.1) * 1024.0 / (last.0 - first.0) as f64;
    writeln!(
        report,
        "\nPer series (threshold and a zscore with 100 values of window): {per_series:.0} bytes\n"
    )?;

    writeln!(report, "| zscore processors (1,000 series) | peak RSS |")?;
    writeln!(report, "| --- | --- |")?;
    let input = dir.join("devices-1000.ndjson");
    let mut by_plugins = Vec::new();
    for detectors in [1_usize, 4, 16] {
        let config = pipeline(&dir, &input, detectors)?;
        let kib = peak(&config, &dir, repeat)?;
        writeln!(report, "| {detectors} | {:.1} MiB |", mib(kib as u64))?;
        by_plugins.push((detectors, kib));
    }
    let (first, last) = (by_plugins[0], by_plugins[by_plugins.len() - 1]);
    let per_plugin = (last.1 - first.1) / (last.0 - first.0) as f64;
    writeln!(
        report,
        "\nPer plugin instance (zscore over 1,000 series): {:.2} MiB",
        per_plugin / 1024.0
    )?;
    Ok(report)
}
