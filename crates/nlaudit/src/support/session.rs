//! Opening the kernel connection, and the checks every changing command makes first.

use anyhow::Result;
use nlaudit_proto::{Client, Features, Status, Transport};

use crate::support::errors::{code, fail};

/// Opens the audit socket.
pub fn open() -> Result<Client> {
    Ok(Client::open()?)
}

/// Takes a client opened by a connector (the real socket or a fake kernel) and refuses to go
/// on in immutable mode (enabled 2): no rule or setting can change until reboot, so nothing
/// is attempted. Returns the client and the status read.
pub fn mutable<T: Transport>(mut c: Client<T>) -> Result<(Client<T>, Status)> {
    let s = c.status()?;
    refuse_if_immutable(&s)?;
    Ok((c, s))
}

/// The status and, where the kernel answers AUDIT_GET_FEATURE, the features.
#[derive(Debug)]
pub struct StatusRead {
    /// AUDIT_GET.
    pub status: Status,
    /// AUDIT_GET_FEATURE (`None` on kernels without it).
    pub features: Option<Features>,
}

/// Reads the status and the features (optional: old kernels lack GET_FEATURE), asked for
/// in one datagram.
pub fn read_status<T: Transport>(c: &mut Client<T>) -> Result<StatusRead> {
    let read = c.status_and_features()?;
    Ok(StatusRead { status: read.status, features: read.features })
}

/// The immutable-mode check every changing command makes before sending anything.
pub fn refuse_if_immutable(s: &Status) -> Result<()> {
    if s.enabled.is_locked() {
        return Err(fail(
            code::IMMUTABLE,
            "the audit configuration is locked (enabled 2, immutable mode): no rule or \
             setting can change until the machine reboots; nothing was changed",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::errors::Failure;

    #[test]
    fn immutable_is_refused_before_any_change() {
        let locked = Status { enabled: nlaudit_proto::AuditEnabled::Locked, ..Status::default() };
        let e = refuse_if_immutable(&locked).expect_err("refused");
        let f = e.downcast_ref::<Failure>().expect("a failure");
        assert_eq!(f.code, code::IMMUTABLE);
        assert!(f.message.contains("immutable") && f.message.contains("reboot"));
        assert!(refuse_if_immutable(&Status {
            enabled: nlaudit_proto::AuditEnabled::Enabled,
            ..Status::default()
        })
        .is_ok());
    }
}
