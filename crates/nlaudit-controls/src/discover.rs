//! What a profile needs to know about the machine before its requirements can be expanded:
//! `UID_MIN` (/etc/login.defs), the arches, the os-release ids (which variant), where the
//! rules loaded at boot are (rules.d through augenrules, or audit.rules through auditctl),
//! and the setuid/setgid programs on local file systems.

use crate::host::{EntryKind, Host, Target};
use crate::matcher::Arches;

/// `UID_MIN` when /etc/login.defs does not say (shadow's default).
pub const DEFAULT_UID_MIN: u32 = 1000;

/// Where the rules loaded at boot are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootRules {
    /// `/etc/audit/rules.d/*.rules`, merged by augenrules (the default).
    RulesDir,
    /// `/etc/audit/audit.rules`, loaded by `auditctl -R` (auditd.service's `ExecStartPost`
    /// runs auditctl, not augenrules).
    AuditRules,
}

/// The file systems that are not local.
const REMOTE_FS: &[&str] =
    &["nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs", "fuse.sshfs", "9p", "afs"];

/// Directories never walked (kernel file systems).
const PSEUDO: &[&str] = &["/proc", "/sys", "/dev", "/run"];

/// What was discovered.
#[derive(Clone, Debug)]
pub struct Discovery {
    /// `UID_MIN`.
    pub uid_min: u32,
    /// Where `uid_min` comes from (`/etc/login.defs:12` or `default`).
    pub uid_min_source: String,
    /// The arches.
    pub arches: Arches,
    /// os-release `ID` and `ID_LIKE` words.
    pub os: Vec<String>,
    /// Where the boot rules are.
    pub boot: BootRules,
    /// Why (the unit line, or `default`).
    pub boot_source: String,
    /// The setuid/setgid files, sorted (`None`: not asked).
    pub setuid_files: Option<Vec<String>>,
}

/// Discovers everything but the setuid files.
pub fn discover(host: &dyn Host) -> Discovery {
    let (uid_min, uid_min_source) = uid_min(host);
    let (boot, boot_source) = boot_rules(host);
    Discovery {
        uid_min,
        uid_min_source,
        arches: Arches::of(nlaudit_rules::Machine::host()),
        os: os_ids(host),
        boot,
        boot_source,
        setuid_files: None,
    }
}

/// `UID_MIN` of /etc/login.defs (the last such line, as shadow reads it).
pub fn uid_min(host: &dyn Host) -> (u32, String) {
    let path = "/etc/login.defs";
    let mut found = None;
    if let Ok(text) = host.read(path) {
        for (i, l) in text.lines().enumerate() {
            let mut w = l.split_whitespace();
            if w.next() == Some("UID_MIN") {
                if let Some(n) = w.next().and_then(|v| v.parse::<u32>().ok()) {
                    found = Some((n, format!("{path}:{}", i + 1)));
                }
            }
        }
    }
    found.unwrap_or((DEFAULT_UID_MIN, "default (no UID_MIN in /etc/login.defs)".into()))
}

/// os-release `ID` and `ID_LIKE`.
pub fn os_ids(host: &dyn Host) -> Vec<String> {
    let text = host
        .read("/etc/os-release")
        .or_else(|_| host.read("/usr/lib/os-release"))
        .unwrap_or_default();
    let mut out = Vec::new();
    for l in text.lines() {
        if let Some(v) = l.strip_prefix("ID=").or_else(|| l.strip_prefix("ID_LIKE=")) {
            out.extend(v.trim_matches('"').split_whitespace().map(str::to_string));
        }
    }
    out
}

/// Where auditd.service loads rules from: the `ExecStartPost=` of the unit (an override in
/// /etc/systemd/system first, then /usr/lib/systemd/system, then /lib/systemd/system).
pub fn boot_rules(host: &dyn Host) -> (BootRules, String) {
    for unit in [
        "/etc/systemd/system/auditd.service",
        "/usr/lib/systemd/system/auditd.service",
        "/lib/systemd/system/auditd.service",
    ] {
        let Ok(text) = host.read(unit) else { continue };
        for (i, l) in text.lines().enumerate() {
            let Some(cmd) = l.trim().strip_prefix("ExecStartPost=") else { continue };
            let at = format!("{unit}:{}: {}", i + 1, l.trim());
            if cmd.contains("augenrules") {
                return (BootRules::RulesDir, at);
            }
            if cmd.contains("auditctl") {
                return (BootRules::AuditRules, at);
            }
        }
    }
    (
        BootRules::RulesDir,
        "default (no auditd.service ExecStartPost names augenrules or auditctl)".into(),
    )
}

/// The setuid/setgid regular files on local file systems, as the benchmarks find them
/// (`find MOUNT -xdev -type f -perm /6000` over the mounts of a local device that are
/// neither nosuid nor noexec); an image tree is walked whole (but /proc, /sys, /dev, /run).
pub fn setuid_files(host: &dyn Host) -> Vec<String> {
    let (starts, skip) = match (host.target(), host.mountinfo()) {
        (Target::Live, Some(mi)) => mounts(&mi),
        _ => (vec!["/".to_string()], PSEUDO.iter().map(|s| s.to_string()).collect()),
    };
    let mut out = Vec::new();
    for s in &starts {
        walk(host, s, &skip, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

/// The mount points to walk, and every mount point (not crossed: `-xdev`).
fn mounts(mountinfo: &str) -> (Vec<String>, Vec<String>) {
    let mut walk = Vec::new();
    let mut all = PSEUDO.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for l in mountinfo.lines() {
        let Some((left, right)) = l.split_once(" - ") else { continue };
        let left: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        let (Some(point), Some(opts), Some(fstype), Some(source)) =
            (left.get(4), left.get(5), right.first(), right.get(1))
        else {
            continue;
        };
        let point = unescape(point);
        all.push(point.clone());
        let local = source.starts_with("/dev/") && !REMOTE_FS.contains(fstype);
        let limited = opts.split(',').any(|o| o == "nosuid" || o == "noexec");
        if local
            && !limited
            && !PSEUDO.iter().any(|p| point == *p || point.starts_with(&format!("{p}/")))
        {
            walk.push(point);
        }
    }
    (walk, all)
}

/// mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let oct = b
            .get(i + 1..i + 4)
            .filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match oct {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn walk(host: &dyn Host, dir: &str, skip: &[String], out: &mut Vec<String>) {
    let Ok(names) = host.list(dir) else { return };
    for name in names.into_iter().flatten() {
        let Some(name) = name.to_str().map(str::to_string) else { continue };
        let path = if dir == "/" { format!("/{name}") } else { format!("{dir}/{name}") };
        match host.lstat(&path) {
            Some(EntryKind::Dir) if !skip.contains(&path) => walk(host, &path, skip, out),
            Some(EntryKind::File) if host.stat(&path).is_ok_and(|s| s.mode & 0o6000 != 0) => {
                out.push(path)
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::RootHost;

    #[test]
    fn mounts_to_walk() {
        let mi = "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n\
                  23 22 0:5 / /dev rw - devtmpfs devtmpfs rw\n\
                  24 22 0:6 / /tmp rw,nosuid - tmpfs tmpfs rw\n\
                  25 22 254:1 / /srv/my\\040data rw - xfs /dev/vdb rw\n\
                  26 22 0:7 / /net rw - nfs4 /dev/fake rw\n\
                  27 22 254:2 / /media rw,noexec - ext4 /dev/vdc rw\n";
        let (walk, all) = mounts(mi);
        assert_eq!(walk, ["/", "/srv/my data"]);
        assert!(all.contains(&"/tmp".to_string()) && all.contains(&"/net".to_string()));
    }

    #[test]
    fn an_image_tree() {
        let dir = std::env::temp_dir().join(format!("nlaudit-discover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mk = |p: &str, body: &str| {
            let f = dir.join(p.trim_start_matches('/'));
            std::fs::create_dir_all(f.parent().expect("parent")).expect("mkdir");
            std::fs::write(&f, body).expect("write");
            f
        };
        use std::os::unix::fs::PermissionsExt;
        let su = mk("/usr/bin/su", "");
        std::fs::set_permissions(&su, std::fs::Permissions::from_mode(0o4755)).expect("chmod");
        let wall = mk("/usr/bin/wall", "");
        std::fs::set_permissions(&wall, std::fs::Permissions::from_mode(0o2755)).expect("chmod");
        mk("/usr/bin/ls", "");
        mk("/etc/login.defs", "# x\nUID_MIN   500\n");
        mk("/etc/os-release", "ID=ubuntu\nID_LIKE=debian\n");
        mk(
            "/usr/lib/systemd/system/auditd.service",
            "[Service]\nExecStartPost=-/sbin/auditctl -R /etc/audit/audit.rules\n",
        );
        let host = RootHost::new(&dir);
        assert_eq!(setuid_files(&host), ["/usr/bin/su", "/usr/bin/wall"]);
        assert_eq!(uid_min(&host), (500, "/etc/login.defs:2".to_string()));
        assert_eq!(os_ids(&host), ["ubuntu", "debian"]);
        assert_eq!(boot_rules(&host).0, BootRules::AuditRules);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
