//! The series of lines with tag keys or a measurement key, interned once
//! per call for each combination of their values, so a line costs a hash
//! and a probe, not a `Series`.
//!
//! A small open-addressing table of its own rather than a `HashMap`: a line
//! is looked up by hashing its values where they lie and comparing them
//! with the stored ones a word at a time, with no key built, copied or
//! passed to `memcmp` (calls that WebAssembly makes out of line).

use foghorn_plugin::{Output, Series, SeriesId};

use crate::parse::{same, word};

/// Series ids by measurement and tag values, valid for one call's
/// [`Output`].
#[derive(Debug, Default)]
pub(crate) struct SeriesCache {
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

impl SeriesCache {
    /// Forget the ids of the last call's output.
    pub(crate) fn clear(&mut self) {
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
    /// its tag out).
    #[inline]
    pub(crate) fn id<'v>(
        &mut self,
        out: &mut Output,
        base: &Series,
        names: &[String],
        value: impl Fn(usize) -> &'v str,
    ) -> SeriesId {
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
