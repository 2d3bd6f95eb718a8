//! Each layer's error as the user sees it: one `evq:` line naming what failed, and the exit
//! status of its kind (3 input or a stage's limit, 4 output).

use crate::common::run;
use std::path::Path;

const INPUT: &str = "{\"k\":1}\n{\"k\":2}\n{\"k\":3}\nnot json\n";

fn lines(stderr: &str) -> Vec<&str> {
    stderr.lines().collect()
}

#[test]
fn a_full_dead_letter_file_is_named_and_exits_4() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipping: /dev/full is absent");
        return;
    }
    let r = run(&["--dead-letter", "/dev/full", "where true"], INPUT);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(
        lines(&r.stderr)[0],
        "evq: --dead-letter /dev/full: No space left on device"
    );
    assert_eq!(r.stdout, "{\"k\":1}\n{\"k\":2}\n{\"k\":3}\n");
}

/// A dead letter counts as one when its record is in the file: those a full disk did not
/// take are skipped, as stdout's events are.
#[test]
fn dead_letters_a_full_file_did_not_keep_are_skipped_not_counted_as_kept() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipping: /dev/full is absent");
        return;
    }
    let input = "not json\n".repeat(20_000);
    let r = run(&["--dead-letter", "/dev/full", "--stats", "where true"], &input);
    assert_eq!(r.code, 4, "{}", r.stderr);
    let s = crate::common::stats(&r.stderr);
    let read = s["lines_read"].as_u64().expect("a count");
    assert!(read > 0);
    assert_eq!(s["fates"]["dead_letter"]["invalid_json"], 0, "{s}");
    assert_eq!(s["fates"]["skipped"], read, "{s}");
}

#[test]
fn a_full_stats_file_is_named_and_exits_4() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipping: /dev/full is absent");
        return;
    }
    let r = run(&["--stats=/dev/full", "where true"], "{\"k\":1}\n");
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(r.stderr, "evq: --stats=/dev/full: No space left on device\n");
    assert_eq!(r.stdout, "{\"k\":1}\n");
}

#[test]
fn an_input_that_cannot_be_opened_is_named_and_exits_3() {
    let r = run(&["where true", "/nonexistent/evq-errors/x.log"], "");
    assert_eq!(r.code, 3);
    assert_eq!(
        r.stderr,
        "evq: /nonexistent/evq-errors/x.log: No such file or directory; there is no directory /nonexistent\n"
    );
}

#[test]
fn a_stage_past_max_groups_names_itself_and_the_way_out_and_exits_3() {
    let r = run(
        &["--max-groups", "2", "count by k"],
        "{\"k\":1}\n{\"k\":2}\n{\"k\":3}\n",
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "evq: count: more than 2 groups; raise the limit with --max-groups N\n"
    );
}

/// Past `--max-groups` the run stops at that event whatever the pipeline's shape: no later
/// line is taken, an aggregate's rows (which would leave events out) are not output, a
/// streaming stage's events before it are; and a line elsewhere in the input (here an
/// invalid one) changes nothing.
#[test]
fn a_stage_past_max_groups_takes_no_later_event_and_outputs_no_partial_rows() {
    let mut input = String::from("{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n");
    input.extend((1..=5).map(|n| format!("{{\"id\":1,\"n\":{n}}}\n")));
    let with_bad_line = input.replacen("{\"id\":3}\n", "{\"id\":3}\nbad\n", 1);
    let cases = [
        ("count by id", ""),
        ("where true | count by id", ""),
        ("sort n | count by id", ""),
        ("fold by id", ""),
        ("sort n | fold by id", ""),
        (
            "fold by id emit changes",
            "{\"id\":1,\"_events\":1,\"_last\":null}\n{\"id\":2,\"_events\":1,\"_last\":null}\n",
        ),
        ("dedupe by id", "{\"id\":1}\n{\"id\":2}\n"),
        ("tail 9 by id", ""),
    ];
    for (pipeline, expected) in cases {
        for (text, j) in [(&input, "1"), (&input, "2"), (&with_bad_line, "2")] {
            let r = run(&["-q", "-j", j, "--max-groups", "2", pipeline], text);
            assert_eq!(r.code, 3, "{pipeline}: {}", r.stderr);
            assert!(r.stderr.contains("more than 2"), "{pipeline}: {}", r.stderr);
            assert_eq!(r.stdout, expected, "{pipeline} -j {j}");
        }
    }
}

#[test]
fn no_message_carries_the_prefix_twice() {
    let runs = [
        run(&["where true", "/nonexistent/evq-errors/x.log"], ""),
        run(&["--max-groups", "1", "count by k"], INPUT),
        run(&["wher true"], ""),
    ];
    for r in runs {
        assert!(!r.stderr.is_empty());
        for line in r.stderr.lines().filter(|l| l.starts_with("evq:")) {
            assert!(!line.starts_with("evq: evq:"), "{line}");
        }
    }
}

/// A pipeline cannot make an event grow without bound: an event `set` would make longer than
/// `--max-line-bytes` is a dead letter, as such a line would be.
#[test]
fn an_event_that_set_would_make_longer_than_a_line_may_be_is_a_dead_letter() {
    let doubling = vec!["set a = [., .]"; 40].join(" | ");
    let r = run(&["--max-line-bytes", "64K", "--stats", &doubling], "{\"x\":1}\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .contains("-:1: too_long: the event would be longer than --max-line-bytes"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("\"too_long\": 1"), "{}", r.stderr);
}

/// A row an aggregate or fold made comes from no one line: `file()`, `line()` and
/// `offset()` are null for it, as its dead-letter record says, while an event read (or a
/// copy of it) keeps where it was read.
#[test]
fn a_row_a_stage_made_has_no_file_line_or_offset() {
    let input = "{\"t\":0,\"s\":\"a\",\"tags\":[1,2]}\n{\"t\":1,\"s\":\"b\",\"tags\":[3]}\n";
    for pipeline in [
        "count by s | set f = file(), l = line(), o = offset() | keep f, l, o | head 1",
        "fold by s | set f = file(), l = line(), o = offset() | keep f, l, o | head 1",
        "count every 1h | set f = file(), l = line(), o = offset() | keep f, l, o",
    ] {
        let r = run(&["--time-field", "t", pipeline], input);
        assert_eq!(
            r.stdout, "{\"f\":null,\"l\":null,\"o\":null}\n",
            "{pipeline}: {}",
            r.stderr
        );
    }
    let r = run(
        &["explode tags | set f = file(), l = line(), o = offset() | keep f, l, o"],
        input,
    );
    assert_eq!(
        r.stdout,
        "{\"f\":\"-\",\"l\":1,\"o\":0}\n{\"f\":\"-\",\"l\":1,\"o\":0}\n{\"f\":\"-\",\"l\":2,\"o\":29}\n"
    );
}

/// No message repeats the credentials of a URL, whoever wrote it: the user (a `join` file, an
/// input path) or a file evq read (a schema's `$ref`).
#[test]
fn no_message_repeats_the_password_of_a_url() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let schema = r#"{"properties":{"a":{"$ref":"https://deploy:s3cr3t@schemas.internal/u.json"}}}"#;
    std::fs::write(dir.path().join("s.json"), schema).expect("schema written");
    let r = crate::common::run_in(dir.path(), &["validate \"s.json\""], "{\"a\":1}\n");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.starts_with(
            "evq: pipeline error: validate: s.json: its $ref \"https://…@schemas.internal/u.json\" leads out of the file"
        ),
        "{}",
        r.stderr
    );
    for args in [
        &["join \"http://u:s3cr3t@h/x.csv\" on a"][..],
        &["where true", "postgres://u:s3cr3t@h/db"],
    ] {
        let r = crate::common::run_in(dir.path(), args, "{\"a\":1}\n");
        assert_ne!(r.code, 0, "{args:?}");
        assert!(r.stderr.contains("://…@h/"), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("s3cr3t"), "{args:?}: {}", r.stderr);
    }
}
