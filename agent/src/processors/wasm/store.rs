//! What each plugin `Store` holds: its WASI context (with no rights), its
//! resource limiter, and the host functions of the `host` interface, each
//! bounded: a plugin cannot create metric names, log lines or memory beyond
//! its limits, whatever data it is fed.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::ResourceLimiter;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};

use super::bindings::foghorn::plugin::host::{Host, Level};
use super::bindings::types;
use crate::internal::metrics::metrics;

/// How much of a plugin's stderr (panic messages) is kept for error reports.
const STDERR_CAPACITY: usize = 16 * 1024;

/// The longest log line a plugin may write; longer ones are cut.
const MAX_LOG_BYTES: usize = 4096;

/// The longest metric name a plugin may use.
const MAX_METRIC_NAME_BYTES: usize = 128;

/// What the `host` interface lets one plugin do, kept across restarts so a
/// plugin that fails cannot start its budgets over.
#[derive(Debug)]
pub(crate) struct HostBudget {
    /// Counter and gauge names the plugin has used.
    metric_names: HashSet<String>,
    max_metric_names: usize,
    /// Log lines it may still write now (a token bucket refilled at
    /// `logs_per_second`, holding at most that many).
    log_tokens: f64,
    logs_per_second: f64,
    refilled: Instant,
}

impl HostBudget {
    pub(crate) fn new(max_metric_names: usize, logs_per_second: u32) -> Self {
        Self {
            metric_names: HashSet::new(),
            max_metric_names,
            log_tokens: f64::from(logs_per_second),
            logs_per_second: f64::from(logs_per_second),
            refilled: Instant::now(),
        }
    }

    /// Whether a value for metric `name` may be recorded.
    fn metric(&mut self, name: &str) -> bool {
        if self.metric_names.contains(name) {
            return true;
        }
        let fits = self.metric_names.len() < self.max_metric_names
            && !name.is_empty()
            && name.len() <= MAX_METRIC_NAME_BYTES;
        if fits {
            self.metric_names.insert(name.to_owned());
        }
        fits
    }

    /// Whether one more log line may be written now.
    fn log(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.log_tokens =
            (self.log_tokens + elapsed * self.logs_per_second).min(self.logs_per_second);
        if self.log_tokens >= 1.0 {
            self.log_tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The data of one plugin store.
pub(crate) struct StoreState {
    component: Arc<str>,
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) stderr: MemoryOutputPipe,
    pub(crate) budget: HostBudget,
}

impl StoreState {
    pub(crate) fn new(component: Arc<str>, max_memory: usize, budget: HostBudget) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        // No preopened directories, no environment, no arguments and no
        // network: a plugin sees only what the `host` interface gives it.
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            component,
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(max_memory),
            stderr,
            budget,
        }
    }

    /// What the plugin wrote to stderr (a Rust panic message, typically).
    pub(crate) fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_owned()
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Bounds everything a plugin's store allocates on the host: its linear
/// memories and tables together stay within `limits.memory`, and the number
/// of instances, memories and tables is capped so the sum cannot be dodged
/// by creating many. Remembers when it denied growth, so the host can tell a
/// memory bomb from any other trap.
pub(crate) struct MemoryLimiter {
    max_bytes: usize,
    /// Bytes of every linear memory and table of the store.
    used: usize,
    pub(crate) exceeded: bool,
}

/// What one table element is counted as (a function reference and its
/// bookkeeping).
const TABLE_ELEMENT_BYTES: usize = 16;
/// Core instances a component may create: a Rust component has a handful
/// (its module, shims, fix-ups).
const MAX_INSTANCES: usize = 32;
/// Linear memories: a component has one, with an adapter two.
const MAX_MEMORIES: usize = 4;
/// Tables.
const MAX_TABLES: usize = 16;

impl MemoryLimiter {
    fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            used: 0,
            exceeded: false,
        }
    }

    fn grow(&mut self, current: usize, desired: usize) -> bool {
        let used = self.used.saturating_sub(current).saturating_add(desired);
        if used > self.max_bytes {
            self.exceeded = true;
            return false;
        }
        self.used = used;
        true
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.grow(current, desired))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.grow(
            current.saturating_mul(TABLE_ELEMENT_BYTES),
            desired.saturating_mul(TABLE_ELEMENT_BYTES),
        ))
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

impl types::Host for StoreState {}

impl Host for StoreState {
    fn log(&mut self, level: Level, mut message: String) {
        let component = &*self.component;
        if !self.budget.log() {
            limited(component, "log_rate");
            return;
        }
        if message.len() > MAX_LOG_BYTES {
            limited(component, "log_length");
            let mut end = MAX_LOG_BYTES;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
            message.push('…');
        }
        match level {
            Level::Trace => tracing::trace!(component, "{message}"),
            Level::Debug => tracing::debug!(component, "{message}"),
            Level::Info => tracing::info!(component, "{message}"),
            Level::Warn => tracing::warn!(component, "{message}"),
            Level::Error => tracing::error!(component, "{message}"),
        }
    }

    fn counter_add(&mut self, name: String, value: u64) {
        if !self.budget.metric(&name) {
            limited(&self.component, "metric_names");
            return;
        }
        metrics()
            .plugin_counter
            .with_label_values(&[&*self.component, &name])
            .inc_by(value);
    }

    fn gauge_set(&mut self, name: String, value: f64) {
        if !self.budget.metric(&name) {
            limited(&self.component, "metric_names");
            return;
        }
        metrics()
            .plugin_gauge
            .with_label_values(&[&*self.component, &name])
            .set(value);
    }

    fn now(&mut self) -> i64 {
        crate::event::now_nanos()
    }
}

/// Count something a plugin's limits held back.
fn limited(component: &str, limit: &str) {
    metrics()
        .plugin_limited
        .with_label_values(&[component, limit])
        .inc();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memories_and_tables_share_one_budget() {
        let mut limiter = MemoryLimiter::new(1000);
        assert!(limiter.grow(0, 600), "first memory");
        assert!(
            !limiter.grow(0, 600),
            "a second memory counts against the same budget"
        );
        assert!(limiter.exceeded);
        assert!(
            limiter.grow(600, 900),
            "growing the first within the budget"
        );
        assert!(
            !limiter.table_growing(0, 10, None).unwrap(),
            "160 bytes of table do not fit"
        );
        assert!(limiter.table_growing(0, 6, None).unwrap());
    }

    #[test]
    fn metric_names_are_capped_but_known_names_keep_working() {
        let mut budget = HostBudget::new(2, 10);
        assert!(budget.metric("a"));
        assert!(budget.metric("b"));
        assert!(!budget.metric("c"));
        assert!(budget.metric("a"));
        assert!(!budget.metric(""));
        let mut budget = HostBudget::new(10, 10);
        assert!(!budget.metric(&"x".repeat(MAX_METRIC_NAME_BYTES + 1)));
    }

    #[test]
    fn logs_over_the_rate_are_refused() {
        let mut budget = HostBudget::new(1, 5);
        let allowed = (0..100).filter(|_| budget.log()).count();
        assert_eq!(
            allowed, 5,
            "a burst of the rate, then nothing until time passes"
        );
        budget.refilled -= std::time::Duration::from_secs(1);
        assert!(budget.log(), "a second later the bucket has refilled");
    }
}
