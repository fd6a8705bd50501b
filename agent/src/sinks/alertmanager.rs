//! `type: alertmanager`: hands an alert stage's alerts to an existing
//! Prometheus Alertmanager (`POST /api/v2/alerts`), so foghorn fits a shop
//! that already routes, silences and notifies there.
//!
//! Each notification addressed to the sink is posted as Alertmanager's
//! postable alerts: the labels, the annotations, `startsAt`, and `endsAt`
//! (the resolution time for a resolved alert). Alertmanager resolves an
//! alert it has not heard of for `resolve_timeout`, so the sink remembers
//! the alerts that fire (at most `max_active`) and posts them again every
//! `repost_interval`, each with an `endsAt` of three intervals ahead, as
//! Prometheus does; a resolution is posted once and forgotten. Posting a
//! notification is acknowledged on Alertmanager's 2xx (retries are those of
//! [`super::http_post`]); the periodic re-posts are best effort.
//!
//! Route the alerts here with `group_by: ['...']` and `group_wait: 0s`
//! when Alertmanager does the grouping.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::mpsc::Receiver;

use super::http_post::{Poster, Retry, check_url, origin};
use super::{SinkContext, SinkError, banner};
use crate::event::notification::NotifiedAlert;
use crate::event::{AlertState, SharedBatch, format_timestamp, now_nanos};
use crate::internal::events::{ComponentError, EventsDelivered, EventsDiscarded, EventsReceived};
use crate::settings::{Problems, Secret, Settings, units};

/// `type: alertmanager`: which Alertmanager, and how often alerts that
/// still fire are posted again.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    /// `url`: the Alertmanager's base URL, e.g. `http://127.0.0.1:9093`
    /// (`/api/v2/alerts` is added). Required.
    pub url: Secret,
    /// `repost_interval`: how often the alerts that still fire are posted
    /// again; keep it well under Alertmanager's `resolve_timeout` (5m by
    /// default). Default `1m`, from `1s` to `1h`.
    #[serde(
        default = "AlertmanagerConfig::default_repost_interval",
        with = "units::duration"
    )]
    pub repost_interval: Duration,
    /// `max_active`: the most firing alerts remembered for re-posting; past
    /// it a new one is posted once and counted in
    /// `foghorn_component_discarded_events_total{reason="active_limit"}`.
    /// Default 10000, from 1 to 1000000.
    #[serde(default = "AlertmanagerConfig::default_max_active")]
    pub max_active: usize,
    /// `retry`: `timeout`, `backoff`, `max_backoff`; see [`Retry`].
    #[serde(default)]
    pub retry: Retry,
}

impl AlertmanagerConfig {
    const fn default_repost_interval() -> Duration {
        Duration::from_mins(1)
    }
    const fn default_max_active() -> usize {
        10_000
    }
}

impl Settings for AlertmanagerConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        check_url(self.url.expose(), &format!("{key}.url"), problems);
        problems.duration_range(
            &format!("{key}.repost_interval"),
            self.repost_interval,
            Duration::from_secs(1),
            Duration::from_hours(1),
        );
        problems.range(&format!("{key}.max_active"), self.max_active, 1, 1_000_000);
        self.retry.check(&format!("{key}.retry"), problems);
    }
}

/// A built Alertmanager sink.
#[derive(Debug)]
pub struct AlertmanagerSink {
    name: Arc<str>,
    settings: AlertmanagerConfig,
    endpoint: String,
    poster: Poster,
    /// The firing alerts, by fingerprint, for re-posting.
    active: BTreeMap<String, NotifiedAlert>,
}

impl super::Sink for AlertmanagerConfig {
    type Running = AlertmanagerSink;

    async fn build(&self, ctx: SinkContext) -> Result<AlertmanagerSink, SinkError> {
        Ok(AlertmanagerSink {
            poster: Poster::new(Arc::clone(&ctx.name), self.retry, ctx.shutdown)?,
            endpoint: format!("{}/api/v2/alerts", self.url.expose().trim_end_matches('/')),
            name: ctx.name,
            settings: self.clone(),
            active: BTreeMap::new(),
        })
    }
}

impl super::RunningSink for AlertmanagerSink {
    fn describe(&self) -> String {
        let origin = origin(self.settings.url.expose());
        banner("alerts", format!("{origin}/api/v2/alerts ({})", self.name))
    }

    async fn run(mut self, mut input: Receiver<SharedBatch>) -> Result<(), SinkError> {
        let mut repost = tokio::time::interval(self.settings.repost_interval);
        repost.tick().await;
        loop {
            tokio::select! {
                batch = input.recv() => {
                    let Some(batch) = batch else { break };
                    self.on_batch(&batch).await;
                }
                _ = repost.tick() => self.repost().await,
            }
        }
        Ok(())
    }
}

impl AlertmanagerSink {
    async fn on_batch(&mut self, batch: &SharedBatch) {
        for notification in &batch.notifications {
            if notification.receiver != *self.name {
                continue;
            }
            EventsReceived {
                component: &self.name,
                count: notification.alerts.len(),
                bytes: 0,
            }
            .emit();
            for alert in &notification.alerts {
                self.remember(alert);
            }
            let body = self.postable(&notification.alerts);
            match self.post(body).await {
                Ok(()) => EventsDelivered {
                    component: &self.name,
                    count: notification.alerts.len(),
                }
                .emit(),
                Err(status) => batch.delivery.report(status),
            }
        }
    }

    fn remember(&mut self, alert: &NotifiedAlert) {
        if alert.status == AlertState::Resolved {
            self.active.remove(&alert.fingerprint);
        } else if self.active.len() < self.settings.max_active
            || self.active.contains_key(&alert.fingerprint)
        {
            self.active.insert(alert.fingerprint.clone(), alert.clone());
        } else {
            EventsDiscarded {
                component: &self.name,
                reason: "active_limit",
                count: 1,
            }
            .emit();
        }
    }

    /// Post the firing alerts again, so Alertmanager keeps them firing.
    async fn repost(&self) {
        if self.active.is_empty() {
            return;
        }
        let alerts: Vec<NotifiedAlert> = self.active.values().cloned().collect();
        if self.post(self.postable(&alerts)).await.is_err() {
            ComponentError {
                component: &self.name,
                reason: "repost_failed",
                error: &"the firing alerts could not be posted again",
            }
            .emit();
        }
    }

    async fn post(&self, body: String) -> Result<(), crate::delivery::DeliveryStatus> {
        self.poster
            .deliver(|client| {
                client
                    .post(&self.endpoint)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
            })
            .await
    }

    /// Alertmanager's postable alerts; a firing one ends three re-post
    /// intervals from now unless posted again.
    fn postable(&self, alerts: &[NotifiedAlert]) -> String {
        let ahead =
            i64::try_from((self.settings.repost_interval * 3).as_nanos()).unwrap_or(i64::MAX);
        let ends_for_firing = now_nanos().saturating_add(ahead);
        let list: Vec<serde_json::Value> = alerts
            .iter()
            .map(|alert| {
                serde_json::json!({
                    "labels": alert.labels,
                    "annotations": alert.annotations,
                    "startsAt": alert.starts_at_text(),
                    "endsAt": format_timestamp(alert.ends_at.unwrap_or(ends_for_firing)),
                    "generatorURL": "",
                })
            })
            .collect();
        serde_json::Value::from(list).to_string()
    }
}
