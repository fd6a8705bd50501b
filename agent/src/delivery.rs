//! End-to-end acknowledgements: the delivery handle every batch carries.
//!
//! A source that can replay (a file, later Kafka and HTTP with durable acks)
//! registers each batch it emits with its [`Acks`] and gets a [`Delivery`]
//! back, which rides in the batch. Processors copy the handle into everything
//! they derive from the batch (points, alerts, dead letters, rejected items);
//! fan-out shares it with every consumer; each sink keeps it until what it
//! received is durable (written and flushed, observed, fsynced) and then
//! drops it. When the last copy is dropped the source is told, with the worst
//! status any holder reported, as Vector's event finalizers and batch
//! notifiers do. A source commits its checkpoint only up to the newest batch
//! before which every batch was delivered, so a crash replays at most what was
//! in flight.
//!
//! Nothing here allocates for sources that cannot replay (serial, stdin, the
//! generator): their batches carry an empty [`Delivery`], which costs nothing
//! to copy or drop.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::mpsc;

/// What happened to a batch, from best to worst; the worst report wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeliveryStatus {
    /// Every sink that received it made it durable.
    Delivered = 0,
    /// A sink dropped it on purpose (`buffer.when_full: drop_newest`): counted,
    /// and not retried; the source moves past it.
    Dropped = 1,
    /// A sink gave up on it (shutdown while failing): the source must not
    /// commit past it, so a restart reads it again.
    Failed = 2,
}

impl DeliveryStatus {
    fn from_u8(value: u8) -> Self {
        match value {
            0 => DeliveryStatus::Delivered,
            1 => DeliveryStatus::Dropped,
            _ => DeliveryStatus::Failed,
        }
    }

    /// Whether the source may commit past a batch with this status.
    pub fn is_final(self) -> bool {
        self != DeliveryStatus::Failed
    }
}

/// Where a source's batch came from, as the source understands it: a stream
/// (a file generation, a partition) and an offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    /// The source's own stream number.
    pub stream: u64,
    /// The offset just after the batch's last item.
    pub offset: u64,
}

/// Tells the source once every holder has dropped its copy.
#[derive(Debug)]
struct Notifier {
    id: u64,
    status: AtomicU8,
    tx: mpsc::UnboundedSender<(u64, DeliveryStatus)>,
}

impl Drop for Notifier {
    fn drop(&mut self) {
        let status = DeliveryStatus::from_u8(self.status.load(Ordering::Acquire));
        // The source may be gone (it stopped waiting at shutdown): then no
        // checkpoint is committed for this batch, and it is read again.
        let _ = self.tx.send((self.id, status));
    }
}

/// The delivery handle of one batch; cheap to clone. Dropping the last clone
/// acknowledges the batch with the worst status reported on any clone.
#[derive(Debug, Clone, Default)]
pub struct Delivery(Option<Arc<Notifier>>);

impl Delivery {
    /// A handle nobody waits for (sources that cannot replay, ticks).
    pub fn none() -> Self {
        Self(None)
    }

    /// A handle whose acknowledgement one waiter awaits: an HTTP request
    /// answered only once what it carried is durable. The watch resolves
    /// when the last clone is dropped, with the worst status reported.
    pub fn watched() -> (Self, DeliveryWatch) {
        let (tx, rx) = mpsc::unbounded_channel();
        let notifier = Notifier {
            id: 0,
            status: AtomicU8::new(DeliveryStatus::Delivered as u8),
            tx,
        };
        (Self(Some(Arc::new(notifier))), DeliveryWatch(rx))
    }

    /// Whether a source waits for this batch.
    pub fn is_tracked(&self) -> bool {
        self.0.is_some()
    }

    /// Report `status` for this batch; the worst report wins.
    pub fn report(&self, status: DeliveryStatus) {
        if let Some(notifier) = &self.0 {
            notifier.status.fetch_max(status as u8, Ordering::AcqRel);
        }
    }

    /// Report that a sink gave up on the batch.
    pub fn fail(&self) {
        self.report(DeliveryStatus::Failed);
    }
}

/// The other end of [`Delivery::watched`].
#[derive(Debug)]
pub struct DeliveryWatch(mpsc::UnboundedReceiver<(u64, DeliveryStatus)>);

impl DeliveryWatch {
    /// The batch's status once every holder has let go of it.
    pub async fn settled(mut self) -> DeliveryStatus {
        self.0
            .recv()
            .await
            .map_or(DeliveryStatus::Failed, |(_, status)| status)
    }
}

/// Acknowledgements one at a time, in whatever order they come: for a
/// producer that keeps each item until its own acknowledgement (the alert
/// stage's outbox), rather than a position in a stream as [`Acks`] does.
#[derive(Debug)]
pub struct Receipts {
    tx: mpsc::UnboundedSender<(u64, DeliveryStatus)>,
    rx: mpsc::UnboundedReceiver<(u64, DeliveryStatus)>,
}

impl Default for Receipts {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self { tx, rx }
    }
}

impl Receipts {
    /// The handle for item `id`: dropping its last clone sends `id` back
    /// with the worst status reported.
    pub fn track(&self, id: u64) -> Delivery {
        Delivery(Some(Arc::new(Notifier {
            id,
            status: AtomicU8::new(DeliveryStatus::Delivered as u8),
            tx: self.tx.clone(),
        })))
    }

    /// The next acknowledgement that has arrived, without waiting.
    pub fn try_next(&mut self) -> Option<(u64, DeliveryStatus)> {
        self.rx.try_recv().ok()
    }
}

/// A source's register of batches in flight, in the order it emitted them.
#[derive(Debug)]
pub struct Acks {
    tx: mpsc::UnboundedSender<(u64, DeliveryStatus)>,
    rx: mpsc::UnboundedReceiver<(u64, DeliveryStatus)>,
    next_id: u64,
    /// `(id, mark, status once known)`, oldest first.
    pending: VecDeque<(u64, Mark, Option<DeliveryStatus>)>,
    /// Entries of `pending` without a status yet.
    outstanding: usize,
    /// A batch failed: nothing after it may be committed in this run.
    stalled: bool,
    failed: u64,
    /// Batches acknowledged since [`Acks::take_counts`], by status.
    counts: [u64; 3],
}

impl Default for Acks {
    fn default() -> Self {
        Self::new()
    }
}

impl Acks {
    /// An empty register.
    pub fn new() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            tx,
            rx,
            next_id: 0,
            pending: VecDeque::new(),
            outstanding: 0,
            stalled: false,
            failed: 0,
            counts: [0; 3],
        }
    }

    /// Register a batch that ends at `mark`; the returned handle rides in it.
    pub fn track(&mut self, mark: Mark) -> Delivery {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.push_back((id, mark, None));
        self.outstanding += 1;
        Delivery(Some(Arc::new(Notifier {
            id,
            status: AtomicU8::new(DeliveryStatus::Delivered as u8),
            tx: self.tx.clone(),
        })))
    }

    /// Batches emitted and not yet acknowledged.
    pub fn outstanding(&self) -> usize {
        self.outstanding
    }

    /// Batches that failed so far.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// Batches acknowledged since the last call: delivered, dropped, failed.
    pub fn take_counts(&mut self) -> [u64; 3] {
        std::mem::take(&mut self.counts)
    }

    /// Take the acknowledgements that have arrived, without waiting; returns
    /// the newest mark that may be committed, if it moved.
    pub fn collect(&mut self) -> Option<Mark> {
        newest(|each| self.collect_each(each))
    }

    /// Like [`Acks::collect`], but hands over every mark that may now be
    /// committed, oldest first: for a source whose streams are committed
    /// separately (a file source reading many files).
    pub fn collect_each(&mut self, mut each: impl FnMut(Mark)) {
        while let Ok((id, status)) = self.rx.try_recv() {
            self.record(id, status);
        }
        self.advance(&mut each);
    }

    /// Wait for the next acknowledgement; returns the newest mark that may be
    /// committed, if it moved. Pends for ever when nothing is outstanding, so
    /// use it in a `select!`.
    pub async fn next(&mut self) -> Option<Mark> {
        let mut newest = None;
        self.next_each(|mark| newest = Some(mark)).await;
        newest
    }

    /// Like [`Acks::next`], handing over every mark that may now be
    /// committed, oldest first.
    pub async fn next_each(&mut self, each: impl FnMut(Mark)) {
        if self.outstanding() == 0 {
            std::future::pending::<()>().await;
        }
        if let Some((id, status)) = self.rx.recv().await {
            self.record(id, status);
        }
        self.collect_each(each);
    }

    /// Wait until every batch emitted so far is acknowledged; returns the
    /// newest mark that may be committed, if it moved.
    pub async fn settle(&mut self) -> Option<Mark> {
        let mut newest = None;
        self.settle_each(|mark| newest = Some(mark)).await;
        newest
    }

    /// Like [`Acks::settle`], handing over every mark that may now be
    /// committed, oldest first.
    pub async fn settle_each(&mut self, mut each: impl FnMut(Mark)) {
        self.collect_each(&mut each);
        while self.outstanding() > 0 {
            let Some((id, status)) = self.rx.recv().await else {
                break;
            };
            self.record(id, status);
            self.advance(&mut each);
        }
    }

    fn record(&mut self, id: u64, status: DeliveryStatus) {
        // Ids are handed out in increasing order.
        let Ok(index) = self.pending.binary_search_by_key(&id, |(id, _, _)| *id) else {
            return;
        };
        let entry = &mut self.pending[index];
        if entry.2.is_none() {
            self.outstanding -= 1;
        }
        entry.2 = Some(status);
        self.counts[status as usize] += 1;
        if !status.is_final() {
            self.failed += 1;
        }
    }

    fn advance(&mut self, each: &mut impl FnMut(Mark)) {
        while !self.stalled {
            match self.pending.front() {
                Some((_, mark, Some(status))) if status.is_final() => {
                    each(*mark);
                    self.pending.pop_front();
                }
                Some((_, _, Some(_))) => self.stalled = true,
                _ => break,
            }
        }
        if self.stalled {
            // Nothing after a failure is ever committed: keep only what is
            // still in flight, so the register stays bounded.
            self.pending.retain(|(_, _, status)| status.is_none());
        }
    }
}

/// The last mark `walk` hands over.
fn newest(walk: impl FnOnce(&mut dyn FnMut(Mark))) -> Option<Mark> {
    let mut newest = None;
    walk(&mut |mark| newest = Some(mark));
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(offset: u64) -> Mark {
        Mark { stream: 0, offset }
    }

    #[tokio::test]
    async fn commits_only_contiguous_delivered_batches() {
        let mut acks = Acks::new();
        let first = acks.track(mark(10));
        let second = acks.track(mark(20));
        let third = acks.track(mark(30));
        drop(second);
        assert_eq!(acks.collect(), None, "the first is still in flight");
        let copy = first.clone();
        drop(first);
        assert_eq!(acks.collect(), None, "a copy still holds the first");
        drop(copy);
        assert_eq!(acks.next().await, Some(mark(20)));
        drop(third);
        assert_eq!(acks.settle().await, Some(mark(30)));
        assert_eq!(acks.outstanding(), 0);
    }

    #[tokio::test]
    async fn each_hands_over_every_mark_in_order() {
        let stream = |stream, offset| Mark { stream, offset };
        let mut acks = Acks::new();
        let a = acks.track(stream(0, 10));
        let b = acks.track(stream(1, 5));
        let c = acks.track(stream(0, 20));
        drop(c);
        drop(b);
        let mut seen = Vec::new();
        acks.collect_each(|mark| seen.push(mark));
        assert!(seen.is_empty(), "the first is still in flight");
        drop(a);
        acks.next_each(|mark| seen.push(mark)).await;
        assert_eq!(seen, [stream(0, 10), stream(1, 5), stream(0, 20)]);
    }

    #[tokio::test]
    async fn a_failure_stops_commits_for_good() {
        let mut acks = Acks::new();
        let first = acks.track(mark(1));
        let second = acks.track(mark(2));
        let third = acks.track(mark(3));
        drop(first);
        second.clone().fail();
        drop(second);
        drop(third);
        assert_eq!(acks.settle().await, Some(mark(1)));
        assert_eq!(acks.failed(), 1);
        let fourth = acks.track(mark(4));
        drop(fourth);
        assert_eq!(acks.settle().await, None, "nothing after a failure");
    }

    #[tokio::test]
    async fn a_drop_by_choice_is_final() {
        let mut acks = Acks::new();
        let first = acks.track(mark(1));
        first.report(DeliveryStatus::Dropped);
        first.report(DeliveryStatus::Delivered);
        drop(first);
        assert_eq!(acks.settle().await, Some(mark(1)));
    }

    #[test]
    fn untracked_handles_cost_nothing() {
        let none = Delivery::none();
        assert!(!none.is_tracked());
        none.fail();
        assert_eq!(
            std::mem::size_of::<Delivery>(),
            std::mem::size_of::<usize>()
        );
    }
}
