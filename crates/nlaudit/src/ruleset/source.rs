//! Reading a rule set: one rules file (as `auditctl -R` reads it) or a `rules.d` directory
//! (merged as augenrules merges it), each line remembering its file and line number.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use nlaudit_rules::merge::{self, Awk, Dialect, Merged};
use nlaudit_rules::{parse_command, split_words, Directive, ParseError};

use crate::atomic;
use crate::errors::{code, fail};
use crate::rules_cmd;

/// Which awk's reading of augenrules' patterns to follow (see docs/rules-files.md).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AwkChoice {
    /// The awk this machine's augenrules would run (`/usr/bin/awk`).
    #[default]
    Auto,
    /// mawk (Debian, Ubuntu): `\s` is a literal `s`.
    Mawk,
    /// gawk (Fedora, RHEL, Arch, SUSE): `\s` is white space.
    Gawk,
}

/// The augenrules dialect of this machine, or the one asked for.
///
/// The awk is the one `/usr/bin/awk` (else `/bin/awk`) resolves to: mawk reads `\s` as `s`,
/// every other awk as white space. Trailing `\r` are stripped when the installed augenrules
/// does so (4.x), or when none is installed (current upstream behaviour).
pub fn dialect(choice: AwkChoice) -> Dialect {
    let awk = match choice {
        AwkChoice::Mawk => Awk::Mawk,
        AwkChoice::Gawk => Awk::Gawk,
        AwkChoice::Auto => {
            let real = ["/usr/bin/awk", "/bin/awk"].iter().find_map(|p| fs::canonicalize(p).ok());
            match real {
                Some(p) if p.file_name().is_some_and(|n| n.to_string_lossy().contains("mawk")) => {
                    Awk::Mawk
                }
                _ => Awk::Gawk,
            }
        }
    };
    let script = ["/usr/sbin/augenrules", "/sbin/augenrules"]
        .iter()
        .find_map(|p| fs::read_to_string(p).ok());
    let strip_cr = script.map_or(true, |s| s.contains(r"sub(/\r$/"));
    Dialect { awk, strip_cr }
}

/// One line of a rule set.
#[derive(Clone, Debug)]
pub struct SourceLine {
    /// The text, without its newline.
    pub text: String,
    /// Index into [`Source::files`].
    pub file: usize,
    /// 1-based line number in that file.
    pub line: usize,
}

/// A rule set's lines and the files they came from.
#[derive(Clone, Debug, Default)]
pub struct Source {
    /// The files read.
    pub files: Vec<PathBuf>,
    /// The lines, in the order auditctl -R would run them.
    pub lines: Vec<SourceLine>,
    /// The merged text, when the source was a directory (what augenrules writes).
    pub merged: Option<Merged>,
}

/// What to do with a world-writable fragment of a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fragments {
    /// Refuse it, as `auditctl -R` refuses a world-writable rules file (load, apply).
    Refuse,
    /// Warn and use it, as augenrules does (merge only prints).
    Warn,
}

impl Source {
    /// `FILE:LINE` of line `i`.
    pub fn location(&self, i: usize) -> String {
        match self.lines.get(i) {
            Some(l) => {
                let f = self.files.get(l.file).map(|p| p.display().to_string());
                format!("{}:{}", f.unwrap_or_default(), l.line)
            }
            None => "?".to_string(),
        }
    }
}

/// Reads a rules file, or merges a directory.
pub fn read(path: &Path, awk: AwkChoice, fragments: Fragments) -> Result<Source> {
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            fail(code::FAILED, format!("audit rules file {} doesn't exist", path.display()))
        }
        _ => fail(code::FAILED, format!("cannot read {}: {e}", path.display())),
    })?;
    if meta.is_dir() {
        return read_dir(path, dialect(awk), fragments);
    }
    if !meta.is_file() {
        // Checked before opening: opening a FIFO would block.
        return Err(fail(
            code::FAILED,
            format!("Error - {} is not a regular file", path.display()),
        ));
    }
    let text = atomic::read_rules_file(path).map_err(|e| fail(code::FAILED, e.to_string()))?;
    let lines = split_file(&text)
        .enumerate()
        .map(|(i, t)| SourceLine { text: t.to_string(), file: 0, line: i + 1 })
        .collect();
    Ok(Source { files: vec![path.to_path_buf()], lines, merged: None })
}

/// The lines of a file as `fgets` yields them: split on `\n`, no empty line after the last
/// newline.
fn split_file(text: &str) -> impl Iterator<Item = &str> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    body.split('\n').filter(move |_| !text.is_empty())
}

fn read_dir(dir: &Path, dialect: Dialect, fragments: Fragments) -> Result<Source> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        match entry.file_name().into_string() {
            Ok(n) => names.push(n),
            Err(n) => {
                eprintln!("nlaudit: {}: skipped: the name is not UTF-8", dir.join(n).display())
            }
        }
    }
    for n in names.iter().filter(|n| n.ends_with(".rules") && !n.starts_with('.')) {
        if merge::mangled_by_shell(n) {
            eprintln!(
                "nlaudit: {}: skipped: augenrules splits or globs this name (white space or \
                 `*?[`), so it never loads it; rename it",
                dir.join(n).display()
            );
        }
    }
    let mut files = Vec::new();
    let mut contents = Vec::new();
    for name in merge::select_files(&names) {
        let path = dir.join(&name);
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                eprintln!(
                    "nlaudit: {}: skipped: {e} (augenrules' cat would fail on it)",
                    path.display()
                );
                continue;
            }
        };
        if !meta.is_file() {
            eprintln!(
                "nlaudit: {}: skipped: not a regular file (augenrules' cat would fail on it)",
                path.display()
            );
            continue;
        }
        if meta.mode() & 0o002 != 0 {
            let msg = format!("Error - {} is world writable", path.display());
            match fragments {
                Fragments::Refuse => {
                    return Err(fail(
                        code::FAILED,
                        format!("{msg}: anyone could change the audit rules; nothing was changed"),
                    ))
                }
                Fragments::Warn => eprintln!("nlaudit: warning: {msg}"),
            }
        }
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        contents.push((name, text));
        files.push(path);
    }
    // The header names the directory as augenrules' constant does: no trailing slash.
    let label = dir.display().to_string();
    let label = match label.trim_end_matches('/') {
        "" => "/",
        l => l,
    };
    let merged = merge::merge(label, &contents, dialect);
    let lines = merged
        .lines
        .iter()
        .filter_map(|l| {
            let o = l.origin?;
            Some(SourceLine { text: l.text.clone(), file: o.file, line: o.line })
        })
        .collect();
    Ok(Source { files, lines, merged: Some(merged) })
}

/// One parsed line: its index in [`Source::lines`] and what it asks for (or auditctl's
/// error). Comments and blank lines are left out, as `auditctl -R` skips them.
pub type Parsed = (usize, Result<Vec<Directive>, ParseError>);

/// Parses every line as `auditctl -R` does: each line is a whole command line, split on
/// spaces (`\ ` keeps one); the first token starting with `#` makes a comment. `features`
/// is the kernel's `feature_bitmap` (`None`: every feature of current kernels).
pub fn parse(src: &Source, features: Option<u32>) -> Vec<Parsed> {
    let mut ctx = rules_cmd::context(features);
    let mut out = Vec::with_capacity(src.lines.len());
    for (i, l) in src.lines.iter().enumerate() {
        let tokens = split_words(&l.text);
        match tokens.first() {
            Some(t) if !t.starts_with('#') => {}
            _ => continue,
        }
        ctx.lineno = Some(l.line);
        out.push((i, parse_command(&tokens, &ctx).and_then(refuse_kernel_einval)));
    }
    out
}

/// A rule auditctl would send but the kernel would refuse (EINVAL) becomes a parse error
/// here, naming the field and why, so that nothing of the set is sent for it.
fn refuse_kernel_einval(d: Vec<Directive>) -> Result<Vec<Directive>, ParseError> {
    for x in &d {
        if let Directive::Rule(r) = x {
            if let Some(why) = nlaudit_rules::validate::kernel_refusal(&r.rule) {
                return Err(ParseError::kernel_refusal(why));
            }
        }
    }
    Ok(d)
}

/// Whether the first command of the set is a bare `-D` (as augenrules writes it first).
pub fn starts_with_delete_all(src: &Source) -> bool {
    src.lines
        .iter()
        .map(|l| split_words(&l.text))
        .find(|t| t.first().is_some_and(|t| !t.starts_with('#')))
        .is_some_and(|t| t == ["-D"])
}

/// Whether a parse made with `None` features holds for a kernel reporting `features`.
pub fn default_features_hold(features: Option<u32>) -> bool {
    features.map_or(true, |f| f == rules_cmd::context(None).features)
}

/// The auditctl message for a kernel error on a rule (`Error sending add rule data request
/// (Rule exists)`).
pub fn rule_error(delete: bool, errno: nlaudit_proto::Errno) -> String {
    use nlaudit_proto::Errno;
    if delete {
        let why = if errno == Errno::ENOENT { "No rule matches" } else { errno.desc() };
        format!("Error sending delete rule request ({why})")
    } else {
        let why = if errno == Errno::EEXIST { "Rule exists" } else { errno.desc() };
        format!("Error sending add rule data request ({why})")
    }
}
