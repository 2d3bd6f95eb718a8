use super::*;
use proptest::prelude::*;

fn canon(text: &str) -> Result<String, DuplicateKey> {
    let mut out = String::new();
    canonical(text, &mut out).map(|()| out)
}

fn nested(n: usize) -> String {
    format!("{}1{}", "[".repeat(n), "]".repeat(n))
}

#[test]
fn max_depth_levels_parse_and_one_more_is_too_deep() {
    assert!(tree(&nested(MAX_DEPTH)).is_ok());
    assert!(capture(&nested(MAX_DEPTH), &[], false).is_ok());
    for text in [nested(MAX_DEPTH + 1), format!("{{\"a\":{}}}", nested(MAX_DEPTH))] {
        assert_eq!(tree(&text).map_err(|e| e.kind), Err(JsonErrorKind::TooDeep));
        assert_eq!(
            capture(&text, &[], false).err().map(|e| e.kind),
            Some(JsonErrorKind::TooDeep)
        );
    }
    // Brackets in strings are not nesting.
    let in_string = format!("{{\"s\":\"{}\"}}", "[".repeat(500));
    assert!(capture(&in_string, &[], false).is_ok());
}

#[test]
fn unclosed_deep_text_is_too_deep_without_recursing() {
    let text = "[".repeat(1_000_000);
    assert_eq!(tree(&text).map_err(|e| e.kind), Err(JsonErrorKind::TooDeep));
    assert_eq!(
        capture(&text, &[], false).err().map(|e| e.kind),
        Some(JsonErrorKind::TooDeep)
    );
}

#[test]
fn lone_surrogates_are_rejected_wherever_they_are() {
    for text in [
        r#"{"s":"\ud800"}"#,
        r#"{"s":"\udc00"}"#,
        r#"{"s":"x\ud800\u0041"}"#,
        r#"{"\ud800":1}"#,
        r#"{"a":{"\udfff":1}}"#,
        r#"[1,"\ud800"]"#,
        r#""\ud83d""#,
    ] {
        let want: &[Box<str>] = &["s".into(), "a".into()];
        let lazy = capture(text, &[], false).err();
        let read = capture(text, want, false).err();
        let full = tree(text).err();
        assert_eq!(
            lazy.as_ref().map(|e| e.kind),
            Some(JsonErrorKind::InvalidUnicode),
            "{text}"
        );
        assert_eq!(lazy, read, "{text}: the same whatever is read");
        assert_eq!(lazy, full, "{text}: the same as the full parse");
    }
    for text in [r#"{"s":"\ud83d\ude00"}"#, r#"{"s":"\\ud800"}"#, r#"{"s":"\u00e9"}"#] {
        assert!(capture(text, &[], false).is_ok(), "{text}");
        assert!(tree(text).is_ok(), "{text}");
    }
}

#[test]
fn unquote_decodes_escapes_and_replaces_what_no_string_holds() {
    assert_eq!(unquote(r#""plain""#), "plain");
    assert_eq!(
        unquote(r#""a\"b\\c\/\n\t\b\f\r\u00e9\ud83d\ude00""#),
        "a\"b\\c/\n\t\u{8}\u{c}\ré😀"
    );
    assert_eq!(unquote(r#""\ud800x""#), "\u{fffd}x");
    assert_eq!(unquote(r#""\q\u12""#), "\\q\\u12");
    assert_eq!(unquote(r#""end\""#), "end\\");
}

#[test]
fn write_str_escapes_as_serde_json_does() {
    let all: String = (0u8..=0x7f).map(char::from).chain("é😀\u{2028}".chars()).collect();
    let mut mine = String::new();
    write_str(&mut mine, &all);
    assert_eq!(mine, serde_json::to_string(&all).unwrap_or_default());
}

#[test]
fn canonical_is_what_the_tree_writes() {
    let text = r#" { "a" : [ 1E5 , -0.0, {"k":"\u0041\/\n"} ] , "b":{}, "c" : [ ] , "d":"\u001F\u007f" } "#;
    assert_eq!(
        canon(text).as_deref(),
        Ok("{\"a\":[1E5,-0.0,{\"k\":\"A/\\n\"}],\"b\":{},\"c\":[],\"d\":\"\\u001f\u{7f}\"}")
    );
    assert_eq!(canon(text), Ok(to_string(&tree(text).unwrap_or_default())));
}

#[test]
fn canonical_refuses_repeated_keys_at_any_depth() {
    for text in [
        r#"{"a":1,"a":2}"#,
        r#"{"u":{"k":1,"k":2}}"#,
        r#"{"a":1,"\u0061":2}"#,
        r#"[{"x":[{"a":1,"b":0,"a":1}]}]"#,
    ] {
        assert_eq!(canon(text), Err(DuplicateKey), "{text}");
    }
    let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
    assert!(canon(&format!("{{{}}}", many.join(","))).is_ok());
    assert_eq!(canon(&format!("{{{},\"k3\":0}}", many.join(","))), Err(DuplicateKey));
    // The same key in sibling objects, or a key's text as a value, is no repeat.
    assert!(canon(r#"{"a":{"k":1},"b":{"k":2},"c":["a","a"],"d":"a"}"#).is_ok());
}

/// JSON text with whitespace, escapes and repeated keys.
fn json_text() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec!["a", "b", "\\u0061", "é", "\\n"]);
    let leaf = prop_oneof![
        Just("1".to_string()),
        Just("-0.5e+3".to_string()),
        Just("null".to_string()),
        Just("\"\\u00e9\\/\\\"x\\\\\"".to_string()),
        Just("\"\\ud83d\\ude00\\t\"".to_string()),
        Just("\"plain\"".to_string()),
    ];
    leaf.prop_recursive(6, 40, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[ {} ]", v.join(" , "))),
            prop::collection::vec((key.clone(), inner), 0..4).prop_map(|v| {
                let members: Vec<String> = v.into_iter().map(|(k, x)| format!("\"{k}\" : {x}")).collect();
                format!("{{ {} }}", members.join(","))
            }),
        ]
    })
}

proptest! {
    #[test]
    fn canonical_matches_the_tree_or_reports_a_repeat(text in json_text()) {
        let t = tree(&text).map_err(|e| e.message);
        prop_assert!(t.is_ok(), "{text}: {t:?}");
        let v = t.unwrap_or_default();
        match canon(&text) {
            Ok(c) => prop_assert_eq!(c, to_string(&v)),
            Err(DuplicateKey) => prop_assert!(to_string(&v).len() < text.len()),
        }
    }

    #[test]
    fn next_element_walks_an_arrays_elements_as_written(items in prop::collection::vec(json_text(), 0..6)) {
        let array = format!("[ {} ]", items.join(" ,\n"));
        let (mut found, mut at) = (Vec::new(), 1);
        while let Some((element, next)) = next_element(&array, at) {
            found.push(element.to_string());
            at = next;
        }
        prop_assert_eq!(&found, &items);
        let elements: Vec<String> = found.iter().map(|e| to_string(&tree(e).unwrap_or_default())).collect();
        let Ok(Value::Array(whole)) = tree(&array) else {
            return Err(TestCaseError::fail(format!("{array} is not an array")));
        };
        prop_assert_eq!(elements, whole.iter().map(to_string).collect::<Vec<_>>());
    }

    #[test]
    fn checks_never_panic_on_any_text(text in "[\\[\\]{}\"\\\\u0-9a-fA-F:, dD]{0,64}") {
        let _ = tree(&text);
        let _ = capture(&text, &["a".into()], false);
        let _ = unquote(&text);
        let _ = too_deep(text.as_bytes());
    }
}

#[test]
fn canonical_rewrites_only_escapes_serde_json_would_not_write() {
    let text = r#"["\u0022\u005c\u000A\u001F\u0008\/\"\\\n\t\b\f\r\ud83d\ude00\u00e9x"]"#;
    let want = "[\"\\\"\\\\\\n\\u001f\\b/\\\"\\\\\\n\\t\\b\\f\\r😀éx\"]";
    assert_eq!(canon(text).as_deref(), Ok(want));
    assert_eq!(canon(text), Ok(to_string(&tree(text).unwrap_or_default())));
}

/// Text cut from valid JSON, spliced with bytes that break it in every way the fast path
/// must notice: control characters, bad escapes, numbers out of grammar, trailing text.
fn broken_json_text() -> impl Strategy<Value = String> {
    let junk = prop::sample::select(vec![
        "", "\u{1}", "\t", "\\", "\\x", "\\u12", "\\ud800", "01", "-", "1.", "1e", ".5", "tru", "nul", "}", "]", ",",
        ":", "\"", " x", "\u{7f}", "é",
    ]);
    (json_text(), any::<prop::sample::Index>(), junk).prop_map(|(text, at, junk)| {
        let cut = at.index(text.len() + 1);
        let cut = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        format!("{}{junk}{}", &text[..cut], &text[cut..])
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_fast_path_accepts_only_what_serde_json_accepts_with_the_same_fields(
        text in prop_oneof![json_text(), broken_json_text(), "[\\[\\]{}\"\\\\u0-9a-fA-F:,.eE+\\- \t\u{1}]{0,48}"],
        all in any::<bool>(),
    ) {
        for want in [&[][..], &["a".into(), "é".into()][..]] {
            prop_assert!(fast_path_agrees(&text, want, all).is_ok(), "{:?}", fast_path_agrees(&text, want, all));
        }
    }
}

#[test]
fn the_fast_path_decides_plain_lines_and_declines_unusual_ones() {
    let want: Vec<Box<str>> = vec!["a".into(), "s".into()];
    for plain in [
        r#"{"a":1,"s":"x\"\\\/\b\f\n\r\t\u00e9","n":[-0,0.5,1e9,2E-3,true,false,null,{}],"o":{"p":[]}}"#,
        r#"  { "a" : [ 1 , 2 ] }  "#,
        r#"[1,"a"]"#,
        "\"just text\"",
        "-12.5e+7",
        r#"{"\u0061":1,"s\"":2}"#,
    ] {
        assert!(scan::capture(plain, &want, None, false).is_some(), "{plain}");
        assert_eq!(fast_path_agrees(plain, &want, false), Ok(()));
    }
    let c = scan::capture(r#"{"a": {"b":1} ,"z":2,"s":"t"}"#, &want, None, false).unwrap();
    assert_eq!(c.fields, vec![("a".into(), r#"{"b":1}"#), ("s".into(), r#""t""#)]);
    let escaped = scan::capture(r#"{"\u0061":1}"#, &want, None, false).unwrap();
    assert_eq!(escaped.fields, vec![("a".into(), "1")]);
    for declined in [
        r#"{"$serde_json::private::Number":"1"}"#,
        r#"{"a":"\ud800"}"#,
        &format!("{}{}", "[".repeat(129), "]".repeat(129)),
        r#"{"a":01}"#,
        "{\"a\":\"\u{1}\"}",
        r#"{"a":1} x"#,
        "",
    ] {
        assert!(scan::capture(declined, &want, None, false).is_none(), "{declined}");
    }
}
