//! `type: webhook`: POSTs each notification of an alert stage to a URL, in
//! Alertmanager's webhook format (version 4), so whatever reads
//! Alertmanager's webhooks reads foghorn's.
//!
//! The sink handles the notifications addressed to it (a route's
//! `receivers` names it) and sends them one at a time. A 2xx answer is the
//! acknowledgement: only then is the notification's delivery handle dropped,
//! and the alert stage deletes it from its outbox. Connection errors,
//! timeouts, 408, 429 and 5xx are retried with exponential backoff (a
//! `Retry-After` in seconds is honoured, up to `max_backoff`) until the
//! receiver answers or the agent shuts down; then the notification is
//! reported failed and the stage sends it again after the restart, with the
//! same `Idempotency-Key` header. Any other 4xx is the receiver refusing the
//! payload: counted as an error and not retried.
//!
//! With `hmac_secret`, the body is signed: `X-Foghorn-Signature:
//! sha256=<hex HMAC-SHA256 of the body>`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac as _};
use serde::Deserialize;
use tokio::sync::mpsc::Receiver;
use tokio_util::sync::CancellationToken;

use super::{SinkContext, SinkError, banner};
use crate::delivery::DeliveryStatus;
use crate::event::{AlertState, SharedBatch};
use crate::internal::events::{ComponentError, EventsDelivered, EventsReceived, SinkRetrying};
use crate::internal::health::{ComponentStatus, health};
use crate::notification::{Notification, NotifiedAlert};
use crate::settings::{Problems, Secret, Settings, units};

/// `type: webhook`: where notifications are POSTed and how.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// `url`: the `http://` or `https://` URL to POST to. Required. Treated
    /// as a secret (it often holds a token): the banner shows its host only.
    pub url: Secret,
    /// `headers`: extra request headers, e.g. `Authorization: Bearer
    /// ${TOKEN}`; values are secrets. Default none.
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// `hmac_secret`: key of the `X-Foghorn-Signature` HMAC-SHA256 body
    /// signature. Default: not signed.
    #[serde(default)]
    pub hmac_secret: Option<Secret>,
    /// `timeout`: how long one request may take. Default `10s`, from `100ms`
    /// to `5m`.
    #[serde(default = "WebhookConfig::default_timeout", with = "units::duration")]
    pub timeout: Duration,
    /// `backoff`: the wait after the first failed try, doubled after each.
    /// Default `500ms`, from `10ms` to `1m`.
    #[serde(default = "WebhookConfig::default_backoff", with = "units::duration")]
    pub backoff: Duration,
    /// `max_backoff`: the longest wait between tries, `Retry-After`
    /// included. Default `1m`, from `backoff` to `1h`.
    #[serde(
        default = "WebhookConfig::default_max_backoff",
        with = "units::duration"
    )]
    pub max_backoff: Duration,
}

impl WebhookConfig {
    const fn default_timeout() -> Duration {
        Duration::from_secs(10)
    }
    const fn default_backoff() -> Duration {
        Duration::from_millis(500)
    }
    const fn default_max_backoff() -> Duration {
        Duration::from_mins(1)
    }
}

impl Settings for WebhookConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        let url = self.url.expose();
        match reqwest::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
            Ok(_) => problems.push(&format!("{key}.url"), "must be an http:// or https:// URL"),
            // The parser's message does not repeat the URL (a secret).
            Err(error) => problems.push(&format!("{key}.url"), format!("not a URL: {error}")),
        }
        for name in self.headers.keys() {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                problems.push(
                    &format!("{key}.headers"),
                    format!("`{name}` is not a header name"),
                );
            }
        }
        problems.duration_range(
            &format!("{key}.timeout"),
            self.timeout,
            Duration::from_millis(100),
            Duration::from_mins(5),
        );
        problems.duration_range(
            &format!("{key}.backoff"),
            self.backoff,
            Duration::from_millis(10),
            Duration::from_mins(1),
        );
        problems.duration_range(
            &format!("{key}.max_backoff"),
            self.max_backoff,
            self.backoff,
            Duration::from_hours(1),
        );
    }
}

/// A built webhook sink.
#[derive(Debug)]
pub struct WebhookSink {
    name: Arc<str>,
    settings: WebhookConfig,
    client: reqwest::Client,
    shutdown: CancellationToken,
}

impl super::Sink for WebhookConfig {
    type Running = WebhookSink;

    async fn build(&self, ctx: SinkContext) -> Result<WebhookSink, SinkError> {
        let client = reqwest::Client::builder()
            .timeout(self.timeout)
            .user_agent(concat!("foghorn/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| SinkError::Client(error.to_string()))?;
        Ok(WebhookSink {
            name: ctx.name,
            settings: self.clone(),
            client,
            shutdown: ctx.shutdown,
        })
    }
}

impl super::RunningSink for WebhookSink {
    fn describe(&self) -> String {
        let host = reqwest::Url::parse(self.settings.url.expose())
            .ok()
            .map(|url| format!("{}://{}", url.scheme(), url.authority()))
            .unwrap_or_default();
        banner("webhook", format!("{host}/… ({})", self.name))
    }

    async fn run(self, mut input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        while let Some(batch) = input.recv().await {
            for notification in &batch.notifications {
                if notification.receiver != *self.name {
                    continue;
                }
                EventsReceived {
                    component: &self.name,
                    count: 1,
                    bytes: 0,
                }
                .emit();
                match self.deliver(notification).await {
                    Ok(()) => EventsDelivered {
                        component: &self.name,
                        count: 1,
                    }
                    .emit(),
                    Err(status) => batch.delivery.report(status),
                }
            }
        }
        Ok(())
    }
}

/// Why one try failed, and whether another may succeed.
struct Failure {
    message: String,
    retry: bool,
    retry_after: Option<Duration>,
}

impl WebhookSink {
    /// Send until the receiver takes it; `Err` with the status to report
    /// when it refused the payload or the agent is shutting down.
    async fn deliver(&self, notification: &Notification) -> Result<(), DeliveryStatus> {
        let body = payload(notification).to_string();
        let mut backoff = self.settings.backoff;
        let mut degraded = false;
        loop {
            let failure = match self.post(notification, &body).await {
                Ok(()) => {
                    if degraded {
                        health().set(&self.name, ComponentStatus::Running);
                    }
                    return Ok(());
                }
                Err(failure) => failure,
            };
            if !failure.retry {
                ComponentError {
                    component: &self.name,
                    reason: "rejected",
                    error: &failure.message,
                }
                .emit();
                return Err(DeliveryStatus::Dropped);
            }
            let wait = failure
                .retry_after
                .unwrap_or(backoff)
                .min(self.settings.max_backoff);
            SinkRetrying {
                component: &self.name,
                error: &failure.message,
                backoff: wait,
            }
            .emit();
            degraded = true;
            tokio::select! {
                () = self.shutdown.cancelled() => return Err(DeliveryStatus::Failed),
                () = tokio::time::sleep(wait) => {}
            }
            backoff = (backoff * 2).min(self.settings.max_backoff);
        }
    }

    async fn post(&self, notification: &Notification, body: &str) -> Result<(), Failure> {
        let mut request = self
            .client
            .post(self.settings.url.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", &notification.idempotency_key);
        for (name, value) in &self.settings.headers {
            request = request.header(name, value.expose());
        }
        if let Some(secret) = &self.settings.hmac_secret {
            request = request.header("X-Foghorn-Signature", signature(secret, body));
        }
        let response = request
            .body(body.to_owned())
            .send()
            .await
            .map_err(|error| Failure {
                // Without the URL, which may hold a token.
                message: format!("cannot POST the notification: {}", error.without_url()),
                retry: true,
                retry_after: None,
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let retry = status.is_server_error()
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::REQUEST_TIMEOUT;
        Err(Failure {
            message: format!("the receiver answered {status}"),
            retry,
            retry_after,
        })
    }
}

/// `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`.
fn signature(secret: &Secret, body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Alertmanager's webhook payload, version 4, with `idempotencyKey` added.
pub(crate) fn payload(notification: &Notification) -> serde_json::Value {
    let common = |pick: fn(&NotifiedAlert) -> &BTreeMap<String, String>| {
        let mut alerts = notification.alerts.iter();
        let mut shared = alerts.next().map(pick).cloned().unwrap_or_default();
        for alert in alerts {
            let theirs = pick(alert);
            shared.retain(|key, value| theirs.get(key) == Some(value));
        }
        shared
    };
    let alerts: Vec<serde_json::Value> = notification
        .alerts
        .iter()
        .map(|alert| {
            serde_json::json!({
                "status": alert.status,
                "labels": alert.labels,
                "annotations": alert.annotations,
                "startsAt": alert.starts_at_text(),
                "endsAt": alert.ends_at_text(),
                "generatorURL": "",
                "fingerprint": alert.fingerprint,
            })
        })
        .collect();
    serde_json::json!({
        "version": "4",
        "groupKey": notification.group_key,
        "truncatedAlerts": 0,
        "status": match notification.status {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        },
        "receiver": notification.receiver,
        "groupLabels": notification.group_labels,
        "commonLabels": common(|alert| &alert.labels),
        "commonAnnotations": common(|alert| &alert.annotations),
        "externalURL": "",
        "alerts": alerts,
        "idempotencyKey": notification.idempotency_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Severity;

    fn alert(field: &str, state: AlertState) -> NotifiedAlert {
        NotifiedAlert {
            fingerprint: format!("fp-{field}"),
            status: state,
            severity: Severity::Critical,
            labels: BTreeMap::from([
                ("alertname".into(), "threshold".into()),
                ("device".into(), "bench-1".into()),
                ("field".into(), field.into()),
            ]),
            annotations: BTreeMap::from([("description".into(), format!("{field} high"))]),
            starts_at: 1_700_000_000_000_000_000,
            ends_at: (state == AlertState::Resolved).then_some(1_700_000_060_000_000_000),
        }
    }

    #[test]
    fn the_payload_is_alertmanagers_version_4() {
        let notification = Notification {
            receiver: "hook".into(),
            stage: "notify".into(),
            idempotency_key: "k1".into(),
            group_key: "0:{device=\"bench-1\"}".into(),
            group_labels: BTreeMap::from([("device".into(), "bench-1".into())]),
            status: AlertState::Firing,
            alerts: vec![
                alert("temperature", AlertState::Firing),
                alert("voltage", AlertState::Resolved),
            ],
            created: 0,
        };
        let body = payload(&notification);
        assert_eq!(body["version"], "4");
        assert_eq!(body["status"], "firing");
        assert_eq!(body["receiver"], "hook");
        assert_eq!(body["groupLabels"]["device"], "bench-1");
        assert_eq!(
            body["commonLabels"],
            serde_json::json!({ "alertname": "threshold", "device": "bench-1" })
        );
        assert_eq!(body["commonAnnotations"], serde_json::json!({}));
        assert_eq!(body["alerts"][0]["status"], "firing");
        assert_eq!(body["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
        assert_eq!(body["alerts"][1]["status"], "resolved");
        assert_eq!(body["alerts"][1]["endsAt"], "2023-11-14T22:14:20.000Z");
        assert_eq!(body["alerts"][0]["startsAt"], "2023-11-14T22:13:20.000Z");
        assert_eq!(body["idempotencyKey"], "k1");
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        let signed = signature(&Secret::new("Jefe"), "what do ya want for nothing?");
        assert_eq!(
            signed,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
