use foghorn_plugin::ItemError;

use foghorn_plugin::testing;

use super::*;

const BENCH: &str = r#"{
    "measurement": "bench_device",
    "tags": { "device": "bench-1" },
    "fields": { "T": "temperature", "V": "voltage", "S": "status" },
    "types": { "temperature": "float", "voltage": "float", "status": "string" },
    "unknown_keys": "reject"
}"#;

fn parser(config: &str) -> KvParser {
    testing::plugin(config)
}

fn config_error(config: &str) -> String {
    testing::config_error::<KvParser>(config)
}

/// Parse `lines` (record `i` received at `100 + i`): the points, as
/// (timestamp, fields), and the rejections, as (record index, reason).
fn run(parser: &mut KvParser, lines: &[&[u8]]) -> (Points, Vec<(u32, String)>) {
    let mut records = Records::default();
    for (ts, line) in (100..).zip(lines) {
        records.push(ts, line);
    }
    let mut out = Output::default();
    parser.process(
        &Batch {
            records,
            ..Batch::default()
        },
        &mut out,
    );
    let errors = out
        .errors()
        .iter()
        .map(|e| match e {
            ItemError::Record { index, reason } => (*index, reason.clone()),
            ItemError::Point { .. } => panic!("no points were given"),
        })
        .collect();
    (out.into_points(), errors)
}

fn rows(points: &Points) -> Vec<(i64, Vec<(String, String)>)> {
    points
        .iter()
        .map(|p| {
            let fields = p
                .fields()
                .map(|(k, v)| (k.to_owned(), format!("{v:?}")))
                .collect();
            (p.timestamp(), fields)
        })
        .collect()
}

fn row(ts: i64, fields: &[(&str, &str)]) -> (i64, Vec<(String, String)>) {
    (
        ts,
        fields
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    )
}

/// One line with the default config except `config`; the point's fields or
/// the rejection reason.
fn one(config: &str, line: &str) -> Result<Vec<(String, String)>, String> {
    let (points, errors) = run(&mut parser(config), &[line.as_bytes()]);
    match errors.into_iter().next() {
        Some((_, reason)) => Err(reason),
        None => Ok(rows(&points).remove(0).1),
    }
}

#[test]
fn parses_the_bench_device_line() {
    let (points, errors) = run(&mut parser(BENCH), &[b"T:85.5,V:5.0,S:WARNING_TEMP\r\n"]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        rows(&points),
        [row(
            100,
            &[
                ("temperature", "Float(85.5)"),
                ("voltage", "Float(5.0)"),
                ("status", "Text(\"WARNING_TEMP\")")
            ]
        )]
    );
    let point = points.get(0).unwrap();
    assert_eq!(
        point.series(),
        &Series::new("bench_device").with_tag("device", "bench-1")
    );
}

#[test]
fn rejects_the_example_malformed_lines_with_specific_reasons() {
    let lines: [&[u8]; 7] = [
        b"T:24.8,V:5.01,S:OK",
        b"T:abc,V:5.0,S:OK",
        b"HELLO",
        b"T:25.0;V:5.0",
        b"V:5.0,S:OK",
        b"T:25.0,V:5.0,S:OK,X:1",
        b"T:26.3,V:5.01,S:OK",
    ];
    let (points, errors) = run(&mut parser(BENCH), &lines);
    assert_eq!(
        errors,
        [
            (1, r#"field temperature: "abc" is not a float"#.to_owned()),
            (2, r#"pair 1 "HELLO" has no ":""#.to_owned()),
            (
                3,
                r#"field temperature: "25.0;V:5.0" is not a float"#.to_owned()
            ),
            (4, "missing required field temperature".to_owned()),
            (5, r#"unknown key "X""#.to_owned()),
        ]
    );
    let timestamps: Vec<i64> = points.iter().map(|p| p.timestamp()).collect();
    assert_eq!(
        timestamps,
        [100, 106],
        "only the good lines, each with its own receive time"
    );
}

#[test]
fn every_kind_of_malformed_line_says_what_is_wrong() {
    let cases: [(&[u8], &str); 10] = [
        (b"", "empty line"),
        (b" \t\r", "empty line"),
        (
            &[b'x'; 100],
            "line too long: 100 bytes, cut at max_line_length (100)",
        ),
        (b"T:1,HELLO", r#"pair 2 "HELLO" has no ":""#),
        (b"T:1,,V:2", "pair 2 is empty"),
        (b"T:1,V:2,", "pair 3 is empty"),
        (b"T:1,:2", r#"pair 2 ":2" has an empty key"#),
        (b"T:1,V:2,T:3", r#"duplicate key "T""#),
        (b"T:1,\xff:2", "invalid UTF-8 at byte 4"),
        (b"T:1,V:2,S:", "missing required field status"),
    ];
    let config = r#"{ "fields": { "T": "temperature", "V": "voltage" }, "required": ["temperature", "status"], "blank_lines": "reject", "max_line_length": 100 }"#;
    for (line, reason) in cases {
        let (points, errors) = run(&mut parser(config), &[line]);
        assert_eq!(points.len(), 0);
        assert_eq!(
            errors,
            [(0, reason.to_owned())],
            "line {:?}",
            String::from_utf8_lossy(line)
        );
    }
    let long = format!("T:1,{}", "x".repeat(500));
    let reason = one("{}", &long).unwrap_err();
    assert!(
        reason.len() < 100 && reason.contains('…'),
        "offending text is cut: {reason}"
    );
}

#[test]
fn defaults_keep_keys_and_read_numbers_as_floats() {
    let (points, errors) = run(
        &mut parser("{}"),
        &[b" a:1 , b: x y ,c:-2.5e3,d:inf,e:12:30:00 "],
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(points.get(0).unwrap().series(), &Series::new("kv"));
    assert_eq!(
        rows(&points),
        [row(
            100,
            &[
                ("a", "Float(1.0)"),
                ("b", "Text(\"x y\")"),
                ("c", "Float(-2500.0)"),
                ("d", "Text(\"inf\")"),
                ("e", "Text(\"12:30:00\")"),
            ]
        )]
    );
    assert_eq!(one("{}", "a:1,a:2").unwrap_err(), r#"duplicate key "a""#);
}

#[test]
fn types_apply_to_field_names_after_renaming() {
    let config = r#"{ "fields": { "n": "count", "b": "ok", "s": "code" }, "types": { "count": "int", "ok": "bool", "code": "string" } }"#;
    assert_eq!(
        one(config, "n:42,b:TRUE,s:007").unwrap(),
        [
            ("count", "Int(42)"),
            ("ok", "Bool(true)"),
            ("code", "Text(\"007\")")
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    assert_eq!(
        one(config, "n:4.2,b:1,s:x").unwrap_err(),
        r#"field count: "4.2" is not an int"#
    );
    assert_eq!(
        one(config, "n:4,b:yes,s:x").unwrap_err(),
        r#"field ok: "yes" is not a bool"#
    );
    let kept = r#"{ "fields": { "T": "temperature" }, "types": { "X": "int" }, "required": [] }"#;
    assert_eq!(
        one(kept, "T:1,X:2").unwrap()[1],
        ("X".to_owned(), "Int(2)".to_owned())
    );
}

#[test]
fn unknown_keys_are_kept_rejected_or_dropped() {
    let with = |mode: &str| {
        format!(r#"{{ "fields": {{ "T": "temperature" }}, "unknown_keys": "{mode}" }}"#)
    };
    assert_eq!(one(&with("keep"), "T:1,X:2").unwrap().len(), 2);
    assert_eq!(
        one(&with("reject"), "T:1,X:2").unwrap_err(),
        r#"unknown key "X""#
    );
    assert_eq!(
        one(&with("drop"), "T:1,X:2,Y:3").unwrap(),
        [("temperature".to_owned(), "Float(1.0)".to_owned())]
    );
    assert_eq!(
        one(&with("keep"), "T:1,temperature:2").unwrap_err(),
        r#"key "temperature" clashes with field temperature, which key "T" is renamed to"#
    );
    assert_eq!(one(&with("drop"), "T:1,temperature:2").unwrap().len(), 1);
    let nothing_required =
        r#"{ "fields": { "T": "temperature" }, "unknown_keys": "drop", "required": [] }"#;
    assert!(
        one(nothing_required, "X:1")
            .unwrap_err()
            .starts_with("no fields")
    );
}

#[test]
fn trim_false_keeps_every_byte() {
    let config = r#"{ "trim": false, "types": { "t": "float" } }"#;
    assert_eq!(
        one(config, "t:1\r").unwrap_err(),
        r#"field t: "1\r" is not a float"#
    );
    assert_eq!(
        one(config, " k :v").unwrap(),
        [(" k ".to_owned(), "Text(\"v\")".to_owned())]
    );
}

#[test]
fn separators_may_be_strings() {
    let config = r#"{ "pair_separator": "; ", "kv_separator": "=", "trim": false }"#;
    assert_eq!(one(config, "a=1; b=x=y").unwrap().len(), 2);
    assert_eq!(
        one(config, "a=1; b").unwrap_err(),
        r#"pair 2 "b" has no "=""#
    );
}

#[test]
fn input_points_pass_through_unchanged() {
    let mut builder = PointsBuilder::new();
    builder
        .point(7, &Series::new("upstream").with_tag("a", "b"))
        .field("x", 1.5)
        .field("s", "t");
    let upstream = builder.finish();
    let mut records = Records::default();
    records.push(8, b"k:2");
    let mut out = Output::default();
    parser("{}").process(
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
fn config_errors_are_clear_and_all_reported() {
    assert_eq!(
        config_error(r#"{ "pair_separator": "", "kv_separator": ":", "measurement": "" }"#),
        "kv-parser: `pair_separator` is empty; kv-parser: `measurement` is empty"
    );
    assert!(config_error(r#"{ "pair_separator": ":" }"#).contains("both \":\""));
    assert!(
        config_error(r#"{ "fields": { "T": "temperature" }, "types": { "T": "float" } }"#)
            .contains(
                "T is a key of `fields`: `types` and `required` use the field name, temperature"
            )
    );
    assert!(
        config_error(r#"{ "fields": { "T": "temperature" }, "unknown_keys": "reject", "required": ["voltage"] }"#)
            .contains("voltage is not a field of `fields`")
    );
    assert!(
        config_error(r#"{ "fields": { "T": "temperature", "t": "temperature" } }"#)
            .contains(r#"keys "T" and "t" are both renamed to temperature"#)
    );
    assert!(config_error(r#"{ "types": { "t": "double" } }"#).contains("unknown variant `double`"));
    assert!(config_error(r#"{ "separator": "," }"#).contains("unknown field `separator`"));
}

#[test]
fn non_finite_numbers_are_rejected_unless_kept() {
    let lines: &[&[u8]] = &[
        b"T:NaN,V:5.0,S:OK",
        b"T:inf,V:5.0,S:OK",
        b"T:1e999,V:5.0,S:OK",
        b"T:20.5,V:5.0,S:OK",
    ];
    let (points, errors) = run(&mut parser(BENCH), lines);
    assert_eq!(points.len(), 1, "only the finite line is a point");
    let indexes: Vec<u32> = errors.iter().map(|(i, _)| *i).collect();
    assert_eq!(indexes, [0, 1, 2]);
    assert!(
        errors[0]
            .1
            .contains("field temperature: \"NaN\" is not a finite number"),
        "{}",
        errors[0].1
    );
    // Under `auto` too: a number that overflows is not finite.
    let (_, errors) = run(&mut parser("{}"), &[b"x:1e999"]);
    assert_eq!(errors.len(), 1);

    let keep = BENCH.replace(
        "\"unknown_keys\"",
        "\"non_finite\": \"keep\", \"unknown_keys\"",
    );
    let (points, errors) = run(&mut parser(&keep), lines);
    assert_eq!((points.len(), errors.len()), (4, 0));
    assert!(
        points
            .get(0)
            .unwrap()
            .number("temperature")
            .unwrap()
            .is_nan()
    );
}

#[test]
fn blank_lines_are_skipped_and_counted_not_rejected() {
    let mut kv = parser(BENCH);
    let lines: [&[u8]; 4] = [b"T:1,V:2,S:OK", b"", b"  \r", b"T:2,V:2,S:OK"];
    let (points, errors) = run(&mut kv, &lines);
    assert_eq!((points.len(), errors), (2, vec![]));
    assert_eq!(
        foghorn_plugin::testing::counters().get("blank_lines"),
        Some(&2)
    );
}

#[test]
fn ordered_keys_must_come_in_the_order_of_fields() {
    let config = r#"{
        "fields": { "T": "temperature", "V": "voltage", "S": "status" },
        "types": { "temperature": "float", "voltage": "float", "status": "string" },
        "ordered": true
    }"#;
    let lines: [&[u8]; 4] = [
        b"T:51,V:5.0,S:OK",
        b"V:5.0,T:51,S:OK",
        b"T:51,S:OK,V:5.0",
        b"T:52,V:5.1,S:OK",
    ];
    let (points, errors) = run(&mut parser(config), &lines);
    let expected = |key: &str| format!(r#"key "{key}" out of order: the keys come as T, V, S"#);
    assert_eq!(errors, [(1, expected("T")), (2, expected("V"))]);
    assert_eq!(points.len(), 2);
    // The order is the config's, not the alphabet's.
    let unordered = config.replace(r#""ordered": true"#, r#""ordered": false"#);
    assert_eq!(run(&mut parser(&unordered), &lines).1, []);
    assert!(config_error(r#"{ "ordered": true }"#).contains("`ordered` needs `fields`"));
}

#[test]
fn the_fast_float_path_reads_what_the_standard_library_reads() {
    let config = r#"{ "fields": { "T": "t" }, "types": { "t": "float" }, "non_finite": "keep" }"#;
    for text in [
        "85.5",
        "-0.001",
        "5.00",
        "1e3",
        "123456789012345678",
        "+7",
        ".5",
        "5.",
        "inf",
    ] {
        let line = format!("T:{text}");
        let fields = one(config, &line).unwrap_or_else(|e| panic!("{text}: {e}"));
        let expected: f64 = text.parse().unwrap();
        assert_eq!(
            fields,
            [("t".to_owned(), format!("{:?}", Value::Float(expected)))]
        );
    }
}

/// Every line, good or bad, reads the same through the fast path as through
/// the general parser alone: same points, same rejections, same reasons.
#[test]
fn the_fast_path_agrees_with_the_general_parser() {
    let configs = [
        BENCH.to_owned(),
        r#"{ "fields": { "T": "t", "V": "v", "S": "s" }, "types": { "t": "float", "v": "float", "s": "string" }, "ordered": true, "required": ["t"] }"#.to_owned(),
        r#"{ "fields": { "T": "t", "VV": "v", "S": "s", "B": "b" }, "types": { "t": "int", "v": "float", "s": "string", "b": "bool" }, "unknown_keys": "drop", "non_finite": "keep", "required": [] }"#.to_owned(),
        r#"{ "fields": { "T": "t", "S": "s" }, "types": { "t": "float", "s": "string" }, "trim": false, "pair_separator": ";", "kv_separator": "=" }"#.to_owned(),
    ];
    let pieces = [
        "T",
        "V",
        "S",
        "X",
        "VV",
        "B",
        "t",
        " ",
        ",",
        ":",
        ";",
        "=",
        "1.5",
        "-2",
        "abc",
        "OK",
        "",
        "1e3",
        "inf",
        "NaN",
        "true",
        "0",
        "5.",
        ".5",
        "é",
        "\t",
        "12345678901234567890",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut lines: Vec<Vec<u8>> = [
        &b"T:24.8,V:5.01,S:OK"[..],
        b"T:1,V:2,S:OK,T:3",
        b"T:1,T:2",
        b"V:5.0,T:51,S:OK",
        b"T:1, VV : 2 ,S: x ,B:true",
        b"T:1,B:yes",
        b"T:1,VV:1e999",
        b"T:1;S=2",
        b"T=1;S=OK",
        b"T=1;S=OK;T=2",
        b" T=1;S= OK ",
        b"\xff",
        b"",
    ]
    .iter()
    .map(|line| line.to_vec())
    .collect();
    for _ in 0..20_000 {
        let mut line = String::new();
        for _ in 0..next(8) {
            line.push_str(pieces[next(pieces.len())]);
        }
        let shape = next(4);
        let [a, b, c] = [0; 3].map(|_| pieces[next(pieces.len())]);
        match shape {
            0 => line = format!("T:{a},V:{b},S:{c}"),
            1 => line = format!("T={a};S={b}"),
            _ => {}
        }
        lines.push(line.into_bytes());
    }
    let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    for config in &configs {
        let mut fast = parser(config);
        assert!(fast.fast.is_some(), "{config} takes the fast path");
        let mut general = parser(config);
        general.fast = None;
        let (fast_points, fast_errors) = run(&mut fast, &lines);
        let (points, errors) = run(&mut general, &lines);
        assert_eq!(fast_errors, errors, "{config}");
        assert_eq!(
            format!("{fast_points:?}"),
            format!("{points:?}"),
            "{config}"
        );
        assert!(points.len() > 100, "{config}: some lines are good");
    }
}
