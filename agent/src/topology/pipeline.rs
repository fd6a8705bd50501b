//! A running pipeline: its tasks and how to stop them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::internal::events::ComponentFailed;
use crate::internal::health::{ComponentStatus, health};

/// What a component task reports when it ends.
pub(crate) type TaskResult = (Arc<str>, Result<(), String>);

/// A running pipeline.
#[derive(Debug)]
pub struct Pipeline {
    pub(crate) shutdown: CancellationToken,
    pub(crate) tasks: JoinSet<TaskResult>,
    /// The component each task runs, to name a task that panicked.
    pub(crate) names: HashMap<tokio::task::Id, Arc<str>>,
    /// Banner lines: where metrics, reports and logs go.
    pub banner: Vec<String>,
}

impl Pipeline {
    /// Wait until every component has finished (all sources ended and the
    /// pipeline drained). Returns the names and errors of failed components.
    pub async fn wait(&mut self) -> Vec<(Arc<str>, String)> {
        let mut failed = Vec::new();
        while let Some(result) = self.tasks.join_next_with_id().await {
            match result {
                Ok((_, (name, Ok(())))) => {
                    health().set(&name, ComponentStatus::Finished);
                }
                Ok((_, (name, Err(error)))) => {
                    ComponentFailed {
                        component: &name,
                        error: &error,
                        panicked: false,
                    }
                    .emit();
                    failed.push((name, error));
                }
                Err(join) => {
                    let name = self
                        .names
                        .get(&join.id())
                        .cloned()
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
                    failed.push((name, error));
                }
            }
        }
        failed
    }

    /// Stop the sources and let everything downstream drain and flush, for at
    /// most `grace`; what is still running then is aborted.
    pub async fn shutdown(&mut self, grace: Duration) -> Vec<(Arc<str>, String)> {
        self.shutdown.cancel();
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
