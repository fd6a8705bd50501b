//! Aggregation groups, as in Alertmanager: the alerts of one route that
//! share the values of its `group_by` labels, notified together.
//!
//! A new group notifies `group_wait` after it was made; after that it looks
//! every `group_interval` and notifies when its firing alerts changed or an
//! alert it notified as firing has resolved, or when `repeat_interval` has
//! passed since the last notification and something still fires. An alert
//! that fired and resolved before the group ever notified of it is dropped
//! quietly. Resolved alerts leave the group once notified; an empty group
//! is removed.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::route::RouteSettings;
use crate::event::notification::{Notification, NotifiedAlert};
use crate::event::{Alert, AlertState, Severity};
use crate::matchers::alert_label;

/// `group_by: ['...']`: every alert is its own group.
const EVERY_LABEL: &str = "...";

/// One aggregation group and what it last notified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Group {
    /// The route's id and the group's label values.
    pub key: String,
    /// The `group_by` labels and their values.
    pub labels: BTreeMap<String, String>,
    /// Where its notifications go.
    pub receivers: Vec<String>,
    /// The route's timings when the group was made.
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    /// When it was made, nanoseconds since the epoch: with `sent`, what
    /// makes its idempotency keys unique.
    pub created: i64,
    /// Its alerts by fingerprint (hex).
    pub alerts: BTreeMap<String, Member>,
    /// When it next looks whether to notify.
    pub next_flush: i64,
    /// When it last notified.
    pub last_notified: Option<i64>,
    /// The alerts it last notified as firing.
    pub notified_firing: BTreeSet<String>,
    /// Notifications made so far.
    pub sent: u64,
}

/// An alert in a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Member {
    /// The latest firing (or the resolution) received.
    pub alert: foghorn_model::Alert,
    /// The processor that raised it.
    pub component: String,
    /// The plugin that raised it.
    pub plugin: String,
    /// The severity it fired with.
    pub severity: Severity,
    /// When it started firing.
    pub starts_at: i64,
}

/// The key and labels of the group `alert` belongs to on a route.
pub(super) fn group_of(
    route: &str,
    settings: &RouteSettings,
    alert: &Alert,
    fingerprint: &str,
) -> (String, BTreeMap<String, String>) {
    if settings.group_by.iter().any(|label| label == EVERY_LABEL) {
        return (format!("{route}:{fingerprint}"), BTreeMap::new());
    }
    let labels: BTreeMap<String, String> = settings
        .group_by
        .iter()
        .map(|name| {
            let value = alert_label(alert, name).unwrap_or_default();
            (name.clone(), value.to_owned())
        })
        .collect();
    let values: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    (format!("{route}:{{{}}}", values.join(",")), labels)
}

impl Group {
    /// A new, empty group on a route with `settings`, first notifying
    /// `group_wait` after `now`.
    pub(super) fn new(
        key: String,
        labels: BTreeMap<String, String>,
        settings: &RouteSettings,
        now: i64,
    ) -> Self {
        Self {
            key,
            labels,
            receivers: settings.receivers.clone(),
            group_interval: settings.group_interval,
            repeat_interval: settings.repeat_interval,
            created: now,
            alerts: BTreeMap::new(),
            next_flush: now.saturating_add(nanos(settings.group_wait)),
            last_notified: None,
            notified_firing: BTreeSet::new(),
            sent: 0,
        }
    }

    /// Whether it is time to look.
    pub(super) fn due(&self, now: i64) -> bool {
        self.next_flush <= now
    }

    /// Look whether to notify: the notifications to send (one per receiver;
    /// none when nothing changed and no repeat is due). Resolved alerts that
    /// were notified, or never notified as firing, leave the group.
    pub(super) fn flush(
        &mut self,
        stage: &str,
        now: i64,
        muted: &HashSet<&str>,
    ) -> Vec<Notification> {
        self.next_flush = now.saturating_add(nanos(self.group_interval));
        let firing: BTreeSet<String> = self
            .alerts
            .iter()
            .filter(|(fingerprint, member)| {
                member.alert.state == AlertState::Firing && !muted.contains(fingerprint.as_str())
            })
            .map(|(fingerprint, _)| fingerprint.clone())
            .collect();
        let resolved: Vec<String> = self
            .alerts
            .iter()
            .filter(|(_, member)| member.alert.state == AlertState::Resolved)
            .map(|(fingerprint, _)| fingerprint.clone())
            .collect();
        let resolved_notified: Vec<&String> = resolved
            .iter()
            .filter(|fingerprint| self.notified_firing.contains(*fingerprint))
            .collect();
        let changed = firing != self.notified_firing || !resolved_notified.is_empty();
        let repeat_due = !firing.is_empty()
            && self
                .last_notified
                .is_none_or(|at| now.saturating_sub(at) >= nanos(self.repeat_interval));
        let notify =
            (changed || repeat_due) && !(firing.is_empty() && resolved_notified.is_empty());
        let mut notifications = Vec::new();
        if notify {
            let alerts: Vec<NotifiedAlert> = self
                .alerts
                .iter()
                .filter(|(fingerprint, member)| match member.alert.state {
                    AlertState::Firing => firing.contains(*fingerprint),
                    AlertState::Resolved => self.notified_firing.contains(*fingerprint),
                })
                .map(|(_, member)| member.notified())
                .collect();
            let status = if firing.is_empty() {
                AlertState::Resolved
            } else {
                AlertState::Firing
            };
            for receiver in &self.receivers {
                notifications.push(Notification {
                    receiver: receiver.clone(),
                    stage: stage.to_owned(),
                    idempotency_key: self.idempotency_key(stage, receiver),
                    group_key: self.key.clone(),
                    group_labels: self.labels.clone(),
                    status,
                    alerts: alerts.clone(),
                    created: now,
                });
            }
            self.sent += 1;
            self.last_notified = Some(now);
            self.notified_firing = firing;
        }
        // A resolved alert is done once notified, or when it was never
        // notified as firing (nobody needs to hear it stopped).
        if notify || !resolved.is_empty() {
            for fingerprint in &resolved {
                self.alerts.remove(fingerprint);
            }
            self.notified_firing
                .retain(|fp| self.alerts.contains_key(fp));
        }
        notifications
    }

    /// Stable for this group's `sent`-th notification to `receiver`.
    fn idempotency_key(&self, stage: &str, receiver: &str) -> String {
        use sha2::Digest as _;
        let mut hash = sha2::Sha256::new();
        for part in [stage, receiver, &self.key] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hash.update(self.created.to_le_bytes());
        hash.update(self.sent.to_le_bytes());
        hex::encode(&hash.finalize()[..16])
    }
}

impl Member {
    /// The alert as it travels the pipeline.
    pub(super) fn alert(&self) -> Alert {
        Alert::new(
            self.alert.clone(),
            std::sync::Arc::from(self.component.as_str()),
            std::sync::Arc::from(self.plugin.as_str()),
        )
    }

    fn notified(&self) -> NotifiedAlert {
        NotifiedAlert::new(&self.alert(), self.severity, self.starts_at)
    }
}

/// A duration in nanoseconds, saturating.
fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Series;

    const SECOND: i64 = 1_000_000_000;

    fn settings() -> RouteSettings {
        RouteSettings {
            receivers: vec!["hook".into(), "mail".into()],
            group_by: vec!["device".into()],
            group_wait: Duration::from_secs(10),
            group_interval: Duration::from_secs(60),
            repeat_interval: Duration::from_secs(3600),
        }
    }

    fn member(field: &str, state: AlertState) -> (String, Member) {
        let series = Series::new("bench").with_tag("device", "bench-1");
        let mut alert =
            foghorn_model::Alert::firing("threshold", Severity::Critical, &series, 0, "hot")
                .with_label("field", field);
        alert.state = state;
        (
            field.to_owned(),
            Member {
                alert,
                component: "detect".into(),
                plugin: "builtin:threshold".into(),
                severity: Severity::Critical,
                starts_at: 0,
            },
        )
    }

    fn group() -> Group {
        Group::new(
            "0:{device=\"bench-1\"}".into(),
            BTreeMap::new(),
            &settings(),
            0,
        )
    }

    #[test]
    fn waits_group_wait_then_notifies_each_receiver_once() {
        let mut group = group();
        let (fp, m) = member("temperature", AlertState::Firing);
        group.alerts.insert(fp, m);
        assert!(!group.due(9 * SECOND));
        assert!(group.due(10 * SECOND));
        let sent = group.flush("stage", 10 * SECOND, &HashSet::new());
        assert_eq!(sent.len(), 2);
        assert_eq!((&*sent[0].receiver, &*sent[1].receiver), ("hook", "mail"));
        assert_ne!(sent[0].idempotency_key, sent[1].idempotency_key);
        assert_eq!(sent[0].status, AlertState::Firing);
        // Nothing changed: the next interval sends nothing.
        assert!(
            group
                .flush("stage", 70 * SECOND, &HashSet::new())
                .is_empty()
        );
        // A repeat is due an hour after the notification.
        let repeat = group.flush("stage", 3610 * SECOND, &HashSet::new());
        assert_eq!(repeat.len(), 2);
        assert_ne!(repeat[0].idempotency_key, sent[0].idempotency_key);
    }

    #[test]
    fn a_resolution_of_a_notified_alert_is_notified_with_its_severity() {
        let mut group = group();
        let (fp, m) = member("temperature", AlertState::Firing);
        group.alerts.insert(fp.clone(), m);
        group.flush("stage", 10 * SECOND, &HashSet::new());
        let (_, mut resolved) = member("temperature", AlertState::Resolved);
        resolved.alert.severity = Severity::Info;
        group.alerts.insert(fp, resolved);
        let sent = group.flush("stage", 70 * SECOND, &HashSet::new());
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].status, AlertState::Resolved);
        assert_eq!(sent[0].alerts[0].status, AlertState::Resolved);
        assert_eq!(sent[0].alerts[0].severity, Severity::Critical);
        assert!(
            group.alerts.is_empty(),
            "a notified resolution leaves the group"
        );
    }

    #[test]
    fn an_alert_resolved_before_it_was_notified_is_dropped_quietly() {
        let mut group = group();
        let (fp, m) = member("temperature", AlertState::Resolved);
        group.alerts.insert(fp, m);
        assert!(
            group
                .flush("stage", 10 * SECOND, &HashSet::new())
                .is_empty()
        );
        assert!(group.alerts.is_empty());
    }

    #[test]
    fn a_new_alert_in_a_notified_group_is_a_change() {
        let mut group = group();
        let (fp, m) = member("temperature", AlertState::Firing);
        group.alerts.insert(fp, m);
        group.flush("stage", 10 * SECOND, &HashSet::new());
        let (fp, m) = member("voltage", AlertState::Firing);
        group.alerts.insert(fp, m);
        let sent = group.flush("stage", 70 * SECOND, &HashSet::new());
        assert_eq!(sent[0].alerts.len(), 2);
    }
}
