//! The templates of an export's columns: text with `{name}` placeholders,
//! `{{` and `}}` for braces.

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Name(String),
}

impl Template {
    /// Parse `text`.
    ///
    /// # Errors
    /// An unclosed or unopened brace, or an empty name.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        name.push(c);
                    }
                    if !closed {
                        return Err(format!("`{text}`: a `{{` is not closed"));
                    }
                    let name = name.trim();
                    if name.is_empty() {
                        return Err(format!("`{text}`: `{{}}` names nothing"));
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Name(name.to_owned()));
                }
                '}' => return Err(format!("`{text}`: a `}}` has no `{{` (write `}}}}`)")),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Self(parts))
    }

    /// `text` as it is, with no names.
    pub fn literal(text: &str) -> Self {
        Self(vec![Part::Text(text.to_owned())])
    }

    /// The names it uses.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|part| match part {
            Part::Name(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The text, each name replaced by `value(name)`.
    pub fn render(&self, mut value: impl FnMut(&str) -> String) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Name(name) => out.push_str(&value(name)),
            }
        }
        out
    }
}

/// `value` as Python's `repr` writes a float: the shortest digits that read
/// back to it, with a fraction (`120.0`), in exponent form below 1e-4 and
/// from 1e16 (`1e-05`, `1.5e+16`).
pub fn python_float(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `-8.37e1`.
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        let text = if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else {
            let point = point as usize;
            if digits.len() <= point {
                format!("{digits}{}.0", "0".repeat(point - digits.len()))
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            }
        };
        format!("{sign}{text}")
    } else {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{first}{fraction}e{exp_sign}{:02}", exponent.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_prints_them() {
        for (value, python) in [
            (120.0, "120.0"),
            (83.7, "83.7"),
            (2.788, "2.788"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.34, "0.34"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (1.2345e17, "1.2345e+17"),
            (9_999_999_999_999_998.0, "9999999999999998.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-3.25, "-3.25"),
            (123_456.0, "123456.0"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(python_float(value), python, "{value:e}");
        }
    }

    #[test]
    fn templates_substitute_names_and_keep_escaped_braces() {
        let t = Template::parse("At {timestamp} ({ latency } ms) {{x}}").unwrap();
        assert_eq!(t.names().collect::<Vec<_>>(), ["timestamp", "latency"]);
        assert_eq!(
            t.render(|n| n.to_uppercase()),
            "At TIMESTAMP (LATENCY ms) {x}"
        );
        assert!(Template::parse("a {b").is_err());
        assert!(Template::parse("a {b {c").is_err());
        assert!(Template::parse("a } b").is_err());
        assert!(Template::parse("{}").is_err());
        assert_eq!(
            Template::parse("plain").unwrap().render(|_| String::new()),
            "plain"
        );
    }
}
