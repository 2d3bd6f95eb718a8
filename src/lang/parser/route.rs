//! Parsing of `route`, `to`, `tee` and `parse`.

use super::{Parser, parse_template_with};
use crate::lang::ast::{Expr, Otherwise, ParseFormat, RouteSpec, StageSpec, UNMATCHED};
use crate::lang::error::{LangError, Span};
use crate::lang::lexer::Tok;

impl Parser {
    /// `route by EXPR` | `route [all] NAME: EXPR, … [else NAME]`.
    pub(super) fn route_stage(&mut self) -> Result<StageSpec, LangError> {
        if self.eat_word("by") {
            return Ok(StageSpec::Route(RouteSpec::By(self.expr()?)));
        }
        let next_is_colon = matches!(self.peek_at(1), Some(Tok::Punct(":")));
        let all = !next_is_colon && self.eat_word("all");
        let mut rules: Vec<(String, Expr)> = Vec::new();
        loop {
            let at = self.span_here();
            let name = self.topic_name()?;
            if rules.iter().any(|(n, _)| *n == name) {
                let copies = if all {
                    ": route all would write an event to it twice"
                } else {
                    ""
                };
                return Err(
                    LangError::new(format!("the topic `{name}` has two rules{copies}"), at).hint(format!(
                        "give it one rule, its conditions joined with or: {name}: A or B"
                    )),
                );
            }
            self.expect_punct(":")?;
            rules.push((name, self.expr()?));
            if !self.eat_punct(",") {
                break;
            }
        }
        let at = self.span_here();
        let otherwise = if self.eat_word("else") {
            Some(self.topic_name()?)
        } else {
            None
        };
        let rest = otherwise.as_deref().unwrap_or(UNMATCHED);
        if rules.iter().any(|(n, _)| n == rest) {
            let at = if otherwise.is_some() {
                at.to(self.prev_span())
            } else {
                at
            };
            return Err(LangError::new(
                format!(
                    "the topic `{rest}` is both a rule's and where unmatched events go, so its rule decides nothing"
                ),
                at,
            )
            .hint(format!(
                "name the rule or the rest apart: … else other (without else, unmatched events go to {UNMATCHED})"
            )));
        }
        Ok(StageSpec::Route(RouteSpec::Rules { all, rules, otherwise }))
    }

    fn topic_name(&mut self) -> Result<String, LangError> {
        match self.next().map(|t| t.tok) {
            Some(Tok::Ident(w) | Tok::Quoted(w) | Tok::Str(w)) => Ok(w),
            _ => Err(LangError::new(
                "expected a topic name such as errors or \"slow requests\"",
                self.prev_span(),
            )
            .hint("route rules look like: route errors: level == \"error\", slow: ms > 500 else rest")),
        }
    }

    /// `parse FORMAT [from EXPR] [else keep|drop|dead]`.
    pub(super) fn parse_stage(&mut self) -> Result<StageSpec, LangError> {
        let span = self.span_here();
        let format = match self.next().map(|t| t.tok) {
            Some(Tok::Regex { pattern, flags }) => {
                let re = super::build_regex(&pattern, &flags, span)?;
                if re.capture_names().flatten().next().is_none() {
                    return Err(
                        LangError::new("the regex has no named group such as (?P<status>\\d+)", span)
                            .hint("each named group (?P<name>...) becomes a field"),
                    );
                }
                ParseFormat::Regex(re)
            }
            Some(Tok::Str(pattern)) => self.wildcard(pattern, span)?,
            Some(Tok::Ident(name)) if crate::parse::TextFormat::NAMES.contains(&name.as_str()) => {
                ParseFormat::Named(name)
            }
            Some(Tok::Ident(name)) => {
                let e = LangError::new(format!("unknown format `{name}`"), span);
                return Err(match super::nearest(&name, crate::parse::TextFormat::NAMES) {
                    Some(s) => e.hint(format!("did you mean `{s}`?")),
                    None => e.hint(format!(
                        "formats are: {}, or a /regex/ with named groups",
                        crate::parse::TextFormat::NAMES.join(", ")
                    )),
                });
            }
            _ => {
                return Err(LangError::new(
                    "expected a format (combined, common, syslog, logfmt, kv, json), a /regex/ or a \"pattern\" as names",
                    span,
                )
                .hint("e.g. parse logfmt, parse /(?P<status>\\d{3})/ or parse \"* [*] *\" as host, ts, msg"));
            }
        };
        let from = if self.eat_word("from") {
            Some(self.expr()?)
        } else {
            None
        };
        let otherwise = if self.eat_word("else") {
            match self.next().map(|t| t.tok) {
                Some(Tok::Ident(w)) if w == "keep" => Otherwise::Keep,
                Some(Tok::Ident(w)) if w == "drop" => Otherwise::Drop,
                Some(Tok::Ident(w)) if w == "dead" => Otherwise::Dead,
                _ => {
                    return Err(
                        LangError::new("expected keep, drop or dead after else", self.prev_span()).hint(
                            "else keep passes unparsed events on, else drop filters them, else dead makes dead letters",
                        ),
                    );
                }
            }
        } else {
            Otherwise::Dead
        };
        Ok(StageSpec::Parse {
            format,
            from,
            otherwise,
        })
    }

    /// The rest of `parse "PATTERN" as NAME, …`: one name per `*` of the pattern at `span`.
    fn wildcard(&mut self, pattern: String, span: Span) -> Result<ParseFormat, LangError> {
        use crate::parse::wildcard::{Wildcard, WildcardError};
        let holes = Wildcard::holes(&pattern);
        let example = "parse \"* [*] *\" as host, ts, msg";
        if !self.eat_word("as") {
            let e = LangError::new(
                "expected `as` and a name for each * after the pattern",
                self.span_here(),
            );
            return Err(e.hint(format!("the pattern has {holes} *; e.g. {example}")));
        }
        let names_start = self.span_here();
        let names = self.list(|p| match p.next().map(|t| t.tok) {
            Some(Tok::Ident(w) | Tok::Quoted(w) | Tok::Str(w)) => Ok(w),
            _ => Err(LangError::new("expected a field name", p.prev_span())
                .hint("a name is a word, a `backtick name` or a \"string\"; _ drops a capture")),
        })?;
        let names_span = Span::new(names_start.start, self.prev_span().end);
        if let Some(twice) = names
            .iter()
            .enumerate()
            .find_map(|(i, n)| (n != "_" && names[..i].contains(n)).then_some(n))
        {
            return Err(
                LangError::new(format!("`{twice}` names two * of the pattern"), names_span).hint(
                    "only the last capture would be kept: give each * its own name, or _ for a part you do not keep",
                ),
            );
        }
        Wildcard::new(&pattern, &names)
            .map(ParseFormat::Wildcard)
            .map_err(|e| match e {
                WildcardError::NoHole => LangError::new("the pattern has no * to capture", span)
                    .hint(format!("each * matches text up to what follows it; e.g. {example}")),
                WildcardError::Count { holes, names } => LangError::new(
                    format!(
                        "the pattern has {holes} * but {} follow as",
                        crate::messages::counted(names as u64, "name", "names")
                    ),
                    names_span,
                )
                .hint("give one name per * in order; use _ for a part you do not keep"),
            })
    }

    /// `to "out/{topic()}.ndjson"` or `tee "…"`.
    pub(super) fn file_stage(&mut self, tee: bool) -> Result<StageSpec, LangError> {
        let span = self.span_here();
        let Some(Tok::Str(text)) = self.next().map(|t| t.tok) else {
            return Err(LangError::new(
                "expected a file name template in quotes, e.g. \"out/{topic()}.ndjson\"",
                span,
            )
            .hint("{EXPR} parts of the template are replaced by each event's values"));
        };
        // Point into the string literal (past its opening quote) when its source is the text
        // itself; with escapes, offsets in the text are not offsets in the source.
        let verbatim = self.source_text(span).get(1..span.end.saturating_sub(span.start + 1)) == Some(text.as_str());
        let template = parse_template_with(&text, &self.params).map_err(|mut e| {
            e.span = if verbatim {
                Span::new(span.start + 1 + e.span.start, span.start + 1 + e.span.end)
            } else {
                span
            };
            e
        })?;
        Ok(StageSpec::To { template, text, tee })
    }
}
