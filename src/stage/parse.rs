//! `parse FORMAT [from EXPR] [else keep|drop|dead]`, FORMAT a name, a /regex/ or `"PATTERN" as NAMES`: turns text into fields
//! (translator). The parsed fields are set on the event; an event that does not
//! parse is a dead letter (reason `parse`) unless `else` says otherwise.

use super::{Describe, Flow, PerEvent, Step};
use crate::event::Rejection;
use crate::event::{Event, Reason};
use crate::lang::ast::{Otherwise, ParseFormat};
use crate::lang::value::kind::{ARRAY, OBJECT};
use crate::lang::{Env, Expr, Val};
use crate::parse::{TextFormat, Want, access, parse_only};
use serde_json::{Map, Value};
use std::borrow::Cow;

#[derive(Debug, Clone)]
pub(crate) struct Parse {
    format: TextFormat,
    from: Option<Expr>,
    otherwise: Otherwise,
    /// The fields later stages can observe; the others are not built.
    want: Want,
    access: access::Mask,
}

impl Parse {
    pub(crate) fn new(format: &ParseFormat, from: Option<Expr>, otherwise: Otherwise) -> Result<Parse, String> {
        let format = match format {
            ParseFormat::Regex(re) => TextFormat::Regex(re.clone()),
            ParseFormat::Wildcard(w) => TextFormat::Wildcard(w.clone()),
            ParseFormat::Named(n) => TextFormat::from_name(n, crate::parse::Year::fixed(1970))
                .ok_or_else(|| format!("unknown format `{n}`"))?,
        };
        Ok(Parse {
            format,
            from,
            otherwise,
            want: Want::All,
            access: access::Mask::new(&Want::All),
        })
    }

    /// Builds only these fields from now on.
    pub(crate) fn set_want(&mut self, want: Want) {
        self.access = access::Mask::new(&want);
        self.want = want;
    }

    #[cfg(test)]
    pub(crate) fn want(&self) -> &Want {
        &self.want
    }

    /// The dead letter of an event `apply` rejected for `reason`.
    pub(crate) fn rejection(&self, reason: Reason) -> Rejection {
        match reason {
            Reason::Parse => Rejection::new(reason, self.error()),
            r => Rejection::new(r, r.explain()),
        }
    }

    /// Why an event did not match, for its record.
    fn error(&self) -> String {
        match &self.format {
            TextFormat::Wildcard(w) => format!("does not match the pattern {:?}", w.pattern()),
            f => format!("does not match the {} format", f.name()),
        }
    }

    pub(crate) fn apply(&self, ev: &mut Event, env: &Env) -> Flow {
        let fields = {
            let text: Cow<str> = match &self.from {
                None => Cow::Borrowed(ev.raw),
                Some(e) => match e.eval(ev, env) {
                    Val::Str(s) => Cow::Owned(s.into_owned()),
                    // An object or array is no text: its JSON would match patterns by accident.
                    Val::Null => return self.unparsed(),
                    v if v.kind() & (OBJECT | ARRAY) != 0 => return self.unparsed(),
                    v => Cow::Owned(v.to_text().into_owned()),
                },
            };
            let parsed = match &self.format {
                // RFC 3164 has no year: it comes from --year or the input's modification time.
                TextFormat::Syslog { .. } => parse_only(
                    &TextFormat::Syslog {
                        year: env.year(ev.origin.file),
                    },
                    &text,
                    &self.want,
                ),
                TextFormat::Combined => access::parse(&text, true, self.access),
                TextFormat::Common => access::parse(&text, false, self.access),
                f => parse_only(f, &text, &self.want),
            };
            // JSON text that would make an event nest deeper than an input line may is a
            // `too_deep` dead letter, as such a line is.
            let too_deep = matches!(self.format, TextFormat::Json)
                && match &parsed {
                    None => crate::json::too_deep(text.as_bytes()).is_some(),
                    Some(f) => f.values().map(crate::json::depth).max().unwrap_or(0) >= crate::json::MAX_DEPTH,
                };
            match parsed {
                Some(f) if !too_deep => f,
                _ if too_deep && matches!(self.otherwise, Otherwise::Dead) => return Flow::Dead(Reason::TooDeep),
                _ => return self.unparsed(),
            }
        };
        if let Some(line) = ev.line_text() {
            // A text line: {"line": …, fields…}, made from the parsed map without hashing it again.
            let mut obj = fields;
            if self.want.has("line") && !obj.contains_key("line") {
                obj.shift_insert(0, "line".into(), Value::String(line.to_string()));
            }
            ev.replace(Value::Object(obj));
            return Flow::Pass;
        }
        let doc = match ev.doc_mut() {
            Ok(doc) => doc,
            Err(r) => return Flow::Dead(r.reason),
        };
        if !doc.is_object() {
            *doc = Value::Object(Map::new());
        }
        let obj = doc.as_object_mut().expect("made an object above");
        for (k, v) in fields {
            obj.insert(k, v);
        }
        Flow::Pass
    }

    fn unparsed(&self) -> Flow {
        match self.otherwise {
            Otherwise::Keep => Flow::Pass,
            Otherwise::Drop => Flow::Filtered,
            Otherwise::Dead => Flow::Dead(Reason::Parse),
        }
    }
}

impl Describe for Parse {
    fn expressions(&self) -> Vec<&Expr> {
        self.from.iter().collect()
    }

    fn name(&self) -> &'static str {
        "parse"
    }

    fn counts(&self) -> Option<&'static str> {
        match self.otherwise {
            Otherwise::Keep => None,
            Otherwise::Drop => Some("no match: filtered"),
            Otherwise::Dead => Some("no match: dead letter (parse)"),
        }
    }
}

impl PerEvent for Parse {
    fn step<'a>(&self, ev: &mut Event<'a>, env: &Env) -> Step<'a> {
        match self.apply(ev, env) {
            Flow::Dead(reason) => Step::Dead(self.rejection(reason)),
            flow => Step::of(flow),
        }
    }
}
