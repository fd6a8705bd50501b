use foghorn_plugin::testing;

use super::*;

const SECOND: i64 = 1_000_000_000;

fn detector(config: &str) -> RateOfChange {
    testing::plugin(config)
}

fn config_error(config: &str) -> String {
    testing::config_error::<RateOfChange>(config)
}

fn batch(points: &[(i64, &Series, &str, f64)]) -> Batch {
    testing::points(points)
}

/// (timestamp, value, description) of each alert.
fn alerts(
    detector: &mut RateOfChange,
    points: &[(i64, &Series, &str, f64)],
) -> Vec<(i64, f64, String)> {
    let mut out = Output::default();
    detector.process(&batch(points), &mut out);
    assert_eq!(out.point_count(), 0, "a detector emits no points");
    out.alerts()
        .iter()
        .map(|a| {
            assert_eq!(a.state, AlertState::Firing);
            (a.timestamp, a.value.unwrap(), a.description.clone())
        })
        .collect()
}

const TEMPERATURE_15: &str = r#"{ "rules": [{ "field": "temperature", "max_delta": 15 }] }"#;

#[test]
fn every_jump_above_max_delta_fires_with_a_signed_delta() {
    let dev = Series::new("bench_device");
    let mut d = detector(TEMPERATURE_15);
    let got = alerts(
        &mut d,
        &[
            (1, &dev, "temperature", 24.8),
            (2, &dev, "temperature", 25.3),
            (3, &dev, "temperature", 95.5),
            (4, &dev, "temperature", 26.0),
            (5, &dev, "temperature", 41.0),
            (6, &dev, "temperature", 56.5),
        ],
    );
    assert_eq!(
        got,
        vec![
            (
                3,
                95.5,
                "temperature changed by +70.2 from 25.3 to 95.5".to_owned()
            ),
            (
                4,
                26.0,
                "temperature changed by -69.5 from 95.5 to 26".to_owned()
            ),
            (
                6,
                56.5,
                "temperature changed by +15.5 from 41 to 56.5".to_owned()
            ),
        ],
        "a change of exactly max_delta (26 -> 41) does not fire"
    );
}

#[test]
fn severity_and_kind_come_from_the_rule() {
    let dev = Series::new("dev");
    let mut d = detector(
        r#"{ "rules": [{ "field": "t", "max_delta": 1, "severity": "critical", "kind": "jump" }] }"#,
    );
    let mut out = Output::default();
    d.process(
        &batch(&[(1, &dev, "t", 0.0), (2, &dev, "t", 5.0)]),
        &mut out,
    );
    let alert = &out.alerts()[0];
    assert_eq!(
        (alert.kind.as_str(), alert.severity),
        ("jump", Severity::Critical)
    );
}

#[test]
fn the_previous_reading_is_per_series_and_survives_batches() {
    let [a, b, c] = ["a", "b", "c"].map(|id| Series::new("dev").with_tag("id", id));
    let mut d = detector(
        r#"{ "rules": [{ "field": "t", "max_delta": 10, "description": "{series} {previous}->{value} ({abs_delta} > {max_delta})" }] }"#,
    );
    assert!(
        alerts(
            &mut d,
            &[(1, &a, "t", 0.0), (2, &b, "t", 100.0), (3, &a, "t", 5.0)]
        )
        .is_empty()
    );
    let got = alerts(
        &mut d,
        &[
            (4, &b, "t", 80.123_456),
            (5, &a, "t", 5.5),
            (6, &c, "t", 0.0),
        ],
    );
    assert_eq!(
        got,
        vec![(
            4,
            80.123_456,
            "dev{id=b} 100->80.123456 (19.877 > 10)".to_owned()
        )]
    );
}

#[test]
fn per_second_divides_by_the_time_between_readings() {
    let dev = Series::new("dev");
    let mut d = detector(r#"{ "rules": [{ "field": "v", "max_delta": 1, "per_second": true }] }"#);
    let got = alerts(
        &mut d,
        &[
            (0, &dev, "v", 0.0),
            (10 * SECOND, &dev, "v", 5.0),              // 0.5/s
            (10 * SECOND, &dev, "v", 50.0),             // same instant: skipped
            (12 * SECOND, &dev, "v", 8.0),              // 1.5/s from 5 at 10 s
            (12 * SECOND + SECOND / 2, &dev, "v", 7.0), // -2/s
        ],
    );
    let descriptions: Vec<_> = got.iter().map(|a| a.2.as_str()).collect();
    assert_eq!(
        descriptions,
        [
            "v changed at +1.5/s from 5 to 8",
            "v changed at -2/s from 8 to 7"
        ]
    );
}

#[test]
fn missing_text_and_non_finite_values_are_skipped() {
    let dev = Series::new("dev");
    let mut d = detector(TEMPERATURE_15);
    let mut builder = PointsBuilder::new();
    builder.point(1, &dev).field("temperature", 20.0);
    builder.point(2, &dev).field("voltage", 500.0);
    builder.point(3, &dev).field("temperature", "hot");
    builder.point(4, &dev).field("temperature", f64::INFINITY);
    builder.point(5, &dev).field("temperature", 30.0);
    let out = testing::run(&mut d, &testing::batch(builder.finish()));
    assert!(out.alerts().is_empty(), "{:?}", out.alerts());
}

#[test]
fn snapshot_and_restore_keep_the_previous_reading() {
    let dev = Series::new("dev").with_tag("port", "ttyUSB0");
    let mut before = detector(TEMPERATURE_15);
    let _ = alerts(&mut before, &[(1, &dev, "temperature", 25.0)]);
    let saved = before.snapshot();

    let mut after = detector(TEMPERATURE_15);
    after.restore(&saved).unwrap();
    assert_eq!(after.snapshot(), saved);
    let got = alerts(&mut after, &[(2, &dev, "temperature", 95.0)]);
    assert_eq!(
        got,
        vec![(
            2,
            95.0,
            "temperature changed by +70 from 25 to 95".to_owned()
        )]
    );

    // Without the snapshot the first reading has nothing to compare with.
    let mut fresh = detector(TEMPERATURE_15);
    assert!(alerts(&mut fresh, &[(2, &dev, "temperature", 95.0)]).is_empty());
    assert!(
        fresh
            .restore(b"{}")
            .unwrap_err()
            .contains("unreadable snapshot")
    );
}

#[test]
fn rounding_keeps_at_most_three_decimals() {
    assert_eq!(format!("{:+}", round3(70.199_999_999_999_99)), "+70.2");
    assert_eq!(format!("{:+}", round3(-0.000_1)), "+0");
    assert_eq!(format!("{}", round3(1.234_56)), "1.235");
    assert_eq!(format!("{}", round3(1e300)), format!("{}", 1e300));
}

#[test]
fn config_errors_name_the_rule_and_the_problem() {
    assert_eq!(
        config_error(
            r#"{ "rules": [{ "field": "t", "max_delta": 1 }, { "field": "v", "max_delta": 0 }] }"#
        ),
        "rate-of-change rule 2 (v): max_delta 0 must be a number above 0"
    );
    let err = config_error(
        r#"{ "rules": [{ "field": "t", "max_delta": -1, "description": "{delta} {min}" }] }"#,
    );
    assert!(
        err.contains("max_delta -1 must be a number above 0"),
        "{err}"
    );
    assert!(
        err.contains("`description`: unknown placeholder {min}"),
        "{err}"
    );
    assert!(config_error(r#"{ "rules": [] }"#).contains("`rules` is empty"));
    assert!(
        config_error(r#"{ "rules": [{ "field": "t" }] }"#).contains("missing field `max_delta`")
    );
    assert!(
        config_error(r#"{ "rules": [{ "field": "t", "max_delta": 1, "window": 3 }] }"#)
            .contains("unknown field `window`")
    );
}

#[test]
fn a_restart_at_any_point_changes_no_alert() {
    let config = r#"{ "rules": [
        { "field": "temperature", "max_delta": 6 },
        { "field": "temperature", "max_delta": 2.5, "per_second": true, "kind": "rate" }
    ] }"#;
    let (a, b) = (Series::new("a"), Series::new("b").with_tag("rack", "2"));
    let points: Vec<(i64, &Series, &str, f64)> = (0..160_i32)
        .map(|i| {
            let series = if i % 3 == 0 { &b } else { &a };
            let value = 20.0 + 10.0 * (f64::from(i) * 0.9).sin() * (f64::from(i) * 0.07).cos();
            (i64::from(i) * SECOND, series, "temperature", value)
        })
        .collect();
    let run = |d: &mut RateOfChange, points: &[(i64, &Series, &str, f64)]| {
        let mut out = Output::default();
        d.process(&batch(points), &mut out);
        out.alerts()
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
    };
    let whole = run(&mut detector(config), &points);
    assert!(whole.len() > 10, "the series jumps: {whole:?}");
    for cut in 1..points.len() {
        let mut first = detector(config);
        let mut got = run(&mut first, &points[..cut]);
        let mut second = detector(config);
        second.restore(&first.snapshot()).unwrap();
        got.extend(run(&mut second, &points[cut..]));
        assert_eq!(got, whole, "restart after {cut} points");
    }
}
