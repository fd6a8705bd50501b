//! Builds the benchmark's fixture plugin from source.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let passthrough = manifest.join("plugins").join("passthrough");
    let sdk = manifest.parent().unwrap().join("plugins");
    let sources: Vec<&Path> = vec![&passthrough, &sdk];
    let built = foghorn_plugin_build::build(&["passthrough-plugin"], &sources);
    println!("cargo:rustc-env=PASSTHROUGH_WASM={}", built[0].display());
}
