//! JSON merge patches (RFC 7386) read apart for `fold`: a patch is its JSON text and its
//! [`json::Tape`]: nodes in pre-order, each a key and a value's place in that text, an
//! object's node counting the nodes below it, so a merge steps over a member it does not
//! need; a member set to `null` is deleted. The tape of a line as read comes from the
//! decode-time check's one pass over it (`Needs::tape`); the ordered part merges the nodes
//! into states (see [`super::state`]).

use crate::event::Event;
use crate::json::{self, Tape, TapeNode};
use crate::lang::ast::Path;

/// Events' patches, back to back: their texts (and unescaped keys) in `bytes`, their nodes
/// in `nodes`, each patch one root node (with an empty key) and the nodes below it.
#[derive(Debug, Clone, Default)]
pub(super) struct Patches {
    pub(super) bytes: Vec<u8>,
    pub(super) nodes: Vec<TapeNode>,
}

impl Patches {
    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.nodes.clear();
    }

    /// Adds the event's patch: the event itself, or its value at `from`; nothing when `from`
    /// is missing.
    pub(super) fn read(&mut self, ev: &Event, from: Option<&Path>) {
        if from.is_none()
            && let Some((text, tape)) = ev.tape()
        {
            return self.add(text, tape);
        }
        let text = match from {
            Some(p) => ev.raw_at(p),
            None => ev.text(),
        };
        if let Some(t) = text
            && let Some(tape) = json::tape(t)
        {
            return self.add(t, &tape);
        }
        let value = match from {
            Some(p) => ev.lookup(p).map(crate::lang::Val::into_value),
            None => ev.to_value().ok(),
        };
        if let Some(v) = value {
            self.read_text(&json::to_string(&v));
        }
    }

    /// Adds a patch given as valid JSON text, in the form the decode-time check reads.
    pub(super) fn read_text(&mut self, patch: &str) {
        if let Some(tape) = json::tape(patch) {
            self.add(patch, &tape);
        }
    }

    /// Adds text `text` and its tape.
    fn add(&mut self, text: &str, tape: &Tape) {
        let base = self.bytes.len();
        self.bytes.extend_from_slice(text.as_bytes());
        self.bytes.extend_from_slice(&tape.keys);
        self.nodes.extend(tape.nodes.iter().map(|n| n.moved(base)));
    }
}

#[cfg(test)]
mod tests {
    use super::Patches;
    use crate::json::TapeKind as Kind;

    #[test]
    fn patches_are_kept_back_to_back_each_placed_in_its_own_text() {
        let mut p = Patches::default();
        p.read_text(r#"{"a\u0062": {"c": null}}"#);
        p.read_text(r#"{"d": [1]}"#);
        let key = |i: usize| String::from_utf8(p.nodes[i].key(&p.bytes).to_vec()).unwrap();
        let body = |i: usize| String::from_utf8(p.nodes[i].body.of(&p.bytes).to_vec()).unwrap();
        let kinds: Vec<Kind> = p.nodes.iter().map(|n| n.kind).collect();
        assert_eq!(
            kinds,
            [Kind::Object, Kind::Object, Kind::Null, Kind::Object, Kind::Text]
        );
        assert_eq!((key(1), key(2), body(2)), ("ab".into(), "c".into(), "null".into()));
        assert_eq!((key(4), body(4)), ("d".into(), "[1]".into()));
    }
}
