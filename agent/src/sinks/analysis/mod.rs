//! The analysis sink: statistics over every row a pipeline delivered, for
//! rules over a whole dataset (a global mean and standard deviation, top
//! devices, resampled and rolling series) that a streaming detector can
//! only approximate.
//!
//! Each point received becomes a row of the configured `columns` (the
//! point's time, tags and fields by name), held in arrival order; records
//! and alerts are not rows and pass unused (a parser makes points of
//! records). Every
//! `interval`, and when the input ends, the report is computed over all
//! rows held ([`compute`]): cleaning (exact duplicates, missing values,
//! `keep` bounds), then the sections (distinct values, grouped statistics,
//! anomaly sets by bounds or by sigma over the cleaned data, resampled
//! series, time-window statistics at every row), with pandas' arithmetic
//! ([`stats`]) so a finite replay selects the same rows as a pandas
//! reference to the bit. The JSON report and the optional HTML report
//! ([`html`]) are replaced atomically.
//!
//! A live pipeline gets the same rules over what it has seen so far (an
//! expanding window), or over the latest `max_rows` rows once the window is
//! full.
//!
//! # Delivery and bounds
//!
//! Rows are appended to a spool file in the data directory ([`spool`]) and
//! synced at least every second; a batch is acknowledged once its rows are
//! synced, and a restart loads them back, so `kill -9` loses no row and a
//! restart replays at most the batches not yet synced (whose rows, counted
//! twice, are then left out as duplicates when `clean.duplicates` is on).
//! Memory holds at most `max_rows` rows (about `24 × columns + 16` bytes
//! each, plus each distinct text once); the spool holds at most half again
//! as many before it is rewritten. Computing a report takes time and memory
//! linear in the rows held (a median sorts its group's values).

mod compute;
pub mod config;
mod export;
mod gauges;
mod html;
mod spool;
mod stats;
mod table;
mod template;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::Receiver;

use self::compute::TimeFormat;
use self::config::AnalysisConfig;
use self::spool::Spool;
use self::table::Table;
use super::{SinkContext, SinkError, absolute, banner};
use crate::delivery::Delivery;
use crate::event::SharedBatch;
use crate::internal::events::{
    ComponentError, EventsDelivered, EventsDiscarded, EventsReceived, SinkRetrying,
};

/// How often received rows are synced to the spool and acknowledged.
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// The built analysis sink.
#[derive(Debug)]
pub struct AnalysisSink {
    name: Arc<str>,
    path: PathBuf,
    html: Option<PathBuf>,
    interval: Duration,
    /// The rows and their spool; out while a blocking task works on them.
    held: Option<Held>,
    /// Batches whose rows are not synced yet, and how many points they held.
    unsynced: Vec<Delivery>,
    unsynced_points: usize,
}

/// What the blocking tasks work on.
#[derive(Debug)]
struct Held {
    name: Arc<str>,
    gauges: gauges::Gauges,
    config: Arc<AnalysisConfig>,
    table: Table,
    spool: Spool,
    times: TimeFormat,
}

impl Held {
    /// Compute the report and replace the JSON (and HTML) files.
    fn write(
        &mut self,
        path: &std::path::Path,
        html: Option<&std::path::Path>,
    ) -> Result<(), SinkError> {
        let computed = compute::report(&self.config, &self.table, &self.times);
        self.gauges.update(&self.name, &self.config, &computed.json);
        let mut json = serde_json::to_vec_pretty(&computed.json).unwrap_or_default();
        json.push(b'\n');
        super::report::write_atomically(path, &json).map_err(|source| SinkError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        for (export, csv) in &computed.exports {
            super::report::write_atomically(export, csv.as_bytes()).map_err(|source| {
                SinkError::Write {
                    path: export.clone(),
                    source,
                }
            })?;
        }
        if let Some(html_path) = html {
            let page = html::render(&self.config, &computed, &self.table, &self.times);
            super::report::write_atomically(html_path, page.as_bytes()).map_err(|source| {
                SinkError::Write {
                    path: html_path.to_path_buf(),
                    source,
                }
            })?;
        }
        Ok(())
    }
}

impl AnalysisSink {
    /// Create the directories, load the spooled rows, and write the report
    /// once, which proves the paths writable.
    async fn build(config: &AnalysisConfig, ctx: SinkContext) -> Result<Self, SinkError> {
        let path = absolute(&config.path);
        let html = config.html.as_deref().map(absolute);
        let mut config = config.clone();
        let exports: Vec<&mut PathBuf> = config
            .anomalies
            .iter_mut()
            .filter_map(|set| Some(&mut set.export.as_mut()?.path))
            .collect();
        for export in exports {
            *export = absolute(export);
            super::create_parent(export).await?;
        }
        for file in std::iter::once(&path).chain(&html) {
            super::create_parent(file).await?;
        }
        let spool_path = ctx
            .data_dir
            .join("analysis")
            .join(format!("{}.ndjson", ctx.name));
        let times = TimeFormat::new(&config.time_format).map_err(|error| SinkError::Open {
            path: path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, error),
        })?;
        let config = Arc::new(config);
        let name = Arc::clone(&ctx.name);
        let held = {
            let config = Arc::clone(&config);
            let (path, html) = (path.clone(), html.clone());
            tokio::task::spawn_blocking(move || -> Result<Held, SinkError> {
                let mut table = Table::new(&config.columns, config.max_rows);
                let (spool, warning) =
                    Spool::open(&spool_path, &mut table).map_err(|source| SinkError::Open {
                        path: spool_path.clone(),
                        source,
                    })?;
                if let Some(warning) = warning {
                    ComponentError {
                        component: &name,
                        reason: "spool_moved_aside",
                        error: &warning,
                    }
                    .emit();
                }
                let mut held = Held {
                    name: Arc::clone(&name),
                    gauges: gauges::Gauges::default(),
                    config,
                    table,
                    spool,
                    times,
                };
                held.write(&path, html.as_deref())?;
                Ok(held)
            })
            .await??
        };
        Ok(Self {
            name: ctx.name,
            path,
            html,
            interval: config.interval,
            held: Some(held),
            unsynced: Vec::new(),
            unsynced_points: 0,
        })
    }

    /// `analysis /abs/report.json, /abs/report.html`.
    fn describe(&self) -> String {
        match &self.html {
            Some(html) => banner(
                "analysis",
                format!("{}, {}", self.path.display(), html.display()),
            ),
            None => banner("analysis", self.path.display()),
        }
    }

    /// Hold rows until `input` closes: sync them every second (then
    /// acknowledge), rewrite the report every `interval` when rows came,
    /// and write it a last time before returning.
    ///
    /// # Errors
    /// When the final sync or write fails, or a blocking task panics.
    async fn run(mut self, mut input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        let mut sync =
            tokio::time::interval_at(tokio::time::Instant::now() + SYNC_EVERY, SYNC_EVERY);
        sync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut report =
            tokio::time::interval_at(tokio::time::Instant::now() + self.interval, self.interval);
        report.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut changed = false;
        loop {
            tokio::select! {
                batch = input.recv() => {
                    let Some(batch) = batch else { break };
                    EventsReceived { component: &self.name, count: batch.points.len(), bytes: 0 }.emit();
                    changed |= self.add(&batch);
                }
                _ = sync.tick(), if !self.unsynced.is_empty() => {
                    if let Err(error) = self.blocking(false).await? {
                        SinkRetrying { component: &self.name, error: &super::chain(&error), backoff: SYNC_EVERY }.emit();
                    }
                }
                _ = report.tick(), if changed => {
                    match self.blocking(true).await? {
                        Ok(()) => changed = false,
                        Err(error) => {
                            SinkRetrying { component: &self.name, error: &super::chain(&error), backoff: self.interval }.emit();
                        }
                    }
                }
            }
        }
        if let Err(error) = self.blocking(true).await? {
            for delivery in self.unsynced.drain(..) {
                delivery.fail();
            }
            return Err(error);
        }
        Ok(())
    }

    /// Take the points of `batch` as rows; whether any came.
    fn add(&mut self, batch: &SharedBatch) -> bool {
        let Some(held) = self.held.as_mut() else {
            return false;
        };
        let mut evicted = 0;
        let mut failed = None;
        for point in batch.points.iter() {
            evicted += held.table.push_point(&point);
            if let Err(error) = held.spool.append(&held.table, held.table.len() - 1) {
                failed = Some(error);
            }
        }
        if let Some(error) = failed {
            ComponentError {
                component: &self.name,
                reason: "spool_write_failed",
                error: &error,
            }
            .emit();
        }
        EventsDiscarded {
            component: &self.name,
            reason: "analysis_window_full",
            count: evicted,
        }
        .emit();
        if batch.delivery.is_tracked() {
            self.unsynced.push(batch.delivery.clone());
        }
        self.unsynced_points += batch.points.len();
        !batch.points.is_empty()
    }

    /// Sync the spool (acknowledging what it holds) and, with `report`,
    /// write the reports, in a blocking task. The outer error is the task
    /// failing; the inner one a sync or write to retry.
    async fn blocking(&mut self, report: bool) -> Result<Result<(), SinkError>, SinkError> {
        let Some(mut held) = self.held.take() else {
            return Ok(Ok(()));
        };
        let (path, html) = (self.path.clone(), self.html.clone());
        let (held, synced, written) = tokio::task::spawn_blocking(move || {
            let synced = held.spool.sync(&held.table);
            let written = if report && synced.is_ok() {
                held.write(&path, html.as_deref())
            } else {
                Ok(())
            };
            (held, synced, written)
        })
        .await?;
        self.held = Some(held);
        if let Err(source) = synced {
            return Ok(Err(SinkError::Write {
                path: self.path.clone(),
                source,
            }));
        }
        EventsDelivered {
            component: &self.name,
            count: std::mem::take(&mut self.unsynced_points),
        }
        .emit();
        self.unsynced.clear();
        Ok(written)
    }
}

impl super::Sink for AnalysisConfig {
    type Running = AnalysisSink;

    async fn build(&self, ctx: SinkContext) -> Result<AnalysisSink, SinkError> {
        AnalysisSink::build(self, ctx).await
    }
}

impl super::RunningSink for AnalysisSink {
    fn describe(&self) -> String {
        AnalysisSink::describe(self)
    }

    async fn run(self, input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        AnalysisSink::run(self, input).await
    }
}
