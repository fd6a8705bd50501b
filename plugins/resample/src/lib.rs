//! resample: time buckets per series, as pandas'
//! `df.groupby(series).resample(every, origin="epoch", closed="left",
//! label="left")`: buckets [k·every, (k+1)·every) from the Unix epoch
//! (hourly, daily at midnight UTC, any duration), and for each bucket with
//! points, once it closes, one point of the series at the bucket's start
//! with the statistics asked of each field: `<field>_mean`, `_min`, `_max`,
//! `_count`, `_sum`, `_std` (sample, ddof 1), `_first`, `_last` (the values
//! with the earliest and latest timestamps; ties: the one that came first,
//! resp. last) and quantiles such as `_p95` or `_p99.9` (linear
//! interpolation, as pandas and numpy). Sums and means are
//! Kahan-compensated and `std` is Welford's, as pandas' kernels.
//!
//! **Values.** Floats and integers count; a point without the field, or
//! with text, a boolean, NaN or an infinity there, adds nothing to that
//! field (pandas' NaN). A bucket whose points all lack a field reports its
//! count and sum 0 and no other statistic of it; `std` needs two values.
//! Points with equal timestamps all count. The first point of a series
//! opens its first bucket; nothing comes out before it closes.
//!
//! **When a bucket closes.** Two rules, so that live and replayed data both
//! work:
//! - by event time, per series: once a point of the series comes at or past
//!   the bucket's end plus `allowed_lateness` (the series' newest timestamp
//!   is its watermark; points may arrive in any order as long as they are
//!   not more than `allowed_lateness` behind it, or more exactly, as long
//!   as their bucket is still open);
//! - by wall-clock time, for a series that went quiet: on the host's
//!   `tick(now)`, once no point of the series has been accepted for
//!   `flush_after` (default `every`) by the wall clock (`now` against the
//!   host's clock when the last point came), all its open buckets close.
//!
//! Deliberately, no rule compares event time with the wall clock: replayed
//! data has event times far in the past, and "the wall clock is past the
//! bucket's end" would close every bucket of a replay at the first tick and
//! reject the rest of its points as late. Wall-clock time only measures how
//! long a series has been quiet, which means the same for live and replayed
//! data. For a live series that stops, its last bucket comes out
//! `flush_after` after its last point; `flush_after` must be longer than
//! the longest pause between a series' points, or a point after a pause
//! finds its bucket closed.
//!
//! **Late points.** A point whose bucket is closed (by either rule) is
//! rejected with the reason (`late: …`) and counted in the plugin counter
//! `late_points`; it changes nothing. A timestamp within `every` of
//! `i64::MIN` (its bucket would start before it) is rejected the same way
//! and counted in `out_of_range`.
//!
//! **Output.** By default only the bucket points (`passthrough: false`):
//! resampling replaces the raw series. With `passthrough: true` every point
//! that is not rejected is forwarded unchanged as well, in input order,
//! with the bucket points it closed after it. With `empty_buckets: emit`,
//! the empty buckets between two buckets with points also come out, with
//! count and sum 0 and no other statistic (pandas' resample gives the same
//! rows, its other statistics NaN); they come out as soon as a later bucket
//! has points and they are closed, at most `max_empty_buckets` per gap (the
//! first ones; the rest are counted in `empty_buckets_skipped`). Nothing
//! is emitted after a series' last bucket.
//!
//! **Memory.** Per series: at most `ceil(allowed_lateness / every) + 1` open
//! buckets (`allowed_lateness` may span at most 10000 buckets), each with a
//! dozen numbers per field and, when quantiles are asked, at most
//! `max_bucket_points` values per field (and a few numbers for every
//! series seen, as in every plugin). A bucket with more values keeps
//! every 2nd of them (then every 4th, …, in arrival order), so its
//! quantiles come from that systematic sample and are approximate (counted
//! in `bucket_overflow`); every other statistic stays exact. The open
//! buckets, watermarks and closing marks are the snapshot, so a restart
//! resumes exactly; a snapshot from a config with another `every`,
//! `fields`, or with or without quantiles or `std`, is ignored (the plugin
//! starts afresh). A series that stays quiet past a restart is flushed by the
//! first tick after it, its wall-clock time counted from before the
//! restart.
//!
//! ```yaml
//! processors:
//!   hourly:
//!     inputs: [parse]
//!     plugin: builtin:resample
//!     config:
//!       every: 1h                 # required: 1d, 15m, 30s…
//!       fields: [temperature, power]   # required
//!       stats: [mean, min, max, count, sum, p50, p95, p99]   # the default
//!       allowed_lateness: 0s      # the default
//!       flush_after: 1h           # default: every
//!       empty_buckets: skip       # skip (default) | emit
//!       max_empty_buckets: 1000   # the default
//!       passthrough: false        # the default
//!       max_bucket_points: 100000 # the default
//! ```

mod bucket;
mod config;
mod emit;
mod series;

use foghorn_plugin::prelude::*;

use config::Settings;
pub use config::{Config, EmptyBuckets};
use emit::Emitter;
use series::History;

/// The resample feature.
#[derive(Debug)]
pub struct Resample {
    settings: Settings,
    series: PerSeries<History>,
    /// The wall clock: the host's, or a test's.
    clock: fn() -> i64,
}

impl Processor for Resample {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        Ok(Self {
            settings: config.compile()?,
            series: PerSeries::new(),
            clock: now,
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) {
        let now = (self.clock)();
        let settings = &self.settings;
        let mut emitter = Emitter::new(settings);
        // Each field's columns in this batch (one per value type).
        let columns: Vec<Vec<_>> = settings
            .fields
            .iter()
            .map(|field| {
                let named = batch.points.columns.iter();
                named.filter(|c| c.name == *field).collect()
            })
            .collect();
        let mut values = vec![None; settings.fields.len()];
        let mut slots = BatchSlots::new(&batch.points);
        for point in batch.points.iter() {
            let ts = point.timestamp();
            let slot = slots.slot(&mut self.series, point, History::default);
            let history = self.series.get_mut(slot);
            let Some(start) = history.bucket(ts, settings) else {
                emitter.counts.out_of_range += 1;
                out.reject_point(
                    point.index(),
                    format!("out of range: the bucket of {ts} would start before i64::MIN"),
                );
                continue;
            };
            if let Some(closed) = history.closed(start) {
                emitter.counts.late += 1;
                out.reject_point(
                    point.index(),
                    format!("late: its bucket {start} is closed (every bucket before {closed} is)"),
                );
                continue;
            }
            if settings.passthrough {
                out.forward(point);
            }
            for (value, columns) in values.iter_mut().zip(&columns) {
                *value = columns
                    .iter()
                    .find_map(|c| c.get(point.index()))
                    .and_then(|v| v.as_reading());
            }
            if let Some(until) = history.add(ts, start, &values, now, &mut emitter) {
                let id = out.series_id(self.series.series(slot));
                self.series
                    .get_mut(slot)
                    .close(until, out, id, &mut emitter);
            }
        }
        emitter.counts.report();
    }

    fn tick(&mut self, now: i64, out: &mut Output) {
        let mut emitter = Emitter::new(&self.settings);
        for slot in 0..self.series.len() {
            let history = self.series.get(slot);
            if history.open.is_empty()
                || now.saturating_sub(history.arrived) < self.settings.flush_after
            {
                continue;
            }
            let id = out.series_id(self.series.series(slot));
            self.series.get_mut(slot).flush(out, id, &mut emitter);
        }
        emitter.counts.report();
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode_table(&self.key(), &self.series)
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        // Other buckets, fields or kept values: start afresh.
        let fields = self.settings.fields.len();
        snapshot::decode_table(state, &self.key(), &mut self.series, |history| {
            if history.open.iter().any(|open| open.fields.len() != fields) {
                return Err("resample: the snapshot does not match its fields".to_owned());
            }
            Ok(())
        })
    }
}

impl Resample {
    /// What the buckets were kept for.
    fn key(&self) -> Key {
        Key {
            every: self.settings.every,
            fields: self.settings.fields.clone(),
            quantiles: self.settings.keep_values,
            std: self.settings.keep_moments,
        }
    }
}

/// What a snapshot's buckets were kept for.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Key {
    every: i64,
    fields: Vec<String>,
    /// Whether the buckets keep their values (quantiles asked).
    quantiles: bool,
    /// Whether the buckets keep Welford's moments (`std` asked).
    std: bool,
}

export_processor!(Resample);

#[cfg(test)]
mod tests;
