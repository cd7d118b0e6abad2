//! The plan document: the one contract between `plan`, its renderers and `apply`.
//!
//! It is versioned (`formatVersion`) and serializable: `plan --format json` prints it, `plan
//! --out FILE` saves it for `apply --plan FILE`, and the text and markdown renderers read only
//! it, so the three outputs can never disagree. Its JSON Schema is `schemas/plan.schema.json`.
//! It never holds credentials: only account IDs, role ARNs, resource ARNs and digests.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What apply will do (or not) for one placement.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Missing in the destination: apply copies it.
    Copy,
    /// Present, from the same source, healthy: nothing to do.
    Unchanged,
    /// Being copied (COPYING_IN_PROGRESS): apply waits for it.
    InProgress,
    /// The name exists but holds something else (another source, a failed copy, a version
    /// being deleted): apply leaves it alone and reports it.
    Conflict,
    /// Apply cannot do it as things stand (missing source or destination, source not trained,
    /// cross-account policy missing).
    Blocked,
    /// The live state could not be read (an account whose role cannot be assumed).
    Unknown,
}

impl Action {
    /// The one-character marker of the text plan.
    pub fn marker(self) -> char {
        match self {
            Action::Copy => '+',
            Action::Unchanged => '=',
            Action::InProgress => '~',
            Action::Conflict | Action::Blocked => '!',
            Action::Unknown => '?',
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Action::Copy => "copy",
            Action::Unchanged => "unchanged",
            Action::InProgress => "in-progress",
            Action::Conflict => "conflict",
            Action::Blocked => "blocked",
            Action::Unknown => "unknown",
        }
    }
}

/// An account as the plan acts in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountRef {
    /// The name manifests use.
    pub name: String,
    pub account_id: String,
}

/// The source of a placement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceSide {
    pub account: AccountRef,
    pub project: String,
    /// The project ARN, when known (from the manifest or live state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_arn: Option<String>,
    pub version: String,
    /// The version ARN, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_arn: Option<String>,
}

/// The destination of a placement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationSide {
    pub account: AccountRef,
    pub project: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_arn: Option<String>,
    /// The version's name in the destination project.
    pub version_name: String,
}

/// The CopyProjectVersion settings of a copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CopySettings {
    pub s3_bucket: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// What the destination version looks like today, when it exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LiveVersionView {
    pub arn: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_project_version_arn: Option<String>,
}

/// A difference apply cannot change on an existing version; shown, never acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// `kmsKeyId`, `outputConfig.s3Bucket` or `outputConfig.s3KeyPrefix`.
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

/// One placement and what apply does about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanEntry {
    pub action: Action,
    /// Why, in one sentence.
    pub reason: String,
    pub promotion: String,
    /// The destination's key in the promotion.
    pub destination: String,
    pub region: String,
    pub source: SourceSide,
    pub target: DestinationSide,
    pub settings: CopySettings,
    /// Whether the copy crosses accounts (and so needs a source project policy).
    pub cross_account: bool,
    /// The destination version as it is, when it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveVersionView>,
    /// Desired against actual, as a unified diff (conflicts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Settings that differ on an existing version and that apply will not change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<Drift>,
    /// The project policy statement that would allow this cross-account copy, when none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_policy_statement: Option<serde_json::Value>,
    /// Where the placement is declared (`file:line`).
    pub declared_at: String,
}

/// A project policy apply will write (managed policies, `managePolicy: true`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyChange {
    pub source_account: AccountRef,
    pub project_arn: String,
    pub policy_name: String,
    /// The revision it replaces (`None`: a new policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces_revision_id: Option<String>,
    /// The accounts it lets copy, and how many versions.
    pub grants: Vec<String>,
}

/// What a destination project looked like when the plan was computed: `apply --plan` reads it
/// again and refuses when it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Fingerprint {
    pub account_id: String,
    pub region: String,
    pub project: String,
    /// SHA-256 of the project, the versions planned in it (present or absent, with status and
    /// source), and the revision ids of the source projects' policies feeding it.
    pub digest: String,
}

/// Counts per action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub copy: usize,
    pub unchanged: usize,
    pub in_progress: usize,
    pub conflict: usize,
    pub blocked: usize,
    pub unknown: usize,
    /// Entries with drift (counted apart: drift never triggers a copy).
    pub drift: usize,
    /// Project policies apply will write.
    pub policies: usize,
}

impl Summary {
    /// Whether apply has anything to do (copies, waits, policies).
    pub fn has_changes(&self) -> bool {
        self.copy + self.in_progress + self.policies > 0
    }

    /// Whether something needs a person: a conflict, a blocked or unknown entry.
    pub fn needs_attention(&self) -> bool {
        self.conflict + self.blocked + self.unknown > 0
    }
}

/// An account that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountProblem {
    pub account: String,
    pub reason: String,
}

/// The plan: versioned, the single source of every rendering and of `apply --plan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "reko-promote plan document")]
pub struct PlanDocument {
    /// The version of this format; readers refuse versions they do not know.
    pub format_version: u32,
    /// The reko-promote version that computed it.
    pub tool_version: String,
    /// SHA-256 of the desired state the plan was computed from (the manifests' meaning, not
    /// their formatting).
    pub manifests_digest: String,
    pub summary: Summary,
    /// Every placement, in the desired state's order.
    pub entries: Vec<PlanEntry>,
    /// Project policies apply will write before copying.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyChange>,
    /// The live state each destination project was planned against.
    pub fingerprints: Vec<Fingerprint>,
    /// Accounts that could not be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub account_problems: Vec<AccountProblem>,
}

impl PlanDocument {
    pub const FORMAT_VERSION: u32 = 1;
}
