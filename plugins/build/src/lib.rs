//! Build plugin crates of this workspace as WebAssembly components, from a
//! build script.
//!
//! The agent embeds its bundled plugins and the tests load fixture plugins,
//! and neither keeps a compiled `.wasm` in git: their build scripts call
//! [`build`], which runs a nested `cargo build --target wasm32-wasip2` (the way
//! wasmtime's `crates/test-programs/artifacts` does) into a target directory of
//! its own beside the outer one, so the two builds never wait on each other's
//! lock and the plugin dependencies are compiled once for every build script.
#![deny(missing_docs)]

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target plugins are compiled for.
pub const TARGET: &str = "wasm32-wasip2";

/// Build `packages` (workspace package names) in release mode and return the
/// path of each component, in the same order. Emits the `cargo:rerun-if-changed`
/// lines for `sources` (directories or files).
///
/// # Panics
/// When cargo cannot be run or the build fails; a build script has no better
/// way to report it.
pub fn build(packages: &[&str], sources: &[&Path]) -> Vec<PathBuf> {
    for source in sources {
        println!("cargo:rerun-if-changed={}", source.display());
    }
    let target_dir = plugin_target_dir();
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    ensure_target(&target_dir);
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--release")
        .arg("--target")
        .arg(TARGET)
        .arg("--target-dir")
        .arg(&target_dir)
        // Plugins are small and shipped inside the agent: no debug info.
        .arg("--config")
        .arg("profile.release.debug=false")
        .arg("--config")
        .arg("profile.release.strip=true")
        .arg("--config")
        .arg("profile.release.opt-level=3")
        .arg("--config")
        .arg("profile.release.codegen-units=1")
        .arg("--config")
        .arg("profile.release.lto=true")
        // Inline more than LLVM's default: every wasm function entry runs an
        // epoch check (the agent's time limit per call), so a small function
        // left out of line costs more in the plugin than natively
        // (kv-parser: 15 % less time per record in `foghorn-bench parsers`).
        .arg("--config")
        .arg(r#"target.wasm32-wasip2.rustflags=["-Cllvm-args=-inline-threshold=1000"]"#);
    for package in packages {
        cmd.arg("-p").arg(package);
    }
    // Flags meant for the outer (native) build must not leak into this one.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
    ] {
        cmd.env_remove(var);
    }
    for (key, _) in env::vars() {
        if key.starts_with("CARGO_PROFILE_") || key.starts_with("CARGO_FEATURE_") {
            cmd.env_remove(key);
        }
    }
    let status = cmd
        .status()
        .expect("failed to run cargo for the wasm plugins");
    assert!(
        status.success(),
        "building the wasm plugins {packages:?} failed"
    );
    packages
        .iter()
        .map(|package| {
            let path = target_dir
                .join(TARGET)
                .join("release")
                .join(format!("{}.wasm", package.replace('-', "_")));
            assert!(
                path.exists(),
                "cargo built no component at {}",
                path.display()
            );
            path
        })
        .collect()
}

/// Make sure the toolchain has the standard library for [`TARGET`].
///
/// `rust-toolchain.toml` lists the target, but rustup installs the targets a
/// toolchain file names only when it installs the toolchain itself: on a
/// machine whose toolchain was already there (a CI image, a fresh developer
/// box) the first build would stop with "can't find crate for `std`". So the
/// build adds the target the toolchain file asks for, once, under a lock (the
/// agent's, the tests' and the benchmark's build scripts run in parallel).
fn ensure_target(target_dir: &Path) {
    if target_installed() {
        return;
    }
    std::fs::create_dir_all(target_dir).expect("cannot create the plugin target directory");
    let lock = std::fs::File::create(target_dir.join(".rustup-target.lock"))
        .expect("cannot create the rustup lock file");
    lock.lock().expect("cannot lock the rustup lock file");
    if target_installed() {
        return;
    }
    println!(
        "cargo:warning=installing the {TARGET} target for the bundled plugins (rustup target add {TARGET}), once"
    );
    let mut cmd = Command::new("rustup");
    cmd.arg("target").arg("add").arg(TARGET);
    if let Ok(toolchain) = env::var("RUSTUP_TOOLCHAIN") {
        cmd.arg("--toolchain").arg(toolchain);
    }
    let status = cmd.status().unwrap_or_else(|error| {
        panic!(
            "the {TARGET} target is not installed and rustup could not be run ({error}); \
             install it with `rustup target add {TARGET}`"
        )
    });
    assert!(
        status.success(),
        "`rustup target add {TARGET}` failed; the bundled plugins need that target"
    );
}

/// Whether the active toolchain's sysroot has the standard library for [`TARGET`].
fn target_installed() -> bool {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let Ok(output) = Command::new(rustc).arg("--print").arg("sysroot").output() else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&output.stdout);
    Path::new(sysroot.trim())
        .join("lib")
        .join("rustlib")
        .join(TARGET)
        .join("lib")
        .is_dir()
}

/// `<target>/wasm-plugins`, where `<target>` is the outer build's target
/// directory, found from `OUT_DIR` (`<target>/<profile>/build/<pkg>/out`).
fn plugin_target_dir() -> PathBuf {
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR is set for build scripts"));
    out_dir
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| name == "build"))
        .and_then(|build| build.parent()?.parent())
        .map_or_else(
            || out_dir.join("wasm-plugins"),
            |target| target.join("wasm-plugins"),
        )
}
