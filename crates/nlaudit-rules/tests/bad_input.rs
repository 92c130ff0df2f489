//! The bad-input corpus (tests/data/bad-input.tsv): malformed rules and rules-file lines,
//! each with the message it must be refused with. Every kernel limit is there (64 fields,
//! 256-byte keys, PATH_MAX and NAME_MAX, operators per field, lists per field), with
//! hostile bytes and sizes. Each line must be refused by the parser, so that no rule from
//! it can reach the kernel, with exactly the expected message, and must not panic.
//!
//! Format: `mode<TAB>input<TAB>expected`. `mode` is `cmd` (an auditctl command line) or
//! `file:N` (line N of a rules file, whose messages name the line). `input` and
//! `expected` use backslash escapes (`\\`, `\t`, `\n`, `\r`, `\xNN`); the unescaped input
//! is split as a rules-file line (`split_line`: spaces, with `\ ` inside a token).
//!
//! `NLAUDIT_BLESS=1 cargo test -p nlaudit-rules --test bad_input` rewrites the expected
//! column from the parser's current messages: review the diff before committing it.

#[path = "../../../tests/support/corpus.rs"]
mod corpus;

use corpus::unescape;
use std::fmt::Write as _;
use std::path::PathBuf;

use nlaudit_rules::{parse_command, split_line, Context, Directive, Machine, NoEnv};

fn corpus_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/bad-input.tsv")
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// One corpus line.
struct Case {
    mode: String,
    input: String,
    expected: String,
}

fn cases() -> (Vec<String>, Vec<Case>) {
    let text = std::fs::read_to_string(corpus_path()).expect("read tests/data/bad-input.tsv");
    let mut header = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            header.push(line.to_string());
            continue;
        }
        let mut cols = line.splitn(3, '\t');
        let (Some(mode), Some(input), expected) = (cols.next(), cols.next(), cols.next()) else {
            panic!("malformed corpus line: {line}");
        };
        out.push(Case {
            mode: mode.to_string(),
            input: unescape(input),
            expected: unescape(expected.unwrap_or("")),
        });
    }
    (header, out)
}

/// Parses a case as nlaudit does (command line, or rules-file line N). `Err(message)` when
/// refused; `Ok(message)` when accepted as a non-rule directive that refuses with a message
/// (auditctl's deprecated `possible`); panics (fails the test) when a rule comes out.
fn refusal(case: &Case) -> Result<String, String> {
    let env = NoEnv;
    let mut ctx = Context::new(&env);
    ctx.machine = Machine::X86_64;
    ctx.lineno = match case.mode.as_str() {
        "cmd" => None,
        m => Some(
            m.strip_prefix("file:")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unknown mode {m}")),
        ),
    };
    let args = split_line(&case.input);
    match parse_command(&args, &ctx) {
        Err(e) => Err(e.message),
        Ok(d) => {
            if let Some(r) = d.iter().find(|x| matches!(x, Directive::Rule(_))) {
                return Ok(format!("ACCEPTED as a rule: {r:?}"));
            }
            match d.as_slice() {
                [Directive::Ignored(msg)] => Ok(msg.clone()),
                other => Ok(format!("ACCEPTED: {other:?}")),
            }
        }
    }
}

#[test]
fn every_bad_input_is_refused_with_its_message() {
    let (header, cases) = cases();
    let bless = std::env::var_os("NLAUDIT_BLESS").is_some();
    let mut failures = Vec::new();
    let mut blessed = header.join("\n");
    for (i, case) in cases.iter().enumerate() {
        let got = match refusal(case) {
            Err(msg) => msg,
            Ok(msg) if !msg.starts_with("ACCEPTED") => msg,
            Ok(msg) => {
                failures.push(format!("line {}: {:.200}\n    {msg:.300}", i + 1, case.input));
                continue;
            }
        };
        assert!(!got.trim().is_empty(), "empty message for {:.200}", case.input);
        let _ = write!(blessed, "\n{}\t{}\t{}", case.mode, escape(&case.input), escape(&got));
        if got != case.expected && !bless {
            failures.push(format!(
                "{:.200}\n    want {:?}\n    got  {:?}",
                escape(&case.input),
                case.expected,
                got
            ));
        }
    }
    if bless {
        std::fs::write(corpus_path(), blessed + "\n").expect("write the blessed corpus");
    }
    assert!(cases.len() >= 200, "the corpus has only {} lines", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
