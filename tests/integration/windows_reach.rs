//! Sliding windows (`every 5m slide 1m`) and time zones (`--tz`): window bounds, days that follow
//! a zone's calendar across daylight saving changes, and the errors for a wrong zone or slide.

use crate::common::{evq, run};

/// Events of two services at the given times (minutes and seconds past 10:00 UTC).
fn events(at: &[(&str, &str)]) -> String {
    at.iter()
        .map(|(service, ms)| format!("{{\"ts\":\"2026-11-01T10:{ms}Z\",\"service\":\"{service}\"}}\n"))
        .collect()
}

#[test]
fn a_sliding_count_gives_each_window_that_holds_events_in_time_order() {
    let input = events(&[
        ("api", "00:10"),
        ("db", "01:30"),
        ("api", "02:00"),
        ("api", "02:59"),
        ("db", "03:00"),
    ]);
    let r = run(&["count by service every 3m slide 1m"], &input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let w = |s: &str, e: &str, service: &str, n: u32| {
        format!(
            "{{\"window_start\":\"2026-11-01T{s}:00Z\",\"window_end\":\"2026-11-01T{e}:00Z\",\"service\":\"{service}\",\"count\":{n}}}"
        )
    };
    let want = [
        w("09:58", "10:01", "api", 1),
        w("09:59", "10:02", "api", 1),
        w("09:59", "10:02", "db", 1),
        w("10:00", "10:03", "api", 3),
        w("10:00", "10:03", "db", 1),
        // Equal counts: the key first seen in the window's events first.
        w("10:01", "10:04", "db", 2),
        w("10:01", "10:04", "api", 2),
        w("10:02", "10:05", "api", 2),
        w("10:02", "10:05", "db", 1),
        w("10:03", "10:06", "db", 1),
    ];
    assert_eq!(r.stdout.lines().collect::<Vec<_>>(), want);
}

#[test]
fn stats_slide_too_and_a_slide_as_long_as_the_window_is_a_tumbling_one() {
    let input = "{\"ts\":0,\"v\":1}\n{\"ts\":30,\"v\":2}\n{\"ts\":70,\"v\":4}\n";
    let r = run(&["stats sum(v), first(v) every 2m slide 1m"], input);
    assert_eq!(
        r.stdout,
        concat!(
            "{\"window_start\":\"1969-12-31T23:59:00Z\",\"window_end\":\"1970-01-01T00:01:00Z\",\"sum_v\":3,\"first_v\":1}\n",
            "{\"window_start\":\"1970-01-01T00:00:00Z\",\"window_end\":\"1970-01-01T00:02:00Z\",\"sum_v\":7,\"first_v\":1}\n",
            "{\"window_start\":\"1970-01-01T00:01:00Z\",\"window_end\":\"1970-01-01T00:03:00Z\",\"sum_v\":4,\"first_v\":4}\n",
        )
    );
    assert_eq!(
        run(&["count every 1m slide 1m"], input).stdout,
        run(&["count every 1m"], input).stdout
    );
}

#[test]
fn every_1d_with_tz_starts_days_at_local_midnight_across_a_daylight_saving_change() {
    // Berlin moves its clocks from 02:00 to 03:00 on 29 March 2026: that day has 23 hours.
    let input = [
        "2026-03-28T22:59:59Z", // 23:59:59 on the 28th in Berlin
        "2026-03-28T23:00:00Z", // midnight of the 29th
        "2026-03-29T21:59:59Z", // 23:59:59 on the 29th (summer time)
        "2026-03-29T22:00:00Z", // midnight of the 30th
    ]
    .iter()
    .map(|t| format!("{{\"ts\":\"{t}\"}}\n"))
    .collect::<String>();
    let r = run(&["--tz", "Europe/Berlin", "count every 1d"], &input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        concat!(
            "{\"window_start\":\"2026-03-28T00:00:00+01:00\",\"window_end\":\"2026-03-29T00:00:00+01:00\",\"count\":1}\n",
            "{\"window_start\":\"2026-03-29T00:00:00+01:00\",\"window_end\":\"2026-03-30T00:00:00+02:00\",\"count\":2}\n",
            "{\"window_start\":\"2026-03-30T00:00:00+02:00\",\"window_end\":\"2026-03-31T00:00:00+02:00\",\"count\":1}\n",
        )
    );
    // Without --tz, days are UTC days; TZ in the environment changes nothing.
    let utc = evq()
        .env("TZ", "Europe/Berlin")
        .args(["count every 1d"])
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&utc.stdout),
        concat!(
            "{\"window_start\":\"2026-03-28T00:00:00Z\",\"window_end\":\"2026-03-29T00:00:00Z\",\"count\":2}\n",
            "{\"window_start\":\"2026-03-29T00:00:00Z\",\"window_end\":\"2026-03-30T00:00:00Z\",\"count\":2}\n",
        )
    );
}

#[test]
fn with_tz_a_table_shows_times_in_the_zone_and_ndjson_keeps_the_data() {
    let input =
        "{\"ts\":\"2026-11-01T10:00:00Z\",\"at\":\"2026-07-01T10:00:00.5Z\",\"note\":\"2026-11-01T10:00:00Z!\"}\n";
    let r = run(&["--tz", "America/New_York", "-o", "table", "keep ts, at, note"], input);
    assert_eq!(
        r.stdout,
        concat!(
            "ts                         at                           note\n",
            "2026-11-01T05:00:00-05:00  2026-07-01T06:00:00.5-04:00  2026-11-01T10:00:00Z!\n",
        )
    );
    assert_eq!(
        run(&["--tz", "America/New_York", "keep ts, at, note"], input).stdout,
        input
    );
}

#[test]
fn an_unknown_zone_is_a_one_line_usage_error_with_the_nearest_names() {
    let r = run(&["--tz", "Europe/Berln", "count every 1d"], "");
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "evq: --tz: unknown time zone `Europe/Berln`; did you mean Europe/Berlin?\n"
    );
    assert!(r.stdout.is_empty());
    let r = run(&["--tz", "new_york", "count"], "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("did you mean America/New_York?"), "{}", r.stderr);
}

#[test]
fn a_slide_that_does_not_divide_the_window_is_refused_with_a_caret() {
    let r = run(&["count by service every 5m slide 2m"], "");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("the slide must divide the window length"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("^^^^^^^^"), "{}", r.stderr);
    assert!(
        r.stderr.contains("hint: every 5m slide 1m gives windows of 5 minutes"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

#[test]
fn sliding_windows_are_the_same_for_every_thread_count_and_chunk_size() {
    let input: String = (0..3000)
        .map(|i| {
            let t = 1_795_860_000 + (i * 7919) % 3600;
            format!("{{\"ts\":{t},\"k\":\"k{}\",\"v\":{}}}\n", i % 7, i % 13)
        })
        .collect();
    for pipeline in [
        "count by k every 10m slide 1m",
        "stats count(), sum(v), max(v), p50(v), distinct(v) by k every 15m slide 5m",
        "stats first(v), last(v), values(v) by k every 10m slide 2m",
    ] {
        let one = evq()
            .args(["-j", "1", pipeline])
            .write_stdin(input.clone())
            .output()
            .unwrap();
        assert!(one.status.success());
        assert!(one.stdout.len() > 1000, "{pipeline}");
        for (j, chunk) in [("2", "4K"), ("3", "1K")] {
            let many = evq()
                .args(["-j", j, "--chunk-size", chunk, pipeline])
                .write_stdin(input.clone())
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&many.stdout),
                String::from_utf8_lossy(&one.stdout),
                "{pipeline} -j {j}"
            );
        }
    }
}

#[test]
fn with_lateness_sliding_windows_stream_and_an_event_is_late_only_when_all_its_windows_were_emitted() {
    let input = "{\"ts\":10}\n{\"ts\":70}\n{\"ts\":50}\n{\"ts\":130}\n{\"ts\":59}\n{\"ts\":61}\n";
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats.json");
    let stats_arg = format!("--stats={}", stats.display());
    let r = run(&["--lateness", "0s", &stats_arg, "count every 2m slide 1m"], input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let counts: Vec<String> = r
        .stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!("{}={}", &v["window_start"].as_str().unwrap()[11..16], v["count"])
        })
        .collect();
    assert_eq!(counts, ["23:59=1", "00:00=3", "00:01=3", "00:02=1"]);
    let stats: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(stats["lines_read"], 6);
    assert_eq!(stats["fates"]["aggregated"], 5, "{stats}");
    assert_eq!(stats["fates"]["dead_letter"]["late"], 1, "{stats}");
}

#[test]
fn weeks_start_on_monday_and_a_week_can_slide_by_days_in_the_zone() {
    // Thursday 1 January 1970 and Sunday 29 March 2026.
    let input = "{\"ts\":0}\n{\"ts\":\"2026-03-29T12:00:00Z\"}\n";
    let r = run(&["count every 1w"], input);
    assert_eq!(
        r.stdout,
        concat!(
            "{\"window_start\":\"1969-12-29T00:00:00Z\",\"window_end\":\"1970-01-05T00:00:00Z\",\"count\":1}\n",
            "{\"window_start\":\"2026-03-23T00:00:00Z\",\"window_end\":\"2026-03-30T00:00:00Z\",\"count\":1}\n",
        )
    );
    let r = run(
        &["--tz", "Europe/Berlin", "count every 1w slide 1d"],
        "{\"ts\":\"2026-03-29T12:00:00Z\"}\n",
    );
    let starts: Vec<&str> = r.stdout.lines().map(|l| &l[17..42]).collect();
    assert_eq!(starts.len(), 7, "{}", r.stdout);
    assert_eq!(starts[0], "2026-03-23T00:00:00+01:00");
    assert_eq!(starts[6], "2026-03-29T00:00:00+01:00");
    assert!(
        r.stdout.contains("\"window_end\":\"2026-04-05T00:00:00+02:00\""),
        "{}",
        r.stdout
    );
}

#[test]
fn with_tz_and_lateness_a_local_day_is_emitted_once_the_watermark_passes_its_midnight() {
    let input = concat!(
        "{\"ts\":\"2026-10-24T22:30:00Z\"}\n", // 00:30 on the 25th in Berlin (summer time)
        "{\"ts\":\"2026-10-25T22:59:00Z\"}\n", // 23:59 on the 25th (winter time): a 25-hour day
        "{\"ts\":\"2026-10-25T23:00:00Z\"}\n", // midnight of the 26th closes the 25th
        "{\"ts\":\"2026-10-25T12:00:00Z\"}\n", // late
    );
    let r = run(&["--tz", "Europe/Berlin", "--lateness", "0s", "count every 1d"], input);
    assert_eq!(
        r.stdout,
        concat!(
            "{\"window_start\":\"2026-10-25T00:00:00+02:00\",\"window_end\":\"2026-10-26T00:00:00+01:00\",\"count\":2}\n",
            "{\"window_start\":\"2026-10-26T00:00:00+01:00\",\"window_end\":\"2026-10-27T00:00:00+01:00\",\"count\":1}\n",
        )
    );
    assert!(r.stderr.contains("late"), "{}", r.stderr);
}

#[test]
fn hourly_windows_follow_the_clock_of_a_zone_with_half_hours() {
    let input = "{\"ts\":\"2026-05-01T04:45:00Z\"}\n"; // 10:15 in India
    let r = run(&["--tz", "Asia/Kolkata", "count every 1h"], input);
    assert_eq!(
        r.stdout,
        "{\"window_start\":\"2026-05-01T10:00:00+05:30\",\"window_end\":\"2026-05-01T11:00:00+05:30\",\"count\":1}\n"
    );
    let utc = run(&["count every 1h"], input);
    assert_eq!(
        utc.stdout,
        "{\"window_start\":\"2026-05-01T04:00:00Z\",\"window_end\":\"2026-05-01T05:00:00Z\",\"count\":1}\n"
    );
}

#[test]
fn an_event_on_a_sub_second_windows_start_is_counted_in_that_window() {
    let input: String = ["00.100", "00.150", "00.200", "00.250", "00.999"]
        .iter()
        .map(|s| format!("{{\"ts\":\"2026-01-01T00:00:{s}Z\"}}\n"))
        .collect();
    let r = run(&["count every 100ms"], &input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let w = |s: &str, e: &str, n: u32| {
        format!(
            "{{\"window_start\":\"2026-01-01T00:00:00.{s}Z\",\"window_end\":\"2026-01-01T00:00:{e}Z\",\"count\":{n}}}\n"
        )
    };
    assert_eq!(
        r.stdout,
        [w("100", "00.200", 2), w("200", "00.300", 2), w("900", "01", 1)].concat()
    );
    let r = run(&["throttle 1 per 100ms | count"], &input);
    assert_eq!(r.stdout, "{\"count\":3}\n", "{}", r.stderr);
    let r = run(&["set b = bucket(ts, 100ms) | keep b"], &input);
    assert_eq!(
        r.stdout.lines().map(|l| &l[5..]).collect::<Vec<_>>(),
        [
            "1767225600.1}",
            "1767225600.1}",
            "1767225600.2}",
            "1767225600.2}",
            "1767225600.9}"
        ]
    );
}

#[test]
fn a_unix_time_with_a_long_fraction_stays_in_its_second_day_and_range() {
    // A double rounds 1767225599.9999999 up to 2026-01-01T00:00:00Z, a day later.
    // So does a double the integer 1767225599999999999 (nanoseconds).
    let input = "{\"ts\":1767225599.9999999}\n{\"ts\":\"1767225599999.9999999\"}\n{\"ts\":1767225599999999999}\n";
    let r = run(
        &[
            "--until",
            "2026-01-01",
            "set d = strftime(ts, \"%Y-%m-%d\"), b = bucket(ts, 1d)",
        ],
        input,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"ts\":1767225599.9999999,\"d\":\"2025-12-31\",\"b\":1767139200}\n\
         {\"ts\":\"1767225599999.9999999\",\"d\":\"2025-12-31\",\"b\":1767139200}\n\
         {\"ts\":1767225599999999999,\"d\":\"2025-12-31\",\"b\":1767139200}\n"
    );
    let r = run(&["count every 1d"], input);
    assert_eq!(
        r.stdout,
        "{\"window_start\":\"2025-12-31T00:00:00Z\",\"window_end\":\"2026-01-01T00:00:00Z\",\"count\":3}\n"
    );
}

/// An event whose window would end past 9999-12-31 cannot be grouped in it: its dead letter
/// (reason `no_time`) says that, not that its time could not be read; at the end of input
/// and when windows stream.
#[test]
fn a_time_whose_window_ends_past_9999_is_a_dead_letter_that_says_so() {
    let input = "{\"ts\":\"9999-12-30T12:00:00Z\"}\n{\"ts\":\"9999-12-31T12:00:00Z\"}\n";
    for args in [&["count every 1d"][..], &["--lateness", "1m", "count every 1d"]] {
        let r = run(args, input);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout.lines().count(), 1, "{args:?}: {}", r.stdout);
        assert!(
            r.stderr.contains(
                "-:2: no_time: the event's window would start before 0000-01-01 or end after 9999-12-31, which evq cannot write"
            ),
            "{args:?}: {}",
            r.stderr
        );
    }
}
