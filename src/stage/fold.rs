//! `fold by KEYS [from PATH] [emit final|changes]`: event sourcing. Each entity's state is
//! rebuilt by applying its events in input order as JSON merge patches (RFC 7386: a field
//! set to `null` is deleted, objects merge, anything else replaces). The output per entity
//! is its keys, the state's fields, `_events` (how many events built it) and `_last` (the
//! last event's time, as written, when it had one). `emit final` (the default) gives one
//! row per entity at the end of input, in first-seen order; `emit changes` gives the row
//! after every event, a CQRS read-model feed.
//!
//! A state is held as its members' JSON text, and an event is applied from its text: a member
//! the event replaces is overwritten in place, and only nested objects are read apart, so an
//! entity that keeps its shape costs no allocation per event.

use super::group::{put_key, write_key};
use super::{Emit, TimeField};
use crate::event::{Event, Fate, Needs};
use crate::json;
use crate::lang::ast::{KeySpec, Path};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::ops::ControlFlow;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub(crate) struct Fold {
    spec: Arc<FoldSpec>,
    /// Entity number by canonical key.
    index: HashMap<Box<[u8]>, usize>,
    /// The entities in first-seen order.
    entities: Vec<Entity>,
    /// Scratch space for one event's key.
    canon: Vec<u8>,
    text: Vec<u8>,
}

#[derive(Debug)]
struct FoldSpec {
    keys: Vec<KeySpec>,
    from: Option<Path>,
    changes: bool,
    time: TimeField,
    max: usize,
}

#[derive(Debug, Clone)]
struct Entity {
    /// The keys' JSON text, as first seen.
    key: Box<[u8]>,
    state: Node,
    events: u64,
    last: Option<Value>,
}

impl Fold {
    pub(crate) fn new(keys: Vec<KeySpec>, from: Option<Path>, changes: bool, time: TimeField, max: usize) -> Fold {
        Fold {
            spec: Arc::new(FoldSpec {
                keys,
                from,
                changes,
                time,
                max,
            }),
            index: HashMap::new(),
            entities: Vec::new(),
            canon: Vec::new(),
            text: Vec::new(),
        }
    }

    pub(crate) fn needs(&self, n: &mut Needs) {
        for k in &self.spec.keys {
            k.expr.visit_paths(&mut |p| n.add_path(p));
        }
        // The whole event is read from its text (see `patch_text`), not parsed into a tree.
        if let Some(p) = &self.spec.from {
            n.add_path(p);
        }
        self.spec.time.needs(n);
    }

    /// Applies the event to its entity's state; the event itself goes no further.
    pub(crate) fn push(&mut self, ev: Event, out: &mut Emit) {
        let Some(e) = self.entity(&ev, out) else {
            return;
        };
        if let Some(t) = self.spec.time.value(&ev, out.env()) {
            self.entities[e].last = Some(t);
        }
        out.record(&ev, Fate::Aggregated);
        let entity = &mut self.entities[e];
        if let Some(patch) = patch_text(&ev, self.spec.from.as_ref()) {
            entity.state.merge(&patch);
        }
        entity.events += 1;
        if self.spec.changes {
            out.push_row(self.row(e));
        }
    }

    /// The number of the event's entity, new if it was not seen; `None` when there are more
    /// entities than `--max-groups` (the run then stops, naming the stage).
    fn entity(&mut self, ev: &Event, out: &mut Emit) -> Option<usize> {
        self.canon.clear();
        self.text.clear();
        write_key(&self.spec.keys, ev, out.env(), &mut self.canon, &mut self.text);
        if let Some(&e) = self.index.get(self.canon.as_slice()) {
            return Some(e);
        }
        if self.entities.len() >= self.spec.max {
            out.fail(format!(
                "fold: more than {} entities; raise the limit with --max-groups N",
                self.spec.max
            ));
            out.record(ev, Fate::Skipped);
            return None;
        }
        self.index.insert(self.canon.as_slice().into(), self.entities.len());
        self.entities.push(Entity {
            key: self.text.as_slice().into(),
            state: Node::Object(Vec::new()),
            events: 0,
            last: None,
        });
        Some(self.entities.len() - 1)
    }

    /// Entity `e` as output: its keys, its state's fields (a state that is not an object is
    /// `_state`), `_events` and `_last`.
    fn row(&self, e: usize) -> Value {
        let entity = &self.entities[e];
        let mut row = Value::Object(Map::new());
        put_key(&self.spec.keys, &entity.key, &mut row);
        if let Value::Object(row) = &mut row {
            match &entity.state {
                Node::Object(members) => row.extend(members.iter().map(|(k, v)| (k.clone(), v.value()))),
                leaf => {
                    row.insert("_state".into(), leaf.value());
                }
            }
            row.insert("_events".into(), entity.events.into());
            row.insert("_last".into(), entity.last.clone().unwrap_or(Value::Null));
        }
        row
    }

    /// With `emit final`, hands on each entity's state, in first-seen order.
    pub(crate) fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        if self.spec.changes {
            return ControlFlow::Continue(());
        }
        self.index = HashMap::new();
        for e in 0..self.entities.len() {
            let row = self.row(e);
            // The state is in the row now: free it as the rows go.
            self.entities[e].state = Node::Object(Vec::new());
            out.push_row(row);
            out.go_on()?;
        }
        ControlFlow::Continue(())
    }
}

/// The event's patch as JSON text: the event itself, or its value at `from`; `None` when
/// `from` is missing.
fn patch_text<'e>(ev: &'e Event, from: Option<&Path>) -> Option<Cow<'e, str>> {
    let text = match from {
        Some(p) => ev.raw_at(p),
        None => ev.text(),
    };
    if let Some(t) = text {
        return Some(Cow::Borrowed(t));
    }
    let value = match from {
        Some(p) => ev.lookup(p)?.into_value(),
        None => ev.to_value().ok()?,
    };
    Some(Cow::Owned(json::to_string(&value)))
}

/// For each member, whether no later member has its key: of a key repeated in one object,
/// the last one counts (as in a parsed object).
fn last_of_each_key(members: &[json::Field]) -> Vec<bool> {
    let hasher = foldhash::fast::FixedState::default();
    let hashes: Vec<u64> = members.iter().map(|(k, _)| hasher.hash_one(k)).collect();
    (0..members.len())
        .map(|i| !(i + 1..members.len()).any(|j| hashes[j] == hashes[i] && members[j].0 == members[i].0))
        .collect()
}

/// A state: an object's members, or any other value as its JSON text.
#[derive(Debug, Clone)]
enum Node {
    Object(Vec<(String, Node)>),
    Text(String),
}

impl Node {
    /// Applies a JSON merge patch (RFC 7386), given as valid JSON text.
    fn merge(&mut self, patch: &str) {
        let Some(members) = json::members(patch) else {
            return self.set_text(patch);
        };
        if !matches!(self, Node::Object(_)) {
            *self = Node::Object(Vec::new());
        }
        let Node::Object(state) = self else { return };
        let last = last_of_each_key(&members);
        // Events of one kind list their keys in the same order: look where the last one was.
        let mut hint = 0;
        for ((key, value), last) in members.iter().zip(last) {
            if !last {
                continue;
            }
            let is_key = |(k, _): &(String, Node)| k == key;
            let at = match state[hint..].iter().position(is_key) {
                Some(i) => Some(hint + i),
                None => state[..hint].iter().position(is_key),
            };
            hint = at.map_or(hint, |at| at + 1);
            match (at, *value) {
                (Some(at), "null") => {
                    state.remove(at);
                    hint = at;
                }
                (None, "null") => {}
                (Some(at), value) => state[at].1.merge(value),
                (None, value) => {
                    let mut node = Node::Object(Vec::new());
                    node.merge(value);
                    state.push((key.to_string(), node));
                }
            }
        }
    }

    /// Becomes the value `text`, reusing its own text's room.
    fn set_text(&mut self, text: &str) {
        match self {
            Node::Text(t) => {
                t.clear();
                t.push_str(text);
            }
            node => *node = Node::Text(text.to_string()),
        }
    }

    fn value(&self) -> Value {
        match self {
            Node::Object(members) => Value::Object(members.iter().map(|(k, v)| (k.clone(), v.value())).collect()),
            // Every text came from a checked event.
            Node::Text(t) => json::reparse(t.as_bytes()).unwrap_or(Value::Null),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Node;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn folded(patches: &[Value]) -> Value {
        let mut state = Node::Object(Vec::new());
        patches.iter().for_each(|p| state.merge(&p.to_string()));
        state.value()
    }

    /// RFC 7386 §3's example, applied the way `fold` applies an event.
    #[test]
    fn merge_patch_follows_rfc_7386() {
        let state = json!({"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},"tags":["example","sample"],"content":"This will be unchanged"});
        let patch =
            json!({"title":"Hello!","phoneNumber":"+01-123-456-7890","author":{"familyName":null},"tags":["example"]});
        assert_eq!(
            folded(&[state, patch]),
            json!({"title":"Hello!","author":{"givenName":"John"},"tags":["example"],"content":"This will be unchanged","phoneNumber":"+01-123-456-7890"})
        );
    }

    #[test]
    fn a_repeated_key_counts_once_with_its_last_value() {
        let state = folded(&[json!({"a": {"x": 1}})]);
        let mut node = Node::Object(Vec::new());
        node.merge(&state.to_string());
        node.merge(r#"{"a":{"y":2},"a":{"z":3}}"#);
        assert_eq!(node.value(), json!({"a": {"x": 1, "z": 3}}));
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (0i64..5).prop_map(Value::from),
            "[ab]{0,2}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                prop::collection::btree_map("[abc]", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Applying patches to the text-held state gives what json_patch's merge gives.
        #[test]
        fn merging_text_agrees_with_merging_trees(patches in prop::collection::vec(json_value(), 1..6)) {
            let mut reference = json!({});
            patches.iter().for_each(|p| json_patch::merge(&mut reference, p));
            prop_assert_eq!(folded(&patches), reference);
        }
    }
}
