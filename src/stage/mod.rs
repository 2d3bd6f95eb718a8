//! Stages: the runtime form of each stage a pipeline names.

mod del;
mod head;
mod keep;
mod rename;
mod set;
mod tail;
mod r#where;

pub use del::Del;
pub use head::Head;
pub use keep::Keep;
pub use rename::Rename;
pub use set::Set;
pub use tail::{Held, Tail};
pub use r#where::Where;

use crate::event::{Event, Needs};
use crate::lang::{Env, StageAst, StageSpec};

/// What happens to an event after a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Pass,
    /// Dropped by a filter (`where`).
    Filtered,
    /// Dropped by a limit (`head`, `tail`).
    Skipped,
    /// Held by the stage; it may be released at the end of input.
    Held,
}

#[derive(Debug, Clone)]
pub enum Stage {
    Where(Where),
    Set(Set),
    Del(Del),
    Keep(Keep),
    Rename(Rename),
    Head(Head),
    Tail(Tail),
}

impl Stage {
    pub fn build(ast: &StageAst) -> Stage {
        match &ast.spec {
            StageSpec::Where(e) => Stage::Where(Where::new(e.clone())),
            StageSpec::Set(a) => Stage::Set(Set::new(a.clone())),
            StageSpec::Del(p) => Stage::Del(Del::new(p.clone())),
            StageSpec::Keep(p) => Stage::Keep(Keep::new(p.clone())),
            StageSpec::Rename(p) => Stage::Rename(Rename::new(p.clone())),
            StageSpec::Head(n) => Stage::Head(Head::new(*n)),
            StageSpec::Tail(n) => Stage::Tail(Tail::new(*n)),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Stage::Where(_) => "where",
            Stage::Set(_) => "set",
            Stage::Del(_) => "del",
            Stage::Keep(_) => "keep",
            Stage::Rename(_) => "rename",
            Stage::Head(_) => "head",
            Stage::Tail(_) => "tail",
        }
    }

    /// Stateless stages run on every worker thread; the rest run in input order on one.
    pub fn is_parallel(&self) -> bool {
        !matches!(self, Stage::Head(_) | Stage::Tail(_))
    }

    /// Records what the stage reads.
    pub fn needs(&self, n: &mut Needs) {
        match self {
            Stage::Where(s) => s.needs(n),
            Stage::Set(s) => s.needs(n),
            Stage::Del(s) => s.needs(n),
            Stage::Keep(s) => s.needs(n),
            Stage::Rename(s) => s.needs(n),
            Stage::Head(_) | Stage::Tail(_) => {}
        }
    }

    /// Applies a stateless stage to one event.
    pub fn apply(&self, ev: &mut Event, env: &Env) -> Flow {
        match self {
            Stage::Where(s) => s.apply(ev, env),
            Stage::Set(s) => s.apply(ev, env),
            Stage::Del(s) => s.apply(ev),
            Stage::Keep(s) => s.apply(ev),
            Stage::Rename(s) => s.apply(ev),
            Stage::Head(_) | Stage::Tail(_) => unreachable!("head and tail run in the ordered part"),
        }
    }

    /// Paths the stage reads and writes, for `--explain`.
    pub fn describe(&self) -> String {
        let mut n = Needs::default();
        self.needs(&mut n);
        let mut reads: Vec<String> = n.keys.iter().map(|k| k.to_string()).collect();
        if n.whole {
            reads.push(".".into());
        }
        let run = if self.is_parallel() { "parallel" } else { "ordered" };
        if reads.is_empty() {
            format!("{:<8} {run}", self.name())
        } else {
            format!("{:<8} {run:<9} reads {}", self.name(), reads.join(", "))
        }
    }
}
