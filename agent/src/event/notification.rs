//! What the alert stage sends to a receiver: one group of alerts, for one
//! receiver, with a key that stays the same when it is sent again.
//!
//! A notification is plain data (serde both ways): the alert stage keeps
//! each one in its outbox in the state store until the receiver's sink has
//! acknowledged it, and sends it again after a restart. Its alerts carry
//! what Alertmanager's carry: labels (`alertname` = the alert's kind,
//! `severity`, `series`, the series' tags and the alert's own labels),
//! annotations (`description`, `value`, `score`), start and end.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Alert, AlertState, Severity, format_timestamp};

/// One group of alerts for one receiver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// The sink it is for (a name in a route's `receivers`).
    pub receiver: String,
    /// The alert stage that sent it.
    pub stage: String,
    /// Unique to this notification and the same on every re-send, so a
    /// receiver can drop a repeat.
    pub idempotency_key: String,
    /// Identifies the group: the route and the values of its `group_by`.
    pub group_key: String,
    /// The `group_by` labels and their values.
    pub group_labels: BTreeMap<String, String>,
    /// `firing` when any of its alerts fires, else `resolved`.
    pub status: AlertState,
    /// The alerts of the group: those firing, and those resolved since the
    /// group's last notification.
    pub alerts: Vec<NotifiedAlert>,
    /// When the stage made it, nanoseconds since the Unix epoch.
    pub created: i64,
}

impl Notification {
    /// A notification of one firing alert, to try a template on.
    #[must_use]
    pub fn example() -> Self {
        let labels = BTreeMap::from([
            ("alertname".to_owned(), "threshold".to_owned()),
            ("severity".to_owned(), "warning".to_owned()),
            ("series".to_owned(), "example".to_owned()),
            ("device".to_owned(), "example-1".to_owned()),
        ]);
        let annotations = BTreeMap::from([
            ("description".to_owned(), "temperature 85.5 > 80".to_owned()),
            ("value".to_owned(), "85.5".to_owned()),
        ]);
        Self {
            receiver: "example".to_owned(),
            stage: "example".to_owned(),
            idempotency_key: "example".to_owned(),
            group_key: "example".to_owned(),
            group_labels: BTreeMap::from([("device".to_owned(), "example-1".to_owned())]),
            status: AlertState::Firing,
            alerts: vec![NotifiedAlert {
                fingerprint: "0000000000000000".to_owned(),
                status: AlertState::Firing,
                severity: Severity::Warning,
                labels,
                annotations,
                starts_at: 0,
                ends_at: None,
            }],
            created: 0,
        }
    }
}

/// One alert as a receiver sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotifiedAlert {
    /// The alert's identity ([`Alert::fingerprint`]) in hex.
    pub fingerprint: String,
    /// Firing or resolved.
    pub status: AlertState,
    /// The severity it fired with (a resolved alert keeps it).
    pub severity: Severity,
    /// `alertname`, `severity`, `series`, the series' tags, the alert's labels.
    pub labels: BTreeMap<String, String>,
    /// `description`, and `value` and `score` when the alert has them.
    pub annotations: BTreeMap<String, String>,
    /// When it started firing, nanoseconds since the Unix epoch.
    pub starts_at: i64,
    /// When it resolved; `None` while it fires.
    pub ends_at: Option<i64>,
}

impl NotifiedAlert {
    /// `alert` as a receiver sees it, having fired since `starts_at` with
    /// `severity`.
    #[must_use]
    pub fn new(alert: &Alert, severity: Severity, starts_at: i64) -> Self {
        let mut labels = BTreeMap::new();
        for (key, value) in alert.series.tags.iter().chain(&alert.labels) {
            labels.insert(key.clone(), value.clone());
        }
        labels.insert("alertname".to_owned(), alert.kind.clone());
        labels.insert("severity".to_owned(), severity.as_str().to_owned());
        labels.insert("series".to_owned(), alert.series.name.clone());
        let mut annotations = BTreeMap::new();
        annotations.insert("description".to_owned(), alert.description.clone());
        if let Some(value) = alert.value.filter(|v| v.is_finite()) {
            annotations.insert("value".to_owned(), value.to_string());
        }
        if let Some(score) = alert.score.filter(|v| v.is_finite()) {
            annotations.insert("score".to_owned(), score.to_string());
        }
        let resolved = alert.state == AlertState::Resolved;
        Self {
            fingerprint: format!("{:016x}", alert.fingerprint()),
            status: alert.state,
            severity,
            labels,
            annotations,
            starts_at,
            ends_at: resolved.then_some(alert.timestamp),
        }
    }

    /// RFC 3339 start, as receivers print it.
    #[must_use]
    pub fn starts_at_text(&self) -> String {
        format_timestamp(self.starts_at)
    }

    /// RFC 3339 end; the zero time `0001-01-01T00:00:00Z` while firing, as
    /// Alertmanager writes it.
    #[must_use]
    pub fn ends_at_text(&self) -> String {
        self.ends_at
            .map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), format_timestamp)
    }
}
