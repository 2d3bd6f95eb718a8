//! A worker's chunk is cut into segments at its dead letters, and the run takes a segment
//! whole or not at all: where `--strict` or `--max-errors` stops it, the output, the
//! aggregates and `--stats` all end at the same line, whatever the chunk size or threads.

use crate::common::run;
use serde_json::Value;

/// The `--stats` report written to `path`.
fn stats(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).expect("the stats file is written");
    serde_json::from_str(&text).expect("the stats file is JSON")
}

/// Runs `evq ARGS… --stats=FILE`: stdout, status and the report.
fn with_stats(args: &[&str], input: &str) -> (String, i32, Value) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("stats.json");
    let flag = format!("--stats={}", path.display());
    let all: Vec<&str> = [flag.as_str()].into_iter().chain(args.iter().copied()).collect();
    let r = run(&all, input);
    (r.stdout, r.code, stats(&path))
}

const ONE_BAD: &str = "{\"a\":1}\nbad\n{\"a\":2}\n{\"a\":3}\n";

#[test]
fn strict_count_counts_what_stats_says_was_aggregated() {
    for jobs in ["1", "3"] {
        for chunk in ["1M", "8", "12"] {
            let args = ["--strict", "-j", jobs, "--chunk-size", chunk, "count"];
            let (stdout, code, s) = with_stats(&args, ONE_BAD);
            assert_eq!((stdout.as_str(), code), ("{\"count\":1}\n", 3), "{args:?}");
            assert_eq!(s["lines_read"], 2, "{args:?}: the bad line is read, the ones after not");
            assert_eq!(s["fates"]["aggregated"], 1, "{args:?}");
            assert_eq!(s["fates"]["dead_letter"]["invalid_json"], 1, "{args:?}");
            assert_eq!(
                s["bytes_read"],
                "{\"a\":1}\nbad\n".len(),
                "{args:?}: bytes agree with lines"
            );
        }
    }
}

#[test]
fn max_errors_stops_output_counts_and_stats_at_the_same_line() {
    let input = "{\"a\":1}\nbad\n{\"a\":2}\nworse\n{\"a\":3}\nworst\n{\"a\":4}\n";
    for chunk in ["1M", "9"] {
        let args = ["--max-errors", "2", "--chunk-size", chunk, "where true"];
        let (stdout, code, s) = with_stats(&args, input);
        assert_eq!(
            (stdout.as_str(), code),
            ("{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n", 3),
            "{args:?}"
        );
        assert_eq!(
            (s["lines_read"].as_u64(), s["events_out"].as_u64()),
            (Some(6), Some(3)),
            "{args:?}"
        );
        assert_eq!(s["fates"]["emitted"], 3, "{args:?}");
        assert_eq!(s["fates"]["dead_letter"]["invalid_json"], 3, "{args:?}");
        let args = ["--max-errors", "2", "--chunk-size", chunk, "stats sum(a)"];
        let (stdout, _, s) = with_stats(&args, input);
        assert_eq!(stdout, "{\"sum_a\":6}\n", "{args:?}");
        assert_eq!(s["fates"]["aggregated"], 3, "{args:?}");
    }
}

#[test]
fn dead_letters_after_a_satisfied_head_are_skipped_not_counted() {
    let input = "{\"a\":1}\nbad\n{\"a\":2}\nworse\n";
    let (stdout, code, s) = with_stats(&["--strict", "head 1"], input);
    assert_eq!((stdout.as_str(), code), ("{\"a\":1}\n", 0));
    assert_eq!(
        (s["lines_read"].as_u64(), s["fates"]["skipped"].as_u64()),
        (Some(4), Some(3))
    );
    assert_eq!(s["fates"]["dead_letter"]["invalid_json"], 0);
}

#[test]
fn strict_and_max_errors_stop_at_a_dead_letter_an_ordered_stage_makes() {
    let late = "{\"ts\":10}\n{\"ts\":20}\n{\"ts\":5}\n{\"ts\":30}\n";
    let not_object = "{\"a\":1}\n[1]\n{\"a\":3}\n";
    for jobs in ["1", "3"] {
        for chunk in ["1M", "10"] {
            let args = ["--strict", "-j", jobs, "--chunk-size", chunk, "reorder by ts within 2s"];
            let (stdout, code, s) = with_stats(&args, late);
            assert_eq!((stdout.as_str(), code), ("{\"ts\":10}\n{\"ts\":20}\n", 3), "{args:?}");
            assert_eq!(s["fates"]["dead_letter"]["late"], 1, "{args:?}");
            assert_eq!(s["fates"]["emitted"], 2, "{args:?}: held events are released");

            let args = [
                "--max-errors",
                "0",
                "-j",
                jobs,
                "--chunk-size",
                chunk,
                "head 5 | set b = 1",
            ];
            // A line that is a worker's dead letter after the cut is skipped, not lost.
            for input in [not_object, "{\"a\":1}\n[1]\nbad\n{\"a\":4}\n"] {
                let (stdout, code, s) = with_stats(&args, input);
                assert_eq!((stdout.as_str(), code), ("{\"a\":1,\"b\":1}\n", 3), "{args:?}");
                assert_eq!(s["fates"]["dead_letter"]["not_object"], 1, "{args:?}");
                assert_eq!(s["fates"]["dead_letter"]["invalid_json"], 0, "{args:?}");
            }
        }
    }
}

#[test]
fn a_dead_letter_past_the_budget_while_stages_release_stops_the_release_and_skips_the_rest() {
    let input = "{\"a\":2}\n{\"a\":1}\n{\"a\":3}\n{\"a\":0}\n";
    for (pipeline, stopped) in [
        ("sort a | set x[2000] = 1", "invalid_path"),
        ("tail 5 | set x[2000] = 1", "invalid_path"),
        ("sort a | count every 1m", "no_time"),
        ("tail 5 | dedupe by a within 1m", "no_time"),
    ] {
        for (budget, dead) in [(["--strict", "-q"], 1), (["--max-errors", "1"], 2)] {
            let args = [budget[0], budget[1], pipeline];
            let (stdout, code, s) = with_stats(&args, input);
            assert_eq!((stdout.as_str(), code), ("", 3), "{args:?}");
            assert_eq!(s["fates"]["dead_letter"][stopped], dead, "{args:?}");
            assert_eq!(s["fates"]["skipped"], 4 - dead, "{args:?}: the rest held are skipped");
        }
    }
    // Events held before the cut, a worker's or an ordered stage's, are still released.
    for (pipeline, cut) in [("sort a", "bad"), ("dedupe by a within 1m | sort a", "{\"a\":5}")] {
        let args = ["-q", "--strict", pipeline];
        let input = format!("{{\"a\":2,\"ts\":1}}\n{{\"a\":1,\"ts\":2}}\n{cut}\n{{\"a\":0,\"ts\":3}}\n");
        let (stdout, code, s) = with_stats(&args, &input);
        assert_eq!(
            (stdout.as_str(), code),
            ("{\"a\":1,\"ts\":2}\n{\"a\":2,\"ts\":1}\n", 3),
            "{args:?}"
        );
        assert_eq!(s["fates"]["emitted"], 2, "{args:?}");
    }
}

#[test]
fn max_errors_counts_ordered_and_worker_dead_letters_together() {
    let input = "{\"ts\":10}\nbad\n{\"ts\":20}\n{\"ts\":5}\n{\"ts\":30}\n";
    let args = ["--max-errors", "1", "reorder by ts within 2s"];
    let (stdout, code, s) = with_stats(&args, input);
    assert_eq!(
        (stdout.as_str(), code),
        ("{\"ts\":10}\n{\"ts\":20}\n", 3),
        "the second dead letter (late) stops the run"
    );
    assert_eq!(s["fates"]["dead_letter"]["invalid_json"], 1);
    assert_eq!(s["fates"]["dead_letter"]["late"], 1);
}

#[test]
fn an_ordered_stage_s_dead_letter_says_why_in_words() {
    let r = run(&["head 5 | set b = 1"], "{\"a\":1}\n[1]\n");
    assert!(
        r.stderr.contains("-:2: not_object: the event is not an object"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_row_an_aggregate_made_that_a_later_stage_rejects_is_a_dead_letter_not_a_line_fate() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dead = dir.path().join("dead.ndjson");
    let flag = format!("--dead-letter={}", dead.display());
    let input = "{\"k\":1}\n{\"k\":2}\n{\"k\":1}\n";
    let (stdout, code, s) = with_stats(&[flag.as_str(), "count by k | count every 1h"], input);
    assert_eq!((stdout.as_str(), code), ("", 0));
    assert_eq!(
        (s["fates"]["aggregated"].as_u64(), s["made_dead_letters"].as_u64()),
        (Some(3), Some(2))
    );
    let records: Vec<Value> = std::fs::read_to_string(&dead)
        .expect("the dead-letter file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON record"))
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(
        (&records[0]["reason"], &records[0]["line"]),
        (&"no_time".into(), &Value::Null)
    );
    assert_eq!(records[0]["raw"], "{\"k\":1,\"count\":2}");

    let r = run(&["count by k | set x[5000] = 1"], input);
    assert!(
        r.stderr.contains("evq: 2 dead letters (2 invalid_path)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("an event a stage made: invalid_path"), "{}", r.stderr);
    let r = run(&["--strict", "count by k | set x[5000] = 1"], input);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("evq: an event a stage made: invalid_path") && !r.stderr.contains(":0:"),
        "{}",
        r.stderr
    );
}

/// A worker's part of an aggregate that takes it past `--max-groups` is refused whole: its
/// lines are skipped, not aggregated, in every pipeline shape, chunk size and thread count,
/// and the stage's message is printed once.
#[test]
fn lines_of_a_part_past_max_groups_are_skipped_not_aggregated() {
    let input: String = (0..3000).map(|i| format!("{{\"k\":{i}}}\n")).collect();
    for pipeline in ["count by k", "stats sum(k) by k", "fold by k", "head 5000 | count by k"] {
        for jobs in ["1", "2"] {
            for chunk in ["1M", "4K"] {
                let args = ["-j", jobs, "--chunk-size", chunk, "--max-groups", "10", pipeline];
                let dir = tempfile::tempdir().expect("a temporary directory");
                let path = dir.path().join("stats.json");
                let flag = format!("--stats={}", path.display());
                let r = run(&[&[flag.as_str()][..], &args].concat(), &input);
                let s = stats(&path);
                assert_eq!(r.code, 3, "{args:?}: {}", r.stderr);
                assert_eq!(r.stderr.matches("more than 10").count(), 1, "{args:?}: {}", r.stderr);
                let aggregated = s["fates"]["aggregated"].as_u64().expect("a count");
                assert!(aggregated <= 10, "{args:?}: {aggregated} aggregated past 10 groups");
                assert_eq!(
                    s["fates"]["skipped"].as_u64().expect("a count") + aggregated,
                    s["lines_read"].as_u64().expect("a count"),
                    "{args:?}"
                );
            }
        }
    }
}
