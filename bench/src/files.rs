//! The file source over many files: the same lines replayed from one file
//! and from many files matched by a glob (with fewer places than files, so
//! they take turns), into a blackhole. Lines per second, per CPU-second, and
//! the ratio many/one.

use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use crate::agent;
use crate::measure::median;

/// The bench device's line, numbered.
fn line(out: &mut impl std::io::Write, n: u64) -> std::io::Result<()> {
    writeln!(out, "seq:{n},T:{}.5,V:5.0,S:OK", n % 90)
}

/// One file of `lines` lines, and the same lines over `files` files.
fn generate(dir: &Path, lines: u64, files: u64) -> anyhow::Result<(PathBuf, PathBuf)> {
    let one = dir.join(format!("one-{lines}.log"));
    let many = dir.join(format!("many-{lines}-{files}"));
    if !std::fs::metadata(&one).is_ok_and(|m| m.len() > 0) {
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&one)?);
        for n in 0..lines {
            line(&mut out, n)?;
        }
        out.flush()?;
    }
    if !many.join("done").exists() {
        let _ = std::fs::remove_dir_all(&many);
        std::fs::create_dir_all(&many)?;
        let per_file = lines / files;
        for file in 0..files {
            let path = many.join(format!("dev-{file:05}.log"));
            let mut out = BufWriter::with_capacity(1 << 16, std::fs::File::create(path)?);
            for n in file * per_file..(file + 1) * per_file {
                line(&mut out, n)?;
            }
            out.flush()?;
        }
        std::fs::write(many.join("done"), "")?;
    }
    Ok((one, many))
}

fn pipeline(dir: &Path, name: &str, source: &str) -> anyhow::Result<PathBuf> {
    let config = dir.join(format!("files-{name}.yaml"));
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
sources:
  lines:
    type: file
    {source}
    follow: false
    read_from: beginning
    batch: {{ max_records: 1024, linger: 50ms }}
sinks:
  sink:
    type: blackhole
    inputs: [lines]
"#,
            data = dir.join(format!("data-{name}")).display(),
        ),
    )?;
    Ok(config)
}

/// Run the benchmark; returns the markdown report.
pub fn run(lines: u64, files: u64, repeat: usize) -> anyhow::Result<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("out");
    std::fs::create_dir_all(&dir)?;
    let (one, many) = generate(&dir, lines, files)?;
    let bytes = std::fs::metadata(&one)?.len();
    let configs = [
        pipeline(&dir, "one", &format!("path: {}", one.display()))?,
        pipeline(
            &dir,
            "many",
            &format!(
                "include: [\"{}/*.log\"]\n    max_open_files: {}",
                many.display(),
                (files / 4).max(1)
            ),
        )?,
    ];
    let cache = dir.join("cache");
    let total = (lines / files) * files;
    // rates[0]: one file, rates[1]: many; per run, alternating.
    let (mut rates, mut per_cpu, mut ratios) = ([vec![], vec![]], [vec![], vec![]], vec![]);
    for i in 0..=repeat {
        let mut run = [0.0; 2];
        for (k, config) in configs.iter().enumerate() {
            let name = if k == 0 { "one" } else { "many" };
            let _ = std::fs::remove_dir_all(dir.join(format!("data-{name}")));
            let (wall, cpu) = agent::run_to_end(config, &cache)?;
            #[allow(clippy::cast_precision_loss, reason = "rates")]
            let n = if k == 0 { lines } else { total } as f64;
            run[k] = n / cpu;
            if i > 0 {
                rates[k].push(n / wall);
                per_cpu[k].push(n / cpu);
            }
        }
        if i > 0 {
            ratios.push(run[1] / run[0]);
        }
    }
    let mut report = String::new();
    writeln!(
        report,
        "### files: one file against {files} files over a glob"
    )?;
    writeln!(
        report,
        "\n{lines} lines ({:.0} MiB) replayed into a blackhole, from one file and from {files} files (`max_open_files: {}`); median of {repeat} runs after a warm-up\n",
        bytes as f64 / 1048576.0,
        (files / 4).max(1)
    )?;
    writeln!(report, "| source | M lines/s | M lines/CPU-s |")?;
    writeln!(report, "| --- | --- | --- |")?;
    for (k, name) in ["one file (`path`)", "many files (`include`)"]
        .iter()
        .enumerate()
    {
        writeln!(
            report,
            "| {name} | {:.2} | {:.2} |",
            median(&mut rates[k]) / 1e6,
            median(&mut per_cpu[k]) / 1e6
        )?;
    }
    writeln!(
        report,
        "\nmany/one, lines per CPU-second: **{:.2}** (median of the per-run ratios)",
        median(&mut ratios)
    )?;
    Ok(report)
}
