use foghorn_plugin::testing;

use super::*;

const MINUTE: i64 = 60_000_000_000;

fn conformal(config: &str) -> Conformal {
    testing::plugin(config)
}

/// A noisy reading around 50 (a fixed pseudo-random sequence).
fn noise(i: u64) -> f64 {
    let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491_4f6c_dd1d;
    x ^= x >> 29;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 32;
    #[allow(clippy::cast_precision_loss, reason = "a small integer")]
    let unit = (x % 10_000) as f64 / 10_000.0;
    50.0 + 4.0 * (unit - 0.5)
}

fn batch(values: &[(i64, f64)], series: &Series) -> Batch {
    let mut builder = PointsBuilder::new();
    for &(ts, value) in values {
        builder.point(ts, series).field("value", value);
    }
    testing::batch(builder.finish())
}

fn scores(out: Output) -> Vec<f64> {
    out.into_points()
        .iter()
        .map(|p| p.number("value_anomaly_score").unwrap_or(-1.0))
        .collect()
}

#[test]
fn a_spike_fires_once_and_the_refractory_period_keeps_the_rest_quiet() {
    let device = Series::new("device");
    let mut values: Vec<(i64, f64)> = (0..1_000).map(|i| (i * MINUTE, noise(i as u64))).collect();
    // A spike far above anything seen, then a plateau there.
    for i in 1_000..1_050 {
        values.push((i * MINUTE, 90.0 + noise(i as u64)));
    }
    let mut c = conformal(r#"{ "periods": [], "refractory": 100 }"#);
    let out = testing::run(&mut c, &batch(&values, &device));
    assert_eq!(out.alerts().len(), 1, "{:?}", out.alerts());
    let alert = out.alerts()[0].clone();
    assert_eq!(
        alert.timestamp,
        1_000 * MINUTE,
        "at the first point of the spike"
    );
    assert!(alert.score.unwrap() >= 0.8);
    let scores = scores(out);
    assert_eq!(
        scores.len(),
        values.len(),
        "every point passes with a score"
    );
    assert!(
        scores[..300].iter().all(|s| *s == 0.0),
        "nothing scores while warming up"
    );
    assert!(
        scores[300..1_000].iter().all(|s| *s < 0.4),
        "the noise stays below level / 2"
    );
    assert_eq!(scores[1_000], alert.score.unwrap());
    assert!(scores[1_001..].iter().all(|s| *s == 0.0), "refractory");
}

#[test]
fn a_value_normal_for_the_series_but_not_for_the_hour_is_found_by_its_season() {
    let device = Series::new("device");
    // Ten days of a daily cycle between 0 and 100 sampled every 30 minutes;
    // late on the last day the signal stops cycling and stays where it is: an
    // ordinary value, changing less than ever, but not what this hour reads.
    let daily = |i: i64| 50.0 + 50.0 * ((i % 48) as f64 / 48.0 * std::f64::consts::TAU).sin();
    let stuck = 460;
    let values: Vec<(i64, f64)> = (0..480)
        .map(|i| {
            (
                i * 30 * MINUTE,
                daily(i.min(stuck)) + noise(i as u64) / 25.0,
            )
        })
        .collect();
    let config = r#"{ "warmup": 100, "refractory": 100 }"#;
    let out = testing::run(&mut conformal(config), &batch(&values, &device));
    let fired: Vec<i64> = out
        .alerts()
        .iter()
        .map(|a| a.timestamp / (30 * MINUTE))
        .collect();
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert!((stuck + 1..stuck + 4).contains(&fired[0]), "{fired:?}");
    let plain = r#"{ "warmup": 100, "refractory": 100, "periods": [] }"#;
    let out = testing::run(&mut conformal(plain), &batch(&values, &device));
    assert!(
        out.alerts()
            .iter()
            .all(|a| a.timestamp < stuck * 30 * MINUTE),
        "without seasons nothing is odd: {:?}",
        out.alerts()
    );
}

#[test]
fn late_points_are_scored_and_missing_values_change_nothing() {
    let device = Series::new("device");
    let mut c = conformal(r#"{ "warmup": 1, "history": 10, "refractory": 0 }"#);
    testing::run(&mut c, &batch(&[(10, 1.0), (20, 2.0)], &device));
    let out = testing::run(&mut c, &batch(&[(5, 100.0)], &device));
    assert!(out.errors().is_empty());
    assert!(scores(out)[0] > 0.0, "a late point is scored");
    let before = c.series.get(0).tracks.clone();
    let mut builder = PointsBuilder::new();
    builder.point(30, &device).field("value", "high");
    builder.point(31, &device).field("other", 1.0);
    let out = testing::run(&mut c, &testing::batch(builder.finish()));
    assert_eq!(out.point_count(), 2, "they pass");
    assert!(scores(out).iter().all(|s| *s == -1.0), "unscored");
    assert_eq!(c.series.get(0).tracks, before, "the tracks are unchanged");
}

#[test]
fn a_restart_at_any_point_changes_nothing() {
    let (a, b) = (Series::new("a"), Series::new("b"));
    let mut builder = PointsBuilder::new();
    for i in 0..120_i64 {
        let series = if i % 3 == 0 { &b } else { &a };
        let ts = if i == 50 { 0 } else { i * MINUTE };
        let point = builder.point(ts, series);
        if i % 11 != 0 {
            let value = if i == 90 { 500.0 } else { noise(i as u64) };
            point.field("value", value);
        }
    }
    let config = r#"{ "warmup": 10, "history": 40, "periods": ["5m"], "refractory": 5 }"#;
    let points = builder.finish();
    let out = testing::run(&mut conformal(config), &testing::batch(points.clone()));
    assert!(!out.alerts().is_empty(), "the run has a detection");
    testing::assert_resumes_exactly::<Conformal>(config, &points);
}

#[test]
fn config_errors_are_all_reported() {
    let error = testing::config_error::<Conformal>(
        r#"{ "fields": [], "history": 5, "warmup": 0, "periods": ["0s"], "level": 2 }"#,
    );
    for part in [
        "`fields` is empty",
        "history 5 must be from 10",
        "warmup 0 must be from 1",
        "periods[0] must be positive",
        "level 2 must be above 0",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }
}
