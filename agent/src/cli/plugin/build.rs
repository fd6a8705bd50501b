//! `foghorn plugin build`: a plugin project into a component, with the
//! size and digest to pin it by.
//!
//! The language is told by the project's manifest: `Cargo.toml` (cargo,
//! `wasm32-wasip2`), `pyproject.toml` (componentize-py) or `package.json`
//! (`npm run build`, componentize-js). The component always lands in
//! `dist/<name>.wasm`, where the project's `pipeline.yaml` looks for it.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};

use super::inspect;

/// The target Rust plugins are compiled for.
const RUST_TARGET: &str = "wasm32-wasip2";

/// Build the project in `dir` (default: the working directory).
///
/// # Errors
/// A directory that is no plugin project, a builder that is missing or
/// fails, a component this agent cannot run.
pub(super) fn run(dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let dir = std::path::absolute(dir.unwrap_or(Path::new(".")))?;
    let (name, component) = if dir.join("Cargo.toml").is_file() {
        rust(&dir)?
    } else if dir.join("pyproject.toml").is_file() {
        python(&dir)?
    } else if dir.join("package.json").is_file() {
        javascript(&dir)?
    } else {
        bail!(
            "{} has no Cargo.toml, pyproject.toml or package.json: not a plugin project (make one with `foghorn plugin new`)",
            dir.display()
        );
    };
    let found = inspect::examine(&component)?;
    let shown = component.strip_prefix(&dir).unwrap_or(&component);
    println!("built {name}: {}", shown.display());
    println!("  size    {} KiB ({} bytes)", found.size / 1024, found.size);
    println!("  sha256  {}", found.sha256);
    if let Some(problem) = &found.problem {
        eprintln!("error: {}: {problem}", component.display());
        return Ok(ExitCode::FAILURE);
    }
    println!("  pin it: plugin: ./{}", shown.display());
    println!("          sha256: {}", found.sha256);
    Ok(ExitCode::SUCCESS)
}

/// Run `command`, failing with what it is when it cannot start or fails.
fn status(command: &mut Command, what: &str, install: &str) -> anyhow::Result<()> {
    let status = command
        .status()
        .map_err(|error| anyhow::anyhow!("cannot run {what}: {error} (install it: {install})"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

fn read_toml(path: &Path) -> anyhow::Result<toml::Table> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.parse()
        .with_context(|| format!("{} is not valid TOML", path.display()))
}

/// `table.key.key…` as text.
fn toml_str<'t>(table: &'t toml::Table, keys: &[&str]) -> Option<&'t str> {
    let (last, path) = keys.split_last()?;
    let mut table = table;
    for key in path {
        table = table.get(*key)?.as_table()?;
    }
    table.get(*last)?.as_str()
}

/// Where the component goes: `dir/dist/<name>.wasm`.
fn dist(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let dist = dir.join("dist");
    std::fs::create_dir_all(&dist).with_context(|| format!("cannot create {}", dist.display()))?;
    Ok(dist.join(format!("{name}.wasm")))
}

fn rust(dir: &Path) -> anyhow::Result<(String, PathBuf)> {
    let manifest = dir.join("Cargo.toml");
    let name = toml_str(&read_toml(&manifest)?, &["package", "name"])
        .context("Cargo.toml has no package.name")?
        .to_owned();
    ensure_rust_target(dir)?;
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(dir)
        .args(["build", "--release", "--target", RUST_TARGET])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped());
    let mut child = cargo
        .spawn()
        .context("cannot run cargo (install Rust with rustup: https://rustup.rs)")?;
    // cargo names what it built on stdout, one JSON message per line; the
    // compiler's diagnostics and progress go to stderr, to the user.
    let mut built = None;
    let stdout = child.stdout.take().context("cargo's stdout")?;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line?;
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let ours = message["reason"] == "compiler-artifact"
            && message["target"]["name"] == name.replace('-', "_")
            && message["target"]["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
        if ours && let Some(files) = message["filenames"].as_array() {
            built = files
                .iter()
                .filter_map(serde_json::Value::as_str)
                .find(|file| file.ends_with(".wasm"))
                .map(PathBuf::from);
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("cargo build failed ({status})");
    }
    let built = built
        .context("cargo built no .wasm for the package: is its [lib] crate-type [\"cdylib\"]?")?;
    let component = dist(dir, &name)?;
    std::fs::copy(&built, &component)
        .with_context(|| format!("cannot copy {} to {}", built.display(), component.display()))?;
    Ok((name, component))
}

/// rustup installs the targets a `rust-toolchain.toml` names only when it
/// installs the toolchain itself; on a machine whose toolchain is already
/// there, add the target once.
fn ensure_rust_target(dir: &Path) -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .current_dir(dir)
        .args(["target", "list", "--installed"])
        .output();
    let Ok(installed) = installed else {
        // No rustup: cargo says what is missing, if anything.
        return Ok(());
    };
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|line| line.trim() == RUST_TARGET)
    {
        return Ok(());
    }
    eprintln!("installing the {RUST_TARGET} target (rustup target add {RUST_TARGET})");
    status(
        Command::new("rustup")
            .current_dir(dir)
            .args(["target", "add", RUST_TARGET]),
        "rustup target add",
        "https://rustup.rs",
    )
}

fn python(dir: &Path) -> anyhow::Result<(String, PathBuf)> {
    let project = read_toml(&dir.join("pyproject.toml"))?;
    let name = toml_str(&project, &["project", "name"])
        .context("pyproject.toml has no project.name")?
        .to_owned();
    let world = toml_str(&project, &["tool", "foghorn", "world"]).unwrap_or("processor");
    let module = toml_str(&project, &["tool", "foghorn", "module"]).unwrap_or("app");
    let component = dist(dir, &name)?;
    status(
        Command::new("componentize-py")
            .current_dir(dir)
            .args(["-d", "wit", "-w", world, "componentize", module, "-o"])
            .arg(&component),
        "componentize-py",
        "pip install componentize-py",
    )?;
    Ok((name, component))
}

fn javascript(dir: &Path) -> anyhow::Result<(String, PathBuf)> {
    let text = std::fs::read_to_string(dir.join("package.json"))?;
    let package: serde_json::Value =
        serde_json::from_str(&text).context("package.json is not valid JSON")?;
    let name = package["name"]
        .as_str()
        .context("package.json has no name")?
        .to_owned();
    if !dir.join("node_modules").is_dir() {
        status(
            Command::new("npm")
                .current_dir(dir)
                .args(["install", "--no-audit", "--no-fund"]),
            "npm install",
            "Node.js and npm, https://nodejs.org",
        )?;
    }
    status(
        Command::new("npm")
            .current_dir(dir)
            .args(["run", "--silent", "build"]),
        "npm run build",
        "Node.js and npm, https://nodejs.org",
    )?;
    let component = dir.join("dist").join(format!("{name}.wasm"));
    if !component.is_file() {
        bail!("`npm run build` wrote no {}", component.display());
    }
    Ok((name, component))
}
