//! `type: alerts`: the alert stage, a native processor with Alertmanager's
//! semantics.
//!
//! Alerts are known by fingerprint (processor, kind, series, labels). A
//! repeated firing of an active alert is deduplicated; a resolution keeps the
//! severity the alert fired with. Each alert goes down the routing tree
//! ([`route`]) into aggregation groups ([`group`]), which notify their
//! receivers (sinks reading `<stage>.notifications`) after `group_wait`, on
//! change every `group_interval`, and again every `repeat_interval` while
//! something fires. The stage's `alerts` output carries each alert's
//! transitions once (firing, then resolved), for the report and Prometheus
//! sinks; after a restart it announces the alerts still firing once more.
//!
//! Groups and every notification not yet acknowledged by its sink (the
//! outbox) live in the state store and are committed before anything is
//! sent or the input is acknowledged, so a restart or a `kill -9` loses
//! nothing: pending notifications are sent again with the same idempotency
//! key, and groups notify again only where a repeat is due.
//!
//! Silences ([`crate::silences`]) and inhibition rules ([`inhibit`]) mute
//! notifications: a muted alert is left out of its group's notifications
//! (as if it were not there) and still reaches the `alerts` output.
//!
//! Memory and disk are bounded by `max_active` alerts (a new alert past it
//! is discarded and counted) and `max_pending` notifications (past it the
//! oldest pending one is dropped and counted).

mod group;
mod inhibit;
mod route;
mod stage;

use std::time::Duration;

use serde::Deserialize;

pub use inhibit::InhibitRule;
pub use route::RouteConfig;
pub use stage::Stage;

use super::{Processor, ProcessorContext};
use crate::settings::{Problems, Settings, units};

/// `type: alerts`: routes, groups and notifies alerts.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// `route`: the root of the routing tree; see [`RouteConfig`]. Required.
    pub route: RouteConfig,
    /// `inhibit_rules`: alerts that mute others while they fire; see
    /// [`InhibitRule`]. Default none.
    #[serde(default)]
    pub inhibit_rules: Vec<InhibitRule>,
    /// `max_active`: the most alerts firing at once that the stage keeps; a
    /// new alert past it is discarded and counted in
    /// `foghorn_component_discarded_events_total{reason="active_limit"}`.
    /// Default 10000, from 1 to 1000000.
    #[serde(default = "AlertsConfig::default_max_active")]
    pub max_active: usize,
    /// `max_pending`: the most notifications waiting for their sinks; past
    /// it the oldest is dropped and counted
    /// (`reason="outbox_full"`). Default 10000, from 1 to 1000000.
    #[serde(default = "AlertsConfig::default_max_pending")]
    pub max_pending: usize,
    /// `resend_after`: how long a notification whose sink gave up on it
    /// (at shutdown) waits before it is sent again. Default `30s`, from
    /// `100ms` to `1h`.
    #[serde(
        default = "AlertsConfig::default_resend_after",
        with = "units::duration"
    )]
    pub resend_after: Duration,
}

impl AlertsConfig {
    const fn default_max_active() -> usize {
        10_000
    }
    const fn default_max_pending() -> usize {
        10_000
    }
    const fn default_resend_after() -> Duration {
        Duration::from_secs(30)
    }

    /// Every sink a route notifies.
    #[must_use]
    pub fn receivers(&self) -> Vec<&str> {
        let mut names = self.route.receivers();
        names.sort_unstable();
        names.dedup();
        names
    }
}

impl Settings for AlertsConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        problems.range(&format!("{key}.max_active"), self.max_active, 1, 1_000_000);
        problems.range(
            &format!("{key}.max_pending"),
            self.max_pending,
            1,
            1_000_000,
        );
        problems.duration_range(
            &format!("{key}.resend_after"),
            self.resend_after,
            Duration::from_millis(100),
            Duration::from_hours(1),
        );
        self.route.check(&format!("{key}.route"), problems);
        for (i, rule) in self.inhibit_rules.iter().enumerate() {
            rule.check(&format!("{key}.inhibit_rules[{i}]"), problems);
        }
    }
}

impl Processor for AlertsConfig {
    type Running = Stage;

    fn build(&self, ctx: &ProcessorContext) -> Result<Stage, String> {
        Stage::open(self, ctx)
    }

    fn describe(&self) -> String {
        let receivers = self.receivers();
        if receivers.is_empty() {
            "alerts, notifying nobody".to_owned()
        } else {
            format!("alerts, notifying {}", receivers.join(", "))
        }
    }
}
