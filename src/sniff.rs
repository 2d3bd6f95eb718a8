//! Text fed as NDJSON: a few lines that were not JSON are kept (on the workers, only
//! while fewer than `SAMPLES` are held), and when most lines of the run were not JSON
//! and the kept ones match a format evq reads, one note says how to read them:
//! `evq: these lines look like an Apache/nginx combined access log; add 'parse combined' …`,
//! or, for CSV, TSV, a Zeek log or JSON text spanning lines, which `-i` reads them.

use crate::input::auto::{Detected, detect};
use crate::parse::{TextFormat, parse};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Lines kept to recognise a format, and the share of them that must match it.
const SAMPLES: usize = 16;
const MATCHING: f64 = 0.8;
/// How much of each line is kept.
const KEPT_BYTES: usize = 4096;

/// The lines that were not JSON, kept for recognising their format.
#[derive(Debug, Default)]
pub(crate) struct Sniff {
    kept: AtomicUsize,
    lines: Mutex<Vec<String>>,
}

impl Sniff {
    /// Keeps `line`, which is not JSON, while fewer than `SAMPLES` are kept.
    pub(crate) fn note(&self, line: &[u8]) {
        // Read first, so that past the sample no worker writes the counter's cache line.
        if self.kept.load(Ordering::Relaxed) >= SAMPLES || self.kept.fetch_add(1, Ordering::Relaxed) >= SAMPLES {
            return;
        }
        if let Ok(mut lines) = self.lines.lock() {
            // A format shows in a line's start; a huge line is not copied whole.
            lines.push(String::from_utf8_lossy(&line[..line.len().min(KEPT_BYTES)]).into_owned());
        }
    }

    /// The note for a run where `invalid` of `events` lines were not JSON, if the kept
    /// lines look like a text format.
    pub(crate) fn advice(&self, invalid: u64, events: u64) -> Option<String> {
        if invalid == 0 || invalid * 2 <= events {
            return None;
        }
        let lines = self.lines.lock().ok()?;
        let mut sample = lines.join("\n");
        sample.push('\n');
        if looks_binary(&sample) {
            return Some(
                "these lines look like binary data, not text (a file compressed twice, say, or one that holds no \
                 events); see what the input is with: file FILE"
                    .to_string(),
            );
        }
        if looks_utf16(&sample) {
            return Some(
                "these lines look like UTF-16 text (a NUL byte beside every character, as Windows \
                 PowerShell writes); convert the input to UTF-8 first: iconv -f UTF-16 -t UTF-8 FILE"
                    .to_string(),
            );
        }
        // The kept lines are a sample cut anywhere, perhaps in the middle of a JSON text.
        let (what, how) = match detect(sample.as_bytes(), false) {
            Detected::Combined => ("an Apache/nginx combined access log", "parse combined"),
            Detected::Common => ("an Apache/nginx common access log", "parse common"),
            Detected::Syslog => ("syslog", "parse syslog"),
            Detected::Logfmt => ("logfmt (key=value pairs)", "parse logfmt"),
            Detected::Csv => return Some(read_with("CSV", "-i csv")),
            Detected::Tsv => return Some(read_with("TSV", "-i tsv")),
            Detected::Zeek => return Some(read_with("a Zeek TSV log", "-i zeek")),
            Detected::Json => return Some(read_with("JSON text spanning lines", "-i json")),
            Detected::Ndjson | Detected::Lines => return None,
        };
        Some(format!(
            "these lines look like {what}; add '{how}' at the start of the pipeline, or read them with -i lines"
        ))
    }
}

/// Whether a sample is UTF-16 text read as bytes: ASCII characters then come with a NUL byte
/// each, so at least a third of its characters are NULs.
fn looks_utf16(sample: &str) -> bool {
    let nuls = sample.chars().filter(|&c| c == '\0').count();
    nuls > 0 && nuls * 3 >= sample.chars().count()
}

/// Whether a sample (read as UTF-8, each invalid byte replaced) is binary data: at least a
/// fifth of its characters are invalid bytes, which text in any encoding evq reads (UTF-8,
/// UTF-16 with or without a byte order mark) does not have.
fn looks_binary(sample: &str) -> bool {
    let invalid = sample.chars().filter(|&c| c == char::REPLACEMENT_CHARACTER).count();
    invalid > 0 && invalid * 5 >= sample.chars().count()
}

/// The note for lines of a format `-i` reads.
fn read_with(what: &str, flag: &str) -> String {
    format!("these lines look like {what}; read them with {flag} (or let -i auto choose)")
}

/// The first of combined, common, syslog and logfmt that most of `lines` match (also what
/// `-i auto` chooses among).
pub(crate) fn recognise_format(lines: &[String]) -> Option<TextFormat> {
    let formats = [
        TextFormat::Combined,
        TextFormat::Common,
        TextFormat::Syslog {
            year: crate::parse::Year::fixed(2000),
        },
        TextFormat::Logfmt,
    ];
    if lines.is_empty() {
        return None;
    }
    let matching = formats
        .each_ref()
        .map(|fmt| lines.iter().filter(|l| matches_format(fmt, l)).count());
    let chosen = (0..formats.len()).find(|&i| matching[i] as f64 >= MATCHING * lines.len() as f64)?;
    // `common` reads a combined line too, ignoring its referrer and agent: when at least half
    // the lines are combined ones (the rest cut short, say), they are read as combined, and
    // the others become visible parse dead letters instead of every line losing two fields.
    if matches!(formats[chosen], TextFormat::Common) && 2 * matching[0] >= matching[1] {
        return Some(TextFormat::Combined);
    }
    formats.into_iter().nth(chosen)
}

/// True when `line` parses as `fmt`; logfmt needs two `key=value` pairs, since any
/// words parse as bare keys.
fn matches_format(fmt: &TextFormat, line: &str) -> bool {
    match (fmt, parse(fmt, line)) {
        (TextFormat::Logfmt, Some(fields)) => {
            fields.len() >= 2 && line.matches('=').count() >= 2 && !line.trim_start().starts_with(['{', '['])
        }
        (_, fields) => fields.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advice(lines: &[&str], events: u64) -> Option<String> {
        let s = Sniff::default();
        for l in lines {
            s.note(l.as_bytes());
        }
        s.advice(lines.len() as u64, events)
    }

    #[test]
    fn access_logs_syslog_and_logfmt_are_recognised() {
        let combined =
            r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 203 "http://x/" "Mozilla/5.0""#;
        let common = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326"#;
        let syslog = "Mar 27 13:06:56 ip-10-77-20-248 sshd[1291]: Server listening on 0.0.0.0 port 22.";
        let logfmt = "level=info msg=\"started\" port=8080";
        let cases = [
            (combined, "parse combined"),
            (common, "parse common"),
            (syslog, "parse syslog"),
            (logfmt, "parse logfmt"),
        ];
        for (line, stage) in cases {
            let got = advice(&[line, line, line], 3).unwrap_or_default();
            assert!(got.contains(&format!("add '{stage}'")), "{line}: {got}");
        }
    }

    #[test]
    fn a_combined_log_with_lines_cut_short_is_combined_and_a_common_one_stays_common() {
        let combined = r#"1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 203 "http://x/" "curl""#;
        let cut = r#"1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 203"#;
        let lines = |v: &[&str]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
        let recognised = |v: &[&str]| recognise_format(&lines(v)).map(|f| format!("{f:?}"));
        assert_eq!(recognised(&[combined, cut, combined, cut]).as_deref(), Some("Combined"));
        assert_eq!(recognised(&[combined, cut, cut, cut]).as_deref(), Some("Common"));
        assert_eq!(recognised(&[cut, cut]).as_deref(), Some("Common"));
        assert_eq!(recognised(&[combined, combined]).as_deref(), Some("Combined"));
    }

    #[test]
    fn no_note_when_few_lines_failed_or_they_match_nothing() {
        let syslog = "Mar 27 13:06:56 host sshd[1291]: Server listening";
        assert_eq!(advice(&[syslog], 10), None, "one bad line in ten");
        assert_eq!(advice(&["{\"a\":1", "not json at all"], 2), None);
        assert_eq!(advice(&[], 0), None);
    }

    #[test]
    fn formats_that_i_reads_are_named_with_their_flag() {
        let cases: [(&[&str], &str); 4] = [
            (&["name,n", "a,1", "b,2"], "-i csv"),
            (&["name\tn", "a\t1"], "-i tsv"),
            (&["{", "  \"a\": 1,", "  \"b\": {\"c\": 2}", "}"], "-i json"),
            (&["#separator \\x09", "#fields\tts"], "-i zeek"),
        ];
        for (lines, flag) in cases {
            let got = advice(lines, lines.len() as u64).unwrap_or_default();
            assert!(got.contains(&format!("read them with {flag}")), "{lines:?}: {got}");
        }
    }

    #[test]
    fn utf16_text_is_named_with_how_to_convert_it() {
        let utf16: Vec<u8> = "{\"a\":1}".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let text = String::from_utf8_lossy(&utf16).into_owned();
        let note = advice(&[&text, &text], 2).expect("a note");
        assert!(note.contains("UTF-16") && note.contains("iconv -f UTF-16"), "{note}");
        assert_eq!(advice(&["not json at all", "nor this"], 2), None);
    }

    #[test]
    fn binary_data_is_named_as_such_not_as_utf16() {
        // A gzip stream's first bytes, as a file compressed twice shows them once decompressed.
        let gzip = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\x56\x4a\xb4\x32\xac\xe5\x02\x00\xfa\x8e\xbb\xd3";
        let text = String::from_utf8_lossy(gzip).into_owned();
        let note = advice(&[&text, &text], 2).expect("a note");
        assert!(note.contains("binary data") && !note.contains("UTF-16"), "{note}");
        let german: Vec<u8> = "{\"größe\":1}".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let text = String::from_utf8_lossy(&german).into_owned();
        let note = advice(&[&text, &text], 2).expect("a note");
        assert!(note.contains("UTF-16"), "{note}");
    }

    #[test]
    fn only_a_few_lines_are_kept() {
        let s = Sniff::default();
        (0..100).for_each(|_| s.note(b"x=1 y=2"));
        assert_eq!(s.lines.lock().map_or(0, |l| l.len()), SAMPLES);
    }
}
