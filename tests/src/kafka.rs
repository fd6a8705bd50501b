//! A real Kafka broker for the tests: tansu, with its SQLite storage engine
//! in the test's directory, on its own loopback port; and clients from
//! PyPI's confluent-kafka (librdkafka) to produce and consume.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::agent::Agent;
use crate::receiver::free_port;
use crate::wait;

/// A running tansu broker.
#[derive(Debug)]
pub struct Broker {
    child: Child,
    log: PathBuf,
    /// `127.0.0.1:<port>`.
    pub address: String,
}

impl Broker {
    /// Start one with its data in `dir`.
    pub fn start(dir: &Path) -> Self {
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let log = dir.join(format!("tansu-{port}.log"));
        let child = Command::new("tansu")
            .args([
                "broker",
                "--storage-engine",
                // Relative: tansu joins an absolute path to its directory.
                &format!("sqlite://tansu-{port}.db"),
                "--listener-url",
                &format!("tcp://{address}"),
                "--advertised-listener-url",
                &format!("tcp://{address}"),
            ])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("tansu is not on PATH: the test command installs it (scripts/test.sh)");
        let broker = Self {
            child,
            log,
            address,
        };
        wait::until("tansu to be ready", Duration::from_secs(30), || {
            wait::read(&broker.log).contains("ready in").then_some(())
        });
        broker
    }

    /// Create `topic` with `partitions`.
    pub fn create_topic(&self, topic: &str, partitions: u32) {
        let status = Command::new("tansu")
            .args([
                "topic",
                "create",
                topic,
                "--partitions",
                &partitions.to_string(),
                "--broker",
                &format!("tcp://{}", self.address),
            ])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "cannot create topic {topic}");
    }

    /// Produce `count` messages `{"seq": n}` (keyed `k<n % 97>`) to `topic`
    /// with confluent-kafka, acks=all; returns once all are acknowledged.
    pub fn produce(&self, topic: &str, count: u64) {
        self.produce_from(topic, 0, count);
    }

    /// [`Broker::produce`] with `seq` from `first`.
    pub fn produce_from(&self, topic: &str, first: u64, count: u64) {
        let status = Command::new("python3")
            .arg(fixture("kafka_client.py"))
            .args([
                "produce",
                &self.address,
                topic,
                &count.to_string(),
                &first.to_string(),
            ])
            .status()
            .unwrap();
        assert!(status.success(), "producing to {topic} failed");
    }

    /// Every message of `topic`, read from the beginning with
    /// confluent-kafka until `count` have come: `{partition, offset, key,
    /// headers, value}` each.
    pub fn consume(&self, topic: &str, count: u64) -> Vec<serde_json::Value> {
        let output = Command::new("python3")
            .arg(fixture("kafka_client.py"))
            .args(["consume", &self.address, topic, &count.to_string()])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "consuming {topic} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

/// The partitions `agent`'s Kafka source holds, from the last assignment it
/// logged; `None` before the first.
pub fn partitions_held(agent: &Agent) -> Option<u32> {
    agent
        .logs()
        .lines()
        .rev()
        .find(|l| l.contains("kafka partitions assigned"))
        .and_then(|l| l.split("partitions=").nth(1))
        .and_then(|n| n.trim().parse().ok())
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
