//! `assert` and `-e`: checks for CI. The first event that fails ends the run with exit 1,
//! naming its file and line; what came before it is output, nothing after.

use crate::common::run;
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
