//! The blackhole sink: counts what it receives and drops it. For benchmarks
//! and for pipelines whose only output is a processor's side effect.

use tokio::sync::mpsc::Receiver;

use super::{SinkContext, SinkError, banner};
use crate::event::SharedBatch;
use crate::internal::events::EventsReceived;

/// A sink that drops everything.
#[derive(Debug)]
pub struct BlackholeSink {
    ctx: SinkContext,
}

impl BlackholeSink {
    /// Build it; nothing can fail.
    pub fn build(ctx: SinkContext) -> Self {
        Self { ctx }
    }

    /// The banner line.
    pub fn describe(&self) -> String {
        banner("discard", format!("{} (blackhole)", self.ctx.name))
    }

    /// Count and drop batches until the input closes.
    ///
    /// # Errors
    /// Never.
    pub async fn run(self, mut input: Receiver<SharedBatch>) -> Result<(), SinkError> {
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
