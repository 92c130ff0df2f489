//! `nlaudit load`: run rules files with `auditctl -R` semantics, with rule adds batched.
//!
//! Line by line, as auditctl: rules are added or deleted, control lines run in place, and
//! the first error stops the file unless a `-c` or `-i` line (or flag) came before it. The
//! only difference is speed: consecutive rule adds go to the kernel as one batch of netlink
//! messages per datagram (kernel/audit.c `audit_receive` walks every message of a
//! datagram). When a rule of a batch fails and the file must stop there, the rules of the
//! same datagram after it (which the kernel did process) are deleted again, so the kernel
//! ends up holding exactly what `auditctl -R` would have left.

use anyhow::Result;
use nlaudit_proto::consts::AUDIT_FEATURE_LOGINUID_IMMUTABLE;
use nlaudit_proto::{
    BatchOp, BatchOutcome, Client, Errno, Error as ProtoError, FeatureLock, ItemResult, OnError,
    Op, RuleData, Setting, Switch,
};
use nlaudit_rules::plan::ErrorMode;
use nlaudit_rules::render::key_matches;
use nlaudit_rules::{normalize, render_listing, Directive, Machine, Renderer, Style};

use super::source::{rule_error, Parsed, Source};
use crate::errors::{code, explain, fail};
use crate::status_cmd;

/// What a load did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Rules added (and still in force).
    pub added: usize,
    /// Rules deleted (`-d`, `-W`, `-D`).
    pub deleted: usize,
    /// Settings changed.
    pub settings: usize,
    /// Errors passed over because `-c` was in force (they make the load fail at the end).
    pub counted_errors: usize,
    /// Errors passed over because only `-i` was in force.
    pub ignored_errors: usize,
    /// The error that stopped the file, if one did.
    pub stopped: Option<anyhow::Error>,
}

/// The rules the kernel held before the file ran, when they were listed in advance for a
/// leading `-D`.
pub type Listed = Option<Vec<RuleData>>;

struct Loader<'a, 'p> {
    c: &'a mut Client,
    src: &'a Source,
    mode: ErrorMode,
    /// Rule adds not sent yet, and their lines.
    pending: Vec<&'p RuleData>,
    pending_lines: Vec<usize>,
    /// Used by the first command that reaches the kernel if it is a `-D`; dropped by any
    /// other (the list would be stale).
    listed: Listed,
    out: Outcome,
}

/// Stops the file: the error is in `Outcome::stopped`.
struct Stop;

/// Runs one rules file (already parsed) on the kernel.
pub fn run(
    c: &mut Client,
    src: &Source,
    parsed: &[Parsed],
    mode: ErrorMode,
    listed: Listed,
) -> Outcome {
    let mut l = Loader {
        c,
        src,
        mode,
        pending: Vec::new(),
        pending_lines: Vec::new(),
        listed,
        out: Outcome::default(),
    };
    let _ = l.all(parsed);
    l.out
}

impl<'p> Loader<'_, 'p> {
    fn all(&mut self, parsed: &'p [Parsed]) -> Result<(), Stop> {
        for (i, p) in parsed {
            match p {
                Ok(directives) => {
                    for d in directives {
                        self.directive(*i, d)?;
                    }
                }
                Err(e) => {
                    self.flush()?;
                    self.error(*i, code::USAGE, e.message.clone())?;
                }
            }
        }
        self.flush()
    }

    /// An error on line `i`: stops the file, or is reported and passed over.
    fn error(&mut self, i: usize, code: u8, msg: String) -> Result<(), Stop> {
        let text = format!("{}: {msg}", self.src.location(i));
        if self.mode.stops() {
            self.out.stopped = Some(fail(code, text));
            return Err(Stop);
        }
        eprintln!("nlaudit: {text}");
        if self.mode.continue_on_error {
            self.out.counted_errors += 1;
        } else {
            self.out.ignored_errors += 1;
        }
        Ok(())
    }

    /// A failure that is not about the line (the socket, a timeout): always stops.
    fn broken(&mut self, i: usize, e: ProtoError) -> Stop {
        let loc = self.src.location(i);
        self.out.stopped = Some(anyhow::Error::new(e).context(format!("{loc}: stopped")));
        Stop
    }

    /// A kernel refusal is the line's error; anything else stops.
    fn kernel(
        &mut self,
        i: usize,
        e: ProtoError,
        what: impl FnOnce(&ProtoError) -> String,
    ) -> Result<(), Stop> {
        match e {
            ProtoError::Kernel { .. } => {
                let (code, _) = explain(&e);
                let msg = what(&e);
                self.error(i, code, msg)
            }
            other => Err(self.broken(i, other)),
        }
    }

    fn directive(&mut self, i: usize, d: &'p Directive) -> Result<(), Stop> {
        if let Directive::Rule(rc) = d {
            for w in &rc.warnings {
                eprintln!("{w}");
            }
            if !rc.delete {
                self.pending.push(&rc.rule);
                self.pending_lines.push(i);
                return Ok(());
            }
        }
        self.flush()?;
        if !matches!(
            d,
            Directive::DeleteAll { .. }
                | Directive::IgnoreErrors
                | Directive::ContinueOnError
                | Directive::Version
                | Directive::Help
                | Directive::Ignored(_)
        ) {
            self.listed = None;
        }
        match d {
            Directive::Rule(rc) => match self.c.delete_rule(&normalize(&rc.rule)) {
                Ok(()) => self.out.deleted += 1,
                Err(e) => self.kernel(i, e, |e| rule_error(true, errno(e)))?,
            },
            Directive::DeleteAll { key } => match self.delete_all(key.as_deref()) {
                Ok((deleted, 0)) => self.out.deleted += deleted,
                Ok((deleted, failed)) => {
                    self.out.deleted += deleted;
                    self.error(
                        i,
                        code::FAILED,
                        format!("Error deleting rule ({failed} rules could not be deleted)"),
                    )?;
                }
                Err(e) => {
                    self.kernel(i, e, |e| format!("Error deleting rules ({})", errno(e).desc()))?
                }
            },
            Directive::Enabled(n) => {
                let r = if *n == 2 {
                    self.c.lock_configuration_until_reboot()
                } else {
                    self.c.set(Setting::Enabled(if *n == 1 { Switch::On } else { Switch::Off }))
                };
                self.setting(i, r, "enable")?;
            }
            Directive::Failure(n) => {
                let r = if *n == 2 {
                    self.c.set_failure_panic()
                } else {
                    self.c.set(Setting::Failure(*n))
                };
                self.setting(i, r, "failure")?;
            }
            Directive::RateLimit(n) => {
                let r = self.c.set(Setting::RateLimit(*n));
                self.setting(i, r, "rate limit")?;
            }
            Directive::BacklogLimit(n) => {
                let r = self.c.set(Setting::BacklogLimit(*n));
                self.setting(i, r, "backlog limit")?;
            }
            Directive::BacklogWaitTime(n) => {
                let r = self.c.set(Setting::BacklogWaitTime(*n));
                self.setting(i, r, "backlog wait time")?;
            }
            Directive::LoginuidImmutable => {
                let r = self.c.set_feature(
                    AUDIT_FEATURE_LOGINUID_IMMUTABLE,
                    Switch::On,
                    FeatureLock::Locked,
                );
                self.setting(i, r, "loginuid immutable")?;
            }
            Directive::IgnoreErrors => self.mode.ignore_errors = true,
            Directive::ContinueOnError => self.mode.continue_on_error = true,
            Directive::List { key, interpret } => match self.c.list_rules() {
                Ok(rules) => {
                    let text = if *interpret {
                        let mut r = Renderer::new(Machine::host()).style(Style::Interpreted);
                        rules.iter().map(|x| r.rule(x) + "\n").collect()
                    } else {
                        render_listing(&rules, key.as_deref(), Machine::host())
                    };
                    print!("{text}");
                }
                Err(e) => return Err(self.broken(i, e)),
            },
            Directive::Status { .. } => match status_cmd::read(self.c) {
                Ok((s, f)) => print!("{}", status_cmd::render_status(&s, f.as_ref())),
                Err(e) => {
                    self.out.stopped = Some(e.context(self.src.location(i)));
                    return Err(Stop);
                }
            },
            Directive::ResetLost => match self.c.reset_lost() {
                Ok(n) => println!("lost: {n}"),
                Err(e) => {
                    self.kernel(i, e, |e| format!("Error resetting lost ({})", errno(e).desc()))?
                }
            },
            Directive::ResetBacklogWaitTimeActual => {
                match self.c.reset_backlog_wait_time_actual() {
                    Ok(n) => println!("backlog_wait_time_actual: {n}"),
                    Err(e) => self.kernel(i, e, |e| {
                        format!("Error resetting backlog_wait_time_actual ({})", errno(e).desc())
                    })?,
                }
            }
            Directive::Version | Directive::Help => {}
            Directive::Ignored(msg) => eprintln!("{msg}"),
            Directive::Unsupported(what) => self.error(
                i,
                code::USAGE,
                format!("{what} is not supported in a rules file by nlaudit"),
            )?,
            other => {
                self.error(i, code::USAGE, format!("{other:?} is not supported in a rules file"))?
            }
        }
        Ok(())
    }

    fn setting(&mut self, i: usize, r: nlaudit_proto::Result<()>, what: &str) -> Result<(), Stop> {
        match r {
            Ok(()) => {
                self.out.settings += 1;
                Ok(())
            }
            Err(e) => self.kernel(i, e, |e| format!("Error setting {what} ({})", errno(e).desc())),
        }
    }

    /// Sends the pending adds as one batch (several datagrams), then sorts out the results.
    fn flush(&mut self) -> Result<(), Stop> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.listed = None;
        let rules = std::mem::take(&mut self.pending);
        let lines = std::mem::take(&mut self.pending_lines);
        let stops = self.mode.stops();
        let on_error = if stops { OnError::Stop } else { OnError::Continue };
        let results = match self.c.batch(BatchOp::Add, &rules, on_error) {
            Ok(r) => r,
            Err(e) => return Err(self.broken(lines[0], e)),
        };
        for (k, res) in results.iter().enumerate() {
            match res {
                ItemResult::Done => self.out.added += 1,
                ItemResult::Refused(errno) if stops => {
                    let msg = rule_error(false, *errno);
                    let (code, _) = explain(&ProtoError::Kernel { op: Op::AddRule, errno: *errno });
                    let undone = self.roll_back(&rules, &results, k + 1);
                    let text = format!("{}: {msg}{undone}", self.src.location(lines[k]));
                    self.out.stopped = Some(fail(code, text));
                    return Err(Stop);
                }
                ItemResult::Refused(errno) => {
                    let errno = *errno;
                    // Not stopping: report and go on (the kernel went on too).
                    let msg = rule_error(false, errno);
                    let (code, _) = explain(&ProtoError::Kernel { op: Op::AddRule, errno });
                    self.error(lines[k], code, msg)?;
                }
                ItemResult::NotReached => {}
            }
        }
        Ok(())
    }

    /// `auditctl -D [-k KEY]`: every rule (whose key contains KEY) sent back as a delete,
    /// batched; from the list made in advance when there is one. A rule that vanished
    /// meanwhile (ENOENT) counts as deleted. Returns (deleted, failed); EPERM is an error.
    fn delete_all(&mut self, key: Option<&str>) -> nlaudit_proto::Result<(usize, usize)> {
        let rules = match self.listed.take() {
            Some(r) => r,
            None => self.c.list_rules()?,
        };
        let rules: Vec<RuleData> = rules.into_iter().filter(|r| key_matches(r, key)).collect();
        let mut deleted = 0;
        let mut failed = 0;
        for r in self.c.batch(BatchOp::Delete, &rules, OnError::Continue)? {
            match r {
                ItemResult::Done | ItemResult::Refused(Errno::ENOENT) => deleted += 1,
                ItemResult::Refused(Errno::EPERM) => {
                    return Err(ProtoError::Kernel { op: Op::DeleteRule, errno: Errno::EPERM })
                }
                _ => failed += 1,
            }
        }
        Ok((deleted, failed))
    }

    /// Deletes the rules of `rules[from..]` that the kernel added after the batch's first
    /// failure (it processes a whole datagram). Returns a note for the message.
    fn roll_back(&mut self, rules: &[&RuleData], results: &BatchOutcome, from: usize) -> String {
        let added: Vec<RuleData> = (from..rules.len())
            .filter(|&j| results.get(j) == Some(ItemResult::Done))
            .map(|j| normalize(rules[j]))
            .collect();
        if added.is_empty() {
            return String::new();
        }
        match self.c.batch(BatchOp::Delete, &added, OnError::Continue) {
            Ok(r) if r.all_done() => String::new(),
            Ok(r) => {
                let left = r.len() - r.counts().done;
                format!(
                    " ({left} rules after this line were already added and could not be \
                     taken back: check `nlaudit list`)"
                )
            }
            Err(e) => format!(
                " (rules after this line were already added and could not be taken back: {e}; \
                 check `nlaudit list`)"
            ),
        }
    }
}

fn errno(e: &ProtoError) -> Errno {
    e.errno().unwrap_or(Errno::UnknownErrno)
}
