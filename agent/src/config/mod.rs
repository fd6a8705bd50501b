//! The pipeline configuration: the YAML schema, `${VAR}` interpolation, and
//! validation that reports every mistake at once with file, line, column and
//! key path.
//!
//! [`load`] reads a file into a typed [`Config`] (sources, processors and
//! sinks by name, wired by `inputs`) or returns every [`ConfigError`] found,
//! sorted by position. Loading is pure apart from reading the file: the
//! topology builder reads and compiles plugins (checking `sha256` pins on
//! the bytes compiled), opens ports and files, reporting its own failures
//! at the right line through [`Config::source_map`]. The CLI's `validate` command and `run` (including
//! reloads) both go through here, so they accept exactly the same files.
//!
//! # Layout
//!
//! - `schema`: [`Config`]; `batch`: [`BatchConfig`], global and per source.
//! - `sources`, `processors`, `sinks`: one entry of each section, the keys
//!   every component of the kind has (`batch`, `inputs`, `buffer`) around
//!   its `type` and settings. The settings of each type live next to its
//!   code and are named once in the kind's registry (`sources!`,
//!   `processors!`, `sinks!`); this module reads them through it.
//! - `inputs`: [`InputRef`].
//! - `load`: YAML to typed config; `interpolate`: `${VAR}`; `duplicates`:
//!   repeated keys; `plugin_config`: the free-form plugin `config` as JSON.
//! - `validate`: pure range, name and graph checks.
//! - `watch`: [`ConfigWatch`], edits of the config file for reloads.
//! - The vocabulary shared with the components (durations, byte sizes,
//!   [`ConfigError`], [`SourceMap`], range checks) is [`crate::settings`].

mod batch;
mod duplicates;
mod inputs;
mod interpolate;
mod load;
mod plugin_config;
mod processors;
mod schema;
mod sinks;
mod sources;
mod validate;
mod watch;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use batch::{BatchConfig, BatchOverride};
pub use inputs::{InputRef, Output};
pub(crate) use load::parse_document;
pub use processors::ProcessorConfig;
pub use schema::{ApiConfig, Clock, Config};
pub use sinks::SinkConfig;
pub use sources::SourceConfig;
pub use watch::ConfigWatch;

pub use crate::settings::{ByteSize, ConfigError, SourceMap, format_duration, parse_duration};

/// Reads and loads the configuration file at `path`, interpolating `${VAR}`
/// from the process environment.
///
/// # Errors
/// Every mistake found, sorted by line and column; a file that cannot be read
/// is a single error at line 0.
pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        vec![ConfigError::new(
            path,
            (0, 0),
            "",
            format!("cannot read the configuration file: {error}"),
        )]
    })?;
    load_str(path, &text, &|name| std::env::var(name).ok())
}

/// Loads configuration `text` as if read from `file` (used in error messages
/// and to resolve relative plugin paths), taking `${VAR}` values from `env`.
/// Pure: reads no files and no environment except through `env`; only a
/// relative `file` makes it consult the working directory, to turn relative
/// plugin paths into absolute ones.
///
/// # Errors
/// Every mistake found, sorted by line and column.
pub fn load_str(
    file: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Vec<ConfigError>> {
    load::load_str(file, text, env)
}
