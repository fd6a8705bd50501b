//! From a validated [`Config`] to a running [`Pipeline`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::pipeline::{Pipeline, TaskResult};
use super::{CHANNEL_BATCHES, Consumer, Fanout};
use crate::config::{
    Config, ConfigError, InputRef, Output, PluginRef, ProcessorConfig, SourceKind,
};
use crate::internal::health::{ComponentStatus, health};
use crate::processors::dead_letter::DeadLetter;
use crate::processors::error_log::ErrorLog;
use crate::processors::runner::ProcessorRunner;
use crate::processors::wasm::{self, LoadedPlugin, PluginEngine, PluginInstance, PluginLimits};
use crate::sinks::{Sink, SinkContext, chain};
use crate::sources::{self, RecordBatcher, SourceContext};
use crate::state::StateStore;

/// Which output of a component a consumer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Port {
    Records,
    Points,
    Alerts,
}

impl Port {
    fn name(self) -> &'static str {
        match self {
            Port::Records => "records",
            Port::Points => "points",
            Port::Alerts => "alerts",
        }
    }
}

/// Consumers of each component output.
#[derive(Debug, Default)]
struct Wiring {
    outputs: HashMap<(String, Port), Vec<Consumer>>,
}

impl Wiring {
    fn connect(&mut self, config: &Config, inputs: &[InputRef], consumer: &Consumer) {
        for input in inputs {
            let port = if config.sources.contains_key(&input.component) {
                Port::Records
            } else if input.output == Output::Alerts {
                Port::Alerts
            } else {
                Port::Points
            };
            self.outputs
                .entry((input.component.clone(), port))
                .or_default()
                .push(consumer.clone());
        }
    }

    fn fanout(&mut self, name: &Arc<str>, port: Port) -> Fanout {
        let consumers = self
            .outputs
            .remove(&(name.to_string(), port))
            .unwrap_or_default();
        Fanout::new(Arc::clone(name), port.name(), consumers)
    }
}

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

/// Compile every distinct plugin once, in parallel.
async fn load_plugins(
    config: &Config,
    engine: &PluginEngine,
) -> (HashMap<String, LoadedPlugin>, Vec<ConfigError>) {
    let mut loading = JoinSet::new();
    let mut seen = std::collections::HashSet::new();
    for (name, processor) in &config.processors {
        let label = plugin_label(&processor.plugin);
        if !seen.insert(label.clone()) {
            continue;
        }
        let (engine, plugin, name) = (engine.clone(), processor.plugin.clone(), name.clone());
        loading.spawn_blocking(move || {
            let loaded =
                plugin_bytes(&plugin).and_then(|bytes| engine.load(&bytes).map_err(|e| chain(&e)));
            (name, label, loaded)
        });
    }
    let mut plugins = HashMap::new();
    let mut errors = Vec::new();
    while let Some(joined) = loading.join_next().await {
        let (name, label, loaded) = joined.expect("plugin loading does not panic");
        match loaded {
            Ok(plugin) => {
                plugins.insert(label, plugin);
            }
            Err(message) => errors.push(located(config, &["processors", &name, "plugin"], message)),
        }
    }
    (plugins, errors)
}

struct PreparedProcessor {
    name: Arc<str>,
    snapshot_key: String,
    plugin: Arc<str>,
    instance: PluginInstance,
    errors: Option<ErrorLog>,
    last_snapshot: Option<Vec<u8>>,
}

fn prepare_processor(
    config: &Config,
    name: &str,
    processor: &ProcessorConfig,
    plugin: &LoadedPlugin,
    state: &StateStore,
) -> Result<PreparedProcessor, ConfigError> {
    let component: Arc<str> = Arc::from(name);
    let limits = PluginLimits {
        memory: usize::try_from(processor.limits.memory.0).unwrap_or(usize::MAX),
        time_per_call: processor.limits.time_per_batch,
    };
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
) -> Result<Pipeline, Vec<ConfigError>> {
    let mut wiring = Wiring::default();
    let mut errors = Vec::new();
    let shutdown = CancellationToken::new();

    let mut sink_inputs = Vec::new();
    for (name, sink) in &config.sinks {
        let (tx, rx) = mpsc::channel(sink.buffer.max_batches);
        let consumer = Consumer {
            name: Arc::from(name.as_str()),
            sender: tx,
            when_full: sink.buffer.when_full,
        };
        wiring.connect(config, &sink.inputs, &consumer);
        sink_inputs.push((name, rx));
    }
    let mut processor_inputs = HashMap::new();
    for (name, processor) in &config.processors {
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        let consumer = Consumer::blocking(Arc::from(name.as_str()), tx);
        wiring.connect(config, &processor.inputs, &consumer);
        processor_inputs.insert(name.clone(), rx);
    }

    // Sinks: bind listeners, open files.
    let mut sinks = Vec::new();
    for (name, rx) in sink_inputs {
        let ctx = SinkContext {
            name: Arc::from(name.as_str()),
            data_dir: config.data_dir.clone(),
            shutdown: shutdown.clone(),
        };
        match Sink::build(&config.sinks[name].kind, ctx).await {
            Ok(sink) => sinks.push((Arc::<str>::from(name.as_str()), sink, rx)),
            Err(error) => errors.push(located(config, &["sinks", name], chain(&error))),
        }
    }

    // Processors: compile, instantiate, initialise, restore.
    let (plugins, load_errors) = load_plugins(config, engine).await;
    errors.extend(load_errors);
    let mut processors = Vec::new();
    for (name, processor) in &config.processors {
        let Some(plugin) = plugins.get(&plugin_label(&processor.plugin)) else {
            continue;
        };
        match prepare_processor(config, name, processor, plugin, &state) {
            Ok(prepared) => processors.push(prepared),
            Err(error) => errors.push(error),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| (e.line, e.column));
        return Err(errors);
    }

    let mut tasks: JoinSet<TaskResult> = JoinSet::new();
    let mut banner = Vec::new();
    banner.push(crate::sinks::banner(
        "data_dir",
        absolute(&config.data_dir).display(),
    ));

    let mut names = HashMap::new();
    for (name, sink, rx) in sinks {
        banner.push(sink.describe());
        health().set(&name, ComponentStatus::Running);
        let task_name = Arc::clone(&name);
        let task = tasks.spawn(async move {
            let result = sink.run(rx).await.map_err(|e| chain(&e));
            (name, result)
        });
        names.insert(task.id(), task_name);
    }
    for prepared in processors {
        let config_entry = &config.processors[&*prepared.name];
        if let Some(log) = &prepared.errors {
            let target = format!("{} ({})", absolute(log.path()).display(), prepared.name);
            banner.push(crate::sinks::banner("errors", target));
        }
        let runner = ProcessorRunner {
            input: processor_inputs
                .remove(&*prepared.name)
                .expect("every processor has an input"),
            points_out: wiring.fanout(&prepared.name, Port::Points),
            alerts_out: wiring.fanout(&prepared.name, Port::Alerts),
            dead_letter: DeadLetter::new(&config.data_dir, &prepared.name, config.log_files),
            state: Arc::clone(&state),
            tick_interval: config_entry.tick_interval,
            snapshot_interval: config_entry.snapshot_interval,
            name: prepared.name,
            snapshot_key: prepared.snapshot_key,
            plugin: prepared.plugin,
            instance: prepared.instance,
            errors: prepared.errors,
            last_snapshot: prepared.last_snapshot,
        };
        let name = Arc::clone(&runner.name);
        let runner_name = Arc::clone(&name);
        health().set(&name, ComponentStatus::Running);
        let task = tasks.spawn(async move {
            runner.run().await;
            (name, Ok(()))
        });
        names.insert(task.id(), runner_name);
    }
    for (name, source) in &config.sources {
        let name: Arc<str> = Arc::from(name.as_str());
        let batch = config.batch_for(source.batch.as_ref());
        let out = wiring.fanout(&name, Port::Records);
        let ctx = SourceContext {
            name: Arc::clone(&name),
            state: Arc::clone(&state),
            log_files: config.log_files,
            shutdown: shutdown.child_token(),
            batcher: RecordBatcher::new(Arc::clone(&name), batch.max_records, batch.linger, out),
        };
        let target = format!("{name}: {}", sources::describe(&source.kind));
        banner.push(crate::sinks::banner("source", target));
        // Sources with an input to open are ready once they have opened it.
        let status = match source.kind {
            SourceKind::Serial(_) | SourceKind::File(_) => ComponentStatus::Starting,
            _ => ComponentStatus::Running,
        };
        health().set(&name, status);
        let kind = source.kind.clone();
        let task_name = Arc::clone(&name);
        let task = tasks.spawn(async move {
            let result = sources::run(kind, ctx).await.map_err(|e| chain(&e));
            (name, result)
        });
        names.insert(task.id(), task_name);
    }
    Ok(Pipeline {
        names,
        shutdown,
        tasks,
        banner,
    })
}

fn absolute(path: &std::path::Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
