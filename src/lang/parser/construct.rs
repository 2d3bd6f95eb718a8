//! Expressions beyond operators: conditionals, object constructors, indexes and slices of
//! computed values, lambdas and `$NAME` parameters.

use super::{Parser, nearest};
use crate::lang::ast::{Cond, Expr, Lambda, Seg, Slice};
use crate::lang::error::{LangError, Span};
use crate::lang::lexer::Tok;
use crate::lang::value::Val;
use serde_json::Value;

/// The values `$NAME` stands for: `--arg`, `--argjson`, and `$ENV` (read when used).
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    pub vars: Vec<(String, Value)>,
    /// The names the pipeline used, shared by every parser of it (a template parses its
    /// placeholders with a parser of its own): a parameter never used does nothing.
    used: std::rc::Rc<std::cell::RefCell<Vec<String>>>,
}

impl Params {
    pub(crate) fn new(vars: Vec<(String, Value)>) -> Params {
        Params {
            vars,
            used: std::rc::Rc::default(),
        }
    }

    /// The names given that no parsed text used.
    pub(crate) fn unused(&self) -> Vec<&str> {
        let used = self.used.borrow();
        let mut unused: Vec<&str> = Vec::new();
        for (name, _) in &self.vars {
            if !used.contains(name) && !unused.contains(&name.as_str()) {
                unused.push(name);
            }
        }
        unused
    }

    fn get(&self, name: &str) -> Option<Value> {
        self.used.borrow_mut().push(name.to_string());
        if let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| n == name) {
            return Some(v.clone());
        }
        (name == "ENV").then(environment)
    }
}

/// `$ENV`: the environment's variables whose names and values are text (UTF-8); others are
/// left out, as `env(NAME)` reads them as null.
fn environment() -> Value {
    let text = |(k, v): (std::ffi::OsString, std::ffi::OsString)| Some((k.into_string().ok()?, v.into_string().ok()?));
    Value::Object(
        std::env::vars_os()
            .filter_map(text)
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    )
}

const IF_HINT: &str = "write if CONDITION then VALUE else OTHER end";

impl Parser {
    /// `if C then A [elif C then A]… [else B] end`; `else if` continues the chain.
    pub(super) fn conditional(&mut self) -> Result<Expr, LangError> {
        let start = self.span_here();
        self.advance();
        let mut arms = Vec::new();
        loop {
            let cond = self.expr()?;
            if !self.eat_word("then") {
                return Err(self.error_here("expected `then` after the condition").hint(IF_HINT));
            }
            arms.push((cond, self.expr()?));
            if self.eat_word("elif") {
                continue;
            }
            let otherwise = if self.eat_word("else") {
                if self.eat_word("if") {
                    continue;
                }
                self.expr()?
            } else {
                Expr::Const(Val::Null)
            };
            if !self.eat_word("end") {
                let e = LangError::new("expected `end` to close the `if`", self.span_here().to(start));
                return Err(e.hint(format!("{IF_HINT}; every if needs its end")));
            }
            return Ok(Expr::If(Box::new(Cond { arms, otherwise })));
        }
    }

    /// An operator of other languages after a value: `=>` outside a lambda, `C ? A : B`
    /// (a `?` with a `:` after it in the same stage) or jq's `.a?`. The error says what
    /// evq writes instead.
    pub(super) fn stray_operator_here(&self) -> Option<LangError> {
        if matches!(self.peek(), Some(Tok::Punct("=>"))) {
            return Some(self.error_here("`=>` is not a comparison").hint(
                "write >= for greater or equal; x => EXPR is a lambda, the last argument of map, filter, any and all",
            ));
        }
        if !matches!(self.peek(), Some(Tok::Punct("?"))) {
            return None;
        }
        let rest = self.toks.get(self.pos..).unwrap_or_default();
        let colon = rest
            .iter()
            .take_while(|t| t.tok != Tok::Punct("|"))
            .any(|t| t.tok == Tok::Punct(":"));
        Some(if colon {
            self.error_here("evq has no `? :` operator").hint(
                "write if CONDITION then VALUE else OTHER end, e.g. if status >= 500 then \"error\" else \"ok\" end",
            )
        } else {
            self.error_here("evq has no `?` after a value")
                .hint("a missing field or index is already null, so no `?` is needed; ?? gives a default: a ?? 0")
        })
    }

    /// `{a: x, "b c": y, c}`: `c` alone is `c: c`.
    pub(super) fn object(&mut self) -> Result<Expr, LangError> {
        self.advance();
        let mut fields: Vec<(Box<str>, Expr)> = Vec::new();
        if !self.eat_punct("}") {
            fields = self.list(|p| {
                let span = p.span_here();
                let key: Box<str> = match p.next().map(|t| t.tok) {
                    Some(Tok::Ident(k) | Tok::Quoted(k) | Tok::Str(k)) => k.into(),
                    _ => {
                        return Err(LangError::new("expected a key", span)
                            .hint("an object is written {name: value, \"other key\": value}"));
                    }
                };
                let value = if p.eat_punct(":") {
                    p.expr()?
                } else {
                    Expr::Path(crate::lang::Path::new(vec![Seg::Key(key.clone())]))
                };
                Ok((key, value))
            })?;
            if !self.eat_punct("}") {
                return Err(self
                    .error_here("expected `}` to close the object")
                    .hint("an object is written {name: value, \"other key\": value}"));
            }
        }
        Ok(Expr::Object(fields.into()))
    }

    /// `.name` right after a value (no space before the dot): its key `name`.
    fn dot_key_here(&self) -> Option<String> {
        let adjacent = self.toks.get(self.pos).is_some_and(|t| t.span.start == self.prev.end);
        match (self.peek(), self.peek_at(1)) {
            (Some(Tok::Punct(".")), Some(Tok::Ident(k) | Tok::Quoted(k))) if adjacent => Some(k.clone()),
            _ => None,
        }
    }

    /// `[i]`, `[from:to]`, `[from:]`, `[:to]` and `.name` after `base`, as many as are written.
    pub(super) fn postfix(&mut self, mut base: Expr) -> Result<Expr, LangError> {
        loop {
            if let Some(key) = self.dot_key_here() {
                self.advance();
                self.advance();
                base = Expr::Index(Box::new((base, Expr::Const(Val::string(key)))));
                self.depth += 1;
                continue;
            }
            if !self.eat_punct("[") {
                return Ok(base);
            }
            let from = if matches!(self.peek(), Some(Tok::Punct(":"))) {
                None
            } else {
                Some(self.expr()?)
            };
            base = if self.eat_punct(":") {
                let to = if matches!(self.peek(), Some(Tok::Punct("]"))) {
                    None
                } else {
                    Some(self.expr()?)
                };
                Expr::Slice(Box::new(Slice { expr: base, from, to }))
            } else {
                match from {
                    Some(i) => Expr::Index(Box::new((base, i))),
                    None => {
                        return Err(self
                            .error_here("expected an index")
                            .hint("write x[0], x[1:3] or x[-2:]"));
                    }
                }
            };
            if !self.eat_punct("]") {
                return Err(self
                    .error_here("expected `]`")
                    .hint("an index is x[0], a slice x[1:3], x[:2] or x[-2:]"));
            }
            self.depth += 1;
        }
    }

    /// `name => body`, the last argument of `map`, `filter`, `any` and `all`.
    pub(super) fn lambda(&mut self, func: &str) -> Result<Expr, LangError> {
        let hint = format!("write {func}(ARRAY, x => EXPRESSION), where x stands for each element");
        let (Some(Tok::Ident(name)), Some(Tok::Punct("=>"))) = (self.peek().cloned(), self.peek_at(1)) else {
            return Err(self.error_here("expected `NAME =>`").hint(hint));
        };
        self.advance();
        self.advance();
        let body = self.expr()?;
        Ok(Expr::Lambda(Box::new(Lambda {
            name: name.into(),
            body,
        })))
    }

    /// `$NAME`, `$NAME.key[0]`, `$ENV.HOME`: a constant from the command line or environment.
    pub(super) fn parameter(&mut self, name: &str, span: Span) -> Result<Expr, LangError> {
        self.advance();
        let Some(mut value) = self.params.get(name) else {
            let given: Vec<String> = self.params.vars.iter().map(|(n, _)| format!("${n}")).collect();
            let e = LangError::new(format!("unknown parameter `${name}`"), span);
            let names: Vec<&str> = self.params.vars.iter().map(|(n, _)| n.as_str()).collect();
            return Err(match (nearest(name, &names), given.is_empty()) {
                (Some(n), _) => e.hint(format!("did you mean `${n}`? given: {}", given.join(", "))),
                (None, true) => e.hint(format!(
                    "give it with --arg {name} VALUE or --argjson {name} JSON; $ENV holds the environment"
                )),
                (None, false) => e.hint(format!(
                    "given: {}; add --arg {name} VALUE, or use $ENV for the environment",
                    given.join(", ")
                )),
            });
        };
        loop {
            let seg = if self.eat_punct(".") {
                match self.next().map(|t| t.tok) {
                    Some(Tok::Ident(k) | Tok::Quoted(k)) => Seg::Key(k.into()),
                    _ => {
                        return Err(
                            LangError::new("expected a name after `.`", self.prev_span()).hint("e.g. $ENV.HOME")
                        );
                    }
                }
            } else if matches!(self.peek(), Some(Tok::Punct("["))) && matches!(self.peek_at(2), Some(Tok::Punct("]"))) {
                let seg = match self.peek_at(1).cloned() {
                    Some(Tok::Num(n)) => match n.parse() {
                        Ok(i) => Seg::Index(i),
                        Err(_) => break,
                    },
                    Some(Tok::Str(k)) => Seg::Key(k.into()),
                    _ => break,
                };
                self.advance();
                self.advance();
                self.advance();
                seg
            } else {
                break;
            };
            value = crate::lang::tree::navigate(&value, std::slice::from_ref(&seg))
                .cloned()
                .unwrap_or(Value::Null);
        }
        Ok(Expr::Const(Val::from_owned_value(value)))
    }
}

#[cfg(test)]
mod tests {
    use crate::lang::eval::tests::check_table;
    use crate::lang::parser::{Params, parse_expr, parse_pipeline_with};

    const EV: &str = r#"{"status":503,"s":"héllo","tags":["a","b","c"],"end":1,"then":2,"o":{"k":"v"}}"#;

    fn error(src: &str) -> String {
        match parse_expr(src) {
            Ok(e) => panic!("`{src}` parsed: {e:?}"),
            Err(e) => format!("{} / {}", e.message, e.hint.unwrap_or_default()),
        }
    }

    #[test]
    fn conditionals_pick_the_first_arm_that_holds() {
        check_table(&[
            (r#"if status >= 500 then "error" else "ok" end"#, EV, r#""error""#),
            (r#"if status < 500 then "ok" end"#, EV, "null"),
            (r"if status < 400 then 1 elif status < 500 then 2 else 3 end", EV, "3"),
            (
                r"if status < 400 then 1 else if status < 600 then 2 else 3 end",
                EV,
                "2",
            ),
            ("if missing then 1 else 2 end", EV, "2"),
            // `end` and `then` stay field names where a value is expected.
            ("if end then then else end end", EV, "2"),
            ("if true then if false then 1 else 2 end else 3 end + 1", EV, "3"),
        ]);
    }

    #[test]
    fn a_c_style_conditional_teaches_the_if_form() {
        assert!(error("a ? 1 : 2").contains("if CONDITION then VALUE else OTHER end"));
        assert!(error("a == 1 ? f(b) : [c]").contains("evq has no `? :` operator"));
        assert!(error("a? == 1").contains("already null"));
        assert!(error("a => 1").contains("write >= for greater or equal"));
        assert!(error("if a then 1").contains("expected `end`"));
        assert!(error("if a 1 end").contains("expected `then`"));
    }

    #[test]
    fn objects_and_arrays_are_built_from_expressions() {
        check_table(&[
            (
                r#"{a: status, "b c": upper(s), tags}"#,
                EV,
                r#"{"a":503,"b c":"HÉLLO","tags":["a","b","c"]}"#,
            ),
            ("{}", EV, "{}"),
            ("[status, s, [1]]", EV, r#"[503,"héllo",[1]]"#),
            (r"{a: 1, a: 2}", EV, r#"{"a":2}"#),
        ]);
        assert!(error("{a: 1").contains("expected `}`"));
        assert!(error("{1: 2}").contains("expected a key"));
    }

    #[test]
    fn a_list_in_brackets_or_parentheses_is_a_set_for_in() {
        check_table(&[
            (r#"s in ("héllo", "x")"#, EV, "true"),
            (r"status in (1, 2)", EV, "false"),
            (r"status not in (1, 2)", EV, "true"),
            ("(status)", EV, "503"),
            // One value in parentheses after `in` is a list of one, not a substring test.
            (r#""éll" in ("héllo")"#, EV, "false"),
            (r#""éll" in "héllo""#, EV, "true"),
            (r#"s in ("héllo")"#, EV, "true"),
            (r#"s not in ("x")"#, EV, "true"),
        ]);
    }

    #[test]
    fn slices_count_characters_and_elements_from_either_end() {
        check_table(&[
            ("s[1:3]", EV, r#""él""#),
            ("s[:2]", EV, r#""hé""#),
            ("s[-2:]", EV, r#""lo""#),
            ("s[3:1]", EV, r#""""#),
            ("s[-99:99]", EV, r#""héllo""#),
            ("tags[-2:]", EV, r#"["b","c"]"#),
            ("tags[1:]", EV, r#"["b","c"]"#),
            ("tags[:-1]", EV, r#"["a","b"]"#),
            ("tags[0.5:]", EV, "null"),
            ("status[0:1]", EV, "null"),
            ("split(s, \"l\")[0]", EV, r#""hé""#),
            ("tags[end]", EV, r#""b""#),
            ("s[1]", EV, "null"),
            (r#""abc"[1]"#, EV, "null"),
            ("s[1:2]", EV, r#""é""#),
            (r#"o["k"]"#, EV, r#""v""#),
            (r#"{a: [1, 2]}["a"][-1]"#, EV, "2"),
            (r"{a: {b: [1, {c: 3}]}}.a.b[1].c", EV, "3"),
            ("tags[end].x", EV, "null"),
        ]);
        assert!(error("tags[:").contains("expected"));
    }

    #[test]
    fn parameters_are_constants_and_unknown_ones_list_the_given_names() {
        let params = Params::new(vec![
            ("who".into(), serde_json::json!("ann")),
            ("cfg".into(), serde_json::json!({"limit": 5, "hosts": ["a", "b"]})),
        ]);
        let stage = |src: &str| parse_pipeline_with(src, &params).map(|mut s| s.remove(0).spec);
        assert!(format!("{:?}", stage("where $cfg.limit == 5").expect("parses")).contains("Const(Int(5))"));
        assert!(format!("{:?}", stage("where $cfg.hosts[1] == 1").expect("parses")).contains(r#"Const(Str("b"))"#));
        assert!(format!("{:?}", stage("where $ENV.PATH != null").expect("parses")).contains("Const(Str("));
        let e = stage("where $whom == 1").expect_err("unknown");
        assert_eq!(e.hint.as_deref(), Some("did you mean `$who`? given: $who, $cfg"));
        let e = stage("where $zzz == 1").expect_err("unknown");
        assert!(
            e.hint.as_deref().is_some_and(|h| h.starts_with("given: $who, $cfg;")),
            "{e:?}"
        );
    }

    /// Words and marks of the new expressions, for random pipelines.
    const PIECES: &[&str] = &[
        "where",
        "set",
        "x",
        "=",
        "if",
        "then",
        "elif",
        "else",
        "end",
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        ":",
        ",",
        "=>",
        "?",
        "$who",
        "$ENV",
        ".",
        "HOME",
        "map(",
        "filter(",
        "capture(",
        "format(",
        "\"%d\"",
        "/a/",
        "@2026-11-01",
        "1",
        "-2",
        "in",
        "not",
        "|",
        "a",
        "b.c",
        "==",
        ">=",
        "+",
    ];

    proptest::proptest! {
        #[test]
        fn any_sequence_of_the_new_syntax_parses_or_explains_with_a_caret_and_a_hint(
            picks in proptest::collection::vec(0..PIECES.len(), 1..14)
        ) {
            let src: Vec<&str> = picks.iter().map(|&i| PIECES[i]).collect();
            let src = src.join(" ");
            let params = Params::new(vec![("who".into(), serde_json::json!({"k": [1]}))]);
            if let Err(e) = parse_pipeline_with(&src, &params) {
                proptest::prop_assert!(e.hint.is_some(), "no hint for `{}`: {}", src, e.message);
                let r = e.render(&src);
                proptest::prop_assert!(r.lines().nth(2).is_some_and(|l| l.contains('^')), "no caret: {}", r);
            }
        }
    }

    #[test]
    fn lambdas_are_required_where_a_function_takes_one() {
        assert!(error("map(tags)").contains("map(array, x => expr)"));
        assert!(error("map(tags, upper(x))").contains("expected `NAME =>`"));
        assert!(error("filter(tags x => x)").contains("expected `,`"));
    }
}
