//! Helpers for testing a plugin natively, without the agent: build it from
//! the JSON its pipeline would give it, and make batches.
//!
//! ```
//! use foghorn_plugin::prelude::*;
//! use foghorn_plugin::testing;
//!
//! # #[derive(Deserialize)] struct Config { max: f64 }
//! # struct Max { max: f64 }
//! # impl Processor for Max {
//! #     type Config = Config;
//! #     fn new(c: Config) -> Result<Self, String> { if c.max > 0.0 { Ok(Self { max: c.max }) } else { Err("max must be positive".into()) } }
//! #     fn process(&mut self, batch: &Batch, out: &mut Output) {
//! #         for p in batch.points.iter() {
//! #             if p.number("t").is_some_and(|v| v > self.max) {
//! #                 out.alert(Alert::firing("max", Severity::Warning, p.series(), p.timestamp(), "over"));
//! #             }
//! #         }
//! #     }
//! # }
//! let mut plugin: Max = testing::from_json(r#"{"max": 80}"#).unwrap();
//! let device = Series::new("dev");
//! let mut out = Output::default();
//! plugin.process(&testing::points(&[(1, &device, "t", 90.0)]), &mut out);
//! assert_eq!(out.alerts().len(), 1);
//! assert_eq!(testing::from_json::<Max>(r#"{"max": -1}"#).err().unwrap(), "max must be positive");
//! ```

use foghorn_model::{PointsBuilder, Records, Series};

use crate::{Batch, Output, Processor};

/// The plugin counters ([`crate::host::counter_add`]) this thread's plugin
/// code has added to so far.
#[cfg(not(target_arch = "wasm32"))]
pub fn counters() -> std::collections::BTreeMap<String, u64> {
    crate::host::native::COUNTERS.with_borrow(Clone::clone)
}

/// Build a plugin from its config as JSON text, as the agent does: a config
/// that does not deserialize or that the plugin rejects is an `Err` with the
/// message the user would see.
///
/// # Errors
/// The deserialization error or the plugin's own.
pub fn from_json<P: Processor>(config: &str) -> Result<P, String> {
    let config: P::Config = serde_json::from_str(config).map_err(|e| e.to_string())?;
    P::new(config)
}

/// Build a plugin from its config as JSON text, for a test that expects the
/// config to be valid.
///
/// # Panics
/// When the config is rejected, with the message.
pub fn plugin<P: Processor>(config: &str) -> P {
    from_json(config).unwrap_or_else(|message| panic!("config rejected: {message}\n{config}"))
}

/// The message a plugin rejects `config` with, for a test that expects it
/// to be invalid.
///
/// # Panics
/// When the config is accepted.
pub fn config_error<P: Processor>(config: &str) -> String {
    match from_json::<P>(config) {
        Ok(_) => panic!("config must be rejected: {config}"),
        Err(message) => message,
    }
}

/// Run `plugin` on `batch`; what it wrote.
pub fn run<P: Processor>(plugin: &mut P, batch: &Batch) -> Output {
    let mut out = Output::default();
    plugin.process(batch, &mut out);
    out
}

/// A batch of points with one numeric field each: `(timestamp, series,
/// field, value)`.
pub fn points(points: &[(i64, &Series, &str, f64)]) -> Batch {
    let mut builder = PointsBuilder::new();
    for &(timestamp, series, field, value) in points {
        builder.point(timestamp, series).field(field, value);
    }
    Batch {
        points: builder.finish(),
        ..Batch::default()
    }
}

/// A batch of `points` (from a [`PointsBuilder`]).
pub fn batch(points: foghorn_model::Points) -> Batch {
    Batch {
        points,
        ..Batch::default()
    }
}

/// A batch of raw records: `(receive timestamp, line)`.
pub fn records(lines: &[(i64, &str)]) -> Batch {
    let mut records = Records::default();
    for &(timestamp, line) in lines {
        records.push(timestamp, line.as_bytes());
    }
    Batch {
        records,
        ..Batch::default()
    }
}

/// One call's output as comparable text, alerts, then points, then rejects
/// (the order [`assert_resumes_exactly`] sorts into): each point as `series timestamp
/// field=value,…` (fields in name order, since column order depends on
/// batching), each alert, and each rejected item with its position shifted
/// by `offset` (the index of the call's first item in the whole input).
pub fn rendered(out: Output, offset: usize) -> Vec<String> {
    let rejects: Vec<String> = out
        .errors()
        .iter()
        .map(|error| match error {
            crate::ItemError::Record { index, reason } => {
                format!("reject record {}: {reason}", offset + *index as usize)
            }
            crate::ItemError::Point { index, reason } => {
                format!("reject point {}: {reason}", offset + *index as usize)
            }
        })
        .collect();
    let mut lines: Vec<String> = out
        .alerts()
        .iter()
        .map(|alert| format!("alert {alert:?}"))
        .collect();
    lines.extend(out.into_points().iter().map(|point| {
        let mut fields: Vec<String> = point
            .fields()
            .map(|(name, value)| format!("{name}={value:?}"))
            .collect();
        fields.sort();
        format!(
            "point {} {} {}",
            point.series(),
            point.timestamp(),
            fields.join(",")
        )
    }));
    lines.extend(rejects);
    lines
}

/// Points `range` of `points` as a batch of their own.
fn slice(points: &foghorn_model::Points, range: std::ops::Range<usize>) -> Batch {
    let mut builder = PointsBuilder::new();
    for index in range {
        builder.push(points.get(index).expect("index within the points"));
    }
    batch(builder.finish())
}

/// Assert that a restart anywhere changes nothing: for every cut of
/// `points`, a plugin that processed the points before the cut, was
/// snapshotted, and whose snapshot was restored into a fresh instance that
/// processed the rest, emits exactly what one instance processing all of
/// them emits (points, alerts and rejects, in order).
///
/// # Panics
/// At the first cut whose output differs, with both.
pub fn assert_resumes_exactly<P: Processor>(config: &str, points: &foghorn_model::Points) {
    let whole = rendered(
        run(&mut plugin::<P>(config), &slice(points, 0..points.len())),
        0,
    );
    for cut in 1..points.len() {
        let mut first = plugin::<P>(config);
        let mut got = rendered(run(&mut first, &slice(points, 0..cut)), 0);
        let mut second = plugin::<P>(config);
        second
            .restore(&first.snapshot())
            .unwrap_or_else(|e| panic!("restore after {cut} points failed: {e}"));
        got.extend(rendered(
            run(&mut second, &slice(points, cut..points.len())),
            cut,
        ));
        // Rejects, alerts and points each in order, as in one call.
        got.sort_by_key(|line| line.split(' ').next().map(str::to_owned));
        if got != whole {
            let at = got.iter().zip(&whole).position(|(a, b)| a != b);
            let at = at.unwrap_or(got.len().min(whole.len()));
            panic!(
                "a restart after {cut} of {} points changed output line {at}:\n  with the restart: {:?}\n  without:          {:?}",
                points.len(),
                got.get(at),
                whole.get(at)
            );
        }
    }
}
