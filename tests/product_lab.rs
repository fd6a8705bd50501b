//! The product-lab example, end to end: the seeded generator writes the
//! fleet's CSV history, the agent replays it with the example's own
//! pipeline, and the analysis report is compared with the original
//! notebook's pandas computation of the same file, number for number, and
//! with the expected report checked in; the HTML report is rendered by a
//! headless Chromium and the screenshot must show the charts.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::example::Example;
use foghorn_tests::wait;
use serde_json::Value;

const EXAMPLE: Example = Example("product-lab");

/// Write what the example's `script` prints for `args` to `stdout`.
fn python(script: &str, args: &[&str], stdout: &Path) {
    std::fs::write(stdout, EXAMPLE.run(script, args)).unwrap();
}

/// Where two JSON documents differ: paths, with numbers compared as
/// doubles (so `204` and `204.0` agree, `0.1 + 0.2` and `0.3` do not).
fn differences(ours: &Value, theirs: &Value, path: &str, out: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let (ka, kb): (Vec<_>, Vec<_>) = (a.keys().collect(), b.keys().collect());
            if ka != kb {
                out.push(format!("{path}: keys {ka:?} vs {kb:?}"));
            }
            for (key, value) in a {
                if let Some(other) = b.get(key) {
                    differences(value, other, &format!("{path}.{key}"), out);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!("{path}: {} items vs {}", a.len(), b.len()));
            }
            for (index, (x, y)) in a.iter().zip(b).enumerate() {
                differences(x, y, &format!("{path}[{index}]"), out);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() != b.as_f64() => {
            out.push(format!("{path}: {a} vs {b}"));
        }
        (Value::Number(_), Value::Number(_)) => {}
        (a, b) if a != b => out.push(format!("{path}: {a} vs {b}")),
        _ => {}
    }
}

#[test]
fn product_lab_reproduces_the_pandas_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("telemetry.csv");
    python("generate.py", &["--seed", "42"], &input);
    let out = dir.path().join("out");
    let mut agent = Agent::start(
        dir.path(),
        &EXAMPLE.path("pipeline.yaml"),
        &[
            ("INPUT", input.to_str().unwrap()),
            ("OUT_DIR", out.to_str().unwrap()),
        ],
    );
    let status = agent.wait_exit(Duration::from_secs(120));
    assert!(status.success(), "exit {status:?}:\n{}", agent.logs());
    assert!(
        agent.logs().contains("analysis ") && agent.logs().contains("analysis_report.html"),
        "the banner says where the reports go:\n{}",
        agent.logs()
    );

    let report_text = wait::read(&out.join("analysis_report.json"));
    let report: Value = serde_json::from_str(&report_text).unwrap();
    let reference_path = dir.path().join("reference.json");
    python("reference.py", &[input.to_str().unwrap()], &reference_path);
    let reference: Value = serde_json::from_str(&wait::read(&reference_path)).unwrap();

    // The generator's faults are all there to be found.
    let rows = &report["rows"];
    for key in ["duplicates", "missing", "out_of_range"] {
        assert!(rows[key].as_u64().unwrap() > 0, "{key}: {rows}");
    }
    for set in ["temperature", "performance", "power"] {
        assert!(
            report["anomalies"][set]["count"].as_u64().unwrap() > 10,
            "{set}"
        );
    }
    assert_eq!(report["resample"]["hourly"].as_array().unwrap().len(), 720);
    assert!(
        report["resample"]["hourly"]
            .as_array()
            .unwrap()
            .iter()
            .any(|hour| hour["temperature_celsius"].is_null()),
        "an hour without rows is present, with null statistics"
    );

    let mut found = Vec::new();
    differences(&report, &reference, "", &mut found);
    assert!(
        found.is_empty(),
        "{} differences from pandas, the first: {:#?}",
        found.len(),
        &found[..found.len().min(20)]
    );

    // The report checked in is this run's, byte for byte: a change of
    // number format or key order shows here.
    let expected = EXAMPLE.read("expected_analysis_report.json");
    assert!(
        report_text == expected,
        "the report differs from examples/product-lab/expected_analysis_report.json"
    );

    let html = wait::read(&out.join("analysis_report.html"));
    assert!(html.contains("<svg") && html.contains("Hourly mean power"));
    assert!(
        !html.contains("<script") && !html.contains("src=") && !html.contains("href="),
        "self-contained: no script, nothing fetched"
    );
    screenshot_shows_the_charts(dir.path(), &out.join("analysis_report.html"));
}

/// Render `page` in headless Chromium and check the screenshot: mostly
/// white page, with the charts' blue lines and red anomaly markers.
fn screenshot_shows_the_charts(dir: &Path, page: &Path) {
    let shot = dir.join("report.png");
    let output = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1100,1400",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium is installed by the test command");
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let channels = frame.color_type.samples();
    let near =
        |rgb: [u8; 3], target: [u8; 3]| rgb.iter().zip(target).all(|(a, b)| a.abs_diff(b) < 40);
    let (mut blue, mut red, mut white) = (0, 0, 0);
    for pixel in pixels[..frame.buffer_size()].chunks(channels) {
        let rgb = [pixel[0], pixel[1], pixel[2]];
        blue += usize::from(near(rgb, [0x1f, 0x77, 0xb4]));
        red += usize::from(near(rgb, [0xd6, 0x27, 0x28]));
        white += usize::from(rgb == [255, 255, 255]);
    }
    let total = (frame.width * frame.height) as usize;
    assert!(white < total, "a blank page");
    assert!(blue > 500, "the lines are drawn: {blue} blue pixels");
    assert!(red > 200, "the anomaly markers are drawn: {red} red pixels");
}

/// The rows an analysis sink has spooled (its spool's lines but the
/// header).
fn spooled(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out.join("data/analysis/analysis.ndjson"))
        .map(|text| text.lines().skip(1).map(str::to_owned).collect())
        .unwrap_or_default()
}

#[test]
fn product_lab_loses_no_row_across_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.csv");
    python("generate.py", &["--seed", "42"], &all);
    let text = std::fs::read_to_string(&all).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (first_half, second_half) = lines.split_at(2501);
    let input = dir.path().join("telemetry.csv");
    std::fs::write(&input, first_half.join("\n") + "\n").unwrap();
    // The example's pipeline, following the file and resuming from its
    // checkpoint, as a live deployment would.
    let pipeline = EXAMPLE
        .read("pipeline.yaml")
        .replace("follow: false", "follow: true")
        .replace("read_from: beginning", "read_from: checkpoint");
    let config = dir.path().join("pipeline.yaml");
    std::fs::write(&config, pipeline).unwrap();
    let out = dir.path().join("out");
    let env = [
        ("INPUT", input.to_str().unwrap()),
        ("OUT_DIR", out.to_str().unwrap()),
    ];

    let mut agent = Agent::start(dir.path(), &config, &env);
    wait::until("the first half spooled", Duration::from_secs(60), || {
        (spooled(&out).len() >= 2500).then_some(())
    });
    agent.kill9();

    foghorn_tests::input::append(&input, second_half);
    let last_time = {
        let stamp = second_half.last().unwrap().split(',').next().unwrap();
        let format =
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        time::PrimitiveDateTime::parse(stamp, &format)
            .unwrap()
            .assume_utc()
            .unix_timestamp_nanos()
            .to_string()
    };
    let mut agent = Agent::start(dir.path(), &config, &env);
    wait::until("the last row spooled", Duration::from_secs(60), || {
        let rows = spooled(&out);
        rows.last()
            .is_some_and(|row| row.starts_with(&format!("[{last_time},")))
            .then_some(())
    });
    assert!(agent.terminate().success(), "{}", agent.logs());

    let report: Value =
        serde_json::from_str(&wait::read(&out.join("analysis_report.json"))).unwrap();
    let expected: Value =
        serde_json::from_str(&EXAMPLE.read("expected_analysis_report.json")).unwrap();
    // Every row is there once: a row replayed after the kill (spooled but
    // not yet acknowledged) is an exact duplicate and left out as one.
    let replayed = report["rows"]["received"].as_u64().unwrap() - 5000;
    assert_eq!(
        report["rows"]["duplicates"].as_u64().unwrap(),
        expected["rows"]["duplicates"].as_u64().unwrap() + replayed,
        "{}",
        report["rows"]
    );
    for key in [
        "period",
        "distinct",
        "values",
        "groups",
        "anomalies",
        "resample",
        "rolling",
    ] {
        let mut found = Vec::new();
        differences(&report[key], &expected[key], key, &mut found);
        assert!(
            found.is_empty(),
            "{key}: {:#?}",
            &found[..found.len().min(10)]
        );
    }
    assert_eq!(report["rows"]["analysed"], expected["rows"]["analysed"]);
}
