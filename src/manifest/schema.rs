//! The manifest's JSON Schema, generated from the `model` types, and look-ups into it.
//!
//! `reko-promote schema` prints [`manifest_schema`] (through `crate::schema`, which emits every
//! document's schema); `schemas/manifest.schema.json` is that output, committed for editors (a
//! test fails when it is stale). Each schema's `$id` is the URL of the copy attached to this
//! version's GitHub release ([`release_url`]); [`reference_from`] is how a written file points at
//! a schema (relative inside a checkout, else that URL). The loader reuses the same schemas,
//! through [`SchemaIndex`], to say which fields are allowed where, so error messages can never
//! disagree with the schema.

use std::path::{Component, Path, PathBuf};

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

use super::model::{AccountManifest, ManifestDocument, PromotionManifest};
use super::yaml::{FieldPath, Segment};

/// The directory of a checkout that holds the committed schemas.
pub const SCHEMAS_DIR: &str = "schemas";

/// The file name of the manifest schema, under [`SCHEMAS_DIR`] and among the release assets.
pub const MANIFEST_SCHEMA_FILE: &str = "manifest.schema.json";

/// Where this version's schema `file_name` is published: every release attaches `schemas/*.json`
/// as assets (`.github/workflows/release.yml`), so the URL resolves for anyone, and it is each
/// schema's `$id`. It names the version, so a schema never changes under a manifest that pins it.
pub fn release_url(file_name: &str) -> String {
    format!(
        "{}/releases/download/v{}/{file_name}",
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_VERSION")
    )
}

/// How a file written into `dir` refers to the schema `file_name`: relative to `dir` when `dir`
/// lies inside a checkout whose `schemas/` holds it (the nearest such ancestor; editors then read
/// it offline, at the version the checkout pins), else [`release_url`]. `dir` need not exist yet.
pub fn reference_from(dir: &Path, file_name: &str) -> String {
    let Ok(absolute) = std::path::absolute(dir) else {
        return release_url(file_name);
    };
    let absolute = lexically_normal(&absolute);
    for (depth, ancestor) in absolute.ancestors().enumerate() {
        if ancestor.join(SCHEMAS_DIR).join(file_name).is_file() {
            // Forward slashes on every platform: the reference is a URI, not a native path.
            return format!("{}{SCHEMAS_DIR}/{file_name}", "../".repeat(depth));
        }
    }
    release_url(file_name)
}

/// `path` without `.` and `..` components (resolved by name, not through symbolic links), so
/// the count of ancestors up to the checkout matches the `../` an editor follows.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

/// The JSON Schema of one manifest document (draft-07, the dialect editors support best).
pub fn manifest_schema() -> Value {
    let mut schema = schema_of::<ManifestDocument>();
    if let Value::Object(map) = &mut schema {
        map.insert(
            "$id".into(),
            Value::String(release_url("manifest.schema.json")),
        );
        map.insert(
            "description".into(),
            Value::String(
                "A reko-promote manifest document: `kind: Account` or `kind: Promotion`. \
                 Files may hold several documents separated by `---`; a directory of files is \
                 loaded and merged."
                    .into(),
            ),
        );
    }
    schema
}

/// The JSON Schema of `T`, draft-07 (the dialect editors support best).
pub fn schema_of<T: JsonSchema>() -> Value {
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.to_value()
}

/// Per-kind schemas, for finding the allowed fields at a path.
pub struct SchemaIndex {
    account: Value,
    promotion: Value,
}

impl Default for SchemaIndex {
    fn default() -> Self {
        SchemaIndex {
            account: schema_of::<AccountManifest>(),
            promotion: schema_of::<PromotionManifest>(),
        }
    }
}

impl SchemaIndex {
    fn root(&self, kind: &str) -> &Value {
        if kind == "Account" {
            &self.account
        } else {
            &self.promotion
        }
    }

    /// The field names allowed in the object at `path` of a document of `kind`, sorted.
    pub fn fields(&self, kind: &str, path: &FieldPath) -> Option<Vec<String>> {
        let root = self.root(kind);
        let node = walk(root, root, path)?;
        let properties = node.get("properties")?.as_object()?;
        let mut fields: Vec<String> = properties.keys().cloned().collect();
        if node.get("additionalProperties") == Some(&Value::Bool(false)) || !fields.is_empty() {
            if path.0.is_empty() {
                fields.push("kind".into());
            }
            fields.sort();
            Some(fields)
        } else {
            None
        }
    }

    /// Every field of `value` (a document of `kind`) that the schema does not have, wherever it
    /// stands. Independent of deserialization, so a type error elsewhere hides none of them.
    pub fn unknown_fields(&self, kind: &str, value: &serde_yaml::Value) -> Vec<FieldPath> {
        let root = self.root(kind);
        let mut found = Vec::new();
        unknown_in(root, root, value, &FieldPath::root(), &mut found);
        found
    }

    /// What is expected at `path`: its type and its description, for error messages.
    pub fn describe(&self, kind: &str, path: &FieldPath) -> Option<String> {
        let root = self.root(kind);
        let node = walk(root, root, path)?;
        let what = match node.get("type") {
            Some(Value::String(t)) => type_name(t, node, root),
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .map(|t| type_name(t, node, root))
                .collect::<Vec<_>>()
                .join(" or "),
            _ => match node.get("enum").or_else(|| node.get("const")) {
                Some(Value::Array(values)) => values
                    .iter()
                    .map(|v| format!("`{}`", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(", "),
                Some(Value::String(v)) => format!("`{v}`"),
                _ => return None,
            },
        };
        let description = node
            .get("description")
            .and_then(Value::as_str)
            .map(|d| d.split(". ").next().unwrap_or(d).trim_end_matches('.'));
        Some(match description {
            Some(d) => format!("{what}: {d}"),
            None => what,
        })
    }
}

fn type_name(t: &str, node: &Value, root: &Value) -> String {
    match t {
        "string" => "a string".into(),
        "boolean" => "`true` or `false`".into(),
        "integer" | "number" => "a number".into(),
        "array" => match node.get("items").map(|i| resolve(root, i)) {
            Some(items) if items.get("type") == Some(&Value::String("string".into())) => {
                "a list of strings".into()
            }
            _ => "a list".into(),
        },
        "object" if node.get("properties").is_none() => "a mapping of names to strings".into(),
        "object" => "a mapping".into(),
        other => other.into(),
    }
}

/// Follows `$ref` and the `anyOf: [X, null]` of optional fields.
fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..16 {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            match reference
                .strip_prefix('#')
                .and_then(|pointer| root.pointer(pointer))
            {
                Some(target) => node = target,
                None => return node,
            }
        } else if let Some(Value::Array(options)) = node.get("anyOf").or_else(|| node.get("oneOf"))
        {
            match options
                .iter()
                .find(|o| o.get("type") != Some(&Value::String("null".into())))
            {
                Some(option) => node = option,
                None => return node,
            }
        } else {
            return node;
        }
    }
    node
}

fn unknown_in(
    root: &Value,
    node: &Value,
    value: &serde_yaml::Value,
    path: &FieldPath,
    found: &mut Vec<FieldPath>,
) {
    let node = resolve(root, node);
    match value {
        serde_yaml::Value::Mapping(mapping) => {
            let properties = node.get("properties").and_then(Value::as_object);
            let additional = node.get("additionalProperties").filter(|a| a.is_object());
            for (key, child) in mapping {
                let Some(key) = key.as_str() else { continue };
                let child_path = path.key(key);
                match (properties.and_then(|p| p.get(key)), additional) {
                    (Some(schema), _) | (None, Some(schema)) => {
                        unknown_in(root, schema, child, &child_path, found)
                    }
                    (None, None) if properties.is_some() => found.push(child_path),
                    (None, None) => {}
                }
            }
        }
        serde_yaml::Value::Sequence(items) => {
            if let Some(schema) = node.get("items") {
                for (i, item) in items.iter().enumerate() {
                    unknown_in(root, schema, item, &path.index(i), found);
                }
            }
        }
        _ => {}
    }
}

fn walk<'a>(root: &'a Value, node: &'a Value, path: &FieldPath) -> Option<&'a Value> {
    let mut node = resolve(root, node);
    for segment in &path.0 {
        node = match segment {
            Segment::Key(key) => match node.get("properties").and_then(|p| p.get(key)) {
                Some(child) => child,
                None => node.get("additionalProperties").filter(|a| a.is_object())?,
            },
            Segment::Index(_) => node.get("items")?,
        };
        node = resolve(root, node);
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_ids_are_the_release_assets() {
        let repository = env!("CARGO_PKG_REPOSITORY");
        assert!(
            repository.starts_with("https://github.com/"),
            "{repository}"
        );
        let expected = format!(
            "{repository}/releases/download/v{}/manifest.schema.json",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(manifest_schema()["$id"], Value::String(expected));
    }

    #[test]
    fn references_are_relative_inside_a_checkout() {
        let checkout = tempfile::tempdir().unwrap();
        std::fs::create_dir(checkout.path().join(SCHEMAS_DIR)).unwrap();
        std::fs::write(
            checkout.path().join(SCHEMAS_DIR).join(MANIFEST_SCHEMA_FILE),
            "{}",
        )
        .unwrap();
        // Not created yet, and spelled with `.` and `..` on the way.
        let out = checkout.path().join("manifests/./x/../imported/prod");
        assert_eq!(
            reference_from(&out, MANIFEST_SCHEMA_FILE),
            "../../../schemas/manifest.schema.json"
        );
        assert_eq!(
            reference_from(checkout.path(), MANIFEST_SCHEMA_FILE),
            "schemas/manifest.schema.json"
        );
    }

    #[test]
    fn references_outside_a_checkout_are_the_release_asset() {
        let elsewhere = tempfile::tempdir().unwrap();
        assert_eq!(
            reference_from(&elsewhere.path().join("imported"), MANIFEST_SCHEMA_FILE),
            release_url(MANIFEST_SCHEMA_FILE)
        );
    }

    #[test]
    fn fields_are_read_from_the_schema() {
        let index = SchemaIndex::default();
        let fields = index
            .fields("Promotion", &FieldPath::root().key("versions").index(0))
            .unwrap();
        assert_eq!(
            fields,
            [
                "gates",
                "kmsKeyId",
                "outputConfig",
                "tags",
                "to",
                "version",
                "versionName"
            ]
        );
        let fields = index
            .fields(
                "Promotion",
                &FieldPath::root().key("destinations").key("anything"),
            )
            .unwrap();
        assert!(fields.contains(&"account".to_string()));
        let top = index.fields("Account", &FieldPath::root()).unwrap();
        assert!(top.contains(&"kind".to_string()) && top.contains(&"accountId".to_string()));
    }

    #[test]
    fn describe_names_type_and_purpose() {
        let index = SchemaIndex::default();
        let text = index
            .describe(
                "Promotion",
                &FieldPath::root().key("versions").index(0).key("to"),
            )
            .unwrap();
        assert!(
            text.starts_with("a list of strings: The destinations"),
            "{text}"
        );
    }
}
