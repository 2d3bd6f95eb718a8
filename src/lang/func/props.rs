//! Property tests of the newer expressions: on any event they give a value (never a
//! panic), and the lazily indexed event and the fully parsed one agree.

use crate::lang::eval::tests::eval_json;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Expressions over the fields `a`, `b` and `d`, whatever their types.
const EXPRS: &[&str] = &[
    r"if a > 1 then {k: b[1:-1], l: map(d, x => x.e ?? x)} elif b then [a, b] else null end",
    r#"[capture(b, /(?P<n>\d+)/), match(b, /\w+/), sub(b, /a/, "$0$0"), gsub(b, "", "-")]"#,
    r#"[format("%05d|%-4s|%.2f|%x|%%", a, b, a, a), pad_left(b, a, "*"), repeat(b, a)]"#,
    r#"[parse_url(b), ip_in(b, "10.0.0.0/8"), ip_in(b, d), to_number(b), to_number(a)]"#,
    r"[url_decode(b), url_encode(b), base64_decode(b), base64_encode(b), md5(b), sha256(b)]",
    r#"[strftime(a, "%H:%M", "Europe/Berlin"), strptime(b, "%Y-%m-%d"), time(b) - 1h >= @2026-01-01]"#,
    r"[keys(d), values(d), unique(d), sort(d), reverse(d), flatten(d), first(d), last(d), sum(d)]",
    r#"[filter(d, x => x), any(d, x => x == a), all(d, x => type(x) == "number"), d[a], d[a:b]]"#,
    r"[b[a:], b[:a], d[-2:], log(a), log10(a), exp(a), sqrt(a), pow(a, a), a in (b, d)]",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6..1e6f64).prop_map(|f| json!(f)),
        (-3i64..40).prop_map(Value::from),
        prop::sample::select(vec![
            "10.0.0.1",
            "::1",
            "0x1f",
            "2026-11-01",
            "/a?b=1&b=2",
            "http://h:8/p#f",
            "aGk=",
            "%C3%A9",
            "é👍 x",
            "",
            "12",
        ])
        .prop_map(Value::from),
        "[a-c0-9%/?:.=&-]{0,12}".prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-e]", inner), 0..4).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn new_expressions_are_total_and_agree_lazily_and_in_full(a in value(), b in value(), d in value()) {
        let line = json!({"a": a, "b": b, "d": d}).to_string();
        for src in EXPRS {
            let got = eval_json(src, &line);
            prop_assert!(serde_json::from_str::<Value>(&got).is_ok(), "`{}` gave {}", src, got);
        }
    }
}
