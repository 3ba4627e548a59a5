//! `--timeline-limit`: the timeline lists at most N events in every format
//! and at most N lifetimes per node in JSON, and says how many it left out.
//!
//! Scenario 02 (Debian Redis 7.0.15) has 133 events, 14 of them medium
//! and above, and nodes with 2 and 3 lifetimes: small limits cut both.

mod common;

use serde_json::Value;

const DIR: &str = "testdata/logs/02-replication/debian-7.0.15";

fn json(extra: &[&str]) -> Value {
    let mut args = vec!["logs", "-q", "--format", "json", DIR];
    args.extend_from_slice(extra);
    let (code, out, err) = common::run(&args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn rank(e: &Value) -> u8 {
    match e["severity"].as_str().unwrap() {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

#[test]
fn the_limit_keeps_the_most_severe_events_and_counts_the_rest() {
    let all = json(&[]);
    let m = &all["metrics"];
    assert_eq!(m["timeline_limit"], 10_000);
    assert_eq!(m["events_omitted"], 0);
    let events = all["events"].as_array().unwrap();
    assert_eq!(events.len(), 133);
    let notable: Vec<&Value> = events.iter().filter(|e| rank(e) >= 2).collect();
    assert_eq!(notable.len(), 14);

    let cut = json(&["--timeline-limit", "3"]);
    let listed = cut["events"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(cut["metrics"]["events_listed"], 3);
    assert_eq!(cut["metrics"]["events_omitted"], 14 - 3);
    assert_eq!(cut["metrics"]["timeline_limit"], 3);
    // The three most severe of the notable events, earliest first among
    // equals, listed in time order.
    let mut want: Vec<(usize, &Value)> = notable.iter().copied().enumerate().collect();
    want.sort_by_key(|(k, e)| (std::cmp::Reverse(rank(e)), *k));
    want.truncate(3);
    want.sort_by_key(|(k, _)| *k);
    let key = |e: &Value| (e["file"].clone(), e["line"].clone());
    assert_eq!(
        listed.iter().map(key).collect::<Vec<_>>(),
        want.iter().map(|(_, e)| key(e)).collect::<Vec<_>>()
    );
    // Incidents are not cut by the timeline's limit.
    assert_eq!(cut["incidents"], all["incidents"]);
}

#[test]
fn nodes_list_their_latest_lifetimes_within_the_limit() {
    let all = json(&[]);
    let cut = json(&["--timeline-limit", "2"]);
    let (a, c) = (
        all["nodes"].as_array().unwrap(),
        cut["nodes"].as_array().unwrap(),
    );
    assert_eq!(a.len(), c.len());
    let mut cut_any = false;
    for (a, c) in a.iter().zip(c) {
        let full = a["lifetimes"].as_array().unwrap();
        let kept = c["lifetimes"].as_array().unwrap();
        assert_eq!(a["lifetimes_omitted"], 0);
        assert_eq!(kept.len(), full.len().min(2), "{}", a["name"]);
        assert_eq!(
            c["lifetimes_omitted"].as_u64().unwrap() as usize,
            full.len() - kept.len()
        );
        assert_eq!(&full[full.len() - kept.len()..], &kept[..]);
        cut_any |= kept.len() < full.len();
    }
    assert!(cut_any, "a node of scenario 02 restarted more than twice");
    // Omitted lifetimes still count.
    assert_eq!(cut["metrics"]["lifetimes"], all["metrics"]["lifetimes"]);
    assert_eq!(all["metrics"]["lifetimes"], 5);
}

#[test]
fn text_says_how_many_events_the_limit_left_out() {
    let (code, out, err) = common::run(&["logs", "-q", DIR, "--timeline-limit", "4"]);
    assert_eq!(code, 0, "{err}");
    let timeline = out.split("\nTimeline").nth(1).unwrap();
    let rows = timeline
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  20"))
        .count();
    assert_eq!(rows, 4, "{timeline}");
    assert!(
        timeline.contains("… 10 more past --timeline-limit 4"),
        "{timeline}"
    );
    let (_, full, _) = common::run(&["logs", "-q", DIR]);
    assert!(!full.contains("--timeline-limit"), "{full}");
}

#[test]
fn all_events_lifts_the_limit() {
    let doc = json(&["--all-events", "--timeline-limit", "3"]);
    assert_eq!(doc["metrics"]["timeline_limit"], Value::Null);
    assert_eq!(doc["metrics"]["events_omitted"], 0);
    assert_eq!(doc["events"].as_array().unwrap().len(), 133);
}
