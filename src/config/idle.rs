//! Warnings for options that change nothing in a run: the run does what it would do without
//! them, which the user did not mean. Each is one line, and the run goes on.

use super::fixed_or_template_text;
use crate::cli::Cli;
use crate::input::InputFormat;
use crate::lang::parser::Params;
use crate::lang::{StageAst, StageSpec};
use crate::output::Format;
use crate::pipeline::Pipeline;
use crate::stage::Stage;
use std::ffi::OsString;
use std::path::Path;

/// Whether a flag is idle, the flag as typed, and why it does nothing.
type Idle = (bool, String, String);

/// What the checks look at: the command line and what was built of it.
pub(super) struct Run<'a> {
    pub cli: &'a Cli,
    pub pipeline: &'a Pipeline,
    pub asts: &'a [StageAst],
    pub input: InputFormat,
    pub output: Format,
    /// The inputs as typed.
    pub paths: &'a [OsString],
    /// `--arg` and `--argjson`, after the pipeline was parsed with them.
    pub params: &'a Params,
}

/// `FLAG has no effect: WHY` for each flag given that changes nothing in this run.
pub(super) fn flags(run: &Run) -> Vec<String> {
    let Run {
        cli, pipeline, asts, ..
    } = *run;
    let streams = pipeline
        .ordered
        .iter()
        .any(|s| matches!(s, Stage::Group(g) if g.streaming()));
    let targets: Vec<&str> = asts.iter().filter_map(fixed_or_template_text).collect();
    let files = targets.iter().any(|t| !t.starts_with("nats://"));
    let publishes = targets.iter().any(|t| t.starts_with("nats://"));
    let windows = asts.iter().any(|a| match &a.spec {
        StageSpec::Count { every, .. }
        | StageSpec::Stats { every, .. }
        | StageSpec::Top { every, .. }
        | StageSpec::Distinct { every, .. } => every.is_some(),
        StageSpec::Throttle { .. } => true,
        _ => false,
    });
    let samples = asts.iter().any(|a| matches!(a.spec, StageSpec::Sample { .. }));
    let reads_nats = run
        .paths
        .iter()
        .any(|p| p.to_str().is_some_and(|p| p.starts_with("nats://")));
    let idle = [
        (
            cli.lateness.is_some() && !streams,
            "--lateness",
            "no aggregate in the pipeline has windows (count, stats, top or distinct with every DUR)",
        ),
        (
            cli.append && !files,
            "--append",
            "the pipeline writes no topic files (to, tee or -O)",
        ),
        (
            cli.atomic && !files,
            "--atomic",
            "the pipeline writes no topic files (to, tee or -O)",
        ),
        (
            cli.max_open_files.is_some() && !files,
            "--max-open-files",
            "the pipeline writes no topic files (to, tee or -O)",
        ),
        (
            cli.msg_id.is_some() && !publishes,
            "--msg-id",
            "the pipeline publishes nothing (to \"nats://…\")",
        ),
        (
            cli.nats_creds.is_some() && !publishes && !reads_nats,
            "--nats-creds",
            "nothing here reads or publishes to a nats:// address",
        ),
        (
            cli.seed.is_some() && !samples,
            "--seed",
            "the pipeline has no sample stage",
        ),
        (
            cli.progress && cli.follow,
            "--progress",
            "with --follow there is no end of input to measure progress against",
        ),
        (
            cli.tz.is_some() && !windows && run.output != Format::Table,
            "--tz",
            "it sets the zone of window bounds (every DUR), throttle's windows and -o table's times, and the pipeline has none of them; strftime takes its zone as its third argument, strftime(t, \"%H:%M\", \"UTC\"), and bucket none",
        ),
    ];
    idle.into_iter()
        .map(|(idle, flag, why)| (idle, flag.to_string(), why.to_string()))
        .chain(input_flags(run))
        .chain(stage_flags(run))
        .chain(unused_params(run))
        .filter(|(idle, ..)| *idle)
        .map(|(_, flag, why)| format!("{flag} has no effect: {why}"))
        .collect()
}

/// The flags about reading inputs that these inputs do not use.
fn input_flags(run: &Run) -> Vec<Idle> {
    let cli = run.cli;
    let format = clap::ValueEnum::to_possible_value(&run.input).map(|v| v.get_name().to_string());
    let format = format.unwrap_or_default();
    let reads_json = matches!(
        run.input,
        InputFormat::Ndjson | InputFormat::Json | InputFormat::Csv | InputFormat::Tsv | InputFormat::Zeek
    );
    let parses = run.asts.iter().any(|a| matches!(a.spec, StageSpec::Parse { .. }));
    let merges_text = cli.merge && matches!(run.input, InputFormat::Lines | InputFormat::Logfmt);
    let reads_syslog = parses || merges_text || run.input == InputFormat::Auto;
    let directory = run.paths.iter().any(|p| Path::new(p).is_dir());
    let no_directory = "no input is a directory".to_string();
    vec![
        (
            cli.strip_ansi && reads_json,
            "--strip-ansi".to_string(),
            format!(
                "it removes colour codes from lines read as text (-i lines, logfmt or auto), and these \
                 inputs are read as {format}"
            ),
        ),
        (
            cli.year.is_some() && !reads_syslog,
            "--year".to_string(),
            "it dates syslog timestamps that have no year, and nothing reads syslog here (-i auto or a parse stage)"
                .to_string(),
        ),
        (!cli.globs.is_empty() && !directory, "-g".into(), no_directory.clone()),
        (cli.no_ignore && !directory, "--no-ignore".into(), no_directory.clone()),
        (cli.follow_links && !directory, "--follow-links".into(), no_directory),
    ]
}

/// The flags about stages that the pipeline does not have.
fn stage_flags(run: &Run) -> Vec<Idle> {
    let cli = run.cli;
    let holds_groups = run.asts.iter().any(|a| match &a.spec {
        StageSpec::Head { by, .. } | StageSpec::Tail { by, .. } => !by.is_empty(),
        spec => matches!(
            spec,
            StageSpec::Count { .. }
                | StageSpec::Stats { .. }
                | StageSpec::Top { .. }
                | StageSpec::Distinct { .. }
                | StageSpec::Fold { .. }
                | StageSpec::Dedupe { .. }
                | StageSpec::Throttle { .. }
                | StageSpec::Summary
                | StageSpec::Shapes
                | StageSpec::Step { .. }
        ),
    });
    let reads_time = run.pipeline.reads_event_time() || cli.merge;
    vec![
        (
            cli.max_groups.is_some() && !holds_groups,
            "--max-groups".to_string(),
            "no stage holds groups or keys (an aggregate, fold, dedupe, throttle, step, summary, shapes, or head \
             or tail by KEYS)"
                .to_string(),
        ),
        (
            cli.time_field.is_some() && !reads_time,
            "--time-field".to_string(),
            "nothing reads event time (windows, dedupe within, throttle, fold, step, --since, --until, --merge); \
             time(FIELD) reads a field's time"
                .to_string(),
        ),
    ]
}

/// `--arg NAME` and `--argjson NAME` whose `$NAME` the pipeline never uses.
fn unused_params(run: &Run) -> Vec<Idle> {
    let flag = |name: &str| match run.cli.params.iter().rev().find(|p| p.name == name) {
        Some(p) if p.json => "--argjson",
        _ => "--arg",
    };
    let unused = run.params.unused();
    let why = |name: &str| format!("the pipeline does not use ${name}");
    let idle = |name: &str| (true, format!("{} {name}", flag(name)), why(name));
    unused.into_iter().map(idle).collect()
}
