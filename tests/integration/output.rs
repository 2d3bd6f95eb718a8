//! Tests of the output formats and of the live view on a terminal.

use crate::common::run;
use std::process::Command;

const EVENTS: &str =
    "{\"svc\":\"a\",\"user\":{\"id\":1},\"msg\":\"x, \\\"y\\\"\"}\n{\"svc\":\"日本\",\"n\":18446744073709551615}\n";

#[test]
fn csv_flattens_nested_keys_in_first_seen_order() {
    let r = run(&["-o", "csv", "where true"], EVENTS);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "svc,user.id,msg,n\na,1,\"x, \"\"y\"\"\",\n日本,,,18446744073709551615\n"
    );
}

#[test]
fn tsv_escapes_instead_of_quoting() {
    let r = run(
        &["-o", "tsv", "keep svc, msg"],
        "{\"svc\":\"a\",\"msg\":\"t\\tn\\n\"}\n",
    );
    assert_eq!(r.stdout, "svc\tmsg\na\tt\\tn\\n\n");
}

#[test]
fn table_aligns_by_display_width() {
    let r = run(&["-o", "table", "count by svc"], EVENTS);
    assert_eq!(r.stdout, "svc   count\na         1\n日本      1\n");
}

/// logfmt cannot quote keys: a key it has to change gets a warning, since two keys may then
/// read as one; keys it can write get none.
#[test]
fn logfmt_warns_when_it_changes_keys() {
    let r = run(
        &["-o", "logfmt", "where true"],
        "{\"a b\":1,\"a_b\":2}\n{\"\":3}\n{\"x\":1}\n",
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "a_b=1 a_b=2\n_=3\nx=1\n"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("2 events had keys that logfmt cannot write"),
        "{}",
        r.stderr
    );
    let clean = run(&["-o", "logfmt", "where true"], "{\"x\":1,\"y.z\":2}\n");
    assert_eq!(clean.stderr, "");
    let merged = run(
        &["-o", "logfmt", "where true"],
        "{\"a\":{\"b\":1},\"a.b\":2}\n{\"a.b\":3}\n",
    );
    assert_eq!((merged.code, merged.stdout.as_str()), (0, "a.b=2\na.b=3\n"));
    assert_eq!(
        merged.stderr,
        "evq: warning: 1 event had two fields that flatten to one logfmt key (a nested field and a key with a \
         dot); the later one was written: rename one of them first\n"
    );
}

#[test]
fn logfmt_writes_one_line_per_event() {
    let r = run(&["-o", "logfmt", "keep svc, msg"], EVENTS);
    assert_eq!(r.stdout, "svc=a msg=\"x, \\\"y\\\"\"\nsvc=日本\n");
}

#[test]
fn aggregates_default_to_ndjson_when_stdout_is_not_a_terminal() {
    assert_eq!(run(&["count"], EVENTS).stdout, "{\"count\":2}\n");
}

/// Under a pseudo-terminal (script(1)), an aggregate over a slow stdin redraws a
/// table in place while input arrives, then prints the final table once.
#[test]
fn live_view_redraws_in_place_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipping: script(1) is not installed");
        return;
    }
    let evq = assert_cmd::cargo::cargo_bin("evq");
    let feed = "for i in 1 2 3 4 5 6; do echo \"{\\\"k\\\":\\\"a$((i % 2))\\\"}\"; sleep 0.4; done";
    let inner = format!("sh -c '{feed}' | {} 'count by k'", evq.display());
    let out = Command::new("script")
        .args(["-qfec", &inner, "/dev/null"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    // Redraws move the cursor up and clear (CSI n F, CSI J) before the final table.
    let redraws = text.matches("\x1b[J").count();
    assert!(redraws >= 2, "no live redraws in {text:?}");
    let final_part = text.rsplit("\x1b[J").next().unwrap();
    assert_eq!(final_part, "k   count\na1      3\na0      3\n", "{text:?}");
}

#[test]
fn columns_two_fields_of_one_event_flatten_to_are_named_in_a_warning() {
    let input = "{\"a\":{\"b\":1},\"a.b\":2}\n{\"a.b\":3}\n";
    for format in ["csv", "tsv", "table", "markdown"] {
        let r = run(&["-o", format, "where true"], input);
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("1 event had two fields that flatten to the column \"a.b\""),
            "{format}: {}",
            r.stderr
        );
    }
    let r = run(&["-o", "csv", "where true"], "{\"a\":{\"b\":1}}\n{\"a.b\":3}\n");
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        ("a.b\n1\n3\n", ""),
        "one field per event is fine"
    );
}
