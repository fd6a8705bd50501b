//! The threshold plugin's configuration, its defaults, and the rules compiled
//! from it.

use foghorn_plugin::Severity;
use serde::Deserialize;

use foghorn_plugin::template::Template;

/// `config:` of a threshold processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The limits to check, each on one field; at least one.
    pub rules: Vec<RuleConfig>,
    /// What a value that is not finite (NaN, infinity) is: `error` (the
    /// default) rejects the point with the reason, to the error log;
    /// `alert` fires the rule's alert ("temperature is NaN, not a finite
    /// number"), resolved by the next value within limits. Never skipped
    /// silently.
    #[serde(default)]
    pub non_finite: NonFinite,
    /// `true` (the default): an alert fires on the first point in violation
    /// and resolves on the first back within limits, the state kept per
    /// series. `false`: every point in violation fires an alert of its own
    /// and nothing resolves; no state is kept, so the same points raise the
    /// same alerts wherever they are processed (any aggregator of a Kafka
    /// consumer group, after any restart or rebalance). `for`,
    /// `clear_below` and `clear_above` need state and are refused with it.
    #[serde(default = "defaults::resolve")]
    pub resolve: bool,
}

/// What threshold does with a value that is not finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NonFinite {
    /// Reject the point, with the reason.
    #[default]
    Error,
    /// Fire the rule's alert.
    Alert,
}

/// One limit on one field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The field to check, e.g. `temperature`. Points without it (or whose
    /// value is text) are skipped; a value that is not finite is handled as
    /// `non_finite` says.
    pub field: String,
    /// Values below this are a violation. At least one of `min`/`max`.
    #[serde(default)]
    pub min: Option<f64>,
    /// Values above this are a violation. At least one of `min`/`max`.
    #[serde(default)]
    pub max: Option<f64>,
    /// Severity of the firing alert. Default `warning`.
    #[serde(default = "defaults::severity")]
    pub severity: Severity,
    /// The alert kind (`type` in reports). Default `threshold`.
    #[serde(default = "defaults::kind")]
    pub kind: String,
    /// Description of the firing alert. Placeholders: `{field}` `{value}`
    /// `{min}` `{max}` `{series}`. Default `{field} {value} above max {max}`
    /// or `{field} {value} below min {min}`, by the side violated.
    #[serde(default)]
    pub description: Option<String>,
    /// Description of the resolved alert, same placeholders. Default
    /// `{field} {value} back within limits`.
    #[serde(default = "defaults::resolved_description")]
    pub resolved_description: String,
    /// Hysteresis on the `max` side: once above `max`, the alert resolves
    /// only when a value falls below this (at most `max`), so a value
    /// hovering at the limit does not flap. Default: `max` itself.
    #[serde(default)]
    pub clear_below: Option<f64>,
    /// Hysteresis on the `min` side: once below `min`, the alert resolves
    /// only when a value rises above this (at least `min`). Default: `min`.
    #[serde(default)]
    pub clear_above: Option<f64>,
    /// How long (event time) a violation must last before the alert fires,
    /// as Prometheus' `for`: a violation shorter than this fires nothing.
    /// Default `0s`: the first value out of limits fires.
    #[serde(
        default,
        rename = "for",
        deserialize_with = "foghorn_plugin::duration::deserialize"
    )]
    pub for_: std::time::Duration,
    /// Further, more severe limits on the same field, e.g. `[{ max: 95,
    /// severity: critical }]` above a `max: 80` warning: the alert (one
    /// identity) fires again with the severity of the highest level
    /// violated as the value crosses them, up and down. Each level has a
    /// `max` beyond the rule's `max` or a `min` below its `min`.
    #[serde(default)]
    pub levels: Vec<LevelConfig>,
}

/// A more severe limit of a rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelConfig {
    /// Values above this are at this level.
    #[serde(default)]
    pub max: Option<f64>,
    /// Values below this are at this level.
    #[serde(default)]
    pub min: Option<f64>,
    /// The alert's severity at this level.
    pub severity: Severity,
}

/// Every default, in one place.
mod defaults {
    use foghorn_plugin::Severity;

    pub(super) fn resolve() -> bool {
        true
    }
    pub(super) fn severity() -> Severity {
        Severity::Warning
    }
    pub(super) fn kind() -> String {
        "threshold".to_owned()
    }
    pub(super) const ABOVE_DESCRIPTION: &str = "{field} {value} above max {max}";
    pub(super) const BELOW_DESCRIPTION: &str = "{field} {value} below min {min}";
    pub(super) fn resolved_description() -> String {
        "{field} {value} back within limits".to_owned()
    }
}

/// What a description can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placeholder {
    Field,
    Value,
    Min,
    Max,
    Series,
}

const PLACEHOLDERS: &[(&str, Placeholder)] = &[
    ("field", Placeholder::Field),
    ("value", Placeholder::Value),
    ("min", Placeholder::Min),
    ("max", Placeholder::Max),
    ("series", Placeholder::Series),
];

/// A validated rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub field: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub severity: Severity,
    pub kind: String,
    pub above: Template<Placeholder>,
    pub below: Template<Placeholder>,
    pub resolved: Template<Placeholder>,
    /// Where an alert above `max` / below `min` resolves.
    pub clear_below: Option<f64>,
    pub clear_above: Option<f64>,
    /// `for`, in nanoseconds of event time.
    pub for_nanos: i64,
    /// Levels beyond `max`, by bound ascending; beyond `min`, descending.
    pub above_levels: Vec<(f64, Severity)>,
    pub below_levels: Vec<(f64, Severity)>,
}

impl Config {
    /// Validate every rule, reporting every mistake at once.
    pub(crate) fn compile(&self) -> Result<Vec<Rule>, String> {
        if self.rules.is_empty() {
            return Err("threshold: `rules` is empty; give at least one rule".to_owned());
        }
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        for (i, rule) in self.rules.iter().cloned().enumerate() {
            let name = format!("threshold rule {} ({})", i + 1, rule.field);
            if !self.resolve {
                for (key, set) in [
                    ("for", !rule.for_.is_zero()),
                    ("clear_below", rule.clear_below.is_some()),
                    ("clear_above", rule.clear_above.is_some()),
                ] {
                    if set {
                        errors.push(format!(
                            "{name}: `{key}` needs state, which `resolve: false` does not keep"
                        ));
                    }
                }
            }
            match rule.compile() {
                Ok(rule) => rules.push(rule),
                Err(problems) => {
                    errors.extend(problems.into_iter().map(|p| format!("{name}: {p}")))
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

/// A template that is never rendered.
fn unused() -> Template<Placeholder> {
    Template::parse("", PLACEHOLDERS).expect("an empty template is valid")
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
        match (self.min, self.max) {
            (None, None) => errors.push("give `min`, `max` or both".to_owned()),
            (Some(min), Some(max)) if min > max => {
                errors.push(format!("min {min} is above max {max}"));
            }
            _ => {}
        }
        let mut template = |key: &str, text: &str| match Template::parse(text, PLACEHOLDERS) {
            Ok(template) => {
                for (placeholder, bound, name) in [
                    (Placeholder::Min, self.min, "min"),
                    (Placeholder::Max, self.max, "max"),
                ] {
                    if bound.is_none() && template.uses(placeholder) {
                        errors.push(format!(
                            "`{key}` uses {{{name}}} but the rule has no {name}"
                        ));
                    }
                }
                template
            }
            Err(e) => {
                errors.push(format!("`{key}`: {e}"));
                unused()
            }
        };
        // A custom description serves both sides; a side without a bound is
        // never violated, so its template is never rendered.
        let above_text = self
            .description
            .as_deref()
            .unwrap_or(defaults::ABOVE_DESCRIPTION);
        let below_text = self
            .description
            .as_deref()
            .unwrap_or(defaults::BELOW_DESCRIPTION);
        let above = if self.max.is_some() {
            template("description", above_text)
        } else {
            unused()
        };
        let below = if self.min.is_some() {
            template("description", below_text)
        } else {
            unused()
        };
        let resolved = template("resolved_description", &self.resolved_description);
        match (self.clear_below, self.max) {
            (Some(_), None) => errors.push("`clear_below` needs `max`".to_owned()),
            (Some(clear), Some(max)) if clear > max => {
                errors.push(format!("clear_below {clear} is above max {max}"));
            }
            _ => {}
        }
        match (self.clear_above, self.min) {
            (Some(_), None) => errors.push("`clear_above` needs `min`".to_owned()),
            (Some(clear), Some(min)) if clear < min => {
                errors.push(format!("clear_above {clear} is below min {min}"));
            }
            _ => {}
        }
        let mut above_levels = Vec::new();
        let mut below_levels = Vec::new();
        for (i, level) in self.levels.iter().enumerate() {
            let name = format!("levels[{i}]");
            match (level.max, level.min, self.max, self.min) {
                (Some(max), None, Some(base), _) if max > base => {
                    above_levels.push((max, level.severity));
                }
                (None, Some(min), _, Some(base)) if min < base => {
                    below_levels.push((min, level.severity));
                }
                (Some(_), Some(_), _, _) | (None, None, _, _) => {
                    errors.push(format!("{name}: give one of `max` or `min`"));
                }
                _ => errors.push(format!(
                    "{name}: a level's `max` must be above the rule's `max`, its `min` below the rule's `min`"
                )),
            }
        }
        above_levels.sort_by(|a, b| a.0.total_cmp(&b.0));
        below_levels.sort_by(|a, b| b.0.total_cmp(&a.0));
        let for_nanos = i64::try_from(self.for_.as_nanos()).unwrap_or(i64::MAX);
        if !errors.is_empty() {
            errors.dedup();
            return Err(errors);
        }
        Ok(Rule {
            field: self.field,
            min: self.min,
            max: self.max,
            severity: self.severity,
            kind: self.kind,
            above,
            below,
            resolved,
            clear_below: self.clear_below,
            clear_above: self.clear_above,
            for_nanos,
            above_levels,
            below_levels,
        })
    }
}
