//! Conformance against the real kernel and the real auditctl 3.0.9 (rule-language issue):
//! every rule line of Debian's example rule files and of the generated corpus
//! (tests/data/rules-valid.txt, rules-invalid.txt):
//!
//! - loaded by auditctl → `nlaudit list` prints what `auditctl -l` prints;
//! - loaded by `nlaudit add` → `auditctl -l` prints the same text as after auditctl's add,
//!   and the kernel holds the same bytes;
//! - refused by auditctl → refused by `nlaudit add`, with nothing added;
//! - what auditctl accepts but silently drops part of (`-S` on a watch, a second `-p`):
//!   refused by `nlaudit add` by design (docs/rules.md), and the auditctl drop-in
//!   (`nlaudit auditctl ARGS`) adds exactly what auditctl adds.
//!
//! The test prints the counts it saw.

mod support;

use std::path::Path;

use nlaudit_proto::{Client, RuleData};
use support::corpus::shell_split;
use support::{auditctl, err, kernel_available, nlaudit, out, KernelGuard};

const EXAMPLES: &str = "/usr/share/doc/auditd/examples/rules";

/// A rule line worth trying: not a comment, not a control line.
fn rule_args(line: &str, from_file: bool) -> Option<Vec<String>> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') {
        return None;
    }
    let args = if from_file { nlaudit_rules::split_line(t) } else { shell_split(t) };
    let first = args.first()?.as_str();
    ["-a", "-A", "-w"].iter().any(|o| first.starts_with(o)).then_some(args)
}

#[derive(Default, Debug)]
struct Counts {
    accepted_both: usize,
    refused_both: usize,
    /// Refused by `nlaudit add` by design; the drop-in matched auditctl.
    refused_by_design: usize,
    mismatches: Vec<String>,
}

fn new_rules(c: &mut Client, before: &[RuleData]) -> Vec<RuleData> {
    c.list_rules().expect("list").into_iter().filter(|r| !before.contains(r)).collect()
}

fn check(c: &mut Client, args: &[String], counts: &mut Counts) {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let before = c.list_rules().expect("list");
    let theirs = auditctl(&a).expect("auditctl");
    let added_by_auditctl = new_rules(c, &before);
    let listing_theirs = out(&auditctl(&["-l"]).expect("auditctl -l"));
    let listing_ours = out(&nlaudit(&["list"]));
    for r in &added_by_auditctl {
        // ENOENT: the kernel itself may drop a watch whose parent vanished.
        let _ = c.delete_rule(r);
    }
    let mut ours_args = vec!["add"];
    ours_args.extend(a.iter().copied());
    let ours = nlaudit(&ours_args);
    let added_by_us = new_rules(c, &before);
    let listing_after_ours = out(&auditctl(&["-l"]).expect("auditctl -l"));
    for r in &added_by_us {
        let _ = c.delete_rule(r);
    }
    let line = a.join(" ");
    let mut problems = Vec::new();
    let by_design = ours.status.code() == Some(2) && err(&ours).contains("auditctl would");
    if by_design && theirs.status.success() && added_by_us.is_empty() {
        let mut dropin_args = vec!["auditctl"];
        dropin_args.extend(a.iter().copied());
        let dropin = nlaudit(&dropin_args);
        let added_by_dropin = new_rules(c, &before);
        for r in &added_by_dropin {
            let _ = c.delete_rule(r);
        }
        if added_by_dropin == added_by_auditctl && err(&dropin) == err(&theirs) {
            counts.refused_by_design += 1;
        } else {
            counts.mismatches.push(format!("{line}\n    the drop-in differs from auditctl"));
        }
        return;
    }
    match (theirs.status.success() && !added_by_auditctl.is_empty(), ours.status.success()) {
        (true, true) => {
            if listing_ours != listing_theirs {
                problems.push(format!("list: ours {listing_ours:?} auditctl {listing_theirs:?}"));
            }
            if listing_after_ours != listing_theirs {
                problems.push(format!("after our add, auditctl -l: {listing_after_ours:?}"));
            }
            if added_by_us != added_by_auditctl {
                problems.push("kernel bytes differ".into());
            }
            if err(&ours) != err(&theirs) {
                problems.push(format!("stderr: {:?} vs {:?}", err(&ours), err(&theirs)));
            }
            if problems.is_empty() {
                counts.accepted_both += 1;
            }
        }
        (false, false) => {
            if !added_by_us.is_empty() {
                problems.push("refused but added".into());
            } else {
                counts.refused_both += 1;
            }
        }
        (t, o) => problems.push(format!(
            "auditctl accepted={t} ({}), nlaudit accepted={o} ({})",
            err(&theirs).trim(),
            err(&ours).trim()
        )),
    }
    if !problems.is_empty() {
        counts.mismatches.push(format!("{line}\n    {}", problems.join("\n    ")));
    }
}

fn run_corpus(name: &str, lines: Vec<Vec<String>>) {
    let _g = KernelGuard::new();
    let mut c = Client::open().expect("open");
    let mut counts = Counts::default();
    for args in &lines {
        check(&mut c, args, &mut counts);
    }
    println!(
        "conformance {name}: {} lines, {} accepted by both with identical text and bytes, \
         {} refused by both with nothing added, {} refused by nlaudit add by design (the \
         drop-in identical), {} mismatches",
        lines.len(),
        counts.accepted_both,
        counts.refused_both,
        counts.refused_by_design,
        counts.mismatches.len()
    );
    assert!(counts.mismatches.is_empty(), "{}", counts.mismatches.join("\n"));
}

fn corpus_file(name: &str) -> Vec<Vec<String>> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(name);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .filter_map(|l| rule_args(l, false))
        .collect()
}

#[test]
fn debian_example_rules() {
    if !kernel_available("debian_example_rules") || support::auditctl_path().is_none() {
        return;
    }
    let mut files: Vec<_> = std::fs::read_dir(EXAMPLES)
        .unwrap_or_else(|e| panic!("{EXAMPLES}: {e} (apt-get install auditd)"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rules"))
        .collect();
    files.sort();
    let lines: Vec<Vec<String>> = files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| rule_args(l, true))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(lines.len() > 100, "only {} example rule lines", lines.len());
    run_corpus(&format!("Debian examples ({} files)", files.len()), lines);
}

#[test]
fn generated_valid_corpus() {
    if !kernel_available("generated_valid_corpus") || support::auditctl_path().is_none() {
        return;
    }
    run_corpus("generated valid set", corpus_file("rules-valid.txt"));
}

#[test]
fn generated_invalid_corpus() {
    if !kernel_available("generated_invalid_corpus") || support::auditctl_path().is_none() {
        return;
    }
    run_corpus("generated invalid set", corpus_file("rules-invalid.txt"));
}
