//! The ordered pattern stages run as the binary: `dedupe` (idempotent receiver), `throttle` and
//! `reorder` (resequencer): what they output, the fates they count, their failures, and that
//! their results do not depend on the thread count.

use crate::common::{evq, run};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;

/// The `--stats` report printed at the end of stderr.
fn stats_of(stderr: &str) -> Value {
    let at = stderr.find("{\n").expect("a --stats report on stderr");
    serde_json::from_str(&stderr[at..]).expect("the report is JSON")
}

/// The sum of every fate in a `fates` object, dead letters by reason included.
fn fates_total(fates: &Value) -> u64 {
    let obj = fates.as_object().expect("fates by name");
    obj.values()
        .map(|v| match v {
            Value::Object(dead) => dead.values().map(|n| n.as_u64().expect("a count")).sum(),
            n => n.as_u64().expect("a count"),
        })
        .sum()
}

/// A field of each output line.
fn field(stdout: &str, name: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON output")[name].clone())
        .collect()
}

/// The dead-letter records a run wrote to `--dead-letter`.
fn dead_letters(args: &[&str], stdin: &str) -> (crate::common::Run, Vec<Value>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dl = dir.path().join("dead.ndjson");
    let mut all = vec!["--dead-letter", dl.to_str().expect("a UTF-8 path")];
    all.extend_from_slice(args);
    let r = run(&all, stdin);
    let text = std::fs::read_to_string(&dl).unwrap_or_default();
    let records = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON record"))
        .collect();
    (r, records)
}

#[test]
fn dedupe_keeps_the_first_event_of_each_id_by_value() {
    let input = "{\"id\":1,\"n\":1}\n{\"id\":2,\"n\":2}\n{\"id\":1.0,\"n\":3}\n{\"id\":\"1\",\"n\":4}\n\
                 {\"n\":5}\n{\"n\":6}\n{\"id\":10e-1,\"n\":7}\n";
    let r = run(&["dedupe"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(field(&r.stdout, "n"), [1, 2, 4, 5, 6].map(Value::from));
}

#[test]
fn dedupe_by_two_keys_drops_only_events_that_repeat_both() {
    let input = "{\"a\":1,\"b\":\"x\",\"n\":1}\n{\"a\":1,\"b\":\"y\",\"n\":2}\n{\"a\":2,\"b\":\"x\",\"n\":3}\n\
                 {\"b\":\"x\",\"a\":1,\"n\":4}\n{\"a\":1,\"n\":5}\n{\"a\":1,\"n\":6}\n";
    let r = run(&["dedupe by a, b"], input);
    assert_eq!(field(&r.stdout, "n"), [1, 2, 3, 5, 6].map(Value::from));
}

#[test]
fn dedupe_within_forgets_a_key_once_the_window_has_passed() {
    let input = [
        r#"{"id":"a","ts":"2026-01-01T00:00:00Z","n":1}"#,
        r#"{"id":"a","ts":"2026-01-01T00:00:30Z","n":2}"#,
        r#"{"id":"b","ts":"2026-01-01T00:00:59Z","n":3}"#,
        r#"{"id":"a","ts":"2026-01-01T00:01:00Z","n":4}"#,
        r#"{"id":"a","ts":"2026-01-01T00:01:59Z","n":5}"#,
        r#"{"id":"b","ts":"2026-01-01T00:02:00Z","n":6}"#,
        r#"{"id":"a","n":7}"#,
    ]
    .join("\n");
    let (r, dead) = dead_letters(&["--stats", "dedupe within 1m"], &input);
    assert_eq!(field(&r.stdout, "n"), [1, 3, 4, 6].map(Value::from));
    let stats = stats_of(&r.stderr);
    assert_eq!(stats["fates"]["duplicate"], 2, "{stats}");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["reason"], "no_time");
    assert_eq!(dead[0]["line"], 7);
}

#[test]
fn dedupe_past_max_groups_fails_with_exit_3_naming_the_stage() {
    let input: String = (0..10).map(|i| format!("{{\"id\":{i}}}\n")).collect();
    let r = run(&["--max-groups", "5", "dedupe"], &input);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "evq: dedupe: more than 5 keys; raise the limit with --max-groups N or bound the window with 'within DUR'"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout.lines().count(), 5);
    let ok = run(&["--max-groups", "10", "dedupe"], &input);
    assert_eq!((ok.code, ok.stdout.lines().count()), (0, 10), "{}", ok.stderr);
}

#[test]
fn dedupe_stats_count_duplicates_and_the_fates_add_up() {
    let input: String = (0..300)
        .map(|i| match i % 10 {
            9 => "not json\n".to_string(),
            8 => format!("{{\"id\":{},\"ok\":false}}\n", i % 7),
            _ => format!("{{\"id\":{},\"ok\":true}}\n", i % 7),
        })
        .collect();
    let r = run(&["--stats", "where ok | dedupe"], &input);
    let stats = stats_of(&r.stderr);
    let fates = &stats["fates"];
    assert_eq!(fates["emitted"], 7, "{stats}");
    assert_eq!(fates["filtered"], 30, "{stats}");
    assert_eq!(fates["dead_letter"]["invalid_json"], 30, "{stats}");
    assert_eq!(fates["duplicate"], 300 - 7 - 30 - 30, "{stats}");
    assert_eq!(Some(fates_total(fates)), stats["lines_read"].as_u64(), "{stats}");
    assert_eq!(
        Some(fates_total(&stats["files"][0]["fates"])),
        stats["lines_read"].as_u64()
    );
}

#[test]
fn dedupe_gives_the_same_output_for_every_thread_count() {
    let input: String = (0..20_000)
        .map(|i| {
            format!(
                "{{\"id\":{},\"ts\":{},\"pad\":\"{}\",\"i\":{i}}}\n",
                (i * 7919) % 5003,
                i / 10,
                "x".repeat(i % 50)
            )
        })
        .collect();
    for pipeline in [
        "where i % 3 != 0 | dedupe",
        "dedupe by id within 30s",
        "throttle 3 per 10s by id % 7",
    ] {
        let one = run(&["-j", "1", "--chunk-size", "4K", pipeline], &input);
        let two = run(&["-j", "2", "--chunk-size", "4K", pipeline], &input);
        assert_eq!(one.code, 0, "{pipeline}: {}", one.stderr);
        assert!(one.stdout.lines().count() > 100, "{pipeline}");
        assert!(one.stdout == two.stdout, "{pipeline}: -j 1 and -j 2 differ");
    }
}

#[test]
fn throttle_passes_n_per_window_per_key_and_counts_the_rest() {
    // Keys a and b, one event per second for a minute: windows of 10s pass 3 of each.
    let input: String = (0..120)
        .map(|i| format!("{{\"k\":\"{}\",\"ts\":{},\"i\":{i}}}\n", ["a", "b"][i % 2], i / 2))
        .collect();
    let r = run(&["--stats", "throttle 3 per 10s by k"], &input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let stats = stats_of(&r.stderr);
    assert_eq!(stats["fates"]["emitted"], 36, "{stats}");
    assert_eq!(stats["fates"]["throttled"], 84, "{stats}");
    assert_eq!(Some(fates_total(&stats["fates"])), stats["lines_read"].as_u64());
    let first: Vec<Value> = field(&r.stdout, "i").into_iter().take(6).collect();
    assert_eq!(first, [0, 1, 2, 3, 4, 5].map(Value::from));
    let r = run(&["throttle 1 per 1m"], &input);
    assert_eq!(field(&r.stdout, "i"), [Value::from(0)]);
}

/// `throttle … per 1d` follows `--tz`'s days, as `every 1d` does; weeks start on Monday.
#[test]
fn throttle_windows_follow_the_zone_of_tz() {
    // 23:30 UTC and 00:30 UTC the next day: two UTC days, one day in Tokyo (08:30 and 09:30).
    let input = "{\"ts\":\"2026-11-01T23:30:00Z\",\"i\":1}\n{\"ts\":\"2026-11-02T00:30:00Z\",\"i\":2}\n";
    let utc = run(&["throttle 1 per 1d"], input);
    assert_eq!(field(&utc.stdout, "i"), [1, 2].map(Value::from), "{}", utc.stderr);
    let tokyo = run(&["--tz", "Asia/Tokyo", "throttle 1 per 1d"], input);
    assert_eq!(field(&tokyo.stdout, "i"), [Value::from(1)], "{}", tokyo.stderr);
    // Sunday 2026-11-01 and Monday 2026-11-02 fall in two weeks.
    let week = run(&["throttle 1 per 1w"], input);
    assert_eq!(field(&week.stdout, "i"), [1, 2].map(Value::from), "{}", week.stderr);
}

#[test]
fn reorder_dead_letters_late_events_with_reason_late() {
    let input = "{\"ts\":10,\"n\":1}\n{\"ts\":30,\"n\":2}\n{\"ts\":12,\"n\":3}\n{\"ts\":25,\"n\":4}\n\
                 {\"ts\":11,\"n\":5}\n{\"n\":6}\n";
    let (r, dead) = dead_letters(&["--stats", "reorder by ts within 10s"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(field(&r.stdout, "n"), [1, 3, 4, 2].map(Value::from));
    let reasons: Vec<(&Value, &Value)> = dead.iter().map(|d| (&d["line"], &d["reason"])).collect();
    assert_eq!(
        reasons,
        [
            (&Value::from(5), &Value::from("late")),
            (&Value::from(6), &Value::from("no_time"))
        ]
    );
    let stats = stats_of(&r.stderr);
    assert_eq!(stats["fates"]["dead_letter"]["late"], 1, "{stats}");
    assert_eq!(Some(fates_total(&stats["fates"])), stats["lines_read"].as_u64());
}

#[test]
fn reorder_within_n_holds_that_many_events() {
    let input = "{\"seq\":2}\n{\"seq\":1}\n{\"seq\":4}\n{\"seq\":3}\n{\"seq\":6}\n{\"seq\":5}\n{\"seq\":0}\n";
    let r = run(&["reorder by seq within 1"], input);
    assert_eq!(field(&r.stdout, "seq"), [1, 2, 3, 4, 5, 6].map(Value::from));
    assert!(r.stderr.contains("1 dead letter (1 late)"), "{}", r.stderr);
    let r = run(&["reorder by seq within 10"], input);
    assert_eq!(field(&r.stdout, "seq"), [0, 1, 2, 3, 4, 5, 6].map(Value::from));
}

#[test]
fn a_head_after_the_stages_stops_reading_once_satisfied() {
    let input: String = (0..20_000)
        .map(|i| format!("{{\"id\":{},\"ts\":{i}}}\n", i % 3))
        .collect();
    for pipeline in [
        "dedupe | head 2",
        "throttle 1 per 1s | head 2",
        "reorder by ts within 5s | head 2",
    ] {
        let r = run(&["--stats", "--chunk-size", "4K", pipeline], &input);
        assert_eq!(r.stdout.lines().count(), 2, "{pipeline}");
        let stats = stats_of(&r.stderr);
        let read = stats["lines_read"].as_u64().expect("lines read");
        assert!(read < 20_000, "{pipeline}: read {read} lines");
        assert_eq!(Some(fates_total(&stats["fates"])), Some(read), "{pipeline}: {stats}");
    }
}

#[test]
fn lines_after_a_satisfied_head_are_skipped_not_dead_letters() {
    let input = "{\"id\":1,\"ts\":1}\n{\"id\":2,\"ts\":2}\n{\"id\":3}\n{\"id\":4,\"ts\":0}\n";
    // (pipeline, lines output, lines skipped): `reorder … within 1` holds line 2 when `head 1`
    // is satisfied by line 1.
    for (pipeline, out, skipped) in [
        ("dedupe within 5s | head 2", 2, 2),
        ("throttle 5 per 1m | head 2", 2, 2),
        ("reorder by ts within 1 | head 1", 1, 3),
        ("fold by id emit changes | head 2", 2, 2),
    ] {
        let r = run(&["--strict", "--stats", pipeline], input);
        assert_eq!(r.code, 0, "{pipeline}: {}", r.stderr);
        assert_eq!(r.stdout.lines().count(), out, "{pipeline}");
        let stats = stats_of(&r.stderr);
        assert_eq!(stats["fates"]["skipped"], skipped, "{pipeline}: {stats}");
        assert_eq!(fates_total(&stats["fates"]), 4, "{pipeline}: {stats}");
    }
}

#[test]
fn fold_reads_event_time_where_the_windowed_stages_do() {
    // `ts` is the event's time field, and it holds no time: `time` is not looked at.
    let input = "{\"id\":1,\"ts\":\"x\",\"time\":\"2026-01-01T00:00:00Z\"}\n";
    let r = run(&["fold by id | keep _last"], input);
    assert_eq!(r.stdout, "{\"_last\":null}\n");
    let r = run(&["count every 1h"], input);
    assert!(r.stderr.contains("no_time"), "{}", r.stderr);
}

#[test]
fn the_stages_run_in_the_ordered_part() {
    let r = run(
        &[
            "--explain",
            "dedupe by u within 1m | throttle 5 per 1s | reorder by ts within 2s",
        ],
        "",
    );
    for stage in ["dedupe", "throttle", "reorder"] {
        let line = r
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(stage))
            .expect("the stage is listed");
        assert!(line.contains("ordered"), "{line}");
    }
}

/// Events with times 0..200 s, each arriving up to `delay` seconds after its time; arrival order
/// is by time plus delay (ties by index), so no event arrives more than `window` behind an earlier one.
fn jittered(times: &[(u32, u32)], window: u32) -> Vec<(u32, usize)> {
    let mut arrivals: Vec<(u32, usize, u32)> = times
        .iter()
        .enumerate()
        .map(|(i, &(t, d))| (t + d % (window + 1), i, t))
        .collect();
    arrivals.sort_unstable();
    arrivals.into_iter().map(|(_, i, t)| (t, i)).collect()
}

proptest! {
    #![proptest_config(Config { cases: 24, failure_persistence: None, ..Config::default() })]

    #[test]
    fn reorder_sorts_any_stream_whose_jitter_is_within_the_window(
        times in prop::collection::vec((0u32..200, 0u32..1000), 1..150),
        window in 1u32..30,
        jobs in 1u32..3,
    ) {
        let arrivals = jittered(&times, window);
        let input: String = arrivals.iter().map(|(t, i)| format!("{{\"ts\":{t},\"i\":{i}}}\n")).collect();
        let pipeline = format!("reorder by ts within {window}s");
        let out = evq()
            .args(["-j", &jobs.to_string(), "--stats", &pipeline])
            .write_stdin(input)
            .output()
            .expect("evq runs");
        prop_assert_eq!(out.status.code(), Some(0));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let got: Vec<Value> = field(&stdout, "i");
        // A stable sort of the arrivals by time is the order expected.
        let mut want = arrivals.clone();
        want.sort_by_key(|(t, _)| *t);
        let want: Vec<Value> = want.iter().map(|(_, i)| Value::from(*i)).collect();
        prop_assert_eq!(got, want);
        let stats = stats_of(&String::from_utf8_lossy(&out.stderr));
        prop_assert_eq!(&stats["fates"]["dead_letter"]["late"], &Value::from(0));
    }
}
