//! Plugin references checked without reading a file: every `builtin:` name
//! is one the agent was built with.
//!
//! Reading, pin checking and compiling happen once, where the topology loads
//! plugins (`topology::builder`), so the bytes checked against a `sha256`
//! pin are the bytes compiled.

use super::error::did_you_mean;
use super::problems::Problems;

include!(concat!(env!("OUT_DIR"), "/builtin_names.rs"));

/// Report `name` at `key` unless it is a bundled plugin, suggesting the
/// closest one.
pub(crate) fn check_builtin(name: &str, key: &str, problems: &mut Problems<'_>) {
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
