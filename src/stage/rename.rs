//! `rename PATH as PATH, …`: moves fields (translator). A rename within one object
//! keeps the field's position. A move the event cannot hold (an index out of
//! `set`'s bounds, or nesting past `MAX_DEPTH`) is a dead letter.

use super::Flow;
use crate::event::{Event, MAX_PAD, Needs, Reason, navigate_mut, remove_path, too_deep_at, write_path};
use crate::lang::Path;
use crate::lang::ast::Seg;
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub(crate) struct Rename {
    pairs: Vec<(Path, Path)>,
}

impl Rename {
    pub(crate) fn new(pairs: Vec<(Path, Path)>) -> Self {
        Rename { pairs }
    }

    pub(crate) fn needs(&self, n: &mut Needs) {
        for (from, to) in &self.pairs {
            n.add_path(from);
            n.add_path(to);
        }
    }

    pub(crate) fn apply(&self, ev: &mut Event) -> Flow {
        for (from, to) in &self.pairs {
            if from == to {
                continue;
            }
            match ev.lookup(from) {
                None => continue,
                Some(v) if to.segs.len() > from.segs.len() && too_deep_at(to, &v) => {
                    return Flow::Dead(Reason::TooDeep);
                }
                Some(_) => {}
            }
            if let Err(reason) = move_field(ev, from, to) {
                return Flow::Dead(reason);
            }
        }
        Flow::Pass
    }
}

fn move_field(ev: &mut Event, from: &Path, to: &Path) -> Result<(), Reason> {
    let doc = ev.doc_mut().map_err(|r| r.reason)?;
    if let (Some((Seg::Key(a), pa)), Some((Seg::Key(b), pb))) = (from.segs.split_last(), to.segs.split_last()) {
        if pa == pb {
            if let Some(Value::Object(m)) = navigate_mut(doc, pa) {
                rename_in_place(m, a, b);
                return Ok(());
            }
        }
    }
    match remove_path(doc, &from.segs) {
        Some(v) => write_path(doc, &to.segs, v, MAX_PAD),
        None => Ok(()),
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
