//! `nlaudit load`, `merge`, `apply` (not written yet).

use std::process::ExitCode;

use clap::Args;

use crate::errors::{code, fail};

/// `nlaudit load FILE|DIR...`.
#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Rules files or rules.d directories.
    #[arg(required = true)]
    pub paths: Vec<std::path::PathBuf>,
}

/// `nlaudit merge DIR`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The rules.d directory.
    pub dir: std::path::PathBuf,
}

/// `nlaudit apply [DIR|FILE]`.
#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// Rules file or rules.d directory.
    #[arg(default_value = "/etc/audit/rules.d")]
    pub path: std::path::PathBuf,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn load(_a: LoadArgs) -> anyhow::Result<ExitCode> {
    Err(fail(code::FAILED, "load: not implemented yet"))
}

pub fn merge(_a: MergeArgs) -> anyhow::Result<ExitCode> {
    Err(fail(code::FAILED, "merge: not implemented yet"))
}

pub fn apply(_a: ApplyArgs) -> anyhow::Result<ExitCode> {
    Err(fail(code::FAILED, "apply: not implemented yet"))
}
