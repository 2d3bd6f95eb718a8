//! Validates the command line and builds what a run needs: inputs, the compiled
//! pipeline, output settings. Everything that can be wrong with a command is found
//! here, before any input is read. Building has no side effects: what it needs to know
//! of the world comes in as [`Facts`], and what it has to note comes back in [`Built`].

mod idle;
mod output;
mod usage;

pub(crate) use usage::UsageError;

use crate::cli::{Cli, Param};
use crate::input::walk::Skipped;
use crate::input::{self, Identity, Input, InputFormat, reader::ReadConfig};
use crate::lang::parser::{Params, parse_pipeline_with};
use crate::lang::{Env, LangError, StageAst, StageSpec};
use crate::messages;
use crate::output::topic::TopicOptions;
use crate::output::{Format, Printer};
use crate::pipeline::Pipeline;
use crate::stage::{Stage, StageOptions, TimeField};
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// What building a config reads of the world besides the command line, gathered once by
/// `lib.rs`, so that a config is a function of the two (and tests fix them).
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    /// A table for an aggregate's result, and a flush after every batch.
    pub stdout_terminal: bool,
    /// A progress bar.
    pub stderr_terminal: bool,
    /// stdout is a regular file, which must not be an input (`evq … in.ndjson >> in.ndjson`).
    pub stdout_file: bool,
    /// `NO_COLOR` is set and not empty: no colour unless `--color always`.
    pub no_color: bool,
    /// The default for `--jobs`.
    pub cores: usize,
    /// For `now()`, and the year of syslog timestamps read from stdin.
    pub now: SystemTime,
    /// An input file's modification time: its year is the year of its syslog timestamps.
    pub modified: fn(&Path) -> Option<SystemTime>,
    /// The memory the process may use (`ulimit -v`, its cgroup's `memory.max`), when limited.
    pub memory_limit: Option<u64>,
}

/// A command line checked against the facts: the config, or why it is refused; either way
/// what directory walks skipped, which is noted on stderr before anything else.
#[derive(Debug)]
pub(crate) struct Built {
    pub config: Result<Config, UsageError>,
    pub skipped: Skipped,
}

#[derive(Debug, Clone)]
pub(crate) enum StatsTo {
    Stderr,
    File(PathBuf),
}

#[derive(Debug)]
pub(crate) struct Config {
    pub pipeline: Pipeline,
    pub source: String,
    pub inputs: Vec<Input>,
    pub env: Env,
    /// How events are written to stdout: the format, `-r`, `--format`, colour.
    pub printer: Printer,
    /// Colour on stderr (`--color`).
    pub stderr_color: bool,
    pub jobs: usize,
    pub read: ReadConfig,
    pub dead_letter: Option<PathBuf>,
    pub strict: bool,
    pub max_errors: Option<u64>,
    pub stats: Option<StatsTo>,
    pub line_buffered: bool,
    pub exit_status: bool,
    pub progress: bool,
    pub explain: bool,
    /// `--merge`, with the time field to merge by.
    pub merge: Option<crate::stage::TimeField>,
    /// The input when it is a `nats://` address.
    pub nats: Option<Nats>,
    /// Warnings about flags the pipeline gives nothing to do, printed before the run.
    pub warnings: Vec<String>,
}

/// A `nats://` input; without `--features nats` there is none.
#[cfg(feature = "nats")]
pub(crate) type Nats = crate::input::nats::NatsInput;
#[cfg(not(feature = "nats"))]
pub(crate) type Nats = std::convert::Infallible;

impl Config {
    /// Checks `cli` and builds the config: the pipeline, the flags, then the inputs and
    /// outputs; the first mistake found is the one reported.
    pub(crate) fn build(cli: Cli, facts: &Facts) -> Built {
        let mut skipped = Skipped::default();
        let config = Config::checked(cli, facts, &mut skipped);
        Built { config, skipped }
    }

    /// True when the pipeline writes topic files (`to`, `tee`, `-O`).
    pub(crate) fn writes_files(&self) -> bool {
        self.pipeline.ordered.iter().any(|s| matches!(s, Stage::To(_)))
    }

    fn checked(cli: Cli, facts: &Facts, skipped: &mut Skipped) -> Result<Config, UsageError> {
        let (source, paths) = pipeline_source(&cli)?;
        if paths.iter().any(|p| p.is_empty()) {
            return Err(UsageError::EmptyPath);
        }
        let params = params(&cli)?;
        let asts = stages(&source, cli.out_dir.as_deref(), &params)?;
        refuse_foreign_urls(&cli, &paths, &asts)?;
        refuse_nats_publishing(&asts)?;
        refuse_pipeline_given_twice(&cli, &paths, &params)?;
        refuse_stdout_format_without_stdout(&cli, &asts)?;
        refuse_compressed_names(&cli, &asts)?;
        refuse_dash_files(&cli, &asts)?;
        refuse_atomic_without_end(&cli, &asts)?;
        let time_format = time_format(cli.time_format.as_deref())?;
        let jobs = jobs(cli.jobs, facts)?;
        let time = time_field(cli.time_field.as_deref())?;
        let (inputs, walked) = input::expand(&paths, walk_options(&cli, &asts)?);
        *skipped = walked;
        let nats = nats_input(&cli, &inputs)?;
        refuse_stdin_read_twice(&cli, &asts, &inputs)?;
        let mut identities = input::identities(&inputs);
        identities.extend(files_read(&cli, &asts));
        let outputs = outputs(&cli, &asts, facts);
        refuse_overwrites(&outputs, &identities)?;
        refuse_shared_outputs(&outputs)?;
        let range = range(&cli, facts)?;
        let mut read = read_config(&cli, &asts, inputs.len())?;
        read.max_line_bytes = max_line_bytes(cli.max_line_bytes, jobs, facts);
        read.until = merge_until(&cli, &asts, read.format, range.1);
        let zone = cli.tz.as_deref().map(crate::time::zone).transpose();
        let zone = zone.map_err(|why| UsageError::flag("--tz", why))?;
        let others = outputs
            .iter()
            .filter(|(what, _)| !is_stage_output(what))
            .cloned()
            .collect();
        let mut opts = stage_options(&cli, time, zone, (identities, others), range);
        opts.topic.seal = nats.is_some();
        opts.msg_id = msg_id(&cli)?;
        opts.nats_creds = nats_creds(&cli);
        let mut pipeline = pipeline(&cli, &asts, &opts, &source, &read)?;
        let out = output_config(&cli, &asts, facts);
        let printer = output::printer(&cli, out.format, facts, &mut pipeline)?;
        let run = idle::Run {
            cli: &cli,
            pipeline: &pipeline,
            asts: &asts,
            input: read.format,
            output: printer.format,
            paths: &paths,
            params: &params,
        };
        let mut warnings = idle::flags(&run);
        warnings.extend(topic_without_route(&asts, cli.out_dir.as_deref()));
        warnings.extend(pipeline.start_warnings());
        Ok(Config {
            pipeline,
            env: env(&inputs, cli.year, time_format, read.max_line_bytes, facts),
            source,
            inputs,
            printer,
            stderr_color: cli.color.colors(facts.stderr_terminal, facts.no_color),
            jobs,
            read,
            dead_letter: cli.dead_letter,
            strict: cli.strict,
            max_errors: cli.max_errors,
            stats: out.stats,
            line_buffered: out.line_buffered,
            exit_status: cli.exit_status,
            progress: out.progress,
            explain: cli.explain,
            merge: cli.merge.then(|| TimeField(opts.time.clone())),
            nats,
            warnings,
        })
    }
}

/// A `to` or `tee` whose file names hold `topic()` with no `route` before it: every topic is
/// null, and every event goes to one file, `_none`. `-O DIR` is such a `to` when the
/// pipeline has no `route`.
fn topic_without_route(asts: &[StageAst], out_dir: Option<&str>) -> Option<String> {
    use crate::lang::ast::TemplatePart;
    use crate::lang::func::Func;
    let before_route = asts.iter().take_while(|a| !matches!(a.spec, StageSpec::Route(_)));
    let (last, text) = before_route.enumerate().find_map(|(i, a)| match &a.spec {
        StageSpec::To { template, text, .. } => template
            .parts
            .iter()
            .any(|p| matches!(p, TemplatePart::Expr(e) if e.calls(Func::Topic)))
            .then_some((i + 1 == asts.len(), text)),
        _ => None,
    })?;
    Some(match out_dir {
        Some(dir) if last => format!(
            "-O {dir} writes a file for each topic, but no route sets one: every event goes to one file, _none.ndjson; add route by EXPR (route by type) to the pipeline"
        ),
        _ => format!(
            "to \"{text}\" names files by topic(), but no route before it sets one: topic() is null, and every event goes to one _none file; put route by EXPR before it"
        ),
    })
}

/// Every path the user typed — inputs, `-f`, `--dead-letter`, `--stats=`, `to` and `tee` —
/// that is a URL of a scheme evq does not read: it is not a file name.
fn refuse_foreign_urls(cli: &Cli, paths: &[OsString], asts: &[StageAst]) -> Result<(), UsageError> {
    let options = [
        cli.dead_letter.as_deref(),
        cli.stats.as_deref().map(Path::new),
        cli.file.as_deref(),
    ];
    let options = options.into_iter().flatten().filter_map(Path::to_str);
    let targets = asts.iter().filter_map(|ast| match &ast.spec {
        StageSpec::To { text, .. } => Some(text.as_str()),
        _ => None,
    });
    let mut typed = paths.iter().filter_map(|p| p.to_str()).chain(options).chain(targets);
    match typed.find_map(|text| input::foreign_scheme(text).map(|scheme| (text, scheme))) {
        Some((text, scheme)) => Err(foreign_url(text, scheme)),
        None => Ok(()),
    }
}

/// A `to`/`tee` that publishes to NATS: no credentials in its address, and a build with NATS.
fn refuse_nats_publishing(asts: &[StageAst]) -> Result<(), UsageError> {
    let publishes = asts.iter().find_map(|ast| match &ast.spec {
        StageSpec::To { text, tee, .. } if text.starts_with("nats://") => Some((if *tee { "tee" } else { "to" }, text)),
        _ => None,
    });
    if let Some((stage, text)) = publishes {
        let shown = input::shown_address(text);
        if shown != *text {
            return Err(UsageError::Address(format!(
                "{stage} \"{shown}\": credentials never go in the address; give a credentials file with --nats-creds FILE or NATS_CREDS"
            )));
        }
        if cfg!(not(feature = "nats")) {
            return Err(UsageError::Address(format!(
                "{stage} \"{text}\": this evq was built without NATS; build it with `cargo build --features nats`"
            )));
        }
    }
    Ok(())
}

/// `--msg-id EXPR`, compiled.
fn msg_id(cli: &Cli) -> Result<Option<crate::lang::Expr>, UsageError> {
    let Some(src) = &cli.msg_id else { return Ok(None) };
    crate::lang::parse_expr(src).map(Some).map_err(|e| {
        UsageError::flag(
            "--msg-id",
            format!("`{src}`: {}; give an expression such as order_id", e.one_line()),
        )
    })
}

/// The error for an input or output whose text is a URL of a scheme evq does not read: a
/// file of that name would be a surprise (`to "http://h/x"` writing `./http:/h/x`).
fn foreign_url(text: &str, scheme: &str) -> UsageError {
    let shown = input::shown_address(text);
    UsageError::Address(match scheme.eq_ignore_ascii_case("nats") {
        true => {
            format!("{shown}: write the scheme in lower case, nats://, for a NATS address (or ./ before a file name)")
        }
        false => format!(
            "{shown}: evq reads and writes files and nats:// addresses, not {scheme}:// URLs; for a file of this \
             name, write ./ before it"
        ),
    })
}

/// `--nats-creds FILE`, or `$NATS_CREDS` when it is set and not empty.
fn nats_creds(cli: &Cli) -> Option<PathBuf> {
    cli.nats_creds.clone().or_else(|| {
        std::env::var_os("NATS_CREDS")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

/// The text of a `to`/`tee` template.
fn fixed_or_template_text(ast: &StageAst) -> Option<&str> {
    match &ast.spec {
        StageSpec::To { text, .. } => Some(text.as_str()),
        _ => None,
    }
}

/// The `nats://` input, checked: it is the only input, and not merged.
#[cfg(feature = "nats")]
fn nats_input(cli: &Cli, inputs: &[Input]) -> Result<Option<Nats>, UsageError> {
    let Some(url) = inputs.iter().find_map(|i| match &i.source {
        input::Source::Nats(url) => Some(url),
        _ => None,
    }) else {
        return Ok(None);
    };
    if inputs.len() > 1 || cli.merge {
        return Err(UsageError::Address(format!(
            "{}: a nats:// input is read alone; run one evq per stream (without --merge)",
            input::shown_address(url)
        )));
    }
    Nats::parse(url, cli.follow, nats_creds(cli))
        .map(Some)
        .map_err(UsageError::Address)
}

/// Without `--features nats`, a `nats://` input is refused.
#[cfg(not(feature = "nats"))]
fn nats_input(_cli: &Cli, inputs: &[Input]) -> Result<Option<Nats>, UsageError> {
    match inputs.iter().find(|i| matches!(i.source, input::Source::Nats(_))) {
        Some(i) => Err(UsageError::Address(format!(
            "{}: this evq was built without NATS; build it with `cargo build --features nats`",
            i.name
        ))),
        None => Ok(None),
    }
}

/// How directory inputs are walked: `--follow-links`, `--glob`, `--no-ignore`; and the
/// directories topic files go to, which walks leave out (a rerun of `evq … -O dir/out dir`
/// must not read the last run's topic files).
fn walk_options(cli: &Cli, asts: &[StageAst]) -> Result<input::walk::WalkOptions, UsageError> {
    Ok(input::walk::WalkOptions {
        follow_links: cli.follow_links,
        globs: input::walk::Globs::new(&cli.globs).map_err(|e| UsageError::flag("--glob", e))?,
        no_ignore: cli.no_ignore,
        topic_dirs: asts.iter().filter_map(|a| topic_dir(&a.spec)).collect(),
    })
}

/// The directory a `to` or `tee` stage with placeholders writes its files under: the
/// directory part of the path before its first placeholder (`out` for `out/{type}.ndjson`,
/// and for `-O out`). None when the path starts with a placeholder.
fn topic_dir(spec: &StageSpec) -> Option<PathBuf> {
    let (_, fixed, false) = template_prefix(spec)? else {
        return None;
    };
    let dir = &fixed[..fixed.rfind('/')?];
    Some(PathBuf::from(if dir.is_empty() { "/" } else { dir }))
}

/// The most of a pipeline file (`-f`) that is read.
const PIPELINE_FILE_LIMIT: usize = 64 << 20;

/// The pipeline's text and the input paths. With `-f FILE` the pipeline is the file's text
/// (`-f -`: standard input's) and the first argument is an input.
/// `--from SOURCE` inputs come after the paths.
fn pipeline_source(cli: &Cli) -> Result<(String, Vec<OsString>), UsageError> {
    let Some(file) = &cli.file else {
        let paths = cli.paths.iter().chain(&cli.from).cloned().collect();
        let text = cli.pipeline.clone().unwrap_or_default().into_string();
        return Ok((text.map_err(|_| UsageError::PipelineNotText)?, paths));
    };
    let source = crate::input::read_whole(pipeline_file(file), PIPELINE_FILE_LIMIT)
        .and_then(|bytes| {
            String::from_utf8(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
        })
        .map_err(|io| UsageError::PipelineFile { path: file.clone(), io })?;
    let paths: Vec<OsString> = cli
        .pipeline
        .iter()
        .chain(&cli.paths)
        .chain(&cli.from)
        .cloned()
        .collect();
    if file == Path::new("-") && paths.is_empty() {
        return Err(UsageError::flag(
            "-f",
            "- reads the pipeline from standard input, so the events cannot come from there too; name the input files",
        ));
    }
    Ok((source, paths))
}

/// The file `-f` reads: `-` is standard input.
fn pipeline_file(file: &Path) -> &Path {
    if file == Path::new("-") {
        Path::new("/dev/stdin")
    } else {
        file
    }
}

/// With `-f`, every argument is an input: one that is not a file but reads as a pipeline was
/// most likely meant as one, and gets that said instead of "no such file".
fn refuse_pipeline_given_twice(cli: &Cli, paths: &[OsString], params: &Params) -> Result<(), UsageError> {
    let Some(first) = paths.first().filter(|_| cli.file.is_some()).and_then(|p| p.to_str()) else {
        return Ok(());
    };
    let looks_like_pipeline = first.contains(char::is_whitespace) || first.contains('|');
    if looks_like_pipeline && !Path::new(first).exists() && parse_pipeline_with(first, params).is_ok() {
        return Err(UsageError::flag(
            "-f",
            format!(
                "gives the pipeline, so {} would be read as an input file, and there is none; \
                 drop -f or the pipeline argument",
                crate::messages::shown(format_args!("'{first}'"))
            ),
        ));
    }
    Ok(())
}

/// The pipeline's stages, with the `to` that `-O DIR` adds, and file name templates checked.
fn stages(source: &str, out_dir: Option<&str>, params: &Params) -> Result<Vec<StageAst>, UsageError> {
    let mut asts = parse_pipeline_with(source, params).map_err(UsageError::pipeline(source))?;
    if let Some(dir) = out_dir {
        let stage = out_dir_stage(dir, &asts)?;
        asts.push(stage);
    }
    crate::stage::To::check(&asts, source).map_err(UsageError::pipeline(source))?;
    Ok(asts)
}

/// `-o`, `--format` and `-r` shape what stdout gets; when every event goes to files (`-O`, or
/// a pipeline ending in `to`), which are NDJSON, stdout gets nothing and they would be ignored.
fn refuse_stdout_format_without_stdout(cli: &Cli, asts: &[StageAst]) -> Result<(), UsageError> {
    let to_files = matches!(asts.last().map(|a| &a.spec), Some(StageSpec::To { tee: false, .. }));
    let shaping = match (cli.output, &cli.format, cli.raw) {
        (Some(f), _, _) if f != crate::output::Format::Ndjson => Some("-o"),
        (_, Some(_), _) => Some("--format"),
        (_, _, true) => Some("-r"),
        _ => None,
    };
    match shaping {
        Some(flag) if to_files => Err(UsageError::flag(
            flag,
            "shapes stdout, but every event goes to files (-O or to), which are NDJSON; use tee to keep events on stdout",
        )),
        _ => Ok(()),
    }
}

/// `--arg NAME VALUE` and `--argjson NAME JSON`: what `$NAME` stands for in the pipeline.
fn params(cli: &Cli) -> Result<Params, UsageError> {
    let mut vars = Vec::new();
    for Param { name, value, json } in &cli.params {
        let flag = if *json { "--argjson" } else { "--arg" };
        let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok || name == "ENV" {
            let why = format!("`{name}` cannot be a parameter name; use letters, digits and _, other than ENV");
            return Err(UsageError::flag(flag, why));
        }
        let value = if *json {
            crate::json::tree(value).map_err(|e| {
                let why = format!(
                    "the value of `{name}` is not JSON ({}); give text with --arg {name} VALUE",
                    e.message
                );
                UsageError::flag(flag, why)
            })?
        } else {
            serde_json::Value::String(value.clone())
        };
        vars.push((name.clone(), value));
    }
    Ok(Params::new(vars))
}

/// `-O DIR`: the stage `to "DIR/{topic()}.ndjson"`, unless the pipeline already ends with `to`.
fn out_dir_stage(dir: &str, asts: &[StageAst]) -> Result<StageAst, UsageError> {
    if matches!(asts.last().map(|a| &a.spec), Some(StageSpec::To { tee: false, .. })) {
        return Err(UsageError::flag("-O", "the pipeline already ends with `to`"));
    }
    let trimmed = dir.trim_end_matches('/').replace('{', "{{").replace('}', "}}");
    // `-O /` is the root directory; an empty name is the current one.
    let base = if trimmed.is_empty() && !dir.starts_with('/') {
        "."
    } else {
        &trimmed
    };
    let text = format!("{base}/{{topic()}}.ndjson");
    let template = crate::lang::parse_template(&text).map_err(|e| UsageError::flag("-O", e.one_line()))?;
    let spec = StageSpec::To {
        template,
        text,
        tee: false,
    };
    Ok(StageAst {
        spec,
        span: crate::lang::Span::default(),
        rows: None,
    })
}

/// `--time-format`, if it is a valid strftime format.
fn time_format(format: Option<&str>) -> Result<Option<Arc<str>>, UsageError> {
    match format {
        Some(f) if !crate::time::valid_format(f) => Err(UsageError::flag(
            "--time-format",
            format!(
                "`{f}` is not a valid strftime format: write the layout with chrono's % codes, such as \
                 \"%d/%m/%Y %H:%M:%S\" (%Y year, %m month, %d day, %H:%M:%S time, %z offset)"
            ),
        )),
        f => Ok(f.map(Arc::from)),
    }
}

/// `--max-line-bytes` unless given.
const DEFAULT_MAX_LINE_BYTES: usize = 64 << 20;

/// How many times its text an event may take in memory, held as a tree (measured: about 50
/// times for an array of small objects).
const TREE_TIMES_TEXT: u64 = 64;

/// `--max-line-bytes`, or 64 MiB. Under a memory limit, at most what lets each worker and
/// the ordered part hold one event of that length as a tree, so that a long line, or an
/// event a pipeline builds (`set a = [., .]`), is a dead letter instead of the process
/// running out of memory. Never below 64 KiB.
fn max_line_bytes(given: Option<usize>, jobs: usize, facts: &Facts) -> usize {
    given.unwrap_or_else(|| {
        let share = facts
            .memory_limit
            .map_or(u64::MAX, |m| m / (jobs as u64 + 1) / TREE_TIMES_TEXT);
        let share = usize::try_from(share).unwrap_or(usize::MAX);
        DEFAULT_MAX_LINE_BYTES.min(share).max(64 << 10)
    })
}

/// The most worker threads `--jobs` may ask for: more than the cores only waste memory.
pub(crate) const MAX_JOBS: usize = 1024;

/// `--jobs`, or one thread per core.
fn jobs(jobs: Option<usize>, facts: &Facts) -> Result<usize, UsageError> {
    match jobs {
        Some(0) => Err(UsageError::NoJobs),
        Some(n) if n > MAX_JOBS => Err(UsageError::flag(
            "--jobs",
            format!(
                "{n} threads are more than the {MAX_JOBS} evq runs at most (this machine has {} cores)",
                facts.cores
            ),
        )),
        jobs => Ok(jobs.unwrap_or(facts.cores)),
    }
}

/// `--time-field`, which must be a field path.
fn time_field(field: Option<&str>) -> Result<Option<crate::lang::Path>, UsageError> {
    let Some(t) = field else { return Ok(None) };
    match crate::lang::parse_expr(t) {
        Ok(crate::lang::Expr::Path(p)) => Ok(Some(p)),
        _ => Err(UsageError::flag("--time-field", format!("`{t}` is not a field path"))),
    }
}

/// The output files known before reading, each with how the command names it.
fn outputs(cli: &Cli, asts: &[StageAst], facts: &Facts) -> Vec<(String, PathBuf)> {
    let mut outputs: Vec<(String, PathBuf)> = Vec::new();
    if let Some(p) = &cli.dead_letter {
        outputs.push((format!("--dead-letter {}", messages::shown_path(p)), p.clone()));
    }
    if let Some(p) = cli.stats.as_deref().filter(|s| *s != "-") {
        outputs.push((format!("--stats={p}"), p.into()));
    }
    for ast in asts {
        if let Some((stage, path)) = fixed_template_path(&ast.spec) {
            outputs.push((format!("{stage} {}", messages::shown_path(&path)), path));
        }
    }
    // `evq … in.ndjson >> in.ndjson` would read its own output without end.
    if facts.stdout_file {
        outputs.push(("stdout".into(), "/dev/stdout".into()));
    }
    outputs
}

/// `--dead-letter` and `--stats=FILE` are plain text: a name that says compressed (`.gz`,
/// `.zst`, `.bz2`, `.xz`) would give a file that no decompressor reads, so it is refused.
fn refuse_compressed_names(cli: &Cli, asts: &[StageAst]) -> Result<(), UsageError> {
    let compressed = |p: &Path| {
        p.extension()
            .is_some_and(|e| ["gz", "zst", "bz2", "xz"].iter().any(|c| e.eq_ignore_ascii_case(c)))
    };
    let files = [
        ("--dead-letter", cli.dead_letter.as_deref()),
        ("--stats", cli.stats.as_deref().filter(|s| *s != "-").map(Path::new)),
    ];
    for (flag, path) in files {
        if let Some(p) = path.filter(|p| compressed(p)) {
            return Err(UsageError::flag(
                flag,
                format!(
                    "{} names a compressed file, but evq writes it as plain text; name it without the \
                     compression suffix and compress it after the run",
                    messages::shown_path(p)
                ),
            ));
        }
    }
    // Topic files are compressed as gzip or zstd by their names; other suffixes would name plain text.
    let topic_files = asts.iter().filter_map(|a| template_suffix(&a.spec));
    for (stage, suffix) in topic_files {
        if crate::output::topic::unwritten_compression(&suffix) {
            let ext = suffix.rsplit_once('.').map_or("", |(_, e)| e);
            return Err(UsageError::flag(
                stage,
                format!(
                    "its file name ends in .{ext}, but evq compresses only .gz and .zst files; \
                     name it .gz or .zst, or without the suffix and compress it after the run"
                ),
            ));
        }
    }
    Ok(())
}

/// `-` names stdin as an input, but the files evq writes are files: `--dead-letter -` and
/// `to "-"` would create a file named `-` where a user expects stdout, so they are refused.
fn refuse_dash_files(cli: &Cli, asts: &[StageAst]) -> Result<(), UsageError> {
    if cli.dead_letter.as_deref() == Some(Path::new("-")) {
        return Err(UsageError::flag(
            "--dead-letter",
            "- is not stdout here: dead letters go to a file, apart from the output; name one (./- for a file named -)",
        ));
    }
    let mut fixed = asts.iter().filter_map(|a| fixed_template_path(&a.spec));
    match fixed.find(|(_, path)| path == Path::new("-")) {
        Some((stage, _)) => Err(UsageError::flag(
            stage,
            "\"-\" is not stdout here: the events that reach the end of the pipeline go to stdout; \
             name a file (\"./-\" for a file named -)",
        )),
        None => Ok(()),
    }
}

/// The files the run reads besides its inputs: the pipeline file, `join`'s and `validate`'s.
/// Writing any of them would destroy what the run depends on.
fn files_read(cli: &Cli, asts: &[StageAst]) -> Vec<Identity> {
    other_files(cli, asts)
        .into_iter()
        .filter_map(|(p, what)| Identity::of(&p, &format!("{} ({what})", messages::shown_path(&p))))
        .collect()
}

/// The files the run reads besides its inputs, each with what it is.
fn other_files(cli: &Cli, asts: &[StageAst]) -> Vec<(PathBuf, &'static str)> {
    let pipeline = cli.file.iter().map(|p| {
        let what = if p == Path::new("-") {
            "the pipeline file, -f -"
        } else {
            "the pipeline file"
        };
        (pipeline_file(p).to_path_buf(), what)
    });
    let stages = asts.iter().filter_map(|a| match &a.spec {
        StageSpec::Join { file, .. } => Some((PathBuf::from(file), "join's lookup file")),
        StageSpec::Validate { file } => Some((PathBuf::from(file), "validate's schema")),
        _ => None,
    });
    pipeline.chain(stages).collect()
}

/// A file the run reads besides its inputs that is standard input (`join "/dev/stdin"`)
/// while standard input is an input too: one would take the other's bytes, leaving it empty
/// without a word, so it is refused.
fn refuse_stdin_read_twice(cli: &Cli, asts: &[StageAst], inputs: &[input::Input]) -> Result<(), UsageError> {
    use std::os::unix::fs::MetadataExt;
    if !inputs.iter().any(|i| matches!(i.source, input::Source::Stdin)) {
        return Ok(());
    }
    let Ok(stdin) = std::fs::metadata("/dev/stdin") else {
        return Ok(());
    };
    let is_stdin = |p: &Path| std::fs::metadata(p).is_ok_and(|m| (m.dev(), m.ino()) == (stdin.dev(), stdin.ino()));
    match other_files(cli, asts).into_iter().find(|(p, _)| is_stdin(p)) {
        Some((path, what)) => Err(UsageError::StdinReadTwice {
            what: format!("{} ({what})", messages::shown_path(&path)),
        }),
        None => Ok(()),
    }
}

/// Two outputs known before reading that are one file (stdout redirected to the dead-letter
/// file, say) are refused: their lines would overwrite each other. `to` and `tee` may name
/// one file together; they share it line by line.
fn refuse_shared_outputs(outputs: &[(String, PathBuf)]) -> Result<(), UsageError> {
    for (i, (a, pa)) in outputs.iter().enumerate() {
        for (b, pb) in &outputs[i + 1..] {
            if !(is_stage_output(a) && is_stage_output(b)) && same_file(pa, pb) {
                return Err(UsageError::SharedOutput {
                    first: a.clone(),
                    second: b.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Whether an output of [`outputs`] is a `to` or `tee` stage's file.
fn is_stage_output(what: &str) -> bool {
    what.starts_with("to ") || what.starts_with("tee ")
}

/// Whether two paths name one regular file: the same file when both exist, or the same path.
/// A device or a pipe (`/dev/null`) is not a file whose lines could be torn.
fn same_file(a: &Path, b: &Path) -> bool {
    let not_a_file = |p: &Path| std::fs::metadata(p).is_ok_and(|m| !m.is_file());
    if not_a_file(a) || not_a_file(b) {
        return false;
    }
    match (Identity::of(a, ""), Identity::of(b, "")) {
        (Some(x), Some(y)) => x.same(&y),
        _ => crate::output::safe_path::normal(a) == crate::output::safe_path::normal(b),
    }
}

/// Outputs that are inputs of the run are refused, naming both, since writing one would
/// destroy the input while it is read (topic files are checked when opened).
fn refuse_overwrites(outputs: &[(String, PathBuf)], inputs: &[Identity]) -> Result<(), UsageError> {
    match outputs
        .iter()
        .find_map(|(what, p)| input::input_at(inputs, p).map(|i| (what, i)))
    {
        Some((what, input)) => Err(UsageError::Overwrite {
            what: what.clone(),
            input: input.clone(),
        }),
        None => Ok(()),
    }
}

/// The stage and the file a `to`/`tee` writes when its template has no placeholder.
fn fixed_template_path(spec: &StageSpec) -> Option<(&'static str, PathBuf)> {
    let (stage, path, true) = template_prefix(spec)? else {
        return None;
    };
    Some((stage, path.into()))
}

/// A `to` or `tee` stage's name and its path after its last placeholder.
fn template_suffix(spec: &StageSpec) -> Option<(&'static str, String)> {
    let StageSpec::To { template, tee, .. } = spec else {
        return None;
    };
    let stage = if *tee { "tee" } else { "to" };
    let tail = template
        .parts
        .iter()
        .rev()
        .map_while(|part| match part {
            crate::lang::ast::TemplatePart::Lit(s) => Some(s.as_str()),
            crate::lang::ast::TemplatePart::Expr(_) => None,
        })
        .collect::<Vec<_>>();
    Some((stage, tail.into_iter().rev().collect()))
}

/// A `to` or `tee` stage's name and its path up to its first placeholder, and whether that
/// is the whole path.
fn template_prefix(spec: &StageSpec) -> Option<(&'static str, String, bool)> {
    let StageSpec::To { template, tee, .. } = spec else {
        return None;
    };
    let stage = if *tee { "tee" } else { "to" };
    let mut fixed = String::new();
    for part in &template.parts {
        match part {
            crate::lang::ast::TemplatePart::Lit(s) => fixed.push_str(s),
            crate::lang::ast::TemplatePart::Expr(_) => return Some((stage, fixed, false)),
        }
    }
    Some((stage, fixed, true))
}

/// How inputs are read: the format (lines when the pipeline starts with `parse` of the line,
/// reading no other field), where records start, and the chunk size.
fn read_config(cli: &Cli, asts: &[StageAst], inputs: usize) -> Result<ReadConfig, UsageError> {
    let parses_the_line = match asts.first().map(|a| &a.spec) {
        Some(StageSpec::Parse { from: None, .. }) => true,
        // `from line`, `from replace(raw(), …)`: no field but the line's.
        Some(StageSpec::Parse { from: Some(e), .. }) => {
            let mut other_field = false;
            e.visit_paths(&mut |p| other_field |= p.to_string() != "line");
            !other_field
        }
        _ => false,
    };
    let format = cli.input.unwrap_or(if parses_the_line {
        InputFormat::Lines
    } else {
        InputFormat::Ndjson
    });
    let multiline = match &cli.multiline_start {
        Some(_) if format == InputFormat::Auto => {
            let why = "joins text lines, and -i auto may read records; name the format instead, e.g. -i lines";
            return Err(UsageError::flag("--multiline-start", why));
        }
        Some(_)
            if matches!(
                format,
                InputFormat::Json | InputFormat::Csv | InputFormat::Tsv | InputFormat::Zeek
            ) =>
        {
            return Err(UsageError::MultilineRecords);
        }
        Some(_) if cli.merge => {
            let why = "cannot be used with --merge, which orders single lines by their time; drop --merge and \
                       end the pipeline with sort by FIELD (its time) instead";
            return Err(UsageError::flag("--multiline-start", why));
        }
        Some(re) => Some(
            crate::lang::parser::build_regex(re, "", crate::lang::Span::default())
                .map_err(|e: LangError| UsageError::flag("--multiline-start", e.one_line()))?,
        ),
        None => None,
    };
    check_follow(cli, format)?;
    // `to` is always an ordered stage; topic files hold lines in memory of their own, and
    // smaller chunks keep the total down.
    let writes_files = asts.iter().any(|a| matches!(a.spec, StageSpec::To { .. }));
    Ok(ReadConfig {
        chunk_size: cli.chunk_size.unwrap_or(if writes_files { 512 << 10 } else { 1 << 20 }),
        max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        format,
        multiline,
        chosen: Arc::new(input::auto::Chosen::new(if format == InputFormat::Auto {
            inputs
        } else {
            0
        })),
        verbose: cli.verbose,
        follow: cli.follow,
        until: None,
        memory_limit: cli.memory_limit,
    })
}

/// `--atomic` puts the files in place when the run succeeds, and a run with `--follow` ends
/// only when stopped, which discards them, unless a `head` ends it: refused, since no file
/// could ever be written.
fn refuse_atomic_without_end(cli: &Cli, asts: &[StageAst]) -> Result<(), UsageError> {
    match cli.atomic && cli.follow && !ends_while_following(asts) {
        true => Err(UsageError::flag(
            "--atomic",
            "puts the files in place when the run succeeds, but with --follow the run ends only when stopped, \
             which discards them; leave out --atomic (files always end on whole lines), or end the run with head N",
        )),
        false => Ok(()),
    }
}

/// Whether a run with `--follow` can end by itself: a `head N` (not `head N by`, which reads
/// everything) with no stage before it that gives its output only at the end of input.
fn ends_while_following(asts: &[StageAst]) -> bool {
    for ast in asts {
        match &ast.spec {
            StageSpec::Head { by, .. } if by.is_empty() => return true,
            StageSpec::Tail { .. } | StageSpec::Sort { .. } | StageSpec::Fold { changes: false, .. } => return false,
            StageSpec::Count { every: None, .. }
            | StageSpec::Stats { every: None, .. }
            | StageSpec::Top { every: None, .. }
            | StageSpec::Distinct { every: None, .. } => return false,
            _ => {}
        }
    }
    false
}

/// `--follow` reads line formats, and each input as it grows: not with `--merge`, which needs
/// the next line of every input before it can send one.
fn check_follow(cli: &Cli, format: InputFormat) -> Result<(), UsageError> {
    if !cli.follow {
        return Ok(());
    }
    if cli.merge {
        return Err(UsageError::flag(
            "--follow",
            "cannot be used with --merge, which waits for every input's next line; follow the files without --merge",
        ));
    }
    if !matches!(format, InputFormat::Ndjson | InputFormat::Lines | InputFormat::Logfmt) {
        return Err(UsageError::flag(
            "--follow",
            "follows line formats (ndjson, lines, logfmt); -i json, csv, tsv, zeek and auto inputs are read to their end without -F",
        ));
    }
    Ok(())
}

/// `--until` when `--merge` reads NDJSON that the pipeline does not `parse` first: the merge
/// orders lines by the time `--until` reads, so reading can stop at the first one past it.
fn merge_until(cli: &Cli, asts: &[StageAst], format: InputFormat, until: Option<f64>) -> Option<f64> {
    let parsed = matches!(asts.first().map(|a| &a.spec), Some(StageSpec::Parse { .. }));
    until.filter(|_| cli.merge && format == InputFormat::Ndjson && !parsed)
}

/// `--since` and `--until` in Unix seconds; durations count back from now.
fn range(cli: &Cli, facts: &Facts) -> Result<(Option<f64>, Option<f64>), UsageError> {
    let now = facts
        .now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let bound = |flag: &'static str, text: &Option<String>| {
        text.as_deref()
            .map(|t| crate::stage::bound(t, now).map_err(|why| UsageError::flag(flag, why)))
            .transpose()
    };
    let (since, until) = (bound("--since", &cli.since)?, bound("--until", &cli.until)?);
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            let why = format!(
                "{} is not after --since {}: no event time is in the range",
                crate::time::rfc3339(u),
                crate::time::rfc3339(s)
            );
            return Err(UsageError::flag("--until", why));
        }
    }
    Ok((since, until))
}

/// The settings stages are built with.
fn stage_options(
    cli: &Cli,
    time: Option<crate::lang::Path>,
    zone: Option<chrono_tz::Tz>,
    (inputs, others): (Vec<Identity>, Vec<(String, PathBuf)>),
    (since, until): (Option<f64>, Option<f64>),
) -> StageOptions {
    let topic = TopicOptions {
        append: cli.append,
        atomic: cli.atomic,
        // Without the flag, as many as the open-file limit allows: the share of it is taken
        // when the files are set up, after `lib.rs` raised the limit.
        max_open: cli.max_open_files.unwrap_or(usize::MAX),
        inputs: inputs.into(),
        // Set for an acknowledged input (see `Config::from_cli`).
        seal: false,
        others: others.into(),
    };
    StageOptions {
        time,
        max_groups: cli.max_groups,
        memory_limit: cli.memory_limit,
        // Following, windows stream out as event time passes them, as with --lateness 0s.
        lateness: cli.lateness.or(cli.follow.then_some(0.0)),
        zone,
        topic,
        seed: cli.seed.unwrap_or(0),
        since,
        until,
        msg_id: None,
        nats_creds: None,
    }
}

/// The compiled pipeline, with the flags that change how its first part decodes lines.
fn pipeline(
    cli: &Cli,
    asts: &[StageAst],
    opts: &StageOptions,
    source: &str,
    read: &ReadConfig,
) -> Result<Pipeline, UsageError> {
    let mut pipeline = Pipeline::new(asts, opts).map_err(UsageError::pipeline(source))?;
    pipeline.strip_ansi = cli.strip_ansi;
    pipeline.held_bytes = cli.held_bytes.unwrap_or(pipeline.held_bytes);
    pipeline.input = read.format;
    match read.format {
        InputFormat::Auto => pipeline.read_auto(read.chosen.clone()),
        InputFormat::Logfmt => pipeline.read_text(),
        _ => {}
    }
    Ok(pipeline)
}

/// What expressions read besides the event: the time, the inputs' names and years, and
/// `--time-format`.
fn env(inputs: &[Input], year: Option<i32>, time_format: Option<Arc<str>>, max_bytes: usize, facts: &Facts) -> Env {
    let years = inputs
        .iter()
        .map(|i| year.map_or_else(|| input_year(i, facts), crate::parse::Year::fixed))
        .collect();
    Env {
        now: facts
            .now
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
        files: Arc::new(inputs.iter().map(|i| i.name.clone()).collect()),
        years: Arc::new(years),
        time_format,
        subjects: Arc::default(),
        max_bytes: crate::lang::eval::MaxBytes(max_bytes),
    }
}

/// The year of an input's modification time (UTC), or of now for stdin, with that time as
/// the latest a line of it can have.
fn input_year(i: &Input, facts: &Facts) -> crate::parse::Year {
    use chrono::Datelike;
    let modified = match &i.source {
        input::Source::File(p) => (facts.modified)(p),
        input::Source::Stdin | input::Source::Nats(_) => None,
    };
    let latest = chrono::DateTime::<chrono::Utc>::from(modified.unwrap_or(facts.now));
    crate::parse::Year {
        year: latest.year(),
        latest: Some(latest.timestamp()),
    }
}

/// How results are written to stdout and stderr.
struct OutputConfig {
    format: Format,
    line_buffered: bool,
    progress: bool,
    stats: Option<StatsTo>,
}

fn output_config(cli: &Cli, asts: &[StageAst], facts: &Facts) -> OutputConfig {
    let format = cli.output.unwrap_or_else(|| match (cli.raw, &cli.format) {
        (false, None) => default_format(asts, facts),
        _ => Format::Ndjson,
    });
    // Lines streaming to the terminal the bar is drawn on would be drawn over: the bar is for a
    // terminal that shows nothing else until the end (output to a file or pipe, or a table).
    let bar_alone = facts.stderr_terminal && (!facts.stdout_terminal || format.is_tabular());
    OutputConfig {
        format,
        line_buffered: cli.line_buffered || cli.lateness.is_some() || cli.follow || facts.stdout_terminal,
        // Following has no end to measure progress against.
        progress: !cli.no_progress && !cli.follow && (cli.progress || bar_alone),
        stats: cli.stats.as_deref().map(|s| match s {
            "-" => StatsTo::Stderr,
            file => StatsTo::File(file.into()),
        }),
    }
}

/// `table` for people at a terminal reading an aggregate's result, else NDJSON.
fn default_format(asts: &[StageAst], facts: &Facts) -> Format {
    let aggregate = matches!(
        asts.last().map(|a| &a.spec),
        Some(
            StageSpec::Count { .. }
                | StageSpec::Stats { .. }
                | StageSpec::Top { .. }
                | StageSpec::Distinct { .. }
                | StageSpec::Summary
                | StageSpec::Shapes
        )
    );
    if aggregate && facts.stdout_terminal {
        Format::Table
    } else {
        Format::Ndjson
    }
}

#[cfg(test)]
mod tests;
