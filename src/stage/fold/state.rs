//! One entity's state for `fold`: its JSON value encoded as one [`Item`] (see [`super::patch`])
//! in one buffer of the entity's. Applying an event writes the merged state front to back
//! into scratch space and copies it back: members the patch leaves alone are copied whole,
//! so an event costs time in proportion to its state's size, reads one buffer that the
//! hardware prefetches, and leaves nothing unused behind. An empty buffer is the empty object.

use super::patch::{self, Item, Items, Tag};
use crate::json;
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub(super) struct State {
    bytes: Vec<u8>,
}

/// Scratch space for merging, kept between events.
#[derive(Debug, Clone, Default)]
pub(super) struct Merger {
    out: Vec<u8>,
    /// The members of the patch objects being merged, innermost last.
    spots: Vec<Spot>,
}

/// A patch member: where it is in its object's body, its key's hash, and whether a state
/// member took it.
#[derive(Debug, Clone, Copy)]
struct Spot {
    at: usize,
    hash: u32,
    used: bool,
}

impl State {
    /// Applies one encoded patch (a root item; none leaves the state as it is), RFC 7386: a
    /// patch that is not an object replaces the state, an object merges into it.
    pub(super) fn apply(&mut self, patch: &[u8], m: &mut Merger) {
        let Some(patch) = Item::at(patch) else { return };
        let merged = match patch.tag {
            Tag::Object => {
                m.out.clear();
                let at = patch::begin(&mut m.out, Tag::Object, 0, b"");
                m.merge(self.root().members(), patch.body);
                patch::end(&mut m.out, at);
                &m.out[..]
            }
            _ => patch.bytes,
        };
        // Copied back rather than swapped: each state keeps a buffer of its own size.
        self.bytes.clear();
        self.bytes.extend_from_slice(merged);
    }

    /// Reads the state's first bytes, and one in every few cache lines after, so that they
    /// are in the cache when the state's turn comes.
    pub(super) fn touch(&self) {
        let lines = self.bytes.iter().step_by(256).take(8);
        std::hint::black_box(lines.fold(0u8, |sum, b| sum.wrapping_add(*b)));
    }

    /// The top-level members, name and writer of each, in order; `None` for a state that is
    /// not an object.
    pub(super) fn members(&self) -> Option<impl Iterator<Item = (&str, Part<'_>)>> {
        let root = self.root();
        (root.tag == Tag::Object).then(|| {
            root.members()
                .map(|item| (std::str::from_utf8(item.key).unwrap_or_default(), Part(item)))
        })
    }

    /// The whole state, for writing.
    pub(super) fn whole(&self) -> Part<'_> {
        Part(self.root())
    }

    fn root(&self) -> Item<'_> {
        Item::at(&self.bytes).unwrap_or(Item {
            tag: Tag::Object,
            hash: 0,
            key: b"",
            body: b"",
            bytes: b"",
        })
    }
}

impl Merger {
    /// Writes the members of `state` (an object's members) merged with those of the patch
    /// object `patch` (its body): a state member the patch names is replaced, deleted or
    /// merged in its place; the patch's other members follow, in its order.
    fn merge(&mut self, state: Items<'_>, patch: &[u8]) {
        let base = self.spots.len();
        let mut at = 0;
        for item in Items(patch) {
            self.spots.push(Spot {
                at,
                hash: item.hash,
                used: false,
            });
            at += item.bytes.len();
        }
        // Events of one kind list their keys in the same order: look where the last one was.
        let mut hint = base;
        for old in state {
            let Some(i) = self.find(base, hint, &old, patch) else {
                self.out.extend_from_slice(old.bytes);
                continue;
            };
            self.spots[i].used = true;
            hint = i + 1;
            if let Some(new) = Item::at(&patch[self.spots[i].at..]) {
                self.put(old.members(), new);
            }
        }
        for i in base..self.spots.len() {
            if !self.spots[i].used
                && let Some(new) = Item::at(&patch[self.spots[i].at..])
            {
                self.put(Items(b""), new);
            }
        }
        self.spots.truncate(base);
    }

    /// Writes the patch member `new` over a state member whose members (if it is an object)
    /// are `old`.
    fn put(&mut self, old: Items<'_>, new: Item<'_>) {
        match new.tag {
            Tag::Delete => {}
            Tag::Text => self.out.extend_from_slice(new.bytes),
            Tag::Object => {
                let at = patch::begin(&mut self.out, Tag::Object, new.hash, new.key);
                self.merge(old, new.body);
                patch::end(&mut self.out, at);
            }
        }
    }

    /// Which of the patch members from `base` on has `old`'s key, looking from `hint` first.
    fn find(&self, base: usize, hint: usize, old: &Item<'_>, patch: &[u8]) -> Option<usize> {
        let is_key = |i: usize| {
            let spot = self.spots[i];
            spot.hash == old.hash && Item::at(&patch[spot.at..]).is_some_and(|new| new.key == old.key)
        };
        (hint..self.spots.len()).chain(base..hint).find(|&i| is_key(i))
    }
}

/// A part of a state, ready to be written as JSON.
#[derive(Clone, Copy)]
pub(super) struct Part<'a>(Item<'a>);

impl Part<'_> {
    /// Writes the value as compact JSON; numbers as written.
    pub(super) fn write(&self, out: &mut String) {
        match self.0.tag {
            Tag::Object => {
                out.push('{');
                for (i, item) in self.0.members().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json::write_str(out, std::str::from_utf8(item.key).unwrap_or_default());
                    out.push(':');
                    Part(item).write(out);
                }
                out.push('}');
            }
            _ => {
                // Every text came from a checked event, whole.
                let text = std::str::from_utf8(self.0.body).unwrap_or("null");
                let at = out.len();
                if json::canonical(text, out).is_err() {
                    // A repeated key inside an array's object: write it as its tree has it.
                    out.truncate(at);
                    json::write_value(out, &json::checked_tree(text).unwrap_or(Value::Null));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Merger, State};
    use crate::stage::fold::patch::Patches;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn apply(state: &mut State, patch: &str) {
        let mut patches = Patches::default();
        patches.read_text(patch);
        state.apply(&patches.bytes, &mut Merger::default());
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
        let mut state = State::default();
        apply(&mut state, r#"{"c": [1E5, {"k": 1, "k": 2, "n": 2E-0}]}"#);
        assert_eq!(text(&state), r#"{"c":[1E5,{"k":2,"n":2E-0}]}"#);
    }

    /// Texts that grow, shrink and go leave nothing behind: the state's buffer is always
    /// what encoding its value afresh gives, and the state stays right.
    #[test]
    fn a_state_holds_only_its_value() {
        let mut state = State::default();
        let mut reference = json!({});
        for i in 0..2000usize {
            let long = "x".repeat(i % 300);
            let patch = if i % 7 == 0 {
                json!({"a": null, "o": {"k": i, "gone": null}})
            } else {
                json!({"a": long, "b": i, "o": {"k": long, "gone": i}})
            };
            json_patch::merge(&mut reference, &patch);
            apply(&mut state, &patch.to_string());
            let mut fresh = State::default();
            apply(&mut fresh, &reference.to_string());
            assert_eq!(state.bytes, fresh.bytes);
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
