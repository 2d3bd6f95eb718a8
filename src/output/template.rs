//! `--format TEMPLATE`: one line of text per event from a template with `{EXPR}` placeholders,
//! parsed by the parser of `to` templates (so `{{`, `}}` and `{level | upper}` read the same).
//! Unlike a file name, the text is not made safe: a value is written as `to_text` gives it
//! (strings as themselves, other values as compact JSON), and a missing or null value as nothing,
//! except that a line end in a value is written `\n` or `\r`, so one event stays one line.

use crate::event::{Event, Needs};
use crate::lang::ast::TemplatePart;
use crate::lang::{Env, LangError, Val};

#[derive(Debug, Clone)]
pub(crate) struct TextTemplate {
    parts: Vec<TemplatePart>,
}

impl TextTemplate {
    pub(crate) fn parse(text: &str) -> Result<TextTemplate, LangError> {
        let t = crate::lang::parse_template(text)?;
        Ok(TextTemplate { parts: t.parts })
    }

    /// The fields the template reads, so that events are parsed that far.
    pub(crate) fn needs(&self, n: &mut Needs) {
        for part in &self.parts {
            if let TemplatePart::Expr(e) = part {
                e.visit_paths(&mut |p| n.add_path(p));
            }
        }
    }

    /// Appends the event's line, without a newline.
    pub(crate) fn render(&self, ev: &Event, env: &Env, out: &mut Vec<u8>) {
        for part in &self.parts {
            match part {
                TemplatePart::Lit(s) => out.extend_from_slice(s.as_bytes()),
                TemplatePart::Expr(e) => match e.eval(ev, env) {
                    Val::Null => {}
                    v => push_on_one_line(&v.to_text(), out),
                },
            }
        }
    }
}

/// Appends `text` with its line ends escaped, so that a value cannot start a line of its own.
fn push_on_one_line(text: &str, out: &mut Vec<u8>) {
    for &b in text.as_bytes() {
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Origin;

    fn render(template: &str, line: &str) -> String {
        let t = TextTemplate::parse(template).unwrap();
        let mut needs = Needs::default();
        t.needs(&mut needs);
        let ev = Event::parse(line, Origin::default(), &needs).unwrap();
        let mut out = Vec::new();
        t.render(&ev, &Env::default(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn placeholders_render_values_and_filters_apply_functions() {
        let line = r#"{"ts":"2026-11-01T00:00:00Z","level":"warn","msg":"disk / full","n":1.50,"u":{"id":7}}"#;
        assert_eq!(
            render("{ts} {level|upper} {msg} n={n} id={u.id} {{x}}", line),
            "2026-11-01T00:00:00Z WARN disk / full n=1.50 id=7 {x}"
        );
        assert_eq!(render("{msg | upper | len}", line), "11");
        assert_eq!(render("{ts | strftime(\"%H:%M\")}", line), "00:00");
        assert_eq!(render("{msg | substr(0, 4)}", line), "disk");
    }

    #[test]
    fn missing_and_null_fields_render_empty_and_objects_as_json() {
        assert_eq!(
            render("[{nope}][{z}][{u}]", r#"{"z":null,"u":{"a":[1,"x"]}}"#),
            r#"[][][{"a":[1,"x"]}]"#
        );
    }

    #[test]
    fn a_line_end_in_a_value_is_escaped_so_each_event_stays_one_line() {
        assert_eq!(
            render("{a}|{b}", r#"{"a":"x\ny\r\nz","b":"t\tu"}"#),
            "x\\ny\\r\\nz|t\tu"
        );
    }

    #[test]
    fn bad_templates_are_errors() {
        for bad in [
            "{level",
            "level}",
            "{level | nosuch}",
            "{level | }",
            "{a b}",
            "{x | upper(1)}",
        ] {
            assert!(TextTemplate::parse(bad).is_err(), "{bad}");
        }
    }
}
