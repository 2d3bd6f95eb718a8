//! The `markdown` format: records as a GitHub pipe table, for pasting into issues and docs.

use super::rows::{Cell, Rows};
use crate::messages;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Writes a header row of the column names, the delimiter row, then one row per record.
///
/// - Columns whose non-empty cells are all numbers are right-aligned (`---:`).
/// - Names and cells are shown as text ([`push_escaped`]): `|` is written `\|` so it is no
///   column border, a newline (and a CR LF pair) becomes `<br>`, so every record stays one
///   line, and Markdown in the data is escaped, so that it renders as the value it is.
/// - Nothing is written when there are no columns.
pub(crate) fn write_markdown(rows: &Rows, out: &mut dyn Write) -> io::Result<()> {
    let names = rows.columns();
    if names.is_empty() {
        return Ok(());
    }
    let mut right = vec![(false, true); names.len()]; // (any number, only numbers or empty)
    rows.each(|rec| {
        for (i, cell) in rec.enumerate() {
            right[i].0 |= cell.is_number();
            right[i].1 &= cell.is_number() || cell.as_str().is_empty();
        }
        Ok(())
    })?;
    let mut line = String::new();
    push_row(&mut line, names.iter().map(String::as_str));
    out.write_all(line.as_bytes())?;
    line.clear();
    let rule = right
        .iter()
        .map(|&(any, only)| if any && only { "---:" } else { "---" });
    push_row(&mut line, rule);
    out.write_all(line.as_bytes())?;
    rows.each(|rec| {
        line.clear();
        push_row(&mut line, rec.map(Cell::as_str));
        out.write_all(line.as_bytes())
    })
}

/// Appends `| a | b |` and a newline.
fn push_row<'a>(line: &mut String, cells: impl Iterator<Item = &'a str>) {
    line.push('|');
    for cell in cells {
        line.push(' ');
        push_escaped(cell, line);
        line.push_str(" |");
    }
    line.push('\n');
}

/// Appends a cell's text so that Markdown shows it as text: a line end as `<br>`, characters
/// that would be markup (`|`, `\`, `` ` ``, `*`, `[`, `]`, `<`, `>`, `&`, `~`, and `_` but
/// inside a word) after a backslash, and characters a screen does not show as themselves
/// (controls but tab, bidirectional marks) as `\u{..}`.
fn push_escaped(s: &str, out: &mut String) {
    let mut prev = ' ';
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        match c {
            '\r' if next == Some('\n') => {}
            '\n' | '\r' => out.push_str("<br>"),
            '|' | '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '_' if !(prev.is_alphanumeric() && next.is_some_and(char::is_alphanumeric)) => out.push_str("\\_"),
            c if c != '\t' && messages::is_unseen(c) => {
                write!(out, "\\u{{{:x}}}", c as u32).expect("writing to a String cannot fail");
            }
            c => out.push(c),
        }
        prev = c;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markdown(lines: &[&str]) -> String {
        let mut rows = Rows::new();
        for l in lines {
            rows.push(&serde_json::from_str(l).unwrap());
        }
        let mut out = Vec::new();
        write_markdown(&rows, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_pipe_table_with_numeric_columns_right_aligned() {
        assert_eq!(
            markdown(&[r#"{"path":"/a","n":3,"u":{"id":1}}"#, r#"{"path":"/b","u":{"id":"x"}}"#]),
            "| path | n | u.id |\n| --- | ---: | --- |\n| /a | 3 | 1 |\n| /b |  | x |\n"
        );
    }

    #[test]
    fn pipes_newlines_and_controls_stay_inside_their_cell() {
        assert_eq!(
            markdown(&[r#"{"a|b":"x|y","m":"l1\r\nl2\nl3\u001b[1m"}"#]),
            "| a\\|b | m |\n| --- | --- |\n| x\\|y | l1<br>l2<br>l3\\u{1b}\\[1m |\n"
        );
        // Markup in a value is shown as text; an _ inside a word is left as it is.
        assert_eq!(
            markdown(&[r#"{"user_id":"a\\|b","v":"*b* <br> [l](u) _x_ &amp; ~~s~~ `c` \u202egnp"}"#]),
            "| user_id | v |\n| --- | --- |\n| a\\\\\\|b | \\*b\\* \\<br\\> \\[l\\](u) \\_x\\_ \\&amp; \\~\\~s\\~\\~ \\`c\\` \\u{202e}gnp |\n"
        );
        assert_eq!(markdown(&["{}"]), "");
    }
}
