//! `nlaudit`: the Linux audit client that talks to the kernel directly over NETLINK_AUDIT.
//!
//! `main` only maps the outcome of [`run`] to an exit code; every command lives in its own
//! module and returns `anyhow::Result<ExitCode>`.

mod atomic;
mod cli;
mod daemon_cmd;
mod docker;
mod dropin;
mod errors;
mod events;
mod output;
mod rules_cmd;
mod ruleset_cmd;
mod session;
mod status_cmd;
#[cfg(test)]
mod testsupport;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Installed as `auditctl` (argv[0]) or run as `nlaudit auditctl ...`: every word goes to
    // the drop-in untouched (clap would take `-h`, `--help` and a leading `--` for itself).
    let words: Vec<String> =
        std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let argv0 = words.first().map(std::path::Path::new).and_then(|p| p.file_name());
    if argv0.is_some_and(|n| n == "auditctl") {
        return errors::finish(dropin::auditctl_dropin(words.iter().skip(1).cloned().collect()));
    }
    // Installed as `auditd`: auditd's options.
    if argv0.is_some_and(|n| n == "auditd") {
        let args = daemon_cmd::auditd_args(words.get(1..).unwrap_or_default());
        return errors::finish(args.and_then(daemon_cmd::run));
    }
    if words.get(1).is_some_and(|w| w == "auditctl") {
        return errors::finish(dropin::auditctl_dropin(words.iter().skip(2).cloned().collect()));
    }
    let cli = cli::Cli::parse();
    errors::finish(run(cli))
}

fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    use cli::Command as C;
    match cli.command {
        C::Status(a) => status_cmd::status(a),
        C::Set(a) => status_cmd::set(a),
        C::List(a) => rules_cmd::list(a),
        C::Add(a) => rules_cmd::add(a),
        C::Delete(a) => rules_cmd::delete(a),
        C::Load(a) => ruleset_cmd::load(a),
        C::Merge(a) => ruleset_cmd::merge(a),
        C::Apply(a) => ruleset_cmd::apply(a),
        C::Docker(a) => docker::run(a),
        C::Events(a) => events::run(a),
        C::Daemon(a) => daemon_cmd::run(a),
        C::Auditctl(a) => dropin::auditctl_dropin(a.args),
    }
}
