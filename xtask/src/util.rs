//! Small helpers shared by the tasks.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The workspace root (xtask's manifest dir is `<root>/xtask`).
pub fn root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent().map(PathBuf::from).unwrap_or(dir)
}

/// Runs a command, failing with its command line when it exits non-zero.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

/// The kernel test lock (an `flock`, shared with the tests' `kernel_lock`), held until
/// dropped.
pub struct Lock {
    file: std::fs::File,
}

impl Lock {
    /// Takes the lock on `path`, waiting for its holder.
    pub fn take(path: &std::path::Path) -> Result<Lock> {
        use std::os::fd::AsRawFd;
        extern "C" {
            fn flock(fd: std::ffi::c_int, op: std::ffi::c_int) -> std::ffi::c_int;
        }
        const LOCK_EX: std::ffi::c_int = 2;
        let file = std::fs::File::options().create(true).truncate(false).write(true).open(path)?;
        // SAFETY: flock on a valid fd that `file` owns for the whole call.
        let rc = unsafe { flock(file.as_raw_fd(), LOCK_EX) };
        anyhow::ensure!(rc == 0, "flock {}: {}", path.display(), std::io::Error::last_os_error());
        Ok(Lock { file })
    }

    /// The file that holds the lock (the lock lives as long as it does).
    pub fn into_file(self) -> std::fs::File {
        self.file
    }
}

/// Whether the effective uid is 0 (from /proc/self/status: xtask has no libc binding).
pub fn is_root() -> Result<bool> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .context("no Uid line in /proc/self/status")?;
    Ok(euid == "0")
}
