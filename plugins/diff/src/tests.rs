use foghorn_plugin::testing;

use super::*;

fn diff(config: &str) -> Diff {
    testing::plugin(config)
}

/// `t` readings of series `s` at 0, 1, …; `None` leaves the field out.
fn batch(readings: &[(&Series, Option<f64>)], start: i64) -> Batch {
    let mut builder = PointsBuilder::new();
    for (ts, (series, value)) in (start..).zip(readings) {
        let point = builder.point(ts, series).field("other", 1.0);
        if let Some(value) = value {
            point.field("t", *value);
        }
    }
    testing::batch(builder.finish())
}

/// (timestamp, t_diff1, t_diff2) of each point out.
fn diffs(out: Output) -> Vec<(i64, Option<f64>, Option<f64>)> {
    out.into_points()
        .iter()
        .map(|p| (p.timestamp(), p.number("t_diff1"), p.number("t_diff2")))
        .collect()
}

#[test]
fn each_series_differences_its_own_values_and_gaps_stay_absent() {
    let (a, b) = (Series::new("a"), Series::new("b"));
    let mut l = diff(r#"{ "fields": ["t"], "periods": [1, 2] }"#);
    let readings = [
        (&a, Some(1.0)),
        (&b, Some(10.0)),
        (&a, None),
        (&a, Some(3.5)),
        (&b, Some(20.0)),
        (&a, Some(3.0)),
    ];
    let out = testing::run(&mut l, &batch(&readings, 0));
    assert_eq!(
        diffs(out),
        [
            (0, None, None),
            (1, None, None),
            (2, None, None),
            (3, None, Some(2.5)),
            (4, Some(10.0), None),
            (5, Some(-0.5), None),
        ]
    );
}

#[test]
fn an_out_of_order_point_is_rejected_counted_and_changes_nothing() {
    let a = Series::new("a");
    let mut l = diff(r#"{ "fields": ["t"] }"#);
    testing::run(&mut l, &batch(&[(&a, Some(1.0)), (&a, Some(2.0))], 10));
    let out = testing::run(&mut l, &batch(&[(&a, Some(9.0))], 5));
    assert_eq!(out.errors().len(), 1);
    let out = testing::run(&mut l, &batch(&[(&a, Some(3.0))], 12));
    assert_eq!(diffs(out), [(12, Some(1.0), None)]);
    assert_eq!(testing::counters().get("out_of_order"), Some(&1));
}

#[test]
fn only_finite_numbers_are_differenced_and_fields_pass_through() {
    let s = Series::new("s");
    let mut builder = PointsBuilder::new();
    builder.point(0, &s).field("t", 5_i64).field("u", 1.0);
    builder.point(1, &s).field("t", "7").field("u", f64::NAN);
    builder.point(2, &s).field("t", 8.5).field("u", true);
    builder
        .point(3, &s)
        .field("t", f64::INFINITY)
        .field("u", 2.0);
    builder.point(4, &s).field("t", f64::MAX).field("u", 3.0);
    builder.point(5, &s).field("t", -f64::MAX).field("u", 4.0);
    let mut d = diff(r#"{ "fields": ["t", "u"] }"#);
    let out = testing::run(&mut d, &testing::batch(builder.finish())).into_points();
    let got: Vec<_> = out
        .iter()
        .map(|p| (p.number("t_diff1"), p.number("u_diff1")))
        .collect();
    assert_eq!(
        got,
        [
            (None, None),
            (None, None),
            (None, None),
            (None, None),
            (None, Some(1.0)),
            // f64::MAX − −f64::MAX overflows: left out rather than inf.
            (None, Some(1.0)),
        ]
    );
    let third = out.get(2).unwrap();
    assert_eq!(third.field("t"), Some(Value::Float(8.5)));
    assert_eq!(third.field("u"), Some(Value::Bool(true)));
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
        let ts = if i % 11 == 10 {
            i64::from(i) - 8
        } else {
            i64::from(i)
        };
        let point = builder.point(ts, &series[(i % 3) as usize]);
        if i % 7 != 0 {
            point.field("t", f64::from(i) * 1.5 - f64::from(i % 4));
        }
    }
    let points = builder.finish();
    let out = testing::run(
        &mut diff(r#"{ "fields": ["t"] }"#),
        &testing::batch(points.clone()),
    );
    assert!(
        out.errors().len() >= 5,
        "the points exercise out-of-order rejects"
    );
    testing::assert_resumes_exactly::<Diff>(r#"{ "fields": ["t"], "periods": [1, 3] }"#, &points);
}

#[test]
fn a_snapshot_of_other_periods_starts_afresh() {
    let s = Series::new("s");
    let mut first = diff(r#"{ "fields": ["t"], "periods": [1] }"#);
    testing::run(&mut first, &batch(&[(&s, Some(1.0)), (&s, Some(2.0))], 0));
    let mut second = diff(r#"{ "fields": ["t"], "periods": [2] }"#);
    second.restore(&first.snapshot()).unwrap();
    let out = testing::run(&mut second, &batch(&[(&s, Some(5.0))], 2));
    assert_eq!(
        out.into_points().get(0).unwrap().number("t_diff2"),
        None,
        "no history kept from another depth"
    );
    let mut same = diff(r#"{ "fields": ["t"], "periods": [1] }"#);
    same.restore(&first.snapshot()).unwrap();
    let out = testing::run(&mut same, &batch(&[(&s, Some(5.0))], 2));
    assert_eq!(diffs(out), [(2, Some(3.0), None)]);
}

#[test]
fn a_snapshot_that_does_not_fit_its_config_is_refused() {
    let mut d = diff(r#"{ "fields": ["t"] }"#);
    let longer = r#"{"fields":["t"],"depth":1,"series":[{"name":"s","tags":[],
        "history":{"last":0,"values":[[1.0,2.0,3.0]]}}]}"#;
    assert!(d.restore(longer.as_bytes()).is_err());
    let s = Series::new("s");
    let out = testing::run(&mut d, &batch(&[(&s, Some(1.0)), (&s, Some(4.0))], 0));
    assert_eq!(
        diffs(out),
        [(0, None, None), (1, Some(3.0), None)],
        "afresh"
    );
}

#[test]
fn config_errors_are_all_reported() {
    let error = testing::config_error::<Diff>(r#"{ "fields": [], "periods": [0, 2, 2] }"#);
    assert!(error.contains("`fields` is empty"), "{error}");
    assert!(
        error.contains("periods[0] 0 must be from 1 to 10000"),
        "{error}"
    );
    assert!(error.contains("periods[2]: 2 is listed twice"), "{error}");
}
