//! Tests of the aggregate stages: count, stats, top, distinct, sort, windows.

use crate::common::{evq, run};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn lines(s: &str) -> Vec<Value> {
    s.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

const EVENTS: &str = r#"{"svc":"a","ms":10,"user":{"country":"DE"}}
{"svc":"b","ms":20,"user":{"country":"FR"}}
{"svc":"a","ms":30,"user":{"country":"DE"}}
{"svc":"c","ms":5}
{"svc":"b","ms":40,"user":{"country":"DE"}}
{"svc":"a","ms":"n/a"}
"#;

#[test]
fn count_orders_by_count_then_first_seen() {
    let r = run(&["count by svc"], EVENTS);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"svc\":\"a\",\"count\":3}\n{\"svc\":\"b\",\"count\":2}\n{\"svc\":\"c\",\"count\":1}\n"
    );
}

#[test]
fn count_by_nested_path_keeps_its_shape_and_missing_is_null() {
    let r = run(&["count by user.country"], EVENTS);
    assert_eq!(
        r.stdout,
        "{\"user\":{\"country\":\"DE\"},\"count\":3}\n{\"user\":{\"country\":null},\"count\":2}\n{\"user\":{\"country\":\"FR\"},\"count\":1}\n"
    );
}

#[test]
fn count_without_keys_counts_everything_and_zero_when_empty() {
    assert_eq!(run(&["count"], EVENTS).stdout, "{\"count\":6}\n");
    assert_eq!(run(&["where false | count"], EVENTS).stdout, "{\"count\":0}\n");
}

#[test]
fn stats_in_first_seen_order_with_names() {
    let r = run(
        &["stats count(), sum(ms), max(ms) as worst, count(user) by svc"],
        EVENTS,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = lines(&r.stdout);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["svc"], "a");
    assert_eq!(rows[0]["count"], 3);
    assert_eq!(rows[0]["sum_ms"], 40);
    assert_eq!(rows[0]["worst"], 30);
    assert_eq!(rows[0]["count_user"], 2);
    assert_eq!(rows[2]["svc"], "c");
    assert_eq!(rows[2]["count_user"], 0);
}

#[test]
fn integer_sums_are_exact_beyond_f64() {
    let input = "{\"n\":9007199254740993}\n{\"n\":9007199254740993}\n{\"n\":18446744073709551615}\n";
    let r = run(&["stats sum(n)"], input);
    assert_eq!(r.stdout, "{\"sum_n\":18464758472219033601}\n");
}

#[test]
fn integers_past_128_bits_sum_and_compute_exactly() {
    let past = "170141183460469231731687303715884105728"; // 2^127: one past i128::MAX
    let input = format!("{{\"n\":{past}}}\n{{\"n\":{past}}}\n{{\"n\":-1}}\n");
    let r = run(&["stats sum(n), avg(n)"], &input);
    assert_eq!(
        r.stdout,
        "{\"sum_n\":340282366920938463463374607431768211455,\"avg_n\":1.1342745564031281e+38}\n"
    );
    let r = run(&["step sum(n) as s | keep s"], &input);
    assert_eq!(
        r.stdout,
        format!(
            "{{\"s\":{past}}}\n{{\"s\":340282366920938463463374607431768211456}}\n{{\"s\":340282366920938463463374607431768211455}}\n"
        )
    );
    let big = "10000000000000000000000000000000000000000";
    let input = format!("{{\"v\":{big},\"a\":[{big},1,-{big}]}}\n");
    let r = run(
        &["where v - 1 != v | set d = v - 1, p = v * v, s = sum(a) | keep d, p, s"],
        &input,
    );
    assert_eq!(
        r.stdout,
        format!("{{\"d\":{},\"p\":1{},\"s\":1}}\n", "9".repeat(40), "0".repeat(80))
    );
}

#[test]
fn percentiles_of_integers_past_2_pow_53_are_values_that_occurred() {
    let input =
        "{\"n\":9007199254740993}\n{\"n\":9007199254740995}\n{\"n\":-170141183460469231731687303715884105728}\n";
    let r = run(&["stats p50(n), p99(n), percentile(n, 0) as lo"], input);
    assert_eq!(
        r.stdout,
        "{\"p50_n\":9007199254740993,\"p99_n\":9007199254740995,\"lo\":-170141183460469231731687303715884105728}\n"
    );
}

#[test]
fn top_n_by_count_and_by_aggregate() {
    assert_eq!(run(&["top 1 svc"], EVENTS).stdout, "{\"svc\":\"a\",\"count\":3}\n");
    assert_eq!(
        run(&["top 1 svc by max(ms)"], EVENTS).stdout,
        "{\"svc\":\"b\",\"max_ms\":40}\n"
    );
}

#[test]
fn distinct_keeps_first_seen_combinations() {
    let r = run(&["distinct svc, user.country"], EVENTS);
    let rows = lines(&r.stdout);
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0], serde_json::json!({"svc":"a","user":{"country":"DE"}}));
    assert_eq!(rows[1], serde_json::json!({"svc":"b","user":{"country":"FR"}}));
}

#[test]
fn sort_is_stable_and_descending_works() {
    let r = run(&["sort svc desc, ms | keep svc, ms"], EVENTS);
    assert_eq!(
        r.stdout,
        "{\"svc\":\"c\",\"ms\":5}\n{\"svc\":\"b\",\"ms\":20}\n{\"svc\":\"b\",\"ms\":40}\n{\"svc\":\"a\",\"ms\":10}\n{\"svc\":\"a\",\"ms\":30}\n{\"svc\":\"a\",\"ms\":\"n/a\"}\n"
    );
}

#[test]
fn sort_spills_past_the_memory_limit_with_the_same_result() {
    let input: String = (0..3000)
        .map(|i| format!("{{\"k\":{},\"i\":{i}}}\n", (i * 7919) % 1000))
        .collect();
    let small = run(&["--memory-limit", "4K", "sort k"], &input);
    let big = run(&["sort k"], &input);
    assert_eq!(small.code, 0, "{}", small.stderr);
    assert_eq!(small.stdout, big.stdout);
    let keys: Vec<i64> = lines(&small.stdout).iter().map(|v| v["k"].as_i64().unwrap()).collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(keys.len(), 3000);
}

#[test]
fn windows_are_aligned_to_the_epoch_and_ordered_by_time() {
    let input = "{\"ts\":\"2026-01-01T00:01:30Z\",\"k\":\"x\"}\n{\"ts\":\"2026-01-01T00:00:10Z\",\"k\":\"x\"}\n{\"ts\":1767225605,\"k\":\"y\"}\n";
    let r = run(&["count by k every 1m"], input);
    assert_eq!(
        r.stdout,
        "{\"window_start\":\"2026-01-01T00:00:00Z\",\"window_end\":\"2026-01-01T00:01:00Z\",\"k\":\"x\",\"count\":1}\n\
         {\"window_start\":\"2026-01-01T00:00:00Z\",\"window_end\":\"2026-01-01T00:01:00Z\",\"k\":\"y\",\"count\":1}\n\
         {\"window_start\":\"2026-01-01T00:01:00Z\",\"window_end\":\"2026-01-01T00:02:00Z\",\"k\":\"x\",\"count\":1}\n"
    );
}

#[test]
fn events_without_time_are_no_time_dead_letters() {
    let dir = tempfile::tempdir().unwrap();
    let dl = dir.path().join("dl.ndjson");
    let input = "{\"ts\":\"2026-01-01T00:00:10Z\"}\n{\"k\":1}\n{\"time\":\"yesterday\"}\n";
    let r = run(&["--dead-letter", dl.to_str().unwrap(), "count every 1m"], input);
    assert_eq!(r.code, 0);
    let dead = std::fs::read_to_string(&dl).unwrap();
    let recs = lines(&dead);
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r["reason"] == "no_time"));
    assert_eq!(recs[0]["line"], 2);
}

#[test]
fn late_events_are_dead_letters_with_lateness() {
    let input =
        "{\"ts\":\"2026-01-01T00:00:10Z\"}\n{\"ts\":\"2026-01-01T00:02:00Z\"}\n{\"ts\":\"2026-01-01T00:00:20Z\"}\n";
    let dir = tempfile::tempdir().unwrap();
    let dl = dir.path().join("dl.ndjson");
    let r = run(
        &[
            "--lateness",
            "30s",
            "--dead-letter",
            dl.to_str().unwrap(),
            "count every 1m",
        ],
        input,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = lines(&r.stdout);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["count"], 1);
    let recs = lines(&std::fs::read_to_string(&dl).unwrap());
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["reason"], "late");
    assert_eq!(recs[0]["line"], 3);
    // A window that held no event is closed as well: the message says closed, not output.
    let r = run(
        &["--lateness", "1m", "count every 1m"],
        "{\"ts\":\"2026-01-01T00:10:00Z\"}\n{\"ts\":\"2026-01-01T00:01:00Z\"}\n",
    );
    assert!(
        r.stderr
            .contains("-:2: late: every window that holds it had closed: its end was behind the watermark"),
        "{}",
        r.stderr
    );
}

#[test]
fn with_lateness_a_window_arrives_before_the_input_ends() {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("evq"))
        .args(["--lateness", "1s", "count every 1m"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{{\"ts\":\"2026-01-01T00:00:10Z\"}}").unwrap();
    writeln!(stdin, "{{\"ts\":\"2026-01-01T00:01:30Z\"}}").unwrap();
    stdin.flush().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let started = Instant::now();
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    // The input is still open: the row came from the watermark, not the end of input.
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(first.contains("\"window_start\":\"2026-01-01T00:00:00Z\""), "{first}");
    assert!(child.try_wait().unwrap().is_none());
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(rest.contains("00:01:00Z"));
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn max_groups_fails_naming_the_stage() {
    let input: String = (0..100).map(|i| format!("{{\"id\":{i}}}\n")).collect();
    let r = run(&["--max-groups", "10", "count by id"], &input);
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("count: more than 10 groups"), "{}", r.stderr);
}

#[test]
fn aggregates_are_identical_for_every_thread_count_and_chunk_size() {
    let input: String = (0..5000)
        .map(|i| {
            format!(
                "{{\"k\":\"k{}\",\"v\":{},\"ts\":{}}}\n",
                (i * 31) % 97,
                i % 13,
                1_767_225_600 + i * 7
            )
        })
        .collect();
    let pipeline = "stats count(), sum(v), first(v), last(v), min(v), max(v), stddev(v) by k every 5m";
    let reference = evq()
        .args(["-j", "1", pipeline])
        .write_stdin(input.clone())
        .output()
        .unwrap()
        .stdout;
    assert!(!reference.is_empty());
    for (j, chunk) in [("2", "1K"), ("4", "333"), ("3", "64K")] {
        let out = evq()
            .args(["-j", j, "--chunk-size", chunk, pipeline])
            .write_stdin(input.clone())
            .output()
            .unwrap();
        assert_eq!(out.stdout, reference, "-j {j} --chunk-size {chunk}");
    }
}

#[test]
fn variance_is_identical_for_every_thread_count_and_chunk_size() {
    // Fractions no double holds, in large groups: sums of squares rounded in another order
    // differ in their last bits.
    let input: String = (0..20_000u32)
        .map(|i| {
            format!(
                "{{\"k\":{},\"v\":{}}}\n",
                i % 3,
                f64::from(i.wrapping_mul(2_654_435_761) % 100_000) / 7.0
            )
        })
        .collect();
    let pipeline = "stats stddev(v), var(v) by k";
    let reference = run(&["-j", "1", pipeline], &input).stdout;
    assert_eq!(reference.lines().count(), 3, "{reference}");
    for (j, chunk) in [("2", "1K"), ("4", "333"), ("3", "64K")] {
        let out = run(&["-j", j, "--chunk-size", chunk, pipeline], &input);
        assert_eq!(out.stdout, reference, "-j {j} --chunk-size {chunk}");
    }
}

#[test]
fn strict_and_max_errors_cut_aggregates_at_the_offending_line() {
    let input = "{\"a\":1}\nbad\n{\"a\":2}\nworse\n{\"a\":3}\n";
    let r = run(&["--strict", "count"], input);
    assert_eq!((r.code, r.stdout.as_str()), (3, "{\"count\":1}\n"), "{}", r.stderr);
    let r = run(&["--max-errors", "1", "count by a"], input);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"a\":1,\"count\":1}\n{\"a\":2,\"count\":1}\n");
    let r = run(&["--max-errors", "2", "stats sum(a)"], input);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"sum_a\":6}\n"), "{}", r.stderr);
}

#[test]
fn group_keys_and_json_text_input_keep_numbers_as_written() {
    let r = run(&["count by k"], "{\"k\":1E5}\n{\"k\":100000}\n{\"k\":1e400}\n");
    assert_eq!(r.stdout, "{\"k\":1E5,\"count\":2}\n{\"k\":1e400,\"count\":1}\n");
    let r = run(&["distinct k"], "{\"k\":2.50}\n");
    assert_eq!(r.stdout, "{\"k\":2.50}\n");
    let r = run(&["-i", "json", "where true"], "[{\"a\":1E5},\n{\"b\":[2E-3]}]\n");
    assert_eq!(r.stdout, "{\"a\":1E5}\n{\"b\":[2E-3]}\n");
}

/// A key counting from the end of an array cannot keep its shape in a row: it is named by
/// its text, as an expression is (it was silently left out of every row).
#[test]
fn a_key_with_a_negative_index_is_named_by_its_text() {
    let input = "{\"tags\":[\"a\",\"b\"]}\n{\"tags\":[\"c\"]}\n{\"tags\":[\"b\"]}\n";
    let r = run(&["count by tags[-1]"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        lines(&r.stdout),
        [
            serde_json::json!({"tags[-1]": "b", "count": 2}),
            serde_json::json!({"tags[-1]": "c", "count": 1})
        ]
    );
    let r = run(&["distinct tags[-1] as last"], input);
    assert_eq!(
        lines(&r.stdout),
        [serde_json::json!({"last": "b"}), serde_json::json!({"last": "c"})]
    );
}
