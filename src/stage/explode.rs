//! `explode PATH [as NAME]` (splitter): one event per element of the array at PATH, the
//! other fields copied. Without `as`, PATH holds the element (like jq's `.items[]` into
//! `.items`, Miller's `nest --explode`); with `as NAME`, NAME holds it and PATH is removed.
//! An empty array, or no array at PATH, gives no event: the fate `exploded_empty`.

use super::{Describe, PerEvent, Step};
use crate::event::Fate;
use crate::event::{
    Event, MAX_PAD, Needs, Reason, Rejection, navigate_mut, remove_path, write_path, write_segs, write_val,
};
use crate::json::{self, MAX_DEPTH};
use crate::lang::Env;
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
        let copies = match &self.name {
            None => self.spliced(ev, &items),
            Some(name) => self.renamed(ev, name, &items),
        };
        if let Some(copies) = copies {
            return Step::Many(copies);
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
        Step::Many(out)
    }

    /// The copies, each with its element spliced into the event's text in PATH's place; `None`
    /// unless PATH is one key and the event is held as text (see [`Event::spliced`]).
    fn spliced<'a>(&self, ev: &Event<'a>, items: &[Value]) -> Option<Vec<Event<'a>>> {
        let [Seg::Key(key)] = self.path.segs.as_slice() else {
            return None;
        };
        // The event's text with null in PATH's place, made once: each copy is the element
        // written into that hole, so a long array takes time in proportion to its copies.
        let text = ev.spliced(&[&self.path], &[Val::Null])?;
        let hole = json::raw_field(&text, key)?;
        let start = hole.as_ptr() as usize - text.as_ptr() as usize;
        let (before, after) = (&text[..start], &text[start + hole.len()..]);
        let copies = items.iter().map(|item| {
            let mut copy_text = String::with_capacity(before.len() + after.len() + 16);
            copy_text.push_str(before);
            write_val(&mut copy_text, &Val::from_value(item));
            copy_text.push_str(after);
            let mut copy = ev.clone();
            copy.set_text(copy_text);
            copy
        });
        Some(copies.collect())
    }

    /// With `as NAME` (PATH and NAME one key each): the copies written from the event's
    /// members, PATH left out and NAME holding the element, where the event had NAME or else
    /// last, as the tree path places it; `None` when the members were not captured or an
    /// object repeats a key.
    fn renamed<'a>(&self, ev: &Event<'a>, name: &Path, items: &[Value]) -> Option<Vec<Event<'a>>> {
        let ([Seg::Key(from)], [Seg::Key(to)]) = (self.path.segs.as_slice(), name.segs.as_slice()) else {
            return None;
        };
        let members = ev.members()?;
        let mut copies = Vec::with_capacity(items.len());
        // Sized once: growing them for every copy is many reallocations, and those take the
        // allocator's locks that the other threads contend for.
        let size = members.iter().map(|(k, v)| k.len() + v.len() + 4).sum::<usize>() + 2;
        let mut element = String::with_capacity(64);
        let (mut text, mut out) = (String::with_capacity(size + 64), String::with_capacity(size + 64));
        for item in items {
            element.clear();
            write_val(&mut element, &Val::from_value(item));
            text.clear();
            text.push('{');
            let mut placed = false;
            for (key, raw) in members {
                let value = match &**key {
                    k if k == &**from => continue,
                    k if k == &**to => {
                        placed = true;
                        element.as_str()
                    }
                    _ => *raw,
                };
                push_member(&mut text, key, value);
            }
            if !placed {
                push_member(&mut text, to, &element);
            }
            text.push('}');
            out.clear();
            out.reserve(text.len());
            json::canonical(&text, &mut out).ok()?;
            let mut copy = ev.clone();
            copy.set_text(out.clone());
            copies.push(copy);
        }
        Some(copies)
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

impl Describe for Explode {
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
            Step::Many(evs) => Ok(evs.iter().map(Event::json_string).collect()),
            Step::Drop(d) => Err(format!("{d:?}")),
            Step::Dead(r) => Err(r.reason.name().to_string()),
            _ => Err("other".into()),
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
