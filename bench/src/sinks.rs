//! The analysis and archive sinks against a blackhole: the same generated
//! product-fleet CSV (the product-lab example's columns) replayed through
//! the csv parser into each, with the release agent as a separate process.
//! Rows per second and per CPU-second, the sink's own CPU per row (the
//! run's CPU less the blackhole run's, in the same round), and peak RSS.

use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use crate::agent;
use crate::measure::{median, mib};

/// Fleet devices, as in the product-lab generator.
const DEVICES: u64 = 50;
const PRODUCTS: [&str; 4] = ["sensor", "gateway", "controller", "camera"];
const LOCATIONS: [&str; 5] = ["plant-a", "plant-b", "warehouse", "office", "field"];

/// `rows` rows over one day from 2024-01-01 (24 hourly partitions for the
/// archive), sorted, values from a fixed xorshift so every run reads the
/// same file.
fn generate(dir: &Path, rows: u64) -> anyhow::Result<PathBuf> {
    let path = dir.join(format!("fleet-{rows}-1d.csv"));
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
        return Ok(path);
    }
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    writeln!(
        out,
        "timestamp,device_id,product_type,location,temperature_celsius,cpu_usage_percent,memory_usage_percent,power_consumption_watts,network_latency_ms,error_count"
    )?;
    let start = 1_704_067_200_i64; // 2024-01-01 00:00:00 UTC
    let span = 86_400;
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        #[allow(clippy::cast_precision_loss, reason = "53 random bits")]
        let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
        unit
    };
    for row in 0..rows {
        #[allow(clippy::cast_possible_wrap, reason = "rows far below 2^63")]
        let at = start + (row as i64 * span) / rows.max(1) as i64;
        let time = time::OffsetDateTime::from_unix_timestamp(at)?;
        let device = row % DEVICES;
        #[allow(clippy::cast_possible_truncation, reason = "small indexes")]
        let (product, location) = (
            PRODUCTS[(device % 4) as usize],
            LOCATIONS[(device % 5) as usize],
        );
        let fault = next() < 0.05;
        let scale = if fault { 1.8 } else { 1.0 };
        writeln!(
            out,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02},dev-{device:03},{product},{location},{:.2},{:.2},{:.2},{:.2},{:.2},{}",
            time.year(),
            u8::from(time.month()),
            time.day(),
            time.hour(),
            time.minute(),
            time.second(),
            (40.0 + 10.0 * next()) * scale,
            (30.0 + 40.0 * next()) * scale.min(1.5),
            20.0 + 80.0 * next(),
            (100.0 + 50.0 * next()) * scale,
            5.0 + 20.0 * next(),
            if fault {
                5 + (next() * 15.0) as u32
            } else {
                u32::from(next() < 0.1)
            },
        )?;
    }
    out.flush()?;
    Ok(path)
}

/// The product-lab example's csv stage, reading `input`.
fn parse_stage(input: &Path) -> String {
    format!(
        r#"
sources:
  history:
    type: file
    path: {}
    follow: false
    read_from: beginning
processors:
  parse:
    inputs: [history]
    plugin: builtin:csv
    config:
      columns: [timestamp, device_id, product_type, location, temperature_celsius, cpu_usage_percent, memory_usage_percent, power_consumption_watts, network_latency_ms, error_count]
      measurement: fleet
      tag_columns: [device_id, product_type, location]
      timestamp: {{ column: timestamp, format: "%Y-%m-%d %H:%M:%S" }}
      types: {{ temperature_celsius: float, cpu_usage_percent: float, memory_usage_percent: float, power_consumption_watts: float, network_latency_ms: float, error_count: int }}
"#,
        input.display()
    )
}

/// An archive sink named `lake` reading `input`, writing under the
/// variant's own directory, with `options` (YAML lines at sink depth).
fn archive(dir: &Path, name: &str, input: &str, options: &str) -> String {
    format!(
        "  lake:\n    type: archive\n    inputs: [{input}]\n    path: {}\n    {options}\n",
        dir.join(format!("out-{name}/lake")).display()
    )
}

/// The variants: a name, what it is, and its pipeline file (`None`: the
/// product-lab example's own, run with `INPUT` and `OUT_DIR`).
fn pipelines(
    dir: &Path,
    input: &Path,
) -> anyhow::Result<Vec<(&'static str, &'static str, PathBuf)>> {
    let parse = parse_stage(input);
    let variants = [
        (
            "blackhole",
            "csv → blackhole (the baseline)",
            "  sink:\n    type: blackhole\n    inputs: [parse]\n".to_owned(),
        ),
        (
            "archive-points",
            "csv → archive: points as gzip NDJSON, hourly partitions of their time",
            archive(dir, "archive-points", "parse", "compression: gzip"),
        ),
        (
            "archive-fast",
            "csv → archive: the same, gzip `compression_level: 1`",
            archive(
                dir,
                "archive-fast",
                "parse",
                "compression: gzip\n    compression_level: 1",
            ),
        ),
        (
            "archive-plain",
            "csv → archive: points as plain NDJSON (no compression)",
            archive(dir, "archive-plain", "parse", "compression: none"),
        ),
        (
            "archive-records",
            "file → archive: raw lines as gzip NDJSON, no parser",
            archive(dir, "archive-records", "history", "compression: gzip"),
        ),
    ];
    let mut out = Vec::new();
    for (name, what, sink) in variants {
        let config = dir.join(format!("sinks-{name}.yaml"));
        let data = dir.join(format!("out-{name}/data"));
        std::fs::write(
            &config,
            format!("data_dir: {}\n{parse}sinks:\n{sink}", data.display()),
        )?;
        out.push((name, what, config));
    }
    let example =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/product-lab/pipeline.yaml");
    out.push((
        "analysis",
        "csv → analysis: the product-lab example's whole report (clean, groups, anomalies, resample, rolling 24 h at every row, JSON and HTML)",
        example,
    ));
    Ok(out)
}

/// Run the benchmark; returns the markdown report.
pub fn run(rows: u64, repeat: usize) -> anyhow::Result<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("out/sinks");
    std::fs::create_dir_all(&dir)?;
    let input = generate(&dir, rows)?;
    let bytes = std::fs::metadata(&input)?.len();
    let variants = pipelines(&dir, &input)?;
    let cache = dir.join("cache");
    let count = variants.len();
    let (mut rates, mut per_cpu, mut peaks, mut own) = (
        vec![vec![]; count],
        vec![vec![]; count],
        vec![vec![]; count],
        vec![vec![]; count],
    );
    for round in 0..=repeat {
        let mut baseline = 0.0;
        for (k, (name, _, config)) in variants.iter().enumerate() {
            let out = dir.join(format!("out-{name}"));
            let _ = std::fs::remove_dir_all(&out);
            let out_text = out.display().to_string();
            let input_text = input.display().to_string();
            let env = [
                ("INPUT", input_text.as_str()),
                ("OUT_DIR", out_text.as_str()),
            ];
            let run = agent::run_to_peak(config, &cache, &env)?;
            if k == 0 {
                baseline = run.cpu;
            }
            if round == 0 {
                continue; // a warm-up: compile cache and page cache
            }
            #[allow(clippy::cast_precision_loss, reason = "rates")]
            let n = rows as f64;
            rates[k].push(n / run.wall);
            per_cpu[k].push(n / run.cpu);
            #[allow(clippy::cast_precision_loss, reason = "KiB")]
            peaks[k].push(run.peak_kib as f64);
            own[k].push((run.cpu - baseline) / n * 1e9);
        }
    }
    let mut report = String::new();
    writeln!(
        report,
        "### sinks: analysis and archive against a blackhole"
    )?;
    writeln!(
        report,
        "\n{rows} product-fleet CSV rows over one day ({:.0} MiB, 10 columns, {DEVICES} devices) replayed from a file through the csv parser; median of {repeat} runs after a warm-up; a sink's own CPU is its run's CPU less the blackhole run's in the same round\n",
        bytes as f64 / 1_048_576.0
    )?;
    writeln!(
        report,
        "| pipeline | k rows/s | k rows/CPU-s | sink CPU ns/row | peak RSS MiB |"
    )?;
    writeln!(report, "| --- | ---: | ---: | ---: | ---: |")?;
    for (k, (_, what, _)) in variants.iter().enumerate() {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "KiB"
        )]
        let peak = median(&mut peaks[k]) as u64;
        let sink = if k == 0 {
            "—".to_owned()
        } else {
            format!("{:.0}", median(&mut own[k]))
        };
        writeln!(
            report,
            "| {what} | {:.0} | {:.0} | {sink} | {:.0} |",
            median(&mut rates[k]) / 1e3,
            median(&mut per_cpu[k]) / 1e3,
            mib(peak)
        )?;
    }
    Ok(report)
}
