//! What every line parser does before it reads a line, with the same
//! settings and the same reasons in each: refuse a line the source cut at
//! `max_line_length`, refuse invalid UTF-8, drop a byte-order mark, skip (and
//! count) or reject a blank line, and reject or keep a float that is not
//! finite.

use serde::Deserialize;

/// What a parser does with an empty line (`blank_lines:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlankLines {
    /// Skip it, counting it in the plugin metric `blank_lines`.
    #[default]
    Skip,
    /// Reject it as `empty line`.
    Reject,
}

impl BlankLines {
    /// What becomes of a blank line.
    #[must_use]
    pub fn skip(self) -> Skip {
        match self {
            Self::Skip => Skip::Blank,
            Self::Reject => Skip::Reject("empty line".to_owned()),
        }
    }
}

/// What a parser does with a float that is not finite (`non_finite:`):
/// `NaN`, `inf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NonFinite {
    /// Reject the line, with the reason.
    #[default]
    Reject,
    /// Keep NaN and infinity as values.
    Keep,
}

/// Why a line makes no point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// A blank line, skipped and counted.
    Blank,
    /// A line rejected, with the reason.
    Reject(String),
}

/// The text of a line: rejected when it is `max_line_length` bytes or more
/// (the sources cut longer lines there, so the line is not whole) or not
/// UTF-8; without a leading byte-order mark.
///
/// # Errors
/// `line too long: 70000 bytes, cut at max_line_length (65536)`, `invalid
/// UTF-8 at byte 7`.
#[inline]
pub fn text(bytes: &[u8], max_line_length: usize) -> Result<&str, String> {
    if bytes.len() >= max_line_length {
        return Err(format!(
            "line too long: {} bytes, cut at max_line_length ({max_line_length})",
            bytes.len(),
        ));
    }
    let line = std::str::from_utf8(bytes)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
    Ok(line.strip_prefix('\u{feff}').unwrap_or(line))
}

/// Add `blank` to the plugin metric `blank_lines`, if any were skipped.
pub fn count_blank(blank: u64) {
    if blank > 0 {
        crate::host::counter_add("blank_lines", blank);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_refused_with_the_reason_or_read_without_its_mark() {
        assert_eq!(
            text(&[b'a'; 8], 8),
            Err("line too long: 8 bytes, cut at max_line_length (8)".to_owned())
        );
        assert_eq!(
            text(b"ab\xffc", 8),
            Err("invalid UTF-8 at byte 2".to_owned())
        );
        assert_eq!(text("\u{feff}T:1".as_bytes(), 8), Ok("T:1"));
        assert_eq!(BlankLines::Skip.skip(), Skip::Blank);
        assert_eq!(
            BlankLines::Reject.skip(),
            Skip::Reject("empty line".to_owned())
        );
    }
}
