//! `type: kafka`: writes each point, alert and raw record to a Kafka topic
//! (rdkafka's producer, idempotent, `acks=all`).
//!
//! Points are written as `{"timestamp", "series", "tags", "fields"}`, alerts
//! as the report's alert JSON, raw records as they came. A message is keyed
//! by its series (`key: series`, the default, so one series stays in one
//! partition and in order), by a template of the series' name and tags
//! (`"{region}/{device}"`, `{series}` for the name), or not at all. A batch
//! is acknowledged once the broker has confirmed every message of it (the
//! delivery reports); a message the producer gave up on is sent again with
//! backoff until shutdown, when the batch is reported failed so its source
//! keeps it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::Deserialize;
use tokio::sync::mpsc::Receiver;
use tokio_util::sync::CancellationToken;

use super::http_post::{Failure, Retry, retrying};
use super::point_lines::PointLines;
use super::{SinkContext, SinkError, banner};
use crate::event::{Batch, Series, SharedBatch};
use crate::internal::events::{EventsDelivered, EventsReceived};
use crate::settings::{Problems, Secret, Settings};
use crate::sources::kafka_options_owned;

/// How messages are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// None.
    #[default]
    None,
    /// gzip.
    Gzip,
    /// Snappy.
    Snappy,
    /// LZ4.
    Lz4,
}

impl Compression {
    fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
        }
    }
}

/// `type: kafka` (sink): where and how items are produced.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSinkConfig {
    /// `bootstrap_servers`: `host:port[,host:port…]`. Required.
    pub bootstrap_servers: String,
    /// `topic`: the topic written to. Required.
    pub topic: String,
    /// `key`: `series` (default) keys each point and alert by its series;
    /// `none` sends no key; anything else is a template where `{series}` is
    /// the series' name and `{tag}` the value of that tag (empty when the
    /// series has no such tag). Raw records have no series and no key.
    #[serde(default = "KafkaSinkConfig::default_key")]
    pub key: String,
    /// `compression`: `none` (default), `gzip`, `snappy` or `lz4`.
    #[serde(default)]
    pub compression: Compression,
    /// `librdkafka_options`: further librdkafka settings (security, SASL,
    /// `linger.ms`, `batch.size`); values are secrets.
    #[serde(default)]
    pub librdkafka_options: BTreeMap<String, Secret>,
    /// `retry`: `timeout` for the broker to confirm a message (default
    /// `10s`), then `backoff` and `max_backoff` between tries of what it did
    /// not confirm; see [`Retry`].
    #[serde(default)]
    pub retry: Retry,
}

impl KafkaSinkConfig {
    fn default_key() -> String {
        "series".to_owned()
    }
}

impl Settings for KafkaSinkConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        if self.bootstrap_servers.trim().is_empty() {
            problems.push(&format!("{key}.bootstrap_servers"), "must name a broker");
        }
        if self.topic.trim().is_empty() {
            problems.push(&format!("{key}.topic"), "must not be empty");
        }
        if self.key.matches('{').count() != self.key.matches('}').count() {
            problems.push(
                &format!("{key}.key"),
                "unbalanced `{` and `}` in the template",
            );
        }
        kafka_options_owned(&self.librdkafka_options, key, problems);
        self.retry.check(&format!("{key}.retry"), problems);
    }
}

/// A built Kafka sink.
pub struct KafkaSink {
    name: Arc<str>,
    settings: KafkaSinkConfig,
    producer: FutureProducer,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSink")
            .field("name", &self.name)
            .field("topic", &self.settings.topic)
            .finish_non_exhaustive()
    }
}

impl super::Sink for KafkaSinkConfig {
    type Running = KafkaSink;

    async fn build(&self, ctx: SinkContext) -> Result<KafkaSink, SinkError> {
        let mut config = ClientConfig::new();
        for (name, value) in &self.librdkafka_options {
            config.set(name, value.expose());
        }
        let timeout = self.retry.timeout.as_millis().max(1).to_string();
        let producer = config
            .set("bootstrap.servers", &self.bootstrap_servers)
            .set("client.id", format!("foghorn-{}", ctx.name))
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.codec", self.compression.name())
            .set("message.timeout.ms", &timeout)
            .create()
            .map_err(|error| SinkError::Client(format!("cannot create the producer: {error}")))?;
        Ok(KafkaSink {
            name: ctx.name,
            settings: self.clone(),
            producer,
            shutdown: ctx.shutdown,
        })
    }
}

/// One message to produce.
struct Message {
    key: Option<String>,
    payload: Vec<u8>,
}

impl super::RunningSink for KafkaSink {
    fn describe(&self) -> String {
        banner(
            "kafka",
            format!(
                "{} @ {} ({})",
                self.settings.topic, self.settings.bootstrap_servers, self.name
            ),
        )
    }

    async fn run(self, mut input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        while let Some(batch) = input.recv().await {
            let messages = self.messages(&batch);
            if messages.is_empty() {
                continue;
            }
            EventsReceived {
                component: &self.name,
                count: messages.len(),
                bytes: messages.iter().map(|m| m.payload.len()).sum(),
            }
            .emit();
            let count = messages.len();
            let pending = Mutex::new(messages);
            let attempt = || async {
                let messages =
                    std::mem::take(&mut *pending.lock().unwrap_or_else(PoisonError::into_inner));
                let failed = self.produce(messages).await;
                let Some((_, first, _)) = failed.first() else {
                    return Ok(());
                };
                let failure = Failure {
                    message: format!("{} message(s) not confirmed: {first}", failed.len()),
                    // A message the broker will never take (too large) is not retried.
                    retry: failed.iter().any(|(_, _, permanent)| !permanent),
                    retry_after: None,
                };
                *pending.lock().unwrap_or_else(PoisonError::into_inner) =
                    failed.into_iter().map(|(message, _, _)| message).collect();
                Err(failure)
            };
            match retrying(&self.name, &self.settings.retry, &self.shutdown, attempt).await {
                Ok(()) => EventsDelivered {
                    component: &self.name,
                    count,
                }
                .emit(),
                Err(status) => batch.delivery.report(status),
            }
        }
        self.producer_flush();
        Ok(())
    }
}

impl KafkaSink {
    /// The messages of `batch`: points, alerts, raw records.
    fn messages(&self, batch: &Batch) -> Vec<Message> {
        let mut messages = Vec::with_capacity(batch.len());
        let mut writer = PointLines::new(&batch.points);
        for point in batch.points.iter() {
            let mut payload = Vec::with_capacity(256);
            writer.write(&mut payload, &point);
            messages.push(Message {
                key: self.key(point.series()),
                payload,
            });
        }
        for alert in &batch.alerts {
            messages.push(Message {
                key: self.key(&alert.series),
                payload: alert.to_json().to_string().into_bytes(),
            });
        }
        for record in batch.records.iter() {
            messages.push(Message {
                key: None,
                payload: record.bytes.to_vec(),
            });
        }
        messages
    }

    fn key(&self, series: &Series) -> Option<String> {
        match self.settings.key.as_str() {
            "none" => None,
            "series" => Some(series.to_string()),
            template => Some(render_key(template, series)),
        }
    }

    /// Produce `messages` and wait for their delivery reports; returns
    /// those not confirmed, with why and whether that is for good.
    async fn produce(&self, messages: Vec<Message>) -> Vec<(Message, String, bool)> {
        let sends: Vec<_> = messages
            .iter()
            .map(|message| {
                let mut record =
                    FutureRecord::<str, [u8]>::to(&self.settings.topic).payload(&message.payload);
                if let Some(key) = &message.key {
                    record = record.key(key.as_str());
                }
                self.producer
                    .send_result(record)
                    .map_err(|(error, _)| (error.to_string(), permanent(&error)))
            })
            .collect();
        let mut outcomes = Vec::with_capacity(sends.len());
        for send in sends {
            outcomes.push(match send {
                Ok(future) => match future.await {
                    Ok(Ok(_)) => None,
                    Ok(Err((error, _))) => Some((error.to_string(), permanent(&error))),
                    Err(_) => Some(("the producer was dropped".to_owned(), false)),
                },
                Err(error) => Some(error),
            });
        }
        messages
            .into_iter()
            .zip(outcomes)
            .filter_map(|(message, outcome)| outcome.map(|(why, gone)| (message, why, gone)))
            .collect()
    }

    fn producer_flush(&self) {
        use rdkafka::producer::Producer as _;
        let _ = self.producer.flush(Duration::from_secs(10));
    }
}

/// Whether the broker will never take the message.
fn permanent(error: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode;
    matches!(
        error.rdkafka_error_code(),
        Some(RDKafkaErrorCode::MessageSizeTooLarge | RDKafkaErrorCode::InvalidMessageSize)
    )
}

/// `{series}` and `{tag}` replaced; anything else kept.
fn render_key(template: &str, series: &Series) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &rest[open + 1..open + close];
        if name == "series" {
            out.push_str(&series.name);
        } else {
            out.push_str(series.tag(name).unwrap_or_default());
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_templates_name_the_series_and_its_tags() {
        let series = Series::new("net")
            .with_tag("region", "eu")
            .with_tag("device", "r1");
        assert_eq!(render_key("{region}/{device}", &series), "eu/r1");
        assert_eq!(render_key("{series}:{missing}:x", &series), "net::x");
        assert_eq!(render_key("plain", &series), "plain");
        assert_eq!(render_key("cut {region", &series), "cut {region");
    }
}
