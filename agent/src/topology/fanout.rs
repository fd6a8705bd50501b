//! Fan-out of one component output to every component that reads it.

use std::sync::{Arc, PoisonError, RwLock};

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
    /// Tells this reader apart from a successor of the same name.
    pub id: u64,
}

impl Consumer {
    /// A consumer of `sender`.
    pub fn new(name: Arc<str>, sender: mpsc::Sender<SharedBatch>, when_full: WhenFull) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Self {
            name,
            sender,
            when_full,
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// A consumer that waits for room.
    pub fn blocking(name: Arc<str>, sender: mpsc::Sender<SharedBatch>) -> Self {
        Self::new(name, sender, WhenFull::Block)
    }
}

/// The readers of one component output, shared between the producer's
/// [`Fanout`] and the topology, which adds and removes readers on a reload
/// while the producer runs.
pub type Consumers = Arc<RwLock<Vec<Consumer>>>;

/// The consumers of one component output (`records`, `points` or `alerts`):
/// every batch goes to every consumer, shared behind an `Arc`, with its
/// delivery handle. A full `block` consumer makes `send` wait: backpressure,
/// never an unbounded queue. A full `drop_newest` consumer loses the batch,
/// counted, and reports it dropped. A consumer whose task has died is
/// reported, and the batch is marked failed for it, so its source does not
/// commit what never arrived.
#[derive(Debug)]
pub struct Fanout {
    component: Arc<str>,
    output: &'static str,
    consumers: Consumers,
}

impl Fanout {
    /// A fan-out of `component`'s `output` to `consumers`.
    pub fn new(component: Arc<str>, output: &'static str, consumers: Vec<Consumer>) -> Self {
        Self::shared(component, output, Arc::new(RwLock::new(consumers)))
    }

    /// A fan-out of `component`'s `output` to a consumer list the topology
    /// keeps changing.
    pub fn shared(component: Arc<str>, output: &'static str, consumers: Consumers) -> Self {
        Self {
            component,
            output,
            consumers,
        }
    }

    /// The readers now.
    fn current(&self) -> Vec<Consumer> {
        self.consumers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether nobody reads this output.
    pub fn is_empty(&self) -> bool {
        self.consumers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    /// Stop sending: drop every sender of this producer's list, so the
    /// consumers see their input close once the other producers are gone
    /// too. (A successor after a reload has a list of its own.)
    pub fn close(&mut self) {
        self.consumers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Send `batch` to every consumer, waiting for room where it blocks.
    pub async fn send(&mut self, batch: SharedBatch) {
        let count = batch.len();
        for consumer in &self.current() {
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
        for consumer in &self.current() {
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
        let consumers = self.current();
        let full = consumers.iter().any(|consumer| {
            consumer.when_full == WhenFull::Block && consumer.sender.capacity() == 0
        });
        if full {
            return false;
        }
        for consumer in &consumers {
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

impl Drop for Fanout {
    /// A producer that stops lets go of its readers: their inputs close once
    /// every other producer is gone too, and the pipeline drains.
    fn drop(&mut self) {
        self.close();
    }
}
