//! examples/fleet: three edge agents publish their devices' points to Kafka
//! (a real broker, tansu) and two aggregators in one consumer group run the
//! rules over them. One aggregator is killed (`kill -9`) mid-run and
//! restarted, as its supervisor would: every reading is processed at least
//! once, and the alerts are those one aggregator raises alone over the same
//! topic, and those the readings call for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::kafka::{Broker, partitions_held};
use foghorn_tests::wait;
use serde_json::Value;

const HOSTS: [&str; 3] = ["edge-1", "edge-2", "edge-3"];
const DEVICES: u64 = 4;
/// Readings per device written before the kill, and again after it.
const HALF: u64 = 500;
const TOPIC: &str = "fleet-telemetry";

fn example(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/fleet")
        .join(file)
}

/// Append `points` readings per device of `host`, from `first`, to `path`.
fn generate(path: &Path, host: &str, first: u64) {
    let output = Command::new("python3")
        .arg(example("generate.py"))
        .args(["--host", host, "--devices", &DEVICES.to_string()])
        .args(["--points", &HALF.to_string(), "--first", &first.to_string()])
        .output()
        .unwrap();
    assert!(output.status.success(), "generate.py failed");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    std::io::Write::write_all(&mut file, &output.stdout).unwrap();
}

fn lines(path: &Path) -> Vec<Value> {
    wait::read(path)
        .lines()
        // A torn last line after kill -9 is cut back when the sink reopens.
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// (host, device, seq) of every point an aggregator wrote, with how many
/// times it wrote it.
fn readings(path: &Path) -> BTreeMap<(String, String, i64), u32> {
    let mut seen = BTreeMap::new();
    for point in lines(path) {
        let key = (
            point["tags"]["host"].as_str().unwrap().to_owned(),
            point["tags"]["device"].as_str().unwrap().to_owned(),
            point["fields"]["seq"].as_i64().unwrap(),
        );
        *seen.entry(key).or_insert(0) += 1;
    }
    seen
}

/// What makes two alerts the same alert.
fn identity(alert: &Value) -> String {
    serde_json::json!([
        alert["timestamp"],
        alert["type"],
        alert["severity"],
        alert["state"],
        alert["series"],
        alert["tags"],
        alert["labels"],
        alert["value"],
    ])
    .to_string()
}

/// The alerts the rules of aggregator.yaml call for, from the readings.
fn expected_alerts(inputs: &[PathBuf]) -> BTreeSet<String> {
    let mut expected = BTreeSet::new();
    for input in inputs {
        for reading in lines(input) {
            let timestamp = reading["time"].as_str().unwrap().replace('Z', ".000Z");
            let tags = serde_json::json!({"device": reading["device"], "host": reading["host"]});
            let temperature = reading["temperature"].as_f64().unwrap();
            let cpu = reading["cpu"].as_f64().unwrap();
            let mut alert = |kind: &str, severity: &str, field: &str, value: f64, above: f64| {
                let description = format!("{field} {value} above max {above}");
                expected.insert(identity(&serde_json::json!({
                    "timestamp": timestamp, "type": kind, "severity": severity,
                    "state": "firing", "series": "device", "tags": tags,
                    "labels": {"field": field}, "value": value, "description": description,
                })));
            };
            if temperature > 80.0 {
                let severity = if temperature > 95.0 {
                    "critical"
                } else {
                    "warning"
                };
                alert("overheat", severity, "temperature", temperature, 80.0);
            }
            if cpu > 90.0 {
                alert("cpu_saturation", "warning", "cpu", cpu, 90.0);
            }
        }
    }
    expected
}

struct Aggregator {
    home: PathBuf,
    env: Vec<(String, String)>,
}

impl Aggregator {
    fn new(root: &Path, name: &str, broker: &Broker, group: &str) -> Self {
        let home = root.join(name);
        std::fs::create_dir_all(&home).unwrap();
        let env = vec![
            ("KAFKA_BROKERS".to_owned(), broker.address.clone()),
            ("KAFKA_GROUP".to_owned(), group.to_owned()),
            ("OUT_DIR".to_owned(), home.display().to_string()),
            ("METRICS_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ];
        Self { home, env }
    }

    fn start(&self) -> Agent {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Agent::start(&self.home, &example("aggregator.yaml"), &env)
    }

    fn points(&self) -> PathBuf {
        self.home.join("points.ndjson")
    }

    fn alerts(&self) -> Vec<Value> {
        lines(&self.home.join("alerts.ndjson"))
    }
}

#[test]
fn three_edges_two_aggregators_one_killed_every_reading_and_the_same_alerts() {
    let total = HOSTS.len() as u64 * DEVICES * HALF * 2;
    let root = tempfile::tempdir().unwrap();
    let broker = Broker::start(root.path());
    broker.create_topic(TOPIC, 6);

    let group = "foghorn-aggregators";
    let aggregators = [
        Aggregator::new(root.path(), "aggregator-a", &broker, group),
        Aggregator::new(root.path(), "aggregator-b", &broker, group),
    ];
    let mut running: Vec<Agent> = aggregators.iter().map(Aggregator::start).collect();
    wait::until(
        "the group to split the partitions",
        Duration::from_secs(90),
        || {
            running
                .iter()
                .all(|agent| partitions_held(agent) == Some(3))
                .then_some(())
        },
    );

    // The edges, each tailing its host's readings.
    let mut inputs = Vec::new();
    let mut edges = Vec::new();
    for host in HOSTS {
        let home = root.path().join(host);
        std::fs::create_dir_all(&home).unwrap();
        let input = home.join("readings.ndjson");
        generate(&input, host, 0);
        let data = home.join("data");
        edges.push(Agent::start(
            &home,
            &example("edge.yaml"),
            &[
                ("EDGE_INPUT", input.to_str().unwrap()),
                ("EDGE_DATA", data.to_str().unwrap()),
                ("KAFKA_BROKERS", &broker.address),
            ],
        ));
        inputs.push(input);
    }

    // Aggregator a is killed while it works through the first half.
    let a_points = aggregators[0].points();
    wait::until(
        "aggregator a to be working",
        Duration::from_secs(90),
        || (wait::read(&a_points).lines().count() >= 500).then_some(()),
    );
    let assignments = |agent: &Agent| agent.logs().matches("kafka partitions assigned").count();
    let b_assignments = assignments(&running[1]);
    running[0].kill9();
    let before_kill = readings(&a_points).len();
    for (host, input) in HOSTS.iter().zip(&inputs) {
        generate(input, host, HALF);
    }
    // The group notices the dead member when its session times out (6 s)
    // and rebalances; then its supervisor starts it again
    // (Restart=on-failure, a pod restart), and it joins.
    wait::until(
        "the group to rebalance without a",
        Duration::from_secs(60),
        || (assignments(&running[1]) > b_assignments).then_some(()),
    );
    running[0] = aggregators[0].start();

    let mut seen = BTreeMap::new();
    wait::until(
        "every reading at an aggregator",
        Duration::from_secs(180),
        || {
            seen.clear();
            for aggregator in &aggregators {
                for (key, n) in readings(&aggregator.points()) {
                    *seen.entry(key).or_insert(0) += n;
                }
            }
            (seen.len() as u64 == total).then_some(())
        },
    );
    for mut edge in edges {
        assert!(edge.terminate().success(), "{}", edge.logs());
    }
    for mut agent in running {
        assert!(agent.terminate().success(), "{}", agent.logs());
    }
    let copies: u32 = seen.values().sum();
    assert!(before_kill > 0 && (before_kill as u64) < total);

    // One aggregator alone, over the same topic.
    let alone = Aggregator::new(root.path(), "alone", &broker, "alone");
    let mut agent = alone.start();
    wait::until(
        "the lone aggregator to read everything",
        Duration::from_secs(120),
        || (readings(&alone.points()).len() as u64 == total).then_some(()),
    );
    assert!(agent.terminate().success(), "{}", agent.logs());
    let alone_alerts: Vec<String> = alone.alerts().iter().map(identity).collect();
    let alone_set: BTreeSet<String> = alone_alerts.iter().cloned().collect();
    assert_eq!(
        alone_set.len(),
        alone_alerts.len(),
        "one run raises each alert once"
    );

    let group_alerts: Vec<String> = aggregators
        .iter()
        .flat_map(|a| a.alerts())
        .map(|alert| identity(&alert))
        .collect();
    let group_set: BTreeSet<String> = group_alerts.iter().cloned().collect();
    let expected = expected_alerts(&inputs);
    assert!(
        expected.len() >= 100,
        "the readings overheat: {}",
        expected.len()
    );
    assert_eq!(alone_set, expected, "the lone aggregator's alerts");
    assert_eq!(group_set, alone_set, "the group's alerts");
    eprintln!(
        "fleet: {total} readings from 3 edges over 2 aggregators, one killed after {before_kill}: \
         0 lost, {} processed twice; {} alerts, {} repeated",
        u64::from(copies) - total,
        group_set.len(),
        group_alerts.len() - group_set.len(),
    );
}
