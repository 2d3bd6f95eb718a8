//! Colour for people at a terminal: the tokens of JSON text and table headers on stdout (stderr's
//! warnings are coloured in `messages`). Decided once per stream (`--color`, `NO_COLOR`, a
//! terminal); files never get it: topic and dead-letter files are written without a `Printer`.

use anstyle::{AnsiColor, Style};

/// Object keys.
pub(crate) const KEY: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Blue)));
/// String values.
pub(crate) const STRING: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
/// Numbers.
pub(crate) const NUMBER: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)));
/// `true`, `false` and `null`.
pub(crate) const LITERAL: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Magenta)));
/// A table's header line.
pub(crate) const HEADER: Style = Style::new().bold().underline();

/// `--color`: when stdout and stderr are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour a stream only when it is a terminal and NO_COLOR is unset or empty.
    #[default]
    Auto,
    /// Always colour stdout and stderr.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Whether a stream is coloured: `terminal` is whether it is one, `no_color` whether
    /// `NO_COLOR` is set to a non-empty value.
    pub(crate) fn colors(self, terminal: bool, no_color: bool) -> bool {
        match self {
            ColorChoice::Auto => terminal && !no_color,
            ColorChoice::Always => true,
            ColorChoice::Never => false,
        }
    }
}

/// Appends `text` in `style`.
pub(crate) fn paint(style: Style, text: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(style.render().to_string().as_bytes());
    out.extend_from_slice(text);
    out.extend_from_slice(style.render_reset().to_string().as_bytes());
}

/// Appends valid JSON text with its keys, strings, numbers and literals coloured; the bytes
/// between the colour codes are the text's own, so the exact numbers and escapes stay.
pub(crate) fn json(text: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < text.len() {
        let start = i;
        let style = match text[i] {
            b'"' => {
                i = string_end(text, i);
                let next = text[i..].iter().find(|b| !b.is_ascii_whitespace());
                if next == Some(&b':') { KEY } else { STRING }
            }
            b'-' | b'0'..=b'9' => {
                i += text[i..]
                    .iter()
                    .take_while(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                    .count();
                NUMBER
            }
            b't' | b'f' | b'n' => {
                i += text[i..].iter().take_while(|b| b.is_ascii_alphabetic()).count();
                LITERAL
            }
            b => {
                out.push(b);
                i += 1;
                continue;
            }
        };
        paint(style, &text[start..i], out);
    }
}

/// The index after the string that starts with the quote at `i`.
fn string_end(text: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(b: &[u8]) -> String {
        let s = String::from_utf8(b.to_vec()).unwrap();
        regex::Regex::new("\x1b\\[[0-9;]*m")
            .unwrap()
            .replace_all(&s, "")
            .into_owned()
    }

    #[test]
    fn json_tokens_get_their_colours_and_the_text_stays() {
        let text = br#"{"k":"v \"q\" :","n":-1.50e+3,"b":[true,false,null],"o":{"x" : 2}}"#;
        let mut out = Vec::new();
        json(text, &mut out);
        assert_eq!(strip(&out), String::from_utf8(text.to_vec()).unwrap());
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains(&format!("{}\"k\"{}", KEY.render(), KEY.render_reset())));
        assert!(s.contains(&format!(
            "{}\"v \\\"q\\\" :\"{}",
            STRING.render(),
            STRING.render_reset()
        )));
        assert!(s.contains(&format!("{}-1.50e+3{}", NUMBER.render(), NUMBER.render_reset())));
        assert!(s.contains(&format!("{}null{}", LITERAL.render(), LITERAL.render_reset())));
        assert!(s.contains(&format!("{}\"x\"{}", KEY.render(), KEY.render_reset())));
        assert!(!s.contains('\n'));
    }

    #[test]
    fn auto_colours_only_a_terminal_without_no_color() {
        assert!(ColorChoice::Auto.colors(true, false));
        assert!(!ColorChoice::Auto.colors(false, false));
        assert!(!ColorChoice::Auto.colors(true, true));
        assert!(ColorChoice::Always.colors(false, true));
        assert!(!ColorChoice::Never.colors(true, false));
    }
}
