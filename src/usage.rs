//! Command-line errors from clap, as one `evq:` line with a hint (exit 2), like
//! every other evq error; help and version go to stdout as clap prints them.

/// Prints a clap error: help and version as they are, errors as one `evq:` line.
pub(crate) fn report(e: &clap::Error) {
    if !e.use_stderr() {
        let _ = e.print();
        return;
    }
    crate::messages::error(one_line(e.kind(), &e.render().to_string()));
}

/// The error's text in one line: clap's message, then its tip or a hint.
fn one_line(kind: clap::error::ErrorKind, text: &str) -> String {
    use clap::error::ErrorKind;
    if kind == ErrorKind::MissingRequiredArgument && text.contains("<PIPELINE>") {
        return "no pipeline given; write evq 'PIPELINE' [PATH...], e.g. evq 'where level == \"error\"' app.log \
                (man evq describes the pipeline language)"
            .to_string();
    }
    let mut message = Vec::new();
    let mut tip = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if let Some(t) = line.strip_prefix("tip: ") {
            tip.get_or_insert(t.to_string());
        } else if !line.is_empty() {
            message.push(line.trim_start_matches("error: "));
        }
    }
    let hint = tip.unwrap_or_else(|| "evq --help lists the options".to_string());
    format!("{}; {hint}", message.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn line(args: &[&str]) -> String {
        match Cli::try_parse_from(std::iter::once("evq").chain(args.iter().copied())) {
            Ok(_) => panic!("{args:?} parsed"),
            Err(e) => one_line(e.kind(), &e.render().to_string()),
        }
    }

    #[test]
    fn clap_errors_become_one_line_with_a_hint() {
        assert_eq!(
            line(&["--zyxwvut", "x"]),
            "unexpected argument '--zyxwvut' found; to pass '--zyxwvut' as a value, use '-- --zyxwvut'"
        );
        assert_eq!(
            line(&["-j", "x", "where true"]),
            "invalid value 'x' for '--jobs <N>': `x` is not a whole number; evq --help lists the options"
        );
        assert!(line(&[]).starts_with("no pipeline given; write evq 'PIPELINE' [PATH...]"));
        for args in [&["--zyxwvut", "x"][..], &["-o", "xml", "where true"], &[]] {
            assert!(!line(args).contains('\n'), "{args:?}");
        }
    }
}
