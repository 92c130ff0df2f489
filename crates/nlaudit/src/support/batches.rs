//! Rule adds and deletes sent in chunks of datagrams, so that a long change can show its
//! progress and stop at a signal between datagrams (see `interrupt.rs`). One chunk is one
//! `Client::batch` call: a few datagrams, one round trip each.

use std::borrow::Borrow;

use nlaudit_proto::{
    BatchOp, BatchOutcome, Client, Errno, ItemResult, OnError, RuleData, Transport,
};

use crate::support::interrupt::{self, Stop};
use crate::support::progress::Progress;

/// Deletes per chunk: each costs the kernel an RCU grace period (about 12 ms), so a signal
/// is acted on within half a second.
const DELETE_CHUNK: usize = 32;
/// Adds per chunk (fast: tens of microseconds each).
const ADD_CHUNK: usize = 512;

/// Whether a pending SIGINT/SIGTERM may stop the batch before a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interruptible {
    /// Stop before the next chunk (the caller reports what is in force).
    Yes,
    /// Finish the batch (a re-add's delete must be followed by its add).
    No,
}

/// What a batch did.
#[derive(Debug)]
pub struct Sent {
    /// One result per rule, in order (rules not sent are `NotReached`).
    pub results: BatchOutcome,
    /// The signal that stopped it before every rule was sent.
    pub interrupted: Option<Stop>,
}

/// Sends `rules` as adds or deletes, chunk by chunk, counting them on `progress`.
pub fn send<T: Transport>(
    c: &mut Client<T>,
    op: BatchOp,
    rules: &[impl Borrow<RuleData>],
    on_error: OnError,
    progress: &mut Progress,
    interruptible: Interruptible,
) -> nlaudit_proto::Result<Sent> {
    let chunk = match op {
        BatchOp::Delete => DELETE_CHUNK,
        _ => ADD_CHUNK,
    };
    let mut results: Vec<ItemResult> = Vec::with_capacity(rules.len());
    let mut interrupted = None;
    for part in rules.chunks(chunk) {
        if interruptible == Interruptible::Yes {
            interrupted = interrupt::pending();
            if interrupted.is_some() {
                break;
            }
        }
        let r = c.batch(op, part, on_error)?;
        let refused = r.first_refusal().is_some();
        results.extend(r);
        progress.advance(part.len());
        if refused && on_error == OnError::Stop {
            break;
        }
    }
    results.resize(rules.len(), ItemResult::NotReached);
    Ok(Sent { results: BatchOutcome::from_items(results), interrupted })
}

/// What `-D [-k KEY]` did.
#[derive(Debug, Default)]
pub struct DeleteAll {
    /// Rules deleted (or gone meanwhile: ENOENT).
    pub deleted: usize,
    /// Rules the kernel would not delete.
    pub failed: usize,
    /// The signal that stopped it early.
    pub interrupted: Option<Stop>,
}

/// `auditctl -D [-k KEY]`: the rules in force (`listed`, or listed now) whose key contains
/// KEY, each sent back as a delete, in chunks. A rule that vanished meanwhile (ENOENT)
/// counts as deleted; EPERM is an error (nothing can be deleted).
pub fn delete_all<T: Transport>(
    c: &mut Client<T>,
    key: Option<&str>,
    listed: Option<Vec<RuleData>>,
    progress: impl FnOnce(usize) -> Progress,
) -> nlaudit_proto::Result<DeleteAll> {
    let rules = match listed {
        Some(r) => r,
        None => c.list_rules()?,
    };
    let rules: Vec<RuleData> =
        rules.into_iter().filter(|r| nlaudit_rules::render::key_matches(r, key)).collect();
    let mut progress = progress(rules.len());
    let sent =
        send(c, BatchOp::Delete, &rules, OnError::Continue, &mut progress, Interruptible::Yes)?;
    progress.finish();
    let mut out = DeleteAll { interrupted: sent.interrupted, ..DeleteAll::default() };
    for r in sent.results {
        match r {
            ItemResult::Done | ItemResult::Refused(Errno::ENOENT) => out.deleted += 1,
            ItemResult::Refused(Errno::EPERM) => {
                return Err(nlaudit_proto::Error::Kernel {
                    op: nlaudit_proto::Op::DeleteRule,
                    errno: Errno::EPERM,
                })
            }
            ItemResult::Refused(_) => out.failed += 1,
            ItemResult::NotReached if out.interrupted.is_some() => {}
            ItemResult::NotReached => out.failed += 1,
        }
    }
    Ok(out)
}

/// The rules in force after a signal stopped a change, and the error that says so.
pub struct InForce {
    /// The rules in force as `auditctl -l` prints them (empty when they could not be listed).
    pub listing: String,
    /// The error to return: exit code 128 + the signal, what was interrupted and how far it
    /// got, how many rules are in force.
    pub error: anyhow::Error,
}

/// After a signal stopped a change: lists the rules in force. `what` says what was
/// interrupted and how far it got.
pub fn interrupted<T: Transport>(c: &mut Client<T>, stop: Stop, what: &str) -> InForce {
    let host = nlaudit_rules::Machine::host();
    let (listing, state, rules) = match c.list_rules() {
        Ok(now) => (
            nlaudit_rules::render_listing_as(
                &now,
                None,
                host,
                crate::support::system::generation(),
            ),
            format!(
                "the kernel now holds {} rule{} (listed on standard output)",
                now.len(),
                if now.len() == 1 { "" } else { "s" }
            ),
            Some(
                now.iter()
                    .map(|r| {
                        nlaudit_rules::plan::rule_text(r, nlaudit_proto::Position::Append, host)
                    })
                    .collect(),
            ),
        ),
        Err(e) => (
            String::new(),
            format!("could not list the rules in force ({e}): run `nlaudit list`"),
            None,
        ),
    };
    let message = format!("{what}: interrupted by {}; {state}", stop.name());
    let error = match rules {
        Some(rules) => crate::support::errors::fail_in_force(stop.exit_code(), message, rules),
        None => crate::support::errors::fail(stop.exit_code(), message),
    };
    InForce { listing, error }
}
