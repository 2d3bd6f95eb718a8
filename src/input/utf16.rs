//! Text that starts with a UTF-16 byte order mark (what Windows PowerShell writes), read as
//! UTF-8 with `encoding_rs`, as ripgrep reads it. A lone surrogate or an odd last byte is not
//! replaced by U+FFFD, which would change the line without a word: it becomes the bytes
//! `ED A0 80`, or `ED BF BF` for a last code unit cut short (each a surrogate written as UTF-8
//! would be, which UTF-8 forbids), so that its line is an `invalid_utf8` dead letter that says
//! which, and the lines around it are read as they are.

use encoding_rs::{DecoderResult, UTF_16LE};
use std::io::{self, Read};

/// What a lone surrogate becomes: not UTF-8, so its line is a dead letter.
pub(crate) const LONE_SURROGATE: &[u8] = b"\xED\xA0\x80";

/// What a last code unit cut short (an odd last byte) becomes, likewise.
pub(crate) const CUT_UNIT: &[u8] = b"\xED\xBF\xBF";

/// How many bytes of input are decoded at a time.
const RAW: usize = 32 << 10;

pub(super) struct Utf16<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    raw: Vec<u8>,
    /// The part of `raw` not decoded yet.
    raw_at: usize,
    raw_end: usize,
    /// Decoded text not handed out yet.
    out: Vec<u8>,
    out_at: usize,
    /// The input has ended.
    ended: bool,
}

impl<R: Read> Utf16<R> {
    /// Reads `inner`, which starts with a UTF-16 byte order mark (little- or big-endian).
    pub(super) fn new(inner: R) -> Utf16<R> {
        Utf16 {
            inner,
            // Sniffs the mark, which picks the byte order, and drops it.
            decoder: UTF_16LE.new_decoder(),
            raw: vec![0; RAW],
            raw_at: 0,
            raw_end: 0,
            // A UTF-16 code unit is at most 3 bytes of UTF-8, a pair 4.
            out: Vec::with_capacity(2 * RAW + 16),
            out_at: 0,
            ended: false,
        }
    }

    /// Decodes the next buffer of input into `out`; false at the end of the text.
    fn decode_more(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.out_at = 0;
        while self.out.is_empty() {
            if self.raw_at == self.raw_end {
                if self.ended {
                    return Ok(false);
                }
                self.raw_end = read_some(&mut self.inner, &mut self.raw)?;
                self.raw_at = 0;
                self.ended = self.raw_end == 0;
            }
            self.decode_buffer();
        }
        Ok(true)
    }

    /// Decodes what is left of `raw`, marking each malformed sequence.
    fn decode_buffer(&mut self) {
        loop {
            let src = &self.raw[self.raw_at..self.raw_end];
            let at = self.out.len();
            let room = self
                .decoder
                .max_utf8_buffer_length_without_replacement(src.len())
                .unwrap_or(0);
            self.out.resize(at + room.max(4), 0);
            let (result, read, written) =
                self.decoder
                    .decode_to_utf8_without_replacement(src, &mut self.out[at..], self.ended);
            self.out.truncate(at + written);
            self.raw_at += read;
            match result {
                // One byte: a code unit the end of the input cut short.
                DecoderResult::Malformed(1, _) => self.out.extend_from_slice(CUT_UNIT),
                DecoderResult::Malformed(..) => self.out.extend_from_slice(LONE_SURROGATE),
                DecoderResult::OutputFull => {}
                DecoderResult::InputEmpty => return,
            }
        }
    }
}

impl<R: Read> Read for Utf16<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_at == self.out.len() && !self.decode_more()? {
            return Ok(0);
        }
        let n = buf.len().min(self.out.len() - self.out_at);
        buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
        self.out_at += n;
        Ok(n)
    }
}

/// Reads into `buf`, retrying when interrupted; 0 at the end of input.
fn read_some(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str) -> Vec<u8> {
        let mut b = vec![0xff, 0xfe];
        b.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        b
    }

    fn read_all(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Utf16::new(bytes).read_to_end(&mut out).expect("in memory");
        out
    }

    #[test]
    fn either_byte_order_reads_as_utf8_without_the_mark() {
        assert_eq!(
            read_all(&utf16le("{\"a\":\"é😀\"}\r\n{}\n")),
            "{\"a\":\"é😀\"}\r\n{}\n".as_bytes()
        );
        let mut be = vec![0xfe, 0xff];
        be.extend("x\ny".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(read_all(&be), b"x\ny");
        assert_eq!(read_all(b"\xff\xfe"), b"");
        assert_eq!(read_all(b"\xfe\xff"), b"");
    }

    #[test]
    fn a_lone_surrogate_or_an_odd_last_byte_is_not_utf8() {
        // "a", a lone high surrogate, "\n", "b".
        let bytes = [0xff, 0xfe, b'a', 0, 0x00, 0xd8, b'\n', 0, b'b', 0];
        let out = read_all(&bytes);
        assert!(std::str::from_utf8(&out).is_err(), "{out:?}");
        let lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
        assert_eq!(lines.len(), 2, "{out:?}");
        assert_eq!(lines[0], [b"a", LONE_SURROGATE].concat(), "{out:?}");
        assert_eq!(lines[1], b"b");
        let mut odd = utf16le("ok\n");
        odd.push(b'x');
        assert_eq!(read_all(&odd), [b"ok\n", CUT_UNIT].concat());
        // A lone surrogate that is the input's last unit is no cut unit.
        assert_eq!(
            read_all(&[0xff, 0xfe, b'a', 0, 0x00, 0xd8]),
            [b"a", LONE_SURROGATE].concat()
        );
    }

    #[test]
    fn text_longer_than_one_buffer_reads_whole() {
        let text: String = (0..20_000).map(|i| format!("{{\"n\":{i},\"s\":\"ü\"}}\n")).collect();
        assert_eq!(read_all(&utf16le(&text)), text.as_bytes());
    }
}
