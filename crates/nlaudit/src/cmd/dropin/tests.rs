//! The drop-in against a fake kernel: what it sends and prints for options that must never
//! run on a real test machine (`-e 2` locks the audit configuration until reboot, `-f 2`
//! panics the host on a lost record), and the auditctl quirks that need a kernel in a
//! particular state (immutable, refusing requests). The real-kernel differential test is
//! tests/dropin.rs.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Write};
use std::rc::Rc;
use std::time::Duration;

use nlaudit_proto::codec::{encode_message, split_datagram, Ack};
use nlaudit_proto::consts::status_mask;
use nlaudit_proto::{Client, Features, MsgType, Received, Status, Transport};

use super::console::{Console, SyslogSink};
use super::exec::Session;
use super::run;

/// A kernel that answers AUDIT_GET, AUDIT_SET, AUDIT_GET_FEATURE and AUDIT_LIST_RULES (no
/// rules), or refuses everything with one errno.
struct FakeKernel {
    status: Status,
    refuse: Option<i32>,
    /// Every AUDIT_SET payload received, decoded.
    sets: Rc<RefCell<Vec<Status>>>,
    replies: VecDeque<Vec<u8>>,
}

impl Transport for FakeKernel {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        let msgs = split_datagram(datagram).map_err(|e| io::Error::other(e.to_string()))?;
        for m in msgs {
            let (ty, seq) = (m.header.ty, m.header.seq);
            let mut reply = |t: MsgType, payload: &[u8]| {
                let mut v = Vec::new();
                encode_message(&mut v, t, 0, seq, payload).expect("encodes");
                self.replies.push_back(v);
            };
            let ack = |error: i32| Ack { error, request_seq: seq, request_type: ty }.encode();
            if let Some(errno) = self.refuse {
                reply(MsgType::NLMSG_ERROR, &ack(-errno));
                continue;
            }
            match ty {
                MsgType::AUDIT_GET => {
                    reply(MsgType::AUDIT_GET, &self.status.encode());
                    reply(MsgType::NLMSG_ERROR, &ack(0));
                }
                MsgType::AUDIT_SET => {
                    let s =
                        Status::decode(m.payload).map_err(|e| io::Error::other(e.to_string()))?;
                    if s.mask & status_mask::ENABLED != 0 {
                        self.status.enabled = s.enabled;
                    }
                    if s.mask & status_mask::FAILURE != 0 {
                        self.status.failure = s.failure;
                    }
                    if s.mask & status_mask::BACKLOG_LIMIT != 0 {
                        self.status.backlog_limit = s.backlog_limit;
                    }
                    self.sets.borrow_mut().push(s);
                    reply(MsgType::NLMSG_ERROR, &ack(0));
                }
                MsgType::AUDIT_GET_FEATURE => {
                    let f = Features { vers: 1, mask: u32::MAX, features: 0, lock: 0 };
                    reply(MsgType::AUDIT_GET_FEATURE, &f.encode());
                    reply(MsgType::NLMSG_ERROR, &ack(0));
                }
                MsgType::AUDIT_LIST_RULES => {
                    reply(MsgType::NLMSG_ERROR, &ack(0));
                    reply(MsgType::NLMSG_DONE, &[0; 4]);
                }
                _ => reply(MsgType::NLMSG_ERROR, &ack(0)),
            }
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<Option<Received>> {
        Ok(crate::testsupport::next_reply(&mut self.replies, buf))
    }
}

/// A writer whose bytes the test can read afterwards.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }
}

struct Outcome {
    code: u8,
    out: String,
    err: String,
    syslog: Vec<String>,
    sets: Vec<Status>,
}

fn status() -> Status {
    Status {
        enabled: nlaudit_proto::AuditEnabled::Enabled,
        failure: 1,
        backlog_limit: 64,
        feature_bitmap: Some(0x7f),
        backlog_wait_time: Some(60000),
        backlog_wait_time_actual: Some(0),
        ..Status::default()
    }
}

fn run_fake(line: &str, kernel_status: Status, refuse: Option<i32>) -> Outcome {
    let (out, err) = (Shared::default(), Shared::default());
    let sets = Rc::new(RefCell::new(Vec::new()));
    let console = Console::new(
        Box::new(out.clone()),
        Box::new(err.clone()),
        SyslogSink::Captured(Vec::new()),
    );
    let fake_sets = sets.clone();
    let open = move || {
        Ok(Client::with_transport(FakeKernel {
            status: kernel_status,
            refuse,
            sets: fake_sets.clone(),
            replies: VecDeque::new(),
        }))
    };
    let mut s = Session::new(console, Box::new(open));
    let args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    let code = run(&mut s, &args, true, true);
    let syslog = s.console.captured_syslog().to_vec();
    let sets = sets.borrow().clone();
    Outcome { code, out: out.text(), err: err.text(), syslog, sets }
}

#[test]
fn failure_2_sends_panic_mode_and_prints_the_status() {
    let o = run_fake("-f 2", status(), None);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.sets.len(), 1);
    assert_eq!(o.sets[0].mask, status_mask::FAILURE);
    assert_eq!(o.sets[0].failure, 2);
    assert!(o.out.starts_with("enabled 1\nfailure 2\npid 0\n"), "{}", o.out);
    assert!(!o.out.contains("loginuid_immutable"));
    assert_eq!(o.err, "");
}

#[test]
fn enabled_2_locks_the_configuration_and_prints_the_status() {
    let o = run_fake("-e 2", status(), None);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.sets.len(), 1);
    assert_eq!((o.sets[0].mask, o.sets[0].enabled.raw()), (status_mask::ENABLED, 2));
    assert!(o.out.starts_with("enabled 2\nfailure 1\n"), "{}", o.out);
}

#[test]
fn invalid_values_send_nothing() {
    for (line, msg) in [
        ("-e 3", "Enable must be 0, 1, or 2 was 3\n"),
        ("-f 2x", "Failure must be 0, 1, or 2 was 2x\n"),
        // Nothing after a failing option runs.
        ("-l -e 2", "Only -k or -i options are allowed\n"),
        ("-e 5 -e 2", "Enable must be 0, 1, or 2 was 5\n"),
    ] {
        let o = run_fake(line, status(), None);
        assert_eq!((o.code, o.err.as_str(), o.sets.len()), (255, msg, 0), "{line}");
    }
}

#[test]
fn options_before_a_bad_one_take_effect_as_in_auditctl() {
    let o = run_fake("-e 0 -f 3", status(), None);
    assert_eq!(
        (o.code, o.err.as_str(), o.out.as_str()),
        (255, "Failure must be 0, 1, or 2 was 3\n", "")
    );
    assert_eq!(o.sets.len(), 1);
    assert_eq!((o.sets[0].mask, o.sets[0].enabled.raw()), (status_mask::ENABLED, 0));
    // A terminal option prints before the stray word is reported.
    let o = run_fake("-v -l", status(), None);
    assert_eq!((o.code, o.out.as_str()), (255, "auditctl version 3.0.9\n"));
    assert_eq!(o.err, "parameter passed without an option given\n");
}

#[test]
fn the_status_printed_is_the_one_after_the_first_setting() {
    let o = run_fake("-b 100 -e 0", status(), None);
    assert_eq!(o.sets.len(), 2);
    assert!(o.out.starts_with("enabled 1\n"), "{}", o.out);
    assert!(o.out.contains("backlog_limit 100\n"), "{}", o.out);
}

#[test]
fn immutable_mode_refuses_rules_with_exit_0() {
    let locked = Status { enabled: nlaudit_proto::AuditEnabled::Locked, ..status() };
    let o = run_fake("-w /etc/passwd -k x", locked, None);
    assert_eq!(o.code, 0);
    assert_eq!(o.err, "The audit system is in immutable mode, no rule changes allowed\n");
}

#[test]
fn econnrefused_keeps_auditctls_answer_and_adds_one_honest_line() {
    let refused = Some(libc::ECONNREFUSED);
    for (line, code, auditctl_err) in [
        ("-l", 255, "The audit system is disabled\n"),
        ("-s", 0, ""),
        ("-w /etc/passwd -k x", 0, "The audit system is disabled\n"),
        ("-b 100", 255, ""),
        ("-e 1", 255, "The audit system is disabled\n"),
        ("-D", 255, "The audit system is disabled\n"),
        (
            "--reset-lost",
            255,
            "Field option not supported by kernel: reset-lost\nThe audit system is disabled\n",
        ),
        (
            "-a always,exit -F exe=/usr/bin/true",
            0,
            "Field option not supported by kernel: exe\nThe audit system is disabled\n\
             The audit system is disabled\n",
        ),
    ] {
        let o = run_fake(line, status(), refused);
        assert_eq!(o.code, code, "{line}: {}", o.err);
        assert_eq!(o.out, "", "{line}");
        let (ours, theirs): (Vec<&str>, Vec<&str>) =
            o.err.lines().partition(|l| l.starts_with("nlaudit: "));
        assert_eq!(theirs.iter().map(|l| format!("{l}\n")).collect::<String>(), auditctl_err);
        assert_eq!(ours.len(), 1, "{line}: {}", o.err);
        assert!(ours[0].contains("ECONNREFUSED"), "{}", ours[0]);
    }
    // -v asks the kernel nothing: nothing to explain.
    let o = run_fake("-v", status(), refused);
    assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (0, "auditctl version 3.0.9\n", ""));
}

#[test]
fn unsupported_options_are_named_and_refused() {
    for (line, opt) in
        [("-m hello", "-m"), ("-t", "-t"), ("-q /a,/b", "-q"), ("--signal HUP", "--signal")]
    {
        let o = run_fake(line, status(), None);
        assert_ne!(o.code, 0, "{line}");
        assert!(o.err.starts_with("nlaudit: ") && o.err.contains(opt), "{line}: {}", o.err);
        assert!(o.sets.is_empty());
    }
}

#[test]
fn no_arguments_print_usage_and_exit_1() {
    let o = run_fake("", status(), None);
    assert_eq!(o.code, 1);
    assert!(o.out.starts_with("usage: auditctl [options]\n"));
    assert!(o.syslog.is_empty());
}
