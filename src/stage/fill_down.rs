//! `fill-down PATH, …` (Miller's `fill-down`): an event whose field is missing or null takes
//! the last non-null value that field had in an earlier event, in input order. Fields are
//! filled independently; until a field has had a value, it is left as it is. A field filled in
//! is written where `set` would write it (nested objects made as needed), so the event is
//! written anew; an event with nothing to fill passes with its bytes as read. Events that are
//! not objects pass unchanged; a fill `set` could not make (`a[5]` of a short array) makes the
//! event a dead letter, as with `set`.

use super::{Describe, Emit, Ordered};
use crate::event::{Event, MAX_PAD, Needs, Reason, too_deep_at, write_path, write_segs};
use crate::lang::Expr;
use crate::lang::{Path, Val};
use serde_json::Value;

#[derive(Debug, Clone)]
pub(crate) struct FillDown {
    paths: Vec<Path>,
    /// The last non-null value of each path.
    last: Vec<Option<Value>>,
}

impl FillDown {
    pub(crate) fn new(paths: Vec<Path>) -> FillDown {
        let last = vec![None; paths.len()];
        FillDown { paths, last }
    }

    fn fill(&self, ev: &mut Event, fills: Vec<(usize, Value)>) -> Result<(), Reason> {
        let doc = ev.doc_mut().map_err(|r| r.reason)?;
        for (i, v) in fills {
            let path = &self.paths[i];
            if too_deep_at(path, &Val::from_value(&v)) {
                return Err(Reason::TooDeep);
            }
            let segs = write_segs(doc, path);
            write_path(doc, segs, v, MAX_PAD)?;
        }
        Ok(())
    }
}

impl Describe for FillDown {
    fn expressions(&self) -> Vec<&Expr> {
        Vec::new()
    }

    fn needs(&self, n: &mut Needs) {
        for p in &self.paths {
            n.add_path(p);
        }
    }

    fn name(&self) -> &'static str {
        "fill-down"
    }
}

impl Ordered for FillDown {
    fn push(&mut self, mut ev: Event, out: &mut Emit) {
        let mut fills: Vec<(usize, Value)> = Vec::new();
        for (i, p) in self.paths.iter().enumerate() {
            match ev.lookup(p) {
                Some(v) if !v.is_null() => self.last[i] = Some(v.into_value()),
                _ => {
                    if let Some(v) = &self.last[i] {
                        fills.push((i, v.clone()));
                    }
                }
            }
        }
        if fills.is_empty() || !ev.is_object() {
            return out.push(ev);
        }
        match self.fill(&mut ev, fills) {
            Ok(()) => out.push(ev),
            Err(reason) => out.dead(&ev, reason),
        }
    }

    fn sees_every_event(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use crate::event::Fate;
    use crate::stage::StageOptions;
    use crate::stage::testing::run_stage;

    fn fill(src: &str, lines: &[&str]) -> Vec<String> {
        let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
        let rec = run_stage(src, &StageOptions::default(), &lines);
        assert_eq!(rec.lines(Fate::Emitted).len(), lines.len());
        rec.out
    }

    #[test]
    fn missing_and_null_fields_take_the_last_value_seen() {
        let got = fill(
            "fill-down host, u.id",
            &[
                r#"{"n":1}"#,
                r#"{"n":2,"host":"a","u":{"id":7}}"#,
                r#"{"n":3,"host":null}"#,
                r#"{"n":4 , "host":"b"}"#,
                r#"{"n":5,"u":{"id":null,"x":1}}"#,
                "[1]",
            ],
        );
        assert_eq!(
            got,
            [
                r#"{"n":1}"#,
                r#"{"n":2,"host":"a","u":{"id":7}}"#,
                r#"{"n":3,"host":"a","u":{"id":7}}"#,
                r#"{"n":4,"host":"b","u":{"id":7}}"#,
                r#"{"n":5,"u":{"id":7,"x":1},"host":"b"}"#,
                "[1]",
            ]
        );
    }

    #[test]
    fn an_event_with_nothing_to_fill_keeps_its_bytes() {
        let got = fill("fill-down a", &[r#"{ "a" : 1 }"#, r#"{ "a" : 2 }"#]);
        assert_eq!(got, [r#"{ "a" : 1 }"#, r#"{ "a" : 2 }"#]);
    }

    #[test]
    fn a_fill_set_could_not_make_is_a_dead_letter() {
        let lines: Vec<String> = [r#"{"a":[1,2]}"#, r#"{"a":[1]}"#].map(String::from).to_vec();
        let rec = run_stage("fill-down a[1]", &StageOptions::default(), &lines);
        assert_eq!(rec.out, [r#"{"a":[1,2]}"#, r#"{"a":[1,2]}"#]);
        let lines: Vec<String> = [r#"{"a":[1,2,3]}"#, r#"{"a":[1]}"#].map(String::from).to_vec();
        let rec = run_stage("fill-down a[-3]", &StageOptions::default(), &lines);
        assert_eq!(rec.out.len(), 1);
        assert_eq!(rec.lines(Fate::Dead(crate::event::Reason::InvalidPath)), [2]);
    }
}
