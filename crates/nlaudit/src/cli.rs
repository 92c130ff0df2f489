//! The command line (clap derive): a flag's doc comment is its help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Linux audit client over NETLINK_AUDIT: no auditctl, libaudit or auditd needed.
///
/// Exit codes: 0 success; 1 operation failed; 2 bad usage or rule text; 3 rule already
/// exists; 4 no such rule; 5 not permitted (privileges or namespaces); 6 audit configuration
/// is immutable until reboot. `docker check`: 0 all pass, 1 a control fails (or --verify
/// failed), 2 error. `apply --dry-run`: 0 in sync, 1 would change, 6 locked and differs.
/// Interrupted (SIGINT, SIGTERM) during load, apply or delete --all: 130, 143. Changing
/// commands wait for one another (NLAUDIT_LOCK_TIMEOUT seconds, default 60).
#[derive(Parser, Debug)]
#[command(name = "nlaudit", version, about, long_about)]
pub struct Cli {
    /// Which auditctl to reproduce: 3 (3.0.9, the default) or 4 (4.2.x). Also
    /// NLAUDIT_AUDITCTL=3|4, or `auditctl = 4` in /etc/nlaudit.conf (NLAUDIT_CONFIG).
    #[arg(long, global = true, value_name = "3|4")]
    pub auditctl: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
// Each subcommand's arguments are built only when it is the one run (or help needs them):
// building all of them cost 110 k instructions of every short command, and dropping them
// 55 k more (callgrind, docs/benchmarks.md, issue 20).
#[command(defer = true)]
pub enum Command {
    /// Print the kernel's audit status, as `auditctl -s` does.
    #[command(after_help = "Examples:\n  nlaudit status\n  nlaudit status --json")]
    Status(StatusArgs),
    /// Change audit settings (enabled, failure, rate limit, backlog).
    #[command(after_help = "Examples:\n  nlaudit set --enabled 1\n  \
        nlaudit set --backlog-limit 8192 --rate-limit 0\n  nlaudit set --reset-lost")]
    Set(SetArgs),
    /// List the kernel's audit rules, as `auditctl -l` does.
    #[command(after_help = "Examples:\n  nlaudit list\n  nlaudit list --key docker\n  \
        nlaudit list --json")]
    List(ListArgs),
    /// Add a rule written as on auditctl's command line, e.g. `add -w /etc/passwd -p wa -k identity`.
    #[command(after_help = "Examples:\n  nlaudit add -w /etc/passwd -p wa -k identity\n  \
        nlaudit add -a always,exit -F arch=b64 -S openat -F exit=-EACCES -k access\n  \
        nlaudit add -A exit,never -F path=/tmp/noise")]
    Add(RuleArgs),
    /// Delete a rule written as on auditctl's command line (`-w`/`-a` forms), or all rules.
    #[command(after_help = "Examples:\n  nlaudit delete -w /etc/passwd -p wa -k identity\n  \
        nlaudit delete -a always,exit -F arch=b64 -S openat -F key=access\n  \
        nlaudit delete --all --key identity")]
    Delete(DeleteArgs),
    /// Load rules files (auditctl -R semantics); a directory is merged as augenrules does.
    #[command(after_help = "Examples:\n  nlaudit load /etc/audit/rules.d\n  \
        nlaudit load -c site.rules extra.rules")]
    Load(LoadArgs),
    /// Print the merged rule set of a rules.d directory, as augenrules writes it.
    #[command(after_help = "Examples:\n  nlaudit merge /etc/audit/rules.d\n  \
        nlaudit merge /etc/audit/rules.d > /etc/audit/audit.rules")]
    Merge(MergeArgs),
    /// Make the kernel's rules equal to a rule set, without an audit gap.
    #[command(after_help = "Examples:\n  nlaudit apply --dry-run\n  \
        nlaudit apply /etc/audit/rules.d\n  nlaudit apply --json site.rules")]
    Apply(ApplyArgs),
    /// CIS Docker Benchmark audit controls: check and fix.
    #[command(after_help = "Examples:\n  nlaudit docker check\n  nlaudit docker ensure --dry-run")]
    Docker(DockerArgs),
    /// Check compliance profiles (CIS Linux, STIG, CIS Docker, your own): exit 0 all pass,
    /// 1 a control fails, 2 error.
    #[command(after_help = "Examples:\n  nlaudit check --list-profiles\n  \
        nlaudit check --profile cis-linux\n  nlaudit check --profile stig-rhel9 --json\n  \
        nlaudit check --profile cis-docker --root /mnt/image")]
    Check(ProfileCheckArgs),
    /// Add what compliance profiles need to the kernel and persist it (idempotent).
    #[command(after_help = "Examples:\n  nlaudit ensure --profile cis-linux --dry-run\n  \
        nlaudit ensure --profile cis-docker --enable")]
    Ensure(ProfileEnsureArgs),
    /// Read audit records from the kernel's multicast group, grouped into events.
    #[command(after_help = "Examples:\n  nlaudit events --key identity\n  \
        nlaudit events --json --count 10 --timeout 30\n  \
        nlaudit events --raw --output /var/log/nlaudit/events.log --max-size 50M")]
    Events(EventsArgs),
    /// Run as the audit daemon: receive the kernel's records and write auditd's log.
    #[command(after_help = "Examples:\n  nlaudit daemon --rules /etc/audit/rules.d --enable\n  \
        nlaudit daemon --log-file - --log-format json\n  nlaudit daemon --status")]
    Daemon(DaemonArgs),
    /// Behave as auditctl for the given arguments (also when installed as `auditctl`).
    #[command(after_help = "Examples:\n  nlaudit auditctl -l\n  nlaudit auditctl -s\n  \
        ln -s /usr/sbin/nlaudit /usr/local/sbin/auditctl && auditctl -w /etc/shadow -k shadow")]
    Auditctl(AuditctlArgs),
    /// Write the man pages or a shell completion script (packaging; `generate` feature).
    #[cfg(feature = "generate")]
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// `nlaudit generate ...` (the `generate` feature: `cargo xtask dist` builds with it).
#[cfg(feature = "generate")]
#[derive(Args, Debug)]
pub struct GenerateArgs {
    #[command(subcommand)]
    pub what: GenerateWhat,
}

/// What `nlaudit generate` writes.
#[cfg(feature = "generate")]
#[derive(Subcommand, Debug)]
pub enum GenerateWhat {
    /// One man page per command (section 8), `nlaudit.8`, `nlaudit-add.8`, ..., into DIR.
    Man {
        /// The directory to write the pages into (created if missing).
        dir: PathBuf,
    },
    /// The completion script for SHELL, on standard output.
    Completion {
        /// The shell (bash, zsh and fish are shipped).
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
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
    /// Print one JSON object: the settings changed and the status after (docs/json.md).
    #[arg(long)]
    pub json: bool,
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
    /// Print one JSON object: the rule as `list` prints it (give --json before the rule).
    #[arg(long)]
    pub json: bool,
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
    /// Print one JSON object: the rule deleted, or with --all the counts (give --json
    /// before the rule).
    #[arg(long)]
    pub json: bool,
    /// The rule to delete, as auditctl's arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub rule: Vec<String>,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Only events with this key (exactly; an event may carry several keys).
    #[arg(long, short = 'k')]
    pub key: Option<String>,
    /// One JSON object per event, one per line (schema: events.md in /usr/share/doc/nlaudit).
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

    /// Every `nlaudit ...` line of every command's examples parses, and the rules in the
    /// `add` and `delete` examples are rules auditctl would send.
    #[test]
    fn help_examples_parse() {
        use clap::CommandFactory;
        fn walk(cmd: &clap::Command, lines: &mut Vec<String>) {
            if let Some(help) = cmd.get_after_help() {
                lines.extend(help.to_string().lines().map(|l| l.trim().to_string()));
            }
            for sub in cmd.get_subcommands() {
                walk(sub, lines);
            }
        }
        let mut lines = Vec::new();
        walk(&Cli::command(), &mut lines);
        let examples: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("nlaudit ").map(|_| l.as_str()))
            .map(|l| l.split(" > ").next().unwrap_or(l))
            .collect();
        assert!(examples.len() >= 30, "{examples:?}");
        let env = nlaudit_rules::NoEnv;
        let mut ctx = nlaudit_rules::Context::new(&env);
        ctx.machine = nlaudit_rules::Machine::X86_64;
        for example in examples {
            let words: Vec<&str> = example.split_whitespace().collect();
            let cli = Cli::try_parse_from(&words).unwrap_or_else(|e| panic!("{example}: {e}"));
            if let Command::Add(RuleArgs { rule, .. }) | Command::Delete(DeleteArgs { rule, .. }) =
                &cli.command
            {
                if !rule.is_empty() {
                    let parsed = nlaudit_rules::parse_command(rule, &ctx);
                    assert!(parsed.is_ok(), "{example}: {parsed:?}");
                }
            }
        }
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

/// `nlaudit load FILE|DIR...`.
#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Rules files (run as `auditctl -R` runs them) or rules.d directories (merged as
    /// augenrules merges them, then run).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Continue after an error and fail at the end (as a `-c` line).
    #[arg(short = 'c', long)]
    pub continue_on_error: bool,
    /// Ignore errors (as an `-i` line).
    #[arg(short = 'i', long)]
    pub ignore_errors: bool,
    /// How augenrules' awk reads `\s` when merging a directory.
    #[arg(long, value_enum, default_value_t)]
    pub awk: AwkChoice,
    /// Print one JSON object: the counts, the notes, and after a stop the error, its
    /// FILE:LINE and the rules in force.
    #[arg(long)]
    pub json: bool,
}

/// `nlaudit merge DIR`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The rules.d directory.
    pub dir: PathBuf,
    /// How augenrules' awk reads `\s` (auto: the awk this machine's augenrules runs).
    #[arg(long, value_enum, default_value_t)]
    pub awk: AwkChoice,
    /// Check every rule of the merged set against this machine's syscall tables (aarch64,
    /// arm, riscv64, ppc64le, s390x, x86_64, i386, ...): a rule that does not parse there
    /// is an error naming its FILE:LINE, and nothing is printed (exit 2).
    #[arg(long, value_name = "ARCH")]
    pub machine: Option<String>,
    /// Print one JSON object: the files merged and the merged text.
    #[arg(long)]
    pub json: bool,
}

/// `nlaudit apply [DIR|FILE]`.
#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// Rules file or rules.d directory.
    #[arg(default_value = "/etc/audit/rules.d")]
    pub path: PathBuf,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Skip lines that fail (parse errors, duplicates) and exit 1 (as a `-c` line).
    #[arg(short = 'c', long)]
    pub continue_on_error: bool,
    /// Skip lines that fail (as an `-i` line).
    #[arg(short = 'i', long)]
    pub ignore_errors: bool,
    /// How augenrules' awk reads `\s` when merging a directory.
    #[arg(long, value_enum, default_value_t)]
    pub awk: AwkChoice,
    /// Replace the rules in force that the other auditctl generation compiled from a line
    /// of the set (auditctl 4.x expands `-F arch=.. -F perm=..` into syscalls, 3.0.9 does
    /// not) by this generation's form; without it they are kept as that line, with a note.
    #[arg(long, conflicts_with = "watch")]
    pub rewrite_other_generation: bool,
    /// Report the plan and the outcome as one JSON object on standard output (with
    /// --watch: one JSON object per line for each drift and repair).
    #[arg(long)]
    pub json: bool,
    /// Keep the set in force until SIGINT/SIGTERM: repair after each rule change the kernel
    /// multicasts (CONFIG_CHANGE), when the files change, when a path a skipped rule needs
    /// appears, and every --check-interval (for machines where auditd is the daemon).
    #[arg(long, conflicts_with = "dry_run")]
    pub watch: bool,
    /// With --watch: seconds between backstop checks (0: none).
    #[arg(long, value_name = "SECS", default_value_t = 60, requires = "watch")]
    pub check_interval: u64,
}

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

/// `nlaudit docker ...`.
#[derive(Args, Debug)]
pub struct DockerArgs {
    #[command(subcommand)]
    pub command: DockerCommand,
}

/// The docker subcommands.
#[derive(Subcommand, Debug)]
pub enum DockerCommand {
    /// Check the CIS Docker audit controls (exit 0 all pass, 1 one fails, 2 error).
    #[command(
        after_help = "Examples:\n  nlaudit docker check\n  nlaudit docker check --verify\n  \
        nlaudit docker check --json --root /mnt/image"
    )]
    Check(CheckArgs),
    /// Add the missing watches to the kernel and persist them (idempotent).
    #[command(after_help = "Examples:\n  nlaudit docker ensure --dry-run\n  \
        nlaudit docker ensure --enable\n  nlaudit docker ensure --root /mnt/image")]
    Ensure(EnsureArgs),
}

/// `nlaudit docker check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Print JSON (schema: docker.md in /usr/share/doc/nlaudit).
    #[arg(long)]
    pub json: bool,
    /// Check the image tree mounted at DIR instead of this machine: paths and
    /// DIR/etc/audit/rules.d, no kernel access.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// With --root: parse the image's rules files (and a profile's requirements) with
    /// this machine's syscall tables and arches (aarch64, arm, riscv64, ppc64le, s390x,
    /// x86_64, i386, ...), so a rule that cannot load there (`-S open` on aarch64) is
    /// reported with its FILE:LINE before the image boots.
    #[arg(long, value_name = "ARCH", requires = "root")]
    pub machine: Option<String>,
    /// Also prove that each control's rule records: execute the binaries harmlessly
    /// (`dockerd --version`, `runc --version`, ...) and open the other files for reading,
    /// then wait up to 5 s for each event on the audit multicast group (needs CAP_AUDIT_READ;
    /// changes no rule or setting; exit 1 if an event does not come).
    #[arg(long, conflicts_with = "root")]
    pub verify: bool,
}

/// `nlaudit docker ensure`.
#[derive(Args, Debug)]
pub struct EnsureArgs {
    /// Print what would be done and change nothing (exit 1 if something would change).
    #[arg(long)]
    pub dry_run: bool,
    /// Persist in this rules file instead of /etc/audit/rules.d/docker.rules (inside DIR
    /// with --root).
    #[arg(long, value_name = "PATH")]
    pub rules_file: Option<PathBuf>,
    /// Change only the kernel's rules; write no file.
    #[arg(long, conflicts_with_all = ["rules_file", "root"])]
    pub no_persist: bool,
    /// Turn auditing on (enabled 1) if it is off.
    #[arg(long, conflicts_with = "root")]
    pub enable: bool,
    /// Fix the image tree mounted at DIR: write DIR/etc/audit/rules.d/docker.rules, no
    /// kernel access.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Print one JSON object: the plan, what became of it, and the check after.
    #[arg(long)]
    pub json: bool,
}

/// `nlaudit check`.
#[derive(Args, Debug)]
pub struct ProfileCheckArgs {
    /// A profile: a built-in name (see --list-profiles) or a profile file, optionally
    /// `:VARIANT` (e.g. `cis-linux:debian`; default: chosen from /etc/os-release).
    /// Repeatable.
    #[arg(long, value_name = "NAME|FILE", required_unless_present = "list_profiles")]
    pub profile: Vec<String>,
    /// List the built-in profiles and exit.
    #[arg(long, conflicts_with_all = ["profile", "root"])]
    pub list_profiles: bool,
    /// Print JSON (schema 1: profiles.md in /usr/share/doc/nlaudit).
    #[arg(long)]
    pub json: bool,
    /// Check the image tree mounted at DIR instead of this machine: its rules files only,
    /// no kernel access.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// With --root: parse the image's rules files (and a profile's requirements) with
    /// this machine's syscall tables and arches (aarch64, arm, riscv64, ppc64le, s390x,
    /// x86_64, i386, ...), so a rule that cannot load there (`-S open` on aarch64) is
    /// reported with its FILE:LINE before the image boots.
    #[arg(long, value_name = "ARCH", requires = "root")]
    pub machine: Option<String>,
    /// Read the persisted rules from this rules.d directory (inside DIR with --root)
    /// instead of what auditd.service loads at boot.
    #[arg(long, value_name = "DIR")]
    pub rules_dir: Option<String>,
}

/// `nlaudit ensure`.
#[derive(Args, Debug)]
pub struct ProfileEnsureArgs {
    /// A profile, as for `check --profile`. Repeatable; each is persisted in its own file,
    /// RULES_DIR/nlaudit-NAME.rules.
    #[arg(long, value_name = "NAME|FILE", required = true)]
    pub profile: Vec<String>,
    /// Print what would be done and change nothing (exit 1 if something would change).
    #[arg(long)]
    pub dry_run: bool,
    /// Turn auditing on (enabled 1) if it is off. (-e 2 is only ever persisted: nlaudit
    /// never locks the configuration live.)
    #[arg(long, conflicts_with = "root")]
    pub enable: bool,
    /// Fix the image tree mounted at DIR: write DIR/etc/audit/rules.d, no kernel access.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// With --root: parse the image's rules files (and a profile's requirements) with
    /// this machine's syscall tables and arches (aarch64, arm, riscv64, ppc64le, s390x,
    /// x86_64, i386, ...), so a rule that cannot load there (`-S open` on aarch64) is
    /// reported with its FILE:LINE before the image boots.
    #[arg(long, value_name = "ARCH", requires = "root")]
    pub machine: Option<String>,
    /// Persist in (and read the persisted rules from) this rules.d directory instead of
    /// /etc/audit/rules.d (inside DIR with --root).
    #[arg(long, value_name = "DIR")]
    pub rules_dir: Option<String>,
    /// Print one JSON object: the plan, what became of it, and the check after.
    #[arg(long)]
    pub json: bool,
}

/// `log_format`, as a flag.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// auditd's RAW.
    Raw,
    /// auditd's ENRICHED.
    Enriched,
    /// One JSON event per line (events.md in /usr/share/doc/nlaudit).
    Json,
}

/// `flush`, as a flag.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FlushArg {
    /// No sync.
    None,
    /// fdatasync every --freq records.
    Incremental,
    /// fdatasync every --freq records, in the background.
    IncrementalAsync,
    /// O_DSYNC.
    Data,
    /// O_SYNC.
    Sync,
}

/// `max_log_file_action`, as a flag.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SizeActionArg {
    /// Nothing.
    Ignore,
    /// Report it.
    Syslog,
    /// Stop writing until SIGUSR2.
    Suspend,
    /// Rotate.
    Rotate,
    /// Rotate without deleting.
    KeepLogs,
}

/// auditd's `-s`: the `enabled` setting at start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Startup {
    /// Leave `enabled` as it is.
    #[default]
    Nochange,
    /// Set enabled 1.
    Enable,
    /// Set enabled 0.
    Disable,
}

#[derive(Args, Debug, Default)]
pub struct DaemonArgs {
    /// auditd.conf to read (default /etc/audit/auditd.conf when it exists, else built-in
    /// defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log file, or `-` for standard output (overrides log_file).
    #[arg(long, value_name = "FILE|-")]
    pub log_file: Option<String>,
    /// Log format (overrides log_format).
    #[arg(long, value_enum)]
    pub log_format: Option<FormatArg>,
    /// Group that may read the logs, name or number (overrides log_group).
    #[arg(long, value_name = "GROUP")]
    pub log_group: Option<String>,
    /// Flush mode (overrides flush).
    #[arg(long, value_enum)]
    pub flush: Option<FlushArg>,
    /// Records between syncs for the incremental flushes (overrides freq).
    #[arg(long)]
    pub freq: Option<u32>,
    /// Rotate (or act) when the log reaches this many MB (overrides max_log_file).
    #[arg(long, value_name = "MB")]
    pub max_log_file: Option<u64>,
    /// Log files in all, the current one included (overrides num_logs).
    #[arg(long)]
    pub num_logs: Option<u32>,
    /// What to do at max_log_file (overrides max_log_file_action).
    #[arg(long, value_enum)]
    pub max_log_file_action: Option<SizeActionArg>,
    /// Write the daemon's pid to FILE (removed at exit).
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Where SIGCONT writes the state report, or `-` for standard error (default
    /// /run/nlaudit-daemon.state; as auditd, /var/run/auditd.state). With --status: the
    /// report to read (default: the running daemon's).
    #[arg(long, value_name = "FILE|-")]
    pub state_file: Option<PathBuf>,
    /// Keep this rules file or rules.d directory in force (as `nlaudit apply`, after
    /// registering): repaired after a rule change the kernel reports, when the files
    /// change, when a path a skipped rule needs appears, and every --check-interval.
    #[arg(long, value_name = "DIR|FILE")]
    pub rules: Option<PathBuf>,
    /// With --rules: seconds between backstop checks of the rules in force (0: none).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub check_interval: u64,
    /// Set enabled 1 after registering (as auditd's `-s enable`).
    #[arg(long)]
    pub enable: bool,
    /// The `enabled` setting at start (auditd's -s).
    #[arg(long, value_enum, default_value_t = Startup::Nochange)]
    pub startup: Startup,
    /// Socket receive buffer in bytes (K, M, G suffixes; default 64M).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub buffer_size: Option<usize>,
    /// Print the running daemon's state and exit: the rule set kept, rules in force and
    /// expected, skipped rules, repairs, the log and its counts. Sends SIGCONT to the
    /// registered daemon (or the one in --pid-file) and waits for its fresh state report.
    /// Exit 0 printed, 1 no report came, 3 no audit daemon runs, 4 it is not nlaudit.
    #[arg(long)]
    pub status: bool,
    /// With --status: print JSON (schema 1: json.md in /usr/share/doc/nlaudit).
    #[arg(long, requires = "status")]
    pub json: bool,
    /// Run in the background (fork; the parent exits once the daemon is registered).
    #[arg(skip)]
    pub background: bool,
}

/// A byte size with an optional K, M or G suffix (`--buffer-size`).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let (num, mult) = match s.trim_end_matches(['B', 'b']).trim_end_matches('i') {
        t if t.ends_with(['K', 'k']) => (&t[..t.len() - 1], 1usize << 10),
        t if t.ends_with(['M', 'm']) => (&t[..t.len() - 1], 1 << 20),
        t if t.ends_with(['G', 'g']) => (&t[..t.len() - 1], 1 << 30),
        t => (t, 1),
    };
    num.parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{s:?}: expected a size such as 65536, 512K or 64M"))
}
