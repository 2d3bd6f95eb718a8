//! `route by EXPR`, `route NAME: EXPR, … [else NAME]` (content-based router) and
//! `route all NAME: EXPR, … [else NAME]` (recipient list): set the event's topic.

use super::Flow;
use crate::event::{Event, Needs};
use crate::lang::ast::RouteSpec;
use crate::lang::{Env, Expr, Val};
use std::sync::Arc;

/// The topic of events no rule matched, when there is no `else`.
pub(super) const UNMATCHED: &str = "_unmatched";

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

    pub(crate) fn needs(&self, n: &mut Needs) {
        match self {
            Route::By(e) => e.visit_paths(&mut |p| n.add_path(p)),
            Route::Rules { rules, .. } => {
                for (_, e) in rules {
                    e.visit_paths(&mut |p| n.add_path(p));
                }
            }
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
