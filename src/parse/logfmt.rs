//! logfmt (`key=value key2="quoted value" bare_key`), as written by Go's logfmt, Heroku and Grafana tools.

use super::{Fields, typed};
use serde_json::{Map, Value};

/// Parses a logfmt line. Field rules are in the module documentation of `parse`.
pub(super) fn parse(text: &str) -> Option<Fields> {
    let b = text.as_bytes();
    let mut f = Map::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == b.len() {
            break;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'"' {
            i += 1;
        }
        if i == start || b.get(i) == Some(&b'"') {
            return None;
        }
        let key = &text[start..i];
        let value = if b.get(i) == Some(&b'=') {
            i += 1;
            if b.get(i) == Some(&b'"') {
                let (v, end) = unquote(text, i)?;
                if b.get(end).is_some_and(|c| !c.is_ascii_whitespace()) {
                    return None;
                }
                i = end;
                Value::String(v)
            } else {
                let vstart = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                typed(&text[vstart..i])
            }
        } else {
            Value::Bool(true)
        };
        f.insert(key.to_owned(), value);
    }
    (!f.is_empty()).then_some(f)
}

/// Decodes the double-quoted string opening at byte `open`: JSON escapes (`\"` `\\` `\/` `\b` `\f` `\n` `\r`
/// `\t` `\uXXXX`, surrogate pairs joined); an unknown or malformed escape is kept as written. Returns the text
/// and the index after the closing quote; `None` when it is not closed.
fn unquote(s: &str, open: usize) -> Option<(String, usize)> {
    let b = s.as_bytes();
    let mut out = String::new();
    let (mut seg, mut i) = (open + 1, open + 1);
    while i < b.len() {
        match b[i] {
            b'"' => {
                out.push_str(&s[seg..i]);
                return Some((out, i + 1));
            }
            b'\\' => {
                let decoded = match b.get(i + 1) {
                    Some(b'"') => Some(('"', 2)),
                    Some(b'\\') => Some(('\\', 2)),
                    Some(b'/') => Some(('/', 2)),
                    Some(b'b') => Some(('\u{8}', 2)),
                    Some(b'f') => Some(('\u{c}', 2)),
                    Some(b'n') => Some(('\n', 2)),
                    Some(b'r') => Some(('\r', 2)),
                    Some(b't') => Some(('\t', 2)),
                    Some(b'u') => unicode_escape(s, i),
                    _ => None,
                };
                match decoded {
                    Some((c, len)) => {
                        out.push_str(&s[seg..i]);
                        out.push(c);
                        i += len;
                        seg = i;
                    }
                    // Kept as written; skipping the next byte means `\` never escapes a closing quote here
                    // (that case is decoded above), and never splits a UTF-8 sequence (`seg` stays put).
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// `\uXXXX` at byte `at`, or a `\uD8XX\uDCXX` surrogate pair: the character and the escape's length.
fn unicode_escape(s: &str, at: usize) -> Option<(char, usize)> {
    let hex = |from: usize| {
        s.get(from..from + 4).and_then(|h| {
            u32::from_str_radix(h, 16)
                .ok()
                .filter(|_| h.bytes().all(|c| c.is_ascii_hexdigit()))
        })
    };
    let hi = hex(at + 2)?;
    if (0xD800..0xDC00).contains(&hi) && s.get(at + 6..at + 8) == Some("\\u") {
        let lo = hex(at + 8).filter(|lo| (0xDC00..0xE000).contains(lo))?;
        let c = char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?;
        return Some((c, 12));
    }
    char::from_u32(hi).map(|c| (c, 6))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn logfmt(s: &str) -> Option<Value> {
        parse(s).map(Value::Object)
    }

    #[test]
    fn typical_line() {
        let line = r#"ts=2026-03-27T13:06:56Z level=info msg="request done" status=200 took=1.5ms cached"#;
        assert_eq!(
            logfmt(line),
            Some(
                json!({"ts": "2026-03-27T13:06:56Z", "level": "info", "msg": "request done", "status": 200,
                        "took": "1.5ms", "cached": true})
            )
        );
    }

    #[test]
    fn quoted_values_with_escapes_stay_strings() {
        let v = logfmt(r#"msg="say \"hi\"\n\ttab \\ \u00e9\ud83d\ude00 \q" code="200""#).expect("parses");
        assert_eq!(v["msg"], json!("say \"hi\"\n\ttab \\ é😀 \\q"));
        assert_eq!(v["code"], json!("200"));
    }

    #[test]
    fn empty_values_and_leading_zeros() {
        assert_eq!(
            logfmt(r#"a= b="" c=007 d=-0.5e3"#).map(|v| v.to_string()),
            Some(r#"{"a":"","b":"","c":"007","d":-0.5e3}"#.to_owned())
        );
    }

    #[test]
    fn bare_values_may_hold_equals_signs_and_quotes() {
        assert_eq!(
            logfmt(r#"token=abc== q=a"b"#),
            Some(json!({"token": "abc==", "q": "a\"b"}))
        );
    }

    #[test]
    fn last_duplicate_wins_at_first_position() {
        let f = parse("a=1 b=2 a=3").expect("parses");
        assert_eq!(serde_json::to_string(&f).expect("serializes"), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn malformed_lines_do_not_match() {
        for line in [
            "",
            "   ",
            "=x",
            "a=1 =2",
            r#"a="unterminated"#,
            r#"a="x"y"#,
            r#""k"=v"#,
            r#"k"ey=v"#,
        ] {
            assert!(logfmt(line).is_none(), "{line:?}");
        }
    }

    #[test]
    fn plain_words_are_flags() {
        assert_eq!(logfmt("hello world"), Some(json!({"hello": true, "world": true})));
    }

    #[test]
    fn utf8_replacement_chars_and_nul_bytes() {
        let v = logfmt("k\u{fffd}=v\u{0} \u{e9}t\u{e9}=\"\u{1F600}\\\u{e9}\"").expect("parses");
        assert_eq!(v, json!({"k\u{fffd}": "v\u{0}", "\u{e9}t\u{e9}": "\u{1F600}\\\u{e9}"}));
    }

    #[test]
    fn broken_unicode_escapes_are_kept() {
        assert!(logfmt(r#"d="\"#).is_none(), "an escaped quote does not close");
        let v = logfmt(r#"a="\u12" b="\ud800x" c="\uZZZZ""#).expect("parses");
        assert_eq!(v, json!({"a": "\\u12", "b": "\\ud800x", "c": "\\uZZZZ"}));
    }
}
