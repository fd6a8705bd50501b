//! What a plugin writes during one call.

use foghorn_model::{PointBuilder, PointsBuilder, Series, SeriesId};

use crate::Alert;

/// An input item the plugin rejected, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemError {
    /// Record `index` of the batch was rejected.
    Record {
        /// Its position in the batch.
        index: u32,
        /// Why.
        reason: String,
    },
    /// Point `index` of the batch was rejected.
    Point {
        /// Its position in the batch.
        index: u32,
        /// Why.
        reason: String,
    },
}

/// Points, alerts and rejected items produced by one call.
#[derive(Debug, Default)]
pub struct Output {
    pub(crate) points: PointsBuilder,
    pub(crate) alerts: Vec<Alert>,
    pub(crate) errors: Vec<ItemError>,
}

impl Output {
    /// An empty output expecting about `points` points.
    pub fn with_capacity(points: usize) -> Self {
        Self {
            points: PointsBuilder::with_capacity(points),
            ..Self::default()
        }
    }

    /// Emit a point of `series` at `timestamp`; chain `.field(name, value)`.
    pub fn point(&mut self, timestamp: i64, series: &Series) -> PointBuilder<'_> {
        self.points.point(timestamp, series)
    }

    /// `series` interned for this call's output, for [`Output::point_of`]
    /// in a hot loop (no comparison of the series per point).
    pub fn series_id(&mut self, series: &Series) -> SeriesId {
        self.points.series_id(series)
    }

    /// Emit a point of a series interned with [`Output::series_id`]; set
    /// fields with `.field(name, value)`, or `.field_id` once and `.at(id,
    /// value)` after, to skip the name lookups.
    #[inline]
    pub fn point_of(&mut self, timestamp: i64, series: SeriesId) -> PointBuilder<'_> {
        self.points.point_of(timestamp, series)
    }

    /// Pass every point of `points` through, fields and all, returning the
    /// output index of the first; add fields to them with
    /// [`Output::row`]. Into an empty output the columns are copied whole,
    /// with no work per point: the fast path of a plugin whose output is its
    /// input plus a column or two.
    pub fn pass_through(&mut self, points: &foghorn_model::Points) -> usize {
        self.points.pass_through(points)
    }

    /// Output point `index`, to add fields to it (rows in increasing
    /// order); `None` past the last point.
    #[inline]
    pub fn row(&mut self, index: usize) -> Option<PointBuilder<'_>> {
        self.points.row(index)
    }

    /// Pass a point through unchanged.
    pub fn forward(&mut self, point: foghorn_model::PointRef<'_>) {
        self.points.push(point);
    }

    /// Raise an alert.
    pub fn alert(&mut self, alert: Alert) {
        self.alerts.push(alert);
    }

    /// Reject record `index` of the batch; the agent writes it, with
    /// `reason`, to the processor's error log.
    pub fn reject_record(&mut self, index: usize, reason: impl Into<String>) {
        self.errors.push(ItemError::Record {
            index: to_u32(index),
            reason: reason.into(),
        });
    }

    /// Reject point `index` of the batch.
    pub fn reject_point(&mut self, index: usize, reason: impl Into<String>) {
        self.errors.push(ItemError::Point {
            index: to_u32(index),
            reason: reason.into(),
        });
    }

    /// Alerts raised so far.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// Items rejected so far.
    pub fn errors(&self) -> &[ItemError] {
        &self.errors
    }

    /// Number of points emitted so far.
    pub fn point_count(&self) -> usize {
        self.points.len()
    }

    /// Finish, returning the points emitted (for tests of plugin logic).
    pub fn into_points(self) -> foghorn_model::Points {
        self.points.finish()
    }
}

fn to_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}
