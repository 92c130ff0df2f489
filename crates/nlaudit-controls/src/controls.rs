//! The CIS Docker Benchmark audit controls: one table, both numberings.
//!
//! CIS Docker Benchmark 1.6.0 numbers them 1.1.3–1.1.18 (docker-bench-security v1.6.0,
//! tests/1_host_configuration.sh); Datadog's cis-docker policies (CIS Docker 1.2.0
//! numbering, DataDog/security-agent-policies compliance/containers/cis-docker-1.2.0.yaml)
//! have ten of them as 1.2.3–1.2.12. Each row says where the benchmark looks and where the
//! file in use may really be ([`Source`]s, tried in order).

/// One place where a control's file may be found. The first source that names an existing
/// file wins; every source tried is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `/proc/PID/exe` of a running process whose executable has this file name.
    ProcessExe(&'static str),
    /// The value of one of these flags on the command line of a running process whose
    /// executable has this file name.
    ProcessFlag(&'static str, &'static [&'static str]),
    /// The value of one of these flags in a systemd unit's `ExecStart=`.
    UnitFlag(&'static str, &'static [&'static str]),
    /// The program a systemd unit's `ExecStart=` runs.
    UnitExec(&'static str),
    /// The systemd unit file itself (`FragmentPath`).
    UnitFile(&'static str),
    /// containerd's socket: `--address` of a running containerd, `[grpc] address` of the
    /// config file it (or containerd.service) uses, or of /etc/containerd/config.toml.
    ContainerdAddress,
    /// One of these keys of Docker's daemon.json (the one dockerd is given, else
    /// /etc/docker/daemon.json).
    DaemonJson(&'static [&'static str]),
    /// A program of this name on PATH.
    Path(&'static str),
    /// The benchmark's literal path (and Datadog's, when it differs).
    Benchmark,
}

/// One audit control.
#[derive(Clone, Copy, Debug)]
pub struct Control {
    /// The CIS Docker Benchmark 1.6.0 id (1.1.3–1.1.18).
    pub cis: &'static str,
    /// The id in Datadog's cis-docker policies (CIS Docker 1.2.0 numbering), if it has one.
    pub datadog: Option<&'static str>,
    /// The benchmark's title (CIS Docker 1.6.0 wording).
    pub title: &'static str,
    /// The path CIS Docker 1.6.0 (docker-bench-security) audits.
    pub benchmark_path: &'static str,
    /// The path Datadog's policy audits (when it has the control).
    pub datadog_path: Option<&'static str>,
    /// Where the file in use may be, in order of authority.
    pub sources: &'static [Source],
    /// For a program: arguments that make running it harmless (it prints a version or its
    /// usage and exits; checked with Debian's docker.io, containerd 1.6 and runc 1.1).
    /// `check --verify` executes it so; other files it opens for reading.
    pub probe_args: Option<&'static [&'static str]>,
}

use Source::*;

const DOCKERD_DATA_ROOT: &[&str] = &["--data-root", "--graph", "-g"];
const DOCKERD_CONFIG_FILE: &[&str] = &["--config-file"];
const DOCKERD_CONTAINERD: &[&str] = &["--containerd"];
const CONTAINERD_CONFIG: &[&str] = &["--config", "-c"];

/// The controls, in CIS order.
pub const CONTROLS: &[Control] = &[
    Control {
        cis: "1.1.3",
        datadog: Some("1.2.3"),
        title: "Ensure auditing is configured for the Docker daemon",
        benchmark_path: "/usr/bin/dockerd",
        datadog_path: Some("/usr/bin/dockerd"),
        sources: &[ProcessExe("dockerd"), UnitExec("docker.service"), Path("dockerd"), Benchmark],
        probe_args: Some(&["--version"]),
    },
    Control {
        cis: "1.1.4",
        datadog: None,
        title: "Ensure auditing is configured for Docker files and directories - /run/containerd",
        benchmark_path: "/run/containerd",
        datadog_path: None,
        sources: &[Benchmark],
        probe_args: None,
    },
    Control {
        cis: "1.1.5",
        datadog: Some("1.2.4"),
        title: "Ensure auditing is configured for Docker files and directories - /var/lib/docker",
        benchmark_path: "/var/lib/docker",
        datadog_path: Some("/var/lib/docker"),
        sources: &[
            ProcessFlag("dockerd", DOCKERD_DATA_ROOT),
            UnitFlag("docker.service", DOCKERD_DATA_ROOT),
            DaemonJson(&["data-root", "graph"]),
            Benchmark,
        ],
        probe_args: None,
    },
    Control {
        cis: "1.1.6",
        datadog: Some("1.2.5"),
        title: "Ensure auditing is configured for Docker files and directories - /etc/docker",
        benchmark_path: "/etc/docker",
        datadog_path: Some("/etc/docker"),
        sources: &[Benchmark],
        probe_args: None,
    },
    Control {
        cis: "1.1.7",
        datadog: Some("1.2.6"),
        title: "Ensure auditing is configured for Docker files and directories - docker.service",
        benchmark_path: "/usr/lib/systemd/system/docker.service",
        datadog_path: Some("/usr/lib/systemd/system/docker.service"),
        sources: &[UnitFile("docker.service"), Benchmark],
        probe_args: None,
    },
    Control {
        cis: "1.1.8",
        datadog: None,
        title: "Ensure auditing is configured for Docker files and directories - containerd.sock",
        benchmark_path: "/run/containerd/containerd.sock",
        datadog_path: None,
        sources: &[
            ProcessFlag("dockerd", DOCKERD_CONTAINERD),
            ContainerdAddress,
            UnitFlag("docker.service", DOCKERD_CONTAINERD),
            DaemonJson(&["containerd"]),
            Benchmark,
        ],
        probe_args: None,
    },
    Control {
        cis: "1.1.9",
        datadog: Some("1.2.7"),
        title: "Ensure auditing is configured for Docker files and directories - docker.socket",
        benchmark_path: "/usr/lib/systemd/system/docker.socket",
        datadog_path: Some("/usr/lib/systemd/system/docker.socket"),
        sources: &[UnitFile("docker.socket"), Benchmark],
        probe_args: None,
    },
    Control {
        cis: "1.1.10",
        datadog: Some("1.2.8"),
        title: "Ensure auditing is configured for Docker files and directories - \
                /etc/default/docker",
        benchmark_path: "/etc/default/docker",
        datadog_path: Some("/etc/default/docker"),
        sources: &[Benchmark],
        probe_args: None,
    },
    Control {
        cis: "1.1.11",
        datadog: Some("1.2.10"),
        title: "Ensure auditing is configured for Docker files and directories - \
                /etc/docker/daemon.json",
        benchmark_path: "/etc/docker/daemon.json",
        datadog_path: Some("/etc/docker/daemon.json"),
        sources: &[
            ProcessFlag("dockerd", DOCKERD_CONFIG_FILE),
            UnitFlag("docker.service", DOCKERD_CONFIG_FILE),
            Benchmark,
        ],
        probe_args: None,
    },
    Control {
        cis: "1.1.12",
        datadog: None,
        title: "Ensure auditing is configured for Docker files and directories - \
                /etc/containerd/config.toml",
        benchmark_path: "/etc/containerd/config.toml",
        datadog_path: None,
        sources: &[
            ProcessFlag("containerd", CONTAINERD_CONFIG),
            UnitFlag("containerd.service", CONTAINERD_CONFIG),
            Benchmark,
        ],
        probe_args: None,
    },
    Control {
        cis: "1.1.13",
        datadog: Some("1.2.9"),
        title: "Ensure auditing is configured for Docker files and directories - \
                /etc/sysconfig/docker",
        benchmark_path: "/etc/sysconfig/docker",
        datadog_path: Some("/etc/sysconfig/docker"),
        sources: &[Benchmark],
        probe_args: None,
    },
    Control {
        cis: "1.1.14",
        datadog: Some("1.2.11"),
        title: "Ensure auditing is configured for Docker files and directories - \
                /usr/bin/containerd",
        benchmark_path: "/usr/bin/containerd",
        datadog_path: Some("/usr/bin/containerd"),
        sources: &[
            ProcessExe("containerd"),
            UnitExec("containerd.service"),
            Path("containerd"),
            Benchmark,
        ],
        probe_args: Some(&["--version"]),
    },
    Control {
        cis: "1.1.15",
        datadog: None,
        title: "Ensure auditing is configured for Docker files and directories - \
                /usr/bin/containerd-shim",
        benchmark_path: "/usr/bin/containerd-shim",
        datadog_path: None,
        sources: &[ProcessExe("containerd-shim"), Path("containerd-shim"), Benchmark],
        // The v1-API shim has no version flag; -h prints its usage and exits 0.
        probe_args: Some(&["-h"]),
    },
    Control {
        cis: "1.1.16",
        datadog: None,
        title: "Ensure auditing is configured for Docker files and directories - \
                /usr/bin/containerd-shim-runc-v1",
        benchmark_path: "/usr/bin/containerd-shim-runc-v1",
        datadog_path: None,
        sources: &[
            ProcessExe("containerd-shim-runc-v1"),
            Path("containerd-shim-runc-v1"),
            Benchmark,
        ],
        probe_args: Some(&["-v"]),
    },
    Control {
        cis: "1.1.17",
        datadog: None,
        title: "Ensure auditing is configured for Docker files and directories - \
                /usr/bin/containerd-shim-runc-v2",
        benchmark_path: "/usr/bin/containerd-shim-runc-v2",
        datadog_path: None,
        sources: &[
            ProcessExe("containerd-shim-runc-v2"),
            Path("containerd-shim-runc-v2"),
            Benchmark,
        ],
        probe_args: Some(&["-v"]),
    },
    Control {
        cis: "1.1.18",
        datadog: Some("1.2.12"),
        title: "Ensure auditing is configured for Docker files and directories - /usr/bin/runc",
        benchmark_path: "/usr/bin/runc",
        datadog_path: Some("/usr/sbin/runc"),
        sources: &[ProcessExe("runc"), Path("runc"), Benchmark],
        probe_args: Some(&["--version"]),
    },
];

/// The key nlaudit gives the rules it adds (the benchmark's `-k docker`).
pub const KEY: &str = "docker";

impl Control {
    /// The literal paths the benchmarks audit: CIS's, then Datadog's when different.
    pub fn literal_paths(&self) -> Vec<&'static str> {
        let mut v = vec![self.benchmark_path];
        if let Some(d) = self.datadog_path.filter(|d| *d != self.benchmark_path) {
            v.push(d);
        }
        v
    }

    /// `1.1.3/1.2.3`, or `1.1.4` when Datadog has no such control.
    pub fn ids(&self) -> String {
        match self.datadog {
            Some(d) => format!("{}/{d}", self.cis),
            None => self.cis.to_string(),
        }
    }
}

/// The rule nlaudit adds for a path: exactly auditctl's `-w PATH -p rwxa -k docker`.
pub fn watch_args(path: &str) -> Vec<String> {
    ["-w", path, "-p", "rwxa", "-k", KEY].iter().map(|s| s.to_string()).collect()
}

/// The text of that rule, as written to rules files and printed as remediation.
pub fn watch_text(path: &str) -> String {
    // A space in a rules-file token is written `\ ` (auditctl's `preprocess`).
    format!("-w {} -p rwxa -k {KEY}", path.replace('\\', "\\\\").replace(' ', "\\ "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_covers_both_numberings_once() {
        let cis: Vec<&str> = CONTROLS.iter().map(|c| c.cis).collect();
        let want: Vec<String> = (3..=18).map(|n| format!("1.1.{n}")).collect();
        assert_eq!(cis, want);
        let mut dd: Vec<u32> = CONTROLS
            .iter()
            .filter_map(|c| c.datadog)
            .map(|d| d.trim_start_matches("1.2.").parse().expect("number"))
            .collect();
        dd.sort_unstable();
        assert_eq!(dd, (3..=12).collect::<Vec<u32>>());
        for c in CONTROLS {
            assert_eq!(c.datadog.is_some(), c.datadog_path.is_some(), "{}", c.cis);
            assert_eq!(c.sources.last(), Some(&Source::Benchmark), "{}", c.cis);
            assert!(c.benchmark_path.starts_with('/'));
        }
    }

    #[test]
    fn runc_has_two_literal_paths() {
        let runc = CONTROLS.iter().find(|c| c.cis == "1.1.18").expect("runc");
        assert_eq!(runc.literal_paths(), ["/usr/bin/runc", "/usr/sbin/runc"]);
        assert_eq!(runc.ids(), "1.1.18/1.2.12");
    }

    #[test]
    fn watch_text_escapes_spaces() {
        assert_eq!(watch_text("/usr/sbin/dockerd"), "-w /usr/sbin/dockerd -p rwxa -k docker");
        assert_eq!(watch_text("/opt/my dir"), "-w /opt/my\\ dir -p rwxa -k docker");
    }

    /// `docker check|ensure` need no cross-generation care: the watch every control adds
    /// (`-w PATH -p rwxa`, no arch, so nothing for audit 4.x to expand) is the same rule in
    /// both generations, for every control.
    #[test]
    fn the_watch_compiles_alike_in_both_generations() {
        use nlaudit_rules::{parse_command, Context, Directive, Generation, NoEnv};
        for c in CONTROLS {
            let args = watch_args(c.benchmark_path);
            let rule = |g: Generation| {
                let ctx = Context::new(&NoEnv).with_generation(g);
                match parse_command(&args, &ctx).expect("a watch").pop() {
                    Some(Directive::Rule(rc)) => rc.rule,
                    other => panic!("not a rule: {other:?}"),
                }
            };
            assert_eq!(rule(Generation::V3), rule(Generation::V4), "{}", c.cis);
        }
    }
}
