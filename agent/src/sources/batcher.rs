//! Collecting a source's raw records into batches.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::event::{Batch, Records};
use crate::internal::events::EventsReceived;
use crate::topology::Fanout;

/// Collects records until a batch holds `max_records` or its first record has
/// waited `linger`, then sends it downstream.
#[derive(Debug)]
pub struct RecordBatcher {
    component: Arc<str>,
    records: Records,
    max_records: usize,
    linger: Duration,
    first_at: Option<Instant>,
    out: Fanout,
}

impl RecordBatcher {
    /// A batcher for `component` sending to `out`.
    pub fn new(component: Arc<str>, max_records: usize, linger: Duration, out: Fanout) -> Self {
        Self {
            component,
            records: Records::with_capacity(max_records, max_records * 64),
            max_records: max_records.max(1),
            linger,
            first_at: None,
            out,
        }
    }

    /// Add one record received at `timestamp` (ns since the Unix epoch).
    /// Returns true when the batch is full and should be flushed now.
    pub fn push(&mut self, timestamp: i64, payload: &[u8]) -> bool {
        if self.first_at.is_none() {
            self.first_at = Some(Instant::now());
        }
        self.records.push(timestamp, payload);
        self.records.len() >= self.max_records
    }

    /// When the pending batch must be flushed, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        self.first_at.map(|first| first + self.linger)
    }

    /// Whether the pending batch is due.
    pub fn is_due(&self) -> bool {
        self.records.len() >= self.max_records
            || self
                .deadline()
                .is_some_and(|deadline| deadline <= Instant::now())
    }

    /// Records waiting in the pending batch.
    pub fn pending(&self) -> usize {
        self.records.len()
    }

    fn take(&mut self) -> Option<Batch> {
        if self.records.is_empty() {
            return None;
        }
        self.first_at = None;
        let fresh = Records::with_capacity(self.max_records, self.records.byte_len());
        let records = std::mem::replace(&mut self.records, fresh);
        EventsReceived {
            component: &self.component,
            count: records.len(),
            bytes: records.byte_len(),
        }
        .emit();
        Some(Batch {
            component: Arc::clone(&self.component),
            records,
            ..Batch::default()
        })
    }

    /// Send the pending batch, if any.
    pub async fn flush(&mut self) {
        if let Some(batch) = self.take() {
            self.out.send(Arc::new(batch)).await;
        }
    }

    /// [`RecordBatcher::flush`] for code running on a blocking thread.
    pub fn blocking_flush(&mut self) {
        if let Some(batch) = self.take() {
            self.out.blocking_send(Arc::new(batch));
        }
    }
}
