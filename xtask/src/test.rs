//! `cargo xtask test`: everything CI runs, in order — the workspace's tests (unit, golden,
//! CLI, kernel and conformance; kernel tests need root and, with CI=true, must run), the
//! generated tables' freshness, then the container suite.

use std::process::Command;

use anyhow::Result;

use crate::util::{root, run};

pub fn run_all(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--no-containers");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(&cargo).current_dir(root()).args(["test", "--workspace", "--all-targets"]))?;
    run(Command::new(&cargo)
        .current_dir(root())
        .args(["run", "-q", "-p", "xtask", "--", "codegen", "--check"]))?;
    if !quick {
        crate::container::run(&[])?;
    }
    Ok(())
}
