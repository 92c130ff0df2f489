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
