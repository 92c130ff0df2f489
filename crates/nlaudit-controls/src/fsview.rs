//! The file system as the checks see it: the live machine (`/`) or an image tree mounted
//! at `--root DIR`, where absolute symlinks point inside DIR (as after `chroot DIR`).
//!
//! Paths handed around are always the ones inside the root (`/usr/sbin/dockerd`), never
//! `DIR/usr/sbin/dockerd`.

use std::io;
use std::path::{Path, PathBuf};

use crate::host::{EntryKind, Host, Target};

/// Linux's `MAXSYMLINKS`.
const MAX_SYMLINKS: usize = 40;

/// What a path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A Unix socket.
    Socket,
    /// Anything else (device, fifo): `/dev/null` for a masked unit.
    Other,
}

impl Kind {
    /// A word for reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "directory",
            Kind::Socket => "socket",
            Kind::Other => "special file",
        }
    }
}

/// A symbolic link met while resolving a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The link (its path inside the root, earlier links resolved).
    pub path: String,
    /// What it points to, as stored.
    pub target: String,
    /// The link was the last component: a watch on it would watch the link itself.
    pub last: bool,
}

/// A path with every symbolic link resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The real path (inside the root). For a missing file, the resolved parent plus the
    /// remaining components.
    pub real: String,
    /// The links met, in order.
    pub links: Vec<Link>,
    /// What the real path is; `None` when it does not exist.
    pub kind: Option<Kind>,
}

/// A host's file system, with symbolic links resolved inside its root.
#[derive(Clone, Copy)]
pub struct FsView<'h> {
    host: &'h dyn Host,
}

impl std::fmt::Debug for FsView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FsView").field("root", &self.host.root()).finish()
    }
}

impl<'h> FsView<'h> {
    /// The view of `host`.
    pub fn new(host: &'h dyn Host) -> FsView<'h> {
        FsView { host }
    }

    /// The host seen.
    pub fn host(&self) -> &'h dyn Host {
        self.host
    }

    /// Whether this is the running machine (processes, kernel and mounts belong to it).
    pub fn is_live(&self) -> bool {
        self.host.target() == Target::Live
    }

    /// The root directory (`/` or DIR).
    pub fn root(&self) -> &Path {
        self.host.root()
    }

    /// Where `path` (inside the root) is on this machine.
    pub fn on_host(&self, path: &str) -> PathBuf {
        self.host.root().join(path.trim_start_matches('/'))
    }

    /// Reads a file inside the root (following links inside the root).
    pub fn read_to_string(&self, path: &str) -> io::Result<String> {
        let r = self.resolve(path);
        self.host.read(&r.real)
    }

    /// Whether `path` is a directory (following links inside the root).
    pub fn is_dir(&self, path: &str) -> bool {
        self.resolve(path).kind == Some(Kind::Dir)
    }

    /// Resolves every symbolic link of an absolute `path`, as the kernel would after
    /// `chroot(root)`. Never fails: a missing component ends the walk (kind `None`), a
    /// loop or a component that is not a directory likewise.
    pub fn resolve(&self, path: &str) -> Resolved {
        let mut done: Vec<String> = Vec::new();
        let mut todo: Vec<String> = components(path).into_iter().rev().collect();
        let mut links = Vec::new();
        let mut kind = Some(Kind::Dir);
        while let Some(c) = todo.pop() {
            match c.as_str() {
                "." => continue,
                ".." => {
                    done.pop();
                    continue;
                }
                _ => {}
            }
            let mut cand = done.clone();
            cand.push(c);
            let logical = join(&cand);
            if kind != Some(Kind::Dir) {
                // The previous component is missing or not a directory: keep the rest as is.
                kind = None;
                done = cand;
                continue;
            }
            match self.host.lstat(&logical) {
                Some(EntryKind::Symlink) => {
                    if links.len() >= MAX_SYMLINKS {
                        kind = None;
                        done = cand;
                        continue;
                    }
                    let target = match self.host.read_link(&logical) {
                        Ok(t) => t,
                        Err(_) => {
                            kind = None;
                            done = cand;
                            continue;
                        }
                    };
                    links.push(Link {
                        path: logical,
                        target: target.clone(),
                        last: todo.is_empty(),
                    });
                    if target.starts_with('/') {
                        done.clear();
                    }
                    todo.extend(components(&target).into_iter().rev());
                }
                Some(k) => {
                    kind = Some(match k {
                        EntryKind::Dir => Kind::Dir,
                        EntryKind::File => Kind::File,
                        EntryKind::Socket => Kind::Socket,
                        EntryKind::Symlink | EntryKind::Other => Kind::Other,
                    });
                    done = cand;
                }
                None => {
                    kind = None;
                    done = cand;
                }
            }
        }
        Resolved { real: join(&done), links, kind }
    }

    /// What the kernel watches for a rule on `path`: its parent directory is looked up
    /// following links (kernel/audit_watch.c `audit_get_nd` → `kern_path_locked`), its last
    /// component is not. Trailing slashes are dropped.
    pub fn kernel_target(&self, path: &str) -> String {
        let trimmed = path.trim_end_matches('/');
        let Some((parent, name)) = trimmed.rsplit_once('/') else { return path.to_string() };
        if name.is_empty() || name == "." || name == ".." {
            return self.resolve(trimmed).real;
        }
        let parent = self.resolve(if parent.is_empty() { "/" } else { parent }).real;
        if parent == "/" {
            format!("/{name}")
        } else {
            format!("{parent}/{name}")
        }
    }

    /// Why a watch on the real path `real` cannot be loaded at boot, if it cannot: its parent
    /// directory is created at run time (below /run, which is emptied at boot, or below a
    /// tmpfs mount on this machine), and the kernel refuses a watch whose parent does not
    /// exist (ENOENT), which makes `auditctl -R` stop loading the rest of the rules.
    pub fn volatile(&self, real: &str) -> Option<String> {
        let parent = match real.rsplit_once('/') {
            Some(("", _)) | None => return None,
            Some((p, _)) => p,
        };
        if parent == "/run" {
            return None;
        }
        if parent.starts_with("/run/") {
            return Some(format!(
                "{parent} is created at run time (/run is emptied at boot): a persisted watch \
                 would fail (ENOENT) when the rules load at boot and stop the load"
            ));
        }
        if !self.is_live() {
            return None;
        }
        let mounts = self.host.mountinfo()?;
        let (point, fstype) = mount_of(&mounts, parent)?;
        if matches!(fstype.as_str(), "tmpfs" | "ramfs") && point != parent {
            return Some(format!(
                "{parent} is on a {fstype} mounted at {point}, empty at boot: a persisted watch \
                 would fail (ENOENT) when the rules load at boot and stop the load"
            ));
        }
        None
    }
}

/// The mount point and file system type of the mount holding `path` (longest mount point
/// that is a prefix of it), from /proc/self/mountinfo text.
pub fn mount_of(mountinfo: &str, path: &str) -> Option<(String, String)> {
    let mut best: Option<(String, String)> = None;
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else { continue };
        let Some(point) = left.split(' ').nth(4).map(unescape_mount) else { continue };
        let fstype = right.split(' ').next().unwrap_or_default().to_string();
        let inside = point == "/"
            || path == point
            || path.strip_prefix(point.as_str()).is_some_and(|r| r.starts_with('/'));
        // Later lines mount over earlier ones at the same point.
        if inside && best.as_ref().is_none_or(|(p, _)| point.len() >= p.len()) {
            best = Some((point, fstype));
        }
    }
    best
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mount(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let oct = b.get(i + 1..i + 4).and_then(|o| std::str::from_utf8(o).ok());
        if let (b'\\', Some(Ok(v))) = (c, oct.map(|o| u8::from_str_radix(o, 8))) {
            out.push(v);
            i += 4;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn components(path: &str) -> Vec<String> {
    path.split('/').filter(|c| !c.is_empty()).map(str::to_string).collect()
}

fn join(parts: &[String]) -> String {
    if parts.is_empty() {
        "/".to_string()
    } else {
        parts.iter().fold(String::new(), |acc, p| acc + "/" + p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::RootHost;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn tree() -> (PathBuf, RootHost) {
        let dir = std::env::temp_dir().join(format!(
            "nlaudit-fsview-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&dir);
        for d in ["usr/bin", "usr/sbin", "etc/docker", "run"] {
            fs::create_dir_all(dir.join(d)).expect("mkdir");
        }
        fs::write(dir.join("usr/sbin/runc"), b"").expect("write");
        symlink("/usr/sbin/runc", dir.join("usr/bin/runc")).expect("abs link");
        symlink("usr/bin", dir.join("bin")).expect("rel link");
        symlink("/run", dir.join("varrun")).expect("run link");
        symlink("loop2", dir.join("loop1")).expect("loop");
        symlink("loop1", dir.join("loop2")).expect("loop");
        let v = RootHost::new(&dir);
        (dir, v)
    }

    fn check(v: &FsView<'_>, path: &str, real: &str, kind: Option<Kind>, links: &[(&str, bool)]) {
        let r = v.resolve(path);
        assert_eq!(r.real, real, "{path}");
        assert_eq!(r.kind, kind, "{path}");
        let got: Vec<(&str, bool)> = r.links.iter().map(|l| (l.path.as_str(), l.last)).collect();
        assert_eq!(got, links, "{path}");
    }

    #[test]
    fn resolves_inside_the_root() {
        let (dir, h) = tree();
        let v = FsView::new(&h);
        check(&v, "/usr/sbin/runc", "/usr/sbin/runc", Some(Kind::File), &[]);
        check(&v, "/usr/bin/runc", "/usr/sbin/runc", Some(Kind::File), &[("/usr/bin/runc", true)]);
        check(
            &v,
            "/bin/runc",
            "/usr/sbin/runc",
            Some(Kind::File),
            &[("/bin", false), ("/usr/bin/runc", true)],
        );
        check(&v, "/etc/docker/", "/etc/docker", Some(Kind::Dir), &[]);
        check(&v, "/etc/docker/daemon.json", "/etc/docker/daemon.json", None, &[]);
        check(&v, "/etc/nope/x/y", "/etc/nope/x/y", None, &[]);
        check(&v, "/usr/sbin/runc/x", "/usr/sbin/runc/x", None, &[]);
        check(&v, "/varrun/containerd", "/run/containerd", None, &[("/varrun", false)]);
        check(&v, "/usr/../etc/./docker", "/etc/docker", Some(Kind::Dir), &[]);
        assert_eq!(v.resolve("/loop1").kind, None);
        assert_eq!(v.kernel_target("/bin/runc"), "/usr/bin/runc");
        assert_eq!(v.kernel_target("/varrun/containerd/"), "/run/containerd");
        assert_eq!(v.kernel_target("/etc"), "/etc");
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn volatile_paths() {
        let h = RootHost::new(Path::new("/nonexistent"));
        let v = FsView::new(&h);
        for (path, volatile) in [
            ("/run/containerd", false),
            ("/run/containerd/containerd.sock", true),
            ("/run/docker/containerd/containerd.toml", true),
            ("/usr/sbin/dockerd", false),
            ("/runner/x", false),
        ] {
            assert_eq!(v.volatile(path).is_some(), volatile, "{path}");
        }
    }

    #[test]
    fn mount_lookup() {
        let mi = "27 1 254:0 / / rw - ext4 /dev/vda rw\n\
                  40 27 0:5 / /run rw - tmpfs tmpfs rw\n\
                  41 40 0:6 / /run/my\\040dir rw - ramfs none rw\n";
        for (path, point, fs) in [
            ("/usr/bin", "/", "ext4"),
            ("/run", "/run", "tmpfs"),
            ("/run/containerd", "/run", "tmpfs"),
            ("/runner", "/", "ext4"),
            ("/run/my dir/x", "/run/my dir", "ramfs"),
        ] {
            assert_eq!(mount_of(mi, path), Some((point.to_string(), fs.to_string())), "{path}");
        }
    }
}
