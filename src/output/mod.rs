//! Output formats for stdout: `ndjson`, `json` (one array), `pretty`, `csv`, `tsv`,
//! `table`, `markdown` and `logfmt`, `-r` and `--format` text; and the topic files of `to`,
//! `tee` and `-O`.

pub(crate) mod color;
mod error;
mod markdown;
#[cfg(feature = "nats")]
pub(crate) mod nats;
pub(crate) mod pending;
mod pipe;
pub(crate) mod printed;
mod printer;
mod rowline;
pub(crate) mod rows;
pub(crate) mod safe_path;
pub(crate) mod table;
pub(crate) mod template;
pub(crate) mod topic;
pub(crate) mod whole_lines;

pub(crate) use error::OutputError;
pub(crate) use pipe::is_stopped;
pub(crate) use printed::Printed;
pub(crate) use printer::Printer;
use std::io::{self, Write};
use whole_lines::{Kept, Output};

/// Makes a write past the file size limit (`ulimit -f`) fail with EFBIG, an output error that leaves
/// whole lines, instead of SIGXFSZ killing the process mid-line. Call once, at start.
pub(crate) fn ignore_sigxfsz() {
    // A handler, not SIG_IGN: the write fails the same way, and programs evq starts get the default back.
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGXFSZ,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// One compact JSON event per line; unmodified events keep their bytes.
    #[value(alias = "jsonl")]
    Ndjson,
    /// One JSON array of all events.
    Json,
    /// Indented JSON, one event after another.
    Pretty,
    /// Comma-separated values: a header of every key (nested keys as a.b), then rows.
    Csv,
    /// Tab-separated values, with tabs and newlines in values escaped.
    Tsv,
    /// Aligned columns for people.
    Table,
    /// A GitHub pipe table: a header, a separator line, one row per record.
    Markdown,
    /// key=value pairs, one event per line.
    Logfmt,
}

impl Format {
    /// True for the formats that need every record before the first line (the columns).
    pub(crate) fn is_tabular(self) -> bool {
        matches!(self, Format::Csv | Format::Tsv | Format::Table | Format::Markdown)
    }
}

/// Writes formatted event lines to stdout, adding the array brackets for `json`.
pub(crate) struct Stdout {
    format: Format,
    /// A header line for the tabular formats, coloured or not.
    look: table::Look,
    w: Box<dyn Output>,
    line_buffered: bool,
    started: bool,
    scratch: Vec<u8>,
    /// Records held for `csv`, `tsv` and `table` until the end.
    rows: rows::Rows,
    /// The terminal width, for `table`.
    width: Option<usize>,
    /// Lines of the live view now on the screen.
    live_lines: usize,
    /// How many events `logfmt` wrote with changed keys (counted by the printer).
    changed_keys: std::sync::Arc<printer::ChangedKeys>,
}

impl Stdout {
    pub(crate) fn new(printer: &Printer, w: Box<dyn Output>, line_buffered: bool) -> Self {
        Stdout {
            format: printer.format,
            look: table::Look {
                header: printer.header,
                color: printer.color,
                zone: printer.zone,
            },
            w,
            line_buffered,
            started: false,
            scratch: Vec::new(),
            rows: rows::Rows::new(),
            width: None,
            live_lines: 0,
            changed_keys: printer.changed_keys.clone(),
        }
    }

    /// True when the output is one whole, written or not: a table (whose columns need every
    /// record, so its records are held until [`Stdout::finish`]) or a JSON array. A failed
    /// write cuts a file back to where it began.
    pub(crate) fn all_or_nothing(&self) -> bool {
        self.format.is_tabular() || self.format == Format::Json
    }

    /// True when the events written here showed nothing: a table of events without fields has
    /// no column to show them in.
    pub(crate) fn showed_nothing(&self) -> bool {
        self.format.is_tabular() && self.rows.taken() > 0 && self.rows.columns().is_empty()
    }

    /// Writes whole records (see [`Printed`]), each ending at one of `ends`. After a failed
    /// write, the error tells how many of them stdout got whole.
    pub(crate) fn write(&mut self, data: &[u8], ends: &[usize]) -> Result<(), Kept> {
        if data.is_empty() {
            return Ok(());
        }
        if self.format.is_tabular() {
            push_row_lines(&mut self.rows, data);
            return Ok(());
        }
        let lost = |error| Kept { error, records: 0 };
        if self.format == Format::Json {
            if !self.started {
                self.w.begin_record().map_err(lost)?;
            }
            self.scratch.clear();
            for line in data.split_inclusive(|b| *b == b'\n') {
                self.scratch
                    .extend_from_slice(if self.started { b",\n" } else { b"[\n" });
                self.started = true;
                self.scratch.extend_from_slice(line.strip_suffix(b"\n").unwrap_or(line));
            }
            self.w.write_all(&self.scratch).map_err(lost)?;
        } else {
            self.w.write_records(data, ends)?;
        }
        if self.line_buffered {
            self.w.flush().map_err(|error| Kept {
                error,
                records: ends.len(),
            })?;
        }
        Ok(())
    }

    /// Hands what was written on to the file or pipe.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    pub(crate) fn finish(&mut self) -> io::Result<()> {
        let clear = self.clear_live();
        self.w.write_all(clear.as_bytes())?;
        self.rows.seal()?;
        if self.format.is_tabular() || (self.format == Format::Json && !self.started) {
            self.w.begin_record()?;
        }
        match self.format {
            Format::Json => self.w.write_all(if self.started { b"\n]\n" } else { b"[]\n" })?,
            Format::Csv => rows::write_csv(&self.rows, b',', self.look.header, &mut self.w)?,
            Format::Tsv => rows::write_csv(&self.rows, b'\t', self.look.header, &mut self.w)?,
            Format::Table => table::write_table(&self.rows, &mut self.w, self.width, self.look)?,
            Format::Markdown => markdown::write_markdown(&self.rows, &mut self.w)?,
            _ => {}
        }
        if self.all_or_nothing() {
            self.w.end_record()?;
        }
        if self.showed_nothing() {
            let name = clap::ValueEnum::to_possible_value(&self.format).map(|v| v.get_name().to_string());
            crate::messages::warning(format!(
                "{} had no fields, so -o {} had no column to write them in and wrote nothing; -o ndjson shows them",
                events(self.rows.taken()),
                name.unwrap_or_default()
            ));
        }
        if let Some((column, n)) = self.rows.shared_column() {
            crate::messages::warning(format!(
                "{} had two fields that flatten to the column \"{column}\" (a nested field and a key \
                 with a dot); the column shows the later one: rename one of them first",
                events(n)
            ));
        }
        let merged = self.changed_keys.merged.load(std::sync::atomic::Ordering::Relaxed);
        if merged > 0 {
            crate::messages::warning(format!(
                "{} had two fields that flatten to one logfmt key (a nested field and a key with a dot); \
                 the later one was written: rename one of them first",
                events(merged)
            ));
        }
        let renamed = self.changed_keys.renamed.load(std::sync::atomic::Ordering::Relaxed);
        if renamed > 0 {
            crate::messages::warning(format!(
                "{} had keys that logfmt cannot write (empty, or with whitespace, a control \
                 character, \" or =); they were written with _ in their place, so two keys may read as one: \
                 rename them first",
                events(renamed)
            ));
        }
        self.w.flush()
    }

    /// Redraws the live view in place: the table of `data` (row lines), cut to
    /// `height` lines so it never scrolls.
    pub(crate) fn redraw(&mut self, data: &[u8], height: usize) -> io::Result<()> {
        let mut rows = rows::Rows::new();
        push_row_lines(&mut rows, data);
        let mut text = Vec::new();
        table::write_table(&rows, &mut text, self.width, self.look)?;
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text.lines().take(height.saturating_sub(1).max(1)).collect();
        let mut out = self.clear_live();
        for l in &lines {
            out.push_str(l);
            out.push('\n');
        }
        self.live_lines = lines.len();
        self.w.write_all(out.as_bytes())?;
        self.w.flush()
    }

    /// Moves to the start of the live view and clears it (ANSI CSI F and J).
    fn clear_live(&mut self) -> String {
        let s = if self.live_lines > 0 {
            format!("\x1b[{}F\x1b[J", self.live_lines)
        } else {
            String::new()
        };
        self.live_lines = 0;
        s
    }

    /// Cuts `table` cells so rows fit this many columns (a terminal's width).
    pub(crate) fn set_width(&mut self, width: Option<usize>) {
        self.width = width;
    }
}

/// Adds the records of whole row lines. An empty line is a record too: an event without
/// columns (`{}`), which is a row of empty cells.
fn push_row_lines(rows: &mut rows::Rows, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    for line in body.split(|b| *b == b'\n') {
        rows.push_line(line);
    }
}

/// "1 event" or "N events", for a warning.
fn events(n: u64) -> String {
    crate::messages::counted(n, "event", "events")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    impl Output for Shared {}

    #[test]
    fn json_array_framing() {
        let buf = Shared::default();
        let mut s = Stdout::new(&Printer::plain(Format::Json), Box::new(buf.clone()), false);
        s.write(b"{\"a\":1}\n", &[8]).unwrap();
        s.write(b"{\"a\":2}\n{\"a\":3}\n", &[8, 16]).unwrap();
        s.finish().unwrap();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text, "[\n{\"a\":1},\n{\"a\":2},\n{\"a\":3}\n]\n");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 3);
    }

    #[test]
    fn an_event_without_columns_is_a_row_of_empty_cells() {
        let buf = Shared::default();
        let mut s = Stdout::new(&Printer::plain(Format::Csv), Box::new(buf.clone()), false);
        let mut lines = Vec::new();
        for v in [
            serde_json::json!({"a": 1}),
            serde_json::json!({}),
            serde_json::json!({"a": 2}),
        ] {
            rowline::write(&v, &mut lines);
        }
        s.write(&lines, &[]).unwrap();
        s.finish().unwrap();
        assert_eq!(buf.0.lock().unwrap().as_slice(), b"a\n1\n\"\"\n2\n");
    }

    #[test]
    fn empty_json_output_is_an_empty_array() {
        let buf = Shared::default();
        let mut s = Stdout::new(&Printer::plain(Format::Json), Box::new(buf.clone()), false);
        s.finish().unwrap();
        assert_eq!(buf.0.lock().unwrap().as_slice(), b"[]\n");
    }
}
