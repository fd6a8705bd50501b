//! Processor configuration: which WebAssembly plugin runs, what it reads, the
//! JSON config it is given, and the limits it runs under.
//!
//! `config:` is free-form YAML handed to the plugin's `init` as JSON; the
//! loader converts it from the node tree itself ([`super::plugin_config`]) so
//! numbers and booleans keep their YAML types. Relative `.wasm` paths are made
//! absolute against the configuration file's directory by the loader.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

use super::inputs::InputRef;
use super::schema::BatchOverride;
use super::units::{self, ByteSize};
use super::validate::Problems;

/// One entry of `processors`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessorConfig {
    /// `inputs`: the sources and processors this one reads (`name`,
    /// `name.points`, `name.alerts`). Required, not empty.
    pub inputs: Vec<InputRef>,
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
        default = "ProcessorConfig::default_config",
        deserialize_with = "filled_by_loader"
    )]
    pub config: serde_json::Value,
    /// `errors`: file that receives every rejected input with the reason,
    /// relative to the working directory. Default: rejected input is only
    /// counted and logged.
    #[serde(default)]
    pub errors: Option<PathBuf>,
    /// `limits`: memory and time bounds for the plugin. Defaults `memory:
    /// 64MiB`, `time_per_batch: 1s`.
    #[serde(default)]
    pub limits: Limits,
    /// `tick_interval`: how often the plugin's `tick` runs, for time-driven
    /// logic such as heartbeat loss. Default `1s`, from `10ms` to `1h`.
    #[serde(
        default = "ProcessorConfig::default_tick_interval",
        with = "units::duration"
    )]
    pub tick_interval: Duration,
    /// `snapshot_interval`: how often the plugin's state is snapshotted to
    /// `data_dir`. Default `10s`, from `100ms` to `1d`.
    #[serde(
        default = "ProcessorConfig::default_snapshot_interval",
        with = "units::duration"
    )]
    pub snapshot_interval: Duration,
    /// `batch`: this processor's own batching; keys left out come from the
    /// global `batch`. Default: none (use the global batching).
    #[serde(default)]
    pub batch: Option<BatchOverride>,
}

impl ProcessorConfig {
    fn default_config() -> serde_json::Value {
        serde_json::Value::Object(serde_json::Map::new())
    }
    const fn default_tick_interval() -> Duration {
        Duration::from_secs(1)
    }
    const fn default_snapshot_interval() -> Duration {
        Duration::from_secs(10)
    }

    /// Reports values under the key path `key` that are out of range.
    pub(crate) fn check(&self, key: &str, problems: &mut Problems<'_>) {
        match &self.plugin {
            PluginRef::Builtin(name) if name.is_empty() => {
                problems.push(
                    &format!("{key}.plugin"),
                    "`builtin:` needs a plugin name, e.g. `builtin:kv-parser`",
                );
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
            PluginRef::Builtin(_) | PluginRef::Path(_) => {}
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
        if let Some(batch) = &self.batch {
            batch.check(&format!("{key}.batch"), problems);
        }
    }
}

/// Skips the `config` node during serde deserialization; the loader fills the
/// field from the node tree, where it can see YAML scalar types.
fn filled_by_loader<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<serde_json::Value, D::Error> {
    IgnoredAny::deserialize(deserializer)?;
    Ok(ProcessorConfig::default_config())
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

/// Bounds on one plugin instance; exceeding one fails the batch (its records
/// are dead-lettered with the reason) and the plugin is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// `memory`: the most linear memory the plugin may grow to. Default
    /// `64MiB`, from `1MiB` to `4GiB`.
    pub memory: ByteSize,
    /// `time_per_batch`: the longest one `process` or `tick` call may run.
    /// Default `1s`, from `1ms` to `10m`.
    #[serde(with = "units::duration")]
    pub time_per_batch: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory: ByteSize::mib(64),
            time_per_batch: Duration::from_secs(1),
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
            &format!("{key}.time_per_batch"),
            self.time_per_batch,
            time.0,
            time.1,
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
