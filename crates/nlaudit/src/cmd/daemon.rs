//! `nlaudit daemon`: the audit daemon (the library is nlaudit-daemon; this is arguments,
//! signals, the pid file and printing). Installed as `auditd` (`argv[0]`) it takes auditd's
//! options (`-f`, `-l`, `-n`, `-s enable|disable|nochange`, `-c DIR`).
//!
//! Start-up: configuration (errors exit 2 with `FILE:LINE: message`), log, DAEMON_START,
//! registration (another live daemon: exit 1 naming it), `-s`/`--enable`, then `--rules`
//! (applied after registration, so that nothing the rules produce is missed), then records
//! until SIGTERM (or SIGINT). SIGHUP reloads, SIGUSR1 rotates, SIGUSR2 resumes, SIGCONT
//! writes the state report. docs/daemon.md is the user documentation.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use nlaudit_daemon::config::{self, Config, ConfigError, Flush, Loaded, LogFormat, SizeAction};
use nlaudit_daemon::daemon::{Daemon, Host, Level, Request};
use nlaudit_daemon::drift::Keeper;
use nlaudit_daemon::receiver::{Receiver, ReceiverError, DEFAULT_RECEIVE_BUFFER};
use nlaudit_proto::{Setting, Switch};

use clap::ValueEnum as _;

use crate::cli::{DaemonArgs, FlushArg, FormatArg, SizeActionArg, Startup};
use crate::support::atomic;
use crate::support::errors::{code, fail};
use crate::support::keeper::RulesKeeper;
use crate::support::syslog::{Sender, LOG_DAEMON, LOG_ERR, LOG_NOTICE, LOG_WARNING};

mod status;

/// Where SIGCONT writes the state report unless `--state-file` says otherwise.
pub const STATE_FILE: &str = "/run/nlaudit-daemon.state";
/// auditd's state file (src/auditd.c), the default when installed as `auditd`.
pub const AUDITD_STATE_FILE: &str = "/var/run/auditd.state";

/// auditd's command line (`getopt("flns:c:")`), for the `auditd` drop-in.
pub fn auditd_args(words: &[String]) -> Result<DaemonArgs> {
    let usage = "usage: auditd [-f] [-l] [-n] [-s disable|enable|nochange] [-c <config_dir>]";
    let mut a = DaemonArgs {
        startup: Startup::Enable,
        background: true,
        state_file: Some(PathBuf::from(AUDITD_STATE_FILE)),
        ..DaemonArgs::default()
    };
    let mut it = words.iter();
    while let Some(w) = it.next() {
        let Some(flags) = w.strip_prefix('-').filter(|f| !f.is_empty()) else {
            return Err(fail(code::USAGE, format!("{w}: unexpected argument\n{usage}")));
        };
        for (i, c) in flags.char_indices() {
            match c {
                'f' | 'n' => a.background = false,
                'l' => {} // follow symlinks for the config: reading does already.
                's' | 'c' => {
                    let rest = &flags[i + c.len_utf8()..];
                    let value = if rest.is_empty() {
                        it.next().cloned().ok_or_else(|| {
                            fail(code::USAGE, format!("-{c} needs a value\n{usage}"))
                        })?
                    } else {
                        rest.to_string()
                    };
                    if c == 's' {
                        a.startup = Startup::from_str(&value, true).map_err(|_| {
                            fail(
                                code::USAGE,
                                format!(
                                    "-s {value}: expected disable, enable or nochange\n{usage}"
                                ),
                            )
                        })?;
                    } else {
                        a.config = Some(Path::new(&value).join("auditd.conf"));
                    }
                    break;
                }
                other => {
                    return Err(fail(code::USAGE, format!("-{other}: unknown option\n{usage}")))
                }
            }
        }
    }
    Ok(a)
}

/// The flags that override the file, applied to a loaded configuration.
fn overridden(mut c: Config, a: &DaemonArgs) -> Result<Config, String> {
    if let Some(f) = &a.log_file {
        c.log_file = config::parse_log_file(f).map_err(|m| format!("--log-file: {m}"))?;
    }
    if let Some(f) = a.log_format {
        c.log_format = match f {
            FormatArg::Raw => LogFormat::Raw,
            FormatArg::Enriched => LogFormat::Enriched,
            FormatArg::Json => LogFormat::Json,
        };
    }
    if let Some(g) = &a.log_group {
        c.log_group = config::parse_group(g, Path::new("/etc/group"))
            .map_err(|m| format!("--log-group: {m}"))?;
    }
    if let Some(f) = a.flush {
        c.flush = match f {
            FlushArg::None => Flush::None,
            FlushArg::Incremental => Flush::Incremental,
            FlushArg::IncrementalAsync => Flush::IncrementalAsync,
            FlushArg::Data => Flush::Data,
            FlushArg::Sync => Flush::Sync,
        };
    }
    if let Some(n) = a.freq {
        c.freq = n;
    }
    if let Some(n) = a.max_log_file {
        c.max_log_file = n;
    }
    if let Some(n) = a.num_logs {
        if n > 999 {
            return Err(format!("--num-logs {n}: at most 999"));
        }
        c.num_logs = n;
    }
    if let Some(s) = a.max_log_file_action {
        c.max_log_file_action = match s {
            SizeActionArg::Ignore => SizeAction::Ignore,
            SizeActionArg::Syslog => SizeAction::Syslog,
            SizeActionArg::Suspend => SizeAction::Suspend,
            SizeActionArg::Rotate => SizeAction::Rotate,
            SizeActionArg::KeepLogs => SizeAction::KeepLogs,
        };
    }
    Ok(c)
}

/// Loads the file and applies the flags; errors are `FILE:LINE: message`.
fn load(a: &DaemonArgs) -> Result<Loaded, ConfigError> {
    let mut loaded = config::load(a.config.as_deref())?;
    let path = loaded.path.clone().unwrap_or_else(|| PathBuf::from("(built-in defaults)"));
    loaded.config = overridden(loaded.config, a).map_err(|message| ConfigError::Line {
        path,
        line: 0,
        message,
    })?;
    Ok(loaded)
}

// Pending signals, one bit each, set by the handler and taken by the loop.
static PENDING: AtomicU32 = AtomicU32::new(0);

/// Signals and the requests they make (auditd's).
const SIGNALS: &[(libc::c_int, Request)] = &[
    (libc::SIGTERM, Request::Stop),
    (libc::SIGINT, Request::Stop),
    (libc::SIGHUP, Request::Reload),
    (libc::SIGUSR1, Request::Rotate),
    (libc::SIGUSR2, Request::Resume),
    (libc::SIGCONT, Request::State),
];

extern "C" fn on_signal(sig: libc::c_int) {
    if let Some(i) = SIGNALS.iter().position(|s| s.0 == sig) {
        PENDING.fetch_or(1 << i, Ordering::SeqCst);
    }
}

fn install_signal_handlers() -> Result<()> {
    for (sig, _) in SIGNALS {
        // SAFETY: the handler only does an atomic fetch_or (async-signal-safe); the
        // sigaction struct is zeroed, then filled; no SA_RESTART, so a blocking call
        // returns EINTR and the loop looks at the request.
        let rc = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(*sig, &sa, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error()).context("cannot install signal handlers");
        }
    }
    Ok(())
}

/// Where notices go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NoticeSink {
    Stderr,
    Syslog,
}

struct CliHost<'a> {
    args: &'a DaemonArgs,
    sink: NoticeSink,
    keeper: Option<RulesKeeper>,
}

impl CliHost<'_> {
    fn say(&self, level: Level, message: &str) {
        let (word, severity) = match level {
            Level::Info => ("notice", LOG_NOTICE),
            Level::Warning => ("warning", LOG_WARNING),
            _ => ("error", LOG_ERR),
        };
        match self.sink {
            NoticeSink::Stderr => {
                let _ = writeln!(std::io::stderr(), "nlaudit daemon: {word}: {message}");
            }
            NoticeSink::Syslog => {
                // What auditd's openlog("auditd", LOG_PID, LOG_DAEMON) makes of it.
                let auditd =
                    Sender { ident: "auditd".into(), facility: LOG_DAEMON, with_pid: true };
                auditd.send(severity, message);
            }
        }
    }
}

impl Host for CliHost<'_> {
    fn next_request(&mut self) -> Option<Request> {
        let bits = PENDING.load(Ordering::SeqCst);
        let i = (0..SIGNALS.len()).find(|i| bits & (1 << i) != 0)?;
        PENDING.fetch_and(!(1 << i), Ordering::SeqCst);
        SIGNALS.get(i).map(|s| s.1)
    }

    fn reload(&mut self) -> Result<Loaded, ConfigError> {
        load(self.args)
    }

    fn notice(&mut self, level: Level, message: &str) {
        self.say(level, message);
    }

    fn keeper(&mut self) -> Option<&mut dyn Keeper> {
        self.keeper.as_mut().map(|k| k as &mut dyn Keeper)
    }

    fn state_report(&mut self, report: &str) {
        let path = self.args.state_file.as_deref().unwrap_or(Path::new(STATE_FILE));
        if path == Path::new("-") {
            for l in report.lines() {
                self.say(Level::Info, l);
            }
            return;
        }
        // Replaced whole (`daemon --status` never reads half a report); auditd writes its
        // state file 0640.
        if let Err(e) = atomic::write_atomic(path, report.as_bytes(), 0o640) {
            self.say(Level::Warning, &format!("cannot write {}: {e}", path.display()));
        }
    }
}

use std::os::unix::fs::OpenOptionsExt as _;

/// The pid file, removed on drop.
struct PidFile(PathBuf);

impl PidFile {
    fn write(path: &Path) -> Result<PidFile> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .with_context(|| format!("cannot write the pid file {}", path.display()))?;
        writeln!(f, "{}", std::process::id())?;
        Ok(PidFile(path.to_path_buf()))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Forks: the parent waits for the child to say it registered, and exits with its verdict.
/// Returns (in the child) the pipe to report on.
fn daemonize() -> Result<std::fs::File> {
    let (r, w) = nix::unistd::pipe().context("pipe")?;
    // SAFETY: called before any thread is started (the log's sync thread starts later), so
    // the child is a copy of a single-threaded process.
    match unsafe { nix::unistd::fork() }.context("fork")? {
        nix::unistd::ForkResult::Parent { .. } => {
            drop(w);
            let mut verdict = [1u8; 1];
            let mut r = std::fs::File::from(r);
            let ok = std::io::Read::read_exact(&mut r, &mut verdict).is_ok() && verdict[0] == 0;
            std::process::exit(if ok { 0 } else { 1 });
        }
        nix::unistd::ForkResult::Child => {
            drop(r);
            let _ = nix::unistd::setsid();
            let _ = std::env::set_current_dir("/");
            if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
                use std::os::fd::AsRawFd;
                for fd in 0..3 {
                    // SAFETY: dup2 onto the standard descriptors of this process.
                    unsafe { libc::dup2(null.as_raw_fd(), fd) };
                }
            }
            Ok(std::fs::File::from(w))
        }
    }
}

/// `nlaudit daemon`.
pub fn run(a: DaemonArgs) -> Result<ExitCode> {
    if a.status {
        return status::run(&a);
    }
    let loaded = load(&a).map_err(|e| fail(code::USAGE, e.to_string()))?;
    let mut report = if a.background { Some(daemonize()?) } else { None };
    let sink = if report.is_some() { NoticeSink::Syslog } else { NoticeSink::Stderr };
    let mut host = CliHost { args: &a, sink, keeper: None };
    for w in &loaded.warnings {
        let file = loaded.path.as_deref().unwrap_or(Path::new("-"));
        host.say(Level::Warning, &format!("{}:{}", file.display(), w));
    }
    install_signal_handlers()?;
    let receiver = Receiver::open(a.buffer_size.unwrap_or(DEFAULT_RECEIVE_BUFFER))
        .map_err(|e| receiver_failure(&e))?;
    let mut daemon =
        Daemon::new(receiver, loaded.config).map_err(|e| fail(code::FAILED, e.to_string()))?;
    let pid_file = match (&a.pid_file, report.is_some()) {
        (Some(p), _) => Some(PidFile::write(p)?),
        // auditd writes /var/run/auditd.pid when it forks.
        (None, true) => Some(PidFile::write(Path::new("/run/auditd.pid"))?),
        (None, false) => None,
    };
    daemon.start(&mut host).map_err(|e| receiver_failure(&e))?;
    let enable = if a.enable { Startup::Enable } else { a.startup };
    if enable != Startup::Nochange {
        let on = enable == Startup::Enable;
        daemon
            .receiver()
            .client()
            .set(Setting::Enabled(if on { Switch::On } else { Switch::Off }))
            .map_err(|e| fail(code::FAILED, format!("cannot set enabled {}: {e}", u8::from(on))))?;
    }
    if let Some(rules) = &a.rules {
        // Checked at once in the loop, after registration: the records of the changes are ours.
        host.keeper = Some(RulesKeeper::new(rules));
        let period = (a.check_interval > 0).then(|| Duration::from_secs(a.check_interval));
        daemon.keep_rules(period);
    }
    if let Some(mut r) = report.take() {
        let _ = r.write_all(&[0]);
    }
    let counters = daemon.run(&mut host).map_err(|e| receiver_failure(&e))?;
    drop(pid_file);
    host.say(Level::Info, &format!("stopped after {} records", counters.records));
    Ok(ExitCode::SUCCESS)
}

fn receiver_failure(e: &ReceiverError) -> anyhow::Error {
    match e {
        ReceiverError::Kernel(k) => {
            let (c, m) = crate::support::errors::explain(k);
            fail(c, m)
        }
        other => fail(code::FAILED, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::parse_size;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn auditd_options() {
        let a = auditd_args(&words("-n -s nochange -c /tmp/x")).expect("parses");
        assert!(!a.background);
        assert_eq!(a.startup, Startup::Nochange);
        assert_eq!(a.config.as_deref(), Some(Path::new("/tmp/x/auditd.conf")));
        let a = auditd_args(&words("-fl -sdisable")).expect("parses");
        assert!(!a.background);
        assert_eq!(a.startup, Startup::Disable);
        let a = auditd_args(&[]).expect("parses");
        assert!(a.background);
        assert_eq!(a.startup, Startup::Enable, "auditd enables by default");
        for bad in ["-x", "-s", "-s maybe", "stray"] {
            assert!(auditd_args(&words(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn flags_override_the_file() {
        let a = DaemonArgs {
            log_file: Some("-".to_string()),
            log_format: Some(FormatArg::Raw),
            num_logs: Some(2),
            ..DaemonArgs::default()
        };
        let c = overridden(Config::default(), &a).expect("valid");
        assert_eq!(c.log_file, config::LogTarget::Stdout);
        assert_eq!(c.log_format, LogFormat::Raw);
        assert_eq!(c.num_logs, 2);
        let bad = DaemonArgs { log_file: Some("rel.log".into()), ..DaemonArgs::default() };
        assert_eq!(
            overridden(Config::default(), &bad).expect_err("relative"),
            "--log-file: log_file rel.log: not an absolute path"
        );
    }
}
