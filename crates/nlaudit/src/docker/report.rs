//! The check's output: a table for people, JSON for programs (schema in docs/docker.md).

use std::io::Write;

use serde_json::{json, Value};

use super::check::{Level, Outcome, Report, Verdict};
use super::verify::{Verification, VerifyStatus};
use crate::output;

/// The JSON schema version (`schema` key); bumped on incompatible changes.
pub const SCHEMA: u32 = 1;

/// The JSON form of the report.
pub fn to_json(r: &Report) -> Value {
    let (pass, fail, na) = r.counts();
    json!({
        "schema": SCHEMA,
        "target": if r.root.is_some() { "image" } else { "kernel" },
        "root": r.root.as_ref().map(|p| p.display().to_string()),
        "rules_dir": r.rules_dir,
        "audit": {
            "enabled": r.state.enabled,
            "auditd_pid": r.state.auditd_pid,
            "immutable": r.state.immutable,
            "recording": r.state.recording,
            "notes": r.state.notes.iter().map(|n| json!({
                "level": n.level.name(),
                "code": n.code,
                "text": n.text,
            })).collect::<Vec<_>>(),
        },
        "summary": {
            "total": r.outcomes.len(),
            "pass": pass,
            "fail": fail,
            "not_applicable": na,
        },
        "controls": r.outcomes.iter().map(control_json).collect::<Vec<_>>(),
    })
}

fn control_json(o: &Outcome) -> Value {
    let c = o.control;
    let l = &o.located;
    let chosen = l.path();
    let resolved = l.resolved.as_ref().filter(|_| l.not_applicable.is_none());
    json!({
        "id": c.cis,
        "ids": { "cis_docker_1_6_0": c.cis, "datadog": c.datadog },
        "title": c.title,
        "status": o.verdict.name(),
        "reason": o.reason,
        "benchmark_path": c.benchmark_path,
        "datadog_path": c.datadog_path,
        "path": chosen.map(|p| p.path.clone()),
        "path_source": chosen.map(|p| p.source.clone()),
        "watch_path": l.watch_path(),
        "kind": resolved.and_then(|r| r.kind).map(|k| k.name()),
        "symlinks": resolved.map(|r| r.links.iter().map(|k| json!({
            "path": k.path,
            "target": k.target,
            "last": k.last,
        })).collect::<Vec<_>>()).unwrap_or_default(),
        "candidates": l.candidates.iter().map(|k| json!({
            "path": k.path,
            "source": k.source,
            "exists": k.exists,
            "real_path": k.real,
        })).collect::<Vec<_>>(),
        "notes": l.notes,
        "rule_found": o.rule_found,
        "evidence": o.evidence.iter().map(|e| json!({
            "rule": e.text,
            "origin": e.origin.to_string(),
            "relation": e.relation.name(),
            "satisfies": e.satisfies,
            "notes": e.notes,
        })).collect::<Vec<_>>(),
        "remediation": o.remediation,
        "persisted": o.persisted.as_ref().map(|p| p.to_string()),
        "volatile": o.volatile,
        "verify": o.verify.as_ref().map(verify_json),
    })
}

fn verify_json(v: &Verification) -> Value {
    json!({
        "status": v.status.name(),
        "reason": v.reason,
        "serial": v.serial,
        "syscall": v.syscall,
        "path": v.path,
        "key": v.key,
    })
}

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
    let mut out = output::stdout();
    output::json(&mut out, &to_json(r))?;
    out.flush()
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
    let (pass, fail, na) = r.counts();
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
