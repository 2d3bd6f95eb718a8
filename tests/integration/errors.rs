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
    assert_eq!(lines(&r.stderr)[0], "evq: /dev/full: No space left on device");
    assert_eq!(r.stdout, "{\"k\":1}\n{\"k\":2}\n{\"k\":3}\n");
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
        "evq: /nonexistent/evq-errors/x.log: No such file or directory\n"
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
