//! `to TEMPLATE` (channel adapter) and `tee TEMPLATE` (wire tap): write each event
//! to the file its template names. Placeholder values are encoded so no value can
//! form a path: nothing is created outside the template's fixed directory prefix.
//!
//! A template is read as `/`-separated names. Names made of literal text only are
//! normalised when the stage is built: empty names (`a//b`) and `.` go, and `..` may only
//! lead the template (`../out/{x}`: the parent of the current directory). The fixed
//! directory is the run of literal names before the first name holding a placeholder
//! (never the last name, which names the file). A rendered name longer than the system's
//! 255-byte limit is cut and given a hash of the whole name, keeping the literal text
//! after its last placeholder (the extension, which picks the compression).

use super::{Describe, Emit, Ordered};
use crate::event::Event;
use crate::lang::ast::{Expr, Template, TemplatePart};
use crate::lang::{Env, LangError, Span, StageAst, StageSpec, Val};
use crate::output::safe_path::{NONE, encode_into};
use std::fmt::Write as _;
use std::path::PathBuf;

/// The longest name of a file or directory, in bytes (`NAME_MAX` on Linux, macOS and the BSDs).
const NAME_MAX: usize = 255;

/// `~` and 16 hex digits of a cut name's xxHash64.
const HASH_LEN: usize = 17;

/// The most literal text after a name's last placeholder: a cut name keeps it whole.
const MAX_SUFFIX: usize = 128;

#[derive(Debug, Clone)]
enum Piece {
    Lit(String),
    Expr(Expr),
}

/// One name between two `/`.
type Name = Vec<Piece>;

#[derive(Debug, Clone)]
pub(crate) struct To {
    /// The names after the fixed directory; each holds a placeholder, or is the file name.
    names: Vec<Name>,
    /// The fixed directory as text: empty, or ending in `/`.
    prefix: String,
    /// `tee`: events go on to the next stage.
    pub tee: bool,
    /// The fixed directory every file is created in (empty: the current directory).
    pub root: PathBuf,
    /// `to "nats://HOST:PORT/SUBJECT"`: the server; the template is then the subject.
    pub nats: Option<String>,
    /// `--msg-id EXPR`: the message id of each published event.
    pub msg_id: Option<Expr>,
    /// The template as written (`-O DIR`: `DIR/{topic()}.ndjson`).
    pub text: String,
    /// The credentials file to publish with.
    pub nats_creds: Option<PathBuf>,
}

/// Why a template can name no file, found when the pipeline is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    message: &'static str,
    hint: &'static str,
}

impl To {
    /// Builds the stage. A template that [`To::check`] would refuse still builds: the files it
    /// renders are refused when opened (an output error), never created outside its directory.
    pub(crate) fn new(template: Template, tee: bool) -> To {
        let (nats, template) = nats_target(template);
        let (plan, _) = plan(&template);
        let root = match plan.prefix.as_str() {
            "/" => PathBuf::from("/"),
            p => PathBuf::from(p.trim_end_matches('/')),
        };
        To {
            names: plan.names,
            root,
            prefix: plan.prefix,
            tee,
            nats,
            msg_id: None,
            text: String::new(),
            nats_creds: None,
        }
    }

    /// The message id of an event published to NATS: `--msg-id EXPR`, or a hash of where it
    /// came from and its text, the same when the same input is run again.
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    pub(crate) fn message_id(&self, ev: &Event, env: &Env, subject: &str, payload: &[u8]) -> String {
        if let Some(e) = &self.msg_id {
            return e.eval(ev, env).to_text().into_owned();
        }
        let mut h = twox_hash::XxHash64::with_seed(0);
        for part in [env.file_name(ev.origin.file).as_bytes(), subject.as_bytes(), payload] {
            std::hash::Hasher::write(&mut h, part);
            std::hash::Hasher::write_u8(&mut h, 0);
        }
        std::hash::Hasher::write_u64(&mut h, ev.origin.line);
        std::hash::Hasher::write_u64(&mut h, ev.origin.offset);
        format!("{:016x}", std::hash::Hasher::finish(&h))
    }

    /// Refuses, before any input is read, a `to`/`tee` template that can name no file.
    pub(crate) fn check(asts: &[StageAst], source: &str) -> Result<(), LangError> {
        for ast in asts {
            let StageSpec::To { template, text, .. } = &ast.spec else {
                continue;
            };
            if let (_, Some(e)) = plan(template) {
                let quote = source
                    .get(ast.span.start..ast.span.end)
                    .and_then(|s| s.find('"'))
                    .map_or(ast.span.start, |i| ast.span.start + i);
                let span = Span::new(quote, ast.span.end.max(quote));
                return Err(LangError::new(format!("file name template \"{text}\": {}", e.message), span).hint(e.hint));
            }
        }
        Ok(())
    }

    /// Appends the path of the file for this event, starting with the fixed directory, to `out`.
    pub(crate) fn render(&self, ev: &Event, env: &Env, out: &mut String) {
        out.push_str(&self.prefix);
        for (i, name) in self.names.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            let start = out.len();
            let mut suffix = start;
            for piece in name {
                match piece {
                    Piece::Lit(l) => out.push_str(l),
                    Piece::Expr(e) => {
                        match e.eval(ev, env) {
                            Val::Null => out.push_str(NONE),
                            v => encode_into(&v.to_text(), out),
                        }
                        suffix = out.len();
                    }
                }
            }
            if out.len() - start > NAME_MAX {
                shorten(out, start, suffix);
            }
        }
    }
}

impl Describe for To {
    fn expressions(&self) -> Vec<&Expr> {
        let pieces = self.names.iter().flatten().filter_map(|p| match p {
            Piece::Expr(e) => Some(e),
            Piece::Lit(_) => None,
        });
        let msg_id = self.msg_id.as_ref().filter(|_| self.nats.is_some());
        pieces.chain(msg_id).collect()
    }

    fn name(&self) -> &'static str {
        if self.tee { "tee" } else { "to" }
    }

    fn writes(&self) -> Option<String> {
        let then = if self.tee { ", and passes it on" } else { "" };
        Some(format!("writes each event to \"{}\"{then}", self.text))
    }
}

impl Ordered for To {
    /// Writes the event to its file; `tee` passes it on, `to` ends its way: its line is
    /// emitted once the file keeps it, which the output decides.
    fn push(&mut self, ev: Event, out: &mut Emit) {
        out.deliver(self, &ev);
        if self.tee {
            out.push(ev);
        }
    }

    fn holds_events(&self) -> bool {
        false
    }

    fn files_root(&self) -> Option<&std::path::Path> {
        self.nats.is_none().then_some(self.root.as_path())
    }
}

/// A template that starts with `nats://HOST:PORT/` publishes: the server, and the rest as
/// the subject's template.
fn nats_target(mut template: Template) -> (Option<String>, Template) {
    let Some(TemplatePart::Lit(first)) = template.parts.first_mut() else {
        return (None, template);
    };
    let Some(rest) = first.strip_prefix("nats://") else {
        return (None, template);
    };
    let Some((server, subject)) = rest.split_once('/') else {
        return (None, template);
    };
    let server = server.to_string();
    *first = subject.to_string();
    (Some(server), template)
}

/// Cuts the name that starts at `start` in `out` to [`NAME_MAX`] bytes: its rendered part (up to
/// `suffix`) is cut on a character and escape boundary and followed by `~` and the hash of the
/// whole name, then the literal text after its last placeholder. Distinct names stay distinct (up
/// to a 64-bit hash collision) and the same name is always cut the same way.
fn shorten(out: &mut String, start: usize, suffix: usize) {
    let hash = twox_hash::XxHash64::oneshot(0, &out.as_bytes()[start..]);
    let tail = out.split_off(suffix);
    let mut cut = (start + NAME_MAX).saturating_sub(HASH_LEN + tail.len()).max(start);
    while !out.is_char_boundary(cut) || out.as_bytes()[cut.saturating_sub(2)..cut].contains(&b'%') {
        cut -= 1;
    }
    out.truncate(cut);
    let _ = write!(out, "~{hash:016x}");
    out.push_str(&tail);
}

/// A template cut into its fixed directory and the names after it.
struct Plan {
    prefix: String,
    names: Vec<Name>,
}

/// The template's names, normalised, and the first reason it can name no file. The plan is
/// total: a bad template still renders (to a path the file opener refuses).
fn plan(template: &Template) -> (Plan, Option<TemplateError>) {
    let (absolute, names) = split(template);
    let mut problem = None;
    let mut kept: Vec<Name> = Vec::new();
    let last = names.len().saturating_sub(1);
    for (i, name) in names.into_iter().enumerate() {
        let found = name_problem(&name, i == last, &kept);
        let drop = found.is_none() && i < last && matches!(literal(&name).as_deref(), Some("" | "."));
        problem = problem.or(found);
        if !drop {
            kept.push(name);
        }
    }
    if template.parts.is_empty() {
        problem = Some(TemplateError {
            message: "it is empty",
            hint: "name a file, e.g. \"out/{topic()}.ndjson\"",
        });
    }
    let fixed = kept
        .iter()
        .take(kept.len().saturating_sub(1))
        .take_while(|n| literal(n).is_some())
        .count();
    let mut prefix = String::from(if absolute { "/" } else { "" });
    for name in kept.drain(..fixed) {
        prefix.push_str(&literal(&name).unwrap_or_default());
        prefix.push('/');
    }
    (Plan { prefix, names: kept }, problem)
}

/// Why `name` (the last of the template if `last`, after the names `before`) can be in no path.
fn name_problem(name: &Name, last: bool, before: &[Name]) -> Option<TemplateError> {
    match literal(name).as_deref() {
        Some("" | ".") if last => Some(TemplateError {
            message: "it ends in a directory, not a file name",
            hint: "add a file name after the last `/`, e.g. \"out/{topic()}.ndjson\"",
        }),
        Some("..") if last || before.iter().any(|n| literal(n).as_deref() != Some("..")) => Some(TemplateError {
            message: "`..` after a directory name",
            hint: "write the directory without `..`; only a leading `../` (the parent directory) is allowed",
        }),
        Some(l) if l.len() > NAME_MAX => Some(TemplateError {
            message: "a name between two `/` is longer than 255 bytes",
            hint: "shorten the text between two `/`",
        }),
        Some(_) => None,
        None => {
            let tail = name.iter().rev().map_while(|p| match p {
                Piece::Lit(l) => Some(l.len()),
                Piece::Expr(_) => None,
            });
            (tail.sum::<usize>() > MAX_SUFFIX).then_some(TemplateError {
                message: "the text after the last placeholder of a name is longer than 128 bytes",
                hint: "shorten the text after the last `}`",
            })
        }
    }
}

/// The text of a name without placeholders.
fn literal(name: &Name) -> Option<String> {
    name.iter()
        .map(|p| match p {
            Piece::Lit(l) => Some(l.as_str()),
            Piece::Expr(_) => None,
        })
        .collect()
}

/// Splits the template at every `/` of its literal text; true when it starts with `/`.
fn split(template: &Template) -> (bool, Vec<Name>) {
    let mut names: Vec<Name> = vec![Vec::new()];
    for part in &template.parts {
        match part {
            TemplatePart::Expr(e) => names
                .last_mut()
                .into_iter()
                .for_each(|n| n.push(Piece::Expr(e.clone()))),
            TemplatePart::Lit(l) => {
                for (i, text) in l.split('/').enumerate() {
                    if i > 0 {
                        names.push(Vec::new());
                    }
                    if let (false, Some(n)) = (text.is_empty(), names.last_mut()) {
                        n.push(Piece::Lit(text.to_string()));
                    }
                }
            }
        }
    }
    let absolute = matches!(template.parts.first(), Some(TemplatePart::Lit(l)) if l.starts_with('/'));
    if absolute {
        names.remove(0);
    }
    (absolute, names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Needs;
    use crate::event::Origin;
    use crate::lang::parse_template;

    fn to(text: &str) -> To {
        To::new(parse_template(text).unwrap(), false)
    }

    fn render(t: &To, json: &str) -> String {
        let needs = Needs::whole_event();
        let ev = Event::parse(json, Origin::default(), &needs).unwrap();
        let mut out = String::new();
        t.render(&ev, &Env::default(), &mut out);
        out
    }

    fn problem(text: &str) -> Option<&'static str> {
        plan(&parse_template(text).unwrap()).1.map(|e| e.message)
    }

    #[test]
    fn the_fixed_directory_is_normalised() {
        for (text, root, path) in [
            ("out/./{x}.ndjson", "out", "out/a.ndjson"),
            ("./out//sub/{x}", "out/sub", "out/sub/a"),
            ("{x}.ndjson", "", "a.ndjson"),
            ("out/all.ndjson", "out", "out/all.ndjson"),
            ("../up/{x}", "../up", "../up/a"),
            ("/{x}", "/", "/a"),
            ("/var//log/./{x}/y", "/var/log", "/var/log/a/y"),
            ("out/day-{x}/f.ndjson", "out", "out/day-a/f.ndjson"),
            ("out/{x}/./f", "out", "out/a/f"),
        ] {
            let t = to(text);
            assert_eq!(
                (t.root.to_str().unwrap(), render(&t, r#"{"x":"a"}"#).as_str()),
                (root, path),
                "{text}"
            );
            assert_eq!(problem(text), None, "{text}");
        }
    }

    #[test]
    fn templates_that_name_no_file_are_refused_when_built() {
        for text in [
            "",
            "out/",
            "out/{x}/",
            "out/{x}/.",
            "out/../x/{y}",
            "{x}/..",
            "out/{x}/../y",
            "/",
        ] {
            assert!(problem(text).is_some(), "{text:?}");
        }
        assert!(problem(&format!("out/{}/{{x}}", "n".repeat(256))).is_some());
        assert!(problem(&format!("out/{{x}}{}", "n".repeat(129))).is_some());
        assert_eq!(problem(&format!("out/{}/{{x}}", "n".repeat(255))), None);
    }

    #[test]
    fn a_long_name_is_cut_whole_with_a_hash_and_keeps_its_extension() {
        let t = to("out/{x}-{y}.ndjson.gz");
        let (a, b) = ("a".repeat(190), "b".repeat(190));
        let path = render(&t, &format!(r#"{{"x":"{a}","y":"{b}"}}"#));
        let name = path.strip_prefix("out/").unwrap();
        assert_eq!(name.len(), NAME_MAX);
        assert!(name.ends_with(".ndjson.gz") && name.starts_with(&a), "{name}");
        // Differing only where the cut drops: still different names; the same value: the same name.
        let other = render(&t, &format!(r#"{{"x":"{a}","y":"{b}c"}}"#));
        assert_ne!(path, other);
        assert_eq!(path, render(&t, &format!(r#"{{"x":"{a}","y":"{b}"}}"#)));
        // Short names are left alone.
        assert_eq!(render(&t, r#"{"x":"a","y":"b"}"#), "out/a-b.ndjson.gz");
    }

    #[test]
    fn a_cut_never_splits_a_character_or_an_escape() {
        let t = to("{x}{y}");
        for (x, y) in [("東".repeat(60), "é".repeat(100)), ("/".repeat(60), "~".repeat(60))] {
            let path = render(&t, &format!(r#"{{"x":"{x}","y":"{y}"}}"#));
            assert!(path.len() <= NAME_MAX, "{} bytes", path.len());
            let (head, _) = path.rsplit_once('~').unwrap();
            assert!(!head.as_bytes()[head.len() - 2..].contains(&b'%'), "{head}");
        }
    }

    #[test]
    fn no_value_makes_a_hidden_file() {
        let t = to("out/{x}/{y}.ndjson");
        assert_eq!(render(&t, r#"{"x":".git","y":".."}"#), "out/%2Egit/%2E%2E.ndjson");
    }
}
