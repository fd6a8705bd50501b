//! `kill -9` storms: a file source with a writer appending while the agent
//! is killed ten times at random moments and restarted. Every input line must
//! reach the output at least once, no output line may be torn, and each kill
//! may replay at most one unacknowledged window.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use foghorn_tests::agent::Agent;
use foghorn_tests::wait;

const LINES: usize = 1_000_000;
const CHUNKS: usize = 100;
const KILLS: usize = 10;
/// What one kill may replay: what can be in flight (the source's pending
/// batch, the processor's and the sink's input buffers of 16 batches of 1024,
/// one batch in each stage) plus what was acknowledged in the last commit
/// interval (100 ms, far under 100,000 lines in a debug build).
const WINDOW: usize = (1 + 16 + 1 + 16 + 1) * 1024 + 100_000;

fn config(dir: &Path) -> PathBuf {
    let config = dir.join("pipeline.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
data_dir: {data}
sources:
  input:
    type: file
    path: {input}
    poll_interval: 20ms
processors:
  parse:
    inputs: [input]
    plugin: builtin:kv-parser
    config: {{ measurement: storm, types: {{ seq: int, T: float }} }}
sinks:
  out:
    type: file
    inputs: [parse]
    path: {out}
    encoding: ndjson
"#,
            data = dir.join("data").display(),
            input = dir.join("in.log").display(),
            out = dir.join("out.ndjson").display(),
        ),
    )
    .unwrap();
    config
}

/// A small deterministic generator, seeded from the clock and printed, so a
/// failing run can be repeated.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Append `LINES` lines in `CHUNKS` chunks, rotating by rename a third of
/// the way and by copytruncate two thirds of the way when `rotate` is set.
fn write_input(input: &Path, rotate: bool) {
    let per_chunk = LINES / CHUNKS;
    for chunk in 0..CHUNKS {
        if rotate && chunk == CHUNKS / 3 {
            std::fs::rename(input, input.with_extension("log.1")).unwrap();
        }
        if rotate && chunk == 2 * CHUNKS / 3 {
            std::fs::copy(input, input.with_extension("log.2")).unwrap();
            std::fs::OpenOptions::new()
                .write(true)
                .open(input)
                .unwrap()
                .set_len(0)
                .unwrap();
        }
        let mut text = String::with_capacity(per_chunk * 24);
        for seq in chunk * per_chunk..(chunk + 1) * per_chunk {
            text.push_str(&format!("seq:{seq},T:{}.5\n", seq % 97));
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(input)
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
        drop(file);
        thread::sleep(Duration::from_millis(40));
    }
}

/// The `seq` of the last complete line of the output, if any.
fn last_seq(out: &Path) -> Option<u64> {
    let text = std::fs::read(out).ok()?;
    let end = text.iter().rposition(|&b| b == b'\n')?;
    let start = text[..end]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line: serde_json::Value = serde_json::from_slice(&text[start..end]).ok()?;
    line["fields"]["seq"].as_u64()
}

fn storm(rotate: bool) {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let input = dir.path().join("in.log");
    let out = dir.path().join("out.ndjson");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("kill storm seed {seed}, rotations: {rotate}");
    let mut random = Lcg(seed);
    std::fs::write(&input, "").unwrap();

    let writer = thread::spawn({
        let input = dir.path().join("in.log");
        move || write_input(&input, rotate)
    });
    for kill in 0..KILLS {
        let mut agent = Agent::start(dir.path(), &config, &[]);
        agent.wait_for_log("running", Duration::from_secs(60));
        let after = Duration::from_millis(100 + random.below(900));
        thread::sleep(after);
        agent.kill9();
        println!(
            "kill {kill} after {after:?}: output at seq {:?}",
            last_seq(&out)
        );
    }
    writer.join().unwrap();

    let mut agent = Agent::start(dir.path(), &config, &[]);
    let started = Instant::now();
    wait::until(
        "the last line to reach the output",
        Duration::from_secs(600),
        || (last_seq(&out) == Some(LINES as u64 - 1)).then_some(()),
    );
    println!("final run caught up in {:?}", started.elapsed());
    let status = agent.terminate();
    assert!(status.success(), "{status}: {}", agent.logs());

    let text = std::fs::read_to_string(&out).unwrap();
    let mut seen = vec![0u32; LINES];
    let mut lines = 0;
    for (number, line) in text.lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("output line {} is torn ({e}): {line:?}", number + 1));
        let seq = value["fields"]["seq"]
            .as_u64()
            .expect("every point has its seq");
        seen[usize::try_from(seq).unwrap()] += 1;
        lines += 1;
    }
    let missing: Vec<usize> = (0..LINES).filter(|&seq| seen[seq] == 0).collect();
    let duplicates = lines - (LINES - missing.len());
    println!(
        "kill storm (rotations: {rotate}): {LINES} lines in, {lines} out, {} missing, {duplicates} duplicates over {KILLS} kills ({} per kill)",
        missing.len(),
        duplicates / KILLS
    );
    assert!(
        missing.is_empty(),
        "{} lines lost, first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(
        duplicates <= KILLS * WINDOW,
        "{duplicates} duplicates: more than one unacknowledged window ({WINDOW}) per kill"
    );
}

#[test]
fn kill9_storm_loses_nothing() {
    storm(false);
}

#[test]
fn kill9_storm_through_rename_and_copytruncate_rotations_loses_nothing() {
    storm(true);
}
