//! Property tests: `parse` never panics on any text in any format, and `typed` agrees with `serde_json`.

use super::{TextFormat, parse, typed};
use proptest::prelude::*;
use serde_json::Value;

fn formats() -> Vec<TextFormat> {
    let mut all: Vec<TextFormat> = TextFormat::NAMES
        .iter()
        .map(|n| TextFormat::from_name(n, crate::parse::Year::fixed(2026)).expect("listed name"))
        .collect();
    all.push(TextFormat::Syslog {
        year: crate::parse::Year::fixed(2028),
    });
    all.push(TextFormat::Regex(
        regex::Regex::new(r"(?P<a>\d+)?(?P<b>[^ ]*) (x)").expect("test pattern"),
    ));
    let names: Vec<String> = ["ip", "_", "ts", "req", "status", "rest"].map(String::from).into();
    let pattern = super::wildcard::Wildcard::new("* - * [*] \"*\" * *", &names).expect("test pattern");
    all.push(TextFormat::Wildcard(pattern));
    all.push(TextFormat::Wildcard(
        super::wildcard::Wildcard::new("é*=*", &["a".into(), "b".into()]).expect("test pattern"),
    ));
    all
}

/// Real lines of every format, to be cut and mutated so the parsers go deep before failing.
const SEEDS: &[&str] = &[
    r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a\"b HTTP/1.0" 200 2326 "http://x/" "Mozilla \"5\"""#,
    "Mar 27 13:06:56 ip-10-77-20-248 sshd[1291]: Server listening on 0.0.0.0 port 22.",
    r#"<165>1 2003-10-11T22:14:15.003Z host evntslog 8710 - [a@1 x="\"]"][b@2 y="1"] msg"#,
    r"<13>2026-03-27T13:06:56.1+00:00 su: 'su root'",
    r#"ts=1 msg="a \"b\" \u00e9\ud83d\ude00" flag k="#,
    r#"a='x\'y', b="z"; c=007 'free a=1' =x"#,
    r#"{"a":[1,{"b":"\u0000"}],"c":1e400}"#,
];

fn mutated() -> impl Strategy<Value = String> {
    let edits = prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            "[ \"'\\[\\]<>=:;,.\\\\0-9a-z\u{0}\u{e9}-]{0,3}",
            0..4usize,
        ),
        0..4,
    );
    (prop::sample::select(SEEDS), any::<prop::sample::Index>(), edits).prop_map(|(seed, cut, edits)| {
        let mut chars: Vec<char> = seed.chars().collect();
        chars.truncate(cut.index(chars.len() + 1));
        for (at, insert, delete) in edits {
            let at = at.index(chars.len() + 1);
            let end = (at + delete).min(chars.len());
            chars.splice(at..end, insert.chars());
        }
        chars.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_never_panics_on_arbitrary_strings(text in any::<String>()) {
        for fmt in formats() {
            let _ = parse(&fmt, &text);
        }
    }

    #[test]
    fn parse_never_panics_on_delimiter_soup(text in "[ \t\"'\\[\\]<>=:;,.\\\\/0-9a-zA-Z\u{0}\u{fffd}\u{e9}-]{0,80}") {
        for fmt in formats() {
            let _ = parse(&fmt, &text);
        }
    }

    #[test]
    fn parse_never_panics_on_mutated_real_lines(text in mutated()) {
        for fmt in formats() {
            let _ = parse(&fmt, &text);
        }
    }

    #[test]
    fn typed_number_iff_serde_json_reads_a_number(s in "-?[0-9]{0,3}(\\.[0-9]{0,2})?([eE][+-]?[0-9]{0,2})?|[ -~]{0,6}") {
        let serde = serde_json::from_str::<serde_json::Number>(&s).ok().filter(|_| s.trim() == s);
        match typed(&s) {
            Value::Number(n) => {
                prop_assert_eq!(n.to_string(), s.clone());
                // serde_json agrees it is a number (it may rewrite the text: `0e0` → `0e+0`; we do not).
                prop_assert!(serde.is_some(), "serde_json rejects {:?}", s);
            }
            Value::String(t) => {
                prop_assert_eq!(t, s.clone());
                prop_assert!(serde.is_none(), "serde_json reads {:?} as a number", s);
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}
