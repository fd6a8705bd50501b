//! `type: kafka`: messages from Kafka topics in a consumer group (rdkafka,
//! librdkafka built from its bundled source).
//!
//! Each message is one record: its value, or with `metadata: true` a JSON
//! envelope with its topic, partition, offset, timestamp, key and headers.
//! Batches are registered with the source's [`crate::delivery::Acks`]; an
//! offset is committed only once the message and every one received before
//! it is durable in every sink, so a restart or a `kill -9` re-reads at most
//! what was in flight (at least once). Commits happen every
//! `commit_interval`, when the group takes partitions away (synchronously,
//! in the rebalance callback, for those partitions) and at shutdown after
//! everything in flight has been acknowledged.

pub mod config;
mod context;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use config::{KafkaSourceConfig, StartFrom};
use context::{Shared, SourceContextKafka};
use futures_util::FutureExt as _;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers as _, Message as _};
use rdkafka::{Offset, TopicPartitionList};
use tokio::time::Instant;

use super::{Source, SourceContext, SourceError};
use crate::delivery::Mark;
use crate::event::now_nanos;
use crate::internal::events::{ItemsRejected, SourceConnected};

/// How long the source waits at shutdown for what it sent to be
/// acknowledged before it commits.
const SETTLE: Duration = Duration::from_secs(10);
/// Messages taken per wake-up before the loop looks at its other events.
const DRAIN: usize = 4096;
/// How long a seek may wait for the broker.
const SEEK_TIMEOUT: Duration = Duration::from_secs(1);
/// How often seeks that failed (the partition not started yet) are tried
/// again.
const SEEK_RETRY: Duration = Duration::from_millis(100);

impl Source for KafkaSourceConfig {
    const OPENS_INPUT: bool = true;

    fn describe(&self) -> String {
        let what = match &self.topic_pattern {
            Some(pattern) => format!("topics matching {pattern}"),
            None => self.topics.join(", "),
        };
        format!(
            "kafka {what} @ {} (group {}, from {})",
            self.bootstrap_servers,
            self.group_id,
            match self.start_from {
                StartFrom::Committed => "committed offsets",
                StartFrom::Earliest => "the earliest offsets",
                StartFrom::Latest => "the latest offsets",
            }
        )
    }

    async fn run(self, mut ctx: SourceContext) -> Result<(), SourceError> {
        let shared = Arc::new(Shared::default());
        let consumer = self.consumer(&ctx, Arc::clone(&shared))?;
        let subscription: Vec<String> = match &self.topic_pattern {
            // librdkafka takes a regular expression as a topic starting with `^`.
            Some(pattern) if pattern.starts_with('^') => vec![pattern.clone()],
            Some(pattern) => vec![format!("^.*(?:{pattern})")],
            None => self.topics.clone(),
        };
        let topics: Vec<&str> = subscription.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topics)
            .map_err(|error| SourceError::Kafka(format!("cannot subscribe: {error}")))?;
        SourceConnected {
            component: &ctx.name,
            target: &self.bootstrap_servers,
        }
        .emit();
        ctx.batcher.track_deliveries();
        let mut reader = Reader {
            settings: &self,
            consumer: &consumer,
            shared: &shared,
            topics: Vec::new(),
            pushed: 0,
            batch: Vec::new(),
            last: 0,
            in_flight: VecDeque::new(),
            uncommitted: false,
            last_commit: Instant::now(),
        };
        reader.read(&mut ctx).await;
        reader.finish(&mut ctx).await;
        Ok(())
    }
}

impl KafkaSourceConfig {
    fn consumer(
        &self,
        ctx: &SourceContext,
        shared: Arc<Shared>,
    ) -> Result<StreamConsumer<SourceContextKafka>, SourceError> {
        let mut config = ClientConfig::new();
        for (name, value) in &self.librdkafka_options {
            config.set(name, value.expose());
        }
        config
            .set("bootstrap.servers", &self.bootstrap_servers)
            .set("group.id", &self.group_id)
            .set("client.id", format!("foghorn-{}", ctx.name))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set(
                "auto.offset.reset",
                if self.start_from == StartFrom::Latest {
                    "latest"
                } else {
                    "earliest"
                },
            )
            .set("statistics.interval.ms", "5000");
        let context = SourceContextKafka {
            name: Arc::clone(&ctx.name),
            shared,
            seek_new: self.start_from != StartFrom::Committed,
        };
        config
            .create_with_context(context)
            .map_err(|error| SourceError::Kafka(format!("cannot create the consumer: {error}")))
    }
}

/// The next offset to read per (topic, partition): a few entries, found by
/// pointer and number.
type Offsets = Vec<(Arc<str>, i32, i64)>;

/// The reading loop's state.
struct Reader<'a> {
    settings: &'a KafkaSourceConfig,
    consumer: &'a StreamConsumer<SourceContextKafka>,
    shared: &'a Shared,
    /// Each topic's name once, for the offsets.
    topics: Vec<Arc<str>>,
    /// Messages pushed into batches so far: the batcher's mark.
    pushed: u64,
    /// The pending batch's next offset per partition.
    batch: Offsets,
    /// Where in `batch` the last message's partition is.
    last: usize,
    /// Batches sent and not yet acknowledged: (mark, next offsets).
    in_flight: VecDeque<(u64, Offsets)>,
    uncommitted: bool,
    last_commit: Instant,
}

impl Reader<'_> {
    async fn read(&mut self, ctx: &mut SourceContext) {
        loop {
            self.seek_new_partitions();
            let linger = ctx.batcher.deadline();
            let commit_due = self
                .uncommitted
                .then(|| self.last_commit + self.settings.commit_interval);
            let far = Instant::now() + Duration::from_secs(3600);
            let acked = async {
                match ctx.batcher.acks() {
                    Some(acks) => acks.next().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = ctx.shutdown.cancelled() => return,
                () = tokio::time::sleep_until(linger.unwrap_or(far)), if linger.is_some() => {
                    self.flush(ctx).await;
                }
                mark = acked => {
                    if let Some(mark) = mark {
                        self.acknowledged(mark);
                    }
                }
                () = tokio::time::sleep_until(commit_due.unwrap_or(far)), if commit_due.is_some() => {
                    self.commit(ctx, CommitMode::Async);
                }
                () = tokio::time::sleep(SEEK_RETRY), if self.shared.seeking() => {}
                () = self.shared.assigned_now.notified() => {}
                message = self.consumer.recv() => match message {
                    Ok(message) => {
                        if self.take(ctx, &message) {
                            self.flush(ctx).await;
                        }
                        drop(message);
                        self.drain(ctx).await;
                    }
                    Err(error) => {
                        tracing::warn!(component = &*ctx.name, "kafka: {error}");
                        // A broker error repeats until it clears: don't spin.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
    }

    /// Take the messages librdkafka already holds, without waiting (up to
    /// [`DRAIN`] at a time, so acknowledgements and shutdown are seen).
    async fn drain(&mut self, ctx: &mut SourceContext) {
        for _ in 0..DRAIN {
            let Some(Ok(message)) = self.consumer.recv().now_or_never() else {
                return;
            };
            let full = self.take(ctx, &message);
            drop(message);
            if full {
                self.flush(ctx).await;
            }
        }
    }

    /// Start partitions given for the first time at their beginning or end
    /// (`start_from: earliest | latest`).
    fn seek_new_partitions(&self) {
        if !self.shared.seeking() {
            return;
        }
        let pending: Vec<(String, i32)> = self.shared.lock().to_seek.iter().cloned().collect();
        if pending.is_empty() {
            return;
        }
        let offset = match self.settings.start_from {
            StartFrom::Latest => Offset::End,
            _ => Offset::Beginning,
        };
        for (topic, partition) in pending {
            // Seeking fails until librdkafka has started the partition: it
            // is tried again every `SEEK_RETRY`.
            // A seek waits for the broker: not on an async worker's time.
            let sought = tokio::task::block_in_place(|| {
                self.consumer.seek(&topic, partition, offset, SEEK_TIMEOUT)
            });
            if let Err(error) = &sought {
                tracing::debug!(topic, partition, "kafka seek not done yet: {error}");
            }
            if sought.is_ok() {
                tracing::debug!(
                    component = %self.consumer.context().name,
                    topic,
                    partition,
                    "kafka partition sought to its {}",
                    if offset == Offset::End { "end" } else { "beginning" }
                );
                let mut assigned = self.shared.lock();
                assigned.to_seek.remove(&(topic, partition));
                self.shared.update_seeks(&assigned);
            }
        }
    }

    /// Push one message; true when the batch is full.
    fn take(&mut self, ctx: &mut SourceContext, message: &BorrowedMessage<'_>) -> bool {
        let partition = message.partition();
        let topic = message.topic();
        // Fetched before its seek: it will be read again from there.
        if self.shared.seeking()
            && self
                .shared
                .lock()
                .to_seek
                .contains(&(topic.to_owned(), partition))
        {
            return false;
        }
        self.note_offset(topic, partition, message.offset() + 1);
        let timestamp = message
            .timestamp()
            .to_millis()
            .filter(|ms| *ms > 0)
            .map_or_else(now_nanos, |ms| ms.saturating_mul(1_000_000));
        let Some(value) = message.payload() else {
            ItemsRejected {
                component: &ctx.name,
                reason: "empty_message",
                count: 1,
                example: "a message without a value (a tombstone)",
            }
            .emit();
            return false;
        };
        let full = if self.settings.metadata {
            let envelope = envelope(message, value);
            ctx.batcher.push(timestamp, envelope.as_bytes())
        } else {
            ctx.batcher.push(timestamp, value)
        };
        self.pushed += 1;
        ctx.batcher.set_mark(Mark {
            stream: 0,
            offset: self.pushed,
        });
        full
    }

    /// The pending batch reaches `next` in the partition.
    fn note_offset(&mut self, topic: &str, partition: i32, next: i64) {
        if let Some(entry) = self.batch.get_mut(self.last)
            && entry.1 == partition
            && *entry.0 == *topic
        {
            entry.2 = next;
            return;
        }
        if let Some(i) = self
            .batch
            .iter()
            .position(|(t, p, _)| *p == partition && **t == *topic)
        {
            self.batch[i].2 = next;
            self.last = i;
            return;
        }
        let name = match self.topics.iter().find(|t| ***t == *topic) {
            Some(name) => Arc::clone(name),
            None => {
                let name: Arc<str> = Arc::from(topic);
                self.topics.push(Arc::clone(&name));
                name
            }
        };
        self.batch.push((name, partition, next));
        self.last = self.batch.len() - 1;
    }

    /// Send the pending batch and remember the offsets it covers.
    async fn flush(&mut self, ctx: &mut SourceContext) {
        if ctx.batcher.pending() > 0 {
            self.in_flight
                .push_back((self.pushed, std::mem::take(&mut self.batch)));
            self.last = 0;
            ctx.batcher.flush().await;
        } else if !self.batch.is_empty() {
            // Only tombstones since the last batch: nothing to wait for.
            let offsets = std::mem::take(&mut self.batch);
            self.last = 0;
            if self.in_flight.is_empty() {
                self.record_acked(offsets);
            } else {
                self.in_flight
                    .back_mut()
                    .expect("not empty")
                    .1
                    .extend(offsets);
            }
        }
    }

    /// Every batch up to `mark` is acknowledged: their offsets may be
    /// committed.
    fn acknowledged(&mut self, mark: Mark) {
        while self
            .in_flight
            .front()
            .is_some_and(|(end, _)| *end <= mark.offset)
        {
            let (_, offsets) = self.in_flight.pop_front().expect("checked");
            self.record_acked(offsets);
        }
    }

    fn record_acked(&mut self, offsets: Offsets) {
        let mut assigned = self.shared.lock();
        for (topic, partition, next) in offsets {
            // A partition taken away meanwhile is another member's now.
            if assigned.holds(&topic, partition) {
                assigned.acked.insert((topic.to_string(), partition), next);
                self.uncommitted = true;
            }
        }
    }

    /// Commit the acknowledged offsets not committed yet.
    fn commit(&mut self, ctx: &mut SourceContext, mode: CommitMode) {
        self.uncommitted = false;
        self.last_commit = Instant::now();
        ctx.batcher.report_acknowledged();
        let list = self.shared.lock().take_commit();
        if let Some(list) = list
            && let Err(error) = tokio::task::block_in_place(|| self.consumer.commit(&list, mode))
        {
            tracing::warn!(component = &*ctx.name, "cannot commit offsets: {error}");
        }
    }

    /// At shutdown: send the pending batch, let the pipeline drain, wait (a
    /// while) for what is in flight, commit what was acknowledged.
    async fn finish(&mut self, ctx: &mut SourceContext) {
        self.flush(ctx).await;
        ctx.batcher.close();
        let settled = match ctx.batcher.acks() {
            Some(acks) => tokio::time::timeout(SETTLE, acks.settle())
                .await
                .ok()
                .flatten(),
            None => None,
        };
        if let Some(mark) = settled {
            self.acknowledged(mark);
        }
        self.commit(ctx, CommitMode::Sync);
    }
}

/// The message as a JSON record with its metadata.
fn envelope(message: &BorrowedMessage<'_>, value: &[u8]) -> String {
    let text = |bytes: &[u8]| std::str::from_utf8(bytes).ok().map(str::to_owned);
    let mut headers = serde_json::Map::new();
    if let Some(list) = message.headers() {
        for header in list.iter() {
            let value = header
                .value
                .and_then(text)
                .map_or(serde_json::Value::Null, Into::into);
            headers.insert(header.key.to_owned(), value);
        }
    }
    let mut record = serde_json::json!({
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "timestamp": message.timestamp().to_millis(),
        "key": message.key().and_then(text),
        "headers": headers,
    });
    match text(value) {
        Some(value) => record["value"] = value.into(),
        None => record["value_base64"] = BASE64_STANDARD.encode(value).into(),
    }
    record.to_string()
}

/// An offsets list for `commit`.
pub(crate) fn offsets_list(offsets: &HashMap<(String, i32), i64>) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    for ((topic, partition), next) in offsets {
        let _ = list.add_partition_offset(topic, *partition, Offset::Offset(*next));
    }
    list
}
