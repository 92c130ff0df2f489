//! `nlaudit auditctl ARGS` and the `auditctl` symlink (not written yet).

use std::process::ExitCode;

use crate::errors::{code, fail};

pub fn auditctl_dropin(_args: Vec<String>) -> anyhow::Result<ExitCode> {
    Err(fail(code::FAILED, "auditctl drop-in: not implemented yet"))
}
