//! `cargo xtask golden`: regenerate the golden rule vectors from the real auditctl.
//!
//! nlaudit's rule parser and its `list` output must match Debian bookworm's
//! `auditctl` 3.0.9 byte for byte, and the only trustworthy reference for that
//! is auditctl itself talking to a real kernel.  This task runs
//! `xtask/golden.py`, which feeds every line of `tests/data/rules-valid.txt`
//! and `tests/data/rules-invalid.txt` to auditctl, records exit code, output,
//! the `auditctl -l` text and the exact `struct audit_rule_data` bytes the
//! kernel listed, deletes every rule it added again, and writes
//! `tests/data/golden-valid.tsv` and `tests/data/golden-invalid.tsv`.  The data
//! driven tests then compare nlaudit against those files without needing root
//! or auditctl.
//!
//! The script is Python (stdlib only) so that it can run on a machine with
//! nothing but auditctl and python3; it must run as root, on a kernel whose
//! audit rule list it may briefly add rules to.  Arguments after `golden` are
//! passed on to the script (`--only valid|invalid|corpus`, `-q`, `--auditctl PATH`,
//! `--generation 3|4`, `--corpus NAME=DIR`).
//!
//! Generation 4 (auditctl 4.2.1, run from its build directory, never installed):
//! `cargo xtask golden --generation 4 --auditctl BUILD/src/auditctl
//! --corpus debian=/usr/share/doc/auditd/examples/rules --corpus upstream=SRC/rules`
//! writes `golden4-{valid,invalid}.tsv` (lines filed by what 4.x did with them) and
//! `golden4-corpus-{debian,upstream}.tsv`; `--generation 3 --only corpus --corpus ...`
//! records the same corpora for 3.0.9 (`golden-corpus-*.tsv`). Only the lines and the
//! outcomes are committed, never the rule files.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Result};

use crate::util;

/// Where auditctl is looked for, in order, before falling back to `$PATH`.
const AUDITCTL: [&str; 2] = ["/sbin/auditctl", "/usr/sbin/auditctl"];

pub fn run(args: &[String]) -> Result<()> {
    if !is_root() {
        bail!("golden must run as root: it adds audit rules to the kernel and deletes them again");
    }
    let Some(auditctl) = find_auditctl() else {
        bail!("auditctl not found (install Debian's `auditd` package; the vectors are for auditctl 3.0.9)");
    };
    let root = util::root();
    let script = root.join("xtask").join("golden.py");
    if !script.is_file() {
        bail!("{} is missing", script.display());
    }
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .arg("--root")
        .arg(&root)
        .arg("--auditctl")
        .arg(&auditctl)
        .args(args)
        .current_dir(&root);
    util::run(&mut cmd)
}

/// Effective uid 0, read from /proc so that xtask needs no libc dependency.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn find_auditctl() -> Option<String> {
    if let Some(p) = AUDITCTL.iter().find(|p| Path::new(p).is_file()) {
        return Some((*p).to_string());
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("auditctl"))
            .find(|p| p.is_file())
            .map(|p| p.to_string_lossy().into_owned())
    })
}
