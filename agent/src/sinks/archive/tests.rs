use std::io::Read;

use tokio::sync::mpsc;

use super::*;
use crate::delivery::DeliveryStatus;
use crate::event::{Batch, Records};

fn config(root: &Path) -> ArchiveConfig {
    ArchiveConfig {
        path: root.to_path_buf(),
        partition: "year=%Y/month=%m/day=%d/hour=%H".to_owned(),
        time: PartitionTime::Field("event_timestamp".to_owned()),
        prefix: "events".to_owned(),
        compression: Compression::Gzip,
        compression_level: 6,
        max_file_size: crate::settings::ByteSize(1024 * 1024),
        max_file_age: Duration::from_secs(3600),
        max_open_files: 8,
    }
}

fn ctx(root: &Path) -> SinkContext {
    SinkContext {
        name: "archive-test".into(),
        data_dir: root.to_path_buf(),
        shutdown: tokio_util::sync::CancellationToken::new(),
    }
}

fn event(id: usize, time: &str) -> String {
    format!(r#"{{"event_id":"e{id}","event_timestamp":"{time}","bandwidth_mbps":5.5}}"#)
}

fn batch(lines: &[String], delivery: Delivery) -> SharedBatch {
    let mut records = Records::default();
    for line in lines {
        records.push(1_700_000_000_000_000_000, line.as_bytes());
    }
    Arc::new(Batch {
        records,
        delivery,
        ..Batch::default()
    })
}

/// Every finished file under `root` (not the hidden `.part` files being
/// written): (path relative to root, its lines).
fn files(root: &Path) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let mut text = String::new();
            if path.extension().is_some_and(|e| e == "gz") {
                flate2::read::MultiGzDecoder::new(File::open(&path).unwrap())
                    .read_to_string(&mut text)
                    .unwrap();
            } else {
                File::open(&path)
                    .unwrap()
                    .read_to_string(&mut text)
                    .unwrap();
            }
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push((relative, text.lines().map(str::to_owned).collect()));
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn events_go_to_their_hour_and_batches_are_acknowledged_once_finalized() {
    let dir = tempfile::tempdir().unwrap();
    let sink = ArchiveSink::build(&config(dir.path()), ctx(dir.path()))
        .await
        .unwrap();
    let (delivery, watch) = Delivery::watched();
    let lines = vec![
        event(1, "2024-05-01T12:59:59.5Z"),
        event(2, "2024-05-01T13:00:00Z"),
        event(3, "2024-05-01T12:00:00+00:00"),
        "not json".to_owned(),
    ];
    let (tx, rx) = mpsc::channel(4);
    tx.send(batch(&lines, delivery)).await.unwrap();
    let task = tokio::spawn(sink.run(rx));
    // Nothing is final while the input is open: no file to read yet, and
    // the batch not acknowledged.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        files(dir.path()).is_empty(),
        "only hidden .part files while open"
    );
    drop(tx);
    task.await.unwrap().unwrap();
    assert_eq!(watch.settled().await, DeliveryStatus::Delivered);
    let found = files(dir.path());
    let names: Vec<&str> = found.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names[0].starts_with("year=2023/month=11/day=14/hour=22/events-"),
        "arrival time: {names:?}"
    );
    assert!(names[1].starts_with("year=2024/month=05/day=01/hour=12/events-"));
    assert!(names[2].starts_with("year=2024/month=05/day=01/hour=13/events-"));
    assert!(names.iter().all(|n| n.ends_with(".ndjson.gz")));
    assert_eq!(found[0].1, ["not json"]);
    assert_eq!(
        found[1].1,
        [lines[0].clone(), lines[2].clone()],
        "as they came"
    );
    assert_eq!(found[2].1, [lines[1].clone()]);
}

#[tokio::test]
async fn files_rotate_by_size_and_unfinished_parts_of_a_killed_run_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("year=2024/month=05/day=01/hour=12");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join(".events-1-1.ndjson.gz.part"), "torn").unwrap();
    std::fs::write(stale.join("notes.txt.part"), "not ours").unwrap();
    let mut settings = config(dir.path());
    settings.max_file_size = crate::settings::ByteSize(1024);
    settings.compression = Compression::None;
    let sink = ArchiveSink::build(&settings, ctx(dir.path()))
        .await
        .unwrap();
    assert!(!stale.join(".events-1-1.ndjson.gz.part").exists());
    assert!(stale.join("notes.txt.part").exists(), "only the sink's own");
    std::fs::remove_file(stale.join("notes.txt.part")).unwrap();
    let lines: Vec<String> = (0..100).map(|i| event(i, "2024-05-01T12:30:00Z")).collect();
    let (tx, rx) = mpsc::channel(4);
    tx.send(batch(&lines, Delivery::none())).await.unwrap();
    drop(tx);
    sink.run(rx).await.unwrap();
    let found = files(dir.path());
    assert!(found.len() > 5, "rotated every KiB: {}", found.len());
    let mut sorted: Vec<String> = found.iter().flat_map(|(_, lines)| lines.clone()).collect();
    sorted.sort();
    let mut expected = lines.clone();
    expected.sort();
    assert_eq!(sorted, expected, "every event once");
}

#[tokio::test]
async fn the_oldest_file_is_finalized_past_max_open_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = config(dir.path());
    settings.max_open_files = 2;
    let sink = ArchiveSink::build(&settings, ctx(dir.path()))
        .await
        .unwrap();
    let (first, first_watch) = Delivery::watched();
    let (tx, rx) = mpsc::channel(4);
    tx.send(batch(&[event(1, "2024-05-01T01:00:00Z")], first))
        .await
        .unwrap();
    tx.send(batch(&[event(2, "2024-05-01T02:00:00Z")], Delivery::none()))
        .await
        .unwrap();
    tx.send(batch(&[event(3, "2024-05-01T03:00:00Z")], Delivery::none()))
        .await
        .unwrap();
    let task = tokio::spawn(sink.run(rx));
    assert_eq!(
        first_watch.settled().await,
        DeliveryStatus::Delivered,
        "the third partition closed the first's file"
    );
    drop(tx);
    task.await.unwrap().unwrap();
    assert_eq!(files(dir.path()).len(), 3);
}

#[tokio::test]
async fn the_compression_level_trades_size_for_speed_and_both_read_back() {
    let lines: Vec<String> = (0..5000)
        .map(|id| event(id, &format!("2024-05-01T12:{:02}:00Z", id % 60)))
        .collect();
    let mut sizes = Vec::new();
    for level in [1, 9] {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = config(dir.path());
        settings.compression_level = level;
        let sink = ArchiveSink::build(&settings, ctx(dir.path()))
            .await
            .unwrap();
        let (tx, rx) = mpsc::channel(1);
        tx.send(batch(&lines, Delivery::none())).await.unwrap();
        drop(tx);
        sink.run(rx).await.unwrap();
        let found = files(dir.path());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, lines, "level {level} reads back as written");
        let hour = dir.path().join("year=2024/month=05/day=01/hour=12");
        let file = std::fs::read_dir(hour).unwrap().next().unwrap().unwrap();
        sizes.push(file.metadata().unwrap().len());
    }
    assert!(
        sizes[1] < sizes[0],
        "level 9 is smaller than level 1: {sizes:?}"
    );
}
