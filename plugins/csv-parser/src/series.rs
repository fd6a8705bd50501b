//! The series of rows with tag columns, interned once per call for each
//! combination of tag values, so a row costs a hash and a probe, not a
//! `Series`.
//!
//! A small open-addressing table of its own rather than a `HashMap`: a row
//! is looked up by hashing its values where they lie and comparing them
//! with the stored ones a word at a time, with no key built, copied or
//! passed to `memcmp` (calls that WebAssembly makes out of line).

use foghorn_plugin::{Output, Series, SeriesId};

/// Series ids by tag values, valid for one call's [`Output`].
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
    /// The values of each series of this call, one after another.
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

/// Up to eight bytes as a little-endian word (zeros above them), without a
/// loop: at most two loads, overlapping when the length is not a power of
/// two. (A byte loop here costs an interruption check per byte in
/// WebAssembly.)
#[inline(always)]
fn word(bytes: &[u8]) -> u64 {
    let len = bytes.len();
    let u16_at = |at: usize| {
        u64::from(u16::from_le_bytes(
            <[u8; 2]>::try_from(&bytes[at..at + 2]).unwrap_or_default(),
        ))
    };
    let u32_at = |at: usize| {
        u64::from(u32::from_le_bytes(
            <[u8; 4]>::try_from(&bytes[at..at + 4]).unwrap_or_default(),
        ))
    };
    match len {
        8.. => u64::from_le_bytes(<[u8; 8]>::try_from(&bytes[..8]).unwrap_or_default()),
        4..=7 => u32_at(0) | (u32_at(len - 4) << (8 * (len - 4))),
        2..=3 => u16_at(0) | (u16_at(len - 2) << (8 * (len - 2))),
        1 => u64::from(bytes[0]),
        0 => 0,
    }
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

    /// The series of `base` with tags `names` set to the `values` (spans
    /// of `text`; an empty one leaves its tag out).
    #[inline(never)]
    pub(crate) fn id(
        &mut self,
        out: &mut Output,
        base: &Series,
        names: &[String],
        text: &str,
        values: &[(usize, usize)],
    ) -> SeriesId {
        let bytes = text.as_bytes();
        let mut hash = 0;
        let mut len = 0;
        for &(start, end) in values {
            let value = bytes.get(start..end).unwrap_or_default();
            hash = mix(hash, value.len() as u64);
            for chunk in value.chunks(8) {
                hash = mix(hash, word(chunk));
            }
            len += value.len() + 1;
        }
        let mask = self.calls.len() - 1;
        let mut at = slot(hash, self.calls.len());
        while self.calls[at] == self.call {
            if self.hashes[at] == hash {
                let (start, end) = self.spans[at];
                if end - start == len
                    && self.holds(start, bytes, values)
                    && let Some(id) = self.ids[at]
                {
                    return id;
                }
            }
            at = (at + 1) & mask;
        }
        self.insert(out, base, names, text, values, hash, at)
    }

    /// Whether the values stored from `start` are `values`, compared a word
    /// at a time.
    #[inline]
    fn holds(&self, mut start: usize, bytes: &[u8], values: &[(usize, usize)]) -> bool {
        for &(from, to) in values {
            let value = bytes.get(from..to).unwrap_or_default();
            let Some(stored) = self.arena.get(start..start + value.len()) else {
                return false;
            };
            if !stored
                .chunks(8)
                .zip(value.chunks(8))
                .all(|(a, b)| word(a) == word(b))
            {
                return false;
            }
            // Each value is followed by a 0xff, which no UTF-8 text holds,
            // so values cut elsewhere cannot compare equal.
            if self.arena.get(start + value.len()) != Some(&0xff) {
                return false;
            }
            start += value.len() + 1;
        }
        true
    }

    /// A series not seen in this call: intern it and keep its values in
    /// slot `at`.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments, reason = "the lookup's state, handed on")]
    fn insert(
        &mut self,
        out: &mut Output,
        base: &Series,
        names: &[String],
        text: &str,
        values: &[(usize, usize)],
        hash: u64,
        at: usize,
    ) -> SeriesId {
        let mut series = base.clone();
        let start = self.arena.len();
        for (name, &(from, to)) in names.iter().zip(values) {
            let value = text.get(from..to).unwrap_or_default();
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
