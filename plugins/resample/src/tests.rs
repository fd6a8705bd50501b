use std::cell::Cell;

use foghorn_plugin::{ItemError, testing};

use super::*;

const SECOND: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

thread_local! {
    /// The wall clock the plugins of this test thread read.
    static WALL: Cell<i64> = const { Cell::new(0) };
}

fn wall() -> i64 {
    WALL.with(Cell::get)
}

fn set_wall(now: i64) {
    WALL.with(|wall| wall.set(now));
}

/// The plugin with `config`, reading the test's wall clock.
fn resample(config: &str) -> Resample {
    let mut plugin: Resample = testing::plugin(config);
    plugin.clock = wall;
    plugin
}

fn batch(points: &[(i64, &Series, f64)]) -> Batch {
    let mut builder = PointsBuilder::new();
    for (ts, series, value) in points {
        builder.point(*ts, series).field("t", *value);
    }
    testing::batch(builder.finish())
}

/// `series minute field=value…` of each point out, fields as emitted.
fn rows(out: Output) -> Vec<String> {
    out.into_points()
        .iter()
        .map(|p| {
            let fields: Vec<String> = p.fields().map(|(k, v)| format!("{k}={v}")).collect();
            format!(
                "{} {} {}",
                p.series(),
                p.timestamp() / MINUTE,
                fields.join(" ")
            )
        })
        .collect()
}

fn tick(plugin: &mut Resample, now: i64) -> Output {
    let mut out = Output::default();
    plugin.tick(now, &mut out);
    out
}

#[test]
fn an_hour_closes_when_the_next_one_starts() {
    let s = Series::new("s");
    let mut r = resample(
        r#"{ "every": "1h", "fields": ["t"], "stats": ["mean", "count", "min", "max", "p50", "p95", "std", "first", "last"] }"#,
    );
    let out = testing::run(
        &mut r,
        &batch(&[(10 * MINUTE, &s, 3.0), (0, &s, 1.0), (59 * MINUTE, &s, 8.0)]),
    );
    assert_eq!(out.point_count(), 0, "the hour is open");
    let out = testing::run(&mut r, &batch(&[(HOUR, &s, 100.0)]));
    // Sorted 1, 3, 8: p95 at rank 1.9 is 3 + 0.9 * 5; the sample std of
    // deviations -3, -1, 4 is sqrt(26 / 2).
    let std = 13.0_f64.sqrt();
    let p95 = 3.0 + 0.9 * 5.0;
    assert_eq!(
        rows(out),
        [format!(
            "s 0 t_mean=4 t_count=3 t_min=1 t_max=8 t_p50=3 t_p95={p95} t_std={std} t_first=1 t_last=8"
        )]
    );
}

#[test]
fn sums_and_means_are_compensated_as_pandas() {
    let s = Series::new("s");
    let mut r = resample(r#"{ "every": "1m", "fields": ["t"], "stats": ["sum", "mean"] }"#);
    let points = [(0, &s, 1e16), (1, &s, 1.0), (2, &s, 1.0), (3, &s, 1.0)];
    testing::run(&mut r, &batch(&points));
    let out = testing::run(&mut r, &batch(&[(MINUTE, &s, 0.0)]));
    // pandas 3.1: resample("1min").sum() and .mean() of these; a plain sum
    // would stay at 1e16.
    let (sum, mean) = (1.000_000_000_000_000_4e16, 2_500_000_000_000_001.0);
    assert_eq!(rows(out), [format!("s 0 t_sum={sum} t_mean={mean}")]);
}

#[test]
fn a_day_bucket_starts_at_midnight_utc_and_late_points_are_rejected() {
    let s = Series::new("s");
    let mut r = resample(r#"{ "every": "1d", "fields": ["t"], "stats": ["sum"] }"#);
    let out = testing::run(
        &mut r,
        &batch(&[
            (DAY + 5 * HOUR, &s, 1.0),
            (DAY + 23 * HOUR, &s, 2.0),
            (2 * DAY, &s, 4.0),
            (DAY + HOUR, &s, 8.0),
            (2 * DAY + HOUR, &s, 16.0),
        ]),
    );
    let errors = out.errors().to_vec();
    assert_eq!(rows(out), [format!("s {} t_sum=3", DAY / MINUTE)]);
    assert_eq!(errors.len(), 1, "the point for the closed day: {errors:?}");
    assert!(
        matches!(&errors[0], ItemError::Point { index: 3, reason } if reason.starts_with("late")),
        "{errors:?}"
    );
    assert_eq!(testing::counters().get("late_points"), Some(&1));
    let out = testing::run(&mut r, &batch(&[(3 * DAY, &s, 0.0)]));
    assert_eq!(
        rows(out),
        [format!("s {} t_sum=20", 2 * DAY / MINUTE)],
        "the next day has its two points"
    );
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
            (MINUTE + 10 * SECOND, &s, 1.0),
            (50 * SECOND, &s, 1.0),
            (MINUTE + 29 * SECOND, &s, 1.0),
        ]),
    );
    assert_eq!(out.point_count(), 0, "minute 0 stays open until 1:30");
    let out = testing::run(
        &mut r,
        &batch(&[(MINUTE + 30 * SECOND, &s, 1.0), (55 * SECOND, &s, 1.0)]),
    );
    assert_eq!(out.errors().len(), 1, "55 s came after minute 0 closed");
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
    set_wall(1_000 * HOUR);
    testing::run(&mut r, &batch(&[(0, &a, 1.0), (0, &b, 1.0)]));
    set_wall(1_000 * HOUR + 5 * MINUTE);
    testing::run(&mut r, &batch(&[(MINUTE, &b, 1.0)]));
    assert_eq!(
        tick(&mut r, 1_000 * HOUR + 10 * MINUTE - 1).point_count(),
        0
    );
    assert_eq!(
        rows(tick(&mut r, 1_000 * HOUR + 10 * MINUTE)),
        ["a 0 t_count=1"],
        "a has been quiet for 10 minutes, b for 5"
    );
    assert_eq!(
        rows(tick(&mut r, 1_000 * HOUR + 15 * MINUTE)),
        ["b 0 t_count=2"]
    );
    assert_eq!(tick(&mut r, 2_000 * HOUR).point_count(), 0, "once");
    let out = testing::run(&mut r, &batch(&[(2 * MINUTE, &a, 1.0)]));
    assert_eq!(out.errors().len(), 1, "its hour was closed by the tick");
    let out = testing::run(&mut r, &batch(&[(HOUR, &a, 1.0), (2 * HOUR, &a, 1.0)]));
    assert_eq!(rows(out), ["a 60 t_count=1"], "the next hour is open");
}

#[test]
fn a_replay_far_behind_the_wall_clock_closes_by_event_time_only() {
    let s = Series::new("s");
    let mut r = resample(r#"{ "every": "1h", "fields": ["t"], "stats": ["count"] }"#);
    // Data from the year 2000 replayed now: a point a minute, the wall
    // clock a second per point, a tick after each.
    let (then, now) = (10_957 * DAY, 20_000 * DAY);
    let mut out = Vec::new();
    for i in 0..150 {
        set_wall(now + i * SECOND);
        out.extend(rows(testing::run(
            &mut r,
            &batch(&[(then + i * MINUTE, &s, 1.0)]),
        )));
        out.extend(rows(tick(&mut r, now + i * SECOND + SECOND / 2)));
    }
    let hour = then / MINUTE;
    assert_eq!(
        out,
        [
            format!("s {hour} t_count=60"),
            format!("s {} t_count=60", hour + 60)
        ]
    );
    assert_eq!(
        rows(tick(&mut r, now + 150 * SECOND + HOUR)),
        [format!("s {} t_count=30", hour + 120)],
        "after an hour of quiet the last hour closes"
    );
}

#[test]
fn empty_buckets_come_out_between_buckets_with_points() {
    let s = Series::new("s");
    let mut r = resample(
        r#"{ "every": "1m", "fields": ["t"], "stats": ["count", "sum", "mean"], "empty_buckets": "emit", "max_empty_buckets": 2 }"#,
    );
    let out = testing::run(&mut r, &batch(&[(0, &s, 2.0), (3 * MINUTE, &s, 1.0)]));
    assert_eq!(
        rows(out),
        [
            "s 0 t_count=1 t_sum=2 t_mean=2",
            "s 1 t_count=0 t_sum=0",
            "s 2 t_count=0 t_sum=0",
        ],
        "minutes 1 and 2 are known empty once minute 3 has a point"
    );
    let out = testing::run(&mut r, &batch(&[(7 * MINUTE, &s, 4.0)]));
    assert_eq!(
        rows(out),
        [
            "s 3 t_count=1 t_sum=1 t_mean=1",
            "s 4 t_count=0 t_sum=0",
            "s 5 t_count=0 t_sum=0"
        ]
    );
    assert_eq!(testing::counters().get("empty_buckets_skipped"), Some(&1));
    assert_eq!(
        rows(tick(&mut r, i64::MAX)),
        ["s 7 t_count=1 t_sum=4 t_mean=4"],
        "nothing after the last bucket"
    );
}

#[test]
fn passthrough_forwards_the_points_it_keeps() {
    let s = Series::new("s");
    let mut r =
        resample(r#"{ "every": "1m", "fields": ["t"], "stats": ["max"], "passthrough": true }"#);
    let out = testing::run(
        &mut r,
        &batch(&[(0, &s, 2.0), (MINUTE, &s, 1.0), (SECOND, &s, 5.0)]),
    );
    assert_eq!(out.errors().len(), 1, "the late point is not forwarded");
    assert_eq!(rows(out), ["s 0 t=2", "s 1 t=1", "s 0 t_max=2"]);
}

#[test]
fn values_that_are_not_finite_numbers_count_as_missing() {
    let s = Series::new("s");
    let mut r = resample(
        r#"{ "every": "1m", "fields": ["t", "u"], "stats": ["count", "sum", "mean", "std"] }"#,
    );
    let mut builder = PointsBuilder::new();
    builder.point(0, &s).field("t", 2_i64).field("u", "text");
    builder.point(1, &s).field("t", 4.0).field("u", true);
    builder.point(2, &s).field("t", f64::NAN);
    builder
        .point(3, &s)
        .field("t", f64::INFINITY)
        .field("other", 1.0);
    builder.point(4, &s).field("t", "9");
    builder.point(MINUTE, &s).field("t", 0.0);
    let out = testing::run(&mut r, &testing::batch(builder.finish()));
    assert_eq!(
        rows(out),
        [format!(
            "s 0 t_count=2 t_sum=6 t_mean=3 t_std={} u_count=0 u_sum=0",
            2.0_f64.sqrt()
        )]
    );
}

#[test]
fn quantiles_of_an_overflowing_bucket_come_from_every_other_value() {
    let s = Series::new("s");
    let mut r = resample(
        r#"{ "every": "1m", "fields": ["t"], "stats": ["count", "mean", "max", "p50", "p100"], "max_bucket_points": 4 }"#,
    );
    let points: Vec<(i64, &Series, f64)> = (0..10).map(|i| (i, &s, i as f64)).collect();
    testing::run(&mut r, &batch(&points));
    let out = testing::run(&mut r, &batch(&[(MINUTE, &s, 0.0)]));
    // 0..=9 outgrow 4 values at the 5th: every 2nd is kept (0 2 4 6 8),
    // then every 4th (0 4 8); the exact statistics stay exact.
    assert_eq!(
        rows(out),
        ["s 0 t_count=10 t_mean=4.5 t_max=9 t_p50=4 t_p100=8"]
    );
    assert_eq!(testing::counters().get("bucket_overflow"), Some(&1));
}

#[test]
fn timestamps_at_the_limits_neither_panic_nor_loop() {
    let s = Series::new("s");
    // A gap of 2^63 one-nanosecond buckets: 3 emitted, the rest counted.
    let mut r = resample(
        r#"{ "every": "1ns", "fields": ["t"], "stats": ["count"], "empty_buckets": "emit", "max_empty_buckets": 3, "allowed_lateness": "10ns" }"#,
    );
    let (low, high) = (i64::MIN / 2, i64::MAX / 2);
    let out = testing::run(
        &mut r,
        &batch(&[
            (low, &s, 1.0),
            (high, &s, 1.0),
            (0, &s, 1.0),
            (i64::MIN, &s, 1.0),
        ]),
    );
    assert_eq!(out.errors().len(), 2, "0 and i64::MIN are late");
    assert_eq!(
        out.into_points().timestamps,
        [low, low + 1, low + 2, low + 3]
    );
    let skipped = u64::try_from(high - 10 - (low + 4)).unwrap();
    assert_eq!(
        testing::counters().get("empty_buckets_skipped"),
        Some(&skipped)
    );
    assert_eq!(tick(&mut r, i64::MAX).into_points().timestamps, [high]);

    let mut r = resample(
        r#"{ "every": "1d", "fields": ["t"], "stats": ["count"], "empty_buckets": "emit", "max_empty_buckets": 2 }"#,
    );
    let out = testing::run(
        &mut r,
        &batch(&[
            (i64::MIN, &s, 1.0),
            (i64::MIN + DAY, &s, 1.0),
            (i64::MAX, &s, 1.0),
        ]),
    );
    let errors = out.errors().to_vec();
    let first = (i64::MIN.div_euclid(DAY) + 1) * DAY;
    assert_eq!(
        out.into_points().timestamps,
        [first, first + DAY, first + 2 * DAY]
    );
    assert!(
        matches!(&errors[..], [ItemError::Point { index: 0, reason }] if reason.starts_with("out of range")),
        "{errors:?}"
    );
    assert_eq!(testing::counters().get("out_of_range"), Some(&1));
    assert_eq!(
        tick(&mut r, i64::MIN).point_count(),
        0,
        "a clock before the last point closes nothing"
    );
    let out = tick(&mut r, i64::MAX);
    assert_eq!(
        out.into_points().timestamps,
        [i64::MAX.div_euclid(DAY) * DAY]
    );
    let out = testing::run(&mut r, &batch(&[(i64::MAX, &s, 1.0)]));
    assert_eq!(out.errors().len(), 1, "the last day is closed");
}

#[test]
fn a_restart_at_any_point_changes_nothing() {
    let (a, b) = (Series::new("a"), Series::new("b").with_tag("k", "v"));
    let mut builder = PointsBuilder::new();
    for i in 0..90_i64 {
        let series = if i % 3 == 0 { &b } else { &a };
        let ts = if i % 17 == 5 {
            (i - 7) * 20 * SECOND
        } else {
            i * 20 * SECOND
        };
        let point = builder.point(ts, series).field("other", 1.0);
        if i % 7 != 0 {
            point.field("t", (i as f64).sin() * 10.0);
        }
    }
    let config = r#"{ "every": "1m", "fields": ["t"], "stats": ["mean", "std", "p90", "first", "last", "count"], "allowed_lateness": "20s", "empty_buckets": "emit", "max_bucket_points": 2 }"#;
    testing::assert_resumes_exactly::<Resample>(config, &builder.finish());
}

#[test]
fn a_tick_after_a_restart_flushes_the_same_buckets() {
    let s = Series::new("s");
    let config = r#"{ "every": "1h", "fields": ["t"], "stats": ["count", "p50"] }"#;
    let mut first = resample(config);
    set_wall(500 * HOUR);
    testing::run(&mut first, &batch(&[(0, &s, 1.0), (MINUTE, &s, 2.0)]));
    let mut second = resample(config);
    second.restore(&first.snapshot()).unwrap();
    assert_eq!(tick(&mut second, 501 * HOUR - 1).point_count(), 0);
    let out = tick(&mut second, 501 * HOUR);
    assert_eq!(rows(out), ["s 0 t_count=2 t_p50=1.5"]);
    let out = testing::run(&mut second, &batch(&[(2 * MINUTE, &s, 1.0)]));
    assert_eq!(out.errors().len(), 1, "the flushed hour is closed");
}

#[test]
fn a_snapshot_of_other_buckets_is_ignored() {
    let s = Series::new("s");
    let mut hourly = resample(r#"{ "every": "1h", "fields": ["t"], "stats": ["count"] }"#);
    testing::run(&mut hourly, &batch(&[(0, &s, 1.0), (HOUR, &s, 1.0)]));
    let mut daily = resample(r#"{ "every": "1d", "fields": ["t"], "stats": ["count"] }"#);
    daily.restore(&hourly.snapshot()).unwrap();
    let out = testing::run(&mut daily, &batch(&[(MINUTE, &s, 1.0), (DAY, &s, 1.0)]));
    assert_eq!(
        rows(out),
        ["s 0 t_count=1"],
        "nothing carried over, nothing late"
    );
    assert!(daily.restore(b"{").is_err());
}

#[test]
fn config_errors_are_all_reported() {
    let error = testing::config_error::<Resample>(
        r#"{ "every": "0s", "fields": [], "stats": ["mean", "p101", "median", "mean"], "max_bucket_points": 0, "flush_after": "0s", "empty_buckets": "emit" }"#,
    );
    for part in [
        "resample: every must be longer than 0",
        "`fields` is empty",
        "stats[1]: \"p101\" is not",
        "stats[2]: \"median\" is not",
        "stats[3]: mean is listed twice",
        "max_bucket_points must be positive",
        "flush_after must be longer than 0",
        "empty_buckets: emit needs count or sum",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }
    let error = testing::config_error::<Resample>(
        r#"{ "every": "1s", "fields": ["t", ""], "allowed_lateness": "3h" }"#,
    );
    for part in [
        "fields[1] is empty",
        "allowed_lateness may be at most 10000",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }
    for config in [
        r#"{ "fields": ["t"] }"#,
        r#"{ "every": "1h" }"#,
        r#"{ "every": "1h", "fields": ["t"], "window": 3 }"#,
        r#"{ "every": "1h", "fields": ["t"], "empty_buckets": "fill" }"#,
    ] {
        testing::config_error::<Resample>(config);
    }
    testing::plugin::<Resample>(
        r#"{ "every": "1s", "fields": ["t"], "stats": ["p99.9", "p0", "std"], "allowed_lateness": "2h 46m 40s" }"#,
    );
}
