//! `fold`: per-entity state rebuilt from an event log by JSON merge patches, as a reference
//! applies them; `emit changes`; point-in-time replay on the orders fixture; limits.

use crate::common::{fixture, run};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// RFC 7386 §2, written from the RFC's pseudo-code: the reference `fold` is checked against.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else { return };
    for (k, v) in patch {
        if v.is_null() {
            t.remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

fn lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn the_orders_fixture_folds_to_each_orders_current_state() {
    let orders = fixture("orders.ndjson");
    let r = run(
        &["fold by order_id from data", orders.to_str().expect("a UTF-8 path")],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = lines(&r.stdout);
    let ids: Vec<&str> = rows.iter().map(|r| r["order_id"].as_str().expect("an id")).collect();
    assert_eq!(ids, ["A-1001", "A-1002", "A-1003"], "first-seen order");
    let a = &rows[0];
    assert_eq!(a["status"], "shipped");
    assert_eq!(
        a["address"],
        json!({"city":"Berlin","street":"Kastanienallee 5"}),
        "objects merge"
    );
    assert_eq!(a["_events"], 6);
    assert_eq!(a["_last"], "2026-11-02T08:00:00Z");
    assert!(rows[1].get("items").is_none(), "null deletes: {}", rows[1]);
    assert_eq!(
        rows[2]["items"],
        json!({"sku-9":{"qty":1,"price":5.0}}),
        "one item removed"
    );
}

#[test]
fn a_replay_up_to_a_time_gives_the_state_as_of_then() {
    let orders = fixture("orders.ndjson");
    let pipeline = r#"where time(ts) <= time("2026-11-01T12:00:00Z") | fold by order_id from data | keep order_id, status, _events"#;
    let r = run(&[pipeline, orders.to_str().expect("a UTF-8 path")], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        concat!(
            "{\"order_id\":\"A-1001\",\"status\":\"paid\",\"_events\":5}\n",
            "{\"order_id\":\"A-1002\",\"status\":\"created\",\"_events\":2}\n",
            "{\"order_id\":\"A-1003\",\"status\":\"created\",\"_events\":1}\n",
        )
    );
}

#[test]
fn emit_changes_streams_the_state_after_every_event() {
    let input = "{\"id\":1,\"n\":1}\n{\"id\":2,\"n\":5}\n{\"id\":1,\"m\":2}\n{\"id\":1,\"n\":null}\n";
    let r = run(&["fold by id emit changes"], input);
    assert_eq!(
        r.stdout,
        concat!(
            "{\"id\":1,\"n\":1,\"_events\":1,\"_last\":null}\n",
            "{\"id\":2,\"n\":5,\"_events\":1,\"_last\":null}\n",
            "{\"id\":1,\"n\":1,\"m\":2,\"_events\":2,\"_last\":null}\n",
            "{\"id\":1,\"m\":2,\"_events\":3,\"_last\":null}\n",
        )
    );
}

#[test]
fn keys_are_one_entity_by_value_and_a_state_that_is_not_an_object_is_kept() {
    let input = "{\"id\":1,\"v\":{\"a\":1}}\n{\"id\":1.0,\"v\":7}\n{\"id\":1E0,\"v\":{\"b\":2}}\n";
    let r = run(&["fold by id from v"], input);
    assert_eq!(r.stdout, "{\"id\":1,\"b\":2,\"_events\":3,\"_last\":null}\n");
    let r = run(&["fold by id from v"], "{\"id\":1,\"v\":7}\n");
    assert_eq!(r.stdout, "{\"id\":1,\"_state\":7,\"_events\":1,\"_last\":null}\n");
}

/// A key inside an object (`user.id`) says which entity the row is; the object's other
/// members stay in the row.
#[test]
fn a_key_inside_an_object_keeps_the_objects_other_members() {
    let input =
        "{\"user\":{\"id\":1,\"name\":\"a\"},\"v\":1}\n{\"user\":{\"id\":1,\"email\":\"e\"}}\n{\"user\":{\"id\":2}}\n";
    let r = run(&["fold by user.id"], input);
    assert_eq!(
        r.stdout,
        "{\"user\":{\"id\":1,\"name\":\"a\",\"email\":\"e\"},\"v\":1,\"_events\":2,\"_last\":null}\n\
         {\"user\":{\"id\":2},\"_events\":1,\"_last\":null}\n"
    );
    let r = run(&["fold by user.id emit changes"], input);
    assert_eq!(
        r.stdout.lines().nth(1),
        Some("{\"user\":{\"id\":1,\"name\":\"a\",\"email\":\"e\"},\"v\":1,\"_events\":2,\"_last\":null}")
    );
}

#[test]
fn more_entities_than_max_groups_stop_the_run_naming_the_stage() {
    let input: String = (0..10).map(|i| format!("{{\"id\":{i}}}\n")).collect();
    let r = run(&["--max-groups", "5", "fold by id"], &input);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("fold: more than 5 entities"), "{}", r.stderr);
}

#[test]
fn the_events_a_fold_consumes_are_counted_as_aggregated() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let stats = dir.path().join("stats.json");
    let input = "{\"id\":1}\nnot json\n{\"id\":2}\n\n";
    let arg = format!("--stats={}", stats.display());
    let r = run(&[&arg, "fold by id"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: Value = serde_json::from_slice(&std::fs::read(&stats).expect("a report")).expect("JSON");
    assert_eq!(report["lines_read"], 4);
    assert_eq!(report["fates"]["aggregated"], 2);
    assert_eq!(report["fates"]["blank"], 1);
    assert_eq!(report["fates"]["dead_letter"]["invalid_json"], 1);
}

/// A small event log: ids from a few entities, each event a patch of a few fields.
fn event_log() -> impl Strategy<Value = Vec<(u8, Value)>> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<i16>().prop_map(|n| json!(n)),
        "[a-c]{0,2}".prop_map(Value::from),
    ];
    let patch = leaf.prop_recursive(2, 8, 3, |inner| {
        prop::collection::btree_map("[a-d]", inner, 0..3).prop_map(|m| Value::Object(m.into_iter().collect()))
    });
    prop::collection::vec((0u8..3, patch), 0..25)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fold_equals_merge_patches_applied_in_order(log in event_log()) {
        let input: String = log
            .iter()
            .map(|(id, patch)| format!("{}\n", json!({"id": id, "p": patch})))
            .collect();
        let mut want: Vec<(u8, Value, u64)> = Vec::new();
        for (id, patch) in &log {
            let at = match want.iter().position(|(k, _, _)| k == id) {
                Some(i) => i,
                None => {
                    want.push((*id, json!({}), 0));
                    want.len() - 1
                }
            };
            merge_patch(&mut want[at].1, patch);
            want[at].2 += 1;
        }
        for jobs in ["1", "2"] {
            let r = run(&["-j", jobs, "--chunk-size", "64", "fold by id from p"], &input);
            prop_assert_eq!(r.code, 0, "{}", r.stderr);
            let got = lines(&r.stdout);
            prop_assert_eq!(got.len(), want.len());
            for (row, (id, state, events)) in got.iter().zip(&want) {
                let mut expected = Map::new();
                expected.insert("id".into(), json!(id));
                match state {
                    Value::Object(m) => expected.extend(m.clone()),
                    other => {
                        expected.insert("_state".into(), other.clone());
                    }
                }
                expected.insert("_events".into(), json!(events));
                expected.insert("_last".into(), Value::Null);
                prop_assert_eq!(row, &Value::Object(expected));
            }
        }
    }
}

#[test]
fn the_key_names_the_entity_even_when_its_state_has_a_field_so_named() {
    let input = "{\"id\":4,\"p\":{\"id\":5,\"v\":\"four\"}}\n{\"id\":5,\"p\":{\"v\":\"five\"}}\n";
    let r = run(&["fold by id from p"], input);
    assert_eq!(
        r.stdout,
        "{\"id\":4,\"v\":\"four\",\"_events\":1,\"_last\":null}\n{\"id\":5,\"v\":\"five\",\"_events\":1,\"_last\":null}\n"
    );
    let r = run(&["fold by id as v"], "{\"id\":4,\"v\":1}\n");
    assert_eq!(r.stdout, "{\"v\":4,\"id\":4,\"_events\":1,\"_last\":null}\n");
}

/// A `parse` before `fold` builds every field: `fold` takes the whole event as its patch. It
/// used to build only the key and the time, so every other parsed field was missing.
#[test]
fn a_fold_after_parse_holds_every_parsed_field() {
    let log = "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a HTTP/1.0\" 200 2326\n\
               10.0.0.2 - bob [10/Oct/2000:13:55:37 -0700] \"POST /b HTTP/1.1\" 200 7\n";
    let r = run(&["-i", "lines", "parse common | fold by status"], log);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = lines(&r.stdout);
    assert_eq!(rows.len(), 1, "{}", r.stdout);
    let row = &rows[0];
    assert_eq!(row["client"], "10.0.0.2");
    assert_eq!(row["user"], "bob");
    assert_eq!(row["method"], "POST");
    assert_eq!(row["path"], "/b");
    assert_eq!(row["bytes"], 7);
    assert_eq!(row["_events"], 2);
    assert!(row.get("ident").is_none(), "a null deletes: {row}");
}

#[test]
fn a_key_read_from_one_flat_dotted_field_is_not_repeated_from_the_state() {
    let input = "{\"event.code\":4624,\"x\":1}\n{\"event.code\":4624,\"y\":2}\n";
    let r = run(&["fold by event.code"], input);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            0,
            "{\"event\":{\"code\":4624},\"x\":1,\"y\":2,\"_events\":2,\"_last\":null}\n"
        ),
        "{}",
        r.stderr
    );
}
