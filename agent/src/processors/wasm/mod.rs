//! The plugin host: runs components of the `foghorn:plugin/processor` world.
//!
//! One [`PluginEngine`] per process owns the wasmtime `Engine` and `Linker`,
//! compiles each component once (cached on disk under `data_dir`), and keeps
//! an epoch ticker so every call has a deadline. A [`PluginInstance`] is one
//! instantiated plugin in its own `Store`, bounded in memory and time, with no
//! filesystem, network, environment or arguments. A failed call leaves the
//! instance unusable; [`PluginInstance::reinstantiate`] replaces it from the
//! pre-instantiated component and restores its last snapshot.

mod bindings;
mod check;
pub mod config;
mod convert;
mod engine;
mod instance;
mod output;
#[cfg(test)]
mod proptests;
mod store;

pub use bindings::types as wit;
pub use check::{InputSize, MAX_NAME_BYTES, MAX_PAIRS, MAX_TEXT_BYTES, MAX_VALUE_BYTES};
pub use convert::{batch_from_wit, batch_to_wit, output_from_wit};
pub use engine::{LoadedPlugin, PluginEngine, PluginError};
pub use instance::{CallError, PluginInstance, PluginLimits};
pub use output::{PluginOutput, RejectedItem};

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// The bytes of builtin plugin `name`.
pub fn builtin(name: &str) -> Option<&'static [u8]> {
    BUILTIN_PLUGINS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, bytes)| *bytes)
}
