//! Writing to standard output: buffered, and a closed pipe is not an error worth a message.
//!
//! `--json`: a command that was given it calls [`json_for`] first; its report goes out
//! through [`print_json`]. When the command then fails without having printed its report
//! (bad input, a refusal, an interruption), `errors::report` prints an [`ErrorReport`]
//! instead, so that standard output always holds one JSON object (docs/json.md).

use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use serde::Serialize;

/// The command whose `--json` was given (`"load"`, `"docker ensure"`), set once.
static JSON_COMMAND: OnceLock<&'static str> = OnceLock::new();
/// Whether that command's report (one object) was printed.
static REPORT_PRINTED: AtomicBool = AtomicBool::new(false);

/// A buffered, locked stdout.
pub fn stdout() -> BufWriter<io::StdoutLock<'static>> {
    BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

/// Notes that `command` reports in JSON (its `--json` was given): a failure it does not
/// report itself becomes an [`ErrorReport`] on standard output.
pub fn json_for(command: &'static str) {
    let _ = JSON_COMMAND.set(command);
}

/// The command that reports in JSON, if one does.
pub fn json_command() -> Option<&'static str> {
    JSON_COMMAND.get().copied()
}

/// Whether the command's JSON report went out already (then a failure prints no second
/// object).
pub fn report_printed() -> bool {
    REPORT_PRINTED.load(Ordering::Relaxed)
}

/// Prints a command's report, pretty, with a newline, and flushes.
pub fn print_json<T: Serialize>(report: &T) -> io::Result<()> {
    let mut out = stdout();
    serde_json::to_writer_pretty(&mut out, report)?;
    writeln!(out)?;
    out.flush()?;
    REPORT_PRINTED.store(true, Ordering::Relaxed);
    Ok(())
}

/// Prints an [`ErrorReport`] on one line (so that it also ends a stream of JSON lines,
/// `events --json`, `apply --watch --json`).
pub fn print_error(report: &ErrorReport) -> io::Result<()> {
    let mut out = stdout();
    serde_json::to_writer(&mut out, report)?;
    writeln!(out)?;
    out.flush()?;
    REPORT_PRINTED.store(true, Ordering::Relaxed);
    Ok(())
}

/// The schema version of [`ErrorReport`].
pub const ERROR_SCHEMA: u32 = 1;

/// What a `--json` command prints when it fails without its report (schema
/// docs/schemas/error.schema.json): the message that standard error has too, the exit code,
/// and where known the `FILE:LINE` and the rules in force after the stop.
#[derive(Debug, Serialize)]
pub struct ErrorReport {
    /// [`ERROR_SCHEMA`].
    pub schema: u32,
    /// The command (`load`, `docker ensure`, ...).
    pub command: &'static str,
    /// The message, as printed after `nlaudit: ` on standard error.
    pub error: String,
    /// The process's exit code.
    pub exit_code: u8,
    /// `FILE:LINE` of the offending line, when the error is about one.
    pub location: Option<String>,
    /// After an interruption or a stop part-way: the rules the kernel holds, as `list`
    /// prints them (`None`: not listed, nothing was changed or the list failed).
    pub in_force: Option<Vec<String>>,
}
