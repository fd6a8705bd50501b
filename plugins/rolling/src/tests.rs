use foghorn_plugin::testing;

use super::*;

fn rolling(config: &str) -> Rolling {
    testing::plugin(config)
}

const SECOND: i64 = 1_000_000_000;

/// Each point's value of `name`.
fn column(config: &str, values: &[(i64, Option<f64>)], name: &str) -> Vec<Option<f64>> {
    let s = Series::new("s");
    let mut builder = PointsBuilder::new();
    for (ts, value) in values {
        let point = builder.point(*ts, &s).field("other", 1.0);
        if let Some(value) = value {
            point.field("t", *value);
        }
    }
    let out = testing::run(&mut rolling(config), &testing::batch(builder.finish()));
    out.into_points().iter().map(|p| p.number(name)).collect()
}

fn seconds(values: &[Option<f64>]) -> Vec<(i64, Option<f64>)> {
    (0..)
        .map(|s| s * SECOND)
        .zip(values.iter().copied())
        .collect()
}

#[test]
fn a_count_window_needs_its_values_and_a_gap_holds_a_place() {
    let values = seconds(&[Some(1.0), Some(2.0), None, Some(4.0), Some(5.0), Some(6.0)]);
    let config = r#"{ "fields": ["t"], "window": 3, "stats": ["sum", "count", "median"] }"#;
    assert_eq!(
        column(config, &values, "t_sum"),
        [None, None, None, None, None, Some(15.0)]
    );
    assert_eq!(
        column(config, &values, "t_count"),
        [None, None, Some(2.0), Some(2.0), Some(2.0), Some(3.0)],
        "count needs points, not values"
    );
    let config =
        r#"{ "fields": ["t"], "window": 3, "min_periods": 1, "stats": ["median", "std"] }"#;
    assert_eq!(
        column(config, &values, "t_median"),
        [
            Some(1.0),
            Some(1.5),
            Some(1.5),
            Some(3.0),
            Some(4.5),
            Some(5.0)
        ]
    );
    assert_eq!(
        column(config, &values, "t_std")[0],
        None,
        "one value has no sample std"
    );
}

#[test]
fn a_time_window_is_open_on_the_left_and_keeps_equal_timestamps() {
    let values = [
        (0, Some(1.0)),
        (0, Some(2.0)),
        (2 * SECOND, Some(4.0)),
        (3 * SECOND, Some(8.0)),
    ];
    let config = r#"{ "fields": ["t"], "window": "3s", "stats": ["sum", "min", "max"] }"#;
    assert_eq!(
        column(config, &values, "t_sum"),
        [Some(1.0), Some(3.0), Some(7.0), Some(12.0)],
        "at 3s the points at 0 fall out: (0, 3]"
    );
    assert_eq!(
        column(config, &values, "t_min"),
        [Some(1.0), Some(1.0), Some(1.0), Some(4.0)]
    );
    assert_eq!(
        column(config, &values, "t_max"),
        [Some(1.0), Some(2.0), Some(4.0), Some(8.0)]
    );
}

#[test]
fn quantiles_interpolate_linearly_and_equal_values_have_no_spread() {
    let values = seconds(&[Some(1.0), Some(2.0), Some(3.0), Some(10.0)]);
    let config = r#"{ "fields": ["t"], "window": 4, "stats": [], "quantiles": [0.5, 0.95], "suffix": "_w" }"#;
    // 0.95 of the way: index 2.85 between 3 and 10.
    let p95 = column(config, &values, "t_p95_w")[3].unwrap();
    assert!((p95 - (3.0 + 7.0 * 0.85)).abs() < 1e-12, "{p95}");
    assert_eq!(column(config, &values, "t_p50_w")[3], Some(2.5));
    let flat = seconds(&[Some(0.1); 5]);
    let config = r#"{ "fields": ["t"], "window": 5, "stats": ["var"] }"#;
    assert_eq!(column(config, &flat, "t_var")[4], Some(0.0));
}

#[test]
fn a_time_window_over_its_bound_forgets_early_and_counts_it() {
    let values = seconds(&[Some(1.0), Some(2.0), Some(3.0), Some(4.0)]);
    let config =
        r#"{ "fields": ["t"], "window": "1h", "stats": ["count"], "max_window_points": 2 }"#;
    assert_eq!(
        column(config, &values, "t_count"),
        [Some(1.0), Some(2.0), Some(2.0), Some(2.0)]
    );
    assert_eq!(testing::counters().get("window_overflow"), Some(&2));
}

#[test]
fn a_restart_at_any_point_changes_nothing() {
    let (a, b) = (Series::new("a"), Series::new("b"));
    let mut builder = PointsBuilder::new();
    for i in 0..90_i64 {
        let series = if i % 3 == 0 { &b } else { &a };
        let ts = if i == 40 { 3 } else { i } * SECOND;
        let point = builder.point(ts, series);
        if i % 7 != 0 {
            point.field("t", (i as f64).sin() * 10.0);
        }
    }
    let points = builder.finish();
    for window in ["5", "\"8s\""] {
        let config = format!(
            r#"{{ "fields": ["t"], "window": {window}, "min_periods": 2,
                 "stats": ["mean", "std", "min", "max", "sum", "count", "median"], "quantiles": [0.9] }}"#
        );
        testing::assert_resumes_exactly::<Rolling>(&config, &points);
    }
}

#[test]
fn config_errors_are_all_reported() {
    let error = testing::config_error::<Rolling>(
        r#"{ "fields": ["t", "t"], "window": 3, "min_periods": 4, "stats": ["mean", "mean"], "quantiles": [1.5], "ddof": 3 }"#,
    );
    for part in [
        "fields[1]: t is listed twice",
        "min_periods 4 is more than the window (3)",
        "stats[1]: mean is listed twice",
        "quantiles[0] 1.5 must be from 0 to 1",
        "ddof 3 must be 0 or 1",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }
    let error = testing::config_error::<Rolling>(r#"{ "fields": ["t"], "window": "soon" }"#);
    assert!(error.contains("window \"soon\""), "{error}");
}

#[test]
fn a_window_of_gaps_counts_zero_and_gives_nothing_else() {
    let values = seconds(&[Some(1.0), None, None, Some(4.0)]);
    let config = r#"{ "fields": ["t"], "window": 2, "min_periods": 1, "stats": ["count", "mean", "min", "std"], "quantiles": [0.5] }"#;
    assert_eq!(
        column(config, &values, "t_count"),
        [Some(1.0), Some(1.0), Some(0.0), Some(1.0)]
    );
    assert_eq!(
        column(config, &values, "t_mean"),
        [Some(1.0), Some(1.0), None, Some(4.0)]
    );
    assert_eq!(column(config, &values, "t_min")[2], None);
    assert_eq!(column(config, &values, "t_p50")[2], None);
    assert_eq!(column(config, &values, "t_std"), [None; 4]);
}

#[test]
fn a_long_series_of_large_values_does_not_drift() {
    // A large level and a small spread, where what removing values from
    // running sums leaves behind shows most: 1.7e-8 off after 50000 points
    // without the sums being computed afresh.
    let values: Vec<_> = (0..50_000_i64)
        .map(|i| (i * SECOND, Some(1e9 + ((i * 7919) % 1000) as f64 / 7.0)))
        .collect();
    let config = r#"{ "fields": ["t"], "window": 25, "stats": ["mean", "std"] }"#;
    let (means, stds) = (
        column(config, &values, "t_mean"),
        column(config, &values, "t_std"),
    );
    for end in [24, 10_000, 49_999] {
        let window: Vec<f64> = values[end - 24..=end].iter().filter_map(|v| v.1).collect();
        let mean = window.iter().sum::<f64>() / 25.0;
        let var = window.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 24.0;
        let (got_mean, got_std) = (means[end].unwrap(), stds[end].unwrap());
        assert!(
            (got_mean - mean).abs() <= 1e-9 * mean,
            "{end}: {got_mean} {mean}"
        );
        assert!(
            (got_std - var.sqrt()).abs() <= 2e-9 * var.sqrt(),
            "{end}: {got_std} {}",
            var.sqrt()
        );
    }
}
