//! Where the drop-in's output goes, as auditctl 3.0.9 sends it.
//!
//! - Listings, status blocks, usage and version go to stdout (`printf`).
//! - Messages go through libaudit's `audit_msg` (lib/message.c): to stderr, or to syslog
//!   while `auditctl -R` has not yet sent a rule (`set_aumessage_mode(MSG_SYSLOG)` in `main`,
//!   reset to `MSG_STDERR` by `handle_request` after the first add or delete), or nowhere
//!   (`LOG_DEBUG`, which libaudit uses for ECONNREFUSED so that it stays quiet).
//! - `audit_number_to_errmsg` (the lib/errormsg.h table: `-F unknown field: foo`...) writes
//!   to stderr directly, whatever the mode. [`is_errmsg_table_line`] recognizes its lines.
//! - nlaudit's own lines (an unsupported option, the truth behind a misleading message)
//!   always go to stderr and start with `nlaudit: `, so they can be told apart.

use std::io::Write;

/// syslog priorities (`<syslog.h>`) of the messages auditctl logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// `LOG_ERR`.
    Err = 3,
    /// `LOG_WARNING`.
    Warning = 4,
    /// `LOG_INFO`.
    Info = 6,
    /// `LOG_DEBUG`: libaudit's priority for ECONNREFUSED; never shown.
    Debug = 7,
}

/// libaudit's message mode (`set_aumessage_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `MSG_STDERR`.
    Stderr,
    /// `MSG_SYSLOG`.
    Syslog,
}

/// Where syslog messages go.
pub enum SyslogSink {
    /// syslog(3), as auditctl (ident = program name, facility LOG_USER).
    Real,
    /// Kept in memory (unit tests).
    #[cfg(test)]
    Captured(Vec<String>),
}

/// The drop-in's stdout, stderr and syslog.
pub struct Console {
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    syslog: SyslogSink,
    /// The current `audit_msg` mode.
    pub mode: Mode,
}

impl Console {
    /// A console over the given streams, in `MSG_STDERR` mode.
    pub fn new(out: Box<dyn Write>, err: Box<dyn Write>, syslog: SyslogSink) -> Console {
        Console { out, err, syslog, mode: Mode::Stderr }
    }

    /// The process's stdout and stderr, and syslog(3).
    pub fn process() -> Console {
        Console::new(Box::new(std::io::stdout()), Box::new(std::io::stderr()), SyslogSink::Real)
    }

    /// `printf` to stdout. Write errors (a closed pipe) are ignored: the exit code stays
    /// auditctl's, and there is nobody left to tell.
    pub fn print(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }

    /// `audit_msg(priority, text)`.
    pub fn msg(&mut self, priority: Priority, text: &str) {
        if priority == Priority::Debug {
            return;
        }
        match self.mode {
            Mode::Stderr => self.stderr_line(text),
            Mode::Syslog => match &mut self.syslog {
                SyslogSink::Real => syslog(priority, text),
                #[cfg(test)]
                SyslogSink::Captured(v) => v.push(text.to_string()),
            },
        }
    }

    /// `fprintf(stderr, "%s\n", text)`: a line libaudit writes to stderr directly.
    pub fn stderr_line(&mut self, text: &str) {
        let _ = writeln!(self.err, "{text}");
    }

    /// One of nlaudit's own lines (always stderr, prefixed `nlaudit: `).
    pub fn note(&mut self, text: &str) {
        self.stderr_line(&format!("nlaudit: {text}"));
    }

    /// Parse messages (one per line), each sent the way auditctl sends it: lines of the
    /// lib/errormsg.h table straight to stderr, the others through `audit_msg`. A message
    /// that ends in a newline (auditctl's "Multiple rule insert/delete operations are not
    /// allowed\n") keeps it, and `audit_msg` adds its own.
    pub fn parse_messages(&mut self, message: &str) {
        let (body, trailing) = match message.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (message, ""),
        };
        let lines: Vec<&str> = body.split('\n').collect();
        for (i, line) in lines.iter().enumerate() {
            let text =
                if i + 1 == lines.len() { format!("{line}{trailing}") } else { line.to_string() };
            if is_errmsg_table_line(line) {
                self.stderr_line(&text);
            } else {
                self.msg(Priority::Err, &text);
            }
        }
    }

    /// The syslog messages kept by a [`SyslogSink::Captured`] console.
    #[cfg(test)]
    pub fn captured_syslog(&self) -> &[String] {
        match &self.syslog {
            SyslogSink::Captured(v) => v,
            SyslogSink::Real => &[],
        }
    }
}

/// syslog(3) with auditctl's default ident and facility (it never calls openlog).
fn syslog(priority: Priority, text: &str) {
    crate::support::syslog::Sender::program().send(priority as u8, text);
}

/// `strerror(errno)`, as glibc words it.
pub fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// lib/errormsg.h `err_msgtab`: (number, where the option goes, text). Position 0: the text
/// alone; 1: `option text`; 2: `text option`; 3: nothing.
const ERRMSG_TABLE: &[(i32, u8, &str)] = &[
    (-1, 2, "-F missing operation for"),
    (-2, 2, "-F unknown field:"),
    (-3, 1, "must be before -S"),
    (-4, 1, "machine type not found"),
    (-5, 1, "elf mapping not found"),
    (-6, 1, "requested bit level not supported by machine"),
    (-7, 1, "can only be used with exit filter list"),
    (-8, 2, "-F unknown message type -"),
    (-9, 0, "msgtype field can only be used with exclude or user filter list"),
    (-10, 0, "Failed upgrading rule"),
    (-11, 0, "String value too long"),
    (-12, 0, "Only msgtype, *uid, *gid, pid, and subj* fields can be used with exclude filter"),
    (-13, 1, "only takes = or != operators"),
    (-14, 0, "Permission can only contain  'rwxa'"),
    (-15, 2, "-F unknown errno -"),
    (-16, 2, "-F unknown file type - "),
    (-17, 1, "can only be used with exit and entry filter list"),
    (-18, 1, ""),
    (-19, 0, "Key field needs a watch, syscall or exe path given prior to it"),
    (-20, 2, "-F missing value after operation for"),
    (-21, 2, "-F value should be number for"),
    (-22, 2, "-F missing field name before operator for"),
    (-23, 2, ""),
    (-24, 2, "-C missing field name before operator for"),
    (-25, 2, "-C missing value after operation for "),
    (-26, 2, "-C unknown field:"),
    (-27, 2, "-C unknown right hand value for comparison with:"),
    (-28, 2, "Too many fields in rule:"),
    (-29, 1, "only takes = operator"),
    (-30, 2, "Field option not supported by kernel:"),
    (-31, 1, "must be used with exclude, user, or exit filter"),
    (-32, 0, "filter is missing from rule"),
    (-33, 2, "-C incompatible comparison"),
    (-34, 1, "field is not valid for the filter"),
    (-35, 1, "filter is not supported by the kernel"),
    (-36, 2, "file system type is unknown for field:"),
    (-37, 2, "value is too large for field:"),
    (-38, 3, ""),
];

/// `audit_number_to_errmsg(number, option)`: the line it prints, if any. (auditctl also
/// passes it `-errno` from failed kernel requests, whose numbers then select an unrelated
/// row: kept, since that is what it prints.)
pub fn number_to_errmsg(number: i32, option: &str) -> Option<String> {
    let &(_, position, text) = ERRMSG_TABLE.iter().find(|row| row.0 == number)?;
    match position {
        0 => Some(text.to_string()),
        1 => Some(format!("{option} {text}")),
        2 => Some(format!("{text} {option}")),
        _ => None,
    }
}

/// Whether a parse message line came from `audit_number_to_errmsg` (stderr, always) rather
/// than from `audit_msg` (stderr or syslog).
pub fn is_errmsg_table_line(line: &str) -> bool {
    ERRMSG_TABLE.iter().any(|&(_, position, text)| {
        !text.is_empty()
            && match position {
                0 => line == text,
                1 => line.strip_suffix(text).is_some_and(|head| head.ends_with(' ')),
                2 => line.strip_prefix(text).is_some_and(|tail| tail.starts_with(' ')),
                _ => false,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errmsg_lines_are_recognized() {
        for (line, want) in [
            ("-F unknown field: foo", true),
            ("arch must be before -S", true),
            ("-F unknown file type -  bogus", true),
            ("Permission can only contain  'rwxa'", true),
            ("Syscall name unknown: bogus", false),
            ("There was an error in line 1 of /x", false),
            ("WARNING - 32/64 bit syscall mismatch, you should specify an arch", false),
            ("Unknown user: nobodyatall", false),
        ] {
            assert_eq!(is_errmsg_table_line(line), want, "{line}");
        }
    }

    #[test]
    fn number_to_errmsg_places_the_option() {
        assert_eq!(
            number_to_errmsg(-30, "reset-lost").as_deref(),
            Some("Field option not supported by kernel: reset-lost")
        );
        assert_eq!(
            number_to_errmsg(-13, "reset-lost").as_deref(),
            Some("reset-lost only takes = or != operators")
        );
        assert_eq!(number_to_errmsg(-38, "x"), None);
        assert_eq!(number_to_errmsg(-111, "x"), None);
    }

    #[test]
    fn strerror_is_glibcs() {
        assert_eq!(strerror(libc::ENOENT), "No such file or directory");
        assert_eq!(strerror(libc::EEXIST), "File exists");
    }
}
