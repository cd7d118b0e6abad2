//! Live state: what the AWS accounts hold, as plain data, and (in `read`) how it is read.
//!
//! The types here are what `plan` diffs the desired state against. They record absence as
//! explicitly as presence (a project read and not found is `Some(None)`; one not read at all is
//! missing from the map), so the plan can tell "missing" from "unknown". What could not be read
//! is kept as the typed error that says why. The conversions from the SDK's descriptions are
//! here (`LiveVersion::from_description`, ...); only `read` and `copies` (the destinations' copies
//! in progress, where a withdrawal waits on them) touch the network, through `aws`.

pub mod copies;
pub mod read;
pub mod timestamp;
pub mod values;

use std::collections::BTreeMap;

use aws_sdk_rekognition::types::{ProjectDescription, ProjectPolicy, ProjectVersionDescription};
use serde::{Deserialize, Serialize};

use crate::aws::AwsError;
use crate::aws::session::SessionError;
use crate::desired::OutputConfig;

pub use copies::{CopiesInProgress, CopiesUnread, CopyInProgress};
pub use timestamp::Timestamp;
pub use values::{ProjectFeature, VersionStatus};

/// A project, by account, region and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectKey {
    pub account_id: String,
    pub region: String,
    pub name: String,
}

impl ProjectKey {
    pub fn of(project: &crate::desired::ProjectRef) -> Self {
        ProjectKey {
            account_id: project.account_id.clone(),
            region: project.region.clone(),
            name: project.name.clone(),
        }
    }
}

/// A project as DescribeProjects returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveProject {
    pub arn: String,
    pub status: String,
    /// Custom Labels, or an adapter (content moderation).
    pub feature: ProjectFeature,
}

impl LiveProject {
    pub fn from_description(description: &ProjectDescription) -> Option<Self> {
        Some(LiveProject {
            arn: description.project_arn()?.to_string(),
            status: description
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            // AWS leaves Feature out for Custom Labels projects created before adapters existed.
            feature: description
                .feature()
                .map_or(ProjectFeature::CustomLabels, |f| {
                    ProjectFeature::parse(f.as_str())
                }),
        })
    }
}

/// A project version as DescribeProjectVersions returns it (the fields reko-promote uses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveVersion {
    pub arn: String,
    pub status: VersionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_project_version_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f1_score: Option<f32>,
    /// When the version was created (for a copy: when the copy started); `soak` counts from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Timestamp>,
    /// MinInferenceUnits of the last start (what a running version serves with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_inference_units: Option<u32>,
    /// MaxInferenceUnits of the last start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_inference_units: Option<u32>,
}

impl LiveVersion {
    pub fn from_description(description: &ProjectVersionDescription) -> Option<Self> {
        Some(LiveVersion {
            arn: description.project_version_arn()?.to_string(),
            status: VersionStatus::parse(description.status().map_or("", |s| s.as_str())),
            status_message: description.status_message().map(str::to_string),
            source_project_version_arn: description
                .source_project_version_arn()
                .map(str::to_string),
            kms_key_id: description.kms_key_id().map(str::to_string),
            output_config: description.output_config().and_then(|o| {
                o.s3_bucket().map(|bucket| OutputConfig {
                    s3_bucket: bucket.to_string(),
                    s3_key_prefix: o.s3_key_prefix().map(str::to_string),
                })
            }),
            f1_score: description.evaluation_result().and_then(|e| e.f1_score()),
            creation_timestamp: description
                .creation_timestamp()
                .and_then(|t| Timestamp::from_epoch(t.secs(), t.subsec_nanos())),
            min_inference_units: description
                .min_inference_units()
                .and_then(|u| u32::try_from(u).ok()),
            max_inference_units: description
                .max_inference_units()
                .and_then(|u| u32::try_from(u).ok()),
        })
    }

    /// Every description of a DescribeProjectVersions answer, by version name.
    pub fn all_from(
        descriptions: BTreeMap<String, ProjectVersionDescription>,
    ) -> BTreeMap<String, LiveVersion> {
        descriptions
            .into_iter()
            .filter_map(|(name, d)| Some((name, LiveVersion::from_description(&d)?)))
            .collect()
    }
}

/// A project policy as ListProjectPolicies returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LivePolicy {
    pub name: String,
    pub revision_id: String,
    pub document: String,
}

impl LivePolicy {
    pub fn from_sdk(policy: &ProjectPolicy) -> Self {
        LivePolicy {
            name: policy.policy_name().unwrap_or_default().to_string(),
            revision_id: policy.policy_revision_id().unwrap_or_default().to_string(),
            document: policy.policy_document().unwrap_or_default().to_string(),
        }
    }
}

/// Why an account could not be read.
#[derive(
    Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum AccountProblem {
    /// No session: the role could not be assumed, or the identity is not the account's.
    #[error("{0}")]
    Session(SessionError),
    /// AWS answered with a resource of another account or region than the one asked about.
    #[error(
        "AWS answered a read of account {account} ({account_id}) in {region} with {arn}, which \
         is not in that account and region; reko-promote acts in no account it did not ask for"
    )]
    #[serde(rename_all = "camelCase")]
    ForeignArn {
        account: String,
        account_id: String,
        region: String,
        arn: String,
    },
}

/// Everything read from the live accounts for one plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveState {
    /// Accounts (by name) reko-promote could not act in, with why.
    pub inaccessible: BTreeMap<String, AccountProblem>,
    /// Projects read: `None` when the project does not exist.
    pub projects: BTreeMap<ProjectKey, Option<LiveProject>>,
    /// Versions read, by project and version name: `None` when the version does not exist.
    pub versions: BTreeMap<ProjectKey, BTreeMap<String, Option<LiveVersion>>>,
    /// The policies of source projects that cross-account copies need.
    pub policies: BTreeMap<ProjectKey, Vec<LivePolicy>>,
    /// Reads that failed for another reason than access (by project), with the error.
    pub read_errors: BTreeMap<ProjectKey, AwsError>,
    /// Tags of source versions (by version ARN), read only for versions some placement gates
    /// with `requireTags`; a failed read is in `tag_errors`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version_tags: BTreeMap<String, BTreeMap<String, String>>,
    /// Tag reads that failed, by version ARN.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tag_errors: BTreeMap<String, AwsError>,
    /// Destination projects whose every version was read (those declaring `running` or
    /// `prune`): `versions` holds all of them, and the tags of the versions no placement
    /// declares are in `version_tags` (ownership).
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub listed: std::collections::BTreeSet<ProjectKey>,
    /// Copies in progress, by destination account ID and region: read only where a full run
    /// would withdraw a managed grant (`copies`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub copies_in_progress: BTreeMap<String, BTreeMap<String, CopiesInProgress>>,
}

impl LiveState {
    /// The state of an account that cannot be read.
    pub fn inaccessible(account: &str, reason: AccountProblem) -> Self {
        let mut live = LiveState::default();
        live.inaccessible.insert(account.to_string(), reason);
        live
    }

    /// Adds what `other` read (of other accounts) to this state.
    pub fn merge(&mut self, other: LiveState) {
        self.inaccessible.extend(other.inaccessible);
        self.projects.extend(other.projects);
        for (key, versions) in other.versions {
            self.versions.entry(key).or_default().extend(versions);
        }
        self.policies.extend(other.policies);
        self.read_errors.extend(other.read_errors);
        self.version_tags.extend(other.version_tags);
        self.tag_errors.extend(other.tag_errors);
        self.listed.extend(other.listed);
        for (account_id, regions) in other.copies_in_progress {
            self.copies_in_progress
                .entry(account_id)
                .or_default()
                .extend(regions);
        }
    }

    /// The project at `key`: `None` if not read, `Some(None)` if read and absent.
    pub fn project(&self, key: &ProjectKey) -> Option<Option<&LiveProject>> {
        self.projects.get(key).map(Option::as_ref)
    }

    /// The version `name` of project `key`: `None` if not read, `Some(None)` if absent.
    pub fn version(&self, key: &ProjectKey, name: &str) -> Option<Option<&LiveVersion>> {
        self.versions
            .get(key)
            .and_then(|versions| versions.get(name))
            .map(Option::as_ref)
    }
}
