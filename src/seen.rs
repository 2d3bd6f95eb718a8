//! Fields never seen: the paths a pipeline reads from its input events, checked on
//! every worker until each has been seen once, and the end-of-run warning for those
//! no event had (`field "levle" was not in any of 10,000 events; did you mean "level"?`).
//!
//! Cost: once every path has been seen, one relaxed atomic load per event (a cache
//! line all workers only read). Only while some path is missing are events checked,
//! and the field names of a few of them kept for the suggestion.

use crate::event::{Event, Needs};
use crate::flags::{Flags, MAX_FLAGS};
use crate::lang::ast::Seg;
use crate::lang::{Env, LangError, Path, StageAst, StageSpec};
use crate::mismatch::Mismatches;
use crate::stage::Stage;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Events whose field names are kept for suggestions, and the names kept at most.
const SAMPLED_EVENTS: u32 = 64;
const MAX_NAMES: usize = 4096;
/// Fields never seen that get a warning line each; the rest share one line.
const MAX_FIELD_WARNINGS: usize = 10;
/// How deep field names are listed for suggestions (`a.b.c`).
const NAME_DEPTH: usize = 3;

/// The paths watched and which of them some event had.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    paths: Vec<Path>,
    /// Bit `i` is set once an event had `paths[i]`.
    seen: Flags,
    /// Set once every path was seen and every comparison met its type: then each event
    /// costs this one load.
    done: AtomicBool,
    sampled: AtomicU32,
    names: Mutex<BTreeSet<String>>,
    /// The `where` comparisons among the same stages.
    mismatches: Mismatches,
    /// Paths compared with another path (`level == error`), which may be meant as text.
    bare: Vec<Path>,
    /// The top-level keys the watched stages read, which workers must capture.
    keys: Vec<Box<str>>,
}

impl Watch {
    /// The paths the workers can check, which see events as read: those read by the stages
    /// in order, parallel or ordered (`sort`, `head`, `to` templates…), up to and including
    /// the first that adds, moves or removes fields or aggregates, since later stages read
    /// what it made. When no stage changes fields, what the output reads (`--format`) too.
    pub(crate) fn new(parallel: &[Stage], ordered: &[Stage], output: Option<&Needs>) -> Watch {
        let mut n = Needs::default();
        let mut read = Vec::new();
        let mut unchanged = true;
        let mut stages = parallel.iter().chain(ordered);
        for s in stages.by_ref() {
            s.needs(&mut n);
            read.push(s);
            if !keeps_fields(s) {
                unchanged = false;
                break;
            }
        }
        // The stages that see an aggregate's rows as it made them.
        let rows: Vec<&Stage> = stages.take_while(|s| keeps_fields(s)).collect();
        if let (true, Some(out)) = (unchanged, output) {
            out.reads.iter().for_each(|p| n.add_path(p));
        }
        let mut paths = n.reads;
        paths.retain(|p| !p.segs.is_empty());
        paths.truncate(MAX_FLAGS);
        Watch {
            seen: Flags::new(paths.len()),
            paths,
            mismatches: Mismatches::new(&read, &rows),
            bare: crate::mismatch::bare_words(&read),
            keys: n.keys,
            ..Watch::default()
        }
    }

    /// Adds the keys the watched paths start with to what workers capture of each line: an
    /// ordered stage may read a field the parallel part does not.
    pub(crate) fn needs(&self, n: &mut Needs) {
        self.keys.iter().for_each(|k| n.add_key(k));
    }

    /// Notes which watched paths `ev` has, and with which types; nearly free once all
    /// have been seen.
    pub(crate) fn observe(&self, ev: &Event, env: &Env) {
        if self.done.load(Ordering::Relaxed) {
            return;
        }
        let met = self.mismatches.observe(ev, env);
        if self.observe_paths(ev) && met {
            self.done.store(true, Ordering::Relaxed);
        }
    }

    /// True once every path was seen with the types its comparisons meet: nothing more
    /// to learn from events, so workers may drop lines without reading their fields.
    pub(crate) fn is_done(&self) -> bool {
        self.done.load(Ordering::Relaxed)
    }

    /// True once every path was seen.
    fn observe_paths(&self, ev: &Event) -> bool {
        if self.seen.all_raised() {
            return true;
        }
        let all = self.seen.update(|i| ev.has(&self.paths[i]));
        // Read first, so that past the sample no worker writes the counter's cache line.
        if !all
            && self.sampled.load(Ordering::Relaxed) < SAMPLED_EVENTS
            && self.sampled.fetch_add(1, Ordering::Relaxed) < SAMPLED_EVENTS
        {
            self.sample(ev);
        }
        all
    }

    /// Keeps the field names of `ev`, for suggestions.
    fn sample(&self, ev: &Event) {
        let Ok(doc) = ev.to_value() else { return };
        let Ok(mut names) = self.names.lock() else { return };
        list_names(&doc, &mut Vec::new(), &mut names);
    }

    /// The warnings for the paths no event had, once `events` events were read.
    pub(crate) fn warnings(&self, events: u64) -> Vec<String> {
        if events == 0 || self.seen.all_raised() {
            return Vec::new();
        }
        let names = self.names.lock().map(|n| n.clone()).unwrap_or_default();
        let plural = if events == 1 { "" } else { "s" };
        let missing: Vec<&Path> = self
            .paths
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.seen.is_raised(*i))
            .map(|(_, p)| p)
            .collect();
        let (told, more) = missing.split_at(missing.len().min(MAX_FIELD_WARNINGS));
        let mut warnings: Vec<String> = told
            .iter()
            .map(|p| {
                let field = p.to_string();
                let mut w = format!(
                    "field \"{field}\" was not in any of {} event{plural}",
                    thousands(events)
                );
                if let Some(near) = nearest(&field, &names) {
                    let _ = write!(w, "; did you mean \"{near}\"?");
                }
                if self.bare.contains(p) {
                    let _ = write!(w, "; to compare with the text, write \"{field}\"");
                }
                w
            })
            .collect();
        if !more.is_empty() {
            let fields: Vec<String> = more.iter().map(|p| format!("\"{p}\"")).collect();
            warnings.push(format!(
                "{} more fields were not in any of the events either: {}",
                thousands(more.len() as u64),
                fields.join(", ")
            ));
        }
        warnings
    }

    /// Prints the warnings (see `warnings`, then comparisons that never held), unless `-q`.
    pub(crate) fn report(&self, events: u64) {
        for w in self.warnings(events).into_iter().chain(self.mismatches.warnings()) {
            crate::messages::warning(w);
        }
    }
}

/// Refuses a stage that reads a field the events before it cannot have: the rows of an
/// aggregate (`count by svc | where cnt > 1` could only ever find `cnt` missing), the fields
/// `keep` named, or a field `del` or `rename` took away (`del b | where b == 2`). The fields
/// are followed through `set`, `del`, `rename` and `keep`, and through the stages that keep
/// fields, up to the first other stage. `stages` are those `asts` built.
pub(crate) fn check_row_fields(asts: &[StageAst], stages: &[Stage]) -> Result<(), LangError> {
    for (i, (ast, maker)) in asts.iter().zip(stages).enumerate() {
        let Some(mut known) = Known::after(ast) else { continue };
        for (later, stage) in asts.iter().zip(stages).skip(i + 1) {
            let mut n = Needs::default();
            stage.needs(&mut n);
            let missing = n.reads.iter().find_map(|p| match p.segs.first() {
                Some(Seg::Key(k)) if known.lacks(p) => Some(k),
                _ => None,
            });
            if let Some(field) = missing {
                let what = match &known {
                    Known::Rows(_) => format!("`{field}` is not a field of the rows `{}` makes", maker.name()),
                    _ => format!("`{field}` is not a field of the events `{}` passes on", maker.name()),
                };
                return Err(LangError::new(what, later.span).hint(known.hint(field, &ast.spec)));
            }
            if !keeps_fields(stage) && !known.follow(&later.spec) {
                break;
            }
        }
    }
    Ok(())
}

/// What is known of the top-level fields of the events a stage passes on. Sets, in the
/// order the fields come: a pipeline may name thousands.
enum Known {
    /// An aggregate's rows have these fields only.
    Rows(Names),
    /// `keep` passes on these fields only.
    Kept(Names),
    /// `del` or `rename` took these fields away.
    Removed(Names),
}

type Names = indexmap::IndexSet<String>;

impl Known {
    /// What is known of the events after `ast`, if it is a stage that fixes some fields.
    fn after(ast: &StageAst) -> Option<Known> {
        // A whole top-level field: a flat key spelt with dots (`id.orig_h`) outlives `del id`.
        let whole = |p: &Path| match p.segs.as_slice() {
            [Seg::Key(k)] => Some(k.to_string()),
            _ => None,
        };
        match (&ast.rows, &ast.spec) {
            (Some(rows), _) => Some(Known::Rows(rows.iter().cloned().collect())),
            (None, StageSpec::Keep(paths)) => kept_fields(paths).map(Known::Kept),
            (None, StageSpec::Del(paths)) => Some(Known::Removed(paths.iter().filter_map(whole).collect())),
            (None, StageSpec::Rename(pairs)) => {
                // In order: `rename a as b, b as a` leaves `a` and takes `b` away.
                let mut removed = Names::new();
                for (from, to) in pairs {
                    removed.extend(whole(from));
                    if let Some(to) = top_name(to) {
                        removed.swap_remove(&to);
                    }
                }
                Some(Known::Removed(removed))
            }
            _ => None,
        }
    }

    /// Whether no event can have what `p` reads. A path of more than one name is never
    /// taken to be removed, for the same flat keys.
    fn lacks(&self, p: &Path) -> bool {
        match self {
            Known::Rows(rows) | Known::Kept(rows) => !in_rows(p, rows),
            Known::Removed(removed) => match p.segs.as_slice() {
                [Seg::Key(k)] => removed.contains(&**k),
                _ => false,
            },
        }
    }

    /// The hint for a `field` the events lack after the stage `made` them.
    fn hint(&self, field: &str, made: &StageSpec) -> String {
        match self {
            Known::Rows(rows) => row_hint(field, rows, true),
            Known::Kept(kept) => row_hint(field, kept, false),
            Known::Removed(_) => match made {
                StageSpec::Rename(pairs) => match pairs.iter().find(|(from, _)| from.to_string() == field) {
                    Some((_, to)) => format!("`rename` named it `{to}`: read `{to}`, or rename after this stage"),
                    None => format!("`rename` took `{field}` away"),
                },
                _ => format!("`del {field}` removed it: read it before `del`"),
            },
        }
    }

    /// Follows the fields through `spec`: false when it is not a stage that only adds,
    /// removes or renames named fields.
    fn follow(&mut self, spec: &StageSpec) -> bool {
        match self {
            Known::Rows(rows) | Known::Kept(rows) => follow_fields(spec, rows),
            Known::Removed(removed) => follow_removed(spec, removed),
        }
    }
}

/// The top-level fields `keep` can pass on, when it names each: an event after it has no
/// other. `None` for a `keep` of the whole event.
fn kept_fields(paths: &[Path]) -> Option<Names> {
    let mut kept = Names::new();
    for p in paths {
        let Some(Seg::Key(k)) = p.segs.first() else { return None };
        if !kept.contains(&**k) {
            kept.insert(k.to_string());
        }
    }
    Some(kept)
}

/// Whether a row field holds what `p` reads: its first name, or a flat key its first names
/// spell with dots (`id.orig_h` reads the key `"id.orig_h"` when there is no `id` object).
fn in_rows(p: &Path, rows: &Names) -> bool {
    let mut dotted = String::new();
    for seg in &p.segs {
        let Seg::Key(k) = seg else { return false };
        if !dotted.is_empty() {
            dotted.push('.');
        }
        dotted.push_str(k);
        if rows.contains(&dotted) {
            return true;
        }
    }
    false
}

/// What the rows have, and the likeliest meant: a field that starts with the one written
/// (`avg` for `avg_lat`), else the nearest spelling.
fn row_hint(field: &str, rows: &Names, aggregated: bool) -> String {
    let holders = if aggregated { "its rows" } else { "events" };
    let mut hint = match rows.is_empty() {
        true => format!("at this stage {holders} have no fields"),
        false => {
            let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
            format!("at this stage {holders} have only {}", rows.join(", "))
        }
    };
    let names: BTreeSet<String> = rows.iter().cloned().collect();
    let near = rows
        .iter()
        .find(|r| r.starts_with(field))
        .map(String::as_str)
        .or_else(|| nearest(field, &names));
    if let Some(near) = near {
        let _ = write!(hint, "; did you mean `{near}`?");
    }
    hint
}

/// The top-level fields of events after `spec`, given those before it: false when the stage
/// is not one that only adds, removes or renames named fields.
fn follow_fields(spec: &StageSpec, rows: &mut Names) -> bool {
    // A stage that sets, moves or removes the whole event (`set . = …`) makes fields not
    // known here; `keep .` keeps them all.
    let whole = |p: &Path| p.segs.is_empty();
    let unknown = match spec {
        StageSpec::Set(assignments) => assignments.iter().any(|(p, _)| whole(p)),
        StageSpec::Del(paths) => paths.iter().any(whole),
        StageSpec::Rename(pairs) => pairs.iter().any(|(from, to)| whole(from) || whole(to)),
        StageSpec::Keep(paths) if paths.iter().any(whole) => return true,
        _ => false,
    };
    if unknown {
        return false;
    }
    match spec {
        StageSpec::Set(assignments) => rows.extend(assignments.iter().filter_map(|(p, _)| top_name(p))),
        StageSpec::Del(paths) => {
            let gone: Names = paths
                .iter()
                .filter(|p| p.segs.len() == 1)
                .filter_map(top_name)
                .collect();
            rows.retain(|r| !gone.contains(r));
        }
        StageSpec::Rename(pairs) => {
            for (from, to) in pairs {
                if from.segs.len() == 1 {
                    if let Some(from) = top_name(from) {
                        rows.shift_remove(&from);
                    }
                }
                rows.extend(top_name(to));
            }
        }
        StageSpec::Keep(paths) => {
            let kept: Names = paths.iter().filter_map(top_name).collect();
            rows.retain(|r| kept.contains(r));
        }
        _ => return false,
    }
    true
}

/// The fields still removed after `spec`, given those before it: `set` and `rename … as`
/// give a removed name back. False for any other stage but `del`, whose own removals
/// are checked from it.
fn follow_removed(spec: &StageSpec, removed: &mut Names) -> bool {
    let given = match spec {
        StageSpec::Set(assignments) => assignments.iter().map(|(p, _)| p).collect(),
        StageSpec::Rename(pairs) => pairs.iter().map(|(_, to)| to).collect(),
        StageSpec::Del(_) => Vec::new(),
        _ => return false,
    };
    for p in given {
        if p.segs.is_empty() {
            // `set . = …` makes a whole new event.
            return false;
        }
        if let Some(p) = top_name(p) {
            removed.swap_remove(&p);
        }
    }
    true
}

/// The first name of `p`, the top-level field it is in.
fn top_name(p: &Path) -> Option<String> {
    match p.segs.first() {
        Some(Seg::Key(k)) => Some(k.to_string()),
        _ => None,
    }
}

/// True for the stages that pass events on with their fields as read (or write them out
/// as read: `to`).
pub(crate) fn keeps_fields(s: &Stage) -> bool {
    matches!(
        s,
        Stage::Where(_)
            | Stage::Route(_)
            | Stage::Sample(_)
            | Stage::Validate(_)
            | Stage::Assert(_)
            | Stage::Range(_)
            | Stage::Head(_)
            | Stage::Tail(_)
            | Stage::Sort(_)
            | Stage::Dedupe(_)
            | Stage::Throttle(_)
            | Stage::Reorder(_)
            | Stage::To(_)
    )
}

/// Adds the paths of `v`'s fields, as they are typed, down to `NAME_DEPTH` levels.
fn list_names(v: &serde_json::Value, prefix: &mut Vec<Seg>, out: &mut BTreeSet<String>) {
    let serde_json::Value::Object(m) = v else { return };
    for (k, child) in m {
        if out.len() >= MAX_NAMES {
            return;
        }
        prefix.push(Seg::Key(k.as_str().into()));
        if prefix.len() < NAME_DEPTH {
            list_names(child, prefix, out);
        }
        out.insert(typed(prefix));
        prefix.pop();
    }
}

/// The path of the field at `segs` as it is typed, so that a suggestion can be pasted: a
/// top-level key with dots as its dotted path, which reads the flat key (`id.orig_h`), and
/// a key deeper down with a dot or a dash in backticks (`` `a.b`.c ``, `` h.`user-agent` ``).
fn typed(segs: &[Seg]) -> String {
    if let [Seg::Key(k)] = segs
        && !k.split('.').any(str::is_empty)
    {
        return Path::new(k.split('.').map(|part| Seg::Key(part.into())).collect()).to_string();
    }
    Path::new(segs.to_vec()).to_string()
}

/// The name nearest `field`, if one is near enough to be a likely misspelling.
fn nearest<'a>(field: &str, names: &'a BTreeSet<String>) -> Option<&'a str> {
    let lower = field.to_lowercase();
    names
        .iter()
        .filter(|n| n.len().abs_diff(field.len()) <= 3)
        .map(|n| (strsim::damerau_levenshtein(&lower, &n.to_lowercase()), n))
        // A name that shares nothing with the field (every character changed, or empty) is
        // no misspelling of it.
        .filter(|(d, n)| *d <= 2.max(n.len() / 3) && *d < field.chars().count() && !n.is_empty())
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.as_str())
}

/// `10000` as `10,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Origin;
    use crate::lang::parse_pipeline;
    use crate::stage::StageOptions;

    fn watch(src: &str) -> Watch {
        let asts = parse_pipeline(src).expect("a pipeline");
        let opts = StageOptions::default();
        let mut stages: Vec<Stage> = asts.iter().map(|a| Stage::build(a, &opts).expect("a stage")).collect();
        let split = stages.iter().position(|s| !s.is_parallel()).unwrap_or(stages.len());
        let ordered = stages.split_off(split);
        Watch::new(&stages, &ordered, None)
    }

    fn warnings(src: &str, lines: &[&str]) -> Vec<String> {
        let w = watch(src);
        let mut needs = Needs::default();
        w.paths.iter().for_each(|p| needs.add_path(p));
        for line in lines {
            w.observe(
                &Event::parse(line, Origin::default(), &needs).expect("a valid line"),
                &Env::default(),
            );
        }
        w.warnings(lines.len() as u64)
    }

    /// The first row-field error of `pipeline`, as message and hint.
    fn row_error(pipeline: &str) -> Option<(String, String)> {
        let asts = crate::lang::parse_pipeline(pipeline).unwrap();
        let opts = crate::stage::StageOptions::default();
        let stages: Vec<Stage> = asts.iter().map(|a| Stage::build(a, &opts).unwrap()).collect();
        check_row_fields(&asts, &stages)
            .err()
            .map(|e| (e.message, e.hint.unwrap_or_default()))
    }

    #[test]
    fn a_field_an_aggregates_rows_never_have_is_refused_with_the_likeliest_meant() {
        let (message, hint) = row_error("count by svc | where cnt > 1").unwrap();
        assert_eq!(message, "`cnt` is not a field of the rows `count` makes");
        assert_eq!(
            hint,
            "at this stage its rows have only svc, count; did you mean `count`?"
        );
        let (_, hint) = row_error("stats avg(lat) by svc | sort avg desc").unwrap();
        assert!(hint.ends_with("did you mean `avg_lat`?"), "{hint}");
        let (message, hint) = row_error("count by svc | rename count as n | where count > 1").unwrap();
        assert!(message.starts_with("`count`"), "{message}");
        assert!(hint.contains("only svc, n;") || hint.ends_with("only svc, n"), "{hint}");
        assert!(row_error("top 3 svc | set x = count * 2 | where y > 1").is_some());
        assert!(row_error("count by svc | keep svc | sort count").is_some());
    }

    #[test]
    fn fields_the_rows_have_or_that_stages_add_pass() {
        for ok in [
            "count by svc | where count > 1",
            "count by user.id | where user.id > 3",
            "stats avg(lat) by svc every 1h | where window_start != null and avg_lat > 1",
            "count by svc | rename count as n | where n > 1",
            "count by svc | set a.b = 1 | where a.b == 1",
            "count by svc | parse logfmt from svc | where anything",
            "fold by id | where status == 1",
            "count by `id.orig_h` | where id.orig_h == \"1.2.3.4\"",
            "count by a as `s.t` | where s.t != null",
            "count by a | set `p.q` = 1 | where p.q == 1",
            "count by a | set . = {row: .} | where row.a == \"x\"",
            "count by a | keep . | where count > 1",
            "where a > 1 | count by b",
        ] {
            assert_eq!(row_error(ok), None, "{ok}");
        }
    }

    #[test]
    fn past_ten_fields_never_seen_the_others_share_a_line_and_past_64_none_is_watched() {
        let names: Vec<String> = (0..70).map(|i| format!("f{i}")).collect();
        let w = warnings(&format!("keep {}", names.join(", ")), &[r#"{"f3":1}"#]);
        assert_eq!(w.len(), 11, "{w:?}");
        assert!(w[0].starts_with(r#"field "f0" was not in any of 1 event"#), "{w:?}");
        assert!(w[9].starts_with(r#"field "f10" was not"#), "{w:?}");
        let listed: Vec<String> = (11..64).map(|i| format!("\"f{i}\"")).collect();
        assert_eq!(
            w[10],
            format!(
                "53 more fields were not in any of the events either: {}",
                listed.join(", ")
            )
        );
    }

    #[test]
    fn a_field_no_event_had_is_named_with_the_nearest_that_occurred() {
        let lines = [r#"{"level":"error","user":{"id":1}}"#, r#"{"level":"info"}"#];
        assert_eq!(
            warnings(r#"where levle == "error" or user.idd == 1"#, &lines),
            [
                r#"field "levle" was not in any of 2 events; did you mean "level"?"#,
                r#"field "user.idd" was not in any of 2 events; did you mean "user.id"?"#,
            ]
        );
        assert!(warnings(r#"where level == "error" and exists(user.id)"#, &lines).is_empty());
        assert_eq!(
            warnings("where zzz == 1", &lines),
            [r#"field "zzz" was not in any of 2 events"#]
        );
    }

    #[test]
    fn a_bare_word_compared_with_a_field_may_be_meant_as_text() {
        assert_eq!(
            warnings("where level == error", &[r#"{"level":"error"}"#]),
            [r#"field "error" was not in any of 1 event; to compare with the text, write "error""#]
        );
    }

    #[test]
    fn fields_a_stage_makes_are_not_watched_after_it() {
        let w = watch("where a == 1 | set b = c | where b == 2 | keep d");
        let names: Vec<String> = w.paths.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["a", "c"]);
    }

    #[test]
    fn ordered_stages_that_keep_fields_are_watched_up_to_one_that_changes_them() {
        let w = watch("sort a | head 5 by b | where c == 1 | dedupe by d | to \"out/{e}.ndjson\"");
        let names: Vec<String> = w.paths.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["a", "b", "c", "d", "e"]);
        let w = watch("tail 3 | count by f | where g == 1");
        let names: Vec<String> = w.paths.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["f"]);
        let w = watch("sort a | fill-down b | where c == 1");
        let names: Vec<String> = w.paths.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn a_flat_key_counts_for_its_dotted_path() {
        assert!(warnings("where id.orig_h == 1", &[r#"{"id.orig_h":1}"#]).is_empty());
    }

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn a_field_an_earlier_rename_pair_moved_in_is_not_missing() {
        let lines = [r#"{"a":{"x":1}}"#];
        assert_eq!(warnings("rename a as b, b.x as c", &lines), Vec::<String>::new());
        assert_eq!(
            warnings("rename a as b, d as e", &lines),
            // A one-letter name is no misspelling of another.
            [r#"field "d" was not in any of 1 event"#]
        );
    }
}
