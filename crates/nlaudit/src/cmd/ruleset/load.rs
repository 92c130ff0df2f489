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
    Op, RuleData, Setting, Switch, Transport,
};
use nlaudit_rules::plan::ErrorMode;
use nlaudit_rules::render::status_listing;
use nlaudit_rules::{normalize, Directive, Machine, Renderer, Style};

use super::source::{self, rule_error, Parsed, Source};
use crate::support::batches::{self, Interruptible};
use crate::support::errors::{code, explain, fail_at};
use crate::support::interrupt;
use crate::support::progress::Progress;
use crate::support::session;

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
    /// What the file's `-l`, `-s`, `--reset-lost` lines print, and the rules in force
    /// after an interruption, for standard output.
    pub output: String,
    /// Warnings and the errors passed over (`-c`/`-i`), for standard error.
    pub notes: Vec<String>,
    /// After a stop, with `--json`: the rules in force, as `list` prints them.
    pub in_force: Option<Vec<String>>,
}

impl Outcome {
    /// Adds the counts, text and notes of a later file.
    pub fn absorb(&mut self, o: Outcome) {
        self.added += o.added;
        self.deleted += o.deleted;
        self.settings += o.settings;
        self.counted_errors += o.counted_errors;
        self.ignored_errors += o.ignored_errors;
        self.output += &o.output;
        self.notes.extend(o.notes);
        if o.stopped.is_some() {
            self.stopped = o.stopped;
        }
    }
}

/// The rules the kernel held before the file ran, when they were listed in advance for a
/// leading `-D`.
pub type Listed = Option<Vec<RuleData>>;

struct Loader<'a, 'p, T: Transport> {
    c: &'a mut Client<T>,
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

/// Checks a whole file before anything is sent: the first line that does not parse, or
/// whose rule the kernel would refuse on this machine (a watched path's directory missing),
/// while no `-c`/`-i` is in force is the file's error and nothing of any input is run.
/// (Under `-c`/`-i` such lines are reported and passed over when the file runs, as
/// `auditctl -R` does.) The auditctl drop-in keeps auditctl's line-by-line behaviour.
pub fn check(src: &Source, parsed: &[Parsed], mut mode: ErrorMode) -> Result<()> {
    let refuse = |i: usize, code: u8, msg: String| {
        fail_at(
            code,
            src.location(i),
            format!(
                "{msg}\nnothing was changed: every line of every input is checked before \
                 the first is sent; fix it, or put `-c` or `-i` before it (or pass -c/-i) to \
                 pass such lines over"
            ),
        )
    };
    for (i, p) in parsed {
        match p {
            Err(e) if mode.stops() => return Err(refuse(*i, code::USAGE, e.message.clone())),
            Err(_) => {}
            Ok(directives) => {
                for d in directives {
                    match d {
                        Directive::IgnoreErrors => mode.ignore_errors = true,
                        Directive::ContinueOnError => mode.continue_on_error = true,
                        Directive::Rule(rc) if !rc.delete && mode.stops() => {
                            if let Some(why) = source::missing_path(&rc.rule) {
                                let msg = format!("{} ({why})", rule_error(false, Errno::ENOENT));
                                return Err(refuse(*i, code::FAILED, msg));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    Ok(())
}

fn joined<T>(h: std::thread::JoinHandle<Result<T>>) -> Result<T> {
    h.join().map_err(|_| anyhow::anyhow!("a kernel request thread panicked"))?
}

/// Loads the sources through the clients `connect` opens: parses and [`check`]s them all,
/// then runs them one after the other; the first that stops ends the run.
///
/// The status (and, for a set that starts with `-D`, the rules to delete) are fetched on
/// other threads while the files are parsed: each reply waits for a kernel thread to be
/// spawned for it (kernel/audit.c `audit_send_reply`, `audit_list_rules_send`), which takes
/// milliseconds on a busy machine. Nothing changes before the status is checked.
pub fn run_all<T, C>(connect: C, sources: &[Source], mode: ErrorMode) -> Result<Outcome>
where
    T: Transport + Send + 'static,
    C: Fn() -> Result<Client<T>> + Send + Sync + 'static,
{
    let connect = std::sync::Arc::new(connect);
    let opener = std::sync::Arc::clone(&connect);
    let status = std::thread::spawn(move || -> Result<_> {
        let mut c = opener()?;
        let s = c.status()?;
        Ok((c, s))
    });
    let listing = sources.first().filter(|s| source::starts_with_delete_all(s)).map(|_| {
        let opener = std::sync::Arc::clone(&connect);
        std::thread::spawn(move || -> Result<_> { Ok(opener()?.list_rules()?) })
    });
    let mut parsed: Vec<_> = sources.iter().map(|s| source::parse(s, None)).collect();
    let (mut c, status) = joined(status)?;
    session::refuse_if_immutable(&status)?;
    if !source::default_features_hold(status.feature_bitmap) {
        parsed = sources.iter().map(|s| source::parse(s, status.feature_bitmap)).collect();
    }
    // Every line of every input is checked before the first message is sent.
    for (src, parsed) in sources.iter().zip(&parsed) {
        check(src, parsed, mode)?;
    }
    let mut listed = listing.map(joined).transpose()?;
    let mut total = Outcome::default();
    for (src, parsed) in sources.iter().zip(&parsed) {
        total.absorb(run(&mut c, src, parsed, mode, listed.take()));
        if total.stopped.is_some() {
            break;
        }
    }
    // `--json` says what is in force after a stop part-way (the text has the error alone).
    if total.stopped.is_some() && crate::support::output::json_command().is_some() {
        let host = Machine::host();
        total.in_force = c.list_rules().ok().map(|now| {
            now.iter()
                .map(|r| nlaudit_rules::plan::rule_text(r, nlaudit_proto::Position::Append, host))
                .collect()
        });
    }
    Ok(total)
}

/// Runs one rules file (already parsed and [`check`]ed) on the kernel.
pub fn run<T: Transport>(
    c: &mut Client<T>,
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

impl<'p, T: Transport> Loader<'_, 'p, T> {
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
        let location = self.src.location(i);
        let text = format!("{location}: {msg}");
        if self.mode.stops() {
            self.out.stopped = Some(fail_at(code, location, msg));
            return Err(Stop);
        }
        self.out.notes.push(format!("nlaudit: {text}"));
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

    /// A SIGINT/SIGTERM noted since the last safe point stops the file here.
    fn safe_point(&mut self, i: usize) -> Result<(), Stop> {
        match interrupt::pending() {
            None => Ok(()),
            Some(stop) => {
                let what = format!("load stopped before {}", self.src.location(i));
                let f = batches::interrupted(self.c, stop, &what);
                self.out.output += &f.listing;
                self.out.stopped = Some(f.error);
                Err(Stop)
            }
        }
    }

    fn directive(&mut self, i: usize, d: &'p Directive) -> Result<(), Stop> {
        if let Directive::Rule(rc) = d {
            self.out.notes.extend(rc.warnings.iter().cloned());
            if !rc.delete {
                self.pending.push(&rc.rule);
                self.pending_lines.push(i);
                return Ok(());
            }
        }
        self.flush()?;
        self.safe_point(i)?;
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
                Ok(d) if d.interrupted.is_some() => {
                    self.out.deleted += d.deleted;
                    self.safe_point(i)?;
                }
                Ok(d) if d.failed == 0 => self.out.deleted += d.deleted,
                Ok(d) => {
                    self.out.deleted += d.deleted;
                    self.error(
                        i,
                        code::FAILED,
                        format!("Error deleting rule ({} rules could not be deleted)", d.failed),
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
                        let mut r = Renderer::new(Machine::host())
                            .style(Style::Interpreted)
                            .generation(crate::support::system::generation());
                        rules.iter().map(|x| r.rule(x) + "\n").collect()
                    } else {
                        nlaudit_rules::render_listing_as(
                            &rules,
                            key.as_deref(),
                            Machine::host(),
                            crate::support::system::generation(),
                        )
                    };
                    self.out.output += &text;
                }
                Err(e) => return Err(self.broken(i, e)),
            },
            Directive::Status { .. } => match session::read_status(self.c) {
                Ok(r) => self.out.output += &status_listing(&r.status, r.features.as_ref()),
                Err(e) => {
                    self.out.stopped = Some(e.context(self.src.location(i)));
                    return Err(Stop);
                }
            },
            Directive::ResetLost => match self.c.reset_lost() {
                Ok(n) => self.out.output += &format!("lost: {n}\n"),
                Err(e) => {
                    self.kernel(i, e, |e| format!("Error resetting lost ({})", errno(e).desc()))?
                }
            },
            Directive::ResetBacklogWaitTimeActual => {
                match self.c.reset_backlog_wait_time_actual() {
                    Ok(n) => self.out.output += &format!("backlog_wait_time_actual: {n}\n"),
                    Err(e) => self.kernel(i, e, |e| {
                        format!("Error resetting backlog_wait_time_actual ({})", errno(e).desc())
                    })?,
                }
            }
            Directive::Version | Directive::Help => {}
            Directive::Ignored(msg) => self.out.notes.push(msg.clone()),
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
        let mut progress = Progress::hidden();
        let sent = batches::send(
            self.c,
            BatchOp::Add,
            &rules,
            on_error,
            &mut progress,
            Interruptible::Yes,
        );
        let (results, interrupted) = match sent {
            Ok(s) => (s.results, s.interrupted),
            Err(e) => return Err(self.broken(lines[0], e)),
        };
        for (k, res) in results.iter().enumerate() {
            match res {
                ItemResult::Done => self.out.added += 1,
                ItemResult::Refused(errno) if stops => {
                    let msg = rule_error(false, *errno);
                    let (code, _) = explain(&ProtoError::Kernel { op: Op::AddRule, errno: *errno });
                    let undone = self.roll_back(&rules, &results, k + 1);
                    let location = self.src.location(lines[k]);
                    self.out.stopped = Some(fail_at(code, location, format!("{msg}{undone}")));
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
        if interrupted.is_some() {
            let next = results
                .iter()
                .position(|r| *r == ItemResult::NotReached)
                .and_then(|k| lines.get(k));
            self.safe_point(next.copied().unwrap_or(lines[0]))?;
        }
        Ok(())
    }

    /// `auditctl -D [-k KEY]`, from the list made in advance when there is one.
    fn delete_all(&mut self, key: Option<&str>) -> nlaudit_proto::Result<batches::DeleteAll> {
        let listed = self.listed.take();
        batches::delete_all(self.c, key, listed, |n| {
            Progress::new("load: rules deleted", n, n, crate::support::progress::Show::OnTerminal)
        })
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use nlaudit_proto::MsgType;

    use super::*;
    use crate::cmd::ruleset::source::SourceLine;
    use crate::support::errors::Failure;
    use crate::testsupport::{Locked, Unlocked};

    fn file(name: &str, text: &str) -> Source {
        Source {
            files: vec![name.into()],
            lines: text
                .lines()
                .enumerate()
                .map(|(i, t)| SourceLine { text: t.to_string(), file: 0, line: i + 1 })
                .collect(),
            merged: None,
        }
    }

    /// Runs load on a fake kernel (one per connection, all recording into one log); returns
    /// the result and the message types sent.
    fn on<T: Transport + Send + 'static>(
        fake: impl Fn(Arc<Mutex<Vec<MsgType>>>) -> T + Send + Sync + 'static,
        sources: &[Source],
    ) -> (Result<Outcome>, Vec<MsgType>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&sent);
        let connect = move || Ok(Client::with_transport(fake(Arc::clone(&log))));
        let r = run_all(connect, sources, ErrorMode::default());
        let sent = sent.lock().expect("lock").clone();
        (r, sent)
    }

    /// A parse error in the second file: nothing of the first is sent (issue 13's `-D`,
    /// `-b 8192`, rule, then `-F uidd=0`): only the status is asked.
    #[test]
    fn a_parse_error_anywhere_sends_nothing() {
        let good = file("a.rules", "-b 8192\n-w /etc/passwd -p wa -k k\n");
        let bad =
            file("b.rules", "-b 8192\n-w /etc/passwd -p wa -k k2\n-a always,exit -F uidd=0\n");
        let fake = |sent| Unlocked(Locked { sent, ..Locked::default() });
        let (r, sent) = on(fake, &[good, bad]);
        let e = r.expect_err("refused");
        let f = e.downcast_ref::<Failure>().expect("a failure");
        assert_eq!(f.code, code::USAGE);
        assert!(f.message.starts_with("b.rules:3: "), "{}", f.message);
        assert!(f.message.contains("nothing was changed"), "{}", f.message);
        assert_eq!(sent, [MsgType::AUDIT_GET]);
    }

    /// On a locked kernel load refuses before any change.
    #[test]
    fn a_locked_kernel_is_refused_before_any_change() {
        let fake = |sent| Locked { sent, ..Locked::default() };
        let (r, sent) = on(fake, &[file("a.rules", "-w /etc/passwd -p wa -k k\n")]);
        let e = r.expect_err("refused");
        assert_eq!(e.downcast_ref::<Failure>().map(|f| f.code), Some(code::IMMUTABLE));
        assert_eq!(sent, [MsgType::AUDIT_GET]);
    }

    /// The `-l`/`-s` lines' output is data of the outcome, printed after the kernel calls.
    #[test]
    fn listing_lines_are_collected_not_printed() {
        let fake = |sent| Unlocked(Locked { sent, ..Locked::default() });
        let (r, sent) = on(fake, &[file("a.rules", "-w /etc/passwd -p wa -k k\n-l\n-s\n")]);
        let o = r.expect("loaded");
        assert_eq!(o.added, 1);
        assert!(
            o.output.contains("No rules") || o.output.is_empty() || o.output.contains("enabled 1"),
            "{}",
            o.output
        );
        assert!(o.output.contains("enabled 1"), "{}", o.output);
        assert_eq!(sent.first(), Some(&MsgType::AUDIT_GET));
        assert!(
            sent.contains(&MsgType::AUDIT_ADD_RULE) && sent.contains(&MsgType::AUDIT_LIST_RULES)
        );
    }
}
