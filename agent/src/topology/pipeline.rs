//! A running pipeline: its tasks and how to stop them.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// What a component task reports when it ends.
pub(crate) type TaskResult = (Arc<str>, Result<(), String>);

/// A running pipeline.
#[derive(Debug)]
pub struct Pipeline {
    pub(crate) shutdown: CancellationToken,
    pub(crate) tasks: JoinSet<TaskResult>,
    /// Banner lines: where metrics, reports and logs go.
    pub banner: Vec<String>,
}

impl Pipeline {
    /// Wait until every component has finished (all sources ended and the
    /// pipeline drained). Returns the names and errors of failed components.
    pub async fn wait(&mut self) -> Vec<(Arc<str>, String)> {
        let mut failed = Vec::new();
        while let Some(result) = self.tasks.join_next().await {
            match result {
                Ok((_, Ok(()))) => {}
                Ok((name, Err(error))) => {
                    tracing::error!(component = &*name, "component failed: {error}");
                    failed.push((name, error));
                }
                Err(join) => {
                    tracing::error!("component task panicked: {join}");
                    failed.push((Arc::from("?"), join.to_string()));
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
