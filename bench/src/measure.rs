//! Medians, CPU time, peak RSS, and the time per record of a call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use foghorn::event::{Batch, Records};
use foghorn::processors::wasm::{InputSize, PluginInstance, batch_to_wit, output_from_wit};

/// The median of `values` (sorted in place).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        f64::midpoint(values[n / 2 - 1], values[n / 2])
    }
}

/// CPU time (user + system) of this process so far.
pub fn self_cpu() -> Duration {
    rusage_cpu(nix::sys::resource::UsageWho::RUSAGE_SELF)
}

/// CPU time (user + system) of waited-for children so far.
pub fn children_cpu() -> Duration {
    rusage_cpu(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
}

fn rusage_cpu(who: nix::sys::resource::UsageWho) -> Duration {
    let usage = nix::sys::resource::getrusage(who).expect("getrusage");
    let tv = |t: nix::sys::time::TimeVal| {
        Duration::new(
            u64::try_from(t.tv_sec()).unwrap_or(0),
            u32::try_from(t.tv_usec()).unwrap_or(0) * 1000,
        )
    };
    tv(usage.user_time()) + tv(usage.system_time())
}

/// A `/proc/<pid>/status` value in KiB (`VmRSS`, `VmHWM`), `self` for this
/// process.
pub fn proc_status_kib(pid: &str, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Mebibytes from KiB, for printing.
#[allow(clippy::cast_precision_loss, reason = "display only")]
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Time `f` over enough iterations for ~`budget`, return ns per record.
pub fn per_record(records: usize, budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let started = Instant::now();
    let mut iterations = 0u64;
    while started.elapsed() < budget {
        f();
        iterations += 1;
    }
    started.elapsed().as_nanos() as f64 / iterations as f64 / records as f64
}

pub fn wasm_per_record(instance: &mut PluginInstance, records: &Records, repeat: usize) -> f64 {
    let batch = Batch {
        component: Arc::from("bench"),
        records: records.clone(),
        ..Batch::default()
    };
    wasm_batch_per_record(instance, &batch, repeat)
}

/// Time per record (or point) of `instance` processing copies of `batch`,
/// the copy included as the runner's fan-out would share, not copy, it.
pub fn wasm_batch_per_record(instance: &mut PluginInstance, batch: &Batch, repeat: usize) -> f64 {
    let name: Arc<str> = Arc::clone(&batch.component);
    let mut samples: Vec<f64> = (0..repeat)
        .map(|_| {
            per_record(batch.len(), Duration::from_millis(400), || {
                let batch = Arc::new(batch.clone());
                let input = InputSize {
                    records: batch.records.len(),
                    points: batch.points.len(),
                };
                let output = instance.process(&batch_to_wit(batch)).expect("plugin call");
                std::hint::black_box(output_from_wit(output, &name, &name, input))
                    .expect("a valid output");
            })
        })
        .collect();
    median(&mut samples)
}
