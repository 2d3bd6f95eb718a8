//! One entity's state for `fold`: its JSON value as a list of [`Slot`]s in pre-order (an
//! object's slot counts the slots below it) and its texts in one buffer of the entity's.
//! Applying an event walks the patch's nodes beside the state's slots: a member the patch
//! sets gets its new text in place when it fits, at the buffer's end otherwise; members the
//! patch leaves alone are not touched. Keys are numbers ([`Keys`]), shared by all entities.
//! The buffer is written afresh once more than half of it is texts no slot holds any more.
//! An empty state is the empty object.

use crate::json::{self, Span, TapeKind as Kind, TapeNode as Node};
use std::hash::BuildHasher;

/// The keys of all states, each numbered once.
#[derive(Debug, Clone, Default)]
pub(super) struct Keys {
    names: Vec<Box<[u8]>>,
    /// Each name's ident (see [`Node::ident`]).
    idents: Vec<u128>,
    index: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

impl Keys {
    /// The number of `key` (whose ident is `ident`), new if it was not seen.
    fn id(&mut self, key: &[u8], ident: u128) -> u32 {
        let hash = self.hasher.hash_one(key);
        let (names, hasher) = (&self.names, &self.hasher);
        let entry = self.index.entry(
            hash,
            |&id| *names[id as usize] == *key,
            |&id| hasher.hash_one(&names[id as usize]),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(e) => *e.get(),
            hashbrown::hash_table::Entry::Vacant(e) => {
                // Keys come from lines in memory: far fewer than 2^32 distinct ones.
                let id = u32::try_from(names.len()).unwrap_or(u32::MAX);
                e.insert(id);
                self.names.push(key.into());
                self.idents.push(ident);
                id
            }
        }
    }

    /// The number of `key` (whose ident is `ident`), if it was seen.
    fn find(&self, key: &[u8], ident: u128) -> Option<u32> {
        let hash = self.hasher.hash_one(key);
        let idents = &self.idents;
        let names = &self.names;
        self.index
            .find(hash, |&id| {
                json::same(idents[id as usize], ident, || *names[id as usize] == *key)
            })
            .copied()
    }

    fn name(&self, id: u32) -> &[u8] {
        self.names.get(id as usize).map_or(&[], |n| n)
    }

    /// Whether key number `id` is `key`, whose ident is `ident`.
    fn is(&self, id: u32, key: &[u8], ident: u128) -> bool {
        let known = self.idents.get(id as usize).copied().unwrap_or_default();
        json::same(known, ident, || self.name(id) == key)
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct State {
    slots: Vec<Slot>,
    text: Vec<u8>,
    /// The last event time's JSON text, in `text` as a slot's is, once an event had a time.
    last: Option<Slot>,
    /// How many bytes of `text` no slot holds.
    garbage: usize,
}

/// One value of a state: its key's number (none for the root) with a bit that says whether
/// it is an object, and its text's place in the state's buffer or, for an object, in `len`
/// the number of slots below it. (A text is part of one line, which the reader holds below
/// 4 GiB.)
#[derive(Debug, Clone, Copy)]
struct Slot {
    start: usize,
    key: u32,
    len: u32,
}

/// The bit of [`Slot::key`] set for an object.
const OBJECT: u32 = 1 << 31;

/// The key number of a root, which has none.
const NO_KEY: u32 = OBJECT - 1;

impl Slot {
    /// An empty text or object named `key`.
    fn new(key: u32, object: bool) -> Slot {
        let flag = if object { OBJECT } else { 0 };
        Slot {
            start: 0,
            key: key.min(NO_KEY) | flag,
            len: 0,
        }
    }

    fn key(&self) -> u32 {
        self.key & !OBJECT
    }

    fn object(&self) -> bool {
        self.key & OBJECT != 0
    }

    /// A text's place in the state's buffer.
    fn body(&self) -> Span {
        Span {
            start: self.start,
            len: self.len as usize,
        }
    }

    /// How many slots this one and those below it take.
    fn size(&self) -> usize {
        if self.object() { 1 + self.len as usize } else { 1 }
    }

    /// Adds `n` (which may be negative) to an object's count of slots below it.
    fn grow(&mut self, n: isize) {
        self.len = self.len.saturating_add_signed(i32::try_from(n).unwrap_or_default());
    }
}

/// Scratch space for merging, kept between events: the state objects being merged into,
/// outermost first, whose counts of slots below change with a member added or removed.
#[derive(Debug, Clone, Default)]
pub(super) struct Merger {
    path: Vec<usize>,
}

/// How many slots and patch nodes an object's merge may look through member by member; past
/// that, [`State::merge_wide`] finds members by a table.
const WIDE: usize = 128;

/// The buffer's size below which it is never written afresh.
const SMALL: usize = 256;

impl State {
    /// Applies one patch (its root node and the nodes below; none leaves the state as it
    /// is), RFC 7386: a patch that is not an object replaces the state, an object merges
    /// into it. `bytes` hold the patch's keys and texts.
    pub(super) fn apply(&mut self, patch: &[Node], bytes: &[u8], keys: &mut Keys, m: &mut Merger) {
        let Some(root) = patch.first() else { return };
        // A patch that is `null` replaces the state with `null`, as any other text does.
        if root.kind != Kind::Object {
            self.clear();
            self.slots.push(Slot::new(NO_KEY, false));
            self.set_text(0, root.body.of(bytes));
            self.compact();
            return;
        }
        if !self.slots.first().is_none_or(Slot::object) {
            self.clear();
        }
        if self.slots.is_empty() {
            // A new state: room for what the patch sets, and no more.
            self.slots.reserve_exact(patch.len());
            let texts = patch.iter().filter(|n| n.kind != Kind::Object);
            self.text.reserve_exact(texts.map(|n| n.body.len).sum());
            self.slots.push(Slot::new(NO_KEY, true));
        }
        m.path.clear();
        m.path.push(0);
        self.merge(0, member(patch, 0).get(1..).unwrap_or_default(), bytes, keys, m);
        self.compact();
    }

    /// Drops every slot: their texts are left to [`State::compact`].
    fn clear(&mut self) {
        self.slots.clear();
        self.garbage = self.text.len() - self.last.map_or(0, |l| l.body().len);
    }

    /// Sets the last event time's JSON text.
    pub(super) fn set_last(&mut self, new: &[u8]) {
        let mut last = self.last.unwrap_or(Slot::new(NO_KEY, false));
        put_text(&mut self.text, &mut self.garbage, &mut last, new);
        self.last = Some(last);
    }

    /// The last event time's JSON text, once an event had a time.
    pub(super) fn last(&self) -> Option<&str> {
        self.last
            .and_then(|l| std::str::from_utf8(l.body().of(&self.text)).ok())
    }

    /// Merges the members of a patch object (`patch`: its nodes below it) into the object
    /// at slot `obj`, the last of `m.path`.
    fn merge(&mut self, obj: usize, patch: &[Node], bytes: &[u8], keys: &mut Keys, m: &mut Merger) {
        if self.slots[obj].size() + patch.len() > WIDE {
            return self.merge_wide(obj, patch, bytes, keys, m);
        }
        // Events of one kind list their keys in the same order: look after the last one first.
        let mut hint = obj + 1;
        // A patch object holds each key once: in an object empty at first, none is found.
        let fresh = self.slots[obj].size() == 1;
        for at in members(patch) {
            let node = &patch[at];
            let (key, ident) = (node.key(bytes), node.ident(bytes));
            let found = if fresh {
                None
            } else {
                self.find(obj, hint, key, ident, keys)
            };
            hint = self.put(obj, found, member(patch, at), bytes, keys, m);
        }
    }

    /// [`State::merge`] for an object or patch with many members, in time in proportion to
    /// their number: the state's members the patch names are found by a table, and set from the
    /// object's end back, so that a change leaves the places of those still to set as they are;
    /// then the patch's new members are added, in its order.
    fn merge_wide(&mut self, obj: usize, patch: &[Node], bytes: &[u8], keys: &mut Keys, m: &mut Merger) {
        let end = obj + self.slots[obj].size();
        let mut places = std::collections::HashMap::with_hasher(foldhash::fast::FixedState::default());
        let mut i = obj + 1;
        while i < end {
            places.insert(self.slots[i].key(), i);
            i += self.slots[i].size();
        }
        let (mut found, mut new) = (Vec::new(), Vec::new());
        for at in members(patch) {
            let node = &patch[at];
            match keys
                .find(node.key(bytes), node.ident(bytes))
                .and_then(|id| places.get(&id))
            {
                Some(&c) => found.push((c, at)),
                None => new.push(at),
            }
        }
        found.sort_unstable_by(|a, b| b.cmp(a));
        for (c, at) in found {
            self.put(obj, Some(c), member(patch, at), bytes, keys, m);
        }
        for at in new {
            self.put(obj, None, member(patch, at), bytes, keys, m);
        }
    }

    /// Applies a patch member (`member`: its node and those below) to object `obj`, whose
    /// member it sets is at slot `found` (none: not a member yet); the slot after the member.
    fn put(
        &mut self,
        obj: usize,
        found: Option<usize>,
        member: &[Node],
        bytes: &[u8],
        keys: &mut Keys,
        m: &mut Merger,
    ) -> usize {
        let Some(node) = member.first() else { return obj + 1 };
        let mut id = || keys.id(node.key(bytes), node.ident(bytes));
        match node.kind {
            Kind::Null => {
                let Some(c) = found else { return obj + 1 };
                self.remove(c, self.slots[c].size(), m);
                c
            }
            Kind::Text => {
                let c = match found {
                    Some(c) => {
                        self.make_text(c, m);
                        c
                    }
                    None => self.add(obj, id(), false, m),
                };
                self.set_text(c, node.body.of(bytes));
                c + 1
            }
            Kind::Object => {
                let c = match found {
                    Some(c) => {
                        self.make_object(c);
                        c
                    }
                    None => self.add(obj, id(), true, m),
                };
                m.path.push(c);
                self.merge(c, &member[1..], bytes, keys, m);
                m.path.pop();
                c + self.slots[c].size()
            }
        }
    }

    /// The slot of the member of object `obj` named `key`, looking from the member at `hint`.
    fn find(&self, obj: usize, hint: usize, key: &[u8], ident: u128, keys: &Keys) -> Option<usize> {
        let end = obj + self.slots[obj].size();
        let from = |mut i: usize, to: usize| {
            while i < to {
                let slot = self.slots[i];
                if keys.is(slot.key(), key, ident) {
                    return Some(i);
                }
                i += slot.size();
            }
            None
        };
        from(hint, end).or_else(|| from(obj + 1, hint.min(end)))
    }

    /// Adds an empty member named `id` at the end of object `obj`; its slot.
    fn add(&mut self, obj: usize, id: u32, object: bool, m: &Merger) -> usize {
        let at = obj + self.slots[obj].size();
        self.slots.insert(at, Slot::new(id, object));
        for &o in &m.path {
            self.slots[o].grow(1);
        }
        at
    }

    /// Removes `n` slots from `at`, in the object that is the last of `m.path`.
    fn remove(&mut self, at: usize, n: usize, m: &Merger) {
        for slot in self.slots.drain(at..at + n) {
            if !slot.object() {
                self.garbage += slot.body().len;
            }
        }
        for &o in &m.path {
            self.slots[o].grow(-isize::try_from(n).unwrap_or_default());
        }
    }

    /// Makes member `c` a text, with no text yet.
    fn make_text(&mut self, c: usize, m: &mut Merger) {
        let slot = self.slots[c];
        if slot.object() {
            m.path.push(c);
            self.remove(c + 1, slot.size() - 1, m);
            m.path.pop();
            self.slots[c] = Slot::new(slot.key(), false);
        }
    }

    /// Makes member `c` an object, empty if it was not one.
    fn make_object(&mut self, c: usize) {
        let slot = self.slots[c];
        if !slot.object() {
            self.garbage += slot.body().len;
            self.slots[c] = Slot::new(slot.key(), true);
        }
    }

    /// Sets text slot `c`'s text: in its place when it fits, at the buffer's end otherwise.
    fn set_text(&mut self, c: usize, new: &[u8]) {
        put_text(&mut self.text, &mut self.garbage, &mut self.slots[c], new);
    }

    /// Writes the buffer afresh when more than half of it is texts no slot holds.
    fn compact(&mut self) {
        if self.garbage <= SMALL || self.garbage * 2 <= self.text.len() {
            return;
        }
        let mut text = Vec::with_capacity(self.text.len() - self.garbage);
        for slot in self.slots.iter_mut().chain(&mut self.last).filter(|s| !s.object()) {
            let start = text.len();
            text.extend_from_slice(slot.body().of(&self.text));
            slot.start = start;
        }
        self.text = text;
        self.garbage = 0;
    }

    /// Reads the state's first slots and texts, and a few further on, so that they are in
    /// the cache when the state's turn comes.
    pub(super) fn touch(&self) -> u32 {
        let slots = self.slots.iter().step_by(4).fold(0, |sum, s| sum ^ s.key);
        let text = self.text.iter().step_by(64).fold(0, |sum, b| sum ^ u32::from(*b));
        slots ^ text
    }

    /// The top-level members, name and writer of each, in order; `None` for a state that is
    /// not an object.
    pub(super) fn members<'s>(&'s self, keys: &'s Keys) -> Option<impl Iterator<Item = (&'s str, Part<'s>)>> {
        let root = self.whole(keys);
        root.is_object().then(move || root.members())
    }

    /// The whole state, for writing.
    pub(super) fn whole<'s>(&'s self, keys: &'s Keys) -> Part<'s> {
        Part {
            state: self,
            keys,
            at: 0,
        }
    }
}

/// Sets text `slot`'s text in `text`: in its place when it fits, at the end otherwise.
fn put_text(text: &mut Vec<u8>, garbage: &mut usize, slot: &mut Slot, new: &[u8]) {
    let old = slot.body();
    if new.len() <= old.len {
        text[old.start..old.start + new.len()].copy_from_slice(new);
        *garbage += old.len - new.len();
    } else {
        *garbage += old.len;
        slot.start = text.len();
        text.extend_from_slice(new);
    }
    slot.len = u32::try_from(new.len()).unwrap_or(u32::MAX);
}

/// Writes an object of `members` as compact JSON, each value by `value`.
pub(super) fn write_object<'n, T>(
    out: &mut String,
    members: impl IntoIterator<Item = (&'n str, T)>,
    mut value: impl FnMut(T, &mut String),
) {
    out.push('{');
    for (i, (name, v)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::write_str(out, name);
        out.push(':');
        value(v, out);
    }
    out.push('}');
}

/// Where each member of a patch object is in `patch`, the nodes below the object.
fn members(patch: &[Node]) -> impl Iterator<Item = usize> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let node = patch.get(at)?;
        let this = at;
        at += node.size();
        Some(this)
    })
}

/// Node `at` of `patch` and the nodes below it.
fn member(patch: &[Node], at: usize) -> &[Node] {
    let end = at + patch.get(at).map_or(1, Node::size);
    patch.get(at..end).unwrap_or_default()
}

/// A part of a state, ready to be written as JSON.
#[derive(Clone, Copy)]
pub(super) struct Part<'a> {
    state: &'a State,
    keys: &'a Keys,
    at: usize,
}

impl<'a> Part<'a> {
    /// True for an object, and for the empty state.
    fn is_object(&self) -> bool {
        self.state.slots.get(self.at).is_none_or(Slot::object)
    }

    /// An object's members, name and part of each.
    fn members(self) -> impl Iterator<Item = (&'a str, Part<'a>)> {
        let slots = &self.state.slots;
        let end = slots.get(self.at).map_or(0, |s| self.at + s.size());
        let mut c = self.at + 1;
        std::iter::from_fn(move || {
            let slot = slots.get(c).filter(|_| c < end)?;
            let part = Part { at: c, ..self };
            c += slot.size();
            let name = std::str::from_utf8(self.keys.name(slot.key())).unwrap_or_default();
            Some((name, part))
        })
    }

    /// Writes the value as compact JSON; numbers as written.
    pub(super) fn write(&self, out: &mut String) {
        if self.is_object() {
            return write_object(out, self.members(), |part, out| part.write(out));
        }
        // Every text came from a checked event, whole.
        let body = self.state.slots[self.at].body().of(&self.state.text);
        let text = std::str::from_utf8(body).unwrap_or("null");
        // A repeated key inside an array's object is written as its tree has it.
        json::write_checked(text, out);
    }
}

#[cfg(test)]
mod tests {
    use super::{Keys, Merger, State};
    use crate::stage::fold::patch::Patches;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    /// A state with its keys.
    #[derive(Default)]
    struct Entity {
        state: State,
        keys: Keys,
    }

    impl Entity {
        fn apply(&mut self, patch: &str) {
            let mut patches = Patches::default();
            patches.read_text(patch);
            let Entity { state, keys } = self;
            state.apply(&patches.nodes, &patches.bytes, keys, &mut Merger::default());
        }

        fn text(&self) -> String {
            let mut out = String::new();
            self.state.whole(&self.keys).write(&mut out);
            out
        }

        fn value(&self) -> Value {
            serde_json::from_str(&self.text()).unwrap()
        }
    }

    fn folded(patches: &[Value]) -> Value {
        let mut e = Entity::default();
        for p in patches {
            e.apply(&p.to_string());
        }
        e.value()
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
        let mut e = Entity::default();
        e.apply(r#"{"a":{"x":1},"b":{"x":1}}"#);
        e.apply(r#"{"a":{"y":2},"b":null,"a":{"z":3},"b":{"y":2}}"#);
        assert_eq!(e.text(), r#"{"a":{"x":1,"z":3},"b":{"x":1,"y":2}}"#);
        // A new member repeated takes its first place, as in the parsed object.
        let mut e = Entity::default();
        e.apply(r#"{"a":1,"b":2,"a":{"c":3},"a":4}"#);
        assert_eq!(e.text(), r#"{"a":4,"b":2}"#);
    }

    /// Texts are written as compact JSON, numbers as written; an object in an array with a
    /// repeated key is written as its tree has it.
    #[test]
    fn a_state_is_written_compact_with_numbers_as_written() {
        let mut e = Entity::default();
        e.apply(r#"{"n": 1E5, "a": [1, {"k": 2}], "d": [{"x":1,"x":2}], "s": "\u00e9"}"#);
        assert_eq!(e.text(), r#"{"n":1E5,"a":[1,{"k":2}],"d":[{"x":2}],"s":"é"}"#);
        let mut e = Entity::default();
        e.apply(r#"{"c": [1E5, {"k": 1, "k": 2, "n": 2E-0}]}"#);
        assert_eq!(e.text(), r#"{"c":[1E5,{"k":2,"n":2E-0}]}"#);
    }

    /// A patch that is not an object replaces the state; an object merges into a fresh one.
    #[test]
    fn a_patch_that_is_not_an_object_replaces_the_state() {
        let mut e = Entity::default();
        e.apply(r#"{"a": 1}"#);
        e.apply("[1, 2]");
        assert_eq!(e.text(), "[1,2]");
        assert!(e.state.members(&e.keys).is_none());
        e.apply(r#"{"b": {"c": null}}"#);
        assert_eq!(e.text(), r#"{"b":{}}"#);
    }

    /// Texts that grow, shrink and go leave little behind: the state's buffer holds at most
    /// twice its texts (or a few hundred bytes), and the state stays right.
    #[test]
    fn a_state_holds_little_more_than_its_value() {
        let mut e = Entity::default();
        let mut reference = json!({});
        for i in 0..2000usize {
            let long = "x".repeat(i % 300);
            let patch = if i % 7 == 0 {
                json!({"a": null, "o": {"k": i, "gone": null}})
            } else {
                json!({"a": long, "b": i, "o": {"k": long, "gone": i}})
            };
            json_patch::merge(&mut reference, &patch);
            e.apply(&patch.to_string());
            let live = e.state.text.len() - e.state.garbage;
            assert!(e.state.text.len() <= (2 * live).max(live + super::SMALL));
            let mut fresh = Entity::default();
            fresh.apply(&reference.to_string());
            assert_eq!(live, fresh.state.text.len());
        }
        assert_eq!(e.value(), reference);
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

    /// An object's text with the given members, repeated keys and all.
    fn object_text(members: &[(String, Value)]) -> String {
        let members: Vec<String> = members.iter().map(|(k, v)| format!("{}: {v}", json!(k))).collect();
        format!("{{{}}}", members.join(", "))
    }

    proptest! {
        /// A key repeated in a patch's object counts once, with its last value, as in the
        /// object parsed.
        #[test]
        fn a_repeated_key_counts_as_in_the_parsed_object(
            patches in prop::collection::vec(prop::collection::vec(("[ab]", json_value()), 0..5), 1..5)
        ) {
            let mut reference = json!({});
            let mut e = Entity::default();
            for members in &patches {
                let text = object_text(members);
                json_patch::merge(&mut reference, &serde_json::from_str(&text).unwrap());
                e.apply(&text);
            }
            prop_assert_eq!(e.value(), reference);
        }

        /// Objects with many members (merged by a table, see `State::merge_wide`) merge as
        /// json_patch's merge does.
        #[test]
        fn wide_objects_merge_as_trees_do(
            patches in prop::collection::vec(
                prop::collection::btree_map("[a-z]{1,2}", prop_oneof![
                    Just(Value::Null),
                    (0i64..3).prop_map(Value::from),
                    prop::collection::btree_map("[ab]", (0i64..3).prop_map(Value::from), 0..3)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ], 100..300).prop_map(|m| Value::Object(m.into_iter().collect())),
                1..5,
            )
        ) {
            let mut reference = json!({});
            for p in &patches {
                json_patch::merge(&mut reference, p);
            }
            let mut e = Entity::default();
            for p in &patches {
                e.apply(&p.to_string());
            }
            prop_assert_eq!(e.value(), reference);
        }

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
