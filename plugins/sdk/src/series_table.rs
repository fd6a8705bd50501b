//! The series of records named by values in them (a measurement and tag
//! values: a CSV's tag columns, a JSON record's tag paths, a regex's tag
//! captures), interned once per call for each combination of values, so a
//! record costs a hash and a probe, not a `Series`.
//!
//! A small open-addressing table rather than a `HashMap`: a record is
//! looked up by hashing its values where they lie and comparing them with
//! the stored ones a word at a time, with no key built, copied or passed to
//! `memcmp` (calls that WebAssembly makes out of line).
//!
//! ```
//! use foghorn_plugin::series_table::SeriesTable;
//! use foghorn_plugin::{Output, Series};
//!
//! let mut table = SeriesTable::default();
//! let mut out = Output::default();
//! let base = Series::new("http");
//! let names = ["host".to_owned()];
//! table.clear(); // once per call
//! let a = table.id(&mut out, &base, &names, |i| ["", "web-1"][i]);
//! let b = table.id(&mut out, &base, &names, |i| ["", "web-1"][i]);
//! assert_eq!(a, b);
//! ```

use crate::bytes::{same, word};
use crate::{Output, Series, SeriesId};

/// Series ids by measurement and tag values, valid for one call's
/// [`Output`].
#[derive(Debug, Default)]
pub struct SeriesTable {
    /// The current call, from 1.
    call: u64,
    /// Per slot (a power of two of them, at most half used): the call that
    /// filled it (a slot of an earlier call is free), the values' hash,
    /// where the values are in `arena`, and the series.
    calls: Vec<u64>,
    hashes: Vec<u64>,
    spans: Vec<(usize, usize)>,
    ids: Vec<Option<SeriesId>>,
    used: usize,
    /// The values of each series of this call, each followed by a 0xff
    /// (which no UTF-8 text holds, so values cut elsewhere differ).
    arena: Vec<u8>,
}

/// The slot of `hash` in a table of `size` (a power of two) slots: the
/// top bits, which depend on every bit hashed (the low bits of a product do
/// not see the high bits of its factors).
#[inline(always)]
fn slot(hash: u64, size: usize) -> usize {
    #[allow(clippy::cast_possible_truncation, reason = "below `size`")]
    let slot = (hash >> (64 - size.trailing_zeros())) as usize;
    slot
}

/// The Fx hash step (rustc's): a rotate, a xor and a multiply per word.
#[inline(always)]
fn mix(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

impl SeriesTable {
    /// Forget the ids of the last call's output: call it before the first
    /// [`SeriesTable::id`] of each call.
    pub fn clear(&mut self) {
        self.call += 1;
        self.used = 0;
        self.arena.clear();
        if self.calls.is_empty() {
            self.resize(64);
        }
    }

    fn resize(&mut self, size: usize) {
        self.calls = vec![0; size];
        self.hashes = vec![0; size];
        self.spans = vec![(0, 0); size];
        self.ids = vec![None; size];
    }

    /// The series of `base` named by `value(0)` (unless it is empty) with
    /// tags `names` set to `value(1)`, `value(2)`, … (an empty one leaves
    /// its tag out), interned in `out`.
    #[inline]
    pub fn id<'v>(
        &mut self,
        out: &mut Output,
        base: &Series,
        names: &[String],
        value: impl Fn(usize) -> &'v str,
    ) -> SeriesId {
        if self.calls.is_empty() {
            self.clear();
        }
        let count = names.len() + 1;
        let mut hash = 0;
        let mut len = 0;
        for index in 0..count {
            let value = value(index).as_bytes();
            hash = mix(hash, value.len() as u64);
            for chunk in value.chunks(8) {
                hash = mix(hash, word(chunk));
            }
            len += value.len() + 1;
        }
        let mask = self.calls.len() - 1;
        let mut at = slot(hash, self.calls.len());
        while self.calls[at] == self.call {
            let (start, end) = self.spans[at];
            if self.hashes[at] == hash
                && end - start == len
                && self.holds(start, count, &value)
                && let Some(id) = self.ids[at]
            {
                return id;
            }
            at = (at + 1) & mask;
        }
        self.insert(out, base, names, &value, hash, at)
    }

    /// Whether the values stored from `start` are the `count` values.
    #[inline]
    fn holds<'v>(&self, mut start: usize, count: usize, value: &impl Fn(usize) -> &'v str) -> bool {
        for index in 0..count {
            let value = value(index).as_bytes();
            let end = start + value.len();
            let stored = self.arena.get(start..end).unwrap_or_default();
            if !same(stored, value) || self.arena.get(end) != Some(&0xff) {
                return false;
            }
            start = end + 1;
        }
        true
    }

    /// A series not seen in this call: intern it and keep its values in
    /// slot `at`.
    #[cold]
    #[inline(never)]
    fn insert<'v>(
        &mut self,
        out: &mut Output,
        base: &Series,
        names: &[String],
        value: &impl Fn(usize) -> &'v str,
        hash: u64,
        at: usize,
    ) -> SeriesId {
        let mut series = base.clone();
        let start = self.arena.len();
        let measurement = value(0);
        if !measurement.is_empty() {
            measurement.clone_into(&mut series.name);
        }
        self.arena.extend_from_slice(measurement.as_bytes());
        self.arena.push(0xff);
        for (index, name) in names.iter().enumerate() {
            let value = value(index + 1);
            if !value.is_empty() {
                series.set_tag(name.clone(), value.to_owned());
            }
            self.arena.extend_from_slice(value.as_bytes());
            self.arena.push(0xff);
        }
        let id = out.series_id(&series);
        self.calls[at] = self.call;
        self.hashes[at] = hash;
        self.spans[at] = (start, self.arena.len());
        self.ids[at] = Some(id);
        self.used += 1;
        if self.used * 2 > self.calls.len() {
            self.grow();
        }
        id
    }

    /// Twice the slots, with this call's entries moved over.
    fn grow(&mut self) {
        let calls = std::mem::take(&mut self.calls);
        let hashes = std::mem::take(&mut self.hashes);
        let spans = std::mem::take(&mut self.spans);
        let ids = std::mem::take(&mut self.ids);
        self.resize(calls.len() * 2);
        let mask = self.calls.len() - 1;
        for (index, &call) in calls.iter().enumerate() {
            if call != self.call {
                continue;
            }
            let mut at = slot(hashes[index], self.calls.len());
            while self.calls[at] == self.call {
                at = (at + 1) & mask;
            }
            self.calls[at] = call;
            self.hashes[at] = hashes[index];
            self.spans[at] = spans[index];
            self.ids[at] = ids[index];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_a_series_and_values_do_not_run_together() {
        let mut table = SeriesTable::default();
        let mut out = Output::default();
        let base = Series::new("m").with_tag("site", "lab");
        let names = ["a".to_owned(), "b".to_owned()];
        table.clear();
        let mut id =
            |m: &str, a: &str, b: &str| table.id(&mut out, &base, &names, |i| [m, a, b][i]);
        let first = id("", "x", "y");
        assert_eq!(id("", "x", "y"), first);
        assert_ne!(id("", "xy", ""), first);
        assert_ne!(id("", "x", ""), id("", "", "x"));
        assert_ne!(id("x", "", ""), id("", "x", ""));
        // Many more series than the first table's slots: it grows.
        let many: Vec<SeriesId> = (0..200).map(|i| id("", &format!("host-{i}"), "")).collect();
        for (i, want) in many.iter().enumerate() {
            assert_eq!(id("", &format!("host-{i}"), ""), *want);
        }
        assert_eq!(id("", "x", "y"), first, "found again after others");
        let renamed = id("n", "x", "y");
        out.point_of(1, renamed).field("v", 1.0);
        out.point_of(2, first).field("v", 1.0);
        let points = out.into_points();
        assert_eq!(
            points.get(0).unwrap().series(),
            &Series::new("n")
                .with_tag("site", "lab")
                .with_tag("a", "x")
                .with_tag("b", "y")
        );
        assert_eq!(points.get(1).unwrap().series().name, "m");
        assert_eq!(
            points.series.len(),
            206,
            "one series per distinct value set"
        );
    }

    #[test]
    fn a_new_call_starts_a_new_table() {
        let mut table = SeriesTable::default();
        let names = ["a".to_owned()];
        let base = Series::new("m");
        let mut first = Output::default();
        table.clear();
        table.id(&mut first, &base, &names, |i| ["", "x"][i]);
        table.id(&mut first, &base, &names, |i| ["", "y"][i]);
        let mut second = Output::default();
        table.clear();
        let y = table.id(&mut second, &base, &names, |i| ["", "y"][i]);
        second.point_of(1, y).field("v", 1.0);
        let points = second.into_points();
        assert_eq!(points.series, [Series::new("m").with_tag("a", "y")]);
    }
}
