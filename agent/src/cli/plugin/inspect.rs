//! `foghorn plugin inspect`: what a component file is, and whether this agent
//! runs it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use crate::processors::wasm::PluginEngine;

/// The WIT package this agent serves, and its version.
pub(super) const PACKAGE: &str = "foghorn:plugin";
pub(super) const VERSION: &str = "0.1.0";

/// What `inspect` found.
#[derive(Debug, serde::Serialize)]
pub(super) struct Inspection {
    pub file: String,
    pub size: usize,
    pub sha256: String,
    /// `foghorn:plugin@<version>`, from the component's imports, if any.
    package: Option<String>,
    /// Whether this agent links and can run it.
    compatible: bool,
    /// Why not, when it is not.
    pub problem: Option<String>,
    exports: Vec<String>,
    imports: Vec<String>,
}

/// Inspect the component at `path` and print what it is.
///
/// # Errors
/// A file that cannot be read, or an engine that cannot start.
pub(super) fn inspect(path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let found = examine(path)?;
    if json {
        println!("{}", serde_json::to_string(&found)?);
    } else {
        print_text(&found);
    }
    if let Some(problem) = &found.problem {
        eprintln!("error: {}: {problem}", path.display());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// What the component at `path` is.
///
/// # Errors
/// A file that cannot be read, or an engine that cannot start.
pub(super) fn examine(path: &Path) -> anyhow::Result<Inspection> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // Compiled into FOGHORN_CACHE_DIR when set, so the agent that loads the
    // plugin next does not compile it again.
    let cache = std::env::var_os("FOGHORN_CACHE_DIR").map(std::path::PathBuf::from);
    let engine =
        PluginEngine::new(cache.as_deref()).context("cannot start the WebAssembly engine")?;
    let mut found = Inspection {
        file: path.display().to_string(),
        size: bytes.len(),
        sha256: hex::encode(Sha256::digest(&bytes)),
        package: None,
        compatible: false,
        problem: None,
        exports: Vec::new(),
        imports: Vec::new(),
    };
    match Component::new(engine.engine(), &bytes) {
        Err(error) => found.problem = Some(not_a_component(&bytes, &error)),
        Ok(component) => {
            let ty = component.component_type();
            found.exports = ty
                .exports(engine.engine())
                .map(|(name, item)| describe(name, &item.ty))
                .collect();
            found.imports = ty
                .imports(engine.engine())
                .map(|(name, item)| describe(name, &item.ty))
                .collect();
            found.package = ty
                .imports(engine.engine())
                .find_map(|(name, _)| package_of(name));
            found.problem = match (&found.package, engine.load(&bytes)) {
                (Some(package), _) if *package != format!("{PACKAGE}@{VERSION}") => Some(format!(
                    "built for {package}; this agent serves {PACKAGE}@{VERSION}: rebuild it against this agent's SDK"
                )),
                (_, Err(error)) => Some(error.to_string()),
                (_, Ok(_)) => None,
            };
            found.compatible = found.problem.is_none();
        }
    }
    Ok(found)
}

fn print_text(found: &Inspection) {
    println!("file     {}", found.file);
    println!("size     {} KiB ({} bytes)", found.size / 1024, found.size);
    println!("sha256   {}", found.sha256);
    let world = found.package.as_deref().map_or_else(
        || "no foghorn:plugin import".to_owned(),
        |package| format!("{}/processor@{}", PACKAGE, version_of(package)),
    );
    let verdict = if found.compatible {
        "runs on this agent"
    } else {
        "does not run on this agent"
    };
    println!("world    {world} ({verdict}; this agent serves {PACKAGE}@{VERSION})");
    println!("exports  {}", found.exports.join(", "));
    for (i, import) in found.imports.iter().enumerate() {
        println!("{}{import}", if i == 0 { "imports  " } else { "         " });
    }
    if found.compatible {
        println!(
            "pin      plugin: {}\n         sha256: {}",
            found.file, found.sha256
        );
    }
}

/// `name` with what kind of item it is.
fn describe(name: &str, item: &ComponentItem) -> String {
    let kind = match item {
        ComponentItem::ComponentFunc(_) | ComponentItem::CoreFunc(_) => "func",
        ComponentItem::Module(_) => "module",
        ComponentItem::Component(_) => "component",
        ComponentItem::ComponentInstance(_) => "instance",
        ComponentItem::Type(_) | ComponentItem::Resource(_) => "type",
    };
    format!("{name} ({kind})")
}

/// `foghorn:plugin@1.2.3` from an import named `foghorn:plugin/host@1.2.3`.
fn package_of(import: &str) -> Option<String> {
    let rest = import.strip_prefix(PACKAGE)?.strip_prefix('/')?;
    let version = rest.split_once('@').map_or("", |(_, version)| version);
    Some(format!("{PACKAGE}@{version}"))
}

fn version_of(package: &str) -> &str {
    package.split_once('@').map_or("", |(_, version)| version)
}

/// Why bytes wasmtime refused are not a plugin, in the author's terms.
fn not_a_component(bytes: &[u8], error: &wasmtime::Error) -> String {
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => "a core WebAssembly module, not a component: build it for wasm32-wasip2 (`foghorn plugin build`), or wrap it with `wasm-tools component new`".to_owned(),
        Some([0, b'a', b's', b'm', ..]) => format!("not a valid WebAssembly component: {error:#}"),
        _ => "not WebAssembly (no \\0asm header)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_comes_from_the_import_name() {
        assert_eq!(
            package_of("foghorn:plugin/host@0.1.0").as_deref(),
            Some("foghorn:plugin@0.1.0")
        );
        assert_eq!(
            package_of("foghorn:plugin/types@0.2.0").as_deref(),
            Some("foghorn:plugin@0.2.0")
        );
        assert_eq!(package_of("foghorn:plugins/host@0.1.0"), None);
        assert_eq!(package_of("wasi:cli/environment@0.2.0"), None);
    }
}
