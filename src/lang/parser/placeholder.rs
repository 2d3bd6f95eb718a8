//! A template placeholder: `{EXPR}`, or `{EXPR | f | g(a)}`, which reads as `g(f(EXPR), a)`:
//! each function after a `|` takes the value before it as its first argument.

use super::{Expr, LangError, Parser, Tok};
use crate::lang::func::Func;

/// What a filter looks like, for messages.
const FILTER_HINT: &str = "after `|` name a function, e.g. {level | upper} or {msg | substr(0, 20)}";

impl Parser {
    /// One placeholder's expression and its filters, up to the end of the text.
    pub(super) fn placeholder(&mut self) -> Result<Expr, LangError> {
        let mut e = self.expr()?;
        while self.eat_punct("|") {
            e = self.filter(e)?;
        }
        if self.peek().is_some() {
            return Err(self
                .error_here("unexpected text after the placeholder's expression")
                .hint(FILTER_HINT));
        }
        Ok(e)
    }

    /// `f` or `f(args…)` after a `|`, applied to `input`.
    fn filter(&mut self, input: Expr) -> Result<Expr, LangError> {
        let span = self.span_here();
        let Some(Tok::Ident(name)) = self.peek().cloned() else {
            return Err(self.error_here("expected a function name after `|`").hint(FILTER_HINT));
        };
        let Some(f) = Func::from_name(&name) else {
            return Err(LangError::new(format!("unknown function `{name}`"), span)
                .hint(format!("functions are: {}", Func::NAMES.join(", "))));
        };
        self.advance();
        let mut args = vec![input];
        if self.eat_punct("(") && !self.eat_punct(")") {
            args.extend(self.list(Parser::expr)?);
            self.expect_punct(")")?;
        }
        let (min, max) = f.arity();
        if args.len() < min || args.len() > max {
            let span = span.to(self.prev_span());
            return Err(LangError::new(
                format!(
                    "`{name}` takes {} argument(s) after the value before `|`",
                    arity_text(min, max)
                ),
                span,
            )
            .hint(FILTER_HINT));
        }
        if f == Func::Strftime {
            if let Expr::Const(crate::lang::Val::Str(fmt)) = &args[1] {
                if !crate::time::writable_format(fmt) {
                    return Err(LangError::new("bad strftime format", span.to(self.prev_span()))
                        .hint("e.g. {ts | strftime(\"%H:%M:%S\")}"));
                }
            }
        }
        Ok(Expr::Call(f, args))
    }
}

/// `n-1`, or `a-1 to b-1`: the arguments a filter is written with.
fn arity_text(min: usize, max: usize) -> String {
    let (min, max) = (min.saturating_sub(1), max.saturating_sub(1));
    if min == max {
        format!("{min}")
    } else {
        format!("{min} to {max}")
    }
}
