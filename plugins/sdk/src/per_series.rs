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
