//! `explode PATH [as NAME]` (splitter): one event per element of the array at PATH, the
//! other fields copied. Without `as`, PATH holds the element (like jq's `.items[]` into
//! `.items`, Miller's `nest --explode`); with `as NAME`, NAME holds it and PATH is removed.
//! An empty array, or no array at PATH, gives no event: the fate `exploded_empty`.

use super::{Describe, PerEvent, Step};
use crate::event::Fate;
use crate::event::{Event, MAX_PAD, Needs, Reason, Rejection, navigate_mut, remove_path, write_path, write_segs};
use crate::json::{self, MAX_DEPTH};
use crate::lang::Env;
use crate::lang::Expr;
use crate::lang::ast::Seg;
use crate::lang::{Path, Val};
use serde_json::Value;

#[derive(Debug, Clone)]
pub(crate) struct Explode {
    path: Path,
    name: Option<Path>,
}

impl Explode {
    pub(crate) fn new(path: Path, name: Option<Path>) -> Self {
        Explode { path, name }
    }

    /// The path whose arrays it splits.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The events made from the elements, in array order.
    pub(crate) fn apply<'a>(&self, ev: &mut Event<'a>) -> Step<'a> {
        if let Some(step) = self.streamed(ev) {
            return step;
        }
        // Most events without an array are told apart without parsing them whole.
        let items = match ev.lookup(&self.path) {
            Some(Val::Json(v)) => match v.into_owned() {
                Value::Array(items) if !items.is_empty() => items,
                _ => return Step::Drop(Fate::ExplodedEmpty),
            },
            _ => return Step::Drop(Fate::ExplodedEmpty),
        };
        if let Some(name) = &self.name
            && items.iter().any(|v| name.segs.len() + json::depth(v) > MAX_DEPTH)
        {
            return Step::Dead(Rejection::new(Reason::TooDeep, Reason::TooDeep.explain()));
        }
        let mut base = match ev.to_value() {
            Ok(v) => v,
            Err(r) => return Step::Dead(r),
        };
        // A dotted path may name a flat key (`explode a.b` on {"a.b": [..]}).
        let segs = write_segs(&base, &self.path);
        let items = match navigate_mut(&mut base, segs).map(std::mem::take) {
            Some(Value::Array(items)) if !items.is_empty() => items,
            _ => return Step::Drop(Fate::ExplodedEmpty),
        };
        if self.name.is_some() {
            remove_path(&mut base, segs);
        }
        // The copies start from a cheap event: its document is replaced anyway.
        ev.replace(Value::Null);
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let mut doc = base.clone();
            if let Err(reason) = self.place(&mut doc, segs, item) {
                return Step::Dead(Rejection::new(reason, reason.explain()));
            }
            let mut e = ev.clone();
            e.replace(doc);
            out.push(e);
        }
        Step::Many(Box::new(out.into_iter()))
    }

    /// The copies, written from the event's text one at a time as they are taken, the
    /// elements read from the array's text: a long array's copies (or its elements as trees)
    /// are never all held. `None` unless PATH is one key and the event is held as text (with
    /// `as NAME`, NAME one key and the event's members read); the tree path makes those.
    fn streamed<'a>(&self, ev: &Event<'a>) -> Option<Step<'a>> {
        let [Seg::Key(key)] = self.path.segs.as_slice() else {
            return None;
        };
        // An event held as a tree has no text to copy: the tree path copies it.
        ev.text()?;
        let array = match ev.raw_at(&self.path) {
            Some(a) if a.starts_with('[') && json::next_element(a, 1).is_some() => a,
            _ => return Some(Step::Drop(Fate::ExplodedEmpty)),
        };
        let form = match &self.name {
            None => {
                // The event's text with null in PATH's place, made once: each copy is an
                // element written into that hole.
                let text = ev.spliced(&[&self.path], &[Val::Null])?;
                let hole = json::raw_field(&text, key)?;
                let start = hole.as_ptr() as usize - text.as_ptr() as usize;
                let end = start + hole.len();
                Form::Hole { text, start, end }
            }
            Some(name) => {
                let [Seg::Key(to)] = name.segs.as_slice() else {
                    return None;
                };
                let members = ev.members()?.iter().filter(|(k, _)| **k != **key).cloned();
                Form::Renamed {
                    members: members.collect(),
                    to: to.clone(),
                }
            }
        };
        let array = array.to_string();
        // The copies start from a cheap event: each one's text is its own.
        let mut proto = ev.clone();
        proto.set_text(String::new());
        let copies = Copies {
            proto,
            array,
            at: 1,
            form,
            element: String::new(),
        };
        Some(Step::Many(Box::new(copies)))
    }

    /// Puts one element where it belongs: at PATH (kept in its place), or at NAME.
    fn place(&self, doc: &mut Value, at: &[Seg], item: Value) -> Result<(), Reason> {
        match &self.name {
            Some(name) => write_path(doc, &name.segs, item, MAX_PAD),
            None => match navigate_mut(doc, at) {
                Some(slot) => {
                    *slot = item;
                    Ok(())
                }
                None => Err(Reason::InvalidPath),
            },
        }
    }
}

/// How a copy's text is written around its element.
enum Form<'a> {
    /// The event's text with a hole where PATH's array was.
    Hole { text: String, start: usize, end: usize },
    /// `as NAME`: the event's members but PATH, NAME holding the element (in its place when
    /// the event has it, else last).
    Renamed {
        members: Vec<json::Field<'a>>,
        to: Box<str>,
    },
}

/// The copies of one event, made as they are taken.
struct Copies<'a> {
    proto: Event<'a>,
    /// The array's text, and where its next element starts.
    array: String,
    at: usize,
    form: Form<'a>,
    element: String,
}

impl<'a> Iterator for Copies<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        let (raw, next) = json::next_element(&self.array, self.at)?;
        self.at = next;
        self.element.clear();
        json::write_checked(raw, &mut self.element);
        let text = match &self.form {
            Form::Hole { text, start, end } => {
                let mut copy = String::with_capacity(text.len() - (end - start) + self.element.len());
                copy.push_str(&text[..*start]);
                copy.push_str(&self.element);
                copy.push_str(&text[*end..]);
                copy
            }
            Form::Renamed { members, to } => {
                let size = members.iter().map(|(k, v)| k.len() + v.len() + 4).sum::<usize>();
                let mut text = String::with_capacity(size + self.element.len() + to.len() + 8);
                text.push('{');
                let mut placed = false;
                for (key, raw) in members {
                    let value = if key == &**to {
                        placed = true;
                        self.element.as_str()
                    } else {
                        raw
                    };
                    push_member(&mut text, key, value);
                }
                if !placed {
                    push_member(&mut text, to, &self.element);
                }
                text.push('}');
                let mut copy = String::with_capacity(text.len());
                json::write_checked(&text, &mut copy);
                copy
            }
        };
        let mut copy = self.proto.clone();
        copy.set_text(text);
        Some(copy)
    }
}

impl Describe for Explode {
    fn expressions(&self) -> Vec<&Expr> {
        Vec::new()
    }

    fn needs(&self, n: &mut Needs) {
        n.add_path(&self.path);
        if self.name.is_some() {
            // `as NAME` writes the copies from the event's members (see `Explode::renamed`).
            n.members = true;
        }
    }

    fn name(&self) -> &'static str {
        "explode"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("empty or no array: exploded_empty; extra elements: copies")
    }
}

impl PerEvent for Explode {
    fn step<'a>(&self, ev: &mut Event<'a>, _: &Env) -> Step<'a> {
        self.apply(ev)
    }
}

/// Appends `"key":value` to an object's text being written.
fn push_member(text: &mut String, key: &str, value: &str) {
    if text.len() > 1 {
        text.push(',');
    }
    json::write_str(text, key);
    text.push(':');
    text.push_str(value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Origin;
    use crate::lang::parser::parse_expr;

    fn path(s: &str) -> Path {
        match parse_expr(s) {
            Ok(crate::lang::Expr::Path(p)) => p,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn explode(line: &str, p: &str, name: Option<&str>) -> Result<Vec<String>, String> {
        let x = Explode::new(path(p), name.map(path));
        let mut needs = Needs::default();
        x.needs(&mut needs);
        let mut ev = Event::parse(line, Origin::default(), &needs).expect("valid JSON");
        match x.apply(&mut ev) {
            Step::Many(evs) => Ok(evs.map(|e| e.json_string()).collect()),
            Step::Drop(d) => Err(format!("{d:?}")),
            Step::Dead(r) => Err(r.reason.name().to_string()),
            _ => Err("other".into()),
        }
    }

    /// A long array's copies are made as they are taken, from the array's text: none is made
    /// before it is asked for, and the elements are never all parsed.
    #[test]
    fn a_long_arrays_copies_are_made_one_at_a_time() {
        let items: Vec<String> = (0..100_000).map(|i| format!("{{\"n\":{i}}}")).collect();
        let line = format!(r#"{{"id":1,"items":[{}]}}"#, items.join(","));
        for name in [None, Some("item")] {
            let x = Explode::new(path("items"), name.map(path));
            let mut needs = Needs::default();
            x.needs(&mut needs);
            let mut ev = Event::parse(&line, Origin::default(), &needs).expect("valid JSON");
            let Step::Many(mut copies) = x.apply(&mut ev) else {
                panic!("copies")
            };
            let field = name.unwrap_or("items");
            let first = copies.next().map(|c| c.json_string());
            assert_eq!(first, Some(format!(r#"{{"id":1,"{field}":{{"n":0}}}}"#)));
            assert_eq!(copies.size_hint(), (0, None), "nothing counted ahead");
            let last = copies.last().map(|c| c.json_string());
            assert_eq!(last, Some(format!(r#"{{"id":1,"{field}":{{"n":99999}}}}"#)));
        }
    }

    #[test]
    fn the_element_replaces_the_array_in_its_place() {
        let got = explode(r#"{"id":1,"items":[{"n":1},2],"z":1.0}"#, "items", None);
        assert_eq!(
            got,
            Ok(vec![
                r#"{"id":1,"items":{"n":1},"z":1.0}"#.into(),
                r#"{"id":1,"items":2,"z":1.0}"#.into()
            ])
        );
    }

    #[test]
    fn as_name_holds_the_element_and_removes_the_array() {
        let got = explode(r#"{"o":{"items":["a","b"],"k":1}}"#, "o.items", Some("item"));
        assert_eq!(
            got,
            Ok(vec![
                r#"{"o":{"k":1},"item":"a"}"#.into(),
                r#"{"o":{"k":1},"item":"b"}"#.into()
            ])
        );
    }

    /// Written from the members (one-key PATH and NAME) as the tree would be: NAME in its place
    /// when the event has it, else last; escapes and spacing made canonical; an object that
    /// repeats a key keeps its last value, as in the tree.
    #[test]
    fn as_name_from_the_members_matches_the_tree() {
        let got = explode(
            r#"{ "id": 1, "tags": ["a", {"k": "\u0041"}], "t": 0, "z": 1E5 }"#,
            "tags",
            Some("t"),
        );
        assert_eq!(
            got,
            Ok(vec![
                r#"{"id":1,"t":"a","z":1E5}"#.into(),
                r#"{"id":1,"t":{"k":"A"},"z":1E5}"#.into()
            ])
        );
        let got = explode(r#"{"tags":[1],"id":2}"#, "tags", Some("tags"));
        assert_eq!(got, Ok(vec![r#"{"id":2,"tags":1}"#.into()]));
        let got = explode(r#"{"a":1,"tags":[1],"a":2}"#, "tags", Some("t"));
        assert_eq!(got, Ok(vec![r#"{"a":2,"t":1}"#.into()]));
    }

    #[test]
    fn empty_missing_and_non_arrays_give_no_event() {
        for line in [r#"{"items":[]}"#, r#"{"items":"x"}"#, r#"{"other":1}"#, "[1,2]", "3"] {
            assert_eq!(explode(line, "items", None), Err("ExplodedEmpty".into()), "{line}");
        }
    }

    #[test]
    fn the_whole_event_may_be_the_array() {
        assert_eq!(
            explode("[1,{\"a\":2}]", ".", None),
            Ok(vec!["1".into(), r#"{"a":2}"#.into()])
        );
        assert_eq!(explode("[1]", ".", Some("v")), Ok(vec![r#"{"v":1}"#.into()]));
    }

    #[test]
    fn a_name_that_would_nest_too_deep_is_a_dead_letter() {
        let deep = vec!["a"; MAX_DEPTH].join(".");
        assert_eq!(explode(r#"{"x":[[1]]}"#, "x", Some(&deep)), Err("too_deep".into()));
    }
}
