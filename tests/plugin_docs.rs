//! docs/plugins.md's tutorial, run as written: the first `sh` block after
//! its "From nothing to a deployed detector" heading, line by line in one
//! shell in an empty directory, with this build's `foghorn` first on PATH.
//! A command that drifts from what the agent does fails here.

use std::path::Path;
use std::process::Command;

use foghorn_tests::agent::{binary, plugin_projects_target, shared_cache_dir};

/// The commands of the tutorial's first `sh` block.
fn tutorial() -> Vec<String> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/plugins.md"))
            .unwrap();
    let section = doc
        .split_once("## From nothing to a deployed detector")
        .expect("the tutorial's heading")
        .1;
    let block = section.split_once("```sh\n").expect("an sh block").1;
    let block = block.split_once("```").expect("the block's end").0;
    block
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn the_plugin_tutorial_runs_as_written() {
    let commands = tutorial();
    assert!(
        commands.iter().any(|c| c.starts_with("foghorn plugin new")),
        "{commands:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = binary().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = format!("set -euxo pipefail\n{}\n", commands.join("\n"));
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", plugin_projects_target())
        .env("FOGHORN_CACHE_DIR", shared_cache_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the tutorial failed:\n{stdout}\n{stderr}"
    );
    // What the reader is told to expect.
    assert!(stdout.contains("runs on this agent"), "{stdout}");
    assert!(
        stdout.contains("tests.yaml: 2 passed, 0 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"state\":\"firing\""),
        "the report: {stdout}"
    );
    assert!(
        stdout.contains("\"state\":\"resolved\""),
        "the report: {stdout}"
    );
}
