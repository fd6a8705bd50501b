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

/// `validate` goes as far as `run` before anything starts: each plugin is
/// read once, checked against its pin, compiled, instantiated and given its
/// config; what fails is reported at its key.
#[test]
fn validate_checks_pins_on_the_compiled_bytes_and_initialises_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let chaos = env!("FIXTURE_CHAOS_WASM");
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        std::fs::read(chaos).unwrap(),
    ));
    let pipeline = |pin: &str, marker: &str| {
        format!(
            r#"data_dir: {data}
sources:
  s: {{ type: stdin }}
processors:
  pinned:
    inputs: [s]
    plugin: {chaos}
    sha256: {pin}
    config: {{ marker_prefix: "{marker}" }}
  gone:
    inputs: [s]
    plugin: ./missing.wasm
  limits:
    inputs: [s]
    plugin: builtin:threshold
    config:
      rules: 5
sinks:
  out: {{ type: console, inputs: [pinned, gone, limits] }}
"#,
            data = dir.path().join("data").display(),
        )
    };
    let validate = |text: String| {
        let path = dir.path().join("pipeline.yaml");
        std::fs::write(&path, text).unwrap();
        let output = Command::new(binary())
            .args(["validate", "-c", path.to_str().unwrap()])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (
            output.status.code(),
            errors_of(&stderr, path.to_str().unwrap()),
            stderr,
        )
    };

    let (code, errors, stderr) = validate(pipeline(&"0".repeat(64), ""));
    assert_eq!(code, Some(1));
    assert_eq!(
        errors,
        [
            (8, "processors.pinned.sha256".to_owned()),
            (12, "processors.gone.plugin".to_owned()),
            (16, "processors.limits.config".to_owned()),
        ],
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("the plugin has {digest}")),
        "{stderr}"
    );
    assert!(stderr.contains("plugin rejected its config"), "{stderr}");

    // The right pin: the pinned plugin is compiled and initialised, and only
    // the other two mistakes remain.
    let (_, errors, stderr) = validate(pipeline(&digest.to_uppercase(), "X"));
    let keys: Vec<&str> = errors.iter().map(|(_, key)| key.as_str()).collect();
    assert_eq!(
        keys,
        ["processors.gone.plugin", "processors.limits.config"],
        "{stderr}"
    );
}
