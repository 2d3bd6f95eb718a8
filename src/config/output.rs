//! The options of stdout checked together: `-o`, `-r`, `--format`, `--no-header`, `--color`.

use super::{Facts, UsageError};
use crate::cli::Cli;
use crate::output::template::TextTemplate;
use crate::output::{Format, Printer};
use crate::pipeline::Pipeline;
use std::sync::Arc;

/// How events are written to stdout in `format`; a `--format` template's fields are added to
/// what the pipeline parses.
pub(super) fn printer(
    cli: &Cli,
    format: Format,
    facts: &Facts,
    pipeline: &mut Pipeline,
) -> Result<Printer, UsageError> {
    let template = cli.format.as_deref().map(template).transpose()?;
    if template.is_some() && cli.output.is_some() {
        return Err(UsageError::flag("--format", "writes its own text; leave out -o"));
    }
    if template.is_some() && cli.raw {
        return Err(UsageError::flag("-r", "--format writes text already; leave out -r"));
    }
    if cli.raw && format != Format::Ndjson {
        return Err(UsageError::flag(
            "-r",
            format!("applies to ndjson output, not -o {}", name(format)),
        ));
    }
    if cli.no_header && !matches!(format, Format::Csv | Format::Tsv | Format::Table) {
        return Err(UsageError::flag(
            "--no-header",
            format!("applies to -o csv, tsv and table, not {}", name(format)),
        ));
    }
    if let Some(t) = &template {
        pipeline.output_reads(|n| t.needs(n));
    }
    Ok(Printer {
        format,
        raw: cli.raw,
        template: template.map(Arc::new),
        color: cli.color.colors(facts.stdout_terminal, facts.no_color),
        header: !cli.no_header,
        // A wrong zone was refused before the printer was made.
        zone: cli.tz.as_deref().and_then(|z| crate::time::zone(z).ok()),
        changed_keys: Arc::default(),
    })
}

/// `--format TEMPLATE`, refused in one line that names the place of the mistake.
fn template(text: &str) -> Result<TextTemplate, UsageError> {
    TextTemplate::parse(text).map_err(|e| {
        let hint = e.hint.map(|h| format!("; {h}")).unwrap_or_default();
        UsageError::flag(
            "--format",
            format!("`{text}`: {} at character {}{hint}", e.message, e.span.start + 1),
        )
    })
}

fn name(format: Format) -> String {
    use clap::ValueEnum;
    format
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}
