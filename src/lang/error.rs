//! Pipeline errors with a span, printed as the pipeline with a caret under the problem.

use std::fmt;
use std::fmt::Write as _;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub(crate) fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) struct LangError {
    pub message: String,
    pub span: Span,
    pub hint: Option<String>,
}

impl LangError {
    pub(crate) fn new(message: impl Into<String>, span: Span) -> Self {
        LangError {
            message: message.into(),
            span,
            hint: None,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The message and its hint in one line, for an option's text (no caret to show).
    pub(crate) fn one_line(&self) -> String {
        match &self.hint {
            Some(hint) => format!("{}; {hint}", self.message),
            None => self.message.clone(),
        }
    }

    /// The message with the offending line of the pipeline and a caret under the problem;
    /// `messages` adds the `evq: ` prefix when it prints it.
    pub(crate) fn render(&self, src: &str) -> String {
        // Any span is accepted: it is cut to the text and moved back to character boundaries.
        // A mistake at the end of the text (a missing expression) is shown after its last
        // visible character, not on the empty line a final newline starts.
        let start = char_floor(src, self.span.start).min(src.trim_end().len());
        let line_start = src[..start].rfind('\n').map_or(0, |p| p + 1);
        let line_end = src[start..].find('\n').map_or(src.len(), |p| start + p);
        let end = char_floor(src, self.span.end.clamp(start, line_end));
        // The line as messages show it, without a URL's credentials, and the span in it.
        let (line, at) = crate::messages::without_credentials_mapped(&src[line_start..line_end]);
        self.pointed(&line, at(start - line_start), at(end - line_start))
    }

    /// The message with `line` and a caret under its bytes `start..end`.
    fn pointed(&self, line: &str, start: usize, end: usize) -> String {
        // A long line is shown around the mistake only, cut where marked with `…`.
        let (shown_start, end, shown_end) = match line.len() > 3 * CONTEXT {
            true => {
                let end = char_floor(line, end.min(start + 2 * CONTEXT));
                let from = char_floor(line, start.saturating_sub(CONTEXT));
                (from, end, char_floor(line, (end + CONTEXT).min(line.len())))
            }
            false => (0, end, line.len()),
        };
        let lead = if shown_start > 0 { "…" } else { "" };
        let trail = if shown_end < line.len() { "…" } else { "" };
        let width = UnicodeWidthStr::width(&line[start..end]).max(1);
        let mut out = format!(
            "pipeline error: {}\n  {lead}{}{trail}\n  {}{}",
            self.message,
            &line[shown_start..shown_end],
            padding(&format!("{lead}{}", &line[shown_start..start])),
            "^".repeat(width)
        );
        if let Some(h) = &self.hint {
            let _ = write!(out, "\n  hint: {h}");
        }
        out
    }
}

/// How many bytes of a long pipeline line are shown before and after a mistake.
const CONTEXT: usize = 60;

/// What puts the caret under the text after `before` on a terminal: a tab for a tab, and as
/// many spaces as columns for every other character (two for a wide one, none for a combining one).
fn padding(before: &str) -> String {
    let mut pad = String::with_capacity(before.len());
    for c in before.chars() {
        match c {
            '\t' => pad.push('\t'),
            c => pad.extend(std::iter::repeat_n(' ', UnicodeWidthChar::width(c).unwrap_or(0))),
        }
    }
    pad
}

/// The largest character boundary of `src` at or before `at`.
fn char_floor(src: &str, at: usize) -> usize {
    let mut at = at.min(src.len());
    while !src.is_char_boundary(at) {
        at -= 1;
    }
    at
}

impl fmt::Display for LangError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}..{}", self.message, self.span.start, self.span.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_span() {
        let e = LangError::new("unknown stage `wher`", Span::new(0, 4)).hint("did you mean `where`?");
        let r = e.render("wher x");
        assert_eq!(
            r,
            "pipeline error: unknown stage `wher`\n  wher x\n  ^^^^\n  hint: did you mean `where`?"
        );
    }

    #[test]
    fn a_mistake_at_the_end_of_a_file_is_shown_after_its_last_line_not_under_an_empty_one() {
        let e = LangError::new("expected an expression", Span::new(20, 20));
        assert_eq!(
            e.render("count\n| where a ==\n\n"),
            "pipeline error: expected an expression\n  | where a ==\n              ^"
        );
    }

    #[test]
    fn a_long_line_is_shown_around_the_mistake_only() {
        let src = format!(
            "{} | wher x | {}",
            "where a == 1 or b == 2".repeat(400),
            "set c = 1 | ".repeat(400)
        );
        let at = src.find("wher x").unwrap();
        let r = LangError::new("unknown stage `wher`", Span::new(at, src.len())).render(&src);
        let lines: Vec<&str> = r.lines().collect();
        assert!(lines[1].len() < 400, "{} bytes", lines[1].len());
        assert!(lines[1].starts_with("  …") && lines[1].ends_with('…'), "{}", lines[1]);
        let caret = lines[2].find('^').unwrap();
        assert_eq!(
            &lines[1][caret + 2..caret + 8],
            "wher x",
            "the caret is under the mistake"
        );
        assert!(lines[2].len() < 400);
        let short = LangError::new("m", Span::new(0, 1)).render("wher x");
        assert_eq!(short.lines().nth(1), Some("  wher x"));
    }

    /// The line is shown without a URL's credentials, and the caret stays under the mistake.
    #[test]
    fn the_caret_points_at_the_mistake_after_credentials_are_left_out() {
        let src = "to \"s3://user:secret@h/x\" | wher x";
        let at = src.find("wher").unwrap();
        let r = LangError::new("m", Span::new(at, at + 4)).render(src);
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines[1], "  to \"s3://…@h/x\" | wher x");
        assert_eq!(
            lines[2],
            format!("  {}^^^^", " ".repeat("to \"s3://…@h/x\" | ".chars().count()))
        );
        let inside = src.find("secret").unwrap();
        let r = LangError::new("m", Span::new(inside, inside + 3)).render(src);
        assert_eq!(
            r.lines().nth(2),
            Some(format!("  {}^", " ".repeat("to \"s3://".len())).as_str())
        );
    }

    #[test]
    fn the_caret_lines_up_after_wide_characters_and_tabs() {
        let src = "where name == \"日本\"\tand x = 1";
        let at = src.find('=').map(|i| src[i + 2..].find('=').unwrap() + i + 2).unwrap();
        let r = LangError::new("m", Span::new(at, at + 1)).render(src);
        let caret = r.lines().nth(2).unwrap();
        assert_eq!(caret, format!("  {}\t{}^", " ".repeat(20), " ".repeat(6)));
        let wide = LangError::new("m", Span::new(15, 21)).render(src);
        assert_eq!(
            wide.lines().nth(2).unwrap(),
            format!("  {}^^^^", " ".repeat(15)),
            "two columns each"
        );
    }
}
