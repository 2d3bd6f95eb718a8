//! Comparisons that could never hold on the data seen: `LogonType == 3` when `LogonType`
//! was a string in every event. Each `where` comparison of a field with a constant is
//! watched on the workers until some event has the field with the constant's type;
//! at the end, one warning with the fix for each that never had it. A comparison of two
//! fields (`a == b`, `a < b`) is watched until some event has both with one type; one
//! that never did, on the events that had both, is named with the conversion.
//!
//! `!=` and `not in` are watched the same way: with no event of the constant's type
//! they always held. Paths a stage needs of one type are watched the same way: with no
//! array at the path of `explode` it made no event, and with no number in the field of a
//! numeric aggregate (`sum(n)`, `p99(n)`) it ignored every value. Orderings of RFC 3339
//! times written as text (`ts > "…+02:00"`, or two time fields) are watched for two UTC
//! offsets, or fractions of a second, that differ, where text order is not time order.
//!
//! A function's first argument that is a field, and a field in arithmetic, are watched for
//! the type they read (`upper(code)` of a number, `s * 2` of a string, is always null).
//!
//! Comparisons, function arguments, arithmetic and regex matches of a field (`x =~ /1/`
//! never matches a number) are read in the conditions of `where`, `assert` and `route`, in
//! `set`'s expressions, in aggregates' keys and arguments and steps' arguments, in the first
//! condition of an `if` within one, and in lambdas, except for paths that read the lambda's
//! element: that is no field of the event. A constant where a condition goes (`level ==
//! "error" or "warn"`) and a comparison of two constants are named whatever the data.
//!
//! Cost: once every comparison has met its type (and every time ordering met two
//! offsets), one relaxed atomic load per event; until then, a lookup per comparison
//! and, for time orderings, a few byte checks on the string found.

mod cased;
mod contradiction;
mod rows;

pub(crate) use rows::aggregate_rows;

use crate::event::{Event, write_val};
use crate::flags::{Flags, MAX_FLAGS};
use crate::json;
use crate::lang::ast::{BinOp, Seg};
use crate::lang::func::Func;
use crate::lang::value::kind::{self, ARRAY, NULL, NUMBER, OBJECT, STRING};
use crate::lang::value::kind_names;
use crate::lang::{Env, Expr, Path, Val};
use crate::stage::Stage;
use std::fmt::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

/// `path OP value`, as the warning writes it.
#[derive(Debug)]
struct Comparison {
    path: Path,
    op: &'static str,
    value: Val<'static>,
    /// The types (`kind` bits) with which the comparison can hold (or, for `!=` and
    /// `not in`, can fail).
    want: u8,
}

/// `path OP other` where both sides may be RFC 3339 times compared as text.
#[derive(Debug)]
struct TimeComparison {
    path: Path,
    op: &'static str,
    other: Side,
}

/// A field that must have one of some types for what reads it to mean what was typed.
#[derive(Debug)]
enum Need {
    Comparison(Comparison),
    Stage(Expect),
}

/// A path a stage reads that must have one type to do anything: `explode`'s array, a numeric
/// aggregate's number.
#[derive(Debug)]
struct Expect {
    path: Path,
    want: u8,
    /// What the stage did without it: "explode items made no event".
    outcome: String,
    /// How to convert the field, when that can help: written only when the field had some of
    /// the types `converts` names and no others but null (`to_number(flag)` of a boolean, or
    /// `str(s)` of a field that was always null, would not help).
    fix: Option<String>,
    converts: u8,
}

/// `to_number(f)`, `int(f)`, `float(f)`, `time(f)` or `strptime(f, "FMT")`: a conversion of
/// a field, which is null for each value it cannot read.
#[derive(Debug)]
struct Conversion {
    path: Path,
    func: Func,
    /// The call, its other arguments constants, and as the warning writes it.
    call: Expr,
    written: String,
}

/// `a OP b` of two fields, which never holds (or, for `!=`, always does) on an event
/// where their types differ.
#[derive(Debug)]
struct PairComparison {
    a: Path,
    op: &'static str,
    b: Path,
}

#[derive(Debug)]
enum Side {
    /// A constant time: its text as written and its shape (see [`time_shape`]).
    Const(String, u32),
    Path(Path),
    /// The same field of other events, as `sort` orders them: the shape of the first time
    /// seen (0 until one is seen).
    Sorted(std::sync::atomic::AtomicU32),
}

/// The comparisons and stages watched, which met their types, and the types their fields had.
#[derive(Debug, Default)]
pub(crate) struct Mismatches {
    items: Vec<Need>,
    /// Bit `i` is set once an event had `items[i].path` with one of its types.
    met: Flags,
    /// The types (`kind` bits) `items[i].path` had, while it never met its type.
    kinds: Vec<AtomicU8>,
    times: Vec<TimeComparison>,
    /// Bit `i` is set once `times[i]` met two times written differently (see [`time_shape`]).
    differ: Flags,
    pairs: Vec<PairComparison>,
    /// Bit `i` is set once an event had both fields of `pairs[i]` with one type.
    matched: Flags,
    /// The types `pairs[i]`'s fields had on the events that had both, while they never matched.
    pair_kinds: Vec<[AtomicU8; 2]>,
    /// Comparisons that never hold whatever the data: their warnings.
    never: Vec<String>,
    /// Fields whose first value decides a warning; bit `i` of `decided` is set once an event
    /// had a value `firsts[i]` looks at, and `verdicts[i]` is its verdict (see
    /// [`FirstValue::verdict`]).
    firsts: Vec<FirstValue>,
    decided: Flags,
    verdicts: Vec<AtomicU8>,
    /// Bit `i` is set once `conversions[i]` read a value of its field; until then,
    /// `unread[i]` holds the first value it could not read.
    conversions: Vec<Conversion>,
    converted: Flags,
    unread: Vec<OnceLock<Unread>>,
    cased: cased::CaseWatch,
}

impl Mismatches {
    /// The comparisons of `where` stages among `stages` (the ones the workers see as read),
    /// and of `rows`, the stages that see the rows of an aggregate last in `stages`.
    pub(crate) fn new(stages: &[&Stage], rows: &[&Stage]) -> Mismatches {
        let mut all = Found::default();
        // Fields whose type an earlier `where` tested (`where type(x) == "string"`): the later
        // stages see only some of the events the checks see, so their fields are not checked.
        let mut guarded = Vec::new();
        let mut case_watch = cased::CaseWatch::default();
        // The conditions of the `where` stages in a row so far, all of which an event passes.
        let mut in_a_row: Vec<&Expr> = Vec::new();
        for s in stages {
            let mut found = Found::default();
            if !matches!(s, Stage::Where(_)) {
                in_a_row.clear();
            }
            match s {
                Stage::Where(w) => {
                    in_a_row.push(w.cond());
                    if let Some(never) = contradiction::never_together(&in_a_row) {
                        found.never.push(never);
                        in_a_row.clear();
                    }
                    found.never.extend(constant_condition(w.cond(), "where"));
                    found.condition_in(w.cond(), &[]);
                }
                Stage::Assert(a) => {
                    found.never.extend(constant_condition(a.check(), "assert"));
                    found.condition_in(a.check(), &[]);
                }
                Stage::Route(r) => r.conditions().for_each(|c| found.condition_in(c, &[])),
                Stage::Sort(s) => s.field_keys().for_each(|p| found.ordered(p, "sort")),
                Stage::Explode(e) => found.items.push(Need::Stage(Expect {
                    path: e.path().clone(),
                    want: ARRAY,
                    outcome: format!("explode {} made no event", e.path()),
                    fix: None,
                    converts: 0,
                })),
                Stage::Group(g) => {
                    g.spec.counted().for_each(|e| found.condition_in(e, &[]));
                    g.spec.ordered_fields().for_each(|(op, p)| found.ordered(p, op));
                    found.items.extend(g.spec.numeric_args().map(|(func, path, name)| {
                        Need::Stage(Expect {
                            outcome: format!("{func}({path}) ignored every value"),
                            fix: (func != "percentile").then(|| format!("{func}(to_number({path})) as {name}")),
                            converts: STRING,
                            path: path.clone(),
                            want: NUMBER,
                        })
                    }));
                }
                Stage::Step(s) => {
                    s.counted().for_each(|e| found.condition_in(e, &[]));
                    found.items.extend(s.numeric_args().map(|(func, path, fix)| {
                        Need::Stage(Expect {
                            outcome: format!("step {func}({path}) gave null for every event"),
                            fix: Some(fix),
                            converts: STRING,
                            path: path.clone(),
                            want: NUMBER,
                        })
                    }));
                }
                _ => {}
            }
            s.expressions().into_iter().for_each(|e| collect(e, &[], &mut found));
            found.drop_guarded(&guarded);
            let cased = std::mem::take(&mut found.cased);
            all.append(found);
            if let Stage::Where(w) = s {
                case_watch.add(cased, w.passed());
                type_tested(w.cond(), &mut guarded);
            }
        }
        let Found {
            mut items,
            mut times,
            mut pairs,
            never,
            mut firsts,
            mut conversions,
            cased: _,
        } = all;
        if let Some(Stage::Group(g)) = stages.last() {
            watch_rows(&mut case_watch, g, rows);
        }
        case_watch.start(MAX_FLAGS);
        firsts.truncate(MAX_FLAGS);
        conversions.truncate(MAX_FLAGS);
        items.truncate(MAX_FLAGS);
        times.truncate(MAX_FLAGS);
        pairs.truncate(MAX_FLAGS);
        Mismatches {
            decided: Flags::new(firsts.len()),
            verdicts: firsts.iter().map(|_| AtomicU8::new(0)).collect(),
            firsts,
            pair_kinds: pairs.iter().map(|_| Default::default()).collect(),
            matched: Flags::new(pairs.len()),
            pairs,
            kinds: items.iter().map(|_| AtomicU8::new(0)).collect(),
            met: Flags::new(items.len()),
            items,
            differ: Flags::new(times.len()),
            times,
            never,
            converted: Flags::new(conversions.len()),
            unread: conversions.iter().map(|_| OnceLock::new()).collect(),
            conversions,
            cased: case_watch,
        }
    }

    /// Notes the types and time offsets `ev` has for the watched fields; nearly free
    /// once all are met, which it returns.
    pub(crate) fn observe(&self, ev: &Event, env: &Env) -> bool {
        let types = self.observe_types(ev);
        let times = self.observe_times(ev);
        let pairs = self.observe_pairs(ev);
        let firsts = self.observe_firsts(ev);
        let conversions = self.observe_conversions(ev, env);
        let cased = self.cased.observe(ev);
        types && times && pairs && firsts && conversions && cased
    }

    /// One conversion of each watched field's value, until one was read.
    fn observe_conversions(&self, ev: &Event, env: &Env) -> bool {
        self.converted.update(|i| {
            let c = &self.conversions[i];
            let Some(v) = ev.lookup(&c.path).filter(|v| !v.is_null()) else {
                return false;
            };
            if !c.call.eval(ev, env).is_null() {
                return true;
            }
            self.unread[i].get_or_init(|| {
                let mut text = String::new();
                write_val(&mut text, &v);
                Unread {
                    text,
                    time_format: env.time_format.clone(),
                }
            });
            false
        })
    }

    /// One lookup of each field watched for its first value, until an event had one.
    fn observe_firsts(&self, ev: &Event) -> bool {
        self.decided.update(|i| {
            let Some(verdict) = ev.lookup(&self.firsts[i].path).and_then(|v| self.firsts[i].verdict(&v)) else {
                return false;
            };
            if verdict != 0 {
                self.verdicts[i].store(verdict, Ordering::Relaxed);
            }
            true
        })
    }

    fn observe_types(&self, ev: &Event) -> bool {
        self.met.update(|i| {
            let (path, want) = self.items[i].field();
            let Some(k) = ev.kind_at(path) else { return false };
            if k & want != 0 {
                return true;
            }
            note_kind(&self.kinds[i], k);
            false
        })
    }

    /// One lookup of each field of the pairs not yet matched.
    fn observe_pairs(&self, ev: &Event) -> bool {
        self.matched.update(|i| {
            let c = &self.pairs[i];
            let (Some(a), Some(b)) = (ev.kind_at(&c.a), ev.kind_at(&c.b)) else {
                return false;
            };
            let kinds = [a, b];
            if kinds[0] == kinds[1] {
                return true;
            }
            for (had, k) in self.pair_kinds[i].iter().zip(kinds) {
                note_kind(had, k);
            }
            false
        })
    }

    /// One offset check on the strings each time comparison reads, until it met two
    /// offsets that differ.
    fn observe_times(&self, ev: &Event) -> bool {
        let offset_at = |p: &Path| ev.lookup(p).and_then(|v| v.as_str().and_then(time_shape));
        self.differ.update(|i| {
            let t = &self.times[i];
            let Some(a) = offset_at(&t.path) else { return false };
            let b = match &t.other {
                Side::Const(_, b) => Some(*b),
                Side::Path(q) => offset_at(q),
                Side::Sorted(first) => {
                    let _ = first.compare_exchange(0, a, Ordering::Relaxed, Ordering::Relaxed);
                    Some(first.load(Ordering::Relaxed))
                }
            };
            b.is_some_and(|b| b != a)
        })
    }

    /// A warning for each comparison or stage whose field was seen, but never with its
    /// type, then one for each comparison of times with different offsets as text, then
    /// for pairs of fields that never had one type.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let types = self
            .items
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.met.is_raised(*i))
            .filter_map(|(i, c)| {
                let seen = self.kinds[i].load(Ordering::Relaxed);
                (seen != 0).then(|| match c {
                    Need::Comparison(c) => warning(c, seen),
                    Need::Stage(e) => expect_warning(e, seen),
                })
            });
        let times = self
            .times
            .iter()
            .enumerate()
            .filter(|(i, _)| self.differ.is_raised(*i))
            .map(|(_, t)| time_warning(t));
        let pairs = self
            .pairs
            .iter()
            .zip(&self.pair_kinds)
            .enumerate()
            .filter(|(i, _)| !self.matched.is_raised(*i))
            .filter_map(|(_, (c, [a, b]))| {
                let kinds = [a.load(Ordering::Relaxed), b.load(Ordering::Relaxed)];
                (kinds[0] != 0).then(|| pair_warning(c, kinds))
            });
        let firsts = self.firsts.iter().zip(&self.verdicts).filter_map(|(f, verdict)| {
            let verdict = verdict.load(Ordering::Relaxed);
            (verdict != 0).then(|| f.warning(verdict))
        });
        let conversions = self
            .conversions
            .iter()
            .zip(&self.unread)
            .enumerate()
            .filter(|(i, _)| !self.converted.is_raised(*i))
            .filter_map(|(_, (c, unread))| Some(conversion_warning(c, unread.get()?)));
        self.never
            .iter()
            .cloned()
            .chain(types)
            .chain(times)
            .chain(pairs)
            .chain(firsts)
            .chain(conversions)
            .chain(self.cased.warnings())
            .collect()
    }
}

/// The names of the units of Unix times, by [`time_unit`].
const TIME_UNITS: [&str; 4] = ["seconds", "milliseconds", "microseconds", "nanoseconds"];

/// The unit of a number that is a Unix time between the years 2000 and 2100 in seconds (0),
/// milliseconds (1), microseconds (2) or nanoseconds (3); `None` for any other number.
fn time_unit(n: f64) -> Option<u8> {
    const FROM: f64 = 946_684_800.0;
    const TO: f64 = 4_102_444_800.0;
    (0..4u8).find(|&u| {
        let scale = 1000f64.powi(i32::from(u));
        (FROM * scale..TO * scale).contains(&n)
    })
}

/// Whether a Unix time in unit `unit` is on a whole minute, as times written as literals
/// (`@2026-01-01`) are, and is not a round decimal number (a billion bytes is no time).
fn on_a_whole_minute(n: f64, unit: u8) -> bool {
    let scale = 1000f64.powi(i32::from(unit));
    n % (60.0 * scale) == 0.0 && n % (1e6 * scale) != 0.0
}

/// `ts >= @2026-01-01` (a constant that is a Unix time on a whole minute), `now() - ts` or
/// `ts < now()`: the field, watched for a Unix time of another unit than the other side's.
fn unit_of_other_side(op: BinOp, a: &Expr, b: &Expr, bound: &[&str]) -> Option<FirstValue> {
    if symbol(op).is_none() && op != BinOp::Sub {
        return None;
    }
    let (path, other) = match (field_in(a, bound), field_in(b, bound)) {
        (Some(p), None) => (p, b),
        (None, Some(p)) => (p, a),
        _ => return None,
    };
    let (unit, text) = match other {
        Expr::Call(Func::Now, _) => (0, "now()".to_string()),
        Expr::Const(v) if symbol(op).is_some() => {
            let n = v.numeric()?.as_f64();
            let unit = time_unit(n).filter(|&u| on_a_whole_minute(n, u))?;
            let text = match unit {
                0 => format!("{} (@{})", constant_text(v), crate::time::rfc3339(n)),
                _ => constant_text(v),
            };
            (unit, text)
        }
        _ => return None,
    };
    Some(FirstValue {
        path: path.clone(),
        check: Check::Unit { unit, other: text },
    })
}

impl FirstValue {
    /// What a value of the field says: `None` when it says nothing yet (no number, for a
    /// unit), 0 when it is as meant, and otherwise the warning's code: 1 for a condition's
    /// boolean written as text, the unit plus one for a time in another unit.
    fn verdict(&self, v: &Val) -> Option<u8> {
        match &self.check {
            Check::Condition => {
                let text = v.as_str();
                Some(u8::from(text.is_some_and(|s| {
                    s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false")
                })))
            }
            Check::Unit { unit, .. } => {
                let seen = time_unit(v.numeric()?.as_f64());
                Some(seen.filter(|s| s != unit).map_or(0, |s| s + 1))
            }
            Check::Ordered(_) if v.is_null() => None,
            Check::Ordered(_) => Some(u8::from(v.as_str().is_some_and(plain_number))),
        }
    }

    /// The warning for verdict `verdict` (not 0).
    fn warning(&self, verdict: u8) -> String {
        let p = &self.path;
        match &self.check {
            Check::Condition => format!(
                "{p} is read as a condition, but it holds \"true\" or \"false\" as text, and any text is true (only false and null are false); write {p} == \"true\""
            ),
            Check::Unit { unit, other } => {
                let name = |unit: u8| TIME_UNITS.get(usize::from(unit)).copied().unwrap_or("seconds");
                let fix = match unit {
                    0 => format!("read the field as a time: time({p})"),
                    _ => format!("read both as times: time({p}) and time({other})"),
                };
                format!(
                    "{p} holds Unix times in {}, but {other} is in {}: as numbers they are not the same times; {fix}",
                    name(verdict - 1),
                    name(*unit),
                )
            }
            Check::Ordered(op) => {
                let (read, fix) = match *op {
                    "sort" => (format!("sort {p}"), format!("sort to_number({p})")),
                    op => (format!("{op}({p})"), format!("{op}(to_number({p}))")),
                };
                format!(
                    "{read} orders text, but {p} holds numbers written as text, where \"9\" comes after \"10\"; order the numbers: {fix}"
                )
            }
        }
    }
}

/// Whether `s` is a number as JSON writes one, without leading zeros (a code such as a zip
/// code, `"02134"`, is text to be ordered as text).
fn plain_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && all_digits(fraction) && (whole == "0" || !whole.starts_with('0'))
}

/// Adds the kind bit `k` to `had`, writing only when it is new.
fn note_kind(had: &AtomicU8, k: u8) {
    if had.load(Ordering::Relaxed) & k == 0 {
        had.fetch_or(k, Ordering::Relaxed);
    }
}

/// The single-name paths compared with another path in the `where` stages among
/// `stages`: `level == error` may mean the text "error".
pub(crate) fn bare_words(stages: &[&Stage]) -> Vec<Path> {
    fn walk(e: &Expr, out: &mut Vec<Path>) {
        match e {
            Expr::Bin(BinOp::Eq | BinOp::Ne | BinOp::In | BinOp::NotIn, a, b) => {
                if let (Expr::Path(x), Expr::Path(y)) = (&**a, &**b) {
                    out.extend([x, y].into_iter().filter(|p| p.segs.len() == 1).cloned());
                }
            }
            Expr::Bin(_, a, b) => {
                walk(a, out);
                walk(b, out);
            }
            Expr::Not(e) => walk(e, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for s in stages {
        if let Stage::Where(w) = s {
            walk(w.cond(), &mut out);
        }
    }
    out
}

/// The comparisons found in a condition.
#[derive(Default)]
struct Found {
    items: Vec<Need>,
    times: Vec<TimeComparison>,
    pairs: Vec<PairComparison>,
    /// Comparisons that can never hold whatever the data (`lower(x) == "ERROR"`): warnings.
    never: Vec<String>,
    firsts: Vec<FirstValue>,
    conversions: Vec<Conversion>,
    /// Comparisons with texts, watched for the field's texts in another case.
    cased: Vec<cased::Cased>,
}

/// A field whose first value says whether what reads it means what was typed.
#[derive(Debug, PartialEq)]
struct FirstValue {
    path: Path,
    check: Check,
}

#[derive(Debug, PartialEq)]
enum Check {
    /// Read as a condition (`where cached`, `count(ok)`): the text "true" or "false" is true
    /// there, as any text is.
    Condition,
    /// Compared with (or taken from) a Unix time in `unit` (see [`time_unit`]), written
    /// `other`: `ts >= @2026-01-01` and `now() - ts` are in seconds, and a field of
    /// milliseconds is always on one side.
    Unit { unit: u8, other: String },
    /// Put in order by `sort`, `min` or `max`: numbers written as text are ordered by their
    /// text, where "9" comes after "10".
    Ordered(&'static str),
}

impl Found {
    fn append(&mut self, mut other: Found) {
        for f in other.firsts.drain(..) {
            self.watch_first(f);
        }
        self.items.append(&mut other.items);
        self.times.append(&mut other.times);
        self.pairs.append(&mut other.pairs);
        self.never.append(&mut other.never);
        self.conversions.append(&mut other.conversions);
        self.cased.append(&mut other.cased);
    }

    /// Watches a field's first value, once for each check.
    fn watch_first(&mut self, f: FirstValue) {
        if !self.firsts.contains(&f) {
            self.firsts.push(f);
        }
    }

    /// Adds `e` when it is a field read as a condition.
    fn condition_in(&mut self, e: &Expr, bound: &[&str]) {
        if let Some(p) = field_in(e, bound) {
            self.watch_first(FirstValue {
                path: p.clone(),
                check: Check::Condition,
            });
        }
    }

    /// Adds a field that `op` (`sort`, `min`, `max`) puts in order: its times must be
    /// written alike, and its numbers not as text.
    fn ordered(&mut self, p: &Path, op: &'static str) {
        self.times.push(TimeComparison {
            path: p.clone(),
            op,
            other: Side::Sorted(std::sync::atomic::AtomicU32::default()),
        });
        self.watch_first(FirstValue {
            path: p.clone(),
            check: Check::Ordered(op),
        });
    }

    /// Leaves out what reads a field in `guarded` (or below one), whose type a guard tested.
    fn drop_guarded(&mut self, guarded: &[Path]) {
        if guarded.is_empty() {
            return;
        }
        let free = |p: &Path| !guarded.iter().any(|g| p.segs.starts_with(&g.segs));
        self.items.retain(|n| free(n.field().0));
        self.times.retain(|t| free(&t.path));
        self.pairs.retain(|c| free(&c.a) && free(&c.b));
        self.firsts.retain(|f| free(&f.path));
        self.conversions.retain(|c| free(&c.path));
        self.cased.retain(|c| free(c.path()));
    }
}

/// Watches the comparisons with texts of the `where` stages among `rows`, which see the rows of
/// `g`, whose fields are its keys: each key that is an event's field holds that field's texts.
fn watch_rows(watch: &mut cased::CaseWatch, g: &crate::stage::GroupStage, rows: &[&Stage]) {
    for s in rows {
        let Stage::Where(w) = s else { continue };
        let mut found = Found::default();
        collect(w.cond(), &[], &mut found);
        let on_rows = found.cased.into_iter().filter_map(|c| {
            let (_, source) = g
                .spec
                .key_fields()
                .find(|(name, _)| c.path().segs == [Seg::Key((*name).into())])?;
            Some(c.on_rows(source))
        });
        watch.add(on_rows.collect(), w.passed());
    }
}

/// `a OP b` read from the other side: `1 < x` is `x > 1`.
fn flipped(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::Le => BinOp::Ge,
        BinOp::Gt => BinOp::Lt,
        BinOp::Ge => BinOp::Le,
        op => op,
    }
}

/// Adds `path OP constant` comparisons (either way round) found in `e`, the orderings of
/// two paths or a path and a constant time, and comparisons of two paths. `bound` holds the
/// names of the lambdas around `e`: a path starting with one reads an element, not a field.
///
/// Of a conditional, only the first condition is read: it is tested on every event that
/// reaches it, while later conditions and the branches run only when another held (often
/// a guard on the type, `if type(x) == "string" then x == "3" else x == 3 end`).
fn collect(e: &Expr, bound: &[&str], out: &mut Found) {
    let field = |e| field_in(e, bound);
    match e {
        // A null on the left is handled: it is not a mistake there.
        Expr::Bin(BinOp::Coalesce, a, b) => {
            collect_handled(a, bound, out);
            collect(b, bound, out);
        }
        // The right side runs only when the left held (or failed): a test of a field's type
        // there is a guard, as an `if`'s first condition is.
        Expr::Bin(op @ (BinOp::And | BinOp::Or), a, b) => {
            out.never
                .extend(constant_operand(*op, a, b).or_else(|| constant_operand(*op, b, a)));
            out.condition_in(a, bound);
            out.condition_in(b, bound);
            collect(a, bound, out);
            let mut right = Found::default();
            collect(b, bound, &mut right);
            let mut guarded = Vec::new();
            type_tested(a, &mut guarded);
            right.drop_guarded(&guarded);
            out.append(right);
        }
        Expr::Bin(op, a, b) => {
            out.never.extend(
                case_never(*op, a, b)
                    .or_else(|| type_never(*op, a, b))
                    .or_else(|| two_constants(*op, a, b)),
            );
            out.never.extend(constant_not_a_number(*op, a, b));
            out.items
                .extend(arithmetic(*op, a, b, bound).into_iter().map(Need::Stage));
            if let Some(f) = unit_of_other_side(*op, a, b, bound) {
                out.watch_first(f);
            }
            let pair = match (&**a, &**b) {
                (x, Expr::Const(v)) => field(x).map(|p| (p, *op, v)),
                // `"k" in x` tests x's text, elements or keys: it is no comparison of x's type.
                (Expr::Const(_), _) if matches!(op, BinOp::In | BinOp::NotIn) => None,
                (Expr::Const(v), x) => field(x).map(|p| (p, flipped(*op), v)),
                _ => None,
            };
            if let (Some(p), Some(q)) = (field(a), field(b)) {
                two_fields(out, p, *op, q);
            }
            if let Some(mixed) = pair.and_then(|(p, op, v)| mixed_list(p, op, v)) {
                out.items.extend(mixed.into_iter().map(Need::Stage));
                return;
            }
            match pair.and_then(|(p, op, v)| Some((p, op, v, wanted(op, v)?))) {
                Some((p, op, v, want)) => add(out, p, op, v, want),
                None => {
                    collect(a, bound, out);
                    collect(b, bound, out);
                }
            }
        }
        Expr::Match { expr, re, negate } => match field(expr) {
            Some(p) => out.items.push(Need::Stage(matched_text(p, re, *negate))),
            None => collect(expr, bound, out),
        },
        Expr::Not(e) => {
            out.never.extend(constant_condition(e, "not"));
            out.condition_in(e, bound);
            collect(e, bound, out);
        }
        Expr::Neg(e) => match field(e) {
            Some(p) => out.items.push(Need::Stage(negated(p))),
            None => collect(e, bound, out),
        },
        Expr::Call(Func::Coalesce, items) => {
            let last = items.len().saturating_sub(1);
            for (i, e) in items.iter().enumerate() {
                match i < last {
                    true => collect_handled(e, bound, out),
                    false => collect(e, bound, out),
                }
            }
        }
        Expr::Call(f, items) => {
            out.never.extend(affix_never(*f, items));
            out.conversions.extend(conversion(e, *f, items, bound));
            let first = items.first().and_then(field);
            out.items
                .extend(first.and_then(|p| argument(*f, p, items.len())).map(Need::Stage));
            for e in items {
                collect(e, bound, out);
            }
        }
        Expr::Array(items) => items.iter().for_each(|e| collect(e, bound, out)),
        Expr::If(c) => {
            if let Some((cond, _)) = c.arms.first() {
                out.condition_in(cond, bound);
                collect(cond, bound, out);
            }
        }
        Expr::Lambda(l) => {
            let mut inner = bound.to_vec();
            inner.push(&l.name);
            collect(&l.body, &inner, out);
        }
        // Constructors hold values, not conditions.
        Expr::Const(_) | Expr::Path(_) | Expr::Regex(_) | Expr::Object(_) | Expr::Index(_) | Expr::Slice(_) => {}
    }
}

/// `f(items)`, the expression `call`, when it converts a field (its first argument) that
/// can fail to read: `to_number(level)`, `strptime(ts, "%d/%m/%Y")`.
fn conversion(call: &Expr, f: Func, items: &[Expr], bound: &[&str]) -> Option<Conversion> {
    if !matches!(
        f,
        Func::ToNumber | Func::Int | Func::Float | Func::Time | Func::Strptime
    ) {
        return None;
    }
    let (first, rest) = items.split_first()?;
    let path = field_in(first, bound)?;
    let mut written = format!("{}({path}", f.name());
    for e in rest {
        let Expr::Const(v) = e else { return None };
        written.push_str(", ");
        write_val(&mut written, v);
    }
    written.push(')');
    Some(Conversion {
        path: path.clone(),
        func: f,
        call: call.clone(),
        written,
    })
}

/// The first value a conversion did not read, as JSON text, and the `--time-format` it was
/// tried with.
#[derive(Debug)]
struct Unread {
    text: String,
    time_format: Option<std::sync::Arc<str>>,
}

/// The warning for a conversion that read no value of its field; `unread` is the first.
fn conversion_warning(c: &Conversion, unread: &Unread) -> String {
    const SHOWN: usize = 40;
    let shown = match unread.text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &unread.text[..end]),
        None => unread.text.clone(),
    };
    let (path, call) = (&c.path, &c.written);
    let why = match (c.func, &unread.time_format) {
        (Func::Time, None) => {
            format!("; time() reads RFC 3339 text and Unix times: for another layout write strptime({path}, FORMAT)")
        }
        (Func::Time, Some(f)) => format!(
            "; time() reads RFC 3339 text, Unix times and --time-format {f}: for another layout write strptime({path}, FORMAT)"
        ),
        (Func::Strptime, _) => "; the format does not match the text".to_string(),
        _ => String::new(),
    };
    format!("{call} was null for every event: no value of {path} could be read (the first was {shown}){why}")
}

/// The types a function's first argument must have for it to give anything but null (or
/// false, for a test): `upper(x)` of a number is null.
fn first_argument_types(f: Func) -> Option<u8> {
    Some(match f {
        Func::Lower
        | Func::Upper
        | Func::Trim
        | Func::StartsWith
        | Func::EndsWith
        | Func::Replace
        | Func::Split
        | Func::Substr
        | Func::Capture
        | Func::Match
        | Func::Sub
        | Func::Gsub
        | Func::Repeat
        | Func::UrlEncode
        | Func::UrlDecode
        | Func::Base64Encode
        | Func::Base64Decode
        | Func::Md5
        | Func::Sha1
        | Func::Sha256
        | Func::ParseUrl
        | Func::IpIn
        | Func::Strptime => STRING,
        Func::Len | Func::Contains => STRING | ARRAY | OBJECT,
        Func::Reverse => STRING | ARRAY,
        Func::Keys | Func::Values => ARRAY | OBJECT,
        Func::First
        | Func::Last
        | Func::Sum
        | Func::Join
        | Func::Sort
        | Func::Unique
        | Func::Flatten
        | Func::Map
        | Func::Filter
        | Func::Any
        | Func::All => ARRAY,
        Func::Abs
        | Func::Round
        | Func::Floor
        | Func::Ceil
        | Func::Log
        | Func::Log10
        | Func::Exp
        | Func::Sqrt
        | Func::Pow => NUMBER,
        _ => return None,
    })
}

/// `f(p, …)` where `f` reads its first argument as one type: with no such value at `p`, it
/// never held (a test) or was always null.
fn argument(f: Func, p: &Path, args: usize) -> Option<Expect> {
    let want = first_argument_types(f)?;
    let name = f.name();
    let rest = if args > 1 { ", …" } else { "" };
    let test = matches!(
        f,
        Func::Contains | Func::StartsWith | Func::EndsWith | Func::Any | Func::All
    );
    let outcome = if test { "never held" } else { "was always null" };
    let (fix, converts) = converted(p, want);
    Some(Expect {
        path: p.clone(),
        want,
        outcome: format!("{name}({p}{rest}) {outcome}"),
        fix: fix.map(|arg| format!("{name}({arg}{rest})")),
        converts,
    })
}

/// `p` converted to the type `want` names, when a conversion exists, and the types it converts:
/// `str()` makes text of numbers and booleans, `to_number()` numbers of text.
fn converted(p: &Path, want: u8) -> (Option<String>, u8) {
    if want & STRING != 0 {
        (Some(format!("str({p})")), NUMBER | kind::BOOLEAN)
    } else if want == NUMBER {
        (Some(format!("to_number({p})")), STRING)
    } else {
        (None, 0)
    }
}

/// The children of `e`, whose own null is handled (`upper(x) ?? x`, `coalesce(x * 2, 0)`): a
/// function's argument or an operand of arithmetic of the wrong type is no mistake there.
fn collect_handled(e: &Expr, bound: &[&str], out: &mut Found) {
    match e {
        Expr::Call(f, items) if !f.takes_lambda() => items.iter().for_each(|i| collect(i, bound, out)),
        Expr::Bin(BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem, a, b) => {
            collect(a, bound, out);
            collect(b, bound, out);
        }
        Expr::Neg(x) => collect(x, bound, out),
        e => collect(e, bound, out),
    }
}

/// Adds the fields whose type `e` tests (`type(x) == "string"`) to `out`.
fn type_tested(e: &Expr, out: &mut Vec<Path>) {
    match e {
        Expr::Call(Func::Type, items) => {
            if let Some(Expr::Path(p)) = items.first() {
                out.push(p.clone());
            }
        }
        Expr::Call(_, items) | Expr::Array(items) => items.iter().for_each(|i| type_tested(i, out)),
        Expr::Bin(_, a, b) => {
            type_tested(a, out);
            type_tested(b, out);
        }
        Expr::Not(x) | Expr::Neg(x) => type_tested(x, out),
        _ => {}
    }
}

/// `a OP b` of arithmetic with a field on either side: with no number there (for `+`, no
/// value of the other side's type), it was always null.
fn arithmetic(op: BinOp, a: &Expr, b: &Expr, bound: &[&str]) -> Vec<Expect> {
    let Some(sym) = arithmetic_symbol(op) else {
        return Vec::new();
    };
    let sides = [(a, b, true), (b, a, false)];
    sides
        .into_iter()
        .filter_map(move |(side, other, left)| {
            let p = field_in(side, bound)?;
            if op != BinOp::Add && matches!(other, Expr::Const(v) if v.kind() != NUMBER) {
                // `x * "2"` is null whatever `x` is: [`constant_not_a_number`] says so.
                return None;
            }
            let want = match (op, other) {
                (BinOp::Add, Expr::Const(Val::Str(_))) => STRING,
                (BinOp::Add, Expr::Const(v)) if v.kind() == NUMBER => NUMBER,
                (BinOp::Add, _) => NUMBER | STRING | ARRAY,
                _ => NUMBER,
            };
            let o = match other {
                Expr::Const(v) => constant_text(v),
                _ => "…".to_string(),
            };
            let written = |p: &dyn std::fmt::Display| match left {
                true => format!("{p} {sym} {o}"),
                false => format!("{o} {sym} {p}"),
            };
            let (fix, converts) = converted(p, want);
            Some(Expect {
                path: p.clone(),
                want,
                outcome: format!("{} was always null", written(p)),
                fix: fix.filter(|_| want != NUMBER | STRING | ARRAY).map(|c| written(&c)),
                converts,
            })
        })
        .collect()
}

/// The symbol of an arithmetic operator.
fn arithmetic_symbol(op: BinOp) -> Option<&'static str> {
    Some(match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Rem => "%",
        _ => return None,
    })
}

/// The text of a constant, as written in a pipeline.
fn constant_text(v: &Val) -> String {
    let mut t = String::new();
    write_val(&mut t, v);
    t
}

/// `e` when it is a constant other than `true`, `false` and `null`: one that is always true.
fn always_true(e: &Expr) -> Option<&Val<'static>> {
    match e {
        Expr::Const(v) if !matches!(v, Val::Bool(_) | Val::Null) => Some(v),
        _ => None,
    }
}

/// A constant that is not `true`, `false` or `null` where a condition goes (`where "error"`,
/// `not "x"`): it is always true, so what reads it does not depend on the data; the warning.
fn constant_condition(e: &Expr, reader: &str) -> Option<String> {
    let c = constant_text(always_true(e)?);
    Some(format!(
        "{reader} {c} does not depend on the data: every value but false and null is true; compare a field with it, as in level == {c}"
    ))
}

/// `level == "error" or "warn"`: a constant operand of `and` or `or` is always true, so the
/// `or` always holds (the `and` is its other side alone); the warning, with `in` as the fix
/// when the other side compares a field with a constant.
fn constant_operand(op: BinOp, constant: &Expr, other: &Expr) -> Option<String> {
    let c = constant_text(always_true(constant)?);
    let (word, outcome) = match op {
        BinOp::Or => ("or", "always holds"),
        _ => ("and", "is only its other side"),
    };
    let compared = match other {
        Expr::Bin(BinOp::Eq, a, b) => match (&**a, &**b) {
            (Expr::Path(p), Expr::Const(k)) | (Expr::Const(k), Expr::Path(p)) => Some((p, k)),
            _ => None,
        },
        _ => None,
    };
    let fix = match compared {
        Some((p, k)) if op == BinOp::Or => {
            format!(
                "compare each: {p} == {} or {p} == {c}, or write {p} in [{}, {c}]",
                constant_text(k),
                constant_text(k)
            )
        }
        Some((p, _)) => format!("compare it: {p} == {c}"),
        None => format!("compare a field with it, as in level == {c}"),
    };
    Some(format!(
        "{c} in `{word}` is always true (every value but false and null is), so the `{word}` {outcome}; {fix}"
    ))
}

/// `"level" == "error"`: a comparison of two constants holds or fails whatever the data.
fn two_constants(op: BinOp, a: &Expr, b: &Expr) -> Option<String> {
    let (Expr::Const(x), Expr::Const(y)) = (a, b) else {
        return None;
    };
    let sym = symbol(op)?;
    let (x, y) = (constant_text(x), constant_text(y));
    let hint = match a {
        Expr::Const(Val::Str(name)) => format!("; a field is named without quotes ({name}) or in backticks (`{name}`)"),
        _ => String::new(),
    };
    Some(format!(
        "{x} {sym} {y} compares two constants: it does not depend on the data{hint}"
    ))
}

/// `x * "2"`, `"a" - x`: `-`, `*`, `/` and `%` of a constant that is not a number are null
/// whatever the data; the warning, with the number written as one when the text is one.
fn constant_not_a_number(op: BinOp, a: &Expr, b: &Expr) -> Option<String> {
    let sym = arithmetic_symbol(op).filter(|_| op != BinOp::Add)?;
    let (v, other, left) = match (a, b) {
        (x, Expr::Const(v)) if v.kind() != NUMBER => (v, x, true),
        (Expr::Const(v), x) if v.kind() != NUMBER => (v, x, false),
        _ => return None,
    };
    let mut constant = String::new();
    write_val(&mut constant, v);
    let operand = match other {
        Expr::Path(p) => p.to_string(),
        Expr::Const(c) => {
            let mut t = String::new();
            write_val(&mut t, c);
            t
        }
        _ => "…".to_string(),
    };
    let written = |c: &str| match left {
        true => format!("{operand} {sym} {c}"),
        false => format!("{c} {sym} {operand}"),
    };
    let mut w = format!(
        "{} is always null: {sym} reads numbers, and {constant} is not one",
        written(&constant)
    );
    if let Some(n) = v
        .as_str()
        .map(str::trim)
        .filter(|t| t.parse::<f64>().is_ok_and(f64::is_finite))
    {
        let _ = write!(w, "; write {}", written(n));
    }
    Some(w)
}

/// `-p`: with no number at `p`, it was always null.
fn negated(p: &Path) -> Expect {
    Expect {
        path: p.clone(),
        want: NUMBER,
        outcome: format!("-{p} was always null"),
        fix: converted(p, NUMBER).0.map(|c| format!("-{c}")),
        converts: STRING,
    }
}

/// `x =~ /re/` reads text: with no string at `x` it never matched (`!~`: always held).
fn matched_text(p: &Path, re: &regex::Regex, negate: bool) -> Expect {
    let (op, outcome) = if negate {
        ("!~", "always held")
    } else {
        ("=~", "never matched")
    };
    Expect {
        path: p.clone(),
        want: STRING,
        outcome: format!("{p} {op} /{re}/ {outcome}"),
        fix: Some(format!("str({p}) {op} /{re}/")),
        converts: NUMBER | kind::BOOLEAN,
    }
}

/// `lower(x) == "ERROR"`: `==` or `!=` between `lower` (or `upper`) and a string it can never
/// give, so the comparison never holds (or always does) whatever the data; its warning.
fn case_never(op: BinOp, a: &Expr, b: &Expr) -> Option<String> {
    let ((Expr::Call(f, args), Expr::Const(Val::Str(text))) | (Expr::Const(Val::Str(text)), Expr::Call(f, args))) =
        (a, b)
    else {
        return None;
    };
    let (name, fixed) = match f {
        Func::Lower => ("lower", text.to_lowercase()),
        Func::Upper => ("upper", text.to_uppercase()),
        _ => return None,
    };
    let op = symbol(op).filter(|_| matches!(op, BinOp::Eq | BinOp::Ne))?;
    if fixed == **text {
        return None;
    }
    let arg = match args.first() {
        Some(Expr::Path(p)) => p.to_string(),
        _ => "…".to_string(),
    };
    let outcome = if op == "==" { "never holds" } else { "always holds" };
    Some(format!(
        "{name}({arg}) {op} \"{text}\" {outcome}: {name}() never gives \"{text}\"; write {name}({arg}) {op} \"{fixed}\""
    ))
}

/// The names `type()` gives.
const TYPE_NAMES: &[&str] = &["null", "boolean", "number", "string", "array", "object"];

/// Functions whose value is a number or null, whatever their arguments.
fn gives_a_number(f: Func) -> bool {
    matches!(
        f,
        Func::Len
            | Func::Int
            | Func::Float
            | Func::Round
            | Func::Floor
            | Func::Ceil
            | Func::Abs
            | Func::Hash
            | Func::Time
            | Func::Bucket
            | Func::Now
            | Func::Line
            | Func::Offset
    )
}

/// A function's call as written in a warning: `len(svc)`, or `len(…)`.
fn call_text(name: &str, args: &[Expr]) -> String {
    match args.first() {
        Some(Expr::Path(p)) => format!("{name}({p})"),
        _ => format!("{name}(…)"),
    }
}

/// `type(x) == "int"` (a name `type()` never gives), or `len(x) > "2"` (a function that gives
/// a number compared with text): the comparison never holds (`!=`: always), whatever the data.
fn type_never(op: BinOp, a: &Expr, b: &Expr) -> Option<String> {
    let sym = symbol(op).filter(|_| !matches!(op, BinOp::In | BinOp::NotIn))?;
    let outcome = if sym == "!=" { "always holds" } else { "never holds" };
    if let (e, Expr::Const(Val::Str(text))) | (Expr::Const(Val::Str(text)), e) = (a, b)
        && let Some(arith) = numeric_arithmetic(e)
    {
        return Some(format!(
            "{arith} {sym} \"{text}\" {outcome}: {arith} gives a number, which text never equals or orders with; compare with {}",
            number_fix(text)
        ));
    }
    let ((Expr::Call(f, args), Expr::Const(Val::Str(text))) | (Expr::Const(Val::Str(text)), Expr::Call(f, args))) =
        (a, b)
    else {
        return None;
    };
    let name = f.name();
    let call = call_text(name, args);
    match f {
        Func::Type if matches!(op, BinOp::Eq | BinOp::Ne) && !TYPE_NAMES.contains(&&**text) => Some(format!(
            "{call} {sym} \"{text}\" {outcome}: type() gives {}; write {call} {sym} \"{}\"",
            TYPE_NAMES.join(", "),
            type_meant(text)
        )),
        Func::Time | Func::Bucket | Func::Now => {
            let fix = match crate::time::parse_str(text, None) {
                Some(_) => format!("@{text}"),
                None => "a time such as @2026-01-01T00:00:00Z".to_string(),
            };
            Some(format!(
                "{call} {sym} \"{text}\" {outcome}: {name}() gives a time, which text never equals or orders with; compare with {fix}"
            ))
        }
        f if gives_a_number(*f) => Some(format!(
            "{call} {sym} \"{text}\" {outcome}: {name}() gives a number, which text never equals or orders with; compare with {}",
            number_fix(text)
        )),
        _ => None,
    }
}

/// Arithmetic whose value is a number or null whatever its operands (`-`, `*`, `/`, `%`, and `+`
/// with a number on one side), as written: `x + 0`, or `x * …` past a field and a constant.
fn numeric_arithmetic(e: &Expr) -> Option<String> {
    let Expr::Bin(op, a, b) = e else { return None };
    let sym = arithmetic_symbol(*op)?;
    let number = |e: &Expr| matches!(e, Expr::Const(v) if v.kind() == NUMBER);
    if *op == BinOp::Add && !(number(a) || number(b)) {
        return None;
    }
    Some(format!("{} {sym} {}", operand_text(a), operand_text(b)))
}

/// An operand of arithmetic as a warning writes it: a field or a constant as written, `…`
/// for anything else.
fn operand_text(e: &Expr) -> String {
    match e {
        Expr::Path(p) => p.to_string(),
        Expr::Const(v) => constant_text(v),
        _ => "…".to_string(),
    }
}

/// What to compare a number with in place of `text`: the number it spells, if it spells one.
fn number_fix(text: &str) -> String {
    let text = text.trim();
    text.parse::<f64>()
        .map_or_else(|_| "a number".to_string(), |_| text.to_string())
}

/// The `type()` name a user most likely meant by `text`.
fn type_meant(text: &str) -> &'static str {
    match text.to_lowercase().as_str() {
        "int" | "integer" | "float" | "double" | "num" | "long" | "decimal" => "number",
        "bool" => "boolean",
        "str" | "text" => "string",
        "list" | "vec" | "tuple" => "array",
        "dict" | "map" | "hash" | "record" | "obj" => "object",
        "none" | "nil" | "undefined" | "missing" => "null",
        _ => "number",
    }
}

/// `startswith(lower(x), "API")`: `startswith`, `endswith` or `contains` of what `lower` (or
/// `upper`) gives and a text it can never hold, so the test never holds.
fn affix_never(f: Func, args: &[Expr]) -> Option<String> {
    let name = match f {
        Func::StartsWith => "startswith",
        Func::EndsWith => "endswith",
        Func::Contains => "contains",
        _ => return None,
    };
    let [Expr::Call(case, inner), Expr::Const(Val::Str(text))] = args else {
        return None;
    };
    let (case_name, fixed) = match case {
        Func::Lower => ("lower", text.to_lowercase()),
        Func::Upper => ("upper", text.to_uppercase()),
        _ => return None,
    };
    if fixed == **text {
        return None;
    }
    let call = call_text(case_name, inner);
    Some(format!(
        "{name}({call}, \"{text}\") never holds: {case_name}() never gives \"{text}\"; write {name}({call}, \"{fixed}\")"
    ))
}

/// The field `e` reads, when it is a path of the event (not `.`, not a lambda's element).
fn field_in<'e>(e: &'e Expr, bound: &[&str]) -> Option<&'e Path> {
    match e {
        Expr::Path(p) if !p.segs.is_empty() && !p.first_key().is_some_and(|k| bound.contains(&k)) => Some(p),
        _ => None,
    }
}

/// Watches `p OP q` of two fields: their types, and for an ordering, the offsets of times.
fn two_fields(out: &mut Found, p: &Path, op: BinOp, q: &Path) {
    if let Some(op) = ordering(op) {
        out.times.push(TimeComparison {
            path: p.clone(),
            op,
            other: Side::Path(q.clone()),
        });
    }
    if let Some(op) = symbol(op).filter(|_| !matches!(op, BinOp::In | BinOp::NotIn)) {
        out.pairs.push(PairComparison {
            a: p.clone(),
            op,
            b: q.clone(),
        });
    }
}

/// Watches `p OP v`: its type, and when it orders by a constant time, the offsets.
fn add(out: &mut Found, p: &Path, op: BinOp, v: &Val<'static>, want: u8) {
    let Some(symbol) = symbol(op) else { return };
    if let (Some(order), Some(text)) = (ordering(op), v.as_str()) {
        if let Some(offset) = time_shape(text) {
            let mut written = String::new();
            write_val(&mut written, v);
            out.times.push(TimeComparison {
                path: p.clone(),
                op: order,
                other: Side::Const(written, offset),
            });
        }
    }
    out.cased.extend(cased::cased(p, op, v));
    out.items.push(Need::Comparison(Comparison {
        path: p.clone(),
        op: symbol,
        value: v.clone(),
        want,
    }));
}

/// `x in [1, "2"]`, a list of more than one type: the elements of a type the field never
/// has never match it. One watch for each type of element, each naming those elements.
fn mixed_list(p: &Path, op: BinOp, v: &Val) -> Option<Vec<Expect>> {
    use serde_json::Value;
    let (BinOp::In | BinOp::NotIn, Val::Json(j)) = (op, v) else {
        return None;
    };
    let items: Vec<&Value> = j.as_array()?.iter().filter(|i| !i.is_null()).collect();
    let kind_of = |i: &Value| Val::from_value(i).kind();
    let kinds = items.iter().fold(0u8, |k, i| k | kind_of(i));
    if kinds.count_ones() < 2 {
        return None;
    }
    let (symbol, outcome) = match op {
        BinOp::In => ("in", "never matched"),
        _ => ("not in", "never excluded an event"),
    };
    let list = json::to_string(&Value::Array(items.iter().map(|&i| i.clone()).collect()));
    let expects = (0..8).map(|bit| 1u8 << bit).filter(|k| kinds & k != 0).map(|k| {
        let of_kind: Vec<String> = items
            .iter()
            .filter(|i| kind_of(i) == k)
            .map(|i| json::to_string(i))
            .collect();
        let plural = if of_kind.len() == 1 { "" } else { "s" };
        // The whole list in the type the field has: numbers for a number, text for text.
        let (converts, fix) = match k {
            STRING => (NUMBER, as_kind(&items, NUMBER).map(|l| format!("{p} {symbol} {l}"))),
            NUMBER => (STRING, as_kind(&items, STRING).map(|l| format!("{p} {symbol} {l}"))),
            _ => (0, None),
        };
        Expect {
            path: p.clone(),
            want: k,
            outcome: format!(
                "the element{plural} {} of {p} {symbol} {list} {outcome}",
                of_kind.join(", ")
            ),
            fix,
            converts,
        }
    });
    Some(expects.collect())
}

/// The list `items` with every element as a number (`kind` NUMBER) or as text (STRING),
/// when each can be.
fn as_kind(items: &[&serde_json::Value], kind: u8) -> Option<String> {
    use serde_json::Value;
    let converted: Option<Vec<String>> = items
        .iter()
        .map(|i| match (kind, i) {
            (NUMBER, Value::Number(n)) => Some(n.to_string()),
            (NUMBER, Value::String(s)) => serde_json::from_str::<serde_json::Number>(s)
                .ok()
                .map(|n| n.to_string()),
            (STRING, Value::String(_)) => Some(json::to_string(i)),
            (STRING, Value::Number(n)) => Some(format!("\"{n}\"")),
            _ => None,
        })
        .collect();
    Some(format!("[{}]", converted?.join(",")))
}

/// The types with which `path OP v` can hold (for `!=` and `not in`: fail), or none
/// when any type can.
fn wanted(op: BinOp, v: &Val) -> Option<u8> {
    symbol(op)?;
    match (op, v) {
        (_, Val::Null) => None,
        (BinOp::In | BinOp::NotIn, Val::Json(j)) => match j.as_ref() {
            serde_json::Value::Array(items) => {
                let want = items
                    .iter()
                    .filter(|i| !i.is_null())
                    .fold(0, |k, i| k | Val::from_value(i).kind());
                (want != 0).then_some(want)
            }
            serde_json::Value::Object(_) => Some(STRING),
            _ => None,
        },
        (BinOp::In | BinOp::NotIn, Val::Str(_)) => Some(STRING),
        (BinOp::In | BinOp::NotIn, _) => None,
        (_, Val::Json(_)) => None,
        (_, v) => Some(v.kind()),
    }
}

/// The operators for which a value of another type never holds (`==`, orderings,
/// `in`), or always does (`!=`, `not in`).
fn symbol(op: BinOp) -> Option<&'static str> {
    Some(match op {
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::In => "in",
        BinOp::NotIn => "not in",
        op => ordering(op)?,
    })
}

fn ordering(op: BinOp) -> Option<&'static str> {
    Some(match op {
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        _ => return None,
    })
}

/// How a date-time written as text is laid out, as far as ordering it as text depends on
/// it, as one nonzero number: the letter between date and time (`T` or a space), whether it
/// has seconds, how many digits its fraction has (`…00.5Z` sorts before `…00Z`) and its UTC
/// offset, or none. `None` for text that is no date and time.
fn time_shape(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    // Past 16 bytes (`YYYY-MM-DDTHH:MM`), every index below is in the text.
    let dated = b.len() >= 16
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16);
    if !dated {
        return None;
    }
    let seconds = b.get(16) == Some(&b':') && digits(17..19);
    let fraction = match (seconds, b.get(19)) {
        (true, Some(b'.')) => b[20..].iter().take_while(|c| c.is_ascii_digit()).count(),
        _ => 0,
    };
    let end = match (seconds, fraction) {
        (false, _) => 16,
        (true, 0) => 19,
        (true, n) => 20 + n,
    };
    // No offset is a local time: one more layout, apart from every offset.
    let offset = match &b[end..] {
        [] => 0x8000,
        rest => i32::from(utc_offset(rest)?) & 0x7fff,
    };
    let layout = u32::from(b[10]) << 24 | u32::from(seconds) << 23 | (fraction.min(127) as u32) << 16;
    Some(layout | offset as u32 | 1 << 31)
}

/// The UTC offset in minutes written at the end of a time (`Z`, `+02:00`, `-05:30`).
fn utc_offset(tail: &[u8]) -> Option<i16> {
    let digit = |c: u8| c.is_ascii_digit().then(|| i16::from(c - b'0'));
    match *tail {
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let minutes = (digit(h1)? * 10 + digit(h2)?) * 60 + digit(m1)? * 10 + digit(m2)?;
            Some(if sign == b'-' { -minutes } else { minutes })
        }
        _ => None,
    }
}

impl Need {
    /// The field, and the types it must have one of.
    fn field(&self) -> (&Path, u8) {
        match self {
            Need::Comparison(c) => (&c.path, c.want),
            Need::Stage(e) => (&e.path, e.want),
        }
    }
}

fn expect_warning(e: &Expect, seen: u8) -> String {
    let path = &e.path;
    let mut w = format!(
        "{}: {path} was never {} (it was {})",
        e.outcome,
        kind_names(e.want),
        kind_names(seen)
    );
    let others = seen & !(e.converts | NULL);
    if let Some(fix) = e.fix.as_ref().filter(|_| seen & e.converts != 0 && others == 0) {
        let _ = write!(w, "; write {fix}");
    }
    w
}

fn warning(c: &Comparison, seen: u8) -> String {
    let mut value = String::new();
    write_val(&mut value, &c.value);
    let (path, op) = (&c.path, c.op);
    let outcome = match op {
        "!=" | "not in" => "always held",
        _ => "never held",
    };
    let mut w = format!(
        "{path} {op} {value} {outcome}: {path} was never {} (it was {})",
        kind_names(c.want),
        kind_names(seen)
    );
    if let Some(fix) = fix(c, &value, seen) {
        let _ = write!(w, "; write {fix}");
    }
    w
}

fn time_warning(t: &TimeComparison) -> String {
    let (path, op) = (&t.path, t.op);
    let other = match &t.other {
        Side::Const(text, _) => text.clone(),
        Side::Path(q) => q.to_string(),
        Side::Sorted(_) if op == "sort" => {
            return format!(
                "sort {path} orders times as text, but they are written in different layouts (UTC offset, fraction of a second, \
                 separator), where text order is not time order; sort by the time: sort time({path})"
            );
        }
        Side::Sorted(_) => {
            return format!(
                "{op}({path}) orders times as text, but they are written in different layouts (UTC offset, fraction of a second, \
                 separator), where text order is not time order; order the times: {op}(time({path}))"
            );
        }
    };
    format!(
        "{path} and {other} are compared as text, but they are written in different layouts (UTC offset, fraction of a second, separator); compare times: time({path}) {op} time({other})"
    )
}

fn pair_warning(c: &PairComparison, kinds: [u8; 2]) -> String {
    let (a, op, b) = (&c.a, c.op, &c.b);
    let outcome = match op {
        "!=" => "always held",
        _ => "never held",
    };
    let mut w = format!(
        "{a} {op} {b} {outcome}: on every event with both, their types differed ({a} was {}, {b} was {})",
        kind_names(kinds[0]),
        kind_names(kinds[1])
    );
    // Nulls aside, a string and a number: convert either side (to text only for equality:
    // text orders "10" before "9").
    let [x, y] = kinds.map(|k| k & !NULL);
    let text = matches!(op, "==" | "!=");
    let fix = match (x, y) {
        (STRING, NUMBER) if text => Some(format!("to_number({a}) {op} {b}, or {a} {op} str({b})")),
        (NUMBER, STRING) if text => Some(format!("{a} {op} to_number({b}), or str({a}) {op} {b}")),
        (STRING, NUMBER) => Some(format!("to_number({a}) {op} {b}")),
        (NUMBER, STRING) => Some(format!("{a} {op} to_number({b})")),
        _ => None,
    };
    if let Some(fix) = fix {
        let _ = write!(w, "; write {fix}");
    }
    w
}

/// The comparison written for the type the field had, when there is one.
fn fix(c: &Comparison, value: &str, seen: u8) -> Option<String> {
    let (path, op) = (&c.path, c.op);
    let string = seen & 8 != 0;
    match &c.value {
        Val::Int(_) | Val::Num(_) | Val::Float(_) if string => {
            let convert = if value.contains(['.', 'e', 'E']) {
                "float"
            } else {
                "int"
            };
            if !matches!(op, "<" | "<=" | ">" | ">=") {
                return Some(format!("{path} {op} \"{value}\", or {convert}({path}) {op} {value}"));
            }
            // Text orders digit by digit: only a conversion compares numbers. A number as
            // large as a Unix time (an `@2024-01-01` literal) wants the string read as a time.
            let time = value.parse::<f64>().is_ok_and(|n| n >= 1e8);
            Some(match time {
                true => format!("time({path}) {op} {value} if {path} holds times, or {convert}({path}) {op} {value}"),
                false => format!("{convert}({path}) {op} {value}"),
            })
        }
        // `x in "123"` on a number: `in` with a string looks for text in it.
        Val::Str(s) if seen & 4 != 0 && matches!(op, "in" | "not in") => Some(format!("str({path}) {op} \"{s}\"")),
        Val::Str(s) if seen & 4 != 0 && serde_json::from_str::<serde_json::Number>(s).is_ok() => {
            Some(format!("{path} {op} {s}"))
        }
        Val::Str(s) if seen & 2 != 0 && (&**s == "true" || &**s == "false") => Some(format!("{path} {op} {s}")),
        Val::Bool(b) if string => Some(format!("{path} {op} \"{b}\"")),
        Val::Json(j) => list_fix(c, j.as_array()?, seen),
        _ => None,
    }
}

/// `status in ["500","503"]` written for numbers, or `[500,503]` for strings.
fn list_fix(c: &Comparison, items: &[serde_json::Value], seen: u8) -> Option<String> {
    use serde_json::Value;
    let (path, op) = (&c.path, c.op);
    if seen & 4 != 0 {
        let numbers: Option<Vec<&str>> = items
            .iter()
            .map(|i| {
                i.as_str()
                    .filter(|s| serde_json::from_str::<serde_json::Number>(s).is_ok())
            })
            .collect();
        return Some(format!("{path} {op} [{}]", numbers?.join(",")));
    }
    if seen & 8 != 0 && items.iter().all(Value::is_number) {
        let texts: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
        let numbers: Vec<String> = items.iter().map(Value::to_string).collect();
        let convert = if numbers.iter().any(|n| n.contains(['.', 'e', 'E'])) {
            "float"
        } else {
            "int"
        };
        return Some(format!(
            "{path} {op} [{}], or {convert}({path}) {op} [{}]",
            texts.join(","),
            numbers.join(",")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Needs, Origin};
    use crate::lang::ast::Seg;

    #[test]
    fn plain_numbers_are_json_numbers_without_leading_zeros() {
        for yes in ["0", "10", "-3", "2.50", "0.5", "-0.25"] {
            assert!(plain_number(yes), "{yes}");
        }
        for no in ["", "-", "02134", "1.", ".5", "1e3", " 1", "1,5", "0x10", "inf", "10 ms"] {
            assert!(!plain_number(no), "{no}");
        }
    }

    #[test]
    fn a_first_value_gives_a_verdict_once_it_says_something() {
        let path = Path::new(vec![Seg::Key("ts".into())]);
        let condition = FirstValue {
            path: path.clone(),
            check: Check::Condition,
        };
        assert_eq!(condition.verdict(&Val::Str("False".into())), Some(1));
        assert_eq!(condition.verdict(&Val::Str("no".into())), Some(0));
        assert_eq!(condition.verdict(&Val::Bool(false)), Some(0));
        let seconds = FirstValue {
            path,
            check: Check::Unit {
                unit: 0,
                other: "now()".into(),
            },
        };
        // A text says nothing of the unit; milliseconds give verdict 2, seconds are as meant.
        assert_eq!(seconds.verdict(&Val::Str("x".into())), None);
        assert_eq!(seconds.verdict(&Val::Int(1_767_312_000_000)), Some(2));
        assert_eq!(seconds.verdict(&Val::Int(1_767_312_000)), Some(0));
        assert_eq!(seconds.verdict(&Val::Int(42)), Some(0));
        assert!(
            seconds
                .warning(2)
                .starts_with("ts holds Unix times in milliseconds, but now() is in seconds")
        );
    }
    use crate::lang::parse_pipeline;
    use crate::stage::StageOptions;

    fn warnings(src: &str, lines: &[&str]) -> Vec<String> {
        let asts = parse_pipeline(src).expect("a pipeline");
        let opts = StageOptions::default();
        let stages: Vec<Stage> = asts.iter().map(|a| Stage::build(a, &opts).expect("a stage")).collect();
        let m = Mismatches::new(&stages.iter().collect::<Vec<_>>(), &[]);
        let needs = Needs::whole_event();
        for line in lines {
            m.observe(
                &Event::parse(line, Origin::default(), &needs).expect("a valid line"),
                &Env::default(),
            );
        }
        m.warnings()
    }

    #[test]
    fn a_number_compared_with_string_fields_is_named_with_both_fixes() {
        let lines = [r#"{"LogonType":"3"}"#, r#"{"LogonType":"10"}"#];
        assert_eq!(
            warnings("where LogonType == 3", &lines),
            [
                r#"LogonType == 3 never held: LogonType was never a number (it was a string); write LogonType == "3", or int(LogonType) == 3"#
            ]
        );
        assert!(warnings(r#"where LogonType == "3""#, &lines).is_empty());
    }

    #[test]
    fn assert_and_route_conditions_and_regex_matches_are_watched_too() {
        let numbers = [r#"{"x":1}"#, r#"{"x":2}"#];
        assert_eq!(
            warnings(r#"assert x != "1""#, &numbers),
            [r#"x != "1" always held: x was never a string (it was a number); write x != 1"#]
        );
        assert_eq!(
            warnings(r#"route one: x == "1", two: x > 1"#, &numbers),
            [r#"x == "1" never held: x was never a string (it was a number); write x == 1"#]
        );
        assert_eq!(
            warnings("where x =~ /1/ or x !~ /2/", &numbers),
            [
                "x =~ /1/ never matched: x was never a string (it was a number); write str(x) =~ /1/",
                "x !~ /2/ always held: x was never a string (it was a number); write str(x) !~ /2/"
            ]
        );
        assert!(warnings("where x =~ /1/", &[r#"{"x":2}"#, r#"{"x":"1"}"#]).is_empty());
        assert!(warnings("where str(x) =~ /1/", &numbers).is_empty());
    }

    #[test]
    fn a_string_compared_with_number_fields_and_flipped_sides() {
        let lines = [r#"{"status":500}"#, r#"{"status":null}"#];
        assert_eq!(
            warnings(r#"where "500" <= status"#, &lines),
            [r#"status >= "500" never held: status was never a string (it was null or a number); write status >= 500"#]
        );
    }

    /// `"k" in x` tests x's text, elements or keys, whatever x is: no type is wrong for it.
    #[test]
    fn a_constant_in_a_field_is_no_comparison_of_the_fields_type() {
        let lines = [r#"{"e":{"k":1}}"#, r#"{"e":["k"]}"#, r#"{"e":5}"#];
        assert!(warnings(r#"where "k" in e"#, &lines).is_empty());
        assert!(warnings(r#"where "z" not in e"#, &lines).is_empty());
    }

    #[test]
    fn comparisons_that_met_their_type_once_or_never_saw_the_field_are_quiet() {
        let lines = [r#"{"a":"x"}"#, r#"{"a":1}"#];
        assert!(warnings("where a == 2 or b == 1 or a != 1", &lines).is_empty());
    }

    #[test]
    fn not_equal_and_lists_of_the_wrong_type_are_named_with_their_fixes() {
        let lines = [r#"{"status":200}"#, r#"{"status":503}"#];
        assert_eq!(
            warnings(r#"where status != "200" and status in ("500","503")"#, &lines),
            [
                r#"status != "200" always held: status was never a string (it was a number); write status != 200"#,
                r#"status in ["500","503"] never held: status was never a string (it was a number); write status in [500,503]"#,
            ]
        );
        let text = [r#"{"code":"7"}"#];
        assert_eq!(
            warnings("where code not in [7, 8]", &text),
            [
                r#"code not in [7,8] always held: code was never a number (it was a string); write code not in ["7","8"], or int(code) not in [7,8]"#
            ]
        );
        assert_eq!(
            warnings(r#"where status in [1, "2"] or status != 3"#, &lines),
            [
                r#"the element "2" of status in [1,"2"] never matched: status was never a string (it was a number); write status in [1,2]"#
            ]
        );
        assert!(warnings("where status in [1, 2, null] or status != 3", &lines).is_empty());
    }

    #[test]
    fn a_time_s_shape_is_its_layout() {
        let same = |a: &str, b: &str| time_shape(a).expect(a) == time_shape(b).expect(b);
        assert!(same("2026-11-01T00:00:00Z", "2025-01-31T23:59:59Z"));
        assert!(same("2026-11-01T00:00:00.500+01:00", "2026-11-01T10:00:00.125+01:00"));
        assert!(same("2026-11-01 00:00", "2026-12-01 10:30"));
        for (a, b) in [
            ("2026-11-01T00:00:00Z", "2026-11-01T00:00:00+00:01"),
            ("2026-11-01T00:00:00Z", "2026-11-01T00:00:00.5Z"),
            ("2026-11-01T00:00:00Z", "2026-11-01 00:00:00Z"),
            ("2026-11-01T00:00:00Z", "2026-11-01T00:00:00"),
            ("2026-11-01T00:00", "2026-11-01T00:00:00"),
            ("2026-11-01T00:00:00-00:00", "2026-11-01T00:00:00"),
        ] {
            assert!(!same(a, b), "{a} {b}");
        }
        for no in [
            "2026-11-01",
            "2026-11-01T00:00:00+0é:00",
            "not a time at all, but long",
            "2026-11-01T00:00:00 UTC",
        ] {
            assert_eq!(time_shape(no), None, "{no}");
        }
    }

    #[test]
    fn times_ordered_as_text_with_different_offsets_are_named_once() {
        let lines = [r#"{"ts":"2026-11-01T01:00:00+02:00","t2":"2026-10-31T23:30:00Z"}"#];
        assert_eq!(
            warnings(r#"where ts > "2026-11-01T00:00:00Z" and ts >= t2"#, &lines),
            [
                r#"ts and "2026-11-01T00:00:00Z" are compared as text, but they are written in different layouts (UTC offset, fraction of a second, separator); compare times: time(ts) > time("2026-11-01T00:00:00Z")"#,
                r"ts and t2 are compared as text, but they are written in different layouts (UTC offset, fraction of a second, separator); compare times: time(ts) >= time(t2)",
            ]
        );
        assert!(warnings(r#"where ts > "2026-11-01T00:00:00+02:00""#, &lines).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn a_time_s_shape_reads_any_text_without_panicking(
            cut in 0usize..30,
            tail in "[0-9T :.+Zz-]{0,6}",
            any in "[0-9T :.+Zz-]{0,28}",
        ) {
            let whole = "2026-11-01T00:00:00.500+01:00";
            let _ = time_shape(&format!("{}{tail}", &whole[..cut.min(whole.len())]));
            let _ = time_shape(&any);
        }
    }

    #[test]
    fn offsets_are_read_from_rfc3339_text_only() {
        assert_eq!(utc_offset(b"Z"), Some(0));
        assert_eq!(utc_offset(b"-05:30"), Some(-330));
        assert_eq!(utc_offset(b"+02:00"), Some(120));
        for no in [&b""[..], b"+0200", b"UTC", b"+0\xc3:00", b" Z"] {
            assert_eq!(utc_offset(no), None, "{no:?}");
        }
    }

    #[test]
    fn the_first_condition_of_an_if_and_fields_in_lambdas_are_watched() {
        let lines = [r#"{"tags":[1,2],"status":"5"}"#];
        assert_eq!(
            warnings(
                "where any(tags, x => x == \"1\" and status == 5) or if status == 6 then true else false end",
                &lines
            ),
            [
                r#"status == 5 never held: status was never a number (it was a string); write status == "5", or int(status) == 5"#,
                r#"status == 6 never held: status was never a number (it was a string); write status == "6", or int(status) == 6"#,
            ]
        );
    }

    #[test]
    fn lambda_elements_later_conditions_and_branches_are_passed_over() {
        let lines = [r#"{"tags":[1,2],"status":"5"}"#];
        let src = "where any(tags, x => x == \"1\" or all(x, y => y == \"2\")) and \
                   if type(status) == \"string\" then status == \"5\" elif status == 5 then true else status > 4 end";
        assert!(warnings(src, &lines).is_empty());
    }

    #[test]
    fn two_fields_whose_types_never_matched_are_named_with_the_conversions() {
        let lines = [r#"{"a":"3","b":3}"#, r#"{"a":"4","b":null}"#, r#"{"a":"5"}"#];
        assert_eq!(
            warnings("where a == b or b > a", &lines),
            [
                r"a == b never held: on every event with both, their types differed (a was a string, b was null or a number); write to_number(a) == b, or a == str(b)",
                r"b > a never held: on every event with both, their types differed (b was null or a number, a was a string); write b > to_number(a)",
            ]
        );
        assert_eq!(
            warnings("where a != c", &[r#"{"a":"x","c":true}"#]),
            [r"a != c always held: on every event with both, their types differed (a was a string, c was a boolean)"]
        );
    }

    #[test]
    fn two_fields_that_matched_once_or_never_met_are_quiet() {
        let lines = [r#"{"a":"3","b":3}"#, r#"{"a":4,"b":4.5}"#, r#"{"c":"x"}"#, r#"{"d":1}"#];
        assert!(warnings("where a == b or c == d or a == zz", &lines).is_empty());
    }

    #[test]
    fn a_case_lower_or_upper_never_gives_is_named_whatever_the_data() {
        let lines = [r#"{"level":"error"}"#];
        assert_eq!(
            warnings(r#"where lower(level) == "ERROR""#, &lines),
            [r#"lower(level) == "ERROR" never holds: lower() never gives "ERROR"; write lower(level) == "error""#]
        );
        assert_eq!(
            warnings(r#"where "Warn" != upper(level)"#, &lines),
            [r#"upper(level) != "Warn" always holds: upper() never gives "Warn"; write upper(level) != "WARN""#]
        );
        assert!(warnings(r#"where lower(level) == "error" or upper(level) == "É1""#, &lines).is_empty());
    }

    #[test]
    fn a_function_compared_with_what_it_never_gives_is_named() {
        let lines = [r#"{"svc":"api","lat":5,"ts":"2026-11-01T00:00:00Z"}"#];
        assert_eq!(
            warnings(r#"where type(lat) == "int""#, &lines),
            [
                r#"type(lat) == "int" never holds: type() gives null, boolean, number, string, array, object; write type(lat) == "number""#
            ]
        );
        assert_eq!(
            warnings(r#"where len(svc) > "2""#, &lines),
            [
                r#"len(svc) > "2" never holds: len() gives a number, which text never equals or orders with; compare with 2"#
            ]
        );
        assert_eq!(
            warnings(r#"where lat + 0 == "5" or lat * 2 < "1""#, &lines),
            [
                r#"lat + 0 == "5" never holds: lat + 0 gives a number, which text never equals or orders with; compare with 5"#,
                r#"lat * 2 < "1" never holds: lat * 2 gives a number, which text never equals or orders with; compare with 1"#
            ]
        );
        // `+` of two fields may join texts: no warning.
        assert!(warnings(r#"where svc + svc == "apiapi""#, &lines).is_empty());
        assert_eq!(
            warnings(r#"where time(ts) != "2026-01-01""#, &lines),
            [
                r#"time(ts) != "2026-01-01" always holds: time() gives a time, which text never equals or orders with; compare with @2026-01-01"#
            ]
        );
        assert_eq!(
            warnings(r#"where startswith(lower(svc), "API")"#, &lines),
            [
                r#"startswith(lower(svc), "API") never holds: lower() never gives "API"; write startswith(lower(svc), "api")"#
            ]
        );
        for fine in [
            r#"where type(lat) == "number""#,
            "where len(svc) > 2",
            r#"where startswith(lower(svc), "ap")"#,
            r#"where str(lat) == "5""#,
        ] {
            assert!(warnings(fine, &lines).is_empty(), "{fine}");
        }
    }
}
