//! The rate-of-change plugin's configuration, its defaults, and the rules
//! compiled from it.

use foghorn_plugin::Severity;
use serde::Deserialize;

use foghorn_plugin::template::Template;

/// `config:` of a rate-of-change processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The fields to watch, each with its largest allowed change; at least one.
    pub rules: Vec<RuleConfig>,
}

/// The largest allowed change of one field between consecutive readings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The field to watch, e.g. `temperature`. Points without it (or whose
    /// value is text or not finite) are skipped.
    pub field: String,
    /// A change larger than this (in absolute value) fires; must be > 0.
    pub max_delta: f64,
    /// Severity of the alert. Default `warning`.
    #[serde(default = "defaults::severity")]
    pub severity: Severity,
    /// The alert kind (`type` in reports). Default `rate_of_change`.
    #[serde(default = "defaults::kind")]
    pub kind: String,
    /// Description of the alert. Placeholders: `{field}` `{value}`
    /// `{previous}` `{delta}` (signed, e.g. `+70.2`) `{abs_delta}`
    /// `{max_delta}` `{series}`. Default
    /// `{field} changed by {delta} from {previous} to {value}`, or
    /// `{field} changed at {delta}/s from {previous} to {value}` with
    /// `per_second`.
    #[serde(default)]
    pub description: Option<String>,
    /// Divide the change by the seconds between the two readings, making
    /// `max_delta` a rate per second. Default `false`.
    #[serde(default)]
    pub per_second: bool,
}

/// Every default, in one place.
mod defaults {
    use foghorn_plugin::Severity;

    pub(super) fn severity() -> Severity {
        Severity::Warning
    }
    pub(super) fn kind() -> String {
        "rate_of_change".to_owned()
    }
    pub(super) const DESCRIPTION: &str = "{field} changed by {delta} from {previous} to {value}";
    pub(super) const DESCRIPTION_PER_SECOND: &str =
        "{field} changed at {delta}/s from {previous} to {value}";
}

/// What a description can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placeholder {
    Field,
    Value,
    Previous,
    Delta,
    AbsDelta,
    MaxDelta,
    Series,
}

const PLACEHOLDERS: &[(&str, Placeholder)] = &[
    ("field", Placeholder::Field),
    ("value", Placeholder::Value),
    ("previous", Placeholder::Previous),
    ("delta", Placeholder::Delta),
    ("abs_delta", Placeholder::AbsDelta),
    ("max_delta", Placeholder::MaxDelta),
    ("series", Placeholder::Series),
];

/// A validated rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub field: String,
    pub max_delta: f64,
    pub severity: Severity,
    pub kind: String,
    pub description: Template<Placeholder>,
    pub per_second: bool,
}

impl Config {
    /// Validate every rule, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Vec<Rule>, String> {
        if self.rules.is_empty() {
            return Err("rate-of-change: `rules` is empty; give at least one rule".to_owned());
        }
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        for (i, rule) in self.rules.into_iter().enumerate() {
            let name = format!("rate-of-change rule {} ({})", i + 1, rule.field);
            match rule.compile() {
                Ok(rule) => rules.push(rule),
                Err(problems) => {
                    errors.extend(problems.into_iter().map(|p| format!("{name}: {p}")));
                }
            }
        }
        if errors.is_empty() {
            Ok(rules)
        } else {
            Err(errors.join("; "))
        }
    }
}

impl RuleConfig {
    fn compile(self) -> Result<Rule, Vec<String>> {
        let mut errors = Vec::new();
        if self.field.is_empty() {
            errors.push("`field` is empty".to_owned());
        }
        if self.kind.is_empty() {
            errors.push("`kind` is empty".to_owned());
        }
        if !(self.max_delta > 0.0 && self.max_delta.is_finite()) {
            errors.push(format!(
                "max_delta {} must be a number above 0",
                self.max_delta
            ));
        }
        let default = if self.per_second {
            defaults::DESCRIPTION_PER_SECOND
        } else {
            defaults::DESCRIPTION
        };
        let description =
            Template::parse(self.description.as_deref().unwrap_or(default), PLACEHOLDERS)
                .map_err(|e| errors.push(format!("`description`: {e}")));
        match description {
            Ok(description) if errors.is_empty() => Ok(Rule {
                field: self.field,
                max_delta: self.max_delta,
                severity: self.severity,
                kind: self.kind,
                description,
                per_second: self.per_second,
            }),
            _ => Err(errors),
        }
    }
}
