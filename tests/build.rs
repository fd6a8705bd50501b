//! Builds the fixture plugins from source; tests find them through
//! `env!("FIXTURE_<NAME>_WASM")`.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let plugins = manifest.parent().unwrap().join("plugins");
    let chaos = manifest.join("fixtures").join("chaos");
    let hostile = manifest.join("fixtures").join("hostile");
    let sources: Vec<&Path> = vec![&chaos, &hostile, &plugins];
    let built = foghorn_plugin_build::build(&["chaos-plugin", "hostile-plugin"], &sources);
    println!("cargo:rustc-env=FIXTURE_CHAOS_WASM={}", built[0].display());
    println!(
        "cargo:rustc-env=FIXTURE_HOSTILE_WASM={}",
        built[1].display()
    );
}
