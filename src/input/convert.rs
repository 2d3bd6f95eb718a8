//! Input formats that are not one event per line (`-i json`, `-i csv`, `-i tsv`)
//! are converted to NDJSON as they are read, so the rest of the engine sees lines.
//! `line()` then counts records, and `offset()` bytes of the converted records.

use super::InputFormat;
use serde_json::{Map, Value};
use std::io::{self, Read};

/// Wraps a decompressed input in its format's converter; NDJSON and text pass through.
pub fn converter(format: InputFormat, r: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
    match format {
        InputFormat::Json => Box::new(Converted::new(JsonRecords(
            serde_json::Deserializer::from_reader(r).into_iter::<Value>(),
        ))),
        InputFormat::Csv | InputFormat::Tsv => {
            let delimiter = if format == InputFormat::Csv { b',' } else { b'\t' };
            let reader = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .quoting(format == InputFormat::Csv)
                .flexible(true)
                .from_reader(r);
            Box::new(Converted::new(CsvRecords {
                reader,
                headers: None,
                record: csv::StringRecord::new(),
            }))
        }
        _ => r,
    }
}

/// A source of NDJSON lines, one or more per call.
trait Records: Send {
    /// Appends the next records as JSON lines; false at the end.
    fn next_into(&mut self, out: &mut Vec<u8>) -> io::Result<bool>;
}

struct Converted<R> {
    records: R,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl<R: Records> Converted<R> {
    fn new(records: R) -> Self {
        Converted {
            records,
            buf: Vec::new(),
            pos: 0,
            done: false,
        }
    }
}

impl<R: Records> Read for Converted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() && !self.done {
            self.buf.clear();
            self.pos = 0;
            // Fill a batch so reads are not one record each.
            while self.buf.len() < 64 << 10 {
                if !self.records.next_into(&mut self.buf)? {
                    self.done = true;
                    break;
                }
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

type JsonStream = serde_json::StreamDeserializer<'static, serde_json::de::IoRead<Box<dyn Read + Send>>, Value>;

/// Any JSON text: concatenated documents, pretty-printed or not; a top-level array
/// gives one event per element.
struct JsonRecords(JsonStream);

fn write_line(v: &Value, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, v).expect("writing to a Vec cannot fail");
    out.push(b'\n');
}

impl Records for JsonRecords {
    fn next_into(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        match self.0.next() {
            None => Ok(false),
            Some(Ok(Value::Array(items))) => {
                items.iter().for_each(|v| write_line(v, out));
                Ok(true)
            }
            Some(Ok(v)) => {
                write_line(&v, out);
                Ok(true)
            }
            Some(Err(e)) => Err(io::Error::new(io::ErrorKind::InvalidData, format!("invalid JSON: {e}"))),
        }
    }
}

/// A header row, then one event per record; values that look like JSON numbers become numbers.
struct CsvRecords {
    reader: csv::Reader<Box<dyn Read + Send>>,
    headers: Option<Vec<String>>,
    record: csv::StringRecord,
}

impl Records for CsvRecords {
    fn next_into(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        let csv_error = |e: csv::Error| io::Error::new(io::ErrorKind::InvalidData, e.to_string());
        if self.headers.is_none() {
            self.headers = Some(
                self.reader
                    .headers()
                    .map_err(csv_error)?
                    .iter()
                    .map(String::from)
                    .collect(),
            );
        }
        if !self.reader.read_record(&mut self.record).map_err(csv_error)? {
            return Ok(false);
        }
        let headers = self.headers.as_ref().expect("read above");
        let mut m = Map::new();
        for (i, field) in self.record.iter().enumerate() {
            let key = headers.get(i).cloned().unwrap_or_else(|| format!("_{}", i + 1));
            m.insert(key, crate::parse::typed(field));
        }
        write_line(&Value::Object(m), out);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(format: InputFormat, input: &str) -> io::Result<String> {
        let mut out = String::new();
        converter(format, Box::new(io::Cursor::new(input.as_bytes().to_vec()))).read_to_string(&mut out)?;
        Ok(out)
    }

    #[test]
    fn json_documents_and_arrays_become_lines() {
        let input = "{\n  \"a\": 1,\n  \"n\": 18446744073709551615\n}\n[{\"b\":2},{\"c\":3}] {\"d\":1.0}";
        assert_eq!(
            convert(InputFormat::Json, input).unwrap(),
            "{\"a\":1,\"n\":18446744073709551615}\n{\"b\":2}\n{\"c\":3}\n{\"d\":1.0}\n"
        );
        assert!(convert(InputFormat::Json, "{\"a\":1} {oops").is_err());
    }

    #[test]
    fn csv_and_tsv_use_the_header_row() {
        let csv = "name,n,note\n\"Smith, J\",42,\"say \"\"hi\"\"\"\nx,007,\n";
        assert_eq!(
            convert(InputFormat::Csv, csv).unwrap(),
            "{\"name\":\"Smith, J\",\"n\":42,\"note\":\"say \\\"hi\\\"\"}\n{\"name\":\"x\",\"n\":\"007\",\"note\":\"\"}\n"
        );
        assert_eq!(
            convert(InputFormat::Tsv, "a\tb\n1\t\"q\"\n").unwrap(),
            "{\"a\":1,\"b\":\"\\\"q\\\"\"}\n"
        );
    }
}
