//! The progress bar on stderr: bytes, rate and ETA for files, a spinner for stdin.

use crate::input::{Input, Source};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

pub(crate) struct Progress {
    bar: ProgressBar,
    events: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl Progress {
    pub(crate) fn start(inputs: &[Input], raw_bytes: Arc<AtomicU64>) -> Progress {
        let total: Option<u64> = inputs
            .iter()
            .map(|i| match &i.source {
                Source::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
                Source::Stdin | Source::Nats(_) => None,
            })
            .sum();
        let bar = match total {
            Some(t) => ProgressBar::with_draw_target(
                Some(t),
                ProgressDrawTarget::term_like(Box::new(Stderr(console::Term::stderr()))),
            )
            .with_style(
                ProgressStyle::with_template(
                    "{bar:30} {percent:>3}% {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
                )
                .expect("the template is valid"),
            ),
            None => ProgressBar::with_draw_target(
                None,
                ProgressDrawTarget::term_like(Box::new(Stderr(console::Term::stderr()))),
            )
            .with_style(
                ProgressStyle::with_template("{spinner} {bytes} {bytes_per_sec} {msg}").expect("the template is valid"),
            ),
        };
        let events = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (bar, events, done) = (bar.clone(), events.clone(), done.clone());
            // Without a thread there is no progress bar; the run goes on.
            std::thread::Builder::new().name("evq-progress".into()).spawn(move || {
                let started = std::time::Instant::now();
                while !done.load(Ordering::Relaxed) {
                    bar.set_position(raw_bytes.load(Ordering::Relaxed));
                    let n = events.load(Ordering::Relaxed);
                    let rate = n as f64 / started.elapsed().as_secs_f64().max(1e-3);
                    bar.set_message(format!("{n} lines ({rate:.0}/s)"));
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        Progress {
            bar,
            events,
            done,
            ticker: ticker.ok(),
        }
    }

    pub(crate) fn set_events(&self, n: u64) {
        self.events.store(n, Ordering::Relaxed);
    }

    pub(crate) fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}

/// stderr for the bar, drawn also when it is not a terminal (`--progress`), 80
/// columns wide then.
#[derive(Debug)]
struct Stderr(console::Term);

impl TermLike for Stderr {
    fn width(&self) -> u16 {
        self.0.size_checked().map_or(80, |(_, w)| w)
    }
    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        self.0.write_str(s)
    }
    fn clear_line(&self) -> io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> io::Result<()> {
        self.0.flush()
    }
}
