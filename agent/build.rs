//! Builds the bundled plugins from source and embeds them in the binary as
//! `builtin:<name>`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Bundled plugins: (name after `builtin:`, workspace package).
const BUNDLED: &[(&str, &str)] = &[
    ("kv-parser", "kv-parser"),
    ("threshold", "threshold"),
    ("rate-of-change", "rate-of-change"),
    ("heartbeat", "heartbeat"),
    ("zscore", "zscore"),
    ("lag", "lag"),
    ("diff", "diff"),
    ("rolling", "rolling"),
    ("ewma", "ewma"),
    ("scale", "scale"),
    ("resample", "resample"),
    ("csv", "csv-parser"),
    ("json", "json-parser"),
    ("regex", "regex-parser"),
    ("logfmt", "logfmt-parser"),
    ("isolation-forest", "isolation-forest"),
    ("conformal", "conformal"),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let plugins = manifest.parent().unwrap().join("plugins");
    let packages: Vec<&str> = BUNDLED.iter().map(|(_, package)| *package).collect();
    let sources: Vec<PathBuf> = ["wit", "sdk", "model"]
        .iter()
        .chain(packages.iter())
        .map(|dir| plugins.join(dir))
        .collect();
    let sources: Vec<&Path> = sources.iter().map(PathBuf::as_path).collect();
    let built = foghorn_plugin_build::build(&packages, &sources);

    let mut table = String::from(
        "/// Plugins embedded in the binary: (name, one-line description, component bytes).\n",
    );
    table.push_str("pub static BUILTIN_PLUGINS: &[(&str, &str, &[u8])] = &[\n");
    for ((name, package), path) in BUNDLED.iter().zip(&built) {
        let description = description(&plugins.join(package).join("Cargo.toml"));
        writeln!(
            table,
            "    ({name:?}, {description:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out.join("builtin_plugins.rs"), table).unwrap();

    // The names alone, for the config checks (which know no bytes).
    let mut names = String::from("/// The names of the plugins embedded in the binary.\n");
    names.push_str("pub const BUILTIN_NAMES: &[&str] = &[\n");
    for (name, _) in BUNDLED {
        writeln!(names, "    {name:?},").unwrap();
    }
    names.push_str("];\n");
    std::fs::write(out.join("builtin_names.rs"), names).unwrap();
}

/// A plugin's one-line description: its package's `description`, without the
/// `foghorn plugin: ` every one starts with.
fn description(manifest: &Path) -> String {
    let text = std::fs::read_to_string(manifest).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    let description = manifest["package"]
        .get("description")
        .and_then(toml::Value::as_str)
        .unwrap_or_default();
    description
        .strip_prefix("foghorn plugin: ")
        .unwrap_or(description)
        .to_owned()
}
