//! The network-analytics example, end to end: the seeded generator writes a
//! day of edge telemetry, the agent follows the file with the example's own
//! pipeline while a webhook receiver and the metrics endpoint watch, and on
//! shutdown the bottleneck CSV must be the network script's byte for byte
//! and the statistics its numbers exactly.

use std::time::Duration;

use foghorn_tests::agent::Agent;
use foghorn_tests::example::Example;
use foghorn_tests::receiver::Receiver;
use foghorn_tests::{http, wait};
use serde_json::Value;

/// Kahan's sum, as the resample plugin (and pandas) sums a bucket.
fn kahan(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut compensation) = (0.0_f64, 0.0_f64);
    for value in values {
        let y = value - compensation;
        let t = sum + y;
        compensation = (t - sum) - y;
        sum = t;
    }
    sum
}

const EXAMPLE: Example = Example("network-analytics");

#[test]
fn network_analytics_matches_the_script_live_and_on_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("network.csv");
    std::fs::write(&input, EXAMPLE.run("generate.py", &["--seed", "7"])).unwrap();
    let reference = dir.path().join("reference");
    std::fs::create_dir(&reference).unwrap();
    EXAMPLE.run(
        "reference.py",
        &[input.to_str().unwrap(), reference.to_str().unwrap()],
    );

    // Live: follow the file, reports every second.
    let pipeline = EXAMPLE
        .read("pipeline.yaml")
        .replace("follow: false", "follow: true")
        .replace("interval: 10s", "interval: 1s");
    let config = dir.path().join("pipeline.yaml");
    std::fs::write(&config, pipeline).unwrap();
    let receiver = Receiver::start(dir.path(), 0, &[]);
    let out = dir.path().join("out");
    let url = receiver.url();
    let mut agent = Agent::start(
        dir.path(),
        &config,
        &[
            ("INPUT", input.to_str().unwrap()),
            ("OUT_DIR", out.to_str().unwrap()),
            ("METRICS_LISTEN", "127.0.0.1:0"),
            ("WEBHOOK_URL", &url),
        ],
    );
    let metrics = agent.metrics_addr();
    let rows = std::fs::read_to_string(&input).unwrap().lines().count() - 1;

    // The report's KPIs reach /metrics once every row is in.
    let counted = || -> Option<f64> {
        let (_, body) = http::get(metrics, "/metrics")?;
        Some(
            body.lines()
                .filter(|l| {
                    l.starts_with("foghorn_analysis_statistic{")
                        && l.contains("statistic=\"latency_ms_count\"")
                })
                .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
                .sum(),
        )
    };
    wait::until(
        "every row in the exported report",
        Duration::from_secs(90),
        || (counted()? == rows as f64).then_some(()),
    );
    let reference_json: Value =
        serde_json::from_str(&wait::read(&reference.join("reference.json"))).unwrap();
    for kpi in reference_json["kpis_by_region"].as_array().unwrap() {
        let region = kpi["region"].as_str().unwrap();
        for statistic in ["uptime_score", "performance_score", "avg_cpu"] {
            let served = http::metric(
                metrics,
                "foghorn_analysis_statistic",
                &[
                    ("section", "kpis_by_region"),
                    ("group", region),
                    ("statistic", statistic),
                ],
            );
            assert_eq!(served, kpi[statistic].as_f64(), "{region} {statistic}");
        }
    }

    // Per device, the latest values; per region, the last closed hour's
    // traffic (the hour before the last: the last stays open).
    let text = std::fs::read_to_string(&input).unwrap();
    let lines: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let last_edge_01 = lines.iter().rev().find(|c| c[1] == "edge-01").unwrap();
    assert_eq!(
        http::metric(metrics, "edge_latency_ms", &[("device_id", "edge-01")]),
        last_edge_01[4].parse().ok()
    );
    let last_hour = &lines.last().unwrap()[0][..13];
    let hours: Vec<&str> = lines.iter().map(|c| &c[0][..13]).collect();
    let closed = hours.iter().rev().find(|h| **h != last_hour).unwrap();
    let traffic = kahan(
        lines
            .iter()
            .filter(|c| c[0].starts_with(closed) && c[2] == "us-east")
            .map(|c| c[3].parse::<f64>().unwrap()),
    );
    let served = wait::until(
        "the hourly traffic per region",
        Duration::from_secs(30),
        || {
            http::metric(
                metrics,
                "edge_region_traffic_mbps_sum",
                &[("region", "us-east")],
            )
        },
    );
    assert!(
        (served - traffic).abs() <= 1e-9 * traffic,
        "{served} vs {traffic}"
    );

    // Live alerts: threshold breaches and device outliers through the alert
    // stage to the webhook.
    let names = || -> Vec<String> {
        receiver
            .calls()
            .iter()
            .flat_map(|call| {
                call["body"]["alerts"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|alert| Some(alert["labels"]["alertname"].as_str()?.to_owned()))
            .collect()
    };
    wait::until(
        "bottleneck and outlier notifications",
        Duration::from_secs(30),
        || {
            let names = names();
            (names.iter().any(|n| n == "bottleneck") && names.iter().any(|n| n == "zscore"))
                .then_some(())
        },
    );

    assert!(agent.terminate().success(), "{}", agent.logs());
    let ours = std::fs::read_to_string(out.join("bottlenecks.csv")).unwrap();
    let theirs = std::fs::read_to_string(reference.join("bottlenecks.csv")).unwrap();
    assert!(ours.lines().count() > 100, "{ours}");
    assert!(
        ours.contains(",0.0,"),
        "rows flagged only by a z-score have severity 0.0"
    );
    if ours != theirs {
        let first = ours.lines().zip(theirs.lines()).position(|(a, b)| a != b);
        panic!(
            "bottlenecks.csv differs from the script's at line {first:?}: {:?} vs {:?}",
            first.and_then(|i| ours.lines().nth(i)),
            first.and_then(|i| theirs.lines().nth(i))
        );
    }
    let report: Value =
        serde_json::from_str(&wait::read(&out.join("network_report.json"))).unwrap();
    assert_eq!(
        report["groups"]["latency_by_device"],
        reference_json["latency_by_device"]
    );
    assert_eq!(
        report["groups"]["kpis_by_region"],
        reference_json["kpis_by_region"]
    );
    let bottlenecks = &report["anomalies"]["bottlenecks"];
    assert_eq!(bottlenecks["count"], reference_json["bottlenecks"]["count"]);
    assert_eq!(bottlenecks["first"], reference_json["bottlenecks"]["first"]);
    for (index, field) in [(3, "latency_ms"), (4, "packet_loss_pct")] {
        let condition = &bottlenecks["conditions"][index];
        assert_eq!(condition["field"], field);
        assert_eq!(
            condition["mean"],
            reference_json["bottlenecks"]["z"][field]["mean"]
        );
        assert_eq!(
            condition["std"],
            reference_json["bottlenecks"]["z"][field]["std"]
        );
    }
}
