//! resample: time buckets per series, as pandas'
//! `df.groupby(series).resample(every, origin="epoch", closed="left",
//! label="left")`: buckets [k·every, (k+1)·every) from the Unix epoch
//! (hourly, daily, any duration), and for each a point at the bucket's start
//! with, per field, the statistics asked (`<field>_mean`, `_min`, `_max`,
//! `_count`, `_sum`, `_std`, `_first`, `_last`, `_p95`…) once the bucket
//! closes.
//!
//! **When a bucket closes.** By event time: once a point of its series
//! comes at or past the bucket's end plus `allowed_lateness`. By wall-clock
//! time, for a series that went quiet: on the host's tick, once no point
//! has come for `flush_after` (by default `every`) its open buckets close,
//! whatever their event times (replayed data from last year closes as
//! quickly as live data). A point for a bucket already closed is rejected
//! (`late: …`) and counted in `late_points`; points may come in any order
//! within the open buckets. As in pandas, a field missing from every point
//! of a bucket reports count and sum 0 and no other statistic; `std` is the
//! sample's (ddof 1), quantiles interpolate linearly, and `first` and
//! `last` are the values with the earliest and latest timestamps. With `empty_buckets:
//! emit` the buckets without points between two with points come out too
//! (count and sum 0), as pandas' resample gives them, at most
//! `max_empty_buckets` per gap.
//!
//! By default only the bucket points are emitted; `passthrough: true`
//! forwards the input points as well. Memory: per series, the open buckets
//! (at most `allowed_lateness / every + 2`), each with five numbers per field
//! and, for quantiles, at most `max_bucket_points` values per field (a bucket
//! with more reports no quantiles, counted in `bucket_overflow`). The open
//! buckets and the closing marks are the snapshot, so a restart resumes
//! exactly.
//!
//! ```yaml
//! processors:
//!   hourly:
//!     inputs: [parse]
//!     plugin: builtin:resample
//!     config:
//!       every: 1h                 # or 1d, 15m, 30s…
//!       fields: [temperature, power]
//!       stats: [mean, min, max, count, sum, p50, p95, p99]   # the default
//!       allowed_lateness: 0s      # the default
//!       flush_after: 1h           # default: every
//!       empty_buckets: skip       # skip (default) | emit
//!       passthrough: false
//! ```

mod bucket;
mod config;

use foghorn_plugin::prelude::*;

use bucket::Stats;
use config::Settings;
pub use config::{Config, EmptyBuckets};

/// An open bucket: its start and each field's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Open {
    start: i64,
    fields: Vec<Stats>,
}

/// What one series remembers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct History {
    /// Open buckets, by start.
    open: Vec<Open>,
    /// The newest event time seen.
    watermark: Option<i64>,
    /// Buckets starting before this are closed.
    closed_until: Option<i64>,
    /// The start of the last bucket emitted.
    last_emitted: Option<i64>,
    /// The wall-clock time the last point came.
    arrived: i64,
}

/// Counts reported as plugin metrics at the end of a call.
#[derive(Debug, Default)]
struct Counts {
    late: u64,
    overflow: u64,
    skipped: u64,
}

/// The resample feature.
#[derive(Debug)]
pub struct Resample {
    settings: Settings,
    series: PerSeries<History>,
}

#[allow(clippy::cast_precision_loss, reason = "integer readings as f64")]
fn number(value: Option<Value<'_>>) -> Option<f64> {
    match value? {
        Value::Float(v) if v.is_finite() => Some(v),
        Value::Int(v) => Some(v as f64),
        _ => None,
    }
}

impl Resample {
    /// The start of the bucket holding `ts`.
    fn bucket(&self, ts: i64) -> i64 {
        ts.div_euclid(self.settings.every) * self.settings.every
    }
}

/// Emit `open` (and, with `empty_buckets: emit`, the empty buckets before
/// it) as points of `series`.
fn emit(
    settings: &Settings,
    series: &Series,
    history: &mut History,
    open: &Open,
    out: &mut Output,
    counts: &mut Counts,
) {
    if settings.empty == EmptyBuckets::Emit
        && let Some(last) = history.last_emitted
    {
        let mut start = last.saturating_add(settings.every);
        let mut emitted = 0;
        while start < open.start {
            if emitted < settings.max_empty {
                let mut row = out.point(start, series);
                for outputs in &settings.outputs {
                    for output in outputs {
                        if let config::Stat::Count | config::Stat::Sum = output.stat {
                            row = row.field(&output.name, 0.0);
                        }
                    }
                }
                emitted += 1;
            } else {
                counts.skipped += 1;
            }
            start = start.saturating_add(settings.every);
        }
    }
    let mut row = out.point(open.start, series);
    for (outputs, stats) in settings.outputs.iter().zip(&open.fields) {
        for output in outputs {
            if let Some(value) = stats.value(output.stat) {
                row = row.field(&output.name, value);
            }
        }
    }
    history.last_emitted = Some(open.start);
}

impl Processor for Resample {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        Ok(Self {
            settings: config.compile()?,
            series: PerSeries::new(),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        let now = now();
        let mut counts = Counts::default();
        let mut slots = BatchSlots::new(&batch.points);
        for point in batch.points.iter() {
            let ts = point.timestamp();
            let start = self.bucket(ts);
            let slot = slots.slot(&mut self.series, point, History::default);
            let settings = &self.settings;
            let history = self.series.get_mut(slot);
            if let Some(closed) = history.closed_until
                && start < closed
            {
                counts.late += 1;
                out.reject_point(
                    point.index(),
                    format!("late: its bucket {start} closed (buckets before {closed} are)"),
                );
                continue;
            }
            if settings.passthrough {
                out.forward(point);
            }
            history.arrived = now;
            let at = history.open.partition_point(|b| b.start < start);
            if history.open.get(at).is_none_or(|b| b.start != start) {
                let fields = vec![Stats::new(settings); settings.fields.len()];
                history.open.insert(at, Open { start, fields });
            }
            for (field, stats) in settings.fields.iter().zip(&mut history.open[at].fields) {
                if let Some(value) = number(point.field(field)) {
                    counts.overflow += u64::from(stats.add(ts, value, settings));
                }
            }
            let watermark = history.watermark.map_or(ts, |w| w.max(ts));
            history.watermark = Some(watermark);
            let closed = watermark.saturating_sub(settings.lateness);
            let closed = closed.div_euclid(settings.every) * settings.every;
            if history.closed_until.is_none_or(|c| c < closed) {
                history.closed_until = Some(closed);
            }
            let done = history.open.partition_point(|b| b.start < closed);
            if done == 0 {
                continue;
            }
            let closing: Vec<Open> = history.open.drain(..done).collect();
            let series = self.series.series(slot).clone();
            let history = self.series.get_mut(slot);
            for open in &closing {
                emit(settings, &series, history, open, out, &mut counts);
            }
        }
        report(&counts);
    }

    fn tick(&mut self, now: i64, out: &mut Output) {
        let mut counts = Counts::default();
        let settings = &self.settings;
        for slot in 0..self.series.len() {
            let history = self.series.get(slot);
            if history.open.is_empty() || now.saturating_sub(history.arrived) < settings.flush_after
            {
                continue;
            }
            let series = self.series.series(slot).clone();
            let history = self.series.get_mut(slot);
            let closing = std::mem::take(&mut history.open);
            if let Some(last) = closing.last() {
                history.closed_until = Some(last.start.saturating_add(settings.every));
            }
            for open in &closing {
                emit(settings, &series, history, open, out, &mut counts);
            }
        }
        report(&counts);
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode(&Snapshot {
            every: self.settings.every,
            fields: self.settings.fields.clone(),
            series: self
                .series
                .iter()
                .map(|(series, history)| Saved {
                    name: series.name.clone(),
                    tags: series.tags.clone(),
                    history: history.clone(),
                })
                .collect(),
        })
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        let saved: Snapshot = snapshot::decode(state)?;
        self.series.clear();
        // Other buckets or fields: start afresh.
        if saved.every != self.settings.every || saved.fields != self.settings.fields {
            return Ok(());
        }
        for saved in saved.series {
            if saved
                .history
                .open
                .iter()
                .any(|open| open.fields.len() != self.settings.fields.len())
            {
                return Err("resample: the snapshot does not match its fields".to_owned());
            }
            let series = Series {
                name: saved.name,
                tags: saved.tags,
            };
            let slot = self.series.slot(&series, History::default);
            *self.series.get_mut(slot) = saved.history;
        }
        Ok(())
    }
}

fn report(counts: &Counts) {
    for (name, count) in [
        ("late_points", counts.late),
        ("bucket_overflow", counts.overflow),
        ("empty_buckets_skipped", counts.skipped),
    ] {
        if count > 0 {
            counter_add(name, count);
        }
    }
}

/// The state kept across restarts.
#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    every: i64,
    fields: Vec<String>,
    series: Vec<Saved>,
}

/// One series' buckets.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    name: String,
    tags: Vec<(String, String)>,
    history: History,
}

export_processor!(Resample);

#[cfg(test)]
mod tests;
