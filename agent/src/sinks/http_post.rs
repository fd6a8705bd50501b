//! Sending a notification until the receiver takes it: what the webhook,
//! Slack, Alertmanager and email sinks share ([`retrying`]), and the HTTP
//! client of the first three ([`Poster`]).
//!
//! A 2xx answer is success. Connection errors, timeouts, 408, 429 and 5xx
//! are retried with exponential backoff (`backoff` doubling up to
//! `max_backoff`; a `Retry-After` in seconds is honoured, up to
//! `max_backoff`) until the receiver answers or the agent shuts down: then
//! the notification is reported failed, and the alert stage sends it again
//! after the restart. Any other 4xx is the receiver refusing the payload:
//! counted as an error (`reason="rejected"`) and not retried. Error messages
//! never hold the URL, which may carry a token.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use tokio::sync::mpsc::Receiver;

use crate::delivery::DeliveryStatus;
use crate::event::SharedBatch;
use crate::event::notification::Notification;
use crate::internal::events::{ComponentError, EventsDelivered, EventsReceived, SinkRetrying};
use crate::internal::health::{ComponentStatus, health};
use crate::settings::{Problems, units};

/// A sink's `retry`: `timeout`, `backoff`, `max_backoff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retry {
    /// `timeout`: how long one request may take. Default `10s`, from `100ms`
    /// to `5m`.
    #[serde(with = "units::duration")]
    pub timeout: Duration,
    /// `backoff`: the wait after the first failed try, doubled after each.
    /// Default `500ms`, from `10ms` to `1m`.
    #[serde(with = "units::duration")]
    pub backoff: Duration,
    /// `max_backoff`: the longest wait between tries, `Retry-After`
    /// included. Default `1m`, from `backoff` to `1h`.
    #[serde(with = "units::duration")]
    pub max_backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_mins(1),
        }
    }
}

impl Retry {
    /// Reports values under `key` (the sink's `retry`) that are out of range.
    pub(crate) fn check(&self, key: &str, problems: &mut Problems<'_>) {
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

/// Reports `key` (the URL's own key) unless it is an `http://` or
/// `https://` URL, without repeating it (it may hold a token).
pub(crate) fn check_url(url: &str, key: &str, problems: &mut Problems<'_>) {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
        Ok(_) => problems.push(key, "must be an http:// or https:// URL"),
        Err(error) => problems.push(key, format!("not a URL: {error}")),
    }
}

/// `scheme://host:port` of `url`, for banners.
pub(crate) fn origin(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .map(|url| format!("{}://{}", url.scheme(), url.authority()))
        .unwrap_or_default()
}

/// A sink's HTTP client and retry policy.
#[derive(Debug)]
pub(crate) struct Poster {
    name: Arc<str>,
    client: reqwest::Client,
    retry: Retry,
    shutdown: CancellationToken,
}

/// Why one try failed, and whether another may succeed.
pub(crate) struct Failure {
    /// What went wrong, without secrets.
    pub message: String,
    /// Whether another try may succeed.
    pub retry: bool,
    /// How long the receiver asked to wait.
    pub retry_after: Option<Duration>,
}

impl Poster {
    /// A client for sink `name`.
    pub(crate) fn new(
        name: Arc<str>,
        retry: Retry,
        shutdown: CancellationToken,
    ) -> Result<Self, super::SinkError> {
        let client = reqwest::Client::builder()
            .timeout(retry.timeout)
            .user_agent(concat!("foghorn/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| super::SinkError::Client(error.to_string()))?;
        Ok(Self {
            name,
            client,
            retry,
            shutdown,
        })
    }

    /// POST what `request` builds (again on every try) until the receiver
    /// takes it; `Err` with the status to report when it refused the
    /// payload or the agent is shutting down.
    pub(crate) async fn deliver(
        &self,
        request: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<(), DeliveryStatus> {
        retrying(&self.name, &self.retry, &self.shutdown, || {
            try_once(request(&self.client))
        })
        .await
    }
}

/// Run `attempt` until it succeeds: a failure that may pass is retried
/// after a growing wait (or the one the receiver asked for, up to
/// `max_backoff`), until shutdown (`Failed`); one that will not pass is
/// counted and given up (`Dropped`).
pub(crate) async fn retrying<F>(
    name: &str,
    retry: &Retry,
    shutdown: &CancellationToken,
    mut attempt: impl FnMut() -> F,
) -> Result<(), DeliveryStatus>
where
    F: Future<Output = Result<(), Failure>>,
{
    let mut backoff = retry.backoff;
    let mut degraded = false;
    loop {
        let failure = match attempt().await {
            Ok(()) => {
                if degraded {
                    health().set(name, ComponentStatus::Running);
                }
                return Ok(());
            }
            Err(failure) => failure,
        };
        if !failure.retry {
            ComponentError {
                component: name,
                reason: "rejected",
                error: &failure.message,
            }
            .emit();
            return Err(DeliveryStatus::Dropped);
        }
        let wait = failure
            .retry_after
            .unwrap_or(backoff)
            .min(retry.max_backoff);
        SinkRetrying {
            component: name,
            error: &failure.message,
            backoff: wait,
        }
        .emit();
        degraded = true;
        tokio::select! {
            () = shutdown.cancelled() => return Err(DeliveryStatus::Failed),
            () = tokio::time::sleep(wait) => {}
        }
        backoff = (backoff * 2).min(retry.max_backoff);
    }
}

async fn try_once(request: reqwest::RequestBuilder) -> Result<(), Failure> {
    let response = request.send().await.map_err(|error| Failure {
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

/// The run loop of a notification sink: each notification addressed to
/// sink `name` (a route's `receivers` names it) is handed to `send`, one at
/// a time, until the input closes; what arrives and what is delivered is
/// counted, and a notification that was not delivered is reported on its
/// batch's delivery handle, so the alert stage keeps it.
pub(crate) async fn deliver_notifications<F>(
    name: &str,
    mut input: Receiver<SharedBatch>,
    mut send: impl FnMut(Notification) -> F,
) where
    F: Future<Output = Result<(), DeliveryStatus>>,
{
    while let Some(batch) = input.recv().await {
        for notification in &batch.notifications {
            if notification.receiver != name {
                continue;
            }
            EventsReceived {
                component: name,
                count: 1,
                bytes: 0,
            }
            .emit();
            match send(notification.clone()).await {
                Ok(()) => EventsDelivered {
                    component: name,
                    count: 1,
                }
                .emit(),
                Err(status) => batch.delivery.report(status),
            }
        }
    }
}
