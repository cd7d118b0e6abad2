//! Live state: what the AWS accounts hold, as plain data, and (in `read`) how it is read.
//!
//! The types here are what `plan` diffs the desired state against. They record absence as
//! explicitly as presence (a project read and not found is `Some(None)`; one not read at all is
//! missing from the map), so the plan can tell "missing" from "unknown". Only `read` touches the
//! network, through the AWS SDK; everything else is pure.

pub mod read;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::desired::OutputConfig;

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
}

/// A project version as DescribeProjectVersions returns it (the fields reko-promote uses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveVersion {
    pub arn: String,
    pub status: String,
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
}

/// A project policy as ListProjectPolicies returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LivePolicy {
    pub name: String,
    pub revision_id: String,
    pub document: String,
}

/// Everything read from the live accounts for one plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveState {
    /// Accounts (by name) reko-promote could not act in, with the reason.
    pub inaccessible: BTreeMap<String, String>,
    /// Projects read: `None` when the project does not exist.
    pub projects: BTreeMap<ProjectKey, Option<LiveProject>>,
    /// Versions read, by project and version name: `None` when the version does not exist.
    pub versions: BTreeMap<ProjectKey, BTreeMap<String, Option<LiveVersion>>>,
    /// The policies of source projects that cross-account copies need.
    pub policies: BTreeMap<ProjectKey, Vec<LivePolicy>>,
    /// Reads that failed for another reason than access (by project), with the reason.
    pub read_errors: BTreeMap<ProjectKey, String>,
}

impl LiveState {
    /// The state of an account that cannot be read.
    pub fn inaccessible(account: &str, reason: String) -> Self {
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

/// Whether a version in `status` can be the source of CopyProjectVersion: a trained model,
/// whether or not it is running.
pub fn is_copyable_status(status: &str) -> bool {
    matches!(
        status,
        "TRAINING_COMPLETED"
            | "COPYING_COMPLETED"
            | "STARTING"
            | "RUNNING"
            | "STOPPING"
            | "STOPPED"
    )
}
