//! Which batch encoding the plugin ABI uses, by measurement.
//!
//! A pass-through guest (`bench/plugins/encoding-guest`) exports three
//! candidates (`bench/wit/encoding.wit`): per-point typed records, the
//! columnar shape of `foghorn:plugin@0.1.0`, and one compactly encoded buffer
//! (Redpanda data-transform style). For each, a batch of points with one
//! series and three float fields goes into the guest and comes back; the time
//! per point includes lowering, lifting and, for the buffer, the host's
//! encoding and decoding.

#![allow(
    unsafe_code,
    clippy::all,
    missing_docs,
    reason = "bindgen-generated bindings"
)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::measure::median;

#[path = "../plugins/encoding-guest/src/codec.rs"]
mod codec;

mod bindings {
    wasmtime::component::bindgen!({ path: "wit/encoding.wit", world: "encoding" });
}

use bindings::foghorn_bench::encoding::shapes::{Column, Columnar, Field, PointRow, Series};

struct State {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl bindings::foghorn_bench::encoding::shapes::Host for State {}

const FIELDS: [&str; 3] = ["temperature", "voltage", "current"];

fn rows(n: usize) -> Vec<PointRow> {
    (0..n)
        .map(|i| PointRow {
            timestamp: 1_700_000_000_000_000_000 + i as i64,
            name: "bench_device".into(),
            tags: vec![("device".into(), "bench-1".into())],
            fields: FIELDS
                .iter()
                .enumerate()
                .map(|(f, name)| Field {
                    name: (*name).into(),
                    value: (i + f) as f64,
                })
                .collect(),
        })
        .collect()
}

fn columnar(n: usize) -> Columnar {
    Columnar {
        series: vec![Series {
            name: "bench_device".into(),
            tags: vec![("device".into(), "bench-1".into())],
        }],
        series_index: vec![0; n],
        timestamps: (0..n)
            .map(|i| 1_700_000_000_000_000_000 + i as i64)
            .collect(),
        columns: FIELDS
            .iter()
            .enumerate()
            .map(|(f, name)| Column {
                name: (*name).into(),
                values: (0..n).map(|i| (i + f) as f64).collect(),
            })
            .collect(),
    }
}

fn plain(n: usize) -> codec::Plain {
    let c = columnar(n);
    codec::Plain {
        series: c.series.into_iter().map(|s| (s.name, s.tags)).collect(),
        names: c.columns.iter().map(|c| c.name.clone()).collect(),
        series_index: c.series_index,
        timestamps: c.timestamps,
        values: c.columns.into_iter().map(|c| c.values).collect(),
    }
}

fn per_point(points: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let started = Instant::now();
    let mut iterations = 0u64;
    while started.elapsed() < Duration::from_millis(300) {
        f();
        iterations += 1;
    }
    started.elapsed().as_nanos() as f64 / iterations as f64 / points as f64
}

/// Run the benchmark; returns the markdown report.
pub fn run(repeat: usize) -> anyhow::Result<String> {
    let engine = Engine::default();
    let wasm = |e: wasmtime::Error| anyhow::anyhow!("{e:#}");
    let component = Component::from_file(&engine, env!("ENCODING_GUEST_WASM")).map_err(wasm)?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(wasm)?;
    let mut store = Store::new(
        &engine,
        State {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        },
    );
    let guest = bindings::Encoding::instantiate(&mut store, &component, &linker).map_err(wasm)?;

    let mut report = String::new();
    writeln!(
        report,
        "### encoding: ns per point through a pass-through guest and back (median of {repeat})\n"
    )?;
    writeln!(
        report,
        "Each point: one series (name + 1 tag), 3 float fields.\n"
    )?;
    writeln!(
        report,
        "| batch | per-point records | columnar | one buffer |"
    )?;
    writeln!(report, "| --- | --- | --- | --- |")?;
    for n in [1, 64, 1024] {
        let (input_rows, input_columns, input_plain) = (rows(n), columnar(n), plain(n));
        let sample = |f: &mut dyn FnMut()| {
            let mut samples: Vec<f64> = (0..repeat).map(|_| per_point(n, &mut *f)).collect();
            median(&mut samples)
        };
        let r = sample(&mut || {
            std::hint::black_box(guest.call_rows(&mut store, &input_rows).expect("rows"));
        });
        let c = sample(&mut || {
            std::hint::black_box(
                guest
                    .call_columns(&mut store, &input_columns)
                    .expect("columns"),
            );
        });
        let b = sample(&mut || {
            let mut buffer = Vec::new();
            codec::encode(&input_plain, &mut buffer);
            let out = guest.call_buffer(&mut store, &buffer).expect("buffer");
            std::hint::black_box(codec::decode(&out));
        });
        writeln!(report, "| {n} | {r:.1} ns | {c:.1} ns | {b:.1} ns |")?;
    }
    Ok(report)
}
