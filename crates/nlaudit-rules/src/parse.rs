//! Parsing auditctl's command language (text → rules and control directives).
//!
//! The grammar and its error messages follow auditctl 3.0.9 (`src/auditctl.c` `setopt`,
//! `lib/libaudit.c` `audit_rule_fieldpair_data`, `lib/errormsg.h`): options are read in
//! order, as getopt does, and the rule is assembled the way auditctl assembles it, so that
//! the kernel receives the same bytes. Nothing here does I/O: user and group names and the
//! file type of a watched path come from an [`Env`].

use nlaudit_proto::consts::{
    feature_bitmap, FieldType as F, FilterList, Operator, AUDIT_FILTER_MASK, AUDIT_FILTER_PREPEND,
    AUDIT_KEY_SEPARATOR, AUDIT_MAX_KEY_LEN, AUDIT_PERM_ALL, OPERATOR_TABLE, PATH_MAX,
};
use nlaudit_proto::{FieldData, FieldValue, RuleData};

use crate::cnum::{strtol_u32, strtoul, strtoul_u32};
use crate::render::PERM_LETTERS;
use crate::tables::{Machine, Tables, AUDIT_ARCH_64BIT};
use crate::Generation;

/// What a parse needs from the outside world.
pub trait Env {
    /// `getpwnam`: a user name's uid.
    fn uid(&self, name: &str) -> Option<u32>;
    /// `getgrnam`: a group name's gid.
    fn gid(&self, name: &str) -> Option<u32>;
    /// `stat` (following links): whether a path is a directory.
    fn is_dir(&self, path: &str) -> bool;
}

/// An [`Env`] that knows only `root` (0) and no directories: for tests and offline use.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEnv;

impl Env for NoEnv {
    fn uid(&self, name: &str) -> Option<u32> {
        (name == "root").then_some(0)
    }
    fn gid(&self, name: &str) -> Option<u32> {
        (name == "root").then_some(0)
    }
    fn is_dir(&self, _path: &str) -> bool {
        false
    }
}

/// Everything a parse depends on besides the text.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The machine whose syscall table applies without `-F arch=` (auditctl: `uname -m`).
    pub machine: Machine,
    /// The kernel's `feature_bitmap` (gates exe, sessionid, exclude and filesystem fields).
    pub features: u32,
    /// Names and paths.
    pub env: &'a dyn Env,
    /// The rules-file line number, for messages that carry it.
    pub lineno: Option<usize>,
    /// Which auditctl to reproduce (3.0.9 by default).
    pub generation: Generation,
}

impl<'a> Context<'a> {
    /// A context for this machine with every feature of current kernels, generation 3.
    pub fn new(env: &'a dyn Env) -> Self {
        Context {
            machine: Machine::host(),
            features: 0x7f,
            env,
            lineno: None,
            generation: Generation::V3,
        }
    }

    /// The same context for another reference generation.
    pub fn with_generation(mut self, generation: Generation) -> Self {
        self.generation = generation;
        self
    }

    /// The name tables of this context's generation.
    pub fn tables(&self) -> &'static Tables {
        Tables::of(self.generation)
    }
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("machine", &self.machine)
            .field("features", &self.features)
            .field("lineno", &self.lineno)
            .field("generation", &self.generation)
            .finish()
    }
}

/// A rule to add or delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCommand {
    /// `-d`/`-W` rather than `-a`/`-A`/`-w`.
    pub delete: bool,
    /// The rule, exactly as auditctl would send it (prepend flag included).
    pub rule: RuleData,
    /// Warnings auditctl prints for this rule (stderr lines).
    pub warnings: Vec<String>,
}

/// One thing an auditctl command line asks for.
// A command yields a handful of directives: boxing the rule would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Directive {
    /// `-a`/`-A`/`-d`/`-w`/`-W`: add or delete a rule.
    Rule(RuleCommand),
    /// `-D [-k KEY]`.
    DeleteAll {
        /// Only rules whose key contains this.
        key: Option<String>,
    },
    /// `-l [-k KEY | -i]`.
    List {
        /// Only rules whose key contains this.
        key: Option<String>,
        /// `-i`.
        interpret: bool,
    },
    /// `-s [-i]`.
    Status {
        /// `-i`.
        interpret: bool,
    },
    /// `-e 0|1|2`.
    Enabled(u32),
    /// `-f 0|1|2`.
    Failure(u32),
    /// `-r N`.
    RateLimit(u32),
    /// `-b N`.
    BacklogLimit(u32),
    /// `--backlog_wait_time N`.
    BacklogWaitTime(u32),
    /// `--reset-lost`.
    ResetLost,
    /// `--reset_backlog_wait_time_actual`.
    ResetBacklogWaitTimeActual,
    /// `--loginuid-immutable`.
    LoginuidImmutable,
    /// `-i` (rules files: ignore errors).
    IgnoreErrors,
    /// `-c` (rules files: continue after errors).
    ContinueOnError,
    /// `-v`.
    Version,
    /// `-h`.
    Help,
    /// A command auditctl ignores with this message (and exit 0): a `possible` action.
    Ignored(String),
    /// An option auditctl has that nlaudit does not implement (`-m`, `-q`, `-t`,
    /// `--signal`, `-R` inside a command).
    Unsupported(String),
}

/// What kind of mistake a [`ParseError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// No option at all.
    Empty,
    /// An option auditctl does not know, or one without its argument.
    InvalidOption,
    /// Options in an order or combination auditctl refuses (`-k` before a watch, `-F`
    /// before `-a`, two rule operations, a stray parameter, extra options to `-s`/`-l`/`-D`).
    Usage,
    /// `-a`/`-A`/`-d` with an unknown or missing list or action.
    ListOrAction,
    /// An `-S` auditctl refuses: an unknown syscall or machine, or a list without syscalls.
    Syscall,
    /// A malformed `-F`/`-C` pair: no operator, field name or value, or an operator the
    /// field does not take.
    FieldSyntax,
    /// An unknown field name.
    UnknownField,
    /// A field the rule's list, or the running kernel, does not take.
    FieldNotAllowed,
    /// A value that does not read for its field or option (not a number, an unknown user,
    /// group, errno, message type, file type, file system or machine, out of range).
    BadValue,
    /// Over a limit: fields per rule, key length, string or path length.
    TooLong,
    /// A `-w`/`-W` path auditctl refuses.
    Path,
    /// `-p` or `perm=` letters auditctl refuses.
    Permission,
    /// Something auditctl refuses to do here (`-R` inside a rules file).
    Unsupported,
    /// A rule auditctl would send but the kernel would refuse (EINVAL); see
    /// [`ParseError::kernel_refusal`].
    KernelRefusal,
}

/// Where the token of a [`ParseError`] is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParsePosition {
    /// The offending argument's index among the command's arguments (0 is the first one
    /// after `auditctl`); `None` when the error is about the command as a whole.
    pub token: Option<usize>,
    /// The rules-file line ([`Context::lineno`]), when parsing a file.
    pub line: Option<usize>,
}

/// A refused command: the message auditctl prints (one or more stderr lines), what kind of
/// mistake it is, and where. `Display` prints exactly the message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// What was wrong, naming the token, in auditctl's words (preceded by the warnings
    /// auditctl prints before it).
    pub message: String,
    /// What kind of mistake.
    pub kind: ParseErrorKind,
    /// The offending argument, as given.
    pub token: Option<String>,
    /// Where it is.
    pub position: ParsePosition,
}

impl ParseError {
    /// An error of `kind` with auditctl's `message`, at no particular token.
    pub fn new(kind: ParseErrorKind, message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
            kind,
            token: None,
            position: ParsePosition::default(),
        }
    }

    /// A rule auditctl would send but the kernel would refuse: "the kernel would refuse
    /// this rule: WHY".
    pub fn kernel_refusal(why: impl std::fmt::Display) -> ParseError {
        ParseError::new(
            ParseErrorKind::KernelRefusal,
            format!("the kernel would refuse this rule: {why}"),
        )
    }

    /// The same error, on rules-file line `line`.
    pub fn at_line(mut self, line: usize) -> ParseError {
        self.position.line = Some(line);
        self
    }
}

use ParseErrorKind as K;

fn err<T>(kind: ParseErrorKind, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError::new(kind, message))
}

/// `AUDIT_FILTER_UNSET`: libaudit's "no list given yet".
const UNSET: u32 = 0x80;
/// `AF_MAX` on current kernels.
const AF_MAX: u64 = 46;
/// `NAME_MAX`.
const NAME_MAX: usize = 255;

/// The rule being assembled and auditctl's per-command flags.
struct State {
    add: u32,
    del: u32,
    action: Option<u32>,
    multiple: u32,
    exclude: bool,
    syscall_added: bool,
    perm_added: bool,
    exe_added: bool,
    fs_added: bool,
    elf: u32,
    key: String,
    /// The argument of the last `-k`/`-F key=` (the keys become a field at the end).
    key_at: Option<usize>,
    /// The argument being read: where an error points.
    at: Option<usize>,
    rule: RuleData,
    warnings: Vec<String>,
}

/// Splits a rules-file line as auditctl does (`preprocess`/`audit_strsplit`/`postprocess`):
/// on spaces, with `\ ` keeping a space inside a token and `\\` a backslash.
pub fn split_line(line: &str) -> Vec<String> {
    split_words(line).into_iter().map(std::borrow::Cow::into_owned).collect()
}

/// [`split_line`] without copying: a line with no backslash (nearly all) is split into
/// slices of itself.
pub fn split_words(line: &str) -> Vec<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    if !line.contains('\\') {
        let mut out = Vec::with_capacity(line.bytes().filter(|&b| b == b' ').count() + 1);
        out.extend(line.split(' ').filter(|t| !t.is_empty()).map(Cow::Borrowed));
        return out;
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some(' ') | Some('\\')) => {
                cur.push(chars.next().unwrap_or(' '));
            }
            ' ' => {
                if !cur.is_empty() {
                    out.push(Cow::Owned(std::mem::take(&mut cur)));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(Cow::Owned(cur));
    }
    out
}

/// Options that take an argument (getopt string `hicslDvtC:e:f:r:b:a:A:d:S:F:m:R:w:W:k:p:q:`).
const WITH_ARG: &str = "CefrbaAdSFmRwWkpq";
const NO_ARG: &str = "hicslDvt";
/// Long options: (name, takes an argument).
const LONG: &[(&str, bool)] = &[
    ("loginuid-immutable", false),
    ("backlog_wait_time", true),
    ("reset-lost", false),
    ("reset_backlog_wait_time_actual", false),
    ("signal", true),
];

/// One option as getopt yields it.
enum Opt<'a> {
    Short(char, Option<&'a str>),
    Long(&'static str, Option<&'a str>),
    Invalid(&'a str),
    Positional,
}

/// An option and the argument it was read from: its value's when it has one (the token an
/// error names), else its own.
struct Located<'a> {
    opt: Opt<'a>,
    at: usize,
}

/// getopt_long over `args` (without argv[0]).
fn getopt<'a>(args: &[&'a str]) -> Vec<Located<'a>> {
    let mut out = Vec::with_capacity(args.len());
    let mut i = 0;
    while let Some(&a) = args.get(i) {
        let start = i;
        i += 1;
        if a == "--" {
            out.extend((i..args.len()).map(|at| Located { opt: Opt::Positional, at }));
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let exact = LONG.iter().find(|l| l.0 == name);
            let prefixed: Vec<_> = LONG.iter().filter(|l| l.0.starts_with(name)).collect();
            let found =
                exact.or(if prefixed.len() == 1 { prefixed.first().copied() } else { None });
            match found {
                Some(&(n, true)) => {
                    let (v, at) = match inline {
                        Some(v) => (Some(v), start),
                        None => {
                            let v = args.get(i).copied();
                            i += 1;
                            (v, start + 1)
                        }
                    };
                    match v {
                        Some(v) => out.push(Located { opt: Opt::Long(n, Some(v)), at }),
                        None => out.push(Located { opt: Opt::Invalid(a), at: start }),
                    }
                }
                Some(&(n, false)) if inline.is_none() => {
                    out.push(Located { opt: Opt::Long(n, None), at: start })
                }
                _ => out.push(Located { opt: Opt::Invalid(a), at: start }),
            }
            continue;
        }
        let Some(body) = a.strip_prefix('-').filter(|b| !b.is_empty()) else {
            out.push(Located { opt: Opt::Positional, at: start });
            continue;
        };
        for (pos, c) in body.char_indices() {
            if WITH_ARG.contains(c) {
                let rest = body.get(pos + c.len_utf8()..).unwrap_or_default();
                let (v, at) = if !rest.is_empty() {
                    (Some(rest), start)
                } else {
                    let v = args.get(i).copied();
                    i += 1;
                    (v, start + 1)
                };
                match v {
                    Some(v) => out.push(Located { opt: Opt::Short(c, Some(v)), at }),
                    None => out.push(Located { opt: Opt::Invalid(a), at: start }),
                }
                break;
            } else if NO_ARG.contains(c) {
                out.push(Located { opt: Opt::Short(c, None), at: start });
            } else {
                out.push(Located { opt: Opt::Invalid(a), at: start });
                break;
            }
        }
    }
    out
}

/// Parses one auditctl command (the arguments after `auditctl`).
///
/// On error, the message starts with the warnings auditctl would have printed before it;
/// the error names the argument being read and, in a rules file, the line.
pub fn parse_command(
    args: &[impl AsRef<str>],
    ctx: &Context<'_>,
) -> Result<Vec<Directive>, ParseError> {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let mut st = State::new();
    parse_inner(&args, ctx, &mut st).map_err(|mut e| {
        let mut lines = std::mem::take(&mut st.warnings);
        lines.push(e.message);
        e.message = lines.join("\n");
        if e.position.token.is_none() {
            e.position.token = st.at;
        }
        if e.token.is_none() {
            e.token = e.position.token.and_then(|i| args.get(i)).map(|t| t.to_string());
        }
        e.position.line = e.position.line.or(ctx.lineno);
        e
    })
}

impl State {
    fn new() -> State {
        State {
            add: UNSET,
            del: UNSET,
            action: None,
            multiple: 0,
            exclude: false,
            syscall_added: false,
            perm_added: false,
            exe_added: false,
            fs_added: false,
            elf: 0,
            key: String::new(),
            key_at: None,
            at: None,
            rule: RuleData { flags: 0, action: 0, fields: Vec::with_capacity(8), mask: [0; 64] },
            warnings: Vec::new(),
        }
    }
}

fn parse_inner(
    args: &[&str],
    ctx: &Context<'_>,
    st: &mut State,
) -> Result<Vec<Directive>, ParseError> {
    if args.is_empty() {
        return err(K::Empty, "no option given");
    }
    let mut out = Vec::new();
    let opts = getopt(args);
    let count = args.len() + 1; // auditctl's argc
    let mut positional = false;
    let mut first_positional = None;
    // Whether any argument is an option: when none is, auditctl's getopt loop ends at once
    // (`optind == 1`) and it refuses the command without a message.
    let mut any_option = false;
    let mut iter = opts.into_iter().peekable();
    while let Some(Located { opt: o, at }) = iter.next() {
        st.at = Some(at);
        any_option |= !matches!(o, Opt::Positional);
        match o {
            Opt::Positional => {
                positional = true;
                first_positional = first_positional.or(Some(at));
            }
            Opt::Invalid(tok) => {
                return err(
                    K::InvalidOption,
                    match ctx.lineno {
                        Some(n) => format!("Option {tok} on line {n} is invalid"),
                        None => format!("Option {tok} is invalid"),
                    },
                )
            }
            Opt::Long(name, v) => out.push(long_option(name, v)?),
            Opt::Short(c, v) => {
                let v = v.unwrap_or_default();
                match c {
                    'h' => out.push(Directive::Help),
                    'i' => out.push(Directive::IgnoreErrors),
                    'c' => out.push(Directive::ContinueOnError),
                    'v' => out.push(Directive::Version),
                    't' => out.push(Directive::Unsupported("-t".into())),
                    'm' => {
                        if count > 3 {
                            return err(
                                K::Usage,
                                "The -m option must be only the only option and takes 1 parameter",
                            );
                        }
                        out.push(Directive::Unsupported("-m".into()))
                    }
                    'q' => out.push(Directive::Unsupported("-q".into())),
                    'R' => return err(K::Unsupported, "Error - nested rule files not supported"),
                    's' => {
                        if count > 3 {
                            return err(K::Usage, "Too many options for status command");
                        }
                        let interpret = args.get(1).is_some_and(|a| *a == "-i");
                        if count == 3 && !interpret {
                            return err(K::Usage, "Only -i option is allowed");
                        }
                        if interpret {
                            iter.next();
                        }
                        out.push(Directive::Status { interpret });
                    }
                    'l' => {
                        if count > 4 {
                            return err(K::Usage, "Wrong number of options for list request");
                        }
                        let (key, interpret) = match (args.get(1).copied(), count) {
                            (Some("-i"), 3) => (None, true),
                            (Some("-k"), 4) => (args.get(2).map(|k| k.to_string()), false),
                            (_, 3 | 4) => {
                                return err(K::Usage, "Only -k or -i options are allowed")
                            }
                            _ => (None, false),
                        };
                        if interpret || key.is_some() {
                            iter.next();
                        }
                        out.push(Directive::List { key, interpret });
                    }
                    'D' => {
                        if count > 4 || count == 3 {
                            return err(K::Usage, "Wrong number of options for Delete all request");
                        }
                        let key = if count == 4 {
                            if args.get(1).copied() != Some("-k") {
                                return err(K::Usage, "Only the -k option is allowed");
                            }
                            iter.next();
                            args.get(2).map(|k| k.to_string())
                        } else {
                            None
                        };
                        out.push(Directive::DeleteAll { key });
                    }
                    'e' | 'f' => {
                        let what = if c == 'e' { "Enable" } else { "Failure" };
                        let n = match v {
                            "0" => 0,
                            "1" => 1,
                            "2" => 2,
                            _ => {
                                return err(
                                    K::BadValue,
                                    format!("{what} must be 0, 1, or 2 was {v}"),
                                )
                            }
                        };
                        out.push(if c == 'e' {
                            Directive::Enabled(n)
                        } else {
                            Directive::Failure(n)
                        });
                    }
                    'r' | 'b' => {
                        let what = if c == 'r' { "Rate" } else { "Backlog" };
                        let n = numeric_setting(v).ok_or_else(|| {
                            perr(K::BadValue, format!("{what} must be a numeric value was {v}"))
                        })?;
                        out.push(if c == 'r' {
                            Directive::RateLimit(n)
                        } else {
                            Directive::BacklogLimit(n)
                        });
                    }
                    'a' | 'A' | 'd' => {
                        if let Some(msg) = rule_setup(st, c, v, ctx)? {
                            // auditctl eats the command with a message and exits 0.
                            return Ok(vec![Directive::Ignored(msg)]);
                        }
                    }
                    'S' => syscall_option(st, v, ctx)?,
                    'F' => field_option(st, v, ctx)?,
                    'C' => compare_option(st, v, ctx.tables())?,
                    'w' | 'W' => watch_option(st, c, v, ctx)?,
                    'k' => {
                        if !(st.syscall_added || st.perm_added || st.exe_added || st.fs_added)
                            || (st.add == UNSET && st.del == UNSET)
                        {
                            return err(
                                K::Usage,
                                "key option needs a watch or syscall given prior to it",
                            );
                        }
                        add_key(st, v, ctx)?;
                    }
                    'p' => {
                        if st.add == UNSET && st.del == UNSET {
                            return err(
                                K::Usage,
                                "permission option needs a watch given prior to it",
                            );
                        }
                        perms_option(st, v)?;
                    }
                    _ => return err(K::InvalidOption, format!("Option -{c} is invalid")),
                }
                // These end auditctl's option loop (setopt returns -2): anything after them
                // is a stray parameter.
                if "hicslDvtmq".contains(c) {
                    if let Some(stray) = iter.next() {
                        st.at = Some(stray.at);
                        return err(K::Usage, "parameter passed without an option given");
                    }
                    break;
                }
            }
        }
    }
    if positional {
        st.at = first_positional;
        let kind = if any_option { K::Usage } else { K::Empty };
        return err(kind, "parameter passed without an option given");
    }
    if !st.key.is_empty() {
        st.at = st.key_at;
        let list =
            if st.add != UNSET { st.add & AUDIT_FILTER_MASK } else { st.del & AUDIT_FILTER_MASK };
        let mut pair = String::with_capacity(4 + st.key.len());
        pair.push_str("key=");
        pair.push_str(&st.key);
        fieldpair(st, &pair, list, ctx)?;
    }
    if st.add != UNSET || st.del != UNSET {
        let delete = st.add == UNSET;
        let flags = if delete { st.del } else { st.add };
        if flags & AUDIT_FILTER_MASK != FilterList::TASK.0 && !st.syscall_added {
            st.rule.mask = [u32::MAX; 64];
        }
        st.rule.flags = flags;
        st.rule.action = st.action.unwrap_or(0);
        let rule = std::mem::replace(
            &mut st.rule,
            RuleData { flags: 0, action: 0, fields: Vec::new(), mask: [0; 64] },
        );
        out.push(Directive::Rule(RuleCommand {
            delete,
            rule,
            warnings: std::mem::take(&mut st.warnings),
        }));
    } else if st.syscall_added && out.is_empty() {
        st.at = None;
        return err(K::ListOrAction, "Error - no list specified");
    }
    Ok(out)
}

fn perr(kind: ParseErrorKind, message: String) -> ParseError {
    ParseError::new(kind, message)
}

/// `-r`/`-b`/`--backlog_wait_time`: a number starting with a digit.
fn numeric_setting(v: &str) -> Option<u32> {
    if !v.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let n = strtoul(v);
    u32::try_from(n).ok()
}

fn long_option(name: &'static str, v: Option<&str>) -> Result<Directive, ParseError> {
    Ok(match name {
        "loginuid-immutable" => Directive::LoginuidImmutable,
        "reset-lost" => Directive::ResetLost,
        "reset_backlog_wait_time_actual" => Directive::ResetBacklogWaitTimeActual,
        "backlog_wait_time" => {
            let v = v.unwrap_or_default();
            Directive::BacklogWaitTime(numeric_setting(v).ok_or_else(|| {
                perr(K::BadValue, format!("Backlog_wait_time must be a numeric value was {v}"))
            })?)
        }
        other => Directive::Unsupported(format!("--{other}")),
    })
}

/// The filter lists `-a`/`-A`/`-d` take (the names `lookup_list` knows): the candidates
/// for a "did you mean".
pub const RULE_LISTS: &[&str] = &["exit", "task", "user", "exclude", "filesystem"];

/// The actions `-a`/`-A`/`-d` take (`possible` is refused as deprecated).
pub const RULE_ACTIONS: &[&str] = &["always", "never"];

/// A filter list by name: 3.0.9's auditctl compares the five names exactly; 4.x asks
/// libaudit (`audit_name_to_flag`: any case, and `io_uring` when built with it).
fn lookup_list(s: &str, ctx: &Context<'_>) -> Option<u32> {
    if ctx.generation != Generation::V3 {
        return ctx.tables().list_number(s);
    }
    Some(match s {
        "exit" => FilterList::EXIT.0,
        "task" => FilterList::TASK.0,
        "user" => FilterList::USER.0,
        "exclude" => FilterList::EXCLUDE.0,
        "filesystem" => FilterList::FS.0,
        _ => return None,
    })
}

/// `Some(Ok(action))`, `Some(Err(()))` for the deprecated `possible`, `None` unknown.
fn lookup_action(s: &str) -> Option<Result<u32, ()>> {
    match s {
        "always" => Some(Ok(2)),
        "never" => Some(Ok(0)),
        "possible" => Some(Err(())),
        _ => None,
    }
}

/// `-a`/`-A`/`-d list,action` in either order (auditctl `audit_rule_setup`, including its
/// quirks: the list a `-w` already chose is kept, and `possible` only counts as deprecated
/// in second position).
fn rule_setup(
    st: &mut State,
    c: char,
    v: &str,
    ctx: &Context<'_>,
) -> Result<Option<String>, ParseError> {
    if c != 'd' && v.contains("task") && st.syscall_added {
        return err(
            K::Syscall,
            if c == 'a' {
                "Syscall auditing requested for task list"
            } else {
                "Error: syscall auditing requested for task list"
            },
        );
    }
    st.multiple += 1;
    let bad = || {
        perr(
            K::ListOrAction,
            match c {
                'a' => format!("Append rule - bad keyword {v}"),
                'A' => format!("Add rule - bad keyword {v}"),
                _ => format!("Delete rule - bad keyword {v}"),
            },
        )
    };
    if st.multiple != 1 {
        return err(
            K::Usage,
            if c == 'a' {
                "Multiple rule insert/delete operations are not allowed\n"
            } else {
                "Multiple rule insert/delete operations are not allowed"
            },
        );
    }
    let (first, second) = match v.split_once(',') {
        Some((a, b)) if !b.contains(',') => (a, b),
        _ => return Err(bad()),
    };
    let mut list = if c == 'd' { st.del } else { st.add };
    let mut action = st.action;
    match lookup_action(first) {
        Some(Ok(a)) => action = Some(a),
        Some(Err(())) => {}
        None => {
            list = lookup_list(first, ctx).ok_or_else(bad)?;
            if list == FilterList::EXCLUDE.0 {
                st.exclude = true;
            }
        }
    }
    if list == UNSET {
        if let Some(l) = lookup_list(second, ctx) {
            list = l;
            if l == FilterList::EXCLUDE.0 {
                st.exclude = true;
            }
        }
    } else {
        match lookup_action(second) {
            Some(Ok(a)) => action = Some(a),
            Some(Err(())) => return Ok(Some(deprecated(c).to_string())),
            None => return Err(bad()),
        }
    }
    let Some(action) = action else { return Err(bad()) };
    if list == UNSET {
        return Err(bad());
    }
    st.action = Some(action);
    match c {
        'a' => st.add = list,
        'A' => st.add = list | AUDIT_FILTER_PREPEND,
        _ => st.del = list,
    }
    Ok(None)
}

fn deprecated(c: char) -> &'static str {
    if c == 'd' {
        "Delete rule - possible is deprecated"
    } else {
        "Append rule - possible is deprecated"
    }
}

fn current_list(st: &State) -> u32 {
    if st.add != UNSET {
        st.add & (AUDIT_FILTER_MASK | UNSET)
    } else {
        st.del & (AUDIT_FILTER_MASK | UNSET)
    }
}

/// `-S name|number|all[,...]`.
fn syscall_option(st: &mut State, v: &str, ctx: &Context<'_>) -> Result<(), ParseError> {
    let lists = [st.add & (AUDIT_FILTER_MASK | UNSET), st.del & (AUDIT_FILTER_MASK | UNSET)];
    if ctx.tables().ioring_op_last() > 0 && lists.contains(&FilterList::URING_EXIT.0) {
        return uring_option(st, v, ctx.tables());
    }
    for (list, name) in [
        (FilterList::TASK.0, "task"),
        (FilterList::USER.0, "user"),
        (FilterList::FS.0, "filesystem"),
    ] {
        if lists.contains(&list) {
            return err(K::Syscall, format!("Error: syscall auditing being added to {name} list"));
        }
    }
    if st.exclude {
        return err(K::Syscall, "Error: syscall auditing cannot be put on exclude list");
    }
    let unknown_arch = st.elf == 0;
    if unknown_arch {
        st.elf = ctx.tables().elf(ctx.machine).ok_or_else(|| {
            perr(K::Syscall, format!("Error looking up elf type {}", ctx.machine.0))
        })?;
    }
    let t = ctx.tables();
    let machine = t.machine_from_elf(st.elf);
    let mut mask = st.rule.mask;
    let names: Vec<&str> =
        if v.contains(',') { v.split(',').filter(|s| !s.is_empty()).collect() } else { vec![v] };
    for name in names {
        match syscall_bits(t, &mut mask, name, machine) {
            Ok(()) => {}
            Err(()) if machine.is_none() => {
                return err(K::Syscall, format!("Elf type unknown: 0x{:x}", st.elf));
            }
            Err(()) => {
                return err(
                    K::Syscall,
                    format!("Syscall name unknown: {}", if v.contains(',') { name } else { v }),
                )
            }
        }
    }
    st.rule.mask = mask;
    st.syscall_added = true;
    if unknown_arch && st.add != UNSET && mismatch(t, v, &mask, ctx.machine) {
        st.warnings.push(match ctx.lineno {
            Some(n) => {
                format!(
                    "WARNING - 32/64 bit syscall mismatch in line {n}, you should specify an arch"
                )
            }
            None => "WARNING - 32/64 bit syscall mismatch, you should specify an arch".into(),
        });
    }
    Ok(())
}

/// `-S` on the io_uring list (4.x `parse_io_uring`, `audit_rule_io_uringbyname_data`):
/// io_uring operation names or numbers, `all` being every named operation below
/// [`Tables::ioring_op_last`]; no arch is looked up and no mismatch is warned of.
fn uring_option(st: &mut State, v: &str, t: &Tables) -> Result<(), ParseError> {
    let mut mask = st.rule.mask;
    let mut set = |nr: u32| -> bool {
        match mask.get_mut((nr / 32) as usize) {
            Some(w) => {
                *w |= 1 << (nr % 32);
                true
            }
            None => false,
        }
    };
    let names: Vec<&str> =
        if v.contains(',') { v.split(',').filter(|s| !s.is_empty()).collect() } else { vec![v] };
    for name in names {
        let ok = if name == "all" {
            (0..t.ioring_op_last()).filter(|&i| t.uringop_name(i).is_some()).all(&mut set)
        } else {
            let nr = t.uringop_number(name).map(i64::from).or_else(|| {
                name.starts_with(|c: char| c.is_ascii_digit()).then(|| crate::cnum::strtol(name))
            });
            nr.and_then(|n| u32::try_from(n).ok()).is_some_and(&mut set)
        };
        if !ok {
            return err(K::Syscall, format!("io_uring op unknown: {v}"));
        }
    }
    st.rule.mask = mask;
    st.syscall_added = true;
    Ok(())
}

/// Sets the bits of one `-S` item (`audit_rule_syscallbyname_data`).
fn syscall_bits(
    t: &Tables,
    mask: &mut [u32; 64],
    name: &str,
    machine: Option<Machine>,
) -> Result<(), ()> {
    if name == "all" {
        *mask = [u32::MAX; 64];
        return Ok(());
    }
    let machine = machine.ok_or(())?;
    let nr = match t.syscall_number(machine, name) {
        Some(n) => i64::from(n),
        None if name.starts_with(|c: char| c.is_ascii_digit()) => crate::cnum::strtol(name),
        None => return Err(()),
    };
    let nr = u32::try_from(nr).map_err(|_| ())?;
    let word = (nr / 32) as usize;
    if word >= 64 {
        return Err(());
    }
    mask[word] |= 1 << (nr % 32);
    Ok(())
}

/// auditctl's `check_rule_mismatch`: would the 32-bit table give other numbers?
fn mismatch(t: &Tables, v: &str, mask: &[u32; 64], host: Machine) -> bool {
    let other = match host {
        Machine::X86_64 => Machine::I386,
        Machine::PPC64 => Machine::PPC,
        Machine::S390X => Machine::S390,
        m => m,
    };
    let mut tmp = [0u32; 64];
    for name in v.split(',').filter(|s| !s.is_empty()) {
        let _ = syscall_bits(t, &mut tmp, name, Some(other));
    }
    &tmp != mask
}

/// auditctl 4.x (`audit_add_perm_syscalls`): after `-F arch=`, each perm letter adds the
/// syscalls of lib/permtab.h that the arch's table knows, and the rule counts as having
/// syscalls (so no implied `-S all`, and a later `-F arch=` is misplaced). Without an arch,
/// and always in 3.0.9, the perm stays a field only.
fn expand_perm(st: &mut State, letters: &str, ctx: &Context<'_>) -> Result<(), ParseError> {
    let t = ctx.tables();
    if !t.expands_perms() || st.elf == 0 {
        return Ok(());
    }
    let machine = t.machine_from_elf(st.elf);
    for c in letters.chars() {
        let lower = c.to_ascii_lowercase();
        let Some(&(_, bit)) = PERM_LETTERS.iter().find(|(l, _)| *l == lower) else { continue };
        let nrs = machine.and_then(|m| t.perm_syscalls(m, bit)).ok_or_else(|| {
            perr(K::Syscall, "Couldn't add syscalls for the perm field".to_string())
        })?;
        for &nr in nrs {
            if let Some(word) = st.rule.mask.get_mut((nr / 32) as usize) {
                *word |= 1 << (nr % 32);
            }
        }
        st.syscall_added = true;
    }
    Ok(())
}

/// `-F field op value`.
fn field_option(st: &mut State, v: &str, ctx: &Context<'_>) -> Result<(), ParseError> {
    let list = if st.add != UNSET {
        st.add & AUDIT_FILTER_MASK
    } else if st.del != UNSET {
        st.del & AUDIT_FILTER_MASK
    } else {
        // auditctl allows `-F arch=... -t`; nothing else before the list.
        return err(K::Usage, "List must be given before field");
    };
    if let Some(k) = v.strip_prefix("key=") {
        return add_key(st, k, ctx);
    }
    fieldpair(st, v, list, ctx)?;
    match st.rule.fields.last().map(|f| f.field) {
        Some(F::AUDIT_PERM) => st.perm_added = true,
        Some(F::AUDIT_EXE) => st.exe_added = true,
        _ => {}
    }
    Ok(())
}

/// `-k KEY` and `-F key=KEY`: keys accumulate, joined with `\x01`.
fn add_key(st: &mut State, k: &str, ctx: &Context<'_>) -> Result<(), ParseError> {
    st.key_at = st.at;
    let sep = usize::from(!st.key.is_empty());
    if k.len() + st.key.len() + sep > AUDIT_MAX_KEY_LEN {
        return err(K::TooLong, "key option exceeds size limit");
    }
    if k.as_bytes().contains(&AUDIT_KEY_SEPARATOR) {
        // 3.0.9 warns and goes on; 4.x refuses (auditctl.c `process_key_option`).
        if ctx.generation != Generation::V3 {
            return err(K::BadValue, format!("key {k} has illegal character"));
        }
        st.warnings.push(format!("key {k} has illegal character"));
    }
    if sep == 1 {
        st.key.push(char::from(AUDIT_KEY_SEPARATOR));
    }
    st.key.push_str(k);
    Ok(())
}

/// `-p rwxa` on a watch.
fn perms_option(st: &mut State, v: &str) -> Result<(), ParseError> {
    if v.len() > 4 {
        return err(K::Permission, format!("permission {v} is too long"));
    }
    let perms =
        perm_bits(v).map_err(|c| perr(K::Permission, format!("Permission {c} isn't supported")))?;
    if st.rule.fields.is_empty() {
        return err(K::Usage, "Permissions should be preceeded by other fields");
    }
    if let Some(f) = st.rule.fields.iter_mut().rev().find(|f| f.field == F::AUDIT_PERM) {
        // auditctl updates every perm field; there is at most one.
        f.value = FieldValue::Num(perms);
        for g in st.rule.fields.iter_mut().filter(|f| f.field == F::AUDIT_PERM) {
            g.value = FieldValue::Num(perms);
        }
    } else {
        if st.rule.fields.len() >= 63 {
            return err(K::TooLong, "Too many fields when adding permissions");
        }
        st.rule.fields.push(FieldData {
            field: F::AUDIT_PERM,
            op: Operator::AUDIT_EQUAL,
            value: FieldValue::Num(perms),
        });
    }
    st.perm_added = true;
    Ok(())
}

fn perm_bits(v: &str) -> Result<u32, char> {
    v.chars().try_fold(0, |acc, c| {
        let lower = c.to_ascii_lowercase();
        match PERM_LETTERS.iter().find(|(letter, _)| *letter == lower) {
            Some((_, bit)) => Ok(acc | bit),
            None => Err(c),
        }
    })
}

/// `-w`/`-W PATH` (auditctl `audit_setup_watch_name`, libaudit `audit_add_watch_dir`).
fn watch_option(st: &mut State, c: char, v: &str, ctx: &Context<'_>) -> Result<(), ParseError> {
    if c == 'w' && (st.add != UNSET || st.del != UNSET) {
        return err(K::Usage, "watch option can't be given with a syscall");
    }
    if v.len() >= PATH_MAX {
        return err(K::Path, "The path passed for the watch is too big");
    }
    if !v.starts_with('/') {
        return err(K::Path, "The path must start with '/'");
    }
    let base = v.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    if base.len() > NAME_MAX {
        return err(K::Path, "The base name of the path is too big");
    }
    if v.contains("..") {
        st.warnings.push("Warning - relative path notation is not supported".into());
    }
    if v.contains('*') || v.contains('?') {
        st.warnings.push("Warning - wildcard notation is not supported".into());
    }
    let mut path = v.to_string();
    if path.len() > 2 && path.ends_with('/') {
        while path.len() > 1 && path.ends_with('/') {
            path.pop();
        }
    }
    if !st.rule.fields.is_empty() {
        return err(K::Usage, "Rule is not empty\n");
    }
    let ty = if ctx.env.is_dir(&path) { F::AUDIT_DIR } else { F::AUDIT_WATCH };
    if c == 'w' {
        st.add = FilterList::EXIT.0;
    } else {
        st.del = FilterList::EXIT.0;
    }
    st.action = Some(2);
    st.syscall_added = true;
    st.perm_added = true;
    st.rule.mask = [u32::MAX; 64];
    st.rule.fields = vec![
        FieldData {
            field: ty,
            op: Operator::AUDIT_EQUAL,
            value: FieldValue::Str(path.into_bytes()),
        },
        FieldData {
            field: F::AUDIT_PERM,
            op: Operator::AUDIT_EQUAL,
            value: FieldValue::Num(AUDIT_PERM_ALL),
        },
    ];
    // 4.x says so on stderr for an added watch (auditctl.c audit_setup_watch_name).
    if c == 'w' && ctx.generation != Generation::V3 {
        st.warnings.push("Old style watch rules are slower".into());
    }
    Ok(())
}

/// Splits `field<op>value` with auditctl's operator precedence.
fn split_op(pair: &str) -> Option<(&str, Operator, &str)> {
    // `strstr` for each operator in table order; the symbols are one or two ASCII bytes,
    // so a window scan beats a general substring search here (this runs for every `-F`).
    let bytes = pair.as_bytes();
    OPERATOR_TABLE.iter().find_map(|o| {
        let sym = o.symbol.as_bytes();
        let i = bytes.windows(sym.len()).position(|w| w == sym)?;
        Some((&pair[..i], o.op, &pair[i + sym.len()..]))
    })
}

/// A message in lib/errormsg.h's shape.
fn eau(kind: ParseErrorKind, position: u8, text: &str, opt: &str) -> ParseError {
    perr(
        kind,
        match position {
            0 => text.to_string(),
            1 => format!("{opt} {text}"),
            _ => format!("{text} {opt}"),
        },
    )
}

fn is_digit_start(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_digit())
}

fn is_negative_number(v: &str) -> bool {
    v.len() >= 2 && v.starts_with('-') && v[1..].starts_with(|c: char| c.is_ascii_digit())
}

/// `audit_rule_fieldpair_data`: one `-F` pair appended to the rule.
fn fieldpair(st: &mut State, pair: &str, list: u32, ctx: &Context<'_>) -> Result<(), ParseError> {
    if st.rule.fields.len() >= 63 {
        return Err(eau(K::TooLong, 2, "Too many fields in rule:", pair));
    }
    let Some((f, op, v)) = split_op(pair) else {
        return Err(eau(K::FieldSyntax, 2, "-F missing operation for", pair));
    };
    if f.is_empty() {
        return Err(eau(K::FieldSyntax, 2, "-F missing field name before operator for", f));
    }
    if v.is_empty() {
        return Err(eau(K::FieldSyntax, 2, "-F missing value after operation for", f));
    }
    let field = ctx
        .tables()
        .field_number(f)
        .ok_or_else(|| eau(K::UnknownField, 2, "-F unknown field:", f))?;
    let ftype = F(field);
    let exit = FilterList::EXIT.0;
    // 3.0.9: with EXCLUDE_EXTEND only msgtype, cred and exe fields, without it msgtype
    // only. 4.x (libaudit.c `audit_rule_fieldpair_data`): with EXCLUDE_EXTEND any field
    // (each field's own list checks still apply), without it the restricted set.
    let v4 = ctx.generation != Generation::V3;
    let extended = ctx.features & feature_bitmap::EXCLUDE_EXTEND != 0;
    if list == FilterList::EXCLUDE.0 && !(v4 && extended) {
        if !extended && !v4 {
            if ftype != F::AUDIT_MSGTYPE {
                return Err(eau(K::FieldNotAllowed, 2, "Field option not supported by kernel:", f));
            }
        } else if !matches!(
            ftype,
            F::AUDIT_PID
                | F::AUDIT_UID
                | F::AUDIT_GID
                | F::AUDIT_LOGINUID
                | F::AUDIT_MSGTYPE
                | F::AUDIT_SUBJ_USER
                | F::AUDIT_SUBJ_ROLE
                | F::AUDIT_SUBJ_TYPE
                | F::AUDIT_SUBJ_SEN
                | F::AUDIT_SUBJ_CLR
                | F::AUDIT_EXE
        ) {
            return Err(eau(
                K::FieldNotAllowed,
                0,
                "Only msgtype, *uid, *gid, pid, and subj* fields can be used with exclude filter",
                f,
            ));
        }
    }
    if list == FilterList::FS.0 && ctx.features & feature_bitmap::FILTER_FS == 0 {
        return Err(eau(K::FieldNotAllowed, 1, "filter is not supported by the kernel", f));
    }
    let exit_only = || eau(K::FieldNotAllowed, 1, "can only be used with exit filter list", f);
    let eq_neq = || eau(K::FieldSyntax, 1, "only takes = or != operators", f);
    let num = || eau(K::BadValue, 2, "-F value should be number for", f);
    let signed_or_unsigned = |v: &str| {
        if is_digit_start(v) {
            Some(strtoul_u32(v))
        } else if is_negative_number(v) {
            Some(strtol_u32(v))
        } else {
            None
        }
    };
    let value = match ftype {
        F::AUDIT_UID
        | F::AUDIT_EUID
        | F::AUDIT_SUID
        | F::AUDIT_FSUID
        | F::AUDIT_LOGINUID
        | F::AUDIT_OBJ_UID => FieldValue::Num(match signed_or_unsigned(v) {
            Some(n) => n,
            None if v == "unset" => u32::MAX,
            None => {
                ctx.env.uid(v).ok_or_else(|| perr(K::BadValue, format!("Unknown user: {v}")))?
            }
        }),
        F::AUDIT_GID | F::AUDIT_EGID | F::AUDIT_SGID | F::AUDIT_FSGID | F::AUDIT_OBJ_GID => {
            FieldValue::Num(if is_digit_start(v) {
                strtol_u32(v)
            } else {
                ctx.env.gid(v).ok_or_else(|| perr(K::BadValue, format!("Unknown group: {v}")))?
            })
        }
        F::AUDIT_EXIT => {
            if list != exit {
                return Err(exit_only());
            }
            FieldValue::Num(if is_digit_start(v) || is_negative_number(v) {
                strtol_u32(v)
            } else {
                // audit_name_to_errno: "EPERM" or "-EPERM".
                let (neg, name) = match v.strip_prefix('-') {
                    Some(n) => (true, n),
                    None => (false, v),
                };
                match ctx.tables().errno_number(name) {
                    Some(e) if neg => (e as i32).wrapping_neg() as u32,
                    Some(e) => e,
                    None => return Err(eau(K::BadValue, 2, "-F unknown errno -", f)),
                }
            })
        }
        F::AUDIT_MSGTYPE => {
            if list != FilterList::EXCLUDE.0 && list != FilterList::USER.0 {
                return Err(eau(
                    K::FieldNotAllowed,
                    0,
                    "msgtype field can only be used with exclude or user filter list",
                    f,
                ));
            }
            FieldValue::Num(if is_digit_start(v) {
                strtol_u32(v)
            } else {
                ctx.tables()
                    .msgtype_number(v)
                    .ok_or_else(|| eau(K::BadValue, 2, "-F unknown message type -", f))?
            })
        }
        F::AUDIT_OBJ_USER
        | F::AUDIT_OBJ_ROLE
        | F::AUDIT_OBJ_TYPE
        | F::AUDIT_OBJ_LEV_LOW
        | F::AUDIT_OBJ_LEV_HIGH
        | F::AUDIT_WATCH
        | F::AUDIT_DIR
        | F::AUDIT_SUBJ_USER
        | F::AUDIT_SUBJ_ROLE
        | F::AUDIT_SUBJ_TYPE
        | F::AUDIT_SUBJ_SEN
        | F::AUDIT_SUBJ_CLR
        | F::AUDIT_FILTERKEY
        | F::AUDIT_EXE => {
            if matches!(
                ftype,
                F::AUDIT_OBJ_USER
                    | F::AUDIT_OBJ_ROLE
                    | F::AUDIT_OBJ_TYPE
                    | F::AUDIT_OBJ_LEV_LOW
                    | F::AUDIT_OBJ_LEV_HIGH
                    | F::AUDIT_WATCH
                    | F::AUDIT_DIR
            ) {
                if list != exit {
                    return Err(exit_only());
                }
                if matches!(ftype, F::AUDIT_WATCH | F::AUDIT_DIR) {
                    st.perm_added = true;
                }
            }
            if ftype == F::AUDIT_EXE {
                if ctx.features & feature_bitmap::EXECUTABLE_PATH == 0 {
                    return Err(eau(
                        K::FieldNotAllowed,
                        2,
                        "Field option not supported by kernel:",
                        f,
                    ));
                }
                if op != Operator::AUDIT_EQUAL && op != Operator::AUDIT_NOT_EQUAL {
                    return Err(eq_neq());
                }
                st.exe_added = true;
            }
            if ftype == F::AUDIT_FILTERKEY
                && !(st.syscall_added || st.perm_added || st.exe_added || st.fs_added)
            {
                return Err(eau(
                    K::Usage,
                    0,
                    "Key field needs a watch, syscall or exe path given prior to it",
                    f,
                ));
            }
            if (ftype == F::AUDIT_FILTERKEY && v.len() > AUDIT_MAX_KEY_LEN) || v.len() > PATH_MAX {
                return Err(eau(K::TooLong, 0, "String value too long", f));
            }
            FieldValue::Str(v.as_bytes().to_vec())
        }
        F::AUDIT_ARCH => {
            if st.syscall_added {
                return Err(eau(K::Usage, 1, "must be before -S", f));
            }
            if op != Operator::AUDIT_EQUAL && op != Operator::AUDIT_NOT_EQUAL {
                return Err(eq_neq());
            }
            let elf_unknown = || eau(K::BadValue, 1, "elf mapping not found", f);
            let elf = if is_digit_start(v) {
                let e = u32::try_from(strtoul(v)).map_err(|_| elf_unknown())?;
                ctx.tables().machine_from_elf(e).ok_or_else(elf_unknown)?;
                e
            } else {
                determine_machine(ctx.tables(), v, ctx.machine)
                    .and_then(|m| ctx.tables().elf(m))
                    .ok_or_else(elf_unknown)?
            };
            st.elf = elf;
            FieldValue::Num(elf)
        }
        F::AUDIT_PERM => {
            // 4.x takes a perm filter on the exclude list too.
            if list != exit && !(v4 && list == FilterList::EXCLUDE.0) {
                return Err(exit_only());
            }
            if op != Operator::AUDIT_EQUAL {
                return Err(eau(K::FieldSyntax, 1, "only takes = operator", f));
            }
            if v.len() > 4 {
                return Err(eau(K::TooLong, 0, "String value too long", f));
            }
            let bits = perm_bits(v)
                .map_err(|_| eau(K::Permission, 0, "Permission can only contain  'rwxa'", f))?;
            expand_perm(st, v, ctx)?;
            FieldValue::Num(bits)
        }
        F::AUDIT_FILETYPE => {
            if list != exit {
                return Err(exit_only());
            }
            FieldValue::Num(
                ctx.tables()
                    .filetype_number(v)
                    .ok_or_else(|| eau(K::BadValue, 2, "-F unknown file type - ", f))?,
            )
        }
        F::AUDIT_FSTYPE => {
            if list != FilterList::FS.0 {
                return Err(eau(K::FieldNotAllowed, 1, "field is not valid for the filter", f));
            }
            if op != Operator::AUDIT_EQUAL && op != Operator::AUDIT_NOT_EQUAL {
                return Err(eq_neq());
            }
            let n = if is_digit_start(v) {
                Some(strtoul_u32(v))
            } else {
                ctx.tables().fstype_number(v)
            };
            st.fs_added = true;
            match n {
                Some(n) if n != u32::MAX => FieldValue::Num(n),
                _ => return Err(eau(K::BadValue, 2, "file system type is unknown for field:", f)),
            }
        }
        F::AUDIT_ARG0 | F::AUDIT_ARG1 | F::AUDIT_ARG2 | F::AUDIT_ARG3 => {
            FieldValue::Num(signed_or_unsigned(v).ok_or_else(num)?)
        }
        F::AUDIT_SESSIONID => {
            if ctx.features & feature_bitmap::SESSIONID_FILTER == 0 {
                return Err(eau(K::FieldNotAllowed, 2, "Field option not supported by kernel:", f));
            }
            if ![FilterList::EXCLUDE.0, FilterList::USER.0, exit].contains(&list) {
                return Err(eau(
                    K::FieldNotAllowed,
                    1,
                    "must be used with exclude, user, or exit filter",
                    f,
                ));
            }
            // auditctl leaves the value unset (0) for anything it cannot read.
            FieldValue::Num(signed_or_unsigned(v).unwrap_or(if v == "unset" {
                u32::MAX
            } else {
                0
            }))
        }
        F::AUDIT_SADDR_FAM => {
            let n = strtoul(v);
            if n as u32 as u64 >= AF_MAX {
                return Err(eau(K::BadValue, 2, "value is too large for field:", f));
            }
            FieldValue::Num(n as u32)
        }
        _ => {
            if matches!(
                ftype,
                F::AUDIT_DEVMAJOR | F::AUDIT_DEVMINOR | F::AUDIT_INODE | F::AUDIT_SUCCESS
            ) && list != exit
            {
                return Err(exit_only());
            }
            if ftype == F::AUDIT_INODE
                && op != Operator::AUDIT_EQUAL
                && op != Operator::AUDIT_NOT_EQUAL
            {
                return Err(eq_neq());
            }
            if ftype == F::AUDIT_PPID && list != exit {
                return Err(exit_only());
            }
            if !is_digit_start(v) {
                return Err(num());
            }
            FieldValue::Num(if ftype == F::AUDIT_INODE { strtoul_u32(v) } else { strtol_u32(v) })
        }
    };
    st.rule.fields.push(FieldData { field: ftype, op, value });
    Ok(())
}

/// `audit_determine_machine`: `b32`/`b64` relative to the host, a name, or hex ELF.
fn determine_machine(t: &Tables, arch: &str, host: Machine) -> Option<Machine> {
    let bits = if arch.eq_ignore_ascii_case("b64") {
        Some(true)
    } else if arch.eq_ignore_ascii_case("b32") {
        Some(false)
    } else {
        None
    };
    let mut machine = match bits {
        Some(_) => host,
        None => t.machine_from_name(arch).or_else(|| {
            let hex = arch.trim_start_matches("0x").trim_start_matches("0X");
            let digits: String = hex.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
            u32::from_str_radix(&digits, 16).ok().and_then(|e| t.machine_from_elf(e))
        })?,
    };
    if bits == Some(false) {
        machine = match machine {
            Machine::X86_64 => Machine::I386,
            Machine::PPC64 => Machine::PPC,
            Machine::S390X => Machine::S390,
            Machine::AARCH64 => Machine::ARM,
            m => m,
        };
    }
    let is64 = t.elf(machine).is_some_and(|e| e & AUDIT_ARCH_64BIT != 0);
    match (bits, is64) {
        (Some(true), false) | (Some(false), true) => None,
        _ => Some(machine),
    }
}

/// `-C left op right` (auditctl `audit_rule_interfield_comp_data`).
fn compare_option(st: &mut State, v: &str, t: &Tables) -> Result<(), ParseError> {
    let list = current_list(st);
    if st.rule.fields.len() >= 63 {
        return Err(eau(K::TooLong, 2, "Too many fields in rule:", v));
    }
    let (l, op, r) = if let Some((l, r)) = v.split_once("!=") {
        (l, Operator::AUDIT_NOT_EQUAL, r)
    } else if let Some((l, r)) = v.split_once('=') {
        (l, Operator::AUDIT_EQUAL, r)
    } else {
        return Err(eau(K::FieldSyntax, 1, "only takes = or != operators", v));
    };
    if l.is_empty() {
        return Err(eau(K::FieldSyntax, 2, "-C missing field name before operator for", l));
    }
    if r.is_empty() {
        return Err(eau(K::FieldSyntax, 2, "-C missing value after operation for ", l));
    }
    let a = t.field_number(l).ok_or_else(|| eau(K::UnknownField, 2, "-C unknown field:", l))?;
    let b = t.field_number(r).ok_or_else(|| {
        eau(K::UnknownField, 2, "-C unknown right hand value for comparison with:", l)
    })?;
    if list != FilterList::EXIT.0 {
        return Err(eau(K::FieldNotAllowed, 1, "can only be used with exit filter list", l));
    }
    let value = t
        .compare_value(a, b)
        .ok_or_else(|| eau(K::BadValue, 2, "-C incompatible comparison", l))?;
    st.rule.fields.push(FieldData {
        field: F::AUDIT_FIELD_COMPARE,
        op,
        value: FieldValue::Num(value),
    });
    Ok(())
}

#[cfg(test)]
mod tests {

    /// The names the "did you mean" candidates list are the names the parser takes.
    #[test]
    fn rule_lists_and_actions_are_the_ones_parsed() {
        for g in crate::generation::GENERATIONS {
            let ctx = Context::new(&NoEnv).with_generation(g);
            for l in RULE_LISTS {
                assert!(lookup_list(l, &ctx).is_some(), "{l}");
            }
        }
        for a in RULE_ACTIONS {
            assert!(matches!(lookup_action(a), Some(Ok(_))), "{a}");
        }
    }

    use super::*;

    fn parse(s: &str) -> Result<RuleData, String> {
        let env = NoEnv;
        let mut ctx = Context::new(&env);
        ctx.machine = Machine::X86_64;
        let args: Vec<String> = split_line(s);
        match parse_command(&args, &ctx) {
            Ok(mut d) => match d.pop() {
                Some(Directive::Rule(r)) => Ok(r.rule),
                other => Err(format!("not a rule: {other:?}")),
            },
            Err(e) => Err(e.message),
        }
    }

    #[test]
    fn watch_builds_what_auditctl_sends() {
        let r = parse("-w /usr/bin/dockerd -k docker").expect("parses");
        assert_eq!(r.flags, 4);
        assert_eq!(r.action, 2);
        assert_eq!(r.mask, [u32::MAX; 64]);
        let f: Vec<_> = r.fields.iter().map(|f| (f.field, f.value.clone())).collect();
        assert_eq!(
            f,
            [
                (F::AUDIT_WATCH, FieldValue::Str(b"/usr/bin/dockerd".to_vec())),
                (F::AUDIT_PERM, FieldValue::Num(15)),
                (F::AUDIT_FILTERKEY, FieldValue::Str(b"docker".to_vec())),
            ]
        );
    }

    #[test]
    fn errors_name_the_token() {
        for (s, want) in [
            ("-a always,exit -F foo=1", "-F unknown field: foo"),
            ("-a always,exit -S bogus", "Syscall name unknown: bogus"),
            (
                "-a always,exit -S open -F arch=b64",
                "WARNING - 32/64 bit syscall mismatch, you should specify an arch\narch must be before -S",
            ),
            ("-a bogus,exit", "Append rule - bad keyword bogus,exit"),
            ("-w relative", "The path must start with '/'"),
            ("-a always,exit -F uid", "-F missing operation for uid"),
            ("-a always,user -F exit=1", "exit can only be used with exit filter list"),
            ("-k x", "key option needs a watch or syscall given prior to it"),
        ] {
            assert_eq!(parse(s).expect_err(s), want, "{s}");
        }
    }

    /// The kind, the token and its index; the line when the context has one.
    #[test]
    fn errors_carry_kind_token_and_position() {
        let env = NoEnv;
        let mut ctx = Context::new(&env);
        ctx.machine = Machine::X86_64;
        for (s, kind, token, at) in [
            ("-a always,exit -F foo=1", K::UnknownField, Some("foo=1"), Some(3)),
            ("-a always,exit -Fuid", K::FieldSyntax, Some("-Fuid"), Some(2)),
            ("-a always,exit -S open,bogus", K::Syscall, Some("open,bogus"), Some(3)),
            ("-a bogus,exit", K::ListOrAction, Some("bogus,exit"), Some(1)),
            ("-w relative", K::Path, Some("relative"), Some(1)),
            ("-w /etc -p rwz", K::Permission, Some("rwz"), Some(3)),
            ("-X", K::InvalidOption, Some("-X"), Some(0)),
            ("-w /etc stray", K::Usage, Some("stray"), Some(2)),
            ("-s stray", K::Usage, Some("-s"), Some(0)),
            ("-a always,user -k k", K::Usage, Some("k"), Some(3)),
            ("-e 3", K::BadValue, Some("3"), Some(1)),
            ("-S open", K::ListOrAction, None, None),
        ] {
            let e = parse_command(&split_line(s), &ctx).expect_err(s);
            assert_eq!(
                (e.kind, e.token.as_deref(), e.position.token),
                (kind, token, at),
                "{s}: {e}"
            );
            assert_eq!(e.position.line, None, "{s}");
        }
        ctx.lineno = Some(7);
        let e = parse_command(&split_line("-a always,exit -F foo=1"), &ctx).expect_err("refused");
        assert_eq!(e.position, ParsePosition { token: Some(3), line: Some(7) });
        assert_eq!(e.to_string(), "-F unknown field: foo");
        let k = ParseError::kernel_refusal("why").at_line(3);
        assert_eq!((k.kind, k.position.line), (K::KernelRefusal, Some(3)));
        assert_eq!(k.to_string(), "the kernel would refuse this rule: why");
    }

    /// Arguments that combine into valid and invalid commands of every kind.
    const TOKENS: &[&str] = &[
        "-a",
        "-A",
        "-d",
        "always,exit",
        "exit,never",
        "task,always",
        "-F",
        "uid=0",
        "foo=1",
        "arch=b64",
        "-S",
        "open",
        "all",
        "-k",
        "key",
        "-w",
        "/etc/passwd",
        "-p",
        "rwxa",
        "-e",
        "1",
        "-l",
        "-D",
        "-s",
        "-i",
        "--",
        "stray",
        "-C",
        "uid!=euid",
        "-Fkey=x",
        "--backlog_wait_time",
        "60000",
        "-X",
        "perm=wz",
    ];

    proptest::proptest! {
        /// Every refusal has a message, and its position points at an argument of the command
        /// (the one it names as its token).
        #[test]
        fn errors_point_into_the_command(
            picks in proptest::collection::vec(0..TOKENS.len(), 0..8),
        ) {
            let env = NoEnv;
            let ctx = Context::new(&env);
            let args: Vec<&str> = picks.iter().filter_map(|&i| TOKENS.get(i).copied()).collect();
            if let Err(e) = parse_command(&args, &ctx) {
                proptest::prop_assert!(!e.message.is_empty());
                let at = e.position.token;
                proptest::prop_assert!(at.is_none_or(|i| i < args.len()), "{e:?}");
                let named = at.and_then(|i| args.get(i).copied());
                proptest::prop_assert_eq!(e.token.as_deref(), named);
            }
        }
    }

    #[test]
    fn keys_join_and_syscalls_by_arch() {
        let r = parse("-a exit,always -F arch=b32 -S open,2 -k a -F key=b").expect("parses");
        assert_eq!(r.fields[0].value, FieldValue::Num(0x4000_0003));
        assert_eq!(r.mask[0], (1 << 5) | (1 << 2));
        assert_eq!(r.fields[1].value, FieldValue::Str(b"a\x01b".to_vec()));
    }

    /// What generation 4 takes that 3.0.9 refuses, and how 4.x refuses: any field on the
    /// exclude list (with EXCLUDE_EXTEND), perm= there, list names in any case, the io_uring
    /// list with its operation names; a `-S` list with an unknown name or a command with no
    /// option said with the epilogue alone.
    #[test]
    fn generation_4_lists_and_refusals() {
        let env = NoEnv;
        let as_gen = |g: Generation, s: &str| {
            let mut ctx = Context::new(&env).with_generation(g);
            ctx.machine = Machine::X86_64;
            match parse_command(&split_line(s), &ctx) {
                Ok(mut d) => match d.pop() {
                    Some(Directive::Rule(r)) => Ok(r.rule),
                    other => Err(format!("not a rule: {other:?}")),
                },
                Err(e) => Err(g.refusal_stderr_of(&e)),
            }
        };
        let v4 = |s: &str| as_gen(Generation::V4, s);
        let v3 = |s: &str| as_gen(Generation::V3, s);
        for s in ["-a never,exclude -F euid=0", "-a never,exclude -F perm=r", "-a always,Exit"] {
            assert!(v4(s).is_ok(), "{s}: {:?}", v4(s));
            assert!(v3(s).is_err(), "{s}");
        }
        assert_eq!(
            v4("-a never,exclude -F ppid=1"),
            Err("ppid can only be used with exit filter list\n\
                 There was an error while processing parameters"
                .into())
        );
        let r = v4("-a always,io_uring -S openat,close").expect("io_uring");
        assert_eq!(r.flags, FilterList::URING_EXIT.0);
        assert_eq!(r.mask[0], (1 << 18) | (1 << 19));
        let all = v4("-a always,io_uring -S all").expect("all ops");
        // Named operations below IORING_OP_LAST (49) only: sendmsg_zc (48), not waitid (50).
        assert_eq!(all.mask[1] >> (48 - 32), 1);
        assert_eq!(
            v4("-a always,io_uring -S openat,bogus"),
            Err(
                "io_uring op unknown: openat,bogus\nThere was an error while processing parameters"
                    .into()
            )
        );
        assert_eq!(
            v3("-a always,io_uring -S openat"),
            Err("Append rule - bad keyword always,io_uring".into())
        );
        let mut r = crate::Renderer::new(Machine::X86_64).generation(Generation::V4);
        assert_eq!(r.rule(&all), "-a always,io_uring -S sendmsg,recvmsg,accept,connect,fallocate,openat,close,openat2,shutdown,renameat,unlinkat,mkdirat,symlinkat,linkat,msg_ring,fsetxattr,setxattr,fgetxattr,getxattr,uring_cmd,sendmsg_zc");
        let epilogue = Err("There was an error while processing parameters".to_string());
        assert_eq!(v4("-a always,exit -S open,nosuch"), epilogue);
        assert_eq!(v4("- a always,exit"), epilogue);
        assert_eq!(v3("- a always,exit"), Err(String::new()));
        // A key with libaudit's separator (\x01): 3.0.9 warns, 4.x refuses.
        assert!(v3("-w /etc/x -k a\u{1}b").is_ok());
        assert_eq!(
            v4("-w /etc/x -k a\u{1}b"),
            Err("Old style watch rules are slower\nkey a\u{1}b has illegal character\n\
                 There was an error while processing parameters"
                .into())
        );
        assert_eq!(
            v4("-a always,exit -S nosuch"),
            Err("Syscall name unknown: nosuch\nThere was an error while processing parameters"
                .into())
        );
    }
}
