//! Event time: RFC 3339 (fast path), Unix numbers by magnitude, Common Log Format,
//! and a user strftime format (`--time-format`, passed in); all to Unix seconds as f64.
//! Also the time zone of `--tz`: its offsets, and RFC 3339 text in it.

use chrono::format::{Item, Parsed, StrftimeItems, parse};
use chrono::{DateTime, Datelike, FixedOffset, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// True when `fmt` is a valid strftime format to read times with.
pub(crate) fn valid_format(fmt: &str) -> bool {
    !StrftimeItems::new(fmt).any(|i| matches!(i, Item::Error))
}

/// True when `fmt` is a strftime format that can write times: some that read times (`%#z`)
/// cannot, so a time in a zone with an offset is written with it once to see.
pub(crate) fn writable_format(fmt: &str) -> bool {
    let sample = DateTime::<Utc>::UNIX_EPOCH.with_timezone(&chrono_tz::Asia::Kolkata);
    valid_format(fmt) && written(sample.format(fmt)).is_some()
}

/// A chrono formatting as text, or `None` where chrono cannot write it: its `to_string` panics.
pub(crate) fn written(formatted: impl std::fmt::Display) -> Option<String> {
    use std::fmt::Write;
    let mut s = String::new();
    write!(s, "{formatted}").ok()?;
    Some(s)
}

/// The times evq reads and writes: years 0000 to 9999, which RFC 3339 can write. A time
/// past them is no time (a window bound would have no text).
const TIMES: std::ops::Range<f64> = -62_167_219_200.0..253_402_300_800.0;

/// Whether Unix second `t` is a time evq can write: years 0000 to 9999 (a window's end may
/// be the first instant past them, 10000-01-01, which it cannot).
pub(crate) fn writable(t: f64) -> bool {
    TIMES.contains(&t)
}

/// Unix seconds from a number: seconds, milli-, micro- or nanoseconds, the largest unit that
/// makes it a time evq can write (see [`unit_digits`]).
pub(crate) fn from_number(n: f64) -> Option<f64> {
    if !n.is_finite() {
        return None;
    }
    let t = n / 10f64.powi(unit_digits(n));
    TIMES.contains(&t).then_some(t)
}

/// An event time in whole microseconds, rounded, for spans that must compare exactly: a time
/// read from text with up to six decimals comes back as written (a double of today's times
/// keeps about a quarter of a microsecond), so `.002` is 2ms after `.000`.
pub(crate) fn micros(t: f64) -> i64 {
    (t * 1e6).round() as i64
}

/// Unix seconds from an integer, as [`from_decimal`] reads its text.
pub(crate) fn from_integer(i: i64) -> Option<f64> {
    match i.unsigned_abs() as f64 > crate::json::EXACT_INTEGERS {
        true => from_decimal(&i.to_string()),
        false => from_number(i as f64),
    }
}

/// How many decimal digits a number's unit is below a second: 0, 3 or 6 for the first of
/// seconds, milli- and microseconds that makes it a time in the years 0000 to 9999, else 9.
/// So every time evq writes as Unix seconds reads back as seconds, 9999-12-31 included; the
/// price is that milliseconds before 1978-01-12 (below 253402300800) read as seconds.
fn unit_digits(n: f64) -> i32 {
    [0, 3, 6]
        .into_iter()
        .find(|&d| TIMES.contains(&(n / 10f64.powi(d))))
        .unwrap_or(9)
}

/// Unix seconds from a number written in decimal (JSON's syntax), as [`from_number`], but
/// never rounded into the next second: `1767225599.9999999` is a double's 1767225600, a
/// second later, and so is the integer `1767225599999999999` (nanoseconds), so the time is
/// the last double of its own second, as for RFC 3339 times.
pub(crate) fn from_decimal(text: &str) -> Option<f64> {
    let n: f64 = text.parse().ok()?;
    let t = from_number(n)?;
    // Rounding up past a second lands on the next whole second (a double), and only digits
    // after a point (or an exponent), or an integer past 2^53, can round: other times need
    // no exact look.
    if t.fract() != 0.0 || !(text.contains(['.', 'e', 'E']) || n.abs() > crate::json::EXACT_INTEGERS) {
        return Some(t);
    }
    match whole_seconds(text, unit_digits(n)) {
        Some(second) => Some(t.min(last_before(second + 1.0))),
        None => Some(t),
    }
}

/// The whole seconds (rounded down) of the decimal `text` counted in units of 10^-`unit`
/// seconds, exactly; `None` if it is not a decimal number of at most 30 whole digits.
fn whole_seconds(text: &str, unit: i32) -> Option<f64> {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = || int.bytes().chain(frac.bytes());
    if int.is_empty() || !digits().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // The digits before the point once the exponent and the unit moved it.
    let point = i32::try_from(int.len()).ok()?.checked_add(exp)?.checked_sub(unit)?;
    let whole_len = usize::try_from(point.max(0)).ok()?;
    if whole_len > 30 {
        return None;
    }
    let mut whole: i128 = 0;
    let mut rest_nonzero = false;
    let mut all = digits().map(|b| i128::from(b - b'0'));
    for i in 0..whole_len.max(int.len() + frac.len()) {
        let d = all.next().unwrap_or(0);
        if i < whole_len {
            whole = whole * 10 + d;
        } else {
            rest_nonzero |= d != 0;
        }
    }
    if negative {
        whole = -whole - i128::from(rest_nonzero);
    }
    Some(whole as f64)
}

/// Unix seconds from text in any accepted format; `user` (`--time-format`) is tried after
/// the built-in ones.
pub(crate) fn parse_str(s: &str, user: Option<&str>) -> Option<f64> {
    parse_text(s.trim(), user).filter(|t| TIMES.contains(t))
}

fn parse_text(s: &str, user: Option<&str>) -> Option<f64> {
    if let Some(t) = parse_rfc3339(s.as_bytes()) {
        return Some(t);
    }
    if let Some(t) = parse_clf(s) {
        return Some(t);
    }
    if let Some(t) = user.and_then(|fmt| strptime(s, fmt)) {
        return Some(t);
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') {
        return from_decimal(s);
    }
    None
}

/// Unix seconds of `s` read with the strftime format `fmt`: with an offset (`%z`) as
/// written, without one as UTC; a time of day without minutes or seconds starts at the whole
/// hour or minute, and a date alone is its midnight. All of the text must be read.
pub(crate) fn strptime(s: &str, fmt: &str) -> Option<f64> {
    let mut p = Parsed::new();
    parse(&mut p, s.trim(), StrftimeItems::new(fmt)).ok()?;
    // Seconds since the epoch (`%s`) say the whole time.
    let partial = p.timestamp().is_none();
    if partial && p.hour_div_12().is_none() && p.hour_mod_12().is_none() {
        p.set_hour(0).ok()?;
    }
    if partial && p.minute().is_none() {
        p.set_minute(0).ok()?;
    }
    if partial && p.second().is_none() {
        p.set_second(0).ok()?;
    }
    match p.offset() {
        Some(_) => p.to_datetime().ok().and_then(|dt| unix_seconds(&dt)),
        None => p
            .to_naive_datetime_with_offset(0)
            .ok()
            .and_then(|dt| unix_seconds(&dt.and_utc())),
    }
}

/// Unix seconds of a time chrono read, if it is in the years 0000 to 9999. Chrono reads second 60 of any minute, as a second 59
/// that lasts two: only 23:59:60 UTC is a leap second, counted as the day's last second, as
/// RFC 3339 times are; any other is no time.
pub(crate) fn unix_seconds<Tz: TimeZone>(dt: &DateTime<Tz>) -> Option<f64> {
    let whole = dt.timestamp();
    let nanos = dt.timestamp_subsec_nanos();
    let t = if nanos < 1_000_000_000 {
        whole as f64 + f64::from(nanos) / 1e9
    } else {
        let last_of_day = whole.rem_euclid(86_400) == 86_399;
        last_of_day.then(|| within_second(whole as f64, f64::from(nanos - 1_000_000_000) / 1e9))?
    };
    writable(t).then_some(t)
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = b.get(at..at + n)?;
    part.iter().try_fold(0i64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

/// How many days month `m` (1 to 12) of year `y` has: no February 30 rolls into March.
fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD[(T| )HH:MM[:SS[.frac]]][Z|±hh:mm|±hhmm]`; no offset means UTC.
pub(crate) fn parse_rfc3339(b: &[u8]) -> Option<f64> {
    let (y, mo, d) = (digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?);
    if b[4] != b'-' || b[7] != b'-' || !(1..=12).contains(&mo) || !(1..=days_in_month(y, mo)).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if b.len() == 10 {
        return Some((days * 86400) as f64);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (h, mi) = (digits(b, 11, 2)?, digits(b, 14, 2)?);
    if b[13] != b':' || h > 23 || mi > 59 {
        return None;
    }
    let mut i = 16;
    let mut sec = 0;
    if b.get(i) == Some(&b':') {
        sec = digits(b, 17, 2)?;
        if sec > 60 {
            return None;
        }
        i = 19;
    }
    let mut frac = 0.0;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let f = &b[start..i.min(start + 9)];
        let n = f.iter().fold(0u64, |a, c| a * 10 + u64::from(c - b'0'));
        frac = n as f64 / 10f64.powi(f.len() as i32);
    }
    let offset = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(b, i + 1, 2)?;
            let om = match b.len() - i {
                6 if b[i + 3] == b':' => digits(b, i + 4, 2)?,
                5 => digits(b, i + 3, 2)?,
                3 => 0,
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    if sec == 60 {
        // A leap second is 23:59:60 UTC; it counts as the last second of its day.
        if (h * 3600 + mi * 60 + 59 - offset).rem_euclid(86400) != 86399 {
            return None;
        }
        sec = 59;
    }
    Some(within_second(
        (days * 86400 + h * 3600 + mi * 60 + sec - offset) as f64,
        frac,
    ))
}

/// The time `frac` (below 1) after the whole second `second`, never rounded up into the next
/// second: a double keeps about a quarter of a microsecond of today's times, so
/// `…:59.999999999` stays in its second, minute and day.
fn within_second(second: f64, frac: f64) -> f64 {
    (second + frac).min(last_before(second + 1.0))
}

/// The double just below `next`.
fn last_before(next: f64) -> f64 {
    match next {
        0.0 => -f64::from_bits(1),
        n if n > 0.0 => f64::from_bits(n.to_bits() - 1),
        n => f64::from_bits(n.to_bits() + 1),
    }
}

/// Common Log Format: `10/Oct/2000:13:55:36 -0700`.
pub(crate) fn parse_clf(s: &str) -> Option<f64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = s.as_bytes();
    if b.len() != 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[20] != b' ' {
        return None;
    }
    let mo = MONTHS.iter().position(|m| *m == &s[3..6])? as i64 + 1;
    let iso = format!(
        "{}-{:02}-{}T{}{}:{}",
        &s[7..11],
        mo,
        &s[0..2],
        &s[12..20],
        &s[21..24],
        &s[24..26]
    );
    parse_rfc3339(iso.as_bytes())
}

/// Formats Unix seconds with a strftime format, in UTC.
pub(crate) fn strftime(t: f64, fmt: &str) -> Option<String> {
    written(utc_of(t, fmt)?.format(fmt))
}

/// Unix seconds as a UTC time, to be formatted with `fmt`; `None` for a format that is not
/// valid or a time out of range.
pub(crate) fn utc_of(t: f64, fmt: &str) -> Option<DateTime<Utc>> {
    if !writable_format(fmt) {
        return None;
    }
    let (secs, nanos) = seconds_and_nanos(t)?;
    DateTime::<Utc>::from_timestamp(secs, nanos)
}

/// Unix seconds as whole seconds and nanoseconds, the fraction to the nearest microsecond (an
/// f64 holds 1.123 as 1.12299…, which must print .123) but never rounded up into the next
/// second (…59.9999999 stays in its minute). `None` out of range.
fn seconds_and_nanos(t: f64) -> Option<(i64, u32)> {
    let secs = t.floor();
    if !secs.is_finite() || secs.abs() > 9.0e15 {
        return None;
    }
    let micros = ((t - secs) * 1e6).round().min(999_999.0);
    Some((secs as i64, micros as u32 * 1000))
}

/// Days from the Monday that starts the epoch's ISO week (1969-12-29) to the epoch, a
/// Thursday: windows of whole weeks are counted from that Monday (ISO 8601).
pub(crate) const EPOCH_WEEKDAY: i64 = 3;

/// How far before the epoch UTC windows of `len` seconds are counted from: whole weeks from
/// the Monday before it, anything else from the epoch itself.
pub(crate) fn utc_shift(len: f64) -> f64 {
    const WEEK: f64 = 7.0 * 86_400.0;
    let weeks = len >= WEEK && (len / WEEK).fract() == 0.0;
    if weeks { (EPOCH_WEEKDAY * 86_400) as f64 } else { 0.0 }
}

/// Which slot of `len` seconds, counted from `shift` seconds before the Unix epoch, holds Unix
/// second `t`. Counted in whole nanoseconds of `t` as it is written (to the microsecond), since
/// dividing floats puts an instant on a boundary (…00.100 in slots of 100ms) in the slot before.
pub(crate) fn slot(t: f64, len: f64, shift: f64) -> i64 {
    let Some((secs, nanos)) = seconds_and_nanos(t) else {
        return ((t + shift) / len).floor() as i64;
    };
    let at = i128::from(secs) * 1_000_000_000 + i128::from(nanos) + nanos_of(shift);
    let len = nanos_of(len).max(1);
    // Times up to the year 2262 are in reach of an i64 of nanoseconds, whose division is faster.
    if let (Ok(at), Ok(len)) = (i64::try_from(at), i64::try_from(len)) {
        return at.div_euclid(len);
    }
    let n = at.div_euclid(len);
    i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
}

/// Where slot `n` of [`slot`] starts, in Unix seconds.
pub(crate) fn slot_start(n: i64, len: f64, shift: f64) -> f64 {
    let at = i128::from(n) * nanos_of(len).max(1) - nanos_of(shift);
    let secs = at.div_euclid(1_000_000_000);
    secs as f64 + at.rem_euclid(1_000_000_000) as f64 / 1e9
}

/// A duration in seconds as whole nanoseconds.
fn nanos_of(seconds: f64) -> i128 {
    (seconds * 1e9).round() as i128
}

/// RFC 3339 text of Unix seconds, UTC, with milliseconds only when needed.
pub(crate) fn rfc3339(t: f64) -> String {
    let fmt = if t.fract() == 0.0 {
        "%Y-%m-%dT%H:%M:%SZ"
    } else {
        "%Y-%m-%dT%H:%M:%S%.3fZ"
    };
    strftime(t, fmt).unwrap_or_default()
}

/// The IANA time zone `name` (`Europe/Berlin`), or why not: the nearest names, so the message
/// is one line with a hint.
pub(crate) fn zone(name: &str) -> Result<Tz, String> {
    if let Ok(tz) = name.parse::<Tz>() {
        return Ok(tz);
    }
    let near = nearest_zones(name);
    let hint = match (fixed_offset(name), near.as_slice()) {
        (Some(hint), _) => hint,
        (None, _) if name.trim().is_empty() => {
            "the name is empty: write an IANA time zone such as Europe/Berlin".to_string()
        }
        (None, _) if name.trim().eq_ignore_ascii_case("z") => "the zone of times written with Z is UTC".to_string(),
        (None, []) => "write an IANA time zone such as Europe/Berlin, America/New_York or UTC".to_string(),
        (None, names) => format!("did you mean {}?", names.join(" or ")),
    };
    Err(format!("unknown time zone `{name}`; {hint}"))
}

/// For a fixed offset written `UTC+1`, `GMT-05` or `UTC+05:30`, the zone to write instead: a
/// whole hour is `Etc/GMT-1`, whose sign POSIX inverts; other offsets have no such zone.
fn fixed_offset(name: &str) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    let rest = upper.strip_prefix("UTC").or_else(|| upper.strip_prefix("GMT"))?;
    let (sign, rest) = rest.split_at_checked(1).filter(|(s, _)| matches!(*s, "+" | "-"))?;
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "00"));
    let hours: u8 = hours.parse().ok().filter(|_| (1..=2).contains(&hours.len()))?;
    let minutes: u8 = minutes.parse().ok()?;
    let inverted = if sign == "+" { '-' } else { '+' };
    let whole = minutes == 0 && (if sign == "+" { hours <= 14 } else { hours <= 12 });
    Some(match whole {
        true => format!(
            "a fixed offset of {sign}{hours} hours is Etc/GMT{inverted}{hours} (POSIX inverts the sign), or write the zone of a place, which follows its daylight saving time"
        ),
        false => "write the zone of a place with that offset, such as Asia/Kolkata for +05:30".to_string(),
    })
}

/// At most three zone names closest to `name`: the same name in other letter case or the zones
/// whose city is `name` (`Berlin`), else those fewest typing mistakes away.
fn nearest_zones(name: &str) -> Vec<&'static str> {
    let lower = name.to_lowercase();
    let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
    let mut scored: Vec<(usize, &'static str)> = names
        .filter_map(|n| {
            let l = n.to_lowercase();
            let city = l.rsplit('/').next().unwrap_or(&l);
            let d = if l == lower || city == lower.replace(' ', "_") {
                0
            } else {
                strsim::damerau_levenshtein(&lower, &l)
            };
            (d <= 2.max(l.len() / 4)).then_some((d, n))
        })
        .collect();
    scored.sort_unstable();
    let best = scored.first().map_or(0, |s| s.0);
    scored
        .into_iter()
        .take_while(|s| s.0 == best)
        .take(3)
        .map(|(_, n)| n)
        .collect()
}

/// True for the zones that are UTC itself, whose times are written with `Z`.
pub(crate) fn is_utc(tz: Tz) -> bool {
    matches!(
        tz,
        Tz::UTC | Tz::Etc__UTC | Tz::Etc__Universal | Tz::Universal | Tz::Zulu | Tz::Etc__Zulu
    )
}

/// The offset from UTC, in seconds, of `zone` at Unix second `t` (0 beyond the dates chrono
/// knows, where no zone has rules).
pub(crate) fn offset_at(zone: Tz, t: f64) -> i64 {
    if is_utc(zone) || !t.is_finite() || t.abs() > 9.0e15 {
        return 0;
    }
    match DateTime::<Utc>::from_timestamp(t.floor() as i64, 0) {
        Some(dt) => i64::from(zone.offset_from_utc_datetime(&dt.naive_utc()).fix().local_minus_utc()),
        None => 0,
    }
}

/// RFC 3339 text of Unix seconds in `zone`, with milliseconds only when needed: `Z` in UTC,
/// the zone's offset at that instant otherwise (`2026-03-29T00:00:00+01:00`).
pub(crate) fn rfc3339_in(t: f64, zone: Tz) -> String {
    if is_utc(zone) {
        return rfc3339(t);
    }
    let fmt = if t.fract() == 0.0 {
        "%Y-%m-%dT%H:%M:%S%:z"
    } else {
        "%Y-%m-%dT%H:%M:%S%.3f%:z"
    };
    let Some((secs, nanos)) = seconds_and_nanos(t) else {
        return rfc3339(t);
    };
    match DateTime::<Utc>::from_timestamp(secs, nanos).map(|dt| in_zone(dt, zone)) {
        // Years 0000 to 9999 only, as evq reads them: past them, the time in UTC.
        Some(dt) if (0..=9999).contains(&dt.year()) => written(dt.format(fmt)).unwrap_or_else(|| rfc3339(t)),
        _ => rfc3339(t),
    }
}

/// The instant `dt` in `zone`, with the zone's offset at that instant rounded to the minute, as
/// RFC 3339 writes offsets: a zone's offset of old (local mean time, `-00:44:30` in Monrovia
/// until 1972) is written `-00:45` and the clock time shifted with it, so the text still
/// names the instant.
fn in_zone(dt: DateTime<Utc>, zone: Tz) -> DateTime<FixedOffset> {
    let exact = zone.offset_from_utc_datetime(&dt.naive_utc()).fix().local_minus_utc();
    let minutes = (f64::from(exact) / 60.0).round() as i32;
    match FixedOffset::east_opt(minutes * 60) {
        Some(offset) => dt.with_timezone(&offset),
        None => dt.fixed_offset(),
    }
}

/// `s` shown in `zone` when it is an RFC 3339 date-time with seconds and an offset
/// (`2026-03-29T10:00:00.250Z` in Europe/Berlin is `2026-03-29T12:00:00.250+02:00`): the same
/// instant, its fraction as written. `None` for any other text.
pub(crate) fn shown_in(s: &str, zone: Tz) -> Option<String> {
    let b = s.as_bytes();
    let offset_at = b.iter().rposition(|&c| matches!(c, b'Z' | b'z' | b'+' | b'-'))?;
    if b.len() < 20 || offset_at < 19 || !b[..19].is_ascii() || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let fraction = &s[19..offset_at];
    let digits = |f: &str| f.len() > 1 && f.bytes().skip(1).all(|c| c.is_ascii_digit());
    if !(fraction.is_empty() || fraction.starts_with(['.', ',']) && digits(fraction)) {
        return None;
    }
    let whole = format!("{}{}", &s[..19], &s[offset_at..]);
    let t = parse_rfc3339(whole.as_bytes())?;
    let dt = in_zone(DateTime::<Utc>::from_timestamp(t as i64, 0)?, zone);
    if !(0..=9999).contains(&dt.year()) {
        // Years 0000 to 9999 only, as evq reads them: the text is shown as written.
        return None;
    }
    let offset = if is_utc(zone) {
        "Z".into()
    } else {
        dt.format("%:z").to_string()
    };
    let sep = char::from(b[10]);
    Some(format!(
        "{}{sep}{}{fraction}{offset}",
        dt.format("%Y-%m-%d"),
        dt.format("%H:%M:%S")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_with_seconds_is_written_to_the_minute_and_the_text_names_the_instant() {
        let monrovia = zone("Africa/Monrovia").expect("zone");
        let t = parse_str("1971-06-01T00:44:30Z", None).expect("time");
        let text = rfc3339_in(t, monrovia);
        assert_eq!(text, "1971-05-31T23:59:30-00:45");
        assert_eq!(parse_str(&text, None), Some(t));
        let berlin = zone("Europe/Berlin").expect("zone");
        let shown = shown_in("0000-01-01T00:30:00+01:00", berlin).expect("shown");
        assert_eq!(shown, "0000-01-01T00:23:00+00:53");
        assert_eq!(parse_str(&shown, None), parse_str("0000-01-01T00:30:00+01:00", None));
    }

    #[test]
    fn times_shown_in_a_zone_stay_within_years_0000_to_9999() {
        let kiritimati = zone("Pacific/Kiritimati").expect("zone");
        let honolulu = zone("Pacific/Honolulu").expect("zone");
        assert_eq!(shown_in("9999-12-31T23:59:59-23:59", kiritimati), None);
        assert_eq!(shown_in("0000-01-01T00:00:00Z", honolulu), None);
        assert_eq!(
            shown_in("2026-01-01T00:00:00Z", kiritimati).as_deref(),
            Some("2026-01-01T14:00:00+14:00")
        );
        let end = parse_str("9999-12-31T23:59:59Z", None).expect("time");
        assert_eq!(rfc3339_in(end, kiritimati), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn a_decimal_time_stays_in_its_second() {
        let last = f64::from_bits(1_767_225_600f64.to_bits() - 1);
        for text in [
            "1767225599.9999999",
            "1767225599999.9999999",
            "1767225599999999.9999",
            "1.7672255999999999e9",
            "17672255999999999e-7",
        ] {
            assert_eq!(from_decimal(text), Some(last), "{text}");
        }
        assert_eq!(from_decimal("1767225600"), Some(1_767_225_600.0));
        assert_eq!(from_decimal("1767225600.0000001"), Some(1_767_225_600.0));
        assert_eq!(from_decimal("1767225599.5"), Some(1_767_225_599.5));
        assert_eq!(from_decimal("1767225600000"), Some(1_767_225_600.0));
        assert_eq!(from_decimal("-0.00000000000000001"), Some(-1e-17));
        // Second -2's start, where it belongs.
        assert_eq!(from_decimal("-1.9999999999999999"), Some(-2.0));
        assert_eq!(
            from_decimal("-1.00000000000000001"),
            Some(f64::from_bits((-1f64).to_bits() + 1))
        );
        assert_eq!(from_decimal("1e400"), None);
        assert_eq!(parse_str("1767225599.9999999", None), Some(last));
        // Nanoseconds past 2^53, as text or as an integer.
        assert_eq!(from_decimal("1767225599999999999"), Some(last));
        assert_eq!(from_integer(1_767_225_599_999_999_999), Some(last));
        assert_eq!(
            from_integer(-1_767_225_600_000_000_001),
            Some(f64::from_bits(1_767_225_600f64.to_bits() + 1).copysign(-1.0))
        );
        assert_eq!(from_integer(1_767_225_600_000_000_000), Some(1_767_225_600.0));
        assert_eq!(from_integer(1_767_225_599_000), Some(1_767_225_599.0));
    }

    #[test]
    fn zones_are_iana_names_and_a_wrong_one_gets_the_nearest() {
        assert_eq!(zone("Europe/Berlin"), Ok(Tz::Europe__Berlin));
        assert_eq!(zone("UTC"), Ok(Tz::UTC));
        let e = |n: &str| zone(n).expect_err("unknown");
        assert_eq!(
            e("Europe/Berln"),
            "unknown time zone `Europe/Berln`; did you mean Europe/Berlin?"
        );
        assert!(
            e("europe/berlin").contains("did you mean Europe/Berlin?"),
            "{}",
            e("europe/berlin")
        );
        assert!(e("Berlin").contains("Europe/Berlin"), "{}", e("Berlin"));
        assert!(e("New York").contains("America/New_York"), "{}", e("New York"));
        assert!(e("CEST").contains("CET") || e("CEST").contains("EST"), "{}", e("CEST"));
        assert_eq!(
            e("Nowhere/Atlantis-x"),
            "unknown time zone `Nowhere/Atlantis-x`; write an IANA time zone such as Europe/Berlin, America/New_York or UTC"
        );
        // A fixed offset is not "UTC" nearby: the hint names the Etc zone, sign inverted.
        assert!(
            e("UTC+1").contains("is Etc/GMT-1 (POSIX inverts the sign)"),
            "{}",
            e("UTC+1")
        );
        assert!(e("gmt-05").contains("of -5 hours is Etc/GMT+5"), "{}", e("gmt-05"));
        assert!(e("UTC+05:30").contains("Asia/Kolkata"), "{}", e("UTC+05:30"));
        assert!(
            e("Z").ends_with("the zone of times written with Z is UTC"),
            "{}",
            e("Z")
        );
        assert!(!e("UTC+1").contains("did you mean"), "{}", e("UTC+1"));
        assert!(
            e("").ends_with("the name is empty: write an IANA time zone such as Europe/Berlin"),
            "{}",
            e("")
        );
        assert_eq!(zone("Etc/GMT-1").map(Tz::name), Ok("Etc/GMT-1"));
    }

    #[test]
    fn rfc3339_text_with_an_offset_is_shown_in_the_zone_and_other_text_is_not() {
        let berlin = Tz::Europe__Berlin;
        let shown = |s: &str| shown_in(s, berlin);
        assert_eq!(
            shown("2026-03-29T10:00:00Z").as_deref(),
            Some("2026-03-29T12:00:00+02:00")
        );
        assert_eq!(
            shown("2026-03-29T00:30:00.250Z").as_deref(),
            Some("2026-03-29T01:30:00.250+01:00")
        );
        assert_eq!(
            shown("2026-11-01 10:00:00.123456789-05:00").as_deref(),
            Some("2026-11-01 16:00:00.123456789+01:00")
        );
        assert_eq!(
            shown("2026-11-01T10:00:00+0100").as_deref(),
            Some("2026-11-01T10:00:00+01:00")
        );
        assert_eq!(
            shown_in("2026-11-01T10:00:00+01:00", Tz::UTC).as_deref(),
            Some("2026-11-01T09:00:00Z")
        );
        for other in [
            "2026-11-01",
            "2026-11-01T10:00:00",
            "2026-11-01T10:00Z",
            "2026-11-01T10:00:00.Z",
            "2026-11-01T10:00:00xZ",
            "2026-11-01T10:00:00x5Z",
            "2026-11-01T10:00:0é5Z",
            "2026-11-01T10:00:00.5éZ",
            "10/Oct/2000:13:55:36 -0700",
            "error at 2026-11-01T10:00:00Z",
            "2026-11-01T10:00:00Z trailing",
            "",
        ] {
            assert_eq!(shown(other), None, "{other}");
        }
    }

    #[test]
    fn times_in_a_zone_carry_its_offset_at_that_instant() {
        let berlin = Tz::Europe__Berlin;
        // 2026-03-29T00:00:00+01:00, the day Berlin moves to summer time, and a day later.
        assert_eq!(rfc3339_in(1_774_738_800.0, berlin), "2026-03-29T00:00:00+01:00");
        assert_eq!(rfc3339_in(1_774_821_600.0, berlin), "2026-03-30T00:00:00+02:00");
        assert_eq!(rfc3339_in(1_774_821_600.5, berlin), "2026-03-30T00:00:00.500+02:00");
        assert_eq!(rfc3339_in(0.0, Tz::UTC), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_in(0.0, Tz::Europe__London), "1970-01-01T01:00:00+01:00");
        assert_eq!(offset_at(berlin, 1_774_738_800.0), 3600);
        assert_eq!(offset_at(berlin, 1_774_821_600.0), 7200);
        assert_eq!(offset_at(berlin, f64::NAN), 0);
        assert_eq!(offset_at(berlin, 1e300), 0);
    }

    #[test]
    fn rfc3339_variants() {
        assert_eq!(parse_str("1970-01-01T00:00:00Z", None), Some(0.0));
        assert_eq!(parse_str("2026-11-28T10:00:00Z", None), Some(1795860000.0));
        assert_eq!(parse_str("2026-11-28 12:00:00+02:00", None), Some(1795860000.0));
        assert_eq!(parse_str("2026-11-28T12:00:00+0200", None), Some(1795860000.0));
        assert_eq!(parse_str("2026-11-28T10:00:00.250Z", None), Some(1795860000.25));
        assert_eq!(
            parse_str("2026-11-28T10:00:00.123456789123Z", None).map(|t| (t * 1e3).round()),
            Some(1795860000123.0)
        );
        assert_eq!(parse_str("2026-13-28T10:00:00Z", None), None);
        assert_eq!(parse_str("yesterday", None), None);
    }

    #[test]
    fn offsets_past_23_59_and_a_second_60_off_the_end_of_a_utc_day_are_no_time() {
        for bad in [
            "2026-11-01T12:00:00+99:99",
            "2026-11-01T12:00:00+12:60",
            "2026-11-01T00:00:00+24:00",
            "2026-11-01T00:00:60.5Z",
            "2026-11-01T23:59:60+01:00",
        ] {
            assert_eq!(parse_str(bad, None), None, "{bad}");
        }
        let day_end = parse_str("2016-12-31T23:59:59.5Z", None);
        assert_eq!(parse_str("2016-12-31T23:59:60.5Z", None), day_end);
        assert_eq!(parse_str("2017-01-01T00:59:60.5+01:00", None), day_end);
    }

    #[test]
    fn a_time_is_never_written_in_the_next_second() {
        let t = parse_str("2026-12-31T23:59:59.9999999Z", None).unwrap();
        assert_eq!(strftime(t, "%Y-%m-%d %H:%M:%S").as_deref(), Some("2026-12-31 23:59:59"));
        assert_eq!(rfc3339(t), "2026-12-31T23:59:59.999Z");
        assert_eq!(strftime(1.123, "%S%.3f").as_deref(), Some("01.123"));
        assert_eq!(strftime(-0.5, "%H:%M:%S%.3f").as_deref(), Some("23:59:59.500"));
    }

    #[test]
    fn a_format_that_only_reads_times_writes_none_instead_of_panicking() {
        for fmt in ["%#z", "%Y %#z"] {
            assert!(valid_format(fmt), "{fmt} reads times");
            assert!(!writable_format(fmt), "{fmt} cannot write them");
            assert_eq!(strftime(0.0, fmt), None);
        }
        assert!(writable_format("%Y-%m-%d %H:%M:%S%.3f %z %Z"));
    }

    #[test]
    fn an_instant_on_a_slots_boundary_is_in_the_slot_it_starts() {
        let t = |s| parse_str(s, None).unwrap();
        for (at, len, start) in [
            ("2026-01-01T00:00:00.100Z", 0.1, "2026-01-01T00:00:00.100Z"),
            ("2026-01-01T00:00:00.150Z", 0.1, "2026-01-01T00:00:00.100Z"),
            ("2026-01-01T00:00:00.200Z", 0.1, "2026-01-01T00:00:00.200Z"),
            ("2026-01-01T00:00:00.123Z", 0.001, "2026-01-01T00:00:00.123Z"),
            ("2026-01-01T00:00:59.999999Z", 60.0, "2026-01-01T00:00:00Z"),
            ("1969-12-31T23:59:59.900Z", 0.1, "1969-12-31T23:59:59.900Z"),
        ] {
            let n = slot(t(at), len, 0.0);
            assert_eq!(rfc3339(slot_start(n, len, 0.0)), start, "{at} in slots of {len}s");
        }
        assert_eq!(slot(1_700_000_000.3, 0.1, 0.0), 17_000_000_003);
        assert_eq!(slot_start(3, 3600.0, 1800.0), 9000.0);
    }

    #[test]
    fn a_fraction_never_rounds_a_time_into_the_next_second() {
        for (text, second) in [
            ("2026-11-01T00:59:59.999999999Z", 1_793_494_799.0),
            ("2026-11-01T00:59:59.9999999Z", 1_793_494_799.0),
            ("2026-10-31T23:59:59.9999999999999Z", 1_793_491_199.0),
            ("1969-12-31T23:59:59.9999999999Z", -1.0),
            ("1969-12-31T23:59:58.9999999999Z", -2.0),
        ] {
            let t = parse_str(text, None).unwrap();
            assert!(t >= second && t < second + 1.0, "{text}: {t}");
        }
    }

    #[test]
    fn days_past_the_end_of_their_month_are_no_time() {
        for bad in [
            "2024-02-30T00:00:00Z",
            "2023-02-29",
            "1900-02-29 10:00:00",
            "2024-04-31T00:00:00Z",
        ] {
            assert_eq!(parse_str(bad, None), None, "{bad}");
        }
        assert_eq!(parse_str("31/Apr/2024:10:00:00 +0000", None), None);
        assert_eq!(parse_str("2024-02-29", None), Some(1_709_164_800.0));
        assert_eq!(parse_str("2000-02-29", None), Some(951_782_400.0));
        assert_eq!(parse_str("2024-12-31", None), Some(1_735_603_200.0));
    }

    #[test]
    fn times_past_year_9999_are_no_time() {
        assert_eq!(from_number(99_999_999_999_999_999_999_999.0), None);
        assert_eq!(parse_str("9999-12-31T23:59:59Z", None), Some(253_402_300_799.0));
        assert_eq!(parse_str("9999-12-31T23:59:59-01:00", None), None);
        assert_eq!(parse_str("0000-01-01T00:00:00Z", None), Some(-62_167_219_200.0));
    }

    #[test]
    fn clf_and_numbers() {
        assert_eq!(parse_str("10/Oct/2000:13:55:36 -0700", None), Some(971211336.0));
        assert_eq!(from_number(1_700_000_000_000.0), Some(1_700_000_000.0));
        assert_eq!(from_number(1_700_000_000_000_000_000.0), Some(1_700_000_000.0));
        assert_eq!(from_number(1_700_000_000.5), Some(1_700_000_000.5));
    }

    #[test]
    fn a_number_is_read_in_the_first_unit_that_makes_a_time_up_to_9999() {
        // Every second evq can write reads back as itself: 5138 and 9999 are seconds too.
        for t in [
            253_402_300_799.0,
            200_000_000_000.0,
            100_000_000_000.0,
            -62_167_219_200.0,
        ] {
            assert_eq!(from_number(t), Some(t), "{t}");
        }
        // One past 9999's last second is milliseconds (1978-01-12), and so on up.
        assert_eq!(from_number(253_402_300_800.0), Some(253_402_300.8));
        assert_eq!(from_number(253_402_300_800_000.0), Some(253_402_300.8));
        assert_eq!(from_number(253_402_300_800_000_000.0), Some(253_402_300.8));
        // Below year 0 in seconds: milliseconds before 1970.
        assert_eq!(from_number(-100_000_000_000.0), Some(-100_000_000.0));
        assert_eq!(from_decimal("253402300799"), Some(253_402_300_799.0));
    }

    #[test]
    fn a_user_format_is_tried_after_the_built_in_ones() {
        let user = Some("%d.%m.%Y %H:%M");
        assert_eq!(parse_str("28.11.2026 10:00", None), None);
        assert_eq!(parse_str("28.11.2026 10:00", user), Some(1795860000.0));
        assert_eq!(
            parse_str("28.11.2026 10:00 +0200", Some("%d.%m.%Y %H:%M %z")),
            Some(1795852800.0)
        );
        assert_eq!(parse_str("2026-11-28T10:00:00Z", user), Some(1795860000.0));
        // Second 60 as RFC 3339 takes it: only at 23:59:60 UTC, the day's last second.
        let user = Some("%d.%m.%Y %H:%M:%S");
        assert_eq!(parse_str("31.12.2016 23:59:60", user), Some(1483228799.0));
        assert_eq!(parse_str("30.06.2016 10:59:60", user), None);
        // A date alone is its midnight, an hour alone its start, as strptime reads them; digits
        // the format reads are not taken for Unix seconds.
        assert_eq!(parse_str("20240301", Some("%Y%m%d")), Some(1709251200.0));
        assert_eq!(parse_str("2024/03/01", Some("%Y/%m/%d")), Some(1709251200.0));
        assert_eq!(parse_str("2024/03/01 10", Some("%Y/%m/%d %H")), Some(1709287200.0));
        assert_eq!(parse_str("20240301", None), Some(20240301.0));
    }

    #[test]
    fn formatting() {
        assert_eq!(rfc3339(1795860000.0), "2026-11-28T10:00:00Z");
        assert_eq!(strftime(0.0, "%Y"), Some("1970".into()));
        assert_eq!(strftime(0.0, "%Q"), None);
        assert_eq!(strftime(1795860000.123, "%H:%M:%S%.3f"), Some("10:00:00.123".into()));
        assert_eq!(
            strftime(-0.5, "%Y-%m-%dT%H:%M:%S%.3f"),
            Some("1969-12-31T23:59:59.500".into())
        );
    }
}
