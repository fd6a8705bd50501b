//! `foghorn test`: unit tests for pipelines, as `vector test` runs them.
//!
//! Each case of a test file gives one plugin processor of the pipeline (or a
//! chain of them) an input of lines or points and compares what comes out
//! (points, alerts, rejected items) with what it expects; a failure prints a
//! diff. The plugins run as in the agent, with their config, limits and pin,
//! each case on fresh instances. Exit code 0 when every case passes, 1
//! otherwise.

mod cases;
mod check;
mod run;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::processors::wasm::PluginEngine;

/// Run the cases of `tests` against the pipeline `config`.
///
/// # Errors
/// The runtime or the WebAssembly engine cannot start.
pub fn run(config: &Path, tests: &Path) -> anyhow::Result<ExitCode> {
    let pipeline = match crate::config::load(config) {
        Ok(pipeline) => pipeline,
        Err(errors) => {
            super::print_errors(&errors);
            return Ok(ExitCode::FAILURE);
        }
    };
    let text = std::fs::read_to_string(tests)
        .with_context(|| format!("cannot read {}", tests.display()))?;
    let file: cases::TestFile = match crate::config::parse_document(tests, &text) {
        Ok(file) => file,
        Err(error) => {
            super::print_errors(&[error]);
            return Ok(ExitCode::FAILURE);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let engine = PluginEngine::new(Some(&super::cache_dir(&pipeline)))
        .context("cannot start the WebAssembly engine")?;
    let (mut passed, mut failed) = (0, 0);
    for case in &file.tests {
        let mut names = vec![case.component.clone()];
        names.extend(case.then.iter().cloned());
        let stages = runtime.block_on(crate::topology::instantiate(&pipeline, &names, &engine));
        let outcome = match stages {
            Err(errors) => Err(errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n  ")),
            Ok(mut stages) => {
                run::run(case, &mut stages).map(|produced| check::compare(case, &produced))
            }
        };
        match outcome {
            Ok(diff) if diff.is_empty() => {
                passed += 1;
                println!("ok    {}", case.name);
            }
            Ok(diff) => {
                failed += 1;
                println!("FAIL  {}", case.name);
                for line in diff {
                    println!("{line}");
                }
            }
            Err(error) => {
                failed += 1;
                println!("FAIL  {}", case.name);
                println!("  error: {error}");
            }
        }
    }
    println!("\n{}: {passed} passed, {failed} failed", tests.display());
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
