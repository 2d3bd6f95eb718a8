//! `shapes`: the distinct sets of top-level keys, with how many events had each (SuperDB's
//! `fuse` view of a heterogeneous stream). Every event is aggregated; at the end of input one
//! row per shape, `{"keys":[…],"count":N}`, most common first (ties: first seen first).
//!
//! - A shape is a set: `{"a":1,"b":2}` and `{"b":3,"a":4}` are one shape. Its keys are listed
//!   in the order of the first event that had it.
//! - Events that are not objects make one row, `{"keys":null,"count":N}`.
//! - Only the top-level keys are read: events are not parsed in full.
//! - Memory: at most `--max-groups` shapes; past that the run fails (exit 3).

use super::{Describe, Emit, Ordered, StageError};
use crate::event::{Event, Fate, Needs};
use crate::lang::Expr;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::ControlFlow;

#[derive(Debug, Clone)]
pub(crate) struct Shapes {
    /// Shape number by its keys, sorted and written as JSON; `null` for non-objects.
    index: HashMap<String, usize>,
    /// The shapes in first-seen order: their keys as first seen (`None`: not an object), and
    /// their counts.
    shapes: Vec<(Option<Vec<String>>, u64)>,
    /// The most shapes held (`--max-groups`).
    limit: usize,
}

impl Shapes {
    pub(crate) fn new(limit: usize) -> Shapes {
        Shapes {
            index: HashMap::new(),
            shapes: Vec::new(),
            limit,
        }
    }
}

impl Describe for Shapes {
    fn expressions(&self) -> Vec<&Expr> {
        Vec::new()
    }

    /// Reads no field: the keys come from the event's text.
    fn needs(&self, _: &mut Needs) {}

    fn name(&self) -> &'static str {
        "shapes"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("every event: aggregated; one row per set of keys at the end")
    }
}

impl Ordered for Shapes {
    fn push(&mut self, ev: Event, out: &mut Emit) {
        let keys = top_keys(&ev);
        let id = match &keys {
            Some(k) => {
                let mut sorted: Vec<&str> = k.iter().map(String::as_str).collect();
                sorted.sort_unstable();
                crate::json::to_string(&Value::from(sorted))
            }
            None => "null".to_string(),
        };
        if let Some(&s) = self.index.get(&id) {
            self.shapes[s].1 += 1;
            return out.record(&ev, Fate::Aggregated);
        }
        if self.shapes.len() >= self.limit {
            out.fail(StageError::too_many("shapes", self.limit, "shapes"));
            return out.record(&ev, Fate::Skipped);
        }
        self.index.insert(id, self.shapes.len());
        self.shapes.push((keys, 1));
        out.record(&ev, Fate::Aggregated);
    }

    /// Hands on one row per shape, the most common first.
    fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        self.index = HashMap::new();
        let mut shapes = std::mem::take(&mut self.shapes);
        // Stable: ties stay in first-seen order.
        shapes.sort_by_key(|s| std::cmp::Reverse(s.1));
        for (keys, count) in shapes {
            let mut row = Map::new();
            let keys = keys.map_or(Value::Null, Value::from);
            row.insert("keys".into(), keys);
            row.insert("count".into(), count.into());
            out.push_row(Value::Object(row));
            out.go_on()?;
        }
        ControlFlow::Continue(())
    }
}

/// The event's top-level keys in order, each once; `None` when it is not an object.
fn top_keys(ev: &Event) -> Option<Vec<String>> {
    if let Some(tree) = ev.tree() {
        return tree.as_object().map(|m| m.keys().cloned().collect());
    }
    match ev.text() {
        Some(text) if ev.is_object() => {
            let mut de = serde_json::Deserializer::from_str(text);
            de.deserialize_map(KeysOf).ok()
        }
        Some(_) => None,
        // A text line (`-i lines`) or another form: build the document.
        None => ev.to_value().ok()?.as_object().map(|m| m.keys().cloned().collect()),
    }
}

/// Reads an object's keys, skipping its values without building them.
struct KeysOf;

impl<'de> Visitor<'de> for KeysOf {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
        let (mut keys, mut seen): (Vec<String>, _) = (Vec::new(), crate::json::KeySet::default());
        while let Some(k) = map.next_key::<Cow<'de, str>>()? {
            map.next_value::<IgnoredAny>()?;
            // A repeated key is one key, in its first place (the last value wins).
            if seen.insert(k.clone()) {
                keys.push(k.into_owned());
            }
        }
        Ok(keys)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Vec<String>, A::Error> {
        Err(de::Error::custom("not an object"))
    }
}

#[cfg(test)]
mod tests {
    use crate::event::Fate;
    use crate::stage::StageOptions;
    use crate::stage::testing::run_stage;

    fn shapes(lines: &[&str], opts: &StageOptions) -> (Vec<String>, crate::stage::testing::Recorded) {
        let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
        let rec = run_stage("shapes", opts, &lines);
        (rec.out.clone(), rec)
    }

    #[test]
    fn key_sets_are_counted_whatever_their_order_most_common_first() {
        let (out, rec) = shapes(
            &[
                r#"{"a":1,"b":2}"#,
                r#"{"c":"x"}"#,
                r#"{"b":3,"a":{"z":1}}"#,
                "[1]",
                r#"{"c":"y"}"#,
                r#"{"c":1,"c":2}"#,
                "7",
                r"{}",
            ],
            &StageOptions::default(),
        );
        assert_eq!(
            out,
            [
                r#"{"keys":["c"],"count":3}"#,
                r#"{"keys":["a","b"],"count":2}"#,
                r#"{"keys":null,"count":2}"#,
                r#"{"keys":[],"count":1}"#,
            ]
        );
        assert_eq!(rec.lines(Fate::Aggregated).len(), 8);
    }

    #[test]
    fn keys_with_escapes_are_read_as_text() {
        let (out, _) = shapes(&[r#"{"a\"b":1,"\u00e9":2}"#], &StageOptions::default());
        assert_eq!(out, [r#"{"keys":["a\"b","é"],"count":1}"#]);
    }

    #[test]
    fn more_shapes_than_the_limit_stop_the_run() {
        let opts = StageOptions {
            max_groups: Some(1),
            ..StageOptions::default()
        };
        let (out, rec) = shapes(&[r#"{"a":1}"#, r#"{"b":1}"#, r#"{"a":2}"#], &opts);
        assert!(out.is_empty());
        assert!(rec.failed.as_deref().is_some_and(|m| m.contains("more than 1 shapes")));
        assert_eq!(rec.lines(Fate::Skipped), [2, 3]);
    }
}
