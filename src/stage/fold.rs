//! `fold by KEYS [from PATH] [emit final|changes]`: event sourcing. Each entity's state is
//! rebuilt by applying its events in input order as JSON merge patches (RFC 7386: a field
//! set to `null` is deleted, objects merge, anything else replaces). The output per entity
//! is its keys, the state's fields, `_events` (how many events built it) and `_last` (the
//! last event's time, as written, when it had one). `emit final` (the default) gives one
//! row per entity at the end of input, in first-seen order; `emit changes` gives the row
//! after every event, a CQRS read-model feed.

use super::group::{put_key, write_key};
use super::{Emit, TimeField};
use crate::event::{Event, Fate, Needs};
use crate::lang::ast::{KeySpec, Path};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub(crate) struct Fold {
    spec: Arc<FoldSpec>,
    /// Entity number by canonical key.
    index: HashMap<Box<[u8]>, usize>,
    /// The entities in first-seen order.
    entities: Vec<Entity>,
    /// Scratch space for one event's key.
    canon: Vec<u8>,
    text: Vec<u8>,
}

#[derive(Debug)]
struct FoldSpec {
    keys: Vec<KeySpec>,
    from: Option<Path>,
    changes: bool,
    time: TimeField,
    max: usize,
}

#[derive(Debug, Clone)]
struct Entity {
    /// The keys' JSON text, as first seen.
    key: Box<[u8]>,
    state: Value,
    events: u64,
    last: Option<Value>,
}

impl Fold {
    pub(crate) fn new(keys: Vec<KeySpec>, from: Option<Path>, changes: bool, time: TimeField, max: usize) -> Fold {
        Fold {
            spec: Arc::new(FoldSpec {
                keys,
                from,
                changes,
                time,
                max,
            }),
            index: HashMap::new(),
            entities: Vec::new(),
            canon: Vec::new(),
            text: Vec::new(),
        }
    }

    pub(crate) fn needs(&self, n: &mut Needs) {
        for k in &self.spec.keys {
            k.expr.visit_paths(&mut |p| n.add_path(p));
        }
        match &self.spec.from {
            Some(p) => n.add_path(p),
            None => n.whole = true,
        }
        self.spec.time.needs(n);
    }

    /// Applies the event to its entity's state; the event itself goes no further.
    pub(crate) fn push(&mut self, ev: Event, out: &mut Emit) {
        let Some(e) = self.entity(&ev, out) else {
            return;
        };
        if let Some(t) = self.spec.time.value(&ev, out.env()) {
            self.entities[e].last = Some(t);
        }
        out.record(&ev, Fate::Aggregated);
        let patch = match &self.spec.from {
            Some(p) => ev.lookup(p).map(|v| v.into_value()),
            // The event checked out as JSON when it was read.
            None => ev.into_value().ok(),
        };
        let entity = &mut self.entities[e];
        if let Some(patch) = patch {
            json_patch::merge(&mut entity.state, &patch);
        }
        entity.events += 1;
        if self.spec.changes {
            out.push_row(self.row(e));
        }
    }

    /// The number of the event's entity, new if it was not seen; `None` when there are more
    /// entities than `--max-groups` (the run then stops, naming the stage).
    fn entity(&mut self, ev: &Event, out: &mut Emit) -> Option<usize> {
        self.canon.clear();
        self.text.clear();
        write_key(&self.spec.keys, ev, out.env(), &mut self.canon, &mut self.text);
        if let Some(&e) = self.index.get(self.canon.as_slice()) {
            return Some(e);
        }
        if self.entities.len() >= self.spec.max {
            out.fail(format!(
                "fold: more than {} entities; raise the limit with --max-groups N",
                self.spec.max
            ));
            out.record(ev, Fate::Skipped);
            return None;
        }
        self.index.insert(self.canon.as_slice().into(), self.entities.len());
        self.entities.push(Entity {
            key: self.text.as_slice().into(),
            state: Value::Object(Map::new()),
            events: 0,
            last: None,
        });
        Some(self.entities.len() - 1)
    }

    /// Entity `e` as output: its keys, its state's fields (a state that is not an object is
    /// `_state`), `_events` and `_last`.
    fn row(&self, e: usize) -> Value {
        let entity = &self.entities[e];
        let mut row = Value::Object(Map::new());
        put_key(&self.spec.keys, &entity.key, &mut row);
        if let Value::Object(row) = &mut row {
            match &entity.state {
                Value::Object(state) => row.extend(state.iter().map(|(k, v)| (k.clone(), v.clone()))),
                other => {
                    row.insert("_state".into(), other.clone());
                }
            }
            row.insert("_events".into(), entity.events.into());
            row.insert("_last".into(), entity.last.clone().unwrap_or(Value::Null));
        }
        row
    }

    /// With `emit final`, hands on each entity's state, in first-seen order.
    pub(crate) fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        if self.spec.changes {
            return ControlFlow::Continue(());
        }
        self.index = HashMap::new();
        for e in 0..self.entities.len() {
            let row = self.row(e);
            // The state is in the row now: free it as the rows go.
            self.entities[e].state = Value::Null;
            out.push_row(row);
            out.go_on()?;
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// RFC 7386 §3's example, applied the way `fold` applies an event.
    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut state = json!({"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},"tags":["example","sample"],"content":"This will be unchanged"});
        let patch =
            json!({"title":"Hello!","phoneNumber":"+01-123-456-7890","author":{"familyName":null},"tags":["example"]});
        json_patch::merge(&mut state, &patch);
        assert_eq!(
            state,
            json!({"title":"Hello!","author":{"givenName":"John"},"tags":["example"],"content":"This will be unchanged","phoneNumber":"+01-123-456-7890"})
        );
    }
}
