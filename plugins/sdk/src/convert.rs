//! Moves between the generated WIT types and the model: vectors change
//! hands, values are not copied one by one ([`foghorn_model::move_points!`]).

use foghorn_model::{Column, ColumnData, Points, Records, Series, TextColumn};

use crate::bindings::foghorn::plugin::types as wit;
use crate::{Alert, AlertState, Batch, ItemError, Output, Severity};

pub(crate) fn batch_from_wit(batch: wit::Batch) -> Batch {
    Batch {
        records: Records {
            data: batch.records.data,
            ends: batch.records.ends,
            timestamps: batch.records.timestamps,
        },
        points: points_from_wit(batch.points),
    }
}

fn points_from_wit(points: wit::Points) -> Points {
    foghorn_model::move_points!(points, wit::ColumnData
        => Points, Series, Column, ColumnData, TextColumn)
}

fn series_to_wit(series: Series) -> wit::Series {
    wit::Series {
        name: series.name,
        tags: series.tags,
    }
}

fn points_to_wit(points: Points) -> wit::Points {
    foghorn_model::move_points!(points, ColumnData
        => wit::Points, wit::Series, wit::Column, wit::ColumnData, wit::TextColumn)
}

fn alert_to_wit(alert: Alert) -> wit::Alert {
    wit::Alert {
        timestamp: alert.timestamp,
        kind: alert.kind,
        severity: match alert.severity {
            Severity::Info => wit::Severity::Info,
            Severity::Warning => wit::Severity::Warning,
            Severity::Critical => wit::Severity::Critical,
        },
        state: match alert.state {
            AlertState::Firing => wit::AlertState::Firing,
            AlertState::Resolved => wit::AlertState::Resolved,
        },
        series: series_to_wit(alert.series),
        labels: alert.labels,
        value: alert.value,
        score: alert.score,
        description: alert.description,
    }
}

pub(crate) fn output_to_wit(output: Output) -> wit::Output {
    wit::Output {
        points: points_to_wit(output.points.finish()),
        alerts: output.alerts.into_iter().map(alert_to_wit).collect(),
        errors: output
            .errors
            .into_iter()
            .map(|e| match e {
                ItemError::Record { index, reason } => wit::ItemError {
                    item: wit::Item::Record(index),
                    reason,
                },
                ItemError::Point { index, reason } => wit::ItemError {
                    item: wit::Item::Point(index),
                    reason,
                },
            })
            .collect(),
    }
}
