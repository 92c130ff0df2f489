//! Where each control's file really is: running processes (`/proc/PID/exe`, command-line
//! flags), systemd units (`FragmentPath`, `ExecStart=`), containerd's and Docker's
//! configuration, PATH, and last the benchmark's literal path.

use std::collections::BTreeMap;

use crate::controls::{Control, Source};
use crate::fsview::{FsView, Kind, Resolved};
pub use crate::host::Proc;

/// The PATH systemd gives services, used for an image tree (and when PATH is unset).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// systemd's system unit search path, highest priority first (systemd.unit(5)); `/lib` is
/// there for systems without merged /usr.
const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/generator.late",
];

/// containerd's default configuration file and socket.
const CONTAINERD_CONFIG: &str = "/etc/containerd/config.toml";
/// Docker's default daemon.json.
const DAEMON_JSON: &str = "/etc/docker/daemon.json";

/// A systemd unit as found on disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unit {
    /// `FragmentPath`: the unit file.
    pub fragment: Option<String>,
    /// How the fragment was found.
    pub how: String,
    /// Its drop-ins, in the order systemd applies them.
    pub dropins: Vec<String>,
}

/// One place looked at for a control's file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The path found there (inside the root).
    pub path: String,
    /// Where the path came from, for people (`process 24144 /proc/24144/exe`).
    pub source: String,
    /// Whether a file exists at the path (after following links).
    pub exists: bool,
    /// The real file it names, when it exists.
    pub real: Option<String>,
}

/// Where a control's file is.
#[derive(Clone, Debug)]
pub struct Located {
    /// Every path considered, in order of authority.
    pub candidates: Vec<Candidate>,
    /// The candidate in use: the first that exists.
    pub chosen: Option<usize>,
    /// The chosen path resolved (the real file, which is the one to watch).
    pub resolved: Option<Resolved>,
    /// Facts worth reporting (a replaced binary, a masked unit, a socket's listen path).
    pub notes: Vec<String>,
    /// Why the control does not apply, when no candidate exists or the unit is masked.
    pub not_applicable: Option<String>,
}

impl Located {
    /// The path in use, as found (before resolving links).
    pub fn path(&self) -> Option<&Candidate> {
        self.chosen.and_then(|i| self.candidates.get(i))
    }

    /// The real file to watch, when the control applies.
    pub fn watch_path(&self) -> Option<&str> {
        if self.not_applicable.is_some() {
            return None;
        }
        self.resolved.as_ref().map(|r| r.real.as_str())
    }
}

/// What the locator knows about the machine or image.
#[derive(Debug)]
pub struct Locator<'h> {
    fs: FsView<'h>,
    procs: Vec<Proc>,
    path_dirs: Vec<String>,
    units: BTreeMap<String, Unit>,
}

impl<'h> Locator<'h> {
    /// A locator for `fs`: on the live machine it reads /proc and uses PATH; for an image it
    /// uses only files under the root (and systemd's default PATH).
    pub fn new(fs: FsView<'h>) -> Locator<'h> {
        let host = fs.host();
        let procs = host.processes();
        let path = host.path_var().unwrap_or_else(|| DEFAULT_PATH.to_string());
        let path_dirs =
            path.split(':').filter(|d| d.starts_with('/')).map(str::to_string).collect();
        Locator { fs, procs, path_dirs, units: BTreeMap::new() }
    }

    /// A locator with given processes and PATH (tests).
    #[cfg(test)]
    pub fn with(fs: FsView<'h>, procs: Vec<Proc>, path: &str) -> Locator<'h> {
        let path_dirs = path.split(':').map(str::to_string).collect();
        Locator { fs, procs, path_dirs, units: BTreeMap::new() }
    }

    /// Finds a control's file.
    pub fn locate(&mut self, control: &Control) -> Located {
        let mut candidates = Vec::new();
        let mut notes = Vec::new();
        for source in control.sources {
            self.candidates(control, *source, &mut candidates, &mut notes);
        }
        // The same path from several sources: keep the first (most authoritative).
        let mut seen = Vec::new();
        candidates.retain(|c: &Candidate| {
            let new = !seen.contains(&c.path);
            seen.push(c.path.clone());
            new
        });
        let chosen = candidates.iter().position(|c| c.exists);
        let resolved = chosen.and_then(|i| candidates.get(i)).map(|c| self.fs.resolve(&c.path));
        let mut not_applicable = None;
        match &resolved {
            None => {
                let tried: Vec<String> =
                    candidates.iter().map(|c| format!("{} ({})", c.path, c.source)).collect();
                not_applicable = Some(format!("not found here: {}", tried.join(", ")));
            }
            Some(r) if r.real == "/dev/null" => {
                not_applicable = Some(format!(
                    "the unit is masked ({} links to /dev/null)",
                    self.path_of(&candidates, chosen)
                ));
            }
            Some(r) => {
                // Another name of the same file that is a link (the benchmark's /usr/bin/runc
                // → ../sbin/runc on Debian): a watch there would not watch the file.
                for c in candidates.iter().filter(|c| c.real.as_ref() == Some(&r.real)) {
                    let other = self.fs.resolve(&c.path);
                    if let Some(l) = other.links.iter().find(|l| l.last) {
                        if c.path != self.path_of(&candidates, chosen) {
                            notes.push(format!(
                                "{} ({}) is a symbolic link to {}: a watch on it would watch \
                                 the link itself, not {}",
                                c.path, c.source, l.target, r.real
                            ));
                        }
                    }
                }
                for l in &r.links {
                    notes.push(if l.last {
                        format!(
                            "{} is a symbolic link to {}: the kernel would watch the link \
                             itself, not its target, so the real file {} is the one to watch",
                            l.path, l.target, r.real
                        )
                    } else {
                        format!("{} is a symbolic link to {} (followed)", l.path, l.target)
                    });
                }
            }
        }
        Located { candidates, chosen, resolved, notes, not_applicable }
    }

    fn path_of(&self, c: &[Candidate], i: Option<usize>) -> String {
        i.and_then(|i| c.get(i)).map(|c| c.path.clone()).unwrap_or_default()
    }

    fn push(&self, out: &mut Vec<Candidate>, path: &str, source: String) {
        if !path.starts_with('/') {
            return;
        }
        let r = self.fs.resolve(path);
        // A masked unit links to /dev/null, which an image tree may lack: it still "exists".
        let exists = r.kind.is_some() || r.real == "/dev/null";
        let real = exists.then_some(r.real);
        out.push(Candidate { path: path.to_string(), source, exists, real });
    }

    fn candidates(
        &mut self,
        control: &Control,
        source: Source,
        out: &mut Vec<Candidate>,
        notes: &mut Vec<String>,
    ) {
        match source {
            Source::ProcessExe(name) => {
                for p in self.procs.iter().filter(|p| base(&p.exe) == name) {
                    if p.replaced {
                        notes.push(format!(
                            "process {} runs a {} that was since replaced or removed on disk",
                            p.pid, p.exe
                        ));
                    }
                    self.push(out, &p.exe, format!("process {} /proc/{}/exe", p.pid, p.pid));
                }
            }
            Source::ProcessFlag(name, flags) => {
                for p in self.procs.iter().filter(|p| base(&p.exe) == name) {
                    if let Some((flag, v)) = flag_value(p.args.get(1..).unwrap_or(&[]), flags) {
                        self.push(out, &v, format!("process {} {flag}", p.pid));
                    }
                }
            }
            Source::UnitFlag(unit, flags) => {
                if let Some((args, file)) = self.exec_start(unit) {
                    if let Some((flag, v)) = flag_value(args.get(1..).unwrap_or(&[]), flags) {
                        self.push(out, &v, format!("{unit} ExecStart {flag} ({file})"));
                    }
                }
            }
            Source::UnitExec(unit) => {
                if let Some((args, file)) = self.exec_start(unit) {
                    if let Some(prog) = args.first() {
                        self.push(out, prog, format!("{unit} ExecStart ({file})"));
                    }
                }
            }
            Source::UnitFile(unit) => {
                let u = self.unit(unit);
                if let Some(f) = &u.fragment {
                    self.push(out, f, format!("{unit} FragmentPath ({})", u.how));
                }
                if unit.ends_with(".socket") {
                    if let Some(listen) = self.unit_values(unit, "ListenStream").last() {
                        notes.push(format!("{unit} listens on {listen} (ListenStream)"));
                    }
                }
            }
            Source::ContainerdAddress => self.containerd_address(out),
            Source::DaemonJson(keys) => {
                let file = self.daemon_json();
                if let Ok(text) = self.fs.read_to_string(&file) {
                    if let Ok(serde_json::Value::Object(m)) = serde_json::from_str(&text) {
                        for k in keys {
                            if let Some(v) = m.get(*k).and_then(|v| v.as_str()) {
                                self.push(out, v, format!("{file} \"{k}\""));
                            }
                        }
                    }
                }
            }
            Source::Path(name) => {
                for d in &self.path_dirs {
                    let p = format!("{}/{name}", d.trim_end_matches('/'));
                    let r = self.fs.resolve(&p);
                    if r.kind == Some(Kind::File) && self.executable(&r.real) {
                        self.push(out, &p, "PATH".to_string());
                        break;
                    }
                }
            }
            Source::Benchmark => {
                for (i, p) in control.literal_paths().into_iter().enumerate() {
                    let who = if i == 0 { "benchmark (CIS Docker 1.6.0)" } else { "Datadog" };
                    self.push(out, p, who.to_string());
                }
            }
        }
    }

    fn executable(&self, real: &str) -> bool {
        self.fs.host().stat(real).is_ok_and(|s| s.mode & 0o111 != 0)
    }

    /// The daemon.json dockerd reads: `--config-file` of a running dockerd or of
    /// docker.service, else /etc/docker/daemon.json.
    fn daemon_json(&mut self) -> String {
        let flags = &["--config-file"];
        for p in self.procs.iter().filter(|p| base(&p.exe) == "dockerd") {
            if let Some((_, v)) = flag_value(p.args.get(1..).unwrap_or(&[]), flags) {
                return v;
            }
        }
        if let Some((args, _)) = self.exec_start("docker.service") {
            if let Some((_, v)) = flag_value(args.get(1..).unwrap_or(&[]), flags) {
                return v;
            }
        }
        DAEMON_JSON.to_string()
    }

    fn containerd_address(&mut self, out: &mut Vec<Candidate>) {
        let addr_flags: &[&str] = &["--address", "-a"];
        let config_flags: &[&str] = &["--config", "-c"];
        let procs: Vec<Proc> =
            self.procs.iter().filter(|p| base(&p.exe) == "containerd").cloned().collect();
        for p in &procs {
            let args = p.args.get(1..).unwrap_or(&[]);
            if let Some((flag, v)) = flag_value(args, addr_flags) {
                self.push(out, &v, format!("process {} {flag}", p.pid));
            }
            let config = flag_value(args, config_flags).map(|(_, v)| v);
            let file = config.unwrap_or_else(|| CONTAINERD_CONFIG.to_string());
            if let Some(a) = self.grpc_address(&file) {
                self.push(out, &a, format!("process {} config {file} [grpc] address", p.pid));
            }
        }
        if let Some((args, unit_file)) = self.exec_start("containerd.service") {
            let args = args.get(1..).unwrap_or(&[]);
            if let Some((flag, v)) = flag_value(args, addr_flags) {
                self.push(out, &v, format!("containerd.service ExecStart {flag} ({unit_file})"));
            }
            if let Some((_, file)) = flag_value(args, config_flags) {
                if let Some(a) = self.grpc_address(&file) {
                    self.push(out, &a, format!("containerd.service config {file} [grpc] address"));
                }
            }
        }
        if let Some(a) = self.grpc_address(CONTAINERD_CONFIG) {
            self.push(out, &a, format!("{CONTAINERD_CONFIG} [grpc] address"));
        }
    }

    fn grpc_address(&self, file: &str) -> Option<String> {
        toml_value(&self.fs.read_to_string(file).ok()?, "grpc", "address").filter(|a| !a.is_empty())
    }

    /// A unit's `FragmentPath` and drop-ins: systemd's answer when systemd runs this
    /// machine, else the first file in systemd's unit search path.
    pub fn unit(&mut self, name: &str) -> Unit {
        if let Some(u) = self.units.get(name) {
            return u.clone();
        }
        let u = self.systemctl_show(name).unwrap_or_else(|| self.search_unit(name));
        self.units.insert(name.to_string(), u.clone());
        u
    }

    fn systemctl_show(&self, name: &str) -> Option<Unit> {
        let text = self.fs.host().unit_properties(name)?;
        let mut u = Unit { how: "systemctl show".to_string(), ..Unit::default() };
        for line in text.lines() {
            if let Some(f) = line.strip_prefix("FragmentPath=").filter(|f| !f.is_empty()) {
                u.fragment = Some(f.to_string());
            }
            if let Some(d) = line.strip_prefix("DropInPaths=") {
                u.dropins = d.split_whitespace().map(str::to_string).collect();
            }
        }
        Some(u)
    }

    fn search_unit(&self, name: &str) -> Unit {
        let mut u = Unit::default();
        let mut seen_dirs = Vec::new();
        let mut dropins: BTreeMap<String, String> = BTreeMap::new();
        for dir in UNIT_DIRS {
            // /lib/systemd/system is /usr/lib/systemd/system on merged-/usr systems.
            let real = self.fs.resolve(dir).real;
            if seen_dirs.contains(&real) {
                continue;
            }
            seen_dirs.push(real);
            let p = format!("{dir}/{name}");
            if u.fragment.is_none() && self.fs.host().lstat(&p).is_some() {
                u.fragment = Some(p);
                u.how = format!("first in systemd's unit path, {dir}");
            }
            if let Ok(rd) = self.fs.host().list(&format!("{dir}/{name}.d")) {
                for e in rd.into_iter().flatten() {
                    let f = e.to_string_lossy().into_owned();
                    if f.ends_with(".conf") {
                        dropins.entry(f.clone()).or_insert(format!("{dir}/{name}.d/{f}"));
                    }
                }
            }
        }
        u.dropins = dropins.into_values().collect();
        u
    }

    /// Every value of `key=` in a unit (fragment, then drop-ins); an empty assignment
    /// resets the list, as systemd does for list settings.
    fn unit_values(&mut self, name: &str, key: &str) -> Vec<String> {
        let u = self.unit(name);
        let mut values = Vec::new();
        for f in u.fragment.iter().chain(u.dropins.iter()) {
            let Ok(text) = self.fs.read_to_string(f) else { continue };
            for v in unit_assignments(&text, key) {
                if v.is_empty() {
                    values.clear();
                } else {
                    values.push(v);
                }
            }
        }
        values
    }

    /// The argv of a unit's (first) `ExecStart=`, and the unit file it came from.
    fn exec_start(&mut self, name: &str) -> Option<(Vec<String>, String)> {
        let line = self.unit_values(name, "ExecStart").into_iter().next()?;
        let file = self.unit(name).fragment.unwrap_or_default();
        let mut args = split_exec(&line);
        // Special executable prefixes (systemd.service(5) "Command lines").
        if let Some(first) = args.first_mut() {
            *first = first.trim_start_matches(['@', '-', ':', '+', '!']).to_string();
        }
        Some((args, file))
    }
}

fn base(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The value of the first of `flags` given in `args` (`--flag=v`, `--flag v`, `-f v`,
/// `-f=v`), with the flag as written.
pub fn flag_value(args: &[String], flags: &[&str]) -> Option<(String, String)> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        for f in flags {
            if a == f {
                return it.next().map(|v| (f.to_string(), v.clone()));
            }
            if let Some(v) = a.strip_prefix(f).and_then(|r| r.strip_prefix('=')) {
                return Some((f.to_string(), v.to_string()));
            }
        }
    }
    None
}

/// The values of `key=` in a unit file's text, in order (continuation lines joined, comments
/// skipped; section is not checked: the keys asked for exist in one section only).
pub fn unit_assignments(text: &str, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if logical.is_empty() && (line.starts_with('#') || line.starts_with(';')) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            logical.push_str(head);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let full = std::mem::take(&mut logical);
        if let Some((k, v)) = full.split_once('=') {
            if k.trim() == key {
                out.push(v.trim().to_string());
            }
        }
    }
    out
}

/// Splits an `ExecStart=` command line into words (double and single quotes group;
/// `$VAR` words that systemd would expand from the environment are dropped).
pub fn split_exec(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    any = true;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out.retain(|w| !w.starts_with('$'));
    out
}

/// The string value of `key` in table `[table]` of a TOML text (enough TOML for
/// containerd's `[grpc] address = "..."`).
pub fn toml_value(text: &str, table: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(h) = line.strip_prefix('[') {
            current = h.trim_start_matches('[').split(']').next().unwrap_or("").trim().to_string();
            continue;
        }
        if current != table {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else { continue };
        if k.trim().trim_matches('"') != key {
            continue;
        }
        let v = v.trim();
        let v = match v.chars().next() {
            Some(q @ ('"' | '\'')) => v[1..].split(q).next().unwrap_or(""),
            _ => v.split('#').next().unwrap_or("").trim(),
        };
        return Some(v.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::CONTROLS;
    use crate::host::RootHost;
    use std::fs;
    use std::path::PathBuf;

    #[test]
    fn flags() {
        let args = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        for (line, flags, want) in [
            ("-H fd:// --containerd=/run/c.sock", &["--containerd"][..], Some("/run/c.sock")),
            ("--data-root /data --debug", &["--data-root", "-g"][..], Some("/data")),
            ("-g /old", &["--data-root", "-g"][..], Some("/old")),
            ("--config-file-x=/x", &["--config-file"][..], None),
            ("-- --data-root /x", &["--data-root"][..], None),
            ("--data-root", &["--data-root"][..], None),
        ] {
            let got = flag_value(&args(line), flags).map(|(_, v)| v);
            assert_eq!(got.as_deref(), want, "{line}");
        }
    }

    #[test]
    fn exec_lines() {
        for (line, want) in [
            (
                "/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $OPTS",
                &[
                    "/usr/sbin/dockerd",
                    "-H",
                    "fd://",
                    "--containerd=/run/containerd/containerd.sock",
                ][..],
            ),
            (
                "-/usr/bin/containerd   --config \"/etc/my conf.toml\"",
                &["-/usr/bin/containerd", "--config", "/etc/my conf.toml"],
            ),
            ("", &[]),
        ] {
            assert_eq!(split_exec(line), want, "{line}");
        }
    }

    #[test]
    fn unit_files() {
        let text =
            "[Service]\n# ExecStart=/commented\nExecStart=\nExecStart=/usr/bin/dockerd \\\n  \
                    --data-root /d\nEnvironmentFile=-/etc/default/docker\n";
        assert_eq!(unit_assignments(text, "ExecStart"), ["", "/usr/bin/dockerd  --data-root /d"]);
        assert_eq!(unit_assignments(text, "EnvironmentFile"), ["-/etc/default/docker"]);
    }

    #[test]
    fn containerd_toml() {
        let v2 = "version = 2\n[grpc]\n  address = \"/run/c/c.sock\" # comment\n  uid = 0\n\
                  [debug]\n  address = \"/run/c/debug.sock\"\n";
        assert_eq!(toml_value(v2, "grpc", "address").as_deref(), Some("/run/c/c.sock"));
        assert_eq!(toml_value(v2, "debug", "address").as_deref(), Some("/run/c/debug.sock"));
        assert_eq!(toml_value("[plugins]\naddress='x'\n", "grpc", "address"), None);
        assert_eq!(toml_value("[grpc]\naddress = ''\n", "grpc", "address").as_deref(), Some(""));
    }

    fn image() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "nlaudit-locate-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&dir);
        let files: &[(&str, &str)] = &[
            ("usr/sbin/dockerd", ""),
            ("usr/bin/containerd", ""),
            ("usr/sbin/runc", ""),
            (
                "lib/systemd/system/docker.service",
                "[Service]\nExecStart=/usr/sbin/dockerd -H fd:// --data-root=/srv/docker\n",
            ),
            ("etc/systemd/system/docker.socket", ""),
            ("etc/containerd/config.toml", "[grpc]\naddress = \"/run/ctd/ctd.sock\"\n"),
            ("srv/docker/.keep", ""),
        ];
        for (f, text) in files {
            let p = dir.join(f);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            fs::write(&p, text).expect("write");
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        fs::create_dir_all(dir.join("run/ctd")).expect("mkdir");
        fs::write(dir.join("run/ctd/ctd.sock"), "").expect("socket stand-in");
        std::os::unix::fs::symlink("/usr/sbin/runc", dir.join("usr/bin/runc")).expect("link");
        dir
    }

    fn located(l: &mut Locator<'_>, cis: &str) -> Located {
        let c = CONTROLS.iter().find(|c| c.cis == cis).expect("control");
        l.locate(c)
    }

    #[test]
    fn finds_the_files_in_use() {
        let dir = image();
        let procs = vec![Proc {
            pid: 42,
            exe: "/usr/bin/containerd".into(),
            replaced: true,
            args: vec![
                "containerd".into(),
                "--config".into(),
                "/etc/containerd/config.toml".into(),
            ],
        }];
        let host = RootHost::new(&dir);
        let mut l = Locator::with(FsView::new(&host), procs, "/usr/local/bin:/usr/bin:/usr/sbin");
        for (cis, path, source) in [
            ("1.1.3", Some("/usr/sbin/dockerd"), "docker.service ExecStart"),
            ("1.1.5", Some("/srv/docker"), "docker.service ExecStart --data-root"),
            ("1.1.7", Some("/lib/systemd/system/docker.service"), "docker.service FragmentPath"),
            ("1.1.8", Some("/run/ctd/ctd.sock"), "process 42 config"),
            ("1.1.9", Some("/etc/systemd/system/docker.socket"), "docker.socket FragmentPath"),
            ("1.1.12", Some("/etc/containerd/config.toml"), "process 42 --config"),
            ("1.1.13", None, ""),
            ("1.1.14", Some("/usr/bin/containerd"), "process 42 /proc/42/exe"),
            ("1.1.18", Some("/usr/bin/runc"), "PATH"),
        ] {
            let loc = located(&mut l, cis);
            let got = loc.path();
            assert_eq!(got.map(|c| c.path.as_str()), path, "{cis}: {:?}", loc.candidates);
            if let Some(c) = got {
                assert!(c.source.starts_with(source), "{cis}: {}", c.source);
            } else {
                assert!(loc.not_applicable.as_deref().is_some_and(|r| r.contains("not found")));
            }
        }
        // /usr/bin/runc is found first on PATH, but it is a link: the real file is watched.
        let runc = located(&mut l, "1.1.18");
        assert_eq!(runc.watch_path(), Some("/usr/sbin/runc"));
        assert!(runc.notes.iter().any(|n| n.contains("the kernel would watch the link itself")));
        let ctd = located(&mut l, "1.1.14");
        assert!(ctd.notes.iter().any(|n| n.contains("replaced or removed on disk")));
        // A masked unit does not apply.
        fs::remove_file(dir.join("etc/systemd/system/docker.socket")).expect("rm");
        std::os::unix::fs::symlink("/dev/null", dir.join("etc/systemd/system/docker.socket"))
            .expect("mask");
        let mut l = Locator::with(FsView::new(&host), vec![], "/usr/bin");
        let sock = located(&mut l, "1.1.9");
        assert!(sock.not_applicable.as_deref().is_some_and(|r| r.contains("masked")), "{sock:?}");
        let _ = fs::remove_dir_all(dir);
    }
}
