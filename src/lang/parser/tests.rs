//! Parser tests: every text parses or fails with a caret and a hint; names and nesting limits.

use super::expr::negate_number_text;
use super::*;
use crate::lang::ast::AggSpec;

/// The rendered error for `src`, which must not parse.
fn error(src: &str) -> String {
    match parse_pipeline(src) {
        Ok(_) => panic!("`{src}` parsed"),
        Err(e) => e.render(src),
    }
}

/// Asserts that `src` parses, or fails with a message, a caret and a hint.
fn parses_or_explains(src: &str) {
    if let Err(e) = parse_pipeline(src) {
        assert!(e.hint.is_some(), "no hint for `{src}`: {}", e.message);
        let r = e.render(src);
        assert!(r.starts_with("evq: pipeline error: "), "{r}");
        assert!(
            r.lines().nth(2).is_some_and(|l| l.contains('^')),
            "no caret for `{src}`: {r}"
        );
    }
}

fn aggs(src: &str) -> Vec<AggSpec> {
    match parse_pipeline(src).map(|mut s| s.remove(0).spec) {
        Ok(StageSpec::Stats { aggs, .. }) => aggs,
        other => panic!("`{src}` is not a stats stage: {other:?}"),
    }
}

const PIPELINES: &[&str] = &[
    r#"route all errors: level == "error", slow: ms > 500 else rest"#,
    r#"route errors: level == "error" else rest | to "out/{topic()}.ndjson""#,
    r#"where a =~ /x\/y/i and not (b in [1, -2.5, "c"]) or c !~ "d" | head 5"#,
    r#"set a.b[0] = lower(x) ?? "n", `k.j` = -5m | del c, d["e"] | keep a | rename a as b"#,
    "stats count(), sum(x) as s, percentile(y, 99.9) by z, q.r as w every 5m | top 3 z by avg(x)",
    r#"parse /(?P<s>\d+)/ from raw() else keep | distinct s | sort s desc, t | tail 2 | tee "o/{s}.nd""#,
];

#[test]
fn every_prefix_of_a_pipeline_parses_or_explains() {
    for full in PIPELINES {
        parse_pipeline(full).unwrap_or_else(|e| panic!("{}", e.render(full)));
        for (i, _) in full.char_indices().chain([(full.len(), ' ')]) {
            parses_or_explains(&full[..i]);
            parses_or_explains(&full[i..]);
        }
    }
}

#[test]
fn route_and_match_cut_short_point_past_the_end() {
    for src in [
        "route",
        "route all",
        "where a =~",
        "where a !~",
        "stats",
        "count by",
        "rename a as",
    ] {
        parses_or_explains(src);
        let r = error(src);
        let caret = r.lines().nth(2).expect("a caret line");
        assert_eq!(caret.find('^'), Some(2 + src.len()), "{r}");
    }
}

#[test]
fn a_regex_may_end_in_an_escaped_backslash() {
    for src in [
        r"where a =~ /\\/",
        r"where a =~ /\\/ and b",
        r"where a =~ /x\\/i or a =~ /\//",
    ] {
        parse_pipeline(src).unwrap_or_else(|e| panic!("{}", e.render(src)));
    }
    assert!(
        parse_pipeline(r"where a =~ /\\\/").is_err(),
        "`\\/` after `\\\\` is an escaped slash"
    );
}

#[test]
fn default_names_keep_every_character_of_the_path() {
    let names: Vec<String> = aggs("stats max(_path), max(path), sum(tags[0]), count(`id.orig_h`), count()")
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(
        names,
        ["max__path", "max_path", "sum_tags_0", "count_id_orig_h", "count"]
    );
}

#[test]
fn percentile_names_use_the_percentage_as_written() {
    let a = aggs("stats percentile(x, 29), percentile(x, 99.9), p95(x)");
    let names: Vec<&str> = a.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["p29_x", "p99_9_x", "p95_x"]);
    assert_eq!(a[0].q, Some(0.29));
}

#[test]
fn two_columns_with_one_name_are_an_error_naming_both() {
    for (src, both) in [
        ("stats max(a.b), max(a_b)", ["`max(a.b)`", "`max(a_b)`"]),
        ("stats sum(x) as n, avg(x) as n", ["`sum(x) as n`", "`avg(x) as n`"]),
        ("stats count(a > 1), count(b > 1)", ["`count(a > 1)`", "`count(b > 1)`"]),
        ("stats count() by count", ["`count()`", "the key `count`"]),
        (
            "stats max(x) as user by user.id",
            ["`max(x) as user`", "the key `user.id`"],
        ),
        ("count by count", ["the count", "the key `count`"]),
        ("count by a.b, a", ["the key `a.b`", "the key `a`"]),
        (
            "count by window_start every 5m",
            ["the key `window_start`", "window_start"],
        ),
        ("top 3 count", ["the count", "the key `count`"]),
        ("top 3 a by sum(a) as a", ["the key `a`", "`sum(a) as a`"]),
        ("distinct a, b as a", ["the key `a`", "the key `b as a`"]),
    ] {
        let r = error(src);
        assert!(both.iter().all(|w| r.contains(w)), "{r}");
        assert!(r.contains("hint: "), "{r}");
    }
    for ok in [
        "stats count() by user.id, user.name",
        "count by a, b as c",
        "stats max(_path), max(path)",
    ] {
        parse_pipeline(ok).unwrap_or_else(|e| panic!("{}", e.render(ok)));
    }
}

#[test]
fn deep_nesting_is_a_usage_error_not_a_stack_overflow() {
    let n = 100_000;
    for (open, close) in [
        ("(", ")"),
        ("[", "]"),
        ("not ", ""),
        ("!", ""),
        ("-", ""),
        ("len(", ")"),
    ] {
        let src = format!("where {}a{}", open.repeat(n), close.repeat(n));
        let r = error(&src);
        assert!(
            r.contains(&format!("nested more than {MAX_DEPTH} levels")),
            "{}",
            &r[..200]
        );
    }
    let chain = format!("where a{}", " or a".repeat(n));
    assert!(error(&chain).contains(&format!("nested more than {MAX_DEPTH} levels")));
}

#[test]
fn nesting_up_to_the_limit_parses_on_a_small_stack() {
    // Test threads have 2 MiB of stack, like the engine's worker threads.
    let depth = MAX_DEPTH - 1;
    for (open, close) in [("(", ")"), ("not ", ""), ("-", "")] {
        let src = format!("where {}a{}", open.repeat(depth), close.repeat(depth));
        parse_pipeline(&src).unwrap_or_else(|e| panic!("{}", e.message));
    }
    let chain = format!("where a{}", " + a".repeat(depth - 2));
    parse_pipeline(&chain).unwrap_or_else(|e| panic!("{}", e.message));
}

#[test]
fn negating_a_negative_number_text_gives_a_number() {
    assert_eq!(negate_number_text("-1e400"), "1e400");
    assert_eq!(negate_number_text("1e400"), "-1e400");
    let Ok(Expr::Const(v)) = parse_expr("- -1e400") else {
        panic!("a constant");
    };
    assert_eq!(v.into_value().to_string(), "1e400");
}

#[test]
fn template_errors_inside_escaped_strings_point_at_the_string() {
    for src in [r#"to "\"ééé{""#, r#"to "\u00e9\u00e9{a b}""#, r#"tee "é\té{""#] {
        let r = error(src);
        assert!(r.contains('^') && r.contains("hint: "), "{r}");
    }
}

#[test]
fn durations_too_long_for_a_number_are_rejected() {
    assert!(error("count every 1e400s").contains("the duration is too long"));
}

#[test]
fn a_very_long_unknown_name_gets_the_list_not_a_slow_suggestion() {
    let name = "wherewhere".repeat(100_000);
    let started = std::time::Instant::now();
    assert!(error(&name).contains("hint: stages are: "));
    assert!(error(&format!("where {name}(a)")).contains("hint: functions are: "));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
