//! The `http` source with real clients: NDJSON, CSV and OTLP/HTTP bodies
//! (the last sent by the OpenTelemetry Python SDK) reach a file sink with
//! their values; bad items are rejected one by one into the error file;
//! 401, 413, 429 and 503 are answered when they should be; and a `kill -9`
//! while clients wait for durable acks loses nothing that was answered 200.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::receiver::free_port;
use foghorn_tests::wait;

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Start the agent in `dir` on `pipeline` (its sources and sinks; a
/// `data_dir` in `dir` is added) and wait until its `listening` http
/// sources listen.
fn start(dir: &Path, pipeline: &str, env: &[(&str, &str)], listening: usize) -> Agent {
    let config = dir.join("pipeline.yaml");
    let data = dir.join("data");
    std::fs::write(&config, format!("data_dir: {}\n{pipeline}", data.display())).unwrap();
    let agent = Agent::start(dir, &config, env);
    agent.wait_for_log("connected", Duration::from_secs(60));
    wait::until(
        "the http sources to listen",
        Duration::from_secs(60),
        || (agent.logs().matches("connected").count() >= listening).then_some(()),
    );
    agent
}

fn records(path: &Path) -> Vec<serde_json::Value> {
    wait::read(path)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn messages(path: &Path) -> Vec<String> {
    records(path)
        .iter()
        .map(|r| r["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn ndjson_and_csv_bodies_arrive_and_bad_items_are_rejected_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (ndjson_port, csv_port) = (free_port(), free_port());
    let pipeline = format!(
        r#"
sources:
  ingest:
    type: http
    address: 127.0.0.1:{ndjson_port}
    decoding: ndjson
    errors: {errors}
    auth: {{ tokens: ["${{INGEST_TOKEN}}"] }}
  fleet:
    type: http
    address: 127.0.0.1:{csv_port}
    path: /fleet
    decoding: csv
    max_body_size: 64KiB
sinks:
  out: {{ type: file, inputs: [ingest], path: {out}, encoding: ndjson }}
  rows: {{ type: file, inputs: [fleet], path: {rows}, encoding: ndjson }}
"#,
        errors = dir.path().join("errors.log").display(),
        out = dir.path().join("out.ndjson").display(),
        rows = dir.path().join("rows.ndjson").display(),
    );
    let agent = start(dir.path(), &pipeline, &[("INGEST_TOKEN", "t0ken")], 2);
    let client = client();
    let url = format!("http://127.0.0.1:{ndjson_port}/");

    // 1,000 lines, 3 of them bad: 997 accepted, 3 in the error file.
    let mut body = String::new();
    let bad = [100, 500, 900];
    for i in 0..1000 {
        if i == bad[0] {
            body.push_str("{\"device\": \"d1\", \"temp\": \n");
        } else if i == bad[1] {
            body.push_str("not json at all\n");
        } else if i == bad[2] {
            body.push_str("{\"device\": \"d1\"} trailing\n");
        } else {
            body.push_str(&format!("{{\"device\": \"d{}\", \"seq\": {i}}}\n", i % 7));
        }
    }
    // No token, a wrong one: 401 and nothing taken.
    let response = client.post(&url).body(body.clone()).send().unwrap();
    assert_eq!(response.status(), 401);
    let response = client
        .post(&url)
        .bearer_auth("wrong")
        .body(body.clone())
        .send()
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = client
        .post(&url)
        .bearer_auth("t0ken")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().unwrap();
    assert_eq!(answer["accepted"], 997, "{answer}");
    assert_eq!(answer["rejected"], 3, "{answer}");
    // Durable ack: the records were in the file when 200 came.
    let out = messages(&dir.path().join("out.ndjson"));
    assert_eq!(out.len(), 997);
    let seqs: BTreeSet<u64> = out
        .iter()
        .map(|m| {
            serde_json::from_str::<serde_json::Value>(m).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let expected: BTreeSet<u64> = (0..1000).filter(|i| !bad.contains(i)).collect();
    assert_eq!(seqs, expected);
    let errors = wait::read(&dir.path().join("errors.log"));
    assert_eq!(errors.lines().count(), 3, "{errors}");
    assert!(
        errors
            .lines()
            .all(|l| l.contains("\tingest\tinvalid_json: ")),
        "{errors}"
    );
    assert!(errors.contains("not json at all"), "{errors}");

    // CSV: rows as written, a short row rejected, a gzip body too, and a
    // body over the limit refused whole.
    let url = format!("http://127.0.0.1:{csv_port}/fleet");
    let response = client
        .post(&url)
        .body("device,temp,cpu\nd1,85.5,12\nd2,61,99\nd3,1\nd4,70,\"5\"\n")
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().unwrap();
    assert_eq!(
        (answer["accepted"].as_u64(), answer["rejected"].as_u64()),
        (Some(3), Some(1))
    );
    assert!(
        answer["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("csv_cells"),
        "{answer}"
    );
    let mut gz = flate2_gzip(b"device,temp,cpu\nd5,20,1\n");
    let response = client
        .post(&url)
        .header("Content-Encoding", "gzip")
        .body(std::mem::take(&mut gz))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = client
        .post(&url)
        .body(format!("device,temp\n{}", "d9,1\n".repeat(20_000)))
        .send()
        .unwrap();
    assert_eq!(response.status(), 413);
    // A gzip bomb is measured after decompression.
    let bomb = flate2_gzip(format!("device,temp\n{}", "d9,1\n".repeat(100_000)).as_bytes());
    assert!(bomb.len() < 64 * 1024);
    let response = client
        .post(&url)
        .header("Content-Encoding", "gzip")
        .body(bomb)
        .send()
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(
        messages(&dir.path().join("rows.ndjson")),
        ["d1,85.5,12", "d2,61,99", "d4,70,\"5\"", "d5,20,1"]
    );
    assert!(!agent.logs().contains("t0ken"), "the token is never logged");
}

fn flate2_gzip(data: &[u8]) -> Vec<u8> {
    // Python's gzip module: a second implementation, not ours.
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import gzip,sys; sys.stdout.buffer.write(gzip.compress(sys.stdin.buffer.read()))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(data).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    output.stdout
}

#[test]
fn the_opentelemetry_sdk_sends_metrics_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let pipeline = format!(
        r#"
sources:
  otlp: {{ type: http, address: 127.0.0.1:{port}, decoding: otlp }}
sinks:
  out: {{ type: file, inputs: [otlp], path: {out}, encoding: ndjson }}
"#,
        out = dir.path().join("points.ndjson").display(),
    );
    let agent = start(dir.path(), &pipeline, &[], 1);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/otlp_send.py");
    let status = std::process::Command::new("python3")
        .arg(&script)
        .arg(format!("http://127.0.0.1:{port}/v1/metrics"))
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the SDK's export failed:\n{}",
        agent.logs()
    );
    // Durable ack: the SDK got its answer once the points were written.
    let points = records(&dir.path().join("points.ndjson"));
    let find = |series: &str, device: &str| {
        points
            .iter()
            .find(|p| p["series"] == series && p["tags"]["device"] == device)
            .unwrap_or_else(|| panic!("no {series}{{device={device}}} in {points:?}"))
    };
    let r1 = find("link_latency_ms", "r1");
    assert_eq!(r1["fields"]["value"], 12.5);
    assert_eq!(r1["tags"]["service.name"], "edge-router");
    assert_eq!(r1["tags"]["region"], "eu-west");
    assert_eq!(find("link_latency_ms", "r2")["fields"]["value"], 40.25);
    assert_eq!(find("packets", "r1")["fields"]["value"], 7.0);
    let histogram = &find("request_ms", "r1")["fields"];
    assert_eq!(histogram["count"], 3.0);
    assert_eq!(histogram["sum"], 12.0);
    assert_eq!(histogram["min"], 1.0);
    assert_eq!(histogram["max"], 9.0);
    // The SDK exports on flush and again on shutdown (cumulative): each
    // export has the same four points.
    assert_eq!(points.len() % 4, 0, "{points:?}");
}

/// An OTLP/JSON body for one gauge point with `value`.
fn otlp_json(value: f64) -> String {
    format!(
        r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[{{"name":"m","gauge":{{"dataPoints":[{{"asDouble":{value}}}]}}}}]}}]}}]}}"#
    )
}

/// A sink that cannot deliver (an OTLP exporter to a closed port) holds a
/// durable request: the next one over `max_concurrent_requests` is told
/// 429, and once the pipeline's buffers are full, requests are told 503;
/// both with `Retry-After`.
#[test]
fn a_stuck_pipeline_answers_429_and_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let (durable, immediate, closed) = (free_port(), free_port(), free_port());
    let pipeline = format!(
        r#"
sources:
  held:
    type: http
    address: 127.0.0.1:{durable}
    decoding: otlp
    max_concurrent_requests: 1
  fast:
    type: http
    address: 127.0.0.1:{immediate}
    decoding: otlp
    ack: immediate
    queue_timeout: 100ms
sinks:
  stuck:
    type: otlp
    inputs: [held, fast]
    endpoint: http://127.0.0.1:{closed}
    protocol: http
    buffer: {{ max_batches: 1 }}
"#,
    );
    let agent = start(dir.path(), &pipeline, &[], 2);
    let held_url = format!("http://127.0.0.1:{durable}/v1/metrics");
    let first = {
        let url = held_url.clone();
        std::thread::spawn(move || {
            client()
                .post(&url)
                .header("Content-Type", "application/json")
                .body(otlp_json(1.0))
                .send()
                .map(|r| r.status().as_u16())
        })
    };
    // The first request is being held once the sink is retrying it.
    agent.wait_for_log("retrying", Duration::from_secs(60));
    let response = client()
        .post(&held_url)
        .header("Content-Type", "application/json")
        .body(otlp_json(2.0))
        .send()
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    // Immediate acks fill the buffer, then 503.
    let url = format!("http://127.0.0.1:{immediate}/v1/metrics");
    let mut statuses = Vec::new();
    for i in 0..10 {
        let response = client()
            .post(&url)
            .header("Content-Type", "application/json")
            .body(otlp_json(f64::from(i)))
            .send()
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 503 {
            assert_eq!(response.headers()["retry-after"], "1");
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&503), "{statuses:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    drop(agent);
    // The held client saw its connection end without a 200.
    assert!(first.join().unwrap().is_err());
}

/// Clients keep POSTing with durable acks while the agent is killed with
/// `kill -9`: every request answered 200 is in the output.
#[test]
fn kill_9_loses_nothing_that_was_answered_200() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let out = dir.path().join("out.ndjson");
    let pipeline = format!(
        r#"
sources:
  ingest: {{ type: http, address: 127.0.0.1:{port}, decoding: lines }}
sinks:
  out: {{ type: file, inputs: [ingest], path: {out}, encoding: ndjson }}
"#,
        out = out.display(),
    );
    let mut agent = start(dir.path(), &pipeline, &[], 1);
    let url = format!("http://127.0.0.1:{port}/");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let answered_so_far = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (url, stop) = (url.clone(), std::sync::Arc::clone(&stop));
            let answered_so_far = std::sync::Arc::clone(&answered_so_far);
            std::thread::spawn(move || {
                let client = client();
                let mut acked = Vec::new();
                for n in 0.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let body: String = (0..50).map(|i| format!("c{c}-r{n}-l{i}\n")).collect();
                    match client.post(&url).body(body).send() {
                        Ok(response) if response.status() == 200 => {
                            acked.push(n);
                            answered_so_far.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                acked
            })
        })
        .collect();
    // Let some requests through, then kill the agent mid-stream.
    wait::until("20 requests answered", Duration::from_secs(60), || {
        (answered_so_far.load(std::sync::atomic::Ordering::Relaxed) >= 20).then_some(())
    });
    agent.kill9();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written: BTreeSet<String> = wait::read(&out)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|r| r["message"].as_str().unwrap().to_owned())
        .collect();
    let mut answered = 0;
    for (c, client) in clients.into_iter().enumerate() {
        for n in client.join().unwrap() {
            answered += 1;
            for i in 0..50 {
                let line = format!("c{c}-r{n}-l{i}");
                assert!(
                    written.contains(&line),
                    "{line} was answered 200 but is not in the output"
                );
            }
        }
    }
    assert!(answered >= 20, "only {answered} requests answered");
    eprintln!(
        "{answered} requests answered 200, all in the output ({} lines)",
        written.len()
    );
}

/// `tls`: HTTPS with a certificate from a private CA; a client that trusts
/// the CA is served, plain HTTP on the same port is not.
#[test]
fn https_with_a_certificate_from_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = foghorn_tests::tls::TestCa::new(dir.path());
    let port = free_port();
    let out = dir.path().join("out.ndjson");
    let pipeline = format!(
        r#"
sources:
  secure:
    type: http
    address: 127.0.0.1:{port}
    tls: {{ cert_file: {cert}, key_file: {key} }}
sinks:
  out: {{ type: file, inputs: [secure], path: {out}, encoding: ndjson }}
"#,
        cert = ca.cert.display(),
        key = ca.key.display(),
        out = out.display(),
    );
    let _agent = start(dir.path(), &pipeline, &[], 1);
    let trusting = reqwest::blocking::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(&ca.ca).unwrap()).unwrap(),
        )
        .build()
        .unwrap();
    let response = trusting
        .post(format!("https://127.0.0.1:{port}/"))
        .body("T:1\nT:2\n")
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(messages(&out), ["T:1", "T:2"]);
    // Without the CA the handshake fails; in the clear nothing is served.
    assert!(
        client()
            .post(format!("https://127.0.0.1:{port}/"))
            .body("T:3\n")
            .send()
            .is_err()
    );
    let plain = client()
        .post(format!("http://127.0.0.1:{port}/"))
        .body("T:4\n")
        .send();
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));
    assert_eq!(messages(&out), ["T:1", "T:2"]);
}
