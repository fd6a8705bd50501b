//! From a validated [`Config`] to a running [`Pipeline`], and from one
//! running config to the next (a reload).
//!
//! [`Pipeline::apply`] compares the new config with the running one,
//! component by component. Everything fallible for the components that are
//! new or changed (binding listeners, opening files, compiling,
//! instantiating and initialising plugins) happens first; if anything fails,
//! every error is returned and nothing running is touched. Then the changed
//! and removed components are taken out of the wiring (their inputs close
//! once what is in flight has arrived, so they drain, flush and stop), and
//! the new ones are wired in and spawned. Components that did not change
//! keep running with their state. A rebuilt processor waits for its
//! predecessor to drain and, when the plugin is the same, starts from its
//! final state; a rebuilt source waits for its predecessor's last
//! checkpoint. Fan-outs share their consumer lists with the pipeline, so
//! re-wiring never stops a producer and never drops a batch in flight.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, PoisonError};

use sha2::Digest as _;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::CHANNEL_BATCHES;
use super::pipeline::{Pipeline, Port, ProcessorHandle, SinkHandle, SourceHandle};
use crate::config::{Clock, Config, ConfigError, InputRef, Output};
use crate::error_log::ErrorLog;
use crate::fanout::{Consumer, Consumers, Fanout};
use crate::internal::health::{ComponentStatus, health};
use crate::processors::dead_letter::DeadLetter;
use crate::processors::event_clock::EventTicks;
use crate::processors::native::NativeRunner;
use crate::processors::outputs::Outputs;
use crate::processors::restarts::Restarts;
use crate::processors::runner::{Predecessor, ProcessorRunner};
use crate::processors::wasm::{self, LoadedPlugin, PluginEngine, PluginInstance, PluginLimits};
use crate::processors::{NativeProcessor, PluginRef, ProcessorContext, WasmConfig};
use crate::sinks::{BuiltSink, SinkContext, chain};
use crate::sources::{RecordBatcher, SourceContext};
use crate::state::StateStore;

fn located(config: &Config, path: &[&str], message: impl Into<String>) -> ConfigError {
    config.source_map.error(path, message)
}

/// The plugin reference as users wrote it, for alerts and logs.
fn plugin_label(plugin: &PluginRef) -> String {
    match plugin {
        PluginRef::Builtin(name) => format!("builtin:{name}"),
        PluginRef::Path(path) => path.display().to_string(),
    }
}

fn plugin_bytes(plugin: &PluginRef) -> Result<Vec<u8>, String> {
    match plugin {
        PluginRef::Builtin(name) => wasm::builtin(name)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| format!("unknown builtin plugin `{name}`")),
        PluginRef::Path(path) => {
            std::fs::read(path).map_err(|e| format!("cannot read plugin {}: {e}", path.display()))
        }
    }
}

/// Compile every distinct plugin once, in parallel; a component compiled
/// before (same bytes) is taken from `compiled`, so a reload that keeps a
/// plugin does not compile it again. Each file is read once: the bytes
/// checked against a processor's `sha256` pin are the bytes compiled.
async fn load_plugins(
    config: &Config,
    only: &[String],
    engine: &PluginEngine,
    compiled: &mut HashMap<String, LoadedPlugin>,
) -> (HashMap<String, LoadedPlugin>, Vec<ConfigError>) {
    let mut loading = JoinSet::new();
    let mut seen = std::collections::HashSet::new();
    for (name, processor) in wasm_processors(config, only) {
        let label = plugin_label(&processor.plugin);
        if !seen.insert(label.clone()) {
            continue;
        }
        let (engine, plugin, name) = (engine.clone(), processor.plugin.clone(), name.clone());
        let known: Vec<(String, LoadedPlugin)> = compiled
            .iter()
            .map(|(digest, loaded)| (digest.clone(), loaded.clone()))
            .collect();
        loading.spawn_blocking(move || {
            let loaded = plugin_bytes(&plugin).and_then(|bytes| {
                let digest = hex::encode(sha2::Sha256::digest(&bytes));
                match known.into_iter().find(|(known, _)| *known == digest) {
                    Some((_, loaded)) => Ok(loaded),
                    None => engine.load(&bytes).map_err(|e| chain(&e)),
                }
            });
            (name, label, loaded)
        });
    }
    let mut plugins = HashMap::new();
    let mut errors = Vec::new();
    while let Some(joined) = loading.join_next().await {
        let (name, label, loaded) = joined.expect("plugin loading does not panic");
        match loaded {
            Ok(plugin) => {
                compiled.insert(plugin.digest.to_string(), plugin.clone());
                plugins.insert(label, plugin);
            }
            Err(message) => errors.push(located(config, &["processors", &name, "plugin"], message)),
        }
    }
    // Every processor's pin against the digest of the bytes compiled.
    for (name, processor) in wasm_processors(config, only) {
        if let Some(plugin) = plugins.get(&plugin_label(&processor.plugin))
            && let Some(message) = pin_mismatch(processor, plugin)
        {
            errors.push(located(config, &["processors", name, "sha256"], message));
        }
    }
    (plugins, errors)
}

/// The processors among `only` that run a plugin.
fn wasm_processors<'a>(
    config: &'a Config,
    only: &'a [String],
) -> impl Iterator<Item = (&'a String, &'a WasmConfig)> + 'a {
    config
        .processors
        .iter()
        .filter(|(name, _)| only.contains(name))
        .filter_map(|(name, processor)| Some((name, processor.kind.wasm()?)))
}

/// Why `plugin` is not the one `processor` pins, if it is not.
fn pin_mismatch(processor: &WasmConfig, plugin: &LoadedPlugin) -> Option<String> {
    let pinned = processor.sha256.as_ref()?;
    (!pinned.eq_ignore_ascii_case(&plugin.digest)).then(|| {
        format!(
            "sha256 mismatch: pinned {pinned}, the plugin has {}",
            plugin.digest
        )
    })
}

/// The compiled plugin of `processor`, unless it is missing or is not the
/// one its `sha256` pins (reported by [`load_plugins`]; never instantiated).
fn pinned_plugin<'a>(
    plugins: &'a HashMap<String, LoadedPlugin>,
    processor: &WasmConfig,
) -> Option<&'a LoadedPlugin> {
    let plugin = plugins.get(&plugin_label(&processor.plugin))?;
    pin_mismatch(processor, plugin).is_none().then_some(plugin)
}

/// What `foghorn validate` adds to the static checks: every plugin is read,
/// checked against its pin, compiled, instantiated and initialised with its
/// `config`, so a plugin that rejects its config is reported at the line of
/// its `config:` key, as `run` would report it. (A native processor's
/// settings are checked with the rest of the file; building one needs the
/// running agent's state.)
pub async fn check_processors(config: &Config, engine: &PluginEngine) -> Vec<ConfigError> {
    let names: Vec<String> = config.processors.keys().cloned().collect();
    let (plugins, mut errors) = load_plugins(config, &names, engine, &mut HashMap::new()).await;
    for (name, processor) in wasm_processors(config, &names) {
        let Some(plugin) = pinned_plugin(&plugins, processor) else {
            continue;
        };
        let checked = tokio::task::block_in_place(|| {
            PluginInstance::new(
                plugin.clone(),
                Arc::from(name.as_str()),
                processor.config.to_string(),
                PluginLimits::of(&processor.limits),
            )
        });
        if let Err(error) = checked {
            errors.push(located(
                config,
                &["processors", name, "config"],
                error.to_string(),
            ));
        }
    }
    crate::settings::sort(&mut errors);
    errors
}

/// A plugin processor of the configuration, instantiated on its own: what
/// `foghorn test` gives its cases.
#[derive(Debug)]
pub struct LoneProcessor {
    /// The processor's name.
    pub name: Arc<str>,
    /// The plugin as the configuration names it (`builtin:zscore`, a path).
    pub plugin: Arc<str>,
    /// The running plugin, initialised with its `config`.
    pub instance: PluginInstance,
}

/// The plugin processors `names` of `config`, each loaded (and checked
/// against its `sha256` pin), instantiated and initialised with its
/// `config`, in the order given. A name that is no processor, or one that is
/// native, is an error.
///
/// # Errors
/// Every processor that cannot run, located at its key.
pub async fn instantiate(
    config: &Config,
    names: &[String],
    engine: &PluginEngine,
) -> Result<Vec<LoneProcessor>, Vec<ConfigError>> {
    let mut errors = Vec::new();
    for name in names {
        match config.processors.get(name) {
            None => errors.push(located(
                config,
                &["processors"],
                format!("no processor named `{name}`"),
            )),
            Some(processor) if processor.kind.wasm().is_none() => errors.push(located(
                config,
                &["processors", name],
                format!("`{name}` is a native processor: only plugin processors can be tested"),
            )),
            Some(_) => {}
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (plugins, errors) = load_plugins(config, names, engine, &mut HashMap::new()).await;
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut built = Vec::new();
    let mut errors = Vec::new();
    for name in names {
        let Some(processor) = config.processors[name].kind.wasm() else {
            continue;
        };
        let Some(plugin) = pinned_plugin(&plugins, processor) else {
            continue;
        };
        let instance = tokio::task::block_in_place(|| {
            PluginInstance::new(
                plugin.clone(),
                Arc::from(name.as_str()),
                processor.config.to_string(),
                PluginLimits::of(&processor.limits),
            )
        });
        match instance {
            Ok(instance) => built.push(LoneProcessor {
                name: Arc::from(name.as_str()),
                plugin: Arc::from(plugin_label(&processor.plugin)),
                instance,
            }),
            Err(error) => errors.push(located(
                config,
                &["processors", name, "config"],
                error.to_string(),
            )),
        }
    }
    if errors.is_empty() {
        Ok(built)
    } else {
        Err(errors)
    }
}

/// The native processor `name`, built; `Ok(None)` for a plugin.
fn build_native(
    config: &Config,
    name: &str,
    pipeline: &Pipeline,
) -> Result<Option<Box<dyn NativeProcessor>>, ConfigError> {
    let ctx = ProcessorContext {
        name: Arc::from(name),
        state: Arc::clone(&pipeline.state),
        silences: Arc::clone(&pipeline.silences),
    };
    config.processors[name]
        .kind
        .build_native(&ctx)
        .transpose()
        .map_err(|message| located(config, &["processors", name], message))
}

struct PreparedProcessor {
    name: Arc<str>,
    digest: Arc<str>,
    snapshot_key: String,
    plugin: Arc<str>,
    instance: PluginInstance,
    errors: Option<ErrorLog>,
    last_snapshot: Option<Vec<u8>>,
}

fn prepare_processor(
    config: &Config,
    name: &str,
    processor: &WasmConfig,
    plugin: &LoadedPlugin,
    state: &StateStore,
) -> Result<PreparedProcessor, ConfigError> {
    let component: Arc<str> = Arc::from(name);
    let limits = PluginLimits::of(&processor.limits);
    let instantiate = || {
        PluginInstance::new(
            plugin.clone(),
            Arc::clone(&component),
            processor.config.to_string(),
            limits,
        )
        .map_err(|e| located(config, &["processors", name, "config"], e.to_string()))
    };
    let mut instance = instantiate()?;
    let errors = processor
        .errors
        .as_deref()
        .map(|path| ErrorLog::open(path, config.log_files))
        .transpose()
        .map_err(|e| {
            located(
                config,
                &["processors", name, "errors"],
                format!("cannot open error log: {e}"),
            )
        })?;
    let snapshot_key =
        StateStore::snapshot_key(name, &plugin.digest, &processor.config.to_string());
    let mut last_snapshot = state
        .load_snapshot(&snapshot_key)
        .map_err(|e| located(config, &["processors", name], chain(&e)))?;
    if let Err(error) = state.prune_snapshots(name, &snapshot_key) {
        tracing::warn!(component = name, "cannot prune old snapshots: {error}");
    }
    if let Some(snapshot) = &last_snapshot {
        match instance.restore(snapshot) {
            Ok(()) => tracing::info!(
                component = name,
                bytes = snapshot.len(),
                "state restored from snapshot"
            ),
            Err(error) => {
                tracing::warn!(component = name, "{error}; starting with fresh state");
                last_snapshot = None;
                instance = instantiate()?;
            }
        }
    }
    Ok(PreparedProcessor {
        digest: Arc::clone(&plugin.digest),
        snapshot_key,
        name: component,
        plugin: Arc::from(plugin_label(&processor.plugin)),
        instance,
        errors,
        last_snapshot,
    })
}

/// Build and start the pipeline described by `config`.
///
/// # Errors
/// Every component that cannot be built, located in the config file.
pub async fn build(
    config: &Config,
    engine: &PluginEngine,
    state: Arc<StateStore>,
    silences: Arc<crate::silences::Silences>,
) -> Result<Pipeline, Vec<ConfigError>> {
    let mut pipeline = Pipeline::new(engine.clone(), state, silences);
    pipeline.apply(config).await?;
    Ok(pipeline)
}

/// What a reload changed, by component name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Components that were not there before.
    pub added: Vec<String>,
    /// Components rebuilt with new settings.
    pub changed: Vec<String>,
    /// Components that are gone.
    pub removed: Vec<String>,
}

impl Changes {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

impl std::fmt::Display for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_empty() {
            return f.write_str("nothing changed");
        }
        let mut parts = Vec::new();
        for (label, names) in [
            ("added", &self.added),
            ("changed", &self.changed),
            ("removed", &self.removed),
        ] {
            if !names.is_empty() {
                parts.push(format!("{label} {}", names.join(", ")));
            }
        }
        f.write_str(&parts.join("; "))
    }
}

/// The components of one section to stop (removed or changed) and to start
/// (added or changed).
fn diff<T: PartialEq>(
    old: Option<&BTreeMap<String, T>>,
    new: &BTreeMap<String, T>,
    everything: bool,
    changes: &mut Changes,
) -> (Vec<String>, Vec<String>) {
    let (mut stop, mut start) = (Vec::new(), Vec::new());
    let empty = BTreeMap::new();
    let old = old.unwrap_or(&empty);
    for (name, value) in new {
        match old.get(name) {
            None => {
                changes.added.push(name.clone());
                start.push(name.clone());
            }
            Some(before) if everything || before != value => {
                changes.changed.push(name.clone());
                stop.push(name.clone());
                start.push(name.clone());
            }
            Some(_) => {}
        }
    }
    for name in old.keys().filter(|name| !new.contains_key(*name)) {
        changes.removed.push(name.clone());
        stop.push(name.clone());
    }
    (stop, start)
}

/// Which output of which component an input reads.
fn port_of(config: &Config, input: &InputRef) -> (String, Port) {
    let port = if config.sources.contains_key(&input.component) {
        Port::Records
    } else if input.output == Output::Alerts {
        Port::Alerts
    } else if input.output == Output::Notifications {
        Port::Notifications
    } else {
        Port::Points
    };
    (input.component.clone(), port)
}

/// A sink built and waiting to be spawned.
struct NewSink {
    name: Arc<str>,
    sink: BuiltSink,
    consumer: Consumer,
    rx: mpsc::Receiver<crate::event::SharedBatch>,
}

impl Pipeline {
    fn consumers(&mut self, key: (String, Port)) -> Consumers {
        Arc::clone(self.outputs.entry(key).or_default())
    }

    /// A fresh consumer list for a new instance of a producer, with the
    /// readers of the one it replaces: the old instance clears its own list
    /// when it stops, which must not silence the new one.
    fn fresh_consumers(&mut self, key: (String, Port)) -> Consumers {
        let readers = self
            .outputs
            .get(&key)
            .map(|list| list.read().unwrap_or_else(PoisonError::into_inner).clone())
            .unwrap_or_default();
        let list: Consumers = Arc::new(std::sync::RwLock::new(readers));
        self.outputs.insert(key, Arc::clone(&list));
        list
    }

    /// The outputs of a new instance of processor `name`.
    fn processor_outputs(&mut self, name: &Arc<str>) -> Outputs {
        let points = self.fresh_consumers((name.to_string(), Port::Points));
        let alerts = self.fresh_consumers((name.to_string(), Port::Alerts));
        let notifications = self.fresh_consumers((name.to_string(), Port::Notifications));
        Outputs {
            points: Fanout::shared(Arc::clone(name), Port::Points.name(), points),
            alerts: Fanout::shared(Arc::clone(name), Port::Alerts.name(), alerts),
            notifications: Fanout::shared(
                Arc::clone(name),
                Port::Notifications.name(),
                notifications,
            ),
        }
    }

    /// Wire `consumer` to every output `inputs` name.
    fn connect(&mut self, config: &Config, inputs: &[InputRef], consumer: &Consumer) {
        for input in inputs {
            let list = self.consumers(port_of(config, input));
            list.write()
                .unwrap_or_else(PoisonError::into_inner)
                .push(consumer.clone());
        }
    }

    /// Take the consumer `id` out of every consumer list.
    fn disconnect(&self, id: u64) {
        for list in self.outputs.values() {
            list.write()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|consumer| consumer.id != id);
        }
    }

    /// Make the running pipeline the one `config` describes: see the module
    /// documentation. Returns what changed.
    ///
    /// # Errors
    /// Every component that cannot be built, located in the config file;
    /// then nothing running was touched.
    pub async fn apply(&mut self, config: &Config) -> Result<Changes, Vec<ConfigError>> {
        let old = self.config.take();
        let result = self.apply_from(old.as_ref(), config).await;
        self.config = match &result {
            Ok(_) => Some(config.clone()),
            Err(_) => old,
        };
        result
    }

    async fn apply_from(
        &mut self,
        old: Option<&Config>,
        config: &Config,
    ) -> Result<Changes, Vec<ConfigError>> {
        // Settings every component uses: a change rebuilds them all.
        let everything = old.is_some_and(|old| {
            old.data_dir != config.data_dir
                || old.batch != config.batch
                || old.log_files != config.log_files
        });
        let mut changes = Changes::default();
        let (stop_sinks, start_sinks) = diff(
            old.map(|o| &o.sinks),
            &config.sinks,
            everything,
            &mut changes,
        );
        let (stop_processors, start_processors) = diff(
            old.map(|o| &o.processors),
            &config.processors,
            everything,
            &mut changes,
        );
        let (stop_sources, start_sources) = diff(
            old.map(|o| &o.sources),
            &config.sources,
            everything,
            &mut changes,
        );
        if changes.is_empty() {
            return Ok(changes);
        }

        // 1. Everything fallible, for the new and changed components only.
        let mut errors = Vec::new();
        let mut new_sinks = Vec::new();
        for name in &start_sinks {
            let sink = &config.sinks[name];
            let (tx, rx) = mpsc::channel(sink.buffer.max_batches);
            let name: Arc<str> = Arc::from(name.as_str());
            let ctx = SinkContext {
                name: Arc::clone(&name),
                data_dir: config.data_dir.clone(),
                shutdown: self.shutdown.clone(),
            };
            // A listener taken by the sink this one replaces is freed first.
            let rebind = self.sinks.get(&*name).is_some_and(|handle| {
                handle.listen.is_some() && handle.listen == sink.kind.listen()
            });
            if rebind && let Some(mut stopped) = self.sinks.remove(&*name) {
                self.disconnect(stopped.consumer);
                if let Some(done) = stopped.done.take() {
                    let _ = done.await;
                }
            }
            match sink.kind.build(ctx).await {
                Ok(built) => new_sinks.push(NewSink {
                    consumer: Consumer::new(Arc::clone(&name), tx, sink.buffer.when_full),
                    name,
                    sink: built,
                    rx,
                }),
                Err(error) => errors.push(located(config, &["sinks", &name], chain(&error))),
            }
        }
        let (plugins, load_errors) =
            load_plugins(config, &start_processors, &self.engine, &mut self.compiled).await;
        errors.extend(load_errors);
        let mut prepared = Vec::new();
        let mut natives = Vec::new();
        for name in &start_processors {
            match build_native(config, name, self) {
                Ok(Some(native)) => natives.push((Arc::<str>::from(name.as_str()), native)),
                Ok(None) => {}
                Err(error) => errors.push(error),
            }
        }
        for (name, processor) in wasm_processors(config, &start_processors) {
            let Some(plugin) = pinned_plugin(&plugins, processor) else {
                continue;
            };
            match prepare_processor(config, name, processor, plugin, &self.state) {
                Ok(ready) => prepared.push(ready),
                Err(error) => errors.push(error),
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| (e.line, e.column));
            return Err(errors);
        }

        // 2. Take out what stops: inputs close once in flight has arrived.
        for name in &stop_sinks {
            if let Some(handle) = self.sinks.remove(name) {
                self.disconnect(handle.consumer);
            }
        }
        let mut predecessors = HashMap::new();
        for name in &stop_processors {
            if let Some(handle) = self.processors.remove(name) {
                self.disconnect(handle.consumer);
                predecessors.insert(name.clone(), handle);
            }
        }
        let mut source_done = HashMap::new();
        for name in &stop_sources {
            if let Some(handle) = self.sources.remove(name) {
                handle.stop.cancel();
                source_done.insert(name.clone(), handle.done);
            }
        }
        for name in &changes.removed {
            if !config.sources.contains_key(name) && !config.processors.contains_key(name) {
                for port in [
                    Port::Records,
                    Port::Points,
                    Port::Alerts,
                    Port::Notifications,
                ] {
                    self.outputs.remove(&(name.clone(), port));
                }
            }
        }

        // 3. Wire in and start the new components: sinks, processors, sources.
        let initial = old.is_none();
        if initial {
            self.banner.push(crate::sinks::banner(
                "data_dir",
                absolute(&config.data_dir).display(),
            ));
        }
        for new in new_sinks {
            if initial {
                self.banner.push(new.sink.describe());
            }
            let inputs = &config.sinks[&*new.name].inputs;
            self.connect(config, inputs, &new.consumer);
            health().set(&new.name, ComponentStatus::Running);
            let (done_tx, done_rx) = oneshot::channel();
            let (name, sink, rx) = (Arc::clone(&new.name), new.sink, new.rx);
            let task = self.tasks.spawn(async move {
                let result = sink.run(rx).await.map_err(|e| chain(&e));
                let _ = done_tx.send(());
                (name, result)
            });
            self.names.insert(task.id(), Arc::clone(&new.name));
            let kind = &config.sinks[&*new.name].kind;
            self.sinks.insert(
                new.name.to_string(),
                SinkHandle {
                    consumer: new.consumer.id,
                    listen: kind.listen(),
                    done: Some(done_rx),
                    id: task.id(),
                },
            );
        }
        for (name, processor) in natives {
            self.start_native(config, &name, processor, &mut predecessors, initial);
        }
        for ready in prepared {
            let entry = &config.processors[&*ready.name];
            let wasm = entry.kind.wasm().expect("prepared processors run plugins");
            if initial && let Some(log) = &ready.errors {
                let target = format!("{} ({})", absolute(log.path()).display(), ready.name);
                self.banner.push(crate::sinks::banner("errors", target));
            }
            let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
            let consumer = Consumer::blocking(Arc::clone(&ready.name), tx);
            self.connect(config, &entry.inputs, &consumer);
            let predecessor = predecessors.remove(&*ready.name).map(|old| Predecessor {
                carry_state: old.digest == ready.digest,
                final_snapshot: old.final_snapshot,
            });
            let (snapshot_tx, snapshot_rx) = oneshot::channel();
            let runner = ProcessorRunner {
                input: rx,
                outputs: self.processor_outputs(&ready.name),
                dead_letter: DeadLetter::new(&config.data_dir, &ready.name, config.log_files),
                state: Arc::clone(&self.state),
                tick_interval: wasm.tick_interval,
                event_ticks: (config.clock == Clock::Event)
                    .then(|| EventTicks::new(wasm.tick_interval)),
                snapshot_interval: wasm.snapshot_interval,
                name: Arc::clone(&ready.name),
                snapshot_key: ready.snapshot_key,
                plugin: ready.plugin,
                instance: ready.instance,
                errors: ready.errors,
                last_snapshot: ready.last_snapshot,
                predecessor,
                final_snapshot: Some(snapshot_tx),
                restarts: Restarts::new(wasm.limits.restart),
                down: None,
                failed_call: None,
            };
            health().set(&ready.name, ComponentStatus::Running);
            let name = Arc::clone(&ready.name);
            let task = self.tasks.spawn(async move {
                runner.run().await;
                (name, Ok(()))
            });
            self.names.insert(task.id(), Arc::clone(&ready.name));
            self.processors.insert(
                ready.name.to_string(),
                ProcessorHandle {
                    consumer: consumer.id,
                    digest: ready.digest,
                    final_snapshot: Some(snapshot_rx),
                    id: task.id(),
                },
            );
        }
        for name in &start_sources {
            let source = &config.sources[name];
            let name: Arc<str> = Arc::from(name.as_str());
            let batch = config.batch_for(source.batch.as_ref());
            let list = self.fresh_consumers((name.to_string(), Port::Records));
            let out = Fanout::shared(Arc::clone(&name), Port::Records.name(), list);
            let stop = self.shutdown.child_token();
            let ctx = SourceContext {
                name: Arc::clone(&name),
                state: Arc::clone(&self.state),
                log_files: config.log_files,
                shutdown: stop.clone(),
                batcher: RecordBatcher::new(
                    Arc::clone(&name),
                    batch.max_records,
                    batch.linger,
                    out,
                ),
            };
            if initial {
                let mut target = format!("{name}: {}", source.kind.describe());
                if !source.after.is_empty() {
                    target.push_str(&format!(", after {} ended", source.after.join(", ")));
                }
                self.banner.push(crate::sinks::banner("source", target));
            }
            let mut ended = |name: &str| {
                Arc::clone(
                    self.ended
                        .entry(name.to_owned())
                        .or_insert_with(|| Arc::new(tokio::sync::watch::channel(false).0)),
                )
            };
            let waits: Vec<_> = source
                .after
                .iter()
                .map(|other| ended(other).subscribe())
                .collect();
            let ends = ended(&name);
            let waiting = stop.clone();
            // Sources with an input to open are ready once they have opened it.
            let status = if source.kind.opens_input() {
                ComponentStatus::Starting
            } else {
                ComponentStatus::Running
            };
            health().set(&name, status);
            let kind = source.kind.clone();
            let predecessor = source_done.remove(&*name).flatten();
            let (done_tx, done_rx) = oneshot::channel();
            let task_name = Arc::clone(&name);
            let task = self.tasks.spawn(async move {
                // Resume from the checkpoint the predecessor commits last.
                if let Some(predecessor) = predecessor {
                    let _ = predecessor.await;
                }
                // Start once every source it comes after has ended.
                for mut wait in waits {
                    tokio::select! {
                        _ = wait.wait_for(|ended| *ended) => {}
                        () = waiting.cancelled() => {
                            let _ = done_tx.send(());
                            return (task_name, Ok(()));
                        }
                    }
                }
                let result = kind.run(ctx).await.map_err(|e| chain(&e));
                if result.is_ok() && !waiting.is_cancelled() {
                    ends.send_replace(true);
                }
                let _ = done_tx.send(());
                (task_name, result)
            });
            self.names.insert(task.id(), Arc::clone(&name));
            self.sources.insert(
                name.to_string(),
                SourceHandle {
                    stop,
                    done: Some(done_rx),
                    id: task.id(),
                },
            );
        }
        Ok(changes)
    }

    /// Wire in and spawn a native processor, after the instance it
    /// replaces has drained (so batches keep their order).
    fn start_native(
        &mut self,
        config: &Config,
        name: &Arc<str>,
        processor: Box<dyn NativeProcessor>,
        predecessors: &mut HashMap<String, ProcessorHandle>,
        initial: bool,
    ) {
        let entry = &config.processors[&**name];
        if initial && let Some(line) = entry.kind.describe_native() {
            self.banner
                .push(crate::sinks::banner("process", format!("{name}: {line}")));
        }
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        let consumer = Consumer::blocking(Arc::clone(name), tx);
        self.connect(config, &entry.inputs, &consumer);
        let predecessor = predecessors
            .remove(&**name)
            .and_then(|old| old.final_snapshot);
        let event_ticks = (config.clock == Clock::Event)
            .then(|| processor.tick_interval().map(EventTicks::new))
            .flatten();
        let runner = NativeRunner {
            event_ticks,
            processor,
            input: rx,
            outputs: self.processor_outputs(name),
            name: Arc::clone(name),
        };
        let (drained_tx, drained_rx) = oneshot::channel();
        health().set(name, ComponentStatus::Running);
        let task_name = Arc::clone(name);
        let task = self.tasks.spawn(async move {
            if let Some(predecessor) = predecessor {
                let _ = predecessor.await;
            }
            runner.run().await;
            let _ = drained_tx.send(None);
            (task_name, Ok(()))
        });
        self.names.insert(task.id(), Arc::clone(name));
        self.processors.insert(
            name.to_string(),
            ProcessorHandle {
                consumer: consumer.id,
                digest: Arc::from(""),
                final_snapshot: Some(drained_rx),
                id: task.id(),
            },
        );
    }
}

fn absolute(path: &std::path::Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
