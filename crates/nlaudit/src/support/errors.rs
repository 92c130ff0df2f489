//! Turning errors into sentences a person can act on, and into exit codes.

use std::io::Write as _;
use std::process::ExitCode;

use nlaudit_proto::{Errno, Error as ProtoError, Op};

use crate::support::output;

/// Exit codes (documented in `nlaudit --help` and docs/cli.md).
pub mod code {
    /// The operation failed.
    pub const FAILED: u8 = 1;
    /// Bad usage or bad rule text.
    pub const USAGE: u8 = 2;
    /// `add`: the kernel already holds this rule.
    pub const EXISTS: u8 = 3;
    /// `delete`: the kernel holds no such rule.
    pub const NO_SUCH_RULE: u8 = 4;
    /// Not permitted: capabilities or namespaces.
    pub const NOT_PERMITTED: u8 = 5;
    /// The audit configuration is locked (enabled 2) until reboot.
    pub const IMMUTABLE: u8 = 6;
}

/// An error that already knows its exit code and message.
#[derive(Debug)]
pub struct Failure {
    /// Exit code.
    pub code: u8,
    /// What to print (after `nlaudit: `).
    pub message: String,
    /// `FILE:LINE` of the line the error is about (the message starts with it too).
    pub location: Option<String>,
    /// The rules in force after a stop part-way, as `list` prints them (for `--json`).
    pub in_force: Option<Vec<String>>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Shorthand: a failure with a code.
pub fn fail(code: u8, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Failure { code, message: message.into(), location: None, in_force: None })
}

/// A failure about the line at `location` (`FILE:LINE`): the message is `LOCATION: MESSAGE`.
pub fn fail_at(code: u8, location: String, message: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(Failure {
        code,
        message: format!("{location}: {message}"),
        location: Some(location),
        in_force: None,
    })
}

/// A failure after which the kernel holds `in_force` (rule texts, as `list` prints them).
pub fn fail_in_force(code: u8, message: impl Into<String>, in_force: Vec<String>) -> anyhow::Error {
    anyhow::Error::new(Failure {
        code,
        message: message.into(),
        location: None,
        in_force: Some(in_force),
    })
}

/// Bit 30 of the capability sets: CAP_AUDIT_CONTROL; bit 37: CAP_AUDIT_READ.
pub const CAP_AUDIT_CONTROL: u32 = 30;
/// CAP_AUDIT_READ.
pub const CAP_AUDIT_READ: u32 = 37;

/// Whether this process's effective capability set holds `cap` (from /proc/self/status).
pub fn has_capability(cap: u32) -> Option<bool> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?.trim();
    let bits = u64::from_str_radix(hex, 16).ok()?;
    Some(bits & (1u64 << cap) != 0)
}

/// The sentence that explains a kernel/protocol error, and its exit code.
pub fn explain(e: &ProtoError) -> (u8, String) {
    let op = e.op();
    match e {
        ProtoError::Kernel { errno: Errno::EPERM, .. } | ProtoError::Io { .. }
            if e.errno() == Some(Errno::EPERM) =>
        {
            if has_capability(CAP_AUDIT_CONTROL) == Some(false) {
                (
                    code::NOT_PERMITTED,
                    format!(
                        "cannot {op}: permission denied (EPERM): this process lacks \
                         CAP_AUDIT_CONTROL. Run as root, or give the container \
                         --cap-add AUDIT_CONTROL."
                    ),
                )
            } else {
                (code::NOT_PERMITTED, eperm_with_capability(op, &Confinement::of_self()))
            }
        }
        _ if e.errno() == Some(Errno::ECONNREFUSED) => (
            code::NOT_PERMITTED,
            format!(
                "cannot {op}: audit is not available in a user namespace (the kernel answers \
                 ECONNREFUSED to every audit request from a non-initial user namespace). Run \
                 in the host's user namespace (docker: --userns=host, not rootless; no \
                 `unshare -U`)."
            ),
        ),
        _ if op == Op::Open && e.errno() == Some(Errno::EPROTONOSUPPORT) => (
            code::FAILED,
            "cannot open the audit netlink socket: this kernel has no audit support \
             (EPROTONOSUPPORT: built without CONFIG_AUDIT, or booted with audit=0 on some \
             kernels)."
                .to_string(),
        ),
        ProtoError::Kernel { errno: Errno::EEXIST, op: Op::AddRule } => {
            (code::EXISTS, "rule already exists".to_string())
        }
        ProtoError::Kernel { errno: Errno::ENOENT, op: Op::DeleteRule } => {
            (code::NO_SUCH_RULE, "no rule matches (the kernel holds no identical rule)".into())
        }
        _ => (code::FAILED, e.to_string()),
    }
}

/// The inode of the initial PID namespace (include/linux/proc_ns.h).
const PROC_PID_INIT_INO: u32 = 0xEFFF_FFFC;

/// What `/proc/self` says about what confines this process, for an EPERM that the
/// capability does not explain.
#[derive(Debug, Default)]
pub struct Confinement {
    /// From /proc/self/ns/pid (else `NSpid:` in /proc/self/status): whether the process is
    /// in a nested PID namespace (`None`: not known).
    pub nested_pid_namespace: Option<bool>,
    /// `Seccomp:` in /proc/self/status is 2: a seccomp filter is installed.
    pub seccomp_filter: bool,
    /// The LSM label of /proc/self/attr/current, when it is not `unconfined`.
    pub lsm_label: Option<String>,
}

impl Confinement {
    /// Reads it for this process.
    pub fn of_self() -> Confinement {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_string())
        };
        let label = std::fs::read_to_string("/proc/self/attr/current")
            .ok()
            .map(|l| l.trim_end_matches(['\0', '\n']).to_string())
            .filter(|l| !l.is_empty() && l != "unconfined");
        // The initial PID namespace has a fixed inode (include/linux/proc_ns.h
        // PROC_PID_INIT_INO, 0xEFFFFFFC), whatever /proc is mounted; NSpid lists one pid
        // per level only as seen from the namespace /proc was mounted in (a container's
        // own /proc shows one), so the link decides and NSpid is the fallback.
        let by_link = std::fs::read_link("/proc/self/ns/pid")
            .ok()
            .map(|l| l.to_string_lossy() != format!("pid:[{PROC_PID_INIT_INO}]"));
        let by_nspid = field("NSpid:").map(|v| v.split_whitespace().count() > 1);
        Confinement {
            nested_pid_namespace: by_link.or(by_nspid),
            seccomp_filter: field("Seccomp:").is_some_and(|v| v == "2"),
            lsm_label: label,
        }
    }
}

/// EPERM although CAP_AUDIT_CONTROL is held: the PID-namespace advice only where the process
/// is in a nested PID namespace; otherwise the other causes the machine shows.
pub fn eperm_with_capability(op: Op, c: &Confinement) -> String {
    let head = format!("cannot {op}: permission denied (EPERM) although CAP_AUDIT_CONTROL is held");
    if c.nested_pid_namespace == Some(true) {
        return format!(
            "{head}: this process is in a nested PID namespace (/proc/self/ns/pid), and the \
             kernel accepts audit control only from the initial one. Run the container \
             with --pid=host (Kubernetes: hostPID: true)."
        );
    }
    let mut causes = Vec::new();
    if let Some(l) = &c.lsm_label {
        causes.push(format!(
            "a security module (this process runs confined as `{l}`: look for an AVC or \
             apparmor=\"DENIED\" line in the kernel log)"
        ));
    }
    if c.seccomp_filter {
        causes.push(
            "a seccomp filter (this process has one: Seccomp 2 in /proc/self/status)".to_string(),
        );
    }
    let ns = match c.nested_pid_namespace {
        Some(false) => "this process is in the initial PID namespace, so that is not the cause",
        _ => "the PID namespace could not be read (/proc/self/ns/pid)",
    };
    if causes.is_empty() {
        causes.push(
            "a security module (SELinux, AppArmor, Landlock: look for a denial in the kernel \
             log) or a seccomp filter of a parent that this process does not show"
                .to_string(),
        );
    }
    format!("{head}; {ns}. Likely denied by {}.", causes.join(", or "))
}

/// An error as a report says it: the sentence, the exit code, and what the failure knows.
#[derive(Debug)]
pub struct Described {
    /// The exit code.
    pub code: u8,
    /// The sentence (printed after `nlaudit: `).
    pub message: String,
    /// `FILE:LINE`, when the error is about a line.
    pub location: Option<String>,
    /// The rules in force after a stop part-way, when they were listed.
    pub in_force: Option<Vec<String>>,
}

/// Describes an error (with its chain).
pub fn describe(e: &anyhow::Error) -> Described {
    let (code, message) = sentence(e);
    let failure = e.chain().find_map(|c| c.downcast_ref::<Failure>());
    Described {
        code,
        message,
        location: failure.and_then(|f| f.location.clone()),
        in_force: failure.and_then(|f| f.in_force.clone()),
    }
}

/// Prints an error (with its chain) and returns the exit code. Under `--json`, when the
/// command did not print its report, an [`output::ErrorReport`] goes to standard output too.
pub fn report(e: &anyhow::Error) -> u8 {
    let d = describe(e);
    print_report(d)
}

/// [`report`] for a command whose every error exits with `code` (`docker check|ensure`: 2).
pub fn report_as(e: &anyhow::Error, code: u8) -> u8 {
    print_report(Described { code, ..describe(e) })
}

fn print_report(d: Described) -> u8 {
    let _ = writeln!(std::io::stderr(), "nlaudit: {}", d.message);
    if let Some(command) = output::json_command().filter(|_| !output::report_printed()) {
        let r = output::ErrorReport {
            schema: output::ERROR_SCHEMA,
            command,
            error: d.message,
            exit_code: d.code,
            location: d.location,
            in_force: d.in_force,
        };
        let _ = output::print_error(&r);
    }
    d.code
}

/// The sentence for an error (with its chain) and its exit code.
fn sentence(e: &anyhow::Error) -> (u8, String) {
    if let Some(f) = e.downcast_ref::<Failure>() {
        (f.code, f.message.clone())
    } else if let Some(p) = e.downcast_ref::<ProtoError>() {
        let (c, m) = explain(p);
        let ctx: Vec<String> = e
            .chain()
            .take_while(|c| c.downcast_ref::<ProtoError>().is_none())
            .map(|c| c.to_string())
            .collect();
        if ctx.is_empty() {
            (c, m)
        } else {
            (c, format!("{}: {m}", ctx.join(": ")))
        }
    } else if let Some(p) = e.chain().find_map(|c| c.downcast_ref::<ProtoError>()) {
        let (c, m) = explain(p);
        (c, format!("{e}: {m}"))
    } else {
        (code::FAILED, format!("{e:#}"))
    }
}

/// The commands that take `--json`, as the error object names them: (first word, second
/// word or "", name).
const JSON_COMMANDS: &[(&str, &str, &str)] = &[
    ("status", "", "status"),
    ("set", "", "set"),
    ("list", "", "list"),
    ("add", "", "add"),
    ("delete", "", "delete"),
    ("load", "", "load"),
    ("merge", "", "merge"),
    ("apply", "", "apply"),
    ("docker", "check", "docker check"),
    ("docker", "ensure", "docker ensure"),
    ("check", "", "check"),
    ("ensure", "", "ensure"),
    ("events", "", "events"),
    ("daemon", "", "daemon --status"),
];

/// A command line clap refuses (exit 2): clap's message on standard error and, when the
/// words hold `--json` for a command that takes it, the error object on standard output.
/// `--help` and `--version` print as usual.
pub fn usage_failure(words: &[String], e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let shown = matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let first = words.get(1).map_or("", String::as_str);
    let second = words.get(2).map_or("", String::as_str);
    let command = JSON_COMMANDS
        .iter()
        .find(|(a, b, _)| *a == first && (b.is_empty() || *b == second))
        .map(|c| c.2)
        .filter(|_| !shown && words.iter().any(|w| w == "--json"));
    let code = u8::try_from(e.exit_code()).unwrap_or(code::USAGE);
    let _ = e.print();
    if let Some(command) = command {
        let rendered = e.render().to_string();
        let message = rendered.lines().next().unwrap_or_default();
        let _ = output::print_error(&output::ErrorReport {
            schema: output::ERROR_SCHEMA,
            command,
            error: message.strip_prefix("error: ").unwrap_or(message).to_string(),
            exit_code: code,
            location: None,
            in_force: None,
        });
    }
    ExitCode::from(code)
}

/// Whether an error is a closed stdout (`nlaudit list | head -1`): exit quietly.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Maps a command's outcome to the process exit code.
pub fn finish(r: anyhow::Result<ExitCode>) -> ExitCode {
    match r {
        Ok(c) => c,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(report(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_without_audit_is_named() {
        let e = ProtoError::Io {
            op: Op::Open,
            source: std::io::Error::from_raw_os_error(libc::EPROTONOSUPPORT),
        };
        let (c, m) = explain(&e);
        assert_eq!(c, code::FAILED);
        assert!(m.contains("no audit support"), "{m}");
    }

    /// What `--json` reports of an error: the sentence, the code, the FILE:LINE a
    /// `fail_at` carries (through a context too) and the rules a `fail_in_force` lists.
    #[test]
    fn described_errors_keep_location_and_rules_in_force() {
        let e = fail_at(code::USAGE, "a.rules:3".into(), "-F unknown field: uidd");
        let d = describe(&e);
        assert_eq!((d.code, d.message.as_str()), (2, "a.rules:3: -F unknown field: uidd"));
        assert_eq!(d.location.as_deref(), Some("a.rules:3"));
        let e = fail_in_force(130, "load stopped", vec!["-w /etc/passwd -p wa".into()])
            .context("around");
        let d = describe(&e);
        assert_eq!(d.code, 130);
        assert_eq!(d.in_force, Some(vec!["-w /etc/passwd -p wa".to_string()]));
        let d = describe(&anyhow::anyhow!("plain"));
        assert_eq!((d.code, d.location, d.in_force), (code::FAILED, None, None));
    }

    #[test]
    fn exists_and_missing_rules_have_their_codes() {
        let e = ProtoError::Kernel { op: Op::AddRule, errno: Errno::EEXIST };
        assert_eq!(explain(&e), (code::EXISTS, "rule already exists".to_string()));
        let e = ProtoError::Kernel { op: Op::DeleteRule, errno: Errno::ENOENT };
        assert_eq!(explain(&e).0, code::NO_SUCH_RULE);
    }

    /// The PID-namespace advice only where /proc says the process is in a nested one;
    /// elsewhere the causes the machine shows, with the errno and the operation.
    #[test]
    fn eperm_with_the_capability_names_what_is_true() {
        let check = |c: Confinement, has: &[&str], lacks: &[&str]| {
            let m = eperm_with_capability(Op::AddRule, &c);
            for h in has {
                assert!(m.contains(h), "{h:?} in {m}");
            }
            for l in lacks {
                assert!(!m.contains(l), "{l:?} not in {m}");
            }
        };
        let nested = Confinement { nested_pid_namespace: Some(true), ..Confinement::default() };
        check(nested, &["--pid=host", "nested PID namespace", "EPERM"], &["seccomp"]);
        let host = Confinement { nested_pid_namespace: Some(false), ..Confinement::default() };
        check(host, &["initial PID namespace", "security module", "EPERM"], &["--pid=host"]);
        let confined = Confinement {
            nested_pid_namespace: Some(false),
            seccomp_filter: true,
            lsm_label: Some("docker-default (enforce)".into()),
        };
        check(confined, &["`docker-default (enforce)`", "Seccomp 2"], &["--pid=host"]);
        // This test process runs on the host: not nested.
        assert_eq!(Confinement::of_self().nested_pid_namespace, Some(false));
    }
}
