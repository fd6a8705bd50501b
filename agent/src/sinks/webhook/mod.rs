//! `type: webhook`: POSTs each notification of an alert stage to a URL, in
//! Alertmanager's webhook format (version 4), so whatever reads
//! Alertmanager's webhooks reads foghorn's, or in a body of the user's own
//! ([`template`]).
//!
//! The sink handles the notifications addressed to it (a route's
//! `receivers` names it) and sends them one at a time, each with an
//! `Idempotency-Key` header. A 2xx answer is the acknowledgement: only then
//! is the notification's delivery handle dropped, and the alert stage
//! deletes it from its outbox; retries are those of [`super::http_post`].
//!
//! With `hmac_secret`, the body is signed: `X-Foghorn-Signature:
//! sha256=<hex HMAC-SHA256 of the body>`.

mod template;

use std::collections::BTreeMap;
use std::sync::Arc;

use hmac::{Hmac, Mac as _};
use serde::Deserialize;
use tokio::sync::mpsc::Receiver;

use super::http_post::{Poster, Retry, check_url, deliver_notifications, origin};
use super::{SinkContext, SinkError, banner};
use crate::delivery::DeliveryStatus;
use crate::event::notification::{Notification, NotifiedAlert};
use crate::event::{AlertState, SharedBatch};
use crate::internal::events::ComponentError;
use crate::settings::{Problems, Secret, Settings};
use template::BodyTemplate;

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
    /// `template`: the request body as a MiniJinja (Jinja2) template over
    /// the Alertmanager payload (`status`, `groupLabels`, `alerts`, …). With
    /// a JSON `content_type` every printed value is written as a JSON value
    /// (`{{ status }}` writes `"firing"`, quotes included) and the result
    /// must be JSON. A notification the template cannot render is not sent:
    /// it is logged and counted (`reason="template"`). Default: the payload
    /// itself.
    #[serde(default)]
    pub template: Option<String>,
    /// `content_type`: the body's `Content-Type`. Default
    /// `application/json`.
    #[serde(default = "default_content_type")]
    pub content_type: String,
    /// `retry`: `timeout` per request (default `10s`), `backoff` after the
    /// first failed try (`500ms`, doubled after each) and `max_backoff`
    /// (`1m`); see [`Retry`].
    #[serde(default)]
    pub retry: Retry,
}

fn default_content_type() -> String {
    "application/json".to_owned()
}

impl WebhookConfig {
    fn body_template(&self) -> Result<Option<BodyTemplate>, String> {
        self.template
            .as_deref()
            .map(|source| BodyTemplate::new(source, &self.content_type))
            .transpose()
    }
}

impl Settings for WebhookConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        check_url(self.url.expose(), &format!("{key}.url"), problems);
        if reqwest::header::HeaderValue::from_str(&self.content_type).is_err() {
            problems.push(
                &format!("{key}.content_type"),
                "not a valid header value (control characters?)",
            );
        }
        match self.body_template() {
            // Tried on an example, so an unknown filter or a body that is
            // not JSON shows now rather than at the first alert.
            Ok(Some(template)) => {
                if let Err(error) = template.render(&payload(&Notification::example())) {
                    problems.push(&format!("{key}.template"), error);
                }
            }
            Ok(None) => {}
            Err(error) => problems.push(&format!("{key}.template"), error),
        }
        for (name, value) in &self.headers {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                problems.push(
                    &format!("{key}.headers"),
                    format!("`{name}` is not a header name"),
                );
            }
            // Without the value, which is a secret.
            if reqwest::header::HeaderValue::from_str(value.expose()).is_err() {
                problems.push(
                    &format!("{key}.headers.{name}"),
                    "not a valid header value (control characters?)",
                );
            }
        }
        self.retry.check(&format!("{key}.retry"), problems);
    }
}

/// A built webhook sink.
#[derive(Debug)]
pub struct WebhookSink {
    name: Arc<str>,
    settings: WebhookConfig,
    template: Option<BodyTemplate>,
    poster: Poster,
}

impl super::Sink for WebhookConfig {
    type Running = WebhookSink;

    async fn build(&self, ctx: SinkContext) -> Result<WebhookSink, SinkError> {
        Ok(WebhookSink {
            template: self.body_template().map_err(SinkError::Template)?,
            poster: Poster::new(Arc::clone(&ctx.name), self.retry, ctx.shutdown)?,
            name: ctx.name,
            settings: self.clone(),
        })
    }
}

impl super::RunningSink for WebhookSink {
    fn describe(&self) -> String {
        let origin = origin(self.settings.url.expose());
        banner("webhook", format!("{origin}/… ({})", self.name))
    }

    async fn run(self, input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        let sink = &self;
        deliver_notifications(&self.name, input, |notification| async move {
            let body = sink.body(&notification)?;
            sink.poster
                .deliver(|client| sink.request(client, &notification, &body))
                .await
        })
        .await;
        Ok(())
    }
}

impl WebhookSink {
    /// The request body for `notification`; `Dropped` when the template
    /// cannot render it (another try would fail the same way).
    fn body(&self, notification: &Notification) -> Result<String, DeliveryStatus> {
        let payload = payload(notification);
        let Some(template) = &self.template else {
            return Ok(payload.to_string());
        };
        template.render(&payload).map_err(|error| {
            ComponentError {
                component: &self.name,
                reason: "template",
                error: &error,
            }
            .emit();
            DeliveryStatus::Dropped
        })
    }

    fn request(
        &self,
        client: &reqwest::Client,
        notification: &Notification,
        body: &str,
    ) -> reqwest::RequestBuilder {
        let mut request = client
            .post(self.settings.url.expose())
            .header(reqwest::header::CONTENT_TYPE, &self.settings.content_type)
            .header("Idempotency-Key", &notification.idempotency_key);
        for (name, value) in &self.settings.headers {
            request = request.header(name, value.expose());
        }
        if let Some(secret) = &self.settings.hmac_secret {
            request = request.header("X-Foghorn-Signature", signature(secret, body));
        }
        request.body(body.to_owned())
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
