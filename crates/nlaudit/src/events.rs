//! `nlaudit events`: read audit records from the kernel's read-only multicast group
//! (`AUDIT_NLGRP_READLOG`), group them into events, filter by key, print or log them.
//!
//! Reading needs CAP_AUDIT_READ only, and does not replace or disturb auditd. Other
//! commands that wait for an event (e.g. `docker check --verify`) reuse this module:
//!
//! ```text
//! let mut reader = events::open_reader(None)?; // the checks below, then join the group
//! /* cause the event */
//! let hit = reader.wait_for(key, Duration::from_secs(5), |e| {
//!     events::format::syscall_name(e) == Some("execve")
//! })?;
//! ```

pub mod format;
mod rotate;

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use nix::errno::Errno;
use nlaudit_proto::records::{Event, EventReader, ReadItem};
use nlaudit_proto::{AuditEnabled, Client};

use crate::cli::EventsArgs;
use crate::errors::{code, fail, has_capability, CAP_AUDIT_READ};
use crate::output;

use rotate::{parse_size, RotatingFile};

/// Default socket receive buffer: the kernel drops records for a reader that falls behind,
/// and bursts of a few thousand records are common (an `ls -R` under a watch).
const DEFAULT_BUFFER: usize = 8 << 20;
/// Default rotation size and number of rotated files (auditd's `max_log_file = 8` MB and
/// `num_logs = 5` files in all).
const DEFAULT_MAX_SIZE: u64 = 8 << 20;
const DEFAULT_KEEP: u32 = 4;

/// `PROC_NET_INIT_INO`: the inode of the initial network namespace, fixed since Linux 6.18
/// (include/linux/proc_ns.h); earlier kernels number it like any other namespace.
const PROC_NET_INIT_INO: u64 = 0xEFFF_FFF9;
/// `PROC_PID_INIT_INO`: the initial PID namespace (fixed since Linux 3.8).
const PROC_PID_INIT_INO: u64 = 0xEFFF_FFFC;

fn ns_inode(path: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.ino())
}

/// Whether the kernel numbers the initial network namespace `PROC_NET_INIT_INO` (6.18+).
fn fixed_net_init_ino() -> bool {
    let Ok(release) = std::fs::read_to_string("/proc/sys/kernel/osrelease") else {
        return false;
    };
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    (major, minor) >= (6, 18)
}

/// Whether this process is in the initial network namespace; `None` when it cannot be told
/// (kernels before 6.18 without access to the host's PID 1).
fn in_initial_netns() -> Option<bool> {
    let own = ns_inode("/proc/self/ns/net")?;
    if own == PROC_NET_INIT_INO {
        return Some(true);
    }
    if fixed_net_init_ino() {
        return Some(false);
    }
    // Older kernels: compare with PID 1's, when PID 1 is the host's init.
    if ns_inode("/proc/1/ns/pid") == Some(PROC_PID_INIT_INO) {
        return ns_inode("/proc/1/ns/net").map(|init| init == own);
    }
    None
}

/// Opens the multicast reader after the checks that turn silence into a clear error: the
/// network namespace, CAP_AUDIT_READ, and whether audit is enabled. `buffer` is the socket
/// receive buffer (default 8 MiB; needs CAP_NET_ADMIN beyond `net.core.rmem_max`).
pub fn open_reader(buffer: Option<usize>) -> Result<EventReader> {
    if in_initial_netns() == Some(false) {
        return Err(fail(
            code::NOT_PERMITTED,
            "cannot read audit events: this process is not in the initial network namespace, \
             and the kernel multicasts audit records only there (kernel/audit.c \
             kauditd_send_multicast_skb). Run it in the host's network namespace (docker: \
             --network host; Kubernetes: hostNetwork: true; not under `unshare -n`).",
        ));
    }
    let reader = match EventReader::open() {
        Ok(r) => r,
        Err(e) if e.errno() == Some(Errno::EPERM) => {
            let msg = if has_capability(CAP_AUDIT_READ) == Some(false) {
                "cannot join the audit record multicast group: permission denied (EPERM): this \
                 process lacks CAP_AUDIT_READ. Run as root, or give the container \
                 --cap-add AUDIT_READ."
            } else {
                "cannot join the audit record multicast group: permission denied (EPERM) \
                 although CAP_AUDIT_READ is held: the kernel wants it in the initial user \
                 namespace (no rootless container, no `unshare -U`)."
            };
            return Err(fail(code::NOT_PERMITTED, msg));
        }
        Err(e) if e.errno() == Some(Errno::EPROTONOSUPPORT) => {
            return Err(fail(
                code::FAILED,
                "cannot open the audit netlink socket: this kernel has no audit support \
                 (EPROTONOSUPPORT: built without CONFIG_AUDIT).",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    // A larger buffer than rmem_max needs SO_RCVBUFFORCE (CAP_NET_ADMIN); best effort.
    let size = buffer.unwrap_or(DEFAULT_BUFFER);
    let fd = reader.transport().as_fd();
    use nix::sys::socket::{setsockopt, sockopt};
    if setsockopt(&fd, sockopt::RcvBufForce, &size).is_err() {
        let _ = setsockopt(&fd, sockopt::RcvBuf, &size);
    }
    // AUDIT_GET needs CAP_AUDIT_CONTROL, which a reader may lack: then the check is skipped.
    if let Ok(status) = Client::open().and_then(|mut c| c.status()) {
        if status.enabled == AuditEnabled::Disabled {
            return Err(fail(
                code::FAILED,
                "audit is disabled (enabled 0): the kernel produces no records to read. \
                 Enable it with `nlaudit set --enabled 1` (or `auditctl -e 1`), or boot \
                 with audit=1.",
            ));
        }
    }
    Ok(reader)
}

/// The kernel's count of records dropped for this socket (`sk_drops`, the `Drops` column of
/// /proc/net/netlink, found by the socket's inode).
fn socket_drops(reader: &EventReader) -> Option<u64> {
    let st = nix::sys::stat::fstat(reader.transport().as_fd()).ok()?;
    let inode = st.st_ino.to_string();
    let table = std::fs::read_to_string("/proc/net/netlink").ok()?;
    // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
    table.lines().skip(1).find_map(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        if cols.last() == Some(&inode.as_str()) {
            cols.get(8)?.parse().ok()
        } else {
            None
        }
    })
}

enum Style {
    Text,
    Json,
    Raw,
}

enum Sink {
    Stdout(io::BufWriter<io::StdoutLock<'static>>),
    File(RotatingFile),
}

impl Sink {
    fn write(&mut self, data: &str) -> Result<()> {
        match self {
            Sink::Stdout(out) => {
                out.write_all(data.as_bytes())?;
                out.flush()?; // people and pipes see each event as it happens
            }
            Sink::File(f) => f.write_lines(data.as_bytes())?,
        }
        Ok(())
    }
}

fn render(style: &Style, e: &Event) -> String {
    match style {
        Style::Text => format::text_line(e) + "\n",
        Style::Json => format::json(e).to_string() + "\n",
        Style::Raw => format::raw_lines(e),
    }
}

fn size_arg(flag: &str, v: Option<&String>) -> Result<Option<u64>> {
    v.map(|s| {
        parse_size(s).ok_or_else(|| {
            fail(code::USAGE, format!("{flag} {s:?}: expected bytes, or a number with K, M or G"))
        })
    })
    .transpose()
}

fn open_sink(path: Option<&Path>, max_size: Option<u64>, keep: Option<u32>) -> Result<Sink> {
    let Some(path) = path else { return Ok(Sink::Stdout(output::stdout())) };
    let max = max_size.unwrap_or(DEFAULT_MAX_SIZE);
    if max == 0 {
        return Err(fail(code::USAGE, "--max-size must be at least 1 byte"));
    }
    let f = RotatingFile::open(path, max, keep.unwrap_or(DEFAULT_KEEP)).map_err(|e| {
        let why = if e.raw_os_error() == Some(libc::ELOOP) {
            "it is a symbolic link (refused: write to the real path)".to_string()
        } else {
            e.to_string()
        };
        fail(code::FAILED, format!("cannot open {} for appending: {why}", path.display()))
    })?;
    Ok(Sink::File(f))
}

pub fn run(a: EventsArgs) -> Result<ExitCode> {
    let timeout = a
        .timeout
        .map(|s| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                fail(code::USAGE, format!("--timeout {s}: expected a number of seconds ≥ 0"))
            })
        })
        .transpose()?;
    let max_size = size_arg("--max-size", a.max_size.as_ref())?;
    let buffer = size_arg("--buffer-size", a.buffer_size.as_ref())?
        .map(|b| usize::try_from(b).unwrap_or(usize::MAX).min(i32::MAX as usize));
    let style = if a.json {
        Style::Json
    } else if a.raw {
        Style::Raw
    } else {
        Style::Text
    };
    let mut sink = open_sink(a.output.as_deref(), max_size, a.keep)?;
    let mut reader = open_reader(buffer)?;

    let start = Instant::now();
    let deadline = timeout.map(|t| start + t);
    let wanted = |e: &Event| a.key.as_deref().map_or(true, |k| e.has_key(k));
    let done = |n: u64| a.count.is_some_and(|c| n >= c);
    let mut printed: u64 = 0;
    let mut drops_seen = socket_drops(&reader).unwrap_or(0);
    let mut lost: u64 = 0;
    while !done(printed) {
        // Without --timeout, wait in slices of an hour.
        let until = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        match reader.next(until)? {
            Some(ReadItem::Event(e)) if wanted(&e) => {
                sink.write(&render(&style, &e))?;
                printed += 1;
            }
            Some(ReadItem::Event(_)) => {}
            Some(ReadItem::Overrun) => {
                let drops = socket_drops(&reader);
                let what = match drops {
                    Some(d) => {
                        let n = d.saturating_sub(drops_seen);
                        drops_seen = d;
                        lost += n;
                        format!("{n} records lost ({lost} in all)")
                    }
                    None => "records lost (the kernel's count is unavailable)".to_string(),
                };
                eprintln!(
                    "nlaudit: the socket receive buffer overflowed (ENOBUFS): {what}; \
                     reading on. A larger --buffer-size helps."
                );
            }
            Some(ReadItem::Malformed(err)) => eprintln!("nlaudit: skipping a record: {err}"),
            Some(_) => {}
            None if deadline.is_some() => break,
            None => {}
        }
    }
    // --timeout ended the wait: events still waiting for records are printed as they are.
    if !done(printed) {
        for e in reader.flush() {
            if !done(printed) && wanted(&e) {
                sink.write(&render(&style, &e))?;
                printed += 1;
            }
        }
    }
    if let Some(c) = a.count {
        if printed < c {
            let secs = timeout.map_or(0.0, |t| t.as_secs_f64());
            return Err(fail(
                code::FAILED,
                format!("timed out after {secs} s with {printed} of {c} events"),
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
