//! The man page: clap's synopsis and options, followed by the reference sections.

use crate::cli::Cli;
use clap::CommandFactory;
use clap_mangen::roff::{Roff, bold, roman};
use std::io::{self, Write};

/// Reference sections: a title and its paragraphs. A paragraph starting with two
/// spaces is shown verbatim (examples, tables).
const SECTIONS: &[(&str, &[&str])] = &[
    (
        "PIPELINE",
        &[
            "A pipeline is one argument: stages separated by |. Each stage receives the events the previous one passed on. With -f the pipeline is read from a file, where newlines are whitespace and # starts a comment.",
            "  evq 'where level == \"error\" | keep ts, service, msg | head 20' app.ndjson",
        ],
    ),
    (
        "INPUT",
        &[
            "Each PATH is a file, a directory (read recursively, entries in byte order of their paths, hidden entries skipped) or - for standard input. No PATH means standard input. Inputs are read in the order given; the output keeps that order whatever the number of threads.",
            "Compressed inputs are recognised by their first bytes, not their names: gzip (every member of a multi-member file), zstd, bzip2 and xz.",
            "Each line is one event, normally a JSON object. A trailing carriage return is removed, a UTF-8 byte order mark at the start of an input is removed (offsets still count it), a last line without a newline is a normal line, and lines that are empty or only whitespace are skipped and counted as blank.",
            "A line that is not valid UTF-8, not valid JSON, nested deeper than 128 levels, or longer than --max-line-bytes is a dead letter (see DEAD LETTERS). It never stops the run unless --strict or --max-errors says so.",
        ],
    ),
    (
        "FIDELITY",
        &[
            "An event that no stage modifies is written exactly as it was read, byte for byte. A modified event keeps its key order and the exact text of its numbers (18446744073709551615, -9223372036854775808, 1.0 and 1e400 survive); its strings are re-escaped minimally. When a key appears twice in an object, the last value wins, at the position of the first. del of fields an event does not have leaves it unmodified.",
        ],
    ),
    (
        "EXPRESSIONS",
        &[
            "Paths: level, user.id, tags[0], tags[-1] (from the end), headers[\"user-agent\"], `id.orig_h` (backticks quote a key with dots, dashes, spaces, or a reserved word), @timestamp, and . for the whole event. A missing field is null.",
            "Literals: \"strings\" with JSON escapes, numbers, true, false, null, arrays [1, \"a\"], regexes /5\\d\\d/i with flags i, m, s, x, and durations 250ms 30s 5m 1h 1d 1w, which are numbers of seconds.",
            "Operators, lowest precedence first: or (||); and (&&); not (!); ?? (first non-null); comparisons == != < <= > >=, regex match =~ !~, membership in and not in; + -; * / %; unary -.",
            "Evaluation never fails. null and false are false, every other value is true. Comparing values of different types gives false (except !=, true); numbers compare numerically and exactly, also integers beyond 2^53; strings compare by bytes. Arithmetic with a non-number gives null, as does division by zero; + also joins two strings or two arrays. =~ on a non-string is false. x in ARRAY tests membership, x in OBJECT tests a key, x in STRING tests a substring.",
            "Reserved words, which need backticks as field names: and or not in by as every from else within true false null.",
            "Regexes use Rust's regex syntax (linear time, no backreferences); a pattern over the size or nesting limit is a usage error before any input is read.",
        ],
    ),
    (
        "FUNCTIONS",
        &[
            "  len(x)              characters of a string, elements of an array, keys of an object\n  lower(s) upper(s) trim(s)\n  contains(x, y)      substring, array element or object key\n  startswith(s, p) endswith(s, p)\n  replace(s, /re/ or \"text\", with)   every match; $1 and $name refer to groups\n  split(s, sep or /re/)   join(array, sep)\n  substr(s, start[, len])   characters; a negative start counts from the end\n  str(x) int(x) float(x)   conversions; int truncates\n  round(x[, digits]) floor(x) ceil(x) abs(x)\n  min(a, b, ...) max(a, b, ...)   also over one array\n  coalesce(a, b, ...)   the first non-null\n  exists(path)        true if the key is present, even when null\n  type(x)             null, boolean, number, string, array or object\n  hash(x, ...)        xxHash64 (seed 0) of the values' text, the same everywhere\n  time(x)             Unix seconds (float) of a time, null if it does not parse\n  strftime(t, fmt)    formats a time in UTC\n  bucket(t, 5m)       start of the window holding t, in Unix seconds\n  now()               the time the run started\n  file() line() offset()   where the event was read: input name (- for stdin),\n                      1-based line number, byte offset in the decompressed input\n  topic()             the topic set by route, else null\n  raw()               the original line",
            "Times are RFC 3339 / ISO 8601 with any number of fractional digits, Z or +hh:mm or +hhmm offsets (none means UTC) and T or space between date and time; numbers as Unix time in seconds, milli-, micro- or nanoseconds, chosen by magnitude; Common Log Format (10/Oct/2000:13:55:36 -0700); anything else with --time-format.",
        ],
    ),
    (
        "STAGES",
        &[
            "  where EXPR                  keep events for which EXPR is true\n  set PATH = EXPR, ...        set fields, creating nested objects as needed\n  del PATH, ...               remove fields\n  keep PATH, ...              keep only these fields, in this order; missing ones are left out\n  rename PATH as PATH, ...    move fields; within one object the field keeps its position\n  head [N]                    the first N events (default 10); stops reading once done\n  tail [N]                    the last N events (default 10); holds N events\n  route by EXPR               set the topic to EXPR's value (null: no topic)\n  route NAME: EXPR, ... [else NAME]       the first matching rule names the topic; none: else, or _unmatched\n  route all NAME: EXPR, ... [else NAME]   one copy per matching rule\n  count [by KEYS] [every DUR]             count per group; largest first\n  stats AGG [as NAME], ... [by KEYS] [every DUR]   aggregates per group, first seen first\n  top [N] KEYS [by AGG]       the N (default 10) groups with the most events, or the highest AGG\n  distinct KEYS               unique combinations, first seen first\n  sort EXPR [desc], ...       stable sort; spills to temporary files past --memory-limit",
            "set evaluates all its expressions against the event as it was before the stage. A scalar in the way of a nested set is replaced by an object. where, set, del, keep, rename and route run on every thread; the other stages run on one thread in input order. An aggregate right after the parallel stages is computed on every thread in parts that are merged in input order, so its output is the same for every -j.",
            "KEYS is EXPR [as NAME], .... A key that is a path keeps its shape in the output: count by user.country gives {\"user\":{\"country\":\"DE\"},\"count\":3}. Other keys are named by their text unless as gives a name. Missing values group as null.",
            "Aggregates: count() (every event), count(EXPR) (non-null values), sum, avg, min, max, first, last (non-null values in input order), stddev and var (sample, n-1), distinct (the number of distinct values), values (the distinct values, at most 100), p50, p90, p95, p99, p999, median and percentile(EXPR, Q) with Q from 0 to 100. Integer sums are exact, also beyond 64 bits; averages and variances use numerically stable updates; percentiles are within 1% of the exact nearest-rank value and use bounded memory per group. Non-numbers are ignored by the numeric aggregates. An aggregate's default name is its function and its path, with other characters as _ (sum_latency_ms, p99_latency_ms, count).",
            "count without keys over no events gives {\"count\":0}. top orders by its aggregate, largest first, ties in first-seen order.",
        ],
    ),
    (
        "WINDOWS",
        &[
            "every DUR groups events into tumbling windows of event time, aligned to the Unix epoch in UTC. Each row starts with window_start and window_end (RFC 3339); windows come out in time order. Event time is read from --time-field, or from the first of ts, time, timestamp, @timestamp that an event has. Events without a parsable time are dead letters with reason no_time.",
            "By default windows are emitted at the end of input, exact whatever the input order. With --lateness DUR a window is emitted as soon as the watermark, the largest event time seen minus DUR, passes its end, so results stream while reading (stdout is then flushed after every batch); an event older than a window already emitted is a dead letter with reason late. Such a stage runs on one thread.",
        ],
    ),
    (
        "DEAD LETTERS",
        &[
            "With --dead-letter FILE, every rejected line becomes one NDJSON record: {\"file\", \"line\", \"offset\", \"reason\", \"error\", \"raw\"}, with raw_b64 (base64) instead of raw when the line is not UTF-8. For too_long lines, raw holds the first 4096 bytes. Reasons: invalid_json, invalid_utf8, too_long, too_deep, no_time (a windowed aggregate found no event time) and late (older than a window already emitted).",
            "Without --dead-letter, the number of dead letters by reason and the first three go to stderr at the end of the run: never silent.",
        ],
    ),
    (
        "STATISTICS",
        &[
            "--stats writes a JSON summary: lines and bytes read, the fate of every line (emitted, filtered by where, blank, skipped by head or tail, aggregated, dead letters by reason), copies made by route all (not line fates), events written, per-input counts, elapsed time and throughput. The fates always add up to the lines read. When head ends the run early, lines read counts the lines processed.",
        ],
    ),
    (
        "EXIT STATUS",
        &[
            "  0    success; dead letters are allowed unless --strict or --max-errors\n  1    a check failed: -e and nothing was output\n  2    usage error: bad option, pipeline syntax, bad regex, unreadable pipeline file; before any input is read\n  3    data or input error: --strict or --max-errors exceeded, unreadable or corrupt input (such as a truncated gzip file), after processing what could be processed\n  4    output error: disk full, permission denied; the message names the file\n  130  interrupted by SIGINT, after writing whole lines\n  143  terminated by SIGTERM, after writing whole lines",
            "A closed standard output (evq ... | head -1) ends the run quietly with status 0, and evq stops reading. With --strict or --max-errors the output stops exactly before the offending line. Error messages are one line on stderr: evq: FILE:LINE: what went wrong. An unreadable input is reported and the next one is read.",
        ],
    ),
    (
        "PERFORMANCE",
        &[
            "evq uses all cores by default (-j to choose). A reader thread cuts input into line-aligned chunks, workers run the parallel stages, and results are put back in input order, so the output is byte-identical for every -j. Only the top-level fields a pipeline reads are indexed; every line is still fully validated. Pipelines without tail run in constant memory.",
        ],
    ),
];

pub fn render(out: &mut dyn Write) -> io::Result<()> {
    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    let mut roff = Roff::new();
    for (title, paras) in SECTIONS {
        roff.control("SH", [*title]);
        for p in *paras {
            if let Some(verbatim) = p.strip_prefix("  ") {
                roff.control("nf", []);
                for line in verbatim.lines() {
                    roff.text([roman(line.strip_prefix("  ").unwrap_or(line))]);
                }
                roff.control("fi", []);
            } else {
                roff.control("PP", []);
                roff.text([roman(*p)]);
            }
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([bold("jq"), roman("(1), "), bold("mlr"), roman("(1)")]);
    out.write_all(roff.render().as_bytes())?;
    man.render_version_section(out)
}
