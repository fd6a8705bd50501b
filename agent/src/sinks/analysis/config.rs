//! `type: analysis` settings: the rows held, how they are cleaned, and the
//! sections of the report computed from them.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

use crate::settings::{Problems, Settings, units};

/// `type: analysis`: holds the rows it receives and writes a report of
/// statistics over all of them (totals, values, grouped statistics, rule and
/// sigma anomaly sets, resampled and rolling series), as JSON and optionally
/// as one self-contained HTML page with SVG charts.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisConfig {
    /// `path`: the JSON report, relative to the working directory. Required.
    pub path: PathBuf,
    /// `html`: the HTML report, if one is wanted.
    #[serde(default)]
    pub html: Option<PathBuf>,
    /// `title`: the HTML report's title. Default `foghorn analysis`.
    #[serde(default = "AnalysisConfig::default_title")]
    pub title: String,
    /// `columns`: a row's columns, in order: `timestamp` (the point's time)
    /// and the names of tags or fields of its points. Duplicates and missing
    /// values are judged over these, and listed rows show them. Required.
    pub columns: Vec<String>,
    /// `time_format`: how times are written in the report, strftime style.
    /// Default `%Y-%m-%d %H:%M:%S` (UTC).
    #[serde(default = "AnalysisConfig::default_time_format")]
    pub time_format: String,
    /// `interval`: how often the report is rewritten from the rows held so
    /// far (a live pipeline); it is always written when the input ends.
    /// Default `30s`, from `1s` to `1d`.
    #[serde(default = "AnalysisConfig::default_interval", with = "units::duration")]
    pub interval: Duration,
    /// `max_rows`: the most rows held; past it the oldest go (the report
    /// then covers the latest `max_rows` rows and says how many went).
    /// The rows take about `max_rows × (24 × columns + 16)` bytes plus the
    /// distinct texts, the spool file the rows' JSON; while a report is
    /// made, its sections take as much again or more (a rolling section has
    /// a value per row): the product-lab report peaks at about 0.9 KiB per
    /// row held (947 MiB at 1,000,000 rows, `foghorn-bench sinks`). Lower
    /// it where memory is tight. Default 1000000, from 1 to 100000000.
    #[serde(default = "AnalysisConfig::default_max_rows")]
    pub max_rows: usize,
    /// `clean`: which rows the analysis leaves out.
    #[serde(default)]
    pub clean: Clean,
    /// `values`: columns whose distinct values are listed in order of first
    /// appearance (e.g. `[product_type, location]`).
    #[serde(default)]
    pub values: Vec<String>,
    /// `derive`: columns computed from a field of each row.
    #[serde(default)]
    pub derive: Vec<Derive>,
    /// `distinct`: columns whose number of distinct values the totals give
    /// (e.g. `[device_id]`).
    #[serde(default)]
    pub distinct: Vec<String>,
    /// `groups`: statistics per group of rows.
    #[serde(default)]
    pub groups: Vec<Group>,
    /// `anomalies`: named sets of rows that meet any of their conditions.
    #[serde(default)]
    pub anomalies: Vec<AnomalySet>,
    /// `resample`: statistics per time bucket over all rows.
    #[serde(default)]
    pub resample: Vec<Resample>,
    /// `rolling`: a time-window statistic evaluated at every row.
    #[serde(default)]
    pub rolling: Vec<Rolling>,
    /// `metrics`: group and resample sections whose statistics the agent's
    /// `/metrics` (and every Prometheus sink) serves as
    /// `foghorn_analysis_statistic{component, section, group, statistic}`
    /// (`group`: a group's key values joined by `/`; for a resample, its
    /// latest bucket's start), updated with each report; at most `max_metric_series` series, the rest counted in
    /// `foghorn_component_errors_total{reason="analysis_metrics_capped"}`.
    #[serde(default)]
    pub metrics: Vec<String>,
    /// `max_metric_series`: the bound on `metrics`. Default 1000, from 1
    /// to 100000.
    #[serde(default = "AnalysisConfig::default_max_metric_series")]
    pub max_metric_series: usize,
    /// `charts`: line charts of the HTML report.
    #[serde(default)]
    pub charts: Vec<Chart>,
}

/// `clean`: rows left out before anything is computed, counted by reason in
/// the report's totals, in this order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clean {
    /// `duplicates`: leave out a row equal in every column (time included)
    /// to an earlier one. Default true.
    #[serde(default = "yes")]
    pub duplicates: bool,
    /// `missing`: leave out a row lacking a value in any column. Default
    /// true.
    #[serde(default = "yes")]
    pub missing: bool,
    /// `keep`: conditions a row must meet, all of them, to stay (a row
    /// without a number in a condition's field fails it). Sigma conditions
    /// are not allowed here.
    #[serde(default)]
    pub keep: Vec<Condition>,
}

impl Default for Clean {
    fn default() -> Self {
        Self {
            duplicates: true,
            missing: true,
            keep: Vec::new(),
        }
    }
}

const fn yes() -> bool {
    true
}

/// A test of one numeric field of a row: bounds (`gt`, `ge`, `lt`, `le`,
/// all that are given must hold) or a rule over the field's mean and
/// standard deviation over the whole cleaned data (`sigma` or `z`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// `field`: the column tested. Required.
    pub field: String,
    /// `gt`: the value is strictly greater.
    #[serde(default)]
    pub gt: Option<f64>,
    /// `ge`: the value is greater or equal.
    #[serde(default)]
    pub ge: Option<f64>,
    /// `lt`: the value is strictly less.
    #[serde(default)]
    pub lt: Option<f64>,
    /// `le`: the value is less or equal.
    #[serde(default)]
    pub le: Option<f64>,
    /// `sigma`: the value is more than this many standard deviations from
    /// the field's mean over the cleaned rows, strictly (`|x − mean| > k·std`
    /// on the `tail` side).
    #[serde(default)]
    pub sigma: Option<f64>,
    /// `z`: the value's z-score `(x − mean) / std` over the cleaned rows is
    /// beyond this, strictly, on the `tail` side. The same test as `sigma`
    /// written the other way round, which can part in the last bit: use
    /// the form the reference computes.
    #[serde(default)]
    pub z: Option<f64>,
    /// `tail`: which side a sigma or z condition looks at: `both` (the default),
    /// `upper` or `lower`.
    #[serde(default)]
    pub tail: Tail,
    /// `ddof`: the standard deviation's delta degrees of freedom: 1 (the
    /// default, the sample standard deviation, pandas' `std()`) or 0 (the
    /// population one, numpy's `std()`).
    #[serde(default = "Condition::default_ddof")]
    pub ddof: u8,
    /// `zero_std`: the standard deviation used when it is 0 (every value
    /// equal); default: none, and nothing is flagged.
    #[serde(default)]
    pub zero_std: Option<f64>,
}

impl Condition {
    const fn default_ddof() -> u8 {
        1
    }

    /// Whether this is a sigma or z condition.
    pub(super) fn is_sigma(&self) -> bool {
        self.sigma.is_some() || self.z.is_some()
    }
}

/// The side of a sigma condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tail {
    /// Above `mean + k·std` or below `mean − k·std`.
    #[default]
    Both,
    /// Above `mean + k·std`.
    Upper,
    /// Below `mean − k·std`.
    Lower,
}

/// `groups[]`: statistics of fields per group of rows with equal `by`
/// columns, groups in ascending order of their keys (or the `top` of them).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// `name`: the key of the section in the report. Required.
    pub name: String,
    /// `by`: the columns whose values make a group. Required.
    pub by: Vec<String>,
    /// `fields`: each field and its statistics, e.g. `{ temperature: mean }`
    /// or `{ latency_ms: [mean, median, max, std, count] }`. A statistic is
    /// written under the field's name when the field has one, else as
    /// `<field>_<stat>`. Required.
    pub fields: Aggregations,
    /// `round`: decimal places of every statistic (except `count`).
    #[serde(default)]
    pub round: Option<u8>,
    /// `rounding`: `half_even` (the default: the exact binary value rounded
    /// half to even, Python's `round`) or `scaled` (multiplied by
    /// 10^places, rounded half to even, divided: numpy's and pandas'
    /// `round`).
    #[serde(default)]
    pub rounding: Rounding,
    /// `top`: keep the groups with the largest first statistic (descending,
    /// ties in ascending key order), this many plus any tied with the last.
    #[serde(default)]
    pub top: Option<usize>,
}

/// How a statistic is rounded to `round` places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// The exact binary value, half to even (Python's `round(x, n)`).
    #[default]
    HalfEven,
    /// `rint(x × 10^n) / 10^n` (numpy's `around`, pandas' `round`).
    Scaled,
}

/// A statistic of a field over a set of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stat {
    /// The arithmetic mean.
    Mean,
    /// The sum (0 over no rows).
    Sum,
    /// The smallest value.
    Min,
    /// The largest value.
    Max,
    /// The median (the mean of the middle two of an even count).
    Median,
    /// The sample standard deviation (ddof 1).
    Std,
    /// How many rows have the field.
    Count,
    /// How many distinct values the field has (text or numbers, as written).
    Distinct,
}

impl Stat {
    /// The name in the YAML and in `<field>_<stat>` keys.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::Sum => "sum",
            Self::Min => "min",
            Self::Max => "max",
            Self::Median => "median",
            Self::Std => "std",
            Self::Count => "count",
            Self::Distinct => "distinct",
        }
    }
}

/// Fields and their statistics, in the order the YAML lists them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Aggregations(pub Vec<(String, Vec<Stat>)>);

impl Aggregations {
    /// Every (output key, field, statistic), in order.
    pub fn outputs(&self) -> impl Iterator<Item = (String, &str, Stat)> + '_ {
        self.0.iter().flat_map(|(field, stats)| {
            stats.iter().map(move |stat| {
                let key = if stats.len() == 1 {
                    field.clone()
                } else {
                    format!("{field}_{}", stat.name())
                };
                (key, field.as_str(), *stat)
            })
        })
    }
}

impl<'de> Deserialize<'de> for Aggregations {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(Stat),
            Many(Vec<Stat>),
        }

        let Ordered(entries) = Ordered::<OneOrMany>::deserialize(deserializer)?;
        Ok(Self(
            entries
                .into_iter()
                .map(|(field, stats)| match stats {
                    OneOrMany::One(stat) => (field, vec![stat]),
                    OneOrMany::Many(stats) => (field, stats),
                })
                .collect(),
        ))
    }
}

/// A YAML mapping in the order it was written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InOrder<V>(std::marker::PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for InOrder<V> {
            type Value = Ordered<V>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<V>, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, V>()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
        }

        deserializer.deserialize_map(InOrder(std::marker::PhantomData))
    }
}

/// `derive[]`: a column computed from a field of each row, as
/// `add + multiply × x` with `x` the field's value clamped to `[min, max]`
/// (`100 − min(loss, 5)` is `{ field: loss, max: 5, multiply: -1, add: 100 }`;
/// the arithmetic is exactly that of the expression written out), or with
/// `bins` a category. Usable wherever a field is named (a category also in
/// a group's `by`), except in `columns` and `clean`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derive {
    /// `name`: the new column. Required.
    pub name: String,
    /// `field`: the field it is computed from. Required.
    pub field: String,
    /// `min`: values below are taken as this.
    #[serde(default)]
    pub min: Option<f64>,
    /// `max`: values above are taken as this.
    #[serde(default)]
    pub max: Option<f64>,
    /// `multiply`: the factor. Default 1.
    #[serde(default = "Derive::one")]
    pub multiply: f64,
    /// `add`: the term added. Default 0.
    #[serde(default)]
    pub add: f64,
    /// `bins`: make the column a category instead: the `label` of the first
    /// bin whose `upto` the value does not exceed (`x ≤ upto`), or of a last
    /// bin without `upto`; e.g. `[{ upto: 0, label: none }, { upto: 2,
    /// label: minor }, { label: severe }]`.
    #[serde(default)]
    pub bins: Vec<Bin>,
}

/// One bin of a category.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bin {
    /// `upto`: the largest value in the bin; none for the last, catching
    /// the rest.
    #[serde(default)]
    pub upto: Option<f64>,
    /// `label`: the category. Required.
    pub label: String,
}

impl Derive {
    const fn one() -> f64 {
        1.0
    }

    /// The category of `x`, for a derived column with `bins`.
    pub fn category(&self, x: f64) -> Option<&str> {
        self.bins
            .iter()
            .find(|bin| bin.upto.is_none_or(|upto| x <= upto))
            .map(|bin| bin.label.as_str())
    }

    /// The derived value of `x`.
    pub fn apply(&self, x: f64) -> f64 {
        let x = self.max.map_or(x, |max| x.min(max));
        let x = self.min.map_or(x, |min| x.max(min));
        if self.multiply == 1.0 && self.add == 0.0 {
            x
        } else {
            self.add + self.multiply * x
        }
    }
}

/// `anomalies[]`: the rows that meet any of the conditions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalySet {
    /// `name`: the key of the set in the report. Required.
    pub name: String,
    /// `any`: the conditions; a row meeting several counts once. Required.
    pub any: Vec<Condition>,
    /// `sample`: how many of the set's rows are listed, the first in
    /// `order`. Default 5.
    #[serde(default = "AnomalySet::default_sample")]
    pub sample: usize,
    /// `order`: the order of the set's rows: `input` (the default) or `time`
    /// (by time, equal times in input order).
    #[serde(default)]
    pub order: RowOrder,
    /// `severity`: give each row a severity: the largest relative excess
    /// of its value over each `gt` or `ge` bound `b` of the set's
    /// conditions, `(x − b) / b`, and at least 0 (so a row flagged only by a
    /// sigma or z condition gets 0), rounded to `round` places half to even
    /// (the exact binary value, Python's `round`). Listed rows and exports
    /// then have a `severity`.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// `export`: write every row of the set to a CSV file.
    #[serde(default)]
    pub export: Option<Export>,
}

/// The order of a set's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowOrder {
    /// As the rows came.
    #[default]
    Input,
    /// By time, equal times as they came.
    Time,
}

/// `severity`: how a set's rows are graded.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Severity {
    /// `round`: decimal places. Default: not rounded.
    #[serde(default)]
    pub round: Option<u8>,
}

/// `export`: a set's rows as a CSV file, replaced atomically with the
/// report: a header row of the column names, then one row per row of the
/// set, in its order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Export {
    /// `path`: the CSV file. Required.
    pub path: PathBuf,
    /// `columns`: each column's name and its template: text with `{name}`
    /// for a column of the row (`timestamp` in `time_format`, a float as
    /// Python prints it, `120.0`, `83.7`), a derived column, or `severity`;
    /// `{{` and `}}` for braces. Required.
    pub columns: Ordered<String>,
}

impl AnomalySet {
    const fn default_sample() -> usize {
        5
    }
}

/// `resample[]`: fields' statistics per time bucket over all rows, as
/// pandas' `resample(every)`: buckets left-closed and labelled by their
/// start, aligned to the Unix epoch, from the first row's to the last's,
/// an empty one present with `null` statistics (`sum` 0, `count` 0).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resample {
    /// `name`: the key of the series in the report. Required.
    pub name: String,
    /// `every`: the bucket width, e.g. `1h`, `1d`. Required; from `1s`.
    #[serde(with = "units::duration")]
    pub every: Duration,
    /// `fields`: each field and its statistics, as in `groups`. Required.
    pub fields: Aggregations,
}

/// `rolling[]`: a statistic over a time window ending at each row,
/// `(t − window, t]` as pandas' `rolling(window)` on a time index: the
/// rows before it in input order within the window, and the row itself.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rolling {
    /// `name`: the key of the series in the report. Required.
    pub name: String,
    /// `field`: the field. Required.
    pub field: String,
    /// `window`: the window's length, e.g. `24h`. Required; from `1s`.
    #[serde(with = "units::duration")]
    pub window: Duration,
    /// `stat`: `mean` (the default), `sum`, `min`, `max` or `count`.
    #[serde(default = "Rolling::default_stat")]
    pub stat: Stat,
}

impl Rolling {
    const fn default_stat() -> Stat {
        Stat::Mean
    }
}

/// `charts[]`: a line chart of the HTML report.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chart {
    /// `title`: above the chart. Required.
    pub title: String,
    /// `series`: the name of a `resample` or `rolling` section. Required.
    pub series: String,
    /// `fields`: the keys of that section drawn, one line each. Default:
    /// all of them.
    #[serde(default)]
    pub fields: Vec<String>,
    /// `markers`: anomaly sets whose rows are marked on the chart, at
    /// their time and the value of the chart's first field (the row's own
    /// value when it has that field).
    #[serde(default)]
    pub markers: Vec<String>,
}

impl AnalysisConfig {
    fn default_title() -> String {
        "foghorn analysis".to_owned()
    }

    fn default_time_format() -> String {
        "%Y-%m-%d %H:%M:%S".to_owned()
    }

    const fn default_interval() -> Duration {
        Duration::from_secs(30)
    }

    const fn default_max_rows() -> usize {
        1_000_000
    }

    const fn default_max_metric_series() -> usize {
        1000
    }

    /// Whether `name` is a section of the report that a chart may draw.
    fn has_series(&self, name: &str) -> bool {
        self.resample.iter().any(|r| r.name == name) || self.rolling.iter().any(|r| r.name == name)
    }
}

impl Settings for AnalysisConfig {
    fn check(&self, key: &str, problems: &mut Problems<'_>) {
        problems.duration_range(
            &format!("{key}.interval"),
            self.interval,
            Duration::from_secs(1),
            Duration::from_secs(86_400),
        );
        problems.range(&format!("{key}.max_rows"), self.max_rows, 1, 100_000_000);
        if let Err(error) = time::format_description::parse_strftime_borrowed(&self.time_format) {
            problems.push(&format!("{key}.time_format"), error.to_string());
        }
        if self.columns.is_empty() {
            problems.push(&format!("{key}.columns"), "is empty: name a row's columns");
        }
        for (index, column) in self.columns.iter().enumerate() {
            if self.columns[..index].contains(column) {
                problems.push(
                    &format!("{key}.columns[{index}]"),
                    format!("{column} is listed twice"),
                );
            }
        }
        let column = |problems: &mut Problems<'_>, at: String, name: &str| {
            if !self.columns.iter().any(|c| c == name) {
                problems.push(
                    &at,
                    format!(
                        "{name} is not one of `columns`: {}",
                        self.columns.join(", ")
                    ),
                );
            }
        };
        // Sections may also name derived columns.
        let field = |problems: &mut Problems<'_>, at: String, name: &str| {
            if !self.columns.iter().any(|c| c == name)
                && !self.derive.iter().any(|d| d.name == name)
            {
                problems.push(
                    &at,
                    format!("{name} is neither one of `columns` nor a derived column"),
                );
            }
        };
        for (index, derive) in self.derive.iter().enumerate() {
            let at = format!("{key}.derive[{index}]");
            column(problems, format!("{at}.field"), &derive.field);
            if self.columns.contains(&derive.name)
                || self.derive[..index].iter().any(|d| d.name == derive.name)
            {
                problems.push(&format!("{at}.name"), format!("{} is taken", derive.name));
            }
            for (name, value) in [
                ("min", derive.min),
                ("max", derive.max),
                ("multiply", Some(derive.multiply)),
                ("add", Some(derive.add)),
            ] {
                if value.is_some_and(|v| !v.is_finite()) {
                    problems.push(&format!("{at}.{name}"), "must be a finite number");
                }
            }
        }
        for (index, condition) in self.clean.keep.iter().enumerate() {
            let at = format!("{key}.clean.keep[{index}]");
            if condition.is_sigma() {
                problems.push(&at, "a sigma or z condition cannot clean: use bounds");
            }
            check_condition(condition, &at, problems);
            column(problems, format!("{at}.field"), &condition.field);
        }
        for (list, names) in [("values", &self.values), ("distinct", &self.distinct)] {
            for (index, name) in names.iter().enumerate() {
                column(problems, format!("{key}.{list}[{index}]"), name);
            }
        }
        let mut names: Vec<(String, String)> = Vec::new();
        let mut unique = |problems: &mut Problems<'_>, name: &str, at: String| {
            if name.is_empty() {
                problems.push(&at, "is empty");
            } else if let Some((_, first)) = names.iter().find(|(n, _)| n == name) {
                problems.push(&at, format!("{name} is also the name of {first}"));
            } else {
                names.push((name.to_owned(), at));
            }
        };
        for (index, group) in self.groups.iter().enumerate() {
            let at = format!("{key}.groups[{index}]");
            unique(problems, &group.name, format!("{at}.name"));
            if group.by.is_empty() {
                problems.push(&format!("{at}.by"), "is empty: name the grouping columns");
            }
            for (i, by) in group.by.iter().enumerate() {
                field(problems, format!("{at}.by[{i}]"), by);
            }
            check_aggregations(&group.fields, &format!("{at}.fields"), problems, &field);
            if let Some(places) = group.round {
                problems.range(&format!("{at}.round"), places, 0, 15);
            }
            if group.top == Some(0) {
                problems.push(&format!("{at}.top"), "must be at least 1");
            }
        }
        for (index, set) in self.anomalies.iter().enumerate() {
            let at = format!("{key}.anomalies[{index}]");
            unique(problems, &set.name, format!("{at}.name"));
            if set.any.is_empty() {
                problems.push(&format!("{at}.any"), "is empty: give the set a condition");
            }
            for (i, condition) in set.any.iter().enumerate() {
                let at = format!("{at}.any[{i}]");
                check_condition(condition, &at, problems);
                field(problems, format!("{at}.field"), &condition.field);
            }
            if let Some(export) = &set.export {
                for (name, template) in &export.columns.0 {
                    let at = format!("{at}.export.columns.{name}");
                    match super::template::Template::parse(template) {
                        Err(error) => problems.push(&at, error),
                        Ok(template) => {
                            for used in template.names() {
                                let known = used == "timestamp"
                                    || used == "severity" && set.severity.is_some()
                                    || self.columns.iter().any(|c| c == used)
                                    || self.derive.iter().any(|d| d.name == used);
                                if !known {
                                    problems.push(
                                        &at,
                                        format!("{{{used}}} is not a column, a derived column or the set's severity"),
                                    );
                                }
                            }
                        }
                    }
                }
                if export.columns.0.is_empty() {
                    problems.push(
                        &format!("{at}.export.columns"),
                        "is empty: name the CSV's columns",
                    );
                }
            }
            if let Some(places) = set.severity.as_ref().and_then(|s| s.round) {
                problems.range(&format!("{at}.severity.round"), places, 0, 15);
            }
        }
        for (index, resample) in self.resample.iter().enumerate() {
            let at = format!("{key}.resample[{index}]");
            unique(problems, &resample.name, format!("{at}.name"));
            problems.duration_range(
                &format!("{at}.every"),
                resample.every,
                Duration::from_secs(1),
                Duration::from_secs(366 * 86_400),
            );
            check_aggregations(&resample.fields, &format!("{at}.fields"), problems, &field);
        }
        for (index, rolling) in self.rolling.iter().enumerate() {
            let at = format!("{key}.rolling[{index}]");
            unique(problems, &rolling.name, format!("{at}.name"));
            field(problems, format!("{at}.field"), &rolling.field);
            problems.duration_range(
                &format!("{at}.window"),
                rolling.window,
                Duration::from_secs(1),
                Duration::from_secs(366 * 86_400),
            );
            if matches!(rolling.stat, Stat::Median | Stat::Std | Stat::Distinct) {
                problems.push(
                    &format!("{at}.stat"),
                    "must be mean, sum, min, max or count",
                );
            }
        }
        problems.range(
            &format!("{key}.max_metric_series"),
            self.max_metric_series,
            1,
            100_000,
        );
        for (index, section) in self.metrics.iter().enumerate() {
            if !self.groups.iter().any(|g| &g.name == section)
                && !self.resample.iter().any(|r| &r.name == section)
            {
                problems.push(
                    &format!("{key}.metrics[{index}]"),
                    format!("{section} is not the name of a group or resample section"),
                );
            }
        }
        for (index, chart) in self.charts.iter().enumerate() {
            let at = format!("{key}.charts[{index}]");
            if self.html.is_none() {
                problems.push(&at, "charts are drawn in the HTML report: set `html`");
            }
            if !self.has_series(&chart.series) {
                problems.push(
                    &format!("{at}.series"),
                    format!(
                        "{} is not the name of a resample or rolling section",
                        chart.series
                    ),
                );
            }
            for (i, marker) in chart.markers.iter().enumerate() {
                if !self.anomalies.iter().any(|set| &set.name == marker) {
                    problems.push(
                        &format!("{at}.markers[{i}]"),
                        format!("{marker} is not the name of an anomaly set"),
                    );
                }
            }
        }
    }
}

/// A condition tests something, and only what its kind allows.
fn check_condition(condition: &Condition, at: &str, problems: &mut Problems<'_>) {
    let bounds = [condition.gt, condition.ge, condition.lt, condition.le];
    let has_bounds = bounds.iter().any(Option::is_some);
    if condition.sigma.is_some() && condition.z.is_some() {
        problems.push(at, "has both `sigma` and `z`: give one");
    }
    if let Some((name, k)) = [("sigma", condition.sigma), ("z", condition.z)]
        .into_iter()
        .find_map(|(name, k)| Some((name, k?)))
    {
        if has_bounds {
            problems.push(
                at,
                format!("has both `{name}` and bounds: make them two conditions"),
            );
        }
        if !(k.is_finite() && k > 0.0) {
            problems.push(&format!("{at}.{name}"), format!("must be above 0, got {k}"));
        }
        if condition.ddof > 1 {
            problems.push(&format!("{at}.ddof"), "must be 0 or 1");
        }
    } else if !has_bounds {
        problems.push(
            at,
            "tests nothing: give `gt`, `ge`, `lt`, `le`, `sigma` or `z`",
        );
    }
    for (name, bound) in ["gt", "ge", "lt", "le"].iter().zip(bounds) {
        if bound.is_some_and(|b| !b.is_finite()) {
            problems.push(&format!("{at}.{name}"), "must be a finite number");
        }
    }
}

fn check_aggregations(
    fields: &Aggregations,
    at: &str,
    problems: &mut Problems<'_>,
    column: &dyn Fn(&mut Problems<'_>, String, &str),
) {
    if fields.0.is_empty() {
        problems.push(at, "is empty: name a field and its statistics");
    }
    for (field, stats) in &fields.0 {
        column(problems, format!("{at}.{field}"), field);
        if stats.is_empty() {
            problems.push(&format!("{at}.{field}"), "lists no statistic");
        }
    }
}
