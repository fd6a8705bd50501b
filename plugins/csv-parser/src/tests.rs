use foghorn_plugin::{ItemError, testing};

use super::*;

fn csv(config: &str) -> CsvParser {
    testing::plugin(config)
}

/// (series, timestamp, fields in name order) of each point, and the rejects.
fn parse(parser: &mut CsvParser, lines: &[&str]) -> (Vec<String>, Vec<String>) {
    let records: Vec<(i64, &str)> = lines.iter().map(|l| (7, *l)).collect();
    let out = testing::run(parser, &testing::records(&records));
    let rejects = out
        .errors()
        .iter()
        .map(|e| match e {
            ItemError::Record { index, reason } => format!("{index}: {reason}"),
            ItemError::Point { .. } => unreachable!(),
        })
        .collect();
    let points = out
        .into_points()
        .iter()
        .map(|p| {
            let mut fields: Vec<String> = p.fields().map(|(k, v)| format!("{k}={v:?}")).collect();
            fields.sort();
            format!("{} {} {}", p.series(), p.timestamp(), fields.join(" "))
        })
        .collect();
    (points, rejects)
}

#[test]
fn a_header_names_the_columns_and_types_tags_and_time_apply() {
    let mut p = csv(
        r#"{ "header": true, "measurement": "fleet", "tags": { "site": "lab" },
             "tag_columns": ["device"], "types": { "errors": "int" },
             "timestamp": { "column": "time", "format": "%Y-%m-%d %H:%M:%S" } }"#,
    );
    let (points, rejects) = parse(
        &mut p,
        &[
            "time,device,temp,errors,status",
            "1970-01-01 00:00:01,d1,21.5,3,OK",
            "1970-01-01 00:00:02, d2 ,,0,\"needs, care\"",
            "",
            "time,device,temp,errors,status",
        ],
    );
    assert_eq!(rejects, [""; 0]);
    assert_eq!(
        points,
        [
            "fleet{device=d1,site=lab} 1000000000 errors=Int(3) status=Text(\"OK\") temp=Float(21.5)",
            "fleet{device=d2,site=lab} 2000000000 errors=Int(0) status=Text(\"needs, care\")",
        ]
    );
    let counters = testing::counters();
    assert_eq!(counters.get("header_lines"), Some(&1));
    assert_eq!(counters.get("blank_lines"), Some(&1));
}

#[test]
fn every_reject_says_why() {
    let mut p = csv(
        r#"{ "columns": ["t", "cpu", "on"], "types": { "cpu": "float", "on": "bool" },
             "timestamp": { "column": "t", "format": "unix" }, "required": ["on"],
             "max_line_length": 40 }"#,
    );
    let long = format!("1,2,{}", "x".repeat(40));
    let (points, rejects) = parse(
        &mut p,
        &[
            "1,2",
            "1,abc,true",
            "1,NaN,true",
            "x,1,true",
            "1,1,",
            ",1,true",
            "1,\"2,true",
            &long,
            "1,1,maybe",
            "2,1.5,1",
        ],
    );
    assert_eq!(
        rejects,
        [
            "0: row has 2 columns, `columns` has 3",
            "1: column cpu: \"abc\" is not a float",
            "2: column cpu: \"NaN\" is not a finite number",
            "3: column t: timestamp \"x\" is not unix: not a number",
            "4: missing required column on",
            "5: missing timestamp column t",
            "6: unterminated quote",
            "7: line too long: 44 bytes, cut at max_line_length (40)",
            "8: column on: \"maybe\" is not a bool",
        ]
    );
    assert_eq!(points, ["csv 2000000000 cpu=Float(1.5) on=Bool(true)"]);
    let records = testing::records(&[]);
    let mut bad = Records::default();
    bad.push(1, b"1,\xff,true");
    let out = testing::run(
        &mut p,
        &Batch {
            records: bad,
            ..records
        },
    );
    assert_eq!(
        out.errors(),
        [ItemError::Record {
            index: 0,
            reason: "invalid UTF-8 at byte 2".into()
        }]
    );
}

#[test]
fn a_header_without_a_named_column_is_rejected_and_the_next_line_tried() {
    let mut p = csv(r#"{ "header": true, "tag_columns": ["device"] }"#);
    let (points, rejects) = parse(&mut p, &["a,b", "device,v", "d1,1"]);
    assert_eq!(rejects, ["0: header: no column device named in the config"]);
    assert_eq!(points, ["csv{device=d1} 7 v=Float(1.0)"]);
}

#[test]
fn the_header_survives_a_restart() {
    let config = r#"{ "header": true }"#;
    let mut first = csv(config);
    parse(&mut first, &["a,b", "1,2"]);
    let mut second = csv(config);
    second.restore(&first.snapshot()).unwrap();
    let (points, rejects) = parse(&mut second, &["3,4", "a,b"]);
    assert!(rejects.is_empty());
    assert_eq!(points, ["csv 7 a=Float(3.0) b=Float(4.0)"]);
}

#[test]
fn cells_split_as_the_csv_crate_splits_them() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let alphabet = ["a", "b", " ", ",", "\"", "1", ".", "é", "x"];
    let mut checked = 0;
    for _ in 0..2_000 {
        let cells: Vec<String> = (0..3)
            .map(|_| {
                let text: String = (0..next(6)).map(|_| alphabet[next(9) as usize]).collect();
                if text.contains([',', '"']) || next(4) == 0 {
                    format!("\"{}\"", text.replace('"', "\"\""))
                } else {
                    text
                }
            })
            .collect();
        let line = cells.join(",");
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        let want: Vec<String> = match reader.records().next() {
            Some(Ok(record)) => record
                .iter()
                .map(|c| c.trim_matches([' ', '\t']).to_owned())
                .collect(),
            _ => continue,
        };
        let mut splitter = split::Splitter::new(b',', b'"');
        let n = splitter.split(line.as_bytes()).unwrap();
        let got: Vec<String> = (0..n)
            .map(|i| cell_text(&splitter, i, true).to_owned())
            .collect();
        assert_eq!(got, want, "{line}");
        checked += 1;
    }
    assert!(checked > 1_500);
}

#[test]
fn config_errors_are_all_reported() {
    let error = testing::config_error::<CsvParser>(
        r#"{ "delimiter": ";;", "columns": ["a", "a"], "header": true, "tag_columns": ["z"] }"#,
    );
    for part in [
        "delimiter \";;\" must be one ASCII character",
        "exclude each other",
        "columns[1]: a is listed twice",
        "tag column z is not one of `columns`",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }
    assert!(testing::config_error::<CsvParser>("{}").contains("name the `columns`"));
}
