//! Command-line errors from clap, as one `evq:` line with a hint (exit 2), like
//! every other evq error; help and version go to stdout as clap prints them.

use std::ffi::OsString;
use std::path::Path;

/// Prints a clap error about the command line `args`: help and version as they are, errors as
/// one `evq:` line.
pub(crate) fn report(e: &clap::Error, args: &[OsString]) {
    if !e.use_stderr() {
        let _ = e.print();
        return;
    }
    let line = match e.kind() {
        clap::error::ErrorKind::InvalidUtf8 => not_text(args),
        kind => with_bytes_shown(one_line(kind, &e.render().to_string()), args),
    };
    crate::messages::error(line);
}

/// Whether the argument `before` a value lets it be any bytes: an option whose value is a path
/// (`-f`, `--from`, `--dead-letter`) reads it as given, and `-` and `--` come before paths.
/// Clap's complaint is then about another argument.
fn takes_bytes(before: &str) -> bool {
    use clap::CommandFactory;
    use std::any::TypeId;
    if matches!(before, "-" | "--") {
        return true;
    }
    let named = |arg: &&clap::Arg| match before.strip_prefix("--") {
        Some(long) => arg
            .get_long_and_visible_aliases()
            .is_some_and(|names| names.contains(&long)),
        None => before.strip_prefix('-').is_some_and(|short| {
            let mut chars = short.chars();
            chars.next().zip(arg.get_short()).is_some_and(|(c, s)| c == s) && chars.next().is_none()
        }),
    };
    let bytes = [TypeId::of::<std::path::PathBuf>(), TypeId::of::<OsString>()];
    crate::cli::Cli::command()
        .get_arguments()
        .filter(named)
        .any(|arg| bytes.iter().any(|id| arg.get_value_parser().type_id() == *id))
}

/// Options that take two values (`--arg NAME VALUE`).
const PAIR_OPTIONS: [&str; 2] = ["--arg", "--argjson"];

/// Clap's message with each argument that is not UTF-8, which it shows with U+FFFD, shown as
/// evq shows such bytes (`\xHH`).
fn with_bytes_shown(mut line: String, args: &[OsString]) -> String {
    for arg in args.iter().filter(|a| a.to_str().is_none()) {
        line = line.replace(&*arg.to_string_lossy(), &crate::messages::path_name(Path::new(arg)));
    }
    line
}

/// An option's value that is not UTF-8, where the option takes text: clap says only that some
/// argument is not, so the first one is named, with its option.
fn not_text(args: &[OsString]) -> String {
    let text = |i: usize| args.get(i).and_then(|a| a.to_str()).unwrap_or_default();
    let option_of = |at: usize| {
        let shown = crate::messages::shown_path(Path::new(&args[at]));
        if let Some((option, value)) = shown.split_once('=').filter(|_| shown.starts_with("--")) {
            return Some((option.to_string(), value.to_string()));
        }
        let before = text(at - 1);
        let option = match before.starts_with('-') {
            true if !takes_bytes(before) => before,
            _ if at > 1 && PAIR_OPTIONS.contains(&text(at - 2)) => text(at - 2),
            // A path, or another value that may be any bytes.
            _ => return None,
        };
        Some((option.to_string(), shown))
    };
    let found = (1..args.len())
        .filter(|&i| args[i].to_str().is_none())
        .find_map(option_of);
    let Some((option, value)) = found else {
        return "an argument is not UTF-8 text; give it in UTF-8".to_string();
    };
    let hint = match ["-O", "--out-dir", "--stats"].contains(&option.as_str()) {
        true => " (a UTF-8 name that leads to it, such as a symbolic link)",
        false => "",
    };
    format!("{option} {value}: the value is not UTF-8 text, which {option} takes; give it in UTF-8{hint}")
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
            tip.get_or_insert(better_tip(t));
        } else if !line.is_empty() {
            message.push(line.trim_start_matches("error: "));
        }
    }
    let hint = tip.unwrap_or_else(|| "evq --help lists the options".to_string());
    format!("{}; {hint}", message.join(" "))
}

/// Clap's tip, or a truer one: for an argument that starts with `-` (`--since -5`), clap says
/// to put `--` before it, which makes it an input path, not the option's value.
fn better_tip(tip: &str) -> String {
    let dashed = tip
        .strip_prefix("to pass '")
        .and_then(|rest| rest.split_once("' as a value"))
        .map(|(arg, _)| arg);
    match dashed {
        Some(arg) if arg.as_bytes().get(1).is_some_and(u8::is_ascii_digit) => format!(
            "an option's value that starts with - goes after = (--OPTION=-VALUE); an input path that starts \
             with - goes after -- (-- {arg})"
        ),
        Some(arg) => format!("evq --help lists the options; an input path that starts with - goes after -- (-- {arg})"),
        None => tip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;

    fn line(args: &[&str]) -> String {
        match Cli::read(std::iter::once("evq").chain(args.iter().copied())) {
            Ok(_) => panic!("{args:?} parsed"),
            Err(e) => one_line(e.kind(), &e.render().to_string()),
        }
    }

    /// The argument that is not UTF-8 where its option takes text is named with that option;
    /// one that may be any bytes (a path) is not blamed.
    #[test]
    fn an_option_value_that_is_not_utf8_is_named_with_its_option() {
        use std::os::unix::ffi::OsStrExt;
        let args = |list: &[&[u8]]| -> Vec<OsString> {
            list.iter().map(|a| std::ffi::OsStr::from_bytes(a).to_owned()).collect()
        };
        let line = not_text(&args(&[b"evq", b"--arg", b"x", b"v\xff", b"where true"]));
        assert_eq!(
            line,
            "--arg v\\xFF: the value is not UTF-8 text, which --arg takes; give it in UTF-8"
        );
        let line = not_text(&args(&[b"evq", b"where a", b"d/j\xff.ndjson", b"-O", b"o\xfe"]));
        assert!(line.starts_with("-O o\\xFE: the value is not UTF-8 text"), "{line}");
        let line = not_text(&args(&[b"evq", b"-f", b"p\xff", b"--format=\xfe{a}"]));
        assert!(line.starts_with("--format \\xFE{a}: "), "{line}");
        let line = with_bytes_shown(
            "invalid value 'a\u{FFFD}' for '--input <FORMAT>'".into(),
            &args(&[b"-i", b"a\xff"]),
        );
        assert_eq!(line, "invalid value 'a\\xFF' for '--input <FORMAT>'");
    }

    /// The options whose values are paths are found from the command's own definition.
    #[test]
    fn options_that_take_paths_take_any_bytes() {
        for path_option in ["-f", "--file", "--from", "--dead-letter", "--nats-creds", "--", "-"] {
            assert!(takes_bytes(path_option), "{path_option}");
        }
        for text_option in [
            "-O",
            "--out-dir",
            "--stats",
            "--format",
            "--arg",
            "-i",
            "--fi",
            "-ff",
            "x",
        ] {
            assert!(!takes_bytes(text_option), "{text_option}");
        }
    }

    #[test]
    fn clap_errors_become_one_line_with_a_hint() {
        assert_eq!(
            line(&["--zyxwvut", "x"]),
            "unexpected argument '--zyxwvut' found; evq --help lists the options; an input path that starts \
             with - goes after -- (-- --zyxwvut)"
        );
        assert_eq!(
            line(&["-O", "-5", "count"]),
            "unexpected argument '-5' found; an option's value that starts with - goes after = (--OPTION=-VALUE); \
             an input path that starts with - goes after -- (-- -5)"
        );
        assert_eq!(
            line(&["-j", "x", "where true"]),
            "invalid value 'x' for '--jobs <N>': `x` is not a whole number; evq --help lists the options"
        );
        assert!(line(&[]).starts_with("no pipeline given; write evq 'PIPELINE' [PATH...]"));
        assert_eq!(
            line(&["--format", "", "where true"]),
            "invalid value '' for '--format <TEMPLATE>': the value is empty; give one, or leave the option out; \
             evq --help lists the options"
        );
        assert!(line(&["--stats=", "where true"]).contains("'--stats[=<FILE>]': the value is empty"));
        assert!(line(&["where true", "--format"]).contains("but none was supplied"));
        for args in [&["--zyxwvut", "x"][..], &["-o", "xml", "where true"], &[]] {
            assert!(!line(args).contains('\n'), "{args:?}");
        }
    }
}
