//! The z-score detector in three languages: time per point of one `process`
//! call at batch 1024, as the processor runner makes it, for the bundled
//! Rust plugin (`builtin:zscore`), the Python and JavaScript ports under
//! `examples/plugins/` and the Rust detector compiled natively.
//!
//! The Python and JavaScript components are built with the release agent's
//! `foghorn plugin build` when their `dist/` holds none (componentize-py and
//! npm must be installed); a language that cannot be built gets a row saying
//! why instead of a time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use foghorn::event::{Batch, Points, PointsBuilder, Series};
use foghorn::processors::wasm::{self, PluginEngine, PluginInstance, PluginLimits};
use foghorn_plugin::Processor as _;

use crate::measure::{median, per_record, wasm_batch_per_record};

/// The same configurations for all three, written out so that none depends
/// on another's defaults: the default window of 100 values, and a window of
/// 10, which leaves mostly what a point costs whatever the window (the
/// ports rescan their window per point, the Rust plugin does not).
const CONFIGS: [&str; 2] = [
    r#"{"fields":["temperature"],"window":100,"threshold":3,"min_samples":10}"#,
    r#"{"fields":["temperature"],"window":10,"threshold":3,"min_samples":10}"#,
];

/// Points of 8 devices taking turns, a slow wave with a little jitter and a
/// spike every 97th point, so that some points alert.
fn points(n: usize) -> Points {
    let mut builder = PointsBuilder::with_capacity(n);
    let series: Vec<Series> = (0..8)
        .map(|d| Series::new("device").with_tag("device", format!("d{d}")))
        .collect();
    for i in 0..n {
        let wave = (i as f64 / 4000.0).sin() * 5.0;
        let jitter = ((i * 7919) % 13) as f64 / 13.0;
        let spike = if i % 97 == 0 { 40.0 } else { 0.0 };
        builder
            .point(
                1_700_000_000_000_000_000 + i as i64 * 1_000_000,
                &series[i % 8],
            )
            .field("temperature", 50.0 + wave + jitter + spike);
    }
    builder.finish()
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/plugins")
}

/// `examples/plugins/zscore-<lang>/dist/zscore-<lang>.wasm`, built with
/// `foghorn plugin build` when missing.
fn component(lang: &str) -> Result<Vec<u8>, String> {
    let project = examples_dir().join(format!("zscore-{lang}"));
    let wasm = project.join(format!("dist/zscore-{lang}.wasm"));
    if !wasm.exists() {
        let foghorn = crate::agent::binary().map_err(|e| e.to_string())?;
        eprintln!("building {} with `foghorn plugin build`", project.display());
        let built = Command::new(foghorn)
            .args(["plugin", "build"])
            .arg(&project)
            .output()
            .map_err(|e| format!("foghorn plugin build: {e}"))?;
        if !built.status.success() {
            let stderr = String::from_utf8_lossy(&built.stderr);
            let last = stderr.lines().last().unwrap_or("").to_owned();
            return Err(format!("`foghorn plugin build` failed: {last}"));
        }
    }
    std::fs::read(&wasm).map_err(|e| format!("{}: {e}", wasm.display()))
}

fn native_per_point(config: &str, points: &Points, repeat: usize) -> f64 {
    let config = serde_json::from_str(config).expect("zscore config");
    let mut detector = zscore::Zscore::new(config).expect("zscore accepts its config");
    let mut samples: Vec<f64> = (0..repeat)
        .map(|_| {
            per_record(points.len(), Duration::from_millis(400), || {
                let batch = foghorn_plugin::Batch {
                    points: points.clone(),
                    ..Default::default()
                };
                let mut out = foghorn_plugin::Output::default();
                detector.process(&batch, &mut out);
                std::hint::black_box(out);
            })
        })
        .collect();
    median(&mut samples)
}

/// The report's section: one row per language.
pub fn run(engine: &PluginEngine, limits: PluginLimits, repeat: usize) -> anyhow::Result<String> {
    let batch = Batch {
        component: Arc::from("bench"),
        points: points(1024),
        ..Batch::default()
    };
    let mut report = String::new();
    writeln!(
        report,
        "### wasm: the z-score detector per language, time per point at batch 1024 (median of {repeat})\n"
    )?;
    writeln!(
        report,
        "| plugin | component | window 100 | × Rust (wasm) | window 10 | × Rust (wasm) |"
    )?;
    writeln!(report, "| --- | --- | --- | --- | --- | --- |")?;
    let plugins: [(&str, Result<Vec<u8>, String>); 3] = [
        (
            "builtin:zscore (Rust)",
            Ok(wasm::builtin("zscore").expect("bundled").to_vec()),
        ),
        ("zscore-python (componentize-py)", component("python")),
        ("zscore-js (componentize-js)", component("js")),
    ];
    let mut rust: Vec<f64> = Vec::new();
    for (name, bytes) in plugins {
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(why) => {
                writeln!(report, "| {name} | not built: {why} | | | | |")?;
                continue;
            }
        };
        let size = bytes.len() as f64 / f64::from(1 << 20);
        let loaded = engine.load(&bytes)?;
        write!(report, "| {name} | {size:.1} MiB |")?;
        for (i, config) in CONFIGS.iter().enumerate() {
            let mut instance =
                PluginInstance::new(loaded.clone(), Arc::from(name), (*config).into(), limits)?;
            let ns = wasm_batch_per_record(&mut instance, &batch, repeat);
            if rust.len() == i {
                rust.push(ns);
            }
            write!(report, " {ns:.1} ns | {:.1}× |", ns / rust[i])?;
        }
        writeln!(report)?;
    }
    write!(report, "| zscore (Rust, native) | |")?;
    for config in CONFIGS {
        let native = native_per_point(config, &batch.points, repeat);
        write!(report, " {native:.1} ns | |")?;
    }
    writeln!(report)?;
    Ok(report)
}
