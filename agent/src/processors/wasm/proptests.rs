//! Arbitrary plugin output through the host's conversion and into every
//! sink's encoder: the boundary check is the only thing between a hostile
//! plugin and code that indexes, so whatever it lets through must be safe to
//! read everywhere, and whatever it rejects must come with a reason.
//!
//! Each case is a well-formed output (with awkward but legal names, values,
//! NaNs and extreme timestamps), left as it is or broken in exactly one of
//! the ways a plugin can break the contract; so the test knows the answer:
//! every broken output is rejected with a reason, every other one accepted
//! and then read by every sink. `PROPTEST_CASES` sets the number of cases:
//! 10,000 by default, 1,000,000 in `scripts/test.sh` (optimised, ~30 s).

use std::cell::Cell;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::check::{InputSize, MAX_TEXT_BYTES, MAX_VALUE_BYTES};
use super::convert::output_from_wit;
use super::output::{PluginOutput, RejectedItem};
use super::wit;
use crate::event::{Batch, ColumnData, Points};
use crate::sinks;

/// Names that are valid but awkward downstream: characters Prometheus
/// replaces, names that collide once replaced or with the sinks' own labels,
/// non-ASCII, quotes, separators and formula prefixes.
const NAMES: [&str; 14] = [
    "t",
    "v",
    "a",
    "b",
    "type",
    "series",
    "component",
    "a-b",
    "a_b",
    "é",
    "0x",
    "=1+2",
    "a \"b\"\n",
    "__name__",
];

/// Values: the names, plus empty, control characters and long text.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(NAMES.to_vec()).prop_map(str::to_owned),
        1 => Just(String::new()),
        1 => Just("\u{0}\u{7}\r\n\t,;\"'\\".to_owned()),
        1 => Just("ü".repeat(300)),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(NAMES.to_vec()).prop_map(str::to_owned)
}

/// Up to three pairs with distinct keys, sorted by key.
fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map(name(), value(), 0..3).prop_map(|map| map.into_iter().collect())
}

fn series() -> impl Strategy<Value = wit::Series> {
    (name(), pairs()).prop_map(|(name, tags)| wit::Series { name, tags })
}

fn column(len: usize) -> impl Strategy<Value = wit::Column> {
    let data = prop_oneof![
        prop::collection::vec(any::<f64>(), len..=len).prop_map(wit::ColumnData::Float),
        prop::collection::vec(any::<i64>(), len..=len).prop_map(wit::ColumnData::Int),
        prop::collection::vec(any::<bool>(), len..=len).prop_map(wit::ColumnData::Boolean),
        prop::collection::vec(value(), len..=len).prop_map(|values| {
            let mut text = wit::TextColumn {
                data: Vec::new(),
                ends: Vec::new(),
            };
            for value in values {
                text.data.extend_from_slice(value.as_bytes());
                text.ends.push(u32::try_from(text.data.len()).unwrap());
            }
            wit::ColumnData::Text(text)
        }),
    ];
    let bitmap = len.div_ceil(8);
    let present = prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), bitmap..=bitmap),
    ];
    (name(), data, present).prop_map(|(name, data, present)| wit::Column {
        name,
        data,
        present,
    })
}

fn points() -> impl Strategy<Value = wit::Points> {
    (0usize..5, 1u32..3).prop_flat_map(|(len, tables)| {
        (
            prop::collection::vec(series(), tables as usize),
            prop::collection::vec(0..tables, len),
            prop::collection::vec(any::<i64>(), len),
            prop::collection::vec(column(len), 0..3),
        )
            .prop_map(|(series, series_index, timestamps, columns)| wit::Points {
                series,
                series_index,
                timestamps,
                columns,
            })
    })
}

fn alert() -> impl Strategy<Value = wit::Alert> {
    (
        any::<i64>(),
        name(),
        series(),
        pairs(),
        prop::option::of(any::<f64>()),
        prop::option::of(any::<f64>()),
        value(),
        any::<bool>(),
    )
        .prop_map(
            |(timestamp, kind, series, labels, value, score, description, firing)| wit::Alert {
                timestamp,
                kind,
                severity: wit::Severity::Critical,
                state: if firing {
                    wit::AlertState::Firing
                } else {
                    wit::AlertState::Resolved
                },
                series,
                labels,
                value,
                score,
                description,
            },
        )
}

/// A well-formed output and the input it answers.
fn valid() -> impl Strategy<Value = (wit::Output, InputSize)> {
    (
        points(),
        prop::collection::vec(alert(), 0..3),
        1usize..4,
        1usize..4,
        prop::collection::vec((any::<bool>(), 0u32..3, value()), 0..3),
    )
        .prop_map(|(points, alerts, records, input_points, errors)| {
            let errors = errors
                .into_iter()
                .map(|(record, index, reason)| wit::ItemError {
                    item: if record {
                        wit::Item::Record(index % u32::try_from(records).unwrap())
                    } else {
                        wit::Item::Point(index % u32::try_from(input_points).unwrap())
                    },
                    reason,
                })
                .collect();
            (
                wit::Output {
                    points,
                    alerts,
                    errors,
                },
                InputSize {
                    records,
                    points: input_points,
                },
            )
        })
}

/// How many ways [`corrupt`] breaks an output.
const CORRUPTIONS: u8 = 19;

/// Break `output` in the way `kind` says; `salt` varies where. Every kind
/// breaks it: one that does not apply to this output (a text cut between
/// two values, when there are fewer than two) breaks it the last way.
#[allow(clippy::too_many_lines, reason = "one arm per way to break it")]
fn corrupt(output: &mut wit::Output, input: InputSize, kind: u8, salt: usize) {
    let points = &mut output.points;
    let len = points.timestamps.len();
    let tables = points.series.len();
    let any_series = salt % tables;
    let alert = |output: &mut wit::Output| -> usize {
        if output.alerts.is_empty() {
            output.alerts.push(wit::Alert {
                timestamp: 0,
                kind: "k".into(),
                severity: wit::Severity::Info,
                state: wit::AlertState::Firing,
                series: wit::Series {
                    name: "s".into(),
                    tags: Vec::new(),
                },
                labels: Vec::new(),
                value: None,
                score: None,
                description: String::new(),
            });
        }
        salt % output.alerts.len()
    };
    let text = |data: Vec<u8>, ends: Vec<u32>| wit::Column {
        name: "x".into(),
        data: wit::ColumnData::Text(wit::TextColumn { data, ends }),
        present: Vec::new(),
    };
    match kind {
        0 => points.series_index.push(0),
        1 => points.timestamps.push(0),
        2 if len > 0 => points.series_index[salt % len] = u32::try_from(tables + salt % 3).unwrap(),
        3 => match points.columns.first_mut().map(|c| &mut c.data) {
            Some(wit::ColumnData::Float(v)) => v.push(0.0),
            Some(wit::ColumnData::Int(v)) => {
                if v.pop().is_none() {
                    v.extend([1, 2]);
                }
            }
            Some(wit::ColumnData::Boolean(v)) => v.push(true),
            Some(wit::ColumnData::Text(t)) => t.ends.push(u32::try_from(t.data.len()).unwrap()),
            None => points.columns.push(wit::Column {
                name: "x".into(),
                data: wit::ColumnData::Float(vec![0.0; len + 1]),
                present: Vec::new(),
            }),
        },
        4 => points.columns.push(wit::Column {
            name: "x".into(),
            data: wit::ColumnData::Int(vec![0; len]),
            present: vec![0; len.div_ceil(8) + 1 + salt % 2],
        }),
        5 if len >= 2 => {
            let mut ends: Vec<u32> = (1..=u32::try_from(len).unwrap()).collect();
            ends.swap(0, 1);
            points.columns.push(text(vec![b'a'; len], ends));
        }
        6 if len > 0 => {
            let ends = (1..=u32::try_from(len).unwrap()).map(|e| e + 1).collect();
            points.columns.push(text(vec![b'a'; len], ends));
        }
        7 => {
            let ends = (1..=u32::try_from(len).unwrap()).collect();
            let mut data = vec![b'a'; len.max(1)];
            let at = salt % data.len();
            data[at] = 0xff;
            points.columns.push(text(data, ends));
        }
        8 if len > 0 => {
            let ends = (1..=u32::try_from(len).unwrap())
                .map(|e| e * 2 - 1)
                .collect();
            points
                .columns
                .push(text("é".repeat(len).into_bytes(), ends));
        }
        9 => points.series[any_series].name.clear(),
        10 => points.series[any_series].name = "n".repeat(257),
        11 => {
            points.series[any_series].tags =
                vec![("b".into(), String::new()), ("a".into(), String::new())]
        }
        12 => points.series[any_series].tags = vec![("a".into(), String::new()); 2],
        13 => {
            points.series[any_series].tags = (0..65)
                .map(|i| (format!("k{i:03}"), String::new()))
                .collect()
        }
        14 => points.series[any_series].tags = vec![(String::new(), "v".into())],
        15 => {
            let i = alert(output);
            output.alerts[i].kind.clear();
        }
        16 => {
            let i = alert(output);
            output.alerts[i].labels = vec![("a".into(), "1".into()), ("a".into(), "2".into())];
        }
        17 => {
            let i = alert(output);
            if salt.is_multiple_of(2) {
                output.alerts[i].description = "d".repeat(MAX_TEXT_BYTES + 1);
            } else {
                output.alerts[i].labels = vec![("a".into(), "v".repeat(MAX_VALUE_BYTES + 1))];
            }
        }
        _ => {
            let (index, of) = if salt.is_multiple_of(2) {
                (
                    input.records + salt % 3,
                    wit::Item::Record as fn(u32) -> wit::Item,
                )
            } else {
                (
                    input.points + salt % 3,
                    wit::Item::Point as fn(u32) -> wit::Item,
                )
            };
            output.errors.push(wit::ItemError {
                item: of(u32::try_from(index).unwrap()),
                reason: String::new(),
            });
        }
    }
}

/// A valid output, or one broken in exactly one way (and whether it is).
fn output() -> impl Strategy<Value = (wit::Output, InputSize, bool)> {
    (valid(), prop::option::of((0..CORRUPTIONS, any::<usize>()))).prop_map(
        |((mut output, input), corruption)| {
            if let Some((kind, salt)) = corruption {
                corrupt(&mut output, input, kind, salt);
            }
            (output, input, corruption.is_some())
        },
    )
}

/// Read every value of an output the check let through, the way sinks do,
/// without the safety nets readers may have: anything out of bounds panics.
fn read_everything(output: &PluginOutput, input: InputSize) {
    let points: &Points = &output.points;
    for point in points.iter() {
        let _ = (point.series(), point.timestamp());
        for column in &points.columns {
            if !column.is_present(point.index()) {
                continue;
            }
            match &column.data {
                ColumnData::Text(text) => {
                    assert!(text.get(point.index()).is_some(), "text value readable");
                }
                data => assert!(point.index() < data.len()),
            }
        }
    }
    for rejected in &output.rejected {
        match rejected {
            RejectedItem::Record { index, .. } => assert!(*index < input.records),
            RejectedItem::Point { index, .. } => assert!(*index < input.points),
        }
    }
}

/// Every label name of every sample in an exposition is unique in its
/// sample, or Prometheus rejects the whole scrape.
fn assert_scrapable(exposition: &str) {
    for line in exposition.lines().filter(|l| !l.starts_with('#')) {
        let Some((_, labels)) = line.split_once('{') else {
            continue;
        };
        let mut names = Vec::new();
        let mut rest = labels;
        while let Some((name, after)) = rest.split_once("=\"") {
            names.push(name.trim_start_matches(','));
            // Skip the quoted value, honouring escapes.
            let mut escaped = false;
            let end = after
                .char_indices()
                .find(|&(_, c)| {
                    let closes = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    closes
                })
                .map_or(after.len(), |(i, _)| i + 1);
            rest = &after[end..];
        }
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "repeated label in `{line}`");
    }
}

#[test]
fn arbitrary_output_is_rejected_with_a_reason_or_safe_everywhere() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let component: Arc<str> = Arc::from("fuzzed");
    let (accepted, rejected) = (Cell::new(0u64), Cell::new(0u64));
    runner
        .run(&output(), |(output, input, broken)| {
            match output_from_wit(output, &component, &component, input) {
                Err(reason) => {
                    prop_assert!(broken, "a valid output was rejected: {reason}");
                    prop_assert!(!reason.is_empty());
                    rejected.set(rejected.get() + 1);
                }
                Ok(output) => {
                    prop_assert!(!broken, "a broken output was accepted");
                    accepted.set(accepted.get() + 1);
                    read_everything(&output, input);
                    let batch = Batch {
                        component: Arc::clone(&component),
                        points: output.points,
                        alerts: output.alerts,
                        ..Batch::default()
                    };
                    let _ = sinks::file::encode_every_way(&batch);
                    let mut console = Vec::new();
                    sinks::console::write_batch(&mut console, &batch, false).unwrap();
                    sinks::console::write_batch(&mut console, &batch, true).unwrap();
                    assert_scrapable(&sinks::prometheus::expose(&batch));
                    let report = sinks::report::render_alerts(&batch);
                    let parsed: serde_json::Value = serde_json::from_str(&report).unwrap();
                    prop_assert_eq!(parsed.as_array().map(Vec::len), Some(batch.alerts.len()));
                }
            }
            Ok(())
        })
        .unwrap();
    // Both sides of the check were exercised in earnest.
    let (accepted, rejected) = (accepted.get(), rejected.get());
    let total = accepted + rejected;
    assert!(accepted * 20 > total, "{accepted} of {total} accepted");
    assert!(rejected * 20 > total, "{rejected} of {total} rejected");
}
