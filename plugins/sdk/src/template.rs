//! Alert description templates: text with `{placeholder}`s, checked once when
//! the config is loaded and rendered without re-parsing for every alert.
//! `{{` and `}}` stand for literal braces. A number placeholder takes a
//! precision as Rust's and Python's formats do: `{value:.2}` writes `95.50`,
//! `{max:.1}` writes `80.0`.
//!
//! ```
//! use foghorn_plugin::template::Template;
//!
//! #[derive(Clone, Copy, PartialEq)]
//! enum Slot { Field, Value }
//! let template = Template::parse("{field} is {value}", &[("field", Slot::Field), ("value", Slot::Value)]).unwrap();
//! let text = template.render(|slot, out| out.push_str(match slot { Slot::Field => "temperature", Slot::Value => "95.5" }));
//! assert_eq!(text, "temperature is 95.5");
//! ```

/// A parsed template; `P` names the placeholders the plugin offers.
#[derive(Debug, Clone, PartialEq)]
pub struct Template<P> {
    parts: Vec<Part<P>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part<P> {
    Text(String),
    /// A placeholder and its precision, if given.
    Placeholder(P, Option<usize>),
}

/// What a placeholder stands for, as [`Template::render_args`] asks.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// A number, written in full (`95.5`) or to the placeholder's precision.
    Number(f64),
    /// A derived number (a difference, a score): to at most 3 decimals
    /// (`0.1 + 0.2` as `0.3`), or exactly to the placeholder's precision.
    Rounded(f64),
    /// Text, written as it is.
    Text(&'a str),
}

/// `x` rounded to at most 3 decimals, without a negative zero: how
/// [`Arg::Rounded`] shows a number without a precision.
#[must_use]
pub fn round3(x: f64) -> f64 {
    let rounded = if x.abs() < 1e15 {
        (x * 1000.0).round() / 1000.0
    } else {
        x
    };
    rounded + 0.0
}

/// The most decimals a precision may ask for.
const MAX_PRECISION: usize = 17;

impl<P: Copy> Template<P> {
    /// Parse `text`, allowing only the `known` placeholders.
    ///
    /// # Errors
    /// An unknown placeholder or an unbalanced brace, with the known ones
    /// listed.
    pub fn parse(text: &str, known: &[(&str, P)]) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(['{', '}']) {
            literal.push_str(&rest[..at]);
            let brace = &rest[at..=at];
            rest = &rest[at + 1..];
            if let Some(after) = rest.strip_prefix(brace) {
                literal.push_str(brace);
                rest = after;
                continue;
            }
            if brace == "}" {
                return Err(format!(
                    "unmatched `}}` in {text:?} (write `}}}}` for a literal brace)"
                ));
            }
            let Some(end) = rest.find('}') else {
                return Err(format!("unclosed `{{` in {text:?}"));
            };
            let (name, precision) = match rest[..end].split_once(':') {
                None => (&rest[..end], None),
                Some((name, spec)) => {
                    let digits = spec.strip_prefix('.').unwrap_or("");
                    match digits.parse::<usize>() {
                        Ok(n)
                            if n <= MAX_PRECISION && digits.bytes().all(|b| b.is_ascii_digit()) =>
                        {
                            (name, Some(n))
                        }
                        _ => {
                            return Err(format!(
                                "`{{{name}:{spec}}}` in {text:?}: a format is a precision, `.0` to `.{MAX_PRECISION}`, as in `{{{name}:.2}}`"
                            ));
                        }
                    }
                }
            };
            let Some(&(_, placeholder)) = known.iter().find(|(known, _)| *known == name) else {
                let names: Vec<String> = known.iter().map(|(n, _)| format!("{{{n}}}")).collect();
                return Err(format!(
                    "unknown placeholder {{{name}}} in {text:?} (known: {})",
                    names.join(" ")
                ));
            };
            if !literal.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut literal)));
            }
            parts.push(Part::Placeholder(placeholder, precision));
            rest = &rest[end + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Self { parts })
    }

    /// Whether the template uses `placeholder`.
    pub fn uses(&self, placeholder: P) -> bool
    where
        P: PartialEq,
    {
        self.parts
            .iter()
            .any(|part| matches!(part, Part::Placeholder(p, _) if *p == placeholder))
    }

    /// The text, with `write` filling in each placeholder (precisions are
    /// ignored: see [`Template::render_args`]).
    pub fn render(&self, mut write: impl FnMut(P, &mut String)) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Placeholder(placeholder, _) => write(*placeholder, &mut out),
            }
        }
        out
    }

    /// The text, with each placeholder's [`Arg`] from `arg`, numbers to the
    /// placeholder's precision when it has one.
    pub fn render_args<'a>(&self, mut arg: impl FnMut(P) -> Arg<'a>) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for part in &self.parts {
            let _ = match part {
                Part::Text(text) => out.write_str(text),
                Part::Placeholder(placeholder, precision) => match (arg(*placeholder), precision) {
                    (Arg::Number(v) | Arg::Rounded(v), Some(precision)) => {
                        write!(out, "{v:.precision$}")
                    }
                    (Arg::Number(v), None) => write!(out, "{v}"),
                    (Arg::Rounded(v), None) => write!(out, "{}", round3(v)),
                    (Arg::Text(text), _) => out.write_str(text),
                },
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[(&str, u8)] = &[("a", 1), ("b", 2)];

    fn render(text: &str) -> Result<String, String> {
        let template = Template::parse(text, KNOWN)?;
        Ok(template.render(|p, out| out.push_str(if p == 1 { "A" } else { "B" })))
    }

    #[test]
    fn fills_placeholders_and_keeps_escaped_braces() {
        assert_eq!(render("{a} and {b}{a}!").unwrap(), "A and BA!");
        assert_eq!(render("{{a}} {a}").unwrap(), "{a} A");
        assert_eq!(render("").unwrap(), "");
    }

    #[test]
    fn rejects_unknown_and_unbalanced_placeholders() {
        let err = render("x {c}").unwrap_err();
        assert!(
            err.contains("unknown placeholder {c}") && err.contains("{a} {b}"),
            "{err}"
        );
        assert!(render("x {a").unwrap_err().contains("unclosed"));
        assert!(render("x }").unwrap_err().contains("unmatched"));
        for bad in ["{a:2}", "{a:.x}", "{a:.}", "{a:.99}", "{a:.-1}"] {
            assert!(render(bad).unwrap_err().contains("precision"), "{bad}");
        }
    }

    #[test]
    fn numbers_take_a_precision() {
        let template = Template::parse("{a:.2}°C over {b:.1}°C ({a}, {b:.0})", KNOWN).unwrap();
        let text = template.render_args(|p| Arg::Number(if p == 1 { 95.5 } else { 80.0 }));
        assert_eq!(text, "95.50°C over 80.0°C (95.5, 80)");
        let template = Template::parse("{a:.3} is {b}", KNOWN).unwrap();
        assert_eq!(
            template.render_args(|p| if p == 1 {
                Arg::Text("bench-1")
            } else {
                Arg::Number(1e-7)
            }),
            "bench-1 is 0.0000001"
        );
        assert!(template.uses(1) && template.uses(2));
        let template = Template::parse("{a} {b:.2} {a:+}", KNOWN);
        assert!(template.is_err(), "only precisions");
        let template = Template::parse("{a} {b:.2}", KNOWN).unwrap();
        assert_eq!(
            template.render_args(|_| Arg::Rounded(0.1 + 0.2 - 1.0)),
            "-0.7 -0.70"
        );
        assert_eq!(template.render_args(|_| Arg::Rounded(-0.0001)), "0 -0.00");
    }
}
