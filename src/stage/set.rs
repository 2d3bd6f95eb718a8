//! `set PATH = EXPR, …`: sets fields, creating nested objects as needed (content enricher).
//! Top-level fields are spliced into the event's text, so the rest of it keeps its bytes.

use super::Flow;
use crate::event::{Event, Needs, set_path};
use crate::lang::ast::Seg;
use crate::lang::{Env, Expr, Path, Val};

#[derive(Debug, Clone)]
pub struct Set {
    assignments: Vec<(Path, Expr)>,
    /// Every path is a single key, so the text can be spliced.
    top_level: bool,
}

impl Set {
    pub fn new(assignments: Vec<(Path, Expr)>) -> Self {
        let top_level = assignments
            .iter()
            .all(|(p, _)| matches!(p.segs.as_slice(), [Seg::Key(_)]));
        Set { assignments, top_level }
    }

    pub fn needs(&self, n: &mut Needs) {
        for (p, e) in &self.assignments {
            e.visit_paths(&mut |p| n.add_path(p));
            if self.top_level {
                // Captured on the first parse, so splicing needs no second one.
                n.add_path(p);
            }
        }
    }

    pub fn apply(&self, ev: &mut Event, env: &Env) -> Flow {
        // Every expression sees the event as it was before the stage.
        let values: Vec<Val<'static>> = self
            .assignments
            .iter()
            .map(|(_, e)| e.eval(ev, env).into_static())
            .collect();
        if self.top_level {
            if let Some(text) = splice(ev, &self.assignments, &values) {
                ev.set_text(text);
                return Flow::Pass;
            }
        }
        let doc = ev.doc_mut();
        for ((path, _), v) in self.assignments.iter().zip(values) {
            set_path(doc, &path.segs, v.into_value());
        }
        Flow::Pass
    }
}

/// The event's text with each top-level key replaced in place or appended;
/// `None` when the event is held as a tree or is not an object.
fn splice(ev: &Event, assignments: &[(Path, Expr)], values: &[Val]) -> Option<String> {
    let text = ev.text()?;
    let close = text.rfind('}')?;
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut appended = String::new();
    for (i, ((path, _), v)) in assignments.iter().zip(values).enumerate() {
        let Some(Seg::Key(k)) = path.segs.first() else {
            return None;
        };
        if assignments[i + 1..].iter().any(|(p, _)| p == path) {
            continue;
        }
        let mut json = Vec::new();
        v.write_json(&mut json);
        let json = String::from_utf8(json).expect("JSON text is UTF-8");
        match ev.raw_at(path) {
            Some(old) => {
                let start = old.as_ptr() as usize - text.as_ptr() as usize;
                edits.push((start, start + old.len(), json));
            }
            None => {
                appended.push(',');
                appended.push_str(&serde_json::to_string(&**k).expect("a string serializes"));
                appended.push(':');
                appended.push_str(&json);
            }
        }
    }
    let mut out = String::with_capacity(text.len() + appended.len() + 16);
    out.push_str(&text[..close]);
    if !appended.is_empty() {
        let empty = text[..close].trim_end().ends_with('{');
        out.push_str(if empty { &appended[1..] } else { &appended });
    }
    out.push_str(&text[close..]);
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (start, end, json) in edits {
        out.replace_range(start..end, &json);
    }
    Some(out.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Meta;
    use crate::lang::ast::StageSpec;
    use crate::lang::parse_pipeline;

    fn set_on(line: &str, stage: &str) -> String {
        let ast = parse_pipeline(stage).unwrap();
        let StageSpec::Set(a) = &ast[0].spec else {
            panic!("not a set")
        };
        let s = Set::new(a.clone());
        let mut n = Needs::default();
        s.needs(&mut n);
        let mut ev = Event::parse(line, Meta::default(), &n).unwrap();
        s.apply(&mut ev, &Env::default());
        let mut out = Vec::new();
        ev.write_json(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn splices_keep_the_rest_of_the_bytes() {
        assert_eq!(
            set_on(r#"{"a": 1, "s":"\u00e9"}"#, "set b = a + 1"),
            r#"{"a": 1, "s":"\u00e9","b":2}"#
        );
        assert_eq!(set_on(r#"{"a":1,"b":"x"}"#, "set b = a"), r#"{"a":1,"b":1}"#);
        assert_eq!(set_on("{ }", "set b = 1"), r#"{ "b":1}"#);
    }

    #[test]
    fn all_values_are_computed_before_any_is_set() {
        assert_eq!(set_on(r#"{"a":1,"b":2}"#, "set a = b, b = a"), r#"{"a":2,"b":1}"#);
    }

    #[test]
    fn nested_paths_and_non_objects_use_the_tree() {
        assert_eq!(set_on(r#"{"a":1}"#, "set u.id = 5"), r#"{"a":1,"u":{"id":5}}"#);
        assert_eq!(set_on("[1]", "set a = 1"), r#"{"a":1}"#);
    }
}
