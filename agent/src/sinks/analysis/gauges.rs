//! The group statistics an analysis sink exports as Prometheus gauges.

use std::collections::HashSet;

use serde_json::Value;

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
            // A resample's latest bucket, labelled by its start.
            if let Some(latest) = config
                .resample
                .iter()
                .any(|r| &r.name == section)
                .then(|| report["resample"][section].as_array()?.last())
                .flatten()
                .and_then(Value::as_object)
            {
                let bucket = latest
                    .get("timestamp")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                for (statistic, value) in latest {
                    let Some(value) = value.as_f64() else {
                        continue;
                    };
                    if now.len() >= config.max_metric_series {
                        capped += 1;
                        continue;
                    }
                    let labels = [section.clone(), bucket.clone(), statistic.clone()];
                    gauge
                        .with_label_values(&[component, &labels[0], &labels[1], &labels[2]])
                        .set(value);
                    now.insert(labels);
                }
                continue;
            }
            let Some(group) = config.groups.iter().find(|g| &g.name == section) else {
                continue;
            };
            let rows = report["groups"][section].as_array().into_iter().flatten();
            for row in rows {
                let key: Vec<String> = group
                    .by
                    .iter()
                    .map(|by| match &row[by] {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                let key = key.join("/");
                let Some(object) = row.as_object() else {
                    continue;
                };
                for (statistic, value) in object {
                    let Some(value) = value.as_f64() else {
                        continue;
                    };
                    if group.by.contains(statistic) {
                        continue;
                    }
                    if now.len() >= config.max_metric_series {
                        capped += 1;
                        continue;
                    }
                    let labels = [section.clone(), key.clone(), statistic.clone()];
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
