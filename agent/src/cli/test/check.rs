//! Comparing what a case produced with what it expects, and the diff shown
//! when they differ.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::cases::{AlertSpec, Case, FieldValue, PointSpec, RejectSpec};
use super::run::{Produced, nanos, series_of};
use crate::event::{Alert, PointRef, Value, format_timestamp};
use crate::processors::wasm::RejectedItem;

/// The tolerance of a case that names none.
const DEFAULT_TOLERANCE: f64 = 1e-9;

/// Whether `actual` is `expected` within `tolerance` (absolute, or relative
/// when the expected value is larger than 1).
fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
    actual == expected || (actual - expected).abs() <= tolerance * expected.abs().max(1.0)
}

/// The differences between what `case` expects and what was `produced`:
/// empty when it passes, otherwise lines of a diff.
pub fn compare(case: &Case, produced: &Produced) -> Vec<String> {
    let tolerance = case.tolerance.unwrap_or(DEFAULT_TOLERANCE);
    let mut diff = Vec::new();
    if let Some(expected) = &case.expect.points {
        let actual: Vec<PointRef<'_>> = produced.points.iter().collect();
        section(
            &mut diff,
            "points",
            expected,
            &actual,
            |e, a| point_mismatch(e, *a, tolerance),
            render_point_spec,
            |a| render_point(*a),
        );
    }
    if let Some(expected) = &case.expect.alerts {
        section(
            &mut diff,
            "alerts",
            expected,
            &produced.alerts,
            |e, a| alert_mismatch(e, a, tolerance),
            render_alert_spec,
            render_alert,
        );
    }
    if let Some(expected) = &case.expect.rejects {
        section(
            &mut diff,
            "rejects",
            expected,
            &produced.rejects,
            |e, (component, item)| reject_mismatch(e, &case.component, component, item),
            render_reject_spec,
            |(component, item)| render_reject(component, item),
        );
    }
    diff
}

/// One list's diff: every position, `=` where it matches, `-` expected and
/// `+` actual where it does not (with why).
fn section<E, A>(
    diff: &mut Vec<String>,
    what: &str,
    expected: &[E],
    actual: &[A],
    mismatch: impl Fn(&E, &A) -> Option<String>,
    render_expected: impl Fn(&E) -> String,
    render_actual: impl Fn(&A) -> String,
) {
    let mut lines = Vec::new();
    let mut failed = expected.len() != actual.len();
    for i in 0..expected.len().max(actual.len()) {
        match (expected.get(i), actual.get(i)) {
            (Some(e), Some(a)) => match mismatch(e, a) {
                None => lines.push(format!("    = [{i}] {}", render_actual(a))),
                Some(why) => {
                    failed = true;
                    lines.push(format!("    - [{i}] {}", render_expected(e)));
                    lines.push(format!("    + [{i}] {}", render_actual(a)));
                    lines.push(format!("          {why}"));
                }
            },
            (Some(e), None) => lines.push(format!("    - [{i}] {}", render_expected(e))),
            (None, Some(a)) => lines.push(format!("    + [{i}] {}", render_actual(a))),
            (None, None) => {}
        }
    }
    if failed {
        diff.push(format!(
            "  {what}: expected {}, got {} (- expected, + actual)",
            expected.len(),
            actual.len()
        ));
        diff.extend(lines);
    }
}

fn field_matches(actual: Option<Value<'_>>, expected: &FieldValue, tolerance: f64) -> bool {
    match (actual, expected) {
        (Some(Value::Bool(a)), FieldValue::Bool(e)) => a == *e,
        (Some(Value::Text(a)), FieldValue::Text(e)) => a == e,
        (Some(Value::Float(a)), FieldValue::Float(e)) => close(a, *e, tolerance),
        #[allow(clippy::cast_precision_loss, reason = "compared as numbers")]
        (Some(Value::Float(a)), FieldValue::Int(e)) => close(a, *e as f64, tolerance),
        (Some(Value::Int(a)), FieldValue::Int(e)) => a == *e,
        #[allow(clippy::cast_precision_loss, reason = "compared as numbers")]
        (Some(Value::Int(a)), FieldValue::Float(e)) => close(a as f64, *e, tolerance),
        _ => false,
    }
}

fn point_mismatch(expected: &PointSpec, actual: PointRef<'_>, tolerance: f64) -> Option<String> {
    let tolerance = expected.tolerance.unwrap_or(tolerance);
    let series = series_of(expected);
    if *actual.series() != series {
        return Some(format!("series {} is not {series}", actual.series()));
    }
    match nanos(&expected.timestamp) {
        Ok(at) if at == actual.timestamp() => {}
        Ok(at) => {
            return Some(format!(
                "timestamp {} is not {}",
                format_timestamp(actual.timestamp()),
                format_timestamp(at)
            ));
        }
        Err(error) => return Some(error),
    }
    let mut why = Vec::new();
    for (name, value) in &expected.fields {
        if !field_matches(actual.field(name), value, tolerance) {
            why.push(match actual.field(name) {
                None => format!("{name} is missing"),
                Some(got) => format!(
                    "{name} is {} not {}",
                    render_value(got),
                    render_field(value)
                ),
            });
        }
    }
    for (name, _) in actual.fields() {
        if !expected.fields.contains_key(name) {
            why.push(format!("{name} is not expected"));
        }
    }
    (!why.is_empty()).then(|| why.join("; "))
}

fn alert_mismatch(expected: &AlertSpec, actual: &Alert, tolerance: f64) -> Option<String> {
    let tolerance = expected.tolerance.unwrap_or(tolerance);
    let mut why = Vec::new();
    let mut check = |ok: bool, what: &str| {
        if !ok {
            why.push(what.to_owned());
        }
    };
    if let Some(kind) = &expected.kind {
        check(*kind == actual.kind, "kind differs");
    }
    if let Some(state) = expected.state {
        check(state == actual.state, "state differs");
    }
    if let Some(severity) = expected.severity {
        check(severity == actual.severity, "severity differs");
    }
    if let Some(series) = &expected.series {
        check(*series == actual.series.name, "series differs");
    }
    if let Some(tags) = &expected.tags {
        let got: BTreeMap<String, String> = actual.series.tags.iter().cloned().collect();
        check(*tags == got, "tags differ");
    }
    if let Some(labels) = &expected.labels {
        let got: BTreeMap<String, String> = actual.labels.iter().cloned().collect();
        check(*labels == got, "labels differ");
    }
    if let Some(at) = &expected.timestamp {
        check(
            nanos(at).is_ok_and(|at| at == actual.timestamp),
            "timestamp differs",
        );
    }
    if let Some(value) = expected.value {
        check(
            actual.value.is_some_and(|v| close(v, value, tolerance)),
            "value differs",
        );
    }
    if let Some(score) = expected.score {
        check(
            actual.score.is_some_and(|s| close(s, score, tolerance)),
            "score differs",
        );
    }
    if let Some(description) = &expected.description {
        check(*description == actual.description, "description differs");
    }
    if let Some(part) = &expected.description_contains {
        check(
            actual.description.contains(part.as_str()),
            "description does not contain the expected text",
        );
    }
    (!why.is_empty()).then(|| why.join("; "))
}

fn reject_mismatch(
    expected: &RejectSpec,
    first: &str,
    component: &str,
    item: &RejectedItem,
) -> Option<String> {
    let mut why = Vec::new();
    if expected.component.as_deref().unwrap_or(first) != component {
        why.push(format!("rejected by {component}"));
    }
    let (what, index, reason) = match item {
        RejectedItem::Record { index, reason } => ("record", *index, reason),
        RejectedItem::Point { index, reason } => ("point", *index, reason),
    };
    let wanted = match (expected.record, expected.point) {
        (Some(index), _) => Some(("record", index)),
        (None, Some(index)) => Some(("point", index)),
        (None, None) => None,
    };
    if let Some((kind, at)) = wanted
        && (kind, at) != (what, index)
    {
        why.push(format!("{what} {index} is rejected, not {kind} {at}"));
    }
    if let Some(expected) = &expected.reason
        && expected != reason
    {
        why.push("reason differs".to_owned());
    }
    if let Some(part) = &expected.reason_contains
        && !reason.contains(part.as_str())
    {
        why.push("reason does not contain the expected text".to_owned());
    }
    (!why.is_empty()).then(|| why.join("; "))
}

fn render_value(value: Value<'_>) -> String {
    match value {
        Value::Float(v) => format!("{v}"),
        Value::Int(v) => format!("{v}i"),
        Value::Bool(v) => format!("{v}"),
        Value::Text(v) => format!("{v:?}"),
    }
}

fn render_field(value: &FieldValue) -> String {
    match value {
        FieldValue::Float(v) => format!("{v}"),
        FieldValue::Int(v) => format!("{v}"),
        FieldValue::Bool(v) => format!("{v}"),
        FieldValue::Text(v) => format!("{v:?}"),
    }
}

fn render_time(time: &super::cases::Time) -> String {
    nanos(time).map_or_else(|e| e, format_timestamp)
}

fn render_point(point: PointRef<'_>) -> String {
    let mut fields: Vec<(&str, Value<'_>)> = point.fields().collect();
    fields.sort_by_key(|(name, _)| *name);
    let fields: Vec<String> = fields
        .into_iter()
        .map(|(n, v)| format!("{n}={}", render_value(v)))
        .collect();
    format!(
        "{} {} {}",
        point.series(),
        format_timestamp(point.timestamp()),
        fields.join(" ")
    )
}

fn render_point_spec(spec: &PointSpec) -> String {
    let fields: Vec<String> = spec
        .fields
        .iter()
        .map(|(n, v)| format!("{n}={}", render_field(v)))
        .collect();
    format!(
        "{} {} {}",
        series_of(spec),
        render_time(&spec.timestamp),
        fields.join(" ")
    )
}

fn render_alert(alert: &Alert) -> String {
    let mut text = format!(
        "{} {} {} on {} at {}",
        format!("{:?}", alert.state).to_lowercase(),
        format!("{:?}", alert.severity).to_lowercase(),
        alert.kind,
        alert.series,
        format_timestamp(alert.timestamp)
    );
    for (key, value) in &alert.labels {
        let _ = write!(text, " {key}={value}");
    }
    if let Some(value) = alert.value {
        let _ = write!(text, " value={value}");
    }
    if let Some(score) = alert.score {
        let _ = write!(text, " score={score}");
    }
    let _ = write!(text, " {:?}", alert.description);
    text
}

fn render_alert_spec(spec: &AlertSpec) -> String {
    let mut parts = Vec::new();
    let mut add = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            parts.push(format!("{name}={value}"));
        }
    };
    add("state", spec.state.map(|s| format!("{s:?}").to_lowercase()));
    add(
        "severity",
        spec.severity.map(|s| format!("{s:?}").to_lowercase()),
    );
    add("kind", spec.kind.clone());
    add("series", spec.series.clone());
    add("tags", spec.tags.as_ref().map(|t| format!("{t:?}")));
    add("labels", spec.labels.as_ref().map(|l| format!("{l:?}")));
    add("at", spec.timestamp.as_ref().map(render_time));
    add("value", spec.value.map(|v| v.to_string()));
    add("score", spec.score.map(|v| v.to_string()));
    add(
        "description",
        spec.description.as_ref().map(|d| format!("{d:?}")),
    );
    add(
        "description contains",
        spec.description_contains.as_ref().map(|d| format!("{d:?}")),
    );
    parts.join(" ")
}

fn render_reject(component: &str, item: &RejectedItem) -> String {
    match item {
        RejectedItem::Record { index, reason } => format!("{component}: record {index}: {reason}"),
        RejectedItem::Point { index, reason } => format!("{component}: point {index}: {reason}"),
    }
}

fn render_reject_spec(spec: &RejectSpec) -> String {
    let mut text = spec
        .component
        .clone()
        .map_or_else(String::new, |c| format!("{c}: "));
    if let Some(index) = spec.record {
        let _ = write!(text, "record {index}");
    }
    if let Some(index) = spec.point {
        let _ = write!(text, "point {index}");
    }
    if let Some(reason) = &spec.reason {
        let _ = write!(text, ": {reason}");
    }
    if let Some(part) = &spec.reason_contains {
        let _ = write!(text, ": …{part}…");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_close_absolutely_near_zero_and_relatively_above_one() {
        assert!(close(1.0 + 1e-10, 1.0, 1e-9));
        assert!(!close(1.0 + 1e-8, 1.0, 1e-9));
        assert!(close(1e6 + 1e-4, 1e6, 1e-9));
        assert!(!close(1e6 + 1e-2, 1e6, 1e-9));
        assert!(close(f64::INFINITY, f64::INFINITY, 1e-9));
        assert!(!close(f64::NAN, f64::NAN, 1e-9));
    }
}
