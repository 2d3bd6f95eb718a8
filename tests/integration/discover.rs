//! Tests of the discovery and reshaping stages: summary, shapes, flatten, unflatten,
//! head/tail by, fill-down and step, run as a user would, with `--stats` adding up.

use crate::common::run;
use serde_json::Value;

/// stdout of `evq ARGS` on `input`, which must succeed; checks that `--stats` fates add up
/// to the lines read.
fn out(args: &[&str], input: &str) -> String {
    let mut all = vec!["--stats"];
    all.extend_from_slice(args);
    let r = run(&all, input);
    assert_eq!(r.code, 0, "{args:?} failed: {}", r.stderr);
    // Dead-letter notes come before the report.
    let at = r.stderr.find("{\n").unwrap_or(0);
    let report: Value = serde_json::from_str(&r.stderr[at..]).unwrap_or_else(|e| panic!("{e}: {}", r.stderr));
    assert_eq!(
        fates_sum(&report),
        report["lines_read"].as_u64().expect("lines_read"),
        "fates do not add up for {args:?}: {report}"
    );
    r.stdout
}

/// The fates in a `--stats` report, added up.
fn fates_sum(report: &Value) -> u64 {
    let fates = report["fates"].as_object().expect("fates");
    let dead: u64 = fates["dead_letter"]
        .as_object()
        .expect("by reason")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    fates.values().filter_map(Value::as_u64).sum::<u64>() + dead
}

/// The output lines as JSON values.
fn rows(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

// ---------------------------------------------------------------- summary

#[test]
fn summary_describes_every_field_path_of_an_unknown_input() {
    let input = concat!(
        r#"{"ts":"2026-11-01T00:00:00Z","level":"info","user":{"id":7},"tags":["a"]}"#,
        "\n",
        r#"{"ts":"2026-11-01T00:00:01Z","level":"error","user":{"id":9,"name":"x"}}"#,
        "\n",
        "not json\n",
        r#"{"level":null,"user":{"id":"guest"}}"#,
        "\n",
    );
    let got = rows(&out(&["summary"], input));
    let fields: Vec<&str> = got.iter().filter_map(|r| r["field"].as_str()).collect();
    assert_eq!(
        fields,
        ["level", "tags", "tags[]", "ts", "user", "user.id", "user.name"]
    );
    let level = &got[0];
    assert_eq!(level["count"], 3);
    assert_eq!(level["nulls"], 1);
    assert_eq!(level["types"], serde_json::json!({"null":1,"string":2}));
    assert_eq!(level["min"], "error");
    assert_eq!(level["max"], "info");
    assert_eq!(level["samples"], serde_json::json!(["info", "error"]));
    let id = &got[5];
    assert_eq!(id["min"], 7);
    assert_eq!(id["max"], "guest");
    assert_eq!(id["distinct"], 3);
}

#[test]
fn summary_of_nothing_is_nothing() {
    assert_eq!(out(&["summary"], ""), "");
}

#[test]
fn summary_past_max_groups_fails_naming_the_stage() {
    let r = run(&["--max-groups", "1", "summary"], "{\"a\":1,\"b\":2}\n");
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("summary: more than 1 field paths"), "{}", r.stderr);
}

// ---------------------------------------------------------------- shapes

#[test]
fn shapes_counts_key_sets_most_common_first() {
    let input = "{\"a\":1,\"b\":2}\n{\"c\":1}\n{\"b\":1,\"a\":0}\nbad\n[1]\n\n{\"a\":5,\"b\":{}}\n";
    assert_eq!(
        out(&["shapes"], input),
        "{\"keys\":[\"a\",\"b\"],\"count\":3}\n{\"keys\":[\"c\"],\"count\":1}\n{\"keys\":null,\"count\":1}\n"
    );
}

#[test]
fn shapes_sees_the_fields_earlier_stages_changed() {
    let input = "{\"a\":1}\n{\"a\":2,\"b\":1}\n";
    assert_eq!(
        out(&["set b = 0 | del a | shapes"], input),
        "{\"keys\":[\"b\"],\"count\":2}\n"
    );
    assert_eq!(
        out(&["-i", "lines", "shapes"], "x\ny\n"),
        "{\"keys\":[\"line\"],\"count\":2}\n"
    );
}

// ---------------------------------------------------------------- flatten, unflatten

#[test]
fn flatten_makes_dotted_keys_and_unflatten_restores_the_event() {
    let input = "{\"id\":1,\"user\":{\"name\":\"a\",\"roles\":[\"x\",\"y\"]},\"meta\":{}}\n[1,2]\n";
    let flat = out(&["flatten"], input);
    assert_eq!(
        flat,
        "{\"id\":1,\"user.name\":\"a\",\"user.roles.0\":\"x\",\"user.roles.1\":\"y\",\"meta\":\"{}\"}\n[1,2]\n"
    );
    assert_eq!(out(&["-j", "2", "unflatten"], &flat), input);
    assert_eq!(out(&["flatten \"_\" | unflatten \"_\""], input), input);
}

#[test]
fn flatten_after_an_ordered_stage_and_into_csv() {
    let input = "{\"a\":{\"b\":1}}\n{\"a\":{\"b\":2,\"c\":true}}\n{\"a\":{\"b\":3}}\n";
    assert_eq!(
        out(&["tail 2 | flatten \":\""], input),
        "{\"a:b\":2,\"a:c\":true}\n{\"a:b\":3}\n"
    );
    assert_eq!(out(&["-o", "csv", "head 1 | flatten"], input), "a.b\n1\n");
}

#[test]
fn fields_flatten_or_unflatten_writes_over_are_counted_in_a_warning() {
    let input = "{\"a\":{\"b\":1},\"a.b\":2}\n{\"x\":{\"y\":1}}\n{\"a.b\":3,\"a\":{\"b\":4}}\n";
    for j in ["1", "2"] {
        let r = run(&["-j", j, "flatten"], input);
        assert_eq!(r.stdout, "{\"a.b\":2}\n{\"x.y\":1}\n{\"a.b\":4}\n");
        assert!(
            r.stderr
                .contains("flatten: 2 events had a nested field and a key holding \".\""),
            "{}",
            r.stderr
        );
        let r = run(&["-j", j, "unflatten"], input);
        assert_eq!(r.stdout, "{\"a\":{\"b\":2}}\n{\"x\":{\"y\":1}}\n{\"a\":{\"b\":4}}\n");
        assert!(r.stderr.contains("unflatten: 2 events had"), "{}", r.stderr);
    }
    // Fields that meet without one writing over the other: no warning.
    let r = run(&["flatten | unflatten"], "{\"a\":{\"b\":1},\"a.c\":2}\n");
    assert_eq!(r.stdout, "{\"a\":{\"b\":1,\"c\":2}}\n");
    assert_eq!(r.stderr, "");
}

// ---------------------------------------------------------------- head by, tail by

/// `{"k":…,"i":…}` for i in 1..=n, with k cycling through `keys`.
fn keyed(n: usize, keys: &[&str]) -> String {
    (1..=n)
        .map(|i| format!("{{\"k\":\"{}\",\"i\":{i}}}\n", keys[(i - 1) % keys.len()]))
        .collect()
}

#[test]
fn head_by_streams_the_first_n_of_each_group() {
    let input = keyed(9, &["a", "b", "c"]);
    assert_eq!(
        out(&["-j", "2", "head 2 by k | keep i"], &input),
        "{\"i\":1}\n{\"i\":2}\n{\"i\":3}\n{\"i\":4}\n{\"i\":5}\n{\"i\":6}\n"
    );
    // A group seen late still gets its events: reading does not stop early.
    let input = format!("{}{{\"k\":\"z\",\"i\":99}}\n", keyed(50, &["a"]));
    assert_eq!(out(&["head 1 by k | keep i"], &input), "{\"i\":1}\n{\"i\":99}\n");
}

#[test]
fn tail_by_gives_the_last_n_of_each_group_group_by_group() {
    let input = keyed(7, &["a", "b"]);
    assert_eq!(
        out(&["tail 2 by k | keep i"], &input),
        "{\"i\":5}\n{\"i\":7}\n{\"i\":4}\n{\"i\":6}\n"
    );
}

#[test]
fn head_and_tail_by_past_max_groups_fail_naming_the_stage() {
    for stage in ["head", "tail"] {
        let r = run(
            &["--max-groups", "2", &format!("{stage} 1 by k")],
            &keyed(5, &["a", "b", "c"]),
        );
        assert_eq!(r.code, 3, "{stage}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("{stage}: more than 2 groups")),
            "{}",
            r.stderr
        );
    }
}

// ---------------------------------------------------------------- fill-down

#[test]
fn fill_down_fills_missing_and_null_fields_in_input_order() {
    let mut input = String::new();
    for i in 0..300 {
        let line = match i % 3 {
            0 => format!("{{\"i\":{i},\"host\":\"h{i}\"}}\n"),
            1 => format!("{{\"i\":{i},\"host\":null}}\n"),
            _ => format!("{{\"i\":{i}}}\n"),
        };
        input.push_str(&line);
    }
    let got = out(
        &[
            "-j",
            "2",
            "--chunk-size",
            "64",
            "fill-down host | stats count(host == \"h\" + str(i - i % 3)) as ok, count() as all",
        ],
        &input,
    );
    assert_eq!(got, "{\"ok\":300,\"all\":300}\n");
}

#[test]
fn fill_down_counts_what_it_cannot_fill_as_dead_letters() {
    let r = run(&["--stats", "fill-down a[-3]"], "{\"a\":[1,2,3]}\n{\"a\":[1]}\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"a\":[1,2,3]}\n");
    assert!(r.stderr.contains("1 dead letter (1 invalid_path)"), "{}", r.stderr);
}

// ---------------------------------------------------------------- step

#[test]
fn step_runs_per_group_in_input_order_whatever_the_threads() {
    let input: String = (1..=200)
        .map(|i| format!("{{\"host\":\"h{}\",\"bytes\":{}}}\n", i % 3, i * 10))
        .collect();
    let pipeline = "step delta(bytes), sum(bytes), count() by host | where host == \"h1\" | tail 2";
    let one = out(&["-j", "1", pipeline], &input);
    assert_eq!(one, out(&["-j", "2", "--chunk-size", "100", pipeline], &input));
    assert_eq!(
        one,
        "{\"host\":\"h1\",\"bytes\":1960,\"bytes_delta\":30,\"bytes_sum\":65010,\"count\":66}\n\
         {\"host\":\"h1\",\"bytes\":1990,\"bytes_delta\":30,\"bytes_sum\":67000,\"count\":67}\n"
    );
}

#[test]
fn step_needs_objects_and_reports_bad_functions() {
    let r = run(&["--stats", "step count()"], "{\"a\":1}\n[1]\n");
    assert_eq!(r.stdout, "{\"a\":1,\"count\":1}\n");
    assert!(r.stderr.contains("1 not_object"), "{}", r.stderr);
    let r = run(&["step avg(x)"], "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("`avg` is not a step function"), "{}", r.stderr);
}

// ---------------------------------------------------------------- every stage, any input

/// Mixed lines: objects of several shapes, nesting, nulls, non-objects, bad JSON, blanks.
fn mixed(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let line = match i % 9 {
            0 => format!("{{\"a\":{i},\"b\":{{\"c\":\"x{}\"}},\"d\":\"g{}\"}}", i % 4, i % 3),
            1 => format!("{{\"a\":null,\"ts\":{},\"tags\":[1,{{\"e\":{i}}}]}}", 1_700_000_000 + i),
            2 => "[1,2,{\"a\":3}]".to_string(),
            3 => "not json".to_string(),
            4 => String::new(),
            5 => format!("{{\"d\":\"g{}\",\"a\":{}.5,\"b\":{{}}}}", i % 2, i),
            6 => "\"text\"".to_string(),
            7 => format!("{{\"a.b\":{i},\"a\":\"s{i}\",\"c\":[]}}"),
            _ => format!(
                "{{\"b\":{{\"c\":null}},\"a\":{}}}",
                18_446_744_073_709_551_615u64 - i as u64
            ),
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

#[test]
fn the_new_stages_give_the_same_output_on_any_thread_count_and_account_for_every_line() {
    let input = mixed(400);
    for pipeline in [
        "summary",
        "shapes",
        "flatten",
        "flatten | unflatten",
        "unflatten",
        "head 3 by d",
        "tail 2 by d, b.c",
        "fill-down a, b.c",
        "step delta(a), shift(b), rate(a), sum(a), count(), count(tags), ewma(a, 0.2) by d",
        "flatten | fill-down `b.c` | head 2 by d | summary",
        "step count() | tail 3 | shapes",
    ] {
        let one = out(&["-j", "1", pipeline], &input);
        let two = out(&["-j", "2", "--chunk-size", "97", pipeline], &input);
        assert_eq!(one, two, "{pipeline}");
        assert!(!one.is_empty(), "{pipeline}");
    }
}

#[test]
fn the_new_stages_are_listed_in_help_and_suggested_when_misspelt() {
    let r = run(&["--help", "stages"], "");
    for stage in [
        "summary",
        "shapes",
        "flatten [SEP]",
        "unflatten",
        "fill-down PATH",
        "step FN",
        "head N [by KEYS]",
    ] {
        assert!(r.stdout.contains(stage), "{stage}: {}", r.stdout);
    }
    for (typo, hint) in [
        ("sumary", "did you mean `summary`?"),
        ("shape", "did you mean `shapes`?"),
        ("filldown a", "did you mean `fill-down`?"),
        ("summarize", "write summary"),
        ("unflaten", "did you mean `unflatten`?"),
    ] {
        let r = run(&[typo], "");
        assert_eq!(r.code, 2, "{typo}");
        assert!(r.stderr.contains(hint), "{typo}: {}", r.stderr);
    }
}

#[test]
fn explain_says_where_the_new_stages_run_and_what_they_count() {
    let r = run(&["--explain", "flatten | head 2 by a | summary"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("flatten  parallel  reads ."), "{}", r.stdout);
    assert!(r.stdout.contains("head     ordered   reads a"), "{}", r.stdout);
    assert!(
        r.stdout.contains("summary  ordered   reads .; every event: aggregated"),
        "{}",
        r.stdout
    );
}

/// Every field summary names can be pasted into a pipeline, even keys with a backtick,
/// a space or a dot.
#[test]
fn summary_names_fields_a_pipeline_can_read_back() {
    let event = "{\"`x\":1,\"a\":{\"b`c\":[2],\"d e\":3,\"f.g\":4}}\n";
    let r = run(&["summary"], event);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for line in r.stdout.lines() {
        let row: serde_json::Value = serde_json::from_str(line).expect("a row");
        let field = row["field"].as_str().expect("a field name");
        if field.ends_with("[]") {
            continue;
        }
        let back = run(&[&format!("set v = {field} | keep v")], event);
        assert_eq!(back.code, 0, "{field}: {}", back.stderr);
        assert!(
            !back.stdout.contains("null"),
            "{field} reads nothing back: {}",
            back.stdout
        );
    }
}
