//! `ensure --profile` against a fake kernel that keeps its rules: the whole path check ->
//! plan -> execute, on an image tree for the files and the fake for the kernel. What a test
//! machine must not be used for (the immutable control would lock it until reboot) and what
//! a real kernel will not do on demand (refuse one rule in the middle of a plan).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use nlaudit_controls::fsview::FsView;
use nlaudit_controls::profile;
use nlaudit_controls::profile_check::{KernelExtra, SideVerdict};
use nlaudit_controls::profile_ensure::{plan_profiles, Enable, ProfilePlan};
use nlaudit_controls::{Kernel, RootHost, SystemEnv};
use nlaudit_proto::codec::{encode_message, split_datagram, Ack, NLM_F_MULTI};
use nlaudit_proto::consts::status_mask;
use nlaudit_proto::{AuditEnabled, Client, MsgType, Received, RuleData, Status, Transport};
use nlaudit_rules::{parse_command, split_line, Context, Directive};

use super::{check_with, execute, Chosen, Executed, Run};
use crate::support::ensure::{AddResult, Mode};

/// EINVAL, as the kernel refuses a rule it cannot take.
const EINVAL: i32 = 22;
/// EEXIST: the kernel holds an identical rule.
const EEXIST: i32 = 17;

/// What the fake kernel holds and was sent.
#[derive(Default)]
struct State {
    enabled: u32,
    rules: Vec<RuleData>,
    /// ADD_RULE of a rule carrying this key is refused (EINVAL).
    refuse_key: Option<&'static str>,
    /// Every AUDIT_ADD_RULE received (refused ones too).
    adds: usize,
    /// Every AUDIT_SET's `enabled` (when its mask has it).
    sets: Vec<u32>,
}

/// A kernel that keeps the rules it accepts (EEXIST for an identical one) and lists them.
struct FakeKernel {
    state: Rc<RefCell<State>>,
    replies: VecDeque<Vec<u8>>,
}

impl Transport for FakeKernel {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        let msgs = split_datagram(datagram).map_err(io::Error::other)?;
        let mut st = self.state.borrow_mut();
        for m in msgs {
            let (ty, seq) = (m.header.ty, m.header.seq);
            let mut out = Vec::new();
            let mut error = 0;
            match ty {
                MsgType::AUDIT_GET => {
                    let s = Status {
                        enabled: AuditEnabled::from_raw(st.enabled),
                        failure: 1,
                        ..Status::default()
                    };
                    encode_message(&mut out, MsgType::AUDIT_GET, 0, seq, &s.encode())
                        .map_err(io::Error::other)?;
                }
                MsgType::AUDIT_SET => {
                    let s = Status::decode(m.payload).map_err(io::Error::other)?;
                    if s.mask & status_mask::ENABLED != 0 {
                        st.sets.push(s.enabled.raw());
                        st.enabled = s.enabled.raw();
                    }
                }
                MsgType::AUDIT_ADD_RULE => {
                    st.adds += 1;
                    let r = RuleData::decode(m.payload).map_err(io::Error::other)?;
                    let refused =
                        st.refuse_key.is_some_and(|k| r.keys().any(|x| x == k.as_bytes()));
                    if refused {
                        error = -EINVAL;
                    } else if st.rules.contains(&r) {
                        error = -EEXIST;
                    } else {
                        st.rules.push(r);
                    }
                }
                MsgType::AUDIT_LIST_RULES => {
                    for r in &st.rules {
                        let bytes = r.encode().map_err(io::Error::other)?;
                        encode_message(
                            &mut out,
                            MsgType::AUDIT_LIST_RULES,
                            NLM_F_MULTI,
                            seq,
                            &bytes,
                        )
                        .map_err(io::Error::other)?;
                    }
                    encode_message(&mut out, MsgType::NLMSG_DONE, NLM_F_MULTI, seq, &[0; 4])
                        .map_err(io::Error::other)?;
                }
                _ => {}
            }
            let ack = Ack { error, request_seq: seq, request_type: ty };
            encode_message(&mut out, MsgType::NLMSG_ERROR, 0, seq, &ack.encode())
                .map_err(io::Error::other)?;
            self.replies.push_back(out);
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<Option<Received>> {
        Ok(crate::testsupport::next_reply(&mut self.replies, buf))
    }
}

/// The profile the tests ensure: a watch, a syscall rule over both arches, two watches of
/// one control (the second refused when asked), and the immutable control.
const PROFILE: &str = "\
profile exec-test
title ensure executor test
control 1
title sudoers
rule -w /etc/sudoers -p wa -k scope
control 2
title permissions
rule -a always,exit -F arch=$ARCH -S chmod,fchmod -F auid>=$UID_MIN -F auid!=unset -k perm_mod
control 3
title identity
rule -w /etc/passwd -p wa -k identity
rule -w /etc/group -p wa -k refuse-me
rule -w /etc/shadow -p wa -k identity
control 4
title immutable
rule -e 2
";

const RULES_DIR: &str = "/etc/audit/rules.d";
const FILE: &str = "/etc/audit/rules.d/nlaudit-exec-test.rules";

/// An image tree with /etc and a rules.d holding `persisted` (file name, content).
struct Tree(PathBuf);

impl Tree {
    fn new(tag: &str, persisted: &[(&str, &str)]) -> Tree {
        let dir = std::env::temp_dir().join(format!("nlaudit-ensure-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let rules_d = dir.join(RULES_DIR.trim_start_matches('/'));
        std::fs::create_dir_all(&rules_d).expect("rules.d");
        for (name, text) in persisted {
            std::fs::write(rules_d.join(name), text).expect("persisted rules");
        }
        Tree(dir)
    }

    fn file(&self, path: &str) -> String {
        std::fs::read_to_string(self.0.join(path.trim_start_matches('/'))).unwrap_or_default()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rule(text: &str) -> RuleData {
    let env = SystemEnv;
    let ctx = Context::new(&env);
    let d = parse_command(&split_line(text), &ctx).expect("test rule parses");
    d.into_iter()
        .find_map(|d| match d {
            Directive::Rule(r) => Some(r.rule),
            _ => None,
        })
        .expect("a rule")
}

/// One `ensure --profile` (apply): check with the fake's rules, plan, execute.
struct Ensured {
    plan: ProfilePlan,
    done: Executed,
}

fn client(state: &Rc<RefCell<State>>) -> Client<FakeKernel> {
    Client::with_transport(FakeKernel { state: Rc::clone(state), replies: VecDeque::new() })
}

fn check(tree: &Path, c: &mut Client<FakeKernel>) -> Run {
    let host = RootHost::new(tree);
    let status = c.status().expect("status");
    let rules = c.list_rules().expect("list");
    let chosen = vec![Chosen {
        profile: profile::parse("exec-test.profile", PROFILE).expect("profile"),
        variant: None,
    }];
    check_with(
        &host,
        &chosen,
        Some(RULES_DIR),
        None,
        Some(Kernel { status, rules }),
        KernelExtra::default(),
    )
    .expect("check")
}

fn ensure(tree: &Path, state: &Rc<RefCell<State>>, enable: Enable) -> Ensured {
    let host = RootHost::new(tree);
    let fs = FsView::new(&host);
    let mut c = client(state);
    let run = check(tree, &mut c);
    let plan = plan_profiles(
        &run.outcomes,
        run.sides.live.as_ref(),
        &run.sides.persisted,
        run.kernel_enabled,
        fs,
        RULES_DIR,
        enable,
    );
    let done = execute(Some(&mut c), &plan, Mode::Apply, fs);
    Ensured { plan, done }
}

fn texts(plan: &ProfilePlan) -> Vec<String> {
    plan.live.iter().map(|a| a.text.clone()).collect()
}

#[test]
fn present_in_another_form_is_not_added_and_a_second_run_sends_nothing() {
    // The kernel holds the sudoers watch as a syscall rule and chmod for b64 only; rules.d
    // holds the sudoers watch as the modern b32+b64 pair and passwd as a syscall rule.
    let tree = Tree::new(
        "forms",
        &[(
            "10-site.rules",
            "-a always,exit -F arch=b32 -F path=/etc/sudoers -F perm=wa -k site\n\
             -a always,exit -F arch=b64 -F path=/etc/sudoers -F perm=wa -k site\n\
             -a always,exit -F path=/etc/passwd -F perm=wa\n",
        )],
    );
    std::fs::create_dir_all(tree.0.join("etc")).expect("etc");
    let state = Rc::new(RefCell::new(State {
        enabled: 1,
        rules: vec![
            rule("-a always,exit -F path=/etc/sudoers -F perm=wa -k other"),
            rule("-a always,exit -F arch=b64 -S chmod -F auid>=1000 -F auid!=-1 -k x"),
        ],
        ..State::default()
    }));
    let first = ensure(&tree.0, &state, Enable::Leave);
    let live = texts(&first.plan);
    assert!(live.iter().all(|t| !t.contains("/etc/sudoers")), "{live:?}");
    // Only the missing syscalls: fchmod for b64; chmod and fchmod for b32.
    let perm: Vec<&String> = live.iter().filter(|t| t.contains("perm_mod")).collect();
    assert_eq!(perm.len(), 2, "{live:?}");
    assert!(perm.iter().any(|t| t.contains("arch=b64") && t.contains("-S fchmod ")), "{perm:?}");
    assert!(perm.iter().any(|t| t.contains("arch=b32") && t.contains("chmod,fchmod")), "{perm:?}");
    assert!(first.done.adds.iter().all(|a| matches!(a, AddResult::Sent)));
    let file = tree.file(FILE);
    assert!(!file.contains("/etc/sudoers") && !file.contains("/etc/passwd"), "{file}");
    assert!(file.contains("-w /etc/group -p wa -k refuse-me"), "{file}");
    // The immutable control is persisted, last, and never sent live.
    assert!(file.ends_with("\n-e 2\n"), "{file}");
    assert_eq!(state.borrow().sets, Vec::<u32>::new(), "no AUDIT_SET without --enable");
    let adds = state.borrow().adds;
    assert_eq!(adds, live.len());

    let second = ensure(&tree.0, &state, Enable::Leave);
    assert!(!second.plan.changes(), "{:?}", second.plan);
    assert_eq!(state.borrow().adds, adds, "the second run sends no rule");
    assert_eq!(tree.file(FILE), file, "the second run leaves the file as it was");
    assert!(state.borrow().sets.is_empty());
    // And check says: every control passes, the immutable one at boot.
    let run = check(&tree.0, &mut client(&state));
    let o = &run.outcomes[0];
    assert_eq!(o.counts().fail, 0, "{:?}", o.controls);
    let imm = o.controls.iter().find(|c| c.id == "4").expect("control 4");
    assert_eq!(imm.requirements[0].live.verdict, SideVerdict::AtBoot);
    assert!(imm.requirements[0].live.reason.contains("takes effect at boot"));
}

#[test]
fn enable_sends_enabled_1_never_2_and_e_2_moves_last() {
    // The profile's own file has `-e 2` in the middle (a hand edit): ensure moves it last.
    let tree = Tree::new(
        "order",
        &[(
            "nlaudit-exec-test.rules",
            "-w /etc/sudoers -p wa -k scope\n-e 2\n-w /etc/hosts -p wa\n",
        )],
    );
    std::fs::create_dir_all(tree.0.join("etc")).expect("etc");
    let state = Rc::new(RefCell::new(State::default()));
    let first = ensure(&tree.0, &state, Enable::TurnOn);
    assert!(first.plan.enable);
    assert!(matches!(first.done.enabled, Some(Ok(()))));
    assert_eq!(state.borrow().sets, [1], "enabled 1 only, once, after the rules");
    let file = tree.file(FILE);
    assert!(file.starts_with("-w /etc/sudoers -p wa -k scope\n-w /etc/hosts -p wa\n"), "{file}");
    assert_eq!(file.matches("-e 2").count(), 1, "{file}");
    assert!(file.ends_with("\n-e 2\n"), "{file}");
    let second = ensure(&tree.0, &state, Enable::TurnOn);
    assert!(!second.plan.changes(), "{:?}", second.plan);
    assert_eq!(state.borrow().sets, [1], "already enabled: nothing sent");
}

#[test]
fn a_refusal_midway_reports_what_is_in_force() {
    let tree = Tree::new("refusal", &[]);
    std::fs::create_dir_all(tree.0.join("etc")).expect("etc");
    let state = Rc::new(RefCell::new(State {
        enabled: 1,
        refuse_key: Some("refuse-me"),
        ..State::default()
    }));
    let first = ensure(&tree.0, &state, Enable::Leave);
    let planned = texts(&first.plan);
    let group = planned.iter().position(|t| t.contains("/etc/group")).expect("group planned");
    assert!(group + 1 < planned.len(), "the refused rule is not the last: {planned:?}");
    // Each planned rule has its result; the refused one says why, the later ones went in.
    assert_eq!(first.done.adds.len(), planned.len());
    for (i, (a, t)) in first.done.adds.iter().zip(&planned).enumerate() {
        match a {
            AddResult::Failed(why) => assert_eq!(i, group, "{t}: {why}"),
            AddResult::Sent => assert_ne!(i, group, "{t}"),
            AddResult::InForce => panic!("{t}: nothing was in force"),
        }
    }
    // What the report calls sent is exactly what the kernel holds.
    let held: Vec<String> = {
        let st = state.borrow();
        st.rules.iter().map(nlaudit_controls::profile_check::rule_text).collect()
    };
    let sent: Vec<String> = first
        .done
        .adds
        .iter()
        .zip(&planned)
        .filter(|(a, _)| matches!(a, AddResult::Sent))
        .map(|(_, t)| t.clone())
        .collect();
    assert_eq!(held, sent);
    // The file is still written (a refused kernel rule does not stop the others).
    assert!(tree.file(FILE).contains("-w /etc/group -p wa -k refuse-me"));
    // check afterwards: control 3 fails live only, on /etc/group alone.
    let run = check(&tree.0, &mut client(&state));
    let c3 = run.outcomes[0].controls.iter().find(|c| c.id == "3").expect("control 3");
    assert_eq!(c3.failing, "live");
    let failing: Vec<&str> = c3
        .requirements
        .iter()
        .filter(|r| r.live.verdict == SideVerdict::Fail)
        .map(|r| r.text.as_str())
        .collect();
    assert_eq!(failing, ["-w /etc/group -p wa -k refuse-me"]);
    // Once the kernel takes it, the next run sends that rule alone.
    state.borrow_mut().refuse_key = None;
    let adds = state.borrow().adds;
    let second = ensure(&tree.0, &state, Enable::Leave);
    assert_eq!(texts(&second.plan), ["-w /etc/group -p wa -k refuse-me"]);
    assert_eq!(state.borrow().adds, adds + 1);
}
