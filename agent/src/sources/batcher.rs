//! Collecting a source's raw records into batches.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::delivery::{Acks, Mark};
use crate::event::{Batch, RecordTags, Records};
use crate::fanout::Fanout;
use crate::internal::events::{BatchesAcknowledged, EventsReceived, SourceOverflow};

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
    /// For sources that can replay: every batch is registered here and
    /// carries its delivery handle.
    acks: Option<Acks>,
    /// Where the records pushed so far end, for the next batch's entry.
    mark: Mark,
    /// Tags for points parsed from the pending records.
    tags: RecordTags,
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
            acks: None,
            mark: Mark::default(),
            tags: None,
        }
    }

    /// Register every batch from now on with an [`Acks`], so the source
    /// learns when each is durable downstream (sources that can replay).
    pub fn track_deliveries(&mut self) {
        self.acks.get_or_insert_with(Acks::new);
    }

    /// The register of batches in flight, when deliveries are tracked.
    pub fn acks(&mut self) -> Option<&mut Acks> {
        self.acks.as_mut()
    }

    /// Count the batches acknowledged since the last call, by status
    /// (`foghorn_source_acknowledged_batches_total`), when deliveries are
    /// tracked.
    pub fn report_acknowledged(&mut self) {
        let Some(acks) = self.acks.as_mut() else {
            return;
        };
        let [delivered, dropped, failed] = acks.take_counts();
        for (status, count) in [
            ("delivered", delivered),
            ("dropped", dropped),
            ("failed", failed),
        ] {
            BatchesAcknowledged {
                component: &self.component,
                status,
                count,
            }
            .emit();
        }
    }

    /// Where the records pushed so far end (a file offset); the next batch
    /// is registered with the mark set last before it is sent.
    pub fn set_mark(&mut self, mark: Mark) {
        self.mark = mark;
    }

    /// Tags for every point parsed from the records pushed from now on (see
    /// [`Batch::record_tags`]); flush first when they change, so a batch's
    /// records share their tags.
    pub fn set_tags(&mut self, tags: RecordTags) {
        self.tags = tags;
    }

    /// The output itself, for a source that makes its own batches (one per
    /// HTTP request, acknowledged on its own).
    pub fn into_output(self) -> Fanout {
        self.out
    }

    /// Stop sending: drop the senders, so the components downstream see
    /// their input close once everything sent is through.
    pub fn close(&mut self) {
        self.out.close();
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

    /// How long a batch waits for more records before it is sent.
    pub fn linger(&self) -> Duration {
        self.linger
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
        let delivery = self
            .acks
            .as_mut()
            .map(|acks| acks.track(self.mark))
            .unwrap_or_default();
        Some(Batch {
            component: Arc::clone(&self.component),
            records,
            record_tags: self.tags.clone(),
            delivery,
            ..Batch::default()
        })
    }

    /// Send the pending batch, if any.
    pub async fn flush(&mut self) {
        if let Some(batch) = self.take() {
            self.out.send(Arc::new(batch)).await;
        }
    }

    /// Send the pending batch if every consumer that blocks has room now;
    /// otherwise drop it and count it as overflow. For sources that must
    /// never stop reading (a serial device has no flow control to wait on).
    pub fn flush_or_overflow(&mut self) {
        if let Some(batch) = self.take() {
            let batch = Arc::new(batch);
            if !self.out.try_send(&batch) {
                SourceOverflow {
                    component: &self.component,
                    count: batch.len(),
                }
                .emit();
            }
        }
    }

    /// [`RecordBatcher::flush`] for code running on a blocking thread.
    pub fn blocking_flush(&mut self) {
        if let Some(batch) = self.take() {
            self.out.blocking_send(Arc::new(batch));
        }
    }
}
