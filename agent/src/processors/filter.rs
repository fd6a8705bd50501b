//! `type: filter`: a native processor that passes on the points and alerts
//! its matchers select and leaves out the rest, counted in
//! `foghorn_component_discarded_events_total{reason}`.
//!
//! ```yaml
//! processors:
//!   critical:
//!     type: filter
//!     inputs: [detect.alerts]
//!     alerts: ['severity="critical"', 'kind=~"threshold|rate_of_change"']
//!   bench_points:
//!     type: filter
//!     inputs: [parse]
//!     points: ['series=bench_device', 'device!="bench-test"']
//! ```
//!
//! Matchers are those of Prometheus and Alertmanager ([`crate::matchers`]).
//! Records are not forwarded (processors emit points and alerts). Stateless:
//! nothing is kept between batches.

use serde::Deserialize;

use super::{NativeProcessor, Processor, ProcessorContext, Produced};
use crate::event::{Batch, PointsBuilder};
use crate::internal::events::EventsDiscarded;
use crate::matchers::Matchers;
use crate::settings::Settings;

/// `type: filter`: which points and alerts pass.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilterConfig {
    /// `points`: matchers a point must all satisfy to pass, over `series`
    /// (the series name) and the series' tags, e.g.
    /// `['series=bench_device', 'device=~"bench-[12]"']`. Default: every
    /// point passes.
    pub points: Matchers,
    /// `alerts`: matchers an alert must all satisfy to pass, over `kind`,
    /// `severity`, `state`, `series`, `component`, the alert's labels and
    /// its series' tags. Default: every alert passes.
    pub alerts: Matchers,
}

impl Settings for FilterConfig {}

impl Processor for FilterConfig {
    type Running = Filter;

    fn build(&self, ctx: &ProcessorContext) -> Result<Filter, String> {
        Ok(Filter {
            name: ctx.name.to_string(),
            settings: self.clone(),
        })
    }

    fn describe(&self) -> String {
        let list = |matchers: &Matchers| match &matchers.0[..] {
            [] => "all".to_owned(),
            some => some
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        };
        format!(
            "filter points: {}; alerts: {}",
            list(&self.points),
            list(&self.alerts)
        )
    }
}

/// A running filter.
#[derive(Debug)]
pub struct Filter {
    name: String,
    settings: FilterConfig,
}

impl NativeProcessor for Filter {
    fn process(&mut self, batch: &Batch, out: &mut Produced) {
        if !batch.points.is_empty() {
            let mut kept = PointsBuilder::with_capacity(batch.points.len());
            for point in batch.points.iter() {
                if self.settings.points.matches_point(&point) {
                    kept.push(point);
                }
            }
            EventsDiscarded {
                component: &self.name,
                reason: "points_not_matched",
                count: batch.points.len() - kept.len(),
            }
            .emit();
            out.points = kept.finish();
        }
        let before = out.alerts.len();
        out.alerts.extend(
            batch
                .alerts
                .iter()
                .filter(|alert| self.settings.alerts.matches_alert(alert))
                .cloned(),
        );
        EventsDiscarded {
            component: &self.name,
            reason: "alerts_not_matched",
            count: batch.alerts.len() - (out.alerts.len() - before),
        }
        .emit();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::event::{Alert, Series, Severity};

    fn settings(points: &[&str], alerts: &[&str]) -> FilterConfig {
        let parse = |list: &[&str]| Matchers(list.iter().map(|m| m.parse().unwrap()).collect());
        FilterConfig {
            points: parse(points),
            alerts: parse(alerts),
        }
    }

    fn filter(points: &[&str], alerts: &[&str]) -> Filter {
        Filter {
            name: "f".into(),
            settings: settings(points, alerts),
        }
    }

    fn batch() -> Batch {
        let mut points = PointsBuilder::new();
        for (device, temperature) in [("bench-1", 20.5), ("bench-2", 90.0), ("bench-3", 21.0)] {
            let series = Series::new("bench_device").with_tag("device", device);
            points.point(0, &series).field("temperature", temperature);
        }
        points
            .point(0, &Series::new("other"))
            .field("temperature", 1.0);
        let alert = |severity, kind: &str, device: &str| {
            let series = Series::new("bench_device").with_tag("device", device);
            Alert::new(
                foghorn_model::Alert::firing(kind, severity, &series, 0, "x")
                    .with_label("field", "temperature"),
                Arc::from("detect"),
                Arc::from("builtin:threshold"),
            )
        };
        Batch {
            points: points.finish(),
            alerts: vec![
                alert(Severity::Critical, "threshold", "bench-2"),
                alert(Severity::Warning, "threshold", "bench-1"),
                alert(Severity::Critical, "rate_of_change", "bench-3"),
            ],
            ..Batch::default()
        }
    }

    fn run(filter: &mut Filter) -> (Vec<String>, Vec<String>) {
        let mut out = Produced::default();
        filter.process(&batch(), &mut out);
        let points = out
            .points
            .iter()
            .map(|p| {
                format!(
                    "{}/{}",
                    p.series().name,
                    p.series().tag("device").unwrap_or("")
                )
            })
            .collect();
        let alerts = out
            .alerts
            .iter()
            .map(|a| format!("{}/{}", a.kind, a.series.tag("device").unwrap()))
            .collect();
        (points, alerts)
    }

    #[test]
    fn without_matchers_everything_passes() {
        let (points, alerts) = run(&mut filter(&[], &[]));
        assert_eq!(points.len(), 4);
        assert_eq!(alerts.len(), 3);
    }

    #[test]
    fn points_pass_on_series_and_tags() {
        let (points, alerts) = run(&mut filter(
            &["series=bench_device", r#"device=~"bench-[12]""#],
            &[],
        ));
        assert_eq!(points, ["bench_device/bench-1", "bench_device/bench-2"]);
        assert_eq!(alerts.len(), 3, "alerts have their own matchers");
    }

    #[test]
    fn alerts_pass_on_severity_kind_labels_and_tags() {
        let (_, alerts) = run(&mut filter(&[], &["severity=critical"]));
        assert_eq!(alerts, ["threshold/bench-2", "rate_of_change/bench-3"]);
        let (_, alerts) = run(&mut filter(&[], &["severity=critical", "kind!=threshold"]));
        assert_eq!(alerts, ["rate_of_change/bench-3"]);
        let (_, alerts) = run(&mut filter(&[], &["device=bench-1", "field=temperature"]));
        assert_eq!(alerts, ["threshold/bench-1"]);
        let (_, alerts) = run(&mut filter(&[], &["component=other"]));
        assert!(alerts.is_empty());
    }

    #[test]
    fn what_is_left_out_is_counted() {
        let discarded = |reason: &str| {
            crate::internal::metrics::metrics()
                .discarded
                .with_label_values(&["counted", reason])
                .get()
        };
        let mut counted = filter(&["device=bench-1"], &["severity=warning"]);
        counted.name = "counted".into();
        run(&mut counted);
        assert_eq!(discarded("points_not_matched"), 3);
        assert_eq!(discarded("alerts_not_matched"), 2);
    }
}
