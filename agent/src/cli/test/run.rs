//! Running one case: its input through its processors, everything they
//! produce collected.

use std::sync::Arc;

use super::cases::{Case, FieldValue, Line, PointSpec, Time};
use crate::event::{Alert, Batch, Points, PointsBuilder, Records, Series};
use crate::processors::wasm::{InputSize, RejectedItem, batch_to_wit, output_from_wit};
use crate::topology::LoneProcessor;

/// When the first line of a case is received unless it says otherwise.
const DEFAULT_START: i64 = 1_767_225_600_000_000_000; // 2026-01-01T00:00:00Z

/// What a case's processors produced.
#[derive(Debug, Default)]
pub struct Produced {
    /// The points of the last processor.
    pub points: Points,
    /// The alerts of every processor, in the order they were raised.
    pub alerts: Vec<Alert>,
    /// The items rejected, with the processor that rejected them.
    pub rejects: Vec<(Arc<str>, RejectedItem)>,
}

/// Nanoseconds since the epoch.
///
/// # Errors
/// Text that is not RFC 3339.
pub fn nanos(time: &Time) -> Result<i64, String> {
    match time {
        Time::Nanos(nanos) => Ok(*nanos),
        Time::Text(text) if text.parse::<i64>().is_ok() => Ok(text.parse().unwrap_or_default()),
        Time::Text(text) => {
            let parsed =
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .map_err(|e| format!("`{text}` is not an RFC 3339 time: {e}"))?;
            i64::try_from(parsed.unix_timestamp_nanos())
                .map_err(|_| format!("`{text}` is out of range"))
        }
    }
}

/// The series of a point in the file.
pub fn series_of(spec: &PointSpec) -> Series {
    let mut series = Series::new(spec.series.clone());
    for (key, value) in &spec.tags {
        series.set_tag(key.clone(), value.clone());
    }
    series
}

/// The batch a case's input is.
///
/// # Errors
/// A time that cannot be read.
pub fn input_batch(case: &Case) -> Result<Batch, String> {
    let start = case.input.start.as_ref().map_or(Ok(DEFAULT_START), nanos)?;
    let mut records = Records::default();
    for (i, line) in case.input.lines.iter().enumerate() {
        let (text, at) = match line {
            Line::Text(text) => (
                text,
                start + i64::try_from(i).unwrap_or(i64::MAX) * 1_000_000_000,
            ),
            Line::Timed { line, timestamp } => (line, nanos(timestamp)?),
        };
        records.push(at, text.as_bytes());
    }
    let mut points = PointsBuilder::new();
    for spec in &case.input.points {
        let mut point = points.point(nanos(&spec.timestamp)?, &series_of(spec));
        for (name, value) in &spec.fields {
            point = match value {
                FieldValue::Bool(v) => point.field(name, *v),
                FieldValue::Int(v) => point.field(name, *v as f64),
                FieldValue::Float(v) => point.field(name, *v),
                FieldValue::Text(v) => point.field(name, v.as_str()),
            };
        }
    }
    Ok(Batch {
        records,
        points: points.finish(),
        ..Batch::default()
    })
}

/// Run `case` through `stages` (fresh instances): the input into the first,
/// each one's points into the next, then the ticks.
///
/// # Errors
/// A plugin that fails (traps, times out, breaks the contract).
pub fn run(case: &Case, stages: &mut [LoneProcessor]) -> Result<Produced, String> {
    for stage in stages.iter_mut() {
        stage
            .instance
            .reinstantiate(None)
            .map_err(|e| format!("{}: {e}", stage.name))?;
    }
    let mut produced = Produced::default();
    let batch = input_batch(case)?;
    feed(stages, batch, &mut produced)?;
    for tick in &case.ticks {
        let now = nanos(tick)?;
        for k in 0..stages.len() {
            let stage = &mut stages[k];
            let output = stage
                .instance
                .tick(now)
                .map_err(|e| format!("{}: {e}", stage.name))?;
            let output = output_from_wit(output, &stage.name, &stage.plugin, InputSize::default())
                .map_err(|e| format!("{}: invalid output of tick: {e}", stage.name))?;
            produced.alerts.extend(output.alerts);
            let batch = Batch {
                points: output.points,
                ..Batch::default()
            };
            feed(&mut stages[k + 1..], batch, &mut produced)?;
        }
    }
    Ok(produced)
}

/// `batch` into the first of `stages`, its points on to the rest; the last
/// one's points are the case's.
fn feed(stages: &mut [LoneProcessor], batch: Batch, produced: &mut Produced) -> Result<(), String> {
    let Some((stage, rest)) = stages.split_first_mut() else {
        append(&mut produced.points, &batch.points);
        return Ok(());
    };
    if batch.records.is_empty() && batch.points.is_empty() {
        return Ok(());
    }
    let size = InputSize {
        records: batch.records.len(),
        points: batch.points.len(),
    };
    let output = stage
        .instance
        .process(&batch_to_wit(Arc::new(batch)))
        .map_err(|e| format!("{}: {e}", stage.name))?;
    let output = output_from_wit(output, &stage.name, &stage.plugin, size)
        .map_err(|e| format!("{}: invalid output: {e}", stage.name))?;
    produced.alerts.extend(output.alerts);
    produced.rejects.extend(
        output
            .rejected
            .into_iter()
            .map(|item| (Arc::clone(&stage.name), item)),
    );
    let next = Batch {
        points: output.points,
        ..Batch::default()
    };
    feed(rest, next, produced)
}

fn append(into: &mut Points, points: &Points) {
    if into.is_empty() {
        *into = points.clone();
        return;
    }
    let mut builder = PointsBuilder::new();
    for point in into.iter().chain(points.iter()) {
        builder.push(point);
    }
    *into = builder.finish();
}
