//! foghorn's benchmark harness.
//!
//! Each benchmark prints throughput, latency, CPU seconds and peak RSS, and
//! with `--record` appends its results, with the machine and the date, to
//! `bench/RESULTS.md`. Timing goals live here, never in tests. These machines
//! are shared and noisy: every figure is the median of several repetitions,
//! and comparisons are made between figures of one run.
//!
//! ```sh
//! cargo run --release -p foghorn-bench -- encoding --record
//! cargo run --release -p foghorn-bench -- wasm --record
//! cargo run --release -p foghorn-bench -- e2e --lines 10000000 --record
//! cargo run --release -p foghorn-bench -- idle --record
//! cargo run --release -p foghorn-bench -- storm --lines 5000000 --record
//! cargo run --release -p foghorn-bench -- http --record
//! cargo run --release -p foghorn-bench -- kafka --record
//! cargo run --release -p foghorn-bench -- files --record
//! cargo run --release -p foghorn-bench -- nab --record
//! cargo run --release -p foghorn-bench -- parsers --record
//! cargo run --release -p foghorn-bench -- isolation-forest --record
//! cargo run --release -p foghorn-bench -- sizing --record
//! ```

mod agent;
mod alerts;
mod e2e;
mod encoding;
mod files;
mod idle;
mod ingest;
mod isolation_forest;
mod languages;
mod machine;
mod measure;
mod nab;
mod parsers;
mod sinks;
mod sizing;
mod storm;
mod wasm;

use clap::{Parser, Subcommand};

/// foghorn benchmarks.
#[derive(Debug, Parser)]
#[command(name = "foghorn-bench", about, long_about)]
struct Cli {
    /// Append the results, with machine and date, to bench/RESULTS.md.
    #[arg(long, global = true)]
    record: bool,

    /// Repetitions; the median is reported.
    #[arg(long, global = true, default_value_t = 5)]
    repeat: usize,

    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// The plugin ABI's batch encoding: per-point records against columnar
    /// against one buffer, through a pass-through guest.
    Encoding,
    /// WASM call overhead per record: a pass-through plugin and kv-parser at
    /// batch sizes 1, 64 and 1024, against kv-parser compiled natively;
    /// the z-score detector in Rust, Python and JavaScript at batch 1024.
    Wasm,
    /// Each bundled parser at batch 1024 in WebAssembly against its own
    /// native build: ns per record and the ratio.
    Parsers {
        /// Only the parsers named (`kv-parser`, `csv`, …); all when none.
        #[arg(long)]
        only: Vec<String>,
    },
    /// End to end: a file of generated bench-device lines through kv-parser,
    /// threshold and zscore to a report and a blackhole, with the release
    /// agent binary as a separate process.
    E2e {
        /// Lines in the input file.
        #[arg(long, default_value_t = 10_000_000)]
        lines: u64,
    },
    /// Start-up time (to a serving /health) and idle RSS, with a warm plugin
    /// cache.
    Idle,
    /// An alert storm (a threshold crossed on a third of readings) through
    /// kv-parser and threshold to the report: throughput and peak RSS.
    Storm {
        /// Lines in the input file.
        #[arg(long, default_value_t = 5_000_000)]
        lines: u64,
    },
    /// Alert latency: file → threshold → alert stage (group_wait 0s) →
    /// webhook → a loopback receiver, under a background load; p50/p99 from
    /// the line's write to the notification's arrival.
    Alerts {
        /// Alerts to send.
        #[arg(long, default_value_t = 10_000)]
        alerts: u64,
        /// Alerts per second.
        #[arg(long, default_value_t = 500)]
        alert_rate: u64,
        /// Background lines per second.
        #[arg(long, default_value_t = 100_000)]
        background: u64,
    },
    /// HTTP ingest: wrk POSTs NDJSON bodies to the http source (durable
    /// acks) into a blackhole; MB/s and records per agent CPU-second.
    Http {
        /// Seconds of load per run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// The file source over many files: the same lines from one file and
    /// from many files matched by a glob, into a blackhole; lines per
    /// CPU-second and their ratio.
    Files {
        /// Lines in all.
        #[arg(long, default_value_t = 5_000_000)]
        lines: u64,
        /// Files the lines are spread over.
        #[arg(long, default_value_t = 1_000)]
        files: u64,
    },
    /// The analysis and archive sinks against a blackhole, on a generated
    /// product-fleet CSV through the csv parser: rows per CPU-second, each
    /// sink's own CPU per row, peak RSS.
    Sinks {
        /// Rows in the input file.
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
    },
    /// Memory for sizing: peak RSS of the release agent with 1,000 to
    /// 100,000 series through threshold and zscore, and with 1 to 16 zscore
    /// processors: bytes per series and MiB per plugin instance.
    Sizing,
    /// Kafka consumption from a tansu broker into a blackhole, against
    /// confluent-kafka's Python consumer on the same topic: records per
    /// CPU-second, and their ratio.
    Kafka {
        /// Messages in the topic.
        #[arg(long, default_value_t = 200_000)]
        messages: u64,
    },
    /// The isolation-forest plugin against scikit-learn's IsolationForest
    /// on NAB's machine temperature data: ROC AUC and scoring rows per
    /// CPU-second (scikit-learn from PyPI, installed when missing).
    IsolationForest {
        /// The NAB subset. Default `../shared/datasets/nab` from the
        /// repository.
        #[arg(long)]
        nab_dir: Option<std::path::PathBuf>,
    },
    /// The Numenta Anomaly Benchmark subset through the agent: file source,
    /// csv, the conformal detector; scored with NAB's rules by
    /// tools/nab_score.py against ARTime's 76.09.
    Nab {
        /// The NAB subset (data/, labels/, config/; tools/nab_score.py two
        /// levels up). Default `../shared/datasets/nab` from the repository.
        #[arg(long)]
        nab_dir: Option<std::path::PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let report = match cli.bench {
        Bench::Encoding => encoding::run(cli.repeat)?,
        Bench::Wasm => wasm::run(cli.repeat)?,
        Bench::Parsers { only } => parsers::run(&only, cli.repeat)?,
        Bench::E2e { lines } => e2e::run(lines, cli.repeat)?,
        Bench::Idle => idle::run(cli.repeat)?,
        Bench::Storm { lines } => storm::run(lines, cli.repeat)?,
        Bench::Alerts {
            alerts,
            alert_rate,
            background,
        } => alerts::run(alerts, alert_rate, background)?,
        Bench::Http { seconds } => ingest::http(seconds, cli.repeat)?,
        Bench::Kafka { messages } => ingest::kafka(messages, cli.repeat)?,
        Bench::Files { lines, files } => files::run(lines, files, cli.repeat)?,
        Bench::Sinks { rows } => sinks::run(rows, cli.repeat)?,
        Bench::Sizing => sizing::run(cli.repeat)?,
        Bench::IsolationForest { nab_dir } => {
            isolation_forest::run(&nab_dir.unwrap_or_else(nab::default_dir), cli.repeat)?
        }
        Bench::Nab { nab_dir } => nab::run(&nab_dir.unwrap_or_else(nab::default_dir))?,
    };
    println!("{report}");
    if cli.record {
        let path = machine::record(&report)?;
        println!("recorded in {}", path.display());
    }
    Ok(())
}
