//! Parsing one line into typed field values that borrow from the line: no
//! allocation unless the line is rejected.
//!
//! The hot path is written for the bench device's short lines: separators
//! of one byte are found by a plain byte scan, keys are matched by length
//! and first byte before their bytes, and short decimals are read by
//! `foghorn_plugin::number::parse_f64`'s exact fast path (through
//! `typed::FieldType::parse`).

use foghorn_plugin::Value;
use foghorn_plugin::lines::{self, Skip};
use foghorn_plugin::typed::quote;

use crate::config::{FieldType, NonFinite, Schema, Separator, Target, UnknownKeys};

/// Where a parsed value goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Name<'a> {
    /// The field `schema.slots[index]`.
    Slot(usize),
    /// A kept unknown key, under its own name.
    Key(&'a str),
}

/// What a line was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// A point: its fields are in the `fields` given to [`Parser::parse`].
    Point,
    /// An empty line, skipped (`blank_lines: skip`).
    Blank,
}

/// A line parser for one schema.
#[derive(Debug)]
pub(crate) struct Parser {
    pub(crate) schema: Schema,
    /// For each slot, the number of the last line that set it: duplicates and
    /// missing fields are found without clearing anything between lines.
    set_by_line: Vec<u64>,
    line: u64,
}

impl Parser {
    pub(crate) fn new(schema: Schema) -> Self {
        let set_by_line = vec![0; schema.slots.len()];
        Self {
            schema,
            set_by_line,
            line: 0,
        }
    }

    /// Parse `bytes` into `fields` (cleared first), or say why the line is
    /// rejected.
    pub(crate) fn parse<'a>(
        &mut self,
        bytes: &'a [u8],
        fields: &mut Vec<(Name<'a>, Value<'a>)>,
    ) -> Result<Parsed, String> {
        fields.clear();
        self.line += 1;
        let schema = &self.schema;
        let line = trim(schema.trim, lines::text(bytes, schema.max_line_length)?);
        if line.is_empty() {
            return match schema.blank_lines.skip() {
                Skip::Blank => Ok(Parsed::Blank),
                Skip::Reject(reason) => Err(reason),
            };
        }
        // The separators' search is chosen once per line, so the common
        // one-byte separators compile to a plain byte scan.
        let (schema, seen, line_number) = (&self.schema, &mut self.set_by_line, self.line);
        let mut state = Line {
            schema,
            seen,
            number: line_number,
            next_place: 0,
        };
        match (&schema.pair_separator, &schema.kv_separator) {
            (Separator::Byte(pair), Separator::Byte(kv)) => state.pairs(line, pair, kv, fields)?,
            (pair, kv) => state.pairs(line, &pair, &kv, fields)?,
        }
        let schema = &self.schema;
        for &slot in &schema.required {
            if self.set_by_line[slot] != self.line {
                return Err(format!(
                    "missing required field {}",
                    schema.slots[slot].name
                ));
            }
        }
        if fields.is_empty() {
            return Err("no fields: every key is unknown and dropped".to_owned());
        }
        Ok(Parsed::Point)
    }
}

/// One line being parsed.
struct Line<'s> {
    schema: &'s Schema,
    /// [`Parser::set_by_line`].
    seen: &'s mut [u64],
    number: u64,
    /// With `ordered`, the place in `fields` the next key may have.
    next_place: usize,
}

/// A separator as the inner loop searches for it: a byte (inlined into the
/// loop) or any [`Separator`].
trait Find {
    fn find(&self, text: &str) -> Option<(usize, usize)>;
}

impl Find for u8 {
    #[inline(always)]
    fn find(&self, text: &str) -> Option<(usize, usize)> {
        text.as_bytes()
            .iter()
            .position(|b| b == self)
            .map(|at| (at, at + 1))
    }
}

impl Find for &Separator {
    #[inline]
    fn find(&self, text: &str) -> Option<(usize, usize)> {
        Separator::find(self, text)
    }
}

impl<'s> Line<'s> {
    /// Every pair of `line` into `fields`.
    #[inline(always)]
    fn pairs<'a>(
        &mut self,
        line: &'a str,
        pair_separator: &impl Find,
        kv_separator: &impl Find,
        fields: &mut Vec<(Name<'a>, Value<'a>)>,
    ) -> Result<(), String> {
        let mut rest = line;
        let mut number = 0;
        loop {
            number += 1;
            let (pair, more) = match pair_separator.find(rest) {
                Some((at, after)) => (&rest[..at], Some(&rest[after..])),
                None => (rest, None),
            };
            self.pair(pair, number, kv_separator, fields)?;
            match more {
                Some(more) => rest = more,
                None => return Ok(()),
            }
        }
    }

    /// Read pair `number` of the line into `fields`.
    #[inline]
    fn pair<'a>(
        &mut self,
        pair: &'a str,
        number: usize,
        kv_separator: &impl Find,
        fields: &mut Vec<(Name<'a>, Value<'a>)>,
    ) -> Result<(), String> {
        let schema = self.schema;
        let pair = trim(schema.trim, pair);
        if pair.is_empty() {
            return Err(format!("pair {number} is empty"));
        }
        let Some((at, after)) = kv_separator.find(pair) else {
            let separator = schema.kv_separator.as_str();
            return Err(format!(
                "pair {number} {} has no {separator:?}",
                quote(pair)
            ));
        };
        let key = trim(schema.trim, &pair[..at]);
        let value = trim(schema.trim, &pair[after..]);
        if key.is_empty() {
            return Err(format!("pair {number} {} has an empty key", quote(pair)));
        }
        let Some((name, ty)) = self.resolve(key, fields)? else {
            return Ok(());
        };
        let field = || match name {
            Name::Slot(slot) => schema.slots[slot].name.as_str(),
            Name::Key(key) => key,
        };
        let Some(typed) = ty.parse(value) else {
            return Err(format!(
                "field {}: {} is not {}",
                field(),
                quote(value),
                ty.described()
            ));
        };
        if let Value::Float(number) = typed
            && !number.is_finite()
            && schema.non_finite == NonFinite::Reject
        {
            return Err(format!(
                "field {}: {} is not a finite number (non_finite: keep accepts it)",
                field(),
                quote(value)
            ));
        }
        fields.push((name, typed));
        Ok(())
    }

    /// Where the value of `key` goes and its type; `None` to drop the pair.
    #[inline]
    fn resolve<'a>(
        &mut self,
        key: &'a str,
        fields: &[(Name<'a>, Value<'a>)],
    ) -> Result<Option<(Name<'a>, FieldType)>, String> {
        let schema = self.schema;
        let Some(known) = schema.lookup(key) else {
            return unknown(schema, key, fields);
        };
        match known.target {
            Target::Field(slot) => {
                if self.seen[slot] == self.number {
                    return Err(format!("duplicate key {}", quote(key)));
                }
                if let (Some(order), Some(place)) = (&schema.order, known.order) {
                    if place < self.next_place {
                        return Err(format!(
                            "key {} out of order: the keys come as {}",
                            quote(key),
                            order.join(", ")
                        ));
                    }
                    self.next_place = place + 1;
                }
                self.seen[slot] = self.number;
                Ok(Some((Name::Slot(slot), schema.slots[slot].ty)))
            }
            Target::Taken(slot) if schema.unknown_keys == UnknownKeys::Keep => {
                let renamed = schema
                    .keys
                    .iter()
                    .find(|other| other.target == Target::Field(slot));
                Err(format!(
                    "key {} clashes with field {}, which key {} is renamed to",
                    quote(key),
                    schema.slots[slot].name,
                    quote(renamed.map_or("?", |other| other.text.as_str())),
                ))
            }
            Target::Taken(_) => unknown(schema, key, fields),
        }
    }
}

/// A key the config does not name, by `unknown_keys`.
fn unknown<'a>(
    schema: &Schema,
    key: &'a str,
    fields: &[(Name<'a>, Value<'a>)],
) -> Result<Option<(Name<'a>, FieldType)>, String> {
    match schema.unknown_keys {
        UnknownKeys::Keep if fields.iter().any(|(name, _)| *name == Name::Key(key)) => {
            Err(format!("duplicate key {}", quote(key)))
        }
        UnknownKeys::Keep => Ok(Some((Name::Key(key), FieldType::Auto))),
        UnknownKeys::Reject => Err(format!("unknown key {}", quote(key))),
        UnknownKeys::Drop => Ok(None),
    }
}

#[inline]
fn trim(enabled: bool, text: &str) -> &str {
    if enabled { text.trim_ascii() } else { text }
}
