//! `foghorn plugin list`: every bundled plugin, with what it does, its size
//! and the sha256 of the component the agent embeds.

use std::process::Command;

use foghorn_tests::agent::binary;

#[test]
fn plugin_list_names_and_describes_every_bundled_plugin() {
    let output = Command::new(binary())
        .args(["plugin", "list"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let names: Vec<&str> = lines
        .iter()
        .filter_map(|line| line.strip_prefix("builtin:"))
        .map(|line| line.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "kv-parser",
            "threshold",
            "rate-of-change",
            "heartbeat",
            "zscore",
            "lag",
            "diff",
            "rolling",
            "ewma",
            "scale",
            "resample",
            "csv",
            "json",
            "regex",
            "logfmt",
            "isolation-forest",
            "conformal"
        ],
        "{text}"
    );
    for pair in lines.chunks(2) {
        let description = pair[0].split_once(' ').unwrap().1.trim();
        assert!(
            description.len() > 20 && !description.starts_with("foghorn plugin"),
            "a one-line description: {pair:?}"
        );
        let digest = pair[1].split("sha256:").nth(1).expect("a sha256");
        assert_eq!(digest.len(), 64, "{pair:?}");
        assert!(pair[1].contains(" KiB"), "{pair:?}");
    }
}
