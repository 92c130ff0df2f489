//! The audit record multicast group (`AUDIT_NLGRP_READLOG`) as the commands share it:
//! opening a reader with the checks that turn silence into a clear error, and naming an
//! event's syscall and time. `nlaudit events` and `docker check --verify` both use it.
//!
//! ```text
//! let mut reader = readlog::open_reader(None)?; // the checks below, then join the group
//! /* cause the event */
//! while let Some(ReadItem::Event(e)) = reader.next(deadline)? {
//!     if readlog::syscall_name(&e) == Some("execve") { /* ... */ }
//! }
//! ```

use std::os::fd::AsFd;

use anyhow::Result;
use nix::errno::Errno;
use nlaudit_proto::records::EventReader;
use nlaudit_proto::{AuditEnabled, Client};

use crate::support::errors::{code, fail, has_capability, CAP_AUDIT_READ};

/// Default socket receive buffer: the kernel drops records for a reader that falls behind,
/// and bursts of a few thousand records are common (an `ls -R` under a watch).
const DEFAULT_BUFFER: usize = 8 << 20;

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

/// Names and times as the audit logs print them: one implementation, in the daemon crate.
pub use nlaudit_daemon::format::{iso_time, syscall_name};
