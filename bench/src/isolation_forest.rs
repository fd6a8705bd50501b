//! The isolation-forest plugin against scikit-learn's `IsolationForest` on
//! NAB's machine temperature data: the same features (built by pandas in
//! `scripts/isolation_forest_sklearn.py`), the same parameters (100 trees,
//! subsamples of 256, trained on the first 15 % of rows), ROC AUC against
//! the labelled windows averaged over five seeds for each, and scoring rows
//! per CPU-second on one thread: scikit-learn's `score_samples`, the plugin
//! natively, and the plugin in WebAssembly through the agent's plugin host
//! (batches of 1024 points in, points with scores and alerts out). The bar:
//! AUC within 0.01 of scikit-learn's and at least 10× its rows per
//! CPU-second.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use foghorn::processors::wasm::{self, PluginEngine, PluginInstance, PluginLimits};
use foghorn_plugin::{PointsBuilder, Processor, Series};

use crate::measure::{median, self_cpu};

const TREES: usize = 100;
const SAMPLE_SIZE: usize = 256;
const SEEDS: u64 = 5;
const FEATURES: [&str; 6] = ["value", "lag1", "diff1", "mean12", "std12", "z"];

/// The features and labels pandas wrote.
struct Data {
    rows: Vec<Vec<f64>>,
    labels: Vec<bool>,
    /// The training rows as CSV text.
    training: String,
}

fn read(path: &Path, train: usize) -> anyhow::Result<Data> {
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let mut training = format!("{header}\n");
    let (mut rows, mut labels) = (Vec::new(), Vec::new());
    for (i, line) in lines.enumerate() {
        let cells: Vec<f64> = line
            .split(',')
            .map(|c| c.parse().unwrap_or(f64::NAN))
            .collect();
        anyhow::ensure!(
            cells.len() == FEATURES.len() + 1,
            "features.csv row {i}: {line}"
        );
        if i < train {
            training.push_str(line);
            training.push('\n');
        }
        labels.push(cells[FEATURES.len()] > 0.5);
        rows.push(cells[..FEATURES.len()].to_vec());
    }
    Ok(Data {
        rows,
        labels,
        training,
    })
}

/// ROC AUC: the probability that a labelled row scores above an unlabelled
/// one (ties count half), from the ranks as scikit-learn computes it.
#[allow(clippy::cast_precision_loss, reason = "row counts far below 2^52")]
fn auc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            ranks[order[k]] = rank;
        }
        i = j + 1;
    }
    let positives = labels.iter().filter(|l| **l).count() as f64;
    let negatives = labels.len() as f64 - positives;
    let sum: f64 = ranks
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l)
        .map(|(r, _)| r)
        .sum();
    (sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

fn config(data: &Data, seed: u64) -> String {
    serde_json::json!({
        "fields": FEATURES,
        "trees": TREES,
        "sample_size": SAMPLE_SIZE,
        "training_csv": data.training,
        "seed": seed,
    })
    .to_string()
}

fn batches(rows: &[Vec<f64>]) -> Vec<foghorn_plugin::Points> {
    let series = Series::new("machine");
    rows.chunks(1024)
        .enumerate()
        .map(|(c, chunk)| {
            let mut builder = PointsBuilder::new();
            for (i, row) in chunk.iter().enumerate() {
                let mut point = builder.point(i64::try_from(c * 1024 + i).unwrap_or(0), &series);
                for (name, value) in FEATURES.iter().zip(row) {
                    point = point.field(name, *value);
                }
            }
            builder.finish()
        })
        .collect()
}

/// Scores natively, and rows per CPU-second.
#[allow(clippy::cast_precision_loss, reason = "row counts far below 2^52")]
fn native(data: &Data, seed: u64) -> (Vec<f64>, f64) {
    let config = serde_json::from_str(&config(data, seed)).expect("a valid config");
    let mut plugin = isolation_forest::IsolationForest::new(config).expect("accepted");
    let batches = batches(&data.rows);
    let started = self_cpu();
    let mut scores = Vec::with_capacity(data.rows.len());
    for points in batches {
        let batch = foghorn_plugin::Batch {
            points,
            ..Default::default()
        };
        // Sized as the plugin host's glue sizes it.
        let mut out = foghorn_plugin::Output::with_capacity(batch.points.len());
        plugin.process(&batch, &mut out);
        scores.extend(
            out.into_points()
                .iter()
                .map(|p| p.number("anomaly_score").unwrap_or(0.0)),
        );
    }
    let spent = (self_cpu() - started).as_secs_f64();
    (scores, data.rows.len() as f64 / spent)
}

/// Rows per CPU-second in WebAssembly, through the plugin host.
#[allow(clippy::cast_precision_loss, reason = "row counts far below 2^52")]
fn in_wasm(data: &Data, engine: &PluginEngine, limits: PluginLimits) -> anyhow::Result<f64> {
    let component = engine.load(wasm::builtin("isolation-forest").expect("bundled"))?;
    let mut instance = PluginInstance::new(
        component,
        Arc::from("isolation-forest"),
        config(data, 0),
        limits,
    )?;
    let name: Arc<str> = Arc::from("bench");
    let batches: Vec<_> = batches(&data.rows)
        .into_iter()
        .map(|points| {
            Arc::new(foghorn::event::Batch {
                component: Arc::clone(&name),
                points,
                ..Default::default()
            })
        })
        .collect();
    let started = self_cpu();
    for batch in batches {
        let input = wasm::InputSize {
            records: 0,
            points: batch.points.len(),
        };
        let output = instance.process(&wasm::batch_to_wit(batch))?;
        std::hint::black_box(wasm::output_from_wit(output, &name, &name, input))
            .map_err(|e| anyhow::anyhow!("invalid output: {e:?}"))?;
    }
    Ok(data.rows.len() as f64 / (self_cpu() - started).as_secs_f64())
}

/// Run the comparison; returns the markdown report.
pub fn run(nab: &Path, repeat: usize) -> anyhow::Result<String> {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("out/isolation-forest");
    std::fs::create_dir_all(&out)?;
    if !Command::new("python3")
        .args(["-c", "import sklearn, pandas"])
        .status()?
        .success()
    {
        println!("installing scikit-learn from PyPI");
        let pip = |extra: &[&str]| {
            Command::new("python3")
                .args(["-m", "pip", "install", "--quiet"])
                .args(extra)
                .args(["scikit-learn", "pandas"])
                .status()
        };
        anyhow::ensure!(
            pip(&[])?.success() || pip(&["--break-system-packages"])?.success(),
            "cannot install scikit-learn"
        );
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/isolation_forest_sklearn.py");
    let output = Command::new("python3")
        .env("OMP_NUM_THREADS", "1")
        .arg(script)
        .arg(nab)
        .arg(&out)
        .args([
            TREES.to_string(),
            SAMPLE_SIZE.to_string(),
            SEEDS.to_string(),
        ])
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "isolation_forest_sklearn.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sklearn: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let train = usize::try_from(sklearn["train"].as_u64().unwrap_or(0))?;
    let data = read(&out.join("features.csv"), train)?;
    let sklearn_aucs: Vec<f64> = sklearn["aucs"]
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
        .unwrap_or_default();
    let sklearn_speed = sklearn["rows_per_cpu_s"].as_f64().unwrap_or(f64::NAN);

    let mut ours = Vec::new();
    let mut native_speeds = Vec::new();
    for seed in 0..SEEDS {
        let (scores, speed) = native(&data, seed);
        ours.push(auc(&scores, &data.labels));
        native_speeds.push(speed);
    }
    let engine = PluginEngine::new(None)?;
    let limits = PluginLimits {
        memory: 512 << 20,
        time_per_call: Duration::from_secs(60),
        ..PluginLimits::of(&foghorn::processors::Limits::default())
    };
    let mut wasm_speeds = Vec::new();
    for _ in 0..repeat {
        wasm_speeds.push(in_wasm(&data, &engine, limits)?);
    }
    #[allow(clippy::cast_precision_loss, reason = "five seeds")]
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ours_auc, sklearn_auc) = (mean(&ours), mean(&sklearn_aucs));
    let (native_speed, wasm_speed) = (median(&mut native_speeds), median(&mut wasm_speeds));
    let mut report = String::new();
    writeln!(
        report,
        "### isolation-forest against scikit-learn {}: NAB machine_temperature_system_failure, {} rows, trained on {train}, {TREES} trees of 256\n",
        sklearn_version(),
        data.rows.len()
    )?;
    writeln!(report, "| | foghorn | scikit-learn |\n|---|---:|---:|")?;
    writeln!(
        report,
        "| ROC AUC, mean of {SEEDS} seeds | {ours_auc:.4} | {sklearn_auc:.4} |"
    )?;
    writeln!(
        report,
        "| scoring rows per CPU-second | {wasm_speed:.0} (wasm), {native_speed:.0} (native) | {sklearn_speed:.0} |"
    )?;
    writeln!(
        report,
        "\nAUC difference {:.4} (bar 0.01: {}); speed {:.1}× scikit-learn in WebAssembly, {:.1}× natively (bar 10×: {}).",
        (ours_auc - sklearn_auc).abs(),
        if (ours_auc - sklearn_auc).abs() <= 0.01 {
            "met"
        } else {
            "not met"
        },
        wasm_speed / sklearn_speed,
        native_speed / sklearn_speed,
        if wasm_speed / sklearn_speed >= 10.0 {
            "met"
        } else {
            "not met"
        }
    )?;
    Ok(report)
}

fn sklearn_version() -> String {
    Command::new("python3")
        .args(["-c", "import sklearn; print(sklearn.__version__)"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
