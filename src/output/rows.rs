//! Records as rows of cells: flattening to `a.b` columns, and the `csv`, `tsv` and `logfmt` formats.

use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead, Seek, Write};

/// The text of one cell. The variant is kept so that `table` can right-align numbers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Cell {
    /// `null`, or a column the record does not have: an empty cell.
    #[default]
    Null,
    Bool(bool),
    /// A number with its exact source text (`1.0` stays `1.0`, big integers keep every digit).
    Number(String),
    /// A string, as itself: no quotes, no escapes.
    Text(String),
    /// An array or an empty object, as compact JSON.
    Json(String),
}

impl Cell {
    /// The cell of a value. `flatten` never passes a non-empty object; if given one it becomes JSON.
    pub(crate) fn from_value(v: &Value) -> Cell {
        match v {
            Value::Null => Cell::Null,
            Value::Bool(b) => Cell::Bool(*b),
            Value::Number(n) => Cell::Number(n.as_str().to_owned()),
            Value::String(s) => Cell::Text(s.clone()),
            Value::Array(_) | Value::Object(_) => Cell::Json(v.to_string()),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            Cell::Null => "",
            Cell::Bool(true) => "true",
            Cell::Bool(false) => "false",
            Cell::Number(s) | Cell::Text(s) | Cell::Json(s) => s,
        }
    }

    pub(crate) fn is_number(&self) -> bool {
        matches!(self, Cell::Number(_))
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Calls `f` with each leaf of `v` and its dotted path (`value` for a leaf at the top); returns
/// whether any key contained a `.`, the only way two different paths can flatten to one name.
fn visit(v: &Value, path: &mut String, top: bool, f: &mut impl FnMut(&str, &Value)) -> bool {
    let mut dotted = false;
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, child) in map {
                let len = path.len();
                if !top {
                    path.push('.');
                }
                path.push_str(k);
                dotted |= k.contains('.');
                dotted |= visit(child, path, false, f);
                path.truncate(len);
            }
        }
        _ => f(if top { "value" } else { path }, v),
    }
    dotted
}

fn is_empty_object(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.is_empty())
}

/// Calls `f` with each column name and leaf of a record, as [`flatten`] names them (`{}` has none).
pub(crate) fn visit_leaves(v: &Value, f: &mut impl FnMut(&str, &Value)) {
    if !is_empty_object(v) {
        visit(v, &mut String::new(), true, f);
    }
}

/// A record's columns: nested objects flattened to `a.b` keys in order; arrays and scalars are cells.
///
/// A record that is not an object is one column named `value`; `{}` has no columns. When a key
/// contains a dot, `{"a.b":1,"a":{"b":2}}` gives the name `a.b` twice: the later value wins and
/// stays at the place where the name was first seen, as it would in a column of `Rows`.
/// Also says whether two fields went to one column (the later kept).
pub(crate) fn flatten(v: &Value) -> (Vec<(String, Cell)>, bool) {
    if is_empty_object(v) {
        return (Vec::new(), false);
    }
    let mut cols: Vec<(String, Cell)> = Vec::new();
    let dotted = visit(v, &mut String::new(), true, &mut |k, leaf| {
        cols.push((k.to_owned(), Cell::from_value(leaf)));
    });
    let mut merged = false;
    if dotted {
        let mut first: HashMap<String, usize> = HashMap::new();
        let mut out: Vec<(String, Cell)> = Vec::with_capacity(cols.len());
        for (k, cell) in cols {
            match first.get(&k) {
                Some(&i) => {
                    out[i].1 = cell;
                    merged = true;
                }
                None => {
                    first.insert(k.clone(), out.len());
                    out.push((k, cell));
                }
            }
        }
        cols = out;
    }
    (cols, merged)
}

/// Collects records, tracking columns in first-seen order across all records.
///
/// csv, tsv and table need every record before the header can be written, so they buffer here:
/// in memory up to [`HELD_MAX`] bytes, then as row lines in a temporary file, read back when the
/// rows are written. Memory stays bounded however many rows there are.
#[derive(Debug)]
pub(crate) struct Rows {
    columns: Vec<String>,
    index: HashMap<String, usize>,
    /// Cells by column index; a record is as long as the column list was when it came, so
    /// columns first seen later are missing from it and read as `Cell::Null`.
    records: Vec<Vec<Cell>>,
    /// About how many bytes `records` holds, and how many it may.
    held: usize,
    budget: usize,
    /// The records after those in memory, when there were too many.
    spill: Option<Spill>,
    /// Per column, the last record that had a cell in it (records are numbered from 1).
    filled: Vec<u64>,
    /// Records taken so far.
    taken: u64,
    /// A column two cells of one record flattened to (a nested `a.b` and a key `"a.b"`), and
    /// how many records had such a pair: the later cell is the one kept.
    shared: Option<(String, u64)>,
}

/// Row lines in a temporary file (deleted when closed), each with its newline.
#[derive(Debug)]
struct Spill {
    file: Result<std::fs::File, io::Error>,
    buf: Vec<u8>,
}

/// The bytes of records held in memory before the rest go to a temporary file.
const HELD_MAX: usize = 16 << 20;

/// Spilled row lines are written in pieces of about this size.
const SPILL_PIECE: usize = 1 << 20;

impl Default for Rows {
    fn default() -> Self {
        Rows {
            columns: Vec::new(),
            index: HashMap::new(),
            records: Vec::new(),
            held: 0,
            budget: HELD_MAX,
            spill: None,
            filled: Vec::new(),
            taken: 0,
            shared: None,
        }
    }
}

impl Spill {
    fn new() -> Spill {
        Spill {
            file: tempfile::tempfile(),
            buf: Vec::new(),
        }
    }

    fn push(&mut self, line: &[u8]) {
        self.buf.extend_from_slice(line);
        self.buf.push(b'\n');
        if self.buf.len() >= SPILL_PIECE {
            self.write_buf();
        }
    }

    /// Writes the buffered lines; the first failure is kept for [`Rows::seal`].
    fn write_buf(&mut self) {
        if let Ok(file) = &mut self.file
            && let Err(e) = file.write_all(&self.buf)
        {
            self.file = Err(e);
        }
        self.buf.clear();
    }
}

static NULL: Cell = Cell::Null;

impl Rows {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    #[cfg(test)]
    pub(crate) fn push(&mut self, v: &Value) {
        let mut line = Vec::new();
        super::rowline::write(v, &mut line);
        self.push_line(&line[..line.len() - 1]);
    }

    /// A column two cells of one record went to, and how many records had such a pair.
    pub(crate) fn shared_column(&self) -> Option<(&str, u64)> {
        self.shared.as_ref().map(|(name, n)| (name.as_str(), *n))
    }

    /// Adds the record of one row line (see [`super::rowline`]), without its newline.
    pub(crate) fn push_line(&mut self, line: &[u8]) {
        if self.spill.is_none() && self.held > self.budget {
            self.spill = Some(Spill::new());
        }
        let mut rec = vec![Cell::Null; self.columns.len()];
        self.taken += 1;
        let (columns, index, filled, taken) = (&mut self.columns, &mut self.index, &mut self.filled, self.taken);
        let mut shared = None;
        super::rowline::read(line, &mut |k, cell| {
            let i = match index.get(k) {
                Some(&i) => i,
                None => {
                    index.insert(k.to_owned(), columns.len());
                    columns.push(k.to_owned());
                    rec.push(Cell::Null);
                    filled.push(0);
                    columns.len() - 1
                }
            };
            if filled[i] == taken {
                shared.get_or_insert(i);
            }
            filled[i] = taken;
            rec[i] = cell;
        });
        if let Some(i) = shared {
            let entry = self.shared.get_or_insert_with(|| (self.columns[i].clone(), 0));
            entry.1 += 1;
        }
        match &mut self.spill {
            Some(spill) => spill.push(line),
            None => {
                self.held += line.len() + std::mem::size_of_val(rec.as_slice());
                self.records.push(rec);
            }
        }
    }

    /// Ends the adding of records: the spilled ones are all in their file, or the error that
    /// kept them from it is returned.
    pub(crate) fn seal(&mut self) -> io::Result<()> {
        let Some(spill) = &mut self.spill else { return Ok(()) };
        spill.write_buf();
        match &mut spill.file {
            Ok(file) => file.flush(),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!("cannot keep the rows in a temporary file (set TMPDIR to a writable directory): {e}"),
            )),
        }
    }

    pub(crate) fn columns(&self) -> &[String] {
        &self.columns
    }

    /// How many records were added, spilled ones too.
    pub(crate) fn taken(&self) -> u64 {
        self.taken
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Calls `f` with each record's cells in turn, one per column, `Cell::Null` where the
    /// record has no such column. Spilled records are read back ([`Rows::seal`] first).
    pub(crate) fn each(&self, mut f: impl FnMut(&mut dyn Iterator<Item = &Cell>) -> io::Result<()>) -> io::Result<()> {
        let n = self.columns.len();
        for r in &self.records {
            f(&mut r.iter().chain(std::iter::repeat_n(&NULL, n - r.len())))?;
        }
        let Some(spill) = &self.spill else { return Ok(()) };
        let mut file = match &spill.file {
            Ok(file) => file.try_clone()?,
            Err(e) => return Err(io::Error::new(e.kind(), e.to_string())),
        };
        file.seek(io::SeekFrom::Start(0))?;
        let mut reader = io::BufReader::new(file);
        let (mut line, mut rec) = (Vec::new(), vec![Cell::Null; n]);
        while reader.read_until(b'\n', &mut line)? > 0 {
            rec.fill(Cell::Null);
            super::rowline::read(line.strip_suffix(b"\n").unwrap_or(&line), &mut |k, cell| {
                if let Some(&i) = self.index.get(k) {
                    rec[i] = cell;
                }
            });
            f(&mut rec.iter())?;
            line.clear();
        }
        Ok(())
    }
}

/// Keeps the kind of an I/O error (a broken pipe must stay one); `From<csv::Error>` would not.
fn io_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Writes a header row, then one row per record; missing cells are empty.
///
/// With any delimiter but `b'\t'` this is RFC 4180 through the `csv` crate: a field is quoted only
/// when it holds the delimiter, a quote, CR or LF (quotes doubled inside); leading and trailing
/// spaces are data (RFC 4180 §2.4) and are written as they are; a lone empty field is `""` so the
/// line is not blank. Lines end in `\n`.
///
/// `b'\t'` gives TSV in the Linear TSV convention (the TEXT format of PostgreSQL and MySQL): no
/// quoting at all, and a backslash, tab, newline or carriage return in a cell is written as `\\`,
/// `\t`, `\n`, `\r`. Every record is then exactly one line that `cut`, `sort` and `grep` handle,
/// and the escaping is reversible. Miller's TSV writes `\t` and `\n` the same way.
///
/// Nothing is written when there are no columns; without `header`, only the records.
pub(crate) fn write_csv(rows: &Rows, delimiter: u8, header: bool, out: &mut dyn Write) -> io::Result<()> {
    if rows.columns().is_empty() {
        return Ok(());
    }
    if delimiter == b'\t' {
        return write_tsv(rows, header, out);
    }
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    if header {
        w.write_record(rows.columns()).map_err(io_error)?;
    }
    rows.each(|rec| w.write_record(rec.map(Cell::as_str)).map_err(io_error))?;
    w.flush()
}

/// TSV is written by hand: with fields escaped nothing needs quoting, and the `csv` crate would
/// still write `""` for a record of one empty field.
fn write_tsv(rows: &Rows, header: bool, out: &mut dyn Write) -> io::Result<()> {
    let mut line = Vec::new();
    let mut write_line = |fields: &mut dyn Iterator<Item = &str>| {
        line.clear();
        for (i, f) in fields.enumerate() {
            if i > 0 {
                line.push(b'\t');
            }
            push_tsv_escaped(f, &mut line);
        }
        line.push(b'\n');
        out.write_all(&line)
    };
    if header {
        write_line(&mut rows.columns().iter().map(String::as_str))?;
    }
    rows.each(|rec| write_line(&mut rec.map(Cell::as_str)))
}

fn push_tsv_escaped(s: &str, out: &mut Vec<u8>) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

/// Writes one record as a logfmt line: `key=value` pairs separated by spaces, flattened keys.
///
/// A value is written bare unless it is empty or holds whitespace, a control character, `"` or
/// `=`; then it is quoted and escaped as a JSON string (`\"`, `\\`, `\n`, `\u001b`…), which is what
/// logfmt parsers read back. So `""` stays distinguishable from null, which is `key=` with nothing.
/// Keys cannot be quoted in logfmt: whitespace, control characters, `"` and `=` in a key become
/// `_`, and an empty key is written as `_`. What was changed is returned, for a warning at the
/// end. The line ends with `\n`.
pub(crate) fn write_logfmt(v: &Value, out: &mut Vec<u8>) -> KeyChanges {
    let mut renamed = false;
    let (cells, merged) = flatten(v);
    for (i, (k, cell)) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if k.is_empty() {
            out.push(b'_');
            renamed = true;
        }
        for c in k.chars() {
            if needs_logfmt_quote(c) {
                out.push(b'_');
                renamed = true;
            } else {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        out.push(b'=');
        match cell.as_str() {
            _ if *cell == Cell::Null => {}
            text if text.is_empty() || text.chars().any(needs_logfmt_quote) => {
                serde_json::to_writer(&mut *out, text).expect("writing a string to a Vec cannot fail");
            }
            text => out.extend_from_slice(text.as_bytes()),
        }
    }
    out.push(b'\n');
    KeyChanges { renamed, merged }
}

/// What `logfmt` had to change in an event's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyChanges {
    /// A key was written with `_` in place of what logfmt cannot write, so two keys may read
    /// as one.
    pub renamed: bool,
    /// Two fields flatten to one key (a nested `a.b` and a key `"a.b"`): the later was written.
    pub merged: bool,
}

fn needs_logfmt_quote(c: char) -> bool {
    c.is_whitespace() || c.is_control() || c == '"' || c == '='
}

#[cfg(test)]
mod tests;
