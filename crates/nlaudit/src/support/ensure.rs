//! The kernel half of an `ensure` (docker and profiles alike): add the planned rules one by
//! one (a rule already in force is not an error), then turn auditing on when planned, so
//! that audit starts with every rule in.

use nlaudit_proto::{Client, Errno, Error as ProtoError, RuleData, Setting, Switch, Transport};

use crate::support::errors::explain;

/// Whether to change anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Say what would be done.
    DryRun,
    /// Do it.
    Apply,
}

/// What became of one rule of the plan.
#[derive(Debug)]
pub enum AddResult {
    /// Sent (or, dry run, would be).
    Sent,
    /// The kernel already held it (EEXIST).
    InForce,
    /// The kernel refused it: the sentence why.
    Failed(String),
}

/// What the kernel half did.
#[derive(Debug, Default)]
pub struct KernelDone {
    /// One per rule given.
    pub adds: Vec<AddResult>,
    /// Turning auditing on, when asked for and not a dry run.
    pub enabled: Option<Result<(), ProtoError>>,
}

impl KernelDone {
    /// Whether turning auditing on failed (the caller then persists nothing).
    pub fn enable_failed(&self) -> bool {
        matches!(self.enabled, Some(Err(_)))
    }
}

/// Adds `rules` (nothing is sent in a dry run), then sets enabled 1 when `enable`.
pub fn apply_live<'r, T: Transport>(
    c: &mut Client<T>,
    rules: impl IntoIterator<Item = &'r RuleData>,
    enable: bool,
    mode: Mode,
) -> KernelDone {
    let mut done = KernelDone::default();
    for rule in rules {
        let r = if mode == Mode::DryRun { Ok(()) } else { c.add_rule(rule) };
        done.adds.push(match r {
            Ok(()) => AddResult::Sent,
            Err(ProtoError::Kernel { errno: Errno::EEXIST, .. }) => AddResult::InForce,
            Err(e) => AddResult::Failed(explain(&e).1),
        });
    }
    if enable && mode == Mode::Apply {
        done.enabled = Some(c.set(Setting::Enabled(Switch::On)));
    }
    done
}
