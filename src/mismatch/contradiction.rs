//! Comparisons that can never hold together: `latency_ms > 10 and latency_ms < 5`,
//! `level == "error" and level == "warn"`, in one `where` or in `where` stages in a row.
//! Each comparison of a field with a constant is taken as what the field may be; two that
//! leave it nothing are named with the run's other guidance, with `or` as the likely meaning.

use super::{constant_text, flipped, symbol};
use crate::lang::ast::BinOp;
use crate::lang::eval::binary;
use crate::lang::{Expr, Path, Val};
use serde_json::Value;
use std::cmp::Ordering;

/// What one comparison says the field is.
#[derive(Debug)]
enum Holds {
    /// One of these values (`==` one, or `in` a list).
    OneOf(Vec<Val<'static>>),
    /// In order with this constant (`<`, `<=`, `>`, `>=`, `!=`).
    Compared(BinOp, Val<'static>),
}

/// A comparison of a field with a constant, as written.
#[derive(Debug)]
struct Fact<'e> {
    path: &'e Path,
    holds: Holds,
    text: String,
}

/// The warning for the first two comparisons among `conditions` (the conditions of `where`
/// stages in a row, each of which must hold) that can never both hold.
pub(super) fn never_together(conditions: &[&Expr]) -> Option<String> {
    let mut facts: Vec<Fact> = Vec::new();
    for c in conditions {
        for conjunct in conjuncts(c) {
            let Some(fact) = fact(conjunct) else { continue };
            let clash = facts
                .iter()
                .find(|f| f.path == fact.path && !compatible(&f.holds, &fact.holds));
            if let Some(earlier) = clash {
                return Some(format!(
                    "{} and {} can never both hold, so where passes no event; for either, join them with or",
                    earlier.text, fact.text
                ));
            }
            facts.push(fact);
        }
    }
    None
}

/// The parts of an `and` chain, each of which must hold.
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Bin(BinOp::And, a, b) => {
            let mut all = conjuncts(a);
            all.extend(conjuncts(b));
            all
        }
        e => vec![e],
    }
}

/// `PATH op CONST` (or `CONST op PATH`, turned around) as a fact about the field.
fn fact(e: &Expr) -> Option<Fact<'_>> {
    let Expr::Bin(op, a, b) = e else { return None };
    let (path, op, constant) = match (&**a, &**b) {
        (Expr::Path(p), c) => (p, *op, c),
        // `"a" in tags` asks tags, not the field `"a"` is compared with.
        (c, Expr::Path(p)) if *op != BinOp::In => (p, flipped(*op), c),
        _ => return None,
    };
    let holds = match (op, constant) {
        (BinOp::Eq, Expr::Const(v)) => Holds::OneOf(vec![v.clone()]),
        (BinOp::In, list) => Holds::OneOf(list_of(list)?),
        (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Ne, Expr::Const(v)) => Holds::Compared(op, v.clone()),
        _ => return None,
    };
    let text = match constant {
        Expr::Const(v) => format!("{path} {} {}", symbol(op)?, constant_text(v)),
        _ => format!("{path} in [...]"),
    };
    Some(Fact { path, holds, text })
}

/// The constants of a list written out (`in ["a", "b"]`).
fn list_of(e: &Expr) -> Option<Vec<Val<'static>>> {
    match e {
        Expr::Const(Val::Json(v)) => match v.as_ref() {
            Value::Array(items) => Some(items.iter().map(|i| Val::from_value(i).into_static()).collect()),
            _ => None,
        },
        Expr::Array(items) => items
            .iter()
            .map(|i| match i {
                Expr::Const(v) => Some(v.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Whether some value makes both facts hold, as the comparisons decide at run time.
fn compatible(a: &Holds, b: &Holds) -> bool {
    match (a, b) {
        (Holds::OneOf(values), other) | (other, Holds::OneOf(values)) => values.iter().any(|v| holds_for(other, v)),
        (Holds::Compared(x, c), Holds::Compared(y, d)) => ranges_meet(*x, c, *y, d),
    }
}

/// Whether the fact holds for a field whose value is `v`.
fn holds_for(fact: &Holds, v: &Val<'static>) -> bool {
    match fact {
        Holds::OneOf(values) => values.iter().any(|w| v.equals(w)),
        Holds::Compared(op, c) => binary(*op, v.clone(), c.clone()).truthy(),
    }
}

/// Whether `x OP1 c` and `x OP2 d` can both hold: a lower and an upper bound that leave
/// room between them, or bounds the same way. `!=` leaves room beside any range; values of
/// kinds that never order with each other (a number, a text) leave none.
fn ranges_meet(op1: BinOp, c: &Val, op2: BinOp, d: &Val) -> bool {
    if op1 == BinOp::Ne || op2 == BinOp::Ne {
        return true;
    }
    let Some(order) = c.order(d) else { return false };
    let below = |op| matches!(op, BinOp::Lt | BinOp::Le);
    let (low, high) = match (below(op1), below(op2)) {
        (false, true) => ((op1, order), op2),
        (true, false) => ((op2, order.reverse()), op1),
        // Two lower or two upper bounds: the tighter one holds.
        _ => return true,
    };
    let ((low_op, low_to_high), high_op) = (low, high);
    match low_to_high {
        Ordering::Less => true,
        Ordering::Equal => low_op == BinOp::Ge && high_op == BinOp::Le,
        Ordering::Greater => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parser::parse_expr;

    fn never(conditions: &[&str]) -> Option<String> {
        let exprs: Vec<Expr> = conditions.iter().map(|c| parse_expr(c).expect("a condition")).collect();
        never_together(&exprs.iter().collect::<Vec<_>>())
    }

    #[test]
    fn comparisons_that_leave_a_field_nothing_are_named() {
        for (conditions, first, second) in [
            (&["x > 10 and x < 5"][..], "x > 10", "x < 5"),
            (&["x >= 5 and x < 5"], "x >= 5", "x < 5"),
            (&["5 < x and x <= 5"], "x > 5", "x <= 5"),
            (
                &[r#"level == "error" and level == "warn""#],
                r#"level == "error""#,
                r#"level == "warn""#,
            ),
            (
                &[r#"level == "error""#, r#"level == "info""#],
                r#"level == "error""#,
                r#"level == "info""#,
            ),
            (
                &[r#"level in ["a", "b"] and level == "c""#],
                r#"level in ["a","b"]"#,
                r#"level == "c""#,
            ),
            (&["x == 3 and x > 4"], "x == 3", "x > 4"),
            (&["x == 3 and x != 3"], "x == 3", "x != 3"),
            (&[r#"x > 10 and x < "z""#], "x > 10", r#"x < "z""#),
            (&["a == 1 and (b == 2 and x > 2) and x < 1"], "x > 2", "x < 1"),
        ] {
            let want = format!(
                "{first} and {second} can never both hold, so where passes no event; for either, join them with or"
            );
            assert_eq!(never(conditions), Some(want), "{conditions:?}");
        }
    }

    #[test]
    fn comparisons_that_leave_room_are_quiet() {
        for conditions in [
            &["x > 5 and x < 10"][..],
            &["x >= 5 and x <= 5"],
            &["x > 5 and x > 10"],
            &["x == 1 and x == 1.0"],
            &[r#"level == "error" or level == "warn""#],
            &[r#"level in ["a", "b"] and level == "b""#],
            &["x != 3 and x > 2"],
            &["x > 10 and y < 5"],
            &[r#"s > "a" and s < "b""#],
            &["x > 10", "x < 20"],
            &["x == y and x == 2"],
            &[r#""a" in tags and "b" in tags"#],
        ] {
            assert_eq!(never(conditions), None, "{conditions:?}");
        }
    }
}
