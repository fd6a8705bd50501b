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
fn gaps_text_and_huge_values_do_not_move_the_statistics() {
    let s = Series::new("s");
    let mut builder = PointsBuilder::new();
    builder.point(0, &s).field("t", 1_i64);
    builder.point(1, &s).field("t", "100");
    builder.point(2, &s).field("t", f64::NAN);
    builder.point(3, &s).field("t", true);
    builder.point(4, &s).field("t", 1e200);
    builder.point(5, &s).field("other", 1.0);
    builder.point(6, &s).field("t", 3.0);
    let out = testing::run(
        &mut scale(r#"{ "fields": ["t"], "warmup": 2 }"#),
        &testing::batch(builder.finish()),
    );
    let got: Vec<_> = out
        .into_points()
        .iter()
        .map(|p| p.number("t_scaled"))
        .collect();
    // Only 1 and 3 counted: mean 2, population std 1.
    assert_eq!(got, [None, None, None, None, None, None, Some(1.0)]);
}

#[test]
fn ddof_divides_by_count_minus_ddof() {
    let values = [Some(1.0), Some(2.0), Some(6.0)];
    // Mean 3, squared deviations 4 + 1 + 9 = 14.
    for (ddof, divisor) in [(0, 3.0), (1, 2.0), (2, 1.0)] {
        let config = format!(r#"{{ "fields": ["t"], "warmup": 3, "ddof": {ddof} }}"#);
        let got = run(&config, &values);
        let want = 3.0 / (14.0_f64 / divisor).sqrt();
        assert!(
            (got[2].unwrap() - want).abs() < 1e-12,
            "ddof {ddof}: {got:?}"
        );
    }
}

#[test]
fn each_series_has_its_own_statistics_and_an_out_of_order_point_is_rejected() {
    let (a, b) = (Series::new("a"), Series::new("b"));
    let mut builder = PointsBuilder::new();
    builder.point(10, &a).field("t", 0.0);
    builder.point(10, &b).field("t", 100.0);
    builder.point(11, &a).field("t", 10.0);
    builder.point(5, &b).field("t", 1e6);
    builder.point(11, &b).field("t", 300.0);
    builder.point(11, &a).field("t", 5.0);
    let mut s = scale(r#"{ "fields": ["t"], "warmup": 2, "method": "minmax" }"#);
    let out = testing::run(&mut s, &testing::batch(builder.finish()));
    assert_eq!(out.errors().len(), 1);
    assert_eq!(testing::counters().get("out_of_order"), Some(&1));
    let got: Vec<_> = out
        .into_points()
        .iter()
        .map(|p| (p.series().name.clone(), p.number("t_scaled")))
        .collect();
    let a = |v| ("a".to_owned(), v);
    let b = |v| ("b".to_owned(), v);
    assert_eq!(
        got,
        [a(None), b(None), a(Some(1.0)), b(Some(1.0)), a(Some(0.5))]
    );
}

#[test]
fn a_restart_at_any_point_changes_nothing() {
    let series = [
        Series::new("a"),
        Series::new("b").with_tag("host", "x"),
        Series::new("c"),
    ];
    let mut builder = PointsBuilder::new();
    for i in 0..90_i32 {
        // Every 11th point goes back in time: out of order in its series.
        let ts = if i % 11 == 10 { i - 8 } else { i };
        let point = builder.point(i64::from(ts), &series[(i % 3) as usize]);
        if i % 7 != 0 {
            point.field("t", f64::from(i).cos() * 10.0);
        }
    }
    let points = builder.finish();
    let out = testing::run(
        &mut scale(r#"{ "fields": ["t"], "warmup": 5 }"#),
        &testing::batch(points.clone()),
    );
    assert!(
        out.errors().len() >= 5,
        "the points exercise out-of-order rejects"
    );
    for config in [
        r#"{ "fields": ["t"], "warmup": 5 }"#,
        r#"{ "fields": ["t"], "warmup": 5, "fit": "frozen", "method": "minmax" }"#,
        r#"{ "fields": ["t"], "warmup": 8, "fit": "frozen", "ddof": 1 }"#,
    ] {
        testing::assert_resumes_exactly::<Scale>(config, &points);
    }
}

#[test]
fn a_snapshot_of_other_statistics_starts_afresh() {
    let values = [Some(0.0), Some(10.0)];
    let mut first = scale(r#"{ "fields": ["t"], "warmup": 2, "method": "minmax" }"#);
    let s = Series::new("s");
    let batch = |values: &[f64], start: i64| {
        let mut builder = PointsBuilder::new();
        for (ts, value) in (start..).zip(values) {
            builder.point(ts, &s).field("t", *value);
        }
        testing::batch(builder.finish())
    };
    testing::run(&mut first, &batch(&values.map(Option::unwrap), 0));
    let resumed = |config: &str| {
        let mut second = scale(config);
        second.restore(&first.snapshot()).unwrap();
        let out = testing::run(&mut second, &batch(&[5.0], 2));
        out.into_points().get(0).unwrap().number("t_scaled")
    };
    assert_eq!(
        resumed(r#"{ "fields": ["t"], "warmup": 2, "method": "minmax" }"#),
        Some(0.5)
    );
    for other in [
        r#"{ "fields": ["t"], "warmup": 2 }"#,
        r#"{ "fields": ["t"], "warmup": 3, "method": "minmax" }"#,
        r#"{ "fields": ["t"], "warmup": 2, "method": "minmax", "fit": "frozen" }"#,
    ] {
        assert_eq!(resumed(other), None, "{other}: afresh, one value");
    }
}

#[test]
fn config_errors_are_all_reported() {
    let error = testing::config_error::<Scale>(r#"{ "fields": [], "warmup": 1, "ddof": 2 }"#);
    for part in [
        "`fields` is empty",
        "warmup 1 must be at least 2",
        "ddof 2 must be below warmup 1",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }
    let error = testing::config_error::<Scale>(r#"{ "fields": ["t"], "method": "robust" }"#);
    assert!(error.contains("robust"), "{error}");
}
