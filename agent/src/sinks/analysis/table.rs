//! The rows an analysis holds: one column of cells per configured column,
//! in arrival order, the oldest dropped past `max_rows`.

use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::event::{PointRef, Value};

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// The point had no such tag or field.
    Missing,
    /// A float field.
    Float(f64),
    /// An integer field.
    Int(i64),
    /// A boolean field.
    Bool(bool),
    /// A tag or a text field.
    Text(Arc<str>),
}

impl Cell {
    /// The cell as a number, if it is one.
    pub fn number(&self) -> Option<f64> {
        match self {
            Self::Float(v) => Some(*v),
            #[allow(
                clippy::cast_precision_loss,
                reason = "as pandas reads an int column as float"
            )]
            Self::Int(v) => Some(*v as f64),
            _ => None,
        }
    }

    /// The cell as JSON: a number, text, a boolean or `null`.
    pub fn json(&self) -> serde_json::Value {
        match self {
            Self::Missing => serde_json::Value::Null,
            Self::Float(v) => serde_json::Value::from(*v),
            Self::Int(v) => serde_json::Value::from(*v),
            Self::Bool(v) => serde_json::Value::from(*v),
            Self::Text(v) => serde_json::Value::from(&**v),
        }
    }

    /// The cell as text, for group keys and distinct values.
    pub fn text(&self) -> String {
        match self {
            Self::Missing => String::new(),
            Self::Text(v) => v.to_string(),
            other => other.json().to_string(),
        }
    }

    /// Hash the cell as [`Cell::same`] compares it.
    fn hash_into(&self, state: &mut impl Hasher) {
        match self {
            Self::Missing => 0u8.hash(state),
            Self::Float(v) => {
                1u8.hash(state);
                // 0.0 and -0.0 are equal.
                (v + 0.0).to_bits().hash(state);
            }
            Self::Int(v) => (2u8, v).hash(state),
            Self::Bool(v) => (3u8, v).hash(state),
            Self::Text(v) => (4u8, &**v).hash(state),
        }
    }

    /// Whether two cells hold the same value (floats compared as numbers).
    fn same(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Float(a), Self::Float(b)) => a == b,
            _ => self == other,
        }
    }
}

/// How a configured column is read from a point.
#[derive(Debug, Clone)]
enum Source {
    /// The point's time.
    Time,
    /// A tag of its series, else a field of that name.
    Named(String),
}

/// The rows held, column by column.
#[derive(Debug)]
pub struct Table {
    names: Vec<String>,
    sources: Vec<Source>,
    /// Each row's time, in nanoseconds.
    pub times: VecDeque<i64>,
    /// One column of cells per configured column (`timestamp` included,
    /// left `Missing`: the time is in `times`).
    pub cells: Vec<VecDeque<Cell>>,
    max_rows: usize,
    /// Rows dropped past `max_rows` since the start.
    pub evicted: u64,
    /// Each distinct text once, shared by the cells holding it.
    texts: HashSet<Arc<str>>,
}

impl Table {
    /// An empty table of `columns`, holding at most `max_rows` rows.
    pub fn new(columns: &[String], max_rows: usize) -> Self {
        Self {
            names: columns.to_vec(),
            sources: columns
                .iter()
                .map(|name| {
                    if name == "timestamp" {
                        Source::Time
                    } else {
                        Source::Named(name.clone())
                    }
                })
                .collect(),
            times: VecDeque::new(),
            cells: vec![VecDeque::new(); columns.len()],
            max_rows: max_rows.max(1),
            evicted: 0,
            texts: HashSet::new(),
        }
    }

    /// The configured columns.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// How many rows are held.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Whether column `index` is the time.
    pub fn is_time(&self, index: usize) -> bool {
        matches!(self.sources[index], Source::Time)
    }

    /// Add the row of `point`; returns how many old rows went to make room.
    pub fn push_point(&mut self, point: &PointRef<'_>) -> usize {
        let series = point.series();
        let row: Vec<Cell> = self
            .sources
            .iter()
            .map(|source| match source {
                Source::Time => Cell::Missing,
                Source::Named(name) => match series.tag(name) {
                    Some(tag) => Cell::Text(intern(&mut self.texts, tag)),
                    None => match point.field(name) {
                        None => Cell::Missing,
                        Some(Value::Float(v)) => Cell::Float(v),
                        Some(Value::Int(v)) => Cell::Int(v),
                        Some(Value::Bool(v)) => Cell::Bool(v),
                        Some(Value::Text(v)) => Cell::Text(intern(&mut self.texts, v)),
                    },
                },
            })
            .collect();
        self.push_interned(point.timestamp(), row)
    }

    /// Add a row of cells (one per column); returns how many old rows went.
    pub fn push(&mut self, time: i64, row: Vec<Cell>) -> usize {
        let row = row
            .into_iter()
            .map(|cell| match cell {
                Cell::Text(text) => Cell::Text(intern(&mut self.texts, &text)),
                other => other,
            })
            .collect();
        self.push_interned(time, row)
    }

    /// [`Table::push`] for cells whose texts are interned already.
    fn push_interned(&mut self, time: i64, row: Vec<Cell>) -> usize {
        self.times.push_back(time);
        for (column, cell) in self.cells.iter_mut().zip(row) {
            column.push_back(cell);
        }
        let mut evicted = 0;
        while self.times.len() > self.max_rows {
            self.times.pop_front();
            for column in &mut self.cells {
                column.pop_front();
            }
            evicted += 1;
        }
        if evicted > 0 {
            self.evicted += evicted as u64;
            // Let go of texts no cell holds any more, now and then.
            if self.texts.len() > 1024 && self.texts.len() > self.len() {
                self.texts.retain(|text| Arc::strong_count(text) > 1);
            }
        }
        evicted
    }

    /// Row `row`'s cells.
    pub fn row(&self, row: usize) -> impl Iterator<Item = &Cell> {
        self.cells.iter().map(move |column| &column[row])
    }

    /// Whether row `row` lacks a value in a column.
    pub fn has_missing(&self, row: usize) -> bool {
        self.cells
            .iter()
            .enumerate()
            .any(|(index, column)| !self.is_time(index) && column[row] == Cell::Missing)
    }

    /// A hash of row `row` (its time and cells) for finding duplicates.
    pub fn row_hash(&self, row: usize) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.times[row].hash(&mut hasher);
        for cell in self.row(row) {
            cell.hash_into(&mut hasher);
        }
        hasher.finish()
    }

    /// Whether rows `a` and `b` are equal in time and every cell.
    pub fn same_rows(&self, a: usize, b: usize) -> bool {
        self.times[a] == self.times[b] && self.row(a).zip(self.row(b)).all(|(x, y)| x.same(y))
    }
}

fn intern(texts: &mut HashSet<Arc<str>>, text: &str) -> Arc<str> {
    if let Some(shared) = texts.get(text) {
        return Arc::clone(shared);
    }
    let shared: Arc<str> = Arc::from(text);
    texts.insert(Arc::clone(&shared));
    shared
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(max: usize) -> Table {
        Table::new(
            &[
                "timestamp".to_owned(),
                "device".to_owned(),
                "cpu".to_owned(),
            ],
            max,
        )
    }

    fn text(s: &str) -> Cell {
        Cell::Text(Arc::from(s))
    }

    #[test]
    fn holds_at_most_max_rows_and_counts_the_rest() {
        let mut t = table(2);
        for i in 0..5 {
            t.push(i, vec![Cell::Missing, text("a"), Cell::Float(i as f64)]);
        }
        assert_eq!(t.len(), 2);
        assert_eq!(t.evicted, 3);
        assert_eq!(t.times, [3, 4]);
        assert_eq!(t.cells[2], [Cell::Float(3.0), Cell::Float(4.0)]);
    }

    #[test]
    fn duplicates_compare_time_and_every_cell() {
        let mut t = table(10);
        t.push(1, vec![Cell::Missing, text("a"), Cell::Float(0.0)]);
        t.push(1, vec![Cell::Missing, text("a"), Cell::Float(-0.0)]);
        t.push(2, vec![Cell::Missing, text("a"), Cell::Float(0.0)]);
        t.push(1, vec![Cell::Missing, text("b"), Cell::Float(0.0)]);
        t.push(1, vec![Cell::Missing, text("a"), Cell::Int(0)]);
        assert!(t.same_rows(0, 1));
        assert_eq!(t.row_hash(0), t.row_hash(1));
        assert!(!t.same_rows(0, 2), "another time");
        assert!(!t.same_rows(0, 3), "another tag");
        assert!(!t.same_rows(0, 4), "an int is not a float");
        t.push(3, vec![Cell::Missing, Cell::Missing, Cell::Float(1.0)]);
        assert!(t.has_missing(5));
        assert!(!t.has_missing(0), "the time column is never missing");
    }
}
