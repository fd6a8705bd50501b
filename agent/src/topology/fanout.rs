//! Fan-out of one component output to every component that reads it.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::config::WhenFull;
use crate::delivery::DeliveryStatus;
use crate::event::SharedBatch;
use crate::internal::events::{BufferDropped, ConsumerGone, EventsSent};

/// One reader of a component output: its input channel and what to do when
/// that channel is full.
#[derive(Debug, Clone)]
pub struct Consumer {
    /// The reading component, for internal events.
    pub name: Arc<str>,
    /// Its input channel.
    pub sender: mpsc::Sender<SharedBatch>,
    /// `block` waits for room; `drop_newest` drops the batch for this reader.
    pub when_full: WhenFull,
}

impl Consumer {
    /// A consumer that waits for room.
    pub fn blocking(name: Arc<str>, sender: mpsc::Sender<SharedBatch>) -> Self {
        Self {
            name,
            sender,
            when_full: WhenFull::Block,
        }
    }
}

/// The consumers of one component output (`records`, `points` or `alerts`):
/// every batch goes to every consumer, shared behind an `Arc`, with its
/// delivery handle. A full `block` consumer makes `send` wait: backpressure,
/// never an unbounded queue. A full `drop_newest` consumer loses the batch,
/// counted, and reports it dropped. A consumer whose task has died is
/// reported, and the batch is marked failed for it, so its source does not
/// commit what never arrived.
#[derive(Debug, Clone)]
pub struct Fanout {
    component: Arc<str>,
    output: &'static str,
    consumers: Vec<Consumer>,
}

impl Fanout {
    /// A fan-out of `component`'s `output` to `consumers`.
    pub fn new(component: Arc<str>, output: &'static str, consumers: Vec<Consumer>) -> Self {
        Self {
            component,
            output,
            consumers,
        }
    }

    /// Whether nobody reads this output.
    pub fn is_empty(&self) -> bool {
        self.consumers.is_empty()
    }

    /// Drop every sender: the consumers see their input close once the
    /// other producers are gone too.
    pub fn close(&mut self) {
        self.consumers.clear();
    }

    /// Send `batch` to every consumer, waiting for room where it blocks.
    pub async fn send(&mut self, batch: SharedBatch) {
        let count = batch.len();
        for consumer in &self.consumers {
            let result = match consumer.when_full {
                WhenFull::Block => consumer
                    .sender
                    .send(Arc::clone(&batch))
                    .await
                    .map_err(|e| TrySendError::Closed(e.0)),
                WhenFull::DropNewest => consumer.sender.try_send(Arc::clone(&batch)),
            };
            self.failed(consumer, result);
        }
        self.finish(count);
    }

    /// [`Fanout::send`] for code running on a blocking thread.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "mirrors `send`: the batch is handed over"
    )]
    pub fn blocking_send(&mut self, batch: SharedBatch) {
        let count = batch.len();
        for consumer in &self.consumers {
            let result = match consumer.when_full {
                WhenFull::Block => consumer
                    .sender
                    .blocking_send(Arc::clone(&batch))
                    .map_err(|e| TrySendError::Closed(e.0)),
                WhenFull::DropNewest => consumer.sender.try_send(Arc::clone(&batch)),
            };
            self.failed(consumer, result);
        }
        self.finish(count);
    }

    /// Send `batch` to every consumer that has room now, without waiting;
    /// returns false (and sends nothing) when a `block` consumer is full, so
    /// a source that must never stall can count the batch as overflow.
    pub fn try_send(&mut self, batch: &SharedBatch) -> bool {
        let full = self.consumers.iter().any(|consumer| {
            consumer.when_full == WhenFull::Block && consumer.sender.capacity() == 0
        });
        if full {
            return false;
        }
        for consumer in &self.consumers {
            self.failed(consumer, consumer.sender.try_send(Arc::clone(batch)));
        }
        self.finish(batch.len());
        true
    }

    /// Account for a send that did not reach `consumer`.
    fn failed(&self, consumer: &Consumer, result: Result<(), TrySendError<SharedBatch>>) {
        match result {
            Ok(()) => {}
            Err(TrySendError::Full(batch)) => {
                batch.delivery.report(DeliveryStatus::Dropped);
                BufferDropped {
                    component: &consumer.name,
                    count: batch.len(),
                }
                .emit();
            }
            Err(TrySendError::Closed(batch)) => {
                // A consumer dies only by failing (at shutdown producers stop
                // first): what it never received must not be committed.
                batch.delivery.fail();
                ConsumerGone {
                    component: &self.component,
                    consumer: &consumer.name,
                    count: batch.len(),
                }
                .emit();
            }
        }
    }

    fn finish(&self, count: usize) {
        EventsSent {
            component: &self.component,
            output: self.output,
            count,
        }
        .emit();
    }
}
