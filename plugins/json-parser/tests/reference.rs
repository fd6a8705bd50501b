//! The json parser against an independent reading of the same records:
//! `serde_json::Value` (the whole tree, flattened by hand, and
//! `Value::pointer` for paths), over generated records with random nesting,
//! keys and strings with every kind of escape, and numbers in every JSON
//! form.

use std::collections::BTreeMap;

use foghorn_plugin::{Batch, ItemError, Records, Value as Field, testing};
use json_parser::JsonParser;
use serde_json::Value;

/// A fixed pseudo-random sequence (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Keys: with dots, slashes, tildes, quotes, non-ASCII and digits, but no
/// `_`, so that flattened names cannot collide.
const KEYS: [&str; 12] = [
    "a", "b", "c", "cpu", "x.y", "k~1", "s/t", "é", "q\"", "0", "1", "sp ace",
];

/// `text` as a JSON string, each character escaped or not at random.
fn string(rng: &mut Rng, text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if rng.below(2) == 0 => out.push_str("\\n"),
            '\t' if rng.below(2) == 0 => out.push_str("\\t"),
            '/' if rng.below(2) == 0 => out.push_str("\\/"),
            c if (c as u32) < 0x20 || rng.below(4) == 0 => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    if rng.below(2) == 0 {
                        out.push_str(&format!("\\u{unit:04x}"));
                    } else {
                        out.push_str(&format!("\\u{unit:04X}"));
                    }
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number in one of its many forms.
fn number(rng: &mut Rng) -> String {
    let digits = |rng: &mut Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect()
    };
    let int = |rng: &mut Rng| -> String {
        let n = 1 + rng.below(6);
        let mut d = digits(rng, n);
        if d.len() > 1 && d.starts_with('0') {
            d.replace_range(0..1, "7");
        }
        d
    };
    let sign = if rng.below(3) == 0 { "-" } else { "" };
    match rng.below(10) {
        0 => (*rng.pick(&[
            "0",
            "-0",
            "18446744073709551615",
            "-9223372036854775808",
            "9223372036854775808",
            "123456789012345678901234567890",
            "5e-324",
            "1.7976931348623157e308",
            "0.30000000000000004",
            "-0.0",
            "1E400",
        ]))
        .replace("1E400", "1E300"),
        1 | 2 => format!("{sign}{}", int(rng)),
        3 | 4 => {
            let (whole, places) = (int(rng), 1 + rng.below(8));
            format!("{sign}{whole}.{}", digits(rng, places))
        }
        5 => format!("{sign}{}e{}", int(rng), rng.below(40)),
        6 => format!("{sign}{}.{}E-{}", int(rng), digits(rng, 2), rng.below(30)),
        7 => format!("{sign}{}e+{}", int(rng), rng.below(12)),
        _ => {
            let places = 1 + rng.below(17);
            format!("{sign}0.{}", digits(rng, places))
        }
    }
}

fn text(rng: &mut Rng) -> String {
    const CHARS: [char; 16] = [
        'a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\u{1}', 'é', '€', '😀', '.', '~', '\u{7f}',
    ];
    (0..rng.below(8)).map(|_| *rng.pick(&CHARS)).collect()
}

/// Optional whitespace.
fn ws(rng: &mut Rng) -> &'static str {
    const WS: [&str; 6] = ["", "", "", " ", "\t", "  "];
    WS[rng.below(WS.len())]
}

fn value(rng: &mut Rng, depth: usize) -> String {
    match rng.below(if depth >= 4 { 5 } else { 8 }) {
        0 | 1 => number(rng),
        2 => {
            let t = text(rng);
            string(rng, &t)
        }
        3 => (*rng.pick(&["true", "false"])).to_owned(),
        4 => "null".to_owned(),
        5 | 6 => object(rng, depth + 1),
        _ => {
            let items: Vec<String> = (0..rng.below(4))
                .map(|_| format!("{}{}{}", ws(rng), value(rng, depth + 1), ws(rng)))
                .collect();
            format!("[{}]", items.join(","))
        }
    }
}

fn object(rng: &mut Rng, depth: usize) -> String {
    let mut keys: Vec<&str> = Vec::new();
    for _ in 0..rng.below(6) {
        let key = *rng.pick(&KEYS);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let members: Vec<String> = keys
        .iter()
        .map(|key| {
            format!(
                "{}{}{}:{}{}",
                ws(rng),
                string(rng, key),
                ws(rng),
                ws(rng),
                value(rng, depth)
            )
        })
        .collect();
    format!("{{{}}}", members.join(","))
}

/// A scalar as the parser's field value, rendered; `None` for null.
fn scalar(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => format!("{:?}", Field::Bool(*b)),
        Value::Number(n) => format!("{:?}", Field::Float(n.as_f64().unwrap())),
        Value::String(s) => format!("{:?}", Field::Text(s)),
        Value::Array(_) | Value::Object(_) => unreachable!("a scalar"),
    })
}

/// Every scalar of `value`, named by its path joined with `_` (`None`:
/// the record itself).
fn flattened(value: &Value, name: Option<&str>, into: &mut BTreeMap<String, String>) {
    let child = |key: &str| match name {
        None => key.to_owned(),
        Some(name) => format!("{name}_{key}"),
    };
    match value {
        Value::Object(members) => {
            for (key, value) in members {
                flattened(value, Some(&child(key)), into);
            }
        }
        Value::Array(items) => {
            for (index, value) in items.iter().enumerate() {
                flattened(value, Some(&child(&index.to_string())), into);
            }
        }
        scalar_value => {
            if let Some(text) = scalar(scalar_value) {
                into.insert(name.unwrap_or_default().to_owned(), text);
            }
        }
    }
}

/// A record's point, as its series and fields, or its reject reason.
type Read = Result<(String, BTreeMap<String, String>), String>;

/// What the parser made of each record.
fn run(config: &str, records: &[String]) -> Vec<Read> {
    let mut parser: JsonParser = testing::plugin(config);
    let mut batch = Records::default();
    for record in records {
        batch.push(0, record.as_bytes());
    }
    let out = testing::run(
        &mut parser,
        &Batch {
            records: batch,
            ..Batch::default()
        },
    );
    let mut rejects: BTreeMap<usize, String> = out
        .errors()
        .iter()
        .map(|e| match e {
            ItemError::Record { index, reason } => (*index as usize, reason.clone()),
            ItemError::Point { .. } => unreachable!(),
        })
        .collect();
    let points = out.into_points();
    let mut points = points.iter();
    (0..records.len())
        .map(|index| match rejects.remove(&index) {
            Some(reason) => Err(reason),
            None if records[index].trim().is_empty() => Err("blank".to_owned()),
            None => {
                let point = points.next().expect("a point for each record not rejected");
                let fields = point
                    .fields()
                    .map(|(name, value)| (name.to_owned(), format!("{value:?}")))
                    .collect();
                Ok((point.series().to_string(), fields))
            }
        })
        .collect()
}

fn records(seed: u64, n: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    (0..n).map(|_| object(&mut rng, 0)).collect()
}

#[test]
fn flatten_reads_every_scalar_as_serde_json_does() {
    let records = records(0x9e37_79b9_7f4a_7c15, 3_000);
    let got = run(r#"{ "flatten": true, "max_fields": 100000 }"#, &records);
    let mut read = 0;
    for (record, got) in records.iter().zip(got) {
        let tree: Value = serde_json::from_str(record).unwrap();
        let mut want = BTreeMap::new();
        flattened(&tree, None, &mut want);
        match got {
            Ok((_, fields)) => {
                assert_eq!(fields, want, "{record}");
                read += 1;
            }
            Err(reason) => {
                assert!(want.is_empty(), "{record}: {reason}");
                assert_eq!(reason, "no fields: the record has no values but null");
            }
        }
    }
    assert!(read > 2_000, "most records have a value: {read}");
}

#[test]
fn paths_read_what_json_pointers_point_to() {
    // (path as configured, the same as a JSON Pointer, field name)
    let paths = [
        ("a", "/a", "f_a"),
        ("b.c", "/b/c", "f_bc"),
        ("/x.y/0", "/x.y/0", "f_xy0"),
        ("a.1.cpu", "/a/1/cpu", "f_a1cpu"),
        ("/k~01", "/k~01", "f_k1"),
        ("/s~1t/é", "/s~1t/é", "f_st"),
        ("/q\"/sp ace", "/q\"/sp ace", "f_q"),
        ("0.0", "/0/0", "f_00"),
        ("cpu", "/cpu", "f_cpu"),
    ];
    let fields: Vec<String> = paths
        .iter()
        .map(|(path, _, name)| {
            format!(
                "{}: {}",
                serde_json::to_string(path).unwrap(),
                serde_json::to_string(name).unwrap()
            )
        })
        .collect();
    let config = format!(
        r#"{{ "fields": {{ {} }}, "tag_paths": {{ "c": "tag_c" }} }}"#,
        fields.join(", ")
    );
    let records = records(0x2545_f491_4f6c_dd1d, 20_000);
    let got = run(&config, &records);
    let (mut read, mut compound) = (0, 0);
    for (record, got) in records.iter().zip(got) {
        let tree: Value = serde_json::from_str(record).unwrap();
        let mut want = BTreeMap::new();
        let mut bad = false;
        for (_, pointer, name) in paths {
            match tree.pointer(pointer) {
                Some(Value::Object(_) | Value::Array(_)) => bad = true,
                Some(value) => {
                    if let Some(text) = scalar(value) {
                        want.insert(name.to_owned(), text);
                    }
                }
                None => {}
            }
        }
        let tag = match tree.pointer("/c") {
            Some(Value::Object(_) | Value::Array(_)) => {
                bad = true;
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        };
        match got {
            Ok((series, fields)) => {
                assert!(!bad, "{record} must be rejected");
                assert_eq!(fields, want, "{record}");
                let want_series = match tag.filter(|t| !t.is_empty()) {
                    Some(tag) => foghorn_plugin::Series::new("json").with_tag("tag_c", tag),
                    None => foghorn_plugin::Series::new("json"),
                };
                // Numbers as tags are written shortest; compare the parsed value.
                if tree.pointer("/c").is_some_and(Value::is_number) {
                    let got: f64 = series
                        .split('=')
                        .nth(1)
                        .unwrap()
                        .trim_end_matches('}')
                        .parse()
                        .unwrap();
                    assert_eq!(
                        got,
                        tree.pointer("/c").unwrap().as_f64().unwrap(),
                        "{record}"
                    );
                } else {
                    assert_eq!(series, want_series.to_string(), "{record}");
                }
                read += 1;
            }
            Err(reason) if bad => {
                assert!(reason.contains(", found an "), "{record}: {reason}");
                compound += 1;
            }
            Err(reason) => {
                assert!(want.is_empty(), "{record}: {reason}");
                assert_eq!(
                    reason,
                    "no fields: none of the paths of `fields` has a value"
                );
            }
        }
    }
    assert!(
        read > 2_000 && compound > 500,
        "both kinds: {read} read, {compound} rejected"
    );
}

/// Records broken at random: a byte deleted, inserted or doubled, or the
/// record cut short.
fn mutated(seed: u64, n: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    const INSERTS: [&str; 16] = [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "0", "-", ".", "e", "x", " ", "\u{1}", "n",
    ];
    records(seed ^ 0xdead_beef, n)
        .into_iter()
        .map(|record| {
            let mut record = record.into_bytes();
            for _ in 0..1 + rng.below(2) {
                let at = rng.below(record.len() + 1);
                match rng.below(4) {
                    0 if at < record.len() => {
                        record.remove(at);
                    }
                    1 if at < record.len() => {
                        let byte = record[at];
                        record.insert(at, byte);
                    }
                    2 => record.truncate(at.max(1)),
                    _ => {
                        let insert = rng.pick(&INSERTS).as_bytes();
                        record.splice(at..at, insert.iter().copied());
                    }
                }
            }
            // Keep it UTF-8: a cut character is not what this tests.
            String::from_utf8_lossy(&record).into_owned()
        })
        .collect()
}

/// The parser accepts exactly the JSON serde_json accepts, and reads it as
/// serde_json does.
#[test]
fn broken_records_are_rejected_exactly_when_serde_json_rejects_them() {
    let records = mutated(0x853c_49e6_748f_ea9b, 20_000);
    let flat = run(r#"{ "flatten": true, "max_fields": 100000 }"#, &records);
    let named = run(
        r#"{ "fields": { "a": "a", "b.c": "bc", "/x.y/0": "xy" } }"#,
        &records,
    );
    let (mut valid, mut invalid) = (0, 0);
    for ((record, flat), named) in records.iter().zip(flat).zip(named) {
        if record.trim().is_empty() {
            continue;
        }
        let syntax = |result: &Read| {
            result.as_ref().err().is_some_and(|reason| {
                reason.starts_with("invalid JSON at line 1 column ")
                    || reason.starts_with("not a JSON object")
            })
        };
        match serde_json::from_str::<Value>(record) {
            Ok(tree) => {
                valid += 1;
                if !tree.is_object() {
                    assert_eq!(flat, Err("not a JSON object".to_owned()), "{record}");
                    continue;
                }
                assert!(!syntax(&named), "{record}: {named:?}");
                let mut want = BTreeMap::new();
                flattened(&tree, None, &mut want);
                match flat {
                    Ok((_, fields)) => assert_eq!(fields, want, "{record}"),
                    Err(reason) => assert!(want.is_empty(), "{record}: {reason}"),
                }
            }
            Err(error) => {
                invalid += 1;
                assert!(syntax(&flat), "{record}: {error} but {flat:?}");
                // Rejected for the first problem met, which may come before
                // the broken syntax; skipped numbers are checked for their
                // syntax only.
                assert!(
                    named.is_err() || error.to_string().starts_with("number out of range"),
                    "{record}: {error} but {named:?}"
                );
            }
        }
    }
    assert!(
        valid > 2_000 && invalid > 10_000,
        "{valid} valid, {invalid} invalid"
    );
}
