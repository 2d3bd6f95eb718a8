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

/// Counts the raw bytes read, for the progress bar.
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

/// Opens an input as a stream of decompressed bytes.
pub(crate) fn open(input: &Input, raw_bytes: Arc<AtomicU64>) -> io::Result<Box<dyn Read + Send>> {
    let inner: Box<dyn Read + Send> = match &input.source {
        Source::Stdin => Box::new(io::stdin()),
        Source::File(p) => Box::new(File::open(p)?),
        Source::Nats(_) => return Err(io::Error::other("a nats:// input is read by a consumer, not opened")),
    };
    let mut r = BufReader::with_capacity(
        256 << 10,
        Counting {
            inner,
            count: raw_bytes,
        },
    );
    let kind = loop {
        match r.fill_buf() {
            Ok(head) => break detect(head),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    Ok(match kind {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(r)),
        Compression::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(r)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
