//! nlaudit-daemon: the audit daemon for machines without auditd, as a library.
//!
//! - [`receiver`]: registers as the kernel's audit daemon (AUDIT_SET pid) and receives the
//!   records the kernel unicasts to it;
//! - [`format`](mod@format) and [`enrich`]: the lines auditd 3.0.9 writes (`RAW`, `ENRICHED`) and the
//!   JSON events of docs/events.md;
//! - [`log`]: the log file: created as auditd creates it, rotated, flushed, checked for
//!   space, never losing a record silently;
//! - [`config`](mod@config): auditd.conf;
//! - [`daemon`]: the loop that ties them together;
//! - [`drift`]: keeping a rule set in force (when to check, the records, the back-off);
//! - [`state`]: the SIGCONT state report, written and read back (`nlaudit daemon --status`).
//!
//! The library prints nothing: what happens is returned, or reported through
//! [`daemon::Host::notice`], for the CLI to log.
#![deny(missing_docs)]

pub mod config;
pub mod daemon;
pub mod drift;
pub mod enrich;
pub mod format;
pub mod log;
pub mod receiver;
pub mod state;
