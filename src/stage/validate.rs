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
        let compiled = jsonschema::validator_for(schema).map_err(|e| {
            let at = pointer(e.instance_path().as_str());
            format!(
                "validate: {file}: not a valid JSON Schema at {at}: {}",
                clip(&e.to_string())
            )
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

/// A JSON pointer as shown in messages: the empty pointer (the whole event) is `(root)`.
fn pointer(p: &str) -> &str {
    if p.is_empty() { "(root)" } else { p }
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

    #[test]
    fn a_bad_schema_is_refused() {
        let e = schema(r#"{"type":"nonsense"}"#).expect_err("invalid schema");
        assert!(e.starts_with("validate: s.json: not a valid JSON Schema"), "{e}");
    }
}
