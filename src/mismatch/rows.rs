//! Comparisons with an aggregate's numbers that never hold: `count by type | where count >
//! "100"` compares the rows' `count`, a number, with text, which never equals or orders with a
//! number, so nothing passes. The types of an aggregate's results are known before the run, so
//! these are named at its start, with the fix: `count > 100`.

use super::{flipped, number_fix, symbol};
use crate::lang::ast::Seg;
use crate::lang::{Expr, Val};
use crate::stage::Stage;

/// A warning for each comparison of an aggregate's numeric result with text in the `where`
/// stages right after it (and after stages that pass its rows on as they are).
pub(crate) fn aggregate_rows(stages: &[&Stage]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (i, stage) in stages.iter().enumerate() {
        let Stage::Group(g) = *stage else { continue };
        let numbers: Vec<&str> = g.spec.numeric_results().collect();
        for later in &stages[i + 1..] {
            match *later {
                Stage::Where(w) => text_compared(w.cond(), &numbers, g.spec.stage, &mut warnings),
                s if crate::seen::keeps_fields(s) => {}
                _ => break,
            }
        }
    }
    warnings
}

/// Adds a warning for each comparison in `e` of one of `numbers` with text.
fn text_compared(e: &Expr, numbers: &[&str], stage: &str, out: &mut Vec<String>) {
    e.each_child(&mut |c| text_compared(c, numbers, stage, out));
    let Expr::Bin(op, a, b) = e else { return };
    let (p, op, text) = match (&**a, &**b) {
        (Expr::Path(p), Expr::Const(Val::Str(text))) => (p, *op, text),
        (Expr::Const(Val::Str(text)), Expr::Path(p)) => (p, flipped(*op), text),
        _ => return,
    };
    let ([Seg::Key(name)], Some(sym)) = (p.segs.as_slice(), symbol(op)) else {
        return;
    };
    if matches!(sym, "in" | "not in") || !numbers.contains(&&**name) {
        return;
    }
    let outcome = if sym == "!=" { "always holds" } else { "never holds" };
    let written = serde_json::Value::from(&**text);
    out.push(format!(
        "{p} {sym} {written} {outcome}: {p} is a number in the rows of {stage}, which text never equals or orders with; \
         compare with {}",
        number_fix(text)
    ));
}

#[cfg(test)]
mod tests {
    use super::aggregate_rows;
    use crate::stage::{Stage, StageOptions};

    fn warnings(src: &str) -> Vec<String> {
        let asts = crate::lang::parse_pipeline(src).expect("a pipeline");
        let opts = StageOptions::default();
        let stages: Vec<Stage> = asts.iter().map(|a| Stage::build(a, &opts).expect("a stage")).collect();
        aggregate_rows(&stages.iter().collect::<Vec<_>>())
    }

    #[test]
    fn an_aggregates_number_compared_with_text_is_named_with_the_fix() {
        assert_eq!(
            warnings("count by type | head 5 | where count > \"100\""),
            [
                "count > \"100\" never holds: count is a number in the rows of count, which text never equals or \
              orders with; compare with 100"
            ]
        );
        assert_eq!(
            warnings("stats avg(ms) as a, p99(ms) by s | where \"x\" != a or p99_ms == \"1.5\""),
            [
                "a != \"x\" always holds: a is a number in the rows of stats, which text never equals or orders \
                 with; compare with a number",
                "p99_ms == \"1.5\" never holds: p99_ms is a number in the rows of stats, which text never equals or \
                 orders with; compare with 1.5",
            ]
        );
    }

    #[test]
    fn keys_other_results_and_fields_set_again_are_quiet() {
        for quiet in [
            "count by level | where level == \"x\"",
            "stats first(ms) as f by s | where f == \"x\"",
            "count by type | set count = str(count) | where count == \"1\"",
            "count by type | where count > 100",
        ] {
            assert!(warnings(quiet).is_empty(), "{quiet}");
        }
    }
}
