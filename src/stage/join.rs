//! `join FILE on EXPR [= EXPR] [as NAME]` (content enricher): a left join against a lookup
//! file read once when the pipeline is built, shared by every worker.
//!
//! - FILE is NDJSON (one object per line), or CSV with a header row when its name ends in
//!   `.csv`; CSV values that look like JSON numbers become numbers, as with `-i csv`.
//! - `on A = B`: A is evaluated on the event, B on each record; `on A` uses A for both.
//!   Keys are equal by value (`agg::key`: `1`, `1.0` and `1E0` are one key); a null or
//!   missing key matches nothing. When records repeat a key, the first one wins.
//! - The table keeps only the records that can match (the first of each key), each as its
//!   compact JSON text, read again for each event it enriches: it takes about the file's
//!   size in memory, not the many times that parsed records would, and at most
//!   `--memory-limit`.
//! - A match adds the record's fields to the event, overwriting fields of the same name
//!   (like jq's `. + $record`), or with `as NAME` puts the record at NAME. No match leaves
//!   the event unchanged; it passes on and is counted in `unmatched_join`.
//! - When no event matched, the end of the run says why, if it can: the types the keys had
//!   on each side (`uid` numbers against `id` strings), or a key no record had.

use super::{Describe, PerEvent, Step};
use crate::agg::key::write_canonical;
use crate::event::{Event, MAX_PAD, Reason, Rejection, write_path};
use crate::input::convert::ends_in_quotes;
use crate::json::{self, MAX_DEPTH};
use crate::lang::value::kind::{self, NUMBER, STRING};
use crate::lang::value::kind_names;
use crate::lang::{Env, Expr, Path, Val};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

#[derive(Debug, Clone)]
pub(crate) struct Join {
    file: String,
    on: Expr,
    key: Expr,
    name: Option<Path>,
    table: Arc<Lookup>,
    /// What the workers met, shared by every copy of the stage.
    met: Arc<Met>,
}

/// Whether some event found its record, and the types of the keys that found none.
#[derive(Debug, Default)]
struct Met {
    matched: AtomicBool,
    missed: AtomicU8,
}

/// The records of a lookup file that can match (the first of each key), indexed by the
/// canonical bytes of their keys.
#[derive(Debug, Default)]
pub(crate) struct Lookup {
    /// Each record's compact JSON text.
    records: Vec<Box<str>>,
    index: HashMap<Box<[u8]>, usize>,
    /// About how many bytes the table takes.
    held: usize,
    /// How deeply the deepest record nests.
    depth: usize,
    /// The types the records' keys had (see [`kind`]).
    kinds: u8,
}

impl Join {
    /// Reads and indexes FILE; the error names the file and, for bad content, the line.
    /// The file is held in memory: it may hold at most `limit` bytes.
    pub(crate) fn load(file: &str, on: Expr, key: &Expr, name: Option<Path>, limit: usize) -> Result<Join, String> {
        let bytes = crate::input::read_whole(file, limit).map_err(|e| {
            format!(
                "join: cannot read `{file}`: {}",
                crate::messages::io_at(std::path::Path::new(file), &e)
            )
        })?;
        let lower = file.to_ascii_lowercase();
        let plain = [".gz", ".zst", ".bz2", ".xz"]
            .iter()
            .find_map(|z| lower.strip_suffix(z));
        let mut table = Lookup::default();
        let env = Env::default();
        let mut add = |record| table.add(record, (key, &env), file, limit);
        if plain.unwrap_or(&lower).ends_with(".csv") {
            csv_records(file, &bytes, &mut add)?;
        } else {
            ndjson_records(file, &bytes, &mut add)?;
        }
        Ok(Join {
            file: file.to_string(),
            on,
            key: key.clone(),
            name,
            table: Arc::new(table),
            met: Arc::default(),
        })
    }

    pub(crate) fn apply<'a>(&self, ev: &mut Event<'a>, env: &Env) -> Step<'a> {
        let key = self.on.eval(ev, env);
        let Some(record) = self.table.get(&key) else {
            self.met.missed(&key);
            return Step::Unmatched;
        };
        self.met.matched();
        if !ev.is_object() {
            return dead(Reason::NotObject);
        }
        if self
            .name
            .as_ref()
            .is_some_and(|n| n.segs.len() + self.table.depth > MAX_DEPTH)
        {
            return dead(Reason::TooDeep);
        }
        let doc = match ev.doc_mut() {
            Ok(doc) => doc,
            Err(r) => return Step::Dead(r),
        };
        match (&self.name, doc) {
            (Some(name), doc) => {
                if let Err(reason) = write_path(doc, &name.segs, Value::Object(record), MAX_PAD) {
                    return dead(reason);
                }
            }
            (None, Value::Object(fields)) => fields.extend(record),
            (None, _) => return dead(Reason::NotObject),
        }
        Step::Pass
    }
}

impl Describe for Join {
    fn expressions(&self) -> Vec<&Expr> {
        vec![&self.on]
    }

    fn name(&self) -> &'static str {
        "join"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("no match: passes on, counted in unmatched_join")
    }

    /// Why no event matched, when none did but some had a key: the types on each side when
    /// they differ, with the conversion that makes them meet; a key no record had; or values
    /// that differ although the types agree.
    fn warning(&self) -> Option<String> {
        let missed = self.met.missed.load(Ordering::Relaxed);
        if self.met.matched.load(Ordering::Relaxed) || missed == 0 {
            return None;
        }
        let (on, key) = (side(&self.on), side(&self.key));
        let file = &self.file;
        let have = self.table.kinds;
        if have == 0 {
            return Some(format!(
                "join \"{file}\" matched no event: no record of the file has {key}"
            ));
        }
        if missed & have != 0 {
            // The types meet: the values do not.
            return Some(format!(
                "join \"{file}\" matched no event: no value of {on} in the events is a value of {key} in the file"
            ));
        }
        let mut w = format!(
            "join \"{file}\" matched no event: {on} was {} in the events, {key} {} in the file",
            kind_names(missed),
            kind_names(have)
        );
        let fix = match (missed, have) {
            (NUMBER, STRING) => Some(format!("str({on})")),
            (STRING, NUMBER) => Some(format!("to_number({on})")),
            _ => None,
        };
        if let (Some(fix), Expr::Path(_), Expr::Path(_)) = (fix, &self.on, &self.key) {
            let _ = write!(w, "; write on {fix} = {key}");
        }
        Some(w)
    }
}

impl PerEvent for Join {
    fn step<'a>(&self, ev: &mut Event<'a>, env: &Env) -> Step<'a> {
        self.apply(ev, env)
    }
}

/// An expression as a warning names it: a path as written.
fn side(e: &Expr) -> String {
    match e {
        Expr::Path(p) => p.to_string(),
        _ => "the key".to_string(),
    }
}

impl Met {
    fn matched(&self) {
        if !self.matched.load(Ordering::Relaxed) {
            self.matched.store(true, Ordering::Relaxed);
        }
    }

    /// Notes the type of a key that found no record; null keys match nothing by design.
    fn missed(&self, key: &Val) {
        let k = key.kind();
        if k != kind::NULL && self.missed.load(Ordering::Relaxed) & k == 0 {
            self.missed.fetch_or(k, Ordering::Relaxed);
        }
    }
}

fn dead<'a>(reason: Reason) -> Step<'a> {
    Step::Dead(Rejection::new(reason, reason.explain()))
}

/// What the table takes per record besides its text and key: their boxes, the index's entry.
const RECORD_OVERHEAD: usize = 64;

impl Lookup {
    /// Adds a record of `file` when it is the first with its key (`key`, evaluated on it in its
    /// environment); an error once the table would take more than `limit` bytes.
    fn add(&mut self, record: Map<String, Value>, key: (&Expr, &Env), file: &str, limit: usize) -> Result<(), String> {
        let (key, env) = key;
        let value = Value::Object(record);
        let text = json::to_string(&value);
        let depth = json::depth(&value);
        let ev = Event::derived(&text, value);
        let value = key.eval(&ev, env);
        let Some(bytes) = canonical(&value) else { return Ok(()) };
        self.kinds |= value.kind();
        if self.index.contains_key(bytes.as_slice()) {
            return Ok(());
        }
        self.held += text.len() + bytes.len() + RECORD_OVERHEAD;
        if self.held > limit {
            return Err(format!(
                "join: {file}: its records would take more than --memory-limit ({limit} bytes) in memory; raise --memory-limit, or keep only the records and fields the join needs"
            ));
        }
        self.depth = self.depth.max(depth);
        self.index.insert(bytes.into(), self.records.len());
        self.records.push(text.into());
        Ok(())
    }

    /// The record whose key is `key`, read from its text.
    fn get(&self, key: &Val) -> Option<Map<String, Value>> {
        let text = self.records.get(*self.index.get(canonical(key)?.as_slice())?)?;
        match json::tree(text) {
            Ok(Value::Object(record)) => Some(record),
            _ => None,
        }
    }
}

/// The canonical bytes of a key; `None` for null, which matches nothing.
fn canonical(v: &Val) -> Option<Vec<u8>> {
    if matches!(v, Val::Null) {
        return None;
    }
    let mut out = Vec::new();
    write_canonical(v, &mut out).ok()?;
    Some(out)
}

/// A record of a lookup file, as it is read.
type AddRecord<'a> = dyn FnMut(Map<String, Value>) -> Result<(), String> + 'a;

/// One object per non-blank line, each handed to `add`.
fn ndjson_records(file: &str, bytes: &[u8], add: &mut AddRecord) -> Result<(), String> {
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let at = |what: String| format!("join: {file}:{}: {what}", n + 1);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = if n == 0 {
            line.strip_prefix(crate::input::UTF8_BOM).unwrap_or(line)
        } else {
            line
        };
        let text = std::str::from_utf8(line).map_err(|e| at(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
        if text.trim().is_empty() {
            continue;
        }
        match json::tree(text).map_err(|e| at(format!("not valid JSON: {}", e.message)))? {
            Value::Object(m) => add(m)?,
            _ => return Err(at("a lookup record must be a JSON object".into())),
        }
    }
    Ok(())
}

/// A header row, then one object per row, each handed to `add`.
fn csv_records(file: &str, bytes: &[u8], add: &mut AddRecord) -> Result<(), String> {
    let bytes = bytes.strip_prefix(crate::input::UTF8_BOM).unwrap_or(bytes);
    // As `-i csv` reads rows: one with fewer fields lacks the missing keys, one with more
    // names the extra ones `_N`.
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    // The csv crate's line numbers count records, not lines, and its positions may be those
    // of the blank lines before a row: a row's line is counted from its first byte.
    let at = |p: Option<&csv::Position>| match p {
        Some(p) => {
            let from = usize::try_from(p.byte()).unwrap_or(usize::MAX).min(bytes.len());
            let blank = bytes[from..].iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
            let start = from + blank;
            format!(":{}", 1 + memchr::memchr_iter(b'\n', &bytes[..start]).count())
        }
        None => String::new(),
    };
    let error = |e: csv::Error| format!("join: {file}{}: {e}", at(e.position()));
    let not_utf8 = |p: Option<&csv::Position>| {
        format!(
            "join: {file}{}: the row is not valid UTF-8: convert the file first, such as with iconv -f latin1 -t UTF-8",
            at(p)
        )
    };
    let header = reader.byte_headers().map_err(error)?.clone();
    let mut last = header.position().cloned();
    let names = header.iter().map(|h| std::str::from_utf8(h).map(str::to_owned));
    let names: Vec<String> = names.collect::<Result<_, _>>().map_err(|_| not_utf8(last.as_ref()))?;
    let headers = crate::input::convert::unique_names(names.into_iter());
    for row in reader.byte_records() {
        let row = row.map_err(error)?;
        last = row.position().cloned();
        let names = crate::input::convert::row_names(&headers, row.len());
        let record = names
            .iter()
            .zip(row.iter())
            .map(|(h, v)| match std::str::from_utf8(v) {
                Ok(v) => Ok((h.clone(), crate::parse::typed(v))),
                Err(_) => Err(not_utf8(last.as_ref())),
            })
            .collect::<Result<_, _>>()?;
        add(record)?;
    }
    // A quote left open takes in every line after it: the table would lack them.
    if let Some(p) = last.filter(|p| {
        let from = usize::try_from(p.byte()).unwrap_or(usize::MAX);
        bytes.get(from..).is_some_and(|rest| ends_in_quotes(rest, b','))
    }) {
        return Err(format!(
            "join: {file}{}: a quote opened in this row never closes",
            at(Some(&p))
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Needs;
    use crate::event::Origin;
    use crate::lang::parser::parse_expr;

    fn expr(s: &str) -> Expr {
        parse_expr(s).expect("valid expression")
    }

    type Read = fn(&str, &[u8], &mut AddRecord) -> Result<(), String>;

    /// The records `read` finds in a lookup file, in order.
    fn records(read: Read, file: &str, bytes: &[u8]) -> Result<Vec<Map<String, Value>>, String> {
        let mut all = Vec::new();
        read(file, bytes, &mut |r| {
            all.push(r);
            Ok(())
        })?;
        Ok(all)
    }

    fn ndjson(file: &str, bytes: &[u8]) -> Result<Vec<Map<String, Value>>, String> {
        records(ndjson_records, file, bytes)
    }

    fn csv(file: &str, bytes: &[u8]) -> Result<Vec<Map<String, Value>>, String> {
        records(csv_records, file, bytes)
    }

    fn table(records: &str, key: &str, limit: usize) -> Result<Lookup, String> {
        let mut table = Lookup::default();
        for r in ndjson("t", records.as_bytes())? {
            table.add(r, (&expr(key), &Env::default()), "t", limit)?;
        }
        Ok(table)
    }

    fn join(records: &str, on: &str, key: &str, name: Option<&str>) -> Join {
        let table = table(records, key, usize::MAX).expect("valid records");
        let name = name.map(|n| match expr(n) {
            Expr::Path(p) => p,
            other => panic!("{other:?}"),
        });
        Join {
            file: "t".into(),
            on: expr(on),
            key: expr(key),
            name,
            table: Arc::new(table),
            met: Arc::default(),
        }
    }

    fn run(j: &Join, line: &str) -> String {
        let mut needs = Needs::default();
        j.needs(&mut needs);
        let mut ev = Event::parse(line, Origin::default(), &needs).expect("valid JSON");
        match j.apply(&mut ev, &Env::default()) {
            Step::Pass => ev.json_string(),
            Step::Unmatched => format!("unmatched {}", ev.json_string()),
            Step::Dead(r) => r.reason.name().to_string(),
            _ => "other".into(),
        }
    }

    const USERS: &str =
        "{\"id\":1,\"name\":\"ann\",\"v\":1}\n\n{\"id\":2,\"name\":\"bob\"}\n{\"id\":1.0,\"name\":\"dup\"}\n";

    #[test]
    fn a_match_merges_the_record_and_the_record_wins() {
        let j = join(USERS, "uid", "id", None);
        assert_eq!(
            run(&j, r#"{"uid":1E0,"v":0}"#),
            r#"{"uid":1E0,"v":1,"id":1,"name":"ann"}"#
        );
        assert_eq!(run(&j, r#"{"uid":3}"#), r#"unmatched {"uid":3}"#);
        assert_eq!(run(&j, r#"{"x":1}"#), r#"unmatched {"x":1}"#);
        assert_eq!(run(&j, "[1]"), "unmatched [1]");
    }

    #[test]
    fn as_name_nests_the_record() {
        let j = join(USERS, "u.id", "id", Some("user"));
        assert_eq!(
            run(&j, r#"{"u":{"id":2}}"#),
            r#"{"u":{"id":2},"user":{"id":2,"name":"bob"}}"#
        );
    }

    #[test]
    fn the_table_keeps_only_the_first_record_of_each_key_and_stays_within_the_limit() {
        let t = table(USERS, "id", usize::MAX).expect("valid records");
        assert_eq!(t.records.len(), 2, "the repeat of key 1 can never match");
        let many: String = (0..1000)
            .map(|i| format!("{{\"id\":{},\"pad\":\"{}\"}}\n", i % 10, "x".repeat(100)))
            .collect();
        let t = table(&many, "id", 2_000).expect("ten distinct keys fit");
        assert_eq!(t.records.len(), 10);
        let distinct: String = (0..1000)
            .map(|i| format!("{{\"id\":{i},\"pad\":\"{}\"}}\n", "x".repeat(100)))
            .collect();
        let e = table(&distinct, "id", 20_000).expect_err("past the limit");
        assert!(
            e.starts_with("join: t: its records would take more than --memory-limit (20000 bytes)"),
            "{e}"
        );
    }

    #[test]
    fn null_keys_match_nothing() {
        let j = join("{\"name\":\"nokey\"}\n", "id", "id", None);
        assert_eq!(run(&j, r#"{"id":null}"#), r#"unmatched {"id":null}"#);
        assert_eq!(run(&j, r#"{"a":1}"#), r#"unmatched {"a":1}"#);
    }

    #[test]
    fn bad_lookup_files_name_the_line() {
        let e = ndjson("u.ndjson", b"{\"a\":1}\n{bad\n").expect_err("invalid");
        assert!(e.starts_with("join: u.ndjson:2: not valid JSON"), "{e}");
        let e = ndjson("u.ndjson", b"[1]\n").expect_err("not an object");
        assert!(e.contains("u.ndjson:1: a lookup record must be a JSON object"), "{e}");
        let e = csv("u.csv", b"id,name\r\n1,a\r\n\r\n2,\xff\r\n").expect_err("not UTF-8");
        assert!(e.starts_with("join: u.csv:4: the row is not valid UTF-8"), "{e}");
        let e = csv("u.csv", b"id,name\n1,\"a\n2,b\n").expect_err("open quote");
        assert_eq!(e, "join: u.csv:2: a quote opened in this row never closes");
        let e = csv("u.csv", b"id,\"name\n1,a\n").expect_err("open quote in the header");
        assert_eq!(e, "join: u.csv:1: a quote opened in this row never closes");
    }

    #[test]
    fn csv_rows_shorter_or_longer_than_the_header_read_as_with_i_csv() {
        let records = csv("u.csv", b"id,name\r\n1,a\r\n\r\n2\r\n3,c,x\r\n").expect("ragged rows");
        let rows: Vec<String> = records.iter().map(|r| Value::Object(r.clone()).to_string()).collect();
        assert_eq!(
            rows,
            [
                r#"{"id":1,"name":"a"}"#,
                r#"{"id":2}"#,
                r#"{"id":3,"name":"c","_3":"x"}"#
            ]
        );
    }

    #[test]
    fn csv_numbers_become_numbers() {
        let records = csv("u.csv", "id,name\n7,\"x, y\"\n".as_bytes()).expect("valid CSV");
        assert_eq!(
            json::to_string(&Value::Object(records[0].clone())),
            r#"{"id":7,"name":"x, y"}"#
        );
    }
}
