//! The decode-time check's fast path: one pass over a line's bytes that validates it and
//! keeps the wanted top-level fields, for the plain lines that make up nearly every
//! input. It says `None` for anything it does not decide alone — a line that is not
//! valid, or is valid in an unusual way (a key with escapes, nesting past `MAX_DEPTH`,
//! `serde_json`'s private number key) — and the caller then runs the `serde_json` path,
//! which gives the message. What it accepts, `serde_json` accepts, with the same fields.
//! The same pass can report the objects' structure to a [`Shape`] (see [`super::tape`]).

use super::{Captured, MAX_DEPTH, NUMBER_TOKEN, lone_surrogate, unquote};
use std::borrow::Cow;
use std::ops::Range;

/// What a scan reports of the objects it walks through outside arrays: each one's start
/// and end, and each other value, each with its key. `()` takes nothing.
pub(super) trait Shape {
    /// An object starts, under `key`.
    fn object(&mut self, key: Key);
    /// The object started last ends.
    fn end(&mut self);
    /// A value other than an object, at `value` in the text, under `key`.
    fn value(&mut self, key: Key, value: Range<usize>);
}

impl Shape for () {
    fn object(&mut self, _: Key) {}
    fn end(&mut self) {}
    fn value(&mut self, _: Key, _: Range<usize>) {}
}

/// A member's key as a place in the text: its string token, quotes included, and whether
/// it has escapes; empty for a value that is no member.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Key {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) escaped: bool,
}

/// The wanted fields of `text` when it is plainly valid JSON, else `None`.
pub(super) fn capture<'a>(text: &'a str, want: &[Box<str>], one: Option<&str>, all: bool) -> Option<Captured<'a>> {
    capture_shaped(text, want, one, all, &mut ())
}

/// [`capture`], reporting the structure to `shape` on the way.
pub(super) fn capture_shaped<'a, S: Shape>(
    text: &'a str,
    want: &[Box<str>],
    one: Option<&str>,
    all: bool,
    shape: &mut S,
) -> Option<Captured<'a>> {
    let mut s = Scan {
        text,
        b: text.as_bytes(),
        i: 0,
        depth: 0,
        escaped_unicode: false,
    };
    s.space();
    let captured = if s.peek() == Some(b'{') {
        s.top_object(shape, |key| all || one == Some(key) || want.iter().any(|w| **w == *key))?
    } else {
        s.value(shape, Key::default())?;
        Captured {
            fields: Vec::new(),
            object: false,
        }
    };
    s.space();
    let whole = s.i == s.b.len();
    (whole && !(s.escaped_unicode && lone_surrogate(text).is_some())).then_some(captured)
}

struct Scan<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    depth: usize,
    /// A `\u` escape was met: lone surrogates are looked for at the end.
    escaped_unicode: bool,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.i += 1)
    }

    /// The top-level object, keeping the raw values of the keys `wanted` picks.
    fn top_object<S: Shape>(&mut self, shape: &mut S, wanted: impl Fn(&str) -> bool) -> Option<Captured<'a>> {
        let mut fields = Vec::new();
        self.object(shape, Key::default(), |s, key, value| {
            let token = s.text.get(key.start..key.end)?;
            let name = if key.escaped {
                unquote(token)
            } else {
                Cow::Borrowed(token.get(1..token.len() - 1)?)
            };
            if name == NUMBER_TOKEN {
                return None;
            }
            if wanted(&name) {
                fields.push((name, s.text.get(value)?));
            }
            Some(())
        })?;
        Some(Captured { fields, object: true })
    }

    /// An object from its opening brace past its closing one, under `key`; `member` takes
    /// each member's key and value once the value is scanned.
    fn object<S: Shape>(
        &mut self,
        shape: &mut S,
        key: Key,
        mut member: impl FnMut(&Self, Key, Range<usize>) -> Option<()>,
    ) -> Option<()> {
        shape.object(key);
        self.open()?;
        if self.eat(b'}').is_none() {
            loop {
                let start = self.i;
                let escaped = self.string()?;
                let key = Key {
                    start,
                    end: self.i,
                    escaped,
                };
                self.space();
                self.eat(b':')?;
                self.space();
                let value = self.i;
                self.value(shape, key)?;
                member(self, key, value..self.i)?;
                if !self.next_member(b'}')? {
                    break;
                }
            }
        }
        self.depth -= 1;
        shape.end();
        Some(())
    }

    /// Enters an object or array past its opening bracket.
    fn open(&mut self) -> Option<()> {
        self.i += 1;
        self.depth += 1;
        self.space();
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// After a member or element: true past a comma, false past the closing `close`.
    fn next_member(&mut self, close: u8) -> Option<bool> {
        self.space();
        match self.peek()? {
            b',' => {
                self.i += 1;
                self.space();
                Some(true)
            }
            b if b == close => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// A value under `key`; an array's elements are reported to no shape.
    fn value<S: Shape>(&mut self, shape: &mut S, key: Key) -> Option<()> {
        let start = self.i;
        match self.peek()? {
            b'{' => return self.object(shape, key, |_, _, _| Some(())),
            b'[' => {
                self.open()?;
                if self.eat(b']').is_none() {
                    loop {
                        self.value(&mut (), Key::default())?;
                        if !self.next_member(b']')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
            }
            b'"' => {
                self.string()?;
            }
            b't' => self.word(b"true")?,
            b'f' => self.word(b"false")?,
            b'n' => self.word(b"null")?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return None,
        }
        shape.value(key, start..self.i);
        Some(())
    }

    fn word(&mut self, w: &[u8]) -> Option<()> {
        self.b[self.i..].starts_with(w).then(|| self.i += w.len())
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<()> {
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.eat(b'.').is_some() {
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }

    /// A string from its opening quote past its closing one; true if it had escapes.
    fn string(&mut self) -> Option<bool> {
        self.eat(b'"')?;
        let mut escapes = false;
        loop {
            self.i += special(&self.b[self.i..])?;
            match self.b[self.i] {
                b'"' => {
                    self.i += 1;
                    return Some(escapes);
                }
                b'\\' => {
                    escapes = true;
                    self.escape()?;
                }
                _ => return None,
            }
        }
    }

    /// One escape, from its backslash.
    fn escape(&mut self) -> Option<()> {
        match *self.b.get(self.i + 1)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
            b'u' => {
                let hex = self.b.get(self.i + 2..self.i + 6)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                self.escaped_unicode = true;
                self.i += 6;
            }
            _ => return None,
        }
        Some(())
    }
}

/// Where the first quote, backslash or control character of `b` is, eight bytes at a time.
pub(super) fn special(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while let Some(chunk) = b.get(at..at + 8) {
        let v = u64::from_le_bytes(chunk.try_into().ok()?);
        let quote = v ^ (ONES * u64::from(b'"'));
        let backslash = v ^ (ONES * u64::from(b'\\'));
        // A byte is flagged when it is zero (for the XORs) or below 0x20; borrows can only
        // flag bytes above a flagged one, so the lowest flag is exact.
        let found = (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | v.wrapping_sub(ONES * 0x20) & !v)
            & HIGH;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    b[at..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| at + p)
}
