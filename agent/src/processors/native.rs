//! Drives one native processor in the pipeline.
//!
//! Batches arrive on the input channel and are handed to the processor;
//! what it produces goes to the `points` and `alerts` fan-outs carrying the
//! input's delivery handle, so the source hears of a batch only once all of
//! it is durable (and at once when the processor kept nothing of it). Ticks
//! run on the processor's own interval. When the input closes (the pipeline
//! is draining) the runner returns, which closes its outputs in turn.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::event_clock::{EventTicking, EventTicks, time_span};
use super::outputs::Outputs;
use super::{NativeProcessor, Produced};
use crate::delivery::Delivery;
use crate::event::{SharedBatch, now_nanos};
use crate::internal::events::{BatchProcessed, EventsReceived};

/// Everything a native processor needs to run.
pub struct NativeRunner {
    /// Component name.
    pub name: Arc<str>,
    /// The processor.
    pub processor: Box<dyn NativeProcessor>,
    /// Input batches.
    pub input: mpsc::Receiver<SharedBatch>,
    /// Where its points and alerts go.
    pub outputs: Outputs,
    /// Under `clock: event`, the ticks owed by the time of the data; `None`
    /// ticks by the wall clock (or never, for a processor without ticks).
    pub event_ticks: Option<EventTicks>,
}

impl std::fmt::Debug for NativeRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeRunner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl NativeRunner {
    /// Run until the input closes.
    pub async fn run(mut self) {
        let wall = self.event_ticks.is_none();
        let mut tick = self
            .processor
            .tick_interval()
            .filter(|_| wall)
            .map(|every| {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
                tick
            });
        loop {
            tokio::select! {
                batch = self.input.recv() => match batch {
                    Some(batch) => self.on_batch(&batch).await,
                    None => break,
                },
                () = next_tick(tick.as_mut()) => self.on_tick(now_nanos()).await,
            }
        }
        tracing::debug!(component = &*self.name, "processor drained");
    }

    async fn on_batch(&mut self, batch: &SharedBatch) {
        let span = self.event_ticks.as_ref().and_then(|_| time_span(batch));
        if let Some((earliest, _)) = span {
            self.event_ticks_until(earliest, false).await;
        }
        let started = Instant::now();
        EventsReceived {
            component: &self.name,
            count: batch.len(),
            bytes: 0,
        }
        .emit();
        let mut out = Produced::default();
        self.processor.process(batch, &mut out);
        self.outputs.send(&self.name, out, &batch.delivery).await;
        BatchProcessed {
            component: &self.name,
            duration: started.elapsed(),
        }
        .emit();
        if let Some((_, latest)) = span {
            self.event_ticks_until(latest, true).await;
        }
    }
}

impl EventTicking for NativeRunner {
    fn event_ticks(&mut self) -> Option<&mut EventTicks> {
        self.event_ticks.as_mut()
    }

    async fn on_tick(&mut self, now: i64) {
        let mut out = Produced::default();
        self.processor.tick(now, &mut out);
        self.outputs.send(&self.name, out, &Delivery::none()).await;
    }
}

/// The next tick, or never for a processor without ticks.
async fn next_tick(tick: Option<&mut tokio::time::Interval>) {
    match tick {
        Some(tick) => {
            tick.tick().await;
        }
        None => std::future::pending().await,
    }
}
