//! Expressions: precedence climbing over the operators, literals, paths and function calls.

use super::{EXPR_HINT, Parser, build_regex, nearest};
use crate::lang::ast::{BinOp, Expr};
use crate::lang::error::{LangError, Span};
use crate::lang::func::Func;
use crate::lang::lexer::{Tok, Token};
use crate::lang::value::Val;

impl Parser {
    pub(super) fn expr(&mut self) -> Result<Expr, LangError> {
        self.nested(|p| p.binary(0))
    }

    /// Precedence climbing over the levels, lowest first: 0 `or`, 1 `and`, 2 `not`, 3 `??`,
    /// 4 comparisons (not chained), 5 `+ -`, 6 `* / %`; unary `-` binds tightest. A loop, not
    /// one call per level, so that a bracket costs few stack frames.
    fn binary(&mut self, min: u8) -> Result<Expr, LangError> {
        let depth = self.depth;
        let e = self.climb(min);
        self.depth = depth;
        e
    }

    fn climb(&mut self, min: u8) -> Result<Expr, LangError> {
        let mut lhs = if min <= 2 && (self.eat_word("not") || self.eat_punct("!")) {
            Expr::Not(Box::new(self.nested(|p| p.binary(2))?))
        } else {
            self.unary()?
        };
        let mut compared = false;
        while let Some(level) = self.infix_level() {
            if let Some(e) = self.option_here() {
                return Err(e);
            }
            if level < min || (level == 4 && compared) {
                break;
            }
            lhs = if level == 4 {
                compared = true;
                self.comparison(lhs)?
            } else {
                let op = self.binop();
                let rhs = self.nested(|p| p.binary(level + 1))?;
                Expr::Bin(op, Box::new(lhs), Box::new(rhs))
            };
            // Each operator of a chain nests the tree one level deeper.
            self.depth += 1;
        }
        if let Some(e) = self.stray_operator_here() {
            return Err(e);
        }
        Ok(lhs)
    }

    /// The level of the binary operator at the cursor, if there is one.
    fn infix_level(&self) -> Option<u8> {
        Some(match self.peek()? {
            Tok::Ident(w) if w == "or" => 0,
            Tok::Punct("||") => 0,
            Tok::Ident(w) if w == "and" => 1,
            Tok::Punct("&&") => 1,
            Tok::Punct("??") => 3,
            Tok::Punct("==" | "!=" | "<" | "<=" | ">" | ">=" | "=~" | "!~") => 4,
            Tok::Ident(w) if w == "in" => 4,
            Tok::Ident(w) if w == "not" && matches!(self.peek_at(1), Some(Tok::Ident(x)) if x == "in") => 4,
            Tok::Punct("+" | "-") => 5,
            Tok::Punct("*" | "/" | "%") => 6,
            _ => return None,
        })
    }

    /// Consumes a binary operator other than a comparison.
    fn binop(&mut self) -> BinOp {
        let op = match self.peek() {
            Some(Tok::Ident(w)) if w == "or" => BinOp::Or,
            Some(Tok::Ident(w)) if w == "and" => BinOp::And,
            Some(Tok::Punct("&&")) => BinOp::And,
            Some(Tok::Punct("||")) => BinOp::Or,
            Some(Tok::Punct("??")) => BinOp::Coalesce,
            Some(Tok::Punct("+")) => BinOp::Add,
            Some(Tok::Punct("-")) => BinOp::Sub,
            Some(Tok::Punct("*")) => BinOp::Mul,
            Some(Tok::Punct("/")) => BinOp::Div,
            // `%`, the last one `infix_level` knows.
            _ => BinOp::Rem,
        };
        self.advance();
        op
    }

    fn comparison(&mut self, lhs: Expr) -> Result<Expr, LangError> {
        let op = match self.peek() {
            Some(Tok::Punct("==")) => BinOp::Eq,
            Some(Tok::Punct("!=")) => BinOp::Ne,
            Some(Tok::Punct("<")) => BinOp::Lt,
            Some(Tok::Punct("<=")) => BinOp::Le,
            Some(Tok::Punct(">")) => BinOp::Gt,
            Some(Tok::Punct(">=")) => BinOp::Ge,
            Some(Tok::Punct(p @ ("=~" | "!~"))) => {
                let negate = *p == "!~";
                self.advance();
                return self.regex_match(lhs, negate);
            }
            Some(Tok::Ident(w)) if w == "not" => {
                self.advance();
                BinOp::NotIn
            }
            _ => BinOp::In,
        };
        self.advance();
        let rhs = if matches!(op, BinOp::In | BinOp::NotIn) && self.eat_punct("(") {
            // `in (…)` is always a list, as in SQL: `level in ("error")` is equality, not
            // the substring test that `in "error"` is.
            let items = self.nested(|p| p.list(Parser::expr))?;
            self.expect_punct(")")?;
            fold_array(items)
        } else {
            self.nested(|p| p.binary(5))?
        };
        Ok(Expr::Bin(op, Box::new(lhs), Box::new(rhs)))
    }

    /// The regex after `=~` or `!~`: a /regex/ or a string.
    fn regex_match(&mut self, lhs: Expr, negate: bool) -> Result<Expr, LangError> {
        let re = match self.next() {
            Some(Token {
                tok: Tok::Regex { pattern, flags },
                span,
            }) => build_regex(&pattern, &flags, span)?,
            Some(Token { tok: Tok::Str(s), span }) => build_regex(&s, "", span)?,
            _ => {
                return Err(LangError::new(
                    "expected a regex such as /5\\d\\d/ after the match operator",
                    self.prev_span(),
                )
                .hint("write the pattern between slashes or in double quotes: status =~ /5\\d\\d/"));
            }
        };
        Ok(Expr::Match {
            expr: Box::new(lhs),
            re,
            negate,
        })
    }

    fn unary(&mut self) -> Result<Expr, LangError> {
        if self.eat_punct("-") {
            return Ok(match self.nested(Parser::unary)? {
                // A negative literal is negated as a value is, exactly.
                Expr::Const(v @ (Val::Int(_) | Val::Float(_) | Val::Num(_))) => Expr::Const(v.negated()),
                e => Expr::Neg(Box::new(e)),
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, LangError> {
        let e = self.atom()?;
        if matches!(self.peek(), Some(Tok::Punct("[" | "."))) {
            return self.postfix(e);
        }
        Ok(e)
    }

    fn atom(&mut self) -> Result<Expr, LangError> {
        let span = self.span_here();
        let Some(tok) = self.peek().cloned() else {
            return Err(LangError::new("expected an expression", span).hint(EXPR_HINT));
        };
        match tok {
            Tok::Str(s) => {
                self.advance();
                Ok(Expr::Const(Val::string(s)))
            }
            Tok::Num(n) => {
                self.advance();
                Ok(Expr::Const(Val::number_text(n.into())))
            }
            Tok::Duration(d) => {
                self.advance();
                Ok(Expr::Const(if d.fract() == 0.0 {
                    Val::Int(d as i64)
                } else {
                    Val::Float(d)
                }))
            }
            Tok::Regex { pattern, flags } => {
                self.advance();
                Ok(Expr::Regex(build_regex(&pattern, &flags, span)?))
            }
            Tok::Punct("(") => {
                self.advance();
                let e = self.expr()?;
                if self.eat_punct(",") {
                    // `("a", "b")`: a list, as `in` takes it.
                    let mut items = vec![e];
                    items.extend(self.list(Parser::expr)?);
                    self.expect_punct(")")?;
                    return Ok(fold_array(items));
                }
                self.expect_punct(")")?;
                Ok(e)
            }
            Tok::Punct("{") => self.object(),
            Tok::Time(t) => {
                self.advance();
                Ok(Expr::Const(crate::lang::func::num_val(t)))
            }
            Tok::Var(name) => self.parameter(&name, span),
            Tok::Ident(w) if w == "if" => self.conditional(),
            Tok::Punct("[") => {
                self.advance();
                let mut items = Vec::new();
                if !self.eat_punct("]") {
                    items = self.list(Parser::expr)?;
                    self.expect_punct("]")?;
                }
                Ok(fold_array(items))
            }
            Tok::Ident(w) if w == "true" || w == "false" || w == "null" => {
                self.advance();
                Ok(Expr::Const(match w.as_str() {
                    "true" => Val::Bool(true),
                    "false" => Val::Bool(false),
                    _ => Val::Null,
                }))
            }
            Tok::Ident(w) if matches!(self.peek_at(1), Some(Tok::Punct("("))) => self.call(&w, span),
            Tok::Ident(_) | Tok::Quoted(_) | Tok::Punct(".") => Ok(Expr::Path(self.expr_path()?)),
            Tok::Punct(_) => Err(LangError::new("expected an expression", span).hint(EXPR_HINT)),
        }
    }

    fn call(&mut self, name: &str, span: Span) -> Result<Expr, LangError> {
        let Some(f) = Func::from_name(name) else {
            if let Some(e) = self.aggregate_in_expression(name, span) {
                return Err(e);
            }
            let e = LangError::new(format!("unknown function `{name}`"), span);
            if let Some(h) = super::teach::foreign_word(name) {
                return Err(e.hint(h));
            }
            return Err(match nearest(name, Func::NAMES) {
                Some(s) => e.hint(format!("did you mean `{s}`?")),
                None => e.hint(format!("functions are: {}", Func::NAMES.join(", "))),
            });
        };
        self.advance();
        self.advance();
        let mut args = Vec::new();
        if !self.eat_punct(")") {
            args = if f.takes_lambda() {
                let arr = self.expr()?;
                if !self.eat_punct(",") {
                    return Err(self
                        .error_here("expected `,` before the lambda")
                        .hint(format!("call it as {}", f.signature())));
                }
                vec![arr, self.lambda(name)?]
            } else {
                self.list(Parser::expr)?
            };
            self.expect_punct(")")?;
        }
        let (min, max) = f.arity();
        let span = span.to(self.prev_span());
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(
                LangError::new(format!("`{name}` takes {want} argument(s), got {}", args.len()), span)
                    .hint(format!("call it as {}", f.signature())),
            );
        }
        super::calls::check(f, &mut args, span)?;
        if f == Func::Exists && !matches!(args[0], Expr::Path(_)) {
            return Err(LangError::new("`exists` takes a field path", span).hint("e.g. exists(user.id)"));
        }
        Ok(super::calls::fold(f, args))
    }
}

/// An array of constants is itself a constant.
fn fold_array(items: Vec<Expr>) -> Expr {
    if items.iter().all(|e| matches!(e, Expr::Const(_))) {
        let vals = items
            .into_iter()
            .map(|e| match e {
                Expr::Const(v) => v.into_value(),
                _ => unreachable!("checked all constants"),
            })
            .collect();
        Expr::Const(Val::Json(std::borrow::Cow::Owned(serde_json::Value::Array(vals))))
    } else {
        Expr::Array(items)
    }
}
