//! The `table` format: records as aligned columns for people to read in a terminal.

use super::rows::{Cell, Rows};
use crate::messages::escaped;
use std::borrow::Cow;
use std::io::{self, Write};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Spaces between columns.
const GAP: usize = 2;

/// How a table looks besides its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Look {
    /// A header line of column names (`--no-header` leaves it out).
    pub header: bool,
    /// The header in bold and underlined (a terminal with colour).
    pub color: bool,
    /// `--tz`: strings that are RFC 3339 date-times with an offset are shown in this zone.
    pub zone: Option<chrono_tz::Tz>,
}

impl Default for Look {
    fn default() -> Look {
        Look {
            header: true,
            color: false,
            zone: None,
        }
    }
}

/// Significant digits a table shows of a number with a fraction or an exponent.
const SIGNIFICANT: usize = 6;

/// Writes a header line and one line per record, in aligned columns two spaces apart.
///
/// - Widths are terminal display widths (`unicode-width`): CJK and emoji count 2, combining marks
///   0. The ellipsis and other East Asian "ambiguous" characters count 1.
/// - Numbers are right-aligned, everything else left-aligned; a column's name is right-aligned
///   when all its non-empty cells are numbers.
/// - A cell is shown on one line and cannot drive the terminal: newline, tab and carriage return
///   are shown as `\n`, `\t`, `\r`, other control characters as `\u{1b}`. This is for reading,
///   not parsing: a backslash in the data is shown as it is.
/// - With `max_width`, when the natural layout is wider, the widest columns are narrowed to a
///   common limit (the largest that fits; spare width goes one column each to the leftmost cut
///   columns) and cut cells end in `…`. A column is never cut narrower than [`NARROWEST`], so
///   with too many columns for `max_width` the lines stay longer than asked.
/// - Numbers with a fraction or an exponent show at most [`SIGNIFICANT`] significant digits
///   (see [`readable`]); with a zone, RFC 3339 date-times with an offset show in it (see
///   [`crate::time::shown_in`]); integers and all other cells show as they are.
/// - Lines have no trailing spaces. Nothing is written when there are no columns.
pub(crate) fn write_table(rows: &Rows, out: &mut dyn Write, max_width: Option<usize>, look: Look) -> io::Result<()> {
    let names = rows.columns();
    if names.is_empty() {
        return Ok(());
    }
    let mut natural: Vec<usize> = names
        .iter()
        .map(|n| if look.header { escaped(n).width() } else { 0 })
        .collect();
    let mut numbers = vec![(false, true); names.len()]; // (any number, only numbers or empty)
    rows.each(|rec| {
        for (i, cell) in rec.enumerate() {
            natural[i] = natural[i].max(escaped(&text(cell, look.zone)).width());
            numbers[i].0 |= cell.is_number();
            numbers[i].1 &= cell.is_number() || cell.as_str().is_empty();
        }
        Ok(())
    })?;
    let widths = fit(&natural, max_width);
    let mut line = String::new();
    if look.header {
        let header = names
            .iter()
            .zip(&numbers)
            .map(|(n, &(any, only))| (Cow::Borrowed(n.as_str()), any && only));
        push_line(&mut line, header, &widths);
        if look.color {
            let style = super::color::HEADER;
            line.insert_str(0, &style.render().to_string());
            line.insert_str(line.len() - 1, &style.render_reset().to_string());
        }
        out.write_all(line.as_bytes())?;
    }
    rows.each(|rec| {
        push_line(&mut line, rec.map(|c| (text(c, look.zone), c.is_number())), &widths);
        out.write_all(line.as_bytes())
    })
}

/// A cell's text as a table shows it: numbers made [`readable`], times in `zone`.
fn text(cell: &Cell, zone: Option<chrono_tz::Tz>) -> Cow<'_, str> {
    match (cell, zone) {
        (Cell::Number(n), _) => readable(n),
        (Cell::Text(s), Some(zone)) => crate::time::shown_in(s, zone).map_or(Cow::Borrowed(s.as_str()), Cow::Owned),
        (c, _) => Cow::Borrowed(c.as_str()),
    }
}

/// A number with a fraction or an exponent rounded to [`SIGNIFICANT`] significant digits, but
/// never to fewer than its integer part has (`1234567.891` shows as `1234568`), with trailing
/// zeros trimmed (`2.50` as `2.5`, `1.0` as `1`). Below 1e-5 and from 1e15 on (in magnitude) it
/// shows with an exponent (`1.5e-10`). Integers keep every digit, and so do numbers past the
/// range of a double (`1e-400`), which would otherwise show as 0.
pub(crate) fn readable(n: &str) -> Cow<'_, str> {
    if !n.contains(['.', 'e', 'E']) {
        return Cow::Borrowed(n);
    }
    let Ok(x) = n.parse::<f64>() else {
        return Cow::Borrowed(n);
    };
    let zero = !n
        .split(['e', 'E'])
        .next()
        .unwrap_or(n)
        .contains(|c: char| ('1'..='9').contains(&c));
    if x == 0.0 && zero {
        return Cow::Borrowed("0");
    }
    if x == 0.0 || !x.is_finite() {
        // Past the range of a double (1e-400, 1e400): shown as written, not as 0 or inf.
        return Cow::Borrowed(n);
    }
    let magnitude = x.abs().log10().floor();
    if !(-5.0..15.0).contains(&magnitude) {
        let text = format!("{x:.*e}", SIGNIFICANT - 1);
        let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
        return Cow::Owned(format!("{}e{exp}", trim_zeros(mantissa)));
    }
    // magnitude is within -5..15, so these casts are exact.
    let decimals = (SIGNIFICANT as i64 - 1 - magnitude as i64).max(0) as usize;
    let text = format!("{x:.decimals$}");
    Cow::Owned(trim_zeros(&text).to_string())
}

/// `2.500` as `2.5`, `3.000` as `3`; text without a point as it is.
fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Sets `line` to the cells `(text, right-aligned)` laid out in `widths`, with a newline.
fn push_line<'a>(line: &mut String, cells: impl Iterator<Item = (Cow<'a, str>, bool)>, widths: &[usize]) {
    line.clear();
    for (i, ((text, right), &w)) in cells.zip(widths).enumerate() {
        if i > 0 {
            line.extend(std::iter::repeat_n(' ', GAP));
        }
        let text = escaped(&text);
        let text = cut(&text, w);
        let pad = std::iter::repeat_n(' ', w.saturating_sub(text.width()));
        if right {
            line.extend(pad);
            line.push_str(&text);
        } else {
            line.push_str(&text);
            line.extend(pad);
        }
    }
    line.truncate(line.trim_end_matches(' ').len());
    line.push('\n');
}

/// `s` cut to display width `w`, ending in `…` when cut. A wide character that does not fit
/// whole is left out, so the result can be one column narrower than `w`.
fn cut(s: &str, w: usize) -> Cow<'_, str> {
    if s.width() <= w {
        return Cow::Borrowed(s);
    }
    if w == 0 {
        return Cow::Borrowed("");
    }
    let room = w - 1;
    let (mut end, mut used) = (0, 0);
    for (i, c) in s.char_indices() {
        let cw = c.width().unwrap_or(0);
        if used + cw > room {
            break;
        }
        used += cw;
        end = i + c.len_utf8();
    }
    // Character sums and string widths can differ (emoji sequences); the string width decides.
    let mut kept = &s[..end];
    while kept.width() > room {
        let last = kept.chars().next_back().expect("a string wider than 0 has a character");
        kept = &kept[..kept.len() - last.len_utf8()];
    }
    Cow::Owned(format!("{kept}…"))
}

/// How narrow a cut column may be: a cut cell shows this many columns, `…` included, so that
/// it can still be read. A table that does not fit at this width is wider than asked.
const NARROWEST: usize = 8;

/// Column widths within `max_width`: the widest columns narrowed to the largest common limit
/// that fits, none below [`NARROWEST`], spare width given one each to the leftmost narrowed
/// columns.
fn fit(natural: &[usize], max_width: Option<usize>) -> Vec<usize> {
    let gaps = GAP * natural.len().saturating_sub(1);
    let Some(max) = max_width else {
        return natural.to_vec();
    };
    if natural.iter().sum::<usize>() + gaps <= max {
        return natural.to_vec();
    }
    let budget = max.saturating_sub(gaps);
    let used = |limit: usize| natural.iter().map(|&w| w.min(limit)).sum::<usize>();
    // used(lo) fits (or lo is the floor); used(hi) does not.
    let hi = natural.iter().copied().max().unwrap_or(0);
    let (mut lo, mut hi) = (NARROWEST.min(hi), hi);
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if used(mid) <= budget { lo = mid } else { hi = mid }
    }
    let mut spare = budget.saturating_sub(used(lo));
    let mut widths: Vec<usize> = natural.iter().map(|&w| w.min(lo)).collect();
    for (w, &n) in widths.iter_mut().zip(natural) {
        if spare > 0 && n > lo {
            *w += 1;
            spare -= 1;
        }
    }
    widths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(lines: &[&str], max_width: Option<usize>) -> String {
        let mut rows = Rows::new();
        for l in lines {
            rows.push(&serde_json::from_str(l).unwrap());
        }
        let mut out = Vec::new();
        write_table(&rows, &mut out, max_width, Look::default()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn floats_show_six_significant_digits_and_integers_every_digit() {
        let cases = [
            ("3.14159265", "3.14159"),
            ("1234567.891", "1234568"),
            ("0.000123456789", "0.000123457"),
            ("2.50", "2.5"),
            ("1.0", "1"),
            ("-0.5", "-0.5"),
            ("1.5e-10", "1.5e-10"),
            ("1e300", "1e300"),
            ("-2.5E20", "-2.5e20"),
            ("0.0", "0"),
            ("-0e5", "0"),
            ("-1e-400", "-1e-400"),
            ("1e400", "1e400"),
            ("99.9999999", "100"),
            ("18446744073709551616", "18446744073709551616"),
            ("-17", "-17"),
        ];
        for (n, want) in cases {
            assert_eq!(readable(n), want, "{n}");
        }
        let t = table(&[r#"{"avg":12.345678,"n":3}"#, r#"{"avg":0.1,"n":10}"#], None);
        assert_eq!(t, "    avg   n\n12.3457   3\n    0.1  10\n");
    }

    #[test]
    fn no_header_and_a_coloured_header() {
        let mut rows = Rows::new();
        rows.push(&serde_json::json!({"name": "a", "n": 1}));
        let write = |look| {
            let mut out = Vec::new();
            write_table(&rows, &mut out, None, look).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            write(Look {
                header: false,
                ..Look::default()
            }),
            "a  1\n"
        );
        let coloured = write(Look {
            color: true,
            ..Look::default()
        });
        assert_eq!(
            coloured,
            format!(
                "{}name  n{}\na     1\n",
                super::super::color::HEADER.render(),
                super::super::color::HEADER.render_reset()
            )
        );
    }

    #[test]
    fn numbers_right_aligned_text_left_with_cjk_widths() {
        let t = table(
            &[
                r#"{"name":"a","n":1}"#,
                r#"{"name":"日本","n":100}"#,
                r#"{"name":"abc","n":-2.5}"#,
            ],
            None,
        );
        assert_eq!(t, "name     n\na        1\n日本   100\nabc   -2.5\n");
        assert_eq!("日本".width(), 4);
    }

    #[test]
    fn emoji_and_combining_marks_take_their_display_width() {
        let t = table(
            &[
                r#"{"e":"😀","c":"e\u0301x","z":"|"}"#,
                r#"{"e":"ab","c":"abc","z":"|"}"#,
            ],
            None,
        );
        assert_eq!(t, "e   c    z\n😀  e\u{301}x   |\nab  abc  |\n");
    }

    #[test]
    fn mixed_columns_align_each_cell_and_keep_the_name_left() {
        let t = table(
            &[
                r#"{"v":1000,"w":"x"}"#,
                r#"{"v":"text","w":"x"}"#,
                r#"{"v":null,"w":"x"}"#,
            ],
            None,
        );
        assert_eq!(t, "v     w\n1000  x\ntext  x\n      x\n");
    }

    #[test]
    fn lines_have_no_trailing_spaces() {
        let t = table(&[r#"{"a":"long value","b":"x "}"#, r#"{"a":"s"}"#], None);
        assert_eq!(t, "a           b\nlong value  x\ns\n");
    }

    #[test]
    fn newlines_tabs_and_controls_are_shown_escaped() {
        let t = table(&[r#"{"m":"a\nb\tc\r\u001b[31m","n":1}"#], None);
        assert_eq!(t, "m                    n\na\\nb\\tc\\r\\u{1b}[31m  1\n");
    }

    #[test]
    fn arrays_bools_and_missing_cells() {
        let t = table(&[r#"{"a":[1,"x"],"b":true}"#, r#"{"c":{"d":null}}"#], None);
        assert_eq!(t, "a        b     c.d\n[1,\"x\"]  true\n\n");
    }

    #[test]
    fn max_width_cuts_the_widest_columns_with_an_ellipsis() {
        let lines = [r#"{"id":1,"msg":"a fairly long message here","host":"web-01.example.com"}"#];
        assert_eq!(
            table(&lines, None),
            "id  msg                         host\n 1  a fairly long message here  web-01.example.com\n"
        );
        // natural 2+26+18 + 4 gaps = 50; in 30 the two text columns share 24 → 12 each
        let t = table(&lines, Some(30));
        assert_eq!(t, "id  msg           host\n 1  a fairly lo…  web-01.exam…\n");
        assert!(t.lines().all(|l| l.width() <= 30));
        // one spare column goes to the leftmost cut column
        assert_eq!(
            table(&lines, Some(31)),
            "id  msg            host\n 1  a fairly lon…  web-01.exam…\n"
        );
        assert_eq!(table(&lines, Some(50)), table(&lines, None));
    }

    #[test]
    fn max_width_cuts_wide_characters_whole() {
        let t = table(&[r#"{"a":"日本語テキスト","b":"x"}"#], Some(13));
        assert_eq!(t, "a           b\n日本語テ…   x\n");
        assert!(t.lines().all(|l| l.width() <= 13));
    }

    #[test]
    fn max_width_too_small_cuts_no_column_below_eight() {
        assert_eq!(table(&[r#"{"aa":"xx","bb":"yy"}"#], Some(3)), "aa  bb\nxx  yy\n");
        assert_eq!(
            table(&[r#"{"a":"abcdefghijk","b":"lmnopqrstuv"}"#], Some(3)),
            "a         b\nabcdefg…  lmnopqr…\n"
        );
    }

    #[test]
    fn no_columns_writes_nothing() {
        assert_eq!(table(&[], None), "");
        assert_eq!(table(&["{}"], Some(10)), "");
    }

    #[test]
    fn cut_keeps_combining_marks_with_their_base() {
        assert_eq!(cut("e\u{301}e\u{301}e\u{301}", 3), "e\u{301}e\u{301}e\u{301}");
        assert_eq!(cut("e\u{301}e\u{301}e\u{301}e", 3), "e\u{301}e\u{301}…");
        assert_eq!(cut("😀😀", 3), "😀…");
        assert_eq!(cut("abc", 0), "");
    }

    #[test]
    fn fit_shares_width_among_the_widest_columns() {
        assert_eq!(fit(&[5, 20, 30], None), [5, 20, 30]);
        assert_eq!(fit(&[5, 20, 30], Some(59)), [5, 20, 30]);
        assert_eq!(fit(&[5, 20, 30], Some(45)), [5, 18, 18]);
        assert_eq!(fit(&[5, 20, 30], Some(46)), [5, 19, 18]);
        // Never cut below 8 columns, which can still be read: then wider than asked.
        assert_eq!(fit(&[5, 20, 30], Some(4)), [5, 8, 8]);
        assert_eq!(fit(&[5, 20, 30], Some(25)), [5, 8, 8]);
        assert_eq!(fit(&[5, 20, 30], Some(26)), [5, 9, 8]);
        assert_eq!(fit(&[0, 0], Some(1)), [0, 0]);
    }

    #[test]
    fn with_a_zone_times_with_an_offset_show_in_it_and_other_cells_as_they_are() {
        let mut rows = Rows::new();
        rows.push(&serde_json::json!({"ts": "2026-03-29T10:00:00Z", "day": "2026-03-29", "n": 1}));
        let mut out = Vec::new();
        let look = Look {
            zone: Some(chrono_tz::Tz::Europe__Berlin),
            ..Look::default()
        };
        write_table(&rows, &mut out, None, look).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ts                         day         n\n2026-03-29T12:00:00+02:00  2026-03-29  1\n"
        );
    }
}
