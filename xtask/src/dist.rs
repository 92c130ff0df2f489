//! `cargo xtask dist`: the static, stripped x86_64 `nlaudit` in `target/dist/nlaudit`, its
//! man pages in `target/dist/man/` and its bash, zsh and fish completions in
//! `target/dist/completions/`.
//!
//! What: builds the `nlaudit` binary for `x86_64-unknown-linux-gnu` against glibc's static
//! libc (`-C target-feature=+crt-static`) with the workspace's size-tuned `dist` profile,
//! copies it to `target/dist/`, and checks the result: an ELF file with no program
//! interpreter and no `DT_NEEDED` entry (so no shared library is loaded), no symbol table
//! (stripped), that runs (`--help`), and of at most [`SIZE_BUDGET`] bytes. It prints the
//! size and what `ldd` says.
//!
//! Why static glibc: the musl target cannot be installed on the build machines, while the
//! static glibc archives come with `libc6-dev`. The one thing glibc would load dynamically
//! is an NSS module for `getpwnam`/`getgrnam` (user names in rules); glibc >= 2.34 has the
//! `files` service built in, so names resolve from `/etc/passwd` and `/etc/group`, as
//! docs/containers.md says. Rust links a static PIE, so ASLR still applies; `ldd` says
//! "statically linked" (not "not a dynamic executable", which is for non-PIE binaries).
//!
//! The man pages and completions come from the clap definitions (crates/nlaudit/src/cli.rs)
//! through the CLI's hidden `generate` command, which only a binary built with the
//! `generate` feature has ([`generate`]): the shipped binary does not carry the generators.
//!
//! The build uses its own target dir (`target/dist-build`) so that the `+crt-static`
//! flags do not invalidate the ordinary dev build; `cargo xtask container-test` builds the
//! static kernel test binary there too ([`static_cargo`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

use crate::util::root;

/// The one target we ship (and the only one the static glibc build is checked on).
pub const TARGET: &str = "x86_64-unknown-linux-gnu";
/// Links the C runtime statically, and packs the static PIE's relative relocations into
/// `DT_RELR` (glibc >= 2.36 applies them): without it, every pointer in nlaudit's name
/// tables costs a 24-byte `R_X86_64_RELATIVE` entry, about 140 KB in all.
const STATIC_RUSTFLAGS: &str =
    "-C target-feature=+crt-static -C link-arg=-Wl,-z,pack-relative-relocs";
/// The linker script that discards the unwind tables of the shipped binary (relative to the
/// workspace root; it says why). Given to the final link only (`cargo rustc`), so that the
/// dependencies stay shared with [`static_cargo`]'s other use, the static kernel test binary,
/// which keeps its tables: a test harness unwinds to report a failed test.
const DISCARD_UNWIND_TABLES: &str = "xtask/link/discard-unwind-tables.ld";
/// The build's target dir, relative to the workspace root.
const BUILD_DIR: &str = "target/dist-build";
/// Where the finished binary goes, relative to the workspace root.
pub const DIST_DIR: &str = "target/dist";
/// The man pages (`nlaudit.8`, `nlaudit-add.8`, ..., uncompressed roff), under [`DIST_DIR`].
pub const MAN_DIR: &str = "man";
/// The completion scripts of [`COMPLETIONS`], under [`DIST_DIR`].
pub const COMPLETIONS_DIR: &str = "completions";
/// The size limit for the stripped static binary (issue 19): 2.5 MB, what auditctl, its
/// four libraries and glibc's loader take in a scratch image (2,489,672 bytes on Debian 12).
/// docs/containers.md says where the bytes go.
pub const SIZE_BUDGET: u64 = 2_500_000;
/// The generator's target dir: a dev build with the `generate` feature, kept apart so that
/// it does not replace `target/debug/nlaudit`, which the integration tests run.
const GENERATE_DIR: &str = "target/generate";
/// The completion scripts shipped: (shell, file name under `completions/`), the names each
/// shell's completion loader looks for.
pub const COMPLETIONS: [(&str, &str); 3] =
    [("bash", "nlaudit.bash"), ("zsh", "_nlaudit"), ("fish", "nlaudit.fish")];

pub fn run(args: &[String]) -> Result<PathBuf> {
    if let Some(arg) = args.first() {
        bail!("unknown dist argument {arg:?} (usage: dist)");
    }
    let bin = build()?;
    generate()?;
    let size = std::fs::metadata(&bin)?.len();
    ensure!(
        size <= SIZE_BUDGET,
        "{} is {size} bytes, over the {SIZE_BUDGET}-byte (2.5 MB) limit (where the bytes \
         go: docs/containers.md, Binary size)",
        bin.display()
    );
    Ok(bin)
}

/// Writes the man pages and completions into [`MAN_DIR`] and [`COMPLETIONS_DIR`] with a
/// `generate` build of the CLI.
pub fn generate() -> Result<()> {
    let root = root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    crate::util::run(
        Command::new(&cargo)
            .current_dir(&root)
            .args(["build", "--quiet", "--package", "nlaudit", "--bin", "nlaudit"])
            .args(["--features", "generate", "--target-dir"])
            .arg(root.join(GENERATE_DIR)),
    )?;
    let generator = root.join(GENERATE_DIR).join("debug/nlaudit");
    let dist = root.join(DIST_DIR);

    let man_dir = dist.join(MAN_DIR);
    if man_dir.exists() {
        // A command that was removed must not leave its page behind.
        std::fs::remove_dir_all(&man_dir)
            .with_context(|| format!("cannot remove {}", man_dir.display()))?;
    }
    let out = Command::new(&generator).arg("generate").arg("man").arg(&man_dir).output();
    let out = out.with_context(|| format!("cannot run {}", generator.display()))?;
    ensure!(out.status.success(), "{} generate man failed: {out:?}", generator.display());
    let pages = String::from_utf8_lossy(&out.stdout).lines().count();

    let completions_dir = dist.join(COMPLETIONS_DIR);
    std::fs::create_dir_all(&completions_dir)
        .with_context(|| format!("cannot create {}", completions_dir.display()))?;
    for (shell, file) in COMPLETIONS {
        let out = Command::new(&generator).args(["generate", "completion", shell]).output();
        let out = out.with_context(|| format!("cannot run {}", generator.display()))?;
        ensure!(
            out.status.success() && !out.stdout.is_empty(),
            "{} generate completion {shell} failed: {out:?}",
            generator.display()
        );
        let path = completions_dir.join(file);
        std::fs::write(&path, &out.stdout)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "{}: {pages} man pages; {}: {}",
        man_dir.strip_prefix(&root).unwrap_or(&man_dir).display(),
        completions_dir.strip_prefix(&root).unwrap_or(&completions_dir).display(),
        COMPLETIONS.map(|(_, f)| f).join(", "),
    );
    Ok(())
}

/// Builds, copies and checks the static binary (everything but the size budget, which
/// `container-test` and `deb` report without enforcing); returns its path.
pub fn build() -> Result<PathBuf> {
    let root = root();
    let mut cmd = static_cargo(&root, "rustc");
    cmd.args(["--profile", "dist", "--package", "nlaudit", "--bin", "nlaudit", "--", "-C"])
        .arg(format!("link-arg=-Wl,-T,{}", root.join(DISCARD_UNWIND_TABLES).display()))
        .args(["-C", "link-arg=-Wl,--wrap=_Unwind_Backtrace"]);
    crate::util::run(&mut cmd)?;

    let built = root.join(BUILD_DIR).join(TARGET).join("dist/nlaudit");
    let dist = root.join(DIST_DIR);
    std::fs::create_dir_all(&dist).with_context(|| format!("cannot create {}", dist.display()))?;
    let bin = dist.join("nlaudit");
    std::fs::copy(&built, &bin)
        .with_context(|| format!("cannot copy {} to {}", built.display(), bin.display()))?;

    let elf = std::fs::read(&bin).with_context(|| format!("cannot read {}", bin.display()))?;
    let facts =
        inspect(&elf).with_context(|| format!("{} is not a valid ELF64 file", bin.display()))?;
    ensure!(!facts.interpreter, "{} asks for a program interpreter: not static", bin.display());
    ensure!(
        facts.needed == 0,
        "{} needs {} shared libraries: not static",
        bin.display(),
        facts.needed
    );
    ensure!(!facts.symtab, "{} still has a symbol table: not stripped", bin.display());
    // A static PIE relocates itself with the libc.a it was linked with: if that libc could
    // not apply the packed relocations, the binary would crash here, not in a container.
    let smoke = Command::new(&bin).arg("--help").output();
    ensure!(
        smoke.as_ref().is_ok_and(|o| o.status.success()),
        "{} --help does not run: {smoke:?}",
        bin.display()
    );

    // Without unwind tables, an error's backtrace capture must not abort the process (see
    // `__wrap__Unwind_Backtrace` in crates/nlaudit/src/main.rs): a refused rule, with
    // backtraces asked for, still ends with its message and exit code 2.
    let refused = Command::new(&bin)
        .args(["add", "-a", "always,exit", "-F", "arch=b64", "-S", "opnat"])
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LIB_BACKTRACE", "1")
        .output();
    ensure!(
        refused
            .as_ref()
            .is_ok_and(|o| o.status.code() == Some(2)
                && String::from_utf8_lossy(&o.stderr).contains("opnat")),
        "{} does not refuse an unknown syscall with exit 2 when RUST_BACKTRACE=1: {refused:?}",
        bin.display()
    );

    let size = elf.len() as u64;
    println!(
        "{}: {size} bytes ({:.2} MiB; target {SIZE_BUDGET}), static, stripped, {TARGET}",
        bin.strip_prefix(&root).unwrap_or(&bin).display(),
        size as f64 / (1024.0 * 1024.0),
    );
    if let Some(said) = ldd(&bin) {
        println!("ldd {}: {said}", bin.strip_prefix(&root).unwrap_or(&bin).display());
    }
    Ok(bin)
}

/// A `cargo <subcommand>` that builds for [`TARGET`] with a static C runtime in the dist
/// target dir. RUSTFLAGS only reaches target artifacts when `--target` is given, so build
/// scripts and proc macros stay dynamic, as they must.
pub fn static_cargo(root: &Path, subcommand: &str) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let rustflags = match std::env::var("RUSTFLAGS") {
        Ok(user) if !user.trim().is_empty() => format!("{user} {STATIC_RUSTFLAGS}"),
        _ => STATIC_RUSTFLAGS.to_string(),
    };
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .arg(subcommand)
        .args(["--target", TARGET, "--target-dir"])
        .arg(root.join(BUILD_DIR))
        // Would take precedence over RUSTFLAGS.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", rustflags);
    cmd
}

/// What `ldd` says about a file (it exits 1 for "not a dynamic executable"), or None when
/// there is no `ldd`. Informational only: [`inspect`] decides.
fn ldd(bin: &Path) -> Option<String> {
    let out = Command::new("ldd").arg(bin).output().ok()?;
    let mut said = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.trim().is_empty() {
        if !said.is_empty() {
            said.push_str("; ");
        }
        said.push_str(err.trim());
    }
    Some(said)
}

/// What [`inspect`] found out about an ELF file.
#[derive(Debug, PartialEq)]
struct ElfFacts {
    /// A `PT_INTERP` program header: the file is run by a dynamic loader.
    interpreter: bool,
    /// The number of `DT_NEEDED` entries (shared libraries) in `PT_DYNAMIC`.
    needed: usize,
    /// A section of type `SHT_SYMTAB`: the file is not stripped.
    symtab: bool,
}

/// `PT_DYNAMIC`, `PT_INTERP`, `DT_NEEDED`, `SHT_SYMTAB` (elf.h).
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NEEDED: u64 = 1;
const SHT_SYMTAB: u32 = 2;

/// Reads the program and section headers of a little-endian ELF64 file (elf.h layout);
/// None when the file is too short for what its headers claim.
fn inspect(elf: &[u8]) -> Option<ElfFacts> {
    if elf.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let phoff = usize::try_from(u64_at(elf, 32)?).ok()?;
    let shoff = usize::try_from(u64_at(elf, 40)?).ok()?;
    let phentsize = usize::from(u16_at(elf, 54)?);
    let phnum = usize::from(u16_at(elf, 56)?);
    let shentsize = usize::from(u16_at(elf, 58)?);
    let shnum = usize::from(u16_at(elf, 60)?);

    let mut facts = ElfFacts { interpreter: false, needed: 0, symtab: false };
    for i in 0..phnum {
        let ph = phoff.checked_add(i.checked_mul(phentsize)?)?;
        match u32_at(elf, ph)? {
            PT_INTERP => facts.interpreter = true,
            PT_DYNAMIC => {
                let offset = usize::try_from(u64_at(elf, ph + 8)?).ok()?;
                let size = usize::try_from(u64_at(elf, ph + 32)?).ok()?;
                let dynamic = elf.get(offset..offset.checked_add(size)?)?;
                // Elf64_Dyn: d_tag (8 bytes), d_un (8 bytes); DT_NULL ends the array.
                for entry in dynamic.chunks_exact(16) {
                    match u64_at(entry, 0)? {
                        0 => break,
                        DT_NEEDED => facts.needed += 1,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    for i in 0..shnum {
        let sh = shoff.checked_add(i.checked_mul(shentsize)?)?;
        if u32_at(elf, sh + 4)? == SHT_SYMTAB {
            facts.symtab = true;
        }
    }
    Some(facts)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The running test binary is a dynamically linked, unstripped ELF (cargo's test
    /// profile): the inspector must see its interpreter and libraries.
    #[test]
    fn inspects_a_dynamic_binary() {
        let exe = std::fs::read(std::env::current_exe().expect("current exe")).expect("read exe");
        let facts = inspect(&exe).expect("valid ELF");
        if cfg!(target_feature = "crt-static") {
            assert!(!facts.interpreter && facts.needed == 0, "{facts:?}");
        } else {
            assert!(facts.interpreter && facts.needed > 0, "{facts:?}");
        }
    }

    #[test]
    fn rejects_short_and_foreign_files() {
        assert_eq!(inspect(b""), None);
        assert_eq!(inspect(b"\x7fELF\x01\x01"), None); // ELF32
        assert_eq!(inspect(b"#!/bin/sh\n"), None);
        // A header that points its program headers past the end of the file.
        let mut header = vec![0u8; 64];
        header[..6].copy_from_slice(b"\x7fELF\x02\x01");
        header[32] = 0xff; // e_phoff
        header[56] = 1; // e_phnum
        assert_eq!(inspect(&header), None);
    }
}
