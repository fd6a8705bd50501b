//! Fan-out of one component output to every component that reads it.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::event::SharedBatch;
use crate::internal::events::EventsSent;

/// The senders of one component output (`records`, `points` or `alerts`):
/// every batch goes to every consumer, shared behind an `Arc`. A full consumer
/// channel makes `send` wait: backpressure, never an unbounded queue.
#[derive(Debug, Clone)]
pub struct Fanout {
    component: Arc<str>,
    output: &'static str,
    senders: Vec<mpsc::Sender<SharedBatch>>,
}

impl Fanout {
    /// A fan-out of `component`'s `output` to `senders`.
    pub fn new(
        component: Arc<str>,
        output: &'static str,
        senders: Vec<mpsc::Sender<SharedBatch>>,
    ) -> Self {
        Self {
            component,
            output,
            senders,
        }
    }

    /// Whether nobody reads this output.
    pub fn is_empty(&self) -> bool {
        self.senders.is_empty()
    }

    /// Send `batch` to every consumer, waiting for room. A consumer that has
    /// gone away (it is shutting down) is dropped from the list.
    pub async fn send(&mut self, batch: SharedBatch) {
        let count = batch.len();
        let mut closed = false;
        for sender in &self.senders {
            closed |= sender.send(Arc::clone(&batch)).await.is_err();
        }
        self.finish(count, closed);
    }

    /// [`Fanout::send`] for code running on a blocking thread.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "mirrors `send`: the batch is handed over"
    )]
    pub fn blocking_send(&mut self, batch: SharedBatch) {
        let count = batch.len();
        let mut closed = false;
        for sender in &self.senders {
            closed |= sender.blocking_send(Arc::clone(&batch)).is_err();
        }
        self.finish(count, closed);
    }

    fn finish(&mut self, count: usize, closed: bool) {
        if closed {
            self.senders.retain(|s| !s.is_closed());
        }
        EventsSent {
            component: &self.component,
            output: self.output,
            count,
        }
        .emit();
    }
}
