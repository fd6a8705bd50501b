//! Reading the cells of one row into typed field values, tag values and a
//! time, into buffers reused from row to row: no allocation unless the row
//! is rejected.
//!
//! The hot pass walks only the columns that matter, one loop per field
//! type (so no loop dispatches on a type), and says no more than whether
//! the row is good; a bad row is walked again, in column order, by
//! [`explain`], which finds the first problem and words it. Kept apart, the
//! hot pass compiles to small code with few spills, which matters most in
//! WebAssembly.

use foghorn_plugin::Value;
use foghorn_plugin::number;
use foghorn_plugin::typed::{FieldType, quote};

use crate::config::{NonFinite, Settings};
use crate::plan::{Plan, Role};
use crate::split::Cells;

/// The value of an `auto` field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Auto {
    Absent,
    Float(f64),
    /// A span of the cells' text.
    Text(usize, usize),
}

/// The current row: each field's value (`None` for a null cell), by type,
/// in the order of the plan's groups.
#[derive(Debug, Default)]
pub(crate) struct Row {
    pub floats: Vec<Option<f64>>,
    pub ints: Vec<Option<i64>>,
    pub bools: Vec<Option<bool>>,
    /// Spans of the cells' text.
    pub strings: Vec<Option<(usize, usize)>>,
    pub autos: Vec<Auto>,
    /// Each tag column's value, as a span of the cells' text (empty for
    /// none).
    pub tags: Vec<(usize, usize)>,
}

impl Row {
    pub(crate) fn new(plan: &Plan) -> Self {
        Self {
            floats: vec![None; plan.floats.len()],
            ints: vec![None; plan.ints.len()],
            bools: vec![None; plan.bools.len()],
            strings: vec![None; plan.strings.len()],
            autos: vec![Auto::Absent; plan.autos.len()],
            tags: vec![(0, 0); plan.tags.len()],
        }
    }

    /// Read `cells` by `plan`; the row's time, if it has a timestamp
    /// column, or why the row is rejected.
    #[inline]
    pub(crate) fn read(
        &mut self,
        settings: &Settings,
        plan: &Plan,
        cells: &Cells<'_>,
    ) -> Result<Option<i64>, String> {
        self.fill(settings, plan, cells)
            .ok_or_else(|| explain(settings, plan, cells))
    }

    /// The hot pass: the row's time (if it has a timestamp column), or
    /// `None` if anything is wrong with it.
    #[inline]
    fn fill(&mut self, settings: &Settings, plan: &Plan, cells: &Cells<'_>) -> Option<Option<i64>> {
        if cells.len() != plan.roles.len() {
            return None;
        }
        let trim = settings.config.trim;
        let keep_non_finite = settings.config.non_finite == NonFinite::Keep;
        let text = |column: usize| cells.text_of(span(cells, column, trim));
        for (value, &column) in self.floats.iter_mut().zip(&plan.floats.columns) {
            let text = text(column);
            *value = if settings.is_null(text) {
                None
            } else {
                Some(finite(number::parse_f64(text)?, keep_non_finite)?)
            };
        }
        for (value, &column) in self.ints.iter_mut().zip(&plan.ints.columns) {
            let text = text(column);
            *value = if settings.is_null(text) {
                None
            } else {
                Some(int(text)?)
            };
        }
        for (value, &column) in self.bools.iter_mut().zip(&plan.bools.columns) {
            let text = text(column);
            *value = if settings.is_null(text) {
                None
            } else {
                Some(boolean(text)?)
            };
        }
        for (value, &column) in self.strings.iter_mut().zip(&plan.strings.columns) {
            let span = span(cells, column, trim);
            *value = (!settings.is_null(cells.text_of(span))).then_some(span);
        }
        for (value, &column) in self.autos.iter_mut().zip(&plan.autos.columns) {
            let span = span(cells, column, trim);
            let text = cells.text_of(span);
            *value = if settings.is_null(text) {
                Auto::Absent
            } else {
                match FieldType::Auto.parse(text)? {
                    Value::Float(v) => Auto::Float(finite(v, keep_non_finite)?),
                    _ => Auto::Text(span.0, span.1),
                }
            };
        }
        for (value, &column) in self.tags.iter_mut().zip(&plan.tags.columns) {
            let span = span(cells, column, trim);
            *value = if settings.is_null(cells.text_of(span)) {
                (0, 0)
            } else {
                span
            };
        }
        for &column in &plan.required_columns {
            if settings.is_null(text(column)) {
                return None;
            }
        }
        match &plan.timestamp {
            Some((column, format)) => {
                let text = text(*column);
                if settings.is_null(text) {
                    return None;
                }
                format.parse(text).ok().map(Some)
            }
            None => Some(None),
        }
    }
}

/// `value`, unless it is not finite and such values are not kept.
#[inline(always)]
fn finite(value: f64, keep_non_finite: bool) -> Option<f64> {
    (value.is_finite() || keep_non_finite).then_some(value)
}

/// `text` as an int, as `FieldType::Int` reads it.
#[inline(always)]
fn int(text: &str) -> Option<i64> {
    foghorn_plugin::number::parse_i64(text)
}

/// `text` as a bool, as `FieldType::Bool` reads it.
#[inline(always)]
fn boolean(text: &str) -> Option<bool> {
    match FieldType::Bool.parse(text)? {
        Value::Bool(value) => Some(value),
        _ => None,
    }
}

/// The span of cell `column`, trimmed when `trim`.
#[inline(always)]
fn span(cells: &Cells<'_>, column: usize, trim: bool) -> (usize, usize) {
    let span = cells.spans.get(column).copied().unwrap_or_default();
    if trim {
        trimmed(cells.text.as_bytes(), span)
    } else {
        span
    }
}

/// Why a row the hot pass refused is rejected: its first problem, in
/// column order.
#[cold]
#[inline(never)]
fn explain(settings: &Settings, plan: &Plan, cells: &Cells<'_>) -> String {
    if cells.len() != plan.roles.len() {
        let of = if settings.config.header {
            "the header"
        } else {
            "`columns`"
        };
        return format!(
            "row has {} columns, {of} has {}",
            cells.len(),
            plan.roles.len()
        );
    }
    let trim = settings.config.trim;
    let keep_non_finite = settings.config.non_finite == NonFinite::Keep;
    for (index, role) in plan.roles.iter().enumerate() {
        let text = cells.text_of(span(cells, index, trim));
        let name = &plan.names[index];
        if settings.is_null(text) {
            if plan.required[index] {
                return format!("missing required column {name}");
            }
            if *role == Role::Timestamp {
                return format!("missing timestamp column {name}");
            }
            continue;
        }
        match *role {
            Role::Field(ty) => match ty.parse(text) {
                None => {
                    return format!("column {name}: {} is not {}", quote(text), ty.described());
                }
                Some(Value::Float(v)) if finite(v, keep_non_finite).is_none() => {
                    return format!(
                        "column {name}: {} is not a finite number (non_finite: keep accepts it)",
                        quote(text)
                    );
                }
                Some(_) => {}
            },
            Role::Timestamp => {
                if let Some((_, format)) = &plan.timestamp
                    && let Err(e) = format.parse(text)
                {
                    return format!("column {name}: {e}");
                }
            }
            Role::Tag | Role::Skip => {}
        }
    }
    "unreadable row".to_owned()
}

/// `span` of `bytes` without ASCII whitespace at either end.
#[inline(always)]
pub(crate) fn trimmed(bytes: &[u8], (mut start, mut end): (usize, usize)) -> (usize, usize) {
    // Most cells need nothing: ASCII whitespace is at most b' '.
    let blank = |at: usize| {
        bytes
            .get(at)
            .is_some_and(|b| *b <= b' ' && b.is_ascii_whitespace())
    };
    while start < end && blank(start) {
        start += 1;
    }
    while end > start && blank(end - 1) {
        end -= 1;
    }
    (start, end)
}
