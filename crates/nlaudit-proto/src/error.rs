//! Typed errors: every kernel refusal keeps its errno and the operation it answered.

use std::fmt;
use std::io;

use nix::errno::Errno;

/// What the client was doing when an error happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Opening or binding the NETLINK_AUDIT socket.
    Open,
    /// `AUDIT_GET`.
    GetStatus,
    /// `AUDIT_SET`.
    SetStatus,
    /// `AUDIT_GET_FEATURE`.
    GetFeature,
    /// `AUDIT_SET_FEATURE`.
    SetFeature,
    /// `AUDIT_LIST_RULES`.
    ListRules,
    /// `AUDIT_ADD_RULE`.
    AddRule,
    /// `AUDIT_DEL_RULE`.
    DeleteRule,
    /// Joining the read-only record multicast group.
    ReadLog,
    /// `AUDIT_SET` of `pid`: registering (or unregistering) as the audit daemon.
    RegisterDaemon,
    /// `AUDIT_SIGNAL_INFO`: who sent the audit daemon its last signal.
    SignalInfo,
    /// Receiving the records the kernel unicasts to the registered audit daemon.
    ReceiveRecords,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Open => "open the audit netlink socket",
            Op::GetStatus => "get the audit status",
            Op::SetStatus => "set the audit status",
            Op::GetFeature => "get audit features",
            Op::SetFeature => "set audit features",
            Op::ListRules => "list audit rules",
            Op::AddRule => "add an audit rule",
            Op::DeleteRule => "delete an audit rule",
            Op::ReadLog => "join the audit record multicast group",
            Op::RegisterDaemon => "register as the audit daemon",
            Op::SignalInfo => "get the audit signal info",
            Op::ReceiveRecords => "receive audit records",
        })
    }
}

/// A malformed message: what was being decoded and why it failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than the structure needs.
    #[error("{what}: need {need} bytes, have {have}")]
    Short {
        /// The field being read.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// A netlink header whose length does not fit the datagram.
    #[error("netlink message length {declared} does not fit the {available} bytes received")]
    BadLength {
        /// `nlmsg_len`.
        declared: usize,
        /// Bytes left in the datagram.
        available: usize,
    },
    /// A structurally impossible value (field count over 64, string lengths over buflen...).
    #[error("{0}")]
    Invalid(String),
}

/// A request that cannot be built: what the kernel would truncate or refuse, caught before
/// anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// More fields than `struct audit_rule_data` has slots for.
    #[error("{count} fields; the kernel takes at most {}", crate::consts::AUDIT_MAX_FIELDS)]
    TooManyFields {
        /// The rule's field count.
        count: usize,
    },
    /// A string value whose length does not fit `values[i]` (a u32).
    #[error("string value over 4 GiB")]
    ValueTooLong {
        /// The field's index in the rule.
        index: usize,
    },
    /// String values whose total does not fit `buflen` (a u32).
    #[error("string values over 4 GiB")]
    BufTooLong,
    /// A netlink message whose length does not fit `nlmsg_len` (a u32).
    #[error("a {len}-byte message does not fit nlmsg_len")]
    MessageTooLong {
        /// The message's length, header included.
        len: usize,
    },
    /// A setting the client sends only through its loudly named call, because it cannot be
    /// undone (`enabled 2`, `failure 2`) or is not a value of the setting.
    #[error("{0}")]
    NotReversible(String),
}

/// An error from the audit client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused the request with this errno.
    #[error("cannot {op}: {errno} ({desc})", desc = errno.desc())]
    Kernel {
        /// The request.
        op: Op,
        /// The kernel's errno.
        errno: Errno,
    },
    /// A socket call failed.
    #[error("cannot {op}: {source}")]
    Io {
        /// The request.
        op: Op,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// The kernel did not answer in time.
    #[error("cannot {op}: no reply from the kernel within {secs:.1} s")]
    Timeout {
        /// The request.
        op: Op,
        /// The bound that ran out.
        secs: f64,
    },
    /// The socket overflowed (ENOBUFS): replies were dropped, so what the kernel did with the
    /// request is not known. List the rules to find out.
    #[error("cannot {op}: the socket's receive buffer overflowed (ENOBUFS); outcome unknown")]
    OutcomeUnknown {
        /// The request.
        op: Op,
    },
    /// A reply larger than the receive buffer was cut (MSG_TRUNC).
    #[error("cannot {op}: a {len}-byte reply was truncated to the {cap}-byte receive buffer")]
    Truncated {
        /// The request.
        op: Op,
        /// The reply's real size.
        len: usize,
        /// The buffer's size.
        cap: usize,
    },
    /// A reply that does not decode.
    #[error("cannot {op}: malformed reply from the kernel: {source}")]
    Decode {
        /// The request.
        op: Op,
        /// What was wrong.
        #[source]
        source: DecodeError,
    },
    /// A request the client refuses to build (too large, too many fields...).
    #[error("cannot {op}: {source}")]
    Invalid {
        /// The request.
        op: Op,
        /// Why.
        #[source]
        source: EncodeError,
    },
}

impl Error {
    /// The kernel's errno, when the kernel refused.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Kernel { errno, .. } => Some(*errno),
            Error::Io { source, .. } => source.raw_os_error().map(Errno::from_raw),
            _ => None,
        }
    }

    /// The operation that failed.
    pub fn op(&self) -> Op {
        match self {
            Error::Kernel { op, .. }
            | Error::Io { op, .. }
            | Error::Timeout { op, .. }
            | Error::OutcomeUnknown { op }
            | Error::Truncated { op, .. }
            | Error::Decode { op, .. }
            | Error::Invalid { op, .. } => *op,
        }
    }
}

/// Shorthand for the client's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
