//! `foghorn plugin inspect`: the world and version a component targets,
//! whether this agent runs it, its exports and imports, size and sha256;
//! a file that is not a plugin for this agent gets a clear error and exit 1.

use std::path::Path;
use std::process::Command;

use foghorn_tests::agent::binary;
use serde_json::Value;
use sha2::{Digest, Sha256};
use wasm_encoder::{
    Component, ComponentImportSection, ComponentTypeRef, ComponentTypeSection, InstanceType,
};

/// `foghorn plugin inspect --json FILE`: exit success, the JSON, stderr.
fn inspect(file: &Path) -> (bool, Value, String) {
    let output = Command::new(binary())
        .args(["plugin", "inspect", "--json"])
        .arg(file)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), json, stderr)
}

/// A component importing an empty instance named `import`.
fn component_importing(import: &str) -> Vec<u8> {
    let mut types = ComponentTypeSection::new();
    types.instance(&InstanceType::new());
    let mut imports = ComponentImportSection::new();
    imports.import(import, ComponentTypeRef::Instance(0));
    let mut component = Component::new();
    component.section(&types);
    component.section(&imports);
    component.finish()
}

#[test]
fn a_plugin_built_for_this_agent_is_described_and_pinned() {
    let file = Path::new(env!("FIXTURE_CHAOS_WASM"));
    let (ok, json, stderr) = inspect(file);
    assert!(ok, "{stderr}");
    let bytes = std::fs::read(file).unwrap();
    assert_eq!(json["compatible"], true);
    assert_eq!(json["package"], "foghorn:plugin@0.1.0");
    assert_eq!(json["size"], bytes.len());
    assert_eq!(json["sha256"], hex::encode(Sha256::digest(&bytes)));
    let exports: Vec<&str> = json["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for export in ["init", "process", "tick", "snapshot", "restore"] {
        assert!(
            exports.contains(&format!("{export} (func)").as_str()),
            "{exports:?}"
        );
    }
    assert!(
        json["imports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i.as_str().unwrap().starts_with("foghorn:plugin/")),
        "{json}"
    );

    // The text form says the same, with the lines to pin it by.
    let output = Command::new(binary())
        .args(["plugin", "inspect"])
        .arg(file)
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("world    foghorn:plugin/processor@0.1.0 (runs on this agent"),
        "{text}"
    );
    assert!(
        text.contains(&format!("sha256: {}", json["sha256"].as_str().unwrap())),
        "{text}"
    );
}

#[test]
fn what_this_agent_cannot_run_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "core.wasm",
            b"\0asm\x01\0\0\0".to_vec(),
            "a core WebAssembly module, not a component: build it for wasm32-wasip2",
        ),
        (
            "text.wasm",
            b"(module)".to_vec(),
            "not WebAssembly (no \\0asm header)",
        ),
        (
            "empty.wasm",
            Component::new().finish(),
            "does not fit the foghorn:plugin@0.1.0 processor world: no export `init` found",
        ),
        (
            "newer.wasm",
            component_importing("foghorn:plugin/types@0.2.0"),
            "built for foghorn:plugin@0.2.0; this agent serves foghorn:plugin@0.1.0",
        ),
    ];
    for (name, bytes, reason) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, &bytes).unwrap();
        let (ok, json, stderr) = inspect(&file);
        assert!(!ok, "{name} is refused: {json}");
        assert_eq!(json["compatible"], false, "{name}");
        assert!(
            json["problem"].as_str().unwrap().contains(reason),
            "{name}: {json}"
        );
        assert!(
            stderr.contains(&format!("{}: ", file.display())) && stderr.contains(reason),
            "{name}: {stderr}"
        );
    }
}
