//! Data-driven conformance against real auditctl 3.0.9, without root: the golden vectors in
//! tests/data were produced by `cargo xtask golden` (auditctl adds each rule, the kernel
//! lists it back).
//!
//! - valid lines: our parse, after [`normalize`], is byte-identical to what the kernel
//!   listed for auditctl's rule; our rendering of the listed bytes is auditctl's `-l` line;
//!   our warnings are auditctl's stderr; parse(render(listed)) gives the listed rule again
//!   when auditctl's text is parseable.
//! - invalid lines that auditctl refused before reaching the kernel: we refuse too, with the
//!   same message.

use std::path::Path;

use nlaudit_proto::RuleData;
#[path = "../../../tests/support/corpus.rs"]
mod corpus;

use corpus::{shell_split, unescape};
use nlaudit_rules::{normalize, parse_command, Context, Directive, Env, Machine, Renderer};

struct RealEnv;

impl Env for RealEnv {
    fn uid(&self, name: &str) -> Option<u32> {
        passwd_lookup("/etc/passwd", name)
    }
    fn gid(&self, name: &str) -> Option<u32> {
        passwd_lookup("/etc/group", name)
    }
    fn is_dir(&self, path: &str) -> bool {
        Path::new(path).is_dir()
    }
}

fn passwd_lookup(file: &str, name: &str) -> Option<u32> {
    std::fs::read_to_string(file).ok()?.lines().find_map(|l| {
        let mut p = l.split(':');
        (p.next()? == name).then(|| p.nth(1)?.parse().ok())?
    })
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0)).collect()
}

fn data(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn ctx(env: &RealEnv) -> Context<'_> {
    let mut c = Context::new(env);
    c.machine = Machine::X86_64;
    c
}

#[test]
fn valid_corpus_matches_auditctl_bytes_text_and_warnings() {
    let env = RealEnv;
    let ctx = ctx(&env);
    let (mut ok, mut classes, mut failures) = (0, 0, Vec::new());
    for line in data("golden-valid.tsv").lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [input, _exit, stderr, listed, hexes] = cols[..] else { continue };
        let listed_text = unescape(listed);
        let kernel = RuleData::decode(&hex(hexes)).expect("golden bytes decode");
        let rendered = Renderer::new(Machine::X86_64).rule(&kernel);
        let mut problems = Vec::new();
        if rendered != listed_text {
            problems.push(format!("render: {rendered:?} != {listed_text:?}"));
        }
        match parse_command(&shell_split(&unescape(input)), &ctx) {
            Ok(d) => match d.last() {
                Some(Directive::Rule(r)) => {
                    // `-S 2047`: a syscall-class selector the kernel expands to its class
                    // table (documented in normalize.rs, not predicted): text only.
                    let class_selector = r.rule.mask[63] & 0xFFFF_0000 != 0
                        && r.rule.mask[63] & 0xFFFF_0000 != 0xFFFF_0000;
                    if class_selector {
                        classes += 1;
                    } else if normalize(&r.rule) != kernel {
                        problems.push(format!("bytes differ: ours {:?}", r.rule));
                    }
                    if let Some(why) = nlaudit_rules::validate::kernel_refusal(&r.rule) {
                        problems.push(format!("validator refuses what the kernel took: {why}"));
                    }
                    let warn: String = r.warnings.iter().map(|w| format!("{w}\n")).collect();
                    if warn != unescape(stderr) {
                        problems.push(format!("warnings {warn:?} != {:?}", unescape(stderr)));
                    }
                }
                other => problems.push(format!("not a rule: {other:?}")),
            },
            Err(e) => problems.push(format!("refused: {}", e.message)),
        }
        if problems.is_empty() {
            ok += 1;
        } else {
            failures.push(format!("{input}\n    {}", problems.join("\n    ")));
        }
    }
    println!(
        "golden valid: {ok} match (of which {classes} with kernel-expanded syscall classes, \
         compared on text only), {} differ",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        ok + failures.len(),
        failures.join("\n")
    );
}

#[test]
fn invalid_corpus_is_refused_with_auditctls_message() {
    let env = RealEnv;
    let ctx = ctx(&env);
    let (mut same, mut kernel_side, mut failures) = (0, 0, Vec::new());
    let (mut einval_caught, mut einval_missed) = (0, Vec::<String>::new());
    for line in data("golden-invalid.tsv").lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [input, _exit, _stdout, stderr, _added] = cols[..] else { continue };
        let want = unescape(stderr);
        // Refusals that came from the kernel: the parse must succeed (the kernel judges).
        if want.starts_with("Error sending") {
            kernel_side += 1;
            // The kernel's EINVALs: nlaudit's own commands refuse these before sending.
            if want.contains("(Invalid argument)") {
                if let Ok(d) = parse_command(&shell_split(&unescape(input)), &ctx) {
                    if let Some(Directive::Rule(r)) = d.last() {
                        if nlaudit_rules::validate::kernel_refusal(&r.rule).is_some() {
                            einval_caught += 1;
                        } else {
                            einval_missed.push(input.to_string());
                        }
                    }
                }
            }
            continue;
        }
        match parse_command(&shell_split(&unescape(input)), &ctx) {
            Ok(d) if d.iter().any(|x| matches!(x, Directive::Help | Directive::Ignored(_))) => {
                same += 1;
            }
            Err(e) => {
                let got = format!("{}\n", e.message);
                if got == want || want.is_empty() {
                    same += 1;
                } else {
                    failures.push(format!("{input}\n    ours   {got:?}\n    theirs {want:?}"));
                }
            }
            Ok(d) => {
                // auditctl printed a warning-like refusal (e.g. `possible` is deprecated).
                failures.push(format!("{input}\n    accepted: {d:?}\n    theirs {want:?}"));
            }
        }
    }
    println!(
        "golden invalid: {same} same message, {kernel_side} refused by the kernel, {} differ",
        failures.len()
    );
    println!(
        "kernel EINVALs refused before sending by validate: {einval_caught}, missed: {} {:?}",
        einval_missed.len(),
        einval_missed
    );
    assert!(failures.is_empty(), "{} differ:\n{}", failures.len(), failures.join("\n"));
}
