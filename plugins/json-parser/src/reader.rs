//! A strict JSON (RFC 8259) reader over one record's text, token by token:
//! the walk in `walk.rs` asks it for the next key or value and either reads
//! it or skips it. Nothing is allocated: strings are returned as their
//! place in the text (unescaped into a caller's buffer only when they have
//! escapes), and skipped containers are tracked in a 128-bit stack.
//!
//! It is written as plain byte loops because those compile to WebAssembly
//! almost as well as to native code, unlike a general deserializer's layers
//! of generic calls.

use foghorn_plugin::number;

/// Containers nested deeper than this reject the record.
pub(crate) const MAX_DEPTH: usize = 128;

/// Why the text is not JSON: what was expected, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub at: usize,
    pub what: &'static str,
}

impl Invalid {
    /// The reason for a record `text`: `invalid JSON at line 1 column 17:
    /// expected value` (columns count bytes, from 1).
    pub(crate) fn reason(self, text: &str) -> String {
        let before = &text.as_bytes()[..self.at.min(text.len())];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let column = self.at
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |nl| nl + 1)
            + 1;
        if self.what == DEEP {
            return format!("nested more than {MAX_DEPTH} deep at line {line} column {column}");
        }
        format!("invalid JSON at line {line} column {column}: {}", self.what)
    }
}

const DEEP: &str = "nested too deep";

/// A string token: the text between its quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Str {
    pub start: usize,
    pub end: usize,
    /// Whether it has escapes, so that its value differs from its text.
    pub escaped: bool,
}

/// A number token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    /// A negative integer that fits.
    I64(i64),
    /// A non-negative integer that fits.
    U64(u64),
    /// Any other: with a fraction or exponent, `-0`, or too large an
    /// integer (the nearest double, as `str::parse` reads it).
    F64(f64),
}

/// Bytes that end the plain run of a string: `"`, `\` and control
/// characters.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Which of the eight bytes of `word` (little-endian) are special (see
/// [`SPECIAL`]): the classic tests for a zero byte and for a byte below a
/// bound, on the word and on the word with `"` and `\` cancelled out. The
/// high bit of the first special byte is set, and none before it: a borrow
/// starts only at a byte that passes a test, and runs upwards (later bytes
/// may be flagged wrongly, so only the first counts). Zero when none is.
#[inline(always)]
fn special(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v;
    let quote = zero(word ^ (ONES * u64::from(b'"')));
    let backslash = zero(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    (quote | backslash | control) & HIGH
}

/// The reader: the text and a position in it.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    pub text: &'a str,
    bytes: &'a [u8],
    pub at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    /// The text is not JSON at the reader's position.
    #[inline]
    pub(crate) fn invalid(&self, what: &'static str) -> Invalid {
        Invalid { at: self.at, what }
    }

    /// Skip whitespace; the byte after it.
    #[inline(always)]
    pub(crate) fn skip_ws(&mut self) -> Option<u8> {
        while let Some(&byte) = self.bytes.get(self.at) {
            if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(byte);
            }
            self.at += 1;
        }
        None
    }

    /// The first byte of the next value, after whitespace.
    #[inline(always)]
    pub(crate) fn value_start(&mut self) -> Result<u8, Invalid> {
        self.skip_ws()
            .ok_or_else(|| self.invalid("EOF while parsing a value"))
    }

    /// After the whole value: nothing but whitespace.
    pub(crate) fn end(&mut self) -> Result<(), Invalid> {
        match self.skip_ws() {
            None => Ok(()),
            Some(_) => Err(self.invalid("trailing characters")),
        }
    }

    /// The bytes of a string without escapes.
    #[inline(always)]
    pub(crate) fn bytes(&self, s: Str) -> &'a [u8] {
        self.bytes.get(s.start..s.end).unwrap_or_default()
    }

    /// The text of a string without escapes.
    #[inline]
    pub(crate) fn slice(&self, s: Str) -> &'a str {
        self.text.get(s.start..s.end).unwrap_or_default()
    }

    /// The next key of the object whose `{` (when `first`) or last value was
    /// just read, with its `:` read too; `None` at the `}`.
    #[inline(always)]
    pub(crate) fn next_key(&mut self, first: &mut bool) -> Result<Option<Str>, Invalid> {
        let eof = "EOF while parsing an object";
        let mut byte = self.skip_ws().ok_or_else(|| self.invalid(eof))?;
        if *first {
            *first = false;
            if byte == b'}' {
                self.at += 1;
                return Ok(None);
            }
        } else {
            match byte {
                b',' => {
                    self.at += 1;
                    byte = self.skip_ws().ok_or_else(|| self.invalid(eof))?;
                    if byte == b'}' {
                        return Err(self.invalid("trailing comma"));
                    }
                }
                b'}' => {
                    self.at += 1;
                    return Ok(None);
                }
                _ => return Err(self.invalid("expected `,` or `}`")),
            }
        }
        if byte != b'"' {
            return Err(self.invalid("key must be a string"));
        }
        let key = self.string()?;
        match self.skip_ws() {
            Some(b':') => {
                self.at += 1;
                Ok(Some(key))
            }
            Some(_) => Err(self.invalid("expected `:`")),
            None => Err(self.invalid(eof)),
        }
    }

    /// Whether the array whose `[` (when `first`) or last element was just
    /// read has another element; the `]` is read when not.
    #[inline(always)]
    pub(crate) fn next_element(&mut self, first: &mut bool) -> Result<bool, Invalid> {
        let eof = "EOF while parsing a list";
        let byte = self.skip_ws().ok_or_else(|| self.invalid(eof))?;
        if *first {
            *first = false;
            if byte == b']' {
                self.at += 1;
                return Ok(false);
            }
            return Ok(true);
        }
        match byte {
            b',' => {
                self.at += 1;
                match self.skip_ws() {
                    Some(b']') => Err(self.invalid("trailing comma")),
                    _ => Ok(true),
                }
            }
            b']' => {
                self.at += 1;
                Ok(false)
            }
            _ => Err(self.invalid("expected `,` or `]`")),
        }
    }

    /// Read `{` or `[` (at the reader's position), at nesting `depth`.
    #[inline(always)]
    pub(crate) fn open(&mut self, depth: usize) -> Result<(), Invalid> {
        if depth >= MAX_DEPTH {
            return Err(self.invalid(DEEP));
        }
        self.at += 1;
        Ok(())
    }

    /// Read a string whose `"` is at the reader's position.
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Result<Str, Invalid> {
        let bytes = self.bytes;
        let start = self.at + 1;
        let mut at = start;
        let mut escaped = false;
        loop {
            // Eight bytes at a time to the first special one; byte by byte
            // in the last few.
            while let Some(chunk) = bytes.get(at..at + 8) {
                let found = special(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
                if found != 0 {
                    at += found.trailing_zeros() as usize / 8;
                    break;
                }
                at += 8;
            }
            while at < bytes.len() && !SPECIAL[usize::from(bytes[at])] {
                at += 1;
            }
            match bytes.get(at) {
                Some(b'"') => {
                    self.at = at + 1;
                    return Ok(Str {
                        start,
                        end: at,
                        escaped,
                    });
                }
                Some(b'\\') => {
                    escaped = true;
                    self.at = at;
                    at = self.escape(at)?;
                }
                Some(_) => {
                    self.at = at;
                    return Err(self.invalid(
                        "control character (\\u0000-\\u001F) found while parsing a string",
                    ));
                }
                None => {
                    self.at = at;
                    return Err(self.invalid("EOF while parsing a string"));
                }
            }
        }
    }

    /// Check the escape whose `\` is at `at`; where it ends.
    fn escape(&mut self, at: usize) -> Result<usize, Invalid> {
        let eof = |reader: &mut Self| {
            reader.at = reader.bytes.len();
            reader.invalid("EOF while parsing a string")
        };
        let Some(&kind) = self.bytes.get(at + 1) else {
            return Err(eof(self));
        };
        match kind {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(at + 2),
            b'u' => {
                let unit = self.hex(at + 2)?;
                match unit {
                    0xD800..=0xDBFF => {
                        if self.bytes.get(at + 6) != Some(&b'\\')
                            || self.bytes.get(at + 7) != Some(&b'u')
                        {
                            self.at = at + 6;
                            return Err(if at + 6 >= self.bytes.len() {
                                eof(self)
                            } else {
                                self.invalid("lone leading surrogate in hex escape")
                            });
                        }
                        let low = self.hex(at + 8)?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            self.at = at + 8;
                            return Err(self.invalid("lone leading surrogate in hex escape"));
                        }
                        Ok(at + 12)
                    }
                    0xDC00..=0xDFFF => {
                        self.at = at + 2;
                        Err(self.invalid("invalid unicode code point"))
                    }
                    _ => Ok(at + 6),
                }
            }
            _ => {
                self.at = at + 1;
                Err(self.invalid("invalid escape"))
            }
        }
    }

    /// The four hex digits at `at`.
    fn hex(&mut self, at: usize) -> Result<u32, Invalid> {
        let mut value = 0;
        for offset in 0..4 {
            let Some(&byte) = self.bytes.get(at + offset) else {
                self.at = self.bytes.len();
                return Err(self.invalid("EOF while parsing a string"));
            };
            let digit = match byte {
                b'0'..=b'9' => byte - b'0',
                b'a'..=b'f' => byte - b'a' + 10,
                b'A'..=b'F' => byte - b'A' + 10,
                _ => {
                    self.at = at + offset;
                    return Err(self.invalid("invalid escape"));
                }
            };
            value = value * 16 + u32::from(digit);
        }
        Ok(value)
    }

    /// The value of string `s`, which has escapes, appended to `into`.
    pub(crate) fn unescape(&self, s: Str, into: &mut String) {
        let bytes = self.bytes;
        let mut at = s.start;
        let mut run = at;
        while at < s.end {
            if bytes[at] != b'\\' {
                at += 1;
                continue;
            }
            into.push_str(self.text.get(run..at).unwrap_or_default());
            let c = match bytes.get(at + 1) {
                Some(b'b') => '\u{8}',
                Some(b'f') => '\u{c}',
                Some(b'n') => '\n',
                Some(b'r') => '\r',
                Some(b't') => '\t',
                Some(b'u') => {
                    let unit = hex_unchecked(bytes, at + 2);
                    let code = if (0xD800..=0xDBFF).contains(&unit) {
                        at += 6;
                        let low = hex_unchecked(bytes, at + 2);
                        0x10000 + ((unit - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF)
                    } else {
                        unit
                    };
                    at += 4;
                    char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
                }
                Some(&other) => char::from(other),
                None => break,
            };
            into.push(c);
            at += 2;
            run = at;
        }
        into.push_str(self.text.get(run..s.end).unwrap_or_default());
    }

    /// Read a number starting at the reader's position.
    #[inline(always)]
    pub(crate) fn number(&mut self) -> Result<Number, Invalid> {
        let bytes = self.bytes;
        let start = self.at;
        let mut at = start;
        let negative = bytes.get(at) == Some(&b'-');
        if negative {
            at += 1;
        }
        let mut mantissa: u64 = 0;
        let mut overflow = false;
        match bytes.get(at) {
            Some(b'0') => at = self.zero(at)?,
            Some(b'1'..=b'9') => {
                // No checked multiply (in WebAssembly a 128-bit library
                // call): 19 digits always fit a u64, and 20 fit when the
                // wrapped value is still at least 1e19 (a value past
                // u64::MAX, at most 2e19 - 1, wraps to below 1.6e18).
                let first = at;
                while let Some(&byte) = bytes.get(at).filter(|b| b.is_ascii_digit()) {
                    mantissa = mantissa
                        .wrapping_mul(10)
                        .wrapping_add(u64::from(byte - b'0'));
                    at += 1;
                }
                overflow = match at - first {
                    ..=19 => false,
                    20 => bytes[first] != b'1' || mantissa < 10_000_000_000_000_000_000,
                    _ => true,
                };
            }
            _ => {
                self.at = at;
                return Err(self.invalid("invalid number"));
            }
        }
        let mut float = false;
        if bytes.get(at) == Some(&b'.') {
            float = true;
            at = self.digits(at + 1)?;
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            float = true;
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            at = self.digits(at)?;
        }
        self.at = at;
        if !float && !overflow {
            if !negative {
                return Ok(Number::U64(mantissa));
            }
            if mantissa != 0 && mantissa <= 1 << 63 {
                return Ok(Number::I64(0_i64.wrapping_sub_unsigned(mantissa)));
            }
        }
        let text = self.text.get(start..at).unwrap_or_default();
        match number::parse_f64(text) {
            Some(value) if value.is_finite() => Ok(Number::F64(value)),
            _ => {
                self.at = start;
                Err(self.invalid("number out of range"))
            }
        }
    }

    /// Read the `0` at `at`, which no digit may follow; where it ends.
    #[inline(always)]
    fn zero(&mut self, at: usize) -> Result<usize, Invalid> {
        if self.bytes.get(at + 1).is_some_and(u8::is_ascii_digit) {
            self.at = at + 1;
            return Err(self.invalid("invalid number"));
        }
        Ok(at + 1)
    }

    /// Read one or more digits from `at`; where they end.
    #[inline(always)]
    fn digits(&mut self, mut at: usize) -> Result<usize, Invalid> {
        let first = at;
        while self.bytes.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        if at == first {
            self.at = at;
            return Err(if at >= self.bytes.len() {
                self.invalid("EOF while parsing a value")
            } else {
                self.invalid("invalid number")
            });
        }
        Ok(at)
    }

    /// Read `true`, `false` or `null`, whose first byte is at the reader's
    /// position.
    #[inline(always)]
    pub(crate) fn literal(&mut self, word: &'static [u8]) -> Result<(), Invalid> {
        for (offset, &want) in word.iter().enumerate() {
            match self.bytes.get(self.at + offset) {
                Some(&byte) if byte == want => {}
                Some(_) => {
                    self.at += offset;
                    return Err(self.invalid("expected ident"));
                }
                None => {
                    self.at = self.bytes.len();
                    return Err(self.invalid("EOF while parsing a value"));
                }
            }
        }
        self.at += word.len();
        Ok(())
    }

    /// Skip one value, checking it is JSON (numbers by their syntax only),
    /// at nesting `depth`.
    pub(crate) fn skip(&mut self, depth: usize) -> Result<(), Invalid> {
        // Open containers, innermost in the lowest bit: 1 an object.
        let mut stack: u128 = 0;
        let mut open = 0;
        loop {
            // One value.
            match self.value_start()? {
                b'{' => {
                    self.open(depth + open)?;
                    let mut first = true;
                    if self.next_key(&mut first)?.is_some() {
                        stack = (stack << 1) | 1;
                        open += 1;
                        continue;
                    }
                }
                b'[' => {
                    self.open(depth + open)?;
                    let mut first = true;
                    if self.next_element(&mut first)? {
                        stack <<= 1;
                        open += 1;
                        continue;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.skip_number()?,
                _ => return Err(self.invalid("expected value")),
            }
            // After a value: close the containers it ends, or go on to the
            // next member or element.
            loop {
                if open == 0 {
                    return Ok(());
                }
                let mut first = false;
                let more = if stack & 1 == 1 {
                    self.next_key(&mut first)?.is_some()
                } else {
                    self.next_element(&mut first)?
                };
                if more {
                    break;
                }
                stack >>= 1;
                open -= 1;
            }
        }
    }

    /// Skip a number, checking its syntax.
    fn skip_number(&mut self) -> Result<(), Invalid> {
        let bytes = self.bytes;
        let mut at = self.at;
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        match bytes.get(at) {
            Some(b'0') => at = self.zero(at)?,
            Some(b'1'..=b'9') => {
                while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                    at += 1;
                }
            }
            _ => {
                self.at = at;
                return Err(self.invalid("invalid number"));
            }
        }
        if bytes.get(at) == Some(&b'.') {
            at = self.digits(at + 1)?;
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            at = self.digits(at)?;
        }
        self.at = at;
        Ok(())
    }
}

/// Four hex digits at `at`, already checked.
fn hex_unchecked(bytes: &[u8], at: usize) -> u32 {
    (0..4).fold(0, |value, offset| {
        let digit = match bytes.get(at + offset).copied().unwrap_or(b'0') {
            byte @ b'0'..=b'9' => byte - b'0',
            byte @ b'a'..=b'f' => byte - b'a' + 10,
            byte @ b'A'..=b'F' => byte - b'A' + 10,
            _ => 0,
        };
        value * 16 + u32::from(digit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip(text: &str) -> Result<usize, Invalid> {
        let mut reader = Reader::new(text);
        reader.skip(0)?;
        reader.end()?;
        Ok(reader.at)
    }

    fn number(text: &str) -> Result<Number, Invalid> {
        let mut reader = Reader::new(text);
        let number = reader.number()?;
        reader.end()?;
        Ok(number)
    }

    #[test]
    fn numbers_read_as_integers_when_exact() {
        assert_eq!(number("0"), Ok(Number::U64(0)));
        assert_eq!(number("18446744073709551615"), Ok(Number::U64(u64::MAX)));
        assert_eq!(number("-9223372036854775808"), Ok(Number::I64(i64::MIN)));
        assert_eq!(number("-12"), Ok(Number::I64(-12)));
        assert_eq!(
            number("-0").map(|n| format!("{n:?}")),
            Ok("F64(-0.0)".to_owned())
        );
        assert_eq!(
            number("18446744073709551616"),
            Ok(Number::F64(1.8446744073709552e19))
        );
        assert_eq!(
            number("10000000000000000000"),
            Ok(Number::U64(10_000_000_000_000_000_000))
        );
        assert_eq!(
            number("9999999999999999999"),
            Ok(Number::U64(9_999_999_999_999_999_999))
        );
        assert_eq!(number("19999999999999999999"), Ok(Number::F64(2e19)));
        assert_eq!(number("99999999999999999999"), Ok(Number::F64(1e20)));
        assert_eq!(
            number("-9223372036854775809"),
            Ok(Number::F64(-9.223372036854776e18))
        );
        assert_eq!(number("1.5e3"), Ok(Number::F64(1500.0)));
        assert_eq!(number("2E-2"), Ok(Number::F64(0.02)));
        assert_eq!(number("1e400").unwrap_err().what, "number out of range");
        for bad in ["01", "-", "1.", ".5", "1e", "1e+", "+1", "-a", "1.e3"] {
            assert!(number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn skipping_checks_the_syntax() {
        for good in [
            r#"{"a": [1, {"b": null}, "c\"\u00e9\ud83d\ude00"], "d": {}}"#,
            "[]",
            "[[[]]]",
            " 5 ",
            r#""""#,
        ] {
            assert!(skip(good).is_ok(), "{good}");
        }
        for (bad, what) in [
            ("[1,]", "trailing comma"),
            (r#"{"a":1,}"#, "trailing comma"),
            ("{1: 2}", "key must be a string"),
            (r#"{"a" 1}"#, "expected `:`"),
            ("[1 2]", "expected `,` or `]`"),
            (r#"{"a":1 "b":2}"#, "expected `,` or `}`"),
            ("[1", "EOF while parsing a list"),
            (r#"{"a":1"#, "EOF while parsing an object"),
            (r#""abc"#, "EOF while parsing a string"),
            (r#""\x""#, "invalid escape"),
            (r#""\u12G4""#, "invalid escape"),
            (r#""\ud83d""#, "lone leading surrogate in hex escape"),
            (r#""\ude00""#, "invalid unicode code point"),
            (
                "\"a\u{1}\"",
                "control character (\\u0000-\\u001F) found while parsing a string",
            ),
            ("tru", "EOF while parsing a value"),
            ("trux", "expected ident"),
            ("1 2", "trailing characters"),
            ("", "EOF while parsing a value"),
            ("}", "expected value"),
        ] {
            assert_eq!(skip(bad).map_err(|e| e.what), Err(what), "{bad}");
        }
        let deep = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(skip(&deep).is_ok());
        let deeper = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert_eq!(skip(&deeper).map_err(|e| e.what), Err(DEEP));
    }

    #[test]
    fn a_word_shows_its_first_special_byte() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Mostly plain bytes, now and then a special one.
            let mut bytes = state.to_le_bytes();
            for (i, byte) in bytes.iter_mut().enumerate() {
                if (state >> (i * 3)) & 7 == 0 {
                    *byte = [b'"', b'\\', 0x1f, 0, 0x21, 0x5b, 0x80, 0xff]
                        [(state >> (i + 40)) as usize & 7];
                }
            }
            let word = u64::from_le_bytes(bytes);
            let first = bytes.iter().position(|&b| SPECIAL[usize::from(b)]);
            let found = special(word);
            let got = (found != 0).then(|| found.trailing_zeros() as usize / 8);
            assert_eq!(got, first, "{bytes:?}");
        }
    }

    #[test]
    fn unescaping_gives_the_value() {
        let text = r#""a\"b\\c\/d\b\f\n\r\t\u00e9\u20AC\ud83d\ude00z""#;
        let mut reader = Reader::new(text);
        let s = reader.string().unwrap();
        assert!(s.escaped);
        let mut value = String::new();
        reader.unescape(s, &mut value);
        assert_eq!(value, "a\"b\\c/d\u{8}\u{c}\n\r\té€😀z");
    }

    #[test]
    fn positions_are_lines_and_byte_columns() {
        let text = "{\"a\":\n  x}";
        let invalid = Invalid {
            at: 8,
            what: "expected value",
        };
        assert_eq!(
            invalid.reason(text),
            "invalid JSON at line 2 column 3: expected value"
        );
        assert_eq!(
            Invalid {
                at: 3,
                what: "trailing comma"
            }
            .reason("[1,]"),
            "invalid JSON at line 1 column 4: trailing comma"
        );
    }
}
