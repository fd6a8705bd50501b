//! Plugin references that can be checked without reading a file: every
//! `builtin:` name is one the agent was compiled with.
//!
//! Reading, pin checking and compiling happen once, where the topology loads
//! plugins (`topology::builder`), so the bytes checked against a `sha256`
//! pin are the bytes compiled.

use super::error::{ConfigError, did_you_mean, sort};
use super::processors::PluginRef;
use super::schema::Config;

/// Checks that every `builtin:` plugin is in `builtins` (name and component
/// bytes), suggesting the closest name. Errors are located at the `plugin`
/// key and sorted by position.
#[must_use]
pub fn check_plugins(config: &Config, builtins: &[(&str, &[u8])]) -> Vec<ConfigError> {
    let map = &config.source_map;
    let mut errors = Vec::new();
    for (name, processor) in &config.processors {
        let PluginRef::Builtin(builtin) = &processor.plugin else {
            continue;
        };
        if !builtins.iter().any(|(known, _)| known == builtin) {
            let names: Vec<&str> = builtins.iter().map(|(known, _)| *known).collect();
            let hint = did_you_mean(builtin, names.iter().copied());
            let message = format!(
                "unknown builtin plugin `{builtin}`; builtins: {}{hint}",
                names.join(", ")
            );
            errors.push(map.error(&["processors", name, "plugin"], message));
        }
    }
    sort(&mut errors);
    errors
}
