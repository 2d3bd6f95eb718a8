//! Grouped aggregation shared by `count`, `stats`, `top` and `distinct`: group keys,
//! tumbling and sliding event-time windows ([`window`]), and per-group accumulators that merge
//! in input order, so a chunk's partial result can be computed on any thread.
//!
//! Groups are kept per slot of time: per window, or, for sliding windows whose aggregates
//! merge, per pane (the slide-long pieces windows are made of), combined into windows as they
//! are emitted ([`panes`]), so an event is aggregated once rather than once per window.

mod panes;
mod window;

pub(crate) use window::Windows;

use super::{Describe, Emit, Ordered, Partial, PartialSpec, StageError};
use crate::agg::key::{is_json_text, write_canonical};
use crate::agg::table::{Layout, Table};
use crate::agg::{Acc, AggFn};
use crate::event::{Event, Fate, Needs, Origin, Reason, Rejection, TimeField, set_path};
use crate::json;
use crate::lang::Val;
use crate::lang::ast::{AggSpec, KeyName, KeySpec, Seg};
use crate::lang::{Env, Expr};
use panes::Panes;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::ops::ControlFlow;
use std::sync::Arc;

/// How the groups are ordered in the output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Order {
    /// First seen first (`stats`, `distinct`).
    FirstSeen,
    /// By the first aggregate, highest first; ties in first-seen order (`count`, `top`).
    Desc { limit: Option<u64> },
}

/// The groups a stage holds at most without `--max-groups`: at about 70 bytes per one-key
/// `count` group (more with longer keys or more aggregates) that is under a gigabyte, and it
/// turns a runaway key (a timestamp or an id by mistake) into a clear error, not an exhausted
/// machine.
pub(crate) const DEFAULT_MAX_GROUPS: usize = 10_000_000;

/// What a grouping stage computes; shared by every thread.
#[derive(Debug)]
pub(crate) struct GroupSpec {
    pub stage: &'static str,
    keys: Vec<KeySpec>,
    aggs: Vec<(AggFn, Option<Expr>, String)>,
    windows: Option<Windows>,
    /// Groups are kept per pane and combined into sliding windows when they are emitted.
    combine: bool,
    order: Order,
    time: TimeField,
    /// How the groups are stored; its limit is `--max-groups` or [`DEFAULT_MAX_GROUPS`].
    layout: Layout,
    /// The names of the rows' fields, when rows are written as text straight from the groups.
    pieces: Option<RowPieces>,
}

impl GroupSpec {
    pub(crate) fn new(
        stage: &'static str,
        keys: Vec<KeySpec>,
        aggs: &[AggSpec],
        windows: Option<Windows>,
        order: Order,
        time: TimeField,
        max_groups: Option<usize>,
    ) -> Result<GroupSpec, String> {
        let layout = Layout {
            aggs: aggs.len(),
            prefix: if windows.is_some() { 8 } else { 0 },
            limit: max_groups.unwrap_or(DEFAULT_MAX_GROUPS),
        };
        let aggs = aggs
            .iter()
            .map(|a| {
                let f = match a.q {
                    Some(q) => Some(AggFn::Percentile(q)),
                    None if a.func == "count" && a.arg.is_some() => Some(AggFn::CountWhere),
                    None => AggFn::from_name(&a.func),
                };
                let f = f.ok_or_else(|| format!("unknown aggregate `{}`", a.func))?;
                Ok((f, a.arg.clone(), a.name.clone()))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let sliding = windows.is_some_and(|w| w.per_window > 1);
        Ok(GroupSpec {
            stage,
            pieces: RowPieces::of(&keys, &aggs, windows.is_some()),
            keys,
            combine: sliding && aggs.iter().all(|(f, _, _)| f.merges_in_any_order()),
            aggs,
            windows,
            order,
            time,
            layout,
        })
    }

    /// For each key that is a field: the name of its row's field and the event's field it
    /// holds (`level` and `level` for `by level`, `lvl` and `level` for `by level as lvl`).
    pub(crate) fn key_fields(&self) -> impl Iterator<Item = (&str, &crate::lang::Path)> {
        self.keys.iter().filter_map(|k| {
            let Expr::Path(source) = &k.expr else { return None };
            let name = match &k.name {
                KeyName::Named(n) => n.as_str(),
                KeyName::Path(p) => match p.segs.as_slice() {
                    [Seg::Key(name)] => &**name,
                    _ => return None,
                },
            };
            Some((name, source))
        })
    }

    /// The names of the results that are numbers (or null): counts, sums, means, spreads and
    /// quantiles.
    pub(crate) fn numeric_results(&self) -> impl Iterator<Item = &str> {
        self.aggs.iter().filter_map(|(f, _, name)| {
            let number = matches!(
                f,
                AggFn::Count
                    | AggFn::CountWhere
                    | AggFn::Sum
                    | AggFn::Avg
                    | AggFn::Stddev
                    | AggFn::Var
                    | AggFn::Distinct
                    | AggFn::Percentile(_)
            );
            number.then_some(name.as_str())
        })
    }

    /// The fields the numeric aggregates read (`sum(n)`), with each function's name and
    /// the aggregate's output name.
    pub(crate) fn numeric_args(&self) -> impl Iterator<Item = (String, &crate::lang::Path, &str)> {
        self.aggs.iter().filter_map(|(f, arg, name)| match arg {
            Some(Expr::Path(p)) if f.is_numeric() && !p.segs.is_empty() => Some((f.name(), p, name.as_str())),
            _ => None,
        })
    }

    /// The fields `min` and `max` order, with each one's name.
    pub(crate) fn ordered_fields(&self) -> impl Iterator<Item = (&'static str, &crate::lang::Path)> {
        self.aggs.iter().filter_map(|(f, arg, _)| match (f, arg) {
            (AggFn::Min, Some(Expr::Path(p))) => Some(("min", p)),
            (AggFn::Max, Some(Expr::Path(p))) => Some(("max", p)),
            _ => None,
        })
    }

    /// The arguments of `count(EXPR)`, which counts where EXPR is neither null nor false.
    pub(crate) fn counted(&self) -> impl Iterator<Item = &Expr> {
        let counts = self
            .aggs
            .iter()
            .filter(|(f, _, _)| matches!(f, AggFn::Count | AggFn::CountWhere));
        counts.filter_map(|(_, arg, _)| arg.as_ref())
    }

    /// The keys' expressions and the aggregates' arguments.
    pub(crate) fn expressions(&self) -> impl Iterator<Item = &Expr> {
        let args = self.aggs.iter().filter_map(|(_, arg, _)| arg.as_ref());
        self.keys.iter().map(|k| &k.expr).chain(args)
    }

    pub(crate) fn needs(&self, n: &mut Needs) {
        for k in &self.keys {
            k.expr.visit_paths(&mut |p| n.add_path(p));
        }
        for (_, e, _) in &self.aggs {
            if let Some(e) = e {
                e.visit_paths(&mut |p| n.add_path(p));
            }
        }
        if self.windows.is_some() {
            self.time.needs(n);
        }
    }

    pub(crate) fn windowed(&self) -> bool {
        self.windows.is_some()
    }
}

/// Separates the keys of one group in its key bytes: JSON text never holds a raw 0x1e.
pub(super) const SEP: u8 = 0x1e;

/// Groups in first-seen order with their accumulators, stored compactly (see
/// [`crate::agg::table`]). A group's canonical key is its window number (8 bytes, when
/// windowed) then its keys' canonical bytes ([`crate::agg::key`]) separated by [`SEP`]; its text
/// is the keys' compact JSON as first seen, so `1.0` after `1` joins group `1` and prints `1`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Groups {
    table: Table,
    canon: Vec<u8>,
    text: Vec<u8>,
    /// Set once the number of groups went past `--max-groups`.
    pub overflow: bool,
}

/// Why an event could not be grouped: a dead letter with reason `no_time` either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GroupError {
    /// It has no time: why, as [`TimeField::no_time`] says.
    NoTime(Rejection),
    /// A time whose window would start before 0000 or end after 9999.
    PastWritableTimes,
}

impl From<GroupError> for Rejection {
    fn from(e: GroupError) -> Rejection {
        match e {
            GroupError::NoTime(why) => why,
            GroupError::PastWritableTimes => Rejection::new(
                Reason::NoTime,
                "the event's window would start before 0000-01-01 or end after 9999-12-31, which evq cannot write",
            ),
        }
    }
}

impl Groups {
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub(crate) fn add(&mut self, spec: &GroupSpec, ev: &Event, env: &Env) -> Result<(), GroupError> {
        self.add_from(spec, ev, env, i64::MIN)
    }

    /// Adds an event to its group in each of its slots (its pane, or the windows that hold it)
    /// from slot `open` on: the windows before `open` were emitted.
    pub(crate) fn add_from(&mut self, spec: &GroupSpec, ev: &Event, env: &Env, open: i64) -> Result<(), GroupError> {
        self.canon.clear();
        self.text.clear();
        let slots = match &spec.windows {
            Some(w) => {
                let t = spec
                    .time
                    .of(ev, env)
                    .ok_or_else(|| GroupError::NoTime(spec.time.no_time(ev, env, "")))?;
                let p = w.writable_pane(t).ok_or(GroupError::PastWritableTimes)?;
                let first = if spec.combine { p } else { w.first_window(p).max(open) };
                self.canon.extend_from_slice(&first.to_le_bytes());
                first..=p
            }
            None => 0..=0,
        };
        write_key(&spec.keys, ev, env, &mut self.canon, &mut self.text);
        for slot in slots {
            if spec.windows.is_some() {
                self.canon[..8].copy_from_slice(&slot.to_le_bytes());
            }
            self.add_to_group(spec, ev, env);
        }
        Ok(())
    }

    /// Adds an event to the group of the key in `self.canon` and `self.text`.
    fn add_to_group(&mut self, spec: &GroupSpec, ev: &Event, env: &Env) {
        let l = &spec.layout;
        let new_accs = || spec.aggs.iter().map(|(f, _, _)| Acc::new(f));
        let Some(g) = self.table.find_or_insert(l, &self.canon, &self.text, new_accs) else {
            self.overflow = true;
            return;
        };
        for ((_, e, _), acc) in spec.aggs.iter().zip(self.table.accs_mut(l, g)) {
            match e {
                Some(e) => acc.add(&e.eval(ev, env)),
                None => acc.add(&Val::Null),
            }
        }
    }

    /// The slot (window or pane number) of group `g`, when the stage has windows.
    fn window(&self, spec: &GroupSpec, g: usize) -> Option<i64> {
        spec.windows?;
        let bytes = self.table.canon(g).get(..8)?;
        Some(i64::from_le_bytes(bytes.try_into().ok()?))
    }

    /// Merges the groups of events that came later in input order.
    pub(crate) fn merge(&mut self, later: Groups, spec: &GroupSpec) {
        self.overflow |= later.overflow;
        self.overflow |= !self.table.merge(&spec.layout, later.table);
    }

    /// Removes and returns the groups of slots before `slot`.
    pub(crate) fn split_off_before(&mut self, spec: &GroupSpec, slot: i64) -> Groups {
        Groups {
            table: self.table.split_off(&spec.layout, |prefix| slot_of(prefix) < slot),
            ..Groups::default()
        }
    }

    /// A copy of the groups of slots before `slot`.
    fn copy_before(&self, spec: &GroupSpec, slot: i64) -> Groups {
        Groups {
            table: self.table.copy_where(&spec.layout, |prefix| slot_of(prefix) < slot),
            ..Groups::default()
        }
    }

    /// The result rows, in the stage's order.
    #[cfg(test)]
    pub(crate) fn finish(self, spec: &Arc<GroupSpec>) -> Vec<Value> {
        self.into_rows(spec).collect()
    }

    /// The result rows, in the stage's order, built one at a time as they are taken.
    pub(crate) fn into_rows(self, spec: &Arc<GroupSpec>) -> Rows {
        self.into_rows_from(spec, i64::MIN)
    }

    /// The result rows of the windows from `from` on (those before were emitted).
    fn into_rows_from(mut self, spec: &Arc<GroupSpec>, from: i64) -> Rows {
        // The index is not needed any more: free it before the rows are built.
        self.table.drop_index();
        if spec.combine {
            return Rows::of_panes(self, spec, from, i64::MAX);
        }
        let order = self.order(spec).into_iter();
        Rows {
            groups: self,
            spec: Arc::clone(spec),
            order,
            extra: None,
            panes: None,
        }
    }

    /// Group numbers in output order: windows in time order; within a window the stage's order
    /// (stable sorts keep first-seen ties), cut to `top`'s limit.
    fn order(&self, spec: &GroupSpec) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        let window = |g: u32| self.window(spec, g as usize);
        let Order::Desc { limit } = spec.order else {
            if spec.windows.is_some() {
                order.sort_by_key(|&g| window(g));
            }
            return order;
        };
        let rank = Rank::of(self, spec);
        order.sort_by(|&a, &b| window(a).cmp(&window(b)).then_with(|| rank.cmp(b, a)));
        if let Some(limit) = limit {
            let mut run = (None, 0u64);
            order.retain(|&g| {
                let w = window(g);
                run = if run.0 == w { (w, run.1 + 1) } else { (w, 1) };
                run.1 <= limit
            });
        }
        order
    }

    fn row(&self, spec: &GroupSpec, g: usize) -> Value {
        let l = &spec.layout;
        let results: Vec<Value> = self.table.accs(l, g).iter().map(Acc::result).collect();
        row(spec, self.window(spec, g), self.table.text(l, g), &results)
    }

    /// Writes group `g`'s row into `text` as the JSON text of the tree [`Groups::row`] builds,
    /// without building it, from the fields' names as `pieces` has them written.
    fn write_row(&self, spec: &GroupSpec, pieces: &RowPieces, g: usize, text: &mut String) {
        let l = &spec.layout;
        text.clear();
        text.push('{');
        let field = |text: &mut String, name: &str| {
            if text.len() > 1 {
                text.push(',');
            }
            text.push_str(name);
        };
        if let (Some(w), Some(win)) = (self.window(spec, g), spec.windows) {
            for (name, t) in [("\"window_start\":", win.start(w)), ("\"window_end\":", win.end(w))] {
                field(text, name);
                json::write_str(text, &crate::time::rfc3339_in(t, win.zone));
            }
        }
        let parts = self.table.text(l, g).split(|&b| b == SEP);
        for ((open, close), part) in pieces.keys.iter().zip(parts) {
            field(text, open);
            write_key_part(text, part);
            text.push_str(close);
        }
        for (name, acc) in pieces.aggs.iter().zip(self.table.accs(l, g)) {
            field(text, name);
            acc.write_result(text);
        }
        text.push('}');
    }
}

/// The names of a row's fields as JSON text, for a stage whose rows can be written as text
/// straight from its groups: every key is named by one name or a path of names, and the first
/// names of the keys, the aggregates' names and the window's are all different, so no field of
/// a row is set twice.
#[derive(Debug)]
struct RowPieces {
    /// Each key's text before its value (`"user":{"id":`) and after it (`}`).
    keys: Vec<(String, String)>,
    /// Each aggregate's name with its colon.
    aggs: Vec<String>,
}

impl RowPieces {
    fn of(keys: &[KeySpec], aggs: &[(AggFn, Option<Expr>, String)], windows: bool) -> Option<RowPieces> {
        let window = if windows {
            &["window_start", "window_end"][..]
        } else {
            &[]
        };
        let paths = keys.iter().map(|k| key_names(&k.name)).collect::<Option<Vec<_>>>()?;
        let mut names: Vec<&str> = window.to_vec();
        names.extend(paths.iter().filter_map(|p| p.first().copied()));
        names.extend(aggs.iter().map(|(_, _, name)| name.as_str()));
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        if names.len() != count {
            return None;
        }
        let named = |name: &str| {
            let mut text = String::new();
            json::write_str(&mut text, name);
            text.push(':');
            text
        };
        let keys = paths
            .iter()
            .map(|path| {
                let open: Vec<String> = path.iter().map(|name| named(name)).collect();
                (open.join("{"), "}".repeat(path.len() - 1))
            })
            .collect();
        let aggs = aggs.iter().map(|(_, _, name)| named(name)).collect();
        Some(RowPieces { keys, aggs })
    }
}

/// The names a key's field is set under in its row, one or a path's; `None` for a path with an
/// index or none at all.
fn key_names(name: &KeyName) -> Option<Vec<&str>> {
    match name {
        KeyName::Named(n) => Some(vec![n.as_str()]),
        KeyName::Path(p) if !p.segs.is_empty() => p
            .segs
            .iter()
            .map(|s| match s {
                Seg::Key(k) => Some(&**k),
                Seg::Index(_) => None,
            })
            .collect(),
        KeyName::Path(_) => None,
    }
}

/// The result rows of groups, in output order, each built when it is taken.
#[derive(Debug)]
pub(crate) struct Rows {
    groups: Groups,
    spec: Arc<GroupSpec>,
    order: std::vec::IntoIter<u32>,
    /// A row after the groups' (the result of a global aggregate over no events).
    extra: Option<Value>,
    /// The panes the windows after `groups` are combined from, one window at a time.
    panes: Option<Panes>,
}

impl Rows {
    /// The rows of windows `from .. to` combined from the pane groups `groups`.
    fn of_panes(groups: Groups, spec: &Arc<GroupSpec>, from: i64, to: i64) -> Rows {
        Rows {
            groups: Groups::default(),
            spec: Arc::clone(spec),
            order: Vec::new().into_iter(),
            extra: None,
            panes: Some(Panes::new(groups, spec, from, to)),
        }
    }
}

/// What comes next from [`Rows`]: a group, or a row built whole.
enum Next {
    Group(usize),
    Row(Value),
}

impl Rows {
    fn advance(&mut self) -> Option<Next> {
        loop {
            if let Some(g) = self.order.next() {
                return Some(Next::Group(g as usize));
            }
            match self.panes.as_mut().and_then(|p| p.next_window(&self.spec)) {
                Some(window) => {
                    self.order = window.order(&self.spec).into_iter();
                    self.groups = window;
                }
                None => return self.extra.take().map(Next::Row),
            }
        }
    }

    /// Hands on the next row, written as text with `text` as scratch space when the stage's
    /// rows are plain (no tree is built); false when there are no more.
    fn push_next(&mut self, out: &mut Emit, text: &mut String) -> bool {
        let (next, pieces) = (self.advance(), self.spec.pieces.as_ref());
        match (next, pieces) {
            (None, _) => return false,
            (Some(Next::Group(g)), Some(pieces)) => {
                self.groups.write_row(&self.spec, pieces, g, text);
                out.push_text(text, None, Origin::default(), None);
            }
            (Some(Next::Group(g)), None) => out.push_row(self.groups.row(&self.spec, g)),
            (Some(Next::Row(row)), _) => out.push_row(row),
        }
        true
    }

    /// Hands on every row, as [`Rows::push_next`] does, while the rest of the chain goes on.
    fn push_all(mut self, out: &mut Emit) -> ControlFlow<()> {
        let mut text = String::new();
        while self.push_next(out, &mut text) {
            out.go_on()?;
        }
        ControlFlow::Continue(())
    }
}

impl Iterator for Rows {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        match self.advance()? {
            Next::Group(g) => Some(self.groups.row(&self.spec, g)),
            Next::Row(row) => Some(row),
        }
    }
}

/// The slot a canonical key's prefix names (`i64::MAX` for no prefix).
fn slot_of(prefix: &[u8]) -> i64 {
    prefix.try_into().map_or(i64::MAX, i64::from_le_bytes)
}

/// Appends an event's values of `keys`: canonical bytes to `canon` (equal values, equal bytes:
/// `1`, `1.0` and `1E0` are one key) and their compact JSON to `text`, each separated by [`SEP`].
pub(crate) fn write_key(keys: &[KeySpec], ev: &Event, env: &Env, canon: &mut Vec<u8>, text: &mut Vec<u8>) {
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            canon.push(SEP);
            text.push(SEP);
        }
        let v = k.expr.eval(ev, env);
        let at = canon.len();
        // Writing to a Vec cannot fail.
        let _ = write_canonical(&v, canon);
        if is_json_text(&v) {
            text.extend_from_slice(&canon[at..]);
        } else {
            v.write_json(text);
        }
    }
}

/// Sets the values of `keys`, as [`write_key`] wrote them to `text`, in `row`: a key written as a
/// path keeps its shape (`user.country` gives `{"user":{"country":…}}`).
pub(crate) fn put_key(keys: &[KeySpec], text: &[u8], row: &mut Value) {
    for (k, v) in keys.iter().zip(parse_keys(text, keys.len())) {
        match &k.name {
            KeyName::Path(p) => set_path(row, &p.segs, v),
            KeyName::Named(n) => {
                if let Value::Object(obj) = row {
                    obj.insert(n.clone(), v);
                }
            }
        }
    }
}

/// The values of keys written as compact JSON separated by [`SEP`].
fn parse_keys(text: &[u8], n: usize) -> Vec<Value> {
    if n == 0 {
        return Vec::new();
    }
    text.split(|&b| b == SEP).map(parse_key).collect()
}

/// One key's value as [`write_key`] wrote it.
fn parse_key(text: &[u8]) -> Value {
    // The text was written as JSON by `Val::write_json`; as a last resort keep it as text.
    // Numbers keep their text (`1E5` stays `1E5`).
    let tree = std::str::from_utf8(text).ok().and_then(|t| json::checked_tree(t).ok());
    tree.unwrap_or_else(|| Value::String(String::from_utf8_lossy(text).into_owned()))
}

/// Writes one key's value, as [`write_key`] wrote it, as the tree [`parse_key`] makes of it is
/// written: valid JSON text without escapes or nesting as it is, which is the same.
fn write_key_part(text: &mut String, part: &[u8]) {
    match std::str::from_utf8(part) {
        Ok(t) if !t.starts_with(['{', '[']) && !t.contains('\\') && json::is_event(t) => text.push_str(t),
        _ => json::write_value(text, &parse_key(part)),
    }
}

/// What the groups of a `count` or `top` are ordered by: the first aggregate's result.
enum Rank {
    /// `count()` or `count(EXPR)`: compared as integers, without building results.
    Counts(Vec<u64>),
    Results(Vec<Value>),
}

impl Rank {
    fn of(groups: &Groups, spec: &GroupSpec) -> Rank {
        let first = |g: usize| groups.table.accs(&spec.layout, g).first();
        match spec.aggs.first() {
            Some((AggFn::Count | AggFn::CountWhere, _, _)) => Rank::Counts(
                (0..groups.len())
                    .map(|g| first(g).and_then(Acc::count).unwrap_or(0))
                    .collect(),
            ),
            _ => Rank::Results(
                (0..groups.len())
                    .map(|g| first(g).map_or(Value::Null, Acc::result))
                    .collect(),
            ),
        }
    }

    fn cmp(&self, a: u32, b: u32) -> Ordering {
        let (a, b) = (a as usize, b as usize);
        match self {
            Rank::Counts(c) => c[a].cmp(&c[b]),
            Rank::Results(r) => Val::from_value(&r[a]).sort_cmp(&Val::from_value(&r[b])),
        }
    }
}

fn row(spec: &GroupSpec, window: Option<i64>, key: &[u8], results: &[Value]) -> Value {
    let mut out = Value::Object(Map::new());
    let insert = |out: &mut Value, k: String, v: Value| {
        if let Value::Object(obj) = out {
            obj.insert(k, v);
        }
    };
    if let (Some(w), Some(win)) = (window, spec.windows) {
        let at = |t: f64| Value::from(crate::time::rfc3339_in(t, win.zone));
        insert(&mut out, "window_start".into(), at(win.start(w)));
        insert(&mut out, "window_end".into(), at(win.end(w)));
    }
    put_key(&spec.keys, key, &mut out);
    for ((_, _, name), r) in spec.aggs.iter().zip(results) {
        insert(&mut out, name.clone(), r.clone());
    }
    out
}

/// A grouping stage in the ordered part of a pipeline, or the merge point of the
/// partial results computed on the workers. With `--lateness`, windows are emitted
/// as soon as the watermark (largest event time seen minus the lateness) passes
/// their end, and events for windows already emitted are late.
#[derive(Debug, Clone)]
pub(crate) struct GroupStage {
    pub spec: Arc<GroupSpec>,
    pub groups: Groups,
    lateness: Option<f64>,
    max_time: f64,
    /// Windows with a smaller index have been emitted.
    emitted_before: i64,
}

/// Why an event was not added to a streaming window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rejected {
    Ungrouped(GroupError),
    Late,
}

impl GroupStage {
    /// The error of a stage whose groups went past `--max-groups`.
    fn too_many(&self) -> StageError {
        StageError::too_many(self.spec.stage, self.spec.layout.limit, "groups")
    }

    pub(crate) fn new(spec: GroupSpec, lateness: Option<f64>) -> GroupStage {
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
    pub(crate) fn streaming(&self) -> bool {
        self.lateness.is_some()
    }

    /// Adds an event; in streaming mode, returns the rows of windows the watermark closed.
    /// An event is late when every window that holds it was emitted; otherwise it counts in
    /// those still open.
    fn add(&mut self, ev: &Event, env: &Env) -> Result<Vec<Value>, Rejected> {
        let spec = self.spec.clone();
        let (Some(lateness), Some(win)) = (self.lateness, spec.windows) else {
            return self
                .groups
                .add(&spec, ev, env)
                .map(|()| Vec::new())
                .map_err(Rejected::Ungrouped);
        };
        let t = spec
            .time
            .of(ev, env)
            .ok_or_else(|| Rejected::Ungrouped(GroupError::NoTime(spec.time.no_time(ev, env, ""))))?;
        if win.pane(t) < self.emitted_before {
            return Err(Rejected::Late);
        }
        // An event that cannot be added moves no watermark: it must not close windows
        // whose rows would then go nowhere.
        win.writable_pane(t)
            .ok_or(Rejected::Ungrouped(GroupError::PastWritableTimes))?;
        // Windows that end at or before the watermark are complete; they never hold this
        // event, and go before it is added, so that its group is counted against
        // `--max-groups` among the groups still held only.
        self.max_time = self.max_time.max(t);
        let closed = win.first_window(win.pane(self.max_time - lateness));
        let rows = match closed > self.emitted_before {
            true => self.close(&spec, closed).collect(),
            false => Vec::new(),
        };
        self.groups
            .add_from(&spec, ev, env, self.emitted_before)
            .map_err(Rejected::Ungrouped)?;
        Ok(rows)
    }

    /// Takes out the windows before `closed`, as rows: with panes, a copy of the panes they
    /// need, as the windows after them share some.
    fn close(&mut self, spec: &Arc<GroupSpec>, closed: i64) -> Rows {
        let from = std::mem::replace(&mut self.emitted_before, closed);
        if !spec.combine {
            return self.groups.split_off_before(spec, closed).into_rows(spec);
        }
        // One copy in input order, so the windows' groups keep their first-seen order.
        let k = spec.windows.map_or(1, |w| w.per_window);
        let panes = self.groups.copy_before(spec, closed.saturating_add(k - 1));
        drop(self.groups.split_off_before(spec, closed));
        Rows::of_panes(panes, spec, from, closed)
    }

    /// The rows of everything still held, at the end of input, built one at a time as they
    /// are taken: only the groups' compact form and one row (or one window) are held at once.
    pub(crate) fn rows(&mut self) -> Rows {
        let spec = self.spec.clone();
        let no_groups = self.groups.is_empty();
        let mut rows = std::mem::take(&mut self.groups).into_rows_from(&spec, self.emitted_before);
        // A global aggregate over no events still has a result (`count` → 0).
        if no_groups && spec.keys.is_empty() && spec.windows.is_none() && !spec.aggs.is_empty() {
            let results: Vec<Value> = spec.aggs.iter().map(|(f, _, _)| Acc::new(f).result()).collect();
            rows.extra = Some(row(&spec, None, &[], &results));
        }
        rows
    }
}

impl Describe for GroupStage {
    fn expressions(&self) -> Vec<&Expr> {
        self.spec.expressions().collect()
    }

    fn name(&self) -> &'static str {
        self.spec.stage
    }

    fn needs(&self, n: &mut Needs) {
        self.spec.needs(n);
    }

    fn counts(&self) -> Option<&'static str> {
        Some(match (self.spec.windows, self.lateness) {
            (None, _) => "every event: aggregated",
            (Some(_), None) => "every event: aggregated; no time: dead letter (no_time)",
            (Some(_), Some(_)) => {
                "every event: aggregated; no time: dead letter (no_time); past --lateness: dead letter (late)"
            }
        })
    }
}

impl Ordered for GroupStage {
    /// Aggregates the event; in streaming mode, hands on the rows of windows the watermark closed.
    /// An event whose group would go past `--max-groups` fails the stage.
    fn push(&mut self, ev: Event, out: &mut Emit) {
        match self.add(&ev, out.env()) {
            Ok(rows) => {
                // The windows the event closed are complete, also when its own group is one too many.
                for row in rows {
                    out.push_row(row);
                }
                if self.groups.overflow {
                    out.fail(self.too_many());
                    out.record(&ev, Fate::Skipped);
                } else {
                    out.record(&ev, Fate::Aggregated);
                }
            }
            Err(Rejected::Ungrouped(e)) => out.dead(&ev, e),
            Err(Rejected::Late) => out.dead(
                &ev,
                Rejection::new(
                    Reason::Late,
                    "every window that holds it had closed: its end was behind the watermark, the latest event time minus --lateness",
                ),
            ),
        }
    }

    /// Hands on the rows of everything still held, at the end of input.
    fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        self.rows().push_all(out)
    }

    fn partial(&self) -> Option<PartialSpec> {
        (!self.streaming()).then(|| PartialSpec::Group(self.spec.clone()))
    }

    fn merge(&mut self, part: Partial) -> Result<(), StageError> {
        if let Partial::Groups(groups) = part {
            self.groups.merge(groups, &self.spec);
        }
        if self.groups.overflow {
            return Err(self.too_many());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
