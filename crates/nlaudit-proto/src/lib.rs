//! nlaudit-proto: a blocking client for the Linux kernel's audit subsystem over
//! `NETLINK_AUDIT`, and the wire format of its messages.
//!
//! This crate knows the kernel's structures and protocol, not auditctl's text syntax (that is
//! `nlaudit-rules`). Where `netlink-packet-audit` 0.7 is wrong or missing something (AUDIT_EXE
//! is a string, AUDIT_SADDR_FAM exists, io_uring is filter list 7, listed "all" masks end in
//! `0x0000FFFF`, status replies are 32 to 44 bytes), this crate owns the fix; its tests show
//! the difference.
//!
//! ```no_run
//! // Needs root (CAP_AUDIT_CONTROL) in the initial user and PID namespaces: not run by
//! // `cargo test`. examples/list_rules.rs and examples/follow_events.rs do more.
//! let mut client = nlaudit_proto::Client::open()?;
//! println!("audit enabled: {:?}", client.status()?.enabled);
//! for rule in client.list_rules()? {
//!     println!("{:?} {:?}, {} fields", rule.list(), rule.action(), rule.fields.len());
//! }
//! # Ok::<(), nlaudit_proto::Error>(())
//! ```
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
pub use transport::{NetlinkTransport, Received, Slots, Transport};
