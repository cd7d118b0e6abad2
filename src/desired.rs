//! The desired state: what the manifests ask for, normalized, with every default applied.
//!
//! This is the one thing later stages (plan, apply, iam, policy) read from the manifests: a
//! sorted, de-duplicated list of placements, each saying that one source version must exist in
//! one destination project under one version name, with the exact CopyProjectVersion settings and
//! the account identities to act with, and the file and document it came from. It is plain data
//! (serde), built by `manifest::load` and never by hand outside tests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole desired state of a set of manifests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredState {
    /// Every declared account, sorted by name.
    pub accounts: Vec<Account>,
    /// Every placement, sorted by [`Placement::sort_key`].
    pub placements: Vec<Placement>,
    /// True when `--target`/`--exclude` left placements out: what is absent here may still be
    /// wanted, so nothing may be pruned on its account (managed policies only widen).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

/// An AWS account and how to act in it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Account {
    /// The name manifests refer to it by.
    pub name: String,
    /// The 12-digit account ID.
    pub account_id: String,
    /// The role to assume in it; `None` means the ambient credentials, which must belong to it.
    pub role_arn: Option<String>,
    /// The read-only role `plan` assumes instead of `role_arn`, when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_role_arn: Option<String>,
    /// The external id to pass when assuming `role_arn` (or `plan_role_arn`).
    pub external_id: Option<String>,
}

/// A project in an account and region, named by its name (and its ARN when the manifest gave one).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ProjectRef {
    pub account_id: String,
    pub region: String,
    pub name: String,
    /// The full ARN, when the manifest wrote one (it pins the project's creation timestamp).
    pub arn: Option<String>,
}

/// The `OutputConfig` of a copy, resolved.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OutputConfig {
    pub s3_bucket: String,
    pub s3_key_prefix: Option<String>,
}

/// Where a placement was declared, for error messages and plans.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Origin {
    /// The manifest file, as given on the command line or found in a directory.
    pub file: String,
    /// The document's index in the file, from 0.
    pub document: usize,
    /// The line of the version entry that asks for this placement, from 1.
    pub line: Option<usize>,
}

/// One source version that must exist in one destination project under one version name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The promotion that asks for it.
    pub promotion: String,
    /// The destination's key within that promotion.
    pub destination: String,
    /// The region of the source and destination (one region: CopyProjectVersion's rule).
    pub region: String,
    /// The account that owns the source project.
    pub source_account: String,
    /// The source project.
    pub source_project: ProjectRef,
    /// The source version's name.
    pub source_version: String,
    /// The source version's ARN, when the manifest wrote one.
    pub source_version_arn: Option<String>,
    /// Whether apply manages the source project's policies for this copy.
    pub manage_policy: bool,
    /// The account that owns the destination project, and makes the copy.
    pub destination_account: String,
    /// The destination project.
    pub destination_project: ProjectRef,
    /// The version's name in the destination project.
    pub version_name: String,
    /// `OutputConfig` of the copy.
    pub output_config: OutputConfig,
    /// `KmsKeyId` of the copy.
    pub kms_key_id: Option<String>,
    /// `Tags` of the copy, merged across levels.
    pub tags: BTreeMap<String, String>,
    /// Where it was declared.
    pub origin: Origin,
}

impl Placement {
    /// The order placements are listed in: destination account ID, region, project, version name.
    pub fn sort_key(&self) -> (&str, &str, &str, &str) {
        (
            &self.destination_project.account_id,
            &self.region,
            &self.destination_project.name,
            &self.version_name,
        )
    }

    /// Whether the copy crosses accounts (and so needs a project policy on the source).
    pub fn is_cross_account(&self) -> bool {
        self.source_project.account_id != self.destination_project.account_id
    }
}

impl DesiredState {
    /// The account declared under `name`.
    pub fn account(&self, name: &str) -> Option<&Account> {
        self.accounts
            .binary_search_by(|a| a.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.accounts[i])
    }
}
