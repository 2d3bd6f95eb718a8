//! JSON merge patches (RFC 7386) and `fold` states in one compact encoding: a value is an
//! [`Item`] — a tag, its key's hash, its key and its body — and an object's body is its
//! members' items, back to back. A patch's member set to `null` is a `Delete` item. Workers
//! encode events' patches; the ordered part merges them into states (see [`super::state`])
//! reading each state from one buffer, front to back.

use crate::event::Event;
use crate::json;
use crate::lang::ast::Path;
use std::hash::BuildHasher;

/// Events' patches, each one root item (with an empty key), back to back.
#[derive(Debug, Clone, Default)]
pub(super) struct Patches {
    pub(super) bytes: Vec<u8>,
    /// Scratch space: the hashes of the keys of the objects being read, outermost first.
    hashes: Vec<u64>,
}

/// What an item's body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    /// A value other than an object, as JSON text.
    Text = 0,
    /// An object: its members' items.
    Object = 1,
    /// In a patch, a member set to `null`: it is deleted. The body is empty.
    Delete = 2,
}

/// One encoded value: `tag`, then the key's hash, the key's length and the body's length
/// (little-endian `u32`, `u32`, `u64`), then the key (unescaped) and the body.
#[derive(Debug, Clone, Copy)]
pub(super) struct Item<'a> {
    pub(super) tag: Tag,
    pub(super) hash: u32,
    pub(super) key: &'a [u8],
    pub(super) body: &'a [u8],
    /// The whole item, header included.
    pub(super) bytes: &'a [u8],
}

const HEADER: usize = 17;

/// The items of an object's body, in order.
#[derive(Debug, Clone)]
pub(super) struct Items<'a>(pub(super) &'a [u8]);

impl<'a> Iterator for Items<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        let item = Item::at(self.0)?;
        self.0 = &self.0[item.bytes.len()..];
        Some(item)
    }
}

impl<'a> Item<'a> {
    /// The item that starts `bytes`; `None` when they hold none.
    pub(super) fn at(bytes: &'a [u8]) -> Option<Item<'a>> {
        let header = bytes.get(..HEADER)?;
        let tag = match header[0] {
            0 => Tag::Text,
            1 => Tag::Object,
            _ => Tag::Delete,
        };
        let number = |r: std::ops::Range<usize>| {
            let mut n = [0; 8];
            n[..r.len()].copy_from_slice(&header[r]);
            usize::try_from(u64::from_le_bytes(n)).unwrap_or(usize::MAX)
        };
        let key_end = HEADER.checked_add(number(5..9))?;
        let end = key_end.checked_add(number(9..17))?;
        Some(Item {
            tag,
            hash: u32::try_from(number(1..5)).unwrap_or_default(),
            key: bytes.get(HEADER..key_end)?,
            body: bytes.get(key_end..end)?,
            bytes: &bytes[..end],
        })
    }

    /// The body's members when the item is an object; none otherwise.
    pub(super) fn members(&self) -> Items<'a> {
        Items(if self.tag == Tag::Object { self.body } else { &[] })
    }
}

/// An item [`begin`] started: where its body's length goes, and where its body starts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Open {
    slot: usize,
    body: usize,
}

/// Starts an item whose body the caller writes next; [`end`] closes it.
pub(super) fn begin(out: &mut Vec<u8>, tag: Tag, hash: u32, key: &[u8]) -> Open {
    let mut header = [0; HEADER];
    header[0] = tag as u8;
    header[1..5].copy_from_slice(&hash.to_le_bytes());
    // A key is part of one line, far below 4 GiB.
    header[5..9].copy_from_slice(&u32::try_from(key.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.reserve(HEADER + key.len());
    let slot = out.len() + 9;
    out.extend_from_slice(&header);
    out.extend_from_slice(key);
    Open { slot, body: out.len() }
}

/// Closes the item [`begin`] started: its body is what was written since.
pub(super) fn end(out: &mut [u8], open: Open) {
    let len = (out.len() - open.body) as u64;
    out[open.slot..open.slot + 8].copy_from_slice(&len.to_le_bytes());
}

/// Writes a whole item.
fn put(out: &mut Vec<u8>, tag: Tag, hash: u32, key: &[u8], body: &[u8]) {
    let at = begin(out, tag, hash, key);
    out.extend_from_slice(body);
    end(out, at);
}

/// The hash an item keeps of its key, the same on every thread.
pub(super) fn key_hash(key: &str) -> u64 {
    foldhash::fast::FixedState::default().hash_one(key)
}

impl Patches {
    pub(super) fn clear(&mut self) {
        self.bytes.clear();
    }

    /// Adds the event's patch: the event itself, or its value at `from`; nothing when `from`
    /// is missing.
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

    /// Adds a patch given as valid JSON text.
    pub(super) fn read_text(&mut self, patch: &str) {
        match object_members(patch) {
            Some(fields) => self.read_object(&fields),
            None => put(&mut self.bytes, Tag::Text, 0, b"", patch.as_bytes()),
        }
    }

    fn read_object(&mut self, fields: &[json::Field]) {
        let at = begin(&mut self.bytes, Tag::Object, 0, b"");
        self.read_members(fields);
        end(&mut self.bytes, at);
    }

    /// Writes an object's members as items; of a key repeated in one object, the last one
    /// counts (as in a parsed object), so a patch's object holds each key once.
    fn read_members(&mut self, fields: &[json::Field]) {
        let base = self.hashes.len();
        self.hashes.extend(fields.iter().map(|(k, _)| key_hash(k)));
        for (i, (key, value)) in fields.iter().enumerate() {
            if !is_last_of_key(fields, &self.hashes[base..], i) {
                continue;
            }
            // Items keep the low half of the hash: compared first, then the key.
            let hash = self.hashes[base + i] as u32;
            if *value == "null" {
                put(&mut self.bytes, Tag::Delete, hash, key.as_bytes(), b"");
            } else if let Some(inner) = object_members(value) {
                let at = begin(&mut self.bytes, Tag::Object, hash, key.as_bytes());
                self.read_members(&inner);
                end(&mut self.bytes, at);
            } else {
                put(&mut self.bytes, Tag::Text, hash, key.as_bytes(), value.as_bytes());
            }
        }
        self.hashes.truncate(base);
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

/// Whether no member after `i` has its key.
fn is_last_of_key(members: &[json::Field], hashes: &[u64], i: usize) -> bool {
    !(i + 1..members.len()).any(|j| hashes[j] == hashes[i] && members[j].0 == members[i].0)
}
