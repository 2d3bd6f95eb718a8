//! Tests of fidelity: unmodified events keep their bytes, modified ones keep their
//! key order and numbers' text; duplicate keys; framing (CRLF, BOM, last line
//! without a newline, blank lines).

use crate::common::{run, run_bytes};
use serde_json::Value;

fn out(pipeline: &str, input: &str) -> String {
    let r = run(&[pipeline], input);
    assert_eq!(r.code, 0, "`{pipeline}` failed: {}", r.stderr);
    r.stdout
}

/// The `--stats` summary of a run on raw bytes, with its stdout.
fn stats_of(pipeline: &str, input: &[u8]) -> (String, Value) {
    let r = run_bytes(&["--stats", pipeline], input);
    assert_eq!(r.code, 0, "`{pipeline}` failed: {}", r.stderr);
    let stats = serde_json::from_str(&r.stderr).unwrap_or_else(|e| panic!("stats are JSON: {e}: {}", r.stderr));
    (r.stdout, stats)
}

/// Lines that a re-serialising tool would change.
const ODD_LINES: &[&str] = &[
    r#"{ "a" : 1 ,  "b":[ 1 , 2 ]	}"#,
    r#"{"s":"caf\u00e9","p":"a\/b","q":"\"quoted\"","u":"\u0041"}"#,
    r#"{"z":1,"a":2,"m":{"y":1,"b":2}}"#,
    r#"{"a":1,"a":2}"#,
    r#"{"big":18446744073709551615,"neg":-9223372036854775808,"f":1.0,"e":1e400,"E":1E5,"m":-0,"z":0.10}"#,
    r#"{"deep":{"x":[{"y":[null,true,false]}]},"empty":{},"list":[]}"#,
    r#"  {"padded":true}  "#,
    "{\"raw\":\"é 😀\"}",
];

fn odd_input() -> String {
    ODD_LINES.iter().map(|l| format!("{l}\n")).collect()
}

// ---------------------------------------------------------------- unmodified events

#[test]
fn unmodified_events_keep_their_exact_bytes() {
    let input = odd_input();
    assert_eq!(out("where true", &input), input);
}

#[test]
fn unmodified_events_keep_their_bytes_when_fields_are_read() {
    let input = odd_input();
    assert_eq!(out("where a != 42 and big != 1 and s != \"x\"", &input), input);
    assert_eq!(
        out("where type(.) == \"object\"", &input),
        input,
        "reading the whole event"
    );
    assert_eq!(out("head 100 | tail 100", &input), input);
}

#[test]
fn del_keep_and_rename_that_change_nothing_keep_the_bytes() {
    let input = odd_input();
    assert_eq!(out("del nope, nope2.x", &input), input);
    assert_eq!(out("rename nope as other", &input), input);
}

#[test]
fn events_that_are_not_objects_pass_unchanged() {
    let input = "[1, 2]\n\"text\"\n42\nnull\n";
    assert_eq!(out("where true", input), input);
}

// ---------------------------------------------------------------- modified events

#[test]
fn modified_events_keep_their_key_order() {
    let line = "{\"z\":1,\"a\":2,\"m\":{\"y\":1,\"b\":2}}\n";
    assert_eq!(
        out("set x = 1", line),
        "{\"z\":1,\"a\":2,\"m\":{\"y\":1,\"b\":2},\"x\":1}\n"
    );
    assert_eq!(
        out("set m.c = 3", line),
        "{\"z\":1,\"a\":2,\"m\":{\"y\":1,\"b\":2,\"c\":3}}\n"
    );
    assert_eq!(out("del a", line), "{\"z\":1,\"m\":{\"y\":1,\"b\":2}}\n");
    assert_eq!(out("del m.y", line), "{\"z\":1,\"a\":2,\"m\":{\"b\":2}}\n");
    assert_eq!(
        out("rename a as A", line),
        "{\"z\":1,\"A\":2,\"m\":{\"y\":1,\"b\":2}}\n"
    );
}

const NUMBERS: &str =
    r#"{"big":18446744073709551615,"neg":-9223372036854775808,"f":1.0,"e":1e400,"E":1E5,"m":-0,"z":0.10,"t":1e-7}"#;
const NUMBERS_COMPACT: &str =
    r#""big":18446744073709551615,"neg":-9223372036854775808,"f":1.0,"e":1e400,"E":1E5,"m":-0,"z":0.10,"t":1e-7"#;

#[test]
fn numbers_keep_their_text_when_a_top_level_field_is_set() {
    assert_eq!(
        out("set x = 1", &format!("{NUMBERS}\n")),
        format!("{{{NUMBERS_COMPACT},\"x\":1}}\n")
    );
}

#[test]
fn numbers_keep_their_text_when_a_nested_field_is_set() {
    assert_eq!(
        out("set u.x = 1", &format!("{NUMBERS}\n")),
        format!("{{{NUMBERS_COMPACT},\"u\":{{\"x\":1}}}}\n")
    );
}

#[test]
fn numbers_keep_their_text_when_a_field_is_deleted() {
    let line = format!("{{\"s\":\"\\u00e9\",{NUMBERS_COMPACT}}}\n");
    assert_eq!(out("del s", &line), format!("{{{NUMBERS_COMPACT}}}\n"));
}

#[test]
fn numbers_keep_their_text_when_a_field_is_renamed() {
    let line = format!("{{\"s\":1,{NUMBERS_COMPACT}}}\n");
    assert_eq!(out("rename s as S", &line), format!("{{\"S\":1,{NUMBERS_COMPACT}}}\n"));
}

#[test]
fn numbers_keep_their_text_inside_nested_values() {
    let line = "{\"a\":[1E5,{\"q\":2e+5,\"r\":-0.0}],\"s\":\"1e5 \\\" 3E4\",\"x\":0}\n";
    assert_eq!(
        out("del x", line),
        "{\"a\":[1E5,{\"q\":2e+5,\"r\":-0.0}],\"s\":\"1e5 \\\" 3E4\"}\n"
    );
    assert_eq!(
        out("set c = a", line),
        line.replace("\"x\":0}", "\"x\":0,\"c\":[1E5,{\"q\":2e+5,\"r\":-0.0}]}")
    );
    assert_eq!(
        out("set c = a[1]", line),
        line.replace("\"x\":0}", "\"x\":0,\"c\":{\"q\":2e+5,\"r\":-0.0}}")
    );
    assert_eq!(out("set c = .", "{\"e\":1E5}\n"), "{\"e\":1E5,\"c\":{\"e\":1E5}}\n");
}

#[test]
fn copied_numbers_keep_their_text() {
    assert_eq!(
        out(
            "set c = big, d = e, g = m, h = f | keep c, d, g, h",
            &format!("{NUMBERS}\n")
        ),
        "{\"c\":18446744073709551615,\"d\":1e400,\"g\":-0,\"h\":1.0}\n"
    );
}

#[test]
fn modified_events_keep_their_strings() {
    // Escapes may be re-encoded when an event is rebuilt, but never their meaning.
    let line = "{\"s\":\"caf\\u00e9 \\/ \\\"q\\\" \\ud83d\\ude00\",\"x\":1}\n";
    for p in ["set y = 2", "set u.y = 2", "del x", "rename x as X"] {
        let v: Value = serde_json::from_str(&out(p, line)).unwrap();
        assert_eq!(v["s"], "café / \"q\" 😀", "{p}");
    }
    assert_eq!(
        out("set y = 2", line),
        "{\"s\":\"café / \\\"q\\\" 😀\",\"x\":1,\"y\":2}\n",
        "a splice writes them as the tree does: minimal escapes"
    );
}

// ---------------------------------------------------------------- duplicate keys

#[test]
fn duplicate_keys_last_wins_when_read() {
    let line = "{\"a\":1,\"b\":0,\"a\":2}\n";
    assert_eq!(out("where a == 2", line), line, "matched, and written as it was");
    assert_eq!(out("where a == 1", line), "");
    assert_eq!(out("set c = a | keep c", line), "{\"c\":2}\n");
    assert_eq!(out("keep a", line), "{\"a\":2}\n");
    assert_eq!(out("set w = . | keep w", line), "{\"w\":{\"a\":2,\"b\":0}}\n");
    assert_eq!(out("set u.x = a | keep u", line), "{\"u\":{\"x\":2}}\n");
}

#[test]
fn duplicate_keys_in_nested_objects_last_wins() {
    let line = "{\"u\":{\"k\":1,\"k\":2}}\n";
    assert_eq!(out("set c = u.k | keep c", line), "{\"c\":2}\n");
    assert_eq!(out("where u.k == 2", line), line);
}

#[test]
fn setting_a_duplicate_key_is_read_back_as_the_new_value() {
    let text = out("set a = 5", "{\"a\":1,\"a\":2}\n");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["a"], 5, "{text}");
    assert_eq!(
        out("set a = 5 | where a == 5 | keep a", "{\"a\":1,\"a\":2}\n"),
        "{\"a\":5}\n"
    );
}

// ---------------------------------------------------------------- framing

#[test]
fn crlf_line_endings_are_removed() {
    assert_eq!(
        out("where true", "{\"a\":1}\r\n{\"a\": 2}\r\n"),
        "{\"a\":1}\n{\"a\": 2}\n"
    );
    assert_eq!(out("set b = a", "{\"a\":1}\r\n"), "{\"a\":1,\"b\":1}\n");
    assert_eq!(out("set u.b = a", "{\"a\":1}\r\n"), "{\"a\":1,\"u\":{\"b\":1}}\n");
}

#[test]
fn only_one_trailing_carriage_return_is_removed() {
    // The second `\r` is JSON whitespace inside the line, so it stays.
    assert_eq!(out("where true", "{\"a\":1}\r\r\n"), "{\"a\":1}\r\n");
}

#[test]
fn utf8_bom_at_the_start_is_removed() {
    let (stdout, stats) = stats_of("set l = line()", b"\xEF\xBB\xBF{\"a\":1}\n{\"a\":2}\n");
    assert_eq!(stdout, "{\"a\":1,\"l\":1}\n{\"a\":2,\"l\":2}\n");
    assert_eq!(stats["fates"]["emitted"], 2);
    assert_eq!(stats["fates"]["dead_letter"]["invalid_json"], 0);
    let r = run_bytes(&["where true"], b"\xEF\xBB\xBF{\"a\":1}\n");
    assert_eq!(r.stdout.as_bytes(), b"{\"a\":1}\n", "unmodified, but without the BOM");
}

#[test]
fn last_line_without_a_newline_is_a_normal_line() {
    assert_eq!(out("where true", "{\"a\":1}\n{\"a\":2}"), "{\"a\":1}\n{\"a\":2}\n");
    assert_eq!(
        out("set b = 1", "{\"a\":1}\n{\"a\":2}"),
        "{\"a\":1,\"b\":1}\n{\"a\":2,\"b\":1}\n"
    );
    assert_eq!(out("where true", "{\"a\":1}\r"), "{\"a\":1}\n");
}

#[test]
fn blank_and_whitespace_only_lines_are_skipped_and_counted() {
    let input = b"\n{\"a\":1}\n   \n\t\n\r\n \t \r\n{\"a\":2}\n\n";
    let (stdout, stats) = stats_of("where true", input);
    assert_eq!(stdout, "{\"a\":1}\n{\"a\":2}\n");
    assert_eq!(stats["lines_read"], 8);
    assert_eq!(stats["fates"]["blank"], 6);
    assert_eq!(stats["fates"]["emitted"], 2);
    assert_eq!(stats["fates"]["dead_letter"]["invalid_json"], 0);
}

#[test]
fn blank_lines_still_count_for_line_numbers() {
    assert_eq!(
        out("set l = line() | keep l", "\n{\"a\":1}\n  \n{\"a\":2}\n"),
        "{\"l\":2}\n{\"l\":4}\n"
    );
}

#[test]
fn bom_crlf_blank_lines_and_no_final_newline_together() {
    let input = b"\xEF\xBB\xBF{\"a\":1}\r\n\r\n  \r\n{\"a\":2}\r\n{\"a\":3}";
    let (stdout, stats) = stats_of("where a != 2", input);
    assert_eq!(stdout, "{\"a\":1}\n{\"a\":3}\n");
    assert_eq!(stats["lines_read"], 5);
    assert_eq!(stats["fates"]["blank"], 2);
    assert_eq!(stats["fates"]["filtered"], 1);
    assert_eq!(stats["fates"]["emitted"], 2);
}
