//! `del PATH, …`: removes fields (content filter). An event that has none of them
//! stays unmodified, so it is written as its original bytes.

use super::Flow;
use crate::event::{Event, Needs, remove_path, resolve_path};
use crate::lang::Path;

#[derive(Debug, Clone)]
pub(crate) struct Del {
    paths: Vec<Path>,
}

impl Del {
    pub(crate) fn new(paths: Vec<Path>) -> Self {
        Del { paths }
    }

    pub(crate) fn needs(&self, n: &mut Needs) {
        self.paths.iter().for_each(|p| n.add_path(p));
    }

    pub(crate) fn apply(&self, ev: &mut Event) -> Flow {
        if !self.paths.iter().any(|p| ev.lookup(p).is_some()) {
            return Flow::Pass;
        }
        let doc = match ev.doc_mut() {
            Ok(doc) => doc,
            Err(r) => return Flow::Dead(r.reason),
        };
        // Every path names a field of the event as it was: `del tags[0], tags[1]`
        // removes the first two elements. Later elements go first, and each once,
        // so that removing one does not shift the others.
        let mut targets: Vec<_> = self.paths.iter().filter_map(|p| resolve_path(doc, &p.segs)).collect();
        targets.sort_unstable_by(|a, b| b.cmp(a));
        targets.dedup();
        for segs in targets {
            remove_path(doc, &segs);
        }
        Flow::Pass
    }
}
