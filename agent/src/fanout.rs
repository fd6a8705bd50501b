//! Fan-out of one component output to every component that reads it.

use std::sync::{Arc, PoisonError, RwLock};

use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::delivery::DeliveryStatus;
use crate::event::SharedBatch;
use crate::internal::events::{BufferDropped, ConsumerGone, EventsSent};

/// A sink's input buffer: batches wait here while the sink writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BufferConfig {
    /// `max_batches`: batches that may wait for the sink (1 to 100000).
    /// Memory is bounded by this times the batch size of its inputs.
    /// Default: 16.
    pub max_batches: usize,
    /// `when_full`: `block` (default) makes the producers wait, which slows
    /// every sink reading the same output down to this one; `drop_newest`
    /// drops the batch for this sink only, counts it in
    /// `foghorn_buffer_dropped_events_total{component}`, and acknowledges it
    /// as dropped, so the source moves on.
    pub when_full: WhenFull,
}

impl Default for BufferConfig {
    fn default() -> Self {
        Self {
            max_batches: 16,
            when_full: WhenFull::Block,
        }
    }
}

/// What a full sink buffer does with the next batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// Wait for room: backpressure up to the sources.
    #[default]
    Block,
    /// Drop the batch for this sink, counted.
    DropNewest,
}

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
    /// `foghorn_component_input_fill` of this reader.
    fill: prometheus::Gauge,
}

impl Consumer {
    /// A consumer of `sender`.
    pub fn new(name: Arc<str>, sender: mpsc::Sender<SharedBatch>, when_full: WhenFull) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let fill = crate::internal::metrics::metrics()
            .input_fill
            .with_label_values(&[&*name]);
        Self {
            name,
            sender,
            when_full,
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            fill,
        }
    }

    /// Record how full the reader's channel is now.
    #[allow(
        clippy::cast_precision_loss,
        reason = "channel capacities are far below 2^52"
    )]
    fn record_fill(&self) {
        let max = self.sender.max_capacity().max(1);
        let queued = max.saturating_sub(self.sender.capacity());
        self.fill.set(queued as f64 / max as f64);
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
        let mut reached = true;
        for consumer in &self.current() {
            let result = match consumer.when_full {
                WhenFull::Block => consumer
                    .sender
                    .send(Arc::clone(&batch))
                    .await
                    .map_err(|e| TrySendError::Closed(e.0)),
                WhenFull::DropNewest => consumer.sender.try_send(Arc::clone(&batch)),
            };
            reached &= self.reached(consumer, result);
        }
        self.finish(count, reached);
    }

    /// Send `batch` to every consumer if every one that blocks has room
    /// within `wait`; otherwise send it to none and return false, so a
    /// producer that can say "later" (an HTTP source answering 503) does.
    /// Room is reserved on every consumer before anything is sent, so a
    /// batch is never sent to some consumers and not others.
    pub async fn send_within(&self, batch: SharedBatch, wait: std::time::Duration) -> bool {
        let consumers = self.current();
        let reserve = async {
            let mut permits = Vec::with_capacity(consumers.len());
            for consumer in &consumers {
                permits.push(match consumer.when_full {
                    WhenFull::Block => Some(consumer.sender.reserve().await),
                    WhenFull::DropNewest => None,
                });
            }
            permits
        };
        let Ok(permits) = tokio::time::timeout(wait, reserve).await else {
            return false;
        };
        let count = batch.len();
        let mut reached = true;
        for (consumer, permit) in consumers.iter().zip(permits) {
            let result = match permit {
                Some(Ok(permit)) => {
                    permit.send(Arc::clone(&batch));
                    Ok(())
                }
                Some(Err(_)) => Err(TrySendError::Closed(Arc::clone(&batch))),
                None => consumer.sender.try_send(Arc::clone(&batch)),
            };
            reached &= self.reached(consumer, result);
        }
        self.finish(count, reached);
        true
    }

    /// [`Fanout::send`] for code running on a blocking thread.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "mirrors `send`: the batch is handed over"
    )]
    pub fn blocking_send(&mut self, batch: SharedBatch) {
        let count = batch.len();
        let mut reached = true;
        for consumer in &self.current() {
            let result = match consumer.when_full {
                WhenFull::Block => consumer
                    .sender
                    .blocking_send(Arc::clone(&batch))
                    .map_err(|e| TrySendError::Closed(e.0)),
                WhenFull::DropNewest => consumer.sender.try_send(Arc::clone(&batch)),
            };
            reached &= self.reached(consumer, result);
        }
        self.finish(count, reached);
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
        let mut reached = true;
        for consumer in &consumers {
            reached &= self.reached(consumer, consumer.sender.try_send(Arc::clone(batch)));
        }
        self.finish(batch.len(), reached);
        true
    }

    /// Whether a send reached `consumer`; account for one that did not.
    fn reached(&self, consumer: &Consumer, result: Result<(), TrySendError<SharedBatch>>) -> bool {
        consumer.record_fill();
        match result {
            Ok(()) => return true,
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
        false
    }

    /// Count the batch as sent when every consumer received it; one that
    /// did not is counted as dropped or gone instead.
    fn finish(&self, count: usize, reached: bool) {
        if !reached {
            return;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::{Acks, Mark};
    use crate::event::{Batch, Records};
    use crate::internal::health::{ComponentStatus, health};
    use crate::internal::metrics::metrics;

    #[tokio::test]
    async fn the_input_fill_of_each_reader_is_what_its_channel_holds() {
        let (tx, mut rx) = mpsc::channel(4);
        let mut fanout = Fanout::new(
            Arc::from("fill-producer"),
            "points",
            vec![Consumer::blocking(Arc::from("fill-reader"), tx)],
        );
        let fill = || {
            metrics()
                .input_fill
                .with_label_values(&["fill-reader"])
                .get()
        };
        for _ in 0..3 {
            fanout.send(Arc::new(Batch::default())).await;
        }
        assert!((fill() - 0.75).abs() < 1e-9, "{}", fill());
        rx.recv().await.unwrap();
        rx.recv().await.unwrap();
        fanout.send(Arc::new(Batch::default())).await;
        assert!((fill() - 0.5).abs() < 1e-9, "{}", fill());
    }

    #[tokio::test]
    async fn a_dead_consumer_fails_the_batch_its_health_and_is_not_counted_as_sent() {
        let (alive_tx, mut alive_rx) = mpsc::channel(4);
        let (dead_tx, dead_rx) = mpsc::channel(4);
        drop(dead_rx);
        let mut fanout = Fanout::new(
            Arc::from("fanout-test-producer"),
            "records",
            vec![
                Consumer::blocking(Arc::from("fanout-test-alive"), alive_tx),
                Consumer::blocking(Arc::from("fanout-test-dead"), dead_tx),
            ],
        );
        let mut acks = Acks::new();
        let mut records = Records::default();
        records.push(1, b"x");
        let batch = Arc::new(Batch {
            records,
            delivery: acks.track(Mark {
                stream: 0,
                offset: 1,
            }),
            ..Batch::default()
        });
        let sent = || {
            metrics()
                .sent_events
                .with_label_values(&["fanout-test-producer", "records"])
                .get()
        };
        let before = sent();
        fanout.send(batch).await;
        assert_eq!(sent(), before, "one consumer never got it");
        drop(alive_rx.recv().await);
        assert_eq!(acks.settle().await, None, "nothing committed past it");
        assert_eq!(acks.failed(), 1);
        assert!(matches!(
            health().snapshot().get("fanout-test-dead"),
            Some(ComponentStatus::Failed(reason)) if reason.contains("fanout-test-producer")
        ));
    }
}
