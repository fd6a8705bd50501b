//! Moves between the pipeline's columnar batches and the generated WIT types.
//! Vectors change hands; only a batch still shared with another consumer is
//! copied, and then as whole buffers.

use std::sync::Arc;

use super::bindings::types as wit;
use super::check::{InputSize, check_output};
use super::output::{PluginOutput, RejectedItem};
use crate::event::{
    Alert, AlertState, Column, ColumnData, Points, Records, Series, Severity, SharedBatch,
    TextColumn,
};

/// The WIT form of a batch: moved out when this is the only reference to it,
/// copied buffer by buffer otherwise.
pub fn batch_to_wit(batch: SharedBatch) -> wit::Batch {
    let (records, points) = match Arc::try_unwrap(batch) {
        Ok(batch) => (batch.records, batch.points),
        Err(shared) => (shared.records.clone(), shared.points.clone()),
    };
    wit::Batch {
        records: records_to_wit(records),
        points: points_to_wit(points),
    }
}

/// Back from the WIT form, after a call, to look up rejected items.
pub fn batch_from_wit(batch: wit::Batch) -> (Records, Points) {
    let r = batch.records;
    (
        Records {
            data: r.data,
            ends: r.ends,
            timestamps: r.timestamps,
        },
        points_from_wit(batch.points),
    )
}

fn records_to_wit(records: Records) -> wit::Records {
    wit::Records {
        data: records.data,
        ends: records.ends,
        timestamps: records.timestamps,
    }
}

fn points_to_wit(points: Points) -> wit::Points {
    foghorn_model::move_points!(points, ColumnData
        => wit::Points, wit::Series, wit::Column, wit::ColumnData, wit::TextColumn)
}

fn points_from_wit(points: wit::Points) -> Points {
    foghorn_model::move_points!(points, wit::ColumnData
        => Points, Series, Column, ColumnData, TextColumn)
}

/// The pipeline form of a plugin's output, checked against the input it was
/// given ([`check_output`]). Alerts are stamped with the processor and plugin
/// that raised them.
///
/// # Errors
/// What is wrong with the output: the plugin broke its contract.
pub fn output_from_wit(
    output: wit::Output,
    component: &Arc<str>,
    plugin: &Arc<str>,
    input: InputSize,
) -> Result<PluginOutput, String> {
    let output = convert_output(output, component, plugin);
    check_output(&output, input)?;
    Ok(output)
}

fn convert_output(output: wit::Output, component: &Arc<str>, plugin: &Arc<str>) -> PluginOutput {
    let alerts = output
        .alerts
        .into_iter()
        .map(|a| {
            let raised = foghorn_model::Alert {
                timestamp: a.timestamp,
                kind: a.kind,
                severity: match a.severity {
                    wit::Severity::Info => Severity::Info,
                    wit::Severity::Warning => Severity::Warning,
                    wit::Severity::Critical => Severity::Critical,
                },
                state: match a.state {
                    wit::AlertState::Firing => AlertState::Firing,
                    wit::AlertState::Resolved => AlertState::Resolved,
                },
                series: Series {
                    name: a.series.name,
                    tags: a.series.tags,
                },
                labels: a.labels,
                value: a.value,
                score: a.score,
                description: a.description,
            };
            Alert::new(raised, Arc::clone(component), Arc::clone(plugin))
        })
        .collect();
    let rejected = output
        .errors
        .into_iter()
        .map(|e| match e.item {
            wit::Item::Record(index) => RejectedItem::Record {
                index: index as usize,
                reason: e.reason,
            },
            wit::Item::Point(index) => RejectedItem::Point {
                index: index as usize,
                reason: e.reason,
            },
        })
        .collect();
    PluginOutput {
        points: points_from_wit(output.points),
        alerts,
        rejected,
    }
}
