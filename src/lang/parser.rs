//! Recursive-descent parser for pipelines and expressions (precedence climbing).

use super::ast::{Expr, Path, Seg, StageAst, StageSpec, Template, TemplatePart};
use super::error::{LangError, Span};
use super::lexer::{Tok, Token, lex};
use regex::{Regex, RegexBuilder};
use std::collections::{BTreeMap, HashMap};

pub(crate) use construct::Params;

mod agg;
mod calls;
mod construct;
mod discover;
mod expr;
mod ordered;
mod patterns;
mod placeholder;
mod route;
mod teach;

/// Words that need backticks when used as field names.
pub(crate) const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "by", "as", "every", "from", "else", "within", "true", "false", "null", "if",
];

/// Every stage of the language, for suggestions.
#[rustfmt::skip]
pub(crate) const STAGES: &[&str] = &[
    "where", "set", "del", "keep", "rename", "head", "tail", "parse", "explode", "route", "to", "tee", "count",
    "stats", "top", "distinct", "sort", "dedupe", "sample", "throttle", "reorder", "fold", "join", "validate",
    "assert", "summary", "shapes", "flatten", "unflatten", "fill-down", "step",
];

pub(crate) fn parse_pipeline(src: &str) -> Result<Vec<StageAst>, LangError> {
    parse_pipeline_with(src, &Params::default())
}

/// Parses a pipeline in which `$NAME` stands for the values in `params`.
pub(crate) fn parse_pipeline_with(src: &str, params: &Params) -> Result<Vec<StageAst>, LangError> {
    let mut p = Parser::new(src)?;
    p.params = params.clone();
    let mut stages = Vec::new();
    if p.peek().is_none() {
        return Err(LangError::new("empty pipeline", Span::new(0, src.len().max(1)))
            .hint("try 'where true' to pass every event through"));
    }
    loop {
        if let Some(StageAst {
            spec: StageSpec::To { tee: false, .. },
            span,
            ..
        }) = stages.last()
        {
            return Err(
                LangError::new("`to` ends the pipeline", *span).hint("use `tee` to write events and pass them on")
            );
        }
        if stages.len() == MAX_STAGES {
            return Err(p
                .error_here(&format!("a pipeline has at most {MAX_STAGES} stages"))
                .hint("split the work into several evq runs joined by a shell pipe"));
        }
        stages.push(p.stage()?);
        match p.peek() {
            None => break,
            Some(Tok::Punct("|")) => p.advance(),
            Some(_) => {
                let taught = stages.last().and_then(|s| p.unexpected_after(&s.spec));
                return Err(taught.unwrap_or_else(|| {
                    p.error_here("expected `|` before the next stage")
                        .hint("stages are separated by |, e.g. where status >= 500 | count by service")
                }));
            }
        }
    }
    Ok(stages)
}

/// Parses a single expression (used by tests and templates).
pub(crate) fn parse_expr(src: &str) -> Result<Expr, LangError> {
    parse_expr_with(src, &Params::default())
}

fn parse_expr_with(src: &str, params: &Params) -> Result<Expr, LangError> {
    let mut p = Parser::new(src)?;
    p.params = params.clone();
    let e = p.expr()?;
    if p.peek().is_some() {
        return Err(p
            .error_here("unexpected text after the expression")
            .hint("join conditions with and / or; quote text with double quotes"));
    }
    Ok(e)
}

/// Parses `"dir/{service}/{topic()}.ndjson"`; `{{` and `}}` are literal braces, and a
/// placeholder may pass its value through functions: `{level | upper}`.
pub(crate) fn parse_template(s: &str) -> Result<Template, LangError> {
    parse_template_with(s, &Params::default())
}

/// `parse_template` in a pipeline whose `$NAME`s stand for `params`.
fn parse_template_with(s: &str, params: &Params) -> Result<Template, LangError> {
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
            // A quote in a regex (`/"/`) can mislead the scan: then the first `}` closes it.
            let close = placeholder_end(rest).or_else(|| rest.find('}')).ok_or_else(|| {
                LangError::new("unclosed `{` in template", Span::new(at, s.len()))
                    .hint("close the placeholder with }, or write {{ for a literal brace")
            })?;
            if !lit.is_empty() {
                parts.push(TemplatePart::Lit(std::mem::take(&mut lit)));
            }
            let inner = &rest[1..close];
            let e = Parser::new(inner)
                .and_then(|mut p| {
                    p.params = params.clone();
                    p.placeholder()
                })
                .map_err(|mut e| {
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

/// Where the placeholder that `rest` starts with (at its `{`) closes: the first `}` not
/// inside a string, a backtick name or braces of its own (`{if a then "}" else {b: 1} end}`).
fn placeholder_end(rest: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote = None;
    let mut escaped = false;
    for (i, b) in rest.bytes().enumerate() {
        match (quote, b) {
            (Some(_), _) if escaped => escaped = false,
            (Some(b'"'), b'\\') => escaped = true,
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'`') => quote = Some(b),
            (None, b'{') => depth += 1,
            (None, b'}') if depth == 1 => return Some(i),
            (None, b'}') => depth = depth.saturating_sub(1),
            (None, _) => {}
        }
    }
    None
}

/// Builds a regex with the language's flags and size limits.
pub(crate) fn build_regex(pattern: &str, flags: &str, span: Span) -> Result<Regex, LangError> {
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
                .hint("regexes use Rust regex syntax (no look-around or backreferences)")
        })
}

fn nearest(word: &str, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        // The distance is at least the difference in length: skip hopeless (and long) words
        // before the quadratic comparison.
        .filter(|c| word.len().abs_diff(c.len()) <= 2.max(c.len() / 3) * 4)
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min()
        .map(|(_, c)| c.to_string())
}

/// The stages this version parses.
#[rustfmt::skip]
pub(crate) const SUPPORTED: &[&str] = &[
    "where", "set", "del", "keep", "rename", "head", "tail", "parse", "route", "to", "tee", "count", "stats", "top",
    "distinct", "sort", "explode", "sample", "join", "validate", "fold", "assert", "dedupe", "throttle", "reorder",
    "summary", "shapes", "flatten", "unflatten", "fill-down", "step",
];

/// The hint for a missing expression.
const EXPR_HINT: &str =
    "an expression is a field, a literal (\"text\", 42, true, null, [1, 2], /regex/) or a function call";

/// How deeply expressions may nest (brackets, `not`, unary minus, chained operators),
/// so that neither parsing nor evaluating nor dropping an expression can exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 128;

/// How many stages a pipeline may have: an event passes the ordered stages down the call
/// stack, so that their number must stay far from what the stack holds.
pub(crate) const MAX_STAGES: usize = 1000;

/// The token cursor. Tokens are read only through `peek`, `peek_at`, `next` and `advance`,
/// which never index past the end: at the end of input they see nothing, and the span
/// there is the one just past the text, so an error at the end still gets a caret.
struct Parser {
    toks: Vec<Token>,
    /// Index of the next token; never more than `toks.len()`.
    pos: usize,
    /// The span of the last token consumed, or of the end of input after reading past it.
    prev: Span,
    /// Nesting of the expression being parsed; see `MAX_DEPTH`.
    depth: usize,
    src: String,
    /// What `$NAME` stands for.
    params: Params,
    /// The row fields of the aggregate just parsed (see [`StageAst::rows`]).
    rows: Option<Vec<String>>,
}

impl Parser {
    fn new(src: &str) -> Result<Parser, LangError> {
        Ok(Parser {
            toks: lex(src)?,
            pos: 0,
            prev: Span::new(0, 0),
            depth: 0,
            src: src.to_string(),
            params: Params::default(),
            rows: None,
        })
    }

    fn peek(&self) -> Option<&Tok> {
        self.peek_at(0)
    }

    /// The token `n` places after the next one.
    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos.saturating_add(n)).map(|t| &t.tok)
    }

    fn end_span(&self) -> Span {
        Span::new(self.src.len(), self.src.len() + 1)
    }

    fn span_here(&self) -> Span {
        self.toks.get(self.pos).map_or_else(|| self.end_span(), |t| t.span)
    }

    fn prev_span(&self) -> Span {
        self.prev
    }

    /// Consumes the next token, if there is one.
    fn advance(&mut self) {
        self.prev = self.span_here();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
    }

    /// Runs `f` one nesting level deeper, or fails past `MAX_DEPTH`.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Parser) -> Result<T, LangError>) -> Result<T, LangError> {
        if self.depth >= MAX_DEPTH {
            return Err(self
                .error_here(&format!("the expression is nested more than {MAX_DEPTH} levels deep"))
                .hint("split it with set into named fields, or use `in [..]` instead of a long chain of `or`"));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn source_text(&self, span: Span) -> String {
        self.src.get(span.start..span.end).unwrap_or_default().to_string()
    }

    fn error_here(&self, msg: &str) -> LangError {
        LangError::new(msg, self.span_here())
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.advance();
        t
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(x)) if x == w) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, p: &str) -> Result<(), LangError> {
        if self.eat_punct(p) {
            return Ok(());
        }
        let hint = match p {
            ")" | "]" => format!("every opening bracket needs a matching `{p}`"),
            "(" => "aggregates are called like functions: count(), sum(bytes)".to_string(),
            "=" => "set assigns with =, e.g. set level = lower(level)".to_string(),
            ":" => "route rules look like: route errors: level == \"error\" else rest".to_string(),
            "," => "percentile takes a value and a percentage, e.g. percentile(latency_ms, 95)".to_string(),
            _ => format!("insert `{p}` here"),
        };
        Err(self.error_here(&format!("expected `{p}`")).hint(hint))
    }

    fn stage(&mut self) -> Result<StageAst, LangError> {
        let start = self.span_here();
        let name = match self.next() {
            Some(Token { tok: Tok::Ident(n), .. }) => n,
            Some(Token {
                tok: Tok::Punct("{" | "["),
                ..
            }) if start.start == 0 => {
                return Err(LangError::new("expected a stage name", start).hint(
                    "this looks like JSON events, not a pipeline: -f names a file holding the pipeline; \
                     give files of events after the pipeline",
                ));
            }
            _ => {
                return Err(
                    LangError::new("expected a stage name", start).hint("stages start with a word such as `where`")
                );
            }
        };
        let spec = match name.as_str() {
            "where" => StageSpec::Where(self.expr()?),
            "set" => StageSpec::Set(self.assignments()?),
            "del" => StageSpec::Del(self.list(Parser::field_path)?),
            "keep" => StageSpec::Keep(self.list(Parser::path)?),
            "rename" => StageSpec::Rename(self.renames()?),
            "route" => self.route_stage()?,
            "parse" => self.parse_stage()?,
            "to" => self.file_stage(false)?,
            "tee" => self.file_stage(true)?,
            "count" | "stats" | "top" | "distinct" | "sort" | "fold" => self.aggregate_stage(&name)?,
            "assert" => self.assert_stage()?,
            "head" => self.head_tail_stage(false)?,
            "tail" => self.head_tail_stage(true)?,
            "explode" => self.explode_stage()?,
            "sample" => self.sample_stage()?,
            "join" => self.join_stage()?,
            "validate" => self.validate_stage()?,
            "dedupe" => self.dedupe_stage()?,
            "throttle" => self.throttle_stage()?,
            "reorder" => self.reorder_stage()?,
            "summary" => StageSpec::Summary,
            "shapes" => StageSpec::Shapes,
            "flatten" => self.flatten_stage(false)?,
            "unflatten" => self.flatten_stage(true)?,
            "fill" => self.fill_down_stage(start)?,
            "step" => self.step_stage()?,
            n if STAGES.contains(&n) => {
                return Err(
                    LangError::new(format!("stage `{n}` is not supported by this version of evq"), start)
                        .hint(format!("this version supports: {}", SUPPORTED.join(", "))),
                );
            }
            n => {
                let e = LangError::new(format!("unknown stage `{n}`"), start);
                if let Some(hint) = teach::file_for_pipeline(&self.src) {
                    return Err(e.hint(hint));
                }
                // Only the stages this version has: a suggestion must work when followed.
                return Err(match (teach::foreign_word(n), nearest(n, SUPPORTED)) {
                    (Some(h), _) => e.hint(h),
                    (None, Some(s)) => e.hint(format!("did you mean `{s}`?")),
                    (None, None) => e.hint(format!("stages are: {}", SUPPORTED.join(", "))),
                });
            }
        };
        Ok(StageAst {
            spec,
            span: start.to(self.prev_span()),
            rows: self.rows.take(),
        })
    }

    /// `assert EXPR [else "MESSAGE"]`; without a message, the expression as written is the message.
    fn assert_stage(&mut self) -> Result<StageSpec, LangError> {
        let start = self.span_here();
        let check = self.expr()?;
        let mut message = self.source_text(start.to(self.prev_span()));
        if self.eat_word("else") {
            match self.next().map(|t| t.tok) {
                Some(Tok::Str(s)) => message = s,
                _ => {
                    return Err(LangError::new("expected a \"message\" after `else`", self.prev_span())
                        .hint("assert status < 500 else \"server errors in the run\""));
                }
            }
        }
        Ok(StageSpec::Assert { check, message })
    }

    /// `set`'s `PATH = EXPR, …`. Every value is computed from the event as it came in, so a path
    /// that replaces one assigned before it (`a.b = 2, a = 1`) would leave that one no effect.
    fn assignments(&mut self) -> Result<Vec<(Path, Expr)>, LangError> {
        let mut out: Vec<(Path, Expr)> = Vec::new();
        // Each path assigned, and each path some assigned one goes under (with the first such),
        // by index into `out`: a set of many fields is checked in n log n, not n².
        let mut assigned: BTreeMap<Vec<Seg>, usize> = BTreeMap::new();
        let mut under: BTreeMap<Vec<Seg>, usize> = BTreeMap::new();
        loop {
            let start = self.span_here();
            let path = self.path()?;
            let at = start.to(self.prev_span());
            if assigned.contains_key(path.segs.as_slice()) {
                return Err(LangError::new(format!("`{path}` is assigned twice in this set"), at)
                    .hint("only the last value would be kept: assign each field once"));
            }
            if let Some(&i) = under.get(path.segs.as_slice()) {
                let earlier = &out[i].0;
                return Err(LangError::new(
                    format!("`{path}` replaces `{earlier}`, which this set assigns before it"),
                    at,
                )
                .hint(format!(
                    "every value in one set is computed from the event as it came in, so `{earlier} = …` would \
                     have no effect: assign each field once, or use two stages (set {path} = … | set {earlier} = …)"
                )));
            }
            let into = (0..path.segs.len())
                .filter_map(|n| assigned.get(&path.segs[..n]))
                .min()
                .map(|&i| &out[i]);
            if let Some((earlier, e)) = into {
                if let Some(what) = constant_in_the_way(e, &path.segs[earlier.segs.len()]) {
                    return Err(LangError::new(
                        format!("`{path}` goes into `{earlier}`, which this set assigns a constant {what} before it"),
                        at,
                    )
                    .hint(format!(
                        "a key replaces a value that is not an object (in an array, it is a dead letter), and an index into \
                         one that is not an array is a dead letter: assign `{earlier}` its whole value at once, or leave out \
                         `{earlier} = …`"
                    )));
                }
            }
            self.expect_punct("=")?;
            for n in 0..path.segs.len() {
                under.entry(path.segs[..n].to_vec()).or_insert(out.len());
            }
            assigned.insert(path.segs.clone(), out.len());
            out.push((path, self.expr()?));
            if !self.eat_punct(",") {
                return Ok(out);
            }
        }
    }

    /// `rename`'s `OLD as NEW, …`, moved one after another: a NEW that another field was moved
    /// to before, and not moved away since, would replace that field's value.
    fn renames(&mut self) -> Result<Vec<(Path, Path)>, LangError> {
        let mut out: Vec<(Path, Path)> = Vec::new();
        // The last pair to name each field as its new name, and as its old one.
        let mut named: HashMap<Vec<Seg>, usize> = HashMap::new();
        let mut moved_away: HashMap<Vec<Seg>, usize> = HashMap::new();
        loop {
            let from = self.field_path()?;
            if !self.eat_word("as") {
                return Err(self
                    .error_here("expected `as` between the old and the new name")
                    .hint("rename old_name as new_name, other as other2"));
            }
            let start = self.span_here();
            let to = self.path()?;
            let at = start.to(self.prev_span());
            // The field an earlier pair moved to `to` is still there unless a later pair moved it,
            // or a field holding it, away.
            let moved_since =
                |i: usize| (0..=to.segs.len()).any(|n| moved_away.get(&to.segs[..n]).is_some_and(|&j| j > i));
            if let Some(&i) = named.get(&to.segs).filter(|&&i| !moved_since(i)) {
                let earlier = &out[i].0;
                return Err(LangError::new(
                    format!(
                        "`{to}` is the new name of `{earlier}` and of `{from}`: the second would replace the first"
                    ),
                    at,
                )
                .hint(format!(
                    "give them different names, or drop one first: del {earlier} | rename {from} as {to}"
                )));
            }
            named.insert(to.segs.clone(), out.len());
            moved_away.insert(from.segs.clone(), out.len());
            out.push((from, to));
            if !self.eat_punct(",") {
                return Ok(out);
            }
        }
    }

    fn list<T>(&mut self, mut item: impl FnMut(&mut Parser) -> Result<T, LangError>) -> Result<Vec<T>, LangError> {
        let mut out = vec![item(self)?];
        while self.eat_punct(",") {
            out.push(item(self)?);
        }
        Ok(out)
    }

    /// The count of `head`, `tail` and `top`: at least 1, as a count of 0 would keep nothing.
    fn count_arg(&mut self, default: u64) -> Result<u64, LangError> {
        match self.peek() {
            Some(Tok::Num(n)) => {
                let v = n.parse().map_err(|_| {
                    let what = if all_digits(n) {
                        "the count is too large"
                    } else {
                        "expected a whole number"
                    };
                    self.error_here(what)
                        .hint("write a count such as 10 (from 1 to 18446744073709551615)")
                })?;
                if v == 0 {
                    return Err(self
                        .error_here("a count of 0 keeps no event")
                        .hint("write a count of at least 1, e.g. head 10"));
                }
                self.advance();
                Ok(v)
            }
            None | Some(Tok::Punct("|")) => Ok(default),
            _ => Err(self
                .error_here("expected a whole number")
                .hint("write a count such as 10, e.g. head 10, or head 3 by host for each host")),
        }
    }

    /// True at `[0]`, `[-1]` or `["key"]`: an index that is part of a path. Other
    /// brackets (`[i]`, `[1:3]`) index the path's value as an expression.
    fn static_index_here(&self) -> bool {
        let close = |n| matches!(self.peek_at(n), Some(Tok::Punct("]")));
        matches!(self.peek(), Some(Tok::Punct("[")))
            && match self.peek_at(1) {
                Some(Tok::Num(_) | Tok::Str(_)) => close(2),
                Some(Tok::Punct("-")) => matches!(self.peek_at(2), Some(Tok::Num(_))) && close(3),
                // An index cut short is still a path's, so its error says what an index is.
                None => true,
                _ => false,
            }
    }

    /// A path where a field is named (`set`, `del`, `keep`…): every `[…]` is part of it.
    fn path(&mut self) -> Result<Path, LangError> {
        self.path_in(false)
    }

    /// A path that names a field, not the whole event (what `del` removes, what `rename` moves).
    fn field_path(&mut self) -> Result<Path, LangError> {
        let start = self.span_here();
        let path = self.path()?;
        if path.segs.is_empty() {
            return Err(
                LangError::new("`.` is the whole event, not a field", start.to(self.prev_span()))
                    .hint("name fields here; to drop events use where, to replace an event use set . = EXPR"),
            );
        }
        Ok(path)
    }

    /// A path in an expression: it ends before a computed index or a slice, which
    /// `postfix` reads.
    fn expr_path(&mut self) -> Result<Path, LangError> {
        self.path_in(true)
    }

    fn path_in(&mut self, expression: bool) -> Result<Path, LangError> {
        let start = self.span_here();
        let mut segs = Vec::new();
        // How many leading segments are bare words (for the literal-key form).
        let mut plain = 0;
        match self.next().map(|t| t.tok) {
            Some(Tok::Ident(w)) if RESERVED.contains(&w.as_str()) => {
                return Err(LangError::new(format!("`{w}` is a reserved word"), start)
                    .hint(format!("write `{w}` in backticks to use it as a field name")));
            }
            Some(Tok::Ident(w)) => {
                segs.push(Seg::Key(w.into()));
                plain = 1;
            }
            Some(Tok::Quoted(w)) => segs.push(Seg::Key(w.into())),
            Some(Tok::Punct(".")) => match self.peek() {
                Some(Tok::Ident(w) | Tok::Quoted(w)) if self.span_here().start == start.end => {
                    segs.push(Seg::Key(w.as_str().into()));
                    self.advance();
                }
                _ => {}
            },
            _ => {
                return Err(LangError::new("expected a field path", start)
                    .hint("a path is a field name such as user.id, tags[0] or `id.orig_h`"));
            }
        }
        loop {
            if self.eat_punct(".") {
                match self.next().map(|t| t.tok) {
                    Some(Tok::Ident(w)) => {
                        plain += usize::from(plain == segs.len());
                        segs.push(Seg::Key(w.into()));
                    }
                    Some(Tok::Quoted(w)) => segs.push(Seg::Key(w.into())),
                    _ => {
                        return Err(LangError::new("expected a field name after `.`", self.prev_span())
                            .hint("write a name after the dot, e.g. user.id"));
                    }
                }
            } else if matches!(self.peek(), Some(Tok::Punct("["))) && (!expression || self.static_index_here()) {
                self.advance();
                let neg = self.eat_punct("-");
                let seg = match self.next().map(|t| t.tok) {
                    Some(Tok::Num(n)) => {
                        // An index past i64 is as far out of any array as i64::MAX.
                        let far = all_digits(&n).then_some(i64::MAX);
                        let i: i64 = n.parse().ok().or(far).ok_or_else(|| {
                            LangError::new("expected a whole number index", self.prev_span())
                                .hint("an index is a whole number such as [0] or [-1]")
                        })?;
                        Seg::Index(if neg { -i } else { i })
                    }
                    Some(Tok::Str(s)) if !neg => Seg::Key(s.into()),
                    _ => {
                        return Err(LangError::new("expected an index or a quoted key", self.prev_span())
                            .hint("write tags[0], tags[-1] or headers[\"user-agent\"]; tags[i] and slices tags[1:3] are read in expressions"));
                    }
                };
                segs.push(seg);
                self.expect_punct("]")?;
            } else {
                break;
            }
        }
        Ok(Path::dotted(segs, plain))
    }
}

/// True for a number written as digits alone: one that is not a whole number only by its size.
fn all_digits(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
}

/// What constant `e` is, when `seg` cannot go into it: a key into a value that is not an
/// object (which the write replaces, so the constant has no effect, or, for an array, a dead
/// letter), or an index into one that is not an array (always a dead letter).
fn constant_in_the_way(e: &Expr, seg: &Seg) -> Option<&'static str> {
    let kind = match e {
        Expr::Const(v) => v.type_name(),
        Expr::Object(_) => "object",
        Expr::Array(_) => "array",
        _ => return None,
    };
    match (seg, kind) {
        (Seg::Key(_), "object") | (Seg::Index(_), "array") => None,
        _ => Some(kind),
    }
}

#[cfg(test)]
mod tests;
