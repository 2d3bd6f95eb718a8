//! Tests of the expression language through the binary: paths, literals,
//! precedence, total semantics, exact big integers, every function, and pipeline
//! errors (which come before any input is read).

use crate::common::run;
use serde_json::{Value, json};

/// The JSON text evq writes for `EXPR` evaluated against `event`.
fn val(expr: &str, event: &str) -> String {
    let r = run(&[&format!("set r = {expr} | keep r")], &format!("{event}\n"));
    assert_eq!(r.code, 0, "`{expr}` failed: {}", r.stderr);
    let line = r
        .stdout
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("one line for `{expr}`: {:?}", r.stdout));
    line.strip_prefix(r#"{"r":"#)
        .and_then(|l| l.strip_suffix('}'))
        .unwrap_or_else(|| panic!("unexpected output for `{expr}`: {line}"))
        .to_string()
}

/// The value of `EXPR`, parsed (for strings with escapes, arrays and objects).
fn json_val(expr: &str, event: &str) -> Value {
    serde_json::from_str(&val(expr, event)).expect("evq writes JSON")
}

/// Whether `where COND` lets `event` through.
fn passes(cond: &str, event: &str) -> bool {
    let r = run(&[&format!("where {cond}")], &format!("{event}\n"));
    assert_eq!(r.code, 0, "`{cond}` failed: {}", r.stderr);
    match r.stdout.as_str() {
        "" => false,
        out => {
            assert_eq!(out, format!("{event}\n"), "a passing event keeps its bytes");
            true
        }
    }
}

/// The stderr of a pipeline that must be rejected before any input is read: it is
/// given a path that does not exist, and the error must be about the pipeline.
fn pipeline_error(pipeline: &str) -> String {
    let r = run(&[pipeline, "/nonexistent/evq-input.ndjson"], "");
    assert_eq!(r.code, 2, "`{pipeline}` should be a usage error: {}", r.stderr);
    assert_eq!(r.stdout, "", "nothing on stdout for `{pipeline}`");
    assert!(r.stderr.contains("pipeline error"), "{}", r.stderr);
    assert!(!r.stderr.contains("nonexistent"), "the input was opened: {}", r.stderr);
    r.stderr
}

// ---------------------------------------------------------------- paths

#[test]
fn dotted_path_reads_nested_fields() {
    let ev = r#"{"user":{"id":7,"geo":{"cc":"DE"}}}"#;
    assert_eq!(val("user.id", ev), "7");
    assert_eq!(val("user.geo.cc", ev), r#""DE""#);
    assert_eq!(val("user.geo", ev), r#"{"cc":"DE"}"#);
}

#[test]
fn index_paths_count_from_the_start_and_from_the_end() {
    let ev = r#"{"tags":["a","b","c"]}"#;
    assert_eq!(val("tags[0]", ev), r#""a""#);
    assert_eq!(val("tags[2]", ev), r#""c""#);
    assert_eq!(val("tags[-1]", ev), r#""c""#);
    assert_eq!(val("tags[-3]", ev), r#""a""#);
    assert_eq!(val("tags[3]", ev), "null");
    assert_eq!(val("tags[-4]", ev), "null");
    assert_eq!(val("tags[99999999999999999999]", ev), "null");
    assert_eq!(val("tags[-99999999999999999999]", ev), "null");
}

#[test]
fn indexes_and_keys_chain() {
    let ev = r#"{"rows":[{"v":[10,20]},{"v":[30,40]}]}"#;
    assert_eq!(val("rows[1].v[-1]", ev), "40");
    assert_eq!(val("rows[0].v[0] + rows[-1].v[0]", ev), "40");
}

#[test]
fn quoted_index_reads_keys_with_dashes() {
    let ev = r#"{"headers":{"user-agent":"curl/8","x":1}}"#;
    assert_eq!(val(r#"headers["user-agent"]"#, ev), r#""curl/8""#);
    assert_eq!(val(r#"headers["x"]"#, ev), "1");
}

#[test]
fn backticks_read_flat_keys_with_dots_not_nested_ones() {
    let ev = r#"{"id.orig_h":"10.0.0.1","id":{"orig_h":"nested"}}"#;
    assert_eq!(val("`id.orig_h`", ev), r#""10.0.0.1""#);
    assert_eq!(val("id.orig_h", ev), r#""nested""#);
    assert!(passes(r#"`id.orig_h` == "10.0.0.1""#, ev));
}

#[test]
fn backticks_quote_spaces_dashes_and_reserved_words_at_any_depth() {
    let ev = r#"{"the key":1,"a-b":2,"in":3,"u":{"x.y":4}}"#;
    assert_eq!(val("`the key`", ev), "1");
    assert_eq!(val("`a-b`", ev), "2");
    assert_eq!(val("`in`", ev), "3");
    assert_eq!(val("u.`x.y`", ev), "4");
}

#[test]
fn at_sign_may_start_a_key() {
    assert_eq!(val("@timestamp", r#"{"@timestamp":"T","timestamp":"U"}"#), r#""T""#);
}

#[test]
fn dot_is_the_whole_event() {
    assert_eq!(val(".", r#"{"a":1,"b":[2]}"#), r#"{"a":1,"b":[2]}"#);
    assert_eq!(val("type(.)", r#"{"a":1}"#), r#""object""#);
    assert_eq!(val(".a", r#"{"a":1}"#), "1");
}

#[test]
fn a_path_through_a_non_object_is_null() {
    let ev = r#"{"a":5,"s":"str","tags":[1]}"#;
    assert_eq!(val("a.b", ev), "null");
    assert_eq!(val("s[0]", ev), "null");
    assert_eq!(val("tags.x", ev), "null");
    assert_eq!(val("nope.deeper[3]", ev), "null");
}

// ---------------------------------------------------------------- literals

#[test]
fn string_literals_use_json_escapes() {
    assert_eq!(json_val(r#""a\"b\\c\n\u00e9\t\/""#, "{}"), json!("a\"b\\c\né\t/"));
    assert_eq!(json_val(r#""\ud83d\ude00""#, "{}"), json!("😀"));
    assert_eq!(val(r#""""#, "{}"), r#""""#);
}

#[test]
fn number_literals_keep_their_text_and_compare_by_value() {
    assert_eq!(val("1.50", "{}"), "1.50");
    assert_eq!(val("1.5e3", "{}"), "1.5e3");
    assert_eq!(val("-7", "{}"), "-7");
    assert!(passes("1.5e3 == 1500", "{}"));
    assert!(passes("0.5 < 1", "{}"));
}

#[test]
fn boolean_null_and_array_literals() {
    assert_eq!(val("true", "{}"), "true");
    assert_eq!(val("false", "{}"), "false");
    assert_eq!(val("null", "{}"), "null");
    assert_eq!(
        val(r#"[1, "a", null, true, [2, []]]"#, "{}"),
        r#"[1,"a",null,true,[2,[]]]"#
    );
    assert_eq!(val("[]", "{}"), "[]");
    assert_eq!(val("[a, a + 1]", r#"{"a":1}"#), "[1,2]");
}

#[test]
fn durations_are_seconds() {
    assert_eq!(
        val("[250ms, 30s, 5m, 1h, 1d, 1w]", "{}"),
        "[0.25,30,300,3600,86400,604800]"
    );
    assert_eq!(val("1.5h", "{}"), "5400");
    assert!(passes("age > 5m", r#"{"age":301}"#));
    assert!(!passes("age > 5m", r#"{"age":300}"#));
}

#[test]
fn regex_flag_i_ignores_case() {
    let ev = r#"{"x":"ABC"}"#;
    assert!(passes("x =~ /abc/i", ev));
    assert!(!passes("x =~ /abc/", ev));
}

#[test]
fn regex_flag_m_makes_anchors_match_at_lines() {
    let ev = r#"{"x":"a\nb"}"#;
    assert!(passes("x =~ /^b$/m", ev));
    assert!(!passes("x =~ /^b$/", ev));
}

#[test]
fn regex_flag_s_lets_dot_match_newline() {
    let ev = r#"{"x":"a\nb"}"#;
    assert!(passes("x =~ /a.b/s", ev));
    assert!(!passes("x =~ /a.b/", ev));
}

#[test]
fn regex_flag_x_ignores_whitespace_in_the_pattern() {
    let ev = r#"{"x":"ab"}"#;
    assert!(passes("x =~ /a b/x", ev));
    assert!(!passes("x =~ /a b/", ev));
}

#[test]
fn regex_flags_combine_and_slash_is_escaped() {
    assert!(passes(r"x =~ /^B.c$/ism", r#"{"x":"z\nb\nc"}"#));
    assert!(passes(r"path =~ /^\/api\/v\d+/", r#"{"path":"/api/v2/users"}"#));
    assert!(passes(r"status =~ /5\d\d/", r#"{"status":"503"}"#));
}

#[test]
fn a_string_on_the_right_of_a_match_is_a_regex() {
    assert!(passes(r#"x =~ "^a.c$""#, r#"{"x":"abc"}"#));
    assert!(!passes(r#"x !~ "^a.c$""#, r#"{"x":"abc"}"#));
}

// ---------------------------------------------------------------- precedence

#[test]
fn not_binds_looser_than_comparison_and_tighter_than_or() {
    // (not (a == 1)) or b
    assert_eq!(val("not a == 1 or b", r#"{"a":1,"b":true}"#), "true");
    assert_eq!(val("not a == 1 or b", r#"{"a":1,"b":false}"#), "false");
    // not (a == 1), not ((not a) == 1)
    assert_eq!(val("not a == 1", r#"{"a":2}"#), "true");
    assert_eq!(val("! a == 1 || b", r#"{"a":1,"b":true}"#), "true");
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(val("a or b and c", r#"{"a":true,"b":false,"c":false}"#), "true");
    assert_eq!(val("(a or b) and c", r#"{"a":true,"b":false,"c":false}"#), "false");
    assert_eq!(val("a || b && c", r#"{"a":true,"b":false,"c":false}"#), "true");
}

#[test]
fn coalesce_binds_looser_than_comparison() {
    // a ?? (b == 5): a is not null, so a
    assert_eq!(val("a ?? b == 5", r#"{"a":3,"b":5}"#), "3");
    assert_eq!(val("a ?? b == 5", r#"{"a":null,"b":5}"#), "true");
}

#[test]
fn coalesce_binds_tighter_than_not() {
    // not (a ?? b), not ((not a) ?? b)
    assert_eq!(val("not a ?? b", r#"{"a":null,"b":true}"#), "false");
}

#[test]
fn coalesce_takes_the_first_non_null_and_keeps_false() {
    assert_eq!(val("a ?? b ?? 3", r#"{"a":null}"#), "3");
    assert_eq!(val("a ?? 1", r#"{"a":false}"#), "false");
    assert_eq!(val("a ?? 1", r#"{"a":0}"#), "0");
    assert_eq!(val("missing ?? \"d\"", "{}"), r#""d""#);
}

#[test]
fn arithmetic_precedence_and_left_associativity() {
    assert_eq!(val("1 + 2 * 3", "{}"), "7");
    assert_eq!(val("(1 + 2) * 3", "{}"), "9");
    assert_eq!(val("10 - 4 - 3", "{}"), "3");
    assert_eq!(val("2 * 3 % 4", "{}"), "2");
    assert_eq!(val("2 + 7 % 4", "{}"), "5");
    assert_eq!(val("24 / 4 / 2", "{}"), "3");
}

#[test]
fn unary_minus_binds_tightest() {
    assert_eq!(val("-2 * 3", "{}"), "-6");
    assert_eq!(val("2 - -3", "{}"), "5");
    assert_eq!(val("- -3", "{}"), "3");
    assert_eq!(val("-x + 1", r#"{"x":4}"#), "-3");
}

#[test]
fn comparison_operands_are_arithmetic() {
    assert!(passes("a + 1 > 2 * 1", r#"{"a":2}"#));
    assert!(!passes("a + 1 > 2 * 2", r#"{"a":2}"#));
}

#[test]
fn in_and_not_in_test_arrays_substrings_and_object_keys() {
    let ev = r#"{"s":"b","o":{"k":1},"list":["a","b"]}"#;
    assert_eq!(val(r#"s in ["a", "b"]"#, ev), "true");
    assert_eq!(val("s in list", ev), "true");
    assert_eq!(val(r#"s not in ["a", "b"]"#, ev), "false");
    assert_eq!(val(r#""x" not in list"#, ev), "true");
    assert_eq!(val(r#""ell" in "hello""#, ev), "true");
    assert_eq!(val(r#""k" in o"#, ev), "true");
    assert_eq!(val(r#""z" in o"#, ev), "false");
    assert_eq!(val("1 in [1.0, 2]", ev), "true");
    assert_eq!(val("3 in 3", ev), "false");
    // `not` before `in`: (not (s in list)) == (s not in list)
    assert_eq!(val("not s in list", ev), "false");
}

// ---------------------------------------------------------------- total semantics

#[test]
fn a_missing_field_is_null_but_does_not_exist() {
    let ev = r#"{"x":null}"#;
    assert_eq!(val("missing", ev), "null");
    assert!(passes("missing == null", ev));
    assert!(passes("x == null", ev));
    assert_eq!(val("exists(missing)", ev), "false");
    assert_eq!(val("exists(x)", ev), "true");
}

#[test]
fn comparisons_between_types_are_false_except_not_equal() {
    let ev = r#"{"s":"1","n":1,"b":true}"#;
    assert_eq!(val("s == n", ev), "false");
    assert_eq!(val("s != n", ev), "true");
    assert_eq!(val("s < n", ev), "false");
    assert_eq!(val("s >= n", ev), "false");
    assert_eq!(val("b == 1", ev), "false");
    assert_eq!(val("null < 1", ev), "false");
    assert_eq!(val("null == false", ev), "false");
    assert_eq!(val("[1] == 1", ev), "false");
    assert_eq!(val("[1] != 1", ev), "true");
}

#[test]
fn numbers_compare_numerically_and_strings_by_bytes() {
    assert_eq!(val("2 < 10", "{}"), "true");
    assert_eq!(val(r#""2" < "10""#, "{}"), "false");
    assert_eq!(val(r#""B" < "a""#, "{}"), "true");
    assert_eq!(val(r#""é" > "z""#, "{}"), "true");
    assert!(passes("n == 1", r#"{"n":1.0}"#));
    assert!(passes("n == 100", r#"{"n":1e2}"#));
    assert_eq!(val("[1, 2] == [1.0, 2]", "{}"), "true");
}

#[test]
fn booleans_arrays_and_objects_order_as_sort_orders_them() {
    let ev = r#"{"a":[1,2],"b":[1,3],"t":true,"o":{"k":1}}"#;
    assert_eq!(val("a < b", ev), "true");
    assert_eq!(val("b <= a", ev), "false");
    assert_eq!(val("a < [5]", ev), "true");
    assert_eq!(val("t > false", ev), "true");
    assert_eq!(val("o >= {k: 1}", ev), "true");
    assert_eq!(val("a < t", ev), "false");
    // sort agrees: the smaller one comes first.
    assert_eq!(val("sort([b, a])[0] == a", ev), "true");
}

#[test]
fn arithmetic_with_null_or_non_numbers_is_null() {
    let ev = r#"{"s":"a"}"#;
    assert_eq!(val("missing + 1", ev), "null");
    assert_eq!(val("null * 2", ev), "null");
    assert_eq!(val("s + 1", ev), "null");
    assert_eq!(val("true + 1", ev), "null");
    assert_eq!(val("-s", ev), "null");
}

#[test]
fn plus_concatenates_strings_and_arrays() {
    assert_eq!(val(r#""a" + "b""#, "{}"), r#""ab""#);
    assert_eq!(val("[1] + [2, 3]", "{}"), "[1,2,3]");
}

#[test]
fn division_and_remainder_by_zero_are_null() {
    assert_eq!(val("1 / 0", "{}"), "null");
    assert_eq!(val("1 / 0.0", "{}"), "null");
    assert_eq!(val("0 / 0", "{}"), "null");
    assert_eq!(val("5 % 0", "{}"), "null");
    assert_eq!(val("x / y", r#"{"x":3,"y":0}"#), "null");
}

#[test]
fn division_is_exact_when_it_can_be() {
    assert_eq!(val("6 / 3", "{}"), "2");
    assert_eq!(val("7 / 2", "{}"), "3.5");
    assert_eq!(val("-7 % 3", "{}"), "-1");
    assert_eq!(val("7.5 % 2", "{}"), "1.5");
}

#[test]
fn regex_match_on_a_non_string_is_false() {
    let ev = r#"{"n":503,"a":["503"]}"#;
    assert!(!passes(r"n =~ /5\d\d/", ev));
    assert!(!passes(r"a =~ /5/", ev));
    assert!(!passes(r"missing =~ /.*/", ev));
    assert!(passes(r"n !~ /5\d\d/", ev));
}

#[test]
fn where_keeps_everything_but_false_and_null() {
    // jq's truthiness: 0 and "" are true.
    let input = "{\"v\":0}\n{\"v\":\"\"}\n{\"v\":false}\n{\"v\":null}\n{}\n{\"v\":[]}\n";
    let r = run(&["where v"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "{\"v\":0}\n{\"v\":\"\"}\n{\"v\":[]}\n");
}

#[test]
fn arithmetic_overflow_never_crashes() {
    let min = "-170141183460469231731687303715884105728"; // i128::MIN
    let ev = format!(r#"{{"n":{min}}}"#);
    for expr in ["n / -1", "n % -1", "-n", "abs(n)", "n - 1", "n * 2"] {
        let r = run(&[&format!("set r = {expr}")], &format!("{ev}\n"));
        assert_eq!(r.code, 0, "`{expr}`: {}", r.stderr);
        assert!(r.stdout.starts_with(&ev[..ev.len() - 1]), "`{expr}`: {}", r.stdout);
    }
    assert_eq!(val("n % -1", &ev), "0");
}

#[test]
fn integer_results_beyond_i64_stay_exact() {
    assert_eq!(val("9223372036854775807 + 1", "{}"), "9223372036854775808");
    assert_eq!(val("n + 1", r#"{"n":18446744073709551615}"#), "18446744073709551616");
    assert_eq!(val("-n", r#"{"n":-9223372036854775808}"#), "9223372036854775808");
}

// ---------------------------------------------------------------- big integers

#[test]
fn integers_beyond_2_pow_53_compare_exactly() {
    let ev = r#"{"n":9007199254740993}"#;
    assert!(!passes("n == 9007199254740992", ev));
    assert!(passes("n != 9007199254740992", ev));
    assert!(passes("n > 9007199254740992", ev));
    assert!(passes("n == 9007199254740993", ev));
    assert!(!passes("n < 9007199254740993", ev));
    assert_eq!(val("n + 1", ev), "9007199254740994");
    assert_eq!(val("n - 1", ev), "9007199254740992");
}

#[test]
fn u64_max_compares_exactly() {
    let ev = r#"{"n":18446744073709551615}"#;
    assert!(passes("n == 18446744073709551615", ev));
    assert!(!passes("n == 18446744073709551614", ev));
    assert!(passes("n > 18446744073709551614", ev));
    // 1.8446744073709552e19 is exactly 2^64, one more than n.
    assert!(passes("n < 1.8446744073709552e19", ev));
    assert!(!passes("n == 1.8446744073709552e19", ev));
}

#[test]
fn big_integers_compare_exactly_between_fields() {
    let input = concat!(
        "{\"a\":9007199254740993,\"b\":9007199254740992}\n",
        "{\"a\":9007199254740993,\"b\":9007199254740993}\n",
    );
    let r = run(&["where a == b"], input);
    assert_eq!(r.stdout, "{\"a\":9007199254740993,\"b\":9007199254740993}\n");
}

// ---------------------------------------------------------------- functions: text

#[test]
fn len_counts_characters_elements_and_keys() {
    let ev = r#"{"s":"héllo","a":[1,2,3],"o":{"x":1,"y":2},"n":5}"#;
    assert_eq!(val("len(s)", ev), "5");
    assert_eq!(val("len(a)", ev), "3");
    assert_eq!(val("len(o)", ev), "2");
    assert_eq!(val("len(n)", ev), "null");
    assert_eq!(val("len(missing)", ev), "null");
}

#[test]
fn lower_upper_and_trim_handle_unicode() {
    assert_eq!(json_val(r#"lower("HéLLo")"#, "{}"), json!("héllo"));
    assert_eq!(json_val(r#"upper("héllo")"#, "{}"), json!("HÉLLO"));
    assert_eq!(json_val("trim(s)", r#"{"s":"  x y \t"}"#), json!("x y"));
    assert_eq!(val("upper(5)", "{}"), "null");
}

#[test]
fn contains_startswith_endswith() {
    let ev = r#"{"s":"hello","a":[1,2],"o":{"k":1}}"#;
    assert_eq!(val(r#"contains(s, "ell")"#, ev), "true");
    assert_eq!(val(r#"contains(s, "z")"#, ev), "false");
    assert_eq!(val("contains(a, 2)", ev), "true");
    assert_eq!(val(r#"contains(o, "k")"#, ev), "true");
    assert_eq!(val(r#"startswith(s, "he")"#, ev), "true");
    assert_eq!(val(r#"startswith(s, "lo")"#, ev), "false");
    assert_eq!(val(r#"endswith(s, "lo")"#, ev), "true");
    assert_eq!(val(r#"endswith(s, "LO")"#, ev), "false");
}

#[test]
fn replace_takes_a_string_or_a_regex() {
    assert_eq!(val(r#"replace("hello", "l", "L")"#, "{}"), r#""heLLo""#);
    assert_eq!(val(r#"replace("hello", /l+/, "_")"#, "{}"), r#""he_o""#);
    assert_eq!(val(r#"replace("a-b", /(\w)-(\w)/, "$2-$1")"#, "{}"), r#""b-a""#);
}

#[test]
fn split_takes_a_string_or_a_regex() {
    assert_eq!(val(r#"split("a,b,,c", ",")"#, "{}"), r#"["a","b","","c"]"#);
    assert_eq!(val(r#"split("a1b22c", /\d+/)"#, "{}"), r#"["a","b","c"]"#);
    assert_eq!(val(r#"split("abc", "")"#, "{}"), r#"["a","b","c"]"#);
    assert_eq!(val(r#"split(5, ",")"#, "{}"), "null");
}

#[test]
fn join_writes_elements_as_text() {
    assert_eq!(val(r#"join(["a", 1, true], "-")"#, "{}"), r#""a-1-true""#);
    assert_eq!(val(r#"join(split("a b c", " "), "+")"#, "{}"), r#""a+b+c""#);
    assert_eq!(val(r#"join("abc", ",")"#, "{}"), "null");
}

#[test]
fn substr_counts_characters_and_clamps() {
    let ev = r#"{"s":"héllo"}"#;
    assert_eq!(json_val("substr(s, 1, 3)", ev), json!("éll"));
    assert_eq!(val("substr(s, -2)", ev), r#""lo""#);
    assert_eq!(json_val("substr(s, 1, 100)", ev), json!("éllo"));
    assert_eq!(json_val("substr(s, -100, 2)", ev), json!("hé"));
    assert_eq!(val("substr(s, 10)", ev), r#""""#);
}

#[test]
fn bounds_and_counts_past_any_integer_range_are_clamped_and_whole_floats_count() {
    let ev = r#"{"s":"a-b-c","a":[1,2,3]}"#;
    assert_eq!(val("s[9223372036854775808:]", ev), r#""""#);
    assert_eq!(val("a[:9223372036854775808]", ev), "[1,2,3]");
    assert_eq!(val("a[-1e30:]", ev), "[1,2,3]");
    assert_eq!(val("substr(s, 0, 1e20)", ev), r#""a-b-c""#);
    assert_eq!(val("substr(s, 1.0, 2)", ev), r#""-b""#);
    assert_eq!(val("substr(s, 1.5)", ev), "null");
    assert_eq!(val("round(1.2345, 2.0)", ev), "1.23");
    assert_eq!(val(r#"pad_left("x", 3.0)"#, ev), r#""  x""#);
}

// ---------------------------------------------------------------- functions: numbers

#[test]
fn str_writes_values_as_text_keeping_number_text() {
    let ev = r#"{"f":1.50,"b":true}"#;
    assert_eq!(val("str(f)", ev), r#""1.50""#);
    assert_eq!(val("str(b)", ev), r#""true""#);
    assert_eq!(val("str(42)", ev), r#""42""#);
    assert_eq!(val(r#"str("s")"#, ev), r#""s""#);
    assert_eq!(json_val(r#"str([1, "a"])"#, ev), json!("[1,\"a\"]"));
}

#[test]
fn int_truncates_and_parses_text() {
    assert_eq!(val(r#"int("42")"#, "{}"), "42");
    assert_eq!(val(r#"int(" 42 ")"#, "{}"), "42");
    assert_eq!(val("int(3.9)", "{}"), "3");
    assert_eq!(val("int(-3.9)", "{}"), "-3");
    assert_eq!(val("int(true)", "{}"), "1");
    assert_eq!(val(r#"int("x")"#, "{}"), "null");
    assert_eq!(val(r#"int("9007199254740993")"#, "{}"), "9007199254740993");
}

#[test]
fn float_parses_text() {
    assert_eq!(val(r#"float("2.5")"#, "{}"), "2.5");
    assert_eq!(val("float(1) / 4", "{}"), "0.25");
    assert_eq!(val(r#"float("x")"#, "{}"), "null");
}

#[test]
fn round_floor_ceil_abs() {
    assert_eq!(val("round(2.5)", "{}"), "3");
    assert_eq!(val("round(-2.5)", "{}"), "-3");
    assert_eq!(val("round(2.4)", "{}"), "2");
    assert_eq!(val("round(3.14159, 2)", "{}"), "3.14");
    assert_eq!(val("round(7)", "{}"), "7");
    assert_eq!(val("floor(-1.5)", "{}"), "-2");
    assert_eq!(val("floor(1.9)", "{}"), "1");
    assert_eq!(val("ceil(1.2)", "{}"), "2");
    assert_eq!(val("ceil(-1.2)", "{}"), "-1");
    assert_eq!(val("abs(-3)", "{}"), "3");
    assert_eq!(val("abs(-1.5)", "{}"), "1.5");
    assert_eq!(val(r#"abs("x")"#, "{}"), "null");
}

#[test]
fn min_and_max_take_arguments_or_an_array_and_skip_nulls() {
    assert_eq!(val("min(3, 1, 2)", "{}"), "1");
    assert_eq!(val("max(3, 1, 2)", "{}"), "3");
    assert_eq!(val("min([5, 4])", "{}"), "4");
    assert_eq!(val("max(a)", r#"{"a":[1,9,3]}"#), "9");
    assert_eq!(val(r#"max("a", "b")"#, "{}"), r#""b""#);
    assert_eq!(val("min(null, 2)", "{}"), "2");
    assert_eq!(
        val("min(x, y)", r#"{"x":9007199254740993,"y":9007199254740992}"#),
        "9007199254740992"
    );
}

// ---------------------------------------------------------------- functions: values

#[test]
fn coalesce_takes_the_first_non_null_argument() {
    let ev = r#"{"x":null,"y":"v"}"#;
    assert_eq!(val("coalesce(x, y, 3)", ev), r#""v""#);
    assert_eq!(val("coalesce(missing, x, 3)", ev), "3");
    assert_eq!(val("coalesce(missing, x)", ev), "null");
}

#[test]
fn exists_tells_a_missing_key_from_null() {
    let ev = r#"{"x":null,"u":{"y":null},"tags":[1,null]}"#;
    assert_eq!(val("exists(x)", ev), "true");
    assert_eq!(val("exists(z)", ev), "false");
    assert_eq!(val("exists(u.y)", ev), "true");
    assert_eq!(val("exists(u.z)", ev), "false");
    assert_eq!(val("exists(tags[1])", ev), "true");
    assert_eq!(val("exists(tags[2])", ev), "false");
    assert_eq!(val("exists(tags[-2])", ev), "true");
}

#[test]
fn type_names_every_kind_of_value() {
    let ev = r#"{"n":null,"b":false,"i":1,"f":1e400,"s":"","a":[],"o":{}}"#;
    assert_eq!(val("type(n)", ev), r#""null""#);
    assert_eq!(val("type(missing)", ev), r#""null""#);
    assert_eq!(val("type(b)", ev), r#""boolean""#);
    assert_eq!(val("type(i)", ev), r#""number""#);
    assert_eq!(val("type(f)", ev), r#""number""#);
    assert_eq!(val("type(s)", ev), r#""string""#);
    assert_eq!(val("type(a)", ev), r#""array""#);
    assert_eq!(val("type(o)", ev), r#""object""#);
}

#[test]
fn hash_is_xxhash64_with_seed_0_of_the_text() {
    // xxHash64("abc", seed 0) = 0x44bc2cf5ad770999, the reference test vector.
    assert_eq!(0x44bc_2cf5_ad77_0999_u64, 4_952_883_123_889_572_249);
    assert_eq!(val(r#"hash("abc")"#, "{}"), "4952883123889572249");
    // A field hashes like the literal; a number hashes as its text.
    assert_eq!(val("hash(s)", r#"{"s":"abc"}"#), "4952883123889572249");
    assert_eq!(val("hash(n) == hash(42)", r#"{"n":42}"#), "true");
    assert_ne!(val(r#"hash("abd")"#, "{}"), "4952883123889572249");
    // Several values are joined with 0x1f: xxHash64("a\x1fb") (computed apart).
    assert_eq!(val(r#"hash("a", "b")"#, "{}"), "1882569733476755073");
}

// ---------------------------------------------------------------- functions: time

#[test]
fn time_parses_every_accepted_form_to_unix_seconds() {
    // date -u -d 2026-11-01T00:00:00Z +%s = 1793491200
    assert_eq!(val(r#"time("2026-11-01T00:00:00Z")"#, "{}"), "1793491200");
    assert_eq!(val(r#"time("2026-11-01 00:00:00Z")"#, "{}"), "1793491200");
    assert_eq!(val(r#"time("2026-11-01T01:00:00+01:00")"#, "{}"), "1793491200");
    assert_eq!(val(r#"time("2026-11-01T01:00:00+0100")"#, "{}"), "1793491200");
    assert_eq!(val(r#"time("2026-11-01T00:00:00.5Z")"#, "{}"), "1793491200.5");
    // 13:55:36 -0700 is 20:55:36 UTC; date -u -d 2000-10-10T20:55:36Z +%s = 971211336
    assert_eq!(val(r#"time("10/Oct/2000:13:55:36 -0700")"#, "{}"), "971211336");
    assert_eq!(val("time(1700000000)", "{}"), "1700000000");
    assert_eq!(val("time(1700000000000)", "{}"), "1700000000");
    assert_eq!(val("time(1700000000000000)", "{}"), "1700000000");
    assert_eq!(val("time(1700000000000000000)", "{}"), "1700000000");
    assert_eq!(val(r#"time("yesterday")"#, "{}"), "null");
    assert_eq!(val("time(ts)", r#"{"ts":"2026-13-01T00:00:00Z"}"#), "null");
}

#[test]
fn strftime_formats_in_utc() {
    assert_eq!(
        val(r#"strftime("2026-11-01T12:34:56+02:00", "%H:%M")"#, "{}"),
        r#""10:34""#
    );
    assert_eq!(
        val(r#"strftime(1793491200, "%Y-%m-%d %a")"#, "{}"),
        r#""2026-11-01 Sun""#
    );
    assert_eq!(val(r#"strftime("junk", "%Y")"#, "{}"), "null");
}

#[test]
fn bucket_is_the_start_of_the_window() {
    assert_eq!(val(r#"bucket("2026-11-01T00:07:30Z", 5m)"#, "{}"), "1793491500");
    assert_eq!(val("bucket(1793491399, 5m)", "{}"), "1793491200");
    assert_eq!(
        val("bucket(ts, 1h)", r#"{"ts":"2026-11-01T10:59:59.999Z"}"#),
        "1793527200"
    );
    // A window of 0 is null; written as a constant, it is a pipeline error.
    assert_eq!(val("bucket(1793491399, d)", r#"{"d":0}"#), "null");
    let r = run(&["set b = bucket(ts, 0)"], "{}\n");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("its DUR must be a duration longer than 0, not 0"),
        "{}",
        r.stderr
    );
    // Weeks start on Monday, as count every 1w's windows do (1970-01-01 was a Thursday).
    let ts = r#"{"ts":"2024-01-03T12:00:00Z"}"#;
    assert_eq!(val(r#"strftime(bucket(ts, 1w), "%F %a")"#, ts), "\"2024-01-01 Mon\"");
    assert_eq!(val(r#"strftime(bucket(ts, 2w), "%a")"#, ts), "\"Mon\"");
    let every = run(&["count every 1w | keep window_start"], &format!("{ts}\n"));
    assert_eq!(every.stdout, "{\"window_start\":\"2024-01-01T00:00:00Z\"}\n");
}

#[test]
fn now_is_the_wall_clock() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let now: f64 = val("now()", "{}").parse().expect("now() is a number");
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        before - 1.0 <= now && now <= after + 1.0,
        "{before} <= {now} <= {after}"
    );
}

// ---------------------------------------------------------------- functions: metadata

#[test]
fn file_line_and_offset_locate_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("in.ndjson");
    std::fs::write(&p, "{\"a\":1}\n\n{\"a\":22}\n").unwrap();
    let path = p.to_str().unwrap();
    let r = run(&["set f = file(), l = line(), o = offset() | keep f, l, o", path], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = serde_json::to_string(path).unwrap();
    assert_eq!(
        r.stdout,
        format!("{{\"f\":{f},\"l\":1,\"o\":0}}\n{{\"f\":{f},\"l\":3,\"o\":9}}\n")
    );
    assert_eq!(val("file()", "{}"), r#""-""#);
}

#[test]
fn topic_is_null_until_route_sets_it() {
    assert_eq!(val("topic()", "{}"), "null");
    let r = run(&["route by kind | set t = topic() | keep t"], "{\"kind\":\"x\"}\n");
    assert_eq!(r.stdout, "{\"t\":\"x\"}\n");
}

#[test]
fn raw_is_the_original_line() {
    let line = r#"{"a": 1 , "b":"\u00e9"}"#;
    assert_eq!(json_val("raw()", line), json!(line));
    let r = run(&["set r = raw() | keep r"], "{\"a\":1}\r\n");
    assert_eq!(
        r.stdout, "{\"r\":\"{\\\"a\\\":1}\"}\n",
        "the \\r is not part of the line"
    );
}

// ---------------------------------------------------------------- pipeline errors

#[test]
fn unknown_stage_shows_a_caret_and_the_nearest_stage() {
    let e = pipeline_error("where a == 1 | sett b = 1");
    assert!(e.contains("unknown stage `sett`"), "{e}");
    assert!(
        e.contains("  where a == 1 | sett b = 1\n                 ^^^^\n"),
        "{e}"
    );
    assert!(e.contains("did you mean `set`?"), "{e}");
}

#[test]
fn unknown_function_is_named_with_a_suggestion() {
    let e = pipeline_error("where lenn(a) > 1");
    assert!(e.contains("unknown function `lenn`"), "{e}");
    assert!(e.contains("\n        ^^^^\n"), "{e}");
    assert!(e.contains("did you mean `len`?"), "{e}");
}

#[test]
fn bad_regex_is_a_usage_error_pointing_at_the_regex() {
    let e = pipeline_error("where a =~ /(/");
    assert!(e.contains("bad regex"), "{e}");
    assert!(e.contains("unclosed group"), "{e}");
    assert!(e.contains("\n             ^^^"), "{e}");
    let e = pipeline_error(r#"where a =~ "x(""#);
    assert!(e.contains("bad regex"), "{e}");
}

#[test]
fn oversized_regex_is_a_usage_error() {
    let e = pipeline_error(r"where a =~ /\w{1000}{1000}/");
    assert!(e.contains("bad regex"), "{e}");
    let nested = format!("where a =~ /{}a{}/", "(".repeat(100), ")".repeat(100));
    assert!(pipeline_error(&nested).contains("bad regex"));
}

#[test]
fn unknown_regex_flag_is_a_usage_error() {
    let e = pipeline_error("where a =~ /x/q");
    assert!(e.contains("unknown regex flag `q`"), "{e}");
}

#[test]
fn reserved_words_as_field_names_need_backticks() {
    for (p, word) in [
        ("set in = 1", "in"),
        ("keep a, by", "by"),
        ("del not", "not"),
        ("rename a as from", "from"),
    ] {
        let e = pipeline_error(p);
        assert!(e.contains(&format!("`{word}` is a reserved word")), "{p}: {e}");
        assert!(e.contains("backticks"), "{p}: {e}");
    }
}

#[test]
fn wrong_arity_and_bad_arguments_are_usage_errors() {
    assert!(pipeline_error("where len(a, b)").contains("`len` takes 1 argument(s), got 2"));
    assert!(pipeline_error("where now(1)").contains("`now` takes 0 argument(s)"));
    assert!(pipeline_error(r#"where exists("a")"#).contains("`exists` takes a field path"));
    assert!(pipeline_error(r#"set t = strftime(ts, "%Q")"#).contains("bad strftime format"));
}

#[test]
fn syntax_errors_are_usage_errors() {
    assert!(pipeline_error("where a ==").contains("expected an expression"));
    assert!(pipeline_error(r#"where a == "open"#).contains("unterminated string"));
    assert!(pipeline_error("set a = 5parsecs").contains("unknown duration unit"));
    assert!(pipeline_error("head x").contains("expected a whole number"));
    assert!(pipeline_error("where (a == 1").contains("expected `)`"));
    assert!(pipeline_error("where a where").contains("expected `|`"));
}

#[test]
fn a_valid_pipeline_does_read_the_missing_file() {
    // The counterpart of the tests above: the file error is what the user sees
    // once the pipeline is fine, so those tests did check the order.
    let r = run(&["where true", "/nonexistent/evq-input.ndjson"], "");
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("nonexistent"), "{}", r.stderr);
}
