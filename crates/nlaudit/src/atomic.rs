//! Writing files that must never be seen half-written (persisted rules), and reading rules
//! files with auditctl's safety checks.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Refuses a target that is a symlink or not a regular file (a missing target is fine).
pub fn check_target(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is a symbolic link; refusing to write through it", path.display()),
        )),
        Ok(m) if !m.file_type().is_file() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file; refusing to replace it", path.display()),
        )),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Replaces `path` with `contents` atomically: a temporary file in the same directory
/// (created exclusively, not following links, with `mode`), fsync, rename over the target,
/// fsync of the directory. A crash at any point leaves the old or the new content.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    check_target(path)?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{}: no file name", path.display()))
    })?;
    let tmp: PathBuf = dir.join(format!(
        ".{}.nlaudit-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)?;
        // The umask may have narrowed the mode; set it exactly.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(contents)?;
        f.sync_all()?;
        drop(f);
        check_target(path)?;
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Opens a rules file as `auditctl -R` accepts it: it must exist, be a regular file and not
/// be world-writable. Returns its contents.
pub fn read_rules_file(path: &Path) -> io::Result<String> {
    let f = File::open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            io::Error::new(e.kind(), format!("audit rules file {} doesn't exist", path.display()))
        } else {
            io::Error::new(e.kind(), format!("Error opening {} ({e})", path.display()))
        }
    })?;
    let m = f.metadata()?;
    if m.mode() & 0o002 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("Error - {} is world writable", path.display()),
        ));
    }
    if !m.file_type().is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("Error - {} is not a regular file", path.display()),
        ));
    }
    let mut s = String::new();
    io::Read::read_to_string(&mut &f, &mut s)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_refuses_symlinks() {
        let dir = std::env::temp_dir().join(format!("nlaudit-atomic-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("mkdir");
        let p = dir.join("a.rules");
        write_atomic(&p, b"one\n", 0o640).expect("write");
        write_atomic(&p, b"two\n", 0o640).expect("rewrite");
        assert_eq!(fs::read_to_string(&p).expect("read"), "two\n");
        assert_eq!(fs::metadata(&p).expect("stat").mode() & 0o777, 0o640);
        let link = dir.join("link.rules");
        std::os::unix::fs::symlink(&p, &link).expect("symlink");
        assert!(write_atomic(&link, b"x", 0o640).is_err());
        assert!(write_atomic(&dir, b"x", 0o640).is_err());
        fs::set_permissions(&p, fs::Permissions::from_mode(0o666)).expect("chmod");
        assert!(read_rules_file(&p).is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
