//! Progress of a long change on standard error: `deleting rules: 1200/5000, 14.2 s`,
//! redrawn in place, only when standard error is a terminal and the change is long enough
//! to wait for (each kernel rule delete costs an RCU grace period, about 12 ms).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Deletes and re-adds past which a change shows its progress.
pub const THRESHOLD: usize = 200;

/// How often the line is redrawn at most.
const EVERY: Duration = Duration::from_millis(100);

/// A progress line (or nothing, when not shown).
pub struct Progress {
    what: &'static str,
    total: usize,
    done: usize,
    start: Instant,
    drawn: Option<Instant>,
    shown: bool,
}

/// Whether to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// When standard error is a terminal.
    OnTerminal,
    /// Never (the caller prints no progress).
    Never,
}

impl Progress {
    /// Progress of `total` operations, `slow` of them slow (deletes and re-adds): shown when
    /// `slow` passes [`THRESHOLD`] and standard error is a terminal.
    pub fn new(what: &'static str, total: usize, slow: usize, show: Show) -> Progress {
        let shown = show == Show::OnTerminal && slow > THRESHOLD && std::io::stderr().is_terminal();
        Progress { what, total, done: 0, start: Instant::now(), drawn: None, shown }
    }

    /// A progress that never draws.
    pub fn hidden() -> Progress {
        Progress::new("", 0, 0, Show::Never)
    }

    /// `n` more operations done.
    pub fn advance(&mut self, n: usize) {
        self.done += n;
        if !self.shown || self.drawn.is_some_and(|t| t.elapsed() < EVERY) {
            return;
        }
        self.drawn = Some(Instant::now());
        let line = format!(
            "\r{}: {}/{}, {:.1} s",
            self.what,
            self.done.min(self.total),
            self.total,
            self.start.elapsed().as_secs_f64()
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
    }

    /// Clears the line, so what follows starts on a clean one.
    pub fn finish(&mut self) {
        if self.shown && self.drawn.is_some() {
            let _ = std::io::stderr().write_all(b"\r\x1b[K");
        }
        self.shown = false;
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
