//! The group statistics an analysis sink exports as Prometheus gauges.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::config::AnalysisConfig;
use crate::internal::events::ComponentError;
use crate::internal::metrics::metrics;

/// The label sets an analysis sink has set, so those of groups that are
/// gone are removed at the next report.
#[derive(Debug, Default)]
pub struct Gauges {
    set: HashSet<[String; 3]>,
}

impl Gauges {
    /// Set the gauges of the sections `config.metrics` names from `report`,
    /// and remove the ones no longer there.
    pub fn update(&mut self, component: &str, config: &AnalysisConfig, report: &Value) {
        let gauge = &metrics().analysis;
        let mut now = HashSet::new();
        let mut capped = 0usize;
        for section in &config.metrics {
            // The section's (group label, statistics): each group's row, its
            // key values joined by `/`, or a resample's latest bucket,
            // labelled by its start.
            let group = config.groups.iter().find(|g| &g.name == section);
            let entries: Vec<(String, &Map<String, Value>)> = match group {
                Some(group) => report["groups"][section]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|row| {
                        let key: Vec<String> = group.by.iter().map(|by| text(&row[by])).collect();
                        Some((key.join("/"), row.as_object()?))
                    })
                    .collect(),
                None => report["resample"][section]
                    .as_array()
                    .and_then(|buckets| buckets.last())
                    .and_then(Value::as_object)
                    .map(|latest| (text(&latest["timestamp"]), latest))
                    .into_iter()
                    .collect(),
            };
            let keys = group.map_or(&[][..], |g| &g.by[..]);
            for (label, statistics) in entries {
                for (statistic, value) in statistics {
                    let Some(value) = value.as_f64().filter(|_| !keys.contains(statistic)) else {
                        continue;
                    };
                    if now.len() >= config.max_metric_series {
                        capped += 1;
                        continue;
                    }
                    let labels = [section.clone(), label.clone(), statistic.clone()];
                    gauge
                        .with_label_values(&[component, &labels[0], &labels[1], &labels[2]])
                        .set(value);
                    now.insert(labels);
                }
            }
        }
        for gone in self.set.difference(&now) {
            let _ = gauge.remove_label_values(&[component, &gone[0], &gone[1], &gone[2]]);
        }
        self.set = now;
        if capped > 0 {
            ComponentError {
                component,
                reason: "analysis_metrics_capped",
                error: &format!(
                    "{capped} statistics not exported: max_metric_series ({}) reached",
                    config.max_metric_series
                ),
            }
            .emit();
        }
    }
}

/// A JSON value as a label: text as it is, anything else as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
