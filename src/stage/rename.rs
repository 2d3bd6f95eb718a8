//! `rename PATH as PATH, …`: moves fields (translator). A rename within one object
//! keeps the field's position.

use super::Flow;
use crate::event::{Event, Needs, remove_path, set_path};
use crate::lang::Path;
use crate::lang::ast::Seg;
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub struct Rename {
    pairs: Vec<(Path, Path)>,
}

impl Rename {
    pub fn new(pairs: Vec<(Path, Path)>) -> Self {
        Rename { pairs }
    }

    pub fn needs(&self, n: &mut Needs) {
        for (from, to) in &self.pairs {
            n.add_path(from);
            n.add_path(to);
        }
    }

    pub fn apply(&self, ev: &mut Event) -> Flow {
        for (from, to) in &self.pairs {
            if from == to || ev.lookup(from).is_none() {
                continue;
            }
            let doc = ev.doc_mut();
            if let (Some((Seg::Key(a), pa)), Some((Seg::Key(b), pb))) = (from.segs.split_last(), to.segs.split_last()) {
                if pa == pb {
                    if let Some(Value::Object(m)) = crate::event::navigate_mut(doc, pa) {
                        rename_in_place(m, a, b);
                        continue;
                    }
                }
            }
            if let Some(v) = remove_path(doc, &from.segs) {
                set_path(doc, &to.segs, v);
            }
        }
        Flow::Pass
    }
}

fn rename_in_place(m: &mut Map<String, Value>, from: &str, to: &str) {
    let old = std::mem::take(m);
    for (k, v) in old {
        if k == from {
            m.insert(to.to_string(), v);
        } else if k != to {
            m.insert(k, v);
        }
    }
}
