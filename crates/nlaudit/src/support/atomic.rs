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
    let tmp: PathBuf =
        dir.join(format!(".{}.nlaudit-{}.tmp", name.to_string_lossy(), std::process::id()));
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
        #[cfg(test)]
        tests::pause_before_rename();
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
///
/// Opened non-blocking: a FIFO (or a tty) would otherwise block the open until a writer
/// came, before the checks below could refuse it. Regular files ignore the flag.
pub fn read_rules_file(path: &Path) -> io::Result<String> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                io::Error::new(
                    e.kind(),
                    format!("audit rules file {} doesn't exist", path.display()),
                )
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
pub(crate) mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// Test builds only: with `NLAUDIT_TEST_PAUSE_BEFORE_RENAME=1`, [`write_atomic`] sleeps
    /// 10 s after the temporary file is written and synced, before the rename: the window a
    /// killed writer must not leave a truncated target in. The shipped binary has no hook.
    pub(crate) fn pause_before_rename() {
        if std::env::var_os("NLAUDIT_TEST_PAUSE_BEFORE_RENAME").is_some_and(|v| v == "1") {
            std::thread::sleep(Duration::from_secs(10));
        }
    }

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nlaudit-atomic-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    #[test]
    fn replaces_and_refuses_symlinks() {
        let dir = scratch("basic");
        let p = dir.join("a.rules");
        write_atomic(&p, b"one\n", 0o640).expect("write");
        write_atomic(&p, b"two\n", 0o640).expect("rewrite");
        assert_eq!(fs::read_to_string(&p).expect("read"), "two\n");
        assert_eq!(fs::metadata(&p).expect("stat").mode() & 0o777, 0o640);
        let link = dir.join("link.rules");
        symlink(&p, &link).expect("symlink");
        assert!(write_atomic(&link, b"x", 0o640).is_err());
        assert!(write_atomic(&dir, b"x", 0o640).is_err());
        fs::set_permissions(&p, fs::Permissions::from_mode(0o666)).expect("chmod");
        assert!(read_rules_file(&p).is_err());
        let _ = fs::remove_dir_all(&dir);
    }

    /// Targets that are not regular files are refused, and what they point to is untouched:
    /// a symlink to a file outside (as /etc/shadow would be), a dangling symlink (which a
    /// plain create would follow), a directory, a FIFO.
    #[test]
    fn refuses_symlink_and_non_regular_targets() {
        let dir = scratch("targets");
        let secret = dir.join("shadow");
        fs::write(&secret, "root:secret\n").expect("write");
        let cases: Vec<(&str, PathBuf)> = vec![
            ("symlink to another file", dir.join("to-shadow.rules")),
            ("dangling symlink", dir.join("dangling.rules")),
            ("directory", dir.join("dir.rules")),
            ("fifo", dir.join("fifo.rules")),
        ];
        symlink(&secret, &cases[0].1).expect("symlink");
        symlink(dir.join("nowhere"), &cases[1].1).expect("symlink");
        fs::create_dir(&cases[2].1).expect("mkdir");
        nix::unistd::mkfifo(&cases[3].1, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .expect("mkfifo");
        for (what, p) in &cases {
            let e = write_atomic(p, b"-w /etc/passwd\n", 0o640).expect_err(what);
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{what}: {e}");
            assert!(e.to_string().contains(&p.display().to_string()), "{what}: {e}");
        }
        assert_eq!(fs::read_to_string(&secret).expect("read"), "root:secret\n");
        assert!(!dir.join("nowhere").exists(), "the dangling link was followed");
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .expect("ls")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        let _ = fs::remove_dir_all(&dir);
    }

    /// Rules files auditctl -R refuses are refused, with its messages; a FIFO is refused
    /// at once instead of blocking the open until some writer shows up.
    #[test]
    fn refuses_rules_files_auditctl_refuses() {
        let dir = scratch("read");
        let ok = dir.join("ok.rules");
        fs::write(&ok, "-w /etc/passwd\n").expect("write");
        fs::set_permissions(&ok, fs::Permissions::from_mode(0o640)).expect("chmod");
        assert_eq!(read_rules_file(&ok).expect("a 0640 regular file"), "-w /etc/passwd\n");
        // Group-writable and other-readable are accepted, as auditctl 3.x does.
        fs::set_permissions(&ok, fs::Permissions::from_mode(0o664)).expect("chmod");
        assert!(read_rules_file(&ok).is_ok());

        let ww = dir.join("ww.rules");
        fs::write(&ww, "-w /etc/passwd\n").expect("write");
        fs::set_permissions(&ww, fs::Permissions::from_mode(0o646)).expect("chmod");
        let fifo = dir.join("fifo.rules");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .expect("mkfifo");
        let subdir = dir.join("d.rules");
        fs::create_dir(&subdir).expect("mkdir");
        fs::set_permissions(&subdir, fs::Permissions::from_mode(0o750)).expect("chmod");
        let link_to_ww = dir.join("link.rules");
        symlink(&ww, &link_to_ww).expect("symlink");
        let cases = [
            (ww.clone(), format!("Error - {} is world writable", ww.display())),
            (link_to_ww.clone(), format!("Error - {} is world writable", link_to_ww.display())),
            (fifo.clone(), format!("Error - {} is not a regular file", fifo.display())),
            (subdir.clone(), format!("Error - {} is not a regular file", subdir.display())),
            ("/dev/null".into(), "Error - /dev/null is world writable".to_string()),
            (
                dir.join("missing.rules"),
                format!("audit rules file {} doesn't exist", dir.join("missing.rules").display()),
            ),
        ];
        for (p, want) in cases {
            let (tx, rx) = std::sync::mpsc::channel();
            let q = p.clone();
            std::thread::spawn(move || {
                let _ = tx.send(read_rules_file(&q).map_err(|e| e.to_string()));
            });
            let got = rx
                .recv_timeout(Duration::from_secs(5))
                .unwrap_or_else(|_| panic!("reading {} hangs", p.display()));
            assert_eq!(got, Err(want), "{}", p.display());
        }
        let _ = fs::remove_dir_all(&dir);
    }

    /// Child side of the kill tests: a no-op unless the parent set `NLAUDIT_TEST_WRITER`;
    /// then it writes `NLAUDIT_TEST_FILL` repeated `NLAUDIT_TEST_LEN` times to that path.
    #[test]
    fn writer_child() {
        let Some(path) = std::env::var_os("NLAUDIT_TEST_WRITER") else { return };
        let fill = std::env::var("NLAUDIT_TEST_FILL").expect("fill byte");
        let len: usize = std::env::var("NLAUDIT_TEST_LEN").expect("len").parse().expect("len");
        let content = fill.as_bytes().repeat(len);
        write_atomic(Path::new(&path), &content, 0o640).expect("write");
    }

    /// Starts this test binary as a writer process of `len` copies of `fill` into `path`.
    fn spawn_writer(path: &Path, fill: char, len: usize, pause: bool) -> std::process::Child {
        let exe = std::env::current_exe().expect("test binary");
        Command::new(exe)
            .args(["--exact", "support::atomic::tests::writer_child", "--test-threads=1"])
            .env("NLAUDIT_TEST_WRITER", path)
            .env("NLAUDIT_TEST_FILL", fill.to_string())
            .env("NLAUDIT_TEST_LEN", len.to_string())
            .env("NLAUDIT_TEST_PAUSE_BEFORE_RENAME", if pause { "1" } else { "0" })
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn writer")
    }

    /// The target holds `len` copies of one fill byte, and which.
    fn whole_content(path: &Path, len: usize) -> char {
        let data = fs::read(path).expect("read target");
        assert_eq!(data.len(), len, "the target is {} bytes, not {len}: truncated", data.len());
        let first = data[0];
        assert!(data.iter().all(|b| *b == first), "the target mixes two contents");
        char::from(first)
    }

    /// SIGKILL of the writer after the new content is written and synced, before the
    /// rename: the old content is intact. Then kills at random moments of whole writes:
    /// every time the target is the old content or the new one, whole, never anything else.
    #[test]
    fn killed_writer_leaves_old_or_new_content() {
        const LEN: usize = 1 << 20;
        let dir = scratch("kill");
        let target = dir.join("docker.rules");
        fs::write(&target, "o".repeat(LEN)).expect("old content");

        let mut child = spawn_writer(&target, 'n', LEN, true);
        let deadline = Instant::now() + Duration::from_secs(20);
        let tmp = loop {
            let full = fs::read_dir(&dir).expect("ls").filter_map(|e| e.ok()).find(|e| {
                e.file_name().to_string_lossy().ends_with(".tmp")
                    && e.metadata().is_ok_and(|m| m.len() == LEN as u64)
            });
            if let Some(e) = full {
                break e.path();
            }
            assert!(Instant::now() < deadline, "the writer never wrote its temporary file");
            std::thread::sleep(Duration::from_millis(5));
        };
        // The temporary file is complete (written, then synced before the pause).
        std::thread::sleep(Duration::from_millis(200));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        assert_eq!(whole_content(&target, LEN), 'o', "killed before rename: the old content");
        // A stale temporary file may stay; it is a dotfile not ending in .rules, which
        // neither augenrules nor nlaudit reads.
        assert!(tmp.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')));
        let _ = fs::remove_file(&tmp);

        let mut current = 'o';
        let mut seen_new = 0;
        for (i, fill) in "abcdefghijklmnopqrstuvwxyzABCDEF".chars().enumerate() {
            let mut child = spawn_writer(&target, fill, LEN, false);
            std::thread::sleep(Duration::from_micros(500 * (i as u64 % 40)));
            let _ = child.kill();
            child.wait().expect("reap");
            let now = whole_content(&target, LEN);
            assert!(
                now == current || now == fill,
                "after kill {i}: {now:?}, not {current:?}/{fill:?}"
            );
            if now == fill {
                seen_new += 1;
            }
            current = now;
        }
        let mut child = spawn_writer(&target, 'z', LEN, false);
        assert!(child.wait().expect("reap").success(), "an unkilled writer succeeds");
        assert_eq!(whole_content(&target, LEN), 'z');
        assert_eq!(fs::metadata(&target).expect("stat").mode() & 0o777, 0o640);
        eprintln!("kill test: {seen_new} of 32 killed writers had already renamed");
        let _ = fs::remove_dir_all(&dir);
    }
}
