//! Parsing of the discovery and reshaping stages: `summary`, `shapes`, `flatten`,
//! `unflatten`, `fill-down`, `step`, and `head`/`tail` with their optional `by KEYS`.

use super::Parser;
use super::agg::Columns;
use crate::lang::ast::{Expr, Path, Seg, StageSpec, StepFn, StepSpec};
use crate::lang::error::{LangError, Span};
use crate::lang::lexer::Tok;

/// The functions of `step`, for errors and suggestions.
const STEP_FNS: &[&str] = &["delta", "shift", "rate", "sum", "count", "ewma"];

const STEP_HINT: &str = "step takes delta(x), shift(x), rate(x), sum(x), count() or ewma(x, 0.5), e.g. \
                         step delta(bytes), sum(bytes) by host";

impl Parser {
    /// `head [N] [by KEYS]` and `tail [N] [by KEYS]`.
    pub(super) fn head_tail_stage(&mut self, tail: bool) -> Result<StageSpec, LangError> {
        let n = match self.peek() {
            Some(Tok::Ident(w)) if w == "by" => 10,
            _ => self.count_arg(10)?,
        };
        let by = if self.eat_word("by") {
            let mut cols = Columns::default();
            self.keys(&mut cols)?
        } else {
            Vec::new()
        };
        Ok(if tail {
            StageSpec::Tail { n, by }
        } else {
            StageSpec::Head { n, by }
        })
    }

    /// `flatten [SEP]` and `unflatten [SEP]`: SEP is a non-empty string, `"."` by default.
    pub(super) fn flatten_stage(&mut self, undo: bool) -> Result<StageSpec, LangError> {
        let sep = match self.peek() {
            Some(Tok::Str(s)) if !s.is_empty() => {
                let s = s.clone();
                self.advance();
                s
            }
            Some(Tok::Str(_)) => {
                return Err(self
                    .error_here("the separator must not be empty")
                    .hint("write a separator such as \".\" (the default), \"_\" or \":\""));
            }
            None | Some(Tok::Punct("|")) => ".".to_string(),
            Some(_) => {
                let stage = if undo { "unflatten" } else { "flatten" };
                return Err(self.error_here("expected the separator in double quotes").hint(format!(
                    "{stage} joins keys with \".\"; another separator: {stage} \"_\""
                )));
            }
        };
        Ok(StageSpec::Flatten { sep, undo })
    }

    /// `fill-down PATH, …`, after its first word, `fill`. The lexer reads `fill-down` as
    /// `fill`, `-`, `down`.
    pub(super) fn fill_down_stage(&mut self, start: Span) -> Result<StageSpec, LangError> {
        let dashed = matches!(self.peek(), Some(Tok::Punct("-")))
            && matches!(self.peek_at(1), Some(Tok::Ident(w)) if w == "down");
        if !dashed {
            return Err(LangError::new("unknown stage `fill`", start).hint("did you mean `fill-down`?"));
        }
        self.advance();
        self.advance();
        if matches!(self.peek(), None | Some(Tok::Punct("|"))) {
            return Err(self
                .error_here("expected the fields to fill down")
                .hint("fill-down host, user.id (a missing or null field takes the last value seen)"));
        }
        Ok(StageSpec::FillDown(self.list(Parser::path)?))
    }

    /// `step FN(EXPR) [as NAME], … [by KEYS]`.
    pub(super) fn step_stage(&mut self) -> Result<StageSpec, LangError> {
        let mut steps: Vec<StepSpec> = Vec::new();
        for (spec, span) in self.list(Parser::step_fn)? {
            if steps.iter().any(|s| s.name == spec.name) {
                return Err(
                    LangError::new(format!("two parts of step write the field `{}`", spec.name), span)
                        .hint("give one of them another name with `as NAME`"),
                );
            }
            steps.push(spec);
        }
        let by = if self.eat_word("by") {
            let mut cols = Columns::default();
            self.keys(&mut cols)?
        } else {
            Vec::new()
        };
        Ok(StageSpec::Step { steps, by })
    }

    /// One part of `step`: `delta(x)`, `ewma(x, 0.5) as smooth`, `count()`.
    fn step_fn(&mut self) -> Result<(StepSpec, Span), LangError> {
        let start = self.span_here();
        let name = match self.next().map(|t| t.tok) {
            Some(Tok::Ident(w)) if STEP_FNS.contains(&w.as_str()) => w,
            Some(Tok::Ident(w)) => {
                let e = LangError::new(format!("`{w}` is not a step function"), start);
                return Err(match super::nearest(&w, STEP_FNS) {
                    Some(s) => e.hint(format!("did you mean `{s}`? {STEP_HINT}")),
                    None => e.hint(STEP_HINT),
                });
            }
            _ => return Err(LangError::new("expected a step function", start).hint(STEP_HINT)),
        };
        if !self.eat_punct("(") {
            return Err(self
                .error_here("expected `(` after the step function")
                .hint(format!("step functions are called like functions: {name}(x)")));
        }
        if name == "count" && self.eat_punct(")") {
            return self.step_name(StepFn::Count, None, start);
        }
        let arg = self.expr()?;
        let func = match name.as_str() {
            "delta" => StepFn::Delta,
            "shift" => StepFn::Shift,
            "rate" => StepFn::Rate,
            "sum" => StepFn::Sum,
            "count" => StepFn::Count,
            _ => StepFn::Ewma(self.smoothing()?),
        };
        self.expect_punct(")")?;
        self.step_name(func, Some(arg), start)
    }

    /// The smoothing factor of `ewma(x, ALPHA)`: above 0 and at most 1; 0.5 when left out.
    fn smoothing(&mut self) -> Result<f64, LangError> {
        if !self.eat_punct(",") {
            return Ok(0.5);
        }
        let span = self.span_here();
        let alpha = match self.next().map(|t| t.tok) {
            Some(Tok::Num(n)) => n.parse::<f64>().ok(),
            _ => None,
        };
        match alpha {
            Some(a) if a > 0.0 && a <= 1.0 => Ok(a),
            _ => Err(
                LangError::new("the smoothing factor must be above 0 and at most 1", span)
                    .hint("ewma(x, 0.1) smooths much, ewma(x, 0.9) follows the latest values"),
            ),
        }
    }

    /// `as NAME`, or the default name: the path's keys joined by `_`, then the function
    /// (`bytes_delta`, `count`, `bytes_ewma_0_5`), as Miller names them.
    fn step_name(&mut self, func: StepFn, arg: Option<Expr>, start: Span) -> Result<(StepSpec, Span), LangError> {
        let name = if self.eat_word("as") {
            self.path()?
        } else {
            let span = start.to(self.prev_span());
            let base = match &arg {
                None => None,
                Some(Expr::Path(p)) if !p.segs.is_empty() => Some(underscored(p)),
                Some(_) => {
                    return Err(LangError::new("this step needs a name", span)
                        .hint(format!("name its field with as: {} as NAME", self.source_text(span))));
                }
            };
            let suffix = match func {
                StepFn::Delta => "delta".to_string(),
                StepFn::Shift => "shift".to_string(),
                StepFn::Rate => "rate".to_string(),
                StepFn::Sum => "sum".to_string(),
                StepFn::Count => "count".to_string(),
                StepFn::Ewma(a) => format!("ewma_{a}").replace('.', "_"),
            };
            let key = match base {
                Some(b) => format!("{b}_{suffix}"),
                None => suffix,
            };
            Path::new(vec![Seg::Key(key.into())])
        };
        let span = start.to(self.prev_span());
        Ok((StepSpec { func, arg, name }, span))
    }
}

/// A path as one plain word: its keys and indexes joined by `_`, other characters as `_`.
pub(super) fn underscored(p: &Path) -> String {
    let parts: Vec<String> = p
        .segs
        .iter()
        .map(|s| match s {
            Seg::Key(k) => k.chars().map(|c| if c.is_alphanumeric() { c } else { '_' }).collect(),
            Seg::Index(i) => i.to_string().replace('-', "_"),
        })
        .collect();
    parts.join("_")
}

#[cfg(test)]
mod tests {
    use crate::lang::ast::{StageSpec, StepFn};
    use crate::lang::parser::tests::{explained as error, first_stage as spec};

    #[test]
    fn head_and_tail_take_an_optional_count_and_keys() {
        assert!(matches!(spec("head"), StageSpec::Head { n: 10, ref by } if by.is_empty()));
        assert!(matches!(spec("head 3 by a, b.c"), StageSpec::Head { n: 3, ref by } if by.len() == 2));
        assert!(matches!(spec("tail by host"), StageSpec::Tail { n: 10, ref by } if by.len() == 1));
        assert!(matches!(spec("tail 2 | head 1"), StageSpec::Tail { n: 2, ref by } if by.is_empty()));
        assert!(error("head by").contains("expected"));
        assert!(error("head x").contains("expected a whole number"));
        assert!(error("head 99999999999999999999").contains("the count is too large"));
    }

    #[test]
    fn flatten_takes_an_optional_separator() {
        assert!(matches!(spec("flatten"), StageSpec::Flatten { ref sep, undo: false } if sep == "."));
        assert!(matches!(spec("unflatten \":\""), StageSpec::Flatten { ref sep, undo: true } if sep == ":"));
        assert!(error("flatten \"\"").contains("must not be empty"));
        assert!(error("flatten _").contains("double quotes"));
    }

    #[test]
    fn fill_down_is_one_word_with_a_dash() {
        assert!(matches!(spec("fill-down a, b.c | head 1"), StageSpec::FillDown(ref p) if p.len() == 2));
        assert!(error("fill a").contains("did you mean `fill-down`?"));
        assert!(error("fill-down").contains("expected the fields"));
        assert!(error("filldown a").contains("did you mean `fill-down`?"));
    }

    #[test]
    fn step_names_its_fields_as_miller_does() {
        let StageSpec::Step { steps, by } =
            spec("step delta(x), shift(a.b), count(), ewma(x, 0.1), sum(y) as total, rate(n) by k")
        else {
            panic!()
        };
        let names: Vec<String> = steps.iter().map(|s| s.name.to_string()).collect();
        assert_eq!(
            names,
            ["x_delta", "a_b_shift", "count", "x_ewma_0_1", "total", "n_rate"]
        );
        assert_eq!(steps[3].func, StepFn::Ewma(0.1));
        assert_eq!(by.len(), 1);
        assert!(
            matches!(spec("step ewma(x)"), StageSpec::Step { ref steps, .. } if steps[0].func == StepFn::Ewma(0.5))
        );
    }

    #[test]
    fn step_errors_are_explained() {
        for (src, message) in [
            ("step delt(x)", "did you mean `delta`?"),
            ("step delta x", "expected `(`"),
            ("step delta(a + b)", "needs a name"),
            ("step ewma(x, 0)", "smoothing factor"),
            ("step ewma(x, 1.5)", "smoothing factor"),
            ("step sum(x), sum(x)", "two parts of step write the field `x_sum`"),
            ("step", "expected a step function"),
        ] {
            let r = error(src);
            assert!(r.contains(message), "`{src}`: {r}");
        }
    }
}
