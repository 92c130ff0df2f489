//! `nlaudit docker check --verify`: the end-to-end proof that a control's rule records.
//!
//! A rule in force is a claim; an event is the proof. For every control whose file is found
//! and audited by a rule in force, nlaudit
//!
//! 1. joins the audit multicast group (`AUDIT_NLGRP_READLOG`) first: records logged before
//!    the group is joined are not delivered. The group is read-only, so a running auditd
//!    keeps receiving everything;
//! 2. uses the file harmlessly. The Docker daemon, containerd, its shims and runc are
//!    executed with an argument that prints their version (or usage) and exits: the real file
//!    in use, as a child. Every other file (directories, unit and configuration files,
//!    sockets) is opened for reading by nlaudit itself and closed at once, without reading
//!    (`O_NONBLOCK`, so a FIFO cannot block; a socket refuses the open with ENXIO, and the
//!    kernel records the attempt all the same). A binary whose rule records reads but not
//!    executions is opened the same way. Neither changes the file's content, mtime or ctime
//!    (only its atime, as the mount's `relatime`/`noatime` policy decides);
//! 3. waits up to 5 s for the event whose `SYSCALL` is that process's `execve` (or `openat`),
//!    whose `PATH` names the file, and which carries a key of the rule (any key, if the rule
//!    has none).
//!
//! Nothing else is changed: no rule, no setting. The proof is skipped (not an error) when it
//! cannot be made: no file, no rule, audit disabled, a rule that records neither executions
//! nor reads, no CAP_AUDIT_READ, not the initial network namespace (the sentences come from
//! [`readlog::open_reader`]).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Result;
use nlaudit_proto::records::{Event, ReadItem};
use nlaudit_proto::MsgType;

use nlaudit_controls::evaluate::{AuditState, Outcome, Report};
use nlaudit_controls::verify::{Verification, VerifyStatus};
use nlaudit_controls::Evidence;

use crate::support::errors::Failure;
use crate::support::readlog::{self, syscall_name};

/// How a probe uses the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Probe {
    /// Execute it with these arguments; the event is the child's `execve`.
    Exec(&'static [&'static str]),
    /// Open it for reading (and close it); the event is nlaudit's own `openat`.
    Read,
}

impl Probe {
    /// The syscalls whose event proves it.
    fn syscalls(self) -> &'static [&'static str] {
        match self {
            Probe::Exec(_) => &["execve", "execveat"],
            Probe::Read => &["openat", "open", "openat2"],
        }
    }
}

/// How long to wait for the event once the probe started. Records reach the group within
/// milliseconds; the slack covers a loaded machine and the kernel's backlog queue.
const EVENT_WAIT: Duration = Duration::from_secs(5);
/// How long the probe may run before it is killed.
const PROBE_WAIT: Duration = Duration::from_secs(5);

/// Runs the proof for every control, and records it in the report.
pub fn run(report: &mut Report) -> Result<()> {
    for o in report.outcomes.iter_mut() {
        o.verify = Some(verify(o, &report.state, o.control.probe_args)?);
    }
    Ok(())
}

/// What the proof waits for: the probe's event on the file, with a key of the rules that
/// record it.
struct Expect<'a> {
    /// The file, as used and as the `PATH` record names it.
    path: &'a str,
    /// Keys that count; `None`: any (a rule without a key records it too).
    keys: Option<Vec<&'a str>>,
    /// The syscalls that count.
    syscalls: &'static [&'static str],
}

impl Expect<'_> {
    /// The key reported before an event is seen: the first one waited for.
    fn key(&self) -> Option<&str> {
        self.keys.as_ref().and_then(|k| k.first().copied())
    }

    /// Whether `e` is the probe's event, and if so whether it has a wanted key.
    fn judge(&self, e: &Event, pid: u32) -> Seen {
        let ours = syscall_name(e).is_some_and(|s| self.syscalls.contains(&s))
            && e.record(MsgType::AUDIT_SYSCALL)
                .and_then(|r| r.text_of("pid"))
                .is_some_and(|p| p == pid.to_string().as_str())
            && e.paths().iter().any(|p| p.as_deref() == Some(self.path));
        if !ours {
            return Seen::Other;
        }
        let keys = e.keys();
        match &self.keys {
            None => Seen::Hit(keys.into_iter().next()),
            Some(want) => match keys.iter().find(|k| want.contains(&k.as_str())) {
                Some(k) => Seen::Hit(Some(k.clone())),
                None => Seen::OtherKey(keys),
            },
        }
    }
}

/// How an event relates to the probe.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// Not the probe's event.
    Other,
    /// The probe's event, with this key (`None`: the event has none and none was needed).
    Hit(Option<String>),
    /// The probe's event, but without a wanted key (these are its keys).
    OtherKey(Vec<String>),
}

/// What the wait saw.
#[derive(Default)]
struct Found {
    /// The probe's event with a wanted key, and that key.
    hit: Option<(Event, Option<String>)>,
    /// The serial and keys of the probe's event when it lacked a wanted key.
    other_key: Option<(u64, Vec<String>)>,
    /// The socket's receive buffer overflowed: records were lost.
    overrun: bool,
}

impl Found {
    fn consider(&mut self, expect: &Expect<'_>, e: Event, pid: u32) {
        match expect.judge(&e, pid) {
            Seen::Hit(k) => self.hit = Some((e, k)),
            Seen::OtherKey(keys) => self.other_key = Some((e.stamp.serial, keys)),
            Seen::Other => {}
        }
    }
}

/// The proof for one control; `exec`: the arguments that execute its file harmlessly, for
/// the binaries.
fn verify(
    o: &Outcome,
    state: &AuditState,
    exec: Option<&'static [&'static str]>,
) -> Result<Verification> {
    use VerifyStatus::{Failed, Skipped};
    let name = o.control.benchmark_path.rsplit('/').next().unwrap_or(o.control.benchmark_path);
    let Some(path) = o.located.watch_path() else {
        let why = format!("no {name} here ({})", o.reason);
        return Ok(Verification::not_verified(Skipped, None, None, why));
    };
    let satisfying: Vec<&Evidence> = o.evidence.iter().filter(|e| e.satisfies).collect();
    let Some(first) = satisfying.first() else {
        let fix = o.remediation.as_deref().unwrap_or_default();
        let why = format!(
            "no rule in force audits {path}: nothing to prove; `nlaudit docker ensure` adds \
             `{fix}`"
        );
        return Ok(Verification::not_verified(Skipped, Some(path), None, why));
    };
    let first_key = first.keys.first().map(String::as_str);
    if !state.recording {
        let why = "audit is disabled (enabled 0): the kernel records nothing; turn it on with \
                   `nlaudit set --enabled 1` or `nlaudit docker ensure --enable`"
            .to_string();
        return Ok(Verification::not_verified(Skipped, Some(path), first_key, why));
    }
    // Execute a binary when a rule records that; otherwise open the file for reading.
    let by = |f: fn(&Evidence) -> bool| -> Vec<&Evidence> {
        satisfying.iter().copied().filter(|e| f(e)).collect()
    };
    let (probe, recording) = match exec {
        Some(args) if satisfying.iter().any(|e| e.records_exec) => {
            (Probe::Exec(args), by(|e| e.records_exec))
        }
        _ => (Probe::Read, by(|e| e.records_read)),
    };
    if recording.is_empty() {
        let what = if exec.is_some() { "executions or reads" } else { "reads" };
        let why = format!(
            "the rule in force (`{}`) records no {what} of {path} (no {} in its perms, or the \
             syscall not among its syscalls): using it harmlessly would show nothing; `-p rwxa` \
             records them",
            first.text,
            if exec.is_some() { "x or r" } else { "r" },
        );
        return Ok(Verification::not_verified(Skipped, Some(path), first_key, why));
    }
    let expect = Expect {
        path,
        keys: if recording.iter().any(|e| e.keys.is_empty()) {
            None
        } else {
            Some(recording.iter().flat_map(|e| e.keys.iter().map(String::as_str)).collect())
        },
        syscalls: probe.syscalls(),
    };
    let key = expect.key();

    // Join the group before causing the event. The reader's own checks (network namespace,
    // CAP_AUDIT_READ, audit enabled) fail with sentences that say what to do: skip with them.
    let mut reader = match readlog::open_reader(None) {
        Ok(r) => r,
        Err(e) => match e.downcast_ref::<Failure>() {
            Some(f) => {
                return Ok(Verification::not_verified(Skipped, Some(path), key, f.message.clone()));
            }
            None => return Err(e.context("docker check --verify")),
        },
    };

    let started = Instant::now();
    let (cmd, pid, mut child) = match probe {
        Probe::Exec(args) => {
            let cmd = std::iter::once(path).chain(args.iter().copied()).collect::<Vec<_>>();
            let cmd = cmd.join(" ");
            let spawned = Command::new(path)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            match spawned {
                Ok(c) => (cmd, c.id(), Some(c)),
                Err(e) => {
                    let why = format!("cannot execute `{cmd}`: {e}");
                    return Ok(Verification::not_verified(Failed, Some(path), key, why));
                }
            }
        }
        Probe::Read => {
            let cmd = format!("open {path} for reading");
            // A socket refuses (ENXIO) after the lookup: the kernel records that too. Only a
            // file that is gone, or a path that cannot be resolved, has nothing to record.
            if let Err(e) = open_for_reading(path) {
                let errno = e.raw_os_error().map(nix::errno::Errno::from_raw);
                if matches!(errno, Some(nix::errno::Errno::ENOENT | nix::errno::Errno::ENOTDIR)) {
                    let why = format!("cannot {cmd}: {e}");
                    return Ok(Verification::not_verified(Failed, Some(path), key, why));
                }
            }
            (cmd, std::process::id(), None)
        }
    };

    let mut found = Found::default();
    let deadline = started + EVENT_WAIT;
    let mut waited = Ok(());
    while found.hit.is_none() {
        match reader.next(deadline) {
            Ok(Some(ReadItem::Event(e))) => found.consider(&expect, e, pid),
            Ok(Some(ReadItem::Overrun)) => found.overrun = true,
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                waited = Err(e);
                break;
            }
        }
    }
    if found.hit.is_none() && waited.is_ok() {
        // The event may still wait for its EOE record.
        for e in reader.flush() {
            found.consider(&expect, e, pid);
        }
    }
    let killed = child.as_mut().is_some_and(|c| reap(c, started + PROBE_WAIT));
    waited?;

    if let Some((e, k)) = found.hit {
        let syscall = syscall_name(&e).map(str::to_string);
        let what = match &k {
            Some(k) => format!("key={k}"),
            None => "the rule has no key".to_string(),
        };
        let reason = format!(
            "event {} at {}: {} of {} by the probe `{cmd}` (pid {pid}), {what}, read back from \
             the audit multicast group",
            e.stamp.serial,
            readlog::iso_time(e.stamp.secs, e.stamp.millis),
            syscall.as_deref().unwrap_or("?"),
            expect.path,
        );
        return Ok(Verification {
            status: VerifyStatus::Verified,
            reason,
            serial: Some(e.stamp.serial),
            syscall,
            path: Some(path.to_string()),
            key: k,
        });
    }
    let mut why =
        format!("no audit event for `{cmd}` (pid {pid}) within {} s", EVENT_WAIT.as_secs());
    if let Some((serial, keys)) = found.other_key {
        let got =
            if keys.is_empty() { "no key".to_string() } else { format!("key={}", keys.join(",")) };
        why += &format!(
            " with the rule's key {}: event {serial} recorded it, but with {got} (another rule \
             matched it first)",
            key.unwrap_or_default()
        );
    }
    if found.overrun {
        why += "; the receive buffer overflowed, so records were lost (retry on a quieter moment)";
    }
    let warnings: Vec<&str> = recording
        .iter()
        .flat_map(|e| e.notes.iter().map(|n| n.trim_start_matches("warning: ")))
        .collect();
    if !warnings.is_empty() {
        why += &format!("; the rule's warnings: {}", warnings.join("; "));
    }
    if killed {
        why += &format!(
            "; the probe was still running after {} s and was killed",
            PROBE_WAIT.as_secs()
        );
    }
    why += "; see `nlaudit status` (lost, backlog) and the kernel log";
    Ok(Verification::not_verified(Failed, Some(path), key, why))
}

/// Opens `path` for reading and closes it at once: the read probe. `O_NONBLOCK` keeps a
/// FIFO from blocking and `O_NOCTTY` a terminal from becoming the controlling one.
fn open_for_reading(path: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let flags = nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_NOCTTY;
    std::fs::OpenOptions::new().read(true).custom_flags(flags.bits()).open(path).map(drop)
}

/// Waits for the probe until `until`, then kills it. Returns whether it had to be killed.
fn reap(child: &mut Child, until: Instant) -> bool {
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return false,
            Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testsupport::event;

    /// The probe's event as kernel 6.18 writes it under `-w /usr/sbin/dockerd -p rwxa -k
    /// docker` (abridged), with `pid`, `syscall` and `key` to fill in.
    fn probe(syscall: u32, pid: u32, key: &str, name: &str) -> Event {
        let s = format!(
            "audit(1795742692.946:20): arch=c000003e syscall={syscall} success=yes exit=0 \
             a0=5572cc8ebeb0 a1=5572cc8ebec8 a2=7ffd2a1c5a40 a3=0 items=2 ppid=8589 pid={pid} \
             auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) \
             ses=4294967295 comm=\"dockerd\" exe=\"/usr/sbin/dockerd\" key={key}"
        );
        let p0 = format!(
            "audit(1795742692.946:20): item=0 name=\"{name}\" inode=9125927 dev=fe:00 \
             mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL"
        );
        event(&[
            (1300, &s),
            (1309, "audit(1795742692.946:20): argc=2 a0=\"/usr/sbin/dockerd\" a1=\"--version\""),
            (1307, "audit(1795742692.946:20): cwd=\"/\""),
            (1302, &p0),
            (1302, "audit(1795742692.946:20): item=1 name=\"/lib64/ld-linux-x86-64.so.2\""),
            (1320, "audit(1795742692.946:20): "),
        ])
    }

    fn check(keys: Option<&[&str]>, e: Event, want: Seen) {
        let syscalls = Probe::Exec(&[]).syscalls();
        let expect =
            Expect { path: "/usr/sbin/dockerd", keys: keys.map(<[&str]>::to_vec), syscalls };
        assert_eq!(expect.judge(&e, 8631), want);
    }

    #[test]
    fn which_event_proves_it() {
        let d = "/usr/sbin/dockerd";
        let hit = |k: &str| Seen::Hit(Some(k.to_string()));
        check(Some(&["docker"]), probe(59, 8631, "\"docker\"", d), hit("docker"));
        // Several keys (0x01-joined, hex-encoded by the kernel): any wanted one counts.
        check(Some(&["b"]), probe(59, 8631, "610162", d), hit("b"));
        check(None, probe(59, 8631, "(null)", d), Seen::Hit(None));
        check(None, probe(59, 8631, "\"x\"", d), hit("x"));
        check(
            Some(&["docker"]),
            probe(59, 8631, "\"exec\"", d),
            Seen::OtherKey(vec!["exec".into()]),
        );
        check(Some(&["docker"]), probe(59, 8631, "(null)", d), Seen::OtherKey(vec![]));
        // execveat (322 on x86_64) names the file too.
        check(Some(&["docker"]), probe(322, 8631, "\"docker\"", d), hit("docker"));
        // Not the probe: another syscall, another process, another file.
        check(Some(&["docker"]), probe(257, 8631, "\"docker\"", d), Seen::Other);
        check(Some(&["docker"]), probe(59, 1, "\"docker\"", d), Seen::Other);
        check(Some(&["docker"]), probe(59, 8631, "\"docker\"", "/usr/bin/dockerd"), Seen::Other);
        // The read probe waits for an openat (257 on x86_64) instead, a failed one included.
        let read = Expect {
            path: "/usr/sbin/dockerd",
            keys: Some(vec!["docker"]),
            syscalls: Probe::Read.syscalls(),
        };
        assert_eq!(read.judge(&probe(257, 8631, "\"docker\"", d), 8631), hit("docker"));
        assert_eq!(read.judge(&probe(59, 8631, "\"docker\"", d), 8631), Seen::Other);
    }
}
