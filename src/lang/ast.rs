//! The parsed pipeline: stages and expressions, already compiled (regexes built, paths split).

use super::error::Span;
use super::func::Func;
use super::value::Val;
use regex::Regex;

/// A field path: `user.id`, `tags[-1]`, `` `id.orig_h` ``. No segments means the whole event.
#[derive(Debug, Clone, Default)]
pub(crate) struct Path {
    pub segs: Vec<Seg>,
    /// The literal-key form of a dotted path, read when the nested form is absent:
    /// `id.orig_h[0]` has `["id.orig_h", 0]` (Zeek's and ECS's flat keys). Only the
    /// leading run of two or more unquoted names is joined; backticks opt out.
    pub flat: Option<Vec<Seg>>,
}

/// Two paths are equal when they name the same field, wherever they were written.
impl PartialEq for Path {
    fn eq(&self, other: &Path) -> bool {
        self.segs == other.segs
    }
}

impl std::hash::Hash for Path {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.segs.hash(state);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Seg {
    Key(Box<str>),
    Index(i64),
}

impl Path {
    /// A path with no literal-key form.
    pub(crate) fn new(segs: Vec<Seg>) -> Path {
        Path { segs, flat: None }
    }

    /// A path of unquoted names: the first `plain` segments were written as bare
    /// words joined by dots, so the path also has a literal-key form.
    pub(crate) fn dotted(segs: Vec<Seg>, plain: usize) -> Path {
        let flat = (plain >= 2).then(|| {
            let joined: Vec<&str> = segs[..plain]
                .iter()
                .filter_map(|s| match s {
                    Seg::Key(k) => Some(&**k),
                    Seg::Index(_) => None,
                })
                .collect();
            let mut flat = vec![Seg::Key(joined.join(".").into())];
            flat.extend_from_slice(&segs[plain..]);
            flat
        });
        Path { segs, flat }
    }

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
                // A backtick cannot be in a backtick name: the key is a string index.
                Seg::Key(k) if k.contains('`') => {
                    if i == 0 {
                        f.write_str(".")?;
                    }
                    write!(f, "[{}]", crate::json::to_string(&serde_json::Value::from(&**k)))?;
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
    Match {
        expr: Box<Expr>,
        re: Regex,
        negate: bool,
    },
    Call(Func, Vec<Expr>),
    /// `if C then A elif D then B else E end`; boxed so that other expressions stay small.
    If(Box<Cond>),
    /// `{a: x, "b c": y}`.
    Object(Box<[(Box<str>, Expr)]>),
    /// `EXPR[i]` on a computed value, or a path indexed by an expression.
    Index(Box<(Expr, Expr)>),
    /// `EXPR[from:to]`: characters of a string or elements of an array.
    Slice(Box<Slice>),
    /// `x => EXPR`, an argument of `map`, `filter`, `any` and `all`.
    Lambda(Box<Lambda>),
}

/// The arms of a conditional, tried in order, and what it gives when none holds.
#[derive(Debug, Clone)]
pub(crate) struct Cond {
    pub arms: Vec<(Expr, Expr)>,
    pub otherwise: Expr,
}

#[derive(Debug, Clone)]
pub(crate) struct Slice {
    pub expr: Expr,
    pub from: Option<Expr>,
    pub to: Option<Expr>,
}

/// `name => body`: inside `body`, paths starting with `name` read the element.
#[derive(Debug, Clone)]
pub(crate) struct Lambda {
    pub name: Box<str>,
    pub body: Expr,
}

impl Expr {
    /// Calls `f` on each expression directly inside this one.
    pub(crate) fn each_child(&self, f: &mut dyn FnMut(&Expr)) {
        match self {
            Expr::Const(_) | Expr::Regex(_) | Expr::Path(_) => {}
            Expr::Array(items) | Expr::Call(_, items) => items.iter().for_each(f),
            Expr::Not(e) | Expr::Neg(e) | Expr::Match { expr: e, .. } => f(e),
            Expr::Bin(_, a, b) => {
                f(a);
                f(b);
            }
            Expr::If(c) => {
                for (cond, then) in &c.arms {
                    f(cond);
                    f(then);
                }
                f(&c.otherwise);
            }
            Expr::Object(fields) => fields.iter().for_each(|(_, e)| f(e)),
            Expr::Index(pair) => {
                f(&pair.0);
                f(&pair.1);
            }
            Expr::Slice(s) => {
                f(&s.expr);
                s.from.iter().chain(&s.to).for_each(f);
            }
            Expr::Lambda(l) => f(&l.body),
        }
    }

    /// Calls `f` on every path the expression reads.
    pub(crate) fn visit_paths(&self, f: &mut dyn FnMut(&Path)) {
        match self {
            Expr::Path(p) => f(p),
            // The lambda's own name is not a field of the event.
            Expr::Lambda(l) => l.body.visit_paths(&mut |p| {
                if p.first_key() != Some(&*l.name) {
                    f(p);
                }
            }),
            e => e.each_child(&mut |child| child.visit_paths(f)),
        }
    }

    /// Whether the expression calls `func` anywhere in it.
    pub(crate) fn calls(&self, func: Func) -> bool {
        let mut found = matches!(self, Expr::Call(f, _) if *f == func);
        self.each_child(&mut |child| found |= child.calls(func));
        found
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

/// Every aggregate name (`crate::agg::AggFn` computes them), for the parser and its suggestions.
pub(crate) const AGG_NAMES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "first",
    "last",
    "stddev",
    "var",
    "distinct",
    "values",
    "p50",
    "p90",
    "p95",
    "p99",
    "p999",
    "percentile",
    "median",
];

/// An aggregate as written: `sum(latency_ms) as total`.
#[derive(Debug, Clone)]
pub(crate) struct AggSpec {
    pub func: String,
    pub arg: Option<Expr>,
    /// The quantile of `percentile(EXPR, Q)`, as a fraction.
    pub q: Option<f64>,
    pub name: String,
}

/// The most windows that may hold one instant (`every / slide`): each event is aggregated into
/// up to this many windows, or each window combines this many panes.
pub(crate) const MAX_PER_WINDOW: f64 = 10_000.0;

/// `every DUR [slide DUR]`: windows `len` seconds long, starting every `slide` seconds; `slide`
/// divides `len`, and equals it for tumbling windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Every {
    pub len: f64,
    pub slide: f64,
}

/// One stage as written, before the engine builds its runtime state.
#[derive(Debug, Clone)]
pub(crate) enum StageSpec {
    Where(Expr),
    Set(Vec<(Path, Expr)>),
    Del(Vec<Path>),
    Keep(Vec<Path>),
    Rename(Vec<(Path, Path)>),
    /// `head [N] [by KEYS]`: the first N events, or the first N of each group.
    Head {
        n: u64,
        by: Vec<KeySpec>,
    },
    /// `tail [N] [by KEYS]`: the last N events, or the last N of each group.
    Tail {
        n: u64,
        by: Vec<KeySpec>,
    },
    Count {
        keys: Vec<KeySpec>,
        every: Option<Every>,
    },
    Stats {
        aggs: Vec<AggSpec>,
        keys: Vec<KeySpec>,
        every: Option<Every>,
    },
    Top {
        n: u64,
        keys: Vec<KeySpec>,
        by: Option<AggSpec>,
        every: Option<Every>,
    },
    Distinct {
        keys: Vec<KeySpec>,
        every: Option<Every>,
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
    /// `fold by KEYS [from PATH] [emit final|changes]`.
    Fold {
        keys: Vec<KeySpec>,
        from: Option<Path>,
        changes: bool,
    },
    /// `assert EXPR [else "MESSAGE"]`.
    Assert {
        check: Expr,
        message: String,
    },
    /// `to TEMPLATE` (ends the pipeline) and `tee TEMPLATE` (passes events on).
    To {
        template: Template,
        text: String,
        tee: bool,
    },
    /// `explode PATH [as NAME]`: one event per element of the array at PATH.
    Explode {
        path: Path,
        name: Option<Path>,
    },
    /// `sample RATE [by EXPR]`.
    Sample {
        rate: Rate,
        by: Option<Expr>,
    },
    /// `join FILE on EXPR [= EXPR] [as NAME]`: `on` is read from the event, `key` from each record.
    Join {
        file: String,
        on: Expr,
        key: Expr,
        name: Option<Path>,
    },
    /// `validate SCHEMA_FILE`.
    Validate {
        file: String,
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
    /// `summary`: one row per field path seen.
    Summary,
    /// `shapes`: the distinct sets of top-level keys, with counts.
    Shapes,
    /// `flatten [SEP]` (`undo`: false) and `unflatten [SEP]` (`undo`: true).
    Flatten {
        sep: String,
        undo: bool,
    },
    /// `fill-down PATH, …`.
    FillDown(Vec<Path>),
    /// `step FN(EXPR) [as NAME], … [by KEYS]`.
    Step {
        steps: Vec<StepSpec>,
        by: Vec<KeySpec>,
    },
}

/// What one part of `step` computes per event, from the state of the event's group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum StepFn {
    /// This value minus the previous one.
    Delta,
    /// The previous value.
    Shift,
    /// `Delta` per second of event time.
    Rate,
    /// The running sum.
    Sum,
    /// The running count: of events (`count()`), or of non-null values.
    Count,
    /// The exponentially weighted moving average with this smoothing factor.
    Ewma(f64),
}

/// One part of `step` as written: `delta(bytes) as d`.
#[derive(Debug, Clone)]
pub(crate) struct StepSpec {
    pub func: StepFn,
    pub arg: Option<Expr>,
    /// Where the result goes in the event.
    pub name: Path,
}

/// How far `reorder` looks back: a span of its key (seconds) or a number of events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Bound {
    Span(f64),
    Events(u64),
}

/// A sampling rate as the exact fraction `num / den` (`0 < num <= den`), and as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rate {
    pub num: u64,
    pub den: u64,
    pub text: String,
}

#[derive(Debug, Clone)]
pub(crate) enum ParseFormat {
    Named(String),
    Regex(Regex),
    /// `"* - [*]" as a, b`.
    Wildcard(crate::parse::wildcard::Wildcard),
}

/// What `parse` does with an event it cannot parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Otherwise {
    Keep,
    Drop,
    Dead,
}

/// The topic of an event no rule of `route NAME: EXPR, …` matched, without `else NAME`.
pub(crate) const UNMATCHED: &str = "_unmatched";

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
    /// The top-level fields of every row an aggregate makes (`count by svc`: `svc`, `count`);
    /// `None` for other stages and for `fold`, whose rows also hold the entities' fields.
    pub rows: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parse_expr;

    fn path(src: &str) -> Path {
        match parse_expr(src) {
            Ok(Expr::Path(p)) => p,
            other => panic!("`{src}` is not a path: {other:?}"),
        }
    }

    #[test]
    fn calls_finds_a_function_at_any_depth() {
        let calls = |src: &str| parse_expr(src).expect("an expression").calls(Func::Topic);
        for yes in [
            "topic()",
            "lower(topic())",
            "x == 1 and [1, {a: topic()}][0]",
            "if a then b else topic() end",
        ] {
            assert!(calls(yes), "{yes}");
        }
        for no in ["topic", "lower(x)", "map(xs, t => t)"] {
            assert!(!calls(no), "{no}");
        }
    }

    #[test]
    fn paths_inside_a_lambda_leave_out_its_own_name() {
        let mut read = Vec::new();
        let e = parse_expr("map(xs, t => t.a + y) + z[0]").expect("an expression");
        e.visit_paths(&mut |p| read.push(p.to_string()));
        assert_eq!(read, ["xs", "y", "z[0]"]);
    }

    #[test]
    fn paths_print_as_they_are_written_quoting_only_what_needs_it() {
        let cases = [
            ("a.b", "a.b"),
            ("`a.b`", "`a.b`"),
            ("`a`.`b`", "a.b"),
            ("tags[-1]", "tags[-1]"),
            (r#"headers["user-agent"]"#, "headers.`user-agent`"),
            ("@timestamp", "@timestamp"),
            ("`by`", "`by`"),
            ("`1a`", "`1a`"),
            ("`é`", "é"),
            ("`a b`.c[0][1]", "`a b`.c[0][1]"),
            (".", "."),
        ];
        for (src, want) in cases {
            let p = path(src);
            assert_eq!(p.to_string(), want, "`{src}`");
            assert_eq!(path(&p.to_string()), p, "`{src}` does not read back");
        }
    }

    #[test]
    fn first_key_is_the_top_level_field_a_path_reads() {
        assert_eq!(path("a.b[0]").first_key(), Some("a"));
        assert_eq!(path("`x.y`.z").first_key(), Some("x.y"));
        assert_eq!(path(".").first_key(), None);
    }

    #[test]
    fn visit_paths_sees_every_path_of_an_expression_in_order() {
        let e = parse_expr(r"a == 1 and not (b.c =~ /x/) or len([d, e[0]]) > -f ?? g").expect("an expression");
        let mut seen = Vec::new();
        e.visit_paths(&mut |p| seen.push(p.to_string()));
        assert_eq!(seen, ["a", "b.c", "d", "e[0]", "f", "g"]);
    }
}
