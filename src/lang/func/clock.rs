//! `strftime` in an IANA time zone (`strptime` is [`crate::time::strptime`], which
//! `--time-format` reads event times with too).

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
            (r#"strptime("2024-01-02 03 +0100", "%Y-%m-%d %H %z")"#, EV, "1704160800"),
            (r#"strptime("2024-01-02 -0500", "%Y-%m-%d %z")"#, EV, "1704171600"),
            (r#"strptime("2024-01-02 03", "%Y-%m-%d %H")"#, EV, "1704164400"),
            (
                r#"strptime("2024-01-02 03:04 +0100", "%Y-%m-%d %H:%M %z")"#,
                EV,
                "1704161040",
            ),
            (r#"strptime("2024-01-02 03 PM", "%Y-%m-%d %I %p")"#, EV, "1704207600"),
            (r#"strptime("2024-01-02 x", "%Y-%m-%d")"#, EV, "null"),
            (r#"strptime("1700000000", "%s")"#, EV, "1700000000"),
            (r#"strptime(1, "%Y")"#, EV, "null"),
            // Second 60 is a leap second only at 23:59:60 UTC: the day's last second.
            (r#"strptime("2016-12-31 23:59:60", "%F %T")"#, EV, "1483228799"),
            (r#"strptime("2016-12-31 23:59:60.5", "%F %T%.f")"#, EV, "1483228799.5"),
            (r#"strptime("2017-01-01 00:59:60 +0100", "%F %T %z")"#, EV, "1483228799"),
            (r#"strptime("2016-06-30 10:59:60", "%F %T")"#, EV, "null"),
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
            (r#"strftime(ts, "%H", len(ts))"#, EV, "null"),
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
