//! How a merge of log analyses made apart is checked against one analysis
//! of the whole (`tests/merge_logs.rs`, `tests/spark.rs`).

use serde_json::Value;

fn span(i: &Value) -> (String, String) {
    let a = i["start"]
        .as_str()
        .or(i["end"].as_str())
        .unwrap()
        .to_string();
    let b = i["end"]
        .as_str()
        .or(i["start"].as_str())
        .unwrap()
        .to_string();
    (a, b)
}

/// The merge agrees with the whole analysis wherever it can, and lists
/// what it cannot join; returns the kinds of the merge's exact incidents
/// and of its unjoined chains, for the hand-checked expectations.
pub fn compare(whole: &Value, merged: &Value) -> (Vec<String>, Vec<Vec<String>>) {
    for k in [
        "files",
        "lines",
        "nodes",
        "events",
        "unparsed_samples",
        "errors",
    ] {
        assert_eq!(whole[k], merged[k], "`{k}` differs");
    }
    let (wm, mm) = (
        whole["metrics"].as_object().unwrap(),
        merged["metrics"].as_object().unwrap(),
    );
    // How many windows each analysis took is how it ran, not what it found:
    // a merge sums its inputs'.
    for (k, v) in wm {
        if k != "incidents" && k != "windows" {
            assert_eq!(Some(v), mm.get(k), "metrics.{k} differs");
        }
    }
    // Ids and cause links are numbered per analysis: a merge keeps each
    // input's, which need not match the whole analysis's numbering.
    let unlinked = |v: &Value| -> Vec<Value> {
        let mut out = v.as_array().unwrap().clone();
        for i in &mut out {
            if let Some(o) = i.as_object_mut() {
                for k in ["id", "caused_by", "led_to"] {
                    o.remove(k);
                }
            }
        }
        out
    };
    let (wi, mi) = (
        unlinked(&whole["incidents"]),
        unlinked(&merged["incidents"]),
    );
    let (wi, mi) = (&wi, &mi);
    let unjoined = merged["unjoined"].as_array().unwrap();
    for i in mi {
        assert!(
            wi.contains(i),
            "merged incident not in the whole analysis: {i:#}"
        );
    }
    for i in wi {
        if mi.contains(i) {
            continue;
        }
        let (a, b) = span(i);
        let nodes: Vec<&Value> = i["nodes"].as_array().unwrap().iter().collect();
        let covered = unjoined.iter().any(|u| {
            let (ua, ub) = span(u);
            let kinds = u["kinds"].as_array().unwrap();
            let unodes = u["nodes"].as_array().unwrap();
            ua <= b
                && a <= ub
                && (kinds.contains(&i["kind"]) || nodes.iter().any(|n| unodes.contains(n)))
        });
        assert!(
            covered,
            "incident of the whole neither merged nor listed as unjoined: {i:#}"
        );
    }
    let exact = mi
        .iter()
        .map(|i| i["kind"].as_str().unwrap().to_string())
        .collect();
    let kinds = unjoined
        .iter()
        .map(|u| {
            u["kinds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    (exact, kinds)
}
