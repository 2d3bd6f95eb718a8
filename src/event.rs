//! One event: its original line, metadata, and a document parsed only as far as the
//! pipeline needs (the top-level fields it reads), or fully once a stage modifies it.

use crate::lang::ast::{Path, Seg};
use crate::lang::value::Val;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Where an event came from. Line 0 marks an event a stage made (an aggregate's
/// row) rather than one read from input: it has no fate in the accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Meta {
    /// Index into the run's list of inputs.
    pub file: u32,
    /// 1-based line number within that input.
    pub line: u64,
    /// Byte offset of the line in the decompressed input.
    pub offset: u64,
}

impl Meta {
    pub fn is_derived(&self) -> bool {
        self.line == 0
    }
}

/// Why a line could not become an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    InvalidJson,
    InvalidUtf8,
    TooLong,
    TooDeep,
    /// A windowed aggregate found no parsable event time.
    NoTime,
    /// Older than a window already emitted (`--lateness`).
    Late,
    /// `parse` could not parse the event.
    Parse,
}

impl Reason {
    pub const ALL: [Reason; 7] = [
        Reason::InvalidJson,
        Reason::InvalidUtf8,
        Reason::TooLong,
        Reason::TooDeep,
        Reason::NoTime,
        Reason::Late,
        Reason::Parse,
    ];

    /// The reason's place in `ALL`, for counters indexed by reason.
    pub fn index(self) -> usize {
        Reason::ALL
            .iter()
            .position(|x| *x == self)
            .expect("every reason is listed")
    }

    pub fn name(self) -> &'static str {
        match self {
            Reason::InvalidJson => "invalid_json",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::TooLong => "too_long",
            Reason::TooDeep => "too_deep",
            Reason::NoTime => "no_time",
            Reason::Late => "late",
            Reason::Parse => "parse",
        }
    }
}

/// A rejected line's reason and the parser's message.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub reason: Reason,
    pub error: String,
}

impl Rejection {
    pub fn new(reason: Reason, error: impl Into<String>) -> Rejection {
        Rejection {
            reason,
            error: error.into(),
        }
    }
}

/// Which parts of each event the pipeline reads.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// Top-level keys read by some path.
    pub keys: Vec<Box<str>>,
    /// Some expression reads the whole event (`.`).
    pub whole: bool,
}

impl Needs {
    pub fn add_path(&mut self, p: &Path) {
        match p.first_key() {
            Some(k) if !self.keys.iter().any(|x| &**x == k) => self.keys.push(k.into()),
            Some(_) => {}
            None => self.whole = true,
        }
    }
}

#[derive(Clone)]
enum Doc<'a> {
    /// Top-level fields the pipeline reads, as raw JSON; `object` is false for a
    /// line that is a JSON value other than an object.
    Fields {
        fields: Vec<(Cow<'a, str>, &'a RawValue)>,
        object: bool,
    },
    /// Modified, and kept as JSON text: stages that splice text (`set` of top-level
    /// fields, `keep`) avoid building a tree.
    Text(String),
    Full(Value),
    /// A text line read with `-i lines`: the event `{"line": raw}`, built only when written.
    Line,
}

#[derive(Clone)]
pub struct Event<'a> {
    pub raw: &'a str,
    pub meta: Meta,
    pub topic: Option<Arc<str>>,
    /// An extra copy made by `route all`: its outcome is not its line's fate.
    pub copy: bool,
    doc: Doc<'a>,
    modified: bool,
}

impl<'a> Event<'a> {
    /// Parses a line, validating all of it but indexing only what `needs` names.
    pub fn parse(raw: &'a str, meta: Meta, needs: &Needs) -> Result<Event<'a>, Rejection> {
        let doc = if needs.whole {
            Doc::Full(parse_tree(raw).map_err(rejection)?)
        } else {
            let mut de = serde_json::Deserializer::from_str(raw);
            // A bad line's message is the full parse's, so it does not depend on the fields read.
            let full_error = |e| rejection(parse_tree(raw).err().unwrap_or(e));
            let (fields, object) = Capture {
                want: &needs.keys,
                one: None,
            }
            .deserialize(&mut de)
            .map_err(full_error)?;
            de.end().map_err(full_error)?;
            Doc::Fields { fields, object }
        };
        Ok(Event {
            raw,
            meta,
            topic: None,
            copy: false,
            doc,
            modified: false,
        })
    }

    /// An event from JSON text already validated by an earlier stage, for stages that
    /// read no field (`head`, `tail`, `to` with a field-free template): not parsed again.
    pub fn validated(raw: &'a str, meta: Meta) -> Event<'a> {
        Event {
            raw,
            meta,
            topic: None,
            copy: false,
            doc: Doc::Fields {
                fields: Vec::new(),
                object: true,
            },
            modified: false,
        }
    }

    pub fn is_modified(&self) -> bool {
        self.modified
    }

    /// The value at `path`, `None` when a key or index is missing.
    pub fn lookup(&self, path: &Path) -> Option<Val<'_>> {
        match &self.doc {
            Doc::Full(v) => navigate(v, &path.segs).map(Val::from_value),
            Doc::Text(t) => lookup_text(t, &path.segs),
            Doc::Line => match path.segs.as_slice() {
                [Seg::Key(k)] if &**k == "line" => Some(Val::str(self.raw)),
                [] => Some(Val::Json(Cow::Owned(self.line_value()))),
                _ => None,
            },
            Doc::Fields { fields, object } => {
                let Some(Seg::Key(k)) = path.segs.first() else {
                    return lookup_text(self.raw, &path.segs);
                };
                if !object {
                    return None;
                }
                let (_, raw) = fields.iter().rev().find(|(name, _)| name == &**k)?;
                lookup_text(raw.get(), &path.segs[1..])
            }
        }
    }

    /// The JSON text of the value at a path of keys only, without parsing it;
    /// `None` when missing or when the event is held as a tree.
    pub fn raw_at(&self, path: &Path) -> Option<&str> {
        let (first, rest) = path.segs.split_first()?;
        let Seg::Key(k) = first else { return None };
        let start = match &self.doc {
            Doc::Full(_) | Doc::Line => return None,
            Doc::Text(t) => raw_field(t, k)?.get(),
            Doc::Fields { fields, object: true } => fields.iter().rev().find(|(name, _)| name == &**k)?.1.get(),
            Doc::Fields { .. } => return None,
        };
        rest.iter().try_fold(start, |cur, s| match s {
            Seg::Key(k) => raw_field(cur, k).map(RawValue::get),
            Seg::Index(_) => None,
        })
    }

    /// The event's current JSON text, unless it is held as a tree.
    pub fn text(&self) -> Option<&str> {
        match &self.doc {
            Doc::Fields { .. } => Some(self.raw),
            Doc::Text(t) => Some(t),
            Doc::Full(_) | Doc::Line => None,
        }
    }

    /// Replaces the event with new JSON text (which the caller guarantees is valid).
    pub fn set_text(&mut self, t: String) {
        self.doc = Doc::Text(t);
        self.modified = true;
    }

    pub fn get(&self, path: &Path) -> Val<'_> {
        self.lookup(path).unwrap_or(Val::Null)
    }

    /// The whole document, parsed in full; marks the event modified.
    pub fn doc_mut(&mut self) -> &mut Value {
        if let Some(t) = self.text() {
            let v = parse_tree(t).expect("event text is valid JSON");
            self.doc = Doc::Full(v);
        } else if let Doc::Line = self.doc {
            self.doc = Doc::Full(self.line_value());
        }
        self.modified = true;
        match &mut self.doc {
            Doc::Full(v) => v,
            _ => unreachable!("converted above"),
        }
    }

    /// Replaces the whole document.
    pub fn replace(&mut self, v: Value) {
        self.doc = Doc::Full(v);
        self.modified = true;
    }

    /// Writes the event as one JSON line without the newline: its original bytes
    /// when unmodified.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match (&self.doc, self.modified) {
            (Doc::Full(v), true) => serde_json::to_writer(&mut *out, v).expect("writing to a Vec cannot fail"),
            (Doc::Text(t), _) => out.extend_from_slice(t.as_bytes()),
            (Doc::Line, _) => {
                out.extend_from_slice(b"{\"line\":");
                serde_json::to_writer(&mut *out, self.raw).expect("writing to a Vec cannot fail");
                out.push(b'}');
            }
            _ => out.extend_from_slice(self.raw.as_bytes()),
        }
    }

    /// The whole document as a value (parsed on demand).
    pub fn to_value(&self) -> Value {
        match &self.doc {
            Doc::Full(v) => v.clone(),
            Doc::Text(t) => parse_tree(t).expect("event text is valid JSON"),
            Doc::Fields { .. } => parse_tree(self.raw).expect("the line was validated when parsed"),
            Doc::Line => self.line_value(),
        }
    }

    fn line_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("line".into(), Value::String(self.raw.to_string()));
        Value::Object(m)
    }

    /// The text of an event read with `-i lines` and not changed since.
    pub fn line_text(&self) -> Option<&'a str> {
        matches!(self.doc, Doc::Line).then_some(self.raw)
    }

    /// A text line as the event `{"line": text}` (`-i lines`).
    pub fn line(raw: &'a str, meta: Meta) -> Event<'a> {
        Event {
            raw,
            meta,
            topic: None,
            copy: false,
            doc: Doc::Line,
            modified: false,
        }
    }

    /// An event made from text by an input format (`-i logfmt`): `raw` is the text,
    /// `json` the event.
    pub fn from_json_text(raw: &'a str, meta: Meta, json: String) -> Event<'a> {
        Event {
            raw,
            meta,
            topic: None,
            copy: false,
            doc: Doc::Text(json),
            modified: true,
        }
    }
}

/// Parses JSON text into a tree whose numbers keep their exact text. serde_json
/// rewrites exponents (`1E5` and `1e400` become `1e+5` and `1e+400`), so a text
/// with an exponent is walked again, taking each number's text from the line.
pub fn parse_tree(text: &str) -> serde_json::Result<Value> {
    let v = serde_json::from_str(text)?;
    Ok(if has_exponent(text) { exact_tree(text) } else { v })
}

/// True when a number outside strings has an exponent.
fn has_exponent(text: &str) -> bool {
    let mut bytes = text.bytes();
    let (mut in_str, mut prev) = (false, 0u8);
    while let Some(b) = bytes.next() {
        if in_str {
            match b {
                b'\\' => {
                    bytes.next();
                }
                b'"' => in_str = false,
                _ => {}
            }
        } else if b == b'"' {
            in_str = true;
        } else if matches!(b, b'e' | b'E') && prev.is_ascii_digit() {
            return true;
        }
        prev = b;
    }
    false
}

/// The tree of valid JSON text, each number built from its own text.
fn exact_tree(text: &str) -> Value {
    let text = text.trim();
    match text.as_bytes().first() {
        Some(b'{') => {
            let Members(members) = serde_json::from_str(text).expect("validated JSON object");
            Value::Object(members.into_iter().map(|(k, v)| (k, exact_tree(v.get()))).collect())
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(text).expect("validated JSON array");
            Value::Array(items.into_iter().map(|v| exact_tree(v.get())).collect())
        }
        Some(b'-' | b'0'..=b'9') => Value::Number(serde_json::Number::from_string_unchecked(text.to_string())),
        _ => serde_json::from_str(text).expect("validated JSON value"),
    }
}

/// An object's members in order (repeated keys too), each value as raw text.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> de::Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    members.push((k, map.next_value()?));
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(V)
    }
}

fn rejection(e: serde_json::Error) -> Rejection {
    // Each line is its own document, so serde_json's "line 1" adds nothing.
    let error = e.to_string().replace(" at line 1 column ", " at column ");
    let reason = if error.starts_with("recursion limit exceeded") {
        Reason::TooDeep
    } else {
        Reason::InvalidJson
    };
    Rejection { reason, error }
}

/// Follows `segs` from `v`; negative indexes count from the end.
pub fn navigate<'v>(mut v: &'v Value, segs: &[Seg]) -> Option<&'v Value> {
    for s in segs {
        v = match (s, v) {
            (Seg::Key(k), Value::Object(m)) => m.get(&**k)?,
            (Seg::Index(i), Value::Array(a)) => a.get(resolve_index(*i, a.len())?)?,
            _ => return None,
        };
    }
    Some(v)
}

pub fn resolve_index(i: i64, len: usize) -> Option<usize> {
    if i >= 0 {
        usize::try_from(i).ok()
    } else {
        len.checked_sub(usize::try_from(i.unsigned_abs()).ok()?)
    }
}

/// The raw value of `key` in an object's JSON text (the last one if repeated).
pub fn raw_field<'t>(text: &'t str, key: &str) -> Option<&'t RawValue> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let (fields, _) = Capture {
        want: &[],
        one: Some(key),
    }
    .deserialize(&mut de)
    .ok()?;
    fields.last().map(|(_, r)| *r)
}

/// Follows `segs` through JSON text, parsing only the objects on the way.
fn lookup_text<'t>(text: &'t str, segs: &[Seg]) -> Option<Val<'t>> {
    let mut cur = text;
    for (i, s) in segs.iter().enumerate() {
        match s {
            Seg::Key(k) => cur = raw_field(cur, k)?.get(),
            Seg::Index(_) => {
                let v = parse_tree(cur).ok()?;
                return navigate(&v, &segs[i..]).cloned().map(Val::from_owned_value);
            }
        }
    }
    Some(val_from_raw(cur.trim()))
}

/// A scalar straight from its JSON text; strings without escapes are borrowed.
fn val_from_raw(text: &str) -> Val<'_> {
    match text.as_bytes().first() {
        Some(b'"') => {
            let inner = &text[1..text.len() - 1];
            if inner.contains('\\') {
                Val::Str(Cow::Owned(serde_json::from_str(text).expect("validated JSON string")))
            } else {
                Val::Str(Cow::Borrowed(inner))
            }
        }
        Some(b't') => Val::Bool(true),
        Some(b'f') => Val::Bool(false),
        Some(b'n') => Val::Null,
        Some(b'{' | b'[') => Val::Json(Cow::Owned(parse_tree(text).expect("validated JSON value"))),
        _ => Val::number_text(Cow::Borrowed(text)),
    }
}

/// Sets `path` to `new`, creating objects (for keys) and arrays (for indexes) along
/// the way, padding arrays with nulls; a scalar in the way of a key is replaced.
/// Nothing changes when an index meets a non-array or counts back past the start.
pub fn set_path(root: &mut Value, segs: &[Seg], new: Value) {
    let mut cur = root;
    for (n, s) in segs.iter().enumerate() {
        cur = match s {
            Seg::Key(k) => {
                if !cur.is_object() {
                    *cur = Value::Object(Map::new());
                }
                let m = cur.as_object_mut().expect("made an object above");
                if !m.contains_key(&**k) && matches!(segs.get(n + 1), Some(Seg::Index(i)) if *i < 0) {
                    return;
                }
                m.entry(&**k).or_insert(Value::Null)
            }
            Seg::Index(i) => {
                if cur.is_null() {
                    *cur = Value::Array(Vec::new());
                }
                let Value::Array(a) = cur else { return };
                let Some(ix) = resolve_index(*i, a.len()) else { return };
                if ix >= a.len() {
                    a.resize(ix + 1, Value::Null);
                }
                &mut a[ix]
            }
        };
    }
    *cur = new;
}

/// `segs` with negative indexes counted from the end of the arrays in `root`;
/// `None` when the path is missing.
pub fn resolve_path(mut v: &Value, segs: &[Seg]) -> Option<Vec<Seg>> {
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
pub fn remove_path(root: &mut Value, segs: &[Seg]) -> Option<Value> {
    let (last, parents) = segs.split_last()?;
    let mut cur = root;
    for s in parents {
        cur = match (s, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(&**k)?,
            (Seg::Index(i), Value::Array(a)) => {
                let ix = resolve_index(*i, a.len())?;
                a.get_mut(ix)?
            }
            _ => return None,
        };
    }
    match (last, cur) {
        (Seg::Key(k), Value::Object(m)) => m.shift_remove(&**k),
        (Seg::Index(i), Value::Array(a)) => {
            let ix = resolve_index(*i, a.len())?;
            (ix < a.len()).then(|| a.remove(ix))
        }
        _ => None,
    }
}

/// The key serde_json uses to pass an arbitrary-precision number through a map.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Deserializes a line, keeping the raw text of wanted top-level keys only.
struct Capture<'w> {
    want: &'w [Box<str>],
    one: Option<&'w str>,
}

type Captured<'a> = (Vec<(Cow<'a, str>, &'a RawValue)>, bool);

impl<'de> DeserializeSeed<'de> for Capture<'_> {
    type Value = Captured<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

macro_rules! not_an_object {
    ($($name:ident: $t:ty),*) => {$(
        fn $name<E: de::Error>(self, _: $t) -> Result<Self::Value, E> {
            Ok((Vec::new(), false))
        }
    )*};
}

impl<'de> Visitor<'de> for Capture<'_> {
    type Value = Captured<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if key.0 == NUMBER_TOKEN {
                // serde_json's arbitrary-precision numbers arrive as a one-key map.
                map.next_value::<IgnoredAny>()?;
                return Ok((Vec::new(), false));
            }
            if self.one == Some(&*key.0) || self.want.iter().any(|w| **w == *key.0) {
                fields.push((key.0, map.next_value::<&'de RawValue>()?));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok((fields, true))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok((Vec::new(), false))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok((Vec::new(), false))
    }

    not_an_object!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);
}

/// A map key, borrowed from the line unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

pub fn navigate_mut<'v>(mut v: &'v mut Value, segs: &[Seg]) -> Option<&'v mut Value> {
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
