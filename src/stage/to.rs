//! `to TEMPLATE` (channel adapter) and `tee TEMPLATE` (wire tap): write each event
//! to the file its template names. Placeholder values are encoded so no value can
//! form a path: nothing is created outside the template's fixed directory prefix.

use crate::event::{Event, Needs};
use crate::lang::ast::{Template, TemplatePart};
use crate::lang::{Env, Val};
use crate::output::safe_path::{NONE, encode_into, fixed_prefix};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct To {
    template: Template,
    /// The template as written, for messages.
    pub text: String,
    /// `tee`: events go on to the next stage.
    pub tee: bool,
    /// The fixed directory every file is created in.
    pub root: PathBuf,
    /// Bytes of the first literal part that belong to `root`.
    skip: usize,
}

impl To {
    pub fn new(template: Template, text: String, tee: bool) -> To {
        let first = match template.parts.first() {
            Some(TemplatePart::Lit(l)) => l.as_str(),
            _ => "",
        };
        let prefix = fixed_prefix(first);
        let root = if prefix.is_empty() {
            PathBuf::from(".")
        } else {
            PathBuf::from(prefix)
        };
        To {
            skip: prefix.len(),
            template,
            text,
            tee,
            root,
        }
    }

    pub fn needs(&self, n: &mut Needs) {
        for p in &self.template.parts {
            if let TemplatePart::Expr(e) = p {
                e.visit_paths(&mut |p| n.add_path(p));
            }
        }
    }

    /// Appends the file for this event, relative to `root`, to `out`.
    pub fn render(&self, ev: &Event, env: &Env, out: &mut String) {
        for (i, p) in self.template.parts.iter().enumerate() {
            match p {
                TemplatePart::Lit(l) if i == 0 => out.push_str(&l[self.skip..]),
                TemplatePart::Lit(l) => out.push_str(l),
                TemplatePart::Expr(e) => match e.eval(ev, env) {
                    Val::Null => out.push_str(NONE),
                    v => encode_into(&v.to_text(), out),
                },
            }
        }
    }
}
