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

    /// Whether auditctl of this generation prints the error of `e` (its last line; the
    /// warnings before it are printed in any case). It does not for a command with no
    /// option at all (auditctl.c: `optind == 1`), and 4.x not for what only its quiet
    /// libaudit reports ([`Generation::libaudit_reports`]): the messages of
    /// [`SILENT_IN_V4`], and a `-S` list with an unknown name (`_audit_parse_syscall`).
    pub fn says_error(self, e: &crate::ParseError) -> bool {
        use crate::parse::ParseErrorKind as K;
        if e.kind == K::Empty {
            return false;
        }
        if self.libaudit_reports() {
            return true;
        }
        let error = e.message.lines().last().unwrap_or_default();
        let in_list = e.kind == K::Syscall
            && error.starts_with("Syscall name unknown: ")
            && e.token.as_deref().is_some_and(|t| t.contains(','));
        !in_list && !SILENT_IN_V4.iter().any(|p| error.starts_with(p))
    }

    /// What auditctl of this generation writes on stderr when it refuses a command line
    /// with `e` (without the trailing newline): the message (its warnings, and the error
    /// when [`Generation::says_error`]), then [`Generation::refusal_epilogue`].
    pub fn refusal_stderr_of(self, e: &crate::ParseError) -> String {
        // A message may end in a newline of its own ("Multiple rule insert/delete
        // operations are not allowed\n"): it stays.
        let (body, own_newline) = match e.message.strip_suffix('\n') {
            Some(b) => (b, true),
            None => (e.message.as_str(), false),
        };
        let mut lines: Vec<&str> = body.split('\n').collect();
        if !self.says_error(e) {
            lines.pop();
        } else if own_newline {
            lines.push("");
        }
        lines.extend(self.refusal_epilogue());
        lines.join("\n")
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
