//! One instantiated plugin: calls with deadlines and a memory limit, and
//! recovery from a failed call.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Store, Trap};

use super::bindings::{Processor, types};
use super::engine::{EPOCH_TICK, LoadedPlugin};
use super::store::{HostBudget, StoreState};
use crate::internal::events::{PluginCalled, PluginFailureKind};

/// Bounds on every instance of a plugin.
#[derive(Debug, Clone, Copy)]
pub struct PluginLimits {
    /// Most bytes of linear memory and tables, all together.
    pub memory: usize,
    /// Longest a single call may run.
    pub time_per_call: Duration,
    /// Largest snapshot, in bytes.
    pub snapshot: usize,
    /// Distinct counter and gauge names.
    pub metric_names: usize,
    /// Log lines per second.
    pub logs_per_second: u32,
}

impl PluginLimits {
    /// The limits a processor's `limits:` configures.
    pub fn of(limits: &super::config::Limits) -> Self {
        Self {
            memory: usize::try_from(limits.memory.bytes()).unwrap_or(usize::MAX),
            time_per_call: limits.time_per_call,
            snapshot: usize::try_from(limits.snapshot.bytes()).unwrap_or(usize::MAX),
            metric_names: limits.metric_names,
            logs_per_second: limits.logs_per_second,
        }
    }
}

/// Why a plugin call did not return a result.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The guest failed: a trap, a timeout, a memory bomb or an output that
    /// breaks the contract. The instance must be re-instantiated before it is
    /// called again.
    #[error("{} in {call}: {message}", kind.as_str())]
    Failed {
        /// The call that failed.
        call: &'static str,
        /// How.
        kind: PluginFailureKind,
        /// The error, with what the guest wrote to stderr.
        message: String,
    },
    /// `init` returned an error: the plugin rejects its configuration.
    #[error("plugin rejected its config: {0}")]
    Config(String),
    /// `restore` returned an error: the snapshot does not fit this plugin.
    #[error("plugin rejected its snapshot: {0}")]
    Snapshot(String),
}

/// A live plugin instance.
pub struct PluginInstance {
    plugin: LoadedPlugin,
    component: Arc<str>,
    config: String,
    limits: PluginLimits,
    store: Store<StoreState>,
    bindings: Processor,
}

impl std::fmt::Debug for PluginInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginInstance")
            .field("component", &self.component)
            .finish_non_exhaustive()
    }
}

fn deadline_ticks(limit: Duration) -> u64 {
    let ticks = limit.as_nanos().div_ceil(EPOCH_TICK.as_nanos());
    u64::try_from(ticks).unwrap_or(u64::MAX).max(1) + 1
}

fn new_store(
    plugin: &LoadedPlugin,
    component: &Arc<str>,
    limits: PluginLimits,
    budget: HostBudget,
) -> Store<StoreState> {
    let mut store = Store::new(
        &plugin.engine,
        StoreState::new(Arc::clone(component), limits.memory, budget),
    );
    store.limiter(|state| &mut state.limiter);
    store.epoch_deadline_trap();
    store.set_epoch_deadline(deadline_ticks(limits.time_per_call));
    store
}

impl PluginInstance {
    /// Instantiate `plugin` for `component` and initialise it with `config`
    /// (JSON).
    ///
    /// # Errors
    /// When instantiation fails or the plugin rejects its config.
    pub fn new(
        plugin: LoadedPlugin,
        component: Arc<str>,
        config: String,
        limits: PluginLimits,
    ) -> Result<Self, CallError> {
        let budget = HostBudget::new(limits.metric_names, limits.logs_per_second);
        let mut store = new_store(&plugin, &component, limits, budget);
        let bindings = plugin
            .pre
            .instantiate(&mut store)
            .map_err(|e| classify("instantiate", &store, &e))?;
        let mut instance = Self {
            plugin,
            component,
            config,
            limits,
            store,
            bindings,
        };
        instance.init()?;
        Ok(instance)
    }

    fn init(&mut self) -> Result<(), CallError> {
        let config = self.config.clone();
        self.call("init", |b, s| b.call_init(s, &config))?
            .map_err(CallError::Config)
    }

    /// Replace a failed instance with a fresh one, initialised and restored
    /// from `snapshot` when there is one.
    ///
    /// # Errors
    /// When the new instance cannot be created, initialised or restored.
    pub fn reinstantiate(&mut self, snapshot: Option<&[u8]>) -> Result<(), CallError> {
        // The host budgets carry over: failing does not reset them.
        let budget = std::mem::replace(&mut self.store.data_mut().budget, HostBudget::new(0, 1));
        self.store = new_store(&self.plugin, &self.component, self.limits, budget);
        self.bindings = self
            .plugin
            .pre
            .instantiate(&mut self.store)
            .map_err(|e| classify("instantiate", &self.store, &e))?;
        self.init()?;
        if let Some(snapshot) = snapshot {
            self.restore(snapshot)?;
        }
        Ok(())
    }

    /// Run `process` on a batch.
    ///
    /// # Errors
    /// When the call fails; the instance must then be re-instantiated.
    pub fn process(&mut self, batch: &types::Batch) -> Result<types::Output, CallError> {
        self.call("process", |b, s| b.call_process(s, batch))
    }

    /// Run `tick`.
    ///
    /// # Errors
    /// When the call fails; the instance must then be re-instantiated.
    pub fn tick(&mut self, now: i64) -> Result<types::Output, CallError> {
        self.call("tick", |b, s| b.call_tick(s, now))
    }

    /// Take a snapshot of the plugin's state.
    ///
    /// # Errors
    /// When the call fails; the instance must then be re-instantiated.
    pub fn snapshot(&mut self) -> Result<Vec<u8>, CallError> {
        let snapshot = self.call("snapshot", |b, s| b.call_snapshot(s))?;
        if snapshot.len() > self.limits.snapshot {
            return Err(CallError::Failed {
                call: "snapshot",
                kind: PluginFailureKind::InvalidOutput,
                message: format!(
                    "a snapshot of {} bytes, more than limits.snapshot ({} bytes)",
                    snapshot.len(),
                    self.limits.snapshot
                ),
            });
        }
        Ok(snapshot)
    }

    /// Restore the plugin's state.
    ///
    /// # Errors
    /// When the call fails or the plugin rejects the snapshot.
    pub fn restore(&mut self, snapshot: &[u8]) -> Result<(), CallError> {
        self.call("restore", |b, s| b.call_restore(s, snapshot))?
            .map_err(CallError::Snapshot)
    }

    fn call<R>(
        &mut self,
        call: &'static str,
        f: impl FnOnce(&Processor, &mut Store<StoreState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        self.store
            .set_epoch_deadline(deadline_ticks(self.limits.time_per_call));
        let started = std::time::Instant::now();
        let result = f(&self.bindings, &mut self.store);
        PluginCalled {
            component: &self.component,
            call,
            duration: started.elapsed(),
        }
        .emit();
        result.map_err(|e| classify(call, &self.store, &e))
    }
}

fn classify(call: &'static str, store: &Store<StoreState>, error: &wasmtime::Error) -> CallError {
    let state = store.data();
    let kind = if state.limiter.exceeded {
        PluginFailureKind::Memory
    } else if matches!(error.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        PluginFailureKind::Timeout
    } else {
        PluginFailureKind::Trap
    };
    let stderr = state.stderr_text();
    let mut message = match kind {
        PluginFailureKind::Memory => "memory limit exceeded".to_owned(),
        PluginFailureKind::Timeout => "time limit exceeded".to_owned(),
        PluginFailureKind::Trap | PluginFailureKind::InvalidOutput => format!("{error:#}"),
    };
    if !stderr.is_empty() {
        message.push_str(": ");
        message.push_str(&stderr);
    }
    CallError::Failed {
        call,
        kind,
        message,
    }
}
