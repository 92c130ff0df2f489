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
//!
//! Generation 4 (`generated4.rs`, libaudit 4.2.1 with its perm tables) is read from a
//! libaudit 4.2.1 built from linux-audit/audit-userspace v4.2.1 (configured with
//! `--with-arm --with-aarch64 --with-riscv --with-io_uring`, as upstream's audit.spec):
//! name it with `NLAUDIT_LIBAUDIT4=/path/to/lib/.libs/libaudit.so.1`. Nothing of it is in
//! the repository; when it is absent, `--check` checks generation 3 only and says that
//! generation 4's committed tables were not compared (they are still exercised by the
//! golden vectors of tests/data/golden4-*.tsv).

use std::path::Path;
use std::process::Command;

use anyhow::bail;

use crate::util::root;

/// The generated file, relative to the workspace root.
const OUTPUT: &str = "crates/nlaudit-rules/src/tables/generated.rs";
/// Generation 4's generated file.
const OUTPUT4: &str = "crates/nlaudit-rules/src/tables/generated4.rs";
/// The libaudit 4.2.1 to read generation 4 from.
const LIBAUDIT4_ENV: &str = "NLAUDIT_LIBAUDIT4";
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
    crate::util::run(&mut cmd)?;

    match std::env::var_os(LIBAUDIT4_ENV) {
        Some(lib) => {
            let mut cmd = Command::new("python3");
            cmd.current_dir(&root).arg(root.join(SCRIPT));
            if check {
                cmd.arg("--check");
            }
            cmd.arg("--lib").arg(lib).args(["--source-version", "4.2.1"]);
            cmd.arg(root.join(OUTPUT4));
            crate::util::run(&mut cmd)
        }
        None => {
            println!(
                "codegen: generation 4 skipped: {LIBAUDIT4_ENV} names no libaudit 4.2.1, so \
                 {OUTPUT4} was {} (see xtask/src/codegen.rs)",
                if check { "not compared" } else { "not regenerated" }
            );
            Ok(())
        }
    }
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
