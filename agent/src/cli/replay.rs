//! `foghorn replay`: recorded files through a pipeline, in the time they
//! were recorded, as fast as the pipeline goes.
//!
//! The pipeline is the user's, changed in four ways: one source is replaced
//! by a `replay` source of the files, the clock is the data's (`clock:
//! event`), state lives in a fresh directory (a replay neither resumes from
//! nor disturbs a live agent's snapshots and checkpoints), and, unless asked,
//! only sinks that write files are kept: a replay must not page anyone or
//! push old data into live systems. Processors left with no consumer are
//! dropped with them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};

use crate::config::{Clock, Config, SourceConfig};
use crate::sources::{ReplayConfig, ReplayTimestamps, SourceKind};

/// Sink types that reach people or other systems, left out of a replay
/// unless `--all-sinks`.
const REACHING_SINKS: &[&str] = &[
    "webhook",
    "slack",
    "email",
    "alertmanager",
    "prometheus",
    "otlp",
    "kafka",
];

/// What to replay, as the command line says.
#[derive(Debug)]
pub struct Replay {
    /// The pipeline file.
    pub config: PathBuf,
    /// The recorded files.
    pub files: Vec<PathBuf>,
    /// The source they replace.
    pub source: Option<String>,
    /// Where state goes; default a temporary directory.
    pub data_dir: Option<PathBuf>,
    /// Keep every sink.
    pub all_sinks: bool,
}

/// Run the replay.
///
/// # Errors
/// A file that does not exist, a source that cannot be chosen, a runtime
/// that cannot start.
pub fn run(replay: &Replay) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    for file in &replay.files {
        if !file.is_file() {
            bail!("cannot replay {}: no such file", file.display());
        }
    }
    let mut config = match crate::config::load(&replay.config) {
        Ok(config) => config,
        Err(errors) => {
            super::print_errors(&errors);
            return Ok(ExitCode::FAILURE);
        }
    };
    let cache = super::cache_dir(&config);
    let replaced = replace_source(&mut config, replay.source.as_deref(), &replay.files)?;
    let left_out = if replay.all_sinks {
        Vec::new()
    } else {
        keep_file_sinks(&mut config)
    };
    let scratch = match &replay.data_dir {
        Some(dir) => {
            config.data_dir.clone_from(dir);
            None
        }
        None => {
            let dir = tempfile::Builder::new()
                .prefix("foghorn-replay-")
                .tempdir()
                .context("cannot create a temporary data_dir")?;
            config.data_dir = dir.path().to_path_buf();
            Some(dir)
        }
    };
    config.clock = Clock::Event;
    config.api = None;
    let files: Vec<String> = replay
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    eprintln!(
        "replaying {} through {} (in place of source `{replaced}`, clock: event)",
        files.join(", "),
        replay.config.display()
    );
    if !left_out.is_empty() {
        eprintln!(
            "  left out (use --all-sinks to keep them): {}",
            left_out.join(", ")
        );
    }
    let label = format!("{} (replay)", replay.config.display());
    let status = super::run_pipeline(config, &cache, None, &label, None, started)?;
    eprintln!(
        "replay finished in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    drop(scratch);
    Ok(status)
}

/// Put a replay of `files` in place of `chosen` (or of the only source),
/// keeping its name and batching so everything reading it still does.
fn replace_source(
    config: &mut Config,
    chosen: Option<&str>,
    files: &[PathBuf],
) -> anyhow::Result<String> {
    let names: Vec<&String> = config.sources.keys().collect();
    let name = match (chosen, names.as_slice()) {
        (Some(name), _) if config.sources.contains_key(name) => name.to_owned(),
        (Some(name), _) => bail!(
            "the pipeline has no source `{name}`; its sources: {}",
            list(&names)
        ),
        (None, [only]) => (*only).clone(),
        (None, []) => bail!("the pipeline has no source to replace"),
        (None, _) => bail!(
            "the pipeline has several sources ({}): say which one the files replace with --source",
            list(&names)
        ),
    };
    let source = config.sources.get_mut(&name).context("the chosen source")?;
    let max_line_length = match &source.kind {
        SourceKind::File(file) => file.max_line_length,
        SourceKind::Stdin(stdin) => stdin.max_line_length,
        _ => 65_536,
    };
    *source = SourceConfig {
        batch: source.batch,
        after: Vec::new(),
        kind: SourceKind::Replay(ReplayConfig {
            paths: files.iter().map(|f| absolute(f)).collect(),
            timestamps: ReplayTimestamps::Auto,
            max_line_length,
        }),
    };
    // The other sources are not replayed: they stay out, and so does every
    // `after` that waited for them.
    config.sources.retain(|source, _| *source == name);
    Ok(name)
}

fn list(names: &[&String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Drop the sinks that reach people or other systems, then every processor
/// whose outputs nothing reads any more; what was dropped, as `name (type)`.
fn keep_file_sinks(config: &mut Config) -> Vec<String> {
    let mut dropped = Vec::new();
    config.sinks.retain(|name, sink| {
        let kind = sink.kind.type_name();
        let keep = !REACHING_SINKS.contains(&kind);
        if !keep {
            dropped.push(format!("{name} ({kind})"));
        }
        keep
    });
    loop {
        let read: std::collections::HashSet<String> = config
            .sinks
            .values()
            .flat_map(|sink| sink.inputs.iter())
            .chain(config.processors.values().flat_map(|p| p.inputs.iter()))
            .map(|input| input.component.clone())
            .collect();
        let unread: Vec<String> = config
            .processors
            .keys()
            .filter(|name| !read.contains(*name))
            .cloned()
            .collect();
        if unread.is_empty() {
            break;
        }
        for name in unread {
            let kind = config.processors[&name].kind.type_name();
            dropped.push(format!("{name} ({kind})"));
            config.processors.remove(&name);
        }
    }
    dropped
}
