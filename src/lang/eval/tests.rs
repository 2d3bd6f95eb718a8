//! Evaluation tests: each expression is evaluated against an event indexed lazily (only
//! the fields it reads) and against the same event parsed in full; both must agree.

use super::*;
use crate::event::{Event, Needs, Origin};
use crate::lang::parse_expr;

/// `src` evaluated against the event `line`, as compact JSON text. Panics when the lazily
/// indexed event and the fully parsed one disagree.
pub(crate) fn eval_json(src: &str, line: &str) -> String {
    let expr = parse_expr(src).unwrap_or_else(|e| panic!("{}", e.render(src)));
    let mut lazy = Needs::default();
    expr.visit_paths(&mut |p| lazy.add_path(p));
    let whole = Needs::whole_event();
    let origin = Origin::line(0, 7, 42);
    let env = Env::default();
    let text = |needs: &Needs| {
        let ev = Event::parse(line, origin, needs).unwrap_or_else(|e| panic!("{line}: {e:?}"));
        let mut out = Vec::new();
        expr.eval(&ev, &env).write_json(&mut out);
        String::from_utf8(out).expect("JSON text is UTF-8")
    };
    let (a, b) = (text(&lazy), text(&whole));
    assert_eq!(a, b, "`{src}` on {line}: lazily indexed vs parsed in full");
    a
}

/// Checks each `(expression, event, expected JSON)` row, reporting every wrong one.
pub(crate) fn check_table(rows: &[(&str, &str, &str)]) {
    let wrong: Vec<String> = rows
        .iter()
        .filter_map(|(src, line, want)| {
            let got = eval_json(src, line);
            (got != *want).then(|| format!("`{src}` on {line}: want {want}, got {got}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

const EV: &str = r#"{"a":1,"b":2.5,"s":"hello","up":"ERROR here","n":null,"t":true,"tags":["x","y","z"],"o":{"p":{"q":"deep"},"k":[10,20]},"headers":{"user-agent":"curl"},"big":9007199254740993,"max":9223372036854775807}"#;

#[test]
fn paths_read_nested_keys_indexes_and_missing_fields_as_null() {
    check_table(&[
        ("a", EV, "1"),
        ("o.p.q", EV, r#""deep""#),
        ("o.k[1]", EV, "20"),
        ("o.k[-1]", EV, "20"),
        ("o.k[-3]", EV, "null"),
        ("tags[0]", EV, r#""x""#),
        ("tags[-1]", EV, r#""z""#),
        ("tags[3]", EV, "null"),
        (r#"headers["user-agent"]"#, EV, r#""curl""#),
        ("missing", EV, "null"),
        ("o.missing.deeper", EV, "null"),
        ("s.not_an_object", EV, "null"),
        ("tags.key", EV, "null"),
        ("n", EV, "null"),
        ("o.p", EV, r#"{"q":"deep"}"#),
        (".", r#"{"z":1,"a":[1.0]}"#, r#"{"z":1,"a":[1.0]}"#),
        ("a", "[1,2]", "null"),
        ("a", r#"{"a":1,"a":2}"#, "2"),
        ("s", r#"{"s":"tab\tand \u00e9"}"#, r#""tab\tand é""#),
    ]);
}

#[test]
fn comparisons_are_exact_and_false_between_types() {
    check_table(&[
        ("a == 1", EV, "true"),
        ("a == 1.0", EV, "true"),
        ("a == \"1\"", EV, "false"),
        ("a != \"1\"", EV, "true"),
        ("n == null", EV, "true"),
        ("missing == null", EV, "true"),
        ("missing != null", EV, "false"),
        ("b > a", EV, "true"),
        ("b <= 2.5", EV, "true"),
        ("a < \"2\"", EV, "false"),
        ("a >= null", EV, "false"),
        ("\"B\" < \"a\"", EV, "true"),
        ("\"é\" > \"z\"", EV, "true"),
        ("big > 9007199254740992", EV, "true"),
        ("big == 9007199254740992", EV, "false"),
        ("tags == [\"x\", \"y\", \"z\"]", EV, "true"),
        // Values of one other type order as sort orders them.
        ("o.k < [10, 30]", EV, "true"),
        ("o.k < [10]", EV, "false"),
        ("t == true", EV, "true"),
        ("t > false", EV, "true"),
        ("t > 0", EV, "false"),
    ]);
}

#[test]
fn arithmetic_is_exact_and_null_when_it_cannot_be_done() {
    check_table(&[
        ("a + 2", EV, "3"),
        ("a - 3", EV, "-2"),
        ("b * 2", EV, "5"),
        ("7 / 2", EV, "3.5"),
        ("6 / 3", EV, "2"),
        ("7 % 3", EV, "1"),
        ("-7 % 3", EV, "-1"),
        ("b % 1", EV, "0.5"),
        ("a / 0", EV, "null"),
        ("a % 0", EV, "null"),
        ("b / 0.0", EV, "null"),
        ("n + 1", EV, "null"),
        ("missing * 2", EV, "null"),
        ("s + 1", EV, "null"),
        ("s + \" world\"", EV, r#""hello world""#),
        ("tags + [1]", EV, r#"["x","y","z",1]"#),
        ("o + o", EV, "null"),
        ("t + 1", EV, "null"),
        ("max + 1", EV, "9223372036854775808"),
        ("big + 0", EV, "9007199254740993"),
        ("-a", EV, "-1"),
        ("-s", EV, "null"),
        ("1 + 2 * 3", EV, "7"),
        ("(1 + 2) * 3", EV, "9"),
        ("0.1 + 0.2", EV, "0.30000000000000004"),
    ]);
}

#[test]
fn logic_treats_only_null_and_false_as_false() {
    check_table(&[
        ("n or a", EV, "true"),
        ("missing or false", EV, "false"),
        ("a and 0", EV, "true"),
        ("a and \"\"", EV, "true"),
        ("a and n", EV, "false"),
        ("not n", EV, "true"),
        ("not 0", EV, "false"),
        ("!t", EV, "false"),
        ("n ?? missing ?? \"d\"", EV, r#""d""#),
        ("t ?? 1", EV, "true"),
        ("false ?? 1", EV, "false"),
        ("a == 1 or s == 1 and false", EV, "true"),
    ]);
}

#[test]
fn regex_matches_only_strings() {
    check_table(&[
        ("up =~ /error/i", EV, "true"),
        ("up =~ /error/", EV, "false"),
        ("up !~ /error/", EV, "true"),
        ("s =~ /^h.l+o$/", EV, "true"),
        ("a =~ /1/", EV, "false"),
        ("a !~ /1/", EV, "true"),
        ("missing =~ /.*/", EV, "false"),
        ("missing !~ /.*/", EV, "true"),
        ("s =~ \"ell\"", EV, "true"),
    ]);
}

#[test]
fn membership_looks_in_arrays_object_keys_and_strings() {
    check_table(&[
        ("\"y\" in tags", EV, "true"),
        ("\"w\" in tags", EV, "false"),
        ("\"w\" not in tags", EV, "true"),
        ("1 in [1.0, 2]", EV, "true"),
        ("\"1\" in [1]", EV, "false"),
        ("\"p\" in o", EV, "true"),
        ("\"q\" in o", EV, "false"),
        ("\"ell\" in s", EV, "true"),
        ("1 in \"1\"", EV, "false"),
        ("a in missing", EV, "false"),
        ("a not in missing", EV, "true"),
    ]);
}

#[test]
fn arrays_of_expressions_hold_their_values() {
    check_table(&[
        ("[a, s, missing]", EV, r#"[1,"hello",null]"#),
        ("[]", EV, "[]"),
        ("[[a]]", EV, "[[1]]"),
    ]);
}

#[test]
fn the_env_names_inputs_and_their_years_with_defaults_past_the_end() {
    let env = Env {
        files: Arc::new(vec!["a.log".to_string()]),
        years: Arc::new(vec![Year::fixed(2024)]),
        ..Env::default()
    };
    assert_eq!((env.file_name(0), env.file_name(1)), ("a.log", "-"));
    assert_eq!((env.year(0), env.year(1)), (Year::fixed(2024), Year::fixed(1970)));
    let s = Subjects::default();
    s.insert(3, "orders.eu");
    assert_eq!(s.get(3).as_deref(), Some("orders.eu"));
    s.remove(3);
    assert_eq!(s.get(3), None);
}

/// A value deeper than an input line may be is built as it is: where it would be written,
/// `set` makes its event a dead letter (`too_deep`), never a silent null.
#[test]
fn an_array_deeper_than_an_input_line_is_built_whole() {
    let levels = crate::json::MAX_DEPTH + 5;
    let nest = (1..levels).fold(serde_json::json!([]), |v, _| serde_json::json!([v]));
    let built = array(vec![serde_json::json!(1), nest.clone()]).into_value();
    assert_eq!(built, serde_json::json!([1, nest]));
}

#[test]
fn a_value_built_longer_than_an_event_may_be_is_null() {
    let env = Env {
        max_bytes: MaxBytes(30),
        ..Env::default()
    };
    let line = r#"{"s":"0123456789","a":[1,2,3,4,5,6,7,8]}"#;
    let whole = Needs::whole_event();
    let ev = Event::parse(line, Origin::default(), &whole).expect("a valid line");
    let eval = |src: &str| {
        let expr = parse_expr(src).unwrap_or_else(|e| panic!("{}", e.render(src)));
        let mut out = Vec::new();
        expr.eval(&ev, &env).write_json(&mut out);
        String::from_utf8(out).expect("JSON text is UTF-8")
    };
    assert_eq!(eval("[s, s]"), r#"["0123456789","0123456789"]"#);
    assert_eq!(eval("s + s"), r#""01234567890123456789""#);
    for too_long in ["[s, s, s]", "{a: a, b: a, c: a}", "a + a + a", "s + s + s", "[.]"] {
        assert_eq!(eval(too_long), "null", "{too_long}");
    }
    // Arrays a function makes element by element stop at the limit, not after it.
    assert_eq!(eval(r#"split(s, "5")"#), r#"["01234","6789"]"#);
    assert_eq!(eval("map(a, x => x * 10)"), "[10,20,30,40,50,60,70,80]");
    for too_long in [
        r#"map(split(s, ""), c => split(s, ""))"#,
        r#"split(s + s, "")"#,
        "split(s + s, /(?:)/)",
        "map(a, x => [x, x])",
    ] {
        assert_eq!(eval(too_long), "null", "{too_long}");
    }
}
