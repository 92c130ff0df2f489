//! deploy/kubernetes, checked offline (no cluster, no kubectl, no network).
//!
//! - Every manifest, and the `stdout` variant after its patches, is valid against the
//!   Kubernetes API schema committed in tests/data/kubernetes/kubernetes.schema.json (a
//!   strict subset: unknown fields, missing required fields, wrong types and values outside
//!   an enum are errors), with the validator of tests/support/schema.rs;
//! - the validation is strict (each kind of mistake, made on purpose, is caught);
//! - the manifests agree with the image and the binary: the Dockerfile's ENTRYPOINT, the
//!   daemon's arguments as the real CLI parses them, the rules directory, the log file, the
//!   capabilities the daemon uses, the directories the rules watch;
//! - the ConfigMap is a rules.d the daemon takes: keys ending in `.rules`, every line parsing.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize as _;
use serde_json::Value;
use support::schema::Schemas;
use support::{err, nlaudit};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn deploy() -> PathBuf {
    root().join("deploy/kubernetes")
}

/// The YAML documents of a file, as JSON values. Parsed through `serde_yaml::Value`, which
/// refuses duplicate keys (as kubectl's strict decoding does).
fn yaml_docs(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    yaml_text(&text, &path.display().to_string())
}

fn yaml_text(text: &str, what: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| {
            let y = serde_yaml::Value::deserialize(d).unwrap_or_else(|e| panic!("{what}: {e}"));
            serde_json::to_value(y).unwrap_or_else(|e| panic!("{what}: {e}"))
        })
        .collect()
}

/// The committed schemas (tests/data/kubernetes), checked with the validator of
/// tests/support/schema.rs.
struct Schema(Schemas);

/// The schema file of each kind the manifests hold.
const KINDS: &[(&str, &str, &str)] = &[
    ("apps/v1", "DaemonSet", "daemonset-apps-v1.schema.json"),
    ("v1", "ConfigMap", "configmap-v1.schema.json"),
    ("v1", "Namespace", "namespace-v1.schema.json"),
    ("kustomize.config.k8s.io/v1beta1", "Kustomization", "kustomization.schema.json"),
];

impl Schema {
    fn load() -> Schema {
        Schema(Schemas::load(&root().join("tests/data/kubernetes")))
    }

    /// The errors of one object, found by its apiVersion and kind.
    fn validate(&self, obj: &Value) -> Vec<String> {
        let api = obj["apiVersion"].as_str().unwrap_or("?");
        let kind = obj["kind"].as_str().unwrap_or("?");
        match KINDS.iter().find(|k| k.0 == api && k.1 == kind) {
            Some(k) => self.0.errors(k.2, obj),
            None => vec![format!("no schema for apiVersion {api} kind {kind}")],
        }
    }
}

/// The objects a kustomization builds: its resources (files or directories holding a
/// kustomization), then its patches (RFC 6902 operations on the targets), then its
/// namespace.
fn build(dir: &Path) -> Vec<Value> {
    let k = yaml_docs(&dir.join("kustomization.yaml")).remove(0);
    let mut objs = Vec::new();
    for r in k["resources"].as_array().expect("resources") {
        let p = dir.join(r.as_str().expect("a path"));
        if p.is_dir() {
            objs.extend(build(&p));
        } else {
            objs.extend(yaml_docs(&p));
        }
    }
    for patch in k["patches"].as_array().into_iter().flatten() {
        let target = &patch["target"];
        let ops = yaml_text(patch["patch"].as_str().expect("an inline patch"), "patch").remove(0);
        let mut hit = 0;
        for o in &mut objs {
            if o["kind"] == target["kind"] && o["metadata"]["name"] == target["name"] {
                hit += 1;
                for op in ops.as_array().expect("a list of operations") {
                    apply_op(o, op);
                }
            }
        }
        assert_eq!(hit, 1, "the patch's target {target} is one object of the base");
    }
    if let Some(ns) = k["namespace"].as_str() {
        for o in &mut objs {
            if o["kind"] != "Namespace" {
                o["metadata"]["namespace"] = Value::from(ns);
            }
        }
    }
    objs
}

/// One RFC 6902 operation (add, replace, remove); a path that does not exist fails.
fn apply_op(doc: &mut Value, op: &Value) {
    let path = op["path"].as_str().expect("a path");
    let (parent, last) = path.rsplit_once('/').expect("a JSON pointer");
    let holder = doc.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent} in the base"));
    let value = || op["value"].clone();
    match (op["op"].as_str(), holder) {
        (Some("replace"), h) => {
            let slot = h.pointer_mut(&format!("/{last}")).unwrap_or_else(|| panic!("no {path}"));
            *slot = value();
        }
        (Some("remove"), Value::Array(a)) => {
            let i: usize = last.parse().expect("an index");
            assert!(i < a.len(), "no {path}");
            a.remove(i);
        }
        (Some("remove"), Value::Object(m)) => {
            assert!(m.remove(last).is_some(), "no {path}");
        }
        (Some("add"), Value::Array(a)) if last == "-" => a.push(value()),
        (Some("add"), Value::Array(a)) => a.insert(last.parse().expect("an index"), value()),
        (Some("add"), Value::Object(m)) => {
            m.insert(last.to_string(), value());
        }
        (o, _) => panic!("unsupported patch operation {o:?} at {path}"),
    }
}

fn daemonset(objs: &[Value]) -> &Value {
    objs.iter().find(|o| o["kind"] == "DaemonSet").expect("a DaemonSet")
}

fn configmap(objs: &[Value]) -> &Value {
    objs.iter().find(|o| o["kind"] == "ConfigMap").expect("a ConfigMap")
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// The value after `flag` in `args`.
fn flag<'a>(args: &[&'a str], flag: &str) -> Option<&'a str> {
    args.iter().position(|a| *a == flag).and_then(|i| args.get(i + 1)).copied()
}

/// An RFC 1123 label (names of objects, containers, volumes).
fn dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[test]
fn every_manifest_is_valid_against_the_api_schema() {
    let schema = Schema::load();
    // Every manifest of the directory is a resource of its kustomization.
    let k = yaml_docs(&deploy().join("kustomization.yaml")).remove(0);
    let listed: BTreeSet<&str> = strs(&k["resources"]).into_iter().collect();
    let mut files = BTreeSet::new();
    for e in fs::read_dir(deploy()).expect("deploy/kubernetes") {
        let name = e.expect("entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") && name != "kustomization.yaml" {
            files.insert(name);
        }
    }
    assert_eq!(files.iter().map(String::as_str).collect::<BTreeSet<_>>(), listed);
    for dir in [deploy(), deploy().join("stdout")] {
        let k = yaml_docs(&dir.join("kustomization.yaml")).remove(0);
        assert_eq!(schema.validate(&k), Vec::<String>::new(), "{}", dir.display());
        let objs = build(&dir);
        assert_eq!(objs.len(), 3, "{}", dir.display());
        for o in &objs {
            let errs = schema.validate(o);
            assert!(errs.is_empty(), "{} {}: {errs:#?}", dir.display(), o["kind"]);
            let name = o["metadata"]["name"].as_str().unwrap_or("");
            assert!(dns_label(name), "{} name {name:?}", o["kind"]);
        }
    }
}

#[test]
fn the_validation_is_strict() {
    let schema = Schema::load();
    let base = build(&deploy());
    let ds = daemonset(&base).clone();
    assert!(schema.validate(&ds).is_empty());
    let c = "/spec/template/spec/containers/0";
    let cases: &[(&str, Value, &str)] = &[
        (
            "/spec/template/spec/containers/0/securityContext/capabilitys",
            Value::from(1),
            "/spec/template/spec/containers/0/securityContext: key capabilitys is not in the schema",
        ),
        (
            "/spec/template/spec/hostPID",
            Value::from("true"),
            "/spec/template/spec/hostPID: \"true\" is not of type [\"boolean\"]",
        ),
        (
            "/spec/template/spec/volumes/1/hostPath/type",
            Value::from("Dir"),
            "/spec/template/spec/volumes/1/hostPath/type: \"Dir\" is not one of",
        ),
        ("/spec/updateStrategy/type", Value::from("Rolling"), "is not one of"),
        ("/spec/template/spec/terminationGracePeriodSeconds", Value::from(1.5), "1.5 is not of type [\"integer\"]"),
        ("/spec/updateStrategy/rollingUpdate/maxUnavailable", Value::from("10%"), ""),
        ("/spec/minReadySeconds", Value::from(1u64 << 31), "> maximum 2147483647"),
        ("/apiVersion", Value::from("apps/v1beta2"), "no schema for apiVersion apps/v1beta2 kind DaemonSet"),
    ];
    for (path, value, want) in cases {
        let mut bad = ds.clone();
        let (parent, last) = path.rsplit_once('/').expect("pointer");
        bad.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .expect(parent)
            .insert(last.into(), value.clone());
        let errs = schema.validate(&bad);
        if want.is_empty() {
            assert!(errs.is_empty(), "{path} = {value} is valid: {errs:?}");
        } else {
            assert!(
                errs.iter().any(|e| e.contains(want)),
                "{path} = {value}: {want:?} in {errs:?}"
            );
        }
    }
    let removed: &[(&str, &str)] = &[
        ("/spec/selector", "/spec: missing required key selector"),
        (&format!("{c}/name"), "/spec/template/spec/containers/0: missing required key name"),
        (&format!("{c}/volumeMounts/0/mountPath"), "missing required key mountPath"),
        ("/spec/template/spec/volumes/1/hostPath/path", "missing required key path"),
        (&format!("{c}/securityContext/seccompProfile/type"), "missing required key type"),
    ];
    for (path, want) in removed {
        let mut bad = ds.clone();
        let (parent, last) = path.rsplit_once('/').expect("pointer");
        bad.pointer_mut(parent).and_then(Value::as_object_mut).expect(parent).remove(last);
        let errs = schema.validate(&bad);
        assert!(errs.iter().any(|e| e.contains(want)), "without {path}: {want:?} in {errs:?}");
    }
    let mut cm = configmap(&base).clone();
    cm["data"]["10-base.rules"] = Value::from(10);
    let errs = schema.validate(&cm);
    assert!(
        errs.iter().any(|e| e == "/data/10-base.rules: 10 is not of type [\"string\"]"),
        "{errs:?}"
    );
    let dup = "a: 1\na: 2\n";
    let r = std::panic::catch_unwind(|| yaml_text(dup, "dup"));
    assert!(r.is_err(), "duplicate keys are refused");
}

/// The pod agrees with itself: mounts name volumes, every volume is mounted, the selector
/// selects the template, names are DNS labels.
fn check_pod(ds: &Value, variant: &str) {
    let spec = &ds["spec"]["template"]["spec"];
    let volumes: BTreeSet<&str> = spec["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    let mut mounted = BTreeSet::new();
    for c in spec["containers"].as_array().expect("containers") {
        assert!(dns_label(c["name"].as_str().unwrap_or("")), "{variant}: container name");
        for m in c["volumeMounts"].as_array().into_iter().flatten() {
            let n = m["name"].as_str().expect("a name");
            assert!(volumes.contains(n), "{variant}: mount {n} has no volume");
            mounted.insert(n);
        }
    }
    assert_eq!(mounted, volumes, "{variant}: every volume is mounted");
    for v in &volumes {
        assert!(dns_label(v), "{variant}: volume name {v:?}");
    }
    let labels = ds["spec"]["template"]["metadata"]["labels"].as_object().expect("labels");
    for (k, v) in ds["spec"]["selector"]["matchLabels"].as_object().expect("matchLabels") {
        assert_eq!(labels.get(k), Some(v), "{variant}: the selector selects the template");
    }
}

/// The container's mount at `path`, and the volume behind it.
fn mount_at<'a>(ds: &'a Value, path: &str) -> Option<(&'a Value, &'a Value)> {
    let spec = &ds["spec"]["template"]["spec"];
    let m = spec["containers"][0]["volumeMounts"]
        .as_array()?
        .iter()
        .find(|m| m["mountPath"] == path)?;
    let v = spec["volumes"].as_array()?.iter().find(|v| v["name"] == m["name"])?;
    Some((m, v))
}

#[test]
fn the_daemonset_runs_the_image_as_the_daemon() {
    // The image: /nlaudit is the entry point, so `args` are nlaudit's.
    let dockerfile = fs::read_to_string(root().join("Dockerfile")).expect("Dockerfile");
    assert!(dockerfile.lines().any(|l| l.trim() == "ENTRYPOINT [\"/nlaudit\"]"), "{dockerfile}");
    assert!(dockerfile.contains("COPY target/dist/nlaudit /nlaudit"), "{dockerfile}");
    for (variant, dir) in [("base", deploy()), ("stdout", deploy().join("stdout"))] {
        let objs = build(&dir);
        let ds = daemonset(&objs);
        let cm = configmap(&objs);
        check_pod(ds, variant);
        let spec = &ds["spec"]["template"]["spec"];
        assert_eq!(
            spec["hostPID"], true,
            "{variant}: audit control needs the host's PID namespace"
        );
        assert_ne!(spec["hostUsers"], false, "{variant}: audit is refused in a user namespace");
        let c = &spec["containers"][0];
        assert!(c.get("command").is_none(), "{variant}: the image's ENTRYPOINT runs");
        let args = strs(&c["args"]);
        assert_eq!(args.first(), Some(&"daemon"), "{variant}");
        // The real CLI takes these arguments (--status with a missing pid file reads no
        // kernel: it fails on the file, after clap accepted every argument).
        let mut probe = args.clone();
        probe.extend(["--status", "--pid-file", "/nonexistent/nlaudit-deploy-test.pid"]);
        let o = nlaudit(&probe);
        assert_eq!(o.status.code(), Some(1), "{variant}: {probe:?}: {}", err(&o));
        assert!(err(&o).contains("cannot read the pid file"), "{variant}: {}", err(&o));
        // The rules: the ConfigMap, mounted where --rules says.
        let rules = flag(&args, "--rules").expect("--rules");
        let (m, v) = mount_at(ds, rules).expect("the rules directory is mounted");
        assert_eq!(v["configMap"]["name"], cm["metadata"]["name"], "{variant}");
        assert_eq!(m["readOnly"], true, "{variant}");
        assert_eq!(rules, "/etc/audit/rules.d", "{variant}: where augenrules and apply read");
        // The log: a hostPath directory, or standard output.
        let log = flag(&args, "--log-file").expect("--log-file");
        if variant == "stdout" {
            assert_eq!(log, "-");
            assert!(mount_at(ds, "/var/log/audit").is_none(), "no log hostPath left");
        } else {
            let parent = Path::new(log).parent().and_then(Path::to_str).expect("absolute");
            let (_, v) = mount_at(ds, parent).expect("the log's directory is mounted");
            assert_eq!(v["hostPath"]["path"], parent, "the node's directory, at the same path");
        }
        // A read-only root: the state report and the change lock live in a writable /run.
        let sc = &c["securityContext"];
        assert_eq!(sc["readOnlyRootFilesystem"], true);
        let (_, run) = mount_at(ds, "/run").expect("/run is mounted");
        assert!(run.get("emptyDir").is_some(), "{variant}: /run is the pod's own");
        assert!(flag(&args, "--state-file").is_none(), "the default, /run/nlaudit-daemon.state");
        // The capability the daemon uses, and no other; not privileged.
        assert_eq!(strs(&sc["capabilities"]["drop"]), ["ALL"]);
        assert_eq!(strs(&sc["capabilities"]["add"]), ["AUDIT_CONTROL"]);
        assert_eq!(sc["privileged"], false);
        assert_eq!(sc["allowPrivilegeEscalation"], false);
        assert_eq!(sc["runAsUser"], 0, "added capabilities are effective for uid 0 only");
    }
}

/// Directories the rules watch that the pod leaves unmounted on purpose (their rule is
/// skipped until mounted; daemonset.yaml says how).
const NOT_MOUNTED: &[&str] = &["/etc/sysconfig/docker"];

#[test]
fn the_rules_configmap_is_a_rules_d_the_daemon_takes() {
    let objs = build(&deploy());
    let cm = configmap(&objs);
    let ds = daemonset(&objs);
    let data = cm["data"].as_object().expect("data");
    assert!(!data.is_empty());
    let env = nlaudit_rules::NoEnv;
    let ctx = nlaudit_rules::Context::new(&env);
    let mounts: Vec<&str> = ds["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .filter_map(|m| m["mountPath"].as_str())
        .collect();
    let mut watches = 0;
    for (key, text) in data {
        // A ConfigMap key: alphanumerics, '-', '_', '.'; a rules.d file: *.rules.
        assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "key {key}");
        assert!(key.ends_with(".rules"), "{key}: apply and the daemon read only *.rules");
        let text = text.as_str().expect("text");
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = nlaudit_rules::split_words(line);
            if let Err(e) = nlaudit_rules::parse_command(&words, &ctx) {
                panic!("{key}:{}: {line}: {e}", i + 1);
            }
            if let Some(p) = flag(&words.iter().map(|w| w.as_ref()).collect::<Vec<_>>(), "-w") {
                watches += 1;
                let covered = mounts.iter().any(|m| Path::new(p).starts_with(m));
                let skipped = NOT_MOUNTED.contains(&p);
                assert!(covered != skipped, "{key}:{}: -w {p}: mounted {covered}", i + 1);
            }
        }
    }
    assert_eq!(watches, 16, "CIS Docker 1.6.0 1.1.3-1.1.18");
    let yaml = fs::read_to_string(deploy().join("daemonset.yaml")).expect("daemonset.yaml");
    for p in NOT_MOUNTED {
        assert!(yaml.contains(p), "daemonset.yaml says how to mount {p}");
    }
}
