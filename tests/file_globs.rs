//! A file source over globs: 1,000 device files matched at start, 200 more
//! created while the agent runs, lines appended all along, a `kill -9` on the
//! way, at most 64 files open at once. Every line must reach the output with
//! its file's path as a tag.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::{http, wait};

const AT_START: usize = 1_000;
const CREATED: usize = 200;
const LINES: usize = 40;
const MAX_OPEN: i64 = 64;

fn config(dir: &Path) -> PathBuf {
    let config = dir.join("pipeline.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
api: {{ listen: "127.0.0.1:0" }}
sources:
  devices:
    type: file
    include: ["{devices}/*/*.log"]
    exclude: ["*-debug.log"]
    path_tag: file
    max_open_files: {MAX_OPEN}
    glob_interval: 100ms
    poll_interval: 50ms
processors:
  parse:
    inputs: [devices]
    plugin: builtin:kv-parser
    config: {{ measurement: device, types: {{ seq: int, T: float }} }}
sinks:
  out:
    type: file
    inputs: [parse]
    path: {out}
    encoding: ndjson
"#,
            data = dir.join("data").display(),
            devices = dir.join("devices").display(),
            out = dir.join("out.ndjson").display(),
        ),
    )
    .unwrap();
    config
}

/// The file of device `n`, spread over ten directories.
fn device_file(dir: &Path, n: usize) -> PathBuf {
    dir.join("devices")
        .join(format!("rack{}", n % 10))
        .join(format!("dev-{n:04}.log"))
}

/// Append lines `range` of device `n`; the sequence number says both.
fn write_lines(dir: &Path, n: usize, range: std::ops::Range<usize>) {
    let path = device_file(dir, n);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = String::new();
    for line in range {
        text.push_str(&format!("seq:{},T:{}.5\n", n * LINES + line, line % 90));
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

/// Every point written so far: its `seq` and `file` tag.
fn output(out: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(out).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|point| {
            let seq = point["fields"]["seq"].as_u64().expect("a seq") as usize;
            let file = point["tags"]["file"].as_str().expect("a file tag");
            (seq, file.to_owned())
        })
        .collect()
}

/// The value of `foghorn_file_source_files{state}` on the agent's endpoint.
fn files_gauge(api: SocketAddr, state: &str) -> Option<i64> {
    let (_, body) = http::get(api, "/metrics")?;
    let prefix = format!(r#"foghorn_file_source_files{{component="devices",state="{state}"}} "#);
    body.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|value| value.trim().parse().ok())
}

#[test]
fn a_thousand_files_and_two_hundred_new_ones_lose_no_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let out = dir.path().join("out.ndjson");
    for n in 0..AT_START {
        write_lines(dir.path(), n, 0..LINES / 2);
    }
    // Excluded: never read.
    let debug = dir.path().join("devices/rack0/dev-0000-debug.log");
    std::fs::write(&debug, "seq:999999999,T:1.5\n").unwrap();

    let mut agent = Agent::start(dir.path(), &config, &[]);
    agent.wait_for_log("running", Duration::from_secs(60));
    let api = agent.api_addr();
    let mut most_open = 0;
    wait::until(
        "the agent to match every file",
        Duration::from_secs(60),
        || {
            most_open = most_open.max(files_gauge(api, "open").unwrap_or(0));
            (files_gauge(api, "matched") == Some(AT_START as i64)).then_some(())
        },
    );
    // New files while running, and the second half of every old one.
    for n in AT_START..AT_START + CREATED / 2 {
        write_lines(dir.path(), n, 0..LINES);
    }
    for n in 0..AT_START / 2 {
        write_lines(dir.path(), n, LINES / 2..LINES);
    }
    wait::until("some new lines to arrive", Duration::from_secs(120), || {
        most_open = most_open.max(files_gauge(api, "open").unwrap_or(0));
        (output(&out).len() > AT_START * LINES / 2).then_some(())
    });
    agent.kill9();

    for n in AT_START / 2..AT_START {
        write_lines(dir.path(), n, LINES / 2..LINES);
    }
    for n in AT_START + CREATED / 2..AT_START + CREATED {
        write_lines(dir.path(), n, 0..LINES);
    }
    let mut agent = Agent::start(dir.path(), &config, &[]);
    agent.wait_for_log("running", Duration::from_secs(60));
    let api = agent.api_addr();
    let total = (AT_START + CREATED) * LINES;
    wait::until(
        "every line to reach the output",
        Duration::from_secs(300),
        || {
            most_open = most_open.max(files_gauge(api, "open").unwrap_or(0));
            let mut seqs: Vec<usize> = output(&out).into_iter().map(|(seq, _)| seq).collect();
            seqs.sort_unstable();
            seqs.dedup();
            (seqs.len() == total).then_some(())
        },
    );
    assert_eq!(
        files_gauge(api, "matched"),
        Some((AT_START + CREATED) as i64)
    );
    assert!(agent.terminate().success());

    let points = output(&out);
    let mut seen: HashMap<usize, usize> = HashMap::new();
    for (seq, file) in &points {
        let n = seq / LINES;
        assert!(n < AT_START + CREATED, "seq {seq} was never written");
        let expected = device_file(dir.path(), n);
        assert_eq!(file, &expected.display().to_string(), "seq {seq}'s tag");
        *seen.entry(*seq).or_default() += 1;
    }
    let duplicates = points.len() - seen.len();
    println!(
        "file globs: {} files, {total} lines in, {} out, {duplicates} duplicates after one kill -9, at most {most_open} files open",
        AT_START + CREATED,
        points.len()
    );
    assert_eq!(seen.len(), total, "every line once at least");
    assert!(
        (1..=MAX_OPEN).contains(&most_open),
        "at most {MAX_OPEN} files open, saw {most_open}"
    );
}
