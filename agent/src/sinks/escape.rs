//! Device data on its way to people: control characters and spreadsheet
//! formulas defused.
//!
//! A line from a device or a client can carry terminal escape sequences
//! (which repaint or hide what an operator sees on the console), carriage
//! returns and newlines (which forge log lines), or text starting with `=`,
//! `+`, `-` or `@` (which a spreadsheet opening the CSV runs as a formula).
//! The console's text format and CSV cells write such text escaped; JSON
//! encodings escape control characters by themselves.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character written as an escape: `\n`, `\r`,
/// `\t`, and `\x1b`-style for the rest (`\u{85}` above ASCII). Borrowed when
/// there is nothing to escape.
pub(crate) fn control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() && c.is_ascii() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A CSV cell of text from data: control characters escaped, and a leading
/// `=`, `+`, `-` or `@` quoted with `'` so a spreadsheet shows it as text
/// rather than running it (OWASP's advice for CSV injection).
pub(crate) fn csv_cell(text: &str) -> Cow<'_, str> {
    let text = control(text);
    if text.starts_with(['=', '+', '-', '@']) {
        Cow::Owned(format!("'{text}"))
    } else {
        text
    }
}

/// `text` for HTML text or a quoted attribute: `&`, `<`, `>`, `"` and `'`
/// written as entities, so device data in a report cannot become markup.
pub(crate) fn html(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_plain_text_borrowed() {
        assert!(matches!(control("T:85.5,V:5.0"), Cow::Borrowed(_)));
        assert_eq!(
            control("ok\r\nFAKE LINE\t\u{1b}[2J\u{7}\u{85}ü"),
            "ok\\r\\nFAKE LINE\\t\\x1b[2J\\x07\\u{85}ü"
        );
    }

    #[test]
    fn formulas_are_quoted_in_csv_cells() {
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\t=1"), "\\t=1");
        assert_eq!(csv_cell("WARNING_TEMP"), "WARNING_TEMP");
    }

    #[test]
    fn markup_is_written_as_entities_in_html() {
        assert!(matches!(html("DEV-001"), Cow::Borrowed(_)));
        assert_eq!(
            html("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
