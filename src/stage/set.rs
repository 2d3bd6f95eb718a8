//! `set PATH = EXPR, …`: sets fields, creating nested objects as needed (content enricher).
//! Top-level fields are spliced into the event's text, which is then written in the one
//! form of every modified event (`json::canonical`), so no tree is built.
//! An event that is not an object, a write it cannot hold (`a[-1]` of a missing array,
//! `a[N]` more than `MAX_PAD` past the end) or one that would nest it deeper than
//! `MAX_DEPTH` is a dead letter.

use super::{Describe, Flow, PerEvent, Step};
use crate::event::{Event, MAX_PAD, Needs, Reason, too_deep_at, write_path, write_segs};
use crate::lang::ast::Seg;
use crate::lang::{Env, Expr, Path, Val};

#[derive(Debug, Clone)]
pub(crate) struct Set {
    assignments: Vec<(Path, Expr)>,
    /// Every path is a single key, so the text can be spliced.
    top_level: bool,
}

impl Set {
    pub(crate) fn new(assignments: Vec<(Path, Expr)>) -> Self {
        let top_level = assignments
            .iter()
            .all(|(p, _)| matches!(p.segs.as_slice(), [Seg::Key(_)]));
        Set { assignments, top_level }
    }

    pub(crate) fn apply(&self, ev: &mut Event, env: &Env) -> Flow {
        if !ev.is_object() {
            return Flow::Dead(Reason::NotObject);
        }
        // Every expression sees the event as it was before the stage.
        let values: Vec<Val<'static>> = self
            .assignments
            .iter()
            .map(|(_, e)| e.eval(ev, env).into_static())
            .collect();
        if self
            .assignments
            .iter()
            .zip(&values)
            .any(|((p, _), v)| too_deep_at(p, v))
        {
            return Flow::Dead(Reason::TooDeep);
        }
        if !ev.fits_with(&values, env.max_bytes.0) {
            return Flow::Dead(Reason::TooLong);
        }
        if self.top_level {
            let paths: Vec<&Path> = self.assignments.iter().map(|(p, _)| p).collect();
            if let Some(text) = ev.spliced(&paths, &values) {
                ev.set_text(text);
                return Flow::Pass;
            }
        }
        let doc = match ev.doc_mut() {
            Ok(doc) => doc,
            Err(r) => return Flow::Dead(r.reason),
        };
        for ((path, _), v) in self.assignments.iter().zip(values) {
            let segs = write_segs(doc, path);
            if let Err(reason) = write_path(doc, segs, v.into_value(), MAX_PAD) {
                return Flow::Dead(reason);
            }
        }
        Flow::Pass
    }
}

impl Describe for Set {
    /// The expressions assigned, each read from the event as it was before the stage.
    fn expressions(&self) -> Vec<&Expr> {
        self.assignments.iter().map(|(_, e)| e).collect()
    }

    fn needs(&self, n: &mut Needs) {
        for (p, e) in &self.assignments {
            n.add_expr(e);
            if self.top_level {
                // Captured on the first parse, so splicing needs no second one.
                n.add_quiet(p);
            }
        }
    }

    fn name(&self) -> &'static str {
        "set"
    }
}

impl PerEvent for Set {
    fn step<'a>(&self, ev: &mut Event<'a>, env: &Env) -> Step<'a> {
        Step::of(self.apply(ev, env))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Origin;
    use crate::lang::ast::StageSpec;
    use crate::lang::parse_pipeline;

    fn apply(line: &str, stage: &str) -> (Flow, String) {
        let ast = parse_pipeline(stage).expect("a valid pipeline");
        let StageSpec::Set(a) = &ast[0].spec else {
            panic!("not a set")
        };
        let s = Set::new(a.clone());
        let mut n = Needs::default();
        s.needs(&mut n);
        let mut ev = Event::parse(line, Origin::default(), &n).expect("a valid event");
        let flow = s.apply(&mut ev, &Env::default());
        (flow, ev.json_string())
    }

    fn set_on(line: &str, stage: &str) -> String {
        let (flow, out) = apply(line, stage);
        assert_eq!(flow, Flow::Pass, "{stage} on {line}");
        out
    }

    #[test]
    fn splices_write_the_canonical_form_of_the_tree() {
        assert_eq!(
            set_on(r#"{"a": 1, "s":"\u00e9\/"}"#, "set b = a + 1"),
            r#"{"a":1,"s":"é/","b":2}"#
        );
        assert_eq!(set_on(r#"{"a":1,"b":"x"}"#, "set b = a"), r#"{"a":1,"b":1}"#);
        assert_eq!(set_on("{ }", "set b = 1"), r#"{"b":1}"#);
        // The same bytes as the tree path (a nested set) writes.
        let line = r#"{ "a" : [1E5, {"k": "\u0041\n"}], "n": 1.0 }"#;
        let spliced = set_on(line, "set z = 1");
        let tree = set_on(line, "set y.z = 1");
        assert_eq!(spliced, r#"{"a":[1E5,{"k":"A\n"}],"n":1.0,"z":1}"#);
        assert_eq!(tree, r#"{"a":[1E5,{"k":"A\n"}],"n":1.0,"y":{"z":1}}"#);
    }

    #[test]
    fn all_values_are_computed_before_any_is_set() {
        assert_eq!(set_on(r#"{"a":1,"b":2}"#, "set a = b, b = a"), r#"{"a":2,"b":1}"#);
    }

    #[test]
    fn nested_paths_use_the_tree() {
        assert_eq!(set_on(r#"{"a":1}"#, "set u.id = 5"), r#"{"a":1,"u":{"id":5}}"#);
    }

    #[test]
    fn set_on_an_event_that_is_not_an_object_is_a_dead_letter() {
        for line in ["[1,2]", "5", "\"s\"", "null", "true"] {
            for stage in ["set a = 1", "set a.b = 1", "set a[0] = 1"] {
                assert_eq!(apply(line, stage).0, Flow::Dead(Reason::NotObject), "{stage} on {line}");
            }
        }
    }

    #[test]
    fn duplicate_keys_keep_only_the_last_value() {
        assert_eq!(set_on(r#"{"a":1,"a":2}"#, "set b = 1"), r#"{"a":2,"b":1}"#);
        assert_eq!(set_on(r#"{"a":1,"a":2}"#, "set a = a + 1"), r#"{"a":3}"#);
        assert_eq!(set_on(r#"{"u":{"k":1,"k":2}}"#, "set b = 1"), r#"{"u":{"k":2},"b":1}"#);
    }

    #[test]
    fn index_writes_pad_at_most_max_pad_nulls() {
        assert_eq!(set_on(r#"{"a":[0]}"#, "set a[3] = 1"), r#"{"a":[0,null,null,1]}"#);
        assert_eq!(set_on(r#"{"a":[0]}"#, "set a[-1] = 1"), r#"{"a":[1]}"#);
        assert!(set_on("{}", "set a[1000] = 1").ends_with(",null,1]}"));
        for stage in [
            "set a[1002] = 1",
            "set a[1000000000] = 1",
            "set a[-2] = 1",
            "set a[-1000000000] = 1",
            "set m[-1] = 1",
            "set s[0] = 1",
            "set a[9223372036854775807] = 1",
        ] {
            let (flow, _) = apply(r#"{"a":[0],"s":"x"}"#, stage);
            assert_eq!(flow, Flow::Dead(Reason::InvalidPath), "{stage}");
        }
    }

    #[test]
    fn a_set_that_nests_past_the_limit_is_a_dead_letter() {
        let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        let line = format!(r#"{{"d":{}}}"#, deep(127));
        assert_eq!(apply(&line, "set e = d").0, Flow::Pass);
        assert_eq!(apply(&line, "set e = .").0, Flow::Dead(Reason::TooDeep));
        assert_eq!(apply(&line, "set x.e = d").0, Flow::Dead(Reason::TooDeep));
        let long = vec!["k"; 129].join(".");
        assert_eq!(apply("{}", &format!("set {long} = 1")).0, Flow::Dead(Reason::TooDeep));
    }
}
