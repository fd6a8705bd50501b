//! `type: kafka` (source) settings: the brokers, the consumer group, what to
//! subscribe to and where to start.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::settings::units;
use crate::settings::{Problems, Secret, Settings};

/// `type: kafka`: messages from Kafka topics, one record each, read in a
/// consumer group; offsets are committed only for acknowledged messages.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSourceConfig {
    /// `bootstrap_servers`: `host:port[,host:port…]`. Required.
    pub bootstrap_servers: String,
    /// `group_id`: the consumer group; agents with the same one split the
    /// partitions between them. Required.
    pub group_id: String,
    /// `topics`: topic names to read; or
    #[serde(default)]
    pub topics: Vec<String>,
    /// `topic_pattern`: a regular expression every topic read matches
    /// (topics created later are picked up). Exactly one of `topics` and
    /// `topic_pattern`.
    #[serde(default)]
    pub topic_pattern: Option<String>,
    /// `start_from`: `committed` (default) resumes from the group's committed
    /// offsets, and reads a partition without one from its beginning;
    /// `earliest` and `latest` start each partition at its beginning or end
    /// when this agent is first given it, whatever was committed (a replay,
    /// or only what is new).
    #[serde(default)]
    pub start_from: StartFrom,
    /// `metadata`: `false` (default) makes each message's value the record;
    /// `true` makes the record a JSON envelope with the message's `topic`,
    /// `partition`, `offset`, `timestamp`, `key`, `headers` and `value`
    /// (text when it is UTF-8, else base64 in `value_base64`).
    #[serde(default)]
    pub metadata: bool,
    /// `commit_interval`: how often acknowledged offsets are committed (and
    /// always when partitions are taken away and at shutdown). Default `1s`.
    #[serde(
        default = "KafkaSourceConfig::default_commit_interval",
        with = "units::duration"
    )]
    pub commit_interval: Duration,
    /// `librdkafka_options`: further librdkafka settings, e.g.
    /// `security.protocol`, `sasl.mechanism`, `sasl.username`,
    /// `sasl.password: ${KAFKA_PASSWORD}`; values are secrets. Settings
    /// the source owns (`group.id`, offsets, commits) cannot be set here.
    #[serde(default)]
    pub librdkafka_options: BTreeMap<String, Secret>,
}

impl KafkaSourceConfig {
    const fn default_commit_interval() -> Duration {
        Duration::from_secs(1)
    }
}

/// Where a partition is first read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartFrom {
    /// The group's committed offset; the beginning without one.
    #[default]
    Committed,
    /// The beginning of the partition.
    Earliest,
    /// The end of the partition: only what is produced from now on.
    Latest,
}

/// librdkafka settings a source or sink sets itself.
pub(crate) const OWNED_OPTIONS: [&str; 9] = [
    "bootstrap.servers",
    "group.id",
    "enable.auto.commit",
    "enable.auto.offset.store",
    "auto.offset.reset",
    "auto.commit.interval.ms",
    "enable.idempotence",
    "acks",
    "statistics.interval.ms",
];

impl Settings for KafkaSourceConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        if self.bootstrap_servers.trim().is_empty() {
            problems.push(&format!("{key}.bootstrap_servers"), "must name a broker");
        }
        if self.group_id.trim().is_empty() {
            problems.push(&format!("{key}.group_id"), "must not be empty");
        }
        match (&self.topics[..], &self.topic_pattern) {
            ([], None) => problems.push(key, "give `topics` or `topic_pattern`"),
            ([_, ..], Some(_)) => problems.push(key, "give `topics` or `topic_pattern`, not both"),
            (_, Some(pattern)) => {
                if let Err(error) = regex::Regex::new(pattern) {
                    problems.push(
                        &format!("{key}.topic_pattern"),
                        format!("not a regular expression: {error}"),
                    );
                }
            }
            (topics, None) => {
                if topics.iter().any(|t| t.trim().is_empty()) {
                    problems.push(&format!("{key}.topics"), "a topic name is empty");
                }
            }
        }
        if self.commit_interval < Duration::from_millis(10) {
            problems.push(&format!("{key}.commit_interval"), "must be at least 10ms");
        }
        check_options(&self.librdkafka_options, key, problems);
    }
}

/// Options the component owns are refused, by key.
pub(crate) fn check_options(
    options: &BTreeMap<String, Secret>,
    key: &str,
    problems: &mut Problems<'_>,
) {
    for name in options.keys() {
        if OWNED_OPTIONS.contains(&name.as_str()) {
            problems.push(
                &format!("{key}.librdkafka_options.{name}"),
                "set by foghorn itself; use the component's own setting",
            );
        }
    }
}
