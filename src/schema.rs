//! The JSON Schemas of every document reko-promote reads or writes, in one place: manifests,
//! the plan, the apply report and the sandbox seed. `reko-promote schema KIND` prints them;
//! `schemas/*.schema.json` are those outputs, committed (a test fails when one is stale).
//!
//! This module sits after every stage (it imports each document's types), so no stage has to
//! import a later one to publish its schema.

use serde_json::Value;

use crate::manifest::schema::{manifest_schema, release_url, schema_of};

/// The documents with a published schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// A manifest document (schemas/manifest.schema.json).
    Manifest,
    /// The plan document (schemas/plan.schema.json).
    Plan,
    /// The apply report (schemas/apply-report.schema.json).
    ApplyReport,
    /// A sandbox seed file (schemas/sandbox-seed.schema.json).
    SandboxSeed,
}

impl Document {
    /// The committed file's name under `schemas/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Document::Manifest => "manifest.schema.json",
            Document::Plan => "plan.schema.json",
            Document::ApplyReport => "apply-report.schema.json",
            Document::SandboxSeed => "sandbox-seed.schema.json",
        }
    }
}

fn with(mut schema: Value, id: &str, description: Option<&str>) -> Value {
    if let Value::Object(map) = &mut schema {
        map.insert("$id".into(), Value::String(release_url(id)));
        if let Some(description) = description {
            map.insert("description".into(), Value::String(description.into()));
        }
    }
    schema
}

/// The schema of `document`.
pub fn schema(document: Document) -> Value {
    let id = document.file_name();
    match document {
        Document::Manifest => manifest_schema(),
        Document::Plan => with(schema_of::<crate::plan::PlanDocument>(), id, None),
        Document::ApplyReport => with(
            schema_of::<crate::apply::ApplyReport>(),
            id,
            Some("The report of `reko-promote apply --format json`."),
        ),
        Document::SandboxSeed => with(
            schema_of::<crate::sandbox::Seed>(),
            id,
            Some(
                "A reko-promote sandbox seed: accounts, roles, projects, versions, policies and \
                 faults (docs/sandbox.md).",
            ),
        ),
    }
}

/// The schema as committed under `schemas/`: pretty JSON with a final newline.
pub fn text(document: Document) -> String {
    let mut text = serde_json::to_string_pretty(&schema(document)).expect("schemas serialize");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_id_is_its_release_asset() {
        for document in [
            Document::Manifest,
            Document::Plan,
            Document::ApplyReport,
            Document::SandboxSeed,
        ] {
            assert_eq!(
                schema(document)["$id"],
                Value::String(release_url(document.file_name())),
                "{document:?}"
            );
        }
    }
}
