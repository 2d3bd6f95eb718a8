//! `head [N] [by KEYS]`: the first N events (10 by default); once they are out, evq stops
//! reading input. With `by KEYS`, the first N events of each group (Miller's `head -g`), in
//! input order; the groups are held up to `--max-groups` (past that the run fails, exit 3).

use super::group::write_key;
use super::{Describe, Emit, Ordered, StageError};
use crate::event::{Event, Fate, Needs};
use crate::lang::Env;
use crate::lang::Expr;
use crate::lang::ast::KeySpec;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub(crate) struct Head {
    limit: u64,
    seen: u64,
    /// With `by`: the groups, and the events passed of each.
    by: Option<(GroupIndex, Vec<u64>)>,
    /// Set once the groups went past the limit: no later event passes.
    failed: bool,
}

impl Head {
    pub(crate) fn new(limit: u64, by: Vec<KeySpec>, max_groups: usize) -> Self {
        let by = (!by.is_empty()).then(|| (GroupIndex::new(by, max_groups), Vec::new()));
        Head {
            limit,
            seen: 0,
            by,
            failed: false,
        }
    }

    fn push_first(&mut self, ev: Event, out: &mut Emit) {
        if self.seen < self.limit {
            self.seen += 1;
            out.push(ev);
        } else {
            out.record(&ev, Fate::Skipped);
        }
    }
}

impl Describe for Head {
    fn expressions(&self) -> Vec<&Expr> {
        self.by.iter().flat_map(|(groups, _)| groups.expressions()).collect()
    }

    fn needs(&self, n: &mut Needs) {
        if let Some((groups, _)) = &self.by {
            groups.needs(n);
        }
    }

    fn name(&self) -> &'static str {
        "head"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("the lines after: skipped")
    }
}

impl Ordered for Head {
    fn push(&mut self, ev: Event, out: &mut Emit) {
        let Some((groups, passed)) = &mut self.by else {
            return self.push_first(ev, out);
        };
        if self.failed || self.limit == 0 {
            return out.record(&ev, Fate::Skipped);
        }
        let Some(g) = groups.group(&ev, out.env()) else {
            self.failed = true;
            out.fail(groups.overflow("head"));
            return out.record(&ev, Fate::Skipped);
        };
        if g == passed.len() {
            passed.push(0);
        }
        if passed[g] < self.limit {
            passed[g] += 1;
            out.push(ev);
        } else {
            out.record(&ev, Fate::Skipped);
        }
    }

    /// True once no further event can pass: never for `head N by` while N > 0, as a new
    /// group may come.
    fn done(&self) -> bool {
        match self.by {
            None => self.seen >= self.limit,
            Some(_) => self.limit == 0,
        }
    }

    fn holds_events(&self) -> bool {
        false
    }

    fn sees_every_event(&self) -> bool {
        false
    }
}

/// Group numbers by the values of `by` keys, in first-seen order, for at most `max` groups.
#[derive(Debug, Clone)]
pub(super) struct GroupIndex {
    keys: Vec<KeySpec>,
    index: HashMap<Box<[u8]>, usize>,
    max: usize,
    /// Scratch space for one event's key.
    canon: Vec<u8>,
    text: Vec<u8>,
}

impl GroupIndex {
    /// The keys' expressions.
    pub(super) fn expressions(&self) -> impl Iterator<Item = &crate::lang::Expr> {
        self.keys.iter().map(|k| &k.expr)
    }

    pub(super) fn new(keys: Vec<KeySpec>, max: usize) -> GroupIndex {
        GroupIndex {
            keys,
            index: HashMap::new(),
            max,
            canon: Vec::new(),
            text: Vec::new(),
        }
    }

    pub(super) fn needs(&self, n: &mut Needs) {
        for k in &self.keys {
            k.expr.visit_paths(&mut |p| n.add_path(p));
        }
    }

    /// The number of the event's group: the number of groups so far when it is new; `None`
    /// when it is new and there are `max` groups already.
    pub(super) fn group(&mut self, ev: &Event, env: &Env) -> Option<usize> {
        self.canon.clear();
        self.text.clear();
        write_key(&self.keys, ev, env, &mut self.canon, &mut self.text);
        if let Some(&g) = self.index.get(self.canon.as_slice()) {
            return Some(g);
        }
        if self.index.len() >= self.max {
            return None;
        }
        let g = self.index.len();
        self.index.insert(self.canon.as_slice().into(), g);
        Some(g)
    }

    /// The message of a stage that met one group more than `max`.
    pub(super) fn overflow(&self, stage: &'static str) -> StageError {
        StageError::too_many(stage, self.max, "groups")
    }
}

#[cfg(test)]
mod tests {
    use crate::event::Fate;
    use crate::stage::StageOptions;
    use crate::stage::testing::run_stage;

    fn lines(items: &[&str]) -> Vec<String> {
        items.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn head_by_passes_the_first_n_of_each_group_in_input_order() {
        let input = lines(&[
            r#"{"k":"a","i":1}"#,
            r#"{"k":"b","i":2}"#,
            r#"{"k":"a","i":3}"#,
            r#"{"k":"a","i":4}"#,
            r#"{"i":5}"#,
            r#"{"k":"b","i":6}"#,
            r#"{"k":null,"i":7}"#,
            r#"{"k":"b","i":8}"#,
        ]);
        let rec = run_stage("head 2 by k", &StageOptions::default(), &input);
        let got: Vec<u64> = rec.lines(Fate::Emitted);
        // A missing key and null are one group, as in every grouping stage.
        assert_eq!(got, [1, 2, 3, 5, 6, 7]);
        assert_eq!(rec.lines(Fate::Skipped), [4, 8]);
        assert_eq!(rec.out.len(), 6);
    }

    #[test]
    fn head_by_past_max_groups_stops_the_run() {
        let opts = StageOptions {
            max_groups: Some(2),
            ..StageOptions::default()
        };
        let input = lines(&[r#"{"k":1}"#, r#"{"k":2}"#, r#"{"k":3}"#, r#"{"k":1}"#]);
        let rec = run_stage("head 1 by k", &opts, &input);
        assert!(
            rec.failed
                .as_deref()
                .is_some_and(|m| m.contains("head: more than 2 groups"))
        );
        assert_eq!(rec.lines(Fate::Emitted), [1, 2]);
        assert_eq!(rec.lines(Fate::Skipped), [3, 4]);
    }
}
