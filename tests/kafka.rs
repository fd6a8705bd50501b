//! Kafka against a real broker (tansu) and a real client (confluent-kafka):
//! the source reads a topic in a consumer group through `kill -9`s losing
//! nothing, two agents split the partitions and one takes over when the
//! other dies, and the sink's output is read back by a consumer.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::kafka::{Broker, partitions_held};
use foghorn_tests::wait;

/// The consumers' `session.timeout.ms`, with a margin.
const SESSION_TIMEOUT: Duration = Duration::from_millis(6_500);

fn source_pipeline(dir: &Path, broker: &Broker, topic: &str, out: &Path) -> String {
    source_pipeline_from(dir, broker, topic, out, "foghorn", "committed")
}

fn source_pipeline_from(
    dir: &Path,
    broker: &Broker,
    topic: &str,
    out: &Path,
    group: &str,
    start_from: &str,
) -> String {
    format!(
        r#"
data_dir: {data}
sources:
  stream:
    type: kafka
    bootstrap_servers: {broker}
    group_id: {group}
    topics: [{topic}]
    start_from: {start_from}
    commit_interval: 200ms
    librdkafka_options: {{ session.timeout.ms: "6000", heartbeat.interval.ms: "500", max.poll.interval.ms: "10000" }}
sinks:
  out: {{ type: file, inputs: [stream], path: {out}, encoding: ndjson }}
"#,
        data = dir.join("data").display(),
        broker = broker.address,
        out = out.display(),
    )
}

/// How many times each `seq` appears in the file sink's output.
fn seqs(path: &Path) -> BTreeMap<u64, u32> {
    let mut seen = BTreeMap::new();
    for line in wait::read(path).lines() {
        let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
            continue; // a torn last line after kill -9 is cut back on open
        };
        let message: serde_json::Value =
            serde_json::from_str(record["message"].as_str().unwrap()).unwrap();
        *seen.entry(message["seq"].as_u64().unwrap()).or_insert(0) += 1;
    }
    seen
}

#[test]
fn a_consumer_group_reads_everything_through_five_kill_9s() {
    const COUNT: u64 = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    broker.create_topic("events", 4);
    broker.produce("events", COUNT);
    let out = dir.path().join("out.ndjson");
    let config = dir.path().join("pipeline.yaml");
    std::fs::write(
        &config,
        source_pipeline(dir.path(), &broker, "events", &out),
    )
    .unwrap();
    let mut agent = Agent::start(dir.path(), &config, &[]);
    for kill in 1..=5_u64 {
        // Each run gets a fifth further before it is killed.
        let target = usize::try_from(COUNT * kill / 6).unwrap();
        wait::until(
            &format!("{target} records before kill {kill}"),
            Duration::from_secs(120),
            || (wait::read(&out).lines().count() >= target).then_some(()),
        );
        agent.kill9();
        // Restart once the broker has dropped the dead member, as a
        // supervisor's restart delay would: tansu 0.6 (the test broker)
        // keeps a member that rejoins within its session timeout (6 s) as
        // the group's leader and gives the new one no partitions. It says
        // nothing when it drops one, so this waits the timeout out.
        std::thread::sleep(SESSION_TIMEOUT);
        agent = Agent::start(dir.path(), &config, &[]);
        // Even so it sometimes hands the newcomer nothing: a supervisor
        // would see the agent idle and restart it; so does the test.
        for _ in 0..3 {
            let held = wait::until("a partition assignment", Duration::from_secs(60), || {
                partitions_held(&agent)
            });
            if held > 0 {
                break;
            }
            agent.kill9();
            std::thread::sleep(SESSION_TIMEOUT);
            agent = Agent::start(dir.path(), &config, &[]);
        }
        assert_ne!(
            partitions_held(&agent),
            Some(0),
            "no partitions after restarts"
        );
    }
    let seen = wait::until("every record", Duration::from_secs(180), || {
        let seen = seqs(&out);
        (seen.len() as u64 == COUNT).then_some(seen)
    });
    assert!(agent.terminate().success(), "{}", agent.logs());
    let duplicates: u32 = seen.values().map(|n| n - 1).sum();
    assert!(
        (0..COUNT).all(|n| seen.contains_key(&n)),
        "a record is missing"
    );
    eprintln!("kafka: {COUNT} records through 5 kill -9s: 0 lost, {duplicates} duplicates");
}

#[test]
fn two_agents_split_the_partitions_and_one_takes_over() {
    const COUNT: u64 = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    broker.create_topic("fleet", 4);
    let agents_dir = [dir.path().join("a"), dir.path().join("b")];
    let outs = [dir.path().join("a.ndjson"), dir.path().join("b.ndjson")];
    let mut agents = Vec::new();
    for (home, out) in agents_dir.iter().zip(&outs) {
        std::fs::create_dir_all(home).unwrap();
        let config = home.join("pipeline.yaml");
        std::fs::write(&config, source_pipeline(home, &broker, "fleet", out)).unwrap();
        agents.push(Agent::start(home, &config, &[]));
    }
    // Both in the group, each with some of the partitions.
    for agent in &agents {
        agent.wait_for_log("kafka partitions assigned", Duration::from_secs(60));
    }
    wait::until("a balanced group", Duration::from_secs(60), || {
        let split = agents.iter().all(|agent| partitions_held(agent) == Some(2));
        split.then_some(())
    });
    broker.produce("fleet", COUNT / 2);
    wait::until("both reading", Duration::from_secs(60), || {
        outs.iter()
            .all(|out| !wait::read(out).is_empty())
            .then_some(())
    });
    // One stops (SIGTERM: it leaves the group); the other takes its
    // partitions over. (After a `kill -9` a real Kafka evicts the dead
    // member when its session times out; tansu 0.6 keeps it in the group, as
    // two bare confluent-kafka consumers show, so its partitions would wait
    // for it. A `kill -9` losing nothing is the test above.)
    let mut killed = agents.remove(0);
    assert!(killed.terminate().success());
    broker.produce("fleet", COUNT / 2);
    let survivor = &agents[0];
    let total = wait::until("every record", Duration::from_secs(120), || {
        let mut seen = seqs(&outs[0]);
        for (seq, n) in seqs(&outs[1]) {
            *seen.entry(seq).or_insert(0) += n;
        }
        // Both halves were produced with seq 0..COUNT/2.
        (seen.len() as u64 == COUNT / 2 && seen.values().all(|n| *n >= 2)).then_some(seen)
    });
    assert!(
        survivor
            .logs()
            .lines()
            .any(|l| l.contains("kafka partitions assigned") && l.contains("partitions=4")),
        "the survivor took every partition:\n{}",
        survivor.logs()
    );
    let copies: u32 = total.values().sum();
    eprintln!(
        "kafka group: {} records over two agents, one stopped: 0 lost, {} duplicates",
        COUNT,
        u64::from(copies) - COUNT
    );
}

/// The sink produces points (keyed by series) and raw records to topics a
/// confluent-kafka consumer reads back, every one of them.
#[test]
fn the_sink_output_is_read_back_by_a_consumer() {
    const COUNT: u64 = 2_000;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    broker.create_topic("points", 3);
    broker.create_topic("raw", 1);
    let config = dir.path().join("pipeline.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
sources:
  gen:
    type: generator
    interval: 0s
    count: {COUNT}
    faults: {{ spike_probability: 0.0, voltage_fault_probability: 0.0, malformed_probability: 0.0 }}
processors:
  parse:
    inputs: [gen]
    plugin: builtin:kv-parser
    config: {{ measurement: bench, tags: {{ device: b1 }}, fields: {{ T: temperature, V: voltage, S: status }} }}
sinks:
  points: {{ type: kafka, inputs: [parse], bootstrap_servers: {broker}, topic: points, key: "{{device}}", compression: gzip }}
  raw: {{ type: kafka, inputs: [gen], bootstrap_servers: {broker}, topic: raw }}
"#,
            data = dir.path().join("data").display(),
            broker = broker.address,
        ),
    )
    .unwrap();
    let mut agent = Agent::start(dir.path(), &config, &[]);
    // A finite generator: the agent drains and exits once all is confirmed.
    assert!(
        agent.wait_exit(Duration::from_secs(120)).success(),
        "{}",
        agent.logs()
    );
    let points = broker.consume("points", COUNT);
    assert_eq!(points.len() as u64, COUNT);
    for message in &points {
        assert_eq!(message["key"], "b1");
        let point: serde_json::Value =
            serde_json::from_str(message["value"].as_str().unwrap()).unwrap();
        assert_eq!(point["series"], "bench");
        assert!(point["fields"]["temperature"].is_number(), "{point}");
    }
    let raw = broker.consume("raw", COUNT);
    assert_eq!(raw.len() as u64, COUNT);
    assert!(
        raw.iter()
            .all(|m| m["value"].as_str().unwrap().starts_with("T:"))
    );
}

/// `start_from`: `committed` resumes after what was committed, `earliest`
/// replays a partition whatever was committed, `latest` reads only what
/// comes after the agent was given the partition.
#[test]
fn start_from_committed_earliest_and_latest() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    broker.create_topic("replay", 2);
    broker.produce("replay", 1000);
    let config = dir.path().join("pipeline.yaml");
    let run = |n: usize, group: &str, start_from: &str| {
        let out = dir.path().join(format!("out-{n}.ndjson"));
        std::fs::write(
            &config,
            source_pipeline_from(dir.path(), &broker, "replay", &out, group, start_from),
        )
        .unwrap();
        (Agent::start(dir.path(), &config, &[]), out)
    };
    let lines = |out: &Path| wait::read(out).lines().count();
    // committed, a new group: everything, then committed at shutdown.
    let (mut agent, out) = run(1, "g", "committed");
    wait::until("1000 records", Duration::from_secs(60), || {
        (lines(&out) >= 1000).then_some(())
    });
    assert!(agent.terminate().success());
    // earliest, the same group: everything again, despite the commits.
    let (mut agent, out) = run(2, "g", "earliest");
    wait::until("a replay", Duration::from_secs(60), || {
        (lines(&out) >= 1000).then_some(())
    });
    assert!(agent.terminate().success());
    assert_eq!(lines(&out), 1000);
    // committed again: only what is produced now.
    let (mut agent, out) = run(3, "g", "committed");
    agent.wait_for_log("kafka partitions assigned", Duration::from_secs(60));
    broker.produce("replay", 10);
    wait::until("10 new records", Duration::from_secs(60), || {
        (lines(&out) >= 10).then_some(())
    });
    assert!(agent.terminate().success());
    assert_eq!(lines(&out), 10, "what was committed was read again");
    // latest, a new group: nothing old, only what comes after the seek.
    let (mut agent, out) = run(4, "fresh", "latest");
    wait::until(
        "both partitions sought to their end",
        Duration::from_secs(60),
        || (agent.logs().matches("sought to its end").count() >= 2).then_some(()),
    );
    // "The end" is looked up after the seek returns: what is produced at
    // that moment may fall before it. Produce until something arrives.
    let mut first = 1_000_000;
    wait::until("new records", Duration::from_secs(60), || {
        broker.produce_from("replay", first, 5);
        first += 5;
        (lines(&out) >= 5).then_some(())
    });
    assert!(agent.terminate().success());
    let seen = seqs(&out);
    assert!(
        seen.keys().all(|seq| *seq >= 1_000_000),
        "old records were read: {seen:?}"
    );
}
