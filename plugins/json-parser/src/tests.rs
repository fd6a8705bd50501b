use foghorn_plugin::{ItemError, testing};

use super::*;

fn json(config: &str) -> JsonParser {
    testing::plugin(config)
}

fn config_error(config: &str) -> String {
    testing::config_error::<JsonParser>(config)
}

/// Parse `lines` (each received at 7): each point as `series timestamp
/// fields` (fields in name order), and the rejects as `index: reason`.
fn parse(parser: &mut JsonParser, lines: &[&str]) -> (Vec<String>, Vec<String>) {
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
    let (points, rejects) = parse(&mut json(config), &[line]);
    match rejects.into_iter().next() {
        Some(reason) => Err(reason.trim_start_matches("0: ").to_owned()),
        None => Ok(points.into_iter().next().expect("a point or a reject")),
    }
}

#[test]
fn reads_fields_tags_time_and_measurement_at_their_paths() {
    let config = r#"{
        "fields": { "cpu.user": "user", "/disk/sda.1": "sda1", "load.1": "load5", "/load/2": "load15" },
        "measurement_path": "kind",
        "tags": { "site": "lab" },
        "tag_paths": { "meta.host": "host", "meta.rack": "rack" },
        "timestamp": { "path": "time", "format": "rfc3339" }
    }"#;
    let line = r#"{"kind":"node","time":"1970-01-01T00:00:01.5Z","cpu":{"user":12.5,"idle":80},
        "disk":{"sda.1":3,"sda":{"1":9}},"load":[0.5,0.25,0.125],"meta":{"host":"web-1","rack":4}}"#;
    assert_eq!(
        one(config, &line.replace('\n', "")).unwrap(),
        "node{host=web-1,rack=4,site=lab} 1500000000 load15=Float(0.125) load5=Float(0.25) sda1=Float(3.0) user=Float(12.5)"
    );
    // Without the measurement and a tag: `measurement` and no tag.
    assert_eq!(
        one(
            config,
            r#"{"time":"1970-01-01T00:00:02Z","cpu":{"user":1}}"#
        )
        .unwrap(),
        "json{site=lab} 2000000000 user=Float(1.0)"
    );
    let named = r#"{ "fields": { "v": "v" }, "measurement": "m", "measurement_path": "kind" }"#;
    assert_eq!(one(named, r#"{"v": 1}"#).unwrap(), "m 7 v=Float(1.0)");
    assert_eq!(
        one(named, r#"{"v": 1, "kind": ""}"#).unwrap(),
        "m 7 v=Float(1.0)"
    );
    assert_eq!(
        one(named, r#"{"v": 1, "kind": "k"}"#).unwrap(),
        "k 7 v=Float(1.0)"
    );
    // A digit key of an object is a key: `load.1` reads {"1": …} too.
    assert_eq!(
        one(
            r#"{ "fields": { "load.1": "x" } }"#,
            r#"{"load":{"1":5,"0":4}}"#
        )
        .unwrap(),
        "json 7 x=Float(5.0)"
    );
}

#[test]
fn auto_keeps_the_json_types_and_null_leaves_a_field_out() {
    let config =
        r#"{ "fields": { "n": "n", "i": "i", "b": "b", "s": "s", "z": "z", "big": "big" } }"#;
    assert_eq!(
        one(
            config,
            r#"{"n": -1.5e2, "i": 42, "b": true, "s": "85.5", "z": null, "big": 18446744073709551615}"#
        )
        .unwrap(),
        "json 7 b=Bool(true) big=Float(1.8446744073709552e19) i=Float(42.0) n=Float(-150.0) s=Text(\"85.5\")"
    );
}

#[test]
fn types_convert_what_they_can_and_say_what_they_cannot() {
    let config = r#"{
        "fields": { "f": "f", "i": "i", "b": "b", "s": "s" },
        "types": { "f": "float", "i": "int", "b": "bool", "s": "string" }
    }"#;
    assert_eq!(
        one(
            config,
            r#"{"f": "85.5", "i": 9007199254740993, "b": "TRUE", "s": 7}"#
        )
        .unwrap(),
        "json 7 b=Bool(true) f=Float(85.5) i=Int(9007199254740993) s=Text(\"7\")"
    );
    assert_eq!(
        one(config, r#"{"f": 1, "i": "-3", "b": 0, "s": 2.5}"#).unwrap(),
        "json 7 b=Bool(false) f=Float(1.0) i=Int(-3) s=Text(\"2.5\")"
    );
    assert_eq!(
        one(config, r#"{"i": 1e3, "b": 1, "s": false}"#).unwrap(),
        "json 7 b=Bool(true) i=Int(1000) s=Text(\"false\")"
    );
    let rejects = [
        (r#"{"f": "abc"}"#, r#"field f at f: "abc" is not a float"#),
        (
            r#"{"f": true}"#,
            "field f at f: expected a number, found a bool",
        ),
        (
            r#"{"f": [1]}"#,
            "field f at f: expected a number, found an array",
        ),
        (r#"{"i": 4.5}"#, "field i at i: 4.5 is not an int"),
        (
            r#"{"i": 9223372036854775808}"#,
            "field i at i: 9223372036854775808 is not an int",
        ),
        (r#"{"i": "4.0"}"#, r#"field i at i: "4.0" is not an int"#),
        (r#"{"b": 2}"#, "field b at b: 2 is not a bool"),
        (r#"{"b": "yes"}"#, r#"field b at b: "yes" is not a bool"#),
        (
            r#"{"b": {}}"#,
            "field b at b: expected a bool, found an object",
        ),
        (
            r#"{"s": {"a": 1}}"#,
            "field s at s: expected a string, number or bool, found an object",
        ),
    ];
    for (line, reason) in rejects {
        assert_eq!(one(config, line).unwrap_err(), reason, "{line}");
    }
}

#[test]
fn every_reject_says_why() {
    let config = r#"{
        "fields": { "a.cpu": "cpu", "mem": "mem" },
        "required": ["cpu"],
        "types": { "cpu": "float" },
        "tag_paths": { "meta.host": "host" },
        "measurement_path": "kind",
        "timestamp": { "path": "ts", "format": "unix" },
        "blank_lines": "reject",
        "max_line_length": 200
    }"#;
    let cases: [(&[u8], &str); 17] = [
        (
            br#"{"ts":1,"a":{"cpu":1},"mem":}"#,
            "invalid JSON at line 1 column 29: expected value",
        ),
        (
            br#"{"ts":1,"a":{"cpu":1}"#,
            "invalid JSON at line 1 column 22: EOF while parsing an object",
        ),
        (
            br#"{"ts":1,"a":{"cpu":1}} x"#,
            "invalid JSON at line 1 column 24: trailing characters",
        ),
        (
            br#"{"ts":1,"a":{"cpu":01}}"#,
            "invalid JSON at line 1 column 21: invalid number",
        ),
        (
            br#"{"ts":1,"a":{"cpu":1e999}}"#,
            "invalid JSON at line 1 column 20: number out of range",
        ),
        (b"[1, 2]", "not a JSON object"),
        (b"5", "not a JSON object"),
        (br#""text""#, "not a JSON object"),
        (
            br#"{"ts":1,"a":{"cpu":[1]}}"#,
            "field cpu at a.cpu: expected a number, found an array",
        ),
        (
            br#"{"ts":1,"a":{"cpu":1},"meta":{"host":{}}}"#,
            "tag host at meta.host: expected a string, number or bool, found an object",
        ),
        (
            br#"{"ts":1,"a":{"cpu":1},"kind":3}"#,
            "measurement at kind: expected a string, found a number",
        ),
        (
            br#"{"ts":1,"mem":2}"#,
            "missing required field cpu at a.cpu",
        ),
        (
            br#"{"ts":1,"a":{"cpu":null}}"#,
            "missing required field cpu at a.cpu",
        ),
        (br#"{"a":{"cpu":1}}"#, "missing timestamp at ts"),
        (
            br#"{"ts":"soon","a":{"cpu":1}}"#,
            r#"timestamp at ts: "soon" is not unix: not a number"#,
        ),
        (b"  \t", "empty line"),
        (
            b"{\"ts\":1,\"a\":{\"cpu\":1},\"x\":\"\xff\"}",
            "invalid UTF-8 at byte 27",
        ),
    ];
    for (line, reason) in cases {
        let text = String::from_utf8_lossy(line);
        let (points, rejects) = parse(&mut json(config), &[&text]);
        // The lossy text of invalid UTF-8 is valid: run the bytes too.
        let mut records = Records::default();
        records.push(7, line);
        let out = testing::run(
            &mut json(config),
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
        assert_eq!(got, [reason], "{text}");
        if std::str::from_utf8(line).is_ok() {
            assert_eq!((points.len(), rejects.len()), (0, 1), "{text}");
        }
    }
    let long = format!(r#"{{"ts":1,"a":{{"cpu":1}},"pad":"{}"}}"#, "x".repeat(200));
    assert_eq!(
        one(config, &long).unwrap_err(),
        format!(
            "line too long: {} bytes, cut at max_line_length (200)",
            long.len()
        )
    );
    assert_eq!(
        one(r#"{ "fields": { "a": "a" } }"#, r#"{"b": 1}"#).unwrap_err(),
        "no fields: none of the paths of `fields` has a value"
    );
}

#[test]
fn nesting_is_bounded() {
    // The record is depth 0: 127 more levels are read or skipped, 128 not.
    // (Run with a large stack: a debug build's frames are many times the
    // size of a release build's, which WebAssembly's 1 MiB stack holds.)
    let run = || {
        let config = r#"{ "fields": { "a.cpu": "cpu" } }"#;
        let arrays = |n: usize| {
            format!(
                r#"{{"a":{{"cpu":1}},"d":{}{}}}"#,
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        let objects = |n: usize| {
            format!(
                r#"{{"a":{{"cpu":1}},"d":{}1{}}}"#,
                r#"{"k":"#.repeat(n),
                "}".repeat(n)
            )
        };
        for config in [config, r#"{ "flatten": true }"#] {
            assert!(one(config, &arrays(127)).is_ok());
            assert!(one(config, &objects(126)).is_ok());
            assert_eq!(
                one(config, &arrays(128)).unwrap_err(),
                "nested more than 128 deep at line 1 column 147"
            );
            assert_eq!(
                one(config, &objects(128)).unwrap_err(),
                "nested more than 128 deep at line 1 column 655"
            );
        }
        let name = format!("d{}", "_k".repeat(126));
        assert!(
            one(r#"{ "flatten": true }"#, &objects(126))
                .unwrap()
                .contains(&name)
        );
    };
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn timestamps_are_read_in_every_format() {
    let with = |format: &str| {
        format!(
            r#"{{ "fields": {{ "v": "v" }}, "timestamp": {{ "path": "t", "format": "{format}" }} }}"#
        )
    };
    let time = |format: &str, value: &str| -> Result<i64, String> {
        let line = format!(r#"{{"v": 1, "t": {value}}}"#);
        one(&with(format), &line).map(|point| point.split(' ').nth(1).unwrap().parse().unwrap())
    };
    let want = 1_764_313_800_250_000_000; // 2025-11-28T07:10:00.25Z
    assert_eq!(time("rfc3339", r#""2025-11-28T07:10:00.25Z""#), Ok(want));
    assert_eq!(
        time("unix", "1764313800.25"),
        Ok(want),
        "exact, not via a double"
    );
    assert_eq!(time("unix", r#""1764313800.25""#), Ok(want));
    assert_eq!(time("unix_ms", "1764313800250"), Ok(want));
    assert_eq!(time("unix_us", "1764313800250000"), Ok(want));
    assert_eq!(time("unix_ns", "1764313800250000000"), Ok(want));
    assert_eq!(time("unix_ms", "1.76431380025e12"), Ok(want));
    assert_eq!(
        time("%Y-%m-%d %H:%M:%S%.f", r#""2025-11-28 07:10:00.25""#),
        Ok(want)
    );
    assert_eq!(
        time("unix", "9300000000000").unwrap_err(),
        "timestamp at t: \"9300000000000\" is not unix: out of range (years 1678 to 2262)"
    );
    assert_eq!(
        time("unix_ns", "18446744073709551615").unwrap_err(),
        "timestamp at t: \"18446744073709551615\" is not unix_ns: number too large to fit in target type"
    );
    assert_eq!(
        time("rfc3339", "1764313800").unwrap_err(),
        "timestamp at t: 1764313800 is a number, and rfc3339 reads text"
    );
    assert_eq!(
        time("unix", "true").unwrap_err(),
        "timestamp at t: expected a string or number, found a bool"
    );
    assert_eq!(time("unix", "null").unwrap_err(), "missing timestamp at t");
}

#[test]
fn the_time_can_also_be_a_field_in_epoch_seconds() {
    let config = r#"{ "fields": { "v": "v" },
        "timestamp": { "path": "t", "format": "%Y-%m-%d %H:%M:%S", "field": "epoch" } }"#;
    let (points, rejects) = parse(
        &mut json(config),
        &[
            r#"{"t": "2024-03-02 01:02:00", "v": 1}"#,
            r#"{"t": "1969-12-31 23:59:59", "v": 2}"#,
            r#"{"t": "soon", "v": 3}"#,
        ],
    );
    assert_eq!(
        points,
        [
            "json 1709341320000000000 epoch=Float(1709341320.0) v=Float(1.0)",
            "json -1000000000 epoch=Float(-1.0) v=Float(2.0)"
        ]
    );
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    // Fractions are kept; with `flatten`, a value named like it is not a
    // second field of that name.
    let config =
        r#"{ "flatten": true, "timestamp": { "path": "t", "format": "unix", "field": "epoch" } }"#;
    assert_eq!(
        one(config, r#"{"t": 1.25, "epoch": 9, "v": 1}"#).unwrap(),
        "json 1250000000 epoch=Float(1.25) v=Float(1.0)"
    );
    assert!(
        config_error(r#"{ "fields": { "v": "v" }, "timestamp": { "path": "t", "field": "v" } }"#)
            .contains("timestamp: field v is also a field of `fields`: name another field")
    );
    assert!(
        config_error(r#"{ "fields": { "v": "v" }, "timestamp": { "path": "t", "field": "" } }"#)
            .contains("timestamp: `field` is empty")
    );
}

#[test]
fn flatten_names_every_other_scalar_by_its_path() {
    let config = r#"{
        "flatten": true,
        "fields": { "cpu.user": "user" },
        "tag_paths": { "host": "host" },
        "timestamp": { "path": "t", "format": "unix" },
        "types": { "load_1": "string", "id": "int" }
    }"#;
    let line = r#"{"t": 2, "host": "h", "id": 7, "cpu": {"user": 1.5, "sys": 2}, "load": [0.5, 0.25, {"x": true}],
        "none": null, "empty": {}, "list": [], "s": "a\"b"}"#;
    assert_eq!(
        one(config, &line.replace('\n', "")).unwrap(),
        "json{host=h} 2000000000 cpu_sys=Float(2.0) id=Int(7) load_0=Float(0.5) load_1=Text(\"0.25\") load_2_x=Bool(true) s=Text(\"a\\\"b\") user=Float(1.5)"
    );
    // The same name twice: the last value wins, as for a repeated key.
    assert_eq!(
        one(
            config,
            r#"{"t": 1, "a_b": "first", "a": {"b": "second"}, "c": 1, "c": 2}"#
        )
        .unwrap(),
        "json 1000000000 a_b=Text(\"second\") c=Float(2.0)"
    );
    // A named field keeps its name: a flattened `user` does not replace it.
    assert_eq!(
        one(config, r#"{"t": 1, "cpu": {"user": 1}, "user": 2}"#).unwrap(),
        "json 1000000000 user=Float(1.0)"
    );
    assert_eq!(
        one(config, r#"{"t": 1, "id": "x"}"#).unwrap_err(),
        r#"field id: "x" is not an int"#
    );
    let bounded = r#"{ "flatten": true, "max_fields": 3 }"#;
    assert!(one(bounded, r#"{"a": [1, 2, 3]}"#).is_ok());
    assert_eq!(
        one(bounded, r#"{"a": [1, 2, 3], "b": 4}"#).unwrap_err(),
        "more than 3 fields (max_fields)"
    );
    let long_key = format!(r#"{{"{}": {{"b": 1}}}}"#, "k".repeat(1100));
    assert!(
        one(bounded, &long_key)
            .unwrap_err()
            .contains("is longer than 1024 bytes")
    );
    assert_eq!(
        one(bounded, r#"{"a": null, "b": {}}"#).unwrap_err(),
        "no fields: the record has no values but null"
    );
    let required = r#"{ "flatten": true, "required": ["a_b"] }"#;
    assert!(one(required, r#"{"a": {"b": 1}}"#).is_ok());
    assert_eq!(
        one(required, r#"{"a": {"c": 1}}"#).unwrap_err(),
        "missing required field a_b"
    );
}

#[test]
fn a_key_given_twice_counts_once_with_its_last_value() {
    let config = r#"{ "fields": { "a": "a", "s": "s" }, "tag_paths": { "h": "h" } }"#;
    assert_eq!(
        one(
            config,
            r#"{"a": 1, "s": "x", "h": "p", "a": 2, "s": "y", "h": "q"}"#
        )
        .unwrap(),
        "json{h=q} 7 a=Float(2.0) s=Text(\"y\")"
    );
    assert_eq!(
        one(config, r#"{"a": 1, "a": null}"#).unwrap_err(),
        "no fields: none of the paths of `fields` has a value"
    );
}

#[test]
fn escapes_are_read_in_keys_and_values() {
    let config = r#"{ "fields": { "cpu": "cpu", "/a.b~1c~0d": "odd", "é": "e" }, "tag_paths": { "t": "t" } }"#;
    assert_eq!(
        one(
            config,
            r#"{"c\u0070u": "l1\nl2\t\"\\\/\u00e9\ud83d\ude00", "a.b/c~d": 1, "\u00e9": "é", "t": "a\u0000b"}"#
        )
        .unwrap(),
        "json{t=a\0b} 7 cpu=Text(\"l1\\nl2\\t\\\"\\\\/é😀\") e=Text(\"é\") odd=Float(1.0)"
    );
    assert!(
        one(config, r#"{"cpu": "\ud83d"}"#)
            .unwrap_err()
            .starts_with("invalid JSON at line 1 column")
    );
    assert!(
        one(config, "{\"cpu\": \"a\tb\"}")
            .unwrap_err()
            .contains("control character")
    );
}

#[test]
fn non_finite_text_is_rejected_unless_kept() {
    let config = r#"{ "fields": { "v": "v" }, "types": { "v": "float" } }"#;
    assert_eq!(
        one(config, r#"{"v": "NaN"}"#).unwrap_err(),
        r#"field v at v: "NaN" is not a finite number"#
    );
    assert_eq!(
        one(config, r#"{"v": "-inf"}"#).unwrap_err(),
        r#"field v at v: "-inf" is not a finite number"#
    );
    let keep = r#"{ "fields": { "v": "v" }, "types": { "v": "float" }, "non_finite": "keep" }"#;
    assert_eq!(one(keep, r#"{"v": "inf"}"#).unwrap(), "json 7 v=Float(inf)");
}

#[test]
fn blank_lines_are_skipped_and_counted() {
    let mut parser = json(r#"{ "fields": { "a": "a" } }"#);
    let (points, rejects) = parse(&mut parser, &[r#"{"a":1}"#, "", " \r", r#"{"a":2}"#]);
    assert_eq!((points.len(), rejects), (2, vec![]));
    assert_eq!(testing::counters().get("blank_lines"), Some(&2));
}

#[test]
fn series_follow_the_values_of_the_tags() {
    let mut parser =
        json(r#"{ "fields": { "v": "v" }, "tag_paths": { "h": "host", "n": "n", "ok": "ok" } }"#);
    let (points, rejects) = parse(
        &mut parser,
        &[
            r#"{"v":1,"h":"a","n":1.5,"ok":true}"#,
            r#"{"v":2,"h":"b"}"#,
            r#"{"v":3,"h":"a","n":1.5,"ok":true}"#,
            r#"{"v":4,"h":"","n":-2}"#,
            r#"{"v":5,"h":null,"n":-2}"#,
        ],
    );
    assert_eq!(rejects, [""; 0]);
    assert_eq!(
        points,
        [
            "json{host=a,n=1.5,ok=true} 7 v=Float(1.0)",
            "json{host=b} 7 v=Float(2.0)",
            "json{host=a,n=1.5,ok=true} 7 v=Float(3.0)",
            "json{n=-2} 7 v=Float(4.0)",
            "json{n=-2} 7 v=Float(5.0)",
        ]
    );
}

#[test]
fn a_field_of_changing_type_goes_to_a_column_per_type() {
    let mut parser = json(r#"{ "fields": { "v": "v", "w": "w" } }"#);
    let (points, rejects) = parse(
        &mut parser,
        &[
            r#"{"v":1,"w":1}"#,
            r#"{"v":"one","w":2}"#,
            r#"{"v":true}"#,
            r#"{"v":4,"w":"x"}"#,
        ],
    );
    assert_eq!(rejects, [""; 0]);
    assert_eq!(
        points,
        [
            "json 7 v=Float(1.0) w=Float(1.0)",
            "json 7 v=Text(\"one\") w=Float(2.0)",
            "json 7 v=Bool(true)",
            "json 7 v=Float(4.0) w=Text(\"x\")",
        ]
    );
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
    records.push(8, br#"{"k": 2}"#);
    let out = testing::run(
        &mut json(r#"{ "fields": { "k": "k" } }"#),
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
fn config_errors_are_clear_and_all_reported() {
    assert_eq!(
        config_error(r#"{ "measurement": "", "max_line_length": 0 }"#),
        "json: no fields: name them in `fields` (path: name) or set `flatten: true`; \
         json: `measurement` is empty; json: `max_line_length` is 0"
    );
    let error = config_error(
        r#"{ "fields": { "a..b": "x", "c": "y", "d": "y", "/e~2": "z" },
             "tags": { "host": "h" }, "tag_paths": { "h": "host" },
             "types": { "c": "int", "nope": "float" }, "required": ["w"],
             "timestamp": { "path": "" } }"#,
    );
    for part in [
        r#"fields: path "a..b" has an empty key (write a key with dots in it as a JSON Pointer, "/a/b.c")"#,
        r#"fields: paths "c" and "d" are both named y"#,
        r#"fields: path "/e~2": `~` must be followed by 0 (for ~) or 1 (for /)"#,
        r#"tag host is both a static tag (`tags`) and from path "h""#,
        "types: c is a path of `fields`; name its field, y",
        "types: nope is not a field of `fields` (and `flatten` is off)",
        "required: w is not a field of `fields` (and `flatten` is off)",
        "timestamp: a path is empty",
    ] {
        assert!(error.contains(part), "{part}\n in {error}");
    }
    assert!(
        config_error(r#"{ "flatten": true, "types": { "a": "double" } }"#)
            .contains("unknown variant `double`")
    );
    assert!(
        config_error(r#"{ "flatten": true, "timestamp": { "path": "t", "format": "iso" } }"#)
            .contains("strftime")
    );
    assert!(
        config_error(r#"{ "flatten": true, "separator": "," }"#)
            .contains("unknown field `separator`")
    );
    assert!(config_error(r#"{ "flatten": true, "max_fields": 0 }"#).contains("`max_fields` is 0"));
}
