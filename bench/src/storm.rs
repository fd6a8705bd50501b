//! An alert storm: bench-device lines whose temperature crosses a threshold
//! on about a third of readings, so the threshold detector fires or resolves
//! on nearly half of them (2.2 million alerts in 5 million lines), through
//! file → kv-parser → threshold → report + blackhole. Shows that the report
//! sink's memory is bounded (`max_alerts`) whatever the alert rate.

use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use crate::agent;
use crate::measure::median;

fn generate(path: &Path, lines: u64) -> anyhow::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..lines {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let r = state >> 33;
        // A third of the readings above 80 °C, at random.
        let temperature = if r.is_multiple_of(3) {
            85.0 + (r % 7) as f64
        } else {
            60.0 + (r % 11) as f64
        };
        writeln!(out, "T:{temperature:.1},V:5.00,S:OK")?;
    }
    out.flush()?;
    Ok(())
}

fn pipeline(dir: &Path, input: &Path) -> anyhow::Result<PathBuf> {
    let config = dir.join("storm.yaml");
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
sinks:
  report:
    type: report
    inputs: [limits.alerts]
    path: {report}
    interval: 1s
  sink:
    type: blackhole
    inputs: [parse]
"#,
            data = dir.join("storm-data").display(),
            input = input.display(),
            report = dir.join("storm-report.json").display(),
        ),
    )?;
    Ok(config)
}

/// Run the benchmark; returns the markdown report.
pub fn run(lines: u64, repeat: usize) -> anyhow::Result<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("out");
    std::fs::create_dir_all(&dir)?;
    let input = dir.join(format!("storm-{lines}.log"));
    generate(&input, lines)?;
    let config = pipeline(&dir, &input)?;
    let cache = dir.join("cache");
    let (mut rates, mut cpus) = (vec![], vec![]);
    let mut alerts = 0;
    for i in 0..=repeat {
        let _ = std::fs::remove_dir_all(dir.join("storm-data"));
        let _ = std::fs::remove_file(dir.join("storm-report.json"));
        let (wall, cpu) = agent::run_to_end(&config, &cache)?;
        if i == 0 {
            continue;
        }
        alerts = crate::e2e::serde_json_lite::read(&dir.join("storm-report.json"))?.0;
        #[allow(clippy::cast_precision_loss, reason = "rates")]
        rates.push(lines as f64 / wall);
        cpus.push(cpu);
    }
    let peak_rss_kib =
        nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)?.max_rss();
    let mut report = String::new();
    writeln!(
        report,
        "### storm: file → kv-parser → threshold (fires on ~1/3 of readings) → report + blackhole"
    )?;
    writeln!(
        report,
        "\n{lines} lines, median of {repeat} runs after a warm-up; the report holds {alerts} alerts at the end\n"
    )?;
    writeln!(report, "| metric | median |")?;
    writeln!(report, "| --- | --- |")?;
    writeln!(
        report,
        "| throughput | {:.2} M lines/s |",
        median(&mut rates) / 1e6
    )?;
    writeln!(report, "| CPU time | {:.2} s |", median(&mut cpus))?;
    writeln!(
        report,
        "| peak RSS | {:.1} MiB |",
        peak_rss_kib as f64 / 1024.0
    )?;
    Ok(report)
}
