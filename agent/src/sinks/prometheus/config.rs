//! `type: prometheus` settings: where `/metrics` is served and the budgets
//! that bound its series.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::Deserialize;

use crate::settings::{Problems, Settings, units};

/// `type: prometheus`: an HTTP endpoint serving `/metrics`.
///
/// Data gauges and alert series have separate budgets, so noisy data can
/// neither hide nor evict an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrometheusConfig {
    /// `listen`: address and port to serve on. Default `127.0.0.1:9598`.
    pub listen: SocketAddr,
    /// `max_series`: the most data gauges (`<series>_<field>{<tags>}`, one
    /// per numeric field and tag set) the sink holds. A new one past it is
    /// dropped and counted in
    /// `foghorn_component_errors_total{reason="cardinality_limit"}`; gauges
    /// already held keep updating. Default 10000, from 1 to 1000000.
    pub max_series: usize,
    /// `max_alert_series`: the most `foghorn_alert_firing` gauges (one per
    /// distinct alert) the sink holds, and separately the most
    /// `foghorn_alerts_total{type, severity, state}` counters. A new one past
    /// it is dropped and counted in
    /// `foghorn_component_errors_total{reason="alert_cardinality_limit"}`.
    /// Data gauges never use this budget. Default 1000, from 1 to 100000.
    pub max_alert_series: usize,
    /// `firing_max_age`: how long the firing gauge of an alert that is never
    /// resolved is kept after the alert was last received; then it is
    /// dropped and counted in
    /// `foghorn_component_errors_total{reason="alert_expired"}`. Default
    /// `24h`, from `1m` to `30d`.
    #[serde(with = "units::duration")]
    pub firing_max_age: Duration,
}

impl Settings for PrometheusConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        problems.range(&format!("{key}.max_series"), self.max_series, 1, 1_000_000);
        problems.range(
            &format!("{key}.max_alert_series"),
            self.max_alert_series,
            1,
            100_000,
        );
        let (min, max) = (Duration::from_mins(1), Duration::from_hours(30 * 24));
        problems.duration_range(
            &format!("{key}.firing_max_age"),
            self.firing_max_age,
            min,
            max,
        );
    }
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 9598)),
            max_series: 10_000,
            max_alert_series: 1_000,
            firing_max_age: Duration::from_hours(24),
        }
    }
}
