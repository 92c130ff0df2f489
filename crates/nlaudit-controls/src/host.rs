//! The machine the controls look at, behind one trait: [`Host`].
//!
//! Everything the checks learn about a machine comes through it: the files of its tree
//! (the running machine's `/`, or an image tree mounted at `--root DIR`), its processes, its
//! PATH, systemd's view of a unit, its mounts and its user and group names. Paths handed to
//! a host are always the ones inside the root (`/usr/sbin/dockerd`), never
//! `DIR/usr/sbin/dockerd`. [`SystemHost`] and [`RootHost`] are the real ones; tests give
//! their own.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nlaudit_rules::Env;

/// What a host is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The running machine: processes, the kernel and mounts belong to it.
    Live,
    /// An image tree: only its files.
    Image,
}

/// What a path is, without following a last symbolic link (`lstat(2)`), or following it
/// (`stat(2)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A symbolic link (`lstat` only).
    Symlink,
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A Unix socket.
    Socket,
    /// Anything else (device, fifo).
    Other,
}

/// `stat(2)` of a path: its kind and permission bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// What it is.
    pub kind: EntryKind,
    /// `st_mode & 07777`.
    pub mode: u32,
}

/// A running process of interest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    /// Its pid.
    pub pid: u32,
    /// `/proc/PID/exe` (without the ` (deleted)` mark).
    pub exe: String,
    /// The executable was replaced or removed on disk since the process started.
    pub replaced: bool,
    /// `/proc/PID/cmdline`.
    pub args: Vec<String>,
}

/// The machine (or image tree) the controls are checked on.
pub trait Host {
    /// Whether this is the running machine or an image tree.
    fn target(&self) -> Target;
    /// Where the root of the tree is on this machine (`/` or DIR).
    fn root(&self) -> &Path;
    /// `lstat(2)` of a path inside the root; `None` when it does not exist.
    fn lstat(&self, path: &str) -> Option<EntryKind>;
    /// `stat(2)` of a path inside the root (links followed as the machine would).
    fn stat(&self, path: &str) -> io::Result<Stat>;
    /// The target of a symbolic link, as stored.
    fn read_link(&self, path: &str) -> io::Result<String>;
    /// A file's content (links followed as the machine would).
    fn read(&self, path: &str) -> io::Result<String>;
    /// The names in a directory.
    fn list(&self, path: &str) -> io::Result<Vec<io::Result<OsString>>>;
    /// The running processes in this mount namespace, by pid (none for an image).
    fn processes(&self) -> Vec<Proc>;
    /// The PATH to search programs in (`None`: unset, or an image).
    fn path_var(&self) -> Option<String>;
    /// `systemctl show --property=FragmentPath --property=DropInPaths UNIT` when systemd
    /// runs this machine; `None` otherwise.
    fn unit_properties(&self, unit: &str) -> Option<String>;
    /// `/proc/self/mountinfo` (`None` for an image).
    fn mountinfo(&self) -> Option<String>;
    /// `/proc/PID/comm`, trimmed (`None` when not visible).
    fn process_name(&self, pid: u32) -> Option<String>;
    /// The uid of a user name.
    fn uid(&self, name: &str) -> Option<u32>;
    /// The gid of a group name.
    fn gid(&self, name: &str) -> Option<u32>;
}

/// The running machine.
#[derive(Clone, Debug)]
pub struct SystemHost {
    root: PathBuf,
}

impl SystemHost {
    /// The machine this process runs on.
    pub fn new() -> SystemHost {
        SystemHost { root: PathBuf::from("/") }
    }
}

impl Default for SystemHost {
    fn default() -> Self {
        SystemHost::new()
    }
}

/// An image tree mounted at a directory: only its files are looked at.
#[derive(Clone, Debug)]
pub struct RootHost {
    root: PathBuf,
}

impl RootHost {
    /// The tree at `dir` (which the caller has checked is a directory).
    pub fn new(dir: &Path) -> RootHost {
        RootHost { root: dir.to_path_buf() }
    }
}

/// Where `path` (inside `root`) is on this machine.
fn on_host(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

fn kind_of(ft: fs::FileType) -> EntryKind {
    if ft.is_symlink() {
        EntryKind::Symlink
    } else if ft.is_dir() {
        EntryKind::Dir
    } else if ft.is_file() {
        EntryKind::File
    } else if ft.is_socket() {
        EntryKind::Socket
    } else {
        EntryKind::Other
    }
}

/// The file operations both real hosts share (one copy of the code for both).
fn lstat_in(root: &Path, path: &str) -> Option<EntryKind> {
    fs::symlink_metadata(on_host(root, path)).ok().map(|m| kind_of(m.file_type()))
}

fn stat_in(root: &Path, path: &str) -> io::Result<Stat> {
    let m = fs::metadata(on_host(root, path))?;
    Ok(Stat { kind: kind_of(m.file_type()), mode: m.mode() & 0o7777 })
}

fn read_link_in(root: &Path, path: &str) -> io::Result<String> {
    Ok(fs::read_link(on_host(root, path))?.to_string_lossy().into_owned())
}

fn read_in(root: &Path, path: &str) -> io::Result<String> {
    fs::read_to_string(on_host(root, path))
}

fn list_in(root: &Path, path: &str) -> io::Result<Vec<io::Result<OsString>>> {
    Ok(fs::read_dir(on_host(root, path))?.map(|e| e.map(|e| e.file_name())).collect())
}

/// The trait methods both real hosts share. Names come from this machine's databases, for
/// an image too (as auditctl run on this machine would resolve them).
macro_rules! tree_files {
    () => {
        fn root(&self) -> &Path {
            &self.root
        }
        fn lstat(&self, path: &str) -> Option<EntryKind> {
            lstat_in(&self.root, path)
        }
        fn stat(&self, path: &str) -> io::Result<Stat> {
            stat_in(&self.root, path)
        }
        fn read_link(&self, path: &str) -> io::Result<String> {
            read_link_in(&self.root, path)
        }
        fn read(&self, path: &str) -> io::Result<String> {
            read_in(&self.root, path)
        }
        fn list(&self, path: &str) -> io::Result<Vec<io::Result<OsString>>> {
            list_in(&self.root, path)
        }
        fn uid(&self, name: &str) -> Option<u32> {
            id_from_db("/etc/passwd", name)
        }
        fn gid(&self, name: &str) -> Option<u32> {
            id_from_db("/etc/group", name)
        }
    };
}

impl Host for SystemHost {
    tree_files!();

    fn target(&self) -> Target {
        Target::Live
    }
    fn processes(&self) -> Vec<Proc> {
        processes()
    }
    fn path_var(&self) -> Option<String> {
        std::env::var("PATH").ok()
    }
    fn unit_properties(&self, unit: &str) -> Option<String> {
        // systemd's own test for "booted with systemd" (sd_booted).
        if !Path::new("/run/systemd/system").is_dir() {
            return None;
        }
        let out = Command::new("systemctl")
            .args(["show", "--property=FragmentPath", "--property=DropInPaths", "--", unit])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
    fn mountinfo(&self) -> Option<String> {
        fs::read_to_string("/proc/self/mountinfo").ok()
    }
    fn process_name(&self, pid: u32) -> Option<String> {
        fs::read_to_string(format!("/proc/{pid}/comm")).ok().map(|c| c.trim().to_string())
    }
}

impl Host for RootHost {
    tree_files!();

    fn target(&self) -> Target {
        Target::Image
    }
    fn processes(&self) -> Vec<Proc> {
        Vec::new()
    }
    fn path_var(&self) -> Option<String> {
        None
    }
    fn unit_properties(&self, _unit: &str) -> Option<String> {
        None
    }
    fn mountinfo(&self) -> Option<String> {
        None
    }
    fn process_name(&self, _pid: u32) -> Option<String> {
        None
    }
}

/// The running processes in this mount namespace (others' `/proc/PID/exe` names a file in
/// another file system view).
fn processes() -> Vec<Proc> {
    let my_ns = fs::read_link("/proc/self/ns/mnt").ok();
    let Ok(rd) = fs::read_dir("/proc") else { return Vec::new() };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(exe) = fs::read_link(format!("/proc/{pid}/exe")) else { continue };
        if my_ns.is_some() && fs::read_link(format!("/proc/{pid}/ns/mnt")).ok() != my_ns {
            continue;
        }
        let exe = exe.to_string_lossy().into_owned();
        let (exe, replaced) = match exe.strip_suffix(" (deleted)") {
            Some(e) => (e.to_string(), true),
            None => (exe, false),
        };
        let args = fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| {
                b.split(|c| *c == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        out.push(Proc { pid, exe, replaced, args });
    }
    out.sort_by_key(|p| p.pid);
    out
}

/// The id of `name` in a colon-separated database (`name:x:id:...`).
pub fn id_from_db(db: &str, name: &str) -> Option<u32> {
    let text = fs::read_to_string(db).ok()?;
    id_in(&text, name)
}

/// The id of `name` in the text of a colon-separated database.
fn id_in(text: &str, name: &str) -> Option<u32> {
    text.lines().find_map(|l| {
        let mut parts = l.split(':');
        if parts.next()? != name {
            return None;
        }
        parts.nth(1)?.parse().ok()
    })
}

/// The real system as a parse environment: the user and group databases and the file
/// system.
///
/// Names are read from `/etc/passwd` and `/etc/group` directly rather than through NSS:
/// a static binary cannot load NSS modules anyway, and this keeps ~0.2 MB of glibc's
/// lookup machinery out of it. (Rules naming users from LDAP/SSSD need numeric ids.)
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemEnv;

impl Env for SystemEnv {
    fn uid(&self, name: &str) -> Option<u32> {
        id_from_db("/etc/passwd", name)
    }
    fn gid(&self, name: &str) -> Option<u32> {
        id_from_db("/etc/group", name)
    }
    fn is_dir(&self, path: &str) -> bool {
        Path::new(path).is_dir()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_a_database() {
        let db = "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/:/bin/false\nbad:x:y:1\n";
        for (name, want) in [("root", Some(0)), ("daemon", Some(1)), ("bad", None), ("x", None)] {
            assert_eq!(id_in(db, name), want, "{name}");
        }
    }

    #[test]
    fn an_image_host_sees_only_its_files() {
        let h = RootHost::new(Path::new("/nonexistent-nlaudit-root"));
        assert_eq!(h.target(), Target::Image);
        assert!(h.processes().is_empty() && h.path_var().is_none() && h.mountinfo().is_none());
        assert_eq!(h.lstat("/etc"), None);
    }
}
