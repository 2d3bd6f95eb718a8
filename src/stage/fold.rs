//! `fold by KEYS [from PATH] [emit final|changes]`: event sourcing. Each entity's state is
//! rebuilt by applying its events in input order as JSON merge patches (RFC 7386: a field
//! set to `null` is deleted, objects merge, anything else replaces). The output per entity
//! is its keys, the state's fields, `_events` (how many events built it) and `_last` (the
//! last event's time, as written, when it had one). `emit final` (the default) gives one
//! row per entity at the end of input, in first-seen order; `emit changes` gives the row
//! after every event, a CQRS read-model feed.
//!
//! An event's patch is read apart once into [`Patches`]: a list of steps (set this member to
//! this JSON text, delete that one, go into this object) over one text buffer. A state holds
//! its members' JSON text, so applying steps overwrites texts in place: an entity that keeps
//! its shape costs no allocation per event. With `emit final` right after the parallel part,
//! the workers read their chunks' patches apart ([`FoldPart`]) and the ordered part only
//! applies the steps, in input order.

use super::group::{put_key, write_key};
use super::{Emit, TimeField};
use crate::event::{Event, Fate, Needs};
use crate::json;
use crate::lang::Env;
use crate::lang::ast::{KeySpec, Path};
use crate::stage::StageError;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::ops::{ControlFlow, Range};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub(crate) struct Fold {
    pub spec: Arc<FoldSpec>,
    table: Table,
    /// Scratch space for one event's key and patch.
    canon: Vec<u8>,
    text: Vec<u8>,
    patch: Patches,
    /// Set once the entities went past `--max-groups` (while merging workers' parts).
    pub overflow: bool,
}

#[derive(Debug)]
pub(crate) struct FoldSpec {
    keys: Vec<KeySpec>,
    from: Option<Path>,
    changes: bool,
    time: TimeField,
    max: usize,
    /// Parts the ordered part has applied, emptied, for workers to fill again: their buffers
    /// are not allocated (and their pages not faulted in) afresh for every chunk.
    spare: Mutex<Vec<FoldPart>>,
}

/// How many emptied parts are kept for reuse.
const SPARE_PARTS: usize = 8;

/// The entities, in first-seen order.
#[derive(Debug, Clone, Default)]
struct Table {
    /// Entity number by canonical key.
    index: HashMap<Box<[u8]>, usize, foldhash::fast::RandomState>,
    entities: Vec<Entity>,
}

#[derive(Debug, Clone)]
struct Entity {
    /// The keys' JSON text, as first seen.
    key: Box<[u8]>,
    state: Node,
    events: u64,
    last: Option<Value>,
}

/// A chunk's events as the ordered part applies them: each one's entity key, time and patch.
#[derive(Debug, Clone, Default)]
pub(crate) struct FoldPart {
    /// The events' canonical keys, then their keys' JSON text, back to back.
    keys: Vec<u8>,
    events: Vec<PartEvent>,
    patches: Patches,
    /// Scratch space for one event's key text.
    text: Vec<u8>,
}

#[derive(Debug, Clone)]
struct PartEvent {
    canon: Range<usize>,
    key: Range<usize>,
    last: Option<Value>,
    /// Its steps in `patches`.
    steps: Range<usize>,
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
                spare: Mutex::default(),
            }),
            table: Table::default(),
            canon: Vec::new(),
            text: Vec::new(),
            patch: Patches::default(),
            overflow: false,
        }
    }

    pub(crate) fn needs(&self, n: &mut Needs) {
        self.spec.needs(n);
    }

    /// Applies the event to its entity's state; the event itself goes no further.
    pub(crate) fn push(&mut self, ev: Event, out: &mut Emit) {
        self.canon.clear();
        self.text.clear();
        write_key(&self.spec.keys, &ev, out.env(), &mut self.canon, &mut self.text);
        let Some(e) = self.table.entity(&self.canon, &self.text, self.spec.max) else {
            out.fail(too_many(self.spec.max));
            return out.record(&ev, Fate::Skipped);
        };
        out.record(&ev, Fate::Aggregated);
        self.patch.clear();
        self.patch.read(&ev, self.spec.from.as_ref());
        let last = self.spec.time.value(&ev, out.env());
        self.table.entities[e].apply(&self.patch, 0..self.patch.steps.len(), last);
        if self.spec.changes {
            out.push_row(self.row(e));
        }
    }

    /// Applies a worker's chunk of events, the chunk after those applied so far.
    pub(crate) fn merge(&mut self, mut part: FoldPart) {
        for ev in part.events.drain(..) {
            let Some(e) = self
                .table
                .entity(&part.keys[ev.canon], &part.keys[ev.key], self.spec.max)
            else {
                self.overflow = true;
                break;
            };
            self.table.entities[e].apply(&part.patches, ev.steps, ev.last);
        }
        self.spec.recycle(part);
    }

    /// Entity `e` as output: its keys, its state's fields (a state that is not an object is
    /// `_state`), `_events` and `_last`.
    fn row(&self, e: usize) -> Value {
        let entity = &self.table.entities[e];
        let mut row = Value::Object(Map::new());
        put_key(&self.spec.keys, &entity.key, &mut row);
        if let Value::Object(row) = &mut row {
            match &entity.state {
                Node::Object(members) => row.extend(members.iter().map(|m| (m.key.clone(), m.node.value()))),
                leaf @ Node::Text(_) => {
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
        self.table.index = HashMap::default();
        for e in 0..self.table.entities.len() {
            let row = self.row(e);
            // The state is in the row now: free it as the rows go.
            self.table.entities[e].state = Node::empty();
            out.push_row(row);
            out.go_on()?;
        }
        ControlFlow::Continue(())
    }
}

/// The message of a fold stopped by `--max-groups`.
pub(crate) fn too_many(max: usize) -> StageError {
    StageError::too_many("fold", max, "entities")
}

impl Table {
    /// The number of the entity with key `canon`, new (with `text` as its key) if it was not
    /// seen; `None` when there are `max` entities already.
    fn entity(&mut self, canon: &[u8], text: &[u8], max: usize) -> Option<usize> {
        if let Some(&e) = self.index.get(canon) {
            return Some(e);
        }
        if self.entities.len() >= max {
            return None;
        }
        self.index.insert(canon.into(), self.entities.len());
        self.entities.push(Entity {
            key: text.into(),
            state: Node::empty(),
            events: 0,
            last: None,
        });
        Some(self.entities.len() - 1)
    }
}

impl FoldSpec {
    pub(crate) fn needs(&self, n: &mut Needs) {
        for k in &self.keys {
            k.expr.visit_paths(&mut |p| n.add_path(p));
        }
        // The patch is read from text (see `Patches::read`), not parsed into a tree.
        match &self.from {
            Some(p) => n.add_path(p),
            None => n.members = true,
        }
        self.time.needs(n);
    }

    /// Whether workers can take a chunk's events apart: the rows come only at the end.
    pub(crate) fn in_parts(&self) -> bool {
        !self.changes
    }

    /// An empty part for a worker's chunk.
    pub(crate) fn part(&self) -> FoldPart {
        let spare = self.spare.lock().ok().and_then(|mut s| s.pop());
        spare.unwrap_or_default()
    }

    /// Keeps an applied part's buffers for another chunk.
    fn recycle(&self, mut part: FoldPart) {
        part.keys.clear();
        part.events.clear();
        part.patches.clear();
        if let Ok(mut spare) = self.spare.lock()
            && spare.len() < SPARE_PARTS
        {
            spare.push(part);
        }
    }
}

impl FoldPart {
    /// Adds one event of the chunk.
    pub(crate) fn add(&mut self, spec: &FoldSpec, ev: &Event, env: &Env) {
        let at = self.keys.len();
        self.text.clear();
        write_key(&spec.keys, ev, env, &mut self.keys, &mut self.text);
        let canon = at..self.keys.len();
        let key = self.keys.len()..self.keys.len() + self.text.len();
        self.keys.extend_from_slice(&self.text);
        let start = self.patches.steps.len();
        self.patches.read(ev, spec.from.as_ref());
        self.events.push(PartEvent {
            canon,
            key,
            last: spec.time.value(ev, env),
            steps: start..self.patches.steps.len(),
        });
    }
}

impl Entity {
    /// Applies one event: its steps in `patches`, and its time.
    fn apply(&mut self, patches: &Patches, steps: Range<usize>, last: Option<Value>) {
        if last.is_some() {
            self.last = last;
        }
        self.state.apply(patches, &mut patches.steps[steps].iter());
        self.events += 1;
    }
}

/// Merge patches read apart into steps, over one text buffer.
#[derive(Debug, Clone, Default)]
struct Patches {
    /// Keys (unescaped) and values' JSON text, back to back.
    text: String,
    steps: Vec<Step>,
}

/// One step of applying a merge patch; keys and texts are ranges of [`Patches::text`]. A
/// patch is a `Replace`, or an object: an `Enter` (with an empty key), its members, a `Leave`.
#[derive(Debug, Clone)]
enum Step {
    /// The state becomes this value (a patch that is not an object).
    Replace(Range<usize>),
    /// The member is set to this value (not an object, not `null`).
    Set {
        key: Key,
        text: Range<usize>,
    },
    /// The member is deleted (`null`).
    Delete(Key),
    /// The member merges the object whose members follow, up to `Leave`.
    Enter(Key),
    Leave,
}

/// A member's key: its text in [`Patches::text`] and its hash, which a state keeps with
/// the member so that finding it compares numbers, not texts.
#[derive(Debug, Clone, Default)]
struct Key {
    text: Range<usize>,
    hash: u64,
}

impl Patches {
    fn clear(&mut self) {
        self.text.clear();
        self.steps.clear();
    }

    /// Adds the steps of the event's patch: the event itself, or its value at `from`; none
    /// when `from` is missing.
    fn read(&mut self, ev: &Event, from: Option<&Path>) {
        if let (None, Some(fields)) = (from, ev.members()) {
            return self.read_object(fields);
        }
        let text = match from {
            Some(p) => ev.raw_at(p),
            None => ev.text(),
        };
        if let Some(t) = text {
            return self.read_text(t);
        }
        let value = match from {
            Some(p) => ev.lookup(p).map(crate::lang::Val::into_value),
            None => ev.to_value().ok(),
        };
        if let Some(v) = value {
            self.read_text(&json::to_string(&v));
        }
    }

    /// Adds the steps of a patch given as valid JSON text.
    fn read_text(&mut self, patch: &str) {
        match json::members(patch) {
            Some(fields) => self.read_object(&fields),
            None => {
                let text = self.put(patch);
                self.steps.push(Step::Replace(text));
            }
        }
    }

    fn read_object(&mut self, fields: &[json::Field]) {
        self.steps.push(Step::Enter(Key::default()));
        self.read_members(fields);
        self.steps.push(Step::Leave);
    }

    fn read_members(&mut self, fields: &[json::Field]) {
        let hashes = key_hashes(fields);
        for (i, (key, value)) in fields.iter().enumerate() {
            if !is_last_of_key(fields, &hashes, i) {
                continue;
            }
            let key = Key {
                text: self.put(key),
                hash: hashes[i],
            };
            if *value == "null" {
                self.steps.push(Step::Delete(key));
            } else if let Some(inner) = json::members(value) {
                self.steps.push(Step::Enter(key));
                self.read_members(&inner);
                self.steps.push(Step::Leave);
            } else {
                let text = self.put(value);
                self.steps.push(Step::Set { key, text });
            }
        }
    }

    fn put(&mut self, s: &str) -> Range<usize> {
        let at = self.text.len();
        self.text.push_str(s);
        at..self.text.len()
    }
}

/// The hash of each member's key.
fn key_hashes(members: &[json::Field]) -> Vec<u64> {
    let hasher = foldhash::fast::FixedState::default();
    members.iter().map(|(k, _)| hasher.hash_one(&**k)).collect()
}

/// Whether no member after `i` has its key: of a key repeated in one object, the last one
/// counts (as in a parsed object).
fn is_last_of_key(members: &[json::Field], hashes: &[u64], i: usize) -> bool {
    !(i + 1..members.len()).any(|j| hashes[j] == hashes[i] && members[j].0 == members[i].0)
}

/// A state: an object's members, or any other value as its JSON text.
#[derive(Debug, Clone)]
enum Node {
    Object(Vec<Member>),
    Text(String),
}

#[derive(Debug, Clone)]
struct Member {
    /// The key's hash (see [`Key`]).
    hash: u64,
    key: String,
    node: Node,
}

impl Node {
    fn empty() -> Node {
        Node::Object(Vec::new())
    }

    /// Applies one patch's steps (RFC 7386): a `Replace`, or an object's.
    fn apply<'s>(&mut self, patches: &Patches, steps: &mut impl Iterator<Item = &'s Step>) {
        match steps.next() {
            Some(Step::Replace(value)) => self.set_text(&patches.text[value.clone()]),
            Some(Step::Enter(_)) => self.merge(patches, steps),
            _ => {}
        }
    }

    /// Merges the members that `steps` give, up to their `Leave`, into this object (what is
    /// not an object becomes an empty one first).
    fn merge<'s>(&mut self, patches: &Patches, steps: &mut impl Iterator<Item = &'s Step>) {
        let text = |r: &Range<usize>| &patches.text[r.clone()];
        let member = |key: &Key, node| Member {
            hash: key.hash,
            key: text(&key.text).to_owned(),
            node,
        };
        if !matches!(self, Node::Object(_)) {
            *self = Node::empty();
        }
        let Node::Object(members) = self else { return };
        // Events of one kind list their keys in the same order: look where the last one was.
        let mut hint = 0;
        while let Some(step) = steps.next() {
            let (Step::Set { key, .. } | Step::Delete(key) | Step::Enter(key)) = step else {
                return;
            };
            let at = find(members, key.hash, text(&key.text), hint);
            hint = at.map_or(hint, |at| at + 1);
            match (step, at) {
                (Step::Set { text: value, .. }, Some(at)) => members[at].node.set_text(text(value)),
                (Step::Set { text: value, .. }, None) => {
                    members.push(member(key, Node::Text(text(value).to_owned())));
                }
                (Step::Delete(_), Some(at)) => {
                    members.remove(at);
                    hint = at;
                }
                (Step::Enter(_), at) => {
                    let at = at.unwrap_or_else(|| {
                        members.push(member(key, Node::empty()));
                        members.len() - 1
                    });
                    members[at].node.merge(patches, steps);
                }
                _ => {}
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
            node @ Node::Object(_) => *node = Node::Text(text.to_string()),
        }
    }

    fn value(&self) -> Value {
        match self {
            Node::Object(members) => Value::Object(members.iter().map(|m| (m.key.clone(), m.node.value())).collect()),
            // Every text came from a checked event.
            Node::Text(t) => json::reparse(t.as_bytes()).unwrap_or(Value::Null),
        }
    }
}

/// Where the key with `hash` is among `members`, looking from `hint` on first.
fn find(members: &[Member], hash: u64, key: &str, hint: usize) -> Option<usize> {
    let is_key = |m: &Member| m.hash == hash && m.key == key;
    let hint = hint.min(members.len());
    match members[hint..].iter().position(is_key) {
        Some(i) => Some(hint + i),
        None => members[..hint].iter().position(is_key),
    }
}

#[cfg(test)]
mod tests {
    use super::{Node, Patches};
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn apply(state: &mut Node, patch: &str) {
        let mut patches = Patches::default();
        patches.read_text(patch);
        state.apply(&patches, &mut patches.steps.iter());
    }

    fn folded(patches: &[Value]) -> Value {
        let mut state = Node::empty();
        for p in patches {
            apply(&mut state, &p.to_string());
        }
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

    /// A member deleted and set again moves to the end; an empty object replaces a value.
    #[test]
    fn a_member_deleted_and_set_again_comes_last() {
        let patches = [
            json!({"a": 1, "b": 2}),
            json!({"a": null}),
            json!({"a": 3}),
            json!({"b": {}}),
        ];
        assert_eq!(folded(&patches).to_string(), r#"{"b":{},"a":3}"#);
    }

    #[test]
    fn a_repeated_key_counts_once_with_its_last_value() {
        let state = folded(&[json!({"a": {"x": 1}})]);
        let mut node = Node::empty();
        apply(&mut node, &state.to_string());
        apply(&mut node, r#"{"a":{"y":2},"a":{"z":3}}"#);
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
            for p in &patches {
                json_patch::merge(&mut reference, p);
            }
            prop_assert_eq!(folded(&patches), reference);
        }
    }
}
