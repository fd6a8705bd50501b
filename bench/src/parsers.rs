//! Parsers in WebAssembly against their own native builds: for each bundled
//! parser, the time per record of a `process` call at batch 1024 on a
//! representative line, through the agent's plugin host (conversion, guest,
//! output checks) and natively (the crate called directly), and the ratio.
//! The issue's bar: at most 2× for each parser (1.5× for kv-parser).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use foghorn::event::Records;
use foghorn::processors::wasm::{self, PluginEngine, PluginInstance, PluginLimits};
use foghorn_plugin::Processor;

use crate::measure::{median, per_record, wasm_per_record};

/// One parser and what it is measured on.
struct Case {
    /// `builtin:<name>`.
    name: &'static str,
    config: &'static str,
    /// The `i`-th line.
    line: fn(usize) -> String,
    /// Time per record natively, on these records.
    native: fn(&'static str, &Records, usize) -> f64,
    /// The bar for wasm / native.
    bar: f64,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "kv-parser",
            config: r#"{"measurement":"bench_device","fields":{"T":"temperature","V":"voltage","S":"status"},"types":{"temperature":"float","voltage":"float","status":"string"}}"#,
            line: |i| {
                format!(
                    "T:{:.1},V:{:.2},S:OK",
                    20.0 + (i % 100) as f64 / 10.0,
                    5.0 + (i % 7) as f64 / 100.0
                )
            },
            native: native::<kv_parser::KvParser>,
            bar: 1.5,
        },
        Case {
            name: "csv",
            config: r#"{"columns":["timestamp","device_id","temperature","voltage","errors","status"],"measurement":"fleet","tag_columns":["device_id"],"timestamp":{"column":"timestamp","format":"unix_ms"},"types":{"temperature":"float","voltage":"float","errors":"int","status":"string"}}"#,
            line: |i| {
                format!(
                    "{},dev-{:04},{:.1},{:.2},{},WARNING_TEMP",
                    1_764_313_800_250_u64 + i as u64 * 1000,
                    i % 16,
                    80.0 + (i % 100) as f64 / 10.0,
                    5.0 + (i % 7) as f64 / 100.0,
                    i % 5
                )
            },
            native: native::<csv_parser::CsvParser>,
            bar: 2.0,
        },
        Case {
            name: "logfmt",
            config: r#"{"measurement":"http","tags":{"service":"api"},"tag_keys":["method","status"],"timestamp":{"key":"ts","format":"rfc3339"},"fields":{"duration":"duration_ms","bytes":"bytes","path":"path"},"types":{"duration_ms":"float","bytes":"int","path":"string"},"unknown_keys":"drop"}"#,
            line: |i| {
                format!(
                    "ts=2026-11-28T07:10:{:02}.123Z level=info method=GET path=/api/v1/users status={} duration={:.1} bytes={} msg=\"request done\"",
                    i % 60,
                    [200, 404, 500][i % 3],
                    5.0 + (i % 100) as f64 / 4.0,
                    1024 + i % 4096
                )
            },
            native: native::<logfmt_parser::LogfmtParser>,
            bar: 2.0,
        },
        Case {
            name: "json",
            config: r#"{"measurement":"host","fields":{"cpu.user":"cpu_user","cpu.system":"cpu_system","cpu.idle":"cpu_idle","mem.used":"mem_used","load.0":"load1","status":"status"},"types":{"mem_used":"int","status":"string"},"tag_paths":{"host":"host"},"timestamp":{"path":"time","format":"unix_ms"}}"#,
            line: |i| {
                format!(
                    r#"{{"time":{},"host":"web-{}","cpu":{{"user":{:.1},"system":5.01,"idle":79.9}},"mem":{{"used":{},"free":7654321}},"load":[5.01,0.5,0.25],"status":"ok","msg":"request served","tags":["a","b"]}}"#,
                    1_700_000_000_000_u64 + i as u64,
                    i % 4,
                    20.0 + (i % 100) as f64 / 10.0,
                    1_234_567 + i
                )
            },
            native: native::<json_parser::JsonParser>,
            bar: 2.0,
        },
        Case {
            name: "regex",
            config: r#"{"pattern":"(?P<time>\\S+) (?P<device>\\S+) temp=(?P<temperature>\\S+) volt=(?P<voltage>\\S+) status=(?P<status>\\w+)","measurement":"bench_device","tag_captures":["device"],"timestamp":{"capture":"time","format":"unix_ms"},"types":{"temperature":"float","voltage":"float","status":"string"}}"#,
            line: |i| {
                format!(
                    "{} dev-{} temp={:.1} volt=5.01 status=OK",
                    1_700_000_000_000_u64 + i as u64,
                    i % 4,
                    20.0 + (i % 100) as f64 / 10.0
                )
            },
            native: native::<regex_parser::RegexParser>,
            bar: 2.0,
        },
    ]
}

fn records(case: &Case, n: usize) -> Records {
    let mut records = Records::default();
    for i in 0..n {
        records.push(
            1_700_000_000_000_000_000 + i as i64,
            (case.line)(i).as_bytes(),
        );
    }
    records
}

fn native<P: Processor>(config: &'static str, records: &Records, repeat: usize) -> f64 {
    let config = serde_json::from_str(config).expect("a valid config");
    let mut parser = P::new(config).expect("the parser accepts its config");
    let batch = foghorn_plugin::Batch {
        records: records.clone(),
        ..Default::default()
    };
    let mut out = foghorn_plugin::Output::default();
    parser.process(&batch, &mut out);
    assert!(
        out.errors().is_empty(),
        "the lines parse: {:?}",
        &out.errors()[..1]
    );
    let mut samples: Vec<f64> = (0..repeat)
        .map(|_| {
            per_record(records.len(), Duration::from_millis(400), || {
                let mut out = foghorn_plugin::Output::default();
                parser.process(&batch, &mut out);
                std::hint::black_box(out.into_points());
            })
        })
        .collect();
    median(&mut samples)
}

/// Run the benchmark; returns the markdown report.
pub fn run(only: &[String], repeat: usize) -> anyhow::Result<String> {
    let engine = PluginEngine::new(None)?;
    let limits = PluginLimits {
        memory: 256 << 20,
        time_per_call: Duration::from_secs(10),
        ..PluginLimits::of(&foghorn::processors::Limits::default())
    };
    let mut report = String::new();
    writeln!(
        report,
        "### parsers: time per record at batch 1024, WebAssembly against native (medians of {repeat} side-by-side pairs; the ratio is the median of the pairs' ratios)\n"
    )?;
    writeln!(report, "| parser | line | wasm | native | ratio | bar |")?;
    writeln!(report, "| --- | --- | --- | --- | --- | --- |")?;
    for case in cases()
        .into_iter()
        .filter(|case| only.is_empty() || only.iter().any(|name| name == case.name))
    {
        let component = engine.load(wasm::builtin(case.name).expect("bundled"))?;
        let mut instance =
            PluginInstance::new(component, Arc::from(case.name), case.config.into(), limits)?;
        let records = records(&case, 1024);
        // WebAssembly and native alternate, a pair at a time, and the ratio
        // is the median of the pairs' ratios: on a shared machine whose
        // speed drifts over seconds, times taken seconds apart are not
        // comparable, times taken side by side are.
        let (mut wasm_times, mut native_times, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..repeat.max(1) {
            let in_wasm = wasm_per_record(&mut instance, &records, 1);
            let natively = (case.native)(case.config, &records, 1);
            wasm_times.push(in_wasm);
            native_times.push(natively);
            ratios.push(in_wasm / natively);
        }
        let (in_wasm, natively, ratio) = (
            median(&mut wasm_times),
            median(&mut native_times),
            median(&mut ratios),
        );
        writeln!(
            report,
            "| {} | `{}` | {in_wasm:.1} ns | {natively:.1} ns | {ratio:.2}× | ≤ {}× {} |",
            case.name,
            (case.line)(7),
            case.bar,
            if ratio <= case.bar { "met" } else { "not met" }
        )?;
    }
    Ok(report)
}
