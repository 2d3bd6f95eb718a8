//! Parsing of the aggregate stages: `count`, `stats`, `top`, `distinct`, `sort`.

use super::{Parser, nearest};
use crate::lang::ast::{AggSpec, Every, Expr, KeyName, KeySpec, Path, Seg, StageSpec};
use crate::lang::error::{LangError, Span};
use crate::lang::lexer::Tok;

/// The longest window, in seconds: 100 years, so that windows of any time evq reads have
/// bounds it can write.
const MAX_WINDOW: f64 = 100.0 * 365.2425 * 86_400.0;

const WINDOW_HINT: &str = "windows are durations such as 30s, 5m, 1h or 1d";
const SLIDE_HINT: &str =
    "every 5m slide 1m gives windows of 5 minutes starting every minute; the slide divides the window";

/// Aggregate function names, for parsing and suggestions.
const AGG_NAMES: &[&str] = crate::lang::ast::AGG_NAMES;

impl Parser {
    pub(super) fn aggregate_stage(&mut self, name: &str) -> Result<StageSpec, LangError> {
        let stage_span = self.prev_span();
        let mut cols = Columns::default();
        let spec = match name {
            "count" => {
                let keys = if self.eat_word("by") {
                    self.keys(&mut cols)?
                } else {
                    Vec::new()
                };
                cols.add(vec![Seg::Key("count".into())], "the count".into(), stage_span);
                StageSpec::Count {
                    keys,
                    every: self.every(&mut cols)?,
                }
            }
            "stats" => {
                let aggs = self.list(|p| p.agg(&mut cols))?;
                let keys = if self.eat_word("by") {
                    self.keys(&mut cols)?
                } else {
                    Vec::new()
                };
                StageSpec::Stats {
                    aggs,
                    keys,
                    every: self.every(&mut cols)?,
                }
            }
            "top" => {
                let n = match self.peek() {
                    Some(Tok::Num(_)) => self.count_arg(10)?,
                    _ => 10,
                };
                let keys = self.keys(&mut cols)?;
                let by = if self.eat_word("by") {
                    Some(self.agg(&mut cols)?)
                } else {
                    cols.add(vec![Seg::Key("count".into())], "the count".into(), stage_span);
                    None
                };
                StageSpec::Top {
                    n,
                    keys,
                    by,
                    every: self.every(&mut cols)?,
                }
            }
            "distinct" => StageSpec::Distinct {
                keys: self.keys(&mut cols)?,
                every: self.every(&mut cols)?,
            },
            "fold" => self.fold(&mut cols)?,
            _ if matches!(self.peek(), Some(Tok::Ident(w)) if w == "by") => {
                return Err(self
                    .error_here("sort takes its keys without `by`")
                    .hint("write sort x (sort x desc for the largest first)"));
            }
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
        };
        cols.check()?;
        if matches!(
            spec,
            StageSpec::Count { .. } | StageSpec::Stats { .. } | StageSpec::Top { .. } | StageSpec::Distinct { .. }
        ) {
            self.rows = Some(cols.top_level());
        }
        Ok(spec)
    }

    /// `fold by KEYS [from PATH] [emit final|changes]`.
    fn fold(&mut self, cols: &mut Columns) -> Result<StageSpec, LangError> {
        if !self.eat_word("by") {
            return Err(self
                .error_here("expected `by` and the keys that name an entity")
                .hint("fold by order_id, or fold by order_id from data"));
        }
        let keys = self.keys(cols)?;
        let from = if self.eat_word("from") {
            Some(self.path()?)
        } else {
            None
        };
        let changes = if self.eat_word("emit") {
            match self.peek() {
                Some(Tok::Ident(w)) if w == "changes" || w == "final" => {
                    let changes = w == "changes";
                    self.advance();
                    changes
                }
                _ => {
                    return Err(self.error_here("expected `final` or `changes` after `emit`").hint(
                        "emit final gives one state per key at the end; emit changes the state after every event",
                    ));
                }
            }
        } else {
            false
        };
        for name in ["_events", "_last"] {
            cols.add(
                vec![Seg::Key(name.into())],
                format!("the fold's `{name}`"),
                self.prev_span(),
            );
        }
        Ok(StageSpec::Fold { keys, from, changes })
    }

    /// `every DUR [slide DUR]`: tumbling windows, or sliding ones when a slide is given.
    fn every(&mut self, cols: &mut Columns) -> Result<Option<Every>, LangError> {
        if !self.eat_word("every") {
            return Ok(None);
        }
        let start = self.prev_span();
        let len = self.window_duration("a window length such as 1m", WINDOW_HINT)?;
        let span = start.to(self.prev_span());
        for name in ["window_start", "window_end"] {
            cols.add(vec![Seg::Key(name.into())], format!("the window's {name}"), span);
        }
        if !self.eat_word("slide") {
            return Ok(Some(Every { len, slide: len }));
        }
        let from = self.prev_span();
        let slide = self.window_duration("how far windows slide, such as 1m", SLIDE_HINT)?;
        let span = from.to(self.prev_span());
        let per_window = len / slide;
        if per_window < 1.0 || (per_window - per_window.round()).abs() > 1e-9 * per_window {
            return Err(LangError::new("the slide must divide the window length", span).hint(SLIDE_HINT));
        }
        if per_window > crate::lang::ast::MAX_PER_WINDOW {
            return Err(LangError::new(
                format!(
                    "each event would be in {} windows, as every / slide says: too many",
                    per_window.round()
                ),
                span,
            )
            .hint("every / slide may be at most 10000: slide by a longer step"));
        }
        Ok(Some(Every { len, slide }))
    }

    /// A duration after `every` or `slide`: whole milliseconds, from 1ms (window bounds are written to the
    /// millisecond) to 100 years.
    fn window_duration(&mut self, what: &str, hint: &str) -> Result<f64, LangError> {
        match self.next().map(|t| (t.tok, t.span)) {
            Some((Tok::Duration(d), _)) if (0.001..=MAX_WINDOW).contains(&d) && whole_ms(d) => Ok(d),
            Some((Tok::Duration(_), span)) => Err(LangError::new(
                "a window is a whole number of milliseconds (its bounds are written to the millisecond), from 1ms to 100 years",
                span,
            )
            .hint(hint)),
            Some((_, span)) => Err(LangError::new(format!("expected {what}"), span).hint(hint)),
            None => Err(self.error_here(&format!("expected {what}")).hint(hint)),
        }
    }

    pub(super) fn keys(&mut self, cols: &mut Columns) -> Result<Vec<KeySpec>, LangError> {
        self.list(|p| {
            let start = p.span_here();
            let expr = p.expr()?;
            let text = p.source_text(start.to(p.prev_span()));
            let name = if p.eat_word("as") {
                KeyName::Named(p.name()?)
            } else {
                // A path keeps its shape, unless it counts from the end of an array, which
                // no row can show: then it is named by its text, as an expression is.
                match &expr {
                    Expr::Path(path)
                        if !path.segs.is_empty() && !path.segs.iter().any(|s| matches!(s, Seg::Index(i) if *i < 0)) =>
                    {
                        KeyName::Path(path.clone())
                    }
                    _ => KeyName::Named(text),
                }
            };
            let span = start.to(p.prev_span());
            let out = match &name {
                KeyName::Path(path) => path.segs.clone(),
                KeyName::Named(n) => vec![Seg::Key(n.as_str().into())],
            };
            cols.add(out, format!("the key `{}`", p.source_text(span)), span);
            Ok(KeySpec { expr, name })
        })
    }

    fn name(&mut self) -> Result<String, LangError> {
        let Some(Tok::Ident(name) | Tok::Quoted(name) | Tok::Str(name)) = self.next().map(|t| t.tok) else {
            return Err(LangError::new("expected a name after `as`", self.prev_span())
                .hint("a name is a word, a `backtick name` or a \"string\""));
        };
        if matches!(self.peek(), Some(Tok::Punct("." | "["))) {
            return Err(self
                .error_here("a name after `as` is one word, not a path")
                .hint(format!("write as {name}_…, or quote the name: as \"{name}.…\"")));
        }
        Ok(name)
    }

    /// `count()`, `sum(x)`, `percentile(x, 95)`, each optionally `as NAME`.
    fn agg(&mut self, cols: &mut Columns) -> Result<AggSpec, LangError> {
        let span = self.span_here();
        let Some(Tok::Ident(func)) = self.next().map(|t| t.tok) else {
            return Err(
                LangError::new("expected an aggregate such as count() or avg(latency_ms)", span)
                    .hint(format!("aggregates are: {}", AGG_NAMES.join(", "))),
            );
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
        let mut percent = None;
        if !self.eat_punct(")") {
            arg = Some(self.expr()?);
            if func == "percentile" {
                self.expect_punct(",")?;
                percent = Some(self.percentage()?);
            }
            self.expect_punct(")")?;
        }
        let full = span.to(self.prev_span());
        if arg.is_none() && func != "count" {
            return Err(
                LangError::new(format!("`{func}` takes a value, e.g. {func}(latency_ms)"), full)
                    .hint("count() alone counts events; every other aggregate needs a field or an expression"),
            );
        }
        if func == "percentile" && percent.is_none() {
            return Err(LangError::new(
                "percentile takes a value and a percentage, e.g. percentile(latency_ms, 95)",
                full,
            )
            .hint("or use p50, p90, p95, p99, p999 or median"));
        }
        let name = if self.eat_word("as") {
            self.name()?
        } else {
            default_name(&func, arg.as_ref(), percent)
        };
        let span = span.to(self.prev_span());
        cols.add(
            vec![Seg::Key(name.as_str().into())],
            format!("`{}`", self.source_text(span)),
            span,
        );
        Ok(AggSpec {
            func,
            arg,
            q: percent.map(|p| p / 100.0),
            name,
        })
    }

    /// The Q of `percentile(EXPR, Q)`: a constant from 0 to 100.
    fn percentage(&mut self) -> Result<f64, LangError> {
        let qspan = self.span_here();
        let v = match self.expr()? {
            Expr::Const(v) => v.numeric().map(crate::lang::value::Numeric::as_f64),
            _ => None,
        };
        match v {
            Some(p) if (0.0..=100.0).contains(&p) => Ok(p),
            _ => Err(LangError::new("the percentile must be a number from 0 to 100", qspan)
                .hint("e.g. percentile(latency_ms, 99.9)")),
        }
    }
}

/// An aggregate's default name, as the manual says: its function and its path, with other
/// characters as `_` (`count`, `count_user_id`, `sum_latency_ms`, `p99_9_latency_ms`,
/// `max__path` for `_path`). Without a path argument, the function alone.
fn default_name(func: &str, arg: Option<&Expr>, percent: Option<f64>) -> String {
    let func = match percent {
        Some(p) => format!("p{p}").replace('.', "_"),
        None => func.to_string(),
    };
    match arg {
        Some(Expr::Path(p)) if !p.segs.is_empty() => format!("{func}_{}", super::discover::underscored(p)),
        _ => func,
    }
}

/// The output fields of a grouping stage as they are parsed, so that two of them can never
/// write the same field: one would silently overwrite the other in every row.
#[derive(Default)]
pub(super) struct Columns(Vec<Column>);

struct Column {
    /// Where the column goes in an output row; a group key keeps its path's shape.
    path: Vec<Seg>,
    /// What wrote it, for the error: "`max(a.b)`", "the key `user`", "the count".
    what: String,
    span: Span,
}

impl Columns {
    fn add(&mut self, path: Vec<Seg>, what: String, span: Span) {
        self.0.push(Column { path, what, span });
    }

    /// The fields at the top of a row, in order, each once (`user.id` and `user.name`: `user`).
    fn top_level(&self) -> Vec<String> {
        let mut names = indexmap::IndexSet::new();
        for c in &self.0 {
            if let Some(Seg::Key(k)) = c.path.first() {
                names.insert(&**k);
            }
        }
        names.into_iter().map(str::to_string).collect()
    }

    /// Fails when two columns are the same field, or one holds the other (`user` and `user.id`),
    /// naming the pair whose later column comes first in the text. In order of their paths, a
    /// column that holds others comes right before them, so only neighbours are compared.
    fn check(&self) -> Result<(), LangError> {
        let mut sorted: Vec<&Column> = self.0.iter().collect();
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
        let clash = sorted
            .windows(2)
            .filter(|pair| pair[1].path.starts_with(&pair[0].path))
            .map(|pair| match pair[0].span.start <= pair[1].span.start {
                true => (pair[0], pair[1]),
                false => (pair[1], pair[0]),
            })
            .min_by_key(|(_, second)| second.span.start);
        let Some((first, second)) = clash else { return Ok(()) };
        let field = Path::new(first.path.iter().zip(&second.path).map(|(s, _)| s.clone()).collect());
        Err(LangError::new(
            format!(
                "{} and {} both write the output field `{field}`",
                first.what, second.what
            ),
            second.span,
        )
        .hint("give one of them another name with `as NAME`"))
    }
}

/// Whether `seconds` is a whole number of milliseconds, as far as a float holds it (`1s1ns`
/// and `1500us` are not).
pub(super) fn whole_ms(seconds: f64) -> bool {
    let ms = seconds * 1000.0;
    (ms - ms.round()).abs() <= 1e-7 + ms * 1e-15
}
