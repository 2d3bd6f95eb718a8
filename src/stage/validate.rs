//! `validate SCHEMA_FILE`: checks each event against a JSON Schema (the `jsonschema` crate;
//! the draft is read from the schema's `$schema`, 2020-12 when it has none; drafts 4, 6, 7
//! and 2019-09 too). The schema is read and compiled once, when the pipeline is built; it
//! may not refer to other files or URLs. An event that does not match is a dead letter with
//! reason `schema`; its `error` is the JSON pointer of the first failing value (`/user/age`,
//! or `(root)` for the whole event) and the validator's message.

use super::{Describe, PerEvent, Step};
use crate::event::{Event, Needs, Reason, Rejection};
use crate::lang::Env;
use crate::lang::Expr;
use serde_json::Value;
use std::sync::Arc;

/// How many characters of the validator's message a dead letter keeps (it quotes the value).
const MAX_MESSAGE: usize = 300;

#[derive(Clone)]
pub(crate) struct Validate {
    file: String,
    schema: Arc<jsonschema::Validator>,
}

impl std::fmt::Debug for Validate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validate")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl Validate {
    /// Reads and compiles the schema; the error names the file and what is wrong.
    /// The schema is held in memory: it may hold at most `limit` bytes.
    pub(crate) fn load(file: &str, limit: usize) -> Result<Validate, String> {
        let text = crate::input::read_whole(file, limit).map_err(|e| {
            format!(
                "validate: cannot read `{file}`: {}",
                crate::messages::io_at(std::path::Path::new(file), &e)
            )
        })?;
        let schema: Value =
            serde_json::from_slice(&text).map_err(|e| format!("validate: {file}: not valid JSON: {e}"))?;
        Validate::compile(file, &schema)
    }

    fn compile(file: &str, schema: &Value) -> Result<Validate, String> {
        let depth = depth(schema);
        if depth > MAX_DEPTH {
            return Err(format!(
                "validate: {file}: its references and nesting lead {depth} levels deep, past the {MAX_DEPTH} evq checks events through"
            ));
        }
        let compiled = jsonschema::validator_for(schema).map_err(|e| match e.kind() {
            jsonschema::error::ValidationErrorKind::Referencing(r) => {
                format!("validate: {file}: {}", unfollowed(r))
            }
            _ => {
                let at = pointer(e.instance_path().as_str());
                format!(
                    "validate: {file}: not a valid JSON Schema at {at}: {}",
                    clip(&e.to_string())
                )
            }
        })?;
        Ok(Validate {
            file: file.to_string(),
            schema: Arc::new(compiled),
        })
    }

    pub(crate) fn apply<'a>(&self, ev: &Event<'a>) -> Step<'a> {
        let owned;
        let doc = match ev.tree() {
            Some(v) => v,
            None => match ev.to_value() {
                Ok(v) => {
                    owned = v;
                    &owned
                }
                Err(r) => return Step::Dead(r),
            },
        };
        match self.schema.validate(doc) {
            Ok(()) => Step::Pass,
            Err(e) => {
                let at = pointer(e.instance_path().as_str());
                let error = format!("{at}: {}", clip(&e.to_string()));
                Step::Dead(Rejection::new(Reason::Schema, error))
            }
        }
    }
}

impl Describe for Validate {
    fn expressions(&self) -> Vec<&Expr> {
        Vec::new()
    }

    fn needs(&self, n: &mut Needs) {
        n.whole = true;
    }

    fn name(&self) -> &'static str {
        "validate"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("invalid: dead letter (schema)")
    }
}

impl PerEvent for Validate {
    fn step<'a>(&self, ev: &mut Event<'a>, _: &Env) -> Step<'a> {
        self.apply(ev)
    }
}

/// How deep a schema's subschemas and the `$ref`s between them may lead: the validator takes
/// each level on the stack, and a long chain of references would overflow it.
const MAX_DEPTH: usize = 1000;

/// The most levels one path through the schema takes, each subschema one and each reference
/// (`$ref`, `$dynamicRef`, `$recursiveRef`, to `#`, a `#/…` pointer or a `#name` anchor) one;
/// a reference back into the path adds none. Found without recursion, as deep schemas are the
/// point.
fn depth(root: &Value) -> usize {
    let anchors = anchors(root);
    let target = |r: &str| -> Option<&Value> {
        let fragment = r.strip_prefix('#')?;
        if fragment.is_empty() || fragment.starts_with('/') {
            root.pointer(fragment)
        } else {
            anchors.get(fragment).copied()
        }
    };
    let below = |v| below(v, &target);
    // Depth first, each node's depth found after those below it; `None` while in the path.
    let key = |v: &Value| std::ptr::from_ref(v) as usize;
    let mut found: std::collections::HashMap<usize, Option<usize>> = std::collections::HashMap::new();
    let mut stack = vec![(root, false)];
    while let Some((v, below_done)) = stack.pop() {
        if below_done {
            let deepest = below(v)
                .into_iter()
                .filter_map(|b| found.get(&key(b)).copied().flatten())
                .max();
            found.insert(key(v), Some(1 + deepest.unwrap_or(0)));
            continue;
        }
        if found.contains_key(&key(v)) {
            continue;
        }
        found.insert(key(v), None);
        stack.push((v, true));
        stack.extend(
            below(v)
                .into_iter()
                .filter(|b| !found.contains_key(&key(b)))
                .map(|b| (b, false)),
        );
    }
    found.get(&key(root)).copied().flatten().unwrap_or(0)
}

/// The values a path goes on to from `v`: its objects and arrays, and what its references name.
fn below<'v>(v: &'v Value, target: &impl Fn(&str) -> Option<&'v Value>) -> Vec<&'v Value> {
    match v {
        Value::Object(m) => m
            .iter()
            .filter_map(|(k, child)| match (k.as_str(), child) {
                ("$ref" | "$dynamicRef" | "$recursiveRef", Value::String(r)) => target(r),
                (_, child @ (Value::Object(_) | Value::Array(_))) => Some(child),
                _ => None,
            })
            .collect(),
        Value::Array(items) => items.iter().filter(|i| i.is_object() || i.is_array()).collect(),
        _ => Vec::new(),
    }
}

/// The schema's named places: `$anchor`, `$dynamicAnchor`, and an `$id` (`id` in draft 4)
/// that is a `#name` fragment.
fn anchors(root: &Value) -> std::collections::HashMap<&str, &Value> {
    let mut named = std::collections::HashMap::new();
    let mut stack = vec![root];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    match (k.as_str(), child) {
                        ("$anchor" | "$dynamicAnchor", Value::String(name)) => {
                            named.insert(name.as_str(), v);
                        }
                        ("$id" | "id", Value::String(id)) if id.starts_with('#') => {
                            named.insert(&id[1..], v);
                        }
                        _ => stack.push(child),
                    }
                }
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    named
}

/// A JSON pointer as shown in messages: the empty pointer (the whole event) is `(root)`.
fn pointer(p: &str) -> &str {
    if p.is_empty() { "(root)" } else { p }
}

/// Why a `$ref` could not be followed, in words that say what to change: a schema is read
/// from one local file, and every reference must point inside it.
fn unfollowed(e: &jsonschema::ReferencingError) -> String {
    match e {
        jsonschema::ReferencingError::Unretrievable { uri, .. } => format!(
            "its $ref \"{}\" leads out of the file; validate reads one schema file, so a $ref must \
             point inside it (\"#/$defs/NAME\") or to a $id the file defines",
            clip(uri)
        ),
        jsonschema::ReferencingError::InvalidUri(_) => format!(
            "a $ref is not a reference evq can follow ({}); a $ref must point inside the file (\"#/$defs/NAME\")",
            clip(&e.to_string())
        ),
        _ => format!("a $ref leads nowhere: {}", clip(&e.to_string())),
    }
}

fn clip(message: &str) -> String {
    match message.char_indices().nth(MAX_MESSAGE) {
        Some((at, _)) => format!("{}…", &message[..at]),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Origin;

    fn schema(s: &str) -> Result<Validate, String> {
        Validate::compile("s.json", &serde_json::from_str(s).expect("valid JSON"))
    }

    fn check(v: &Validate, line: &str) -> Result<(), String> {
        let mut needs = Needs::default();
        v.needs(&mut needs);
        let ev = Event::parse(line, Origin::default(), &needs).expect("valid JSON");
        match v.apply(&ev) {
            Step::Pass => Ok(()),
            Step::Dead(r) => Err(format!("{}: {}", r.reason.name(), r.error)),
            _ => Err("other".into()),
        }
    }

    const USER: &str = r#"{"type":"object","required":["id"],
        "properties":{"id":{"type":"integer"},"user":{"properties":{"age":{"minimum":0}}}}}"#;

    #[test]
    fn invalid_events_name_the_failing_pointer() {
        let v = schema(USER).expect("a valid schema");
        assert_eq!(check(&v, r#"{"id":1,"user":{"age":3}}"#), Ok(()));
        let e = check(&v, r#"{"id":1,"user":{"age":-1}}"#).expect_err("below the minimum");
        assert!(
            e.starts_with("schema: /user/age: -1 is less than the minimum of 0"),
            "{e}"
        );
        let e = check(&v, r#"{"user":{}}"#).expect_err("no id");
        assert!(e.starts_with("schema: (root): \"id\" is a required property"), "{e}");
    }

    #[test]
    fn draft_7_schemas_are_read_by_their_schema_keyword() {
        let v = schema(r#"{"$schema":"http://json-schema.org/draft-07/schema#","items":[{"type":"string"}]}"#)
            .expect("a valid draft 7 schema");
        assert_eq!(check(&v, r#"["a",1]"#), Ok(()));
        assert!(check(&v, "[1]").is_err());
    }

    #[test]
    fn big_numbers_are_compared_exactly() {
        let v = schema(r#"{"properties":{"n":{"maximum":18446744073709551615}}}"#).expect("valid");
        assert_eq!(check(&v, r#"{"n":18446744073709551615}"#), Ok(()));
        assert!(check(&v, r#"{"n":18446744073709551616}"#).is_err());
    }

    /// A schema whose `$ref`s lead through `n` definitions, each to the next.
    fn chain(n: usize, by_anchor: bool) -> Value {
        let mut defs = serde_json::Map::new();
        for i in 0..n {
            let next = if by_anchor {
                format!("#a{}", i + 1)
            } else {
                format!("#/$defs/d{}", i + 1)
            };
            defs.insert(
                format!("d{i}"),
                serde_json::json!({"$anchor": format!("a{i}"), "$ref": next}),
            );
        }
        defs.insert(
            format!("d{n}"),
            serde_json::json!({"$anchor": format!("a{n}"), "type": "string"}),
        );
        serde_json::json!({"$defs": defs, "$ref": "#/$defs/d0"})
    }

    #[test]
    fn a_chain_of_references_too_long_to_check_is_refused_and_a_loop_is_not() {
        for by_anchor in [false, true] {
            let long = Validate::compile("s.json", &chain(20_000, by_anchor)).expect_err("too deep");
            assert!(long.contains("levels deep, past the 1000"), "{long}");
            let v = Validate::compile("s.json", &chain(100, by_anchor)).expect("a short chain");
            assert_eq!(check(&v, r#""text""#), Ok(()));
            assert!(check(&v, "1").is_err());
        }
        let looped = r##"{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"properties":{"x":{"$ref":"#/$defs/a"}}}},"$ref":"#/$defs/a"}"##;
        assert!(schema(looped).is_ok());
        assert_eq!(depth(&serde_json::from_str(looped).unwrap()), 6);
    }

    #[test]
    fn a_bad_schema_is_refused() {
        let e = schema(r#"{"type":"nonsense"}"#).expect_err("invalid schema");
        assert!(e.starts_with("validate: s.json: not a valid JSON Schema"), "{e}");
    }
}
