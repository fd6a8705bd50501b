//! The Kafka source's librdkafka callbacks: partitions given and taken by
//! the group (committing what was acknowledged for those taken), the lag per
//! partition from librdkafka's statistics, and its log through `tracing`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _, ConsumerContext, Rebalance};
use rdkafka::statistics::Statistics;

use super::offsets_list;
use crate::internal::metrics::metrics;

/// What the callbacks and the reading loop share.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub assigned: Mutex<Assigned>,
    /// `assigned.to_seek.len()`, read without the lock for every message.
    pub seeks: AtomicUsize,
    /// Wakes the reading loop when partitions are given (to seek them).
    pub assigned_now: tokio::sync::Notify,
}

impl Shared {
    /// The partitions, locked.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Assigned> {
        self.assigned.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether any partition waits for its seek.
    pub fn seeking(&self) -> bool {
        self.seeks.load(Ordering::Acquire) > 0
    }

    /// Publish the number of partitions waiting for their seek.
    pub fn update_seeks(&self, assigned: &Assigned) {
        self.seeks.store(assigned.to_seek.len(), Ordering::Release);
    }
}

/// The partitions this member holds, and what may be committed for them.
#[derive(Debug, Default)]
pub(crate) struct Assigned {
    /// Held now.
    held: HashSet<(String, i32)>,
    /// Ever given to this member in this run (a partition given back after a
    /// rebalance is not sought again).
    seen: HashSet<(String, i32)>,
    /// Given for the first time and still to be sought to the beginning or
    /// end (`start_from: earliest | latest`).
    pub to_seek: HashSet<(String, i32)>,
    /// The next offset to read per partition, for every message up to which
    /// is acknowledged, not committed yet.
    pub acked: HashMap<(String, i32), i64>,
}

impl Assigned {
    /// Whether this member holds the partition.
    pub fn holds(&self, topic: &str, partition: i32) -> bool {
        self.held.contains(&(topic.to_owned(), partition))
    }

    /// What to commit now, if anything.
    pub fn take_commit(&mut self) -> Option<rdkafka::TopicPartitionList> {
        if self.acked.is_empty() {
            return None;
        }
        let acked = std::mem::take(&mut self.acked);
        Some(offsets_list(&acked))
    }
}

/// The consumer's context.
pub(crate) struct SourceContextKafka {
    pub name: Arc<str>,
    pub shared: Arc<Shared>,
    /// `start_from` is `earliest` or `latest`.
    pub seek_new: bool,
}

impl ClientContext for SourceContextKafka {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        let component = &*self.name;
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(component, facility, "librdkafka: {message}");
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(component, facility, "librdkafka: {message}")
            }
            _ => tracing::debug!(component, facility, "librdkafka: {message}"),
        }
    }

    fn stats(&self, statistics: Statistics) {
        let held: HashSet<(String, i32)> = self.shared.lock().held.clone();
        for (topic, stats) in &statistics.topics {
            for (partition, stats) in &stats.partitions {
                // librdkafka reports partition -1 (the unassigned one) and
                // partitions it knows of but this member does not read.
                if !held.contains(&(topic.clone(), *partition)) || stats.consumer_lag < 0 {
                    continue;
                }
                metrics()
                    .kafka_lag
                    .with_label_values(&[&*self.name, topic.as_str(), &partition.to_string()])
                    .set(stats.consumer_lag);
            }
        }
    }
}

impl ConsumerContext for SourceContextKafka {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(list) = rebalance else {
            return;
        };
        let revoked: Vec<(String, i32)> = list
            .elements()
            .iter()
            .map(|e| (e.topic().to_owned(), e.partition()))
            .collect();
        // What was acknowledged for the partitions leaving is committed
        // now, before another member starts on them.
        let commit = {
            let mut assigned = self.shared.lock();
            let mut leaving = HashMap::new();
            for key in &revoked {
                assigned.held.remove(key);
                assigned.to_seek.remove(key);
                if let Some(next) = assigned.acked.remove(key) {
                    leaving.insert(key.clone(), next);
                }
            }
            self.shared.update_seeks(&assigned);
            leaving
        };
        for (topic, partition) in &revoked {
            let _ = metrics().kafka_lag.remove_label_values(&[
                &*self.name,
                topic.as_str(),
                &partition.to_string(),
            ]);
        }
        if !commit.is_empty()
            && let Err(error) = consumer.commit(&offsets_list(&commit), CommitMode::Sync)
        {
            tracing::warn!(
                component = &*self.name,
                "cannot commit the offsets of revoked partitions: {error}"
            );
        }
        tracing::info!(
            component = &*self.name,
            partitions = revoked.len(),
            "kafka partitions revoked"
        );
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                let mut assigned = self.shared.lock();
                for element in list.elements() {
                    let key = (element.topic().to_owned(), element.partition());
                    if assigned.seen.insert(key.clone()) && self.seek_new {
                        assigned.to_seek.insert(key.clone());
                    }
                    assigned.held.insert(key);
                }
                self.shared.update_seeks(&assigned);
                self.shared.assigned_now.notify_one();
                tracing::info!(
                    component = &*self.name,
                    partitions = list.count(),
                    "kafka partitions assigned"
                );
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(error) => {
                tracing::warn!(component = &*self.name, "kafka rebalance failed: {error}");
            }
        }
    }
}
