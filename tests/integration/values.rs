//! Values through the binary: equality, ordering and membership over every pair of JSON
//! types, exact comparison of numbers f64 cannot hold, and exact rounding.

use crate::common::run;

/// The JSON text evq writes for `EXPR` evaluated against `event`.
fn val(expr: &str, event: &str) -> String {
    let r = run(&[&format!("set r = {expr} | keep r")], &format!("{event}\n"));
    assert_eq!(r.code, 0, "`{expr}` failed: {}", r.stderr);
    let line = r.stdout.strip_suffix('\n').unwrap_or(&r.stdout);
    line.strip_prefix(r#"{"r":"#)
        .and_then(|l| l.strip_suffix('}'))
        .unwrap_or_else(|| panic!("unexpected output for `{expr}`: {line}"))
        .to_string()
}

/// Whether `where COND` lets `event` through; evq must neither crash nor fail.
fn passes(cond: &str, event: &str) -> bool {
    let r = run(&[&format!("where {cond}")], &format!("{event}\n"));
    assert_eq!(r.code, 0, "`{cond}` failed ({}): {}", r.code, r.stderr);
    !r.stdout.is_empty()
}

const MIXED: &str =
    r#"{"a":[1],"o":{},"user":{"id":1},"tags":["x"],"b":[1,{"k":[2]}],"n":null,"s":"1","ko":{"k":[2.0]}}"#;

#[test]
fn equality_between_arrays_and_objects_is_false_not_a_crash() {
    assert!(!passes("a == o", MIXED));
    assert!(!passes("o == a", MIXED));
    assert!(passes("user != tags", MIXED));
    assert!(!passes("o == []", MIXED));
    assert!(!passes("o == a", r#"{"a":[],"o":{}}"#));
    assert!(!passes("o in [[1]]", MIXED));
    assert!(passes("a in [[1]]", MIXED));
    assert!(!passes("contains(b, o)", MIXED));
    assert!(passes("contains(b, ko)", MIXED));
}

#[test]
fn every_pair_of_types_compares_without_crashing() {
    let fields = ["a", "o", "user", "tags", "b", "n", "s", "1", "1.5", "true", "[]", "[o]"];
    let (mut exprs, mut want) = (Vec::new(), Vec::new());
    for x in fields {
        for y in fields {
            exprs.push(format!("{x} == {y}, {x} != {y}, {x} in [{y}], contains([{y}], {x})"));
            want.push(format!("{0},{1},{0},{0}", x == y, x != y));
        }
    }
    let got = val(&format!("[{}]", exprs.join(", ")), MIXED);
    assert_eq!(got, format!("[{}]", want.join(",")));
}

#[test]
fn sort_orders_by_type_then_by_value_element_by_element() {
    let input = r#"{"x":{"b":1}}
{"x":[2]}
{"x":"s"}
{"x":1.0}
{"x":[1,{"a":[]}]}
{"x":null}
{"x":1}
{"x":true}
{"x":{"a":2}}
{"x":[10]}
{"x":[9]}
{"x":{"b":0,"a":1}}
"#;
    let r = run(&["sort x | keep x"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let want = [
        "null",
        "true",
        "1.0",
        "1",
        r#""s""#,
        r#"[1,{"a":[]}]"#,
        "[2]",
        "[9]",
        "[10]",
        r#"{"b":0,"a":1}"#,
        r#"{"a":2}"#,
        r#"{"b":1}"#,
    ];
    let got: Vec<&str> = r.stdout.lines().map(|l| &l[5..l.len() - 1]).collect();
    assert_eq!(got, want);
}

#[test]
fn numbers_beyond_f64_compare_exactly() {
    assert!(passes("x > 9007199254740992", r#"{"x":9007199254740993.0}"#));
    assert!(passes("x < 0", r#"{"x":-1e-400}"#));
    assert!(passes("x > 0", r#"{"x":1e-400}"#));
    assert!(passes("x > 1e399", r#"{"x":1e400}"#));
    assert!(!passes("status == 1e-400", r#"{"status":0}"#));
    assert!(passes("x == 1", r#"{"x":1.000}"#));
    assert!(passes("x == 100", r#"{"x":1e2}"#));
    assert!(!passes("x == y", r#"{"x":1e400,"y":1e401}"#));
}

#[test]
fn min_and_max_pick_the_exact_extreme() {
    let ev = r#"{"a":-0.0,"b":-1e-400,"c":1e400,"d":1e399}"#;
    assert_eq!(val("min(a, b)", ev), "-1e-400");
    assert_eq!(val("max(a, b)", ev), "-0.0");
    assert_eq!(val("max(d, c)", ev), "1e400");
    assert_eq!(val("min([c, d])", ev), "1e399");
}

#[test]
fn int_and_rounding_keep_values_f64_cannot_hold() {
    assert_eq!(val("int(9007199254740993.0)", "{}"), "9007199254740993");
    assert_eq!(val("int(x)", r#"{"x":-9007199254740993.9}"#), "-9007199254740993");
    assert_eq!(val(r#"int("1e400")"#, "{}"), "1e400");
    assert_eq!(val("round(1e400)", "{}"), "1e400");
    assert_eq!(val("round(x)", r#"{"x":9007199254740993.5}"#), "9007199254740994");
    assert_eq!(val("floor(x)", r#"{"x":-1e400}"#), "-1e400");
    assert_eq!(val("ceil(x)", r#"{"x":1e-400}"#), "1");
    assert_eq!(val("abs(x)", r#"{"x":-1e400}"#), "1e400");
    assert_eq!(val("-x", r#"{"x":1e400}"#), "-1e400");
    assert_eq!(val("round(x, 2)", r#"{"x":2.675}"#), "2.68");
}

#[test]
fn round_with_negative_digits_rounds_to_tens_and_hundreds() {
    assert_eq!(val("round(7, -1)", "{}"), "10");
    assert_eq!(val("round(-15, -1)", "{}"), "-20");
    assert_eq!(val("round(1249, -2)", "{}"), "1200");
    assert_eq!(val("round(1250.5, -2)", "{}"), "1300");
    assert_eq!(val("round(4, -1)", "{}"), "0");
    assert_eq!(
        val("round(x, -1)", r#"{"x":18446744073709551615}"#),
        "18446744073709551620"
    );
}

#[test]
fn computed_values_that_cannot_print_are_null() {
    assert_eq!(val(r#"float("1e400")"#, "{}"), "null");
    assert_eq!(val(r#"float("nan")"#, "{}"), "null");
}

/// `{"a":` then `levels - 1` nested arrays: `levels` levels in all.
fn deep_event(levels: usize) -> String {
    format!(r#"{{"a":{}{}}}"#, "[".repeat(levels - 1), "]".repeat(levels - 1))
}

#[test]
fn deeply_nested_values_compare_and_sort() {
    let ev = deep_event(127);
    assert!(passes("a == a", &ev));
    assert!(passes("a != [a]", &ev));
    let r = run(&["sort a | count by a"], &format!("{ev}\n{ev}\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn arrays_built_deeper_than_an_input_line_may_be_are_dead_letters_when_set() {
    let ev = deep_event(127);
    assert_eq!(val("type([[a]])", &ev), r#""array""#);
    let r = run(&["set r = [[a]]"], &format!("{ev}\n"));
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    assert!(r.stderr.contains("too_deep"), "{}", r.stderr);
}

#[test]
fn number_literals_with_leading_zeros_are_written_as_json() {
    let r = run(&["set r = 007, s = 00.5"], "{}\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"r\":7,\"s\":0.5}\n");
}
