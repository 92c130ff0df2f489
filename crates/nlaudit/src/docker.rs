//! `nlaudit docker check|ensure` (not written yet).

use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::errors::{code, fail};

/// `nlaudit docker ...`.
#[derive(Args, Debug)]
pub struct DockerArgs {
    #[command(subcommand)]
    pub command: DockerCommand,
}

/// The docker subcommands.
#[derive(Subcommand, Debug)]
pub enum DockerCommand {
    /// Check the CIS Docker audit controls.
    Check,
    /// Add and persist the missing watches.
    Ensure,
}

pub fn run(_a: DockerArgs) -> anyhow::Result<ExitCode> {
    Err(fail(code::FAILED, "docker: not implemented yet"))
}
