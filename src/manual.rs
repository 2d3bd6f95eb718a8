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
            "A line that is not valid UTF-8, not valid JSON, nested 128 levels deep or more (serde_json's limit), or longer than --max-line-bytes is a dead letter (see DEAD LETTERS). It never stops the run unless --strict or --max-errors says so.",
        ],
    ),
    (
        "INPUT FORMATS",
        &[
            "-i chooses how input becomes events. ndjson (the default) is one JSON value per line. json is any JSON text: pretty-printed documents spanning lines, concatenated values, and a top-level array, which gives one event per element (an array is held in memory while it is split). lines makes each line the event {\"line\": TEXT}. logfmt reads key=value pairs per line. csv and tsv read a header row, then one event per record; values that look like JSON numbers become numbers. When the pipeline starts with parse, the default is lines.",
            "For json, csv and tsv, line() counts records and offset() counts bytes of the records converted to NDJSON. A text line (lines, logfmt) that is not valid UTF-8 is kept, with U+FFFD in its text; if a stage rejects it, the dead letter holds the exact bytes. --strip-ansi removes ANSI colour and cursor sequences from text lines.",
            "--multiline-start REGEX joins every line that does not match REGEX to the record before it (Java stack traces, Python tracebacks, indented continuations). A record is cut at --max-line-bytes; it counts as one line read, and line() is its first line.",
            "--merge reads the inputs at once and interleaves their lines in event-time order, for inputs that are each ordered by time (rotated or per-host logs). The time of a JSON line is its event time (see WINDOWS); of a text line, an RFC 3339 or syslog timestamp at its start or a bracketed Common Log Format time. A line without a time keeps the time of the line before it, so continuation lines stay in place; ties go to the input named first. Memory holds one line per input.",
        ],
    ),
    (
        "PARSE",
        &[
            "parse FORMAT [from EXPR] [else keep|drop|dead] turns text into fields, which are set on the event. The text is raw() unless from gives an expression. An event that does not parse is a dead letter with reason parse, unless else keep passes it on unchanged or else drop filters it out.",
            "  combined, common  Apache and nginx access logs: client, ident, user, time (as written),\n                    method, path, protocol, status, bytes, and for combined referrer and agent;\n                    - becomes null; a request line that does not split is kept in request\n  syslog            RFC 3164 (timestamp without a year: from --year, else the input's\n                    modification year) and RFC 5424, detected per line: priority, facility,\n                    severity, timestamp, host, program, pid, message (5424 also version,\n                    msgid, structured_data)\n  logfmt            key=value key2=\"quoted value\"; a bare key is true\n  kv                key=value pairs anywhere in the text, separated by spaces, commas or\n                    semicolons, values optionally in double or single quotes\n  json              the text is JSON; an object gives its fields, another value {\"value\": v}\n  /regex/           named groups (?P<name>...) become fields",
            "Captured values that look like JSON numbers become numbers, keeping their text; other values stay strings.",
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
            "  where EXPR                  keep events for which EXPR is true\n  parse FORMAT [from EXPR] [else keep|drop|dead]   text into fields (see PARSE)\n  set PATH = EXPR, ...        set fields, creating nested objects as needed\n  del PATH, ...               remove fields\n  keep PATH, ...              keep only these fields, in this order; missing ones are left out\n  rename PATH as PATH, ...    move fields; within one object the field keeps its position\n  head [N]                    the first N events (default 10); stops reading once done\n  tail [N]                    the last N events (default 10); holds N events\n  route by EXPR               set the topic to EXPR's value (null: no topic)\n  route NAME: EXPR, ... [else NAME]       the first matching rule names the topic; none: else, or _unmatched\n  route all NAME: EXPR, ... [else NAME]   one copy per matching rule\n  count [by KEYS] [every DUR]             count per group; largest first\n  stats AGG [as NAME], ... [by KEYS] [every DUR]   aggregates per group, first seen first\n  top [N] KEYS [by AGG]       the N (default 10) groups with the most events, or the highest AGG\n  distinct KEYS               unique combinations, first seen first\n  sort EXPR [desc], ...       stable sort; spills to temporary files past --memory-limit\n  to TEMPLATE                 write each event to the file TEMPLATE names; ends the pipeline\n  tee TEMPLATE                like to, and pass events on",
            "set evaluates all its expressions against the event as it was before the stage. A scalar in the way of a nested set is replaced by an object. where, set, del, keep, rename and route run on every thread; the other stages run on one thread in input order. An aggregate right after the parallel stages is computed on every thread in parts that are merged in input order, so its output is the same for every -j.",
            "KEYS is EXPR [as NAME], .... A key that is a path keeps its shape in the output: count by user.country gives {\"user\":{\"country\":\"DE\"},\"count\":3}. Other keys are named by their text unless as gives a name. Missing values group as null.",
            "Aggregates: count() (every event), count(EXPR) (non-null values), sum, avg, min, max, first, last (non-null values in input order), stddev and var (sample, n-1), distinct (the number of distinct values), values (the distinct values, at most 100), p50, p90, p95, p99, p999, median and percentile(EXPR, Q) with Q from 0 to 100. Integer sums are exact, also beyond 64 bits; averages and variances use numerically stable updates; percentiles are within 1% of the exact nearest-rank value and use bounded memory per group. Non-numbers are ignored by the numeric aggregates; min and max prefer numbers, and compare other values by the order null < booleans < numbers < strings < arrays < objects only when none is a number. An aggregate's default name is its function and its path, with other characters as _ (sum_latency_ms, p99_latency_ms, count).",
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
        "TOPIC FILES",
        &[
            "to, tee and -O DIR (short for ending the pipeline with to \"DIR/{topic()}.ndjson\") write events to files named by a template, a string whose {EXPR} parts are replaced by the expression's value; {{ and }} are literal braces. A missing or null value renders as _none.",
            "Values are made safe: characters other than A-Z a-z 0-9 . _ - and non-ASCII letters are percent-encoded per UTF-8 byte, so / and \\ can never form a path; . and .. become %2E and %2E%2E, the empty value %empty, a value _none %5Fnone, Windows device names such as CON get their first letter encoded, and values longer than 200 bytes are cut and end with ~ and a 64-bit hash. The encoding is injective: two different values never share a file (on a case-sensitive file system). Nothing is created outside the template's fixed directory prefix (its text up to the last / before the first placeholder), and a symbolic link below it is never followed: evq stops with exit 4.",
            "Any number of files works: open files are kept in a least-recently-used cache of --max-open-files (default: three quarters of the open-file limit, which evq raises to the system's maximum) and reopened in append mode. A file is truncated the first time a run opens it, unless --append. Names ending in .gz or .zst are compressed, one gzip member or zstd frame per time the file is open, so they stay valid. Lines for files are held in a 24 MiB pool shared by all files; once half of it is used, the files holding the most are written first, each in one write, by a thread of their own, so that thousands of files still get large writes. While the run goes on, a plain file is written in whole 4 KiB blocks (a partly filled block costs the filesystem more than the bytes), so it may end inside a line until the rest of that line follows; when the run ends, every file ends with a whole line. After a write error (disk full, permission denied) the files are cut back to their last whole line, and evq exits 4 naming the file; after Ctrl-C every held line is written, so every file ends with a whole line. With --atomic, files are written under temporary names and renamed into place only if the run succeeds; otherwise no final file is created or changed.",
            "route by EXPR sets the topic to EXPR's value as text (null when missing); route NAME: EXPR, ... names the topic after the first rule whose EXPR is true, else the else name or _unmatched; route all makes one copy of the event per matching rule. An event written to a file counts as emitted; the extra copies of route all are counted as copies, apart from the lines' fates.",
        ],
    ),
    (
        "OUTPUT FORMATS",
        &[
            "-o ndjson (default) writes one event per line, an unmodified event as its original bytes. json writes one array, pretty indented JSON. csv, tsv and table write columns: every key in first-seen order across all events, nested keys flattened as a.b, arrays as JSON; they hold all events until the end, so use them for aggregates and modest outputs. csv quotes as RFC 4180; tsv escapes tab, newline, carriage return and backslash as \\t \\n \\r \\\\. table aligns columns by display width (wide CJK characters, emoji), right-aligns numbers, shows control characters escaped and fits the terminal's width. logfmt writes key=value pairs per event.",
            "When stdout is a terminal and the pipeline ends in an aggregate, the default is table, and when input is a stream (standard input) the aggregate's current result is redrawn in place a few times a second while input arrives, cut to the terminal's height, and printed once at the end. Output is line-buffered when stdout is a terminal, with --line-buffered, or with --lateness.",
        ],
    ),
    (
        "DEAD LETTERS",
        &[
            "With --dead-letter FILE, every rejected line becomes one NDJSON record: {\"file\", \"line\", \"offset\", \"reason\", \"error\", \"raw\"}, with raw_b64 (base64) instead of raw when the line is not UTF-8. For too_long lines, raw holds the first 4096 bytes. Reasons: invalid_json, invalid_utf8, too_long, too_deep, parse (parse or -i logfmt could not parse the line), no_time (a windowed aggregate found no event time) and late (older than a window already emitted).",
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
            "  0    success; dead letters are allowed unless --strict or --max-errors\n  1    a check failed: -e and nothing was output\n  2    usage error: bad option, pipeline syntax, bad regex, unreadable pipeline file; before any input is read\n  3    data or input error: --strict or --max-errors exceeded, unreadable or corrupt input (such as a truncated gzip file), after processing what could be processed\n  4    output error: disk full, permission denied; the message names the file\n  70   internal error (a bug in evq): reported as one evq: internal error: line; what was output before it stays, every output file ends on a whole line\n  130  interrupted by SIGINT, after writing whole lines\n  143  terminated by SIGTERM, after writing whole lines",
            "A closed standard output (evq ... | head -1) ends the run quietly with status 0, and evq stops reading. With --strict or --max-errors the output stops exactly before the offending line. Error messages are one line on stderr: evq: FILE:LINE: what went wrong. An unreadable input is reported and the next one is read.",
        ],
    ),
    (
        "PERFORMANCE",
        &[
            "evq uses all cores by default (-j to choose). A reader thread cuts input into line-aligned chunks, workers run the parallel stages, and results are put back in input order, so the output is byte-identical for every -j. Only the top-level fields a pipeline reads are indexed; every line is still fully validated. Likewise parse builds only the fields that later stages can see (all of them when events are written out); whether a line parses never depends on that. Pipelines without tail run in constant memory.",
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
