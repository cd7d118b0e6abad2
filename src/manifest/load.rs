//! Loading: paths → files → YAML documents → typed manifests, with a finding for every problem.
//!
//! A directory is walked for `*.yaml` / `*.yml` (hidden entries skipped, symbolic links to
//! directories not followed, files sorted); each file's nesting is bounded by a linear pre-scan
//! before YAML parsing; every document of every file is dispatched on its `kind`, and
//! deserialized into the `model` types.
//! Unknown fields are collected (every one, not only the first) with `serde_ignored`; type errors
//! get their field path from `serde_path_to_error` and their line from the `PositionIndex`.
//! Whether the documents make sense together is `validate`'s job.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_yaml::{Mapping, Value};

use super::findings::{Code, Finding};
use super::model::{
    API_VERSION, AccountManifest, DESTINATION_ONLY_FIELDS, KINDS, PromotionManifest,
};
use super::schema::SchemaIndex;
use super::yaml::{
    FieldPath, FileText, MAX_NESTING, PositionIndex, Segment, check_nesting, read_file,
};

/// A manifest file that was read, with the positions of its fields.
#[derive(Debug)]
pub struct SourceFile {
    pub display: String,
    pub index: PositionIndex,
}

/// Which document of which file a manifest came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DocRef {
    pub file: usize,
    pub document: usize,
}

/// Every document that loaded, by kind, and what went wrong with the others.
#[derive(Debug, Default)]
pub struct Documents {
    pub files: Vec<SourceFile>,
    pub accounts: Vec<(DocRef, AccountManifest)>,
    pub promotions: Vec<(DocRef, PromotionManifest)>,
    /// True when some document could not be loaded, so cross-document checks (references) may
    /// see declarations missing that are only broken.
    pub incomplete: bool,
}

impl Documents {
    /// Adds the documents of `other` after these, its files renumbered to follow.
    fn append(&mut self, other: Documents) {
        let offset = self.files.len();
        let moved = |at: DocRef| DocRef {
            file: at.file + offset,
            document: at.document,
        };
        self.files.extend(other.files);
        self.accounts
            .extend(other.accounts.into_iter().map(|(at, m)| (moved(at), m)));
        self.promotions
            .extend(other.promotions.into_iter().map(|(at, m)| (moved(at), m)));
        self.incomplete |= other.incomplete;
    }

    /// A finding located at `path` of document `at`, its path shown under `label`
    /// (e.g. `promotions[defect-detector]`).
    pub fn finding(
        &self,
        code: Code,
        at: DocRef,
        label: &str,
        path: &FieldPath,
        message: impl Into<String>,
    ) -> Finding {
        let file = &self.files[at.file];
        Finding::error(code, &file.display, message)
            .at(file.index.find(at.document, path))
            .path(logical_path(label, path))
    }
}

impl Documents {
    /// `file:line` of `path` in document `at`, for messages that point at another place.
    pub fn describe_location(&self, at: DocRef, path: &FieldPath) -> String {
        let file = &self.files[at.file];
        match file.index.find(at.document, path) {
            Some((line, _)) => format!("{}:{line}", file.display),
            None => file.display.clone(),
        }
    }
}

/// `label.path`, e.g. `promotions[defect-detector].destinations.prod.account`.
pub fn logical_path(label: &str, path: &FieldPath) -> String {
    if path.0.is_empty() {
        label.to_string()
    } else if matches!(path.0.first(), Some(Segment::Key(_))) && !path.to_string().starts_with('[')
    {
        format!("{label}.{path}")
    } else {
        format!("{label}{path}")
    }
}

/// Every manifest file under `paths`: files as given, directories walked for YAML files
/// (symbolic links to directories inside them are not followed).
pub fn discover(paths: &[PathBuf], findings: &mut Vec<Finding>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut files, findings),
            Ok(_) => files.push(path.clone()),
            Err(e) => findings.push(
                Finding::error(
                    Code::ReadError,
                    path.display().to_string(),
                    format!("cannot read this path: {e}"),
                )
                .allowed("a manifest file or a directory of *.yaml / *.yml files"),
            ),
        }
    }
    files.dedup();
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, findings: &mut Vec<Finding>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            findings.push(Finding::error(
                Code::ReadError,
                dir.display().to_string(),
                format!("cannot read this directory: {e}"),
            ));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    paths.sort();
    for path in paths {
        // `symlink_metadata` does not follow links: a symlinked directory is passed over (with
        // a warning), so a link loop (`l1 -> .`) cannot make the walk revisit or recurse without
        // end. A symlinked file is read like any file.
        let Ok(entry) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if entry.is_dir() {
            walk(&path, files, findings);
        } else if entry.is_symlink() && path.is_dir() {
            findings.push(
                Finding::warning(
                    Code::ReadError,
                    path.display().to_string(),
                    "a symbolic link to a directory: not followed",
                )
                .hint("name the directory itself on the command line to load it"),
            );
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml")
            && !declares_other_schema(&path)
        {
            files.push(path);
        }
    }
}

/// Whether the file's first line is a `yaml-language-server` modeline naming a schema other than
/// the manifest's (a sandbox seed, a CI workflow): such files share directories with manifests
/// but are not manifests, so directory walks pass over them. Files named explicitly are read.
fn declares_other_schema(path: &Path) -> bool {
    use std::io::BufRead;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut first = String::new();
    if std::io::BufReader::new(file)
        .take(4096)
        .read_line(&mut first)
        .is_err()
    {
        return false;
    }
    first
        .trim()
        .strip_prefix("# yaml-language-server: $schema=")
        .is_some_and(|schema| !schema.trim_end().ends_with("manifest.schema.json"))
}

/// Reads and deserializes every document of `files`: each file alone (text, YAML, positions,
/// typed documents), then put together in the order of `files`. (Parsing the files on several
/// cores was tried: validate of L, six files and 10,000 placements, took 40 ms either way, and a
/// thread cost small manifests a millisecond.)
pub fn load_documents(
    files: &[PathBuf],
    schema: &SchemaIndex,
    findings: &mut Vec<Finding>,
) -> Documents {
    let loaded = files.iter().map(|path| {
        let mut file_findings = Vec::new();
        let docs = load_file(path, schema, &mut file_findings);
        (docs, file_findings)
    });
    let mut docs = Documents::default();
    for (file_docs, file_findings) in loaded {
        docs.append(file_docs);
        findings.extend(file_findings);
    }
    docs
}

/// Reads and deserializes every document of one file: its `files` holds that file alone (none
/// when it could not be read or nests too deep), and every `DocRef` names file 0.
fn load_file(path: &Path, schema: &SchemaIndex, findings: &mut Vec<Finding>) -> Documents {
    let mut docs = Documents::default();
    let display = path.display().to_string();
    let text = match read_file(path, &display) {
        FileText::Text(text) => text,
        FileText::Refused(finding) => {
            findings.push(finding);
            docs.incomplete = true;
            return docs;
        }
    };
    // Before any YAML parser: deep nesting costs them quadratic time.
    if let Err(deep) = check_nesting(&text) {
        findings.push(
            Finding::error(
                Code::YamlSyntax,
                &display,
                format!("the YAML nests deeper than {MAX_NESTING} levels here"),
            )
            .at(Some((deep.line, deep.column)))
            .allowed(format!(
                "mappings and lists ([ ], {{ }} or indented) nested at most {MAX_NESTING} levels"
            )),
        );
        docs.incomplete = true;
        return docs;
    }
    let values = parse_documents(&text, &display, findings, &mut docs.incomplete);
    docs.files.push(SourceFile {
        display: display.clone(),
        index: PositionIndex::build(&text),
    });
    let meaningful = values.iter().filter(|v| !v.is_null()).count();
    // A file whose syntax error is already reported is not also called empty.
    let already_reported = findings.iter().any(|f| f.file == display);
    if meaningful == 0 && !already_reported {
        findings.push(
            Finding::error(
                Code::EmptyFile,
                &display,
                "the file holds no manifest document",
            )
            .allowed("one or more YAML documents of kind Account or Promotion")
            .hint("delete the file, or add a document starting with `apiVersion: reko-promote/v1`"),
        );
    }
    for (document, value) in values.into_iter().enumerate() {
        if value.is_null() {
            continue; // an empty document, e.g. after a trailing `---`
        }
        load_document(
            &mut docs,
            DocRef { file: 0, document },
            value,
            schema,
            findings,
        );
    }
    docs
}

/// Parses every YAML document of `text`; stops at the first syntax error, reporting it.
fn parse_documents(
    text: &str,
    display: &str,
    findings: &mut Vec<Finding>,
    incomplete: &mut bool,
) -> Vec<Value> {
    use serde::Deserialize;
    let mut values = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        match Value::deserialize(document) {
            Ok(value) => values.push(value),
            Err(e) => {
                let position = e.location().map(|l| (l.line(), l.column()));
                let message = e.to_string();
                // serde_yaml appends " at line L column C"; the position is shown separately.
                let message = match message.find(" at line ") {
                    Some(i) => message[..i].to_string(),
                    None => message,
                };
                findings.push(
                    Finding::error(
                        Code::YamlSyntax,
                        display,
                        format!("invalid YAML: {message}"),
                    )
                    .at(position)
                    .allowed(format!(
                        "YAML 1.2 documents separated by `---`, nested at most {MAX_NESTING} \
                             levels, without alias expansion bombs"
                    )),
                );
                *incomplete = true;
                break;
            }
        }
    }
    values
}

fn load_document(
    docs: &mut Documents,
    at: DocRef,
    value: Value,
    schema: &SchemaIndex,
    findings: &mut Vec<Finding>,
) {
    let generic_label = format!("documents[{}]", at.document);
    let Value::Mapping(mut mapping) = value else {
        findings.push(
            docs.finding(
                Code::NotAMapping,
                at,
                &generic_label,
                &FieldPath::root(),
                format!("the document is {}, not a mapping", describe(&value)),
            )
            .allowed("a mapping with `apiVersion`, `kind` and the kind's fields"),
        );
        docs.incomplete = true;
        return;
    };
    let name = mapping
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string);

    let mut ok = true;
    match mapping.get("apiVersion") {
        None => {
            findings.push(
                docs.finding(
                    Code::MissingApiVersion,
                    at,
                    &generic_label,
                    &FieldPath::root(),
                    "the document has no `apiVersion`",
                )
                .allowed(format!("apiVersion: {API_VERSION}")),
            );
            ok = false;
        }
        Some(v) if v.as_str() == Some(API_VERSION) => {}
        Some(v) => {
            findings.push(
                docs.finding(
                    Code::UnknownApiVersion,
                    at,
                    &generic_label,
                    &FieldPath::root().key("apiVersion"),
                    format!("unknown apiVersion {}", describe(v)),
                )
                .allowed(API_VERSION),
            );
            ok = false;
        }
    }
    let kind = match mapping.remove("kind") {
        None => {
            findings.push(
                docs.finding(
                    Code::MissingKind,
                    at,
                    &generic_label,
                    &FieldPath::root(),
                    "the document has no `kind`",
                )
                .allowed(KINDS.join(", ")),
            );
            None
        }
        Some(Value::String(kind)) if KINDS.contains(&kind.as_str()) => Some(kind),
        Some(other) => {
            let mut finding = docs
                .finding(
                    Code::UnknownKind,
                    at,
                    &generic_label,
                    &FieldPath::root().key("kind"),
                    format!("unknown kind {}", describe(&other)),
                )
                .allowed(KINDS.join(", "));
            if let Some(s) = other
                .as_str()
                .and_then(|s| closest(s, KINDS.iter().copied()))
            {
                finding = finding.hint(format!("did you mean `{s}`?"));
            }
            findings.push(finding);
            None
        }
    };
    let Some(kind) = kind else {
        docs.incomplete = true;
        return;
    };
    if !ok {
        docs.incomplete = true;
        return;
    }
    let label = match (&kind[..], &name) {
        ("Account", Some(n)) => format!("accounts[{n}]"),
        ("Account", None) => format!("accounts[#{}]", at.document),
        (_, Some(n)) => format!("promotions[{n}]"),
        (_, None) => format!("promotions[#{}]", at.document),
    };
    match &kind[..] {
        "Account" => {
            if let Some(doc) =
                deserialize::<AccountManifest>(docs, at, &label, &kind, mapping, schema, findings)
            {
                docs.accounts.push((at, doc));
            }
        }
        _ => {
            if let Some(doc) =
                deserialize::<PromotionManifest>(docs, at, &label, &kind, mapping, schema, findings)
            {
                docs.promotions.push((at, doc));
            }
        }
    }
}

/// Deserializes one document, reporting every unknown field and the first type error.
/// (`kind` was removed from `mapping`; the schema lists it at the top level.)
fn deserialize<T: DeserializeOwned>(
    docs: &mut Documents,
    at: DocRef,
    label: &str,
    kind: &str,
    mapping: Mapping,
    schema: &SchemaIndex,
    findings: &mut Vec<Finding>,
) -> Option<T> {
    let value = Value::Mapping(mapping);
    let unknown = schema.unknown_fields(kind, &value);
    let mut track = serde_path_to_error::Track::new();
    let result: Result<T, _> =
        T::deserialize(serde_path_to_error::Deserializer::new(value, &mut track));
    for path in &unknown {
        findings.push(unknown_field(docs, at, label, kind, path, schema));
    }
    match result {
        Ok(doc) if unknown.is_empty() => Some(doc),
        Ok(_) => {
            docs.incomplete = true;
            None
        }
        Err(e) => {
            let mut path = tracked_path(&track.path());
            let message = e.to_string();
            if let Some(field) = missing_field(&message) {
                // A misspelt field (`versoin`) already explains the missing one (`version`).
                let explained = unknown.iter().any(|u| {
                    u.parent() == path
                        && u.last_key()
                            .is_some_and(|typo| closest(typo, std::iter::once(field)).is_some())
                });
                if explained {
                    docs.incomplete = true;
                    return None;
                }
                path = path.key(field);
            }
            let mut finding = docs.finding(
                if missing_field(&message).is_some() {
                    Code::MissingField
                } else {
                    Code::InvalidType
                },
                at,
                label,
                &path,
                message,
            );
            if let Some(expected) = schema.describe(kind, &path) {
                finding = finding.allowed(expected);
            }
            if path.last_key() == Some("accountId") {
                finding = finding.hint(
                    "quote account IDs (accountId: \"012345678901\"): as a YAML number, \
                     leading zeros are lost",
                );
            } else if path.0.iter().any(|s| *s == Segment::Key("tags".into())) {
                finding = finding.hint("quote tag values that look like numbers or booleans");
            }
            findings.push(finding);
            docs.incomplete = true;
            None
        }
    }
}

fn unknown_field(
    docs: &Documents,
    at: DocRef,
    label: &str,
    kind: &str,
    path: &FieldPath,
    schema: &SchemaIndex,
) -> Finding {
    let field = path.last_key().unwrap_or("?").to_string();
    let parent = path.parent();
    let mut finding = docs.finding(
        Code::UnknownField,
        at,
        label,
        path,
        format!("unknown field `{field}`"),
    );
    if let Some(fields) = schema.fields(kind, &parent) {
        if let Some((_, place)) = DESTINATION_ONLY_FIELDS
            .iter()
            .find(|(name, _)| *name == field)
        {
            finding = finding.hint(format!("`{field}` belongs to a destination: `{place}`"));
        } else if let Some(best) = closest(&field, fields.iter().map(String::as_str)) {
            finding = finding.hint(format!("did you mean `{best}`?"));
        }
        finding = finding.allowed(format!("the fields here are: {}", fields.join(", ")));
    }
    finding
}

fn tracked_path(path: &serde_path_to_error::Path) -> FieldPath {
    use serde_path_to_error::Segment as S;
    let mut out = FieldPath::root();
    for segment in path.iter() {
        out = match segment {
            S::Seq { index } => out.index(*index),
            S::Map { key } => out.key(key),
            S::Enum { .. } | S::Unknown => out,
        };
    }
    out
}

fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
}

/// A short description of a YAML value for messages: its type, and the value when short.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null (empty)".into(),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Number(n) => format!("the number `{n}`"),
        Value::String(s) if s.chars().count() <= 60 => format!("`{s}`"),
        Value::String(_) => "a long string".into(),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(t) => format!("a value tagged `{}`", t.tag),
    }
}

/// The candidate closest to `word`, when close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| {
            (
                strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
