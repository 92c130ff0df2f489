//! `cargo xtask deb-test`: installs the Debian package and checks it as a new user would
//! meet it (root, Debian; CI runs it through `cargo xtask test`).
//!
//! 1. builds the package (`cargo xtask deb`) and refuses to run if `nlaudit` is already
//!    installed (it would be replaced, then removed);
//! 2. `dpkg -i`; every path `dpkg -L nlaudit` lists exists, the binary, pages, completions,
//!    units and drop-ins among them, and none is a file of the audit package
//!    (`/usr/sbin/auditctl`, `/sbin/auditd`, ...);
//! 3. `nlaudit --version` and the `auditctl` drop-in run; `nlaudit docker check` runs to a
//!    verdict (exit 0 or 1, not 2); `man nlaudit` and `man nlaudit-apply` render;
//!    bash completes `nlaudit ap<TAB>` to `apply`; `systemd-analyze verify` accepts both units;
//! 4. `dpkg -r nlaudit` and none of the files is left; then `dpkg --purge` (also when a
//!    check failed), so dpkg keeps no record of it.
//!
//! Not root outside CI: skips with a message. Under CI=true, not root is a failure.

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{bail, ensure, Context, Result};

use crate::deb::{self, BIN, COMPLETIONS, DROPINS, DROPIN_DIR, MAN_DIR, PACKAGE, UNITS, UNIT_DIR};
use crate::util::is_root;

/// The audit package's programs, which nlaudit's package must never own.
const AUDIT_FILES: [&str; 6] = [
    "/sbin/auditctl",
    "/sbin/auditd",
    "/usr/sbin/auditctl",
    "/usr/sbin/auditd",
    "/usr/sbin/augenrules",
    "/sbin/augenrules",
];

pub fn run(args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        bail!("unknown deb-test argument {arg:?} (usage: deb-test)");
    }
    if !is_root()? {
        ensure!(std::env::var("CI").as_deref() != Ok("true"), "deb-test needs root (dpkg -i)");
        println!("deb-test: skipped (not root; it installs and removes the package)");
        return Ok(());
    }
    ensure!(
        !installed()?,
        "{PACKAGE} is already installed (dpkg -s {PACKAGE}); the test would replace and then \
         remove it: `dpkg -r {PACKAGE}` first"
    );
    let deb = deb::build()?;
    let installed = Installed::install(&deb)?;
    let checked = check();
    let removed = installed.remove();
    checked?;
    let files = removed?;
    println!("deb-test: ok ({files} files installed, checked and removed)");
    Ok(())
}

/// Whether dpkg knows the package as installed.
fn installed() -> Result<bool> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Status}", PACKAGE])
        .output()
        .context("cannot run dpkg-query")?;
    Ok(out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "installed")
}

/// The installed package; removed by [`Installed::remove`], or on drop if a check failed
/// before that.
struct Installed {
    removed: bool,
}

impl Installed {
    fn install(deb: &Path) -> Result<Self> {
        let out = output(Command::new("dpkg").arg("-i").arg(deb))?;
        ensure!(out.status.success(), "dpkg -i {} failed:\n{}", deb.display(), text(&out));
        Ok(Self { removed: false })
    }

    /// `dpkg -r`; checks that no file of the package is left; returns how many there were.
    fn remove(mut self) -> Result<usize> {
        let files = listed()?;
        self.removed = true;
        let out = output(Command::new("dpkg").args(["-r", PACKAGE]))?;
        ensure!(out.status.success(), "dpkg -r {PACKAGE} failed:\n{}", text(&out));
        ensure!(!installed()?, "{PACKAGE} is still installed after dpkg -r");
        let left: Vec<&String> = files
            .iter()
            .filter(|f| Path::new(f).symlink_metadata().is_ok_and(|m| !m.is_dir()))
            .collect();
        ensure!(left.is_empty(), "dpkg -r left {left:?}");
        // The maintainer scripts keep dpkg's record ("config-files") until a purge.
        let out = output(Command::new("dpkg").args(["--purge", PACKAGE]))?;
        ensure!(out.status.success(), "dpkg --purge {PACKAGE} failed:\n{}", text(&out));
        Ok(files.iter().filter(|f| !Path::new(f).is_dir()).count())
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        if !self.removed {
            let _ = Command::new("dpkg").args(["--purge", PACKAGE]).status();
        }
    }
}

/// What `dpkg -L` says the package installed (directories included).
fn listed() -> Result<Vec<String>> {
    let out = output(Command::new("dpkg").args(["-L", PACKAGE]))?;
    ensure!(out.status.success(), "dpkg -L {PACKAGE} failed:\n{}", text(&out));
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('/') && *l != "/.")
        .map(str::to_string)
        .collect())
}

/// Every check, all failures collected.
fn check() -> Result<()> {
    let mut failures = Vec::new();
    let mut note = |r: Result<()>| {
        if let Err(e) = r {
            failures.push(format!("{e:#}"));
        }
    };
    note(files_land());
    note(runs());
    note(man_renders());
    note(bash_completes());
    note(units_verify());
    if failures.is_empty() {
        return Ok(());
    }
    bail!("deb-test: {} failures:\n- {}", failures.len(), failures.join("\n- "))
}

fn files_land() -> Result<()> {
    let files = listed()?;
    let missing: Vec<&String> =
        files.iter().filter(|f| Path::new(f).symlink_metadata().is_err()).collect();
    ensure!(missing.is_empty(), "dpkg -L lists files that are not there: {missing:?}");
    let mut expected = vec![
        BIN.to_string(),
        format!("{MAN_DIR}/nlaudit.8.gz"),
        format!("{MAN_DIR}/nlaudit-apply.8.gz"),
        format!("{MAN_DIR}/nlaudit-docker-check.8.gz"),
        "/usr/share/doc/nlaudit/events.md".to_string(),
    ];
    expected.extend(COMPLETIONS.map(|(_, dest)| dest.to_string()));
    expected.extend(UNITS.map(|u| format!("{UNIT_DIR}/{u}")));
    expected.extend(DROPINS.map(|d| format!("{DROPIN_DIR}/{d}")));
    let absent: Vec<&String> = expected.iter().filter(|e| !files.contains(e)).collect();
    ensure!(absent.is_empty(), "dpkg -L does not list {absent:?}");
    let owned: Vec<&str> =
        AUDIT_FILES.into_iter().filter(|a| files.iter().any(|f| f == a)).collect();
    ensure!(owned.is_empty(), "the package owns the audit package's {owned:?}");
    Ok(())
}

fn runs() -> Result<()> {
    let out = output(Command::new(BIN).arg("--version"))?;
    ensure!(
        out.status.success() && text(&out).starts_with("nlaudit "),
        "{BIN} --version:\n{}",
        text(&out)
    );
    let dropin = format!("{DROPIN_DIR}/auditctl");
    let out = output(Command::new(&dropin).arg("-v"))?;
    ensure!(
        out.status.success() && text(&out).contains("auditctl version"),
        "{dropin} -v:\n{}",
        text(&out)
    );
    // Reads the kernel's rules and this machine's files; changes nothing.
    let out = output(Command::new(BIN).args(["docker", "check"]))?;
    ensure!(
        matches!(out.status.code(), Some(0 | 1)),
        "{BIN} docker check gave no verdict ({}):\n{}",
        out.status,
        text(&out)
    );
    Ok(())
}

fn man_renders() -> Result<()> {
    for (page, expect) in [("nlaudit", "SUBCOMMANDS"), ("nlaudit-apply", "--dry-run")] {
        let out = output(
            Command::new("man")
                .arg(page)
                .env("MANPAGER", "cat")
                .env("MANWIDTH", "80")
                .env("LC_ALL", "C.UTF-8"),
        )?;
        let said = text(&out);
        ensure!(
            out.status.success() && said.contains("NAME") && said.contains(expect),
            "man {page} did not render ({}):\n{said}",
            out.status
        );
    }
    Ok(())
}

/// `nlaudit ap<TAB>` in bash, by calling the completion function as bash-completion would.
fn bash_completes() -> Result<()> {
    let script = COMPLETIONS.first().map(|(_, dest)| *dest).unwrap_or_default();
    let out = output(Command::new("bash").arg("-c").arg(format!(
        "source {script} && COMP_WORDS=(nlaudit ap) && COMP_CWORD=1 && COMP_LINE='nlaudit ap' \
         && COMP_POINT=10 && _nlaudit nlaudit ap nlaudit && echo \"${{COMPREPLY[*]}}\""
    )))?;
    ensure!(
        out.status.success() && text(&out).split_whitespace().any(|w| w == "apply"),
        "bash did not complete `nlaudit ap` to apply:\n{}",
        text(&out)
    );
    Ok(())
}

fn units_verify() -> Result<()> {
    let units: Vec<String> = UNITS.iter().map(|u| format!("{UNIT_DIR}/{u}")).collect();
    let out = output(Command::new("systemd-analyze").arg("verify").args(&units))?;
    ensure!(
        out.status.success(),
        "systemd-analyze verify {units:?} ({}):\n{}",
        out.status,
        text(&out)
    );
    println!("systemd-analyze verify: {} units accepted", units.len());
    Ok(())
}

fn output(cmd: &mut Command) -> Result<Output> {
    cmd.output().with_context(|| format!("cannot run {cmd:?}"))
}

/// Standard output and error, for messages.
fn text(out: &Output) -> String {
    let mut t = String::from_utf8_lossy(&out.stdout).into_owned();
    t.push_str(&String::from_utf8_lossy(&out.stderr));
    t
}
