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
            "In a directory, FIFOs, sockets, devices and symbolic links are skipped, and one evq: note counts them; with --follow-links, links are followed. Either way every file and directory is read once, compared by device and inode, so link loops and hard links are harmless. A path named on the command line is always read as given, even a FIFO.",
            "Compressed inputs are recognised by their first bytes, not their names: gzip (every member of a multi-member file), zstd, bzip2 and xz.",
            "Each line is one event, normally a JSON object. A trailing carriage return is removed, a UTF-8 byte order mark at the start of an input is removed (offsets still count it), a last line without a newline is a normal line, and lines that are empty or only whitespace are skipped and counted as blank.",
            "A line that is not valid UTF-8, not valid JSON, nested deeper than 128 levels, holding a lone UTF-16 surrogate escape such as \"\\ud800\" in any key or string (invalid_unicode, whatever fields the pipeline reads), or longer than --max-line-bytes is a dead letter (see DEAD LETTERS). It never stops the run unless --strict or --max-errors says so.",
        ],
    ),
    (
        "INPUT FORMATS",
        &[
            "-i chooses how input becomes events. ndjson (the default) is one JSON value per line. json is any JSON text: pretty-printed documents spanning lines, concatenated values, and a top-level array, which gives one event per element. lines makes each line the event {\"line\": TEXT}. logfmt reads key=value pairs per line. csv and tsv read a header row, then one event per record; values that look like JSON numbers become numbers. When the pipeline starts with parse, the default is lines.",
            "With -i json, a record that is not valid JSON is an invalid_json dead letter at the line where it starts, and the records before and after it are kept. Decoding resumes after the bad value if its brackets balance; otherwise at the next line that starts with { or [ and is indented no more than the bad record (inside a top-level array: the next element or the closing ]). A value cut off at the end of the input is a dead letter, and so is a top-level array that is never closed. A CSV or TSV row that is not valid UTF-8 is an invalid_utf8 dead letter; a row with more fields than the header names the extra ones _N by position, a row with fewer simply lacks the missing keys. --multiline-start cannot be combined with json, csv or tsv.",
            "For json, csv and tsv, line() and offset() give where each record starts in the input. A text line (lines, logfmt) that is not valid UTF-8 is kept, with U+FFFD in its text; if a stage rejects it, the dead letter holds the exact bytes. --strip-ansi removes ANSI colour and cursor sequences from text lines.",
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
            "In RFC 3164 lines the tag is the first word after the host. It ends at [pid], at a : that ends the word, or at a space or the end of the line when the word starts with an ASCII letter or digit (RFC 3164 4.1.3): syslogd 1.4.1: restart. gives program syslogd and message 1.4.1: restart.. A first word that starts with another character (-- MARK --) or has a : inside (12:30) is not a tag: program is null and the whole text is the message.",
        ],
    ),
    (
        "FIDELITY",
        &[
            "An event that no stage modifies is written exactly as it was read, byte for byte. A modified event keeps its key order and the exact text of its numbers (18446744073709551615, -9223372036854775808, 1.0 and 1e400 survive); it is written compactly, with no whitespace and minimal string escapes, whichever stage changed it. When a key appears twice in an object, the last value wins, at the position of the first, for reads as for writes. del of fields an event does not have leaves it unmodified.",
        ],
    ),
    (
        "EXPRESSIONS",
        &[
            "Paths: level, user.id, tags[0], tags[-1] (from the end), headers[\"user-agent\"], `id.orig_h` (backticks quote a key with dots, dashes, spaces, or a reserved word), @timestamp, and . for the whole event. A missing field is null.",
            "A dotted path whose nested form is absent reads the literal key when the event has one: id.orig_h reads Zeek's \"id.orig_h\" key, event.code an ECS-style flat \"event.code\" key; the nested form wins when both exist. Only the leading run of unquoted names is joined (a.b.c reads \"a.b.c\", not \"a.b\" then c). Backticks force the literal key. set, del, rename, keep and explode on such a path change the flat key when the event has it and not the nested form. Group keys keep the path's shape: write count by `id.orig_h` to name a flat key in the output.",
            "Literals: \"strings\" with JSON escapes, numbers, true, false, null, arrays [1, \"a\"], regexes /5\\d\\d/i with flags i, m, s, x, and durations 250ms 30s 5m 1h 1d 1w, which are numbers of seconds.",
            "Operators, lowest precedence first: or (||); and (&&); not (!); ?? (first non-null); comparisons == != < <= > >=, regex match =~ !~, membership in and not in; + -; * / %; unary -.",
            "Evaluation never fails. null and false are false, every other value is true. Comparing values of different types gives false (except !=, true); numbers compare numerically and exactly, also integers beyond 2^53; strings compare by bytes. Arithmetic with a non-number gives null, as does division by zero; + also joins two strings or two arrays. =~ on a non-string is false. x in ARRAY tests membership, x in OBJECT tests a key, x in STRING tests a substring.",
            "Reserved words, which need backticks as field names: and or not in by as every from else within true false null.",
            "Regexes use Rust's regex syntax (linear time, no backreferences); a pattern over the size or nesting limit is a usage error before any input is read. Inside /regex/ a backslash escapes the next character as in Rust regex syntax; only \\/ becomes /, so /\\\\/ matches one backslash.",
            "Numbers compare by their exact decimal value, whatever their size or precision: -1e-400 < 0, 1e400 > 1e399 and 9007199254740993.0 > 9007199254740992, while 1, 1.0 and 1e0 are equal. A computed float counts as the number it prints as. int, round, floor and ceil work on the exact value (int(9007199254740993.0) is 9007199254740993, round(1e400) is 1e400); a negative second argument to round rounds to tens, hundreds and so on (round(7, -1) is 10). sort orders arrays element by element and objects by their entries in key order, so values that are == sort as equal. A computed value that is not finite, such as float(\"1e400\"), is null.",
            "Expressions nest at most 128 levels (brackets, function calls, not, unary minus, and each operator in a chain such as a or b or c); deeper is a usage error: for long alternatives use x in [...]. Every pipeline error shows the pipeline with a caret under the problem and a hint.",
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
            "  where EXPR                  keep events for which EXPR is true\n  parse FORMAT [from EXPR] [else keep|drop|dead]   text into fields (see PARSE)\n  set PATH = EXPR, ...        set fields, creating nested objects as needed\n  del PATH, ...               remove fields\n  keep PATH, ...              keep only these fields, in this order; missing ones are left out\n  rename PATH as PATH, ...    move fields; within one object the field keeps its position\n  head [N]                    the first N events (default 10); stops reading once done\n  tail [N]                    the last N events (default 10); holds N events\n  route by EXPR               set the topic to EXPR's value (null: no topic)\n  route NAME: EXPR, ... [else NAME]       the first matching rule names the topic; none: else, or _unmatched\n  route all NAME: EXPR, ... [else NAME]   one copy per matching rule\n  count [by KEYS] [every DUR]             count per group; largest first\n  stats AGG [as NAME], ... [by KEYS] [every DUR]   aggregates per group, first seen first\n  top [N] KEYS [by AGG]       the N (default 10) groups with the most events, or the highest AGG\n  distinct KEYS               unique combinations, first seen first\n  sort EXPR [desc], ...       stable sort; spills to temporary files past --memory-limit\n  to TEMPLATE                 write each event to the file TEMPLATE names; ends the pipeline\n  tee TEMPLATE                like to, and pass events on\n  explode PATH [as NAME]      one event per element of an array (see EVENT PATTERNS)\n  sample RATE [by EXPR]       keep a reproducible share: 10%, 0.5%, 1/100\n  join FILE on EXPR [= EXPR] [as NAME]    add the fields of a matching record of FILE\n  validate SCHEMA_FILE        events that do not match a JSON Schema are dead letters\n  fold by KEYS [from PATH] [emit final|changes]   per-entity state from an event log\n  assert EXPR [else \"MESSAGE\"]  the first event for which EXPR is false ends the run, exit 1\n  dedupe [by KEYS] [within DUR]           drop repeats of a key (default id)\n  throttle N per DUR [by EXPR]            at most N events per key per event-time window\n  reorder by EXPR within DUR|N            restore the order of a slightly disordered stream",
            "set evaluates all its expressions against the event as it was before the stage. A scalar in the way of a nested set is replaced by an object. set and keep on an event that is not a JSON object give a dead letter with reason not_object (del and rename pass it unchanged). Writing to an array index pads with at most 1000 nulls; an index further out, before the start of the array, or into a value that is not an array is a dead letter with reason invalid_path, and a change that would nest an event deeper than 128 levels one with reason too_deep. where, set, del, keep, rename, route, parse, explode, sample, join and validate run on every thread when they come before the first of the other stages, which run on one thread in input order (and so do the per-event stages after them). An aggregate right after the parallel stages is computed on every thread in parts that are merged in input order, so its output is the same for every -j.",
            "KEYS is EXPR [as NAME], .... A key that is a path keeps its shape in the output: count by user.country gives {\"user\":{\"country\":\"DE\"},\"count\":3}. Other keys are named by their text unless as gives a name. Missing values group as null.",
            "Aggregates: count() (every event), count(EXPR) (events where EXPR is neither null nor false: a condition such as count(status >= 500) counts where it holds, a boolean field its true values), sum, avg, min, max, first, last (non-null values in input order), stddev and var (sample, n-1), distinct (the number of distinct values), values (the distinct values, at most 100), p50, p90, p95, p99, p999, median and percentile(EXPR, Q) with Q from 0 to 100. Integer sums are exact, also beyond 64 bits; averages and variances use numerically stable updates; percentiles are within 1% of the exact nearest-rank value and use bounded memory per group. Non-numbers are ignored by the numeric aggregates; min and max prefer numbers, and compare other values by the order null < booleans < numbers < strings < arrays < objects only when none is a number. An aggregate's default name is its function, _, then its path with the parts joined by _ and other characters as _ (sum_latency_ms, max(_path) is max__path, sum(tags[0]) is sum_tags_0, percentile(x, 99.9) is p99_9_x, count). If two output fields of count, stats, top or distinct would be the same field, or one would hold the other (aggregate names, group keys, as names, window_start and window_end), the pipeline is a usage error naming both: rename one with as.",
            "Group keys, distinct, top, distinct() and values() compare numbers by exact decimal value: 1, 1.0, 1E0 and 10e-1 are one group, printed as first seen; integers beyond 2^53 stay distinct; objects compare whatever their key order; the string \"1\" is never the number 1. Percentiles print a value that occurred, within 1% of the exact nearest-rank value over the whole double range. An aggregate holds at most --max-groups groups (default 10,000,000, about 1 GB for a one-key count); past it the run stops with exit 3 naming the stage: no group is silently evicted.",
            "sort holds events in memory up to --memory-limit (default 1G), counting each event's text, keys and bookkeeping. Past it, sorted runs spill to one unnamed temporary file in $TMPDIR, which disappears when evq exits, even when it is killed. At the end the runs are merged, as many at a time as 64 KiB read buffers fit in the limit (at least two), with extra passes when there are more, so the open-file limit never matters; the output is written as it is merged. If a spill fails (missing or full $TMPDIR), evq says so, stops reading, writes the events it holds in sorted order, counts later lines as skipped and exits 3.",
            "count without keys over no events gives {\"count\":0}. top orders by its aggregate, largest first, ties in first-seen order.",
        ],
    ),
    (
        "EVENT PATTERNS",
        &[
            "explode PATH [as NAME] (splitter) makes one event per element of the array at PATH, the other fields copied. Without as, PATH holds the element, in the array's place; with as NAME, NAME holds the element and PATH is removed. explode . splits an event that is itself an array. An empty array, a value that is not an array or a missing PATH gives no event: the line's fate is exploded_empty. The first element's event carries the line's fate, the others are counted as copies (as with route all).",
            "sample RATE [by EXPR] keeps a share of the events: RATE is 10%, 0.5% or 1/100, above 0 and at most 100%. Each event is kept when its 64-bit xxHash64, seeded with --seed N (default 0), divided by 2^64 is below RATE. Without by, the hash is of the event's input (its place in the list of inputs) and line number, so the same lines are kept for every -j and run; --seed picks another share. With by EXPR, the hash is of EXPR's value, compared by value as group keys are (1, 1.0 and 1E0 are one key): all of a key's events are kept or none, on every machine and run. This is not the hash() function, which hashes text. Dropped events have the fate sampled_out.",
            "join FILE on EXPR [= EXPR] [as NAME] (enricher) is a left join with a lookup file read once, when the pipeline is built, and held in memory: NDJSON, one object per line, or CSV with a header row when the name ends in .csv (number-like values become numbers). A file that cannot be read, a line that is not a JSON object or a malformed CSV row is a usage error naming the file and line. on A = B evaluates A on the event and B on each record; on A uses A for both. Keys match by value; a null or missing key matches nothing; when records repeat a key, the first wins. A match adds the record's fields to the event, overwriting fields it already has (as jq's . + $record), or puts the record at NAME with as. No match leaves the event unchanged; it passes on and is counted in unmatched_join in --stats (not a fate). Compressed lookup files are not read.",
            "validate SCHEMA_FILE checks each event against a JSON Schema read when the pipeline is built: the draft comes from $schema (2020-12, 2019-09, 7, 6, 4), 2020-12 without one. References to other files or URLs are not resolved. A schema that cannot be read or is not valid is a usage error. An event that does not match is a dead letter with reason schema; its error is the JSON pointer of the first failing value and the message, e.g. /user/age: -1 is less than the minimum of 0.",
            "fold by KEYS [from PATH] [emit final|changes] (event sourcing) rebuilds the state of each entity (each distinct KEYS value, compared by value) by applying its events in input order as JSON merge patches (RFC 7386): objects merge, a field set to null is deleted, any other value replaces. The patch is the whole event, or the value at PATH with from. Each output row holds the entity's keys, the state's fields (a state that is not an object is in _state), _events (how many events built it) and _last (the time of the last event that had one, as written; see WINDOWS for where event time comes from, else null). emit final, the default, gives one row per entity at the end of input in first-seen order; emit changes gives the entity's row after every event, a read-model feed. State as of a time is a replay: where time(ts) <= time(\"2026-11-01T00:00:00Z\") | fold by order_id. The events a fold takes are counted as aggregated. It holds at most --max-groups entities; past it the run stops with exit 3 naming the stage.",
            "dedupe [by KEYS] [within DUR] (idempotent receiver) passes the first event of each key and drops later ones (fate duplicate). The key is id unless by names others; keys compare by value like group keys and are stored exactly, never as a hash. An event whose key is null or missing is never a duplicate and is not remembered. Without within, every key is remembered until the end of input, at most --max-groups keys; past that evq stops with exit 3 naming the stage. With within DUR, an event is a duplicate when its key was kept less than DUR earlier in event time; a duplicate does not extend the window, so a key that repeats forever passes once every DUR. A key is forgotten once the newest event time seen is DUR past the time it was kept, so memory holds only the keys of the last DUR. Events without a parsable time are then dead letters (no_time). The result is the same for every -j.",
            "throttle N per DUR [by EXPR] passes at most N events per key in each event-time window of DUR (tumbling, aligned to the Unix epoch as for every); the rest have the fate throttled. Without by, one key for all events; a null or missing key is a key like any other. Counts are held for the newest window and the one before it, so a slightly disordered stream is counted right across a window's end; an event for an older window is throttled. Events without a parsable time are dead letters (no_time); a window holds at most --max-groups keys.",
            "reorder by EXPR within DUR (or within N) (resequencer) restores the order of a slightly disordered stream. Events wait in a buffer and leave it in order of EXPR, read as an event time (a time string, or a number: seconds, or milli-, micro- or nanoseconds by size; a sequence number below 10^11 is taken as it is). With within DUR an event leaves once an event DUR later has arrived, so the output is sorted whenever no event arrives more than DUR behind an earlier one; with within N at most N events wait. The buffer never holds more than --memory-limit: past it the earliest events leave early. Equal keys keep their arrival order. An event earlier than one already output is a dead letter with reason late, an event whose EXPR is not a time one with reason no_time. At the end of input the events waiting are output in order. A head after dedupe, throttle or reorder stops reading once it has its events.",
            "assert EXPR [else \"MESSAGE\"] is a check for CI. Events for which EXPR is true pass on; the first for which it is not ends the run with exit 1 and evq: FILE:LINE: assertion failed: MESSAGE (MESSAGE defaults to EXPR as written). What came before that event is output, nothing after it, not even an aggregate's result; its line's fate is failed and the lines read after it are skipped. It runs in input order, so the failing event is the first in the input whatever -j. After an aggregate it checks the result rows, and the message shows the row: stats p99(ms) as p99 | assert p99 < 250.",
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
            "Values are made safe: characters other than A-Z a-z 0-9 . _ - and non-ASCII letters are percent-encoded per UTF-8 byte, so / and \\ can never form a path; . and .. become %2E and %2E%2E, the empty value %empty, a value _none %5Fnone, Windows device names such as CON get their first letter encoded, and values longer than 200 bytes are cut and end with ~ and a 64-bit hash, a leading . is written %2E so no value makes a hidden file, and a whole name longer than 255 bytes is cut and gets ~ and a 16-hex-digit hash of the whole name, keeping the text after its last placeholder (its extension). The encoding is injective: two different values never share a file (on a case-sensitive file system). Nothing is created outside the template's fixed directory prefix (its text up to the last / before the first placeholder), and a symbolic link in it or below it is never followed: evq stops with exit 4 naming it (to write through one, pass the resolved path, e.g. -O \"$(realpath out)\"). The literal text of a template is normalised when the pipeline is built: . and empty names are dropped, and .. may only lead it (../out/{x}). A template that names no file (empty, ending in /, .. after a directory name) is a usage error before any input is read.",
            "Any number of files works: open files are kept in a least-recently-used cache and reopened in append mode. All templates of a run (every to, tee and -O) share one set of files and one open-file budget, --max-open-files, never more than three quarters of the process's open-file limit (which evq raises to the system's maximum) minus 16; a file two stages name is truncated once and gets their lines in input order. A file is truncated the first time a run opens it, unless --append. Names ending in .gz or .zst are compressed; a compressed file ends a gzip member or zstd frame every 1 MiB of compressed output and each time it is closed, so it stays valid. Lines for files are held in a 24 MiB pool shared by all files; once half of it is used, the files holding the most are written first, each in one write of whole lines, by a thread of their own, so that thousands of files still get large writes. After a write error (disk full, a file size limit, permission denied) plain files are cut back to their last whole line, a compressed file to its last complete member or frame (or removed if it has none, which the message says), and evq exits 4 naming the file; after Ctrl-C every held line is written. With --atomic, files are written under temporary names and renamed into place only if the run succeeds; otherwise no final file is created or changed.",
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
            "With --dead-letter FILE, every rejected line becomes one NDJSON record: {\"file\", \"line\", \"offset\", \"reason\", \"error\", \"raw\"}, with raw_b64 (base64) instead of raw when the line is not UTF-8. For too_long lines, raw holds the first 4096 bytes. Reasons: invalid_json, invalid_utf8, invalid_unicode (a lone surrogate escape), too_long, too_deep, parse (parse or -i logfmt could not parse the line), not_object (set or keep on an event that is not an object), invalid_path (an array index write out of bounds), no_time (a windowed aggregate found no event time) and late (older than a window already emitted).",
            "Without --dead-letter, the number of dead letters by reason and the first three go to stderr at the end of the run: never silent.",
        ],
    ),
    (
        "STATISTICS",
        &[
            "--stats writes a JSON summary: lines and bytes read, the fate of every line (emitted, filtered by where, blank, skipped by head or tail, aggregated, exploded_empty, sampled_out, duplicate, throttled, failed by assert, dead letters by reason), copies made by route all and explode and events join found no record for (unmatched_join; neither are line fates), events written, per-input counts, elapsed time and throughput. The fates always add up to the lines read, and evq checks it at the end of every run (a mismatch is an internal error, exit 70). When head, an assert or a closed output ends the run early, lines read counts the lines processed, and the events that tail, sort or reorder still held are counted as skipped. The one exception: a signal, or an output error, during the output at the end of input stops it at once, and the events not yet output then have no fate in the report.",
        ],
    ),
    (
        "WARNINGS",
        &[
            "evq says when a pipeline cannot mean what was typed. These go to stderr, one line each, at the end of the run, and -q silences them (errors and the dead-letter summary are always printed):",
            "  evq: warning: field \"F\" was not in any of N events; did you mean \"G\"?
      a field the pipeline reads (in where, route, set's expressions, keep, del, rename,
      explode, and the keys and arguments of count, stats, top, distinct) that no event had,
      with the nearest field that did occur; fields an earlier stage makes are not checked
  evq: warning: EXPR never held: F was never TYPE (it was TYPES); write FIX
      a where comparison of a field with a constant that no event's field could meet
      (LogonType == 3 when LogonType is always a string)
  evq: these lines look like FORMAT; add 'parse NAME' at the start of the pipeline, or read them with -i lines
      before the dead-letter summary, when most lines were not JSON and look like an access
      log, syslog or logfmt
  evq: reading events from the terminal (Ctrl-D ends); give a file to read it
      no PATH (or only -) and standard input is a terminal",
            "The checks see what the worker threads see: fields read only by stages after head, tail or sort, and to/tee templates, are not checked; != and in are not checked for types.",
        ],
    ),
    (
        "EXIT STATUS",
        &[
            "  0    success; dead letters are allowed unless --strict or --max-errors\n  1    a check failed: an assert, or -e and nothing was output\n  2    usage error: bad option, pipeline syntax, bad regex, unreadable pipeline file; before any input is read\n  3    data or input error: --strict or --max-errors exceeded, unreadable or corrupt input (such as a truncated gzip file), after processing what could be processed\n  4    output error: disk full, permission denied; the message names the file\n  70   internal error (a bug in evq): reported as one evq: internal error: line; what was output before it stays, every output file ends on a whole line\n  130  interrupted by SIGINT, after writing whole lines\n  143  terminated by SIGTERM, after writing whole lines",
            "A closed standard output (evq ... | head -1) ends the run quietly with status 0, and evq stops reading. With --strict or --max-errors the output stops exactly before the offending line. Error messages are one line on stderr: evq: FILE:LINE: what went wrong. Argument errors are one line too, with a hint, exit 2; a pipeline error shows the pipeline with a caret under the problem and a hint, also for habits from jq, SQL and other tools (= for ==, single quotes, select(...), eq, an option inside the quotes). An unreadable input is reported and the next one is read.",
        ],
    ),
    (
        "GUARANTEES AND LIMITS",
        &[
            "Every input line ends in exactly one counted fate (see STATISTICS), and evq never overwrites its own input: files are compared by device and inode, so --dead-letter, --stats=FILE, a to or tee path without placeholders, or stdout that is one of the inputs is refused before reading (exit 2), and a topic file that turns out to be an input stops the run with exit 4, the input untouched.",
            "Output files end on whole lines. A write error (disk full, a file size limit: SIGXFSZ is ignored and EFBIG reported, permission denied) cuts plain files, the dead-letter file and stdout redirected to a file back to their last whole line and exits 4 naming the file. SIGINT and SIGTERM stop the run, also during the output of sort or an aggregate at the end, after whole lines, with 130 or 143; a signal while reading still prints the aggregate of what was read. A bug that panics is reported as one evq: internal error: line: what came before it is output, nothing after, every file is closed on a whole line and evq exits 70. A stderr that cannot be written never changes the exit status.",
            "SIGKILL cannot be caught: plain files hold whole lines up to the last write, but Linux may stop a write that is copying several pages at a page boundary when the process is killed, so the last line of a file may be cut short. Use --atomic when a file must be all or nothing.",
            "  nesting             128 levels in events and in expressions; deeper: too_deep dead letter / usage error
  line length         --max-line-bytes (64M); longer: too_long dead letter holding the first 4096 bytes
  groups              --max-groups (10,000,000) per aggregate; past it: exit 3 naming the stage
  sort memory         --memory-limit (1G); past it: spills to a temporary file
  open files          --max-open-files (3/4 of the limit, minus 16) for all topic files; more files: closed and reopened
  file names          255 bytes; longer: cut with a hash, still distinct
  array padding       1000 nulls; further: invalid_path dead letter",
        ],
    ),
    (
        "PERFORMANCE",
        &[
            "evq uses all cores by default (-j to choose). A reader thread cuts input into line-aligned chunks, workers run the parallel stages, and results are put back in input order, so the output is byte-identical for every -j. Only the top-level fields a pipeline reads are indexed; every line is still fully validated. Likewise parse builds only the fields that later stages can see (all of them when events are written out); whether a line parses never depends on that. Pipelines without tail run in constant memory.",
        ],
    ),
];

pub(crate) fn render(out: &mut dyn Write) -> io::Result<()> {
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
