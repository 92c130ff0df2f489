//! Services the commands share: this machine's user and group names, its file system as the
//! rules.d reader sees it, and the parse context for this machine and kernel.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nlaudit_rules::merge::{Awk, Dialect};
use nlaudit_rules::rules_d::{FileKind, FileStat, RulesFs};
use nlaudit_rules::Context;

pub use nlaudit_controls::SystemEnv;

/// A parse context for this machine and kernel (`features` from AUDIT_GET).
pub fn context(features: Option<u32>) -> Context<'static> {
    static ENV: SystemEnv = SystemEnv;
    let mut c = Context::new(&ENV);
    if let Some(f) = features {
        c.features = f;
    }
    c
}

/// This machine's file system, for [`nlaudit_rules::rules_d::read_rules_dir`].
#[derive(Debug, Default, Clone, Copy)]
pub struct LiveFs;

impl RulesFs for LiveFs {
    fn list(&self, dir: &Path) -> io::Result<Vec<io::Result<OsString>>> {
        Ok(fs::read_dir(dir)?.map(|e| e.map(|e| e.file_name())).collect())
    }
    fn stat(&self, path: &Path) -> io::Result<FileStat> {
        let m = fs::metadata(path)?;
        let kind = if m.is_file() { FileKind::Regular } else { FileKind::Other };
        Ok(FileStat { kind, mode: m.mode() & 0o7777 })
    }
    fn read(&self, path: &Path) -> io::Result<String> {
        fs::read_to_string(path)
    }
}

/// The augenrules dialect of this machine (`awk`: the awk asked for, else this machine's).
///
/// The awk is the one `/usr/bin/awk` (else `/bin/awk`) resolves to: mawk reads `\s` as `s`,
/// every other awk as white space. Trailing `\r` are stripped when the installed augenrules
/// does so (4.x), or when none is installed (current upstream behaviour).
pub fn augenrules_dialect(awk: Option<Awk>) -> Dialect {
    let awk = awk.unwrap_or_else(|| {
        let real = ["/usr/bin/awk", "/bin/awk"].iter().find_map(|p| fs::canonicalize(p).ok());
        match real {
            Some(p) if p.file_name().is_some_and(|n| n.to_string_lossy().contains("mawk")) => {
                Awk::Mawk
            }
            _ => Awk::Gawk,
        }
    });
    let script = ["/usr/sbin/augenrules", "/sbin/augenrules"]
        .iter()
        .find_map(|p| fs::read_to_string(p).ok());
    let strip_cr = script.map_or(true, |s| s.contains(r"sub(/\r$/"));
    Dialect { awk, strip_cr }
}
