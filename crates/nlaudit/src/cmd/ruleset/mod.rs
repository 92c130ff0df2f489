//! `nlaudit load`, `merge`, `apply`: rule sets from rules files and `rules.d` directories.
//!
//! - `load FILE|DIR...`: `auditctl -R` semantics, batched (ruleset/load.rs);
//! - `merge DIR`: the file augenrules would write (nlaudit_rules::merge);
//! - `apply [DIR|FILE]`: make the kernel's rules equal to the set with the least work and no
//!   gap (ruleset/apply.rs, nlaudit_rules::plan).
//!
//! docs/rules-files.md describes the semantics.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use nlaudit_rules::plan::{ErrorMode, OtherFormPolicy};
use serde::Serialize;

use crate::cli::{ApplyArgs, LoadArgs, MergeArgs};
use crate::support::errors::{self, code, fail};
use crate::support::{interrupt, output, session};

mod apply;
mod load;
mod watch;
pub use crate::support::source;

use source::Fragments;

pub fn load(a: LoadArgs) -> Result<ExitCode> {
    if a.json {
        output::json_for("load");
    }
    let start = Instant::now();
    // Every file is read (and checked) before the kernel is asked anything.
    let sources = a
        .paths
        .iter()
        .map(|p| {
            source::read(p, a.awk, Fragments::Refuse).and_then(|s| {
                source::refuse_empty(p, &s)?;
                Ok(s)
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mode = ErrorMode { continue_on_error: a.continue_on_error, ignore_errors: a.ignore_errors };
    let _signals = interrupt::catch();
    let total = load::run_all(session::open, &sources, mode)?;
    let format = if a.json { Format::Json } else { Format::Text };
    render_load(total, start, format)
}

/// Text for people, or one JSON object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// `load --json` (schema docs/schemas/load.schema.json): the counts, the notes, what the
/// files' `-l`/`-s` lines printed, and after a stop the error and the rules in force.
#[derive(Debug, Serialize)]
struct LoadJson {
    /// 1.
    schema: u32,
    /// Rules added (and still in force).
    added: usize,
    /// Rules deleted (`-d`, `-W`, `-D`).
    deleted: usize,
    /// Settings changed.
    settings_changed: usize,
    /// Failed lines passed over under `-c` (they make the exit code 1).
    failed_lines: usize,
    /// Failed lines passed over under `-i` alone.
    ignored_lines: usize,
    /// Warnings and the errors passed over, as standard error has them.
    notes: Vec<String>,
    /// What the files' `-l`, `-s`, `--reset-lost` lines print.
    output: String,
    /// How long the load took.
    seconds: f64,
    /// The error that stopped the load or made it fail, if one did.
    error: Option<String>,
    /// The exit code.
    exit_code: u8,
    /// `FILE:LINE` of the line that stopped the load.
    location: Option<String>,
    /// After a stop: the rules in force, as `list` prints them.
    in_force: Option<Vec<String>>,
}

/// Prints what a load did — the `-l`/`-s` output, the notes, one summary line — and turns
/// a stop into the error.
fn render_load(mut total: load::Outcome, start: Instant, format: Format) -> Result<ExitCode> {
    for n in &total.notes {
        eprintln!("{n}");
    }
    let error = match total.stopped.take() {
        Some(e) => Some(e),
        None if total.counted_errors > 0 => Some(fail(
            code::FAILED,
            format!("{} line(s) failed and were passed over (-c)", total.counted_errors),
        )),
        None => None,
    };
    if format == Format::Json {
        let described = error.as_ref().map(errors::describe);
        let (message, exit_code, location, in_force) = match described {
            Some(d) => (Some(d.message), d.code, d.location, d.in_force.or(total.in_force)),
            None => (None, 0, None, None),
        };
        output::print_json(&LoadJson {
            schema: 1,
            added: total.added,
            deleted: total.deleted,
            settings_changed: total.settings,
            failed_lines: total.counted_errors,
            ignored_lines: total.ignored_errors,
            notes: total.notes,
            output: total.output,
            seconds: start.elapsed().as_secs_f64(),
            error: message,
            exit_code,
            location,
            in_force,
        })?;
    } else {
        let mut out = output::stdout();
        out.write_all(total.output.as_bytes())?;
        let errors = total.counted_errors + total.ignored_errors;
        writeln!(
            out,
            "load: {} added, {} deleted, {} setting{} changed{}, {:.3} s",
            total.added,
            total.deleted,
            total.settings,
            if total.settings == 1 { "" } else { "s" },
            if errors > 0 {
                format!(", {errors} failed line(s) passed over")
            } else {
                String::new()
            },
            start.elapsed().as_secs_f64()
        )?;
        out.flush()?;
    }
    match error {
        Some(e) => Err(e),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// `merge --json` (schema docs/schemas/merge.schema.json).
#[derive(Debug, Serialize)]
struct MergeJson {
    /// 1.
    schema: u32,
    /// The directory merged.
    dir: String,
    /// The files merged, in augenrules' order.
    files: Vec<String>,
    /// The merged text, as augenrules writes audit.rules.
    text: String,
}

pub fn merge(a: MergeArgs) -> Result<ExitCode> {
    if a.json {
        output::json_for("merge");
    }
    if !a.dir.is_dir() {
        return Err(fail(
            code::FAILED,
            format!("No rules directory - {} (merge takes a rules.d directory)", a.dir.display()),
        ));
    }
    let machine = a.machine.as_deref().map(crate::support::system::machine_named).transpose()?;
    let src = source::read(&a.dir, a.awk, Fragments::Warn)?;
    if let Some(m) = machine {
        refuse_for_machine(&src, m)?;
    }
    let text = src.merged.as_ref().map(|m| m.text()).unwrap_or_default();
    if a.json {
        output::print_json(&MergeJson {
            schema: 1,
            dir: a.dir.display().to_string(),
            files: src.files.iter().map(|f| f.display().to_string()).collect(),
            text,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = output::stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Refuses a set with a line that does not parse for `machine` (`--machine`), naming each.
fn refuse_for_machine(src: &source::Source, machine: nlaudit_rules::Machine) -> Result<()> {
    let bad = source::refusals_for(src, machine);
    if bad.is_empty() {
        return Ok(());
    }
    Err(fail(
        code::USAGE,
        format!(
            "{}\n{} line(s) of the set do not parse for this machine",
            bad.join("\n"),
            bad.len()
        ),
    ))
}

pub fn apply(a: ApplyArgs) -> Result<ExitCode> {
    if a.json {
        output::json_for("apply");
    }
    if a.watch {
        let period =
            (a.check_interval > 0).then(|| std::time::Duration::from_secs(a.check_interval));
        let mode = if a.json { watch::Output::Json } else { watch::Output::Text };
        // Its records are a stream: a failure still ends it with the error object.
        return watch::run(&a.path, period, mode);
    }
    let start = Instant::now();
    let opts = apply::Options {
        json: a.json,
        dry_run: a.dry_run,
        mode: ErrorMode { continue_on_error: a.continue_on_error, ignore_errors: a.ignore_errors },
        other_forms: if a.rewrite_other_generation {
            OtherFormPolicy::Rewrite
        } else {
            OtherFormPolicy::Keep
        },
    };
    let path = a.path.clone();
    let awk = a.awk;
    let _signals = (!a.dry_run).then(interrupt::catch);
    let read = move || {
        let s = source::read(&path, awk, Fragments::Refuse)?;
        source::refuse_empty(&path, &s)?;
        Ok(s)
    };
    apply::run(session::open, read, opts, start)
}
