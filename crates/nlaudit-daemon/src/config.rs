//! auditd.conf: the keys that matter to a daemon on one machine.
//!
//! The file is auditd's (`docs/auditd.conf.5`, src/auditd-config.c of 3.0.9): `key = value`
//! lines, `#` comments, keys and values case-insensitive (file names excepted). A bad value
//! is an error naming `FILE:LINE`; keys auditd knows that have no meaning here (network,
//! plugins, mail, Kerberos, priority) are accepted and ignored; other keys are warned about.
//! Actions that run programs, send mail or change the runlevel (`exec`, `email`, `single`,
//! `halt`) are refused: the daemon never takes the machine down or runs a program on its
//! own.
//!
//! Without a file the built-in defaults are Debian's shipped auditd.conf (ENRICHED,
//! INCREMENTAL_ASYNC every 50 records, 8 MB files, 5 logs, ROTATE, space thresholds 75 and
//! 50 MB) with `log_group = root`, because the `adm` group may not exist on a minimal
//! system. auditd's own compiled-in values (no rotation, no flushing) suit no one.

use std::fmt;
use std::path::{Path, PathBuf};

/// The default configuration file.
pub const DEFAULT_CONFIG: &str = "/etc/audit/auditd.conf";
/// The default log file.
pub const DEFAULT_LOG_FILE: &str = "/var/log/audit/audit.log";

/// Where records go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogTarget {
    /// A file, rotated and checked for space.
    File(PathBuf),
    /// Standard output (`-`): for a container's log pipeline; no rotation, no space checks.
    Stdout,
}

/// `log_format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// auditd's RAW: the kernel's text.
    Raw,
    /// RAW plus the interpreted fields after `0x1d`.
    Enriched,
    /// One JSON event per line (docs/events.md).
    Json,
}

impl LogFormat {
    /// The name DAEMON_START's `format=` carries.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Raw => "raw",
            LogFormat::Enriched => "enriched",
            LogFormat::Json => "json",
        }
    }
}

/// `flush`: how hard the log is pushed to disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flush {
    /// Written when the socket has nothing more pending; no fsync.
    None,
    /// As `None`, plus `fdatasync` every `freq` records, waited for.
    Incremental,
    /// As `None`, plus `fdatasync` every `freq` records, in the background.
    IncrementalAsync,
    /// Every record written at once with `O_DSYNC`.
    Data,
    /// Every record written at once with `O_SYNC`.
    Sync,
}

/// `max_log_file_action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SizeAction {
    /// Nothing.
    Ignore,
    /// Report it.
    Syslog,
    /// Stop writing (counted) until SIGUSR2.
    Suspend,
    /// Rotate, keeping `num_logs` files in all.
    Rotate,
    /// Rotate without deleting old logs.
    KeepLogs,
}

/// `space_left_action`, `admin_space_left_action`, `disk_full_action`, `disk_error_action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiskAction {
    /// Nothing.
    Ignore,
    /// Report it.
    Syslog,
    /// Rotate the logs (deleting the oldest beyond `num_logs`).
    Rotate,
    /// Stop writing (counted) until SIGUSR2.
    Suspend,
}

/// `space_left` / `admin_space_left`: megabytes, or a percentage of the file system.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Space {
    /// Megabytes free.
    Megabytes(u64),
    /// Percent of the file system free.
    Percent(f64),
}

/// `name_format` with `name`: the `node=` prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameFormat {
    /// No prefix.
    None,
    /// The host name (`gethostname`).
    Hostname,
    /// The `name` key's value.
    User(String),
}

/// The daemon's configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `log_file` (or `-`).
    pub log_file: LogTarget,
    /// `log_format`.
    pub log_format: LogFormat,
    /// `log_group`: the group that may read the logs (0: only root).
    pub log_group: u32,
    /// `write_logs`: false writes nothing (the records are still received).
    pub write_logs: bool,
    /// `flush`.
    pub flush: Flush,
    /// `freq`: records between syncs for the incremental flushes.
    pub freq: u32,
    /// `max_log_file`, in MB (0: no limit).
    pub max_log_file: u64,
    /// `num_logs`: log files in all, the current one included.
    pub num_logs: u32,
    /// `max_log_file_action`.
    pub max_log_file_action: SizeAction,
    /// `space_left`.
    pub space_left: Space,
    /// `space_left_action`.
    pub space_left_action: DiskAction,
    /// `admin_space_left`.
    pub admin_space_left: Space,
    /// `admin_space_left_action`.
    pub admin_space_left_action: DiskAction,
    /// `disk_full_action`.
    pub disk_full_action: DiskAction,
    /// `disk_error_action`.
    pub disk_error_action: DiskAction,
    /// `name_format` / `name`.
    pub name_format: NameFormat,
    /// `end_of_event_timeout`, seconds (JSON events without EOE end after it).
    pub end_of_event_timeout: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            log_file: LogTarget::File(PathBuf::from(DEFAULT_LOG_FILE)),
            log_format: LogFormat::Enriched,
            log_group: 0,
            write_logs: true,
            flush: Flush::IncrementalAsync,
            freq: 50,
            max_log_file: 8,
            num_logs: 5,
            max_log_file_action: SizeAction::Rotate,
            space_left: Space::Megabytes(75),
            space_left_action: DiskAction::Syslog,
            admin_space_left: Space::Megabytes(50),
            admin_space_left_action: DiskAction::Suspend,
            disk_full_action: DiskAction::Suspend,
            disk_error_action: DiskAction::Suspend,
            name_format: NameFormat::None,
            end_of_event_timeout: 2,
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: {source}", path = path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line is wrong.
    #[error(
        "{path}{at}: {message}",
        path = path.display(),
        at = if *line > 0 { format!(":{line}") } else { String::new() }
    )]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0: the file as a whole).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// A key that was accepted with a remark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line number.
    pub line: usize,
    /// The remark.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A configuration as loaded, with the remarks about it.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// The file it came from (`None`: built-in defaults).
    pub path: Option<PathBuf>,
    /// Remarks (unknown keys).
    pub warnings: Vec<Warning>,
}

type Setter = fn(&mut Config, &str, &Lookup<'_>) -> Result<(), String>;

/// Name lookups a value may need (`log_group`).
pub struct Lookup<'a> {
    /// The group file.
    pub group_file: &'a Path,
}

impl Default for Lookup<'_> {
    fn default() -> Self {
        Lookup { group_file: Path::new("/etc/group") }
    }
}

/// The keys this daemon uses, each with its parser.
const KEYS: &[(&str, Setter)] = &[
    ("log_file", |c, v, _| {
        c.log_file = parse_log_file(v)?;
        Ok(())
    }),
    ("log_format", |c, v, _| {
        c.log_format = pick(
            v,
            &[
                ("raw", LogFormat::Raw),
                ("enriched", LogFormat::Enriched),
                ("json", LogFormat::Json),
            ],
        )?;
        Ok(())
    }),
    ("log_group", |c, v, l| {
        c.log_group = parse_group(v, l.group_file)?;
        Ok(())
    }),
    ("write_logs", |c, v, _| {
        c.write_logs = pick(v, &[("yes", true), ("no", false)])?;
        Ok(())
    }),
    ("flush", |c, v, _| {
        c.flush = pick(
            v,
            &[
                ("none", Flush::None),
                ("incremental", Flush::Incremental),
                ("incremental_async", Flush::IncrementalAsync),
                ("data", Flush::Data),
                ("sync", Flush::Sync),
            ],
        )?;
        Ok(())
    }),
    ("freq", |c, v, _| {
        c.freq = number(v, u64::from(u32::MAX))? as u32;
        Ok(())
    }),
    ("max_log_file", |c, v, _| {
        c.max_log_file = number(v, u64::from(u32::MAX))?;
        Ok(())
    }),
    ("num_logs", |c, v, _| {
        // auditd: "num_logs must be 999 or less".
        c.num_logs = number(v, 999)? as u32;
        Ok(())
    }),
    ("max_log_file_action", |c, v, _| {
        c.max_log_file_action = pick(
            v,
            &[
                ("ignore", SizeAction::Ignore),
                ("syslog", SizeAction::Syslog),
                ("suspend", SizeAction::Suspend),
                ("rotate", SizeAction::Rotate),
                ("keep_logs", SizeAction::KeepLogs),
            ],
        )?;
        Ok(())
    }),
    ("space_left", |c, v, _| {
        c.space_left = parse_space(v)?;
        Ok(())
    }),
    ("space_left_action", |c, v, _| {
        c.space_left_action = disk_action(v)?;
        Ok(())
    }),
    ("admin_space_left", |c, v, _| {
        c.admin_space_left = parse_space(v)?;
        Ok(())
    }),
    ("admin_space_left_action", |c, v, _| {
        c.admin_space_left_action = disk_action(v)?;
        Ok(())
    }),
    ("disk_full_action", |c, v, _| {
        c.disk_full_action = disk_action(v)?;
        Ok(())
    }),
    ("disk_error_action", |c, v, _| {
        c.disk_error_action = disk_action(v)?;
        Ok(())
    }),
    ("name_format", |c, v, _| {
        let name = match &c.name_format {
            NameFormat::User(n) => n.clone(),
            _ => String::new(),
        };
        c.name_format = match v.to_ascii_lowercase().as_str() {
            "none" => NameFormat::None,
            "hostname" => NameFormat::Hostname,
            "user" => NameFormat::User(name),
            "fqd" | "numeric" => {
                return Err(format!(
                    "name_format {v} is not supported (it needs DNS); use hostname or user"
                ))
            }
            _ => return Err(format!("name_format {v}: expected none, hostname or user")),
        };
        Ok(())
    }),
    // Applied after the whole file is read: `name` may come before `name_format = user`.
    ("name", |_, _, _| Ok(())),
    ("end_of_event_timeout", |c, v, _| {
        c.end_of_event_timeout = number(v, u64::from(u32::MAX))? as u32;
        Ok(())
    }),
];

/// auditd keys that mean nothing to this daemon: accepted, ignored.
const IGNORED_KEYS: &[&str] = &[
    "local_events",
    "priority_boost",
    "dispatcher",
    "disp_qos",
    "action_mail_acct",
    "verify_email",
    "tcp_listen_port",
    "tcp_listen_queue",
    "tcp_max_per_addr",
    "use_libwrap",
    "tcp_client_ports",
    "tcp_client_max_idle",
    "transport",
    "enable_krb5",
    "krb5_principal",
    "krb5_key_file",
    "distribute_network",
    "q_depth",
    "overflow_action",
    "max_restarts",
    "plugin_dir",
];

fn pick<T: Copy>(v: &str, table: &[(&str, T)]) -> Result<T, String> {
    table.iter().find(|e| e.0.eq_ignore_ascii_case(v)).map(|e| e.1).ok_or_else(|| {
        let names: Vec<&str> = table.iter().map(|e| e.0).collect();
        format!("{v:?}: expected one of {}", names.join(", "))
    })
}

fn number(v: &str, max: u64) -> Result<u64, String> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{v:?} is not a number"));
    }
    match v.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("{v} is too large (at most {max})")),
    }
}

fn parse_space(v: &str) -> Result<Space, String> {
    match v.strip_suffix('%') {
        Some(p) => {
            let n: f64 = p.trim().parse().map_err(|_| format!("{v:?} is not a percentage"))?;
            if !(0.0..=100.0).contains(&n) {
                return Err(format!("{v}: a percentage is between 0 and 100"));
            }
            Ok(Space::Percent(n))
        }
        None => Ok(Space::Megabytes(number(v, u64::from(u32::MAX))?)),
    }
}

fn disk_action(v: &str) -> Result<DiskAction, String> {
    let word = v.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
    let refused = match word.as_str() {
        "exec" => Some("runs a program"),
        "email" => Some("sends mail"),
        "single" => Some("switches the machine to single-user mode"),
        "halt" => Some("halts the machine"),
        _ => None,
    };
    if let Some(why) = refused {
        return Err(format!(
            "action {word} is refused: it {why}, which nlaudit daemon never does; \
             use ignore, syslog, rotate or suspend (and act on the report)"
        ));
    }
    pick(
        v,
        &[
            ("ignore", DiskAction::Ignore),
            ("syslog", DiskAction::Syslog),
            ("rotate", DiskAction::Rotate),
            ("suspend", DiskAction::Suspend),
        ],
    )
}

/// `log_file`: `-` for standard output, else an absolute path whose directory exists.
pub fn parse_log_file(v: &str) -> Result<LogTarget, String> {
    if v == "-" {
        return Ok(LogTarget::Stdout);
    }
    let p = Path::new(v);
    if !p.is_absolute() {
        return Err(format!("log_file {v}: not an absolute path"));
    }
    let dir = p.parent().unwrap_or(Path::new("/"));
    if !dir.is_dir() {
        return Err(format!("log_file {v}: directory {} does not exist", dir.display()));
    }
    if p.file_name().is_none() {
        return Err(format!("log_file {v}: names no file"));
    }
    Ok(LogTarget::File(p.to_path_buf()))
}

/// A group by name (from `group_file`) or number.
pub fn parse_group(v: &str, group_file: &Path) -> Result<u32, String> {
    if let Ok(n) = v.parse::<u32>() {
        return Ok(n);
    }
    let text = std::fs::read_to_string(group_file)
        .map_err(|e| format!("log_group {v}: cannot read {}: {e}", group_file.display()))?;
    text.lines()
        .filter_map(|l| {
            let mut c = l.split(':');
            Some((c.next()?, c.nth(1)?))
        })
        .find(|(name, _)| *name == v)
        .and_then(|(_, gid)| gid.parse().ok())
        .ok_or_else(|| format!("log_group {v}: no such group in {}", group_file.display()))
}

/// Parses auditd.conf text (`path` names it in errors).
pub fn parse(text: &str, path: &Path, lookup: &Lookup<'_>) -> Result<Loaded, ConfigError> {
    let err = |line: usize, message: String| ConfigError::Line {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut config = Config::default();
    let mut warnings = Vec::new();
    let mut name_value: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let Some((key, value)) = l.split_once('=') else {
            return Err(err(line, format!("{l:?}: expected key = value")));
        };
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim();
        if value.is_empty() {
            return Err(err(line, format!("{key}: no value")));
        }
        if key == "name" {
            name_value = Some(value.to_string());
        }
        if let Some((_, set)) = KEYS.iter().find(|k| k.0 == key) {
            set(&mut config, value, lookup).map_err(|m| err(line, m))?;
        } else if !IGNORED_KEYS.contains(&key.as_str()) {
            warnings.push(Warning { line, message: format!("unknown key {key:?} ignored") });
        }
    }
    if let (NameFormat::User(n), Some(v)) = (&mut config.name_format, name_value) {
        *n = v;
    }
    if matches!(&config.name_format, NameFormat::User(n) if n.is_empty()) {
        return Err(err(0, "name_format user needs a name = ... line".to_string()));
    }
    if let (Space::Megabytes(s), Space::Megabytes(a)) = (config.space_left, config.admin_space_left)
    {
        if s <= a {
            // auditd: "space_left(..) must be larger than admin_space_left(..)".
            return Err(err(
                0,
                format!("space_left ({s}) must be larger than admin_space_left ({a})"),
            ));
        }
    }
    Ok(Loaded { config, path: Some(path.to_path_buf()), warnings })
}

/// Loads `path`, or [`DEFAULT_CONFIG`] when it exists, or the built-in defaults.
pub fn load(path: Option<&Path>) -> Result<Loaded, ConfigError> {
    let chosen = match path {
        Some(p) => p.to_path_buf(),
        None if Path::new(DEFAULT_CONFIG).exists() => PathBuf::from(DEFAULT_CONFIG),
        None => return Ok(Loaded { config: Config::default(), path: None, warnings: Vec::new() }),
    };
    let text = std::fs::read_to_string(&chosen)
        .map_err(|source| ConfigError::Read { path: chosen.clone(), source })?;
    parse(&text, &chosen, &Lookup::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Loaded, String> {
        parse(text, Path::new("/etc/audit/auditd.conf"), &Lookup::default())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn debian_default_file_loads() {
        let text =
            "#\n# comment\nlocal_events = yes\nwrite_logs = yes\nlog_file = /tmp/audit.log\n\
            log_group = root\nlog_format = ENRICHED\nflush = INCREMENTAL_ASYNC\nfreq = 50\n\
            max_log_file = 8\nnum_logs = 5\npriority_boost = 4\nname_format = NONE\n\
            ##name = mydomain\nmax_log_file_action = ROTATE\nspace_left = 75\n\
            space_left_action = SYSLOG\nverify_email = yes\naction_mail_acct = root\n\
            admin_space_left = 50\nadmin_space_left_action = SUSPEND\ndisk_full_action = SUSPEND\n\
            disk_error_action = SUSPEND\nuse_libwrap = yes\ntcp_listen_queue = 5\n\
            transport = TCP\nq_depth = 2000\noverflow_action = SYSLOG\nmax_restarts = 10\n\
            plugin_dir = /etc/audit/plugins.d\nend_of_event_timeout = 2\n";
        let l = check(text).expect("loads");
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        let want =
            Config { log_file: LogTarget::File("/tmp/audit.log".into()), ..Config::default() };
        assert_eq!(l.config, want);
    }

    #[test]
    fn values() {
        let c = |t: &str| check(t).expect(t).config;
        assert_eq!(c("log_format = raw").log_format, LogFormat::Raw);
        assert_eq!(c("log_format = json").log_format, LogFormat::Json);
        assert_eq!(c("log_file = -").log_file, LogTarget::Stdout);
        assert_eq!(c("space_left = 25%").space_left, Space::Percent(25.0));
        assert_eq!(c("flush = data").flush, Flush::Data);
        assert_eq!(c("max_log_file_action = keep_logs").max_log_file_action, SizeAction::KeepLogs);
        assert_eq!(c("log_group = 0").log_group, 0);
        assert_eq!(
            c("name = web1\nname_format = user").name_format,
            NameFormat::User("web1".to_string())
        );
        assert_eq!(c("name_format = hostname").name_format, NameFormat::Hostname);
    }

    #[test]
    fn errors_name_file_and_line() {
        for (text, want) in [
            ("freq = 50\nflush = sometimes", "/etc/audit/auditd.conf:2: \"sometimes\": expected one of none, incremental, incremental_async, data, sync"),
            ("num_logs = 1000", "/etc/audit/auditd.conf:1: 1000 is too large (at most 999)"),
            ("max_log_file = 8M", "/etc/audit/auditd.conf:1: \"8M\" is not a number"),
            ("\n\ndisk_full_action = halt", "/etc/audit/auditd.conf:3: action halt is refused: it halts the machine, which nlaudit daemon never does; use ignore, syslog, rotate or suspend (and act on the report)"),
            ("space_left_action = exec /bin/x", "/etc/audit/auditd.conf:1: action exec is refused: it runs a program, which nlaudit daemon never does; use ignore, syslog, rotate or suspend (and act on the report)"),
            ("admin_space_left_action = email", "/etc/audit/auditd.conf:1: action email is refused: it sends mail, which nlaudit daemon never does; use ignore, syslog, rotate or suspend (and act on the report)"),
            ("log_file = audit.log", "/etc/audit/auditd.conf:1: log_file audit.log: not an absolute path"),
            ("log_group = no-such-group-x", "/etc/audit/auditd.conf:1: log_group no-such-group-x: no such group in /etc/group"),
            ("space_left = 120%", "/etc/audit/auditd.conf:1: 120%: a percentage is between 0 and 100"),
            ("just words", "/etc/audit/auditd.conf:1: \"just words\": expected key = value"),
            ("freq =", "/etc/audit/auditd.conf:1: freq: no value"),
            ("space_left = 10\nadmin_space_left = 20", "/etc/audit/auditd.conf: space_left (10) must be larger than admin_space_left (20)"),
            ("name_format = fqd", "/etc/audit/auditd.conf:1: name_format fqd is not supported (it needs DNS); use hostname or user"),
        ] {
            assert_eq!(check(text).map(|_| ()).expect_err(text), want);
        }
    }

    #[test]
    fn unknown_keys_warn() {
        let l = check("freq = 5\nfrobnicate = yes").expect("loads");
        assert_eq!(
            l.warnings,
            vec![Warning { line: 2, message: "unknown key \"frobnicate\" ignored".into() }]
        );
    }
}
