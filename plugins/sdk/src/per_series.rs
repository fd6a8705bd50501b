//! State kept per series, found by hashing each series once per batch.
//!
//! Detectors keep something for every series they see (a violation, the
//! previous reading, a window). [`PerSeries`] is that table: entries in the
//! order their series first appeared, and a map from series to position. A
//! batch refers to its series by index into its own series table, so
//! [`BatchSlots`] caches, for one batch, which entry each of those is: the
//! series of a point is hashed at most once per batch, however many points
//! it has.
//!
//! ```
//! use foghorn_plugin::prelude::*;
//! use foghorn_plugin::{BatchSlots, PerSeries};
//!
//! // Points seen per series.
//! let mut seen: PerSeries<u64> = PerSeries::new();
//! let batch = foghorn_plugin::testing::points(&[
//!     (1, &Series::new("a"), "t", 1.0),
//!     (2, &Series::new("b"), "t", 1.0),
//!     (3, &Series::new("a"), "t", 1.0),
//! ]);
//! let mut slots = BatchSlots::new(&batch.points);
//! for point in batch.points.iter() {
//!     let slot = slots.slot(&mut seen, point, || 0);
//!     *seen.get_mut(slot) += 1;
//! }
//! let counts: Vec<(String, u64)> = seen.iter().map(|(s, n)| (s.name.clone(), *n)).collect();
//! assert_eq!(counts, [("a".to_owned(), 2), ("b".to_owned(), 1)]);
//! ```

use std::collections::HashMap;

use foghorn_model::{PointRef, Points, Series};
use serde::{Deserialize, Serialize};

use crate::Output;

/// A `T` for every series seen, in the order they first appeared.
#[derive(Debug, Clone)]
pub struct PerSeries<T> {
    entries: Vec<(Series, T)>,
    by_series: HashMap<Series, usize>,
}

impl<T> Default for PerSeries<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> PerSeries<T> {
    /// An empty table.
    pub fn new() -> Self {
        Self {
            entries: Vec::new(),
            by_series: HashMap::new(),
        }
    }

    /// The position of `series`, adding it with `new()` if it is new.
    pub fn slot(&mut self, series: &Series, new: impl FnOnce() -> T) -> usize {
        if let Some(&slot) = self.by_series.get(series) {
            return slot;
        }
        self.entries.push((series.clone(), new()));
        self.by_series
            .insert(series.clone(), self.entries.len() - 1);
        self.entries.len() - 1
    }

    /// The state at `slot`.
    ///
    /// # Panics
    /// When `slot` did not come from this table.
    pub fn get(&self, slot: usize) -> &T {
        &self.entries[slot].1
    }

    /// The state at `slot`, to change.
    ///
    /// # Panics
    /// When `slot` did not come from this table.
    pub fn get_mut(&mut self, slot: usize) -> &mut T {
        &mut self.entries[slot].1
    }

    /// The series at `slot`.
    ///
    /// # Panics
    /// When `slot` did not come from this table.
    pub fn series(&self, slot: usize) -> &Series {
        &self.entries[slot].0
    }

    /// Every series and its state, in the order they first appeared.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Series, &T)> {
        self.entries.iter().map(|(series, state)| (series, state))
    }

    /// Number of series.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no series has been seen.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forget every series (before a restore, say).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.by_series.clear();
    }

    /// Every series and its state, in order, as a snapshot keeps them.
    pub fn save(&self) -> Vec<Saved<T>>
    where
        T: Clone,
    {
        self.entries
            .iter()
            .map(|(series, history)| Saved {
                name: series.name.clone(),
                tags: series.tags.clone(),
                history: history.clone(),
            })
            .collect()
    }

    /// The table of a snapshot's [`PerSeries::save`], in place of this
    /// one's. Each state is first checked (and, say, reindexed) by `check`,
    /// whose error leaves the table empty: a snapshot is restored whole or
    /// not at all.
    ///
    /// # Errors
    /// The first of `check`'s errors.
    pub fn load(
        &mut self,
        saved: Vec<Saved<T>>,
        mut check: impl FnMut(&mut T) -> Result<(), String>,
    ) -> Result<(), String> {
        self.clear();
        for Saved {
            name,
            tags,
            mut history,
        } in saved
        {
            if let Err(error) = check(&mut history) {
                self.clear();
                return Err(error);
            }
            let series = Series { name, tags };
            match self.by_series.get(&series) {
                Some(&slot) => self.entries[slot].1 = history,
                None => {
                    self.by_series.insert(series.clone(), self.entries.len());
                    self.entries.push((series, history));
                }
            }
        }
        Ok(())
    }
}

/// One series' state in a snapshot (see [`PerSeries::save`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved<T> {
    /// The series' name.
    pub name: String,
    /// Its tags.
    pub tags: Vec<(String, String)>,
    /// Its state.
    pub history: T,
}

/// Points in time order per series: a point older than the last one of its
/// series is rejected with the reason and counted in the plugin metric
/// `out_of_order` (points with the same timestamp are in order).
///
/// ```
/// use foghorn_plugin::prelude::*;
/// use foghorn_plugin::InOrder;
///
/// fn process(last: &mut Option<i64>, batch: &Batch, out: &mut Output) {
///     let mut order = InOrder::default();
///     for point in batch.points.iter() {
///         if !order.admits(out, point, *last) {
///             continue;
///         }
///         *last = Some(point.timestamp());
///         out.forward(point);
///     }
///     order.count();
/// }
/// ```
#[derive(Debug, Default)]
pub struct InOrder {
    rejected: u64,
}

impl InOrder {
    /// Whether `point` comes in order after its series' `last` timestamp;
    /// if not, it is rejected in `out` and counted.
    #[inline]
    pub fn admits(&mut self, out: &mut Output, point: PointRef<'_>, last: Option<i64>) -> bool {
        let ts = point.timestamp();
        match last {
            Some(last) if ts < last => {
                self.rejected += 1;
                out.reject_point(
                    point.index(),
                    format!("out of order: {ts} is before {last}, the last point of its series"),
                );
                false
            }
            _ => true,
        }
    }

    /// Add the points rejected to the plugin metric `out_of_order`.
    pub fn count(self) {
        if self.rejected > 0 {
            crate::host::counter_add("out_of_order", self.rejected);
        }
    }
}

/// A series' state that remembers the timestamp of the series' last point,
/// for [`PerSeries::each_in_order`].
pub trait Sequenced {
    /// The timestamp of the last point admitted, `None` before the first.
    fn last(&mut self) -> &mut Option<i64>;
}

impl<T: Sequenced> PerSeries<T> {
    /// Visit the points of a batch that come in time order within their
    /// series, each with its series' state (added with `fresh()` for a new
    /// series) and the timestamp of the series' point before it. A point
    /// older than its series' last is rejected in `out` and counted, as
    /// [`InOrder`] does; the feature plugins (lag, diff, rolling, ewma,
    /// scale) are each a body for this loop.
    pub fn each_in_order(
        &mut self,
        points: &Points,
        out: &mut Output,
        fresh: impl Fn() -> T,
        mut each: impl FnMut(&mut T, Option<i64>, PointRef<'_>, &mut Output),
    ) {
        let mut slots = BatchSlots::new(points);
        let mut order = InOrder::default();
        for point in points.iter() {
            let slot = slots.slot(self, point, &fresh);
            let state = self.get_mut(slot);
            let last = state.last();
            if !order.admits(out, point, *last) {
                continue;
            }
            let previous = last.replace(point.timestamp());
            each(state, previous, point, out);
        }
        order.count();
    }
}

/// For one batch: which [`PerSeries`] entry each series of the batch's
/// series table is, filled in as points ask.
#[derive(Debug)]
pub struct BatchSlots(Vec<Option<usize>>);

impl BatchSlots {
    /// Empty, for a batch of `points`.
    pub fn new(points: &Points) -> Self {
        Self(vec![None; points.series.len()])
    }

    /// The entry of `point`'s series in `table`, adding it with `new()` if
    /// it is new; the series is hashed only the first time in this batch.
    pub fn slot<T>(
        &mut self,
        table: &mut PerSeries<T>,
        point: PointRef<'_>,
        new: impl FnOnce() -> T,
    ) -> usize {
        match self.0.get(point.series_index()).copied().flatten() {
            Some(slot) => slot,
            None => {
                let slot = table.slot(point.series(), new);
                if let Some(cached) = self.0.get_mut(point.series_index()) {
                    *cached = Some(slot);
                }
                slot
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_table_loads_whole_or_not_at_all() {
        let mut table: PerSeries<Vec<u32>> = PerSeries::new();
        let a = table.slot(&Series::new("a"), || vec![1]);
        table.slot(&Series::new("b").with_tag("k", "v"), || vec![2, 3]);
        table.get_mut(a).push(4);
        let saved = table.save();
        let mut restored = PerSeries::new();
        restored.slot(&Series::new("stale"), Vec::new);
        restored.load(saved.clone(), |_| Ok(())).unwrap();
        assert_eq!(restored.save(), saved);
        let b = restored.slot(&Series::new("b").with_tag("k", "v"), Vec::new);
        assert_eq!(restored.get(b), &[2, 3], "found by its series");
        let error = restored
            .load(saved, |h| {
                if h.len() > 1 {
                    Err("too long".into())
                } else {
                    Ok(())
                }
            })
            .unwrap_err();
        assert_eq!(error, "too long");
        assert!(restored.is_empty());
    }

    #[test]
    fn points_out_of_order_are_rejected_with_the_reason() {
        let series = Series::new("a");
        let batch = crate::testing::points(&[(5, &series, "t", 1.0), (3, &series, "t", 1.0)]);
        let mut order = InOrder::default();
        let mut out = Output::default();
        let mut last = None;
        let mut admitted = Vec::new();
        for point in batch.points.iter() {
            if order.admits(&mut out, point, last) {
                last = Some(point.timestamp());
                admitted.push(point.timestamp());
            }
        }
        assert_eq!(admitted, [5]);
        assert_eq!(
            out.errors(),
            [crate::ItemError::Point {
                index: 1,
                reason: "out of order: 3 is before 5, the last point of its series".into()
            }]
        );
        assert!(
            order.admits(&mut out, batch.points.get(0).unwrap(), Some(5)),
            "equal is in order"
        );
        order.count();
    }

    #[derive(Debug, Default)]
    struct Seen {
        last: Option<i64>,
        visits: Vec<(Option<i64>, i64)>,
    }

    impl Sequenced for Seen {
        fn last(&mut self) -> &mut Option<i64> {
            &mut self.last
        }
    }

    #[test]
    fn each_in_order_gives_each_series_its_state_and_previous_timestamp() {
        let (a, b) = (Series::new("a"), Series::new("b"));
        let batch = crate::testing::points(&[
            (5, &a, "t", 1.0),
            (4, &b, "t", 1.0),
            (3, &a, "t", 1.0),
            (7, &a, "t", 1.0),
            (4, &b, "t", 1.0),
        ]);
        let mut table: PerSeries<Seen> = PerSeries::new();
        let mut out = Output::default();
        table.each_in_order(
            &batch.points,
            &mut out,
            Seen::default,
            |seen, previous, point, _| {
                seen.visits.push((previous, point.timestamp()));
            },
        );
        let visits: Vec<_> = table
            .iter()
            .map(|(s, seen)| (s.name.as_str(), seen.visits.clone()))
            .collect();
        assert_eq!(
            visits,
            [
                ("a", vec![(None, 5), (Some(5), 7)]),
                ("b", vec![(None, 4), (Some(4), 4)])
            ]
        );
        assert_eq!(
            table.iter().map(|(_, s)| s.last).collect::<Vec<_>>(),
            [Some(7), Some(4)]
        );
        assert_eq!(out.errors().len(), 1, "the point at 3 is out of order");
    }
}
