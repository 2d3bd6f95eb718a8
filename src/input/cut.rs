//! Inputs that a read error cuts short (a damaged or truncated archive, a failing disk). Every
//! line before the damage is read; the line the error cut short is a dead letter, reason
//! `truncated`, whatever it holds (`166` of `166594` is valid JSON, and not the line); then
//! the error is reported. The line framer does this itself (see `reader::Reader::finish`);
//! a decoded input (`-i json`, csv, tsv, zeek) gets it here: its reader ends at the error
//! instead of failing, so the decoder gives the records it holds, and [`CutShort`] marks the
//! last of them when the bytes before the error did not end a line.

use super::InputError;
use super::convert::{Record, Records};
use crate::event::{Reason, Rejection};
use crate::messages;
use std::io::{self, Read};
use std::sync::{Arc, Mutex, PoisonError};

/// Why a line the input ended in, by read error `e`, is a dead letter.
pub(crate) fn cut_off(e: &io::Error) -> Rejection {
    Rejection::new(
        Reason::Truncated,
        format!("the input ended inside this line: {}", messages::io(e)),
    )
}

/// [`cut_off`], for an input error (whose message would name the input again).
pub(crate) fn cut_off_by(e: &InputError) -> Rejection {
    match e {
        InputError::Read { source, .. } | InputError::Corrupt { source, .. } | InputError::Open { source, .. } => {
            cut_off(source)
        }
        #[cfg(feature = "nats")]
        InputError::Source(_) => cut_off(&io::ErrorKind::UnexpectedEof.into()),
    }
}

/// How a reader ended: its read error, and the last byte it gave before.
#[derive(Debug, Default)]
struct Ending {
    error: Option<io::Error>,
    last: Option<u8>,
}

/// A reader that ends at its first read error, keeping the error in `ending`.
struct EndsAtError {
    inner: Box<dyn Read + Send>,
    ending: Arc<Mutex<Ending>>,
    failed: bool,
}

impl Read for EndsAtError {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Ok(0);
        }
        let mut ending = self.ending.lock().unwrap_or_else(PoisonError::into_inner);
        match self.inner.read(buf) {
            Ok(n) => {
                if n > 0 {
                    ending.last = Some(buf[n - 1]);
                }
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.failed = true;
                ending.error = Some(e);
                Ok(0)
            }
        }
    }
}

/// A decoder's records over a reader that ends at its read error: the record that the error
/// cut short is rejected (`truncated`), and the error comes after the last record.
pub(crate) struct CutShort {
    records: Box<dyn Records>,
    ending: Arc<Mutex<Ending>>,
    /// After the error, the record given last, held until it is known whether it is the
    /// last one.
    held: Option<Record>,
}

impl CutShort {
    /// `r` as a reader for a decoder, and what makes the decoder's records (from `decode`)
    /// end as a cut input should.
    pub(crate) fn new(
        r: Box<dyn Read + Send>,
        decode: impl FnOnce(Box<dyn Read + Send>) -> Box<dyn Records>,
    ) -> CutShort {
        let ending = Arc::new(Mutex::new(Ending::default()));
        let reader = EndsAtError {
            inner: r,
            ending: ending.clone(),
            failed: false,
        };
        CutShort {
            records: decode(Box::new(reader)),
            ending,
            held: None,
        }
    }
}

impl Records for CutShort {
    fn next_record(&mut self) -> io::Result<Option<Record>> {
        loop {
            let next = self.records.next_record();
            let mut ending = self.ending.lock().unwrap_or_else(PoisonError::into_inner);
            if ending.error.is_none() {
                return next;
            }
            if let Ok(Some(r)) = next {
                // Any record may be the last: it is given once the next one is decoded.
                match self.held.replace(r) {
                    Some(earlier) => return Ok(Some(earlier)),
                    None => continue,
                }
            }
            let cut = ending.last.is_some_and(|b| b != b'\n');
            let error = ending.error.take();
            drop(ending);
            if let Some(mut last) = self.held.take() {
                if cut {
                    let len = last.rejected.take().map_or(last.text.len() as u64, |(len, _)| len);
                    let why = cut_off(error.as_ref().unwrap_or(&io::ErrorKind::UnexpectedEof.into()));
                    last.rejected = Some((len, why));
                }
                // The error is reported after the record.
                self.ending.lock().unwrap_or_else(PoisonError::into_inner).error = error;
                return Ok(Some(last));
            }
            return match (next, error) {
                (Err(e), _) | (Ok(_), Some(e)) => Err(e),
                (Ok(_), None) => Ok(None),
            };
        }
    }

    fn buffered(&self) -> bool {
        self.held.is_some() || self.records.buffered()
    }
}

#[cfg(test)]
mod tests {
    use super::super::InputFormat;
    use super::super::convert::{Decoder, decoder};
    use super::*;

    /// `text`, then a read error.
    fn failing(text: &'static [u8]) -> Box<dyn Read + Send> {
        Box::new(text.chain(Failing))
    }

    struct Failing;

    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("damaged"))
        }
    }

    /// The records of `r` as (text, reason), leaving out the empty one that holds the header's
    /// line, then whether the read error came last.
    fn records(format: InputFormat, r: Box<dyn Read + Send>) -> (Vec<(String, Option<Reason>)>, bool) {
        let Decoder::Records(mut records) = decoder(format, r, 1 << 20) else {
            panic!("{format:?} is decoded into records");
        };
        let mut got = Vec::new();
        loop {
            match records.next_record() {
                Ok(Some(r)) if r.text.is_empty() => {}
                Ok(Some(r)) => got.push((
                    String::from_utf8_lossy(&r.text).into_owned(),
                    r.rejected.map(|(_, w)| w.reason),
                )),
                Ok(None) => return (got, false),
                Err(e) => return (got, e.to_string() == "damaged"),
            }
        }
    }

    #[test]
    fn the_record_a_read_error_cuts_short_is_truncated_and_the_error_comes_after_it() {
        let (got, failed) = records(InputFormat::Csv, failing(b"a,b\n1,2\n3,4"));
        assert!(failed);
        assert_eq!(
            got,
            [
                ("{\"a\":1,\"b\":2}".to_string(), None),
                ("{\"a\":3,\"b\":4}".to_string(), Some(Reason::Truncated)),
            ]
        );
        let (got, failed) = records(InputFormat::Json, failing(b"{\"a\":1}\n{\"a\":"));
        assert!(failed);
        assert_eq!(got.last().map(|g| g.1), Some(Some(Reason::Truncated)));
    }

    #[test]
    fn an_error_right_after_a_line_end_cuts_no_record() {
        let (got, failed) = records(InputFormat::Csv, failing(b"a,b\n1,2\n3,4\n"));
        assert!(failed);
        assert!(got.iter().all(|g| g.1.is_none()), "{got:?}");
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn without_an_error_records_end_as_they_do() {
        let (got, failed) = records(InputFormat::Csv, Box::new(&b"a,b\n1,2\n3,4"[..]));
        assert!(!failed);
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|g| g.1.is_none()));
    }
}
