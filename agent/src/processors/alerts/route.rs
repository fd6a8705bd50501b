//! The routing tree, as in Alertmanager: an alert enters at the root, goes
//! down into the first child whose matchers it satisfies (and on into the
//! next sibling when that child has `continue: true`), and ends at the
//! deepest routes that matched. Each child inherits what it does not set.

use std::time::Duration;

use serde::Deserialize;

use crate::event::Alert;
use crate::matchers::Matchers;
use crate::settings::{Problems, units};

/// A route: which alerts it takes, where they go and how they are grouped.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouteConfig {
    /// `matchers`: what an alert must all satisfy to take this route, over
    /// `kind`, `severity`, `state`, `series`, `component`, the alert's labels
    /// and its series' tags (e.g. `['severity="critical"']`). Ignored on the
    /// root, which takes every alert.
    pub matchers: Matchers,
    /// `receivers`: the sinks this route notifies; each reads the stage's
    /// `notifications`. Default: the parent's (none on the root).
    pub receivers: Option<Vec<String>>,
    /// `group_by`: labels whose values split alerts into groups, one
    /// notification per group; `[]` puts every alert of the route in one
    /// group, `['...']` gives every alert a group of its own. Default: the
    /// parent's (`[]` on the root).
    pub group_by: Option<Vec<String>>,
    /// `group_wait`: how long a new group waits for more alerts before its
    /// first notification. Default: the parent's (`30s` on the root), at
    /// most `1h`.
    #[serde(with = "units::option_duration")]
    pub group_wait: Option<Duration>,
    /// `group_interval`: how long a group waits after a notification before
    /// it notifies of a change (a new or resolved alert). Default: the
    /// parent's (`5m` on the root), from `10ms` to `1d`.
    #[serde(with = "units::option_duration")]
    pub group_interval: Option<Duration>,
    /// `repeat_interval`: how long a group whose alerts still fire waits
    /// before it notifies again without a change. Default: the parent's
    /// (`4h` on the root), from `10ms` to `30d`.
    #[serde(with = "units::option_duration")]
    pub repeat_interval: Option<Duration>,
    /// `continue`: after this route matched, try its next siblings too.
    /// Default `false`.
    #[serde(rename = "continue")]
    pub continue_matching: bool,
    /// `routes`: child routes, tried in order.
    pub routes: Vec<RouteConfig>,
}

impl RouteConfig {
    /// Reports values under `key` that are out of range, in this route and
    /// its children.
    pub(super) fn check(&self, key: &str, problems: &mut Problems<'_>) {
        let ranges = [
            (
                "group_wait",
                self.group_wait,
                Duration::ZERO,
                Duration::from_hours(1),
            ),
            (
                "group_interval",
                self.group_interval,
                Duration::from_millis(10),
                Duration::from_hours(24),
            ),
            (
                "repeat_interval",
                self.repeat_interval,
                Duration::from_millis(10),
                Duration::from_hours(30 * 24),
            ),
        ];
        for (name, value, min, max) in ranges {
            if let Some(value) = value {
                problems.duration_range(&format!("{key}.{name}"), value, min, max);
            }
        }
        if let Some(receivers) = &self.receivers {
            for (i, receiver) in receivers.iter().enumerate() {
                if receiver.is_empty() {
                    problems.push(&format!("{key}.receivers[{i}]"), "must name a sink");
                }
            }
        }
        for (i, child) in self.routes.iter().enumerate() {
            child.check(&format!("{key}.routes[{i}]"), problems);
        }
    }

    /// Every receiver named anywhere in the tree.
    pub(super) fn receivers(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .receivers
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        for child in &self.routes {
            names.extend(child.receivers());
        }
        names
    }
}

/// What a route settles on for the alerts that end there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RouteSettings {
    pub receivers: Vec<String>,
    pub group_by: Vec<String>,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
}

/// A route with its inherited settings resolved.
#[derive(Debug, Clone)]
pub(super) struct Route {
    /// Its place in the tree: `0` for the root, `0.2.1` for the second child
    /// of the third child of the root. Part of every group key.
    pub id: String,
    matchers: Matchers,
    pub settings: RouteSettings,
    continue_matching: bool,
    children: Vec<Route>,
}

impl Route {
    /// The tree `config` describes, rooted at `config`.
    pub(super) fn root(config: &RouteConfig) -> Self {
        let defaults = RouteSettings {
            receivers: Vec::new(),
            group_by: Vec::new(),
            group_wait: Duration::from_secs(30),
            group_interval: Duration::from_mins(5),
            repeat_interval: Duration::from_hours(4),
        };
        Self::resolve(config, &defaults, "0".to_owned())
    }

    fn resolve(config: &RouteConfig, parent: &RouteSettings, id: String) -> Self {
        let settings = RouteSettings {
            receivers: config
                .receivers
                .clone()
                .unwrap_or_else(|| parent.receivers.clone()),
            group_by: config
                .group_by
                .clone()
                .unwrap_or_else(|| parent.group_by.clone()),
            group_wait: config.group_wait.unwrap_or(parent.group_wait),
            group_interval: config.group_interval.unwrap_or(parent.group_interval),
            repeat_interval: config.repeat_interval.unwrap_or(parent.repeat_interval),
        };
        let children = config
            .routes
            .iter()
            .enumerate()
            .map(|(i, child)| Self::resolve(child, &settings, format!("{id}.{i}")))
            .collect();
        Self {
            id,
            matchers: config.matchers.clone(),
            settings,
            continue_matching: config.continue_matching,
            children,
        }
    }

    /// The routes `alert` ends at, in tree order. The root always matches.
    pub(super) fn routes_for<'a>(&'a self, alert: &Alert) -> Vec<&'a Route> {
        let mut found = Vec::new();
        self.descend(alert, &mut found);
        found
    }

    fn descend<'a>(&'a self, alert: &Alert, found: &mut Vec<&'a Route>) {
        let before = found.len();
        for child in &self.children {
            if !child.matchers.matches_alert(alert) {
                continue;
            }
            child.descend(alert, found);
            if !child.continue_matching {
                break;
            }
        }
        if found.len() == before {
            found.push(self);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::event::{Series, Severity};

    fn alert(severity: Severity, kind: &str, device: &str) -> Alert {
        let series = Series::new("bench").with_tag("device", device);
        Alert::new(
            foghorn_model::Alert::firing(kind, severity, &series, 0, "x"),
            Arc::from("detect"),
            Arc::from("builtin:threshold"),
        )
    }

    fn tree(config: &RouteConfig) -> Route {
        Route::root(config)
    }

    fn matchers(list: &[&str]) -> Matchers {
        Matchers(list.iter().map(|m| m.parse().unwrap()).collect())
    }

    fn ids(route: &Route, alert: &Alert) -> Vec<String> {
        route
            .routes_for(alert)
            .into_iter()
            .map(|r| r.id.clone())
            .collect()
    }

    #[test]
    fn the_first_matching_child_wins_unless_it_continues() {
        let root = tree(&RouteConfig {
            receivers: Some(vec!["default".into()]),
            routes: vec![
                RouteConfig {
                    matchers: matchers(&["severity=critical"]),
                    receivers: Some(vec!["pager".into()]),
                    continue_matching: true,
                    ..RouteConfig::default()
                },
                RouteConfig {
                    matchers: matchers(&["kind=threshold"]),
                    receivers: Some(vec!["team".into()]),
                    ..RouteConfig::default()
                },
                RouteConfig {
                    matchers: matchers(&["device=~\"bench-.*\""]),
                    receivers: Some(vec!["never-after-a-match".into()]),
                    ..RouteConfig::default()
                },
            ],
            ..RouteConfig::default()
        });
        assert_eq!(
            ids(&root, &alert(Severity::Critical, "threshold", "bench-1")),
            ["0.0", "0.1"]
        );
        assert_eq!(
            ids(&root, &alert(Severity::Warning, "threshold", "bench-1")),
            ["0.1"]
        );
        assert_eq!(
            ids(&root, &alert(Severity::Warning, "heartbeat", "bench-1")),
            ["0.2"]
        );
        assert_eq!(
            ids(&root, &alert(Severity::Warning, "heartbeat", "lab-1")),
            ["0"]
        );
    }

    #[test]
    fn children_inherit_what_they_do_not_set_and_nest() {
        let root = tree(&RouteConfig {
            receivers: Some(vec!["default".into()]),
            group_by: Some(vec!["device".into()]),
            group_wait: Some(Duration::from_secs(1)),
            routes: vec![RouteConfig {
                matchers: matchers(&["severity=critical"]),
                repeat_interval: Some(Duration::from_mins(10)),
                routes: vec![RouteConfig {
                    matchers: matchers(&["kind=threshold"]),
                    receivers: Some(vec!["pager".into()]),
                    ..RouteConfig::default()
                }],
                ..RouteConfig::default()
            }],
            ..RouteConfig::default()
        });
        let critical = alert(Severity::Critical, "threshold", "bench-1");
        let routes = root.routes_for(&critical);
        assert_eq!(routes.len(), 1);
        let settings = &routes[0].settings;
        assert_eq!(routes[0].id, "0.0.0");
        assert_eq!(settings.receivers, ["pager"]);
        assert_eq!(settings.group_by, ["device"]);
        assert_eq!(settings.group_wait, Duration::from_secs(1));
        assert_eq!(settings.group_interval, Duration::from_mins(5));
        assert_eq!(settings.repeat_interval, Duration::from_mins(10));
        // A critical heartbeat matches the middle route but not its child.
        let heartbeat = alert(Severity::Critical, "heartbeat", "bench-1");
        assert_eq!(ids(&root, &heartbeat), ["0.0"]);
        assert_eq!(
            root.routes_for(&heartbeat)[0].settings.receivers,
            ["default"]
        );
    }
}
