//! A pipeline file with several mistakes: every one is reported at once,
//! with file, line, column and key, by `validate` and by `run` alike.

use std::process::Command;

use foghorn_tests::agent::binary;

const BROKEN: &str = r#"data_dir: ./data
sources:
  bench:
    type: serial
    port: /dev/ttyUSB0
    baud: fast
  gen:
    type: generatr
processors:
  parse:
    inputs: [bnch]
    plugin: builtin:kv-parser
  detect:
    inputs: [parse]
    plugin: builtin:threshold
    limits: { memory: 0B }
sinks:
  metrics:
    type: prometheus
    inputs: [detect.alerts]
    listen: 127.0.0.1:9598
    colour: blue
"#;

/// (line, key) of each expected error.
const EXPECTED: &[(usize, &str)] = &[
    (6, "sources.bench.baud"),               // not a number
    (8, "sources.gen.type"),                 // unknown type
    (11, "processors.parse.inputs[0]"),      // unknown input
    (16, "processors.detect.limits.memory"), // out of range
    (22, "sinks.metrics.colour"),            // unknown field
];

fn errors_of(stderr: &str, file: &str) -> Vec<(usize, String)> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error: "))
        .filter_map(|l| {
            let rest = l.strip_prefix(file)?.strip_prefix(':')?;
            let mut parts = rest.splitn(3, ':');
            let line: usize = parts.next()?.parse().ok()?;
            let _column: usize = parts.next()?.parse().ok()?;
            let key = parts.next()?.trim().split(':').next()?.trim().to_owned();
            Some((line, key))
        })
        .collect()
}

#[test]
fn every_mistake_is_reported_with_its_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.yaml");
    std::fs::write(&path, BROKEN).unwrap();
    let file = path.to_str().unwrap();

    for args in [vec!["validate", "-c", file], vec!["run", "-c", file]] {
        let output = Command::new(binary())
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?} must exit 1");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let got = errors_of(&stderr, file);
        let expected: Vec<(usize, String)> = EXPECTED
            .iter()
            .map(|(l, k)| (*l, (*k).to_owned()))
            .collect();
        assert_eq!(got, expected, "{args:?} printed:\n{stderr}");
        assert!(
            stderr.contains("did you mean `bench`") || stderr.contains("`bench`"),
            "suggests the close name:\n{stderr}"
        );
    }
}

#[test]
fn a_valid_pipeline_validates() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/serial-bench/pipeline.yaml");
    let output = Command::new(binary())
        .args(["validate", "-c", example.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("valid"));
}
