//! Writing a plugin outside the repository, as a user does: `foghorn plugin
//! new` for each kind, `plugin build`, `plugin inspect`, the project's own
//! unit tests, `foghorn test` on its cases (and the diff of a failing one),
//! and the plugin run by an agent with its sha256 pin.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use foghorn_tests::agent::{binary, shared_cache_dir};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `foghorn args…` in `dir`, with `env`.
fn foghorn(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(binary());
    command.current_dir(dir).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The sha256 `plugin build` printed.
fn printed_digest(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("sha256  "))
        .unwrap_or_else(|| panic!("no sha256 in:\n{stdout}"))
        .to_owned()
}

/// Make, build, inspect and test a plugin of `kind` in `lang` under `root`;
/// its project directory.
fn make_and_build(
    root: &Path,
    name: &str,
    kind: &str,
    lang: &str,
    env: &[(&str, &Path)],
) -> PathBuf {
    let made = foghorn(
        root,
        &["plugin", "new", name, "--kind", kind, "--lang", lang],
        env,
    );
    assert!(made.status.success(), "{}", text(&made));
    let project = root.join(name);
    let built = foghorn(root, &["plugin", "build", name], env);
    assert!(built.status.success(), "{}", text(&built));
    let component = project.join("dist").join(format!("{name}.wasm"));
    let bytes = std::fs::read(&component).unwrap();
    assert_eq!(printed_digest(&built), hex::encode(Sha256::digest(&bytes)));

    let inspected = foghorn(
        &project,
        &["plugin", "inspect", "--json", &format!("dist/{name}.wasm")],
        env,
    );
    assert!(inspected.status.success(), "{}", text(&inspected));
    let inspection: Value = serde_json::from_slice(&inspected.stdout).unwrap();
    assert_eq!(inspection["compatible"], true);
    assert_eq!(inspection["package"], "foghorn:plugin@0.1.0");

    let tested = foghorn(
        &project,
        &["test", "-c", "pipeline.yaml", "tests.yaml"],
        env,
    );
    assert!(tested.status.success(), "{}", text(&tested));
    assert!(
        text(&tested).contains("tests.yaml: 2 passed, 0 failed"),
        "{}",
        text(&tested)
    );
    project
}

/// Pin the plugin in the project's pipeline and run it over input.log until
/// the file source ends.
fn run_pinned(project: &Path, name: &str, env: &[(&str, &Path)]) {
    let bytes = std::fs::read(project.join("dist").join(format!("{name}.wasm"))).unwrap();
    let digest = hex::encode(Sha256::digest(&bytes));
    let pipeline = project.join("pipeline.yaml");
    let text_before = std::fs::read_to_string(&pipeline).unwrap();
    let needle = format!("    plugin: ./dist/{name}.wasm\n");
    assert!(text_before.contains(&needle), "{text_before}");
    let pinned = text_before.replace(&needle, &format!("{needle}    sha256: {digest}\n"));
    std::fs::write(&pipeline, pinned).unwrap();
    let ran = foghorn(project, &["run", "-c", "pipeline.yaml"], env);
    assert!(ran.status.success(), "{}", text(&ran));
}

fn ndjson(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Every kind, in Rust, in a directory outside the repository with no
/// path into it: the SDK and the WIT come from the agent.
#[test]
fn rust_plugins_of_every_kind_are_made_built_tested_and_run() {
    let root = tempfile::tempdir().unwrap();
    let target = root.path().join("target");
    let cache = shared_cache_dir();
    let env = [
        ("CARGO_TARGET_DIR", target.as_path()),
        ("FOGHORN_CACHE_DIR", cache.as_path()),
    ];

    // A detector: the project's own unit tests pass natively too.
    let detector = make_and_build(root.path(), "hot-detector", "detector", "rust", &env);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let unit = Command::new(&cargo)
        .current_dir(&detector)
        .arg("test")
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(unit.status.success(), "{}", text(&unit));
    assert!(
        text(&unit).contains("test result: ok. 3 passed"),
        "{}",
        text(&unit)
    );
    run_pinned(&detector, "hot-detector", &env);
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(detector.join("out/anomaly_report.json")).unwrap(),
    )
    .unwrap();
    let alerts: Vec<(&str, &str, f64)> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["type"].as_str().unwrap(),
                a["state"].as_str().unwrap(),
                a["value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        alerts,
        [
            ("hot_detector", "firing", 85.5),
            ("hot_detector", "resolved", 75.0)
        ]
    );

    // A failing case prints a diff and exits 1.
    let tests = detector.join("tests.yaml");
    let cases = std::fs::read_to_string(&tests)
        .unwrap()
        .replace("value: 85.5", "value: 85.4");
    std::fs::write(&tests, cases).unwrap();
    let failed = foghorn(&detector, &["test", "tests.yaml"], &env);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    let out = text(&failed);
    assert!(
        out.contains("FAIL  a series fires above max and resolves when it comes back"),
        "{out}"
    );
    assert!(
        out.contains("- [0] state=firing severity=critical kind=hot_detector"),
        "{out}"
    );
    assert!(out.contains("+ [0] firing critical hot_detector on device at 2026-01-01T00:00:01.000Z field=temperature value=85.5"), "{out}");
    assert!(out.contains("value differs"), "{out}");
    assert!(out.contains("tests.yaml: 1 passed, 1 failed"), "{out}");

    // A feature: every point but the first gets its delta.
    let feature = make_and_build(root.path(), "temp-delta", "feature", "rust", &env);
    run_pinned(&feature, "temp-delta", &env);
    let points = ndjson(&feature.join("out/points.ndjson"));
    let deltas: Vec<Option<f64>> = points
        .iter()
        .map(|p| p["fields"]["temperature_delta"].as_f64())
        .collect();
    assert_eq!(
        deltas,
        [None, Some(1.5), Some(13.5), Some(4.5), Some(-15.0)]
    );

    // A parser: three points, and the malformed line in the error log.
    let parser = make_and_build(root.path(), "pairs", "parser", "rust", &env);
    run_pinned(&parser, "pairs", &env);
    let points = ndjson(&parser.join("out/points.ndjson"));
    assert_eq!(points.len(), 3);
    assert_eq!(points[2]["fields"]["status"], "warm");
    let rejected = std::fs::read_to_string(parser.join("out/rejected.log")).unwrap();
    assert!(
        rejected.contains("`temperature` is not key=value\ttemperature 23"),
        "{rejected}"
    );

    // Nothing of this checkout was needed: no path in the projects points
    // into it.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for project in [&detector, &feature, &parser] {
        let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
        assert!(!manifest.contains(&repo), "{manifest}");
    }
}
