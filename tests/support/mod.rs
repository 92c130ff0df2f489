//! Shared support for the integration tests.
//!
//! The kernel's audit state is global: every test that touches it takes [`kernel_lock`] (an
//! flock, so separate test binaries and processes serialize too), uses unique keys, and
//! restores what it found with the guards below. Outside CI the kernel tests skip with a
//! message when not root; with CI=true they must run, and a missing privilege fails.
#![allow(dead_code)]

pub mod corpus;
pub mod schema;

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use nlaudit_proto::{AuditEnabled, Client, RuleData, Setting, Status, Switch};

/// The nlaudit binary: `NLAUDIT_BIN` (container runs), else the one cargo built.
pub fn nlaudit_bin() -> PathBuf {
    std::env::var_os("NLAUDIT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_nlaudit")))
}

/// Runs nlaudit with arguments.
pub fn nlaudit(args: &[&str]) -> Output {
    Command::new(nlaudit_bin()).args(args).stdin(Stdio::null()).output().expect("run nlaudit")
}

/// Whether we are in CI (kernel tests must run there).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether we run as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Returns false (and says why) when kernel tests cannot run here; panics in CI.
pub fn kernel_available(test: &str) -> bool {
    if is_root() {
        return true;
    }
    assert!(!in_ci(), "{test}: kernel tests must run as root in CI");
    eprintln!("skipping {test}: needs root (kernel audit state)");
    false
}

/// The real auditctl, when installed (it is the reference, never used by nlaudit itself).
/// In CI outside containers it must be present.
pub fn auditctl_path() -> Option<PathBuf> {
    for p in ["/usr/sbin/auditctl", "/sbin/auditctl"] {
        if std::path::Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    assert!(
        !in_ci() || std::env::var_os("NLAUDIT_IN_CONTAINER").is_some(),
        "auditctl (Debian package auditd) is required in CI"
    );
    None
}

/// Runs auditctl with arguments.
pub fn auditctl(args: &[&str]) -> Option<Output> {
    let p = auditctl_path()?;
    Some(Command::new(p).args(args).stdin(Stdio::null()).output().expect("run auditctl"))
}

/// A unique key for this process and call: `nlaudit-test-<pid>-<n>-<tag>`.
pub fn unique_key(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("nlt-{}-{}-{tag}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Holds the machine-wide kernel test lock (flock on /run/nlaudit-tests.lock).
pub struct KernelLock {
    _file: File,
}

/// Takes the kernel test lock, waiting for other tests and processes.
pub fn kernel_lock() -> KernelLock {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/run/nlaudit-tests.lock")
        .or_else(|_| File::create(std::env::temp_dir().join("nlaudit-tests.lock")))
        .expect("lock file");
    // SAFETY: flock on a valid, owned fd.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(rc, 0, "flock");
    KernelLock { _file: file }
}

/// Restores the kernel's rules and settings on drop: rules this guard's test added (any
/// rule not present at the start) are deleted, rules that were present and vanished are
/// re-added, and the reversible settings are put back.
pub struct KernelGuard {
    rules: Vec<RuleData>,
    status: Status,
    _lock: KernelLock,
}

impl KernelGuard {
    /// Takes the lock and records the state.
    pub fn new() -> KernelGuard {
        let lock = kernel_lock();
        let mut c = Client::open().expect("open audit socket");
        let status = c.status().expect("status");
        assert_ne!(
            status.enabled,
            AuditEnabled::Locked,
            "the audit configuration is immutable: cannot test"
        );
        let rules = c.list_rules().expect("list");
        KernelGuard { rules, status, _lock: lock }
    }

    /// The rules in force when the guard was made.
    pub fn initial_rules(&self) -> &[RuleData] {
        &self.rules
    }

    /// The status when the guard was made.
    pub fn initial_status(&self) -> &Status {
        &self.status
    }
}

impl Default for KernelGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for KernelGuard {
    fn drop(&mut self) {
        let Ok(mut c) = Client::open() else { return };
        if let Ok(now) = c.list_rules() {
            for r in now.iter().filter(|r| !self.rules.contains(r)) {
                let _ = c.delete_rule(r);
            }
            for r in self.rules.iter().filter(|r| !now.contains(r)) {
                let _ = c.add_rule(r);
            }
        }
        if let Ok(s) = c.status() {
            let want = &self.status;
            if s.enabled != want.enabled && want.enabled.raw() < 2 {
                let on =
                    if want.enabled == AuditEnabled::Enabled { Switch::On } else { Switch::Off };
                let _ = c.set(Setting::Enabled(on));
            }
            if s.failure != want.failure && want.failure < 2 {
                let _ = c.set(Setting::Failure(want.failure));
            }
            if s.rate_limit != want.rate_limit {
                let _ = c.set(Setting::RateLimit(want.rate_limit));
            }
            if s.backlog_limit != want.backlog_limit {
                let _ = c.set(Setting::BacklogLimit(want.backlog_limit));
            }
            if let (Some(a), Some(b)) = (s.backlog_wait_time, want.backlog_wait_time) {
                if a != b {
                    let _ = c.set(Setting::BacklogWaitTime(b));
                }
            }
        }
    }
}

/// stdout of an Output as a String.
pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr of an Output as a String.
pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
