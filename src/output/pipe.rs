//! Stdout when it is a pipe: writes that never wait on a stalled reader without looking at the
//! signal flags. A plain write to a full pipe blocks until the reader takes data, so a reader
//! that stopped reading (`evq … | less`, suspended) would keep evq from ever seeing SIGINT or
//! SIGTERM. So before each write the free room is measured (the pipe's size less what it holds,
//! less two pages for pages part filled) and no more is written than fits, cut after a line end
//! where one is in reach; when nothing fits, evq waits for room in slices of 100 ms and looks
//! at the signal flags between them. After a signal (also one taken while reading, after which
//! the result of what was read is still written), a write that finds no room for a second gives
//! up with [`Stopped`]: a reader that is slow but reads is waited on, one that stalled is not.
//!
//! Anything but a pipe (a file, a terminal, a socket) is written as it is.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// A page of a pipe: a write of at most this much into a pipe with a free page never blocks.
const PAGE: usize = 4096;

/// How long a write waits for room after a signal.
const GRACE: Duration = Duration::from_secs(1);

/// The error of a write given up on a stalled reader after a signal: the run stops with the
/// signal's status, and no message about stdout.
#[derive(Debug)]
pub(crate) struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopped by a signal while the reader of stdout took nothing")
    }
}

impl std::error::Error for Stopped {}

/// True for the error of a write given up after a signal.
pub(crate) fn is_stopped(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(<dyn std::error::Error + Send + Sync>::is::<Stopped>)
}

/// Stdout's file, and its size when it is a pipe whose room can be measured.
pub(crate) struct StdoutFile {
    file: File,
    pipe_size: Option<usize>,
}

impl StdoutFile {
    pub(crate) fn new(file: File) -> StdoutFile {
        use std::os::unix::fs::FileTypeExt;
        let fifo = file.metadata().is_ok_and(|m| m.file_type().is_fifo());
        let pipe_size = fifo
            .then(|| rustix::pipe::fcntl_getpipe_size(file.as_fd()).ok())
            .flatten()
            .filter(|_| room(&file, usize::MAX).is_some());
        StdoutFile { file, pipe_size }
    }

    /// Writes what fits without waiting, waiting for room (and looking at the signal flags)
    /// while none does.
    fn write_in_pipe(&mut self, buf: &[u8], size: usize) -> io::Result<usize> {
        let mut signalled: Option<Instant> = None;
        loop {
            let fits = room(&self.file, size).unwrap_or(PAGE);
            if fits >= buf.len().min(PAGE) {
                return self.file.write(&buf[..cut(buf, fits)]);
            }
            if crate::exit::signalled() && signalled.get_or_insert_with(Instant::now).elapsed() >= GRACE {
                return Err(io::Error::other(Stopped));
            }
            if wait_for_room(&self.file)? {
                return self.file.write(&buf[..cut(buf, PAGE)]);
            }
        }
    }
}

impl Write for StdoutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.pipe_size {
            Some(size) if !buf.is_empty() => self.write_in_pipe(buf, size),
            _ => self.file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// How many bytes surely fit in the pipe now: its size less what it holds and two pages
/// that may be part filled; `None` when the pipe cannot say how much it holds.
fn room(file: &File, size: usize) -> Option<usize> {
    let held = usize::try_from(rustix::io::ioctl_fionread(file.as_fd()).ok()?).ok()?;
    Some(size.saturating_sub(held).saturating_sub(2 * PAGE))
}

/// Waits up to 100 ms for the pipe to have a free page: true when it has.
fn wait_for_room(file: &File) -> io::Result<bool> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let mut fds = [PollFd::new(file, PollFlags::OUT)];
    let timeout = Timespec {
        tv_sec: 0,
        tv_nsec: 100_000_000,
    };
    match poll(&mut fds, Some(&timeout)) {
        Ok(n) => Ok(n > 0),
        Err(rustix::io::Errno::INTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// How much of `buf` to write when `fits` bytes fit: all of it, or up to the last line end
/// within `fits`, or `fits` bytes of a line longer than that.
fn cut(buf: &[u8], fits: usize) -> usize {
    if buf.len() <= fits {
        return buf.len();
    }
    memchr::memrchr(b'\n', &buf[..fits]).map_or(fits, |i| i + 1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_is_cut_after_the_last_line_end_that_fits() {
        assert_eq!(cut(b"ab\ncd\nef\n", 100), 9);
        assert_eq!(cut(b"ab\ncd\nef\n", 7), 6);
        assert_eq!(cut(b"abcdef\n", 4), 4);
        assert_eq!(cut(b"abc", 0), 1);
    }

    #[test]
    fn a_pipe_measures_its_room_and_other_files_are_written_as_they_are() {
        let (reader, writer) = rustix::pipe::pipe().unwrap();
        let mut out = StdoutFile::new(File::from(writer));
        let size = out.pipe_size.expect("a pipe has a size");
        assert_eq!(room(&out.file, size), Some(size - 2 * PAGE));
        out.write_all(b"{\"a\":1}\n").unwrap();
        assert_eq!(room(&out.file, size), Some(size - 2 * PAGE - 8));
        drop(reader);
        let file = StdoutFile::new(tempfile::tempfile().unwrap());
        assert_eq!(file.pipe_size, None);
    }

    #[test]
    fn only_a_write_given_up_after_a_signal_is_stopped() {
        assert!(is_stopped(&io::Error::other(Stopped)));
        assert!(!is_stopped(&io::Error::other("disk full")));
        assert!(!is_stopped(&io::Error::from(io::ErrorKind::BrokenPipe)));
    }
}
