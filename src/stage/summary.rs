//! `summary`: what a user runs first on an unknown archive (Miller's `summary`). Every event is
//! aggregated; at the end of input one row per field path comes out, sorted by path:
//!
//! `{"field":"user.id","count":…,"types":{"number":…},"nulls":…,"distinct":…,"min":…,"max":…,"samples":[…]}`
//!
//! - Paths: objects are walked into (`user.id`); an array's elements are summarised together
//!   under `PATH[]` (`tags[]`, `items[].sku`); a key that is not a plain word is in backticks, as
//!   evq's paths write it, so a field can be pasted into a pipeline. A line that is not an
//!   object is summarised under `.`.
//! - `count` is how many values the path had (events, or array elements under `[]`); `types`
//!   counts them by `type()` name; `nulls` counts the nulls.
//! - `distinct`, `min`, `max` and `samples` look at scalars only (booleans, numbers, strings);
//!   arrays and objects are summarised through their members. `distinct` is exact up to
//!   [`DISTINCT_CAP`] values, then the string `">10000"`. `min`/`max` compare numbers
//!   numerically and strings by bytes; numbers sort before strings (as in Miller), so a field
//!   holding both has a number as `min` and a string as `max`. Booleans take no part.
//!   `samples` are the first three distinct values.
//! - Memory: at most `--max-groups` paths (past that the run fails, exit 3), and per path at
//!   most [`DISTINCT_CAP`] 8-byte hashes, three samples and the extremes.

use super::{Describe, Emit, Ordered, StageError};
use crate::agg::key::canonical_hash;
use crate::event::{Event, Fate, Needs};
use crate::lang::Expr;
use crate::lang::Val;
use crate::lang::ast::{Path, Seg};
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

/// Distinct values counted exactly per path; past it the count is `">10000"`.
pub(crate) const DISTINCT_CAP: usize = 10_000;

/// Hashing for the tables of paths and of value hashes: fast, and the output does not depend
/// on it (rows are sorted by path).
type Fast = foldhash::fast::RandomState;

/// Sample values kept per path.
const SAMPLES: usize = 3;

/// The type names, as `type()` gives them, in the order `types` lists them.
const TYPES: [&str; 6] = ["null", "boolean", "number", "string", "array", "object"];

#[derive(Debug, Clone)]
pub(crate) struct Summary {
    fields: HashMap<String, Field, Fast>,
    /// The most paths held (`--max-groups`).
    limit: usize,
    /// The path being walked.
    path: String,
}

/// What was seen at one path.
#[derive(Debug, Clone, Default)]
struct Field {
    count: u64,
    types: [u64; 6],
    /// Hashes of the distinct scalars; `None` once there were more than the cap.
    distinct: Option<HashSet<u64, Fast>>,
    min_num: Option<Value>,
    max_num: Option<Value>,
    min_str: Option<String>,
    max_str: Option<String>,
    /// The first distinct scalars, with their hashes.
    samples: Vec<(u64, Value)>,
}

impl Summary {
    pub(crate) fn new(limit: usize) -> Summary {
        Summary {
            fields: HashMap::default(),
            limit,
            path: String::new(),
        }
    }

    /// Adds every path of one event; `Err` when a new path would be one past the limit.
    fn add_event(&mut self, doc: &Value) -> Result<(), ()> {
        self.path.clear();
        match doc {
            Value::Object(m) => self.add_members(m),
            other => {
                self.path.push('.');
                self.add(other)
            }
        }
    }

    fn add_members(&mut self, m: &Map<String, Value>) -> Result<(), ()> {
        let at = self.path.len();
        for (k, v) in m {
            push_key(&mut self.path, k);
            self.add(v)?;
            self.path.truncate(at);
        }
        Ok(())
    }

    /// Adds `v` at the current path, then its members.
    fn add(&mut self, v: &Value) -> Result<(), ()> {
        if !self.fields.contains_key(self.path.as_str()) {
            if self.fields.len() >= self.limit {
                return Err(());
            }
            let f = Field {
                distinct: Some(HashSet::default()),
                ..Field::default()
            };
            self.fields.insert(self.path.clone(), f);
        }
        if let Some(f) = self.fields.get_mut(self.path.as_str()) {
            f.add(v);
        }
        match v {
            Value::Object(m) => self.add_members(m),
            Value::Array(items) => {
                let at = self.path.len();
                self.path.push_str("[]");
                for item in items {
                    self.add(item)?;
                }
                self.path.truncate(at);
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

impl Describe for Summary {
    fn expressions(&self) -> Vec<&Expr> {
        Vec::new()
    }

    fn needs(&self, n: &mut Needs) {
        n.whole = true;
    }

    fn name(&self) -> &'static str {
        "summary"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("every event: aggregated; one row per field path at the end")
    }
}

impl Ordered for Summary {
    fn push(&mut self, ev: Event, out: &mut Emit) {
        let doc = match ev.tree() {
            Some(tree) => self.add_event(tree),
            None => match ev.to_value() {
                Ok(tree) => self.add_event(&tree),
                // Every event's text was checked as JSON when it was read.
                Err(_) => Ok(()),
            },
        };
        if doc.is_err() {
            out.fail(StageError::TooMany {
                stage: "summary",
                limit: self.limit,
                what: "field paths",
                or: ", or keep only some fields first (keep a, b | summary)",
            });
            return out.record(&ev, Fate::Skipped);
        }
        out.record(&ev, Fate::Aggregated);
    }

    /// Hands on one row per path, sorted by path.
    fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        let mut fields: Vec<(String, Field)> = std::mem::take(&mut self.fields).into_iter().collect();
        fields.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (path, field) in fields {
            out.push_row(field.row(path));
            out.go_on()?;
        }
        ControlFlow::Continue(())
    }
}

/// Adds a key to `path` as a path writes it: `.` and plain words as they are, others in
/// backticks, and a key that holds a backtick as a string index, `a["…"]`.
fn push_key(path: &mut String, k: &str) {
    let plain = k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !crate::lang::parser::RESERVED.contains(&k);
    let written = if plain {
        k.to_string()
    } else {
        Path::new(vec![Seg::Key(k.into())]).to_string()
    };
    match written.strip_prefix(".[") {
        Some(_) if !path.is_empty() => path.push_str(&written[1..]),
        _ => {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&written);
        }
    }
}

impl Field {
    fn add(&mut self, v: &Value) {
        self.count += 1;
        let t = match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        };
        self.types[t] += 1;
        if matches!(v, Value::Bool(_) | Value::Number(_) | Value::String(_)) {
            self.add_scalar(v);
        }
    }

    fn add_scalar(&mut self, v: &Value) {
        let hash = canonical_hash(&Val::from_value(v));
        if let Some(seen) = &mut self.distinct {
            seen.insert(hash);
            if seen.len() > DISTINCT_CAP {
                self.distinct = None;
            }
        }
        if self.samples.len() < SAMPLES && self.samples.iter().all(|(h, _)| *h != hash) {
            self.samples.push((hash, v.clone()));
        }
        match v {
            Value::Number(_) => {
                if self.min_num.as_ref().is_none_or(|m| order(v, m) == Ordering::Less) {
                    self.min_num = Some(v.clone());
                }
                if self.max_num.as_ref().is_none_or(|m| order(v, m) == Ordering::Greater) {
                    self.max_num = Some(v.clone());
                }
            }
            Value::String(s) => {
                if self.min_str.as_ref().is_none_or(|m| s < m) {
                    self.min_str = Some(s.clone());
                }
                if self.max_str.as_ref().is_none_or(|m| s > m) {
                    self.max_str = Some(s.clone());
                }
            }
            _ => {}
        }
    }

    fn row(self, path: String) -> Value {
        let mut types = Map::new();
        for (name, n) in TYPES.iter().zip(self.types) {
            if n > 0 {
                types.insert((*name).into(), n.into());
            }
        }
        let distinct = match &self.distinct {
            Some(seen) => Value::from(seen.len()),
            None => Value::String(format!(">{DISTINCT_CAP}")),
        };
        let min = self.min_num.or(self.min_str.map(Value::String));
        let max = self.max_str.map(Value::String).or(self.max_num);
        let mut row = Map::new();
        row.insert("field".into(), Value::String(path));
        row.insert("count".into(), self.count.into());
        row.insert("types".into(), Value::Object(types));
        row.insert("nulls".into(), self.types[0].into());
        row.insert("distinct".into(), distinct);
        row.insert("min".into(), min.unwrap_or(Value::Null));
        row.insert("max".into(), max.unwrap_or(Value::Null));
        row.insert(
            "samples".into(),
            Value::Array(self.samples.into_iter().map(|(_, v)| v).collect()),
        );
        Value::Object(row)
    }
}

/// The order of two numbers by exact value.
fn order(a: &Value, b: &Value) -> Ordering {
    Val::from_value(a).order(&Val::from_value(b)).unwrap_or(Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use crate::event::Fate;
    use crate::stage::StageOptions;
    use crate::stage::testing::run_stage;
    use serde_json::{Value, json};

    fn summary(lines: &[&str]) -> Vec<Value> {
        let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
        let rec = run_stage("summary", &StageOptions::default(), &lines);
        assert_eq!(rec.lines(Fate::Aggregated).len(), lines.len());
        rec.out
            .iter()
            .map(|l| serde_json::from_str(l).expect("a row is JSON"))
            .collect()
    }

    fn field<'a>(rows: &'a [Value], name: &str) -> &'a Value {
        rows.iter()
            .find(|r| r["field"] == name)
            .unwrap_or_else(|| panic!("no row for {name}: {rows:?}"))
    }

    #[test]
    fn one_row_per_path_sorted_with_types_nulls_and_extremes() {
        let rows = summary(&[
            r#"{"b":1,"a":{"x":"q","y":null}}"#,
            r#"{"b":2.5,"a":{"x":"p"}}"#,
            r#"{"b":"n/a","c":true}"#,
        ]);
        let names: Vec<&str> = rows.iter().filter_map(|r| r["field"].as_str()).collect();
        assert_eq!(names, ["a", "a.x", "a.y", "b", "c"]);
        assert_eq!(
            field(&rows, "b"),
            &json!({"field":"b","count":3,"types":{"number":2,"string":1},"nulls":0,"distinct":3,
                    "min":1,"max":"n/a","samples":[1,2.5,"n/a"]})
        );
        assert_eq!(field(&rows, "a.y")["nulls"], 1);
        assert_eq!(field(&rows, "a.y")["min"], Value::Null);
        assert_eq!(field(&rows, "a")["types"], json!({"object":2}));
        assert_eq!(field(&rows, "a.x")["min"], "p");
        assert_eq!(field(&rows, "c")["min"], Value::Null);
        assert_eq!(field(&rows, "c")["samples"], json!([true]));
    }

    #[test]
    fn numbers_compare_exactly_and_keep_their_text() {
        let rows = summary(&[
            r#"{"n":18446744073709551615}"#,
            r#"{"n":18446744073709551614}"#,
            r#"{"n":1.0}"#,
            r#"{"n":1}"#,
        ]);
        let n = field(&rows, "n");
        assert_eq!(n["max"].to_string(), "18446744073709551615");
        assert_eq!(n["min"].to_string(), "1.0");
        // 1.0 and 1 are one value.
        assert_eq!(n["distinct"], 3);
        assert_eq!(n["samples"].as_array().map(Vec::len), Some(3));
    }

    #[test]
    fn array_elements_are_summarised_under_brackets_and_odd_keys_are_quoted() {
        let rows = summary(&[r#"{"tags":["a","b"],"items":[{"sku":1}],"id.orig_h":"x"}"#, "[1,2]"]);
        assert_eq!(field(&rows, "tags[]")["count"], 2);
        assert_eq!(field(&rows, "tags")["types"], json!({"array":1}));
        assert_eq!(field(&rows, "items[].sku")["samples"], json!([1]));
        assert_eq!(field(&rows, "`id.orig_h`")["count"], 1);
        assert_eq!(field(&rows, ".")["types"], json!({"array":1}));
        assert_eq!(field(&rows, ".[]")["max"], 2);
    }

    #[test]
    fn distinct_is_exact_up_to_the_cap() {
        let lines: Vec<String> = (0..=super::DISTINCT_CAP)
            .map(|i| format!("{{\"i\":{i},\"j\":{}}}", i % 7))
            .collect();
        let rec = run_stage("summary", &StageOptions::default(), &lines);
        let rows: Vec<Value> = rec.out.iter().map(|l| serde_json::from_str(l).expect("JSON")).collect();
        assert_eq!(field(&rows, "i")["distinct"], ">10000");
        assert_eq!(field(&rows, "j")["distinct"], 7);
    }

    #[test]
    fn more_paths_than_the_limit_stop_the_run() {
        let opts = StageOptions {
            max_groups: Some(2),
            ..StageOptions::default()
        };
        let lines: Vec<String> = [r#"{"a":1,"b":2}"#, r#"{"c":1}"#, r#"{"a":3}"#]
            .map(String::from)
            .to_vec();
        let rec = run_stage("summary", &opts, &lines);
        assert!(
            rec.failed
                .as_deref()
                .is_some_and(|m| m.contains("more than 2 field paths"))
        );
        assert_eq!(rec.lines(Fate::Aggregated), [1]);
        assert_eq!(rec.lines(Fate::Skipped), [2, 3]);
        assert!(rec.out.is_empty());
    }
}
