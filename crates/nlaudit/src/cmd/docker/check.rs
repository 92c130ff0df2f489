//! `nlaudit docker check`: reads the kernel, evaluates the controls with the library, proves
//! them with `--verify` if asked, and prints the report.

use std::process::ExitCode;

use anyhow::Result;
use nlaudit_controls::host::Target;
use nlaudit_controls::{evaluate, Host, Inputs, Kernel, Persisted, Report};
use nlaudit_proto::{Client, Transport};

use super::{report, verify, CheckArgs};
use crate::support::{session, system};

/// The kernel as read, and the client that read it (to change it with).
pub struct KernelSession<T: Transport> {
    /// Its status and rules.
    pub kernel: Kernel,
    /// The connection.
    pub client: Client<T>,
}

/// Reads what the kernel holds (the running machine only; `None` for an image tree).
pub fn open_kernel<T: Transport>(
    host: &dyn Host,
    connect: impl FnOnce() -> Result<Client<T>>,
) -> Result<Option<KernelSession<T>>> {
    if host.target() == Target::Image {
        return Ok(None);
    }
    let mut client = connect()?;
    let status = client.status()?;
    let rules = client.list_rules()?;
    Ok(Some(KernelSession { kernel: Kernel { status, rules }, client }))
}

/// The report on `host`, the kernel's state read through the client `connect` opens
/// (tests pass a fake), the persisted rules looked for where `persisted` says.
pub fn build_with<T: Transport>(
    host: &dyn Host,
    persisted: Persisted<'_>,
    connect: impl FnOnce() -> Result<Client<T>>,
) -> Result<Report> {
    build_for(host, persisted, None, connect)
}

/// [`build_with`], an image tree's rules files parsed for `machine` (`--machine`).
pub fn build_for<T: Transport>(
    host: &dyn Host,
    persisted: Persisted<'_>,
    machine: Option<nlaudit_rules::Machine>,
    connect: impl FnOnce() -> Result<Client<T>>,
) -> Result<Report> {
    let kernel = open_kernel(host, connect)?.map(|s| s.kernel);
    let dialect = system::augenrules_dialect(None);
    let inputs = Inputs { kernel: kernel.as_ref(), persisted, dialect, machine };
    Ok(evaluate(host, &inputs))
}

/// `nlaudit docker check`.
pub fn run(a: CheckArgs) -> Result<ExitCode> {
    if a.json {
        crate::support::output::json_for("docker check");
    }
    let machine = a.machine.as_deref().map(system::machine_named).transpose()?;
    let host = system::host_for(a.root.as_deref())?;
    let mut report = build_for(host.as_ref(), Persisted::RulesDir, machine, session::open)?;
    if a.verify {
        // Turns "a rule is in force" into "a record was seen" (clap refuses it with --root).
        verify::run(&mut report)?;
    }
    if a.json {
        report::print_json(&report)?;
    } else {
        report::print_text(&report)?;
    }
    Ok(ExitCode::from(report.exit_code()))
}
