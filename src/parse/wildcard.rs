//! Wildcard patterns, as angle-grinder writes them: `parse "* - * [*] \"* * *\" * *" as ip, …`.
//!
//! A pattern is literal text with `*` holes. It is searched in the text from the left: the text before
//! the first `*` must occur, and each `*` then takes the shortest text up to the next occurrence of the
//! literal after it; a `*` at the end of the pattern takes the rest of the line. This is what the regex
//! `lit0(.*?)lit1(.*?)…` finds, without a regex: the literals are found with memchr's substring search,
//! each at its earliest place, which is the leftmost match (an earlier place leaves more text for the
//! literals that follow). Each capture gets the name at its place in the `as` list, and `_` drops it.

use super::{Fields, typed};
use memchr::memmem::Finder;

/// A compiled pattern: its literal parts around the holes, and the names of the holes.
#[derive(Debug, Clone)]
pub(crate) struct Wildcard {
    /// The text of the pattern, for messages.
    pattern: String,
    /// The literal before the first hole, then the literal after each hole.
    literals: Vec<Finder<'static>>,
    /// One per hole; `None` for `_`.
    names: Vec<Option<String>>,
}

/// Why a pattern and its names do not fit together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WildcardError {
    NoHole,
    Count { holes: usize, names: usize },
}

impl Wildcard {
    /// The number of `*` holes in `pattern`.
    pub(crate) fn holes(pattern: &str) -> usize {
        pattern.bytes().filter(|&b| b == b'*').count()
    }

    /// Compiles `pattern` with one name per `*`.
    pub(crate) fn new(pattern: &str, names: &[String]) -> Result<Wildcard, WildcardError> {
        let holes = Wildcard::holes(pattern);
        if holes == 0 {
            return Err(WildcardError::NoHole);
        }
        if holes != names.len() {
            return Err(WildcardError::Count {
                holes,
                names: names.len(),
            });
        }
        Ok(Wildcard {
            pattern: pattern.to_owned(),
            literals: pattern
                .split('*')
                .map(|l| Finder::new(l.as_bytes()).into_owned())
                .collect(),
            names: names.iter().map(|n| (n != "_").then(|| n.clone())).collect(),
        })
    }

    /// The pattern as written.
    pub(crate) fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The fields of `text`, or `None` when a literal part is not found.
    pub(crate) fn parse(&self, text: &str) -> Option<Fields> {
        let b = text.as_bytes();
        let (first, rest) = self.literals.split_first()?;
        let mut at = first.find(b)? + first.needle().len();
        let mut fields = Fields::new();
        let last = rest.len().saturating_sub(1);
        for (i, (lit, name)) in rest.iter().zip(&self.names).enumerate() {
            let end = match lit.needle() {
                // The last hole with nothing after it takes the rest of the line.
                [] if i == last => b.len(),
                _ => at + lit.find(&b[at..])?,
            };
            if let Some(name) = name {
                fields.insert(name.clone(), typed(text.get(at..end)?));
            }
            at = end + lit.needle().len();
        }
        Some(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn names(s: &str) -> Vec<String> {
        s.split(", ").map(str::to_owned).collect()
    }

    fn parse(pattern: &str, names_: &str, text: &str) -> Option<Value> {
        let w = Wildcard::new(pattern, &names(names_)).expect("pattern fits its names");
        w.parse(text).map(Value::Object)
    }

    #[test]
    fn access_log_pattern_gives_typed_fields() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326"#;
        let got = parse(
            r#"* - * [*] "* * *" * *"#,
            "ip, user, ts, method, path, proto, status, bytes",
            line,
        );
        assert_eq!(
            got,
            Some(
                json!({"ip": "127.0.0.1", "user": "frank", "ts": "10/Oct/2000:13:55:36 -0700",
                "method": "GET", "path": "/a.gif", "proto": "HTTP/1.0", "status": 200, "bytes": 2326})
            )
        );
    }

    #[test]
    fn holes_are_lazy_and_the_last_takes_the_rest() {
        assert_eq!(parse("*=*", "k, v", "a=b=c"), Some(json!({"k": "a", "v": "b=c"})));
        assert_eq!(parse("* *", "a, b", "x y z"), Some(json!({"a": "x", "b": "y z"})));
        assert_eq!(parse("[*]", "a", "pre [x] [y]"), Some(json!({"a": "x"})));
    }

    #[test]
    fn the_pattern_is_searched_anywhere() {
        assert_eq!(parse("user=* ", "u", "ts=1 user=bob ok"), Some(json!({"u": "bob"})));
        assert_eq!(parse("took *ms", "ms", "GET / took 17ms"), Some(json!({"ms": 17})));
    }

    #[test]
    fn a_missing_literal_is_no_match() {
        assert_eq!(parse("[*]", "a", "no brackets"), None);
        assert_eq!(parse("a=* b=*", "a, b", "a=1 c=2"), None);
        assert_eq!(parse("x*y", "a", "yx"), None);
    }

    #[test]
    fn underscore_drops_a_capture_and_empty_holes_are_empty_strings() {
        assert_eq!(parse("* * *", "_, b, _", "1 2 3"), Some(json!({"b": 2})));
        assert_eq!(parse("<*>", "a", "<>"), Some(json!({"a": ""})));
        assert_eq!(parse("**", "a, b", "xy"), Some(json!({"a": "", "b": "xy"})));
    }

    #[test]
    fn numbers_are_typed_as_other_formats_type_them() {
        let got = parse("* * * *", "a, b, c, d", "1.5 007 -3 1e3").map(|v| v.to_string());
        assert_eq!(got.as_deref(), Some(r#"{"a":1.5,"b":"007","c":-3,"d":1e3}"#));
    }

    #[test]
    fn names_must_match_the_holes() {
        assert_eq!(
            Wildcard::new("* *", &names("a")).err(),
            Some(WildcardError::Count { holes: 2, names: 1 })
        );
        assert_eq!(Wildcard::new("abc", &[]).err(), Some(WildcardError::NoHole));
    }

    #[test]
    fn multibyte_text_is_cut_on_literal_boundaries() {
        assert_eq!(parse("é*ü*", "a, b", "xxé→üñ"), Some(json!({"a": "→", "b": "ñ"})));
    }
}
