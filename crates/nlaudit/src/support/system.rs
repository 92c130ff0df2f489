//! Services the commands share: this machine's user and group names, its file system as the
//! rules.d reader sees it, and the parse context for this machine and kernel.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nlaudit_rules::merge::{Awk, Dialect};
use nlaudit_rules::rules_d::{FileKind, FileStat, RulesFs};
use std::sync::OnceLock;

use nlaudit_rules::{Context, Generation};

pub use nlaudit_controls::SystemEnv;

/// The config file that may name the reference generation (`auditctl = 4`); another path
/// with `NLAUDIT_CONFIG`.
pub const CONFIG_FILE: &str = "/etc/nlaudit.conf";

/// The generation chosen once by `main` (flag, else `NLAUDIT_AUDITCTL`, else the config file,
/// else 3). Set once at start; the library receives it as a value in [`Context`]/`Renderer`.
static GENERATION: OnceLock<Generation> = OnceLock::new();

/// Where the generation came from, for `--version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenerationSource {
    /// `--auditctl`.
    Flag,
    /// `NLAUDIT_AUDITCTL`.
    Environment,
    /// The config file at this path.
    ConfigFile(String),
    /// Nothing chose: generation 3.
    Default,
}

/// Resolves the reference generation: `flag`, else `NLAUDIT_AUDITCTL`, else the config file
/// (`auditctl = 3|4`; `#` starts a comment), else 3. A bad value anywhere is an error that
/// names where it was.
pub fn resolve_generation(flag: Option<&str>) -> anyhow::Result<(Generation, GenerationSource)> {
    if let Some(v) = flag {
        return Ok((
            v.parse().map_err(|e| anyhow::anyhow!("--auditctl: {e}"))?,
            GenerationSource::Flag,
        ));
    }
    if let Some(v) = std::env::var_os("NLAUDIT_AUDITCTL").filter(|v| !v.is_empty()) {
        let v = v.to_string_lossy();
        let g = v.parse().map_err(|e| anyhow::anyhow!("NLAUDIT_AUDITCTL: {e}"))?;
        return Ok((g, GenerationSource::Environment));
    }
    let path = std::env::var("NLAUDIT_CONFIG").unwrap_or_else(|_| CONFIG_FILE.to_string());
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok((Generation::default(), GenerationSource::Default))
        }
        Err(e) => return Err(anyhow::anyhow!("{path}: {e}")),
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        let Some((key, value)) = line.split_once('=') else { continue };
        if key.trim() == "auditctl" {
            let g = value.trim().parse().map_err(|e| anyhow::anyhow!("{path}:{}: {e}", n + 1))?;
            return Ok((g, GenerationSource::ConfigFile(path)));
        }
    }
    Ok((Generation::default(), GenerationSource::Default))
}

/// Records the generation for this run (the first call wins).
pub fn set_generation(g: Generation) {
    let _ = GENERATION.set(g);
}

/// The reference generation of this run (3 until `main` sets it).
pub fn generation() -> Generation {
    GENERATION.get().copied().unwrap_or_default()
}

/// A parse context for this machine and kernel (`features` from AUDIT_GET), for this run's
/// reference generation.
pub fn context(features: Option<u32>) -> Context<'static> {
    static ENV: SystemEnv = SystemEnv;
    let mut c = Context::new(&ENV).with_generation(generation());
    if let Some(f) = features {
        c.features = f;
    }
    c
}

/// [`context`] for another machine's syscall tables (`--machine`): `-S` names, `-F arch=b64`
/// and `b32` are those of `machine`.
pub fn context_for(machine: nlaudit_rules::Machine) -> Context<'static> {
    let mut c = context(None);
    c.machine = machine;
    c
}

/// The machine named by `--machine` (a libaudit machine name or alias: `aarch64`, `arm`,
/// `riscv64`, `ppc64le`, `s390x`, `x86_64`, `i386`, ...), in this run's generation's tables.
pub fn machine_named(name: &str) -> anyhow::Result<nlaudit_rules::Machine> {
    use crate::support::errors::{code, fail};
    let g = generation();
    let t = nlaudit_rules::Tables::of(g);
    t.machine_from_name(name).ok_or_else(|| {
        let known: Vec<&str> = t.machines().filter_map(|m| t.machine_name(m)).collect();
        let hint = if nlaudit_rules::Tables::of(g.other()).machine_from_name(name).is_some() {
            format!(" (auditctl {} knows it: --auditctl {})", g.other().version(), g.other())
        } else {
            String::new()
        };
        fail(
            code::USAGE,
            format!(
                "--machine {name}: auditctl {} has no such machine; it knows {}{hint}",
                g.version(),
                known.join(", ")
            ),
        )
    })
}

/// This machine's file system, for [`nlaudit_rules::rules_d::read_rules_dir`].
#[derive(Debug, Default, Clone, Copy)]
pub struct LiveFs;

impl RulesFs for LiveFs {
    fn list(&self, dir: &Path) -> io::Result<Vec<io::Result<OsString>>> {
        Ok(fs::read_dir(dir)?.map(|e| e.map(|e| e.file_name())).collect())
    }
    fn stat(&self, path: &Path) -> io::Result<FileStat> {
        let m = fs::metadata(path)?;
        let kind = if m.is_file() { FileKind::Regular } else { FileKind::Other };
        Ok(FileStat { kind, mode: m.mode() & 0o7777 })
    }
    fn read(&self, path: &Path) -> io::Result<String> {
        fs::read_to_string(path)
    }
}

/// The augenrules dialect of this machine (`awk`: the awk asked for, else this machine's).
///
/// The awk is the one `/usr/bin/awk` (else `/bin/awk`) resolves to: mawk reads `\s` as `s`,
/// every other awk as white space. Trailing `\r` are stripped when the installed augenrules
/// does so (4.x), or when none is installed (current upstream behaviour).
pub fn augenrules_dialect(awk: Option<Awk>) -> Dialect {
    let awk = awk.unwrap_or_else(|| {
        let real = ["/usr/bin/awk", "/bin/awk"].iter().find_map(|p| fs::canonicalize(p).ok());
        match real {
            Some(p) if p.file_name().is_some_and(|n| n.to_string_lossy().contains("mawk")) => {
                Awk::Mawk
            }
            _ => Awk::Gawk,
        }
    });
    let script = ["/usr/sbin/augenrules", "/sbin/augenrules"]
        .iter()
        .find_map(|p| fs::read_to_string(p).ok());
    let strip_cr = script.is_none_or(|s| s.contains(r"sub(/\r$/"));
    Dialect { awk, strip_cr }
}

/// The machine to check: this one, or the image tree at `--root DIR` (which must be a
/// directory). Shared by `docker check|ensure` and `check|ensure --profile`.
pub fn host_for(root: Option<&std::path::Path>) -> anyhow::Result<Box<dyn nlaudit_controls::Host>> {
    use crate::support::errors::{code, fail};
    let Some(dir) = root else { return Ok(Box::new(nlaudit_controls::SystemHost::new())) };
    let canon = dir
        .canonicalize()
        .map_err(|e| fail(code::USAGE, format!("--root {}: {e}", dir.display())))?;
    if !canon.is_dir() {
        return Err(fail(code::USAGE, format!("--root {}: not a directory", dir.display())));
    }
    Ok(Box::new(nlaudit_controls::RootHost::new(&canon)))
}
