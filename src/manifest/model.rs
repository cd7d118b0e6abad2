//! The manifest language, v1: the YAML documents users write, as serde + schemars types.
//!
//! These types are the one definition of the language: the loader deserializes documents into
//! them, and `reko-promote schema` generates the JSON Schema from them (so the schema, the
//! validator and the docs cannot drift). They hold what the user wrote, unresolved: references
//! stay names, defaults are not applied. Turning them into placements is `resolve`'s job;
//! checking values against AWS's rules is `validate`'s.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::desired::PolicyScope;

/// The `apiVersion` every document carries.
pub const API_VERSION: &str = "reko-promote/v1";

/// The kinds of document, as written in `kind`.
pub const KINDS: &[&str] = &["Account", "Promotion"];

/// Fields of a destination that users sometimes write one level off (on the promotion or a
/// version entry): an unknown field of one of these names gets a hint saying where it belongs.
pub const DESTINATION_ONLY_FIELDS: &[(&str, &str)] = &[
    ("prune", "destinations.NAME.prune"),
    ("running", "destinations.NAME.running"),
    ("inferenceUnits", "destinations.NAME.running.inferenceUnits"),
];

/// The tag every copy apply makes carries, its value the promotion's name: how reko-promote
/// knows later that it made a version (only such versions are ever stopped or pruned unless a
/// manifest names them). Manifests may not set tags under this prefix.
pub const OWNERSHIP_TAG: &str = "reko-promote:promotion";

/// The tag key prefix reserved for reko-promote's own tags.
pub const RESERVED_TAG_PREFIX: &str = "reko-promote:";

/// One manifest document: `apiVersion` plus one of the kinds. Used to generate the JSON Schema;
/// the loader dispatches on `kind` itself so that it can report every unknown field.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind")]
#[schemars(title = "reko-promote manifest (reko-promote/v1)")]
pub enum ManifestDocument {
    /// An AWS account that promotions copy from or to, declared once and referenced by name.
    Account(AccountManifest),
    /// Which versions of one source project must exist in which destination projects.
    Promotion(PromotionManifest),
}

/// The only manifest API version so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApiVersion {
    #[serde(rename = "reko-promote/v1")]
    V1,
}

/// `kind: Account`: an AWS account, declared once and referenced by `name` from promotions.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct AccountManifest {
    /// Always `reko-promote/v1`.
    pub api_version: ApiVersion,
    /// The name promotions use to refer to this account (`source.account`,
    /// `destinations.*.account`). 1 to 64 characters of letters, digits, `_`, `.` and `-`.
    pub name: String,
    /// What this account is for; shown in plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The 12-digit AWS account ID, quoted (`"012345678901"`) so YAML keeps leading zeros.
    pub account_id: String,
    /// The IAM role reko-promote assumes (STS AssumeRole) to act in this account. Without it,
    /// reko-promote acts with the ambient credentials, after checking they belong to `accountId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// A read-only IAM role of this account that `plan` assumes instead of `roleArn` (Describe
    /// and List calls only; `reko-promote iam` prints its policy), so that jobs which only plan,
    /// such as pull-request jobs, never hold credentials that can write. `apply` always uses
    /// `roleArn`. Takes the same `externalId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_role_arn: Option<String>,
    /// The external id the role's trust policy requires, passed to AssumeRole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Settings applied to every copy into this account, unless a promotion, destination or
    /// version overrides them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<CopySettings>,
}

/// Settings of the copies made into a destination: the `CopyProjectVersion` parameters that are
/// not about what is copied. Declared as defaults on an account or a promotion, and as overrides
/// on a destination or a version entry. Precedence, lowest first: account defaults, promotion
/// defaults, destination, version entry. Scalars override; tags merge (a later level's value wins
/// for the same key).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct CopySettings {
    /// Where Rekognition writes the copied model's training and evaluation output
    /// (`OutputConfig`, required by CopyProjectVersion at some level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfigSpec>,
    /// The KMS key that encrypts the copied model (`KmsKeyId`): key id, key ARN, alias name
    /// (`alias/NAME`) or alias ARN. Without it, AWS uses an AWS-owned key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// Tags put on the copied version (`Tags`): at most 200 after merging; keys 1 to 128
    /// characters, not starting with `aws:`; values at most 256 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// `OutputConfig` of CopyProjectVersion. Each field overrides separately.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct OutputConfigSpec {
    /// The S3 bucket in the destination account that receives the copy's output files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    /// The key prefix of the output files in that bucket (at most 1024 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
}

/// `kind: Promotion`: which versions of one source project must exist in which destination
/// projects.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PromotionManifest {
    /// Always `reko-promote/v1`.
    pub api_version: ApiVersion,
    /// A name unique among promotions, used in plans, `--target` and error messages. 1 to 64
    /// characters of letters, digits, `_`, `.` and `-`.
    pub name: String,
    /// What this promotion is for; shown in plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The AWS region of the source and every destination (CopyProjectVersion copies within one
    /// region only).
    pub region: String,
    /// The project the versions are copied from.
    pub source: SourceSpec,
    /// Settings for every copy of this promotion, over the destination accounts' defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<CopySettings>,
    /// Quality gates every version of this promotion must pass before it is copied anywhere
    /// (a version entry's `gates` override these field by field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gates: Option<GatesSpec>,
    /// The source versions to promote, each to some or all destinations.
    pub versions: Vec<VersionEntry>,
    /// The destination projects, by a name local to this promotion (used in `versions[].to`).
    pub destinations: BTreeMap<String, DestinationSpec>,
}

/// The source project of a promotion.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SourceSpec {
    /// The name of a declared `kind: Account` that owns the source project.
    pub account: String,
    /// The source project: its name, or its ARN (whose account and region must match).
    pub project: String,
    /// When true, `apply` writes the project policies on the source project that let each
    /// destination account copy exactly the versions this promotion sends it (PutProjectPolicy,
    /// one named policy per destination account). Off by default: reko-promote then only checks
    /// that a policy allows each cross-account copy and shows the statement that is missing.
    #[serde(default)]
    pub manage_policy: bool,
    /// How widely the policies written with `managePolicy: true` grant each destination account:
    /// `versions` (the default) the exact version ARNs it receives; `versionNames` every version
    /// of those names (`.../version/NAME/*`); `project` every version of the source project
    /// (`.../version/*`). Always to the listed destination accounts only, never to `*`. Widen it
    /// when the grants do not fit AWS's 5 policies of 2,000 characters per project. Every
    /// promotion with `managePolicy: true` from one source project must give the same scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<PolicyScope>")]
    pub policy_scope: Option<String>,
}

/// One source version to promote.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct VersionEntry {
    /// The source version: its name, or its ARN (which must belong to the source project).
    pub version: String,
    /// The version's name in the destinations; defaults to the source version's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_name: Option<String>,
    /// The destinations (keys of `destinations`) this version goes to; all of them when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
    /// Overrides the output location for this version's copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfigSpec>,
    /// Overrides the KMS key for this version's copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// Tags merged over all other levels for this version's copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Quality gates for this version, overriding the promotion's `gates` field by field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gates: Option<GatesSpec>,
}

/// Quality gates on a source version: a placement whose source version fails one is held (not
/// copied, not an error) until it passes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct GatesSpec {
    /// The lowest F1 score (`EvaluationResult.F1Score` of the source version) that may be
    /// promoted, from 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_f1_score: Option<f64>,
    /// Tags the source version must carry with exactly these values (read with
    /// ListTagsForResource), e.g. `{ approved: "true" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_tags: Option<BTreeMap<String, String>>,
}

/// One destination project of a promotion.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct DestinationSpec {
    /// The name of a declared `kind: Account` that owns the destination project; the copy is
    /// made by that account (CopyProjectVersion is called by the destination).
    pub account: String,
    /// The destination project: its name, or its ARN (whose account and region must match). It
    /// must already exist: CopyProjectVersion does not create projects.
    pub project: String,
    /// Overrides the output location for copies into this destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfigSpec>,
    /// Overrides the KMS key for copies into this destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// Tags merged over the account's and promotion's defaults for copies into this destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Another destination of this promotion that must hold each version first: a version is
    /// copied here only once it is `COPYING_COMPLETED` there, from the same source version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// How long the copy in the `after` destination must have existed (since its
    /// CreationTimestamp) before the version is copied here: a duration such as `24h`, `30m`,
    /// `2d 12h`. Needs `after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soak: Option<String>,
    /// Which version of this destination serves (StartProjectVersion), and with how many
    /// inference units. Changing `versionName` switches blue/green: the new version is RUNNING
    /// before the old one (made by reko-promote or named by a manifest) is stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<RunningSpec>,
    /// Delete the versions of this destination project that reko-promote made (tagged
    /// `reko-promote:promotion`) and that no manifest declares any more (DeleteProjectVersion).
    /// Never a version it did not make, nor one running, starting, stopping, being copied or
    /// trained. Only on a full run (never with named manifest files, `--target` or
    /// `--exclude`), and not with `--no-prune`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prune: bool,
}

/// `destinations.NAME.running`: the version that serves in the destination project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct RunningSpec {
    /// The version name (in the destination) that must be RUNNING: one this destination
    /// receives (a `versions[]` entry sent to it).
    pub version_name: String,
    /// MinInferenceUnits and MaxInferenceUnits of StartProjectVersion; `{ min: 1 }` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_units: Option<InferenceUnitsSpec>,
}

/// The inference units a running version is started with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct InferenceUnitsSpec {
    /// MinInferenceUnits: at least 1.
    #[schemars(range(min = 1))]
    pub min: u32,
    /// MaxInferenceUnits (auto-scaling up to it): at least `min`. Without it, the model does not
    /// auto-scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max: Option<u32>,
}

impl VersionEntry {
    /// This entry's overrides, as one settings level.
    pub fn settings(&self) -> CopySettings {
        CopySettings {
            output_config: self.output_config.clone(),
            kms_key_id: self.kms_key_id.clone(),
            tags: self.tags.clone(),
        }
    }
}

impl DestinationSpec {
    /// This destination's overrides, as one settings level.
    pub fn settings(&self) -> CopySettings {
        CopySettings {
            output_config: self.output_config.clone(),
            kms_key_id: self.kms_key_id.clone(),
            tags: self.tags.clone(),
        }
    }
}
