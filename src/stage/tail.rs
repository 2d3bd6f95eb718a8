//! `tail [N] [by KEYS]`: the last N events (10 by default), held in a ring of N until the end
//! of input. With `by KEYS`, the last N events of each group (Miller's `tail -g`), output
//! group by group in the order the groups were first seen, each group's events oldest first;
//! at most `--max-groups` groups are held (past that the run fails, exit 3).

use super::head::GroupIndex;
use super::{Describe, Emit, Ordered};
use crate::event::{Event, Fate, Needs, OwnedEvent};
use crate::lang::Expr;
use crate::lang::ast::KeySpec;
use std::collections::VecDeque;
use std::ops::ControlFlow;

#[derive(Debug, Clone)]
pub(crate) struct Tail {
    limit: usize,
    /// The rings: one, or one per group in first-seen order.
    rings: Vec<VecDeque<OwnedEvent>>,
    by: Option<GroupIndex>,
}

impl Tail {
    pub(crate) fn new(limit: u64, by: Vec<KeySpec>, max_groups: usize) -> Self {
        Tail {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            rings: Vec::new(),
            by: (!by.is_empty()).then(|| GroupIndex::new(by, max_groups)),
        }
    }
}

impl Describe for Tail {
    fn expressions(&self) -> Vec<&Expr> {
        self.by.iter().flat_map(GroupIndex::expressions).collect()
    }

    fn needs(&self, n: &mut Needs) {
        if let Some(groups) = &self.by {
            groups.needs(n);
        }
    }

    fn name(&self) -> &'static str {
        "tail"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("the lines before: skipped")
    }
}

impl Ordered for Tail {
    /// Holds the event; the one that no longer fits (the oldest of its ring, or this one
    /// for `tail 0`) is skipped.
    fn push(&mut self, ev: Event, out: &mut Emit) {
        if self.limit == 0 {
            return out.record(&ev, Fate::Skipped);
        }
        let ring = match &mut self.by {
            None => 0,
            Some(groups) => match groups.group(&ev, out.env()) {
                Some(g) => g,
                None => {
                    out.fail(groups.overflow("tail"));
                    return out.record(&ev, Fate::Skipped);
                }
            },
        };
        if ring == self.rings.len() {
            self.rings.push(VecDeque::new());
        }
        let ring = &mut self.rings[ring];
        ring.push_back(ev.to_owned());
        if ring.len() > self.limit {
            if let Some(h) = ring.pop_front() {
                out.record_owned(&h, Fate::Skipped);
            }
        }
    }

    /// The run stopped before the end of input: the events held are skipped.
    fn abandon(&mut self, out: &mut Emit) {
        for ring in &mut self.rings {
            for h in ring.drain(..) {
                out.record_owned(&h, Fate::Skipped);
            }
        }
    }

    /// Releases the events held, ring by ring, oldest first.
    fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        for r in 0..self.rings.len() {
            while let Some(h) = self.rings[r].pop_front() {
                out.push_owned(h);
                out.go_on()?;
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use crate::event::Fate;
    use crate::stage::StageOptions;
    use crate::stage::testing::run_stage;

    #[test]
    fn tail_by_keeps_the_last_n_of_each_group_group_by_group() {
        let input: Vec<String> = [
            r#"{"k":"a","i":1}"#,
            r#"{"k":"b","i":2}"#,
            r#"{"k":"a","i":3}"#,
            r#"{"k":"a","i":4}"#,
            r#"{"k":"c","i":5}"#,
            r#"{"k":"b","i":6}"#,
            r#"{"k":"b","i":7}"#,
        ]
        .map(String::from)
        .to_vec();
        let rec = run_stage("tail 2 by k", &StageOptions::default(), &input);
        let order: Vec<&str> = rec.out.iter().map(|l| &l[l.len() - 2..l.len() - 1]).collect();
        assert_eq!(order, ["3", "4", "6", "7", "5"]);
        assert_eq!(rec.lines(Fate::Skipped), [1, 2]);
    }

    #[test]
    fn tail_without_by_is_one_ring() {
        let input: Vec<String> = (1..=5).map(|i| format!("{{\"i\":{i}}}")).collect();
        let rec = run_stage("tail 2", &StageOptions::default(), &input);
        assert_eq!(rec.out, [r#"{"i":4}"#, r#"{"i":5}"#]);
    }

    #[test]
    fn tail_by_past_max_groups_stops_the_run() {
        let opts = StageOptions {
            max_groups: Some(1),
            ..StageOptions::default()
        };
        let input: Vec<String> = [r#"{"k":1}"#, r#"{"k":2}"#].map(String::from).to_vec();
        let rec = run_stage("tail 1 by k", &opts, &input);
        assert!(
            rec.failed
                .as_deref()
                .is_some_and(|m| m.contains("tail: more than 1 groups"))
        );
        // Nothing is output: the event held is skipped as well.
        assert!(rec.out.is_empty());
        assert_eq!(rec.lines(Fate::Skipped), [1, 2]);
    }
}
