//! `serde_json`'s quirks in one file: one nesting limit (`MAX_DEPTH`) for the lazy and
//! the full parse, strings that must be valid Unicode, numbers that keep their text,
//! duplicate keys (the last wins), the lazy capture of top-level fields, and one way
//! to write JSON text: compact, with minimal escapes, as `serde_json` writes it.
//!
//! The decode-time check (`capture`, `tree`) rejects exactly what a later full parse
//! rejects, so text that passed it always parses again.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

mod flat;
mod scan;
mod tape;

pub(crate) use flat::{Leaf, flatten_text};
pub(crate) use tape::{Kind as TapeKind, Node as TapeNode, Span, Tape, same, tape};

/// 2^53: every integer up to it is a double, and past it not every one is.
pub(crate) const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// Deepest nesting accepted: 128 levels of arrays and objects are an event, 129 are
/// a dead letter (`too_deep`).
pub(crate) const MAX_DEPTH: usize = 128;

/// Why text is not an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonErrorKind {
    Invalid,
    TooDeep,
    /// A `\u` escape is a lone UTF-16 surrogate: no string can hold it.
    InvalidUnicode,
}

/// A rejected text's kind and message (`… at column N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonError {
    pub(crate) kind: JsonErrorKind,
    pub(crate) message: String,
}

impl JsonError {
    fn new(kind: JsonErrorKind, message: String) -> JsonError {
        JsonError { kind, message }
    }

    fn serde(e: serde_json::Error) -> JsonError {
        // Each line is its own document, so serde_json's "line 1" adds nothing.
        let message = e.to_string().replace(" at line 1 column ", " at column ");
        let kind =
            if message.starts_with("lone leading surrogate") || message.starts_with("unexpected end of hex escape") {
                JsonErrorKind::InvalidUnicode
            } else if message.starts_with("recursion limit exceeded") {
                JsonErrorKind::TooDeep
            } else {
                JsonErrorKind::Invalid
            };
        JsonError { kind, message }
    }
}

// ------------------------------------------------------------------ checks

/// The first place `line` nests deeper than `MAX_DEPTH`, counting brackets outside strings.
pub(crate) fn too_deep(line: &[u8]) -> Option<JsonError> {
    // Going past the limit takes more opening brackets than it: most lines stop here.
    if line.len() <= MAX_DEPTH || memchr::memchr2_iter(b'{', b'[', line).count() <= MAX_DEPTH {
        return None;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in line.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    let message = format!("nested deeper than {MAX_DEPTH} levels at column {}", i + 1);
                    return Some(JsonError::new(JsonErrorKind::TooDeep, message));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The first `\u` escape of syntactically valid JSON text that is a lone surrogate.
/// `serde_json` skips such escapes in values it does not build, and fails on them in
/// values it does.
pub(crate) fn lone_surrogate(text: &str) -> Option<JsonError> {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(at) = b
        .get(i..)
        .and_then(|rest| memchr::memchr(b'\\', rest))
        .map(|off| i + off)
    {
        if b.get(at + 1) != Some(&b'u') {
            i = at + 2;
            continue;
        }
        let paired = b.get(at + 6..at + 8) == Some(b"\\u") && matches!(hex4(b, at + 8), Some(0xDC00..=0xDFFF));
        match hex4(b, at + 2) {
            Some(0xD800..=0xDBFF) if paired => i = at + 12,
            Some(0xD800..=0xDFFF) => {
                let message = format!("lone surrogate in \\u escape at column {}", at + 1);
                return Some(JsonError::new(JsonErrorKind::InvalidUnicode, message));
            }
            _ => i = at + 6,
        }
    }
    None
}

/// The four hex digits at `at`, if there are four.
fn hex4(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)?
        .iter()
        .try_fold(0u32, |n, d| Some(n * 16 + char::from(*d).to_digit(16)?))
}

/// What a full parse would reject in text the lazy parse accepted.
fn check_lazy(text: &str) -> Result<(), JsonError> {
    match too_deep(text.as_bytes()).or_else(|| lone_surrogate(text)) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

// ------------------------------------------------------------------ parsing

/// Deserializes all of `text`, whose depth is already checked: `serde_json`'s own limit
/// (which rejects 128 levels) is replaced by `MAX_DEPTH`.
fn parse_checked<'a, T: de::Deserialize<'a>>(text: &'a str) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let v = T::deserialize(&mut de).map_err(JsonError::serde)?;
    de.end().map_err(JsonError::serde)?;
    Ok(v)
}

/// Parses JSON text that evq wrote itself (the tabular formats read their rows back).
/// It comes from checked events and aggregate rows, so its depth is bounded by
/// construction (a row may hold an event: a few levels past `MAX_DEPTH`), and
/// `serde_json`'s limit, which rejects 128 levels, must not apply.
pub(crate) fn reparse(text: &[u8]) -> Result<Value, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(text);
    de.disable_recursion_limit();
    let v = de::Deserialize::deserialize(&mut de).map_err(JsonError::serde)?;
    de.end().map_err(JsonError::serde)?;
    Ok(v)
}

/// Parses JSON text into a tree whose numbers keep their exact text. `serde_json`
/// rewrites exponents (`1E5` and `1e400` become `1e+5` and `1e+400`), so a text
/// with an exponent is walked again, taking each number's text from the line.
pub(crate) fn tree(text: &str) -> Result<Value, JsonError> {
    if let Some(e) = too_deep(text.as_bytes()) {
        return Err(e);
    }
    let v = parse_checked(text).map_err(|e| match e.kind {
        // The same message as the lazy path's, whichever string the surrogate is in.
        JsonErrorKind::InvalidUnicode => lone_surrogate(text).unwrap_or(e),
        _ => e,
    })?;
    if has_exponent(text) { exact_tree(text) } else { Ok(v) }
}

/// The tree of text that passed the decode-time check (`capture`, `tree`), as `tree` gives it:
/// its depth and strings are known to be good, so only the numbers' text needs care.
pub(crate) fn checked_tree(text: &str) -> Result<Value, JsonError> {
    if has_exponent(text) {
        exact_tree(text)
    } else {
        parse_checked(text)
    }
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

/// The tree of JSON text, each number built from its own text.
fn exact_tree(text: &str) -> Result<Value, JsonError> {
    let text = text.trim();
    Ok(match text.as_bytes().first() {
        Some(b'{') => {
            let Members(members) = parse_checked(text)?;
            let mut m = serde_json::Map::new();
            for (k, v) in members {
                m.insert(k.0.into_owned(), exact_tree(v.get())?);
            }
            Value::Object(m)
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = parse_checked(text)?;
            Value::Array(
                items
                    .into_iter()
                    .map(|v| exact_tree(v.get()))
                    .collect::<Result<_, _>>()?,
            )
        }
        Some(b'-' | b'0'..=b'9') => Value::Number(Number::from_string_unchecked(text.to_string())),
        _ => parse_checked(text)?,
    })
}

/// An object's members in order (repeated keys too), keys borrowed unless escaped, each
/// value as raw text.
struct Members<'a>(Vec<(Key<'a>, &'a RawValue)>);

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
                while let Some(k) = map.next_key::<Key<'de>>()? {
                    members.push((k, map.next_value()?));
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(V)
    }
}

// ------------------------------------------------------------------ lazy capture

/// A top-level field: its key and its value's raw text.
/// A top-level field: its key and its value's JSON text, validated when it was captured.
pub(crate) type Field<'a> = (Cow<'a, str>, &'a str);

/// What the lazy parse kept of a line.
pub(crate) struct Captured<'a> {
    /// The wanted top-level fields, in order, repeated keys too (the last one wins).
    pub(crate) fields: Vec<Field<'a>>,
    /// False for a line that is a JSON value other than an object.
    pub(crate) object: bool,
}

/// Validates a whole line as an event, keeping the raw text of the wanted top-level
/// keys only. It rejects exactly what `tree` rejects, with `tree`'s message, so the
/// reason and message do not depend on the fields a pipeline reads.
pub(crate) fn capture<'a>(text: &'a str, want: &[Box<str>], all: bool) -> Result<Captured<'a>, JsonError> {
    match scan::capture(text, want, None, all) {
        Some(c) => Ok(c),
        None => capture_checked(text, want, all),
    }
}

/// [`capture`], and the line's [`Tape`] from the same pass when the fast path decides it.
pub(crate) fn capture_with_tape<'a>(
    text: &'a str,
    want: &[Box<str>],
    all: bool,
) -> Result<(Captured<'a>, Option<Tape>), JsonError> {
    let mut b = tape::Builder::new(text);
    match scan::capture_shaped(text, want, None, all, &mut b) {
        Some(c) => Ok((c, Some(b.finish()))),
        None => {
            b.finish();
            Ok((capture_checked(text, want, all)?, None))
        }
    }
}

/// [`capture`] through `serde_json`, for what the fast path leaves to it.
fn capture_checked<'a>(text: &'a str, want: &[Box<str>], all: bool) -> Result<Captured<'a>, JsonError> {
    match capture_fields(text, want, None, all) {
        Ok(c) => check_lazy(text).map(|()| c),
        Err(e) => Err(tree(text).err().unwrap_or(e)),
    }
}

/// The fast path's answer for `text` against `serde_json`'s (for tests and fuzzing): an
/// error when it accepted what `serde_json` rejects or captured other fields. It may
/// decline what `serde_json` accepts; `serde_json` then decides.
pub(crate) fn fast_path_agrees(text: &str, want: &[Box<str>], all: bool) -> Result<(), String> {
    let Some(fast) = scan::capture(text, want, None, all) else {
        return Ok(());
    };
    match capture_fields(text, want, None, all).and_then(|c| check_lazy(text).map(|()| c)) {
        Err(e) => Err(format!("accepted what serde_json rejects ({}): {text:?}", e.message)),
        Ok(full) if full.fields != fast.fields || full.object != fast.object => Err(format!(
            "captured {:?}, serde_json {:?}: {text:?}",
            fast.fields, full.fields
        )),
        Ok(_) => Ok(()),
    }
}

/// Whether the decode-time check's fast path accepts `text`, capturing nothing: true only
/// for valid lines. False for every invalid line and for the few valid ones it leaves to
/// `serde_json`; the caller reads those in full, which finds the error only once.
pub(crate) fn is_event(text: &str) -> bool {
    scan::capture(text, &[], None, false).is_some()
}

/// The raw value of `key` in an object's JSON text (the last one if repeated).
pub(crate) fn raw_field<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let c = match scan::capture(text, &[], Some(key), false) {
        Some(c) => c,
        None => capture_fields(text, &[], Some(key), false).ok()?,
    };
    c.fields.last().map(|(_, r)| *r)
}

fn capture_fields<'a>(
    text: &'a str,
    want: &[Box<str>],
    one: Option<&str>,
    all: bool,
) -> Result<Captured<'a>, JsonError> {
    // Values are skipped or captured without recursion, so serde_json's limit never applies.
    let mut de = serde_json::Deserializer::from_str(text);
    let c = Capture { want, one, all }
        .deserialize(&mut de)
        .map_err(JsonError::serde)?;
    de.end().map_err(JsonError::serde)?;
    Ok(c)
}

/// The key `serde_json` uses to pass an arbitrary-precision number through a map.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

struct Capture<'w> {
    want: &'w [Box<str>],
    one: Option<&'w str>,
    /// Every field is wanted.
    all: bool,
}

impl<'de> DeserializeSeed<'de> for Capture<'_> {
    type Value = Captured<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn not_object<'a>() -> Captured<'a> {
    Captured {
        fields: Vec::new(),
        object: false,
    }
}

macro_rules! not_an_object {
    ($($name:ident: $t:ty),*) => {$(
        fn $name<E: de::Error>(self, _: $t) -> Result<Self::Value, E> {
            Ok(not_object())
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
                return Ok(not_object());
            }
            if self.all || self.one == Some(&*key.0) || self.want.iter().any(|w| **w == *key.0) {
                fields.push((key.0, map.next_value::<&'de RawValue>()?.get()));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Captured { fields, object: true })
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(not_object())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(not_object())
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

// ------------------------------------------------------------------ strings

/// The value of a JSON string token (quotes included), borrowed unless it has escapes.
/// Total: an escape that is not valid (a lone surrogate, which the decode-time check
/// rejects before any event is read) becomes U+FFFD, as in jq.
pub(crate) fn unquote(token: &str) -> Cow<'_, str> {
    let inner = token
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(token);
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let esc = &rest[i + 1..];
        let (ch, used) = unescape(esc.as_bytes());
        out.push(ch);
        rest = &esc[used..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// One escape after its backslash: the character and how many bytes it used.
fn unescape(esc: &[u8]) -> (char, usize) {
    let simple = match esc.first() {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => return unescape_u(esc),
        // Not an escape: the backslash stands for itself.
        _ => return ('\\', 0),
    };
    (simple, 1)
}

fn unescape_u(esc: &[u8]) -> (char, usize) {
    let Some(n) = hex4(esc, 1) else { return ('\\', 0) };
    if (0xD800..=0xDBFF).contains(&n) && esc.get(5..7) == Some(b"\\u") {
        if let Some(low @ 0xDC00..=0xDFFF) = hex4(esc, 7) {
            let c = 0x10000 + ((n - 0xD800) << 10) + (low - 0xDC00);
            return (char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER), 11);
        }
    }
    (char::from_u32(n).unwrap_or(char::REPLACEMENT_CHARACTER), 5)
}

// ------------------------------------------------------------------ writing

/// Where JSON text is written: bytes for output, a string for held text.
pub(crate) trait Out {
    fn put(&mut self, s: &str);
}

impl Out for Vec<u8> {
    fn put(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
}

impl Out for String {
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
}

/// Writes `s` as a JSON string with `serde_json`'s minimal escapes: `"`, `\` and
/// control characters only.
pub(crate) fn write_str<O: Out>(out: &mut O, s: &str) {
    out.put("\"");
    write_str_body(out, s);
    out.put("\"");
}

/// `write_str` without the quotes.
fn write_str_body<O: Out>(out: &mut O, s: &str) {
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.put(&s[start..i]);
        if short.is_empty() {
            out.put(&format!("\\u00{b:02x}"));
        } else {
            out.put(short);
        }
        start = i + 1;
    }
    out.put(&s[start..]);
}

/// Writes a string token of valid JSON text with minimal escapes, rewriting only the
/// escapes `serde_json` would not write (`\/`, most `\u`), without building the string.
fn rewrite_escapes<O: Out>(token: &str, out: &mut O) {
    let b = token.as_bytes();
    let (mut i, mut run) = (0, 0);
    while let Some(at) = b
        .get(i..)
        .and_then(|rest| memchr::memchr(b'\\', rest))
        .map(|off| i + off)
    {
        let minimal = matches!(b.get(at + 1), Some(b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f'));
        let (ch, used) = unescape(&b[at + 1..]);
        if minimal || used == 0 {
            i = at + 1 + used.max(1);
            continue;
        }
        out.put(&token[run..at]);
        write_str_body(out, ch.encode_utf8(&mut [0; 4]));
        run = at + 1 + used;
        i = run;
    }
    out.put(&token[run..]);
}

/// Writes a tree as compact JSON text, exactly as `serde_json` does.
pub(crate) fn write_value<O: Out>(out: &mut O, v: &Value) {
    match v {
        Value::Null => out.put("null"),
        Value::Bool(b) => out.put(if *b { "true" } else { "false" }),
        Value::Number(n) => out.put(n.as_str()),
        Value::String(s) => write_str(out, s),
        Value::Array(a) => {
            out.put("[");
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.put(",");
                }
                write_value(out, item);
            }
            out.put("]");
        }
        Value::Object(m) => {
            out.put("{");
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.put(",");
                }
                write_str(out, k);
                out.put(":");
                write_value(out, item);
            }
            out.put("}");
        }
    }
}

/// A tree as compact JSON text.
pub(crate) fn to_string(v: &Value) -> String {
    let mut s = String::new();
    write_value(&mut s, v);
    s
}

/// About how long a tree's compact JSON text is (escapes not counted), or `None` once that
/// passes `limit`: the walk stops there, so it costs little more than `limit` bytes' worth.
pub(crate) fn text_len_within(v: &Value, limit: usize) -> Option<usize> {
    let len = match v {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(n) => n.as_str().len(),
        Value::String(s) => s.len() + 2,
        Value::Array(a) => {
            let mut len = a.len() + 1;
            for item in a {
                len += text_len_within(item, limit.checked_sub(len)?)?;
            }
            len
        }
        Value::Object(m) => {
            let mut len = m.len() * 4 + 1;
            for (k, item) in m {
                len += k.len();
                len += text_len_within(item, limit.checked_sub(len)?)?;
            }
            len
        }
    };
    (len <= limit).then_some(len)
}

/// How many levels of arrays and objects a tree nests.
pub(crate) fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// A set of an object's keys, kept as a list while it is small (most objects' keys) and as a
/// hash set past that, so that objects with many members take time in proportion to them.
#[derive(Debug)]
pub(crate) struct KeySet<K> {
    few: Vec<K>,
    many: Option<HashSet<K>>,
}

impl<K> Default for KeySet<K> {
    fn default() -> KeySet<K> {
        KeySet {
            few: Vec::new(),
            many: None,
        }
    }
}

impl<K: std::hash::Hash + Eq> KeySet<K> {
    /// Adds `key`; false when it is in the set already.
    pub(crate) fn insert(&mut self, key: K) -> bool {
        if let Some(set) = &mut self.many {
            return set.insert(key);
        }
        if self.few.contains(&key) {
            return false;
        }
        self.few.push(key);
        if self.few.len() > 32 {
            self.many = Some(self.few.drain(..).collect());
        }
        true
    }
}

/// An object in `text` repeats a key: its text cannot be copied as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DuplicateKey;

/// Rewrites valid JSON text as `write_value` would write its tree: no whitespace,
/// minimal escapes, numbers as written. A repeated key is an error, because the
/// tree keeps only the last value (at the first one's place), so the caller builds
/// the tree instead.
pub(crate) fn canonical<O: Out>(text: &str, out: &mut O) -> Result<(), DuplicateKey> {
    let b = text.as_bytes();
    let mut keys = KeyStack::default();
    let (mut i, mut run) = (0, 0);
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' => {
                out.put(&text[run..i]);
                run = i + 1;
            }
            b'"' => {
                let (end, escaped) = string_end(b, i);
                let token = &text[i..end];
                keys.string(token, escaped)?;
                if escaped {
                    out.put(&text[run..i]);
                    rewrite_escapes(token, out);
                    run = end;
                }
                i = end;
                continue;
            }
            b'{' => keys.open(true),
            b'[' => keys.open(false),
            b'}' | b']' => keys.close(),
            b',' => keys.after_comma(),
            b':' => keys.after_colon(),
            _ => {}
        }
        i += 1;
    }
    out.put(&text[run..]);
    Ok(())
}

/// The element of a valid JSON array's text that starts at or after `at` (`at` 1 for the
/// first), and where to look for the next one; `None` past the last.
pub(crate) fn next_element(array: &str, at: usize) -> Option<(&str, usize)> {
    let b = array.as_bytes();
    let start = at
        + b.get(at..)?
            .iter()
            .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b','))?;
    let mut depth = 0usize;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = string_end(b, i).0;
                continue;
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' if depth == 0 => break,
            b']' | b'}' => depth -= 1,
            b',' if depth == 0 => break,
            _ => {}
        }
        i += 1;
    }
    let element = array[start..i].trim_end_matches([' ', '\t', '\n', '\r']);
    (!element.is_empty()).then_some((element, i))
}

/// Writes text that passed the decode-time check as its tree would be written: canonical,
/// and where an object repeats a key, through the tree (which keeps the last value, in the
/// first one's place).
pub(crate) fn write_checked(text: &str, out: &mut String) {
    let at = out.len();
    if canonical(text, out).is_err() {
        out.truncate(at);
        write_value(out, &checked_tree(text).unwrap_or(Value::Null));
    }
}

/// Valid JSON text as [`write_checked`] writes it: on one line.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    write_checked(text, &mut out);
    out
}

/// The end (after the closing quote) of the string token starting at `start`, and
/// whether it has an escape. Inlined: `canonical` spends a quarter of `set`'s time here
/// (measured: 7% slower called).
#[inline(always)]
pub(crate) fn string_end(b: &[u8], start: usize) -> (usize, bool) {
    let (mut i, mut escaped) = (start + 1, false);
    while let Some(off) = b.get(i..).and_then(scan::special) {
        let at = i + off;
        match b[at] {
            b'"' => return (at + 1, escaped),
            b'\\' => {
                escaped = true;
                i = at + 2;
            }
            // A control character, which only text that is not JSON holds.
            _ => i = at + 1,
        }
    }
    (b.len(), escaped)
}

/// The keys of the objects `canonical` is inside, innermost last, in one buffer.
#[derive(Default)]
struct KeyStack<'a> {
    keys: Vec<Cow<'a, str>>,
    frames: Vec<Frame<'a>>,
}

/// An open array or object: where its keys start, and a set once it has many.
struct Frame<'a> {
    start: usize,
    object: bool,
    expect_key: bool,
    many: Option<HashSet<Cow<'a, str>>>,
}

impl<'a> KeyStack<'a> {
    fn open(&mut self, object: bool) {
        self.frames.push(Frame {
            start: self.keys.len(),
            object,
            expect_key: object,
            many: None,
        });
    }

    fn close(&mut self) {
        if let Some(f) = self.frames.pop() {
            self.keys.truncate(f.start);
        }
    }

    fn after_comma(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            f.expect_key = f.object;
        }
    }

    fn after_colon(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            f.expect_key = false;
        }
    }

    /// A string token: a key if the innermost object expects one.
    fn string(&mut self, token: &'a str, escaped: bool) -> Result<(), DuplicateKey> {
        let Some(f) = self.frames.last_mut().filter(|f| f.expect_key) else {
            return Ok(());
        };
        let key = match escaped {
            true => unquote(token),
            false => Cow::Borrowed(token.get(1..token.len() - 1).unwrap_or(token)),
        };
        let fresh = match &mut f.many {
            Some(set) => set.insert(key),
            None if self.keys[f.start..].contains(&key) => false,
            None => {
                self.keys.push(key);
                if self.keys.len() - f.start > 32 {
                    f.many = Some(self.keys[f.start..].iter().cloned().collect());
                }
                true
            }
        };
        if fresh { Ok(()) } else { Err(DuplicateKey) }
    }
}

#[cfg(test)]
mod tests;
