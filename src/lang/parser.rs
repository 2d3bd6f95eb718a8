//! Recursive-descent parser for pipelines and expressions (precedence climbing).

use super::ast::{BinOp, Expr, Path, Seg, StageAst, StageSpec, Template, TemplatePart};
use super::error::{LangError, Span};
use super::func::Func;
use super::lexer::{Tok, Token, lex};
use super::value::Val;
use regex::{Regex, RegexBuilder};

mod agg;
mod route;

/// Words that need backticks when used as field names.
pub const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "by", "as", "every", "from", "else", "within", "true", "false", "null",
];

/// Every stage of the language, for suggestions.
pub const STAGES: &[&str] = &[
    "where", "set", "del", "keep", "rename", "head", "tail", "parse", "explode", "route", "to", "tee", "count",
    "stats", "top", "distinct", "sort", "dedupe", "sample", "throttle", "reorder", "fold", "join", "validate",
    "assert",
];

pub fn parse_pipeline(src: &str) -> Result<Vec<StageAst>, LangError> {
    let mut p = Parser::new(src)?;
    let mut stages = Vec::new();
    if p.toks.is_empty() {
        return Err(LangError::new("empty pipeline", Span::new(0, src.len().max(1)))
            .hint("try 'where true' to pass every event through"));
    }
    loop {
        if let Some(StageAst {
            spec: StageSpec::To { tee: false, .. },
            span,
        }) = stages.last()
        {
            return Err(
                LangError::new("`to` ends the pipeline", *span).hint("use `tee` to write events and pass them on")
            );
        }
        stages.push(p.stage()?);
        match p.peek() {
            None => break,
            Some(Tok::Punct("|")) => p.pos += 1,
            Some(_) => return Err(p.error_here("expected `|` before the next stage")),
        }
    }
    Ok(stages)
}

/// Parses a single expression (used by tests and templates).
pub fn parse_expr(src: &str) -> Result<Expr, LangError> {
    let mut p = Parser::new(src)?;
    let e = p.expr()?;
    if p.peek().is_some() {
        return Err(p.error_here("unexpected text after the expression"));
    }
    Ok(e)
}

/// Parses `"dir/{service}/{topic()}.ndjson"`; `{{` and `}}` are literal braces.
pub fn parse_template(s: &str) -> Result<Template, LangError> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut rest = s;
    let mut at = 0;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("{{") || rest.starts_with("}}") {
            lit.push(c);
            rest = &rest[2..];
            at += 2;
        } else if c == '{' {
            let close = rest
                .find('}')
                .ok_or_else(|| LangError::new("unclosed `{` in template", Span::new(at, s.len())))?;
            if !lit.is_empty() {
                parts.push(TemplatePart::Lit(std::mem::take(&mut lit)));
            }
            let inner = &rest[1..close];
            let e = parse_expr(inner).map_err(|mut e| {
                e.span = Span::new(e.span.start + at + 1, e.span.end + at + 1);
                e
            })?;
            parts.push(TemplatePart::Expr(e));
            rest = &rest[close + 1..];
            at += close + 1;
        } else if c == '}' {
            return Err(LangError::new("unmatched `}` in template", Span::new(at, at + 1))
                .hint("write `}}` for a literal brace"));
        } else {
            lit.push(c);
            rest = &rest[c.len_utf8()..];
            at += c.len_utf8();
        }
    }
    if !lit.is_empty() {
        parts.push(TemplatePart::Lit(lit));
    }
    Ok(Template { parts })
}

/// Builds a regex with the language's flags and size limits.
pub fn build_regex(pattern: &str, flags: &str, span: Span) -> Result<Regex, LangError> {
    RegexBuilder::new(pattern)
        .case_insensitive(flags.contains('i'))
        .multi_line(flags.contains('m'))
        .dot_matches_new_line(flags.contains('s'))
        .ignore_whitespace(flags.contains('x'))
        .size_limit(4 << 20)
        .dfa_size_limit(8 << 20)
        .nest_limit(64)
        .build()
        .map_err(|e| {
            let msg = e.to_string();
            let last = msg
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .trim_start_matches("error: ")
                .to_string();
            LangError::new(format!("bad regex: {last}"), span)
        })
}

fn nearest(word: &str, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min()
        .map(|(_, c)| c.to_string())
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    end: usize,
    src: String,
}

impl Parser {
    fn new(src: &str) -> Result<Parser, LangError> {
        Ok(Parser {
            toks: lex(src)?,
            pos: 0,
            end: src.len(),
            src: src.to_string(),
        })
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn span_here(&self) -> Span {
        self.toks
            .get(self.pos)
            .map_or(Span::new(self.end, self.end + 1), |t| t.span)
    }

    fn prev_span(&self) -> Span {
        self.toks[self.pos.saturating_sub(1)].span
    }

    fn source_text(&self, span: Span) -> String {
        self.src.get(span.start..span.end).unwrap_or_default().to_string()
    }

    fn error_here(&self, msg: &str) -> LangError {
        LangError::new(msg, self.span_here())
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(x)) if x == w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, p: &str) -> Result<(), LangError> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.error_here(&format!("expected `{p}`")))
        }
    }

    fn stage(&mut self) -> Result<StageAst, LangError> {
        let start = self.span_here();
        let name = match self.next() {
            Some(Token { tok: Tok::Ident(n), .. }) => n,
            _ => {
                return Err(
                    LangError::new("expected a stage name", start).hint("stages start with a word such as `where`")
                );
            }
        };
        let spec = match name.as_str() {
            "where" => StageSpec::Where(self.expr()?),
            "set" => StageSpec::Set(self.list(|p| {
                let path = p.path()?;
                p.expect_punct("=")?;
                Ok((path, p.expr()?))
            })?),
            "del" => StageSpec::Del(self.list(Parser::path)?),
            "keep" => StageSpec::Keep(self.list(Parser::path)?),
            "rename" => StageSpec::Rename(self.list(|p| {
                let from = p.path()?;
                if !p.eat_word("as") {
                    return Err(p.error_here("expected `as` between the old and the new name"));
                }
                Ok((from, p.path()?))
            })?),
            "route" => self.route_stage()?,
            "parse" => self.parse_stage()?,
            "to" => self.file_stage(false)?,
            "tee" => self.file_stage(true)?,
            "count" | "stats" | "top" | "distinct" | "sort" => self.aggregate_stage(&name)?,
            "head" => StageSpec::Head(self.count_arg(10)?),
            "tail" => StageSpec::Tail(self.count_arg(10)?),
            n if STAGES.contains(&n) => {
                return Err(LangError::new(
                    format!("stage `{n}` is not supported by this version of evq"),
                    start,
                ));
            }
            n => {
                let e = LangError::new(format!("unknown stage `{n}`"), start);
                return Err(match nearest(n, STAGES) {
                    Some(s) => e.hint(format!("did you mean `{s}`?")),
                    None => e.hint(format!("stages are: {}", STAGES.join(", "))),
                });
            }
        };
        Ok(StageAst {
            spec,
            span: start.to(self.prev_span()),
        })
    }

    fn list<T>(&mut self, mut item: impl FnMut(&mut Parser) -> Result<T, LangError>) -> Result<Vec<T>, LangError> {
        let mut out = vec![item(self)?];
        while self.eat_punct(",") {
            out.push(item(self)?);
        }
        Ok(out)
    }

    fn count_arg(&mut self, default: u64) -> Result<u64, LangError> {
        match self.peek() {
            Some(Tok::Num(n)) => {
                let v = n.parse().map_err(|_| self.error_here("expected a whole number"))?;
                self.pos += 1;
                Ok(v)
            }
            None | Some(Tok::Punct("|")) => Ok(default),
            _ => Err(self.error_here("expected a whole number")),
        }
    }

    fn path(&mut self) -> Result<Path, LangError> {
        let start = self.span_here();
        let mut segs = Vec::new();
        match self.next().map(|t| t.tok) {
            Some(Tok::Ident(w)) if RESERVED.contains(&w.as_str()) => {
                return Err(LangError::new(format!("`{w}` is a reserved word"), start)
                    .hint(format!("write `{w}` in backticks to use it as a field name")));
            }
            Some(Tok::Ident(w)) => segs.push(Seg::Key(w.into())),
            Some(Tok::Quoted(w)) => segs.push(Seg::Key(w.into())),
            Some(Tok::Punct(".")) => match self.peek() {
                Some(Tok::Ident(w) | Tok::Quoted(w)) if self.span_here().start == start.end => {
                    segs.push(Seg::Key(w.as_str().into()));
                    self.pos += 1;
                }
                _ => {}
            },
            _ => return Err(LangError::new("expected a field path", start)),
        }
        loop {
            if self.eat_punct(".") {
                match self.next().map(|t| t.tok) {
                    Some(Tok::Ident(w) | Tok::Quoted(w)) => segs.push(Seg::Key(w.into())),
                    _ => return Err(LangError::new("expected a field name after `.`", self.prev_span())),
                }
            } else if self.eat_punct("[") {
                let neg = self.eat_punct("-");
                let seg = match self.next().map(|t| t.tok) {
                    Some(Tok::Num(n)) => {
                        let i: i64 = n
                            .parse()
                            .map_err(|_| LangError::new("expected a whole number index", self.prev_span()))?;
                        Seg::Index(if neg { -i } else { i })
                    }
                    Some(Tok::Str(s)) if !neg => Seg::Key(s.into()),
                    _ => return Err(LangError::new("expected an index or a quoted key", self.prev_span())),
                };
                segs.push(seg);
                self.expect_punct("]")?;
            } else {
                break;
            }
        }
        Ok(Path {
            segs,
            span: start.to(self.prev_span()),
        })
    }

    pub fn expr(&mut self) -> Result<Expr, LangError> {
        self.binary(0)
    }

    /// Levels, lowest first: or, and, not, ??, comparison, + -, * / %.
    fn binary(&mut self, level: u8) -> Result<Expr, LangError> {
        match level {
            2 => {
                if self.eat_word("not") || self.eat_punct("!") {
                    return Ok(Expr::Not(Box::new(self.binary(2)?)));
                }
                self.binary(3)
            }
            4 => {
                let lhs = self.binary(5)?;
                self.comparison(lhs)
            }
            7 => self.unary(),
            _ => {
                let mut lhs = self.binary(level + 1)?;
                while let Some(op) = self.binop_at(level) {
                    let rhs = self.binary(level + 1)?;
                    lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
                }
                Ok(lhs)
            }
        }
    }

    fn binop_at(&mut self, level: u8) -> Option<BinOp> {
        let op = match (level, self.peek()?) {
            (0, Tok::Ident(w)) if w == "or" => BinOp::Or,
            (0, Tok::Punct("||")) => BinOp::Or,
            (1, Tok::Ident(w)) if w == "and" => BinOp::And,
            (1, Tok::Punct("&&")) => BinOp::And,
            (3, Tok::Punct("??")) => BinOp::Coalesce,
            (5, Tok::Punct("+")) => BinOp::Add,
            (5, Tok::Punct("-")) => BinOp::Sub,
            (6, Tok::Punct("*")) => BinOp::Mul,
            (6, Tok::Punct("/")) => BinOp::Div,
            (6, Tok::Punct("%")) => BinOp::Rem,
            _ => return None,
        };
        self.pos += 1;
        Some(op)
    }

    fn comparison(&mut self, lhs: Expr) -> Result<Expr, LangError> {
        let op = match self.peek() {
            Some(Tok::Punct("==")) => BinOp::Eq,
            Some(Tok::Punct("!=")) => BinOp::Ne,
            Some(Tok::Punct("<")) => BinOp::Lt,
            Some(Tok::Punct("<=")) => BinOp::Le,
            Some(Tok::Punct(">")) => BinOp::Gt,
            Some(Tok::Punct(">=")) => BinOp::Ge,
            Some(Tok::Ident(w)) if w == "in" => BinOp::In,
            Some(Tok::Ident(w))
                if w == "not"
                    && matches!(self.toks.get(self.pos + 1).map(|t| &t.tok), Some(Tok::Ident(x)) if x == "in") =>
            {
                self.pos += 1;
                BinOp::NotIn
            }
            Some(Tok::Punct(p @ ("=~" | "!~"))) => {
                let negate = *p == "!~";
                self.pos += 1;
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
                        ));
                    }
                };
                return Ok(Expr::Match {
                    expr: Box::new(lhs),
                    re,
                    negate,
                });
            }
            _ => return Ok(lhs),
        };
        self.pos += 1;
        let rhs = self.binary(5)?;
        Ok(Expr::Bin(op, Box::new(lhs), Box::new(rhs)))
    }

    fn unary(&mut self) -> Result<Expr, LangError> {
        if self.eat_punct("-") {
            return Ok(match self.unary()? {
                Expr::Const(Val::Int(i)) => Expr::Const(i.checked_neg().map_or(Val::Float(-(i as f64)), Val::Int)),
                Expr::Const(Val::Num(t)) => Expr::Const(Val::number_text(format!("-{t}").into())),
                Expr::Const(Val::Float(f)) => Expr::Const(Val::Float(-f)),
                e => Expr::Neg(Box::new(e)),
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, LangError> {
        let span = self.span_here();
        let Some(tok) = self.peek().cloned() else {
            return Err(LangError::new("expected an expression", span));
        };
        match tok {
            Tok::Str(s) => {
                self.pos += 1;
                Ok(Expr::Const(Val::string(s)))
            }
            Tok::Num(n) => {
                self.pos += 1;
                Ok(Expr::Const(Val::number_text(n.into())))
            }
            Tok::Duration(d) => {
                self.pos += 1;
                Ok(Expr::Const(if d.fract() == 0.0 {
                    Val::Int(d as i64)
                } else {
                    Val::Float(d)
                }))
            }
            Tok::Regex { pattern, flags } => {
                self.pos += 1;
                Ok(Expr::Regex(build_regex(&pattern, &flags, span)?))
            }
            Tok::Punct("(") => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect_punct(")")?;
                Ok(e)
            }
            Tok::Punct("[") => {
                self.pos += 1;
                let mut items = Vec::new();
                if !self.eat_punct("]") {
                    items = self.list(Parser::expr)?;
                    self.expect_punct("]")?;
                }
                Ok(fold_array(items))
            }
            Tok::Ident(w) if w == "true" || w == "false" || w == "null" => {
                self.pos += 1;
                Ok(Expr::Const(match w.as_str() {
                    "true" => Val::Bool(true),
                    "false" => Val::Bool(false),
                    _ => Val::Null,
                }))
            }
            Tok::Ident(w) if matches!(self.toks.get(self.pos + 1).map(|t| &t.tok), Some(Tok::Punct("("))) => {
                self.call(&w, span)
            }
            Tok::Ident(_) | Tok::Quoted(_) | Tok::Punct(".") => Ok(Expr::Path(self.path()?)),
            _ => Err(LangError::new("expected an expression", span)),
        }
    }

    fn call(&mut self, name: &str, span: Span) -> Result<Expr, LangError> {
        let Some(f) = Func::from_name(name) else {
            let e = LangError::new(format!("unknown function `{name}`"), span);
            return Err(match nearest(name, Func::NAMES) {
                Some(s) => e.hint(format!("did you mean `{s}`?")),
                None => e.hint(format!("functions are: {}", Func::NAMES.join(", "))),
            });
        };
        self.pos += 2;
        let mut args = Vec::new();
        if !self.eat_punct(")") {
            args = self.list(Parser::expr)?;
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
            return Err(LangError::new(
                format!("`{name}` takes {want} argument(s), got {}", args.len()),
                span,
            ));
        }
        if f == Func::Exists && !matches!(args[0], Expr::Path(_)) {
            return Err(LangError::new("`exists` takes a field path", span));
        }
        if f == Func::Strftime {
            if let Expr::Const(Val::Str(fmt)) = &args[1] {
                if !crate::time::valid_format(fmt) {
                    return Err(LangError::new("bad strftime format", span));
                }
            }
        }
        Ok(Expr::Call(f, args))
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
