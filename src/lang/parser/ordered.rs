//! Parsing of the ordered pattern stages: `dedupe`, `throttle` and `reorder`.

use super::Parser;
use crate::lang::ast::{Bound, Expr, Path, Seg, StageSpec};
use crate::lang::error::LangError;
use crate::lang::lexer::Tok;

impl Parser {
    /// `dedupe [by EXPR, …] [within DUR]`.
    pub(super) fn dedupe_stage(&mut self) -> Result<StageSpec, LangError> {
        let keys = if self.eat_word("by") {
            self.list(Parser::expr)?
        } else {
            vec![Expr::Path(Path::new(vec![Seg::Key("id".into())]))]
        };
        let within = if self.eat_word("within") {
            Some(self.duration("dedupe by id within 10m")?)
        } else {
            None
        };
        Ok(StageSpec::Dedupe { keys, within })
    }

    /// `throttle N per DUR [by EXPR]`.
    pub(super) fn throttle_stage(&mut self) -> Result<StageSpec, LangError> {
        let limit = self.positive_count("write how many events pass per window, e.g. throttle 100 per 1m")?;
        if !self.eat_word("per") {
            return Err(self
                .error_here("expected `per` and a window length")
                .hint("throttle 100 per 1m [by EXPR]"));
        }
        let per = self.duration("throttle 100 per 1m")?;
        let by = if self.eat_word("by") { Some(self.expr()?) } else { None };
        Ok(StageSpec::Throttle { limit, per, by })
    }

    /// `reorder by EXPR within DUR` or `reorder by EXPR within N` (events).
    pub(super) fn reorder_stage(&mut self) -> Result<StageSpec, LangError> {
        if !self.eat_word("by") {
            return Err(self
                .error_here("expected `by` and the field to order by")
                .hint("reorder by ts within 5s, or reorder by seq within 1000 (events)"));
        }
        let by = self.expr()?;
        if !self.eat_word("within") {
            return Err(self
                .error_here("expected `within` and how far events may be out of order")
                .hint("a duration (within 5s) or a number of events (within 1000)"));
        }
        let within = match self.peek() {
            Some(Tok::Num(_)) => {
                let span = self.span_here();
                match self.whole_number("write a number of events such as 1000, or a duration such as 5s")? {
                    0 => {
                        return Err(LangError::new("reorder within 0 events holds nothing back", span)
                            .hint("write 1 or more events (within 1000), or a duration such as 5s"));
                    }
                    n => Bound::Events(n),
                }
            }
            _ => Bound::Span(self.duration("reorder by ts within 5s, or within 1000 for a number of events")?),
        };
        Ok(StageSpec::Reorder { by, within })
    }

    /// A duration longer than zero; `example` shows it in use.
    fn duration(&mut self, example: &str) -> Result<f64, LangError> {
        let span = self.span_here();
        let hint = format!("write a duration such as 250ms, 30s, 5m or 1h, e.g. {example}");
        match self.peek() {
            Some(Tok::Duration(d)) if *d >= 0.001 && super::agg::whole_ms(*d) => {
                let d = *d;
                self.advance();
                Ok(d)
            }
            Some(Tok::Duration(d)) if *d <= 0.0 => {
                Err(LangError::new("the duration must be longer than zero", span).hint(hint))
            }
            // Event times are seconds in a float, exact to about a microsecond in this century:
            // a shorter span would be lost in rounding, and every event would seem late.
            Some(Tok::Duration(_)) => Err(LangError::new(
                "the duration must be a whole number of milliseconds, 1ms or more, as event-time windows are",
                span,
            )
            .hint(hint)),
            _ => Err(LangError::new("expected a duration such as 1m", span).hint(hint)),
        }
    }

    /// A whole number of at least 1.
    fn positive_count(&mut self, what: &str) -> Result<u64, LangError> {
        let span = self.span_here();
        match self.whole_number(what)? {
            0 => Err(LangError::new("the count must be at least 1", span).hint(what)),
            n => Ok(n),
        }
    }

    fn whole_number(&mut self, what: &str) -> Result<u64, LangError> {
        let (n, digits) = match self.peek() {
            Some(Tok::Num(n)) => (n.parse::<u64>().ok(), super::all_digits(n)),
            _ => (None, false),
        };
        match n {
            Some(n) => {
                self.advance();
                Ok(n)
            }
            None if digits => Err(self
                .error_here("the number is too large: at most 18446744073709551615")
                .hint(what.to_string())),
            None => Err(self.error_here("expected a whole number").hint(what.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lang::ast::{Bound, StageSpec};
    use crate::lang::parser::tests::{explained as error, first_stage as spec};

    #[test]
    fn the_stages_parse_with_their_defaults() {
        match spec("dedupe") {
            StageSpec::Dedupe { keys, within: None } => assert_eq!(keys.len(), 1),
            other => panic!("{other:?}"),
        }
        match spec("dedupe by a, b.c within 5m | head 1") {
            StageSpec::Dedupe { keys, within } => assert_eq!((keys.len(), within), (2, Some(300.0))),
            other => panic!("{other:?}"),
        }
        match spec("throttle 10 per 1s by user.id") {
            StageSpec::Throttle { limit, per, by } => assert_eq!((limit, per, by.is_some()), (10, 1.0, true)),
            other => panic!("{other:?}"),
        }
        match spec("reorder by ts within 250ms") {
            StageSpec::Reorder { within, .. } => assert_eq!(within, Bound::Span(0.25)),
            other => panic!("{other:?}"),
        }
        match spec("reorder by seq within 1000") {
            StageSpec::Reorder { within, .. } => assert_eq!(within, Bound::Events(1000)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_or_bad_parts_are_explained() {
        for (src, message) in [
            ("dedupe within", "expected a duration"),
            ("dedupe by id within 0s", "longer than zero"),
            ("dedupe within 1ns", "a whole number of milliseconds, 1ms or more"),
            ("throttle 1 per 1500us", "a whole number of milliseconds, 1ms or more"),
            (
                "reorder by ts within 100ns",
                "a whole number of milliseconds, 1ms or more",
            ),
            ("reorder by seq within 0", "reorder within 0 events holds nothing back"),
            ("dedupe within 10", "expected a duration"),
            ("throttle per 1m", "expected a whole number"),
            ("throttle 0 per 1m", "at least 1"),
            (
                "throttle 99999999999999999999 per 1m",
                "the number is too large: at most 18446744073709551615",
            ),
            ("throttle 5 1m", "expected `per`"),
            ("throttle 5 per", "expected a duration"),
            ("throttle 5 per 1m by", "expected"),
            ("reorder ts within 1s", "expected `by`"),
            ("reorder by ts", "expected `within`"),
            ("reorder by ts within 1.5", "expected a whole number"),
            ("reorder by ts within soon", "expected a duration"),
        ] {
            let r = error(src);
            assert!(r.contains(message), "`{src}`: {r}");
        }
    }
}
