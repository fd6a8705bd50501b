//! What a plugin project needs from the agent, embedded in the binary: the
//! Rust SDK and its data model crate, the WIT world, the guest helpers for
//! Python and JavaScript, and the dependency versions the SDK is built with.

use std::io;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/sdk_files.rs"));

/// The `[workspace]` tables of a Rust plugin project (see the build script).
pub const PROJECT_WORKSPACE: &str =
    include_str!(concat!(env!("OUT_DIR"), "/project_workspace.toml"));

/// The lock file the agent's own plugins are built with. Cargo keeps the
/// versions a project shares with it and drops the rest, so a new project
/// builds with the crates the SDK was tested with.
pub const LOCK_FILE: &str = include_str!("../../../../Cargo.lock");

/// The toolchain the SDK is built with, naming the `wasm32-wasip2` target so
/// rustup installs it.
pub const TOOLCHAIN: &str = include_str!("../../../../rust-toolchain.toml");

/// The WIT world, for the projects whose bindings are generated from it.
pub const WIT: &str = include_str!("../../../../plugins/wit/processor.wit");

/// The Python guest helper: batches as rows, rows and alerts as an output.
pub const PYTHON_HELPER: &str = include_str!("../../../../plugins/guest/foghorn_plugin.py");

/// The JavaScript guest helper, the same for JavaScript.
pub const JS_HELPER: &str = include_str!("../../../../plugins/guest/foghorn-plugin.js");

/// Write the SDK crates and the WIT under `dir/sdk`.
///
/// # Errors
/// A file that cannot be written.
pub fn write_rust_sdk(dir: &Path) -> io::Result<()> {
    for (path, text) in SDK_FILES {
        write(&dir.join("sdk").join(path), text)?;
    }
    Ok(())
}

/// Write `text` to `path`, creating its directories.
///
/// # Errors
/// A directory or file that cannot be written.
pub fn write(path: &Path, text: &str) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}
