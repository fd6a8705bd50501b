//! The running alert stage: ingest, group, notify, commit.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::block_in_place;

use super::AlertsConfig;
use super::group::{Group, Member, group_of};
use super::inhibit::{InhibitRule, inhibited};
use super::route::Route;
use crate::delivery::{DeliveryStatus, Receipts};
use crate::event::notification::Notification;
use crate::event::{Alert, AlertState, Batch, Severity};
use crate::internal::events::{ComponentError, EventsDiscarded};
use crate::processors::{NativeProcessor, ProcessorContext, Produced};
use crate::silences::Silences;
use crate::state::{AlertChanges, StateStore};

/// How often groups look whether a notification is due.
const TICK: Duration = Duration::from_millis(100);

/// A notification waiting for its sink's acknowledgement.
#[derive(Debug)]
struct Pending {
    notification: Notification,
    /// When to send it again; `None` while a send is in flight.
    resend_at: Option<i64>,
}

/// A running alert stage.
#[derive(Debug)]
pub struct Stage {
    name: Arc<str>,
    root: Route,
    max_active: usize,
    max_pending: usize,
    resend_after: Duration,
    inhibit_rules: Vec<InhibitRule>,
    silences: Arc<Silences>,
    state: Arc<StateStore>,
    groups: BTreeMap<String, Group>,
    /// Firing alerts by fingerprint: the severity each fired with and the
    /// groups it is in.
    firing: HashMap<String, (Severity, Vec<String>)>,
    outbox: BTreeMap<u64, Pending>,
    next_seq: u64,
    receipts: Receipts,
    /// Groups changed since the last commit.
    dirty: BTreeSet<String>,
    /// Outbox rows written or deleted since the last commit.
    outbox_changes: Vec<(u64, Option<Vec<u8>>)>,
    /// Whether the alerts still firing from before a restart were announced.
    announced: bool,
}

impl Stage {
    /// The stage `settings` describe, with the groups and pending
    /// notifications it saved before.
    pub(super) fn open(settings: &AlertsConfig, ctx: &ProcessorContext) -> Result<Self, String> {
        let saved = ctx
            .state
            .load_alerts(&ctx.name)
            .map_err(|error| format!("cannot load the alert state: {error}"))?;
        let mut stage = Self {
            name: Arc::clone(&ctx.name),
            root: Route::root(&settings.route),
            max_active: settings.max_active,
            max_pending: settings.max_pending,
            resend_after: settings.resend_after,
            inhibit_rules: settings.inhibit_rules.clone(),
            silences: Arc::clone(&ctx.silences),
            state: Arc::clone(&ctx.state),
            groups: BTreeMap::new(),
            firing: HashMap::new(),
            outbox: BTreeMap::new(),
            next_seq: 0,
            receipts: Receipts::default(),
            dirty: BTreeSet::new(),
            outbox_changes: Vec::new(),
            announced: false,
        };
        for bytes in saved.groups {
            // A row this version cannot read is dropped, not fatal.
            let Ok(group) = serde_json::from_slice::<Group>(&bytes) else {
                continue;
            };
            for (fingerprint, member) in &group.alerts {
                if member.alert.state == AlertState::Firing {
                    let entry = stage
                        .firing
                        .entry(fingerprint.clone())
                        .or_insert((member.severity, Vec::new()));
                    entry.1.push(group.key.clone());
                }
            }
            stage.groups.insert(group.key.clone(), group);
        }
        for (seq, bytes) in saved.outbox {
            if let Ok(notification) = serde_json::from_slice::<Notification>(&bytes) {
                stage.outbox.insert(
                    seq,
                    Pending {
                        notification,
                        resend_at: Some(0),
                    },
                );
            }
            stage.next_seq = stage.next_seq.max(seq + 1);
        }
        crate::internal::metrics::metrics()
            .notifications_pending
            .with_label_values(&[&stage.name])
            .set(i64::try_from(stage.outbox.len()).unwrap_or(i64::MAX));
        Ok(stage)
    }

    fn ingest(&mut self, alert: &Alert, now: i64, out: &mut Produced) {
        let fingerprint = format!("{:016x}", alert.fingerprint());
        match alert.state {
            AlertState::Firing => {
                if let Some((severity, keys)) = self.firing.get(&fingerprint) {
                    // Deduplicated: the groups keep the latest value.
                    let severity = *severity;
                    for key in keys {
                        if let Some(member) = self
                            .groups
                            .get_mut(key)
                            .and_then(|group| group.alerts.get_mut(&fingerprint))
                        {
                            member.alert = alert.raised.clone();
                            member.alert.severity = severity;
                        }
                    }
                    return;
                }
                if self.firing.len() >= self.max_active {
                    EventsDiscarded {
                        component: &self.name,
                        reason: "active_limit",
                        count: 1,
                    }
                    .emit();
                    return;
                }
                let mut keys = Vec::new();
                for route in self.root.routes_for(alert) {
                    let (key, labels) = group_of(&route.id, &route.settings, alert, &fingerprint);
                    let group = self
                        .groups
                        .entry(key.clone())
                        .or_insert_with(|| Group::new(key.clone(), labels, &route.settings, now));
                    group.alerts.insert(
                        fingerprint.clone(),
                        Member {
                            alert: alert.raised.clone(),
                            component: alert.component.to_string(),
                            plugin: alert.plugin.to_string(),
                            severity: alert.severity,
                            starts_at: alert.timestamp,
                        },
                    );
                    self.dirty.insert(key.clone());
                    keys.push(key);
                }
                self.firing.insert(fingerprint, (alert.severity, keys));
                out.alerts.push(alert.clone());
            }
            AlertState::Resolved => {
                let Some((severity, keys)) = self.firing.remove(&fingerprint) else {
                    EventsDiscarded {
                        component: &self.name,
                        reason: "resolved_not_firing",
                        count: 1,
                    }
                    .emit();
                    return;
                };
                let mut resolved = alert.clone();
                resolved.severity = severity;
                for key in keys {
                    if let Some(member) = self
                        .groups
                        .get_mut(&key)
                        .and_then(|group| group.alerts.get_mut(&fingerprint))
                    {
                        member.alert = resolved.raised.clone();
                        self.dirty.insert(key);
                    }
                }
                out.alerts.push(resolved);
            }
        }
    }

    /// The firing alerts, by fingerprint, when something may mute them.
    fn firing_alerts(&self, now: i64) -> HashMap<String, Alert> {
        let mut firing = HashMap::new();
        if self.inhibit_rules.is_empty() && !self.silences.any_active(now) {
            return firing;
        }
        for group in self.groups.values() {
            for (fingerprint, member) in &group.alerts {
                if member.alert.state == AlertState::Firing && !firing.contains_key(fingerprint) {
                    firing.insert(fingerprint.clone(), member.alert());
                }
            }
        }
        firing
    }

    /// Let every due group look whether to notify, leaving out what
    /// silences and inhibition rules mute.
    fn flush(&mut self, now: i64, out: &mut Produced) {
        let due: Vec<String> = self
            .groups
            .iter()
            .filter(|(_, group)| group.due(now))
            .map(|(key, _)| key.clone())
            .collect();
        if due.is_empty() {
            return;
        }
        let firing = self.firing_alerts(now);
        let mut muted: HashSet<&str> = inhibited(&self.inhibit_rules, &firing);
        let inhibited = muted.len();
        let mut silenced = 0_i64;
        for (fingerprint, alert) in &firing {
            if !muted.contains(fingerprint.as_str()) && self.silences.mutes(alert, now) {
                muted.insert(fingerprint);
                silenced += 1;
            }
        }
        let gauge = &crate::internal::metrics::metrics().alerts_muted;
        gauge
            .with_label_values(&[&*self.name, "silence"])
            .set(silenced);
        gauge
            .with_label_values(&[&*self.name, "inhibition"])
            .set(i64::try_from(inhibited).unwrap_or(i64::MAX));
        let mut notifications = Vec::new();
        for key in due {
            let Some(group) = self.groups.get_mut(&key) else {
                continue;
            };
            notifications.extend(group.flush(&self.name, now, &muted));
            if group.alerts.is_empty() {
                self.groups.remove(&key);
            }
            self.dirty.insert(key);
        }
        for notification in notifications {
            self.enqueue(notification, out);
        }
    }

    /// Put a notification in the outbox and send it.
    fn enqueue(&mut self, notification: Notification, out: &mut Produced) {
        while self.outbox.len() >= self.max_pending {
            let Some((oldest, _)) = self.outbox.pop_first() else {
                break;
            };
            self.outbox_changes.push((oldest, None));
            EventsDiscarded {
                component: &self.name,
                reason: "outbox_full",
                count: 1,
            }
            .emit();
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let bytes = serde_json::to_vec(&notification).expect("notifications serialize");
        self.outbox_changes.push((seq, Some(bytes)));
        out.notifications
            .push((notification.clone(), self.receipts.track(seq)));
        self.outbox.insert(
            seq,
            Pending {
                notification,
                resend_at: None,
            },
        );
    }

    /// Take the acknowledgements that arrived: a delivered (or deliberately
    /// dropped) notification leaves the outbox; one its sink gave up on is
    /// sent again after `resend_after`.
    fn collect_receipts(&mut self, now: i64) {
        while let Some((seq, status)) = self.receipts.try_next() {
            match status {
                DeliveryStatus::Delivered | DeliveryStatus::Dropped => {
                    if self.outbox.remove(&seq).is_some() {
                        self.outbox_changes.push((seq, None));
                    }
                }
                DeliveryStatus::Failed => {
                    if let Some(pending) = self.outbox.get_mut(&seq) {
                        let wait = i64::try_from(self.resend_after.as_nanos()).unwrap_or(i64::MAX);
                        pending.resend_at = Some(now.saturating_add(wait));
                    }
                }
            }
        }
    }

    /// Send again what is due: after a restart, everything pending.
    fn resend(&mut self, now: i64, out: &mut Produced) {
        for (seq, pending) in &mut self.outbox {
            if pending.resend_at.is_some_and(|at| at <= now) {
                pending.resend_at = None;
                out.notifications
                    .push((pending.notification.clone(), self.receipts.track(*seq)));
            }
        }
    }

    /// After a restart, the alerts still firing, once, so the sinks reading
    /// the stage's alerts know them again.
    fn announce(&mut self, out: &mut Produced) {
        if std::mem::replace(&mut self.announced, true) {
            return;
        }
        let mut seen = BTreeSet::new();
        for group in self.groups.values() {
            for (fingerprint, member) in &group.alerts {
                if member.alert.state == AlertState::Firing && seen.insert(fingerprint) {
                    out.alerts.push(member.alert());
                }
            }
        }
    }

    /// Make what changed durable, before anything produced is sent.
    fn commit(&mut self) {
        if self.dirty.is_empty() && self.outbox_changes.is_empty() {
            return;
        }
        let groups = std::mem::take(&mut self.dirty)
            .into_iter()
            .map(|key| {
                let saved = self
                    .groups
                    .get(&key)
                    .map(|group| serde_json::to_vec(group).expect("groups serialize"));
                (key, saved)
            })
            .collect();
        let changes = AlertChanges {
            groups,
            outbox: std::mem::take(&mut self.outbox_changes),
        };
        let committed = block_in_place(|| self.state.commit_alerts(&self.name, &changes));
        crate::internal::metrics::metrics()
            .notifications_pending
            .with_label_values(&[&self.name])
            .set(i64::try_from(self.outbox.len()).unwrap_or(i64::MAX));
        if let Err(error) = committed {
            let error = error.to_string();
            ComponentError {
                component: &self.name,
                reason: "state_failed",
                error: &error,
            }
            .emit();
        }
    }

    /// Notifications waiting for their sinks.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.outbox.len()
    }

    fn step(&mut self, now: i64, alerts: &[Alert], out: &mut Produced) {
        self.collect_receipts(now);
        self.announce(out);
        for alert in alerts {
            self.ingest(alert, now, out);
        }
        self.flush(now, out);
        self.resend(now, out);
        self.commit();
    }
}

impl NativeProcessor for Stage {
    fn process(&mut self, batch: &Batch, out: &mut Produced) {
        self.step(crate::event::now_nanos(), &batch.alerts, out);
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(TICK)
    }

    fn tick(&mut self, now: i64, out: &mut Produced) {
        self.step(now, &[], out);
        let gauge = &crate::internal::metrics::metrics().silences;
        for (state, n) in self.silences.count_by_state(now) {
            gauge
                .with_label_values(&[state])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
}

#[cfg(test)]
mod tests;
