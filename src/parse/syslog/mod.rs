//! Syslog lines: RFC 3164 (BSD, as written to /var/log by rsyslog and syslog-ng) and RFC 5424, told apart per line.

use super::{Fields, Year, dash_null, typed};
use serde_json::{Map, Value};

pub(super) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses one syslog line; `year` completes RFC 3164 timestamps. Field rules are in the module documentation
/// of `parse`.
pub(super) fn parse(text: &str, year: Year) -> Option<Fields> {
    let (pri, rest) = priority(text)?;
    if let Some(pri) = pri
        && let Some((version, rest)) = version(rest)
    {
        return rfc5424(pri, version, rest);
    }
    rfc3164(pri, rest, year)
}

/// `<PRI>` (0 to 191) when the line starts with `<`; a malformed one does not match.
fn priority(text: &str) -> Option<(Option<u8>, &str)> {
    let Some(rest) = text.strip_prefix('<') else {
        return Some((None, text));
    };
    let close = rest.find('>')?;
    let digits = &rest[..close];
    if !(1..=3).contains(&digits.len()) || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let pri: u8 = digits.parse().ok().filter(|p| *p <= 191)?;
    Some((Some(pri), &rest[close + 1..]))
}

/// RFC 5424's `VERSION SP` right after `<PRI>`: 1 to 3 digits, not starting with 0.
fn version(rest: &str) -> Option<(&str, &str)> {
    let (v, after) = rest.split_once(' ')?;
    let ok = (1..=3).contains(&v.len()) && !v.starts_with('0') && v.bytes().all(|c| c.is_ascii_digit());
    ok.then_some((v, after))
}

fn insert_priority(f: &mut Fields, pri: u8) {
    f.insert("priority".into(), Value::from(pri));
    f.insert("facility".into(), Value::from(pri >> 3));
    f.insert("severity".into(), Value::from(pri & 7));
}

/// A PROCID or `[pid]`: a number when it is digits, `null` when empty or `-`, else a string.
fn pid(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else if s.bytes().all(|c| c.is_ascii_digit()) {
        typed(s)
    } else {
        dash_null(s)
    }
}

/// `TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`, single spaces between.
fn rfc5424(pri: u8, version: &str, rest: &str) -> Option<Fields> {
    let mut parts = rest.splitn(6, ' ');
    let mut header = [""; 5];
    for h in &mut header {
        *h = parts.next().filter(|p| !p.is_empty())?;
    }
    let [timestamp, host, app, procid, msgid] = header;
    if timestamp != "-" && !full_timestamp(timestamp) {
        return None;
    }
    let rest = parts.next()?;
    let sd_len = structured_data_len(rest)?;
    let message = match &rest[sd_len..] {
        "" => Value::Null,
        m => {
            let m = m.strip_prefix(' ')?;
            Value::String(m.strip_prefix('\u{feff}').unwrap_or(m).to_owned())
        }
    };
    let mut f = Map::with_capacity(16);
    insert_priority(&mut f, pri);
    f.insert("version".into(), typed(version));
    f.insert("timestamp".into(), dash_null(timestamp));
    f.insert("host".into(), dash_null(host));
    f.insert("program".into(), dash_null(app));
    f.insert("pid".into(), pid(procid));
    f.insert("msgid".into(), dash_null(msgid));
    f.insert("structured_data".into(), dash_null(&rest[..sd_len]));
    f.insert("message".into(), message);
    Some(f)
}

/// Length of the STRUCTURED-DATA at the start of `s`: `-` or `[id param="value" …]…`, where values may hold
/// `\"`, `\\`, `\]` and unescaped `]`.
fn structured_data_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() == Some(&b'-') {
        return Some(1);
    }
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        i += 1;
        let mut in_value = false;
        loop {
            match *b.get(i)? {
                b'\\' if in_value => i += 1,
                b'"' => in_value = !in_value,
                b']' if !in_value => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    (i > 0).then_some(i)
}

/// `[<PRI>]TIMESTAMP HOST TAG[PID]: MESSAGE`.
fn rfc3164(pri: Option<u8>, rest: &str, year: Year) -> Option<Fields> {
    let rest = rest.trim_start_matches(' ');
    let (timestamp, rest) = bsd_timestamp(rest, year).or_else(|| rfc3339_timestamp(rest))?;
    let rest = rest.trim_start_matches(' ');
    let host_end = rest.find(' ').unwrap_or(rest.len());
    if host_end == 0 {
        return None;
    }
    let host_token = &rest[..host_end];
    // Some senders omit the host: a first word that is itself a tag (`su:`, `sshd[42]:`) is not a host name.
    let (host, rest) = if host_token.ends_with(':') && tag(rest).0.is_some() {
        (Value::Null, rest)
    } else {
        (
            Value::String(host_token.to_owned()),
            rest.get(host_end + 1..).unwrap_or(""),
        )
    };
    let (program, procid, message) = tag(rest);
    let mut f = Map::with_capacity(16);
    if let Some(pri) = pri {
        insert_priority(&mut f, pri);
    }
    f.insert("timestamp".into(), Value::String(timestamp));
    f.insert("host".into(), host);
    f.insert(
        "program".into(),
        program.map_or(Value::Null, |p| Value::String(p.to_owned())),
    );
    f.insert("pid".into(), procid.map_or(Value::Null, pid));
    f.insert("message".into(), Value::String(message.to_owned()));
    Some(f)
}

/// `Mmm dd hh:mm:ss[.frac]` (day padded with a space or a zero, or not at all) → `YYYY-MM-DDThh:mm:ss[.frac]`.
fn bsd_timestamp(s: &str, year: Year) -> Option<(String, &str)> {
    let month = MONTHS.iter().position(|m| s.starts_with(m))? + 1;
    let rest = s[3..].strip_prefix(' ')?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let day_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=2).contains(&day_len) {
        return None;
    }
    let day: u32 = rest[..day_len].parse().ok()?;
    let rest = rest[day_len..].strip_prefix(' ')?;
    let b = rest.as_bytes();
    let two = |at: usize| -> Option<u32> {
        let d = b.get(at..at + 2)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| u32::from(d[0] - b'0') * 10 + u32::from(d[1] - b'0'))
    };
    let (h, m, sec) = (two(0)?, two(3)?, two(6)?);
    // A leap second is 23:59:60, as evq's times read it.
    let leap = sec == 60 && (h, m) == (23, 59);
    if b[2] != b':' || b[5] != b':' || h > 23 || m > 59 || (sec > 59 && !leap) {
        return None;
    }
    // The date exists in the year it is given, or does not match.
    let year = year.of(month as u32, day, h * 3600 + m * 60 + sec)?;
    let mut end = 8;
    if b.get(end) == Some(&b'.') {
        let frac = b[end + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if frac == 0 {
            return None;
        }
        end += 1 + frac;
    }
    if !matches!(b.get(end), None | Some(b' ')) {
        return None;
    }
    let time = format!("{year:04}-{month:02}-{day:02}T{}", &rest[..end]);
    Some((time, &rest[end..]))
}

/// rsyslog's high-precision `2026-03-27T13:06:56.123456+00:00`, kept as written.
fn rfc3339_timestamp(s: &str) -> Option<(String, &str)> {
    let end = s.find(' ').unwrap_or(s.len());
    let token = &s[..end];
    full_timestamp(token).then(|| (token.to_owned(), &s[end..]))
}

/// Whether `token` is a date, `T`, a time to the second and an offset, that evq reads as a
/// time (so `2003-13-11T…`, `…T22:14:60Z` and `…+25:00` are not).
fn full_timestamp(token: &str) -> bool {
    let b = token.as_bytes();
    let offset = b.get(19..).is_some_and(|t| t.iter().any(|c| b"Zz+-".contains(c)));
    matches!(b.get(10), Some(b'T' | b't')) && offset && crate::time::parse_rfc3339(b).is_some()
}

/// `TAG[PID]: MESSAGE` → (program, pid, message). The tag is the first word: a run without spaces, `[`, `]`
/// or `:`. It is followed by `[pid]` and/or a `:` that ends the word, or, as RFC 3164 §4.1.3 lets any
/// character that is not alphanumeric end a tag (`syslogd 1.4.1: restart.`), by a space or the end of the
/// text when the word starts with an ASCII letter or digit. Otherwise the whole text is the message.
fn tag(s: &str) -> (Option<&str>, Option<&str>, &str) {
    let none = (None, None, s);
    let b = s.as_bytes();
    let end = b
        .iter()
        .position(|c| matches!(c, b' ' | b'[' | b']' | b':'))
        .unwrap_or(b.len());
    if end == 0 {
        return none;
    }
    let mut i = end;
    let mut procid = None;
    if b.get(i) == Some(&b'[') {
        let Some(close) = s[i + 1..].find(']') else {
            return none;
        };
        procid = Some(&s[i + 1..i + 1 + close]);
        i += close + 2;
    }
    match (b.get(i), b.get(i + 1)) {
        (Some(b':'), None | Some(b' ')) => i += 1,
        (None | Some(b' '), _) if procid.is_some() || b.first().is_some_and(u8::is_ascii_alphanumeric) => {}
        _ => return none,
    }
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    (Some(&s[..end]), procid, &s[i..])
}

#[cfg(test)]
mod tests;
