//! The command line (clap derive): a flag's doc comment is its help.

use clap::{Args, Parser, Subcommand};

/// Linux audit client over NETLINK_AUDIT: no auditctl, libaudit or auditd needed.
///
/// Exit codes: 0 success; 1 operation failed; 2 bad usage or rule text; 3 rule already
/// exists; 4 no such rule; 5 not permitted (privileges or namespaces); 6 audit configuration
/// is immutable until reboot. `docker check`: 0 all pass, 1 a control fails (or --verify
/// failed), 2 error.
#[derive(Parser, Debug)]
#[command(name = "nlaudit", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the kernel's audit status, as `auditctl -s` does.
    Status(StatusArgs),
    /// Change audit settings (enabled, failure, rate limit, backlog).
    Set(SetArgs),
    /// List the kernel's audit rules, as `auditctl -l` does.
    List(ListArgs),
    /// Add a rule written as on auditctl's command line, e.g. `add -w /usr/bin/dockerd -k docker`.
    Add(RuleArgs),
    /// Delete a rule written as on auditctl's command line (`-w`/`-a` forms), or all rules.
    Delete(DeleteArgs),
    /// Load rules files (auditctl -R semantics); a directory is merged as augenrules does.
    Load(crate::ruleset_cmd::LoadArgs),
    /// Print the merged rule set of a rules.d directory, as augenrules writes it.
    Merge(crate::ruleset_cmd::MergeArgs),
    /// Make the kernel's rules equal to a rule set, without an audit gap.
    Apply(crate::ruleset_cmd::ApplyArgs),
    /// CIS Docker Benchmark audit controls: check and fix.
    Docker(crate::docker::DockerArgs),
    /// Read audit records from the kernel's multicast group, grouped into events.
    Events(EventsArgs),
    /// Run as the audit daemon: receive the kernel's records and write auditd's log.
    Daemon(crate::daemon_cmd::DaemonArgs),
    /// Behave as auditctl for the given arguments (also when installed as `auditctl`).
    Auditctl(AuditctlArgs),
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Print JSON instead of auditctl's text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct SetArgs {
    /// Turn auditing off (0) or on (1).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=1))]
    pub enabled: Option<u32>,
    /// Lock the audit configuration until reboot (enabled 2). Irreversible.
    #[arg(long)]
    pub lock_until_reboot_irreversibly: bool,
    /// Failure mode: 0 silent, 1 printk. (2, panic, is refused.)
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=1))]
    pub failure: Option<u32>,
    /// Maximum records per second (0 = no limit).
    #[arg(long)]
    pub rate_limit: Option<u32>,
    /// Maximum queued records.
    #[arg(long)]
    pub backlog_limit: Option<u32>,
    /// How long a task waits for backlog space.
    #[arg(long)]
    pub backlog_wait_time: Option<u32>,
    /// Reset the lost-records counter and print its old value.
    #[arg(long)]
    pub reset_lost: bool,
    /// Make the login uid immutable once set (cannot be undone until reboot).
    #[arg(long)]
    pub loginuid_immutable: bool,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only rules whose key contains this text (as `auditctl -l -k`).
    #[arg(long, short = 'k')]
    pub key: Option<String>,
    /// Print JSON: list, action, every field with operator and value, syscalls.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RuleArgs {
    /// The rule, as auditctl's arguments (no `--` needed).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 1.., required = true)]
    pub rule: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// Delete every rule (or, with --key, every rule whose key contains KEY).
    #[arg(long)]
    pub all: bool,
    /// With --all: only rules whose key contains this text.
    #[arg(long, requires = "all")]
    pub key: Option<String>,
    /// The rule to delete, as auditctl's arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub rule: Vec<String>,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Only events with this key (exactly; an event may carry several keys).
    #[arg(long, short = 'k')]
    pub key: Option<String>,
    /// One JSON object per event, one per line (schema: docs/events.md).
    #[arg(long, conflicts_with = "raw")]
    pub json: bool,
    /// The records as auditd writes them (`type=SYSCALL msg=audit(...): ...`), one per line.
    #[arg(long)]
    pub raw: bool,
    /// Stop after N events (exit 1 if --timeout ends the wait first).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Stop after S seconds (fractions allowed).
    #[arg(long, value_name = "S")]
    pub timeout: Option<f64>,
    /// Append events to FILE (created mode 0600) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// With --output: rotate FILE before it would exceed SIZE bytes (K, M, G suffixes;
    /// default 8M).
    #[arg(long, value_name = "SIZE", requires = "output")]
    pub max_size: Option<String>,
    /// With --output: keep N rotated files, FILE.1 (newest) to FILE.N (default 4).
    #[arg(long, value_name = "N", requires = "output")]
    pub keep: Option<u32>,
    /// Socket receive buffer (K, M, G suffixes; default 8M). Raise it if records are lost.
    #[arg(long, value_name = "SIZE")]
    pub buffer_size: Option<String>,
}

#[derive(Args, Debug)]
pub struct AuditctlArgs {
    /// auditctl's arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn rule_needs_no_double_dash() {
        let c = Cli::try_parse_from(["nlaudit", "add", "-w", "/usr/bin/dockerd", "-k", "docker"])
            .expect("parses");
        match c.command {
            Command::Add(a) => assert_eq!(a.rule, ["-w", "/usr/bin/dockerd", "-k", "docker"]),
            other => panic!("parsed as {other:?}"),
        }
        let d = Cli::try_parse_from(["nlaudit", "delete", "--all", "--key", "x"]).expect("parses");
        assert!(matches!(d.command, Command::Delete(DeleteArgs { all: true, .. })));
    }
}
