use foghorn_plugin::{AlertState, ItemError};

use foghorn_plugin::testing;

use super::*;

fn detector(config: &str) -> Threshold {
    testing::plugin(config)
}

fn config_error(config: &str) -> String {
    testing::config_error::<Threshold>(config)
}

fn batch(points: &[(i64, &Series, &str, f64)]) -> Batch {
    testing::points(points)
}

/// (state, severity, timestamp, value, description) of each alert.
fn alerts(
    detector: &mut Threshold,
    points: &[(i64, &Series, &str, f64)],
) -> Vec<(AlertState, Severity, i64, f64, String)> {
    let mut out = Output::default();
    detector.process(&batch(points), &mut out);
    assert_eq!(out.point_count(), 0, "a detector emits no points");
    out.alerts()
        .iter()
        .map(|a| {
            (
                a.state,
                a.severity,
                a.timestamp,
                a.value.unwrap(),
                a.description.clone(),
            )
        })
        .collect()
}

const TEMPERATURE_MAX_80: &str =
    r#"{ "rules": [{ "field": "temperature", "max": 80, "severity": "critical" }] }"#;

#[test]
fn fires_once_on_entering_violation_and_resolves_on_leaving_it() {
    let dev = Series::new("dev");
    let mut d = detector(TEMPERATURE_MAX_80);
    let got = alerts(
        &mut d,
        &[
            (1, &dev, "temperature", 25.3),
            (2, &dev, "temperature", 80.0),
            (3, &dev, "temperature", 95.5),
            (4, &dev, "temperature", 99.0),
            (5, &dev, "temperature", 26.0),
            (6, &dev, "temperature", 27.0),
        ],
    );
    assert_eq!(
        got,
        vec![
            (
                AlertState::Firing,
                Severity::Critical,
                3,
                95.5,
                "temperature 95.5 above max 80".into()
            ),
            (
                AlertState::Resolved,
                Severity::Info,
                5,
                26.0,
                "temperature 26 back within limits".into()
            ),
        ]
    );
}

#[test]
fn state_carries_over_between_batches_and_resolved_keeps_the_kind() {
    let dev = Series::new("dev");
    let mut d = detector(r#"{ "rules": [{ "field": "t", "max": 1, "kind": "too_hot" }] }"#);
    let mut out = Output::default();
    d.process(&batch(&[(1, &dev, "t", 2.0)]), &mut out);
    d.process(&batch(&[(2, &dev, "t", 3.0)]), &mut out);
    d.process(&batch(&[(3, &dev, "t", 0.0)]), &mut out);
    let kinds: Vec<_> = out
        .alerts()
        .iter()
        .map(|a| (a.kind.as_str(), a.state, a.severity))
        .collect();
    assert_eq!(
        kinds,
        [
            ("too_hot", AlertState::Firing, Severity::Warning),
            ("too_hot", AlertState::Resolved, Severity::Info)
        ]
    );
}

#[test]
fn jumping_from_one_side_to_the_other_fires_the_new_side() {
    let dev = Series::new("dev");
    let mut d = detector(r#"{ "rules": [{ "field": "voltage", "min": 4.5, "max": 5.5 }] }"#);
    let got = alerts(
        &mut d,
        &[
            (1, &dev, "voltage", 4.0),
            (2, &dev, "voltage", 6.1),
            (3, &dev, "voltage", 4.5),
        ],
    );
    let descriptions: Vec<_> = got.iter().map(|a| (a.0, a.4.as_str())).collect();
    assert_eq!(
        descriptions,
        [
            (AlertState::Firing, "voltage 4 below min 4.5"),
            (AlertState::Firing, "voltage 6.1 above max 5.5"),
            (AlertState::Resolved, "voltage 4.5 back within limits"),
        ]
    );
}

#[test]
fn series_and_rules_are_tracked_separately() {
    let (a, b) = (
        Series::new("dev").with_tag("id", "a"),
        Series::new("dev").with_tag("id", "b"),
    );
    let mut d = detector(
        r#"{ "rules": [
            { "field": "t", "max": 10, "description": "{series} {field}={value} > {max}" },
            { "field": "v", "min": 1 } ] }"#,
    );
    let got = alerts(
        &mut d,
        &[
            (1, &a, "t", 11.0),
            (2, &b, "t", 5.0),
            (3, &b, "t", 12.0),
            (4, &a, "v", 0.5),
            (5, &a, "t", 13.0),
        ],
    );
    let descriptions: Vec<_> = got.iter().map(|a| a.4.as_str()).collect();
    assert_eq!(
        descriptions,
        [
            "dev{id=a} t=11 > 10",
            "dev{id=b} t=12 > 10",
            "v 0.5 below min 1"
        ]
    );
}

#[test]
fn descriptions_write_numbers_to_a_given_precision() {
    // The bench device's own logger words it so.
    let mut d = detector(
        r#"{ "rules": [ { "field": "temperature", "max": 80,
            "description": "Temperature {value:.2}°C exceeded threshold of {max:.1}°C." } ] }"#,
    );
    let dev = Series::new("dev");
    let got = alerts(&mut d, &[(1, &dev, "temperature", 95.5)]);
    assert_eq!(
        got[0].4,
        "Temperature 95.50°C exceeded threshold of 80.0°C."
    );
    let error =
        config_error(r#"{ "rules": [ { "field": "t", "max": 1, "description": "{value:2}" } ] }"#);
    assert!(error.contains("precision"), "{error}");
}

#[test]
fn points_without_a_numeric_value_leave_the_state_alone() {
    let dev = Series::new("dev");
    let mut d = detector(TEMPERATURE_MAX_80);
    let mut builder = PointsBuilder::new();
    builder.point(1, &dev).field("temperature", 90.0);
    builder.point(2, &dev).field("voltage", 5.0);
    builder.point(3, &dev).field("temperature", "n/a");
    let out = testing::run(&mut d, &testing::batch(builder.finish()));
    assert_eq!(out.alerts().len(), 1, "{:?}", out.alerts());
}

/// NaN and infinity are never skipped silently: rejected with the reason by
/// default, or an alert of the rule with `non_finite: alert`.
#[test]
fn non_finite_values_are_rejected_or_alerted_never_dropped() {
    let dev = Series::new("dev");
    let batch = || {
        let mut builder = PointsBuilder::new();
        builder.point(1, &dev).field("temperature", 20.0);
        builder.point(2, &dev).field("temperature", f64::NAN);
        builder.point(3, &dev).field("temperature", f64::INFINITY);
        builder.point(4, &dev).field("temperature", 21.0);
        Batch {
            points: builder.finish(),
            ..Batch::default()
        }
    };
    let mut out = Output::default();
    detector(TEMPERATURE_MAX_80).process(&batch(), &mut out);
    assert!(out.alerts().is_empty());
    let rejected: Vec<String> = out
        .errors()
        .iter()
        .map(|e| match e {
            ItemError::Point { index, reason } => format!("{index}: {reason}"),
            ItemError::Record { .. } => panic!("no records were given"),
        })
        .collect();
    assert_eq!(
        rejected,
        [
            "1: field temperature: NaN is not a finite number",
            "2: field temperature: inf is not a finite number"
        ]
    );

    let alerting = TEMPERATURE_MAX_80.replacen('{', r#"{ "non_finite": "alert","#, 1);
    let mut out = Output::default();
    detector(&alerting).process(&batch(), &mut out);
    assert!(out.errors().is_empty());
    let alerts: Vec<(AlertState, &str)> = out
        .alerts()
        .iter()
        .map(|a| (a.state, a.description.as_str()))
        .collect();
    assert_eq!(
        alerts,
        [
            (
                AlertState::Firing,
                "temperature is NaN, not a finite number"
            ),
            (AlertState::Resolved, "temperature 21 back within limits"),
        ],
        "infinity after NaN is the same violation"
    );
}

#[test]
fn the_example_pipeline_descriptions_render() {
    let dev = Series::new("bench_device");
    let mut d = detector(
        r#"{ "rules": [
            { "field": "temperature", "max": 80, "severity": "critical", "description": "temperature {value} °C above {max} °C" },
            { "field": "voltage", "min": 4.5, "max": 5.5, "severity": "critical", "description": "voltage {value} V outside {min}–{max} V" } ] }"#,
    );
    let got = alerts(
        &mut d,
        &[
            (1, &dev, "temperature", 95.5),
            (2, &dev, "voltage", 6.1),
            (3, &dev, "voltage", 5.02),
        ],
    );
    let descriptions: Vec<_> = got.iter().map(|a| a.4.as_str()).collect();
    assert_eq!(
        descriptions,
        [
            "temperature 95.5 °C above 80 °C",
            "voltage 6.1 V outside 4.5–5.5 V",
            "voltage 5.02 back within limits"
        ]
    );
}

#[test]
fn snapshot_and_restore_continue_the_violation() {
    let dev = Series::new("dev").with_tag("port", "ttyUSB0");
    let mut before = detector(TEMPERATURE_MAX_80);
    assert_eq!(
        alerts(&mut before, &[(1, &dev, "temperature", 90.0)]).len(),
        1
    );
    let saved = before.snapshot();

    let mut after = detector(TEMPERATURE_MAX_80);
    after.restore(&saved).unwrap();
    assert_eq!(
        after.snapshot(),
        saved,
        "restore keeps everything the snapshot had"
    );
    let got = alerts(
        &mut after,
        &[
            (2, &dev, "temperature", 91.0),
            (3, &dev, "temperature", 20.0),
        ],
    );
    assert_eq!(
        got.len(),
        1,
        "still firing after restore, so only the resolve: {got:?}"
    );
    assert_eq!(got[0].0, AlertState::Resolved);

    // Without the snapshot the same points would fire anew.
    let mut fresh = detector(TEMPERATURE_MAX_80);
    assert_eq!(
        alerts(&mut fresh, &[(2, &dev, "temperature", 91.0)]).len(),
        1
    );
}

#[test]
fn restore_drops_state_of_rules_that_changed() {
    let dev = Series::new("dev");
    let mut before = detector(TEMPERATURE_MAX_80);
    let _ = alerts(&mut before, &[(1, &dev, "temperature", 90.0)]);
    let mut after = detector(r#"{ "rules": [{ "field": "voltage", "max": 80 }] }"#);
    after.restore(&before.snapshot()).unwrap();
    assert_eq!(alerts(&mut after, &[(2, &dev, "voltage", 90.0)]).len(), 1);
    assert!(
        after
            .restore(b"not json")
            .unwrap_err()
            .contains("unreadable snapshot")
    );
}

#[test]
fn config_errors_name_the_rule_and_the_problem() {
    assert_eq!(
        config_error(
            r#"{ "rules": [{ "field": "t", "max": 1 }, { "field": "voltage", "min": 5.5, "max": 4.5 }] }"#
        ),
        "threshold rule 2 (voltage): min 5.5 is above max 4.5"
    );
    assert_eq!(
        config_error(r#"{ "rules": [{ "field": "t" }] }"#),
        "threshold rule 1 (t): give `min`, `max` or both"
    );
    assert!(config_error(r#"{ "rules": [] }"#).contains("`rules` is empty"));

    let both = config_error(
        r#"{ "rules": [{ "field": "a", "max": 1, "description": "{vaule}" }, { "field": "b", "max": 1, "resolved_description": "{min}" }] }"#,
    );
    assert!(
        both.contains("threshold rule 1 (a): `description`: unknown placeholder {vaule}"),
        "{both}"
    );
    assert!(
        both.contains(
            "threshold rule 2 (b): `resolved_description` uses {min} but the rule has no min"
        ),
        "{both}"
    );

    assert!(
        config_error(r#"{ "rules": [{ "field": "t", "max": 1, "limit": 2 }] }"#)
            .contains("unknown field `limit`")
    );
    assert!(
        config_error(r#"{ "rules": [{ "field": "t", "max": 1, "severity": "fatal" }] }"#)
            .contains("unknown variant")
    );
}

/// (timestamp, state, severity) of each alert for `values` at 0, 1 s, 2 s…
fn states(config: &str, values: &[f64]) -> Vec<(i64, AlertState, Severity)> {
    let dev = Series::new("dev");
    let points: Vec<(i64, &Series, &str, f64)> = (0..)
        .zip(values)
        .map(|(i, &v)| (i * 1_000_000_000, &dev, "t", v))
        .collect();
    let mut d = detector(config);
    let mut out = Output::default();
    d.process(&batch(&points), &mut out);
    out.alerts()
        .iter()
        .map(|a| (a.timestamp / 1_000_000_000, a.state, a.severity))
        .collect()
}

use AlertState::{Firing, Resolved};

#[test]
fn clear_bounds_keep_a_hovering_value_from_flapping() {
    let values = [70.0, 81.0, 79.0, 80.5, 76.0, 74.0, 60.0, 5.0, 11.0, 12.0];
    let plain = r#"{ "rules": [{ "field": "t", "max": 80, "min": 10 }] }"#;
    assert_eq!(
        states(plain, &values),
        [
            (1, Firing, Severity::Warning),
            (2, Resolved, Severity::Info),
            (3, Firing, Severity::Warning),
            (4, Resolved, Severity::Info),
            (7, Firing, Severity::Warning),
            (8, Resolved, Severity::Info),
        ]
    );
    let hysteresis = r#"{ "rules": [{ "field": "t", "max": 80, "clear_below": 75, "min": 10, "clear_above": 11.5 }] }"#;
    assert_eq!(
        states(hysteresis, &values),
        [
            (1, Firing, Severity::Warning),
            (5, Resolved, Severity::Info),
            (7, Firing, Severity::Warning),
            (9, Resolved, Severity::Info),
        ]
    );
}

#[test]
fn a_violation_fires_only_once_it_has_lasted_for() {
    let config = r#"{ "rules": [{ "field": "t", "max": 80, "for": "3s" }] }"#;
    // Above for 2 s (nothing), back, above from 5 s on: fires at 8 s.
    let values = [70.0, 81.0, 85.0, 79.0, 70.0, 81.0, 82.0, 83.0, 84.0, 70.0];
    assert_eq!(
        states(config, &values),
        [
            (8, Firing, Severity::Warning),
            (9, Resolved, Severity::Info)
        ]
    );
}

#[test]
fn levels_escalate_and_de_escalate_one_alert() {
    let config = r#"{ "rules": [{ "field": "t", "max": 80, "levels": [{ "max": 95, "severity": "critical" }, { "max": 90, "severity": "warning" }], "severity": "info" }] }"#;
    let values = [70.0, 85.0, 92.0, 99.0, 96.0, 91.0, 83.0, 70.0];
    assert_eq!(
        states(config, &values),
        [
            (1, Firing, Severity::Info),
            (2, Firing, Severity::Warning),
            (3, Firing, Severity::Critical),
            (5, Firing, Severity::Warning),
            (6, Firing, Severity::Info),
            (7, Resolved, Severity::Info),
        ]
    );
    let error = config_error(
        r#"{ "rules": [{ "field": "t", "max": 80, "clear_below": 85, "levels": [{ "max": 70, "severity": "critical" }] }] }"#,
    );
    assert!(error.contains("clear_below 85 is above max 80"), "{error}");
    assert!(
        error.contains("levels[0]: a level's `max` must be above"),
        "{error}"
    );
}

#[test]
fn a_restart_in_the_middle_changes_nothing() {
    let config = r#"{ "rules": [{ "field": "t", "max": 80, "clear_below": 75, "for": "2s", "levels": [{ "max": 90, "severity": "critical" }] }] }"#;
    let dev = Series::new("dev");
    let values: Vec<f64> = (0..200)
        .map(|i| 70.0 + 25.0 * ((f64::from(i) * 0.37).sin() * (f64::from(i) * 0.05).cos()))
        .collect();
    let points: Vec<(i64, &Series, &str, f64)> = (0..)
        .zip(&values)
        .map(|(i, &v)| (i * 1_000_000_000, &dev, "t", v))
        .collect();
    let run = |d: &mut Threshold, points: &[(i64, &Series, &str, f64)]| {
        let mut out = Output::default();
        d.process(&batch(points), &mut out);
        out.alerts()
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
    };
    let whole = run(&mut detector(config), &points);
    assert!(whole.len() > 6, "the series crosses the limits: {whole:?}");
    // Every cut: each lands in some state (pending, firing at a level,
    // held by hysteresis), and none may change the alerts.
    for cut in 1..points.len() {
        let mut first = detector(config);
        let mut got = run(&mut first, &points[..cut]);
        let mut second = detector(config);
        second.restore(&first.snapshot()).unwrap();
        got.extend(run(&mut second, &points[cut..]));
        assert_eq!(got, whole, "restart after {cut} points");
    }
}

#[test]
fn without_resolve_every_point_in_violation_fires_and_nothing_resolves() {
    let dev = Series::new("dev");
    let config = r#"{ "resolve": false, "rules": [{ "field": "temperature", "max": 80,
        "levels": [{ "max": 95, "severity": "critical" }] }] }"#;
    let points = [
        (1, &dev, "temperature", 25.0),
        (2, &dev, "temperature", 85.0),
        (3, &dev, "temperature", 86.0),
        (4, &dev, "temperature", 99.0),
        (5, &dev, "temperature", 26.0),
    ];
    let mut d = detector(config);
    let got = alerts(&mut d, &points);
    let firing = |ts, severity, value: f64| {
        (
            AlertState::Firing,
            severity,
            ts,
            value,
            format!("temperature {value} above max 80"),
        )
    };
    assert_eq!(
        got,
        vec![
            firing(2, Severity::Warning, 85.0),
            firing(3, Severity::Warning, 86.0),
            firing(4, Severity::Critical, 99.0),
        ]
    );
    // No state: each point alone decides, in any split over any instances.
    for split in 1..points.len() {
        let (a, b) = points.split_at(split);
        let mut joined = alerts(&mut detector(config), b);
        joined.splice(0..0, alerts(&mut detector(config), a));
        assert_eq!(joined, got, "split at {split}");
    }
    assert_eq!(
        alerts(&mut d, &points),
        got,
        "the same points, the same alerts"
    );
}

#[test]
fn without_resolve_stateful_options_are_refused() {
    let error = config_error(
        r#"{ "resolve": false, "rules": [{ "field": "t", "max": 80, "clear_below": 70, "for": "10s" }] }"#,
    );
    assert!(error.contains("`for` needs state"), "{error}");
    assert!(error.contains("`clear_below` needs state"), "{error}");
}
