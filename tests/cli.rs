//! CLI tests that need no root: usage errors, bad rule text, help.

mod support;

use support::{err, nlaudit};

#[test]
fn bad_rule_text_names_the_token_and_exits_2() {
    for (args, want) in [
        (vec!["add", "-a", "always,exit", "-F", "bogus=1"], "-F unknown field: bogus"),
        (vec!["add", "-a", "always,exit", "-S", "nosuchcall"], "Syscall name unknown: nosuchcall"),
        (vec!["add", "-w", "relative/path"], "The path must start with '/'"),
    ] {
        let o = nlaudit(&args);
        // Bad text is refused before the kernel is asked anything, root or not; without
        // root the status read may fail first with exit 5.
        let code = o.status.code();
        assert!(code == Some(2) || code == Some(5), "{args:?}: {code:?} {}", err(&o));
        if code == Some(2) {
            assert!(err(&o).contains(want), "{args:?}: {}", err(&o));
        }
    }
}

#[test]
fn help_lists_the_commands() {
    let o = nlaudit(&["--help"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for c in ["status", "list", "add", "delete", "apply", "docker", "events"] {
        assert!(text.contains(c), "{c} missing from help");
    }
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let o = nlaudit(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

/// nlaudit's own commands name the close names and the limits after auditctl's message
/// (add, and load for a rules file, with its FILE:LINE); the auditctl drop-in keeps
/// auditctl's text alone.
#[test]
fn errors_say_did_you_mean_and_name_the_limit() {
    let key = "k".repeat(300);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["-a", "always,exit", "-F", "uidd=0"], "-F unknown field: uidd (did you mean uid?)"),
        (vec!["-a", "always,exits"], "bad keyword always,exits (did you mean always,exit?"),
        (vec!["-a", "alway,exit"], "bad keyword alway,exit (did you mean always,exit?"),
        (vec!["-a", "always,exit", "-S", "opnat"], "opnat (did you mean openat?)"),
        (
            vec!["-a", "always,exit", "-F", "arch=b65", "-S", "openat"],
            "arch elf mapping not found (arch=b65: the arches are b64, b32, i386, x86_64",
        ),
        (
            vec!["-w", "/etc/passwd", "-k", &key],
            "key option exceeds size limit (the key is 300 bytes; the limit is 256",
        ),
    ];
    let dir = std::env::temp_dir().join(format!("nlaudit-cli-hints-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    for (rule, want) in cases {
        let add: Vec<&str> = std::iter::once("add").chain(rule.iter().copied()).collect();
        let o = nlaudit(&add);
        let code = o.status.code();
        // Without root the status read may fail first (exit 5).
        assert!(code == Some(2) || code == Some(5), "{rule:?}: {code:?} {}", err(&o));
        if code == Some(2) {
            assert!(err(&o).contains(want), "{rule:?}: {}", err(&o));
        }
        let file = dir.join("hint.rules");
        std::fs::write(&file, format!("-w /etc/passwd -p wa -k ok\n{}\n", rule.join(" ")))
            .expect("write");
        let f = file.to_str().expect("utf-8");
        let o = nlaudit(&["load", f]);
        if o.status.code() == Some(2) {
            assert!(err(&o).contains(&format!("{f}:2: ")), "{}", err(&o));
            assert!(err(&o).contains(want), "{rule:?}: {}", err(&o));
        }
        let dropin: Vec<&str> = std::iter::once("auditctl").chain(rule.iter().copied()).collect();
        let o = nlaudit(&dropin);
        assert!(!err(&o).contains("did you mean"), "{rule:?}: {}", err(&o));
        assert!(!err(&o).contains("the limit is"), "{rule:?}: {}", err(&o));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
