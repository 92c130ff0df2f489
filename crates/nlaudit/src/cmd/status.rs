//! `nlaudit status` and `nlaudit set`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use nlaudit_proto::consts::AUDIT_FEATURE_LOGINUID_IMMUTABLE;
use nlaudit_proto::{Client, FeatureLock, Features, Setting, Status, Switch, Transport};
use nlaudit_rules::render::status_listing;
use serde::Serialize;

use crate::cli::{SetArgs, StatusArgs};
use crate::support::session::StatusRead;
use crate::support::{output, session};

/// `status --json` (schema docs/schemas/status.schema.json): the kernel's AUDIT_GET reply
/// and the loginuid-immutable feature.
#[derive(Debug, Serialize)]
pub struct StatusJson {
    /// 1.
    pub schema: u32,
    /// 0 off, 1 on, 2 locked (immutable until reboot).
    pub enabled: u32,
    /// 0 silent, 1 printk, 2 panic.
    pub failure: u32,
    /// The registered audit daemon's pid (0: none).
    pub pid: u32,
    /// Records per second (0: no limit).
    pub rate_limit: u32,
    /// Records the kernel queues at most.
    pub backlog_limit: u32,
    /// Records lost.
    pub lost: u32,
    /// Records queued now.
    pub backlog: u32,
    /// AUDIT_FEATURE_BITMAP_* the kernel has (absent on old kernels).
    pub feature_bitmap: Option<u32>,
    /// How long a task waits for backlog space (absent on old kernels).
    pub backlog_wait_time: Option<u32>,
    /// Time spent waiting for backlog space (absent on old kernels).
    pub backlog_wait_time_actual: Option<u32>,
    /// AUDIT_FEATURE_LOGINUID_IMMUTABLE (absent when the kernel did not answer).
    pub loginuid_immutable: Option<FeatureJson>,
}

/// A kernel audit feature's state.
#[derive(Debug, Serialize)]
pub struct FeatureJson {
    /// Turned on.
    pub on: bool,
    /// Locked (cannot change until reboot).
    pub locked: bool,
}

impl StatusJson {
    /// The JSON form of a status read.
    pub fn new(s: &Status, f: Option<&Features>) -> StatusJson {
        let bit = AUDIT_FEATURE_LOGINUID_IMMUTABLE;
        StatusJson {
            schema: 1,
            enabled: s.enabled.raw(),
            failure: s.failure,
            pid: s.pid,
            rate_limit: s.rate_limit,
            backlog_limit: s.backlog_limit,
            lost: s.lost,
            backlog: s.backlog,
            feature_bitmap: s.feature_bitmap,
            backlog_wait_time: s.backlog_wait_time,
            backlog_wait_time_actual: s.backlog_wait_time_actual,
            loginuid_immutable: f
                .map(|f| FeatureJson { on: f.is_on(bit), locked: f.is_locked(bit) }),
        }
    }
}

/// `set --json` (schema docs/schemas/set.schema.json): what was changed and the status after.
#[derive(Debug, Serialize)]
pub struct SetJson {
    /// 1.
    pub schema: u32,
    /// The settings sent, as auditctl writes them (`-b 8192`), in order.
    pub changed: Vec<String>,
    /// With --reset-lost: the lost-records counter before it was reset.
    pub lost_before_reset: Option<u32>,
    /// The status after the changes.
    pub status: StatusJson,
}

pub fn status(a: StatusArgs) -> Result<ExitCode> {
    if a.json {
        output::json_for("status");
    }
    let mut c = session::open()?;
    let StatusRead { status: s, features: f } = session::read_status(&mut c)?;
    let mut out = output::stdout();
    if a.json {
        output::print_json(&StatusJson::new(&s, f.as_ref()))?;
    } else {
        out.write_all(status_listing(&s, f.as_ref()).as_bytes())?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn set(a: SetArgs) -> Result<ExitCode> {
    set_with(a, session::open)
}

/// `set` through the client `connect` opens.
pub fn set_with<T: Transport>(
    a: SetArgs,
    connect: impl FnOnce() -> Result<Client<T>>,
) -> Result<ExitCode> {
    if a.json {
        output::json_for("set");
    }
    let (mut c, _) = session::mutable(connect()?)?;
    // Each setting with the option auditctl writes for it (the JSON's `changed`).
    let mut changes = Vec::new();
    if let Some(v) = a.enabled {
        changes.push((Setting::Enabled(if v == 1 { Switch::On } else { Switch::Off }), "-e", v));
    }
    if let Some(v) = a.failure {
        changes.push((Setting::Failure(v), "-f", v));
    }
    if let Some(v) = a.rate_limit {
        changes.push((Setting::RateLimit(v), "-r", v));
    }
    if let Some(v) = a.backlog_limit {
        changes.push((Setting::BacklogLimit(v), "-b", v));
    }
    if let Some(v) = a.backlog_wait_time {
        changes.push((Setting::BacklogWaitTime(v), "--backlog_wait_time", v));
    }
    let mut changed = Vec::new();
    for (setting, option, value) in changes {
        c.set(setting)?;
        changed.push(format!("{option} {value}"));
    }
    let lost_before_reset = if a.reset_lost { Some(c.reset_lost()?) } else { None };
    if a.loginuid_immutable {
        c.set_feature(AUDIT_FEATURE_LOGINUID_IMMUTABLE, Switch::On, FeatureLock::Locked)?;
        changed.push("--loginuid-immutable".to_string());
    }
    if a.lock_until_reboot_irreversibly {
        c.lock_configuration_until_reboot()?;
        changed.push("-e 2".to_string());
    }
    let StatusRead { status: s, features: f } = session::read_status(&mut c)?;
    if a.json {
        output::print_json(&SetJson {
            schema: 1,
            changed,
            lost_before_reset,
            status: StatusJson::new(&s, f.as_ref()),
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = output::stdout();
    if let Some(old) = lost_before_reset {
        writeln!(out, "lost: {old}")?;
    }
    out.write_all(status_listing(&s, f.as_ref()).as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
