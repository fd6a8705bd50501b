use foghorn_plugin::testing;

use super::*;

fn scale(config: &str) -> Scale {
    testing::plugin(config)
}

fn run(config: &str, values: &[Option<f64>]) -> Vec<Option<f64>> {
    let s = Series::new("s");
    let mut builder = PointsBuilder::new();
    for (ts, value) in (0..).zip(values) {
        let point = builder.point(ts, &s).field("other", 1.0);
        if let Some(value) = value {
            point.field("t", *value);
        }
    }
    let out = testing::run(&mut scale(config), &testing::batch(builder.finish()));
    out.into_points()
        .iter()
        .map(|p| p.number("t_scaled"))
        .collect()
}

#[test]
fn standard_scaling_uses_the_values_so_far_after_the_warmup() {
    let got = run(
        r#"{ "fields": ["t"], "warmup": 2 }"#,
        &[Some(1.0), Some(3.0), None, Some(5.0)],
    );
    // After 1, 3: mean 2, population std 1. After 5 too: mean 3, std sqrt(8/3).
    assert_eq!(got[..3], [None, Some(1.0), None]);
    assert!((got[3].unwrap() - 2.0 / (8.0_f64 / 3.0).sqrt()).abs() < 1e-12);
}

#[test]
fn frozen_statistics_stop_at_the_warmup_and_minmax_uses_the_range() {
    let values = [Some(0.0), Some(10.0), Some(20.0), Some(-10.0)];
    let got = run(
        r#"{ "fields": ["t"], "warmup": 2, "method": "minmax", "fit": "frozen" }"#,
        &values,
    );
    assert_eq!(got, [None, Some(1.0), Some(2.0), Some(-1.0)]);
    let got = run(
        r#"{ "fields": ["t"], "warmup": 2, "method": "minmax" }"#,
        &values,
    );
    assert_eq!(got, [None, Some(1.0), Some(1.0), Some(0.0)]);
}

#[test]
fn no_spread_no_value() {
    let got = run(
        r#"{ "fields": ["t"], "warmup": 2 }"#,
        &[Some(4.0), Some(4.0), Some(5.0)],
    );
    assert_eq!(got[..2], [None, None]);
    assert!(got[2].is_some());
}

#[test]
fn a_restart_at_any_point_changes_nothing() {
    let (a, b) = (Series::new("a"), Series::new("b"));
    let mut builder = PointsBuilder::new();
    for i in 0..80_i64 {
        let series = if i % 3 == 0 { &b } else { &a };
        let ts = if i == 40 { 3 } else { i };
        let point = builder.point(ts, series);
        if i % 7 != 0 {
            point.field("t", (i as f64).cos() * 10.0);
        }
    }
    let points = builder.finish();
    testing::assert_resumes_exactly::<Scale>(r#"{ "fields": ["t"], "warmup": 5 }"#, &points);
    testing::assert_resumes_exactly::<Scale>(
        r#"{ "fields": ["t"], "warmup": 5, "fit": "frozen", "method": "minmax" }"#,
        &points,
    );
}

#[test]
fn config_errors_are_all_reported() {
    let error = testing::config_error::<Scale>(r#"{ "fields": [], "warmup": 1, "ddof": 2 }"#);
    for part in [
        "`fields` is empty",
        "warmup 1 must be at least",
        "ddof 2 must be 0 or 1",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }
}
