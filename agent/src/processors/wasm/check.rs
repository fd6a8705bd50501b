//! What a plugin returns is untrusted input: every output is checked here,
//! at the boundary, before anything downstream reads it.
//!
//! The shape of the points ([`Points::validate`]) is what keeps readers from
//! indexing out of bounds; the bounds on names, tags, labels and texts keep
//! one plugin from filling metrics, reports and logs with whatever it likes.
//! A failed check is a plugin failure like a trap: the input is
//! dead-lettered with the reason and the plugin is restarted.

use crate::event::{Alert, Points, Series};

use super::output::{PluginOutput, RejectedItem};

/// The longest name: series, column, tag key, alert kind and label key.
pub const MAX_NAME_BYTES: usize = 256;
/// The longest tag or label value.
pub const MAX_VALUE_BYTES: usize = 4096;
/// The most tags on a series, and labels on an alert.
pub const MAX_PAIRS: usize = 64;
/// The longest alert description or rejection reason.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// How many items the call was given: rejected items must be among them.
#[derive(Debug, Clone, Copy, Default)]
pub struct InputSize {
    /// Records in the input batch.
    pub records: usize,
    /// Points in the input batch.
    pub points: usize,
}

/// Check a plugin's output against its input.
///
/// # Errors
/// The first thing wrong with it, described for the dead letter.
pub fn check_output(output: &PluginOutput, input: InputSize) -> Result<(), String> {
    check_points(&output.points)?;
    for (i, alert) in output.alerts.iter().enumerate() {
        check_alert(alert).map_err(|e| format!("alert {i}: {e}"))?;
    }
    for (i, rejected) in output.rejected.iter().enumerate() {
        let (what, index, of, reason) = match rejected {
            RejectedItem::Record { index, reason } => ("record", *index, input.records, reason),
            RejectedItem::Point { index, reason } => ("point", *index, input.points, reason),
        };
        if index >= of {
            return Err(format!(
                "error {i} is about {what} {index}, but the input has {of} {what}s"
            ));
        }
        text("reason", reason, MAX_TEXT_BYTES).map_err(|e| format!("error {i}: {e}"))?;
    }
    Ok(())
}

fn check_points(points: &Points) -> Result<(), String> {
    points.validate().map_err(|e| e.to_string())?;
    for (i, series) in points.series.iter().enumerate() {
        check_series(series).map_err(|e| format!("points: series {i}: {e}"))?;
    }
    for column in &points.columns {
        name("column name", &column.name).map_err(|e| format!("points: {e}"))?;
    }
    Ok(())
}

fn check_series(series: &Series) -> Result<(), String> {
    name("series name", &series.name)?;
    pairs("tag", &series.tags)?;
    if let Some(pair) = series.tags.windows(2).find(|pair| pair[0].0 >= pair[1].0) {
        return Err(format!(
            "tags must be sorted by key without repeats: `{}` comes before `{}`",
            pair[0].0, pair[1].0
        ));
    }
    Ok(())
}

fn check_alert(alert: &Alert) -> Result<(), String> {
    name("kind", &alert.kind)?;
    check_series(&alert.series).map_err(|e| format!("series: {e}"))?;
    pairs("label", &alert.labels)?;
    for (i, (key, _)) in alert.labels.iter().enumerate() {
        if alert.labels[..i].iter().any(|(other, _)| other == key) {
            return Err(format!("label `{key}` is repeated"));
        }
    }
    text("description", &alert.description, MAX_TEXT_BYTES)
}

fn pairs(what: &str, pairs: &[(String, String)]) -> Result<(), String> {
    if pairs.len() > MAX_PAIRS {
        return Err(format!(
            "{} {what}s, more than the {MAX_PAIRS} allowed",
            pairs.len()
        ));
    }
    for (key, value) in pairs {
        name(&format!("{what} key"), key)?;
        text(&format!("{what} `{key}`"), value, MAX_VALUE_BYTES)?;
    }
    Ok(())
}

fn name(what: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("empty {what}"));
    }
    text(what, value, MAX_NAME_BYTES)
}

fn text(what: &str, value: &str, max: usize) -> Result<(), String> {
    if value.len() > max {
        return Err(format!(
            "{what} of {} bytes, more than the {max} allowed",
            value.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::event::{AlertState, PointsBuilder, Severity};

    fn alert() -> Alert {
        Alert {
            raised: foghorn_model::Alert {
                timestamp: 1,
                kind: "threshold".into(),
                severity: Severity::Warning,
                state: AlertState::Firing,
                series: Series::new("dev").with_tag("a", "1").with_tag("b", "2"),
                labels: vec![("field".into(), "t".into())],
                value: Some(f64::NAN),
                score: None,
                description: "hot".into(),
            },
            component: Arc::from("detect"),
            plugin: Arc::from("builtin:threshold"),
        }
    }

    fn output() -> PluginOutput {
        let mut points = PointsBuilder::new();
        points.point(1, &Series::new("dev")).field("t", 1.0);
        PluginOutput {
            points: points.finish(),
            alerts: vec![alert()],
            rejected: vec![RejectedItem::Record {
                index: 1,
                reason: "bad".into(),
            }],
        }
    }

    const INPUT: InputSize = InputSize {
        records: 2,
        points: 0,
    };

    #[test]
    fn a_well_formed_output_passes() {
        assert_eq!(check_output(&output(), INPUT), Ok(()));
    }

    #[test]
    fn each_bad_field_is_named() {
        type Case = (fn(&mut PluginOutput), &'static str);
        let cases: Vec<Case> = vec![
            (|o| o.points.series_index[0] = 3, "refers to series 3"),
            (|o| o.points.series[0].name.clear(), "empty series name"),
            (|o| o.points.columns[0].name.clear(), "empty column name"),
            (
                |o| o.alerts[0].series.tags.reverse(),
                "sorted by key without repeats",
            ),
            (|o| o.alerts[0].kind = "k".repeat(300), "kind of 300 bytes"),
            (
                |o| o.alerts[0].labels.push(("field".into(), "v".into())),
                "label `field` is repeated",
            ),
            (
                |o| {
                    o.alerts[0].labels =
                        (0..65).map(|i| (format!("k{i}"), String::new())).collect();
                },
                "65 labels",
            ),
            (
                |o| o.alerts[0].description = "x".repeat(MAX_TEXT_BYTES + 1),
                "description of",
            ),
            (
                |o| {
                    o.rejected[0] = RejectedItem::Record {
                        index: 2,
                        reason: String::new(),
                    };
                },
                "record 2, but the input has 2 records",
            ),
            (
                |o| {
                    o.rejected[0] = RejectedItem::Point {
                        index: 0,
                        reason: String::new(),
                    };
                },
                "point 0, but the input has 0 points",
            ),
        ];
        for (break_it, expected) in cases {
            let mut bad = output();
            break_it(&mut bad);
            let error = check_output(&bad, INPUT).unwrap_err();
            assert!(
                error.contains(expected),
                "`{error}` should mention `{expected}`"
            );
        }
    }
}
