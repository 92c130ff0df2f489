//! `auditctl -R FILE` (auditctl 3.0.9 and 4.2.1 `main` and `fileopt`): messages start out
//! in syslog mode; the file must exist, be a regular file and not be world-writable (and,
//! in 3.0.9, be owned by root); each line is one command; an error stops the file unless
//! `-i` or `-c` came first.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;

use nlaudit_proto::{Errno, Transport};
use nlaudit_rules::{split_line, Generation};

use super::console::{strerror, Mode, Priority};
use super::exec::{Session, EATEN, FAILED};

/// auditctl's `LINE_SIZE`: `fgets` reads at most this minus one byte per line.
const LINE_SIZE: usize = 6144;

/// Runs `auditctl -R path`; returns the exit code.
pub fn run<T: Transport>(s: &mut Session<T>, path: &str) -> u8 {
    // "If reading a file, its most likely start up. Send problems to syslog".
    s.console.mode = Mode::Syslog;
    // auditctl carries on when the socket cannot be opened here; the first line fails.
    let _ = s.open();
    if !s.is_ready() {
        return not_ready_exit();
    }
    match fileopt(s, path) {
        0 if s.continue_error < 0 => 1,
        0 => 0,
        _ => 1,
    }
}

/// `fileopt`: 0 when the file was read to the end (or the kernel refused it all), else
/// non-zero.
fn fileopt<T: Transport>(s: &mut Session<T>, path: &str) -> i32 {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            s.console.msg(Priority::Err, &format!("audit rules file {path} doesn't exist"));
            return 2;
        }
        Err(e) => {
            let text = format!("Error opening {path} ({})", io_text(&e));
            s.console.msg(Priority::Err, &text);
            return 1;
        }
    };
    let m = match f.metadata() {
        Ok(m) => m,
        Err(e) => {
            let text = format!("Error fstat'ing {path} ({})", io_text(&e));
            s.console.msg(Priority::Err, &text);
            return 1;
        }
    };
    let refusal = file_refusal(&m, crate::support::system::generation());
    if let Some(why) = refusal {
        s.console.msg(Priority::Err, &format!("Error - {path} {why}"));
        return 1;
    }
    let mut bytes = Vec::new();
    // fgets stops at a read error as at the end of the file.
    let _ = f.read_to_end(&mut bytes);
    for (n, chunk) in lines(&bytes).enumerate() {
        let lineno = n + 1;
        // Blank lines: spaces only.
        if chunk.iter().all(|b| *b == b' ') {
            continue;
        }
        let text = String::from_utf8_lossy(chunk);
        let mut words = split_line(&text);
        // `fields` has room for strlen/3 + 3 pointers: argv[0], the words, NULL.
        words.truncate(chunk.len() / 3 + 1);
        if words.first().is_none_or(|w| w.starts_with('#')) {
            continue;
        }
        if !s.open() {
            s.console.msg(Priority::Err, "Cannot open netlink audit socket");
            return -1;
        }
        let parsed = s.setopt(&words, Some(lineno));
        if parsed.retval == EATEN || s.handle_request(parsed) != FAILED {
            continue;
        }
        if s.errno == Some(Errno::ECONNREFUSED) {
            s.console.msg(Priority::Err, "The audit system is disabled");
            return 0;
        }
        s.console.msg(Priority::Err, &format!("There was an error in line {lineno} of {path}"));
        if !s.ignore {
            return -1;
        }
        if s.continue_error != 0 {
            s.continue_error = -1;
        }
    }
    0
}

/// Why `fileopt` refuses a file with metadata `m`: 3.0.9 wants it owned by root, not
/// world-writable and regular, in that order; 4.x ("Don't be as paranoid about auditctl -R
/// file permissions", ChangeLog 3.1.2) checks only that it is regular, then not
/// world-writable.
fn file_refusal(m: &std::fs::Metadata, generation: Generation) -> Option<&'static str> {
    let world_writable = m.mode() & 0o002 != 0;
    let regular = m.file_type().is_file();
    match generation {
        Generation::V3 if m.uid() != 0 => Some("isn't owned by root"),
        Generation::V3 if world_writable => Some("is world writable"),
        Generation::V3 if !regular => Some("is not a regular file"),
        Generation::V3 => None,
        _ if !regular => Some("is not a regular file"),
        _ if world_writable => Some("is world writable"),
        _ => None,
    }
}

/// The lines as `fgets` into a `LINE_SIZE` buffer yields them: at most `LINE_SIZE - 1`
/// bytes each (a longer line comes out in pieces, each counted as a line), the newline
/// removed, and cut at a NUL byte (C strings).
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let max = rest.len().min(LINE_SIZE - 1);
        let end = rest[..max].iter().position(|b| *b == b'\n').map_or(max, |i| i + 1);
        let (line, tail) = rest.split_at(end);
        rest = tail;
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = match line.iter().position(|b| *b == 0) {
            Some(nul) => &line[..nul],
            None => line,
        };
        Some(line)
    })
}

/// auditctl's exit code when `is_ready` fails (immutable, or the kernel refusing): 3.0.9's
/// `main` returns 0, 4.x's 1.
pub fn not_ready_exit() -> u8 {
    match crate::support::system::generation() {
        Generation::V3 => 0,
        _ => 1,
    }
}

fn io_text(e: &std::io::Error) -> String {
    e.raw_os_error().map_or_else(|| e.to_string(), strerror)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_fgets_pieces() {
        let long = vec![b'x'; LINE_SIZE + 10];
        let mut input = b"-l\n\n  \n".to_vec();
        input.extend_from_slice(&long);
        input.extend_from_slice(b"\n-s\0junk\n-v");
        let got: Vec<&[u8]> = lines(&input).collect();
        assert_eq!(got.len(), 7);
        assert_eq!(got[0], b"-l");
        assert_eq!(got[1], b"");
        assert_eq!(got[2], b"  ");
        assert_eq!(got[3].len(), LINE_SIZE - 1);
        assert_eq!(got[4].len(), 11);
        assert_eq!(got[5], b"-s");
        assert_eq!(got[6], b"-v");
    }
}
