//! What the agent offers a plugin: logging, metrics and the clock.
//!
//! Outside WebAssembly (in a plugin's own unit tests) logging and metrics do
//! nothing and the clock is the system clock.

#[cfg(target_arch = "wasm32")]
use crate::bindings::foghorn::plugin::host as wit;

/// Log levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Very detailed.
    Trace,
    /// Detailed.
    Debug,
    /// Normal.
    Info,
    /// Something unexpected.
    Warn,
    /// Something failed.
    Error,
}

/// Write a log line through the agent's logger, tagged with the component.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    wit::log(
        match level {
            Level::Trace => wit::Level::Trace,
            Level::Debug => wit::Level::Debug,
            Level::Info => wit::Level::Info,
            Level::Warn => wit::Level::Warn,
            Level::Error => wit::Level::Error,
        },
        message,
    );
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

/// Add `value` to the plugin counter `name`
/// (`foghorn_plugin_counter{component, name}` in the agent's metrics).
pub fn counter_add(name: &str, value: u64) {
    #[cfg(target_arch = "wasm32")]
    wit::counter_add(name, value);
    #[cfg(not(target_arch = "wasm32"))]
    native::COUNTERS.with_borrow_mut(|counters| {
        *counters.entry(name.to_owned()).or_default() += value;
    });
}

/// Outside the agent (a plugin's native tests), counters are kept per
/// thread for [`crate::testing::counters`].
#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod native {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    thread_local! {
        pub(crate) static COUNTERS: RefCell<BTreeMap<String, u64>> =
            const { RefCell::new(BTreeMap::new()) };
    }
}

/// Set the plugin gauge `name` (`foghorn_plugin_gauge{component, name}`).
pub fn gauge_set(name: &str, value: f64) {
    #[cfg(target_arch = "wasm32")]
    wit::gauge_set(name, value);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (name, value);
}

/// The agent's clock, nanoseconds since the Unix epoch.
pub fn now() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        wit::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
    }
}
