//! One series' open buckets and the marks that say which are closed.

use foghorn_plugin::prelude::*;

use crate::bucket::Stats;
use crate::config::{EmptyBuckets, Settings};
use crate::emit::Emitter;

/// An open bucket: its start and each field's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Open {
    pub start: i64,
    pub fields: Vec<Stats>,
}

/// What one series remembers (all of it is in the snapshot).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct History {
    /// Open buckets, by start; each has had a point.
    pub open: Vec<Open>,
    /// The newest event time accepted.
    watermark: Option<i64>,
    /// Buckets starting before this are closed.
    closed_until: Option<i64>,
    /// The end of the last bucket emitted (with `empty_buckets: emit`, or
    /// passed over as empty): where the next gap starts.
    filled_until: Option<i64>,
    /// Empty buckets emitted in the current gap, for `max_empty_buckets`.
    gap_emitted: u64,
    /// The wall-clock time the last point was accepted.
    pub arrived: i64,
}

impl History {
    /// The start of the bucket holding `ts` (`None` before the first
    /// bucket that starts after `i64::MIN`): usually the newest open one.
    pub(crate) fn bucket(&self, ts: i64, settings: &Settings) -> Option<i64> {
        match self.open.last() {
            Some(b) if b.start <= ts && ts < b.start.saturating_add(settings.every) => {
                Some(b.start)
            }
            _ => settings.bucket(ts),
        }
    }

    /// The closing mark, when the bucket starting at `start` is before it.
    pub(crate) fn closed(&self, start: i64) -> Option<i64> {
        self.closed_until.filter(|closed| start < *closed)
    }

    /// Add a point at `ts` (in the open bucket `start`) with its value per
    /// field, received at wall-clock `now`. Returns the new closing mark
    /// when the point moved it: the buckets before it are to be closed.
    pub(crate) fn add(
        &mut self,
        ts: i64,
        start: i64,
        values: &[Option<f64>],
        now: i64,
        emitter: &mut Emitter<'_>,
    ) -> Option<i64> {
        let settings = emitter.settings();
        self.arrived = now;
        let at = self.open.partition_point(|b| b.start < start);
        if self.open.get(at).is_none_or(|b| b.start != start) {
            let fields = vec![Stats::default(); settings.fields.len()];
            self.open.insert(at, Open { start, fields });
        }
        for (stats, value) in self.open[at].fields.iter_mut().zip(values) {
            if let Some(value) = *value {
                emitter.counts.overflow += u64::from(stats.add(ts, value, settings));
            }
        }
        let watermark = self.watermark.map_or(ts, |w| w.max(ts));
        self.watermark = Some(watermark);
        let behind = watermark.saturating_sub(settings.lateness);
        // The mark moves a bucket at a time: no division until it can.
        if self
            .closed_until
            .is_some_and(|c| behind < c.saturating_add(settings.every))
        {
            return None;
        }
        let closed = settings.bucket(behind)?;
        if self.closed_until.is_some_and(|c| c >= closed) {
            return None;
        }
        self.closed_until = Some(closed);
        Some(closed)
    }

    /// Emit the buckets before `until` (closed by a later point) and, with
    /// `empty_buckets: emit`, the empty ones before each and up to `until`
    /// (a later bucket has points, so they are between two that have).
    pub(crate) fn close(
        &mut self,
        until: i64,
        out: &mut Output,
        series: SeriesId,
        emitter: &mut Emitter<'_>,
    ) {
        let done = self.open.partition_point(|b| b.start < until);
        self.emit(done, out, series, emitter);
        if !self.open.is_empty() {
            self.fill(until, out, series, emitter);
        }
    }

    /// Close and emit every open bucket (the series went quiet): points
    /// for them are late from now on.
    pub(crate) fn flush(&mut self, out: &mut Output, series: SeriesId, emitter: &mut Emitter<'_>) {
        let Some(last) = self.open.last() else {
            return;
        };
        let end = last.start.saturating_add(emitter.settings().every);
        self.closed_until = Some(self.closed_until.map_or(end, |c| c.max(end)));
        self.emit(self.open.len(), out, series, emitter);
    }

    /// Emit the first `done` open buckets, each after the gap before it.
    fn emit(&mut self, done: usize, out: &mut Output, series: SeriesId, emitter: &mut Emitter<'_>) {
        for at in 0..done {
            let start = self.open[at].start;
            self.fill(start, out, series, emitter);
            emitter.bucket(out, series, start, &mut self.open[at].fields);
            self.filled_until = Some(start.saturating_add(emitter.settings().every));
            self.gap_emitted = 0;
        }
        self.open.drain(..done);
    }

    /// With `empty_buckets: emit`, the empty buckets from the last one
    /// emitted up to `before` (none before the series' first bucket), at
    /// most `max_empty_buckets` per gap; the rest are counted.
    fn fill(&mut self, before: i64, out: &mut Output, series: SeriesId, emitter: &mut Emitter<'_>) {
        let settings = emitter.settings();
        if settings.empty != EmptyBuckets::Emit {
            return;
        }
        let Some(from) = self.filled_until.filter(|from| *from < before) else {
            return;
        };
        let gap = (i128::from(before) - i128::from(from)) / i128::from(settings.every);
        let gap = u64::try_from(gap).unwrap_or(u64::MAX);
        let emitted = gap.min(settings.max_empty.saturating_sub(self.gap_emitted));
        let mut start = from;
        for _ in 0..emitted {
            emitter.empty(out, series, start);
            // Below `before`, so no overflow but at the last.
            start = start.saturating_add(settings.every);
        }
        emitter.counts.skipped = emitter.counts.skipped.saturating_add(gap - emitted);
        self.gap_emitted += emitted;
        self.filled_until = Some(before);
    }
}
