//! `foghorn plugin`: write, build and inspect plugins, and list the bundled
//! ones.

mod build;
mod inspect;
mod new;
mod sdk;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use sha2::{Digest, Sha256};

use crate::processors::wasm::BUILTIN_PLUGINS;

pub use new::{Kind, Language};

/// Plugin subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Write a new plugin project that builds and passes its own tests as
    /// generated: a Rust crate on the foghorn SDK, or a Python or JavaScript
    /// project on the WIT world. Everything it needs (the SDK, the WIT) comes
    /// from this binary, so it works anywhere.
    New {
        /// The plugin's name (lowercase letters, digits and `-`); the project
        /// is written to ./NAME unless --dir says otherwise.
        name: String,
        /// What the plugin does: parse raw lines into points, derive new
        /// fields from points, or raise alerts.
        #[arg(long, value_enum)]
        kind: Kind,
        /// The language it is written in.
        #[arg(long, value_enum, default_value_t = Language::Rust)]
        lang: Language,
        /// Where to write the project (must not exist or be empty).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Build the plugin project in DIR into a component: Rust with cargo for
    /// wasm32-wasip2, Python with componentize-py, JavaScript with jco. Prints
    /// the component's path, size and sha256 to pin it with.
    Build {
        /// The project (default: the current directory).
        dir: Option<PathBuf>,
    },
    /// List the plugins built into this binary (`builtin:<name>`), with what
    /// each does, its size and sha256.
    List,
    /// Say what a component file is: the world and version it targets,
    /// whether this agent can run it, its exports and imports, its size and
    /// the sha256 to pin it with. Exits 1 when this agent cannot run it.
    Inspect {
        /// The component (`.wasm`).
        file: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Run a plugin subcommand.
///
/// # Errors
/// What stops the command: a project that cannot be written or built, a
/// file that cannot be read, an engine that cannot start.
pub fn run(command: PluginCommand) -> anyhow::Result<ExitCode> {
    match command {
        PluginCommand::New {
            name,
            kind,
            lang,
            dir,
        } => new::run(&name, kind, lang, dir),
        PluginCommand::Build { dir } => build::run(dir.as_deref()),
        PluginCommand::List => {
            list();
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Inspect { file, json } => inspect::inspect(&file, json),
    }
}

fn list() {
    for (name, description, bytes) in BUILTIN_PLUGINS {
        let digest = hex::encode(Sha256::digest(bytes));
        println!("builtin:{name:<16} {description}");
        println!("{:<24} {} KiB, sha256:{digest}", "", bytes.len() / 1024);
    }
}
