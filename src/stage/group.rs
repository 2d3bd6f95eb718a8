//! Grouped aggregation shared by `count`, `stats`, `top` and `distinct`: group keys,
//! tumbling event-time windows, and per-group accumulators that merge in input order,
//! so a chunk's partial result can be computed on any thread.

use crate::agg::{Acc, AggFn};
use crate::event::{Event, Needs, set_path};
use crate::lang::ast::{AggSpec, KeyName, KeySpec, Path, Seg};
use crate::lang::func::time_of;
use crate::lang::{Env, Expr};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// How the groups are ordered in the output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Order {
    /// First seen first (`stats`, `distinct`).
    FirstSeen,
    /// By the first aggregate, highest first; ties in first-seen order (`count`, `top`).
    Desc { limit: Option<u64> },
}

/// Where event time comes from.
#[derive(Debug, Clone)]
pub struct TimeField(pub Option<Path>);

impl TimeField {
    pub const DEFAULTS: [&'static str; 4] = ["ts", "time", "timestamp", "@timestamp"];

    pub fn needs(&self, n: &mut Needs) {
        match &self.0 {
            Some(p) => n.add_path(p),
            None => {
                for k in Self::DEFAULTS {
                    n.add_path(&Path {
                        segs: vec![Seg::Key(k.into())],
                        span: Default::default(),
                    });
                }
            }
        }
    }

    /// Unix seconds of the event, if it has a parsable time.
    pub fn of(&self, ev: &Event) -> Option<f64> {
        match &self.0 {
            Some(p) => time_of(&ev.lookup(p)?),
            None => Self::DEFAULTS.iter().find_map(|k| {
                let p = Path {
                    segs: vec![Seg::Key((*k).into())],
                    span: Default::default(),
                };
                ev.lookup(&p).map(|v| time_of(&v))
            })?,
        }
    }
}

/// What a grouping stage computes; shared by every thread.
#[derive(Debug)]
pub struct GroupSpec {
    pub stage: &'static str,
    keys: Vec<KeySpec>,
    aggs: Vec<(AggFn, Option<Expr>, String)>,
    every: Option<f64>,
    order: Order,
    time: TimeField,
    max_groups: Option<usize>,
}

impl GroupSpec {
    pub fn new(
        stage: &'static str,
        keys: Vec<KeySpec>,
        aggs: &[AggSpec],
        every: Option<f64>,
        order: Order,
        time: TimeField,
        max_groups: Option<usize>,
    ) -> GroupSpec {
        let aggs = aggs
            .iter()
            .map(|a| {
                let f = match a.q {
                    Some(q) => AggFn::Percentile(q),
                    None if a.func == "count" && a.arg.is_some() => AggFn::CountNonNull,
                    None => AggFn::from_name(&a.func).expect("the parser accepts only known aggregates"),
                };
                (f, a.arg.clone(), a.name.clone())
            })
            .collect();
        GroupSpec {
            stage,
            keys,
            aggs,
            every,
            order,
            time,
            max_groups,
        }
    }

    pub fn needs(&self, n: &mut Needs) {
        for k in &self.keys {
            k.expr.visit_paths(&mut |p| n.add_path(p));
        }
        for (_, e, _) in &self.aggs {
            if let Some(e) = e {
                e.visit_paths(&mut |p| n.add_path(p));
            }
        }
        if self.every.is_some() {
            self.time.needs(n);
        }
    }

    pub fn windowed(&self) -> bool {
        self.every.is_some()
    }
}

#[derive(Debug, Clone)]
struct Group {
    window: Option<i64>,
    keys: Vec<Value>,
    accs: Vec<Acc>,
}

/// Groups in first-seen order with their accumulators.
#[derive(Debug, Clone, Default)]
pub struct Groups {
    index: HashMap<Vec<u8>, usize>,
    groups: Vec<Group>,
    scratch: Vec<u8>,
    /// Set once the number of groups went past `--max-groups`.
    pub overflow: bool,
}

/// Why an event could not be grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupError {
    NoTime,
}

impl Groups {
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn add(&mut self, spec: &GroupSpec, ev: &Event, env: &Env) -> Result<(), GroupError> {
        let window = match spec.every {
            Some(d) => {
                let t = spec.time.of(ev).ok_or(GroupError::NoTime)?;
                Some((t / d).floor() as i64)
            }
            None => None,
        };
        self.scratch.clear();
        if let Some(w) = window {
            self.scratch.extend_from_slice(&w.to_le_bytes());
        }
        let mut vals = Vec::with_capacity(spec.keys.len());
        for k in &spec.keys {
            let v = k.expr.eval(ev, env);
            v.write_json(&mut self.scratch);
            self.scratch.push(0x1e);
            vals.push(v);
        }
        let i = match self.index.get(self.scratch.as_slice()) {
            Some(&i) => i,
            None => {
                if spec.max_groups.is_some_and(|m| self.groups.len() >= m) {
                    self.overflow = true;
                    return Ok(());
                }
                let keys = vals.into_iter().map(|v| v.into_value()).collect();
                let accs = spec.aggs.iter().map(|(f, _, _)| Acc::new(f)).collect();
                self.groups.push(Group { window, keys, accs });
                self.index.insert(self.scratch.clone(), self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        let g = &mut self.groups[i];
        for ((_, e, _), acc) in spec.aggs.iter().zip(&mut g.accs) {
            match e {
                Some(e) => acc.add(&e.eval(ev, env)),
                None => acc.add(&crate::lang::Val::Null),
            }
        }
        Ok(())
    }

    /// Merges the groups of events that came later in input order.
    pub fn merge(&mut self, later: Groups, spec: &GroupSpec) {
        self.overflow |= later.overflow;
        let mut by_index: Vec<(usize, Vec<u8>)> = later.index.into_iter().map(|(k, i)| (i, k)).collect();
        by_index.sort_unstable_by_key(|(i, _)| *i);
        for ((_, key), g) in by_index.into_iter().zip(later.groups) {
            match self.index.get(&key) {
                Some(&i) => {
                    for (a, b) in self.groups[i].accs.iter_mut().zip(g.accs) {
                        a.merge(b);
                    }
                }
                None => {
                    if spec.max_groups.is_some_and(|m| self.groups.len() >= m) {
                        self.overflow = true;
                        continue;
                    }
                    self.groups.push(g);
                    self.index.insert(key, self.groups.len() - 1);
                }
            }
        }
    }

    /// Removes and returns the groups of windows before `window`.
    pub fn split_off_before(&mut self, window: i64) -> Groups {
        let mut done = Groups::default();
        let mut keep = Groups::default();
        let mut by_index: Vec<(usize, Vec<u8>)> = std::mem::take(&mut self.index)
            .into_iter()
            .map(|(k, i)| (i, k))
            .collect();
        by_index.sort_unstable_by_key(|(i, _)| *i);
        for ((_, key), g) in by_index.into_iter().zip(std::mem::take(&mut self.groups)) {
            let to = if g.window.is_some_and(|w| w < window) {
                &mut done
            } else {
                &mut keep
            };
            to.groups.push(g);
            to.index.insert(key, to.groups.len() - 1);
        }
        keep.overflow = self.overflow;
        *self = keep;
        done
    }

    /// The result rows, in the stage's order.
    pub fn finish(self, spec: &GroupSpec) -> Vec<Value> {
        let mut rows: Vec<(Option<i64>, Value, Vec<Value>)> = self
            .groups
            .into_iter()
            .map(|g| {
                let results: Vec<Value> = g.accs.iter().map(Acc::result).collect();
                (g.window, row(spec, g.window, g.keys, &results), results)
            })
            .collect();
        // Windows in time order; within a window, the stage's order (stable sorts keep first-seen ties).
        rows.sort_by_key(|(w, _, _)| *w);
        let mut out = Vec::with_capacity(rows.len());
        let mut start = 0;
        while start < rows.len() {
            let end = start + rows[start..].iter().take_while(|r| r.0 == rows[start].0).count();
            let mut part: Vec<(Option<i64>, Value, Vec<Value>)> = rows[start..end].to_vec();
            if let Order::Desc { limit } = spec.order {
                part.sort_by(|a, b| desc_key(&b.2).sort_cmp(&desc_key(&a.2)));
                if let Some(n) = limit {
                    part.truncate(usize::try_from(n).unwrap_or(usize::MAX));
                }
            }
            out.extend(part.into_iter().map(|(_, r, _)| r));
            start = end;
        }
        out
    }
}

fn desc_key(results: &[Value]) -> crate::lang::Val<'_> {
    results
        .first()
        .map_or(crate::lang::Val::Null, crate::lang::Val::from_value)
}

fn row(spec: &GroupSpec, window: Option<i64>, keys: Vec<Value>, results: &[Value]) -> Value {
    let mut out = Value::Object(Map::new());
    let obj = out.as_object_mut().expect("made an object");
    if let (Some(w), Some(d)) = (window, spec.every) {
        let start = w as f64 * d;
        obj.insert("window_start".into(), crate::time::rfc3339(start).into());
        obj.insert("window_end".into(), crate::time::rfc3339(start + d).into());
    }
    for (k, v) in spec.keys.iter().zip(keys) {
        match &k.name {
            KeyName::Path(p) => set_path(&mut out, &p.segs, v),
            KeyName::Named(n) => {
                out.as_object_mut().expect("an object").insert(n.clone(), v);
            }
        }
    }
    let obj = out.as_object_mut().expect("an object");
    for ((_, _, name), r) in spec.aggs.iter().zip(results) {
        obj.insert(name.clone(), r.clone());
    }
    out
}

/// A grouping stage in the ordered part of a pipeline, or the merge point of the
/// partial results computed on the workers. With `--lateness`, windows are emitted
/// as soon as the watermark (largest event time seen minus the lateness) passes
/// their end, and events for windows already emitted are late.
#[derive(Debug, Clone)]
pub struct GroupStage {
    pub spec: Arc<GroupSpec>,
    pub groups: Groups,
    lateness: Option<f64>,
    max_time: f64,
    /// Windows with a smaller index have been emitted.
    emitted_before: i64,
}

/// Why an event was not added to a streaming window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    NoTime,
    Late,
}

impl GroupStage {
    pub fn new(spec: GroupSpec, lateness: Option<f64>) -> GroupStage {
        let lateness = lateness.filter(|_| spec.windowed());
        GroupStage {
            spec: Arc::new(spec),
            groups: Groups::default(),
            lateness,
            max_time: f64::NEG_INFINITY,
            emitted_before: i64::MIN,
        }
    }

    /// True when windows stream out while reading, so the stage must see events in order.
    pub fn streaming(&self) -> bool {
        self.lateness.is_some()
    }

    /// Adds an event; in streaming mode, returns the rows of windows the watermark closed.
    pub fn add(&mut self, ev: &Event, env: &Env) -> Result<Vec<Value>, Rejected> {
        let spec = self.spec.clone();
        let (Some(lateness), Some(every)) = (self.lateness, spec.every) else {
            return self
                .groups
                .add(&spec, ev, env)
                .map(|()| Vec::new())
                .map_err(|GroupError::NoTime| Rejected::NoTime);
        };
        let t = spec.time.of(ev).ok_or(Rejected::NoTime)?;
        if ((t / every).floor() as i64) < self.emitted_before {
            return Err(Rejected::Late);
        }
        self.groups
            .add(&spec, ev, env)
            .map_err(|GroupError::NoTime| Rejected::NoTime)?;
        self.max_time = self.max_time.max(t);
        // Windows that end at or before the watermark are complete.
        let closed = ((self.max_time - lateness) / every).floor() as i64;
        if closed <= self.emitted_before {
            return Ok(Vec::new());
        }
        self.emitted_before = closed;
        let done = self.groups.split_off_before(closed);
        Ok(done.finish(&spec))
    }

    /// The rows of everything still held, at the end of input.
    pub fn finish(&mut self) -> Vec<Value> {
        let spec = self.spec.clone();
        let no_groups = self.groups.is_empty();
        let mut rows = std::mem::take(&mut self.groups).finish(&spec);
        // A global aggregate over no events still has a result (`count` → 0).
        if no_groups && spec.keys.is_empty() && spec.every.is_none() && !spec.aggs.is_empty() {
            let results: Vec<Value> = spec.aggs.iter().map(|(f, _, _)| Acc::new(f).result()).collect();
            rows.push(row(&spec, None, Vec::new(), &results));
        }
        rows
    }
}
