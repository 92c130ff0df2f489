//! Tidy tests (rust-analyzer's `tidy.rs`): the invariants docs/architecture.md states, checked
//! by scanning the sources. Each failure names FILE:LINE and what to do.
//!
//! They run with `cargo test --workspace` (xtask is a workspace member), so with
//! `cargo xtask test` too.

use std::fs;
use std::path::{Path, PathBuf};

/// The CLI's layers: `src/cmd/NAME.rs` or `src/cmd/NAME/` is one command module; it may use
/// `crate::cli`, `crate::support` and the libraries, never another command module.
/// `src/support/` serves them all and never uses `crate::cmd`.
const CMD_DIR: &str = "crates/nlaudit/src/cmd";
const SUPPORT_DIR: &str = "crates/nlaudit/src/support";

/// `unwrap()`/`expect(` in library code that no input can reach. Empty today; an entry
/// needs the file, the line's text and why it cannot fail.
const UNWRAP_ALLOWED: &[Unreachable] = &[];

/// What nlaudit-rules may not touch: it gets the file system and user database through
/// `parse::Env`, never directly.
const IO_PATTERNS: &[&str] = &[
    "std::fs",
    "std::net",
    "std::process",
    "std::io::stdin",
    "std::io::stdout",
    "std::io::stderr",
    "std::env::var",
    "File::",
    "OpenOptions",
    "TcpStream",
    "UnixStream",
    "Command::new",
];

/// The macros a library may not call outside tests: it returns values, the CLI prints.
const PRINT_MACROS: &[&str] = &["println!", "eprintln!", "print!", "eprint!", "dbg!"];

struct Unreachable {
    file: &'static str,
    line: &'static str,
    #[allow(dead_code)] // read by whoever adds an entry, not by the check
    why: &'static str,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `crates/nlaudit-*` packages that have a `src/lib.rs`.
fn library_crates() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(workspace().join("crates"))
        .expect("read crates/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("nlaudit-"))
                && p.join("src/lib.rs").is_file()
        })
        .collect();
    out.sort();
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else { continue };
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn relative(p: &Path) -> String {
    let root = workspace().canonicalize().expect("workspace");
    let p = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    p.strip_prefix(&root).unwrap_or(&p).display().to_string()
}

/// A source file with comments, string and char literals blanked (newlines kept), so that
/// a pattern inside a message or a doc example does not count.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |out: &mut String, s: &[u8]| {
        for &c in s {
            out.push(if c == b'\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"/*") {
            let end = rest.windows(2).position(|w| w == b"*/").map_or(rest.len(), |e| e + 2);
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"r\"") || rest.starts_with(b"r#") || rest.starts_with(b"br") {
            let start = if rest[0] == b'b' { 2 } else { 1 };
            let hashes = rest[start..].iter().take_while(|&&c| c == b'#').count();
            if rest.get(start + hashes) != Some(&b'"') {
                out.push(rest[0] as char);
                i += 1;
                continue;
            }
            let mut close = vec![b'"'];
            close.resize(1 + hashes, b'#');
            let body = start + hashes + 1;
            let end = rest[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(rest.len(), |e| body + e + close.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest[0] == b'"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest[0] == b'\'' {
            // A char literal ('x', '\n', '\u{1}'), or a lifetime ('a) left as it is.
            let lit = if rest.get(1) == Some(&b'\\') {
                rest.iter().skip(2).position(|&c| c == b'\'').map(|e| e + 3)
            } else {
                let ch = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                (rest.get(1 + ch) == Some(&b'\'')).then_some(ch + 2)
            };
            match lit {
                Some(end) => {
                    blank(&mut out, &rest[..end]);
                    i += end;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// The lines (1-based number, code-only text) of a file that are not test code: items under
/// `#[cfg(test)]` are skipped, by brace matching on the code-only text.
fn non_test_lines(text: &str) -> Vec<(usize, String)> {
    let code = code_only(text);
    let lines: Vec<&str> = code.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "#[cfg(test)]" {
            // Skip the item: up to its `;` or its closing brace.
            let mut depth = 0i32;
            let mut opened = false;
            while i < lines.len() {
                for c in lines[i].chars() {
                    match c {
                        '{' => {
                            depth += 1;
                            opened = true;
                        }
                        '}' => depth -= 1,
                        _ => {}
                    }
                }
                let ends =
                    (opened && depth <= 0) || (!opened && lines[i].trim_end().ends_with(';'));
                i += 1;
                if ends {
                    break;
                }
            }
            continue;
        }
        out.push((i + 1, lines[i].to_string()));
        i += 1;
    }
    out
}

/// Files a library declares as test-only modules (`#[cfg(test)] mod x;`): not scanned.
fn is_test_file(p: &Path) -> bool {
    p.components().any(|c| c.as_os_str() == "tests")
        || p.file_name().is_some_and(|n| n == "tests.rs")
}

fn library_sources() -> Vec<(PathBuf, Vec<(usize, String)>)> {
    library_crates()
        .iter()
        .flat_map(|c| rust_files(&c.join("src")))
        .filter(|p| !is_test_file(p))
        .map(|p| {
            let text = fs::read_to_string(&p).expect("read source");
            let lines = non_test_lines(&text);
            (p, lines)
        })
        .collect()
}

/// Whether `line` contains `word` not preceded by an identifier character (so `print!`
/// does not match inside `eprint!`).
fn has_word(line: &str, word: &str) -> bool {
    line.match_indices(word).any(|(at, _)| {
        !line[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

fn fail_if_any(what: &str, problems: &[String]) {
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

#[test]
fn library_crates_are_found() {
    let names: Vec<String> = library_crates()
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert!(names.iter().any(|n| n == "nlaudit-proto"), "{names:?}");
    assert!(names.iter().any(|n| n == "nlaudit-rules"), "{names:?}");
}

#[test]
fn libraries_print_nothing() {
    let mut problems = Vec::new();
    for (p, lines) in library_sources() {
        for (n, l) in &lines {
            if let Some(m) = PRINT_MACROS.iter().find(|m| has_word(l, m)) {
                problems.push(format!(
                    "{}:{n}: `{m}` in a library: return the text or an error, the CLI prints",
                    relative(&p)
                ));
            }
        }
    }
    fail_if_any("library code prints", &problems);
}

#[test]
fn rules_does_no_io() {
    let mut problems = Vec::new();
    let dir = workspace().join("crates/nlaudit-rules/src");
    for p in rust_files(&dir).into_iter().filter(|p| !is_test_file(p)) {
        let text = fs::read_to_string(&p).expect("read source");
        for (n, l) in non_test_lines(&text) {
            let grouped = l.contains("std::{")
                && ["fs", "net", "process", "env"].iter().any(|m| has_word(&l, m));
            let hit = IO_PATTERNS.iter().find(|pat| has_word(&l, pat)).copied();
            if let Some(pat) = hit.or(grouped.then_some("std::{fs|net|process|env}")) {
                problems.push(format!(
                    "{}:{n}: `{pat}`: nlaudit-rules does no I/O (take it through `parse::Env`)",
                    relative(&p)
                ));
            }
        }
    }
    fail_if_any("nlaudit-rules does I/O", &problems);
}

#[test]
fn libraries_do_not_unwrap() {
    let mut problems = Vec::new();
    let mut used = vec![false; UNWRAP_ALLOWED.len()];
    for (p, lines) in library_sources() {
        let file = relative(&p);
        for (n, l) in &lines {
            if !(l.contains(".unwrap()") || l.contains(".expect(")) {
                continue;
            }
            let allowed =
                UNWRAP_ALLOWED.iter().position(|a| a.file == file && l.trim() == a.line.trim());
            match allowed {
                Some(i) => used[i] = true,
                None => problems.push(format!(
                    "{file}:{n}: `unwrap()`/`expect(` in library code: return an error, or \
                     add it to UNWRAP_ALLOWED with why no input reaches it"
                )),
            }
        }
    }
    for (a, used) in UNWRAP_ALLOWED.iter().zip(used) {
        if !used {
            problems
                .push(format!("{}: UNWRAP_ALLOWED entry `{}` is gone: remove it", a.file, a.line));
        }
    }
    fail_if_any("unwrap/expect in library code", &problems);
}

#[test]
fn libraries_deny_missing_docs() {
    let mut problems = Vec::new();
    for c in library_crates() {
        let lib = c.join("src/lib.rs");
        let text = fs::read_to_string(&lib).expect("read lib.rs");
        if !text.lines().any(|l| l.trim() == "#![deny(missing_docs)]") {
            problems.push(format!("{}:1: add `#![deny(missing_docs)]`", relative(&lib)));
        }
    }
    fail_if_any("library crates without #![deny(missing_docs)]", &problems);
}

/// The command modules: the entries of `src/cmd` (`NAME.rs`, `NAME/`), but `mod.rs`.
fn command_modules() -> Vec<String> {
    let dir = workspace().join(CMD_DIR);
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("read src/cmd")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .map(|n| n.strip_suffix(".rs").map(str::to_string).unwrap_or(n))
        .filter(|n| n != "mod")
        .collect();
    names.sort();
    names
}

/// The command module that owns `file` (a path under `src/cmd`), and how deep below
/// `src/cmd` its module sits (1: `cmd/NAME.rs` or `cmd/NAME/mod.rs`; 2: `cmd/NAME/x.rs`).
fn owner(cmd: &Path, file: &Path) -> Option<(String, usize)> {
    let rel = file.strip_prefix(cmd).ok()?;
    let parts: Vec<&str> = rel.components().filter_map(|c| c.as_os_str().to_str()).collect();
    let first = parts.first()?;
    let name = first.strip_suffix(".rs").unwrap_or(first).to_string();
    let depth = match parts.as_slice() {
        [_] | [_, "mod.rs"] => 1,
        other => other.len(),
    };
    Some((name, depth))
}

/// The command modules a line names: `crate::cmd::x`, `crate::cmd::{x, y::z}`, and the
/// `super::` path that reaches `cmd` from a module `depth` levels below it.
fn cmd_paths(line: &str, depth: usize) -> Vec<String> {
    let mut out = Vec::new();
    let supers = "super::".repeat(depth);
    for prefix in ["crate::cmd::", supers.as_str()] {
        for (at, _) in line.match_indices(prefix) {
            if line[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            {
                continue;
            }
            let rest = &line[at + prefix.len()..];
            let word = |s: &str| -> String {
                s.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
            };
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                out.extend(inner.split(',').map(word).filter(|n| !n.is_empty()));
            } else {
                let name = word(rest);
                if !name.is_empty() {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// Every use of one command module by another, as (file, line, module used); grouped
/// imports spread over several lines are read as one.
fn command_imports() -> Vec<(String, usize, String)> {
    let cmd = workspace().join(CMD_DIR);
    let modules = command_modules();
    let mut out = Vec::new();
    for p in rust_files(&cmd) {
        let Some((me, depth)) = owner(&cmd, &p) else { continue };
        let text = fs::read_to_string(&p).expect("read source");
        let lines = non_test_lines(&text);
        let mut k = 0;
        while k < lines.len() {
            let (n, mut l) = lines[k].clone();
            // `use crate::cmd::{a,\n b};`: join until the group closes.
            while l.contains("::{") && !l.contains('}') && k + 1 < lines.len() {
                k += 1;
                l.push_str(&lines[k].1);
            }
            for name in cmd_paths(&l, depth) {
                if name != me && modules.contains(&name) {
                    out.push((relative(&p), n, name));
                }
            }
            k += 1;
        }
    }
    out
}

#[test]
fn no_command_module_imports_another() {
    let modules = command_modules();
    assert!(modules.len() >= 6, "src/cmd lists {modules:?}");
    let problems: Vec<String> = command_imports()
        .iter()
        .map(|(file, n, used)| {
            format!(
                "{file}:{n}: uses the command module `{used}`: move what it needs into \
                 crates/nlaudit/src/support or a library crate"
            )
        })
        .collect();
    fail_if_any("command modules import each other", &problems);
}

#[test]
fn support_never_uses_a_command() {
    let mut problems = Vec::new();
    for p in rust_files(&workspace().join(SUPPORT_DIR)) {
        let text = fs::read_to_string(&p).expect("read source");
        for (n, l) in non_test_lines(&text) {
            if l.contains("crate::cmd") {
                problems.push(format!("{}:{n}: support uses a command module", relative(&p)));
            }
        }
    }
    fail_if_any("support modules import commands", &problems);
}

#[test]
fn the_scanner_sees_code_not_text() {
    let src = "let s = \"println!(x) {\"; // dbg!(y)\nlet c = '{'; /* std::fs */ 'a: loop {}\n\
               #[cfg(test)]\nmod tests {\n    fn f() { x.unwrap(); }\n}\nfn g() {}\n";
    let lines = non_test_lines(src);
    let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    assert!(!text.iter().any(|l| l.contains("println") || l.contains("dbg") || l.contains("fs")));
    assert!(!text.iter().any(|l| l.contains("unwrap")), "{text:?}");
    assert!(text.iter().any(|l| l.contains("fn g")), "{text:?}");
    assert!(text.iter().any(|l| l.contains("'a: loop")), "{text:?}");
    assert_eq!(cmd_paths("use crate::cmd::{status, rules::x};", 1), ["status", "rules"]);
    assert_eq!(cmd_paths("use super::events;", 1), ["events"]);
    assert_eq!(cmd_paths("use super::super::events;", 2), ["events"]);
    assert!(cmd_paths("use super::source;", 2).is_empty());
    assert!(cmd_paths("use crate::support::output;", 1).is_empty());
    assert!(has_word("eprint!(x)", "eprint!") && !has_word("eprint!(x)", "print!"));
}
