//! The command line: `run`, `validate`, `test`, `replay`,
//! `plugin new|build|inspect|list`, `silence`.
//!
//! This is the edge of the program, so errors are `anyhow` here and typed
//! everywhere below.

mod plugin;
mod replay;
mod silence;
mod test;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;

use crate::config::{self, Config, ConfigError};
use crate::internal::api::Api;
use crate::internal::events::ConfigReloaded;
use crate::internal::systemd;
use crate::processors::wasm::PluginEngine;
use crate::state::StateStore;

/// The demo pipeline used when `run` is given no `--config`.
pub const DEFAULT_CONFIG: &str = include_str!("../../../config/agent.yaml");
const DEFAULT_CONFIG_NAME: &str = "config/agent.yaml (built in)";

/// How long a shutdown may take to drain and flush before it is forced.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How long, under systemd, `READY=1` waits for every source to connect
/// before it is sent anyway (with the ones still starting in `STATUS=`):
/// a device not plugged in yet must not fail the unit's start.
const SYSTEMD_READY_WAIT: Duration = Duration::from_secs(10);

/// foghorn: an observability agent for device and service telemetry.
///
/// Reads telemetry from serial ports, files and standard input, runs it
/// through WebAssembly plugins that parse it and detect anomalies, and writes
/// Prometheus metrics, JSON reports and files. Pipelines are YAML.
#[derive(Debug, Parser)]
#[command(name = "foghorn", version, about, long_about, propagate_version = true)]
pub struct Cli {
    /// Log format: `auto` is human-readable with colours on a terminal and
    /// plain otherwise; `json` is one JSON object per line.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto, env = "FOGHORN_LOG_FORMAT")]
    pub log_format: LogFormat,

    /// Log filter, in `tracing` env-filter syntax (`info`, `foghorn=debug`).
    #[arg(long, global = true, default_value = "info", env = "FOGHORN_LOG")]
    pub log_level: String,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable; coloured on a terminal.
    Auto,
    /// Human-readable, multi-line.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline until SIGINT/SIGTERM, or until every source has ended.
    ///
    /// Without --config, runs the built-in demo (config/agent.yaml): a
    /// simulated bench device through the bundled parser and detectors to
    /// Prometheus metrics, an anomaly report and the console. The demo reads
    /// FOGHORN_DATA_DIR (default ./foghorn-data) and FOGHORN_METRICS_LISTEN
    /// (default 127.0.0.1:9598).
    ///
    /// At start-up a banner says where metrics, reports, logs and data_dir
    /// are. Compiled plugins are cached in <data_dir>/cache, or in
    /// FOGHORN_CACHE_DIR when set, so later starts skip compilation. Plugin
    /// state is snapshotted to <data_dir>/state.redb and restored on start.
    Run {
        /// Pipeline file (YAML). Default: the built-in demo pipeline.
        #[arg(short, long, env = "FOGHORN_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Check a pipeline file and print every error with file, line, column
    /// and key. Exits 0 when valid, 1 otherwise.
    Validate {
        /// Pipeline file (YAML).
        #[arg(short, long)]
        config: PathBuf,
    },
    /// Run a pipeline's unit tests: each case of TESTS gives a plugin
    /// processor (or a chain of them) lines or points and checks the points,
    /// alerts and rejects that come out; a failure prints a diff. Exits 0
    /// when every case passes, 1 otherwise.
    Test {
        /// The pipeline whose processors are tested. Default: pipeline.yaml
        /// beside TESTS.
        #[arg(short, long)]
        config: Option<PathBuf>,
        /// The test cases (YAML).
        tests: PathBuf,
    },
    /// Run recorded files through a pipeline as fast as it goes, in the
    /// time they were recorded, and stop: the pipeline's source is replaced
    /// by the files, processors tick in the time of the data (`clock:
    /// event`), so windows and heartbeats behave as they did live, and the
    /// reports and files are written. A progress bar shows on a terminal.
    ///
    /// Lines of an audit log (`<RFC 3339 time>\t<line>`) are replayed at
    /// their time; CSV and NDJSON lines get theirs from the parser. Plugin
    /// state starts empty (in a temporary data_dir unless --data-dir says),
    /// and sinks that reach other systems (webhook, slack, email,
    /// alertmanager, prometheus, otlp, kafka) are left out unless
    /// --all-sinks.
    Replay {
        /// The pipeline.
        #[arg(short, long)]
        config: PathBuf,
        /// The recorded files, replayed one after the other.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The source the files replace; needed when the pipeline has
        /// several.
        #[arg(long)]
        source: Option<String>,
        /// Keep state here instead of in a temporary directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Keep every sink, including those that notify people or write to
        /// other systems.
        #[arg(long)]
        all_sinks: bool,
    },
    /// Write, build and inspect plugins.
    Plugin {
        /// What to do with plugins.
        #[command(subcommand)]
        command: plugin::PluginCommand,
    },
    /// Mute alerts for a while, through a running agent's API.
    Silence {
        /// The agent API's address (the pipeline's `api.listen`).
        #[arg(
            long,
            global = true,
            env = "FOGHORN_API",
            default_value = "127.0.0.1:9599"
        )]
        api: String,
        /// What to do with silences.
        #[command(subcommand)]
        command: silence::SilenceCommand,
    },
}

/// Run the command line.
///
/// # Errors
/// What stops the command; printed by `main` with its causes.
pub fn main(cli: Cli) -> anyhow::Result<ExitCode> {
    init_logging(cli.log_format, &cli.log_level)?;
    match cli.command {
        Command::Run { config } => run(config.as_deref()),
        Command::Validate { config } => Ok(validate(&config)),
        Command::Test { config, tests } => {
            let config = config.unwrap_or_else(|| {
                tests
                    .parent()
                    .unwrap_or(Path::new("."))
                    .join("pipeline.yaml")
            });
            test::run(&config, &tests)
        }
        Command::Replay {
            config,
            files,
            source,
            data_dir,
            all_sinks,
        } => replay::run(&replay::Replay {
            config,
            files,
            source,
            data_dir,
            all_sinks,
        }),
        Command::Plugin { command } => plugin::run(command),
        Command::Silence { api, command } => silence::run(&api, command),
    }
}

fn init_logging(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).context("invalid --log-level")?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let terminal = std::io::stderr().is_terminal();
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Pretty => builder.pretty().with_ansi(terminal).init(),
        LogFormat::Auto => builder.with_ansi(terminal).init(),
    }
    Ok(())
}

fn print_errors(errors: &[ConfigError]) {
    for error in errors {
        eprintln!("error: {error}");
    }
    eprintln!(
        "{} error{} found",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
}

/// Load and validate a pipeline file (or the built-in demo).
fn load(path: Option<&Path>) -> Result<Config, Vec<ConfigError>> {
    match path {
        Some(path) => config::load(path),
        None => config::load_str(Path::new(DEFAULT_CONFIG_NAME), DEFAULT_CONFIG, &|var| {
            std::env::var(var).ok()
        }),
    }
}

fn validate(path: &Path) -> ExitCode {
    match load(Some(path)).and_then(|config| check_processors(&config).map(|()| config)) {
        Ok(config) => {
            println!(
                "{}: valid ({} sources, {} processors, {} sinks)",
                path.display(),
                config.sources.len(),
                config.processors.len(),
                config.sinks.len()
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            print_errors(&errors);
            ExitCode::FAILURE
        }
    }
}

/// Compile, instantiate and initialise every processor's plugin, as `run`
/// would, reporting what fails at its key.
fn check_processors(config: &Config) -> Result<(), Vec<ConfigError>> {
    let internal = |message: String| vec![config.source_map.error(&[], message)];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| internal(format!("cannot start the async runtime: {e}")))?;
    let engine = PluginEngine::new(Some(&cache_dir(config)))
        .map_err(|e| internal(format!("cannot set up plugins: {e}")))?;
    let errors = runtime.block_on(crate::topology::check_processors(config, &engine));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Where compiled plugins are cached: `$FOGHORN_CACHE_DIR`, or
/// `<data_dir>/cache`.
fn cache_dir(config: &Config) -> PathBuf {
    let dir = std::env::var_os("FOGHORN_CACHE_DIR")
        .map_or_else(|| config.data_dir.join("cache"), PathBuf::from);
    std::path::absolute(&dir).unwrap_or(dir)
}

fn run(path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    // Watched before it is read: an edit made while the pipeline starts is
    // an edit after this read, and reloads it.
    let edits = path.map(config::ConfigWatch::new);
    let config = match load(path) {
        Ok(config) => config,
        Err(errors) => {
            print_errors(&errors);
            return Ok(ExitCode::FAILURE);
        }
    };
    let label = path.map_or_else(
        || DEFAULT_CONFIG_NAME.to_owned(),
        |p| p.display().to_string(),
    );
    let cache = cache_dir(&config);
    run_pipeline(config, &cache, path, &label, edits, started)
}

/// Run `config` until a signal, or until every source has ended, caching
/// compiled plugins in `cache`. `path` is the file reloads read (none for
/// the built-in demo and replays), `label` what the banner calls the
/// pipeline.
fn run_pipeline(
    config: Config,
    cache: &Path,
    path: Option<&Path>,
    label: &str,
    mut edits: Option<config::ConfigWatch>,
    started: std::time::Instant,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("foghorn")
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async move {
        // The signals are ours from the start: a SIGTERM or SIGINT while the
        // pipeline is built waits for it and stops it cleanly, instead of
        // killing the process by the default action.
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let mut hangup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
        // The agent's own API comes up first, so `/health` and `/ready` tell
        // the truth while the pipeline is built.
        let api = match config.api {
            Some(api) => match Api::bind(api.listen).await {
                Ok(bound) => Some(bound),
                Err(error) => {
                    let message = format!("cannot listen on {}: {error}", api.listen);
                    print_errors(&[config.source_map.error(&["api", "listen"], message)]);
                    return Ok(ExitCode::FAILURE);
                }
            },
            None => None,
        };
        let api_stop = CancellationToken::new();
        let api_line = api.as_ref().map(|api| {
            crate::sinks::banner(
                "api",
                format!("http://{}/health (/ready, /metrics)", api.addr()),
            )
        });
        let state = Arc::new(StateStore::open(&config.data_dir)?);
        let silences = Arc::new(crate::silences::Silences::open(Arc::clone(&state))?);
        let api_task = api.map(|api| api.spawn(api_stop.clone(), Arc::clone(&silences)));
        let engine = PluginEngine::new(Some(cache))?;
        let mut pipeline = match crate::topology::build(&config, &engine, state, silences).await {
            Ok(pipeline) => pipeline,
            Err(errors) => {
                print_errors(&errors);
                return Ok(ExitCode::FAILURE);
            }
        };
        crate::internal::metrics::metrics()
            .start_time
            .set(crate::event::now_nanos() / 1_000_000_000);
        let mut banner = pipeline.banner.clone();
        banner.extend(api_line);
        print_banner(label, &banner, started.elapsed());

        // Under systemd (`Type=notify`): READY=1 once /ready would answer
        // 200, and watchdog pings if the unit asks for them.
        let ready = systemd::ready(SYSTEMD_READY_WAIT);
        tokio::pin!(ready);
        let mut ready_sent = false;
        let watchdog = systemd::watchdog();

        let mut failed = Vec::new();
        let stop = shutdown_signal(term, int);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut ready, if !ready_sent => ready_sent = true,
                exit = pipeline.next_exit() => match exit {
                    None => {
                        systemd::stopping();
                        tracing::info!("every source has ended; pipeline drained");
                        break;
                    }
                    Some((name, Err(error))) => failed.push((name, error)),
                    Some(_) => {}
                },
                signal = &mut stop => {
                    systemd::stopping();
                    tracing::info!(signal, "shutting down: draining and flushing sinks");
                    failed.extend(pipeline.shutdown(SHUTDOWN_GRACE).await);
                    break;
                }
                _ = hangup.recv() => reload(&mut pipeline, path, &config, "SIGHUP").await,
                () = async {
                    match edits.as_mut() {
                        Some(watch) => watch.changed().await,
                        None => std::future::pending().await,
                    }
                } => reload(&mut pipeline, path, &config, "file changed").await,
            }
        }
        if let Some(watchdog) = watchdog {
            watchdog.abort();
        }
        api_stop.cancel();
        if let Some(task) = api_task {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        if failed.is_empty() {
            tracing::info!("stopped cleanly");
            Ok(ExitCode::SUCCESS)
        } else {
            Ok(ExitCode::FAILURE)
        }
    });
    // A blocking read of stdin cannot be interrupted; don't wait for it.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// Load the config file again and apply it: unchanged components keep
/// running, changed ones are swapped; an invalid config is reported with
/// every error and the running one is kept.
async fn reload(
    pipeline: &mut crate::topology::Pipeline,
    path: Option<&Path>,
    started_with: &Config,
    trigger: &str,
) {
    // RELOADING=1 now, READY=1 when this returns, whatever the outcome.
    let _reloading = systemd::Reloading::start();
    let Some(path) = path else {
        tracing::info!(trigger, "running the built-in config: nothing to reload");
        return;
    };
    let config = match load(Some(path)) {
        Ok(config) => config,
        Err(errors) => {
            print_errors(&errors);
            let detail = format!("{} error(s) in {}", errors.len(), path.display());
            ConfigReloaded {
                trigger,
                result: "rejected",
                detail: &detail,
            }
            .emit();
            return;
        }
    };
    if config.api != started_with.api {
        tracing::warn!("`api` changes take effect at the next start");
    }
    match pipeline.apply(&config).await {
        Ok(changes) => {
            ConfigReloaded {
                trigger,
                result: "ok",
                detail: &changes.to_string(),
            }
            .emit();
        }
        Err(errors) => {
            print_errors(&errors);
            let detail = format!("{} component(s) could not be built", errors.len());
            ConfigReloaded {
                trigger,
                result: "failed",
                detail: &detail,
            }
            .emit();
        }
    }
}

fn print_banner(config: &str, lines: &[String], startup: Duration) {
    let version = env!("CARGO_PKG_VERSION");
    eprintln!(
        "foghorn {version}: running {config} (started in {} ms)",
        startup.as_millis()
    );
    for line in lines {
        eprintln!("  {line}");
    }
    eprintln!("  stop with Ctrl-C (SIGINT) or SIGTERM: sinks are flushed before exit");
}

/// Which of SIGTERM and SIGINT came first.
async fn shutdown_signal(
    mut term: tokio::signal::unix::Signal,
    mut int: tokio::signal::unix::Signal,
) -> &'static str {
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}
