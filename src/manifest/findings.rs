//! Findings: the errors and warnings validation reports, as data.
//!
//! Every check in `manifest` produces `Finding`s instead of failing, so one run reports every
//! problem at once. A finding names where (file, line, column, field path), what was found, what
//! is allowed, and a hint when one helps. `validate --format json` prints the [`Report`] as is;
//! the text rendering lives in `render::findings`.

use serde::{Deserialize, Serialize};

/// How bad a finding is: errors make `validate` fail, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// What kind of problem a finding is, as a stable code for tools and docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// A path that cannot be read.
    ReadError,
    /// No manifest file under the given paths.
    NoManifests,
    /// A file holding no document.
    EmptyFile,
    /// A file that is not UTF-8 text.
    BinaryFile,
    /// A file over the size limit.
    FileTooLarge,
    /// YAML that does not parse (including nesting and alias limits).
    YamlSyntax,
    /// A document that is not a mapping.
    NotAMapping,
    /// `apiVersion` missing.
    MissingApiVersion,
    /// `apiVersion` not one this release knows.
    UnknownApiVersion,
    /// `kind` missing.
    MissingKind,
    /// `kind` not one this release knows.
    UnknownKind,
    /// A field the language does not have.
    UnknownField,
    /// A required field missing.
    MissingField,
    /// A value of the wrong type.
    InvalidType,
    /// A value outside the AWS constraints.
    InvalidValue,
    /// A reference to an account nobody declares.
    UndeclaredAccount,
    /// A reference to a destination the promotion does not declare.
    UndeclaredDestination,
    /// Two accounts or two promotions of one name.
    DuplicateName,
    /// Two accounts with one account ID.
    DuplicateAccountId,
    /// One version listed twice for one destination.
    DuplicateVersion,
    /// One source version sent twice to one destination project with different settings.
    ConflictingPlacement,
    /// Two promotions managing one source project's policies with different `policyScope`s.
    ConflictingPolicyScope,
    /// Two different source versions landing under one destination version name.
    VersionNameCollision,
    /// A source and destination in different regions.
    CrossRegion,
    /// An ARN whose account or region contradicts where it is declared.
    ArnMismatch,
    /// No `outputConfig.s3Bucket` at any level for a copy.
    MissingOutputConfig,
    /// More than 200 tags after merging.
    TooManyTags,
    /// A version list or destination map that is empty.
    Empty,
    /// A destination no version goes to.
    UnusedDestination,
    /// Destinations whose `after` fields form a cycle.
    AfterCycle,
    /// A version sent to a destination but not to the one that destination comes `after`.
    AfterNotSent,
    /// `running.versionName` names a version the destination does not receive.
    RunningNotReceived,
    /// Two destinations of one project declaring different `running` versions or units.
    ConflictingRunning,
}

/// One problem found in the manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub severity: Severity,
    pub code: Code,
    /// The file, as given or found.
    pub file: String,
    /// 1-based line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The field path, e.g. `promotions[defect-detector].destinations.prod.account`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What is wrong, naming what was found.
    pub message: String,
    /// What is allowed instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<String>,
    /// A suggestion, such as the field the user probably meant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Finding {
    /// An error in `file`, with no position yet.
    pub fn error(code: Code, file: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Error,
            code,
            file: file.into(),
            line: None,
            column: None,
            path: None,
            message: message.into(),
            allowed: None,
            hint: None,
        }
    }

    /// A warning in `file`, with no position yet.
    pub fn warning(code: Code, file: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(code, file, message)
        }
    }

    pub fn at(mut self, position: Option<(usize, usize)>) -> Self {
        if let Some((line, column)) = position {
            self.line = Some(line);
            self.column = Some(column);
        }
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn allowed(mut self, allowed: impl Into<String>) -> Self {
        self.allowed = Some(allowed.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `file:line:column`, as far as known.
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            (Some(l), None) => format!("{}:{l}", self.file),
            _ => self.file.clone(),
        }
    }
}

/// The result of validating a set of manifests: `validate --format json` prints this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The version of this document's format.
    pub format_version: u32,
    /// True when there is no error (warnings allowed).
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    /// The files read.
    pub files: Vec<String>,
    /// How many accounts, promotions and placements the manifests declare (when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
    /// Every finding, sorted by file, line, column.
    pub findings: Vec<Finding>,
}

/// Sizes of a valid desired state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub accounts: usize,
    pub promotions: usize,
    pub placements: usize,
}

impl Report {
    pub const FORMAT_VERSION: u32 = 1;

    pub fn new(files: Vec<String>, mut findings: Vec<Finding>, counts: Option<Counts>) -> Self {
        findings.sort_by(|a, b| {
            (&a.file, a.line, a.column, &a.path, &a.message)
                .cmp(&(&b.file, b.line, b.column, &b.path, &b.message))
        });
        findings.dedup();
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        Report {
            format_version: Self::FORMAT_VERSION,
            valid: errors == 0,
            errors,
            warnings: findings.len() - errors,
            files,
            counts: if errors == 0 { counts } else { None },
            findings,
        }
    }
}
