//! A running pipeline: its tasks, the handles to change it, and how to stop
//! it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::{Id, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::fanout::Consumers;
use crate::internal::events::ComponentFailed;
use crate::internal::health::{ComponentStatus, health};
use crate::processors::wasm::PluginEngine;
use crate::state::StateStore;

/// What a component task reports when it ends.
pub(crate) type TaskResult = (Arc<str>, Result<(), String>);

/// Which output of a component a consumer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Port {
    Records,
    Points,
    Alerts,
    Notifications,
}

impl Port {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Port::Records => "records",
            Port::Points => "points",
            Port::Alerts => "alerts",
            Port::Notifications => "notifications",
        }
    }
}

/// A running source.
#[derive(Debug)]
pub(crate) struct SourceHandle {
    /// Cancelled to stop it (it flushes, waits for its acknowledgements and
    /// commits its checkpoint).
    pub stop: CancellationToken,
    /// Fires once it has stopped.
    pub done: Option<oneshot::Receiver<()>>,
    pub id: Id,
}

/// A running processor.
#[derive(Debug)]
pub(crate) struct ProcessorHandle {
    /// Its input, as wired into the outputs it reads.
    pub consumer: u64,
    /// Its plugin's digest: a successor with the same plugin takes its state.
    pub digest: Arc<str>,
    /// Its last snapshot, once it has drained.
    pub final_snapshot: Option<oneshot::Receiver<Option<Vec<u8>>>>,
    pub id: Id,
}

/// A running sink.
#[derive(Debug)]
pub(crate) struct SinkHandle {
    /// Its input, as wired into the outputs it reads.
    pub consumer: u64,
    /// The address it listens on, if any.
    pub listen: Option<SocketAddr>,
    /// Fires once it has flushed and stopped.
    pub done: Option<oneshot::Receiver<()>>,
    pub id: Id,
}

/// A running pipeline.
#[derive(Debug)]
pub struct Pipeline {
    pub(crate) shutdown: CancellationToken,
    pub(crate) tasks: JoinSet<TaskResult>,
    /// The component each task runs, to name a task that panicked.
    pub(crate) names: HashMap<Id, Arc<str>>,
    /// Banner lines: where metrics, reports and logs go.
    pub banner: Vec<String>,
    pub(crate) engine: PluginEngine,
    /// Components compiled so far, by digest.
    pub(crate) compiled: HashMap<String, crate::processors::wasm::LoadedPlugin>,
    pub(crate) state: Arc<StateStore>,
    /// The agent's silences, for alert stages.
    pub(crate) silences: Arc<crate::silences::Silences>,
    /// The config it runs.
    pub(crate) config: Option<Config>,
    /// The readers of every component output, shared with the producers.
    pub(crate) outputs: HashMap<(String, Port), Consumers>,
    pub(crate) sources: HashMap<String, SourceHandle>,
    /// Per source name, set once an instance of it has read to its end:
    /// what sources with `after` wait for (kept across reloads).
    pub(crate) ended: HashMap<String, Arc<tokio::sync::watch::Sender<bool>>>,
    pub(crate) processors: HashMap<String, ProcessorHandle>,
    pub(crate) sinks: HashMap<String, SinkHandle>,
}

impl Pipeline {
    pub(crate) fn new(
        engine: PluginEngine,
        state: Arc<StateStore>,
        silences: Arc<crate::silences::Silences>,
    ) -> Self {
        Self {
            shutdown: CancellationToken::new(),
            tasks: JoinSet::new(),
            names: HashMap::new(),
            banner: Vec::new(),
            engine,
            compiled: HashMap::new(),
            state,
            silences,
            config: None,
            outputs: HashMap::new(),
            sources: HashMap::new(),
            ended: HashMap::new(),
            processors: HashMap::new(),
            sinks: HashMap::new(),
        }
    }

    /// Whether the task `id` runs the current instance of `name` (not one a
    /// reload replaced).
    fn is_current(&self, name: &str, id: Id) -> bool {
        let current = self
            .sources
            .get(name)
            .map(|h| h.id)
            .or_else(|| self.processors.get(name).map(|h| h.id))
            .or_else(|| self.sinks.get(name).map(|h| h.id));
        current.is_none_or(|current| current == id)
    }

    /// Wait for the next component task to end; `None` once none is left.
    /// Returns its name and, if it failed, why. Cancel-safe.
    pub async fn next_exit(&mut self) -> Option<(Arc<str>, Result<(), String>)> {
        let joined = self.tasks.join_next_with_id().await?;
        Some(match joined {
            Ok((id, (name, Ok(())))) => {
                self.names.remove(&id);
                if self.is_current(&name, id) {
                    health().set(&name, ComponentStatus::Finished);
                } else {
                    tracing::debug!(component = &*name, "replaced instance stopped");
                }
                (name, Ok(()))
            }
            Ok((id, (name, Err(error)))) => {
                self.names.remove(&id);
                ComponentFailed {
                    component: &name,
                    error: &error,
                    panicked: false,
                }
                .emit();
                (name, Err(error))
            }
            Err(join) => {
                let name = self
                    .names
                    .remove(&join.id())
                    .unwrap_or_else(|| Arc::from("?"));
                let error = if join.is_panic() {
                    "its task panicked".to_owned()
                } else {
                    join.to_string()
                };
                ComponentFailed {
                    component: &name,
                    error: &error,
                    panicked: join.is_panic(),
                }
                .emit();
                (name, Err(error))
            }
        })
    }

    /// Wait until every component has finished (all sources ended and the
    /// pipeline drained). Returns the names and errors of failed components.
    pub async fn wait(&mut self) -> Vec<(Arc<str>, String)> {
        let mut failed = Vec::new();
        while let Some((name, result)) = self.next_exit().await {
            if let Err(error) = result {
                failed.push((name, error));
            }
        }
        failed
    }

    /// Stop the sources and let everything downstream drain and flush, for at
    /// most `grace`; what is still running then is aborted.
    pub async fn shutdown(&mut self, grace: Duration) -> Vec<(Arc<str>, String)> {
        self.shutdown.cancel();
        // Nothing new is wired in any more: let the inputs close as the
        // producers finish.
        self.outputs.clear();
        self.processors.clear();
        self.sinks.clear();
        match tokio::time::timeout(grace, self.wait()).await {
            Ok(failed) => failed,
            Err(_) => {
                tracing::error!(
                    ?grace,
                    "pipeline did not drain in time; aborting what is left"
                );
                self.tasks.abort_all();
                vec![(
                    Arc::from("pipeline"),
                    format!("did not drain within {grace:?}"),
                )]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::internal::metrics::metrics;

    #[tokio::test]
    async fn a_panicking_component_is_named_counted_and_unhealthy() {
        let dir = tempfile::tempdir().unwrap();
        let state = Arc::new(StateStore::open(dir.path()).unwrap());
        let engine = PluginEngine::new(None).unwrap();
        let mut pipeline = Pipeline::new(engine, state, Arc::default());
        let name: Arc<str> = "panicky-sink".into();
        health().set(&name, ComponentStatus::Running);
        let task = pipeline.tasks.spawn(async { panic!("boom") });
        pipeline.names.insert(task.id(), Arc::clone(&name));
        let (failed, result) = pipeline.next_exit().await.unwrap();
        assert_eq!(&*failed, "panicky-sink");
        assert_eq!(result, Err("its task panicked".to_owned()));
        assert_eq!(
            health().snapshot()["panicky-sink"],
            ComponentStatus::Failed("its task panicked".into())
        );
        assert!(!health().is_healthy());
        let panics = metrics()
            .errors
            .with_label_values(&["panicky-sink", "panicked"])
            .get();
        assert_eq!(panics, 1);
        assert!(pipeline.next_exit().await.is_none());
    }
}
