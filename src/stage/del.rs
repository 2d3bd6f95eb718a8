//! `del PATH, …`: removes fields (content filter). An event that has none of them
//! stays unmodified, so it is written as its original bytes.

use super::{Describe, Flow, PerEvent, Step};
use crate::event::{Event, Needs, remove_path, resolve_path, write_segs};
use crate::lang::Env;
use crate::lang::Expr;
use crate::lang::Path;

#[derive(Debug, Clone)]
pub(crate) struct Del {
    paths: Vec<Path>,
}

impl Del {
    pub(crate) fn new(paths: Vec<Path>) -> Self {
        Del { paths }
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
        let mut targets: Vec<_> = self
            .paths
            .iter()
            .filter_map(|p| resolve_path(doc, write_segs(doc, p)))
            .collect();
        targets.sort_unstable_by(|a, b| b.cmp(a));
        targets.dedup();
        for segs in targets {
            remove_path(doc, &segs);
        }
        Flow::Pass
    }
}

impl Describe for Del {
    fn expressions(&self) -> Vec<&Expr> {
        Vec::new()
    }

    fn needs(&self, n: &mut Needs) {
        self.paths.iter().for_each(|p| n.add_path(p));
    }

    fn name(&self) -> &'static str {
        "del"
    }
}

impl PerEvent for Del {
    fn step<'a>(&self, ev: &mut Event<'a>, _: &Env) -> Step<'a> {
        Step::of(self.apply(ev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Origin;
    use crate::lang::{StageSpec, parse_pipeline};

    /// The event `src` (a del) leaves of `line`.
    fn deleted(src: &str, line: &str) -> String {
        let d = match parse_pipeline(src).map(|mut s| s.remove(0).spec) {
            Ok(StageSpec::Del(paths)) => Del::new(paths),
            other => panic!("`{src}` is not del: {other:?}"),
        };
        let mut needs = Needs::default();
        d.needs(&mut needs);
        let mut ev = Event::parse(line, Origin::default(), &needs).expect("a valid line");
        assert!(matches!(d.apply(&mut ev), Flow::Pass), "`{src}` on {line}");
        ev.json_string()
    }

    #[test]
    fn every_path_names_a_field_of_the_event_as_it_was() {
        let line = r#"{"a":{"c":1, "b":2},"tags":["x","y","z"],"n":1.0}"#;
        let cases = [
            ("del a.c", r#"{"a":{"b":2},"tags":["x","y","z"],"n":1.0}"#),
            ("del tags[0], tags[1]", r#"{"a":{"c":1,"b":2},"tags":["z"],"n":1.0}"#),
            ("del tags[1], tags[0]", r#"{"a":{"c":1,"b":2},"tags":["z"],"n":1.0}"#),
            (
                "del tags[-1], tags[-1]",
                r#"{"a":{"c":1,"b":2},"tags":["x","y"],"n":1.0}"#,
            ),
            (
                "del tags[-1], tags[2]",
                r#"{"a":{"c":1,"b":2},"tags":["x","y"],"n":1.0}"#,
            ),
            ("del a, a.c", r#"{"tags":["x","y","z"],"n":1.0}"#),
            ("del n, missing", r#"{"a":{"c":1,"b":2},"tags":["x","y","z"]}"#),
            // Nothing to remove: the original bytes.
            ("del missing, tags[3], a.z", line),
        ];
        for (src, want) in cases {
            assert_eq!(deleted(src, line), want, "`{src}`");
        }
    }

    #[test]
    fn del_of_a_dotted_path_removes_the_literal_key_when_only_it_exists() {
        let line = r#"{"id.orig_h":"h","a":{"b":1},"a.b":2}"#;
        assert_eq!(deleted("del id.orig_h", line), r#"{"a":{"b":1},"a.b":2}"#);
        assert_eq!(deleted("del a.b", line), r#"{"id.orig_h":"h","a":{},"a.b":2}"#);
        assert_eq!(deleted("del `a.b`", line), r#"{"id.orig_h":"h","a":{"b":1}}"#);
    }

    #[test]
    fn del_on_an_event_that_is_not_an_object_leaves_it() {
        for line in ["[1,2]", "\"a\"", "null"] {
            assert_eq!(deleted("del a", line), line);
        }
    }
}
