//! `type: slack`: posts each notification of an alert stage to a Slack
//! incoming webhook, as one Block Kit message per group: a header with the
//! state, the count and the group's labels, one section per alert (severity,
//! kind, series, description, value), the attachment's colour by the worst
//! severity (green once resolved).
//!
//! Slack accepts about one message per second per channel: the sink leaves
//! `min_interval` between two messages, and a 429's `Retry-After` is
//! honoured (retries are those of [`super::http_post`]). Device data in the
//! text is escaped for Slack's mrkdwn (`&`, `<`, `>`, control characters),
//! and a message lists at most [`MAX_ALERTS`] alerts (then how many more),
//! within Slack's 50-block limit.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::mpsc::Receiver;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::http_post::{Poster, Retry, check_url, deliver_notifications, origin};
use super::{SinkContext, SinkError, banner};
use crate::delivery::DeliveryStatus;
use crate::event::notification::{Notification, NotifiedAlert};
use crate::event::{AlertState, Severity, SharedBatch};
use crate::settings::{Problems, Secret, Settings, units};

/// The most alerts one message lists.
pub const MAX_ALERTS: usize = 20;

/// `type: slack`: where messages go and how fast.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// `url`: the incoming-webhook URL (`https://hooks.slack.com/services/…`),
    /// usually `${SLACK_WEBHOOK_URL}`. Required; a secret.
    pub url: Secret,
    /// `min_interval`: the least time between two messages. Default `1s`
    /// (Slack's rate per channel), from `0s` to `1m`.
    #[serde(
        default = "SlackConfig::default_min_interval",
        with = "units::duration"
    )]
    pub min_interval: Duration,
    /// `retry`: `timeout`, `backoff`, `max_backoff`; see [`Retry`].
    #[serde(default)]
    pub retry: Retry,
}

impl SlackConfig {
    const fn default_min_interval() -> Duration {
        Duration::from_secs(1)
    }
}

impl Settings for SlackConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        check_url(self.url.expose(), &format!("{key}.url"), problems);
        problems.duration_range(
            &format!("{key}.min_interval"),
            self.min_interval,
            Duration::ZERO,
            Duration::from_mins(1),
        );
        self.retry.check(&format!("{key}.retry"), problems);
    }
}

/// A built Slack sink.
#[derive(Debug)]
pub struct SlackSink {
    name: Arc<str>,
    settings: SlackConfig,
    poster: Poster,
    shutdown: CancellationToken,
    /// When the next message may go (`min_interval` after the last).
    next_allowed: Mutex<Instant>,
}

impl super::Sink for SlackConfig {
    type Running = SlackSink;

    async fn build(&self, ctx: SinkContext) -> Result<SlackSink, SinkError> {
        Ok(SlackSink {
            poster: Poster::new(Arc::clone(&ctx.name), self.retry, ctx.shutdown.clone())?,
            name: ctx.name,
            settings: self.clone(),
            shutdown: ctx.shutdown,
            next_allowed: Mutex::new(Instant::now()),
        })
    }
}

impl super::RunningSink for SlackSink {
    fn describe(&self) -> String {
        let origin = origin(self.settings.url.expose());
        banner("slack", format!("{origin}/… ({})", self.name))
    }

    async fn run(self, input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        let sink = &self;
        deliver_notifications(&self.name, input, |notification| async move {
            let next = *sink
                .next_allowed
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            tokio::select! {
                () = sink.shutdown.cancelled() => return Err(DeliveryStatus::Failed),
                () = tokio::time::sleep_until(next) => {}
            }
            let body = message(&notification).to_string();
            let url = sink.settings.url.expose();
            let sent = sink
                .poster
                .deliver(|client| {
                    client
                        .post(url)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.clone())
                })
                .await;
            *sink
                .next_allowed
                .lock()
                .unwrap_or_else(PoisonError::into_inner) =
                Instant::now() + sink.settings.min_interval;
            sent
        })
        .await;
        Ok(())
    }
}

/// The attachment colour: green once resolved, else by the worst severity.
fn colour(notification: &Notification) -> &'static str {
    if notification.status == AlertState::Resolved {
        return "#2e7d32";
    }
    let worst = notification
        .alerts
        .iter()
        .filter(|alert| alert.status == AlertState::Firing)
        .map(|alert| alert.severity)
        .max()
        .unwrap_or(Severity::Info);
    match worst {
        Severity::Critical => "#d32f2f",
        Severity::Warning => "#f9a825",
        Severity::Info => "#1976d2",
    }
}

/// `text` safe in Slack's mrkdwn: `&`, `<` and `>` escaped, control
/// characters dropped (newlines kept), at most `max` characters.
fn escape(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for c in text.chars().take(max) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push('\n'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn alert_section(alert: &NotifiedAlert) -> serde_json::Value {
    let label = |name: &str| alert.labels.get(name).map_or("", String::as_str);
    let tags: Vec<String> = alert
        .labels
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "alertname" | "severity" | "series"))
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    let mut text = format!(
        "*{}* {} on `{}{{{}}}`",
        alert.severity.as_str().to_uppercase(),
        escape(label("alertname"), 100),
        escape(label("series"), 200),
        escape(&tags.join(","), 500),
    );
    if alert.status == AlertState::Resolved {
        text.push_str(" — resolved");
    }
    if let Some(description) = alert.annotations.get("description") {
        let _ = write!(text, "\n{}", escape(description, 1500));
    }
    if let Some(value) = alert.annotations.get("value") {
        let _ = write!(text, "\nvalue: {}", escape(value, 100));
    }
    serde_json::json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } })
}

/// The Slack message for one notification.
pub(crate) fn message(notification: &Notification) -> serde_json::Value {
    let state = match notification.status {
        AlertState::Firing => "FIRING",
        AlertState::Resolved => "RESOLVED",
    };
    let labels: Vec<String> = notification
        .group_labels
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    let title = format!(
        "[{state}:{}] {}",
        notification.alerts.len(),
        if labels.is_empty() {
            notification.stage.clone()
        } else {
            labels.join(" ")
        }
    );
    let mut blocks = vec![serde_json::json!({
        "type": "header",
        "text": { "type": "plain_text", "text": escape(&title, 150) },
    })];
    blocks.extend(
        notification
            .alerts
            .iter()
            .take(MAX_ALERTS)
            .map(alert_section),
    );
    let more = notification.alerts.len().saturating_sub(MAX_ALERTS);
    let mut context = format!("foghorn · {}", escape(&notification.stage, 100));
    if more > 0 {
        let _ = write!(context, " · and {more} more alerts");
    }
    blocks.push(serde_json::json!({
        "type": "context",
        "elements": [{ "type": "mrkdwn", "text": context }],
    }));
    serde_json::json!({
        "text": escape(&title, 150),
        "attachments": [{ "color": colour(notification), "blocks": blocks }],
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn alert(severity: Severity, state: AlertState, description: &str) -> NotifiedAlert {
        NotifiedAlert {
            fingerprint: "fp".into(),
            status: state,
            severity,
            labels: BTreeMap::from([
                ("alertname".into(), "threshold".into()),
                ("device".into(), "bench-1".into()),
                ("series".into(), "bench_device".into()),
                ("severity".into(), severity.as_str().into()),
            ]),
            annotations: BTreeMap::from([
                ("description".into(), description.into()),
                ("value".into(), "94.3".into()),
            ]),
            starts_at: 0,
            ends_at: None,
        }
    }

    fn notification(status: AlertState, alerts: Vec<NotifiedAlert>) -> Notification {
        Notification {
            receiver: "slack".into(),
            stage: "notify".into(),
            idempotency_key: "k".into(),
            group_key: "g".into(),
            group_labels: BTreeMap::from([("device".into(), "bench-1".into())]),
            status,
            alerts,
            created: 0,
        }
    }

    #[test]
    fn a_group_is_one_message_coloured_by_its_worst_severity() {
        let firing = notification(
            AlertState::Firing,
            vec![
                alert(Severity::Warning, AlertState::Firing, "low"),
                alert(Severity::Critical, AlertState::Firing, "<b>hot</b> & \u{7}"),
            ],
        );
        let body = message(&firing);
        assert_eq!(body["text"], "[FIRING:2] device=bench-1");
        let attachment = &body["attachments"][0];
        assert_eq!(attachment["color"], "#d32f2f");
        let blocks = attachment["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 4, "header, two alerts, context");
        let critical = blocks[2]["text"]["text"].as_str().unwrap();
        assert!(critical.starts_with("*CRITICAL* threshold on `bench_device{device=bench-1}`"));
        assert!(
            critical.contains("&lt;b&gt;hot&lt;/b&gt; &amp; \nvalue: 94.3"),
            "{critical}"
        );
        let resolved = notification(
            AlertState::Resolved,
            vec![alert(Severity::Critical, AlertState::Resolved, "ok")],
        );
        assert_eq!(message(&resolved)["attachments"][0]["color"], "#2e7d32");
    }

    #[test]
    fn a_large_group_stays_within_slacks_block_limit() {
        let many = (0..120)
            .map(|_| alert(Severity::Warning, AlertState::Firing, "x"))
            .collect();
        let body = message(&notification(AlertState::Firing, many));
        let blocks = body["attachments"][0]["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), MAX_ALERTS + 2);
        assert!(blocks.len() <= 50);
        let context = blocks.last().unwrap()["elements"][0]["text"]
            .as_str()
            .unwrap();
        assert!(context.ends_with("and 100 more alerts"), "{context}");
    }
}
