//! Writing a plugin outside the repository, as a user does: `foghorn plugin
//! new` for each kind, `plugin build`, `plugin inspect`, the project's own
//! unit tests, `foghorn test` on its cases (and the diff of a failing one),
//! and the plugin run by an agent with its sha256 pin.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use foghorn_tests::agent::{binary, plugin_projects_target, shared_cache_dir};
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

/// The detector's report: one alert firing at 85.5, resolved at 75.
fn check_detector_run(project: &Path, kind: &str) {
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(project.join("out/anomaly_report.json")).unwrap(),
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
    assert_eq!(alerts, [(kind, "firing", 85.5), (kind, "resolved", 75.0)]);
}

/// The feature's points: every one but the first with its delta.
fn check_feature_run(project: &Path) {
    let points = ndjson(&project.join("out/points.ndjson"));
    let deltas: Vec<Option<f64>> = points
        .iter()
        .map(|p| p["fields"]["temperature_delta"].as_f64())
        .collect();
    assert_eq!(
        deltas,
        [None, Some(1.5), Some(13.5), Some(4.5), Some(-15.0)]
    );
}

/// The parser's points (three) and the malformed line in the error log.
fn check_parser_run(project: &Path) {
    let points = ndjson(&project.join("out/points.ndjson"));
    assert_eq!(points.len(), 3);
    assert_eq!(points[2]["fields"]["status"], "warm");
    assert_eq!(points[2]["fields"]["humidity"], 43.0);
    let rejected = std::fs::read_to_string(project.join("out/rejected.log")).unwrap();
    assert!(
        rejected.contains("`temperature` is not key=value\ttemperature 23"),
        "{rejected}"
    );
}

/// Every kind in `lang`, made, built, inspected, tested and run.
fn every_kind_in(lang: &str) {
    let root = tempfile::tempdir().unwrap();
    let cache = shared_cache_dir();
    let env = [("FOGHORN_CACHE_DIR", cache.as_path())];
    let detector = make_and_build(
        root.path(),
        &format!("{lang}-detector"),
        "detector",
        lang,
        &env,
    );
    run_pinned(&detector, &format!("{lang}-detector"), &env);
    check_detector_run(&detector, &format!("{lang}_detector"));
    let feature = make_and_build(
        root.path(),
        &format!("{lang}-feature"),
        "feature",
        lang,
        &env,
    );
    run_pinned(&feature, &format!("{lang}-feature"), &env);
    check_feature_run(&feature);
    let parser = make_and_build(root.path(), &format!("{lang}-parser"), "parser", lang, &env);
    run_pinned(&parser, &format!("{lang}-parser"), &env);
    check_parser_run(&parser);
}

/// Python (componentize-py) plugins of every kind, run by the agent as
/// they are.
#[test]
fn python_plugins_of_every_kind_are_made_built_tested_and_run() {
    every_kind_in("python");
}

/// JavaScript (componentize-js) plugins of every kind, run by the agent as
/// they are.
#[test]
fn javascript_plugins_of_every_kind_are_made_built_tested_and_run() {
    every_kind_in("js");
}

/// Every kind, in Rust, in a directory outside the repository with no
/// path into it: the SDK and the WIT come from the agent.
#[test]
fn rust_plugins_of_every_kind_are_made_built_tested_and_run() {
    let root = tempfile::tempdir().unwrap();
    let target = plugin_projects_target();
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
    check_detector_run(&detector, "hot_detector");

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

    let feature = make_and_build(root.path(), "temp-delta", "feature", "rust", &env);
    run_pinned(&feature, "temp-delta", &env);
    check_feature_run(&feature);
    let parser = make_and_build(root.path(), "pairs", "parser", "rust", &env);
    run_pinned(&parser, "pairs", &env);
    check_parser_run(&parser);

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

/// Copy `from` into `to`, leaving out what a build leaves behind.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if ["dist", "out", "node_modules", "__pycache__"].contains(&name.to_str().unwrap()) {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// An alert as the three detectors must agree on it: everything but the
/// description (each language prints numbers its own way), the component
/// and plugin, and the score, compared apart within 1e-9.
fn identity(alert: &Value) -> Value {
    let mut alert = alert.clone();
    for key in ["description", "component", "plugin", "fingerprint", "score"] {
        alert.as_object_mut().unwrap().remove(key);
    }
    alert
}

/// examples/plugins: the z-score detector in Python and in JavaScript, built
/// from the example projects, pass their own cases (which the bundled Rust
/// zscore passes too) and raise alert for alert what `builtin:zscore`
/// raises over the same recording.
#[test]
fn zscore_in_python_and_javascript_raises_the_alerts_of_the_rust_zscore() {
    let root = tempfile::tempdir().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/plugins");
    let copy = root.path().join("plugins");
    copy_tree(&examples, &copy);
    let cache = shared_cache_dir();
    let env = [("FOGHORN_CACHE_DIR", cache.as_path())];

    // The helpers and the WIT are what `plugin new` writes today.
    for (lang, helper) in [("python", "foghorn_plugin.py"), ("js", "foghorn-plugin.js")] {
        let fresh = root.path().join(format!("fresh-{lang}"));
        let made = foghorn(
            root.path(),
            &[
                "plugin",
                "new",
                "fresh",
                "--kind",
                "detector",
                "--lang",
                lang,
                "--dir",
                fresh.to_str().unwrap(),
            ],
            &env,
        );
        assert!(made.status.success(), "{}", text(&made));
        let example = copy.join(format!("zscore-{lang}"));
        for file in [helper, "wit/processor.wit"] {
            assert_eq!(
                std::fs::read_to_string(example.join(file)).unwrap(),
                std::fs::read_to_string(fresh.join(file)).unwrap(),
                "examples/plugins/zscore-{lang}/{file} differs from what `foghorn plugin new` writes"
            );
        }
    }

    for lang in ["python", "js"] {
        let name = format!("zscore-{lang}");
        let built = foghorn(&copy, &["plugin", "build", &name], &env);
        assert!(built.status.success(), "{}", text(&built));
        let project = copy.join(&name);
        let tested = foghorn(&project, &["test", "tests.yaml"], &env);
        assert!(tested.status.success(), "{}", text(&tested));
        // The same cases against the bundled Rust plugin.
        let pipeline = std::fs::read_to_string(project.join("pipeline.yaml")).unwrap();
        let rust = pipeline.replace(
            &format!("plugin: ./dist/{name}.wasm"),
            "plugin: builtin:zscore",
        );
        assert_ne!(rust, pipeline);
        std::fs::write(project.join("rust.yaml"), rust).unwrap();
        let tested = foghorn(&project, &["test", "-c", "rust.yaml", "tests.yaml"], &env);
        assert!(tested.status.success(), "{}", text(&tested));
    }

    let ran = foghorn(&copy, &["run", "-c", "compare.yaml"], &env);
    assert!(ran.status.success(), "{}", text(&ran));
    let rust = ndjson(&copy.join("out/rust.ndjson"));
    assert!(rust.len() >= 20, "the recording has outliers: {rust:?}");
    assert!(
        rust.iter().any(|a| a["score"].is_null()),
        "the flat stretch that steps scores infinity (null in JSON)"
    );
    for lang in ["python", "js"] {
        let other = ndjson(&copy.join(format!("out/{lang}.ndjson")));
        let ours: Vec<Value> = other.iter().map(identity).collect();
        let theirs: Vec<Value> = rust.iter().map(identity).collect();
        assert_eq!(ours, theirs, "{lang} and rust disagree");
        for (a, b) in rust.iter().zip(&other) {
            match (a["score"].as_f64(), b["score"].as_f64()) {
                (Some(x), Some(y)) => assert!(
                    (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                    "{lang}: {x} vs {y}"
                ),
                (x, y) => assert_eq!(x, y, "{lang}"),
            }
        }
    }
}
