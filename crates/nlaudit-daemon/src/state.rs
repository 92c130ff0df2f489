//! The SIGCONT state report: what the daemon writes to its state file (`key = value` lines,
//! the shape of auditd's `/var/run/auditd.state`) and what `nlaudit daemon --status` reads
//! back. [`StateReport::parse`] is the dual of [`StateReport`]'s `Display`: both go through
//! one table of keys ([`KEYS`]), so a key cannot be written without being read.
//!
//! Readers ignore keys they do not know (a newer daemon may write more); a key they know
//! with a value they cannot read is an error naming the line.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// One state report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StateReport {
    /// `nlaudit daemon version`.
    pub version: String,
    /// `pid`: the daemon's process id.
    pub pid: u32,
    /// `state report`: 1 for the daemon's first report, counting up (a reader tells a fresh
    /// report from the one before by it).
    pub number: u64,
    /// `log format`: `raw`, `enriched` or `json`.
    pub log_format: String,
    /// The log, when logs are written (`writing to logs = yes`).
    pub log: Option<LogReport>,
    /// `records received` from the kernel.
    pub records_received: u64,
    /// `receive buffer overruns` (ENOBUFS) seen.
    pub receive_buffer_overruns: u64,
    /// `receive buffer`, bytes.
    pub receive_buffer_bytes: u64,
    /// `kernel lost counter at start`, when it was read.
    pub kernel_lost_at_start: Option<u32>,
    /// `kernel lost since start`: records the kernel counted as lost while the daemon ran.
    pub kernel_lost_since_start: u64,
    /// Keeping a rule set in force (`--rules`), when the daemon does.
    pub rules: Option<KeepingReport>,
}

/// The log's part of the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LogReport {
    /// `log file`: its path, or `-` for standard output.
    pub file: String,
    /// `current log size`, KB.
    pub size_kb: u64,
    /// `max log size`, KB (0: no limit).
    pub max_size_kb: u64,
    /// `logging suspended`.
    pub suspended: bool,
    /// `lines written`.
    pub lines_written: u64,
    /// `records not written` (a write error, a full disk, a suspension).
    pub records_not_written: u64,
    /// `rotations` so far.
    pub rotations: u64,
}

/// Keeping a rule set in force: the schedule's counts and the set's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeepingReport {
    /// `rule checks` run.
    pub checks: u64,
    /// `rule drifts found`.
    pub drifts: u64,
    /// `rule repairs` made.
    pub repairs: u64,
    /// `rule repairs failed`.
    pub repairs_failed: u64,
    /// `rule check period`, seconds (`None`: `off`).
    pub check_period_secs: Option<u64>,
    /// `rule repairs held back for`, seconds, during a fight with another agent.
    pub held_back_secs: Option<u64>,
    /// The set, as its keeper tells it.
    pub set: Option<RuleSetReport>,
}

/// A rule set's part of the report (what [`crate::drift::Keeper::state`] tells).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RuleSetReport {
    /// `rule set`: the file or directory kept in force.
    pub source: String,
    /// `rule set files`: files of the last good set.
    pub files: u64,
    /// `rules expected`: the set's own rules (a set without `-D` runs on the rules in
    /// force; those others are not counted).
    pub expected: u64,
    /// `rules in force`: of those, in force after the last check.
    pub in_force: u64,
    /// `last rule check`: verdict (trigger, milliseconds).
    pub last_check: String,
    /// `skipped rule`: one `FILE:LINE: message` per rule skipped (`skipped rules` counts
    /// them).
    pub skipped: Vec<String>,
    /// `watching for paths under`: the nearest existing ancestors of missing paths.
    pub watching: Vec<String>,
}

/// A report that does not read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// A line is not `key = value`.
    #[error("line {line}: not `key = value`: {text:?}")]
    NotKeyValue {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
    /// A known key has a value that does not read.
    #[error("line {line}: {key} = {value:?}: {message}")]
    BadValue {
        /// 1-based line number.
        line: usize,
        /// The key.
        key: &'static str,
        /// The value.
        value: String,
        /// What was expected.
        message: String,
    },
    /// A key every report has is missing (not a state report, or cut short).
    #[error("no `{0} = ` line: not an nlaudit daemon state report")]
    Missing(&'static str),
}

/// What a row shows: nothing (the line is left out), or one line per value.
type Show = fn(&StateReport) -> Vec<String>;
/// Reads a value into the report.
type Read = fn(&mut StateReport, &str) -> Result<(), String>;

/// One key of the report: its text, how it is shown, how it is read.
pub struct Key {
    /// The key as written (`records received`).
    pub name: &'static str,
    show: Show,
    read: Read,
}

fn one(v: impl fmt::Display) -> Vec<String> {
    vec![v.to_string()]
}

fn num<T: FromStr>(v: &str) -> Result<T, String> {
    v.parse().map_err(|_| "expected a number".to_string())
}

/// A number followed by a unit (`12 KB`).
fn with_unit<T: FromStr>(v: &str, unit: &str) -> Result<T, String> {
    v.strip_suffix(unit)
        .and_then(|n| n.strip_suffix(' '))
        .ok_or_else(|| format!("expected a number and {unit:?}"))
        .and_then(num)
}

fn yes_no(v: &str) -> Result<bool, String> {
    match v {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("expected yes or no".to_string()),
    }
}

fn word(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn log_show(r: &StateReport, f: fn(&LogReport) -> String) -> Vec<String> {
    r.log.as_ref().map(f).into_iter().collect()
}

fn log_mut(r: &mut StateReport) -> &mut LogReport {
    r.log.get_or_insert_with(LogReport::default)
}

fn keeping_show(r: &StateReport, f: fn(&KeepingReport) -> String) -> Vec<String> {
    r.rules.as_ref().map(f).into_iter().collect()
}

fn keeping_mut(r: &mut StateReport) -> &mut KeepingReport {
    r.rules.get_or_insert_with(KeepingReport::default)
}

fn set_show(r: &StateReport, f: fn(&RuleSetReport) -> Vec<String>) -> Vec<String> {
    r.rules.as_ref().and_then(|k| k.set.as_ref()).map(f).unwrap_or_default()
}

fn set_mut(r: &mut StateReport) -> &mut RuleSetReport {
    keeping_mut(r).set.get_or_insert_with(RuleSetReport::default)
}

/// `held back for = N s (another agent removes rules)`.
const HELD_NOTE: &str = " s (another agent removes rules)";

/// Every key, in the order written.
pub const KEYS: &[Key] = &[
    Key {
        name: "nlaudit daemon version",
        show: |r| one(&r.version),
        read: |r, v| {
            r.version = v.to_string();
            Ok(())
        },
    },
    Key { name: "pid", show: |r| one(r.pid), read: |r, v| num(v).map(|n| r.pid = n) },
    Key {
        name: "state report",
        show: |r| one(r.number),
        read: |r, v| num(v).map(|n| r.number = n),
    },
    Key {
        name: "log format",
        show: |r| one(&r.log_format),
        read: |r, v| {
            r.log_format = v.to_string();
            Ok(())
        },
    },
    Key {
        name: "writing to logs",
        show: |r| one(word(r.log.is_some())),
        read: |r, v| {
            if yes_no(v)? {
                log_mut(r);
            }
            Ok(())
        },
    },
    Key {
        name: "log file",
        show: |r| log_show(r, |l| l.file.clone()),
        read: |r, v| {
            log_mut(r).file = v.to_string();
            Ok(())
        },
    },
    Key {
        name: "current log size",
        show: |r| log_show(r, |l| format!("{} KB", l.size_kb)),
        read: |r, v| with_unit(v, "KB").map(|n| log_mut(r).size_kb = n),
    },
    Key {
        name: "max log size",
        show: |r| log_show(r, |l| format!("{} KB", l.max_size_kb)),
        read: |r, v| with_unit(v, "KB").map(|n| log_mut(r).max_size_kb = n),
    },
    Key {
        name: "logging suspended",
        show: |r| log_show(r, |l| word(l.suspended).to_string()),
        read: |r, v| yes_no(v).map(|n| log_mut(r).suspended = n),
    },
    Key {
        name: "lines written",
        show: |r| log_show(r, |l| l.lines_written.to_string()),
        read: |r, v| num(v).map(|n| log_mut(r).lines_written = n),
    },
    Key {
        name: "records not written",
        show: |r| log_show(r, |l| l.records_not_written.to_string()),
        read: |r, v| num(v).map(|n| log_mut(r).records_not_written = n),
    },
    Key {
        name: "rotations",
        show: |r| log_show(r, |l| l.rotations.to_string()),
        read: |r, v| num(v).map(|n| log_mut(r).rotations = n),
    },
    Key {
        name: "records received",
        show: |r| one(r.records_received),
        read: |r, v| num(v).map(|n| r.records_received = n),
    },
    Key {
        name: "receive buffer overruns",
        show: |r| one(r.receive_buffer_overruns),
        read: |r, v| num(v).map(|n| r.receive_buffer_overruns = n),
    },
    Key {
        name: "receive buffer",
        show: |r| one(format!("{} bytes", r.receive_buffer_bytes)),
        read: |r, v| with_unit(v, "bytes").map(|n| r.receive_buffer_bytes = n),
    },
    Key {
        name: "kernel lost counter at start",
        show: |r| r.kernel_lost_at_start.map(|n| n.to_string()).into_iter().collect(),
        read: |r, v| num(v).map(|n| r.kernel_lost_at_start = Some(n)),
    },
    Key {
        name: "kernel lost since start",
        show: |r| one(r.kernel_lost_since_start),
        read: |r, v| num(v).map(|n| r.kernel_lost_since_start = n),
    },
    Key {
        name: "rule set",
        show: |r| set_show(r, |s| one(&s.source)),
        read: |r, v| {
            set_mut(r).source = v.to_string();
            Ok(())
        },
    },
    Key {
        name: "rule set files",
        show: |r| set_show(r, |s| one(s.files)),
        read: |r, v| num(v).map(|n| set_mut(r).files = n),
    },
    Key {
        name: "rules expected",
        show: |r| set_show(r, |s| one(s.expected)),
        read: |r, v| num(v).map(|n| set_mut(r).expected = n),
    },
    Key {
        name: "rules in force",
        show: |r| set_show(r, |s| one(s.in_force)),
        read: |r, v| num(v).map(|n| set_mut(r).in_force = n),
    },
    Key {
        name: "last rule check",
        show: |r| set_show(r, |s| one(&s.last_check)),
        read: |r, v| {
            set_mut(r).last_check = v.to_string();
            Ok(())
        },
    },
    // The count is derived from the list (and checked against it when read).
    Key {
        name: "skipped rules",
        show: |r| set_show(r, |s| one(s.skipped.len())),
        read: |r, v| num::<usize>(v).map(|_| set_mut(r).skipped.clear()),
    },
    Key {
        name: "skipped rule",
        show: |r| set_show(r, |s| s.skipped.clone()),
        read: |r, v| {
            set_mut(r).skipped.push(v.to_string());
            Ok(())
        },
    },
    Key {
        name: "watching for paths under",
        show: |r| set_show(r, |s| s.watching.clone()),
        read: |r, v| {
            set_mut(r).watching.push(v.to_string());
            Ok(())
        },
    },
    Key {
        name: "rule checks",
        show: |r| keeping_show(r, |k| k.checks.to_string()),
        read: |r, v| num(v).map(|n| keeping_mut(r).checks = n),
    },
    Key {
        name: "rule drifts found",
        show: |r| keeping_show(r, |k| k.drifts.to_string()),
        read: |r, v| num(v).map(|n| keeping_mut(r).drifts = n),
    },
    Key {
        name: "rule repairs",
        show: |r| keeping_show(r, |k| k.repairs.to_string()),
        read: |r, v| num(v).map(|n| keeping_mut(r).repairs = n),
    },
    Key {
        name: "rule repairs failed",
        show: |r| keeping_show(r, |k| k.repairs_failed.to_string()),
        read: |r, v| num(v).map(|n| keeping_mut(r).repairs_failed = n),
    },
    Key {
        name: "rule check period",
        show: |r| {
            keeping_show(r, |k| k.check_period_secs.map_or("off".to_string(), |s| format!("{s} s")))
        },
        read: |r, v| {
            let p = if v == "off" { None } else { Some(with_unit(v, "s")?) };
            keeping_mut(r).check_period_secs = p;
            Ok(())
        },
    },
    Key {
        name: "rule repairs held back for",
        show: |r| {
            r.rules
                .as_ref()
                .and_then(|k| k.held_back_secs)
                .map(|s| format!("{s}{HELD_NOTE}"))
                .into_iter()
                .collect()
        },
        read: |r, v| {
            let n = v.strip_suffix(HELD_NOTE).ok_or("expected `N s (...)`")?;
            keeping_mut(r).held_back_secs = Some(num(n)?);
            Ok(())
        },
    },
];

impl fmt::Display for StateReport {
    /// The report as the daemon writes it: `key = value` lines in [`KEYS`] order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for k in KEYS {
            for v in (k.show)(self) {
                writeln!(f, "{} = {v}", k.name)?;
            }
        }
        Ok(())
    }
}

impl StateReport {
    /// Reads a report (the dual of `Display`). Unknown keys are skipped; `version`, `pid`
    /// and `state report` must be there.
    pub fn parse(text: &str) -> Result<StateReport, StateError> {
        let mut r = StateReport::default();
        let mut seen = Vec::new();
        let mut skipped_count = None;
        for (i, text) in text.lines().enumerate() {
            let line = i + 1;
            if text.trim().is_empty() {
                continue;
            }
            let Some((key, value)) = text.split_once(" = ") else {
                return Err(StateError::NotKeyValue { line, text: text.to_string() });
            };
            let Some(k) = KEYS.iter().find(|k| k.name == key) else { continue };
            let bad = |message: String| StateError::BadValue {
                line,
                key: k.name,
                value: value.to_string(),
                message,
            };
            if k.name == "skipped rules" {
                skipped_count = Some((line, num::<usize>(value).map_err(&bad)?));
            }
            (k.read)(&mut r, value).map_err(bad)?;
            seen.push(k.name);
        }
        for must in ["nlaudit daemon version", "pid", "state report"] {
            if !seen.contains(&must) {
                return Err(StateError::Missing(must));
            }
        }
        if let Some((line, n)) = skipped_count {
            let listed =
                r.rules.as_ref().and_then(|k| k.set.as_ref()).map_or(0, |s| s.skipped.len());
            if listed != n {
                return Err(StateError::BadValue {
                    line,
                    key: "skipped rules",
                    value: n.to_string(),
                    message: format!("{listed} `skipped rule` lines follow"),
                });
            }
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> StateReport {
        StateReport {
            version: "0.1.0".into(),
            pid: 4242,
            number: 3,
            log_format: "raw".into(),
            log: Some(LogReport {
                file: "/var/log/audit/audit.log".into(),
                size_kb: 12,
                max_size_kb: 8192,
                suspended: false,
                lines_written: 300,
                records_not_written: 2,
                rotations: 1,
            }),
            records_received: 310,
            receive_buffer_overruns: 0,
            receive_buffer_bytes: 67_108_864,
            kernel_lost_at_start: Some(7),
            kernel_lost_since_start: 1,
            rules: Some(KeepingReport {
                checks: 5,
                drifts: 2,
                repairs: 2,
                repairs_failed: 0,
                check_period_secs: Some(60),
                held_back_secs: Some(4),
                set: Some(RuleSetReport {
                    source: "/etc/audit/rules.d".into(),
                    files: 2,
                    expected: 40,
                    in_force: 40,
                    last_check: "in sync (periodic, 1.2 ms)".into(),
                    skipped: vec!["/etc/audit/rules.d/d.rules:3: no such directory = x".into()],
                    watching: vec!["/etc".into()],
                }),
            }),
        }
    }

    #[test]
    fn parse_is_the_dual_of_display() {
        let bare = StateReport { version: "0.1.0".into(), number: 1, ..StateReport::default() };
        let no_period = StateReport {
            rules: Some(KeepingReport { checks: 1, ..KeepingReport::default() }),
            ..bare.clone()
        };
        for r in [full(), bare, no_period] {
            let text = r.to_string();
            assert_eq!(StateReport::parse(&text), Ok(r), "{text}");
        }
    }

    #[test]
    fn the_text_is_auditd_shaped() {
        let t = full().to_string();
        for line in [
            "nlaudit daemon version = 0.1.0\npid = 4242\nstate report = 3\n",
            "current log size = 12 KB\n",
            "receive buffer = 67108864 bytes\n",
            "rule set = /etc/audit/rules.d\n",
            "skipped rules = 1\nskipped rule = /etc/audit/rules.d/d.rules:3: no such directory = x\n",
            "rule check period = 60 s\n",
            "rule repairs held back for = 4 s (another agent removes rules)\n",
        ] {
            assert!(t.contains(line), "{line:?} in\n{t}");
        }
        assert!(StateReport { log: None, ..full() }.to_string().contains("writing to logs = no\n"));
    }

    #[test]
    fn bad_reports_name_the_line() {
        let check = |text: &str, want: &str| {
            let e = StateReport::parse(text).expect_err(text);
            assert_eq!(e.to_string(), want, "{text}");
        };
        check(
            "pid = 1\nstate report = 1\n",
            "no `nlaudit daemon version = ` line: not an nlaudit daemon state report",
        );
        check("nlaudit daemon version = 1\npid = x\n", "line 2: pid = \"x\": expected a number");
        check("garbage\n", "line 1: not `key = value`: \"garbage\"");
        check(
            "nlaudit daemon version = 1\npid = 1\nstate report = 1\ncurrent log size = 12\n",
            "line 4: current log size = \"12\": expected a number and \"KB\"",
        );
        check(
            "nlaudit daemon version = 1\npid = 1\nstate report = 1\nskipped rules = 2\nskipped rule = a\n",
            "line 4: skipped rules = \"2\": 1 `skipped rule` lines follow",
        );
        // Keys from a newer daemon are skipped.
        let r = StateReport::parse(
            "nlaudit daemon version = 9\npid = 1\nstate report = 2\nnew key = x\n",
        );
        assert_eq!(r.map(|r| r.number), Ok(2));
    }
}
