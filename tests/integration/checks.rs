//! `assert` and `-e`: checks for CI. The first event that fails ends the run with exit 1,
//! naming its file and line; what came before it is output, nothing after.

use crate::common::run;
use std::collections::BTreeMap;
use std::fmt::Write;

#[test]
fn the_specs_ci_example_fails_on_an_error_and_passes_without_one() {
    let pipeline = r#"where level == "error" | assert false"#;
    let r = run(&[pipeline], "{\"level\":\"info\"}\n{\"level\":\"error\"}\n");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("evq: -:2: assertion failed: false"), "{}", r.stderr);
    let r = run(&[pipeline], "{\"level\":\"info\"}\n");
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
}

#[test]
fn the_first_failing_event_ends_the_run_whatever_the_threads() {
    let mut input = String::new();
    for i in 0..20_000 {
        let _ = writeln!(
            input,
            "{{\"i\":{i},\"status\":{}}}",
            if i == 12_345 || i == 17_000 { 503 } else { 200 }
        );
    }
    for jobs in ["1", "2", "4"] {
        let r = run(
            &[
                "-j",
                jobs,
                "--chunk-size",
                "4096",
                r#"assert status < 500 else "5xx found""#,
            ],
            &input,
        );
        assert_eq!(r.code, 1, "-j {jobs}: {}", r.stderr);
        assert_eq!(r.stderr, "evq: -:12346: assertion failed: 5xx found\n", "-j {jobs}");
        assert_eq!(
            r.stdout.lines().count(),
            12_345,
            "-j {jobs}: the events before it are output"
        );
        assert!(r.stdout.ends_with("{\"i\":12344,\"status\":200}\n"), "-j {jobs}");
    }
}

/// The failure is one line whatever the message or the row hold; a long row is cut short.
#[test]
fn a_failed_assert_is_one_line_of_bounded_length() {
    let r = run(&["assert a == 2 else \"x\ny\""], "{\"a\":1}\n");
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr, "evq: -:1: assertion failed: x\\ny\n");
    let long = format!("{{\"k\":\"{}\"}}\n", "x".repeat(5000));
    let r = run(&["count by k | assert count > 5"], &long);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.len() < 400, "{}", r.stderr);
    assert!(r.stderr.trim_end().ends_with('…'), "{}", r.stderr);
}

#[test]
fn an_assert_after_an_aggregate_checks_its_rows() {
    let input = "{\"ms\":100}\n{\"ms\":300}\n{\"ms\":200}\n";
    let r = run(&["stats max(ms) as worst | assert worst < 250"], input);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(r#"assertion failed: worst < 250: {"worst":300}"#),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout, "");
    let r = run(&["stats max(ms) as worst | assert worst < 500"], input);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"worst\":300}\n"));
}

#[test]
fn nothing_after_a_failed_assert_is_output_not_even_an_aggregate() {
    let r = run(&["assert n != 2 | count"], "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{}", r.stderr);
}

#[test]
fn the_failing_line_and_the_lines_after_it_have_their_fates() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let stats = dir.path().join("stats.json");
    let arg = format!("--stats={}", stats.display());
    let r = run(&[&arg, "-j", "1", "assert n < 2"], "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    assert_eq!(r.code, 1);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).expect("a report")).expect("JSON");
    let fates = &report["fates"];
    assert_eq!(report["lines_read"], 3);
    assert_eq!(
        (&fates["emitted"], &fates["failed"], &fates["skipped"]),
        (&1.into(), &1.into(), &1.into())
    );
}

#[test]
fn assert_needs_an_expression_and_a_quoted_message() {
    for (pipeline, what) in [
        ("assert", "expected an expression"),
        ("assert a else b", "expected a \"message\""),
    ] {
        let r = run(&[pipeline], "");
        assert_eq!(r.code, 2, "{pipeline}");
        assert!(r.stderr.contains(what), "{pipeline}: {}", r.stderr);
    }
}

#[test]
fn exit_status_fails_a_run_that_output_nothing() {
    let r = run(&["-e", "where level == \"error\""], "{\"level\":\"info\"}\n");
    assert_eq!(r.code, 1);
    let r = run(&["-e", "where level == \"error\""], "{\"level\":\"error\"}\n");
    assert_eq!(r.code, 0);
}

/// The fates in a `--stats` report, added up.
fn fates_sum(report: &serde_json::Value) -> u64 {
    let fates = report["fates"].as_object().expect("fates");
    let dead: u64 = fates["dead_letter"]
        .as_object()
        .expect("by reason")
        .values()
        .filter_map(serde_json::Value::as_u64)
        .sum();
    fates.values().filter_map(serde_json::Value::as_u64).sum::<u64>() + dead
}

#[test]
fn every_line_has_a_fate_when_an_assert_stops_the_run() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let stats = dir.path().join("stats.json");
    let arg = format!("--stats={}", stats.display());
    let input: String = (0..3000)
        .map(|i| {
            format!(
                "{{\"i\":{i},\"k\":{},\"ts\":{}}}\n",
                i % 7,
                1_700_000_000 + (i * 7919) % 3000
            )
        })
        .collect();
    for pipeline in [
        "sort ts | assert i != 1234",
        "assert i != 1234 | sort ts",
        "tail 50 | assert k != 3 | count",
        "reorder by ts within 1h | assert i != 2000",
        "dedupe by k | assert k != 5 | tail 3",
        "count by k | assert count < 400",
    ] {
        for jobs in ["1", "2"] {
            let r = run(&[&arg, "-j", jobs, "--chunk-size", "4096", pipeline], &input);
            assert_eq!(r.code, 1, "{pipeline} -j {jobs}: {}", r.stderr);
            let report: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&stats).expect("a report")).expect("JSON");
            assert_eq!(
                report["lines_read"].as_u64(),
                Some(fates_sum(&report)),
                "{pipeline} -j {jobs}: {report}"
            );
            // An aggregate's row is no line: then no line failed.
            let failed = i32::from(!pipeline.starts_with("count"));
            assert_eq!(report["fates"]["failed"], failed, "{pipeline} -j {jobs}");
        }
    }
}

#[test]
fn every_line_has_a_fate_when_the_reader_closes_the_pipe() {
    use std::io::{BufRead, BufReader, Write};
    let dir = tempfile::tempdir().expect("a temporary directory");
    let stats = dir.path().join("stats.json");
    let input = dir.path().join("in.ndjson");
    let lines: String = (0..200_000)
        .map(|i| format!("{{\"i\":{i},\"pad\":\"{i:0>40}\"}}\n"))
        .collect();
    std::fs::write(&input, lines).expect("input written");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("evq"))
        .arg(format!("--stats={}", stats.display()))
        .args(["tail 100000", input.to_str().expect("UTF-8")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("evq starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a line");
    assert!(first.starts_with("{\"i\":100000,"), "{first}");
    let status = child.wait().expect("evq ends");
    assert_eq!(status.code(), Some(0), "a closed pipe is a quiet success");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).expect("a report")).expect("JSON");
    assert_eq!(report["lines_read"], 200_000);
    assert_eq!(report["lines_read"].as_u64(), Some(fates_sum(&report)), "{report}");
    let _ = std::io::stderr().flush();
}

#[test]
fn lines_after_a_failed_assert_are_skipped_whatever_stage_comes_before_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let stats = dir.path().join("stats.json");
    let dead = dir.path().join("dead.ndjson");
    let files = dir.path().join("t/{a}.ndjson");
    let input = "{\"a\":1}\n{\"a\":5}\ngarbage\n";
    let tee = format!("tee \"{}\" | assert a < 5", files.display());
    for pipeline in ["assert a < 5", tee.as_str(), "head 5 | assert a < 5"] {
        let args = [
            format!("--stats={}", stats.display()),
            format!("--dead-letter={}", dead.display()),
        ];
        let r = run(&[&args[0], &args[1], pipeline], input);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (1, "{\"a\":1}\n"),
            "{pipeline}: {}",
            r.stderr
        );
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&stats).expect("a report")).expect("JSON");
        assert_eq!(report["fates"]["skipped"], 1, "{pipeline}: {report}");
        assert_eq!(
            report["fates"]["dead_letter"]["invalid_json"], 0,
            "{pipeline}: {report}"
        );
        assert_eq!(std::fs::read_to_string(&dead).unwrap_or_default(), "", "{pipeline}");
    }
}

/// The fates of a run's one input that are not zero, from its `--stats` report.
fn fates_of(report: &serde_json::Value) -> BTreeMap<String, u64> {
    let fates = report["fates"].as_object().expect("fates");
    let dead = fates["dead_letter"].as_object().expect("by reason");
    fates
        .iter()
        .chain(dead)
        .filter_map(|(k, v)| Some((k.clone(), v.as_u64().filter(|n| *n > 0)?)))
        .collect()
}

#[test]
fn lines_after_the_event_that_ends_the_run_are_skipped_whatever_a_worker_made_of_them() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let stats = dir.path().join("stats.json");
    let arg = format!("--stats={}", stats.display());
    // Odd i are errors; a blank line and lines a filter drops come after the stop.
    let levels = "{\"i\":0,\"lvl\":\"info\"}\n{\"i\":1,\"lvl\":\"error\"}\n{\"i\":2,\"lvl\":\"info\"}\n\
                  {\"i\":3,\"lvl\":\"error\"}\n{\"i\":4,\"lvl\":\"info\"}\n\n{\"i\":5,\"lvl\":\"error\"}\n";
    // The fourth line is late for reorder; --strict stops there.
    let times = "{\"ts\":10,\"k\":1}\n{\"ts\":20,\"k\":1}\n{\"ts\":11,\"k\":0}\n{\"ts\":5,\"k\":1}\n\
                 {\"ts\":22,\"k\":0}\n\n{\"ts\":23,\"k\":1}\n";
    for (args, input, want) in [
        (
            &["where lvl == \"error\" | assert i < 3"][..],
            levels,
            "emitted 1, failed 1, filtered 2, skipped 3",
        ),
        (
            &["where lvl == \"error\" | head 1"],
            levels,
            "emitted 1, filtered 1, skipped 5",
        ),
        (
            &["sample 100% | where lvl == \"error\" | head 1"],
            levels,
            "emitted 1, filtered 1, skipped 5",
        ),
        (
            &["--strict", "where k == 1 | reorder by ts within 1s"],
            times,
            "emitted 2, filtered 1, late 1, skipped 3",
        ),
    ] {
        for jobs in ["1", "2"] {
            let r = run(&[&[arg.as_str(), "-j", jobs], args].concat(), input);
            let report: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&stats).expect("a report")).expect("JSON");
            let got: Vec<String> = fates_of(&report).iter().map(|(k, n)| format!("{k} {n}")).collect();
            assert_eq!(got.join(", "), want, "{args:?} -j {jobs}: {}", r.stderr);
        }
    }
}
