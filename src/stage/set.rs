//! `set PATH = EXPR, …`: sets fields, creating nested objects as needed (content enricher).

use super::Flow;
use crate::event::{Event, Needs, set_path};
use crate::lang::{Env, Expr, Path};

#[derive(Debug, Clone)]
pub struct Set {
    assignments: Vec<(Path, Expr)>,
}

impl Set {
    pub fn new(assignments: Vec<(Path, Expr)>) -> Self {
        Set { assignments }
    }

    pub fn needs(&self, n: &mut Needs) {
        for (_, e) in &self.assignments {
            e.visit_paths(&mut |p| n.add_path(p));
        }
    }

    pub fn apply(&self, ev: &mut Event, env: &Env) -> Flow {
        for (path, expr) in &self.assignments {
            // Evaluated before the change, so `set a = b, b = a` reads the old `a` only for the first.
            let v = expr.eval(ev, env).into_value();
            set_path(ev.doc_mut(), &path.segs, v);
        }
        Flow::Pass
    }
}
