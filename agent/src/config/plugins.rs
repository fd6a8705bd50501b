//! The I/O half of plugin validation: every `plugin` can be found and its
//! bytes match the `sha256` pin.
//!
//! Kept apart from [`super::validate`] because it reads files; the agent runs
//! it after loading and before compiling any component, with the table of
//! built-in plugins it was compiled with.

use sha2::{Digest, Sha256};

use super::error::{ConfigError, did_you_mean, sort};
use super::processors::PluginRef;
use super::schema::Config;

/// Checks every processor's plugin: a `builtin:` name exists in `builtins`
/// (name and component bytes), a path can be read, and the bytes hash to the
/// `sha256` pin when one is given (built-ins included). Errors are located at
/// the `plugin` or `sha256` key and sorted by position.
#[must_use]
pub fn check_plugins(config: &Config, builtins: &[(&str, &[u8])]) -> Vec<ConfigError> {
    let map = &config.source_map;
    let mut errors = Vec::new();
    for (name, processor) in &config.processors {
        let owned;
        let bytes: &[u8] = match &processor.plugin {
            PluginRef::Builtin(builtin) => {
                if let Some((_, bytes)) = builtins.iter().find(|(known, _)| known == builtin) {
                    bytes
                } else {
                    let names: Vec<&str> = builtins.iter().map(|(known, _)| *known).collect();
                    let hint = did_you_mean(builtin, names.iter().copied());
                    let message = format!(
                        "unknown builtin plugin `{builtin}`; builtins: {}{hint}",
                        names.join(", ")
                    );
                    errors.push(map.error(&["processors", name, "plugin"], message));
                    continue;
                }
            }
            PluginRef::Path(path) => match std::fs::read(path) {
                Ok(bytes) => {
                    owned = bytes;
                    &owned
                }
                Err(error) => {
                    let message = format!("cannot read plugin `{}`: {error}", path.display());
                    errors.push(map.error(&["processors", name, "plugin"], message));
                    continue;
                }
            },
        };
        if let Some(pinned) = &processor.sha256 {
            let actual = hex::encode(Sha256::digest(bytes));
            if !pinned.eq_ignore_ascii_case(&actual) {
                let message = format!("sha256 mismatch: pinned {pinned}, file has {actual}");
                errors.push(map.error(&["processors", name, "sha256"], message));
            }
        }
    }
    sort(&mut errors);
    errors
}
