//! One event: its original line, metadata, and a document parsed only as far as the
//! pipeline needs (the top-level fields it reads), or fully once a stage modifies it.

use crate::json::{self, JsonError, JsonErrorKind, MAX_DEPTH, Out};
use crate::lang::Env;
use crate::lang::ast::{Path, Seg};
use crate::lang::func::time_of;
pub(crate) use crate::lang::tree::{navigate, resolve_index};
use crate::lang::value::{Val, float_value};
use crate::messages;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::Arc;

mod buf;
pub(crate) use buf::{Buffered, EventBuf};

/// Where an event came from, and how it stands to that line's fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Origin {
    /// Index into the run's list of inputs.
    pub file: u32,
    /// 1-based line number within that input.
    pub line: u64,
    /// Byte offset of the line in the decompressed input.
    pub offset: u64,
    pub lineage: Lineage,
    /// Which copy of its line's event this is: 0 for the line's own, another number for each
    /// copy `explode` or `route all` made (see [`Origin::copied`]; it wraps, so two copies of
    /// very many may share one). `sample` reads it to pick each copy on its own.
    pub copy: u16,
}

/// How an event stands to the input line it came from: only the line's own event decides
/// the line's fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) enum Lineage {
    /// The line's own event.
    Line,
    /// An extra copy of it (`route all`, `explode`): its outcome is counted as a copy.
    Copy,
    /// Made by a stage (an aggregate's row, a fold's state), from no one line.
    #[default]
    Derived,
}

impl Origin {
    /// The origin of line `line` of input `file`, `offset` bytes into it.
    pub(crate) fn line(file: u32, line: u64, offset: u64) -> Origin {
        Origin {
            file,
            line,
            offset,
            lineage: Lineage::Line,
            copy: 0,
        }
    }

    pub(crate) fn is_derived(&self) -> bool {
        self.lineage == Lineage::Derived
    }

    pub(crate) fn is_copy(&self) -> bool {
        self.lineage == Lineage::Copy
    }

    /// Whether the event's outcome is its line's fate.
    pub(crate) fn owns_fate(&self) -> bool {
        self.lineage == Lineage::Line
    }

    /// The origin of copy `k` (from 1) of the event: a line's event becomes a copy, numbered
    /// after the copy it was made from; an event a stage made stays one.
    pub(crate) fn copied(self, k: usize) -> Origin {
        let copy = self.copy.wrapping_mul(257).wrapping_add(k as u16);
        match self.lineage {
            Lineage::Line | Lineage::Copy => Origin {
                lineage: Lineage::Copy,
                copy,
                ..self
            },
            Lineage::Derived => self,
        }
    }
}

/// An event a stage holds past the event's own turn (`tail`, `sort`, `reorder`): its JSON
/// text with where it came from. The ordered stages hand it on.
#[derive(Debug, Clone)]
pub(crate) struct OwnedEvent {
    pub text: Box<str>,
    pub origin: Origin,
    pub topic: Option<Arc<str>>,
}

impl OwnedEvent {
    /// The held event as an [`Event`] again, capturing only the fields `needs` names (none
    /// for stages that read no field). Its text passed the decode-time check or was written
    /// from an event that did, so only a stage's row nested past the limit fails here.
    pub(crate) fn view(&self, needs: &Needs) -> Result<Event<'_>, Rejection> {
        let mut ev = Event::reread(&self.text, self.origin, needs)?;
        ev.topic.clone_from(&self.topic);
        Ok(ev)
    }
}

/// What became of an input line: exactly one per line, recorded where it is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Written to stdout or a topic file.
    Emitted,
    /// Dropped by a filter (`where`).
    Filtered,
    /// Empty, or only whitespace.
    Blank,
    /// Dropped by a limit (`head`, `tail`).
    Skipped,
    /// Consumed by an aggregate.
    Aggregated,
    /// `explode` met an empty array, or no array.
    ExplodedEmpty,
    /// Left out by `sample`.
    SampledOut,
    /// Failed an `assert`, which ended the run.
    Failed,
    /// A repeat dropped by `dedupe`.
    Duplicate,
    /// Over `throttle`'s limit for its window.
    Throttled,
    /// Its event time is outside `--since`/`--until`.
    OutOfRange,
    /// Rejected: a dead letter.
    Dead(Reason),
}

/// Why a line could not become an event. `ALL` lists them in declaration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Reason {
    InvalidJson,
    InvalidUtf8,
    TooLong,
    /// Nested deeper than `json::MAX_DEPTH`, as read or as a stage would make it.
    TooDeep,
    /// A windowed aggregate found no parsable event time.
    NoTime,
    /// Older than a window already emitted (`--lateness`).
    Late,
    /// `parse` could not parse the event.
    Parse,
    /// A string escape is a lone UTF-16 surrogate (`"\ud800"`): no string can hold it.
    InvalidUnicode,
    /// A stage that sets fields met an event that is not an object.
    NotObject,
    /// A stage would write an array index the event cannot hold.
    InvalidPath,
    /// `validate`: the event does not match the JSON Schema.
    Schema,
    /// A read error (a damaged or cut-off archive) ended the input inside the line.
    Truncated,
}

impl Reason {
    pub(crate) const ALL: [Reason; 12] = [
        Reason::InvalidJson,
        Reason::InvalidUtf8,
        Reason::TooLong,
        Reason::TooDeep,
        Reason::NoTime,
        Reason::Late,
        Reason::Parse,
        Reason::InvalidUnicode,
        Reason::NotObject,
        Reason::InvalidPath,
        Reason::Schema,
        Reason::Truncated,
    ];

    /// The reason's place in `ALL`, for counters indexed by reason.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Reason::InvalidJson => "invalid_json",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::TooLong => "too_long",
            Reason::TooDeep => "too_deep",
            Reason::NoTime => "no_time",
            Reason::Late => "late",
            Reason::Parse => "parse",
            Reason::InvalidUnicode => "invalid_unicode",
            Reason::NotObject => "not_object",
            Reason::InvalidPath => "invalid_path",
            Reason::Schema => "schema",
            Reason::Truncated => "truncated",
        }
    }

    /// What a stage's rejection means, for its dead-letter record.
    pub(crate) fn explain(self) -> &'static str {
        match self {
            Reason::TooDeep => "the event would nest deeper than 128 levels",
            Reason::NotObject => "the event is not an object, so it has no fields to set",
            Reason::InvalidPath => {
                "an array index before the start, more than 1000 past the end, or into a non-array; or a key into an array"
            }
            Reason::NoTime => "no parsable event time",
            Reason::Late => "older than what was already output",
            Reason::TooLong => "the event would be longer than --max-line-bytes",
            r => r.name(),
        }
    }
}

/// A rejected line's reason and the parser's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub reason: Reason,
    pub error: String,
}

/// A rejection that says why in the reason's own words.
impl From<Reason> for Rejection {
    fn from(reason: Reason) -> Rejection {
        Rejection::new(reason, reason.explain())
    }
}

impl Rejection {
    pub(crate) fn new(reason: Reason, error: impl Into<String>) -> Rejection {
        Rejection {
            reason,
            error: error.into(),
        }
    }

    /// A `--multiline-start` record of `len` bytes over `lines` lines, longer than
    /// `--max-line-bytes max`.
    pub(crate) fn record_too_long(len: u64, lines: u32, max: usize) -> Rejection {
        Rejection::new(
            Reason::TooLong,
            format!(
                "record is {len} bytes in {}, longer than --max-line-bytes {max}",
                crate::messages::counted(lines, "line", "lines")
            ),
        )
    }

    /// A line (or decoded record) of `len` bytes, longer than `--max-line-bytes max`.
    pub(crate) fn too_long(len: u64, max: usize) -> Rejection {
        Rejection::new(
            Reason::TooLong,
            format!("line is {len} bytes, longer than --max-line-bytes {max}"),
        )
    }
}

impl From<JsonError> for Rejection {
    fn from(e: JsonError) -> Rejection {
        let reason = match e.kind {
            JsonErrorKind::Invalid => Reason::InvalidJson,
            JsonErrorKind::TooDeep => Reason::TooDeep,
            JsonErrorKind::InvalidUnicode => Reason::InvalidUnicode,
        };
        Rejection::new(reason, e.message)
    }
}

/// Where one top-level field lies in an event's text: its key (without quotes) and its
/// value, as byte ranges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FieldAt {
    key: (u32, u32),
    value: (u32, u32),
}

/// Which parts of each event the pipeline reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct Needs {
    /// Top-level keys read by some path.
    pub keys: Vec<Box<str>>,
    /// Some expression reads the whole event (`.`).
    pub whole: bool,
    /// A stage reads every top-level field's text (`explode` writes its copies from them).
    pub members: bool,
    /// A stage reads the structure of the whole event's text (`fold` takes its patch from
    /// it): the decode-time check writes it down as it goes.
    pub tape: bool,
    /// Every path read from the event as the stage sees it, once each: what the
    /// end-of-run warning about fields never seen checks.
    pub reads: Vec<Path>,
    /// A stage reads event time from the first of the default time fields the event has.
    pub time: bool,
    /// A stage reads event time, from `--time-field` or the default fields.
    pub event_time: bool,
    /// Where each of `keys` and `reads` is, by hash: a pipeline may read thousands of fields.
    key_index: Index,
    read_index: Index,
}

/// Positions in a list, found by the hash of the item there.
type Index = hashbrown::HashTable<usize>;

/// Hashes what [`Needs`] lists: the same in every run, as the lists come from the pipeline.
const NEEDS_HASHER: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0);

/// Appends `item` to `list` unless it is there, `index` finding it.
fn push_new<T: std::hash::Hash + PartialEq + ?Sized, O: std::borrow::Borrow<T>>(
    list: &mut Vec<O>,
    index: &mut Index,
    item: &T,
    owned: impl FnOnce() -> O,
) {
    use std::hash::BuildHasher;
    let hash = NEEDS_HASHER.hash_one(item);
    if index.find(hash, |&i| list[i].borrow() == item).is_some() {
        return;
    }
    index.insert_unique(hash, list.len(), |&i| NEEDS_HASHER.hash_one(list[i].borrow()));
    list.push(owned());
}

impl Needs {
    /// What reads nothing.
    pub(crate) const fn nothing_read() -> Needs {
        Needs {
            keys: Vec::new(),
            whole: false,
            members: false,
            tape: false,
            reads: Vec::new(),
            time: false,
            event_time: false,
            key_index: Index::new(),
            read_index: Index::new(),
        }
    }

    /// What reads the whole event.
    #[cfg(test)]
    pub(crate) fn whole_event() -> Needs {
        Needs {
            whole: true,
            ..Needs::default()
        }
    }

    /// True when no stage reads a field: an event's text need not be parsed at all.
    pub(crate) fn nothing(&self) -> bool {
        self.keys.is_empty() && !self.whole
    }

    /// Needs every path `e` reads.
    pub(crate) fn add_expr(&mut self, e: &crate::lang::Expr) {
        e.visit_paths(&mut |p| self.add_path(p));
    }

    pub(crate) fn add_path(&mut self, p: &Path) {
        push_new(&mut self.reads, &mut self.read_index, p, || p.clone());
        self.add_quiet(p);
    }

    /// Needs `p` without counting it as read: a field the stage writes (captured so it
    /// can splice the text), or one of several it tries (the default time fields).
    pub(crate) fn add_quiet(&mut self, p: &Path) {
        match p.first_key() {
            Some(k) => self.add_key(k),
            None => self.whole = true,
        }
        // A dotted path may read its literal key (`"id.orig_h"`) instead.
        if let Some(Seg::Key(k)) = p.flat.as_ref().and_then(|f| f.first()) {
            self.add_key(k);
        }
    }

    pub(crate) fn add_key(&mut self, k: &str) {
        push_new(&mut self.keys, &mut self.key_index, k, || k.into());
    }
}

/// The event's text, when it is not held as a tree.
#[derive(Clone)]
enum Doc<'a> {
    /// The line as read, with the top-level fields the pipeline reads as raw JSON;
    /// `object` is false for a line that is a JSON value other than an object; `tape` is the
    /// line's structure when a stage reads it (see `Needs::tape`) and the check found it.
    Fields {
        fields: Vec<json::Field<'a>>,
        object: bool,
        /// Boxed: an event is moved through every stage, and its size is stack in each.
        tape: Option<Box<json::Tape>>,
    },
    /// Modified, and kept as canonical JSON text (as `json::write_value` writes it):
    /// stages that splice text (`set` of top-level fields, `keep`) avoid building a tree.
    Text(String),
    /// A text line read with `-i lines`: the event `{"line": raw}`, built only when written.
    Line,
}

#[derive(Clone)]
pub(crate) struct Event<'a> {
    pub raw: &'a str,
    pub origin: Origin,
    pub topic: Option<Arc<str>>,
    doc: Doc<'a>,
    /// The whole document, once parsed; it then stands for the event, not `doc`.
    tree: Option<Value>,
    modified: bool,
    /// `doc`'s fields are every top-level field (see `Needs::members`).
    members: bool,
}

impl<'a> Event<'a> {
    /// Parses a line, validating all of it but indexing only what `needs` names. What
    /// it accepts always parses in full later, so no later read or change can fail.
    pub(crate) fn parse(raw: &'a str, origin: Origin, needs: &Needs) -> Result<Event<'a>, Rejection> {
        let mut ev = Event::validated(raw, origin);
        if needs.whole {
            ev.tree = Some(json::tree(raw)?);
        } else {
            let (c, tape) = if needs.tape {
                json::capture_with_tape(raw, &needs.keys, needs.members)?
            } else {
                (json::capture(raw, &needs.keys, needs.members)?, None)
            };
            ev.doc = Doc::Fields {
                fields: c.fields,
                object: c.object,
                tape: tape.map(Box::new),
            };
            ev.members = needs.members;
        }
        Ok(ev)
    }

    /// An event from JSON text checked once already (a held or handed-on event), captured
    /// as far as `needs` names: not parsed at all when no stage reads a field.
    pub(crate) fn reread(text: &'a str, origin: Origin, needs: &Needs) -> Result<Event<'a>, Rejection> {
        if needs.nothing() {
            Ok(Event::validated(text, origin))
        } else {
            Event::parse(text, origin, needs)
        }
    }

    /// An event from JSON text already validated by an earlier stage, for stages that
    /// read no field (`head`, `tail`, `to` with a field-free template): not parsed again.
    pub(crate) fn validated(raw: &'a str, origin: Origin) -> Event<'a> {
        Event {
            raw,
            origin,
            topic: None,
            doc: Doc::Fields {
                fields: Vec::new(),
                object: raw.trim_start().starts_with('{'),
                tape: None,
            },
            tree: None,
            modified: false,
            members: false,
        }
    }

    /// An event a stage made (an aggregate's row): `raw` is the tree's JSON text.
    pub(crate) fn derived(raw: &'a str, tree: Value) -> Event<'a> {
        Event {
            tree: Some(tree),
            ..Event::validated(raw, Origin::default())
        }
    }

    /// The event's text with each top-level key of `paths` set to its value in `values`,
    /// replaced in place or appended, in canonical form (`json::canonical`); `None` when a
    /// path is not one key, or the event is held as a tree or repeats a key (the tree keeps
    /// the last value only). The paths are distinct: `set` and `step` refuse a field written
    /// twice.
    pub(crate) fn spliced(&self, paths: &[&Path], values: &[Val]) -> Option<String> {
        let text = self.text()?;
        let close = text.rfind('}')?;
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        let mut appended = String::new();
        for (path, v) in paths.iter().zip(values) {
            let [Seg::Key(k)] = path.segs.as_slice() else {
                return None;
            };
            let mut json = String::new();
            write_val(&mut json, v);
            match self.raw_at(path) {
                Some(old) => {
                    let start = old.as_ptr() as usize - text.as_ptr() as usize;
                    edits.push((start, start + old.len(), json));
                }
                None => {
                    appended.push(',');
                    json::write_str(&mut appended, k);
                    appended.push(':');
                    appended.push_str(&json);
                }
            }
        }
        let mut spliced = String::with_capacity(text.len() + appended.len() + 16);
        spliced.push_str(&text[..close]);
        if !appended.is_empty() {
            let empty = text[..close].trim_end().ends_with('{');
            spliced.push_str(if empty { &appended[1..] } else { &appended });
        }
        spliced.push_str(&text[close..]);
        edits.sort_by_key(|e| std::cmp::Reverse(e.0));
        for (start, end, json) in edits {
            spliced.replace_range(start..end, &json);
        }
        let mut out = String::with_capacity(spliced.len());
        json::canonical(&spliced, &mut out).ok()?;
        Some(out)
    }

    /// True when the event has the field at `path` (any value, `null` too), up to its
    /// first index; never parses a value. For the fields-never-seen warning.
    pub(crate) fn has(&self, path: &Path) -> bool {
        let keys = |segs: &[Seg]| segs.iter().take_while(|s| matches!(s, Seg::Key(_))).count();
        let present = |segs: &[Seg]| {
            let segs = &segs[..keys(segs)];
            match (&self.tree, &self.doc) {
                (Some(v), _) => navigate(v, segs).is_some(),
                (None, Doc::Line) => match segs {
                    [] => true,
                    [Seg::Key(k)] => &**k == "line",
                    _ => false,
                },
                (None, _) => segs.is_empty() || self.raw_segs(segs).is_some(),
            }
        };
        present(&path.segs) || path.flat.as_deref().is_some_and(present)
    }

    /// Every top-level field with its value's JSON text, in order, repeated keys too, when
    /// the event is an object read as is with `Needs::members`.
    pub(crate) fn members(&self) -> Option<&[json::Field<'a>]> {
        match (&self.tree, &self.doc) {
            (
                None,
                Doc::Fields {
                    fields, object: true, ..
                },
            ) if self.members => Some(fields),
            _ => None,
        }
    }

    /// The event's text and its structure, when the text is the line as read and the
    /// decode-time check read its structure (`Needs::tape`).
    pub(crate) fn tape(&self) -> Option<(&'a str, &json::Tape)> {
        match (&self.tree, &self.doc) {
            (None, Doc::Fields { tape: Some(t), .. }) => Some((self.raw, &**t)),
            _ => None,
        }
    }

    /// True when the event is a JSON object (a text line's event is one).
    pub(crate) fn is_object(&self) -> bool {
        match (&self.tree, &self.doc) {
            (Some(v), _) => v.is_object(),
            (None, Doc::Fields { object, .. }) => *object,
            (None, Doc::Text(t)) => t.starts_with('{'),
            (None, Doc::Line) => true,
        }
    }

    /// The value at `path`, `None` when a key or index is missing. A dotted path whose
    /// nested form is missing reads its literal key (`id.orig_h`), if the event has one.
    pub(crate) fn lookup(&self, path: &Path) -> Option<Val<'_>> {
        self.find(path).map(|(_, v)| v)
    }

    /// The value at `path` with the segments that reached it: the path's own, or its
    /// literal-key form when only that is in the event.
    pub(crate) fn find<'p>(&self, path: &'p Path) -> Option<(&'p [Seg], Val<'_>)> {
        if let Some(v) = self.lookup_segs(&path.segs) {
            return Some((&path.segs, v));
        }
        let flat = path.flat.as_deref()?;
        self.lookup_segs(flat).map(|v| (flat, v))
    }

    fn lookup_segs(&self, segs: &[Seg]) -> Option<Val<'_>> {
        if let Some(v) = &self.tree {
            return navigate(v, segs).map(Val::from_value);
        }
        match &self.doc {
            Doc::Text(t) => lookup_text(t, segs),
            Doc::Line => match segs {
                [Seg::Key(k)] if &**k == "line" => Some(Val::str(self.raw)),
                [] => Some(Val::Json(Cow::Owned(self.line_value()))),
                _ => None,
            },
            Doc::Fields { fields, object, .. } => {
                let Some(Seg::Key(k)) = segs.first() else {
                    return lookup_text(self.raw, segs);
                };
                if !object {
                    return None;
                }
                lookup_text(captured(fields, k)?, &segs[1..])
            }
        }
    }

    /// Whether the event's text with `added` values written into it stays within `limit`
    /// bytes (about: replaced fields are counted twice, escapes not at all).
    pub(crate) fn fits_with(&self, added: &[Val], limit: usize) -> bool {
        let mut left = limit;
        for v in added {
            match v.text_len_within(left) {
                Some(n) => left -= n,
                None => return false,
            }
        }
        match (&self.tree, self.text()) {
            (Some(tree), _) => json::text_len_within(tree, left).is_some(),
            (None, Some(text)) => text.len() <= left,
            (None, None) => self.raw.len() + 12 <= left,
        }
    }

    /// The kind of the value at `path` (see [`Val::kind`]): read from the first byte of its
    /// text where the event is held as text, so that a long array is not parsed to tell.
    pub(crate) fn kind_at(&self, path: &Path) -> Option<u8> {
        use crate::lang::value::kind;
        match self.raw_at(path).and_then(|raw| raw.bytes().next()) {
            Some(b'n') => Some(kind::NULL),
            Some(b't' | b'f') => Some(kind::BOOLEAN),
            Some(b'"') => Some(kind::STRING),
            Some(b'[') => Some(kind::ARRAY),
            Some(b'{') => Some(kind::OBJECT),
            Some(_) => Some(kind::NUMBER),
            None => self.lookup(path).map(|v| v.kind()),
        }
    }

    /// The JSON text of the value at a path of keys only, without parsing it;
    /// `None` when missing or when the event is held as a tree.
    pub(crate) fn raw_at(&self, path: &Path) -> Option<&str> {
        self.raw_find(path).map(|(_, raw)| raw)
    }

    /// `raw_at` with the segments that reached the value (see `find`).
    pub(crate) fn raw_find<'p>(&self, path: &'p Path) -> Option<(&'p [Seg], &str)> {
        if let Some(raw) = self.raw_segs(&path.segs) {
            return Some((&path.segs, raw));
        }
        let flat = path.flat.as_deref()?;
        self.raw_segs(flat).map(|raw| (flat, raw))
    }

    fn raw_segs(&self, segs: &[Seg]) -> Option<&str> {
        let (first, rest) = segs.split_first()?;
        let Seg::Key(k) = first else { return None };
        let start = match (&self.tree, &self.doc) {
            (Some(_), _) | (None, Doc::Line) => return None,
            (None, Doc::Text(t)) => json::raw_field(t, k)?,
            (
                None,
                Doc::Fields {
                    fields, object: true, ..
                },
            ) => captured(fields, k)?,
            (None, Doc::Fields { .. }) => return None,
        };
        match walk_text(start, rest)? {
            (raw, []) => Some(raw),
            _ => None,
        }
    }

    /// The event's current JSON text, unless it is held as a tree.
    pub(crate) fn text(&self) -> Option<&str> {
        match (&self.tree, &self.doc) {
            (None, Doc::Fields { .. }) => Some(self.raw),
            (None, Doc::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// Replaces the event with new canonical JSON text (see `json::canonical`).
    pub(crate) fn set_text(&mut self, t: String) {
        self.doc = Doc::Text(t);
        self.tree = None;
        self.modified = true;
    }

    /// The whole document, parsed in full; marks the event modified.
    pub(crate) fn doc_mut(&mut self) -> Result<&mut Value, Rejection> {
        let tree = match self.tree.take() {
            Some(v) => v,
            None => self.to_value()?,
        };
        self.modified = true;
        Ok(self.tree.insert(tree))
    }

    /// The whole document when it is already held as a tree.
    pub(crate) fn tree(&self) -> Option<&Value> {
        self.tree.as_ref()
    }

    /// Replaces the whole document.
    pub(crate) fn replace(&mut self, v: Value) {
        self.tree = Some(v);
        self.modified = true;
    }

    /// Writes the event as one JSON line without the newline: its original bytes
    /// when unmodified.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        self.write_to(out);
    }

    /// The event as a stage holds it.
    pub(crate) fn to_owned(&self) -> OwnedEvent {
        OwnedEvent {
            text: self.json_string().into_boxed_str(),
            origin: self.origin,
            topic: self.topic.clone(),
        }
    }

    /// The event's JSON text, as `write_json` writes it.
    pub(crate) fn json_string(&self) -> String {
        let mut s = String::new();
        self.write_to(&mut s);
        s
    }

    fn write_to<O: Out>(&self, out: &mut O) {
        match (&self.tree, &self.doc) {
            (Some(v), _) if self.modified => json::write_value(out, v),
            (None, Doc::Text(t)) => out.put(t),
            (None, Doc::Line) => {
                out.put("{\"line\":");
                json::write_str(out, self.raw);
                out.put("}");
            }
            _ => out.put(self.raw),
        }
    }

    /// The whole document as a value (parsed on demand). The text of every event was
    /// validated with the same parser, so the error is only for the type system.
    pub(crate) fn to_value(&self) -> Result<Value, Rejection> {
        match (&self.tree, &self.doc) {
            (Some(v), _) => Ok(v.clone()),
            (None, Doc::Text(t)) => Ok(json::tree(t)?),
            (None, Doc::Fields { .. }) => Ok(json::tree(self.raw)?),
            (None, Doc::Line) => Ok(self.line_value()),
        }
    }

    /// The whole document, borrowed when it is already parsed (an aggregate's row, a changed
    /// event), else parsed from the text.
    pub(crate) fn value(&self) -> Result<std::borrow::Cow<'_, Value>, Rejection> {
        match (&self.tree, &self.doc) {
            (Some(v), _) => Ok(std::borrow::Cow::Borrowed(v)),
            // The text passed the decode-time check: it is not checked again.
            (None, Doc::Fields { .. }) => Ok(std::borrow::Cow::Owned(json::checked_tree(self.raw)?)),
            _ => self.to_value().map(std::borrow::Cow::Owned),
        }
    }

    fn line_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("line".into(), Value::String(self.raw.to_string()));
        Value::Object(m)
    }

    /// The text of an event read with `-i lines` and not changed since.
    pub(crate) fn line_text(&self) -> Option<&'a str> {
        matches!((&self.tree, &self.doc), (None, Doc::Line)).then_some(self.raw)
    }

    /// A text line as the event `{"line": text}` (`-i lines`).
    pub(crate) fn line(raw: &'a str, origin: Origin) -> Event<'a> {
        Event {
            doc: Doc::Line,
            ..Event::validated(raw, origin)
        }
    }

    /// An event made from text by an input format (`-i logfmt`): `raw` is the text,
    /// `fields` the event.
    /// Appends where the captured fields lie in the event's text, for the ordered part to read
    /// them without scanning the line again. False (and nothing appended) unless the text is
    /// the line as read, an object, and every captured key is written without escapes.
    pub(crate) fn field_places(&self, into: &mut Vec<FieldAt>) -> bool {
        let (
            None,
            Doc::Fields {
                fields, object: true, ..
            },
        ) = (&self.tree, &self.doc)
        else {
            return false;
        };
        let base = self.raw.as_ptr() as usize;
        let place = |s: &str| {
            let start = (s.as_ptr() as usize).checked_sub(base)?;
            let end = start.checked_add(s.len()).filter(|&e| e <= self.raw.len())?;
            Some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
        };
        let n = into.len();
        for (key, value) in fields {
            let places = match key {
                Cow::Borrowed(k) => place(k).zip(place(value)),
                Cow::Owned(_) => None,
            };
            match places {
                Some((key, value)) => into.push(FieldAt { key, value }),
                None => {
                    into.truncate(n);
                    return false;
                }
            }
        }
        true
    }

    /// An event from text a worker validated, its fields read at the places the worker found
    /// them (see [`Event::field_places`]) without a second scan; `None` if a place is not
    /// within the text.
    pub(crate) fn placed(raw: &'a str, origin: Origin, places: &[FieldAt]) -> Option<Event<'a>> {
        let span = |(start, end): (u32, u32)| raw.get(start as usize..end as usize);
        let fields = places
            .iter()
            .map(|p| Some((Cow::Borrowed(span(p.key)?), span(p.value)?)))
            .collect::<Option<Vec<_>>>()?;
        Some(Event {
            doc: Doc::Fields {
                fields,
                object: true,
                tape: None,
            },
            ..Event::validated(raw, origin)
        })
    }
}

/// Writes an expression's value as compact JSON text.
pub(crate) fn write_val<O: Out>(out: &mut O, v: &Val) {
    match v {
        Val::Null => out.put("null"),
        Val::Bool(b) => out.put(if *b { "true" } else { "false" }),
        Val::Int(i) => out.put(&i.to_string()),
        Val::Num(t) => out.put(t),
        Val::Float(f) => json::write_value(out, &float_value(*f)),
        Val::Str(s) => json::write_str(out, s),
        Val::Json(v) => json::write_value(out, v),
    }
}

/// How many levels of arrays and objects a value nests.
pub(crate) fn val_depth(v: &Val) -> usize {
    match v {
        Val::Json(v) => json::depth(v),
        _ => 0,
    }
}

/// True when writing `v` at `path` would nest the event deeper than `MAX_DEPTH`.
pub(crate) fn too_deep_at(path: &Path, v: &Val) -> bool {
    path.segs.len() + val_depth(v) > MAX_DEPTH
}

/// The segments a stage writes for `path` in `doc`: the literal-key form when the event
/// has that key and not the nested form (so `set id.orig_h = …` on Zeek's flat key
/// replaces it), else the path's own.
pub(crate) fn write_segs<'p>(doc: &Value, path: &'p Path) -> &'p [Seg] {
    match &path.flat {
        Some(flat) if navigate(doc, &path.segs).is_none() && navigate(doc, flat).is_some() => flat,
        _ => &path.segs,
    }
}

/// The raw value of the top-level field `key` among those captured (the last one if repeated).
fn captured<'t>(fields: &[json::Field<'t>], key: &str) -> Option<&'t str> {
    fields.iter().rev().find(|(name, _)| name == key).map(|(_, raw)| *raw)
}

/// Follows `segs` through JSON text, parsing only the objects on the way.
fn lookup_text<'t>(text: &'t str, segs: &[Seg]) -> Option<Val<'t>> {
    match walk_text(text, segs)? {
        (raw, []) => val_from_raw(raw.trim()),
        // An index: the array is parsed, and the rest of the path followed in the tree.
        (raw, rest) => {
            let v = json::tree(raw).ok()?;
            navigate(&v, rest).cloned().map(Val::from_owned_value)
        }
    }
}

/// The one walk of a path through JSON text: follows its keys, scanning only the objects on
/// the way, up to its first index. Returns the text reached and the segments not followed
/// (empty, or starting at that index); `None` when a key is missing.
fn walk_text<'t, 's>(text: &'t str, segs: &'s [Seg]) -> Option<(&'t str, &'s [Seg])> {
    let mut cur = text;
    for (i, s) in segs.iter().enumerate() {
        match s {
            Seg::Key(k) => cur = json::raw_field(cur, k)?,
            Seg::Index(_) => return Some((cur, &segs[i..])),
        }
    }
    Some((cur, &[]))
}

/// A value straight from its JSON text; strings without escapes are borrowed.
fn val_from_raw(text: &str) -> Option<Val<'_>> {
    Some(match text.as_bytes().first()? {
        b'"' => Val::Str(json::unquote(text)),
        b't' => Val::Bool(true),
        b'f' => Val::Bool(false),
        b'n' => Val::Null,
        b'{' | b'[' => Val::Json(Cow::Owned(json::tree(text).ok()?)),
        _ => Val::number_text(Cow::Borrowed(text)),
    })
}

/// How many nulls `set` may add to reach an index past the end of an array.
pub(crate) const MAX_PAD: usize = 1000;

/// Sets `path` to `new`, creating objects (for keys) and arrays (for indexes) along
/// the way, padding arrays with at most `max_pad` nulls; a scalar in the way of a key
/// is replaced. An index before the start of an array, further than `max_pad` past
/// its end, or into a value that is neither an array nor null is `InvalidPath`, and so is a
/// key into an array (which would throw away every element).
pub(crate) fn write_path(root: &mut Value, segs: &[Seg], new: Value, max_pad: usize) -> Result<(), Reason> {
    let mut cur = root;
    for (n, s) in segs.iter().enumerate() {
        cur = match s {
            Seg::Key(k) => {
                if !cur.is_object() && !cur.is_array() {
                    *cur = Value::Object(Map::new());
                }
                let Value::Object(m) = cur else {
                    return Err(Reason::InvalidPath);
                };
                if !m.contains_key(&**k) && matches!(segs.get(n + 1), Some(Seg::Index(i)) if *i < 0) {
                    // Counting back from the end of an array that is not there.
                    return Err(Reason::InvalidPath);
                }
                m.entry(&**k).or_insert(Value::Null)
            }
            Seg::Index(i) => {
                if cur.is_null() {
                    *cur = Value::Array(Vec::new());
                }
                let Value::Array(a) = cur else {
                    return Err(Reason::InvalidPath);
                };
                let ix = resolve_index(*i, a.len()).ok_or(Reason::InvalidPath)?;
                if ix.saturating_sub(a.len()) > max_pad {
                    return Err(Reason::InvalidPath);
                }
                if ix >= a.len() {
                    a.resize(ix + 1, Value::Null);
                }
                &mut a[ix]
            }
        };
    }
    *cur = new;
    Ok(())
}

/// `write_path` for paths that cannot fail in practice (an aggregate's key names):
/// a path that cannot be written is left out.
pub(crate) fn set_path(root: &mut Value, segs: &[Seg], new: Value) {
    let _ = write_path(root, segs, new, MAX_PAD);
}

/// `segs` with negative indexes counted from the end of the arrays in `root`;
/// `None` when the path is missing.
pub(crate) fn resolve_path(mut v: &Value, segs: &[Seg]) -> Option<Vec<Seg>> {
    let mut out = Vec::with_capacity(segs.len());
    for s in segs {
        match (s, v) {
            (Seg::Key(k), Value::Object(m)) => {
                v = m.get(&**k)?;
                out.push(s.clone());
            }
            (Seg::Index(i), Value::Array(a)) => {
                let ix = resolve_index(*i, a.len()).filter(|ix| *ix < a.len())?;
                v = &a[ix];
                out.push(Seg::Index(i64::try_from(ix).ok()?));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Removes `path`, keeping the order of what remains; returns the removed value.
pub(crate) fn remove_path(root: &mut Value, segs: &[Seg]) -> Option<Value> {
    let (last, parents) = segs.split_last()?;
    let cur = navigate_mut(root, parents)?;
    match (last, cur) {
        (Seg::Key(k), Value::Object(m)) => m.shift_remove(&**k),
        (Seg::Index(i), Value::Array(a)) => {
            let ix = resolve_index(*i, a.len())?;
            (ix < a.len()).then(|| a.remove(ix))
        }
        _ => None,
    }
}

pub(crate) fn navigate_mut<'v>(mut v: &'v mut Value, segs: &[Seg]) -> Option<&'v mut Value> {
    for s in segs {
        v = match (s, v) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(&**k)?,
            (Seg::Index(i), Value::Array(a)) => {
                let ix = resolve_index(*i, a.len())?;
                a.get_mut(ix)?
            }
            _ => return None,
        };
    }
    Some(v)
}

impl crate::lang::Record for Event<'_> {
    fn lookup(&self, path: &Path) -> Option<Val<'_>> {
        Event::lookup(self, path)
    }

    fn file(&self) -> Option<u32> {
        (!self.origin.is_derived()).then_some(self.origin.file)
    }

    fn line(&self) -> Option<u64> {
        (!self.origin.is_derived()).then_some(self.origin.line)
    }

    fn offset(&self) -> Option<u64> {
        (!self.origin.is_derived()).then_some(self.origin.offset)
    }

    fn topic(&self) -> Option<&str> {
        self.topic.as_deref()
    }

    fn raw(&self) -> &str {
        self.raw
    }
}

/// Where event time comes from.
#[derive(Debug, Clone)]
pub(crate) struct TimeField(pub Option<Path>);

/// [`TimeField::DEFAULTS`] as paths, made once.
fn default_time_paths() -> &'static [Path] {
    static PATHS: std::sync::LazyLock<Vec<Path>> = std::sync::LazyLock::new(|| {
        TimeField::DEFAULTS
            .iter()
            .map(|k| Path::new(vec![Seg::Key((*k).into())]))
            .collect()
    });
    &PATHS
}

impl TimeField {
    pub(crate) const DEFAULTS: [&'static str; 4] = ["ts", "time", "timestamp", "@timestamp"];

    /// Writes the event's time as written, as compact JSON text; false when it has none (its
    /// time field is missing or holds no time).
    pub(crate) fn write<O: json::Out>(&self, ev: &Event, env: &Env, out: &mut O) -> bool {
        self.val(ev, env).map(|v| write_val(out, &v)).is_some()
    }

    fn val<'e>(&self, ev: &'e Event, env: &Env) -> Option<Val<'e>> {
        self.field(ev).filter(|v| time_of(v, env).is_some())
    }

    /// The field event time is read from: `--time-field`, or the first default field the
    /// event has, whether or not it holds a time.
    fn field<'e>(&self, ev: &'e Event) -> Option<Val<'e>> {
        match &self.0 {
            Some(p) => ev.lookup(p),
            None => default_time_paths().iter().find_map(|p| ev.lookup(p)),
        }
    }

    pub(crate) fn needs(&self, n: &mut Needs) {
        n.event_time = true;
        match &self.0 {
            Some(p) => n.add_path(p),
            None => {
                n.time = true;
                for k in Self::DEFAULTS {
                    n.add_quiet(&Path::new(vec![Seg::Key(k.into())]));
                }
            }
        }
    }

    /// Unix seconds of the event, if it has a parsable time.
    pub(crate) fn of(&self, ev: &Event, env: &Env) -> Option<f64> {
        time_of(&self.field(ev)?, env)
    }

    /// Why the event has no time ([`TimeField::of`] gave none), for its `no_time` dead letter
    /// (`purpose` names what wanted it, if not a window): the field it lacks, or the value that
    /// holds no time, each with the option that reads another.
    pub(crate) fn no_time(&self, ev: &Event, env: &Env, purpose: &str) -> Rejection {
        let named = self.0.as_ref().map(|p| (p.to_string(), ev.lookup(p)));
        let found = named.or_else(|| {
            let mut defaults = Self::DEFAULTS.iter().zip(default_time_paths());
            defaults.find_map(|(name, p)| Some(((*name).to_string(), Some(ev.lookup(p)?))))
        });
        let why = match found {
            Some((name, None)) => format!("the event has no field {name} (--time-field)"),
            None => {
                "the event has no field ts, time, timestamp or @timestamp; --time-field NAME reads another".to_string()
            }
            Some((name, Some(v))) => {
                let text = messages::one_line(&json::to_string(&v.into_value()), 60);
                let readers = match &env.time_format {
                    Some(f) => format!("neither a built-in format nor --time-format {f} reads"),
                    None => "no built-in format reads; --time-format FORMAT reads others".to_string(),
                };
                format!("{name} holds {text}, which {readers}")
            }
        };
        Rejection::new(Reason::NoTime, format!("no parsable event time{purpose}: {why}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::{Expr, parse_expr};

    fn path(src: &str) -> Path {
        match parse_expr(src) {
            Ok(Expr::Path(p)) => p,
            other => panic!("`{src}` is not a path: {other:?}"),
        }
    }

    fn needs_of(paths: &[&str]) -> Needs {
        let mut n = Needs::default();
        for p in paths {
            n.add_path(&path(p));
        }
        n
    }

    fn held() -> OwnedEvent {
        let origin = Origin::line(2, 7, 130).copied(1);
        let ev = Event::parse(r#"{"a":1,"b":{"c":2},"d":"x"}"#, origin, &needs_of(&["a"])).expect("a valid line");
        let mut ev = ev;
        ev.topic = Some(Arc::from("errors"));
        ev.to_owned()
    }

    fn captured(ev: &Event) -> usize {
        match &ev.doc {
            Doc::Fields { fields, .. } => fields.len(),
            _ => usize::MAX,
        }
    }

    #[test]
    fn owned_round_trip_keeps_origin_topic_and_text() {
        let owned = held();
        let ev = owned.view(&needs_of(&["b.c"])).expect("held text parses");
        assert_eq!((ev.origin.file, ev.origin.line, ev.origin.offset), (2, 7, 130));
        assert_eq!(ev.topic.as_deref(), Some("errors"));
        assert!(ev.origin.is_copy());
        assert_eq!(json_of(ev.lookup(&path("b.c"))), "2");
        let again = ev.to_owned();
        assert_eq!(again.text, owned.text);
        assert_eq!((again.origin, again.topic), (owned.origin, owned.topic.clone()));
    }

    #[test]
    fn owned_view_captures_only_the_needed_fields() {
        let owned = held();
        assert_eq!(captured(&owned.view(&Needs::default()).expect("held text parses")), 0);
        assert_eq!(captured(&owned.view(&needs_of(&["d"])).expect("held text parses")), 1);
        let two = owned.view(&needs_of(&["a", "d"])).expect("held text parses");
        assert_eq!(captured(&two), 2);
        assert!(two.tree().is_none(), "a view parses no whole tree unless asked");
        assert!(
            owned
                .view(&needs_of(&["."]))
                .expect("held text parses")
                .tree()
                .is_some()
        );
    }

    fn json_of(v: Option<Val>) -> String {
        v.map_or("missing".into(), |v| {
            let mut out = Vec::new();
            v.write_json(&mut out);
            String::from_utf8(out).expect("JSON text is UTF-8")
        })
    }

    /// The value at `p` in `line` held each way an event can be: indexed lazily, parsed in
    /// full, modified (a tree), and as canonical text; all must agree.
    fn lookup_every_way(line: &str, p: &str) -> String {
        let lazy = Event::parse(line, Origin::default(), &needs_of(&[p])).expect("a valid line");
        let whole = Event::parse(line, Origin::default(), &needs_of(&["."])).expect("a valid line");
        let mut tree = Event::parse(line, Origin::default(), &Needs::default()).expect("a valid line");
        tree.doc_mut().expect("a valid line");
        let mut text = Event::validated(line, Origin::default());
        text.set_text(whole.to_value().expect("a valid line").to_string());
        let got = json_of(lazy.lookup(&path(p)));
        for (how, ev) in [("parsed in full", &whole), ("modified", &tree), ("as text", &text)] {
            assert_eq!(json_of(ev.lookup(&path(p))), got, "`{p}` in {line}: lazy vs {how}");
        }
        got
    }

    #[test]
    fn lookup_gives_the_same_value_however_the_event_is_held() {
        let line =
            r#"{"a":{"b":[1,{"c":"x"}],"d":1.50},"s":"caf\u00e9","n":null,"a.b":"flat","big":18446744073709551616}"#;
        let cases = [
            ("a.d", "1.50"),
            ("a.b[1].c", r#""x""#),
            ("a.b[-2]", "1"),
            ("a.b[2]", "missing"),
            ("a.b[-3]", "missing"),
            ("s", r#""café""#),
            ("n", "null"),
            ("missing", "missing"),
            ("a.missing.deeper", "missing"),
            ("s.x", "missing"),
            ("`a.b`", r#""flat""#),
            ("big", "18446744073709551616"),
            (".", line),
        ];
        for (p, want) in cases {
            let got = lookup_every_way(line, p);
            if p == "." {
                // The whole event parses to the same document, whatever its text.
                let (g, w): (Value, Value) = (
                    serde_json::from_str(&got).expect("JSON"),
                    serde_json::from_str(want).expect("JSON"),
                );
                assert_eq!(g, w);
            } else {
                assert_eq!(got, want, "`{p}`");
            }
        }
    }

    #[test]
    fn a_dotted_path_reads_the_literal_key_when_the_nested_form_is_absent() {
        let line = r#"{"id.orig_h":"h","event":{"x":1},"event.code":"4624","a":{"b":1},"a.b":2,"t.s":[1,2]}"#;
        let cases = [
            ("id.orig_h", r#""h""#),
            ("event.code", r#""4624""#),
            ("a.b", "1"),
            ("`a.b`", "2"),
            ("t.s[1]", "2"),
            ("id.orig_h.x", "missing"),
            ("`id`.orig_h", "missing"),
            ("event.x", "1"),
        ];
        for (p, want) in cases {
            assert_eq!(lookup_every_way(line, p), want, "`{p}`");
        }
    }

    #[test]
    fn writes_address_the_literal_key_only_when_the_nested_form_is_absent() {
        let doc: Value = serde_json::from_str(r#"{"id.orig_h":"h","a":{"b":1},"a.b":2}"#).expect("JSON");
        let segs = |p: &str| Path::new(write_segs(&doc, &path(p)).to_vec()).to_string();
        assert_eq!(segs("id.orig_h"), "`id.orig_h`");
        assert_eq!(segs("a.b"), "a.b");
        assert_eq!(segs("new.key"), "new.key");
    }

    #[test]
    fn a_repeated_key_reads_its_last_value() {
        assert_eq!(lookup_every_way(r#"{"k":1,"k":{"z":2}}"#, "k.z"), "2");
    }

    #[test]
    fn a_line_that_is_not_an_object_has_no_fields() {
        for line in ["[1,2]", "\"text\"", "5", "null"] {
            let ev = Event::parse(line, Origin::default(), &needs_of(&["a"])).expect("a valid line");
            assert!(!ev.is_object(), "{line}");
            assert_eq!(json_of(ev.lookup(&path("a"))), "missing", "{line}");
            assert_eq!(ev.json_string(), line);
        }
        let ev = Event::parse("[1,2]", Origin::default(), &needs_of(&["."])).expect("a valid line");
        assert_eq!(json_of(ev.lookup(&path("."))), "[1,2]");
    }

    #[test]
    fn bad_lines_are_rejected_with_their_reason() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let cases = [
            (r#"{"a":1"#, Reason::InvalidJson),
            (r#"{"a":1} x"#, Reason::InvalidJson),
            (r#"{"a":"\ud800"}"#, Reason::InvalidUnicode),
            (deep.as_str(), Reason::TooDeep),
        ];
        for (line, want) in cases {
            for needs in [needs_of(&["a"]), needs_of(&["."]), Needs::default()] {
                match Event::parse(line, Origin::default(), &needs) {
                    Ok(_) => panic!("{line} was accepted"),
                    Err(e) => assert_eq!(e.reason, want, "{line}: {}", e.error),
                }
            }
        }
    }

    #[test]
    fn raw_at_gives_the_original_text_of_nested_keys() {
        let line = r#"{"a": {"b": 1.50 , "c": [1]}, "s": "x"}"#;
        let ev = Event::parse(line, Origin::default(), &needs_of(&["a", "s"])).expect("a valid line");
        assert_eq!(ev.raw_at(&path("a.b")), Some("1.50"));
        assert_eq!(ev.raw_at(&path("a.c")), Some("[1]"));
        assert_eq!(ev.raw_at(&path("s")), Some(r#""x""#));
        assert_eq!(ev.raw_at(&path("a.c[0]")), None);
        assert_eq!(ev.raw_at(&path("a.z")), None);
        assert_eq!(ev.raw_at(&path(".")), None);
        let whole = Event::parse(line, Origin::default(), &needs_of(&["."])).expect("a valid line");
        assert_eq!(whole.raw_at(&path("a.b")), None, "a tree holds no text");
    }

    #[test]
    fn kind_at_reads_the_kind_from_the_text_as_lookup_would_tell_it() {
        let line = r#"{"n": null, "t": true, "f": false, "s": "x", "i": -1.5e3, "a": [1, 2], "o": {"k": {}}}"#;
        let fields = ["n", "t", "f", "s", "i", "a", "o", "o.k", "o.k.z", "a[1]", "missing"];
        let lazy = Event::parse(line, Origin::default(), &needs_of(&fields)).expect("a valid line");
        let whole = Event::parse(line, Origin::default(), &needs_of(&["."])).expect("a valid line");
        for field in fields {
            let want = whole.lookup(&path(field)).map(|v| v.kind());
            assert_eq!(lazy.kind_at(&path(field)), want, "{field}");
            assert_eq!(whole.kind_at(&path(field)), want, "{field}");
        }
        assert_eq!(lazy.raw_at(&path("a")), Some("[1, 2]"), "told from the text");
    }

    #[test]
    fn unmodified_events_are_written_as_read_and_modified_ones_canonically() {
        let line = r#"{ "z" : 1.0 , "a" : [ 18446744073709551616 ], "a2": "\u00e9" }"#;
        let lazy = Event::parse(line, Origin::default(), &needs_of(&["z"])).expect("a valid line");
        assert_eq!((lazy.json_string().as_str(), lazy.text()), (line, Some(line)));
        let whole = Event::parse(line, Origin::default(), &needs_of(&["."])).expect("a valid line");
        assert_eq!(whole.json_string(), line, "parsed in full but not modified");

        let mut ev = Event::parse(line, Origin::default(), &needs_of(&["z"])).expect("a valid line");
        let doc = ev.doc_mut().expect("a valid line");
        write_path(doc, &path("b.c").segs, Value::Bool(true), MAX_PAD).expect("a writable path");
        let want = r#"{"z":1.0,"a":[18446744073709551616],"a2":"é","b":{"c":true}}"#;
        assert_eq!(ev.json_string(), want);
        let mut bytes = Vec::new();
        ev.write_json(&mut bytes);
        assert_eq!(bytes, want.as_bytes());
        assert_eq!(ev.text(), None);

        let mut ev = Event::validated(line, Origin::default());
        ev.set_text(r#"{"new":1}"#.into());
        assert_eq!(
            (ev.json_string().as_str(), ev.text()),
            (r#"{"new":1}"#, Some(r#"{"new":1}"#))
        );
        assert_eq!(json_of(ev.lookup(&path("new"))), "1");
    }

    #[test]
    fn a_text_line_is_the_event_line_until_changed() {
        let mut ev = Event::line("plain \"text\"", Origin::default());
        assert!(ev.is_object());
        assert_eq!(ev.line_text(), Some("plain \"text\""));
        assert_eq!(json_of(ev.lookup(&path("line"))), r#""plain \"text\"""#);
        assert_eq!(json_of(ev.lookup(&path("other"))), "missing");
        assert_eq!(json_of(ev.lookup(&path("."))), r#"{"line":"plain \"text\""}"#);
        assert_eq!(ev.json_string(), r#"{"line":"plain \"text\""}"#);
        let doc = ev.doc_mut().expect("a text line is an object");
        write_path(doc, &path("n").segs, Value::from(1), MAX_PAD).expect("a writable path");
        assert_eq!(ev.line_text(), None);
        assert_eq!(ev.json_string(), r#"{"line":"plain \"text\"","n":1}"#);
    }

    #[test]
    fn write_path_creates_what_is_missing_and_refuses_impossible_indexes() {
        let cases: &[(&str, &str, &str)] = &[
            ("{}", "a.b.c", r#"{"a":{"b":{"c":0}}}"#),
            (r#"{"z":1,"a":1}"#, "a", r#"{"z":1,"a":0}"#),
            (r#"{"a":5}"#, "a.b", r#"{"a":{"b":0}}"#),
            ("{}", "a[2]", r#"{"a":[null,null,0]}"#),
            (r#"{"a":null}"#, "a[0].b", r#"{"a":[{"b":0}]}"#),
            (r#"{"a":[1,2]}"#, "a[-1]", r#"{"a":[1,0]}"#),
            (r#"{"a":[1,2]}"#, "a[-3]", "invalid"),
            ("{}", "a[-1]", "invalid"),
            (r#"{"a":"s"}"#, "a[0]", "invalid"),
            (r#"{"a":{}}"#, "a[0]", "invalid"),
            ("{}", "a[1001]", "invalid"),
        ];
        for (start, p, want) in cases {
            let mut v: Value = serde_json::from_str(start).expect("JSON");
            let got = match write_path(&mut v, &path(p).segs, Value::from(0), MAX_PAD) {
                Ok(()) => v.to_string(),
                Err(Reason::InvalidPath) => "invalid".into(),
                Err(r) => format!("{r:?}"),
            };
            assert_eq!(&got, want, "set {p} on {start}");
        }
        let mut v = serde_json::json!({});
        write_path(&mut v, &path("a[1000]").segs, Value::from(0), MAX_PAD).expect("padding up to the limit");
        assert_eq!(v["a"].as_array().map(Vec::len), Some(1001));
    }

    #[test]
    fn remove_path_keeps_the_order_of_what_remains() {
        let start = r#"{"a":1,"b":{"c":2,"d":3},"e":[1,2,3]}"#;
        let cases: &[(&str, Option<&str>, &str)] = &[
            ("b.c", Some("2"), r#"{"a":1,"b":{"d":3},"e":[1,2,3]}"#),
            ("a", Some("1"), r#"{"b":{"c":2,"d":3},"e":[1,2,3]}"#),
            ("e[-1]", Some("3"), r#"{"a":1,"b":{"c":2,"d":3},"e":[1,2]}"#),
            ("e[0]", Some("1"), r#"{"a":1,"b":{"c":2,"d":3},"e":[2,3]}"#),
            ("e[3]", None, start),
            ("e[-4]", None, start),
            ("a.x", None, start),
            ("missing.x", None, start),
            (".", None, start),
        ];
        for (p, removed, after) in cases {
            let mut v: Value = serde_json::from_str(start).expect("JSON");
            let got = remove_path(&mut v, &path(p).segs).map(|r| r.to_string());
            assert_eq!(got.as_deref(), *removed, "del {p}");
            assert_eq!(v.to_string(), *after, "del {p}");
        }
    }

    #[test]
    fn resolve_path_counts_negative_indexes_from_the_end() {
        let v = serde_json::json!({"e": [[1, 2], [3]]});
        let resolved = |p: &str| resolve_path(&v, &path(p).segs).map(|s| Path::new(s).to_string());
        assert_eq!(resolved("e[-1][-1]").as_deref(), Some("e[1][0]"));
        assert_eq!(resolved("e[0][1]").as_deref(), Some("e[0][1]"));
        assert_eq!(resolved("e[-3]"), None);
        assert_eq!(resolved("e[2]"), None);
        assert_eq!(resolved("x"), None);
    }

    #[test]
    fn needs_lists_each_top_level_key_once_and_the_whole_event_apart() {
        let n = needs_of(&["a.b", "a[0]", "c", "`x.y`.z"]);
        // `a.b` may read the literal key "a.b" too.
        assert_eq!(
            n.keys.iter().map(|k| &**k).collect::<Vec<_>>(),
            ["a", "a.b", "c", "x.y"]
        );
        assert!(!n.whole);
        assert!(needs_of(&["a", "."]).whole);
    }

    #[test]
    fn reasons_are_indexed_by_their_place_in_all() {
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i, "{r:?}");
        }
    }

    #[test]
    fn fields_read_at_their_places_are_the_fields_parsed() {
        let line = r#" {"a":1, "b" : {"c":"x\"y"}, "a":[2], "z":null}"#;
        let ev = Event::parse(line, Origin::default(), &needs_of(&["a", "b.c", "z"])).expect("a valid line");
        let mut places = vec![FieldAt {
            key: (0, 0),
            value: (0, 0),
        }];
        assert!(ev.field_places(&mut places));
        let again = Event::placed(line, Origin::default(), &places[1..]).expect("the places hold the fields");
        for p in ["a", "b.c", "z", "missing"] {
            let (want, got) = (
                ev.lookup(&path(p)).map(Val::into_value),
                again.lookup(&path(p)).map(Val::into_value),
            );
            assert_eq!(got, want, "{p}");
        }
        assert_eq!(again.json_string(), line);
        assert!(
            Event::placed(
                line,
                Origin::default(),
                &[FieldAt {
                    key: (3, 4),
                    value: (5, 99)
                }]
            )
            .is_none()
        );
    }

    #[test]
    fn fields_have_no_places_when_a_key_is_escaped_or_the_line_is_no_object() {
        let mut places = Vec::new();
        let escaped = Event::parse(r#"{"\u0061":1}"#, Origin::default(), &needs_of(&["a"])).expect("a valid line");
        assert!(!escaped.field_places(&mut places));
        let array = Event::parse("[1,2]", Origin::default(), &needs_of(&["a"])).expect("a valid line");
        assert!(!array.field_places(&mut places));
        assert!(places.is_empty());
    }
}
