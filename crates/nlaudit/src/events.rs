//! `nlaudit events` (not written yet).

use std::process::ExitCode;

use crate::cli::EventsArgs;
use crate::errors::{code, fail};

pub fn run(_a: EventsArgs) -> anyhow::Result<ExitCode> {
    Err(fail(code::FAILED, "events: not implemented yet"))
}
