//! Time functions beyond `time`: `strptime` with a given format, and `strftime` in an
//! IANA time zone.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

fn seconds<Tz: chrono::TimeZone>(dt: &DateTime<Tz>) -> f64 {
    dt.timestamp() as f64 + f64::from(dt.timestamp_subsec_nanos()) / 1e9
}

/// Unix seconds of `s` read with the strftime format `fmt`: with an offset (`%z`) as
/// written, without one as UTC, and a date alone as its midnight in UTC.
pub(super) fn strptime(s: &str, fmt: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
        return Some(seconds(&dt));
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
        return Some(seconds(&dt.and_utc()));
    }
    NaiveDate::parse_from_str(s, fmt)
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| seconds(&dt.and_utc()))
}

/// `t` formatted with `fmt` in the time zone `tz` (`"Europe/Berlin"`); `None` for an
/// unknown zone or format.
pub(super) fn strftime_in(t: f64, fmt: &str, tz: &str) -> Option<String> {
    let zone: chrono_tz::Tz = tz.parse().ok()?;
    let dt = crate::time::utc_of(t, fmt)?;
    crate::time::written(dt.with_timezone(&zone).format(fmt))
}

#[cfg(test)]
mod tests {
    use crate::lang::eval::tests::check_table;

    const EV: &str = r#"{"ts":"2026-11-01T10:07:30Z","d":"01/11/2026 11:07:30 +0100","day":"2026-11-01"}"#;

    #[test]
    fn strptime_reads_offsets_as_written_and_local_times_as_utc() {
        check_table(&[
            (r#"strptime(d, "%d/%m/%Y %H:%M:%S %z")"#, EV, "1793527650"),
            (
                r#"strptime("01/11/2026 10:07:30", "%d/%m/%Y %H:%M:%S")"#,
                EV,
                "1793527650",
            ),
            (r#"strptime(day, "%Y-%m-%d")"#, EV, "1793491200"),
            (r#"strptime(day, "%d/%m/%Y")"#, EV, "null"),
            (r#"strptime(1, "%Y")"#, EV, "null"),
        ]);
    }

    #[test]
    fn strftime_formats_in_an_iana_zone_with_its_summer_time() {
        check_table(&[
            (r#"strftime(ts, "%H:%M %Z", "Europe/Berlin")"#, EV, r#""11:07 CET""#),
            (
                r#"strftime("2026-07-01T10:00:00Z", "%H:%M %z", "Europe/Berlin")"#,
                EV,
                r#""12:00 +0200""#,
            ),
            (
                r#"strftime(ts, "%Y-%m-%d %H", "America/New_York")"#,
                EV,
                r#""2026-11-01 05""#,
            ),
            (r#"strftime(ts, "%H", "UTC")"#, EV, r#""10""#),
            (r#"strftime(ts, "%H", 1)"#, EV, "null"),
        ]);
    }

    #[test]
    fn time_literals_compare_with_times_and_take_durations() {
        check_table(&[
            ("time(ts) >= @2026-11-01T00:00:00Z", EV, "true"),
            ("time(ts) < @2026-11-01", EV, "false"),
            ("time(ts) - 1h == @2026-11-01T09:07:30Z", EV, "true"),
            ("@2026-11-01T10:07:30.5+01:00", EV, "1793524050.5"),
            ("bucket(time(ts), 1d) == @2026-11-01", EV, "true"),
        ]);
    }
}
