//! Apache/nginx access logs: Common Log Format and the combined format (with referrer and agent).

use super::{Fields, Want, dash_null, quoted, typed};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Every field an access log line can give, in output order.
const FIELDS: [&str; 12] = [
    "client", "ident", "user", "time", "method", "path", "protocol", "request", "status", "bytes", "referrer", "agent",
];

/// Which of [`FIELDS`] to build: bit `i` for `FIELDS[i]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Mask(u16);

impl Mask {
    pub(crate) fn new(want: &Want) -> Mask {
        Mask(
            FIELDS
                .iter()
                .enumerate()
                .filter(|(_, f)| want.has(f))
                .map(|(i, _)| 1 << i)
                .sum(),
        )
    }

    fn has(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }
}

/// Parses `client ident user [time] "request" status bytes` and, when `combined`, `"referrer" "agent"`.
/// Field rules are in the module documentation of `parse`. The whole line is always checked; only the
/// fields in `mask` are built.
pub(crate) fn parse(text: &str, combined: bool, mask: Mask) -> Option<Fields> {
    let mut c = Cursor { s: text, i: 0 };
    let client = c.token()?;
    let ident = c.token()?;
    let user = c.token()?;
    let time = c.bracketed()?;
    let request = c.quoted()?;
    let status = c.number()?;
    let bytes = c.number()?;
    let extra = if combined {
        Some((c.quoted()?, c.quoted()?))
    } else {
        None
    };
    // Anything after the last field (nginx's `$http_x_forwarded_for`, response times…) is ignored; the
    // readers above guarantee it is separated by whitespace.
    let mut f = Map::new();
    let mut put = |i: usize, v: &dyn Fn() -> Value| {
        if mask.has(i) {
            f.insert(FIELDS[i].to_owned(), v());
        }
    };
    put(0, &|| dash_null(client));
    put(1, &|| dash_null(ident));
    put(2, &|| dash_null(user));
    put(3, &|| dash_null(time));
    if mask.0 & 0b1111_0000 != 0 {
        match split_request(&request) {
            Some((method, path, protocol)) => {
                put(4, &|| Value::String(method.to_owned()));
                put(5, &|| Value::String(path.to_owned()));
                put(6, &|| Value::String(protocol.to_owned()));
            }
            None => {
                put(4, &|| Value::Null);
                put(5, &|| Value::Null);
                put(6, &|| Value::Null);
                put(7, &|| dash_null(&request));
            }
        }
    }
    put(8, &|| number(status));
    put(9, &|| number(bytes));
    if let Some((referrer, agent)) = extra {
        put(10, &|| dash_null(&referrer));
        put(11, &|| dash_null(&agent));
    }
    Some(f)
}

/// A status or size: `-` is null, digits a number (or a string when they have leading zeros).
fn number(t: &str) -> Value {
    if t == "-" { Value::Null } else { typed(t) }
}

/// `METHOD PATH PROTOCOL`. A path with spaces inside is accepted when the last part looks like a protocol
/// (`HTTP/…`); anything else (`-`, `GET /`, junk sent to the port) is not split.
fn split_request(r: &str) -> Option<(&str, &str, &str)> {
    let (method, rest) = r.split_at(memchr::memchr(b' ', r.as_bytes())?);
    let rest = &rest[1..];
    let (path, protocol) = rest.rsplit_once(' ')?;
    let parts_ok = !method.is_empty() && !path.is_empty() && !protocol.is_empty();
    (parts_ok && (!path.contains(' ') || protocol.starts_with("HTTP/"))).then_some((method, path, protocol))
}

/// Reads whitespace-separated fields left to right.
struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

fn ends_field(next: Option<u8>) -> bool {
    next.is_none_or(|c| c == b' ' || c == b'\t')
}

impl<'a> Cursor<'a> {
    fn skip_space(&mut self) {
        let b = self.s.as_bytes();
        while self.i < b.len() && (b[self.i] == b' ' || b[self.i] == b'\t') {
            self.i += 1;
        }
    }

    /// A non-empty run of non-whitespace.
    fn token(&mut self) -> Option<&'a str> {
        self.skip_space();
        let b = self.s.as_bytes();
        let start = self.i;
        while self.i < b.len() && !ends_field(Some(b[self.i])) {
            self.i += 1;
        }
        (self.i > start).then(|| &self.s[start..self.i])
    }

    /// `[text]`, the text as written.
    fn bracketed(&mut self) -> Option<&'a str> {
        self.skip_space();
        let rest = self.s.get(self.i..)?.strip_prefix('[')?;
        let close = memchr::memchr(b']', rest.as_bytes())?;
        let end = self.i + 1 + close + 1;
        if !ends_field(self.s.as_bytes().get(end).copied()) {
            return None;
        }
        self.i = end;
        Some(&rest[..close])
    }

    /// `"text"` with `\"` and `\\` unescaped. A quote not followed by whitespace or the end of the line is
    /// part of the text, which tolerates old servers that did not escape quotes inside user agents.
    fn quoted(&mut self) -> Option<Cow<'a, str>> {
        self.skip_space();
        if self.s.as_bytes().get(self.i) != Some(&b'"') {
            return None;
        }
        let (text, end) = quoted(self.s, self.i, ends_field)?;
        self.i = end;
        Some(text)
    }

    /// Digits or `-`.
    fn number(&mut self) -> Option<&'a str> {
        let t = self.token()?;
        (t == "-" || t.bytes().all(|c| c.is_ascii_digit())).then_some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn combined(s: &str) -> Option<Value> {
        parse(s, true, Mask::new(&Want::All)).map(Value::Object)
    }

    fn common(s: &str) -> Option<Value> {
        parse(s, false, Mask::new(&Want::All)).map(Value::Object)
    }

    const APACHE_EXAMPLE: &str = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#;

    #[test]
    fn combined_typical_line() {
        assert_eq!(
            combined(APACHE_EXAMPLE),
            Some(json!({
                "client": "127.0.0.1", "ident": null, "user": "frank", "time": "10/Oct/2000:13:55:36 -0700",
                "method": "GET", "path": "/apache_pb.gif", "protocol": "HTTP/1.0", "status": 200, "bytes": 2326,
                "referrer": "http://www.example.com/start.html", "agent": "Mozilla/4.08 [en] (Win98; I ;Nav)"
            }))
        );
    }

    #[test]
    fn common_typical_line_and_key_order() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;
        let f = parse(line, false, Mask::new(&Want::All)).expect("common line");
        let keys: Vec<&str> = f.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "client", "ident", "user", "time", "method", "path", "protocol", "status", "bytes"
            ]
        );
    }

    #[test]
    fn common_accepts_combined_lines_ignoring_the_rest() {
        let v = common(APACHE_EXAMPLE).expect("parses");
        assert_eq!(v["bytes"], json!(2326));
        assert!(v.get("agent").is_none());
    }

    #[test]
    fn dashes_become_null() {
        let v = combined(r#"- - - [-] "-" - - "-" "-""#).expect("all dashes");
        assert_eq!(
            v,
            json!({"client": null, "ident": null, "user": null, "time": null, "method": null, "path": null,
                   "protocol": null, "request": null, "status": null, "bytes": null, "referrer": null, "agent": null})
        );
    }

    #[test]
    fn escaped_quotes_inside_fields() {
        let line = r#"1.2.3.4 - - [t] "GET /a\"b HTTP/1.1" 404 0 "-" "Bot \"X\" 1.0\\""#;
        let v = combined(line).expect("escaped quotes");
        assert_eq!(v["path"], json!("/a\"b"));
        assert_eq!(v["agent"], json!("Bot \"X\" 1.0\\"));
        assert_eq!(v["bytes"], json!(0));
    }

    #[test]
    fn unescaped_inner_quote_is_text() {
        let line = r#"1.2.3.4 - - [t] "GET / HTTP/1.1" 200 5 "-" "Mozilla "compat"/5.0""#;
        assert_eq!(
            combined(line).expect("parses")["agent"],
            json!(r#"Mozilla "compat"/5.0"#)
        );
    }

    #[test]
    fn ipv6_client() {
        let line = r#"2001:db8::ff00:42:8329 - - [17/May/2015:10:05:03 +0000] "HEAD / HTTP/2.0" 304 - "-" "curl""#;
        let v = combined(line).expect("ipv6");
        assert_eq!(v["client"], json!("2001:db8::ff00:42:8329"));
        assert_eq!(v["bytes"], Value::Null);
        assert_eq!(v["status"], json!(304));
    }

    #[test]
    fn request_with_spaces_inside_the_path() {
        let v = common(r#"h - - [t] "GET /my file.txt HTTP/1.1" 200 1"#).expect("parses");
        assert_eq!(
            (&v["method"], &v["path"], &v["protocol"]),
            (&json!("GET"), &json!("/my file.txt"), &json!("HTTP/1.1"))
        );
        assert!(v.get("request").is_none());
    }

    #[test]
    fn request_that_does_not_split_is_kept_raw() {
        for raw in ["GET /", "\\x16\\x03\\x01", "", "GET /a b c", "PROPFIND"] {
            let v = common(&format!(r#"h - - [t] "{raw}" 400 0"#)).expect("parses");
            assert_eq!(v["request"], json!(raw), "{raw:?}");
            assert_eq!(
                (&v["method"], &v["path"], &v["protocol"]),
                (&Value::Null, &Value::Null, &Value::Null)
            );
        }
    }

    #[test]
    fn missing_fields_do_not_match() {
        assert!(combined(r#"h - - [t] "GET / HTTP/1.1" 200 5 "-""#).is_none());
        assert!(combined(r#"h - - [t] "GET / HTTP/1.1" 200 5"#).is_none());
        assert!(common(r#"h - - [t] "GET / HTTP/1.1" 200"#).is_none());
        assert!(common(r#"h - [t] "GET / HTTP/1.1" 200 5"#).is_none());
        assert!(common("").is_none());
        assert!(common("   ").is_none());
    }

    #[test]
    fn truncated_or_malformed_lines_do_not_match() {
        assert!(combined(r#"h - - [t] "GET / HTTP/1.1" 200 5 "-" "Mozilla (compat"#).is_none());
        assert!(common(r#"h - - [t "GET / HTTP/1.1" 200 5"#).is_none());
        assert!(common(r#"h - - [t]"GET / HTTP/1.1" 200 5"#).is_none());
        assert!(common(r#"h - - [t] "GET / HTTP/1.1" OK 5"#).is_none());
        assert!(common(r#"h - - [t] "GET / HTTP/1.1" 200 5kB"#).is_none());
        assert!(common(r"h - - [t] GET / HTTP/1.1 200 5").is_none());
    }

    #[test]
    fn extra_trailing_fields_are_ignored() {
        let line = format!("{APACHE_EXAMPLE} \"10.0.0.1, 10.0.0.2\" 0.004 upstream=\"x\"");
        assert_eq!(combined(&line), combined(APACHE_EXAMPLE));
        assert!(combined(&format!("{APACHE_EXAMPLE}x")).is_none());
    }

    #[test]
    fn tabs_and_repeated_spaces_separate_fields() {
        let v = common("h\t-  -\t[t]  \"GET / HTTP/1.1\"\t200  5").expect("parses");
        assert_eq!(v["status"], json!(200));
    }

    #[test]
    fn leading_zeros_in_numbers_stay_text() {
        let v = common(r#"h - - [t] "GET / HTTP/1.1" 0200 007"#).expect("parses");
        assert_eq!((&v["status"], &v["bytes"]), (&json!("0200"), &json!("007")));
    }

    #[test]
    fn utf8_replacement_chars_and_nul_bytes() {
        let line =
            "h\u{0} - j\u{fffd}rg [t] \"GET /caf\u{e9}/\u{1F600} HTTP/1.1\" 200 1 \"\u{0}\" \"\u{fffd}\u{fffd}\"";
        let v = combined(line).expect("parses");
        assert_eq!(v["client"], json!("h\u{0}"));
        assert_eq!(v["user"], json!("j\u{fffd}rg"));
        assert_eq!(v["path"], json!("/caf\u{e9}/\u{1F600}"));
        assert_eq!(v["agent"], json!("\u{fffd}\u{fffd}"));
    }

    /// The real log of `shared/corpus`: 10,000 lines, one truncated record (line 8,899) that must not match.
    #[test]
    fn corpus_apache_access_log() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/apache-access/apache_logs"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("skipped: {path} is absent");
            return;
        };
        let mut failed = Vec::new();
        let (mut parsed, mut dash_bytes, mut gets) = (0, 0, 0);
        for (n, line) in text.lines().enumerate() {
            match parse(line, true, Mask::new(&Want::All)) {
                Some(f) => {
                    parsed += 1;
                    dash_bytes += usize::from(f["bytes"].is_null());
                    gets += usize::from(f["method"] == "GET");
                    assert!(f["status"].is_number(), "line {}", n + 1);
                }
                None => failed.push(n + 1),
            }
        }
        assert_eq!(failed, [8899]);
        assert_eq!(parsed, 9999);
        // Counted independently: the ninth/tenth space-separated fields and the request's first word.
        let lines: Vec<&str> = text.lines().filter(|l| l.ends_with('"')).collect();
        assert_eq!(lines.len(), 9999);
        let by_split = lines.iter().filter(|l| l.split(' ').nth(9) == Some("-")).count();
        let gets_by_split = lines
            .iter()
            .filter(|l| l.split('"').nth(1).is_some_and(|r| r.starts_with("GET ")))
            .count();
        assert_eq!(dash_bytes, by_split);
        assert_eq!(gets, gets_by_split);
    }
}
