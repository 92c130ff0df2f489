//! `struct audit_status` (AUDIT_GET/AUDIT_SET) and `struct audit_features`.

use crate::codec::Cursor;
use crate::error::DecodeError;

/// `audit_status.enabled`: whether the kernel audits, and whether its configuration is
/// locked. Open: a value the kernel adds later survives decode -> encode as `Unknown`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditEnabled {
    /// 0: auditing off.
    #[default]
    Disabled,
    /// 1: auditing on.
    Enabled,
    /// 2: auditing on and the configuration immutable until reboot (`auditctl -e 2`).
    Locked,
    /// Any other value, kept as sent.
    Unknown(u32),
}

impl AuditEnabled {
    /// The value the kernel sends for `enabled`.
    pub fn from_raw(v: u32) -> AuditEnabled {
        match v {
            0 => AuditEnabled::Disabled,
            1 => AuditEnabled::Enabled,
            2 => AuditEnabled::Locked,
            n => AuditEnabled::Unknown(n),
        }
    }

    /// The wire value (`auditctl -s` prints it as `enabled N`).
    pub fn raw(self) -> u32 {
        match self {
            AuditEnabled::Disabled => 0,
            AuditEnabled::Enabled => 1,
            AuditEnabled::Locked => 2,
            AuditEnabled::Unknown(n) => n,
        }
    }

    /// Whether the configuration is immutable (`enabled 2`).
    pub fn is_locked(self) -> bool {
        self == AuditEnabled::Locked
    }
}

impl From<u32> for AuditEnabled {
    fn from(v: u32) -> Self {
        AuditEnabled::from_raw(v)
    }
}

impl From<AuditEnabled> for u32 {
    fn from(v: AuditEnabled) -> Self {
        v.raw()
    }
}

/// Prints the number, as `auditctl -s` does.
impl std::fmt::Display for AuditEnabled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.raw())
    }
}

/// `struct audit_status`, decoded by length: kernels reply with 32 to 44 bytes (the fields
/// after `backlog` were added over time). Fields the kernel did not send are `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// `mask`: in a reply, unused; in a request, the `status_mask` bits to change.
    pub mask: u32,
    /// `enabled`: 0 off, 1 on, 2 locked (immutable until reboot).
    pub enabled: AuditEnabled,
    /// `failure`: 0 silent, 1 printk, 2 panic.
    pub failure: u32,
    /// `pid`: auditd's pid, 0 when none is registered.
    pub pid: u32,
    /// `rate_limit`: records per second, 0 for no limit.
    pub rate_limit: u32,
    /// `backlog_limit`.
    pub backlog_limit: u32,
    /// `lost`: records lost since boot (or the last reset).
    pub lost: u32,
    /// `backlog`: records queued now.
    pub backlog: u32,
    /// `feature_bitmap` (union with `version`), kernels ≥ 3.19.
    pub feature_bitmap: Option<u32>,
    /// `backlog_wait_time`, kernels ≥ 3.14.
    pub backlog_wait_time: Option<u32>,
    /// `backlog_wait_time_actual`, kernels ≥ 5.9.
    pub backlog_wait_time_actual: Option<u32>,
}

/// The smallest `audit_status` a kernel sends: up to and including `backlog`.
pub const STATUS_MIN_LEN: usize = 32;
/// The full `audit_status` of current kernels.
pub const STATUS_LEN: usize = 44;

impl Status {
    /// Decodes an AUDIT_GET reply of 32..=44 bytes (longer replies: the known prefix).
    pub fn decode(payload: &[u8]) -> Result<Status, DecodeError> {
        let mut c = Cursor::new(payload);
        let mut s = Status {
            mask: c.u32("audit_status.mask")?,
            enabled: AuditEnabled::from_raw(c.u32("audit_status.enabled")?),
            failure: c.u32("audit_status.failure")?,
            pid: c.u32("audit_status.pid")?,
            rate_limit: c.u32("audit_status.rate_limit")?,
            backlog_limit: c.u32("audit_status.backlog_limit")?,
            lost: c.u32("audit_status.lost")?,
            backlog: c.u32("audit_status.backlog")?,
            ..Status::default()
        };
        s.feature_bitmap = c.u32("audit_status.feature_bitmap").ok();
        s.backlog_wait_time = c.u32("audit_status.backlog_wait_time").ok();
        s.backlog_wait_time_actual = c.u32("audit_status.backlog_wait_time_actual").ok();
        Ok(s)
    }

    /// Encodes the full 44-byte structure (absent fields as 0), as an AUDIT_SET payload.
    pub fn encode(&self) -> Vec<u8> {
        [
            self.mask,
            self.enabled.raw(),
            self.failure,
            self.pid,
            self.rate_limit,
            self.backlog_limit,
            self.lost,
            self.backlog,
            self.feature_bitmap.unwrap_or(0),
            self.backlog_wait_time.unwrap_or(0),
            self.backlog_wait_time_actual.unwrap_or(0),
        ]
        .iter()
        .flat_map(|v| v.to_ne_bytes())
        .collect()
    }
}

/// `struct audit_features` (AUDIT_GET_FEATURE / AUDIT_SET_FEATURE), 16 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// `vers`: `AUDIT_FEATURE_VERSION`.
    pub vers: u32,
    /// `mask`: which feature bits a SET changes.
    pub mask: u32,
    /// `features`: bit n set = feature n on.
    pub features: u32,
    /// `lock`: bit n set = feature n can no longer change.
    pub lock: u32,
}

impl Features {
    /// Decodes a 16-byte `audit_features`.
    pub fn decode(payload: &[u8]) -> Result<Features, DecodeError> {
        let mut c = Cursor::new(payload);
        Ok(Features {
            vers: c.u32("audit_features.vers")?,
            mask: c.u32("audit_features.mask")?,
            features: c.u32("audit_features.features")?,
            lock: c.u32("audit_features.lock")?,
        })
    }

    /// Encodes the 16-byte structure.
    pub fn encode(&self) -> Vec<u8> {
        [self.vers, self.mask, self.features, self.lock]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect()
    }

    /// Whether feature bit `n` is on.
    pub fn is_on(&self, n: u32) -> bool {
        n < 32 && self.features & (1 << n) != 0
    }

    /// Whether feature bit `n` is locked.
    pub fn is_locked(&self, n: u32) -> bool {
        n < 32 && self.lock & (1 << n) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &[u32]) -> Vec<u8> {
        v.iter().flat_map(|w| w.to_ne_bytes()).collect()
    }

    #[test]
    fn decodes_every_kernel_length() {
        // mask, enabled, failure, pid, rate_limit, backlog_limit, lost, backlog,
        // feature_bitmap, backlog_wait_time, backlog_wait_time_actual
        let full = [0, 1, 1, 42, 0, 8192, 3, 0, 0x7f, 60000, 5];
        for n in 8..=11 {
            let s = Status::decode(&words(&full[..n])).expect("decodes");
            assert_eq!(s.enabled, AuditEnabled::Enabled);
            assert_eq!(s.pid, 42);
            assert_eq!(s.backlog_limit, 8192);
            assert_eq!(s.lost, 3);
            assert_eq!(s.feature_bitmap.is_some(), n >= 9);
            assert_eq!(s.backlog_wait_time, (n >= 10).then_some(60000));
            assert_eq!(s.backlog_wait_time_actual, (n >= 11).then_some(5));
        }
        assert!(Status::decode(&words(&full[..7])).is_err());
    }

    #[test]
    fn status_round_trip() {
        let s = Status {
            mask: 1,
            enabled: AuditEnabled::Enabled,
            feature_bitmap: Some(0x7f),
            backlog_wait_time: Some(1),
            backlog_wait_time_actual: Some(2),
            ..Status::default()
        };
        assert_eq!(s.encode().len(), STATUS_LEN);
        assert_eq!(Status::decode(&s.encode()).expect("decodes"), s);
    }

    /// Wire vectors: a 44-byte reply of each `enabled` value, including one no kernel sends
    /// today, decodes and encodes back to the same bytes.
    #[test]
    fn status_bytes_round_trip_for_every_enabled_value() {
        for (raw, want) in [
            (0, AuditEnabled::Disabled),
            (1, AuditEnabled::Enabled),
            (2, AuditEnabled::Locked),
            (7, AuditEnabled::Unknown(7)),
        ] {
            #[rustfmt::skip]
            let bytes = words(&[
                0,          // mask (unused in a reply)
                raw,        // enabled
                1,          // failure: printk
                4242,       // pid
                100,        // rate_limit
                8192,       // backlog_limit
                3,          // lost
                1,          // backlog
                0x7f,       // feature_bitmap
                60000,      // backlog_wait_time
                5,          // backlog_wait_time_actual
            ]);
            let s = Status::decode(&bytes).expect("decodes");
            assert_eq!(s.enabled, want);
            assert_eq!(u32::from(s.enabled), raw);
            assert_eq!(s.encode(), bytes, "enabled {raw}");
        }
    }

    #[test]
    fn features_round_trip() {
        let f = Features { vers: 1, mask: 2, features: 2, lock: 0 };
        assert_eq!(Features::decode(&f.encode()).expect("decodes"), f);
        assert!(f.is_on(1) && !f.is_locked(1) && !f.is_on(40));
        assert!(Features::decode(&[0; 15]).is_err());
    }
}
