use foghorn_plugin::{ItemError, testing};

use super::*;

/// The representative config (also the benchmark's).
const HTTP: &str = r#"{
    "measurement": "http",
    "tags": { "service": "api" },
    "tag_keys": ["method", "status"],
    "timestamp": { "key": "ts", "format": "rfc3339" },
    "fields": { "duration": "duration_ms", "bytes": "bytes", "path": "path" },
    "types": { "duration_ms": "float", "bytes": "int", "path": "string" },
    "unknown_keys": "drop"
}"#;

/// The representative line.
const LINE: &str = r#"ts=2026-11-28T07:10:00.123Z level=info method=GET path=/api/v1/users status=200 duration=12.5 bytes=5120 msg="request done""#;

fn logfmt(config: &str) -> LogfmtParser {
    testing::plugin(config)
}

fn config_error(config: &str) -> String {
    testing::config_error::<LogfmtParser>(config)
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
fn parse(parser: &mut LogfmtParser, lines: &[&str]) -> (Vec<String>, Vec<String>) {
    let records: Vec<(i64, &str)> = lines.iter().map(|l| (7, *l)).collect();
    render(testing::run(parser, &testing::records(&records)))
}

/// One line under `config`: the point, or the reason it was rejected.
fn one(config: &str, line: &str) -> Result<String, String> {
    let (points, rejects) = parse(&mut logfmt(config), &[line]);
    match (points.as_slice(), rejects.as_slice()) {
        ([point], []) => Ok(point.clone()),
        ([], [reject]) => Err(reject.trim_start_matches("0: ").to_owned()),
        _ => panic!("one point or one reject: {points:?} {rejects:?}"),
    }
}

#[test]
fn parses_a_request_log_line() {
    assert_eq!(
        one(HTTP, LINE).unwrap(),
        "http{method=GET,service=api,status=200} 1795849800123000000 \
         bytes=Int(5120) duration_ms=Float(12.5) path=Text(\"/api/v1/users\")"
    );
}

#[test]
fn bare_keys_are_true_and_empty_values_are_left_out() {
    assert_eq!(
        one("{}", "cached a=1 b= c=\"\" d=\"x y\" \t e=x=y\r").unwrap(),
        "logfmt 7 a=Float(1.0) cached=Bool(true) d=Text(\"x y\") e=Text(\"x=y\")"
    );
    // A bare key is no value for a tag: the series has no such tag.
    assert_eq!(
        one(r#"{ "tag_keys": ["host"] }"#, "host v=1").unwrap(),
        "logfmt 7 v=Float(1.0)"
    );
    let typed = r#"{ "types": { "flag": "bool", "n": "float" } }"#;
    assert_eq!(one(typed, "flag").unwrap(), "logfmt 7 flag=Bool(true)");
    assert_eq!(
        one(typed, "flag n").unwrap_err(),
        "field n: a bare key (no \"=\") is not a float"
    );
}

#[test]
fn quoted_values_have_their_escapes_undone() {
    assert_eq!(
        one(
            r#"{ "types": { "n": "string" } }"#,
            r#"msg="say \"hi\"\n\ttwice" path="C:\\dir\/x" n="\u00e9\ud83d\ude00" raw=C:\dir"#
        )
        .unwrap(),
        r#"logfmt 7 msg=Text("say \"hi\"\n\ttwice") n=Text("é😀") path=Text("C:\\dir/x") raw=Text("C:\\dir")"#
    );
    // Quotes do not make text: a quoted number is still a number under auto.
    assert_eq!(
        one("{}", r#"a="1.5" b="a=b c""#).unwrap(),
        "logfmt 7 a=Float(1.5) b=Text(\"a=b c\")"
    );
    assert_eq!(
        one("{}", r#"a="x"b=1"#).unwrap(),
        "logfmt 7 a=Text(\"x\") b=Float(1.0)",
        "as in go-logfmt, a pair may follow a closing quote directly"
    );
}

#[test]
fn every_kind_of_malformed_line_says_what_is_wrong() {
    let config = r#"{ "fields": ["a", "b", "s"], "types": { "a": "float", "b": "int" },
        "required": ["a"], "timestamp": { "key": "ts", "format": "unix" },
        "blank_lines": "reject", "max_line_length": 100, "unknown_keys": "reject" }"#;
    let cases: [(&[u8], &str); 20] = [
        (b"", "empty line"),
        (b" \t\r", "empty line"),
        (
            &[b'x'; 100],
            "line too long: 100 bytes, cut at max_line_length (100)",
        ),
        (b"ts=1 a=1 s=\xff", "invalid UTF-8 at byte 11"),
        (
            b"ts=1 a=1 s=\"open",
            "unterminated quote in the value of key s",
        ),
        (
            b"ts=1 a=1 s=\"open\\\"",
            "unterminated quote in the value of key s",
        ),
        (
            b"ts=1 a=1 s\"x\"=1",
            r#"invalid key "s\"x\"=1": a key cannot hold a quote"#,
        ),
        (
            b"ts=1 \"s\"=1",
            r#"invalid key "\"s\"=1": a key cannot hold a quote"#,
        ),
        (
            b"ts=1 =5 a=1",
            r#"invalid key: "=5" has nothing before "=""#,
        ),
        (
            b"ts=1 a=1 s=b\"c",
            r#"key s: a quote inside the unquoted value "b\"c""#,
        ),
        (
            b"ts=1 a=1 s=\"b\\xc\"",
            r#"key s: invalid escape "\\x" in a quoted value"#,
        ),
        (b"ts=1 a=1 a=2", r#"duplicate key "a""#),
        (b"ts=1 ts=2 a=1", r#"duplicate key "ts""#),
        (b"ts=1 a=1 x=2", r#"unknown key "x""#),
        (b"ts=1 a=abc", r#"field a: "abc" is not a float"#),
        (b"ts=1 a=1 b=1.5", r#"field b: "1.5" is not an int"#),
        (
            b"ts=1 a=NaN",
            r#"field a: "NaN" is not a finite number (non_finite: keep accepts it)"#,
        ),
        (
            b"ts=x a=1",
            r#"key ts: timestamp "x" is not unix: not a number"#,
        ),
        (b"a=1", "missing timestamp key ts"),
        (b"ts=1 b=2", "missing required field a"),
    ];
    for (line, reason) in cases {
        let mut records = Records::default();
        records.push(7, line);
        let out = testing::run(
            &mut logfmt(config),
            &Batch {
                records,
                ..Batch::default()
            },
        );
        let (points, rejects) = render(out);
        assert!(points.is_empty(), "{points:?}");
        assert_eq!(
            rejects,
            [format!("0: {reason}")],
            "line {:?}",
            String::from_utf8_lossy(line)
        );
    }
    assert_eq!(
        one(config, "ts=1 a=1 ts=").unwrap_err(),
        r#"duplicate key "ts""#
    );
    assert_eq!(
        one(config, "ts= a=1").unwrap_err(),
        "missing timestamp key ts"
    );
    assert_eq!(
        one(config, "ts=1.5 a=1 s=ok").unwrap(),
        "logfmt 1500000000 a=Float(1.0) s=Text(\"ok\")"
    );
    let long = format!("s={}", "x".repeat(400));
    let reason = one(r#"{ "fields": ["s"], "types": { "s": "int" } }"#, &long).unwrap_err();
    assert!(
        reason.contains('…') && reason.len() < 100,
        "the value is cut: {reason}"
    );
}

#[test]
fn fields_keep_and_rename_keys_and_unknown_keys_follow_the_setting() {
    let with = |fields: &str, mode: &str| {
        format!(r#"{{ "fields": {fields}, "unknown_keys": "{mode}", "required": [] }}"#)
    };
    assert_eq!(
        one(&with(r#"["a"]"#, "keep"), "a=1 x=y").unwrap(),
        "logfmt 7 a=Float(1.0) x=Text(\"y\")"
    );
    assert_eq!(
        one(&with(r#"["a"]"#, "drop"), "a=1 x=y z").unwrap(),
        "logfmt 7 a=Float(1.0)"
    );
    assert_eq!(
        one(&with(r#"{ "a": "alpha" }"#, "reject"), "a=1 x=y").unwrap_err(),
        r#"unknown key "x""#
    );
    assert_eq!(
        one(&with(r#"{ "a": "alpha" }"#, "keep"), "a=1").unwrap(),
        "logfmt 7 alpha=Float(1.0)"
    );
    assert_eq!(
        one(&with(r#"{ "a": "alpha" }"#, "keep"), "a=1 alpha=2").unwrap_err(),
        r#"key "alpha" clashes with field alpha, which key "a" is renamed to"#
    );
    assert_eq!(
        one(&with(r#"{ "a": "alpha" }"#, "drop"), "a=1 alpha=2").unwrap(),
        "logfmt 7 alpha=Float(1.0)"
    );
    assert_eq!(
        one(&with(r#"["a"]"#, "drop"), "x=1").unwrap_err(),
        "no fields: every key is a tag, the time, dropped or empty"
    );
    assert_eq!(
        one(&with(r#"["a"]"#, "keep"), "a= x=").unwrap_err(),
        "no fields: every key is a tag, the time, dropped or empty"
    );
    // By default every field of `fields` is required.
    assert_eq!(
        one(r#"{ "fields": ["a", "b"] }"#, "a=1").unwrap_err(),
        "missing required field b"
    );
    assert_eq!(
        one(r#"{ "fields": ["a", "b"] }"#, "a=1 b=").unwrap_err(),
        "missing required field b",
        "an empty value is no value"
    );
    // Keys kept under their own names are checked for repeats too.
    assert_eq!(
        one("{}", "x=1 y=2 x=3").unwrap_err(),
        r#"duplicate key "x""#
    );
}

#[test]
fn types_apply_to_field_names_after_renaming() {
    let config = r#"{ "fields": { "n": "count", "b": "ok", "s": "code", "f": "f" },
        "types": { "count": "int", "ok": "bool", "code": "string", "f": "float" } }"#;
    assert_eq!(
        one(config, "n=42 b=TRUE s=007 f=-1e3").unwrap(),
        "logfmt 7 code=Text(\"007\") count=Int(42) f=Float(-1000.0) ok=Bool(true)"
    );
    assert_eq!(
        one(config, "n=4.2 b=1 s=x f=1").unwrap_err(),
        r#"field count: "4.2" is not an int"#
    );
    assert_eq!(
        one(config, "n=4 b=yes s=x f=1").unwrap_err(),
        r#"field ok: "yes" is not a bool"#
    );
    // `auto`: shaped like a number, or text (`inf`, `1-2`, `true`).
    assert_eq!(
        one("{}", "a=inf b=1-2 c=true d=.5").unwrap(),
        "logfmt 7 a=Text(\"inf\") b=Text(\"1-2\") c=Text(\"true\") d=Float(0.5)"
    );
    // A field that is a number in one line and text in the next keeps both.
    let (points, _) = parse(&mut logfmt("{}"), &["a=1", "a=x", "a=2"]);
    assert_eq!(
        points,
        [
            "logfmt 7 a=Float(1.0)",
            "logfmt 7 a=Text(\"x\")",
            "logfmt 7 a=Float(2.0)"
        ]
    );
}

#[test]
fn tag_keys_and_the_measurement_key_make_the_series() {
    let mut p = logfmt(
        r#"{ "measurement_key": "event", "tag_keys": ["host", "zone"], "tags": { "site": "lab" } }"#,
    );
    let (points, rejects) = parse(
        &mut p,
        &[
            "event=login host=h1 zone=a v=1",
            "host=h2 v=2",
            "event=\"log out\" host=h1 zone= v=3",
            "event= host=h1 zone=a v=4",
            "event=login zone=a host=h1 v=5",
        ],
    );
    assert_eq!(rejects, [""; 0]);
    assert_eq!(
        points,
        [
            "login{host=h1,site=lab,zone=a} 7 v=Float(1.0)",
            "logfmt{host=h2,site=lab} 7 v=Float(2.0)",
            "log out{host=h1,site=lab} 7 v=Float(3.0)",
            "logfmt{host=h1,site=lab,zone=a} 7 v=Float(4.0)",
            "login{host=h1,site=lab,zone=a} 7 v=Float(5.0)",
        ]
    );
    // Interned: lines of one series share one series of the batch.
    let out = testing::run(
        &mut p,
        &testing::records(&[(1, "host=h1 v=1"), (2, "host=h2 v=2"), (3, "v=3 host=h1")]),
    );
    let points = out.into_points();
    let series: Vec<usize> = points.iter().map(|p| p.series_index()).collect();
    assert_eq!(series, [0, 1, 0], "and no other series is made");
    // Required tag and measurement keys.
    let required =
        r#"{ "measurement_key": "event", "tag_keys": ["host"], "required": ["host", "event"] }"#;
    assert_eq!(
        one(required, "event=e v=1").unwrap_err(),
        "missing required tag key host"
    );
    assert_eq!(
        one(required, "host=h event= v=1").unwrap_err(),
        "missing required measurement key event"
    );
    assert_eq!(
        one(required, "host=h v=1 event=e host=i").unwrap_err(),
        r#"duplicate key "host""#
    );
}

#[test]
fn many_series_in_one_call_are_each_interned_once() {
    let mut p = logfmt(r#"{ "measurement_key": "event", "tag_keys": ["host"] }"#);
    let mut lines: Vec<String> = (0..3000)
        .map(|i| format!("event=e{} host=host-{:04} v={i}", i % 7, i % 500))
        .collect();
    // Values cut differently are different series.
    lines.extend(
        [
            "event=ab host=c v=1",
            "event=a host=bc v=2",
            "host=abc v=3",
            "event=abc v=4",
        ]
        .map(str::to_owned),
    );
    let records: Vec<(i64, &str)> = lines.iter().map(|l| (7, l.as_str())).collect();
    let points = testing::run(&mut p, &testing::records(&records)).into_points();
    assert_eq!(points.len(), lines.len());
    let mut index_of = std::collections::HashMap::new();
    for (line, point) in lines.iter().zip(points.iter()) {
        let value = |key: &str| {
            line.split(' ')
                .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
        };
        let mut want = Series::new(value("event").unwrap_or("logfmt"));
        if let Some(host) = value("host") {
            want.set_tag("host", host);
        }
        assert_eq!(point.series(), &want, "{line}");
        let index = *index_of.entry(want).or_insert(point.series_index());
        assert_eq!(point.series_index(), index, "one series per values: {line}");
    }
    // 500 and 7 are coprime: each of the 3000 lines has its own pair.
    assert_eq!(index_of.len(), 3000 + 4);
}

#[test]
fn timestamps_are_read_in_their_format() {
    let with = |format: &str| format!(r#"{{ "timestamp": {{ "key": "time"{format} }} }}"#);
    assert_eq!(
        one(&with(""), "time=1970-01-01T00:00:01.5Z v=1").unwrap(),
        "logfmt 1500000000 v=Float(1.0)",
        "rfc3339 by default; the key is not a field"
    );
    assert_eq!(
        one(&with(r#", "format": "unix_ms""#), "v=1 time=2500").unwrap(),
        "logfmt 2500000000 v=Float(1.0)"
    );
    assert_eq!(
        one(
            &with(r#", "format": "%d/%m/%Y %H:%M""#),
            "time=\"02/01/1970 00:01\" v=1"
        )
        .unwrap(),
        "logfmt 86460000000000 v=Float(1.0)"
    );
    assert!(
        one(&with(""), "time=yesterday v=1")
            .unwrap_err()
            .starts_with("key time: timestamp \"yesterday\" is not rfc3339: ")
    );
    assert_eq!(
        one(&with(""), "time v=1").unwrap_err(),
        "missing timestamp key time"
    );
    // Without the setting, `ts` is a field and a line has its receive time.
    assert_eq!(one("{}", "ts=5").unwrap(), "logfmt 7 ts=Float(5.0)");
}

#[test]
fn non_finite_numbers_are_rejected_unless_kept() {
    let config = r#"{ "types": { "a": "float" } }"#;
    for text in ["NaN", "inf", "-inf", "1e999"] {
        assert_eq!(
            one(config, &format!("a={text}")).unwrap_err(),
            format!("field a: \"{text}\" is not a finite number (non_finite: keep accepts it)")
        );
    }
    assert!(one("{}", "a=1e999").is_err(), "auto too");
    let keep = r#"{ "types": { "a": "float" }, "non_finite": "keep" }"#;
    assert_eq!(one(keep, "a=-inf").unwrap(), "logfmt 7 a=Float(-inf)");
}

#[test]
fn blank_lines_are_skipped_and_counted_or_rejected() {
    let mut p = logfmt("{}");
    let (points, rejects) = parse(&mut p, &["a=1", "", " \t\r", "\u{feff}a=2"]);
    assert_eq!(points, ["logfmt 7 a=Float(1.0)", "logfmt 7 a=Float(2.0)"]);
    assert!(rejects.is_empty());
    assert_eq!(testing::counters().get("blank_lines"), Some(&2));
    let mut p = logfmt(r#"{ "blank_lines": "reject" }"#);
    let (points, rejects) = parse(&mut p, &["a=1", "\r", "a=2"]);
    assert_eq!(
        (points.len(), rejects),
        (2, vec!["1: empty line".to_owned()])
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
    records.push(8, b"k=2");
    let mut out = Output::default();
    logfmt("{}").process(
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
    let error = config_error(
        r#"{ "measurement": "", "max_line_length": 0, "tag_keys": ["host", "ts", ""],
             "timestamp": { "key": "ts" }, "fields": { "host": "h", "a": "x", "b": "x" },
             "types": { "ts": "int", "a": "float" }, "required": ["ts"], "tags": { "host": "h1" } }"#,
    );
    for part in [
        "logfmt-parser: `measurement` is empty",
        "`max_line_length` must be positive",
        "tag host is both a static tag and a tag key",
        "ts is both the timestamp key and a tag key",
        "a tag key is empty",
        "fields: host is a tag key, not a field",
        r#"fields: keys "a" and "b" are both renamed to x"#,
        "types: ts is the timestamp key, not a field",
        "a is a key of `fields`: `types` and `required` use the field name, x",
        "required: ts is the timestamp key: the line must have it anyway",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }
    assert!(
        config_error(r#"{ "fields": ["a"], "unknown_keys": "drop", "required": ["v"] }"#)
            .contains("v is not a field of `fields`, and `unknown_keys` is not `keep`")
    );
    assert!(config_error(r#"{ "fields": ["a", "a"] }"#).contains(r#"key "a" is given twice"#));
    assert!(config_error(r#"{ "types": { "t": "double" } }"#).contains("unknown variant `double`"));
    assert!(config_error(r#"{ "separator": " " }"#).contains("unknown field `separator`"));
    assert!(
        config_error(r#"{ "timestamp": { "key": "ts", "format": "iso" } }"#).contains("strftime")
    );
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
}

/// `value` written as logfmt: as it is when it can be, else quoted with
/// its specials escaped (a non-ASCII character now and then as `\uXXXX`).
fn encode(rng: &mut Rng, value: &str) -> String {
    let plain = !value.is_empty() && !value.bytes().any(|b| b <= b' ' || b == b'"');
    if plain && rng.below(3) > 0 {
        return value.to_owned();
    }
    let mut quoted = String::from('"');
    for c in value.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' if rng.below(2) == 0 => quoted.push_str("\\t"),
            '/' if rng.below(2) == 0 => quoted.push_str("\\/"),
            c if !c.is_ascii() && rng.below(2) == 0 => {
                let mut units = [0; 2];
                for unit in c.encode_utf16(&mut units) {
                    quoted.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// A value under `auto`, worked out by hand: a number if shaped like one,
/// else text; `None` for a number that is not finite.
fn auto(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let shaped = matches!(bytes.first(), Some(b'0'..=b'9' | b'-' | b'+' | b'.'))
        && matches!(bytes.last(), Some(b'0'..=b'9' | b'.'));
    match value.parse::<f64>() {
        Ok(v) if shaped && v.is_finite() => Some(format!("Float({v:?})")),
        Ok(_) if shaped => None,
        _ => Some(format!("Text({value:?})")),
    }
}

/// Generated lines, with random spacing, quoting, escapes, bare keys,
/// empty values and one defect now and then (a repeated key, an unclosed
/// quote, a bad escape, a quote in an unquoted value, a key without a
/// name), read as worked out by hand from the values they were written
/// from.
#[test]
fn generated_lines_read_as_they_were_written() {
    let keys = ["a", "b", "level", "msg", "x_1", "é", "k.v", "ts", "A"];
    let values = [
        "1.5",
        "-2",
        "1e3",
        "007",
        "1e999",
        "abc",
        "a b",
        "say \"hi\"",
        "x=y",
        "é",
        "tab\there",
        "back\\slash",
        "",
        "line\nbreak",
        "/path/x",
        "😀",
        "+.5",
        "-",
        "true",
    ];
    let spaces = [" ", "  ", "\t", " \t "];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut lines, mut want) = (Vec::new(), Vec::new());
    let mut defects = [0; 6];
    for index in 0..20_000 {
        let mut line = String::new();
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        let mut problem: Option<String> = None;
        let pairs = 1 + rng.below(6);
        for pair in 0..pairs {
            if pair > 0 || rng.below(4) == 0 {
                line.push_str(spaces[rng.below(spaces.len())]);
            }
            let key = keys[rng.below(keys.len())];
            let value = values[rng.below(values.len())];
            let defect = if problem.is_none() && rng.below(25) == 0 {
                1 + rng.below(4)
            } else {
                0
            };
            let last = pair == pairs - 1;
            match defect {
                1 if last => {
                    // An unclosed quote, at the end of the line.
                    let mut quoted = encode(&mut rng, &format!("{value} "));
                    quoted.pop();
                    line.push_str(&format!("{key}={quoted}"));
                    problem = Some(format!("unterminated quote in the value of key {key}"));
                    defects[0] += 1;
                    continue;
                }
                2 => {
                    line.push_str(&format!("{key}=\"x\\q{}\"", value.replace(['"', '\\'], "")));
                    problem = Some(format!(
                        "key {key}: invalid escape \"\\\\q\" in a quoted value"
                    ));
                    defects[1] += 1;
                    continue;
                }
                3 => {
                    line.push_str(&format!("{key}=v\"w"));
                    problem = Some(format!(
                        "key {key}: a quote inside the unquoted value \"v\\\"w\""
                    ));
                    defects[2] += 1;
                    continue;
                }
                4 => {
                    line.push_str("=v");
                    problem = Some("invalid key: \"=v\" has nothing before \"=\"".to_owned());
                    defects[3] += 1;
                    continue;
                }
                _ => {}
            }
            if seen.contains(&key) {
                if problem.is_none() {
                    problem = Some(format!("duplicate key {key:?}"));
                    defects[4] += 1;
                }
            } else {
                seen.push(key);
            }
            match rng.below(8) {
                0 => {
                    // A bare key.
                    line.push_str(key);
                    fields.push((key.to_owned(), "Bool(true)".to_owned()));
                }
                1 => {
                    line.push_str(&format!("{key}="));
                }
                _ => {
                    line.push_str(&format!("{key}={}", encode(&mut rng, value)));
                    if value.is_empty() {
                        continue;
                    }
                    match auto(value) {
                        Some(typed) => fields.push((key.to_owned(), typed)),
                        None => {
                            if problem.is_none() {
                                problem = Some(format!(
                                    "field {key}: {value:?} is not a finite number (non_finite: keep accepts it)"
                                ));
                                defects[5] += 1;
                            }
                        }
                    }
                }
            }
        }
        if rng.below(4) == 0 {
            line.push_str(spaces[rng.below(spaces.len())]);
        }
        match problem {
            Some(reason) => want.push(format!("{index}: {reason}")),
            None if fields.is_empty() => want.push(format!(
                "{index}: no fields: every key is a tag, the time, dropped or empty"
            )),
            None => {
                let mut fields: Vec<String> =
                    fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                fields.sort();
                want.push(format!("logfmt 7 {}", fields.join(" ")));
            }
        }
        lines.push(line);
    }
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (points, rejects) = parse(&mut logfmt("{}"), &lines);
    let mut got = points;
    got.extend(rejects);
    got.sort();
    want.sort();
    for (got, want) in got.iter().zip(&want) {
        assert_eq!(got, want);
    }
    assert_eq!(got.len(), want.len());
    assert!(
        defects.iter().all(|&n| n > 50),
        "every defect is tried: {defects:?}"
    );
    assert!(
        want.iter().filter(|w| w.starts_with("logfmt")).count() > 5_000,
        "most lines are good"
    );
}
