//! One lock for nlaudit's commands that change the kernel's audit rules or settings (add,
//! delete, set, load, apply, docker ensure, the auditctl drop-in's changing options): two
//! runs at once would each plan on a list the other is changing. A second run waits,
//! saying for whom, up to a bound, then fails. Read-only commands never take it.
//!
//! The lock is an `flock` on `/run/nlaudit.lock` (the temporary directory where /run is not
//! writable); the holder writes its pid and command line into the file, so that a waiter
//! can name it. The kernel drops an flock when its holder dies, so a crash never leaves
//! the lock held. Where no lock file can be made (a read-only root with no /run), the
//! command goes on unlocked: there is nothing else it could serialise with.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::support::errors::{code, fail};

/// How long a second run waits by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// The environment variable that sets the wait, in seconds (0: do not wait).
pub const WAIT_VAR: &str = "NLAUDIT_LOCK_TIMEOUT";

/// Held for the life of the process once taken (a command may reach the lock twice).
static HELD: OnceLock<Option<File>> = OnceLock::new();

fn path() -> PathBuf {
    let run = std::path::Path::new("/run");
    if run.is_dir() {
        run.join("nlaudit.lock")
    } else {
        std::env::temp_dir().join("nlaudit.lock")
    }
}

fn wait_bound() -> Result<Duration> {
    match std::env::var(WAIT_VAR) {
        Err(_) => Ok(DEFAULT_WAIT),
        Ok(v) => v.trim().parse::<u64>().map(Duration::from_secs).map_err(|_| {
            fail(code::USAGE, format!("{WAIT_VAR}={v:?}: expected a number of seconds"))
        }),
    }
}

fn try_flock(f: &File) -> std::io::Result<bool> {
    // SAFETY: flock on a valid fd that `f` owns for the whole call.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EWOULDBLOCK) => Ok(false),
        _ => Err(e),
    }
}

/// Who holds the lock, as its holder wrote it (`pid 123: nlaudit apply /etc/audit/rules.d`).
fn holder(f: &mut File) -> String {
    let mut s = String::new();
    let _ = f.rewind().and_then(|_| f.read_to_string(&mut s));
    match s.trim().split_once(' ') {
        Some((pid, cmd)) => format!("pid {pid} ({cmd})"),
        None => "another nlaudit".to_string(),
    }
}

/// Takes the lock for a command that changes the kernel, waiting up to the bound
/// ([`WAIT_VAR`], default [`DEFAULT_WAIT`]); says on stderr whom it waits for.
pub fn for_change() -> Result<()> {
    if HELD.get().is_some() {
        return Ok(());
    }
    let bound = wait_bound()?;
    let p = path();
    let opened = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&p);
    let Ok(mut f) = opened else {
        let _ = HELD.set(None);
        return Ok(());
    };
    let start = Instant::now();
    let mut told = false;
    loop {
        match try_flock(&f) {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => {
                return Err(fail(code::FAILED, format!("cannot lock {}: {e}", p.display())));
            }
        }
        let who = holder(&mut f);
        if start.elapsed() >= bound {
            return Err(fail(
                code::FAILED,
                format!(
                    "another nlaudit is changing the audit rules: {who} has held {} for more \
                     than {} s; nothing was changed (wait for it, or set {WAIT_VAR} to wait \
                     longer)",
                    p.display(),
                    bound.as_secs()
                ),
            ));
        }
        if !told {
            eprintln!("nlaudit: waiting for {who} to finish changing the audit rules");
            told = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let me: Vec<String> = std::env::args().collect();
    let mut cmd = me.join(" ");
    cmd.truncate(cmd.char_indices().nth(300).map_or(cmd.len(), |(i, _)| i));
    let _ = f.set_len(0).and_then(|_| f.rewind());
    // One write: `writeln!` on a File is a write(2) per piece (four for this line).
    let _ = f.write_all(format!("{} {cmd}\n", std::process::id()).as_bytes());
    let _ = HELD.set(Some(f));
    Ok(())
}

/// The lock held for one change of a long-running process (the daemon's repairs), released
/// on drop.
#[derive(Debug)]
pub struct Held(#[allow(dead_code)] Option<File>);

/// Takes the lock now if it is free, for a change the caller makes and then releases
/// (dropping [`Held`]): `Ok(None)` when another nlaudit holds it (try again later). Where no
/// lock file can be made, goes on unlocked, as [`for_change`] does.
pub fn try_hold(what: &str) -> Result<Option<Held>> {
    if HELD.get().is_some() {
        return Ok(Some(Held(None)));
    }
    let p = path();
    let opened = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&p);
    let Ok(mut f) = opened else { return Ok(Some(Held(None))) };
    match try_flock(&f) {
        Ok(true) => {}
        Ok(false) => return Ok(None),
        Err(e) => return Err(fail(code::FAILED, format!("cannot lock {}: {e}", p.display()))),
    }
    let _ = f.set_len(0).and_then(|_| f.rewind());
    let _ = f.write_all(format!("{} {what}\n", std::process::id()).as_bytes());
    Ok(Some(Held(Some(f))))
}
