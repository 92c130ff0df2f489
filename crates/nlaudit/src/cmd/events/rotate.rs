//! An append-only log file with size-based rotation: `FILE` is written; before a line would
//! take it past the size limit it becomes `FILE.1`, `FILE.1` becomes `FILE.2`, ..., and
//! `FILE.N` (N = keep) is deleted. Disk use stays at most `(keep + 1) × max_size` (a single
//! line longer than `max_size` gets a file of its own).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The rotating writer.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    file: File,
    size: u64,
    max_size: u64,
    keep: u32,
}

/// Opens for appending, creating mode 0600, refusing a symbolic link as the last component
/// (a root process must not be led to write elsewhere).
fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// `FILE.n`.
fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

impl RotatingFile {
    /// Opens (or creates) `path`. `max_size` is at least 1.
    pub fn open(path: &Path, max_size: u64, keep: u32) -> io::Result<RotatingFile> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile { path: path.to_path_buf(), file, size, max_size: max_size.max(1), keep })
    }

    /// Appends `data` (whole lines) in one write, rotating first if it would not fit.
    pub fn write_lines(&mut self, data: &[u8]) -> io::Result<()> {
        let len = data.len() as u64;
        if self.size > 0 && self.size.saturating_add(len) > self.max_size {
            self.rotate()?;
        }
        self.file.write_all(data)?;
        self.size += len;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        if self.keep == 0 {
            // No history wanted: start the file over.
            self.file.set_len(0)?;
            self.size = 0;
            return Ok(());
        }
        match fs::remove_file(numbered(&self.path, self.keep)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        for n in (1..self.keep).rev() {
            match fs::rename(numbered(&self.path, n), numbered(&self.path, n + 1)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        fs::rename(&self.path, numbered(&self.path, 1))?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// Parses a size: bytes, or with a `K`, `M` or `G` suffix (powers of 1024; `KB`, `KiB`,
/// lower case accepted).
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let digits_end = lower.find(|c: char| !c.is_ascii_digit()).unwrap_or(lower.len());
    let (num, unit) = lower.split_at(digits_end);
    let n: u64 = num.parse().ok()?;
    let shift = match unit.trim() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        for (s, want) in [
            ("0", Some(0)),
            ("4096", Some(4096)),
            ("8M", Some(8 << 20)),
            ("8m", Some(8 << 20)),
            ("512K", Some(512 << 10)),
            ("1KiB", Some(1024)),
            ("2G", Some(2 << 30)),
            (" 3 k ", Some(3072)),
            ("", None),
            ("M", None),
            ("-1", None),
            ("1.5M", None),
            ("1T", None),
            ("99999999999999999999G", None),
            ("17179869184G", None), // overflows u64
        ] {
            assert_eq!(parse_size(s), want, "{s:?}");
        }
    }

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("nlaudit-rotate-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).expect("temp dir");
        d
    }

    #[test]
    fn rotates_and_keeps_n() {
        let d = tmpdir("keep");
        let p = d.join("audit.log");
        let mut f = RotatingFile::open(&p, 100, 2).expect("open");
        for i in 0..20 {
            f.write_lines(format!("{i:02} {}\n", "x".repeat(36)).as_bytes()).expect("write");
        }
        // 40-byte lines, 100-byte files: 2 lines per file; 20 lines → 10 files, 3 kept.
        let read = |p: &Path| fs::read_to_string(p).expect("read");
        assert!(read(&p).starts_with("18 ") && read(&p).contains("\n19 "));
        assert!(read(&numbered(&p, 1)).starts_with("16 "));
        assert!(read(&numbered(&p, 2)).starts_with("14 "));
        assert!(!numbered(&p, 3).exists());
        for q in [p.clone(), numbered(&p, 1), numbered(&p, 2)] {
            assert_eq!(fs::metadata(&q).expect("stat").len(), 80);
        }
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&p).expect("stat").permissions().mode() & 0o777, 0o600);
        // Reopening continues the size count; an oversized line gets its own file.
        drop(f);
        let mut f = RotatingFile::open(&p, 100, 2).expect("reopen");
        f.write_lines(&[b'y'; 150]).expect("write");
        assert_eq!(fs::metadata(&p).expect("stat").len(), 150);
        assert!(read(&numbered(&p, 1)).starts_with("18 "));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn keep_zero_truncates_and_symlinks_are_refused() {
        let d = tmpdir("zero");
        let p = d.join("audit.log");
        let mut f = RotatingFile::open(&p, 10, 0).expect("open");
        f.write_lines(b"12345678\n").expect("write");
        f.write_lines(b"abc\n").expect("write");
        assert_eq!(fs::read_to_string(&p).expect("read"), "abc\n");
        assert!(!numbered(&p, 1).exists());
        let link = d.join("link.log");
        std::os::unix::fs::symlink(&p, &link).expect("symlink");
        assert!(RotatingFile::open(&link, 10, 0).is_err());
        let _ = fs::remove_dir_all(&d);
    }
}
