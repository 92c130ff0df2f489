//! `nlaudit auditctl ARGS`, and nlaudit installed as `auditctl` (a symlink: `argv[0]`):
//! Debian's auditctl 3.0.9 for the options that manage rules and status, with its stdout,
//! stderr and exit codes, for scripts (CIS scanners, hardening scripts, augenrules) that
//! shell out to `auditctl` on systems that have none. docs/dropin.md says how to install it.
//!
//! - [`console`]: stdout, stderr and syslog as auditctl uses them;
//! - [`exec`]: one command line (auditctl's `setopt`, `handle_request`, `is_ready`);
//! - [`rules_file`]: `-R FILE`.
//!
//! Exit codes are auditctl's: 0 success; 255 a command line failed; 1 `-R` failed (also no
//! arguments, and no audit socket); 4 not root. Where auditctl misleads, its stdout and exit
//! code are kept and one `nlaudit: ` line on stderr tells what really happened (the kernel
//! refusing requests from a user namespace is reported by auditctl as "The audit system is
//! disabled", sometimes with exit 0). Options nlaudit does not implement (`-m`, `-q`, `-t`,
//! `--signal`) are refused by name with exit 255 before anything is done.

mod console;
mod exec;
mod rules_file;

use std::process::ExitCode;

use nlaudit_proto::{Client, Transport};

use console::Console;
use exec::{Session, EATEN};

use crate::support::errors::{has_capability, CAP_AUDIT_CONTROL};

/// auditctl 3.0.9's `usage()` text (Debian's build: all four long options compiled in).
pub const USAGE: &str = "usage: auditctl [options]
    -a <l,a>                          Append rule to end of <l>ist with <a>ction
    -A <l,a>                          Add rule at beginning of <l>ist with <a>ction
    -b <backlog>                      Set max number of outstanding audit buffers
                                      allowed Default=64
    -c                                Continue through errors in rules
    -C f=f                            Compare collected fields if available:
                                      Field name, operator(=,!=), field name
    -d <l,a>                          Delete rule from <l>ist with <a>ction
                                      l=task,exit,user,exclude,filesystem
                                      a=never,always
    -D                                Delete all rules and watches
    -e [0..2]                         Set enabled flag
    -f [0..2]                         Set failure flag
                                      0=silent 1=printk 2=panic
    -F f=v                            Build rule: field name, operator(=,!=,<,>,<=,
                                      >=,&,&=) value
    -h                                Help
    -i                                Ignore errors when reading rules from file
    -k <key>                          Set filter key on audit rule
    -l                                List rules
    -m text                           Send a user-space message
    -p [r|w|x|a]                      Set permissions filter on watch
                                      r=read, w=write, x=execute, a=attribute
    -q <mount,subtree>                make subtree part of mount point's dir watches
    -r <rate>                         Set limit in messages/sec (0=none)
    -R <file>                         read rules from file
    -s                                Report status
    -S syscall                        Build rule: syscall name or number
    --signal <signal>                 Send the specified signal to the daemon
    -t                                Trim directory watches
    -v                                Version
    -w <path>                         Insert watch at <path>
    -W <path>                         Remove watch at <path>
    --loginuid-immutable              Make loginuids unchangeable once set
    --backlog_wait_time               Set the kernel backlog_wait_time
    --reset-lost                      Reset the lost record counter
    --reset_backlog_wait_time_actual  Reset the actual backlog wait time counter
";

/// Runs auditctl's command line `args` (without `argv[0]`) against the kernel.
pub fn auditctl_dropin(args: Vec<String>) -> anyhow::Result<ExitCode> {
    let privileged =
        has_capability(CAP_AUDIT_CONTROL).unwrap_or_else(|| nix::unistd::geteuid().is_root());
    let mut s = Session::new(Console::process(), Box::new(Client::open));
    let code = run(&mut s, &args, privileged, nix::unistd::geteuid().is_root());
    Ok(ExitCode::from(code))
}

/// Runs the command, then adds the one honest line when the kernel refused a request.
/// `can_control` is `audit_can_control()` (CAP_AUDIT_CONTROL), `euid0` whether euid is 0.
fn run<T: Transport>(s: &mut Session<T>, args: &[String], can_control: bool, euid0: bool) -> u8 {
    let code = auditctl_main(s, args, can_control, euid0);
    if s.refused {
        s.console.note(&refused_explanation());
    }
    code
}

/// auditctl's `main`: usage, the privilege check, `-R FILE`, or one command line.
fn auditctl_main<T: Transport>(
    s: &mut Session<T>,
    args: &[String],
    can_control: bool,
    euid0: bool,
) -> u8 {
    if args.is_empty() {
        s.console.print(USAGE);
        return 1;
    }
    let only = |a: &str| args.len() == 1 && args[0] == a;
    // Help, and listing as euid 0, need no capability.
    let exempt = only("--help") || only("-h") || (only("-l") && euid0);
    if !exempt && !can_control {
        s.console.msg(console::Priority::Warning, "You must be root to run this program.");
        return 4;
    }
    if args.len() == 2 && args[0] == "-R" {
        return rules_file::run(s, &args[1]);
    }
    if !s.open() {
        s.console.msg(console::Priority::Err, "Cannot open netlink audit socket");
        return 1;
    }
    let parsed = s.setopt(args, None);
    if parsed.retval == EATEN {
        return 0;
    }
    if parsed.rule_started && !s.is_ready() {
        return rules_file::not_ready_exit();
    }
    match s.handle_request(parsed) {
        0 => 0,
        _ => {
            // 4.x's main ends a failed command with its epilogue (ECONNREFUSED was said
            // already: "The audit system is disabled").
            let epilogue = crate::support::system::generation().refusal_epilogue();
            if let Some(e) =
                epilogue.filter(|_| s.errno != Some(nlaudit_proto::Errno::ECONNREFUSED))
            {
                s.console.msg(console::Priority::Err, e);
            }
            255
        }
    }
}

/// The truth behind auditctl's "The audit system is disabled" for ECONNREFUSED.
fn refused_explanation() -> String {
    let in_user_namespace = std::fs::read_to_string("/proc/self/uid_map")
        .map(|m| m.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"])
        .unwrap_or(false);
    if in_user_namespace {
        "the kernel refused the audit request with ECONNREFUSED because this process runs \
         in a user namespace other than the initial one; the kernel answers every audit \
         request from such a namespace that way, so nothing here says whether auditing is \
         enabled. Run auditctl in the host's user namespace (docker: --userns=host, not \
         rootless; no `unshare -U`)."
            .to_string()
    } else {
        "the kernel refused the audit request with ECONNREFUSED (auditctl words this as \"The \
         audit system is disabled\"); that does not say whether auditing is enabled."
            .to_string()
    }
}

#[cfg(test)]
mod tests;
