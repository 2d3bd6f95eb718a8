//! Row lines: how the tabular formats (csv, tsv, table, markdown) hand an event from the place
//! that has its parsed value (a worker, or the chain's end) to stdout, which gathers the rows.
//!
//! A row line is the event already flattened into cells, one line of bytes: per cell its column
//! name, a unit separator (0x1f), a kind byte, the cell's text and a record separator (0x1e).
//! In names and texts, newline, 0x10, 0x1e and 0x1f are written as 0x10 followed by `n`, `0`,
//! `r`, `u`, so a row line never holds a newline and splits back without a JSON parser.

use super::rows::{Cell, visit_leaves};
use crate::json::Leaf;
use serde_json::Value;
use std::borrow::Cow;

const UNIT: u8 = 0x1f;
const RECORD: u8 = 0x1e;
const ESCAPE: u8 = 0x10;

/// Appends `v` as a row line, with its newline.
pub(crate) fn write(v: &Value, out: &mut Vec<u8>) {
    visit_leaves(v, &mut |name, leaf| match leaf {
        Value::Null => push_cell(name, b'0', "", out),
        Value::Bool(b) => push_cell(name, b'b', if *b { "true" } else { "false" }, out),
        Value::Number(n) => push_cell(name, b'n', n.as_str(), out),
        Value::String(s) => push_cell(name, b't', s, out),
        Value::Array(_) | Value::Object(_) => push_cell(name, b'j', Cell::from_value(leaf).as_str(), out),
    });
    out.push(b'\n');
}

/// Appends the event whose JSON text is `text` as a row line, with its newline, flattened
/// straight from the text; false (and nothing appended) when the text must go through a tree
/// (an object that repeats a key).
pub(crate) fn write_text(text: &str, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    let flat = crate::json::flatten_text(text, &mut |name, leaf| match leaf {
        Leaf::Null => push_cell(name, b'0', "", out),
        Leaf::Bool(b) => push_cell(name, b'b', if b { "true" } else { "false" }, out),
        Leaf::Number(n) => push_cell(name, b'n', n, out),
        Leaf::Str(s) => push_cell(name, b't', &s, out),
        Leaf::Json(j) => push_cell(name, b'j', &j, out),
    });
    if flat.is_err() {
        out.truncate(start);
        return false;
    }
    out.push(b'\n');
    true
}

fn push_cell(name: &str, kind: u8, text: &str, out: &mut Vec<u8>) {
    push_escaped(name.as_bytes(), out);
    out.push(UNIT);
    out.push(kind);
    push_escaped(text.as_bytes(), out);
    out.push(RECORD);
}

fn push_escaped(bytes: &[u8], out: &mut Vec<u8>) {
    // Four searches in std's optimised memchr beat one pass that looks for four bytes.
    if ![b'\n', ESCAPE, RECORD, UNIT].iter().any(|b| bytes.contains(b)) {
        out.extend_from_slice(bytes);
        return;
    }
    for &b in bytes {
        match b {
            b'\n' => out.extend_from_slice(&[ESCAPE, b'n']),
            ESCAPE => out.extend_from_slice(&[ESCAPE, b'0']),
            RECORD => out.extend_from_slice(&[ESCAPE, b'r']),
            UNIT => out.extend_from_slice(&[ESCAPE, b'u']),
            b => out.push(b),
        }
    }
}

fn unescape(bytes: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(ESCAPE, bytes).is_none() {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut it = bytes.iter();
    while let Some(&b) = it.next() {
        if b != ESCAPE {
            out.push(b);
            continue;
        }
        out.push(match it.next() {
            Some(b'n') => b'\n',
            Some(b'r') => RECORD,
            Some(b'u') => UNIT,
            _ => ESCAPE,
        });
    }
    Cow::Owned(out)
}

/// Bytes [`write`] made from a string: valid UTF-8, which is checked for the type system.
fn str_of(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

fn text(bytes: &[u8]) -> String {
    match unescape(bytes) {
        Cow::Borrowed(b) => str_of(b).into_owned(),
        Cow::Owned(b) => String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// Calls `f` with each cell of one row line (without its newline), as [`write`] wrote them.
pub(crate) fn read(line: &[u8], f: &mut impl FnMut(&str, Cell)) {
    let mut start = 0;
    for end in memchr::memchr_iter(RECORD, line) {
        let field = &line[start..end];
        start = end + 1;
        let Some(at) = memchr::memchr(UNIT, field) else {
            continue;
        };
        let name = unescape(&field[..at]);
        let name = str_of(&name);
        let (kind, rest) = field[at + 1..].split_first().map_or((b'0', &[][..]), |(k, r)| (*k, r));
        let cell = match kind {
            b'b' => Cell::Bool(rest == b"true"),
            b'n' => Cell::Number(text(rest)),
            b't' => Cell::Text(text(rest)),
            b'j' => Cell::Json(text(rest)),
            _ => Cell::Null,
        };
        f(&name, cell);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(json: &str) -> Vec<(String, Cell)> {
        let v: Value = serde_json::from_str(json).unwrap();
        let mut line = Vec::new();
        write(&v, &mut line);
        let mut from_text = Vec::new();
        assert!(write_text(json, &mut from_text));
        assert_eq!(from_text, line, "from the text as from the tree");
        assert_eq!(memchr::memchr_iter(b'\n', &line).count(), 1, "one line");
        assert_eq!(line.last(), Some(&b'\n'));
        let mut cells = Vec::new();
        read(&line[..line.len() - 1], &mut |k, c| cells.push((k.to_owned(), c)));
        cells
    }

    #[test]
    fn cells_come_back_with_their_kinds_and_flattened_names() {
        let cells = round_trip(r#"{"a":1.50,"b":{"c":"x","d":null},"e":true,"f":[1,2],"g":{}}"#);
        assert_eq!(
            cells,
            [
                ("a".into(), Cell::Number("1.50".into())),
                ("b.c".into(), Cell::Text("x".into())),
                ("b.d".into(), Cell::Null),
                ("e".into(), Cell::Bool(true)),
                ("f".into(), Cell::Json("[1,2]".into())),
                ("g".into(), Cell::Json("{}".into())),
            ]
        );
    }

    #[test]
    fn separators_newlines_and_the_escape_byte_survive_in_names_and_texts() {
        let cells = round_trip(r#"{"k\n\u001f\u001e\u0010":"l1\nl2\u001f\u001e\u0010\\n"}"#);
        assert_eq!(
            cells,
            [(
                "k\n\u{1f}\u{1e}\u{10}".into(),
                Cell::Text("l1\nl2\u{1f}\u{1e}\u{10}\\n".into())
            )]
        );
    }

    #[test]
    fn text_that_repeats_a_key_is_left_to_the_tree() {
        let mut out = b"kept".to_vec();
        assert!(!write_text(r#"{"a":1,"a":2}"#, &mut out));
        assert_eq!(out, b"kept");
    }

    #[test]
    fn a_record_that_is_not_an_object_is_one_value_cell_and_empty_objects_have_none() {
        assert_eq!(round_trip(r#""hi""#), [("value".into(), Cell::Text("hi".into()))]);
        assert!(round_trip("{}").is_empty());
    }
}
