//! End to end: file → kv-parser → threshold + zscore → report + blackhole.

use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use crate::agent;
use crate::measure::median;

/// Generated bench-device lines: a temperature random walk with rare spikes
/// and voltage faults, and one malformed line in ten thousand.
fn generate(path: &Path, lines: u64) -> anyhow::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut temperature: f64 = 25.0;
    for _ in 0..lines {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let r = state >> 33;
        #[allow(clippy::cast_precision_loss, reason = "a random fraction")]
        let step = ((r % 600) as f64 - 300.0) / 1000.0;
        temperature = (temperature + step).clamp(18.0, 35.0);
        match r % 10_000 {
            0 => writeln!(out, "T:abc,V:5.0,S:OK")?,
            1..=3 => writeln!(out, "T:95.5,V:5.00,S:WARNING_TEMP")?,
            4..=6 => writeln!(out, "T:{temperature:.1},V:6.10,S:WARNING_VOLT")?,
            _ => writeln!(out, "T:{temperature:.1},V:{:.2},S:OK", 5.0 + step / 10.0)?,
        }
    }
    out.flush()?;
    Ok(())
}

fn pipeline(dir: &Path, input: &Path) -> anyhow::Result<PathBuf> {
    let config = dir.join("e2e.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
sources:
  lines:
    type: file
    path: {input}
    follow: false
    batch: {{ max_records: 1024, linger: 50ms }}
processors:
  parse:
    inputs: [lines]
    plugin: builtin:kv-parser
    config:
      measurement: bench_device
      fields: {{ T: temperature, V: voltage, S: status }}
      types: {{ temperature: float, voltage: float, status: string }}
  limits:
    inputs: [parse]
    plugin: builtin:threshold
    config:
      rules:
        - {{ field: temperature, max: 80, severity: critical }}
        - {{ field: voltage, min: 4.5, max: 5.5, severity: critical }}
  outliers:
    inputs: [parse]
    plugin: builtin:zscore
    config: {{ fields: [temperature], window: 100, threshold: 4.0 }}
sinks:
  report:
    type: report
    inputs: [limits.alerts, outliers.alerts]
    path: {report}
    interval: 10s
  sink:
    type: blackhole
    inputs: [parse]
"#,
            data = dir.join("data").display(),
            input = input.display(),
            report = dir.join("report.json").display(),
        ),
    )?;
    Ok(config)
}

/// Run the benchmark; returns the markdown report.
pub fn run(lines: u64, repeat: usize) -> anyhow::Result<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("out");
    std::fs::create_dir_all(&dir)?;
    let input = dir.join(format!("bench-device-{lines}.log"));
    generate(&input, lines)?;
    let bytes = std::fs::metadata(&input)?.len();
    let config = pipeline(&dir, &input)?;
    let cache = dir.join("cache");

    let (mut rates, mut per_core, mut cpus, mut walls) = (vec![], vec![], vec![], vec![]);
    let mut alerts = 0;
    // One warm-up run fills the compile cache.
    for i in 0..=repeat {
        let _ = std::fs::remove_dir_all(dir.join("data"));
        let _ = std::fs::remove_file(dir.join("report.json"));
        let (wall, cpu) = agent::run_to_end(&config, &cache)?;
        let report: serde_json_lite::Report = serde_json_lite::read(&dir.join("report.json"))?;
        alerts = report.0;
        if i == 0 {
            continue;
        }
        #[allow(clippy::cast_precision_loss, reason = "rates")]
        let n = lines as f64;
        rates.push(n / wall);
        per_core.push(n / cpu);
        cpus.push(cpu);
        walls.push(wall);
    }
    let peak_rss_kib =
        nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)?.max_rss();
    let mut report = String::new();
    writeln!(
        report,
        "### e2e: file → kv-parser → threshold + zscore → report + blackhole"
    )?;
    writeln!(
        report,
        "\n{lines} lines ({:.0} MiB), median of {repeat} runs after a warm-up; {alerts} alerts in the report\n",
        bytes as f64 / 1048576.0
    )?;
    writeln!(report, "| metric | median | min | max |")?;
    writeln!(report, "| --- | --- | --- | --- |")?;
    for (name, values, scale, unit) in [
        ("throughput", &mut rates, 1e6, "M lines/s"),
        ("per CPU-second", &mut per_core, 1e6, "M lines/CPU-s"),
        ("CPU time", &mut cpus, 1.0, "s"),
        ("wall time", &mut walls, 1.0, "s"),
    ] {
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min) / scale;
        let hi = values.iter().copied().fold(0.0, f64::max) / scale;
        let mid = median(values) / scale;
        writeln!(report, "| {name} | {mid:.2} {unit} | {lo:.2} | {hi:.2} |")?;
    }
    writeln!(
        report,
        "| peak RSS | {:.1} MiB | | |",
        peak_rss_kib as f64 / 1024.0
    )?;
    Ok(report)
}

/// Counting the alerts of a report without a JSON dependency in the harness.
pub(crate) mod serde_json_lite {
    pub struct Report(pub usize);

    pub fn read(path: &std::path::Path) -> anyhow::Result<Report> {
        let text = std::fs::read_to_string(path)?;
        Ok(Report(text.matches("\"fingerprint\"").count()))
    }
}
