//! nlaudit-proto: a blocking client for the Linux kernel's audit subsystem over
//! `NETLINK_AUDIT`, and the wire format of its messages.
//!
//! This crate knows the kernel's structures and protocol, not auditctl's text syntax (that is
//! `nlaudit-rules`). Where `netlink-packet-audit` 0.7 is wrong or missing something (AUDIT_EXE
//! is a string, AUDIT_SADDR_FAM exists, io_uring is filter list 7, listed "all" masks end in
//! `0x0000FFFF`, status replies are 32 to 44 bytes), this crate owns the fix; its tests show
//! the difference.
#![deny(missing_docs)]

pub mod client;
pub mod codec;
pub mod consts;
pub mod error;
pub mod probe;
pub mod records;
pub mod rule;
pub mod status;
pub mod transport;

pub use client::{
    BatchCounts, BatchOp, BatchOutcome, Client, FeatureLock, ItemResult, OnError, RecordPolicy,
    RecordsRead, Refusal, Setting, SignalInfo, StatusAndFeatures, Switch,
};
pub use consts::{Action, FieldType, FilterList, MsgType, Operator, ValueKind};
pub use error::{DecodeError, EncodeError, Error, Op, Result};
pub use nix::errno::Errno;
pub use rule::{split_keys, FieldData, FieldValue, Position, RuleData};
pub use status::{AuditEnabled, Features, Status};
pub use transport::{NetlinkTransport, Received, Transport};
