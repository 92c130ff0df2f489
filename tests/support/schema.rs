//! A small JSON Schema validator for the schemas in docs/schemas (draft 2020-12): the
//! keywords they use and nothing else. A keyword it does not know fails the test, so a
//! schema can never pass by being misunderstood.
//!
//! Why not the `jsonschema` crate: with its default features off it still brings 77 crates
//! (regex engines, URL and IDNA handling, ...) into the workspace's test build, on a machine
//! with two shared cores, for about a dozen keywords that fit in this file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The keywords this validator understands (annotations included).
const KNOWN: &[&str] = &[
    "$schema",
    "$id",
    "$defs",
    "$ref",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "oneOf",
    "anyOf",
    "minimum",
    "maximum",
];

/// The schemas of a directory, by file name (`status.schema.json`).
pub struct Schemas {
    files: BTreeMap<String, Value>,
}

impl Schemas {
    /// Reads every `*.schema.json` of `dir`.
    pub fn load(dir: &Path) -> Schemas {
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(dir).expect("schema dir") {
            let path = entry.expect("entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            if name.ends_with(".schema.json") {
                let text = std::fs::read_to_string(&path).expect("read schema");
                let v: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
                files.insert(name, v);
            }
        }
        Schemas { files }
    }

    /// docs/schemas of this repository.
    pub fn of_repo() -> Schemas {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schemas");
        Schemas::load(&dir)
    }

    /// The file names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// A schema file by name.
    pub fn file(&self, name: &str) -> &Value {
        self.files.get(name).unwrap_or_else(|| panic!("no schema {name}"))
    }

    /// The errors of `doc` against the schema file `name` (empty: valid).
    pub fn errors(&self, name: &str, doc: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(name, self.file(name), doc, "", &mut errors);
        errors
    }

    /// Panics with the errors unless `doc` is valid against `name`.
    pub fn assert_valid(&self, name: &str, doc: &Value) {
        let errors = self.errors(name, doc);
        assert!(errors.is_empty(), "{name}: {errors:#?}\nin {doc:#}");
    }

    /// Resolves `$ref` from within the file `file`: `#/$defs/x`, `other.schema.json`,
    /// `other.schema.json#/$defs/x`. Returns the file the target is in and the target.
    fn resolve<'s>(&'s self, file: &'s str, r: &str) -> (&'s str, &'s Value) {
        let (name, pointer) = match r.split_once('#') {
            Some(("", p)) => (file, p),
            Some((f, p)) => (f, p),
            None => (r, ""),
        };
        let (name, root) = self
            .files
            .get_key_value(name)
            .map(|(k, v)| (k.as_str(), v))
            .unwrap_or_else(|| panic!("{file}: $ref to a missing file: {r}"));
        let target = root.pointer(pointer).unwrap_or_else(|| panic!("{file}: bad $ref {r}"));
        (name, target)
    }

    fn check(&self, file: &str, s: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
        let Some(s) = s.as_object() else {
            match s {
                Value::Bool(true) => {}
                _ => errors.push(format!("{at}: schema is not an object: {s}")),
            }
            return;
        };
        for k in s.keys() {
            assert!(KNOWN.contains(&k.as_str()), "{file}: keyword {k} not supported");
        }
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let (f, target) = self.resolve(file, r);
            self.check(f, target, v, at, errors);
        }
        if let Some(t) = s.get("type") {
            let types: Vec<&str> = match t {
                Value::String(one) => vec![one.as_str()],
                Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                _ => panic!("{file}: bad type {t}"),
            };
            if !types.iter().any(|t| has_type(v, t)) {
                errors.push(format!("{at}: {v} is not of type {types:?}"));
                return;
            }
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            if !e.contains(v) {
                errors.push(format!("{at}: {v} is not one of {e:?}"));
            }
        }
        if let Some(c) = s.get("const") {
            if c != v {
                errors.push(format!("{at}: {v} is not {c}"));
            }
        }
        if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
            if n < min {
                errors.push(format!("{at}: {n} < minimum {min}"));
            }
        }
        if let (Some(max), Some(n)) = (s.get("maximum").and_then(Value::as_f64), v.as_f64()) {
            if n > max {
                errors.push(format!("{at}: {n} > maximum {max}"));
            }
        }
        for (word, exactly_one) in [("oneOf", true), ("anyOf", false)] {
            let Some(options) = s.get(word).and_then(Value::as_array) else { continue };
            let passing: Vec<Vec<String>> = options
                .iter()
                .map(|o| {
                    let mut e = Vec::new();
                    self.check(file, o, v, at, &mut e);
                    e
                })
                .collect();
            let ok = passing.iter().filter(|e| e.is_empty()).count();
            if ok == 0 || (exactly_one && ok > 1) {
                errors.push(format!(
                    "{at}: {ok} of the {word} options match; their errors: {passing:?}"
                ));
            }
        }
        if let Some(o) = v.as_object() {
            let props = s.get("properties").and_then(Value::as_object);
            for r in s.get("required").and_then(Value::as_array).into_iter().flatten() {
                let r = r.as_str().unwrap_or_default();
                if !o.contains_key(r) {
                    errors.push(format!("{at}: missing required key {r}"));
                }
            }
            for (k, item) in o {
                let here = format!("{at}/{k}");
                match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                    (Some(ps), _) => self.check(file, ps, item, &here, errors),
                    (None, Some(Value::Bool(false))) => {
                        errors.push(format!("{at}: key {k} is not in the schema"))
                    }
                    (None, Some(extra)) => self.check(file, extra, item, &here, errors),
                    (None, None) => {}
                }
            }
        }
        if let (Some(items), Some(a)) = (s.get("items"), v.as_array()) {
            for (i, item) in a.iter().enumerate() {
                self.check(file, items, item, &format!("{at}/{i}"), errors);
            }
        }
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        other => panic!("unknown type {other}"),
    }
}
