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

use std::process::ExitCode;

use crate::cli::{CheckArgs, DockerArgs, DockerCommand, EnsureArgs};

use crate::support::errors::{self, code};

pub fn run(a: DockerArgs) -> anyhow::Result<ExitCode> {
    let r = match a.command {
        DockerCommand::Check(c) => check::run(c),
        DockerCommand::Ensure(e) => ensure::run(e),
    };
    match r {
        Ok(c) => Ok(c),
        Err(e) if is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            errors::report_as(&e, code::USAGE);
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
