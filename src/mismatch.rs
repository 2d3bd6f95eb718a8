//! Comparisons that could never hold on the data seen: `LogonType == 3` when LogonType
//! was a string in every event. Each `where` comparison of a field with a constant is
//! watched on the workers until some event has the field with the constant's type;
//! at the end, one warning with the fix for each that never had it.
//!
//! Cost: once every comparison has met its type, one relaxed atomic load per event.

use crate::event::{Event, write_val};
use crate::lang::ast::BinOp;
use crate::lang::{Expr, Path, Val};
use crate::stage::Stage;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// At most this many comparisons are watched (one bit each).
const MAX_COMPARISONS: usize = 64;

/// `path OP value`, as the warning writes it.
#[derive(Debug)]
struct Comparison {
    path: Path,
    op: &'static str,
    value: Val<'static>,
}

/// The comparisons watched, which met their type, and the types their fields had.
#[derive(Debug, Default)]
pub(crate) struct Mismatches {
    items: Vec<Comparison>,
    /// Bit `i` is set once an event had `items[i].path` with the value's type.
    met: AtomicU64,
    all: u64,
    /// The types (`kind` bits) `items[i].path` had, while it never met its type.
    kinds: Vec<AtomicU8>,
}

impl Mismatches {
    /// The comparisons of `where` stages among `stages` (the ones the workers see as read).
    pub(crate) fn new(stages: &[Stage]) -> Mismatches {
        let mut items = Vec::new();
        for s in stages {
            if let Stage::Where(w) = s {
                collect(w.cond(), &mut items);
            }
        }
        items.truncate(MAX_COMPARISONS);
        let all = match items.len() {
            MAX_COMPARISONS => u64::MAX,
            k => (1u64 << k) - 1,
        };
        Mismatches {
            kinds: items.iter().map(|_| AtomicU8::new(0)).collect(),
            items,
            all,
            met: AtomicU64::new(0),
        }
    }

    /// Notes the types `ev` has for the watched fields; nearly free once all are met.
    pub(crate) fn observe(&self, ev: &Event) {
        let met = self.met.load(Ordering::Relaxed);
        if met == self.all {
            return;
        }
        let mut now = met;
        for (i, c) in self.items.iter().enumerate() {
            if now & (1 << i) != 0 {
                continue;
            }
            let Some(v) = ev.lookup(&c.path) else { continue };
            let k = kind(&v);
            if k == kind(&c.value) {
                now |= 1 << i;
            } else if self.kinds[i].load(Ordering::Relaxed) & k == 0 {
                self.kinds[i].fetch_or(k, Ordering::Relaxed);
            }
        }
        if now != met {
            self.met.fetch_or(now, Ordering::Relaxed);
        }
    }

    /// A warning for each comparison whose field was seen, but never with its type.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let met = self.met.load(Ordering::Relaxed);
        self.items
            .iter()
            .enumerate()
            .filter(|(i, _)| met & (1 << i) == 0)
            .filter_map(|(i, c)| {
                let seen = self.kinds[i].load(Ordering::Relaxed);
                (seen != 0).then(|| warning(c, seen))
            })
            .collect()
    }
}

/// The single-name paths compared with another path in the `where` stages among
/// `stages`: `level == error` may mean the text "error".
pub(crate) fn bare_words(stages: &[Stage]) -> Vec<Path> {
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

/// Adds `path OP constant` comparisons (either way round) found anywhere in `e`.
fn collect(e: &Expr, out: &mut Vec<Comparison>) {
    match e {
        Expr::Bin(op, a, b) => {
            let flipped = |op| match op {
                BinOp::Lt => BinOp::Gt,
                BinOp::Le => BinOp::Ge,
                BinOp::Gt => BinOp::Lt,
                BinOp::Ge => BinOp::Le,
                op => op,
            };
            let pair = match (&**a, &**b) {
                (Expr::Path(p), Expr::Const(v)) => Some((p, *op, v)),
                (Expr::Const(v), Expr::Path(p)) => Some((p, flipped(*op), v)),
                _ => None,
            };
            match pair.and_then(|(p, op, v)| Some((p, symbol(op)?, v))) {
                Some((p, op, v)) if !p.segs.is_empty() && !matches!(v, Val::Null | Val::Json(_)) => {
                    out.push(Comparison {
                        path: p.clone(),
                        op,
                        value: v.clone(),
                    });
                }
                _ => {
                    collect(a, out);
                    collect(b, out);
                }
            }
        }
        Expr::Not(e) | Expr::Neg(e) | Expr::Match { expr: e, .. } => collect(e, out),
        Expr::Array(items) | Expr::Call(_, items) => items.iter().for_each(|e| collect(e, out)),
        // Conditionals, constructors and lambdas hold comparisons that need not hold for
        // every event (or read a lambda's element, not a field).
        Expr::Const(_)
        | Expr::Path(_)
        | Expr::Regex(_)
        | Expr::If(_)
        | Expr::Object(_)
        | Expr::Index(_)
        | Expr::Slice(_)
        | Expr::Lambda(_) => {}
    }
}

/// The operators for which a value of another type never holds (`!=` always does).
fn symbol(op: BinOp) -> Option<&'static str> {
    Some(match op {
        BinOp::Eq => "==",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        _ => return None,
    })
}

/// One bit per JSON type.
fn kind(v: &Val) -> u8 {
    match v.type_name() {
        "null" => 1,
        "boolean" => 2,
        "number" => 4,
        "string" => 8,
        "array" => 16,
        _ => 32,
    }
}

fn kind_names(seen: u8) -> String {
    let names = ["null", "a boolean", "a number", "a string", "an array", "an object"];
    let had: Vec<&str> = (0..6).filter(|i| seen & (1 << i) != 0).map(|i| names[i]).collect();
    had.join(" or ")
}

fn warning(c: &Comparison, seen: u8) -> String {
    let mut value = String::new();
    write_val(&mut value, &c.value);
    let (path, op) = (&c.path, c.op);
    let want = kind_names(kind(&c.value));
    let mut w = format!(
        "{path} {op} {value} never held: {path} was never {want} (it was {})",
        kind_names(seen)
    );
    if let Some(fix) = fix(c, &value, seen) {
        w.push_str(&format!("; write {fix}"));
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
            Some(format!("{path} {op} \"{value}\", or {convert}({path}) {op} {value}"))
        }
        Val::Str(s) if seen & 4 != 0 && serde_json::from_str::<serde_json::Number>(s).is_ok() => {
            Some(format!("{path} {op} {s}"))
        }
        Val::Str(s) if seen & 2 != 0 && (&**s == "true" || &**s == "false") => Some(format!("{path} {op} {s}")),
        Val::Bool(b) if string => Some(format!("{path} {op} \"{b}\"")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Meta, Needs};
    use crate::lang::parse_pipeline;
    use crate::stage::StageOptions;

    fn warnings(src: &str, lines: &[&str]) -> Vec<String> {
        let asts = parse_pipeline(src).expect("a pipeline");
        let opts = StageOptions::default();
        let stages: Vec<Stage> = asts.iter().map(|a| Stage::build(a, &opts).expect("a stage")).collect();
        let m = Mismatches::new(&stages);
        let needs = Needs {
            whole: true,
            ..Needs::default()
        };
        for line in lines {
            m.observe(&Event::parse(line, Meta::default(), &needs).expect("a valid line"));
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
    fn a_string_compared_with_number_fields_and_flipped_sides() {
        let lines = [r#"{"status":500}"#, r#"{"status":null}"#];
        assert_eq!(
            warnings(r#"where "500" <= status"#, &lines),
            [r#"status >= "500" never held: status was never a string (it was null or a number); write status >= 500"#]
        );
    }

    #[test]
    fn comparisons_that_met_their_type_once_or_never_saw_the_field_are_quiet() {
        let lines = [r#"{"a":"x"}"#, r#"{"a":1}"#];
        assert!(warnings("where a == 2 or b == 1 or a != 1", &lines).is_empty());
    }
}
