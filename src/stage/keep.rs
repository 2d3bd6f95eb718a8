//! `keep PATH, …`: keeps only these fields, in this order (content filter).
//! Missing fields are left out; explicit nulls are kept. Paths of keys are copied
//! as raw JSON text, so kept values keep their bytes.

use super::Flow;
use crate::event::{Event, Needs, resolve_path, set_path};
use crate::lang::Path;
use crate::lang::ast::Seg;
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub struct Keep {
    paths: Vec<Path>,
    keys_only: bool,
}

impl Keep {
    pub fn new(paths: Vec<Path>) -> Self {
        let keys_only = paths
            .iter()
            .all(|p| !p.segs.is_empty() && p.segs.iter().all(|s| matches!(s, Seg::Key(_))));
        Keep { paths, keys_only }
    }

    pub fn needs(&self, n: &mut Needs) {
        self.paths.iter().for_each(|p| n.add_path(p));
    }

    pub fn apply(&self, ev: &mut Event) -> Flow {
        if self.keys_only && ev.text().is_some() {
            if let Some(text) = self.render(ev) {
                ev.set_text(text);
                return Flow::Pass;
            }
        }
        // `keep tags[-1]` keeps the last element at its place, so negative indexes
        // are first counted from the end of the event's arrays.
        let negative = |p: &Path| p.segs.iter().any(|s| matches!(s, Seg::Index(i) if *i < 0));
        let tree = self.paths.iter().any(negative).then(|| ev.to_value());
        let mut out = Value::Object(Map::new());
        for p in &self.paths {
            if let Some(v) = ev.lookup(p) {
                let v = v.into_value();
                match tree.as_ref().and_then(|t| resolve_path(t, &p.segs)) {
                    Some(segs) => set_path(&mut out, &segs, v),
                    None => set_path(&mut out, &p.segs, v),
                }
            }
        }
        ev.replace(out);
        Flow::Pass
    }

    /// The kept fields as JSON text; `None` when one path lies inside another.
    fn render(&self, ev: &Event) -> Option<String> {
        let mut root = Node::default();
        for p in &self.paths {
            let Some(raw) = ev.raw_at(p) else { continue };
            let mut node = &mut root;
            for s in &p.segs {
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
        root.write(&mut out);
        Some(out)
    }
}

#[derive(Default)]
struct Node<'a> {
    raw: Option<&'a str>,
    children: Vec<(&'a str, Node<'a>)>,
}

impl Node<'_> {
    fn write(&self, out: &mut String) {
        if let Some(raw) = self.raw {
            out.push_str(raw);
            return;
        }
        out.push('{');
        for (i, (k, child)) in self.children.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(k).expect("a string serializes"));
            out.push(':');
            child.write(out);
        }
        out.push('}');
    }
}
