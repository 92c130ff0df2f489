//! The check's output: a table for people; JSON for programs (the library's
//! [`check_json`], schema in docs/docker.md).

use std::io::Write;

use nlaudit_controls::evaluate::{Level, Outcome, Report, Verdict};
use nlaudit_controls::json::check_json;
use nlaudit_controls::verify::{Verification, VerifyStatus};

use crate::support::output;

/// The text line of a `--verify` result: `verified: event 20 execve /usr/sbin/dockerd
/// key=docker`, or why not.
fn verify_line(v: &Verification) -> String {
    match v.status {
        VerifyStatus::Verified => {
            let mut line = format!(
                "verified: event {} {} {}",
                v.serial.unwrap_or_default(),
                v.syscall.as_deref().unwrap_or("?"),
                v.path.as_deref().unwrap_or("?")
            );
            match &v.key {
                Some(k) => line += &format!(" key={k}"),
                None => line += " (no key)",
            }
            line
        }
        VerifyStatus::Failed => format!("NOT verified: {}", v.reason),
        VerifyStatus::Skipped => format!("verify skipped: {}", v.reason),
    }
}

/// Prints the JSON report.
pub fn print_json(r: &Report) -> std::io::Result<()> {
    output::print_json(&check_json(r))
}

/// Prints the report for people.
pub fn print_text(r: &Report) -> std::io::Result<()> {
    let mut out = output::stdout();
    out.write_all(render_text(r).as_bytes())?;
    out.flush()
}

fn status_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "FAIL",
        Verdict::NotApplicable => "n/a",
    }
}

/// The text report.
pub fn render_text(r: &Report) -> String {
    let mut t = String::new();
    match &r.root {
        Some(root) => t += &format!("audit state (image {}):\n", root.display()),
        None => t += "audit state (kernel):\n",
    }
    for n in &r.state.notes {
        let level = match n.level {
            Level::Fail => "FAIL",
            Level::Warning => "warning",
            Level::Info => "info",
        };
        t += &format!("  {level:<8} {}\n", n.text);
    }
    t += "\n";
    let rows: Vec<[String; 5]> = r
        .outcomes
        .iter()
        .map(|o| {
            let path = o
                .located
                .watch_path()
                .map(str::to_string)
                .unwrap_or_else(|| o.control.benchmark_path.to_string());
            let evidence = match o.verdict {
                Verdict::Pass => o
                    .evidence
                    .iter()
                    .find(|e| e.satisfies)
                    .map(|e| format!("{} ({})", e.text, e.origin))
                    .unwrap_or_default(),
                _ => o.reason.clone(),
            };
            [
                o.control.cis.to_string(),
                o.control.datadog.unwrap_or("-").to_string(),
                status_word(o.verdict).to_string(),
                path,
                evidence,
            ]
        })
        .collect();
    let header = ["CIS", "DATADOG", "STATUS", "PATH", "EVIDENCE"].map(str::to_string);
    let mut width = [0usize; 4];
    for row in std::iter::once(&header).chain(rows.iter()) {
        for (w, cell) in width.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(rows.iter()) {
        let mut line = String::new();
        for (w, cell) in width.iter().zip(row.iter()) {
            line += &format!("{cell:<w$}  ");
        }
        line += &row[4];
        t += line.trim_end();
        t += "\n";
    }
    let details: Vec<String> =
        r.outcomes.iter().filter_map(|o| details(o, r.root.is_none())).collect();
    if !details.is_empty() {
        t += "\n";
        t += &details.join("");
    }
    let counts = r.counts();
    let (pass, fail, na) = (counts.pass, counts.fail, counts.not_applicable);
    t += &format!(
        "\n{} controls: {pass} pass, {fail} fail, {na} not applicable\n",
        r.outcomes.len()
    );
    for o in &r.outcomes {
        if let Some(v) = &o.verify {
            let word = match v.status {
                VerifyStatus::Failed => "FAILED",
                s => s.name(),
            };
            t += &format!("verify {}: {word}\n", o.control.ids());
        }
    }
    if fail > 0 {
        let mut fix = "nlaudit docker ensure".to_string();
        if let Some(root) = &r.root {
            fix += &format!(" --root {}", root.display());
        } else if r.state.enabled == Some(0) {
            fix += " --enable";
        }
        if r.state.immutable && r.root.is_none() {
            t += &format!("fix: {fix} (persists the rules; they take effect after a reboot)\n");
        } else {
            t += &format!("fix: {fix}\n");
        }
    }
    t
}

/// The detail lines of a control, when there is more to say than the table row.
fn details(o: &Outcome, kernel: bool) -> Option<String> {
    let verify = o.verify.as_ref().map(verify_line);
    if o.verdict == Verdict::NotApplicable {
        return verify.map(|v| format!("{} {}\n    {v}\n", o.control.ids(), o.control.title));
    }
    let l = &o.located;
    let mut lines = Vec::new();
    if let Some(c) = l.path() {
        if c.path != o.control.benchmark_path || l.watch_path() != Some(c.path.as_str()) {
            lines.push(format!("in use: {} ({})", c.path, c.source));
        }
        if c.path != o.control.benchmark_path {
            let lit = l.candidates.iter().find(|k| k.path == o.control.benchmark_path);
            let real = l.watch_path();
            let what = match lit.and_then(|k| k.real.as_deref()) {
                None => "does not exist here",
                Some(r) if Some(r) == real => "another name of the same file",
                Some(_) => "exists, but is not the file in use",
            };
            lines.push(format!("benchmark path: {} ({what})", o.control.benchmark_path));
        }
    }
    lines.extend(l.notes.iter().cloned());
    for e in &o.evidence {
        if e.satisfies && e.notes.is_empty() {
            continue;
        }
        let what = if e.satisfies { "rule" } else { "does not qualify" };
        lines.push(format!("{what}: {} ({}): {}", e.text, e.origin, e.notes.join("; ")));
    }
    if kernel {
        match (&o.persisted, &o.volatile, o.verdict) {
            (Some(p), _, Verdict::Fail) => lines.push(format!("persisted: {p} (loads at boot)")),
            (None, Some(v), _) => lines.push(format!("not persistable: {v}")),
            (None, None, Verdict::Pass) => {
                lines.push("not persisted in rules.d: lost at reboot".to_string())
            }
            _ => {}
        }
    }
    lines.extend(verify);
    if lines.is_empty() {
        return None;
    }
    if o.verdict == Verdict::Fail {
        if let Some(fix) = &o.remediation {
            lines.push(format!("fix: {fix}"));
        }
    }
    let mut s = format!("{} {}\n", o.control.ids(), o.control.title);
    for line in lines {
        s += &format!("    {line}\n");
    }
    Some(s)
}
