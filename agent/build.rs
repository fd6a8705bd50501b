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

    std::fs::write(out.join("sdk_files.rs"), sdk_files(&plugins)).unwrap();
    let workspace = project_workspace(manifest.parent().unwrap(), &plugins);
    std::fs::write(out.join("project_workspace.toml"), workspace).unwrap();
}

/// The `[workspace]` tables of a plugin project made by `foghorn plugin
/// new`: this workspace's package settings and lints, and the versions of
/// the SDK's dependencies (and of serde, which plugins derive with), so the
/// SDK's own manifests build unchanged inside the project.
fn project_workspace(root: &Path, plugins: &Path) -> String {
    let read = |path: PathBuf| -> toml::Table {
        println!("cargo:rerun-if-changed={}", path.display());
        std::fs::read_to_string(&path).unwrap().parse().unwrap()
    };
    let workspace = read(root.join("Cargo.toml"))["workspace"]
        .as_table()
        .unwrap()
        .clone();
    let mut names = vec!["foghorn-plugin".to_owned(), "serde".to_owned()];
    for crate_dir in ["sdk", "model"] {
        let manifest = read(plugins.join(crate_dir).join("Cargo.toml"));
        if let Some(deps) = manifest.get("dependencies").and_then(toml::Value::as_table) {
            names.extend(deps.keys().cloned());
        }
    }
    let all = workspace["dependencies"].as_table().unwrap();
    let mut dependencies = toml::Table::new();
    for name in names {
        let value = match name.as_str() {
            "foghorn-plugin" | "foghorn-model" => {
                let mut path = toml::Table::new();
                path.insert("path".into(), format!("sdk/{name}").into());
                toml::Value::Table(path)
            }
            _ => all[&name].clone(),
        };
        dependencies.insert(name, value);
    }
    let mut project = toml::Table::new();
    project.insert("resolver".into(), "3".into());
    project.insert("package".into(), workspace["package"].clone());
    project.insert("dependencies".into(), dependencies.into());
    project.insert("lints".into(), workspace["lints"].clone());
    let mut document = toml::Table::new();
    document.insert("workspace".into(), project.into());
    toml::to_string(&document).unwrap()
}

/// The Rust SDK, its data model crate and the WIT world, embedded so that
/// `foghorn plugin new` writes them into a project anywhere: (path in the
/// project's `sdk/` folder, text).
fn sdk_files(plugins: &Path) -> String {
    let mut files = Vec::new();
    for (dir, name) in [
        ("sdk", "foghorn-plugin"),
        ("model", "foghorn-model"),
        ("wit", "wit"),
    ] {
        collect(&plugins.join(dir), &plugins.join(dir), name, &mut files);
    }
    files.sort();
    let mut table =
        String::from("/// The plugin SDK's sources, embedded: (path under `sdk/`, text).\n");
    table.push_str("pub static SDK_FILES: &[(&str, &str)] = &[\n");
    for (relative, path) in files {
        writeln!(table, "    ({relative:?}, include_str!({path:?})),").unwrap();
    }
    table.push_str("];\n");
    table
}

fn collect(root: &Path, dir: &Path, name: &str, files: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(root, &path, name, files);
            continue;
        }
        let keep = path
            .extension()
            .is_some_and(|ext| ext == "rs" || ext == "wit" || ext == "toml");
        if keep {
            let relative = path.strip_prefix(root).unwrap().to_str().unwrap();
            files.push((format!("{name}/{relative}"), path.display().to_string()));
        }
    }
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
