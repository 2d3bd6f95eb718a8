//! A text compared in another case than the data's: `where level == "ERROR"` over events whose
//! `level` is `"error"` passes nothing, without a word. Each `==` (or `in`) of a field with texts
//! in a `where` is watched on the workers until an event has the field equal to one of the texts,
//! or equal but for case (which is kept), or for the first [`WATCHED`] events. At the end, a
//! `where` that passed no event (after every earlier one passed some) gets a warning for each of
//! its comparisons whose field was seen in another case, with the fix.

use crate::flags::Flags;
use crate::lang::ast::BinOp;
use crate::lang::{Path, Val};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

/// How many events are looked at for the fields' texts at most: the rest are not parsed for
/// them, so that the search for texts in lines (see `crate::lang::Needles`) stays fast.
const WATCHED: u32 = 10_000;

/// `path == "text"` or `path in ["a", "b"]` in a `where`.
#[derive(Debug)]
pub(super) struct Cased {
    path: Path,
    /// The event's field whose texts are watched: `path`, or for a `where` after an aggregate,
    /// the field the row's key holds (`level` for `count by level as lvl | where lvl == …`).
    source: Path,
    op: &'static str,
    texts: Vec<String>,
    /// The `where` it is in, by its place among the `where` stages watched.
    stage: usize,
}

/// The comparison of `p` with `v` by `op`, when it compares the field with texts.
pub(super) fn cased(p: &Path, op: BinOp, v: &Val) -> Option<Cased> {
    let texts = match (op, v) {
        (BinOp::Eq, Val::Str(s)) => vec![s.to_string()],
        (BinOp::In, Val::Json(j)) => j
            .as_array()?
            .iter()
            .map(|t| t.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()?,
        _ => return None,
    };
    let op = if op == BinOp::Eq { "==" } else { "in" };
    let cased = |t: &String| t.chars().any(char::is_alphabetic);
    texts.iter().any(cased).then(|| Cased {
        path: p.clone(),
        source: p.clone(),
        op,
        texts,
        stage: 0,
    })
}

impl Cased {
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The comparison, in a `where` after an aggregate, of the row's field that holds the
    /// event's field `source`.
    pub(super) fn on_rows(self, source: &Path) -> Cased {
        Cased {
            source: source.clone(),
            ..self
        }
    }

    /// The comparison of `field` as written, with `texts` in place of its own.
    fn written(&self, field: &str, texts: &[String]) -> String {
        let mut quoted = texts.iter().map(|t| serde_json::Value::from(t.as_str()).to_string());
        let value = match self.op {
            "==" => quoted.next().unwrap_or_default(),
            _ => format!("[{}]", quoted.collect::<Vec<_>>().join(", ")),
        };
        format!("{field} {} {value}", self.op)
    }

    /// The text among its own that `found` is in another case.
    fn other_case_of(&self, found: &str) -> Option<&str> {
        let lower = found.to_lowercase();
        self.texts
            .iter()
            .find(|t| t.len() == found.len() && t.eq_ignore_ascii_case(found) || t.to_lowercase() == lower)
            .map(String::as_str)
    }

    fn warning(&self, found: &str) -> Option<String> {
        let text = self.other_case_of(found)?;
        let lower: Vec<String> = self.texts.iter().map(|t| t.to_lowercase()).collect();
        let path = self.path.to_string();
        let any_case = self.written(&format!("lower({path})"), &lower);
        // Of a list, only one text is known to be in another case: the fix is the one for any case.
        let fix = match self.op {
            "==" => format!(
                "{}, or {any_case} for any case",
                self.written(&path, &[found.to_owned()])
            ),
            _ => any_case,
        };
        Some(format!(
            "where {} passed no event, but {path} held {}, which differs from {} only in case; write {fix}",
            self.written(&path, &self.texts),
            serde_json::Value::from(found),
            serde_json::Value::from(text),
        ))
    }
}

/// The comparisons watched, and what the fields held.
#[derive(Debug, Default)]
pub(super) struct CaseWatch {
    items: Vec<Cased>,
    /// Bit `i` is set once `items[i]` is decided: its field held one of its texts, or one in
    /// another case (kept in `found[i]`), or enough events were looked at.
    done: Flags,
    found: Vec<OnceLock<String>>,
    /// Events looked at so far.
    looked: AtomicU32,
    /// By place: whether each `where` watched passed some event.
    wheres: Vec<Arc<AtomicBool>>,
}

impl CaseWatch {
    /// Watches `items`, all in the `where` whose flag `passed` is raised once it passes an event.
    pub(super) fn add(&mut self, items: Vec<Cased>, passed: Arc<AtomicBool>) {
        let stage = self.wheres.len();
        self.wheres.push(passed);
        self.items.extend(items.into_iter().map(|c| Cased { stage, ..c }));
    }

    /// Makes the watch ready once every comparison is added; at most `max` are watched.
    pub(super) fn start(&mut self, max: usize) {
        self.items.truncate(max);
        self.done = Flags::new(self.items.len());
        self.found = self.items.iter().map(|_| OnceLock::new()).collect();
    }

    /// Looks at the fields of `ev` not yet decided; true once all are.
    pub(super) fn observe(&self, ev: &crate::event::Event) -> bool {
        let mut enough = None;
        self.done.update(|i| {
            if *enough.get_or_insert_with(|| self.looked.fetch_add(1, Ordering::Relaxed) >= WATCHED) {
                return true;
            }
            let c = &self.items[i];
            let Some(v) = ev.lookup(&c.source) else { return false };
            let Some(s) = v.as_str() else { return false };
            if c.texts.iter().any(|t| t == s) {
                return true;
            }
            if c.other_case_of(s).is_some() {
                self.found[i].get_or_init(|| s.to_owned());
                return true;
            }
            false
        })
    }

    /// A warning for each comparison of the first `where` that passed no event whose field held
    /// one of its texts in another case.
    pub(super) fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        let passed = |stage: usize| self.wheres.get(stage).is_none_or(|p| p.load(Ordering::Relaxed));
        let first_empty = (0..self.wheres.len()).find(|&s| !passed(s));
        self.items
            .iter()
            .zip(&self.found)
            .filter(move |(c, _)| Some(c.stage) == first_empty)
            .filter_map(|(c, found)| c.warning(found.get()?))
    }
}

#[cfg(test)]
mod tests {
    use super::cased;
    use crate::lang::ast::{BinOp, Seg};
    use crate::lang::{Path, Val};
    use std::borrow::Cow;

    fn path() -> Path {
        Path::new(vec![Seg::Key("level".into())])
    }

    #[test]
    fn only_equality_and_lists_of_texts_with_letters_are_watched() {
        let list = |j: serde_json::Value| Val::Json(Cow::Owned(j));
        assert!(cased(&path(), BinOp::Eq, &Val::Str("ERROR".into())).is_some());
        assert!(cased(&path(), BinOp::In, &list(serde_json::json!(["A", "b"]))).is_some());
        assert!(cased(&path(), BinOp::Eq, &Val::Str("500".into())).is_none(), "no case");
        assert!(
            cased(&path(), BinOp::In, &list(serde_json::json!(["A", 1]))).is_none(),
            "not all texts"
        );
        assert!(cased(&path(), BinOp::Ne, &Val::Str("A".into())).is_none());
        assert!(cased(&path(), BinOp::Lt, &Val::Str("A".into())).is_none());
    }

    #[test]
    fn a_text_in_another_case_is_found_for_ascii_and_other_letters() {
        let c = cased(&path(), BinOp::Eq, &Val::Str("ÉMILE err".into())).expect("watched");
        assert_eq!(c.other_case_of("émile ERR"), Some("ÉMILE err"));
        assert_eq!(c.other_case_of("emile err"), None);
    }
}
