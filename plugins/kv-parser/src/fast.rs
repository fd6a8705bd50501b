//! The fast path: a line of the common shape (one-byte separators, keys the
//! config names, types fixed by `types`) read in one scan, its values kept
//! in plain arrays by slot rather than as a list of enums.
//!
//! It only ever accepts: any line it is not sure of (an unknown or repeated
//! key, a value of the wrong type, a missing field, an empty line, bad
//! UTF-8…) is handed to the general parser in `parse.rs`, which gives the
//! same point for a good line and the specific reason for a bad one. So the
//! two cannot disagree on what a line means, only on how fast it is read.

use foghorn_plugin::number;

use crate::config::{FieldType, NonFinite, Schema, Separator, Target};

/// Slots the fast path handles; a config with more uses the general parser.
pub(crate) const MAX_SLOTS: usize = 16;

/// What the fast path knows of a config.
#[derive(Debug)]
pub(crate) struct Fast {
    pair: u8,
    kv: u8,
    trim: bool,
    max_line_length: usize,
    keep_non_finite: bool,
    /// Slot + 1 of each one-byte key, by its byte; 0 for none.
    single: [u8; 256],
    /// Longer keys and their slots.
    multi: Vec<(Box<[u8]>, u8)>,
    types: Vec<FieldType>,
    /// Bits of the slots a line must have.
    required: u16,
    /// With `ordered`, each slot's place in `fields`.
    places: Option<Vec<u8>>,
}

/// One line read by [`Fast::scan`]: its slots in line order, and each
/// slot's value.
#[derive(Debug)]
pub(crate) struct Scanned<'a> {
    pub line: &'a str,
    pub order: [u8; MAX_SLOTS],
    pub len: usize,
    /// The value's text in `line`, for text slots.
    pub spans: [(u32, u32); MAX_SLOTS],
    /// The number of float, int (as bits) and bool slots.
    pub numbers: [f64; MAX_SLOTS],
    pub ints: [i64; MAX_SLOTS],
}

impl Default for Scanned<'_> {
    fn default() -> Self {
        Self {
            line: "",
            order: [0; MAX_SLOTS],
            len: 0,
            spans: [(0, 0); MAX_SLOTS],
            numbers: [0.0; MAX_SLOTS],
            ints: [0; MAX_SLOTS],
        }
    }
}

impl Fast {
    /// The fast path for `schema`, if its shape allows one.
    pub(crate) fn new(schema: &Schema) -> Option<Self> {
        let (Separator::Byte(pair), Separator::Byte(kv)) =
            (&schema.pair_separator, &schema.kv_separator)
        else {
            return None;
        };
        // Whitespace separators and trimming interact: the general parser
        // has the last word on those.
        let blank = |byte: &u8| byte.is_ascii_whitespace() || !byte.is_ascii();
        if schema.slots.len() > MAX_SLOTS
            || schema.slots.iter().any(|slot| slot.ty == FieldType::Auto)
            || blank(pair)
            || blank(kv)
        {
            return None;
        }
        let mut single = [0; 256];
        let mut multi = Vec::new();
        let mut places = vec![u8::MAX; schema.slots.len()];
        for key in &schema.keys {
            let Target::Field(slot) = key.target else {
                continue;
            };
            let slot = u8::try_from(slot).ok()?;
            match key.text.as_bytes() {
                [byte] => single[usize::from(*byte)] = slot + 1,
                bytes => multi.push((Box::from(bytes), slot)),
            }
            if let Some(place) = key.order {
                places[usize::from(slot)] = u8::try_from(place).ok()?;
            }
        }
        let required = schema
            .required
            .iter()
            .fold(0_u16, |mask, slot| mask | (1 << slot));
        Some(Self {
            pair: *pair,
            kv: *kv,
            trim: schema.trim,
            max_line_length: schema.max_line_length,
            keep_non_finite: schema.non_finite == NonFinite::Keep,
            single,
            multi,
            types: schema.slots.iter().map(|slot| slot.ty).collect(),
            required,
            places: schema.order.is_some().then_some(places),
        })
    }

    /// The slot of `key`.
    #[inline(always)]
    fn slot(&self, key: &[u8]) -> Option<usize> {
        if let [byte] = key {
            return match self.single[usize::from(*byte)] {
                0 => None,
                slot => Some(usize::from(slot - 1)),
            };
        }
        self.multi
            .iter()
            .find(|(known, _)| **known == *key)
            .map(|(_, slot)| usize::from(*slot))
    }

    /// Read `bytes` into `out` if it is a good line of the common shape;
    /// false sends it to the general parser.
    #[inline]
    pub(crate) fn scan<'a>(&self, bytes: &'a [u8], out: &mut Scanned<'a>) -> bool {
        if bytes.len() >= self.max_line_length {
            return false;
        }
        let Ok(line) = std::str::from_utf8(bytes) else {
            return false;
        };
        let line = if self.trim { line.trim_ascii() } else { line };
        let b = line.as_bytes();
        let end = b.len();
        if end == 0 {
            return false;
        }
        let (mut seen, mut next_place, mut count, mut pos) = (0_u16, 0_u8, 0, 0);
        loop {
            let mut at = pos;
            while at < end && b[at] != self.kv && b[at] != self.pair {
                at += 1;
            }
            if at == end || b[at] != self.kv {
                return false;
            }
            let mut stop = at + 1;
            while stop < end && b[stop] != self.pair {
                stop += 1;
            }
            let (mut key_start, mut key_end) = (pos, at);
            let (mut value_start, mut value_end) = (at + 1, stop);
            if self.trim {
                (key_start, key_end) = trimmed(b, key_start, key_end);
                (value_start, value_end) = trimmed(b, value_start, value_end);
            }
            let Some(slot) = self.slot(&b[key_start..key_end]) else {
                return false;
            };
            let bit = 1 << slot;
            if seen & bit != 0 || count == MAX_SLOTS {
                return false;
            }
            seen |= bit;
            if let Some(places) = &self.places {
                let place = places[slot];
                if place != u8::MAX {
                    if place < next_place {
                        return false;
                    }
                    next_place = place + 1;
                }
            }
            let Some(text) = line.get(value_start..value_end) else {
                return false;
            };
            match self.types[slot] {
                FieldType::Float => match number::parse_f64(text) {
                    Some(value) if value.is_finite() || self.keep_non_finite => {
                        out.numbers[slot] = value;
                    }
                    _ => return false,
                },
                FieldType::Int => match text.parse() {
                    Ok(value) => out.ints[slot] = value,
                    Err(_) => return false,
                },
                FieldType::Bool => {
                    out.ints[slot] = match text {
                        "1" => 1,
                        "0" => 0,
                        _ if text.eq_ignore_ascii_case("true") => 1,
                        _ if text.eq_ignore_ascii_case("false") => 0,
                        _ => return false,
                    };
                }
                FieldType::String | FieldType::Auto => {}
            }
            #[allow(clippy::cast_possible_truncation, reason = "lines are under 4 GiB")]
            {
                out.spans[slot] = (value_start as u32, value_end as u32);
            }
            out.order[count] = slot as u8;
            count += 1;
            if stop == end {
                break;
            }
            pos = stop + 1;
        }
        if seen & self.required != self.required {
            return false;
        }
        out.line = line;
        out.len = count;
        true
    }

    /// The type of `slot`.
    #[inline(always)]
    pub(crate) fn ty(&self, slot: usize) -> FieldType {
        self.types[slot]
    }
}

/// `start..end` of `b` without ASCII whitespace at either end.
#[inline(always)]
fn trimmed(b: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && b[start].is_ascii_whitespace() {
        start += 1;
    }
    while end > start && b[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    (start, end)
}
