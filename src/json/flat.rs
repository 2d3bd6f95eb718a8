//! Flattening JSON text straight into its leaves and their dotted paths (`a.b`), for the rows of
//! csv, tsv, table and markdown: no tree is built, keys and strings without escapes are borrowed
//! from the text, and numbers keep their text exactly.

use super::{JsonError, Key, KeySet, Members, checked_tree, parse_checked, unquote};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// One leaf of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Leaf<'a> {
    Null,
    Bool(bool),
    /// A number's text as written.
    Number(&'a str),
    Str(Cow<'a, str>),
    /// An array or an empty object, as compact JSON.
    Json(Cow<'a, str>),
}

/// Why text cannot be flattened here: an object repeats a key (where a tree keeps the last value
/// in the first one's place), or it is not JSON at all. The caller then builds the tree.
#[derive(Debug)]
pub(crate) struct Unflat;

impl From<JsonError> for Unflat {
    fn from(_: JsonError) -> Unflat {
        Unflat
    }
}

/// Calls `f` with each leaf of the JSON value `text` and its path, named as
/// `output::rows::flatten` names them: nested objects' keys joined with `.`, `value` for a value
/// that is not an object, nothing for `{}`. On `Err`, `f` may have seen some leaves already.
pub(crate) fn flatten_text(text: &str, f: &mut impl FnMut(&str, Leaf<'_>)) -> Result<(), Unflat> {
    walk(text.trim(), &mut String::new(), true, f)
}

fn walk(text: &str, path: &mut String, top: bool, f: &mut impl FnMut(&str, Leaf<'_>)) -> Result<(), Unflat> {
    let name = |path: &String| if top { "value".to_string() } else { path.clone() };
    let leaf = match text.as_bytes().first() {
        Some(b'{') => {
            let Members(members) = parse_checked(text)?;
            if members.is_empty() {
                if !top {
                    f(path.as_str(), Leaf::Json(Cow::Borrowed("{}")));
                }
                return Ok(());
            }
            if repeats_a_key(&members) {
                return Err(Unflat);
            }
            for (k, v) in members {
                let len = path.len();
                if !top {
                    path.push('.');
                }
                path.push_str(&k.0);
                walk(v.get().trim(), path, false, f)?;
                path.truncate(len);
            }
            return Ok(());
        }
        // Arrays are written as a tree writes them (compact, minimal escapes).
        Some(b'[') => Leaf::Json(Cow::Owned(checked_tree(text)?.to_string())),
        Some(b'"') => Leaf::Str(unquote(text)),
        Some(b't') => Leaf::Bool(true),
        Some(b'f') => Leaf::Bool(false),
        Some(b'n') => Leaf::Null,
        Some(_) => Leaf::Number(text),
        None => return Err(Unflat),
    };
    f(&name(path), leaf);
    Ok(())
}

/// Whether two members have the same key.
fn repeats_a_key(members: &[(Key<'_>, &RawValue)]) -> bool {
    let mut seen = KeySet::default();
    members.iter().any(|(k, _)| !seen.insert(k.0.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(text: &str) -> Result<Vec<(String, Leaf<'static>)>, Unflat> {
        let mut out = Vec::new();
        flatten_text(text, &mut |k, leaf| {
            let owned = match leaf {
                Leaf::Str(s) => Leaf::Str(Cow::Owned(s.into_owned())),
                Leaf::Json(s) => Leaf::Json(Cow::Owned(s.into_owned())),
                Leaf::Number(n) => Leaf::Str(Cow::Owned(format!("#{n}"))),
                Leaf::Null => Leaf::Null,
                Leaf::Bool(b) => Leaf::Bool(b),
            };
            out.push((k.to_string(), owned));
        })?;
        Ok(out)
    }

    fn s(x: &str) -> Leaf<'static> {
        Leaf::Str(Cow::Owned(x.to_string()))
    }

    #[test]
    fn nested_objects_flatten_to_dotted_paths_with_exact_numbers() {
        let got = leaves(
            r#" {"a": 1.50, "b": {"c": "x\ty", "d": {"e": 1E5}}, "f": [1, "\u00e9"], "g": {}, "h": null, "i": true} "#,
        )
        .unwrap();
        assert_eq!(
            got,
            [
                ("a".into(), s("#1.50")),
                ("b.c".into(), s("x\ty")),
                ("b.d.e".into(), s("#1E5")),
                ("f".into(), Leaf::Json(Cow::Owned("[1,\"é\"]".into()))),
                ("g".into(), Leaf::Json(Cow::Owned("{}".into()))),
                ("h".into(), Leaf::Null),
                ("i".into(), Leaf::Bool(true)),
            ]
        );
    }

    #[test]
    fn values_that_are_not_objects_are_one_value_leaf_and_empty_objects_none() {
        assert_eq!(leaves(r#""hi""#).unwrap(), [("value".to_string(), s("hi"))]);
        assert_eq!(
            leaves("[1]").unwrap(),
            [("value".to_string(), Leaf::Json(Cow::Owned("[1]".into())))]
        );
        assert!(leaves("{}").unwrap().is_empty());
    }

    #[test]
    fn a_repeated_key_is_left_to_the_tree() {
        assert!(leaves(r#"{"a":{"x":1},"a":2}"#).is_err());
        assert!(leaves(r#"{"o":{"k":1,"k":2}}"#).is_err());
        assert!(leaves("").is_err());
    }
}
