//! Parsing of the aggregate stages: `count`, `stats`, `top`, `distinct`, `sort`.

use super::{Parser, nearest};
use crate::lang::ast::{AggSpec, Expr, KeyName, KeySpec, StageSpec};
use crate::lang::error::LangError;
use crate::lang::lexer::Tok;
use crate::lang::value::Val;

/// Aggregate function names, for parsing and suggestions.
const AGG_NAMES: &[&str] = crate::agg::AggFn::NAMES;

impl Parser {
    pub(super) fn aggregate_stage(&mut self, name: &str) -> Result<StageSpec, LangError> {
        Ok(match name {
            "count" => {
                let keys = if self.eat_word("by") { self.keys()? } else { Vec::new() };
                StageSpec::Count {
                    keys,
                    every: self.every()?,
                }
            }
            "stats" => {
                let aggs = self.list(Parser::agg)?;
                let keys = if self.eat_word("by") { self.keys()? } else { Vec::new() };
                StageSpec::Stats {
                    aggs,
                    keys,
                    every: self.every()?,
                }
            }
            "top" => {
                let n = match self.peek() {
                    Some(Tok::Num(_)) => self.count_arg(10)?,
                    _ => 10,
                };
                let keys = self.keys()?;
                let by = if self.eat_word("by") { Some(self.agg()?) } else { None };
                StageSpec::Top { n, keys, by }
            }
            "distinct" => StageSpec::Distinct { keys: self.keys()? },
            _ => StageSpec::Sort {
                keys: self.list(|p| {
                    let e = p.expr()?;
                    let desc = p.eat_word("desc");
                    if !desc {
                        p.eat_word("asc");
                    }
                    Ok((e, desc))
                })?,
            },
        })
    }

    fn every(&mut self) -> Result<Option<f64>, LangError> {
        if !self.eat_word("every") {
            return Ok(None);
        }
        match self.next().map(|t| (t.tok, t.span)) {
            Some((Tok::Duration(d), _)) if d > 0.0 => Ok(Some(d)),
            Some((_, span)) => Err(LangError::new("expected a window length such as 1m", span)),
            None => Err(self.error_here("expected a window length such as 1m")),
        }
    }

    fn keys(&mut self) -> Result<Vec<KeySpec>, LangError> {
        self.list(|p| {
            let start = p.span_here();
            let expr = p.expr()?;
            let text = p.source_text(start.to(p.prev_span()));
            let name = if p.eat_word("as") {
                KeyName::Named(p.name()?)
            } else {
                match &expr {
                    Expr::Path(path) if !path.segs.is_empty() => KeyName::Path(path.clone()),
                    _ => KeyName::Named(text),
                }
            };
            Ok(KeySpec { expr, name })
        })
    }

    fn name(&mut self) -> Result<String, LangError> {
        match self.next().map(|t| t.tok) {
            Some(Tok::Ident(w) | Tok::Quoted(w) | Tok::Str(w)) => Ok(w),
            _ => Err(LangError::new("expected a name after `as`", self.prev_span())),
        }
    }

    /// `count()`, `sum(x)`, `percentile(x, 95)`, each optionally `as NAME`.
    fn agg(&mut self) -> Result<AggSpec, LangError> {
        let span = self.span_here();
        let func = match self.next().map(|t| t.tok) {
            Some(Tok::Ident(w)) => w,
            _ => {
                return Err(LangError::new(
                    "expected an aggregate such as count() or avg(latency_ms)",
                    span,
                ));
            }
        };
        if !AGG_NAMES.contains(&func.as_str()) {
            let e = LangError::new(format!("unknown aggregate `{func}`"), span);
            return Err(match nearest(&func, AGG_NAMES) {
                Some(s) => e.hint(format!("did you mean `{s}`?")),
                None => e.hint(format!("aggregates are: {}", AGG_NAMES.join(", "))),
            });
        }
        self.expect_punct("(")?;
        let mut arg = None;
        let mut q = None;
        if !self.eat_punct(")") {
            arg = Some(self.expr()?);
            if func == "percentile" {
                self.expect_punct(",")?;
                let qspan = self.span_here();
                let v = match self.expr()? {
                    Expr::Const(v) => v.numeric().map(|n| n.as_f64()),
                    _ => None,
                };
                match v {
                    Some(p) if (0.0..=100.0).contains(&p) => q = Some(p / 100.0),
                    _ => return Err(LangError::new("the percentile must be a number from 0 to 100", qspan)),
                }
            }
            self.expect_punct(")")?;
        }
        let full = span.to(self.prev_span());
        if arg.is_none() && func != "count" {
            return Err(LangError::new(
                format!("`{func}` takes a value, e.g. {func}(latency_ms)"),
                full,
            ));
        }
        if func == "percentile" && q.is_none() {
            return Err(LangError::new(
                "percentile takes a value and a percentage, e.g. percentile(latency_ms, 95)",
                full,
            ));
        }
        let name = if self.eat_word("as") {
            self.name()?
        } else {
            default_name(&func, arg.as_ref(), q)
        };
        Ok(AggSpec { func, arg, q, name })
    }
}

/// `count`, `count_user_id`, `sum_latency_ms`, `p95_latency_ms`: usable as plain field names.
fn default_name(func: &str, arg: Option<&Expr>, q: Option<f64>) -> String {
    let func = match q {
        Some(q) => format!("p{}", Val::Float(q * 100.0).to_text()).replace('.', "_"),
        None => func.to_string(),
    };
    match arg {
        Some(Expr::Path(p)) if !p.segs.is_empty() => {
            let path: String = p
                .to_string()
                .chars()
                .map(|c| if c.is_alphanumeric() { c } else { '_' })
                .collect();
            format!("{func}_{}", path.trim_matches('_'))
        }
        _ => func,
    }
}
