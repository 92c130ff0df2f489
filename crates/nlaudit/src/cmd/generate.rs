//! `nlaudit generate man DIR | completion SHELL`: the man pages and shell completions, made
//! from the clap definitions in `cli.rs` (so they cannot drift from `--help`).
//!
//! Only in a binary built with the `generate` feature: `cargo xtask dist` builds one to
//! write the files it ships beside the static binary, which does not carry the generators.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, GenerateArgs, GenerateWhat};
use crate::support::output;

/// The man section: nlaudit administers the kernel (auditctl and auditd are in 8 too).
const SECTION: &str = "8";
/// The name of the manual the pages belong to (the centre of the page footer).
const MANUAL: &str = "nlaudit manual";

pub fn run(a: GenerateArgs) -> Result<ExitCode> {
    match a.what {
        GenerateWhat::Man { dir } => man(&dir)?,
        GenerateWhat::Completion { shell } => completion(shell)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `nlaudit.8` and one page per visible subcommand (`nlaudit-docker-check.8`).
fn man(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // Names the subcommands `nlaudit-add` etc. (their display names), as the pages are named.
    cmd.build();
    let mut written = Vec::new();
    write_pages(&cmd, dir, &mut written)?;
    let mut out = output::stdout();
    for path in written {
        writeln!(out, "{}", path.display())?;
    }
    out.flush()?;
    Ok(())
}

fn write_pages(
    cmd: &clap::Command,
    dir: &Path,
    written: &mut Vec<std::path::PathBuf>,
) -> Result<()> {
    let page = clap_mangen::Man::new(cmd.clone()).section(SECTION).manual(MANUAL);
    let path = dir.join(page.get_filename());
    let mut roff = Vec::new();
    page.render(&mut roff)?;
    std::fs::write(&path, roff).with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    Ok(())
}

/// Writes the completion script for one shell on standard output.
fn completion(shell: clap_complete::Shell) -> Result<()> {
    let mut cmd = Cli::command();
    let mut out = output::stdout();
    clap_complete::generate(shell, &mut cmd, "nlaudit", &mut out);
    out.flush()?;
    Ok(())
}
