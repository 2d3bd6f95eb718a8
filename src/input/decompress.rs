//! Opens an input and picks a decompressor from its magic bytes, not its name.

use super::{Input, Source};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

/// The compression of an input that starts with `head`: gzip; zstd, also behind a skippable
/// frame (as pzstd writes); bzip2, whose `BZh` and block size must be followed by a block's or
/// the stream end's magic, so that text starting with `BZh` stays text; xz.
pub(crate) fn detect(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) || is_skippable_frame(head) {
        Compression::Zstd
    } else if is_bzip2(head) {
        Compression::Bzip2
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Compression::Xz
    } else {
        Compression::None
    }
}

/// A zstd skippable frame's magic: 0x184D2A50 to 0x184D2A5F, little-endian.
fn is_skippable_frame(head: &[u8]) -> bool {
    matches!(head, [0x50..=0x5f, 0x2a, 0x4d, 0x18, ..])
}

/// `BZh`, a block size `1` to `9`, then the magic of a block (pi) or of the end (sqrt pi).
fn is_bzip2(head: &[u8]) -> bool {
    const BLOCK: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
    const END: [u8; 6] = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
    let [b'B', b'Z', b'h', b'1'..=b'9', rest @ ..] = head else {
        return false;
    };
    rest.starts_with(&BLOCK) || rest.starts_with(&END)
}

/// `r`, counting the bytes read from it into `count`.
pub(crate) fn counted(r: Box<dyn Read + Send>, count: Arc<AtomicU64>) -> Box<dyn Read + Send> {
    Box::new(Counting { inner: r, count })
}

/// Counts the bytes read: the raw ones, for the progress bar, or a decoder's.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A file read to its end, which it must not lose on the way: a file cut shorter while it is
/// read (a log rotated with `copytruncate`) ends in a read error, so that the line it was cut
/// in is a `truncated` dead letter and the run says the input is incomplete, not a quiet end.
struct WholeFile {
    file: File,
    read: u64,
    /// Its size when opened: a file cut only after that much was read lost nothing.
    opened: u64,
}

impl WholeFile {
    fn new(file: File) -> WholeFile {
        let opened = file.metadata().map_or(0, |m| m.len());
        WholeFile { file, read: 0, opened }
    }
}

impl Read for WholeFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        if n == 0 && !buf.is_empty() {
            let meta = self.file.metadata()?;
            if meta.is_file() && meta.len() < self.read && self.read < self.opened {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the file shrank to {} bytes while being read (as copytruncate does to a rotated log); reading stopped",
                        meta.len()
                    ),
                ));
            }
        }
        Ok(n)
    }
}

/// The members of a gzip file, one after another, as GNU gzip reads them: zero bytes after
/// the last member (tape or block padding) end the input, and other bytes there are an error
/// that says what they are, not an "unexpected end of file".
struct GzMembers<R: BufRead> {
    member: Option<flate2::bufread::GzDecoder<R>>,
    /// Zero bytes followed the last member.
    padded: bool,
}

impl<R: BufRead> GzMembers<R> {
    fn new(r: R) -> GzMembers<R> {
        GzMembers {
            member: Some(flate2::bufread::GzDecoder::new(r)),
            padded: false,
        }
    }
}

impl<R: BufRead> Read for GzMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(member) = self.member.as_mut() else {
                return Ok(0);
            };
            let n = member.read(buf).map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => io::Error::new(e.kind(), "the gzip stream is cut short"),
                _ => e,
            })?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let Some(member) = self.member.take() else { return Ok(0) };
            let mut rest = member.into_inner();
            let head = rest.fill_buf()?;
            if head.is_empty() {
                return Ok(0);
            }
            if !head.starts_with(&[0x1f, 0x8b]) {
                self.padded = true;
                return after_last_member(rest).map(|()| 0);
            }
            self.member = Some(flate2::bufread::GzDecoder::new(rest));
        }
    }
}

/// Reads what follows a gzip file's last member: only zero bytes may.
fn after_last_member(mut rest: impl BufRead) -> io::Result<()> {
    loop {
        let bytes = rest.fill_buf()?;
        if bytes.is_empty() {
            return Ok(());
        }
        if bytes.iter().any(|&b| b != 0) {
            // Not `InvalidData`: the members before were whole, their checksums checked.
            return Err(io::Error::other(
                "bytes that are not gzip data follow the last gzip member",
            ));
        }
        let n = bytes.len();
        rest.consume(n);
    }
}

/// The last byte a whole gzip (with `zstd`: zstd) stream read from `r` decompresses to,
/// `None` when it holds none; an error when the stream is damaged, cut short or not one, or
/// (gzip) ends in zero bytes of padding, after which a member added would not be read.
pub(crate) fn last_byte(r: impl BufRead, zstd: bool) -> io::Result<Option<u8>> {
    if zstd {
        return last_byte_of(&mut zstd_decoder(r, 0)?);
    }
    let mut members = GzMembers::new(r);
    let last = last_byte_of(&mut members)?;
    match members.padded {
        true => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "zero bytes of padding follow the last gzip member, and a member added after them would not be read",
        )),
        false => Ok(last),
    }
}

/// The last byte `stream` reads.
fn last_byte_of(stream: &mut impl Read) -> io::Result<Option<u8>> {
    let (mut buf, mut last) = (vec![0; 64 << 10], None);
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(last),
            Ok(n) => last = buf.get(n - 1).copied(),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Opens an input as a stream of decompressed bytes; a decompressor may hold `memory` bytes
/// of history (`--memory-limit`), which a zstd frame made with `zstd --long` needs.
pub(crate) fn open(input: &Input, raw_bytes: Arc<AtomicU64>, memory: usize) -> io::Result<Box<dyn Read + Send>> {
    let inner: Box<dyn Read + Send> = match &input.source {
        Source::Stdin => Box::new(io::stdin()),
        Source::File(p) => Box::new(WholeFile::new(File::open(p)?)),
        Source::Nats(_) => return Err(io::Error::other("a nats:// input is read by a consumer, not opened")),
    };
    let mut r = BufReader::with_capacity(
        256 << 10,
        Counting {
            inner,
            count: raw_bytes,
        },
    );
    let (kind, text) = loop {
        match r.fill_buf() {
            Ok(head) => break (detect(head), text_of(head)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    let decoded: Box<dyn Read + Send> = match kind {
        // Its first bytes were read already: a terminal's Ctrl-D is read once, not waited for again.
        Compression::None => return Ok(as_text(r, text)),
        Compression::Gzip => Box::new(Capped(GzMembers::new(r))),
        Compression::Zstd => Box::new(Capped(zstd_decoder(r, memory)?)),
        Compression::Bzip2 => Box::new(Capped(bzip2::bufread::MultiBzDecoder::new(r))),
        Compression::Xz => Box::new(Xz::new(r)?),
    };
    as_text_lines(decoded)
}

/// How a decompressed input's text is read, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Text {
    /// UTF-8 (or bytes that are not text), lines ending in LF or CRLF: read as it is.
    Plain,
    /// It starts with a UTF-16 byte order mark, as Windows PowerShell writes files.
    Utf16,
    /// Its lines end in a lone CR, as classic Mac OS and Excel's "Macintosh" CSV do: its first
    /// bytes hold CRs and no LF.
    CrLines,
}

/// Whether text starts with a UTF-16 byte order mark, little- or big-endian.
pub(super) fn is_utf16(head: &[u8]) -> bool {
    head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff])
}

fn text_of(head: &[u8]) -> Text {
    if is_utf16(head) {
        return Text::Utf16;
    }
    // Lone CRs in text with LF line ends (a terminal's progress lines) stay as they are.
    match memchr::memchr(b'\n', head) {
        None if memchr::memchr(b'\r', head).is_some() => Text::CrLines,
        _ => Text::Plain,
    }
}

/// Text that starts with a UTF-16 byte order mark as UTF-8, as ripgrep reads it (line offsets
/// then count the UTF-8 text), and text whose lines end in a lone CR with LF line ends
/// (offsets unchanged), so that every input format reads their lines; other text as it is.
fn as_text_lines(decoded: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
    let mut r = BufReader::with_capacity(64 << 10, decoded);
    let text = loop {
        match r.fill_buf() {
            Ok(head) => break text_of(head),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    Ok(as_text(r, text))
}

/// `r`, whose text is `text`, read as UTF-8 lines ending in LF or CRLF.
fn as_text<R: Read + Send + 'static>(r: R, text: Text) -> Box<dyn Read + Send> {
    match text {
        Text::Plain => Box::new(r),
        Text::Utf16 => Box::new(super::utf16::Utf16::new(r)),
        Text::CrLines => Box::new(CrLines {
            inner: r,
            after_cr: false,
        }),
    }
}

/// Lines ending in a lone CR read as lines ending in LF; a CRLF stays one line end.
struct CrLines<R> {
    inner: R,
    /// The last byte read was a CR, now an LF: an LF right after it belongs to that line end.
    after_cr: bool,
}

impl<R: Read> Read for CrLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut n = self.inner.read(buf)?;
            if n > 0 && std::mem::take(&mut self.after_cr) && buf[0] == b'\n' {
                buf.copy_within(1..n, 0);
                n -= 1;
                if n == 0 {
                    continue;
                }
            }
            let got = &mut buf[..n];
            self.after_cr = got.last() == Some(&b'\r');
            for i in memchr::memchr_iter(b'\r', got).collect::<Vec<_>>() {
                if got.get(i + 1) != Some(&b'\n') {
                    got[i] = b'\n';
                }
            }
            return Ok(n);
        }
    }
}

/// How much one read asks of a decompressor. A decompressor that meets damaged data fails
/// the whole read, and what it made of the good data before the damage in that read is
/// lost: reads as small as the tools' own (`zstd -dc` writes 128 KiB at a time) lose no more
/// than they do.
const DECODED_PER_READ: usize = 64 << 10;

/// A zstd decoder that takes frames whose window is up to `memory` bytes, and at least zstd's
/// own default of 128 MiB; a larger window is an error that says how to read it.
fn zstd_decoder<R: BufRead>(r: R, memory: usize) -> io::Result<ZstdWindow<zstd::stream::read::Decoder<'static, R>>> {
    const DEFAULT_WINDOW_LOG: u32 = 27;
    const MAX_WINDOW_LOG: u32 = 31;
    let mut decoder = zstd::stream::read::Decoder::with_buffer(r)?;
    let log = memory.checked_ilog2().unwrap_or(0);
    decoder.window_log_max(log.clamp(DEFAULT_WINDOW_LOG, MAX_WINDOW_LOG))?;
    Ok(ZstdWindow(decoder))
}

/// A zstd decoder whose errors say what they mean: a window past its limit, what to do; bytes
/// that start no frame, where they are.
struct ZstdWindow<R>(R);

impl<R: Read> Read for ZstdWindow<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.to_string().contains("Frame requires too much memory") {
                let why = format!("{e}: its window (zstd --long) is larger than --memory-limit; raise it");
                return io::Error::new(e.kind(), why);
            }
            if e.to_string().contains("Unknown frame descriptor") {
                return io::Error::new(e.kind(), "bytes that are not zstd data follow a zstd frame");
            }
            e
        })
    }
}

/// A decompressor read at most [`DECODED_PER_READ`] bytes at a time.
struct Capped<R>(R);

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(DECODED_PER_READ);
        self.0.read(&mut buf[..n])
    }
}

/// xz streams, one after another, decoded so that damage loses nothing before it: a read
/// that meets it returns what it decoded first, and the next read the error.
struct Xz<R> {
    r: R,
    stream: liblzma::stream::Stream,
    failed: Option<io::Error>,
}

impl<R: BufRead> Xz<R> {
    fn new(r: R) -> io::Result<Xz<R>> {
        let stream = liblzma::stream::Stream::new_stream_decoder(u64::MAX, liblzma::stream::CONCATENATED)?;
        Ok(Xz {
            r,
            stream,
            failed: None,
        })
    }
}

impl<R: BufRead> Read for Xz<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use liblzma::stream::{Action, Status};
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.r.fill_buf()?;
            let eof = input.is_empty();
            let (was_in, was_out) = (self.stream.total_in(), self.stream.total_out());
            let action = if eof { Action::Finish } else { Action::Run };
            let status = self.stream.process(input, buf, action);
            let read = usize::try_from(self.stream.total_out() - was_out).unwrap_or(0);
            let consumed = usize::try_from(self.stream.total_in() - was_in).unwrap_or(0);
            self.r.consume(consumed);
            match status {
                Err(e) if read > 0 => {
                    self.failed = Some(e.into());
                    return Ok(read);
                }
                Err(e) => return Err(e.into()),
                Ok(Status::StreamEnd) => return Ok(read),
                Ok(_) if read > 0 => return Ok(read),
                Ok(_) if eof => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the xz stream is cut short, or bytes that are not xz data follow it",
                    ));
                }
                Ok(_) if consumed == 0 => {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "corrupt xz stream"));
                }
                Ok(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_cut_shorter_while_it_is_read_ends_in_an_error_not_a_quiet_end() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("rotated.log");
        std::fs::write(&path, "a\n".repeat(1000)).unwrap();
        let mut r = WholeFile::new(File::open(&path).unwrap());
        let mut head = [0; 100];
        r.read_exact(&mut head).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(50)
            .unwrap();
        let e = r.read_to_end(&mut Vec::new()).expect_err("cut short");
        assert!(
            e.to_string()
                .starts_with("the file shrank to 50 bytes while being read"),
            "{e}"
        );
        // A file read to its end as it is ends quietly.
        let mut whole = Vec::new();
        WholeFile::new(File::open(&path).unwrap())
            .read_to_end(&mut whole)
            .unwrap();
        assert_eq!(whole.len(), 50);
        // A file cut after it was read whole lost nothing: it ends quietly.
        let mut r = WholeFile::new(File::open(&path).unwrap());
        r.read_to_end(&mut Vec::new()).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(10)
            .unwrap();
        assert_eq!(r.read(&mut [0; 8]).unwrap(), 0);
    }

    #[test]
    fn a_zstd_frame_with_a_long_window_reads_within_the_memory_limit_and_says_how_otherwise() {
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        e.set_parameter(zstd::zstd_safe::CParameter::WindowLog(29)).unwrap();
        std::io::Write::write_all(&mut e, b"{\"a\":1}\n").unwrap();
        let frame = e.finish().unwrap();
        let read = |memory| {
            let mut text = String::new();
            zstd_decoder(io::Cursor::new(&frame), memory)?.read_to_string(&mut text)?;
            Ok::<_, io::Error>(text)
        };
        assert_eq!(read(1 << 30).unwrap(), "{\"a\":1}\n");
        let e = read(128 << 20).unwrap_err().to_string();
        assert!(e.contains("larger than --memory-limit; raise it"), "{e}");
    }

    fn gzip(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut e, text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    fn gunzip(bytes: Vec<u8>) -> io::Result<String> {
        let mut out = String::new();
        let r = BufReader::with_capacity(7, io::Cursor::new(bytes));
        GzMembers::new(r).read_to_string(&mut out)?;
        Ok(out)
    }

    /// Members are read one after another; zero padding after the last ends the input, as
    /// GNU gzip reads it; other bytes there are an error that says so.
    #[test]
    fn gzip_members_then_zero_padding_or_garbage() {
        let mut two = gzip("a\n");
        two.extend(gzip("b\n"));
        assert_eq!(gunzip(two.clone()).unwrap(), "a\nb\n");
        let mut padded = two.clone();
        padded.extend([0; 4000]);
        assert_eq!(gunzip(padded).unwrap(), "a\nb\n");
        let mut garbage = two;
        garbage.extend(b"\0\0junk");
        let e = gunzip(garbage).unwrap_err();
        assert!(e.to_string().contains("not gzip data"), "{e}");
    }

    /// Lone CRs end lines as LFs do, also when a CRLF is split between reads; offsets stay.
    #[test]
    fn lines_ending_in_a_lone_cr_are_read_as_lines() {
        /// Reads of `cap` bytes at most, so that a CRLF falls between two of them.
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.1.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        assert_eq!(text_of(b"a,b\r1,2\r"), Text::CrLines);
        assert_eq!(text_of(b"a,b\r\n1,2\r"), Text::Plain);
        assert_eq!(text_of(b"get 10%\rget 20%\rdone\n"), Text::Plain, "progress lines");
        assert_eq!(text_of(b"\xff\xfea\x00"), Text::Utf16);
        for cap in [1, 2, 3, 64] {
            let mut out = Vec::new();
            let inner = Trickle(b"a\rb\r\rc\r\nd\r", cap);
            CrLines { inner, after_cr: false }.read_to_end(&mut out).unwrap();
            let text = String::from_utf8(out).unwrap().replace("\r\n", "\n");
            assert_eq!(text, "a\nb\n\nc\nd\n", "reads of {cap} bytes");
        }
    }

    #[test]
    fn magic_bytes() {
        assert_eq!(detect(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(detect(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Compression::Zstd);
        assert_eq!(detect(b"BZh91AY&SY\x01"), Compression::Bzip2);
        assert_eq!(detect(b"BZh9\x17rE8P\x90"), Compression::Bzip2, "an empty stream");
        assert_eq!(detect(b"BZh9 is fine\n"), Compression::None);
        assert_eq!(
            detect(&[0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0]),
            Compression::Zstd,
            "pzstd"
        );
        assert_eq!(detect(&[0xfd, b'7', b'z', b'X', b'Z', 0]), Compression::Xz);
        assert_eq!(detect(b"{\"a\":1}"), Compression::None);
        assert_eq!(detect(b""), Compression::None);
    }
}
