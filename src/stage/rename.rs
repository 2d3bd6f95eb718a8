//! `rename PATH as PATH, …`: moves fields (translator). A rename within one object
//! keeps the field's position. A move the event cannot hold (an index out of
//! `set`'s bounds, or nesting past `MAX_DEPTH`) is a dead letter.

use super::{Describe, Flow, PerEvent, Step};
use crate::event::{Event, MAX_PAD, Needs, Reason, navigate_mut, remove_path, too_deep_at, write_path, write_segs};
use crate::lang::Env;
use crate::lang::Expr;
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

impl Describe for Rename {
    fn expressions(&self) -> Vec<&Expr> {
        Vec::new()
    }

    /// A field an earlier pair moved in (`rename a as b, b as c`) is read, but not from the
    /// input: no warning when no event had it.
    fn needs(&self, n: &mut Needs) {
        // The fields earlier pairs moved in: one of them, or a field inside one, is moved in.
        let mut moved: std::collections::HashSet<&[Seg]> = std::collections::HashSet::new();
        for (from, to) in &self.pairs {
            let moved_in = (0..=from.segs.len()).any(|n| moved.contains(&from.segs[..n]));
            moved.insert(&to.segs);
            if moved_in {
                n.add_quiet(from);
            } else {
                n.add_path(from);
            }
            n.add_quiet(to);
        }
    }

    fn name(&self) -> &'static str {
        "rename"
    }
}

impl PerEvent for Rename {
    fn step<'a>(&self, ev: &mut Event<'a>, _: &Env) -> Step<'a> {
        Step::of(self.apply(ev))
    }
}

fn move_field(ev: &mut Event, from: &Path, to: &Path) -> Result<(), Reason> {
    let doc = ev.doc_mut().map_err(|r| r.reason)?;
    let (from, to) = (write_segs(doc, from), write_segs(doc, to));
    if let (Some((Seg::Key(a), pa)), Some((Seg::Key(b), pb))) = (from.split_last(), to.split_last()) {
        if pa == pb {
            if let Some(Value::Object(m)) = navigate_mut(doc, pa) {
                rename_in_place(m, a, b);
                return Ok(());
            }
        }
    }
    match remove_path(doc, from) {
        Some(v) => write_path(doc, to, v, MAX_PAD),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Origin;
    use crate::lang::{StageSpec, parse_pipeline};

    /// The event `src` (a rename) leaves of `line`, or the dead-letter reason.
    fn renamed(src: &str, line: &str) -> String {
        let r = match parse_pipeline(src).map(|mut s| s.remove(0).spec) {
            Ok(StageSpec::Rename(pairs)) => Rename::new(pairs),
            other => panic!("`{src}` is not rename: {other:?}"),
        };
        let mut needs = Needs::default();
        r.needs(&mut needs);
        let mut ev = Event::parse(line, Origin::default(), &needs).expect("a valid line");
        match r.apply(&mut ev) {
            Flow::Pass => ev.json_string(),
            Flow::Dead(r) => r.name().to_string(),
            other @ Flow::Filtered => panic!("rename gave {other:?}"),
        }
    }

    #[test]
    fn rename_moves_fields_keeping_the_place_within_one_object() {
        let line = r#"{"a":{"c":1, "b":2},"tags":["x"],"n":null,"x":1.50}"#;
        let cases = [
            (
                "rename a.c as a.z",
                r#"{"a":{"z":1,"b":2},"tags":["x"],"n":null,"x":1.50}"#,
            ),
            (
                "rename a.c as q",
                r#"{"a":{"b":2},"tags":["x"],"n":null,"x":1.50,"q":1}"#,
            ),
            ("rename x as a", r#"{"tags":["x"],"n":null,"a":1.50}"#),
            ("rename x as n", r#"{"a":{"c":1,"b":2},"tags":["x"],"n":1.50}"#),
            (
                "rename x as tags[2]",
                r#"{"a":{"c":1,"b":2},"tags":["x",null,1.50],"n":null}"#,
            ),
            (
                "rename a as a.b",
                r#"{"tags":["x"],"n":null,"x":1.50,"a":{"b":{"c":1,"b":2}}}"#,
            ),
            (
                "rename x as y, y as z",
                r#"{"a":{"c":1,"b":2},"tags":["x"],"n":null,"z":1.50}"#,
            ),
            ("rename x as tags[2000]", "invalid_path"),
            // A key into an array would throw its elements away.
            ("rename x as tags.k", "invalid_path"),
        ];
        for (src, want) in cases {
            assert_eq!(renamed(src, line), want, "`{src}`");
        }
    }

    #[test]
    fn rename_of_a_dotted_path_moves_the_literal_key_when_only_it_exists() {
        let line = r#"{"id.orig_h":"h","id.resp_h":"r"}"#;
        assert_eq!(
            renamed("rename id.orig_h as src", line),
            r#"{"src":"h","id.resp_h":"r"}"#
        );
        assert_eq!(renamed("rename id.orig_h as id.resp_h", line), r#"{"id.resp_h":"h"}"#);
        assert_eq!(
            renamed("rename id.orig_h as x.y", line),
            r#"{"id.resp_h":"r","x":{"y":"h"}}"#
        );
    }

    #[test]
    fn renaming_nothing_leaves_the_original_bytes() {
        let line = r#"{ "a" : 1.0 }"#;
        for src in ["rename missing as y", "rename a as a", "rename a.b as c"] {
            assert_eq!(renamed(src, line), line, "`{src}`");
        }
    }

    #[test]
    fn a_move_past_the_nesting_limit_is_a_dead_letter() {
        let deep = format!("{}1{}", "[".repeat(120), "]".repeat(120));
        let line = format!(r#"{{"v":{deep}}}"#);
        let to = ["k"; 10].join(".");
        assert_eq!(renamed(&format!("rename v as {to}"), &line), "too_deep");
    }
}
