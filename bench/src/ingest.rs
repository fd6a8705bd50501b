//! Ingest throughput of the push and broker sources, into a blackhole, with
//! the release agent as a separate process.
//!
//! - `http`: `wrk` (Debian's package) POSTs an NDJSON body of 1,000 lines
//!   over 16 keep-alive connections for `--seconds`; each request is
//!   answered once the blackhole has its batch (`ack: durable`). Reported:
//!   MB/s and records/s of accepted bodies, records per agent CPU-second,
//!   wrk's latency percentiles.
//! - `kafka`: a tansu broker (the test suite's) holds `--messages` messages
//!   in 4 partitions, produced by confluent-kafka; the agent reads them in a
//!   fresh consumer group, and so does a Python confluent-kafka consumer
//!   (`bench/scripts/kafka_consume.py`): records per CPU-second of each,
//!   and their ratio, measured in the same run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::agent;
use crate::measure::{median, mib, proc_status_kib};

/// CPU seconds (user + system) a live process has used, from `/proc`.
fn process_cpu(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15; `after` starts at field 3.
    let ticks: u64 = fields
        .get(11..13)
        .ok_or_else(|| anyhow::anyhow!("short /proc/{pid}/stat"))?
        .iter()
        .map(|v| v.parse::<u64>().unwrap_or(0))
        .sum();
    // Clock ticks per second (100 on Linux unless configured).
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100);
    #[allow(clippy::cast_precision_loss, reason = "seconds")]
    Ok(ticks as f64 / hz as f64)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn wait_port(port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn workdir(name: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("foghorn-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `http`: wrk against an NDJSON http source into a blackhole.
pub fn http(seconds: u64, repeat: usize) -> anyhow::Result<String> {
    anyhow::ensure!(
        Command::new("wrk").arg("--version").output().is_ok(),
        "wrk is missing: `apt-get install wrk`"
    );
    let dir = workdir("http")?;
    let mut body = String::new();
    for i in 0..1000 {
        let _ = writeln!(
            body,
            r#"{{"device":"edge-{:03}","region":"eu-west","latency_ms":{}.{},"loss":0.0{},"seq":{i}}}"#,
            i % 200,
            10 + i % 90,
            i % 10,
            i % 7
        );
    }
    let script = dir.join("post.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/x-ndjson\"\nwrk.body = {}\n",
            serde_json::to_string(&body)?
        ),
    )?;
    let (mut mbps, mut rps, mut per_cpu, mut p50, mut p99, mut rss) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    let mut non_2xx = 0_u64;
    for _ in 0..repeat {
        let port = free_port()?;
        let config = dir.join("pipeline.yaml");
        std::fs::write(
            &config,
            format!(
                "data_dir: {}\nsources:\n  ingest: {{ type: http, address: 127.0.0.1:{port}, decoding: ndjson }}\n\
                 sinks:\n  sink: {{ type: blackhole, inputs: [ingest] }}\n",
                dir.join("data").display()
            ),
        )?;
        let mut spawned = agent::spawn(&config, &[])?;
        let pid = spawned.child.id();
        wait_port(port)?;
        let cpu_before = process_cpu(pid)?;
        let out = Command::new("wrk")
            .args(["-t2", "-c16", &format!("-d{seconds}s"), "--latency", "-s"])
            .arg(&script)
            .arg(format!("http://127.0.0.1:{port}/"))
            .stderr(Stdio::inherit())
            .output()?;
        let cpu = process_cpu(pid)? - cpu_before;
        rss.push(proc_status_kib(&pid.to_string(), "VmHWM").unwrap_or(0));
        let _ = spawned.child.kill();
        let _ = spawned.child.wait();
        let text = String::from_utf8_lossy(&out.stdout);
        let requests_per_s = wrk_value(&text, "Requests/sec:")
            .ok_or_else(|| anyhow::anyhow!("no Requests/sec in wrk's output:\n{text}"))?;
        non_2xx += wrk_value(&text, "Non-2xx or 3xx responses:").unwrap_or(0.0) as u64;
        #[allow(clippy::cast_precision_loss, reason = "rates")]
        let body_mb = body.len() as f64 / 1e6;
        mbps.push(requests_per_s * body_mb);
        rps.push(requests_per_s * 1000.0);
        #[allow(clippy::cast_precision_loss, reason = "rates")]
        per_cpu.push(requests_per_s * 1000.0 * seconds as f64 / cpu.max(1e-9));
        p50.push(wrk_latency(&text, "50%").unwrap_or(f64::NAN));
        p99.push(wrk_latency(&text, "99%").unwrap_or(f64::NAN));
    }
    let mut rss: Vec<f64> = rss.into_iter().map(mib).collect();
    let mut report = String::new();
    writeln!(
        report,
        "### ingest http: wrk → http source (NDJSON, ack durable) → blackhole\n"
    )?;
    writeln!(
        report,
        "1000-line NDJSON bodies ({:.0} KB), 16 connections, {seconds} s, median of {repeat} runs; \
         {non_2xx} non-2xx answers\n",
        body.len() as f64 / 1e3
    )?;
    writeln!(report, "| metric | value |")?;
    writeln!(report, "| --- | --- |")?;
    writeln!(report, "| throughput | {:.1} MB/s |", median(&mut mbps))?;
    writeln!(report, "| records/s | {:.0} |", median(&mut rps))?;
    writeln!(
        report,
        "| records per agent CPU-second | {:.0} |",
        median(&mut per_cpu)
    )?;
    writeln!(
        report,
        "| request latency p50 | {:.2} ms |",
        median(&mut p50)
    )?;
    writeln!(
        report,
        "| request latency p99 | {:.2} ms |",
        median(&mut p99)
    )?;
    writeln!(report, "| agent peak RSS | {:.1} MiB |", median(&mut rss))?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report)
}

fn wrk_value(text: &str, label: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.trim().strip_prefix(label))
        .and_then(|v| v.trim().parse().ok())
}

/// A latency percentile line of `--latency` (`50%  1.23ms`), in ms.
fn wrk_latency(text: &str, label: &str) -> Option<f64> {
    let value = text
        .lines()
        .find_map(|line| line.trim().strip_prefix(label))?
        .trim();
    let (number, unit) = value.split_at(value.find(|c: char| c.is_ascii_alphabetic())?);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        _ => return None,
    })
}

/// `kafka`: the agent's consumer against confluent-kafka's, on one topic.
pub fn kafka(messages: u64, repeat: usize) -> anyhow::Result<String> {
    let dir = workdir("kafka")?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let client = root.join("../tests/fixtures/kafka_client.py");
    let consumer = root.join("scripts/kafka_consume.py");
    let port = free_port()?;
    let broker = format!("127.0.0.1:{port}");
    let mut tansu = Command::new("tansu")
        .args([
            "broker",
            "--storage-engine",
            "sqlite://bench.db",
            "--listener-url",
            &format!("tcp://{broker}"),
            "--advertised-listener-url",
            &format!("tcp://{broker}"),
        ])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| anyhow::anyhow!("tansu is missing (scripts/test.sh installs it): {e}"))?;
    let result = (|| -> anyhow::Result<String> {
        wait_port(port)?;
        let status = Command::new("tansu")
            .args(["topic", "create", "bench", "--partitions", "4", "--broker"])
            .arg(format!("tcp://{broker}"))
            .stdout(Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "cannot create the topic");
        let status = Command::new("python3")
            .arg(&client)
            .args(["produce", &broker, "bench", &messages.to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "cannot produce");
        let (mut ours, mut theirs, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for run in 0..repeat {
            let agent_rate = agent_consume(&dir, &broker, messages, run)?;
            let out = Command::new("python3")
                .arg(&consumer)
                .args([&broker, "bench", &messages.to_string()])
                .output()?;
            anyhow::ensure!(out.status.success(), "the Python consumer failed");
            let result: serde_json::Value = serde_json::from_slice(&out.stdout)?;
            let python_rate = result["records_per_cpu_second"]
                .as_f64()
                .unwrap_or(f64::NAN);
            ours.push(agent_rate);
            theirs.push(python_rate);
            ratio.push(agent_rate / python_rate);
        }
        let mut report = String::new();
        writeln!(
            report,
            "### ingest kafka: tansu → kafka source → blackhole, against confluent-kafka (Python)\n"
        )?;
        writeln!(
            report,
            "{messages} messages (~20 B JSON) in 4 partitions, each consumer in a fresh group \
             from the earliest offsets; median of {repeat} runs\n"
        )?;
        writeln!(report, "| metric | value |")?;
        writeln!(report, "| --- | --- |")?;
        writeln!(
            report,
            "| foghorn: records per CPU-second | {:.0} |",
            median(&mut ours)
        )?;
        writeln!(
            report,
            "| confluent-kafka (Python): records per CPU-second | {:.0} |",
            median(&mut theirs)
        )?;
        writeln!(report, "| ratio | {:.2} |", median(&mut ratio))?;
        Ok(report)
    })();
    let _ = tansu.kill();
    let _ = tansu.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Run the agent until its blackhole has `messages` records; records per
/// agent CPU-second.
fn agent_consume(dir: &Path, broker: &str, messages: u64, run: usize) -> anyhow::Result<f64> {
    let api = free_port()?;
    let config = dir.join("pipeline.yaml");
    std::fs::write(
        &config,
        format!(
            "data_dir: {}\napi: {{ listen: 127.0.0.1:{api} }}\nsources:\n  stream:\n    type: kafka\n    \
             bootstrap_servers: {broker}\n    group_id: bench-{run}-{}\n    topics: [bench]\n    \
             start_from: earliest\nsinks:\n  sink: {{ type: blackhole, inputs: [stream] }}\n",
            dir.join(format!("data-{run}")).display(),
            std::process::id()
        ),
    )?;
    let mut spawned = agent::spawn(&config, &[])?;
    let pid = spawned.child.id();
    wait_port(api)?;
    let cpu_before = process_cpu(pid)?;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let received = received(api).unwrap_or(0.0);
        #[allow(clippy::cast_precision_loss, reason = "counts")]
        if received >= messages as f64 {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the agent read {received} of {messages}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let cpu = process_cpu(pid)? - cpu_before;
    let _ = spawned.child.kill();
    let _ = spawned.child.wait();
    #[allow(clippy::cast_precision_loss, reason = "rates")]
    Ok(messages as f64 / cpu.max(1e-9))
}

/// The blackhole's received events, from the agent's `/metrics`.
fn received(api: u16) -> Option<f64> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", api)).ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    text.lines()
        .find(|l| {
            l.starts_with("foghorn_component_received_events_total")
                && l.contains("component=\"sink\"")
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}
