//! `check --profile` against ComplianceAsCode's own test scenarios (rendered for Debian 12,
//! ../shared/reference/cac-debian12 beside the checkout, or $NLAUDIT_CAC_SCENARIOS). Each
//! scenario script sets up a scratch root's /etc/audit as CaC's test harness would (once,
//! shared by both tests), then:
//! - persisted side: `nlaudit check --root` judges the requirements that carry the
//!   scenario's CaC rule id;
//! - live side: the rules the scenario persisted are loaded into the kernel (one kernel lock
//!   for the run, the kernel's rules put back at the end) and the library judges the same
//!   requirements on the kernel's listing; every rule the kernel or the parser refuses is
//!   accounted for.
//!
//! The expected verdict is the scenario's name (`*.pass.sh`/`*.fail.sh`); every disagreement
//! must be one of the explained ones in [`EXPLAINED`] (docs/profiles.md, "ComplianceAsCode's
//! scenarios").

mod support;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use nlaudit_controls::discover::discover;
use nlaudit_controls::evaluate::AuditState;
use nlaudit_controls::fsview::FsView;
use nlaudit_controls::host::{EntryKind, Proc, Stat, Target};
use nlaudit_controls::matcher::Shape;
use nlaudit_controls::profile;
use nlaudit_controls::profile_check::{
    check_profile, read_sides, KernelExtra, ProfileContext, ProfileOutcome, SideVerdict, Sides,
};
use nlaudit_controls::{Host, Kernel, RootHost, RuleSet, SystemHost};
use nlaudit_proto::consts::FieldType;
use nlaudit_proto::{AuditEnabled, BatchOp, Client, Errno, ItemResult, OnError, RuleData, Status};
use nlaudit_rules::merge::Dialect;
use nlaudit_rules::normalize;
use support::nlaudit_bin;

/// Scenarios where nlaudit's semantic verdict differs from the scenario's name, and why.
const EXPLAINED: &[(&str, &str, &str)] = &[
    (
        "audit_rules_networkconfig_modification",
        "pass",
        "the scenario writes /etc/sysconfig/network (RHEL); the Debian rule needs /etc/networks and /etc/network (CaC's own OVAL fails it too)",
    ),
    (
        "audit_rules_sysadmin_actions",
        "missing_slash.fail.sh",
        "`-w /etc/sudoers.d` and `-w /etc/sudoers.d/` are one kernel rule (auditctl trims the slash)",
    ),
    (
        "audit_rules_kernel_module_loading_",
        "correct_rules.pass.sh",
        "CaC's Debian 12 check drops the auid filters the CIS text (and CaC's RHEL/Ubuntu check) has; nlaudit follows the benchmark",
    ),
];

/// The live side's disagreements (the same rules as the persisted side's).
const EXPLAINED_LIVE: &[(&str, &str, &str)] = EXPLAINED;

/// RHEL 9's. A scenario pattern starting with `_` matches the end of the scenario's name.
const EXPLAINED_RHEL9: &[(&str, &str, &str)] = &[
    (
        "audit_rules_privileged_commands_",
        "_missing_perm_x.fail.sh",
        "a rule without `-F perm=x` records executions too (wider is fine); CaC's check wants the perm filter",
    ),
    (
        "audit_rules_execution_",
        "_missing_perm_x.fail.sh",
        "a rule without `-F perm=x` records executions too (wider is fine); CaC's check wants the perm filter",
    ),
    (
        "audit_privileged_commands_",
        "_missing_perm_x.fail.sh",
        "a rule without `-F perm=x` records executions too (wider is fine); CaC's check wants the perm filter",
    ),
    (
        "audit_rules_networkconfig_modification_network",
        "pass",
        "the modern form CaC writes is `-F path=DIR` (its template gives `-F dir=` only for a path ending in `/`): a watch on the directory's own inode, which does not record writes to the files in it; `-w DIR` is the tree watch `-F dir=DIR`",
    ),
    (
        "audit_rules_sysadmin_actions",
        "missing_slash.fail.sh",
        "`-F dir=/etc/sudoers.d` and `-F dir=/etc/sudoers.d/` are one kernel rule (auditctl trims the slash)",
    ),
];

/// RHEL 9's live side.
const EXPLAINED_RHEL9_LIVE: &[(&str, &str, &str)] = EXPLAINED_RHEL9;

/// The Debian 12 unit line and default rules.d/audit.rules (the scripts edit them).
const UNIT: &str = "[Service]\nExecStart=/sbin/auditd\nExecStartPost=-/sbin/augenrules --load\n";
const DEFAULT_RULES: &str = "-D\n-b 8192\n--backlog_wait_time 60000\n-f 1\n";

/// The template `tests/shared/audit_rules_watch/*.sh` bodies, written from their description
/// (profiles.md §5.2): they get `path`, `style` and `filter_type` from the scenario.
fn shared_watch(name: &str) -> Option<String> {
    let rule = |perm: &str, key: bool| {
        let k = if key { " -k logins" } else { "" };
        format!(
            r#"if [ "$style" = modern ]; then
  echo "-a always,exit -F arch=b32 -F $filter_type=$path -F perm={perm}{k}" >> "$F"
  echo "-a always,exit -F arch=b64 -F $filter_type=$path -F perm={perm}{k}" >> "$F"
else
  echo "-w $path -p {perm}{k}" >> "$F"
fi
"#
        )
    };
    let augen = "sed -i 's%^ExecStartPost=.*%ExecStartPost=-/sbin/augenrules%' /usr/lib/systemd/system/auditd.service\nF=/etc/audit/rules.d/login.rules\n";
    let auditctl = "sed -i 's%^ExecStartPost=.*%ExecStartPost=-/sbin/auditctl%' /usr/lib/systemd/system/auditd.service\nF=/etc/audit/audit.rules\n";
    let wipe_path = "for f in /etc/audit/rules.d/*.rules /etc/audit/audit.rules; do [ -f \"$f\" ] && sed -i \"\\%$path%d\" \"$f\"; done\n";
    Some(match name {
        "augenrules_correct.pass.sh" => format!("{augen}{}", rule("wa", true)),
        "augenrules_correct_extra_permission.pass.sh" => format!("{augen}{}", rule("wra", true)),
        "augenrules_correct_without_key.pass.sh" => format!("{augen}{}", rule("wa", false)),
        "augenrules_remove_all_rules.fail.sh" => {
            format!("{augen}rm -f /etc/audit/rules.d/*\n> /etc/audit/audit.rules\n")
        }
        "augenrules_wrong_rule.fail.sh" => format!("{augen}{wipe_path}{}", rule("w", true)),
        "augenrules_wrong_rule_without_key.fail.sh" => {
            format!("{augen}{wipe_path}{}", rule("w", false))
        }
        "auditctl_correct.pass.sh" => format!("{auditctl}{}", rule("wa", true)),
        "auditctl_correct_extra_permission.pass.sh" => format!("{auditctl}{}", rule("wra", true)),
        "auditctl_correct_without_key.pass.sh" => format!("{auditctl}{}", rule("wa", false)),
        "auditctl_remove_all_rules.fail.sh" => format!("{auditctl}rm -f /etc/audit/audit.rules\n"),
        "auditctl_wrong_rule.fail.sh" => format!("{auditctl}{wipe_path}{}", rule("w", true)),
        "auditctl_wrong_rule_without_key.fail.sh" => {
            format!("{auditctl}{wipe_path}{}", rule("w", false))
        }
        _ => return None,
    })
}

/// A scenario script with the machine's paths moved into `root`.
fn rewrite(text: &str, root: &Path) -> String {
    let r = root.display().to_string();
    text.replace("/etc/audit", &format!("{r}/etc/audit"))
        .replace("/usr/lib/systemd/system", &format!("{r}/usr/lib/systemd/system"))
}

/// A product whose CaC scenarios were rendered (`cac-PRODUCT/`, the same layout).
struct Product {
    /// CaC's product id (`debian12`).
    name: &'static str,
    /// The variable naming the scenarios' directory.
    env: &'static str,
    /// Where they are otherwise, from the crate: the project's shared/ folder beside the
    /// checkout (as in CI), then this repository's tests/data.
    dirs: &'static [&'static str],
    /// The profiles (and variants) looked in for a scenario's rule id, in order.
    profiles: &'static [(&'static str, &'static str)],
    /// Directories the product's machines have, made in every scratch root (a rule on a
    /// path in a missing directory is not applicable).
    tree: &'static [&'static str],
    /// Rule ids no profile of the product requires (their scenarios are skipped), and why.
    unused: &'static [(&'static str, &'static str)],
    /// The persisted side's explained disagreements.
    explained: &'static [(&'static str, &'static str, &'static str)],
    /// The live side's.
    explained_live: &'static [(&'static str, &'static str, &'static str)],
}

const DEBIAN12: Product = Product {
    name: "debian12",
    env: "NLAUDIT_CAC_SCENARIOS",
    dirs: &["../../../shared/reference/cac-debian12"],
    profiles: &[("cis-linux", "debian"), ("cis-linux", "rhel9"), ("stig-rhel9", "")],
    tree: &[
        "usr/bin",
        "usr/sbin",
        "usr/share",
        "etc/security",
        "var/log",
        "var/run",
        "etc/apparmor.d",
    ],
    unused: &[(
        "audit_rules_time_stime",
        "CIS RHEL 9 v2.0.0 lists it only as related, the STIG not at all",
    )],
    explained: EXPLAINED,
    explained_live: EXPLAINED_LIVE,
};

const RHEL9: Product = Product {
    name: "rhel9",
    env: "NLAUDIT_CAC_SCENARIOS_RHEL9",
    dirs: &["../../../shared/reference/cac-rhel9", "../../tests/data/cac-rhel9"],
    profiles: &[("cis-linux", "rhel9"), ("stig-rhel9", "")],
    tree: &[
        "usr/bin",
        "usr/sbin",
        "usr/share/selinux",
        "usr/libexec/openssh",
        "etc/security",
        "etc/selinux",
        "etc/sysconfig/network-scripts",
        "etc/NetworkManager",
        "etc/sudoers.d",
        "etc/pam.d",
        "var/log",
        "var/run",
    ],
    unused: &[(
        "audit_rules_session_events",
        "the Debian variant's one rule for utmp, wtmp and btmp; RHEL 9 has one rule per file",
    )],
    explained: EXPLAINED_RHEL9,
    explained_live: EXPLAINED_RHEL9_LIVE,
};

fn scenarios_dir(product: &Product) -> Option<PathBuf> {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = std::env::var_os(product.env)
        .map(|d| vec![PathBuf::from(d)])
        .unwrap_or_else(|| product.dirs.iter().map(|d| crate_dir.join(d)).collect());
    candidates.into_iter().find(|d| d.join("verdicts.tsv").is_file())
}

/// The profile (and variant) whose requirements carry `cac`, and the profile text to use
/// (faillock scenarios name the directory in a `# variables =` line).
fn profile_for(product: &Product, cac: &str, script: &str) -> Option<(String, &'static str)> {
    for &(name, variant) in product.profiles {
        let b = nlaudit_controls_text(name);
        let fits = |l: &str| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let only = words.iter().find_map(|w| w.strip_prefix("only="));
            words.contains(&format!("cac={cac}").as_str())
                && only.is_none_or(|o| o.split(',').any(|v| v == variant))
        };
        if b.lines().any(fits) {
            let mut text = b.to_string();
            if let Some(dir) = script.lines().find_map(|l| {
                l.strip_prefix("# variables = var_accounts_passwords_pam_faillock_dir=")
            }) {
                text = text
                    .replace("/var/run/faillock", dir.trim())
                    .replace("/var/log/faillock", dir.trim());
            }
            return Some((text, variant));
        }
    }
    None
}

fn nlaudit_controls_text(name: &str) -> &'static str {
    match name {
        "cis-linux" => include_str!("../crates/nlaudit-controls/profiles/cis-linux.profile"),
        "stig-rhel9" => include_str!("../crates/nlaudit-controls/profiles/stig-rhel9.profile"),
        _ => "",
    }
}

/// One scenario, set up in its scratch root.
struct Scenario {
    /// The CaC rule id (the scenario's directory).
    rule: String,
    /// The script's file name (`correct.pass.sh`).
    script: String,
    /// The scenario's verdict, from its name.
    expected: String,
    /// What CaC's own OVAL check said (verdicts.tsv).
    cac_verdict: String,
    /// Its scratch root (the scenario's /etc/audit and auditd.service).
    root: PathBuf,
    /// The profile text whose requirements carry the rule id, and its variant.
    profile: String,
    variant: &'static str,
}

/// Every scenario set up once, shared by the persisted and the live test.
struct Prepared {
    product: &'static str,
    unused: &'static [(&'static str, &'static str)],
    base: PathBuf,
    scenarios: Vec<Scenario>,
    /// `rule/script` of the scenarios no profile requires.
    skipped: Vec<String>,
    /// Lines of verdicts.tsv.
    lines: usize,
}

/// Each product's scenarios, set up once; and how many of its two tests (persisted, live)
/// have finished: the second removes the roots.
struct Cell {
    prepared: OnceLock<Option<Prepared>>,
    finished: AtomicUsize,
}

static CELLS: [Cell; 2] = [
    Cell { prepared: OnceLock::new(), finished: AtomicUsize::new(0) },
    Cell { prepared: OnceLock::new(), finished: AtomicUsize::new(0) },
];

fn cell(product: &Product) -> &'static Cell {
    &CELLS[usize::from(product.name != DEBIAN12.name)]
}

/// Removes a product's scratch roots when the last test using them ends (also on failure).
struct Cleanup(&'static Product);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let c = cell(self.0);
        if c.finished.fetch_add(1, Ordering::SeqCst) + 1 == 2 {
            if let Some(Some(p)) = c.prepared.get() {
                let _ = fs::remove_dir_all(&p.base);
            }
        }
    }
}

/// A product's scenarios, set up on first use; `None` (after saying why) when they are
/// absent.
fn prepared(product: &'static Product) -> Option<&'static Prepared> {
    let p = cell(product)
        .prepared
        .get_or_init(|| scenarios_dir(product).map(|d| prepare(product, &d)))
        .as_ref();
    if p.is_none() {
        assert!(
            !support::in_ci() || std::env::var_os("NLAUDIT_IN_CONTAINER").is_some(),
            "CI lays ../shared/reference/cac-{} beside the checkout: the scenarios must run",
            product.name
        );
        eprintln!("skipping: no ComplianceAsCode {} scenarios (set {})", product.name, product.env);
    }
    p
}

/// Runs every scenario script in its own scratch root, as CaC's harness runs it on a test
/// machine (with auditctl, augenrules, systemctl, service and mount stubbed out).
fn prepare(product: &Product, dir: &Path) -> Prepared {
    let tmp = std::env::temp_dir();
    // Roots left by an earlier run that ran only one of the tests (its pid is gone).
    for e in fs::read_dir(&tmp).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name.strip_prefix("nlaudit-cac-").and_then(|n| n.split('-').next());
        if let Some(pid) = pid {
            if !Path::new("/proc").join(pid).exists() {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    let tsv = fs::read_to_string(dir.join("verdicts.tsv")).expect("verdicts.tsv");
    let base = tmp.join(format!("nlaudit-cac-{}-{}", std::process::id(), product.name));
    let _ = fs::remove_dir_all(&base);
    let stubs = base.join("stubs");
    fs::create_dir_all(&stubs).expect("stubs");
    for s in ["auditctl", "augenrules", "systemctl", "service", "mount"] {
        let p = stubs.join(s);
        fs::write(&p, "#!/bin/sh\nexit 0\n").expect("stub");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = format!("{}:{}", stubs.display(), std::env::var("PATH").unwrap_or_default());
    let mut scenarios = Vec::new();
    let mut skipped = Vec::new();
    for (i, line) in tsv.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        let [rule, scenario, expected, cac_verdict, ..] = cols[..] else { continue };
        let script_path = dir.join(rule).join(scenario);
        let Ok(script) = fs::read_to_string(&script_path) else { continue };
        let Some((profile, variant)) = profile_for(product, rule, &script) else {
            // Product::unused says why.
            skipped.push(format!("{rule}/{scenario}"));
            continue;
        };
        let root = base.join(format!("r{i}"));
        let audit = root.join("etc/audit");
        fs::create_dir_all(audit.join("rules.d")).expect("rules.d");
        fs::write(audit.join("rules.d/audit.rules"), DEFAULT_RULES).expect("default rules");
        fs::write(audit.join("audit.rules"), "").expect("audit.rules");
        let unit = root.join("usr/lib/systemd/system");
        fs::create_dir_all(&unit).expect("unit dir");
        fs::write(unit.join("auditd.service"), UNIT).expect("unit");
        for d in product.tree {
            fs::create_dir_all(root.join(d)).expect("dirs");
        }
        let work = root.join("scenario");
        let shared = root.join("shared/audit_rules_watch");
        fs::create_dir_all(&work).expect("work");
        fs::create_dir_all(&shared).expect("shared");
        for e in fs::read_dir(dir.join(rule)).expect("rule dir").flatten() {
            if let Ok(t) = fs::read_to_string(e.path()) {
                fs::write(work.join(e.file_name()), rewrite(&t, &root)).expect("copy");
            }
        }
        // CaC's own tests/shared/audit_rules_watch when the rendering has it, else the
        // bodies written from its description.
        let cac_shared = dir.join("shared/audit_rules_watch");
        for name in scenario_names() {
            let body =
                fs::read_to_string(cac_shared.join(name)).ok().or_else(|| shared_watch(name));
            if let Some(body) = body {
                fs::write(shared.join(name), rewrite(&body, &root)).expect("shared");
            }
        }
        let st = Command::new("bash")
            .arg(scenario)
            .current_dir(&work)
            .env("PATH", &path)
            .env("SHARED", root.join("shared"))
            .output()
            .expect("bash");
        assert!(st.status.success(), "{rule}/{scenario}: {}", String::from_utf8_lossy(&st.stderr));
        scenarios.push(Scenario {
            rule: rule.to_string(),
            script: scenario.to_string(),
            expected: expected.to_string(),
            cac_verdict: cac_verdict.to_string(),
            root,
            profile,
            variant,
        });
    }
    Prepared {
        product: product.name,
        unused: product.unused,
        base,
        scenarios,
        skipped,
        lines: tsv.lines().count(),
    }
}

/// Agreements and disagreements with the scenarios' verdicts.
#[derive(Default)]
struct Tally {
    ran: usize,
    agree: usize,
    cac_evaluated: usize,
    cac_disagree: usize,
    explained: BTreeMap<String, usize>,
    unexplained: Vec<String>,
}

impl Tally {
    /// Counts one scenario judged `got` (`pass`/`fail`) against the explained disagreements.
    /// `fallback` explains a disagreement no entry of `explained` does (the live side: a
    /// rule of the scenario the kernel refused).
    fn count(
        &mut self,
        sc: &Scenario,
        got: &str,
        explained: &[(&str, &str, &str)],
        fallback: Option<&str>,
    ) {
        let (rule, scenario) = (sc.rule.as_str(), sc.script.as_str());
        self.ran += 1;
        // `-`: CaC's OVAL was not evaluated for this rendering.
        if sc.cac_verdict != "-" {
            self.cac_evaluated += 1;
            self.cac_disagree += usize::from(sc.cac_verdict != sc.expected);
        }
        if got == sc.expected {
            self.agree += 1;
        } else if let Some((_, _, why)) = explained.iter().find(|(r, s, _)| {
            let by_name = match s.strip_prefix('_') {
                Some(_) => scenario.ends_with(s),
                None => scenario == *s || scenario.ends_with(&format!(".{s}.sh")),
            };
            rule.starts_with(r) && by_name
        }) {
            *self.explained.entry(format!("{rule}: {why}")).or_default() += 1;
        } else if let Some(why) = fallback {
            *self.explained.entry(format!("{rule}: {why}")).or_default() += 1;
        } else {
            self.unexplained.push(format!(
                "{rule}/{scenario}: expected {}, nlaudit {got} (CaC's OVAL: {})",
                sc.expected, sc.cac_verdict
            ));
        }
    }

    /// Counts a scenario that cannot be judged on this machine (explained by `why`).
    fn not_applicable(&mut self, sc: &Scenario, why: &str) {
        self.ran += 1;
        if sc.cac_verdict != "-" {
            self.cac_evaluated += 1;
            self.cac_disagree += usize::from(sc.cac_verdict != sc.expected);
        }
        *self
            .explained
            .entry(format!("{}: not applicable on this machine: {why}", sc.rule))
            .or_default() += 1;
    }

    /// Prints the counts and fails on an unexplained disagreement or a scenario not run.
    fn finish(&self, side: &str, p: &Prepared) {
        let oval = if self.cac_evaluated == 0 {
            "CaC's own OVAL not evaluated".to_string()
        } else {
            format!(
                "CaC's own OVAL contradicts {} of the {}",
                self.cac_disagree, self.cac_evaluated
            )
        };
        eprintln!(
            "CaC {} scenarios, {side} side: {} ran, {} agree with the scenario's verdict; \
             {} explained disagreements; {oval}; {} skipped (no profile requires the rule: {})",
            p.product,
            self.ran,
            self.agree,
            self.explained.values().sum::<usize>(),
            p.skipped.len(),
            p.skipped.join(", ")
        );
        for (why, n) in &self.explained {
            eprintln!("  {n} x {why}");
        }
        assert!(
            self.unexplained.is_empty(),
            "{side}: {} unexplained:\n{}",
            self.unexplained.len(),
            self.unexplained.join("\n")
        );
        assert_eq!(self.ran + p.skipped.len(), p.lines, "every scenario ran or was skipped");
        for (rule, why) in p.unused {
            eprintln!("  skipped {rule}: {why}");
        }
        assert!(
            p.skipped.iter().all(|s| p.unused.iter().any(|(r, _)| s.starts_with(&format!("{r}/")))),
            "{:?}",
            p.skipped
        );
    }
}

#[test]
fn cac_debian12_scenarios_persisted_side() {
    persisted_side(&DEBIAN12);
}

#[test]
fn cac_rhel9_scenarios_persisted_side() {
    persisted_side(&RHEL9);
}

#[test]
fn cac_debian12_scenarios_live_side() {
    live_side(&DEBIAN12);
}

#[test]
fn cac_rhel9_scenarios_live_side() {
    live_side(&RHEL9);
}

/// The persisted side: `nlaudit check --root` in each scenario's root.
fn persisted_side(product: &'static Product) {
    let _cleanup = Cleanup(product);
    let Some(p) = prepared(product) else { return };
    let mut tally = Tally::default();
    for sc in &p.scenarios {
        let pfile = sc.root.join("test.profile");
        fs::write(&pfile, &sc.profile).expect("profile");
        let arg = if sc.variant.is_empty() {
            pfile.display().to_string()
        } else {
            format!("{}:{}", pfile.display(), sc.variant)
        };
        let out = Command::new(nlaudit_bin())
            .args(["check", "--json", "--root"])
            .arg(&sc.root)
            .args(["--profile", &arg])
            .output()
            .expect("nlaudit");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{}/{}: {e}: {}", sc.rule, sc.script, String::from_utf8_lossy(&out.stderr))
        });
        let mut any = false;
        let mut all_pass = true;
        for c in v["profiles"][0]["controls"].as_array().into_iter().flatten() {
            for r in c["requirements"].as_array().into_iter().flatten() {
                if r["cac"] == sc.rule.as_str() {
                    any = true;
                    all_pass &= r["persisted"]["verdict"] == "pass";
                }
            }
        }
        assert!(any, "{}: no requirement in the chosen variant", sc.rule);
        tally.count(sc, if all_pass { "pass" } else { "fail" }, product.explained, None);
    }
    tally.finish("persisted", p);
}

/// This machine with a scenario's audit configuration in place: /etc/audit and the auditd
/// unit come from the scenario's root, everything else is this machine's, as on the test
/// machine CaC's harness runs a scenario on (the kernel watches this machine's paths, and
/// a `-w DIR` is read against them as auditctl would read it).
struct Overlay {
    scenario: RootHost,
    machine: SystemHost,
}

impl Overlay {
    fn pick(&self, path: &str) -> &dyn Host {
        let unit = path.ends_with("/systemd/system/auditd.service");
        if unit || path == "/etc/audit" || path.starts_with("/etc/audit/") {
            &self.scenario
        } else {
            &self.machine
        }
    }
}

impl Host for Overlay {
    fn target(&self) -> Target {
        Target::Live
    }
    fn root(&self) -> &Path {
        self.machine.root()
    }
    fn lstat(&self, path: &str) -> Option<EntryKind> {
        self.pick(path).lstat(path)
    }
    fn stat(&self, path: &str) -> io::Result<Stat> {
        self.pick(path).stat(path)
    }
    fn read_link(&self, path: &str) -> io::Result<String> {
        self.pick(path).read_link(path)
    }
    fn read(&self, path: &str) -> io::Result<String> {
        self.pick(path).read(path)
    }
    fn list(&self, path: &str) -> io::Result<Vec<io::Result<OsString>>> {
        self.pick(path).list(path)
    }
    fn processes(&self) -> Vec<Proc> {
        Vec::new()
    }
    fn path_var(&self) -> Option<String> {
        None
    }
    fn unit_properties(&self, _unit: &str) -> Option<String> {
        None
    }
    fn mountinfo(&self) -> Option<String> {
        self.machine.mountinfo()
    }
    fn process_name(&self, pid: u32) -> Option<String> {
        self.machine.process_name(pid)
    }
    fn uid(&self, name: &str) -> Option<u32> {
        self.machine.uid(name)
    }
    fn gid(&self, name: &str) -> Option<u32> {
        self.machine.gid(name)
    }
}

/// What the live run did, for its summary.
#[derive(Default)]
struct LiveCounts {
    added: usize,
    kept: usize,
    deleted: usize,
    at_boot: usize,
    same_as_persisted: usize,
}

/// Why the kernel may refuse a scenario's rule; `None`: it should not have.
fn refusal_reason(errno: Errno, rule: &RuleData, host: &dyn Host) -> Option<&'static str> {
    let shape = Shape::of(rule);
    match errno {
        Errno::EEXIST => Some("the scenario loads the same rule twice (the kernel keeps one)"),
        Errno::ENOENT => {
            let path = shape.path()?;
            let tree = rule.fields.iter().any(|f| f.field == FieldType::AUDIT_DIR);
            let dir = if tree { path.as_str() } else { Path::new(&path).parent()?.to_str()? };
            (!FsView::new(host).is_dir(dir))
                .then_some("a watch in a directory this machine does not have (ENOENT)")
        }
        _ => None,
    }
}

/// The live verdict of the requirements that carry `rule`: `pass` when each is met in the
/// kernel (or, `-e 2`, persisted and taking effect at boot), `not-applicable` when none
/// applies here, `fail` otherwise.
fn live_verdict(out: &ProfileOutcome, rule: &str) -> Option<&'static str> {
    let sides: Vec<SideVerdict> = out
        .controls
        .iter()
        .flat_map(|c| &c.requirements)
        .filter(|r| r.cac.as_deref() == Some(rule))
        .map(|r| r.live.verdict)
        .collect();
    if sides.is_empty() {
        return None;
    }
    Some(if sides.iter().all(|v| matches!(v, SideVerdict::Pass | SideVerdict::AtBoot)) {
        "pass"
    } else if sides.iter().all(|v| *v == SideVerdict::NotApplicable) {
        "not-applicable"
    } else {
        "fail"
    })
}

/// The live side: each scenario's persisted rules (what `augenrules --load` or `auditctl -R
/// /etc/audit/audit.rules` would load on this machine) are loaded into the kernel, and the
/// requirements carrying the scenario's CaC rule id are judged on the kernel's listing.
/// One kernel lock for the whole run; the kernel starts empty and the guard puts back what
/// was there. Settings are not loaded (`-e 2` cannot be undone before a reboot: it is
/// judged "persisted, takes effect at boot"), and the rules are judged as if auditing were
/// on (enabled is its own requirement; turning it on would make every process on the
/// machine audited for the run).
fn live_side(product: &'static Product) {
    let _cleanup = Cleanup(product);
    let Some(p) = prepared(product) else { return };
    if !support::kernel_available(&format!("cac_{}_scenarios_live_side", product.name)) {
        return;
    }
    let waited = Instant::now();
    let guard = support::KernelGuard::new();
    eprintln!("live side: the kernel test lock came after {:.1} s", waited.elapsed().as_secs_f64());
    let mut c = Client::open().expect("audit socket");
    let start = Instant::now();
    let flushed =
        c.batch(BatchOp::Delete, guard.initial_rules(), OnError::Continue).expect("flush");
    assert!(flushed.all_done(), "cannot empty the kernel's rules: {flushed:?}");
    let status = c.status().expect("status");
    let judged = Status { enabled: AuditEnabled::Enabled, ..status };
    let machine = SystemHost::new();
    let mut tally = Tally::default();
    let mut counts = LiveCounts::default();
    // Why, and how many (with the last rule refused so).
    let mut refused: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut not_parsed: BTreeMap<String, usize> = BTreeMap::new();
    let mut bad_refusals = Vec::new();
    let mut differ = Vec::new();
    // What the kernel holds now, as it lists it.
    let mut held: Vec<RuleData> = Vec::new();
    for sc in &p.scenarios {
        let host = Overlay { scenario: RootHost::new(&sc.root), machine: machine.clone() };
        let mut discovery = discover(&host);
        // No scenario is about the per-file privileged-command rules: skip the walk.
        discovery.setuid_files = Some(Vec::new());
        let read = ProfileContext {
            host: &host,
            kernel: None,
            extra: KernelExtra::default(),
            dialect: Dialect::default(),
            discovery: &discovery,
            rules_dir: None,
            machine: None,
            generation: nlaudit_rules::Generation::default(),
        };
        let persisted = read_sides(&read);
        for pr in &persisted.persisted.problems {
            // `FILE:LINE: message`: grouped by message. Only a failing scenario may have one.
            let msg = pr.split_once(": ").map_or(pr.as_str(), |(_, m)| m);
            *not_parsed.entry(msg.to_string()).or_default() += 1;
            if sc.expected == "pass" {
                bad_refusals.push(format!("{}/{}: {pr}", sc.rule, sc.script));
            }
        }
        counts.at_boot += usize::from(persisted.persisted.enabled == Some(2));
        let entries = &persisted.persisted.entries;
        // The rules the previous scenario left that begin this one's, in order, stay: the
        // kernel then holds what loading this scenario into an empty kernel gives (each
        // filter list keeps its order), with fewer deletions (each costs ~12 ms: RCU).
        let keep = held.iter().zip(entries).take_while(|(h, e)| **h == normalize(&e.rule)).count();
        let stale = held.get(keep..).unwrap_or_default();
        let gone = c.batch(BatchOp::Delete, stale, OnError::Continue).expect("delete");
        assert!(gone.all_done(), "{}/{}: cannot delete the rules: {gone:?}", sc.rule, sc.script);
        counts.deleted += stale.len();
        let fresh = entries.get(keep..).unwrap_or_default();
        let rules: Vec<&RuleData> = fresh.iter().map(|e| &e.rule).collect();
        let res = c.batch(BatchOp::Add, &rules, OnError::Continue).expect("add");
        counts.added += res.counts().done;
        counts.kept += keep;
        // A rule of this scenario refused because its directory is missing here.
        let mut enoent = false;
        for (e, r) in fresh.iter().zip(res.iter()) {
            if let ItemResult::Refused(errno) = r {
                if *errno == Errno::ENOENT {
                    enoent = true;
                }
                match refusal_reason(*errno, &e.rule, &host) {
                    Some(why) => {
                        let r = refused.entry(format!("{errno:?}: {why}")).or_default();
                        r.0 += 1;
                        r.1.clone_from(&e.text);
                    }
                    None => bad_refusals.push(format!(
                        "{}/{}: `{}` ({}): {errno:?}",
                        sc.rule, sc.script, e.text, e.origin
                    )),
                }
            }
        }
        held = c.list_rules().expect("list");
        let kernel = Kernel { status: judged, rules: held.clone() };
        let cx = ProfileContext { kernel: Some(&kernel), ..read };
        let sides = Sides {
            live: Some(RuleSet::kernel(held.clone())),
            state: AuditState::kernel(&judged, &host),
            ..persisted
        };
        let mut profile = profile::parse("test.profile", &sc.profile).expect("profile");
        // Only the controls the scenario is about (the others' verdicts are not looked at).
        profile
            .controls
            .retain(|c| c.requirements.iter().any(|r| r.cac.as_deref() == Some(sc.rule.as_str())));
        let variant = (!sc.variant.is_empty()).then_some(sc.variant);
        let out = check_profile(&cx, &sides, &profile, variant);
        let got = live_verdict(&out, &sc.rule).expect("a requirement in the chosen variant");
        if got == "not-applicable" {
            // The requirement's directory is not on this machine (a RHEL path on Debian):
            // the kernel refuses the rule, nothing can be judged live.
            let why = out
                .controls
                .iter()
                .flat_map(|c| &c.requirements)
                .find(|r| r.cac.as_deref() == Some(sc.rule.as_str()))
                .map(|r| r.live.reason.clone())
                .unwrap_or_default();
            assert!(why.contains("does not exist here"), "{}/{}: {why}", sc.rule, sc.script);
            tally.not_applicable(sc, &why);
        } else {
            let why = enoent.then_some(
                "this machine lacks the directory of a rule the scenario loads: the kernel \
                 refused it (ENOENT; listed above)",
            );
            tally.count(sc, got, product.explained_live, why);
        }
        let persisted_ok = out
            .controls
            .iter()
            .flat_map(|c| &c.requirements)
            .filter(|r| r.cac.as_deref() == Some(sc.rule.as_str()))
            .all(|r| r.persisted.verdict == SideVerdict::Pass);
        if (got == "pass") == persisted_ok {
            counts.same_as_persisted += 1;
        } else {
            differ.push(format!("{}/{}: live {got}", sc.rule, sc.script));
        }
    }
    let gone = c.batch(BatchOp::Delete, &held, OnError::Continue).expect("delete");
    assert!(gone.all_done(), "cannot delete the last scenario's rules: {gone:?}");
    counts.deleted += held.len();
    eprintln!(
        "live side: {} rules added to the kernel, {} kept from the scenario before, {} deleted, \
         in {:.1} s; {} refused by the kernel, each accounted for; {} lines nlaudit's parser \
         refuses (as auditctl would: never sent); `-e 2` in {} scenarios (not loaded: at \
         boot); live and persisted verdicts the same in {} of {}",
        counts.added,
        counts.kept,
        counts.deleted,
        start.elapsed().as_secs_f64(),
        refused.values().map(|r| r.0).sum::<usize>(),
        not_parsed.values().sum::<usize>(),
        counts.at_boot,
        counts.same_as_persisted,
        tally.ran,
    );
    for (why, (n, rule)) in &refused {
        eprintln!("  refused {n} x {why}, e.g. `{rule}`");
    }
    for (why, n) in &not_parsed {
        eprintln!("  not parsed {n} x {why}");
    }
    for d in &differ {
        eprintln!("  live differs from persisted: {d}");
    }
    assert!(
        bad_refusals.is_empty(),
        "refusals (kernel or parser) not accounted for:\n{}",
        bad_refusals.join("\n")
    );
    tally.finish("live", p);
    drop(c);
    drop(guard);
}

fn scenario_names() -> [&'static str; 12] {
    [
        "augenrules_correct.pass.sh",
        "augenrules_correct_extra_permission.pass.sh",
        "augenrules_correct_without_key.pass.sh",
        "augenrules_remove_all_rules.fail.sh",
        "augenrules_wrong_rule.fail.sh",
        "augenrules_wrong_rule_without_key.fail.sh",
        "auditctl_correct.pass.sh",
        "auditctl_correct_extra_permission.pass.sh",
        "auditctl_correct_without_key.pass.sh",
        "auditctl_remove_all_rules.fail.sh",
        "auditctl_wrong_rule.fail.sh",
        "auditctl_wrong_rule_without_key.fail.sh",
    ]
}

// ---- the text and JSON reports of `check --profile` and `ensure --profile` ---------------

/// A scratch directory for one output test.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("nlaudit-profile-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).expect("scratch");
        Scratch(d)
    }

    /// Writes `text` at `rel` (parents made); returns its path.
    fn write(&self, rel: &str, text: &str) -> String {
        let p = self.0.join(rel);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(&p, text).expect("write");
        p.display().to_string()
    }

    fn path(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A profile with a control of each kind the reports show: met, suppressed by an earlier
/// `never` rule, missing, the immutable setting, not applicable (its tree is absent).
const OUTPUT_PROFILE: &str = "\
profile out-test
title Output test profile
source tests/profiles.rs
control T.1
title Ensure sudoers changes are collected
rule cac=audit_rules_sysadmin_actions -w /etc/sudoers -p wa -k scope
control T.2
title Ensure permission changes are collected
rule cac=audit_rules_dac_modification_fchmodat -a always,exit -F arch=$ARCH -S fchmodat -F auid>=$UID_MIN -F auid!=unset -k perm_mod
control T.3
title Ensure identity changes are collected
rule cac=audit_rules_usergroup_modification_passwd -w /etc/passwd -p wa -k identity
control T.4
title Ensure the configuration is immutable
rule cac=audit_rules_immutable -e 2
control T.5
title Ensure the absent tree is watched
rule -a always,exit -F dir=/opt/nlaudit-absent -F perm=wa -k opt
";

/// The rules.d of the output tests' image tree: T.1 met, T.2 suppressed, T.4 met.
const OUTPUT_RULES: &str = "\
-a never,exit -F arch=b64 -S fchmodat
-a never,exit -F arch=b32 -S fchmodat
-w /etc/sudoers -p wa -k scope
-e 2
";

/// A JSON value's kind, for the key tables.
#[derive(Clone, Copy)]
enum T {
    Str,
    OptStr,
    Bool,
    Num,
    OptNum,
    Arr,
    OptArr,
    Obj,
    OptObj,
}

fn is(v: &serde_json::Value, t: T) -> bool {
    match t {
        T::Str => v.is_string(),
        T::OptStr => v.is_string() || v.is_null(),
        T::Bool => v.is_boolean(),
        T::Num => v.is_u64(),
        T::OptNum => v.is_u64() || v.is_null(),
        T::Arr => v.is_array(),
        T::OptArr => v.is_array() || v.is_null(),
        T::Obj => v.is_object(),
        T::OptObj => v.is_object() || v.is_null(),
    }
}

/// Checks that `v` has exactly these keys, with these kinds.
fn keys(v: &serde_json::Value, want: &[(&str, T)], what: &str) {
    let obj = v.as_object().unwrap_or_else(|| panic!("{what}: not an object: {v}"));
    let got: Vec<&str> = obj.keys().map(String::as_str).collect();
    let mut exp: Vec<&str> = want.iter().map(|(k, _)| *k).collect();
    let mut got_sorted = got.clone();
    got_sorted.sort_unstable();
    exp.sort_unstable();
    assert_eq!(got_sorted, exp, "{what}: keys");
    for (k, t) in want {
        assert!(is(&obj[*k], *t), "{what}.{k}: wrong kind: {}", obj[*k]);
    }
}

const TOP: &[(&str, T)] = &[
    ("schema", T::Num),
    ("root", T::OptStr),
    ("machine", T::Obj),
    ("audit", T::Obj),
    ("profiles", T::Arr),
];
const MACHINE: &[(&str, T)] = &[
    ("uid_min", T::Num),
    ("uid_min_source", T::Str),
    ("arches", T::Arr),
    ("persisted_from", T::Str),
    ("persisted_found", T::Bool),
    ("boot_rules", T::Str),
    ("boot_source", T::Str),
    ("setuid_files", T::OptArr),
];
const AUDIT: &[(&str, T)] = &[("enabled", T::OptNum), ("recording", T::Bool), ("notes", T::Arr)];
const NOTE: &[(&str, T)] = &[("level", T::Str), ("code", T::Str), ("text", T::Str)];
const PROFILE: &[(&str, T)] = &[
    ("name", T::Str),
    ("title", T::Str),
    ("variant", T::OptStr),
    ("counts", T::Obj),
    ("controls", T::Arr),
];
const COUNTS: &[(&str, T)] = &[("pass", T::Num), ("fail", T::Num), ("not_applicable", T::Num)];
const CONTROL: &[(&str, T)] = &[
    ("id", T::Str),
    ("title", T::Str),
    ("verdict", T::Str),
    ("failing", T::OptStr),
    ("requirements", T::Arr),
];
const REQUIREMENT: &[(&str, T)] = &[
    ("text", T::Str),
    ("cac", T::OptStr),
    ("profile_line", T::Num),
    ("live", T::Obj),
    ("persisted", T::Obj),
];
const SIDE: &[(&str, T)] = &[
    ("verdict", T::Str),
    ("reason", T::Str),
    ("rules", T::Arr),
    ("shadowed_by", T::OptObj),
    ("notes", T::Arr),
];
const RULE: &[(&str, T)] = &[("text", T::Str), ("origin", T::Str)];

/// Validates a `check --profile --json` report against the documented schema (1), and its
/// counts and verdicts against each other.
fn validate(r: &serde_json::Value) {
    keys(r, TOP, "report");
    assert_eq!(r["schema"], 1);
    keys(&r["machine"], MACHINE, "machine");
    assert!(["rules.d", "audit.rules"].contains(&r["machine"]["boot_rules"].as_str().unwrap_or("")));
    keys(&r["audit"], AUDIT, "audit");
    for n in r["audit"]["notes"].as_array().into_iter().flatten() {
        keys(n, NOTE, "audit.notes[]");
    }
    for p in r["profiles"].as_array().into_iter().flatten() {
        keys(p, PROFILE, "profiles[]");
        keys(&p["counts"], COUNTS, "counts");
        let mut counts = BTreeMap::new();
        for c in p["controls"].as_array().into_iter().flatten() {
            let id = c["id"].as_str().unwrap_or("?");
            keys(c, CONTROL, id);
            *counts.entry(c["verdict"].as_str().unwrap_or("?").to_string()).or_insert(0u64) += 1;
            let mut fails = [false, false];
            for q in c["requirements"].as_array().into_iter().flatten() {
                keys(q, REQUIREMENT, id);
                for (i, side) in ["live", "persisted"].into_iter().enumerate() {
                    let s = &q[side];
                    keys(s, SIDE, &format!("{id} {side}"));
                    let v = s["verdict"].as_str().unwrap_or("?");
                    assert!(
                        ["pass", "fail", "at-boot", "not-applicable", "not-checked"].contains(&v),
                        "{id} {side}: {v}"
                    );
                    fails[i] |= v == "fail";
                    for x in s["rules"].as_array().into_iter().flatten() {
                        keys(x, RULE, id);
                    }
                    if !s["shadowed_by"].is_null() {
                        keys(&s["shadowed_by"], RULE, id);
                        assert_eq!(v, "fail", "{id} {side}: shadowed but {v}");
                    }
                }
            }
            let failing = match fails {
                [true, true] => Some("both"),
                [true, false] => Some("live"),
                [false, true] => Some("persisted"),
                [false, false] => None,
            };
            assert_eq!(c["failing"].as_str(), failing, "{id}");
            assert_eq!(c["verdict"] == "fail", failing.is_some(), "{id}");
        }
        for (k, name) in [("pass", "pass"), ("fail", "fail"), ("not_applicable", "not-applicable")]
        {
            assert_eq!(p["counts"][k], counts.get(name).copied().unwrap_or(0), "counts.{k}");
        }
    }
}

fn control<'a>(r: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    r["profiles"][0]["controls"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no control {id}: {r}"))
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let o = support::nlaudit(args);
    (o.status.code(), support::out(&o), support::err(&o))
}

fn check_json(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut all = vec!["check", "--json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run(&all);
    let v = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (code, v)
}

/// The output tests' image tree and profile file.
fn output_tree(tag: &str) -> (Scratch, String) {
    let s = Scratch::new(tag);
    s.write("root/etc/audit/rules.d/50-site.rules", OUTPUT_RULES);
    s.write("root/etc/passwd", "");
    let profile = s.write("out-test.profile", OUTPUT_PROFILE);
    (s, profile)
}

#[test]
fn check_json_is_the_documented_schema() {
    let (s, profile) = output_tree("json");
    let root = format!("{}/root", s.path());
    let (code, r) = check_json(&["--root", &root, "--profile", &profile]);
    assert_eq!(code, Some(1), "{r}");
    validate(&r);
    assert!(r["root"].as_str().is_some_and(|p| p.ends_with("/root")), "{}", r["root"]);
    assert_eq!(r["audit"]["enabled"], serde_json::Value::Null);
    let p = &r["profiles"][0];
    assert_eq!((p["name"].as_str(), p["variant"].as_str()), (Some("out-test"), None));
    assert_eq!(p["counts"], serde_json::json!({"pass": 2, "fail": 2, "not_applicable": 1}));
    // T.2: each arch's requirement is suppressed by its `never` rule, named with its line.
    let t2 = control(&r, "T.2");
    assert_eq!((t2["verdict"].as_str(), t2["failing"].as_str()), (Some("fail"), Some("persisted")));
    let reqs = t2["requirements"].as_array().expect("requirements");
    assert_eq!(reqs.len(), 2, "one requirement per arch");
    for (q, arch, line) in [(&reqs[0], "b32", 2), (&reqs[1], "b64", 1)] {
        assert_eq!(q["cac"], "audit_rules_dac_modification_fchmodat");
        assert_eq!(q["profile_line"], 9, "the line of its `rule`");
        assert!(q["text"].as_str().is_some_and(|t| t.contains(&format!("arch={arch}"))), "{q}");
        assert_eq!(q["live"]["verdict"], "not-checked");
        assert_eq!(
            q["persisted"]["shadowed_by"],
            serde_json::json!({
                "text": format!("-a never,exit -F arch={arch} -S fchmodat"),
                "origin": format!("/etc/audit/rules.d/50-site.rules:{line}"),
            })
        );
    }
    let t1 = &control(&r, "T.1")["requirements"][0]["persisted"];
    assert_eq!(t1["verdict"], "pass");
    assert_eq!(t1["rules"][0]["origin"], "/etc/audit/rules.d/50-site.rules:3");
    assert_eq!(control(&r, "T.3")["requirements"][0]["persisted"]["verdict"], "fail");
    assert_eq!(control(&r, "T.4")["requirements"][0]["persisted"]["verdict"], "pass");
    assert_eq!(control(&r, "T.5")["verdict"], "not-applicable");
    // Every key is documented in docs/profiles.md's JSON section.
    let doc =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/profiles.md"))
            .expect("docs/profiles.md");
    let json_doc = doc.split("## JSON").nth(1).expect("a JSON section");
    for table in [TOP, MACHINE, AUDIT, NOTE, PROFILE, COUNTS, CONTROL, REQUIREMENT, SIDE, RULE] {
        for (k, _) in table {
            assert!(json_doc.contains(&format!("\"{k}\"")), "docs/profiles.md: `{k}` undocumented");
        }
    }
}

#[test]
fn check_text_names_controls_sides_cac_ids_and_the_shadowing_rule() {
    let (s, profile) = output_tree("text");
    let root = format!("{}/root", s.path());
    let (code, text, stderr) = run(&["check", "--root", &root, "--profile", &profile]);
    assert_eq!(code, Some(1), "{text}{stderr}");
    let lines: Vec<&str> = text.lines().collect();
    let has = |want: &str| lines.iter().any(|l| l.contains(want));
    assert!(lines.first().is_some_and(|l| l.starts_with("image tree ")), "{text}");
    assert!(has("machine: UID_MIN 1000 "), "{text}");
    assert!(has("profile out-test: Output test profile"), "{text}");
    for (verdict, id, title) in [
        ("PASS", "T.1", "Ensure sudoers changes are collected"),
        ("FAIL", "T.2", "Ensure permission changes are collected (persisted fails)"),
        ("FAIL", "T.3", "Ensure identity changes are collected (persisted fails)"),
        ("PASS", "T.4", "Ensure the configuration is immutable"),
        ("N/A", "T.5", "Ensure the absent tree is watched"),
    ] {
        let line = lines.iter().find(|l| l.split_whitespace().nth(1) == Some(id));
        let line = line.unwrap_or_else(|| panic!("no line for {id}: {text}"));
        assert!(line.starts_with(verdict) && line.ends_with(title), "{line}");
    }
    // A failing requirement: its text and CaC id, then the failing side's verdict and why,
    // naming the rule that suppresses it and where it is.
    let i = lines
        .iter()
        .position(|l| l.contains("arch=b64 -S fchmodat") && !l.contains("never"))
        .expect("the b64 fchmodat requirement");
    assert!(lines[i].trim_start().starts_with("-a always,exit"), "{}", lines[i]);
    assert!(lines[i].ends_with("[audit_rules_dac_modification_fchmodat]"), "{}", lines[i]);
    let side: Vec<&str> = lines[i + 1].split_whitespace().collect();
    assert_eq!(side[..2], ["persisted", "fail"], "{}", lines[i + 1]);
    assert!(
        lines[i + 1].contains(
            "suppressed by the earlier `-a never,exit -F arch=b64 -S fchmodat` \
             (/etc/audit/rules.d/50-site.rules:1)"
        ),
        "{}",
        lines[i + 1]
    );
    assert!(has("[audit_rules_usergroup_modification_passwd]"), "{text}");
    assert!(has("no persisted rule records it"), "{text}");
    assert_eq!(lines.last(), Some(&"out-test: 2 pass, 2 fail, 1 not applicable"), "{text}");
}

#[test]
fn ensure_text_on_an_image_tree_then_nothing_to_change() {
    let (s, profile) = output_tree("ensure");
    let root = format!("{}/root", s.path());
    let file = format!("{root}/etc/audit/rules.d/nlaudit-out-test.rules");
    let (code, text, stderr) =
        run(&["ensure", "--root", &root, "--profile", &profile, "--dry-run"]);
    assert_eq!(code, Some(1), "{text}{stderr}");
    assert!(text.contains("/etc/audit/rules.d/nlaudit-out-test.rules:"), "{text}");
    assert!(
        text.contains("would append -w /etc/passwd -p wa -k identity  (out-test T.3)"),
        "{text}"
    );
    assert!(
        text.contains("cannot fix out-test T.2 `-a always,exit -F arch=b64 -S fchmodat"),
        "{text}"
    );
    assert!(text.contains("suppressed by `-a never,exit -F arch=b64 -S fchmodat`"), "{text}");
    assert!(!Path::new(&file).exists(), "--dry-run wrote {file}");
    let (code, text, stderr) = run(&["ensure", "--root", &root, "--profile", &profile]);
    // T.2 stays failing: a `never` rule is not removed by ensure.
    assert_eq!(code, Some(1), "{text}{stderr}");
    assert!(
        text.contains("append       -w /etc/passwd -p wa -k identity  (out-test T.3)"),
        "{text}"
    );
    assert!(text.contains("check out-test: 3 pass, 1 fail, 1 not applicable"), "{text}");
    assert!(text.contains("FAIL T.2"), "{text}");
    let persisted = fs::read_to_string(&file).expect("the profile's file");
    assert!(
        persisted.contains("# out-test T.3\n-w /etc/passwd -p wa -k identity\n"),
        "{persisted}"
    );
    let (code, again, _) = run(&["ensure", "--root", &root, "--profile", &profile]);
    assert_eq!(code, Some(1));
    assert!(again.contains("nothing to change"), "{again}");
    assert_eq!(fs::read_to_string(&file).expect("file"), persisted);
}

/// On this machine's kernel (issue 17's "done when", on a small profile so that no setuid
/// walk is needed): check fails, `ensure --enable` fixes both sides, a second ensure changes
/// nothing, check passes with the immutable control "persisted, takes effect at boot"; the
/// text and JSON reports at each step.
#[test]
fn live_check_ensure_check_reports() {
    if !support::kernel_available("profiles live reports") {
        return;
    }
    let s = Scratch::new("live");
    let key = support::unique_key("profile");
    let watched = format!("/etc/{key}");
    let profile = s.write(
        "live-test.profile",
        &format!(
            "profile live-test\ntitle Live report test\n\
             control L.1\ntitle Ensure the test file is watched\n\
             rule cac=test_watch -w {watched} -p wa -k {key}\n\
             control L.2\ntitle Ensure fchmodat is audited\n\
             rule -a always,exit -F arch=$ARCH -S fchmodat -F auid>=$UID_MIN -F auid!=unset -k {key}\n\
             control L.3\ntitle Ensure the configuration is immutable\nrule -e 2\n\
             control L.4\ntitle Ensure the running and on-disk rules are the same\ncheck in-sync\n"
        ),
    );
    let rules_dir = format!("{}/rules.d", s.path());
    fs::create_dir_all(&rules_dir).expect("rules.d");
    let file = format!("{rules_dir}/nlaudit-live-test.rules");
    let args = ["--profile", profile.as_str(), "--rules-dir", rules_dir.as_str()];
    let with = |first: &[&'static str]| -> Vec<String> {
        first.iter().map(|a| a.to_string()).chain(args.iter().map(|a| a.to_string())).collect()
    };
    let go = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run(&a)
    };

    let guard = support::KernelGuard::new();
    let mut c = Client::open().expect("audit socket");
    let flushed =
        c.batch(BatchOp::Delete, guard.initial_rules(), OnError::Continue).expect("flush");
    assert!(flushed.all_done(), "{flushed:?}");
    c.set(nlaudit_proto::Setting::Enabled(nlaudit_proto::Switch::Off)).expect("enabled 0");

    // Before: both sides fail; the text says which, per requirement.
    let (code, text, stderr) = go(with(&["check"]));
    assert_eq!(code, Some(1), "{text}{stderr}");
    assert!(text.contains("audit is disabled (enabled 0)"), "{text}");
    let l1 = text.lines().find(|l| l.contains(" L.1 ")).expect("L.1");
    assert!(l1.starts_with("FAIL") && l1.ends_with("(both fails)"), "{l1}");
    assert!(text.contains(&format!("-w {watched} -p wa -k {key} [test_watch]")), "{text}");
    let sides: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>())
        .filter(|w| matches!(w.first(), Some(&"live" | &"persisted")))
        .collect();
    assert!(sides.contains(&vec!["live", "fail"]) && sides.contains(&vec!["persisted", "fail"]));
    assert!(text.contains("no kernel rule records it"), "{text}");
    assert!(text.contains("the kernel has enabled 0, and it is not persisted"), "{text}");

    // --dry-run says what it would do and does nothing.
    let (code, text, stderr) = go(with(&["ensure", "--dry-run", "--enable"]));
    assert_eq!(code, Some(1), "{text}{stderr}");
    assert!(
        text.contains(&format!("would add    -w {watched} -p wa -k {key}  (live-test L.1)")),
        "{text}"
    );
    assert!(text.contains("would enable auditing (enabled 0 -> 1)"), "{text}");
    assert!(c.list_rules().expect("list").is_empty() && !Path::new(&file).exists());

    let (code, text, stderr) = go(with(&["ensure", "--enable"]));
    assert_eq!(code, Some(0), "{text}{stderr}");
    assert!(text.starts_with("kernel:\n"), "{text}");
    assert!(
        text.contains(&format!("add          -w {watched} -p wa -k {key}  (live-test L.1)")),
        "{text}"
    );
    assert!(text.contains("enable       auditing (enabled 0 -> 1)"), "{text}");
    assert!(text.contains(&format!("{file}:\n")), "{text}");
    assert!(text.contains("append       -e 2  (persisted, takes effect at boot)"), "{text}");
    assert!(text.contains("check live-test: 4 pass, 0 fail, 0 not applicable"), "{text}");
    let status = c.status().expect("status");
    assert_eq!(status.enabled, AuditEnabled::Enabled, "enabled 1, never 2");
    let persisted = fs::read_to_string(&file).expect("persisted");
    assert!(persisted.ends_with("\n-e 2\n"), "{persisted}");

    // A second ensure changes nothing, in the kernel or on disk.
    let before = c.list_rules().expect("list");
    assert_eq!(before.len(), 3, "the watch and fchmodat for b32 and b64");
    let (code, text, _) = go(with(&["ensure", "--enable"]));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("nothing to change"), "{text}");
    assert_eq!(c.list_rules().expect("list"), before);
    assert_eq!(fs::read_to_string(&file).expect("persisted"), persisted);

    // After: everything passes, the immutable control at boot.
    let (code, r) = {
        let mut a = vec!["check".to_string(), "--json".to_string()];
        a.extend(args.iter().map(|x| x.to_string()));
        let (code, stdout, stderr) = go(a);
        let v: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
        (code, v)
    };
    assert_eq!(code, Some(0), "{r}");
    validate(&r);
    assert_eq!((r["root"].is_null(), &r["audit"]["enabled"]), (true, &serde_json::json!(1)));
    assert_eq!(r["machine"]["persisted_from"], rules_dir.as_str());
    let l1 = &control(&r, "L.1")["requirements"][0];
    assert_eq!(l1["live"]["rules"][0]["origin"], "kernel");
    assert_eq!(l1["persisted"]["rules"][0]["origin"], format!("{file}:4"));
    let l3 = &control(&r, "L.3")["requirements"][0];
    assert_eq!(
        (l3["live"]["verdict"].as_str(), l3["persisted"]["verdict"].as_str()),
        (Some("at-boot"), Some("pass"))
    );
    assert!(l3["live"]["reason"]
        .as_str()
        .is_some_and(|t| t.starts_with("persisted, takes effect at boot")));
    assert_eq!(control(&r, "L.4")["requirements"][0]["live"]["verdict"], "pass");
    let (code, text, _) = go(with(&["check"]));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("live      at-boot persisted, takes effect at boot"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("PASS") && l.contains(" L.3 ")), "{text}");
    assert!(text.contains("live-test: 4 pass, 0 fail, 0 not applicable"), "{text}");
    drop(c);
    drop(guard);
}
