//! The log file, as auditd 3.0.9 keeps it (src/auditd-event.c), with two differences that
//! the tests pin: records are buffered while the socket has more pending and written when it
//! is drained (auditd writes each line as it comes), and size and space are checked in the
//! foreground too (auditd skips both with `-n`).
//!
//! - Created with `O_CREAT|O_EXCL`, then mode 0640 with a `log_group`, else 0600, owner root
//!   and that group (`create_log_file`, `open_audit_log`); opened `O_APPEND|O_NOFOLLOW`
//!   (`O_DSYNC` for `flush = data`, `O_SYNC` for `sync`); a file that is not a regular file
//!   is refused. The directory's permissions are left alone (auditd chmods it to 0750).
//! - Only whole lines are written: one `write` per buffer of whole lines. A file that does
//!   not end in a newline (a writer killed mid-write) loses its partial last line when it is
//!   opened again, and that is reported.
//! - Rotation renames `FILE.N-1` to `FILE.N` ... `FILE` to `FILE.1` and opens a new `FILE`;
//!   the old file becomes 0440 (0400 without a group). `keep_logs` shifts without a limit.
//! - A record that cannot be written (error, suspended) is counted; the count is handed to
//!   the daemon, which logs it as soon as writing works again.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;

use nix::errno::Errno;

use crate::config::{Config, DiskAction, Flush, LogTarget, SizeAction, Space};

/// Bytes buffered before a write even while more records are pending.
pub const BUFFER_BYTES: usize = 64 * 1024;
/// Bytes written between free-space checks.
pub const SPACE_CHECK_BYTES: u64 = 256 * 1024;
const MEGABYTE: u64 = 1024 * 1024;

/// Why logging stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SuspendReason {
    /// The file reached `max_log_file` (`max_log_file_action = suspend`).
    Size,
    /// Free space fell to `space_left` (`space_left_action = suspend`).
    SpaceLeft,
    /// Free space fell to `admin_space_left`.
    AdminSpaceLeft,
    /// The disk is full (`disk_full_action = suspend`).
    DiskFull,
    /// A write or open failed (`disk_error_action = suspend`).
    DiskError,
}

impl SuspendReason {
    fn text(self) -> &'static str {
        match self {
            SuspendReason::Size => "the log reached max_log_file",
            SuspendReason::SpaceLeft => "free space fell to space_left",
            SuspendReason::AdminSpaceLeft => "free space fell to admin_space_left",
            SuspendReason::DiskFull => "the disk is full",
            SuspendReason::DiskError => "writing failed",
        }
    }
}

/// Something the operator should hear about; the daemon hands these to its host to log.
#[derive(Debug)]
#[non_exhaustive]
pub enum Notice {
    /// A partial last line (a writer killed mid-write) was removed on open.
    Repaired {
        /// The file.
        path: PathBuf,
        /// Bytes removed.
        bytes: u64,
    },
    /// A rotation was asked for but `num_logs` is below 2.
    RotationDisabled,
    /// An old log beyond `num_logs` was deleted.
    ExcessLogRemoved {
        /// The file.
        path: PathBuf,
    },
    /// The log reached `max_log_file` (`max_log_file_action = syslog`).
    SizeLimit {
        /// Its size in bytes.
        size: u64,
    },
    /// Free space fell to a threshold (action `syslog`, or before another action).
    LowSpace {
        /// Which threshold: `space_left` or `admin_space_left`.
        threshold: &'static str,
        /// Megabytes free.
        free_mb: u64,
    },
    /// A file operation failed.
    Failed {
        /// What was done (`write`, `open`, `rotate`, `fsync`).
        op: &'static str,
        /// On which file.
        path: PathBuf,
        /// The error.
        error: io::Error,
    },
    /// Logging is suspended; records are counted until SIGUSR2.
    Suspended(SuspendReason),
    /// Logging resumed.
    Resumed,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::Repaired { path, bytes } => write!(
                f,
                "{}: removed a partial last line of {bytes} bytes (an earlier writer was killed mid-write)",
                path.display()
            ),
            Notice::RotationDisabled => f.write_str("log rotation disabled (num_logs < 2), skipping"),
            Notice::ExcessLogRemoved { path } => {
                write!(f, "log {} removed as it exceeds num_logs", path.display())
            }
            Notice::SizeLimit { size } => write!(f, "the audit log is larger than max_log_file ({size} bytes)"),
            Notice::LowSpace { threshold, free_mb } => {
                write!(f, "free space for the audit log is low: {free_mb} MB left ({threshold})")
            }
            Notice::Failed { op, path, error } => {
                write!(f, "cannot {op} {}: {error}", path.display())
            }
            Notice::Suspended(r) => write!(
                f,
                "audit logging suspended because {}; records are counted, not written, until SIGUSR2",
                r.text()
            ),
            Notice::Resumed => f.write_str("audit logging resumed"),
        }
    }
}

/// The log cannot be opened at start.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the audit log {path}: {source}", path = path.display())]
pub struct OpenError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
}

/// Counters and state, for the SIGCONT report and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogState {
    /// Lines written since start.
    pub written: u64,
    /// Records not written since start (errors, suspension).
    pub unwritten: u64,
    /// The current file's size.
    pub size: u64,
    /// Why logging is suspended, if it is.
    pub suspended: Option<SuspendReason>,
    /// Rotations done.
    pub rotations: u64,
}

/// The background `fdatasync` of `flush = incremental_async`.
#[derive(Debug)]
struct Syncer {
    tx: mpsc::SyncSender<Arc<File>>,
}

impl Syncer {
    fn start() -> Syncer {
        let (tx, rx) = mpsc::sync_channel::<Arc<File>>(1);
        std::thread::spawn(move || {
            for f in rx {
                // An error here shows again on the next write, where it is acted on.
                let _ = f.sync_data();
            }
        });
        Syncer { tx }
    }

    fn request(&self, f: &Arc<File>) {
        // A sync already queued covers this one.
        let _ = self.tx.try_send(Arc::clone(f));
    }
}

/// The audit log.
#[derive(Debug)]
pub struct LogWriter {
    target: LogTarget,
    group: u32,
    flush: Flush,
    freq: u32,
    max_bytes: u64,
    num_logs: u32,
    size_action: SizeAction,
    space_left: Space,
    space_left_action: DiskAction,
    admin_space_left: Space,
    admin_space_left_action: DiskAction,
    disk_full_action: DiskAction,
    disk_error_action: DiskAction,
    file: Option<Arc<File>>,
    buf: Vec<u8>,
    buffered: u64,
    since_sync: u32,
    since_space_check: u64,
    syncer: Option<Syncer>,
    warned_space: bool,
    warned_admin: bool,
    warned_size: bool,
    failing: bool,
    unreported: u64,
    last_log: u32,
    ownership: Ownership,
    state: LogState,
    notices: Vec<Notice>,
}

/// Whether the log is this daemon's yet (see [`LogWriter::take_ownership`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ownership {
    /// Not registered yet: another daemon may be appending to the same file.
    Shared,
    /// Registered: nobody else writes here.
    Owned,
}

fn mode_of(group: u32) -> u32 {
    if group != 0 {
        0o640
    } else {
        0o600
    }
}

fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

impl LogWriter {
    /// Opens the log the configuration names (standard output for `-`).
    pub fn open(cfg: &Config) -> Result<LogWriter, OpenError> {
        let mut w = LogWriter {
            target: cfg.log_file.clone(),
            group: cfg.log_group,
            flush: cfg.flush,
            freq: cfg.freq,
            max_bytes: cfg.max_log_file.saturating_mul(MEGABYTE),
            num_logs: cfg.num_logs,
            size_action: cfg.max_log_file_action,
            space_left: cfg.space_left,
            space_left_action: cfg.space_left_action,
            admin_space_left: cfg.admin_space_left,
            admin_space_left_action: cfg.admin_space_left_action,
            disk_full_action: cfg.disk_full_action,
            disk_error_action: cfg.disk_error_action,
            file: None,
            buf: Vec::with_capacity(BUFFER_BYTES * 2),
            buffered: 0,
            since_sync: 0,
            since_space_check: 0,
            syncer: (cfg.flush == Flush::IncrementalAsync).then(Syncer::start),
            warned_space: false,
            warned_admin: false,
            warned_size: false,
            failing: false,
            unreported: 0,
            last_log: 1,
            ownership: Ownership::Shared,
            state: LogState { written: 0, unwritten: 0, size: 0, suspended: None, rotations: 0 },
            notices: Vec::new(),
        };
        let path = w.path().map(Path::to_path_buf);
        w.open_file().map_err(|source| OpenError {
            path: path.unwrap_or_else(|| PathBuf::from("-")),
            source,
        })?;
        w.remove_excess_logs();
        w.check_space();
        Ok(w)
    }

    /// Takes the settings of a new configuration (SIGHUP); a changed file or flush mode
    /// reopens the log.
    pub fn reconfigure(&mut self, cfg: &Config) {
        let reopen =
            cfg.log_file != self.target || cfg.flush != self.flush || cfg.log_group != self.group;
        self.flush_buffer();
        self.target = cfg.log_file.clone();
        self.group = cfg.log_group;
        self.flush = cfg.flush;
        self.freq = cfg.freq;
        self.max_bytes = cfg.max_log_file.saturating_mul(MEGABYTE);
        self.num_logs = cfg.num_logs;
        self.size_action = cfg.max_log_file_action;
        self.space_left = cfg.space_left;
        self.space_left_action = cfg.space_left_action;
        self.admin_space_left = cfg.admin_space_left;
        self.admin_space_left_action = cfg.admin_space_left_action;
        self.disk_full_action = cfg.disk_full_action;
        self.disk_error_action = cfg.disk_error_action;
        if self.flush == Flush::IncrementalAsync && self.syncer.is_none() {
            self.syncer = Some(Syncer::start());
        }
        if reopen {
            self.file = None;
            if let Err(e) = self.open_file() {
                self.fail("open", e);
            }
        }
        self.warned_space = false;
        self.warned_admin = false;
        self.warned_size = false;
        self.check_space();
    }

    /// The file, or `None` for standard output.
    pub fn path(&self) -> Option<&Path> {
        match &self.target {
            LogTarget::File(p) => Some(p),
            LogTarget::Stdout => None,
        }
    }

    fn shown_path(&self) -> PathBuf {
        self.path().map_or_else(|| PathBuf::from("-"), Path::to_path_buf)
    }

    /// Counters and state.
    pub fn state(&self) -> &LogState {
        &self.state
    }

    /// What happened since the last call.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// Records that could not be written and have not been reported in the log yet; the
    /// count is handed over (and reset) only while writing works, so that the report can
    /// be written next.
    pub fn take_unreported(&mut self) -> Option<u64> {
        if self.unreported == 0 || self.state.suspended.is_some() || self.failing {
            return None;
        }
        Some(std::mem::take(&mut self.unreported))
    }

    /// Whether records are being written (not suspended).
    pub fn is_writing(&self) -> bool {
        self.state.suspended.is_none()
    }

    fn open_file(&mut self) -> io::Result<()> {
        let Some(path) = self.path().map(Path::to_path_buf) else {
            // SAFETY: dup of our standard output; the new fd is owned by the File.
            let fd = unsafe { libc::dup(libc::STDOUT_FILENO) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: fd is a fresh descriptor that nothing else owns.
            let f = unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
            self.file = Some(Arc::new(f));
            return Ok(());
        };
        let mut flags = libc::O_NOFOLLOW | libc::O_CLOEXEC;
        match self.flush {
            Flush::Data => flags |= libc::O_DSYNC,
            Flush::Sync => flags |= libc::O_SYNC,
            _ => {}
        }
        let open =
            || std::fs::OpenOptions::new().read(true).append(true).custom_flags(flags).open(&path);
        let f = match open() {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // create_log_file: O_CREAT|O_EXCL, 0640 under umask 007.
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o640)
                    .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                    .open(&path)?;
                open()?
            }
            Err(e) => return Err(e),
        };
        let meta = f.metadata()?;
        if !meta.file_type().is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        f.set_permissions(std::fs::Permissions::from_mode(mode_of(self.group)))?;
        std::os::unix::fs::fchown(&f, Some(0), Some(self.group))?;
        self.state.size = meta.size();
        self.file = Some(Arc::new(f));
        if self.ownership == Ownership::Owned {
            self.repair()?;
        }
        Ok(())
    }

    /// Called once this process is the registered daemon: from now on the log is ours, and
    /// a partial last line (a writer killed mid-write) is cut. Before, another daemon may be
    /// writing the same file, and its line in progress must not be touched.
    pub fn take_ownership(&mut self) {
        self.ownership = Ownership::Owned;
        if let Err(e) = self.repair() {
            self.fail("repair", e);
        }
    }

    fn repair(&mut self) -> io::Result<()> {
        let (Some(f), Some(path)) = (self.file.clone(), self.path().map(Path::to_path_buf)) else {
            return Ok(());
        };
        let removed = repair_partial_line(&f, self.state.size)?;
        if removed > 0 {
            self.state.size -= removed;
            self.notices.push(Notice::Repaired { path, bytes: removed });
        }
        Ok(())
    }

    /// Adds one record's line (without its newline). It is written at once for
    /// `flush = data|sync`, else when the buffer is large or [`LogWriter::flush`] is called.
    pub fn push_line(&mut self, line: &[u8]) {
        if self.state.suspended.is_some() {
            self.state.unwritten += 1;
            self.unreported += 1;
            return;
        }
        self.buf.extend_from_slice(line);
        self.buf.push(b'\n');
        self.buffered += 1;
        if matches!(self.flush, Flush::Data | Flush::Sync) || self.buf.len() >= BUFFER_BYTES {
            self.flush();
        }
    }

    /// Writes what is buffered, then syncs, checks size and space as configured.
    pub fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let lines = self.buffered;
        if !self.flush_buffer() {
            return;
        }
        if matches!(self.flush, Flush::Incremental | Flush::IncrementalAsync) {
            self.since_sync = self.since_sync.saturating_add(lines as u32);
            if self.since_sync >= self.freq.max(1) {
                self.since_sync = 0;
                self.sync();
            }
        }
        self.check_size();
        if self.since_space_check >= SPACE_CHECK_BYTES {
            self.check_space();
        }
    }

    /// Writes the buffer; false when it could not (its lines are counted as unwritten).
    fn flush_buffer(&mut self) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        let lines = std::mem::take(&mut self.buffered);
        if self.file.is_none() && self.state.suspended.is_none() {
            if let Err(e) = self.open_file() {
                self.drop_buffer(lines);
                self.fail("open", e);
                return false;
            }
        }
        let Some(f) = self.file.as_ref() else {
            self.drop_buffer(lines);
            return false;
        };
        let mut out: &File = f;
        match out.write_all(&self.buf) {
            Ok(()) => {
                let n = self.buf.len() as u64;
                self.state.size += n;
                self.since_space_check += n;
                self.state.written += lines;
                self.buf.clear();
                if self.failing {
                    self.failing = false;
                }
                true
            }
            Err(e) => {
                // A short write leaves part of a line: cut the file back to whole lines.
                if let (Some(f), LogTarget::File(_)) = (self.file.as_ref(), &self.target) {
                    let _ = f.set_len(self.state.size);
                }
                self.drop_buffer(lines);
                self.fail("write", e);
                false
            }
        }
    }

    fn drop_buffer(&mut self, lines: u64) {
        self.buf.clear();
        self.state.unwritten += lines;
        self.unreported += lines;
    }

    /// Writes what is buffered and waits for it to reach the disk (at stop).
    pub fn sync_now(&mut self) {
        self.flush_buffer();
        if let Some(f) = &self.file {
            // Standard output may be a pipe (EINVAL); the data is written either way.
            let _ = f.sync_data();
        }
    }

    fn sync(&mut self) {
        let Some(f) = self.file.clone() else { return };
        if let Some(s) = &self.syncer {
            s.request(&f);
        } else if let Err(e) = f.sync_data() {
            if e.raw_os_error() != Some(libc::EINVAL) {
                // EINVAL: standard output is a pipe; nothing to sync.
                self.fail("fsync", e);
            }
        }
    }

    /// Reports a failure once per episode and takes the configured action.
    fn fail(&mut self, op: &'static str, error: io::Error) {
        let full = error.raw_os_error() == Some(libc::ENOSPC);
        let action = if full { self.disk_full_action } else { self.disk_error_action };
        let first = !self.failing;
        self.failing = true;
        if first || action != DiskAction::Ignore {
            self.notices.push(Notice::Failed { op, path: self.shown_path(), error });
        }
        let reason = if full { SuspendReason::DiskFull } else { SuspendReason::DiskError };
        self.act(action, reason);
    }

    fn act(&mut self, action: DiskAction, reason: SuspendReason) {
        match action {
            DiskAction::Ignore | DiskAction::Syslog => {}
            DiskAction::Rotate => self.rotate_now(),
            DiskAction::Suspend => self.suspend(reason),
        }
    }

    fn suspend(&mut self, reason: SuspendReason) {
        if self.state.suspended.is_none() {
            self.flush_buffer();
            self.state.suspended = Some(reason);
            // Closed so that the file can be moved or deleted by hand (as auditd does).
            self.file = None;
            self.notices.push(Notice::Suspended(reason));
        }
    }

    /// SIGUSR2: resume logging after a suspension (reopening the file).
    pub fn resume(&mut self) {
        self.warned_space = false;
        self.warned_admin = false;
        self.warned_size = false;
        self.failing = false;
        if self.state.suspended.take().is_some() {
            self.notices.push(Notice::Resumed);
        }
        if self.file.is_none() {
            if let Err(e) = self.open_file() {
                self.fail("open", e);
            }
        }
    }

    fn check_size(&mut self) {
        if self.max_bytes == 0 || self.state.size < self.max_bytes || self.path().is_none() {
            return;
        }
        match self.size_action {
            SizeAction::Ignore => {}
            SizeAction::Syslog => {
                if !self.warned_size {
                    self.warned_size = true;
                    self.notices.push(Notice::SizeLimit { size: self.state.size });
                }
            }
            SizeAction::Suspend => self.suspend(SuspendReason::Size),
            SizeAction::Rotate => {
                if self.num_logs > 1 {
                    self.rotate(self.num_logs, Keep::Limit);
                }
            }
            SizeAction::KeepLogs => self.shift(),
        }
    }

    /// SIGUSR1 or an action: rotate now (`keep_logs` shifts instead).
    pub fn rotate_now(&mut self) {
        if self.size_action == SizeAction::KeepLogs {
            self.shift();
        } else {
            self.rotate(self.num_logs, Keep::Limit);
        }
    }

    fn shift(&mut self) {
        let Some(path) = self.path().map(Path::to_path_buf) else { return };
        let mut n = self.last_log.max(1);
        while numbered(&path, n).exists() {
            n += 1;
        }
        if n <= self.last_log && self.last_log > 1 {
            n = 1;
            while numbered(&path, n).exists() {
                n += 1;
            }
        }
        self.last_log = n;
        self.rotate(n + 1, Keep::All);
    }

    /// auditd's `rotate_logs`: `FILE.(n-2)` -> `FILE.(n-1)` ... `FILE` -> `FILE.1`.
    fn rotate(&mut self, num_logs: u32, keep: Keep) {
        let Some(path) = self.path().map(Path::to_path_buf) else { return };
        if self.num_logs < 2 && keep == Keep::Limit {
            self.notices.push(Notice::RotationDisabled);
            return;
        }
        self.flush_buffer();
        if let Some(f) = self.file.take() {
            let ro = if self.group != 0 { 0o440 } else { 0o400 };
            let _ = f.set_permissions(std::fs::Permissions::from_mode(ro));
            let _ = std::os::unix::fs::fchown(&*f, Some(0), Some(self.group));
        }
        for i in (2..num_logs).rev() {
            if let Err(e) = std::fs::rename(numbered(&path, i - 1), numbered(&path, i)) {
                if e.kind() != io::ErrorKind::NotFound {
                    self.fail("rotate", e);
                }
            }
        }
        if let Err(e) = std::fs::rename(&path, numbered(&path, 1)) {
            if e.kind() != io::ErrorKind::NotFound {
                let _ = std::fs::set_permissions(
                    &path,
                    std::fs::Permissions::from_mode(mode_of(self.group)),
                );
                self.fail("rotate", e);
            }
        }
        self.state.rotations += 1;
        self.state.size = 0;
        self.warned_size = false;
        if self.state.suspended.is_none() {
            if let Err(e) = self.open_file() {
                self.fail("open", e);
            }
        }
    }

    /// auditd's `check_excess_logs`: with `rotate` and a limit, deletes `FILE.num_logs`
    /// and beyond.
    fn remove_excess_logs(&mut self) {
        let Some(path) = self.path().map(Path::to_path_buf) else { return };
        if self.size_action != SizeAction::Rotate || self.num_logs < 2 {
            return;
        }
        let mut i = self.num_logs;
        while std::fs::remove_file(numbered(&path, i)).is_ok() {
            self.notices.push(Notice::ExcessLogRemoved { path: numbered(&path, i) });
            i += 1;
        }
    }

    /// Checks free space against `space_left` and `admin_space_left`.
    pub fn check_space(&mut self) {
        self.since_space_check = 0;
        let Some(dir) = self.path().and_then(Path::parent).map(Path::to_path_buf) else { return };
        let Ok(st) = nix::sys::statvfs::statvfs(&dir) else { return };
        // The statvfs field types are u64 here, u32 on some 32-bit targets.
        #[allow(clippy::unnecessary_cast)]
        let (frsize, avail, blocks) =
            (st.fragment_size() as u64, st.blocks_available() as u64, st.blocks() as u64);
        let free = avail.saturating_mul(frsize);
        let total = blocks.saturating_mul(frsize);
        let free_mb = free / MEGABYTE;
        let reached = |s: Space| match s {
            Space::Megabytes(0) => false,
            Space::Megabytes(m) => free_mb <= m,
            Space::Percent(p) => total > 0 && (free as f64) * 100.0 / (total as f64) <= p,
        };
        if reached(self.admin_space_left) {
            if !self.warned_admin {
                self.warned_admin = true;
                self.notices.push(Notice::LowSpace { threshold: "admin_space_left", free_mb });
                self.act(self.admin_space_left_action, SuspendReason::AdminSpaceLeft);
            }
        } else if reached(self.space_left) {
            if !self.warned_space {
                self.warned_space = true;
                self.notices.push(Notice::LowSpace { threshold: "space_left", free_mb });
                self.act(self.space_left_action, SuspendReason::SpaceLeft);
            }
        } else {
            self.warned_space = false;
            self.warned_admin = false;
        }
    }
}

/// Whether a rotation deletes beyond `num_logs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keep {
    Limit,
    All,
}

/// Cuts `f` back to its last newline; returns the bytes removed.
fn repair_partial_line(mut f: &File, size: u64) -> io::Result<u64> {
    if size == 0 {
        return Ok(0);
    }
    let mut last = [0u8; 1];
    f.seek(SeekFrom::Start(size - 1))?;
    f.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(0);
    }
    // Read backwards in blocks to the previous newline.
    let mut end = size;
    let mut block = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(block.len() as u64);
        let n = (end - start) as usize;
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut block[..n])?;
        if let Some(i) = block[..n].iter().rposition(|&b| b == b'\n') {
            let keep = start + i as u64 + 1;
            f.set_len(keep)?;
            return Ok(size - keep);
        }
        end = start;
    }
    f.set_len(0)?;
    Ok(size)
}

/// The errno of an io error, for reports.
pub fn errno_of(e: &io::Error) -> Option<Errno> {
    e.raw_os_error().map(Errno::from_raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    struct Dir(PathBuf);
    impl Dir {
        fn new(tag: &str) -> Dir {
            let p = std::env::temp_dir().join(format!("nlaudit-log-{}-{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).expect("mkdir");
            Dir(p)
        }
        fn file(&self) -> PathBuf {
            self.0.join("audit.log")
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn config(d: &Dir) -> Config {
        Config {
            log_file: LogTarget::File(d.file()),
            flush: Flush::None,
            space_left: Space::Megabytes(0),
            admin_space_left: Space::Megabytes(0),
            ..Config::default()
        }
    }

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).expect("read")
    }

    #[test]
    fn creates_with_auditd_modes_and_writes_whole_lines() {
        let d = Dir::new("create");
        let mut w = LogWriter::open(&config(&d)).expect("open");
        w.push_line(b"type=A msg=audit(1.000:1): x=1");
        assert_eq!(read(&d.file()), "", "buffered until flush");
        w.flush();
        assert_eq!(read(&d.file()), "type=A msg=audit(1.000:1): x=1\n");
        let m = std::fs::metadata(d.file()).expect("meta");
        assert_eq!(m.mode() & 0o777, 0o600);
        let mut with_group = config(&d);
        with_group.log_group = 4;
        let d2 = Dir::new("create-group");
        with_group.log_file = LogTarget::File(d2.file());
        drop(LogWriter::open(&with_group).expect("open"));
        let m = std::fs::metadata(d2.file()).expect("meta");
        assert_eq!((m.mode() & 0o777, m.gid()), (0o640, 4));
    }

    #[test]
    fn partial_last_line_is_cut_on_open() {
        let d = Dir::new("repair");
        std::fs::write(d.file(), "one\ntwo\nthr").expect("write");
        let mut w = LogWriter::open(&config(&d)).expect("open");
        assert!(w.take_notices().is_empty(), "not before the daemon owns the log");
        assert_eq!(read(&d.file()), "one\ntwo\nthr");
        w.take_ownership();
        assert!(matches!(w.take_notices().as_slice(), [Notice::Repaired { bytes: 3, .. }]));
        w.push_line(b"four");
        w.flush();
        assert_eq!(read(&d.file()), "one\ntwo\nfour\n");
        std::fs::write(d.file(), "no newline at all").expect("write");
        LogWriter::open(&config(&d)).expect("open").take_ownership();
        assert_eq!(read(&d.file()), "");
    }

    #[test]
    fn rotation_by_request_and_by_size() {
        let d = Dir::new("rotate");
        let mut c = config(&d);
        c.num_logs = 3;
        let mut w = LogWriter::open(&c).expect("open");
        for i in 0..4 {
            w.push_line(format!("line {i}").as_bytes());
            w.flush();
            w.rotate_now();
        }
        assert_eq!(read(&d.file()), "");
        assert_eq!(read(&numbered(&d.file(), 1)), "line 3\n");
        assert_eq!(read(&numbered(&d.file(), 2)), "line 2\n");
        assert!(!numbered(&d.file(), 3).exists(), "num_logs counts the current file");
        let m = std::fs::metadata(numbered(&d.file(), 1)).expect("meta");
        assert_eq!(m.mode() & 0o777, 0o400);

        let d = Dir::new("size");
        let mut c = config(&d);
        c.max_log_file = 1;
        c.num_logs = 2;
        let mut w = LogWriter::open(&c).expect("open");
        let line = vec![b'x'; 1023];
        for _ in 0..1025 {
            w.push_line(&line);
        }
        w.flush();
        assert!(numbered(&d.file(), 1).exists());
        let rotated = std::fs::metadata(numbered(&d.file(), 1)).expect("meta").len();
        assert!(rotated >= MEGABYTE, "{rotated}");
        assert_eq!(w.state().rotations, 1);
        assert_eq!(w.state().written, 1025);
    }

    #[test]
    fn keep_logs_never_deletes() {
        let d = Dir::new("keep");
        let mut c = config(&d);
        c.num_logs = 2;
        c.max_log_file_action = SizeAction::KeepLogs;
        let mut w = LogWriter::open(&c).expect("open");
        for i in 0..4 {
            w.push_line(format!("{i}").as_bytes());
            w.flush();
            w.rotate_now();
        }
        for (n, want) in [(1, "3\n"), (2, "2\n"), (3, "1\n"), (4, "0\n")] {
            assert_eq!(read(&numbered(&d.file(), n)), want);
        }
    }

    #[test]
    fn suspended_records_are_counted_and_handed_over_after_resume() {
        let d = Dir::new("suspend");
        let mut c = config(&d);
        c.max_log_file = 1;
        c.max_log_file_action = SizeAction::Suspend;
        let mut w = LogWriter::open(&c).expect("open");
        let line = vec![b'x'; 2047];
        for _ in 0..512 {
            w.push_line(&line); // 512 lines of 2 KiB: 1 MiB
        }
        w.flush();
        assert_eq!(w.state().suspended, Some(SuspendReason::Size));
        assert_eq!(w.state().unwritten, 0);
        w.push_line(b"lost 1");
        w.push_line(b"lost 2");
        assert_eq!(w.take_unreported(), None, "not while suspended");
        assert_eq!(w.state().unwritten, 2);
        std::fs::remove_file(d.file()).expect("rm");
        w.resume();
        assert_eq!(w.take_unreported(), Some(2));
        assert_eq!(w.take_unreported(), None);
        w.push_line(b"after");
        w.flush();
        assert_eq!(read(&d.file()), "after\n");
    }

    #[test]
    fn excess_logs_are_removed_at_open() {
        let d = Dir::new("excess");
        for n in 2..=4 {
            std::fs::write(numbered(&d.file(), n), "old\n").expect("write");
        }
        let mut c = config(&d);
        c.num_logs = 3;
        let mut w = LogWriter::open(&c).expect("open");
        assert!(numbered(&d.file(), 2).exists());
        assert!(!numbered(&d.file(), 3).exists() && !numbered(&d.file(), 4).exists());
        assert_eq!(w.take_notices().len(), 2);
    }
}
