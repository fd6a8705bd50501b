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
fn a_restart_at_any_point_changes_nothing() {
    let (a, b) = (Series::new("a"), Series::new("b"));
    let readings: Vec<(&Series, Option<f64>)> = (0..60)
        .map(|i| {
            let series = if i % 3 == 0 { &b } else { &a };
            (series, (i % 7 != 0).then_some(f64::from(i) * 1.5))
        })
        .collect();
    let points = batch(&readings, 0).points;
    testing::assert_resumes_exactly::<Diff>(r#"{ "fields": ["t"], "periods": [1, 3] }"#, &points);
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
