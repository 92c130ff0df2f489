//! Build script, two jobs:
//!
//! 1. The commit nlaudit is built from, for `nlaudit --version`.
//! 2. GCC's unwinder linked statically into the dynamic build (see [`link_unwinder`]).
//!
//! (1) `NLAUDIT_COMMIT`: `git rev-parse --short=12 HEAD`, or `unknown` outside a git
//! checkout (e.g. from a source package, or without git).
//!
//! (2) Links GCC's unwinder (`libgcc_eh.a`) into the dynamically linked build, so that the
//! binary `cargo build --release` makes loads one shared library (libc), not two.
//!
//! Why: Rust's std asks for `libgcc_s.so.1` on `*-linux-gnu` unless the C runtime is static.
//! Loading it costs an open, four mmaps and their page faults, and its constructor
//! (`__cpu_indicator_init`) runs a dozen CPUID instructions, each a VM exit on a virtual
//! machine (about 6 µs each on the benchmark machine): 0.1 ms of every short command,
//! measured (docs/benchmarks.md, issue 20). `libgcc_eh.a` is the same unwinder as an
//! archive; GCC ships it beside `libgcc.a` (static links use it), and with every member
//! linked in, `--as-needed` leaves `libgcc_s` out.
//!
//! Not done when the C runtime is already static (`cargo xtask dist`: std links
//! `libgcc_eh` itself), off linux-gnu, or where the C compiler does not know the archive:
//! then the binary keeps `libgcc_s`, as before, and works the same.

use std::path::Path;
use std::process::Command;

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=NLAUDIT_COMMIT={commit}");
    // Run again when HEAD moves: HEAD itself (a worktree has its own), the branch's ref and
    // packed-refs (in the common dir). A path that does not exist is not named: cargo would
    // rerun the script on every build.
    let mut watched = Vec::new();
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        watched.push(format!("{dir}/HEAD"));
    }
    if let Some(common) = git(&["rev-parse", "--git-common-dir"]) {
        watched.push(format!("{common}/packed-refs"));
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watched.push(format!("{common}/{branch}"));
        }
    }
    for path in watched.iter().filter(|p| Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    link_unwinder();
}

/// GCC's unwinder as an archive in the dynamically linked build (see the module docs).
fn link_unwinder() {
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let linux_gnu = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    let crt_static = var("CARGO_CFG_TARGET_FEATURE").split(',').any(|f| f == "crt-static");
    if linux_gnu && !crt_static && has_libgcc_eh() {
        println!("cargo:rustc-link-lib=static:+whole-archive=gcc_eh");
    }
}

/// The trimmed output of a successful git command.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_string())
}

/// Whether the C compiler (the linker rustc drives) finds `libgcc_eh.a`: it prints the
/// archive's path when it has one, the bare name when it has not.
fn has_libgcc_eh() -> bool {
    let cc = std::env::var("RUSTC_LINKER").unwrap_or_else(|_| "cc".to_string());
    Command::new(cc).arg("-print-file-name=libgcc_eh.a").output().is_ok_and(|o| {
        let path = String::from_utf8_lossy(&o.stdout).trim().to_string();
        o.status.success() && Path::new(&path).is_absolute() && Path::new(&path).exists()
    })
}
