//! `cargo xtask codegen [--check]`: regenerate (or check) the libaudit name tables.
//!
//! What: writes `crates/nlaudit-rules/src/tables/generated.rs`, the syscall, machine,
//! errno, message type, field, file type, fstype, filter, action, operator and `-C`
//! comparison name tables that auditctl prints through libaudit.
//!
//! Why: nlaudit's `list` output must be byte-identical to auditctl 3.0.9's, so its names
//! must be exactly libaudit's.  Instead of transcribing them, `xtask/codegen.py` asks the
//! installed `libaudit.so.1` itself through Python's `ctypes` (standard library only) and
//! writes the answers as Rust data; we take facts from libaudit, never its code.  This
//! module only locates the script and the output and runs `python3`.
//!
//! `--check` regenerates in memory and fails, with a diff summary, when the committed
//! file differs (e.g. after a libaudit upgrade or a hand edit).
//!
//! Needs `python3` and libaudit (`apt-get install -y libaudit1`).

use std::path::Path;
use std::process::Command;

use anyhow::bail;

use crate::util::root;

/// The generated file, relative to the workspace root.
const OUTPUT: &str = "crates/nlaudit-rules/src/tables/generated.rs";
/// The generator, relative to the workspace root.
const SCRIPT: &str = "xtask/codegen.py";

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut check = false;
    for arg in args {
        match arg.as_str() {
            "--check" => check = true,
            other => bail!("unknown codegen argument {other:?} (usage: codegen [--check])"),
        }
    }
    if !libaudit_present() {
        bail!(
            "libaudit.so.1 not found: the tables are read from the real libaudit; \
             apt-get install -y libaudit1 is needed"
        );
    }

    let root = root();
    let mut cmd = Command::new("python3");
    cmd.current_dir(&root).arg(root.join(SCRIPT));
    if check {
        cmd.arg("--check");
    }
    cmd.arg(root.join(OUTPUT));
    crate::util::run(&mut cmd)
}

/// Whether the dynamic loader can find `libaudit.so.1` (checked here so the error names
/// the package to install rather than being a Python traceback).
fn libaudit_present() -> bool {
    let known = ["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"];
    if known.iter().any(|dir| Path::new(dir).join("libaudit.so.1").exists()) {
        return true;
    }
    // Elsewhere (other multiarch triplets, LD_LIBRARY_PATH), ask the loader's cache.
    Command::new("python3")
        .args(["-c", "import ctypes; ctypes.CDLL('libaudit.so.1')"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}
