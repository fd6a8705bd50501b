//! The blackhole sink: counts what it receives and drops it. For benchmarks
//! and for pipelines whose only output is a processor's side effect.

use serde::Deserialize;
use tokio::sync::mpsc::Receiver;

use super::{SinkContext, SinkError, banner};
use crate::event::SharedBatch;
use crate::internal::events::EventsReceived;
use crate::settings::Settings;

/// `type: blackhole`: has no settings besides `type` and `inputs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlackholeConfig {}

impl Settings for BlackholeConfig {}

/// A sink that drops everything.
#[derive(Debug)]
pub struct BlackholeSink {
    ctx: SinkContext,
}

impl BlackholeSink {
    /// Build it; nothing can fail.
    fn build(ctx: SinkContext) -> Self {
        Self { ctx }
    }

    /// The banner line.
    fn describe(&self) -> String {
        banner("discard", format!("{} (blackhole)", self.ctx.name))
    }

    /// Count and drop batches until the input closes.
    ///
    /// # Errors
    /// Never.
    async fn run(self, mut input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        while let Some(batch) = input.recv().await {
            EventsReceived {
                component: &self.ctx.name,
                count: batch.len(),
                bytes: 0,
            }
            .emit();
        }
        Ok(())
    }
}

impl super::Sink for BlackholeConfig {
    type Running = BlackholeSink;

    async fn build(&self, ctx: SinkContext) -> Result<BlackholeSink, SinkError> {
        Ok(BlackholeSink::build(ctx))
    }
}

impl super::RunningSink for BlackholeSink {
    fn describe(&self) -> String {
        BlackholeSink::describe(self)
    }

    async fn run(self, input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        BlackholeSink::run(self, input).await
    }
}
