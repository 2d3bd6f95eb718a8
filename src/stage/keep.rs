//! `keep PATH, …`: keeps only these fields, in this order (content filter).
//! Missing fields are left out; explicit nulls are kept. Paths of keys are copied
//! from the event's text without building a tree, written in the one form of every
//! modified event (`json::canonical`). An event that is not an object is a dead letter.

use super::{Describe, Flow, PerEvent, Step};
use crate::event::{Event, Needs, Reason, resolve_path, write_path};
use crate::json::{self, DuplicateKey, Out};
use crate::lang::Env;
use crate::lang::Expr;
use crate::lang::Path;
use crate::lang::ast::Seg;
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub(crate) struct Keep {
    paths: Vec<Path>,
    keys_only: bool,
}

impl Keep {
    pub(crate) fn new(paths: Vec<Path>) -> Self {
        let keys_only = paths
            .iter()
            .all(|p| !p.segs.is_empty() && p.segs.iter().all(|s| matches!(s, Seg::Key(_))));
        Keep { paths, keys_only }
    }

    pub(crate) fn apply(&self, ev: &mut Event) -> Flow {
        if !ev.is_object() {
            return Flow::Dead(Reason::NotObject);
        }
        if self.keys_only && ev.text().is_some() {
            if let Some(text) = self.render(ev) {
                ev.set_text(text);
                return Flow::Pass;
            }
        }
        match self.tree(ev) {
            Ok(out) => {
                ev.replace(out);
                Flow::Pass
            }
            Err(reason) => Flow::Dead(reason),
        }
    }

    /// The kept fields as a tree.
    fn tree(&self, ev: &Event) -> Result<Value, Reason> {
        // `keep tags[-1]` keeps the last element at its place, so negative indexes
        // are first counted from the end of the event's arrays.
        let negative = |p: &Path| p.segs.iter().any(|s| matches!(s, Seg::Index(i) if *i < 0));
        let tree = match self.paths.iter().any(negative) {
            true => Some(ev.to_value().map_err(|r| r.reason)?),
            false => None,
        };
        let mut out = Value::Object(Map::new());
        for p in &self.paths {
            // A dotted path read from its literal key keeps that key.
            if let Some((found, v)) = ev.find(p) {
                let segs = tree.as_ref().and_then(|t| resolve_path(t, found));
                // Indexes of elements the event has: padding is bounded by its arrays.
                write_path(&mut out, segs.as_deref().unwrap_or(found), v.into_value(), usize::MAX)?;
            }
        }
        Ok(out)
    }

    /// The kept fields as canonical JSON text; `None` when one path lies inside
    /// another, or a kept value repeats a key (the tree keeps the last one only).
    fn render(&self, ev: &Event) -> Option<String> {
        let mut root = Node::default();
        for p in &self.paths {
            let Some((found, raw)) = ev.raw_find(p) else { continue };
            let mut node = &mut root;
            for s in found {
                let Seg::Key(k) = s else { return None };
                if node.raw.is_some() {
                    return None;
                }
                let i = match node.children.iter().position(|(name, _)| *name == &**k) {
                    Some(i) => i,
                    None => {
                        node.children.push((k, Node::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[i].1;
            }
            if !node.children.is_empty() {
                return None;
            }
            node.raw = Some(raw);
        }
        let mut out = String::with_capacity(128);
        root.write(&mut out).ok()?;
        Some(out)
    }
}

impl Describe for Keep {
    fn expressions(&self) -> Vec<&Expr> {
        Vec::new()
    }

    fn needs(&self, n: &mut Needs) {
        self.paths.iter().for_each(|p| n.add_path(p));
    }

    fn name(&self) -> &'static str {
        "keep"
    }
}

impl PerEvent for Keep {
    fn step<'a>(&self, ev: &mut Event<'a>, _: &Env) -> Step<'a> {
        Step::of(self.apply(ev))
    }
}

#[derive(Default)]
struct Node<'a> {
    raw: Option<&'a str>,
    children: Vec<(&'a str, Node<'a>)>,
}

impl Node<'_> {
    fn write<O: Out>(&self, out: &mut O) -> Result<(), DuplicateKey> {
        if let Some(raw) = self.raw {
            return json::canonical(raw, out);
        }
        out.put("{");
        for (i, (k, child)) in self.children.iter().enumerate() {
            if i > 0 {
                out.put(",");
            }
            json::write_str(out, k);
            out.put(":");
            child.write(out)?;
        }
        out.put("}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Origin;
    use crate::lang::{StageSpec, parse_pipeline};

    fn keep(src: &str) -> Keep {
        match parse_pipeline(src).map(|mut s| s.remove(0).spec) {
            Ok(StageSpec::Keep(paths)) => Keep::new(paths),
            other => panic!("`{src}` is not keep: {other:?}"),
        }
    }

    /// The event `keep` leaves of `line`, or the dead-letter reason: spliced from the text
    /// when the event is indexed lazily, built as a tree when it is parsed in full.
    fn kept(src: &str, line: &str) -> String {
        let k = keep(src);
        let mut lazy = Needs::default();
        k.needs(&mut lazy);
        let whole = Needs::whole_event();
        let outcome = |needs: &Needs| {
            let mut ev = Event::parse(line, Origin::default(), needs).expect("a valid line");
            match k.apply(&mut ev) {
                Flow::Pass => ev.json_string(),
                Flow::Dead(r) => r.name().to_string(),
                other @ Flow::Filtered => panic!("keep gave {other:?}"),
            }
        };
        let (a, b) = (outcome(&lazy), outcome(&whole));
        assert_eq!(a, b, "`{src}` on {line}: from text vs from a tree");
        a
    }

    #[test]
    fn keep_writes_the_fields_in_its_order_whether_spliced_or_built() {
        let line = r#"{"a":{"c":1, "b":2},"tags":["x","y","z"],"n":null,"x":1.50,"d":{"k":1,"k":2},"z.y":true}"#;
        let cases = [
            ("keep tags, a", r#"{"tags":["x","y","z"],"a":{"c":1,"b":2}}"#),
            ("keep a.b, a.c", r#"{"a":{"b":2,"c":1}}"#),
            ("keep missing", "{}"),
            ("keep n, missing", r#"{"n":null}"#),
            ("keep x", r#"{"x":1.50}"#),
            ("keep a, a.b", r#"{"a":{"c":1,"b":2}}"#),
            ("keep a.b, a", r#"{"a":{"c":1,"b":2}}"#),
            ("keep tags[-1]", r#"{"tags":[null,null,"z"]}"#),
            ("keep tags[1], x", r#"{"tags":[null,"y"],"x":1.50}"#),
            ("keep tags[9]", "{}"),
            ("keep d", r#"{"d":{"k":2}}"#),
            ("keep z.y, x", r#"{"z.y":true,"x":1.50}"#),
            ("keep a.b, `z.y`", r#"{"a":{"b":2},"z.y":true}"#),
        ];
        for (src, want) in cases {
            assert_eq!(kept(src, line), want, "`{src}`");
        }
    }

    #[test]
    fn keep_on_an_event_that_is_not_an_object_is_a_dead_letter() {
        for line in ["[1]", "\"a\"", "3", "null"] {
            assert_eq!(kept("keep a", line), "not_object", "{line}");
        }
    }
}
