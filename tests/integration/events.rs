//! One event's text: lone surrogates, duplicate keys, nesting limits, non-object
//! events and out-of-range index writes end in a dead letter or a defined result,
//! never a crash, and every line keeps exactly one counted fate.

use crate::common::{evq, run};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

/// What a run with `--stats` and `--dead-letter` files produced.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    stats: Value,
    dead: Vec<Value>,
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn run_with(args: &[&str], input: &[u8]) -> Outcome {
    let d = tempfile::tempdir().expect("a temporary directory");
    let (stats, dead) = (d.path().join("stats.json"), d.path().join("dead.ndjson"));
    let (stats_arg, dead_arg) = (format!("--stats={}", s(&stats)), format!("--dead-letter={}", s(&dead)));
    let mut all = vec![stats_arg.as_str(), dead_arg.as_str()];
    all.extend_from_slice(args);
    let out = evq().args(&all).write_stdin(input.to_vec()).output().expect("evq runs");
    let stats = std::fs::read_to_string(&stats).unwrap_or_default();
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stats: serde_json::from_str(&stats).unwrap_or(Value::Null),
        dead: std::fs::read_to_string(&dead)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
    }
}

/// Every number under `v`, summed.
fn sum(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().unwrap_or(0),
        Value::Object(m) => m.values().map(sum).sum(),
        _ => 0,
    }
}

/// Runs a pipeline that must succeed, checking that fates add up to lines read.
fn ok(pipeline: &str, input: &str) -> Outcome {
    let o = run_with(&[pipeline], input.as_bytes());
    assert_eq!(o.code, Some(0), "`{pipeline}`: {}", o.stderr);
    assert_eq!(
        sum(&o.stats["fates"]),
        o.stats["lines_read"].as_u64().unwrap_or(u64::MAX),
        "`{pipeline}`"
    );
    o
}

fn reasons(o: &Outcome) -> Vec<&str> {
    o.dead.iter().filter_map(|d| d["reason"].as_str()).collect()
}

fn out(pipeline: &str, input: &str) -> String {
    let r = run(&[pipeline], input);
    assert_eq!(r.code, 0, "`{pipeline}` failed: {}", r.stderr);
    r.stdout
}

// ---------------------------------------------------------------- lone surrogates

const SURROGATES: &str = concat!(
    "{\"s\":\"ok\",\"a\":1}\n",
    "{\"s\":\"\\ud800\",\"a\":1}\n",
    "{\"s\":\"x\",\"\\udc00\":1}\n",
    "{\"s\":\"x\",\"n\":{\"t\":[\"\\udbff\"]}}\n",
    "{\"s\":\"\\ud83d\\ude00\",\"a\":1}\n",
);

#[test]
fn lone_surrogates_are_invalid_unicode_dead_letters_whatever_the_pipeline_reads() {
    for pipeline in [
        "where s == \"x\"",
        "where a == 1",
        "where . != null",
        "set b = 1",
        "set u.b = s",
        "keep s",
        "del s",
        "rename s as t",
        "route by s",
        "head 10 | set b = s",
        "sort s",
        "count by s",
        "tail 5 | where s != null",
    ] {
        for jobs in ["1", "2"] {
            let o = run_with(&[pipeline, "-j", jobs], SURROGATES.as_bytes());
            assert_eq!(o.code, Some(0), "`{pipeline}`: {}", o.stderr);
            assert!(!o.stderr.contains("panicked"), "`{pipeline}`: {}", o.stderr);
            assert_eq!(reasons(&o), ["invalid_unicode"; 3], "`{pipeline}`");
            let lines: Vec<u64> = o.dead.iter().filter_map(|d| d["line"].as_u64()).collect();
            assert_eq!(lines, [2, 3, 4], "`{pipeline}`");
            assert_eq!(o.stats["fates"]["dead_letter"]["invalid_unicode"], 3, "`{pipeline}`");
            assert_eq!(sum(&o.stats["fates"]), 5, "`{pipeline}`: fates add up");
        }
    }
}

#[test]
fn lone_surrogate_messages_do_not_depend_on_the_fields_read() {
    let line = "{\"a\":1,\"s\":\"\\ud800\"}\n";
    let errors: Vec<Value> = ["where true", "where s == 1", "where . != null"]
        .iter()
        .map(|p| run_with(&[p], line.as_bytes()).dead[0]["error"].clone())
        .collect();
    assert_eq!(errors[0], errors[1]);
    assert_eq!(errors[0], errors[2]);
    assert!(
        errors[0].as_str().is_some_and(|e| e.contains("column 13")),
        "{}",
        errors[0]
    );
}

#[test]
fn surrogate_pairs_are_read_and_unmodified_events_keep_their_bytes() {
    let line = "{\"s\":\"\\ud83d\\ude00\"}\n";
    assert_eq!(out("where s == \"😀\"", line), line);
    assert_eq!(out("set t = s | keep t", line), "{\"t\":\"😀\"}\n");
}

#[test]
fn route_by_a_lone_surrogate_field_writes_whole_topic_files() {
    let d = tempfile::tempdir().expect("a temporary directory");
    let o = run_with(&["route by s", "-O", s(d.path())], SURROGATES.as_bytes());
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert_eq!(reasons(&o), ["invalid_unicode"; 3]);
    let ok = std::fs::read_to_string(d.path().join("ok.ndjson")).unwrap_or_default();
    assert_eq!(ok, "{\"s\":\"ok\",\"a\":1}\n");
    let emoji = std::fs::read_to_string(d.path().join("%F0%9F%98%80.ndjson")).unwrap_or_default();
    assert_eq!(emoji, "{\"s\":\"\\ud83d\\ude00\",\"a\":1}\n");
}

// ---------------------------------------------------------------- duplicate keys

#[test]
fn a_modified_event_keeps_only_the_last_of_repeated_keys() {
    assert_eq!(out("set b = 1", "{\"a\":1,\"a\":2}\n"), "{\"a\":2,\"b\":1}\n");
    assert_eq!(out("set a = 5", "{\"a\":1,\"a\":2}\n"), "{\"a\":5}\n");
    assert_eq!(
        out("set a = a + 1", "{\"a\":1,\"b\":0,\"a\":2}\n"),
        "{\"a\":3,\"b\":0}\n"
    );
    assert_eq!(
        out("set b = 1", "{\"u\":{\"k\":1,\"k\":2}}\n"),
        "{\"u\":{\"k\":2},\"b\":1}\n"
    );
    assert_eq!(out("keep u", "{\"u\":{\"k\":1,\"k\":2}}\n"), "{\"u\":{\"k\":2}}\n");
    assert_eq!(
        out("keep a", "{\"a\":{\"\\u006b\":1,\"k\":2}}\n"),
        "{\"a\":{\"k\":2}}\n"
    );
    assert_eq!(out("del x", "{\"a\":1,\"x\":0,\"a\":2}\n"), "{\"a\":2}\n");
    assert_eq!(
        out("rename x as y", "{\"a\":1,\"x\":0,\"a\":2}\n"),
        "{\"a\":2,\"y\":0}\n"
    );
}

#[test]
fn reads_of_repeated_keys_see_the_last_value() {
    let line = "{\"a\":1,\"a\":2}\n";
    assert_eq!(out("where a == 2", line), line);
    assert_eq!(out("where a == 1", line), "");
    assert_eq!(out("head 1 | where a == 2", line), line);
}

// ---------------------------------------------------------------- events that are not objects

#[test]
fn set_and_keep_on_an_event_that_is_not_an_object_are_dead_letters() {
    let input = "[1,2]\n5\n\"s\"\nnull\n{\"a\":0}\n";
    for pipeline in ["set b = 1", "set b.c = 1", "keep a", "head 9 | set b = 1"] {
        let o = ok(pipeline, input);
        assert_eq!(reasons(&o), ["not_object"; 4], "`{pipeline}`");
        assert_eq!(o.stats["fates"]["dead_letter"]["not_object"], 4, "`{pipeline}`");
        assert_eq!(o.stdout.lines().count(), 1, "`{pipeline}`: {}", o.stdout);
    }
}

#[test]
fn del_and_rename_pass_events_that_are_not_objects_unchanged() {
    let input = "[1,2]\n5\n";
    assert_eq!(out("del a", input), input);
    assert_eq!(out("rename a as b", input), input);
}

// ---------------------------------------------------------------- index writes

#[test]
fn index_writes_far_past_the_end_or_before_the_start_or_keys_into_arrays_are_dead_letters() {
    let input = "{\"a\":[0]}\n";
    for pipeline in [
        "set a[1000000000] = 1",
        "set a[-1000000000] = 1",
        "set a[-2] = 1",
        "set b[-1] = 1",
        "set a[9223372036854775807] = 1",
        "rename a as b[5000]",
        // A key into an array would throw its elements away.
        "set a.x = 1",
        "set b = 1, a.x = 2",
    ] {
        let o = ok(pipeline, input);
        assert_eq!(reasons(&o), ["invalid_path"], "`{pipeline}`: {}", o.stderr);
        assert_eq!(o.stdout, "", "`{pipeline}`");
    }
}

#[test]
fn index_writes_pad_with_at_most_1000_nulls() {
    let o = ok("set a[1001] = 1 | set n = len(a)", "{\"a\":[0]}\n");
    assert!(o.stdout.ends_with(",null,1],\"n\":1002}\n"), "{}", o.stdout);
    assert_eq!(out("set a[-1] = 9", "{\"a\":[0,1]}\n"), "{\"a\":[0,9]}\n");
    assert_eq!(out("rename a as b[1]", "{\"a\":7}\n"), "{\"b\":[null,7]}\n");
}

// ---------------------------------------------------------------- escapes

#[test]
fn every_modification_writes_strings_with_minimal_escapes() {
    let line = "{\"s\":\"\\u00e9\\/\\u0041\\n\",\"t\":1}\n";
    let s = "\"s\":\"é/A\\n\"";
    assert_eq!(out("keep s", line), format!("{{{s}}}\n"));
    assert_eq!(out("keep s, t", line), format!("{{{s},\"t\":1}}\n"));
    assert_eq!(out("set u = 2", line), format!("{{{s},\"t\":1,\"u\":2}}\n"));
    assert_eq!(out("set t = 2", line), format!("{{{s},\"t\":2}}\n"));
    assert_eq!(out("set u.v = 2", line), format!("{{{s},\"t\":1,\"u\":{{\"v\":2}}}}\n"));
    assert_eq!(out("del t", line), format!("{{{s}}}\n"));
    assert_eq!(out("rename t as u", line), format!("{{{s},\"u\":1}}\n"));
    assert_eq!(out("where true", line), line, "unmodified: its bytes");
}

// ---------------------------------------------------------------- nesting

fn nested(n: usize) -> String {
    format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n))
}

#[test]
fn nesting_of_128_levels_passes_and_129_is_too_deep() {
    let input = format!("{}\n{}\n", nested(128), nested(129));
    for pipeline in [
        "where true",
        "where a != null",
        "where . != null",
        "set b = 1",
        "set b.c = 1",
        "keep a",
        "del z",
        "sort a",
        "tail 5",
        "head 5 | where a != null",
    ] {
        let o = ok(pipeline, &input);
        assert_eq!(reasons(&o), ["too_deep"], "`{pipeline}`");
        assert_eq!(o.dead[0]["line"], 2, "`{pipeline}`");
        assert_eq!(o.stdout.lines().count(), 1, "`{pipeline}`");
    }
}

#[test]
fn events_of_128_levels_reach_every_output_format_and_aggregate_row() {
    let line = nested(128) + "\n";
    for format in ["ndjson", "csv", "tsv", "table", "json", "pretty", "logfmt"] {
        let r = run(&["-o", format, "where true"], &line);
        assert_eq!(r.code, 0, "-o {format}: {}", r.stderr);
        assert!(!r.stdout.is_empty() && r.stderr.is_empty(), "-o {format}: {}", r.stderr);
    }
    // A row that holds a whole event nests one level deeper than any event.
    for pipeline in [
        "stats first(.) as f | tail 1 | where f != null",
        "stats values(.) as v | sort v | keep v",
    ] {
        let o = ok(pipeline, &line);
        assert_eq!(o.stdout.lines().count(), 1, "`{pipeline}`: {}", o.stderr);
        assert!(o.stdout.starts_with("{\""), "`{pipeline}`");
    }
}

#[test]
fn a_change_that_would_nest_past_128_is_too_deep() {
    let input = format!("{}\n{{\"a\":1}}\n", nested(128));
    for pipeline in ["set x = .", "rename a as x.y"] {
        let o = ok(pipeline, &input);
        assert_eq!(reasons(&o), ["too_deep"], "`{pipeline}`");
        assert_eq!(o.dead[0]["line"], 1, "`{pipeline}`");
    }
    let long = vec!["k"; 129].join(".");
    let o = ok(&format!("set {long} = 1"), "{}\n");
    assert_eq!(reasons(&o), ["too_deep"]);
    let o = ok(&format!("set {} = 1", vec!["k"; 128].join(".")), "{}\n");
    assert_eq!(reasons(&o), Vec::<&str>::new());
}

// ---------------------------------------------------------------- fuzz

/// True when `line` is JSON text, at any depth (an event may nest 128 levels, past
/// `serde_json`'s default limit).
fn is_json(line: &str) -> bool {
    let mut de = serde_json::Deserializer::from_str(line);
    de.disable_recursion_limit();
    serde::de::IgnoredAny::deserialize(&mut de).is_ok() && de.end().is_ok()
}

/// A line from pieces that stress event handling.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{\"s\":\"\\ud800\"}".to_string()),
        Just("{\"\\udc00\":1}".to_string()),
        Just("{\"s\":\"\\ud83d\\ude00\",\"a\":[1,2]}".to_string()),
        Just("{\"a\":1,\"a\":2,\"s\":\"x\"}".to_string()),
        Just("{\"a\":{\"k\":1,\"k\":[3]},\"s\":\"\\u00e9\"}".to_string()),
        Just("[1,2]".to_string()),
        Just("5".to_string()),
        Just("\"s\"".to_string()),
        Just("null".to_string()),
        Just("{ \"a\" : [ 1E5 , -0.0 ] , \"s\" : \"\\\"\" }".to_string()),
        (120usize..135).prop_map(nested),
        (120usize..135).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n))),
        "[ -~]{0,24}",
        prop::collection::vec(any::<u8>(), 0..24).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

fn pipelines() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "set b = 1",
        "set a[1000000000] = 1",
        "set a[-1000000000] = 1",
        "set a[2] = s",
        "set x = .",
        "keep s, a",
        "keep a.k",
        "keep a[-1]",
        "del a, s",
        "rename a as b, s as t.u",
        "route by s",
        "where a == 2 or s == \"x\"",
        "set b = 1 | head 3 | where s != null | keep b, s",
        "sort s | set n = 1",
        "count by s",
    ])
}

proptest! {
    #![proptest_config(Config { cases: 48, failure_persistence: None, ..Config::default() })]

    #[test]
    fn no_line_crashes_a_stage_and_fates_add_up(
        lines in prop::collection::vec(piece(), 1..8),
        pipeline in pipelines(),
        jobs in prop::sample::select(vec!["1", "2"]),
    ) {
        let input = lines.join("\n") + "\n";
        let o = run_with(&[pipeline, "-j", jobs], input.as_bytes());
        prop_assert_eq!(o.code, Some(0), "`{}`: {}", pipeline, o.stderr);
        prop_assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
        let read = o.stats["lines_read"].as_u64();
        prop_assert_eq!(Some(sum(&o.stats["fates"])), read, "`{}`: {}", pipeline, o.stats);
        for line in o.stdout.lines() {
            prop_assert!(is_json(line), "{}", line);
        }
    }
}
