//! `nlaudit`: the Linux audit client that talks to the kernel directly over NETLINK_AUDIT.
//!
//! `main` only maps the outcome of [`run`] to an exit code; every command lives in its own
//! module and returns `anyhow::Result<ExitCode>`.

mod cli;
mod cmd;
mod support;
#[cfg(test)]
mod testsupport;

use std::process::ExitCode;

fn main() -> ExitCode {
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
    if words.get(1).is_some_and(|w| w == "auditctl") {
        return support::errors::finish(dropin(words.iter().skip(2).cloned().collect()));
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
    let matches = <cli::Cli as clap::CommandFactory>::command().version(version).get_matches();
    let cli = match <cli::Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
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
        C::Apply(a) => !a.dry_run,
        C::Docker(d) => {
            matches!(&d.command, cli::DockerCommand::Ensure(e) if !e.dry_run && e.root.is_none())
        }
        C::Ensure(e) => !e.dry_run && e.root.is_none(),
        C::Check(_) => false,
        C::Status(_) | C::List(_) | C::Merge(_) | C::Events(_) | C::Auditctl(_) => false,
        // Runs until stopped: holding the change lock would block every other change.
        // Its `--rules` runs `nlaudit apply`, which takes the lock itself.
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
