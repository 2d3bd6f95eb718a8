//! JSON merge patches (RFC 7386) read apart for `fold`: a patch is its JSON text and a list
//! of [`Node`]s in pre-order, each a key and a value's place in that text. An object's node
//! counts the nodes below it, so a merge steps over a member it does not need; a member set
//! to `null` is a `Delete` node. Reading walks text the decode-time check already found
//! valid, once, without checking it again; the ordered part merges the nodes into states
//! (see [`super::state`]).

use crate::event::Event;
use crate::json;
use crate::lang::ast::Path;

/// Events' patches, back to back: their texts (and unescaped keys) in `bytes`, their nodes
/// in `nodes`, each patch one root node (with an empty key) and the nodes below it.
#[derive(Debug, Clone, Default)]
pub(super) struct Patches {
    pub(super) bytes: Vec<u8>,
    pub(super) nodes: Vec<Node>,
    /// Scratch space: the nodes of the members of the objects being read, outermost first.
    members: Vec<usize>,
}

/// One value of a patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Node {
    pub(super) kind: Kind,
    /// The key, unescaped, in the patches' bytes; empty for a root. (A key is part of a line,
    /// which the reader holds below 4 GiB.)
    key_len: u32,
    key_start: usize,
    /// A `Text` node's JSON text in the patches' bytes; for the other kinds, `len` counts the
    /// nodes below this one.
    pub(super) body: Span,
}

/// What a node's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A value other than an object, as JSON text.
    Text,
    /// An object: its members are the nodes below.
    Object,
    /// A member set to `null`: it is deleted.
    Delete,
}

/// A place in a buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Span {
    pub(super) start: usize,
    pub(super) len: usize,
}

impl Span {
    pub(super) fn of<'b>(&self, bytes: &'b [u8]) -> &'b [u8] {
        bytes.get(self.start..self.start + self.len).unwrap_or_default()
    }
}

impl Node {
    pub(super) fn key<'b>(&self, bytes: &'b [u8]) -> &'b [u8] {
        let span = Span {
            start: self.key_start,
            len: self.key_len as usize,
        };
        span.of(bytes)
    }

    /// The key's [`ident`], read without copying the key.
    pub(super) fn ident(&self, bytes: &[u8]) -> u128 {
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
    pub(super) fn size(&self) -> usize {
        match self.kind {
            Kind::Text => 1,
            _ => 1 + self.body.len,
        }
    }
}

impl Patches {
    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.nodes.clear();
    }

    /// Adds the event's patch: the event itself, or its value at `from`; nothing when `from`
    /// is missing.
    pub(super) fn read(&mut self, ev: &Event, from: Option<&Path>) {
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
        let base = self.bytes.len();
        self.bytes.extend_from_slice(patch.as_bytes());
        let mut walk = Walk {
            text: patch,
            base,
            i: 0,
        };
        walk.space();
        if walk.peek() == Some(b'{') {
            self.object(&mut walk, Span::default());
        } else {
            let start = walk.i;
            walk.skip_value();
            self.push(Kind::Text, Span::default(), walk.span(start));
        }
    }

    fn push(&mut self, kind: Kind, key: Span, body: Span) {
        self.nodes.push(Node {
            kind,
            key_len: u32::try_from(key.len).unwrap_or(u32::MAX),
            key_start: key.start,
            body,
        });
    }

    /// Reads the object at the walk's place, under `key`.
    fn object(&mut self, walk: &mut Walk, key: Span) {
        let at = self.nodes.len();
        self.push(Kind::Object, key, Span::default());
        let base = self.members.len();
        // One bit per key's mix: two members on one bit may have one key, which is checked
        // then (past a few dozen members, once at the end).
        let (mut seen, mut repeated) = (0u64, false);
        walk.i += 1;
        loop {
            walk.space();
            if walk.peek() != Some(b'"') {
                walk.i += 1;
                break;
            }
            let key = self.key(walk);
            walk.space();
            walk.i += 1;
            walk.space();
            let node = self.nodes.len();
            self.member(walk, key);
            let bit = 1 << (mix(self.nodes[node].ident(&self.bytes)) >> 58);
            if seen & bit != 0 && !repeated {
                let earlier = &self.members[base..];
                repeated = earlier.len() > 64
                    || earlier
                        .iter()
                        .any(|&m| same_key(&self.nodes[m], &self.nodes[node], &self.bytes));
            }
            seen |= bit;
            self.members.push(node);
            walk.space();
            if walk.peek() != Some(b',') {
                walk.i += 1;
                break;
            }
            walk.i += 1;
        }
        if repeated {
            self.keep_last_of_each_key(at, base);
        }
        self.members.truncate(base);
        self.nodes[at].body.len = self.nodes.len() - at - 1;
    }

    /// Makes the members of the object at node `at` (from `base` in `members`) hold each key
    /// once, as the parsed object does: with its last value, in its first place.
    fn keep_last_of_each_key(&mut self, at: usize, base: usize) {
        let (bytes, nodes) = (&self.bytes, &self.nodes);
        let members = &self.members[base..];
        let key = |i: usize| (nodes[members[i]].ident(bytes), nodes[members[i]].key(bytes));
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
        self.nodes.truncate(at + 1);
        self.nodes.append(&mut kept);
    }

    /// Reads a member's value.
    fn member(&mut self, walk: &mut Walk, key: Span) {
        match walk.peek() {
            Some(b'{') => self.object(walk, key),
            Some(b'n') => {
                walk.skip_value();
                self.push(Kind::Delete, key, Span::default());
            }
            _ => {
                let start = walk.i;
                walk.skip_value();
                self.push(Kind::Text, key, walk.span(start));
            }
        }
    }

    /// The key string at the walk's place, past it: in the text when it has no escapes,
    /// unescaped after the texts otherwise.
    fn key(&mut self, walk: &mut Walk) -> Span {
        let (end, escaped) = json::string_end(walk.text.as_bytes(), walk.i);
        let token = walk.text.get(walk.i..end).unwrap_or_default();
        let key = if escaped {
            let start = self.bytes.len();
            self.bytes.extend_from_slice(json::unquote(token).as_bytes());
            Span {
                start,
                len: self.bytes.len() - start,
            }
        } else {
            Span {
                start: walk.base + walk.i + 1,
                len: token.len().saturating_sub(2),
            }
        };
        walk.i = end;
        key
    }
}

/// A key's first 15 bytes and its length (at most 255) in the last byte: two keys shorter
/// than 16 bytes are the same exactly when their idents are, so most keys are compared
/// without reading them.
pub(super) fn ident(key: &[u8]) -> u128 {
    let mut b = [0; 16];
    let n = key.len().min(15);
    b[..n].copy_from_slice(&key[..n]);
    b[15] = u8::try_from(key.len()).unwrap_or(u8::MAX);
    u128::from_le_bytes(b)
}

/// Whether a key of `ident` is the same as `key`, whose ident is `other`.
pub(super) fn same(ident: u128, other: u128, key: impl FnOnce() -> bool) -> bool {
    ident == other && (ident >> 120 < 16 || key())
}

fn same_key(a: &Node, b: &Node, bytes: &[u8]) -> bool {
    same(a.ident(bytes), b.ident(bytes), || a.key(bytes) == b.key(bytes))
}

/// An ident's bits mixed, the high ones depending on all.
fn mix(ident: u128) -> u64 {
    ((ident as u64) ^ (ident >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A walk through valid JSON text, which is copied to `base` in the patches' bytes.
struct Walk<'t> {
    text: &'t str,
    base: usize,
    i: usize,
}

impl Walk<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.i).copied()
    }

    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// The place in the patches' bytes of the text from `start` to the walk's place.
    fn span(&self, start: usize) -> Span {
        Span {
            start: self.base + start,
            len: self.i.min(self.text.len()).saturating_sub(start),
        }
    }

    /// Steps over the value at the walk's place.
    fn skip_value(&mut self) {
        let b = self.text.as_bytes();
        let mut depth = 0usize;
        while let Some(&c) = b.get(self.i) {
            match c {
                b'"' => {
                    self.i = json::string_end(b, self.i).0;
                    if depth == 0 {
                        return;
                    }
                    continue;
                }
                b'[' | b'{' => depth += 1,
                b']' | b'}' if depth > 0 => {
                    depth -= 1;
                    if depth == 0 {
                        self.i += 1;
                        return;
                    }
                }
                b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => return,
                _ => {}
            }
            self.i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Kind, Patches};

    /// Each node as (kind, key, text), text for a `Text` node only.
    fn nodes(patch: &str) -> Vec<(Kind, String, String)> {
        let mut p = Patches::default();
        p.read_text(patch);
        let text = |s: super::Span| String::from_utf8(s.of(&p.bytes).to_vec()).unwrap();
        p.nodes
            .iter()
            .map(|n| {
                let body = if n.kind == Kind::Text {
                    text(n.body)
                } else {
                    n.body.len.to_string()
                };
                (n.kind, String::from_utf8(n.key(&p.bytes).to_vec()).unwrap(), body)
            })
            .collect()
    }

    fn node(kind: Kind, key: &str, body: &str) -> (Kind, String, String) {
        (kind, key.to_owned(), body.to_owned())
    }

    #[test]
    fn a_patch_is_read_into_nodes_in_pre_order() {
        assert_eq!(
            nodes(r#" { "a" : [1, {"x": "]"}] , "o": {"b": null, "c": "s\"}"}, "n": -1.5e3 } "#),
            vec![
                node(Kind::Object, "", "5"),
                node(Kind::Text, "a", r#"[1, {"x": "]"}]"#),
                node(Kind::Object, "o", "2"),
                node(Kind::Delete, "b", "0"),
                node(Kind::Text, "c", r#""s\"}""#),
                node(Kind::Text, "n", "-1.5e3"),
            ]
        );
    }

    #[test]
    fn a_patch_that_is_not_an_object_is_one_text() {
        assert_eq!(nodes(" null "), vec![node(Kind::Text, "", "null")]);
        assert_eq!(nodes(r#""{""#), vec![node(Kind::Text, "", r#""{""#)]);
        assert_eq!(nodes("[{}]"), vec![node(Kind::Text, "", "[{}]")]);
    }

    #[test]
    fn keys_are_unescaped_and_a_repeated_key_has_its_last_value_in_its_first_place() {
        assert_eq!(
            nodes(r#"{"a\u0062": 1, "k": {"x": 1}, "ab": 2, "k": 3, "o": {"x": 1, "y": {}, "x": 2}, "k": null}"#),
            vec![
                node(Kind::Object, "", "5"),
                node(Kind::Text, "ab", "2"),
                node(Kind::Delete, "k", "0"),
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
}
