//! Builds the benchmark's fixture plugin from source.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let passthrough = manifest.join("plugins").join("passthrough");
    let sdk = manifest.parent().unwrap().join("plugins");
    let sources: Vec<&Path> = vec![&passthrough, &sdk];
    let encoding = manifest.join("plugins").join("encoding-guest");
    let wit = manifest.join("wit");
    let sources: Vec<&Path> = sources
        .into_iter()
        .chain([encoding.as_path(), wit.as_path()])
        .collect();
    let built = foghorn_plugin_build::build(&["passthrough-plugin", "encoding-guest"], &sources);
    println!("cargo:rustc-env=PASSTHROUGH_WASM={}", built[0].display());
    println!("cargo:rustc-env=ENCODING_GUEST_WASM={}", built[1].display());
}
