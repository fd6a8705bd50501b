//! What each plugin `Store` holds: its WASI context (with no rights), its
//! resource limiter, and the host functions of the `host` interface.

use std::sync::Arc;

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};

use super::bindings::foghorn::plugin::host::{Host, Level};
use super::bindings::types;
use crate::internal::metrics::metrics;

/// How much of a plugin's stderr (panic messages) is kept for error reports.
const STDERR_CAPACITY: usize = 16 * 1024;

/// The data of one plugin store.
pub(crate) struct StoreState {
    component: Arc<str>,
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) stderr: MemoryOutputPipe,
}

impl StoreState {
    pub(crate) fn new(component: Arc<str>, max_memory: usize) -> Self {
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

/// wasmtime's `StoreLimits` (memory per linear memory, tables, instances),
/// remembering when it denied memory growth, so the host can tell a memory
/// bomb from any other trap.
pub(crate) struct MemoryLimiter {
    limits: StoreLimits,
    pub(crate) exceeded: bool,
}

impl MemoryLimiter {
    fn new(max_memory: usize) -> Self {
        let limits = StoreLimitsBuilder::new()
            .memory_size(max_memory)
            .table_elements(1_000_000)
            .instances(64)
            .build();
        Self {
            limits,
            exceeded: false,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        self.exceeded |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl types::Host for StoreState {}

impl Host for StoreState {
    fn log(&mut self, level: Level, message: String) {
        let component = &*self.component;
        match level {
            Level::Trace => tracing::trace!(component, "{message}"),
            Level::Debug => tracing::debug!(component, "{message}"),
            Level::Info => tracing::info!(component, "{message}"),
            Level::Warn => tracing::warn!(component, "{message}"),
            Level::Error => tracing::error!(component, "{message}"),
        }
    }

    fn counter_add(&mut self, name: String, value: u64) {
        metrics()
            .plugin_counter
            .with_label_values(&[&*self.component, &name])
            .inc_by(value);
    }

    fn gauge_set(&mut self, name: String, value: f64) {
        metrics()
            .plugin_gauge
            .with_label_values(&[&*self.component, &name])
            .set(value);
    }

    fn now(&mut self) -> i64 {
        crate::event::now_nanos()
    }
}
