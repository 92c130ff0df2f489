//! The rules-file reader: what `nlaudit load`/`apply` do with file contents, minus the I/O.
//! The input is one rules file, or (split at NUL bytes) the fragments of a `rules.d`
//! directory merged as augenrules merges them (`merge::merge`, both awk dialects). Each
//! line is then read as `auditctl -R` reads it (the loop of nlaudit's `ruleset::source::
//! parse`: split on spaces with `\ ` escapes, a first token starting with `#` is a comment,
//! messages carry the line number), and the parsed lines become a target rule set
//! (`plan::target`) and a plan against an empty kernel (`plan::plan`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nlaudit_rules::merge::{self, Awk, Dialect};
use nlaudit_rules::plan::{self, ErrorMode};
use nlaudit_rules::{parse_command, split_line, Context, Directive, Machine, ParseError};

#[path = "common.rs"]
mod common;

/// The lines of a file as `fgets` yields them (nlaudit's `source::split_file`).
fn split_file(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    text.strip_suffix('\n').unwrap_or(text).split('\n').collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let lines: Vec<(usize, String)> = if flags & 1 == 0 {
        split_file(&text).into_iter().enumerate().map(|(i, l)| (i + 1, l.to_string())).collect()
    } else {
        let files: Vec<(String, String)> = text
            .split('\0')
            .enumerate()
            .map(|(i, t)| (format!("{i:02}.rules"), t.to_string()))
            .collect();
        let awk = if flags & 2 == 0 { Awk::Mawk } else { Awk::Gawk };
        let merged =
            merge::merge("/etc/audit/rules.d", &files, Dialect { awk, strip_cr: flags & 4 != 0 });
        let _ = merged.text();
        merged
            .lines
            .into_iter()
            .filter_map(|l| {
                let o = l.origin?;
                assert!(o.file < files.len(), "origin {o:?} of {} files", files.len());
                Some((o.line, l.text))
            })
            .collect()
    };
    let env = common::FuzzEnv;
    let mut ctx = Context::new(&env);
    ctx.machine = Machine::X86_64;
    let mut parsed: Vec<(usize, Result<Vec<Directive>, ParseError>)> = Vec::new();
    for (i, (line, l)) in lines.iter().enumerate() {
        let tokens = split_line(l);
        match tokens.first() {
            Some(t) if !t.starts_with('#') => {}
            _ => continue,
        }
        ctx.lineno = Some(*line);
        let r = parse_command(&tokens, &ctx);
        match &r {
            Ok(d) => common::check_accepted(d),
            Err(e) => assert!(!e.message.is_empty(), "an empty error message"),
        }
        parsed.push((i, r));
    }
    let mode = ErrorMode { continue_on_error: flags & 8 != 0, ignore_errors: flags & 16 != 0 };
    let target = plan::target(&parsed, mode);
    let desired: Vec<_> = target.rules.iter().map(|r| r.normal.clone()).collect();
    let p = plan::plan(&[], &desired);
    assert_eq!(p.deleted + p.readded, 0, "nothing to delete from an empty kernel");
});
