//! Zeek TSV logs (`-i zeek`, or `-i tsv` on an input that starts with `#separator`): the
//! `#fields` line names the columns and `#types` types them. Numbers (`count`, `int`,
//! `double`, `interval`, `port`) and times (`time`, kept as Unix seconds, the number Zeek
//! writes) become JSON numbers, `bool` `T`/`F` booleans, `set[..]` and `vector[..]` arrays
//! split on `#set_separator`; `-` (`#unset_field`) is null and `(empty)` (`#empty_field`) an
//! empty array or string. `\xHH` escapes are decoded. Every `#` line and blank line becomes
//! an empty record, counted as blank, so that the fates add up to the lines read.

use super::convert::{Capped, Record, Records};
use serde_json::{Map, Value};
use std::io::{self, BufRead, BufReader, Read};

type Reader = BufReader<Box<dyn Read + Send>>;

/// The header values in force.
struct Header {
    separator: Vec<u8>,
    set_separator: Vec<u8>,
    empty: String,
    unset: String,
    fields: Vec<String>,
    types: Vec<String>,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            separator: b"\t".to_vec(),
            set_separator: b",".to_vec(),
            empty: "(empty)".into(),
            unset: "-".into(),
            fields: Vec::new(),
            types: Vec::new(),
        }
    }
}

/// The records of a Zeek TSV log.
pub(crate) struct ZeekRecords {
    reader: Reader,
    header: Header,
    line: u64,
    offset: u64,
    max: usize,
}

impl ZeekRecords {
    pub(crate) fn new(reader: Reader, max: usize) -> Self {
        ZeekRecords {
            reader,
            header: Header::default(),
            line: 0,
            offset: 0,
            max,
        }
    }

    /// The next line without its line end, at most `max` + 1 bytes of it kept.
    fn next_line(&mut self) -> io::Result<Option<Capped>> {
        let mut text = Capped::new(self.max);
        let mut any = false;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Ok(any.then_some(text));
            }
            any = true;
            let (take, end) = match memchr::memchr(b'\n', buf) {
                Some(i) => (i, i + 1),
                None => (buf.len(), buf.len()),
            };
            text.extend(&buf[..take]);
            self.reader.consume(end);
            self.offset += end as u64;
            if take < end {
                return Ok(Some(text));
            }
        }
    }
}

impl Records for ZeekRecords {
    fn next_record(&mut self) -> io::Result<Option<Record>> {
        let start = self.offset;
        let Some(text) = self.next_line()? else {
            return Ok(None);
        };
        if start == 0 && self.offset == super::UTF8_BOM.len() as u64 && text.bytes() == super::UTF8_BOM {
            // A byte order mark alone is no line.
            return Ok(None);
        }
        self.line += 1;
        let line = self.line;
        if text.too_long() {
            return match header_name(text.bytes()) {
                // The rows after it would get wrong names or values.
                Some(name) => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "line {line}: the {name} line is {} bytes, longer than --max-line-bytes {}: raise it",
                        text.len(),
                        self.max
                    ),
                )),
                None => Ok(Some(text.into_bad(line, start))),
            };
        }
        let mut bytes = text.bytes();
        if line == 1 {
            bytes = bytes.strip_prefix(super::UTF8_BOM).unwrap_or(bytes);
        }
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if bytes.starts_with(b"#") {
            self.header
                .directive(bytes)
                .map_err(|why| io::Error::new(io::ErrorKind::InvalidData, format!("line {line}: {why}")))?;
            return Ok(Some(Record::bad(Vec::new(), line, start)));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Some(Record::bad(Vec::new(), line, start)));
        }
        let Ok(row) = std::str::from_utf8(bytes) else {
            return Ok(Some(Record::bad(bytes.to_vec(), line, start)));
        };
        // The row is held to --max-line-bytes as read (above), not as the longer JSON it becomes.
        Ok(Some(Record::event(&self.header.event(row), line, start)))
    }

    fn buffered(&self) -> bool {
        !self.reader.buffer().is_empty()
    }
}

/// `text` with its `\xHH` escapes decoded, if that is UTF-8; else as written.
fn unescape(text: &[u8]) -> Vec<u8> {
    if memchr::memmem::find(text, b"\\x").is_none() {
        return text.to_vec();
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let hex = text.get(i + 2..i + 4).and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) if text[i..].starts_with(b"\\x") => {
                out.push(b);
                i += 4;
            }
            _ => {
                out.push(text[i]);
                i += 1;
            }
        }
    }
    match std::str::from_utf8(&out) {
        Ok(_) => out,
        Err(_) => text.to_vec(),
    }
}

fn unescaped_string(text: &str) -> String {
    String::from_utf8(unescape(text.as_bytes())).unwrap_or_else(|_| text.to_string())
}

/// `text` cut at every `sep` (an empty `sep` does not cut).
fn split<'a>(text: &'a str, sep: &[u8]) -> Vec<&'a str> {
    let Ok(sep) = std::str::from_utf8(sep) else {
        return vec![text];
    };
    if sep.is_empty() {
        return vec![text];
    }
    text.split(sep).collect()
}

/// The header lines whose values evq reads.
const DIRECTIVES: [&str; 5] = ["#set_separator", "#empty_field", "#unset_field", "#fields", "#types"];

/// The name of the header line evq reads that `line` starts (`#separator` or a directive).
fn header_name(line: &[u8]) -> Option<&'static str> {
    let line = line.strip_prefix(super::UTF8_BOM).unwrap_or(line);
    std::iter::once("#separator")
        .chain(DIRECTIVES)
        .find(|d| line.starts_with(d.as_bytes()))
}

/// The separator `#separator` gives: bytes written as `\xHH`, or as themselves.
fn separator(text: &[u8]) -> Result<Vec<u8>, String> {
    let sep = unescape(text);
    let hexes = memchr::memmem::find_iter(text, b"\\x").count();
    let decoded = text.len() - sep.len() == 3 * hexes;
    if sep.is_empty() || !decoded || std::str::from_utf8(&sep).is_err() {
        let written = String::from_utf8_lossy(text);
        return Err(format!(
            "#separator {written} is not a separator: Zeek writes one as \\xHH (#separator \\x09 for a tab)"
        ));
    }
    Ok(sep)
}

impl Header {
    /// Takes in a `#` line: `#separator \x09` (with a space), the others separated by the
    /// separator. A header line evq reads that it cannot understand is corrupt input: the rows
    /// after it would get wrong names or values.
    fn directive(&mut self, line: &[u8]) -> Result<(), String> {
        if let Some(rest) = line.strip_prefix(b"#separator") {
            *self = Header {
                separator: separator(rest.strip_prefix(b" ").unwrap_or(b""))?,
                ..Header::default()
            };
            return Ok(());
        }
        let named = DIRECTIVES.into_iter().find(|d| line.starts_with(d.as_bytes()));
        let Ok(line) = std::str::from_utf8(line) else {
            return match named {
                Some(name) => Err(format!("the {name} line is not valid UTF-8")),
                None => Ok(()),
            };
        };
        if let Some(name) = named {
            let after = &line.as_bytes()[name.len()..];
            if !after.is_empty() && !after.starts_with(&self.separator) {
                let sep: String = self.separator.iter().map(|b| format!("\\x{b:02x}")).collect();
                return Err(format!("the {name} line is not separated by the #separator ({sep})"));
            }
        }
        let mut parts = split(line, &self.separator).into_iter();
        let name = parts.next().unwrap_or_default();
        let values: Vec<String> = parts.map(unescaped_string).collect();
        let first = || values.first().cloned().unwrap_or_default();
        match name {
            "#set_separator" => self.set_separator = first().into_bytes(),
            "#empty_field" => self.empty = first(),
            "#unset_field" => self.unset = first(),
            "#fields" => self.fields = super::convert::unique_names(values.into_iter()),
            "#types" => self.types = values,
            _ => {}
        }
        Ok(())
    }

    /// The event of a data line.
    fn event(&self, row: &str) -> Value {
        let fields = split(row, &self.separator);
        let names = super::convert::row_names(&self.fields, fields.len());
        let mut m = Map::new();
        for (i, (field, key)) in fields.into_iter().zip(names.iter()).enumerate() {
            m.insert(key.clone(), self.value(field, self.types.get(i).map(String::as_str)));
        }
        Value::Object(m)
    }

    /// A field's value by its type; no type (no `#types`) reads it as TSV does.
    fn value(&self, field: &str, ty: Option<&str>) -> Value {
        if field == self.unset {
            return Value::Null;
        }
        let Some(ty) = ty else {
            return crate::parse::typed(field);
        };
        let element = ty
            .strip_prefix("set[")
            .or_else(|| ty.strip_prefix("vector["))
            .and_then(|t| t.strip_suffix(']'));
        match element {
            Some(_) if field == self.empty => Value::Array(Vec::new()),
            Some(t) => Value::Array(
                split(field, &self.set_separator)
                    .into_iter()
                    .map(|e| self.scalar(e, t))
                    .collect(),
            ),
            None if field == self.empty => Value::String(String::new()),
            None => self.scalar(field, ty),
        }
    }

    fn scalar(&self, field: &str, ty: &str) -> Value {
        match ty {
            "count" | "int" | "double" | "interval" | "port" | "time" => match crate::parse::typed(field) {
                n @ Value::Number(_) => n,
                _ => Value::String(unescaped_string(field)),
            },
            "bool" if field == "T" => Value::Bool(true),
            "bool" if field == "F" => Value::Bool(false),
            _ if field == self.unset => Value::Null,
            _ => Value::String(unescaped_string(field)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "#separator \\x09\n\
#set_separator\t,\n\
#empty_field\t(empty)\n\
#unset_field\t-\n\
#path\tconn\n\
#fields\tts\tid.orig_h\tid.orig_p\tservice\tlocal\ttunnel\tnames\tnote\n\
#types\ttime\taddr\tport\tstring\tbool\tset[string]\tvector[count]\tstring\n\
1300475167.096535\t141.142.220.202\t5353\tdns\tT\t(empty)\t1,22\ta\\x09b\\x2cc\n\
1300475168.5\tfe80::1\t-\t-\tF\tx\\x2cy,z\t-\t(empty)\n\
#close\t2011-03-18-19-06-13\n";

    fn records(input: &str) -> Vec<Record> {
        let mut r = ZeekRecords::new(
            BufReader::new(Box::new(io::Cursor::new(input.as_bytes().to_vec()))),
            1 << 20,
        );
        std::iter::from_fn(|| r.next_record().unwrap()).collect()
    }

    /// The error that stops reading `input`, after the records before it.
    fn corrupt(input: &[u8]) -> (usize, String) {
        let mut r = ZeekRecords::new(BufReader::new(Box::new(io::Cursor::new(input.to_vec()))), 1 << 20);
        let mut n = 0;
        loop {
            match r.next_record() {
                Ok(Some(_)) => n += 1,
                Ok(None) => panic!("read to the end without an error"),
                Err(e) => return (n, e.to_string()),
            }
        }
    }

    #[test]
    fn a_header_line_that_cannot_be_read_is_corrupt_input() {
        assert_eq!(
            corrupt(b"#separator \\xZZ\n#fields\ta\n1\n"),
            (
                0,
                "line 1: #separator \\xZZ is not a separator: Zeek writes one as \\xHH (#separator \\x09 for a tab)"
                    .to_string()
            )
        );
        assert!(corrupt(b"#separator \n").1.contains("is not a separator"), "empty");
        assert!(corrupt(b"#separator\n").1.contains("is not a separator"), "no value");
        assert_eq!(
            corrupt(b"#separator \\x09\n#fields,a,b\n"),
            (
                1,
                "line 2: the #fields line is not separated by the #separator (\\x09)".to_string()
            )
        );
        assert_eq!(
            corrupt(b"#separator \\x09\n#fields\ta\xff\n"),
            (1, "line 2: the #fields line is not valid UTF-8".to_string())
        );
        let fine = records("#separator ,\n#fields,a\n#comment \u{e9}\n#fields\n1\n");
        assert_eq!(
            fine.len(),
            5,
            "other # lines, and a #fields line naming nothing, are read past"
        );
    }

    #[test]
    fn types_give_numbers_booleans_arrays_and_nulls() {
        let rs = records(LOG);
        assert_eq!(rs.len(), 10);
        assert!(rs[..7].iter().all(|r| r.text.is_empty()));
        assert!(rs[9].text.is_empty());
        assert_eq!(
            String::from_utf8(rs[7].text.clone()).unwrap(),
            r#"{"ts":1300475167.096535,"id.orig_h":"141.142.220.202","id.orig_p":5353,"service":"dns","local":true,"tunnel":[],"names":[1,22],"note":"a\tb,c"}"#
        );
        assert_eq!(
            String::from_utf8(rs[8].text.clone()).unwrap(),
            r#"{"ts":1300475168.5,"id.orig_h":"fe80::1","id.orig_p":null,"service":null,"local":false,"tunnel":["x,y","z"],"names":null,"note":""}"#
        );
        assert_eq!((rs[7].line, rs[7].offset), (8, LOG.find("1300475167").unwrap() as u64));
    }

    #[test]
    fn a_new_header_starts_over_and_a_bad_line_keeps_its_bytes() {
        let input = "#separator ,\n#fields,a,b\n#types,count,string\n1,x\n#separator \\x09\n#fields\tc\n7\n";
        let texts: Vec<String> = records(input)
            .into_iter()
            .map(|r| String::from_utf8(r.text).unwrap())
            .collect();
        assert_eq!(texts, ["", "", "", r#"{"a":1,"b":"x"}"#, "", "", r#"{"c":7}"#]);
        let mut r = ZeekRecords::new(
            BufReader::new(Box::new(io::Cursor::new(b"#fields\ta\n\xff\n".to_vec()))),
            1 << 20,
        );
        r.next_record().unwrap();
        assert_eq!(r.next_record().unwrap().unwrap().text, b"\xff");
    }

    #[test]
    fn undecodable_escapes_stay_as_written() {
        assert_eq!(unescape(b"a\\xffb"), b"a\\xffb");
        assert_eq!(unescape(b"\\x41\\x4"), b"A\\x4");
    }
}
