//! Links GCC's unwinder (`libgcc_eh.a`) into the dynamically linked build, so that the
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
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let linux_gnu = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    let crt_static = var("CARGO_CFG_TARGET_FEATURE").split(',').any(|f| f == "crt-static");
    if linux_gnu && !crt_static && has_libgcc_eh() {
        println!("cargo:rustc-link-lib=static:+whole-archive=gcc_eh");
    }
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
