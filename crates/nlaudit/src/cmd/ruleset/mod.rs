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

use crate::cli::{ApplyArgs, LoadArgs, MergeArgs};
use crate::support::errors::{code, fail};
use crate::support::{interrupt, output, session};

mod apply;
mod load;
mod watch;
pub use crate::support::source;

use source::Fragments;

pub fn load(a: LoadArgs) -> Result<ExitCode> {
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
    render_load(total, start)
}

/// Prints what a load did — the `-l`/`-s` output, the notes, one summary line — and turns
/// a stop into the error.
fn render_load(total: load::Outcome, start: Instant) -> Result<ExitCode> {
    for n in &total.notes {
        eprintln!("{n}");
    }
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
        if errors > 0 { format!(", {errors} failed line(s) passed over") } else { String::new() },
        start.elapsed().as_secs_f64()
    )?;
    out.flush()?;
    if let Some(e) = total.stopped {
        return Err(e);
    }
    if total.counted_errors > 0 {
        return Err(fail(
            code::FAILED,
            format!("{} line(s) failed and were passed over (-c)", total.counted_errors),
        ));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn merge(a: MergeArgs) -> Result<ExitCode> {
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
    let text = src.merged.map(|m| m.text()).unwrap_or_default();
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
    if a.watch {
        let period =
            (a.check_interval > 0).then(|| std::time::Duration::from_secs(a.check_interval));
        let mode = if a.json { watch::Output::Json } else { watch::Output::Text };
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
