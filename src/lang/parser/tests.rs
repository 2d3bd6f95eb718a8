//! Parser tests: every text parses or fails with a caret and a hint; names and nesting limits.

use super::*;
use crate::lang::ast::{AggSpec, Every, KeyName, RouteSpec, Template, TemplatePart};

/// The rendered error for `src`, which must not parse.
fn error(src: &str) -> String {
    match parse_pipeline(src) {
        Ok(_) => panic!("`{src}` parsed"),
        Err(e) => e.render(src),
    }
}

/// The rendered error of a pipeline that must not parse, which has a caret and a hint.
pub(super) fn explained(src: &str) -> String {
    let e = parse_pipeline(src).err().unwrap_or_else(|| panic!("`{src}` parsed"));
    assert!(e.hint.is_some(), "no hint for `{src}`");
    let r = e.render(src);
    assert!(r.contains('^'), "no caret for `{src}`: {r}");
    r
}

/// Asserts that `src` parses, or fails with a message, a caret and a hint.
fn parses_or_explains(src: &str) {
    if let Err(e) = parse_pipeline(src) {
        assert!(e.hint.is_some(), "no hint for `{src}`: {}", e.message);
        let r = e.render(src);
        assert!(r.starts_with("pipeline error: "), "{r}");
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
    r#"set s = if a > 1 then {k: b[1:-2], "x y": [c[i], $ENV.HOME]} elif d in (1, 2) then map(e, x => x.f) else @2026-11-01T00:00:00Z - 1h end | where capture(g, /(?P<h>\d)/).h == "1""#,
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
fn a_pipeline_of_more_stages_than_the_limit_is_refused() {
    let stages = |n: usize| vec!["head 5"; n].join(" | ");
    assert_eq!(
        parse_pipeline(&stages(MAX_STAGES)).map(|s| s.len()).ok(),
        Some(MAX_STAGES)
    );
    let r = error(&stages(MAX_STAGES + 1));
    assert!(r.contains(&format!("at most {MAX_STAGES} stages")), "{}", &r[..100]);
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
    for (src, value) in [("-1e400", "-1e400"), ("-(-9223372036854775808)", "9223372036854775808")] {
        let Ok(Expr::Const(v)) = parse_expr(src) else {
            panic!("{src}: a constant");
        };
        assert_eq!(v.into_value().to_string(), value, "{src}");
    }
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
    assert!(error("dedupe within 99999999999999999999999s").contains("the duration is too long"));
    assert!(error("count every 1ns").contains("a window is a whole number of milliseconds"));
    assert!(error("count every 999999d").contains("from 1ms to 100 years"));
    for not_whole in ["1s1ns", "1500us", "1d1ns", "2.0005s"] {
        let e = error(&format!("count every {not_whole}"));
        assert!(
            e.contains("a window is a whole number of milliseconds"),
            "{not_whole}: {e}"
        );
    }
    assert!(error("count every 1m slide 1500us").contains("whole number of milliseconds"));
    assert!(parse_pipeline("count every 1ms | count every 36500d | count every 1.1s | count every 1500ms").is_ok());
}

#[test]
fn a_very_long_unknown_name_gets_the_list_not_a_slow_suggestion() {
    let name = "wherewhere".repeat(100_000);
    let started = std::time::Instant::now();
    assert!(error(&name).contains("hint: stages are: "));
    assert!(error(&format!("where {name}(a)")).contains("hint: functions are: "));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// The first stage of `src`.
pub(super) fn first_stage(src: &str) -> StageSpec {
    match parse_pipeline(src) {
        Ok(mut stages) => stages.remove(0).spec,
        Err(e) => panic!("{}", e.render(src)),
    }
}

/// The one stage of `src`.
fn spec(src: &str) -> StageSpec {
    match parse_pipeline(src) {
        Ok(mut s) if s.len() == 1 => s.remove(0).spec,
        Ok(s) => panic!("`{src}` has {} stages", s.len()),
        Err(e) => panic!("{}", e.render(src)),
    }
}

/// A route stage as `by` or `[all] name, name… [else name]`.
fn route_summary(src: &str) -> String {
    match spec(src) {
        StageSpec::Route(RouteSpec::By(_)) => "by".into(),
        StageSpec::Route(RouteSpec::Rules { all, rules, otherwise }) => {
            let names: Vec<&str> = rules.iter().map(|(n, _)| n.as_str()).collect();
            let all = if all { "all " } else { "" };
            let otherwise = otherwise.map(|o| format!(" else {o}")).unwrap_or_default();
            format!("{all}{}{otherwise}", names.join(", "))
        }
        other => panic!("`{src}` is not a route: {other:?}"),
    }
}

#[test]
fn route_forms_parse_to_their_rules_in_order() {
    let cases = [
        ("route by svc", "by"),
        ("route by lower(svc) + \"-\" + level", "by"),
        (r#"route errors: level == "error""#, "errors"),
        (
            r#"route errors: level == "error", slow: ms > 500 else rest"#,
            "errors, slow else rest",
        ),
        (
            r#"route all errors: level == "error", slow: ms > 500"#,
            "all errors, slow",
        ),
        (r#"route all e: true else "the rest""#, "all e else the rest"),
        (r#"route "slow requests": ms > 500, `by`: true"#, "slow requests, by"),
        // `all` followed by a colon is a topic named all, not the recipient-list form.
        ("route all: true", "all"),
    ];
    for (src, want) in cases {
        assert_eq!(route_summary(src), want, "`{src}`");
    }
}

#[test]
fn route_without_rules_or_topic_names_is_explained() {
    for src in [
        "route by",
        "route errors",
        "route errors:",
        "route errors: true else",
        "route 5: true",
    ] {
        let r = error(src);
        assert!(r.contains("hint: "), "`{src}`: {r}");
    }
}

#[test]
fn count_keys_keep_paths_or_take_names_and_every_is_in_seconds() {
    let StageSpec::Count { keys, every } = spec("count by user.country, lower(k) as kind every 5m") else {
        panic!("a count stage");
    };
    assert_eq!(
        every,
        Some(Every {
            len: 300.0,
            slide: 300.0
        })
    );
    let names: Vec<String> = keys
        .iter()
        .map(|k| match &k.name {
            KeyName::Path(p) => format!("path {p}"),
            KeyName::Named(n) => format!("named {n}"),
        })
        .collect();
    assert_eq!(names, ["path user.country", "named kind"]);
    for (src, secs) in [
        ("count every 250ms", 0.25),
        ("count every 1h", 3600.0),
        ("count every 1d", 86400.0),
    ] {
        let StageSpec::Count { keys, every } = spec(src) else {
            panic!("a count stage");
        };
        assert!(keys.is_empty(), "`{src}`");
        assert_eq!(every.map(|e| (e.len, e.slide)), Some((secs, secs)), "`{src}`");
    }
    assert!(matches!(spec("count"), StageSpec::Count { keys, every: None } if keys.is_empty()));
}

#[test]
fn windows_slide_by_a_step_that_divides_them() {
    let StageSpec::Stats { every, .. } = spec("stats sum(x) by k every 5m slide 1m") else {
        panic!("a stats stage");
    };
    assert_eq!(
        every,
        Some(Every {
            len: 300.0,
            slide: 60.0
        })
    );
    let StageSpec::Count { every, .. } = spec("count every 1s slide 250ms") else {
        panic!("a count stage");
    };
    assert_eq!(every, Some(Every { len: 1.0, slide: 0.25 }));
    let StageSpec::Count { every, .. } = spec("count every 1m slide 1m") else {
        panic!("a count stage");
    };
    assert_eq!(every, Some(Every { len: 60.0, slide: 60.0 }));
    for (src, want) in [
        ("count every 5m slide 2m", "the slide must divide the window length"),
        ("count every 1m slide 5m", "the slide must divide the window length"),
        ("count every 5m slide", "expected how far windows slide"),
        ("count every 5m slide x", "expected how far windows slide"),
        ("count every 1d slide 1s", "each event would be in 86400 windows"),
    ] {
        let r = error(src);
        assert!(
            r.contains(want) && r.contains('^') && r.contains("hint: "),
            "`{src}`: {r}"
        );
    }
    assert!(error("count every 5m slide 2m").contains("hint: every 5m slide 1m gives windows of 5 minutes"));
}

/// A template's parts as text: literals as they are, placeholders as `{…}`.
fn parts(t: &Template) -> Vec<String> {
    t.parts
        .iter()
        .map(|p| match p {
            TemplatePart::Lit(s) => s.clone(),
            TemplatePart::Expr(Expr::Path(p)) => format!("{{{p}}}"),
            TemplatePart::Expr(_) => "{…}".into(),
        })
        .collect()
}

#[test]
fn to_and_tee_parse_their_template_into_literals_and_placeholders() {
    let StageSpec::To { template, text, tee } = spec(r#"to "out/{{x}}/{svc}-{topic()}.ndjson""#) else {
        panic!("a to stage");
    };
    assert!(!tee);
    assert_eq!(text, "out/{{x}}/{svc}-{topic()}.ndjson");
    assert_eq!(parts(&template), ["out/{x}/", "{svc}", "-", "{…}", ".ndjson"]);
    let StageSpec::To { template, tee, .. } = spec(r#"tee "{a.b}""#) else {
        panic!("a tee stage");
    };
    assert!(tee);
    assert_eq!(parts(&template), ["{a.b}"]);
}

#[test]
fn template_errors_point_at_the_brace() {
    let cases = [
        ("ab{c", "unclosed `{` in template", 2),
        ("ab}c", "unmatched `}` in template", 2),
        ("a{{b}c", "unmatched `}` in template", 4),
    ];
    for (src, message, at) in cases {
        match parse_template(src) {
            Ok(t) => panic!("`{src}` parsed to {:?}", parts(&t)),
            Err(e) => {
                assert_eq!(e.message, message, "`{src}`");
                assert_eq!(e.span.start, at, "`{src}`");
            }
        }
    }
    let e = parse_template("x/{a +}").expect_err("a bad placeholder");
    assert!(e.span.start >= 3, "the span {:?} is inside the placeholder", e.span);
}

#[test]
fn operators_bind_as_the_spec_lists_them() {
    crate::lang::eval::tests::check_table(&[
        // `??` binds looser than comparisons, `not` looser than `??`.
        ("2 ?? 1 == 1", "{}", "2"),
        ("not null ?? 1", "{}", "false"),
        ("not 1 == 2", "{}", "true"),
        ("true or false and false", "{}", "true"),
        ("(true or false) and false", "{}", "false"),
        ("1 + 2 * 3 - 4 / 2", "{}", "5"),
        ("-2 * 3", "{}", "-6"),
        ("10 - 3 - 2", "{}", "5"),
        ("12 / 3 / 2", "{}", "2"),
        ("1 + 1 == 2", "{}", "true"),
    ]);
}

#[test]
fn a_pipeline_is_stages_joined_by_bars_and_to_ends_it() {
    for src in ["", "   "] {
        assert_eq!(
            parse_pipeline(src).expect_err("nothing to run").message,
            "empty pipeline"
        );
    }
    let src = r#"where a | to "x.ndjson" | count"#;
    let e = parse_pipeline(src).expect_err("a stage after to");
    assert_eq!(e.message, "`to` ends the pipeline");
    assert_eq!(&src[e.span.start..e.span.end], r#"to "x.ndjson""#);
    assert_eq!(e.hint.as_deref(), Some("use `tee` to write events and pass them on"));
    assert_eq!(
        parse_pipeline(r#"where a | tee "x.ndjson" | count"#).map(|s| s.len()),
        Ok(3)
    );
    let e = parse_pipeline("head 3 4").expect_err("no bar");
    assert_eq!(e.message, "expected `|` before the next stage");
    assert_eq!(e.span.start, 7);
}

#[test]
fn suggestions_are_the_nearest_name_within_a_third_of_its_length() {
    assert_eq!(nearest("wehre", STAGES).as_deref(), Some("where"));
    assert_eq!(nearest("cuont", STAGES).as_deref(), Some("count"));
    assert_eq!(nearest("fill_down", STAGES).as_deref(), Some("fill-down"));
    assert_eq!(nearest("zzzzz", STAGES), None);
    assert_eq!(nearest("x", &["sum"]), None);
}

#[test]
fn regex_flags_apply_and_a_bad_pattern_keeps_its_span() {
    let at = Span::new(3, 9);
    let matches = |p: &str, flags: &str, text: &str| build_regex(p, flags, at).expect("builds").is_match(text);
    assert!(matches("abc", "i", "xABCx") && !matches("abc", "", "ABC"));
    assert!(matches("a.b", "s", "a\nb") && !matches("a.b", "", "a\nb"));
    assert!(matches("^b$", "m", "a\nb\nc") && !matches("^b$", "", "a\nb\nc"));
    assert!(matches("a b # comment", "x", "ab") && !matches("a b", "", "ab"));
    let e = build_regex("a(b", "", at).expect_err("unclosed group");
    assert!(e.message.starts_with("bad regex: "), "{}", e.message);
    assert!(!e.message.contains('\n'), "one line: {}", e.message);
    assert_eq!(e.span, at);
    assert!(build_regex("(a{1000}){1000}", "", at).is_err(), "over the size limit");
}

#[test]
fn top_and_distinct_take_windows() {
    let StageSpec::Top { n, every, .. } = spec("top 3 a by sum(b) every 5m slide 1m") else {
        panic!("not top")
    };
    assert_eq!(n, 3);
    let every = every.expect("a window");
    assert_eq!((every.len, every.slide), (300.0, 60.0));
    let StageSpec::Distinct { keys, every } = spec("distinct a, b every 1h") else {
        panic!("not distinct")
    };
    assert_eq!(keys.len(), 2);
    assert_eq!(every.map(|e| e.len), Some(3600.0));
    assert!(matches!(spec("distinct a"), StageSpec::Distinct { every: None, .. }));
}

#[test]
fn del_and_rename_take_fields_not_the_whole_event() {
    for src in ["del .", "del a, .", "rename . as x"] {
        assert!(explained(src).contains("`.` is the whole event"), "{src}");
    }
    assert!(matches!(first_stage("set . = {b: a}"), StageSpec::Set(_)));
}

#[test]
fn half_a_surrogate_pair_in_a_string_is_named() {
    for src in [r#"where "\ud800" == a"#, r#"where a == "x\udc00""#] {
        assert!(explained(src).contains("half a UTF-16 surrogate pair"), "{src}");
    }
}

#[test]
fn a_set_that_assigns_a_field_and_then_replaces_it_is_an_error() {
    assert!(error("set a = 1, a = 2").contains("`a` is assigned twice in this set"));
    let e = error("set a.b = 2, x = 1, a = 1");
    assert!(
        e.contains("`a` replaces `a.b`, which this set assigns before it"),
        "{e}"
    );
    assert!(e.contains("set a = … | set a.b = …"), "{e}");
    assert!(error("set t[0] = 1, t = []").contains("`t` replaces `t[0]`"));
    for fine in ["set a = {}, a.b = 2", "set a.b = 1, a.c = 2", "set a = 1, ab = 2"] {
        assert!(matches!(spec(fine), StageSpec::Set(_)), "{fine}");
    }
}

#[test]
fn a_path_into_a_constant_the_set_assigned_before_that_it_cannot_go_into_is_an_error() {
    let cases = [
        (
            "set a = 1, a.b = 2",
            "`a.b` goes into `a`, which this set assigns a constant number before it",
        ),
        ("set a = \"s\", a.b.c = 2", "a constant string"),
        ("set a = null, a[0] = 2", "a constant null"),
        ("set a = [1], a.b = 2", "a constant array"),
        ("set a = {}, a[0] = 2", "a constant object"),
        ("set a = {\"b\": 1}, a[0] = 2", "a constant object"),
    ];
    for (src, said) in cases {
        let e = error(src);
        assert!(e.contains(said), "{src}: {e}");
    }
    let fine = [
        "set a = [], a[0] = 2",
        "set a = {\"b\": 1}, a.c = 2",
        "set a = x, a.b = 2",
        "set a = 1, b.c = 2",
    ];
    for src in fine {
        assert!(matches!(spec(src), StageSpec::Set(_)), "{src}");
    }
}

#[test]
fn two_columns_of_one_output_field_are_an_error_at_the_later_one() {
    for (src, said, at) in [
        (
            "count by user, user.id",
            "the key `user` and the key `user.id` both write the output field `user`",
            "user.id",
        ),
        (
            "count by user.id, k, user",
            "the key `user.id` and the key `user` both write the output field `user`",
            "user",
        ),
        (
            "stats sum(x) as a, count() as b, avg(y) as a",
            "both write the output field `a`",
            "avg(y) as a",
        ),
    ] {
        let e = parse_pipeline(src).expect_err(src);
        assert!(e.render(src).contains(said), "{src}: {}", e.render(src));
        assert_eq!(&src[e.span.start..e.span.end], at, "{src}");
    }
    for fine in [
        "count by user.id, user.name",
        "stats sum(x) as s, sum(y) as sb by a.b.c, a.bc",
    ] {
        assert!(parse_pipeline(fine).is_ok(), "{fine}");
    }
}

#[test]
fn two_fields_renamed_to_one_name_and_a_topic_with_two_rules_are_errors() {
    let e = error("rename a as b, c as b");
    assert!(e.contains("`b` is the new name of `a` and of `c`"), "{e}");
    assert!(e.contains("del a | rename c as b"), "{e}");
    let e = error("rename a as x.y, q as z, b as x.y");
    assert!(e.contains("`x.y` is the new name of `a` and of `b`"), "{e}");
    let e = error("rename a as b, b.c as d, e as b");
    assert!(e.contains("`b` is the new name of `a` and of `e`"), "{e}");
    for fine in [
        "rename a as b, b as c, d as b",
        "rename a as b, c as d",
        "rename a as b.x, c as b.y",
        "rename a as x.y, x as z, b as x.y",
    ] {
        assert!(matches!(spec(fine), StageSpec::Rename(_)), "{fine}");
    }
    let e = error("route all a: x == 1, b: true, a: y == 2");
    assert!(
        e.contains("the topic `a` has two rules: route all would write an event to it twice"),
        "{e}"
    );
    assert!(error("route a: x == 1, a: y == 2").contains("a: A or B"));
    for (pipeline, topic) in [
        ("route a: x == 1 else a", "a"),
        ("route all a: x == 1, b: y else b", "b"),
        ("route _unmatched: x == 1", "_unmatched"),
    ] {
        let e = error(pipeline);
        assert!(
            e.contains(&format!(
                "the topic `{topic}` is both a rule's and where unmatched events go"
            )),
            "{pipeline}: {e}"
        );
    }
    assert!(matches!(
        spec("route _unmatched: x == 1 else rest"),
        StageSpec::Route(_)
    ));
}

#[test]
fn number_and_string_mistakes_are_named_where_they_are() {
    for (src, said, at) in [
        ("where a == 0x10", "hex numbers are not supported", "0x"),
        ("where a == 1e", "a number's exponent needs digits", "1e"),
        ("where a == 5mins", "unknown duration unit `mins`", "mins"),
        ("where a == .5", "a number starts with a digit", ".5"),
        ("where 1 < a < 3", "comparisons do not chain", "<"),
        (r#"where a == "x\q""#, r"`\q` is not an escape", r"\q"),
        (r#"where a == "\u12""#, r"`\u12` needs four hex digits", r"\u12"),
    ] {
        let e = parse_pipeline(src).expect_err(src);
        assert_eq!(e.message, said, "{src}");
        assert_eq!(&src[e.span.start..e.span.end], at, "{src}");
        assert!(e.hint.is_some(), "{src}");
    }
    assert_eq!(
        parse_pipeline("where 1 < a < 3").unwrap_err().hint.as_deref(),
        Some("join two comparisons with and: … and a < 3")
    );
}

#[test]
fn a_placeholder_closes_at_its_own_brace_not_one_in_a_string_or_an_object() {
    let parts = |t: &str| parse_template(t).map(|t| t.parts.len()).map_err(|e| e.message);
    assert_eq!(parts(r#"x{"}"}y"#), Ok(3));
    assert_eq!(parts(r#"{if a then "}" else {b: 1} end}"#), Ok(1));
    assert_eq!(parts(r#"{"\"}"}"#), Ok(1), "an escaped quote does not end the string");
    assert_eq!(parts("{`a}b`}"), Ok(1), "a backtick name");
    assert_eq!(parts(r#"{replace(a, /"/, "'")}x"#), Ok(2), "a quote in a regex");
    assert_eq!(parts("{a"), Err("unclosed `{` in template".to_string()));
    assert!(parts(r#"{"}"#).is_err(), "an unterminated string");
}

#[test]
fn a_name_after_as_that_goes_on_as_a_path_is_named() {
    for src in [
        "count by a as x, a.b as x.y",
        "stats sum(n) as s.t",
        "count by a as x[0]",
    ] {
        let e = parse_pipeline(src).expect_err(src);
        assert_eq!(e.message, "a name after `as` is one word, not a path", "{src}");
    }
    assert!(parse_pipeline(r#"count by a.b as "x.y""#).is_ok());
}

#[test]
fn a_string_mistake_is_one_line_naming_the_character() {
    for (src, said) in [
        (
            "where a == \"x\\\n\u{0}\"",
            "a string cannot hold the control character U+0000 as it is",
        ),
        ("where a == \"\\\u{1}\"", "`\\` before U+0001 is not an escape"),
        ("where a == \"\\u00e9\\u12\"", "`\\u12` needs four hex digits"),
        ("where a == \"\\\u{e9}\"", "`\\\u{e9}` is not an escape"),
        ("where a == \"\\\u{65e5}x\"", "`\\\u{65e5}` is not an escape"),
    ] {
        let e = parse_pipeline(src).expect_err(src);
        assert_eq!(e.message, said, "{src:?}");
        assert!(!e.render(src).lines().nth(1).unwrap_or_default().is_empty());
    }
    assert!(
        parse_pipeline("where a == \"x\\\ny\\u00e9\"").is_ok(),
        "a backslash before a raw line break"
    );
}

#[test]
fn a_constant_of_the_wrong_type_for_a_parameter_is_an_error_with_the_fix() {
    for (src, message, hint) in [
        (
            "where startswith(s, 1)",
            "startswith(s, prefix): its prefix must be text, not a number",
            "\"1\"",
        ),
        (
            "set a = substr(s, \"1\")",
            "its start must be a number, not text",
            "without quotes: 1",
        ),
        (
            "set a = bucket(t, \"1h\")",
            "its DUR must be a duration longer than 0, not text",
            "30s, 5m or 1h",
        ),
        (
            "set a = bucket(t, 0s)",
            "its DUR must be a duration longer than 0, not 0",
            "30s, 5m or 1h",
        ),
        (
            "where ip_in(ip, 10)",
            "its network must be text or a list of texts, not a number",
            "\"10\"",
        ),
        ("set a = join(tags, 1)", "its sep must be text, not a number", "\"1\""),
        (
            "set a = round(x, null)",
            "its digits must be a number, not a null",
            "round(x[, digits])",
        ),
        ("set a = format(5, x)", "its format must be text, not a number", "\"5\""),
    ] {
        let r = explained(src);
        assert!(r.contains(message) && r.contains(hint), "`{src}`: {r}");
    }
    for fine in [
        "set a = substr(s, -1, 2)",
        "set a = bucket(t, 1h)",
        "set a = pad_left(s, 5, \"0\")",
        "set a = round(x, n)",
        "where contains(tags, 1)",
        "set a = sub(s, /a/, \"b\")",
    ] {
        assert!(parse_pipeline(fine).is_ok(), "`{fine}`");
    }
}
