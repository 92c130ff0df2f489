//! `nlaudit`: the Linux audit client that talks to the kernel directly over NETLINK_AUDIT.
//!
//! `main` only maps the outcome of [`run`] to an exit code; every command lives in its own
//! module and returns `anyhow::Result<ExitCode>`.
//!
//! The process starts at a C `main` of its own, not through std's runtime set-up
//! (`lang_start`): see [`start`].
#![cfg_attr(not(test), no_main)]

mod cli;
mod cmd;
mod support;
#[cfg(test)]
mod testsupport;

use std::process::ExitCode;

/// The process entry point, called by the C runtime (`__libc_start_main`).
///
/// Why not `fn main`: std's runtime set-up, before `main`, places a guard page for the main
/// thread, which on glibc means `pthread_getattr_np` reading and `sscanf`-parsing every line
/// of /proc/self/maps, and maps an alternate signal stack for the "has overflowed its stack"
/// message: together about 0.1 ms of each short command, measured (docs/benchmarks.md,
/// issue 20), for a message nlaudit does not need (a stack overflow still kills the process,
/// by SIGSEGV). What of that set-up nlaudit relies on, [`start`] does: SIGPIPE ignored (a
/// closed pipe is an EPIPE error and a quiet exit) and fds 0-2 open (so that no file it opens
/// becomes its standard output). Arguments need nothing: glibc hands them to std's
/// `.init_array` hook; and stdout is flushed before returning, as std's runtime does at exit.
#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    start();
    let code = nlaudit_main();
    let _ = std::io::Write::flush(&mut std::io::stdout());
    exit_status(code)
}

/// The stack walk of the shipped static binary, which has no unwind tables: it walks
/// nothing and says the stack ended (`_URC_END_OF_STACK`).
///
/// Why: `cargo xtask dist` discards the unwind tables (`.eh_frame`, about 0.28 MB: the
/// binary never unwinds, `panic = "abort"`) and links with `--wrap=_Unwind_Backtrace`, so
/// every call of GCC's `_Unwind_Backtrace` comes here. GCC's own walk would abort the
/// process when it cannot find the table of its first frame, and std calls it whenever a
/// backtrace is captured: anyhow captures one for every error when `RUST_BACKTRACE` or
/// `RUST_LIB_BACKTRACE` is set. With this, such an error still prints its message and
/// exits with its code; a panic prints its message and an empty backtrace, then aborts.
/// Other builds (release, tests) keep their tables and do not link this in place of GCC's.
#[cfg(not(test))]
#[no_mangle]
extern "C" fn __wrap__Unwind_Backtrace(
    _trace: Option<unsafe extern "C" fn(*mut libc::c_void, *mut libc::c_void) -> libc::c_int>,
    _argument: *mut libc::c_void,
) -> libc::c_int {
    /// `_URC_END_OF_STACK` of GCC's unwind.h.
    const END_OF_STACK: libc::c_int = 5;
    END_OF_STACK
}

/// What std's runtime set-up does that nlaudit needs (see [`main`]).
#[cfg_attr(test, allow(dead_code))]
fn start() {
    // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd { fd, events: 0, revents: 0 });
    // SAFETY: `fds` is a valid array of three pollfd for the length given.
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) };
    if polled < 0 {
        return;
    }
    for p in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
        // The lowest free fd is the closed one: /dev/null takes its place, as std does.
        // SAFETY: a NUL-terminated path; the fd is meant to stay open for the process's life.
        let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        if fd != p.fd {
            // SAFETY: aborting is always sound; it is what std does here too.
            unsafe { libc::abort() };
        }
    }
}

/// The exit status of an [`ExitCode`] (std keeps it private; `ExitCode::from(u8)` made it).
#[cfg_attr(test, allow(dead_code))]
fn exit_status(code: ExitCode) -> libc::c_int {
    (0..=u8::MAX).find(|&n| ExitCode::from(n) == code).map_or(1, libc::c_int::from)
}

#[cfg_attr(test, allow(dead_code))]
fn nlaudit_main() -> ExitCode {
    // Installed as `auditctl` (argv[0]) or run as `nlaudit auditctl ...`: every word goes to
    // the drop-in untouched (clap would take `-h`, `--help` and a leading `--` for itself).
    let words: Vec<String> =
        std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let argv0 = words.first().map(std::path::Path::new).and_then(|p| p.file_name());
    // The reference generation, read once: `--auditctl` (before the drop-in's words or
    // anywhere in a subcommand's), NLAUDIT_AUDITCTL, /etc/nlaudit.conf, else 3.
    let flag = generation_flag(&words);
    let (generation, source) = match support::system::resolve_generation(flag.as_deref()) {
        Ok(g) => g,
        Err(e) => return support::errors::finish(Err(e)),
    };
    support::system::set_generation(generation);
    if argv0.is_some_and(|n| n == "auditctl") {
        return support::errors::finish(dropin(words.iter().skip(1).cloned().collect()));
    }
    // Installed as `auditd`: auditd's options.
    if argv0.is_some_and(|n| n == "auditd") {
        let args = cmd::daemon::auditd_args(words.get(1..).unwrap_or_default());
        return support::errors::finish(args.and_then(cmd::daemon::run));
    }
    // `nlaudit auditctl ARGS`, also after `--auditctl N`: the words are auditctl's, clap
    // must not see them (it would take a first `-h` for its own help).
    let first = match words.get(1).map(String::as_str) {
        Some("--auditctl") => 3,
        Some(w) if w.starts_with("--auditctl=") => 2,
        _ => 1,
    };
    if words.get(first).is_some_and(|w| w == "auditctl") {
        return support::errors::finish(dropin(words.iter().skip(first + 1).cloned().collect()));
    }
    let version = format!(
        "{} (commit {}; auditctl reference: {} {}{})",
        env!("CARGO_PKG_VERSION"),
        env!("NLAUDIT_COMMIT"),
        generation.major(),
        generation.version(),
        match source {
            support::system::GenerationSource::Flag => ", from --auditctl".to_string(),
            support::system::GenerationSource::Environment => ", from NLAUDIT_AUDITCTL".to_string(),
            support::system::GenerationSource::ConfigFile(p) => format!(", from {p}"),
            support::system::GenerationSource::Default => ", the default".to_string(),
        }
    );
    // clap takes a 'static version (its `string` feature is off); this runs once per process.
    let version: &'static str = Box::leak(version.into_boxed_str());
    let mut command = <cli::Cli as clap::CommandFactory>::command().version(version);
    let cli = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|m| <cli::Cli as clap::FromArgMatches>::from_arg_matches(&m));
    // The parser's tree is not needed again and the process exits soon: freeing its hundreds
    // of allocations one by one cost more than the parse itself (callgrind, issue 20).
    std::mem::forget(command);
    let cli = match cli {
        Ok(c) => c,
        Err(e) => return support::errors::usage_failure(&words, e),
    };
    support::errors::finish(run(cli))
}

/// The value of a `--auditctl N` / `--auditctl=N` among the words before a drop-in's own
/// (after `nlaudit auditctl`, the words are auditctl's, not ours).
fn generation_flag(words: &[String]) -> Option<String> {
    let mut it = words.iter().skip(1).take_while(|w| w.as_str() != "auditctl");
    while let Some(w) = it.next() {
        if w == "--" {
            break;
        }
        if let Some(v) = w.strip_prefix("--auditctl=") {
            return Some(v.to_string());
        }
        if w == "--auditctl" {
            return it.next().cloned();
        }
    }
    None
}

/// The auditctl drop-in, holding the change lock unless the options only read.
fn dropin(args: Vec<String>) -> anyhow::Result<ExitCode> {
    let reads_only = matches!(
        args.first().map(String::as_str),
        None | Some("-l" | "-s" | "-v" | "-h" | "--help" | "-m" | "-t" | "-q")
    );
    if !reads_only {
        support::lock::for_change()?;
    }
    cmd::dropin::auditctl_dropin(args)
}

/// Whether the command changes the kernel's rules or settings (and so takes the lock).
fn changes_kernel(c: &cli::Command) -> bool {
    use cli::Command as C;
    match c {
        C::Set(_) | C::Add(_) | C::Delete(_) | C::Load(_) => true,
        // --watch runs until stopped: each repair takes the lock for itself.
        C::Apply(a) => !a.dry_run && !a.watch,
        C::Docker(d) => {
            matches!(&d.command, cli::DockerCommand::Ensure(e) if !e.dry_run && e.root.is_none())
        }
        C::Ensure(e) => !e.dry_run && e.root.is_none(),
        C::Check(_) => false,
        C::Status(_) | C::List(_) | C::Merge(_) | C::Events(_) | C::Auditctl(_) => false,
        // Runs until stopped: holding the change lock would block every other change.
        // Its `--rules` repairs take the lock for each repair (support::lock::try_hold).
        C::Daemon(_) => false,
        #[cfg(feature = "generate")]
        C::Generate(_) => false,
    }
}

fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    use cli::Command as C;
    if changes_kernel(&cli.command) {
        support::lock::for_change()?;
    }
    match cli.command {
        C::Status(a) => cmd::status::status(a),
        C::Set(a) => cmd::status::set(a),
        C::List(a) => cmd::rules::list(a),
        C::Add(a) => cmd::rules::add(a),
        C::Delete(a) => cmd::rules::delete(a),
        C::Load(a) => cmd::ruleset::load(a),
        C::Merge(a) => cmd::ruleset::merge(a),
        C::Apply(a) => cmd::ruleset::apply(a),
        C::Docker(a) => cmd::docker::run(a),
        C::Check(a) => cmd::profile::check(a),
        C::Ensure(a) => cmd::profile::ensure(a),
        C::Events(a) => cmd::events::run(a),
        C::Daemon(a) => cmd::daemon::run(a),
        C::Auditctl(a) => dropin(a.args),
        #[cfg(feature = "generate")]
        C::Generate(a) => cmd::generate::run(a),
    }
}
