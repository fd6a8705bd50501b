//! Reading one logfmt line in a single scan into typed values kept by slot,
//! in buffers reused from line to line: no allocation unless the line is
//! rejected (or a quoted value has escapes, which are undone into one
//! buffer that keeps its capacity).
//!
//! The grammar is go-logfmt's: pairs are separated by bytes up to and
//! including the space (tabs, `\r` and other control bytes too); a key is
//! any run of other bytes but `=` and `"`; `key=value`, `key="quoted value"`
//! with JSON's backslash escapes, `key=` (an empty value) or `key` alone (a
//! bare key). Unlike go-logfmt, an unquoted value may hold `=`
//! (`url=/a?b=c`).
//!
//! For speed, above all in WebAssembly: keys and values are scanned eight
//! bytes at a time, keys are found through their first byte, and the
//! wording of every reject reason is kept out of line, in cold functions.

use foghorn_plugin::Value;
use foghorn_plugin::bytes::{HIGH, ONES, same, word, zero_bytes};
use foghorn_plugin::lines::Skip;
use foghorn_plugin::typed::{FieldType, quote};

use crate::config::{Needed, NonFinite, Schema, Target, UnknownKeys};

/// Where a value's text is: a span of the line, or of the buffer escapes
/// were undone into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    Line(u32, u32),
    Unescaped(u32, u32),
}

/// A field's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell {
    Float(f64),
    Int(i64),
    Bool(bool),
    Text(Text),
}

/// A pair's value as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Raw {
    /// `key` alone.
    Bare,
    /// `key=` or `key=""`.
    Empty,
    Text(Text),
}

/// What a line was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// A point: its values are in the parser's buffers.
    Point,
    /// An empty line, skipped (`blank_lines: skip`).
    Blank,
}

/// A line parser for one schema, with the values of the last line.
#[derive(Debug)]
pub(crate) struct Parser {
    pub schema: Schema,
    /// The number of the current line: a slot, tag or key whose stamp is
    /// not it was not in the line, and nothing is cleared between lines.
    line: u64,
    /// Per slot, the line that set it.
    field_stamps: Vec<u64>,
    /// Per slot, its value (`None` for an empty one).
    fields: Vec<Option<Cell>>,
    /// How many fields of `fields` have a value in the current line.
    valued: usize,
    /// Per tag key, the line that set it, and its value.
    tag_stamps: Vec<u64>,
    pub tags: Vec<Option<Text>>,
    timestamp_stamp: u64,
    pub timestamp: Option<i64>,
    measurement_stamp: u64,
    pub measurement: Option<Text>,
    /// Keys the config does not name, kept as fields: the key's span and
    /// its value.
    pub unknown: Vec<((u32, u32), Option<Cell>)>,
    /// Quoted values with their escapes undone, one after another.
    pub unescaped: String,
}

impl Parser {
    pub(crate) fn new(schema: Schema) -> Self {
        Self {
            line: 0,
            field_stamps: vec![0; schema.slots.len()],
            fields: vec![None; schema.slots.len()],
            valued: 0,
            tag_stamps: vec![0; schema.tags.len()],
            tags: vec![None; schema.tags.len()],
            timestamp_stamp: 0,
            timestamp: None,
            measurement_stamp: 0,
            measurement: None,
            unknown: Vec::new(),
            unescaped: String::new(),
            schema,
        }
    }

    /// The text of a value of the last line, `line`.
    #[inline]
    pub(crate) fn text<'a>(&'a self, line: &'a str, text: Text) -> &'a str {
        let (source, start, end) = match text {
            Text::Line(start, end) => (line, start, end),
            Text::Unescaped(start, end) => (self.unescaped.as_str(), start, end),
        };
        source.get(start as usize..end as usize).unwrap_or_default()
    }

    /// The value of field `slot` in the last line, if it has one.
    #[inline]
    pub(crate) fn field(&self, slot: usize) -> Option<Cell> {
        self.fields[slot].filter(|_| self.field_stamps[slot] == self.line)
    }

    /// The value of tag `tag` in the last line, or `""` for none.
    #[inline]
    pub(crate) fn tag<'a>(&'a self, line: &'a str, tag: usize) -> &'a str {
        match self.tags[tag] {
            Some(text) if self.tag_stamps[tag] == self.line => self.text(line, text),
            _ => "",
        }
    }

    /// Parse `line` (valid UTF-8, shorter than `max_line_length`) into the
    /// parser's buffers, or say why it is rejected.
    pub(crate) fn parse(&mut self, line: &str) -> Result<Parsed, String> {
        self.line += 1;
        self.valued = 0;
        self.unknown.clear();
        self.unescaped.clear();
        self.timestamp = None;
        self.measurement = None;
        let b = line.as_bytes();
        let n = b.len();
        let mut pos = 0;
        let mut pairs = 0;
        loop {
            while pos < n && b[pos] <= b' ' {
                pos += 1;
            }
            if pos == n {
                break;
            }
            pairs += 1;
            let key_start = pos;
            pos = scan::<true>(b, pos);
            let key_end = pos;
            if pos < n && (b[pos] == b'"' || pos == key_start) {
                return Err(invalid_key(line, key_start));
            }
            let key = (key_start, key_end);
            let raw = if pos == n || b[pos] <= b' ' {
                Raw::Bare
            } else {
                // At `=`.
                pos += 1;
                if pos == n || b[pos] <= b' ' {
                    Raw::Empty
                } else if b[pos] == b'"' {
                    let start = pos + 1;
                    let Some((end, escaped)) = closing_quote(b, start) else {
                        return Err(unterminated(line, key));
                    };
                    pos = end + 1;
                    if escaped {
                        let from = self.unescaped.len();
                        if let Err(escape) = unescape(&line[start..end], &mut self.unescaped) {
                            return Err(bad_escape(line, key, escape));
                        }
                        Raw::Text(Text::Unescaped(span(from), span(self.unescaped.len())))
                    } else if end == start {
                        Raw::Empty
                    } else {
                        Raw::Text(Text::Line(span(start), span(end)))
                    }
                } else {
                    let start = pos;
                    pos = scan::<false>(b, pos);
                    if pos < n && b[pos] == b'"' {
                        return Err(quote_in_value(line, key, start));
                    }
                    Raw::Text(Text::Line(span(start), span(pos)))
                }
            };
            self.pair(line, key, raw)?;
        }
        if pairs == 0 {
            return match self.schema.blank_lines.skip() {
                Skip::Blank => Ok(Parsed::Blank),
                Skip::Reject(reason) => Err(reason),
            };
        }
        self.check()?;
        Ok(Parsed::Point)
    }

    /// Take one pair of the line.
    #[inline]
    fn pair(&mut self, line: &str, (start, end): (usize, usize), raw: Raw) -> Result<(), String> {
        let key = &line[start..end];
        let schema = &self.schema;
        match schema.lookup(key.as_bytes()) {
            Some(Target::Field(slot)) => {
                if self.field_stamps[slot] == self.line {
                    return Err(duplicate(key));
                }
                self.field_stamps[slot] = self.line;
                let field = &schema.slots[slot];
                let cell = self.typed(line, &field.name, field.ty, raw)?;
                self.fields[slot] = cell;
                self.valued += usize::from(cell.is_some());
            }
            Some(Target::Tag(tag)) => {
                if self.tag_stamps[tag] == self.line {
                    return Err(duplicate(key));
                }
                self.tag_stamps[tag] = self.line;
                self.tags[tag] = match raw {
                    Raw::Text(text) => Some(text),
                    Raw::Bare | Raw::Empty => None,
                };
            }
            Some(Target::Timestamp) => {
                if self.timestamp_stamp == self.line {
                    return Err(duplicate(key));
                }
                self.timestamp_stamp = self.line;
                if let Raw::Text(text) = raw {
                    let format = &schema.timestamp.as_ref().expect("a timestamp key").format;
                    match format.parse(self.text(line, text)) {
                        Ok(at) => self.timestamp = Some(at),
                        Err(e) => return Err(bad_time(key, &e)),
                    }
                }
            }
            Some(Target::Measurement) => {
                if self.measurement_stamp == self.line {
                    return Err(duplicate(key));
                }
                self.measurement_stamp = self.line;
                if let Raw::Text(text) = raw {
                    self.measurement = Some(text);
                }
            }
            Some(Target::Taken(slot)) if schema.unknown_keys == UnknownKeys::Keep => {
                return Err(clash(schema, key, slot));
            }
            Some(Target::Taken(_)) | None => match schema.unknown_keys {
                UnknownKeys::Keep => {
                    let bytes = line.as_bytes();
                    let seen = self.unknown.iter().any(|&((s, e), _)| {
                        same(
                            bytes.get(s as usize..e as usize).unwrap_or_default(),
                            key.as_bytes(),
                        )
                    });
                    if seen {
                        return Err(duplicate(key));
                    }
                    let cell = self.typed(line, key, FieldType::Auto, raw)?;
                    self.unknown.push(((span(start), span(end)), cell));
                }
                UnknownKeys::Reject => return Err(unknown(key)),
                UnknownKeys::Drop => {}
            },
        }
        Ok(())
    }

    /// The value of field `name` of type `ty`; `None` for an empty one.
    #[inline]
    fn typed(
        &self,
        line: &str,
        name: &str,
        ty: FieldType,
        raw: Raw,
    ) -> Result<Option<Cell>, String> {
        let text = match raw {
            Raw::Empty => return Ok(None),
            Raw::Bare => {
                return match ty {
                    FieldType::Auto | FieldType::Bool => Ok(Some(Cell::Bool(true))),
                    _ => Err(bare_key(name, ty)),
                };
            }
            Raw::Text(text) => text,
        };
        let value = self.text(line, text);
        let keep = self.schema.non_finite == NonFinite::Keep;
        let cell = match ty {
            // The common cases, without going through `Value`.
            FieldType::Float => foghorn_plugin::number::parse_f64(value).map(Cell::Float),
            FieldType::Int => foghorn_plugin::number::parse_i64(value).map(Cell::Int),
            _ => ty.parse(value).map(|parsed| match parsed {
                Value::Float(v) => Cell::Float(v),
                Value::Int(v) => Cell::Int(v),
                Value::Bool(v) => Cell::Bool(v),
                Value::Text(_) => Cell::Text(text),
            }),
        };
        match cell {
            Some(Cell::Float(v)) if !v.is_finite() && !keep => Err(not_finite(name, value)),
            Some(cell) => Ok(Some(cell)),
            None => Err(not_a(name, value, ty)),
        }
    }

    /// What the whole line must have.
    fn check(&self) -> Result<(), String> {
        let schema = &self.schema;
        if let Some(timestamp) = &schema.timestamp
            && self.timestamp.is_none()
        {
            return Err(missing_timestamp(&timestamp.key));
        }
        for needed in &schema.required {
            let missing = match *needed {
                Needed::Field(slot) => {
                    self.field_stamps[slot] != self.line || self.fields[slot].is_none()
                }
                Needed::Tag(tag) => self.tag_stamps[tag] != self.line || self.tags[tag].is_none(),
                Needed::Measurement => self.measurement.is_none(),
            };
            if missing {
                return Err(missing_required(schema, *needed));
            }
        }
        if self.valued == 0 && self.unknown.iter().all(|(_, cell)| cell.is_none()) {
            return Err("no fields: every key is a tag, the time, dropped or empty".to_owned());
        }
        Ok(())
    }
}

// The reject reasons, out of the hot path.

#[cold]
#[inline(never)]
fn invalid_key(line: &str, start: usize) -> String {
    let token = token(line, start);
    if token.starts_with('=') {
        format!("invalid key: {} has nothing before \"=\"", quote(token))
    } else {
        format!("invalid key {}: a key cannot hold a quote", quote(token))
    }
}

#[cold]
#[inline(never)]
fn unterminated(line: &str, (start, end): (usize, usize)) -> String {
    format!(
        "unterminated quote in the value of key {}",
        &line[start..end]
    )
}

#[cold]
#[inline(never)]
fn bad_escape(line: &str, (start, end): (usize, usize), escape: &str) -> String {
    format!(
        "key {}: invalid escape {} in a quoted value",
        &line[start..end],
        quote(escape)
    )
}

#[cold]
#[inline(never)]
fn quote_in_value(line: &str, (start, end): (usize, usize), value: usize) -> String {
    format!(
        "key {}: a quote inside the unquoted value {}",
        &line[start..end],
        quote(token(line, value))
    )
}

#[cold]
#[inline(never)]
fn duplicate(key: &str) -> String {
    format!("duplicate key {}", quote(key))
}

#[cold]
#[inline(never)]
fn unknown(key: &str) -> String {
    format!("unknown key {}", quote(key))
}

#[cold]
#[inline(never)]
fn bad_time(key: &str, error: &str) -> String {
    format!("key {key}: {error}")
}

#[cold]
#[inline(never)]
fn clash(schema: &Schema, key: &str, slot: usize) -> String {
    let renamed = schema
        .keys
        .iter()
        .find(|other| other.target == Target::Field(slot));
    format!(
        "key {} clashes with field {}, which key {} is renamed to",
        quote(key),
        schema.slots[slot].name,
        quote(renamed.map_or("?", |other| other.text.as_str())),
    )
}

#[cold]
#[inline(never)]
fn bare_key(name: &str, ty: FieldType) -> String {
    format!(
        "field {name}: a bare key (no \"=\") is not {}",
        ty.described()
    )
}

#[cold]
#[inline(never)]
fn not_finite(name: &str, value: &str) -> String {
    format!(
        "field {name}: {} is not a finite number (non_finite: keep accepts it)",
        quote(value)
    )
}

#[cold]
#[inline(never)]
fn not_a(name: &str, value: &str, ty: FieldType) -> String {
    format!("field {name}: {} is not {}", quote(value), ty.described())
}

#[cold]
#[inline(never)]
fn missing_timestamp(key: &str) -> String {
    format!("missing timestamp key {key}")
}

#[cold]
#[inline(never)]
fn missing_required(schema: &Schema, needed: Needed) -> String {
    let (what, name) = match needed {
        Needed::Field(slot) => ("field", schema.slots[slot].name.as_str()),
        Needed::Tag(tag) => ("tag key", schema.tags[tag].as_str()),
        Needed::Measurement => (
            "measurement key",
            schema.measurement_key.as_deref().unwrap_or_default(),
        ),
    };
    format!("missing required {what} {name}")
}

/// The text from `start` to the next separator, for a reject reason.
fn token(line: &str, start: usize) -> &str {
    let rest = &line[start..];
    let end = rest.bytes().position(|b| b <= b' ').unwrap_or(rest.len());
    &rest[..end]
}

/// Each byte of a word set to 1, and to 0x80.
/// The first position from `pos` of a separator (a byte up to the space)
/// or a quote, and with `KEY` also of an `=`; or the end. Eight bytes at a
/// time: a key or value is mostly found in one step.
#[inline(always)]
fn scan<const KEY: bool>(b: &[u8], mut pos: usize) -> usize {
    while pos < b.len() {
        let (word, valid) = match b.get(pos..pos + 8) {
            Some(chunk) => (word(chunk), 8),
            // The line's last eight bytes, shifted down past those seen.
            None if b.len() >= 8 => (
                word(&b[b.len() - 8..]) >> (8 * (pos + 8 - b.len())),
                b.len() - pos,
            ),
            None => (word(&b[pos..]), b.len() - pos),
        };
        // Bytes below 0x21 (the lowest one found is exact: a borrow only
        // runs upwards), quotes and, in a key, `=`.
        let mut stops = word.wrapping_sub(ONES * 0x21) & !word & HIGH;
        stops |= zero_bytes(word ^ (ONES * u64::from(b'"')));
        if KEY {
            stops |= zero_bytes(word ^ (ONES * u64::from(b'=')));
        }
        stops &= u64::MAX >> (64 - 8 * valid);
        if stops != 0 {
            return pos + stops.trailing_zeros() as usize / 8;
        }
        pos += valid;
    }
    b.len()
}

/// A position in a line, which is shorter than 4 GiB.
#[inline(always)]
#[allow(clippy::cast_possible_truncation, reason = "lines are under 4 GiB")]
fn span(at: usize) -> u32 {
    at as u32
}

/// Where the quote closing a value that starts at `start` is, and whether
/// the value has escapes; `None` if it runs to the end of the line.
#[inline]
fn closing_quote(b: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    let mut pos = start;
    while let Some(at) = b
        .get(pos..)
        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
    {
        pos += at;
        if b[pos] == b'"' {
            return Some((pos, escaped));
        }
        escaped = true;
        pos += 2;
    }
    None
}

/// Append `quoted` (a quoted value without its quotes) to `out` with its
/// escapes undone, as JSON's: `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`,
/// `\t` and `\uXXXX` (a UTF-16 surrogate pair makes one character; a lone
/// surrogate becomes U+FFFD, as in go-logfmt). The bad escape on error.
fn unescape<'a>(quoted: &'a str, out: &mut String) -> Result<(), &'a str> {
    let mut rest = quoted;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let escape = &rest[at..];
        let mut chars = escape[1..].chars();
        let (c, len) = match chars.next() {
            Some('"') => ('"', 2),
            Some('\\') => ('\\', 2),
            Some('/') => ('/', 2),
            Some('b') => ('\u{8}', 2),
            Some('f') => ('\u{c}', 2),
            Some('n') => ('\n', 2),
            Some('r') => ('\r', 2),
            Some('t') => ('\t', 2),
            Some('u') => {
                let high = hex4(escape.get(2..6)).ok_or_else(|| cut(escape, 6))?;
                let low = escape
                    .get(6..8)
                    .filter(|u| *u == "\\u")
                    .and_then(|_| hex4(escape.get(8..12)))
                    .filter(|low| (0xdc00..0xe000).contains(low));
                match (high, low) {
                    (0xd800..0xdc00, Some(low)) => {
                        let code = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
                        (char::from_u32(code).unwrap_or('\u{fffd}'), 12)
                    }
                    _ => (char::from_u32(high).unwrap_or('\u{fffd}'), 6),
                }
            }
            Some(other) => return Err(cut(escape, 1 + other.len_utf8())),
            None => return Err(escape),
        };
        out.push(c);
        rest = &escape[len..];
    }
    out.push_str(rest);
    Ok(())
}

/// The first `len` bytes of `text`, or all of it.
fn cut(text: &str, len: usize) -> &str {
    text.get(..len).unwrap_or(text)
}

/// Four hex digits.
fn hex4(text: Option<&str>) -> Option<u32> {
    let text = text?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unescaped(quoted: &str) -> Result<String, String> {
        let mut out = String::new();
        unescape(quoted, &mut out).map_err(str::to_owned)?;
        Ok(out)
    }

    #[test]
    fn escapes_are_undone_as_json_undoes_them() {
        assert_eq!(
            unescaped(r#"say \"hi\" \\ \/ \t\n\r\b\f end"#).unwrap(),
            "say \"hi\" \\ / \t\n\r\u{8}\u{c} end"
        );
        assert_eq!(unescaped(r"\u00e9\u20AC").unwrap(), "é€");
        assert_eq!(
            unescaped(r"\ud83d\ude00!").unwrap(),
            "😀!",
            "a surrogate pair"
        );
        assert_eq!(
            unescaped(r"\ud83dx").unwrap(),
            "\u{fffd}x",
            "a lone surrogate"
        );
        assert_eq!(unescaped(r"\ude00").unwrap(), "\u{fffd}");
        assert_eq!(unescaped(r"a\x"), Err(r"\x".to_owned()));
        assert_eq!(unescaped(r"a\é"), Err(r"\é".to_owned()));
        assert_eq!(unescaped(r"\u12g4"), Err(r"\u12g4".to_owned()));
        assert_eq!(unescaped(r"\u12"), Err(r"\u12".to_owned()));
        assert_eq!(unescaped(r"\u+123"), Err(r"\u+123".to_owned()));
    }

    /// The scan stops where a byte-by-byte scan stops, and words are read
    /// as bytes are, at every length and offset.
    #[test]
    fn the_word_scan_agrees_with_a_byte_scan() {
        let alphabet = b"ab=\" \t\x01\x7f\xc3\xa9z!";
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 23) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|i| alphabet[((state >> (i % 48)) as usize + i * 7) % alphabet.len()])
                .collect();
            for pos in 0..=len {
                let stop = |key: bool| {
                    (pos..len)
                        .find(|&i| bytes[i] <= b' ' || bytes[i] == b'"' || key && bytes[i] == b'=')
                        .unwrap_or(len)
                };
                assert_eq!(
                    scan::<true>(&bytes, pos),
                    stop(true),
                    "{bytes:?} from {pos}"
                );
                assert_eq!(
                    scan::<false>(&bytes, pos),
                    stop(false),
                    "{bytes:?} from {pos}"
                );
                let rest = &bytes[pos..];
                let naive = rest
                    .iter()
                    .take(8)
                    .rev()
                    .fold(0, |word, &byte| (word << 8) | u64::from(byte));
                assert_eq!(word(rest), naive, "{rest:?}");
                let prefix = &bytes[..pos];
                assert_eq!(same(rest, prefix), rest == prefix, "{rest:?} {prefix:?}");
                let mut changed = rest.to_vec();
                if let Some(last) = changed.last_mut() {
                    *last ^= 1;
                    assert!(!same(rest, &changed) && same(rest, rest));
                }
            }
        }
    }

    #[test]
    fn a_closing_quote_is_found_past_escapes() {
        let b = br#"a\"b\\" rest"#;
        assert_eq!(closing_quote(b, 0), Some((6, true)));
        assert_eq!(closing_quote(br#"ab" x"#, 0), Some((2, false)));
        assert_eq!(closing_quote(br#"ab\""#, 0), None);
        assert_eq!(closing_quote(br"ab\", 0), None);
    }
}
