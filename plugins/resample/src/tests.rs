use foghorn_plugin::testing;

use super::*;

const MINUTE: i64 = 60_000_000_000;
const HOUR: i64 = 60 * MINUTE;

fn resample(config: &str) -> Resample {
    testing::plugin(config)
}

fn batch(points: &[(i64, &Series, f64)]) -> Batch {
    let mut builder = PointsBuilder::new();
    for (ts, series, value) in points {
        builder.point(*ts, series).field("t", *value);
    }
    testing::batch(builder.finish())
}

/// (series, timestamp, field=value…) of each point out.
fn rows(out: Output) -> Vec<String> {
    out.into_points()
        .iter()
        .map(|p| {
            let fields: Vec<String> = p
                .fields()
                .map(|(k, v)| format!("{k}={}", v.as_f64().unwrap()))
                .collect();
            format!(
                "{} {} {}",
                p.series(),
                p.timestamp() / MINUTE,
                fields.join(" ")
            )
        })
        .collect()
}

#[test]
fn an_hour_closes_when_the_next_one_starts() {
    let s = Series::new("s");
    let mut r = resample(
        r#"{ "every": "1h", "fields": ["t"], "stats": ["mean", "count", "min", "max", "p50", "std"] }"#,
    );
    let out = testing::run(
        &mut r,
        &batch(&[(0, &s, 1.0), (10 * MINUTE, &s, 3.0), (59 * MINUTE, &s, 8.0)]),
    );
    assert!(out.into_points().is_empty(), "the hour is open");
    let out = testing::run(&mut r, &batch(&[(HOUR, &s, 100.0)]));
    let std = (((1.0_f64 - 4.0).powi(2) + 1.0 + 16.0) / 2.0).sqrt();
    assert_eq!(
        rows(out),
        [format!(
            "s 0 t_mean=4 t_count=3 t_min=1 t_max=8 t_p50=3 t_std={std}"
        )]
    );
}

#[test]
fn a_day_bucket_starts_at_midnight_utc_and_late_points_are_rejected() {
    let s = Series::new("s");
    let mut r = resample(r#"{ "every": "1d", "fields": ["t"], "stats": ["sum"] }"#);
    let day = 24 * HOUR;
    let out = testing::run(
        &mut r,
        &batch(&[
            (day + 5 * HOUR, &s, 1.0),
            (day + 23 * HOUR, &s, 2.0),
            (2 * day, &s, 4.0),
            (day + HOUR, &s, 8.0),
        ]),
    );
    assert_eq!(out.errors().len(), 1, "the point for the closed day");
    assert_eq!(rows(out), [format!("s {} t_sum=3", day / MINUTE)]);
    assert_eq!(testing::counters().get("late_points"), Some(&1));
}

#[test]
fn lateness_keeps_a_bucket_open_for_stragglers() {
    let s = Series::new("s");
    let mut r = resample(
        r#"{ "every": "1m", "fields": ["t"], "stats": ["count"], "allowed_lateness": "30s" }"#,
    );
    let out = testing::run(
        &mut r,
        &batch(&[
            (0, &s, 1.0),
            (MINUTE + 10_000_000_000, &s, 1.0),
            (50_000_000_000, &s, 1.0),
            (MINUTE + 40_000_000_000, &s, 1.0),
        ]),
    );
    assert_eq!(
        rows(out),
        ["s 0 t_count=2"],
        "the straggler at 50 s joined minute 0"
    );
}

#[test]
fn a_quiet_series_is_closed_by_the_tick() {
    let (a, b) = (Series::new("a"), Series::new("b"));
    let mut r =
        resample(r#"{ "every": "1h", "fields": ["t"], "stats": ["count"], "flush_after": "10m" }"#);
    testing::run(&mut r, &batch(&[(0, &a, 1.0), (0, &b, 1.0)]));
    let mut out = Output::default();
    r.tick(now(), &mut out);
    assert_eq!(out.point_count(), 0, "not quiet yet");
    let mut out = Output::default();
    r.tick(now() + 11 * MINUTE, &mut out);
    assert_eq!(rows(out), ["a 0 t_count=1", "b 0 t_count=1"]);
    let out = testing::run(&mut r, &batch(&[(MINUTE, &a, 1.0)]));
    assert_eq!(out.errors().len(), 1, "its hour was closed by the tick");
}

#[test]
fn empty_buckets_come_out_with_zero_counts_when_asked() {
    let s = Series::new("s");
    let mut r = resample(
        r#"{ "every": "1m", "fields": ["t"], "stats": ["count", "sum", "mean"], "empty_buckets": "emit", "max_empty_buckets": 1 }"#,
    );
    let out = testing::run(
        &mut r,
        &batch(&[(0, &s, 2.0), (3 * MINUTE, &s, 1.0), (4 * MINUTE, &s, 1.0)]),
    );
    assert_eq!(
        rows(out),
        [
            "s 0 t_count=1 t_sum=2 t_mean=2",
            "s 1 t_count=0 t_sum=0",
            "s 3 t_count=1 t_sum=1 t_mean=1"
        ]
    );
    assert_eq!(testing::counters().get("empty_buckets_skipped"), Some(&1));
}

#[test]
fn a_restart_at_any_point_changes_nothing() {
    let (a, b) = (Series::new("a"), Series::new("b"));
    let mut builder = PointsBuilder::new();
    for i in 0..90_i64 {
        let series = if i % 3 == 0 { &b } else { &a };
        let ts = if i % 17 == 5 {
            (i - 7) * 20_000_000_000
        } else {
            i * 20_000_000_000
        };
        let point = builder.point(ts, series).field("other", 1.0);
        if i % 7 != 0 {
            point.field("t", (i as f64).sin() * 10.0);
        }
    }
    let config = r#"{ "every": "1m", "fields": ["t"], "stats": ["mean", "std", "p90", "first", "last", "count"], "allowed_lateness": "20s", "empty_buckets": "emit" }"#;
    testing::assert_resumes_exactly::<Resample>(config, &builder.finish());
}

#[test]
fn a_tick_after_a_restart_flushes_the_same_buckets() {
    let s = Series::new("s");
    let config = r#"{ "every": "1h", "fields": ["t"], "stats": ["count"] }"#;
    let mut first = resample(config);
    testing::run(&mut first, &batch(&[(0, &s, 1.0), (MINUTE, &s, 2.0)]));
    let mut second = resample(config);
    second.restore(&first.snapshot()).unwrap();
    let mut out = Output::default();
    second.tick(now() + 2 * HOUR, &mut out);
    assert_eq!(rows(out), ["s 0 t_count=2"]);
}

#[test]
fn config_errors_are_all_reported() {
    let error = testing::config_error::<Resample>(
        r#"{ "every": "0s", "fields": [], "stats": ["mean", "p101", "median", "mean"] }"#,
    );
    for part in [
        "every must be longer than 0",
        "`fields` is empty",
        "stats[1]: \"p101\" is not",
        "stats[2]: \"median\" is not",
        "stats[3]: mean is listed twice",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }
}
