//! An object's structure, as the decode-time check's scan finds it (see [`super::scan`]):
//! one [`Node`] per value outside arrays, in pre-order, each a key and a place in the
//! text. An object's node counts the nodes below it, so a reader steps over a member it
//! does not need. Each object holds each key once, as the parsed object does: a repeated
//! key keeps its last value, in its first place. Keys with escapes are unescaped into the
//! tape's own bytes, which count as placed right after the text.

use super::scan::{self, Key, Shape};
use super::unquote;
use std::ops::Range;

/// The nodes of one JSON text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tape {
    pub(crate) nodes: Vec<Node>,
    /// Unescaped keys, placed after the text: a key at `text.len() + i` is at `i` here.
    pub(crate) keys: Vec<u8>,
}

/// One value: an object (whose members are the nodes below), `null`, or another value as
/// JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    /// The key's length (a key is part of a line, which the reader holds below 4 GiB); empty
    /// for the root.
    key_len: u32,
    key_start: usize,
    /// A `Text` or `Null` node's JSON text; for an object, `len` counts the nodes below it.
    pub(crate) body: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Null,
    Object,
}

/// A place in a buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) len: usize,
}

impl Span {
    pub(crate) fn of<'b>(&self, bytes: &'b [u8]) -> &'b [u8] {
        bytes.get(self.start..self.start + self.len).unwrap_or_default()
    }
}

impl Node {
    /// The key, in `bytes` (the text and the tape's keys after it).
    pub(crate) fn key<'b>(&self, bytes: &'b [u8]) -> &'b [u8] {
        let span = Span {
            start: self.key_start,
            len: self.key_len as usize,
        };
        span.of(bytes)
    }

    /// The key's [`ident`], read without copying the key.
    pub(crate) fn ident(&self, bytes: &[u8]) -> u128 {
        let len = self.key_len as usize;
        match bytes.get(self.key_start..self.key_start + 16) {
            Some(head) if len < 16 => {
                let head = u128::from_le_bytes(head.try_into().unwrap_or_default());
                head & ((1 << (8 * len)) - 1) | (len as u128) << 120
            }
            _ => ident(self.key(bytes)),
        }
    }

    /// How many nodes this one and those below it take.
    pub(crate) fn size(&self) -> usize {
        match self.kind {
            Kind::Object => 1 + self.body.len,
            _ => 1,
        }
    }

    /// The node with its places moved `by` bytes on (its text copied there).
    pub(crate) fn moved(mut self, by: usize) -> Node {
        self.key_start += by;
        if self.kind != Kind::Object {
            self.body.start += by;
        }
        self
    }
}

/// The tape of valid JSON text, in the one scan that checks it; `None` where the check's
/// fast path leaves the text to `serde_json` (see [`scan`]).
pub(crate) fn tape(text: &str) -> Option<Tape> {
    let mut b = Builder::new(text);
    let found = scan::capture_shaped(text, &[], None, false, &mut b).is_some();
    let tape = b.finish();
    found.then_some(tape)
}

/// Builds a tape from a scan's reports.
pub(super) struct Builder<'t> {
    text: &'t str,
    tape: Tape,
    scratch: Scratch,
}

/// A builder's own working space, kept by each thread from one text to the next.
#[derive(Default)]
struct Scratch {
    /// The objects being read, outermost first.
    open: Vec<Open>,
    /// The nodes of the open objects' members, each object's from its `base`.
    members: Vec<usize>,
}

thread_local! {
    static SCRATCH: std::cell::Cell<Scratch> = std::cell::Cell::default();
}

/// About how many bytes of an event's text each node takes: a tape is made room for once.
const BYTES_PER_NODE: usize = 12;

struct Open {
    at: usize,
    base: usize,
    /// One bit per key's mix: two members on one bit may have one key, which is checked
    /// then (past a few dozen members, once at the end).
    seen: u64,
    repeated: bool,
}

impl<'t> Builder<'t> {
    pub(super) fn new(text: &'t str) -> Builder<'t> {
        let mut scratch = SCRATCH.take();
        scratch.open.clear();
        scratch.members.clear();
        Builder {
            text,
            tape: Tape {
                nodes: Vec::with_capacity(text.len() / BYTES_PER_NODE + 1),
                keys: Vec::new(),
            },
            scratch,
        }
    }

    /// The tape, once the scan is over; its working space goes back to the thread.
    pub(super) fn finish(self) -> Tape {
        SCRATCH.set(self.scratch);
        self.tape
    }

    fn push(&mut self, kind: Kind, key: Key, body: Span) -> usize {
        let (key_start, key_len) = self.key(key);
        self.tape.nodes.push(Node {
            kind,
            key_len: u32::try_from(key_len).unwrap_or(u32::MAX),
            key_start,
            body,
        });
        self.tape.nodes.len() - 1
    }

    /// A key's place (past its quote, or in the tape's keys when it has escapes) and length.
    fn key(&mut self, key: Key) -> (usize, usize) {
        if key.end <= key.start {
            return (0, 0);
        }
        if !key.escaped {
            return (key.start + 1, key.end - key.start - 2);
        }
        let token = self.text.get(key.start..key.end).unwrap_or_default();
        let start = self.tape.keys.len();
        self.tape.keys.extend_from_slice(unquote(token).as_bytes());
        (self.text.len() + start, self.tape.keys.len() - start)
    }

    /// Node `node` is a member of the innermost open object, if any: a key it repeats is
    /// noted.
    fn member(&mut self, node: usize) {
        let Some(open) = self.scratch.open.last_mut() else {
            return;
        };
        let bytes = Bytes {
            text: self.text.as_bytes(),
            keys: &self.tape.keys,
        };
        let nodes = &self.tape.nodes;
        let bit = 1 << (mix(bytes.ident(&nodes[node])) >> 58);
        if open.seen & bit != 0 && !open.repeated {
            let earlier = &self.scratch.members[open.base..];
            open.repeated = earlier.len() > 64 || earlier.iter().any(|&m| bytes.same_key(&nodes[m], &nodes[node]));
        }
        open.seen |= bit;
        self.scratch.members.push(node);
    }

    /// Makes the members of the object at node `at` (from `base` in `members`) hold each key
    /// once, as the parsed object does: with its last value, in its first place.
    fn keep_last_of_each_key(&mut self, at: usize, base: usize) {
        let bytes = Bytes {
            text: self.text.as_bytes(),
            keys: &self.tape.keys,
        };
        let nodes = &self.tape.nodes;
        let members = &self.scratch.members[base..];
        let key = |i: usize| {
            let n = &nodes[members[i]];
            (bytes.ident(n), bytes.key(n))
        };
        let mut order: Vec<usize> = (0..members.len()).collect();
        order.sort_by(|&a, &b| key(a).cmp(&key(b)).then(a.cmp(&b)));
        // Each key's first place and last member, in the order of first places.
        let mut keys: Vec<(usize, usize)> = Vec::new();
        for (n, &i) in order.iter().enumerate() {
            match keys.last_mut() {
                Some(k) if n > 0 && key(order[n - 1]) == key(i) => k.1 = i,
                _ => keys.push((i, i)),
            }
        }
        if keys.len() == members.len() {
            return;
        }
        keys.sort_unstable();
        let mut kept = Vec::with_capacity(nodes.len() - at - 1);
        for (_, last) in keys {
            let node = members[last];
            kept.extend_from_slice(&nodes[node..node + nodes[node].size()]);
        }
        self.tape.nodes.truncate(at + 1);
        self.tape.nodes.append(&mut kept);
    }
}

impl Shape for Builder<'_> {
    fn object(&mut self, key: Key) {
        let at = self.push(Kind::Object, key, Span::default());
        self.scratch.open.push(Open {
            at,
            base: self.scratch.members.len(),
            seen: 0,
            repeated: false,
        });
    }

    fn end(&mut self) {
        let Some(open) = self.scratch.open.pop() else { return };
        if open.repeated {
            self.keep_last_of_each_key(open.at, open.base);
        }
        self.scratch.members.truncate(open.base);
        self.tape.nodes[open.at].body.len = self.tape.nodes.len() - open.at - 1;
        self.member(open.at);
    }

    fn value(&mut self, key: Key, value: Range<usize>) {
        let kind = match self.text.as_bytes().get(value.start) {
            Some(b'n') => Kind::Null,
            _ => Kind::Text,
        };
        let body = Span {
            start: value.start,
            len: value.len(),
        };
        let node = self.push(kind, key, body);
        self.member(node);
    }
}

/// A text and the tape's keys after it, as one run of bytes.
struct Bytes<'b> {
    text: &'b [u8],
    keys: &'b [u8],
}

impl Bytes<'_> {
    fn key(&self, n: &Node) -> &[u8] {
        match n.key_start.checked_sub(self.text.len()) {
            Some(start) => Span {
                start,
                len: n.key_len as usize,
            }
            .of(self.keys),
            None => n.key(self.text),
        }
    }

    fn ident(&self, n: &Node) -> u128 {
        if n.key_start < self.text.len() {
            n.ident(self.text)
        } else {
            ident(self.key(n))
        }
    }

    fn same_key(&self, a: &Node, b: &Node) -> bool {
        same(self.ident(a), self.ident(b), || self.key(a) == self.key(b))
    }
}

/// A key's first 15 bytes and its length (at most 255) in the last byte: two keys shorter
/// than 16 bytes are the same exactly when their idents are, so most keys are compared
/// without reading them.
fn ident(key: &[u8]) -> u128 {
    let mut b = [0; 16];
    let n = key.len().min(15);
    b[..n].copy_from_slice(&key[..n]);
    b[15] = u8::try_from(key.len()).unwrap_or(u8::MAX);
    u128::from_le_bytes(b)
}

/// Whether a key of `ident` is the same as `key`, whose ident is `other`.
pub(crate) fn same(ident: u128, other: u128, key: impl FnOnce() -> bool) -> bool {
    ident == other && (ident >> 120 < 16 || key())
}

/// An ident's bits mixed, the high ones depending on all.
fn mix(ident: u128) -> u64 {
    ((ident as u64) ^ (ident >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[cfg(test)]
mod tests {
    use super::{Kind, Span, tape};

    /// Each node as (kind, key, text), text for a `Text` or `Null` node only.
    fn nodes(text: &str) -> Vec<(Kind, String, String)> {
        let t = tape(text).expect("plain JSON");
        let bytes = [text.as_bytes(), &t.keys].concat();
        let show = |s: Span| String::from_utf8(s.of(&bytes).to_vec()).unwrap();
        t.nodes
            .iter()
            .map(|n| {
                let body = match n.kind {
                    Kind::Object => n.body.len.to_string(),
                    _ => show(n.body),
                };
                (n.kind, String::from_utf8(n.key(&bytes).to_vec()).unwrap(), body)
            })
            .collect()
    }

    fn node(kind: Kind, key: &str, body: &str) -> (Kind, String, String) {
        (kind, key.to_owned(), body.to_owned())
    }

    #[test]
    fn an_object_is_read_into_nodes_in_pre_order_and_arrays_are_texts() {
        assert_eq!(
            nodes(r#" { "a" : [1, {"x": "]"}] , "o": {"b": null, "c": "s\"}"}, "n": -1.5e3 } "#),
            vec![
                node(Kind::Object, "", "5"),
                node(Kind::Text, "a", r#"[1, {"x": "]"}]"#),
                node(Kind::Object, "o", "2"),
                node(Kind::Null, "b", "null"),
                node(Kind::Text, "c", r#""s\"}""#),
                node(Kind::Text, "n", "-1.5e3"),
            ]
        );
    }

    #[test]
    fn a_text_that_is_not_an_object_is_one_node() {
        assert_eq!(nodes(" null "), vec![node(Kind::Null, "", "null")]);
        assert_eq!(nodes(r#""{""#), vec![node(Kind::Text, "", r#""{""#)]);
        assert_eq!(nodes("[{}]"), vec![node(Kind::Text, "", "[{}]")]);
    }

    #[test]
    fn keys_are_unescaped_and_a_repeated_key_has_its_last_value_in_its_first_place() {
        assert_eq!(
            nodes(r#"{"a\u0062": 1, "k": {"x": 1}, "ab": 2, "k": 3, "o": {"x": 1, "y": {}, "\u0078": 2}, "k": null}"#),
            vec![
                node(Kind::Object, "", "5"),
                node(Kind::Text, "ab", "2"),
                node(Kind::Null, "k", "null"),
                node(Kind::Object, "o", "2"),
                node(Kind::Text, "x", "2"),
                node(Kind::Object, "y", "0"),
            ]
        );
    }

    #[test]
    fn an_empty_object_has_no_nodes_below() {
        assert_eq!(
            nodes(r#"{"e": {}, "f": { }}"#),
            vec![
                node(Kind::Object, "", "2"),
                node(Kind::Object, "e", "0"),
                node(Kind::Object, "f", "0"),
            ]
        );
    }

    #[test]
    fn text_the_check_leaves_to_serde_json_has_no_tape() {
        assert_eq!(tape(r#"{"a":01}"#), None);
        assert_eq!(tape(r#"{"$serde_json::private::Number":"1"}"#), None);
    }
}
