//! Tidy tests (rust-analyzer's `tidy.rs`): the invariants docs/architecture.md states, checked
//! by scanning the sources. Each failure names FILE:LINE and what to do.
//!
//! They run with `cargo test --workspace` (xtask is a workspace member), so with
//! `cargo xtask test` too.

use std::fs;
use std::path::{Path, PathBuf};

/// The CLI's command modules: `src/NAME.rs` and everything under `src/NAME/`. A command
/// module may use shared services (`errors`, `output`, `session`, `cli`, the libraries) but
/// never another command module. `ruleset_cmd`'s files are `ruleset_cmd.rs` and `ruleset/`.
const COMMAND_MODULES: &[Command] = &[
    Command { name: "status_cmd", dirs: &[] },
    Command { name: "rules_cmd", dirs: &[] },
    Command { name: "ruleset_cmd", dirs: &["ruleset"] },
    Command { name: "docker", dirs: &[] },
    Command { name: "events", dirs: &[] },
    Command { name: "dropin", dirs: &[] },
];

/// Today's imports of one command module by another, each to be replaced by a shared
/// service (issue 14, point 2). The lead empties this list as the CLI is re-layered; an
/// entry that no longer occurs fails the test, so the list only shrinks.
const KNOWN_COMMAND_IMPORTS: &[Allowed] = &[
    // `status_cmd::read`/`render_status` for `-s` lines of a rules file.
    Allowed { file: "crates/nlaudit/src/ruleset/load.rs", uses: "status_cmd" },
];

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

struct Command {
    name: &'static str,
    /// Directories under `src/` that belong to it besides `src/NAME.rs` and `src/NAME/`.
    dirs: &'static [&'static str],
}

struct Allowed {
    file: &'static str,
    uses: &'static str,
}

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

/// The command module that owns `file` (a path under `crates/nlaudit/src`), if any.
fn owner(modules: &[Command], src: &Path, file: &Path) -> Option<&'static str> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let stem = first.strip_suffix(".rs").unwrap_or(first);
    modules.iter().find(|m| m.name == stem || m.dirs.contains(&stem)).map(|m| m.name)
}

/// The top-level modules a line names: `crate::x`, `crate::{x, y::z}`, and (in a file
/// directly under src/) `super::x`.
fn crate_paths(line: &str, top_level_file: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut prefixes = vec!["crate::"];
    if top_level_file {
        prefixes.push("super::");
    }
    for prefix in prefixes {
        for (at, _) in line.match_indices(prefix) {
            if line[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &line[at + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                for item in inner.split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        out.push(name);
                    }
                }
            } else {
                let name: String =
                    rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
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
fn command_imports(modules: &[Command]) -> Vec<(String, usize, &'static str)> {
    let src = workspace().join("crates/nlaudit/src");
    let mut out = Vec::new();
    for p in rust_files(&src) {
        let Some(me) = owner(modules, &src, &p) else { continue };
        let top_level = p.parent().is_some_and(|d| d == src);
        let text = fs::read_to_string(&p).expect("read source");
        let lines = non_test_lines(&text);
        let mut k = 0;
        while k < lines.len() {
            let (n, mut l) = lines[k].clone();
            // `use crate::{a,\n b};`: join until the group closes.
            while l.contains("crate::{") && !l.contains('}') && k + 1 < lines.len() {
                k += 1;
                l.push_str(&lines[k].1);
            }
            for name in crate_paths(&l, top_level) {
                if let Some(other) = modules.iter().find(|m| m.name == name && m.name != me) {
                    out.push((relative(&p), n, other.name));
                }
            }
            k += 1;
        }
    }
    out
}

#[test]
fn no_command_module_imports_another() {
    let found = command_imports(COMMAND_MODULES);
    let mut problems = Vec::new();
    for (file, n, used) in &found {
        if !KNOWN_COMMAND_IMPORTS.iter().any(|a| a.file == file && a.uses == *used) {
            problems.push(format!(
                "{file}:{n}: uses the command module `{used}`: move what it needs into a \
                 shared module (errors, output, session, a library crate)"
            ));
        }
    }
    for a in KNOWN_COMMAND_IMPORTS {
        if !found.iter().any(|(file, _, used)| file == a.file && *used == a.uses) {
            problems.push(format!(
                "{}: no longer uses `{}`: remove it from KNOWN_COMMAND_IMPORTS",
                a.file, a.uses
            ));
        }
    }
    fail_if_any("command modules import each other", &problems);
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
    assert_eq!(crate_paths("use crate::{output, rules_cmd::x};", false), ["output", "rules_cmd"]);
    assert_eq!(crate_paths("use super::events;", true), ["events"]);
    assert!(crate_paths("use super::events;", false).is_empty());
    assert!(has_word("eprint!(x)", "eprint!") && !has_word("eprint!(x)", "print!"));
}
