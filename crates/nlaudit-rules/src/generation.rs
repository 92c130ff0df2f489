//! Which auditctl nlaudit reproduces: the reference generation.
//!
//! auditctl 3.0.9 (Debian 12, the default and what CI has) and auditctl 4.2.x (Debian 13,
//! Fedora, Arch, Alpine, RHEL 10) send and print different rules for the same text; the
//! differences are listed in docs/rules.md ("Generations"). A [`Generation`] is a value
//! carried by [`crate::Context`] and [`crate::Renderer`]: this crate keeps no global choice.

use std::fmt;
use std::str::FromStr;

/// A reference auditctl generation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Generation {
    /// auditctl 3.0.9 (Debian bookworm's), the default.
    #[default]
    V3,
    /// auditctl 4.2.x (4.2.1 is the recorded reference).
    V4,
}

/// Every generation, oldest first.
pub const GENERATIONS: [Generation; 2] = [Generation::V3, Generation::V4];

impl Generation {
    /// The major number users write (`--auditctl 3|4`).
    pub fn major(self) -> u8 {
        match self {
            Generation::V3 => 3,
            Generation::V4 => 4,
        }
    }

    /// The auditctl version this generation reproduces (what `auditctl -v` prints).
    pub fn version(self) -> &'static str {
        match self {
            Generation::V3 => "3.0.9",
            Generation::V4 => "4.2.1",
        }
    }

    /// What auditctl prints after a parse error's message on the command line: 4.x adds
    /// `There was an error while processing parameters` (auditctl.c main); 3.0.9 nothing.
    pub fn refusal_epilogue(self) -> Option<&'static str> {
        match self {
            Generation::V3 => None,
            Generation::V4 => Some("There was an error while processing parameters"),
        }
    }

    /// What auditctl of this generation writes on stderr for a refused command line
    /// (without the trailing newline): the message, then [`Generation::refusal_epilogue`];
    /// 4.x leaves out the messages of [`SILENT_IN_V4`].
    pub fn refusal_stderr(self, message: &str) -> String {
        let silent = self == Generation::V4 && SILENT_IN_V4.iter().any(|p| message.starts_with(p));
        match (silent, self.refusal_epilogue()) {
            (true, Some(e)) => e.to_string(),
            (false, Some(e)) => format!("{message}\n{e}"),
            (_, None) => message.to_string(),
        }
    }

    /// What auditctl of this generation writes on stderr when it refuses a command line
    /// with `e` (without the trailing newline): [`Generation::refusal_stderr`] of its
    /// message, except where auditctl says nothing of it: a command with no option at all
    /// (auditctl.c: `optind == 1`), and in 4.x a `-S` list with an unknown name
    /// (`_audit_parse_syscall` reports it through libaudit's silent `audit_msg`).
    pub fn refusal_stderr_of(self, e: &crate::ParseError) -> String {
        use crate::parse::ParseErrorKind as K;
        let in_list = self == Generation::V4
            && e.kind == K::Syscall
            && e.message.starts_with("Syscall name unknown: ")
            && e.token.as_deref().is_some_and(|t| t.contains(','));
        if e.kind == K::Empty || in_list {
            return self.refusal_epilogue().unwrap_or_default().to_string();
        }
        self.refusal_stderr(&e.message)
    }

    /// Whether libaudit's own messages (`audit_msg` in lib/) reach stderr: 3.0.9's do;
    /// 4.x's are quiet unless the program asks, so auditctl 4.x says nothing of what only
    /// libaudit reports: a name in a `-S` list it cannot look up, and the kernel refusing
    /// the legacy retry of a rule whose first field is `dir` (sent again as a watch after
    /// EINVAL, auditctl.c `handle_request`): then only [`Generation::refusal_epilogue`].
    pub fn libaudit_reports(self) -> bool {
        self == Generation::V3
    }

    /// The other generation (for cross-generation checks).
    pub fn other(self) -> Generation {
        match self {
            Generation::V3 => Generation::V4,
            Generation::V4 => Generation::V3,
        }
    }
}

/// Messages auditctl 3.0.9 prints that 4.2.1 does not (only its epilogue), as measured by
/// the golden vectors (tests/data/golden4-invalid.tsv): the name lookups moved into
/// libaudit, which reports them through its silent-by-default `audit_msg`.
pub const SILENT_IN_V4: &[&str] =
    &["Unknown user: ", "Unknown group: ", "Permissions should be preceeded by other fields"];

/// A generation that is neither `3` nor `4`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown auditctl generation {0:?}: use 3 (auditctl 3.0.9) or 4 (auditctl 4.2.x)")]
pub struct UnknownGeneration(pub String);

impl FromStr for Generation {
    type Err = UnknownGeneration;

    /// `3`, `4`, or a version such as `3.0.9` / `4.2.1` (its major number decides).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let major = t.split('.').next().unwrap_or_default();
        match major {
            "3" => Ok(Generation::V3),
            "4" => Ok(Generation::V4),
            _ => Err(UnknownGeneration(s.to_string())),
        }
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.major())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_majors_and_versions() {
        for (input, want) in [("3", Some(3)), ("4", Some(4)), ("4.2.1", Some(4)), (" 3 ", Some(3))]
        {
            assert_eq!(input.parse::<Generation>().ok().map(Generation::major), want, "{input}");
        }
        for bad in ["", "2", "5", "four"] {
            assert!(bad.parse::<Generation>().is_err(), "{bad}");
        }
        assert_eq!(Generation::default(), Generation::V3);
        assert_eq!(Generation::V4.to_string(), "4");
    }
}
