//! What `docker check --verify` found for a control: the end-to-end proof that its rule
//! records (the proof itself runs in the CLI: it executes programs and reads the audit
//! multicast group).

/// The outcome of a proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyStatus {
    /// The event was read back.
    Verified,
    /// A rule records executions and audit is on, but no such event came.
    Failed,
    /// The proof could not be attempted (the reason says why and what to do).
    Skipped,
}

impl VerifyStatus {
    /// The JSON/text name.
    pub fn name(self) -> &'static str {
        match self {
            VerifyStatus::Verified => "verified",
            VerifyStatus::Failed => "failed",
            VerifyStatus::Skipped => "skipped",
        }
    }
}

/// What `--verify` found for one control.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    /// Verified, failed or skipped.
    pub status: VerifyStatus,
    /// One sentence: the event, or why there is none.
    pub reason: String,
    /// The event's serial (verified only).
    pub serial: Option<u64>,
    /// The event's syscall name (verified only).
    pub syscall: Option<String>,
    /// The file executed (or that would be); `None` when there is none.
    pub path: Option<String>,
    /// The rule's key waited for, or the event's key once verified; `None` when the rule has
    /// no key (or there is no rule).
    pub key: Option<String>,
}

impl Verification {
    /// A proof that failed or was skipped, with the file and key it was about.
    pub fn not_verified(
        status: VerifyStatus,
        path: Option<&str>,
        key: Option<&str>,
        reason: String,
    ) -> Verification {
        Verification {
            status,
            reason,
            serial: None,
            syscall: None,
            path: path.map(str::to_string),
            key: key.map(str::to_string),
        }
    }
}
