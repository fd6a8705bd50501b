//! One wasmtime engine and linker per process, a compile cache on disk and
//! the epoch ticker that gives every plugin call a deadline.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sha2::Digest as _;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Cache, CacheConfig, Config, Engine};

use super::bindings::{Processor, ProcessorPre};
use super::store::StoreState;

/// How often the epoch advances: the granularity of plugin time limits.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Errors loading a plugin.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The engine could not be configured.
    #[error("cannot set up the WebAssembly engine: {0:#}")]
    Engine(wasmtime::Error),
    /// The bytes are not a valid component.
    #[error("not a valid WebAssembly component: {0:#}")]
    Compile(wasmtime::Error),
    /// The component does not implement the `foghorn:plugin/processor` world.
    #[error("the component does not fit the foghorn:plugin@0.1.0 processor world: {0:#}")]
    Link(wasmtime::Error),
}

/// The process-wide plugin engine.
#[derive(Clone)]
pub struct PluginEngine {
    engine: Engine,
    linker: Arc<Linker<StoreState>>,
}

impl std::fmt::Debug for PluginEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginEngine").finish_non_exhaustive()
    }
}

/// A compiled, linked plugin, ready to instantiate many times cheaply.
#[derive(Clone)]
pub struct LoadedPlugin {
    pub(crate) engine: Engine,
    pub(crate) pre: ProcessorPre<StoreState>,
    /// Hex SHA-256 of the component's bytes: what tells two plugins apart
    /// (snapshots are keyed by it, so one plugin never gets another's state).
    pub digest: Arc<str>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin").finish_non_exhaustive()
    }
}

impl PluginEngine {
    /// An engine caching compiled code under `cache_dir` (no cache if `None`).
    ///
    /// # Errors
    /// When wasmtime cannot be configured or the cache directory is unusable.
    pub fn new(cache_dir: Option<&Path>) -> Result<Self, PluginError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // `FOGHORN_WASM_PROFILE=perfmap` names the compiled plugin functions
        // for `perf` (in /tmp/perf-<pid>.map), to profile a plugin.
        if std::env::var_os("FOGHORN_WASM_PROFILE").is_some_and(|v| v == "perfmap") {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        if let Some(dir) = cache_dir {
            let mut cache = CacheConfig::new();
            cache.with_directory(dir);
            config.cache(Some(Cache::new(cache).map_err(PluginError::Engine)?));
        }
        let engine = Engine::new(&config).map_err(PluginError::Engine)?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(PluginError::Engine)?;
        Processor::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(PluginError::Engine)?;

        let ticker = engine.weak();
        std::thread::Builder::new()
            .name("foghorn-epoch".into())
            .spawn(move || {
                while let Some(engine) = ticker.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .map_err(|e| PluginError::Engine(e.into()))?;

        Ok(Self {
            engine,
            linker: Arc::new(linker),
        })
    }

    /// The wasmtime engine, to read a component's types.
    #[must_use]
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compile (or fetch from the cache) and link a component.
    ///
    /// # Errors
    /// When the bytes are not a component or don't implement the world.
    pub fn load(&self, bytes: &[u8]) -> Result<LoadedPlugin, PluginError> {
        let component = Component::new(&self.engine, bytes).map_err(PluginError::Compile)?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(PluginError::Link)?;
        let pre = ProcessorPre::new(instance_pre).map_err(PluginError::Link)?;
        Ok(LoadedPlugin {
            engine: self.engine.clone(),
            pre,
            digest: hex::encode(sha2::Sha256::digest(bytes)).into(),
        })
    }
}
