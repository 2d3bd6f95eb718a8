//! Text formats turned into event fields: regex captures, logfmt, JSON, key=value, access logs and syslog.
//!
//! Used by the `parse FORMAT` stage and the `-i FORMAT` input option. [`parse`] reads one line (or one string
//! value) and returns its fields in a fixed, documented order, or `None` when the text does not match the
//! format. Parsing never panics, whatever the text: invalid UTF-8 has already been replaced by the caller,
//! NUL bytes and control characters are ordinary characters.
//!
//! Rules shared by every format:
//! - Values are strings unless a format says otherwise. [`typed`] turns text that is a valid JSON number
//!   into a number keeping its exact text (`200`, `-1.5`, `1e400`); anything else (`007`, `1.`, `+1`, `0x1f`,
//!   `NaN`) stays a string.
//! - Duplicate keys (logfmt, kv, JSON): the last value wins, at the position of the first.
//!
//! Formats and their fields:
//!
//! - `"PATTERN" as NAMES`: literal text with `*` holes, each named in turn (`_` drops one); see
//!   [`wildcard`]. Captures are typed.
//! - `/REGEX/`: each named capture `(?P<name>…)` becomes a field, in the order of the pattern, its text
//!   typed; a named group that took no part in the match is `null`; unnamed groups are ignored. The pattern
//!   is searched anywhere in the text (anchor it with `^…$` to match whole lines).
//! - `json`: the text is one JSON value (surrounding whitespace allowed, nesting up to 128). An object gives
//!   its fields in their order; any other value `v` gives `{"value": v}`. Numbers keep their exact text.
//! - `logfmt`: `key=value key2="quoted value" bare_key`, separated by whitespace. A key is a run of
//!   characters other than whitespace, `=` and `"`. A bare value runs to the next whitespace (it may hold `=`
//!   and `"`) and is typed; `key=` gives `""`. A quoted value is always a string; it takes the JSON escapes
//!   (`\"` `\\` `\n` `\t` `\uXXXX`…; an unknown escape is kept as written) and must be followed by whitespace
//!   or the end. A key without `=` is `true`. No match: no pair at all, an empty key (`=x`), a `"` in a key,
//!   an unclosed quote.
//! - `kv`: `key=value` pairs found anywhere in free text, separated by whitespace, `,` or `;`
//!   (`user=bob, action=login; n=3`). The value separator is `=` only: `key:value` and `key: value` are not
//!   pairs, because colons appear inside times, URLs and IPv6 addresses. A key is a run of characters other
//!   than separators and `=`; a bare value runs to the next separator (it may hold `=`) and is typed; `key=`
//!   gives `""`. Quoted values (`"…"` or `'…'`, with `\"`, `\'` and `\\` unescaped) are strings and may hold
//!   separators. Words without `=` are ignored, and so is a quoted string that is not a value
//!   (`"a=b"` gives no pair). No match: no pair at all, or a quoted value that is never closed.
//! - `common`: `client ident user [time] "request" status bytes`; `combined` adds `"referrer" "agent"`.
//!   Fields, in order: `client`, `ident`, `user`, `time` (the bracketed text as written, e.g.
//!   `10/Oct/2000:13:55:36 -0700`), `method`, `path`, `protocol`, `status` (number), `bytes` (number), and
//!   for `combined` `referrer` and `agent`. The request is split into `method`, `path` and `protocol`; a
//!   path holding spaces is accepted when the last part starts with `HTTP/`. A request that does not split
//!   (`-`, `GET /`, binary junk) leaves those three `null` and adds `request` (after `protocol`) with the raw
//!   text. A `-` in any field becomes `null`. Quoted fields unescape `\"` and `\\` (other escapes such as
//!   `\x16` are kept as written); a `"` that is not followed by whitespace or the end of the line is part of
//!   the text, so unescaped quotes inside user agents survive. Fields are separated by spaces or tabs; text
//!   after the last field (nginx's extra fields) is ignored, so `common` also reads combined lines. Status
//!   and bytes must be digits or `-`. No match: a missing field, an unclosed quote or bracket.
//! - `syslog`: RFC 5424 when the line starts with `<PRI>` and a version number, otherwise RFC 3164.
//!   - RFC 3164, `[<PRI>]TIMESTAMP HOST TAG[PID]: MESSAGE`: `priority`, `facility`, `severity` (numbers,
//!     only when the line has `<PRI>`), `timestamp`, `host`, `program`, `pid`, `message`. `Mmm dd hh:mm:ss`
//!     (day padded with a space or zero; optional `.fraction`) has no year or zone: it becomes
//!     `YYYY-MM-DDThh:mm:ss` in the year [`Year`] gives it, without offset (evq reads it as UTC); an
//!     impossible date (`Feb 29` of a common year with no leap year to fall back on) does not match. rsyslog's RFC 3339 timestamps
//!     (`2026-03-27T13:06:56.123456+00:00`) are kept as written. The tag is the first word (a run without
//!     spaces, `[`, `]` or `:`), followed by `[pid]` and/or a `:` that ends the word (`sshd[42]:`, `su:`,
//!     `cron[7]`), or by a space or the end of the line when the word starts with an ASCII letter or digit
//!     (RFC 3164 §4.1.3: any character that is not alphanumeric ends the tag, so `syslogd 1.4.1: restart.`
//!     gives `program` `syslogd` and `message` `1.4.1: restart.`); `pid` is a number when it is digits,
//!     `null` when absent, else a string. Without a tag (`12:30 …`, `-- MARK --`), `program` and `pid` are
//!     `null` and `message` is the whole rest. A first word that is itself a tag (`su:`) means
//!     the host was omitted: `host` is `null`.
//!   - RFC 5424, `<PRI>VERSION TIMESTAMP HOST APP PROCID MSGID SD [MSG]`: `priority`, `facility`,
//!     `severity`, `version`, `timestamp` (as written), `host`, `program` (APP-NAME), `pid` (PROCID, a
//!     number when digits), `msgid`, `structured_data` (the raw `[…]` text), `message` (`null` when absent;
//!     a leading BOM removed). `-` becomes `null`.
//!   - `facility` is PRI / 8 and `severity` PRI % 8. No match: a PRI over 191 or malformed, no timestamp,
//!     no host, or (RFC 5424) a missing header field or unclosed structured data.

pub(crate) mod access;
mod kv;
mod logfmt;
#[cfg(test)]
mod props;
mod syslog;
pub(crate) mod wildcard;

use serde_json::{Map, Number, Value};
use std::borrow::Cow;

/// The fields of one parsed text, in output order.
pub(crate) type Fields = Map<String, Value>;

/// A text format that [`parse`] understands.
#[derive(Debug, Clone)]
pub(crate) enum TextFormat {
    /// Named captures `(?P<name>…)` become fields; unnamed groups are ignored.
    Regex(regex::Regex),
    /// `key=value key2="quoted value" bare_key`.
    Logfmt,
    /// One JSON value: an object gives its fields, anything else `{"value": v}`.
    Json,
    /// `key=value` pairs separated by whitespace, `,` or `;`, found anywhere in free text.
    Kv,
    /// Apache/nginx combined access log.
    Combined,
    /// Common Log Format (Apache/nginx access log without referrer and agent).
    Common,
    /// RFC 3164 (its timestamp has no year: `year` gives it) or RFC 5424, detected per line.
    Syslog { year: Year },
    /// An angle-grinder pattern: literal text with `*` holes, each named.
    Wildcard(wildcard::Wildcard),
}

/// The year RFC 3164 timestamps, which have none, are completed with: `--year`, or the year
/// of the input's modification time (of now, for standard input), except that a date more
/// than a day past that time is of the year before, since no line was written after its file
/// was: a log written across New Year has December's lines before January's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Year {
    pub(crate) year: i32,
    /// The time (Unix seconds) no line of the input is later than; none with `--year`.
    pub(crate) latest: Option<i64>,
}

impl Year {
    /// Always `year`, as `--year` gives it.
    pub(crate) fn fixed(year: i32) -> Year {
        Year { year, latest: None }
    }

    /// The year of the date `month`/`day`, at `seconds` into the day (read as UTC); `None`
    /// when no year it may be in has that date (`Feb 29` of a common year, `Apr 31`).
    pub(crate) fn of(&self, month: u32, day: u32, seconds: u32) -> Option<i32> {
        let at = |year: i32| {
            let midnight = chrono::NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(0, 0, 0)?;
            Some(midnight.and_utc().timestamp() + i64::from(seconds))
        };
        let Some(latest) = self.latest else {
            return at(self.year).map(|_| self.year);
        };
        // The latest year that has the date no more than a day past the latest time: the year
        // before for a date past it (a log written across New Year), the last leap year for Feb
        // 29 (at most 8 years back, around 2100).
        (0..=8)
            .map(|back| self.year - back)
            .find(|&y| at(y).is_some_and(|t| t <= latest + 86_400))
    }

    /// The year of a date written `Mmm`, `dd` and `hh:mm:ss` as syslog writes them; `year`
    /// when they do not read.
    pub(crate) fn of_written(&self, month: &str, day: &str, clock: &str) -> i32 {
        let month = syslog::MONTHS.iter().position(|m| *m == month);
        let seconds = clock
            .split(':')
            .take(3)
            .zip([3600, 60, 1])
            .map(|(part, scale)| part.parse::<u32>().ok().and_then(|n| n.checked_mul(scale)))
            .try_fold(0u32, |sum, n| sum.checked_add(n?));
        match (month, day.parse::<u32>(), seconds) {
            (Some(m), Ok(day), Some(seconds)) => self.of(m as u32 + 1, day, seconds).unwrap_or(self.year),
            _ => self.year,
        }
    }
}

impl TextFormat {
    /// The names `from_name` accepts, as users type them.
    pub(crate) const NAMES: &[&str] = &["logfmt", "json", "kv", "combined", "common", "syslog"];

    /// The format a name stands for; `year` completes RFC 3164 syslog timestamps. `None` for unknown names
    /// (regexes are built by the caller from `/…/` literals).
    pub(crate) fn from_name(name: &str, year: Year) -> Option<TextFormat> {
        Some(match name {
            "logfmt" => TextFormat::Logfmt,
            "json" => TextFormat::Json,
            "kv" => TextFormat::Kv,
            "combined" => TextFormat::Combined,
            "common" => TextFormat::Common,
            "syslog" => TextFormat::Syslog { year },
            _ => return None,
        })
    }

    /// The name of this format as users type it (`regex` for a pattern).
    pub(crate) fn name(&self) -> &'static str {
        match self {
            TextFormat::Regex(_) => "regex",
            TextFormat::Logfmt => "logfmt",
            TextFormat::Json => "json",
            TextFormat::Kv => "kv",
            TextFormat::Combined => "combined",
            TextFormat::Common => "common",
            TextFormat::Syslog { .. } => "syslog",
            TextFormat::Wildcard(_) => "wildcard",
        }
    }
}

/// Which fields a caller keeps.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Want {
    #[default]
    All,
    /// Only these keys are read later, so only these need to be built.
    Only(Vec<Box<str>>),
}

impl Want {
    pub(crate) fn has(&self, key: &str) -> bool {
        match self {
            Want::All => true,
            Want::Only(keys) => keys.iter().any(|k| &**k == key),
        }
    }
}

/// Parses one line; None when it does not match the format.
pub(crate) fn parse(fmt: &TextFormat, text: &str) -> Option<Fields> {
    parse_only(fmt, text, &Want::All)
}

/// Like [`parse`], but the fields outside `want` may be left out. Whether the text matches does not depend
/// on `want`.
pub(crate) fn parse_only(fmt: &TextFormat, text: &str, want: &Want) -> Option<Fields> {
    match fmt {
        TextFormat::Regex(re) => captures(re, text),
        TextFormat::Logfmt => logfmt::parse(text),
        TextFormat::Json => json(text),
        TextFormat::Kv => kv::parse(text),
        TextFormat::Combined => access::parse(text, true, access::Mask::new(want)),
        TextFormat::Common => access::parse(text, false, access::Mask::new(want)),
        TextFormat::Syslog { year } => syslog::parse(text, *year),
        TextFormat::Wildcard(w) => w.parse(text),
    }
}

/// A capture or value that looks like a JSON number becomes a number (keeping its text exactly);
/// everything else stays a string.
pub(crate) fn typed(s: &str) -> Value {
    if is_json_number(s) {
        Value::Number(Number::from_string_unchecked(s.to_owned()))
    } else {
        Value::String(s.to_owned())
    }
}

/// True when `s` is exactly a JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `-` becomes `null`; any other text a string.
fn dash_null(s: &str) -> Value {
    if s == "-" {
        Value::Null
    } else {
        Value::String(s.to_owned())
    }
}

/// Reads a quoted string whose opening quote (`"` or `'`) is at byte `open` of `s`. Returns its text with
/// `\\` and backslash-quote unescaped (other backslash sequences are kept as written) and the index just after
/// the closing quote. An unescaped quote closes the string only where `closes(next byte)` allows it; otherwise
/// it is part of the text. `None` when the string is not closed. The text is borrowed when nothing is
/// unescaped.
fn quoted(s: &str, open: usize, closes: impl Fn(Option<u8>) -> bool) -> Option<(Cow<'_, str>, usize)> {
    let b = s.as_bytes();
    let q = b[open];
    let mut out: Option<String> = None;
    let (mut seg, mut i) = (open + 1, open + 1);
    while let Some(at) = memchr::memchr2(b'\\', q, &b[i..]) {
        i += at;
        if b[i] == b'\\' {
            if matches!(b.get(i + 1), Some(&c) if c == q || c == b'\\') {
                out.get_or_insert_default().push_str(&s[seg..i]);
                seg = i + 1;
                i += 2;
            } else {
                i += 1;
            }
        } else if closes(b.get(i + 1).copied()) {
            let text = match out {
                None => Cow::Borrowed(&s[seg..i]),
                Some(mut o) => {
                    o.push_str(&s[seg..i]);
                    Cow::Owned(o)
                }
            };
            return Some((text, i + 1));
        } else {
            i += 1;
        }
    }
    None
}

fn captures(re: &regex::Regex, text: &str) -> Option<Fields> {
    let caps = re.captures(text)?;
    let mut fields = Map::new();
    for (i, name) in re.capture_names().enumerate() {
        if let Some(name) = name {
            let v = caps.get(i).map_or(Value::Null, |m| typed(m.as_str()));
            fields.insert(name.to_owned(), v);
        }
    }
    Some(fields)
}

fn json(text: &str) -> Option<Fields> {
    match crate::json::tree(text.trim()).ok()? {
        Value::Object(fields) => Some(fields),
        v => Some(Map::from_iter([("value".to_owned(), v)])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn re(p: &str) -> TextFormat {
        TextFormat::Regex(regex::Regex::new(p).expect("test pattern"))
    }

    #[test]
    fn typed_numbers_keep_their_text() {
        assert_eq!(typed("200"), json!(200));
        assert_eq!(typed("-1.50").to_string(), "-1.50");
        assert_eq!(typed("1e400").to_string(), "1e400");
        assert_eq!(typed("18446744073709551616").to_string(), "18446744073709551616");
        assert_eq!(typed("0"), json!(0));
        assert_eq!(typed("-0").to_string(), "-0");
    }

    #[test]
    fn typed_non_json_numbers_stay_strings() {
        for s in [
            "007", "1.", ".5", "+1", "0x1f", "NaN", "inf", " 1", "1 ", "", "-", "1e", "1e+", "12a", "٣",
        ] {
            assert_eq!(typed(s), Value::String(s.to_owned()), "{s:?}");
        }
    }

    #[test]
    fn from_name_knows_every_name() {
        for name in TextFormat::NAMES {
            let fmt = TextFormat::from_name(name, Year::fixed(2026)).expect("listed name");
            assert_eq!(fmt.name(), *name);
        }
        assert!(TextFormat::from_name("xml", Year::fixed(2026)).is_none());
        assert!(TextFormat::from_name("JSON", Year::fixed(2026)).is_none());
        assert_eq!(
            TextFormat::from_name("syslog", Year::fixed(1999)).map(|f| f.name()),
            Some("syslog")
        );
    }

    #[test]
    fn a_date_past_the_latest_time_of_its_input_is_of_the_year_before() {
        // 2026-01-01T00:05:00Z: a file last written just after New Year.
        let year = Year {
            year: 2026,
            latest: Some(1_767_225_900),
        };
        assert_eq!(year.of(12, 31, 86_390), Some(2025));
        assert_eq!(year.of(1, 1, 10), Some(2026));
        // A local time up to a day ahead of UTC is still this year's.
        assert_eq!(year.of(1, 1, 86_399), Some(2026));
        assert_eq!(year.of(1, 2, 86_399), Some(2025));
        assert_eq!(year.of(4, 31, 0), None);
        assert_eq!(year.of_written("Dec", "31", "23:59:50"), 2025);
        assert_eq!(year.of_written("Dec", "x", "23:59:50"), 2026);
        assert_eq!(year.of_written("Dec", "31", "99999999:00:00"), 2026);
        // Feb 29 of a common year is the leap year's before it, when that has one.
        let in_2025 = Year {
            year: 2025,
            latest: Some(1_736_467_200),
        };
        assert_eq!(in_2025.of(2, 29, 0), Some(2024));
        // Two years after a leap year: the last leap year, whatever the modification time's.
        let in_2026 = Year {
            year: 2026,
            latest: Some(1_780_272_000),
        };
        assert_eq!(in_2026.of(2, 29, 43_200), Some(2024));
        let in_2104 = Year {
            year: 2104,
            latest: Some(4_232_908_800),
        };
        // 2104-02-20: its Feb 29 is to come, and 2100 is no leap year.
        assert_eq!(in_2104.of(2, 29, 0), Some(2096));
        assert_eq!(Year::fixed(2025).of(12, 31, 0), Some(2025));
        assert_eq!(Year::fixed(2025).of(2, 29, 0), None);
    }

    #[test]
    fn regex_named_captures_become_typed_fields() {
        let f = parse(
            &re(r"^(?P<level>\w+) (\d+) took (?P<ms>\d+)ms(?: user=(?P<user>\w+))?$"),
            "INFO 42 took 17ms",
        );
        assert_eq!(
            Value::Object(f.expect("matches")),
            json!({"level": "INFO", "ms": 17, "user": null})
        );
    }

    #[test]
    fn regex_no_match_is_none() {
        assert!(parse(&re(r"^(?P<a>\d+)$"), "abc").is_none());
        let f = parse(&re(r"x"), "axb").expect("matches without names");
        assert!(f.is_empty());
    }

    #[test]
    fn regex_keeps_leading_zeros_and_empty_captures_as_strings() {
        let f = parse(&re(r"(?P<code>\d+)-(?P<rest>.*)"), "007-").expect("matches");
        assert_eq!(Value::Object(f), json!({"code": "007", "rest": ""}));
    }

    #[test]
    fn json_object_gives_its_fields_in_order() {
        let f = parse(&TextFormat::Json, r#" {"b":1,"a":{"x":1.0},"b":2} "#).expect("object");
        assert_eq!(
            serde_json::to_string(&f).expect("serializes"),
            r#"{"b":2,"a":{"x":1.0}}"#
        );
    }

    #[test]
    fn json_other_values_go_to_value() {
        assert_eq!(
            parse(&TextFormat::Json, "[1,2]").map(Value::Object),
            Some(json!({"value": [1, 2]}))
        );
        assert_eq!(
            parse(&TextFormat::Json, r#""hi""#).map(Value::Object),
            Some(json!({"value": "hi"}))
        );
        assert_eq!(
            parse(&TextFormat::Json, "null").map(Value::Object),
            Some(json!({"value": null}))
        );
    }

    #[test]
    fn json_invalid_is_none() {
        for s in ["", "{", "{\"a\":1} x", "hello", "{'a':1}", &"[".repeat(200)] {
            assert!(parse(&TextFormat::Json, s).is_none(), "{s:?}");
        }
    }

    #[test]
    fn quoted_unescapes_only_quote_and_backslash() {
        let s = r#""a\"b\\c\x22d" rest"#;
        assert_eq!(quoted(s, 0, |_| true), Some((r#"a"b\c\x22d"#.into(), 14)));
        assert_eq!(quoted(r#""abc\""#, 0, |_| true), None);
        let s = r#""a"b" c"#;
        let spaced = |n: Option<u8>| n.is_none_or(|c| c.is_ascii_whitespace());
        assert_eq!(quoted(s, 0, spaced), Some((r#"a"b"#.into(), 5)));
        assert!(matches!(
            quoted(r#""plain" x"#, 0, spaced),
            Some((Cow::Borrowed("plain"), 7))
        ));
    }
}
