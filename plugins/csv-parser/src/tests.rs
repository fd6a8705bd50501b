use foghorn_plugin::{ItemError, testing};

use super::*;

fn csv(config: &str) -> CsvParser {
    testing::plugin(config)
}

/// Each point as `series timestamp field=value …` (fields in name order),
/// and each reject as `index: reason`.
fn render(out: Output) -> (Vec<String>, Vec<String>) {
    let rejects = out
        .errors()
        .iter()
        .map(|e| match e {
            ItemError::Record { index, reason } => format!("{index}: {reason}"),
            ItemError::Point { .. } => unreachable!("no point is rejected"),
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

/// Parse `lines`, each received at 7.
fn parse(parser: &mut CsvParser, lines: &[&str]) -> (Vec<String>, Vec<String>) {
    let records: Vec<(i64, &str)> = lines.iter().map(|l| (7, *l)).collect();
    render(testing::run(parser, &testing::records(&records)))
}

/// One line under `config`: the point, or the reason it was rejected.
fn one(config: &str, line: &str) -> Result<String, String> {
    let (points, rejects) = parse(&mut csv(config), &[line]);
    match (points.as_slice(), rejects.as_slice()) {
        ([point], []) => Ok(point.clone()),
        ([], [reject]) => Err(reject.trim_start_matches("0: ").to_owned()),
        _ => panic!("one point or one reject: {points:?} {rejects:?}"),
    }
}

/// Lines as raw bytes, each received at 7.
fn parse_bytes(parser: &mut CsvParser, lines: &[&[u8]]) -> (Vec<String>, Vec<String>) {
    let mut records = Records::default();
    for line in lines {
        records.push(7, line);
    }
    render(testing::run(
        parser,
        &Batch {
            records,
            ..Batch::default()
        },
    ))
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
            "1970-01-01 00:00:03,d1,22,1,OK",
        ],
    );
    assert_eq!(rejects, [""; 0]);
    assert_eq!(
        points,
        [
            "fleet{device=d1,site=lab} 1000000000 errors=Int(3) status=Text(\"OK\") temp=Float(21.5)",
            "fleet{device=d2,site=lab} 2000000000 errors=Int(0) status=Text(\"needs, care\")",
            "fleet{device=d1,site=lab} 3000000000 errors=Int(1) status=Text(\"OK\") temp=Float(22.0)",
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
            "1,2,true\n3,4,true",
            "1,2,true,",
            "2,1.5,1",
        ],
    );
    assert_eq!(
        rejects,
        [
            "0: row has 2 columns, `columns` has 3",
            "1: column cpu: \"abc\" is not a float",
            "2: column cpu: \"NaN\" is not a finite number (non_finite: keep accepts it)",
            "3: column t: timestamp \"x\" is not unix: not a number",
            "4: missing required column on",
            "5: missing timestamp column t",
            "6: unterminated quote",
            "7: line too long: 44 bytes, cut at max_line_length (40)",
            "8: column on: \"maybe\" is not a bool",
            "9: line break outside quotes at byte 8: a line holds one row",
            "10: row has 4 columns, `columns` has 3",
        ]
    );
    assert_eq!(points, ["csv 2000000000 cpu=Float(1.5) on=Bool(true)"]);
    let (points, rejects) = parse_bytes(&mut p, &[b"1,\xff,true", b"1,\xc3"]);
    assert!(points.is_empty());
    assert_eq!(
        rejects,
        ["0: invalid UTF-8 at byte 2", "1: invalid UTF-8 at byte 2"]
    );
    let long = "y".repeat(100);
    let reason = one(r#"{ "columns": ["v"], "types": { "v": "int" } }"#, &long).unwrap_err();
    assert!(
        reason.starts_with("column v: \"yyy") && reason.ends_with("…\" is not an int")
            || reason.contains('…'),
        "the cell is quoted and cut: {reason}"
    );
}

#[test]
fn a_header_without_a_named_column_is_rejected_and_the_next_line_tried() {
    let mut p = csv(r#"{ "header": true, "tag_columns": ["device"] }"#);
    let (points, rejects) = parse(&mut p, &["a,b", "device,v,v", "device,v", "d1,1"]);
    assert_eq!(
        rejects,
        [
            "0: header: no column device named in the config",
            "1: header: column v is named twice"
        ]
    );
    assert_eq!(points, ["csv{device=d1} 7 v=Float(1.0)"]);
}

#[test]
fn an_unnamed_header_column_is_left_out_and_a_byte_order_mark_dropped() {
    // pandas' `to_csv` writes its index under an empty name.
    let mut p = csv(r#"{ "header": true, "timestamp": { "column": "time", "format": "unix" } }"#);
    let (points, rejects) = parse(&mut p, &["\u{feff},time,value", "0,1,2.5", "1,2,3.5"]);
    assert_eq!(rejects, [""; 0]);
    assert_eq!(
        points,
        [
            "csv 1000000000 value=Float(2.5)",
            "csv 2000000000 value=Float(3.5)"
        ]
    );
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
    assert_eq!(testing::counters().get("header_lines"), Some(&1));

    // A header that does not fit another config is refused, so the agent
    // starts that config afresh.
    let mut other = csv(r#"{ "header": true, "tag_columns": ["device"] }"#);
    let error = other.restore(&first.snapshot()).unwrap_err();
    assert!(error.contains("does not fit the config"), "{error}");
    // Without a header in the config, there is nothing to restore.
    let mut columns = csv(r#"{ "columns": ["x"] }"#);
    columns.restore(&first.snapshot()).unwrap();
    assert_eq!(parse(&mut columns, &["a"]).0, ["csv 7 x=Text(\"a\")"]);
    // Before any line, the snapshot has no header.
    let mut fresh = csv(config);
    fresh.restore(&csv(config).snapshot()).unwrap();
    assert_eq!(parse(&mut fresh, &["x", "1"]).0, ["csv 7 x=Float(1.0)"]);
}

#[test]
fn a_line_naming_the_configured_columns_is_a_header() {
    // No state: a parser started at any line of the file (a restart from a
    // checkpoint) skips the header wherever it comes.
    let mut parser = csv(r#"{ "columns": ["a", "b"] }"#);
    let (points, rejects) = parse(&mut parser, &["a,b", "1,2", "a,b", "3,4"]);
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(
        points,
        [
            "csv 7 a=Float(1.0) b=Float(2.0)",
            "csv 7 a=Float(3.0) b=Float(4.0)"
        ]
    );
    assert_eq!(testing::counters().get("header_lines"), Some(&2));
    let mut tabs = csv(r#"{ "columns": ["a", "b"], "delimiter": "\t" }"#);
    let (points, _) = parse(&mut tabs, &["a\tb", "a,b\t1"]);
    assert_eq!(
        points,
        ["csv 7 a=Text(\"a,b\") b=Float(1.0)"],
        "only the exact header"
    );
}

#[test]
fn types_read_each_kind() {
    let config = r#"{ "columns": ["f", "i", "b", "s", "a"],
        "types": { "f": "float", "i": "int", "b": "bool", "s": "string" } }"#;
    assert_eq!(
        one(config, "1e3,-7,TRUE,007,85.5").unwrap(),
        "csv 7 a=Float(85.5) b=Bool(true) f=Float(1000.0) i=Int(-7) s=Text(\"007\")"
    );
    assert_eq!(
        one(config, "+.5,0,0,x,WARN").unwrap(),
        "csv 7 a=Text(\"WARN\") b=Bool(false) f=Float(0.5) i=Int(0) s=Text(\"x\")"
    );
    assert_eq!(
        one(config, "1,4.5,1,x,1").unwrap_err(),
        "column i: \"4.5\" is not an int"
    );
    assert_eq!(
        one(config, "1,4,yes,x,1").unwrap_err(),
        "column b: \"yes\" is not a bool"
    );
    assert_eq!(
        one(config, "1,99999999999999999999,1,x,1").unwrap_err(),
        "column i: \"99999999999999999999\" is not an int"
    );
    // `auto`: `inf` and `1-2` are not shaped like numbers.
    assert_eq!(
        one(r#"{ "columns": ["a", "b"] }"#, "inf,1-2").unwrap(),
        "csv 7 a=Text(\"inf\") b=Text(\"1-2\")"
    );
    // A field that is a number in one row and text in the next keeps both.
    let (points, _) = parse(&mut csv(r#"{ "columns": ["a"] }"#), &["1", "x", "2"]);
    assert_eq!(
        points,
        [
            "csv 7 a=Float(1.0)",
            "csv 7 a=Text(\"x\")",
            "csv 7 a=Float(2.0)"
        ]
    );
}

#[test]
fn timestamps_are_read_in_their_format() {
    let with = |format: &str| {
        format!(r#"{{ "columns": ["t", "v"], "timestamp": {{ "column": "t"{format} }} }}"#)
    };
    assert_eq!(
        one(&with(""), "1970-01-01T00:00:01.5Z,1").unwrap(),
        "csv 1500000000 v=Float(1.0)",
        "rfc3339 by default; the column is not a field"
    );
    assert_eq!(
        one(&with(r#", "format": "unix_ms""#), "2500,1").unwrap(),
        "csv 2500000000 v=Float(1.0)"
    );
    assert_eq!(
        one(
            &with(r#", "format": "%d/%m/%Y %H:%M""#),
            "\"02/01/1970 00:01\",1"
        )
        .unwrap(),
        "csv 86460000000000 v=Float(1.0)"
    );
    assert!(
        one(&with(""), "yesterday,1")
            .unwrap_err()
            .starts_with("column t: timestamp \"yesterday\" is not rfc3339: "),
    );
    assert_eq!(
        one(&with(r#", "format": "unix""#), "1e300,1").unwrap_err(),
        "column t: timestamp \"1e300\" is not unix: out of range (years 1678 to 2262)"
    );
    assert_eq!(
        one(&with(""), " ,1").unwrap_err(),
        "missing timestamp column t"
    );
    // Without a timestamp column, a row has the time it was received.
    assert_eq!(
        one(r#"{ "columns": ["t"] }"#, "5").unwrap(),
        "csv 7 t=Float(5.0)"
    );
}

#[test]
fn tag_columns_make_the_series_and_a_null_tag_is_left_out() {
    let mut p = csv(
        r#"{ "columns": ["device", "zone", "v"], "tag_columns": ["device", "zone"],
             "measurement": "m", "tags": { "site": "lab" }, "null_values": ["", "-"] }"#,
    );
    let (points, rejects) = parse(
        &mut p,
        &[
            "d1,a,1",
            "d2,a,2",
            "d1,a,3",
            "d1,-,4",
            "\"d,3\",,5",
            "d2,a,6",
        ],
    );
    assert!(rejects.is_empty());
    assert_eq!(
        points,
        [
            "m{device=d1,site=lab,zone=a} 7 v=Float(1.0)",
            "m{device=d2,site=lab,zone=a} 7 v=Float(2.0)",
            "m{device=d1,site=lab,zone=a} 7 v=Float(3.0)",
            "m{device=d1,site=lab} 7 v=Float(4.0)",
            "m{device=d,3,site=lab} 7 v=Float(5.0)",
            "m{device=d2,site=lab,zone=a} 7 v=Float(6.0)",
        ]
    );
    // Interned: rows of one device share one series of the batch.
    let out = testing::run(
        &mut p,
        &testing::records(&[(1, "d1,a,1"), (2, "d2,a,2"), (3, "d1,a,3")]),
    );
    let points = out.into_points();
    let series: Vec<usize> = points.iter().map(|p| p.series_index()).collect();
    assert_eq!(series, [0, 1, 0], "and no other series is made");
}

#[test]
fn many_series_in_one_call_are_each_interned_once() {
    let mut p = csv(r#"{ "columns": ["device", "zone", "v"], "tag_columns": ["device", "zone"] }"#);
    let mut lines: Vec<String> = (0..3000)
        .map(|i| format!("dev-{:04},z{},{i}", i % 500, i % 7))
        .collect();
    // Values cut differently are different series.
    lines.extend(["ab,c,1", "a,bc,2", "abc,,3", ",abc,4", "ab,c,5"].map(str::to_owned));
    let records: Vec<(i64, &str)> = lines.iter().map(|l| (7, l.as_str())).collect();
    let points = testing::run(&mut p, &testing::records(&records)).into_points();
    assert_eq!(points.len(), lines.len());
    let mut index_of = std::collections::HashMap::new();
    for (line, point) in lines.iter().zip(points.iter()) {
        let cells: Vec<&str> = line.split(',').collect();
        let mut want = Series::new("csv");
        for (name, value) in ["device", "zone"].iter().zip(&cells) {
            if !value.is_empty() {
                want.set_tag(*name, *value);
            }
        }
        assert_eq!(point.series(), &want, "{line}");
        let index = *index_of.entry(want).or_insert(point.series_index());
        assert_eq!(
            point.series_index(),
            index,
            "one series per tag values: {line}"
        );
    }
    // 500 and 7 are coprime: each of the 3000 rows has its own pair.
    assert_eq!(index_of.len(), 3000 + 4);
}

#[test]
fn skipped_columns_are_left_out_whatever_they_hold() {
    let config =
        r#"{ "columns": ["a", "notes", "b"], "skip": ["notes"], "types": { "b": "int" } }"#;
    assert_eq!(
        one(config, "1,\"free, text\",2").unwrap(),
        "csv 7 a=Float(1.0) b=Int(2)"
    );
}

#[test]
fn null_values_leave_fields_out() {
    let config =
        r#"{ "columns": ["a", "b", "c"], "types": { "a": "float" }, "null_values": ["NA", ""] }"#;
    assert_eq!(one(config, "NA,,x").unwrap(), "csv 7 c=Text(\"x\")");
    assert_eq!(
        one(config, "\"\",\"NA\", x ").unwrap(),
        "csv 7 c=Text(\"x\")",
        "quoted cells and trimmed cells too"
    );
    // Without `""` among them, an empty cell is a value: text, or not a float.
    let strict =
        r#"{ "columns": ["a", "c"], "types": { "a": "float", "c": "string" }, "null_values": [] }"#;
    assert_eq!(
        one(strict, "1,").unwrap(),
        "csv 7 a=Float(1.0) c=Text(\"\")"
    );
    assert_eq!(
        one(strict, ",x").unwrap_err(),
        "column a: \"\" is not a float"
    );
}

#[test]
fn required_columns_must_have_a_value() {
    let config = r#"{ "columns": ["a", "b", "c"], "required": ["a", "c"], "skip": ["c"] }"#;
    assert_eq!(one(config, "1,,x").unwrap(), "csv 7 a=Float(1.0)");
    assert_eq!(
        one(config, ",2,x").unwrap_err(),
        "missing required column a"
    );
    assert_eq!(
        one(config, "1,2,").unwrap_err(),
        "missing required column c",
        "a skipped column may be required too"
    );
}

#[test]
fn delimiter_quote_escape_and_double_quote_are_configurable() {
    let config = r#"{ "columns": ["a", "b", "c"], "delimiter": ";", "quote": "'",
        "escape": "\\", "double_quote": false, "types": { "b": "string" } }"#;
    assert_eq!(
        one(config, r"'it\'s; fine';'\\';'x''y'").unwrap(),
        r#"csv 7 a=Text("it's; fine") b=Text("\\") c=Text("x'y'")"#,
        "without double_quote, what follows a closing quote is data"
    );
    assert_eq!(one(config, r"'a\';b;c").unwrap_err(), "unterminated quote");
    let doubled = r#"{ "columns": ["a", "b"] }"#;
    assert_eq!(
        one(doubled, r#""say ""hi""","a""b""#).unwrap(),
        r#"csv 7 a=Text("say \"hi\"") b=Text("a\"b")"#
    );
    let tabs = r#"{ "columns": ["a", "b", "c"], "delimiter": "\t" }"#;
    assert_eq!(
        one(tabs, "1\t x y \t\t").unwrap_err(),
        "row has 4 columns, `columns` has 3",
        "trimming keeps the delimiter: the last cell is there"
    );
    assert_eq!(
        one(tabs, " 1\t x y \t").unwrap(),
        "csv 7 a=Float(1.0) b=Text(\"x y\")"
    );
}

#[test]
fn trim_false_keeps_the_spaces_but_not_the_line_break() {
    let config = r#"{ "columns": ["a", "b"], "trim": false, "types": { "a": "float" } }"#;
    assert_eq!(
        one(config, "1, x \r\n").unwrap(),
        "csv 7 a=Float(1.0) b=Text(\" x \")"
    );
    assert_eq!(
        one(config, " 1,x").unwrap_err(),
        "column a: \" 1\" is not a float"
    );
    assert_eq!(
        one(r#"{ "columns": ["a", "b"] }"#, "  \"q, r\" , x \r\n").unwrap(),
        "csv 7 a=Text(\"q, r\") b=Text(\"x\")",
        "with trim, the line's spaces go before the quote is looked for"
    );
}

#[test]
fn blank_lines_are_skipped_and_counted_or_rejected() {
    let mut p = csv(r#"{ "columns": ["a"] }"#);
    let (points, rejects) = parse(&mut p, &["1", "", " \t\r", "2"]);
    assert_eq!((points.len(), rejects.len()), (2, 0));
    assert_eq!(testing::counters().get("blank_lines"), Some(&2));
    let mut p = csv(r#"{ "columns": ["a"], "blank_lines": "reject" }"#);
    let (points, rejects) = parse(&mut p, &["1", "\r", "2"]);
    assert_eq!(
        (points.len(), rejects),
        (2, vec!["1: empty line".to_owned()])
    );
    // A blank line before the header is not the header.
    let mut p = csv(r#"{ "header": true }"#);
    assert_eq!(parse(&mut p, &["", "a", "1"]).0, ["csv 7 a=Float(1.0)"]);
}

#[test]
fn non_finite_numbers_are_rejected_unless_kept() {
    let config = r#"{ "columns": ["a"], "types": { "a": "float" } }"#;
    for text in ["NaN", "inf", "-inf", "1e999"] {
        assert_eq!(
            one(config, text).unwrap_err(),
            format!("column a: \"{text}\" is not a finite number (non_finite: keep accepts it)")
        );
    }
    assert!(one(r#"{ "columns": ["a"] }"#, "1e999").is_err(), "auto too");
    let keep = r#"{ "columns": ["a"], "types": { "a": "float" }, "non_finite": "keep" }"#;
    assert_eq!(one(keep, "-inf").unwrap(), "csv 7 a=Float(-inf)");
}

#[test]
fn input_points_pass_through_unchanged() {
    let mut builder = PointsBuilder::new();
    builder
        .point(3, &Series::new("upstream").with_tag("a", "b"))
        .field("x", 1.5)
        .field("s", "t");
    let upstream = builder.finish();
    let mut records = Records::default();
    records.push(8, b"2");
    let mut out = Output::default();
    csv(r#"{ "columns": ["k"] }"#).process(
        &Batch {
            records,
            points: upstream.clone(),
        },
        &mut out,
    );
    let points = out.into_points();
    assert_eq!(points.len(), 2);
    let mut first = PointsBuilder::new();
    first.push(points.get(0).unwrap());
    assert_eq!(first.finish(), upstream);
}

#[test]
fn the_time_can_also_be_a_field_in_epoch_seconds() {
    let config = r#"{ "columns": ["t", "v"],
        "timestamp": { "column": "t", "format": "%Y-%m-%d %H:%M:%S", "field": "epoch" } }"#;
    assert_eq!(
        one(config, "2024-03-02 01:02:00,1").unwrap(),
        "csv 1709341320000000000 epoch=Float(1709341320.0) v=Float(1.0)"
    );
    // The column's own name may hold it; fractions of a second are kept.
    let config =
        r#"{ "header": true, "timestamp": { "column": "t", "format": "unix_ms", "field": "t" } }"#;
    let (points, rejects) = parse(&mut csv(config), &["t,v", "1500,2", "-1500,3"]);
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(
        points,
        [
            "csv 1500000000 t=Float(1.5) v=Float(2.0)",
            "csv -1500000000 t=Float(-1.5) v=Float(3.0)"
        ]
    );
    // A row whose time cannot be read is rejected as before.
    let config = r#"{ "columns": ["t", "v"], "timestamp": { "column": "t", "field": "epoch" } }"#;
    assert!(
        one(config, "soon,1")
            .unwrap_err()
            .contains("timestamp \"soon\"")
    );
    // The field may not take another column's name.
    let clash = r#"{ "columns": ["t", "v"], "timestamp": { "column": "t", "field": "v" } }"#;
    assert!(
        testing::config_error::<CsvParser>(clash)
            .contains("timestamp: field v is also a column: name another field")
    );
    let header = r#"{ "header": true, "timestamp": { "column": "t", "field": "v" } }"#;
    assert_eq!(
        parse(&mut csv(header), &["t,v"]).1,
        ["0: header: column v has the name of the timestamp's `field`"]
    );
}

#[test]
fn config_errors_are_all_reported() {
    let error = testing::config_error::<CsvParser>(
        r#"{ "delimiter": ";;", "quote": "\n", "columns": ["a", "a", "t"], "header": true,
             "tag_columns": ["z", "t"], "timestamp": { "column": "t" }, "types": { "t": "int" },
             "measurement": "", "max_line_length": 0 }"#,
    );
    for part in [
        "csv: `delimiter` \";;\" must be one ASCII character",
        "`quote` cannot be a line break",
        "exclude each other",
        "columns[1]: a is listed twice",
        "tag column z is not one of `columns`",
        "t is both the timestamp and a tag column",
        "types: t is the timestamp column, not a field",
        "`measurement` is empty",
        "`max_line_length` must be positive",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }
    assert!(testing::config_error::<CsvParser>("{}").contains("name the `columns`"));
    assert!(
        testing::config_error::<CsvParser>(r#"{ "header": true, "delimiter": "'", "quote": "'" }"#)
            .contains("`delimiter` and `quote` are the same")
    );
    assert!(
        testing::config_error::<CsvParser>(r#"{ "header": true, "skip": [""] }"#)
            .contains("a skipped column has an empty name")
    );
    assert!(
        testing::config_error::<CsvParser>(r#"{ "header": true, "types": { "a": "double" } }"#)
            .contains("unknown variant `double`")
    );
    assert!(
        testing::config_error::<CsvParser>(r#"{ "header": true, "separator": ";" }"#)
            .contains("unknown field `separator`")
    );
    assert!(
        testing::config_error::<CsvParser>(
            r#"{ "header": true, "timestamp": { "column": "t", "format": "iso" } }"#
        )
        .contains("strftime")
    );
}

/// A CSV dialect, for generated lines.
#[derive(Debug, Clone, Copy)]
struct Dialect {
    delimiter: u8,
    quote: u8,
    escape: Option<u8>,
    double_quote: bool,
}

impl Dialect {
    const ALL: [Dialect; 4] = [
        Dialect {
            delimiter: b',',
            quote: b'"',
            escape: None,
            double_quote: true,
        },
        Dialect {
            delimiter: b';',
            quote: b'\'',
            escape: Some(b'\\'),
            double_quote: false,
        },
        Dialect {
            delimiter: b'\t',
            quote: b'"',
            escape: Some(b'\\'),
            double_quote: true,
        },
        Dialect {
            delimiter: b'|',
            quote: b'"',
            escape: None,
            double_quote: true,
        },
    ];

    fn config(self, rest: &str) -> String {
        let text = |b: u8| serde_json::to_string(&char::from(b).to_string()).unwrap();
        let escape = self.escape.map_or("null".to_owned(), text);
        format!(
            r#"{{ "delimiter": {}, "quote": {}, "escape": {escape}, "double_quote": {}, {rest} }}"#,
            text(self.delimiter),
            text(self.quote),
            self.double_quote
        )
    }

    /// The `csv` crate, reading `line` as this dialect: the one record's
    /// cells.
    fn reference(self, line: &str) -> Vec<String> {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .quote(self.quote)
            .escape(self.escape)
            .double_quote(self.double_quote)
            .terminator(::csv::Terminator::Any(b'\n'))
            .from_reader(line.as_bytes());
        let mut records = reader.records();
        let record = records
            .next()
            .expect("a record")
            .expect("valid UTF-8 by construction");
        assert!(records.next().is_none(), "one record: {line:?}");
        record.iter().map(str::to_owned).collect()
    }
}

/// A small deterministic generator.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// `text` as a cell of `dialect`: as it is when it can be, else quoted
/// (or quoted anyway, now and then); `open` leaves the quote unclosed.
fn encode(rng: &mut Rng, dialect: Dialect, text: &str, open: bool) -> String {
    let (d, q) = (char::from(dialect.delimiter), char::from(dialect.quote));
    let needs_quotes = text.contains([d, '\n']) || text.starts_with(q);
    if !open && !needs_quotes && rng.below(3) > 0 {
        return text.to_owned();
    }
    let mut cell = String::from(q);
    for c in text.chars() {
        if Some(c) == dialect.escape.map(char::from) {
            cell.push(c);
        } else if c == q {
            if dialect.double_quote && (dialect.escape.is_none() || rng.below(2) == 0) {
                cell.push(q);
            } else if let Some(escape) = dialect.escape {
                cell.push(char::from(escape));
            } else {
                unreachable!("a dialect can quote its quote");
            }
        }
        cell.push(c);
    }
    if !open {
        cell.push(q);
    }
    cell
}

/// Random cell text over bytes that mean something to `dialect`.
fn text(rng: &mut Rng, dialect: Dialect) -> String {
    let special = [
        dialect.delimiter,
        dialect.quote,
        dialect.escape.unwrap_or(b'x'),
    ]
    .map(|b| char::from(b).to_string());
    let pieces = [
        "a",
        "1",
        ".",
        " ",
        "é",
        "\r",
        "\n",
        "ü1",
        "-",
        &special[0],
        &special[1],
        &special[2],
    ];
    (0..rng.below(6)).map(|_| rng.pick(&pieces)).collect()
}

/// The in-place split and csv-core give the cells the `csv` crate gives,
/// for generated lines of every dialect, with quotes, doubled quotes,
/// escapes, delimiters and line breaks inside quotes, and stray quotes.
#[test]
fn lines_split_as_the_csv_crate_splits_them() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for dialect in Dialect::ALL {
        let (mut in_place, mut quoted, mut open) = (0, 0, 0);
        let splitter = || {
            Splitter::new(
                dialect.delimiter,
                dialect.quote,
                dialect.escape,
                dialect.double_quote,
            )
        };
        let (mut fast, mut slow) = (splitter(), splitter());
        slow.in_place = false;
        for _ in 0..3_000 {
            let count = 1 + rng.below(4);
            let broken = rng.below(10) == 0;
            let cells: Vec<String> = (0..count)
                .map(|i| {
                    let text = text(&mut rng, dialect);
                    encode(&mut rng, dialect, &text, broken && i == count - 1)
                })
                .collect();
            let line = cells.join(&char::from(dialect.delimiter).to_string());
            if line.is_empty() {
                continue;
            }
            let got = |s: &mut Splitter| {
                s.split(&line)
                    .map(|cells| (0..cells.len()).map(|i| cells.get(i).to_owned()).collect())
            };
            let (fast, slow): (Result<Vec<String>, _>, _) = (got(&mut fast), got(&mut slow));
            assert_eq!(fast, slow, "{dialect:?} {line:?}");
            if broken {
                assert_eq!(slow, Err(split::SplitError::Unterminated), "{line:?}");
                open += 1;
                continue;
            }
            assert_eq!(
                slow.unwrap(),
                dialect.reference(&line),
                "{dialect:?} {line:?}"
            );
            if line.contains(char::from(dialect.quote)) {
                quoted += 1;
            } else {
                in_place += 1;
            }
        }
        assert!(
            in_place > 200 && quoted > 600 && open > 100,
            "{dialect:?}: {in_place} {quoted} {open}"
        );
    }
}

/// What the parser should make of a row, worked out independently: the
/// `csv` crate splits it, the standard library reads its numbers.
fn expected(dialect: Dialect, line: &str, broken: bool) -> Result<Option<String>, String> {
    let delimiter = char::from(dialect.delimiter);
    let line = line.trim_matches(|c: char| c.is_ascii_whitespace() && c != delimiter);
    if line.is_empty() {
        return Ok(None);
    }
    if broken {
        return Err("unterminated quote".to_owned());
    }
    let cells: Vec<String> = dialect
        .reference(line)
        .iter()
        .map(|c| c.trim_ascii().to_owned())
        .collect();
    if cells.len() != 6 {
        return Err(format!("row has {} columns, `columns` has 6", cells.len()));
    }
    let mut fields = Vec::new();
    let mut series = "csv".to_owned();
    let mut time = 0;
    for (name, cell) in ["time", "device", "a", "b", "s", "n"].iter().zip(&cells) {
        let cell = cell.as_str();
        if cell.is_empty() {
            if *name == "time" {
                return Err("missing timestamp column time".to_owned());
            }
            continue;
        }
        match *name {
            "time" => match cell.parse::<i64>() {
                Ok(seconds) => time = seconds * 1_000_000_000,
                Err(_) => {
                    return Err(format!(
                        "column time: timestamp {cell:?} is not unix: not a number"
                    ));
                }
            },
            "device" => series = format!("csv{{device={cell}}}"),
            "a" => match cell.parse::<f64>() {
                Ok(v) if v.is_finite() => fields.push(format!("a=Float({v:?})")),
                Ok(_) => {
                    return Err(format!(
                        "column a: {cell:?} is not a finite number (non_finite: keep accepts it)"
                    ));
                }
                Err(_) => return Err(format!("column a: {cell:?} is not a float")),
            },
            "b" => match cell.parse::<i64>() {
                Ok(v) => fields.push(format!("b=Int({v})")),
                Err(_) => return Err(format!("column b: {cell:?} is not an int")),
            },
            "s" => fields.push(format!("s=Text({cell:?})")),
            _ => {
                let bytes = cell.as_bytes();
                let shaped = matches!(bytes[0], b'0'..=b'9' | b'-' | b'+' | b'.')
                    && matches!(bytes[bytes.len() - 1], b'0'..=b'9' | b'.');
                match cell.parse::<f64>() {
                    Ok(v) if shaped && v.is_finite() => fields.push(format!("n=Float({v:?})")),
                    Ok(_) if shaped => {
                        return Err(format!(
                            "column n: {cell:?} is not a finite number (non_finite: keep accepts it)"
                        ));
                    }
                    _ => fields.push(format!("n=Text({cell:?})")),
                }
            }
        }
    }
    fields.sort();
    Ok(Some(format!("{series} {time} {}", fields.join(" "))))
}

/// Generated rows of every dialect, with random quoting, escapes, nulls,
/// bad numbers, missing and extra cells and unclosed quotes, read as the
/// `csv` crate and the standard library read them; and read the same
/// through csv-core alone.
#[test]
fn rows_read_as_the_csv_crate_and_the_standard_library_read_them() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let values: [&[&str]; 6] = [
        &["100", "200", "-3", "x", "", " 7 "],
        &["d1", "d2", "d 3", "", "q\"r", "d,4", "d;5", "d|6", "d\t7"],
        &[
            "1.5", "-2", "1e3", "abc", "", "NaN", "inf", " 7 ", "é", ".5", "5.",
        ],
        &["42", "-7", "4.5", "x", "", "+3", "99999999999999999999"],
        &["OK", "a b", "", "x,y", "say \"hi\"", "é\\", "'"],
        &["3.25", "OK", "1-2", "", ".5", "+1", "1e999", "inf", "-0"],
    ];
    for dialect in Dialect::ALL {
        let config = dialect.config(
            r#""columns": ["time", "device", "a", "b", "s", "n"], "tag_columns": ["device"],
               "timestamp": { "column": "time", "format": "unix" },
               "types": { "a": "float", "b": "int", "s": "string" }"#,
        );
        let mut lines = Vec::new();
        let mut want = Vec::new();
        for index in 0..3_000 {
            let mut count = 6;
            match rng.below(20) {
                0 => count = 5,
                1 => count = 7,
                _ => {}
            }
            let broken = rng.below(20) == 0;
            let cells: Vec<String> = (0..count)
                .map(|i| {
                    let mut text = rng.pick(values[i.min(5)]).to_owned();
                    if rng.below(8) == 0 {
                        text = format!(" {text} ");
                    }
                    if dialect.quote == b'\'' {
                        text = text.replace('"', "'");
                    }
                    encode(&mut rng, dialect, &text, broken && i == count - 1)
                })
                .collect();
            let line = cells.join(&char::from(dialect.delimiter).to_string());
            match expected(dialect, &line, broken) {
                Ok(Some(point)) => want.push(point),
                Ok(None) => {}
                Err(reason) => want.push(format!("{index}: {reason}")),
            }
            lines.push(line);
        }
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut parser = csv(&config);
        let (points, rejects) = parse(&mut parser, &lines);
        let mut got: Vec<String> = points;
        got.extend(rejects);
        want.sort();
        got.sort();
        if let Some((got, want)) = got.iter().zip(&want).find(|(g, w)| g != w) {
            panic!("{dialect:?}: got {got:?}, want {want:?}");
        }
        assert_eq!(got.len(), want.len(), "{dialect:?}");
        assert!(
            want.iter().filter(|w| !w.contains(": ")).count() > 400,
            "{dialect:?}: most rows are good"
        );

        let mut unquoting = csv(&config);
        unquoting.splitter.in_place = false;
        let again = parse(&mut unquoting, &lines);
        assert_eq!(again, parse(&mut csv(&config), &lines), "{dialect:?}");
    }
}
