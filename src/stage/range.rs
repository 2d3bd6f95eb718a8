//! `--since TIME` / `--until TIME`: keeps the events whose event time is in `[since, until)`.
//!
//! It runs on the workers right after the pipeline's leading `parse` stages (before them an
//! event of text has no time yet), and reads only the time field (`--time-field`, or the
//! first of ts, time, timestamp, @timestamp), as windows do: the line is scanned for that
//! top-level field, not parsed whole. Events outside the range have the fate
//! `out_of_range`; an event without a parsable time is a dead letter (`no_time`), as for
//! windows, so that a wrong `--time-field` is never a silent empty result.

use super::{Describe, PerEvent, Step, TimeField};
use crate::event::{Event, Fate, Needs};
use crate::lang::Env;
use crate::lang::Expr;
use crate::lang::lexer::{Tok, lex};

#[derive(Debug, Clone)]
pub(crate) struct TimeRange {
    /// Unix seconds: events at or after this pass.
    pub since: Option<f64>,
    /// Unix seconds: events before this pass.
    pub until: Option<f64>,
    pub time: TimeField,
}

impl TimeRange {
    pub(crate) fn apply<'a>(&self, ev: &Event<'a>, env: &Env) -> Step<'a> {
        match self.time.of(ev, env) {
            Some(t) if self.holds(t) => Step::Pass,
            Some(_) => Step::Drop(Fate::OutOfRange),
            None => Step::Dead(self.time.no_time(ev, env, " for --since/--until")),
        }
    }

    /// Whether `t` is in the range.
    pub(crate) fn holds(&self, t: f64) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }
}

impl Describe for TimeRange {
    fn expressions(&self) -> Vec<&Expr> {
        Vec::new()
    }

    fn needs(&self, n: &mut Needs) {
        self.time.needs(n);
    }

    fn name(&self) -> &'static str {
        "--since/--until"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("outside: out_of_range; no time: dead letter (no_time)")
    }
}

impl PerEvent for TimeRange {
    fn step<'a>(&self, ev: &mut Event<'a>, env: &Env) -> Step<'a> {
        self.apply(ev, env)
    }
}

/// A bound as typed, in Unix seconds: a duration before `now` (`90s`, `1h`, `2d`, also written
/// `-1h` as journalctl takes it), or a time as event times are read (RFC 3339, a date
/// `2026-11-01` meaning its midnight UTC, a Unix number).
pub(crate) fn bound(text: &str, now: f64) -> Result<f64, String> {
    let text = text.trim();
    let ago = text.strip_prefix('-').unwrap_or(text);
    if let Ok(toks) = lex(ago) {
        if let [t] = toks.as_slice() {
            if let Tok::Duration(d) = t.tok {
                return Ok(now - d);
            }
        }
    }
    if let Some(date) = compact_date(text) {
        let unix = crate::time::parse_str(text, None)
            .map(crate::time::rfc3339)
            .unwrap_or_default();
        return Err(format!(
            "`{text}` would be Unix seconds, {unix}; for the date, write {date}"
        ));
    }
    crate::time::parse_str(text, None).ok_or_else(|| {
        format!(
            "`{text}` is not a time (such as 2026-11-01 or 2026-11-01T12:00:00Z) or a duration before now (such as 1h)"
        )
    })
}

/// `20261101` as the date it looks like (`2026-11-01`): eight digits that make a date from
/// 1970 on, which as Unix seconds would be a time in 1970 to 1973.
fn compact_date(text: &str) -> Option<String> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = format!("{}-{}-{}", &text[..4], &text[4..6], &text[6..]);
    let year: i32 = text[..4].parse().ok()?;
    let valid = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_ok();
    (valid && year >= 1970).then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_800_000_000.0;

    #[test]
    fn durations_count_back_from_now() {
        assert_eq!(bound("1h", NOW), Ok(NOW - 3600.0));
        assert_eq!(bound(" 90s ", NOW), Ok(NOW - 90.0));
        assert_eq!(bound("250ms", NOW), Ok(NOW - 0.25));
        assert_eq!(bound("-1h", NOW), Ok(NOW - 3600.0), "as journalctl writes it");
        assert!(bound("-1", NOW).is_ok_and(|t| t == -1.0), "a Unix time keeps its sign");
    }

    #[test]
    fn a_compact_date_is_refused_rather_than_read_as_unix_seconds() {
        assert_eq!(
            bound("20261101", NOW),
            Err("`20261101` would be Unix seconds, 1970-08-23T12:05:01Z; for the date, write 2026-11-01".into())
        );
        assert_eq!(bound("20261399", NOW), Ok(20_261_399.0), "not a date");
        assert_eq!(bound("1793491200", NOW), Ok(1_793_491_200.0));
    }

    #[test]
    fn times_and_dates_are_absolute() {
        assert_eq!(bound("2026-11-01", NOW), Ok(1_793_491_200.0));
        assert_eq!(bound("2026-11-01T01:00:00+01:00", NOW), Ok(1_793_491_200.0));
        assert_eq!(bound("1793491200", NOW), Ok(1_793_491_200.0));
    }

    #[test]
    fn other_text_is_refused_with_examples() {
        let e = bound("yesterday", NOW).unwrap_err();
        assert!(e.contains("`yesterday` is not a time"), "{e}");
        assert!(bound("1h ago", NOW).is_err());
    }

    #[test]
    fn the_range_includes_since_and_excludes_until() {
        let r = TimeRange {
            since: Some(10.0),
            until: Some(20.0),
            time: TimeField(None),
        };
        assert!(!r.holds(9.999));
        assert!(r.holds(10.0));
        assert!(r.holds(19.999));
        assert!(!r.holds(20.0));
        let open = TimeRange {
            since: None,
            until: None,
            time: TimeField(None),
        };
        assert!(open.holds(f64::MIN) && open.holds(f64::MAX));
    }
}
