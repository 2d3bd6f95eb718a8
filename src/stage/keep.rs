//! `keep PATH, …`: keeps only these fields, in this order (content filter).
//! Missing fields are left out; explicit nulls are kept.

use super::Flow;
use crate::event::{Event, Needs, set_path};
use crate::lang::Path;
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub struct Keep {
    paths: Vec<Path>,
}

impl Keep {
    pub fn new(paths: Vec<Path>) -> Self {
        Keep { paths }
    }

    pub fn needs(&self, n: &mut Needs) {
        self.paths.iter().for_each(|p| n.add_path(p));
    }

    pub fn apply(&self, ev: &mut Event) -> Flow {
        let mut out = Value::Object(Map::new());
        for p in &self.paths {
            if let Some(v) = ev.lookup(p) {
                let v = v.into_value();
                set_path(&mut out, &p.segs, v);
            }
        }
        ev.replace(out);
        Flow::Pass
    }
}
