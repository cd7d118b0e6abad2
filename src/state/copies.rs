//! Copies in progress in destination accounts, read only where a full run would withdraw a
//! managed grant: the plan keeps a grant whose copy is still under way (CopyProjectVersion needs
//! the source's permission until it completes), and cannot tell from the manifests alone, since
//! the placement that started the copy may be gone from them.
//!
//! Which accounts and regions to read is the plan's to say (`plan::grants::copy_checks_needed`);
//! this module reads them through `aws`: every Custom Labels project of the account in the
//! region (the old destination project is not known), then every version of each, keeping those
//! COPYING_IN_PROGRESS with their `SourceProjectVersionArn`. Projects are read concurrently under
//! the run's limits, like the other reads. A failed read is kept as the typed error that says
//! why: the plan then withdraws nothing of that account.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::aws::describe_project_versions::{Versions, describe_project_versions};
use crate::aws::describe_projects::describe_every_project;
use crate::aws::{AccountSession, AwsContext, AwsError, CallSite, Sessions};
use crate::desired::Account;

use super::read::arn_is_in;
use super::{AccountProblem, LiveState, LiveVersion, VersionStatus};

/// A copy under way in a destination account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CopyInProgress {
    /// The version being made (COPYING_IN_PROGRESS).
    pub destination_version_arn: String,
    /// The version it is a copy of (`SourceProjectVersionArn`).
    pub source_version_arn: String,
}

/// Why an account's copies in progress could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum CopiesUnread {
    /// No session, or AWS answered about another account or region.
    #[error("{problem}")]
    Account { problem: AccountProblem },
    /// A DescribeProjects or DescribeProjectVersions call failed.
    #[error("{error}")]
    Aws { error: AwsError },
}

/// What the read of one account and region found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CopiesInProgress {
    /// Read: these copies are under way (none: nothing is).
    Read(BTreeSet<CopyInProgress>),
    /// Not read, and why.
    Unread(CopiesUnread),
}

/// Account ID → the regions whose copies in progress the plan needs.
pub type CopyChecks = BTreeMap<String, BTreeSet<String>>;

/// Reads the copies in progress `checks` asks for, in the declared `accounts` it names, with
/// their `sessions` (an account without a working session is recorded as unread, with why).
pub async fn read_copies_in_progress(
    ctx: &AwsContext,
    sessions: &Sessions,
    accounts: &[Account],
    checks: &CopyChecks,
) -> LiveState {
    let reads = accounts.iter().filter_map(|account| {
        let regions = checks.get(&account.account_id)?;
        Some(async move {
            let found = match sessions.get(&account.name) {
                Ok(session) => read_account(ctx, session, regions).await,
                Err(error) => regions
                    .iter()
                    .map(|region| {
                        let problem = AccountProblem::Session(error.clone());
                        let unread = CopiesInProgress::Unread(CopiesUnread::Account { problem });
                        (region.clone(), unread)
                    })
                    .collect(),
            };
            (account.account_id.clone(), found)
        })
    });
    let mut live = LiveState::default();
    for (account_id, regions) in futures::future::join_all(reads).await {
        live.copies_in_progress
            .entry(account_id)
            .or_default()
            .extend(regions);
    }
    live
}

/// Reads one account's copies in progress in each of `regions`.
async fn read_account(
    ctx: &AwsContext,
    session: &AccountSession,
    regions: &BTreeSet<String>,
) -> BTreeMap<String, CopiesInProgress> {
    let reads = regions.iter().map(|region| async move {
        let found = match read_region(ctx, session, region).await {
            Ok(copies) => CopiesInProgress::Read(copies),
            Err(unread) => CopiesInProgress::Unread(unread),
        };
        (region.clone(), found)
    });
    futures::future::join_all(reads).await.into_iter().collect()
}

async fn read_region(
    ctx: &AwsContext,
    session: &AccountSession,
    region: &str,
) -> Result<BTreeSet<CopyInProgress>, CopiesUnread> {
    let account = &session.account;
    let site = CallSite::from(account);
    let client = session.rekognition(region);
    let foreign = |arn: &str| CopiesUnread::Account {
        problem: AccountProblem::ForeignArn {
            account: account.name.clone(),
            account_id: account.account_id.clone(),
            region: region.to_string(),
            arn: arn.to_string(),
        },
    };
    let projects = describe_every_project(ctx, &client, site)
        .await
        .map_err(|error| CopiesUnread::Aws { error })?;
    let mut arns = Vec::new();
    for project in projects.values() {
        let Some(arn) = project.project_arn() else {
            continue;
        };
        if !arn_is_in(arn, &account.account_id, region) {
            return Err(foreign(arn));
        }
        arns.push(arn.to_string());
    }
    let reads = arns.iter().map(|arn| {
        let client = &client;
        async move { describe_project_versions(ctx, client, site, arn, Versions::All).await }
    });
    let mut copies = BTreeSet::new();
    for result in futures::future::join_all(reads).await {
        let versions = LiveVersion::all_from(result.map_err(|error| CopiesUnread::Aws { error })?);
        for version in versions.into_values() {
            if !arn_is_in(&version.arn, &account.account_id, region) {
                return Err(foreign(&version.arn));
            }
            if let (VersionStatus::CopyingInProgress, Some(source)) =
                (&version.status, version.source_project_version_arn)
            {
                copies.insert(CopyInProgress {
                    destination_version_arn: version.arn,
                    source_version_arn: source,
                });
            }
        }
    }
    Ok(copies)
}
