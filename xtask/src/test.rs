//! `cargo xtask test`: everything CI runs, in order — formatting, clippy and rustdoc with
//! warnings as errors, the workspace's tests (unit, golden, CLI, kernel, conformance and the
//! tidy checks of xtask/src/tidy.rs; kernel tests need root and, with CI=true, must run),
//! the generated tables' freshness, the Debian package (`deb-test`), then the container
//! suite.

use std::process::Command;

use anyhow::Result;

use crate::util::{root, run};

pub fn run_all(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--no-containers");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(&cargo).current_dir(root()).args(["fmt", "--all", "--", "--check"]))?;
    run(Command::new(&cargo).current_dir(root()).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The CLI's `generate` feature (man pages, completions) is off in every other build.
    run(Command::new(&cargo).current_dir(root()).args([
        "clippy",
        "--package",
        "nlaudit",
        "--features",
        "generate",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(Command::new(&cargo).current_dir(root()).env("RUSTDOCFLAGS", "-D warnings").args([
        "doc",
        "--workspace",
        "--no-deps",
    ]))?;
    run(Command::new(&cargo).current_dir(root()).args(["test", "--workspace", "--all-targets"]))?;
    run(Command::new(&cargo)
        .current_dir(root())
        .args(["run", "-q", "-p", "xtask", "--", "codegen", "--check"]))?;
    crate::deb_test::run(&[])?;
    if !quick {
        crate::container::run(&[])?;
    }
    Ok(())
}
