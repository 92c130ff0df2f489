//! syslog(3) without glibc's: each message is one datagram to `/dev/log`.
//!
//! Why not `libc::syslog`: in the static binary glibc's syslog brings its time-zone code
//! (to stamp local time) and `sscanf`/`strtod` (to read the zone files): 125 KB of the
//! 2.5 MB budget (docs/containers.md, Binary size), for a handful of messages from the
//! `auditctl` drop-in and the daemon run as `auditd`.
//!
//! The datagram is RFC 3164's `<PRI>TAG: MESSAGE`, with TAG `IDENT` or `IDENT[PID]`, and
//! without the sender's TIMESTAMP: the receiver stamps the message when it arrives. journald
//! takes the time of receipt in any case; rsyslog and syslog-ng parse a message without a
//! timestamp and use the time of receipt too (RFC 3164 4.3.2 asks a relay to do so). So the
//! time is right whatever the zone, and the identifier and pid are read as from glibc.
//!
//! As glibc, a missing `/dev/log` (no syslog daemon, a scratch container) drops the message
//! silently; glibc would then also try `/dev/console` only with `LOG_CONS`, which nlaudit
//! never asks for. glibc retries a stream socket when `/dev/log` is one; nlaudit sends only
//! datagrams, which is what journald and rsyslog's default `/dev/log` are.

use std::os::unix::net::UnixDatagram;

/// Where syslog daemons listen (glibc's `_PATH_LOG`).
const PATH_LOG: &str = "/dev/log";

/// `LOG_USER`: the facility of a program that never calls openlog (auditctl).
pub const LOG_USER: u8 = 1 << 3;
/// `LOG_DAEMON`: auditd's facility.
pub const LOG_DAEMON: u8 = 3 << 3;

/// `LOG_ERR`.
pub const LOG_ERR: u8 = 3;
/// `LOG_WARNING`.
pub const LOG_WARNING: u8 = 4;
/// `LOG_NOTICE`.
pub const LOG_NOTICE: u8 = 5;

/// Who sends: the tag glibc builds from openlog's ident and `LOG_PID`.
#[derive(Clone, Debug)]
pub struct Sender {
    /// The identifier (`auditctl`, `auditd`).
    pub ident: String,
    /// The facility, one of the `LOG_*` constants above.
    pub facility: u8,
    /// Whether the tag carries the pid (`LOG_PID`).
    pub with_pid: bool,
}

impl Sender {
    /// The sender glibc would be for a program that never calls openlog: its name as run
    /// (`program_invocation_short_name`), `LOG_USER`, no pid.
    pub fn program() -> Sender {
        let argv0 = std::env::args_os().next().unwrap_or_default();
        let path = std::path::Path::new(&argv0);
        let ident = path.file_name().map(|n| n.to_string_lossy().into_owned());
        Sender { ident: ident.unwrap_or_default(), facility: LOG_USER, with_pid: false }
    }

    /// The datagram for a message of `severity` (`LOG_ERR` 3 ... `LOG_DEBUG` 7).
    pub fn datagram(&self, severity: u8, message: &str) -> String {
        let priority = self.facility | (severity & 7);
        let mut d = format!("<{priority}>{}", self.ident);
        if self.with_pid {
            d.push_str(&format!("[{}]", std::process::id()));
        }
        d.push_str(": ");
        // A NUL would end the message early for a C reader; glibc could not send one.
        d.extend(message.chars().map(|c| if c == '\0' { ' ' } else { c }));
        d
    }

    /// Sends a message of `severity`; a syslog daemon that is not there drops it.
    pub fn send(&self, severity: u8, message: &str) {
        self.send_to(std::path::Path::new(PATH_LOG), severity, message);
    }

    fn send_to(&self, path: &std::path::Path, severity: u8, message: &str) {
        if let Ok(socket) = UnixDatagram::unbound() {
            let _ = socket.send_to(self.datagram(severity, message).as_bytes(), path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagrams_are_glibcs_without_the_timestamp() {
        let auditctl = Sender { ident: "auditctl".into(), facility: LOG_USER, with_pid: false };
        assert_eq!(auditctl.datagram(3, "rule exists"), "<11>auditctl: rule exists");
        let auditd = Sender { ident: "auditd".into(), facility: LOG_DAEMON, with_pid: true };
        let pid = std::process::id();
        assert_eq!(auditd.datagram(5, "a\0b"), format!("<29>auditd[{pid}]: a b"));
    }

    #[test]
    fn a_listening_socket_receives_one_datagram_per_message() {
        let dir = std::env::temp_dir().join(format!("nlaudit-syslog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let path = dir.join("log");
        let _ = std::fs::remove_file(&path);
        let listener = UnixDatagram::bind(&path).expect("bind a listener");
        let sender = Sender { ident: "auditd".into(), facility: LOG_DAEMON, with_pid: false };
        sender.send_to(&path, 4, "disk low");
        let mut buf = [0u8; 256];
        let n = listener.recv(&mut buf).expect("the datagram");
        assert_eq!(&buf[..n], b"<28>auditd: disk low");
        // No listener: dropped, as glibc drops it.
        sender.send_to(&dir.join("absent"), 4, "lost");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
