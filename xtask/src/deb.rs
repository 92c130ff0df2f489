//! `cargo xtask deb`: the Debian package, `target/nlaudit_VERSION_amd64.deb`.
//!
//! What: stages a file tree in `target/deb/root` — the static binary (`cargo xtask dist`'s,
//! without its size gate), the man pages (gzipped, section 8), the bash, zsh and fish
//! completions, the systemd units and OpenRC scripts of `packaging/`, the drop-ins, the
//! licences and `docs/*.md` (which the help cites) — and builds it with `dpkg-deb --build --root-owner-group`.
//!
//! Why `dpkg-deb` and not cargo-deb: the package is a static binary and a few generated
//! files, which a staged tree describes completely; dpkg-deb comes with dpkg on every Debian
//! machine, while cargo-deb would be one more tool to install (and to keep in step with) for
//! no file it would add.
//!
//! The drop-ins are opt-in and never touch the audit package's files: `auditctl` and
//! `auditd` are symlinks to nlaudit in [`DROPIN_DIR`] (nlaudit dispatches on `argv[0]`), a
//! directory no other package uses; put it first in PATH, or link one into /usr/local/sbin.
//! The units are installed disabled (`systemctl enable nlaudit-rules`); nothing is started.
//!
//! `cargo xtask deb-test` (deb_test.rs) installs the package and checks it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::dist;
use crate::util::{root, run};

/// The package's name.
pub const PACKAGE: &str = "nlaudit";
/// Where the binary goes (the units' `ExecStart=`).
pub const BIN: &str = "/usr/sbin/nlaudit";
/// The opt-in drop-ins: symlinks named as the tools they stand in for.
pub const DROPIN_DIR: &str = "/usr/lib/nlaudit/bin";
/// The drop-ins' names.
pub const DROPINS: [&str; 2] = ["auditctl", "auditd"];
/// The man pages' directory (section 8, as auditctl's and auditd's).
pub const MAN_DIR: &str = "/usr/share/man/man8";
/// The systemd units' directory (the package's, not /etc's, which is the administrator's).
pub const UNIT_DIR: &str = "/usr/lib/systemd/system";
/// The systemd units shipped, from `packaging/`.
pub const UNITS: [&str; 2] = ["nlaudit-daemon.service", "nlaudit-rules.service"];
/// The completion scripts: (file under `target/dist/completions/`, where the shell looks).
pub const COMPLETIONS: [(&str, &str); 3] = [
    ("nlaudit.bash", "/usr/share/bash-completion/completions/nlaudit"),
    ("_nlaudit", "/usr/share/zsh/vendor-completions/_nlaudit"),
    ("nlaudit.fish", "/usr/share/fish/vendor_completions.d/nlaudit.fish"),
];
/// Where the OpenRC scripts go in the package (examples: Debian boots with systemd;
/// Alpine's package would install them as /etc/init.d/NAME).
const OPENRC_DIR: &str = "/usr/share/doc/nlaudit/openrc";
const OPENRC: [&str; 2] = ["nlaudit-daemon.openrc", "nlaudit-rules.openrc"];
/// The staged tree, relative to the workspace root.
const STAGE_DIR: &str = "target/deb/root";

/// Reloads systemd's units after install and removal, when systemd is running.
const RELOAD_SYSTEMD: &str = "#!/bin/sh\nset -e\n\
    if [ -d /run/systemd/system ]; then systemctl --system daemon-reload >/dev/null || true; fi\n";

pub fn run_task(args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        anyhow::bail!("unknown deb argument {arg:?} (usage: deb)");
    }
    build().map(|_| ())
}

/// Builds the static binary, the man pages and completions, stages them and builds the
/// package; returns its path.
pub fn build() -> Result<PathBuf> {
    let root = root();
    let bin = dist::build()?;
    dist::generate()?;
    let version = workspace_version(&root)?;
    let stage = root.join(STAGE_DIR);
    if stage.exists() {
        std::fs::remove_dir_all(&stage)
            .with_context(|| format!("cannot remove {}", stage.display()))?;
    }

    install(&bin, &stage, BIN, 0o755)?;
    for name in DROPINS {
        symlink(BIN, &stage, &format!("{DROPIN_DIR}/{name}"))?;
    }
    let man_src = root.join(dist::DIST_DIR).join(dist::MAN_DIR);
    for entry in
        std::fs::read_dir(&man_src).with_context(|| format!("cannot read {}", man_src.display()))?
    {
        let page = entry?.path();
        let name = page.file_name().and_then(|n| n.to_str()).context("a non-UTF-8 page name")?;
        let gz = gzip(&page)?;
        write(&stage, &format!("{MAN_DIR}/{name}.gz"), &gz, 0o644)?;
    }
    let completions = root.join(dist::DIST_DIR).join(dist::COMPLETIONS_DIR);
    for (file, dest) in COMPLETIONS {
        install(&completions.join(file), &stage, dest, 0o644)?;
    }
    let packaging = root.join("packaging");
    for unit in UNITS {
        install(&packaging.join(unit), &stage, &format!("{UNIT_DIR}/{unit}"), 0o644)?;
    }
    for script in OPENRC {
        install(&packaging.join(script), &stage, &format!("{OPENRC_DIR}/{script}"), 0o644)?;
    }
    write(&stage, "/usr/share/doc/nlaudit/copyright", copyright(&root)?.as_bytes(), 0o644)?;
    install(&root.join("README.md"), &stage, "/usr/share/doc/nlaudit/README.md", 0o644)?;
    // The help names these (`schema: events.md in /usr/share/doc/nlaudit`).
    let docs = root.join("docs");
    for entry in
        std::fs::read_dir(&docs).with_context(|| format!("cannot read {}", docs.display()))?
    {
        let doc = entry?.path();
        let name = doc.file_name().and_then(|n| n.to_str()).context("a non-UTF-8 doc name")?;
        if doc.is_file() && name.ends_with(".md") {
            install(&doc, &stage, &format!("/usr/share/doc/nlaudit/{name}"), 0o644)?;
        }
    }
    // The JSON Schemas json.md links to (`schemas/NAME.schema.json`).
    let schemas = docs.join("schemas");
    for entry in
        std::fs::read_dir(&schemas).with_context(|| format!("cannot read {}", schemas.display()))?
    {
        let file = entry?.path();
        let name = file.file_name().and_then(|n| n.to_str()).context("a non-UTF-8 schema name")?;
        if file.is_file() && name.ends_with(".schema.json") {
            install(&file, &stage, &format!("/usr/share/doc/nlaudit/schemas/{name}"), 0o644)?;
        }
    }

    let installed_kib = tree_size(&stage)?.div_ceil(1024);
    write(&stage, "/DEBIAN/control", control(&version, installed_kib).as_bytes(), 0o644)?;
    write(&stage, "/DEBIAN/postinst", RELOAD_SYSTEMD.as_bytes(), 0o755)?;
    write(&stage, "/DEBIAN/postrm", RELOAD_SYSTEMD.as_bytes(), 0o755)?;

    let deb = root.join(format!("target/{PACKAGE}_{version}_amd64.deb"));
    run(Command::new("dpkg-deb")
        .args(["--build", "--root-owner-group", "-Zxz"])
        .arg(&stage)
        .arg(&deb))?;
    let size = std::fs::metadata(&deb)?.len();
    println!("{}: {size} bytes", deb.strip_prefix(&root).unwrap_or(&deb).display());
    Ok(deb)
}

/// `DEBIAN/control`. No `Depends:`: the binary is static.
fn control(version: &str, installed_kib: u64) -> String {
    let mut c = String::new();
    let _ = write!(
        c,
        "Package: {PACKAGE}\n\
         Version: {version}\n\
         Architecture: amd64\n\
         Maintainer: The nlaudit developers <nlaudit@example.invalid>\n\
         Installed-Size: {installed_kib}\n\
         Section: admin\n\
         Priority: optional\n\
         Homepage: https://example.invalid/nlaudit\n\
         Suggests: bash-completion\n\
         Description: Linux audit rules, status and daemon over NETLINK_AUDIT\n \
         nlaudit talks to the kernel's audit subsystem directly, with no auditctl,\n \
         libaudit or auditd: it lists, adds and deletes rules with auditctl's syntax\n \
         and output, applies /etc/audit/rules.d without an audit gap (the\n \
         nlaudit-rules unit does it at boot), checks the CIS Docker audit controls,\n \
         reads records and runs as the audit daemon (the nlaudit-daemon unit).\n \
         .\n \
         Drop-ins for auditctl and auditd are in {DROPIN_DIR} (opt-in: the audit\n \
         package's files are never replaced). The units are installed disabled.\n"
    );
    c
}

/// `/usr/share/doc/nlaudit/copyright` in Debian's machine-readable format, with both texts
/// (Apache-2.0 is also in /usr/share/common-licenses; MIT is not).
fn copyright(root: &Path) -> Result<String> {
    let mit = std::fs::read_to_string(root.join("LICENSE-MIT")).context("LICENSE-MIT")?;
    let mut c = String::from(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: nlaudit\n\
         Source: https://example.invalid/nlaudit\n\n\
         Files: *\n\
         Copyright: The nlaudit developers\n\
         License: MIT or Apache-2.0\n\n\
         License: Apache-2.0\n \
         On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.\n\n\
         License: MIT\n",
    );
    for line in mit.lines() {
        c.push_str(if line.trim().is_empty() { " ." } else { " " });
        c.push_str(line.trim_end());
        c.push('\n');
    }
    Ok(c)
}

/// The `version` of `[workspace.package]` in the root Cargo.toml.
fn workspace_version(root: &Path) -> Result<String> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).context("Cargo.toml")?;
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[workspace.package]";
        } else if let Some(v) = line.strip_prefix("version").filter(|_| in_package) {
            let v = v.trim_start().strip_prefix('=').map(str::trim).unwrap_or_default();
            return Ok(v.trim_matches('"').to_string());
        }
    }
    anyhow::bail!("no version in [workspace.package] of Cargo.toml")
}

/// The file `dest` (an absolute path in the package) inside the stage directory.
fn staged(stage: &Path, dest: &str) -> Result<PathBuf> {
    let path = stage.join(dest.trim_start_matches('/'));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    Ok(path)
}

fn write(stage: &Path, dest: &str, bytes: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = staged(stage, dest)?;
    std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot chmod {}", path.display()))
}

fn install(src: &Path, stage: &Path, dest: &str, mode: u32) -> Result<()> {
    let bytes = std::fs::read(src).with_context(|| format!("cannot read {}", src.display()))?;
    write(stage, dest, &bytes, mode)
}

fn symlink(target: &str, stage: &Path, dest: &str) -> Result<()> {
    let path = staged(stage, dest)?;
    std::os::unix::fs::symlink(target, &path)
        .with_context(|| format!("cannot link {} to {target}", path.display()))
}

/// `gzip -9n` (Debian policy 12.1: compressed, no name or time stamp, so builds repeat).
fn gzip(path: &Path) -> Result<Vec<u8>> {
    let out = Command::new("gzip").args(["-9n", "--stdout"]).arg(path).output();
    let out = out.context("cannot run gzip")?;
    anyhow::ensure!(out.status.success(), "gzip {} failed: {out:?}", path.display());
    Ok(out.stdout)
}

/// The bytes of the regular files under `dir` (for `Installed-Size`).
fn tree_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            total += tree_size(&entry.path())?;
        } else if kind.is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_is_well_formed() {
        let c = control("1.2.3", 2600);
        assert!(c.starts_with("Package: nlaudit\nVersion: 1.2.3\n"), "{c}");
        assert!(c.contains("\nInstalled-Size: 2600\n"), "{c}");
        // Continuation lines of the description start with one space; none is empty.
        let description = c.split_once("Description: ").map(|(_, d)| d).unwrap_or_default();
        for line in description.lines().skip(1) {
            assert!(line.starts_with(' ') && line.len() > 1, "{line:?}");
        }
        assert!(c.ends_with('\n'));
    }

    #[test]
    fn reads_the_workspace_version() {
        let v = workspace_version(&root()).expect("version");
        assert!(v.split('.').count() == 3 && !v.contains('"'), "{v}");
    }

    #[test]
    fn copyright_has_no_empty_line_inside_a_license() {
        let c = copyright(&root()).expect("copyright");
        let mit = c.split_once("License: MIT\n").map(|(_, t)| t).unwrap_or_default();
        assert!(mit.lines().all(|l| l.starts_with(' ')), "{mit}");
    }
}
