//! Text fed as NDJSON: when most lines are not JSON and they are a known text log, evq says
//! which and how to read it, once, before the dead-letter summary.

use crate::common::{fixture, run};

#[test]
fn an_access_log_read_as_ndjson_is_named_with_the_fix() {
    let log = fixture("access.log");
    let r = run(&["where status >= 500", log.to_str().expect("a UTF-8 path")], "");
    assert_eq!(r.code, 0);
    let first = r.stderr.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        "evq: these lines look like an Apache combined log; add 'parse combined' or use -i lines"
    );
    assert_eq!(r.stderr.matches("look like").count(), 1, "once: {}", r.stderr);
}

#[test]
fn logfmt_lines_are_named_and_plain_words_are_not() {
    let r = run(&["count"], "level=info msg=\"hi there\" a=1\nlevel=warn b=2\n");
    assert!(
        r.stderr
            .starts_with("evq: these lines look like logfmt; use -i logfmt, or add 'parse logfmt'\n"),
        "{}",
        r.stderr
    );
    let r = run(&["count"], "hello world\nfoo bar\n");
    assert!(!r.stderr.contains("look like"), "{}", r.stderr);
}

#[test]
fn a_few_bad_lines_among_json_get_no_guess() {
    let input = "{\"a\":1}\n{\"a\":2}\nlevel=info a=1\n{\"a\":3}\n";
    let r = run(&["count"], input);
    assert!(r.stderr.contains("1 dead letter"), "{}", r.stderr);
    assert!(!r.stderr.contains("look like"), "{}", r.stderr);
}
