//! `del PATH, …`: removes fields (content filter). An event that has none of them
//! stays unmodified, so it is written as its original bytes.

use super::Flow;
use crate::event::{Event, Needs, remove_path};
use crate::lang::Path;

#[derive(Debug, Clone)]
pub struct Del {
    paths: Vec<Path>,
}

impl Del {
    pub fn new(paths: Vec<Path>) -> Self {
        Del { paths }
    }

    pub fn needs(&self, n: &mut Needs) {
        self.paths.iter().for_each(|p| n.add_path(p));
    }

    pub fn apply(&self, ev: &mut Event) -> Flow {
        for p in &self.paths {
            if ev.lookup(p).is_some() {
                remove_path(ev.doc_mut(), &p.segs);
            }
        }
        Flow::Pass
    }
}
