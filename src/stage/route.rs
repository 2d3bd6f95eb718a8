//! `route by EXPR`, `route NAME: EXPR, … [else NAME]` (content-based router) and
//! `route all NAME: EXPR, … [else NAME]` (recipient list): set the event's topic.

use super::{Describe, Flow, PerEvent, Step};
use crate::event::Event;
use crate::lang::ast::{RouteSpec, UNMATCHED};
use crate::lang::{Env, Expr, Val};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub(crate) enum Route {
    By(Expr),
    Rules {
        all: bool,
        rules: Vec<(Arc<str>, Expr)>,
        otherwise: Arc<str>,
    },
}

impl Route {
    pub(crate) fn new(spec: &RouteSpec) -> Route {
        match spec {
            RouteSpec::By(e) => Route::By(e.clone()),
            RouteSpec::Rules { all, rules, otherwise } => Route::Rules {
                all: *all,
                rules: rules.iter().map(|(n, e)| (Arc::from(n.as_str()), e.clone())).collect(),
                otherwise: Arc::from(otherwise.as_deref().unwrap_or(UNMATCHED)),
            },
        }
    }

    /// The topics of an event: one, or with `route all` one per matching rule.
    pub(crate) fn topics(&self, ev: &Event, env: &Env) -> Vec<Option<Arc<str>>> {
        match self {
            Route::By(e) => vec![match e.eval(ev, env) {
                Val::Null => None,
                v => Some(Arc::from(v.to_text().as_ref())),
            }],
            Route::Rules { all, rules, otherwise } => {
                let mut out = Vec::new();
                for (name, cond) in rules {
                    if cond.test(ev, env) {
                        out.push(Some(name.clone()));
                        if !all {
                            break;
                        }
                    }
                }
                if out.is_empty() {
                    out.push(Some(otherwise.clone()));
                }
                out
            }
        }
    }

    /// One event per topic (`route all`: one per matching rule), each with its topic set.
    pub(crate) fn copies<'a>(&self, ev: &Event<'a>, env: &Env) -> Vec<Event<'a>> {
        self.topics(ev, env)
            .into_iter()
            .map(|topic| {
                let mut c = ev.clone();
                c.topic = topic;
                c
            })
            .collect()
    }

    /// Sets the topic when there is exactly one; `route all` is handled by the engine.
    pub(crate) fn apply(&self, ev: &mut Event, env: &Env) -> Flow {
        let mut topics = self.topics(ev, env);
        ev.topic = topics.swap_remove(0);
        Flow::Pass
    }

    pub(crate) fn fans_out(&self) -> bool {
        matches!(self, Route::Rules { all: true, .. })
    }
}

impl Route {
    /// The conditions of `route NAME: EXPR, …` (none for `route by`).
    pub(crate) fn conditions(&self) -> impl Iterator<Item = &Expr> {
        let rules = match self {
            Route::By(_) => &[][..],
            Route::Rules { rules, .. } => &rules[..],
        };
        rules.iter().map(|(_, e)| e)
    }
}

impl Describe for Route {
    fn expressions(&self) -> Vec<&Expr> {
        match self {
            Route::By(e) => vec![e],
            Route::Rules { .. } => self.conditions().collect(),
        }
    }

    fn name(&self) -> &'static str {
        "route"
    }

    fn counts(&self) -> Option<&'static str> {
        match self {
            Route::Rules { all: true, .. } => Some("extra topics: copies"),
            _ => None,
        }
    }
}

impl PerEvent for Route {
    fn step<'a>(&self, ev: &mut Event<'a>, env: &Env) -> Step<'a> {
        if self.fans_out() {
            Step::Many(Box::new(self.copies(ev, env).into_iter()))
        } else {
            Step::of(self.apply(ev, env))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Needs;
    use crate::event::Origin;
    use crate::lang::{StageSpec, parse_pipeline};

    fn route(src: &str) -> Route {
        match parse_pipeline(src).map(|mut s| s.remove(0).spec) {
            Ok(StageSpec::Route(spec)) => Route::new(&spec),
            other => panic!("`{src}` is not a route: {other:?}"),
        }
    }

    /// The topics `src` gives the event `line`, `-` for none.
    fn topics(src: &str, line: &str) -> Vec<String> {
        let r = route(src);
        let mut needs = Needs::default();
        r.needs(&mut needs);
        let ev = Event::parse(line, Origin::default(), &needs).expect("a valid line");
        r.topics(&ev, &Env::default())
            .into_iter()
            .map(|t| t.map_or("-".into(), |t| t.to_string()))
            .collect()
    }

    #[test]
    fn route_by_names_the_topic_by_the_value_as_text() {
        let cases: &[(&str, &[&str])] = &[
            (r#"{"k":"api"}"#, &["api"]),
            (r#"{"k":"a/b c"}"#, &["a/b c"]),
            (r#"{"k":5}"#, &["5"]),
            (r#"{"k":1.50}"#, &["1.50"]),
            (r#"{"k":true}"#, &["true"]),
            (r#"{"k":[1,"x"]}"#, &[r#"[1,"x"]"#]),
            (r#"{"k":{"a":1}}"#, &[r#"{"a":1}"#]),
            (r#"{"k":null}"#, &["-"]),
            ("{}", &["-"]),
        ];
        for (line, want) in cases {
            assert_eq!(topics("route by k", line), *want, "{line}");
        }
    }

    #[test]
    fn rules_take_the_first_match_and_route_all_every_match_in_rule_order() {
        // The event, then its topics under each of the three stages below.
        type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);
        let first = r#"route e: level == "error", s: ms > 500 else rest"#;
        let all = r#"route all e: level == "error", s: ms > 500 else rest"#;
        let bare = r#"route all e: level == "error", s: ms > 500"#;
        let cases: &[Case] = &[
            (r#"{"level":"error","ms":900}"#, &["e"], &["e", "s"], &["e", "s"]),
            (r#"{"level":"info","ms":900}"#, &["s"], &["s"], &["s"]),
            (r#"{"level":"error","ms":1}"#, &["e"], &["e"], &["e"]),
            (r#"{"level":"info","ms":1}"#, &["rest"], &["rest"], &[UNMATCHED]),
            ("{}", &["rest"], &["rest"], &[UNMATCHED]),
        ];
        for (line, want_first, want_all, want_bare) in cases {
            assert_eq!(topics(first, line), *want_first, "first match: {line}");
            assert_eq!(topics(all, line), *want_all, "all: {line}");
            assert_eq!(topics(bare, line), *want_bare, "all without else: {line}");
        }
    }

    #[test]
    fn only_route_all_fans_out() {
        assert!(route("route all a: true").fans_out());
        assert!(!route("route a: true, b: true").fans_out());
        assert!(!route("route by x").fans_out());
        assert!(!route("route all: true").fans_out(), "a topic named all");
    }

    #[test]
    fn apply_sets_the_first_topic() {
        let r = route(r"route a: x == 1, b: true");
        let mut needs = Needs::default();
        r.needs(&mut needs);
        assert_eq!(needs.keys.iter().map(|k| &**k).collect::<Vec<_>>(), ["x"]);
        let mut ev = Event::parse(r#"{"x":2}"#, Origin::default(), &needs).expect("a valid line");
        assert!(matches!(r.apply(&mut ev, &Env::default()), Flow::Pass));
        assert_eq!(ev.topic.as_deref(), Some("b"));
        assert_eq!(ev.json_string(), r#"{"x":2}"#, "routing does not change the event");
    }
}
