//! `join FILE on EXPR [= EXPR] [as NAME]` (content enricher): a left join against a lookup
//! file read once when the pipeline is built, shared by every worker.
//!
//! - FILE is NDJSON (one object per line), or CSV with a header row when its name ends in
//!   `.csv`; CSV values that look like JSON numbers become numbers, as with `-i csv`.
//! - `on A = B`: A is evaluated on the event, B on each record; `on A` uses A for both.
//!   Keys are equal by value (`agg::key`: `1`, `1.0` and `1E0` are one key); a null or
//!   missing key matches nothing. When records repeat a key, the first one wins.
//! - A match adds the record's fields to the event, overwriting fields of the same name
//!   (like jq's `. + $record`), or with `as NAME` puts the record at NAME. No match leaves
//!   the event unchanged; it passes on and is counted in `unmatched_join`.

use super::Step;
use crate::agg::key::write_canonical;
use crate::event::{Event, MAX_PAD, Needs, Reason, Rejection, write_path};
use crate::json::{self, MAX_DEPTH};
use crate::lang::{Env, Expr, Path, Val};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub(crate) struct Join {
    on: Expr,
    name: Option<Path>,
    table: Arc<Lookup>,
}

/// The records of a lookup file, indexed by the canonical bytes of their keys.
#[derive(Debug, Default)]
pub(crate) struct Lookup {
    records: Vec<Map<String, Value>>,
    index: HashMap<Vec<u8>, usize>,
    /// How deeply the deepest record nests.
    depth: usize,
}

impl Join {
    /// Reads and indexes FILE; the error names the file and, for bad content, the line.
    pub(crate) fn load(file: &str, on: Expr, key: &Expr, name: Option<Path>) -> Result<Join, String> {
        let bytes =
            std::fs::read(file).map_err(|e| format!("join: cannot read `{file}`: {}", crate::messages::io(&e)))?;
        let records = if file.to_ascii_lowercase().ends_with(".csv") {
            csv_records(file, &bytes)?
        } else {
            ndjson_records(file, &bytes)?
        };
        Ok(Join {
            on,
            name,
            table: Arc::new(Lookup::new(records, key)),
        })
    }

    pub(crate) fn needs(&self, n: &mut Needs) {
        self.on.visit_paths(&mut |p| n.add_path(p));
    }

    pub(crate) fn apply<'a>(&self, ev: &mut Event<'a>, env: &Env) -> Step<'a> {
        let Some(record) = self.table.get(&self.on.eval(ev, env)) else {
            return Step::Unmatched;
        };
        if !ev.is_object() {
            return dead(Reason::NotObject);
        }
        if self
            .name
            .as_ref()
            .is_some_and(|n| n.segs.len() + self.table.depth > MAX_DEPTH)
        {
            return dead(Reason::TooDeep);
        }
        let doc = match ev.doc_mut() {
            Ok(doc) => doc,
            Err(r) => return Step::Dead(r),
        };
        match (&self.name, doc) {
            (Some(name), doc) => {
                if let Err(reason) = write_path(doc, &name.segs, Value::Object(record.clone()), MAX_PAD) {
                    return dead(reason);
                }
            }
            (None, Value::Object(fields)) => {
                for (k, v) in record {
                    fields.insert(k.clone(), v.clone());
                }
            }
            (None, _) => return dead(Reason::NotObject),
        }
        Step::Pass
    }
}

fn dead<'a>(reason: Reason) -> Step<'a> {
    Step::Dead(Rejection::new(reason, reason.explain()))
}

impl Lookup {
    fn new(records: Vec<Map<String, Value>>, key: &Expr) -> Lookup {
        let env = Env::default();
        let mut table = Lookup::default();
        for (i, record) in records.iter().enumerate() {
            let value = Value::Object(record.clone());
            table.depth = table.depth.max(json::depth(&value));
            let text = json::to_string(&value);
            let ev = Event::derived(&text, value);
            if let Some(bytes) = canonical(&key.eval(&ev, &env)) {
                table.index.entry(bytes).or_insert(i);
            }
        }
        table.records = records;
        table
    }

    fn get(&self, key: &Val) -> Option<&Map<String, Value>> {
        self.index.get(&canonical(key)?).and_then(|&i| self.records.get(i))
    }
}

/// The canonical bytes of a key; `None` for null, which matches nothing.
fn canonical(v: &Val) -> Option<Vec<u8>> {
    if matches!(v, Val::Null) {
        return None;
    }
    let mut out = Vec::new();
    write_canonical(v, &mut out).ok()?;
    Some(out)
}

/// One object per non-blank line.
fn ndjson_records(file: &str, bytes: &[u8]) -> Result<Vec<Map<String, Value>>, String> {
    let mut out = Vec::new();
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let at = |what: String| format!("join: {file}:{}: {what}", n + 1);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = if n == 0 {
            line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
        } else {
            line
        };
        let text = std::str::from_utf8(line).map_err(|e| at(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
        if text.trim().is_empty() {
            continue;
        }
        match json::tree(text).map_err(|e| at(format!("not valid JSON: {}", e.message)))? {
            Value::Object(m) => out.push(m),
            _ => return Err(at("a lookup record must be a JSON object".into())),
        }
    }
    Ok(out)
}

/// A header row, then one object per row.
fn csv_records(file: &str, bytes: &[u8]) -> Result<Vec<Map<String, Value>>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::Reader::from_reader(bytes);
    let error = |e: csv::Error| {
        let line = e.position().map_or(String::new(), |p| format!(":{}", p.line()));
        format!("join: {file}{line}: {e}")
    };
    let headers = reader.headers().map_err(error)?.clone();
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.map_err(error)?;
        let record = headers
            .iter()
            .zip(row.iter())
            .map(|(h, v)| (h.to_string(), crate::parse::typed(v)))
            .collect();
        out.push(record);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Origin;
    use crate::lang::parser::parse_expr;

    fn expr(s: &str) -> Expr {
        parse_expr(s).expect("valid expression")
    }

    fn join(records: &str, on: &str, key: &str, name: Option<&str>) -> Join {
        let records = ndjson_records("t", records.as_bytes()).expect("valid records");
        let name = name.map(|n| match expr(n) {
            Expr::Path(p) => p,
            other => panic!("{other:?}"),
        });
        Join {
            on: expr(on),
            name,
            table: Arc::new(Lookup::new(records, &expr(key))),
        }
    }

    fn run(j: &Join, line: &str) -> String {
        let mut needs = Needs::default();
        j.needs(&mut needs);
        let mut ev = Event::parse(line, Origin::default(), &needs).expect("valid JSON");
        match j.apply(&mut ev, &Env::default()) {
            Step::Pass => ev.json_string(),
            Step::Unmatched => format!("unmatched {}", ev.json_string()),
            Step::Dead(r) => r.reason.name().to_string(),
            _ => "other".into(),
        }
    }

    const USERS: &str =
        "{\"id\":1,\"name\":\"ann\",\"v\":1}\n\n{\"id\":2,\"name\":\"bob\"}\n{\"id\":1.0,\"name\":\"dup\"}\n";

    #[test]
    fn a_match_merges_the_record_and_the_record_wins() {
        let j = join(USERS, "uid", "id", None);
        assert_eq!(
            run(&j, r#"{"uid":1E0,"v":0}"#),
            r#"{"uid":1E0,"v":1,"id":1,"name":"ann"}"#
        );
        assert_eq!(run(&j, r#"{"uid":3}"#), r#"unmatched {"uid":3}"#);
        assert_eq!(run(&j, r#"{"x":1}"#), r#"unmatched {"x":1}"#);
        assert_eq!(run(&j, "[1]"), "unmatched [1]");
    }

    #[test]
    fn as_name_nests_the_record() {
        let j = join(USERS, "u.id", "id", Some("user"));
        assert_eq!(
            run(&j, r#"{"u":{"id":2}}"#),
            r#"{"u":{"id":2},"user":{"id":2,"name":"bob"}}"#
        );
    }

    #[test]
    fn null_keys_match_nothing() {
        let j = join("{\"name\":\"nokey\"}\n", "id", "id", None);
        assert_eq!(run(&j, r#"{"id":null}"#), r#"unmatched {"id":null}"#);
        assert_eq!(run(&j, r#"{"a":1}"#), r#"unmatched {"a":1}"#);
    }

    #[test]
    fn bad_lookup_files_name_the_line() {
        let e = ndjson_records("u.ndjson", b"{\"a\":1}\n{bad\n").expect_err("invalid");
        assert!(e.starts_with("join: u.ndjson:2: not valid JSON"), "{e}");
        let e = ndjson_records("u.ndjson", b"[1]\n").expect_err("not an object");
        assert!(e.contains("u.ndjson:1: a lookup record must be a JSON object"), "{e}");
        let e = csv_records("u.csv", b"id,name\n1,a\n2\n").expect_err("ragged");
        assert!(e.starts_with("join: u.csv:3: "), "{e}");
    }

    #[test]
    fn csv_numbers_become_numbers() {
        let records = csv_records("u.csv", "id,name\n7,\"x, y\"\n".as_bytes()).expect("valid CSV");
        assert_eq!(
            json::to_string(&Value::Object(records[0].clone())),
            r#"{"id":7,"name":"x, y"}"#
        );
    }
}
