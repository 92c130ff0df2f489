//! `cargo xtask fuzz [SECONDS] [TARGET...]`: runs every fuzz target (or the ones named) for
//! SECONDS each (default 60), one after the other, and fails if any of them finds a crash.
//!
//! What: the targets live in `fuzz/` (a cargo-fuzz crate outside the workspace): the rule
//! text parser, the rules-file reader, the rule wire decoder, the status decoder and the
//! netlink reply stream. Each runs as `cargo +nightly fuzz run <t> fuzz/corpus/<t>
//! fuzz/seeds/<t> -- -max_total_time=SECONDS -timeout=30`: new inputs go to the (ignored)
//! corpus, the committed seeds are read too, a crashing input lands in
//! `fuzz/artifacts/<t>/`, and an input that takes over 30 s counts as a hang. The full
//! libFuzzer output of each target is kept in `target/fuzz-logs/<t>.log`; the summary says
//! how many inputs each target ran.
//!
//! Needs: the nightly toolchain (`rustup toolchain install nightly`; libFuzzer's
//! instrumentation uses `-Z` flags) and cargo-fuzz, which this task installs with
//! `cargo install cargo-fuzz` when it is missing. Runs on stable CI are unaffected: the
//! fuzz crate is not a workspace member.
//!
//! A crash found here becomes a regression test next to the code it crashed (the input as
//! a byte array in a unit test), then its artifact is deleted.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::util::root;

/// Seconds per target when none are given.
const DEFAULT_SECONDS: u64 = 60;

pub fn run(args: &[String]) -> Result<()> {
    let mut seconds = DEFAULT_SECONDS;
    let mut wanted = Vec::new();
    for a in args {
        match a.parse::<u64>() {
            Ok(n) if n > 0 => seconds = n,
            _ if a.starts_with('-') => bail!("usage: cargo xtask fuzz [SECONDS] [TARGET...]"),
            _ => wanted.push(a.clone()),
        }
    }
    let fuzz_dir = root().join("fuzz");
    ensure_cargo_fuzz()?;
    let all = targets(&fuzz_dir)?;
    if let Some(bad) = wanted.iter().find(|w| !all.contains(w)) {
        bail!("no fuzz target {bad:?}; targets: {}", all.join(", "));
    }
    let chosen = if wanted.is_empty() { all } else { wanted };
    // Build first: a tree that does not compile is a build error, not a crash.
    for t in &chosen {
        let built = Command::new("cargo")
            .current_dir(&fuzz_dir)
            .args(["+nightly", "fuzz", "build", t])
            .status()
            .context("cannot run `cargo +nightly fuzz build`")?;
        if !built.success() {
            bail!("the fuzz target {t} does not build");
        }
    }
    let logs = root().join("target/fuzz-logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("mkdir {}", logs.display()))?;
    let mut summary = Vec::new();
    let mut failed = Vec::new();
    for t in &chosen {
        eprintln!("fuzz: {t} for {seconds} s");
        let outcome = run_target(&fuzz_dir, &logs, t, seconds)?;
        let verdict = match (outcome.ok, &outcome.artifact) {
            (true, _) => "clean".to_string(),
            (false, Some(a)) => format!("CRASH: {a}"),
            (false, None) => "FAILED (see its log)".to_string(),
        };
        if !outcome.ok {
            failed.push(t.clone());
        }
        summary.push(format!(
            "{t:<16} {:>6} s {:>12} execs  {verdict}",
            outcome.seconds.map_or("?".into(), |s| s.to_string()),
            outcome.execs.map_or("?".into(), |n| n.to_string()),
        ));
    }
    println!("target            time        execs  result");
    for line in &summary {
        println!("{line}");
    }
    if !failed.is_empty() {
        bail!("failures in {}; logs in {}", failed.join(", "), logs.display());
    }
    Ok(())
}

/// What one run reported.
struct Outcome {
    ok: bool,
    /// The crashing input libFuzzer saved, if any.
    artifact: Option<String>,
    execs: Option<u64>,
    seconds: Option<u64>,
}

fn run_target(fuzz_dir: &Path, logs: &Path, t: &str, seconds: u64) -> Result<Outcome> {
    let corpus = fuzz_dir.join("corpus").join(t);
    std::fs::create_dir_all(&corpus).with_context(|| format!("mkdir {}", corpus.display()))?;
    let mut cmd = Command::new("cargo");
    cmd.current_dir(fuzz_dir).args(["+nightly", "fuzz", "run", t]).arg(&corpus);
    let seeds = fuzz_dir.join("seeds").join(t);
    if seeds.is_dir() {
        cmd.arg(&seeds);
    }
    cmd.args(["--", &format!("-max_total_time={seconds}"), "-timeout=30", "-print_final_stats=1"]);
    cmd.stderr(Stdio::piped());
    let mut child = cmd.spawn().with_context(|| format!("cannot start {cmd:?}"))?;
    let log_path = logs.join(format!("{t}.log"));
    let mut log = std::fs::File::create(&log_path)
        .with_context(|| format!("create {}", log_path.display()))?;
    let mut execs = None;
    let mut secs = None;
    let mut artifact = None;
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines() {
            let line = line.context("read libFuzzer output")?;
            writeln!(log, "{line}").context("write log")?;
            // "Done 123456 runs in 60 second(s)"
            if let Some(rest) = line.strip_prefix("Done ") {
                let mut w = rest.split_whitespace();
                execs = w.next().and_then(|n| n.parse().ok());
                secs = w.nth(2).and_then(|n| n.parse().ok());
            }
            // "Test unit written to ./artifacts/<t>/crash-<sha1>"
            if let Some((_, path)) = line.split_once("Test unit written to ") {
                artifact = Some(path.trim().to_string());
            }
            let noteworthy = line.contains("ERROR")
                || line.contains("panicked")
                || line.contains("Test unit written")
                || line.starts_with("Done ")
                || line.starts_with("error");
            if noteworthy {
                eprintln!("  {line}");
            }
        }
    }
    let status = child.wait().context("wait for cargo fuzz")?;
    Ok(Outcome { ok: status.success(), artifact, execs, seconds: secs })
}

/// The targets `cargo fuzz list` names.
fn targets(fuzz_dir: &Path) -> Result<Vec<String>> {
    let out = Command::new("cargo")
        .current_dir(fuzz_dir)
        .args(["+nightly", "fuzz", "list"])
        .output()
        .context("cannot run `cargo +nightly fuzz list`")?;
    if !out.status.success() {
        bail!("`cargo +nightly fuzz list` failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect())
}

/// Installs cargo-fuzz when `cargo fuzz` is not there; checks that nightly is.
fn ensure_cargo_fuzz() -> Result<()> {
    let nightly = Command::new("cargo").args(["+nightly", "--version"]).output();
    if !nightly.is_ok_and(|o| o.status.success()) {
        bail!("the nightly toolchain is missing: rustup toolchain install nightly");
    }
    let have = Command::new("cargo")
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        eprintln!("fuzz: installing cargo-fuzz");
        crate::util::run(Command::new("cargo").args(["install", "cargo-fuzz"]))?;
    }
    Ok(())
}
