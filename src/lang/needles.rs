//! Texts a condition needs in a JSON line to hold, so that lines without them are dropped
//! before their fields are read: `level == "error"` can hold only where the line holds
//! `"error"`, quotes included. A string may also be written with escapes (`"err\u006fr"`),
//! but a needle holds no quote, backslash or control character, so only a `\u` escape (or
//! `\/`, for a needle with a slash) can spell it otherwise: a line with one is read in full.
//!
//! Only comparisons of an event's field with a string (`==`, `in [...]`) give a needle,
//! joined by `and` (every clause must be met) and `or` (either side's). Anything else —
//! numbers, which have many spellings, functions, `not` — gives none, and then every line
//! is read.

use super::ast::{BinOp, Expr};
use super::value::Val;
use memchr::memmem::Finder;
use serde_json::Value;

/// Clauses that must all be met; a clause is met when the line holds any of its texts.
#[derive(Debug, Clone)]
pub(crate) struct Needles {
    clauses: Vec<Vec<Finder<'static>>>,
    /// Some text holds a `/`, which JSON may also write as `\/`.
    slash: bool,
}

impl Needles {
    /// The texts `cond` needs, or `None` when it can hold without any.
    pub(crate) fn of(cond: &Expr) -> Option<Needles> {
        let texts = clauses(cond);
        let slash = texts.iter().flatten().any(|t| t.contains('/'));
        let clauses: Vec<Vec<Finder<'static>>> = texts
            .iter()
            .map(|texts| texts.iter().map(|t| Finder::new(t.as_bytes()).into_owned()).collect())
            .collect();
        (!clauses.is_empty()).then_some(Needles { clauses, slash })
    }

    /// False only when `line` cannot hold the condition whatever its fields.
    pub(crate) fn may_match(&self, line: &[u8]) -> bool {
        self.may_spell_otherwise(line)
            || self
                .clauses
                .iter()
                .all(|any| any.iter().any(|f| f.find(line).is_some()))
    }

    /// Whether `line` has an escape that could spell a needle's text: `\u`, or `\/` when a
    /// text holds a slash. (The `u` of an escaped backslash, `\\u`, is taken for one too.)
    fn may_spell_otherwise(&self, line: &[u8]) -> bool {
        memchr::memchr_iter(b'\\', line).any(|i| match line.get(i + 1) {
            Some(b'u') => true,
            Some(b'/') => self.slash,
            _ => false,
        })
    }
}

/// The clauses of `e`: each a list of quoted texts of which the line must hold one.
fn clauses(e: &Expr) -> Vec<Vec<String>> {
    match e {
        Expr::Bin(BinOp::And, a, b) => {
            let mut all = clauses(a);
            all.extend(clauses(b));
            all
        }
        Expr::Bin(BinOp::Or, a, b) => {
            let (a, b) = (clauses(a), clauses(b));
            match (shortest(a), shortest(b)) {
                (Some(mut x), Some(y)) => {
                    x.extend(y);
                    vec![x]
                }
                _ => Vec::new(),
            }
        }
        Expr::Bin(BinOp::Eq, a, b) => match (a.as_ref(), b.as_ref()) {
            (Expr::Path(_), other) | (other, Expr::Path(_)) => strings(other, false).into_iter().collect(),
            _ => Vec::new(),
        },
        Expr::Bin(BinOp::In, a, b) if matches!(a.as_ref(), Expr::Path(_)) => strings(b, true).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Of the clauses of one side of `or`, the one with the fewest texts.
fn shortest(clauses: Vec<Vec<String>>) -> Option<Vec<String>> {
    clauses.into_iter().min_by_key(Vec::len)
}

/// The quoted texts of a string constant, or (`listed`) of an array of string constants;
/// `None` when some value is not a string or needs escapes in JSON.
fn strings(e: &Expr, listed: bool) -> Option<Vec<String>> {
    match e {
        Expr::Const(Val::Str(s)) if !listed => quoted(s).map(|q| vec![q]),
        Expr::Const(Val::Json(v)) if listed => match v.as_ref() {
            Value::Array(items) if !items.is_empty() => items.iter().map(|i| quoted(i.as_str()?)).collect(),
            _ => None,
        },
        Expr::Array(items) if listed && !items.is_empty() => items
            .iter()
            .map(|i| match i {
                Expr::Const(Val::Str(s)) => quoted(s),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// `s` as JSON writes it without escapes, or `None` if it needs one.
fn quoted(s: &str) -> Option<String> {
    let plain = s.chars().all(|c| c >= ' ' && c != '"' && c != '\\' && c != '\u{7f}');
    plain.then(|| format!("\"{s}\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parse_expr;

    fn needles(src: &str) -> Option<Needles> {
        Needles::of(&parse_expr(src).unwrap())
    }

    fn may(src: &str, line: &str) -> bool {
        needles(src).expect("needles").may_match(line.as_bytes())
    }

    #[test]
    fn equality_with_a_string_needs_it_quoted() {
        assert!(may(r#"level == "error""#, r#"{"level":"error"}"#));
        assert!(may(r#""error" == level"#, r#"{"level":"error"}"#));
        assert!(!may(r#"level == "error""#, r#"{"level":"errors","msg":"an error"}"#));
    }

    #[test]
    fn a_line_that_may_spell_a_needle_with_escapes_is_read() {
        assert!(may(r#"level == "error""#, r#"{"level":"err\u006fr"}"#));
        assert!(may(r#"level == "error""#, r#"{"level":"err\\u006fr"}"#));
        assert!(may(r#"path == "/a""#, r#"{"path":"\/a"}"#));
        assert!(may(r#"path in ["x", "/a"]"#, r#"{"path":"\/a"}"#));
    }

    #[test]
    fn other_escapes_cannot_spell_a_needle() {
        assert!(!may(r#"level == "error""#, r#"{"msg":"a\"b","level":"info"}"#));
        assert!(!may(r#"level == "error""#, r#"{"msg":"a\\b\n\/","level":"info"}"#));
        assert!(!may(r#"path == "/a""#, r#"{"msg":"a\"b\n","path":"/b"}"#));
    }

    #[test]
    fn and_needs_every_clause_and_or_either_side() {
        let src = r#"level == "error" and service == "api""#;
        assert!(may(src, r#"{"level":"error","service":"api"}"#));
        assert!(!may(src, r#"{"level":"error","service":"web"}"#));
        let src = r#"level == "error" or level == "fatal""#;
        assert!(may(src, r#"{"level":"fatal"}"#));
        assert!(!may(src, r#"{"level":"warn"}"#));
        let src = r#"level in ["error", "fatal"] and latency_ms > 500"#;
        assert!(may(src, r#"{"level":"fatal","latency_ms":900}"#));
        assert!(!may(src, r#"{"level":"info","latency_ms":900}"#));
    }

    #[test]
    fn conditions_that_hold_without_a_string_give_none() {
        for src in [
            "latency_ms > 500",
            r#"level != "error""#,
            r#"not (level == "error")"#,
            r#"level == "error" or latency_ms > 500"#,
            r#"lower(level) == "error""#,
            r#"level == "a\"b""#,
            "status == 500",
            r#"level in ["error", 5]"#,
            r#""err" in msg"#,
        ] {
            assert!(needles(src).is_none(), "{src}");
        }
    }
}
