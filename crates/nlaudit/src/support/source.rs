//! Reading a rule set: one rules file (as `auditctl -R` reads it) or a `rules.d` directory
//! (merged as augenrules merges it), each line remembering its file and line number.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use nlaudit_proto::consts::FieldType;
use nlaudit_proto::{FieldValue, RuleData};
use nlaudit_rules::merge::{Awk, Dialect, Merged};
use nlaudit_rules::rules_d::{self, Notice};
use nlaudit_rules::{parse_command, split_words, Directive, ParseError};

use crate::cli::AwkChoice;
use crate::support::atomic;
use crate::support::errors::{code, fail};
use crate::support::suggest;
use crate::support::system::{self, LiveFs};

/// The augenrules dialect of this machine, or the one asked for.
///
/// The awk is the one `/usr/bin/awk` (else `/bin/awk`) resolves to: mawk reads `\s` as `s`,
/// every other awk as white space. Trailing `\r` are stripped when the installed augenrules
/// does so (4.x), or when none is installed (current upstream behaviour).
pub fn dialect(choice: AwkChoice) -> Dialect {
    system::augenrules_dialect(match choice {
        AwkChoice::Auto => None,
        AwkChoice::Mawk => Some(Awk::Mawk),
        AwkChoice::Gawk => Some(Awk::Gawk),
    })
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
    let read = rules_d::read_rules_dir(&LiveFs, dir, dialect)
        .with_context(|| format!("cannot read {}", dir.display()))?;
    for n in read.notices {
        match n {
            Notice::NotUtf8 { path } => {
                eprintln!("nlaudit: {}: skipped: the name is not UTF-8", path.display())
            }
            Notice::MangledByShell { path } => eprintln!(
                "nlaudit: {}: skipped: augenrules splits or globs this name (white space or \
                 `*?[`), so it never loads it; rename it",
                path.display()
            ),
            Notice::Unreadable { path, error } => eprintln!(
                "nlaudit: {}: skipped: {error} (augenrules' cat would fail on it)",
                path.display()
            ),
            Notice::NotRegular { path } => eprintln!(
                "nlaudit: {}: skipped: not a regular file (augenrules' cat would fail on it)",
                path.display()
            ),
            Notice::WorldWritable { path } => {
                let msg = format!("Error - {} is world writable", path.display());
                match fragments {
                    Fragments::Refuse => {
                        return Err(fail(
                            code::FAILED,
                            format!(
                                "{msg}: anyone could change the audit rules; nothing was changed"
                            ),
                        ))
                    }
                    Fragments::Warn => eprintln!("nlaudit: warning: {msg}"),
                }
            }
            _ => {}
        }
    }
    if let Some(f) = read.failed {
        return Err(
            anyhow::Error::new(f.error).context(format!("cannot read {}", f.path.display()))
        );
    }
    let merged = read.merged;
    let lines = merged
        .lines
        .iter()
        .filter_map(|l| {
            let o = l.origin?;
            Some(SourceLine { text: l.text.clone(), file: o.file, line: o.line })
        })
        .collect();
    Ok(Source { files: read.files, lines, merged: Some(merged) })
}

/// One parsed line: its index in [`Source::lines`] and what it asks for (or auditctl's
/// error). Comments and blank lines are left out, as `auditctl -R` skips them.
pub type Parsed = (usize, Result<Vec<Directive>, ParseError>);

/// Parses every line as `auditctl -R` does: each line is a whole command line, split on
/// spaces (`\ ` keeps one); the first token starting with `#` makes a comment. `features`
/// is the kernel's `feature_bitmap` (`None`: every feature of current kernels).
pub fn parse(src: &Source, features: Option<u32>) -> Vec<Parsed> {
    parse_with(src, system::context(features))
}

/// [`parse`] for another machine (`--machine`): its syscall tables and arches.
pub fn parse_for(src: &Source, machine: nlaudit_rules::Machine) -> Vec<Parsed> {
    parse_with(src, system::context_for(machine))
}

/// The lines of `src` that do not parse for `machine`, as `FILE:LINE: message (machine
/// NAME)`: what an image build for that machine must learn before the image boots.
pub fn refusals_for(src: &Source, machine: nlaudit_rules::Machine) -> Vec<String> {
    let t = nlaudit_rules::Tables::of(system::generation());
    let name = t.machine_name(machine).unwrap_or("?");
    parse_for(src, machine)
        .into_iter()
        .filter_map(|(i, r)| {
            let e = r.err()?;
            let msg = e.message.lines().last().unwrap_or_default().to_string();
            Some(format!("{}: {msg} (machine {name})", src.location(i)))
        })
        .collect()
}

/// The rules line `i` of `src` adds or deletes as `generation`'s auditctl compiles them
/// (`None`: a comment, or the line does not parse there): the other generation's view of
/// the set, for [`nlaudit_rules::plan::target_across`].
pub fn compile_line(
    src: &Source,
    i: usize,
    features: Option<u32>,
    generation: nlaudit_rules::Generation,
) -> Option<Vec<RuleData>> {
    let l = src.lines.get(i)?;
    let tokens = split_words(&l.text);
    if tokens.first().is_none_or(|t| t.starts_with('#')) {
        return None;
    }
    let mut ctx = system::context(features).with_generation(generation);
    ctx.lineno = Some(l.line);
    let d = parse_command(&tokens, &ctx).and_then(refuse_kernel_einval).ok()?;
    Some(
        d.into_iter()
            .filter_map(|d| match d {
                Directive::Rule(rc) => Some(rc.rule),
                _ => None,
            })
            .collect(),
    )
}

fn parse_with(src: &Source, mut ctx: nlaudit_rules::Context<'static>) -> Vec<Parsed> {
    let mut out = Vec::with_capacity(src.lines.len());
    for (i, l) in src.lines.iter().enumerate() {
        let tokens = split_words(&l.text);
        match tokens.first() {
            Some(t) if !t.starts_with('#') => {}
            _ => continue,
        }
        ctx.lineno = Some(l.line);
        let parsed = parse_command(&tokens, &ctx).and_then(refuse_kernel_einval);
        out.push((
            i,
            parsed.map_err(|mut e| {
                e.message += &suggest::parse_hint(&e, &tokens, &ctx);
                e
            }),
        ));
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
    features.is_none_or(|f| f == system::context(None).features)
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

/// Refuses a source that holds nothing to apply, before anything is sent: a directory with
/// no `*.rules` file (a misnamed ConfigMap key, a wrong path), or a set with neither a
/// rule (`-a`, `-A`, `-w`) nor a `-D`. Applied, such a set would change nothing that was
/// asked for — or, before nlaudit followed the set's `-D`, delete every rule in force.
pub fn refuse_empty(path: &Path, src: &Source) -> Result<()> {
    let dir = src.merged.is_some();
    if dir && src.files.is_empty() {
        return Err(fail(
            code::USAGE,
            format!(
                "{}: no rules file: augenrules reads only the files named *.rules in it \
                 (names starting with `.` are skipped); nothing was changed",
                path.display()
            ),
        ));
    }
    // A line that does not parse is left to the parser's error, which names it; the first
    // rule line ends the scan, so a large set costs nothing here.
    let ctx = system::context(None);
    let asks = src.lines.iter().any(|l| {
        let t = split_words(&l.text);
        match t.first() {
            None => false,
            Some(w) if w.starts_with('#') => false,
            Some(w) if ["-a", "-A", "-w", "-D"].iter().any(|o| w.starts_with(o)) => true,
            Some(_) => parse_command(&t, &ctx).map_or(true, |d| {
                d.iter().any(|x| matches!(x, Directive::Rule(_) | Directive::DeleteAll { .. }))
            }),
        }
    });
    if !asks {
        let what = if dir { "the *.rules files of this directory hold" } else { "this file holds" };
        return Err(fail(
            code::USAGE,
            format!(
                "{}: {what} no rule (-a, -A, -w) and no -D, so there is nothing to apply; \
                 nothing was changed",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Why the kernel would refuse `r` with ENOENT on this machine: a watch (`-w FILE`,
/// `path=`) or an `exe=` needs the file's directory (kernel/audit_watch.c `audit_add_watch`
/// and audit_fsnotify.c `audit_alloc_mark` look the parent up), a directory rule (`-w DIR/`,
/// `dir=`) the directory itself (audit_tree.c `audit_add_tree_rule`). Paths are looked up
/// as the kernel will, from this process (same mount namespace).
pub fn missing_path(r: &RuleData) -> Option<String> {
    missing_dir(r).map(|d| format!("{} does not exist here", d.display()))
}

/// The directory [`missing_path`] finds missing: the one whose appearance would let the
/// kernel take `r` (the daemon watches its nearest existing ancestor).
pub fn missing_dir(r: &RuleData) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    r.fields.iter().find_map(|f| {
        let FieldValue::Str(p) = &f.value else { return None };
        let p = Path::new(std::ffi::OsStr::from_bytes(p));
        let (name, exists) = match f.field {
            FieldType::AUDIT_WATCH | FieldType::AUDIT_EXE => {
                let dir = p.parent()?;
                (dir, std::fs::metadata(dir).is_ok_and(|m| m.is_dir()))
            }
            FieldType::AUDIT_DIR => (p, std::fs::symlink_metadata(p).is_ok()),
            _ => return None,
        };
        (!exists).then(|| name.to_path_buf())
    })
}
