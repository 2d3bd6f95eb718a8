//! Errors that teach: where the parser meets a form a newcomer brings from SQL, jq,
//! shells or other log tools, the error names the form and shows the evq spelling.

use super::Parser;
use crate::lang::ast::StageSpec;
use crate::lang::error::{LangError, Span};
use crate::lang::lexer::Tok;

/// Words other tools use for a stage or a function, and how evq says it.
const FOREIGN: &[(&str, &str)] = &[
    ("select", "evq filters with where: where a == 1"),
    ("filter", "evq filters with where: where a == 1"),
    ("grep", "evq filters with where: where msg =~ /text/"),
    (
        "map",
        "evq has no map stage: change fields with set (set a = a * 2), map an array in an expression \
         (set b = map(a, x => x * 2)), or split an array with explode",
    ),
    ("length", "write len(x)"),
    ("test", "match a regex with =~: where msg =~ /text/"),
    ("ascii_downcase", "write lower(x)"),
    ("ascii_upcase", "write upper(x)"),
    ("tostring", "write str(x)"),
    ("tonumber", "write to_number(x)"),
    ("has", "write exists(x)"),
    ("group_by", "group with count by x, or stats sum(y) by x"),
    ("sort_by", "write sort x (sort x desc for the largest first)"),
    ("unique", "write distinct x"),
    ("uniq", "write distinct x"),
    ("limit", "write head N"),
    ("take", "write head N"),
    (
        "summarize",
        "write summary: one row per field with its types, nulls, distinct values and extremes",
    ),
    (
        "describe",
        "write summary: one row per field with its types, nulls, distinct values and extremes",
    ),
    ("fuse", "write shapes: the distinct sets of keys with their counts"),
];

/// Word operators of other languages (SQL, Perl, jq's friends) and the evq operator.
const WORD_OPERATORS: &[(&str, &str)] = &[
    ("eq", "=="),
    ("ne", "!="),
    ("lt", "<"),
    ("le", "<="),
    ("gt", ">"),
    ("ge", ">="),
    ("is", "=="),
    ("like", "=~"),
    ("matches", "=~"),
];

/// Functions that other tools write between their arguments.
const INFIX_FUNCTIONS: &[&str] = &["contains", "startswith", "endswith"];

/// evq's options that a newcomer may type inside the quoted pipeline.
const SHORT_OPTIONS: &[&str] = &["O", "o", "i", "j", "f", "e", "q"];
/// The first word of each long option (`--dead-letter` lexes as `dead`, `-`, `letter`).
const LONG_OPTIONS: &[&str] = &[
    "append",
    "atomic",
    "chunk",
    "dead",
    "exit",
    "explain",
    "file",
    "follow",
    "generate",
    "help",
    "input",
    "jobs",
    "lateness",
    "line",
    "max",
    "memory",
    "merge",
    "multiline",
    "no",
    "out",
    "output",
    "progress",
    "quiet",
    "seed",
    "stats",
    "strict",
    "strip",
    "time",
    "year",
];

/// The hint for a word another tool uses, if it is one.
pub(super) fn foreign_word(word: &str) -> Option<&'static str> {
    FOREIGN.iter().find(|(w, _)| *w == word).map(|(_, h)| *h)
}

/// The hint for a pipeline that is a file name (`evq app.log 'where …'`, or
/// `--stats run.json` without `=`, which leaves `run.json` where the pipeline goes).
pub(super) fn file_for_pipeline(src: &str) -> Option<String> {
    let word = src.trim();
    let named = word.contains('/')
        || word.rsplit_once('.').is_some_and(|(stem, ext)| {
            !stem.is_empty() && !ext.is_empty() && ext.chars().all(|c| c.is_ascii_alphanumeric())
        });
    (named && !word.contains(char::is_whitespace)).then(|| {
        format!(
            "`{word}` looks like a file name: give the pipeline first, then files \
             (evq 'PIPELINE' {word}); --stats takes its file as --stats=FILE"
        )
    })
}

impl Parser {
    /// A teaching error for the token at the cursor, which ends `stage` where the
    /// pipeline expected `|` or the end.
    pub(super) fn unexpected_after(&self, stage: &StageSpec) -> Option<LangError> {
        let span = self.span_here();
        let tok = self.peek()?;
        if let Some(e) = self.option_here() {
            return Some(e);
        }
        match tok {
            Tok::Punct("=") => Some(
                LangError::new("`=` assigns; it does not compare", span)
                    .hint(format!("use == to compare: {}", self.rewrite(span, "=="))),
            ),
            Tok::Punct(op @ ("<" | "<=" | ">" | ">=" | "==" | "!=")) => {
                let (before, after) = (
                    self.token_text(self.pos.checked_sub(1)),
                    self.token_text(Some(self.pos + 1)),
                );
                Some(
                    LangError::new("comparisons do not chain", span)
                        .hint(format!("join two comparisons with and: … and {before} {op} {after}")),
                )
            }
            Tok::Num(n) if self.right_after_a_dot() => Some(
                LangError::new("a number starts with a digit", span.to(self.prev_span())).hint(format!("write 0.{n}")),
            ),
            Tok::Ident(w) if INFIX_FUNCTIONS.contains(&w.as_str()) => Some(self.infix_function(w, span)),
            Tok::Ident(w) => {
                if let Some((_, op)) = WORD_OPERATORS.iter().find(|(x, _)| x == w) {
                    return Some(
                        LangError::new(format!("`{w}` is not an operator in evq"), span)
                            .hint(format!("write {op}: {}", self.rewrite(span, op))),
                    );
                }
                self.missing_separator(stage, span)
            }
            Tok::Quoted(_) | Tok::Str(_) | Tok::Num(_) => self.missing_separator(stage, span),
            _ => None,
        }
    }

    /// The current token follows a `.` with no space between (`.5`).
    fn right_after_a_dot(&self) -> bool {
        let (Some(dot), Some(here)) = (
            self.pos.checked_sub(1).and_then(|i| self.toks.get(i)),
            self.toks.get(self.pos),
        ) else {
            return false;
        };
        matches!(dot.tok, Tok::Punct(".")) && dot.span.end == here.span.start
    }

    /// `msg contains "x"`: the function written between its arguments.
    fn infix_function(&self, name: &str, span: Span) -> LangError {
        let before = self.token_text(self.pos.checked_sub(1));
        let after = self.token_text(Some(self.pos + 1));
        LangError::new(format!("`{name}` is a function, not an operator"), span)
            .hint(format!("write {name}({before}, {after})"))
    }

    /// A word after a complete stage: a comma or an `and` left out.
    fn missing_separator(&self, stage: &StageSpec, span: Span) -> Option<LangError> {
        let list = match stage {
            StageSpec::Where(_) | StageSpec::Assert { .. } => {
                return Some(
                    LangError::new("expected `|`, `and` or `or` before this", span)
                        .hint("join conditions with and / or: where a == 1 and b == 2"),
                );
            }
            StageSpec::Set(_) => "set a = 1, b = 2",
            StageSpec::Del(_) => "del a, b",
            StageSpec::Keep(_) => "keep a, b",
            StageSpec::Rename(_) => "rename a as x, b as y",
            StageSpec::Count { .. } => "count by a, b",
            StageSpec::Stats { .. } => "stats count(), sum(x) by a, b",
            StageSpec::Top { .. } => "top 10 a, b",
            StageSpec::Distinct { .. } => "distinct a, b",
            StageSpec::Sort { .. } => "sort a, b desc",
            StageSpec::FillDown(_) => "fill-down a, b",
            StageSpec::Step { .. } => "step delta(x), sum(x) by a, b",
            StageSpec::Head { by, .. } | StageSpec::Tail { by, .. } if !by.is_empty() => "head 3 by a, b",
            _ => return None,
        };
        Some(LangError::new("expected a comma before this", span).hint(format!("separate items with commas: {list}")))
    }

    /// `-O out` or `--stats` inside the pipeline text: an option typed inside the quotes.
    pub(super) fn option_here(&self) -> Option<LangError> {
        let dash = self.toks.get(self.pos)?;
        if !matches!(dash.tok, Tok::Punct("-")) || !self.spaced_before(dash.span.start) {
            return None;
        }
        let adjacent = |i: usize, at: usize| self.toks.get(i).filter(|t| t.span.start == at);
        let end = match adjacent(self.pos + 1, dash.span.end).map(|t| (&t.tok, t.span)) {
            Some((Tok::Ident(n), w)) if SHORT_OPTIONS.contains(&n.as_str()) => w.end,
            Some((Tok::Punct("-"), d2)) => match adjacent(self.pos + 2, d2.end).map(|t| (&t.tok, t.span)) {
                Some((Tok::Ident(n), w)) if LONG_OPTIONS.contains(&n.as_str()) => {
                    // `--out-dir`: the option's whole text, up to the next space.
                    self.src[w.end..]
                        .find(char::is_whitespace)
                        .map_or(self.src.len(), |p| w.end + p)
                }
                _ => return None,
            },
            _ => return None,
        };
        if end < self.src.len() && !self.src[end..].starts_with(char::is_whitespace) {
            return None;
        }
        let option = &self.src[dash.span.start..end];
        Some(
            LangError::new(
                format!("`{option}` is an option, not part of the pipeline"),
                Span::new(dash.span.start, end),
            )
            .hint(format!("put options outside the quotes: evq {option} … 'PIPELINE'")),
        )
    }

    /// `where count() > 1`: an aggregate where only functions belong.
    pub(super) fn aggregate_in_expression(&self, name: &str, span: Span) -> Option<LangError> {
        let aggs = crate::lang::ast::AGG_NAMES;
        let agg = if aggs.contains(&name) {
            name.to_string()
        } else {
            // A misspelt aggregate (`cout()`), unless a function is at least as near.
            let every: Vec<&str> = aggs.iter().chain(crate::lang::func::Func::NAMES).copied().collect();
            super::nearest(name, &every)
                .filter(|n| aggs.contains(&n.as_str()) && !crate::lang::func::Func::NAMES.contains(&n.as_str()))?
        };
        let example = match agg.as_str() {
            "count" => "count by service | where count > 10".to_string(),
            _ => format!("stats {agg}(x) by service | where {agg}_x > 10"),
        };
        let (message, hint) = if agg == name {
            (
                format!("`{name}` is an aggregate, not a function"),
                format!("aggregates belong in count, stats or top; filter on their result after them: {example}"),
            )
        } else {
            (
                format!("unknown function `{name}`"),
                format!("did you mean the aggregate `{agg}`? aggregates belong in count, stats or top: {example}"),
            )
        };
        Some(LangError::new(message, span).hint(hint))
    }

    /// The source text of the token at `i`, or `…`.
    fn token_text(&self, i: Option<usize>) -> String {
        i.and_then(|i| self.toks.get(i))
            .map_or_else(|| "…".to_string(), |t| self.source_text(t.span))
    }

    /// The line of the pipeline holding `span`, with `span` replaced by `with`.
    fn rewrite(&self, span: Span, with: &str) -> String {
        let line_start = self.src[..span.start].rfind(['\n', '|']).map_or(0, |p| p + 1);
        let line_end = self.src[span.end..]
            .find(['\n', '|'])
            .map_or(self.src.len(), |p| span.end + p);
        format!(
            "{}{with}{}",
            &self.src[line_start..span.start],
            &self.src[span.end..line_end]
        )
        .trim()
        .to_string()
    }

    /// True when the text before `at` is whitespace (or the start).
    fn spaced_before(&self, at: usize) -> bool {
        at == 0 || self.src[..at].ends_with(char::is_whitespace)
    }
}

#[cfg(test)]
mod tests {
    use crate::lang::parse_pipeline;

    fn hint(src: &str) -> String {
        match parse_pipeline(src) {
            Ok(_) => panic!("`{src}` parsed"),
            Err(e) => e.hint.unwrap_or_default(),
        }
    }

    #[test]
    fn a_misspelt_function_is_not_taken_for_an_aggregate() {
        assert_eq!(hint("where lenn(x) > 1"), "did you mean `len`?");
        assert!(hint("where cout() > 1").starts_with("did you mean the aggregate `count`?"));
        // `min` and `max` are functions too: no error.
        assert!(parse_pipeline("where max(a, b) > 1").is_ok());
    }

    #[test]
    fn only_a_dash_after_a_space_before_an_option_name_is_an_option() {
        for src in ["where a == 1 -O out", "where true -q", "where true --out-dir x"] {
            assert!(hint(src).starts_with("put options outside the quotes"), "`{src}`");
        }
        for src in ["set d = a - b", "set d = a -b", "set d = a-O", "where a == -1"] {
            assert!(parse_pipeline(src).is_ok(), "`{src}`");
        }
    }

    #[test]
    fn the_comparison_hint_rewrites_only_the_stage_at_fault() {
        assert_eq!(
            hint("head 5 | where level = \"error\" | count"),
            "use == to compare: where level == \"error\""
        );
    }
}
