//! Opening the kernel connection, and the checks every changing command makes first.

use anyhow::Result;
use nlaudit_proto::{Client, Status};

use crate::errors::{code, fail};

/// Opens the audit socket.
pub fn open() -> Result<Client> {
    Ok(Client::open()?)
}

/// Opens the audit socket and refuses to go on in immutable mode (enabled 2): no rule or
/// setting can change until reboot, so nothing is attempted. Returns the status read.
pub fn open_mutable() -> Result<(Client, Status)> {
    let mut c = open()?;
    let s = c.status()?;
    if s.enabled == 2 {
        return Err(fail(
            code::IMMUTABLE,
            "the audit configuration is locked (enabled 2, immutable mode): no rule or \
             setting can change until the machine reboots; nothing was changed",
        ));
    }
    Ok((c, s))
}
