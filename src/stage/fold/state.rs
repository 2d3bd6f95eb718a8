//! One entity's state for `fold`: a JSON value held as a tree of objects whose keys and
//! leaves' texts sit in one buffer of the entity's. Applying an event touches a few cache
//! lines and, while the entity keeps its shape, allocates nothing: a text is overwritten in
//! place when it fits the room it had. What changes leave unused is reclaimed by copying the
//! live texts to a new buffer once they are less than half of it.

use super::patch::{Key, Patches, Step};
use crate::json;
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub(super) struct State {
    root: Node,
    arena: Arena,
}

/// A state's texts, back to back; `garbage` bytes of them are no longer used.
#[derive(Debug, Clone, Default)]
struct Arena {
    bytes: Vec<u8>,
    garbage: usize,
}

/// A text in the arena, with the room it may grow into in place.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    at: usize,
    len: usize,
    room: usize,
}

#[derive(Debug, Clone)]
enum Node {
    Object(Object),
    /// Any value other than an object, as its JSON text.
    Text(Span),
}

impl Default for Node {
    fn default() -> Node {
        Node::Object(Object::default())
    }
}

/// An object's members, in order: their names, and apart from them their values. Finding a
/// member reads only the names, a few cache lines that [`State::touch`] can load ahead.
#[derive(Debug, Clone, Default)]
struct Object {
    names: Vec<Name>,
    nodes: Vec<Node>,
}

/// A member's key, and its hash (see [`Key`]), compared first.
#[derive(Debug, Clone, Copy)]
struct Name {
    hash: u64,
    key: Span,
}

/// Below this many unused bytes a state is not compacted.
const SMALL_GARBAGE: usize = 1024;

impl State {
    /// Applies one patch's steps (RFC 7386): a `Replace`, or an object's.
    pub(super) fn apply(&mut self, patches: &Patches, steps: &[Step]) {
        let mut steps = steps.iter();
        match steps.next() {
            Some(Step::Replace(value)) => self.root.set_text(&mut self.arena, patches.text(value)),
            Some(Step::Enter(_)) => self.root.merge(&mut self.arena, patches, &mut steps),
            _ => {}
        }
        if self.arena.garbage > SMALL_GARBAGE && self.arena.garbage * 2 > self.arena.bytes.len() {
            self.compact();
        }
    }

    /// Reads the top-level names and the first bytes of the texts, so that they are in the
    /// cache when the state's turn comes.
    pub(super) fn touch(&self) {
        if let Node::Object(object) = &self.root {
            // One read per cache line of names.
            let lines = object.names.iter().step_by(64 / size_of::<Name>().max(1));
            std::hint::black_box(lines.fold(0, |sum: u64, n| sum.wrapping_add(n.hash)));
        }
        std::hint::black_box(self.arena.bytes.first().copied());
    }

    /// The top-level members, name and writer of each, in order; `None` for a state that is
    /// not an object.
    pub(super) fn members(&self) -> Option<impl Iterator<Item = (&str, Part<'_>)>> {
        let Node::Object(object) = &self.root else { return None };
        Some(object.names.iter().zip(&object.nodes).map(|(name, node)| {
            let part = Part {
                node,
                arena: &self.arena,
            };
            (self.arena.str(name.key), part)
        }))
    }

    /// The whole state, for writing.
    pub(super) fn whole(&self) -> Part<'_> {
        Part {
            node: &self.root,
            arena: &self.arena,
        }
    }

    /// Copies the live texts to a new arena.
    fn compact(&mut self) {
        let mut fresh = Arena {
            bytes: Vec::with_capacity(self.arena.bytes.len() - self.arena.garbage),
            garbage: 0,
        };
        self.root.move_texts(&self.arena, &mut fresh);
        self.arena = fresh;
    }
}

/// A node of a state, ready to be written as JSON.
#[derive(Clone, Copy)]
pub(super) struct Part<'a> {
    node: &'a Node,
    arena: &'a Arena,
}

impl Part<'_> {
    /// Writes the value as compact JSON; numbers as written.
    pub(super) fn write(&self, out: &mut String) {
        match self.node {
            Node::Object(object) => {
                out.push('{');
                for (i, (name, node)) in object.names.iter().zip(&object.nodes).enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json::write_str(out, self.arena.str(name.key));
                    out.push(':');
                    Part { node, ..*self }.write(out);
                }
                out.push('}');
            }
            Node::Text(span) => {
                let text = self.arena.str(*span);
                let at = out.len();
                if json::canonical(text, out).is_err() {
                    // A repeated key inside an array's object: write it as its tree has it.
                    out.truncate(at);
                    // Every text came from a checked event.
                    json::write_value(out, &json::reparse(text.as_bytes()).unwrap_or(Value::Null));
                }
            }
        }
    }
}

impl Arena {
    fn put(&mut self, text: &str) -> Span {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(text.as_bytes());
        Span {
            at,
            len: text.len(),
            room: text.len(),
        }
    }

    /// Writes `text` over `span`'s, in place when it fits.
    fn set(&mut self, span: &mut Span, text: &str) {
        if text.len() <= span.room {
            self.bytes[span.at..span.at + text.len()].copy_from_slice(text.as_bytes());
            // The room past a text is counted unused (see below), so this never goes under 0.
            self.garbage = (self.garbage + span.len).saturating_sub(text.len());
            span.len = text.len();
        } else {
            self.garbage += span.len;
            *span = self.put(text);
        }
    }

    fn bytes(&self, span: Span) -> &[u8] {
        &self.bytes[span.at..span.at + span.len]
    }

    /// The text at `span`. Every text put was a `&str`, whole.
    fn str(&self, span: Span) -> &str {
        std::str::from_utf8(self.bytes(span)).unwrap_or_default()
    }

    /// Counts the texts of a node no longer in the state as unused.
    fn free(&mut self, node: &Node) {
        match node {
            Node::Text(span) => self.garbage += span.len,
            Node::Object(object) => {
                for (name, node) in object.names.iter().zip(&object.nodes) {
                    self.garbage += name.key.len;
                    self.free(node);
                }
            }
        }
    }
}

impl Node {
    /// Becomes the value `text`, reusing its own text's room.
    fn set_text(&mut self, arena: &mut Arena, text: &str) {
        match self {
            Node::Text(span) => arena.set(span, text),
            Node::Object(_) => {
                arena.free(self);
                *self = Node::Text(arena.put(text));
            }
        }
    }

    /// Merges the members that `steps` give, up to their `Leave`, into this object (what is
    /// not an object becomes an empty one first).
    fn merge<'s>(&mut self, arena: &mut Arena, patches: &Patches, steps: &mut impl Iterator<Item = &'s Step>) {
        if let Node::Text(_) = self {
            arena.free(self);
            *self = Node::default();
        }
        let Node::Object(object) = self else { return };
        // Events of one kind list their keys in the same order: look where the last one was.
        let mut hint = 0;
        while let Some(step) = steps.next() {
            let (Step::Set { key, .. } | Step::Delete(key) | Step::Enter(key)) = step else {
                return;
            };
            let name = patches.text(&key.text);
            let at = object.find(arena, key.hash, name, hint);
            hint = at.map_or(hint, |at| at + 1);
            match (step, at) {
                (Step::Set { text, .. }, Some(at)) => object.nodes[at].set_text(arena, patches.text(text)),
                (Step::Set { text, .. }, None) => {
                    let node = Node::Text(arena.put(patches.text(text)));
                    object.push(arena, key, name, node);
                }
                (Step::Delete(_), Some(at)) => {
                    arena.garbage += object.names.remove(at).key.len;
                    arena.free(&object.nodes.remove(at));
                    hint = at;
                }
                (Step::Enter(_), at) => {
                    let at = at.unwrap_or_else(|| object.push(arena, key, name, Node::default()));
                    object.nodes[at].merge(arena, patches, steps);
                }
                _ => {}
            }
        }
    }

    /// Copies this node's keys and texts from `old` to `new`, pointing its spans there.
    fn move_texts(&mut self, old: &Arena, new: &mut Arena) {
        match self {
            Node::Text(span) => *span = new.put(old.str(*span)),
            Node::Object(object) => {
                for (name, node) in object.names.iter_mut().zip(&mut object.nodes) {
                    name.key = new.put(old.str(name.key));
                    node.move_texts(old, new);
                }
            }
        }
    }
}

impl Object {
    /// Adds a member at the end; its place.
    fn push(&mut self, arena: &mut Arena, key: &Key, name: &str, node: Node) -> usize {
        self.names.push(Name {
            hash: key.hash,
            key: arena.put(name),
        });
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Where the key `name` with `hash` is, looking from `hint` on first.
    fn find(&self, arena: &Arena, hash: u64, name: &str, hint: usize) -> Option<usize> {
        let is_key = |at: usize| {
            let n = &self.names[at];
            n.hash == hash && n.key.len == name.len() && arena.bytes(n.key) == name.as_bytes()
        };
        let hint = hint.min(self.names.len());
        (hint..self.names.len()).chain(0..hint).find(|&at| is_key(at))
    }
}

#[cfg(test)]
mod tests {
    use super::State;
    use crate::stage::fold::patch::Patches;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn apply(state: &mut State, patch: &str) {
        let mut patches = Patches::default();
        patches.read_text(patch);
        state.apply(&patches, &patches.steps);
    }

    fn text(state: &State) -> String {
        let mut out = String::new();
        state.whole().write(&mut out);
        out
    }

    fn value(state: &State) -> Value {
        serde_json::from_str(&text(state)).unwrap()
    }

    fn folded(patches: &[Value]) -> Value {
        let mut state = State::default();
        for p in patches {
            apply(&mut state, &p.to_string());
        }
        value(&state)
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
        let mut node = State::default();
        apply(&mut node, &state.to_string());
        apply(&mut node, r#"{"a":{"y":2},"a":{"z":3}}"#);
        assert_eq!(value(&node), json!({"a": {"x": 1, "z": 3}}));
    }

    /// Texts are written as compact JSON, numbers as written; an object in an array with a
    /// repeated key is written as its tree has it.
    #[test]
    fn a_state_is_written_compact_with_numbers_as_written() {
        let mut state = State::default();
        apply(
            &mut state,
            r#"{"n": 1E5, "a": [1, {"k": 2}], "d": [{"x":1,"x":2}], "s": "\u00e9"}"#,
        );
        assert_eq!(text(&state), r#"{"n":1E5,"a":[1,{"k":2}],"d":[{"x":2}],"s":"é"}"#);
    }

    /// Texts that grow, shrink and go are reclaimed: the state's buffer stays within twice
    /// what it holds, and the state stays right.
    #[test]
    fn unused_room_is_reclaimed() {
        let mut state = State::default();
        let mut reference = json!({});
        for i in 0..5000usize {
            let long = "x".repeat(i % 300);
            let patch = if i % 7 == 0 {
                json!({"a": null, "o": {"k": i, "gone": null}})
            } else {
                json!({"a": long, "b": i, "o": {"k": long, "gone": i}})
            };
            json_patch::merge(&mut reference, &patch);
            apply(&mut state, &patch.to_string());
            assert!(state.arena.bytes.len() <= 2 * (state.arena.bytes.len() - state.arena.garbage) + 1024 + 300);
        }
        assert_eq!(value(&state), reference);
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
