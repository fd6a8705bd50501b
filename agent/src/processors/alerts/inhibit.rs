//! Inhibition rules, as in Alertmanager: while an alert matching a rule's
//! `source_matchers` fires, the alerts matching its `target_matchers` that
//! share its values of the `equal` labels are not notified (a critical
//! alert on a series mutes that series' warnings). An alert never mutes
//! itself.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use crate::event::Alert;
use crate::matchers::{Matchers, alert_label};
use crate::settings::Problems;

/// One entry of `inhibit_rules`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InhibitRule {
    /// `source_matchers`: what a firing alert satisfies to mute others, e.g.
    /// `['severity="critical"']`. Required, not empty.
    pub source_matchers: Matchers,
    /// `target_matchers`: what the muted alerts satisfy, e.g.
    /// `['severity="warning"']`. Required, not empty.
    pub target_matchers: Matchers,
    /// `equal`: labels whose values source and target share. Default
    /// `[series]`; add the series' tags (`device`) to keep series with the
    /// same name apart.
    #[serde(default = "InhibitRule::default_equal")]
    pub equal: Vec<String>,
}

impl InhibitRule {
    fn default_equal() -> Vec<String> {
        vec!["series".to_owned()]
    }

    pub(super) fn check(&self, key: &str, problems: &mut Problems<'_>) {
        if self.source_matchers.0.is_empty() {
            problems.push(
                &format!("{key}.source_matchers"),
                "must list at least one matcher",
            );
        }
        if self.target_matchers.0.is_empty() {
            problems.push(
                &format!("{key}.target_matchers"),
                "must list at least one matcher",
            );
        }
    }

    fn equal_values<'a>(&self, alert: &'a Alert) -> Vec<&'a str> {
        self.equal
            .iter()
            .map(|label| alert_label(alert, label).unwrap_or(""))
            .collect()
    }
}

/// The fingerprints among `firing` that `rules` mute.
pub(super) fn inhibited<'a>(
    rules: &[InhibitRule],
    firing: &'a HashMap<String, Alert>,
) -> HashSet<&'a str> {
    let mut muted = HashSet::new();
    for rule in rules {
        let mut sources: HashMap<Vec<&str>, usize> = HashMap::new();
        for alert in firing.values() {
            if rule.source_matchers.matches_alert(alert) {
                *sources.entry(rule.equal_values(alert)).or_default() += 1;
            }
        }
        if sources.is_empty() {
            continue;
        }
        for (fingerprint, alert) in firing {
            if !rule.target_matchers.matches_alert(alert) {
                continue;
            }
            let itself = usize::from(rule.source_matchers.matches_alert(alert));
            let others = sources.get(&rule.equal_values(alert)).copied().unwrap_or(0);
            if others > itself {
                muted.insert(fingerprint.as_str());
            }
        }
    }
    muted
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::event::{Series, Severity};

    fn alert(severity: Severity, device: &str, field: &str) -> Alert {
        let series = Series::new("bench").with_tag("device", device);
        Alert::new(
            foghorn_model::Alert::firing("threshold", severity, &series, 0, "x")
                .with_label("field", field),
            Arc::from("detect"),
            Arc::from("builtin:threshold"),
        )
    }

    fn matchers(list: &[&str]) -> Matchers {
        Matchers(list.iter().map(|m| m.parse().unwrap()).collect())
    }

    #[test]
    fn a_critical_alert_mutes_the_warnings_of_its_own_series_only() {
        let rule = InhibitRule {
            source_matchers: matchers(&["severity=critical"]),
            target_matchers: matchers(&["severity=warning"]),
            equal: vec!["series".into(), "device".into()],
        };
        let firing: HashMap<String, Alert> = [
            ("hot-1", alert(Severity::Critical, "bench-1", "temperature")),
            ("low-1", alert(Severity::Warning, "bench-1", "voltage")),
            ("low-2", alert(Severity::Warning, "bench-2", "voltage")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let muted = inhibited(&[rule], &firing);
        assert_eq!(muted, HashSet::from(["low-1"]));
    }

    #[test]
    fn an_alert_does_not_mute_itself() {
        let rule = InhibitRule {
            source_matchers: matchers(&["kind=threshold"]),
            target_matchers: matchers(&["kind=threshold"]),
            equal: vec!["series".into()],
        };
        let one: HashMap<String, Alert> =
            HashMap::from([("a".to_owned(), alert(Severity::Warning, "bench-1", "v"))]);
        assert!(inhibited(std::slice::from_ref(&rule), &one).is_empty());
        let mut two = one;
        two.insert("b".into(), alert(Severity::Warning, "bench-2", "v"));
        assert_eq!(inhibited(&[rule], &two).len(), 2, "each mutes the other");
    }
}
