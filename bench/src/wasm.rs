//! WASM call overhead per record.
//!
//! For batch sizes 1, 64 and 1024 of bench-device lines, measures the time
//! per record of a full `process` call as the processor runner makes it
//! (pipeline batch → WIT types → guest → WIT output → pipeline types) for:
//! - a pass-through plugin that ignores its input: the cost of a call;
//! - kv-parser in WebAssembly;
//! - kv-parser compiled natively and called directly, as the baseline.
//!
//! The WASM overhead of kv-parser is its WebAssembly time minus its native
//! time. The last line is the share of it spent checking kv-parser's output
//! at the boundary (`output_from_wit` on an output already copied out).
//!
//! Then the z-score detector in Rust, Python and JavaScript (see
//! [`crate::languages`]).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use foghorn::event::{Batch, Records};
use foghorn::processors::wasm::{
    self, InputSize, PluginEngine, PluginInstance, PluginLimits, batch_to_wit, output_from_wit,
};
use foghorn_plugin::Processor as _;

use crate::measure::{median, mib, per_record, proc_status_kib, self_cpu, wasm_per_record};

const KV_CONFIG: &str = r#"{"measurement":"bench_device","fields":{"T":"temperature","V":"voltage","S":"status"},"types":{"temperature":"float","voltage":"float","status":"string"}}"#;

fn lines(n: usize) -> Records {
    let mut records = Records::default();
    for i in 0..n {
        let line = format!(
            "T:{:.1},V:{:.2},S:OK",
            20.0 + (i % 100) as f64 / 10.0,
            5.0 + (i % 7) as f64 / 100.0
        );
        records.push(1_700_000_000_000_000_000 + i as i64, line.as_bytes());
    }
    records
}

/// Time per record of converting and checking one output of `instance`.
fn check_per_record(instance: &mut PluginInstance, records: &Records, repeat: usize) -> f64 {
    let name: Arc<str> = Arc::from("bench");
    let batch = Arc::new(Batch {
        component: Arc::clone(&name),
        records: records.clone(),
        ..Batch::default()
    });
    let output = instance.process(&batch_to_wit(batch)).expect("plugin call");
    let input = InputSize {
        records: records.len(),
        points: 0,
    };
    let mut samples: Vec<f64> = (0..repeat)
        .map(|_| {
            // Copies made outside the timing: conversion moves vectors.
            let copies: Vec<_> = (0..1000).map(|_| output.clone()).collect();
            let calls = copies.len();
            let started = Instant::now();
            for copy in copies {
                std::hint::black_box(output_from_wit(copy, &name, &name, input))
                    .expect("a valid output");
            }
            started.elapsed().as_nanos() as f64 / calls as f64 / records.len() as f64
        })
        .collect();
    median(&mut samples)
}

fn native_per_record(records: &Records, repeat: usize) -> f64 {
    let config = serde_json::from_str(KV_CONFIG).expect("kv-parser config");
    let mut parser = kv_parser::KvParser::new(config).expect("kv-parser accepts its config");
    let mut samples: Vec<f64> = (0..repeat)
        .map(|_| {
            per_record(records.len(), Duration::from_millis(400), || {
                let batch = foghorn_plugin::Batch {
                    records: records.clone(),
                    ..Default::default()
                };
                let mut out = foghorn_plugin::Output::default();
                parser.process(&batch, &mut out);
                std::hint::black_box(out.into_points());
            })
        })
        .collect();
    median(&mut samples)
}

/// Run the benchmark; returns the markdown report.
pub fn run(repeat: usize) -> anyhow::Result<String> {
    let cpu_before = self_cpu();
    let engine = PluginEngine::new(None)?;
    let limits = PluginLimits {
        memory: 256 << 20,
        time_per_call: Duration::from_secs(10),
        ..PluginLimits::of(&foghorn::processors::Limits::default())
    };
    let passthrough = engine.load(&std::fs::read(env!("PASSTHROUGH_WASM"))?)?;
    let kv = engine.load(wasm::builtin("kv-parser").expect("bundled"))?;
    let mut passthrough =
        PluginInstance::new(passthrough, Arc::from("passthrough"), "{}".into(), limits)?;
    let mut kv = PluginInstance::new(kv, Arc::from("kv-parser"), KV_CONFIG.into(), limits)?;

    let mut report = String::new();
    writeln!(
        report,
        "### wasm: time per record of one `process` call (median of {repeat})\n"
    )?;
    writeln!(
        report,
        "| batch | pass-through (wasm) | kv-parser (wasm) | kv-parser (native) | kv-parser wasm overhead |"
    )?;
    writeln!(report, "| --- | --- | --- | --- | --- |")?;
    for size in [1, 64, 1024] {
        let records = lines(size);
        let pass = wasm_per_record(&mut passthrough, &records, repeat);
        let kv_wasm = wasm_per_record(&mut kv, &records, repeat);
        let kv_native = native_per_record(&records, repeat);
        writeln!(
            report,
            "| {size} | {pass:.1} ns | {kv_wasm:.1} ns | {kv_native:.1} ns | {:.1} ns |",
            kv_wasm - kv_native
        )?;
    }
    let check = check_per_record(&mut kv, &lines(1024), repeat);
    writeln!(
        report,
        "\nChecking kv-parser's output at the boundary: {check:.1} ns per record (batch 1024)"
    )?;
    writeln!(report)?;
    report.push_str(&crate::languages::run(&engine, limits, repeat)?);
    let cpu = (self_cpu() - cpu_before).as_secs_f64();
    let peak = proc_status_kib("self", "VmHWM").unwrap_or(0);
    writeln!(report, "\nCPU {cpu:.1} s, peak RSS {:.1} MiB", mib(peak))?;
    Ok(report)
}
