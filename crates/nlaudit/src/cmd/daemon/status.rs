//! `nlaudit daemon --status`: finds the running daemon, makes it write its state report
//! (SIGCONT, as `auditctl --signal CONT` does for auditd), waits for the fresh report and
//! prints it.
//!
//! Decide, do, say: [`locate`] finds the daemon (the pid the kernel has registered, or
//! `--pid-file`) and where it writes its report (its own command line says: `--state-file`,
//! else the default; read through `/proc/PID/root`, so a daemon in a container is reached
//! from the node too); [`fetch`] signals and waits for a report other than the one already
//! there, from that pid; [`render`] and [`StatusJson`] say what it holds.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Parser as _;
use nlaudit_daemon::state::StateReport;
use serde::Serialize;

use super::{auditd_args, STATE_FILE};
use crate::cli::{Cli, Command, DaemonArgs};
use crate::support::errors::{code, fail};
use crate::support::{output, session};

/// How long the daemon has to write its report (its loop looks at signals at least every
/// 200 ms; a check of the rules in progress may hold it a little longer).
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// How often the state file is looked at while waiting.
const POLL: Duration = Duration::from_millis(20);

/// `--status` exit codes beyond the common ones (LSB's for `status`: 3 program is not
/// running, 4 status unknown).
pub mod exit {
    /// No audit daemon is registered, or the registered pid is gone.
    pub const NOT_RUNNING: u8 = 3;
    /// The registered daemon is not nlaudit (auditd, or another program).
    pub const NOT_NLAUDIT: u8 = 4;
}

/// A string found in every nlaudit binary and in no auditd (the report's first key), for a
/// copy of nlaudit installed under another name.
const MARKER: &[u8] = b"nlaudit daemon version";

/// What the process behind the registered pid is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// An nlaudit binary: this one, one named `nlaudit*`, or a copy under another name.
    Nlaudit,
    /// Something else, by its `comm`.
    Other {
        /// `/proc/PID/comm`.
        comm: String,
    },
}

/// The daemon found, and where its report is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Its pid.
    pub pid: u32,
    /// The state file, as the daemon names it.
    pub state_file: PathBuf,
    /// The same file, as this process reaches it.
    pub read_from: PathBuf,
}

/// Why no fresh report was read.
#[derive(Debug)]
pub enum FetchError {
    /// SIGCONT could not be sent.
    Signal(io::Error),
    /// The daemon exited while we waited.
    Gone,
    /// No new report from the daemon within the timeout; the last thing seen, if any.
    Timeout(Option<String>),
}

/// `/proc/PID/comm`, or `?`.
fn comm(proc_dir: &Path) -> String {
    fs::read_to_string(proc_dir.join("comm")).map_or_else(|_| "?".into(), |c| c.trim().into())
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, _)) = needle.split_first() else { return true };
    hay.iter()
        .enumerate()
        .any(|(i, &b)| b == first && hay.get(i..i + needle.len()).is_some_and(|w| w == needle))
}

/// What runs as `proc_dir` (`/proc/PID`): this binary (the same file), a binary named
/// `nlaudit*`, or a file holding nlaudit's [`MARKER`] (a copy installed as `auditd`).
pub fn identify(proc_dir: &Path, this_exe: &Path) -> Identity {
    let exe = proc_dir.join("exe");
    let named_nlaudit = fs::read_link(&exe)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().starts_with("nlaudit")))
        .unwrap_or(false);
    if same_file(&exe, this_exe)
        || named_nlaudit
        || fs::read(&exe).is_ok_and(|bytes| contains(&bytes, MARKER))
    {
        return Identity::Nlaudit;
    }
    Identity::Other { comm: comm(proc_dir) }
}

/// The arguments the daemon at `proc_dir` runs with (`auditd`'s, or `nlaudit daemon`'s);
/// the defaults when its command line does not read.
fn daemon_args(proc_dir: &Path) -> DaemonArgs {
    let raw = fs::read(proc_dir.join("cmdline")).unwrap_or_default();
    let words: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let Some((argv0, rest)) = words.split_first() else { return DaemonArgs::default() };
    if Path::new(argv0).file_name().is_some_and(|n| n == "auditd") {
        return auditd_args(rest).unwrap_or_else(|_| auditd_args(&[]).unwrap_or_default());
    }
    match Cli::try_parse_from(&words) {
        Ok(Cli { command: Command::Daemon(a), .. }) => a,
        _ => DaemonArgs::default(),
    }
}

/// Where the daemon `pid` (at `proc_dir`) writes its state report: `explicit` when given,
/// else what its command line says (resolved against its working directory, read through
/// its root).
pub fn locate(proc_dir: &Path, pid: u32, explicit: Option<&Path>) -> Result<Target> {
    if let Some(p) = explicit {
        return Ok(Target { pid, state_file: p.to_path_buf(), read_from: p.to_path_buf() });
    }
    let path = daemon_args(proc_dir).state_file.unwrap_or_else(|| PathBuf::from(STATE_FILE));
    if path == Path::new("-") {
        return Err(fail(
            code::FAILED,
            format!(
                "the daemon (pid {pid}) writes its state report to standard error \
                 (--state-file -): read it in its log (journalctl, kubectl logs) after \
                 `kill -CONT {pid}`, or restart it with --state-file FILE"
            ),
        ));
    }
    let path = if path.is_relative() {
        fs::read_link(proc_dir.join("cwd")).unwrap_or_else(|_| PathBuf::from("/")).join(path)
    } else {
        path
    };
    let inside = path.strip_prefix("/").unwrap_or(&path);
    Ok(Target { pid, read_from: proc_dir.join("root").join(inside), state_file: path })
}

/// Sends the signal (`signal`) and waits up to `timeout` for a report in the state file
/// that differs from the one there before and comes from the target's pid (each report
/// has its own number, so a fresh one always differs). The daemon replaces the file whole.
pub fn fetch(
    t: &Target,
    signal: &mut dyn FnMut() -> io::Result<()>,
    alive: &dyn Fn() -> bool,
    timeout: Duration,
) -> Result<StateReport, FetchError> {
    let before = fs::read(&t.read_from).ok();
    signal().map_err(FetchError::Signal)?;
    let start = Instant::now();
    let mut last = None;
    loop {
        if let Ok(now) = fs::read(&t.read_from) {
            if before.as_ref() != Some(&now) {
                match StateReport::parse(&String::from_utf8_lossy(&now)) {
                    Ok(r) if r.pid == t.pid => return Ok(r),
                    Ok(r) => last = Some(format!("a report from pid {}", r.pid)),
                    Err(e) => last = Some(e.to_string()),
                }
            }
        }
        if !alive() {
            return Err(FetchError::Gone);
        }
        if start.elapsed() >= timeout {
            return Err(FetchError::Timeout(last));
        }
        std::thread::sleep(POLL);
    }
}

/// `--status --json` (schema 1: docs/schemas/daemon-status.schema.json).
#[derive(Debug, Serialize)]
pub struct StatusJson<'a> {
    /// The schema version.
    pub schema: u32,
    /// The state file, as the daemon names it.
    pub state_file: String,
    /// The report.
    pub report: &'a StateReport,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The report for people.
pub fn render(t: &Target, r: &StateReport) -> String {
    let mut s = String::new();
    let mut line = |k: &str, v: String| s.push_str(&format!("{k:<14}{v}\n"));
    line(
        "daemon:",
        format!(
            "nlaudit {}, pid {} (state report {}, {})",
            r.version,
            r.pid,
            r.number,
            t.state_file.display()
        ),
    );
    match &r.log {
        None => line("log:", "not written (write_logs = no)".into()),
        Some(l) => {
            let limit =
                if l.max_size_kb == 0 { String::new() } else { format!(" of {}", l.max_size_kb) };
            let mut v = format!(
                "{} ({}, {} KB{limit}, {})",
                l.file,
                r.log_format,
                l.size_kb,
                plural(l.rotations, "rotation", "rotations")
            );
            if l.suspended {
                v.push_str("; logging SUSPENDED (SIGUSR2 resumes)");
            }
            line("log:", v);
        }
    }
    let (written, unwritten) =
        r.log.as_ref().map_or((0, 0), |l| (l.lines_written, l.records_not_written));
    line(
        "records:",
        format!(
            "{} received, {written} lines written, {unwritten} not written; kernel lost {} \
             since start, {} receive buffer overruns",
            r.records_received, r.kernel_lost_since_start, r.receive_buffer_overruns
        ),
    );
    let Some(k) = &r.rules else {
        line("rule set:", "none kept (no --rules)".into());
        return s;
    };
    if let Some(set) = &k.set {
        line("rule set:", format!("{} ({})", set.source, plural(set.files, "file", "files")));
        line("rules:", format!("{} in force, {} expected", set.in_force, set.expected));
        line("last check:", set.last_check.clone());
    }
    let period =
        k.check_period_secs.map_or("backstop off".to_string(), |p| format!("backstop every {p} s"));
    line(
        "repairs:",
        format!(
            "{} ({} found in {}, {} failed); {period}",
            k.repairs,
            plural(k.drifts, "drift", "drifts"),
            plural(k.checks, "check", "checks"),
            k.repairs_failed
        ),
    );
    if let Some(h) = k.held_back_secs {
        line("held back:", format!("{h} s more: another agent keeps removing rules"));
    }
    if let Some(set) = &k.set {
        line("skipped:", plural(set.skipped.len() as u64, "rule", "rules"));
        for sk in &set.skipped {
            s.push_str(&format!("  {sk}\n"));
        }
        for w in &set.watching {
            s.push_str(&format!("  (watching for paths under {w})\n"));
        }
    }
    s
}

/// The pid of the daemon to ask: `--pid-file`'s, else the one the kernel has registered.
fn daemon_pid(a: &DaemonArgs) -> Result<u32> {
    let pid = match &a.pid_file {
        Some(p) => {
            let text = fs::read_to_string(p).map_err(|e| {
                fail(code::FAILED, format!("cannot read the pid file {}: {e}", p.display()))
            })?;
            text.trim().parse::<u32>().map_err(|_| {
                fail(code::FAILED, format!("{}: {:?} is not a pid", p.display(), text.trim()))
            })?
        }
        None => session::open()?.status()?.pid,
    };
    if pid == 0 {
        return Err(fail(
            exit::NOT_RUNNING,
            "no audit daemon is registered with the kernel (AUDIT_GET pid 0): \
             start one with `nlaudit daemon`",
        ));
    }
    Ok(pid)
}

/// `nlaudit daemon --status [--json] [--state-file FILE] [--pid-file FILE]`.
pub fn run(a: &DaemonArgs) -> Result<ExitCode> {
    if a.json {
        output::json_for("daemon --status");
    }
    let pid = daemon_pid(a)?;
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    if !proc_dir.exists() {
        return Err(fail(
            exit::NOT_RUNNING,
            format!(
                "the registered audit daemon, pid {pid}, is gone (killed without \
                 unregistering); the next daemon to start takes over"
            ),
        ));
    }
    let this = fs::read_link("/proc/self/exe").unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    if let Identity::Other { comm } = identify(&proc_dir, &this) {
        let hint = if comm == "auditd" {
            format!(
                "; auditd writes its own state report to {} on `auditctl --signal CONT`",
                super::AUDITD_STATE_FILE
            )
        } else {
            String::new()
        };
        return Err(fail(
            exit::NOT_NLAUDIT,
            format!("the registered audit daemon is not nlaudit: pid {pid} ({comm}){hint}"),
        ));
    }
    let target = locate(&proc_dir, pid, a.state_file.as_deref())?;
    let nix_pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
    let mut signal = || {
        nix::sys::signal::kill(nix_pid, nix::sys::signal::Signal::SIGCONT).map_err(io::Error::from)
    };
    let alive = || proc_dir.exists();
    let report = fetch(&target, &mut signal, &alive, TIMEOUT).map_err(|e| match e {
        FetchError::Signal(e) if e.kind() == io::ErrorKind::PermissionDenied => fail(
            code::NOT_PERMITTED,
            format!("cannot send SIGCONT to the daemon (pid {pid}): {e}; run as root"),
        ),
        FetchError::Signal(e) => {
            fail(code::FAILED, format!("cannot send SIGCONT to the daemon (pid {pid}): {e}"))
        }
        FetchError::Gone => {
            fail(exit::NOT_RUNNING, format!("the daemon (pid {pid}) exited before it reported"))
        }
        FetchError::Timeout(last) => fail(
            code::FAILED,
            format!(
                "the daemon (pid {pid}) wrote no new state report to {} within {} s{}",
                target.state_file.display(),
                TIMEOUT.as_secs(),
                last.map(|l| format!(" (read: {l})")).unwrap_or_default()
            ),
        ),
    })?;
    if a.json {
        let j = StatusJson {
            schema: 1,
            state_file: target.state_file.display().to_string(),
            report: &report,
        };
        output::print_json(&j)?;
    } else {
        let mut out = output::stdout();
        out.write_all(render(&target, &report).as_bytes())?;
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nlaudit_daemon::state::{KeepingReport, LogReport, RuleSetReport};

    struct Dir(PathBuf);
    impl Dir {
        fn new(tag: &str) -> Dir {
            let d =
                std::env::temp_dir().join(format!("nlaudit-status-{}-{tag}", std::process::id()));
            let _ = fs::remove_dir_all(&d);
            fs::create_dir_all(&d).expect("dir");
            Dir(d)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// A fake `/proc/PID`: comm, exe (a link), cmdline.
    fn fake_proc(d: &Dir, comm: &str, exe: &Path, cmdline: &[&str]) -> PathBuf {
        let p = d.0.join("proc");
        fs::create_dir_all(&p).expect("proc");
        fs::write(p.join("comm"), format!("{comm}\n")).expect("comm");
        std::os::unix::fs::symlink(exe, p.join("exe")).expect("exe");
        let mut raw = Vec::new();
        for w in cmdline {
            raw.extend_from_slice(w.as_bytes());
            raw.push(0);
        }
        fs::write(p.join("cmdline"), raw).expect("cmdline");
        std::os::unix::fs::symlink("/tmp", p.join("cwd")).expect("cwd");
        p
    }

    #[test]
    fn identifies_nlaudit_and_others() {
        let me = std::env::current_exe().expect("exe");
        let d = Dir::new("id");
        let p = fake_proc(&d, "nlaudit", &me, &[]);
        assert_eq!(identify(&p, &me), Identity::Nlaudit, "the same file");
        let d = Dir::new("id2");
        let p = fake_proc(&d, "auditd", Path::new("/bin/true"), &[]);
        assert_eq!(identify(&p, &me), Identity::Other { comm: "auditd".into() });
        // A copy under another name holds the marker.
        let d = Dir::new("id3");
        let copy = d.0.join("auditd");
        fs::write(&copy, [b"\x7fELF..".as_slice(), MARKER, b" = "].concat()).expect("copy");
        let p = fake_proc(&d, "auditd", &copy, &[]);
        assert_eq!(identify(&p, &me), Identity::Nlaudit);
    }

    #[test]
    fn the_state_file_comes_from_the_daemons_command_line() {
        let me = std::env::current_exe().expect("exe");
        let check = |cmdline: &[&str], want: &str| {
            let d = Dir::new("loc");
            let p = fake_proc(&d, "nlaudit", &me, cmdline);
            let t = locate(&p, 7, None).expect("located");
            assert_eq!(t.state_file, PathBuf::from(want), "{cmdline:?}");
            let inside = want.trim_start_matches('/');
            assert_eq!(t.read_from, p.join("root").join(inside), "read through its root");
        };
        check(&["/nlaudit", "daemon", "--rules", "/etc/audit/rules.d"], STATE_FILE);
        check(&["nlaudit", "daemon", "--state-file", "/var/run/x.state"], "/var/run/x.state");
        check(&["nlaudit", "daemon", "--state-file", "rel.state"], "/tmp/rel.state");
        check(&["/sbin/auditd", "-n"], super::super::AUDITD_STATE_FILE);
        check(&["something", "else"], STATE_FILE);
        let d = Dir::new("loc2");
        let p = fake_proc(&d, "nlaudit", &me, &["nlaudit", "daemon", "--state-file", "-"]);
        let e = locate(&p, 7, None).expect_err("stderr");
        assert!(e.to_string().contains("writes its state report to standard error"), "{e}");
        let t = locate(&p, 7, Some(Path::new("/x"))).expect("explicit");
        assert_eq!((t.state_file, t.read_from), (PathBuf::from("/x"), PathBuf::from("/x")));
    }

    fn report(pid: u32, number: u64) -> StateReport {
        StateReport { version: "0.1.0".into(), pid, number, ..StateReport::default() }
    }

    #[test]
    fn fetch_waits_for_a_fresh_report_from_that_pid() {
        let d = Dir::new("fetch");
        let f = d.0.join("state");
        let t = Target { pid: 9, state_file: f.clone(), read_from: f.clone() };
        fs::write(&f, report(9, 1).to_string()).expect("old report");
        // The old report is not taken; the signal writes report 2.
        let mut signal = || fs::write(&f, report(9, 2).to_string());
        let r = fetch(&t, &mut signal, &|| true, Duration::from_secs(5)).expect("fresh");
        assert_eq!(r.number, 2);
        // Nothing new: a timeout, saying what was read.
        let mut nothing = || Ok(());
        let e = fetch(&t, &mut nothing, &|| true, Duration::ZERO).expect_err("stale");
        assert!(matches!(e, FetchError::Timeout(None)), "{e:?}");
        // Another pid's report is not this daemon's.
        let mut other = || fs::write(&f, report(10, 1).to_string());
        let e = fetch(&t, &mut other, &|| true, Duration::ZERO).expect_err("other");
        assert!(matches!(&e, FetchError::Timeout(Some(m)) if m == "a report from pid 10"), "{e:?}");
        let e = fetch(&t, &mut nothing, &|| false, Duration::from_secs(5)).expect_err("gone");
        assert!(matches!(e, FetchError::Gone), "{e:?}");
        let mut refused = || Err(io::Error::from(io::ErrorKind::PermissionDenied));
        let e = fetch(&t, &mut refused, &|| true, Duration::ZERO).expect_err("refused");
        assert!(matches!(e, FetchError::Signal(_)), "{e:?}");
    }

    #[test]
    fn renders_for_people() {
        let t = Target { pid: 9, state_file: STATE_FILE.into(), read_from: STATE_FILE.into() };
        let mut r = report(9, 3);
        r.log_format = "raw".into();
        r.records_received = 12;
        let text = render(&t, &r);
        assert_eq!(
            text,
            "daemon:       nlaudit 0.1.0, pid 9 (state report 3, /run/nlaudit-daemon.state)\n\
             log:          not written (write_logs = no)\n\
             records:      12 received, 0 lines written, 0 not written; kernel lost 0 since \
             start, 0 receive buffer overruns\n\
             rule set:     none kept (no --rules)\n"
        );
        r.log = Some(LogReport {
            file: "/var/log/audit/audit.log".into(),
            size_kb: 4,
            max_size_kb: 8192,
            lines_written: 11,
            rotations: 1,
            ..LogReport::default()
        });
        r.rules = Some(KeepingReport {
            checks: 3,
            drifts: 1,
            repairs: 1,
            check_period_secs: Some(60),
            set: Some(RuleSetReport {
                source: "/etc/audit/rules.d".into(),
                files: 1,
                expected: 2,
                in_force: 1,
                last_check: "repaired (config-change, 2.1 ms)".into(),
                skipped: vec!["/etc/audit/rules.d/a.rules:2: missing /etc/docker".into()],
                watching: vec!["/etc".into()],
            }),
            ..KeepingReport::default()
        });
        let text = render(&t, &r);
        for want in [
            "log:          /var/log/audit/audit.log (raw, 4 KB of 8192, 1 rotation)\n",
            "records:      12 received, 11 lines written, 0 not written;",
            "rule set:     /etc/audit/rules.d (1 file)\n",
            "rules:        1 in force, 2 expected\n",
            "last check:   repaired (config-change, 2.1 ms)\n",
            "repairs:      1 (1 drift found in 3 checks, 0 failed); backstop every 60 s\n",
            "skipped:      1 rule\n  /etc/audit/rules.d/a.rules:2: missing /etc/docker\n",
            "  (watching for paths under /etc)\n",
        ] {
            assert!(text.contains(want), "{want:?} in\n{text}");
        }
        let j = StatusJson { schema: 1, state_file: STATE_FILE.into(), report: &r };
        let v = serde_json::to_value(&j).expect("json");
        assert_eq!(v["schema"], 1);
        assert_eq!(v["report"]["rules"]["set"]["in_force"], 1);
        assert_eq!(v["report"]["log"]["lines_written"], 11);
    }
}
