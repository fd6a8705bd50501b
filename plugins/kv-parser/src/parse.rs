//! Parsing one line into typed field values that borrow from the line: no
//! allocation unless the line is rejected.

use foghorn_plugin::Value;

use crate::config::{FieldType, NonFinite, Schema, Target, UnknownKeys};

/// Where a parsed value goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Name<'a> {
    /// The field `schema.slots[index]`.
    Slot(usize),
    /// A kept unknown key, under its own name.
    Key(&'a str),
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
    ) -> Result<(), String> {
        fields.clear();
        self.line += 1;
        let line_number = self.line;
        let trim_enabled = self.schema.trim;
        let trim = |text: &'a str| {
            if trim_enabled {
                text.trim_ascii()
            } else {
                text
            }
        };

        let Ok(line) = std::str::from_utf8(bytes) else {
            return Err("invalid UTF-8".to_owned());
        };
        let line = trim(line);
        if line.is_empty() {
            return Err("empty line".to_owned());
        }
        let mut rest = Some(line);
        let mut number = 0;
        while let Some(text) = rest {
            number += 1;
            let schema = &self.schema;
            let pair = match schema.pair_separator.split_once(text) {
                Some((pair, after)) => {
                    rest = Some(after);
                    trim(pair)
                }
                None => {
                    rest = None;
                    trim(text)
                }
            };
            if pair.is_empty() {
                return Err(format!("pair {number} is empty"));
            }
            let Some((key, value)) = schema.kv_separator.split_once(pair) else {
                let separator = schema.kv_separator.as_str();
                return Err(format!(
                    "pair {number} {} has no {separator:?}",
                    quote(pair)
                ));
            };
            let (key, value) = (trim(key), trim(value));
            if key.is_empty() {
                return Err(format!("pair {number} {} has an empty key", quote(pair)));
            }
            let Some((name, ty)) = self.resolve(key, fields)? else {
                continue;
            };
            let schema = &self.schema;
            let field = || match name {
                Name::Slot(slot) => schema.slots[slot].name.as_str(),
                Name::Key(key) => key,
            };
            let Some(typed) = typed(ty, value) else {
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
            let value = typed;
            fields.push((name, value));
        }
        let schema = &self.schema;
        for &slot in &schema.required {
            if self.set_by_line[slot] != line_number {
                return Err(format!(
                    "missing required field {}",
                    schema.slots[slot].name
                ));
            }
        }
        if fields.is_empty() {
            return Err("no fields: every key is unknown and dropped".to_owned());
        }
        Ok(())
    }

    /// Where the value of `key` goes and its type; `None` to drop the pair.
    fn resolve<'a>(
        &mut self,
        key: &'a str,
        fields: &[(Name<'a>, Value<'a>)],
    ) -> Result<Option<(Name<'a>, FieldType)>, String> {
        let schema = &self.schema;
        match schema.lookup(key) {
            Some(Target::Field(slot)) => {
                if self.set_by_line[slot] == self.line {
                    return Err(format!("duplicate key {}", quote(key)));
                }
                self.set_by_line[slot] = self.line;
                Ok(Some((Name::Slot(slot), schema.slots[slot].ty)))
            }
            Some(Target::Taken(slot)) if schema.unknown_keys == UnknownKeys::Keep => {
                let renamed = schema.keys.iter().find(|(_, t)| *t == Target::Field(slot));
                Err(format!(
                    "key {} clashes with field {}, which key {} is renamed to",
                    quote(key),
                    schema.slots[slot].name,
                    quote(renamed.map_or("?", |(k, _)| k.as_str())),
                ))
            }
            Some(Target::Taken(_)) | None => match schema.unknown_keys {
                UnknownKeys::Keep if fields.iter().any(|(name, _)| *name == Name::Key(key)) => {
                    Err(format!("duplicate key {}", quote(key)))
                }
                UnknownKeys::Keep => Ok(Some((Name::Key(key), FieldType::Auto))),
                UnknownKeys::Reject => Err(format!("unknown key {}", quote(key))),
                UnknownKeys::Drop => Ok(None),
            },
        }
    }
}

/// `text` as `ty`, or `None` if it is not one.
fn typed(ty: FieldType, text: &str) -> Option<Value<'_>> {
    Some(match ty {
        FieldType::Float => Value::Float(text.parse().ok()?),
        FieldType::Int => Value::Int(text.parse().ok()?),
        FieldType::Bool => Value::Bool(match text {
            "1" => true,
            "0" => false,
            _ if text.eq_ignore_ascii_case("true") => true,
            _ if text.eq_ignore_ascii_case("false") => false,
            _ => return None,
        }),
        FieldType::String => Value::Text(text),
        FieldType::Auto => match looks_numeric(text).then(|| text.parse().ok()).flatten() {
            Some(number) => Value::Float(number),
            None => Value::Text(text),
        },
    })
}

/// Whether `text` is shaped like a number (so `inf`, `nan` and `-Infinity`
/// stay text under `auto`).
fn looks_numeric(text: &str) -> bool {
    let bytes = text.as_bytes();
    matches!(bytes.first(), Some(b'0'..=b'9' | b'-' | b'+' | b'.'))
        && matches!(bytes.last(), Some(b'0'..=b'9' | b'.'))
}

/// `text` in quotes, escaped, and cut at 60 characters.
fn quote(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}
