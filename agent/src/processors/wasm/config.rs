//! `type: wasm` settings (the default when `plugin:` is set): which
//! WebAssembly plugin runs, the JSON config it is given, and the limits it
//! runs under.
//!
//! `config:` is free-form YAML handed to the plugin's `init` as JSON; the
//! loader converts it from the node tree itself (`config::plugin_config`) so
//! numbers and booleans keep their YAML types. Relative `.wasm` paths are made
//! absolute against the configuration file's directory by the loader.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

use crate::settings::units::{self, ByteSize};
use crate::settings::{Problems, Settings, did_you_mean};

include!(concat!(env!("OUT_DIR"), "/builtin_names.rs"));

/// `type: wasm`: a WebAssembly plugin of the `foghorn:plugin/processor`
/// world turns batches into points, alerts and rejects.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WasmConfig {
    /// `plugin`: `builtin:<name>` for a plugin shipped with the agent, or the
    /// path of a `.wasm` component, relative to the configuration file's
    /// directory. Required.
    pub plugin: PluginRef,
    /// `sha256`: the plugin's expected SHA-256 digest in hex (64 characters);
    /// the agent refuses a plugin whose bytes differ. Default: not pinned.
    #[serde(default)]
    pub sha256: Option<String>,
    /// `config`: any YAML value, handed to the plugin's `init` as JSON. Scalars
    /// are typed as in YAML 1.2 (`80` is a number, `"80"` a string). Default
    /// `{}`.
    #[serde(
        default = "WasmConfig::default_config",
        deserialize_with = "filled_by_loader"
    )]
    pub config: serde_json::Value,
    /// `config_files`: keys of `config` whose value is the text of a file,
    /// e.g. `{ training_csv: ./training.csv }` for a detector that trains on
    /// recorded data. Paths are relative to the configuration file's
    /// directory; each file is read (at most 64 MiB, UTF-8) when the
    /// configuration is loaded or reloaded, and a key set in both places is
    /// an error. Default none.
    #[serde(default)]
    pub config_files: std::collections::BTreeMap<String, PathBuf>,
    /// `errors`: file that receives every rejected input with the reason,
    /// relative to the working directory. Default: rejected input is only
    /// counted and logged.
    #[serde(default)]
    pub errors: Option<PathBuf>,
    /// `limits`: memory, time, state, metric and log bounds for the plugin,
    /// and how it is restarted when it fails; see [`Limits`].
    #[serde(default)]
    pub limits: Limits,
    /// `tick_interval`: how often the plugin's `tick` runs, for time-driven
    /// logic such as heartbeat loss. Default `1s`, from `10ms` to `1h`.
    #[serde(
        default = "WasmConfig::default_tick_interval",
        with = "units::duration"
    )]
    pub tick_interval: Duration,
    /// `snapshot_interval`: how often the plugin's state is snapshotted to
    /// `data_dir`. Default `10s`, from `100ms` to `1d`.
    #[serde(
        default = "WasmConfig::default_snapshot_interval",
        with = "units::duration"
    )]
    pub snapshot_interval: Duration,
}

impl WasmConfig {
    fn default_config() -> serde_json::Value {
        serde_json::Value::Object(serde_json::Map::new())
    }
    const fn default_tick_interval() -> Duration {
        Duration::from_secs(1)
    }
    const fn default_snapshot_interval() -> Duration {
        Duration::from_secs(10)
    }
}

impl Settings for WasmConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        match &self.plugin {
            PluginRef::Builtin(name) if name.is_empty() => {
                problems.push(
                    &format!("{key}.plugin"),
                    "`builtin:` needs a plugin name, e.g. `builtin:kv-parser`",
                );
            }
            PluginRef::Builtin(name) => {
                check_builtin(name, &format!("{key}.plugin"), problems);
            }
            PluginRef::Path(path)
                if path.extension().is_none_or(|extension| extension != "wasm") =>
            {
                problems.push(
                    &format!("{key}.plugin"),
                    format!(
                        "must be `builtin:<name>` or a path to a `.wasm` component, got `{}`",
                        path.display()
                    ),
                );
            }
            PluginRef::Path(_) => {}
        }
        if let Some(sha256) = &self.sha256
            && (sha256.len() != 64 || !sha256.bytes().all(|byte| byte.is_ascii_hexdigit()))
        {
            problems.push(
                &format!("{key}.sha256"),
                "must be 64 hexadecimal characters",
            );
        }
        self.limits.check(&format!("{key}.limits"), problems);
        let tick = (Duration::from_millis(10), Duration::from_hours(1));
        problems.duration_range(
            &format!("{key}.tick_interval"),
            self.tick_interval,
            tick.0,
            tick.1,
        );
        let snapshot = (Duration::from_millis(100), Duration::from_hours(24));
        problems.duration_range(
            &format!("{key}.snapshot_interval"),
            self.snapshot_interval,
            snapshot.0,
            snapshot.1,
        );
    }
}

/// Report `name` at `key` unless it is a plugin the agent was built with,
/// suggesting the closest one. (Reading, pin checking and compiling happen
/// once, where the topology loads plugins, so the bytes checked against a
/// `sha256` pin are the bytes compiled.)
fn check_builtin(name: &str, key: &str, problems: &mut Problems<'_>) {
    if !BUILTIN_NAMES.contains(&name) {
        let hint = did_you_mean(name, BUILTIN_NAMES.iter().copied());
        problems.push(
            key,
            format!(
                "unknown builtin plugin `{name}`; builtins: {}{hint}",
                BUILTIN_NAMES.join(", ")
            ),
        );
    }
}

/// Skips the `config` node during serde deserialization; the loader fills the
/// field from the node tree, where it can see YAML scalar types.
fn filled_by_loader<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<serde_json::Value, D::Error> {
    IgnoredAny::deserialize(deserializer)?;
    Ok(WasmConfig::default_config())
}

/// Where a processor's WebAssembly component comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PluginRef {
    /// `builtin:<name>`: a plugin compiled into the agent.
    Builtin(String),
    /// A `.wasm` component on disk; absolute once loaded.
    Path(PathBuf),
}

impl PluginRef {
    /// The prefix that selects a built-in plugin.
    pub const BUILTIN_PREFIX: &'static str = "builtin:";
}

impl From<&str> for PluginRef {
    fn from(text: &str) -> Self {
        match text.strip_prefix(Self::BUILTIN_PREFIX) {
            Some(name) => Self::Builtin(name.to_owned()),
            None => Self::Path(PathBuf::from(text)),
        }
    }
}

impl fmt::Display for PluginRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Builtin(name) => write!(f, "{}{name}", Self::BUILTIN_PREFIX),
            Self::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

impl<'de> Deserialize<'de> for PluginRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PluginVisitor;
        impl Visitor<'_> for PluginVisitor {
            type Value = PluginRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`builtin:<name>` or a path to a .wasm component")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<PluginRef, E> {
                Ok(PluginRef::from(text))
            }
        }
        deserializer.deserialize_str(PluginVisitor)
    }
}

/// Bounds on one plugin instance; exceeding one fails the call (its input is
/// dead-lettered with the reason) and the plugin is restarted, except for
/// the metric-name and log bounds, which drop what is over and count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// `memory`: the most memory the plugin may grow to, all its linear
    /// memories and tables together. Default `64MiB`, from `1MiB` to `4GiB`.
    pub memory: ByteSize,
    /// `time_per_call`: the longest one call into the plugin may run
    /// (`init`, `process`, `tick`, `snapshot`, `restore`). Default `1s`,
    /// from `1ms` to `10m`.
    #[serde(with = "units::duration")]
    pub time_per_call: Duration,
    /// `snapshot`: the largest state `snapshot` may return. Default `16MiB`,
    /// from `1KiB` to `1GiB`.
    pub snapshot: ByteSize,
    /// `metric_names`: how many distinct counter and gauge names the plugin
    /// may create; values for names past the limit are dropped and counted
    /// in `foghorn_plugin_limited_total{limit="metric_names"}`. Default
    /// `100`, from `1` to `10000`.
    pub metric_names: usize,
    /// `logs_per_second`: how many log lines the plugin may write per second
    /// (bursts of as many); lines over the rate are counted in
    /// `foghorn_plugin_limited_total{limit="log_rate"}`, not printed. Longer
    /// lines than 4 KiB are cut. Default `10`, from `1` to `10000`.
    pub logs_per_second: u32,
    /// `restart`: how a plugin that keeps failing is restarted.
    pub restart: RestartPolicy,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory: ByteSize::mib(64),
            time_per_call: Duration::from_secs(1),
            snapshot: ByteSize::mib(16),
            metric_names: 100,
            logs_per_second: 10,
            restart: RestartPolicy::default(),
        }
    }
}

impl Limits {
    /// Reports values under the key path `key` that are out of range.
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        problems.range(
            &format!("{key}.memory"),
            self.memory,
            ByteSize::mib(1),
            ByteSize::gib(4),
        );
        let time = (Duration::from_millis(1), Duration::from_mins(10));
        problems.duration_range(
            &format!("{key}.time_per_call"),
            self.time_per_call,
            time.0,
            time.1,
        );
        problems.range(
            &format!("{key}.snapshot"),
            self.snapshot,
            ByteSize::kib(1),
            ByteSize::gib(1),
        );
        problems.range(&format!("{key}.metric_names"), self.metric_names, 1, 10_000);
        problems.range(
            &format!("{key}.logs_per_second"),
            self.logs_per_second,
            1,
            10_000,
        );
        self.restart.check(&format!("{key}.restart"), problems);
    }
}

/// How a failing plugin is restarted: after each failure the next restart
/// waits twice as long as the one before (from `backoff` up to
/// `max_backoff`); input that arrives while the plugin is down goes to the
/// dead letter. A plugin that failed `max_failures` times within `window` is
/// marked failed in `/health` and `foghorn_component_up` until a call
/// succeeds again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestartPolicy {
    /// `backoff`: the wait before the second restart in a row (the first is
    /// immediate). Default `100ms`, from `1ms` to `1m`.
    #[serde(with = "units::duration")]
    pub backoff: Duration,
    /// `max_backoff`: the longest wait. Default `30s`, from `backoff` to `1h`.
    #[serde(with = "units::duration")]
    pub max_backoff: Duration,
    /// `max_failures`: failures within `window` that mark the plugin failed.
    /// Default `5`, from `1` to `1000`.
    pub max_failures: u32,
    /// `window`: how far back failures count. Default `1m`, from `1s` to
    /// `1d`.
    #[serde(with = "units::duration")]
    pub window: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
            max_failures: 5,
            window: Duration::from_mins(1),
        }
    }
}

impl RestartPolicy {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        problems.duration_range(
            &format!("{key}.backoff"),
            self.backoff,
            Duration::from_millis(1),
            Duration::from_mins(1),
        );
        problems.duration_range(
            &format!("{key}.max_backoff"),
            self.max_backoff,
            self.backoff,
            Duration::from_hours(1),
        );
        problems.range(&format!("{key}.max_failures"), self.max_failures, 1, 1000);
        problems.duration_range(
            &format!("{key}.window"),
            self.window,
            Duration::from_secs(1),
            Duration::from_hours(24),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_refs_round_trip() {
        assert_eq!(
            PluginRef::from("builtin:kv-parser"),
            PluginRef::Builtin("kv-parser".into())
        );
        assert_eq!(
            PluginRef::from("./d.wasm"),
            PluginRef::Path("./d.wasm".into())
        );
        assert_eq!(
            PluginRef::from("builtin:zscore").to_string(),
            "builtin:zscore"
        );
    }
}
