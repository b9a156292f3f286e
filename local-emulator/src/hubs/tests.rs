//! The hubs end to end: ordering per key, the shared log, restarts and checkpoints, earlier
//! versions' logs, and a torn last line.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use super::checkpoints::{checkpoint_path, read_checkpoint, CHECKPOINT_FLUSH_INTERVAL};
use super::event::{HubsError, NewEvent, StoredEvent};
use super::log::{earlier_log_path, read_lines, LogLine, LOG_FILE};
use super::namespace::{partition_for_key, Hubs};
use super::partition::Partition;

fn groups() -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([
        ("hub-a".to_string(), vec!["cg-1".to_string(), "cg-2".to_string()]),
        ("hub-b".to_string(), vec!["cg-1".to_string()]),
    ])
}

fn events(keys: &[&str]) -> Vec<NewEvent> {
    keys.iter()
        .enumerate()
        .map(|(n, key)| NewEvent { partition_key: Some(key.to_string()), body: format!("{key}-{n}") })
        .collect()
}

fn bodies(partition: &Partition, from: i64) -> Vec<String> {
    partition.read(from, 100).iter().map(|it| it.body.clone()).collect()
}

fn temporary_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("le_hubs_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_one_key_keep_their_order_on_one_partition() {
    let dir = temporary_dir();
    let hubs = Hubs::open(&dir, groups(), 4).unwrap();
    hubs.append("hub-a", events(&["k", "k", "k"])).await.unwrap();
    let partition = hubs.partition("hub-a", partition_for_key("k", 4) as u32).unwrap();
    assert_eq!(bodies(&partition, 0), ["k-0", "k-1", "k-2"]);
    assert!(matches!(hubs.append("no-such-hub", events(&["k"])).await, Err(HubsError::UnknownHub(_))));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_to_several_hubs_share_the_log_and_number_each_partition_densely() {
    let dir = temporary_dir();
    let hubs = Arc::new(Hubs::open(&dir, groups(), 2).unwrap());
    let appends: Vec<_> = (0..40)
        .map(|n| {
            let hubs = Arc::clone(&hubs);
            let hub = if n % 2 == 0 { "hub-a" } else { "hub-b" };
            tokio::spawn(async move {
                hubs.append(hub, vec![NewEvent { partition_key: Some(format!("key-{}", n % 5)), body: format!("{n}") }])
                    .await
            })
        })
        .collect();
    for append in appends {
        append.await.unwrap().unwrap();
    }
    let mut total = 0;
    for hub in ["hub-a", "hub-b"] {
        for number in 0..2 {
            let partition = hubs.partition(hub, number).unwrap();
            let numbers: Vec<i64> = partition.read(0, 100).iter().map(|it| it.sequence_number).collect();
            assert_eq!(
                numbers,
                (0..partition.end()).collect::<Vec<_>>(),
                "{hub}/{number} is numbered from 0 without gaps"
            );
            total += numbers.len();
        }
    }
    assert_eq!(total, 40);
    let lines = read_lines::<LogLine<'static>>(&dir.join(LOG_FILE)).unwrap();
    assert_eq!(lines.len(), 40, "one file holds every hub's events");
    assert!(lines.windows(2).all(|it| it[0].offset < it[1].offset));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_each_group_resumes_after_its_checkpoint() {
    let dir = temporary_dir();
    {
        let hubs = Hubs::open(&dir, groups(), 1).unwrap();
        hubs.append("hub-a", events(&["a", "b", "c", "d"])).await.unwrap();
        hubs.append("hub-b", events(&["x"])).await.unwrap();
        hubs.record_checkpoint("hub-a", "cg-1", 0, 2);
        hubs.record_checkpoint("hub-a", "cg-2", 0, 0);
        hubs.record_checkpoint("hub-b", "cg-1", 0, 0);
    }
    let hubs = Hubs::open(&dir, groups(), 1).unwrap();
    let partition = hubs.partition("hub-a", 0).unwrap();
    assert_eq!(partition.end(), 4, "numbering survives the restart");
    let resume = |group: &str| hubs.checkpoint("hub-a", group, 0).map_or(0, |it| it + 1);
    let for_group_1: Vec<i64> = partition.read(resume("cg-1"), 10).iter().map(|it| it.sequence_number).collect();
    let for_group_2: Vec<i64> = partition.read(resume("cg-2"), 10).iter().map(|it| it.sequence_number).collect();
    assert_eq!(for_group_1, [3], "cg-1 gets what it had not checkpointed");
    assert_eq!(for_group_2, [1, 2, 3], "cg-2 too: nothing both had not processed is lost");
    assert_eq!(hubs.partition("hub-b", 0).unwrap().end(), 1, "the other hub's numbering too");
    assert!(
        bodies(&hubs.partition("hub-b", 0).unwrap(), 0).is_empty(),
        "its checkpointed event is not delivered again"
    );

    // Once every group has everything, a restart keeps the numbering and nothing is redelivered.
    hubs.record_checkpoint("hub-a", "cg-1", 0, 3);
    hubs.record_checkpoint("hub-a", "cg-2", 0, 3);
    drop(hubs);
    let hubs = Hubs::open(&dir, groups(), 1).unwrap();
    let partition = hubs.partition("hub-a", 0).unwrap();
    assert_eq!(partition.end(), 4);
    assert!(partition.read(4, 10).is_empty());
    hubs.append("hub-a", events(&["e"])).await.unwrap();
    let next: Vec<(i64, String)> =
        partition.read(4, 10).iter().map(|it| (it.sequence_number, it.body.clone())).collect();
    assert_eq!(next, [(4, "e-0".to_string())]);
    assert_eq!(
        read_lines::<LogLine<'static>>(&dir.join(LOG_FILE)).unwrap().len(),
        3,
        "compacted to each partition's last event, and the new one"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_left_out_of_a_run_keeps_its_events_for_the_next() {
    let dir = temporary_dir();
    let key_on_1 = (0..).map(|n| format!("k{n}")).find(|key| partition_for_key(key, 2) == 1).unwrap();
    {
        let hubs = Hubs::open(&dir, groups(), 2).unwrap();
        hubs.append("hub-a", events(&[&key_on_1])).await.unwrap();
    }
    drop(Hubs::open(&dir, groups(), 1).unwrap());
    let hubs = Hubs::open(&dir, groups(), 2).unwrap();
    assert_eq!(bodies(&hubs.partition("hub-a", 1).unwrap(), 0), [format!("{key_on_1}-0")]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_versions_partition_logs_move_into_the_shared_log() {
    let dir = temporary_dir();
    let earlier = earlier_log_path(&dir, "hub-a", 0);
    std::fs::create_dir_all(earlier.parent().unwrap()).unwrap();
    let line = |seq: i64, body: &str| {
        serde_json::to_string(&StoredEvent {
            sequence_number: seq,
            offset: 0,
            enqueued_ms: 1,
            partition_key: None,
            body: body.to_string(),
        })
        .unwrap()
            + "\n"
    };
    std::fs::write(&earlier, line(5, "old-5") + &line(6, "old-6")).unwrap();
    {
        let hubs = Hubs::open(&dir, groups(), 1).unwrap();
        let partition = hubs.partition("hub-a", 0).unwrap();
        assert_eq!(bodies(&partition, 0), ["old-5", "old-6"]);
        assert_eq!(partition.end(), 7);
        assert!(!earlier.exists(), "the old file is gone once its events are in the shared log");
        hubs.append("hub-a", events(&["new"])).await.unwrap();
    }
    // A crash between the move and the removal leaves both: each event still counts once.
    std::fs::write(&earlier, line(6, "old-6")).unwrap();
    let hubs = Hubs::open(&dir, groups(), 1).unwrap();
    let partition = hubs.partition("hub-a", 0).unwrap();
    assert_eq!(bodies(&partition, 0), ["old-5", "old-6", "new-0"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_counts_at_once_and_reaches_its_file_within_the_flush_interval() {
    let dir = temporary_dir();
    let hubs = Hubs::open(&dir, groups(), 1).unwrap();
    hubs.append("hub-a", events(&["a", "b"])).await.unwrap();
    hubs.record_checkpoint("hub-a", "cg-1", 0, 1);
    assert_eq!(hubs.checkpoint("hub-a", "cg-1", 0), Some(1), "in effect before it is on file");
    let file = checkpoint_path(&dir, "hub-a", "cg-1", 0);
    tokio::time::sleep(CHECKPOINT_FLUSH_INTERVAL * 5).await;
    assert_eq!(read_checkpoint(&file), Some(1), "on file while the hubs still run");
    hubs.record_checkpoint("hub-a", "cg-1", 0, 1);
    drop(hubs);
    assert_eq!(read_checkpoint(&file), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_torn_by_a_crash_is_cut_off() {
    let dir = temporary_dir();
    {
        let hubs = Hubs::open(&dir, groups(), 1).unwrap();
        hubs.append("hub-a", events(&["a", "b"])).await.unwrap();
    }
    let log = dir.join(LOG_FILE);
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    file.write_all(br#"{"hub":"hub-a","p":0,"seq":2,"offset":999,"t":1,"key":"c","bo"#).unwrap();
    drop(file);
    let hubs = Hubs::open(&dir, groups(), 1).unwrap();
    let partition = hubs.partition("hub-a", 0).unwrap();
    assert_eq!(partition.end(), 2);
    hubs.append("hub-a", events(&["c"])).await.unwrap();
    assert_eq!(bodies(&partition, 0), ["a-0", "b-1", "c-0"]);
    let _ = std::fs::remove_dir_all(&dir);
}
