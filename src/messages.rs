//! Every message evq writes to stderr goes through here: one `evq:` prefix, and
//! best effort. A stderr that cannot be written (`2>/dev/full`, closed) never
//! changes the exit status or aborts the run; `eprintln!` would panic there.
//! Warnings and notes (not errors) are silenced by `-q`.

use std::borrow::Cow;
use std::fmt::{Display, Write as _};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// `-q`: set once at start, before any warning or note.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Silences warnings and notes for the rest of the process (`-q`).
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Bold yellow, as the output's colours are chosen (`output::color`).
const WARNING: anstyle::Style = anstyle::Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Yellow)));

/// `--color` for stderr: set once at start.
static COLOR: AtomicBool = AtomicBool::new(false);

/// Colours warnings and the dead-letter summary for the rest of the process.
pub(crate) fn set_color(color: bool) {
    COLOR.store(color, Ordering::Relaxed);
}

/// `text` in the warning style when stderr is coloured.
fn highlighted(text: impl Display) -> String {
    if COLOR.load(Ordering::Relaxed) {
        let style = WARNING;
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

/// Writes `evq: warning: {msg}` unless `-q`: something that may make the answer
/// not what the user meant, though the run went on.
pub(crate) fn warning(msg: impl Display) {
    if !quiet() {
        text(format_args!("evq: {} {msg}", highlighted("warning:")));
    }
}

/// Writes `evq: {msg}`, the message highlighted (coloured like a warning when stderr is):
/// a summary the user should not miss, such as the count of dead letters.
pub(crate) fn alert(msg: impl Display) {
    error(highlighted(msg));
}

/// Writes `evq: {msg}` unless `-q`: information about the run, not a fault.
pub(crate) fn note(msg: impl Display) {
    if !quiet() {
        error(msg);
    }
}

/// The note for a run that reads only stdin, when stdin is a terminal: without it,
/// evq seems to hang while it waits for typed events.
pub(crate) const TERMINAL_NOTE: &str = "reading events from the terminal (Ctrl-D ends); give a file to read it";

/// Tells the user evq waits on the terminal, when `inputs` (their names) are only stdin
/// and stdin is a terminal.
pub(crate) fn waiting_on_terminal<'a>(inputs: impl IntoIterator<Item = &'a str>) {
    if reads_only_stdin(inputs) && std::io::stdin().is_terminal() {
        note(TERMINAL_NOTE);
    }
}

fn reads_only_stdin<'a>(inputs: impl IntoIterator<Item = &'a str>) -> bool {
    let mut names = inputs.into_iter();
    names.next() == Some("-") && names.all(|n| n == "-")
}

/// `n` and a noun, singular for one: "1 line", "2 lines".
pub(crate) fn counted(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Writes `evq: {msg}` and a newline to stderr, ignoring any failure.
pub(crate) fn error(msg: impl Display) {
    text(line(msg));
}

/// `evq: {msg}`, as [`error`] writes it (for the checks that read a message whole).
pub(crate) fn line(msg: impl Display) -> String {
    format!("evq: {msg}")
}

/// Writes `msg` and a newline to stderr as it is (reports, already prefixed text), but for
/// the credentials of any URL in it ([`without_credentials`]).
pub(crate) fn text(msg: impl Display) {
    let line = format!("{msg}\n");
    let _ = std::io::stderr()
        .lock()
        .write_all(without_credentials(&line).as_bytes());
}

/// `text` with the credentials of every URL in it (`scheme://user:pass@host`) written `…`, so
/// that no message repeats a secret, whoever wrote the URL: the user, a library, or a file
/// (a schema's `$ref`).
pub(crate) fn without_credentials(text: &str) -> Cow<'_, str> {
    without_credentials_mapped(text).0
}

/// [`without_credentials`], and where each byte offset of `text` went in the result (an
/// offset inside credentials goes to their `…`): what puts a caret under the shown text.
pub(crate) fn without_credentials_mapped(text: &str) -> (Cow<'_, str>, impl Fn(usize) -> usize) {
    let spans = credentials(text);
    let shown = match spans.is_empty() {
        true => Cow::Borrowed(text),
        false => {
            let mut out = String::with_capacity(text.len());
            let mut from = 0;
            for span in &spans {
                out.push_str(&text[from..span.start]);
                out.push('…');
                from = span.end;
            }
            out.push_str(&text[from..]);
            Cow::Owned(out)
        }
    };
    let at = move |offset: usize| {
        let mut at = offset;
        for span in spans.iter().take_while(|s| s.start < offset) {
            at -= offset.min(span.end) - span.start;
            at += '…'.len_utf8() * usize::from(offset >= span.end);
        }
        at
    };
    (shown, at)
}

/// The byte ranges to leave out of `text`, in order and apart: the credentials of every URL
/// written out ([`written_credentials`]), and every JSON string whose escapes hide a URL's
/// credentials from that scan (`"https:\u002f\u002fu:p@h"`, `"https://u:p\u0061ss@h"`),
/// whole, since its escapes could spell any part of them.
fn credentials(text: &str) -> Vec<std::ops::Range<usize>> {
    let written = written_credentials(text);
    let hidden = escaped_strings(text).filter(|body| {
        !written.iter().any(|w| body.contains(&w.start))
            && serde_json::from_str::<String>(&text[body.start - 1..=body.end])
                .is_ok_and(|s| !written_credentials(&s).is_empty())
    });
    // A written URL's credentials end at the latest at a quote, where a string's body starts.
    let mut spans: Vec<_> = hidden.collect();
    spans.extend(written);
    spans.sort_by_key(|s| s.start);
    spans
}

/// The bodies (between the quotes) of the JSON strings in `text` that hold an escape.
fn escaped_strings(text: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let b = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        loop {
            let open = i + memchr::memchr(b'"', b.get(i..)?)?;
            let (mut at, mut escaped) = (open + 1, false);
            while at < b.len() && b[at] != b'"' {
                escaped |= b[at] == b'\\';
                at += if b[at] == b'\\' { 2 } else { 1 };
            }
            if at >= b.len() {
                return None;
            }
            i = at + 1;
            if escaped {
                return Some(open + 1..at);
            }
        }
    })
}

/// The byte ranges of the credentials (`user:pass`, before `@`) of every URL in `text`. A URL
/// that a message cut short (`https://bob:secr…`) before any `@` may have been cut inside its
/// credentials: everything from its scheme to the cut is left out.
fn written_credentials(text: &str) -> Vec<std::ops::Range<usize>> {
    // A URL as a regex or a JSON string writes it, with its slashes escaped, counts too.
    let scheme_end = |t: &str| {
        let plain = t.find("://").map(|i| i + 3);
        let escaped = t.find(":\\/\\/").map(|i| i + 5);
        plain.into_iter().chain(escaped).min()
    };
    let ends_authority =
        |c: char| matches!(c, '/' | '\\' | '?' | '#' | '"' | '\'' | '`' | '<' | '>') || c.is_whitespace();
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(end) = scheme_end(&text[from..]) {
        let start = from + end;
        let tail = &text[start..];
        let authority = &tail[..tail.find(ends_authority).unwrap_or(tail.len())];
        let cut = authority.find('…').filter(|&at| authority[..at].contains(':'));
        from = match (authority.rfind('@'), cut) {
            (Some(at), _) => {
                spans.push(start..start + at);
                start + at
            }
            (None, Some(at)) => {
                spans.push(start..start + at + '…'.len_utf8());
                start + at + '…'.len_utf8()
            }
            (None, None) => start,
        };
    }
    spans
}

/// Writes `msg` and a newline to stdout for the few outputs that are not data
/// (`--explain`); a closed stdout is a quiet success, as on the data path.
pub(crate) fn stdout(msg: impl Display) -> std::io::Result<()> {
    let line = format!("{msg}\n");
    let mut out = std::io::stdout().lock();
    out.write_all(without_credentials(&line).as_bytes())?;
    out.flush()
}

/// `text` with its control characters escaped (`\n`, `\u{1b}`), so that a message holding it
/// stays one line, and cut to about `max` characters (marked with `…`).
pub(crate) fn one_line(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", escaped(&text[..end])),
        None => escaped(text).into_owned(),
    }
}

/// Whether a screen would not show `c` as itself: a control character, or a mark that
/// changes the direction of the text around it (U+202E would show `gnp.exe` as `exe.png`) or
/// separates lines.
pub(crate) fn is_unseen(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// `s` with the characters a screen does not show as themselves escaped (`\n`, `\t`, `\r`,
/// `\u{1b}`, `\u{202e}`: [`is_unseen`]), so that it stays on its line and reads as it is (a
/// message, a table cell).
pub(crate) fn escaped(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unseen) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_unseen(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A file name or path as a message shows it: its control characters escaped, so that a name
/// holding a line feed cannot break the message's one line.
pub(crate) fn shown(name: impl Display) -> String {
    escaped(&name.to_string()).into_owned()
}

/// A path as evq names it (in `file()`, messages, dead letters and `--stats`): its text, with
/// each byte that is not UTF-8 written `\xHH`, so that two names that differ only there stay
/// apart.
/// A name that holds a URL with credentials (`./http://user:pass@host/x`) is named without
/// them ([`without_credentials`]).
pub(crate) fn path_name(path: &Path) -> String {
    use std::fmt::Write as _;
    let bytes = path.as_os_str().as_encoded_bytes();
    let mut name = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        name.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(name, "\\x{b:02X}");
        }
    }
    match without_credentials(&name) {
        Cow::Borrowed(_) => name,
        Cow::Owned(shown) => shown,
    }
}

/// A path as a message shows it: [`path_name`], [`shown`].
pub(crate) fn shown_path(path: &Path) -> String {
    escaped(&path_name(path)).into_owned()
}

/// An I/O error's message without Rust's "(os error N)" suffix: the one spelling of an
/// I/O failure in every error type's message.
pub(crate) fn io(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// An I/O error at `path`, as [`io`] spells it, with what is known of why a path was not
/// found: a symbolic link to nothing, a directory that does not exist, or a name close to one
/// that does.
pub(crate) fn io_at(path: &Path, e: &std::io::Error) -> String {
    let mut text = io(e);
    if e.kind() == std::io::ErrorKind::NotFound
        && let Some(hint) = not_found(path)
    {
        text.push_str("; ");
        text.push_str(&hint);
    }
    if e.kind() == std::io::ErrorKind::IsADirectory {
        text.push_str("; name a file, which may be in that directory");
    }
    text
}

/// Why `path` was not found, when the file system says.
fn not_found(path: &Path) -> Option<String> {
    if let Ok(to) = std::fs::read_link(path) {
        return Some(format!(
            "it is a symbolic link to {}, which does not exist",
            shown_path(&to)
        ));
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        let mut missing = parent;
        while let Some(up) = missing.parent().filter(|p| !p.as_os_str().is_empty() && !p.is_dir()) {
            missing = up;
        }
        return Some(format!("there is no directory {}", shown_path(missing)));
    }
    let name = path.file_name()?.to_str()?;
    let near = closest_entry(parent, name)?;
    Some(format!("did you mean {}?", shown_path(&path.with_file_name(near))))
}

/// The entry of `dir` whose name is closest to `name`: one or two edits away, or `name` with a
/// suffix (`app.ndjson.gz` for `app.ndjson`). Only the first entries of a huge directory are
/// looked at.
fn closest_entry(dir: &Path, name: &str) -> Option<String> {
    let lower = name.to_lowercase();
    let distance = |entry: &str| {
        let entry = entry.to_lowercase();
        match entry.strip_prefix(&lower) {
            Some(rest) if rest.starts_with('.') => 0,
            _ => strsim::damerau_levenshtein(&lower, &entry),
        }
    };
    let most = (name.chars().count() / 3).min(2);
    std::fs::read_dir(dir)
        .ok()?
        .take(10_000)
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .map(|entry| (distance(&entry), entry))
        .filter(|(d, _)| *d <= most)
        .min()
        .map(|(_, entry)| entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_entry_is_a_few_edits_away_or_the_name_with_a_suffix() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["app.ndjson.gz", "level.log", "b"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let near = |name: &str| closest_entry(dir.path(), name);
        assert_eq!(near("app.ndjson").as_deref(), Some("app.ndjson.gz"));
        assert_eq!(near("APP.ndjson").as_deref(), Some("app.ndjson.gz"));
        assert_eq!(near("levle.log").as_deref(), Some("level.log"));
        assert_eq!(near("lv.log"), None, "three edits away");
        assert_eq!(near("a"), None, "a short name is not guessed at");
    }

    #[test]
    fn the_credentials_of_every_url_in_a_message_are_left_out() {
        let shown = |t| without_credentials(t).into_owned();
        assert_eq!(
            shown("Resource 'https://deploy:s3cr3t@schemas.internal/u.json' and http://u:p@h:80?x"),
            "Resource 'https://…@schemas.internal/u.json' and http://…@h:80?x"
        );
        assert_eq!(
            shown("NATS://a:b@c@host/s"),
            "NATS://…@host/s",
            "the last @ ends the credentials"
        );
        assert_eq!(
            shown("nats://host/a@b http://x"),
            "nats://host/a@b http://x",
            "an @ in the path"
        );
        assert_eq!(shown("no url: a@b"), "no url: a@b");
        assert_eq!(shown("x://"), "x://");
        assert_eq!(
            shown(r"u =~ /^https:\/\/user:secret@h\/x/"),
            r"u =~ /^https:\/\/…@h\/x/",
            "escaped slashes"
        );
        assert_eq!(
            shown(r#"the first was "https://bob:SSSSS…)"#),
            r#"the first was "https://…)"#,
            "cut short inside its credentials"
        );
        assert_eq!(
            shown("at https://host:8080/x and https://h…"),
            "at https://host:8080/x and https://h…"
        );
        assert_eq!(
            path_name(Path::new("./http://u:p@h/in.ndjson")),
            "./http://…@h/in.ndjson"
        );
        assert_eq!(
            shown(r#"where u == "https:\u002f\u002fbob:s3cr3t@h/x" and"#),
            r#"where u == "…" and"#,
            "slashes written as escapes"
        );
        assert_eq!(
            shown(r#"where u == "https://bob:s3\u0063r3t\u0040h/x" and v == "a\"b""#),
            r#"where u == "…" and v == "a\"b""#,
            "an escape inside the password, and a string of other escapes"
        );
        assert_eq!(
            shown(r#"{"u":"https:\/\/bob:pw@h","v":"x\u0040y"}"#),
            r#"{"u":"https:\/\/…@h","v":"x\u0040y"}"#
        );
    }

    #[test]
    fn one_line_escapes_control_characters_and_cuts_long_text() {
        assert_eq!(one_line("a\nb\r\tc\u{1b}d", 100), "a\\nb\\r\\tc\\u{1b}d");
        assert_eq!(one_line("ééééé", 3), "ééé…");
        assert_eq!(one_line("abc", 3), "abc");
    }

    #[test]
    fn only_a_run_reading_nothing_but_stdin_waits_on_the_terminal() {
        assert!(reads_only_stdin(["-"]));
        assert!(reads_only_stdin(["-", "-"]));
        assert!(!reads_only_stdin(["-", "app.log"]));
        assert!(!reads_only_stdin(["app.log"]));
        assert!(!reads_only_stdin([]));
    }
}
