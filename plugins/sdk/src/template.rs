//! Alert description templates: text with `{placeholder}`s, checked once when
//! the config is loaded and rendered without re-parsing for every alert.
//! `{{` and `}}` stand for literal braces.
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
    Placeholder(P),
}

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
            let name = &rest[..end];
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
            parts.push(Part::Placeholder(placeholder));
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
        self.parts.contains(&Part::Placeholder(placeholder))
    }

    /// The text, with `write` filling in each placeholder.
    pub fn render(&self, mut write: impl FnMut(P, &mut String)) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Placeholder(placeholder) => write(*placeholder, &mut out),
            }
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
    }
}
