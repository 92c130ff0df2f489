//! `nlaudit status` and `nlaudit set`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use nlaudit_proto::consts::AUDIT_FEATURE_LOGINUID_IMMUTABLE;
use nlaudit_proto::{Client, FeatureLock, Features, Setting, Status, Switch, Transport};
use nlaudit_rules::render::status_listing;
use serde_json::json;

use crate::cli::{SetArgs, StatusArgs};
use crate::support::session::StatusRead;
use crate::support::{output, session};

/// The JSON form of the status.
pub fn status_json(s: &Status, f: Option<&Features>) -> serde_json::Value {
    let bit = AUDIT_FEATURE_LOGINUID_IMMUTABLE;
    json!({
        "enabled": s.enabled.raw(),
        "failure": s.failure,
        "pid": s.pid,
        "rate_limit": s.rate_limit,
        "backlog_limit": s.backlog_limit,
        "lost": s.lost,
        "backlog": s.backlog,
        "feature_bitmap": s.feature_bitmap,
        "backlog_wait_time": s.backlog_wait_time,
        "backlog_wait_time_actual": s.backlog_wait_time_actual,
        "loginuid_immutable": f.map(|f| json!({"on": f.is_on(bit), "locked": f.is_locked(bit)})),
    })
}

pub fn status(a: StatusArgs) -> Result<ExitCode> {
    let mut c = session::open()?;
    let StatusRead { status: s, features: f } = session::read_status(&mut c)?;
    let mut out = output::stdout();
    if a.json {
        output::json(&mut out, &status_json(&s, f.as_ref()))?;
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
    let (mut c, _) = session::mutable(connect()?)?;
    let mut changes = Vec::new();
    if let Some(v) = a.enabled {
        changes.push(Setting::Enabled(if v == 1 { Switch::On } else { Switch::Off }));
    }
    if let Some(v) = a.failure {
        changes.push(Setting::Failure(v));
    }
    if let Some(v) = a.rate_limit {
        changes.push(Setting::RateLimit(v));
    }
    if let Some(v) = a.backlog_limit {
        changes.push(Setting::BacklogLimit(v));
    }
    if let Some(v) = a.backlog_wait_time {
        changes.push(Setting::BacklogWaitTime(v));
    }
    for ch in changes {
        c.set(ch)?;
    }
    let mut out = output::stdout();
    if a.reset_lost {
        let old = c.reset_lost()?;
        writeln!(out, "lost: {old}")?;
    }
    if a.loginuid_immutable {
        c.set_feature(AUDIT_FEATURE_LOGINUID_IMMUTABLE, Switch::On, FeatureLock::Locked)?;
    }
    if a.lock_until_reboot_irreversibly {
        c.lock_configuration_until_reboot()?;
    }
    let StatusRead { status: s, features: f } = session::read_status(&mut c)?;
    out.write_all(status_listing(&s, f.as_ref()).as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
