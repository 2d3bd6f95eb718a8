//! The parsed pipeline: stages and expressions, already compiled (regexes built, paths split).

use super::error::Span;
use super::func::Func;
use super::value::Val;
use regex::Regex;

/// A field path: `user.id`, `tags[-1]`, `` `id.orig_h` ``. No segments means the whole event.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    pub segs: Vec<Seg>,
}

/// Two paths are equal when they name the same field, wherever they were written.
impl PartialEq for Path {
    fn eq(&self, other: &Path) -> bool {
        self.segs == other.segs
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Seg {
    Key(Box<str>),
    Index(i64),
}

impl Path {
    pub(crate) fn first_key(&self) -> Option<&str> {
        match self.segs.first() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.segs.is_empty() {
            return f.write_str(".");
        }
        for (i, s) in self.segs.iter().enumerate() {
            match s {
                Seg::Key(k) if is_plain_key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    write!(f, "`{k}`")?;
                }
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

fn is_plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '@')
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && !super::parser::RESERVED.contains(&k)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Coalesce,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Const(Val<'static>),
    Path(Path),
    Regex(Regex),
    Array(Vec<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Match { expr: Box<Expr>, re: Regex, negate: bool },
    Call(Func, Vec<Expr>),
}

impl Expr {
    /// Calls `f` on every path the expression reads.
    pub(crate) fn visit_paths(&self, f: &mut dyn FnMut(&Path)) {
        match self {
            Expr::Const(_) | Expr::Regex(_) => {}
            Expr::Path(p) => f(p),
            Expr::Array(items) | Expr::Call(_, items) => items.iter().for_each(|e| e.visit_paths(f)),
            Expr::Not(e) | Expr::Neg(e) | Expr::Match { expr: e, .. } => e.visit_paths(f),
            Expr::Bin(_, a, b) => {
                a.visit_paths(f);
                b.visit_paths(f);
            }
        }
    }
}

/// A `{EXPR}` template such as `"out/{service}/{topic()}.ndjson"`.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub parts: Vec<TemplatePart>,
}

#[derive(Debug, Clone)]
pub(crate) enum TemplatePart {
    Lit(String),
    Expr(Expr),
}

/// A group key: `EXPR [as NAME]`. A path without a name keeps its shape in the output.
#[derive(Debug, Clone)]
pub(crate) struct KeySpec {
    pub expr: Expr,
    pub name: KeyName,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum KeyName {
    Path(Path),
    Named(String),
}

/// An aggregate as written: `sum(latency_ms) as total`.
#[derive(Debug, Clone)]
pub(crate) struct AggSpec {
    pub func: String,
    pub arg: Option<Expr>,
    /// The quantile of `percentile(EXPR, Q)`, as a fraction.
    pub q: Option<f64>,
    pub name: String,
}

/// One stage as written, before the engine builds its runtime state.
#[derive(Debug, Clone)]
pub(crate) enum StageSpec {
    Where(Expr),
    Set(Vec<(Path, Expr)>),
    Del(Vec<Path>),
    Keep(Vec<Path>),
    Rename(Vec<(Path, Path)>),
    Head(u64),
    Tail(u64),
    Count {
        keys: Vec<KeySpec>,
        every: Option<f64>,
    },
    Stats {
        aggs: Vec<AggSpec>,
        keys: Vec<KeySpec>,
        every: Option<f64>,
    },
    Top {
        n: u64,
        keys: Vec<KeySpec>,
        by: Option<AggSpec>,
    },
    Distinct {
        keys: Vec<KeySpec>,
    },
    Sort {
        keys: Vec<(Expr, bool)>,
    },
    Route(RouteSpec),
    /// `parse FORMAT [from EXPR] [else keep|drop|dead]`; `format` is a name or a regex.
    Parse {
        format: ParseFormat,
        from: Option<Expr>,
        otherwise: Otherwise,
    },
    /// `to TEMPLATE` (ends the pipeline) and `tee TEMPLATE` (passes events on).
    To {
        template: Template,
        text: String,
        tee: bool,
    },
    /// `dedupe [by EXPR, …] [within DUR]`; `keys` is `[id]` when not written.
    Dedupe {
        keys: Vec<Expr>,
        within: Option<f64>,
    },
    /// `throttle N per DUR [by EXPR]`.
    Throttle {
        limit: u64,
        per: f64,
        by: Option<Expr>,
    },
    /// `reorder by EXPR within DUR|N`.
    Reorder {
        by: Expr,
        within: Bound,
    },
}

/// How far `reorder` looks back: a span of its key (seconds) or a number of events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Bound {
    Span(f64),
    Events(u64),
}

#[derive(Debug, Clone)]
pub(crate) enum ParseFormat {
    Named(String),
    Regex(Regex),
}

/// What `parse` does with an event it cannot parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Otherwise {
    Keep,
    Drop,
    Dead,
}

#[derive(Debug, Clone)]
pub(crate) enum RouteSpec {
    By(Expr),
    Rules {
        all: bool,
        rules: Vec<(String, Expr)>,
        otherwise: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct StageAst {
    pub spec: StageSpec,
    pub span: Span,
}
