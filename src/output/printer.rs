//! How one event becomes output text: the `-o` format, `-r`, `--format TEMPLATE` and colour.
//! Workers call it in direct mode and the chain's end otherwise: wherever the event is, with
//! whatever of it is already parsed, so nothing is parsed again on the way to stdout.

use super::rows::{Cell, KeyChanges, visit_leaves, write_logfmt};
use super::template::TextTemplate;
use super::{Format, color, rowline};
use crate::event::Event;
use crate::lang::Env;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone)]
pub(crate) struct Printer {
    pub format: Format,
    /// `-r`: an event of one column is written as that value, a string without quotes.
    pub raw: bool,
    /// `--format TEMPLATE`: each event is a line of text.
    pub template: Option<Arc<TextTemplate>>,
    /// Colour on stdout: JSON tokens (ndjson, json, pretty) and the table header.
    pub color: bool,
    /// A header line for csv, tsv and table (`--no-header` clears it).
    pub header: bool,
    /// `--tz`, for the times `table` shows.
    pub zone: Option<chrono_tz::Tz>,
    /// How many events `logfmt` wrote with keys it had to change (see [`write_logfmt`]).
    pub changed_keys: Arc<ChangedKeys>,
}

/// How many events `logfmt` wrote with keys renamed, and with two fields merged into one key.
#[derive(Debug, Default)]
pub(crate) struct ChangedKeys {
    pub renamed: AtomicU64,
    pub merged: AtomicU64,
}

impl ChangedKeys {
    fn count(&self, changes: KeyChanges) {
        if changes.renamed {
            self.renamed.fetch_add(1, Ordering::Relaxed);
        }
        if changes.merged {
            self.merged.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Printer {
    /// The format with no option: no colour, with headers.
    #[cfg(test)]
    pub(crate) fn plain(format: Format) -> Printer {
        Printer {
            format,
            raw: false,
            template: None,
            color: false,
            header: true,
            zone: None,
            changed_keys: Arc::default(),
        }
    }

    /// Appends one event's output and its newline. For the tabular formats this is a row line
    /// (see [`rowline`]) that `Stdout` gathers; for `json` a line that `Stdout` frames.
    pub(crate) fn write_event(&self, ev: &Event, env: &Env, out: &mut Vec<u8>) {
        if let Some(t) = &self.template {
            t.render(ev, env, out);
            out.push(b'\n');
            return;
        }
        if self.raw && write_raw(ev, out) {
            return;
        }
        match self.format {
            Format::Ndjson | Format::Json => self.write_json(out, |o| ev.write_json(o)),
            Format::Pretty => match ev.value() {
                Ok(v) => self.write_json(out, |o| {
                    serde_json::to_writer_pretty(o, &*v).expect("writing to a Vec cannot fail");
                }),
                Err(_) => self.write_json(out, |o| ev.write_json(o)),
            },
            Format::Logfmt => match ev.value() {
                Ok(v) => {
                    let changes = write_logfmt(&v, out);
                    self.changed_keys.count(changes);
                }
                Err(_) => {
                    ev.write_json(out);
                    out.push(b'\n');
                }
            },
            // Every event's text passed the parser `value` uses: the error is for the type system.
            Format::Csv | Format::Tsv | Format::Table | Format::Markdown => {
                // An event held as text is flattened from it; one held as a tree, from the tree.
                if ev.text().is_some_and(|t| rowline::write_text(t, out)) {
                    return;
                }
                if let Ok(v) = ev.value() {
                    rowline::write(&v, out);
                }
            }
        }
    }

    /// Appends the JSON text `write` makes, coloured if asked, and a newline.
    fn write_json(&self, out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
        if self.color {
            let mut text = Vec::new();
            write(&mut text);
            color::json(&text, out);
        } else {
            write(out);
        }
        out.push(b'\n');
    }
}

/// `-r`: when the event flattens to exactly one column (as csv would write it), appends that
/// value and a newline, a string as its text, anything else as compact JSON; else nothing.
fn write_raw(ev: &Event, out: &mut Vec<u8>) -> bool {
    let Ok(v) = ev.value() else { return false };
    let (mut columns, mut only) = (0, Cell::Null);
    visit_leaves(&v, &mut |_, leaf| {
        columns += 1;
        if columns == 1 {
            only = Cell::from_value(leaf);
        }
    });
    if columns != 1 {
        return false;
    }
    match only {
        Cell::Null => out.extend_from_slice(b"null"),
        cell => out.extend_from_slice(cell.as_str().as_bytes()),
    }
    out.push(b'\n');
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Needs, Origin};

    fn print(p: &Printer, line: &str) -> String {
        let ev = Event::parse(line, Origin::default(), &Needs::default()).unwrap();
        let mut out = Vec::new();
        p.write_event(&ev, &Env::default(), &mut out);
        String::from_utf8(out).unwrap()
    }

    fn raw() -> Printer {
        Printer {
            raw: true,
            ..Printer::plain(Format::Ndjson)
        }
    }

    #[test]
    fn raw_writes_the_one_value_of_a_one_column_event() {
        assert_eq!(print(&raw(), r#"{"msg":"a \"quoted\"\ttab"}"#), "a \"quoted\"\ttab\n");
        assert_eq!(print(&raw(), r#"{"user":{"name":"ann"}}"#), "ann\n");
        assert_eq!(print(&raw(), r#"{"n":1.50}"#), "1.50\n");
        assert_eq!(print(&raw(), r#"{"n":null}"#), "null\n");
        assert_eq!(print(&raw(), r#"{"a":[1,"x"]}"#), "[1,\"x\"]\n");
        assert_eq!(print(&raw(), r#"{"e":{}}"#), "{}\n");
    }

    #[test]
    fn raw_leaves_events_of_several_or_no_columns_as_ndjson() {
        assert_eq!(print(&raw(), r#"{"a":1, "b":"x"}"#), "{\"a\":1, \"b\":\"x\"}\n");
        assert_eq!(print(&raw(), r#"{"u":{"a":1,"b":2}}"#), "{\"u\":{\"a\":1,\"b\":2}}\n");
        assert_eq!(print(&raw(), "{}"), "{}\n");
    }

    #[test]
    fn a_template_makes_one_line_per_event() {
        let p = Printer {
            template: Some(Arc::new(TextTemplate::parse("{level|upper}: {msg}").unwrap())),
            ..Printer::plain(Format::Ndjson)
        };
        // The event is parsed as far as the template reads, as the config arranges.
        let mut needs = Needs::default();
        p.template.as_ref().unwrap().needs(&mut needs);
        let ev = Event::parse(r#"{"level":"warn","msg":"x"}"#, Origin::default(), &needs).unwrap();
        let mut out = Vec::new();
        p.write_event(&ev, &Env::default(), &mut out);
        assert_eq!(out, b"WARN: x\n");
    }

    #[test]
    fn colour_wraps_json_tokens_and_keeps_the_bytes() {
        let p = Printer {
            color: true,
            ..Printer::plain(Format::Ndjson)
        };
        let text = print(&p, r#"{"a":1}"#);
        assert!(text.contains("\x1b["), "{text:?}");
        assert!(text.ends_with('\n'));
        assert_eq!(print(&Printer::plain(Format::Ndjson), r#"{"a":1}"#), "{\"a\":1}\n");
    }

    #[test]
    fn tabular_formats_write_row_lines() {
        let line = print(&Printer::plain(Format::Csv), r#"{"a":{"b":1}}"#);
        let mut cells = Vec::new();
        rowline::read(line.trim_end().as_bytes(), &mut |k, c| cells.push((k.to_owned(), c)));
        assert_eq!(cells, [("a.b".to_string(), Cell::Number("1".into()))]);
    }
}
