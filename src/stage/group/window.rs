//! Event-time windows: which windows hold an instant, and where each starts and ends.
//!
//! Tumbling windows (`every 5m`) and sliding ones (`every 5m slide 1m`) are both made of panes,
//! the slide-long pieces of time that windows start on: window `w` is panes `w .. w + k`, where
//! `k = every / slide` (1 for tumbling windows), so it starts where pane `w` starts and ends
//! where pane `w + k` starts. An instant in pane `p` is in windows `p - k + 1 ..= p`.
//!
//! Panes shorter than a day are fixed lengths counted from the Unix epoch. In a zone whose
//! offsets (from 2000 on) are all the same whole number of panes plus a remainder, such as
//! Asia/Kolkata (+05:30) for hourly panes, they are shifted by that remainder so they start on
//! the zone's clock (10:00, not 10:30); in zones of whole hours that changes nothing. Panes of
//! whole days (`every 1d`, `every 1w slide 1d`) are calendar days of the `--tz` zone:
//! they start at local midnight, so a day is 23 or 25 hours long when the clocks change, and
//! panes of whole weeks start on Mondays (ISO 8601). In UTC, days are the epoch's.

use crate::time::{is_utc, offset_at, writable};
use chrono::{LocalResult, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;

const DAY: f64 = 86_400.0;

/// The windows of a stage's `every DUR [slide DUR]` in a time zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Windows {
    /// Panes per window: 1 for tumbling windows.
    pub per_window: i64,
    grid: Grid,
    /// The zone window bounds are written in.
    pub zone: Tz,
}

/// Where panes start.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Grid {
    /// Panes of `len` seconds from `shift` seconds before the Unix epoch.
    Fixed { len: f64, shift: f64 },
    /// Panes of `days` calendar days of the zone, counted from the day `from` days after
    /// 1970-01-01 (a Monday, -3, for whole weeks).
    Days { days: i64, from: i64 },
}

impl Windows {
    /// Windows `every` seconds long starting every `slide` seconds, which divides `every` (the
    /// parser checks), with days in `zone`.
    pub(crate) fn new(every: f64, slide: f64, zone: Tz) -> Windows {
        let per_window = ((every / slide).round() as i64).max(1);
        let whole_days = |d: f64| d >= DAY && (d / DAY).fract() == 0.0;
        let grid = if whole_days(every) && whole_days(slide) {
            let days = (slide / DAY) as i64;
            let weeks = days % 7 == 0;
            if is_utc(zone) && !weeks {
                Grid::Fixed { len: slide, shift: 0.0 }
            } else {
                Grid::Days {
                    days,
                    from: if weeks { -crate::time::EPOCH_WEEKDAY } else { 0 },
                }
            }
        } else {
            Grid::Fixed {
                len: slide,
                shift: clock_shift(zone, slide),
            }
        };
        Windows { per_window, grid, zone }
    }

    /// The pane that holds Unix second `t`.
    pub(crate) fn pane(&self, t: f64) -> i64 {
        match self.grid {
            Grid::Fixed { len, shift } => crate::time::slot(t, len, shift),
            Grid::Days { days, from } => {
                let day = ((t + offset_at(self.zone, t) as f64) / DAY).floor() as i64;
                day.saturating_sub(from).div_euclid(days)
            }
        }
    }

    /// Where pane `p` starts, in Unix seconds; also where window `p` starts.
    pub(crate) fn start(&self, p: i64) -> f64 {
        match self.grid {
            Grid::Fixed { len, shift } => crate::time::slot_start(p, len, shift),
            Grid::Days { days, from } => midnight(self.zone, p.saturating_mul(days).saturating_add(from)),
        }
    }

    /// Where window `w` ends: where the pane after its last starts.
    pub(crate) fn end(&self, w: i64) -> f64 {
        self.start(w.saturating_add(self.per_window))
    }

    /// The pane that holds Unix second `t`, when every window that holds it has bounds that
    /// can be written (a window of 9999-12-31 ends in year 10000): `None` otherwise.
    pub(crate) fn writable_pane(&self, t: f64) -> Option<i64> {
        let p = self.pane(t);
        let within = writable(self.start(self.first_window(p))) && writable(self.end(p));
        within.then_some(p)
    }

    /// The first window that holds pane `p`.
    pub(crate) fn first_window(&self, p: i64) -> i64 {
        p.saturating_sub(self.per_window - 1)
    }
}

/// How far before the epoch panes of `len` seconds start so that they start on `zone`'s clock:
/// the remainder of its offsets divided by `len`, when that is the same for every offset the zone
/// has from 2000 to 2100 (sampled weekly); 0 otherwise, and in UTC.
fn clock_shift(zone: Tz, len: f64) -> f64 {
    const FROM: f64 = 946_684_800.0; // 2000-01-01
    const TO: f64 = 4_102_444_800.0; // 2100-01-01
    if is_utc(zone) {
        return 0.0;
    }
    let mut shift = None;
    let mut t = FROM;
    while t < TO {
        let r = (offset_at(zone, t) as f64).rem_euclid(len);
        match shift {
            Some(s) if s != r => return 0.0,
            _ => shift = Some(r),
        }
        t += 7.0 * DAY;
    }
    shift.unwrap_or(0.0)
}

/// The first instant of the local day `day` (days since 1970-01-01) in `zone`: its midnight, the
/// first midnight when the clocks go back over it, or the moment the clocks jump when midnight is
/// skipped (as in zones that change at 00:00).
fn midnight(zone: Tz, day: i64) -> f64 {
    let naive = day as f64 * DAY;
    let date = i32::try_from(day)
        .ok()
        .and_then(|d| d.checked_add(719_163))
        .and_then(NaiveDate::from_num_days_from_ce_opt);
    let Some(date) = date else { return naive };
    match zone.from_local_datetime(&date.and_time(NaiveTime::MIN)) {
        LocalResult::Single(dt) | LocalResult::Ambiguous(dt, _) => dt.timestamp() as f64,
        // Midnight falls in a gap: the day starts when the clocks jump, at midnight by the
        // offset in force the day before.
        LocalResult::None => naive - offset_at(zone, naive - DAY) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{parse_rfc3339, rfc3339_in};

    fn at(s: &str) -> f64 {
        parse_rfc3339(s.as_bytes()).expect("a valid time")
    }

    /// A window whose bounds RFC 3339 cannot write (past 9999-12-31, before 0000-01-01) holds
    /// no event: its row could not say where it ends.
    #[test]
    fn only_windows_with_writable_bounds_take_events() {
        let w = Windows::new(3_600.0, 3_600.0, chrono_tz::UTC);
        assert_eq!(w.writable_pane(at("9999-12-31T23:30:00Z")), None);
        let p = w.writable_pane(at("9999-12-31T22:30:00Z")).expect("ends at 23:00");
        assert_eq!(rfc3339_in(w.end(p), w.zone), "9999-12-31T23:00:00Z");
        let sliding = Windows::new(7_200.0, 3_600.0, chrono_tz::UTC);
        assert_eq!(
            sliding.writable_pane(at("0000-01-01T00:30:00Z")),
            None,
            "the first window starts in year -1"
        );
        assert!(sliding.writable_pane(at("0000-01-01T01:30:00Z")).is_some());
    }

    /// The bounds of the windows holding `t`, as RFC 3339 text in the windows' zone.
    fn windows_of(w: &Windows, t: &str) -> Vec<(String, String)> {
        let p = w.pane(at(t));
        (w.first_window(p)..=p)
            .map(|i| (rfc3339_in(w.start(i), w.zone), rfc3339_in(w.end(i), w.zone)))
            .collect()
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.to_string(), b.to_string())
    }

    #[test]
    fn tumbling_windows_shorter_than_a_day_are_counted_from_the_epoch() {
        let w = Windows::new(300.0, 300.0, Tz::UTC);
        assert_eq!(w.per_window, 1);
        assert_eq!(w.pane(0.0), 0);
        assert_eq!(w.pane(299.999), 0);
        assert_eq!(w.pane(300.0), 1);
        assert_eq!(w.pane(-0.5), -1);
        assert_eq!((w.start(3), w.end(3)), (900.0, 1200.0));
        // Berlin's offsets are whole hours: its hours and quarters are the epoch's.
        let berlin = Windows::new(900.0, 900.0, Tz::Europe__Berlin);
        assert_eq!(berlin.grid, Grid::Fixed { len: 900.0, shift: 0.0 });
        assert_eq!(
            windows_of(&berlin, "2026-10-25T02:20:00+01:00"),
            [pair("2026-10-25T02:15:00+01:00", "2026-10-25T02:30:00+01:00")]
        );
    }

    #[test]
    fn windows_shorter_than_a_day_start_on_the_clock_of_a_zone_with_half_hours() {
        // India is 5h30 ahead: hourly windows start on its hours, not at half past.
        let kolkata = Windows::new(3600.0, 3600.0, Tz::Asia__Kolkata);
        assert_eq!(
            windows_of(&kolkata, "2026-05-01T10:15:00+05:30"),
            [pair("2026-05-01T10:00:00+05:30", "2026-05-01T11:00:00+05:30")]
        );
        // Newfoundland is 3h30 or 2h30 behind: half an hour either way.
        let st_johns = Windows::new(7200.0, 3600.0, Tz::America__St_Johns);
        assert_eq!(
            windows_of(&st_johns, "2026-07-01T10:15:00-02:30"),
            [
                pair("2026-07-01T09:00:00-02:30", "2026-07-01T11:00:00-02:30"),
                pair("2026-07-01T10:00:00-02:30", "2026-07-01T12:00:00-02:30")
            ]
        );
        // Half-hour windows in India are the epoch's, as 5h30 is a whole number of them.
        assert_eq!(
            Windows::new(1800.0, 1800.0, Tz::Asia__Kolkata).grid,
            Grid::Fixed {
                len: 1800.0,
                shift: 0.0
            }
        );
        // Berlin is 1h or 2h ahead: two-hour windows cannot follow its clock all year, and stay
        // the epoch's.
        assert_eq!(
            Windows::new(7200.0, 7200.0, Tz::Europe__Berlin).grid,
            Grid::Fixed {
                len: 7200.0,
                shift: 0.0
            }
        );
    }

    #[test]
    fn an_instant_is_in_every_sliding_window_that_covers_it() {
        let w = Windows::new(300.0, 60.0, Tz::UTC);
        assert_eq!(w.per_window, 5);
        let p = w.pane(at("2026-01-01T00:07:30Z"));
        assert_eq!(w.first_window(p), p - 4);
        let got = windows_of(&w, "2026-01-01T00:07:30Z");
        assert_eq!(got.len(), 5);
        assert_eq!(got[0], pair("2026-01-01T00:03:00Z", "2026-01-01T00:08:00Z"));
        assert_eq!(got[4], pair("2026-01-01T00:07:00Z", "2026-01-01T00:12:00Z"));
        // Every window is 5 minutes long.
        for i in p - 10..p + 10 {
            assert_eq!(w.end(i) - w.start(i), 300.0);
        }
    }

    #[test]
    fn days_in_berlin_start_at_local_midnight_and_the_spring_day_has_23_hours() {
        let w = Windows::new(DAY, DAY, Tz::Europe__Berlin);
        assert_eq!(
            windows_of(&w, "2026-03-28T23:30:00Z"),
            [pair("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00")]
        );
        let p = w.pane(at("2026-03-29T12:00:00+02:00"));
        assert_eq!(w.end(p) - w.start(p), 23.0 * 3600.0);
        // Just before local midnight is still the day before.
        assert_eq!(
            windows_of(&w, "2026-03-28T22:59:59Z"),
            [pair("2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00")]
        );
        // The autumn day has 25 hours.
        let p = w.pane(at("2026-10-25T12:00:00+01:00"));
        assert_eq!(w.end(p) - w.start(p), 25.0 * 3600.0);
        assert_eq!(rfc3339_in(w.start(p), w.zone), "2026-10-25T00:00:00+02:00");
    }

    #[test]
    fn days_in_new_york_follow_its_own_changes() {
        let w = Windows::new(DAY, DAY, Tz::America__New_York);
        // 2026-03-08: clocks go from 02:00 to 03:00; 2026-11-01: from 02:00 back to 01:00.
        assert_eq!(
            windows_of(&w, "2026-03-08T06:59:00Z"),
            [pair("2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00")]
        );
        let p = w.pane(at("2026-03-08T12:00:00-04:00"));
        assert_eq!(w.end(p) - w.start(p), 23.0 * 3600.0);
        let p = w.pane(at("2026-11-01T01:30:00-05:00"));
        assert_eq!(w.end(p) - w.start(p), 25.0 * 3600.0);
        assert_eq!(rfc3339_in(w.start(p), w.zone), "2026-11-01T00:00:00-04:00");
        // 04:59Z on 1 November is 23:59 on 31 October in New York.
        assert_eq!(windows_of(&w, "2026-11-01T03:59:00Z")[0].0, "2026-10-31T00:00:00-04:00");
    }

    #[test]
    fn weeks_start_on_monday_and_can_slide_by_days() {
        let w = Windows::new(7.0 * DAY, 7.0 * DAY, Tz::UTC);
        // 1970-01-01 was a Thursday: its week started on Monday 29 December 1969.
        assert_eq!(
            windows_of(&w, "1970-01-01T00:00:00Z"),
            [pair("1969-12-29T00:00:00Z", "1970-01-05T00:00:00Z")]
        );
        let berlin = Windows::new(7.0 * DAY, 7.0 * DAY, Tz::Europe__Berlin);
        assert_eq!(
            windows_of(&berlin, "2026-03-29T12:00:00Z"),
            [pair("2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00")]
        );
        let sliding = Windows::new(7.0 * DAY, DAY, Tz::Europe__Berlin);
        let got = windows_of(&sliding, "2026-03-29T12:00:00Z");
        assert_eq!(got.len(), 7);
        assert_eq!(got[0], pair("2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00"));
        assert_eq!(got[6], pair("2026-03-29T00:00:00+01:00", "2026-04-05T00:00:00+02:00"));
    }

    #[test]
    fn a_day_sliding_by_hours_is_a_fixed_24_hours() {
        let w = Windows::new(DAY, 3600.0, Tz::Europe__Berlin);
        assert_eq!(w.per_window, 24);
        let got = windows_of(&w, "2026-03-29T12:30:00Z");
        assert_eq!(got.len(), 24);
        for (s, e) in &got {
            assert_eq!(at(e) - at(s), DAY, "{s} .. {e}");
        }
        assert_eq!(got[23].0, "2026-03-29T14:00:00+02:00");
    }

    #[test]
    fn a_midnight_the_clocks_skip_starts_the_day_when_they_jump() {
        // Chile moved to summer time at 00:00 on 2026-09-06: the day starts at 01:00 local.
        let w = Windows::new(DAY, DAY, Tz::America__Santiago);
        let p = w.pane(at("2026-09-06T12:00:00-03:00"));
        assert_eq!(rfc3339_in(w.start(p), w.zone), "2026-09-06T01:00:00-03:00");
        assert_eq!(w.end(p) - w.start(p), 23.0 * 3600.0);
        assert_eq!(rfc3339_in(w.end(p - 1), w.zone), "2026-09-06T01:00:00-03:00");
    }

    #[test]
    fn instants_far_outside_the_calendar_still_have_a_pane() {
        let w = Windows::new(DAY, DAY, Tz::Europe__Berlin);
        for t in [1e18, -1e18, f64::MAX] {
            let p = w.pane(t);
            assert!(w.start(p).is_finite(), "{t}");
        }
    }
}
