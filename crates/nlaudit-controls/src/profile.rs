//! Compliance profiles as data: the format (docs/profiles.md), its parser, and the built-in
//! profiles compiled in (`profiles/*.profile`).
//!
//! A profile is a list of controls; a control is a list of requirements, one per rule it
//! needs. The format is line-oriented, one directive per line, `#` starts a comment:
//!
//! ```text
//! profile cis-linux
//! title CIS Linux audit rules
//! variants rhel9 debian
//! variant-for debian ubuntu -> debian
//! control 6.3.3.4 debian=6.2.3.4
//! title Ensure events that modify date and time information are collected
//! rule cac=audit_rules_time_adjtimex -a always,exit -F arch=$ARCH -S adjtimex -k time-change
//! ```
//!
//! A bad profile is refused with `FILE:LINE: message` ([`ProfileError`]).

use std::fmt;

/// A built-in profile: its name and text.
pub struct Builtin {
    /// The name `--profile` takes.
    pub name: &'static str,
    /// The profile text.
    pub text: &'static str,
}

/// The profiles compiled in, in `--list-profiles` order.
pub const BUILTINS: &[Builtin] = &[
    Builtin { name: "cis-linux", text: include_str!("../profiles/cis-linux.profile") },
    Builtin { name: "stig-rhel9", text: include_str!("../profiles/stig-rhel9.profile") },
    Builtin { name: "cis-docker", text: include_str!("../profiles/cis-docker.profile") },
    Builtin { name: "datadog-docker", text: include_str!("../profiles/datadog-docker.profile") },
];

/// A parsed profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Its name (`profile NAME`).
    pub name: String,
    /// Its title.
    pub title: String,
    /// Where its text comes from (`source ...`), free text.
    pub source: Option<String>,
    /// The variants it declares (`variants A B`); the first is the default. Empty: none.
    pub variants: Vec<String>,
    /// `variant-for ID... -> VARIANT`: os-release `ID`/`ID_LIKE` words that select a variant.
    pub variant_for: Vec<VariantFor>,
    /// The numbering of its `docker` requirements (`docker-numbering`; CIS by default).
    pub docker_numbering: DockerNumbering,
    /// The controls, in order.
    pub controls: Vec<ControlSpec>,
}

/// `variant-for ID... -> VARIANT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantFor {
    /// os-release words (`debian`, `ubuntu`, `rhel`, ...).
    pub ids: Vec<String>,
    /// The variant they select.
    pub variant: String,
}

/// One control of a profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlSpec {
    /// Its id in the profile's first numbering.
    pub id: String,
    /// Its id in another variant's numbering (`debian=6.2.3.4`), where it differs.
    pub ids: Vec<(String, String)>,
    /// Its title.
    pub title: String,
    /// The variants it belongs to (`only=`); empty: all.
    pub only: Vec<String>,
    /// The requirements, one per rule it needs.
    pub requirements: Vec<RequirementSpec>,
    /// The profile line it starts on.
    pub line: usize,
}

impl ControlSpec {
    /// Its id in `variant`'s numbering.
    pub fn id_in(&self, variant: Option<&str>) -> &str {
        variant
            .and_then(|v| self.ids.iter().find(|(n, _)| n == v))
            .map_or(self.id.as_str(), |(_, id)| id.as_str())
    }
}

/// What a requirement asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequirementKind {
    /// An audit rule or a rules-file setting, in auditctl syntax (`-a ...`, `-w ...`,
    /// `-e 2`, `-f 2`, `--loginuid-immutable`), with `$ARCH`, `$UID_MIN` and (for
    /// [`Expansion::SetuidFiles`]) `$FILE` placeholders.
    Rule(String),
    /// The CIS Docker control with this id (CIS Docker 1.6.0 or Datadog numbering, as the
    /// profile's `docker-numbering` says), located as `nlaudit docker check` locates it.
    Docker(String),
    /// The rules in force equal the persisted ones (`check in-sync`).
    InSync,
}

/// What a requirement is expanded over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expansion {
    /// Once (and once per arch of the machine when the text has `$ARCH`).
    Once,
    /// Once per setuid/setgid file found on local file systems (`for=setuid-files`).
    SetuidFiles,
}

/// Whether a rule's key matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRule {
    /// Any key, or none.
    Any,
    /// The rule must carry the requirement's key (`key=required`).
    Required,
}

/// One requirement of a control.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequirementSpec {
    /// What it asks for.
    pub kind: RequirementKind,
    /// The ComplianceAsCode rule id (`cac=`), where there is one.
    pub cac: Option<String>,
    /// The variants it belongs to (`only=`); empty: all.
    pub only: Vec<String>,
    /// What it is expanded over.
    pub expansion: Expansion,
    /// Whether the key matters.
    pub key: KeyRule,
    /// The profile line.
    pub line: usize,
}

/// Which numbering the docker controls of a profile use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DockerNumbering {
    /// CIS Docker Benchmark 1.6.0 (1.1.3-1.1.18).
    Cis,
    /// Datadog's cis-docker policies (1.2.3-1.2.12).
    Datadog,
}

/// A profile file that does not parse: `FILE:LINE: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileError {
    /// The file (or `builtin:NAME`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What was wrong, naming the token.
    pub message: String,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for ProfileError {}

/// The directives of the format, for messages.
const DIRECTIVES: &str = "profile, title, source, variants, variant-for, docker-numbering, \
                          control, rule, docker, check";

/// The options a `rule` line takes before its rule text.
const RULE_OPTIONS: &str = "cac=, only=, for=setuid-files, key=required";

/// The placeholders rule text may use.
const PLACEHOLDERS: &[&str] = &["$ARCH", "$UID_MIN", "$FILE"];

impl Profile {
    /// Whether `variant` is one the profile declares.
    pub fn has_variant(&self, variant: &str) -> bool {
        self.variants.iter().any(|v| v == variant)
    }

    /// The variant for a machine whose os-release `ID` and `ID_LIKE` words are `os`: the
    /// first `variant-for` that names one of them, else the first declared variant.
    pub fn variant_for_os(&self, os: &[String]) -> Option<&str> {
        self.variant_for
            .iter()
            .find(|v| v.ids.iter().any(|id| os.contains(id)))
            .map(|v| v.variant.as_str())
            .or(self.variants.first().map(String::as_str))
    }
}

/// Parses a profile's text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Profile, ProfileError> {
    let mut p = Profile {
        name: String::new(),
        title: String::new(),
        source: None,
        variants: Vec::new(),
        variant_for: Vec::new(),
        docker_numbering: DockerNumbering::Cis,
        controls: Vec::new(),
    };
    let mut seen_profile = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let bad = |message: String| ProfileError { file: file.to_string(), line, message };
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let (word, rest) = match content.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r.trim()),
            None => (content, ""),
        };
        if !seen_profile && word != "profile" {
            return Err(bad(format!(
                "`{word}`: a profile starts with `profile NAME` (before any other directive)"
            )));
        }
        match word {
            "profile" => {
                if seen_profile {
                    return Err(bad("a second `profile` line: one profile per file".into()));
                }
                if rest.is_empty() || rest.contains(char::is_whitespace) || !valid_name(rest) {
                    return Err(bad(format!(
                        "`profile {rest}`: the name must be one word of letters, digits, `-`, \
                         `_` or `.`"
                    )));
                }
                p.name = rest.to_string();
                seen_profile = true;
            }
            "title" => {
                if rest.is_empty() {
                    return Err(bad("`title` needs text".into()));
                }
                match p.controls.last_mut() {
                    Some(c) if c.title.is_empty() => c.title = rest.to_string(),
                    Some(c) => {
                        return Err(bad(format!("control {} already has a title", c.id)));
                    }
                    None if p.title.is_empty() => p.title = rest.to_string(),
                    None => return Err(bad("the profile already has a title".into())),
                }
            }
            "source" => p.source = Some(rest.to_string()),
            "variants" => {
                if !p.controls.is_empty() {
                    return Err(bad("`variants` must come before the first control".into()));
                }
                p.variants = rest.split_whitespace().map(str::to_string).collect();
                if p.variants.is_empty() {
                    return Err(bad("`variants` needs at least one name".into()));
                }
                if let Some(v) = p.variants.iter().find(|v| !valid_name(v)) {
                    return Err(bad(format!("variant `{v}`: letters, digits, `-`, `_` only")));
                }
            }
            "variant-for" => {
                let Some((ids, variant)) = rest.split_once("->") else {
                    return Err(bad("`variant-for ID... -> VARIANT`: missing `->`".into()));
                };
                let ids: Vec<String> = ids.split_whitespace().map(str::to_string).collect();
                let variant = variant.trim();
                if ids.is_empty() {
                    return Err(bad("`variant-for` needs at least one os-release id".into()));
                }
                if !p.has_variant(variant) {
                    return Err(bad(format!(
                        "`{variant}` is not a declared variant ({})",
                        declared(&p.variants)
                    )));
                }
                p.variant_for.push(VariantFor { ids, variant: variant.to_string() });
            }
            "docker-numbering" => {
                p.docker_numbering = match rest {
                    "cis" => DockerNumbering::Cis,
                    "datadog" => DockerNumbering::Datadog,
                    _ => {
                        return Err(bad(format!(
                            "`docker-numbering {rest}`: expected cis or datadog"
                        )))
                    }
                };
            }
            "control" => {
                let mut words = rest.split_whitespace();
                let Some(id) = words.next() else {
                    return Err(bad("`control` needs an id".into()));
                };
                if p.controls.iter().any(|c| c.id == id) {
                    return Err(bad(format!("control {id} is defined twice")));
                }
                if let Some(prev) = p.controls.last() {
                    check_complete(file, prev)?;
                }
                let mut c = ControlSpec {
                    id: id.to_string(),
                    ids: Vec::new(),
                    title: String::new(),
                    only: Vec::new(),
                    requirements: Vec::new(),
                    line,
                };
                for w in words {
                    let Some((k, v)) = w.split_once('=') else {
                        return Err(bad(format!(
                            "`{w}`: expected VARIANT=ID or only=VARIANT after the control id"
                        )));
                    };
                    if k == "only" {
                        c.only = variant_list(&p, v).map_err(bad)?;
                    } else if p.has_variant(k) {
                        c.ids.push((k.to_string(), v.to_string()));
                    } else {
                        return Err(bad(format!(
                            "`{k}=`: not a declared variant ({})",
                            declared(&p.variants)
                        )));
                    }
                }
                p.controls.push(c);
            }
            "rule" | "docker" | "check" => {
                let Some(c) = p.controls.last_mut() else {
                    return Err(bad(format!(
                        "`{word}` outside a control (start one with `control ID`)"
                    )));
                };
                let mut req = RequirementSpec {
                    kind: RequirementKind::InSync,
                    cac: None,
                    only: Vec::new(),
                    expansion: Expansion::Once,
                    key: KeyRule::Any,
                    line,
                };
                match word {
                    "docker" => {
                        if rest.is_empty() || rest.contains(char::is_whitespace) {
                            return Err(bad("`docker ID`: one CIS Docker control id".into()));
                        }
                        req.kind = RequirementKind::Docker(rest.to_string());
                    }
                    "check" => {
                        if rest != "in-sync" {
                            return Err(bad(format!(
                                "`check {rest}`: the only check is `in-sync` (the rules in \
                                 force equal the persisted ones)"
                            )));
                        }
                    }
                    _ => {
                        let variants = p.variants.clone();
                        parse_rule_line(rest, &variants, &mut req).map_err(bad)?;
                    }
                }
                c.requirements.push(req);
            }
            other => {
                return Err(bad(format!("unknown directive `{other}` (known: {DIRECTIVES})")));
            }
        }
    }
    if !seen_profile {
        return Err(ProfileError {
            file: file.to_string(),
            line: 1,
            message: "empty profile: it starts with `profile NAME`".into(),
        });
    }
    if let Some(last) = p.controls.last() {
        check_complete(file, last)?;
    } else {
        return Err(ProfileError {
            file: file.to_string(),
            line: text.lines().count().max(1),
            message: format!("profile {} has no control", p.name),
        });
    }
    Ok(p)
}

/// A control needs a title and at least one requirement.
fn check_complete(file: &str, c: &ControlSpec) -> Result<(), ProfileError> {
    let bad = |message: String| ProfileError { file: file.to_string(), line: c.line, message };
    if c.title.is_empty() {
        return Err(bad(format!("control {} has no `title`", c.id)));
    }
    if c.requirements.is_empty() {
        return Err(bad(format!(
            "control {} has no requirement (`rule`, `docker` or `check`)",
            c.id
        )));
    }
    Ok(())
}

/// `rule [OPTION=VALUE ...] RULE`: options until the first word that starts with `-`.
fn parse_rule_line(
    rest: &str,
    variants: &[String],
    req: &mut RequirementSpec,
) -> Result<(), String> {
    let mut text = rest;
    loop {
        let t = text.trim_start();
        if t.is_empty() {
            return Err("`rule` needs a rule in auditctl syntax (-a, -w, -e, -f, \
                        --loginuid-immutable)"
                .into());
        }
        if t.starts_with('-') {
            text = t;
            break;
        }
        let (w, r) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        text = r;
        let Some((k, v)) = w.split_once('=') else {
            return Err(format!("`{w}`: expected an option ({RULE_OPTIONS}) or the rule text"));
        };
        match (k, v) {
            ("cac", id) if !id.is_empty() => req.cac = Some(id.to_string()),
            ("only", list) => {
                req.only = list.split(',').map(str::to_string).collect();
                if let Some(v) = req.only.iter().find(|v| !variants.contains(v)) {
                    return Err(format!(
                        "only={v}: not a declared variant ({})",
                        declared(variants)
                    ));
                }
            }
            ("for", "setuid-files") => req.expansion = Expansion::SetuidFiles,
            ("key", "required") => req.key = KeyRule::Required,
            _ => return Err(format!("`{w}`: unknown option (known: {RULE_OPTIONS})")),
        }
    }
    let text = text.trim();
    let first = text.split_whitespace().next().unwrap_or_default();
    if !matches!(first, "-a" | "-A" | "-w" | "-e" | "-f" | "--loginuid-immutable") {
        return Err(format!(
            "`{first}`: a requirement is a rule to add (-a, -A, -w) or a setting (-e, -f, \
             --loginuid-immutable)"
        ));
    }
    for w in text.split(|c: char| c.is_whitespace() || c == '=' || c == ',') {
        if let Some(i) = w.find('$') {
            let tail = &w[i..];
            if !PLACEHOLDERS.iter().any(|p| tail.starts_with(p)) {
                return Err(format!(
                    "`{tail}`: unknown placeholder (known: {})",
                    PLACEHOLDERS.join(", ")
                ));
            }
        }
    }
    if text.contains("$FILE") != (req.expansion == Expansion::SetuidFiles) {
        return Err("`$FILE` and `for=setuid-files` go together".into());
    }
    req.kind = RequirementKind::Rule(text.to_string());
    Ok(())
}

fn variant_list(p: &Profile, list: &str) -> Result<Vec<String>, String> {
    let v: Vec<String> = list.split(',').map(str::to_string).collect();
    match v.iter().find(|x| !p.has_variant(x)) {
        Some(x) => Err(format!("only={x}: not a declared variant ({})", declared(&p.variants))),
        None => Ok(v),
    }
}

fn declared(variants: &[String]) -> String {
    if variants.is_empty() {
        "the profile declares none".into()
    } else {
        format!("declared: {}", variants.join(", "))
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The built-in profile of this name.
pub fn builtin(name: &str) -> Option<Profile> {
    let b = BUILTINS.iter().find(|b| b.name == name)?;
    parse(&format!("builtin:{}", b.name), b.text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for b in BUILTINS {
            let p = parse(b.name, b.text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(p.name, b.name);
            assert!(!p.controls.is_empty());
        }
        let cis = builtin("cis-linux").expect("cis-linux");
        assert_eq!(cis.controls.len(), 21);
        assert_eq!(cis.controls[3].id_in(Some("debian")), "6.2.3.4");
        assert_eq!(cis.controls[3].id_in(Some("rhel9")), "6.3.3.4");
        let os = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(cis.variant_for_os(&os(&["debian"])), Some("debian"));
        assert_eq!(cis.variant_for_os(&os(&["rhel", "fedora"])), Some("rhel9"));
        let stig = builtin("stig-rhel9").expect("stig");
        assert_eq!(stig.controls.len(), 54);
        assert_eq!(
            builtin("datadog-docker").expect("dd").docker_numbering,
            DockerNumbering::Datadog
        );
    }

    /// One case: profile text, expected `FILE:LINE: message` fragment.
    fn check(text: &str, want: &str) {
        let e = parse("p.profile", text).expect_err(text);
        let got = e.to_string();
        assert!(got.contains(want), "{text:?}: {got:?} lacks {want:?}");
    }

    #[test]
    fn bad_profiles_name_the_line() {
        let head = "profile x\n";
        check("", "p.profile:1: empty profile");
        check("control 1\n", "p.profile:1: `control`: a profile starts with `profile NAME`");
        check("profile a b\n", "p.profile:1: `profile a b`: the name");
        check(head, "p.profile:1: profile x has no control");
        check(
            &format!("{head}control 1\nrule -w /etc/passwd -p wa\n"),
            "p.profile:2: control 1 has no `title`",
        );
        check(&format!("{head}control 1\ntitle T\n"), "p.profile:2: control 1 has no requirement");
        check(&format!("{head}rule -w /x\n"), "p.profile:2: `rule` outside a control");
        check(&format!("{head}frobnicate\n"), "p.profile:2: unknown directive `frobnicate`");
        check(
            &format!("{head}control 1\ntitle T\nrule cac=x\n"),
            "p.profile:4: `rule` needs a rule",
        );
        check(
            &format!("{head}control 1\ntitle T\nrule colour=red -w /x\n"),
            "p.profile:4: `colour=red`: unknown option",
        );
        check(
            &format!("{head}control 1\ntitle T\nrule -D\n"),
            "p.profile:4: `-D`: a requirement is",
        );
        check(
            &format!("{head}control 1\ntitle T\nrule -a always,exit -F arch=$ARC -S chmod\n"),
            "p.profile:4: `$ARC`: unknown placeholder",
        );
        check(
            &format!("{head}control 1\ntitle T\nrule -a always,exit -F path=$FILE\n"),
            "p.profile:4: `$FILE` and `for=setuid-files`",
        );
        check(
            &format!("{head}control 1\ntitle T\nrule only=deb -w /x\n"),
            "p.profile:4: only=deb: not a declared variant",
        );
        check(
            &format!("{head}variants a b\ncontrol 1 c=2\n"),
            "p.profile:3: `c=`: not a declared variant (declared: a, b)",
        );
        check(
            &format!("{head}variants a\nvariant-for debian -> b\n"),
            "p.profile:3: `b` is not a declared variant",
        );
        check(
            &format!("{head}control 1\ntitle T\ncheck everything\n"),
            "p.profile:4: `check everything`",
        );
        check(
            &format!("{head}control 1\ntitle T\ncheck in-sync\ncontrol 1\n"),
            "p.profile:5: control 1 is defined twice",
        );
        check(
            &format!("{head}control 1\ntitle T\ntitle U\n"),
            "p.profile:4: control 1 already has a title",
        );
        check(&format!("{head}docker-numbering cisco\n"), "p.profile:2: `docker-numbering cisco`");
    }
}
