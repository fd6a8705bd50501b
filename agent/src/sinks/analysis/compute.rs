//! The report computed from the rows held: cleaning, then every configured
//! section over the rows that remain, in input order.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value, json};
use time::format_description::OwnedFormatItem;

use super::config::{
    AnalysisConfig, AnomalySet, Condition, Derive, Group, Resample, Rolling, RowOrder, Stat, Tail,
};
use super::export;
use super::stats::{self, Accumulator};
use super::table::{Cell, Table};

/// Writes times as the report's `time_format` says (UTC).
#[derive(Debug)]
pub struct TimeFormat(OwnedFormatItem);

impl TimeFormat {
    /// Parse a strftime-style format.
    ///
    /// # Errors
    /// When the format does not parse (the config check catches it first).
    pub fn new(format: &str) -> Result<Self, String> {
        time::format_description::parse_strftime_owned(format)
            .map(Self)
            .map_err(|error| error.to_string())
    }

    /// `nanos` since the epoch, formatted.
    pub fn format(&self, nanos: i64) -> String {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
            .ok()
            .and_then(|t| t.format(&self.0).ok())
            .unwrap_or_default()
    }
}

/// What a report computed: its JSON, and for the HTML report the series
/// by section name and the rows of each anomaly set.
#[derive(Debug, Default)]
pub struct Computed {
    /// The JSON report.
    pub json: Value,
    /// Each resample and rolling section's series.
    pub series: HashMap<String, Series>,
    /// Each anomaly set's rows (indexes into the table), in its order.
    pub flagged: HashMap<String, Vec<usize>>,
    /// Each export's file and CSV text.
    pub exports: Vec<(std::path::PathBuf, String)>,
}

/// A resampled or rolling series: times and one line of values per key.
#[derive(Debug, Default)]
pub struct Series {
    /// Each point's time (a bucket's start, or a row's time).
    pub times: Vec<i64>,
    /// Each key, its statistic and its values.
    pub lines: Vec<(String, Stat, Vec<Option<f64>>)>,
    /// For each line, whether its field's values are all integers.
    pub integers: Vec<bool>,
}

impl Series {
    /// The series as a JSON array of objects: `timestamp` and each key.
    fn json(&self, times: &TimeFormat) -> Value {
        let list = self
            .times
            .iter()
            .enumerate()
            .map(|(index, time)| {
                let mut object = Map::new();
                object.insert("timestamp".into(), times.format(*time).into());
                for ((key, stat, values), integers) in self.lines.iter().zip(&self.integers) {
                    object.insert(key.clone(), number(values[index], *stat, *integers));
                }
                Value::Object(object)
            })
            .collect();
        Value::Array(list)
    }
}

/// The rows left after cleaning, and how many each step left out.
struct Cleaned {
    rows: Vec<usize>,
    duplicates: usize,
    missing: usize,
    out_of_range: usize,
}

/// The report over `table`.
pub fn report(config: &AnalysisConfig, table: &Table, times: &TimeFormat) -> Computed {
    let cleaned = clean(config, table);
    let mut computed = Computed::default();
    let analysis = Analysis {
        derive: &config.derive,
        table,
        times,
        rows: &cleaned.rows,
    };
    let mut report = Map::new();
    let period = match (cleaned.rows.first(), cleaned.rows.last()) {
        (Some(first), Some(last)) => json!({
            "first": times.format(table.times[*first]),
            "last": times.format(table.times[*last]),
        }),
        _ => Value::Null,
    };
    report.insert(
        "rows".into(),
        json!({
            "received": table.len() as u64 + table.evicted,
            "evicted": table.evicted,
            "duplicates": cleaned.duplicates,
            "missing": cleaned.missing,
            "out_of_range": cleaned.out_of_range,
            "analysed": cleaned.rows.len(),
        }),
    );
    report.insert("period".into(), period);
    let distinct: Map<String, Value> = config
        .distinct
        .iter()
        .map(|name| (name.clone(), analysis.distinct_values(name).len().into()))
        .collect();
    report.insert("distinct".into(), distinct.into());
    let values: Map<String, Value> = config
        .values
        .iter()
        .map(|name| (name.clone(), analysis.distinct_values(name).into()))
        .collect();
    report.insert("values".into(), values.into());
    let groups: Map<String, Value> = config
        .groups
        .iter()
        .map(|group| (group.name.clone(), analysis.group(group)))
        .collect();
    report.insert("groups".into(), groups.into());
    let anomalies: Map<String, Value> = config
        .anomalies
        .iter()
        .map(|set| {
            let (flagged, conditions) = analysis.flag(&set.any);
            let flagged = analysis.ordered(flagged, set.order);
            let severities = analysis.severities(set, &flagged);
            let first: Vec<Value> = flagged
                .iter()
                .enumerate()
                .take(set.sample)
                .map(|(index, row)| {
                    let mut json = analysis.row_json(*row);
                    if let Some(severity) = severities.get(index) {
                        json["severity"] = Value::from(*severity);
                    }
                    json
                })
                .collect();
            let value = json!({
                "count": flagged.len(),
                "conditions": conditions,
                "first": first,
            });
            if let Some(to) = &set.export {
                let csv = export::csv(to, &flagged, &severities, &|name, row| {
                    analysis.export_value(name, row)
                });
                computed.exports.push((to.path.clone(), csv));
            }
            computed.flagged.insert(set.name.clone(), flagged);
            (set.name.clone(), value)
        })
        .collect();
    report.insert("anomalies".into(), anomalies.into());
    let mut resampled = Map::new();
    for resample in &config.resample {
        let series = analysis.resample(resample);
        resampled.insert(resample.name.clone(), series.json(times));
        computed.series.insert(resample.name.clone(), series);
    }
    report.insert("resample".into(), resampled.into());
    let mut rolling = Map::new();
    for section in &config.rolling {
        let series = analysis.rolling(section);
        rolling.insert(section.name.clone(), series.json(times));
        computed.series.insert(section.name.clone(), series);
    }
    report.insert("rolling".into(), rolling.into());
    computed.json = Value::Object(report);
    computed
}

/// Leave out duplicates, rows with a missing value, and rows failing a
/// `keep` condition, in that order.
fn clean(config: &AnalysisConfig, table: &Table) -> Cleaned {
    let keep: Vec<(usize, &Condition)> = config
        .clean
        .keep
        .iter()
        .filter_map(|c| Some((table.column(&c.field)?, c)))
        .collect();
    let mut seen: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut cleaned = Cleaned {
        rows: Vec::with_capacity(table.len()),
        duplicates: 0,
        missing: 0,
        out_of_range: 0,
    };
    for row in 0..table.len() {
        if config.clean.duplicates {
            let earlier = seen.entry(table.row_hash(row)).or_default();
            if earlier.iter().any(|e| table.same_rows(*e, row)) {
                cleaned.duplicates += 1;
                continue;
            }
            earlier.push(row);
        }
        if config.clean.missing && table.has_missing(row) {
            cleaned.missing += 1;
            continue;
        }
        let in_range = keep.iter().all(|(column, condition)| {
            table.cells[*column][row]
                .number()
                .is_some_and(|v| within(condition, v))
        });
        if !in_range {
            cleaned.out_of_range += 1;
            continue;
        }
        cleaned.rows.push(row);
    }
    cleaned
}

/// Whether `value` meets every bound of `condition`.
fn within(condition: &Condition, value: f64) -> bool {
    condition.gt.is_none_or(|b| value > b)
        && condition.ge.is_none_or(|b| value >= b)
        && condition.lt.is_none_or(|b| value < b)
        && condition.le.is_none_or(|b| value <= b)
}

/// What one row gives an accumulator.
#[derive(Debug, Clone)]
enum Input {
    None,
    Number(f64),
    Key(String),
}

impl Input {
    fn feed(&self, accumulator: &mut Accumulator) {
        match self {
            Self::None => {}
            Self::Number(v) => accumulator.add(*v),
            Self::Key(k) => accumulator.add_key(k),
        }
    }
}

/// A condition's test of a value, and what it says about itself.
type Test<'c> = (Box<dyn Fn(f64) -> bool + 'c>, Map<String, Value>);

/// The cleaned rows and what the sections need to read them.
struct Analysis<'a> {
    derive: &'a [Derive],
    table: &'a Table,
    times: &'a TimeFormat,
    rows: &'a [usize],
}

impl Analysis<'_> {
    /// Column `name` of the cleaned rows, as numbers (`None` where a cell is
    /// not one).
    fn numbers(&self, name: &str) -> Vec<Option<f64>> {
        self.numbers_of(name, self.rows)
    }

    /// Column `name` of `rows`, as numbers; a derived column computed.
    fn numbers_of(&self, name: &str, rows: &[usize]) -> Vec<Option<f64>> {
        if let Some(derive) = self.derive.iter().find(|d| d.name == name) {
            let mut values = self.numbers_of(&derive.field, rows);
            for value in values.iter_mut().flatten() {
                *value = derive.apply(*value);
            }
            return values;
        }
        match self.table.column(name) {
            Some(column) => rows
                .iter()
                .map(|row| self.table.cells[column][*row].number())
                .collect(),
            None => vec![None; rows.len()],
        }
    }

    /// Whether every cleaned row's cell of column `name` is an integer: its
    /// sums, minimums and maximums are then written as integers, as pandas
    /// keeps an int64 column's.
    fn integers(&self, name: &str) -> bool {
        // Not a derived column: `table.column` knows only `columns`.
        self.table.column(name).is_some_and(|column| {
            self.rows
                .iter()
                .all(|row| matches!(self.table.cells[column][*row], Cell::Int(_)))
        })
    }

    /// The text of column or category `name` in row `row`: a group key, or a
    /// value a `distinct` counts. `None` where the row has none.
    fn key_of(&self, name: &str, row: usize) -> Option<String> {
        if let Some(derive) = self.derive.iter().find(|d| d.name == name) {
            let x = self.table.cells[self.table.column(&derive.field)?][row].number()?;
            return Some(if derive.bins.is_empty() {
                export::python_float(derive.apply(x))
            } else {
                derive.category(x)?.to_owned()
            });
        }
        let column = self.table.column(name)?;
        if !self.table.is_time(column) && self.table.cells[column][row] == Cell::Missing {
            return None;
        }
        Some(self.key_text(column, row))
    }

    /// The values an output accumulates per row of `rows`: numbers, or for
    /// `distinct` the values' texts.
    fn inputs_of(&self, field: &str, stat: Stat, rows: &[usize]) -> Vec<Input> {
        if stat == Stat::Count {
            // Rows with a value, of any kind.
            return rows
                .iter()
                .map(|row| {
                    self.key_of(field, *row)
                        .map_or(Input::None, |_| Input::Number(0.0))
                })
                .collect();
        }
        if stat == Stat::Distinct {
            rows.iter()
                .map(|row| self.key_of(field, *row).map_or(Input::None, Input::Key))
                .collect()
        } else {
            self.numbers_of(field, rows)
                .into_iter()
                .map(|v| v.map_or(Input::None, Input::Number))
                .collect()
        }
    }

    /// `rows` in `order`.
    fn ordered(&self, mut rows: Vec<usize>, order: RowOrder) -> Vec<usize> {
        if order == RowOrder::Time {
            rows.sort_by_key(|row| self.table.times[*row]);
        }
        rows
    }

    /// Each row's severity when the set grades them: the largest relative
    /// excess over a lower bound, at least 0, rounded.
    fn severities(&self, set: &AnomalySet, rows: &[usize]) -> Vec<f64> {
        let Some(severity) = &set.severity else {
            return Vec::new();
        };
        let bounds: Vec<(Option<usize>, Option<&Derive>, f64)> = set
            .any
            .iter()
            .filter_map(|c| Some((c, c.gt.or(c.ge)?)))
            .map(|(c, bound)| {
                let derive = self.derive.iter().find(|d| d.name == c.field);
                let column = self.table.column(derive.map_or(&c.field, |d| &d.field));
                (column, derive, bound)
            })
            .collect();
        rows.iter()
            .map(|row| {
                let excess = bounds.iter().filter_map(|(column, derive, bound)| {
                    let x = self.table.cells[(*column)?][*row].number()?;
                    let x = derive.map_or(x, |d| d.apply(x));
                    Some((x - bound) / bound)
                });
                let value = excess.fold(0.0, f64::max);
                severity.round.map_or(value, |places| {
                    stats::round(value, places, super::config::Rounding::HalfEven)
                })
            })
            .collect()
    }

    /// The text of `name` in row `row` for an export: a time formatted, a
    /// float as Python prints it, text defused for spreadsheets.
    fn export_value(&self, name: &str, row: usize) -> String {
        if name == "timestamp" {
            return self.times.format(self.table.times[row]);
        }
        if let Some(derive) = self.derive.iter().find(|d| d.name == name) {
            return self
                .table
                .column(&derive.field)
                .and_then(|c| self.table.cells[c][row].number())
                .map(|x| export::python_float(derive.apply(x)))
                .unwrap_or_default();
        }
        match self.table.column(name).map(|c| &self.table.cells[c][row]) {
            Some(Cell::Float(v)) => export::python_float(*v),
            Some(Cell::Int(v)) => v.to_string(),
            Some(Cell::Bool(v)) => if *v { "True" } else { "False" }.to_owned(),
            Some(Cell::Text(v)) => crate::sinks::escape::csv_cell(v).into_owned(),
            Some(Cell::Missing) | None => String::new(),
        }
    }

    /// Rows in time order, equal times in input order (pandas sorts a
    /// resampled or rolling series by its time index first).
    fn in_time_order(&self) -> Vec<usize> {
        let mut rows = self.rows.to_vec();
        rows.sort_by_key(|row| self.table.times[*row]);
        rows
    }

    /// The cell of column `name` in row `row` as text (a time formatted).
    fn key_text(&self, column: usize, row: usize) -> String {
        if self.table.is_time(column) {
            self.times.format(self.table.times[row])
        } else {
            self.table.cells[column][row].text()
        }
    }

    /// The distinct values of column `name`, in order of first appearance.
    fn distinct_values(&self, name: &str) -> Vec<Value> {
        let Some(column) = self.table.column(name) else {
            return Vec::new();
        };
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for row in self.rows {
            let key = self.key_text(column, *row);
            if seen.insert(key.clone()) {
                out.push(if self.table.is_time(column) {
                    Value::from(key)
                } else {
                    self.table.cells[column][*row].json()
                });
            }
        }
        out
    }

    /// Row `row` as an object of its columns, in order.
    fn row_json(&self, row: usize) -> Value {
        let object: Map<String, Value> = self
            .table
            .names()
            .iter()
            .enumerate()
            .map(|(column, name)| {
                let value = if self.table.is_time(column) {
                    Value::from(self.times.format(self.table.times[row]))
                } else {
                    self.table.cells[column][row].json()
                };
                (name.clone(), value)
            })
            .collect();
        Value::Object(object)
    }

    /// A group section: one object per group, keys then statistics.
    fn group(&self, group: &Group) -> Value {
        let outputs: Vec<(String, &str, Stat)> = group.fields.outputs().collect();
        let fields: Vec<Vec<Input>> = outputs
            .iter()
            .map(|(_, field, stat)| self.inputs_of(field, *stat, self.rows))
            .collect();
        let integers: Vec<bool> = outputs
            .iter()
            .map(|(_, field, _)| self.integers(field))
            .collect();
        // Groups in ascending order of their keys (pandas' `groupby` sorts);
        // whether the rows come sorted by group decides how pandas sums.
        let mut groups: BTreeMap<Vec<String>, (usize, Vec<Accumulator>)> = BTreeMap::new();
        let mut in_runs = true;
        let mut previous: Option<Vec<String>> = None;
        for (index, row) in self.rows.iter().enumerate() {
            let key: Vec<String> = group
                .by
                .iter()
                .map(|name| self.key_of(name, *row).unwrap_or_default())
                .collect();
            if previous.as_ref().is_some_and(|p| *p > key) {
                in_runs = false;
            }
            previous = Some(key.clone());
            let (_, accumulators) = groups
                .entry(key)
                .or_insert_with(|| (*row, vec![Accumulator::default(); outputs.len()]));
            for (accumulator, values) in accumulators.iter_mut().zip(&fields) {
                values[index].feed(accumulator);
            }
        }
        let mut rows: Vec<(Vec<Option<f64>>, usize)> = groups
            .into_values()
            .map(|(first, accumulators)| {
                let values = accumulators
                    .iter()
                    .zip(&outputs)
                    .map(|(acc, (_, _, stat))| acc.get(*stat, in_runs))
                    .collect();
                (values, first)
            })
            .collect();
        if let Some(top) = group.top {
            // Largest first statistic first; a stable sort keeps ties in
            // key order; the ties of the last one kept are kept too.
            rows.sort_by(|a, b| {
                let (a, b) = (
                    a.0.first().copied().flatten(),
                    b.0.first().copied().flatten(),
                );
                b.unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&a.unwrap_or(f64::NEG_INFINITY))
            });
            if rows.len() > top {
                let last = rows[top - 1].0.first().copied().flatten();
                let tied = rows[top..]
                    .iter()
                    .take_while(|r| r.0.first().copied().flatten() == last)
                    .count();
                rows.truncate(top + tied);
            }
        }
        let list: Vec<Value> = rows
            .into_iter()
            .map(|(values, first)| {
                let mut object = Map::new();
                for name in &group.by {
                    let value = match self.table.column(name) {
                        Some(column) if self.table.is_time(column) => {
                            Value::from(self.times.format(self.table.times[first]))
                        }
                        Some(column) => self.table.cells[column][first].json(),
                        None => self.key_of(name, first).map_or(Value::Null, Value::from),
                    };
                    object.insert(name.clone(), value);
                }
                for (((key, _, stat), value), integers) in outputs.iter().zip(values).zip(&integers)
                {
                    let value = match (value, group.round) {
                        (Some(v), Some(places))
                            if !matches!(stat, Stat::Count | Stat::Distinct) =>
                        {
                            Some(stats::round(v, places, group.rounding))
                        }
                        (value, _) => value,
                    };
                    object.insert(key.clone(), number(value, *stat, *integers));
                }
                Value::Object(object)
            })
            .collect();
        Value::Array(list)
    }

    /// The cleaned rows meeting any of `conditions`, in input order, and
    /// what each condition tested (a sigma condition's mean, standard
    /// deviation and limits) with how many rows it flagged.
    fn flag(&self, conditions: &[Condition]) -> (Vec<usize>, Vec<Value>) {
        let mut flagged = vec![false; self.rows.len()];
        let mut described = Vec::new();
        for condition in conditions {
            let values = self.numbers(&condition.field);
            let (test, mut about): Test<'_> = match condition.sigma.or(condition.z) {
                None => (Box::new(|v| within(condition, v)), bounds_json(condition)),
                Some(k) => self.sigma(condition, k, &values),
            };
            let mut count = 0usize;
            for (flag, value) in flagged.iter_mut().zip(&values) {
                if value.is_some_and(&test) {
                    *flag = true;
                    count += 1;
                }
            }
            about.insert("count".into(), count.into());
            described.push(Value::Object(about));
        }
        let rows = self
            .rows
            .iter()
            .zip(flagged)
            .filter_map(|(row, flag)| flag.then_some(*row))
            .collect();
        (rows, described)
    }

    /// A sigma or z condition: its test and description.
    fn sigma<'c>(&self, condition: &'c Condition, k: f64, values: &[Option<f64>]) -> Test<'c> {
        let present: Vec<f64> = values.iter().flatten().copied().collect();
        let mean = stats::mean(&present);
        let std = stats::std(&present, condition.ddof)
            .map(|std| match condition.zero_std {
                Some(instead) if std == 0.0 => instead,
                _ => std,
            })
            .filter(|std| *std > 0.0);
        let mut about = Map::new();
        about.insert("field".into(), condition.field.clone().into());
        let tail = match condition.tail {
            Tail::Both => "both",
            Tail::Upper => "upper",
            Tail::Lower => "lower",
        };
        let Some((mean, std)) = mean.zip(std) else {
            about.insert("mean".into(), number(mean, Stat::Mean, false));
            about.insert("std".into(), Value::Null);
            return (Box::new(|_| false), about);
        };
        let tail_of = condition.tail;
        if condition.sigma.is_some() {
            // Limits first, as `mean ± k·std`, then compared strictly.
            let (lower, upper) = (mean - k * std, mean + k * std);
            about.insert("sigma".into(), k.into());
            about.insert("tail".into(), tail.into());
            about.insert("ddof".into(), condition.ddof.into());
            about.insert("mean".into(), mean.into());
            about.insert("std".into(), std.into());
            if tail_of != Tail::Upper {
                about.insert("lower".into(), lower.into());
            }
            if tail_of != Tail::Lower {
                about.insert("upper".into(), upper.into());
            }
            let test = move |v: f64| match tail_of {
                Tail::Both => v < lower || v > upper,
                Tail::Upper => v > upper,
                Tail::Lower => v < lower,
            };
            (Box::new(test), about)
        } else {
            // Each value's z-score `(x − mean) / std`, compared strictly.
            about.insert("z".into(), k.into());
            about.insert("tail".into(), tail.into());
            about.insert("ddof".into(), condition.ddof.into());
            about.insert("mean".into(), mean.into());
            about.insert("std".into(), std.into());
            let test = move |v: f64| {
                let z = (v - mean) / std;
                match tail_of {
                    Tail::Both => z.abs() > k,
                    Tail::Upper => z > k,
                    Tail::Lower => z < -k,
                }
            };
            (Box::new(test), about)
        }
    }

    /// A resample section: one object per bucket, from the first row's
    /// bucket to the last's, each labelled by its start.
    fn resample(&self, resample: &Resample) -> Series {
        let outputs: Vec<(String, &str, Stat)> = resample.fields.outputs().collect();
        let rows = self.in_time_order();
        let times: Vec<i64> = rows.iter().map(|r| self.table.times[*r]).collect();
        let (Some(&first), Some(&last)) = (times.iter().min(), times.iter().max()) else {
            return Series::default();
        };
        let every = i64::try_from(resample.every.as_nanos()).unwrap_or(i64::MAX);
        let start = bucket_start(first, every);
        let buckets = usize::try_from((last - start) / every + 1).unwrap_or(0);
        // Far more buckets than rows (a narrow width over a long span): the
        // report stays bounded by the rows held.
        let buckets = buckets.min(self.rows.len().saturating_mul(4).max(1024));
        let mut accumulators = vec![vec![Accumulator::default(); outputs.len()]; buckets];
        let fields: Vec<Vec<Input>> = outputs
            .iter()
            .map(|(_, field, stat)| self.inputs_of(field, *stat, &rows))
            .collect();
        for (index, time) in times.iter().enumerate() {
            let Some(bucket) = usize::try_from((time - start) / every)
                .ok()
                .and_then(|b| accumulators.get_mut(b))
            else {
                continue;
            };
            for (accumulator, values) in bucket.iter_mut().zip(&fields) {
                values[index].feed(accumulator);
            }
        }
        Series {
            times: (0..buckets).map(|b| start + every * b as i64).collect(),
            lines: outputs
                .iter()
                .enumerate()
                .map(|(i, (key, _, stat))| {
                    // A resample's groups are always in runs.
                    let values = accumulators
                        .iter()
                        .map(|bucket| bucket[i].get(*stat, true))
                        .collect();
                    (key.clone(), *stat, values)
                })
                .collect(),
            integers: outputs
                .iter()
                .map(|(_, field, _)| self.integers(field))
                .collect(),
        }
    }

    /// A rolling section: the statistic at every cleaned row with a
    /// number in the field (a row without one takes no part, as NaN in
    /// pandas' rolling, and is not listed).
    fn rolling(&self, rolling: &Rolling) -> Series {
        let rows = self.in_time_order();
        let values = self.numbers_of(&rolling.field, &rows);
        let (times, present): (Vec<i64>, Vec<f64>) = rows
            .iter()
            .zip(&values)
            .filter_map(|(row, value)| Some((self.table.times[*row], (*value)?)))
            .unzip();
        let window = i64::try_from(rolling.window.as_nanos()).unwrap_or(i64::MAX);
        let computed = stats::rolling(&times, &present, window, rolling.stat);
        Series {
            times,
            lines: vec![(rolling.field.clone(), rolling.stat, computed)],
            integers: vec![self.integers(&rolling.field)],
        }
    }
}

/// The start of the bucket holding `time`: buckets are aligned to the
/// midnight (UTC) of the day holding the first row, as pandas' default
/// `origin="start_day"`.
fn bucket_start(time: i64, every: i64) -> i64 {
    const DAY: i64 = 86_400_000_000_000;
    let midnight = time.div_euclid(DAY) * DAY;
    midnight + (time - midnight).div_euclid(every) * every
}

/// A statistic as JSON: counts as integers, and the sum, minimum and
/// maximum of an integer column; `null` for none.
fn number(value: Option<f64>, stat: Stat, integers: bool) -> Value {
    let whole = matches!(stat, Stat::Count | Stat::Distinct)
        || integers && matches!(stat, Stat::Sum | Stat::Min | Stat::Max);
    match value {
        #[allow(clippy::cast_possible_truncation, reason = "a whole number, checked")]
        Some(v) if whole && v.fract() == 0.0 && v.abs() < 9e15 => Value::from(v as i64),
        Some(v) => Value::from(v),
        None => Value::Null,
    }
}

/// A bounds condition as JSON: its field and bounds.
fn bounds_json(condition: &Condition) -> Map<String, Value> {
    let mut about = Map::new();
    about.insert("field".into(), condition.field.clone().into());
    for (name, bound) in [
        ("gt", condition.gt),
        ("ge", condition.ge),
        ("lt", condition.lt),
        ("le", condition.le),
    ] {
        if let Some(bound) = bound {
            about.insert(name.into(), bound.into());
        }
    }
    about
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const S: i64 = 1_000_000_000;

    fn config(extra: &Value) -> AnalysisConfig {
        let mut base = json!({
            "path": "r.json",
            "columns": ["timestamp", "device", "cpu", "errors"],
        });
        for (key, value) in extra.as_object().unwrap() {
            base[key] = value.clone();
        }
        serde_json::from_value(base).unwrap()
    }

    fn table(rows: &[(i64, &str, Option<f64>, i64)]) -> Table {
        let mut table = Table::new(
            &["timestamp", "device", "cpu", "errors"].map(str::to_owned),
            100,
        );
        for (time, device, cpu, errors) in rows {
            table.push(
                *time,
                vec![
                    Cell::Missing,
                    Cell::Text(Arc::from(*device)),
                    cpu.map_or(Cell::Missing, Cell::Float),
                    Cell::Int(*errors),
                ],
            );
        }
        table
    }

    fn run(config: &AnalysisConfig, table: &Table) -> Value {
        report(config, table, &TimeFormat::new("%H:%M:%S").unwrap()).json
    }

    #[test]
    fn cleaning_counts_duplicates_then_missing_then_range() {
        let config =
            config(&json!({ "clean": { "keep": [{ "field": "cpu", "ge": 0, "le": 100 }] } }));
        let rows = table(&[
            (0, "a", Some(10.0), 1),
            (0, "a", Some(10.0), 1),  // duplicate
            (0, "a", None, 1),        // missing
            (0, "a", None, 1),        // a duplicate of a missing row: a duplicate
            (S, "a", Some(100.5), 1), // out of range
            (S, "b", Some(100.0), 1), // the bound itself stays
        ]);
        let report = run(&config, &rows);
        assert_eq!(
            report["rows"],
            json!({ "received": 6, "evicted": 0, "duplicates": 2, "missing": 1,
                    "out_of_range": 1, "analysed": 2 })
        );
    }

    #[test]
    fn sigma_limits_z_scores_and_tails() {
        // Nine values of 10 and one of 20: mean 11, sample std √10 ≈ 3.16,
        // population std 3.
        let mut rows: Vec<(i64, &str, Option<f64>, i64)> =
            (0..9).map(|i| (i * S, "a", Some(10.0), 0)).collect();
        rows.push((9 * S, "a", Some(20.0), 0));
        let rows = table(&rows);
        let sets = json!({ "anomalies": [
            { "name": "sample", "any": [{ "field": "cpu", "sigma": 2.9 }] },
            { "name": "population", "any": [{ "field": "cpu", "z": 2.9, "ddof": 0, "tail": "upper" }] },
            { "name": "low", "any": [{ "field": "cpu", "z": 0.1, "ddof": 0, "tail": "lower" }] },
        ]});
        let report = run(&config(&sets), &rows);
        let anomalies = &report["anomalies"];
        assert_eq!(
            anomalies["sample"]["count"], 0,
            "11 + 2.9 × √10 = 20.17 > 20"
        );
        assert_eq!(anomalies["population"]["count"], 1, "z = 9 / 3 = 3 > 2.9");
        assert_eq!(anomalies["population"]["first"][0]["cpu"], 20.0);
        assert_eq!(anomalies["population"]["conditions"][0]["std"], 3.0);
        assert_eq!(anomalies["low"]["count"], 9, "every 10 is 1/3 std below");
        assert_eq!(
            anomalies["low"]["first"].as_array().unwrap().len(),
            5,
            "the first five"
        );
        // Every value equal: no std, nothing flagged, unless zero_std.
        let flat = table(&[(0, "a", Some(5.0), 0), (S, "a", Some(5.0), 0)]);
        let sets = json!({ "anomalies": [
            { "name": "none", "any": [{ "field": "cpu", "z": 1 }] },
            { "name": "one", "any": [{ "field": "cpu", "z": 0.5, "tail": "both", "zero_std": 1 }] },
        ]});
        let report = run(&config(&sets), &flat);
        assert_eq!(report["anomalies"]["none"]["count"], 0);
        assert_eq!(
            report["anomalies"]["one"]["count"], 0,
            "z is 0 with std taken as 1"
        );
    }

    #[test]
    fn groups_sort_keys_and_keep_ties_in_a_top() {
        let rows = table(&[
            (0, "c", Some(1.0), 5),
            (S, "a", Some(2.0), 5),
            (2 * S, "b", Some(3.0), 7),
            (3 * S, "d", Some(4.0), 1),
        ]);
        let groups = json!({ "groups": [
            { "name": "all", "by": ["device"], "fields": { "cpu": ["mean", "count"] } },
            { "name": "top", "by": ["device"], "fields": { "errors": "sum" }, "top": 2 },
        ]});
        let report = run(&config(&groups), &rows);
        let all = report["groups"]["all"].as_array().unwrap();
        let keys: Vec<&str> = all.iter().map(|g| g["device"].as_str().unwrap()).collect();
        assert_eq!(keys, ["a", "b", "c", "d"]);
        assert_eq!(
            all[0],
            json!({ "device": "a", "cpu_mean": 2.0, "cpu_count": 1 })
        );
        assert_eq!(
            report["groups"]["top"],
            json!([{ "device": "b", "errors": 7 }, { "device": "a", "errors": 5 },
                   { "device": "c", "errors": 5 }]),
            "b, then a and c tied for second; an int column's sum stays an int"
        );
    }

    #[test]
    fn resample_buckets_from_the_first_to_the_last_with_empty_ones() {
        let h = 3600 * S;
        let rows = table(&[
            (h / 2, "a", Some(1.0), 1),
            (h / 2 + 1, "a", Some(3.0), 2),
            (3 * h + 5, "a", Some(5.0), 4),
        ]);
        let resample = json!({ "resample": [
            { "name": "hourly", "every": "1h", "fields": { "cpu": "mean", "errors": ["sum", "max"] } },
        ]});
        let report = run(&config(&resample), &rows);
        assert_eq!(
            report["resample"]["hourly"],
            json!([
                { "timestamp": "00:00:00", "cpu": 2.0, "errors_sum": 3, "errors_max": 2 },
                { "timestamp": "01:00:00", "cpu": null, "errors_sum": 0, "errors_max": null },
                { "timestamp": "02:00:00", "cpu": null, "errors_sum": 0, "errors_max": null },
                { "timestamp": "03:00:00", "cpu": 5.0, "errors_sum": 4, "errors_max": 4 },
            ])
        );
    }

    #[test]
    fn values_keep_first_appearance_order() {
        let rows = table(&[
            (0, "z", Some(1.0), 0),
            (S, "a", Some(1.0), 0),
            (2 * S, "z", Some(1.0), 0),
        ]);
        let report = run(
            &config(&json!({ "values": ["device"], "distinct": ["device"] })),
            &rows,
        );
        assert_eq!(report["values"]["device"], json!(["z", "a"]));
        assert_eq!(report["distinct"]["device"], 2);
    }

    #[test]
    fn severity_derived_columns_time_order_and_export() {
        let rows = table(&[
            (2 * S, "late", Some(99.0), 0),
            (S, "early", Some(180.0), 0),
            (3 * S, "calm", Some(10.0), 0),
        ]);
        let config = config(&json!({
            "derive": [{ "name": "score", "field": "cpu", "max": 100, "multiply": -0.5, "add": 100 }],
            "groups": [{ "name": "g", "by": ["device"], "fields": { "score": "mean" } }],
            "anomalies": [{
                "name": "hot",
                "any": [{ "field": "cpu", "gt": 90 }, { "field": "score", "ge": 60 }],
                "order": "time",
                "severity": { "round": 2 },
                "export": { "path": "x.csv", "columns": {
                    "device": "{device}", "severity": "{severity}", "score": "{score}", "cpu": "{cpu}" } },
            }],
        }));
        let computed = report(&config, &rows, &TimeFormat::new("%H:%M:%S").unwrap());
        let report = computed.json;
        assert_eq!(
            report["groups"]["g"],
            json!([{ "device": "calm", "score": 95.0 }, { "device": "early", "score": 50.0 },
                   { "device": "late", "score": 50.5 }]),
            "100 - min(cpu, 100) / 2"
        );
        let hot = &report["anomalies"]["hot"];
        let devices: Vec<&str> = hot["first"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["device"].as_str().unwrap())
            .collect();
        assert_eq!(devices, ["early", "late", "calm"], "by time");
        // early: (180 − 90) / 90 = 1.0; late: 0.1; calm: (95 − 60) / 60 = 0.58333… → 0.58.
        let severities: Vec<f64> = hot["first"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["severity"].as_f64().unwrap())
            .collect();
        assert_eq!(severities, [1.0, 0.1, 0.58]);
        let (path, csv) = &computed.exports[0];
        assert_eq!(path, std::path::Path::new("x.csv"));
        assert_eq!(
            csv,
            "device,severity,score,cpu\nearly,1.0,50.0,180.0\nlate,0.1,50.5,99.0\ncalm,0.58,95.0,10.0\n"
        );
    }

    #[test]
    fn categories_group_rows_and_distinct_counts_texts() {
        let rows = table(&[
            (0, "a", Some(0.0), 0),
            (S, "b", Some(1.0), 2),
            (2 * S, "a", Some(5.0), 7),
            (3 * S, "a", None, 1),
        ]);
        let config = config(&json!({
            "clean": { "missing": false },
            "derive": [{ "name": "level", "field": "errors",
                         "bins": [{ "upto": 0, "label": "none" }, { "upto": 2, "label": "some" },
                                  { "label": "many" }] }],
            "groups": [{ "name": "g", "by": ["level"],
                         "fields": { "device": ["count", "distinct"], "cpu": "count" } }],
            "resample": [{ "name": "r", "every": "1h", "fields": { "device": "distinct" } }],
        }));
        let report = run(&config, &rows);
        assert_eq!(
            report["groups"]["g"],
            json!([
                { "level": "many", "device_count": 1, "device_distinct": 1, "cpu": 1 },
                { "level": "none", "device_count": 1, "device_distinct": 1, "cpu": 1 },
                { "level": "some", "device_count": 2, "device_distinct": 2, "cpu": 1 },
            ]),
            "a count counts rows with the field, text or not; a missing cpu is not counted"
        );
        assert_eq!(report["resample"]["r"][0]["device"], 2);
    }
}
