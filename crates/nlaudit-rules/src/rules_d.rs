//! The one reader of a `rules.d` directory: which files augenrules reads, in its order, and
//! their merge (see [`crate::merge`]).
//!
//! Every command that reads rules.d (`nlaudit load`/`apply`/`merge`, `docker check` and
//! `docker ensure`) goes through [`read_rules_dir`], so that which rule shadows which is
//! always what loads at boot. The reader does no I/O itself: the file system comes in
//! through [`RulesFs`], whose real implementations live above this crate (the CLI's for the
//! live file system, the controls' for an image tree at `--root`). What a person should hear
//! about (a skipped name, a world-writable file) is returned as [`Notice`]s, in the order
//! augenrules would meet them; the caller decides whether to print, warn or refuse.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use crate::merge::{self, Dialect, Merged};

/// What the reader needs to know about a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    /// What the path is, after following symbolic links.
    pub kind: FileKind,
    /// Its permission bits (`st_mode & 07777`).
    pub mode: u32,
}

/// The kinds of file the reader tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file: `cat` can read it.
    Regular,
    /// Anything else (a directory, a FIFO, a device): `cat` would fail or block on it.
    Other,
}

/// The file access the reader needs. Paths are the caller's (an image tree's reader maps
/// them into its root).
pub trait RulesFs {
    /// The names in a directory (an error for one entry is that entry's item).
    fn list(&self, dir: &Path) -> io::Result<Vec<io::Result<OsString>>>;
    /// `stat(2)` of a path (following links).
    fn stat(&self, path: &Path) -> io::Result<FileStat>;
    /// The file's content as text.
    fn read(&self, path: &Path) -> io::Result<String>;
}

/// Something about the directory worth telling, in the order it was met.
#[derive(Debug)]
#[non_exhaustive]
pub enum Notice {
    /// A name that is not UTF-8: skipped.
    NotUtf8 {
        /// The entry's path.
        path: PathBuf,
    },
    /// A `*.rules` name that augenrules' shell loop splits or globs: skipped, as augenrules
    /// never loads it.
    MangledByShell {
        /// The file's path.
        path: PathBuf,
    },
    /// A selected file that cannot be `stat`ed: skipped (augenrules' `cat` would fail).
    Unreadable {
        /// The file's path.
        path: PathBuf,
        /// Why.
        error: io::Error,
    },
    /// A selected name that is not a regular file: skipped.
    NotRegular {
        /// The file's path.
        path: PathBuf,
    },
    /// A selected file anyone may write: used, as augenrules does (auditctl -R refuses
    /// such a file; callers that load may refuse it too).
    WorldWritable {
        /// The file's path.
        path: PathBuf,
    },
}

/// A selected file whose content could not be read: the reading stopped there.
#[derive(Debug)]
pub struct ReadFailure {
    /// The file's path.
    pub path: PathBuf,
    /// Why.
    pub error: io::Error,
}

/// A rules.d directory as augenrules reads it.
#[derive(Debug)]
pub struct RulesDir {
    /// The files read, in augenrules' order; a merged line's origin indexes this list.
    pub files: Vec<PathBuf>,
    /// What was met on the way, in order.
    pub notices: Vec<Notice>,
    /// The merge of the files read (what augenrules writes to audit.rules).
    pub merged: Merged,
    /// The file whose content could not be read, when the reading stopped early (then
    /// `files` and `merged` hold the files before it).
    pub failed: Option<ReadFailure>,
}

/// Reads a rules.d directory: `ls -1v DIR | grep '\.rules$'` (see
/// [`merge::select_files`]), skipping what augenrules' `cat` cannot read, then
/// [`merge::merge`]. Fails only when the directory itself cannot be listed.
pub fn read_rules_dir(fs: &dyn RulesFs, dir: &Path, dialect: Dialect) -> io::Result<RulesDir> {
    let mut notices = Vec::new();
    let mut names = Vec::new();
    for entry in fs.list(dir)? {
        match entry?.into_string() {
            Ok(n) => names.push(n),
            Err(n) => notices.push(Notice::NotUtf8 { path: dir.join(n) }),
        }
    }
    for n in names.iter().filter(|n| n.ends_with(".rules") && !n.starts_with('.')) {
        if merge::mangled_by_shell(n) {
            notices.push(Notice::MangledByShell { path: dir.join(n) });
        }
    }
    let mut files = Vec::new();
    let mut contents = Vec::new();
    let mut failed = None;
    for name in merge::select_files(&names) {
        let path = dir.join(&name);
        let stat = match fs.stat(&path) {
            Ok(s) => s,
            Err(error) => {
                notices.push(Notice::Unreadable { path, error });
                continue;
            }
        };
        if stat.kind != FileKind::Regular {
            notices.push(Notice::NotRegular { path });
            continue;
        }
        if stat.mode & 0o002 != 0 {
            notices.push(Notice::WorldWritable { path: path.clone() });
        }
        match fs.read(&path) {
            Ok(text) => {
                contents.push((name, text));
                files.push(path);
            }
            Err(error) => {
                failed = Some(ReadFailure { path, error });
                break;
            }
        }
    }
    // The header names the directory as augenrules' constant does: no trailing slash.
    let label = dir.display().to_string();
    let label = match label.trim_end_matches('/') {
        "" => "/",
        l => l,
    };
    let merged = merge::merge(label, &contents, dialect);
    Ok(RulesDir { files, notices, merged, failed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A directory held in memory: name -> (mode, content); `None` content: not a regular file.
    struct MemFs(BTreeMap<&'static str, (u32, Option<&'static str>)>);

    impl RulesFs for MemFs {
        fn list(&self, _dir: &Path) -> io::Result<Vec<io::Result<OsString>>> {
            Ok(self.0.keys().rev().map(|k| Ok(OsString::from(k))).collect())
        }
        fn stat(&self, path: &Path) -> io::Result<FileStat> {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let (mode, text) = self.0.get(name).ok_or(io::ErrorKind::NotFound)?;
            let kind = if text.is_some() { FileKind::Regular } else { FileKind::Other };
            Ok(FileStat { kind, mode: *mode })
        }
        fn read(&self, path: &Path) -> io::Result<String> {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let text = self.0.get(name).and_then(|(_, t)| *t).ok_or(io::ErrorKind::NotFound)?;
            Ok(text.to_string())
        }
    }

    #[test]
    fn reads_in_ls_v_order_and_tells_what_it_skipped() {
        let fs = MemFs(BTreeMap::from([
            ("audit.rules", (0o640, Some("-w /a -k one\n"))),
            ("audit-docker.rules", (0o640, Some("-w /b -k two\n"))),
            ("10-x.rules", (0o666, Some("-e 1\n-w /c\n"))),
            ("a b.rules", (0o640, Some("-w /skipped\n"))),
            ("sub.rules", (0o755, None)),
            ("notes.txt", (0o640, Some("not rules\n"))),
        ]));
        let d = read_rules_dir(&fs, Path::new("/r/"), Dialect::default()).expect("reads");
        let names: Vec<String> = d.files.iter().map(|p| p.display().to_string()).collect();
        // `ls -v`: 10-x, audit, audit-docker (coreutils 9.1).
        assert_eq!(names, ["/r/10-x.rules", "/r/audit.rules", "/r/audit-docker.rules"]);
        let notices: Vec<String> = d.notices.iter().map(|n| format!("{n:?}")).collect();
        assert_eq!(notices.len(), 3, "{notices:?}");
        assert!(notices[0].starts_with("MangledByShell") && notices[0].contains("a b.rules"));
        assert!(notices[1].starts_with("WorldWritable") && notices[1].contains("10-x"));
        assert!(notices[2].starts_with("NotRegular") && notices[2].contains("sub.rules"));
        assert_eq!(d.merged.header, "## This file is automatically generated from /r");
        let text = d.merged.text();
        assert!(text.ends_with("-w /c\n-w /a -k one\n-w /b -k two\n-e 1\n"), "{text}");
        assert!(d.failed.is_none());
    }
}
