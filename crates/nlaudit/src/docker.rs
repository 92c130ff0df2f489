//! `nlaudit docker check|ensure`: the CIS Docker Benchmark audit controls (CIS Docker 1.6.0
//! 1.1.3–1.1.18; Datadog's 1.2.3–1.2.12), checked and fixed without audit userspace.
//!
//! The controls themselves (the table, path discovery, the semantic match, the verdicts and
//! the ensure plan) are the `nlaudit-controls` library; these modules are the glue:
//!
//! - [`check`]: reads the kernel, evaluates, runs `--verify`, prints;
//! - [`report`]: the text output (the JSON form is the library's, schema: docs/docker.md);
//! - [`ensure`]: plans with the library, executes through the kernel connector, prints;
//! - [`verify`]: `check --verify`, the end-to-end proof that each control's rule records.
//!
//! Exit codes of both commands: 0 every applicable control passes; 1 one fails (for
//! `ensure --dry-run`: something would change; for `check --verify`: also a proof that
//! failed); 2 error.

mod check;
mod ensure;
mod report;
mod verify;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use nlaudit_controls::{Host, RootHost, SystemHost};

use crate::errors::{self, code, fail};

/// `nlaudit docker ...`.
#[derive(Args, Debug)]
pub struct DockerArgs {
    #[command(subcommand)]
    pub command: DockerCommand,
}

/// The docker subcommands.
#[derive(Subcommand, Debug)]
pub enum DockerCommand {
    /// Check the CIS Docker audit controls (exit 0 all pass, 1 one fails, 2 error).
    Check(CheckArgs),
    /// Add the missing watches to the kernel and persist them (idempotent).
    Ensure(EnsureArgs),
}

/// `nlaudit docker check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Print JSON (schema: docs/docker.md).
    #[arg(long)]
    pub json: bool,
    /// Check the image tree mounted at DIR instead of this machine: paths and
    /// DIR/etc/audit/rules.d, no kernel access.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Also prove that each control's rule records: execute the binaries harmlessly
    /// (`dockerd --version`, `runc --version`, ...) and open the other files for reading,
    /// then wait up to 5 s for each event on the audit multicast group (needs CAP_AUDIT_READ;
    /// changes no rule or setting; exit 1 if an event does not come).
    #[arg(long, conflicts_with = "root")]
    pub verify: bool,
}

/// `nlaudit docker ensure`.
#[derive(Args, Debug)]
pub struct EnsureArgs {
    /// Print what would be done and change nothing (exit 1 if something would change).
    #[arg(long)]
    pub dry_run: bool,
    /// Persist in this rules file instead of /etc/audit/rules.d/docker.rules (inside DIR
    /// with --root).
    #[arg(long, value_name = "PATH")]
    pub rules_file: Option<PathBuf>,
    /// Change only the kernel's rules; write no file.
    #[arg(long, conflicts_with_all = ["rules_file", "root"])]
    pub no_persist: bool,
    /// Turn auditing on (enabled 1) if it is off.
    #[arg(long, conflicts_with = "root")]
    pub enable: bool,
    /// Fix the image tree mounted at DIR: write DIR/etc/audit/rules.d/docker.rules, no
    /// kernel access.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

/// Runs a docker subcommand. Errors exit 2 (1 means "a control fails").
pub fn run(a: DockerArgs) -> anyhow::Result<ExitCode> {
    let r = match a.command {
        DockerCommand::Check(c) => check::run(c),
        DockerCommand::Ensure(e) => ensure::run(e),
    };
    match r {
        Ok(c) => Ok(c),
        Err(e) if is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            errors::report(&e);
            Ok(ExitCode::from(code::USAGE))
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The machine to check: this one, or the image tree at `--root DIR` (which must be a
/// directory).
fn host_for(root: Option<&Path>) -> anyhow::Result<Box<dyn Host>> {
    let Some(dir) = root else { return Ok(Box::new(SystemHost::new())) };
    let canon = dir
        .canonicalize()
        .map_err(|e| fail(code::USAGE, format!("--root {}: {e}", dir.display())))?;
    if !canon.is_dir() {
        return Err(fail(code::USAGE, format!("--root {}: not a directory", dir.display())));
    }
    Ok(Box::new(RootHost::new(&canon)))
}
