//! nlaudit-controls: the CIS Docker Benchmark audit controls (CIS Docker 1.6.0 1.1.3–1.1.18;
//! Datadog's 1.2.3–1.2.12) as a library: where each control's file really is on a machine or
//! an image tree, which rules audit it, and what `ensure` would add.
//!
//! - [`controls`]: the one table of controls, in both numberings;
//! - [`host`]: the machine behind the [`Host`] trait ([`SystemHost`], [`RootHost`]);
//! - [`fsview`]: symbolic links resolved inside the host's root;
//! - [`locate`]: where each control's file is (processes, systemd units, configs, PATH, the
//!   benchmark's literal path);
//! - [`audit`]: the rules a check looks at ([`RuleSet`], rules.d read by
//!   [`nlaudit_rules::rules_d`]) and which of them audit a path (the semantic match that
//!   replaces `grep`);
//! - [`evaluate`](mod@evaluate): the verdicts and the audit state around the rules, [`evaluate()`];
//! - [`json`]: the report's JSON form (schema 1, docs/docker.md);
//! - [`ensure`]: [`plan_ensure`], what to add to the kernel and append to a rules file;
//! - [`verify`]: what `check --verify` found (the proof itself runs in the CLI).
//!
//! The library prints nothing and does no netlink: the kernel's status and rules come in as
//! [`Kernel`] data, and a plan goes out as [`EnsurePlan`] data that the caller executes.
#![deny(missing_docs)]

pub mod audit;
pub mod controls;
pub mod discover;
pub mod ensure;
pub mod evaluate;
pub mod fsview;
pub mod host;
pub mod json;
pub mod locate;
pub mod matcher;
pub mod profile;
pub mod profile_check;
pub mod profile_ensure;
pub mod verify;

pub use audit::{Evidence, Origin, RuleSet};
pub use controls::{Control, CONTROLS};
pub use ensure::{plan_ensure, EnsureOptions, EnsurePlan};
pub use evaluate::{evaluate, Inputs, Kernel, Persisted, Report, RULES_DIR};
pub use host::{Host, RootHost, SystemEnv, SystemHost};

#[cfg(test)]
mod tidy {
    /// The library prints nothing and does no netlink: warnings are data, the kernel comes in
    /// as data. (Written with `concat!` so that this test does not find itself.)
    #[test]
    fn prints_nothing_and_opens_no_socket() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let banned = [
            concat!("print", "ln!"),
            concat!("eprint", "ln!"),
            concat!("print", "!("),
            concat!("eprint", "!("),
            concat!("std::io::std", "out"),
            concat!("std::io::std", "err"),
            concat!("Client", "::open"),
            concat!("nlaudit_proto::Cl", "ient"),
        ];
        let mut files = 0;
        for e in std::fs::read_dir(&dir).expect("src") {
            let path = e.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("read");
            files += 1;
            for b in banned {
                assert!(!text.contains(b), "{} uses {b}", path.display());
            }
        }
        assert!(files >= 9, "{files} files read");
    }
}
