//! Grouped aggregation shared by `count`, `stats`, `top` and `distinct`: group keys,
//! tumbling event-time windows, and per-group accumulators that merge in input order,
//! so a chunk's partial result can be computed on any thread.

use super::Emit;
use crate::agg::key::{is_json_text, write_canonical};
use crate::agg::table::{Layout, Table};
use crate::agg::{Acc, AggFn};
use crate::event::{Event, Fate, Needs, Reason, TimeField, set_path};
use crate::lang::Val;
use crate::lang::ast::{AggSpec, KeyName, KeySpec};
use crate::lang::{Env, Expr};
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
    every: Option<f64>,
    order: Order,
    time: TimeField,
    /// How the groups are stored; its limit is `--max-groups` or [`DEFAULT_MAX_GROUPS`].
    layout: Layout,
}

impl GroupSpec {
    pub(crate) fn new(
        stage: &'static str,
        keys: Vec<KeySpec>,
        aggs: &[AggSpec],
        every: Option<f64>,
        order: Order,
        time: TimeField,
        max_groups: Option<usize>,
    ) -> Result<GroupSpec, String> {
        let layout = Layout {
            aggs: aggs.len(),
            prefix: if every.is_some() { 8 } else { 0 },
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
            .collect::<Result<_, String>>()?;
        Ok(GroupSpec {
            stage,
            keys,
            aggs,
            every,
            order,
            time,
            layout,
        })
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
        if self.every.is_some() {
            self.time.needs(n);
        }
    }

    pub(crate) fn windowed(&self) -> bool {
        self.every.is_some()
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

/// Why an event could not be grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupError {
    NoTime,
}

impl Groups {
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub(crate) fn add(&mut self, spec: &GroupSpec, ev: &Event, env: &Env) -> Result<(), GroupError> {
        self.canon.clear();
        self.text.clear();
        if let Some(d) = spec.every {
            let t = spec.time.of(ev, env).ok_or(GroupError::NoTime)?;
            self.canon.extend_from_slice(&((t / d).floor() as i64).to_le_bytes());
        }
        write_key(&spec.keys, ev, env, &mut self.canon, &mut self.text);
        let l = &spec.layout;
        let new_accs = || spec.aggs.iter().map(|(f, _, _)| Acc::new(f));
        let Some(g) = self.table.find_or_insert(l, &self.canon, &self.text, new_accs) else {
            self.overflow = true;
            return Ok(());
        };
        for ((_, e, _), acc) in spec.aggs.iter().zip(self.table.accs_mut(l, g)) {
            match e {
                Some(e) => acc.add(&e.eval(ev, env)),
                None => acc.add(&Val::Null),
            }
        }
        Ok(())
    }

    /// The window number of group `g`, when the stage has windows.
    fn window(&self, spec: &GroupSpec, g: usize) -> Option<i64> {
        spec.every?;
        let bytes = self.table.canon(g).get(..8)?;
        Some(i64::from_le_bytes(bytes.try_into().ok()?))
    }

    /// Merges the groups of events that came later in input order.
    pub(crate) fn merge(&mut self, later: Groups, spec: &GroupSpec) {
        self.overflow |= later.overflow;
        self.overflow |= !self.table.merge(&spec.layout, later.table);
    }

    /// Removes and returns the groups of windows before `window`.
    pub(crate) fn split_off_before(&mut self, spec: &GroupSpec, window: i64) -> Groups {
        let before = |prefix: &[u8]| prefix.try_into().is_ok_and(|b| i64::from_le_bytes(b) < window);
        Groups {
            table: self.table.split_off(&spec.layout, before),
            ..Groups::default()
        }
    }

    /// The result rows, in the stage's order.
    #[cfg(test)]
    pub(crate) fn finish(self, spec: &Arc<GroupSpec>) -> Vec<Value> {
        self.into_rows(spec).collect()
    }

    /// The result rows, in the stage's order, built one at a time as they are taken.
    pub(crate) fn into_rows(mut self, spec: &Arc<GroupSpec>) -> Rows {
        // The index is not needed any more: free it before the rows are built.
        self.table.drop_index();
        let order = self.order(spec).into_iter();
        Rows {
            groups: self,
            spec: Arc::clone(spec),
            order,
            extra: None,
        }
    }

    /// Group numbers in output order: windows in time order; within a window the stage's order
    /// (stable sorts keep first-seen ties), cut to `top`'s limit.
    fn order(&self, spec: &GroupSpec) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        let window = |g: u32| self.window(spec, g as usize);
        let Order::Desc { limit } = spec.order else {
            if spec.every.is_some() {
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
}

/// The result rows of groups, in output order, each built when it is taken.
#[derive(Debug)]
pub(crate) struct Rows {
    groups: Groups,
    spec: Arc<GroupSpec>,
    order: std::vec::IntoIter<u32>,
    /// A row after the groups' (the result of a global aggregate over no events).
    extra: Option<Value>,
}

impl Iterator for Rows {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        match self.order.next() {
            Some(g) => Some(self.groups.row(&self.spec, g as usize)),
            None => self.extra.take(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.order.len() + usize::from(self.extra.is_some());
        (n, Some(n))
    }
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
    text.split(|&b| b == SEP)
        .map(|t| {
            // The text was written as JSON by `Val::write_json`; as a last resort keep it as text.
            serde_json::from_slice(t).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(t).into_owned()))
        })
        .collect()
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
    if let (Some(w), Some(d)) = (window, spec.every) {
        let start = w as f64 * d;
        insert(&mut out, "window_start".into(), crate::time::rfc3339(start).into());
        insert(&mut out, "window_end".into(), crate::time::rfc3339(start + d).into());
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    NoTime,
    Late,
}

impl GroupStage {
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

    /// Aggregates the event; in streaming mode, hands on the rows of windows the watermark closed.
    pub(crate) fn push(&mut self, ev: Event, out: &mut Emit) {
        match self.add(&ev, out.env()) {
            Ok(rows) => {
                out.record(&ev, Fate::Aggregated);
                rows.into_iter().for_each(|row| out.push_row(row));
            }
            Err(Rejected::NoTime) => out.dead(&ev, Reason::NoTime),
            Err(Rejected::Late) => out.dead(&ev, Reason::Late),
        }
    }

    /// Hands on the rows of everything still held, at the end of input.
    pub(crate) fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        self.rows().try_for_each(|row| {
            out.push_row(row);
            out.go_on()
        })
    }

    /// Adds an event; in streaming mode, returns the rows of windows the watermark closed.
    fn add(&mut self, ev: &Event, env: &Env) -> Result<Vec<Value>, Rejected> {
        let spec = self.spec.clone();
        let (Some(lateness), Some(every)) = (self.lateness, spec.every) else {
            return self
                .groups
                .add(&spec, ev, env)
                .map(|()| Vec::new())
                .map_err(|GroupError::NoTime| Rejected::NoTime);
        };
        let t = spec.time.of(ev, env).ok_or(Rejected::NoTime)?;
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
        let done = self.groups.split_off_before(&spec, closed);
        Ok(done.into_rows(&spec).collect())
    }

    /// The rows of everything still held, at the end of input, built one at a time as they
    /// are taken: only the groups' compact form and one row are held at once.
    pub(crate) fn rows(&mut self) -> Rows {
        let spec = self.spec.clone();
        let no_groups = self.groups.is_empty();
        let mut rows = std::mem::take(&mut self.groups).into_rows(&spec);
        // A global aggregate over no events still has a result (`count` → 0).
        if no_groups && spec.keys.is_empty() && spec.every.is_none() && !spec.aggs.is_empty() {
            let results: Vec<Value> = spec.aggs.iter().map(|(f, _, _)| Acc::new(f).result()).collect();
            rows.extra = Some(row(&spec, None, &[], &results));
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Meta;
    use crate::stage::{Stage, StageOptions};

    fn stage(pipeline: &str, max_groups: Option<usize>) -> GroupStage {
        let asts = crate::lang::parser::parse_pipeline(pipeline).expect("a valid pipeline");
        let opts = StageOptions {
            max_groups,
            ..StageOptions::default()
        };
        match Stage::build(&asts[0], &opts).expect("builds") {
            Stage::Group(g) => g,
            other => panic!("{pipeline}: not a grouping stage: {}", other.name()),
        }
    }

    fn add(g: &mut Groups, spec: &GroupSpec, json: &str) {
        let needs = Needs {
            whole: true,
            ..Needs::default()
        };
        let ev = Event::parse(json, Meta::default(), &needs).expect("valid JSON");
        g.add(spec, &ev, &Env::default()).expect("no window");
    }

    #[test]
    fn a_one_key_count_group_takes_under_a_hundred_bytes() {
        let s = stage("count by k", None);
        let mut g = Groups::default();
        let n = 200_000;
        for i in 0..n {
            add(&mut g, &s.spec, &format!("{{\"k\":\"user-{i}\"}}"));
        }
        assert_eq!(g.len(), n);
        assert!(std::mem::size_of::<Acc>() <= 32, "{}", std::mem::size_of::<Acc>());
        // Vectors grow by doubling, so up to half of the capacity may be unused.
        let per_group = g.table.heap_bytes() / n;
        assert!(per_group <= 100, "{per_group} bytes per group");
    }

    #[test]
    fn numbers_group_by_value_and_print_the_first_seen_text() {
        let s = stage("count by k", None);
        let mut g = Groups::default();
        for k in [
            "1.0",
            "1",
            "1E0",
            "\"1\"",
            "10e-1",
            "9007199254740993",
            "9007199254740992",
            "2",
        ] {
            add(&mut g, &s.spec, &format!("{{\"k\":{k}}}"));
        }
        let rows: Vec<String> = g.finish(&s.spec).iter().map(Value::to_string).collect();
        assert_eq!(
            rows,
            [
                r#"{"k":1.0,"count":4}"#,
                r#"{"k":"1","count":1}"#,
                r#"{"k":9007199254740993,"count":1}"#,
                r#"{"k":9007199254740992,"count":1}"#,
                r#"{"k":2,"count":1}"#,
            ]
        );
    }

    #[test]
    fn merging_in_any_split_gives_the_same_rows() {
        let s = stage("top 3 k by sum(v)", None);
        let events: Vec<String> = (0..60)
            .map(|i| format!("{{\"k\":{},\"v\":{}}}", ["1", "1.0", "2", "2e0", "3", "4.5"][i % 6], i))
            .collect();
        let mut one = Groups::default();
        events.iter().for_each(|e| add(&mut one, &s.spec, e));
        let want = one.finish(&s.spec);
        for cut in [1, 7, 30, 59] {
            let (mut a, mut b) = (Groups::default(), Groups::default());
            events[..cut].iter().for_each(|e| add(&mut a, &s.spec, e));
            events[cut..].iter().for_each(|e| add(&mut b, &s.spec, e));
            a.merge(b, &s.spec);
            assert_eq!(a.finish(&s.spec), want, "cut at {cut}");
        }
    }

    #[test]
    fn past_max_groups_later_groups_are_refused_and_flagged() {
        let s = stage("stats sum(v) by k", Some(2));
        let (mut a, mut b) = (Groups::default(), Groups::default());
        for e in [r#"{"k":1,"v":1}"#, r#"{"k":2,"v":2}"#] {
            add(&mut a, &s.spec, e);
        }
        for e in [r#"{"k":3,"v":3}"#, r#"{"k":1.0,"v":10}"#] {
            add(&mut b, &s.spec, e);
        }
        a.merge(b, &s.spec);
        assert!(a.overflow);
        let rows: Vec<String> = a.finish(&s.spec).iter().map(Value::to_string).collect();
        // Group 3's sum is dropped, not given to the groups after it.
        assert_eq!(rows, [r#"{"k":1,"sum_v":11}"#, r#"{"k":2,"sum_v":2}"#]);
    }

    /// The grouping stage of `pipeline`, built with `--lateness` and `--time-field` as given.
    fn stage_with(pipeline: &str, lateness: Option<f64>, time: Option<&str>) -> GroupStage {
        let asts = crate::lang::parser::parse_pipeline(pipeline).expect("a valid pipeline");
        let time = time.map(|t| match crate::lang::parse_expr(t) {
            Ok(Expr::Path(p)) => p,
            other => panic!("{t}: not a path: {other:?}"),
        });
        let opts = StageOptions {
            lateness,
            time,
            ..StageOptions::default()
        };
        match Stage::build(&asts[0], &opts).expect("builds") {
            Stage::Group(g) => g,
            other => panic!("{pipeline}: not a grouping stage: {}", other.name()),
        }
    }

    fn event(json: &str) -> Event<'_> {
        let needs = Needs {
            whole: true,
            ..Needs::default()
        };
        Event::parse(json, Meta::default(), &needs).expect("valid JSON")
    }

    fn texts(rows: impl IntoIterator<Item = Value>) -> Vec<String> {
        rows.into_iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn event_time_is_the_first_default_field_present_or_the_one_named() {
        let s = stage_with("count every 1m", None, None);
        let env = Env::default();
        let of = |json: &str| s.spec.time.of(&event(json), &env);
        assert_eq!(of(r#"{"time":60,"ts":120}"#), Some(120.0));
        assert_eq!(of(r#"{"@timestamp":"1970-01-01T00:01:00Z"}"#), Some(60.0));
        assert_eq!(of(r#"{"timestamp":1700000000000}"#), Some(1_700_000_000.0));
        // The first field the event has decides, even when it does not parse.
        assert_eq!(of(r#"{"ts":"soon","time":60}"#), None);
        assert_eq!(of(r#"{"at":60}"#), None);
        let named = stage_with("count every 1m", None, Some("meta.at"));
        assert_eq!(
            named.spec.time.of(&event(r#"{"ts":1,"meta":{"at":90}}"#), &env),
            Some(90.0)
        );
        assert_eq!(named.spec.time.of(&event(r#"{"ts":1}"#), &env), None);
    }

    #[test]
    fn event_time_in_the_time_format_of_the_env_is_read() {
        let s = stage_with("count every 1m", None, None);
        let ev = event(r#"{"ts":"28.11.2026 10:00"}"#);
        assert_eq!(s.spec.time.of(&ev, &Env::default()), None);
        let env = Env {
            time_format: Some("%d.%m.%Y %H:%M".into()),
            ..Env::default()
        };
        assert_eq!(s.spec.time.of(&ev, &env), Some(1_795_860_000.0));
        assert_eq!(s.spec.time.value(&ev, &env), Some(Value::from("28.11.2026 10:00")));
        assert_eq!(s.spec.time.value(&ev, &Env::default()), None);
    }

    #[test]
    fn count_orders_by_count_with_ties_first_seen_in_any_split() {
        let s = stage("count by k", None);
        let keys = ["b", "a", "c", "a", "d", "c", "b", "e"];
        let events: Vec<String> = keys.iter().map(|k| format!("{{\"k\":\"{k}\"}}")).collect();
        let want = [
            r#"{"k":"b","count":2}"#,
            r#"{"k":"a","count":2}"#,
            r#"{"k":"c","count":2}"#,
            r#"{"k":"d","count":1}"#,
            r#"{"k":"e","count":1}"#,
        ];
        for cut in 0..=events.len() {
            let (mut a, mut b) = (Groups::default(), Groups::default());
            events[..cut].iter().for_each(|e| add(&mut a, &s.spec, e));
            events[cut..].iter().for_each(|e| add(&mut b, &s.spec, e));
            a.merge(b, &s.spec);
            assert_eq!(texts(a.finish(&s.spec)), want, "cut at {cut}");
        }
    }

    #[test]
    fn a_global_count_of_nothing_is_zero_but_a_grouped_one_is_empty() {
        assert_eq!(texts(stage("count", None).rows()), [r#"{"count":0}"#]);
        assert!(texts(stage("count by k", None).rows()).is_empty());
        assert!(texts(stage("count every 1m", None).rows()).is_empty());
    }

    #[test]
    fn windows_without_lateness_are_all_emitted_at_the_end_in_time_order() {
        let mut s = stage_with("count by k every 1m", None, None);
        let env = Env::default();
        for e in [
            r#"{"ts":130,"k":"a"}"#,
            r#"{"ts":10,"k":"a"}"#,
            r#"{"ts":50,"k":"b"}"#,
            r#"{"ts":20,"k":"b"}"#,
        ] {
            assert_eq!(s.add(&event(e), &env), Ok(Vec::new()), "{e}");
        }
        assert_eq!(s.add(&event(r#"{"k":"a"}"#), &env), Err(Rejected::NoTime));
        assert_eq!(
            texts(s.rows()),
            [
                r#"{"window_start":"1970-01-01T00:00:00Z","window_end":"1970-01-01T00:01:00Z","k":"b","count":2}"#,
                r#"{"window_start":"1970-01-01T00:00:00Z","window_end":"1970-01-01T00:01:00Z","k":"a","count":1}"#,
                r#"{"window_start":"1970-01-01T00:02:00Z","window_end":"1970-01-01T00:03:00Z","k":"a","count":1}"#,
            ]
        );
    }

    #[test]
    fn with_lateness_a_window_is_emitted_once_the_watermark_passes_it_and_older_events_are_late() {
        let mut s = stage_with("count every 1m", Some(10.0), None);
        assert!(s.streaming());
        let env = Env::default();
        let mut add = |json: &str| s.add(&event(json), &env).map(texts);
        assert_eq!(add(r#"{"ts":5}"#), Ok(vec![]));
        assert_eq!(
            add(r#"{"ts":65}"#),
            Ok(vec![]),
            "the watermark 55 is inside the first window"
        );
        assert_eq!(add(r#"{"ts":50}"#), Ok(vec![]), "within the lateness");
        assert_eq!(
            add(r#"{"ts":70}"#),
            Ok(vec![
                r#"{"window_start":"1970-01-01T00:00:00Z","window_end":"1970-01-01T00:01:00Z","count":2}"#.to_string()
            ])
        );
        assert_eq!(add(r#"{"ts":59}"#), Err(Rejected::Late));
        assert_eq!(add(r#"{"ts":"never"}"#), Err(Rejected::NoTime));
        assert_eq!(add(r#"{"ts":61}"#), Ok(vec![]));
        assert_eq!(
            texts(s.rows()),
            [r#"{"window_start":"1970-01-01T00:01:00Z","window_end":"1970-01-01T00:02:00Z","count":3}"#]
        );
    }

    #[test]
    fn lateness_without_windows_does_not_stream() {
        assert!(!stage_with("count by k", Some(10.0), None).streaming());
    }

    #[test]
    fn without_max_groups_the_default_limit_applies() {
        assert_eq!(stage("count by k", None).spec.layout.limit, DEFAULT_MAX_GROUPS);
        assert_eq!(stage("count by k", Some(5)).spec.layout.limit, 5);
    }
}
