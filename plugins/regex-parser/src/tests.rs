use foghorn_plugin::{ItemError, testing};

use super::*;

fn regex(config: &str) -> RegexParser {
    testing::plugin(config)
}

fn config_error(config: &str) -> String {
    testing::config_error::<RegexParser>(config)
}

/// Parse `lines` (each received at 7): each point as `series timestamp
/// fields` (fields in name order), and the rejects as `index: reason`.
fn parse(parser: &mut RegexParser, lines: &[&str]) -> (Vec<String>, Vec<String>) {
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

/// The one point of `line`, or its reject reason.
fn one(config: &str, line: &str) -> Result<String, String> {
    let (points, rejects) = parse(&mut regex(config), &[line]);
    match rejects.into_iter().next() {
        Some(reason) => Err(reason.trim_start_matches("0: ").to_owned()),
        None => Ok(points.into_iter().next().expect("a point or a reject")),
    }
}

/// The config of the crate documentation's example.
const DEVICES: &str = r#"{
    "pattern": "(?P<time>\\S+) (?P<device>\\S+) temp=(?P<temperature>\\S+) volt=(?P<voltage>\\S+)(?: status=(?P<status>\\w+))?",
    "measurement": "device",
    "tags": { "site": "lab" },
    "tag_captures": ["device"],
    "timestamp": { "capture": "time", "format": "rfc3339" },
    "types": { "temperature": "float", "voltage": "float", "status": "string" },
    "fields": { "temperature": "temp_c", "voltage": "voltage", "status": "status" },
    "required": ["temperature", "voltage"]
}"#;

#[test]
fn reads_the_example_line_into_fields_tags_and_time() {
    let (points, rejects) = parse(
        &mut regex(DEVICES),
        &[
            "1970-01-01T00:00:01Z dev-7 temp=85.5 volt=5.01 status=WARN\r\n",
            "1970-01-01T00:00:02Z dev-8 temp=20 volt=4.9",
            "1970-01-01T00:00:03Z dev-7 temp=hot volt=4.9",
        ],
    );
    assert_eq!(
        points,
        [
            "device{device=dev-7,site=lab} 1000000000 status=Text(\"WARN\") temp_c=Float(85.5) voltage=Float(5.01)",
            "device{device=dev-8,site=lab} 2000000000 temp_c=Float(20.0) voltage=Float(4.9)",
        ]
    );
    assert_eq!(rejects, [r#"2: capture temperature: "hot" is not a float"#]);
}

#[test]
fn full_match_needs_the_whole_line_and_search_a_match_anywhere() {
    let full = r#"{ "pattern": "t=(?P<t>[0-9.]+)" }"#;
    assert_eq!(one(full, "t=1.5").unwrap(), "regex 7 t=Float(1.5)");
    assert_eq!(
        one(full, "  t=1.5 \r").unwrap(),
        "regex 7 t=Float(1.5)",
        "trimmed"
    );
    for line in ["t=1.5 extra", "x t=1.5", "t=1.5x"] {
        assert_eq!(
            one(full, line).unwrap_err(),
            "line does not match the pattern",
            "{line}"
        );
    }
    let search = r#"{ "pattern": "t=(?P<t>[0-9.]+)", "match": "search" }"#;
    assert_eq!(one(search, "x t=1.5 t=2").unwrap(), "regex 7 t=Float(1.5)");
    assert_eq!(
        one(search, "t=").unwrap_err(),
        "line does not match the pattern"
    );
    // A verbose pattern may end in a comment.
    let verbose = r#"{ "pattern": "(?x) t= (?P<t>[0-9.]+)  # the temperature" }"#;
    assert_eq!(one(verbose, "t=1.5").unwrap(), "regex 7 t=Float(1.5)");
    assert_eq!(
        one(verbose, "t=1.5 x").unwrap_err(),
        "line does not match the pattern"
    );
    // An alternation is anchored as a whole, not just its first branch.
    let either = r#"{ "pattern": "(?P<a>a+)|(?P<b>b+)", "required": [] }"#;
    assert_eq!(one(either, "bb").unwrap(), "regex 7 b=Text(\"bb\")");
    assert_eq!(
        one(either, "ab").unwrap_err(),
        "line does not match the pattern"
    );
}

#[test]
fn types_apply_by_capture_and_auto_reads_numbers() {
    let config = r#"{
        "pattern": "(?P<a>\\S+) (?P<i>\\S+) (?P<b>\\S+) (?P<s>\\S+) (?P<f>\\S+)",
        "types": { "i": "int", "b": "bool", "s": "string", "f": "float" }
    }"#;
    assert_eq!(
        one(config, "-2.5e3 42 TRUE 007 1e3").unwrap(),
        "regex 7 a=Float(-2500.0) b=Bool(true) f=Float(1000.0) i=Int(42) s=Text(\"007\")"
    );
    assert_eq!(
        one(config, "OK -7 0 x .5").unwrap(),
        "regex 7 a=Text(\"OK\") b=Bool(false) f=Float(0.5) i=Int(-7) s=Text(\"x\")"
    );
    assert_eq!(
        one(config, "1 4.5 true x 1").unwrap_err(),
        r#"capture i: "4.5" is not an int"#
    );
    assert_eq!(
        one(config, "1 4 yes x 1").unwrap_err(),
        r#"capture b: "yes" is not a bool"#
    );
    assert_eq!(
        one(config, "1 4 1 x cpu").unwrap_err(),
        r#"capture f: "cpu" is not a float"#
    );
    // `auto` leaves `inf` and `nan` as text.
    assert_eq!(
        one(config, "inf 1 1 x 1").unwrap(),
        "regex 7 a=Text(\"inf\") b=Bool(true) f=Float(1.0) i=Int(1) s=Text(\"x\")"
    );
}

#[test]
fn an_auto_field_of_changing_type_goes_to_a_column_per_type() {
    let mut parser = regex(r#"{ "pattern": "(?P<a>\\S+) (?P<b>\\S+)" }"#);
    let (points, rejects) = parse(&mut parser, &["1 x", "OK 2", "3 y", "4 5"]);
    assert_eq!(rejects, [""; 0]);
    assert_eq!(
        points,
        [
            "regex 7 a=Float(1.0) b=Text(\"x\")",
            "regex 7 a=Text(\"OK\") b=Float(2.0)",
            "regex 7 a=Float(3.0) b=Text(\"y\")",
            "regex 7 a=Float(4.0) b=Float(5.0)",
        ]
    );
}

#[test]
fn captures_that_do_not_take_part_are_left_out_unless_required() {
    let pattern = r#""pattern": "v=(?P<v>\\d*)(?:,s=(?P<s>\\w+))?(?:,h=(?P<h>\\w+))?""#;
    let every = format!("{{ {pattern} }}");
    assert_eq!(
        one(&every, "v=1,s=ok,h=z").unwrap(),
        "regex 7 h=Text(\"z\") s=Text(\"ok\") v=Float(1.0)"
    );
    assert_eq!(
        one(&every, "v=1,s=ok").unwrap_err(),
        "missing required capture h"
    );
    assert_eq!(
        one(&every, "v=1").unwrap_err(),
        "missing required capture s"
    );
    assert_eq!(
        one(&every, "v=,s=ok,h=z").unwrap_err(),
        "missing required capture v",
        "an empty capture is no value"
    );
    let tag_of = |required: &str| {
        format!(r#"{{ {pattern}, "required": [{required}], "tag_captures": ["h"] }}"#)
    };
    let some = tag_of(r#""v""#);
    assert_eq!(one(&some, "v=1").unwrap(), "regex 7 v=Float(1.0)");
    assert_eq!(one(&some, "v=1,h=a").unwrap(), "regex{h=a} 7 v=Float(1.0)");
    assert_eq!(
        one(&tag_of(""), "v=,s=x").unwrap(),
        "regex 7 s=Text(\"x\")",
        "an optional empty capture is left out"
    );
    assert_eq!(
        one(&tag_of(r#""h""#), "v=1").unwrap_err(),
        "missing required capture h"
    );
}

#[test]
fn every_reject_says_why() {
    let config = r#"{
        "pattern": "(?P<ts>\\d+) (?P<cpu>\\S+)(?: (?P<extra>\\S+))?",
        "timestamp": { "capture": "ts", "format": "unix" },
        "types": { "cpu": "float" },
        "required": ["cpu"],
        "blank_lines": "reject",
        "max_line_length": 100
    }"#;
    let cases: [(&[u8], &str); 7] = [
        (b"1 x", r#"capture cpu: "x" is not a float"#),
        (b"1 NaN", r#"capture cpu: "NaN" is not a finite number"#),
        (b"cpu 1", "line does not match the pattern"),
        (
            b"99999999999999 1",
            r#"capture ts: timestamp "99999999999999" is not unix: out of range (years 1678 to 2262)"#,
        ),
        (b" \t\r", "empty line"),
        (b"1 \xff", "invalid UTF-8 at byte 2"),
        (
            &[b'1'; 100],
            "line too long: 100 bytes, cut at max_line_length (100)",
        ),
    ];
    for (line, reason) in cases {
        let mut records = Records::default();
        records.push(7, line);
        let out = testing::run(
            &mut regex(config),
            &Batch {
                records,
                ..Batch::default()
            },
        );
        let got: Vec<String> = out
            .errors()
            .iter()
            .map(|e| match e {
                ItemError::Record { reason, .. } => reason.clone(),
                ItemError::Point { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(got, [reason], "{}", String::from_utf8_lossy(line));
        assert_eq!(out.point_count(), 0);
    }
    let optional_time = r#"{ "pattern": "(?:(?P<ts>\\d+) )?(?P<v>\\d+)", "timestamp": { "capture": "ts", "format": "unix" } }"#;
    assert_eq!(
        one(optional_time, "5 1").unwrap(),
        "regex 5000000000 v=Float(1.0)"
    );
    assert_eq!(
        one(optional_time, "1").unwrap_err(),
        "missing timestamp capture ts"
    );
    let long = format!("1 {}", "9".repeat(90));
    let reason = one(
        &config.replace("float", "int").replace("100", "1000"),
        &long,
    )
    .unwrap_err();
    assert!(
        reason.contains('…') && reason.len() < 120,
        "the text is cut: {reason}"
    );
}

#[test]
fn timestamps_are_read_in_their_format() {
    let with = |pattern: &str, format: &str| {
        format!(
            r#"{{ "pattern": "{pattern} (?P<v>\\S+)", "timestamp": {{ "capture": "t", "format": "{format}" }} }}"#
        )
    };
    let want = "1764313800250000000"; // 2025-11-28T07:10:00.25Z
    for (pattern, format, line) in [
        (r"(?P<t>\\S+)", "rfc3339", "2025-11-28T07:10:00.25Z"),
        (r"(?P<t>\\S+)", "unix", "1764313800.25"),
        (r"(?P<t>\\S+)", "unix_ms", "1764313800250"),
        (
            r"\\[(?P<t>[^\\]]+)\\]",
            "%d/%b/%Y:%H:%M:%S%.f %z",
            "[28/Nov/2025:08:10:00.25 +0100]",
        ),
    ] {
        let point = one(&with(pattern, format), &format!("{line} 1")).unwrap();
        assert_eq!(point, format!("regex {want} v=Float(1.0)"), "{format}");
    }
}

#[test]
fn the_measurement_and_tags_come_from_captures() {
    let config = r#"{
        "pattern": "(?P<m>\\w*)/(?P<host>\\w*)/(?P<rack>\\w*) (?P<v>\\S+)",
        "measurement_capture": "m",
        "tag_captures": ["host", "rack"],
        "tags": { "site": "lab" }
    }"#;
    let (points, rejects) = parse(
        &mut regex(config),
        &[
            "cpu/a/r1 1",
            "mem/a/r1 2",
            "cpu/a/r1 3",
            "//r2 4",
            "cpu/b/ 5",
        ],
    );
    assert_eq!(rejects, [""; 0]);
    assert_eq!(
        points,
        [
            "cpu{host=a,rack=r1,site=lab} 7 v=Float(1.0)",
            "mem{host=a,rack=r1,site=lab} 7 v=Float(2.0)",
            "cpu{host=a,rack=r1,site=lab} 7 v=Float(3.0)",
            "regex{rack=r2,site=lab} 7 v=Float(4.0)",
            "cpu{host=b,site=lab} 7 v=Float(5.0)",
        ]
    );
}

#[test]
fn fields_select_and_rename_captures() {
    let pattern = r#""pattern": "(?P<a>\\d+),(?P<b>\\d+),(?P<c>\\d+)""#;
    assert_eq!(
        one(
            &format!(r#"{{ {pattern}, "fields": ["a", "c"] }}"#),
            "1,2,3"
        )
        .unwrap(),
        "regex 7 a=Float(1.0) c=Float(3.0)"
    );
    assert_eq!(
        one(
            &format!(r#"{{ {pattern}, "fields": {{ "a": "alpha", "b": "beta" }}, "types": {{ "b": "int" }} }}"#),
            "1,2,3"
        )
        .unwrap(),
        "regex 7 alpha=Float(1.0) beta=Int(2)"
    );
}

#[test]
fn trim_false_keeps_the_spaces_but_not_the_line_ending() {
    let config =
        r#"{ "pattern": "(?P<k>.*)=(?P<v>.*)", "trim": false, "types": { "v": "string" } }"#;
    assert_eq!(
        one(config, " a = b \r\n").unwrap(),
        "regex 7 k=Text(\" a \") v=Text(\" b \")"
    );
}

#[test]
fn non_finite_numbers_are_rejected_unless_kept() {
    let config = r#"{ "pattern": "(?P<v>\\S+)", "types": { "v": "float" } }"#;
    assert_eq!(
        one(config, "inf").unwrap_err(),
        r#"capture v: "inf" is not a finite number"#
    );
    let keep = r#"{ "pattern": "(?P<v>\\S+)", "types": { "v": "float" }, "non_finite": "keep" }"#;
    assert_eq!(one(keep, "-inf").unwrap(), "regex 7 v=Float(-inf)");
}

#[test]
fn blank_lines_are_skipped_and_counted() {
    let mut parser = regex(r#"{ "pattern": "(?P<v>\\d+)" }"#);
    let (points, rejects) = parse(&mut parser, &["1", "", "  \r", "2"]);
    assert_eq!((points.len(), rejects), (2, vec![]));
    assert_eq!(testing::counters().get("blank_lines"), Some(&2));
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
    let out = testing::run(
        &mut regex(r#"{ "pattern": "(?P<k>\\d+)" }"#),
        &Batch {
            records,
            points: upstream.clone(),
        },
    );
    let points = out.into_points();
    assert_eq!(points.len(), 2);
    let mut first = PointsBuilder::new();
    first.push(points.get(0).unwrap());
    assert_eq!(first.finish(), upstream);
    assert_eq!(points.get(1).unwrap().number("k"), Some(2.0));
}

#[test]
fn config_errors_name_the_problem() {
    assert_eq!(
        config_error(r#"{ "measurement": "", "max_line_length": 0 }"#),
        "regex: `measurement` is empty; regex: `max_line_length` is 0; \
         regex: `pattern` is empty: give the regular expression"
    );
    let error = config_error(r#"{ "pattern": "(?P<a>[0-9" }"#);
    assert!(
        error.starts_with("regex: pattern: regex parse error:"),
        "{error}"
    );
    assert!(error.contains("unclosed character class"), "{error}");
    assert!(config_error(r#"{ "pattern": "a)|(?P<x>b" }"#).contains("unopened group"));
    assert_eq!(
        config_error(r#"{ "pattern": "([0-9]+) (\\w+)" }"#),
        "regex: pattern has no named captures: name each value to keep, as in (?P<temperature>[0-9.]+)"
    );
    let error = config_error(
        r#"{ "pattern": "(?P<a>\\d) (?P<b>\\d)", "types": { "c": "int" }, "fields": ["a", "d"],
             "required": ["e"], "tag_captures": ["f"], "timestamp": { "capture": "g" } }"#,
    );
    for part in [
        "fields: the pattern has no capture d (its captures: a, b)",
        "types: the pattern has no capture c (its captures: a, b)",
        "tag_captures: the pattern has no capture f (its captures: a, b)",
        "required: the pattern has no capture e (its captures: a, b)",
        "timestamp: the pattern has no capture g (its captures: a, b)",
    ] {
        assert!(error.contains(part), "{part}\n in {error}");
    }
    let error = config_error(
        r#"{ "pattern": "(?P<a>\\d) (?P<b>\\d) (?P<t>\\d)", "tag_captures": ["a"], "tags": { "a": "x" },
             "fields": { "a": "v", "b": "v" }, "types": { "t": "int" }, "timestamp": { "capture": "t" } }"#,
    );
    for part in [
        "tag a is both a static tag (`tags`) and a capture (`tag_captures`)",
        "fields: capture a is a tag, not a field",
        "fields: captures a and b are both named v",
        "types: capture t is the timestamp",
    ] {
        assert!(error.contains(part), "{part}\n in {error}");
    }
    assert_eq!(
        config_error(r#"{ "pattern": "(?P<t>\\d)", "tag_captures": ["t"] }"#),
        "regex: no fields: every capture is a tag, the timestamp or the measurement"
    );
    assert!(
        config_error(r#"{ "pattern": "(?P<t>\\d)", "fields": "t" }"#)
            .contains("a list of capture names, or a map of capture name to field name")
    );
    assert!(
        config_error(r#"{ "pattern": "(?P<t>\\d)", "match": "partial" }"#)
            .contains("unknown variant `partial`")
    );
}
