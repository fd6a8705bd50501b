//! Typing text from a parsed line: the `types:` vocabulary every parser
//! shares (`float`, `int`, `bool`, `string`, `auto`), and how a value is
//! quoted in a reject reason.
//!
//! ```
//! use foghorn_plugin::typed::{FieldType, quote};
//! use foghorn_plugin::Value;
//!
//! assert_eq!(FieldType::Auto.parse("85.5"), Some(Value::Float(85.5)));
//! assert_eq!(FieldType::Auto.parse("WARN"), Some(Value::Text("WARN")));
//! assert_eq!(FieldType::Int.parse("4.5"), None);
//! assert_eq!(quote("abc"), "\"abc\"");
//! ```

use foghorn_model::Value;
use serde::Deserialize;

/// How a field's text becomes a typed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// A 64-bit float (`85.5`, `-1e3`).
    Float,
    /// A 64-bit integer (`42`, `-7`).
    Int,
    /// `true`/`false` (any case) or `1`/`0`.
    Bool,
    /// The text as it is.
    String,
    /// A float if the text is shaped like a number, else the text.
    #[default]
    Auto,
}

impl FieldType {
    /// `text` as this type, or `None` if it is not one. `NaN` and infinity
    /// are floats here; whether to keep them is the parser's choice.
    #[inline]
    #[must_use]
    pub fn parse(self, text: &str) -> Option<Value<'_>> {
        Some(match self {
            FieldType::Float => Value::Float(crate::number::parse_f64(text)?),
            FieldType::Int => Value::Int(crate::number::parse_i64(text)?),
            FieldType::Bool => Value::Bool(match text {
                "1" => true,
                "0" => false,
                _ if text.eq_ignore_ascii_case("true") => true,
                _ if text.eq_ignore_ascii_case("false") => false,
                _ => return None,
            }),
            FieldType::String => Value::Text(text),
            FieldType::Auto => match looks_numeric(text)
                .then(|| crate::number::parse_f64(text))
                .flatten()
            {
                Some(number) => Value::Float(number),
                None => Value::Text(text),
            },
        })
    }

    /// The type with its article, for reject reasons: `a float`, `an int`.
    #[must_use]
    pub fn described(self) -> &'static str {
        match self {
            FieldType::Float => "a float",
            FieldType::Int => "an int",
            FieldType::Bool => "a bool",
            FieldType::String => "a string",
            FieldType::Auto => "a number or text",
        }
    }
}

/// Whether `text` is shaped like a number (so `inf`, `nan` and `-Infinity`
/// stay text under `auto`).
fn looks_numeric(text: &str) -> bool {
    let bytes = text.as_bytes();
    matches!(bytes.first(), Some(b'0'..=b'9' | b'-' | b'+' | b'.'))
        && matches!(bytes.last(), Some(b'0'..=b'9' | b'.'))
}

/// `text` in quotes, escaped, and cut at 60 characters: how a reject reason
/// shows the offending text.
#[must_use]
pub fn quote(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}
