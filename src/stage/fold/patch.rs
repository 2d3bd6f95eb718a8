//! A JSON merge patch (RFC 7386) read apart into steps over one text buffer: set this member
//! to this JSON text, delete that one, go into this object. Workers read events' patches
//! apart; the ordered part only applies the steps (see [`super::state`]).

use crate::event::Event;
use crate::json;
use crate::lang::ast::Path;
use std::hash::BuildHasher;
use std::ops::Range;

/// Merge patches read apart into steps, over one text buffer.
#[derive(Debug, Clone, Default)]
pub(super) struct Patches {
    /// Keys (unescaped) and values' JSON text, back to back.
    text: String,
    pub(super) steps: Vec<Step>,
    /// Scratch space: the hashes of the keys of the objects being read, outermost first.
    hashes: Vec<u64>,
}

/// One step of applying a merge patch; keys and texts are ranges of [`Patches::text`]. A
/// patch is a `Replace`, or an object: an `Enter` (with an empty key), its members, a `Leave`.
#[derive(Debug, Clone)]
pub(super) enum Step {
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
/// the member so that finding it compares numbers first.
#[derive(Debug, Clone, Default)]
pub(super) struct Key {
    pub(super) text: Range<usize>,
    pub(super) hash: u64,
}

impl Patches {
    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.steps.clear();
    }

    /// The text of a key or value.
    pub(super) fn text(&self, r: &Range<usize>) -> &str {
        &self.text[r.clone()]
    }

    /// Adds the steps of the event's patch: the event itself, or its value at `from`; none
    /// when `from` is missing.
    pub(super) fn read(&mut self, ev: &Event, from: Option<&Path>) {
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
    pub(super) fn read_text(&mut self, patch: &str) {
        match object_members(patch) {
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
        let base = self.hashes.len();
        let hasher = foldhash::fast::FixedState::default();
        self.hashes.extend(fields.iter().map(|(k, _)| hasher.hash_one(&**k)));
        for (i, (key, value)) in fields.iter().enumerate() {
            if !is_last_of_key(fields, &self.hashes[base..], i) {
                continue;
            }
            let key = Key {
                text: self.put(key),
                hash: self.hashes[base + i],
            };
            if *value == "null" {
                self.steps.push(Step::Delete(key));
            } else if let Some(inner) = object_members(value) {
                self.steps.push(Step::Enter(key));
                self.read_members(&inner);
                self.steps.push(Step::Leave);
            } else {
                let text = self.put(value);
                self.steps.push(Step::Set { key, text });
            }
        }
        self.hashes.truncate(base);
    }

    fn put(&mut self, s: &str) -> Range<usize> {
        let at = self.text.len();
        self.text.push_str(s);
        at..self.text.len()
    }
}

/// The members of `value` when it is an object (valid JSON text); any other value is not
/// parsed.
fn object_members(value: &str) -> Option<Vec<json::Field<'_>>> {
    value
        .trim_start()
        .starts_with('{')
        .then(|| json::members(value))
        .flatten()
}

/// Whether no member after `i` has its key: of a key repeated in one object, the last one
/// counts (as in a parsed object).
fn is_last_of_key(members: &[json::Field], hashes: &[u64], i: usize) -> bool {
    !(i + 1..members.len()).any(|j| hashes[j] == hashes[i] && members[j].0 == members[i].0)
}
