//! Loose `key=value` pairs found anywhere in a line (firewall logs, application messages, `a=1, b=2; c=3`).

use super::{Fields, quoted, typed};
use serde_json::{Map, Value};

fn separator(c: u8) -> bool {
    c.is_ascii_whitespace() || c == b',' || c == b';'
}

/// Parses the pairs of a line. Field rules are in the module documentation of `parse`.
pub(super) fn parse(text: &str) -> Option<Fields> {
    let b = text.as_bytes();
    let mut f = Map::new();
    let mut i = 0;
    loop {
        while i < b.len() && separator(b[i]) {
            i += 1;
        }
        if i == b.len() {
            break;
        }
        // A quoted string in the free text is skipped whole, so `"a=b c=d"` yields no pairs; an
        // apostrophe that is never closed (`'tis`) is an ordinary character.
        if matches!(b[i], b'"' | b'\'')
            && let Some((_, end)) = quoted(text, i, |_| true)
        {
            i = end;
            continue;
        }
        let start = i;
        let keyless = b[i] == b'=';
        while i < b.len() && !separator(b[i]) && (b[i] != b'=' || keyless) {
            i += 1;
        }
        if keyless || i == b.len() || b[i] != b'=' {
            continue; // a word without `=`, or one starting with `=`: free text
        }
        let key = &text[start..i];
        i += 1;
        let value = if matches!(b.get(i), Some(b'"' | b'\'')) {
            let (v, end) = quoted(text, i, |_| true)?;
            i = end;
            Value::String(v.into_owned())
        } else {
            let vstart = i;
            while i < b.len() && !separator(b[i]) {
                i += 1;
            }
            typed(&text[vstart..i])
        };
        f.insert(key.to_owned(), value);
    }
    (!f.is_empty()).then_some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kv(s: &str) -> Option<Value> {
        parse(s).map(Value::Object)
    }

    #[test]
    fn firewall_line() {
        let line = "IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=60 PROTO=TCP SPT=443 SYN";
        assert_eq!(
            kv(line),
            Some(
                json!({"IN": "eth0", "OUT": "", "SRC": "10.0.0.1", "DST": "10.0.0.2", "LEN": 60, "PROTO": "TCP",
                        "SPT": 443})
            )
        );
    }

    #[test]
    fn commas_and_semicolons_separate_pairs() {
        assert_eq!(
            kv("user=bob, action=login;ok=true,n=3"),
            Some(json!({"user": "bob", "action": "login", "ok": "true", "n": 3}))
        );
    }

    #[test]
    fn single_and_double_quoted_values() {
        let v = kv(r#"msg='it''s' a="x \"y\"; z" b='don\'t' c="\\""#).expect("parses");
        assert_eq!(v, json!({"msg": "it", "a": "x \"y\"; z", "b": "don't", "c": "\\"}));
        assert_eq!(kv(r#"code="200""#), Some(json!({"code": "200"})));
    }

    #[test]
    fn pairs_inside_free_text() {
        let line = "Mar 27 [INFO] Accepted password user=bob from=2001:db8::1 port 22 'quoted a=1' \"b=2\" 'tis ok=1";
        assert_eq!(kv(line), Some(json!({"user": "bob", "from": "2001:db8::1", "ok": 1})));
    }

    #[test]
    fn colons_do_not_separate_keys_from_values() {
        assert!(kv("time:12:30 user: bob").is_none());
        assert_eq!(kv("url=http://x/?a=1&b=2"), Some(json!({"url": "http://x/?a=1&b=2"})));
    }

    #[test]
    fn equals_without_key_are_free_text() {
        assert_eq!(kv("= =x a = b c=d"), Some(json!({"c": "d"})));
        assert_eq!(kv("a==b"), Some(json!({"a": "=b"})));
    }

    #[test]
    fn no_pairs_or_unterminated_value_does_not_match() {
        for line in ["", " ,; ", "just some words", r#"a="open"#, "b='open"] {
            assert!(kv(line).is_none(), "{line:?}");
        }
    }

    #[test]
    fn numbers_typed_only_when_json_numbers() {
        assert_eq!(
            kv("a=007 b=1.0 c=1e3 d=0x10 e=-2").map(|v| v.to_string()),
            Some(r#"{"a":"007","b":1.0,"c":1e3,"d":"0x10","e":-2}"#.to_owned())
        );
        assert_eq!(kv("b=1.0").expect("parses")["b"].to_string(), "1.0");
    }

    #[test]
    fn utf8_replacement_chars_and_nul_bytes() {
        assert_eq!(
            kv("\u{fffd}=\u{0}\u{e9} \u{0}k='\u{1F600}'"),
            Some(json!({"\u{fffd}": "\u{0}\u{e9}", "\u{0}k": "\u{1F600}"}))
        );
    }
}
