//! Running one auditctl command line: auditctl 3.0.9's `setopt` (options take effect in
//! order, as getopt yields them), `handle_request` (the rule is sent last; a status requested
//! by a setting is printed) and `is_ready`, with their messages and return values.
//!
//! The grammar and the parse-time messages are nlaudit-rules' [`parse_command`]; this
//! module gives each [`Directive`] the effect, output and return value auditctl's code gives
//! it. auditctl's return values are kept as they are (`-3` eaten, `-2` done, `-1` failed,
//! `0` reply pending, `1` rule pending) so that the callers read like auditctl's `main` and
//! `fileopt`.

use nlaudit_proto::consts::{feature_bitmap, AUDIT_FEATURE_LOGINUID_IMMUTABLE};
use nlaudit_proto::{
    BatchOp, Client, Errno, Error as ProtoError, FeatureLock, FieldType, OnError, Refusal,
    RuleData, Setting, Status, Switch, Transport,
};
use nlaudit_rules::parse::ParseErrorKind;
use nlaudit_rules::render::{key_matches, loginuid_text, status_text};
use nlaudit_rules::{
    parse_command, Context, Directive, Machine, ParseError, Renderer, RuleCommand, Style,
};

use super::console::{number_to_errmsg, strerror, Console, Mode, Priority};
use super::USAGE;

/// `setopt`: the command was eaten with a message (a `possible` action); nothing is sent.
pub const EATEN: i32 = -3;
/// `setopt`/`handle_request`: done, nothing more to do.
pub const DONE: i32 = -2;
/// Failed.
pub const FAILED: i32 = -1;
/// A status reply is pending (printed by `handle_request`).
pub const REPLY: i32 = 0;
/// A rule is pending (sent by `handle_request`).
pub const RULE: i32 = 1;

/// What `setopt` leaves for `main`/`fileopt` and `handle_request`.
#[derive(Debug)]
pub struct Parsed {
    /// auditctl's `setopt` return value.
    pub retval: i32,
    /// The rule to add or delete, when the command built one.
    pub rule: Option<RuleCommand>,
    /// auditctl's `add != UNSET || del != UNSET`: a rule was being built (also when the
    /// command then failed), which makes `main` check `is_ready` first.
    pub rule_started: bool,
}

/// The state auditctl keeps in globals and `errno`.
pub struct Session<T: Transport> {
    /// Output.
    pub console: Console,
    open: Box<dyn FnMut() -> Result<Client<T>, ProtoError>>,
    client: Option<Client<T>>,
    /// The feature bitmap (`audit_get_features`: 0 when it cannot be read).
    features: Option<u32>,
    /// Why the feature bitmap could not be read.
    features_errno: Option<Errno>,
    /// `errno` after the last failed kernel request.
    pub errno: Option<Errno>,
    /// A kernel request was refused with ECONNREFUSED (auditctl words that as "disabled").
    pub refused: bool,
    /// `-i`/`-c` seen (rules files: go on after an error).
    pub ignore: bool,
    /// `-c` seen (1), and an error happened after it (-1).
    pub continue_error: i32,
    /// The status snapshot taken after the first setting of the command (`get_reply` prints
    /// the first AUDIT_GET reply it reads; later requests' replies are never read).
    pending_status: Option<Status>,
    /// `-l -i` or `-s -i` seen: auditctl's `interpret` is never reset, so in a rules file
    /// every later listing and status is interpreted too.
    interpret: bool,
    host: Machine,
}

impl<T: Transport> Session<T> {
    /// A session that opens its socket with `open` when first needed.
    pub fn new(
        console: Console,
        open: Box<dyn FnMut() -> Result<Client<T>, ProtoError>>,
    ) -> Session<T> {
        Session {
            console,
            open,
            client: None,
            features: None,
            features_errno: None,
            errno: None,
            refused: false,
            ignore: false,
            continue_error: 0,
            pending_status: None,
            interpret: false,
            host: Machine::host(),
        }
    }

    /// `audit_open`: opens the socket once; on failure prints libaudit's message and
    /// returns false.
    pub fn open(&mut self) -> bool {
        if self.client.is_some() {
            return true;
        }
        match (self.open)() {
            Ok(c) => {
                self.client = Some(c);
                true
            }
            Err(e) => {
                let errno = e.errno();
                self.errno = errno;
                let text = if matches!(
                    errno,
                    Some(Errno::EINVAL | Errno::EPROTONOSUPPORT | Errno::EAFNOSUPPORT)
                ) {
                    "Error - audit support not in kernel".to_string()
                } else {
                    format!("Error opening audit netlink socket ({})", error_text(&e))
                };
                self.console.msg(Priority::Err, &text);
                false
            }
        }
    }

    /// Runs a kernel request; a failure records `errno` (and ECONNREFUSED).
    fn kernel<R>(
        &mut self,
        f: impl FnOnce(&mut Client<T>) -> Result<R, ProtoError>,
    ) -> Result<R, ProtoError> {
        let Some(c) = self.client.as_mut() else {
            let e = ProtoError::Io {
                op: nlaudit_proto::Op::Open,
                source: std::io::Error::from_raw_os_error(libc::EBADF),
            };
            self.errno = Some(Errno::EBADF);
            return Err(e);
        };
        let r = f(c);
        if let Err(e) = &r {
            self.errno = e.errno();
            if self.errno == Some(Errno::ECONNREFUSED) {
                self.refused = true;
            }
        }
        r
    }

    /// `audit_get_features`: read once; 0 when the status cannot be read.
    fn features(&mut self) -> u32 {
        if let Some(f) = self.features {
            return f;
        }
        // Not through `kernel`: auditctl asks only when a rule needs it, so a failure here
        // must not look like a failed request of the command itself.
        let f = match self.client.as_mut().map(|c| c.status()) {
            Some(Ok(s)) => s.feature_bitmap.unwrap_or(0),
            Some(Err(e)) => {
                self.features_errno = e.errno();
                0
            }
            None => 0,
        };
        self.features = Some(f);
        f
    }

    /// `setopt`: parses the command and carries out its options in order (settings,
    /// listings, status...); a rule is left for [`Session::handle_request`].
    pub fn setopt(&mut self, args: &[String], lineno: Option<usize>) -> Parsed {
        self.pending_status = None;
        let mut ctx = crate::support::system::context(Some(self.features()));
        ctx.lineno = lineno;
        let directives = match parse_command(args, &ctx) {
            Ok(d) => d,
            Err(e) => return self.parse_failed(args, &ctx, &e),
        };
        let mut rule = None;
        let mut others = Vec::new();
        for d in directives {
            match d {
                Directive::Rule(r) => rule = Some(r),
                Directive::Ignored(msg) => {
                    self.console.msg(Priority::Err, &msg);
                    return Parsed { retval: EATEN, rule: None, rule_started: false };
                }
                Directive::Unsupported(opt) => {
                    self.unsupported(&opt);
                    return Parsed { retval: FAILED, rule: None, rule_started: false };
                }
                other => others.push(other),
            }
        }
        // auditctl prints a rule's warnings while parsing, before sending anything.
        if let Some(r) = &rule {
            for w in &r.warnings {
                self.console.msg(Priority::Warning, w);
            }
        }
        let rule_started = rule.is_some();
        let mut retval = if rule_started { RULE } else { REPLY };
        for d in others {
            match self.option(d) {
                Step::Next => {}
                Step::Stop(r) => {
                    retval = r;
                    break;
                }
                // `return` from inside setopt's loop: no "disabled" message.
                Step::Return(r) => return Parsed { retval: r, rule, rule_started },
            }
        }
        if retval == FAILED && self.errno == Some(Errno::ECONNREFUSED) {
            self.console.msg(Priority::Err, "The audit system is disabled");
        }
        Parsed { retval, rule, rule_started }
    }

    /// A command that does not parse. auditctl carries out options as it reads them, so the
    /// ones before the failing option have taken effect (`-v -l` prints the version, then
    /// fails; `-b 64 -e 5` sets the backlog limit, then fails): they are the longest prefix
    /// of the words that parses, less a trailing `-l`/`-s`/`-D`/`-m` (those check the whole
    /// word count, so in the full command they are the option that failed) and less the
    /// rule (sent only after a successful parse).
    fn parse_failed(&mut self, args: &[String], ctx: &Context<'_>, e: &ParseError) -> Parsed {
        let message = e.message.as_str();
        let rule_started = rule_started(args);
        let prefix = (1..args.len()).rev().find_map(|n| parse_command(&args[..n], ctx).ok());
        let mut done: Vec<Directive> = prefix
            .unwrap_or_default()
            .into_iter()
            .filter(|d| !matches!(d, Directive::Rule(_)))
            .collect();
        if matches!(
            done.last(),
            Some(Directive::List { .. } | Directive::Status { .. } | Directive::DeleteAll { .. })
        ) || matches!(done.last(), Some(Directive::Unsupported(o)) if o == "-m")
        {
            done.pop();
        }
        if let Some(Directive::Unsupported(opt)) =
            done.iter().find(|d| matches!(d, Directive::Unsupported(_)))
        {
            let opt = opt.clone();
            self.unsupported(&opt);
            return Parsed { retval: FAILED, rule: None, rule_started: false };
        }
        for d in done {
            match self.option(d) {
                Step::Next | Step::Stop(DONE) => {}
                // The option failed (or, like -h, ended the loop with -1, after which
                // auditctl reports no stray words): the end of setopt, as above.
                Step::Stop(r) => {
                    if r == FAILED && self.errno == Some(Errno::ECONNREFUSED) {
                        self.console.msg(Priority::Err, "The audit system is disabled");
                    }
                    return Parsed { retval: r, rule: None, rule_started };
                }
                // setopt returned at once.
                Step::Return(r) => return Parsed { retval: r, rule: None, rule_started },
            }
        }
        // getopt found no option at all (`optind == 1`): auditctl fails without a word;
        // 4.x's quiet libaudit does not say what only it reports (the warnings before the
        // error are said in any case).
        if args.iter().any(|a| a.len() > 1 && a.starts_with('-')) {
            let quiet = e.kind != ParseErrorKind::Empty && !ctx.generation.says_error(e);
            if !quiet {
                self.console.parse_messages(message);
            } else if let Some((warnings, _)) = message.trim_end_matches('\n').rsplit_once('\n') {
                self.console.parse_messages(warnings);
            }
        }
        // With the kernel refusing requests, auditctl's feature probe failed too (errno
        // ECONNREFUSED), so the end of setopt says "disabled".
        if message.contains("not supported by") && self.probe_refused() {
            self.console.msg(Priority::Err, "The audit system is disabled");
        }
        Parsed { retval: FAILED, rule: None, rule_started }
    }

    fn unsupported(&mut self, opt: &str) {
        self.console.note(&format!(
            "auditctl's {opt} option is not supported by nlaudit's auditctl drop-in; nothing \
             was done"
        ));
    }

    /// Whether the feature probe a failed option needed was refused (ECONNREFUSED): then
    /// that is auditctl's errno, and the end of setopt says "The audit system is disabled".
    fn probe_refused(&mut self) -> bool {
        if self.features_errno == Some(Errno::ECONNREFUSED) {
            self.errno = Some(Errno::ECONNREFUSED);
            self.refused = true;
            return true;
        }
        false
    }

    /// One option of `setopt`'s loop.
    fn option(&mut self, d: Directive) -> Step {
        match d {
            Directive::Help => {
                self.console.print(USAGE);
                // 3.0.9 fails after the usage; 4.x's `opt_usage` returns
                // OPT_SUCCESS_NO_REPLY: nothing is sent and the command succeeds.
                if crate::support::system::generation() == nlaudit_rules::Generation::V3 {
                    Step::Stop(FAILED)
                } else {
                    Step::Stop(DONE)
                }
            }
            Directive::Version => {
                self.console.print(&format!(
                    "auditctl version {}\n",
                    crate::support::system::generation().version()
                ));
                Step::Stop(DONE)
            }
            Directive::IgnoreErrors => {
                self.ignore = true;
                Step::Stop(DONE)
            }
            Directive::ContinueOnError => {
                self.ignore = true;
                self.continue_error = 1;
                Step::Stop(DONE)
            }
            Directive::Status { interpret } => {
                self.interpret |= interpret;
                Step::Stop(self.report_status())
            }
            Directive::List { key, interpret } => {
                self.interpret |= interpret;
                Step::Stop(self.list(key.as_deref(), true))
            }
            Directive::DeleteAll { key } => Step::Stop(self.delete_all(key.as_deref())),
            Directive::Enabled(n) => {
                let r = self.kernel(|c| match n {
                    2 => c.lock_configuration_until_reboot(),
                    n => c.set(Setting::Enabled(if n == 1 { Switch::On } else { Switch::Off })),
                });
                match r {
                    Ok(()) => {
                        self.request_status();
                        Step::Next
                    }
                    Err(e) => {
                        self.request_error("Error sending enable request", &e);
                        Step::Stop(FAILED)
                    }
                }
            }
            Directive::Failure(n) => {
                let r = self.kernel(|c| match n {
                    2 => c.set_failure_panic(),
                    n => c.set(Setting::Failure(n)),
                });
                self.setting_result(r, "Error sending failure mode request")
            }
            Directive::RateLimit(n) => {
                let r = self.kernel(|c| c.set(Setting::RateLimit(n)));
                self.setting_result(r, "Error sending rate limit request")
            }
            Directive::BacklogLimit(n) => {
                let r = self.kernel(|c| c.set(Setting::BacklogLimit(n)));
                self.setting_result(r, "Error sending backlog limit request")
            }
            Directive::BacklogWaitTime(n) => {
                let r = self.kernel(|c| c.set(Setting::BacklogWaitTime(n)));
                // libaudit reuses the backlog limit wording here.
                self.setting_result(r, "Error sending backlog limit request")
            }
            Directive::ResetLost => {
                if self.features() & feature_bitmap::LOST_RESET == 0 {
                    self.errmsg(-30, "reset-lost");
                    let _ = self.probe_refused();
                    return Step::Stop(FAILED);
                }
                let r = self.kernel(|c| c.reset_lost());
                self.counter_reset(r, "lost", "Error sending lost reset request", "reset-lost")
            }
            Directive::ResetBacklogWaitTimeActual => {
                let r = self.kernel(|c| c.reset_backlog_wait_time_actual());
                self.counter_reset(
                    r,
                    "backlog_wait_time_actual",
                    "Error sending backlog wait time actual reset request",
                    "reset_backlog_wait_time_actual",
                )
            }
            Directive::LoginuidImmutable => {
                let r = self.kernel(|c| {
                    c.set_feature(AUDIT_FEATURE_LOGINUID_IMMUTABLE, Switch::On, FeatureLock::Locked)
                });
                match r {
                    Ok(()) => Step::Return(DONE),
                    Err(e) => {
                        self.request_error("Error setting feature", &e);
                        Step::Stop(FAILED)
                    }
                }
            }
            // Sorted out by `setopt` before any option takes effect.
            Directive::Rule(_) | Directive::Ignored(_) | Directive::Unsupported(_) => Step::Next,
            // A directive added to nlaudit-rules later: refuse rather than guess.
            other => {
                self.console.note(&format!("unexpected auditctl directive {other:?}"));
                Step::Stop(FAILED)
            }
        }
    }

    /// `-f`, `-r`, `-b`, `--backlog_wait_time`: on success a status is requested; on failure
    /// setopt returns at once.
    fn setting_result(&mut self, r: Result<(), ProtoError>, what: &str) -> Step {
        match r {
            Ok(()) => {
                self.request_status();
                Step::Next
            }
            Err(e) => {
                self.request_error(what, &e);
                Step::Return(FAILED)
            }
        }
    }

    /// `--reset-lost`, `--reset_backlog_wait_time_actual`.
    fn counter_reset(
        &mut self,
        r: Result<u32, ProtoError>,
        name: &str,
        what: &str,
        option: &str,
    ) -> Step {
        match r {
            Ok(n) => {
                self.console.msg(Priority::Info, &format!("{name}: {n}"));
                Step::Return(DONE)
            }
            Err(e) => {
                self.request_error(what, &e);
                let n = self.errno.map_or(-libc::EIO, |e| -(e as i32));
                self.errmsg(n, option);
                Step::Stop(FAILED)
            }
        }
    }

    /// `audit_number_to_errmsg`.
    fn errmsg(&mut self, number: i32, option: &str) {
        if let Some(line) = number_to_errmsg(number, option) {
            self.console.stderr_line(&line);
        }
    }

    /// libaudit's `"<what> (%s)"` after a failed request, at `audit_priority(errno)`.
    fn request_error(&mut self, what: &str, e: &ProtoError) {
        let priority = if e.errno() == Some(Errno::ECONNREFUSED) {
            Priority::Debug
        } else {
            Priority::Warning
        };
        self.console.msg(priority, &format!("{what} ({})", error_text(e)));
    }

    /// `audit_request_status` after a setting: the first reply is the one printed.
    fn request_status(&mut self) {
        if self.pending_status.is_some() {
            return;
        }
        match self.kernel(|c| c.status()) {
            Ok(s) => self.pending_status = Some(s),
            Err(e) => self.request_error("Error sending status request", &e),
        }
    }

    /// `-s [-i]` (`report_status`): the status block, then the loginuid_immutable line.
    fn report_status(&mut self) -> i32 {
        match self.kernel(|c| c.status()) {
            Ok(s) => {
                let text =
                    status_text(&s, if self.interpret { Style::Interpreted } else { Style::Plain });
                self.console.print(&text);
            }
            Err(e) => {
                self.request_error("Error sending status request", &e);
                // Only EPERM makes libaudit's return value -1; for other errors auditctl
                // waits for a reply that never comes, then goes on as if all was well.
                if e.errno() == Some(Errno::EPERM) {
                    return FAILED;
                }
            }
        }
        match self.kernel(|c| c.features()) {
            Ok(f) => {
                let bit = 1u32 << AUDIT_FEATURE_LOGINUID_IMMUTABLE;
                if f.mask & bit != 0 {
                    self.console.print(&loginuid_text(&f));
                }
            }
            Err(e) => {
                self.request_error("Error getting feature", &e);
                if e.errno() == Some(Errno::EPERM) {
                    return FAILED;
                }
            }
        }
        DONE
    }

    /// `-l [-k KEY | -i]`; also the listing `-D` prints (`report_errors` false: auditctl
    /// ignores the outcome there).
    fn list(&mut self, key: Option<&str>, report_errors: bool) -> i32 {
        match self.kernel(|c| c.list_rules()) {
            Ok(rules) => {
                let text = self.listing(&rules, key);
                self.console.print(&text);
                DONE
            }
            Err(e) => {
                self.list_error(&e);
                if report_errors {
                    FAILED
                } else {
                    DONE
                }
            }
        }
    }

    /// `audit_request_rules_list_data`'s message (none for EINVAL).
    fn list_error(&mut self, e: &ProtoError) {
        if e.errno() != Some(Errno::EINVAL) {
            self.request_error("Error sending rule list data request", e);
        }
    }

    /// The text of `auditctl -l`: every rule whose key contains `key`; `No rules` when the
    /// kernel has none at all.
    fn listing(&self, rules: &[RuleData], key: Option<&str>) -> String {
        if rules.is_empty() {
            return "No rules\n".to_string();
        }
        let style = if self.interpret { Style::Interpreted } else { Style::Plain };
        let mut r =
            Renderer::new(self.host).style(style).generation(crate::support::system::generation());
        let mut out = String::new();
        for rule in rules.iter().filter(|x| key_matches(x, key)) {
            out.push_str(&r.rule(rule));
            out.push('\n');
        }
        out
    }

    /// `-D [-k KEY]` (delete_all.c): lists, sends each matching rule back as a delete, then
    /// lists again (with the same key filter).
    fn delete_all(&mut self, key: Option<&str>) -> i32 {
        let rules = match self.kernel(|c| c.list_rules()) {
            Ok(r) => r,
            Err(e) => {
                self.list_error(&e);
                return FAILED;
            }
        };
        let doomed: Vec<RuleData> = rules.into_iter().filter(|r| key_matches(r, key)).collect();
        // Batched, stopping after the datagram that holds the first failure (auditctl sends
        // them one by one and stops at the first failure).
        match self.kernel(|c| c.batch(BatchOp::Delete, &doomed, OnError::Stop)) {
            Ok(results) => {
                if let Some(Refusal { errno, .. }) = results.first_refusal() {
                    self.errno = Some(errno);
                    self.refused |= errno == Errno::ECONNREFUSED;
                    let text = format!("Error deleting rule ({})", strerror(errno as i32));
                    self.console.msg(Priority::Err, &text);
                    return FAILED;
                }
            }
            Err(e) => {
                let text = format!("Error deleting rule ({})", error_text(&e));
                self.console.msg(Priority::Err, &text);
                return FAILED;
            }
        }
        self.list(key, false);
        DONE
    }

    /// `is_ready`: false (with auditctl's message) when rules cannot change: immutable mode,
    /// or the kernel refusing requests (ECONNREFUSED, auditctl's "disabled").
    pub fn is_ready(&mut self) -> bool {
        if self.client.is_none() {
            return true;
        }
        match self.kernel(|c| c.status()) {
            Ok(s) if s.enabled.is_locked() => {
                self.console.msg(
                    Priority::Err,
                    "The audit system is in immutable mode, no rule changes allowed",
                );
                false
            }
            Err(e) if e.errno() == Some(Errno::ECONNREFUSED) => {
                self.console.msg(Priority::Err, "The audit system is disabled");
                false
            }
            _ => true,
        }
    }

    /// `handle_request`: prints the status a setting asked for, or sends the rule. Returns 0
    /// or -1.
    pub fn handle_request(&mut self, p: Parsed) -> i32 {
        match p.retval {
            REPLY => {
                if let Some(s) = self.pending_status.take() {
                    let text = status_text(
                        &s,
                        if self.interpret { Style::Interpreted } else { Style::Plain },
                    );
                    self.console.print(&text);
                }
                0
            }
            DONE => 0,
            r if r >= RULE => match p.rule {
                Some(rule) => self.send_rule(&rule),
                None => 0,
            },
            _ => FAILED,
        }
    }

    /// Adds or deletes the rule (with auditctl's retry for legacy kernels: a watch on a
    /// directory that gets EINVAL is sent again as a plain watch).
    fn send_rule(&mut self, rc: &RuleCommand) -> i32 {
        let send = |s: &mut Self, rule: &RuleData| {
            s.kernel(|c| if rc.delete { c.delete_rule(rule) } else { c.add_rule(rule) })
        };
        let first = send(self, &rc.rule);
        // handle_request sends quietly, then switches messages to stderr for good.
        self.console.mode = Mode::Stderr;
        let Err(e) = first else { return 0 };
        let what = if rc.delete {
            "Error sending delete rule data request"
        } else {
            "Error sending add rule data request"
        };
        if e.errno() == Some(Errno::EINVAL)
            && rc.rule.fields.first().is_some_and(|f| f.field == FieldType::AUDIT_DIR)
        {
            let mut legacy = rc.rule.clone();
            if let Some(f) = legacy.fields.first_mut() {
                f.field = FieldType::AUDIT_WATCH;
            }
            return match send(self, &legacy) {
                Ok(()) => 0,
                Err(_) if !crate::support::system::generation().libaudit_reports() => FAILED,
                Err(e) => {
                    // Now libaudit's own message, at its priority.
                    if rc.delete && e.errno() == Some(Errno::ENOENT) {
                        self.console.msg(
                            Priority::Warning,
                            "Error sending delete rule request (No rule matches)",
                        );
                    } else {
                        self.request_error(what, &e);
                    }
                    FAILED
                }
            };
        }
        let text = match e.errno() {
            Some(Errno::EEXIST) => "Rule exists".to_string(),
            _ => error_text(&e),
        };
        self.console.msg(Priority::Err, &format!("{what} ({text})"));
        FAILED
    }
}

/// How an option of setopt's loop ends.
enum Step {
    /// On to the next option.
    Next,
    /// The loop ends with this return value (then setopt's end-of-loop checks).
    Stop(i32),
    /// setopt returns this at once.
    Return(i32),
}

/// `strerror` of the request's errno; for failures without one (a timeout, a reply that
/// does not decode), nlaudit's own description.
fn error_text(e: &ProtoError) -> String {
    match e.errno() {
        Some(Errno::EEXIST) if e.op() == nlaudit_proto::Op::AddRule => "Rule exists".to_string(),
        Some(errno) => strerror(errno as i32),
        None => e.to_string(),
    }
}

/// Whether auditctl had started a rule (`add`/`del` set) by the time a command failed to
/// parse: some `-w`/`-W PATH`, or `-a`/`-A`/`-d` with a valid list,action pair. Read from
/// the words, getopt-style; the parser's error does not say how far it got, so an option
/// after the failing one counts too (this only matters in immutable mode or when the
/// kernel refuses requests, where auditctl then exits 0).
fn rule_started(args: &[String]) -> bool {
    const WITH_ARG: &str = "CefrbaAdSFmRwWkpq";
    const NO_ARG: &str = "hicslDvt";
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            if !long.contains('=')
                && ["backlog_wait_time", "signal"].iter().any(|l| l.starts_with(long))
            {
                i += 1;
            }
            continue;
        }
        let Some(body) = a.strip_prefix('-').filter(|b| !b.is_empty()) else { continue };
        for (j, c) in body.char_indices() {
            if WITH_ARG.contains(c) {
                let rest = &body[j + c.len_utf8()..];
                let value = if rest.is_empty() {
                    i += 1;
                    args.get(i - 1).map(String::as_str)
                } else {
                    Some(rest)
                };
                match (c, value) {
                    ('w' | 'W', Some(_)) => return true,
                    ('a' | 'A' | 'd', Some(v)) if is_list_action(v) => return true,
                    _ => {}
                }
                break;
            } else if !NO_ARG.contains(c) {
                break;
            }
        }
    }
    false
}

/// `list,action` or `action,list` as `audit_rule_setup` accepts it.
fn is_list_action(v: &str) -> bool {
    const LISTS: [&str; 5] = ["exit", "task", "user", "exclude", "filesystem"];
    const ACTIONS: [&str; 2] = ["always", "never"];
    match v.split_once(',') {
        Some((a, b)) if !b.contains(',') => {
            (LISTS.contains(&a) && ACTIONS.contains(&b))
                || (ACTIONS.contains(&a) && LISTS.contains(&b))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn rule_started_reads_options_as_getopt() {
        for (line, want) in [
            ("-a always,exit -F foo=1", true),
            ("-aexit,never -F foo=1", true),
            ("-a bogus,exit -F foo=1", false),
            ("-w /etc/passwd -p z", true),
            ("-W /etc/passwd -k", true),
            ("-l -k -w", false),
            ("-k -a", false),
            ("-e 3", false),
            ("--backlog_wait_time -w", false),
        ] {
            assert_eq!(rule_started(&words(line)), want, "{line}");
        }
    }
}
