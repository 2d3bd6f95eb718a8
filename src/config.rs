//! Validates the command line and builds what a run needs: inputs, the compiled
//! pipeline, output settings. Everything that can be wrong with a command is found
//! here, before any input is read.

use crate::cli::Cli;
use crate::input::{self, Input, reader::ReadConfig};
use crate::lang::{Env, parse_pipeline};
use crate::output::Format;
use crate::pipeline::Pipeline;
use crate::stage::StageOptions;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

/// `table` for people at a terminal reading an aggregate's result, else NDJSON.
fn default_format(asts: &[crate::lang::StageAst]) -> Format {
    use crate::lang::StageSpec;
    let aggregate = matches!(
        asts.last().map(|a| &a.spec),
        Some(StageSpec::Count { .. } | StageSpec::Stats { .. } | StageSpec::Top { .. } | StageSpec::Distinct { .. })
    );
    if aggregate && std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Ndjson
    }
}

/// The year of an input's modification time (UTC), or this year for stdin.
fn input_year(i: &Input) -> i32 {
    use chrono::Datelike;
    let t = match &i.source {
        input::Source::File(p) => std::fs::metadata(p).and_then(|m| m.modified()).ok(),
        input::Source::Stdin => None,
    };
    chrono::DateTime::<chrono::Utc>::from(t.unwrap_or_else(std::time::SystemTime::now)).year()
}

/// Output files known before reading that are inputs of the run: refused, naming both, since
/// writing one would destroy the input while it is read (topic files are checked when opened).
fn refuse_overwrites(
    inputs: &[input::Identity],
    dead_letter: Option<&std::path::Path>,
    stats: Option<&str>,
    asts: &[crate::lang::StageAst],
) -> Result<(), UsageError> {
    let mut outputs: Vec<(String, PathBuf)> = Vec::new();
    if let Some(p) = dead_letter {
        outputs.push((format!("--dead-letter {}", p.display()), p.to_path_buf()));
    }
    if let Some(p) = stats.filter(|s| *s != "-") {
        outputs.push((format!("--stats={p}"), p.into()));
    }
    for ast in asts {
        if let Some((stage, path)) = fixed_template_path(&ast.spec) {
            outputs.push((format!("{stage} {}", path.display()), path));
        }
    }
    // `evq … in.ndjson >> in.ndjson` would read its own output without end.
    if std::fs::metadata("/dev/stdout").is_ok_and(|m| m.is_file()) {
        outputs.push(("stdout".into(), "/dev/stdout".into()));
    }
    match outputs
        .iter()
        .find_map(|(what, p)| input::input_at(inputs, p).map(|i| (what, i)))
    {
        Some((what, input)) => Err(UsageError(format!("evq: {what}: {}", input::overwrite_error(input)))),
        None => Ok(()),
    }
}

/// The stage and the file a `to`/`tee` writes when its template has no placeholder.
fn fixed_template_path(spec: &crate::lang::StageSpec) -> Option<(&'static str, PathBuf)> {
    let crate::lang::StageSpec::To { template, tee, .. } = spec else {
        return None;
    };
    let mut path = String::new();
    for part in &template.parts {
        match part {
            crate::lang::ast::TemplatePart::Lit(s) => path.push_str(s),
            crate::lang::ast::TemplatePart::Expr(_) => return None,
        }
    }
    Some((if *tee { "tee" } else { "to" }, path.into()))
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
    pub format: Format,
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
    /// `--max-groups`, for messages.
    pub pipeline_max_groups: Option<usize>,
}

/// A usage error: the message to print (possibly several lines, for a caret).
#[derive(Debug)]
pub(crate) struct UsageError(pub String);

impl Config {
    pub(crate) fn from_cli(cli: Cli) -> Result<Config, UsageError> {
        let mut paths = cli.paths;
        let source = match &cli.file {
            Some(f) => {
                if let Some(p) = cli.pipeline {
                    paths.insert(0, p);
                }
                std::fs::read_to_string(f)
                    .map_err(|e| UsageError(format!("evq: {}: {}", f.display(), input::reader::io_message(&e))))?
            }
            None => cli.pipeline.unwrap_or_default(),
        };
        let mut asts = parse_pipeline(&source).map_err(|e| UsageError(e.render(&source)))?;
        if let Some(dir) = &cli.out_dir {
            if matches!(
                asts.last().map(|a| &a.spec),
                Some(crate::lang::StageSpec::To { tee: false, .. })
            ) {
                return Err(UsageError("evq: -O: the pipeline already ends with `to`".into()));
            }
            let trimmed = dir.trim_end_matches('/').replace('{', "{{").replace('}', "}}");
            // `-O /` is the root directory; an empty name is the current one.
            let base = if trimmed.is_empty() && !dir.starts_with('/') {
                "."
            } else {
                &trimmed
            };
            let text = format!("{base}/{{topic()}}.ndjson");
            let template = crate::lang::parse_template(&text).expect("the -O template is well formed");
            let spec = crate::lang::StageSpec::To {
                template,
                text,
                tee: false,
            };
            asts.push(crate::lang::StageAst {
                spec,
                span: crate::lang::Span::default(),
            });
        }
        crate::stage::To::check(&asts, &source).map_err(|e| UsageError(e.render(&source)))?;
        if let Some(fmt) = &cli.time_format {
            if !crate::time::valid_format(fmt) {
                return Err(UsageError(format!(
                    "evq: --time-format: `{fmt}` is not a valid strftime format"
                )));
            }
            crate::time::set_user_format(fmt.clone());
        }
        if cli.jobs == Some(0) {
            return Err(UsageError("evq: --jobs must be at least 1".into()));
        }
        let time = match &cli.time_field {
            Some(t) => match crate::lang::parse_expr(t) {
                Ok(crate::lang::Expr::Path(p)) => Some(p),
                _ => return Err(UsageError(format!("evq: --time-field: `{t}` is not a field path"))),
            },
            None => None,
        };
        if asts.iter().any(|a| matches!(a.spec, crate::lang::StageSpec::To { .. })) {
            // Topic files: as many open at once as the system allows (like cargo), so that
            // thousands of topics do not close and reopen files; the cache stays under it.
            let _ = rlimit::increase_nofile_limit(u64::MAX);
        }
        let (inputs, skipped) = input::expand(&paths, cli.follow_links);
        if let Some(note) = skipped.note() {
            crate::messages::note(note);
        }
        let identities = input::identities(&inputs);
        refuse_overwrites(&identities, cli.dead_letter.as_deref(), cli.stats.as_deref(), &asts)?;
        let topic = crate::output::topic::TopicOptions {
            append: cli.append,
            atomic: cli.atomic,
            max_open: cli
                .max_open_files
                .unwrap_or_else(crate::output::safe_path::default_max_open_files)
                .max(1),
            inputs: identities.into(),
        };
        let opts = StageOptions {
            time,
            max_groups: cli.max_groups,
            memory_limit: cli.memory_limit,
            lateness: cli.lateness,
            topic,
            seed: cli.seed,
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let years = inputs
            .iter()
            .map(|i| cli.year.unwrap_or_else(|| input_year(i)))
            .collect();
        let env = Env {
            now,
            files: Arc::new(inputs.iter().map(|i| i.name.clone()).collect()),
            years: Arc::new(years),
        };
        let jobs = cli
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let input_format = cli.input.unwrap_or(
            if matches!(
                asts.first().map(|a| &a.spec),
                Some(crate::lang::StageSpec::Parse { .. })
            ) {
                input::InputFormat::Lines
            } else {
                input::InputFormat::Ndjson
            },
        );
        use input::InputFormat::{Csv, Json, Tsv};
        let multiline = match &cli.multiline_start {
            Some(_) if matches!(input_format, Json | Csv | Tsv) => {
                return Err(UsageError(
                    "evq: --multiline-start joins text lines; -i json, csv and tsv already read records that span lines"
                        .into(),
                ));
            }
            Some(re) => Some(
                crate::lang::parser::build_regex(re, "", crate::lang::Span::default())
                    .map_err(|e| UsageError(format!("evq: --multiline-start: {}", e.message)))?,
            ),
            None => None,
        };
        let mut pipeline = Pipeline::new(&asts, &opts).map_err(|e| UsageError(e.render(&source)))?;
        let writes_files = pipeline.ordered.iter().any(|s| matches!(s, crate::stage::Stage::To(_)));
        pipeline.strip_ansi = cli.strip_ansi;
        pipeline.held_bytes = cli.held_bytes.unwrap_or(pipeline.held_bytes);
        pipeline.input = input_format;
        Ok(Config {
            pipeline,
            source,
            inputs,
            env,
            format: cli.output.unwrap_or_else(|| default_format(&asts)),
            jobs,
            read: ReadConfig {
                // Topic files hold lines in memory of their own: smaller chunks keep the total down.
                chunk_size: cli.chunk_size.unwrap_or(if writes_files { 512 << 10 } else { 1 << 20 }),
                max_line_bytes: cli.max_line_bytes,
                format: input_format,
                multiline,
            },
            dead_letter: cli.dead_letter,
            strict: cli.strict,
            max_errors: cli.max_errors,
            stats: cli.stats.map(|s| {
                if s == "-" {
                    StatsTo::Stderr
                } else {
                    StatsTo::File(s.into())
                }
            }),
            line_buffered: cli.line_buffered || cli.lateness.is_some() || std::io::stdout().is_terminal(),
            exit_status: cli.exit_status,
            progress: !cli.no_progress && (cli.progress || std::io::stderr().is_terminal()),
            explain: cli.explain,
            merge: cli.merge.then(|| crate::stage::TimeField(opts.time.clone())),
            pipeline_max_groups: cli.max_groups,
        })
    }
}

#[cfg(test)]
mod tests;
