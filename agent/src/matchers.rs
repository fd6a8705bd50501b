//! Label matchers as Prometheus and Alertmanager write them:
//! `name="value"`, `name!="value"`, `name=~"regex"` and `name!~"regex"`.
//!
//! A list of matchers selects what satisfies every one of them; an empty
//! list selects everything. A label that is absent reads as the empty
//! string, so `team=""` selects what has no `team`, as in Prometheus.
//! Regular expressions are anchored at both ends (`=~"warn.*"` does not
//! select `prewarning`) and are compiled once, when the configuration is
//! loaded, with a bounded size.

use std::fmt;
use std::str::FromStr;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::event::{Alert, PointRef};

/// The largest compiled regular expression a matcher may hold.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// How a matcher compares a label's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`: equal.
    Equal,
    /// `!=`: not equal.
    NotEqual,
    /// `=~`: the whole value matches the regular expression.
    Regex,
    /// `!~`: the whole value does not match the regular expression.
    NotRegex,
}

impl MatchOp {
    /// As written, longest first so `=~` is not read as `=`.
    const ALL: [(&'static str, MatchOp); 4] = [
        ("=~", MatchOp::Regex),
        ("!~", MatchOp::NotRegex),
        ("!=", MatchOp::NotEqual),
        ("=", MatchOp::Equal),
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Equal => "=",
            Self::NotEqual => "!=",
            Self::Regex => "=~",
            Self::NotRegex => "!~",
        }
    }
}

/// One matcher: a label name, how to compare, and the value.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// The label it reads.
    pub name: String,
    /// How it compares.
    pub op: MatchOp,
    /// The value or regular expression, as written (unquoted).
    pub value: String,
    /// The anchored expression, for `=~` and `!~`.
    regex: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, self.op, &self.value) == (&other.name, other.op, &other.value)
    }
}

impl Matcher {
    /// Whether a label with `value` (`None`: absent) satisfies the matcher.
    #[must_use]
    pub fn matches(&self, value: Option<&str>) -> bool {
        let value = value.unwrap_or("");
        match (self.op, &self.regex) {
            (MatchOp::Equal, _) => value == self.value,
            (MatchOp::NotEqual, _) => value != self.value,
            (MatchOp::Regex, Some(regex)) => regex.is_match(value),
            (MatchOp::NotRegex, Some(regex)) => !regex.is_match(value),
            (MatchOp::Regex | MatchOp::NotRegex, None) => false,
        }
    }
}

impl FromStr for Matcher {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let name_end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        let name = &text[..name_end];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!(
                "`{text}` must start with a label name (letters, digits and `_`, \
                 not a digit first), e.g. `severity=\"critical\"`"
            ));
        }
        let rest = text[name_end..].trim_start();
        let Some((op, written)) = MatchOp::ALL
            .iter()
            .find_map(|(written, op)| rest.strip_prefix(written).map(|value| (*op, value)))
        else {
            return Err(format!(
                "`{text}` needs an operator after `{name}`: `=`, `!=`, `=~` or `!~`"
            ));
        };
        let value = unquote(written.trim()).map_err(|why| format!("`{text}`: {why}"))?;
        let regex = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(
                RegexBuilder::new(&format!("^(?:{value})$"))
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|error| format!("`{text}`: invalid regular expression: {error}"))?,
            ),
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(Self {
            name: name.to_owned(),
            op,
            value,
            regex,
        })
    }
}

/// A value as written: bare (trimmed), or in double quotes with `\"` and
/// `\\` escapes.
fn unquote(written: &str) -> Result<String, String> {
    let Some(inner) = written.strip_prefix('"') else {
        return Ok(written.to_owned());
    };
    let mut value = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' if chars.as_str().trim().is_empty() => return Ok(value),
            '"' => return Err("text after the closing quote".to_owned()),
            '\\' => match chars.next() {
                Some('n') => value.push('\n'),
                Some('t') => value.push('\t'),
                Some(escaped) => value.push(escaped),
                None => break,
            },
            c => value.push(c),
        }
    }
    Err("the quoted value has no closing quote".to_owned())
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op.as_str(), self.value)
    }
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

/// Matchers that must all hold.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Matchers(pub Vec<Matcher>);

impl Matchers {
    /// Whether every matcher holds for the labels `label` looks up.
    pub fn matches<'a>(&self, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.0
            .iter()
            .all(|matcher| matcher.matches(label(&matcher.name)))
    }

    /// Whether a point is selected. Its labels: `series` (the series name)
    /// and its tags.
    #[must_use]
    pub fn matches_point(&self, point: &PointRef<'_>) -> bool {
        let series = point.series();
        self.matches(|name| match name {
            "series" => Some(series.name.as_str()),
            tag => series.tag(tag),
        })
    }

    /// Whether an alert is selected, over the labels of [`alert_label`].
    #[must_use]
    pub fn matches_alert(&self, alert: &Alert) -> bool {
        self.matches(|name| alert_label(alert, name))
    }
}

/// The value of label `name` of an alert: `kind`, `severity`, `state`
/// (`firing` or `resolved`), `series` (the series name), `component` (the
/// processor that raised it), then its own labels, then its series' tags;
/// the first of these that has the name is read.
#[must_use]
pub fn alert_label<'a>(alert: &'a Alert, name: &str) -> Option<&'a str> {
    match name {
        "kind" => Some(alert.kind.as_str()),
        "severity" => Some(alert.severity.as_str()),
        "state" => Some(alert.state.as_str()),
        "series" => Some(alert.series.name.as_str()),
        "component" => Some(&*alert.component),
        other => alert
            .labels
            .iter()
            .find(|(key, _)| key == other)
            .map(|(_, value)| value.as_str())
            .or_else(|| alert.series.tag(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(text: &str) -> Matcher {
        text.parse().unwrap()
    }

    #[test]
    fn the_four_operators_compare_whole_values() {
        assert!(matcher("severity=critical").matches(Some("critical")));
        assert!(!matcher("severity=critical").matches(Some("critical2")));
        assert!(matcher(r#"severity!="info""#).matches(Some("warning")));
        assert!(!matcher(r#"severity!="info""#).matches(Some("info")));
        assert!(matcher(r#"kind=~"thresh.*|rate""#).matches(Some("threshold")));
        assert!(matcher(r#"kind=~"thresh.*|rate""#).matches(Some("rate")));
        // Anchored: a match inside the value is not a match.
        assert!(!matcher(r#"kind=~"warn.*""#).matches(Some("prewarning")));
        assert!(matcher(r#"kind!~"warn.*""#).matches(Some("prewarning")));
        assert!(!matcher(r#"kind!~"warn.*""#).matches(Some("warning")));
    }

    #[test]
    fn an_absent_label_reads_as_empty() {
        assert!(matcher(r#"team="""#).matches(None));
        assert!(!matcher("team=core").matches(None));
        assert!(matcher("team!=core").matches(None));
        assert!(matcher(r#"team=~".*""#).matches(None));
    }

    #[test]
    fn quoted_values_keep_spaces_and_escapes() {
        let quoted = matcher(r#"  device = "bench \"1\", left"  "#);
        assert_eq!(quoted.name, "device");
        assert_eq!(quoted.value, r#"bench "1", left"#);
        assert_eq!(quoted.to_string(), r#"device="bench \"1\", left""#);
    }

    #[test]
    fn mistakes_are_named() {
        for (text, expected) in [
            ("=critical", "must start with a label name"),
            ("1x=critical", "must start with a label name"),
            ("severity critical", "needs an operator"),
            (r#"kind=~"(""#, "invalid regular expression"),
            (r#"kind="a" b"#, "text after the closing quote"),
            (r#"kind="a"#, "no closing quote"),
        ] {
            let error = text.parse::<Matcher>().unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn an_empty_list_selects_everything_and_a_list_needs_all() {
        let labels = |name: &str| match name {
            "severity" => Some("critical"),
            "kind" => Some("threshold"),
            _ => None,
        };
        assert!(Matchers::default().matches(labels));
        let both = Matchers(vec![
            matcher("severity=critical"),
            matcher("kind=threshold"),
        ]);
        assert!(both.matches(labels));
        let one_fails = Matchers(vec![matcher("severity=critical"), matcher("kind=rate")]);
        assert!(!one_fails.matches(labels));
    }
}
